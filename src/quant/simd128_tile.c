/*
 * simd128_tile.c — the wasm prompt tile of Q8_0 (quant.h chord_vec_dot_tile_fn, traits
 * vec_dot_tile: plain activation rows): nx weight rows x ny tokens per call, register-blocked
 * TQ_R weight rows x TQ_T tokens at a time, so that each loaded weight half-block feeds TQ_T
 * products and each activation half-block TQ_R. In wasm64 every load carries a bounds check, and
 * the row-at-a-time prompt kernel (q8_0_rows, simd128_q32.c) loads every activation block once
 * per weight row. Installed in wasm64-relaxed only (simd128.c has the numbers); 2 x 4 measured
 * best of 2x2, 1x4, 4x1, 2x3, 3x2, 2x4 and 4x2 (Chromium, 256x2048 x 64 tokens: 2x2 and 4x1 were
 * slower than the rows kernel, 4x2 even). A Q4_K tile of the same form (2x2, 1x4, 2x3, 3x2) was
 * 5-25% slower than k45_rows in both builds: its weight unpacking then serves 2-3 tokens instead of
 * 4, which costs more than the activation loads it saves.
 *
 * The arithmetic of every (row, token) pair is q8_0_rows' and so chord_dot_q8_0_simd128's: per
 * block the exact int32 lanes of the 4-byte groups, converted, multiplied by the fp16 scales'
 * product xd·yd, added to the even- or odd-block accumulator (ref.c's acc32: a multiply and then
 * an add); at the end hsum8(even + odd). Only which pair is computed when differs, so out is
 * bit-identical to vec_dot (tests/wasm_test_quant.c compares with memcmp).
 */
#if defined(__wasm_simd128__)
#include "quant/simd128_common.h"

#ifndef TQ_R
#define TQ_R 2            /* weight rows per register block */
#endif
#ifndef TQ_T
#define TQ_T 4            /* tokens per register block: 2 x 4 pairs x 2 halves = 16 accumulators */
#endif

/* nr (<= TQ_R) weight rows at xb (xs bytes apart) x nt (<= TQ_T) activation rows at yb (ys
 * apart), both constants after inlining; one chain (the even blocks, then the odd ones) per pass,
 * as q8_0_rows does, so a pass holds 2 accumulators per pair. Writes out[t * os + r]. */
