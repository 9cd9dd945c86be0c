/*
 * bench_kernels.c — the kernel playground: for every weight type, a matrix-vector product
 * (rows x n weights against one quantized activation row, single thread) with the scalar
 * reference dot and with the dispatched one, printed as weight GB/s and the speed-up. Also the
 * activation quantizers and dequantizers in elements/s. The matrix is 16-64 MiB so that, as in
 * a real decode step, weights stream from memory rather than cache. The header line gives the
 * memory read bandwidth measured the same way (1 and 2 threads), to compare the kernels' GB/s with.
 * The wasm targets' table: bench/kernels_wasm.mjs (make bench-kernels runs both).
 *
 * --prompt: the prompt-batch product instead, as the forward pass runs it (chord_matmul on one
 * thread): a 256-row matrix (in L2) against --tok activation rows (in L1), printed as TSC
 * cycles and ns per 256 weights x token, best of reps (stable on a shared machine).
 *
 *   bench_kernels [--n N] [--mib M] [--type NAME] [--reps R] [--prompt [--tok T]]
 *   bench_kernels --bandwidth     just the read bandwidth on 1 and 2 threads, as one JSON line
 *                                 (bench/run.sh prints it beside the decode rows)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "quant/quant.h"
#include "platform.h"
#include "engine/ops.h"
#if defined(__x86_64__)
#include <x86intrin.h>
#define TSC() __rdtsc()
#else
#define TSC() 0ull
#endif

static const uint32_t TYPES[] = {
    CHORD_TYPE_F32, CHORD_TYPE_F16, CHORD_TYPE_BF16, CHORD_TYPE_Q4_0, CHORD_TYPE_Q4_1,
    CHORD_TYPE_Q5_0, CHORD_TYPE_Q5_1, CHORD_TYPE_Q8_0, CHORD_TYPE_Q2_K, CHORD_TYPE_Q3_K,
    CHORD_TYPE_Q4_K, CHORD_TYPE_Q5_K, CHORD_TYPE_Q6_K,
};

static uint64_t rng = 88172645463325252ull;
static float frand(void) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)(rng >> 40) / 16777216.0f * 2.0f - 1.0f;
}

static volatile float sink;

/* Seconds per pass over all rows, best of reps. */
static double time_matvec(chord_vec_dot_fn dot, int64_t n, int64_t rows, const uint8_t *w,
                          uint64_t row_bytes, const void *act, int reps) {
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = chord_time_ms();
        float s = 0;
        for (int64_t i = 0; i < rows; i++) s += dot(n, w + (uint64_t)i * row_bytes, act);
        double t = (chord_time_ms() - t0) / 1e3;
        sink = s;
        if (t < best) best = t;
    }
    return best;
}

/* GB/s of summing a large buffer: 4 independent 16-byte vector accumulators (SSE2 / NEON with
 * the baseline flags), so the loop is limited by memory, not by adds. With a pool of T threads
 * each sums its own contiguous 1/T of the buffer: the bound of a decode step on T threads, which
 * streams every weight once (this Zen 3 VM, quiet: 13.3 GB/s on 1 thread, 22.3 on 2; under load
 * the 2-thread figure falls to 15-18). */
typedef uint64_t u64x2 __attribute__((vector_size(16)));
typedef struct { const u64x2 *b; size_t n; u64x2 sum[64]; } bw_job;

static void bw_task(void *ctx, int ith, int nth) {
    bw_job *j = ctx;
    const size_t per = j->n / 4 / (size_t)nth * 4, i0 = per * (size_t)ith;
    const size_t i1 = ith == nth - 1 ? j->n : i0 + per;
    u64x2 a0 = {0, 0}, a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = i0; i < i1; i += 4) { a0 += j->b[i]; a1 += j->b[i + 1]; a2 += j->b[i + 2]; a3 += j->b[i + 3]; }
    j->sum[ith] = a0 + a1 + a2 + a3;
}

static double read_bandwidth(chord_pool *pool, double mib, int reps) {
    bw_job j = { .n = (size_t)(mib * 1048576.0) / 64 * 4 }; /* 16-byte vectors, a multiple of 4 */
    u64x2 *b = aligned_alloc(64, j.n * sizeof(u64x2));
    if (!b) return 0;
    memset(b, 1, j.n * sizeof(u64x2));
    j.b = b;
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = chord_time_ms();
        chord_pool_run(pool, bw_task, &j);
        double t = (chord_time_ms() - t0) / 1e3;
        sink = (float)(j.sum[0][0] + j.sum[0][1]);
        if (t < best) best = t;
    }
    free(b);
    return (double)j.n * sizeof(u64x2) / best / 1e9;
}

