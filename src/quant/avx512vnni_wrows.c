/*
 * avx512vnni_wrows.c — the decode shape (chord_vec_dot_wrows: nr <= 4 weight rows against one
 * activation row) of Q4_K and Q6_K on 512-bit registers with vpdpwssd (AVX512-VNNI), compiled
 * with -mavx512f/vl/bw/vnni and installed by chord_quant_init only when the CPU has them
 * (traits.c). Same structure as x86_wrows.h's AVX2 kernels (read its comments), with these
 * differences:
 *   - one zmm carries two groups of 32 elements: Q4_K's 64 bytes of qs give groups 4c, 4c+2
 *     (low nibbles) and 4c+1, 4c+3 (high), against activations rearranged once per block for all
 *     rows (4 vshufi64x2); this beat broadcasting each 32-byte chunk to both halves and shifting
 *     the upper half by 4 (vpsrlvw; groups 2j, 2j+1 = contiguous activations): 47.0 vs 42.3 GB/s,
 *     L2-resident 4-row calls on Zen 5; Q6_K's 64 bytes of ql already hold groups k, k+1 side by
 *     side;
 *   - maddubs then vpdpwssd (multiply by the int16 scales and accumulate) instead of maddubs,
 *     madd and add;
 *   - the float step of two rows in one zmm: each row's 16 int32 lanes are folded exactly into
 *     its 8 canonical lanes (lanes L and L+8 add up to ref_k.c's lane L), rows a and b side by
 *     side, then one conversion, one multiply by [d_a x8 | d_b x8] and one add (not fused);
 *   - Q4_K's min term of all 4 rows in one zmm (row r's 4 lanes in 128-bit lane r).
 * Every row's float operations are ref_k.c's canonical ones in its order, so out[r] is
 * bit-identical to chord_dot_<type>_avx2(n, x_r, y) (tests/test_quant_rows.c).
 */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <stdint.h>
#include "quant/quant.h"
#include "quant/blocks.h"
#include "quant/kernels.h"
#include "quant/x86.h"

#define W5_MAX 4
/* Software prefetch distance in each row's stream, as x86_wrows.h's WROWS_PF but 8x farther:
 * Zen 5 decode at 1 thread, 3 interleaved rounds per model with the other core half busy,
 * TinyLlama Q4_K_M tok/s: 256 B 40.2-41.9 / 2 KiB 46.4-49.9 / 4 KiB 43.0-47.5 / 8 KiB 40.2-45.6;
 * 7B-shaped Q4_K_M: 256 B 6.3-6.9 / 1 KiB 6.7-6.8 / 2 KiB 7.5-7.9 / 4 KiB 6.6-7.6. (A 32 MiB
 * bench_kernels matvec preferred 256 B: the end-to-end rounds decided.) */
#ifndef W5_PF
#define W5_PF 2048
#endif
#define W5_PREFETCH(p, bytes)                                                                     \
    do {                                                                                          \
        if (W5_PF)                                                                                \
            for (int pf_ = 0; pf_ < (bytes); pf_ += 64)                                            \
                _mm_prefetch((const char *)(p) + W5_PF + pf_, _MM_HINT_T0);                       \
    } while (0)
/* row r of the call; rows past nr (odd nr) repeat the last row, whose results are dropped */
#define W5ROW(T, xb, xs, r, nr) ((const T *)((xb) + (uint64_t)((r) < (nr) ? (r) : (nr) - 1) * (xs)))

/* [a_lo + a_hi | b_lo + b_hi]: two rows' 16 int32 lanes folded exactly into their 8 lanes. */
static inline __m512i fold2(__m512i a, __m512i b) {
    return _mm512_add_epi32(_mm512_shuffle_i64x2(a, b, 0x44), _mm512_shuffle_i64x2(a, b, 0xEE));
}

/* [f(a) x8 | f(b) x8] from the fp16 table */
static inline __m512 h2f_x8x2(uint16_t a, uint16_t b) {
    /* (insertf64x4: AVX512F; insertf32x8 would need AVX512DQ) */
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(_mm256_broadcast_ss(&chord_x86_h2f[a]))),
                                               _mm256_castps_pd(_mm256_broadcast_ss(&chord_x86_h2f[b])), 1));
}