static ALWAYS_INLINE void q8_0_tile(int64_t nb, const uint8_t *xb, uint64_t xs, const int nr,
                                    const uint8_t *yb, uint64_t ys, const int nt, float *out, uint64_t os) {
    const chord_block_q8_0 *x[TQ_R], *y[TQ_T];
    UNROLL
    for (int r = 0; r < nr; r++) x[r] = (const chord_block_q8_0 *)(xb + (uint64_t)r * xs);
    UNROLL
    for (int t = 0; t < nt; t++) y[t] = (const chord_block_q8_0 *)(yb + (uint64_t)t * ys);
    v8f even[TQ_R][TQ_T];
    for (int c = 0; c < 2; c++) {
        v8f acc[TQ_R][TQ_T];
        UNROLL
        for (int r = 0; r < nr; r++)
            UNROLL
            for (int t = 0; t < nt; t++) acc[r][t] = F8_ZERO;
/* Block b of every pair, dd(r, t) its scale splat: per 16-byte half, each weight half prepared
 * once for the nt tokens, each activation half loaded once for the nr rows. */
#define TQ_BLOCK(b, DD)                                                                               \
    do {                                                                                              \
        UNROLL                                                                                        \
        for (int h = 0; h < 2; h++) {                                                                 \
            i8_prep p[TQ_R];                                                                          \
            UNROLL                                                                                    \
            for (int r = 0; r < nr; r++) p[r] = i8_prep_of(wasm_v128_load(x[r][b].qs + 16 * h));      \
            UNROLL                                                                                    \
            for (int t = 0; t < nt; t++) {                                                            \
                const v128_t yv = wasm_v128_load(y[t][b].qs + 16 * h);                                \
                UNROLL                                                                                \
                for (int r = 0; r < nr; r++) {                                                        \
                    const v128_t f = wasm_f32x4_mul(DD(r, t), wasm_f32x4_convert_i32x4(dot4_i8_p(p[r], yv))); \
                    if (h == 0) acc[r][t].lo = wasm_f32x4_add(acc[r][t].lo, f);                       \
                    else acc[r][t].hi = wasm_f32x4_add(acc[r][t].hi, f);                              \
                }                                                                                     \
            }                                                                                         \
        }                                                                                             \
    } while (0)
        int64_t k = c;
        /* 4 blocks of the chain at a time: their scale products (the same xd·yd) converted in SIMD
         * and kept on the stack */
        for (; k + 6 < nb; k += 8) {
            float dd[TQ_R][TQ_T][4] __attribute__((aligned(16)));
            v128_t yd4[TQ_T];
            UNROLL
            for (int t = 0; t < nt; t++)
                yd4[t] = f16x4_to_f32(d4_of(&y[t][k].d, &y[t][k + 2].d, &y[t][k + 4].d, &y[t][k + 6].d));
            UNROLL
            for (int r = 0; r < nr; r++) {
                const v128_t xd4 = f16x4_to_f32(d4_of(&x[r][k].d, &x[r][k + 2].d, &x[r][k + 4].d, &x[r][k + 6].d));
                UNROLL
                for (int t = 0; t < nt; t++) wasm_v128_store(dd[r][t], wasm_f32x4_mul(xd4, yd4[t]));
            }
            UNROLL
            for (int j = 0; j < 4; j++) {
#define TQ_DD4(r, t) wasm_v128_load32_splat(&dd[r][t][j])
                TQ_BLOCK(k + 2 * j, TQ_DD4);
#undef TQ_DD4
            }
        }
        for (; k < nb; k += 2) {
            v128_t dd1[TQ_R][TQ_T];
            UNROLL
            for (int r = 0; r < nr; r++)
                UNROLL
                for (int t = 0; t < nt; t++) dd1[r][t] = wasm_f32x4_splat(h2f(x[r][k].d) * h2f(y[t][k].d));
#define TQ_DD1(r, t) dd1[r][t]
            TQ_BLOCK(k, TQ_DD1);
#undef TQ_DD1
        }
#undef TQ_BLOCK
        UNROLL
        for (int r = 0; r < nr; r++)
            UNROLL
            for (int t = 0; t < nt; t++) {
                if (c == 0) even[r][t] = acc[r][t];
                else out[(uint64_t)t * os + r] = hsum8(add8(even[r][t], acc[r][t]));
            }
    }
}

/* ny tokens in groups of TQ_T, nx rows in groups of TQ_R; each block shape its own instance. */
void chord_dot_tile_q8_0_simd128(int64_t n, const void *vx, uint64_t xs, int nx, const void *vy, uint64_t ys,
                                 int ny, float *out, uint64_t os) {
    const int64_t nb = n / QK8_0;
    for (int t0 = 0; t0 < ny; t0 += TQ_T) {
        const int nt = ny - t0 < TQ_T ? ny - t0 : TQ_T;
        const uint8_t *yb = (const uint8_t *)vy + (uint64_t)t0 * ys;
        float *o = out + (uint64_t)t0 * os;
        for (int r0 = 0; r0 < nx; r0 += TQ_R) {
            const int nr = nx - r0 < TQ_R ? nx - r0 : TQ_R;
            const uint8_t *xb = (const uint8_t *)vx + (uint64_t)r0 * xs;
            if (nr == TQ_R && nt == TQ_T) { q8_0_tile(nb, xb, xs, TQ_R, yb, ys, TQ_T, o + r0, os); continue; }
            /* the last rows or tokens of the call: one at a time */
            for (int t = 0; t < nt; t++) {
                if (nr == TQ_R) { q8_0_tile(nb, xb, xs, TQ_R, yb + (uint64_t)t * ys, ys, 1, o + (uint64_t)t * os + r0, os); continue; }
                for (int r = 0; r < nr; r++)
                    q8_0_tile(nb, xb + (uint64_t)r * xs, xs, 1, yb + (uint64_t)t * ys, ys, 1, o + (uint64_t)t * os + r0 + r, os);
            }
        }
    }
}
#endif
