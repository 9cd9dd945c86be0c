/*
 * quant_ref_k.c — scalar reference kernels for the K-quants (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K) and
 * their activation type Q8_K: dequantize, quantize, dot product.
 *
 * K-quants group 256 weights into a super-block with one fp16 scale (and one fp16 min scale for
 * the asymmetric types), and 8 or 16 sub-blocks whose own scales are small integers relative to
 * it. Quantizing therefore has two steps: fit a scale (and min) per sub-block by a short search
 * that minimizes a weighted squared (or absolute) error, then quantize the sub-block scales to 4/6/8
 * bits and re-quantize every weight with the rounded scales.
 *
 * Bit-exactness: dequantize repeats ggml's float operations in ggml's order (bit-identical to
 * llama.cpp, proved by tests/t_quant_oracle.sh). Quantize follows ggml's quantize_row_*_ref
 * (no importance matrix, which is also what llama_model_quantize uses without one) including
 * its search grids and its float evaluation order — each sum, product and division below is
 * spelled the way ggml evaluates it, because a one-ulp difference in a candidate's error can
 * pick a different scale. Dot products sum integers exactly, then scale and add in float in the
 * canonical order every SIMD kernel reproduces (acck below), so all targets give the same bits.
 */
#include <string.h>
#include <math.h>
#include "quant/quant.h"
#include "quant/blocks.h"
#include "quant/kernels.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#define H2F chord_fp16_to_fp32
#define F2H chord_fp32_to_fp16
#define GROUP_MAX_EPS 1e-15f

/* ---- scale search helpers --------------------------------------------------------------------- */

/* Round to nearest, ties to even, for |f| < 2^22: adding 1.5*2^23 leaves the integer in the low
 * mantissa bits (this is how ggml rounds; roundf would round ties away from zero). */
static int nearest_int(float f) {
    float v = f + 12582912.0f;
    int32_t i;
    memcpy(&i, &v, 4);
    return (i & 0x007fffff) - 0x00400000;
}

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Symmetric scale for n values into levels -nmax..nmax-1, weighting each value by x^2: start
 * from scale = max/-nmax, then try 18 nearby scales and keep the best least-squares fit.
 * L receives level + nmax. Returns the scale (used by Q6_K with nmax 32). */
static float fit_symmetric(int n, int nmax, const float *x, int8_t *L) {
    float max = 0, amax = 0;
    for (int i = 0; i < n; i++) {
        float ax = fabsf(x[i]);
        if (ax > amax) { amax = ax; max = x[i]; }
    }
    if (amax < GROUP_MAX_EPS) { memset(L, 0, (size_t)n); return 0.0f; }
    float iscale = (float)-nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        int l = clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (int8_t)(l + nmax);
        float w = x[i] * x[i];
        sumlx += w * x[i] * (float)l;
        suml2 += w * (float)l * (float)l;
    }
    float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; is++) {
        if (is == 0) continue;
        iscale = -((float)nmax + 0.1f * (float)is) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; i++) {
            int l = clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1);
            float w = x[i] * x[i];
            sumlx += w * x[i] * (float)l;
            suml2 += w * (float)l * (float)l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; i++)
                L[i] = (int8_t)(nmax + clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1));
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

/* Q3_K's sub-block fit: levels -nmax..nmax-1, then up to 5 passes of coordinate descent that
 * move single values to the level the current least-squares scale prefers. L gets level+nmax. */
static float fit_q3(int n, int nmax, const float *x, int8_t *L) {
    float max = 0, amax = 0;
    for (int i = 0; i < n; i++) {
        float ax = fabsf(x[i]);
        if (ax > amax) { amax = ax; max = x[i]; }
    }
    if (amax < GROUP_MAX_EPS) { memset(L, 0, (size_t)n); return 0.0f; }
    float iscale = (float)-nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        int l = clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (int8_t)l;
        float w = x[i] * x[i];
        sumlx += w * x[i] * (float)l;
        suml2 += w * (float)l * (float)l;
    }
    for (int itry = 0; itry < 5; itry++) {
        int n_changed = 0;
        for (int i = 0; i < n; i++) {
            float w = x[i] * x[i];
            float slx = sumlx - w * x[i] * (float)L[i];
            if (slx > 0) {
                float sl2 = suml2 - w * (float)L[i] * (float)L[i];
                int new_l = clampi(nearest_int(x[i] * sl2 / slx), -nmax, nmax - 1);
                if (new_l != L[i]) {
                    slx += w * x[i] * (float)new_l;
                    sl2 += w * (float)new_l * (float)new_l;
                    if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                        L[i] = (int8_t)new_l; sumlx = slx; suml2 = sl2;
                        n_changed++;
                    }
                }
            }
        }
        if (!n_changed) break;
    }
    for (int i = 0; i < n; i++) L[i] = (int8_t)(L[i] + nmax);
    return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

