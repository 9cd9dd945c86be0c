/*
 * x86_prompt_k.h — the AVX2 prompt-batch kernels of Q4_K and Q6_K: one weight row against nr <= 8
 * activation rows (nr a constant after inlining). Included by avx2.c only (needs x86.h).
 *
 * On AVX2 the integer multiplies (maddubs, madd: 16 per 256 weights x token, the floor) share two
 * pipes with every shuffle, conversion and float multiply (Zen 3: a maddubs and a vpshufb take
 * one cycle together, a maddubs alone half). x86_rows_k.h's 4-row kernel spent about as much
 * again on those pipes: 8 scale shuffles per block, a broadcast of y.d * x.d per row, the min
 * term's multiplier built from scalars, the weight unpacking shared by 4 rows only, and spills
 * (4 rows' sumi, acc, mins and the unpacking temporaries exceed 16 registers). Here:
 *   - the block's scales are stored once as dwords s | s << 16 and read back as broadcast loads
 *     (a load, no shuffle; Q6_K: two broadcasts and a blend per 32 elements);
 *   - the float scale products are vector multiplies of broadcast loads (y.d, the table's x.d);
 *   - 8 rows share the weight unpacking; the float accumulators live in memory (one load, add and
 *     store per block and row, next to 32 integer operations), so the 8 integer sums, the
 *     unpacked weights and the temporaries stay in the 16 registers.
 * The arithmetic is ref_k.c's canonical order (acck) for every row: exact integer lanes, then per
 * block (float)lane * (y.d * x.d) as a multiply and then an add (never fused), the min lanes of
 * Q4_K as k4_min_term2's; so out[r] is bit-identical to chord_dot_q4_K_avx2(n, x, y_r) (and
 * Q6_K's), which test_quant checks with memcmp for every nr.
 */
#ifndef CHORD_QUANT_X86_PROMPT_K_H
#define CHORD_QUANT_X86_PROMPT_K_H

#define PK_MAXR 8
#define PK_Y(yb, ys, r, i) ((const chord_block_q8_K *)((yb) + (uint64_t)(r) * (ys)) + (i))

/* An opaque copy of p: GCC then reads what p points to with real loads (broadcasts from memory)
 * instead of extracting the values it just stored from registers (shuffles). */
#define PK_OPAQUE(p) __asm__("" : "+r"(p))
/* An opaque vector: GCC otherwise reassociates the integer sums of a block, issues all 64
 * multiplies first and spills their results (32 stores and reloads per block). */
#define PK_KEEP(v) __asm__("" : "+x"(v))

/* Shuffle controls on k4_scales_mins_x2 of one block in both halves (bytes 0..7 the scales, 8..15
 * the mins): dword k = scale k as two int16 (the madd operand of sub-block k, once broadcast);
 * the mins as k4_mins2's int16 [m0..m3 m0..m3 | m4..m7 m4..m7] (k4_min_term takes the high half). */
static inline __m256i pk_q4k_scales_u16x2(void) {
    return _mm256_setr_epi8(0, -128, 0, -128, 1, -128, 1, -128, 2, -128, 2, -128, 3, -128, 3, -128,
                            4, -128, 4, -128, 5, -128, 5, -128, 6, -128, 6, -128, 7, -128, 7, -128);
}
static inline __m256i pk_q4k_mins2(void) {
    return _mm256_setr_epi8(8, -128, 9, -128, 10, -128, 11, -128, 8, -128, 9, -128, 10, -128, 11, -128,
                            12, -128, 13, -128, 14, -128, 15, -128, 12, -128, 13, -128, 14, -128, 15, -128);
}

/* The exact integer lane sums of one Q4_K block against nr activation rows (the rows kernel's and
 * the tile's shared inner step): sumi[r] = sum_j scale_j * dot(level_j, y_r) per 4-element lane,
 * with the block's dword-duplicated scales in scp (2 per 64 elements) read as broadcasts. */
