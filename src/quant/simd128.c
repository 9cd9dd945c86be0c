/*
 * simd128.c — WebAssembly SIMD kernels (simd128; with -mrelaxed-simd the integer dots use
 * i32x4.relaxed_dot_i8x16_i7x16_add, or i16x8.relaxed_dot_i8x16_i7x16 for Q4_K..Q6_K) for the dot products of F32, F16, Q4_0, Q4_1, Q5_0,
 * Q5_1, Q8_0 and the K-quants Q2_K..Q6_K. Only wasm builds compile this file (with -DCHORD_QUANT_EXTRA_ISA, so
 * that chord_quant_init calls chord_quant_install_isa below to point the traits at them).
 *
 * Why the odd shapes: the native build runs the AVX2 kernels (src/quant/avx2.c), and greedy
 * tokens must come out the same on every target. So these kernels reproduce the AVX2 kernels'
 * arithmetic: the same exact integer sums in the same eight 32-bit lanes (lane k of a 32-byte
 * group = bytes 4k..4k+3, times the same scales), the same float lanes and accumulator chains,
 * and the same horizontal-sum order. Q4_0 and Q8_0 (like every 32-element type) scale and add
 * each lane as a multiply and then an add, ref.c's canonical order, so they are exact here
 * without FMA. The K-quants accumulate with fused multiply-add as AVX2 does, which simd128
 * lacks (relaxed madd may or may not fuse): fma4 computes a*b + c in double — the product of two
 * floats is exact there — and rounds once to float, which equals the fused result except when
 * the double sum lands exactly on a float rounding midpoint (double rounding; vanishingly rare).
 * Without this, a TinyLlama-shaped Q4_K_M model diverged from native at the 7th greedy token.
 * An 8-lane AVX2 register is a pair of v128 here (lo = lanes 0..3, hi = 4..7).
 */
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#include <stdint.h>
#include <string.h>
#include "quant/quant.h"
#include "quant/blocks.h"
#include "quant/kernels.h"

/* Full unrolling makes the shift counts constants (immediate-count shifts are much cheaper). */
#define UNROLL _Pragma("clang loop unroll(full)")

typedef struct { v128_t lo, hi; } v8f; /* 8 float lanes */
typedef struct { v128_t lo, hi; } v8i; /* 8 int32 lanes */

/* fp16 → fp32 exactly, inline (a call per block scale costs more than the block's SIMD work):
 * the exponent/mantissa bits shifted into place times 2^112 rebias normals and subnormals. */
static inline float h2f(uint16_t h) {
    const uint32_t em = h & 0x7fffu, sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t bits;
    if (em >= 0x7c00u) {
        bits = sign | 0x7f800000u | (em << 13);
    } else {
        float f;
        uint32_t u = em << 13;
        memcpy(&f, &u, 4);
        f *= 0x1p112f;
        memcpy(&bits, &f, 4);
        bits |= sign;
    }
    float r;
    memcpy(&r, &bits, 4);
    return r;
}

/* 4 fp16 (zero-extended in u32 lanes) to fp32, exactly (normals, subnormals, inf, NaN). */
static inline v128_t f16x4_to_f32(v128_t h) {
    const v128_t em = wasm_v128_and(h, wasm_i32x4_splat(0x7fff));
    const v128_t sign = wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x8000)), 16);
    const v128_t scaled = wasm_f32x4_mul(wasm_i32x4_shl(em, 13), wasm_f32x4_splat(0x1p112f));
    const v128_t infnan = wasm_v128_or(wasm_i32x4_shl(em, 13), wasm_i32x4_splat(0x7f800000));
    const v128_t is_infnan = wasm_i32x4_ge(em, wasm_i32x4_splat(0x7c00));
    return wasm_v128_or(sign, wasm_v128_bitselect(infnan, scaled, is_infnan));
}
static inline v128_t load_f16x4(const uint16_t *p) { return f16x4_to_f32(wasm_u32x4_load16x4(p)); }

/* Adjacent int32 lanes of a | b summed: 4-byte-group lanes (a = bytes 0..7, b = 8..15). */
static inline v128_t pair_sum(v128_t a, v128_t b) {
    return wasm_i32x4_add(wasm_i32x4_shuffle(a, b, 0, 2, 4, 6), wasm_i32x4_shuffle(a, b, 1, 3, 5, 7));
}

/* Byte-wise shifts by 16-bit shifts where a mask follows: x86 has no byte shifts, so V8 emits
 * i8x16.shr_u / shl as a 16-bit shift plus a mask it builds each time (about 5 instructions);
 * the bits a 16-bit shift carries across bytes all fall outside the mask that follows. */
/* the high nibble of every byte */
static inline v128_t hi_nib(v128_t b) { return wasm_v128_and(wasm_u16x8_shr(b, 4), wasm_i8x16_splat(0x0f)); }
/* Q6_K: bits sh, sh+1 (sh = 0, 2, 4, 6) of every byte moved to bits 4, 5 */
static inline v128_t q6_hbits(v128_t h, int sh) {
    const v128_t t = sh < 4 ? wasm_i16x8_shl(h, (uint32_t)(4 - sh)) : wasm_u16x8_shr(h, (uint32_t)(sh - 4));
    return wasm_v128_and(t, wasm_i8x16_splat(0x30));
}

/* The 8 six-bit sub-block scales (u16 lanes of *sc) and mins (*mn) of a Q4_K/Q5_K block from its
 * 12 packed bytes (see chord_k_scale_min), in SIMD: 32-bit words u0..u2 become
 * [u0 & 0x3f.., (u2 & 0x0f..) | hi2(u0), u1 & 0x3f.., ((u2 >> 4) & 0x0f..) | hi2(u1)], where hi2
 * moves each byte's top 2 bits to bits 4..5. The same bytes as the scalar unpacking it replaced
 * (words written to an array and read back as bytes): +4% Q4_K relaxed in Chromium, interleaved
 * A/B. Reads 16 bytes: the 4 after the scales are the block's own qh/qs. */
static inline void k45_scales(const uint8_t *scales, v128_t *sc, v128_t *mn) {
    const v128_t v = wasm_v128_load(scales);
    const v128_t a = wasm_i32x4_shuffle(v, v, 0, 2, 1, 2);
    const v128_t lo = wasm_v128_and(wasm_i32x4_shuffle(a, wasm_u32x4_shr(a, 4), 0, 1, 2, 7),
                                    wasm_i32x4_make(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f));
    const v128_t hi = wasm_v128_and(wasm_u32x4_shr(wasm_i32x4_shuffle(v, v, 0, 0, 1, 1), 2),
                                    wasm_i32x4_make(0, 0x30303030, 0, 0x30303030));
    const v128_t r = wasm_v128_or(lo, hi);
    *sc = wasm_u16x8_extend_low_u8x16(r);
    *mn = wasm_u16x8_extend_high_u8x16(r);
}

/* fma4, dot4_i8/dot4_u8, the K-quant accumulator kacc and k45_step: one definition per build. */
#if defined(__wasm_relaxed_simd__)
#include "quant/simd128_relaxed.h"
#else
#include "quant/simd128_plain.h"
#endif


/* AVX2 hsum_ps order: (lo + hi), then lanes (0+2, 1+3), then the two. */
static inline float hsum8(v8f v) {
    const v128_t s = wasm_f32x4_add(v.lo, v.hi);
    const float a = wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 2);
    const float b = wasm_f32x4_extract_lane(s, 1) + wasm_f32x4_extract_lane(s, 3);
    return a + b;
}
static inline float hsum4(v128_t s) {
    const float a = wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 2);
    const float b = wasm_f32x4_extract_lane(s, 1) + wasm_f32x4_extract_lane(s, 3);
    return a + b;
}

/* fma(d, float(v), acc), lane-wise */
static inline v8f acc_scaled(v8f acc, float d, v8i v) {
    const v128_t dd = wasm_f32x4_splat(d);
    acc.lo = fma4(dd, wasm_f32x4_convert_i32x4(v.lo), acc.lo);
    acc.hi = fma4(dd, wasm_f32x4_convert_i32x4(v.hi), acc.hi);
    return acc;
}



/* acc + d * float(v), lane-wise, as a multiply and then an add (never fused): the canonical order
 * of the 32-element types (ref.c's acc32), which needs no FMA, so plain simd128 is exact without
 * emulation. */