/* Weighted error of levels L under scale and min: sum w * |diff| (mad) or w * diff^2. */
static float fit_error(int n, const float *x, const float *w, const uint8_t *L, float scale,
                       float min, int mad) {
    float err = 0;
    for (int i = 0; i < n; i++) {
        float diff = scale * (float)L[i] + min - x[i];
        diff = mad ? fabsf(diff) : diff * diff;
        err += w[i] * diff;
    }
    return err;
}

/* Asymmetric fit x ~ scale*L + min with L in 0..nmax and min <= 0: start from the min/max
 * range, then for nstep+1 candidate scales around it solve the weighted least-squares scale and
 * min for the rounded levels and keep the one with the smallest weighted error. Returns the scale;
 * *neg_min = -min (>= 0). */
static float fit_asymmetric(int n, int nmax, const float *x, const float *w, uint8_t *L,
                            float *neg_min, uint8_t *Laux, float rmin, float rdelta, int nstep, int mad) {
    float min = x[0], max = x[0], sum_w = w[0], sum_x = sum_w * x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        sum_w += w[i];
        sum_x += w[i] * x[i];
    }
    if (min > 0) min = 0;
    if (max == min) { memset(L, 0, (size_t)n); *neg_min = -min; return 0.0f; }
    float iscale = (float)nmax / (max - min), scale = 1 / iscale;
    for (int i = 0; i < n; i++) L[i] = (uint8_t)clampi(nearest_int(iscale * (x[i] - min)), 0, nmax);
    float best_error = fit_error(n, x, w, L, scale, min, mad);
    for (int is = 0; is <= nstep; is++) {
        iscale = (rmin + rdelta * (float)is + (float)nmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; i++) {
            int l = clampi(nearest_int(iscale * (x[i] - min)), 0, nmax);
            Laux[i] = (uint8_t)l;
            sum_l += w[i] * (float)l;
            sum_l2 += w[i] * (float)l * (float)l;
            sum_xl += w[i] * (float)l * x[i];
        }
        float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0) { this_min = 0; this_scale = sum_xl / sum_l2; }
            float cur_error = fit_error(n, x, w, Laux, this_scale, this_min, mad);
            if (cur_error < best_error) {
                memcpy(L, Laux, (size_t)n);
                best_error = cur_error; scale = this_scale; min = this_min;
            }
        }
    }
    *neg_min = -min;
    return scale;
}

/* Packs 256 2-bit levels the Q2_K/Q3_K way: byte l of each 32-byte group holds elements
 * l, l+32, l+64, l+96 of a 128-element half in bit pairs 0, 2, 4, 6. */
static void pack_2bit(const uint8_t *L, uint8_t *qs) {
    for (int j = 0; j < QK_K; j += 128)
        for (int l = 0; l < 32; l++)
            qs[j / 4 + l] = (uint8_t)(L[j + l] | L[j + l + 32] << 2 | L[j + l + 64] << 4 | L[j + l + 96] << 6);
}

/* Reads element k's 2-bit level back (inverse of pack_2bit). */
static int get_2bit(const uint8_t *qs, int k) {
    return qs[(k / 128) * 32 + k % 32] >> (2 * ((k % 128) / 32)) & 3;
}