static inline __attribute__((always_inline)) void pk_sums_q4_K(const uint8_t *q4, const uint8_t *yb, uint64_t ys,
        int64_t i, const int nr, const int32_t *scp, const __m256i m4, __m256i *sumi) {
    UNROLL
    for (int r = 0; r < nr; r++) sumi[r] = _mm256_setzero_si256();
    UNROLL
    for (int j = 0; j < 4; j++, q4 += 32) {
        const __m256i bits = _mm256_loadu_si256((const __m256i *)q4);
        const __m256i lo = _mm256_and_si256(bits, m4);
        const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);
        const __m256i sl = _mm256_set1_epi32(scp[2 * j]), sh = _mm256_set1_epi32(scp[2 * j + 1]);
        UNROLL
        for (int r = 0; r < nr; r++) {
            const int8_t *q8 = PK_Y(yb, ys, r, i)->qs + 64 * j;
            const __m256i pl = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)q8));
            const __m256i ph = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(q8 + 32)));
            sumi[r] = _mm256_add_epi32(sumi[r], _mm256_add_epi32(_mm256_madd_epi16(sl, pl), _mm256_madd_epi16(sh, ph)));
            PK_KEEP(sumi[r]);
        }
    }
}

static inline __attribute__((always_inline)) void pk_rows_q4_K(int64_t n, const chord_block_q4_K *x,
        const uint8_t *yb, uint64_t ys, const int nr, float *out) {
    const __m256i m4 = _mm256_set1_epi8(0xF);
    __m256 acc[PK_MAXR], acc_m2[PK_MAXR / 2];
    __m128 acc_m1 = _mm_setzero_ps();  /* the last row's min lanes when nr is odd */
    int32_t sc32[8] __attribute__((aligned(32)));
    UNROLL
    for (int r = 0; r < nr; r++) acc[r] = _mm256_setzero_ps();
    UNROLL
    for (int q = 0; q < nr / 2; q++) acc_m2[q] = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        /* the block's 8 scales then 8 mins as bytes, in both halves (x86_wrows.h) */
        const __m256i sm = k4_scales_mins_x2(_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)x[i].scales)));
        _mm256_store_si256((__m256i *)sc32, _mm256_shuffle_epi8(sm, pk_q4k_scales_u16x2()));
        const int32_t *scp = sc32;
        PK_OPAQUE(scp);
        const __m256 xd = _mm256_broadcast_ss(&chord_x86_h2f[x[i].d]);
        const __m256 nxdmin = _mm256_xor_ps(_mm256_broadcast_ss(&chord_x86_h2f[x[i].dmin]), _mm256_set1_ps(-0.0f));
        const __m256i mins2 = _mm256_shuffle_epi8(sm, pk_q4k_mins2());
        UNROLL
        for (int q = 0; q < nr / 2; q++) {
            const chord_block_q8_K *y0 = PK_Y(yb, ys, 2 * q, i), *y1 = PK_Y(yb, ys, 2 * q + 1, i);
            const __m256i pair = _mm256_hadd_epi16(_mm256_loadu_si256((const __m256i *)y0->bsums),
                                                   _mm256_loadu_si256((const __m256i *)y1->bsums));
            /* [d0 d0 d1 d1 d0 d0 d1 d1] with d = (-y.d) * x.dmin = y.d * -x.dmin */
            const __m256 yd = _mm256_blend_ps(_mm256_broadcast_ss(&y0->d), _mm256_broadcast_ss(&y1->d), 0xCC);
            const __m256 d = _mm256_mul_ps(yd, nxdmin);
            acc_m2[q] = _mm256_add_ps(acc_m2[q], _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_madd_epi16(mins2, pair))));
        }
        if (nr & 1) {
            const chord_block_q8_K *y = PK_Y(yb, ys, nr - 1, i);
            /* k4_min_term reads the mins from the high half: there, as int16 m0..m7 */
            const __m256i ms = _mm256_shuffle_epi8(sm, k4_mins_u16());
            acc_m1 = k4_min_term(y, _mm256_permute2x128_si256(ms, ms, 0x00), -y->d * chord_x86_h2f[x[i].dmin], acc_m1);
        }
        __m256i sumi[PK_MAXR];
        pk_sums_q4_K(x[i].qs, yb, ys, i, nr, scp, m4, sumi);
        const uint8_t *yb2 = yb; /* y.d loaded again: not kept from the min term (spilled) */
        PK_OPAQUE(yb2);
        UNROLL
        for (int r = 0; r < nr; r++) {
            const __m256 d = _mm256_mul_ps(_mm256_broadcast_ss(&PK_Y(yb2, ys, r, i)->d), xd);
            acc[r] = _mm256_add_ps(acc[r], _mm256_mul_ps(d, _mm256_cvtepi32_ps(sumi[r])));
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

/* Q6_K, one weight row against nr <= 8 activation rows. A 32-element group spans two 16-element
 * sub-blocks: its madd operand is [scale a x8 | scale b x8], two dword broadcasts and a blend. */
static inline __attribute__((always_inline)) void pk_rows_q6_K(int64_t n, const chord_block_q6_K *x,
        const uint8_t *yb, uint64_t ys, const int nr, float *out) {
    const __m256i m4 = _mm256_set1_epi8(0xF), m2 = _mm256_set1_epi8(3);
    __m256 acc[PK_MAXR];
    int32_t sc32[16] __attribute__((aligned(32)));
    UNROLL
    for (int r = 0; r < nr; r++) acc[r] = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x[i].scales));
        /* dwords s | s << 16: scales 0-3 and 8-11 (unpacklo), 4-7 and 12-15 (unpackhi) */
        _mm256_store_si256((__m256i *)sc32, _mm256_unpacklo_epi16(sc16, sc16));
        _mm256_store_si256((__m256i *)(sc32 + 8), _mm256_unpackhi_epi16(sc16, sc16));
        const int32_t *scp = sc32;
        PK_OPAQUE(scp);
        const __m256 xd = _mm256_broadcast_ss(&chord_x86_h2f[x[i].d]);
        const uint8_t *ql = x[i].ql, *qh = x[i].qh;
        __m256i sumi[PK_MAXR];
        UNROLL
        for (int r = 0; r < nr; r++) sumi[r] = _mm256_setzero_si256();
        UNROLL
        for (int j = 0; j < 2; j++, ql += 64, qh += 32) {
            const __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
            const __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
            const __m256i h = _mm256_loadu_si256((const __m256i *)qh);
            UNROLL
            for (int k = 0; k < 4; k++) {
                const __m256i l = k & 1 ? l1 : l0;
                const __m256i q = _mm256_or_si256(_mm256_and_si256(k < 2 ? l : _mm256_srli_epi16(l, 4), m4),
                    _mm256_slli_epi16(_mm256_and_si256(k ? _mm256_srli_epi16(h, 2 * k) : h, m2), 4));
                const int a = 8 * j + 2 * k, b = a + 1; /* the group's two sub-blocks */
#define PK_Q6_SC(t) scp[((t) & 8) / 2 + ((t) & 4) * 2 + ((t) & 3)]
                const __m256i s = _mm256_blend_epi32(_mm256_set1_epi32(PK_Q6_SC(a)), _mm256_set1_epi32(PK_Q6_SC(b)), 0xF0);
#undef PK_Q6_SC
                UNROLL
                for (int r = 0; r < nr; r++) {
                    const int8_t *q8 = PK_Y(yb, ys, r, i)->qs + 128 * j + 32 * k;
                    const __m256i p = _mm256_maddubs_epi16(q, _mm256_loadu_si256((const __m256i *)q8));
                    sumi[r] = _mm256_add_epi32(sumi[r], _mm256_madd_epi16(s, p));
                    PK_KEEP(sumi[r]);
                }
            }
        }
        UNROLL
        for (int r = 0; r < nr; r++) {
            const chord_block_q8_K *y = PK_Y(yb, ys, r, i);
            /* levels are stored +32: minus 32 * sum_j sc_j * bsum_j (x86_rows_k.h's rows_q6_K) */
            const __m256i bsums = _mm256_loadu_si256((const __m256i *)y->bsums);
            const __m256i sub = _mm256_slli_epi32(_mm256_madd_epi16(bsums, sc16), 5);
            const __m256 d = _mm256_mul_ps(_mm256_broadcast_ss(&y->d), xd);
            acc[r] = _mm256_add_ps(acc[r], _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_sub_epi32(sumi[r], sub))));
        }
    }
    UNROLL
    for (int r = 0; r < nr; r++) out[r] = hsum_ps(acc[r]);
}