static inline v8f acc32_v(v8f acc, v128_t dd, v8i v) {
    acc.lo = wasm_f32x4_add(acc.lo, wasm_f32x4_mul(dd, wasm_f32x4_convert_i32x4(v.lo)));
    acc.hi = wasm_f32x4_add(acc.hi, wasm_f32x4_mul(dd, wasm_f32x4_convert_i32x4(v.hi)));
    return acc;
}
static inline v8f acc32(v8f acc, float d, v8i v) { return acc32_v(acc, wasm_f32x4_splat(d), v); }


/* ---- float types ------------------------------------------------------------------------ */

#define F8_ZERO ((v8f){ wasm_f32x4_splat(0), wasm_f32x4_splat(0) })
static inline v8f fmadd8(v8f acc, v128_t xl, v128_t xh, v128_t yl, v128_t yh) {
    acc.lo = fma4(xl, yl, acc.lo);
    acc.hi = fma4(xh, yh, acc.hi);
    return acc;
}
static inline v8f add8(v8f a, v8f b) { return (v8f){ wasm_f32x4_add(a.lo, b.lo), wasm_f32x4_add(a.hi, b.hi) }; }

float chord_dot_f32_simd128(int64_t n, const void *vx, const void *vy) {
    const float *x = vx, *y = vy;
    v8f a[4] = { F8_ZERO, F8_ZERO, F8_ZERO, F8_ZERO };
    int64_t i = 0;
#define LD(p) wasm_v128_load(p)
    for (; i + 32 <= n; i += 32)
        for (int k = 0; k < 4; k++)
            a[k] = fmadd8(a[k], LD(x + i + 8 * k), LD(x + i + 8 * k + 4), LD(y + i + 8 * k), LD(y + i + 8 * k + 4));
    for (; i + 8 <= n; i += 8) a[0] = fmadd8(a[0], LD(x + i), LD(x + i + 4), LD(y + i), LD(y + i + 4));
#undef LD
    float s = hsum8(add8(add8(a[0], a[1]), add8(a[2], a[3])));
    for (; i < n; i++) s += x[i] * y[i];
    return s;
}

float chord_dot_f16_simd128(int64_t n, const void *vx, const void *vy) {
    const uint16_t *x = vx, *y = vy;
    v8f a[4] = { F8_ZERO, F8_ZERO, F8_ZERO, F8_ZERO };
    int64_t i = 0;
#define LD(p) load_f16x4(p)
    for (; i + 32 <= n; i += 32)
        for (int k = 0; k < 4; k++)
            a[k] = fmadd8(a[k], LD(x + i + 8 * k), LD(x + i + 8 * k + 4), LD(y + i + 8 * k), LD(y + i + 8 * k + 4));
    for (; i + 8 <= n; i += 8) a[0] = fmadd8(a[0], LD(x + i), LD(x + i + 4), LD(y + i), LD(y + i + 4));
#undef LD
    float s = hsum8(add8(add8(a[0], a[1]), add8(a[2], a[3])));
    for (; i < n; i++) s += h2f(x[i]) * h2f(y[i]);
    return s;
}

/* ---- fp16 conversions (the F16 KV cache: attention converts every cached row it reads) --------
 * Both are bit-identical to the scalar chord_fp16_to_fp32 / chord_fp32_to_fp16 for every input
 * (tests/wasm_test_quant.c: all 65536 halves; floats on a stride over all 2^32 patterns plus the
 * rounding boundaries). wasm has no fp16 instructions; scalar they cost ~18% of a decode step. */

/* f16x4_to_f32 with NaN made quiet, as chord_fp16_to_fp32 does. */
static inline v128_t f16x4_to_f32_q(v128_t h) {
    const v128_t em = wasm_v128_and(h, wasm_i32x4_splat(0x7fff));
    const v128_t quiet = wasm_v128_and(wasm_i32x4_gt(em, wasm_i32x4_splat(0x7c00)), wasm_i32x4_splat(0x00400000));
    return wasm_v128_or(f16x4_to_f32(h), quiet);
}

void chord_dequant_f16_simd128(const void *src, float *dst, int64_t n) {
    const uint16_t *h = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const v128_t v = wasm_v128_load(h + i);
        wasm_v128_store(dst + i, f16x4_to_f32_q(wasm_u32x4_extend_low_u16x8(v)));
        wasm_v128_store(dst + i + 4, f16x4_to_f32_q(wasm_u32x4_extend_high_u16x8(v)));
    }
    for (; i < n; i++) dst[i] = chord_fp16_to_fp32(h[i]);
}

/* 4 floats to fp16 (in u32 lanes), round to nearest even: ggml's bit trick for CPUs without F16C.
 * base = |x|·2^112·2^-110 (= 4|x|; the first product overflows to inf from |x| ≥ 2^16, which must
 * become inf). Adding 2^(e+15), e = x's exponent floored at -14 (the smallest normal half's),
 * leaves exactly the half's 10 mantissa bits (or its subnormal step) in the sum, rounded to
 * nearest even by the float adder; the half's exponent and mantissa are then read off its bits. */
static inline v128_t f32x4_to_f16(v128_t x) {
    const v128_t shl1 = wasm_i32x4_add(x, x);
    const v128_t sign = wasm_u32x4_shr(wasm_v128_and(x, wasm_i32x4_splat((int32_t)0x80000000u)), 16);
    v128_t base = wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_abs(x), wasm_f32x4_splat(0x1p112f)), wasm_f32x4_splat(0x1p-110f));
    const v128_t bias = wasm_u32x4_max(wasm_v128_and(shl1, wasm_i32x4_splat((int32_t)0xff000000u)), wasm_i32x4_splat(0x71000000));
    base = wasm_f32x4_add(wasm_i32x4_add(wasm_u32x4_shr(bias, 1), wasm_i32x4_splat(0x07800000)), base);
    const v128_t nonsign = wasm_i32x4_add(wasm_v128_and(wasm_u32x4_shr(base, 13), wasm_i32x4_splat(0x7c00)),
                                          wasm_v128_and(base, wasm_i32x4_splat(0x0fff)));
    const v128_t nan = wasm_u32x4_gt(shl1, wasm_i32x4_splat((int32_t)0xff000000u));
    return wasm_v128_or(sign, wasm_v128_bitselect(wasm_i32x4_splat(0x7e00), nonsign, nan));
}

void chord_quant_f16_simd128(const float *src, void *dst, int64_t n) {
    uint16_t *h = dst;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        wasm_v128_store(h + i, wasm_u16x8_narrow_i32x4(f32x4_to_f16(wasm_v128_load(src + i)),
                                                       f32x4_to_f16(wasm_v128_load(src + i + 4))));
    for (; i < n; i++) h[i] = chord_fp32_to_fp16(src[i]);
}

/* ---- 32-element block types ------------------------------------------------------------- */

static inline v8i dot32_i8(const v128_t x0, const v128_t x1, const int8_t *y) {
    return (v8i){ dot4_i8(x0, wasm_v128_load(y)), dot4_i8(x1, wasm_v128_load(y + 16)) };
}
/* The same with x's halves prepared once for several activation rows (multi-row kernels). */
static inline v8i dot32_p(const i8_prep x0, const i8_prep x1, const int8_t *y) {
    return (v8i){ dot4_i8_p(x0, wasm_v128_load(y)), dot4_i8_p(x1, wasm_v128_load(y + 16)) };
}

/* One Q4_0 block's signed levels as two 16-byte halves (elements 0..15, 16..31). */
static inline void q4_0_levels(const chord_block_q4_0 *x, v128_t *lo, v128_t *hi) {
    const v128_t b = wasm_v128_load(x->qs), eight = wasm_i8x16_splat(8);
    *lo = wasm_i8x16_sub(wasm_v128_and(b, wasm_i8x16_splat(0x0f)), eight);
    *hi = wasm_i8x16_sub(hi_nib(b), eight);
}

float chord_dot_q4_0_simd128(int64_t n, const void *vx, const void *vy) {
    const chord_block_q4_0 *x = vx;
    const chord_block_q8_0 *y = vy;
    const int64_t nb = n / QK4_0;
    v8f acc0 = F8_ZERO, acc1 = F8_ZERO;  /* even and odd blocks (ref.c's acc32) */
    v128_t lo, hi;
    int64_t i = 0;
    for (; i + 2 <= nb; i += 2) {
        q4_0_levels(&x[i], &lo, &hi);
        acc0 = acc32(acc0, h2f(x[i].d) * h2f(y[i].d), dot32_i8(lo, hi, y[i].qs));
        q4_0_levels(&x[i + 1], &lo, &hi);
        acc1 = acc32(acc1, h2f(x[i + 1].d) * h2f(y[i + 1].d), dot32_i8(lo, hi, y[i + 1].qs));
    }
    if (i < nb) {
        q4_0_levels(&x[i], &lo, &hi);
        acc0 = acc32(acc0, h2f(x[i].d) * h2f(y[i].d), dot32_i8(lo, hi, y[i].qs));
    }
    return hsum8(add8(acc0, acc1));
}

