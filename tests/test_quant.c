/*
 * test_quant.c — tensor formats: the traits table, row sizes and their errors, fp16/bf16
 * conversion, quantize->dequantize error bounds per type, the scalar dot products against a
 * double-precision dot of the dequantized vectors, and every SIMD kernel against its scalar
 * reference on random and edge data (zeros, all-ones bit patterns, largest levels and scales).
 * The batch kernels (rows, tiles, packed activations, decode wrows) are test_quant_rows.c.
 * Bit-exactness against llama.cpp itself is tests/t_quant_oracle.sh.
 *
 * Tolerances (named below): dot products compare |a - b| against the sum of |x_i * y_i| of the
 * dequantized vectors, because that sum bounds what float rounding can do to a dot product.
 * The integer part of every quantized dot is exact in every kernel. The 32-element types (Q4_0,
 * Q4_1, Q5_0, Q5_1, Q8_0, Q8_1) follow one canonical float order (ref.c), and so do the K-quants
 * (Q2_K..Q6_K against Q8_K, ref_k.c), so their reference must equal that order rebuilt here from
 * the dequantizer (canonical_dot, canonical_dot_k) and every kernel must equal the reference bit
 * for bit. The float kernels keep their own float order: DOT_SIMD_TOL = 2e-6 of that sum (a few
 * float ulps per block).
 * The scalar kernels against a double dot of the dequantized values: DOT_REF_TOL = 1e-5
 * (the float scale products round once per block). Quantizers that claim bit-exactness
 * (Q8_0, Q8_1, Q8_K, F16 SIMD versions) are compared with memcmp.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "quant/quant.h"
#include "quant/blocks.h"
#include "quant/kernels.h"
#include "quant_data.h"

#define DOT_SIMD_TOL 2e-6
#define DOT_REF_TOL 1e-5

/* ---- traits table and row sizes ------------------------------------------------------------ */

static void test_traits(void) {
    for (size_t i = 0; i < N_TYPES; i++) {
        const chord_type_traits *t = chord_type_get(TYPES[i]);
        CHECKF(t != NULL, "type %u", TYPES[i]);
        if (!t) continue;
        CHECK(t->name && t->block_elems && t->block_bytes && t->to_float && t->from_float &&
              t->from_float_ref && t->vec_dot && t->vec_dot_ref);
        CHECK(chord_type_from_name(t->name) == (int)TYPES[i]);
        CHECK(chord_type_get(t->vec_dot_type) != NULL);
    }
    CHECK(chord_type_get(CHORD_TYPE_Q4_0)->block_bytes == sizeof(chord_block_q4_0));
    CHECK(chord_type_get(CHORD_TYPE_Q6_K)->block_bytes == 210);
    CHECK(chord_type_get(CHORD_TYPE_Q4_K)->vec_dot_type == CHORD_TYPE_Q8_K);
    CHECK(chord_type_get(CHORD_TYPE_Q4_1)->vec_dot_type == CHORD_TYPE_Q8_1);
    CHECK(chord_type_from_name("Q4_K") == CHORD_TYPE_Q4_K);
    CHECK(chord_type_from_name("BF16") == CHORD_TYPE_BF16);
    CHECK(chord_type_from_name("q4_k_m") == -1);
    CHECK(chord_type_from_name("") == -1);
    CHECK(chord_type_from_name(NULL) == -1);
    CHECK(chord_type_get(4) == NULL);        /* removed Q4_2 */
    CHECK(chord_type_get(16) == NULL);       /* IQ2_XXS: not supported */
    CHECK(chord_type_get(CHORD_TYPE_COUNT) == NULL);
    CHECK(chord_type_get(0xFFFFFFFFu) == NULL);
    CHECK(!strcmp(chord_type_name(99), "?"));
    CHECK(!strcmp(chord_type_name(CHORD_TYPE_Q5_K), "q5_K"));
}

