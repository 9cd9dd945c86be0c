/*
 * weights.h — where a layer's weight bytes live, and the seam a layer cache plugs into.
 *
 * The forward pass never turns a tensor into a pointer itself: it asks for a layer with
 * chord_weights_acquire, which hands out a ready matrix view per slot (type, shape, row stride,
 * data), and hands it back with chord_weights_release. Behind the contract sits a policy table
 * (policy.h); the first entry is *resident* — every tensor addressable for the model's lifetime:
 * in place when chord_source.data is non-NULL (mmap, wasm heap buffer), else one owned buffer
 * holding the tensor-data span, read once at open.
 *
 * The second entry is *paged* (paged.c): model-wide tensors resident, transformer layers read
 * on demand into a few slots (slots.h says which slot a layer goes into).
 *
 * Threads: one model serves several sessions on several threads, so acquire/release/stats may
 * be called concurrently; pins and counters are atomics. open/preload/clear/free are not meant
 * to race with a forward pass of the same model (preload/clear are safe, but see policy.h).
 */
#ifndef CHORD_WEIGHTS_H
#define CHORD_WEIGHTS_H

#include "chord.h"
#include "gguf/gguf.h"
#include "quant/quant.h"

/* Slots of one transformer block, plus the model-wide tensors (kept in the "global" layer). */
typedef enum {
    CHORD_W_ATTN_NORM, CHORD_W_Q, CHORD_W_K, CHORD_W_V, CHORD_W_Q_B, CHORD_W_K_B, CHORD_W_V_B,
    CHORD_W_O, CHORD_W_FFN_NORM, CHORD_W_GATE, CHORD_W_UP, CHORD_W_DOWN,
    CHORD_W_TOK_EMBD, CHORD_W_OUT_NORM, CHORD_W_OUTPUT,
    /* optional per-layer tensors (model/model.c decides per architecture which may appear) */
    CHORD_W_QKV, CHORD_W_QKV_B, CHORD_W_O_B, CHORD_W_GATE_B, CHORD_W_UP_B, CHORD_W_DOWN_B,
    CHORD_W_Q_NORM, CHORD_W_K_NORM, CHORD_W_ATTN_POST_NORM, CHORD_W_FFN_POST_NORM,
    /* optional model-wide tensors: llama3 per-dimension RoPE frequency factors, output bias,
     * phi3's long-context RoPE factors (one of the two is used, by the context size) */
    CHORD_W_ROPE_FREQS, CHORD_W_OUTPUT_B, CHORD_W_ROPE_LONG, CHORD_W_ROPE_SHORT,
    CHORD_W_NSLOTS
} chord_wslot;

#define CHORD_LAYER_GLOBAL (-1)

/* The binding of tensor-table entries to slots (NULL = absent, e.g. biases of llama). */
typedef struct chord_layer_tensors {
    const chord_gguf_tensor *t[CHORD_W_NSLOTS];
} chord_layer_tensors;

/* What acquire hands out: one matrix view per slot (data NULL = the slot is absent), valid until
 * the matching release. Vectors (norms, biases) are one row: n_out = 1, data is float[n_in]. */
typedef struct chord_layer_view {
    chord_mat w[CHORD_W_NSLOTS];
} chord_layer_view;

/* Which policy serves the layers (index into the table in weights.c). */
typedef enum {
    CHORD_WPOLICY_RESIDENT = 0,
    CHORD_WPOLICY_PAGED = 1,    /* paged.c: model-wide tensors resident, layers in slots */
    CHORD_WPOLICY_COUNT
} chord_wpolicy;

typedef struct chord_weights_config {
    chord_wpolicy policy;
    int32_t n_slots;                  /* paged: layer slots (clamped to [1, n_layer]) */
    int32_t prefetch;                 /* paged: layers read ahead by the helper thread */
    chord_cache_policy cache_policy;  /* paged: pin (default) or lru */
    double async_patience_ms;         /* paged, async source: how long a request may make no
                                         progress before it is taken back; 0 = 5 minutes */
} chord_weights_config;

typedef struct chord_weights chord_weights;

/* Makes the weights of n_layer blocks plus the global tensors available. `layers` has n_layer
 * entries and `global` holds the model-wide slots; both must outlive the handle, as must `src`.
 * cfg NULL = resident. */
chord_status chord_weights_open(chord_weights **out, const chord_source *src,
                                const chord_layer_tensors *layers, int32_t n_layer,
                                const chord_layer_tensors *global, const chord_weights_config *cfg,
                                chord_error *err);
void chord_weights_free(chord_weights *w);

/* Pins a layer (or CHORD_LAYER_GLOBAL), makes its bytes ready and fills its view. On failure
 * nothing stays pinned. */
chord_status chord_weights_acquire(chord_weights *w, int32_t layer, chord_layer_view *view,
                                   chord_error *err);
/* Unpins a layer; its views may not be used afterwards. A release without an acquire is
 * ignored (the pin never goes negative). */
void chord_weights_release(chord_weights *w, int32_t layer);
/* A hint: `layer` is wanted soon (a paged policy may start reading it). Never fails. */
void chord_weights_prefetch(chord_weights *w, int32_t layer);
/* Fills every slot the policy has (every layer when all fit). */
chord_status chord_weights_preload(chord_weights *w, chord_error *err);
/* Drops what is cached and not pinned (the resident policy keeps everything). */
void chord_weights_clear(chord_weights *w);
/* Counters since open (chord_cache_stats in chord.h). */
void chord_weights_stats(const chord_weights *w, chord_cache_stats *out);

/* Bytes of tensor data this module holds addressable (owned, mapped or in slots). */
uint64_t chord_weights_resident_bytes(const chord_weights *w);
/* Current pin count of a layer (tests and assertions). */
int32_t chord_weights_pins(const chord_weights *w, int32_t layer);
/* Name of the policy in use ("resident"). */
const char *chord_weights_policy_name(const chord_weights *w);

#endif
