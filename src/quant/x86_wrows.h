/*
 * x86_wrows.h — the decode shape on AVX2: nr weight rows (nr <= 4, a constant after inlining)
 * against one activation row, for Q4_K, Q6_K and Q8_0 (chord_vec_dot_wrows). A decode matvec is
 * one activation row against every weight row; the single-row kernels repeat, per weight row, the
 * activation loads and its per-block preparation (Q4_K: the bsums pair sums; all: the scale
 * lookup), and run one dependency chain. Here each activation block is loaded and prepared once
 * for nr weight rows, whose chains are independent, and whose nr memory streams (one per lane,
 * ops.c) run side by side.
 *
 * Every row's float arithmetic is exactly the single-row kernel's (ref_k.c's acck for the
 * K-quants, ref.c's acc32 for Q8_0: a multiply, then an add, never fused), and the integer parts
 * are exact whatever their grouping, so out[r] is bit-identical to chord_dot_<type>_avx2(n, x_r, y)
 * and to the scalar reference. Included by avx2.c only (needs x86.h).
 */
#ifndef CHORD_QUANT_X86_WROWS_H
#define CHORD_QUANT_X86_WROWS_H

#define WROWS_MAX 4
/* Software prefetch, WROWS_PF bytes ahead in each row's stream (a call's rows are short, 1-3 KiB,
 * so this mostly reaches into the lane's next row, which the next call reads). Decode on a loaded
 * 2-core Zen 3, Q4_K_M 1 thread, interleaved, 5 rounds: none 3.46 (old kernels) / 256 B 5.47 /
 * 512 B 5.02 / 1024 B 5.19 tok/s (mean); -DWROWS_PF=0 builds without. A prefetch past the end of
 * a mapping is dropped, never a fault. */
#ifndef WROWS_PF
#define WROWS_PF 256
#endif
#define WROWS_PREFETCH(p, bytes)                                                                  \
    do {                                                                                          \
        if (WROWS_PF)                                                                             \
            for (int pf_ = 0; pf_ < (bytes); pf_ += 64)                                            \
                _mm_prefetch((const char *)(p) + WROWS_PF + pf_, _MM_HINT_T0);                    \
    } while (0)
#define WROW(T, xb, xs, r) ((const T *)((xb) + (uint64_t)(r) * (xs)))

/* Shuffle control: 16-bit lane k = byte b of each 128-bit half, zero-extended (the unsigned
 * 6-bit Q4_K scales, straight from their bytes: no widening step). */
static inline __m256i byte_to_u16(int b) {
    return _mm256_set1_epi16((short)(0x8000 | b));
}

/* ---- Q4_K ------------------------------------------------------------------------------------- */

/* k4_scales_mins of two blocks at once, in vector registers: v = the 16 bytes at each block's
 * scales (its 12 bytes and 4 of qs, ignored) in the two 128-bit halves; each half becomes the
 * block's 8 scales then 8 mins, as bytes. With dwords u0..u2 of the 12 bytes: scales 0..3 =
 * u0 & 0x3f.., mins 0..3 = u1 & 0x3f.., scales 4..7 = (u2 & 0x0f..) | ((u0 >> 2) & 0x30..), mins
 * 4..7 = ((u2 >> 4) & 0x0f..) | ((u1 >> 2) & 0x30..). Seven vector operations for two blocks,
 * where the scalar unpacking took some twenty integer operations and four inserts per block. */
static inline __m256i k4_scales_mins_x2(__m256i v) {
    const __m256i a = _mm256_shuffle_epi32(v, _MM_SHUFFLE(2, 1, 2, 0));   /* u0 u2 u1 u2 */
    const __m256i b = _mm256_shuffle_epi32(v, _MM_SHUFFLE(1, 1, 0, 0));   /* u0 u0 u1 u1 */
    const __m256i lo = _mm256_and_si256(_mm256_srlv_epi32(a, _mm256_setr_epi32(0, 0, 0, 4, 0, 0, 0, 4)),
        _mm256_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f));
    const __m256i hi = _mm256_and_si256(_mm256_srli_epi32(b, 2),
        _mm256_setr_epi32(0, 0x30303030, 0, 0x30303030, 0, 0x30303030, 0, 0x30303030));
    return _mm256_or_si256(lo, hi);
}

