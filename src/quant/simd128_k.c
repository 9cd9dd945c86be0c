/*
 * simd128_k.c — WebAssembly SIMD dot products of the K-quants (Q2_K..Q6_K against Q8_K), their
 * prompt-batch (multi-row) forms for Q4_K, Q5_K and Q6_K, and the multi-weight-row decode forms
 * (simd128.c says why the shapes match the AVX2 kernels).
 */
#if defined(__wasm_simd128__)
#include "quant/simd128_common.h"

/* ---- K-quants --------------------------------------------------------------------------- */

/* sumi += scale_lo * dot(q[0..15], y[0..15]) | scale_hi * dot(q[16..31], y[16..31]) with
 * unsigned levels q: the AVX2 maddubs + madd(scale) lane layout. */
static inline v8i add_scaled_u8(v8i s, const v128_t q0, const v128_t q1, const int8_t *y, int32_t sc_lo, int32_t sc_hi) {
    s.lo = wasm_i32x4_add(s.lo, wasm_i32x4_mul(dot4_u8(q0, wasm_v128_load(y)), wasm_i32x4_splat(sc_lo)));
    s.hi = wasm_i32x4_add(s.hi, wasm_i32x4_mul(dot4_u8(q1, wasm_v128_load(y + 16)), wasm_i32x4_splat(sc_hi)));
    return s;
}

/* Q4_K, Q5_K and Q6_K (Q4_K and Q6_K are the hot pair: the types of Q4_K_M models), with the integer part regrouped.
 * Only the exact int32 sums move; each block still ends in the same eight sumi lanes, converted,
 * multiplied and added into the same float lanes in the same order as the AVX2 kernel (ref_k.c's
 * canonical order, acck). The accumulator
 * (kacc) and the 64-element step (k45_step) differ per build: simd128_relaxed.h, simd128_plain.h. */

/* i16 lane j of v in every lane */
#define BCAST16(v, j) wasm_i16x8_shuffle(v, v, j, j, j, j, j, j, j, j)

/* The fields of Q4_K / Q5_K block i (qh = NULL for Q4_K): the two differ only by the high bits. */
static inline void k45_block(const void *vx, int64_t i, int five, const uint8_t **scales, const uint8_t **qs,
                             const uint8_t **qh, uint16_t *dh, uint16_t *dminh) {
    if (five) {
        const chord_block_q5_K *x = (const chord_block_q5_K *)vx + i;
        *scales = x->scales; *qs = x->qs; *qh = x->qh; *dh = x->d; *dminh = x->dmin;
    } else {
        const chord_block_q4_K *x = (const chord_block_q4_K *)vx + i;
        *scales = x->scales; *qs = x->qs; *qh = NULL; *dh = x->d; *dminh = x->dmin;
    }
}

/* The j loops stay rolled (scales rotate through lane 0, high bits shift down by 2 each step):
 * V8 ran the fully unrolled versions 25-35% slower. Plain simd128 widens the packed bytes to i16
 * once and takes both nibbles from there (i16 shifts are native on x86, i8x16 shifts are not).
 * K45_DOT_ATTR (simd128_plain.h / simd128_relaxed.h) says whether Q4_K and Q5_K share one copy. */
static K45_DOT_ATTR float dot_k45(int64_t n, const void *vx, const void *vy, int five) {
    const chord_block_q8_K *y = vy;
    v8f acc = F8_ZERO;
    v128_t acc_m = wasm_f32x4_splat(0);
    for (int64_t i = 0; i < n / QK_K; i++) {
        const uint8_t *scales, *qs, *qh;
        uint16_t dh, dminh;
        k45_block(vx, i, five, &scales, &qs, &qh, &dh, &dminh);
        const float d = y[i].d * h2f(dh), dmin = -y[i].d * h2f(dminh);
        v128_t sc, mn;
        k45_scales(scales, &sc, &mn);
        /* min term: lane q = m[2q]·pair[2q] + m[2q+1]·pair[2q+1], pair[j] = bsums 2j + 2j+1 */
        const v128_t p0 = wasm_i32x4_dot_i16x8(wasm_v128_load(y[i].bsums), wasm_i16x8_shuffle(mn, mn, 0, 0, 1, 1, 2, 2, 3, 3));
        const v128_t p1 = wasm_i32x4_dot_i16x8(wasm_v128_load(y[i].bsums + 8), wasm_i16x8_shuffle(mn, mn, 4, 4, 5, 5, 6, 6, 7, 7));
        acc_m = acc_scaled4(acc_m, dmin, pair_sum(p0, p1));
        const int8_t *q8 = y[i].qs;
        kacc s = kacc_zero();
        v128_t h0 = wasm_i32x4_splat(0), h1 = h0;
        if (five) { h0 = wasm_v128_load(qh); h1 = wasm_v128_load(qh + 16); }
        k45_high hb = k45_high_init(h0, h1);
#pragma clang loop unroll(disable)
        for (int j = 0; j < 4; j++, qs += 32, q8 += 64) {
            const v128_t b0 = wasm_v128_load(qs), b1 = wasm_v128_load(qs + 16);
            const v128_t sl = wasm_i16x8_splat(wasm_i16x8_extract_lane(sc, 0)), su = wasm_i16x8_splat(wasm_i16x8_extract_lane(sc, 1));
            sc = wasm_i32x4_shuffle(sc, sc, 1, 2, 3, 0);
            s = k45_step(s, &hb, b0, b1, q8, sl, su, five);
        }
        acc = acc_scaled(acc, d, kacc_get(s));
    }
    return hsum8(acc) + hsum4(acc_m);
}

