/*
 * quant.h — tensor types: one traits table indexed by the GGUF/ggml type id, block layouts in
 * blocks.h, scalar reference kernels in ref.c, per-ISA kernels in src/quant/<isa>.c.
 */
#ifndef CHORD_QUANT_H
#define CHORD_QUANT_H

#include <stdint.h>
#include <stddef.h>
#include "chord.h"

/* Type ids are ggml's (they are stored in GGUF files). */
typedef enum {
    CHORD_TYPE_F32 = 0, CHORD_TYPE_F16 = 1, CHORD_TYPE_Q4_0 = 2, CHORD_TYPE_Q4_1 = 3,
    CHORD_TYPE_Q5_0 = 6, CHORD_TYPE_Q5_1 = 7, CHORD_TYPE_Q8_0 = 8, CHORD_TYPE_Q8_1 = 9,
    CHORD_TYPE_Q2_K = 10, CHORD_TYPE_Q3_K = 11, CHORD_TYPE_Q4_K = 12, CHORD_TYPE_Q5_K = 13,
    CHORD_TYPE_Q6_K = 14, CHORD_TYPE_Q8_K = 15, CHORD_TYPE_BF16 = 30,
    CHORD_TYPE_COUNT = 40   /* ids below this are known to ggml; ours are a subset */
} chord_type;

/* A weight matrix: n_out rows of n_in elements in `type`, rows row_bytes apart (a vector is one
 * row: n_out = 1). The weights module hands these out; the kernels consume them. */
typedef struct chord_mat {
    const void *data;
    chord_type type;
    int64_t n_in, n_out;
    uint64_t row_bytes;
} chord_mat;

typedef void (*chord_to_float_fn)(const void *src, float *dst, int64_t n);
typedef void (*chord_from_float_fn)(const float *src, void *dst, int64_t n);
/* dot of n elements: x in this type, y in vec_dot_type (already quantized activations) */
typedef float (*chord_vec_dot_fn)(int64_t n, const void *x, const void *y);

/* out[k] = dot(x, y + k*y_stride) for k < ny: each result bit-identical to vec_dot's. */
typedef void (*chord_vec_dot_rows_fn)(int64_t n, const void *x, const void *y, uint64_t y_stride,
                                      int ny, float *out);

/* The other shape (decode matvecs): out[k] = vec_dot(n, x + k*x_stride, y) for k < nx, each
 * bit-identical to vec_dot's; 1 <= nx <= CHORD_WROWS_MAX. The activation vector is loaded once
 * for all nx weight rows, not once per row (in wasm64 every load also pays a bounds check). */
#define CHORD_WROWS_MAX 4
typedef void (*chord_vec_dot_wrows_fn)(int64_t n, const void *x, uint64_t x_stride, int nx, const void *y,
                                       float *out);

/* Prompt tiles: out[t*out_stride + k] = vec_dot(n, x + k*x_stride, y + t*y_stride) for k < nx
 * weight rows and t < ny activation rows (any nx, ny >= 0), each bit-identical to vec_dot's. The
 * kernel blocks both dimensions in registers (each loaded operand feeds several products) and
 * writes straight into a token-major output (out_stride = the matrix's n_out). */
typedef void (*chord_vec_dot_tile_fn)(int64_t n, const void *x, uint64_t x_stride, int nx, const void *y,
                                      uint64_t y_stride, int ny, float *out, uint64_t out_stride);

typedef struct chord_type_traits {
    const char *name;            /* "q4_K" as ggml spells it; NULL for ids we do not support */
    uint32_t block_elems;        /* elements per block */
    uint32_t block_bytes;        /* bytes per block */
    chord_type vec_dot_type;     /* activation format for vec_dot */
    chord_to_float_fn to_float;  /* reference dequantize (bit-exact with ggml) */
    chord_from_float_fn from_float; /* quantize (bit-identical to from_float_ref) */
    chord_vec_dot_fn vec_dot;    /* best kernel for this CPU (after chord_quant_init) */
    chord_vec_dot_fn vec_dot_ref;/* scalar reference */
    /* from_float above is the best kernel for this CPU; it is bit-identical to this scalar one
     * (the SIMD quantizers of Q8_0/Q8_1/Q8_K/F16 are exact), so results never depend on the CPU. */
    chord_from_float_fn from_float_ref;
    /* One weight row against several activation rows sharing the weight unpacking (prompt
     * batches); NULL when the type has no such kernel. Call it through chord_vec_dot_rows. */
    chord_vec_dot_rows_fn vec_dot_rows;
    /* How the forward pass quantizes activations to this type when it differs from from_float
     * (Q8_0/Q8_1: ggml-cpu's rounding, not the file quantizer's); NULL = from_float. */
    chord_from_float_fn from_float_act;
    /* Prompt batches only, both NULL unless this CPU has such a kernel. On an activation type:
     * a quantizer to its packed prompt layout (same row bytes as the plain one; Q8_0's is
     * chord_quant_q8_0_act_packed). On a weight type: the vec_dot_rows kernel that reads that
     * layout, bit-identical to vec_dot on the plain rows. */
    chord_from_float_fn from_float_act_packed;
    chord_vec_dot_rows_fn vec_dot_rows_packed;
    /* Several weight rows against one activation vector (decode); NULL when the type has no such
     * kernel. Call it through chord_vec_dot_wrows. */
    chord_vec_dot_wrows_fn vec_dot_wrows;
    /* A prompt tile kernel over packed activations (from_float_act_packed of vec_dot_type);
     * NULL unless this CPU has one. Where set, vec_dot_rows_packed is set too. */
    chord_vec_dot_tile_fn vec_dot_tile_packed;
    /* The same over plain activation rows (from_float_act, as vec_dot takes them); NULL unless
     * this build has one (Q8_0 in the wasm64 relaxed-SIMD build: simd128_tile.c). */
    chord_vec_dot_tile_fn vec_dot_tile;
    /* Weight rows per vec_dot_wrows call in a decode matvec (2..CHORD_WROWS_MAX; 0 = the most):
     * each row is its own memory stream, and how many streams a kernel runs best with differs
     * per kernel (ops.c). */
    uint8_t wrows_lanes;
    /* F16 only: chord_f16_mad's fused kernel for this CPU or build; NULL = the generic form
     * through to_float / from_float (traits.c). */
    void (*f16_mad)(uint16_t *acc, const uint16_t *v, int64_t n, float ms, float vs, int rescale);
} chord_type_traits;

