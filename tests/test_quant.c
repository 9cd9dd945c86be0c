/*
 * test_quant.c — tensor formats: the traits table, row sizes and their errors, fp16/bf16
 * conversion, quantize->dequantize error bounds per type, the scalar dot products against a
 * double-precision dot of the dequantized vectors, and every SIMD kernel against its scalar
 * reference on random and edge data (zeros, all-ones bit patterns, largest levels and scales).
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

#define DOT_SIMD_TOL 2e-6
#define DOT_REF_TOL 1e-5

static const uint32_t TYPES[] = {
    CHORD_TYPE_F32, CHORD_TYPE_F16, CHORD_TYPE_BF16, CHORD_TYPE_Q4_0, CHORD_TYPE_Q4_1,
    CHORD_TYPE_Q5_0, CHORD_TYPE_Q5_1, CHORD_TYPE_Q8_0, CHORD_TYPE_Q8_1, CHORD_TYPE_Q2_K,
    CHORD_TYPE_Q3_K, CHORD_TYPE_Q4_K, CHORD_TYPE_Q5_K, CHORD_TYPE_Q6_K, CHORD_TYPE_Q8_K,
};
#define N_TYPES (sizeof TYPES / sizeof TYPES[0])

static uint64_t rng = 0x1234567;
static uint64_t rnd(void) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return rng;
}
static float unif(void) { return (float)(rnd() >> 40) / 16777216.0f; }
static float gauss(void) {
    float u = unif() + 1e-7f, v = unif();
    return sqrtf(-2.0f * logf(u)) * cosf(6.2831853f * v);
}

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

/* Gives every fp16 scale field of the blocks a finite value in [-scale, scale] (used on random
 * bytes, where they would otherwise be arbitrary, NaN included), and makes Q8 sums consistent. */
static void sanitize(uint32_t type, void *p, int64_t nb, float scale) {
    for (int64_t i = 0; i < nb; i++) {
        uint16_t h1 = chord_fp32_to_fp16(scale * (2 * unif() - 1)), h2 = chord_fp32_to_fp16(scale * (2 * unif() - 1));
        switch (type) {
        case CHORD_TYPE_Q4_0: ((chord_block_q4_0 *)p)[i].d = h1; break;
        case CHORD_TYPE_Q4_1: ((chord_block_q4_1 *)p)[i].d = h1; ((chord_block_q4_1 *)p)[i].m = h2; break;
        case CHORD_TYPE_Q5_0: ((chord_block_q5_0 *)p)[i].d = h1; break;
        case CHORD_TYPE_Q5_1: ((chord_block_q5_1 *)p)[i].d = h1; ((chord_block_q5_1 *)p)[i].m = h2; break;
        case CHORD_TYPE_Q8_0: {
            chord_block_q8_0 *b = &((chord_block_q8_0 *)p)[i];
            b->d = h1;
            for (int k = 0; k < 32; k++) if (b->qs[k] == -128) b->qs[k] = -127;  /* see avx2.c */
            break;
        }
        case CHORD_TYPE_Q8_1: {
            chord_block_q8_1 *b = &((chord_block_q8_1 *)p)[i];
            int s = 0;
            for (int k = 0; k < 32; k++) { if (b->qs[k] == -128) b->qs[k] = -127; s += b->qs[k]; }
            b->d = h1;
            b->s = chord_fp32_to_fp16((float)s * chord_fp16_to_fp32(h1));
            break;
        }
        case CHORD_TYPE_Q2_K: ((chord_block_q2_K *)p)[i].d = h1; ((chord_block_q2_K *)p)[i].dmin = h2; break;
        case CHORD_TYPE_Q3_K: ((chord_block_q3_K *)p)[i].d = h1; break;
        case CHORD_TYPE_Q4_K: ((chord_block_q4_K *)p)[i].d = h1; ((chord_block_q4_K *)p)[i].dmin = h2; break;
        case CHORD_TYPE_Q5_K: ((chord_block_q5_K *)p)[i].d = h1; ((chord_block_q5_K *)p)[i].dmin = h2; break;
        case CHORD_TYPE_Q6_K: ((chord_block_q6_K *)p)[i].d = h1; break;
        case CHORD_TYPE_Q8_K: {
            chord_block_q8_K *b = &((chord_block_q8_K *)p)[i];
            b->d = scale * unif();
            for (int j = 0; j < 16; j++) {
                int s = 0;
                for (int k = 0; k < 16; k++) { if (b->qs[16 * j + k] == -128) b->qs[16 * j + k] = -127; s += b->qs[16 * j + k]; }
                b->bsums[j] = (int16_t)s;
            }
            break;
        }
        case CHORD_TYPE_F16: case CHORD_TYPE_BF16: {   /* keep magnitudes where products fit */
            uint16_t *h = p;
            const int f16 = type == CHORD_TYPE_F16;
            const float v = f16 ? chord_fp16_to_fp32(h[i]) : chord_bf16_to_fp32(h[i]);
            const float r = 2 * unif() - 1;
            if (!(fabsf(v) <= 1e4f)) h[i] = f16 ? chord_fp32_to_fp16(r) : chord_fp32_to_bf16(r);
            break;
        }
        case CHORD_TYPE_F32: {
            float *f = p;
            if (isnan(f[i]) || isinf(f[i]) || fabsf(f[i]) > 1e6f || fabsf(f[i]) < 1e-6f) f[i] = 2 * unif() - 1;
            break;
        }
        default: break;
        }
    }
}

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

