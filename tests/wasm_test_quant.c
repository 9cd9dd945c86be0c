/*
 * wasm_test_quant.c — a wasm module (build/wasm/test-quant-wasm*.wasm, driven by
 * tests/wasm/run_kernels.mjs in node) checking every simd128/relaxed kernel of
 * src/quant/simd128.c against the scalar reference on random data, and timing matvecs (GB/s).
 *
 * Tolerance: the integer part of each block is exact in both. Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0
 * follow ref.c's canonical float order and Q2_K..Q6_K ref_k.c's, so they must equal the reference
 * bit for bit; the float types keep their own float order: |simd - ref| <= 1e-5 * Σ|block terms| +
 * 1e-6 (the sum of magnitudes bounds the rounding of any summation order). Rows are quantized with the reference
 * quantizers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <wasm_simd128.h>
#include "quant/quant.h"
#include "quant/kernels.h"
#include "quant/blocks.h"

#define EXPORT __attribute__((visibility("default")))
float chord_dot_f32_simd128(int64_t, const void *, const void *);
float chord_dot_f16_simd128(int64_t, const void *, const void *);
float chord_dot_q4_0_simd128(int64_t, const void *, const void *);
float chord_dot_q8_0_simd128(int64_t, const void *, const void *);
float chord_dot_q4_1_simd128(int64_t, const void *, const void *);
float chord_dot_q5_0_simd128(int64_t, const void *, const void *);
float chord_dot_q5_1_simd128(int64_t, const void *, const void *);
float chord_dot_q2_K_simd128(int64_t, const void *, const void *);
float chord_dot_q3_K_simd128(int64_t, const void *, const void *);
float chord_dot_q4_K_simd128(int64_t, const void *, const void *);
float chord_dot_q5_K_simd128(int64_t, const void *, const void *);
float chord_dot_q6_K_simd128(int64_t, const void *, const void *);
void chord_dot_rows_q4_0_simd128(int64_t, const void *, const void *, uint64_t, int, float *);
void chord_dot_rows_q8_0_simd128(int64_t, const void *, const void *, uint64_t, int, float *);
void chord_dot_rows_q4_K_simd128(int64_t, const void *, const void *, uint64_t, int, float *);
void chord_dot_rows_q5_K_simd128(int64_t, const void *, const void *, uint64_t, int, float *);
void chord_dot_rows_q6_K_simd128(int64_t, const void *, const void *, uint64_t, int, float *);
void chord_dot_wrows_q8_0_simd128(int64_t, const void *, uint64_t, int, const void *, float *);
void chord_dot_wrows_q4_K_simd128(int64_t, const void *, uint64_t, int, const void *, float *);
void chord_dot_wrows_q5_K_simd128(int64_t, const void *, uint64_t, int, const void *, float *);
void chord_dot_wrows_q6_K_simd128(int64_t, const void *, uint64_t, int, const void *, float *);
void chord_dot_wrows_q4_K_rolled_simd128(int64_t, const void *, uint64_t, int, const void *, float *); /* relaxed builds */
void chord_dot_wrows_q5_K_rolled_simd128(int64_t, const void *, uint64_t, int, const void *, float *);
void chord_dot_tile_q8_0_simd128(int64_t, const void *, uint64_t, int, const void *, uint64_t, int, float *, uint64_t);
void chord_dequant_f16_simd128(const void *, float *, int64_t);
void chord_quant_f16_simd128(const float *, void *, int64_t);
void chord_f16_mad_simd128(uint16_t *, const uint16_t *, int64_t, float, float, int);

typedef struct { uint32_t type; chord_vec_dot_fn simd; } kcase;
static const kcase cases[] = {
    {CHORD_TYPE_F32, chord_dot_f32_simd128},   {CHORD_TYPE_F16, chord_dot_f16_simd128},
    {CHORD_TYPE_Q4_0, chord_dot_q4_0_simd128}, {CHORD_TYPE_Q8_0, chord_dot_q8_0_simd128},
    {CHORD_TYPE_Q4_1, chord_dot_q4_1_simd128}, {CHORD_TYPE_Q5_0, chord_dot_q5_0_simd128},
    {CHORD_TYPE_Q5_1, chord_dot_q5_1_simd128},
    {CHORD_TYPE_Q2_K, chord_dot_q2_K_simd128}, {CHORD_TYPE_Q3_K, chord_dot_q3_K_simd128},
    {CHORD_TYPE_Q4_K, chord_dot_q4_K_simd128}, {CHORD_TYPE_Q5_K, chord_dot_q5_K_simd128},
    {CHORD_TYPE_Q6_K, chord_dot_q6_K_simd128},
};
#define NCASES (int)(sizeof cases / sizeof cases[0])

