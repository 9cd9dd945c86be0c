/*
 * quant.c — the one type-traits table (indexed by ggml's type id, as stored in GGUF files),
 * name lookup, row sizes with checked arithmetic, exact fp16/bf16 conversion, and the run-time
 * choice of the fastest kernels this CPU supports.
 *
 * Invariants: every supported entry has name, block_elems, block_bytes, vec_dot_type, to_float,
 * from_float and vec_dot_ref; vec_dot/from_float start as the scalar reference and are replaced
 * by chord_quant_init only with kernels that were tested against the reference (tests/test_quant.c).
 * from_float is always bit-identical to from_float_ref (the SIMD quantizers are exact), so models
 * and activations quantize the same bytes whatever the CPU.
 */
#include <string.h>
#include <stdatomic.h>
#include "quant/quant.h"
#include "quant/blocks.h"
#include "quant/kernels.h"

#define REF(t) .to_float = chord_dequant_##t, .from_float = chord_quant_##t##_ref, \
    .from_float_ref = chord_quant_##t##_ref, .vec_dot = chord_dot_##t##_ref,  \
    .vec_dot_ref = chord_dot_##t##_ref

static chord_type_traits traits[CHORD_TYPE_COUNT] = {
    [CHORD_TYPE_F32]  = { .name = "f32",  .block_elems = 1, .block_bytes = 4,
                          .vec_dot_type = CHORD_TYPE_F32, REF(f32) },
    [CHORD_TYPE_F16]  = { .name = "f16",  .block_elems = 1, .block_bytes = 2,
                          .vec_dot_type = CHORD_TYPE_F16, REF(f16) },
    [CHORD_TYPE_BF16] = { .name = "bf16", .block_elems = 1, .block_bytes = 2,
                          .vec_dot_type = CHORD_TYPE_BF16, REF(bf16) },
    [CHORD_TYPE_Q4_0] = { .name = "q4_0", .block_elems = QK4_0, .block_bytes = sizeof(chord_block_q4_0),
                          .vec_dot_type = CHORD_TYPE_Q8_0, REF(q4_0) },
    [CHORD_TYPE_Q4_1] = { .name = "q4_1", .block_elems = QK4_1, .block_bytes = sizeof(chord_block_q4_1),
                          .vec_dot_type = CHORD_TYPE_Q8_1, REF(q4_1) },
    [CHORD_TYPE_Q5_0] = { .name = "q5_0", .block_elems = QK5_0, .block_bytes = sizeof(chord_block_q5_0),
                          .vec_dot_type = CHORD_TYPE_Q8_0, REF(q5_0) },
    [CHORD_TYPE_Q5_1] = { .name = "q5_1", .block_elems = QK5_1, .block_bytes = sizeof(chord_block_q5_1),
                          .vec_dot_type = CHORD_TYPE_Q8_1, REF(q5_1) },
    [CHORD_TYPE_Q8_0] = { .name = "q8_0", .block_elems = QK8_0, .block_bytes = sizeof(chord_block_q8_0),
                          .vec_dot_type = CHORD_TYPE_Q8_0, REF(q8_0), .from_float_act = chord_quant_q8_0_act },
    [CHORD_TYPE_Q8_1] = { .name = "q8_1", .block_elems = QK8_1, .block_bytes = sizeof(chord_block_q8_1),
                          .vec_dot_type = CHORD_TYPE_Q8_1, REF(q8_1), .from_float_act = chord_quant_q8_1_act },
    [CHORD_TYPE_Q2_K] = { .name = "q2_K", .block_elems = QK_K, .block_bytes = sizeof(chord_block_q2_K),
                          .vec_dot_type = CHORD_TYPE_Q8_K, REF(q2_K) },
    [CHORD_TYPE_Q3_K] = { .name = "q3_K", .block_elems = QK_K, .block_bytes = sizeof(chord_block_q3_K),
                          .vec_dot_type = CHORD_TYPE_Q8_K, REF(q3_K) },
    [CHORD_TYPE_Q4_K] = { .name = "q4_K", .block_elems = QK_K, .block_bytes = sizeof(chord_block_q4_K),
                          .vec_dot_type = CHORD_TYPE_Q8_K, REF(q4_K) },
    [CHORD_TYPE_Q5_K] = { .name = "q5_K", .block_elems = QK_K, .block_bytes = sizeof(chord_block_q5_K),
                          .vec_dot_type = CHORD_TYPE_Q8_K, REF(q5_K) },
    [CHORD_TYPE_Q6_K] = { .name = "q6_K", .block_elems = QK_K, .block_bytes = sizeof(chord_block_q6_K),
                          .vec_dot_type = CHORD_TYPE_Q8_K, REF(q6_K) },
    [CHORD_TYPE_Q8_K] = { .name = "q8_K", .block_elems = QK_K, .block_bytes = sizeof(chord_block_q8_K),
                          .vec_dot_type = CHORD_TYPE_Q8_K, REF(q8_K) },
};
#undef REF