/* The 32-element block types, whose dots follow one canonical order on every target. */
static int is_block32(uint32_t t) {
    return t == CHORD_TYPE_Q4_0 || t == CHORD_TYPE_Q4_1 || t == CHORD_TYPE_Q5_0 || t == CHORD_TYPE_Q5_1 ||
           t == CHORD_TYPE_Q8_0 || t == CHORD_TYPE_Q8_1;
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

/* The K-quant weight types (Q8_K, the activation type, has no SIMD dot and no order to keep). */
static int is_kquant(uint32_t t) {
    return t == CHORD_TYPE_Q2_K || t == CHORD_TYPE_Q3_K || t == CHORD_TYPE_Q4_K || t == CHORD_TYPE_Q5_K ||
           t == CHORD_TYPE_Q6_K;
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

/* Row contents for the batch-kernel tests: kind 0 random, 1 every element at full scale with
 * alternating sign (int8 levels at +-127/-128, nibbles at 0/15), 2 one block in four all zeros
 * and the rest random, 3 constant (the largest same-sign integer sums). */
static void fill_row(float *x, int64_t n, int kind, float scale) {
    for (int64_t k = 0; k < n; k++) {
        switch (kind) {
        case 1: x[k] = (k & 1 ? -1.0f : 1.0f) * scale; break;
        case 2: x[k] = (k / 32) % 4 == 1 ? 0.0f : gauss() * scale; break;
        case 3: x[k] = scale; break;
        default: x[k] = gauss() * scale; break;
        }
    }
}

/* One weight row of each row kind against max_rows activation rows of all kinds, for ny = 1 ..
 * max_rows: rows(...) must give exactly vec_dot per row (the forward pass relies on it for
 * batch-size invariance). 17 rows cover two full groups of 8 (the AVX-512 kernels) and every tail. */
static void check_rows_kernel(uint32_t type, chord_vec_dot_rows_fn fn, const char *what) {
    enum { MAX_ROWS = 17 };
    const int64_t n = 256 * 6;
    const chord_type_traits *tx = chord_type_get(type), *ty = chord_type_get(tx->vec_dot_type);
    uint64_t rb, yb;
    chord_type_row_bytes(type, (uint64_t)n, &rb);
    chord_type_row_bytes(tx->vec_dot_type, (uint64_t)n, &yb);
    float *x = malloc(n * 4), out[MAX_ROWS];
    uint8_t *w = malloc(rb), *y = malloc(yb * MAX_ROWS);
    for (int wk = 0; wk < 4; wk++) {
        fill_row(x, n, wk, 1.0f);
        tx->from_float(x, w, n);
        for (int r = 0; r < MAX_ROWS; r++) {
            fill_row(x, n, (r + wk) % 4, (float)(r + 1));
            ty->from_float(x, y + r * yb, n);
        }
        for (int ny = 1; ny <= MAX_ROWS; ny++) {
            if (fn) fn(n, w, y, yb, ny, out);
            else chord_vec_dot_rows(tx, n, w, y, yb, ny, out);
            int bad = 0;
            for (int r = 0; r < ny; r++) {
                const float one = tx->vec_dot(n, w, y + r * yb);
                bad += memcmp(&one, &out[r], 4) != 0;
            }
            CHECKF(bad == 0, "%s %s: %d rows (weight kind %d) differ from vec_dot in %d", tx->name, what, ny, wk, bad);
        }
    }
    free(w); free(y); free(x);
}

/* A packed-activation batch kernel (Q8_0, chord_pack_q8_0) against vec_dot on the same rows in
 * the plain layout: the row kinds above, then raw random weight bytes (levels -128..127, any
 * finite scale) against random levels in -127..127 (what the activation quantizer makes), for
 * every ny up to 17 and lengths with and without a tail of blocks beyond the kernel's chunks of 8.
 * Also checks that the packed quantizer is the plain one followed by chord_pack_q8_0. */
static void check_rows_packed(chord_vec_dot_rows_fn fn, const char *what) {
    enum { MAX_ROWS = 17 };
    static const int64_t lens[] = { 256 * 6, 32, 32 * 7, 32 * 9, 32 * 23 };
    const chord_type_traits *tx = chord_type_get(CHORD_TYPE_Q8_0);
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        const int64_t n = lens[li], nb = n / 32;
        const uint64_t rb = (uint64_t)nb * sizeof(chord_block_q8_0);
        float *x = malloc(n * 4), out[MAX_ROWS];
        chord_block_q8_0 *w = malloc(rb), *y = malloc(rb * MAX_ROWS);
        uint8_t *yp = malloc(rb * MAX_ROWS), *yq = malloc(rb);
        for (int wk = 0; wk < 5; wk++) {
            if (wk < 4) {
                fill_row(x, n, wk, 1.0f);
                tx->from_float(x, w, n);
            } else {
                for (int64_t i = 0; i < nb; i++) {
                    w[i].d = chord_fp32_to_fp16((gauss() + 0.01f) * 1e-3f);
                    for (int j = 0; j < 32; j++) w[i].qs[j] = (int8_t)rnd();
                }
            }
            for (int r = 0; r < MAX_ROWS; r++) {
                chord_block_q8_0 *yr = y + (uint64_t)r * nb;
                fill_row(x, n, (r + wk) % 4, (float)(r + 1));
                chord_quant_q8_0_act(x, yr, n);
                if (wk == 4)
                    for (int64_t i = 0; i < nb; i++)
                        for (int j = 0; j < 32; j++) yr[i].qs[j] = (int8_t)(rnd() % 255 - 127);
                chord_pack_q8_0(yr, yp + (uint64_t)r * rb, n);
                if (wk < 4) {
                    chord_quant_q8_0_act_packed(x, yq, n);
                    CHECKF(memcmp(yq, yp + (uint64_t)r * rb, rb) == 0, "q8_0 packed quantizer differs from pack(quant) (n %lld)", (long long)n);
                }
            }
            for (int ny = 1; ny <= MAX_ROWS; ny++) {
                fn(n, w, yp, rb, ny, out);
                int bad = 0;
                for (int r = 0; r < ny; r++) {
                    const float one = tx->vec_dot(n, w, y + (uint64_t)r * nb);
                    bad += memcmp(&one, &out[r], 4) != 0;
                }
                CHECKF(bad == 0, "q8_0 %s: %d rows of %lld (weight kind %d) differ from vec_dot in %d", what, ny, (long long)n, wk, bad);
            }
        }
        free(x); free(w); free(y); free(yp); free(yq);
    }
}

/* A tile kernel's out[t * os + k] (pre-filled with -7) against want[t * max_x + k]: bad counts
 * the nx x ny results that differ bitwise, stray the entries outside them that were written. */
static void tile_compare(const float *out, int os, const float *want, int max_x, int max_y, int nx, int ny,
                         int *bad, int *stray) {
    for (int t = 0; t < max_y; t++)
        for (int k = 0; k < os; k++) {
            const float o = out[t * os + k];
            if (t < ny && k < nx) *bad += memcmp(&o, &want[t * max_x + k], 4) != 0;
            else *stray += o != -7.0f;
        }
}

/* A prompt tile kernel (quant.h chord_vec_dot_tile_fn) over packed Q8_0 activations against
 * vec_dot on the plain rows, with memcmp: 1..19 weight rows x 1..19 tokens (every register-block
 * tail of 2 x 4 and the 8-row scale passes), lengths with and without a tail of blocks beyond the
 * chunks of 8, rows longer than the kernel's scale scratch (its one-row fallback), weight rows of
 * every kind plus raw random bytes, and an output stride wider than nx (ops.c passes n_out). */
static void check_tile_packed(chord_vec_dot_tile_fn fn, const char *what) {
    enum { MAX_X = 19, MAX_Y = 19, OS = 23 };
    static const int64_t lens[] = { 256 * 6, 32, 32 * 7, 32 * 9, 32 * 23, 32 * 600 };
    const chord_type_traits *tx = chord_type_get(CHORD_TYPE_Q8_0);
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        const int64_t n = lens[li], nb = n / 32;
        const uint64_t rb = (uint64_t)nb * sizeof(chord_block_q8_0);
        float *x = malloc(n * 4), *out = malloc(sizeof(float) * MAX_Y * OS), *want = malloc(sizeof(float) * MAX_Y * MAX_X);
        chord_block_q8_0 *w = malloc(rb * MAX_X), *y = malloc(rb * MAX_Y);
        uint8_t *yp = malloc(rb * MAX_Y);
        for (int k = 0; k < MAX_X; k++) {
            chord_block_q8_0 *wk = w + (uint64_t)k * nb;
            if (k % 5 < 4) {
                fill_row(x, n, k % 5, 1.0f + (float)k);
                tx->from_float(x, wk, n);
            } else {
                for (int64_t i = 0; i < nb; i++) {
                    wk[i].d = chord_fp32_to_fp16((gauss() + 0.01f) * 1e-3f);
                    for (int j = 0; j < 32; j++) wk[i].qs[j] = (int8_t)rnd();
                }
            }
        }
        for (int t = 0; t < MAX_Y; t++) {
            chord_block_q8_0 *yr = y + (uint64_t)t * nb;
            fill_row(x, n, t % 4, (float)(t + 1));
            chord_quant_q8_0_act(x, yr, n);
            if (t % 3 == 2)
                for (int64_t i = 0; i < nb; i++)
                    for (int j = 0; j < 32; j++) yr[i].qs[j] = (int8_t)(rnd() % 255 - 127);
            chord_pack_q8_0(yr, yp + (uint64_t)t * rb, n);
        }
        for (int t = 0; t < MAX_Y; t++)
            for (int k = 0; k < MAX_X; k++)
                want[t * MAX_X + k] = tx->vec_dot(n, w + (uint64_t)k * nb, y + (uint64_t)t * nb);
        for (int nx = 1; nx <= MAX_X; nx += (n > 32 * 64 && nx > 3) ? 7 : 1)
            for (int ny = 1; ny <= MAX_Y; ny += (n > 32 * 64 && ny > 3) ? 5 : 1) {
                for (int i = 0; i < MAX_Y * OS; i++) out[i] = -7.0f;
                fn(n, w, rb, nx, yp, rb, ny, out, OS);
                int bad = 0, stray = 0;
                tile_compare(out, OS, want, MAX_X, MAX_Y, nx, ny, &bad, &stray);
                CHECKF(bad == 0 && stray == 0, "q8_0 %s: %d x %d of %lld: %d differ from vec_dot, %d written outside",
                       what, nx, ny, (long long)n, bad, stray);
            }
        free(x); free(out); free(want); free(w); free(y); free(yp);
    }
}

