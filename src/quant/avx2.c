/*
 * avx2.c — AVX2 + FMA + F16C kernels: dot products of every weight type against its activation
 * type, and the activation quantizers. Compiled with -mavx2 -mfma -mf16c and only called after
 * chord_quant_init found those features (quant.c), so nothing here runs on an older CPU.
 *
 * Dot products: the integer part of each block is computed exactly, as in the scalar reference
 * (quant_ref*.c), with _mm256_maddubs_epi16 (unsigned 8-bit x signed 8-bit, pairs summed to 16
 * bits) and _mm256_madd_epi16 (16-bit x 16-bit, pairs summed to 32 bits). maddubs saturates at
 * ±32767, which the level ranges here never reach (worst case 2*63*127 for Q6_K), with one
 * exception shared with ggml: a Q8_0 weight of -128 times an activation of -128 — our quantizers
 * never write -128. Only the float accumulation order differs from the reference, so results
 * agree to float rounding (tests/test_quant.c states the tolerances).
 *
 * Quantizers: bit-identical to the reference (same IEEE operations; roundf is rebuilt exactly
 * from truncation, nearest_int is the default round-to-nearest-even conversion).
 */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <string.h>
#include <math.h>
#include "quant/quant.h"
#include "quant/blocks.h"
#include "quant/kernels.h"

/* fp16 -> fp32 of block scales by table lookup (256 KiB, filled once by chord_quant_init
 * before any kernel is installed): one load instead of an insert + convert pair, which was the
 * bottleneck of the 32-element types (two scales per 32 weights). The table holds F16C's exact
 * conversions, identical to chord_fp16_to_fp32. */
static float h2f_table[65536];
static inline float H2F(uint16_t h) { return h2f_table[h]; }

void chord_avx2_init(void) {
    for (uint32_t i = 0; i < 65536; i++) h2f_table[i] = _cvtsh_ss((uint16_t)i);
}

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

/* Dispatches ny activation rows to the nr-specialized kernel in groups of at most 4. */
#define DOT_ROWS(name, block, rows)                                                            \
    float chord_dot_##name##_avx2(int64_t n, const void *x, const void *y) {                    \
        float out;                                                                              \
        rows(n, (const block *)x, (const uint8_t *)y, 0, 1, &out);                              \
        return out;                                                                             \
    }                                                                                           \
    void chord_dot_rows_##name##_avx2(int64_t n, const void *x, const void *y, uint64_t ys,     \
                                      int ny, float *out) {                                     \
        const uint8_t *yb = y;                                                                  \
        for (; ny >= 4; ny -= 4, yb += 4 * ys, out += 4) rows(n, (const block *)x, yb, ys, 4, out); \
        if (ny == 3) rows(n, (const block *)x, yb, ys, 3, out);                                 \
        else if (ny == 2) rows(n, (const block *)x, yb, ys, 2, out);                            \
        else if (ny == 1) rows(n, (const block *)x, yb, ys, 1, out);                            \
    }

/* The _vnni variants: the same kernels with AVX-VNNI's fused multiply-accumulates (vpdpwssd =
 * madd_epi16 + add_epi32, vpdpbusd = maddubs + madd with ones + add, without the int16
 * saturation). The integer sums are exact either way, so every result stays bit-identical to the
 * AVX2 kernel's; only called when CPUID reports AVX-VNNI (quant.c). Prompt batches only. */
#define VNNI __attribute__((target("avx2,fma,f16c,avxvnni")))
#define MACC_AVX2(acc, s, p) _mm256_add_epi32(acc, _mm256_madd_epi16(s, p))
#define MACC_VNNI(acc, s, p) _mm256_dpwssd_avx_epi32(acc, s, p)
#define MACC2_AVX2(acc, s1, p1, s2, p2) \
    _mm256_add_epi32(acc, _mm256_add_epi32(_mm256_madd_epi16(s1, p1), _mm256_madd_epi16(s2, p2)))
#define MACC2_VNNI(acc, s1, p1, s2, p2) \
    _mm256_dpwssd_avx_epi32(_mm256_dpwssd_avx_epi32(acc, s1, p1), s2, p2)

#define DOT_ROWS_ONLY(name, block, rows)                                                       \
    VNNI void chord_dot_rows_##name##_vnni(int64_t n, const void *x, const void *y, uint64_t ys, \
                                           int ny, float *out) {                                \
        const uint8_t *yb = y;                                                                  \
        for (; ny >= 4; ny -= 4, yb += 4 * ys, out += 4) rows(n, (const block *)x, yb, ys, 4, out); \
        if (ny == 3) rows(n, (const block *)x, yb, ys, 3, out);                                 \
        else if (ny == 2) rows(n, (const block *)x, yb, ys, 2, out);                            \
        else if (ny == 1) rows(n, (const block *)x, yb, ys, 1, out);                            \
    }

