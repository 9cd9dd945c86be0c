/*
 * weights.c — the weights contract (weights.h) in front of the policy table (policy.h):
 * argument checks, thread-safe pins, the layer spans, matrix views and the shared counters are
 * here once; a policy only says where a layer's bytes are.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "weights/policy.h"

static const chord_weights_policy *const POLICIES[CHORD_WPOLICY_COUNT] = {
    [CHORD_WPOLICY_RESIDENT] = &chord_wpolicy_resident,
    [CHORD_WPOLICY_PAGED] = &chord_wpolicy_paged,
};

static const chord_layer_tensors *tensors_of(const chord_weights *w, int32_t layer) {
    return layer == CHORD_LAYER_GLOBAL ? w->global : &w->layers[layer];
}

/* Lowest start and highest end of every bound tensor ({0, 0} when none). */
static chord_wspan span_of(const chord_layer_tensors *lt) {
    chord_wspan s = { UINT64_MAX, 0 };
    for (int i = 0; i < CHORD_W_NSLOTS; i++) {
        const chord_gguf_tensor *t = lt->t[i];
        if (!t) continue;
        if (t->off < s.lo) s.lo = t->off;
        if (t->off + t->n_bytes > s.hi) s.hi = t->off + t->n_bytes;
    }
    if (s.lo > s.hi) s.lo = s.hi = 0;
    return s;
}

chord_status chord_weights_open(chord_weights **out, const chord_source *src,
                                const chord_layer_tensors *layers, int32_t n_layer,
                                const chord_layer_tensors *global, const chord_weights_config *cfg,
                                chord_error *err) {
    if (out) *out = NULL;
    if (!out || !src || !src->read || !global || n_layer < 0 || (n_layer > 0 && !layers))
        return chord_fail(err, CHORD_E_INVALID_ARG, "weights: bad arguments");
    chord_weights_config def = { .policy = CHORD_WPOLICY_RESIDENT };
    if (!cfg) cfg = &def;
    if ((unsigned)cfg->policy >= CHORD_WPOLICY_COUNT)
        return chord_fail(err, CHORD_E_INVALID_ARG, "weights: unknown policy %d", (int)cfg->policy);
    chord_weights *w = calloc(1, sizeof *w);
    if (!w) return chord_fail(err, CHORD_E_NOMEM, "out of memory allocating the weights handle");
    w->policy = POLICIES[cfg->policy];
    w->cfg = *cfg;
    w->src = src;
    w->layers = layers;
    w->global = global;
    w->n_layer = n_layer;
    w->spans = calloc((size_t)n_layer + 1, sizeof *w->spans);
    w->pins = calloc((size_t)n_layer + 1, sizeof *w->pins);
    if (!w->spans || !w->pins) {
        chord_weights_free(w);
        return chord_fail(err, CHORD_E_NOMEM, "out of memory allocating the weights handle");
    }
    for (int32_t i = 0; i <= n_layer; i++) {
        int32_t layer = i == n_layer ? CHORD_LAYER_GLOBAL : i;
        w->spans[i] = span_of(tensors_of(w, layer));
        atomic_init(&w->pins[i], 0);
        if (w->spans[i].hi > src->size) {
            uint64_t hi = w->spans[i].hi;
            chord_weights_free(w);
            return chord_fail(err, CHORD_E_FORMAT, "tensor data of %s %d ends at %llu, beyond the source size %llu",
                              layer < 0 ? "the global tensors" : "layer", layer < 0 ? 0 : layer,
                              (unsigned long long)hi, (unsigned long long)src->size);
        }
    }
    chord_status st = w->policy->open(w, err);
    if (st != CHORD_OK) {
        chord_weights_free(w);
        return st;
    }
    *out = w;
    return CHORD_OK;
}

void chord_weights_free(chord_weights *w) {
    if (!w) return;
    if (w->impl && w->policy->close) w->policy->close(w);
    free(w->spans);
    free(w->pins);
    free(w);
}

