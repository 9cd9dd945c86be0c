/*
 * quant_ref.c — scalar reference kernels for the float types and the 32-element block types
 * (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1): dequantize, quantize, dot product.
 *
 * These are the truth every SIMD kernel is tested against. Dequantize performs exactly the
 * float operations ggml's dequantize_row_* perform, in the same order, so the output is
 * bit-identical to llama.cpp's (proved by tests/t_quant_oracle.sh against libggml-base.so).
 * Quantize follows ggml's quantize_row_*_ref step for step (same scale formula, same rounding:
 * truncation of x+bias for the 4/5-bit types, roundf for Q8), so files we write hold the same
 * bytes llama_model_quantize writes without an importance matrix.
 * Dot products of the 32-element types sum integers exactly within a block, then scale and add
 * in float in the canonical order every SIMD kernel reproduces (acc32 below); float types
 * accumulate in double. Callers guarantee n is a multiple of the block size.
 * This file must be compiled without -ffast-math and without FMA contraction (C11 mode does not
 * contract), or the bit-exact guarantees above no longer hold.
 */
#include <string.h>
#include <math.h>
#include "quant/quant.h"
#include "quant/blocks.h"
#include "quant/kernels.h"

/* clang contracts a*b+c into an FMA within one expression when the target has FMA; the
 * reference must round each step as ggml does. (GCC in -std=c11 mode never contracts.) */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#define H2F chord_fp16_to_fp32
#define F2H chord_fp32_to_fp16

/* ---- F32, F16, BF16 ------------------------------------------------------------------------ */

void chord_dequant_f32(const void *src, float *dst, int64_t n) { memcpy(dst, src, (size_t)n * 4); }
void chord_quant_f32_ref(const float *src, void *dst, int64_t n) { memcpy(dst, src, (size_t)n * 4); }

float chord_dot_f32_ref(int64_t n, const void *x, const void *y) {
    const float *a = x, *b = y;
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)a[i] * (double)b[i];
    return (float)s;
}

void chord_dequant_f16(const void *src, float *dst, int64_t n) {
    const uint16_t *h = src;
    for (int64_t i = 0; i < n; i++) dst[i] = H2F(h[i]);
}

void chord_quant_f16_ref(const float *src, void *dst, int64_t n) {
    uint16_t *h = dst;
    for (int64_t i = 0; i < n; i++) h[i] = F2H(src[i]);
}

float chord_dot_f16_ref(int64_t n, const void *x, const void *y) {
    const uint16_t *a = x, *b = y;
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)H2F(a[i]) * (double)H2F(b[i]);
    return (float)s;
}

void chord_dequant_bf16(const void *src, float *dst, int64_t n) {
    const uint16_t *h = src;
    for (int64_t i = 0; i < n; i++) dst[i] = chord_bf16_to_fp32(h[i]);
}

void chord_quant_bf16_ref(const float *src, void *dst, int64_t n) {
    uint16_t *h = dst;
    for (int64_t i = 0; i < n; i++) h[i] = chord_fp32_to_bf16(src[i]);
}

float chord_dot_bf16_ref(int64_t n, const void *x, const void *y) {
    const uint16_t *a = x, *b = y;
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += (double)chord_bf16_to_fp32(a[i]) * (double)chord_bf16_to_fp32(b[i]);
    return (float)s;
}

/* ---- helpers for the 32-element types --------------------------------------------------------- */

/* The element of largest magnitude (first one wins ties), sign kept: the symmetric types put
 * it exactly on the most negative level so that one level is not wasted. */
static float signed_absmax(const float *x, int n) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < n; j++) {
        if (amax < fabsf(x[j])) { amax = fabsf(x[j]); max = x[j]; }
    }
    return max;
}

static void min_max(const float *x, int n, float *mn, float *mx) {
    float lo = 3.402823466e+38f, hi = -3.402823466e+38f;
    for (int j = 0; j < n; j++) {
        if (x[j] < lo) lo = x[j];
        if (x[j] > hi) hi = x[j];
    }
    *mn = lo; *mx = hi;
}

