/*
 * simd128_common.h — what the WebAssembly SIMD kernel files share: simd128.c (float types, fp16,
 * the dispatch hook), simd128_q32.c (the 32-element block types) and simd128_k.c (the K-quants).
 * The 8-lane register pair, exact fp16 conversion, byte and nibble helpers, the build's
 * accumulate primitives (simd128_plain.h or simd128_relaxed.h), the AVX2 horizontal-sum order,
 * the prompt-batch entry point and the kernels' prototypes. simd128.c's opening comment says
 * why the kernels are shaped as they are. Included only where __wasm_simd128__ is defined.
 */
#ifndef CHORD_QUANT_SIMD128_COMMON_H
#define CHORD_QUANT_SIMD128_COMMON_H
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

/* The K-quants' canonical order (ref_k.c's acck): acc + d * float(v), lane-wise, a multiply and
 * then an add (never fused, so plain simd128 is exact without emulating an FMA, and the relaxed
 * build does not use relaxed_madd here). acc_scaled: the 8 lanes of a super-block's scale term
 * (and Q2_K's min term); acc_scaled4: the 4 min lanes of Q4_K / Q5_K. */
static inline v8f acc_scaled(v8f acc, float d, v8i v) {
    const v128_t dd = wasm_f32x4_splat(d);
    acc.lo = wasm_f32x4_add(acc.lo, wasm_f32x4_mul(dd, wasm_f32x4_convert_i32x4(v.lo)));
    acc.hi = wasm_f32x4_add(acc.hi, wasm_f32x4_mul(dd, wasm_f32x4_convert_i32x4(v.hi)));
    return acc;
}
static inline v128_t acc_scaled4(v128_t acc, float d, v128_t v) {
    return wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_splat(d), wasm_f32x4_convert_i32x4(v)));
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

#define F8_ZERO ((v8f){ wasm_f32x4_splat(0), wasm_f32x4_splat(0) })
static inline v8f add8(v8f a, v8f b) { return (v8f){ wasm_f32x4_add(a.lo, b.lo), wasm_f32x4_add(a.hi, b.hi) }; }

/* ---- multi-row kernels (prompt batches) ---------------------------------------------------
 * One weight row against ny activation rows (stride ys bytes), for the prompt batch's matrix
 * product: the weight bytes are loaded and unpacked (levels, scales, x's sign split) once for every
 * activation row. Each row keeps its own accumulators and performs exactly the float operations
 * of the single-row kernel in the same order, so out[r] is bit-identical to it (tested). At most
 * ROWS_MAX rows per pass (the accumulators of more rows would not fit V8's registers). */
#define ROWS_MAX 4
#define YROW(T, vy, ys, r) ((const T *)((const uint8_t *)(vy) + (uint64_t)(r) * (ys)))
#define ALWAYS_INLINE __attribute__((always_inline)) inline

/* ny rows in passes of ROWS_MAX, each pass with a constant row count (so the row loops unroll).
 * One function with the 4 instances inlined: each row count as its own noinline function (as
 * WROWS_ENTRY does for decode) made Node 20's relaxed Q4_K_M prefill slower, 14.0 / 12.1 ->
 * 10.8 / 10.3 tok/s (2 interleaved pairs, Zen 3, 2026-12-04).
 * The cases are written out for ROWS_MAX 4: with a smaller one, case 3 would overrun the kernels'
 * ROWS_MAX-sized accumulator arrays (seen: "memory access out of bounds" with 2). */
_Static_assert(ROWS_MAX == 4, "ROWS_ENTRY's cases 1..3 + default assume ROWS_MAX == 4");
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

/* Row r of the multi-weight-row decode kernels (simd128_k.c, simd128_q32.c): nr weight rows xs
 * bytes apart against one activation vector. */
#define XROW(T, vx, xs, r) ((const T *)((const uint8_t *)(vx) + (uint64_t)(r) * (xs)))

/* The kernels chord_quant_install_isa (simd128.c) installs, one definition each in the files above. */
#define SIMD128_DOT(name) float chord_dot_##name##_simd128(int64_t n, const void *vx, const void *vy)
SIMD128_DOT(f32); SIMD128_DOT(f16); SIMD128_DOT(q4_0); SIMD128_DOT(q8_0); SIMD128_DOT(q4_1);
SIMD128_DOT(q5_0); SIMD128_DOT(q5_1); SIMD128_DOT(q2_K); SIMD128_DOT(q3_K); SIMD128_DOT(q4_K);
SIMD128_DOT(q5_K); SIMD128_DOT(q6_K);
#undef SIMD128_DOT
void chord_dequant_f16_simd128(const void *src, float *dst, int64_t n);
void chord_quant_f16_simd128(const float *src, void *dst, int64_t n);
#define SIMD128_ROWS(name) void chord_dot_rows_##name##_simd128(int64_t n, const void *x, const void *y, uint64_t ys, int ny, float *out)
SIMD128_ROWS(q4_0); SIMD128_ROWS(q8_0); SIMD128_ROWS(q4_K); SIMD128_ROWS(q5_K); SIMD128_ROWS(q6_K);
#undef SIMD128_ROWS
void chord_dot_tile_q8_0_simd128(int64_t n, const void *x, uint64_t xs, int nx, const void *y, uint64_t ys,
                                 int ny, float *out, uint64_t os);
#define SIMD128_WROWS(name) void chord_dot_wrows_##name##_simd128(int64_t n, const void *x, uint64_t xs, int nx, const void *y, float *out)
SIMD128_WROWS(q8_0); SIMD128_WROWS(q4_K); SIMD128_WROWS(q5_K); SIMD128_WROWS(q6_K);
#if K45_WROWS_UNROLL
SIMD128_WROWS(q4_K_rolled); SIMD128_WROWS(q5_K_rolled); /* chord_simd128_set_tuning */
#endif
#undef SIMD128_WROWS

#endif
