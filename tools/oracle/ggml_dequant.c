/*
 * ggml_dequant.c — bit-exact proof of our tensor formats against llama.cpp's own ggml (the
 * prebuilt libggml-base.so from npm node-llama-cpp, tag v0.5.0). Two modes:
 *
 *   ggml_dequant random [--seed S]   for every type: quantize the same pseudo-random inputs
 *                                    (11 distributions, edge cases included) with ggml's reference
 *                                    quantizer and ours and compare the bytes; dequantize ggml's
 *                                    bytes and fully random bytes with both and memcmp the floats;
 *                                    fp16/bf16 conversions on all 65536 halves and a sweep of
 *                                    floats. Prints one table row per type.
 *   ggml_dequant file [--source F32.gguf] FILE...
 *                                    dequantize every tensor of GGUF files (e.g. written by
 *                                    llama_model_quantize) with both and memcmp the floats; with
 *                                    --source (the F32 file they were quantized from) also
 *                                    quantize each tensor with our quantizer and compare bytes.
 *
 * Exit status 0 only if every dequantization is bit-identical and every quantizer we claim is
 * bit-exact (all of them) produced identical bytes. ggml's functions are reached through
 * ggml_get_type_traits(), whose struct layout comes from this version's ggml.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "ggml.h"
#include "quant/quant.h"
#include "gguf/gguf.h"

static const uint32_t TYPES[] = {
    CHORD_TYPE_F32, CHORD_TYPE_F16, CHORD_TYPE_BF16, CHORD_TYPE_Q4_0, CHORD_TYPE_Q4_1,
    CHORD_TYPE_Q5_0, CHORD_TYPE_Q5_1, CHORD_TYPE_Q8_0, CHORD_TYPE_Q8_1, CHORD_TYPE_Q2_K,
    CHORD_TYPE_Q3_K, CHORD_TYPE_Q4_K, CHORD_TYPE_Q5_K, CHORD_TYPE_Q6_K, CHORD_TYPE_Q8_K,
};
#define N_TYPES (sizeof TYPES / sizeof TYPES[0])

/* ggml's own functions for a type. Its traits table leaves Q8_K (and Q8_1's dequantize, which
 * ggml does not have) empty, but libggml-base exports the Q8_K row functions directly. F32 has
 * no converter in ggml: its "dequantize" is the identity, compared as such. */
void quantize_row_q8_K_ref(const float *x, void *y, int64_t k);
void dequantize_row_q8_K(const void *x, float *y, int64_t k);

static void ggml_funcs(uint32_t type, ggml_to_float_t *to, ggml_from_float_t *from) {
    const struct ggml_type_traits *gt = ggml_get_type_traits((enum ggml_type)type);
    *to = gt->to_float;
    *from = gt->from_float_ref;
    if (type == CHORD_TYPE_Q8_K) { *to = dequantize_row_q8_K; *from = quantize_row_q8_K_ref; }
}

/* ---- deterministic random source ---------------------------------------------------------- */