float chord_dot_q4_K_simd128(int64_t n, const void *vx, const void *vy) { return dot_k45(n, vx, vy, 0); }
float chord_dot_q5_K_simd128(int64_t n, const void *vx, const void *vy) { return dot_k45(n, vx, vy, 1); }

float chord_dot_q6_K_simd128(int64_t n, const void *vx, const void *vy) {
    const chord_block_q6_K *x = vx;
    const chord_block_q8_K *y = vy;
    const v128_t m4 = wasm_i8x16_splat(0x0f);
    v8f acc = F8_ZERO;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d = y[i].d * h2f(x[i].d);
        const v128_t sc8 = wasm_v128_load(x[i].scales);
        const v128_t sca = wasm_i16x8_extend_low_i8x16(sc8), scb = wasm_i16x8_extend_high_i8x16(sc8);
        /* the -32 offset: lane m = 32·(bsums[2m]·sc[2m] + bsums[2m+1]·sc[2m+1]) */
        const v128_t sub0 = wasm_i32x4_shl(wasm_i32x4_dot_i16x8(wasm_v128_load(y[i].bsums), sca), 5);
        const v128_t sub1 = wasm_i32x4_shl(wasm_i32x4_dot_i16x8(wasm_v128_load(y[i].bsums + 8), scb), 5);
        const uint8_t *ql = x[i].ql, *qh = x[i].qh;
        const int8_t *q8 = y[i].qs;
        kacc s = kacc_zero();
#define HB(h, sh) q6_hbits(h, sh)
#define Q6K_HALF(j, scv)                                                                                  \
        do {                                                                                              \
            const v128_t l0a = wasm_v128_load(ql + 64 * (j)), l0b = wasm_v128_load(ql + 64 * (j) + 16);     \
            const v128_t l1a = wasm_v128_load(ql + 64 * (j) + 32), l1b = wasm_v128_load(ql + 64 * (j) + 48);\
            const v128_t ha = wasm_v128_load(qh + 32 * (j)), hb = wasm_v128_load(qh + 32 * (j) + 16);       \
            const int8_t *yy = q8 + 128 * (j);                                                            \
            s = kacc_add(s, wasm_v128_or(wasm_v128_and(l0a, m4), HB(ha, 0)),                              \
                         wasm_v128_or(wasm_v128_and(l0b, m4), HB(hb, 0)), yy, BCAST16(scv, 0), BCAST16(scv, 1)); \
            s = kacc_add(s, wasm_v128_or(wasm_v128_and(l1a, m4), HB(ha, 2)),                              \
                         wasm_v128_or(wasm_v128_and(l1b, m4), HB(hb, 2)), yy + 32, BCAST16(scv, 2), BCAST16(scv, 3)); \
            s = kacc_add(s, wasm_v128_or(hi_nib(l0a), HB(ha, 4)),                              \
                         wasm_v128_or(hi_nib(l0b), HB(hb, 4)), yy + 64, BCAST16(scv, 4), BCAST16(scv, 5)); \
            s = kacc_add(s, wasm_v128_or(hi_nib(l1a), HB(ha, 6)),                              \
                         wasm_v128_or(hi_nib(l1b), HB(hb, 6)), yy + 96, BCAST16(scv, 6), BCAST16(scv, 7)); \
        } while (0)
        v128_t scv = sca;
#pragma clang loop unroll(disable)
        for (int j = 0; j < 2; j++, ql += 64, qh += 32, q8 += 128) {
            Q6K_HALF(0, scv);
            scv = scb;
        }
#undef Q6K_HALF
#undef HB
        v8i sumi = kacc_get(s);
        sumi.lo = wasm_i32x4_sub(sumi.lo, sub0);
        sumi.hi = wasm_i32x4_sub(sumi.hi, sub1);
        acc = acc_scaled(acc, d, sumi);
    }
    return hsum8(acc);
}

