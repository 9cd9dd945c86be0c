/*
 * plan.h — what a synthetic model holds: the tensor list of a llama- or qwen2-architecture GGUF
 * (names and shapes exactly as llama.cpp expects), how each tensor is initialised, and which
 * tensor type each one gets — one type for every matrix, or llama.cpp's Q4_K_M mixture.
 */
#ifndef CHORD_SYNTH_PLAN_H
#define CHORD_SYNTH_PLAN_H
#include <stddef.h>
#include <stdint.h>
#include "quant/quant.h"

typedef enum { CHORD_ARCH_LLAMA, CHORD_ARCH_QWEN2, CHORD_ARCH_QWEN3, CHORD_ARCH_PHI3, CHORD_ARCH_GEMMA2,
               CHORD_ARCH_GEMMA3 } chord_synth_arch;

typedef struct chord_synth_shape {
    chord_synth_arch arch;
    int64_t n_layer, n_embd, n_ff, n_head, n_head_kv, n_vocab, n_ctx;
    int64_t head_dim;          /* attention.key_length (0: n_embd / n_head) */
    float wstd;                /* std of the block matrices (0: GPT-2's 0.02) */
    int tied;                  /* no output.weight: the head reuses token_embd */
    int bias_o, bias_ffn;      /* attn_output.bias; ffn_{gate,up,down}.bias (llama) */
    int bias_out;              /* output.bias (qwen2) */
    int fused_qkv;             /* one blk.N.attn_qkv.weight instead of attn_{q,k,v} */
    int rope_freqs;            /* llama3 rope_freqs.weight (values: synth/plan.c) */
    int rope_factors;          /* phi3 rope_factors_long.weight and rope_factors_short.weight */
    double rope_theta;         /* for the rope_freqs values */
    char extra[4][48];         /* extra tensors (1-D, 256 floats) that no architecture uses */
    int n_extra;
} chord_synth_shape;

/* A file type: the type of the matrices, or the Q4_K_M mixture (base Q4_K). */
typedef struct chord_synth_ftype {
    const char *name;          /* as given to --type: "q4_k_m" */
    chord_type base;
    int q4_k_m;
    uint32_t llama_ftype;      /* general.file_type (llama.cpp's enum llama_ftype) */
} chord_synth_ftype;
const chord_synth_ftype *chord_synth_ftype_find(const char *name); /* NULL when unknown */
const char *chord_synth_ftype_names(void);                         /* "f32|f16|…" for --help */

typedef enum { CHORD_INIT_NORMAL, CHORD_INIT_ONES, CHORD_INIT_ROPE_FREQS } chord_synth_init;

typedef struct chord_synth_tensor {
    char name[48];
    uint32_t n_dims;
    int64_t ne[2];             /* ne[0] = row length */
    chord_type type;
    chord_synth_init init;
    float std, mean;           /* for CHORD_INIT_NORMAL */
    double theta;              /* for CHORD_INIT_ROPE_FREQS: RoPE base; ne[0] = head_dim / 2 */
} chord_synth_tensor;

/* Llama 3.1's frequency factors for pair i of n (head_dim/2) at RoPE base theta. */
float chord_synth_rope_freq(double theta, int64_t i, int64_t n);

/* Fills `out` (capacity `cap`) with the model's tensors in file order; returns the count, or 0
 * with a message in `msg` when the shape is unusable. */
size_t chord_synth_plan(const chord_synth_shape *s, const chord_synth_ftype *ft,
                        chord_synth_tensor *out, size_t cap, char *msg, size_t msg_cap);
/* Tensors a shape needs (to size the `out` array). */
size_t chord_synth_plan_count(const chord_synth_shape *s);

#endif