static uint64_t rng_state;
static uint64_t rng_u64(void) {           /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static float rng_unif(void) { return (float)(rng_u64() >> 40) / 16777216.0f; }   /* [0,1) */
static float rng_gauss(void) {
    float u = rng_unif() + 1e-7f, v = rng_unif();
    return sqrtf(-2.0f * logf(u)) * cosf(6.2831853f * v);
}

/* Fills x with distribution d (0..9) — chosen to reach every branch of the quantizers. */
static const char *DIST_NAMES[] = { "normal", "weights", "uniform", "outliers", "positive",
    "negative", "sparse", "zeros", "constant", "magnitudes", "tiny" };
#define N_DIST 11
static void fill(float *x, int64_t n, int d) {
    for (int64_t i = 0; i < n; i++) {
        float g = rng_gauss();
        switch (d) {
        case 0: x[i] = g; break;
        case 1: x[i] = 0.02f * g; break;
        case 2: x[i] = 2 * rng_unif() - 1; break;
        case 3: x[i] = (rng_u64() % 61 == 0) ? 50 * g : g; break;
        case 4: x[i] = rng_unif() + 0.01f; break;
        case 5: x[i] = -rng_unif() - 0.01f; break;
        case 6: x[i] = (rng_u64() % 7 == 0) ? g : 0.0f; break;
        case 7: x[i] = 0.0f; break;
        case 8: x[i] = (float)((i / 16) % 5) * 0.25f - 0.5f; break;   /* constant per 16 */
        case 9: x[i] = g * powf(10.0f, (float)((int)((i / 32) % 13) - 9)); break; /* 1e-9..1e3 */
        default: x[i] = g * powf(10.0f, (float)(-(int)((i / 32) % 8) - 33)); break; /* 1e-33..1e-40 */
        }
    }
}

/* ---- per-type comparison ------------------------------------------------------------------- */

typedef struct { long quant_blocks, quant_diff, deq_vals, deq_diff, raw_vals, raw_diff; } stats;

static size_t count_diff_blocks(const uint8_t *a, const uint8_t *b, size_t n_blocks, size_t bb) {
    size_t d = 0;
    for (size_t i = 0; i < n_blocks; i++) d += memcmp(a + i * bb, b + i * bb, bb) != 0;
    return d;
}

static size_t count_diff_floats(const float *a, const float *b, size_t n) {
    size_t d = 0;
    for (size_t i = 0; i < n; i++) d += memcmp(&a[i], &b[i], 4) != 0;
    return d;
}

static void run_type(uint32_t type, stats *st) {
    const chord_type_traits *ct = chord_type_get(type);
    ggml_to_float_t g_to;
    ggml_from_float_t g_from;
    ggml_funcs(type, &g_to, &g_from);
    const int64_t n = 256 * 64;
    const size_t n_blocks = (size_t)(n / ct->block_elems), bytes = n_blocks * ct->block_bytes;
    float *x = malloc((size_t)n * 4), *yg = malloc((size_t)n * 4), *yc = malloc((size_t)n * 4);
    uint8_t *qg = calloc(1, bytes), *qc = calloc(1, bytes), *qf = calloc(1, bytes);
    for (int d = 0; d < N_DIST; d++) {
        fill(x, n, d);
        memset(qg, 0, bytes); memset(qc, 0, bytes); memset(qf, 0, bytes);
        if (g_from) g_from(x, qg, n);
        else memcpy(qg, x, bytes);                           /* F32 has no converter in ggml */
        ct->from_float_ref(x, qc, n);
        ct->from_float(x, qf, n);                           /* the dispatched (SIMD) quantizer */
        size_t dq = count_diff_blocks(qg, qc, n_blocks, ct->block_bytes);
        size_t df = count_diff_blocks(qc, qf, n_blocks, ct->block_bytes);
        st->quant_blocks += (long)n_blocks;
        st->quant_diff += (long)(dq + df);
        if (dq) fprintf(stderr, "  %s %s: %zu of %zu blocks quantize differently from ggml\n",
                        ct->name, DIST_NAMES[d], dq, n_blocks);
        if (df) fprintf(stderr, "  %s %s: dispatched quantizer differs from reference in %zu blocks\n",
                        ct->name, DIST_NAMES[d], df);
        if (!g_to && type != CHORD_TYPE_F32) continue;   /* Q8_1: ggml cannot dequantize */
        if (g_to) g_to(qg, yg, n);
        else memcpy(yg, qg, bytes);
        ct->to_float(qg, yc, n);
        size_t dd = count_diff_floats(yg, yc, (size_t)n);
        st->deq_vals += n; st->deq_diff += (long)dd;
        if (dd) fprintf(stderr, "  %s %s: %zu of %lld dequantized values differ\n", ct->name,
                        DIST_NAMES[d], dd, (long long)n);
    }
    /* arbitrary bytes: every bit pattern a hostile or odd file could hold, NaN/inf scales too */
    for (int rep = 0; rep < 8 && (g_to || type == CHORD_TYPE_F32); rep++) {
        for (size_t i = 0; i < bytes; i++) qg[i] = (uint8_t)rng_u64();
        if (g_to) g_to(qg, yg, n);
        else memcpy(yg, qg, bytes);
        ct->to_float(qg, yc, n);
        size_t dd = count_diff_floats(yg, yc, (size_t)n);
        st->raw_vals += n; st->raw_diff += (long)dd;
        if (dd) fprintf(stderr, "  %s random bytes: %zu values differ\n", ct->name, dd);
    }
    free(x); free(yg); free(yc); free(qg); free(qc); free(qf);
}

/* fp16 <-> fp32 and bf16 <-> fp32 against ggml: all 65536 halves, and floats on a stride plus
 * the rounding boundaries (midpoints between adjacent halves, and one ulp either side). */
static long check_conversions(void) {
    long bad = 0, n = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float a = ggml_fp16_to_fp32((ggml_fp16_t)h), b = chord_fp16_to_fp32((uint16_t)h);
        float c = ggml_bf16_to_fp32((ggml_bf16_t){ (uint16_t)h }), e = chord_bf16_to_fp32((uint16_t)h);
        bad += memcmp(&a, &b, 4) != 0;
        bad += memcmp(&c, &e, 4) != 0;
        n += 2;
        uint32_t mid = 0;
        memcpy(&mid, &b, 4);
        for (int k = -1; k <= 1; k++) {     /* around this half's exact value and its midpoint */
            uint32_t bits[2] = { mid + (uint32_t)k, mid + 0x1000u + (uint32_t)k };
            for (int j = 0; j < 2; j++) {
                float f;
                memcpy(&f, &bits[j], 4);
                bad += ggml_fp32_to_fp16(f) != chord_fp32_to_fp16(f);
                n++;
            }
        }
    }
    for (uint64_t u = 0; u < (1ull << 32); u += 4099) {
        float f;
        uint32_t bits = (uint32_t)u;
        memcpy(&f, &bits, 4);
        bad += ggml_fp32_to_fp16(f) != chord_fp32_to_fp16(f);
        bad += ggml_fp32_to_bf16(f).bits != chord_fp32_to_bf16(f);
        n += 2;
    }
    printf("conversions: %ld checked (all 65536 halves and bf16s, fp16 rounding boundaries, "
           "a stride of floats): %ld differ\n", n, bad);
    return bad;
}