#define LANE4(v, k) wasm_i32x4_shuffle(v, v, k, k, k, k)

/* 4 fp16 scales (at a, b, c, d) zero-extended into u32 lanes by four lane loads: wasm_u32x4_make
 * of the four loads cost a scalar load plus an insert each (Q8_0 +12% single-row in Chromium). */
static inline v128_t d4_of(const uint16_t *a, const uint16_t *b, const uint16_t *c, const uint16_t *d) {
    v128_t v = wasm_i32x4_splat(0);
    v = wasm_v128_load16_lane(a, v, 0);
    v = wasm_v128_load16_lane(b, v, 2);
    v = wasm_v128_load16_lane(c, v, 4);
    return wasm_v128_load16_lane(d, v, 6);
}
/* With Q8_BATCH_SCALES (the relaxed build: +9% in Chromium, while plain simd128 lost 8-10% in
 * Chromium and Node 20, interleaved A/B) the block scales h2f(x.d)·h2f(y.d) of 4 blocks are
 * formed at once (the same products, converted in SIMD); blocks still go to acc0/acc1
 * alternately, in order, so the result is the same either way. */
float chord_dot_q8_0_simd128(int64_t n, const void *vx, const void *vy) {
    const chord_block_q8_0 *x = vx, *y = vy;
    v8f acc0 = F8_ZERO, acc1 = F8_ZERO;
    int64_t i = 0, nb = n / QK8_0;
#define Q8_DOT(k) dot32_i8(wasm_v128_load(x[k].qs), wasm_v128_load(x[k].qs + 16), y[k].qs)
    for (; Q8_BATCH_SCALES && i + 4 <= nb; i += 4) {
        const v128_t dd = wasm_f32x4_mul(f16x4_to_f32(d4_of(&x[i].d, &x[i + 1].d, &x[i + 2].d, &x[i + 3].d)),
                                         f16x4_to_f32(d4_of(&y[i].d, &y[i + 1].d, &y[i + 2].d, &y[i + 3].d)));
        acc0 = acc32_v(acc0, LANE4(dd, 0), Q8_DOT(i));
        acc1 = acc32_v(acc1, LANE4(dd, 1), Q8_DOT(i + 1));
        acc0 = acc32_v(acc0, LANE4(dd, 2), Q8_DOT(i + 2));
        acc1 = acc32_v(acc1, LANE4(dd, 3), Q8_DOT(i + 3));
    }
#undef Q8_DOT
    for (; i + 2 <= nb; i += 2) {
        acc0 = acc32(acc0, h2f(x[i].d) * h2f(y[i].d),
                          dot32_i8(wasm_v128_load(x[i].qs), wasm_v128_load(x[i].qs + 16), y[i].qs));
        acc1 = acc32(acc1, h2f(x[i + 1].d) * h2f(y[i + 1].d),
                          dot32_i8(wasm_v128_load(x[i + 1].qs), wasm_v128_load(x[i + 1].qs + 16), y[i + 1].qs));
    }
    for (; i < nb; i++)
        acc0 = acc32(acc0, h2f(x[i].d) * h2f(y[i].d),
                          dot32_i8(wasm_v128_load(x[i].qs), wasm_v128_load(x[i].qs + 16), y[i].qs));
    return hsum8(add8(acc0, acc1));
}

/* Q4_1, Q5_0, Q5_1: one block's levels (two 16-byte halves: elements 0..15, 16..31), then the
 * same even/odd accumulator pair as Q4_0; the *_1 types add the min term m_x * s_y of every block
 * in block order (ref.c's acc32). */

/* Bit 4 of each element of a Q5 block (qh, little-endian u32: bit j = element j) as byte masks,
 * 0xFF where set: elements 0..15 in *m0, 16..31 in *m1. */
static inline void q5_masks(const uint8_t *qh, v128_t *m0, v128_t *m1) {
    uint32_t h;
    memcpy(&h, qh, 4);
    const v128_t v = wasm_i32x4_splat((int32_t)h), sel = wasm_i64x2_splat((int64_t)0x8040201008040201ll);
    *m0 = wasm_i8x16_eq(wasm_v128_and(wasm_i8x16_shuffle(v, v, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1), sel), sel);
    *m1 = wasm_i8x16_eq(wasm_v128_and(wasm_i8x16_shuffle(v, v, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3), sel), sel);
}

static inline v8i int_q4_1(const chord_block_q4_1 *x, const int8_t *y) {
    const v128_t b = wasm_v128_load(x->qs);
    return (v8i){ dot4_u8(wasm_v128_and(b, wasm_i8x16_splat(0x0f)), wasm_v128_load(y)), dot4_u8(hi_nib(b), wasm_v128_load(y + 16)) };
}
static inline v8i int_q5_0(const chord_block_q5_0 *x, const int8_t *y) {
    const v128_t b = wasm_v128_load(x->qs), f0 = wasm_i8x16_splat((int8_t)0xF0);
    v128_t m0, m1;
    q5_masks(x->qh, &m0, &m1);
    /* (nibble | bit4 << 4) - 16 == nibble when bit 4 is set, nibble | 0xF0 (nibble - 16) when not */
    const v128_t lo = wasm_v128_or(wasm_v128_and(b, wasm_i8x16_splat(0x0f)), wasm_v128_andnot(f0, m0));
    const v128_t hi = wasm_v128_or(hi_nib(b), wasm_v128_andnot(f0, m1));
    return dot32_i8(lo, hi, y);
}
static inline v8i int_q5_1(const chord_block_q5_1 *x, const int8_t *y) {
    const v128_t b = wasm_v128_load(x->qs), b4 = wasm_i8x16_splat(0x10);
    v128_t m0, m1;
    q5_masks(x->qh, &m0, &m1);
    const v128_t lo = wasm_v128_or(wasm_v128_and(b, wasm_i8x16_splat(0x0f)), wasm_v128_and(m0, b4));
    const v128_t hi = wasm_v128_or(hi_nib(b), wasm_v128_and(m1, b4));
    return (v8i){ dot4_u8(lo, wasm_v128_load(y)), dot4_u8(hi, wasm_v128_load(y + 16)) };
}

#define MIN_NONE(x, y) 0.0f /* folded away below: no scalar add chain for the _0 types */
#define MIN_Q81(x, y) h2f((x).m) * h2f((y).s)
#define DOT32_KERNEL(name, TX, TY, INT, MIN, HAS_MIN)                                                        \
    float chord_dot_##name##_simd128(int64_t n, const void *vx, const void *vy) {                     \
        const TX *x = vx;                                                                             \
        const TY *y = vy;                                                                             \
        const int64_t nb = n / 32;                                                                    \
        v8f acc0 = F8_ZERO, acc1 = F8_ZERO;                                                           \
        float mins = 0.0f;                                                                            \
        int64_t i = 0;                                                                                \
        for (; i + 2 <= nb; i += 2) {                                                                 \
            acc0 = acc32(acc0, h2f(x[i].d) * h2f(y[i].d), INT(&x[i], y[i].qs));                       \
            if (HAS_MIN) mins = mins + MIN(x[i], y[i]);                                               \
            acc1 = acc32(acc1, h2f(x[i + 1].d) * h2f(y[i + 1].d), INT(&x[i + 1], y[i + 1].qs));       \
            if (HAS_MIN) mins = mins + MIN(x[i + 1], y[i + 1]);                                       \
        }                                                                                             \
        if (i < nb) {                                                                                 \
            acc0 = acc32(acc0, h2f(x[i].d) * h2f(y[i].d), INT(&x[i], y[i].qs));                       \
            if (HAS_MIN) mins = mins + MIN(x[i], y[i]);                                               \
        }                                                                                             \
        return hsum8(add8(acc0, acc1)) + mins;                                                        \
    }
