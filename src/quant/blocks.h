/*
 * quant_blocks.h — the byte layout of every quantized block, identical to ggml's (these bytes
 * are what GGUF files store). Each struct is followed by a static_assert on its size (no padding
 * may sneak in) and its bits per weight. fp16 fields are stored as raw uint16_t bit patterns and
 * converted with chord_fp16_to_fp32. All multi-byte fields are little-endian on every target we
 * build for (x86-64, wasm), so blocks are read in place.
 */
#ifndef CHORD_QUANT_BLOCKS_H
#define CHORD_QUANT_BLOCKS_H

#include <stdint.h>
#include <assert.h>

#define QK4_0 32
#define QK4_1 32
#define QK5_0 32
#define QK5_1 32
#define QK8_0 32
#define QK8_1 32
#define QK_K 256          /* super-block size of the K-quants */
#define K_SCALE_SIZE 12   /* packed 6-bit scales + mins of Q4_K / Q5_K */

/* ---- 32-element blocks ------------------------------------------------------------------- */

/* x = d * (q - 8), q in 0..15; low nibbles hold elements 0..15, high nibbles 16..31. */
typedef struct { uint16_t d; uint8_t qs[QK4_0 / 2]; } chord_block_q4_0;
static_assert(sizeof(chord_block_q4_0) == 18, "q4_0 block: 4.5 bits per weight");

/* x = d * q + m, q in 0..15. */
typedef struct { uint16_t d, m; uint8_t qs[QK4_1 / 2]; } chord_block_q4_1;
static_assert(sizeof(chord_block_q4_1) == 20, "q4_1 block: 5.0 bits per weight");

/* x = d * (q - 16), q in 0..31; bit 4 of element j lives in bit j of qh (little-endian u32). */
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[QK5_0 / 2]; } chord_block_q5_0;
static_assert(sizeof(chord_block_q5_0) == 22, "q5_0 block: 5.5 bits per weight");

/* x = d * q + m, q in 0..31. */
typedef struct { uint16_t d, m; uint8_t qh[4]; uint8_t qs[QK5_1 / 2]; } chord_block_q5_1;
static_assert(sizeof(chord_block_q5_1) == 24, "q5_1 block: 6.0 bits per weight");

/* x = d * q, q in -127..127. Also the activation format for the 32-element *_0 types. */
typedef struct { uint16_t d; int8_t qs[QK8_0]; } chord_block_q8_0;
static_assert(sizeof(chord_block_q8_0) == 34, "q8_0 block: 8.5 bits per weight");

/* Activation format for the *_1 types: as q8_0 plus s = fp16(d * sum(qs)), which carries the
 * min term of the weight block through the dot product. */
typedef struct { uint16_t d, s; int8_t qs[QK8_1]; } chord_block_q8_1;
static_assert(sizeof(chord_block_q8_1) == 36, "q8_1 block: 9.0 bits per weight");

/* ---- 256-element super-blocks (K-quants) ------------------------------------------------- */

/* 16 sub-blocks of 16: x = d*(sc&15)*q - dmin*(sc>>4), q in 0..3. qs: byte l of each 32-byte
 * group holds elements l, l+32, l+64, l+96 of a 128-element half in bit pairs 0,2,4,6. */
typedef struct { uint8_t scales[QK_K / 16]; uint8_t qs[QK_K / 4]; uint16_t d, dmin; } chord_block_q2_K;
static_assert(sizeof(chord_block_q2_K) == 84, "q2_K block: 2.625 bits per weight");

/* 16 sub-blocks of 16: x = d*(s-32)*(q - (hbit ? 0 : 4)), q in 0..3 as q2_K, 6-bit signed scales
 * packed in 12 bytes (low nibbles in bytes 0..7, high bit pairs in bytes 8..11), the third bit of
 * element j in bit j/32 of hmask[j%32]. */
typedef struct { uint8_t hmask[QK_K / 8]; uint8_t qs[QK_K / 4]; uint8_t scales[12]; uint16_t d; } chord_block_q3_K;
static_assert(sizeof(chord_block_q3_K) == 110, "q3_K block: 3.4375 bits per weight");

/* 8 sub-blocks of 32: x = d*sc*q - dmin*m, q in 0..15, 6-bit sc/m packed in 12 bytes. qs: each
 * 32-byte group holds a 64-element chunk, low nibbles first 32, high nibbles next 32. */
typedef struct { uint16_t d, dmin; uint8_t scales[K_SCALE_SIZE]; uint8_t qs[QK_K / 2]; } chord_block_q4_K;
static_assert(sizeof(chord_block_q4_K) == 144, "q4_K block: 4.5 bits per weight");

/* As q4_K plus a fifth bit per element: bit (2*chunk + half) of qh[l]. q in 0..31. */
typedef struct { uint16_t d, dmin; uint8_t scales[K_SCALE_SIZE]; uint8_t qh[QK_K / 8]; uint8_t qs[QK_K / 2]; } chord_block_q5_K;
static_assert(sizeof(chord_block_q5_K) == 176, "q5_K block: 5.5 bits per weight");

/* 16 sub-blocks of 16: x = d*sc*(q - 32), q in 0..63 (4 low bits in ql, 2 high bits in qh),
 * int8 scales. */
typedef struct { uint8_t ql[QK_K / 2]; uint8_t qh[QK_K / 4]; int8_t scales[QK_K / 16]; uint16_t d; } chord_block_q6_K;
static_assert(sizeof(chord_block_q6_K) == 210, "q6_K block: 6.5625 bits per weight");

/* Activation format for the K-quants: float scale, int8 quants, sums of each 16 quants (the
 * sums let the dot products apply the per-sub-block mins without touching the quants). */
typedef struct { float d; int8_t qs[QK_K]; int16_t bsums[QK_K / 16]; } chord_block_q8_K;
static_assert(sizeof(chord_block_q8_K) == 292, "q8_K block: 9.125 bits per weight");

#endif