static void test_row_bytes(void) {
    uint64_t b = 123;
    CHECK(chord_type_row_bytes(CHORD_TYPE_F32, 7, &b) == CHORD_OK && b == 28);
    CHECK(chord_type_row_bytes(CHORD_TYPE_Q4_0, 64, &b) == CHORD_OK && b == 36);
    CHECK(chord_type_row_bytes(CHORD_TYPE_Q4_K, 4096, &b) == CHORD_OK && b == 16 * 144);
    CHECK(chord_type_row_bytes(CHORD_TYPE_Q6_K, 0, &b) == CHORD_OK && b == 0);
    CHECK(chord_type_row_bytes(CHORD_TYPE_Q4_K, 255, &b) == CHORD_E_FORMAT && b == 0);
    CHECK(chord_type_row_bytes(CHORD_TYPE_Q8_0, 33, &b) == CHORD_E_FORMAT);
    CHECK(chord_type_row_bytes(4, 32, &b) == CHORD_E_UNSUPPORTED);
    CHECK(chord_type_row_bytes(1000, 32, &b) == CHORD_E_UNSUPPORTED);
    CHECK(chord_type_row_bytes(CHORD_TYPE_F32, UINT64_MAX / 2, &b) == CHORD_E_RANGE);
    CHECK(chord_type_row_bytes(CHORD_TYPE_Q8_0, (UINT64_MAX / 32) * 32, &b) == CHORD_E_RANGE);
    CHECK(chord_type_row_bytes(CHORD_TYPE_Q6_K, (UINT64_MAX / 256) * 256, &b) == CHORD_OK);
    CHECK(chord_type_row_bytes(CHORD_TYPE_Q8_0, (UINT64_MAX / 34 / 32) * 32, &b) == CHORD_OK);
    CHECK(chord_type_row_bytes(CHORD_TYPE_Q8_0, 64, NULL) == CHORD_OK);
}

/* ---- fp16 / bf16 ------------------------------------------------------------------------------- */

static void test_half(void) {
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = chord_fp16_to_fp32((uint16_t)h);
        uint16_t back = chord_fp32_to_fp16(f);
        if (isnan(f)) bad += back != ((h & 0x8000u) | 0x7e00u);
        else bad += back != h;
        float g = chord_bf16_to_fp32((uint16_t)h);
        if (!isnan(g)) bad += chord_fp32_to_bf16(g) != h;
    }
    CHECKF(bad == 0, "%d halves do not round-trip", bad);
    CHECK(chord_fp32_to_fp16(65504.0f) == 0x7bff);
    CHECK(chord_fp32_to_fp16(65519.99f) == 0x7bff);
    CHECK(chord_fp32_to_fp16(65520.0f) == 0x7c00);          /* ties to even: infinity */
    CHECK(chord_fp32_to_fp16(-1e9f) == 0xfc00);
    CHECK(chord_fp32_to_fp16(1.0f) == 0x3c00);
    CHECK(chord_fp32_to_fp16(1.0f + 0x1p-11f) == 0x3c00);   /* tie, even stays */
    CHECK(chord_fp32_to_fp16(1.0f + 0x1p-11f + 0x1p-20f) == 0x3c01);
    CHECK(chord_fp32_to_fp16(0x1p-24f) == 0x0001);          /* smallest subnormal */
    CHECK(chord_fp32_to_fp16(0x1p-25f) == 0x0000);          /* tie to even: zero */
    CHECK(chord_fp32_to_fp16(0x1.8p-25f) == 0x0001);
    CHECK(chord_fp32_to_fp16(-0.0f) == 0x8000);
    CHECK(chord_fp32_to_fp16(NAN) == 0x7e00);
    CHECK(chord_fp16_to_fp32(0x0001) == 0x1p-24f);
    CHECK(chord_fp16_to_fp32(0xc000) == -2.0f);
    CHECK(chord_fp32_to_bf16(1.0f) == 0x3f80);
    CHECK(chord_fp32_to_bf16(1.00390625f) == 0x3f80);       /* tie to even */
    CHECK(chord_fp32_to_bf16(1.01171875f) == 0x3f82);
    CHECK((chord_fp32_to_bf16(NAN) & 0x7fc0) == 0x7fc0);
}

/* ---- quantize -> dequantize error ------------------------------------------------------------- */