/* ---- the canonical order of the K-quant dot products -----------------------------------------
 * Every kernel of every target (AVX2, AVX-VNNI and AVX512-VNNI natively, simd128 and relaxed SIMD
 * in wasm, single-row, prompt-batch and multi-weight-row forms) performs exactly these float
 * operations, so all give the same bits. Per super-block:
 *   - 8 exact int32 lanes: lane L = the sum over the block's 8 groups of 32 elements of
 *     scale(e) * level(e) * y(e) for e = 32g + 4L .. 32g + 4L + 3 (AVX2's maddubs + madd lanes;
 *     Q6_K takes its levels unsigned, 0..63, and subtracts 32 * (sc[2L] * bsums[2L] +
 *     sc[2L+1] * bsums[2L+1]) from lane L);
 *   - per lane f = (float)lane * d with d = y.d * fp16(x.d) rounded to float, then acc = acc + f,
 *     two IEEE operations (never a fused multiply-add, which plain wasm SIMD lacks);
 *   - the min term of the asymmetric types, with dmin = (-y.d) * fp16(x.dmin):
 *     Q2_K: 8 lanes, lane L = m[2L] * bsums[2L] + m[2L+1] * bsums[2L+1], multiplied by dmin and
 *       added to the same 8 accumulators as above, BEFORE the block's scale term;
 *     Q4_K, Q5_K: 4 lanes of their own accumulator, lane q = m[2q] * pair[2q] + m[2q+1] *
 *       pair[2q+1] with pair[j] = bsums[2j] + bsums[2j+1] (the 32 elements of sub-block j),
 *       multiplied by dmin, then added;
 *   - at the end AVX2's hsum order: ((l0+l4) + (l2+l6)) + ((l1+l5) + (l3+l7)), plus, for Q4_K and
 *     Q5_K, the min lanes summed as (m0+m2) + (m1+m3). */
typedef struct { float lane[8], mins[4]; } acck;

/* acc[k] = acc[k] + (float)v[k] * s for nl lanes: a multiply, then an add */
static inline void acck_add(float *acc, const int32_t *v, int nl, float s) {
    for (int k = 0; k < nl; k++) {
        const float f = (float)v[k] * s;
        acc[k] = acc[k] + f;
    }
}

/* The 8 lanes of one block from sq[e] = scale(e) * level(e) (exact ints) and the activations. */
static inline void acck_lanes(const int32_t *sq, const int8_t *y, int32_t lane[8]) {
    for (int L = 0; L < 8; L++) lane[L] = 0;
    for (int g = 0; g < 8; g++)
        for (int L = 0; L < 8; L++)
            for (int e = 32 * g + 4 * L; e < 32 * g + 4 * L + 4; e++) lane[L] += sq[e] * y[e];
}

static inline float acck_result(const acck *a, int with_mins) {
    const float *l = a->lane;
    const float h0 = l[0] + l[4], h1 = l[1] + l[5], h2 = l[2] + l[6], h3 = l[3] + l[7];
    const float s = (h0 + h2) + (h1 + h3);
    if (!with_mins) return s;
    return s + ((a->mins[0] + a->mins[2]) + (a->mins[1] + a->mins[3]));
}

/* ---- Q2_K ------------------------------------------------------------------------------------ */

void chord_dequant_q2_K(const void *src, float *dst, int64_t n) {
    const chord_block_q2_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d = H2F(b[i].d), min = H2F(b[i].dmin);
        for (int k = 0; k < QK_K; k++) {
            const uint8_t sc = b[i].scales[k / 16];
            const float dl = d * (float)(sc & 0xF), ml = min * (float)(sc >> 4);
            *dst++ = dl * (float)get_2bit(b[i].qs, k) - ml;
        }
    }
}

