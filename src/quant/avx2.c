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
 * never write -128. The 32-element types then scale and accumulate in the canonical order of
 * ref.c (8 lanes, even/odd blocks, multiply then add: bit-identical to the reference); the
 * K-quants in that of ref_k.c (acck: 8 lanes per super-block, min term first, multiply then add,
 * never fused: bit-identical to their references too).
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
#include "quant/x86.h"

/* fp16 -> fp32 of block scales by table lookup (256 KiB, filled once by chord_quant_init
 * before any kernel is installed): one load instead of an insert + convert pair, which was the
 * bottleneck of the 32-element types (two scales per 32 weights). The table holds F16C's exact
 * conversions, identical to chord_fp16_to_fp32. Shared with vnni.c. */
float chord_x86_h2f[65536];

void chord_avx2_init(void) {
    for (uint32_t i = 0; i < 65536; i++) chord_x86_h2f[i] = _cvtsh_ss((uint16_t)i);
}

/* The single-row dot and the multi-row kernel of one type, from its nr-specialized rows(). */
#define DOT_ROWS(name, block, rows)                                                            \
    float chord_dot_##name##_avx2(int64_t n, const void *x, const void *y) {                    \
        float out;                                                                              \
        rows(n, (const block *)x, (const uint8_t *)y, 0, 1, &out);                              \
        return out;                                                                             \
    }                                                                                           \
    void chord_dot_rows_##name##_avx2(int64_t n, const void *x, const void *y, uint64_t ys,     \
                                      int ny, float *out) {                                     \
        X86_ROWS_BY4(rows, block, n, x, y, ys, ny, out);                                        \
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

/* 8 floats to fp16 as chord_quant_f16_avx2 rounds them (a NaN lane the scalar way). */
static inline __m128i f16_round8(__m256 v) {
    if (__builtin_expect(_mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)) != 0, 0)) {
        float f[8];
        uint16_t h[8];
        _mm256_storeu_ps(f, v);
        for (int k = 0; k < 8; k++) h[k] = chord_fp32_to_fp16(f[k]);
        return _mm_loadu_si128((const __m128i *)h);
    }
    return _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT);
}

/* chord_f16_mad (quant.h) in one pass over the head: the generic form's conversions, multiply
 * and add, 8 lanes at a time in registers instead of 4-6 passes through the F16 to_float and
 * from_float kernels per key. */
void chord_f16_mad_avx2(uint16_t *acc, const uint16_t *v, int64_t n, float ms, float vs, int rescale) {
    const __m256 vms = _mm256_set1_ps(ms), vvs = _mm256_set1_ps(vs);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 a = load_f16(acc + i);
        if (rescale) a = _mm256_cvtph_ps(f16_round8(_mm256_mul_ps(a, vms)));
        a = _mm256_add_ps(a, _mm256_mul_ps(load_f16(v + i), vvs));
        _mm_storeu_si128((__m128i *)(acc + i), f16_round8(a));
    }
    for (; i < n; i++) {
        float a = H2F(acc[i]);
        if (rescale) a = H2F(chord_fp32_to_fp16(a * ms));
        const float p = H2F(v[i]) * vs;
        acc[i] = chord_fp32_to_fp16(a + p);
    }
}

/* ---- 32-element block types ------------------------------------------------------------------ */

/* The 32-element types: one block is a handful of instructions, so a single accumulator would
 * make every block wait for the previous add. Each kernel below is one per-block step, run over
 * even and odd blocks on two independent accumulators (ref.c's canonical order). The scale
 * multiply and the add are separate IEEE operations, as plain wasm SIMD (no FMA) can repeat them;
 * against the fused form they measured the same here (interleaved A/B, Q8_0/Q4_0 single and
 * multi-row). */

static inline __m256 step_q4_0(const chord_block_q4_0 *x, const chord_block_q8_0 *y, __m256 acc) {
    const __m256 d = _mm256_set1_ps(H2F(x->d) * H2F(y->d));
    const __m256i qx = _mm256_sub_epi8(nibbles_32(x->qs), _mm256_set1_epi8(8));
    const __m256i qy = _mm256_loadu_si256((const __m256i *)y->qs);
    return _mm256_add_ps(acc, _mm256_mul_ps(d, _mm256_cvtepi32_ps(dot_i8_i32(qx, qy))));
}

static inline __m256 step_q4_1(const chord_block_q4_1 *x, const chord_block_q8_1 *y, __m256 acc) {
    const __m256 d = _mm256_set1_ps(H2F(x->d) * H2F(y->d));
    const __m256i qy = _mm256_loadu_si256((const __m256i *)y->qs);
    return _mm256_add_ps(acc, _mm256_mul_ps(d, _mm256_cvtepi32_ps(dot_u8_i32(nibbles_32(x->qs), qy))));
}