DOT32_KERNEL(q4_1, chord_block_q4_1, chord_block_q8_1, int_q4_1, MIN_Q81, 1)
DOT32_KERNEL(q5_0, chord_block_q5_0, chord_block_q8_0, int_q5_0, MIN_NONE, 0)
DOT32_KERNEL(q5_1, chord_block_q5_1, chord_block_q8_1, int_q5_1, MIN_Q81, 1)
#undef DOT32_KERNEL
#undef MIN_NONE
#undef MIN_Q81

/* ---- K-quants --------------------------------------------------------------------------- */

/* sumi += scale_lo * dot(q[0..15], y[0..15]) | scale_hi * dot(q[16..31], y[16..31]) with
 * unsigned levels q: the AVX2 maddubs + madd(scale) lane layout. */
static inline v8i add_scaled_u8(v8i s, const v128_t q0, const v128_t q1, const int8_t *y, int32_t sc_lo, int32_t sc_hi) {
    s.lo = wasm_i32x4_add(s.lo, wasm_i32x4_mul(dot4_u8(q0, wasm_v128_load(y)), wasm_i32x4_splat(sc_lo)));
    s.hi = wasm_i32x4_add(s.hi, wasm_i32x4_mul(dot4_u8(q1, wasm_v128_load(y + 16)), wasm_i32x4_splat(sc_hi)));
    return s;
}

/* Q4_K, Q5_K and Q6_K (Q4_K and Q6_K are the hot pair: the types of Q4_K_M models), with the integer part regrouped.
 * Only the exact int32 sums move; each block still ends in the same eight sumi lanes, converted
 * and fma'd into the same float lanes in the same order as the AVX2 kernel. The accumulator
 * (kacc) and the 64-element step (k45_step) differ per build: simd128_relaxed.h, simd128_plain.h. */

/* i16 lane j of v in every lane */
#define BCAST16(v, j) wasm_i16x8_shuffle(v, v, j, j, j, j, j, j, j, j)

/* The fields of Q4_K / Q5_K block i (qh = NULL for Q4_K): the two differ only by the high bits. */
static inline void k45_block(const void *vx, int64_t i, int five, const uint8_t **scales, const uint8_t **qs,
                             const uint8_t **qh, uint16_t *dh, uint16_t *dminh) {
    if (five) {
        const chord_block_q5_K *x = (const chord_block_q5_K *)vx + i;
        *scales = x->scales; *qs = x->qs; *qh = x->qh; *dh = x->d; *dminh = x->dmin;
    } else {
        const chord_block_q4_K *x = (const chord_block_q4_K *)vx + i;
        *scales = x->scales; *qs = x->qs; *qh = NULL; *dh = x->d; *dminh = x->dmin;
    }
}

/* The j loops stay rolled (scales rotate through lane 0, high bits shift down by 2 each step):
 * V8 ran the fully unrolled versions 25-35% slower. Plain simd128 widens the packed bytes to i16
 * once and takes both nibbles from there (i16 shifts are native on x86, i8x16 shifts are not). */
static inline float dot_k45(int64_t n, const void *vx, const void *vy, int five) {
    const chord_block_q8_K *y = vy;
    v8f acc = F8_ZERO;
    v128_t acc_m = wasm_f32x4_splat(0);
    for (int64_t i = 0; i < n / QK_K; i++) {
        const uint8_t *scales, *qs, *qh;
        uint16_t dh, dminh;
        k45_block(vx, i, five, &scales, &qs, &qh, &dh, &dminh);
        const float d = y[i].d * h2f(dh), dmin = -y[i].d * h2f(dminh);
        v128_t sc, mn;
        k45_scales(scales, &sc, &mn);
        /* min term: lane q = m[2q]·pair[2q] + m[2q+1]·pair[2q+1], pair[j] = bsums 2j + 2j+1 */
        const v128_t p0 = wasm_i32x4_dot_i16x8(wasm_v128_load(y[i].bsums), wasm_i16x8_shuffle(mn, mn, 0, 0, 1, 1, 2, 2, 3, 3));
        const v128_t p1 = wasm_i32x4_dot_i16x8(wasm_v128_load(y[i].bsums + 8), wasm_i16x8_shuffle(mn, mn, 4, 4, 5, 5, 6, 6, 7, 7));
        acc_m = fma4(wasm_f32x4_splat(dmin), wasm_f32x4_convert_i32x4(pair_sum(p0, p1)), acc_m);
        const int8_t *q8 = y[i].qs;
        kacc s = kacc_zero();
        v128_t h0 = wasm_i32x4_splat(0), h1 = h0;
        if (five) { h0 = wasm_v128_load(qh); h1 = wasm_v128_load(qh + 16); }
        k45_high hb = k45_high_init(h0, h1);
#pragma clang loop unroll(disable)
        for (int j = 0; j < 4; j++, qs += 32, q8 += 64) {
            const v128_t b0 = wasm_v128_load(qs), b1 = wasm_v128_load(qs + 16);
            const v128_t sl = wasm_i16x8_splat(wasm_i16x8_extract_lane(sc, 0)), su = wasm_i16x8_splat(wasm_i16x8_extract_lane(sc, 1));
            sc = wasm_i32x4_shuffle(sc, sc, 1, 2, 3, 0);
            s = k45_step(s, &hb, b0, b1, q8, sl, su, five);
        }
        acc = acc_scaled(acc, d, kacc_get(s));
    }
    return hsum8(acc) + hsum4(acc_m);
}

float chord_dot_q4_K_simd128(int64_t n, const void *vx, const void *vy) { return dot_k45(n, vx, vy, 0); }
float chord_dot_q5_K_simd128(int64_t n, const void *vx, const void *vy) { return dot_k45(n, vx, vy, 1); }

float chord_dot_q6_K_simd128(int64_t n, const void *vx, const void *vy) {
    const chord_block_q6_K *x = vx;
    const chord_block_q8_K *y = vy;
    const v128_t m4 = wasm_i8x16_splat(0x0f);
    v8f acc = F8_ZERO;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d = y[i].d * h2f(x[i].d);
        const v128_t sc8 = wasm_v128_load(x[i].scales);
        const v128_t sca = wasm_i16x8_extend_low_i8x16(sc8), scb = wasm_i16x8_extend_high_i8x16(sc8);
        /* the -32 offset: lane m = 32·(bsums[2m]·sc[2m] + bsums[2m+1]·sc[2m+1]) */
        const v128_t sub0 = wasm_i32x4_shl(wasm_i32x4_dot_i16x8(wasm_v128_load(y[i].bsums), sca), 5);
        const v128_t sub1 = wasm_i32x4_shl(wasm_i32x4_dot_i16x8(wasm_v128_load(y[i].bsums + 8), scb), 5);
        const uint8_t *ql = x[i].ql, *qh = x[i].qh;
        const int8_t *q8 = y[i].qs;
        kacc s = kacc_zero();
#define HB(h, sh) q6_hbits(h, sh)
#define Q6K_HALF(j, scv)                                                                                  \
        do {                                                                                              \
            const v128_t l0a = wasm_v128_load(ql + 64 * (j)), l0b = wasm_v128_load(ql + 64 * (j) + 16);     \
            const v128_t l1a = wasm_v128_load(ql + 64 * (j) + 32), l1b = wasm_v128_load(ql + 64 * (j) + 48);\
            const v128_t ha = wasm_v128_load(qh + 32 * (j)), hb = wasm_v128_load(qh + 32 * (j) + 16);       \
            const int8_t *yy = q8 + 128 * (j);                                                            \
            s = kacc_add(s, wasm_v128_or(wasm_v128_and(l0a, m4), HB(ha, 0)),                              \
                         wasm_v128_or(wasm_v128_and(l0b, m4), HB(hb, 0)), yy, BCAST16(scv, 0), BCAST16(scv, 1)); \
            s = kacc_add(s, wasm_v128_or(wasm_v128_and(l1a, m4), HB(ha, 2)),                              \
                         wasm_v128_or(wasm_v128_and(l1b, m4), HB(hb, 2)), yy + 32, BCAST16(scv, 2), BCAST16(scv, 3)); \
            s = kacc_add(s, wasm_v128_or(hi_nib(l0a), HB(ha, 4)),                              \
                         wasm_v128_or(hi_nib(l0b), HB(hb, 4)), yy + 64, BCAST16(scv, 4), BCAST16(scv, 5)); \
            s = kacc_add(s, wasm_v128_or(hi_nib(l1a), HB(ha, 6)),                              \
                         wasm_v128_or(hi_nib(l1b), HB(hb, 6)), yy + 96, BCAST16(scv, 6), BCAST16(scv, 7)); \
        } while (0)
        v128_t scv = sca;
#pragma clang loop unroll(disable)
        for (int j = 0; j < 2; j++, ql += 64, qh += 32, q8 += 128) {
            Q6K_HALF(0, scv);
            scv = scb;
        }
#undef Q6K_HALF
#undef HB
        v8i sumi = kacc_get(s);
        sumi.lo = wasm_i32x4_sub(sumi.lo, sub0);
        sumi.hi = wasm_i32x4_sub(sumi.hi, sub1);
        acc = acc_scaled(acc, d, sumi);
    }
    return hsum8(acc);
}