/* Largest allowed RMS error relative to the RMS of N(0,1) data, per type (measured values are
 * about 60-80% of these; bits per weight decide them). */
static double max_rel_rmse(uint32_t t) {
    switch (t) {
    case CHORD_TYPE_F32: return 0;
    case CHORD_TYPE_F16: return 5e-4;
    case CHORD_TYPE_BF16: return 4e-3;
    case CHORD_TYPE_Q8_0: case CHORD_TYPE_Q8_1: case CHORD_TYPE_Q8_K: return 0.01;
    case CHORD_TYPE_Q6_K: return 0.03;
    case CHORD_TYPE_Q5_0: case CHORD_TYPE_Q5_1: case CHORD_TYPE_Q5_K: return 0.06;
    case CHORD_TYPE_Q4_0: case CHORD_TYPE_Q4_1: case CHORD_TYPE_Q4_K: return 0.12;
    case CHORD_TYPE_Q3_K: return 0.25;
    case CHORD_TYPE_Q2_K: return 0.45;
    default: return 0;
    }
}

static void test_roundtrip(void) {
    const int64_t n = 256 * 32;
    float *x = malloc(n * 4), *y = malloc(n * 4);
    void *q = malloc((size_t)n * 4);
    for (size_t i = 0; i < N_TYPES; i++) {
        const chord_type_traits *t = chord_type_get(TYPES[i]);
        for (int64_t k = 0; k < n; k++) x[k] = gauss();
        t->from_float(x, q, n);
        t->to_float(q, y, n);
        double se = 0, ss = 0;
        for (int64_t k = 0; k < n; k++) { se += (double)(x[k] - y[k]) * (x[k] - y[k]); ss += (double)x[k] * x[k]; }
        double rel = sqrt(se / ss);
        CHECKF(rel <= max_rel_rmse(TYPES[i]), "%s: relative rmse %.4g > %.4g", t->name, rel, max_rel_rmse(TYPES[i]));
        /* zeros stay zeros, exactly */
        memset(x, 0, (size_t)n * 4);
        t->from_float(x, q, n);
        t->to_float(q, y, n);
        int nz = 0;
        for (int64_t k = 0; k < n; k++) nz += y[k] != 0.0f;
        CHECKF(nz == 0, "%s: zeros dequantize to %d non-zeros", t->name, nz);
    }
    free(x); free(y); free(q);
}

/* ---- dot products ------------------------------------------------------------------------------ */


/* Sum of |x_i * y_i| and the exact dot, in double, of the dequantized vectors. */
static void ref_dot(const chord_type_traits *tx, const chord_type_traits *ty, const void *qx,
                    const void *qy, int64_t n, double *dot, double *mag) {
    float *a = malloc(n * 4), *b = malloc(n * 4);
    tx->to_float(qx, a, n);
    ty->to_float(qy, b, n);
    double s = 0, m = 0;
    for (int64_t i = 0; i < n; i++) { s += (double)a[i] * b[i]; m += fabs((double)a[i] * b[i]); }
    /* Q8_1 carries s = fp16(d * sum(q)) for the min term of Q4_1/Q5_1, rounded to fp16: the
     * format itself (as in ggml) uses m*s where the dequantized values give m*d*sum(q). */
    if (ty->block_elems == QK8_1 && tx->vec_dot_type == CHORD_TYPE_Q8_1 && tx != ty) {
        for (int64_t i = 0; i < n / QK8_1; i++) {
            const uint16_t *xb = (const uint16_t *)((const uint8_t *)qx + i * tx->block_bytes);
            const chord_block_q8_1 *yb = (const chord_block_q8_1 *)qy + i;
            const double mx = chord_fp16_to_fp32(xb[1]);   /* d, m lead both Q4_1 and Q5_1 */
            int sum = 0;
            for (int k = 0; k < QK8_1; k++) sum += yb->qs[k];
            const double sy = chord_fp16_to_fp32(yb->s), dy = chord_fp16_to_fp32(yb->d);
            s += mx * (sy - dy * sum);
            m += fabs(mx * sy);
        }
    }
    *dot = s; *mag = m;
    free(a); free(b);
}