/* ---- float types -------------------------------------------------------------------------------- */

float chord_dot_f32_avx2(int64_t n, const void *vx, const void *vy) {
    const float *x = vx, *y = vy;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16), _mm256_loadu_ps(y + i + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24), _mm256_loadu_ps(y + i + 24), a3);
    }
    for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a0);
    float s = hsum_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; i < n; i++) s += x[i] * y[i];
    return s;
}

static inline __m256 load_f16(const uint16_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

float chord_dot_f16_avx2(int64_t n, const void *vx, const void *vy) {
    const uint16_t *x = vx, *y = vy;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_fmadd_ps(load_f16(x + i), load_f16(y + i), a0);
        a1 = _mm256_fmadd_ps(load_f16(x + i + 8), load_f16(y + i + 8), a1);
        a2 = _mm256_fmadd_ps(load_f16(x + i + 16), load_f16(y + i + 16), a2);
        a3 = _mm256_fmadd_ps(load_f16(x + i + 24), load_f16(y + i + 24), a3);
    }
    for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(load_f16(x + i), load_f16(y + i), a0);
    float s = hsum_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; i < n; i++) s += H2F(x[i]) * H2F(y[i]);
    return s;
}

static inline __m256 load_bf16(const uint16_t *p) {
    const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}

float chord_dot_bf16_avx2(int64_t n, const void *vx, const void *vy) {
    const uint16_t *x = vx, *y = vy;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_fmadd_ps(load_bf16(x + i), load_bf16(y + i), a0);
        a1 = _mm256_fmadd_ps(load_bf16(x + i + 8), load_bf16(y + i + 8), a1);
        a2 = _mm256_fmadd_ps(load_bf16(x + i + 16), load_bf16(y + i + 16), a2);
        a3 = _mm256_fmadd_ps(load_bf16(x + i + 24), load_bf16(y + i + 24), a3);
    }
    for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(load_bf16(x + i), load_bf16(y + i), a0);
    float s = hsum_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; i < n; i++) s += chord_bf16_to_fp32(x[i]) * chord_bf16_to_fp32(y[i]);
    return s;
}

/* fp32 -> fp16 with F16C (round to nearest even, like the reference); 8 lanes holding a NaN
 * go through the scalar path, because F16C keeps NaN payloads while ggml writes 0x7E00. */
void chord_quant_f16_avx2(const float *src, void *dst, int64_t n) {
    uint16_t *h = dst;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(src + i);
        if (_mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q))) {
            for (int k = 0; k < 8; k++) h[i + k] = chord_fp32_to_fp16(src[i + k]);
            continue;
        }
        _mm_storeu_si128((__m128i *)(h + i), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
    }
    for (; i < n; i++) h[i] = chord_fp32_to_fp16(src[i]);
}

/* fp16 -> fp32 is exact; F16C quiets signalling NaNs exactly as the reference does. */
void chord_dequant_f16_avx2(const void *src, float *dst, int64_t n) {
    const uint16_t *h = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, load_f16(h + i));
    for (; i < n; i++) dst[i] = H2F(h[i]);
}

/* ---- 32-element block types ------------------------------------------------------------------ */

/* The 32-element types: one block is a handful of instructions, so a single accumulator would
 * make every block wait for the previous FMA (4 cycles). Each kernel below is one per-block
 * step, run over even and odd blocks on two independent accumulators. */

static inline __m256 step_q4_0(const chord_block_q4_0 *x, const chord_block_q8_0 *y, __m256 acc) {
    const __m256 d = _mm256_set1_ps(H2F(x->d) * H2F(y->d));
    const __m256i qx = _mm256_sub_epi8(nibbles_32(x->qs), _mm256_set1_epi8(8));
    const __m256i qy = _mm256_loadu_si256((const __m256i *)y->qs);
    return _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_i8_i32(qx, qy)), acc);
}

static inline __m256 step_q4_1(const chord_block_q4_1 *x, const chord_block_q8_1 *y, __m256 acc) {
    const __m256 d = _mm256_set1_ps(H2F(x->d) * H2F(y->d));
    const __m256i qy = _mm256_loadu_si256((const __m256i *)y->qs);
    return _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_u8_i32(nibbles_32(x->qs), qy)), acc);
}