static int cmd_random(uint64_t seed) {
    rng_state = seed;
    long bad = check_conversions();
    printf("%-5s | %-10s | %-24s | %-24s | %s\n", "type", "quantize", "dequant (ggml-quantized)",
           "dequant (random bytes)", "result");
    for (size_t i = 0; i < N_TYPES; i++) {
        stats st = {0};
        run_type(TYPES[i], &st);
        int ok = st.quant_diff == 0 && st.deq_diff == 0 && st.raw_diff == 0;
        char q[32], d[40], r[40];
        snprintf(q, sizeof q, "%ld/%ld", st.quant_blocks - st.quant_diff, st.quant_blocks);
        snprintf(d, sizeof d, "%ld/%ld", st.deq_vals - st.deq_diff, st.deq_vals);
        snprintf(r, sizeof r, "%ld/%ld", st.raw_vals - st.raw_diff, st.raw_vals);
        if (!st.deq_vals) { snprintf(d, sizeof d, "n/a (not in ggml)"); snprintf(r, sizeof r, "n/a"); }
        printf("%-5s | %-10s | %-24s | %-24s | %s\n", chord_type_name(TYPES[i]), q, d, r,
               ok ? "bit-exact" : "DIFFERS");
        bad += !ok;
    }
    return bad ? 1 : 0;
}

/* ---- GGUF files ----------------------------------------------------------------------------- */

typedef struct { chord_source src; chord_gguf *g; } gguf_file;

static int open_gguf(gguf_file *f, const char *path) {
    chord_error err;
    f->g = NULL;
    if (chord_source_from_file(&f->src, path, &err) != CHORD_OK) {
        fprintf(stderr, "ggml_dequant: %s: %s\n", path, err.message);
        return 1;
    }
    if (chord_gguf_open(&f->g, &f->src, &err) != CHORD_OK) {
        fprintf(stderr, "ggml_dequant: %s: %s\n", path, err.message);
        chord_source_close(&f->src);
        return 1;
    }
    return 0;
}

static void close_gguf(gguf_file *f) {
    chord_gguf_close(f->g);
    chord_source_close(&f->src);
}

/* Reads a tensor's bytes into a new buffer (NULL on failure). */
static void *read_tensor(gguf_file *f, const chord_gguf_tensor *t) {
    void *p = malloc(t->n_bytes ? t->n_bytes : 1);
    if (p && f->src.read(f->src.ctx, t->off, p, t->n_bytes) != CHORD_OK) { free(p); p = NULL; }
    return p;
}