/* 5th bits of a 32-element block: bit j of the little-endian u32 is element j's bit 4. */
static uint32_t load_qh(const uint8_t qh[4]) {
    return (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 | (uint32_t)qh[3] << 24;
}

static void store_qh(uint8_t qh[4], uint32_t v) {
    for (int i = 0; i < 4; i++) qh[i] = (uint8_t)(v >> (8 * i));
}

/* ---- the canonical order of the 32-element dot products ------------------------------------
 * Every kernel of every target (AVX2/VNNI natively, simd128 and relaxed SIMD in wasm) performs
 * exactly these float operations, so all give the same bits: the block's 32 integer products
 * in 8 lanes of 4 consecutive elements (lane k = elements 4k..4k+3, an exact int); per lane,
 * f = (float)lane * s with s = fp16(d_x) * fp16(d_y) rounded to float, then acc = acc + f, as
 * two IEEE operations (no fused multiply-add, which plain wasm SIMD lacks); even blocks into
 * accumulator 0, odd ones into 1, in index order; at the end the lanes of acc0 + acc1 are summed
 * as AVX2's hsum_ps does, ((l0+l4) + (l2+l6)) + ((l1+l5) + (l3+l7)). The *_1 types add the min
 * terms m_x * s_y, summed in block order, to that. */
typedef struct { float lane[2][8]; float mins; } acc32;

static inline void acc32_block(acc32 *a, int64_t i, const int prod[32], float s) {
    float *l = a->lane[i & 1];
    for (int k = 0; k < 8; k++) {
        const int sumi = prod[4 * k] + prod[4 * k + 1] + prod[4 * k + 2] + prod[4 * k + 3];
        const float f = (float)sumi * s;
        l[k] = l[k] + f;
    }
}

/* A block of two int8 level arrays (Q8_0, Q8_1): its 32 products into the accumulator. */
static inline void acc32_block_i8(acc32 *a, int64_t i, const int8_t *x, const int8_t *y, float s) {
    int p[32];
    for (int j = 0; j < 32; j++) p[j] = x[j] * y[j];
    acc32_block(a, i, p, s);
}

static inline float acc32_result(const acc32 *a) {
    float v[8];
    for (int k = 0; k < 8; k++) v[k] = a->lane[0][k] + a->lane[1][k];
    const float h0 = v[0] + v[4], h1 = v[1] + v[5], h2 = v[2] + v[6], h3 = v[3] + v[7];
    return ((h0 + h2) + (h1 + h3)) + a->mins;
}

/* ---- Q4_0: x = d * (q - 8) ------------------------------------------------------------------ */

void chord_dequant_q4_0(const void *src, float *dst, int64_t n) {
    const chord_block_q4_0 *b = src;
    for (int64_t i = 0; i < n / QK4_0; i++, dst += QK4_0) {
        const float d = H2F(b[i].d);
        for (int j = 0; j < QK4_0 / 2; j++) {
            dst[j]             = (float)((b[i].qs[j] & 0x0F) - 8) * d;
            dst[j + QK4_0 / 2] = (float)((b[i].qs[j] >> 4) - 8) * d;
        }
    }
}

void chord_quant_q4_0_ref(const float *src, void *dst, int64_t n) {
    chord_block_q4_0 *b = dst;
    for (int64_t i = 0; i < n / QK4_0; i++, src += QK4_0) {
        const float d = signed_absmax(src, QK4_0) / -8;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = F2H(d);
        for (int j = 0; j < QK4_0 / 2; j++) {
            int q0 = (int)(src[j] * id + 8.5f), q1 = (int)(src[j + QK4_0 / 2] * id + 8.5f);
            if (q0 > 15) q0 = 15;
            if (q1 > 15) q1 = 15;
            b[i].qs[j] = (uint8_t)(q0 | q1 << 4);
        }
    }
}

float chord_dot_q4_0_ref(int64_t n, const void *vx, const void *vy) {
    const chord_block_q4_0 *x = vx;
    const chord_block_q8_0 *y = vy;
    acc32 a = { 0 };
    for (int64_t i = 0; i < n / QK4_0; i++) {
        int p[32];
        for (int j = 0; j < QK4_0 / 2; j++) {
            p[j] = ((x[i].qs[j] & 0x0F) - 8) * y[i].qs[j];
            p[j + QK4_0 / 2] = ((x[i].qs[j] >> 4) - 8) * y[i].qs[j + QK4_0 / 2];
        }
        acc32_block(&a, i, p, H2F(x[i].d) * H2F(y[i].d));
    }
    return acc32_result(&a);
}

/* ---- Q4_1: x = d * q + m -------------------------------------------------------------------- */

void chord_dequant_q4_1(const void *src, float *dst, int64_t n) {
    const chord_block_q4_1 *b = src;
    for (int64_t i = 0; i < n / QK4_1; i++, dst += QK4_1) {
        const float d = H2F(b[i].d), m = H2F(b[i].m);
        for (int j = 0; j < QK4_1 / 2; j++) {
            dst[j]             = (float)(b[i].qs[j] & 0x0F) * d + m;
            dst[j + QK4_1 / 2] = (float)(b[i].qs[j] >> 4) * d + m;
        }
    }
}

void chord_quant_q4_1_ref(const float *src, void *dst, int64_t n) {
    chord_block_q4_1 *b = dst;
    for (int64_t i = 0; i < n / QK4_1; i++, src += QK4_1) {
        float mn, mx;
        min_max(src, QK4_1, &mn, &mx);
        const float d = (mx - mn) / 15;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = F2H(d);
        b[i].m = F2H(mn);
        for (int j = 0; j < QK4_1 / 2; j++) {
            int q0 = (int)((src[j] - mn) * id + 0.5f), q1 = (int)((src[j + QK4_1 / 2] - mn) * id + 0.5f);
            if (q0 > 15) q0 = 15;
            if (q1 > 15) q1 = 15;
            b[i].qs[j] = (uint8_t)(q0 | q1 << 4);
        }
    }
}

float chord_dot_q4_1_ref(int64_t n, const void *vx, const void *vy) {
    const chord_block_q4_1 *x = vx;
    const chord_block_q8_1 *y = vy;
    acc32 a = { 0 };
    for (int64_t i = 0; i < n / QK4_1; i++) {
        int p[32];
        for (int j = 0; j < QK4_1 / 2; j++) {
            p[j] = (x[i].qs[j] & 0x0F) * y[i].qs[j];
            p[j + QK4_1 / 2] = (x[i].qs[j] >> 4) * y[i].qs[j + QK4_1 / 2];
        }
        acc32_block(&a, i, p, H2F(x[i].d) * H2F(y[i].d));
        const float m = H2F(x[i].m) * H2F(y[i].s);
        a.mins = a.mins + m;
    }
    return acc32_result(&a);
}

/* ---- Q5_0: x = d * (q - 16) ----------------------------------------------------------------- */

void chord_dequant_q5_0(const void *src, float *dst, int64_t n) {
    const chord_block_q5_0 *b = src;
    for (int64_t i = 0; i < n / QK5_0; i++, dst += QK5_0) {
        const float d = H2F(b[i].d);
        const uint32_t qh = load_qh(b[i].qh);
        for (int j = 0; j < QK5_0 / 2; j++) {
            const int h0 = (int)((qh >> j) << 4 & 0x10), h1 = (int)((qh >> (j + 12)) & 0x10);
            dst[j]             = (float)(((b[i].qs[j] & 0x0F) | h0) - 16) * d;
            dst[j + QK5_0 / 2] = (float)(((b[i].qs[j] >> 4) | h1) - 16) * d;
        }
    }
}

void chord_quant_q5_0_ref(const float *src, void *dst, int64_t n) {
    chord_block_q5_0 *b = dst;
    for (int64_t i = 0; i < n / QK5_0; i++, src += QK5_0) {
        const float d = signed_absmax(src, QK5_0) / -16;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        uint32_t qh = 0;
        b[i].d = F2H(d);
        for (int j = 0; j < QK5_0 / 2; j++) {
            int q0 = (int)(src[j] * id + 16.5f), q1 = (int)(src[j + QK5_0 / 2] * id + 16.5f);
            if (q0 > 31) q0 = 31;
            if (q1 > 31) q1 = 31;
            b[i].qs[j] = (uint8_t)((q0 & 0x0F) | (q1 & 0x0F) << 4);
            qh |= (uint32_t)(q0 >> 4 & 1) << j | (uint32_t)(q1 >> 4 & 1) << (j + QK5_0 / 2);
        }
        store_qh(b[i].qh, qh);
    }
}

float chord_dot_q5_0_ref(int64_t n, const void *vx, const void *vy) {
    const chord_block_q5_0 *x = vx;
    const chord_block_q8_0 *y = vy;
    acc32 a = { 0 };
    for (int64_t i = 0; i < n / QK5_0; i++) {
        const uint32_t qh = load_qh(x[i].qh);
        int p[32];
        for (int j = 0; j < QK5_0 / 2; j++) {
            const int h0 = (int)((qh >> j) << 4 & 0x10), h1 = (int)((qh >> (j + 12)) & 0x10);
            p[j] = (((x[i].qs[j] & 0x0F) | h0) - 16) * y[i].qs[j];
            p[j + QK5_0 / 2] = (((x[i].qs[j] >> 4) | h1) - 16) * y[i].qs[j + QK5_0 / 2];
        }
        acc32_block(&a, i, p, H2F(x[i].d) * H2F(y[i].d));
    }
    return acc32_result(&a);
}

/* ---- Q5_1: x = d * q + m -------------------------------------------------------------------- */

void chord_dequant_q5_1(const void *src, float *dst, int64_t n) {
    const chord_block_q5_1 *b = src;
    for (int64_t i = 0; i < n / QK5_1; i++, dst += QK5_1) {
        const float d = H2F(b[i].d), m = H2F(b[i].m);
        const uint32_t qh = load_qh(b[i].qh);
        for (int j = 0; j < QK5_1 / 2; j++) {
            const int h0 = (int)((qh >> j) << 4 & 0x10), h1 = (int)((qh >> (j + 12)) & 0x10);
            dst[j]             = (float)((b[i].qs[j] & 0x0F) | h0) * d + m;
            dst[j + QK5_1 / 2] = (float)((b[i].qs[j] >> 4) | h1) * d + m;
        }
    }
}

void chord_quant_q5_1_ref(const float *src, void *dst, int64_t n) {
    chord_block_q5_1 *b = dst;
    for (int64_t i = 0; i < n / QK5_1; i++, src += QK5_1) {
        float mn, mx;
        min_max(src, QK5_1, &mn, &mx);
        const float d = (mx - mn) / 31;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        uint32_t qh = 0;
        b[i].d = F2H(d);
        b[i].m = F2H(mn);
        for (int j = 0; j < QK5_1 / 2; j++) {
            /* ggml clamps nothing here: (x-min)*id+0.5 stays below 32 for finite input */
            const int q0 = (uint8_t)((src[j] - mn) * id + 0.5f);
            const int q1 = (uint8_t)((src[j + QK5_1 / 2] - mn) * id + 0.5f);
            b[i].qs[j] = (uint8_t)((q0 & 0x0F) | (q1 & 0x0F) << 4);
            qh |= (uint32_t)(q0 >> 4 & 1) << j | (uint32_t)(q1 >> 4 & 1) << (j + QK5_1 / 2);
        }
        store_qh(b[i].qh, qh);
    }
}

float chord_dot_q5_1_ref(int64_t n, const void *vx, const void *vy) {
    const chord_block_q5_1 *x = vx;
    const chord_block_q8_1 *y = vy;
    acc32 a = { 0 };
    for (int64_t i = 0; i < n / QK5_1; i++) {
        const uint32_t qh = load_qh(x[i].qh);
        int p[32];
        for (int j = 0; j < QK5_1 / 2; j++) {
            const int h0 = (int)((qh >> j) << 4 & 0x10), h1 = (int)((qh >> (j + 12)) & 0x10);
            p[j] = ((x[i].qs[j] & 0x0F) | h0) * y[i].qs[j];
            p[j + QK5_1 / 2] = ((x[i].qs[j] >> 4) | h1) * y[i].qs[j + QK5_1 / 2];
        }
        acc32_block(&a, i, p, H2F(x[i].d) * H2F(y[i].d));
        const float m = H2F(x[i].m) * H2F(y[i].s);
        a.mins = a.mins + m;
    }
    return acc32_result(&a);
}

/* ---- Q8_0 and Q8_1: x = d * q, q = roundf(x / d), d = amax / 127 ------------------------------ */

void chord_dequant_q8_0(const void *src, float *dst, int64_t n) {
    const chord_block_q8_0 *b = src;
    for (int64_t i = 0; i < n / QK8_0; i++, dst += QK8_0) {
        const float d = H2F(b[i].d);
        for (int j = 0; j < QK8_0; j++) dst[j] = (float)b[i].qs[j] * d;
    }
}

/* Shared by Q8_0 and Q8_1: quantizes 32 values, returns the scale d and the sum of quants. */
static float quant_block_8(const float *x, int8_t *qs, int *sum) {
    float amax = 0.0f;
    for (int j = 0; j < 32; j++) amax = amax > fabsf(x[j]) ? amax : fabsf(x[j]);
    const float d = amax / 127;
    /* For amax below ~3.7e-37, 1/d overflows; ggml then converts inf/NaN to int8, which is
     * undefined in C and yields 0 on x86. Using id = 0 writes the same zeros, defined. */
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    if (isinf(id)) id = 0.0f;
    int s = 0;
    for (int j = 0; j < 32; j++) { qs[j] = (int8_t)roundf(x[j] * id); s += qs[j]; }
    *sum = s;
    return d;
}

void chord_quant_q8_0_ref(const float *src, void *dst, int64_t n) {
    chord_block_q8_0 *b = dst;
    for (int64_t i = 0; i < n / QK8_0; i++, src += QK8_0) {
        int s;
        b[i].d = F2H(quant_block_8(src, b[i].qs, &s));
    }
}

float chord_dot_q8_0_ref(int64_t n, const void *vx, const void *vy) {
    const chord_block_q8_0 *x = vx, *y = vy;
    acc32 a = { 0 };
    for (int64_t i = 0; i < n / 32; i++) acc32_block_i8(&a, i, x[i].qs, y[i].qs, H2F(x[i].d) * H2F(y[i].d));
    return acc32_result(&a);
}

void chord_dequant_q8_1(const void *src, float *dst, int64_t n) {
    const chord_block_q8_1 *b = src;
    for (int64_t i = 0; i < n / QK8_1; i++, dst += QK8_1) {
        const float d = H2F(b[i].d);
        for (int j = 0; j < QK8_1; j++) dst[j] = (float)b[i].qs[j] * d;
    }
}

void chord_quant_q8_1_ref(const float *src, void *dst, int64_t n) {
    chord_block_q8_1 *b = dst;
    for (int64_t i = 0; i < n / QK8_1; i++, src += QK8_1) {
        int s;
        const float d = quant_block_8(src, b[i].qs, &s);
        b[i].d = F2H(d);
        b[i].s = F2H((float)s * d);
    }
}

float chord_dot_q8_1_ref(int64_t n, const void *vx, const void *vy) {
    const chord_block_q8_1 *x = vx, *y = vy;
    acc32 a = { 0 };
    for (int64_t i = 0; i < n / 32; i++) acc32_block_i8(&a, i, x[i].qs, y[i].qs, H2F(x[i].d) * H2F(y[i].d));
    return acc32_result(&a);
}

/* ---- activation quantizers --------------------------------------------------------------- */

/* Round half to even for |x| < 2^22 (the activations are scaled to at most 127). */
static inline int nearest_even(float x) {
    float v = x + 12582912.0f;
    int32_t i;
    memcpy(&i, &v, sizeof i);
    return (i & 0x007fffff) - 0x00400000;
}

static float block_amax(const float *x, int n) {
    float amax = 0.0f;
    for (int j = 0; j < n; j++) {
        float a = fabsf(x[j]);
        if (a > amax) amax = a;
    }
    return amax;
}

/* Activation quantizers (traits.from_float_act): ggml-cpu's x86 quantize_row_q8_0 / q8_1
 * semantics (d = amax/127, multiplier 127/amax, round half to even), which differ from the file
 * quantizers above (1/d, roundf). llama.cpp quantizes activations this way, so we must too. */
void chord_quant_q8_0_act(const float *x, void *dst, int64_t n) {
    chord_block_q8_0 *y = dst;
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        const float amax = block_amax(x, 32);
        const float d = amax / 127.f, id = amax != 0.0f ? 127.f / amax : 0.0f;
        y[i].d = chord_fp32_to_fp16(d);
        for (int j = 0; j < 32; j++) y[i].qs[j] = (int8_t)nearest_even(x[j] * id);
    }
}

void chord_quant_q8_1_act(const float *x, void *dst, int64_t n) {
    chord_block_q8_1 *y = dst;
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        const float amax = block_amax(x, 32);
        const float d = amax / 127.f, id = amax != 0.0f ? 127.f / amax : 0.0f;
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            int q = nearest_even(x[j] * id);
            y[i].qs[j] = (int8_t)q;
            sum += q;
        }
        y[i].d = chord_fp32_to_fp16(d);
        y[i].s = chord_fp32_to_fp16(d * (float)sum);
    }
}