static inline __m256 step_q5_0(const chord_block_q5_0 *x, const chord_block_q8_0 *y, __m256 acc) {
    const __m256 d = _mm256_set1_ps(H2F(x->d) * H2F(y->d));
    /* (nibble | bit4<<4) - 16 == nibble when bit4 is set, nibble | 0xF0 (i.e. -16) when not */
    const __m256i hi = _mm256_andnot_si256(bits_32(x->qh), _mm256_set1_epi8((char)0xF0));
    const __m256i qx = _mm256_or_si256(nibbles_32(x->qs), hi);
    const __m256i qy = _mm256_loadu_si256((const __m256i *)y->qs);
    return _mm256_add_ps(acc, _mm256_mul_ps(d, _mm256_cvtepi32_ps(dot_i8_i32(qx, qy))));
}

static inline __m256 step_q5_1(const chord_block_q5_1 *x, const chord_block_q8_1 *y, __m256 acc) {
    const __m256 d = _mm256_set1_ps(H2F(x->d) * H2F(y->d));
    const __m256i hi = _mm256_and_si256(bits_32(x->qh), _mm256_set1_epi8(0x10));
    const __m256i qx = _mm256_or_si256(nibbles_32(x->qs), hi);
    const __m256i qy = _mm256_loadu_si256((const __m256i *)y->qs);
    return _mm256_add_ps(acc, _mm256_mul_ps(d, _mm256_cvtepi32_ps(dot_u8_i32(qx, qy))));
}

static inline __m256 step_q8_0(const chord_block_q8_0 *x, const chord_block_q8_0 *y, __m256 acc) {
    const __m256 d = _mm256_set1_ps(H2F(x->d) * H2F(y->d));
    const __m256i qx = _mm256_loadu_si256((const __m256i *)x->qs);
    const __m256i qy = _mm256_loadu_si256((const __m256i *)y->qs);
    return _mm256_add_ps(acc, _mm256_mul_ps(d, _mm256_cvtepi32_ps(dot_i8_i32(qx, qy))));
}

/* The *_1 types add the min term m * s of every block. */
#define MIN_TERM_1(x, y) H2F((x).m) * H2F((y).s)

#define R32_NAME void rows_q4_0
#define R32_TX chord_block_q4_0
#define R32_TY chord_block_q8_0
#define R32_STEP step_q4_0
#include "quant/x86_rows32.h"
DOT_ROWS(q4_0, chord_block_q4_0, rows_q4_0)

#define R32_NAME void rows_q4_1
#define R32_TX chord_block_q4_1
#define R32_TY chord_block_q8_1
#define R32_STEP step_q4_1
#define R32_MIN MIN_TERM_1
#include "quant/x86_rows32.h"
DOT_ROWS(q4_1, chord_block_q4_1, rows_q4_1)

#define R32_NAME void rows_q5_0
#define R32_TX chord_block_q5_0
#define R32_TY chord_block_q8_0
#define R32_STEP step_q5_0
#include "quant/x86_rows32.h"
DOT_ROWS(q5_0, chord_block_q5_0, rows_q5_0)

#define R32_NAME void rows_q5_1
#define R32_TX chord_block_q5_1
#define R32_TY chord_block_q8_1
#define R32_STEP step_q5_1
#define R32_MIN MIN_TERM_1
#include "quant/x86_rows32.h"
DOT_ROWS(q5_1, chord_block_q5_1, rows_q5_1)

#define R32_NAME void rows_q8_0
#define R32_TX chord_block_q8_0
#define R32_TY chord_block_q8_0
#define R32_STEP step_q8_0
#include "quant/x86_rows32.h"
DOT_ROWS(q8_0, chord_block_q8_0, rows_q8_0)

/* ---- Q8_0 against packed activation rows (chord_pack_q8_0: levels + 128; _s8: signed) ------- */

/* One weight row against nr (<= 4) packed activation rows: the levels as signed bytes (xor 0x80
 * when key, the + 128 layout; as loaded in the _s8 one), then step_q8_0's integer lanes and its
 * order. Only the tile's fallback for rows longer than its scale scratch and the table's
 * vec_dot_rows_packed (which ops.c does not call where the tile is installed) run it, so it is
 * kept simple. Bit-identical to chord_dot_q8_0_avx2. */
