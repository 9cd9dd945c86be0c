/*
 * policy.h — the inside of the weights module: the handle every policy shares and the policy
 * table's entry type. weights.c implements the contract (argument checks, pins, views, stats)
 * once; a policy only decides where a layer's bytes are and when they are read.
 *
 * A policy's acquire gives one data address per slot; weights.c turns them into matrix views
 * (type, shape, row stride from the tensor table), so views look the same whatever the policy.
 * A layer's tensors occupy one span [lo, hi) of the source (GGUF stores a block's tensors
 * together), which is what a paged policy reads into a slot.
 */
#ifndef CHORD_WEIGHTS_POLICY_H
#define CHORD_WEIGHTS_POLICY_H

#include <stdatomic.h>
#include "weights/weights.h"

/* The byte span of one layer's tensors (or of the global tensors, at index n_layer). */
typedef struct chord_wspan {
    uint64_t lo, hi;
} chord_wspan;

typedef struct chord_weights_policy {
    const char *name;
    /* Sets up the policy's state (w->impl); reads what must be resident. */
    chord_status (*open)(chord_weights *w, chord_error *err);
    /* Called with the layer already pinned: makes its bytes ready and sets p[slot] for every
     * bound slot (unbound slots are ignored). */
    chord_status (*acquire)(chord_weights *w, int32_t layer, const uint8_t *p[CHORD_W_NSLOTS],
                            chord_error *err);
    /* Called after the pin dropped (may make the layer evictable). NULL = nothing to do. */
    void (*release)(chord_weights *w, int32_t layer);
    void (*prefetch)(chord_weights *w, int32_t layer);          /* NULL = ignore hints */
    chord_status (*preload)(chord_weights *w, chord_error *err); /* NULL = nothing to fill */
    void (*clear)(chord_weights *w);                             /* NULL = keeps everything */
    void (*stats)(const chord_weights *w, chord_cache_stats *out); /* slots, pinned, bytes */
    void (*close)(chord_weights *w);
} chord_weights_policy;

struct chord_weights {
    const chord_weights_policy *policy;
    const chord_source *src;
    const chord_layer_tensors *layers;
    const chord_layer_tensors *global;
    int32_t n_layer;
    chord_weights_config cfg;
    chord_wspan *spans;          /* [n_layer + 1]; the global span last */
    atomic_int *pins;            /* [n_layer + 1] */
    /* counters shared by the policies (acquires from several threads) */
    atomic_uint_fast64_t hits, misses, evictions, bytes_read, prefetch_hits;
    atomic_uint_fast64_t read_us, stall_us;
    void *impl;                  /* the policy's own state */
};

/* Index of a layer in spans/pins (the global layer is n_layer). */
static inline int32_t chord_wslot_index(const chord_weights *w, int32_t layer) {
    return layer == CHORD_LAYER_GLOBAL ? w->n_layer : layer;
}

extern const chord_weights_policy chord_wpolicy_resident;
extern const chord_weights_policy chord_wpolicy_paged;

#endif