typedef struct { uint32_t type; chord_vec_dot_rows_fn rows; chord_vec_dot_fn one; } rcase;
static const rcase rcases[] = {
    {CHORD_TYPE_Q4_0, chord_dot_rows_q4_0_simd128, chord_dot_q4_0_simd128},
    {CHORD_TYPE_Q8_0, chord_dot_rows_q8_0_simd128, chord_dot_q8_0_simd128},
    {CHORD_TYPE_Q4_K, chord_dot_rows_q4_K_simd128, chord_dot_q4_K_simd128},
    {CHORD_TYPE_Q5_K, chord_dot_rows_q5_K_simd128, chord_dot_q5_K_simd128},
    {CHORD_TYPE_Q6_K, chord_dot_rows_q6_K_simd128, chord_dot_q6_K_simd128},
};
#define NRCASES (int)(sizeof rcases / sizeof rcases[0])

/* the decode shape: several weight rows against one activation vector */
/* rolled: installed only under CHORD_SIMD128_TUNE_ROLLED_K45 (chord_simd128_set_tuning) */
typedef struct { uint32_t type; chord_vec_dot_wrows_fn wrows; chord_vec_dot_fn one; int rolled; } wcase;
static const wcase wcases[] = {
    {CHORD_TYPE_Q8_0, chord_dot_wrows_q8_0_simd128, chord_dot_q8_0_simd128, 0},
    {CHORD_TYPE_Q4_K, chord_dot_wrows_q4_K_simd128, chord_dot_q4_K_simd128, 0},
    {CHORD_TYPE_Q5_K, chord_dot_wrows_q5_K_simd128, chord_dot_q5_K_simd128, 0},
    {CHORD_TYPE_Q6_K, chord_dot_wrows_q6_K_simd128, chord_dot_q6_K_simd128, 0},
#if defined(__wasm_relaxed_simd__)
    /* the rolled entries that chord_simd128_set_tuning installs (Node 20) */
    {CHORD_TYPE_Q4_K, chord_dot_wrows_q4_K_rolled_simd128, chord_dot_q4_K_simd128, 1},
    {CHORD_TYPE_Q5_K, chord_dot_wrows_q5_K_rolled_simd128, chord_dot_q5_K_simd128, 1},
#endif
};
#define NWCASES (int)(sizeof wcases / sizeof wcases[0])

static uint64_t rng = 88172645463325252ull;
static float frand(void) { /* uniform in [-1, 1) */
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((double)(rng >> 11) * 0x1p-52 - 1.0);
}

static int checks, failures;
static char last_fail[160];
EXPORT int32_t wtq_checks(void) { return checks; }
EXPORT const char *wtq_last_failure(void) { return last_fail; }
EXPORT const char *wtq_name(int32_t i) { return i >= 0 && i < NCASES ? chord_type_name(cases[i].type) : ""; }
EXPORT int32_t wtq_count(void) { return NCASES; }

static int check_one(const kcase *c, int64_t n) {
    const chord_type_traits *t = chord_type_get(c->type), *ty = chord_type_get(t->vec_dot_type);
    uint64_t xb, yb;
    if (chord_type_row_bytes(c->type, (uint64_t)n, &xb) || chord_type_row_bytes(t->vec_dot_type, (uint64_t)n, &yb)) return 1;
    float *xf = malloc((size_t)n * 4), *yf = malloc((size_t)n * 4);
    void *xq = malloc(xb), *yq = malloc(yb);
    float scale = 1.0f + 10.0f * (frand() + 1.0f);
    for (int64_t i = 0; i < n; i++) { xf[i] = frand() * scale; yf[i] = frand(); }
    if (c->type == CHORD_TYPE_F32) memcpy(xq, xf, xb); else t->from_float(xf, xq, n);
    if (t->vec_dot_type == CHORD_TYPE_F32) memcpy(yq, yf, yb); else ty->from_float(yf, yq, n);
    float ref = t->vec_dot_ref(n, xq, yq), got = c->simd(n, xq, yq);
    /* bound: Σ|x_i y_i| over dequantized values */
    float *xd = malloc((size_t)n * 4), *yd = malloc((size_t)n * 4);
    t->to_float(xq, xd, n);
    ty->to_float(yq, yd, n);
    double mag = 0;
    for (int64_t i = 0; i < n; i++) mag += fabs((double)xd[i] * yd[i]);
    /* the block types follow ref.c's / ref_k.c's canonical order on every target: bit-identical */
    const int exact = c->type != CHORD_TYPE_F32 && c->type != CHORD_TYPE_F16;
    int bad = exact ? memcmp(&got, &ref, 4) != 0 : !(fabs((double)got - ref) <= 1e-5 * mag + 1e-6);
    checks++;
    if (bad) {
        failures++;
        snprintf(last_fail, sizeof last_fail, "%s n=%lld: simd %.9g ref %.9g%s (|terms| %.3g)",
                 t->name, (long long)n, (double)got, (double)ref, exact ? " (must be bit-identical)" : "", mag);
    }
    free(xf); free(yf); free(xq); free(yq); free(xd); free(yd);
    return bad;
}

/* ny activation rows (stride ys, padded past a row so the stride is not the row size) against one
 * weight row: each out[r] must equal the single-row kernel's result bit for bit. Edge blocks too:
 * the first row's activations all zero, the weights' scales near fp16's largest. */