/* The canonical order of the 32-element dots (ref.c), rebuilt independently of the kernels from the
 * dequantizer: each block's levels are read back by dequantizing it with its scale set to 1 (and
 * its min to 0), which gives the exact integers. Lane k of a block = the integer dot of elements
 * 4k..4k+3; per lane f = (float)lane * (dx * dy), acc[block parity][k] = acc + f (separate IEEE
 * steps); result = AVX2 hsum order of acc[0] + acc[1], plus the min terms m * s summed in block
 * order for the *_1 types. */
static float canonical_dot(uint32_t type, const void *qx, const void *qy, int64_t n) {
    const chord_type_traits *tx = chord_type_get(type), *ty = chord_type_get(tx->vec_dot_type);
    const uint16_t one = 0x3C00;
    float acc[2][8] = { { 0 } }, mins = 0.0f;
    for (int64_t i = 0; i < n / 32; i++) {
        uint8_t bx[64], by[64];
        memcpy(bx, (const uint8_t *)qx + i * tx->block_bytes, tx->block_bytes);
        memcpy(by, (const uint8_t *)qy + i * ty->block_bytes, ty->block_bytes);
        uint16_t dx, dy, mx = 0, sy = 0;
        memcpy(&dx, bx, 2); memcpy(&dy, by, 2);
        const int has_min = tx->vec_dot_type == CHORD_TYPE_Q8_1 && type != CHORD_TYPE_Q8_1;
        if (has_min) { memcpy(&mx, bx + 2, 2); memcpy(&sy, by + 2, 2); memset(bx + 2, 0, 2); }
        memcpy(bx, &one, 2); memcpy(by, &one, 2);
        float lx[32], ly[32];
        tx->to_float(bx, lx, 32);
        ty->to_float(by, ly, 32);
        const float s = chord_fp16_to_fp32(dx) * chord_fp16_to_fp32(dy);
        for (int k = 0; k < 8; k++) {
            int lane = 0;
            for (int e = 4 * k; e < 4 * k + 4; e++) lane += (int)lx[e] * (int)ly[e];
            const float f = (float)lane * s;
            acc[i & 1][k] = acc[i & 1][k] + f;
        }
        if (has_min) {
            const float m = chord_fp16_to_fp32(mx) * chord_fp16_to_fp32(sy);
            mins = mins + m;
        }
    }
    float v[8];
    for (int k = 0; k < 8; k++) v[k] = acc[0][k] + acc[1][k];
    const float a = (v[0] + v[4]) + (v[2] + v[6]), b = (v[1] + v[5]) + (v[3] + v[7]);
    return (a + b) + mins;
}


/* Sets a super-block's fp16 d and (for the types that have one) dmin. */
static void set_k_scales(uint32_t type, uint8_t *b, uint16_t d, uint16_t dmin) {
    switch (type) {
    case CHORD_TYPE_Q2_K: ((chord_block_q2_K *)b)->d = d; ((chord_block_q2_K *)b)->dmin = dmin; break;
    case CHORD_TYPE_Q3_K: ((chord_block_q3_K *)b)->d = d; break;
    case CHORD_TYPE_Q4_K: ((chord_block_q4_K *)b)->d = d; ((chord_block_q4_K *)b)->dmin = dmin; break;
    case CHORD_TYPE_Q5_K: ((chord_block_q5_K *)b)->d = d; ((chord_block_q5_K *)b)->dmin = dmin; break;
    case CHORD_TYPE_Q6_K: ((chord_block_q6_K *)b)->d = d; break;
    default: break;
    }
}

/* The canonical order of the K-quant dots (ref_k.c, acck), rebuilt independently of the kernels
 * from the dequantizer: with d = 1 and dmin = 0 a super-block dequantizes to the exact integers
 * scale(e) * level(e) (Q6_K: scale * (level - 32), and its scales alone from a copy whose levels
 * are all 33); with d = 0 and dmin = 1 to -min of each sub-block. Per block: 8 int lanes, lane L =
 * sum over the 8 groups g of 32 of the products at elements 32g + 4L .. +3 (Q6_K: with unsigned
 * levels, minus 32 * (sc[2L] bsums[2L] + sc[2L+1] bsums[2L+1])); per lane f = (float)lane * d,
 * acc = acc + f, two IEEE steps. Min terms (dmin = (-y.d) * x.dmin): Q2_K's 8 lanes m[2L] bsums[2L]
 * + m[2L+1] bsums[2L+1] go into acc first; Q4_K/Q5_K's 4 lanes m[2q] (bsums[4q] + bsums[4q+1]) +
 * m[2q+1] (bsums[4q+2] + bsums[4q+3]) into their own accumulator. Result: AVX2's hsum order of
 * acc, plus (m0 + m2) + (m1 + m3) of the min accumulator. */