/* ---- the Q4_K prompt tile (vec_dot_tile): the activations' share once per token group -------- */

/* What pk_tile_row_q4_K reads per block of a group of up to 8 activation rows, prepared once for
 * all the tile's weight rows (in pk_rows_q4_K every weight row redoes it): the min term's int16
 * pair sums of rows 2q and 2q+1 interleaved by dword, [A p0 p1, B p0 p1, A p2 p3, B p2 p3 | A p4
 * p5, B p4 p5, A p6 p7, B p6 p7] (p_j = bsums[2j] + bsums[2j+1]), and the rows' y.d. An odd last
 * row is paired with itself. */
#define PK_NBMAX 64 /* blocks per row (16384 elements) the group scratch holds */
typedef struct {
    __m256i pair[PK_MAXR / 2];
    float d[PK_MAXR];
} pk_q8K_group;

static inline void pk_prepare_q8K(pk_q8K_group *g, int64_t nb, const uint8_t *yb, uint64_t ys, int nt) {
    for (int64_t i = 0; i < nb; i++) {
        for (int q = 0; 2 * q < nt; q++) {
            const chord_block_q8_K *a = PK_Y(yb, ys, 2 * q, i);
            const chord_block_q8_K *b = 2 * q + 1 < nt ? PK_Y(yb, ys, 2 * q + 1, i) : a;
            const __m256i h = _mm256_hadd_epi16(_mm256_loadu_si256((const __m256i *)a->bsums),
                                                _mm256_loadu_si256((const __m256i *)b->bsums));
            _mm256_store_si256(&g[i].pair[q], _mm256_shuffle_epi32(h, _MM_SHUFFLE(3, 1, 2, 0)));
        }
        for (int t = 0; t < PK_MAXR; t++) g[i].d[t] = PK_Y(yb, ys, t < nt ? t : nt - 1, i)->d;
    }
}