static void check_rows(const rcase *c, int64_t n, int ny, int edge) {
    const chord_type_traits *t = chord_type_get(c->type), *ty = chord_type_get(t->vec_dot_type);
    uint64_t xb, yb;
    if (chord_type_row_bytes(c->type, (uint64_t)n, &xb) || chord_type_row_bytes(t->vec_dot_type, (uint64_t)n, &yb)) return;
    const uint64_t ys = yb + 64;
    float *f = malloc((size_t)n * 4), out[8];
    uint8_t *xq = malloc(xb), *yq = malloc(ys * (uint64_t)ny);
    const float scale = edge ? 6.0e4f / 2.0f : 1.0f + 10.0f * (frand() + 1.0f);
    for (int64_t i = 0; i < n; i++) f[i] = frand() * scale;
    t->from_float(f, xq, n);
    for (int r = 0; r < ny; r++) {
        for (int64_t i = 0; i < n; i++) f[i] = (edge && r == 0) ? 0.0f : frand();
        ty->from_float(f, yq + ys * (uint64_t)r, n);
    }
    c->rows(n, xq, yq, ys, ny, out);
    for (int r = 0; r < ny; r++) {
        const float one = c->one(n, xq, yq + ys * (uint64_t)r);
        checks++;
        if (memcmp(&one, &out[r], 4) != 0) {
            failures++;
            snprintf(last_fail, sizeof last_fail, "%s rows n=%lld ny=%d row %d: %.9g, single-row kernel %.9g",
                     t->name, (long long)n, ny, r, (double)out[r], (double)one);
        }
    }
    free(f); free(xq); free(yq);
}

/* The prompt tile (quant.h chord_vec_dot_tile_fn): nx weight rows x ny activation rows, both
 * strides padded past a row, into a token-major output with a stride past nx; every out must
 * equal the single-row kernel's result bit for bit, and the padding must stay untouched. Edge:
 * scales near fp16's largest, the first token's activations all zero, every other weight row
 * zero bytes. */
typedef struct { uint32_t type; chord_vec_dot_tile_fn tile; chord_vec_dot_fn one; } tcase;
static const tcase tcases[] = {
    {CHORD_TYPE_Q8_0, chord_dot_tile_q8_0_simd128, chord_dot_q8_0_simd128},
};
#define NTCASES (int)(sizeof tcases / sizeof tcases[0])

static void check_tile(const tcase *c, int64_t n, int nx, int ny, int edge) {
    const chord_type_traits *t = chord_type_get(c->type), *ty = chord_type_get(t->vec_dot_type);
    uint64_t xb, yb;
    if (chord_type_row_bytes(c->type, (uint64_t)n, &xb) || chord_type_row_bytes(t->vec_dot_type, (uint64_t)n, &yb)) return;
    const uint64_t xs = xb + 32, ys = yb + 64, os = (uint64_t)nx + 3;
    float *f = malloc((size_t)n * 4), *out = malloc(os * (uint64_t)ny * 4);
    uint8_t *xq = malloc(xs * (uint64_t)nx), *yq = malloc(ys * (uint64_t)ny);
    const float scale = edge ? 6.0e4f / 2.0f : 1.0f + 10.0f * (frand() + 1.0f);
    for (int r = 0; r < nx; r++) {
        for (int64_t i = 0; i < n; i++) f[i] = frand() * scale;
        t->from_float(f, xq + xs * (uint64_t)r, n);
        if (edge && r % 2) memset(xq + xs * (uint64_t)r, 0, xb);
    }
    for (int k = 0; k < ny; k++) {
        for (int64_t i = 0; i < n; i++) f[i] = (edge && k == 0) ? 0.0f : frand();
        ty->from_float(f, yq + ys * (uint64_t)k, n);
    }
    for (uint64_t i = 0; i < os * (uint64_t)ny; i++) out[i] = -7.0f;
    c->tile(n, xq, xs, nx, yq, ys, ny, out, os);
    for (int k = 0; k < ny; k++)
        for (int r = 0; r < (int)os; r++) {
            const float got = out[(uint64_t)k * os + r];
            const float want = r < nx ? c->one(n, xq + xs * (uint64_t)r, yq + ys * (uint64_t)k) : -7.0f;
            checks++;
            if (memcmp(&want, &got, 4) != 0) {
                failures++;
                snprintf(last_fail, sizeof last_fail, "%s tile n=%lld nx=%d ny=%d edge %d row %d token %d: %.9g, %s %.9g",
                         t->name, (long long)n, nx, ny, edge, r, k, (double)got, r < nx ? "single-row kernel" : "padding", (double)want);
            }
        }
    free(f); free(out); free(xq); free(yq);
}

/* nx weight rows (stride xs, padded past a row so the stride is not the row size) against one
 * activation vector: each out[r] must equal the single-row kernel's result bit for bit, both from
 * the kernel (nx <= CHORD_WROWS_MAX) and through chord_vec_dot_wrows (any nx: passes plus a single
 * last row). Kinds of data: 0 random; 1 edge: scales near fp16's largest, activations all zero;
 * 2 edge: every other weight row all zero bytes, activations at full scale; 3 raw random weight
 * bytes (any level, scale and min a block can hold, finite fp16 scales) against random levels. */