static float canonical_dot_k(uint32_t type, const void *qx, const void *qy, int64_t n) {
    const chord_type_traits *tx = chord_type_get(type);
    const int sub = (type == CHORD_TYPE_Q4_K || type == CHORD_TYPE_Q5_K) ? 32 : 16;  /* sub-block size */
    float acc[8] = { 0 }, accm[4] = { 0 };
    for (int64_t i = 0; i < n / QK_K; i++) {
        const uint8_t *xb = (const uint8_t *)qx + i * tx->block_bytes;
        const chord_block_q8_K *y = (const chord_block_q8_K *)qy + i;
        uint8_t b[256];
        float v[QK_K];
        int sq[QK_K], m[16] = { 0 }, sc6[16] = { 0 };
        uint16_t dh = 0, dminh = 0;
        switch (type) {
        case CHORD_TYPE_Q2_K: dh = ((const chord_block_q2_K *)xb)->d; dminh = ((const chord_block_q2_K *)xb)->dmin; break;
        case CHORD_TYPE_Q3_K: dh = ((const chord_block_q3_K *)xb)->d; break;
        case CHORD_TYPE_Q4_K: dh = ((const chord_block_q4_K *)xb)->d; dminh = ((const chord_block_q4_K *)xb)->dmin; break;
        case CHORD_TYPE_Q5_K: dh = ((const chord_block_q5_K *)xb)->d; dminh = ((const chord_block_q5_K *)xb)->dmin; break;
        default: dh = ((const chord_block_q6_K *)xb)->d; break;
        }
        memcpy(b, xb, tx->block_bytes);
        set_k_scales(type, b, 0x3C00, 0);
        tx->to_float(b, v, QK_K);
        for (int e = 0; e < QK_K; e++) sq[e] = (int)v[e];
        if (type == CHORD_TYPE_Q6_K) {   /* the scales alone: every level 33 (low nibble 1, high pair 2) */
            chord_block_q6_K *c = (chord_block_q6_K *)b;
            memset(c->ql, 0x11, sizeof c->ql);
            memset(c->qh, 0xAA, sizeof c->qh);
            tx->to_float(b, v, QK_K);
            for (int j = 0; j < 16; j++) sc6[j] = (int)v[16 * j];
            for (int e = 0; e < QK_K; e++) sq[e] += 32 * sc6[e / 16];
        }
        const int has_min = type == CHORD_TYPE_Q2_K || sub == 32;
        if (has_min) {
            memcpy(b, xb, tx->block_bytes);
            set_k_scales(type, b, 0, 0x3C00);
            tx->to_float(b, v, QK_K);
            for (int j = 0; j < QK_K / sub; j++) m[j] = -(int)v[sub * j];
        }
        const float d = y->d * chord_fp16_to_fp32(dh), dmin = -y->d * chord_fp16_to_fp32(dminh);
        const int16_t *bs = y->bsums;
        if (type == CHORD_TYPE_Q2_K)
            for (int L = 0; L < 8; L++) {
                const float f = (float)(m[2 * L] * bs[2 * L] + m[2 * L + 1] * bs[2 * L + 1]) * dmin;
                acc[L] = acc[L] + f;
            }
        if (sub == 32)
            for (int q = 0; q < 4; q++) {
                const int lane = m[2 * q] * (bs[4 * q] + bs[4 * q + 1]) + m[2 * q + 1] * (bs[4 * q + 2] + bs[4 * q + 3]);
                const float f = (float)lane * dmin;
                accm[q] = accm[q] + f;
            }
        for (int L = 0; L < 8; L++) {
            int lane = 0;
            for (int g = 0; g < 8; g++)
                for (int e = 32 * g + 4 * L; e < 32 * g + 4 * L + 4; e++) lane += sq[e] * y->qs[e];
            if (type == CHORD_TYPE_Q6_K) lane -= 32 * (sc6[2 * L] * bs[2 * L] + sc6[2 * L + 1] * bs[2 * L + 1]);
            const float f = (float)lane * d;
            acc[L] = acc[L] + f;
        }
    }
    const float a = (acc[0] + acc[4]) + (acc[2] + acc[6]), c = (acc[1] + acc[5]) + (acc[3] + acc[7]);
    const float r = a + c;
    return sub == 32 ? r + ((accm[0] + accm[2]) + (accm[1] + accm[3])) : r;
}

