/*
 * avx512vnni_q8.c — the Q8_0 prompt tile on 512-bit registers (AVX512-VNNI/BW/F; Zen 4/5 EPYC,
 * Xeon), a zmm form of x86_tile_q8.h: same packed activation layout (chord_pack_q8_0), same
 * canonical arithmetic, half the instructions.
 *
 * Why zmm maps onto ref.c's order exactly: per pair of blocks (2k, 2k+1) one zmm holds the 8
 * int32 lanes of both, interleaved by dword (lane 2j = block 2k's lane j, lane 2j + 1 = block
 * 2k + 1's lane j). The scale vector is then [P_2k, P_2k+1] repeated, which is one vbroadcastsd
 * of two adjacent floats of the scale-product scratch (a load, no shuffle); the accumulator holds
 * acc0 in its even lanes and acc1 in its odd lanes, and the same float operations happen per
 * lane as in the ymm tile (exact int32 lane via vpdpbusd from 0x4B400000 - 128 * sum4(qx), the
 * magic-number subtraction = (float)lane, the multiply by dx * dy, the add). At the end the lanes
 * are de-interleaved and hsum_ps(acc0 + acc1) + 0 as in ref.c. Bit-identical
 * (tests/test_quant_rows.c compares with memcmp).
 *
 * The interleave costs one shuffle per weight row and pair (vpermt2d of the two blocks' levels,
 * which are 34 bytes apart in GGUF anyway) and one per token and pair (vpermd of the packed
 * activation's 64 bytes), each amortized over the other side of the ZR x ZT register block.
 * (The alternative, natural halves [block 2k | block 2k+1], needs [P_2k x8 | P_2k+1 x8] as the
 * scale operand: one extra shuffle or multiply per (row, token, pair).)
 *
 * Measured on Zen 5 (bench_kernels --prompt, TSC cycles per 256 weights x token at 8 / 64 tokens):
 * the ymm 2 x 4 tile 10.1 / 8.8, this one 7.4 / 6.0. The register block hardly matters (4 x 3,
 * 3 x 4, 2 x 6, 3 x 6 all 5.9-6.2 at 64 tokens): the pair step's six instructions bound it. Not
 * kept: the corrections read from memory by the step's vmovdqa32 (8.6 / 7.4), and one FMA with a
 * second broadcast of -12582912 * dx * dy replacing the subtraction and the multiply (exact, since
 * that product is exact, but 7.9 / 6.8).
 */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <string.h>
#include "quant/quant.h"
#include "quant/blocks.h"
#include "quant/kernels.h"
#include "quant/x86.h"

#ifndef ZR
#define ZR 4          /* weight rows per register block */
#endif
#ifndef ZT
#define ZT 4          /* tokens per register block: ZR x ZT zmm accumulators */
#endif
#define ZRG 8         /* weight rows whose scales are converted per pass over the tokens */
#define ZNBMAX 512    /* blocks per row (16384 elements) that the scale scratch holds */

/* one (row, token) pair step: acc += ((float)(lanes) ) * [dd[0], dd[1]] repeated, lanes =
 * vpdpbusd(corr, qy, qx) - 0x4B400000 read as floats. In one asm statement so that GCC cannot
 * hoist the integer halves of a chunk and spill them (x86_tile_q8.h). */
#define Z_PAIR(acc, qx, corr, qy, ddp, magic)                                                      \
    do {                                                                                           \
        __m512 s_, b_;                                                                             \
        __asm__("vbroadcastsd %[dd], %[b]\n\t"                                                     \
                "vmovdqa32 %[c], %[s]\n\t"                                                         \
                "vpdpbusd %[x], %[y], %[s]\n\t"                                                    \
                "vsubps %[m], %[s], %[s]\n\t"                                                      \
                "vmulps %[b], %[s], %[s]\n\t"                                                      \
                "vaddps %[s], %[a], %[a]"                                                          \
                : [a] "+v"(acc), [s] "=&v"(s_), [b] "=&v"(b_)                                      \
                : [c] "v"(corr), [x] "v"(qx), [y] "v"(qy), [dd] "m"(*(const double *)(ddp)),       \
                  [m] "v"(magic));                                                                 \
    } while (0)