void chord_quant_q2_K_ref(const float *x, void *dst, int64_t n) {
    chord_block_q2_K *y = dst;
    uint8_t L[QK_K], Laux[16];
    float w[16], mins[QK_K / 16], scales[QK_K / 16];
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        float max_scale = 0, max_min = 0;
        for (int j = 0; j < QK_K / 16; j++) {
            for (int l = 0; l < 16; l++) w[l] = fabsf(x[16 * j + l]);
            scales[j] = fit_asymmetric(16, 3, x + 16 * j, w, L + 16 * j, &mins[j], Laux, -0.5f, 0.1f, 15, 1);
            if (scales[j] > max_scale) max_scale = scales[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        memset(y[i].scales, 0, sizeof y[i].scales);
        y[i].d = F2H(max_scale > 0 ? max_scale / 15.f : 0.0f);
        if (max_scale > 0) {
            const float iscale = 15.f / max_scale;
            for (int j = 0; j < QK_K / 16; j++) y[i].scales[j] = (uint8_t)nearest_int(iscale * scales[j]);
        }
        y[i].dmin = F2H(max_min > 0 ? max_min / 15.f : 0.0f);
        if (max_min > 0) {
            const float iscale = 15.f / max_min;
            for (int j = 0; j < QK_K / 16; j++) y[i].scales[j] |= (uint8_t)(nearest_int(iscale * mins[j]) << 4);
        }
        for (int j = 0; j < QK_K / 16; j++) {
            const float d = H2F(y[i].d) * (float)(y[i].scales[j] & 0xF);
            if (d == 0.0f) continue;
            const float dm = H2F(y[i].dmin) * (float)(y[i].scales[j] >> 4);
            for (int l = 0; l < 16; l++)
                L[16 * j + l] = (uint8_t)clampi(nearest_int((x[16 * j + l] + dm) / d), 0, 3);
        }
        pack_2bit(L, y[i].qs);
    }
}

/* The 256 2-bit levels of a Q2_K/Q3_K block in element order (inverse of pack_2bit), in loops
 * a compiler can vectorize: the scalar dots are also the fallback kernels where no SIMD ones
 * exist. */
static void unpack_2bit(const uint8_t *qs, int8_t *q) {
    for (int h = 0; h < 2; h++)
        for (int k = 0; k < 4; k++)
            for (int l = 0; l < 32; l++) q[128 * h + 32 * k + l] = (int8_t)((qs[32 * h + l] >> (2 * k)) & 3);
}

float chord_dot_q2_K_ref(int64_t n, const void *vx, const void *vy) {
    const chord_block_q2_K *x = vx;
    const chord_block_q8_K *y = vy;
    int8_t q[QK_K];
    int32_t sq[QK_K], v[8];
    acck a = { { 0 }, { 0 } };
    for (int64_t i = 0; i < n / QK_K; i++) {
        const uint8_t *sc = x[i].scales;
        const float d = y[i].d * H2F(x[i].d), dmin = -y[i].d * H2F(x[i].dmin);
        for (int L = 0; L < 8; L++)
            v[L] = (sc[2 * L] >> 4) * y[i].bsums[2 * L] + (sc[2 * L + 1] >> 4) * y[i].bsums[2 * L + 1];
        acck_add(a.lane, v, 8, dmin);
        unpack_2bit(x[i].qs, q);
        for (int e = 0; e < QK_K; e++) sq[e] = (sc[e / 16] & 0xF) * q[e];
        acck_lanes(sq, y[i].qs, v);
        acck_add(a.lane, v, 8, d);
    }
    return acck_result(&a, 0);
}

/* ---- Q3_K ------------------------------------------------------------------------------------ */

/* The 16 signed 6-bit sub-block scales (already minus 32) from the 12 packed bytes. */
static void q3_scales(const uint8_t *s, int *out) {
    for (int j = 0; j < 16; j++) {
        int lo = j < 8 ? s[j] & 0xF : s[j - 8] >> 4;
        int hi = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
        out[j] = (lo | hi << 4) - 32;
    }
}

void chord_dequant_q3_K(const void *src, float *dst, int64_t n) {
    const chord_block_q3_K *b = src;
    int sc[16];
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d_all = H2F(b[i].d);
        q3_scales(b[i].scales, sc);
        for (int k = 0; k < QK_K; k++) {
            const float dl = d_all * (float)sc[k / 16];
            const int hbit = b[i].hmask[k % 32] >> (k / 32) & 1;
            *dst++ = dl * (float)(get_2bit(b[i].qs, k) - (hbit ? 0 : 4));
        }
    }
}