static inline __m256 step_q5_0(const chord_block_q5_0 *x, const chord_block_q8_0 *y, __m256 acc) {
    const __m256 d = _mm256_set1_ps(H2F(x->d) * H2F(y->d));
    /* (nibble | bit4<<4) - 16 == nibble when bit4 is set, nibble | 0xF0 (i.e. -16) when not */
    const __m256i hi = _mm256_andnot_si256(bits_32(x->qh), _mm256_set1_epi8((char)0xF0));
    const __m256i qx = _mm256_or_si256(nibbles_32(x->qs), hi);
    const __m256i qy = _mm256_loadu_si256((const __m256i *)y->qs);
    return _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_i8_i32(qx, qy)), acc);
}

static inline __m256 step_q5_1(const chord_block_q5_1 *x, const chord_block_q8_1 *y, __m256 acc) {
    const __m256 d = _mm256_set1_ps(H2F(x->d) * H2F(y->d));
    const __m256i hi = _mm256_and_si256(bits_32(x->qh), _mm256_set1_epi8(0x10));
    const __m256i qx = _mm256_or_si256(nibbles_32(x->qs), hi);
    const __m256i qy = _mm256_loadu_si256((const __m256i *)y->qs);
    return _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_u8_i32(qx, qy)), acc);
}

static inline __m256 step_q8_0(const chord_block_q8_0 *x, const chord_block_q8_0 *y, __m256 acc) {
    const __m256 d = _mm256_set1_ps(H2F(x->d) * H2F(y->d));
    const __m256i qx = _mm256_loadu_si256((const __m256i *)x->qs);
    const __m256i qy = _mm256_loadu_si256((const __m256i *)y->qs);
    return _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_i8_i32(qx, qy)), acc);
}

/* The *_1 types add the min term m * s of every block. */
#define MIN_TERM_0(x, y) 0.0f
#define MIN_TERM_1(x, y) H2F((x).m) * H2F((y).s)
/* One weight row against nr activation rows: per row, even and odd blocks on two accumulators
 * and the min terms summed in block order, exactly as for a single row (nr = 1 is the single-row
 * kernel); the weight block is loaded and unpacked once for all rows. */
#define ROWS_32_BODY(fname, attr, tx, ty, step, min_term)                                     \
    static inline __attribute__((always_inline)) attr void fname(int64_t n, const tx *x,        \
            const uint8_t *yb, uint64_t ys, const int nr, float *out) {                         \
        const int64_t nb = n / 32;                                                              \
        __m256 acc0[4], acc1[4];                                                                \
        float summs[4];                                                                         \
        UNROLL                                                                                  \
        for (int r = 0; r < nr; r++) {                                                          \
            acc0[r] = _mm256_setzero_ps(); acc1[r] = _mm256_setzero_ps(); summs[r] = 0;         \
        }                                                                                       \
        int64_t i = 0;                                                                          \
        for (; i + 2 <= nb; i += 2) {                                                           \
            UNROLL                                                                              \
            for (int r = 0; r < nr; r++) {                                                      \
                const ty *y = (const ty *)(yb + (uint64_t)r * ys);                              \
                acc0[r] = step(&x[i], &y[i], acc0[r]);                                          \
                acc1[r] = step(&x[i + 1], &y[i + 1], acc1[r]);                                  \
                summs[r] += min_term(x[i], y[i]) + min_term(x[i + 1], y[i + 1]);                \
            }                                                                                   \
        }                                                                                       \
        for (; i < nb; i++) {                                                                   \
            UNROLL                                                                              \
            for (int r = 0; r < nr; r++) {                                                      \
                const ty *y = (const ty *)(yb + (uint64_t)r * ys);                              \
                acc0[r] = step(&x[i], &y[i], acc0[r]);                                          \
                summs[r] += min_term(x[i], y[i]);                                               \
            }                                                                                   \
        }                                                                                       \
        UNROLL                                                                                  \
        for (int r = 0; r < nr; r++) out[r] = hsum_ps(_mm256_add_ps(acc0[r], acc1[r])) + summs[r]; \
    }
