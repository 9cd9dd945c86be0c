/*
 * x86_vnni.h — template: the prompt-batch (multi-row) kernels of Q4_K, Q6_K and Q8_0 with the
 * fused integer multiply-accumulates of VNNI (vpdpwssd = madd_epi16 + add_epi32, vpdpbusd =
 * maddubs + madd with ones + add, without the int16 saturation). The integer sums are exact
 * either way, so every result stays bit-identical to the AVX2 kernel's (tests/test_quant.c).
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
    return _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), acc);
}

#define R32_NAME void VNNI_NAME(rows_q8_0)
#define R32_TX chord_block_q8_0
#define R32_TY chord_block_q8_0
#define R32_STEP VNNI_NAME(step_q8_0)
#define R32_MIN(x, y) 0.0f
#define R32_MAXR VNNI_KROWS
#include "quant/x86_rows32.h"
DOT_ROWS_VNNI(q8_0, chord_block_q8_0, VNNI_NAME(rows_q8_0), VNNI_KROWS_BY)

/* rows_q4_K and rows_q6_K with vpdpwssd. */
#define KROWS_NAME(base) VNNI_NAME(base)
#define KROWS_ATTR
#define KROWS_MACC(acc, s, p) VNNI_DPWSSD(acc, s, p)
#define KROWS_MACC2(acc, s1, p1, s2, p2) VNNI_DPWSSD(VNNI_DPWSSD(acc, s1, p1), s2, p2)
#define KROWS_MAXR VNNI_KROWS
#include "quant/x86_rows_k.h"
DOT_ROWS_VNNI(q4_K, chord_block_q4_K, VNNI_NAME(rows_q4_K), VNNI_KROWS_BY)
DOT_ROWS_VNNI(q6_K, chord_block_q6_K, VNNI_NAME(rows_q6_K), VNNI_KROWS_BY)

#undef DOT_ROWS_VNNI
#undef VNNI_KROWS_BY
