/*
 * quant_kernels.h — internal declarations of every kernel the traits table points at: scalar
 * reference kernels (ref.c, ref_k.c) and per-ISA kernels (src/quant/<isa>.c). The
 * signatures are the traits' function types so tests and benches can call any of them directly.
 *
 * Naming: chord_dequant_<type> (to_float), chord_quant_<type>_ref (from_float, reference),
 * chord_dot_<type>_ref (vec_dot against the type's vec_dot_type), and _avx2 variants.
 */
#ifndef CHORD_QUANT_KERNELS_H
#define CHORD_QUANT_KERNELS_H

#include <stdint.h>
#include "quant/quant.h"

/* One line per type: X(name) expands the three reference kernels. */
#define CHORD_REF_TYPES(X) \
    X(f32) X(f16) X(bf16) X(q4_0) X(q4_1) X(q5_0) X(q5_1) X(q8_0) X(q8_1) \
    X(q2_K) X(q3_K) X(q4_K) X(q5_K) X(q6_K) X(q8_K)

#define CHORD_DECLARE_REF(t) \
    void chord_dequant_##t(const void *src, float *dst, int64_t n); \
    void chord_quant_##t##_ref(const float *src, void *dst, int64_t n); \
    float chord_dot_##t##_ref(int64_t n, const void *x, const void *y);
CHORD_REF_TYPES(CHORD_DECLARE_REF)
#undef CHORD_DECLARE_REF

/* Activation quantizers with ggml-cpu's rounding (ref.c; traits.from_float_act). */
void chord_quant_q8_0_act(const float *src, void *dst, int64_t n);
void chord_quant_q8_1_act(const float *src, void *dst, int64_t n);

/* Q8_0 activations in the packed prompt layout of the VNNI batch kernels: a row of nb blocks is
 * nb*32 bytes of levels stored as (uint8_t)(q ^ 0x80) = q + 128, then the nb fp16 scales, so
 * nb*34 bytes like the plain row. vpdpbusd multiplies unsigned by signed bytes: q + 128 times the
 * weight's signed levels, minus 128 times the weight's sums (computed once per weight block),
 * is the exact signed sum without a per-row sign fix-up; the contiguous scales convert 8 at a
 * time. The levels come from chord_quant_q8_0_act, so q is in -127..127.
 * The _s8 form is the same layout with the levels stored as they are (signed): the AVX2 kernels
 * (vpsignb + vpmaddubsw) need signed levels, and undoing the + 128 cost them an xor per token
 * block. Which form a CPU's kernels take is its Q8_0 from_float_act_packed (traits.c). */
void chord_pack_q8_0(const void *blocks, void *dst, int64_t n);          /* plain -> packed row */
void chord_quant_q8_0_act_packed(const float *src, void *dst, int64_t n); /* act quantizer, packed */
void chord_pack_q8_0_s8(const void *blocks, void *dst, int64_t n);          /* the same, signed levels */
void chord_quant_q8_0_act_packed_s8(const float *src, void *dst, int64_t n);

/* AVX2 + FMA + F16C kernels (src/quant/avx2.c); only called after a CPU check, and after
 * chord_avx2_init has filled their tables. */
void chord_avx2_init(void);
float chord_dot_f32_avx2(int64_t n, const void *x, const void *y);
float chord_dot_f16_avx2(int64_t n, const void *x, const void *y);
float chord_dot_bf16_avx2(int64_t n, const void *x, const void *y);
float chord_dot_q4_0_avx2(int64_t n, const void *x, const void *y);
float chord_dot_q4_1_avx2(int64_t n, const void *x, const void *y);
float chord_dot_q5_0_avx2(int64_t n, const void *x, const void *y);
float chord_dot_q5_1_avx2(int64_t n, const void *x, const void *y);
float chord_dot_q8_0_avx2(int64_t n, const void *x, const void *y);
float chord_dot_q2_K_avx2(int64_t n, const void *x, const void *y);
float chord_dot_q3_K_avx2(int64_t n, const void *x, const void *y);
float chord_dot_q4_K_avx2(int64_t n, const void *x, const void *y);
float chord_dot_q5_K_avx2(int64_t n, const void *x, const void *y);
float chord_dot_q6_K_avx2(int64_t n, const void *x, const void *y);
/* One weight row against ny activation rows (stride ys bytes); each out[k] is bit-identical
 * to the single-row kernel's result. */