/* One case: ref dot vs the double dot of the dequantized vectors, SIMD vs ref. */
static void check_dot(uint32_t type, const void *qx, const void *qy, int64_t n, const char *what) {
    const chord_type_traits *tx = chord_type_get(type), *ty = chord_type_get(tx->vec_dot_type);
    double exact, mag;
    ref_dot(tx, ty, qx, qy, n, &exact, &mag);
    const float r = tx->vec_dot_ref(n, qx, qy), f = tx->vec_dot(n, qx, qy);
    const double tol_ref = DOT_REF_TOL * mag + 1e-30, tol_simd = DOT_SIMD_TOL * mag + 1e-30;
    CHECKF(fabs(r - exact) <= tol_ref, "%s %s n=%lld: ref %.9g vs exact %.9g (mag %.3g)",
           tx->name, what, (long long)n, r, exact, mag);
    CHECKF(fabs(f - r) <= tol_simd, "%s %s n=%lld: fast %.9g vs ref %.9g (mag %.3g)",
           tx->name, what, (long long)n, f, r, mag);
    if (is_block32(type) || is_kquant(type)) {
        /* the canonical order: the reference is the documented arithmetic, every kernel equals it */
        const float c = is_kquant(type) ? canonical_dot_k(type, qx, qy, n) : canonical_dot(type, qx, qy, n);
        CHECKF(memcmp(&r, &c, 4) == 0, "%s %s n=%lld: ref %.9g is not the canonical order's %.9g",
               tx->name, what, (long long)n, r, c);
        CHECKF(memcmp(&f, &r, 4) == 0, "%s %s n=%lld: fast %.9g not bit-identical to ref %.9g",
               tx->name, what, (long long)n, f, r);
    }
}

