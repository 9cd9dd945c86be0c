/*
 * resident.c — the resident policy: every tensor addressable for the model's lifetime.
 *
 * Mapped sources (chord_source.data non-NULL) are used in place: a slot's pointer is
 * data + tensor offset, and nothing is copied. Other sources (pread, a host read function) are
 * read once at open into one owned buffer spanning the lowest tensor offset to the highest
 * tensor end, in chunks so that one read never exceeds CHUNK_BYTES (wasm32 has a 32-bit size_t
 * and hosts prefer bounded reads). Acquire only looks pointers up; every layer acquire is a hit.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "platform.h"
#include "weights/policy.h"

#define CHUNK_BYTES ((uint64_t)64 << 20)

typedef struct resident {
    const uint8_t *base;   /* address of source offset `base_off` */
    uint64_t base_off;
    uint8_t *owned;        /* non-NULL when we read the data ourselves */
    uint64_t bytes;
} resident;

static chord_status read_owned(chord_weights *w, resident *r, uint64_t lo, uint64_t hi, chord_error *err) {
    uint64_t n = hi - lo;
    if (n > (uint64_t)SIZE_MAX)
        return chord_fail(err, CHORD_E_NOMEM, "weights need %llu bytes, more than this target can address",
                          (unsigned long long)n);
    r->owned = malloc((size_t)(n ? n : 1));
    if (!r->owned)
        return chord_fail(err, CHORD_E_NOMEM, "out of memory allocating %llu bytes of weights",
                          (unsigned long long)n);
    double t0 = chord_time_ms();
    for (uint64_t done = 0; done < n;) {
        uint64_t len = n - done < CHUNK_BYTES ? n - done : CHUNK_BYTES;
        chord_status st = w->src->read(w->src->ctx, lo + done, r->owned + done, (size_t)len);
        if (st != CHORD_OK)
            return chord_fail(err, st, "reading weights at offset %llu (%llu bytes) failed: %s",
                              (unsigned long long)(lo + done), (unsigned long long)len,
                              chord_status_message(st));
        done += len;
    }
    atomic_fetch_add(&w->bytes_read, n);
    atomic_fetch_add(&w->read_us, (uint64_t)((chord_time_ms() - t0) * 1000.0));
    r->base = r->owned;
    r->base_off = lo;
    r->bytes = n;
    return CHORD_OK;
}

static chord_status res_open(chord_weights *w, chord_error *err) {
    resident *r = calloc(1, sizeof *r);
    if (!r) return chord_fail(err, CHORD_E_NOMEM, "out of memory allocating the weights handle");
    w->impl = r;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int32_t i = 0; i <= w->n_layer; i++) {
        const chord_wspan *s = &w->spans[i];
        if (s->hi == s->lo) continue;
        if (s->lo < lo) lo = s->lo;
        if (s->hi > hi) hi = s->hi;
    }
    if (lo > hi) lo = hi = 0;
    if (w->src->data) {
        r->base = w->src->data;
        r->base_off = 0;
        r->bytes = hi - lo;
        chord_prefault(r->base + lo, hi - lo);  /* the first forward pass would fault them in */
        return CHORD_OK;
    }
    return read_owned(w, r, lo, hi, err);
}

static chord_status res_acquire(chord_weights *w, int32_t layer, const uint8_t *p[CHORD_W_NSLOTS],
                                chord_error *err) {
    (void)err;
    const resident *r = w->impl;
    const chord_layer_tensors *lt = layer == CHORD_LAYER_GLOBAL ? w->global : &w->layers[layer];
    for (int s = 0; s < CHORD_W_NSLOTS; s++)
        if (lt->t[s]) p[s] = r->base + (lt->t[s]->off - r->base_off);
    if (layer != CHORD_LAYER_GLOBAL) atomic_fetch_add(&w->hits, 1);
    return CHORD_OK;
}

static void res_stats(const chord_weights *w, chord_cache_stats *out) {
    const resident *r = w->impl;
    out->slots = w->n_layer;
    out->pinned = w->n_layer;
    out->resident_bytes = r ? r->bytes : 0;
}

static void res_close(chord_weights *w) {
    resident *r = w->impl;
    free(r->owned);
    free(r);
    w->impl = NULL;
}

const chord_weights_policy chord_wpolicy_resident = {
    .name = "resident",
    .open = res_open,
    .acquire = res_acquire,
    .stats = res_stats,
    .close = res_close,
};