void chord_quant_q3_K_ref(const float *x, void *dst, int64_t n) {
    chord_block_q3_K *y = dst;
    int8_t L[QK_K];
    float scales[QK_K / 16];
    int sc[16];
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        float max_scale = 0, amax = 0;
        for (int j = 0; j < QK_K / 16; j++) {
            scales[j] = fit_q3(16, 4, x + 16 * j, L + 16 * j);
            if (fabsf(scales[j]) > amax) { amax = fabsf(scales[j]); max_scale = scales[j]; }
        }
        memset(y[i].scales, 0, 12);
        if (max_scale != 0.0f) {
            const float iscale = -32.f / max_scale;
            for (int j = 0; j < QK_K / 16; j++) {
                int l = clampi((int8_t)nearest_int(iscale * scales[j]), -32, 31) + 32;
                if (j < 8) y[i].scales[j] = (uint8_t)(l & 0xF);
                else y[i].scales[j - 8] |= (uint8_t)((l & 0xF) << 4);
                y[i].scales[j % 4 + 8] |= (uint8_t)((l >> 4) << (2 * (j / 4)));
            }
            y[i].d = F2H(1 / iscale);
        } else {
            y[i].d = F2H(0.0f);
        }
        q3_scales(y[i].scales, sc);
        for (int j = 0; j < QK_K / 16; j++) {
            const float d = H2F(y[i].d) * (float)sc[j];
            if (d == 0.0f) continue;
            for (int l = 0; l < 16; l++)
                L[16 * j + l] = (int8_t)(clampi(nearest_int(x[16 * j + l] / d), -4, 3) + 4);
        }
        uint8_t L2[QK_K];
        memset(y[i].hmask, 0, sizeof y[i].hmask);
        for (int k = 0; k < QK_K; k++) {
            int l = L[k];
            if (l > 3) { y[i].hmask[k % 32] |= (uint8_t)(1u << (k / 32)); l -= 4; }
            L2[k] = (uint8_t)l;
        }
        pack_2bit(L2, y[i].qs);
    }
}

float chord_dot_q3_K_ref(int64_t n, const void *vx, const void *vy) {
    const chord_block_q3_K *x = vx;
    const chord_block_q8_K *y = vy;
    int sc[16];
    int8_t q[QK_K];
    int32_t sq[QK_K], v[8];
    acck a = { { 0 }, { 0 } };
    for (int64_t i = 0; i < n / QK_K; i++) {
        q3_scales(x[i].scales, sc);
        unpack_2bit(x[i].qs, q);
        /* the third bit of element k is bit k/32 of hmask[k%32]; where it is clear, level - 4 */
        for (int b = 0; b < 8; b++)
            for (int l = 0; l < 32; l++) q[32 * b + l] = (int8_t)(q[32 * b + l] - (((x[i].hmask[l] >> b) & 1) ? 0 : 4));
        for (int e = 0; e < QK_K; e++) sq[e] = sc[e / 16] * q[e];
        acck_lanes(sq, y[i].qs, v);
        acck_add(a.lane, v, 8, y[i].d * H2F(x[i].d));
    }
    return acck_result(&a, 0);
}

/* ---- Q4_K and Q5_K (8 sub-blocks of 32, 6-bit scales and mins) -------------------------------- */

/* Fits the 8 sub-blocks of one super-block for a 4-bit (nmax 15) or 5-bit (nmax 31) level range,
 * stores d, dmin and the packed scales, and writes the final levels to L. */
static void quant_k_asym(const float *x, int nmax, float rmin, int nstep, uint16_t *d_out,
                         uint16_t *dmin_out, uint8_t *packed, uint8_t *L) {
    uint8_t Laux[32];
    float w[32], mins[8], scales[8], max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; j++) {
        float sum_x2 = 0;
        for (int l = 0; l < 32; l++) sum_x2 += x[32 * j + l] * x[32 * j + l];
        const float av_x = sqrtf(sum_x2 / 32);
        for (int l = 0; l < 32; l++) w[l] = av_x + fabsf(x[32 * j + l]);
        scales[j] = fit_asymmetric(32, nmax, x + 32 * j, w, L + 32 * j, &mins[j], Laux, rmin, 0.1f, nstep, 0);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    memset(packed, 0, K_SCALE_SIZE);
    for (int j = 0; j < 8; j++) {
        uint8_t ls = (uint8_t)nearest_int(inv_scale * scales[j]), lm = (uint8_t)nearest_int(inv_min * mins[j]);
        if (ls > 63) ls = 63;
        if (lm > 63) lm = 63;
        if (j < 4) {
            packed[j] = ls; packed[j + 4] = lm;
        } else {
            packed[j + 4] = (uint8_t)((ls & 0xF) | (lm & 0xF) << 4);
            packed[j - 4] |= (uint8_t)((ls >> 4) << 6);
            packed[j] |= (uint8_t)((lm >> 4) << 6);
        }
    }
    *d_out = F2H(max_scale / 63.f);
    *dmin_out = F2H(max_min / 63.f);
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        chord_k_scale_min(j, packed, &sc, &m);
        const float d = H2F(*d_out) * (float)sc;
        if (d == 0.0f) continue;
        const float dm = H2F(*dmin_out) * (float)m;
        for (int l = 0; l < 32; l++)
            L[32 * j + l] = (uint8_t)clampi(nearest_int((x[32 * j + l] + dm) / d), 0, nmax);
    }
}