static void test_dots(void) {
    const int64_t n = 256 * 8;
    float *x = malloc(n * 4), *y = malloc(n * 4);
    uint8_t *qx = malloc((size_t)n * 4 + 64), *qy = malloc((size_t)n * 4 + 64);
    static const uint8_t patterns[] = { 0x00, 0xFF, 0x80, 0x7F, 0x55, 0xAA, 0x0F, 0xF0 };
    for (size_t i = 0; i < N_TYPES; i++) {
        const uint32_t type = TYPES[i];
        const chord_type_traits *tx = chord_type_get(type), *ty = chord_type_get(tx->vec_dot_type);
        const int64_t nbx = n / tx->block_elems, nby = n / ty->block_elems;
        /* quantized from real-looking data, three scales of magnitude (the canonical-order types
         * get more draws: a kernel that fuses or reorders one step differs from the reference
         * in roughly half of the dots, so a few draws alone could miss it) */
        const int reps = is_block32(type) || is_kquant(type) ? 24 : 3;
        for (int rep = 0; rep < reps; rep++) {
            const float s = rep % 3 == 0 ? 1.0f : rep % 3 == 1 ? 0.02f : 300.0f;
            for (int64_t k = 0; k < n; k++) { x[k] = s * gauss(); y[k] = gauss() + (k % 7 == 0 ? 5.0f : 0.0f); }
            tx->from_float(x, qx, n);
            ty->from_float(y, qy, n);
            check_dot(type, qx, qy, n, "gaussian");
        }
        /* arbitrary block bytes with finite scales */
        for (int rep = 0; rep < 4; rep++) {
            for (int64_t k = 0; k < n * 4; k++) { qx[k] = (uint8_t)rnd(); qy[k] = (uint8_t)rnd(); }
            sanitize(type, qx, nbx, 1.0f);
            sanitize(tx->vec_dot_type, qy, nby, 1.0f);
            check_dot(type, qx, qy, n, "random bytes");
        }
        /* edge: every quant byte the same pattern (all levels at max, min, alternating…) and
         * activations at +-127 or zero, scales at their largest sane values */
        for (size_t p = 0; p < sizeof patterns; p++) {
            for (int ys = 0; ys < 3; ys++) {
                memset(qx, patterns[p], (size_t)n * 4);
                memset(qy, ys == 0 ? 0x7F : ys == 1 ? 0x81 : 0x00, (size_t)n * 4);
                sanitize(type, qx, nbx, 60000.0f);
                sanitize(tx->vec_dot_type, qy, nby, 1.0f);
                if (type == CHORD_TYPE_F32 || type == CHORD_TYPE_F16 || type == CHORD_TYPE_BF16) {
                    tx->from_float(x, qx, n);   /* bit patterns are meaningless for floats */
                    ty->from_float(y, qy, n);
                }
                check_dot(type, qx, qy, n, "edge pattern");
            }
        }
        /* zeros */
        memset(x, 0, (size_t)n * 4);
        tx->from_float(x, qx, n);
        ty->from_float(y, qy, n);
        CHECKF(tx->vec_dot(n, qx, qy) == 0.0f && tx->vec_dot_ref(n, qx, qy) == 0.0f, "%s zeros", tx->name);
        /* short rows, for the types whose kernels have tails */
        if (tx->block_elems == 1)
            for (int64_t m = 1; m <= 70; m++) {
                for (int64_t k = 0; k < m; k++) { x[k] = gauss(); y[k] = gauss(); }
                tx->from_float(x, qx, m);
                ty->from_float(y, qy, m);
                check_dot(type, qx, qy, m, "short");
            }
    }
    free(x); free(y); free(qx); free(qy);
}

/* ---- SIMD quantizers and conversions: bit-identical to the scalar ones ------------------------ */

static void test_quantizers_exact(void) {
    static const uint32_t act[] = { CHORD_TYPE_Q8_0, CHORD_TYPE_Q8_1, CHORD_TYPE_Q8_K, CHORD_TYPE_F16 };
    const int64_t n = 256 * 16;
    float *x = malloc(n * 4);
    uint8_t *a = malloc((size_t)n * 4), *b = malloc((size_t)n * 4);
    for (size_t i = 0; i < sizeof act / sizeof act[0]; i++) {
        const chord_type_traits *t = chord_type_get(act[i]);
        for (int d = 0; d < 7; d++) {
            for (int64_t k = 0; k < n; k++) {
                const float g = gauss();
                switch (d) {
                case 0: x[k] = g; break;
                case 1: x[k] = 0; break;
                case 2: x[k] = (float)(int)(g * 20) * 0.5f; break;        /* many exact .5 ties */
                case 3: x[k] = g * 1e30f; break;                           /* huge */
                case 4: x[k] = g * 1e-40f; break;                          /* denormal */
                case 5: x[k] = (k % 256 == 3) ? -7.0f : (k % 256 == 9 ? 7.0f : g); break; /* tie for max */
                default: x[k] = (k & 1) ? 65519.0f : -65521.0f; break;     /* fp16 overflow edge */
                }
            }
            memset(a, 0x5A, (size_t)n * 4);
            memset(b, 0xA5, (size_t)n * 4);
            t->from_float(x, a, n);
            t->from_float_ref(x, b, n);
            const uint64_t bytes = (uint64_t)(n / t->block_elems) * t->block_bytes;
            CHECKF(memcmp(a, b, bytes) == 0, "%s quantizer differs from reference on input set %d", t->name, d);
        }
    }
    /* fp16 -> fp32 on every half */
    uint16_t *h = malloc(65536 * 2);
    float *f1 = malloc(65536 * 4), *f2 = malloc(65536 * 4);
    for (uint32_t k = 0; k < 65536; k++) h[k] = (uint16_t)k;
    chord_type_get(CHORD_TYPE_F16)->to_float(h, f1, 65536);
    chord_dequant_f16(h, f2, 65536);
    CHECK(memcmp(f1, f2, 65536 * 4) == 0);
    free(h); free(f1); free(f2);
    free(x); free(a); free(b);
}