/* A plain-activation tile kernel (vec_dot_tile; AVX2 Q4_K: x86_prompt_k.h) against vec_dot for
 * every nx, ny up to 19 (every group size 1..8 of the 8-row groups and their tails) and a row
 * stride past the output (stray writes): weight rows of the fill_row kinds and raw random bytes
 * (every bit of the packed scales, mins and levels; finite d, dmin), activations quantized from
 * the row kinds and raw random levels -127..127 with their bsums; lengths from one block to past
 * the kernel's scratch (PK_NBMAX, 64 blocks: its fallback). */
static void check_tile_plain(uint32_t type, chord_vec_dot_tile_fn fn, const char *what) {
    enum { MAX_X = 19, MAX_Y = 19, OS = 23 };
    static const int64_t lens[] = { 256 * 6, 256, 256 * 3, 256 * 70 };
    const chord_type_traits *tx = chord_type_get(type), *ty = chord_type_get(tx->vec_dot_type);
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        const int64_t n = lens[li];
        uint64_t rb, yb;
        chord_type_row_bytes(type, (uint64_t)n, &rb);
        chord_type_row_bytes(tx->vec_dot_type, (uint64_t)n, &yb);
        float *x = malloc(n * 4), *out = malloc(sizeof(float) * MAX_Y * OS), *want = malloc(sizeof(float) * MAX_Y * MAX_X);
        uint8_t *w = malloc(rb * MAX_X), *y = malloc(yb * MAX_Y);
        for (int k = 0; k < MAX_X; k++) {
            uint8_t *wk = w + (uint64_t)k * rb;
            if (k % 5 < 4) {
                fill_row(x, n, k % 5, 1.0f + (float)k);
                tx->from_float(x, wk, n);
            } else {
                for (uint64_t b = 0; b < rb; b++) wk[b] = (uint8_t)rnd();
                if (type == CHORD_TYPE_Q4_K)
                    for (int64_t i = 0; i < n / 256; i++) {
                        chord_block_q4_K *bk = (chord_block_q4_K *)wk + i;
                        bk->d = chord_fp32_to_fp16((gauss() + 0.01f) * 1e-2f);
                        bk->dmin = chord_fp32_to_fp16((gauss() + 0.01f) * 1e-2f);
                    }
            }
        }
        for (int t = 0; t < MAX_Y; t++) {
            fill_row(x, n, t % 4, (float)(t + 1));
            ty->from_float(x, y + (uint64_t)t * yb, n);
            if (t % 3 == 2)
                for (int64_t i = 0; i < n / 256; i++) {
                    chord_block_q8_K *yk = (chord_block_q8_K *)(y + (uint64_t)t * yb) + i;
                    for (int j = 0; j < 256; j++) yk->qs[j] = (int8_t)(rnd() % 255 - 127);
                    for (int j = 0; j < 16; j++) {
                        int sum = 0;
                        for (int e = 0; e < 16; e++) sum += yk->qs[16 * j + e];
                        yk->bsums[j] = (int16_t)sum;
                    }
                }
        }
        for (int t = 0; t < MAX_Y; t++)
            for (int k = 0; k < MAX_X; k++)
                want[t * MAX_X + k] = tx->vec_dot(n, w + (uint64_t)k * rb, y + (uint64_t)t * yb);
        for (int nx = 1; nx <= MAX_X; nx += (n > 256 * 8 && nx > 3) ? 7 : 1)
            for (int ny = 1; ny <= MAX_Y; ny += (n > 256 * 8 && ny > 9) ? 5 : 1) {
                for (int i = 0; i < MAX_Y * OS; i++) out[i] = -7.0f;
                fn(n, w, rb, nx, y, yb, ny, out, OS);
                int bad = 0, stray = 0;
                tile_compare(out, OS, want, MAX_X, MAX_Y, nx, ny, &bad, &stray);
                CHECKF(bad == 0 && stray == 0, "%s %s: %d x %d of %lld: %d differ from vec_dot, %d written outside",
                       tx->name, what, nx, ny, (long long)n, bad, stray);
            }
        free(x); free(out); free(want); free(w); free(y);
    }
}

