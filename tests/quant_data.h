/*
 * quant_data.h — what test_quant.c and test_quant_rows.c share: the type list, a seeded
 * xorshift generator, and the helpers that make random blocks valid (finite fp16 scales,
 * consistent Q8 sums) and name the type families whose dots keep one canonical order.
 * Header-only with static inline functions, like check.h: each test binary gets its own copy
 * and its own generator state.
 */
#ifndef CHORD_TESTS_QUANT_DATA_H
#define CHORD_TESTS_QUANT_DATA_H

#include <math.h>
#include <stdint.h>
#include "quant/quant.h"
#include "quant/blocks.h"

static const uint32_t TYPES[] = {
    CHORD_TYPE_F32, CHORD_TYPE_F16, CHORD_TYPE_BF16, CHORD_TYPE_Q4_0, CHORD_TYPE_Q4_1,
    CHORD_TYPE_Q5_0, CHORD_TYPE_Q5_1, CHORD_TYPE_Q8_0, CHORD_TYPE_Q8_1, CHORD_TYPE_Q2_K,
    CHORD_TYPE_Q3_K, CHORD_TYPE_Q4_K, CHORD_TYPE_Q5_K, CHORD_TYPE_Q6_K, CHORD_TYPE_Q8_K,
};
#define N_TYPES (sizeof TYPES / sizeof TYPES[0])

static uint64_t rng = 0x1234567;
static inline uint64_t rnd(void) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return rng;
}
static inline float unif(void) { return (float)(rnd() >> 40) / 16777216.0f; }
static inline float gauss(void) {
    float u = unif() + 1e-7f, v = unif();
    return sqrtf(-2.0f * logf(u)) * cosf(6.2831853f * v);
}

/* Gives every fp16 scale field of the blocks a finite value in [-scale, scale] (used on random
 * bytes, where they would otherwise be arbitrary, NaN included), and makes Q8 sums consistent. */
static inline void sanitize(uint32_t type, void *p, int64_t nb, float scale) {
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

/* The 32-element block types, whose dots follow one canonical order on every target. */
static inline int is_block32(uint32_t t) {
    return t == CHORD_TYPE_Q4_0 || t == CHORD_TYPE_Q4_1 || t == CHORD_TYPE_Q5_0 || t == CHORD_TYPE_Q5_1 ||
           t == CHORD_TYPE_Q8_0 || t == CHORD_TYPE_Q8_1;
}

/* The K-quant weight types (Q8_K, the activation type, has no SIMD dot and no order to keep). */
static inline int is_kquant(uint32_t t) {
    return t == CHORD_TYPE_Q2_K || t == CHORD_TYPE_Q3_K || t == CHORD_TYPE_Q4_K || t == CHORD_TYPE_Q5_K ||
           t == CHORD_TYPE_Q6_K;
}

#endif
