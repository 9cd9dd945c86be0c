/*
 * x86_vnni.h — template: the prompt-batch (multi-row) kernels of Q4_K, Q6_K and Q8_0 with the
 * fused integer multiply-accumulates of VNNI (vpdpwssd = madd_epi16 + add_epi32, vpdpbusd =
 * maddubs + madd with ones + add, without the int16 saturation). The integer sums are exact
 * either way, so every result stays bit-identical to the AVX2 kernel's and, for Q8_0, to the scalar
 * reference's (tests/test_quant.c).
 *
 * Two instruction sets carry these on 256-bit registers: AVX-VNNI (VEX; Intel Alder Lake and
 * later, AMD Zen 5 client parts) and AVX512-VNNI with AVX512-VL (EVEX; Xeon since Cascade Lake,
 * AMD Zen 4/5 EPYC). The includer (vnni.c, avx512vnni.c) defines VNNI_NAME(base) (the kernels'
 * names), VNNI_DPWSSD and VNNI_DPBUSD (the intrinsics) and compiles with its own -m flags,
 * and may define VNNI_KROWS 8 (the Q4_K/Q6_K kernels then take activation rows 8 at a time,
 * which needs the 32 vector registers of AVX-512VL; default 4).
 */
#ifndef VNNI_KROWS
#define VNNI_KROWS 4
#endif
#if VNNI_KROWS == 8
#define VNNI_KROWS_BY X86_ROWS_BY8
#else
#define VNNI_KROWS_BY X86_ROWS_BY4
#endif
#define DOT_ROWS_VNNI(name, block, rows, by)                                                   \
    void VNNI_NAME(chord_dot_rows_##name)(int64_t n, const void *x, const void *y, uint64_t ys, \
                                          int ny, float *out) {                                 \
        by(rows, block, n, x, y, ys, ny, out);                                                  \
    }

/* Q8_0 with vpdpbusd; the block scale product as a vector multiply of two broadcast loads (the
 * same IEEE product as the scalar one, without a scalar-to-vector move per row). */
static inline __attribute__((always_inline)) __m256 VNNI_NAME(step_q8_0)(const chord_block_q8_0 *x,
        const chord_block_q8_0 *y, __m256 acc) {
    const __m256 d = _mm256_mul_ps(_mm256_broadcast_ss(&chord_x86_h2f[x->d]), _mm256_broadcast_ss(&chord_x86_h2f[y->d]));
    const __m256i qx = _mm256_loadu_si256((const __m256i *)x->qs);
    const __m256i qy = _mm256_loadu_si256((const __m256i *)y->qs);
    const __m256i s = VNNI_DPBUSD(_mm256_setzero_si256(), _mm256_sign_epi8(qx, qx), _mm256_sign_epi8(qy, qx));
    return _mm256_add_ps(acc, _mm256_mul_ps(d, _mm256_cvtepi32_ps(s)));
}

#define R32_NAME void VNNI_NAME(rows_q8_0)
#define R32_TX chord_block_q8_0
#define R32_TY chord_block_q8_0
#define R32_STEP VNNI_NAME(step_q8_0)
#define R32_MAXR VNNI_KROWS
#include "quant/x86_rows32.h"
DOT_ROWS_VNNI(q8_0, chord_block_q8_0, VNNI_NAME(rows_q8_0), VNNI_KROWS_BY)

/* Q8_0 against packed activation rows (chord_pack_q8_0), per row per block one vpdpbusd, one
 * conversion, one multiply by a broadcast scale product and one add (ref.c's canonical order), where rows_q8_0 also fixes the signs and
 * multiplies the scales. Bit-identical to it: vpdpbusd(-128 sum4(qx), qy + 128, qx) is the same
 * exact int32 lane as vpdpbusd(0, |qx|, sign(qy, qx)) (no saturation: |lane| < 2^17); the 8
 * scale products of a chunk are the same IEEE products, one vector multiply per row instead of
 * one per block; even and odd blocks go to acc0 and acc1 and the result is hsum(acc0 + acc1) + 0
 * as in rows_q8_0 (x86_rows32.h). */