float chord_dot_q2_K_simd128(int64_t n, const void *vx, const void *vy) {
    const chord_block_q2_K *x = vx;
    const chord_block_q8_K *y = vy;
    const v128_t m3 = wasm_i8x16_splat(3);
    v8f acc = F8_ZERO;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d = y[i].d * h2f(x[i].d), dmin = -y[i].d * h2f(x[i].dmin);
        const uint8_t *sm = x[i].scales;
        int32_t prod[8];
        for (int m = 0; m < 8; m++)
            prod[m] = (sm[2 * m] >> 4) * y[i].bsums[2 * m] + (sm[2 * m + 1] >> 4) * y[i].bsums[2 * m + 1];
        acc = acc_scaled(acc, dmin, (v8i){ wasm_v128_load(prod), wasm_v128_load(prod + 4) });
        const uint8_t *q2 = x[i].qs;
        const int8_t *q8 = y[i].qs;
        v8i sumi = { wasm_i32x4_splat(0), wasm_i32x4_splat(0) };
        UNROLL
        for (int j = 0; j < 2; j++, q2 += 32) {
            const v128_t b0 = wasm_v128_load(q2), b1 = wasm_v128_load(q2 + 16);
            UNROLL
            for (int k = 0; k < 4; k++, q8 += 32) {
                const v128_t q0 = wasm_v128_and(wasm_u16x8_shr(b0, 2 * k), m3);
                const v128_t q1 = wasm_v128_and(wasm_u16x8_shr(b1, 2 * k), m3);
                sumi = add_scaled_u8(sumi, q0, q1, q8, sm[8 * j + 2 * k] & 0xf, sm[8 * j + 2 * k + 1] & 0xf);
            }
        }
        acc = acc_scaled(acc, d, sumi);
    }
    return hsum8(acc);
}

/* The 16 Q3_K sub-block scales (6-bit, minus 32). */
static inline void q3k_scales(const uint8_t *s, int8_t *out) {
    uint32_t a[3];
    memcpy(a, s, 12);
    const uint32_t m2 = 0x0f0f0f0f, m1 = 0x03030303;
    uint32_t r[4] = { (a[0] & m2) | ((a[2] & m1) << 4), (a[1] & m2) | (((a[2] >> 2) & m1) << 4),
                      ((a[0] >> 4) & m2) | (((a[2] >> 4) & m1) << 4), ((a[1] >> 4) & m2) | (((a[2] >> 6) & m1) << 4) };
    memcpy(out, r, 16);
    for (int k = 0; k < 16; k++) out[k] = (int8_t)(out[k] - 32);
}

/* Signed levels in [-4, 3] (never -128): dot4_i8 handles them. */
float chord_dot_q3_K_simd128(int64_t n, const void *vx, const void *vy) {
    const chord_block_q3_K *x = vx;
    const chord_block_q8_K *y = vy;
    const v128_t m3 = wasm_i8x16_splat(3), one = wasm_i8x16_splat(1);
    v8f acc = F8_ZERO;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d = y[i].d * h2f(x[i].d);
        int8_t sc[16];
        q3k_scales(x[i].scales, sc);
        const v128_t hb0 = wasm_v128_load(x[i].hmask), hb1 = wasm_v128_load(x[i].hmask + 16);
        const uint8_t *q3 = x[i].qs;
        const int8_t *q8 = y[i].qs;
        v8i sumi = { wasm_i32x4_splat(0), wasm_i32x4_splat(0) };
        UNROLL
        for (int j = 0; j < 2; j++, q3 += 32) {
            const v128_t b0 = wasm_v128_load(q3), b1 = wasm_v128_load(q3 + 16);
            UNROLL
            for (int k = 0; k < 4; k++, q8 += 32) {
                const int b = 4 * j + k;
                /* level = low 2 bits, minus 4 where the hmask bit is clear */
                const v128_t h0 = wasm_i16x8_shl(wasm_v128_andnot(one, wasm_u16x8_shr(hb0, b)), 2);
                const v128_t h1 = wasm_i16x8_shl(wasm_v128_andnot(one, wasm_u16x8_shr(hb1, b)), 2);
                const v128_t q0 = wasm_i8x16_sub(wasm_v128_and(wasm_u16x8_shr(b0, 2 * k), m3), h0);
                const v128_t q1 = wasm_i8x16_sub(wasm_v128_and(wasm_u16x8_shr(b1, 2 * k), m3), h1);
                sumi.lo = wasm_i32x4_add(sumi.lo, wasm_i32x4_mul(dot4_i8(q0, wasm_v128_load(q8)), wasm_i32x4_splat(sc[8 * j + 2 * k])));
                sumi.hi = wasm_i32x4_add(sumi.hi, wasm_i32x4_mul(dot4_i8(q1, wasm_v128_load(q8 + 16)), wasm_i32x4_splat(sc[8 * j + 2 * k + 1])));
            }
        }
        acc = acc_scaled(acc, d, sumi);
    }
    return hsum8(acc);
}

/* ---- multi-row kernels (prompt batches) ---------------------------------------------------
 * One weight row against ny activation rows (stride ys bytes), for the prompt batch's matrix
 * product: the weight bytes are loaded and unpacked (levels, scales, x's sign split) once for every
 * activation row. Each row keeps its own accumulators and performs exactly the float operations
 * of the single-row kernel in the same order, so out[r] is bit-identical to it (tested). At most
 * ROWS_MAX rows per pass (the accumulators of more rows would not fit V8's registers). */
#define ROWS_MAX 4
#define YROW(T, vy, ys, r) ((const T *)((const uint8_t *)(vy) + (uint64_t)(r) * (ys)))
#define ALWAYS_INLINE __attribute__((always_inline)) inline

static ALWAYS_INLINE void k45_rows(int64_t n, const void *vx, const void *vy, uint64_t ys, int ny, float *out, int five) {
    v8f acc[ROWS_MAX];
    v128_t acc_m[ROWS_MAX];
    for (int r = 0; r < ny; r++) { acc[r] = F8_ZERO; acc_m[r] = wasm_f32x4_splat(0); }
    for (int64_t i = 0; i < n / QK_K; i++) {
        const uint8_t *scales, *qs, *qh;
        uint16_t dh, dminh;
        k45_block(vx, i, five, &scales, &qs, &qh, &dh, &dminh);
        const float xd = h2f(dh), xm = h2f(dminh);
        v128_t sc, mn;
        k45_scales(scales, &sc, &mn);
        const v128_t mn0 = wasm_i16x8_shuffle(mn, mn, 0, 0, 1, 1, 2, 2, 3, 3);
        const v128_t mn1 = wasm_i16x8_shuffle(mn, mn, 4, 4, 5, 5, 6, 6, 7, 7);
        float d[ROWS_MAX];
        kacc s[ROWS_MAX];
        for (int r = 0; r < ny; r++) {
            const chord_block_q8_K *y = YROW(chord_block_q8_K, vy, ys, r) + i;
            d[r] = y->d * xd;
            const float dmin = -y->d * xm;
            const v128_t p0 = wasm_i32x4_dot_i16x8(wasm_v128_load(y->bsums), mn0);
            const v128_t p1 = wasm_i32x4_dot_i16x8(wasm_v128_load(y->bsums + 8), mn1);
            acc_m[r] = fma4(wasm_f32x4_splat(dmin), wasm_f32x4_convert_i32x4(pair_sum(p0, p1)), acc_m[r]);
            s[r] = kacc_zero();
        }
        v128_t h0 = wasm_i32x4_splat(0), h1 = h0;
        if (five) { h0 = wasm_v128_load(qh); h1 = wasm_v128_load(qh + 16); }
        k45_high hb = k45_high_init(h0, h1);
#pragma clang loop unroll(disable)
        for (int j = 0; j < 4; j++, qs += 32) {
            const v128_t b0 = wasm_v128_load(qs), b1 = wasm_v128_load(qs + 16);
            const v128_t sl = wasm_i16x8_splat(wasm_i16x8_extract_lane(sc, 0)), su = wasm_i16x8_splat(wasm_i16x8_extract_lane(sc, 1));
            sc = wasm_i32x4_shuffle(sc, sc, 1, 2, 3, 0);
            const k45_lv lv = k45_levels(&hb, b0, b1, five);
            for (int r = 0; r < ny; r++)
                s[r] = k45_acc(s[r], &lv, (YROW(chord_block_q8_K, vy, ys, r) + i)->qs + 64 * j, sl, su);
        }
        for (int r = 0; r < ny; r++) acc[r] = acc_scaled(acc[r], d[r], kacc_get(s[r]));
    }
    for (int r = 0; r < ny; r++) out[r] = hsum8(acc[r]) + hsum4(acc_m[r]);
}

