/*
 * weights.c — the resident weights policy (see weights.h for the contract).
 *
 * Mapped sources (chord_source.data non-NULL) are used in place: a slot's pointer is
 * data + tensor offset, and nothing is copied. Other sources (pread, a host read function) are
 * read once at load into one owned buffer spanning the lowest tensor offset to the highest
 * tensor end, in chunks so that one read never exceeds CHUNK_BYTES (wasm32 has a 32-bit size_t
 * and hosts prefer bounded reads). acquire/release only count pins today; a paged policy would
 * fill a slot on acquire and make it evictable on release.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "weights/weights.h"

#define CHUNK_BYTES ((uint64_t)64 << 20)

struct chord_weights {
    const chord_source *src;
    const chord_layer_tensors *layers;
    const chord_layer_tensors *global;
    int32_t n_layer;
    const uint8_t *base;   /* address of source offset `base_off` */
    uint64_t base_off;
    uint8_t *owned;        /* non-NULL when we read the data ourselves */
    uint64_t resident_bytes;
    int32_t *pins;         /* per layer, plus one for the global layer at index n_layer */
};

/* Lowest start and highest end of every bound tensor. */
static void tensor_span(const chord_layer_tensors *lt, uint64_t *lo, uint64_t *hi) {
    for (int s = 0; s < CHORD_W_NSLOTS; s++) {
        const chord_gguf_tensor *t = lt->t[s];
        if (!t) continue;
        if (t->off < *lo) *lo = t->off;
        if (t->off + t->n_bytes > *hi) *hi = t->off + t->n_bytes;
    }
}

static chord_status read_owned(chord_weights *w, uint64_t lo, uint64_t hi, chord_error *err) {
    uint64_t n = hi - lo;
    if (n > (uint64_t)SIZE_MAX)
        return chord_fail(err, CHORD_E_NOMEM, "weights need %llu bytes, more than this target can address",
                          (unsigned long long)n);
    w->owned = malloc((size_t)(n ? n : 1));
    if (!w->owned)
        return chord_fail(err, CHORD_E_NOMEM, "out of memory allocating %llu bytes of weights",
                          (unsigned long long)n);
    for (uint64_t done = 0; done < n;) {
        uint64_t len = n - done < CHUNK_BYTES ? n - done : CHUNK_BYTES;
        chord_status st = w->src->read(w->src->ctx, lo + done, w->owned + done, (size_t)len);
        if (st != CHORD_OK)
            return chord_fail(err, st, "reading weights at offset %llu (%llu bytes) failed: %s",
                              (unsigned long long)(lo + done), (unsigned long long)len,
                              chord_status_message(st));
        done += len;
    }
    w->base = w->owned;
    w->base_off = lo;
    w->resident_bytes = n;
    return CHORD_OK;
}

chord_status chord_weights_new(chord_weights **out, const chord_source *src,
                               const chord_layer_tensors *layers, int32_t n_layer,
                               const chord_layer_tensors *global, chord_error *err) {
    *out = NULL;
    if (!src || !global || n_layer < 0 || (n_layer > 0 && !layers))
        return chord_fail(err, CHORD_E_INVALID_ARG, "weights: bad arguments");
    chord_weights *w = calloc(1, sizeof *w);
    if (!w) return chord_fail(err, CHORD_E_NOMEM, "out of memory allocating the weights handle");
    w->src = src;
    w->layers = layers;
    w->global = global;
    w->n_layer = n_layer;
    w->pins = calloc((size_t)n_layer + 1, sizeof *w->pins);
    if (!w->pins) {
        chord_weights_free(w);
        return chord_fail(err, CHORD_E_NOMEM, "out of memory allocating the weights handle");
    }
    uint64_t lo = UINT64_MAX, hi = 0;
    tensor_span(global, &lo, &hi);
    for (int32_t i = 0; i < n_layer; i++) tensor_span(&layers[i], &lo, &hi);
    if (lo > hi) lo = hi = 0;
    if (hi > src->size) {
        chord_weights_free(w);
        return chord_fail(err, CHORD_E_FORMAT, "tensor data ends at %llu, beyond the source size %llu",
                          (unsigned long long)hi, (unsigned long long)src->size);
    }
    if (src->data) {
        w->base = src->data;
        w->base_off = 0;
        w->resident_bytes = hi - lo;
    } else {
        chord_status st = read_owned(w, lo, hi, err);
        if (st != CHORD_OK) {
            chord_weights_free(w);
            return st;
        }
    }
    *out = w;
    return CHORD_OK;
}

void chord_weights_free(chord_weights *w) {
    if (!w) return;
    free(w->owned);
    free(w->pins);
    free(w);
}

chord_status chord_weights_acquire(chord_weights *w, int32_t layer, chord_layer_view *view,
                                   chord_error *err) {
    if (layer < CHORD_LAYER_GLOBAL || layer >= w->n_layer)
        return chord_fail(err, CHORD_E_RANGE, "weights: layer %d out of range [0, %d)", layer, w->n_layer);
    const chord_layer_tensors *lt = layer == CHORD_LAYER_GLOBAL ? w->global : &w->layers[layer];
    for (int s = 0; s < CHORD_W_NSLOTS; s++) {
        const chord_gguf_tensor *t = lt->t[s];
        view->p[s] = t ? w->base + (t->off - w->base_off) : NULL;
    }
    w->pins[layer == CHORD_LAYER_GLOBAL ? w->n_layer : layer]++;
    return CHORD_OK;
}

void chord_weights_release(chord_weights *w, int32_t layer) {
    if (!w || layer < CHORD_LAYER_GLOBAL || layer >= w->n_layer) return;
    int32_t *pin = &w->pins[layer == CHORD_LAYER_GLOBAL ? w->n_layer : layer];
    if (*pin > 0) (*pin)--;
}

uint64_t chord_weights_resident_bytes(const chord_weights *w) { return w ? w->resident_bytes : 0; }
