/*
 * pack.c — the packed prompt layout of Q8_0 activations (described in kernels.h): plain
 * quantized rows rearranged for the batch kernels: levels + 128 for VNNI (unsigned times signed
 * bytes), signed levels for AVX2 (vpsignb takes them as they are).
 * Layout only: the levels and scales are those of the plain quantizers, so a packed kernel gives
 * exactly the plain kernel's results. Kept out of ref.c, whose bytes the model cache stamp hashes.
 */
#include <string.h>
#include "quant/quant.h"
#include "quant/blocks.h"
#include "quant/kernels.h"

/* Block b as block i of a packed row of nb blocks at dst; key: what the levels are xored with
 * (0x80: + 128; 0: as they are). */
static void put_block(const chord_block_q8_0 *b, uint8_t *dst, int64_t nb, int64_t i, uint8_t key) {
    for (int j = 0; j < QK8_0; j++) dst[i * QK8_0 + j] = (uint8_t)b->qs[j] ^ key;
    memcpy(dst + (uint64_t)nb * QK8_0 + 2 * i, &b->d, 2);
}

static void pack_row(const void *blocks, void *dst, int64_t n, uint8_t key) {
    const chord_block_q8_0 *b = blocks;
    for (int64_t i = 0; i < n / QK8_0; i++) put_block(b + i, dst, n / QK8_0, i, key);
}

/* ggml-cpu's activation rounding (chord_quant_q8_0_act) one block at a time, then packed. */
static void quant_packed(const float *x, void *dst, int64_t n, uint8_t key) {
    for (int64_t i = 0; i < n / QK8_0; i++) {
        chord_block_q8_0 b;
        chord_quant_q8_0_act(x + i * QK8_0, &b, QK8_0);
        put_block(&b, dst, n / QK8_0, i, key);
    }
}

void chord_pack_q8_0(const void *blocks, void *dst, int64_t n) { pack_row(blocks, dst, n, 0x80u); }
void chord_pack_q8_0_s8(const void *blocks, void *dst, int64_t n) { pack_row(blocks, dst, n, 0); }
void chord_quant_q8_0_act_packed(const float *x, void *dst, int64_t n) { quant_packed(x, dst, n, 0x80u); }
void chord_quant_q8_0_act_packed_s8(const float *x, void *dst, int64_t n) { quant_packed(x, dst, n, 0); }