/* Shuffle control: the 8 mins (bytes 8..15 of each half of k4_scales_mins_x2) as uint16. */
static inline __m256i k4_mins_u16(void) {
    return _mm256_setr_epi8(8, -128, 9, -128, 10, -128, 11, -128, 12, -128, 13, -128, 14, -128, 15, -128,
                            8, -128, 9, -128, 10, -128, 11, -128, 12, -128, 13, -128, 14, -128, 15, -128);
}

/* Two rows' fp16 block scales (table lookups) in the two 128-bit halves, each broadcast. */
static inline __m256 h2f_x2(uint16_t a, uint16_t b) {
    return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_broadcast_ss(&chord_x86_h2f[a])),
                                _mm_broadcast_ss(&chord_x86_h2f[b]), 1);
}

/* The scale term of one row's block: sumi[r] += the 8 lanes of its 4 chunks of 64 elements, with
 * the 8 scales (as bytes) in both halves of sc. */
static inline __attribute__((always_inline)) __m256i q4k_block(const chord_block_q4_K *x, const int8_t *q8,
                                                                __m256i sc) {
    const __m256i m4 = _mm256_set1_epi8(0xF);
    __m256i sumi = _mm256_setzero_si256();
    UNROLL
    for (int j = 0; j < 4; j++) {
        const __m256i bits = _mm256_loadu_si256((const __m256i *)(x->qs + 32 * j));
        const __m256i lo = _mm256_and_si256(bits, m4);
        const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);
        const __m256i pl = _mm256_madd_epi16(_mm256_shuffle_epi8(sc, byte_to_u16(2 * j)),
            _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)(q8 + 64 * j))));
        const __m256i ph = _mm256_madd_epi16(_mm256_shuffle_epi8(sc, byte_to_u16(2 * j + 1)),
            _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(q8 + 64 * j + 32))));
        sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(pl, ph));
    }
    return sumi;
}

/* Rows in pairs (a last single row when nr is odd): a pair shares the scale unpacking, the min
 * term (k4_min_term's lanes: [row a q0..q3 | row b q0..q3]) and its multipliers. */
