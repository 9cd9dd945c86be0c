/*
 * simd128.c — WebAssembly SIMD kernels (simd128; with -mrelaxed-simd the integer dots use
 * i32x4.relaxed_dot_i8x16_i7x16_add, or i16x8.relaxed_dot_i8x16_i7x16 for Q4_K..Q6_K) for the dot products of F32, F16, Q4_0, Q4_1, Q5_0,
 * Q5_1, Q8_0 and the K-quants Q2_K..Q6_K. This file holds the float types, the fp16 conversions and
 * the dispatch hook; simd128_q32.c the 32-element block types, simd128_k.c the K-quants, and
 * simd128_common.h what they share. Only wasm builds compile them (with -DCHORD_QUANT_EXTRA_ISA,
 * so that chord_quant_init calls chord_quant_install_isa below to point the traits at them).
 *
 * Why the odd shapes: the native build runs the AVX2 kernels (src/quant/avx2.c), and greedy
 * tokens must come out the same on every target. So these kernels reproduce the AVX2 kernels'
 * arithmetic: the same exact integer sums in the same eight 32-bit lanes (lane k of a 32-byte
 * group = bytes 4k..4k+3, times the same scales), the same float lanes and accumulator chains,
 * and the same horizontal-sum order. Q4_0 and Q8_0 (like every 32-element type) scale and add
 * each lane as a multiply and then an add, ref.c's canonical order, and so do the K-quants
 * (ref_k.c's), so they are exact here without FMA. The F32/F16 dots accumulate with fused
 * multiply-add as AVX2 does, which simd128 lacks (relaxed madd may or may not fuse): fma4
 * computes a*b + c in double — the product of two floats is exact there — and rounds once to
 * float, which equals the fused result except when the double sum lands exactly on a float
 * rounding midpoint (double rounding; vanishingly rare). When the K-quants still fused, a
 * TinyLlama-shaped Q4_K_M model without this diverged from native at the 7th greedy token.
 * An 8-lane AVX2 register is a pair of v128 here (lo = lanes 0..3, hi = 4..7).
 */
#if defined(__wasm_simd128__)
#include "quant/simd128_common.h"

/* ---- float types ------------------------------------------------------------------------ */

static inline v8f fmadd8(v8f acc, v128_t xl, v128_t xh, v128_t yl, v128_t yh) {
    acc.lo = fma4(xl, yl, acc.lo);
    acc.hi = fma4(xh, yh, acc.hi);
    return acc;
}

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

/* chord_f16_mad (quant.h, the F16 attention accumulator's per-key step) in one pass: the
 * conversions above with the multiply and add between them, 8 lanes in registers, where the
 * generic form makes 4-6 passes through memory per key (and in wasm64 each load and store is a
 * bounds check). */
void chord_f16_mad_simd128(uint16_t *acc, const uint16_t *v, int64_t n, float ms, float vs, int rescale) {
    const v128_t vms = wasm_f32x4_splat(ms), vvs = wasm_f32x4_splat(vs);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const v128_t ha = wasm_v128_load(acc + i), hv = wasm_v128_load(v + i);
        v128_t a0 = f16x4_to_f32_q(wasm_u32x4_extend_low_u16x8(ha)), a1 = f16x4_to_f32_q(wasm_u32x4_extend_high_u16x8(ha));
        if (rescale) {
            a0 = f16x4_to_f32_q(f32x4_to_f16(wasm_f32x4_mul(a0, vms)));
            a1 = f16x4_to_f32_q(f32x4_to_f16(wasm_f32x4_mul(a1, vms)));
        }
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(f16x4_to_f32_q(wasm_u32x4_extend_low_u16x8(hv)), vvs));
        a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(f16x4_to_f32_q(wasm_u32x4_extend_high_u16x8(hv)), vvs));
        wasm_v128_store(acc + i, wasm_u16x8_narrow_i32x4(f32x4_to_f16(a0), f32x4_to_f16(a1)));
    }
    for (; i < n; i++) {
        float a = chord_fp16_to_fp32(acc[i]);
        if (rescale) a = chord_fp16_to_fp32(chord_fp32_to_fp16(a * ms));
        const float p = chord_fp16_to_fp32(v[i]) * vs;
        acc[i] = chord_fp32_to_fp16(a + p);
    }
}

