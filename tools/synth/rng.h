/*
 * rng.h — deterministic pseudo-random numbers for synthetic models: xoshiro256** seeded through
 * splitmix64, and standard normals by Box-Muller. Every row of every tensor gets its own stream
 * (seed, tensor name, row), so a model's weights do not depend on the thread count, on the
 * tensor type, or on which other tensors the file holds: an F32 and a Q8_0 file made with the
 * same seed and shape hold the same underlying weights.
 */
#ifndef CHORD_SYNTH_RNG_H
#define CHORD_SYNTH_RNG_H
#include <stdint.h>

typedef struct chord_rng { uint64_t s[4]; } chord_rng;

/* 64-bit FNV-1a of a string, mixed with the model seed: the per-tensor stream id. */
uint64_t chord_rng_tensor_seed(uint64_t seed, const char *name);
/* Seeds the stream for one row of a tensor. */
void chord_rng_seed(chord_rng *r, uint64_t tensor_seed, uint64_t row);
uint64_t chord_rng_next(chord_rng *r);
/* Fills dst[0..n) with N(0, std²) samples. */
void chord_rng_normal(chord_rng *r, float *dst, int64_t n, float std);

#endif