static inline __attribute__((always_inline)) void tile_z(int64_t nb, const uint8_t *xb, uint64_t xs,
        const float *dxf, const int nr, const uint8_t *yb, uint64_t ys, const int nt, float *out, uint64_t os) {
    const __m512i u128 = _mm512_set1_epi8((char)0x80);
    /* one register for the magic number as int and float (GCC otherwise keeps both) */
    __m512 magic = _mm512_castsi512_ps(_mm512_set1_epi32(0x4B400000));
    __asm__("" : "+v"(magic));
#define magic_i _mm512_castps_si512(magic)
    /* dword interleave of two 8-dword blocks: from two tables (weights), from one zmm (packed) */
    const __m512i ilv2 = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i ilv1 = _mm512_setr_epi32(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
    __m512 acc[ZR][ZT];
    float dd[ZR][ZT][8] __attribute__((aligned(32)));
    const chord_block_q8_0 *x[ZR];
    const uint8_t *p[ZT];
    UNROLL
    for (int r = 0; r < nr; r++) {
        x[r] = (const chord_block_q8_0 *)(xb + (uint64_t)r * xs);
        UNROLL
        for (int t = 0; t < nt; t++) acc[r][t] = _mm512_setzero_ps();
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
                    _mm256_store_ps(dd[r][t], _mm256_mul_ps(_mm256_loadu_ps(dxf + r * ZNBMAX + c), dy));
            }
        } else {
            for (int k = 0; k < kn; k++)
                UNROLL
                for (int t = 0; t < nt; t++) {
                    uint16_t dyh;
                    memcpy(&dyh, p[t] + sofs + 2 * (c + k), 2);
                    UNROLL
                    for (int r = 0; r < nr; r++) dd[r][t][k] = dxf[r * ZNBMAX + c + k] * H2F(dyh);
                }
        }
        const float *ddp = &dd[0][0][0];
        __asm__("" : "+r"(ddp));
#define Z_STEP(k)                                                                                  \
        do {                                                                                       \
            __m512i qa[ZR], qb[ZR];                                                                \
            UNROLL                                                                                 \
            for (int r = 0; r < nr; r++) {                                                         \
                qa[r] = _mm512_permutex2var_epi32(                                                 \
                    _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)x[r][c + (k)].qs)), ilv2, \
                    _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)x[r][c + (k) + 1].qs))); \
                qb[r] = _mm512_sub_epi32(magic_i, _mm512_dpbusd_epi32(_mm512_setzero_si512(), u128, qa[r])); \
            }                                                                                      \
            UNROLL                                                                                 \
            for (int t = 0; t < nt; t++) {                                                         \
                const __m512i qy = _mm512_permutexvar_epi32(ilv1,                                  \
                    _mm512_loadu_si512((const void *)(p[t] + 32 * (c + (k)))));                    \
                UNROLL                                                                             \
                for (int r = 0; r < nr; r++) Z_PAIR(acc[r][t], qa[r], qb[r], qy, ddp + (r * ZT + t) * 8 + (k), magic); \
            }                                                                                      \
        } while (0)
        if (kn == 8) {
            UNROLL
            for (int k = 0; k < 8; k += 2) Z_STEP(k);
        } else {
            int k = 0;
            for (; k + 1 < kn; k += 2) Z_STEP(k);
            if (k < kn) { /* a last even block alone: its lanes are the even ones (mask 0x5555) */
                UNROLL
                for (int r = 0; r < nr; r++) {
                    const __m512i qa = _mm512_permutexvar_epi32(ilv1,
                        _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)x[r][c + k].qs)));
                    const __m512i qb = _mm512_sub_epi32(magic_i, _mm512_dpbusd_epi32(_mm512_setzero_si512(), u128, qa));
                    UNROLL
                    for (int t = 0; t < nt; t++) {
                        const __m512i qy = _mm512_permutexvar_epi32(ilv1,
                            _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(p[t] + 32 * (c + k)))));
                        const __m512 f = _mm512_sub_ps(_mm512_castsi512_ps(_mm512_dpbusd_epi32(qb, qy, qa)), magic);
                        acc[r][t] = _mm512_mask_add_ps(acc[r][t], 0x5555, acc[r][t],
                                                       _mm512_mul_ps(f, _mm512_set1_ps(dd[r][t][k])));
                    }
                }
            }
        }
#undef Z_STEP
    }
#undef magic_i
    const __m512i dei = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
    UNROLL
    for (int r = 0; r < nr; r++)
        UNROLL
        for (int t = 0; t < nt; t++) {
            const __m512 a = _mm512_permutexvar_ps(dei, acc[r][t]); /* [acc0 | acc1] */
            const __m256 s = _mm256_add_ps(_mm512_castps512_ps256(a), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1)));
            out[(uint64_t)t * os + r] = hsum_ps(s) + 0.0f;
        }
}

/* the driver shared with the ymm tile (x86_tile_q8.h): rows ZRG at a time, prefetching the next */
#define TP_PASS tile_z_pass
#define TP_RUN tile_z_run
#define TP_TILE tile_z
#define TP_R ZR
#define TP_T ZT
#define TP_RG ZRG
#define TP_NBMAX ZNBMAX
#include "quant/x86_tile_pass.h"

void chord_dot_tile_q8_0_packed_avx512(int64_t n, const void *x, uint64_t xs, int nx, const void *y,
                                       uint64_t ys, int ny, float *out, uint64_t os) {
    const int64_t nb = n / 32;
    const uint8_t *xb = x;
    if (nb > ZNBMAX) { /* longer rows than the scale scratch: the ymm tile's one-row fallback */
        chord_dot_tile_q8_0_packed_avx512vnni(n, x, xs, nx, y, ys, ny, out, os);
        return;
    }
    tile_z_run(nb, xb, xs, nx, y, ys, ny, out, os);
}

#endif