/* the row's result from its 8 float lanes: x86.h's hsum_ps order (ref_k.c acck_result) */
static inline float lanes_lo(__m512 acc) { return hsum_ps(_mm512_castps512_ps256(acc)); }
static inline float lanes_hi(__m512 acc) { return hsum_ps(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc), 1))); }

/* ---- Q4_K ------------------------------------------------------------------------------------- */

/* 128-bit lane r of v in all four lanes (the shuffle's immediate spelled out per r: clang needs a
 * constant expression there even after inlining, at -O1 in the ASan build) */
static inline __m512i lane_bcast(__m512i v, int r) {
    switch (r) {
    case 0: return _mm512_shuffle_i64x2(v, v, 0x00);
    case 1: return _mm512_shuffle_i64x2(v, v, 0x55);
    case 2: return _mm512_shuffle_i64x2(v, v, 0xAA);
    default: return _mm512_shuffle_i64x2(v, v, 0xFF);
    }
}

/* x86_wrows.h's k4_scales_mins_x2 for four blocks: 128-bit lane r = block r's 8 scales, 8 mins */
static inline __m512i k4_scales_mins_x4(__m512i v) {
    const __m512i a = _mm512_shuffle_epi32(v, _MM_SHUFFLE(2, 1, 2, 0));   /* u0 u2 u1 u2 */
    const __m512i b = _mm512_shuffle_epi32(v, _MM_SHUFFLE(1, 1, 0, 0));   /* u0 u0 u1 u1 */
    const __m512i lo = _mm512_and_si512(_mm512_srlv_epi32(a, _mm512_broadcast_i32x4(_mm_setr_epi32(0, 0, 0, 4))),
        _mm512_broadcast_i32x4(_mm_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f)));
    const __m512i hi = _mm512_and_si512(_mm512_srli_epi32(b, 2),
        _mm512_broadcast_i32x4(_mm_setr_epi32(0, 0x30303030, 0, 0x30303030)));
    return _mm512_or_si512(lo, hi);
}

/* Shuffle control for 64-byte piece c's scales, nibble half h (0 low, 1 high): the int16 lanes
 * of the lower 256 bits = scale byte 4c + h (group 4c + h), of the upper = byte 4c + 2 + h. */
static inline __m512i q4k_sc_ctrl(int c, int h) {
    return _mm512_inserti64x4(_mm512_set1_epi16((short)(0x8000 | (4 * c + h))),
                              _mm256_set1_epi16((short)(0x8000 | (4 * c + 2 + h))), 1);
}

/* One row's block: 16 int32 lanes whose halves add up to the canonical 8 (scales in every
 * 128-bit lane of sm: bytes 0..7). yq[2c + h] = the activations of groups 4c + h, 4c + 2 + h. */
static inline __attribute__((always_inline)) __m512i q4k_block512(const chord_block_q4_K *x, const __m512i *yq,
                                                                   __m512i sm) {
    const __m512i m4 = _mm512_set1_epi8(0xF);
    __m512i sumi = _mm512_setzero_si512();
    UNROLL
    for (int c = 0; c < 2; c++) {
        const __m512i bits = _mm512_loadu_si512((const void *)(x->qs + 64 * c));
        const __m512i lo = _mm512_and_si512(bits, m4), hi = _mm512_and_si512(_mm512_srli_epi16(bits, 4), m4);
        sumi = _mm512_dpwssd_epi32(sumi, _mm512_maddubs_epi16(lo, yq[2 * c]), _mm512_shuffle_epi8(sm, q4k_sc_ctrl(c, 0)));
        sumi = _mm512_dpwssd_epi32(sumi, _mm512_maddubs_epi16(hi, yq[2 * c + 1]), _mm512_shuffle_epi8(sm, q4k_sc_ctrl(c, 1)));
    }
    return sumi;
}
/* the activations in q4k_block512's order: [g0 g2] [g1 g3] [g4 g6] [g5 g7] */
static inline void q4k_load_y(const int8_t *q, __m512i *yq) {
    UNROLL
    for (int c = 0; c < 2; c++) {
        const __m512i a = _mm512_loadu_si512((const void *)(q + 128 * c)), b = _mm512_loadu_si512((const void *)(q + 128 * c + 64));
        yq[2 * c] = _mm512_shuffle_i64x2(a, b, 0x44);
        yq[2 * c + 1] = _mm512_shuffle_i64x2(a, b, 0xEE);
    }
}