static ALWAYS_INLINE void q6k_rows(int64_t n, const void *vx, const void *vy, uint64_t ys, int ny, float *out) {
    const chord_block_q6_K *x = vx;
    const v128_t m4 = wasm_i8x16_splat(0x0f);
    v8f acc[ROWS_MAX];
    for (int r = 0; r < ny; r++) acc[r] = F8_ZERO;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float xd = h2f(x[i].d);
        const v128_t sc8 = wasm_v128_load(x[i].scales);
        const v128_t sca = wasm_i16x8_extend_low_i8x16(sc8), scb = wasm_i16x8_extend_high_i8x16(sc8);
        const uint8_t *ql = x[i].ql, *qh = x[i].qh;
        kacc s[ROWS_MAX];
        for (int r = 0; r < ny; r++) s[r] = kacc_zero();
        v128_t scv = sca;
#define HB(h, sh) q6_hbits(h, sh)
#pragma clang loop unroll(disable)
        for (int j = 0; j < 2; j++, ql += 64, qh += 32) {
            const v128_t l0a = wasm_v128_load(ql), l0b = wasm_v128_load(ql + 16);
            const v128_t l1a = wasm_v128_load(ql + 32), l1b = wasm_v128_load(ql + 48);
            const v128_t ha = wasm_v128_load(qh), hb = wasm_v128_load(qh + 16);
            const int off = 128 * j;
            v128_t q0 = wasm_v128_or(wasm_v128_and(l0a, m4), HB(ha, 0)), q1 = wasm_v128_or(wasm_v128_and(l0b, m4), HB(hb, 0));
            for (int r = 0; r < ny; r++)
                s[r] = kacc_add(s[r], q0, q1, (YROW(chord_block_q8_K, vy, ys, r) + i)->qs + off, BCAST16(scv, 0), BCAST16(scv, 1));
            q0 = wasm_v128_or(wasm_v128_and(l1a, m4), HB(ha, 2)); q1 = wasm_v128_or(wasm_v128_and(l1b, m4), HB(hb, 2));
            for (int r = 0; r < ny; r++)
                s[r] = kacc_add(s[r], q0, q1, (YROW(chord_block_q8_K, vy, ys, r) + i)->qs + off + 32, BCAST16(scv, 2), BCAST16(scv, 3));
            q0 = wasm_v128_or(hi_nib(l0a), HB(ha, 4)); q1 = wasm_v128_or(hi_nib(l0b), HB(hb, 4));
            for (int r = 0; r < ny; r++)
                s[r] = kacc_add(s[r], q0, q1, (YROW(chord_block_q8_K, vy, ys, r) + i)->qs + off + 64, BCAST16(scv, 4), BCAST16(scv, 5));
            q0 = wasm_v128_or(hi_nib(l1a), HB(ha, 6)); q1 = wasm_v128_or(hi_nib(l1b), HB(hb, 6));
            for (int r = 0; r < ny; r++)
                s[r] = kacc_add(s[r], q0, q1, (YROW(chord_block_q8_K, vy, ys, r) + i)->qs + off + 96, BCAST16(scv, 6), BCAST16(scv, 7));
            scv = scb;
        }
#undef HB
        for (int r = 0; r < ny; r++) {
            const chord_block_q8_K *y = YROW(chord_block_q8_K, vy, ys, r) + i;
            const v128_t sub0 = wasm_i32x4_shl(wasm_i32x4_dot_i16x8(wasm_v128_load(y->bsums), sca), 5);
            const v128_t sub1 = wasm_i32x4_shl(wasm_i32x4_dot_i16x8(wasm_v128_load(y->bsums + 8), scb), 5);
            v8i sumi = kacc_get(s[r]);
            sumi.lo = wasm_i32x4_sub(sumi.lo, sub0);
            sumi.hi = wasm_i32x4_sub(sumi.hi, sub1);
            acc[r] = acc_scaled(acc[r], y->d * xd, sumi);
        }
    }
    for (int r = 0; r < ny; r++) out[r] = hsum8(acc[r]);
}

/* Q8_0: the single-row kernel sends even blocks to acc0 and odd ones to acc1, two independent
 * chains; here each chain is one pass over the weight row (even blocks, then odd ones), so a pass
 * holds 2 accumulator registers per activation row instead of 4. With 4 rows the two-chain form
 * needed 16 accumulators plus x's prepared bytes, more than V8's 16 vector registers, and its
 * spills made the 4-row kernel slower than 4 single-row calls. x's pos/neg split (relaxed) or widening
 * (i8_prep) is still done once per block. */
static ALWAYS_INLINE void q8_0_rows(int64_t n, const void *vx, const void *vy, uint64_t ys, int ny, float *out) {
    const chord_block_q8_0 *x = vx;
    const int64_t nb = n / QK8_0;
    v8f chain[2][ROWS_MAX];
    for (int c = 0; c < 2; c++) {
        v8f acc[ROWS_MAX];
        for (int r = 0; r < ny; r++) acc[r] = F8_ZERO;
        int64_t k = c;
        /* 4 blocks of the chain at a time: their 4 + 4·ny fp16 scales converted in SIMD (the same
         * products xd·yd as one at a time), kept on the stack rather than in registers */
        for (; k + 6 < nb; k += 8) {
            float dd[ROWS_MAX][4];
            const v128_t xd4 = f16x4_to_f32(d4_of(&x[k].d, &x[k + 2].d, &x[k + 4].d, &x[k + 6].d));
            for (int r = 0; r < ny; r++) {
                const chord_block_q8_0 *y = YROW(chord_block_q8_0, vy, ys, r) + k;
                wasm_v128_store(dd[r], wasm_f32x4_mul(xd4, f16x4_to_f32(d4_of(&y[0].d, &y[2].d, &y[4].d, &y[6].d))));
            }
            for (int j = 0; j < 4; j++) {
                const chord_block_q8_0 *xb = x + k + 2 * j;
                const i8_prep p0 = i8_prep_of(wasm_v128_load(xb->qs)), p1 = i8_prep_of(wasm_v128_load(xb->qs + 16));
                for (int r = 0; r < ny; r++) {
                    const chord_block_q8_0 *y = YROW(chord_block_q8_0, vy, ys, r) + k + 2 * j;
                    acc[r] = acc32_v(acc[r], wasm_v128_load32_splat(&dd[r][j]),
                                          dot32_p(p0, p1, y->qs));
                }
            }
        }
        for (; k < nb; k += 2) {
            const float xd = h2f(x[k].d);
            const i8_prep p0 = i8_prep_of(wasm_v128_load(x[k].qs)), p1 = i8_prep_of(wasm_v128_load(x[k].qs + 16));
            for (int r = 0; r < ny; r++) {
                const chord_block_q8_0 *y = YROW(chord_block_q8_0, vy, ys, r) + k;
                acc[r] = acc32(acc[r], xd * h2f(y->d),
                                    dot32_p(p0, p1, y->qs));
            }
        }
        for (int r = 0; r < ny; r++) chain[c][r] = acc[r];
    }
    for (int r = 0; r < ny; r++) out[r] = hsum8(add8(chain[0][r], chain[1][r]));
}

/* Q4_0: as q8_0_rows, the even blocks in one pass and the odd ones in a second (2 accumulator
 * registers per activation row in a pass). */
