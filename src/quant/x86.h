/*
 * x86.h — what the x86 kernel files (avx2.c, vnni.c) share: the fp16 scale table, horizontal
 * sums, nibble and bit unpacking, the integer dot primitives, the Q4_K/Q5_K scale unpacking and
 * the split of a prompt batch into groups of at most 4 activation rows. Static inline, so each
 * kernel file compiles them with its own instruction set. Included only by src/quant/<x86 isa>.c.
 */
#ifndef CHORD_QUANT_X86_H
#define CHORD_QUANT_X86_H

#include <immintrin.h>
#include <string.h>
#include "quant/blocks.h"

/* fp16 -> fp32 of block scales by table lookup (256 KiB, filled once by chord_quant_init
 * before any kernel is installed): one load instead of an insert + convert pair, which was the
 * bottleneck of the 32-element types (two scales per 32 weights). The table holds F16C's exact
 * conversions, identical to chord_fp16_to_fp32. */
extern float chord_x86_h2f[65536];
static inline float H2F(uint16_t h) { return chord_x86_h2f[h]; }

/* Full unrolling turns the loop counters below into constants, so shift counts and shuffle
 * controls become immediates (GCC at -O2 does not unroll on its own; clang accepts this too). */
#define UNROLL _Pragma("GCC unroll 8")

/* ---- helpers ---------------------------------------------------------------------------------- */

static inline float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline int hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

/* 32 nibbles -> 32 bytes: low nibbles of the 16 bytes first, then the high nibbles (the order
 * of the 32-element block types). */
static inline __m256i nibbles_32(const uint8_t *p) {
    const __m128i b = _mm_loadu_si128((const __m128i *)p);
    const __m256i x = _mm256_set_m128i(_mm_srli_epi16(b, 4), b);
    return _mm256_and_si256(x, _mm256_set1_epi8(0x0F));
}

/* 32 bits -> 32 bytes, 0xFF where the bit is set. */
static inline __m256i bits_32(const uint8_t *p) {
    uint32_t x;
    memcpy(&x, p, 4);
    const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32((int)x),
        _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0));
    const __m256i mask = _mm256_set1_epi64x((long long)0x7fbfdfeff7fbfdfeull);
    return _mm256_cmpeq_epi8(_mm256_or_si256(spread, mask), _mm256_set1_epi64x(-1));
}

/* Signed bytes x times signed bytes y, summed in groups of 4 into 8 int32. maddubs needs an
 * unsigned first operand: |x| and y carrying x's sign give the same products. */
static inline __m256i dot_i8_i32(__m256i x, __m256i y) {
    const __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
    return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

/* Unsigned bytes x (< 128) times signed bytes y, summed in groups of 4 into 8 int32. */
static inline __m256i dot_u8_i32(__m256i x, __m256i y) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(x, y), _mm256_set1_epi16(1));
}

/* Shuffle control that broadcasts 16-bit lane i (0..7) of each 128-bit half. */
static inline __m256i lane16(int i) {
    return _mm256_set1_epi16((short)((2 * i + 1) << 8 | 2 * i));
}

/* Low half gets 16-bit lane i, high half lane i+1 (a 32-byte group spans two 16-element
 * sub-blocks). */
static inline __m256i lane16_pair(int i) {
    const short lo = (short)((2 * i + 1) << 8 | 2 * i), hi = (short)((2 * i + 3) << 8 | (2 * i + 2));
    return _mm256_set_m128i(_mm_set1_epi16(hi), _mm_set1_epi16(lo));
}

/* Q4_K/Q5_K: the 8 scales and 8 mins (6 bits each) unpacked to 16 bytes: scales then mins. */
static inline __m128i k4_scales_mins(const uint8_t *s) {
    uint32_t u[3];
    memcpy(u, s, 12);
    const uint32_t m1 = 0x3f3f3f3f, m2 = 0x0f0f0f0f, m3 = 0x03030303;
    return _mm_set_epi32((int)(((u[2] >> 4) & m2) | (((u[1] >> 6) & m3) << 4)),   /* mins 4..7 */
                         (int)(u[1] & m1),                                          /* mins 0..3 */
                         (int)((u[2] & m2) | (((u[0] >> 6) & m3) << 4)),            /* scales 4..7 */
                         (int)(u[0] & m1));                                         /* scales 0..3 */
}

/* Shared by Q4_K and Q5_K: min correction of one super-block, dmin * sum_j m_j * bsum(j), as a
 * multiply and then an add (ref_k.c's canonical order, acck). */
static inline __m128 k4_min_term(const chord_block_q8_K *y, __m256i mins_scales, float dmin, __m128 acc_m) {
    const __m256i bs = _mm256_loadu_si256((const __m256i *)y->bsums);
    const __m128i pair = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
    const __m128i prod = _mm_madd_epi16(_mm256_extracti128_si256(mins_scales, 1), pair);
    return _mm_add_ps(acc_m, _mm_mul_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(prod)));
}