#define ROWS_32(name, tx, ty, step, min_term)                                                  \
    ROWS_32_BODY(rows_##name, , tx, ty, step, min_term)                                         \
    DOT_ROWS(name, tx, rows_##name)

ROWS_32(q4_0, chord_block_q4_0, chord_block_q8_0, step_q4_0, MIN_TERM_0)
ROWS_32(q4_1, chord_block_q4_1, chord_block_q8_1, step_q4_1, MIN_TERM_1)
ROWS_32(q5_0, chord_block_q5_0, chord_block_q8_0, step_q5_0, MIN_TERM_0)
ROWS_32(q5_1, chord_block_q5_1, chord_block_q8_1, step_q5_1, MIN_TERM_1)
ROWS_32(q8_0, chord_block_q8_0, chord_block_q8_0, step_q8_0, MIN_TERM_0)

/* Q8_0 with vpdpbusd; the block scale product as a vector multiply of two broadcast loads (the
 * same IEEE product as the scalar one, without a scalar-to-vector move per row). */
static inline __attribute__((always_inline)) VNNI __m256 step_q8_0_vnni(const chord_block_q8_0 *x,
        const chord_block_q8_0 *y, __m256 acc) {
    const __m256 d = _mm256_mul_ps(_mm256_broadcast_ss(&h2f_table[x->d]), _mm256_broadcast_ss(&h2f_table[y->d]));
    const __m256i qx = _mm256_loadu_si256((const __m256i *)x->qs);
    const __m256i qy = _mm256_loadu_si256((const __m256i *)y->qs);
    const __m256i s = _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(qx, qx),
                                              _mm256_sign_epi8(qy, qx));
    return _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), acc);
}
ROWS_32_BODY(rows_q8_0_vnni, VNNI, chord_block_q8_0, chord_block_q8_0, step_q8_0_vnni, MIN_TERM_0)
DOT_ROWS_ONLY(q8_0, chord_block_q8_0, rows_q8_0_vnni)


/* ---- activation quantizers (bit-identical to quant_ref.c) ---------------------------------- */

/* roundf (ties away from zero) exactly: truncate, then step away from zero when the dropped
 * fraction (computed exactly) is at least one half. */
static inline __m256 roundf_ps(__m256 v) {
    const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 sign = _mm256_and_ps(v, _mm256_set1_ps(-0.0f));
    const __m256 frac = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_sub_ps(v, t));
    const __m256 step = _mm256_and_ps(_mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ),
                                      _mm256_or_ps(_mm256_set1_ps(1.0f), sign));
    return _mm256_add_ps(t, step);
}

/* 32 int32 (4 vectors, in element order) -> 32 int8 in order. */
static inline __m256i pack_i8(__m256i a, __m256i b, __m256i c, __m256i d) {
    const __m256i ab = _mm256_packs_epi32(a, b), cd = _mm256_packs_epi32(c, d);
    const __m256i r = _mm256_packs_epi16(ab, cd);
    /* packs works within 128-bit lanes: restore element order */
    return _mm256_permutevar8x32_epi32(r, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

static inline float absmax_32(const float *x) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 m = _mm256_andnot_ps(sign, _mm256_loadu_ps(x));
    for (int k = 8; k < 32; k += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + k)));
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

/* One 32-element Q8 block; returns d and the sum of the quants. */
static inline float quant_block_8_avx2(const float *x, int8_t *qs, int *sum) {
    const float amax = absmax_32(x);
    const float d = amax / 127;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    if (isinf(id)) id = 0.0f;   /* as the reference: tiny blocks quantize to zeros */
    const __m256 vid = _mm256_set1_ps(id);
    __m256i q[4];
    for (int k = 0; k < 4; k++)
        q[k] = _mm256_cvttps_epi32(roundf_ps(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * k), vid)));
    _mm256_storeu_si256((__m256i *)qs, pack_i8(q[0], q[1], q[2], q[3]));
    *sum = hsum_epi32(_mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3])));
    return d;
}

void chord_quant_q8_0_avx2(const float *src, void *dst, int64_t n) {
    chord_block_q8_0 *b = dst;
    for (int64_t i = 0; i < n / QK8_0; i++) {
        int s;
        b[i].d = chord_fp32_to_fp16(quant_block_8_avx2(src + i * QK8_0, b[i].qs, &s));
    }
}

void chord_quant_q8_1_avx2(const float *src, void *dst, int64_t n) {
    chord_block_q8_1 *b = dst;
    for (int64_t i = 0; i < n / QK8_1; i++) {
        int s;
        const float d = quant_block_8_avx2(src + i * QK8_1, b[i].qs, &s);
        b[i].d = chord_fp32_to_fp16(d);
        b[i].s = chord_fp32_to_fp16((float)s * d);
    }
}