float chord_dot_q2_K_simd128(int64_t n, const void *vx, const void *vy) {
    const chord_block_q2_K *x = vx;
    const chord_block_q8_K *y = vy;
    const v128_t m3 = wasm_i8x16_splat(3);
    v8f acc = F8_ZERO;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d = y[i].d * h2f(x[i].d), dmin = -y[i].d * h2f(x[i].dmin);
        const uint8_t *sm = x[i].scales;
        int32_t prod[8];
        for (int m = 0; m < 8; m++)
            prod[m] = (sm[2 * m] >> 4) * y[i].bsums[2 * m] + (sm[2 * m + 1] >> 4) * y[i].bsums[2 * m + 1];
        acc = acc_scaled(acc, dmin, (v8i){ wasm_v128_load(prod), wasm_v128_load(prod + 4) });
        const uint8_t *q2 = x[i].qs;
        const int8_t *q8 = y[i].qs;
        v8i sumi = { wasm_i32x4_splat(0), wasm_i32x4_splat(0) };
        UNROLL
        for (int j = 0; j < 2; j++, q2 += 32) {
            const v128_t b0 = wasm_v128_load(q2), b1 = wasm_v128_load(q2 + 16);
            UNROLL
            for (int k = 0; k < 4; k++, q8 += 32) {
                const v128_t q0 = wasm_v128_and(wasm_u16x8_shr(b0, 2 * k), m3);
                const v128_t q1 = wasm_v128_and(wasm_u16x8_shr(b1, 2 * k), m3);
                sumi = add_scaled_u8(sumi, q0, q1, q8, sm[8 * j + 2 * k] & 0xf, sm[8 * j + 2 * k + 1] & 0xf);
            }
        }
        acc = acc_scaled(acc, d, sumi);
    }
    return hsum8(acc);
}

/* The 16 Q3_K sub-block scales (6-bit, minus 32). */
static inline void q3k_scales(const uint8_t *s, int8_t *out) {
    uint32_t a[3];
    memcpy(a, s, 12);
    const uint32_t m2 = 0x0f0f0f0f, m1 = 0x03030303;
    uint32_t r[4] = { (a[0] & m2) | ((a[2] & m1) << 4), (a[1] & m2) | (((a[2] >> 2) & m1) << 4),
                      ((a[0] >> 4) & m2) | (((a[2] >> 4) & m1) << 4), ((a[1] >> 4) & m2) | (((a[2] >> 6) & m1) << 4) };
    memcpy(out, r, 16);
    for (int k = 0; k < 16; k++) out[k] = (int8_t)(out[k] - 32);
}

/* Signed levels in [-4, 3] (never -128): dot4_i8 handles them. */
float chord_dot_q3_K_simd128(int64_t n, const void *vx, const void *vy) {
    const chord_block_q3_K *x = vx;
    const chord_block_q8_K *y = vy;
    const v128_t m3 = wasm_i8x16_splat(3), one = wasm_i8x16_splat(1);
    v8f acc = F8_ZERO;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d = y[i].d * h2f(x[i].d);
        int8_t sc[16];
        q3k_scales(x[i].scales, sc);
        const v128_t hb0 = wasm_v128_load(x[i].hmask), hb1 = wasm_v128_load(x[i].hmask + 16);
        const uint8_t *q3 = x[i].qs;
        const int8_t *q8 = y[i].qs;
        v8i sumi = { wasm_i32x4_splat(0), wasm_i32x4_splat(0) };
        UNROLL
        for (int j = 0; j < 2; j++, q3 += 32) {
            const v128_t b0 = wasm_v128_load(q3), b1 = wasm_v128_load(q3 + 16);
            UNROLL
            for (int k = 0; k < 4; k++, q8 += 32) {
                const int b = 4 * j + k;
                /* level = low 2 bits, minus 4 where the hmask bit is clear */
                const v128_t h0 = wasm_i16x8_shl(wasm_v128_andnot(one, wasm_u16x8_shr(hb0, b)), 2);
                const v128_t h1 = wasm_i16x8_shl(wasm_v128_andnot(one, wasm_u16x8_shr(hb1, b)), 2);
                const v128_t q0 = wasm_i8x16_sub(wasm_v128_and(wasm_u16x8_shr(b0, 2 * k), m3), h0);
                const v128_t q1 = wasm_i8x16_sub(wasm_v128_and(wasm_u16x8_shr(b1, 2 * k), m3), h1);
                sumi.lo = wasm_i32x4_add(sumi.lo, wasm_i32x4_mul(dot4_i8(q0, wasm_v128_load(q8)), wasm_i32x4_splat(sc[8 * j + 2 * k])));
                sumi.hi = wasm_i32x4_add(sumi.hi, wasm_i32x4_mul(dot4_i8(q1, wasm_v128_load(q8 + 16)), wasm_i32x4_splat(sc[8 * j + 2 * k + 1])));
            }
        }
        acc = acc_scaled(acc, d, sumi);
    }
    return hsum8(acc);
}