static void wrows_fill(uint8_t *xq, uint64_t xs, int nx, uint8_t *yq, const wcase *c, int64_t n, int kind) {
    const chord_type_traits *t = chord_type_get(c->type), *ty = chord_type_get(t->vec_dot_type);
    float *f = malloc((size_t)n * 4);
    for (int r = 0; r < nx; r++) {
        uint8_t *row = xq + xs * (uint64_t)r;
        const float scale = kind == 1 ? 6.0e4f / 2.0f : 1.0f + 10.0f * (frand() + 1.0f);
        for (int64_t i = 0; i < n; i++) f[i] = frand() * scale;
        t->from_float(f, row, n);
        if (kind == 2 && (r & 1)) memset(row, 0, xs);
        if (kind == 3) {
            const uint64_t nb = (uint64_t)n / t->block_elems;
            for (uint64_t b = 0; b < nb * t->block_bytes; b++) { frand(); row[b] = (uint8_t)(rng >> 24); }
            for (uint64_t b = 0; b < nb; b++) { /* fp16 fields: finite, |.| < 2 (no overflow to inf) */
                uint8_t *blk = row + b * t->block_bytes;
                const size_t off = c->type == CHORD_TYPE_Q6_K ? t->block_bytes - 2 : 0;
                const int nf = c->type == CHORD_TYPE_Q6_K ? 1 : 2;
                for (int k = 0; k < nf; k++) {
                    const uint16_t h = chord_fp32_to_fp16(frand() * 2.0f);
                    memcpy(blk + off + 2 * k, &h, 2);
                }
            }
        }
    }
    for (int64_t i = 0; i < n; i++) f[i] = kind == 1 ? 0.0f : frand() * (kind == 2 ? 1e3f : 1.0f);
    ty->from_float(f, yq, n);
    free(f);
}

static void check_wrows(const wcase *c, int64_t n, int nx, int kind) {
    const chord_type_traits *t = chord_type_get(c->type);
    uint64_t xb, yb;
    if (chord_type_row_bytes(c->type, (uint64_t)n, &xb) || chord_type_row_bytes(t->vec_dot_type, (uint64_t)n, &yb)) return;
    const uint64_t xs = xb + 48;
    float out[16], out2[16];
    uint8_t *xq = malloc(xs * (uint64_t)nx), *yq = malloc(yb);
    wrows_fill(xq, xs, nx, yq, c, n, kind);
    if (nx <= CHORD_WROWS_MAX) c->wrows(n, xq, xs, nx, yq, out);
    chord_vec_dot_wrows(t, n, xq, xs, nx, yq, out2);
    for (int r = 0; r < nx; r++) {
        const float one = c->one(n, xq + xs * (uint64_t)r, yq);
        checks++;
        if ((nx <= CHORD_WROWS_MAX && memcmp(&one, &out[r], 4) != 0) || memcmp(&one, &out2[r], 4) != 0) {
            failures++;
            snprintf(last_fail, sizeof last_fail, "%s wrows n=%lld nx=%d kind %d row %d: %.9g / %.9g, single-row kernel %.9g",
                     t->name, (long long)n, nx, kind, r, (double)out[r], (double)out2[r], (double)one);
        }
    }
    free(xq); free(yq);
}

/* A traits field holds the kernel this build installs (ok), else a failure naming it. */
static void expect_installed(int ok, const char *type, const char *field) {
    if (ok) return;
    failures++;
    snprintf(last_fail, sizeof last_fail, "%s: traits %s is not the expected kernel", type, field);
}

/* The fp16 conversions must equal the scalar ones bit for bit: every half; floats on an odd
 * stride over all 2^32 bit patterns, and every float within 2 ulps of each half-precision
 * rounding boundary (the midpoints between adjacent halves, where ties go to even) and of the
 * overflow threshold. Arrays of odd length exercise the scalar tail too. */
static void f16_fail(const char *what, uint32_t in, uint32_t got, uint32_t want) {
    failures++;
    snprintf(last_fail, sizeof last_fail, "f16 %s of 0x%08x: 0x%08x, scalar 0x%08x", what, in, got, want);
}

static void check_f16_floats(const uint32_t *bits, int n) {
    float f[1031];
    uint16_t got[1031];
    memcpy(f, bits, (size_t)n * 4);
    chord_quant_f16_simd128(f, got, n);
    for (int i = 0; i < n; i++) {
        const uint16_t want = chord_fp32_to_fp16(f[i]);
        checks++;
        if (got[i] != want) { f16_fail("from_float", bits[i], got[i], want); return; }
    }
}