void chord_dot_rows_q4_K_avx2(int64_t n, const void *x, const void *y, uint64_t ys, int ny, float *out);
void chord_dot_rows_q6_K_avx2(int64_t n, const void *x, const void *y, uint64_t ys, int ny, float *out);
/* the Q4_K prompt tile over plain Q8_K rows (x86_prompt_k.h) */
void chord_dot_tile_q4_K_avx2(int64_t n, const void *x, uint64_t xs, int nx, const void *y, uint64_t ys, int ny,
                              float *out, uint64_t os);
void chord_dot_rows_q8_0_avx2(int64_t n, const void *x, const void *y, uint64_t ys, int ny, float *out);
void chord_dot_rows_q4_0_avx2(int64_t n, const void *x, const void *y, uint64_t ys, int ny, float *out);
void chord_dot_rows_q4_1_avx2(int64_t n, const void *x, const void *y, uint64_t ys, int ny, float *out);
void chord_dot_rows_q5_0_avx2(int64_t n, const void *x, const void *y, uint64_t ys, int ny, float *out);
void chord_dot_rows_q5_1_avx2(int64_t n, const void *x, const void *y, uint64_t ys, int ny, float *out);
void chord_dot_rows_q5_K_avx2(int64_t n, const void *x, const void *y, uint64_t ys, int ny, float *out);
/* The decode shape (quant.h chord_vec_dot_wrows_fn): nx = 2..4 weight rows (stride xs bytes)
 * against one activation row (x86_wrows.h); each out[k] bit-identical to the single-row kernel's. */
void chord_dot_wrows_q4_K_avx2(int64_t n, const void *x, uint64_t xs, int nx, const void *y, float *out);
void chord_dot_wrows_q6_K_avx2(int64_t n, const void *x, uint64_t xs, int nx, const void *y, float *out);
void chord_dot_wrows_q8_0_avx2(int64_t n, const void *x, uint64_t xs, int nx, const void *y, float *out);
/* Q4_K and Q6_K's decode shape on 512-bit registers with vpdpwssd (src/quant/avx512vnni_wrows.c),
 * bit-identical to the AVX2 ones; installed only when CPUID reports AVX512F/VL/BW/VNNI. */
void chord_dot_wrows_q4_K_avx512vnni(int64_t n, const void *x, uint64_t xs, int nx, const void *y, float *out);
void chord_dot_wrows_q6_K_avx512vnni(int64_t n, const void *x, uint64_t xs, int nx, const void *y, float *out);
/* The same three with AVX-VNNI (src/quant/vnni.c): bit-identical to the
 * AVX2 ones; installed only when CPUID reports AVX-VNNI. */
void chord_dot_rows_q4_K_vnni(int64_t n, const void *x, const void *y, uint64_t ys, int ny, float *out);
void chord_dot_rows_q6_K_vnni(int64_t n, const void *x, const void *y, uint64_t ys, int ny, float *out);
void chord_dot_rows_q8_0_vnni(int64_t n, const void *x, const void *y, uint64_t ys, int ny, float *out);
/* The same three with AVX512-VNNI + AVX512-VL on 256-bit registers (src/quant/avx512vnni.c), for
 * CPUs that have those but not AVX-VNNI (Xeon since Cascade Lake, AMD Zen 4/5 EPYC). */
void chord_dot_rows_q4_K_avx512vnni(int64_t n, const void *x, const void *y, uint64_t ys, int ny, float *out);
void chord_dot_rows_q6_K_avx512vnni(int64_t n, const void *x, const void *y, uint64_t ys, int ny, float *out);
void chord_dot_rows_q8_0_avx512vnni(int64_t n, const void *x, const void *y, uint64_t ys, int ny, float *out);
/* Single-row (decode) forms of the same kernels: bit-identical to chord_dot_*_avx2. */
float chord_dot_q4_K_vnni(int64_t n, const void *x, const void *y);
float chord_dot_q6_K_vnni(int64_t n, const void *x, const void *y);
float chord_dot_q8_0_vnni(int64_t n, const void *x, const void *y);
float chord_dot_q4_K_avx512vnni(int64_t n, const void *x, const void *y);
float chord_dot_q6_K_avx512vnni(int64_t n, const void *x, const void *y);
float chord_dot_q8_0_avx512vnni(int64_t n, const void *x, const void *y);
/* Q8_0 weight rows against packed activation rows (chord_pack_q8_0): bit-identical to
 * chord_dot_q8_0_avx2 on the plain rows. */