void chord_quant_q8_K_avx2(const float *src, void *dst, int64_t n) {
    chord_block_q8_K *y = dst;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float *x = src + i * QK_K;
        __m256 m = _mm256_setzero_ps();
        for (int k = 0; k < QK_K; k += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + k)));
        __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        h = _mm_max_ss(h, _mm_movehdup_ps(h));
        const float amax = _mm_cvtss_f32(h);
        memset(&y[i], 0, sizeof y[i]);
        if (amax == 0.0f) continue;
        float max = 0;   /* the reference keeps the first element of largest magnitude */
        for (int k = 0; k < QK_K; k++) if (x[k] == amax || x[k] == -amax) { max = x[k]; break; }
        const float iscale = -127.f / max;
        if (isinf(iscale)) { y[i].d = 1 / iscale; continue; }   /* as the reference */
        const __m256 vs = _mm256_set1_ps(iscale);
        for (int k = 0; k < QK_K; k += 32) {
            __m256i q[4];
            for (int j = 0; j < 4; j++)   /* cvtps rounds to nearest even, like nearest_int */
                q[j] = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + k + 8 * j), vs)),
                                        _mm256_set1_epi32(127));
            _mm256_storeu_si256((__m256i *)(y[i].qs + k), pack_i8(q[0], q[1], q[2], q[3]));
            y[i].bsums[k / 16] = (int16_t)hsum_epi32(_mm256_add_epi32(q[0], q[1]));
            y[i].bsums[k / 16 + 1] = (int16_t)hsum_epi32(_mm256_add_epi32(q[2], q[3]));
        }
        y[i].d = 1 / iscale;
    }
}

/* ---- K-quants ---------------------------------------------------------------------------------- */

float chord_dot_q2_K_avx2(int64_t n, const void *vx, const void *vy) {
    const chord_block_q2_K *x = vx;
    const chord_block_q8_K *y = vy;
    const __m256i m3 = _mm256_set1_epi8(3);
    const __m128i m4 = _mm_set1_epi8(0xF);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d = y[i].d * H2F(x[i].d), dmin = -y[i].d * H2F(x[i].dmin);
        const __m128i sm = _mm_loadu_si128((const __m128i *)x[i].scales);
        const __m256i mins = _mm256_cvtepi8_epi16(_mm_and_si128(_mm_srli_epi16(sm, 4), m4));
        const __m256i prod = _mm256_madd_epi16(mins, _mm256_loadu_si256((const __m256i *)y[i].bsums));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(dmin), _mm256_cvtepi32_ps(prod), acc);
        const __m256i all = _mm256_cvtepi8_epi16(_mm_and_si128(sm, m4));
        const __m128i lo = _mm256_castsi256_si128(all), hi = _mm256_extracti128_si256(all, 1);
        const __m256i scales[2] = { _mm256_set_m128i(lo, lo), _mm256_set_m128i(hi, hi) };
        const uint8_t *q2 = x[i].qs;
        const int8_t *q8 = y[i].qs;
        __m256i sumi = _mm256_setzero_si256();
        UNROLL
        for (int j = 0; j < 2; j++, q2 += 32) {
            const __m256i bits = _mm256_loadu_si256((const __m256i *)q2);
            UNROLL
            for (int k = 0; k < 4; k++, q8 += 32) {
                const __m256i q = _mm256_and_si256(_mm256_srli_epi16(bits, 2 * k), m3);
                const __m256i p = _mm256_maddubs_epi16(q, _mm256_loadu_si256((const __m256i *)q8));
                const __m256i sc = _mm256_shuffle_epi8(scales[j], lane16_pair(2 * k));
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(sc, p));
            }
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum_ps(acc);
}

/* The 16 Q3_K sub-block scales (6-bit, minus 32) as int8. */
static inline __m128i q3k_scales(const uint8_t *s) {
    uint32_t a[3];
    memcpy(a, s, 12);
    const uint32_t m2 = 0x0f0f0f0f, m1 = 0x03030303;
    /* built from registers: storing four words and reloading them as one vector would stall
     * on store forwarding, which costs as much as the rest of the block */
    const __m128i r = _mm_set_epi32((int)(((a[1] >> 4) & m2) | (((a[2] >> 6) & m1) << 4)),
                                    (int)(((a[0] >> 4) & m2) | (((a[2] >> 4) & m1) << 4)),
                                    (int)((a[1] & m2) | (((a[2] >> 2) & m1) << 4)),
                                    (int)((a[0] & m2) | ((a[2] & m1) << 4)));
    return _mm_sub_epi8(r, _mm_set1_epi8(32));
}