static void check_f16(void) {
    static uint16_t h[65536];
    static float got[65536];
    for (uint32_t i = 0; i < 65536; i++) h[i] = (uint16_t)i;
    chord_dequant_f16_simd128(h, got, 65535); /* odd: the last one through the tail */
    chord_dequant_f16_simd128(h + 65535, got + 65535, 1);
    for (uint32_t i = 0; i < 65536; i++) {
        const float want = chord_fp16_to_fp32((uint16_t)i);
        checks++;
        if (memcmp(&want, &got[i], 4)) {
            uint32_t g, w;
            memcpy(&g, &got[i], 4); memcpy(&w, &want, 4);
            f16_fail("to_float", i, g, w);
            return;
        }
    }
    uint32_t buf[1031];
    int nb = 0;
    for (uint64_t b = 0; b < (1ull << 32); b += 65521) { /* prime stride: every exponent, varied mantissas */
        buf[nb++] = (uint32_t)b;
        if (nb == 1031) { check_f16_floats(buf, nb); nb = 0; }
    }
    /* midpoints: half h's float value plus half an ulp of h, for every positive finite half */
    for (uint32_t hh = 0; hh < 0x7c00; hh++) {
        const float lo = chord_fp16_to_fp32((uint16_t)hh), hi = chord_fp16_to_fp32((uint16_t)(hh + 1));
        const float mid = lo + (hi - lo) * 0.5f; /* exact: halves have 11 significant bits */
        uint32_t m;
        memcpy(&m, &mid, 4);
        for (int d = -2; d <= 2; d++) {
            buf[nb++] = m + (uint32_t)d;
            buf[nb++] = (m + (uint32_t)d) | 0x80000000u;
            if (nb >= 1021) { check_f16_floats(buf, nb); nb = 0; }
        }
    }
    const uint32_t special[] = { 0x477ff000u, 0x477fefffu, 0x477ff001u, 0x47800000u, 0x7f7fffffu, 0x7f800000u,
                                 0x7f800001u, 0x7fc00000u, 0xffc00001u, 0x33000000u, 0x33000001u, 0x32ffffffu,
                                 0x38800000u, 0x387fffffu, 0x00000001u, 0x80000000u, 0x00000000u };
    for (unsigned k = 0; k < sizeof special / sizeof special[0]; k++) buf[nb++] = special[k];
    check_f16_floats(buf, nb);
    checks++;
    const chord_type_traits *t = chord_type_get(CHORD_TYPE_F16);
    if (t->to_float != chord_dequant_f16_simd128 || t->from_float != chord_quant_f16_simd128) {
        failures++;
        snprintf(last_fail, sizeof last_fail, "f16: traits to_float/from_float are not the simd128 conversions");
    }
}

/* chord_f16_mad_simd128 against its scalar definition (quant.h): rescale on and off, lengths
 * around the 8-lane step, large values (fp16 overflow), tiny ones (subnormals), a signalling NaN;
 * then 2^19 plain elements, where a fused multiply-add would show in about one in 10^4. */
static void check_f16_mad(void) {
    static const float sc[][2] = { { 0.5f, 1.0f }, { 1.0f, 0.3f }, { 0.0f, 1.0f }, { 3e4f, 2.0f }, { 1e-6f, 7.0f } };
    static uint16_t acc[1024], v[1024], want[1024];
    for (int c = 0; c < 266; c++) {
        const int n = c < 10 ? (int[]){ 1, 7, 8, 9, 15, 16, 17, 64, 100, 128 }[c] : 1024;
        const float ms = c < 10 ? sc[c % 5][0] : (frand() + 1.0f) * 0.5f, vs = c < 10 ? sc[c % 5][1] : frand() + 1.0f;
        for (int rescale = 0; rescale < 2; rescale++) {
            for (int i = 0; i < n; i++) {
                acc[i] = chord_fp32_to_fp16(frand() * (c < 10 && i % 5 == 0 ? 6e4f : 2.0f));
                v[i] = chord_fp32_to_fp16(frand() * (c < 10 && i % 7 == 0 ? 1e-5f : 1.0f));
            }
            if (n > 3) v[3] = 0x7C01;
            for (int i = 0; i < n; i++) {
                float a = chord_fp16_to_fp32(acc[i]);
                if (rescale) a = chord_fp16_to_fp32(chord_fp32_to_fp16(a * ms));
                const float p = chord_fp16_to_fp32(v[i]) * vs;
                want[i] = chord_fp32_to_fp16(a + p);
            }
            chord_f16_mad_simd128(acc, v, n, ms, vs, rescale);
            checks++;
            for (int i = 0; i < n; i++)
                if (acc[i] != want[i]) {
                    failures++;
                    snprintf(last_fail, sizeof last_fail, "f16_mad n=%d rescale=%d [%d]: 0x%04x, scalar 0x%04x", n,
                             rescale, i, acc[i], want[i]);
                    return;
                }
        }
    }
    checks++;
    if (chord_type_get(CHORD_TYPE_F16)->f16_mad != chord_f16_mad_simd128) {
        failures++;
        snprintf(last_fail, sizeof last_fail, "f16: traits f16_mad is not chord_f16_mad_simd128");
    }
}