/* Our quantizer on the F32 source tensor must give the bytes llama_model_quantize wrote. */
static int check_requant(gguf_file *orig, const chord_gguf_tensor *t, const uint8_t *q, long *n_same) {
    const chord_gguf_tensor *s = chord_gguf_find_tensor(orig->g, t->name.ptr);
    if (!s || s->type != CHORD_TYPE_F32 || s->n_elems != t->n_elems || t->type == CHORD_TYPE_F32) return 0;
    float *x = read_tensor(orig, s);
    uint8_t *mine = calloc(1, t->n_bytes);
    int bad = 0;
    if (!x || !mine) { fprintf(stderr, "%s: cannot read source\n", t->name.ptr); bad = 1; }
    else {
        chord_type_get(t->type)->from_float_ref(x, mine, (int64_t)t->n_elems);
        if (memcmp(mine, q, t->n_bytes)) {
            fprintf(stderr, "%s (%s): our quantization differs from llama_model_quantize's\n",
                    t->name.ptr, chord_type_name(t->type));
            bad = 1;
        } else {
            (*n_same)++;
        }
    }
    free(x); free(mine);
    return bad;
}

/* Dequantizes every tensor of `path` with ggml and with us; with `orig` (the F32 file it was
 * quantized from) also re-quantizes each tensor with our quantizer and compares the bytes. */
static int check_file(const char *path, gguf_file *orig) {
    gguf_file f;
    if (open_gguf(&f, path)) return 1;
    long per_type[CHORD_TYPE_COUNT][2] = {{0}}, n_requant = 0;
    int bad = 0;
    for (uint64_t i = 0; i < chord_gguf_n_tensors(f.g); i++) {
        const chord_gguf_tensor *t = chord_gguf_tensor_at(f.g, i);
        const chord_type_traits *ct = chord_type_get(t->type);
        if (!ct) { fprintf(stderr, "%s: unsupported type %u\n", t->name.ptr, t->type); bad = 1; continue; }
        ggml_to_float_t g_to;
        ggml_from_float_t g_from;
        ggml_funcs(t->type, &g_to, &g_from);
        uint8_t *q = read_tensor(&f, t);
        float *yg = malloc(t->n_elems * 4), *yc = malloc(t->n_elems * 4);
        if (!q || !yg || !yc) {
            fprintf(stderr, "%s: cannot read tensor data\n", t->name.ptr);
            bad = 1;
        } else {
            if (g_to) g_to(q, yg, (int64_t)t->n_elems);
            else memcpy(yg, q, t->n_bytes);
            ct->to_float(q, yc, (int64_t)t->n_elems);
            size_t dd = count_diff_floats(yg, yc, t->n_elems);
            per_type[t->type][0] += (long)t->n_elems;
            per_type[t->type][1] += (long)dd;
            if (dd) { fprintf(stderr, "%s (%s): %zu values differ\n", t->name.ptr, ct->name, dd); bad = 1; }
            if (orig) bad |= check_requant(orig, t, q, &n_requant);
        }
        free(q); free(yg); free(yc);
    }
    printf("%s: dequantize", path);
    for (int t = 0; t < CHORD_TYPE_COUNT; t++)
        if (per_type[t][0]) printf(" %s %ld/%ld identical;", chord_type_name((uint32_t)t),
                                   per_type[t][0] - per_type[t][1], per_type[t][0]);
    if (orig) printf(" quantize: %ld tensors byte-identical to llama_model_quantize", n_requant);
    printf("\n");
    close_gguf(&f);
    return bad;
}

int main(int argc, char **argv) {
    chord_quant_init();
    if (argc >= 2 && !strcmp(argv[1], "random")) {
        uint64_t seed = 42;
        if (argc >= 4 && !strcmp(argv[2], "--seed")) seed = strtoull(argv[3], NULL, 10);
        printf("kernels: %s\n", chord_quant_isa());
        return cmd_random(seed);
    }
    if (argc >= 3 && !strcmp(argv[1], "file")) {
        int bad = 0, first = 2;
        gguf_file orig, *po = NULL;
        if (argc >= 5 && !strcmp(argv[2], "--source")) {
            if (open_gguf(&orig, argv[3])) return 1;
            po = &orig;
            first = 4;
        }
        for (int i = first; i < argc; i++) bad |= check_file(argv[i], po);
        if (po) close_gguf(po);
        return bad;
    }
    fprintf(stderr, "usage: ggml_dequant random [--seed S]\n"
                    "       ggml_dequant file [--source F32.gguf] FILE...\n");
    return 2;
}