static inline __attribute__((always_inline)) void wrows_q4_K(int64_t n, const uint8_t *xb, uint64_t xs,
        const int nr, const chord_block_q8_K *y, float *out) {
    __m256 acc[WROWS_MAX], acc_m[WROWS_MAX / 2];
    __m128 acc_m1 = _mm_setzero_ps();  /* the last row's min lanes when nr is odd */
    UNROLL
    for (int r = 0; r < nr; r++) acc[r] = _mm256_setzero_ps();
    UNROLL
    for (int q = 0; q < nr / 2; q++) acc_m[q] = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        /* the activation block's share, once for all rows: the 8 sub-block sums, d and -d */
        const __m256i bs = _mm256_loadu_si256((const __m256i *)y[i].bsums);
        const __m128i pair = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
        const __m256i pair2 = _mm256_set_m128i(pair, pair);
        const __m256 yd = _mm256_set1_ps(y[i].d), nyd = _mm256_set1_ps(-y[i].d);
        UNROLL
        for (int q = 0; q < nr / 2; q++) {
            const chord_block_q4_K *xa = WROW(chord_block_q4_K, xb, xs, 2 * q) + i;
            const chord_block_q4_K *xc = WROW(chord_block_q4_K, xb, xs, 2 * q + 1) + i;
            WROWS_PREFETCH(xa, 144);
            WROWS_PREFETCH(xc, 144);
            const __m256i sm = k4_scales_mins_x2(_mm256_inserti128_si256(
                _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)xa->scales)),
                _mm_loadu_si128((const __m128i *)xc->scales), 1));
            const __m256i prod = _mm256_madd_epi16(_mm256_shuffle_epi8(sm, k4_mins_u16()), pair2);
            const __m256 dmin = _mm256_mul_ps(nyd, h2f_x2(xa->dmin, xc->dmin));
            acc_m[q] = _mm256_add_ps(acc_m[q], _mm256_mul_ps(dmin, _mm256_cvtepi32_ps(prod)));
            const __m256i sa = q4k_block(xa, y[i].qs, _mm256_permute2x128_si256(sm, sm, 0x00));
            const __m256i sc = q4k_block(xc, y[i].qs, _mm256_permute2x128_si256(sm, sm, 0x11));
            const __m256 da = _mm256_mul_ps(yd, _mm256_broadcast_ss(&chord_x86_h2f[xa->d]));
            const __m256 dc = _mm256_mul_ps(yd, _mm256_broadcast_ss(&chord_x86_h2f[xc->d]));
            acc[2 * q] = _mm256_add_ps(acc[2 * q], _mm256_mul_ps(da, _mm256_cvtepi32_ps(sa)));
            acc[2 * q + 1] = _mm256_add_ps(acc[2 * q + 1], _mm256_mul_ps(dc, _mm256_cvtepi32_ps(sc)));
        }
        if (nr & 1) {
            const chord_block_q4_K *x = WROW(chord_block_q4_K, xb, xs, nr - 1) + i;
            WROWS_PREFETCH(x, 144);
            const __m256i sm = k4_scales_mins_x2(_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)x->scales)));
            const __m128i prod = _mm_madd_epi16(_mm256_castsi256_si128(_mm256_shuffle_epi8(sm, k4_mins_u16())), pair);
            const __m128 dmin = _mm_mul_ps(_mm256_castps256_ps128(nyd), _mm_broadcast_ss(&chord_x86_h2f[x->dmin]));
            acc_m1 = _mm_add_ps(acc_m1, _mm_mul_ps(dmin, _mm_cvtepi32_ps(prod)));
            const __m256i s = q4k_block(x, y[i].qs, sm);
            const __m256 d = _mm256_mul_ps(yd, _mm256_broadcast_ss(&chord_x86_h2f[x->d]));
            acc[nr - 1] = _mm256_add_ps(acc[nr - 1], _mm256_mul_ps(d, _mm256_cvtepi32_ps(s)));
        }
    }
    UNROLL
    for (int q = 0; q < nr / 2; q++) {
        out[2 * q] = hsum_ps(acc[2 * q]) + hsum_ps128(_mm256_castps256_ps128(acc_m[q]));
        out[2 * q + 1] = hsum_ps(acc[2 * q + 1]) + hsum_ps128(_mm256_extractf128_ps(acc_m[q], 1));
    }
    if (nr & 1) out[nr - 1] = hsum_ps(acc[nr - 1]) + hsum_ps128(acc_m1);
}

/* ---- Q6_K ------------------------------------------------------------------------------------- */

static inline __attribute__((always_inline)) void wrows_q6_K(int64_t n, const uint8_t *xb, uint64_t xs,
        const int nr, const chord_block_q8_K *y, float *out) {
    const __m256i m4 = _mm256_set1_epi8(0xF);
    __m256 acc[WROWS_MAX];
    UNROLL
    for (int r = 0; r < nr; r++) acc[r] = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        __m256i sumi[WROWS_MAX];
        UNROLL
        for (int r = 0; r < nr; r++) sumi[r] = _mm256_setzero_si256();
        UNROLL
        for (int j = 0; j < 2; j++) {
            UNROLL
            for (int r = 0; r < nr; r++) {
                const chord_block_q6_K *x = WROW(chord_block_q6_K, xb, xs, r) + i;
                if (j == 0) WROWS_PREFETCH(x, 210);
                const uint8_t *ql = x->ql + 64 * j, *qh = x->qh + 32 * j;
                const __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
                const __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
                const __m256i h = _mm256_loadu_si256((const __m256i *)qh);
                /* the 8 scales of this 128-element half as int16, in both 128-bit lanes */
                const __m256i scales = _mm256_broadcastsi128_si256(
                    _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(x->scales + 8 * j))));
                /* level = low nibble | two high bits << 4; the high bits of element group k sit
                 * at bits 2k, 2k+1 of h's bytes and are moved to bits 4, 5 in one shift (16-bit
                 * shifts: bits 4, 5 of a byte only ever come from the same byte) */
                const __m256i m30 = _mm256_set1_epi8(0x30);
                __m256i q[4];
                q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(h, 4), m30));
                q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(h, 2), m30));
                q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(h, m30));
                q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), _mm256_and_si256(_mm256_srli_epi16(h, 2), m30));
                UNROLL
                for (int k = 0; k < 4; k++) {
                    const __m256i yq = _mm256_loadu_si256((const __m256i *)(y[i].qs + 128 * j + 32 * k));
                    const __m256i p = _mm256_maddubs_epi16(q[k], yq);
                    sumi[r] = _mm256_add_epi32(sumi[r], _mm256_madd_epi16(_mm256_shuffle_epi8(scales, lane16_pair(2 * k)), p));
                }
            }
        }
        const __m256i bsums = _mm256_loadu_si256((const __m256i *)y[i].bsums);
        UNROLL
        for (int r = 0; r < nr; r++) {
            const chord_block_q6_K *x = WROW(chord_block_q6_K, xb, xs, r) + i;
            /* levels are stored +32: the -32 is applied once per block as 32 * sum_j sc_j *
             * bsum_j (rows_q6_K's integers) */
            const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x->scales));
            const __m256i sub = _mm256_slli_epi32(_mm256_madd_epi16(bsums, sc16), 5);
            acc[r] = _mm256_add_ps(acc[r], _mm256_mul_ps(_mm256_set1_ps(y[i].d * H2F(x->d)),
                                                         _mm256_cvtepi32_ps(_mm256_sub_epi32(sumi[r], sub))));
        }
    }
    UNROLL
    for (int r = 0; r < nr; r++) out[r] = hsum_ps(acc[r]);
}