void chord_dequant_q4_K(const void *src, float *dst, int64_t n) {
    const chord_block_q4_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d = H2F(b[i].d), min = H2F(b[i].dmin);
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            chord_k_scale_min(j, b[i].scales, &sc, &m);
            const float d1 = d * (float)sc, m1 = min * (float)m;
            const uint8_t *q = b[i].qs + 32 * (j / 2);
            const int shift = 4 * (j & 1);
            for (int l = 0; l < 32; l++) *dst++ = d1 * (float)(q[l] >> shift & 0xF) - m1;
        }
    }
}

void chord_quant_q4_K_ref(const float *x, void *dst, int64_t n) {
    chord_block_q4_K *y = dst;
    uint8_t L[QK_K];
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        quant_k_asym(x, 15, -1.f, 20, &y[i].d, &y[i].dmin, y[i].scales, L);
        for (int j = 0; j < QK_K; j += 64)
            for (int l = 0; l < 32; l++) y[i].qs[j / 2 + l] = (uint8_t)(L[j + l] | L[j + l + 32] << 4);
    }
}

/* Shared by Q4_K and Q5_K dots: one super-block into the accumulator (q = its 256 unpacked
 * levels): the 4 min lanes and the 8 scale lanes (see acck). */
static void acck_k_asym(acck *a, const uint8_t *q, const uint8_t *packed, float xd, float xdmin,
                        const chord_block_q8_K *y) {
    int sc[8], m[8];
    int32_t sq[QK_K], v[8];
    for (int j = 0; j < 8; j++) {
        uint8_t s, mm;
        chord_k_scale_min(j, packed, &s, &mm);
        sc[j] = s; m[j] = mm;
    }
    const int16_t *bs = y->bsums;
    for (int k = 0; k < 4; k++)
        v[k] = m[2 * k] * (bs[4 * k] + bs[4 * k + 1]) + m[2 * k + 1] * (bs[4 * k + 2] + bs[4 * k + 3]);
    acck_add(a->mins, v, 4, -y->d * xdmin);
    for (int e = 0; e < QK_K; e++) sq[e] = sc[e / 32] * q[e];
    acck_lanes(sq, y->qs, v);
    acck_add(a->lane, v, 8, y->d * xd);
}

float chord_dot_q4_K_ref(int64_t n, const void *vx, const void *vy) {
    const chord_block_q4_K *x = vx;
    const chord_block_q8_K *y = vy;
    uint8_t q[QK_K];
    acck a = { { 0 }, { 0 } };
    for (int64_t i = 0; i < n / QK_K; i++) {
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 32; l++) {
                q[64 * j + l] = x[i].qs[32 * j + l] & 0xF;
                q[64 * j + 32 + l] = x[i].qs[32 * j + l] >> 4;
            }
        acck_k_asym(&a, q, x[i].scales, H2F(x[i].d), H2F(x[i].dmin), &y[i]);
    }
    return acck_result(&a, 1);
}

/* Q5_K element k: low 4 bits as Q4_K, fifth bit k/32 of qh[k%32]. */
static int q5k_level(const chord_block_q5_K *b, int k) {
    const int lo = b->qs[(k / 64) * 32 + k % 32] >> (4 * ((k / 32) & 1)) & 0xF;
    return lo | (b->qh[k % 32] >> (k / 32) & 1) << 4;
}

void chord_dequant_q5_K(const void *src, float *dst, int64_t n) {
    const chord_block_q5_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d = H2F(b[i].d), min = H2F(b[i].dmin);
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            chord_k_scale_min(j, b[i].scales, &sc, &m);
            const float d1 = d * (float)sc, m1 = min * (float)m;
            for (int l = 0; l < 32; l++) *dst++ = d1 * (float)q5k_level(&b[i], 32 * j + l) - m1;
        }
    }
}

