/*
 * x86_rows_k.h — template: one Q4_K or Q6_K weight row against nr activation rows (nr <=
 * KROWS_MAXR, a constant after inlining). The weight unpacking and scale shuffles are shared by the rows; every
 * row's arithmetic is exactly the single-row kernel's, so out[r] is bit-identical to
 * chord_dot_q4_K_avx2(n, x, y_r) / chord_dot_q6_K_avx2 and to the scalar reference: the float
 * steps are ref_k.c's canonical order (acck), a multiply and then an add, never fused.
 *
 * The includer defines KROWS_NAME(base) (the functions' names), KROWS_ATTR (target attributes or
 * nothing), KROWS_MACC(acc, s, p) = acc + madd(s, p) and KROWS_MACC2(acc, s1, p1, s2, p2) =
 * acc + madd(s1, p1) + madd(s2, p2) — plain AVX2 or AVX-VNNI's fused vpdpwssd; the integer sums
 * are exact either way. Each inclusion defines rows_q4_K and rows_q6_K under those names.
 * KROWS_MAXR (default 4) bounds nr: 8 where 32 vector registers hold 8 rows' accumulators
 * (AVX-512VL), so the weight unpacking and scale shuffles are shared by twice as many rows.
 */
#ifndef KROWS_MAXR
#define KROWS_MAXR 4
#endif
/* One Q4_K row against nr activation rows (nr <= KROWS_MAXR, a constant after inlining): the weight
 * unpacking and scale shuffles are shared, every row's arithmetic is exactly the single-row
 * kernel's, so out[r] is bit-identical to chord_dot_q4_K_avx2(n, x, y_r). */
static inline __attribute__((always_inline)) KROWS_ATTR void KROWS_NAME(rows_q4_K)(int64_t n, const chord_block_q4_K *x,
        const uint8_t *yb, uint64_t ys, const int nr, float *out) {
    const __m256i m4 = _mm256_set1_epi8(0xF);
    __m256 acc[KROWS_MAXR];
    __m256 acc_m2[KROWS_MAXR / 2]; /* min terms of rows 2q and 2q+1 (k4_min_term2) */
    __m128 acc_m1 = _mm_setzero_ps();  /* the last row's when nr is odd */
    UNROLL
    for (int r = 0; r < nr; r++) acc[r] = _mm256_setzero_ps();
    UNROLL
    for (int q = 0; q < nr / 2; q++) acc_m2[q] = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        const __m256i ms = _mm256_cvtepu8_epi16(k4_scales_mins(x[i].scales));
        const __m256i mins2 = k4_mins2(ms);
        const __m128i sc128 = _mm256_castsi256_si128(ms);
        const __m256i scales = _mm256_set_m128i(sc128, sc128);
        const float xd = H2F(x[i].d), xdmin = H2F(x[i].dmin);
        __m256i sumi[KROWS_MAXR];
        UNROLL
        for (int q = 0; q < nr / 2; q++) {
            const chord_block_q8_K *y0 = (const chord_block_q8_K *)(yb + (uint64_t)(2 * q) * ys) + i;
            const chord_block_q8_K *y1 = (const chord_block_q8_K *)(yb + (uint64_t)(2 * q + 1) * ys) + i;
            acc_m2[q] = k4_min_term2(y0, y1, mins2, -y0->d * xdmin, -y1->d * xdmin, acc_m2[q]);
        }
        if (nr & 1) {
            const chord_block_q8_K *y = (const chord_block_q8_K *)(yb + (uint64_t)(nr - 1) * ys) + i;
            acc_m1 = k4_min_term(y, ms, -y->d * xdmin, acc_m1);
        }
        UNROLL
        for (int r = 0; r < nr; r++) sumi[r] = _mm256_setzero_si256();
        const uint8_t *q4 = x[i].qs;
        UNROLL
        for (int j = 0; j < 4; j++, q4 += 32) {
            const __m256i bits = _mm256_loadu_si256((const __m256i *)q4);
            const __m256i lo = _mm256_and_si256(bits, m4);
            const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);
            const __m256i sl = _mm256_shuffle_epi8(scales, lane16(2 * j));
            const __m256i sh = _mm256_shuffle_epi8(scales, lane16(2 * j + 1));
            UNROLL
            for (int r = 0; r < nr; r++) {
                const int8_t *q8 = ((const chord_block_q8_K *)(yb + (uint64_t)r * ys))[i].qs + 64 * j;
                __m256i pl = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)q8));
                __m256i ph = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(q8 + 32)));
                sumi[r] = KROWS_MACC2(sumi[r], sl, pl, sh, ph);
            }
        }
        UNROLL
        for (int r = 0; r < nr; r++) {
            const chord_block_q8_K *y = (const chord_block_q8_K *)(yb + (uint64_t)r * ys) + i;
            acc[r] = _mm256_add_ps(acc[r], _mm256_mul_ps(_mm256_set1_ps(y->d * xd), _mm256_cvtepi32_ps(sumi[r])));
        }
    }
    UNROLL
    for (int q = 0; q < nr / 2; q++) {
        float m0, m1;
        k4_min_sums2(acc_m2[q], &m0, &m1);
        out[2 * q] = hsum_ps(acc[2 * q]) + m0;
        out[2 * q + 1] = hsum_ps(acc[2 * q + 1]) + m1;
    }
    if (nr & 1) out[nr - 1] = hsum_ps(acc[nr - 1]) + hsum_ps128(acc_m1);
}

