/*
 * x86_tile_q8.h — template: the Q8_0 prompt tile, nx weight rows x ny packed activation rows
 * (chord_pack_q8_0) per call, register-blocked QT_R weight rows x QT_T tokens at a time, so that
 * each loaded weight block feeds QT_T products and each activation block QT_R.
 *
 * The arithmetic of every (row, token) pair is exactly ref.c's canonical order: per block the
 * exact int32 lanes (8 lanes of 4 consecutive products), converted, multiplied by the IEEE
 * product dx * dy, added to the even- or odd-block accumulator; at the end hsum(acc0 + acc1) + 0.
 * Only the loop nest differs from vec_dot: which pair's next block is issued when. So out is
 * bit-identical to vec_dot (tests/test_quant.c compares with memcmp).
 *
 * Why the old kernels were slow (1 weight row x 4 or 8 tokens): GCC issued all 64 conversions of
 * a chunk first and spilled them, plus 8 scalar fp16 lookups and inserts per chunk and row to
 * build the weight scales. Here the weight scales are converted once per call and row (dxf), the
 * scale products of a chunk are one vector multiply per pair (dd, read back as broadcasts), and a
 * block step keeps 2 x QT_R x QT_T accumulators plus the QT_R weight blocks in registers.
 *
 * The integer part is the includer's, one instantiation per instruction set (each with its own
 * -m flags), in the manner of x86_rows32.h:
 *  - QT_NAME(base)            the kernels' names (base##_avx2, ...);
 *  - QT_CONSTS                declarations of the constants the hooks below use;
 *  - QT_ROW(qa, qb, qs)       one weight block's levels at qs prepared into two registers
 *                             (x86_vnni.h: the levels and the -128 * sum4 correction; avx2.c:
 *                             the levels and their absolute values);
 *  - QT_TOK(p)                one packed activation block at p as the pair step takes it;
 *  - QT_PAIR(acc, qa, qb, qy, d)  acc += (float)lanes * d (d: a float in memory), in one asm
 *                             statement, so that GCC cannot hoist the integer halves of a whole
 *                             chunk and spill their results;
 *  - QT_ROWS_P, QT_ROWS_BY    the packed rows kernel (one weight row x a few tokens) and its
 *                             X86_ROWS_BY* splitter: rows longer than QT_NBMAX blocks.
 * and QT_R, QT_T (register block; default 2 x 4, which needs 32 vector registers). Uses H2F,
 * hsum_ps and UNROLL (x86.h). Each inclusion defines one tile and undefines the parameters.
 */
#ifndef QT_R
#define QT_R 2            /* weight rows per register block */
#endif
#ifndef QT_T
#define QT_T 4            /* tokens per register block: 2 x 2 x 4 = 16 accumulators */
#endif
#define QT_RG 8           /* weight rows whose scales are converted per pass over the tokens */
#define QT_NBMAX 512      /* blocks per row (16384 elements) that the scale scratch holds */

/* nr (<= QT_R) weight rows at xb (xs bytes apart) x nt (<= QT_T) packed activation rows at yb (ys
 * apart); dxf = the weight rows' scales as floats, QT_NBMAX apart. Both counts are constants
 * after inlining. Writes out[t * os + r]. */
static inline __attribute__((always_inline)) void QT_NAME(tile_q8_0p)(int64_t nb, const uint8_t *xb, uint64_t xs,
        const float *dxf, const int nr, const uint8_t *yb, uint64_t ys, const int nt, float *out, uint64_t os) {
    QT_CONSTS;
    __m256 acc0[QT_R][QT_T], acc1[QT_R][QT_T];
    float dd[QT_R][QT_T][8] __attribute__((aligned(32)));
    const chord_block_q8_0 *x[QT_R];
    const uint8_t *p[QT_T];
    UNROLL
    for (int r = 0; r < nr; r++) {
        x[r] = (const chord_block_q8_0 *)(xb + (uint64_t)r * xs);
        UNROLL
        for (int t = 0; t < nt; t++) { acc0[r][t] = _mm256_setzero_ps(); acc1[r][t] = _mm256_setzero_ps(); }
    }
    UNROLL
    for (int t = 0; t < nt; t++) p[t] = yb + (uint64_t)t * ys;
    const uint64_t sofs = (uint64_t)nb * 32; /* offset of the scales in a packed row */
    for (int64_t c = 0; c < nb; c += 8) {
        const int kn = nb - c < 8 ? (int)(nb - c) : 8;
        if (kn == 8) {
            UNROLL
            for (int t = 0; t < nt; t++) {
                const __m256 dy = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p[t] + sofs + 2 * c)));
                UNROLL
                for (int r = 0; r < nr; r++)
                    _mm256_store_ps(dd[r][t], _mm256_mul_ps(_mm256_loadu_ps(dxf + r * QT_NBMAX + c), dy));
            }
        } else { /* the last nb % 8 blocks: the same products one at a time */
            for (int k = 0; k < kn; k++)
                UNROLL
                for (int t = 0; t < nt; t++) {
                    uint16_t dyh;
                    memcpy(&dyh, p[t] + sofs + 2 * (c + k), 2);
                    UNROLL
                    for (int r = 0; r < nr; r++) dd[r][t][k] = dxf[r * QT_NBMAX + c + k] * H2F(dyh);
                }
        }
        /* an opaque copy, so that GCC reads dd[r][t][k] as embedded broadcasts of base + offset */
        const float *ddp = &dd[0][0][0];
        __asm__("" : "+r"(ddp));