/* Selects the fastest kernels this CPU supports; idempotent, thread-safe to call early. */
void chord_quant_init(void);

#if defined(__wasm_simd128__)
/* wasm builds: kernel shapes chosen by the engine that runs the module, with the same results
 * (the host knows the engine; CPUID cannot tell V8 versions apart). Call before any model work:
 * it re-points installed kernels without synchronisation. Returns the bits this build honours.
 *  CHORD_SIMD128_TUNE_ROLLED_K45: the Q4_K/Q5_K decode kernels with their sub-block loop rolled
 *  (faster in Node 20's V8 11; the relaxed build's default unrolls it, faster in Chromium). */
#define CHORD_SIMD128_TUNE_ROLLED_K45 1u
uint32_t chord_simd128_set_tuning(uint32_t bits);
#endif
/* "avx2", "scalar" (or a name given by a per-ISA dispatch file): the kernel set that
 * chord_quant_init selected (for logs and benches). Static string. */
const char *chord_quant_isa(void);
/* out[k] = t->vec_dot(n, x, y + k*y_stride) for k < ny, through vec_dot_rows when the type has
 * one (on AVX2, 4 rows: 1.2x faster per row for Q4_K/Q8_0, 1.5-1.7x for Q4_0, Q4_1, Q5_0, Q5_1,
 * Q5_K, Q6_K; results bit-identical to vec_dot). */
void chord_vec_dot_rows(const chord_type_traits *t, int64_t n, const void *x, const void *y,
                        uint64_t y_stride, int ny, float *out);
/* out[k] = t->vec_dot(n, x + k*x_stride, y) for k < nx (any nx >= 0): passes of up to
 * CHORD_WROWS_MAX rows through vec_dot_wrows when the type has one, a last single row (and every
 * row of a type without one) through vec_dot; results bit-identical to vec_dot either way. */
void chord_vec_dot_wrows(const chord_type_traits *t, int64_t n, const void *x, uint64_t x_stride, int nx,
                         const void *y, float *out);
/* The F16 flash-attention accumulator's per-key V step (ggml's F16 path, engine/ops.c), over n
 * elements: acc[i] = fp16(a + fp32(v[i]) * vs), where a = fp32(acc[i]), or, when rescale is set,
 * a = fp32(fp16(fp32(acc[i]) * ms)); each step one IEEE operation rounded to float (a multiply,
 * then an add, never fused), fp16 rounding as chord_fp32_to_fp16. Fused per CPU or build (AVX2,
 * simd128: the F16 entry's f16_mad), else through its to_float / from_float; the same bits. */
void chord_f16_mad(uint16_t *acc, const uint16_t *v, int64_t n, float ms, float vs, int rescale);
/* NULL for ids out of range or unsupported. */
const chord_type_traits *chord_type_get(uint32_t type);
const char *chord_type_name(uint32_t type);          /* "?" when unknown */
int chord_type_from_name(const char *name);           /* -1 when unknown; case-insensitive */
/* Bytes of a row of n elements: CHORD_E_FORMAT if n is not a multiple of the block size,
 * CHORD_E_UNSUPPORTED for unknown types, CHORD_E_RANGE on overflow. */
chord_status chord_type_row_bytes(uint32_t type, uint64_t n, uint64_t *out);

/* fp16/bf16 conversion (exact, no hardware dependence) */
float chord_fp16_to_fp32(uint16_t h);
uint16_t chord_fp32_to_fp16(float f);
float chord_bf16_to_fp32(uint16_t h);
uint16_t chord_fp32_to_bf16(float f);

#endif