/* Q6_K, one weight row against nr activation rows (see rows_q4_K). */
static inline __attribute__((always_inline)) KROWS_ATTR void KROWS_NAME(rows_q6_K)(int64_t n, const chord_block_q6_K *x,
        const uint8_t *yb, uint64_t ys, const int nr, float *out) {
    const __m256i m4 = _mm256_set1_epi8(0xF), m2 = _mm256_set1_epi8(3);
    __m256 acc[KROWS_MAXR];
    UNROLL
    for (int r = 0; r < nr; r++) acc[r] = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        const __m128i sc8 = _mm_loadu_si128((const __m128i *)x[i].scales);
        const uint8_t *ql = x[i].ql, *qh = x[i].qh;
        __m256i sumi[KROWS_MAXR];
        UNROLL
        for (int r = 0; r < nr; r++) sumi[r] = _mm256_setzero_si256();
        UNROLL
        for (int j = 0; j < 2; j++, ql += 64, qh += 32) {
            const __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
            const __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
            const __m256i h = _mm256_loadu_si256((const __m256i *)qh);
            /* the 8 scales of this 128-element half as int16, in both 128-bit lanes */
            const __m128i sl = _mm_cvtepi8_epi16(j ? _mm_srli_si128(sc8, 8) : sc8);
            const __m256i scales = _mm256_set_m128i(sl, sl);
            __m256i q[4];
            q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(h, m2), 4));
            q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), m2), 4));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 4), m2), 4));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 6), m2), 4));
            UNROLL
            for (int k = 0; k < 4; k++) {
                const __m256i s = _mm256_shuffle_epi8(scales, lane16_pair(2 * k));
                UNROLL
                for (int r = 0; r < nr; r++) {
                    const int8_t *q8 = ((const chord_block_q8_K *)(yb + (uint64_t)r * ys))[i].qs + 128 * j + 32 * k;
                    const __m256i p = _mm256_maddubs_epi16(q[k], _mm256_loadu_si256((const __m256i *)q8));
                    sumi[r] = KROWS_MACC(sumi[r], s, p);
                }
            }
        }
        const float xd = H2F(x[i].d);
        const __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
        UNROLL
        for (int r = 0; r < nr; r++) {
            const chord_block_q8_K *y = (const chord_block_q8_K *)(yb + (uint64_t)r * ys) + i;
            /* levels are stored +32: the -32 is applied once per block as 32 * sum_j sc_j *
             * bsum_j (maddubs needs the unsigned levels as they are) */
            const __m256i bsums = _mm256_loadu_si256((const __m256i *)y->bsums);
            const __m256i sub = _mm256_slli_epi32(_mm256_madd_epi16(bsums, sc16), 5);
            acc[r] = _mm256_add_ps(acc[r], _mm256_mul_ps(_mm256_set1_ps(y->d * xd), _mm256_cvtepi32_ps(_mm256_sub_epi32(sumi[r], sub))));
        }
    }
    UNROLL
    for (int r = 0; r < nr; r++) out[r] = hsum_ps(acc[r]);
}

#undef KROWS_NAME
#undef KROWS_ATTR
#undef KROWS_MACC
#undef KROWS_MACC2
#undef KROWS_MAXR