/* The engine's kernel shapes (quant.h, chord_simd128_set_tuning): the table that
 * chord_quant_install_isa filled, so that a later call re-points its entries. */
static chord_type_traits *installed;
static uint32_t tuning;

static void install_tuned(chord_type_traits *t) {
#if K45_WROWS_UNROLL
    const int rolled = (tuning & CHORD_SIMD128_TUNE_ROLLED_K45) != 0;
    t[CHORD_TYPE_Q4_K].vec_dot_wrows = rolled ? chord_dot_wrows_q4_K_rolled_simd128 : chord_dot_wrows_q4_K_simd128;
    t[CHORD_TYPE_Q5_K].vec_dot_wrows = rolled ? chord_dot_wrows_q5_K_rolled_simd128 : chord_dot_wrows_q5_K_simd128;
#else
    t[CHORD_TYPE_Q4_K].vec_dot_wrows = chord_dot_wrows_q4_K_simd128;
    t[CHORD_TYPE_Q5_K].vec_dot_wrows = chord_dot_wrows_q5_K_simd128;
#endif
}

uint32_t chord_simd128_set_tuning(uint32_t bits) {
    /* the plain build's loop is always rolled: the bit is honoured there as it is */
    tuning = bits & CHORD_SIMD128_TUNE_ROLLED_K45;
    if (installed) install_tuned(installed);
    return tuning;
}

/* The dispatch hook of quant.c (built with -DCHORD_QUANT_EXTRA_ISA on wasm): installs these
 * kernels, each tested against its *_ref one (tests/wasm_test_quant.c). */
void chord_quant_install_isa(chord_type_traits *t, const char **isa_name) {
    *isa_name = SIMD128_ISA_NAME;
    t[CHORD_TYPE_F32].vec_dot = chord_dot_f32_simd128;
    t[CHORD_TYPE_F16].vec_dot = chord_dot_f16_simd128;
    t[CHORD_TYPE_F16].to_float = chord_dequant_f16_simd128;
    t[CHORD_TYPE_F16].from_float = chord_quant_f16_simd128;
    t[CHORD_TYPE_F16].f16_mad = chord_f16_mad_simd128;
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
#if defined(__wasm_relaxed_simd__) && defined(__wasm64__)
    /* the Q8_0 prompt tile, wasm64 relaxed only: 256x2048 x 64 tokens in 16-row tiles (Chromium,
     * best pass of 250, 4 interleaved runs at load 6-9): wasm64 3.16-3.31 -> 2.97-3.12 ms (-4..-7%
     * every run); wasm32 3.07-3.20 -> 2.99-3.15 in three runs and 3.86 in one, no clear gain */
    t[CHORD_TYPE_Q8_0].vec_dot_tile = chord_dot_tile_q8_0_simd128;
#endif
    /* decode: several weight rows per activation vector (simd128_k.c, simd128_q32.c), in every
     * build. wasm64: each load saved is a bounds check (TinyLlama Q4_K_M decode in Chromium, 1
     * thread: 8.42 -> 9.06 tok/s). Plain simd128: each activation vector is also widened to i16
     * once for all rows (Node 20, 48 decode tokens, CPU seconds, 7 interleaved runs: 14.3 -> 12.7).
     * wasm32-relaxed kept one row per call after one rough 1-thread pair (9.15 -> 7.29); 6
     * interleaved pairs on 2026-12-04 (Zen 3, Chromium, 8-token prompt + 64 tokens) gave 2 threads
     * 11.69 -> 13.09 tok/s mean (CPU per token 170 -> 152 ms, 5 of 6 pairs faster), 1 thread even
     * (6.86 / 6.52 mean, best 7.56 / 7.53); Q8_0 even to +4% at 1 and 2 threads. */
    t[CHORD_TYPE_Q8_0].vec_dot_wrows = chord_dot_wrows_q8_0_simd128;
    /* Q8_0 over 2 lanes: 4 lanes (two 2-row calls) ran no faster than one row per call, 2 lanes
     * +10% (24 MiB matvec, Chromium relaxed: 11.34 -> 12.52 GB/s, 4 lanes 11.36; load 4) */
    t[CHORD_TYPE_Q8_0].wrows_lanes = 2;
    t[CHORD_TYPE_Q6_K].vec_dot_wrows = chord_dot_wrows_q6_K_simd128;
    install_tuned(t); /* Q4_K, Q5_K */
    installed = t;
}
#endif