/* In the plain simd128 build clang keeps the token loops below rolled, with s[] (4 accumulators per
 * row there) in linear memory; forcing unroll(full) measured slower in Node 20 (CPU per 67-token
 * TinyLlama Q4_K_M prompt 9.4-12.7 s against 7.9-9.7, 3 interleaved pairs, Zen 3, 2026-12-04):
 * likely because 16 accumulators exceed V8's 16 vector registers (not read from V8's code). */
static ALWAYS_INLINE void k45_rows(int64_t n, const void *vx, const void *vy, uint64_t ys, int ny, float *out, int five) {
    v8f acc[ROWS_MAX];
    v128_t acc_m[ROWS_MAX];
    for (int r = 0; r < ny; r++) { acc[r] = F8_ZERO; acc_m[r] = wasm_f32x4_splat(0); }
    for (int64_t i = 0; i < n / QK_K; i++) {
        const uint8_t *scales, *qs, *qh;
        uint16_t dh, dminh;
        k45_block(vx, i, five, &scales, &qs, &qh, &dh, &dminh);
        const float xd = h2f(dh), xm = h2f(dminh);
        v128_t sc, mn;
        k45_scales(scales, &sc, &mn);
        const v128_t mn0 = wasm_i16x8_shuffle(mn, mn, 0, 0, 1, 1, 2, 2, 3, 3);
        const v128_t mn1 = wasm_i16x8_shuffle(mn, mn, 4, 4, 5, 5, 6, 6, 7, 7);
        float d[ROWS_MAX];
        kacc s[ROWS_MAX];
        for (int r = 0; r < ny; r++) {
            const chord_block_q8_K *y = YROW(chord_block_q8_K, vy, ys, r) + i;
            d[r] = y->d * xd;
            const float dmin = -y->d * xm;
            const v128_t p0 = wasm_i32x4_dot_i16x8(wasm_v128_load(y->bsums), mn0);
            const v128_t p1 = wasm_i32x4_dot_i16x8(wasm_v128_load(y->bsums + 8), mn1);
            acc_m[r] = acc_scaled4(acc_m[r], dmin, pair_sum(p0, p1));
            s[r] = kacc_zero();
        }
        v128_t h0 = wasm_i32x4_splat(0), h1 = h0;
        if (five) { h0 = wasm_v128_load(qh); h1 = wasm_v128_load(qh + 16); }
        k45_high hb = k45_high_init(h0, h1);
#pragma clang loop unroll(disable)
        for (int j = 0; j < 4; j++, qs += 32) {
            const v128_t b0 = wasm_v128_load(qs), b1 = wasm_v128_load(qs + 16);
            const v128_t sl = wasm_i16x8_splat(wasm_i16x8_extract_lane(sc, 0)), su = wasm_i16x8_splat(wasm_i16x8_extract_lane(sc, 1));
            sc = wasm_i32x4_shuffle(sc, sc, 1, 2, 3, 0);
            const k45_lv lv = k45_levels(&hb, b0, b1, five);
            const k45_pv pv = k45_pre(&lv, sl, su);
            for (int r = 0; r < ny; r++)
                s[r] = k45_acc_pre(s[r], &pv, (YROW(chord_block_q8_K, vy, ys, r) + i)->qs + 64 * j);
        }
        for (int r = 0; r < ny; r++) acc[r] = acc_scaled(acc[r], d[r], kacc_get(s[r]));
    }
    for (int r = 0; r < ny; r++) out[r] = hsum8(acc[r]) + hsum4(acc_m[r]);
}