/* ---- Q8_0 ------------------------------------------------------------------------------------- */

/* step_q8_0 with the activation block's levels and scale (broadcast) already loaded: the same
 * d = fp16(x.d) * fp16(y.d), products, multiply and add. */
static inline __m256 step_q8_0_w(const chord_block_q8_0 *x, __m256i qy, __m256 yd, __m256 acc) {
    const __m256 d = _mm256_mul_ps(_mm256_broadcast_ss(&chord_x86_h2f[x->d]), yd);
    const __m256i qx = _mm256_loadu_si256((const __m256i *)x->qs);
    return _mm256_add_ps(acc, _mm256_mul_ps(d, _mm256_cvtepi32_ps(dot_i8_i32(qx, qy))));
}

/* Q8_0: even and odd blocks on two accumulators per row (acc32). */
static inline __attribute__((always_inline)) void wrows_q8_0(int64_t n, const uint8_t *xb, uint64_t xs,
        const int nr, const chord_block_q8_0 *y, float *out) {
    const int64_t nb = n / QK8_0;
    __m256 acc0[WROWS_MAX], acc1[WROWS_MAX];
    UNROLL
    for (int r = 0; r < nr; r++) { acc0[r] = _mm256_setzero_ps(); acc1[r] = _mm256_setzero_ps(); }
    int64_t i = 0;
    for (; i + 2 <= nb; i += 2) {
        const __m256i y0 = _mm256_loadu_si256((const __m256i *)y[i].qs);
        const __m256i y1 = _mm256_loadu_si256((const __m256i *)y[i + 1].qs);
        const __m256 d0 = _mm256_broadcast_ss(&chord_x86_h2f[y[i].d]);
        const __m256 d1 = _mm256_broadcast_ss(&chord_x86_h2f[y[i + 1].d]);
        UNROLL
        for (int r = 0; r < nr; r++) {
            const chord_block_q8_0 *x = WROW(chord_block_q8_0, xb, xs, r);
            WROWS_PREFETCH(&x[i], 68);
            acc0[r] = step_q8_0_w(&x[i], y0, d0, acc0[r]);
            acc1[r] = step_q8_0_w(&x[i + 1], y1, d1, acc1[r]);
        }
    }
    for (; i < nb; i++) {
        const __m256i y0 = _mm256_loadu_si256((const __m256i *)y[i].qs);
        const __m256 d0 = _mm256_broadcast_ss(&chord_x86_h2f[y[i].d]);
        UNROLL
        for (int r = 0; r < nr; r++) acc0[r] = step_q8_0_w(&WROW(chord_block_q8_0, xb, xs, r)[i], y0, d0, acc0[r]);
    }
    /* + 0: ref.c's result is the lane sum plus the (absent) min terms */
    UNROLL
    for (int r = 0; r < nr; r++) out[r] = hsum_ps(_mm256_add_ps(acc0[r], acc1[r])) + 0.0f;
}

#endif
