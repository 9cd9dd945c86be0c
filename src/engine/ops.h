/*
 * ops.h — the kernels of the forward pass: RMSNorm, RoPE (normal and NeoX), SwiGLU, activation
 * quantization, matrix × activations products split across the thread pool, and attention over
 * an F16 KV cache. Numerics follow llama.cpp's CPU backend where it matters for identical greedy
 * tokens (see ops.c).
 */
#ifndef CHORD_OPS_H
#define CHORD_OPS_H

#include <stdint.h>
#include "chord.h"
#include "platform.h"
#include "quant/quant.h"

/* chord_mat (a weight matrix view) lives in quant/quant.h: the weights module hands it out. */

/* Activations [n_tok][n_in] quantized to some vec_dot_type, ready for chord_matmul. The buffer
 * is the caller's (sized with chord_act_row_bytes); `src`/`type` remember what it holds so that
 * products sharing an input (q/k/v, gate/up) quantize it once. */
typedef struct chord_act {
    void *buf;
    uint64_t cap;
    const float *src;
    chord_type type;
    int n_tok;
    int64_t n_in;
    uint64_t row_bytes;
    int packed;         /* rows in the type's packed prompt layout (from_float_act_packed) */
} chord_act;

/* Bytes of one activation row of n_in elements in vec_dot_type; 0 if not a multiple of its block. */
uint64_t chord_act_row_bytes(chord_type vdt, int64_t n_in);
/* Quantizes x [n_tok][n_in] to `vdt` into a->buf unless it already holds exactly that. */
void chord_act_quantize(chord_act *a, chord_pool *pool, const float *x, int n_tok, int64_t n_in,
                        chord_type vdt, int packed);
/* Whether a batch of n_tok rows for these n_mats matrices (one vec_dot_type) goes through the
 * packed prompt layout: more than one row, and every matrix has a packed batch kernel. */
int chord_act_packs(const chord_mat *const *ws, int n_mats, int n_tok);
/* Forgets what a->buf holds (call when the source floats change). */
static inline void chord_act_invalidate(chord_act *a) { a->src = NULL; }

/* y[t][r] = dot(W row r, activation row t) for t < a->n_tok, r < w->n_out, split over threads. */
void chord_matmul(chord_pool *pool, float *y, const chord_mat *w, const chord_act *a);
/* The same for n_mats (1..3) matrices that share the activations a (same n_in and vec_dot_type),
 * ys[i] = ws[i] a, as one pool run: one join for q/k/v or gate/up instead of one per product. */
void chord_matmul_n(chord_pool *pool, int n_mats, float *const *ys, const chord_mat *const *ws,
                    const chord_act *a);

/* y = x / sqrt(mean(x²) + eps) * w (y may equal x). */
void chord_rmsnorm(float *y, const float *x, const float *w, int64_t n, float eps);
/* RoPE of one model as ggml_rope_ext takes it: base, linear/YaRN scaling, cos/sin scale, and
 * optional per-pair frequency divisors (llama3's rope_freqs.weight, n_rot/2 floats). */
typedef struct chord_rope_params {
    int32_t n_rot;
    float freq_base, freq_scale, ext_factor, attn_factor, corr[2];
    const float *freq_factors;   /* NULL: all 1 */
} chord_rope_params;
/* cos/sin table for one position: cache[2i] = cos, cache[2i+1] = sin of pair i (n_rot/2 pairs). */
void chord_rope_cache(float *cache, const chord_rope_params *p, int32_t pos);
/* Rotates the first n_rot dims of each of n_heads heads (head_dim apart) in place. */
void chord_rope_apply(float *x, int32_t n_heads, int32_t head_dim, int32_t n_rot, const float *cache,
                      int neox);
/* gate[i] = gelu(gate[i]) * up[i], ggml's GeGLU: tanh-approximated GELU looked up at F16 precision */
void chord_geglu(float *gate, const float *up, int64_t n);
/* x = c·tanh(x·(1/c)), as ggml_scale, ggml_tanh, ggml_scale (final logit soft-capping) */
void chord_softcap(float *x, int64_t n, float c);
/* gate[i] = silu(gate[i]) * up[i] */
void chord_swiglu(chord_pool *pool, float *gate, const float *up, int64_t n);
/* In-place RMSNorm of n_rows rows of n (per-head q/k norms), each multiplied by w[n]. */
void chord_rmsnorm_heads(float *x, const float *w, int n_rows, int64_t n, float eps);
/* y += b over n_tok rows of n */
void chord_add_rows(float *y, const float *b, int n_tok, int64_t n);

/* Attention of n_tok queries (positions pos0..pos0+n_tok-1) over an F16 cache of K and V rows
 * [pos][n_head_kv * head_dim]; causal. q and out are [n_tok][n_head * head_dim]. */
typedef struct chord_attn {
    const float *q;
    const uint16_t *k, *v;
    float *out;
    int32_t n_tok, pos0, n_head, n_head_kv, head_dim;
    float scale;
    float softcap;         /* scores -> softcap·tanh(scale·s / softcap) when non-zero (gemma2) */
    int32_t window;        /* sliding window: a query at p sees keys p-window+1..p (0: all) */
    float *scratch;        /* per thread: chord_attn_scratch_floats(head_dim, n_ctx) floats */
    uint64_t scratch_per_thread;
} chord_attn;
uint64_t chord_attn_scratch_floats(int32_t head_dim, uint32_t n_ctx);
void chord_attention(chord_pool *pool, const chord_attn *a);

#endif