/* Through the table: whatever batch kernel this CPU selected. */
static void test_dot_rows(void) {
    for (size_t i = 0; i < N_TYPES; i++) check_rows_kernel(TYPES[i], NULL, "vec_dot_rows");
    for (size_t i = 0; i < N_TYPES; i++)
        if (TYPES[i] != CHORD_TYPE_Q8_0 && chord_type_get(TYPES[i])->vec_dot_tile)
            check_tile_plain(TYPES[i], chord_type_get(TYPES[i])->vec_dot_tile, "vec_dot_tile");
    const chord_type_traits *q8 = chord_type_get(CHORD_TYPE_Q8_0);
    CHECK(!q8->vec_dot_rows_packed == !q8->from_float_act_packed);
    if (q8->vec_dot_rows_packed) check_rows_packed(q8->vec_dot_rows_packed, "vec_dot_rows_packed");
    CHECK(!q8->vec_dot_tile_packed || q8->vec_dot_rows_packed);
    if (q8->vec_dot_tile_packed) check_tile_packed(q8->vec_dot_tile_packed, "vec_dot_tile_packed");
}

/* The decode shape through the table: chord_vec_dot_wrows over nx weight rows (stride past the
 * row size) against one activation row must give exactly vec_dot per row, and the scalar
 * reference's bits, for every nx up to 9 (passes of CHORD_WROWS_MAX, a 3-row pass, a single last
 * row), whether or not this CPU's table has a vec_dot_wrows kernel for the type (AVX2: Q4_K, Q6_K,
 * Q8_0, x86_wrows.h; elsewhere this checks the dispatch itself). Weight rows: the four fill_row
 * kinds, raw random bytes (every bit of the packed scales and levels) and a repeated byte pattern,
 * all with finite scales; activations quantized from Gaussian data and raw random bytes; lengths
 * with an even and (32-element types) an odd block count. */