static ALWAYS_INLINE void q6k_rows(int64_t n, const void *vx, const void *vy, uint64_t ys, int ny, float *out) {
    const chord_block_q6_K *x = vx;
    const v128_t m4 = wasm_i8x16_splat(0x0f);
    v8f acc[ROWS_MAX];
    for (int r = 0; r < ny; r++) acc[r] = F8_ZERO;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float xd = h2f(x[i].d);
        const v128_t sc8 = wasm_v128_load(x[i].scales);
        const v128_t sca = wasm_i16x8_extend_low_i8x16(sc8), scb = wasm_i16x8_extend_high_i8x16(sc8);
        const uint8_t *ql = x[i].ql, *qh = x[i].qh;
        kacc s[ROWS_MAX];
        for (int r = 0; r < ny; r++) s[r] = kacc_zero();
        v128_t scv = sca;
#define HB(h, sh) q6_hbits(h, sh)
#pragma clang loop unroll(disable)
        for (int j = 0; j < 2; j++, ql += 64, qh += 32) {
            const v128_t l0a = wasm_v128_load(ql), l0b = wasm_v128_load(ql + 16);
            const v128_t l1a = wasm_v128_load(ql + 32), l1b = wasm_v128_load(ql + 48);
            const v128_t ha = wasm_v128_load(qh), hb = wasm_v128_load(qh + 16);
            const int off = 128 * j;
            v128_t q0 = wasm_v128_or(wasm_v128_and(l0a, m4), HB(ha, 0)), q1 = wasm_v128_or(wasm_v128_and(l0b, m4), HB(hb, 0));
            {
                const kpre p = kpre_of8(q0, q1, BCAST16(scv, 0), BCAST16(scv, 1));
                for (int r = 0; r < ny; r++) s[r] = kacc_pre(s[r], &p, (YROW(chord_block_q8_K, vy, ys, r) + i)->qs + off);
            }
            q0 = wasm_v128_or(wasm_v128_and(l1a, m4), HB(ha, 2)); q1 = wasm_v128_or(wasm_v128_and(l1b, m4), HB(hb, 2));
            {
                const kpre p = kpre_of8(q0, q1, BCAST16(scv, 2), BCAST16(scv, 3));
                for (int r = 0; r < ny; r++) s[r] = kacc_pre(s[r], &p, (YROW(chord_block_q8_K, vy, ys, r) + i)->qs + off + 32);
            }
            q0 = wasm_v128_or(hi_nib(l0a), HB(ha, 4)); q1 = wasm_v128_or(hi_nib(l0b), HB(hb, 4));
            {
                const kpre p = kpre_of8(q0, q1, BCAST16(scv, 4), BCAST16(scv, 5));
                for (int r = 0; r < ny; r++) s[r] = kacc_pre(s[r], &p, (YROW(chord_block_q8_K, vy, ys, r) + i)->qs + off + 64);
            }
            q0 = wasm_v128_or(hi_nib(l1a), HB(ha, 6)); q1 = wasm_v128_or(hi_nib(l1b), HB(hb, 6));
            {
                const kpre p = kpre_of8(q0, q1, BCAST16(scv, 6), BCAST16(scv, 7));
                for (int r = 0; r < ny; r++) s[r] = kacc_pre(s[r], &p, (YROW(chord_block_q8_K, vy, ys, r) + i)->qs + off + 96);
            }
            scv = scb;
        }
#undef HB
        for (int r = 0; r < ny; r++) {
            const chord_block_q8_K *y = YROW(chord_block_q8_K, vy, ys, r) + i;
            const v128_t sub0 = wasm_i32x4_shl(wasm_i32x4_dot_i16x8(wasm_v128_load(y->bsums), sca), 5);
            const v128_t sub1 = wasm_i32x4_shl(wasm_i32x4_dot_i16x8(wasm_v128_load(y->bsums + 8), scb), 5);
            v8i sumi = kacc_get(s[r]);
            sumi.lo = wasm_i32x4_sub(sumi.lo, sub0);
            sumi.hi = wasm_i32x4_sub(sumi.hi, sub1);
            acc[r] = acc_scaled(acc[r], y->d * xd, sumi);
        }
    }
    for (int r = 0; r < ny; r++) out[r] = hsum8(acc[r]);
}

/* Q8_0: the single-row kernel sends even blocks to acc0 and odd ones to acc1, two independent
 * chains; here each chain is one pass over the weight row (even blocks, then odd ones), so a pass
 * holds 2 accumulator registers per activation row instead of 4. With 4 rows the two-chain form
 * needed 16 accumulators plus x's prepared bytes, more than V8's 16 vector registers, and its
 * spills made the 4-row kernel slower than 4 single-row calls. x's pos/neg split (relaxed) or widening
 * (i8_prep) is still done once per block. */