void chord_dot_rows_q8_0_packed_avx2(int64_t n, const void *x, const void *y, uint64_t ys, int ny, float *out);
/* the same against the signed-level layout (chord_pack_q8_0_s8): AVX2-only CPUs */
void chord_dot_rows_q8_0_packed_s8_avx2(int64_t n, const void *x, const void *y, uint64_t ys, int ny, float *out);
void chord_dot_rows_q8_0_packed_vnni(int64_t n, const void *x, const void *y, uint64_t ys, int ny, float *out);
void chord_dot_rows_q8_0_packed_avx512vnni(int64_t n, const void *x, const void *y, uint64_t ys, int ny, float *out);
/* The prompt tile of Q8_0 (quant.h chord_vec_dot_tile_fn) against packed activation rows
 * (x86_tile_q8.h), register-blocked 2 weight rows x 2 tokens (AVX2: 16 registers; used on AVX-VNNI
 * CPUs), 1 x 4 over the signed-level layout (_s8: AVX2-only CPUs) or 2 x 4 (AVX512-VNNI);
 * bit-identical to vec_dot. */
void chord_dot_tile_q8_0_packed_avx2(int64_t n, const void *x, uint64_t xs, int nx, const void *y,
                                     uint64_t ys, int ny, float *out, uint64_t os);
void chord_dot_tile_q8_0_packed_s8_avx2(int64_t n, const void *x, uint64_t xs, int nx, const void *y,
                                        uint64_t ys, int ny, float *out, uint64_t os);
void chord_dot_tile_q8_0_packed_avx512vnni(int64_t n, const void *x, uint64_t xs, int nx, const void *y,
                                           uint64_t ys, int ny, float *out, uint64_t os);
/* The same tile on 512-bit registers (src/quant/avx512vnni_q8.c): a zmm holds two blocks' lanes
 * interleaved by dword, 4 weight rows x 4 tokens per register block; bit-identical to vec_dot. */
void chord_dot_tile_q8_0_packed_avx512(int64_t n, const void *x, uint64_t xs, int nx, const void *y,
                                       uint64_t ys, int ny, float *out, uint64_t os);
/* The Q4_K and Q6_K prompt tiles over plain Q8_K rows on 512-bit registers, two tokens per zmm
 * (src/quant/avx512vnni_k.c) */
void chord_dot_tile_q4_K_avx512vnni(int64_t n, const void *x, uint64_t xs, int nx, const void *y, uint64_t ys, int ny,
                                    float *out, uint64_t os);
void chord_dot_tile_q6_K_avx512vnni(int64_t n, const void *x, uint64_t xs, int nx, const void *y, uint64_t ys, int ny,
                                    float *out, uint64_t os);
/* Activation quantizers and conversions: bit-identical to the reference ones (tested). */
void chord_quant_q8_0_avx2(const float *src, void *dst, int64_t n);
void chord_quant_q8_1_avx2(const float *src, void *dst, int64_t n);
void chord_quant_q8_K_avx2(const float *src, void *dst, int64_t n);
void chord_quant_f16_avx2(const float *src, void *dst, int64_t n);
void chord_dequant_f16_avx2(const void *src, float *dst, int64_t n);
void chord_f16_mad_avx2(uint16_t *acc, const uint16_t *v, int64_t n, float ms, float vs, int rescale);

/* 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K block, from the 12 packed bytes:
 * sub-blocks 0..3 use the low 6 bits of bytes j and j+4; 4..7 take 4 bits from byte j+4 and the
 * top 2 bits of bytes j-4 (scale) and j (min). */
static inline void chord_k_scale_min(int j, const uint8_t *q, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = q[j] & 63; *m = q[j + 4] & 63;
    } else {
        *sc = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

#endif
