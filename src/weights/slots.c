/*
 * slots.c — the slot directory (see slots.h for the policies).
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "weights/slots.h"

chord_status chord_slots_init(chord_slots *d, chord_cache_policy policy, int32_t n_slots, int32_t n_layer,
                              int32_t ring, chord_error *err) {
    memset(d, 0, sizeof *d);
    if (n_layer <= 0) return chord_fail(err, CHORD_E_INVALID_ARG, "slots: no layers");
    if (policy != CHORD_CACHE_PIN && policy != CHORD_CACHE_LRU)
        return chord_fail(err, CHORD_E_INVALID_ARG, "unknown cache policy %d", (int)policy);
    if (n_slots < 1) n_slots = 1;
    if (n_slots > n_layer) n_slots = n_layer;
    if (ring < 1) ring = 1;
    if (ring > n_slots) ring = n_slots;
    d->policy = policy;
    d->n_slots = n_slots;
    d->n_layer = n_layer;
    d->n_pinned = policy == CHORD_CACHE_LRU ? 0 : n_slots >= n_layer ? n_layer : n_slots - ring;
    d->slot_layer = malloc(sizeof *d->slot_layer * (size_t)n_slots);
    d->layer_slot = malloc(sizeof *d->layer_slot * (size_t)n_layer);
    d->used = calloc((size_t)n_slots, sizeof *d->used);
    if (!d->slot_layer || !d->layer_slot || !d->used) {
        chord_slots_free(d);
        return chord_fail(err, CHORD_E_NOMEM, "out of memory for %d slots", n_slots);
    }
    for (int32_t i = 0; i < n_slots; i++) d->slot_layer[i] = -1;
    for (int32_t i = 0; i < n_layer; i++) d->layer_slot[i] = -1;
    return CHORD_OK;
}

void chord_slots_free(chord_slots *d) {
    free(d->slot_layer);
    free(d->layer_slot);
    free(d->used);
    memset(d, 0, sizeof *d);
}

void chord_slots_touch(chord_slots *d, int32_t slot) { d->used[slot] = ++d->clock; }

int32_t chord_slots_victim(const chord_slots *d, int32_t layer, int (*evictable)(void *, int32_t), void *ctx) {
    if (layer < d->n_pinned) return layer; /* its own pinned slot: empty or already holding it */
    int32_t best = -1;
    for (int32_t s = d->n_pinned; s < d->n_slots; s++) {
        if (d->slot_layer[s] < 0) return s;
        if (evictable && !evictable(ctx, s)) continue;
        if (best < 0 || d->used[s] < d->used[best]) best = s;
    }
    return best;
}

int32_t chord_slots_assign(chord_slots *d, int32_t slot, int32_t layer) {
    int32_t old = d->slot_layer[slot];
    if (old >= 0) d->layer_slot[old] = -1;
    d->slot_layer[slot] = layer;
    d->layer_slot[layer] = slot;
    chord_slots_touch(d, slot);
    return old;
}

void chord_slots_drop(chord_slots *d, int32_t slot) {
    int32_t old = d->slot_layer[slot];
    if (old >= 0) d->layer_slot[old] = -1;
    d->slot_layer[slot] = -1;
}