float chord_dot_q3_K_avx2(int64_t n, const void *vx, const void *vy) {
    const chord_block_q3_K *x = vx;
    const chord_block_q8_K *y = vy;
    const __m256i m3 = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d = y[i].d * H2F(x[i].d);
        const __m256i all = _mm256_cvtepi8_epi16(q3k_scales(x[i].scales));
        const __m128i lo = _mm256_castsi256_si128(all), hi = _mm256_extracti128_si256(all, 1);
        const __m256i scales[2] = { _mm256_set_m128i(lo, lo), _mm256_set_m128i(hi, hi) };
        /* bit b of hmask byte l is the third bit of element 32*b + l; where it is clear the
         * level is lowered by 4 */
        const __m256i hbits = _mm256_loadu_si256((const __m256i *)x[i].hmask);
        const uint8_t *q3 = x[i].qs;
        const int8_t *q8 = y[i].qs;
        __m256i sumi = _mm256_setzero_si256();
        UNROLL
        for (int j = 0; j < 2; j++, q3 += 32) {
            const __m256i bits = _mm256_loadu_si256((const __m256i *)q3);
            UNROLL
            for (int k = 0; k < 4; k++, q8 += 32) {
                const int b = 4 * j + k;
                const __m256i low = _mm256_and_si256(_mm256_srli_epi16(bits, 2 * k), m3);
                const __m256i h4 = _mm256_slli_epi16(_mm256_andnot_si256(
                    _mm256_and_si256(_mm256_srli_epi16(hbits, b), one), one), 2);
                const __m256i yq = _mm256_loadu_si256((const __m256i *)q8);
                const __m256i p = _mm256_sub_epi16(_mm256_maddubs_epi16(low, yq), _mm256_maddubs_epi16(h4, yq));
                const __m256i sc = _mm256_shuffle_epi8(scales[j], lane16_pair(2 * k));
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(sc, p));
            }
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum_ps(acc);
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

/* Shared by Q4_K and Q5_K: min correction of one super-block, dmin * sum_j m_j * bsum(j). */
static inline __m128 k4_min_term(const chord_block_q8_K *y, __m256i mins_scales, float dmin, __m128 acc_m) {
    const __m256i bs = _mm256_loadu_si256((const __m256i *)y->bsums);
    const __m128i pair = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
    const __m128i prod = _mm_madd_epi16(_mm256_extracti128_si256(mins_scales, 1), pair);
    return _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(prod), acc_m);
}

static inline float hsum_ps128(__m128 s) {
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* One Q4_K row against nr activation rows (nr <= 4, a constant after inlining): the weight
 * unpacking and scale shuffles are shared, every row's arithmetic is exactly the single-row
 * kernel's, so out[r] is bit-identical to chord_dot_q4_K_avx2(n, x, y_r). */
#define DEF_ROWS_Q4_K(fname, attr, macc2)                                                           \
static inline __attribute__((always_inline)) attr void fname(int64_t n, const chord_block_q4_K *x,  \
        const uint8_t *yb, uint64_t ys, const int nr, float *out) {                                 \
    const __m256i m4 = _mm256_set1_epi8(0xF);                                                       \
    __m256 acc[4];                                                                                  \
    __m128 acc_m[4];                                                                                \
    UNROLL                                                                                          \
    for (int r = 0; r < nr; r++) { acc[r] = _mm256_setzero_ps(); acc_m[r] = _mm_setzero_ps(); }     \
    for (int64_t i = 0; i < n / QK_K; i++) {                                                        \
        const __m256i ms = _mm256_cvtepu8_epi16(k4_scales_mins(x[i].scales));                       \
        const __m128i sc128 = _mm256_castsi256_si128(ms);                                           \
        const __m256i scales = _mm256_set_m128i(sc128, sc128);                                      \
        const float xd = H2F(x[i].d), xdmin = H2F(x[i].dmin);                                       \
        __m256i sumi[4];                                                                            \
        UNROLL                                                                                      \
        for (int r = 0; r < nr; r++) {                                                              \
            const chord_block_q8_K *y = (const chord_block_q8_K *)(yb + (uint64_t)r * ys) + i;      \
            acc_m[r] = k4_min_term(y, ms, -y->d * xdmin, acc_m[r]);                                 \
            sumi[r] = _mm256_setzero_si256();                                                       \
        }                                                                                           \
        const uint8_t *q4 = x[i].qs;                                                                \
        UNROLL                                                                                      \
        for (int j = 0; j < 4; j++, q4 += 32) {                                                     \
            const __m256i bits = _mm256_loadu_si256((const __m256i *)q4);                           \
            const __m256i lo = _mm256_and_si256(bits, m4);                                          \
            const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);                    \
            const __m256i sl = _mm256_shuffle_epi8(scales, lane16(2 * j));                          \
            const __m256i sh = _mm256_shuffle_epi8(scales, lane16(2 * j + 1));                      \
            UNROLL                                                                                  \
            for (int r = 0; r < nr; r++) {                                                          \
                const int8_t *q8 = ((const chord_block_q8_K *)(yb + (uint64_t)r * ys))[i].qs + 64 * j;\
                __m256i pl = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)q8));     \
                __m256i ph = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(q8 + 32)));\
                sumi[r] = macc2(sumi[r], sl, pl, sh, ph);                                           \
            }                                                                                       \
        }                                                                                           \
        UNROLL                                                                                      \
        for (int r = 0; r < nr; r++) {                                                              \
            const chord_block_q8_K *y = (const chord_block_q8_K *)(yb + (uint64_t)r * ys) + i;      \
            acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(y->d * xd), _mm256_cvtepi32_ps(sumi[r]), acc[r]);\
        }                                                                                           \
    }                                                                                               \
    UNROLL                                                                                          \
    for (int r = 0; r < nr; r++) out[r] = hsum_ps(acc[r]) + hsum_ps128(acc_m[r]);                   \
}

