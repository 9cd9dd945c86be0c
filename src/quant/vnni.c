/*
 * vnni.c — AVX-VNNI kernels: the prompt-batch (multi-row) kernels of Q4_K, Q6_K and Q8_0 with
 * AVX-VNNI's fused integer multiply-accumulates (vpdpwssd = madd_epi16 + add_epi32, vpdpbusd =
 * maddubs + madd with ones + add, without the int16 saturation). The integer sums are exact either
 * way, so every result stays bit-identical to the AVX2 kernel's (tests/test_quant.c checks both).
 * Compiled with -mavx2 -mfma -mf16c -mavxvnni and installed by chord_quant_init only when CPUID
 * reports AVX-VNNI (traits.c). Shares x86.h and the row templates with avx2.c.
 */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <string.h>
#include "quant/quant.h"
#include "quant/blocks.h"
#include "quant/kernels.h"
#include "quant/x86.h"

#define DOT_ROWS_VNNI(name, block, rows)                                                       \
    void chord_dot_rows_##name##_vnni(int64_t n, const void *x, const void *y, uint64_t ys,     \
                                      int ny, float *out) {                                     \
        X86_ROWS_BY4(rows, block, n, x, y, ys, ny, out);                                        \
    }

/* Q8_0 with vpdpbusd; the block scale product as a vector multiply of two broadcast loads (the
 * same IEEE product as the scalar one, without a scalar-to-vector move per row). */
static inline __attribute__((always_inline)) __m256 step_q8_0_vnni(const chord_block_q8_0 *x,
        const chord_block_q8_0 *y, __m256 acc) {
    const __m256 d = _mm256_mul_ps(_mm256_broadcast_ss(&chord_x86_h2f[x->d]), _mm256_broadcast_ss(&chord_x86_h2f[y->d]));
    const __m256i qx = _mm256_loadu_si256((const __m256i *)x->qs);
    const __m256i qy = _mm256_loadu_si256((const __m256i *)y->qs);
    const __m256i s = _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(qx, qx),
                                              _mm256_sign_epi8(qy, qx));
    return _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), acc);
}

#define R32_NAME void rows_q8_0_vnni
#define R32_TX chord_block_q8_0
#define R32_TY chord_block_q8_0
#define R32_STEP step_q8_0_vnni
#define R32_MIN(x, y) 0.0f
#include "quant/x86_rows32.h"
DOT_ROWS_VNNI(q8_0, chord_block_q8_0, rows_q8_0_vnni)

/* rows_q4_K_vnni and rows_q6_K_vnni: the AVX2 kernels with vpdpwssd. */
#define KROWS_NAME(base) base##_vnni
#define KROWS_ATTR
#define KROWS_MACC(acc, s, p) _mm256_dpwssd_avx_epi32(acc, s, p)
#define KROWS_MACC2(acc, s1, p1, s2, p2) _mm256_dpwssd_avx_epi32(_mm256_dpwssd_avx_epi32(acc, s1, p1), s2, p2)
#include "quant/x86_rows_k.h"
DOT_ROWS_VNNI(q4_K, chord_block_q4_K, rows_q4_K_vnni)
DOT_ROWS_VNNI(q6_K, chord_block_q6_K, rows_q6_K_vnni)

#endif
