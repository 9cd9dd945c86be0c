/*
 * ggml_kbench.c — our dot-product kernels against llama.cpp's own, on the same bytes: for every
 * weight type, a single-thread matrix-vector pass (rows x n) with ggml's vec_dot from the
 * prebuilt libggml-cpu-haswell.so (its AVX2+FMA+F16C build, the same instruction set as ours)
 * and with our dispatched kernel, interleaved, best of several runs. Also reports the largest
 * difference between the two results per row, relative to the row's sum of |x_i*y_i| scale
 * (a second, independent check of our kernels: ggml's are what llama.cpp computes with).
 *
 *   ggml_kbench [--n N] [--mib M] [--reps R] [--type NAME]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ggml.h"
#include "ggml-cpu.h"
#include "quant/quant.h"
#include "platform.h"

static const uint32_t TYPES[] = {
    CHORD_TYPE_F32, CHORD_TYPE_F16, CHORD_TYPE_BF16, CHORD_TYPE_Q4_0, CHORD_TYPE_Q4_1,
    CHORD_TYPE_Q5_0, CHORD_TYPE_Q5_1, CHORD_TYPE_Q8_0, CHORD_TYPE_Q2_K, CHORD_TYPE_Q3_K,
    CHORD_TYPE_Q4_K, CHORD_TYPE_Q5_K, CHORD_TYPE_Q6_K,
};

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static float frand(void) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)(rng >> 40) / 16777216.0f * 2.0f - 1.0f;
}

typedef struct {
    int64_t n, rows;
    uint64_t row_bytes;
    const uint8_t *w;
    const void *act;
    float *out;
} pass;

static double run_ours(const pass *p, chord_vec_dot_fn dot) {
    double t0 = chord_time_ms();
    for (int64_t i = 0; i < p->rows; i++) p->out[i] = dot(p->n, p->w + (uint64_t)i * p->row_bytes, p->act);
    return chord_time_ms() - t0;
}

static double run_ggml(const pass *p, ggml_vec_dot_t dot) {
    double t0 = chord_time_ms();
    for (int64_t i = 0; i < p->rows; i++)
        dot((int)p->n, &p->out[i], 0, p->w + (uint64_t)i * p->row_bytes, 0, p->act, 0, 1);
    return chord_time_ms() - t0;
}

static void bench(uint32_t type, int64_t n, double mib, int reps) {
    const chord_type_traits *t = chord_type_get(type), *ta = chord_type_get(t->vec_dot_type);
    const struct ggml_type_traits_cpu *g = ggml_get_type_traits_cpu((enum ggml_type)type);
    if ((uint32_t)g->vec_dot_type != t->vec_dot_type) {
        printf("%-5s | ggml uses activation type %d, we use %s: skipped\n", t->name, g->vec_dot_type,
               ta->name);
        return;
    }
    uint64_t row_bytes, act_bytes;
    if (chord_type_row_bytes(type, (uint64_t)n, &row_bytes) || chord_type_row_bytes(t->vec_dot_type, (uint64_t)n, &act_bytes)) return;
    int64_t rows = (int64_t)(mib * 1048576.0 / (double)row_bytes);
    uint8_t *w = malloc(row_bytes * (uint64_t)rows), *act = malloc(act_bytes);
    float *x = malloc((size_t)n * 4), *mine = malloc((size_t)rows * 4), *theirs = malloc((size_t)rows * 4);
    for (int64_t i = 0; i < rows; i++) {
        for (int64_t k = 0; k < n; k++) x[k] = frand();
        t->from_float(x, w + (uint64_t)i * row_bytes, n);
    }
    for (int64_t k = 0; k < n; k++) x[k] = frand();
    ta->from_float(x, act, n);
    pass po = { n, rows, row_bytes, w, act, mine }, pg = { n, rows, row_bytes, w, act, theirs };
    double best_o = 1e30, best_g = 1e30;
    for (int r = 0; r < reps; r++) {
        double a = run_ggml(&pg, g->vec_dot), b = run_ours(&po, t->vec_dot);
        if (a < best_g) best_g = a;
        if (b < best_o) best_o = b;
    }
    /* agreement: the difference relative to the typical magnitude of a row's result */
    double max_diff = 0, rms = 0;
    for (int64_t i = 0; i < rows; i++) rms += (double)theirs[i] * theirs[i];
    rms = sqrt(rms / (double)rows) + 1e-30;
    for (int64_t i = 0; i < rows; i++) {
        double d = fabs((double)mine[i] - theirs[i]) / rms;
        if (d > max_diff) max_diff = d;
    }
    double gb = (double)row_bytes * (double)rows / 1e9;
    printf("%-5s | %9.2f | %9.2f | %5.2f | %.1e\n", t->name, gb / (best_g / 1e3), gb / (best_o / 1e3),
           best_g / best_o, max_diff);
    free(w); free(act); free(x); free(mine); free(theirs);
}

int main(int argc, char **argv) {
    int64_t n = 4096;
    double mib = 64;
    int reps = 5;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--n") && i + 1 < argc) n = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--mib") && i + 1 < argc) mib = atof(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--type") && i + 1 < argc) only = argv[++i];
        else { fprintf(stderr, "usage: ggml_kbench [--n N] [--mib M] [--reps R] [--type NAME]\n"); return 2; }
    }
    if (n <= 0 || n % 256 || mib <= 0 || reps <= 0) { fprintf(stderr, "ggml_kbench: bad argument (n must be a multiple of 256)\n"); return 2; }
    ggml_cpu_init();
    chord_quant_init();
    printf("matvec, 1 thread, n=%lld, %.0f MiB of weights; ggml = libggml-cpu-haswell.so (AVX2), ours = %s\n",
           (long long)n, mib, chord_quant_isa());
    printf("%-5s | %9s | %9s | %5s | %s\n", "type", "ggml GB/s", "ours GB/s", "ratio", "max |ours-ggml| / rms");
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (!only || chord_type_from_name(only) == (int)TYPES[i]) bench(TYPES[i], n, mib, reps);
    return 0;
}