DEF_ROWS_Q4_K(rows_q4_K, , MACC2_AVX2)
DOT_ROWS(q4_K, chord_block_q4_K, rows_q4_K)
DEF_ROWS_Q4_K(rows_q4_K_vnni, VNNI, MACC2_VNNI)
DOT_ROWS_ONLY(q4_K, chord_block_q4_K, rows_q4_K_vnni)

/* Q5_K, one weight row against nr activation rows (see rows_q4_K). */
static inline __attribute__((always_inline)) void rows_q5_K(int64_t n, const chord_block_q5_K *x,
        const uint8_t *yb, uint64_t ys, const int nr, float *out) {
    const __m256i m4 = _mm256_set1_epi8(0xF), one = _mm256_set1_epi8(1);
    __m256 acc[4];
    __m128 acc_m[4];
    UNROLL
    for (int r = 0; r < nr; r++) { acc[r] = _mm256_setzero_ps(); acc_m[r] = _mm_setzero_ps(); }
    for (int64_t i = 0; i < n / QK_K; i++) {
        const __m256i ms = _mm256_cvtepu8_epi16(k4_scales_mins(x[i].scales));
        const __m128i sc128 = _mm256_castsi256_si128(ms);
        const __m256i scales = _mm256_set_m128i(sc128, sc128);
        const __m256i hbits = _mm256_loadu_si256((const __m256i *)x[i].qh);
        const float xd = H2F(x[i].d), xdmin = H2F(x[i].dmin);
        __m256i sumi[4];
        UNROLL
        for (int r = 0; r < nr; r++) {
            const chord_block_q8_K *y = (const chord_block_q8_K *)(yb + (uint64_t)r * ys) + i;
            acc_m[r] = k4_min_term(y, ms, -y->d * xdmin, acc_m[r]);
            sumi[r] = _mm256_setzero_si256();
        }
        const uint8_t *q5 = x[i].qs;
        UNROLL
        for (int j = 0; j < 4; j++, q5 += 32) {
            const __m256i bits = _mm256_loadu_si256((const __m256i *)q5);
            /* fifth bits of this 64-element chunk: bit 2j (low nibbles) and 2j+1 (high) of qh */
            const __m256i h0 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 2 * j), one), 4);
            const __m256i h1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 2 * j + 1), one), 4);
            const __m256i lo = _mm256_or_si256(_mm256_and_si256(bits, m4), h0);
            const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bits, 4), m4), h1);
            const __m256i sl = _mm256_shuffle_epi8(scales, lane16(2 * j));
            const __m256i sh = _mm256_shuffle_epi8(scales, lane16(2 * j + 1));
            UNROLL
            for (int r = 0; r < nr; r++) {
                const int8_t *q8 = ((const chord_block_q8_K *)(yb + (uint64_t)r * ys))[i].qs + 64 * j;
                __m256i pl = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)q8));
                __m256i ph = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(q8 + 32)));
                pl = _mm256_madd_epi16(sl, pl);
                ph = _mm256_madd_epi16(sh, ph);
                sumi[r] = _mm256_add_epi32(sumi[r], _mm256_add_epi32(pl, ph));
            }
        }
        UNROLL
        for (int r = 0; r < nr; r++) {
            const chord_block_q8_K *y = (const chord_block_q8_K *)(yb + (uint64_t)r * ys) + i;
            acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(y->d * xd), _mm256_cvtepi32_ps(sumi[r]), acc[r]);
        }
    }
    UNROLL
    for (int r = 0; r < nr; r++) out[r] = hsum_ps(acc[r]) + hsum_ps128(acc_m[r]);
}