static chord_mat view_of(const chord_gguf_tensor *t, const uint8_t *data) {
    chord_mat m = { .data = data, .type = t->type, .n_in = t->ne[0], .n_out = t->ne[1] };
    m.row_bytes = t->ne[1] > 0 ? t->n_bytes / (uint64_t)t->ne[1] : 0;
    return m;
}

chord_status chord_weights_acquire(chord_weights *w, int32_t layer, chord_layer_view *view,
                                   chord_error *err) {
    if (!w || !view) return chord_fail(err, CHORD_E_INVALID_ARG, "weights: NULL argument to acquire");
    if (layer < CHORD_LAYER_GLOBAL || layer >= w->n_layer)
        return chord_fail(err, CHORD_E_RANGE, "weights: layer %d out of range [0, %d)", layer, w->n_layer);
    const int32_t ix = chord_wslot_index(w, layer);
    /* pin first: a policy never evicts a pinned layer, so once its acquire has found or filled
     * the layer, the bytes stay until release */
    atomic_fetch_add(&w->pins[ix], 1);
    const uint8_t *p[CHORD_W_NSLOTS] = { 0 };
    chord_status st = w->policy->acquire(w, layer, p, err);
    if (st != CHORD_OK) {
        atomic_fetch_sub(&w->pins[ix], 1);
        memset(view, 0, sizeof *view);
        return st;
    }
    const chord_layer_tensors *lt = tensors_of(w, layer);
    for (int s = 0; s < CHORD_W_NSLOTS; s++) {
        const chord_gguf_tensor *t = lt->t[s];
        if (t) view->w[s] = view_of(t, p[s]);
        else memset(&view->w[s], 0, sizeof view->w[s]);
    }
    return CHORD_OK;
}

void chord_weights_release(chord_weights *w, int32_t layer) {
    if (!w || layer < CHORD_LAYER_GLOBAL || layer >= w->n_layer) return;
    atomic_int *pin = &w->pins[chord_wslot_index(w, layer)];
    int cur = atomic_load(pin);
    while (cur > 0 && !atomic_compare_exchange_weak(pin, &cur, cur - 1)) {}
    if (cur > 0 && w->policy->release) w->policy->release(w, layer);
}

void chord_weights_prefetch(chord_weights *w, int32_t layer) {
    if (!w || layer < 0 || layer >= w->n_layer || !w->policy->prefetch) return;
    w->policy->prefetch(w, layer);
}

chord_status chord_weights_preload(chord_weights *w, chord_error *err) {
    if (!w) return chord_fail(err, CHORD_E_INVALID_ARG, "weights: NULL handle");
    return w->policy->preload ? w->policy->preload(w, err) : CHORD_OK;
}

void chord_weights_clear(chord_weights *w) {
    if (w && w->policy->clear) w->policy->clear(w);
}

void chord_weights_stats(const chord_weights *w, chord_cache_stats *out) {
    memset(out, 0, sizeof *out);
    if (!w) return;
    out->policy = w->policy->name;
    out->n_layer = w->n_layer;
    out->hits = atomic_load(&w->hits);
    out->misses = atomic_load(&w->misses);
    out->evictions = atomic_load(&w->evictions);
    out->bytes_read = atomic_load(&w->bytes_read);
    out->prefetch_hits = atomic_load(&w->prefetch_hits);
    out->read_ms = (double)atomic_load(&w->read_us) / 1000.0;
    out->stall_ms = (double)atomic_load(&w->stall_us) / 1000.0;
    w->policy->stats(w, out);
}

uint64_t chord_weights_resident_bytes(const chord_weights *w) {
    chord_cache_stats st;
    chord_weights_stats(w, &st);
    return st.resident_bytes;
}

int32_t chord_weights_pins(const chord_weights *w, int32_t layer) {
    if (!w || layer < CHORD_LAYER_GLOBAL || layer >= w->n_layer) return -1;
    return atomic_load(&w->pins[chord_wslot_index(w, layer)]);
}

const char *chord_weights_policy_name(const chord_weights *w) { return w ? w->policy->name : ""; }