/* ---- run-time kernel selection ------------------------------------------------------------- */

/* chord_f16_mad through the F16 entry's conversions, 64 elements at a time, where the CPU or
 * build has no fused kernel (f16_mad). */
static void f16_mad_generic(uint16_t *acc, const uint16_t *v, int64_t n, float ms, float vs, int rescale) {
    const chord_type_traits *f16 = &traits[CHORD_TYPE_F16];
    float a[64], b[64];
    for (int64_t i0 = 0; i0 < n; i0 += 64) {
        const int64_t m = n - i0 < 64 ? n - i0 : 64;
        f16->to_float(acc + i0, a, m);
        if (rescale) {
            for (int64_t k = 0; k < m; k++) a[k] *= ms;
            f16->from_float(a, acc + i0, m);
            f16->to_float(acc + i0, a, m);
        }
        f16->to_float(v + i0, b, m);
        for (int64_t k = 0; k < m; k++) {
            const float p = b[k] * vs;
            a[k] = a[k] + p;
        }
        f16->from_float(a, acc + i0, m);
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
#define CHORD_HAVE_AVX2_KERNELS 1
#include <cpuid.h>
/* AVX2 and FMA through the compiler's check (which also asks the OS whether it saves the
 * 256-bit registers); F16C (CPUID.1:ECX bit 29) directly, as clang's builtin does not know it. */
static int cpu_has_avx2(void) {
    unsigned a, b, c, d;
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return 0;
    return __get_cpuid(1, &a, &b, &c, &d) && ((c >> 29) & 1u);
}

/* AVX-VNNI (CPUID.(7,1):EAX bit 4), on top of AVX2: the fused integer multiply-adds of the
 * prompt-batch kernels (chord_dot_rows_*_vnni, bit-identical to the AVX2 ones). */
static int cpu_has_avx_vnni(void) {
    unsigned a, b, c, d;
    return __get_cpuid_count(7, 1, &a, &b, &c, &d) && ((a >> 4) & 1u);
}

/* AVX512-VNNI with AVX512-VL and -BW (every CPU with VNNI has both) through the compiler's check,
 * which also asks the OS (XCR0) whether it saves the AVX-512 state: the same fused multiply-adds
 * on 256-bit registers, EVEX-encoded. */
static int cpu_has_avx512_vnni(void) {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vnni");
}

/* Installs the AVX2 kernels; each was checked against its scalar reference in test_quant. */
static void use_avx2(void) {
    chord_avx2_init();
    traits[CHORD_TYPE_F32].vec_dot  = chord_dot_f32_avx2;
    traits[CHORD_TYPE_F16].vec_dot  = chord_dot_f16_avx2;
    traits[CHORD_TYPE_BF16].vec_dot = chord_dot_bf16_avx2;
    traits[CHORD_TYPE_Q4_0].vec_dot = chord_dot_q4_0_avx2;
    traits[CHORD_TYPE_Q4_1].vec_dot = chord_dot_q4_1_avx2;
    traits[CHORD_TYPE_Q5_0].vec_dot = chord_dot_q5_0_avx2;
    traits[CHORD_TYPE_Q5_1].vec_dot = chord_dot_q5_1_avx2;
    traits[CHORD_TYPE_Q8_0].vec_dot = chord_dot_q8_0_avx2;
    traits[CHORD_TYPE_Q2_K].vec_dot = chord_dot_q2_K_avx2;
    traits[CHORD_TYPE_Q3_K].vec_dot = chord_dot_q3_K_avx2;
    traits[CHORD_TYPE_Q4_K].vec_dot = chord_dot_q4_K_avx2;
    traits[CHORD_TYPE_Q5_K].vec_dot = chord_dot_q5_K_avx2;
    traits[CHORD_TYPE_Q6_K].vec_dot = chord_dot_q6_K_avx2;
    traits[CHORD_TYPE_Q4_K].vec_dot_rows = chord_dot_rows_q4_K_avx2;
    traits[CHORD_TYPE_Q6_K].vec_dot_rows = chord_dot_rows_q6_K_avx2;
    traits[CHORD_TYPE_Q4_K].vec_dot_tile = chord_dot_tile_q4_K_avx2;
    traits[CHORD_TYPE_Q8_0].vec_dot_rows = chord_dot_rows_q8_0_avx2;
    traits[CHORD_TYPE_Q4_0].vec_dot_rows = chord_dot_rows_q4_0_avx2;
    traits[CHORD_TYPE_Q4_1].vec_dot_rows = chord_dot_rows_q4_1_avx2;
    traits[CHORD_TYPE_Q5_0].vec_dot_rows = chord_dot_rows_q5_0_avx2;
    traits[CHORD_TYPE_Q5_1].vec_dot_rows = chord_dot_rows_q5_1_avx2;
    traits[CHORD_TYPE_Q5_K].vec_dot_rows = chord_dot_rows_q5_K_avx2;
    /* Q8_0 prompt batches: packed activations and the register-tiled kernel (x86_tile_q8.h) */
    /* the signed-level layout (kernels.h), which the VNNI branches below replace by + 128 */
    traits[CHORD_TYPE_Q8_0].from_float_act_packed = chord_quant_q8_0_act_packed_s8;
    traits[CHORD_TYPE_Q8_0].vec_dot_rows_packed = chord_dot_rows_q8_0_packed_s8_avx2;
    traits[CHORD_TYPE_Q8_0].vec_dot_tile_packed = chord_dot_tile_q8_0_packed_s8_avx2;
    /* decode matvecs: 4 weight rows per pass, each its own memory stream (x86_wrows.h), on every
     * AVX2 CPU: also where the single-row dots are VNNI's (Zen 5, bench/run.sh with the single-row
     * VNNI build beside it, 1 / 2 threads: Q4_K_M decode 27.4 / 46.7 vs 23.6 / 41.2 tok/s, Q8_0
     * 23.2 / 32.1 vs 21.5 / 30.8) */
    traits[CHORD_TYPE_Q4_K].vec_dot_wrows = chord_dot_wrows_q4_K_avx2;
    traits[CHORD_TYPE_Q6_K].vec_dot_wrows = chord_dot_wrows_q6_K_avx2;
    traits[CHORD_TYPE_Q8_0].vec_dot_wrows = chord_dot_wrows_q8_0_avx2;
    /* AVX512-VNNI first where a CPU has both (AMD Zen 5 EPYC reports AVX-VNNI too): its 32
     * registers carry the 8-row K-quant kernels, and the Q8_0 prompt tile runs on zmm, two blocks
     * per register (avx512vnni_q8.c; Zen 5, bench_kernels --prompt, cycles per 256 weights x
     * token: AVX2 16.1, ymm 2 x 4 tile 10.1 / 8.8 at 8 / 64 tokens, zmm 4 x 4 tile 7.4 / 6.0); the
     * Q4_K and Q6_K prompt tiles on zmm (avx512vnni_k.c; Zen 5: 8.5 -> 4.5 and 8.1 -> 4.4 cycles,
     * tok 64; TinyLlama Q4_K_M prefill 65 -> ~100 tok/s at 1 thread, 1.3x llama.cpp) */
    if (cpu_has_avx512_vnni()) {
        traits[CHORD_TYPE_Q4_K].vec_dot_rows = chord_dot_rows_q4_K_avx512vnni;
        traits[CHORD_TYPE_Q4_K].vec_dot_tile = chord_dot_tile_q4_K_avx512vnni;
        traits[CHORD_TYPE_Q6_K].vec_dot_rows = chord_dot_rows_q6_K_avx512vnni;
        traits[CHORD_TYPE_Q6_K].vec_dot_tile = chord_dot_tile_q6_K_avx512vnni;
        traits[CHORD_TYPE_Q8_0].vec_dot_rows = chord_dot_rows_q8_0_avx512vnni;
        traits[CHORD_TYPE_Q8_0].vec_dot_rows_packed = chord_dot_rows_q8_0_packed_avx512vnni;
        traits[CHORD_TYPE_Q8_0].vec_dot_tile_packed = chord_dot_tile_q8_0_packed_avx512;
        traits[CHORD_TYPE_Q4_K].vec_dot = chord_dot_q4_K_avx512vnni;
        traits[CHORD_TYPE_Q6_K].vec_dot = chord_dot_q6_K_avx512vnni;
        traits[CHORD_TYPE_Q8_0].vec_dot = chord_dot_q8_0_avx512vnni;
        /* decode: the 4-row kernels on 512-bit registers with vpdpwssd (avx512vnni_wrows.c);
         * Zen 5, bench_kernels decode GB/s, AVX2 -> these: Q4_K 23.7 -> 32.9 from DRAM, 24.0 ->
         * 43.1 L2-resident; Q6_K 30.3 -> 40.1, 34.8 -> 72.1 */
        traits[CHORD_TYPE_Q4_K].vec_dot_wrows = chord_dot_wrows_q4_K_avx512vnni;
        traits[CHORD_TYPE_Q6_K].vec_dot_wrows = chord_dot_wrows_q6_K_avx512vnni;
        traits[CHORD_TYPE_Q8_0].from_float_act_packed = chord_quant_q8_0_act_packed;
    } else if (cpu_has_avx_vnni()) {
        traits[CHORD_TYPE_Q4_K].vec_dot_rows = chord_dot_rows_q4_K_vnni;
        traits[CHORD_TYPE_Q4_K].vec_dot_tile = NULL; /* the VNNI rows kernel instead (not measured against it) */
        traits[CHORD_TYPE_Q6_K].vec_dot_rows = chord_dot_rows_q6_K_vnni;
        traits[CHORD_TYPE_Q8_0].vec_dot_rows = chord_dot_rows_q8_0_vnni;
        traits[CHORD_TYPE_Q8_0].vec_dot_rows_packed = chord_dot_rows_q8_0_packed_vnni;
        /* the prompt tile is the AVX2 one over the + 128 layout: a VEX AVX-VNNI form was written
         * but could not be run on any machine this project had, so it was not kept */
        traits[CHORD_TYPE_Q8_0].vec_dot_tile_packed = chord_dot_tile_q8_0_packed_avx2;
        traits[CHORD_TYPE_Q4_K].vec_dot = chord_dot_q4_K_vnni;
        traits[CHORD_TYPE_Q6_K].vec_dot = chord_dot_q6_K_vnni;
        traits[CHORD_TYPE_Q8_0].vec_dot = chord_dot_q8_0_vnni;
        traits[CHORD_TYPE_Q8_0].from_float_act_packed = chord_quant_q8_0_act_packed;
    }
    traits[CHORD_TYPE_Q8_0].from_float = chord_quant_q8_0_avx2;
    traits[CHORD_TYPE_Q8_1].from_float = chord_quant_q8_1_avx2;
    traits[CHORD_TYPE_Q8_K].from_float = chord_quant_q8_K_avx2;
    traits[CHORD_TYPE_F16].from_float  = chord_quant_f16_avx2;
    traits[CHORD_TYPE_F16].to_float    = chord_dequant_f16_avx2;
    traits[CHORD_TYPE_F16].f16_mad     = chord_f16_mad_avx2;
}
#else
#define CHORD_HAVE_AVX2_KERNELS 0
#endif

/* Other targets: a per-ISA dispatch file (src/quant/dispatch_<isa>.c, e.g. wasm simd128) built
 * with -DCHORD_QUANT_EXTRA_ISA defines this; it may replace vec_dot / from_float / to_float of any
 * entry with kernels it tested against the *_ref ones, and names its kernel set. */
#if defined(CHORD_QUANT_EXTRA_ISA)
void chord_quant_install_isa(chord_type_traits *table, const char **isa_name);
#endif

static const char *isa = "scalar";

/* 0 = not started, 1 = in progress, 2 = done. The first caller fills the table; concurrent
 * callers wait for it, so nobody reads a half-updated table. */
static atomic_int init_state;

void chord_quant_init(void) {
    int expected = 0;
    if (atomic_load_explicit(&init_state, memory_order_acquire) == 2) return;
    if (atomic_compare_exchange_strong(&init_state, &expected, 1)) {
#if CHORD_HAVE_AVX2_KERNELS
        if (cpu_has_avx2()) { use_avx2(); isa = "avx2"; }
#endif
#if defined(CHORD_QUANT_EXTRA_ISA)
        chord_quant_install_isa(traits, &isa);
#endif
        atomic_store_explicit(&init_state, 2, memory_order_release);
        return;
    }
    while (atomic_load_explicit(&init_state, memory_order_acquire) != 2) { /* spin: microseconds */ }
}

const char *chord_quant_isa(void) {
    chord_quant_init();
    return isa;
}

void chord_f16_mad(uint16_t *acc, const uint16_t *v, int64_t n, float ms, float vs, int rescale) {
    chord_quant_init();
    if (traits[CHORD_TYPE_F16].f16_mad) traits[CHORD_TYPE_F16].f16_mad(acc, v, n, ms, vs, rescale);
    else f16_mad_generic(acc, v, n, ms, vs, rescale);
}

void chord_vec_dot_rows(const chord_type_traits *t, int64_t n, const void *x, const void *y,
                        uint64_t y_stride, int ny, float *out) {
    if (t->vec_dot_rows) { t->vec_dot_rows(n, x, y, y_stride, ny, out); return; }
    for (int k = 0; k < ny; k++) out[k] = t->vec_dot(n, x, (const uint8_t *)y + (uint64_t)k * y_stride);
}

void chord_vec_dot_wrows(const chord_type_traits *t, int64_t n, const void *x, uint64_t x_stride, int nx,
                         const void *y, float *out) {
    const uint8_t *w = x;
    int k = 0;
    if (t->vec_dot_wrows)
        while (nx - k >= 2) {
            const int c = nx - k < CHORD_WROWS_MAX ? nx - k : CHORD_WROWS_MAX;
            t->vec_dot_wrows(n, w + (uint64_t)k * x_stride, x_stride, c, y, out + k);
            k += c;
        }
    for (; k < nx; k++) out[k] = t->vec_dot(n, w + (uint64_t)k * x_stride, y);
}

/* ---- lookup -------------------------------------------------------------------------------- */

const chord_type_traits *chord_type_get(uint32_t type) {
    if (type >= CHORD_TYPE_COUNT || !traits[type].name) return NULL;
    chord_quant_init();
    return &traits[type];
}

const char *chord_type_name(uint32_t type) {
    if (type >= CHORD_TYPE_COUNT || !traits[type].name) return "?";
    return traits[type].name;
}

static int lower(int c) { return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c; }

int chord_type_from_name(const char *name) {
    if (!name) return -1;
    for (int t = 0; t < CHORD_TYPE_COUNT; t++) {
        const char *a = traits[t].name, *b = name;
        if (!a) continue;
        while (*a && *b && lower((unsigned char)*a) == lower((unsigned char)*b)) { a++; b++; }
        if (!*a && !*b) return t;
    }
    return -1;
}

chord_status chord_type_row_bytes(uint32_t type, uint64_t n, uint64_t *out) {
    if (out) *out = 0;
    if (type >= CHORD_TYPE_COUNT || !traits[type].name) return CHORD_E_UNSUPPORTED;
    const chord_type_traits *t = &traits[type];
    if (n % t->block_elems != 0) return CHORD_E_FORMAT;
    uint64_t blocks = n / t->block_elems;
    if (blocks > UINT64_MAX / t->block_bytes) return CHORD_E_RANGE;
    if (out) *out = blocks * t->block_bytes;
    return CHORD_OK;
}

/* ---- fp16 / bf16 ----------------------------------------------------------------------------
 * Exact IEEE conversions in integer arithmetic (no dependence on F16C or the FPU's rounding
 * mode), matching ggml bit for bit: fp32->fp16 rounds to nearest even, overflows to infinity,
 * and turns every NaN into 0x7E00 with the sign kept; fp16->fp32 is exact and returns quiet
 * NaNs (ggml's float multiply quiets signalling ones). */

static uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

float chord_fp16_to_fp32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
    if (exp == 0) {                       /* zero or subnormal: mant * 2^-24, exact */
        float v = (float)mant * 0x1.0p-24f;
        return u2f(f2u(v) | sign);
    }
    if (exp == 31) {                      /* inf or NaN (NaN made quiet) */
        uint32_t bits = 0x7f800000u | (mant << 13);
        if (mant) bits |= 0x00400000u;
        return u2f(sign | bits);
    }
    return u2f(sign | ((exp + 112u) << 23) | (mant << 13));
}

uint16_t chord_fp32_to_fp16(float f) {
    uint32_t x = f2u(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    x &= 0x7fffffffu;
    if (x > 0x7f800000u) return (uint16_t)(sign | 0x7e00u);        /* NaN */
    if (x >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);       /* >= 65520 rounds to inf */
    if (x < 0x38800000u) {               /* below 2^-14: subnormal half = round(|f| * 2^24) */
        uint32_t e = x >> 23;
        if (e < 102u) return sign;       /* below 2^-25: rounds to zero (2^-25 itself ties to 0) */
        uint32_t m = (x & 0x7fffffu) | 0x800000u, shift = 126u - e;   /* shift in 14..24 */
        uint32_t r = m >> shift, rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1u);
        if (rem > half || (rem == half && (r & 1u))) r++;
        return (uint16_t)(sign | r);
    }
    uint32_t h = ((x >> 23) - 112u) << 10 | ((x >> 13) & 0x3ffu);
    uint32_t rem = x & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) h++;       /* carry may bump exponent */
    return (uint16_t)(sign | h);
}

float chord_bf16_to_fp32(uint16_t h) { return u2f((uint32_t)h << 16); }

uint16_t chord_fp32_to_bf16(float f) {
    uint32_t x = f2u(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 64u);  /* quiet NaN */
    return (uint16_t)((x + (0x7fffu + ((x >> 16) & 1u))) >> 16);
}