DOT_ROWS(q5_K, chord_block_q5_K, rows_q5_K)

/* Q6_K, one weight row against nr activation rows (see rows_q4_K). */
#define DEF_ROWS_Q6_K(fname, attr, macc)                                                            \
static inline __attribute__((always_inline)) attr void fname(int64_t n, const chord_block_q6_K *x,  \
        const uint8_t *yb, uint64_t ys, const int nr, float *out) {                                 \
    const __m256i m4 = _mm256_set1_epi8(0xF), m2 = _mm256_set1_epi8(3);                             \
    __m256 acc[4];                                                                                  \
    UNROLL                                                                                          \
    for (int r = 0; r < nr; r++) acc[r] = _mm256_setzero_ps();                                      \
    for (int64_t i = 0; i < n / QK_K; i++) {                                                        \
        const __m128i sc8 = _mm_loadu_si128((const __m128i *)x[i].scales);                          \
        const uint8_t *ql = x[i].ql, *qh = x[i].qh;                                                 \
        __m256i sumi[4];                                                                            \
        UNROLL                                                                                      \
        for (int r = 0; r < nr; r++) sumi[r] = _mm256_setzero_si256();                              \
        UNROLL                                                                                      \
        for (int j = 0; j < 2; j++, ql += 64, qh += 32) {                                           \
            const __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);                             \
            const __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));                      \
            const __m256i h = _mm256_loadu_si256((const __m256i *)qh);                              \
            /* the 8 scales of this 128-element half as int16, in both 128-bit lanes */             \
            const __m128i sl = _mm_cvtepi8_epi16(j ? _mm_srli_si128(sc8, 8) : sc8);                 \
            const __m256i scales = _mm256_set_m128i(sl, sl);                                        \
            __m256i q[4];                                                                           \
            q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(h, m2), 4));\
            q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), m2), 4));\
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 4), m2), 4));\
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 6), m2), 4));\
            UNROLL                                                                                  \
            for (int k = 0; k < 4; k++) {                                                           \
                const __m256i s = _mm256_shuffle_epi8(scales, lane16_pair(2 * k));                  \
                UNROLL                                                                              \
                for (int r = 0; r < nr; r++) {                                                      \
                    const int8_t *q8 = ((const chord_block_q8_K *)(yb + (uint64_t)r * ys))[i].qs + 128 * j + 32 * k;\
                    const __m256i p = _mm256_maddubs_epi16(q[k], _mm256_loadu_si256((const __m256i *)q8));\
                    sumi[r] = macc(sumi[r], s, p);                                                  \
                }                                                                                   \
            }                                                                                       \
        }                                                                                           \
        const float xd = H2F(x[i].d);                                                               \
        const __m256i sc16 = _mm256_cvtepi8_epi16(sc8);                                             \
        UNROLL                                                                                      \
        for (int r = 0; r < nr; r++) {                                                              \
            const chord_block_q8_K *y = (const chord_block_q8_K *)(yb + (uint64_t)r * ys) + i;      \
            /* levels are stored +32: the -32 is applied once per block as 32 * sum_j sc_j *        \
             * bsum_j (maddubs needs the unsigned levels as they are) */                            \
            const __m256i bsums = _mm256_loadu_si256((const __m256i *)y->bsums);                    \
            const __m256i sub = _mm256_slli_epi32(_mm256_madd_epi16(bsums, sc16), 5);               \
            acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(y->d * xd), _mm256_cvtepi32_ps(_mm256_sub_epi32(sumi[r], sub)), acc[r]);\
        }                                                                                           \
    }                                                                                               \
    UNROLL                                                                                          \
    for (int r = 0; r < nr; r++) out[r] = hsum_ps(acc[r]);                                          \
}

DEF_ROWS_Q6_K(rows_q6_K, , MACC_AVX2)
DOT_ROWS(q6_K, chord_block_q6_K, rows_q6_K)
DEF_ROWS_Q6_K(rows_q6_K_vnni, VNNI, MACC_VNNI)
DOT_ROWS_ONLY(q6_K, chord_block_q6_K, rows_q6_K_vnni)

#endif