void chord_quant_q5_K_ref(const float *x, void *dst, int64_t n) {
    chord_block_q5_K *y = dst;
    uint8_t L[QK_K];
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        quant_k_asym(x, 31, -0.5f, 15, &y[i].d, &y[i].dmin, y[i].scales, L);
        memset(y[i].qh, 0, sizeof y[i].qh);
        for (int k = 0; k < QK_K; k++)
            if (L[k] > 15) y[i].qh[k % 32] |= (uint8_t)(1u << (k / 32));
        for (int j = 0; j < QK_K; j += 64)
            for (int l = 0; l < 32; l++)
                y[i].qs[j / 2 + l] = (uint8_t)((L[j + l] & 0xF) | (L[j + l + 32] & 0xF) << 4);
    }
}

float chord_dot_q5_K_ref(int64_t n, const void *vx, const void *vy) {
    const chord_block_q5_K *x = vx;
    const chord_block_q8_K *y = vy;
    uint8_t q[QK_K];
    acck a = { { 0 }, { 0 } };
    for (int64_t i = 0; i < n / QK_K; i++) {
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 32; l++) {
                const int h = x[i].qh[l];
                q[64 * j + l] = (uint8_t)((x[i].qs[32 * j + l] & 0xF) | ((h >> (2 * j)) & 1) << 4);
                q[64 * j + 32 + l] = (uint8_t)((x[i].qs[32 * j + l] >> 4) | ((h >> (2 * j + 1)) & 1) << 4);
            }
        acck_k_asym(&a, q, x[i].scales, H2F(x[i].d), H2F(x[i].dmin), &y[i]);
    }
    return acck_result(&a, 1);
}

/* ---- Q6_K ------------------------------------------------------------------------------------ */

/* Element k's 6-bit level (0..63): in each 128-element half, ql byte l holds elements l (low
 * nibble) and l+64 (high), ql byte l+32 holds l+32 and l+96; qh byte l holds the top bit
 * pairs of l, l+32, l+64, l+96. */
static int q6k_level(const chord_block_q6_K *b, int k) {
    const int half = k / 128, r = k % 128, l = r % 32, g = r / 32;
    const int lo = b->ql[64 * half + l + 32 * (g & 1)] >> (4 * (g >> 1)) & 0xF;
    return lo | (b->qh[32 * half + l] >> (2 * g) & 3) << 4;
}

void chord_dequant_q6_K(const void *src, float *dst, int64_t n) {
    const chord_block_q6_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d = H2F(b[i].d);
        for (int k = 0; k < QK_K; k++)
            *dst++ = d * (float)b[i].scales[k / 16] * (float)(q6k_level(&b[i], k) - 32);
    }
}

void chord_quant_q6_K_ref(const float *x, void *dst, int64_t n) {
    chord_block_q6_K *y = dst;
    int8_t L[QK_K];
    float scales[QK_K / 16];
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        float max_scale = 0, max_abs_scale = 0;
        for (int ib = 0; ib < QK_K / 16; ib++) {
            scales[ib] = fit_symmetric(16, 32, x + 16 * ib, L + 16 * ib);
            if (fabsf(scales[ib]) > max_abs_scale) { max_abs_scale = fabsf(scales[ib]); max_scale = scales[ib]; }
        }
        memset(&y[i], 0, sizeof y[i]);
        if (max_abs_scale < GROUP_MAX_EPS) { y[i].d = F2H(0.0f); continue; }
        const float iscale = -128.f / max_scale;
        y[i].d = F2H(1 / iscale);
        for (int ib = 0; ib < QK_K / 16; ib++) {
            const int s = nearest_int(iscale * scales[ib]);
            y[i].scales[ib] = (int8_t)(s < 127 ? s : 127);
        }
        for (int j = 0; j < QK_K / 16; j++) {
            const float d = H2F(y[i].d) * (float)y[i].scales[j];
            if (d == 0.0f) continue;
            for (int l = 0; l < 16; l++)
                L[16 * j + l] = (int8_t)(clampi(nearest_int(x[16 * j + l] / d), -32, 31) + 32);
        }
        for (int k = 0; k < QK_K; k++) {
            const int half = k / 128, r = k % 128, l = r % 32, g = r / 32;
            y[i].ql[64 * half + l + 32 * (g & 1)] |= (uint8_t)((L[k] & 0xF) << (4 * (g >> 1)));
            y[i].qh[32 * half + l] |= (uint8_t)((L[k] >> 4) << (2 * g));
        }
    }
}