static inline __attribute__((always_inline)) void VNNI_NAME(rows_q8_0p)(int64_t n, const chord_block_q8_0 *x,
        const uint8_t *yb, uint64_t ys, const int nr, float *out) {
    const int64_t nb = n / 32;
    const __m256i u128 = _mm256_set1_epi8((char)0x80);
    __m256 acc0[VNNI_KROWS], acc1[VNNI_KROWS];
    float dd[VNNI_KROWS][8] __attribute__((aligned(32)));
    const uint8_t *p[VNNI_KROWS];  /* each row's levels at the current chunk */
    UNROLL
    for (int r = 0; r < nr; r++) {
        acc0[r] = _mm256_setzero_ps(); acc1[r] = _mm256_setzero_ps();
        p[r] = yb + (uint64_t)r * ys;
    }
    /* the scales of a row at p + sofs (sofs = the scales' offset minus the levels' consumed) */
    int64_t sofs = nb * 32;
    int64_t c = 0;
    for (; c + 8 <= nb; c += 8, x += 8, sofs -= 8 * 32 - 16) {
        const __m256 dx = _mm256_setr_ps(H2F(x[0].d), H2F(x[1].d), H2F(x[2].d), H2F(x[3].d),
                                         H2F(x[4].d), H2F(x[5].d), H2F(x[6].d), H2F(x[7].d));
        UNROLL
        for (int r = 0; r < nr; r++) {
            const __m128i dy = _mm_loadu_si128((const __m128i *)(p[r] + sofs));
            _mm256_store_ps(dd[r], _mm256_mul_ps(dx, _mm256_cvtph_ps(dy)));
        }
        /* an opaque copy of the pointer, so that GCC addresses dd[r][k] as base + offset in each
         * FMA's broadcast operand instead of hoisting 64 addresses or keeping dd in registers */
        const float *ddp = &dd[0][0];
        __asm__("" : "+r"(ddp));
        UNROLL
        for (int k = 0; k < 8; k++) {
            const __m256i qx = _mm256_loadu_si256((const __m256i *)x[k].qs);
            const __m256i corr = _mm256_sub_epi32(_mm256_setzero_si256(), VNNI_DPBUSD(_mm256_setzero_si256(), u128, qx));
            UNROLL
            for (int r = 0; r < nr; r++) {
                const __m256i qy = _mm256_loadu_si256((const __m256i *)(p[r] + 32 * k));
                const __m256 f = _mm256_cvtepi32_ps(VNNI_DPBUSD(corr, qy, qx));
                if (k & 1) acc1[r] = _mm256_add_ps(acc1[r], _mm256_mul_ps(_mm256_broadcast_ss(ddp + 8 * r + k), f));
                else acc0[r] = _mm256_add_ps(acc0[r], _mm256_mul_ps(_mm256_broadcast_ss(ddp + 8 * r + k), f));
            }
        }
        UNROLL
        for (int r = 0; r < nr; r++) p[r] += 8 * 32;
    }
    for (; c < nb; c++, x++, sofs -= 32 - 2) { /* the last nb % 8 blocks */
        const __m256i qx = _mm256_loadu_si256((const __m256i *)x->qs);
        const __m256i corr = _mm256_sub_epi32(_mm256_setzero_si256(), VNNI_DPBUSD(_mm256_setzero_si256(), u128, qx));
        const float xd = H2F(x->d);
        UNROLL
        for (int r = 0; r < nr; r++) {
            uint16_t dyh;
            memcpy(&dyh, p[r] + sofs, 2);
            const __m256 d = _mm256_set1_ps(xd * H2F(dyh));
            const __m256i qy = _mm256_loadu_si256((const __m256i *)p[r]);
            const __m256 f = _mm256_cvtepi32_ps(VNNI_DPBUSD(corr, qy, qx));
            if (c & 1) acc1[r] = _mm256_add_ps(acc1[r], _mm256_mul_ps(d, f));
            else acc0[r] = _mm256_add_ps(acc0[r], _mm256_mul_ps(d, f));
            p[r] += 32;
        }
    }
    UNROLL
    for (int r = 0; r < nr; r++) out[r] = hsum_ps(_mm256_add_ps(acc0[r], acc1[r])) + 0.0f;
}
#if VNNI_KROWS == 8
DOT_ROWS_VNNI(q8_0_packed, chord_block_q8_0, VNNI_NAME(rows_q8_0p), X86_ROWS_BY8)
#else
DOT_ROWS_VNNI(q8_0_packed, chord_block_q8_0, VNNI_NAME(rows_q8_0p), X86_ROWS_BY4)
#endif