/* k4_min_term for two activation rows in one 256-bit register, lane for lane the same integers,
 * products and sums: one hadd pairs both rows' bsums, giving int32 lanes [r0 L0 L1, r1 L0 L1 |
 * r0 L2 L3, r1 L2 L3] where L0..L3 are k4_min_term's four lanes; mins2 = the mins as
 * [m0-3, m0-3 | m4-7, m4-7] (k4_mins2). Half the hadds, conversions and FMAs of two calls, and
 * one register per two rows, which lets the 8-row kernel keep every accumulator in a register.
 * (Multiply, then add, as k4_min_term.) */
static inline __m256i k4_mins2(__m256i mins_scales) {
    return _mm256_permute4x64_epi64(mins_scales, _MM_SHUFFLE(3, 3, 2, 2));
}
static inline __m256 k4_min_term2(const chord_block_q8_K *y0, const chord_block_q8_K *y1, __m256i mins2,
                                  float dmin0, float dmin1, __m256 acc_m) {
    const __m256i pair = _mm256_hadd_epi16(_mm256_loadu_si256((const __m256i *)y0->bsums),
                                           _mm256_loadu_si256((const __m256i *)y1->bsums));
    const __m256 d = _mm256_setr_ps(dmin0, dmin0, dmin1, dmin1, dmin0, dmin0, dmin1, dmin1);
    return _mm256_add_ps(acc_m, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_madd_epi16(mins2, pair))));
}
/* hsum_ps128 of each row's four lanes of a k4_min_term2 accumulator, in hsum_ps128's order
 * ((L0 + L2) + (L1 + L3)). */
static inline void k4_min_sums2(__m256 acc_m, float *m0, float *m1) {
    const __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc_m), _mm256_extractf128_ps(acc_m, 1));
    *m0 = _mm_cvtss_f32(_mm_add_ss(h, _mm_movehdup_ps(h)));
    const __m128 g = _mm_movehl_ps(h, h);
    *m1 = _mm_cvtss_f32(_mm_add_ss(g, _mm_movehdup_ps(g)));
}

static inline float hsum_ps128(__m128 s) {
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Runs rows(n, x, y_r..., nr, out) over ny activation rows in groups of at most 4, so that each
 * call's nr is a constant the kernel is specialized for. */
#define X86_ROWS_BY4(rows, block, n, x, y, ys, ny, out)                                            \
    do {                                                                                           \
        const uint8_t *yb_ = (const uint8_t *)(y);                                                 \
        for (; (ny) >= 4; (ny) -= 4, yb_ += 4 * (ys), (out) += 4) rows(n, (const block *)(x), yb_, ys, 4, out); \
        if ((ny) == 3) rows(n, (const block *)(x), yb_, ys, 3, out);                               \
        else if ((ny) == 2) rows(n, (const block *)(x), yb_, ys, 2, out);                          \
        else if ((ny) == 1) rows(n, (const block *)(x), yb_, ys, 1, out);                          \
    } while (0)

/* The same with groups of at most 8 (kernels built with KROWS_MAXR 8). */
#define X86_ROWS_BY8(rows, block, n, x, y, ys, ny, out)                                            \
    do {                                                                                           \
        const uint8_t *yb_ = (const uint8_t *)(y);                                                 \
        for (; (ny) >= 8; (ny) -= 8, yb_ += 8 * (ys), (out) += 8) rows(n, (const block *)(x), yb_, ys, 8, out); \
        switch (ny) {                                                                              \
        case 7: rows(n, (const block *)(x), yb_, ys, 7, out); break;                               \
        case 6: rows(n, (const block *)(x), yb_, ys, 6, out); break;                               \
        case 5: rows(n, (const block *)(x), yb_, ys, 5, out); break;                               \
        case 4: rows(n, (const block *)(x), yb_, ys, 4, out); break;                               \
        case 3: rows(n, (const block *)(x), yb_, ys, 3, out); break;                               \
        case 2: rows(n, (const block *)(x), yb_, ys, 2, out); break;                               \
        case 1: rows(n, (const block *)(x), yb_, ys, 1, out); break;                               \
        default: break;                                                                            \
        }                                                                                          \
    } while (0)

/* A decode entry point (chord_vec_dot_wrows_fn) named fn over an always-inline kernel taking nr
 * weight rows: nx (1..4) as a constant of each inlined copy (x86_wrows.h, avx512vnni_wrows.c). */
#define X86_WROWS_ENTRY(fn, block, kernel)                                                         \
    void fn(int64_t n, const void *x, uint64_t xs, int nx, const void *y, float *out) {            \
        const uint8_t *xb_ = x;                                                                  \
        const block *y_ = y;                                                                     \
        switch (nx) {                                                                            \
        case 4: kernel(n, xb_, xs, 4, y_, out); break;                                           \
        case 3: kernel(n, xb_, xs, 3, y_, out); break;                                           \
        case 2: kernel(n, xb_, xs, 2, y_, out); break;                                           \
        default: kernel(n, xb_, xs, 1, y_, out); break;                                          \
        }                                                                                        \
    }

#endif