static inline __attribute__((always_inline)) void rows_q8_0p_key(int64_t n, const chord_block_q8_0 *x,
        const uint8_t *yb, uint64_t ys, const int nr, float *out, const int key) {
    const int64_t nb = n / 32;
    const __m256i u128 = _mm256_set1_epi8((char)0x80);
    __m256 acc[2][4];
    UNROLL
    for (int r = 0; r < nr; r++) { acc[0][r] = _mm256_setzero_ps(); acc[1][r] = _mm256_setzero_ps(); }
    for (int64_t i = 0; i < nb; i++) {
        const __m256i qx = _mm256_loadu_si256((const __m256i *)x[i].qs);
        const float xd = H2F(x[i].d);
        UNROLL
        for (int r = 0; r < nr; r++) {
            const uint8_t *p = yb + (uint64_t)r * ys;
            uint16_t dyh;
            memcpy(&dyh, p + 32 * nb + 2 * i, 2);
            const __m256 d = _mm256_set1_ps(xd * H2F(dyh));
            __m256i qy = _mm256_loadu_si256((const __m256i *)(p + 32 * i));
            if (key) qy = _mm256_xor_si256(qy, u128);
            acc[i & 1][r] = _mm256_add_ps(acc[i & 1][r], _mm256_mul_ps(d, _mm256_cvtepi32_ps(dot_i8_i32(qx, qy))));
        }
    }
    UNROLL
    for (int r = 0; r < nr; r++) out[r] = hsum_ps(_mm256_add_ps(acc[0][r], acc[1][r])) + 0.0f;
}
static inline __attribute__((always_inline)) void rows_q8_0p(int64_t n, const chord_block_q8_0 *x,
        const uint8_t *yb, uint64_t ys, const int nr, float *out) {
    rows_q8_0p_key(n, x, yb, ys, nr, out, 1);
}
static inline __attribute__((always_inline)) void rows_q8_0p_s8(int64_t n, const chord_block_q8_0 *x,
        const uint8_t *yb, uint64_t ys, const int nr, float *out) {
    rows_q8_0p_key(n, x, yb, ys, nr, out, 0);
}

void chord_dot_rows_q8_0_packed_avx2(int64_t n, const void *x, const void *y, uint64_t ys, int ny, float *out) {
    X86_ROWS_BY4(rows_q8_0p, chord_block_q8_0, n, x, y, ys, ny, out);
}
void chord_dot_rows_q8_0_packed_s8_avx2(int64_t n, const void *x, const void *y, uint64_t ys, int ny, float *out) {
    X86_ROWS_BY4(rows_q8_0p_s8, chord_block_q8_0, n, x, y, ys, ny, out);
}

/* The prompt tiles (x86_tile_q8.h) with AVX2's integer dot. Per weight block qa = the levels, qb =
 * their absolute values; a token block holds the signed levels. One (row, token) block
 * (AVX2_Q8_PAIR): maddubs(|qx|, sign(qy, qx)) (no saturation: |pair| <= 2 * 128 * 127, the
 * activation levels are never -128), madd with ones, the conversion, the multiply by the
 * broadcast scale product and the add: step_q8_0's lanes and order. */
#define AVX2_Q8_ROW(qa, qb, qs)                                                                    \
    do {                                                                                           \
        (qa) = _mm256_loadu_si256((const __m256i *)(qs));                                          \
        (qb) = _mm256_sign_epi8((qa), (qa));                                                       \
    } while (0)
#define AVX2_Q8_PAIR(acc, qx, ax, qs, qy, d)                                                          \
    do {                                                                                           \
        __m256 s_, t_;                                                                             \
        __asm__("vpsignb %[x], %[y], %[s]\n\t"                                                     \
                "vpmaddubsw %[s], %[u], %[s]\n\t"                                                  \
                "vpmaddwd %[one], %[s], %[s]\n\t"                                                  \
                "vcvtdq2ps %[s], %[s]\n\t"                                                         \
                "vbroadcastss %[dd], %[t]\n\t"                                                     \
                "vmulps %[t], %[s], %[s]\n\t"                                                      \
                "vaddps %[s], %[a], %[a]"                                                          \
                : [a] "+x"(acc), [s] "=&x"(s_), [t] "=&x"(t_)                                      \
                : [x] "x"(qx), [u] "x"(ax), [y] "x"(qy), [one] "x"(ones), [dd] "m"(d));            \
    } while (0)

/* Over the + 128 layout (chord_pack_q8_0), on AVX-VNNI CPUs (traits.c): a token block is its
 * packed bytes xor 0x80; 16 registers hold 2 x 2 pairs' two accumulators each, the 2 weight
 * blocks' levels and absolute values, the token block and two temporaries. */
#define QT_NAME(base) base##_avx2
#define QT_R 2
#define QT_T 2
#define QT_CONSTS                                                                                  \
    const __m256i u128 = _mm256_set1_epi8((char)0x80);                                             \
    const __m256i ones = _mm256_set1_epi16(1)