static void test_dot_wrows(void) {
    enum { MAX_ROWS = 9 };
    static const int64_t lens[] = { 256 * 3, 32 * 25 };
    static const uint8_t patterns[] = { 0xFF, 0x80, 0x55, 0x0F };
    for (size_t i = 0; i < N_TYPES; i++)
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            const int64_t n = lens[li];
            const chord_type_traits *tx = chord_type_get(TYPES[i]), *ty = chord_type_get(tx->vec_dot_type);
            if (n % tx->block_elems || n % ty->block_elems) continue;
            uint64_t rb, yb;
            chord_type_row_bytes(TYPES[i], (uint64_t)n, &rb);
            chord_type_row_bytes(tx->vec_dot_type, (uint64_t)n, &yb);
            const uint64_t xs = rb + 40;
            float *x = malloc(n * 4), out[MAX_ROWS];
            uint8_t *w = malloc(xs * MAX_ROWS), *y = malloc(yb);
            for (int r = 0; r < MAX_ROWS; r++) {
                uint8_t *row = w + (uint64_t)r * xs;
                const int kind = r % 6;
                const int is_float = tx->block_elems == 1;
                if (kind < 4 || is_float) {
                    fill_row(x, n, kind % 4, (float)(r + 1));
                    tx->from_float(x, row, n);
                } else {
                    for (uint64_t k = 0; k < rb; k++) row[k] = kind == 4 ? (uint8_t)rnd() : patterns[r % 4];
                    sanitize(TYPES[i], row, n / tx->block_elems, 1.0f);
                }
            }
            for (int yk = 0; yk < 2; yk++) {
                if (yk == 0 || ty->block_elems == 1) {
                    fill_row(x, n, 0, 1.0f);
                    ty->from_float(x, y, n);
                } else {
                    for (uint64_t k = 0; k < yb; k++) y[k] = (uint8_t)rnd();
                    sanitize(tx->vec_dot_type, y, n / ty->block_elems, 1.0f);
                }
                for (int nx = 0; nx <= MAX_ROWS; nx++) {
                    for (int r = 0; r < MAX_ROWS; r++) out[r] = -1.0f;
                    chord_vec_dot_wrows(tx, n, w, xs, nx, y, out);
                    int bad = 0;
                    for (int r = 0; r < nx; r++) {
                        const float one = tx->vec_dot(n, w + (uint64_t)r * xs, y);
                        const float ref = tx->vec_dot_ref(n, w + (uint64_t)r * xs, y);
                        bad += memcmp(&one, &out[r], 4) != 0;
                        if (is_block32(TYPES[i]) || is_kquant(TYPES[i])) bad += memcmp(&ref, &out[r], 4) != 0;
                    }
                    for (int r = nx; r < MAX_ROWS; r++) bad += out[r] != -1.0f; /* nothing past nx written */
                    CHECKF(bad == 0, "%s vec_dot_wrows n=%lld (activations %d): %d rows differ from vec_dot / ref in %d",
                           tx->name, (long long)n, yk, nx, bad);
                }
            }
            free(x); free(w); free(y);
        }
}