static ALWAYS_INLINE void q4_0_rows(int64_t n, const void *vx, const void *vy, uint64_t ys, int ny, float *out) {
    const chord_block_q4_0 *x = vx;
    v8f chain[2][ROWS_MAX];
    for (int c = 0; c < 2; c++) {
        v8f acc[ROWS_MAX];
        for (int r = 0; r < ny; r++) acc[r] = F8_ZERO;
        for (int64_t i = c; i < n / QK4_0; i += 2) {
            v128_t l, h;
            q4_0_levels(&x[i], &l, &h);
            const i8_prep lo = i8_prep_of(l), hi = i8_prep_of(h);
            const float xd = h2f(x[i].d);
            for (int r = 0; r < ny; r++) {
                const chord_block_q8_0 *y = YROW(chord_block_q8_0, vy, ys, r) + i;
                acc[r] = acc32(acc[r], xd * h2f(y->d),
                               dot32_p(lo, hi, y->qs));
            }
        }
        for (int r = 0; r < ny; r++) chain[c][r] = acc[r];
    }
    for (int r = 0; r < ny; r++) out[r] = hsum8(add8(chain[0][r], chain[1][r]));
}

/* ny rows in passes of ROWS_MAX, each pass with a constant row count (so the row loops unroll). */
#define ROWS_ENTRY(name, call)                                                                        \
    void chord_dot_rows_##name##_simd128(int64_t n, const void *x, const void *y, uint64_t ys, int ny, float *out) { \
        for (; ny > 0; ny -= ROWS_MAX, y = (const uint8_t *)y + ROWS_MAX * ys, out += ROWS_MAX) {    \
            switch (ny) {                                                                             \
            case 1: call(n, x, y, ys, 1, out); break;                                                 \
            case 2: call(n, x, y, ys, 2, out); break;                                                 \
            case 3: call(n, x, y, ys, 3, out); break;                                                 \
            default: call(n, x, y, ys, ROWS_MAX, out); break;                                         \
            }                                                                                         \
        }                                                                                             \
    }
#define K4_ROWS(n, x, y, ys, k, out) k45_rows(n, x, y, ys, k, out, 0)
#define K5_ROWS(n, x, y, ys, k, out) k45_rows(n, x, y, ys, k, out, 1)
ROWS_ENTRY(q4_K, K4_ROWS)
ROWS_ENTRY(q5_K, K5_ROWS)
ROWS_ENTRY(q6_K, q6k_rows)
ROWS_ENTRY(q8_0, q8_0_rows)
ROWS_ENTRY(q4_0, q4_0_rows)
#undef K4_ROWS
#undef K5_ROWS
#undef ROWS_ENTRY

/* ---- multi-weight-row kernels (decode) -----------------------------------------------------
 * The other shape: nr weight rows (xs bytes apart) against one activation vector, for the decode
 * matvec. The single-row kernel loads the activation bytes again for every weight row: for Q4_K
 * 19 of a block's ~30 loads, and in wasm64 V8 puts a bounds check (cmp + jae) before every load.
 * Here each activation vector is loaded once per block step and used by all nr rows. Each row
 * keeps its own accumulators and does exactly the single-row kernel's float operations in the
 * same order (only the exact integer sums of a block are grouped differently), so out[r] is
 * bit-identical to it (tests/wasm_test_quant.c). Rows are unrolled (nr is a constant per call).
 * Which rows: far apart, each continuing its own long sequential stream from call to call
 * (ops.c's decode tiles, stride = a quarter of the matrix). With adjacent rows every call starts
 * 3-4 new short streams that the hardware prefetcher has not learned: Chromium, 24 MiB Q4_K
 * matrix, 4 adjacent rows ran at 6.5 GB/s, 4 quarter-strided rows at 12.0, one row per call at
 * 10.7 (wasm64: 5.5 / 11.4 / 10.1). */
#define XROW(T, vx, xs, r) ((const T *)((const uint8_t *)(vx) + (uint64_t)(r) * (xs)))

static ALWAYS_INLINE void k45_wrows(int64_t n, const void *vx, uint64_t xs, int nr, const void *vy, float *out, int five) {
    const chord_block_q8_K *y = vy;
    v8f acc[CHORD_WROWS_MAX];
    v128_t acc_m[CHORD_WROWS_MAX];
    UNROLL
    for (int r = 0; r < nr; r++) { acc[r] = F8_ZERO; acc_m[r] = wasm_f32x4_splat(0); }
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float yd = y[i].d;
        const v128_t bs0 = wasm_v128_load(y[i].bsums), bs1 = wasm_v128_load(y[i].bsums + 8);
        const uint8_t *qs[CHORD_WROWS_MAX];
        v128_t sc[CHORD_WROWS_MAX];
        float d[CHORD_WROWS_MAX];
        kacc s[CHORD_WROWS_MAX];
        k45_high hb[CHORD_WROWS_MAX];
        UNROLL
        for (int r = 0; r < nr; r++) {
            const uint8_t *scales, *qh;
            uint16_t dh, dminh;
            k45_block(XROW(uint8_t, vx, xs, r), i, five, &scales, &qs[r], &qh, &dh, &dminh);
            d[r] = yd * h2f(dh);
            const float dmin = -yd * h2f(dminh);
            v128_t mn;
            k45_scales(scales, &sc[r], &mn);
            const v128_t p0 = wasm_i32x4_dot_i16x8(bs0, wasm_i16x8_shuffle(mn, mn, 0, 0, 1, 1, 2, 2, 3, 3));
            const v128_t p1 = wasm_i32x4_dot_i16x8(bs1, wasm_i16x8_shuffle(mn, mn, 4, 4, 5, 5, 6, 6, 7, 7));
            acc_m[r] = fma4(wasm_f32x4_splat(dmin), wasm_f32x4_convert_i32x4(pair_sum(p0, p1)), acc_m[r]);
            s[r] = kacc_zero();
            v128_t h0 = wasm_i32x4_splat(0), h1 = h0;
            if (five) { h0 = wasm_v128_load(qh); h1 = wasm_v128_load(qh + 16); }
            hb[r] = k45_high_init(h0, h1);
        }
        const int8_t *q8 = y[i].qs;
#pragma clang loop unroll(disable)
        for (int j = 0; j < 4; j++, q8 += 64) {
            const v128_t yv[4] = { wasm_v128_load(q8), wasm_v128_load(q8 + 16), wasm_v128_load(q8 + 32), wasm_v128_load(q8 + 48) };
            UNROLL
            for (int r = 0; r < nr; r++) {
                const v128_t b0 = wasm_v128_load(qs[r] + 32 * j), b1 = wasm_v128_load(qs[r] + 32 * j + 16);
                const v128_t sl = wasm_i16x8_splat(wasm_i16x8_extract_lane(sc[r], 0)), su = wasm_i16x8_splat(wasm_i16x8_extract_lane(sc[r], 1));
                sc[r] = wasm_i32x4_shuffle(sc[r], sc[r], 1, 2, 3, 0);
                const k45_lv lv = k45_levels(&hb[r], b0, b1, five);
                s[r] = k45_acc_v(s[r], &lv, yv, sl, su);
            }
        }
        UNROLL
        for (int r = 0; r < nr; r++) acc[r] = acc_scaled(acc[r], d[r], kacc_get(s[r]));
    }
    UNROLL
    for (int r = 0; r < nr; r++) out[r] = hsum8(acc[r]) + hsum4(acc_m[r]);
}

/* Q6_K: a half block (128 elements) is two passes, one per 32-byte ql pair (its low nibbles then
 * its high nibbles: sub-steps 0, 2 and then 1, 3), so only 4 activation vectors are live while
 * the rows go by; the block's integer sums are the same, grouped differently. */
