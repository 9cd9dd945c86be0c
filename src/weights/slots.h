/*
 * slots.h — the slot directory of the paged weights: which layer sits in which slot, and which
 * slot a layer goes into next. Pure bookkeeping (no bytes, no locks, no I/O), so the policies
 * can be tested on a trace with exact hit/miss/eviction counts (tests/test_paged.c).
 *
 * Policies (chord_cache_policy in chord.h):
 *   pin — a forward pass visits layers 0..L-1 in order every token, so LRU with S < L slots
 *         always evicts the layer needed next (0 hits). Instead layers [0, P) are pinned in slots
 *         [0, P) for good and the other layers stream through a ring of R = S - P slots (the
 *         ring is 1 + prefetch depth slots: one computing, the others being read ahead).
 *         Hit rate on a cyclic scan = P / L. With S >= L every layer is pinned.
 *   lru — every slot is in the ring; the least recently used evictable slot is replaced.
 */
#ifndef CHORD_WEIGHTS_SLOTS_H
#define CHORD_WEIGHTS_SLOTS_H

#include <stdint.h>
#include "chord.h"

typedef struct chord_slots {
    chord_cache_policy policy;
    int32_t n_slots, n_layer;
    int32_t n_pinned;        /* pin: slots [0, n_pinned) hold layers [0, n_pinned) */
    int32_t *slot_layer;     /* [n_slots] layer in the slot, -1 = empty */
    int32_t *layer_slot;     /* [n_layer] slot holding the layer, -1 = none */
    uint64_t *used;          /* [n_slots] recency stamp */
    uint64_t clock;
} chord_slots;

/* n_slots is clamped to [1, n_layer]; ring = slots the pin policy streams through (>= 1 when
 * n_slots < n_layer). */
chord_status chord_slots_init(chord_slots *d, chord_cache_policy policy, int32_t n_slots, int32_t n_layer,
                              int32_t ring, chord_error *err);
void chord_slots_free(chord_slots *d);
static inline int32_t chord_slots_find(const chord_slots *d, int32_t layer) { return d->layer_slot[layer]; }
void chord_slots_touch(chord_slots *d, int32_t slot);
/* The slot `layer` should be read into: its pinned slot, a free ring slot, or the least recently
 * used ring slot that evictable(ctx, slot) allows; -1 when every candidate is busy. */
int32_t chord_slots_victim(const chord_slots *d, int32_t layer, int (*evictable)(void *ctx, int32_t slot),
                           void *ctx);
/* Puts `layer` into `slot` (touching it); returns the layer it evicted or -1. */
int32_t chord_slots_assign(chord_slots *d, int32_t slot, int32_t layer);
/* Empties a slot. */
void chord_slots_drop(chord_slots *d, int32_t slot);
/* 1 when the slot is in the pinned region (never chosen for another layer). */
static inline int chord_slots_is_pinned(const chord_slots *d, int32_t slot) { return slot < d->n_pinned; }

#endif
