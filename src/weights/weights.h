/*
 * weights.h — where a layer's weight bytes live. The forward pass never reads tensor data
 * directly: it asks for a layer with chord_weights_acquire and hands it back with
 * chord_weights_release, so a paged policy (a cache of layer slots filled from the source on
 * demand) can replace the resident one without touching the forward pass.
 *
 * Today's policy is *resident*: every tensor is addressable for the model's lifetime — pointers
 * into the source's mapped bytes when chord_source.data is non-NULL (mmap, wasm heap buffer),
 * else one owned buffer holding the tensor-data span, read once at load.
 */
#ifndef CHORD_WEIGHTS_H
#define CHORD_WEIGHTS_H

#include "chord.h"
#include "gguf/gguf.h"

/* Slots of one transformer block, plus the model-wide tensors (kept in the "global" layer). */
typedef enum {
    CHORD_W_ATTN_NORM, CHORD_W_Q, CHORD_W_K, CHORD_W_V, CHORD_W_Q_B, CHORD_W_K_B, CHORD_W_V_B,
    CHORD_W_O, CHORD_W_FFN_NORM, CHORD_W_GATE, CHORD_W_UP, CHORD_W_DOWN,
    CHORD_W_TOK_EMBD, CHORD_W_OUT_NORM, CHORD_W_OUTPUT,
    CHORD_W_NSLOTS
} chord_wslot;

#define CHORD_LAYER_GLOBAL (-1)

/* The binding of tensor-table entries to slots (NULL = absent, e.g. biases of llama). */
typedef struct chord_layer_tensors {
    const chord_gguf_tensor *t[CHORD_W_NSLOTS];
} chord_layer_tensors;

/* What acquire hands out: one data pointer per slot, valid until the matching release. */
typedef struct chord_layer_view {
    const void *p[CHORD_W_NSLOTS];
} chord_layer_view;

typedef struct chord_weights chord_weights;

/* Makes the weights of n_layer blocks plus the global tensors available. `layers` has
 * n_layer entries and `global` holds the model-wide slots; both must outlive the handle, as
 * must `src`. */
chord_status chord_weights_new(chord_weights **out, const chord_source *src,
                               const chord_layer_tensors *layers, int32_t n_layer,
                               const chord_layer_tensors *global, chord_error *err);
void chord_weights_free(chord_weights *w);

/* Pins a layer (or CHORD_LAYER_GLOBAL) and fills its view. */
chord_status chord_weights_acquire(chord_weights *w, int32_t layer, chord_layer_view *view,
                                   chord_error *err);
/* Unpins a layer; its pointers may not be used afterwards. */
void chord_weights_release(chord_weights *w, int32_t layer);

/* Bytes of tensor data this module holds resident (owned or mapped). */
uint64_t chord_weights_resident_bytes(const chord_weights *w);

#endif