static void bench_type(uint32_t type, int64_t n, double mib, int reps) {
    const chord_type_traits *t = chord_type_get(type), *ta = chord_type_get(t->vec_dot_type);
    uint64_t row_bytes, act_bytes;
    if (chord_type_row_bytes(type, (uint64_t)n, &row_bytes) != CHORD_OK ||
        chord_type_row_bytes(t->vec_dot_type, (uint64_t)n, &act_bytes) != CHORD_OK) {
        printf("%-5s  n=%lld is not a multiple of its block size\n", t->name, (long long)n);
        return;
    }
    int64_t rows = (int64_t)(mib * 1048576.0 / (double)row_bytes);
    if (rows < 1) rows = 1;
    uint8_t *w = malloc(row_bytes * (uint64_t)rows), *act = malloc(act_bytes);
    float *x = malloc((size_t)n * 4);
    for (int64_t i = 0; i < rows; i++) {
        for (int64_t k = 0; k < n; k++) x[k] = frand();
        t->from_float(x, w + (uint64_t)i * row_bytes, n);
    }
    for (int64_t k = 0; k < n; k++) x[k] = frand();
    ta->from_float(x, act, n);
    double ts = time_matvec(t->vec_dot_ref, n, rows, w, row_bytes, act, reps > 2 ? 2 : reps);
    double tf = time_matvec(t->vec_dot, n, rows, w, row_bytes, act, reps);
    /* a prompt batch: each weight row against 4 activation rows (chord_vec_dot_rows) */
    uint8_t *act4 = malloc(act_bytes * 4);
    for (int r = 0; r < 4; r++) memcpy(act4 + r * act_bytes, act, act_bytes);
    double t4 = 1e30;
    for (int rep = 0; rep < reps; rep++) {
        float out[4], s = 0;
        double t0 = chord_time_ms();
        for (int64_t i = 0; i < rows; i++) {
            chord_vec_dot_rows(t, n, w + (uint64_t)i * row_bytes, act4, act_bytes, 4, out);
            s += out[0];
        }
        double dt = (chord_time_ms() - t0) / 1e3;
        sink = s;
        if (dt < t4) t4 = dt;
    }
    /* the decode matvec as ops.c runs it: through chord_vec_dot_wrows, the matrix split into
     * wrows_lanes lanes of consecutive rows, one row of every lane per call (= vec_dot per row
     * for a type without a multi-weight-row kernel) */
    const int lanes = !t->vec_dot_wrows ? 1 : t->wrows_lanes ? t->wrows_lanes : CHORD_WROWS_MAX;
    const int64_t lane_rows = (rows + lanes - 1) / lanes;
    double tw = 1e30;
    for (int rep = 0; rep < reps; rep++) {
        float out[CHORD_WROWS_MAX], s = 0;
        double t0 = chord_time_ms();
        for (int64_t r = 0; r < lane_rows; r++) {
            int nx = 1;
            while (nx < lanes && r + nx * lane_rows < rows) nx++;
            chord_vec_dot_wrows(t, n, w + (uint64_t)r * row_bytes, (uint64_t)lane_rows * row_bytes, nx, act, out);
            s += out[0];
        }
        double dt = (chord_time_ms() - t0) / 1e3;
        sink = s;
        if (dt < tw) tw = dt;
    }
    double gb = (double)row_bytes * (double)rows / 1e9;
    printf("%-5s | %8.2f | %8.2f | %6.1fx | %8.1f | %8.2f (%d) | %8.2f\n", t->name, gb / ts, gb / tf, ts / tf,
           tf * 1e9 / (double)rows / (double)n * 1e3, gb / tw, lanes, 4 * gb / t4);
    free(w); free(act); free(act4); free(x);
}

/* The prompt product of one type: y[tok][256] = W[256][n] x act[tok][n] through chord_matmul
 * (ops.c's tiles and kernels, one thread), reps x 20 products, best product. */
static void bench_prompt(uint32_t type, int64_t n, int tok, int reps) {
    const chord_type_traits *t = chord_type_get(type);
    const int64_t rows = 256;
    uint64_t row_bytes;
    if (chord_type_row_bytes(type, (uint64_t)n, &row_bytes) != CHORD_OK) return;
    uint8_t *w = malloc(row_bytes * (uint64_t)rows);
    float *x = malloc((size_t)(n * (tok > rows ? tok : rows)) * 4), *y = malloc((size_t)(rows * tok) * 4);
    for (int64_t i = 0; i < rows; i++) {
        for (int64_t k = 0; k < n; k++) x[k] = frand();
        t->from_float(x, w + (uint64_t)i * row_bytes, n);
    }
    for (int64_t k = 0; k < n * tok; k++) x[k] = frand();
    const chord_mat m = { .data = w, .type = (chord_type)type, .n_in = n, .n_out = rows, .row_bytes = row_bytes };
    chord_act a = { 0 };
    a.cap = chord_act_row_bytes(t->vec_dot_type, n) * (uint64_t)tok;
    a.buf = malloc(a.cap);
    chord_act_quantize(&a, NULL, x, tok, n, t->vec_dot_type, chord_act_packs((const chord_mat *const[]){ &m }, 1, tok));
    double best_ns = 1e30, best_cyc = 1e30;
    for (int r = 0; r < reps * 20; r++) {
        const uint64_t c0 = TSC();
        const double t0 = chord_time_ms();
        chord_matmul(NULL, y, &m, &a);
        const double dt = (chord_time_ms() - t0) * 1e6;
        const double dc = (double)(TSC() - c0);
        if (dt < best_ns) best_ns = dt;
        if (dc < best_cyc) best_cyc = dc;
    }
    sink = y[0];
    const double units = (double)rows * (double)(n / 256) * tok;
    printf("%-5s | tok %2d | %s | %7.2f TSC cycles | %6.2f ns  per 256 weights x token\n", t->name, tok,
           a.packed ? "packed" : "plain ", best_cyc / units, best_ns / units);
    free(w); free(x); free(y); free(a.buf);
}