float chord_dot_q6_K_ref(int64_t n, const void *vx, const void *vy) {
    const chord_block_q6_K *x = vx;
    const chord_block_q8_K *y = vy;
    uint8_t q[QK_K];
    int32_t sq[QK_K], v[8];
    acck a = { { 0 }, { 0 } };
    for (int64_t i = 0; i < n / QK_K; i++) {
        for (int h = 0; h < 2; h++)        /* element order, as q6k_level (unsigned), in vectorizable loops */
            for (int l = 0; l < 32; l++) {
                const int a0 = x[i].ql[64 * h + l], b0 = x[i].ql[64 * h + 32 + l], hb = x[i].qh[32 * h + l];
                q[128 * h + l]      = (uint8_t)((a0 & 0xF) | (hb & 3) << 4);
                q[128 * h + 32 + l] = (uint8_t)((b0 & 0xF) | ((hb >> 2) & 3) << 4);
                q[128 * h + 64 + l] = (uint8_t)((a0 >> 4) | ((hb >> 4) & 3) << 4);
                q[128 * h + 96 + l] = (uint8_t)((b0 >> 4) | ((hb >> 6) & 3) << 4);
            }
        const int8_t *sc = x[i].scales;
        for (int e = 0; e < QK_K; e++) sq[e] = sc[e / 16] * q[e];
        acck_lanes(sq, y[i].qs, v);
        /* the levels' +32 offset, per lane as the SIMD kernels remove it */
        for (int L = 0; L < 8; L++)
            v[L] -= 32 * (sc[2 * L] * y[i].bsums[2 * L] + sc[2 * L + 1] * y[i].bsums[2 * L + 1]);
        acck_add(a.lane, v, 8, y[i].d * H2F(x[i].d));
    }
    return acck_result(&a, 0);
}

/* ---- Q8_K: activations, x = d * q with a float d and q in -127..127 -------------------------- */

void chord_dequant_q8_K(const void *src, float *dst, int64_t n) {
    const chord_block_q8_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++)
        for (int j = 0; j < QK_K; j++) *dst++ = b[i].d * (float)b[i].qs[j];
}

void chord_quant_q8_K_ref(const float *x, void *dst, int64_t n) {
    chord_block_q8_K *y = dst;
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        float max = 0, amax = 0;
        for (int j = 0; j < QK_K; j++) {
            if (fabsf(x[j]) > amax) { amax = fabsf(x[j]); max = x[j]; }
        }
        memset(&y[i], 0, sizeof y[i]);
        if (amax == 0.0f) continue;
        /* -127 (not -128) keeps every quant in -127..127, so sign flips never overflow */
        const float iscale = -127.f / max;
        /* |max| below ~3.7e-37 overflows iscale; ggml's nearest_int then maps inf/NaN to
         * quants that truncate to 0 — write those zeros explicitly */
        if (isinf(iscale)) { y[i].d = 1 / iscale; continue; }
        for (int j = 0; j < QK_K; j++) {
            const int v = nearest_int(iscale * x[j]);
            y[i].qs[j] = (int8_t)(v < 127 ? v : 127);
        }
        for (int j = 0; j < QK_K / 16; j++) {
            int s = 0;
            for (int l = 0; l < 16; l++) s += y[i].qs[16 * j + l];
            y[i].bsums[j] = (int16_t)s;
        }
        y[i].d = 1 / iscale;
    }
}

float chord_dot_q8_K_ref(int64_t n, const void *vx, const void *vy) {
    const chord_block_q8_K *x = vx, *y = vy;
    float sum = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int s = 0;
        for (int j = 0; j < QK_K; j++) s += x[i].qs[j] * y[i].qs[j];
        sum += x[i].d * y[i].d * (float)s;
    }
    return sum;
}