/* chord_f16_mad (attention's F16 accumulator step) against its definition in scalar conversions:
 * random heads with rescale on and off, lengths around the 8-lane kernel's, values that round to
 * subnormal, overflow to infinity, and NaN (which fp16 stores as 0x7E00), then 2^20 plain ones. */
static uint16_t f16_mad_one(uint16_t acc, uint16_t v, float ms, float vs, int rescale) {
    float a = chord_fp16_to_fp32(acc);
    if (rescale) a = chord_fp16_to_fp32(chord_fp32_to_fp16(a * ms));
    const float p = chord_fp16_to_fp32(v) * vs;
    return chord_fp32_to_fp16(a + p);
}

static void test_f16_mad(void) {
    static const int64_t lens[] = { 1, 7, 8, 9, 64, 100, 128 };
    static const float scales[][2] = { { 0.5f, 1.0f }, { 1.0f, 0.3f }, { 0.0f, 1.0f }, { 1e-6f, 7.0f },
                                       { 3e4f, 2.0f }, { NAN, 1.0f }, { 1.0f, INFINITY } };
    uint16_t acc[128], v[128], want[128];
    int bad = 0, cases = 0;
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++)
        for (size_t si = 0; si < sizeof scales / sizeof scales[0]; si++)
            for (int rescale = 0; rescale < 2; rescale++) {
                const int64_t n = lens[li];
                for (int64_t i = 0; i < n; i++) {
                    acc[i] = chord_fp32_to_fp16(gauss() * (i % 5 == 0 ? 3e4f : 2.0f));
                    v[i] = chord_fp32_to_fp16(gauss() * (i % 7 == 0 ? 1e-5f : 1.0f));
                }
                if (n > 3) v[3] = 0x7C01; /* a signalling NaN: quieted on the way in */
                for (int64_t i = 0; i < n; i++)
                    want[i] = f16_mad_one(acc[i], v[i], scales[si][0], scales[si][1], rescale);
                chord_f16_mad(acc, v, n, scales[si][0], scales[si][1], rescale);
                bad += memcmp(acc, want, (size_t)n * 2) != 0;
                cases++;
            }
    /* bulk: a fused multiply-add instead of the multiply and add changes about one result in
     * 10^4 after the fp16 rounding, so 2^20 random elements catch it */
    enum { BN = 1024 };
    uint16_t *ba = malloc(BN * 2), *bv = malloc(BN * 2), *bw = malloc(BN * 2);
    for (int c = 0; c < 1024; c++) {
        const float ms = unif(), vs = unif() * 2.0f;
        const int rescale = c & 1;
        for (int i = 0; i < BN; i++) {
            ba[i] = chord_fp32_to_fp16(gauss());
            bv[i] = chord_fp32_to_fp16(gauss());
            bw[i] = f16_mad_one(ba[i], bv[i], ms, vs, rescale);
        }
        chord_f16_mad(ba, bv, BN, ms, vs, rescale);
        bad += memcmp(ba, bw, BN * 2) != 0;
        cases++;
    }
    free(ba); free(bv); free(bw);
    CHECKF(bad == 0, "chord_f16_mad differs from its scalar definition in %d of %d cases", bad, cases);
}

int main(void) {
    (void)check_shared_path;
    chord_quant_init();
    printf("test_quant: kernels %s\n", chord_quant_isa());
    if (!strcmp(chord_quant_isa(), "scalar"))
        printf("SKIP: no AVX2/FMA/F16C on this CPU: SIMD kernels are not exercised\n");
    test_traits();
    test_row_bytes();
    test_half();
    test_roundtrip();
    test_dots();
    test_quantizers_exact();
    test_f16_mad();
    return check_report("test_quant");
}