static void bench_act(uint32_t type, int64_t n, int reps) {
    const chord_type_traits *t = chord_type_get(type);
    uint64_t bytes;
    if (chord_type_row_bytes(type, (uint64_t)n, &bytes) != CHORD_OK) return;
    float *x = malloc((size_t)n * 4), *y = malloc((size_t)n * 4);
    void *q = malloc(bytes);
    for (int64_t k = 0; k < n; k++) x[k] = frand();
    double best_r = 1e30, best_f = 1e30, best_d = 1e30;
    for (int r = 0; r < reps * 20; r++) {
        double t0 = chord_time_ms();
        t->from_float_ref(x, q, n);
        double t1 = chord_time_ms();
        t->from_float(x, q, n);
        double t2 = chord_time_ms();
        t->to_float(q, y, n);
        double t3 = chord_time_ms();
        if (t1 - t0 < best_r) best_r = t1 - t0;
        if (t2 - t1 < best_f) best_f = t2 - t1;
        if (t3 - t2 < best_d) best_d = t3 - t2;
    }
    sink = y[0];
    printf("%-5s | quantize %7.0f -> %7.0f Melem/s | dequantize %7.0f Melem/s\n", t->name,
           (double)n / best_r / 1e3, (double)n / best_f / 1e3, (double)n / best_d / 1e3);
    free(x); free(y); free(q);
}

/* Read bandwidth on 1 and 2 threads (each thread count its own pool): 0 where a pool fails. */
static void bandwidths(double mib, int reps, double bw[2]) {
    for (int k = 0; k < 2; k++) {
        chord_pool *pool = NULL;
        chord_error err;
        bw[k] = 0;
        if (chord_pool_new(&pool, k + 1, &err) != CHORD_OK) continue;
        bw[k] = read_bandwidth(pool, mib, reps);
        chord_pool_free(pool);
    }
}

int main(int argc, char **argv) {
    int64_t n = 4096;
    double mib = 32;
    int reps = 5, bw_only = 0;
    const char *only = NULL;
    int prompt = 0, tok = 8;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--n") && i + 1 < argc) n = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--mib") && i + 1 < argc) mib = atof(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--type") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--prompt")) prompt = 1;
        else if (!strcmp(argv[i], "--tok") && i + 1 < argc) tok = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--bandwidth")) bw_only = 1;
        else {
            fprintf(stderr, "usage: bench_kernels [--n N] [--mib M] [--type NAME] [--reps R] [--prompt [--tok T]] | --bandwidth\n");
            return 2;
        }
    }
    if (n <= 0 || mib <= 0 || reps <= 0) { fprintf(stderr, "bench_kernels: bad argument\n"); return 2; }
    double bw[2] = { 0, 0 };
    if (!prompt) bandwidths(mib * 8 > 256 ? mib * 8 : 256, bw_only ? 5 : 3, bw);
    if (bw_only) {
        printf("{\"read_gb_s_1t\": %.2f, \"read_gb_s_2t\": %.2f}\n", bw[0], bw[1]);
        return 0;
    }
    chord_quant_init();
    if (prompt) {
        if (tok <= 0 || tok > 512) { fprintf(stderr, "bench_kernels: bad --tok\n"); return 2; }
        printf("prompt product, 1 thread, 256 x %lld weights x %d tokens; kernels: %s\n", (long long)n, tok, chord_quant_isa());
        for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
            if (TYPES[i] >= CHORD_TYPE_Q4_0 && (!only || chord_type_from_name(only) == (int)TYPES[i]))
                bench_prompt(TYPES[i], n, tok, reps);
        return 0;
    }
    printf("matvec, 1 thread, row n=%lld, %.0f MiB of weights; kernels: %s; memory read bandwidth "
           "%.1f GB/s (1 thread), %.1f GB/s (2 threads)\n", (long long)n, mib, chord_quant_isa(), bw[0], bw[1]);
    printf("%-5s | %8s | %8s | %7s | %8s | %s | %s\n", "type", "ref GB/s", "fast GB/s", "speedup", "ps/weight",
           "decode GB/s (lanes)", "x4 rows GB/s (weight bytes x rows / s)");
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (!only || chord_type_from_name(only) == (int)TYPES[i]) bench_type(TYPES[i], n, mib, reps);
    if (!only) {
        printf("\nactivation formats (row of %lld):\n", (long long)n);
        bench_act(CHORD_TYPE_Q8_0, n, reps);
        bench_act(CHORD_TYPE_Q8_1, n, reps);
        bench_act(CHORD_TYPE_Q8_K, n, reps);
        bench_act(CHORD_TYPE_F16, n, reps);
    }
    return 0;
}