#define K4_ROWS(n, x, y, ys, k, out) k45_rows(n, x, y, ys, k, out, 0)
#define K5_ROWS(n, x, y, ys, k, out) k45_rows(n, x, y, ys, k, out, 1)
ROWS_ENTRY(q4_K, K4_ROWS)
ROWS_ENTRY(q5_K, K5_ROWS)
ROWS_ENTRY(q6_K, q6k_rows)
#undef K4_ROWS
#undef K5_ROWS

/* ---- multi-weight-row kernels (decode) -----------------------------------------------------
 * The other shape: nr weight rows (xs bytes apart) against one activation vector, for the decode
 * matvec. The single-row kernel loads the activation bytes again for every weight row: for Q4_K
 * 19 of a block's ~30 loads, and in wasm64 V8 puts a bounds check (cmp + jae) before every load.
 * Here each activation vector is loaded once per block step and used by all nr rows. Each row
 * keeps its own accumulators and does exactly the single-row kernel's float operations in the
 * same order (only the exact integer sums of a block are grouped differently), so out[r] is
 * bit-identical to it (tests/wasm_test_quant.c). Rows are unrolled (nr is a constant per call).
 * Which rows: far apart, each continuing its own long sequential stream from call to call
 * (ops.c's decode tiles, stride = a quarter of the matrix). With adjacent rows every call starts
 * 3-4 new short streams that the hardware prefetcher has not learned: Chromium, 24 MiB Q4_K
 * matrix, 4 adjacent rows ran at 6.5 GB/s, 4 quarter-strided rows at 12.0, one row per call at
 * 10.7 (wasm64: 5.5 / 11.4 / 10.1). */

/* One 64-element sub-block step j of k45_wrows for its nr rows. */
static ALWAYS_INLINE void k45_wrows_step(int j, const int8_t *q8, const uint8_t *const *qs, v128_t *sc, k45_high *hb,
                                         kacc *s, int nr, int five) {
    const v128_t yv[4] = { wasm_v128_load(q8), wasm_v128_load(q8 + 16), wasm_v128_load(q8 + 32), wasm_v128_load(q8 + 48) };
    UNROLL
    for (int r = 0; r < nr; r++) {
        const v128_t b0 = wasm_v128_load(qs[r] + 32 * j), b1 = wasm_v128_load(qs[r] + 32 * j + 16);
        const v128_t sl = wasm_i16x8_splat(wasm_i16x8_extract_lane(sc[r], 0)), su = wasm_i16x8_splat(wasm_i16x8_extract_lane(sc[r], 1));
        sc[r] = wasm_i32x4_shuffle(sc[r], sc[r], 1, 2, 3, 0);
        const k45_lv lv = k45_levels(&hb[r], b0, b1, five);
        s[r] = k45_acc_v(s[r], &lv, yv, sl, su);
    }
}

/* unrolled (a constant after inlining): the 4 sub-block steps unrolled or a rolled loop. Both
 * give the same sums; which one V8 runs faster depends on the V8 (simd128.c, tuning). */