EXPORT int32_t wtq_run(void) {
    check_f16();
    check_f16_mad();
    for (int ci = 0; ci < NRCASES; ci++) {
        const chord_type_traits *t = chord_type_get(rcases[ci].type);
        const int64_t be = t->block_elems, sizes[] = {be, 3 * be, 2048, 5632};
        for (int si = 0; si < 4; si++)
            for (int ny = 1; ny <= 8; ny++)
                for (int edge = 0; edge < 2; edge++) check_rows(&rcases[ci], sizes[si], ny, edge);
        checks++;
        if (t->vec_dot_rows != rcases[ci].rows) {
            failures++;
            snprintf(last_fail, sizeof last_fail, "%s: traits vec_dot_rows is not the simd128 kernel", t->name);
        }
    }
    for (int ci = 0; ci < NTCASES; ci++) {
        const chord_type_traits *t = chord_type_get(tcases[ci].type);
        /* 32-element types: 1 and 13 blocks too (the chains' 4-block groups and their tails) */
        const int64_t sizes_k[] = {QK_K, 3 * QK_K, 2048, 5632}, sizes_32[] = {32, 13 * 32, 2048, 5632};
        const int64_t *sizes = t->block_elems == 32 ? sizes_32 : sizes_k;
        const int shapes[] = {1, 2, 3, 4, 5, 7, 16};
        for (int si = 0; si < 4; si++)
            for (int a = 0; a < 7; a++)
                for (int b = 0; b < 7; b++)
                    for (int edge = 0; edge < 2; edge++) check_tile(&tcases[ci], sizes[si], shapes[a], shapes[b], edge);
        checks++;
#if defined(__wasm_relaxed_simd__) && defined(__wasm64__)
        const chord_vec_dot_tile_fn want = tcases[ci].tile; /* installed in wasm64-relaxed only (simd128.c) */
#else
        const chord_vec_dot_tile_fn want = NULL;
#endif
        expect_installed(t->vec_dot_tile == want, t->name, "vec_dot_tile");
    }
    for (int ci = 0; ci < NWCASES; ci++) {
        const chord_type_traits *t = chord_type_get(wcases[ci].type);
        /* 32-element types: 1 and 13 blocks too (the chains' 4-block groups and their tails) */
        const int64_t sizes_k[] = {QK_K, 3 * QK_K, 2048, 5632}, sizes_32[] = {32, 13 * 32, 2048, 5632};
        const int64_t *sizes = t->block_elems == 32 ? sizes_32 : sizes_k;
        for (int si = 0; si < 4; si++)
            for (int nx = 1; nx <= 9; nx++)
                for (int kind = 0; kind < 4; kind++) check_wrows(&wcases[ci], sizes[si], nx, kind);
        /* every build; the rolled Q4_K/Q5_K entries (relaxed) only once tuned for them */
        const int rolled = wcases[ci].rolled;
        chord_simd128_set_tuning(rolled ? CHORD_SIMD128_TUNE_ROLLED_K45 : 0);
        checks++;
        expect_installed(t->vec_dot_wrows == wcases[ci].wrows, t->name, rolled ? "vec_dot_wrows (rolled)" : "vec_dot_wrows");
        chord_simd128_set_tuning(0);
    }
    for (int ci = 0; ci < NCASES; ci++) {
        const chord_type_traits *t = chord_type_get(cases[ci].type);
        const int64_t be = t->block_elems;
        const int64_t sizes[] = {be, 2 * be, 3 * be, 256, 512, 768, 2048, 4096 + (be == 1 ? 7 : 0)};
        for (int si = 0; si < 8; si++) {
            int64_t n = sizes[si];
            if (n % be) continue;
            for (int rep = 0; rep < 4; rep++) check_one(&cases[ci], n);
        }
        /* the dispatch must have installed this kernel */
        checks++;
        if (t->vec_dot != cases[ci].simd) {
            failures++;
            snprintf(last_fail, sizeof last_fail, "%s: traits vec_dot is not the simd128 kernel", t->name);
        }
    }
    return failures;
}

/* Time a rows x cols matvec of case i with kernel simd (1) or reference (0): returns ms per pass. */
double chord_time_ms(void);
EXPORT double wtq_bench(int32_t i, int32_t rows, int32_t cols, int32_t iters, int32_t simd) {
    const kcase *c = &cases[i];
    const chord_type_traits *t = chord_type_get(c->type), *ty = chord_type_get(t->vec_dot_type);
    uint64_t xb, yb;
    if (chord_type_row_bytes(c->type, (uint64_t)cols, &xb) || chord_type_row_bytes(t->vec_dot_type, (uint64_t)cols, &yb)) return -1;
    uint8_t *w = malloc(xb * (uint64_t)rows);
    void *yq = malloc(yb);
    float *tmp = malloc((size_t)cols * 4);
    if (!w || !yq || !tmp) return -1;
    for (int32_t r = 0; r < rows; r++) {
        for (int32_t k = 0; k < cols; k++) tmp[k] = frand();
        if (c->type == CHORD_TYPE_F32) memcpy(w + xb * r, tmp, xb); else t->from_float(tmp, w + xb * r, cols);
    }
    for (int32_t k = 0; k < cols; k++) tmp[k] = frand();
    if (t->vec_dot_type == CHORD_TYPE_F32) memcpy(yq, tmp, yb); else ty->from_float(tmp, yq, cols);
    chord_vec_dot_fn f = simd ? c->simd : t->vec_dot_ref;
    volatile float sink = 0;
    double best = 1e30;
    for (int32_t it = 0; it < iters; it++) {
        double t0 = chord_time_ms();
        float s = 0;
        for (int32_t r = 0; r < rows; r++) s += f(cols, w + xb * r, yq);
        sink = s;
        double dt = chord_time_ms() - t0;
        if (dt < best) best = dt;
    }
    (void)sink;
    free(w); free(yq); free(tmp);
    return best;
}

