/*
 * avx512vnni.c — AVX512-VNNI + AVX512-VL/BW (EVEX encodings on 256-bit registers) prompt-batch
 * kernels of Q4_K, Q6_K and Q8_0 (x86_vnni.h), compiled with -mavx2 -mfma -mf16c -mavx512f
 * -mavx512vl -mavx512bw -mavx512vnni and installed by chord_quant_init only when the CPU and the
 * OS report AVX512F/VL/BW/VNNI (preferred to AVX-VNNI where a CPU has both; traits.c).
 * Bit-identical to the AVX2 kernels.
 */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <string.h>
#include "quant/quant.h"
#include "quant/blocks.h"
#include "quant/kernels.h"
#include "quant/x86.h"

#define VNNI_NAME(base) base##_avx512vnni
#define VNNI_DPWSSD _mm256_dpwssd_epi32
#define VNNI_DPBUSD _mm256_dpbusd_epi32
#define VNNI_KROWS 8  /* ymm16-31 hold the accumulators of rows 5-8 */
#include "quant/x86_vnni.h"

#endif
