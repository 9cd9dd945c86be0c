/*
 * x86_tile_q8.h — template: the Q8_0 prompt tile, nx weight rows x ny packed activation rows
 * (chord_pack_q8_0) per call, register-blocked QT_R weight rows x QT_T tokens at a time, so that
 * each loaded weight block feeds QT_T products and each activation block QT_R.
 *
 * The arithmetic of every (row, token) pair is exactly rows_q8_0p's (x86_vnni.h), i.e. ref.c's
 * canonical order: per block the exact int32 lanes (vpdpbusd of q + 128 against the weight's
 * levels, started from -128 * sum4(weight)), converted, multiplied by the IEEE product
 * dx * dy, added to the even- or odd-block accumulator; at the end hsum(acc0 + acc1) + 0. Only
 * the loop nest differs: which pair's next block is issued when. So out is bit-identical to
 * vec_dot (tests/test_quant.c compares with memcmp).
 *
 * Why the old kernel was slow (1 weight row x 8 tokens): GCC issued all 64 conversions of a chunk
 * first and spilled them, plus 8 scalar fp16 lookups and inserts per chunk and row to build the
 * weight scales. Here the weight scales are converted once per call and row (dxf), the scale
 * products of a chunk are one vector multiply per pair (dd, read back as embedded broadcasts),
 * and a block step keeps 2 x QT_R x QT_T accumulators plus QT_R weight blocks in registers.
 *
 * The includer (x86_vnni.h) provides VNNI_NAME, VNNI_DPBUSD, H2F, hsum_ps, UNROLL and
 * VNNI_NAME(rows_q8_0p) (the fallback for rows longer than QT_NBMAX blocks).
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
static inline __attribute__((always_inline)) void VNNI_NAME(tile_q8_0p)(int64_t nb, const uint8_t *xb, uint64_t xs,
        const float *dxf, const int nr, const uint8_t *yb, uint64_t ys, const int nt, float *out, uint64_t os) {
    const __m256i u128 = _mm256_set1_epi8((char)0x80);
    const __m256i magic_i = _mm256_set1_epi32(0x4B400000);
    const __m256 magic = _mm256_castsi256_ps(magic_i);
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
/* One (row, token) block: acc += (float)lane * d, in one asm statement so that GCC cannot hoist
 * the integer halves of a whole chunk and spill their results. The conversion is the exact
 * magic-number one: corr carries 0x4B400000 (the bits of 1.5 * 2^23) besides -128 * sum4(qx), so
 * dpbusd leaves 0x4B400000 + lane, which as a float is exactly 12582912 + lane (|lane| <= 4 * 127
 * * 128 < 2^22 keeps it in [2^23, 2^24), where the spacing is 1), and subtracting 12582912 gives
 * exactly (float)lane, +0 for 0, as vcvtdq2ps would: the same value, a subtraction instead of a
 * conversion (3-8% on the tile in an interleaved microbenchmark). */
#define QT_PAIR(acc, corr, qx, qy, d)                                                              \
    do {                                                                                           \
        __m256 s_;                                                                                 \
        __asm__("vmovdqa32 %[c], %[s]\n\t"                                                           \
                "vpdpbusd %[x], %[y], %[s]\n\t"                                                    \
                "vsubps %[m], %[s], %[s]\n\t"                                                      \
                "vmulps %[dd]%{1to8%}, %[s], %[s]\n\t"                                             \
                "vaddps %[s], %[a], %[a]"                                                         \
                : [a] "+v"(acc), [s] "=&v"(s_)                                                     \
                : [c] "v"(corr), [x] "v"(qx), [y] "v"(qy), [dd] "m"(d), [m] "v"(magic));                          \
    } while (0)