static ALWAYS_INLINE void k45_wrows(int64_t n, const void *vx, uint64_t xs, int nr, const void *vy, float *out, int five,
                                    int unrolled) {
    const chord_block_q8_K *y = vy;
    v8f acc[CHORD_WROWS_MAX];
    v128_t acc_m[CHORD_WROWS_MAX];
    UNROLL
    for (int r = 0; r < nr; r++) { acc[r] = F8_ZERO; acc_m[r] = wasm_f32x4_splat(0); }
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float yd = y[i].d;
        const v128_t bs0 = wasm_v128_load(y[i].bsums), bs1 = wasm_v128_load(y[i].bsums + 8);
        const uint8_t *qs[CHORD_WROWS_MAX];
        v128_t sc[CHORD_WROWS_MAX];
        float d[CHORD_WROWS_MAX];
        kacc s[CHORD_WROWS_MAX];
        k45_high hb[CHORD_WROWS_MAX];
        UNROLL
        for (int r = 0; r < nr; r++) {
            const uint8_t *scales, *qh;
            uint16_t dh, dminh;
            k45_block(XROW(uint8_t, vx, xs, r), i, five, &scales, &qs[r], &qh, &dh, &dminh);
            d[r] = yd * h2f(dh);
            const float dmin = -yd * h2f(dminh);
            v128_t mn;
            k45_scales(scales, &sc[r], &mn);
            const v128_t p0 = wasm_i32x4_dot_i16x8(bs0, wasm_i16x8_shuffle(mn, mn, 0, 0, 1, 1, 2, 2, 3, 3));
            const v128_t p1 = wasm_i32x4_dot_i16x8(bs1, wasm_i16x8_shuffle(mn, mn, 4, 4, 5, 5, 6, 6, 7, 7));
            acc_m[r] = acc_scaled4(acc_m[r], dmin, pair_sum(p0, p1));
            s[r] = kacc_zero();
            v128_t h0 = wasm_i32x4_splat(0), h1 = h0;
            if (five) { h0 = wasm_v128_load(qh); h1 = wasm_v128_load(qh + 16); }
            hb[r] = k45_high_init(h0, h1);
        }
        const int8_t *q8 = y[i].qs;
        if (unrolled) {
            UNROLL
            for (int j = 0; j < 4; j++) k45_wrows_step(j, q8 + 64 * j, qs, sc, hb, s, nr, five);
        } else {
#pragma clang loop unroll(disable)
            for (int j = 0; j < 4; j++) k45_wrows_step(j, q8 + 64 * j, qs, sc, hb, s, nr, five);
        }
        UNROLL
        for (int r = 0; r < nr; r++) acc[r] = acc_scaled(acc[r], d[r], kacc_get(s[r]));
    }
    UNROLL
    for (int r = 0; r < nr; r++) out[r] = hsum8(acc[r]) + hsum4(acc_m[r]);
}

/* Q6_K: a half block (128 elements) is two passes, one per 32-byte ql pair (its low nibbles then
 * its high nibbles: sub-steps 0, 2 and then 1, 3), so only 4 activation vectors are live while
 * the rows go by; the block's integer sums are the same, grouped differently. */
static ALWAYS_INLINE void q6k_wrows(int64_t n, const void *vx, uint64_t xs, int nr, const void *vy, float *out) {
    const chord_block_q8_K *y = vy;
    const v128_t m4 = wasm_i8x16_splat(0x0f);
    v8f acc[CHORD_WROWS_MAX];
    UNROLL
    for (int r = 0; r < nr; r++) acc[r] = F8_ZERO;
    for (int64_t i = 0; i < n / QK_K; i++) {
        kacc s[CHORD_WROWS_MAX];
        UNROLL
        for (int r = 0; r < nr; r++) s[r] = kacc_zero();
        const int8_t *q8 = y[i].qs;
#define HB(h, sh) q6_hbits(h, sh)
#pragma clang loop unroll(disable)
        for (int j = 0; j < 2; j++, q8 += 128) {
            UNROLL
            for (int p = 0; p < 2; p++) { /* p = 0: ql bytes 0..31 of the half, p = 1: 32..63 */
                const v128_t ya = wasm_v128_load(q8 + 32 * p), yb = wasm_v128_load(q8 + 32 * p + 16);
                const v128_t yc = wasm_v128_load(q8 + 32 * p + 64), yd = wasm_v128_load(q8 + 32 * p + 80);
                UNROLL
                for (int r = 0; r < nr; r++) {
                    const chord_block_q6_K *x = XROW(chord_block_q6_K, vx, xs, r) + i;
                    const uint8_t *ql = x->ql + 64 * j + 32 * p, *qh = x->qh + 32 * j;
                    const v128_t la = wasm_v128_load(ql), lb = wasm_v128_load(ql + 16);
                    const v128_t ha = wasm_v128_load(qh), hb = wasm_v128_load(qh + 16);
                    const v128_t sc8 = wasm_v128_load(x->scales);
                    const v128_t scv = j ? wasm_i16x8_extend_high_i8x16(sc8) : wasm_i16x8_extend_low_i8x16(sc8);
                    if (p == 0) {
                        s[r] = kacc_add_v(s[r], wasm_v128_or(wasm_v128_and(la, m4), HB(ha, 0)), wasm_v128_or(wasm_v128_and(lb, m4), HB(hb, 0)),
                                          ya, yb, BCAST16(scv, 0), BCAST16(scv, 1));
                        s[r] = kacc_add_v(s[r], wasm_v128_or(hi_nib(la), HB(ha, 4)), wasm_v128_or(hi_nib(lb), HB(hb, 4)),
                                          yc, yd, BCAST16(scv, 4), BCAST16(scv, 5));
                    } else {
                        s[r] = kacc_add_v(s[r], wasm_v128_or(wasm_v128_and(la, m4), HB(ha, 2)), wasm_v128_or(wasm_v128_and(lb, m4), HB(hb, 2)),
                                          ya, yb, BCAST16(scv, 2), BCAST16(scv, 3));
                        s[r] = kacc_add_v(s[r], wasm_v128_or(hi_nib(la), HB(ha, 6)), wasm_v128_or(hi_nib(lb), HB(hb, 6)),
                                          yc, yd, BCAST16(scv, 6), BCAST16(scv, 7));
                    }
                }
            }
        }
#undef HB
        const v128_t bs0 = wasm_v128_load(y[i].bsums), bs1 = wasm_v128_load(y[i].bsums + 8);
        UNROLL
        for (int r = 0; r < nr; r++) {
            const chord_block_q6_K *x = XROW(chord_block_q6_K, vx, xs, r) + i;
            const v128_t sc8 = wasm_v128_load(x->scales);
            const v128_t sub0 = wasm_i32x4_shl(wasm_i32x4_dot_i16x8(bs0, wasm_i16x8_extend_low_i8x16(sc8)), 5);
            const v128_t sub1 = wasm_i32x4_shl(wasm_i32x4_dot_i16x8(bs1, wasm_i16x8_extend_high_i8x16(sc8)), 5);
            v8i sumi = kacc_get(s[r]);
            sumi.lo = wasm_i32x4_sub(sumi.lo, sub0);
            sumi.hi = wasm_i32x4_sub(sumi.hi, sub1);
            acc[r] = acc_scaled(acc[r], y[i].d * h2f(x->d), sumi);
        }
    }
    UNROLL
    for (int r = 0; r < nr; r++) out[r] = hsum8(acc[r]);
}