static inline __attribute__((always_inline)) void w5_q4_K(int64_t n, const uint8_t *xb, uint64_t xs,
        const int nr, const chord_block_q8_K *y, float *out) {
    __m512 acc[W5_MAX / 2];
    __m512 acc_m = _mm512_setzero_ps();   /* 128-bit lane r: row r's 4 min lanes */
    UNROLL
    for (int q = 0; q < W5_MAX / 2; q++) acc[q] = _mm512_setzero_ps();
    const int np = (nr + 1) / 2;   /* row pairs */
    for (int64_t i = 0; i < n / QK_K; i++) {
        const chord_block_q4_K *x[W5_MAX];
        UNROLL
        for (int r = 0; r < 2 * np; r++) {
            x[r] = W5ROW(chord_block_q4_K, xb, xs, r, nr) + i;
            if (r < nr) W5_PREFETCH(x[r], 144);
        }
        /* the activation block, once for all rows */
        __m512i yq[4];
        q4k_load_y(y[i].qs, yq);
        const __m256i bs = _mm256_loadu_si256((const __m256i *)y[i].bsums);
        const __m128i pair = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
        const __m512 yd = _mm512_set1_ps(y[i].d), nyd = _mm512_set1_ps(-y[i].d);
        /* the scales and mins of (up to) 4 rows, row r in 128-bit lane r */
        __m512i v = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)x[0]->scales));
        if (nr > 1) {
            v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)x[1]->scales), 1);
            if (nr > 2) {
                v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)x[2]->scales), 2);
                v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)x[nr > 3 ? 3 : 2]->scales), 3);
            }
        }
        const __m512i sm = k4_scales_mins_x4(v);
        /* min term: lane q of row r = m[2q] * pair[2q] + m[2q+1] * pair[2q+1] */
        {
            const __m512i mins = _mm512_shuffle_epi8(sm, _mm512_broadcast_i32x4(_mm_setr_epi8(
                8, -128, 9, -128, 10, -128, 11, -128, 12, -128, 13, -128, 14, -128, 15, -128)));
            const __m512i prod = _mm512_madd_epi16(mins, _mm512_broadcast_i32x4(pair));
            __m512 dm = _mm512_castps128_ps512(_mm_broadcast_ss(&chord_x86_h2f[x[0]->dmin]));
            if (nr > 1) {
                dm = _mm512_insertf32x4(dm, _mm_broadcast_ss(&chord_x86_h2f[x[1]->dmin]), 1);
                if (nr > 2) {
                    dm = _mm512_insertf32x4(dm, _mm_broadcast_ss(&chord_x86_h2f[x[2]->dmin]), 2);
                    dm = _mm512_insertf32x4(dm, _mm_broadcast_ss(&chord_x86_h2f[x[nr > 3 ? 3 : 2]->dmin]), 3);
                }
            }
            acc_m = _mm512_add_ps(acc_m, _mm512_mul_ps(_mm512_mul_ps(nyd, dm), _mm512_cvtepi32_ps(prod)));
        }
        UNROLL
        for (int q = 0; q < np; q++) {
            const int a = 2 * q, b = 2 * q + 1 < nr ? 2 * q + 1 : 2 * q;
            const __m512i sa = q4k_block512(x[a], yq, lane_bcast(sm, a));
            const __m512i sb = q4k_block512(x[b], yq, lane_bcast(sm, b));
            const __m512 d = _mm512_mul_ps(yd, h2f_x8x2(x[a]->d, x[b]->d));
            acc[q] = _mm512_add_ps(acc[q], _mm512_mul_ps(d, _mm512_cvtepi32_ps(fold2(sa, sb))));
        }
    }
    float m[16] __attribute__((aligned(64)));
    _mm512_store_ps(m, acc_m);
    UNROLL
    for (int r = 0; r < nr; r++) {
        const float s = r & 1 ? lanes_hi(acc[r / 2]) : lanes_lo(acc[r / 2]);
        out[r] = s + hsum_ps128(_mm_load_ps(m + 4 * r));
    }
}

/* ---- Q6_K ------------------------------------------------------------------------------------- */

/* word indices: 128-bit lane t of the result = scale 4m + t (groups of 16 elements) */
static inline __m512i q6k_sc_idx(int m) {
    return _mm512_inserti64x4(
        _mm512_castsi256_si512(_mm256_set_m128i(_mm_set1_epi16((short)(4 * m + 1)), _mm_set1_epi16((short)(4 * m)))),
        _mm256_set_m128i(_mm_set1_epi16((short)(4 * m + 3)), _mm_set1_epi16((short)(4 * m + 2))), 1);
}

