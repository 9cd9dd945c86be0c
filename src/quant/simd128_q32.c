/*
 * simd128_q32.c — WebAssembly SIMD dot products of the 32-element block types (Q4_0, Q4_1, Q5_0,
 * Q5_1, Q8_0) and the prompt-batch (multi-row) forms of Q4_0 and Q8_0. Each lane is scaled and
 * added as a multiply and then an add, ref.c's canonical order, so plain simd128 is exact here
 * without FMA (simd128.c says why the shapes match the AVX2 kernels).
 */
#if defined(__wasm_simd128__)
#include "quant/simd128_common.h"

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

ROWS_ENTRY(q8_0, q8_0_rows)
ROWS_ENTRY(q4_0, q4_0_rows)

/* ---- multi-weight-row decode form (simd128_k.c's header says why) -----------------------------
 * Q8_0: nr weight rows against one activation vector, in two passes like q8_0_rows (the even
 * blocks, then the odd ones: one accumulator pair per row and pass); the second pass finds the
 * rows' lines in cache. The activation block is loaded and prepared (i8_prep) once for all nr rows, the weight
 * bytes are the other operand: the integer dot is the same exact sum. Each row does the single-row
 * kernel's float operations in its order (block k into chain k % 2, dd = x.d·y.d), so out[r] is
 * bit-identical to chord_dot_q8_0_simd128. */
static ALWAYS_INLINE void q8_0_wrows(int64_t n, const void *vx, uint64_t xs, int nr, const void *vy, float *out) {
    const chord_block_q8_0 *y = vy;
    const int64_t nb = n / QK8_0;
    v8f chain[2][CHORD_WROWS_MAX];
    for (int c = 0; c < 2; c++) {
        v8f acc[CHORD_WROWS_MAX];
        UNROLL
        for (int r = 0; r < nr; r++) acc[r] = F8_ZERO;
        int64_t k = c;
        /* 4 blocks of the chain at a time, their scales converted in SIMD (the same products) */
        for (; Q8_BATCH_SCALES && k + 6 < nb; k += 8) {
            const v128_t yd4 = f16x4_to_f32(d4_of(&y[k].d, &y[k + 2].d, &y[k + 4].d, &y[k + 6].d));
            v128_t dd[CHORD_WROWS_MAX];
            UNROLL
            for (int r = 0; r < nr; r++) {
                const chord_block_q8_0 *x = XROW(chord_block_q8_0, vx, xs, r) + k;
                dd[r] = wasm_f32x4_mul(f16x4_to_f32(d4_of(&x[0].d, &x[2].d, &x[4].d, &x[6].d)), yd4);
            }
#define Q8W_STEP(j)                                                                                   \
    do {                                                                                              \
        const chord_block_q8_0 *yb = y + k + 2 * (j);                                                 \
        const i8_prep p0 = i8_prep_of(wasm_v128_load(yb->qs)), p1 = i8_prep_of(wasm_v128_load(yb->qs + 16)); \
        UNROLL                                                                                        \
        for (int r = 0; r < nr; r++) {                                                                \
            const chord_block_q8_0 *x = XROW(chord_block_q8_0, vx, xs, r) + k + 2 * (j);              \
            acc[r] = acc32_v(acc[r], LANE4(dd[r], j), dot32_p(p0, p1, x->qs));                        \
        }                                                                                             \
    } while (0)
            Q8W_STEP(0); Q8W_STEP(1); Q8W_STEP(2); Q8W_STEP(3);
#undef Q8W_STEP
        }
        for (; k < nb; k += 2) {
            const float yd = h2f(y[k].d);
            const i8_prep p0 = i8_prep_of(wasm_v128_load(y[k].qs)), p1 = i8_prep_of(wasm_v128_load(y[k].qs + 16));
            UNROLL
            for (int r = 0; r < nr; r++) {
                const chord_block_q8_0 *x = XROW(chord_block_q8_0, vx, xs, r) + k;
                acc[r] = acc32(acc[r], h2f(x->d) * yd, dot32_p(p0, p1, x->qs));
            }
        }
        UNROLL
        for (int r = 0; r < nr; r++) chain[c][r] = acc[r];
    }
    UNROLL
    for (int r = 0; r < nr; r++) out[r] = hsum8(add8(chain[0][r], chain[1][r]));
}
/* At most 2 rows per pass: with 4 (8 accumulators, 4 scale vectors and the prepared activation
 * block live) V8 spills, and 4 rows ran slower than 2 in 3 of 4 kernel benches (Chromium, both
 * builds, and Node; load 4-5, noisy); 3 and 4 rows are a 2-row call plus a 1- or 2-row one. */
static __attribute__((noinline)) void q8_0_w2(int64_t n, const void *x, uint64_t xs, const void *y, float *out) { q8_0_wrows(n, x, xs, 2, y, out); }
void chord_dot_wrows_q8_0_simd128(int64_t n, const void *x, uint64_t xs, int nx, const void *y, float *out) {
    if (nx == 1) { *out = chord_dot_q8_0_simd128(n, x, y); return; }
    q8_0_w2(n, x, xs, y, out);
    const void *x2 = (const uint8_t *)x + 2 * xs;
    if (nx == 3) out[2] = chord_dot_q8_0_simd128(n, x2, y);
    else if (nx >= 4) q8_0_w2(n, x2, xs, y, out + 2);
}

#endif