/* The mins of k4_scales_mins_x2 (both halves one block) as int16 [m0 m1 m0 m1 m2 m3 m2 m3 | m4 m5
 * m4 m5 m6 m7 m6 m7], the madd partner of pk_q8K_group.pair. */
static inline __m256i pk_q4k_mins_il(void) {
    return _mm256_setr_epi8(8, -128, 9, -128, 8, -128, 9, -128, 10, -128, 11, -128, 10, -128, 11, -128,
                            12, -128, 13, -128, 12, -128, 13, -128, 14, -128, 15, -128, 14, -128, 15, -128);
}

/* One Q4_K weight row against a group's nr rows: pk_rows_q4_K's integer lanes and float steps,
 * with the scale products as one vector multiply per block for all rows (stored, read back as
 * broadcasts) and the min lanes of rows 2q, 2q+1 as [A q0, B q0, A q1, B q1 | A q2, B q2, A q3,
 * B q3] (their multiplier a 64-bit broadcast of the products). */
static inline __attribute__((always_inline)) void pk_tile_row_q4_K(int64_t nb, const chord_block_q4_K *x,
        const pk_q8K_group *g, const uint8_t *yb, uint64_t ys, const int nr, float *out) {
    const __m256i m4 = _mm256_set1_epi8(0xF);
    __m256 acc[PK_MAXR], acc_m[PK_MAXR / 2];
    int32_t sc32[8] __attribute__((aligned(32)));
    float dd[2 * PK_MAXR] __attribute__((aligned(32))); /* y.d * x.d, then y.d * -x.dmin */
    UNROLL
    for (int r = 0; r < nr; r++) acc[r] = _mm256_setzero_ps();
    UNROLL
    for (int q = 0; q < (nr + 1) / 2; q++) acc_m[q] = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb; i++) {
        const __m256i sm = k4_scales_mins_x2(_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)x[i].scales)));
        _mm256_store_si256((__m256i *)sc32, _mm256_shuffle_epi8(sm, pk_q4k_scales_u16x2()));
        const __m256 yd = _mm256_load_ps(g[i].d);
        _mm256_store_ps(dd, _mm256_mul_ps(yd, _mm256_broadcast_ss(&chord_x86_h2f[x[i].d])));
        _mm256_store_ps(dd + PK_MAXR, _mm256_mul_ps(yd, _mm256_xor_ps(_mm256_broadcast_ss(&chord_x86_h2f[x[i].dmin]),
                                                                        _mm256_set1_ps(-0.0f))));
        const int32_t *scp = sc32;
        const float *ddp = dd;
        PK_OPAQUE(scp);
        PK_OPAQUE(ddp);
        const __m256i mins = _mm256_shuffle_epi8(sm, pk_q4k_mins_il());
        UNROLL
        for (int q = 0; q < (nr + 1) / 2; q++) {
            const __m256 d = _mm256_castpd_ps(_mm256_broadcast_sd((const double *)(ddp + PK_MAXR + 2 * q)));
            const __m256i prod = _mm256_madd_epi16(mins, _mm256_load_si256(&g[i].pair[q]));
            acc_m[q] = _mm256_add_ps(acc_m[q], _mm256_mul_ps(d, _mm256_cvtepi32_ps(prod)));
        }
        __m256i sumi[PK_MAXR];
        pk_sums_q4_K(x[i].qs, yb, ys, i, nr, scp, m4, sumi);
        UNROLL
        for (int r = 0; r < nr; r++)
            acc[r] = _mm256_add_ps(acc[r], _mm256_mul_ps(_mm256_broadcast_ss(ddp + r), _mm256_cvtepi32_ps(sumi[r])));
    }
    UNROLL
    for (int q = 0; q < (nr + 1) / 2; q++) {
        /* row A's min lanes q0..q3 sit in lanes 0, 2, 4, 6: (q0 + q2) + (q1 + q3) as hsum_ps128 */
        const __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc_m[q]), _mm256_extractf128_ps(acc_m[q], 1));
        const __m128 m = _mm_add_ps(h, _mm_movehl_ps(h, h));
        out[2 * q] = hsum_ps(acc[2 * q]) + _mm_cvtss_f32(m);
        if (2 * q + 1 < nr) out[2 * q + 1] = hsum_ps(acc[2 * q + 1]) + _mm_cvtss_f32(_mm_movehdup_ps(m));
    }
}