/* One row's block: 16 int32 lanes (halves to fold) of the scale term with unsigned levels. */
static inline __attribute__((always_inline)) __m512i q6k_block512(const chord_block_q6_K *x, const __m512i *yq,
                                                                   __m256i sc16) {
    const __m512i m4 = _mm512_set1_epi8(0xF), m30 = _mm512_set1_epi8(0x30);
    const __m512i sh01 = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
    const __m512i sh23 = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
    const __m512i sc = _mm512_castsi256_si512(sc16);
    __m512i sumi = _mm512_setzero_si512();
    UNROLL
    for (int j = 0; j < 2; j++) {
        /* ql bytes 0-31: groups 4j (low nibbles) and 4j+2 (high); 32-63: groups 4j+1, 4j+3 */
        const __m512i l = _mm512_loadu_si512((const void *)(x->ql + 64 * j));
        const __m512i h = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(x->qh + 32 * j)));
        /* the two high bits of group k sit at bits 2k, 2k+1 of h's bytes: to bits 4, 5 */
        const __m512i q01 = _mm512_or_si512(_mm512_and_si512(l, m4), _mm512_and_si512(_mm512_sllv_epi16(h, sh01), m30));
        const __m512i q23 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4),
                                            _mm512_and_si512(_mm512_srlv_epi16(h, sh23), m30));
        sumi = _mm512_dpwssd_epi32(sumi, _mm512_maddubs_epi16(q01, yq[2 * j]),
                                   _mm512_permutexvar_epi16(q6k_sc_idx(2 * j), sc));
        sumi = _mm512_dpwssd_epi32(sumi, _mm512_maddubs_epi16(q23, yq[2 * j + 1]),
                                   _mm512_permutexvar_epi16(q6k_sc_idx(2 * j + 1), sc));
    }
    return sumi;
}

static inline __attribute__((always_inline)) void w5_q6_K(int64_t n, const uint8_t *xb, uint64_t xs,
        const int nr, const chord_block_q8_K *y, float *out) {
    __m512 acc[W5_MAX / 2];
    UNROLL
    for (int q = 0; q < W5_MAX / 2; q++) acc[q] = _mm512_setzero_ps();
    const int np = (nr + 1) / 2;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const chord_block_q6_K *x[W5_MAX];
        UNROLL
        for (int r = 0; r < 2 * np; r++) {
            x[r] = W5ROW(chord_block_q6_K, xb, xs, r, nr) + i;
            if (r < nr) W5_PREFETCH(x[r], 210);
        }
        __m512i yq[4];
        UNROLL
        for (int j = 0; j < 4; j++) yq[j] = _mm512_loadu_si512((const void *)(y[i].qs + 64 * j));
        const __m512i bs = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)y[i].bsums));
        const __m512 yd = _mm512_set1_ps(y[i].d);
        UNROLL
        for (int q = 0; q < np; q++) {
            const int a = 2 * q, b = 2 * q + 1 < nr ? 2 * q + 1 : 2 * q;
            const __m256i sca = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x[a]->scales));
            const __m256i scb = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x[b]->scales));
            const __m512i sa = q6k_block512(x[a], yq, sca);
            const __m512i sb = q6k_block512(x[b], yq, scb);
            /* levels are stored +32: lane L less 32 * (sc[2L] bsums[2L] + sc[2L+1] bsums[2L+1]) */
            const __m512i sub = _mm512_slli_epi32(_mm512_madd_epi16(bs, _mm512_inserti64x4(_mm512_castsi256_si512(sca), scb, 1)), 5);
            const __m512 d = _mm512_mul_ps(yd, h2f_x8x2(x[a]->d, x[b]->d));
            acc[q] = _mm512_add_ps(acc[q], _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_sub_epi32(fold2(sa, sb), sub))));
        }
    }
    UNROLL
    for (int r = 0; r < nr; r++) out[r] = r & 1 ? lanes_hi(acc[r / 2]) : lanes_lo(acc[r / 2]);
}

X86_WROWS_ENTRY(chord_dot_wrows_q4_K_avx512vnni, chord_block_q8_K, w5_q4_K)
X86_WROWS_ENTRY(chord_dot_wrows_q6_K_avx512vnni, chord_block_q8_K, w5_q6_K)

#endif
