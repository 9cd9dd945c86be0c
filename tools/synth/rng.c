/*
 * rng.c — xoshiro256** (Blackman & Vigna) seeded by splitmix64, and Box-Muller normals.
 * The generator is only a source of well-mixed bits; quality beyond that does not matter for
 * random weights, reproducibility does: the same (seed, tensor name, row) always gives the
 * same floats on the same libm.
 */
#include <math.h>
#include "rng.h"

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t chord_rng_tensor_seed(uint64_t seed, const char *name) {
    uint64_t h = 0xCBF29CE484222325ull;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) h = (h ^ *p) * 0x100000001B3ull;
    uint64_t x = seed ^ h;
    return splitmix64(&x);
}

void chord_rng_seed(chord_rng *r, uint64_t tensor_seed, uint64_t row) {
    uint64_t x = tensor_seed ^ (row * 0xD1B54A32D192ED03ull);
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

uint64_t chord_rng_next(chord_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Box-Muller: two uniforms give two independent normals. u1 is in (0, 1] so log() is finite. */
void chord_rng_normal(chord_rng *r, float *dst, int64_t n, float std) {
    const double two_pi = 6.283185307179586;
    for (int64_t i = 0; i < n; i += 2) {
        uint64_t b = chord_rng_next(r);
        double u1 = (double)((b >> 40) + 1) * (1.0 / 16777216.0);          /* 24 bits, (0, 1] */
        double u2 = (double)(b & 0xFFFFFF) * (1.0 / 16777216.0);           /* 24 bits, [0, 1) */
        double rad = sqrt(-2.0 * log(u1)) * std;
        dst[i] = (float)(rad * cos(two_pi * u2));
        if (i + 1 < n) dst[i + 1] = (float)(rad * sin(two_pi * u2));
    }
}