#if VNNI_KROWS == 8
/* The prompt tile (x86_tile_q8.h), 2 weight rows x 4 tokens: 16 accumulators, which needs the 32
 * registers of AVX-512VL. Per weight block qa = the levels, qb = 0x4B400000 - 128 * sum4 (one
 * vpdpbusd of 0x80 bytes against the levels). One (row, token) block is then vpdpbusd from qb,
 * which leaves 0x4B400000 + lane; as a float that is exactly 12582912 + lane (the bits of
 * 1.5 * 2^23; |lane| <= 4 * 127 * 128 < 2^22 keeps it in [2^23, 2^24), where the spacing is 1),
 * and subtracting 12582912 gives exactly (float)lane, +0 for 0, as vcvtdq2ps would: the same
 * value, a subtraction instead of a conversion (3-8% on the tile in an interleaved
 * microbenchmark); then the multiply by the scale product as an embedded broadcast, and the add. */
#define QT_NAME(base) VNNI_NAME(base)
#define QT_CONSTS                                                                                  \
    const __m256i u128 = _mm256_set1_epi8((char)0x80);                                             \
    const __m256i magic_i = _mm256_set1_epi32(0x4B400000);                                         \
    const __m256 magic = _mm256_castsi256_ps(magic_i)
#define QT_ROW(qa, qb, qs)                                                                         \
    do {                                                                                           \
        (qa) = _mm256_loadu_si256((const __m256i *)(qs));                                          \
        (qb) = _mm256_sub_epi32(magic_i, VNNI_DPBUSD(_mm256_setzero_si256(), u128, (qa)));         \
    } while (0)
#define QT_TOK(p) _mm256_loadu_si256((const __m256i *)(p))
#define QT_PAIR(acc, qx, corr, qs, qy, d)                                                             \
    do {                                                                                           \
        __m256 s_;                                                                                 \
        __asm__("vmovdqa32 %[c], %[s]\n\t"                                                         \
                "vpdpbusd %[x], %[y], %[s]\n\t"                                                    \
                "vsubps %[m], %[s], %[s]\n\t"                                                      \
                "vmulps %[dd]%{1to8%}, %[s], %[s]\n\t"                                             \
                "vaddps %[s], %[a], %[a]"                                                          \
                : [a] "+v"(acc), [s] "=&v"(s_)                                                     \
                : [c] "v"(corr), [x] "v"(qx), [y] "v"(qy), [dd] "m"(d), [m] "v"(magic));           \
    } while (0)
#define QT_ROWS_P VNNI_NAME(rows_q8_0p)
#define QT_ROWS_BY X86_ROWS_BY8
#include "quant/x86_tile_q8.h"
#endif

/* rows_q4_K and rows_q6_K with vpdpwssd. */
#define KROWS_NAME(base) VNNI_NAME(base)
#define KROWS_ATTR
#define KROWS_MACC(acc, s, p) VNNI_DPWSSD(acc, s, p)
#define KROWS_MACC2(acc, s1, p1, s2, p2) VNNI_DPWSSD(VNNI_DPWSSD(acc, s1, p1), s2, p2)
#define KROWS_MAXR VNNI_KROWS
#include "quant/x86_rows_k.h"
DOT_ROWS_VNNI(q4_K, chord_block_q4_K, VNNI_NAME(rows_q4_K), VNNI_KROWS_BY)
DOT_ROWS_VNNI(q6_K, chord_block_q6_K, VNNI_NAME(rows_q6_K), VNNI_KROWS_BY)

/* The single-row (decode) kernels: the rows kernels with one activation row, so one fused
 * vpdpwssd / vpdpbusd where AVX2 spends a multiply-add and an add (the integer sums are exact
 * either way, so the results are chord_dot_*_avx2's bit for bit). */
#define DOT_ONE_VNNI(name, block, rows)                                                         \
    float VNNI_NAME(chord_dot_##name)(int64_t n, const void *x, const void *y) {                \
        float out;                                                                              \
        rows(n, (const block *)x, (const uint8_t *)y, 0, 1, &out);                              \
        return out;                                                                             \
    }
DOT_ONE_VNNI(q4_K, chord_block_q4_K, VNNI_NAME(rows_q4_K))
DOT_ONE_VNNI(q6_K, chord_block_q6_K, VNNI_NAME(rows_q6_K))
DOT_ONE_VNNI(q8_0, chord_block_q8_0, VNNI_NAME(rows_q8_0))
#undef DOT_ONE_VNNI

#undef DOT_ROWS_VNNI
#undef VNNI_KROWS_BY