#define QT_STEP(k, ACC)                                                                            \
        do {                                                                                       \
            __m256i qx[QT_R], corr[QT_R];                                                          \
            UNROLL                                                                                 \
            for (int r = 0; r < nr; r++) {                                                         \
                qx[r] = _mm256_loadu_si256((const __m256i *)x[r][c + (k)].qs);                     \
                corr[r] = _mm256_sub_epi32(magic_i,                                                \
                                           VNNI_DPBUSD(_mm256_setzero_si256(), u128, qx[r]));     \
            }                                                                                      \
            UNROLL                                                                                 \
            for (int t = 0; t < nt; t++) {                                                         \
                const __m256i qy = _mm256_loadu_si256((const __m256i *)(p[t] + 32 * (c + (k))));   \
                UNROLL                                                                             \
                for (int r = 0; r < nr; r++) QT_PAIR(ACC[r][t], corr[r], qx[r], qy, ddp[(r * QT_T + t) * 8 + (k)]); \
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

/* One pass of the token groups over rg (<= QT_RG) weight rows whose scales are in dxf. Meanwhile
 * the QT_RG rows after these (the next pass's, or the next call's: ops.c walks a matrix's rows in
 * order) are prefetched into L2, a slice per token group: a matrix streams from memory once per
 * prompt, and without this the next pass's scale conversion waited for each line (15% of the
 * tile time with the 2048 x 16384 matrix of a microbenchmark). Prefetches never fault, so running
 * past the matrix's end is harmless. */
static void VNNI_NAME(tile_q8_0p_pass)(int64_t nb, const uint8_t *xb, uint64_t xs, const float *dxf, int rg,
                                       const uint8_t *yb, uint64_t ys, int ny, float *out, uint64_t os) {
    const uint8_t *pf = xb + (uint64_t)rg * xs;
    const uint64_t pf_bytes = (uint64_t)QT_RG * xs;
    const int groups = (ny + QT_T - 1) / QT_T;
    const uint64_t pf_step = (pf_bytes / (uint64_t)groups + 63) & ~(uint64_t)63;
    uint64_t pf_done = 0;
    for (int t0 = 0; t0 < ny; t0 += QT_T) {
        for (uint64_t e = pf_done + pf_step; pf_done < e && pf_done < pf_bytes; pf_done += 64)
            _mm_prefetch((const char *)(pf + pf_done), _MM_HINT_T1);
        const int nt = ny - t0 < QT_T ? ny - t0 : QT_T;
        const uint8_t *y = yb + (uint64_t)t0 * ys;
        float *o = out + (uint64_t)t0 * os;
        int r = 0;
#define QT_CALL(NR, NT) VNNI_NAME(tile_q8_0p)(nb, xb + (uint64_t)r * xs, xs, dxf + r * QT_NBMAX, NR, y, ys, NT, o + r, os)
#define QT_CALLS(NR)                                                                               \
        switch (nt) {                                                                              \
        case 8: if (QT_T >= 8) QT_CALL(NR, 8 <= QT_T ? 8 : 1); break;                              \
        case 7: if (QT_T >= 7) QT_CALL(NR, 7 <= QT_T ? 7 : 1); break;                              \
        case 6: if (QT_T >= 6) QT_CALL(NR, 6 <= QT_T ? 6 : 1); break;                              \
        case 5: if (QT_T >= 5) QT_CALL(NR, 5 <= QT_T ? 5 : 1); break;                              \
        case 4: if (QT_T >= 4) QT_CALL(NR, 4 <= QT_T ? 4 : 1); break;                              \
        case 3: if (QT_T >= 3) QT_CALL(NR, 3 <= QT_T ? 3 : 1); break;                              \
        case 2: QT_CALL(NR, 2); break;                                                             \
        default: QT_CALL(NR, 1); break;                                                            \
        }
        for (; r + QT_R <= rg; r += QT_R) QT_CALLS(QT_R);
        switch (rg - r) {
        case 3: if (QT_R > 3) QT_CALLS(3 < QT_R ? 3 : 1); break;
        case 2: if (QT_R > 2) QT_CALLS(2 < QT_R ? 2 : 1); break;
        case 1: QT_CALLS(1); break;
        default: break;
        }
#undef QT_CALLS
#undef QT_CALL
    }
}

void VNNI_NAME(chord_dot_tile_q8_0_packed)(int64_t n, const void *x, uint64_t xs, int nx, const void *y,
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
                X86_ROWS_BY8(VNNI_NAME(rows_q8_0p), chord_block_q8_0, n, xb + (uint64_t)k * xs, yb, ys, nt, o);
                for (int t = 0; t < (ny - t0 < 8 ? ny - t0 : 8); t++) out[(uint64_t)(t0 + t) * os + k] = tmp[t];
            }
        }
        return;
    }
    float dxf[QT_RG * QT_NBMAX];
    for (int r0 = 0; r0 < nx; r0 += QT_RG) {
        const int rg = nx - r0 < QT_RG ? nx - r0 : QT_RG;
        for (int r = 0; r < rg; r++) {
            const chord_block_q8_0 *b = (const chord_block_q8_0 *)(xb + (uint64_t)(r0 + r) * xs);
            for (int64_t i = 0; i < nb; i++) dxf[r * QT_NBMAX + i] = H2F(b[i].d);
        }
        VNNI_NAME(tile_q8_0p_pass)(nb, xb + (uint64_t)r0 * xs, xs, dxf, rg, y, ys, ny, out + r0, os);
    }
}

#undef QT_R
#undef QT_T
#undef QT_RG
#undef QT_NBMAX