/* The benches' operands: n rows (stride bytes apart) of t quantized from uniform random floats
 * (tmp holds one row of cols floats). */
static void bench_fill(const chord_type_traits *t, uint8_t *dst, uint64_t stride, int32_t n, int32_t cols, float *tmp) {
    for (int32_t r = 0; r < n; r++) {
        for (int32_t k = 0; k < cols; k++) tmp[k] = frand();
        t->from_float(tmp, dst + stride * (uint64_t)r, cols);
    }
}

/* Time a rows x cols matrix against 4 activation rows (a prompt batch's register block) with the
 * multi-row kernel (rows = 1) or the single-row kernel per activation row (rows = 0): ms per pass. */
EXPORT double wtq_bench_rows(int32_t i, int32_t rows, int32_t cols, int32_t iters, int32_t multi) {
    const rcase *c = &rcases[i];
    const chord_type_traits *t = chord_type_get(c->type), *ty = chord_type_get(t->vec_dot_type);
    uint64_t xb, yb;
    if (chord_type_row_bytes(c->type, (uint64_t)cols, &xb) || chord_type_row_bytes(t->vec_dot_type, (uint64_t)cols, &yb)) return -1;
    uint8_t *w = malloc(xb * (uint64_t)rows), *yq = malloc(yb * 4);
    float *tmp = malloc((size_t)cols * 4), out[4];
    if (!w || !yq || !tmp) return -1;
    bench_fill(t, w, xb, rows, cols, tmp);
    bench_fill(ty, yq, yb, 4, cols, tmp);
    volatile float sink = 0;
    double best = 1e30;
    for (int32_t it = 0; it < iters; it++) {
        double t0 = chord_time_ms();
        float s = 0;
        for (int32_t r = 0; r < rows; r++) {
            if (multi) c->rows(cols, w + xb * r, yq, yb, 4, out);
            else for (int k = 0; k < 4; k++) out[k] = c->one(cols, w + xb * r, yq + yb * k);
            s += out[0] + out[3];
        }
        sink = s;
        double dt = chord_time_ms() - t0;
        if (dt < best) best = dt;
    }
    (void)sink;
    free(w); free(yq); free(tmp);
    return best;
}
/* Time a rows x cols matvec (decode) of wcases[i] as ops.c runs it: the multi-weight-row kernel
 * over nr rows a part of the matrix apart (row k of each of nr equal parts, the rest single-row),
 * or the single-row kernel per row (nr = 0): ms per pass. */
EXPORT double wtq_bench_wrows(int32_t i, int32_t rows, int32_t cols, int32_t iters, int32_t nr) {
    const wcase *c = &wcases[i];
    const chord_type_traits *t = chord_type_get(c->type), *ty = chord_type_get(t->vec_dot_type);
    uint64_t xb, yb;
    if (chord_type_row_bytes(c->type, (uint64_t)cols, &xb) || chord_type_row_bytes(t->vec_dot_type, (uint64_t)cols, &yb)) return -1;
    if (nr > CHORD_WROWS_MAX) nr = CHORD_WROWS_MAX;
    uint8_t *w = malloc(xb * (uint64_t)rows), *yq = malloc(yb);
    float *tmp = malloc((size_t)cols * 4), *out = malloc((size_t)rows * 4);
    if (!w || !yq || !tmp || !out) return -1;
    bench_fill(t, w, xb, rows, cols, tmp);
    bench_fill(ty, yq, yb, 1, cols, tmp);
    volatile float sink = 0;
    double best = 1e30;
    for (int32_t it = 0; it < iters; it++) {
        double t0 = chord_time_ms();
        int32_t r = 0;
        if (nr >= 1) {
            const int32_t q = rows / nr;
            float o[CHORD_WROWS_MAX];
            for (int32_t k = 0; k < q; k++) {
                c->wrows(cols, w + xb * k, (uint64_t)q * xb, nr, yq, o);
                for (int j = 0; j < nr; j++) out[k + j * q] = o[j];
            }
            r = q * nr;
        }
        for (; r < rows; r++) out[r] = c->one(cols, w + xb * r, yq);
        sink = out[0] + out[rows - 1];
        double dt = chord_time_ms() - t0;
        if (dt < best) best = dt;
    }
    (void)sink;
    free(w); free(yq); free(tmp); free(out);
    return best;
}
/* Time a rows x cols matrix against ntok activation rows (a prompt batch) of tcases[i] as ops.c
 * runs it: 16-row tiles, each through the tile kernel with every token (tile = 1), or through the
 * multi-row kernel in groups of 8 tokens (tile = 0): ms per pass. */