#define QT_ROW AVX2_Q8_ROW
#define QT_TOK(p) _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(p)), u128)
#define QT_PAIR AVX2_Q8_PAIR
#define QT_ROWS_P rows_q8_0p
#define QT_ROWS_BY X86_ROWS_BY4
#include "quant/x86_tile_q8.h"

/* The same tile over the signed-level layout (chord_pack_q8_0_s8), for CPUs with AVX2 and no
 * VNNI, blocked 1 weight row x 4 tokens: a token block is then used as loaded, with no xor per
 * (token, block), and 8 accumulators + the row's two registers + the token block + two
 * temporaries + ones fit 16 registers without spills (2 x 2 spilled two accumulators). Zen 3,
 * bench_kernels --prompt --type q8_0 --tok 64, TSC cycles per 256 weights x token, pinned, 4
 * interleaved rounds of 25 reps: 2 x 2 with xor 19.5-19.9, 1 x 4 with xor 18.9-19.4, this
 * 18.2-18.9. */
#define QT_NAME(base) base##_s8_avx2
#define QT_R 1
#define QT_T 4
#define QT_CONSTS const __m256i ones = _mm256_set1_epi16(1)
#define QT_ROW AVX2_Q8_ROW
#define QT_TOK(p) _mm256_loadu_si256((const __m256i *)(p))
#define QT_PAIR AVX2_Q8_PAIR
#define QT_ROWS_P rows_q8_0p_s8
#define QT_ROWS_BY X86_ROWS_BY4
#include "quant/x86_tile_q8.h"

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
        acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_set1_ps(dmin), _mm256_cvtepi32_ps(prod)));
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
        acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi)));
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
        acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi)));
    }
    return hsum_ps(acc);
}

/* rows_q4_K and rows_q6_K with plain AVX2 multiply-adds. */
#define KROWS_NAME(base) base
#define KROWS_ATTR
#define KROWS_MACC(acc, s, p) _mm256_add_epi32(acc, _mm256_madd_epi16(s, p))
#define KROWS_MACC2(acc, s1, p1, s2, p2) \
    _mm256_add_epi32(acc, _mm256_add_epi32(_mm256_madd_epi16(s1, p1), _mm256_madd_epi16(s2, p2)))
#include "quant/x86_rows_k.h"
#include "quant/x86_wrows.h"
#include "quant/x86_prompt_k.h"

/* The single-row Q4_K and Q6_K dots are the one-row case of the decode kernels (x86_wrows.h:
 * their scale unpacking takes a fifth fewer instructions); the batch kernels stay rows_*. */
#define DOT_WROWS1(name, block, rows, by, wrows)                                               \
    float chord_dot_##name##_avx2(int64_t n, const void *x, const void *y) {                    \
        float out;                                                                              \
        wrows(n, (const uint8_t *)x, 0, 1, (const chord_block_q8_K *)y, &out);                  \
        return out;                                                                             \
    }                                                                                           \
    void chord_dot_rows_##name##_avx2(int64_t n, const void *x, const void *y, uint64_t ys,     \
                                      int ny, float *out) {                                     \
        by(rows, block, n, x, y, ys, ny, out);                                                  \
    }
DOT_WROWS1(q4_K, chord_block_q4_K, pk_rows_q4_K, X86_ROWS_BY8, wrows_q4_K)
void chord_dot_tile_q4_K_avx2(int64_t n, const void *x, uint64_t xs, int nx, const void *y, uint64_t ys, int ny,
                              float *out, uint64_t os) {
    pk_tile_q4_K(n, x, xs, nx, y, ys, ny, out, os);
}

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
            acc[r] = _mm256_add_ps(acc[r], _mm256_mul_ps(_mm256_set1_ps(y->d * xd), _mm256_cvtepi32_ps(sumi[r])));
        }
    }
    UNROLL
    for (int r = 0; r < nr; r++) out[r] = hsum_ps(acc[r]) + hsum_ps128(acc_m[r]);
}

DOT_ROWS(q5_K, chord_block_q5_K, rows_q5_K)

DOT_WROWS1(q6_K, chord_block_q6_K, pk_rows_q6_K, X86_ROWS_BY8, wrows_q6_K)

/* ---- decode: several weight rows against one activation row (x86_wrows.h) -------------------- */

X86_WROWS_ENTRY(chord_dot_wrows_q4_K_avx2, chord_block_q8_K, wrows_q4_K)
X86_WROWS_ENTRY(chord_dot_wrows_q6_K_avx2, chord_block_q8_K, wrows_q6_K)
X86_WROWS_ENTRY(chord_dot_wrows_q8_0_avx2, chord_block_q8_0, wrows_q8_0)

#endif