#define QT_STEP(k, ACC)                                                                            \
        do {                                                                                       \
            __m256i qa[QT_R], qb[QT_R];                                                            \
            UNROLL                                                                                 \
            for (int r = 0; r < nr; r++) QT_ROW(qa[r], qb[r], x[r][c + (k)].qs);                   \
            UNROLL                                                                                 \
            for (int t = 0; t < nt; t++) {                                                         \
                const __m256i qy = QT_TOK(p[t] + 32 * (c + (k)));                                  \
                UNROLL                                                                             \
                for (int r = 0; r < nr; r++) QT_PAIR(ACC[r][t], qa[r], qb[r], x[r][c + (k)].qs, qy, ddp[(r * QT_T + t) * 8 + (k)]); \
            }                                                                                      \
        } while (0)
        if (kn == 8) {
            UNROLL
            for (int k = 0; k < 8; k += 2) { QT_STEP(k, acc0); QT_STEP(k + 1, acc1); }
        } else {
            for (int k = 0; k < kn; k++) {
                if (k & 1) QT_STEP(k, acc1);
                else QT_STEP(k, acc0);
            }
        }
#undef QT_STEP
    }
    UNROLL
    for (int r = 0; r < nr; r++)
        UNROLL
        for (int t = 0; t < nt; t++) out[(uint64_t)t * os + r] = hsum_ps(_mm256_add_ps(acc0[r][t], acc1[r][t])) + 0.0f;
}

#define TP_PASS QT_NAME(tile_q8_0p_pass)
#define TP_RUN QT_NAME(tile_q8_0p_run)
#define TP_TILE QT_NAME(tile_q8_0p)
#define TP_R QT_R
#define TP_T QT_T
#define TP_RG QT_RG
#define TP_NBMAX QT_NBMAX
#include "quant/x86_tile_pass.h"

void QT_NAME(chord_dot_tile_q8_0_packed)(int64_t n, const void *x, uint64_t xs, int nx, const void *y,
                                          uint64_t ys, int ny, float *out, uint64_t os) {
    const int64_t nb = n / 32;
    const uint8_t *xb = x;
    if (nb > QT_NBMAX) { /* longer rows than the scale scratch: one weight row at a time */
        float tmp[8];
        for (int k = 0; k < nx; k++) {
            const uint8_t *yb = y;
            for (int t0 = 0; t0 < ny; t0 += 8, yb += 8 * ys) {
                int nt = ny - t0 < 8 ? ny - t0 : 8;
                float *o = tmp;
                QT_ROWS_BY(QT_ROWS_P, chord_block_q8_0, n, xb + (uint64_t)k * xs, yb, ys, nt, o);
                for (int t = 0; t < (ny - t0 < 8 ? ny - t0 : 8); t++) out[(uint64_t)(t0 + t) * os + k] = tmp[t];
            }
        }
        return;
    }
    QT_NAME(tile_q8_0p_run)(nb, xb, xs, nx, y, ys, ny, out, os);
}

#undef QT_R
#undef QT_T
#undef QT_RG
#undef QT_NBMAX
#undef QT_NAME
#undef QT_CONSTS
#undef QT_ROW
#undef QT_TOK
#undef QT_PAIR
#undef QT_ROWS_P
#undef QT_ROWS_BY