EXPORT double wtq_bench_tile(int32_t i, int32_t rows, int32_t cols, int32_t ntok, int32_t iters, int32_t tile) {
    const tcase *c = &tcases[i];
    const chord_type_traits *t = chord_type_get(c->type), *ty = chord_type_get(t->vec_dot_type);
    uint64_t xb, yb;
    if (chord_type_row_bytes(c->type, (uint64_t)cols, &xb) || chord_type_row_bytes(t->vec_dot_type, (uint64_t)cols, &yb)) return -1;
    uint8_t *w = malloc(xb * (uint64_t)rows), *yq = malloc(yb * (uint64_t)ntok);
    float *tmp = malloc((size_t)cols * 4), *out = malloc((size_t)rows * (size_t)ntok * 4);
    if (!w || !yq || !tmp || !out) return -1;
    bench_fill(t, w, xb, rows, cols, tmp);
    bench_fill(ty, yq, yb, ntok, cols, tmp);
    volatile float sink = 0;
    double best = 1e30;
    for (int32_t it = 0; it < iters; it++) {
        double t0 = chord_time_ms();
        for (int32_t r0 = 0; r0 < rows; r0 += 16) {
            const int nr = rows - r0 < 16 ? rows - r0 : 16;
            if (tile) { c->tile(cols, w + xb * r0, xb, nr, yq, yb, ntok, out + r0, (uint64_t)rows); continue; }
            for (int32_t c0 = 0; c0 < ntok; c0 += 8) {
                const int nc = ntok - c0 < 8 ? ntok - c0 : 8;
                float o[8];
                for (int r = r0; r < r0 + nr; r++) {
                    chord_vec_dot_rows(t, cols, w + xb * r, yq + yb * c0, yb, nc, o);
                    for (int k = 0; k < nc; k++) out[(c0 + k) * rows + r] = o[k];
                }
            }
        }
        sink = out[0] + out[rows * ntok - 1];
        double dt = chord_time_ms() - t0;
        if (dt < best) best = dt;
    }
    (void)sink;
    free(w); free(yq); free(tmp); free(out);
    return best;
}
EXPORT int32_t wtq_tile_count(void) { return NTCASES; }
EXPORT const char *wtq_tile_name(int32_t i) { return i >= 0 && i < NTCASES ? chord_type_name(tcases[i].type) : ""; }

EXPORT const char *wtq_wrows_name(int32_t i) { return i >= 0 && i < NWCASES ? chord_type_name(wcases[i].type) : ""; }
EXPORT int32_t wtq_wrows_count(void) { return NWCASES; }

EXPORT const char *wtq_rows_name(int32_t i) { return i >= 0 && i < NRCASES ? chord_type_name(rcases[i].type) : ""; }
EXPORT int32_t wtq_rows_count(void) { return NRCASES; }

EXPORT double wtq_row_bytes_of(int32_t type, int32_t cols) {
    uint64_t b = 0;
    chord_type_row_bytes((uint32_t)type, (uint64_t)cols, &b);
    return (double)b;
}
EXPORT int32_t wtq_rows_type(int32_t i) { return (int32_t)rcases[i].type; }

/* Memory read bandwidth beside the kernels' GB/s: GB/s of summing a mib MiB buffer with v128
 * loads (4 independent accumulators), best of iters passes. */
EXPORT double wtq_bandwidth(int32_t mib, int32_t iters) {
    const size_t n = (size_t)mib << 20;
    uint8_t *b = malloc(n);
    if (!b) return -1;
    memset(b, 1, n);
    volatile int32_t sink = 0;
    double best = 1e30;
    for (int32_t it = 0; it < iters; it++) {
        double t0 = chord_time_ms();
        v128_t a0 = wasm_i32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
        for (size_t i = 0; i + 64 <= n; i += 64) {
            a0 = wasm_i32x4_add(a0, wasm_v128_load(b + i));
            a1 = wasm_i32x4_add(a1, wasm_v128_load(b + i + 16));
            a2 = wasm_i32x4_add(a2, wasm_v128_load(b + i + 32));
            a3 = wasm_i32x4_add(a3, wasm_v128_load(b + i + 48));
        }
        sink = wasm_i32x4_extract_lane(wasm_i32x4_add(wasm_i32x4_add(a0, a1), wasm_i32x4_add(a2, a3)), 0);
        double dt = chord_time_ms() - t0;
        if (dt < best) best = dt;
    }
    (void)sink;
    free(b);
    return (double)n / best / 1e6;
}

EXPORT double wtq_row_bytes(int32_t i, int32_t cols) {
    uint64_t b = 0;
    chord_type_row_bytes(cases[i].type, (uint64_t)cols, &b);
    return (double)b;
}