/* nx (1..CHORD_WROWS_MAX) rows: one function per row count, each with its rows unrolled (nr is
 * a constant there). Separate functions, not one switch over inlined instances: V8 compiles each
 * alone (the 4 instances in one function ran at half speed per row in Chromium). */
#define NOINLINE __attribute__((noinline))
#define WROWS_ENTRY(name, one, call)                                                                  \
    static NOINLINE void name##_w2(int64_t n, const void *x, uint64_t xs, const void *y, float *out) { call(n, x, xs, 2, y, out); } \
    static NOINLINE void name##_w3(int64_t n, const void *x, uint64_t xs, const void *y, float *out) { call(n, x, xs, 3, y, out); } \
    static NOINLINE void name##_w4(int64_t n, const void *x, uint64_t xs, const void *y, float *out) { call(n, x, xs, 4, y, out); } \
    void chord_dot_wrows_##name##_simd128(int64_t n, const void *x, uint64_t xs, int nx, const void *y, float *out) { \
        switch (nx) {                                                                                 \
        case 1: *out = chord_dot_##one##_simd128(n, x, y); break;                                     \
        case 2: name##_w2(n, x, xs, y, out); break;                                                   \
        case 3: name##_w3(n, x, xs, y, out); break;                                                   \
        default: name##_w4(n, x, xs, y, out); break;                                                  \
        }                                                                                             \
    }
/* K45_WROWS_UNROLL (simd128_relaxed.h / simd128_plain.h): whether the build's default Q4_K/Q5_K
 * entries unroll their steps; the relaxed build also has rolled ones (simd128.c, tuning). */
#define K4_WROWS(n, x, xs, k, y, out) k45_wrows(n, x, xs, k, y, out, 0, K45_WROWS_UNROLL)
#define K5_WROWS(n, x, xs, k, y, out) k45_wrows(n, x, xs, k, y, out, 1, K45_WROWS_UNROLL)
WROWS_ENTRY(q4_K, q4_K, K4_WROWS)
WROWS_ENTRY(q5_K, q5_K, K5_WROWS)
WROWS_ENTRY(q6_K, q6_K, q6k_wrows)
#if K45_WROWS_UNROLL
#define K4_WROWS_R(n, x, xs, k, y, out) k45_wrows(n, x, xs, k, y, out, 0, 0)
#define K5_WROWS_R(n, x, xs, k, y, out) k45_wrows(n, x, xs, k, y, out, 1, 0)
WROWS_ENTRY(q4_K_rolled, q4_K, K4_WROWS_R)
WROWS_ENTRY(q5_K_rolled, q5_K, K5_WROWS_R)
#undef K4_WROWS_R
#undef K5_WROWS_R
#endif
#undef K4_WROWS
#undef K5_WROWS
#undef WROWS_ENTRY

#endif