static ALWAYS_INLINE void q6k_wrows(int64_t n, const void *vx, uint64_t xs, int nr, const void *vy, float *out) {
    const chord_block_q8_K *y = vy;
    const v128_t m4 = wasm_i8x16_splat(0x0f);
    v8f acc[CHORD_WROWS_MAX];
    UNROLL
    for (int r = 0; r < nr; r++) acc[r] = F8_ZERO;
    for (int64_t i = 0; i < n / QK_K; i++) {
        kacc s[CHORD_WROWS_MAX];
        UNROLL
        for (int r = 0; r < nr; r++) s[r] = kacc_zero();
        const int8_t *q8 = y[i].qs;
#define HB(h, sh) q6_hbits(h, sh)
#pragma clang loop unroll(disable)
        for (int j = 0; j < 2; j++, q8 += 128) {
            UNROLL
            for (int p = 0; p < 2; p++) { /* p = 0: ql bytes 0..31 of the half, p = 1: 32..63 */
                const v128_t ya = wasm_v128_load(q8 + 32 * p), yb = wasm_v128_load(q8 + 32 * p + 16);
                const v128_t yc = wasm_v128_load(q8 + 32 * p + 64), yd = wasm_v128_load(q8 + 32 * p + 80);
                UNROLL
                for (int r = 0; r < nr; r++) {
                    const chord_block_q6_K *x = XROW(chord_block_q6_K, vx, xs, r) + i;
                    const uint8_t *ql = x->ql + 64 * j + 32 * p, *qh = x->qh + 32 * j;
                    const v128_t la = wasm_v128_load(ql), lb = wasm_v128_load(ql + 16);
                    const v128_t ha = wasm_v128_load(qh), hb = wasm_v128_load(qh + 16);
                    const v128_t sc8 = wasm_v128_load(x->scales);
                    const v128_t scv = j ? wasm_i16x8_extend_high_i8x16(sc8) : wasm_i16x8_extend_low_i8x16(sc8);
                    if (p == 0) {
                        s[r] = kacc_add_v(s[r], wasm_v128_or(wasm_v128_and(la, m4), HB(ha, 0)), wasm_v128_or(wasm_v128_and(lb, m4), HB(hb, 0)),
                                          ya, yb, BCAST16(scv, 0), BCAST16(scv, 1));
                        s[r] = kacc_add_v(s[r], wasm_v128_or(hi_nib(la), HB(ha, 4)), wasm_v128_or(hi_nib(lb), HB(hb, 4)),
                                          yc, yd, BCAST16(scv, 4), BCAST16(scv, 5));
                    } else {
                        s[r] = kacc_add_v(s[r], wasm_v128_or(wasm_v128_and(la, m4), HB(ha, 2)), wasm_v128_or(wasm_v128_and(lb, m4), HB(hb, 2)),
                                          ya, yb, BCAST16(scv, 2), BCAST16(scv, 3));
                        s[r] = kacc_add_v(s[r], wasm_v128_or(hi_nib(la), HB(ha, 6)), wasm_v128_or(hi_nib(lb), HB(hb, 6)),
                                          yc, yd, BCAST16(scv, 6), BCAST16(scv, 7));
                    }
                }
            }
        }
#undef HB
        const v128_t bs0 = wasm_v128_load(y[i].bsums), bs1 = wasm_v128_load(y[i].bsums + 8);
        UNROLL
        for (int r = 0; r < nr; r++) {
            const chord_block_q6_K *x = XROW(chord_block_q6_K, vx, xs, r) + i;
            const v128_t sc8 = wasm_v128_load(x->scales);
            const v128_t sub0 = wasm_i32x4_shl(wasm_i32x4_dot_i16x8(bs0, wasm_i16x8_extend_low_i8x16(sc8)), 5);
            const v128_t sub1 = wasm_i32x4_shl(wasm_i32x4_dot_i16x8(bs1, wasm_i16x8_extend_high_i8x16(sc8)), 5);
            v8i sumi = kacc_get(s[r]);
            sumi.lo = wasm_i32x4_sub(sumi.lo, sub0);
            sumi.hi = wasm_i32x4_sub(sumi.hi, sub1);
            acc[r] = acc_scaled(acc[r], y[i].d * h2f(x->d), sumi);
        }
    }
    UNROLL
    for (int r = 0; r < nr; r++) out[r] = hsum8(acc[r]);
}

/* nx (1..CHORD_WROWS_MAX) rows: one function per row count, each with its rows unrolled (nr is
 * a constant there). Separate functions, not one switch over inlined instances: V8 compiles each
 * alone (the 4 instances in one function ran at half speed per row in Chromium). */
#define NOINLINE __attribute__((noinline))
#define WROWS_ENTRY(name, call)                                                                       \
    static NOINLINE void name##_w2(int64_t n, const void *x, uint64_t xs, const void *y, float *out) { call(n, x, xs, 2, y, out); } \
    static NOINLINE void name##_w3(int64_t n, const void *x, uint64_t xs, const void *y, float *out) { call(n, x, xs, 3, y, out); } \
    static NOINLINE void name##_w4(int64_t n, const void *x, uint64_t xs, const void *y, float *out) { call(n, x, xs, 4, y, out); } \
    void chord_dot_wrows_##name##_simd128(int64_t n, const void *x, uint64_t xs, int nx, const void *y, float *out) { \
        switch (nx) {                                                                                 \
        case 1: *out = chord_dot_##name##_simd128(n, x, y); break;                                    \
        case 2: name##_w2(n, x, xs, y, out); break;                                                   \
        case 3: name##_w3(n, x, xs, y, out); break;                                                   \
        default: name##_w4(n, x, xs, y, out); break;                                                  \
        }                                                                                             \
    }
#define K4_WROWS(n, x, xs, k, y, out) k45_wrows(n, x, xs, k, y, out, 0)
#define K5_WROWS(n, x, xs, k, y, out) k45_wrows(n, x, xs, k, y, out, 1)
WROWS_ENTRY(q4_K, K4_WROWS)
WROWS_ENTRY(q5_K, K5_WROWS)
WROWS_ENTRY(q6_K, q6k_wrows)
#undef K4_WROWS
#undef K5_WROWS
#undef WROWS_ENTRY

/* The dispatch hook of quant.c (built with -DCHORD_QUANT_EXTRA_ISA on wasm): installs these
 * kernels, each tested against its *_ref one (tests/wasm_test_quant.c). */
void chord_quant_install_isa(chord_type_traits *t, const char **isa_name) {
    *isa_name = SIMD128_ISA_NAME;
    t[CHORD_TYPE_F32].vec_dot = chord_dot_f32_simd128;
    t[CHORD_TYPE_F16].vec_dot = chord_dot_f16_simd128;
    t[CHORD_TYPE_F16].to_float = chord_dequant_f16_simd128;
    t[CHORD_TYPE_F16].from_float = chord_quant_f16_simd128;
    t[CHORD_TYPE_Q4_0].vec_dot = chord_dot_q4_0_simd128;
    t[CHORD_TYPE_Q8_0].vec_dot = chord_dot_q8_0_simd128;
    t[CHORD_TYPE_Q4_1].vec_dot = chord_dot_q4_1_simd128;
    t[CHORD_TYPE_Q5_0].vec_dot = chord_dot_q5_0_simd128;
    t[CHORD_TYPE_Q5_1].vec_dot = chord_dot_q5_1_simd128;
    t[CHORD_TYPE_Q2_K].vec_dot = chord_dot_q2_K_simd128;
    t[CHORD_TYPE_Q3_K].vec_dot = chord_dot_q3_K_simd128;
    t[CHORD_TYPE_Q4_K].vec_dot = chord_dot_q4_K_simd128;
    t[CHORD_TYPE_Q5_K].vec_dot = chord_dot_q5_K_simd128;
    t[CHORD_TYPE_Q6_K].vec_dot = chord_dot_q6_K_simd128;
    t[CHORD_TYPE_Q4_0].vec_dot_rows = chord_dot_rows_q4_0_simd128;
    t[CHORD_TYPE_Q8_0].vec_dot_rows = chord_dot_rows_q8_0_simd128;
    t[CHORD_TYPE_Q4_K].vec_dot_rows = chord_dot_rows_q4_K_simd128;
    t[CHORD_TYPE_Q5_K].vec_dot_rows = chord_dot_rows_q5_K_simd128;
    t[CHORD_TYPE_Q6_K].vec_dot_rows = chord_dot_rows_q6_K_simd128;
#if defined(__wasm64__)
    /* wasm64 only: there every load the 4-lane kernels save is a bounds check (TinyLlama Q4_K_M
     * decode in Chromium, 1 thread: 8.42 -> 9.06 tok/s). In wasm32 loads cost nothing extra and
     * the same kernels ran slower end to end (9.15 -> 7.29), so wasm32 keeps one row per call. */
    t[CHORD_TYPE_Q4_K].vec_dot_wrows = chord_dot_wrows_q4_K_simd128;
    t[CHORD_TYPE_Q5_K].vec_dot_wrows = chord_dot_wrows_q5_K_simd128;
    t[CHORD_TYPE_Q6_K].vec_dot_wrows = chord_dot_wrows_q6_K_simd128;
#endif
}
#endif