/* Runs BODY(NR) with NR the constant equal to nt (1..8). */
#define PK_BY_NT(nt, BODY)                                                                         \
    switch (nt) {                                                                                  \
    case 8: BODY(8); break;                                                                        \
    case 7: BODY(7); break;                                                                        \
    case 6: BODY(6); break;                                                                        \
    case 5: BODY(5); break;                                                                        \
    case 4: BODY(4); break;                                                                        \
    case 3: BODY(3); break;                                                                        \
    case 2: BODY(2); break;                                                                        \
    default: BODY(1); break;                                                                       \
    }

/* nx weight rows x ny activation rows: groups of 8 activation rows, each prepared once, against
 * every weight row (ops.c's loop order). Meanwhile the next nx rows (the next tile's, ops.c walks
 * a matrix in order) are prefetched into L2, a slice per group, as ops.c does for the rows
 * kernels; prefetches never fault. Rows longer than PK_NBMAX blocks take pk_rows_q4_K. */
static void pk_tile_q4_K(int64_t n, const uint8_t *x, uint64_t xs, int nx, const uint8_t *y, uint64_t ys, int ny,
                         float *out, uint64_t os) {
    const int64_t nb = n / QK_K;
    pk_q8K_group g[nb <= PK_NBMAX ? nb : 1];
    const uint64_t pf_bytes = (uint64_t)nx * xs;
    const uint64_t pf_step = (pf_bytes / (uint64_t)((ny + PK_MAXR - 1) / PK_MAXR) + 63) & ~(uint64_t)63;
    const uint8_t *pf = x + pf_bytes;
    uint64_t pf_done = 0;
    for (int t0 = 0; t0 < ny; t0 += PK_MAXR) {
        const int nt = ny - t0 < PK_MAXR ? ny - t0 : PK_MAXR;
        const uint8_t *yg = y + (uint64_t)t0 * ys;
        float o[PK_MAXR];
        for (const uint64_t e = pf_done + pf_step; pf_done < e && pf_done < pf_bytes; pf_done += 64)
            _mm_prefetch((const char *)pf + pf_done, _MM_HINT_T1);
        if (nb <= PK_NBMAX) pk_prepare_q8K(g, nb, yg, ys, nt);
#define PK_TILE_BODY(NR)                                                                           \
        for (int k = 0; k < nx; k++) {                                                             \
            const chord_block_q4_K *xk = (const chord_block_q4_K *)(x + (uint64_t)k * xs);         \
            if (nb <= PK_NBMAX) pk_tile_row_q4_K(nb, xk, g, yg, ys, NR, o);                        \
            else pk_rows_q4_K(n, xk, yg, ys, NR, o);                                               \
            for (int t = 0; t < NR; t++) out[(uint64_t)(t0 + t) * os + k] = o[t];                  \
        }
        PK_BY_NT(nt, PK_TILE_BODY)
#undef PK_TILE_BODY
    }
}

#endif