/* The table holds one batch kernel per type; the others built for x86 must stay bit-identical
 * too (other CPUs run them): AVX2 always, the AVX-VNNI and AVX512-VNNI twins where this CPU has
 * the instructions (a kernel the CPU cannot run is reported as not exercised). */
static void test_dot_rows_x86_direct(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (strcmp(chord_quant_isa(), "avx2") != 0) return;
    __builtin_cpu_init();
    const int vnni = __builtin_cpu_supports("avxvnni");
    const int avx512vnni = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                           __builtin_cpu_supports("avx512bw") &&
                           __builtin_cpu_supports("avx512vnni");
    static const struct {
        uint32_t type;
        chord_vec_dot_rows_fn avx2, vnni, avx512vnni;
        chord_vec_dot_fn one_avx2, one_vnni, one_avx512vnni;
    } k[] = {
        { CHORD_TYPE_Q4_K, chord_dot_rows_q4_K_avx2, chord_dot_rows_q4_K_vnni, chord_dot_rows_q4_K_avx512vnni,
          chord_dot_q4_K_avx2, chord_dot_q4_K_vnni, chord_dot_q4_K_avx512vnni },
        { CHORD_TYPE_Q6_K, chord_dot_rows_q6_K_avx2, chord_dot_rows_q6_K_vnni, chord_dot_rows_q6_K_avx512vnni,
          chord_dot_q6_K_avx2, chord_dot_q6_K_vnni, chord_dot_q6_K_avx512vnni },
        { CHORD_TYPE_Q8_0, chord_dot_rows_q8_0_avx2, chord_dot_rows_q8_0_vnni, chord_dot_rows_q8_0_avx512vnni,
          chord_dot_q8_0_avx2, chord_dot_q8_0_vnni, chord_dot_q8_0_avx512vnni },
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        /* the single-row (decode) VNNI forms against AVX2's, on every row kind */
        const chord_type_traits *tx = chord_type_get(k[i].type), *ty = chord_type_get(tx->vec_dot_type);
        const int64_t n = 256 * 5;
        uint64_t rb, yb;
        chord_type_row_bytes(k[i].type, (uint64_t)n, &rb);
        chord_type_row_bytes(tx->vec_dot_type, (uint64_t)n, &yb);
        float *x = malloc(n * 4);
        uint8_t *w = malloc(rb), *y = malloc(yb);
        for (int wk = 0; wk < 16; wk++) {
            fill_row(x, n, wk % 4, 1.0f + (float)wk);
            tx->from_float(x, w, n);
            fill_row(x, n, (wk / 4) % 4, 0.5f + (float)wk);
            ty->from_float(x, y, n);
            const float a = k[i].one_avx2(n, w, y);
            const float b = vnni ? k[i].one_vnni(n, w, y) : a, c = avx512vnni ? k[i].one_avx512vnni(n, w, y) : a;
            CHECKF(memcmp(&a, &b, 4) == 0 && memcmp(&a, &c, 4) == 0,
                   "%s single-row VNNI kernels differ from AVX2 (kinds %d): %.9g %.9g %.9g", tx->name, wk, a, b, c);
        }
        free(x); free(w); free(y);
        check_rows_kernel(k[i].type, k[i].avx2, "avx2 rows kernel");
        if (vnni) check_rows_kernel(k[i].type, k[i].vnni, "avx-vnni rows kernel");
        if (avx512vnni) check_rows_kernel(k[i].type, k[i].avx512vnni, "avx512-vnni rows kernel");
    }
    check_rows_packed(chord_dot_rows_q8_0_packed_avx2, "avx2 packed rows kernel");
    check_tile_packed(chord_dot_tile_q8_0_packed_avx2, "avx2 packed tile kernel");
    check_tile_plain(CHORD_TYPE_Q4_K, chord_dot_tile_q4_K_avx2, "avx2 tile kernel");
    if (vnni) check_rows_packed(chord_dot_rows_q8_0_packed_vnni, "avx-vnni packed rows kernel");
    if (avx512vnni) check_rows_packed(chord_dot_rows_q8_0_packed_avx512vnni, "avx512-vnni packed rows kernel");
    if (avx512vnni) check_tile_packed(chord_dot_tile_q8_0_packed_avx512vnni, "avx512-vnni packed tile kernel");
    printf("test_quant: batch kernels exercised directly: avx2%s%s\n", vnni ? ", avx-vnni" : "",
           avx512vnni ? ", avx512-vnni" : "");
    if (!vnni) printf("test_quant: this CPU has no AVX-VNNI: the _vnni batch kernels were not run\n");
    if (!avx512vnni) printf("test_quant: this CPU has no AVX512-VNNI: the _avx512vnni batch kernels were not run\n");
#endif
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
    test_dot_rows();
    test_dot_wrows();
    test_dot_rows_x86_direct();
    test_quantizers_exact();
    return check_report("test_quant");
}
