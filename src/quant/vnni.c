/*
 * vnni.c — AVX-VNNI (VEX) prompt-batch kernels of Q4_K, Q6_K and Q8_0 (x86_vnni.h), compiled
 * with -mavx2 -mfma -mf16c -mavxvnni and installed by chord_quant_init only when CPUID reports
 * AVX-VNNI (traits.c). Bit-identical to the AVX2 kernels.
 */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <string.h>
#include "quant/quant.h"
#include "quant/blocks.h"
#include "quant/kernels.h"
#include "quant/x86.h"

#define VNNI_NAME(base) base##_vnni
#define VNNI_DPWSSD _mm256_dpwssd_avx_epi32
#define VNNI_DPBUSD _mm256_dpbusd_avx_epi32
#include "quant/x86_vnni.h"

#endif
