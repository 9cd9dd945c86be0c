/*
 * ops.c — forward-pass kernels over the thread pool.
 *
 * Numerics follow llama.cpp's CPU backend (ggml-cpu), because identical greedy tokens on random
 * networks need more than "close": a near-tie between the two best logits flips on a rounding.
 *  - Matrix products quantize the activations to the weight type's vec_dot_type (Q8_0 for
 *    Q4_0/Q5_0/Q8_0, Q8_1 for Q4_1/Q5_1, Q8_K for K-quants, F16 for F16 ...) and use the type's
 *    dot product. Q8_0/Q8_1 activations use ggml-cpu's x86 quantizer (d = amax/127, multiplier
 *    127/amax, round half to even), which differs from the file quantizer (1/d, roundf).
 *  - RMSNorm sums squares in double; RoPE builds its angles by repeated multiplication in float
 *    (theta *= base^(-2/n_rot)), as ggml_rope_cache_init does.
 *  - Attention reads an F16 KV cache (llama.cpp's default). With fewer than 64 queries llama.cpp
 *    runs its flash-attention "one chunk" kernel: Q rounded to F16, F16 dot products, online
 *    softmax with the V accumulator kept in F16. From 64 queries on it runs the tiled kernel,
 *    all in F32. We do the same two things.
 */
#include <assert.h>
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "engine/ops.h"
#include "quant/blocks.h"

/* Below this many multiply-adds a job runs on the calling thread: waking the pool costs more
 * than it saves (and on an oversubscribed machine a descheduled worker stalls every run). */
#define MIN_PARALLEL_WORK (1 << 16)

static chord_pool *pool_for(chord_pool *pool, int64_t work) {
    return work < MIN_PARALLEL_WORK ? NULL : pool;
}

/* ---- activation quantization ----------------------------------------------------------------- */

uint64_t chord_act_row_bytes(chord_type vdt, int64_t n_in) {
    uint64_t rb = 0;
    if (n_in <= 0 || chord_type_row_bytes(vdt, (uint64_t)n_in, &rb) != CHORD_OK) return 0;
    return rb;
}

typedef struct {
    chord_act *a;
    const float *x;
    chord_from_float_fn q;
} act_job;

static void act_task(void *ctx, int ith, int nth) {
    act_job *j = ctx;
    for (int t = ith; t < j->a->n_tok; t += nth)
        j->q(j->x + (int64_t)t * j->a->n_in, (uint8_t *)j->a->buf + (uint64_t)t * j->a->row_bytes, j->a->n_in);
}

int chord_act_packs(const chord_mat *const *ws, int n_mats, int n_tok) {
    if (n_tok <= 1) return 0;
    const chord_type_traits *va = chord_type_get(chord_type_get(ws[0]->type)->vec_dot_type);
    if (!va->from_float_act_packed) return 0;
    for (int i = 0; i < n_mats; i++)
        if (!chord_type_get(ws[i]->type)->vec_dot_rows_packed) return 0;
    return 1;
}

void chord_act_quantize(chord_act *a, chord_pool *pool, const float *x, int n_tok, int64_t n_in,
                        chord_type vdt, int packed) {
    if (a->src == x && a->type == vdt && a->n_tok == n_tok && a->n_in == n_in && a->packed == packed) return;
    a->src = x;
    a->type = vdt;
    a->n_tok = n_tok;
    a->n_in = n_in;
    a->packed = packed;
    /* the packed layout has the plain row's size (kernels.h), so the buffer's size holds */
    a->row_bytes = chord_act_row_bytes(vdt, n_in);
    const chord_type_traits *tr = chord_type_get(vdt);
    act_job j = { .a = a, .x = x,
                  .q = packed ? tr->from_float_act_packed : tr->from_float_act ? tr->from_float_act : tr->from_float };
    chord_pool_run(n_tok == 1 ? NULL : pool_for(pool, (int64_t)n_tok * n_in), act_task, &j);
}

/* ---- matrix products --------------------------------------------------------------------------- */

/* Rows per tile: the tile's weight rows stay in cache while every token of a batch uses them. */
#define ROW_TILE 16

/* Tokens per call of the multi-row kernel: their activation rows stay in L1/L2 while every
 * weight row of the tile passes over them. 8 is the AVX-512VL K-quant kernels' register block
 * (the weight unpacking shared by 8 rows: +5-11% per tile in a microbenchmark); the 4-row
 * kernels split it in two at no cost. */
#define TOK_GROUP 8
/* matmul_tile's out[TOK_GROUP] also holds the rows of one vec_dot_wrows call in decode. */
_Static_assert(CHORD_WROWS_MAX <= TOK_GROUP, "out[] must hold CHORD_WROWS_MAX decode rows");

/* Tiles are handed out from a shared counter rather than split into one fixed range per thread:
 * a thread that starts late (a worker waking from its condition variable, or preempted on a
 * shared machine) then costs only its own lateness, instead of the caller waiting for its whole
 * half. Which thread computes a row does not change its arithmetic, so results are the same.
 *
 * One job may hold several matrices that read the same activations (q/k/v, gate/up): their
 * tiles are numbered one after the other and drawn from the same counter, so the products run
 * as one pool run with one join instead of one each (every join waits for the slowest thread). */
#define MATMUL_MAX_PARTS 3

typedef struct {
    float *y;
    const chord_mat *w;
    const chord_type_traits *tr;
    int64_t tile0;          /* first tile of this matrix in the job's numbering */
    int64_t lane_rows;      /* decode through vec_dot_wrows: rows per lane (tiles cover one lane's
                             * rows and the same rows of the others); 0 = one dot per row */
    int lanes;              /* lanes (weight rows per vec_dot_wrows call) */
} matmul_part;

typedef struct {
    matmul_part part[MATMUL_MAX_PARTS];
    int n_parts;
    const chord_act *a;
    int64_t n_tiles, chunk; /* tiles in all parts; tiles per grab */
    atomic_llong next;      /* first tile not yet taken */
} matmul_job;

static void matmul_tile(const matmul_job *j, int64_t tile, float *out) {
    int p = 0;
    while (p + 1 < j->n_parts && tile >= j->part[p + 1].tile0) p++;
    const matmul_part *m = &j->part[p];
    tile -= m->tile0;
    const int64_t n_out = m->w->n_out, n_in = m->w->n_in;
    const int n_tok = j->a->n_tok;
    const uint8_t *w = m->w->data, *x = j->a->buf;
    const uint64_t xs = j->a->row_bytes;
    int64_t r0 = tile * ROW_TILE, r1 = r0 + ROW_TILE < n_out ? r0 + ROW_TILE : n_out;
    if (n_tok == 1 && m->lane_rows) {
        /* decode with a multi-weight-row kernel: the matrix is m->lanes lanes of lane_rows
         * rows, and each call takes row r of every lane, so every lane is one long sequential
         * stream across calls (adjacent rows would start new short streams in every call, which
         * the hardware prefetcher has not learned: 2x slower in Chromium, simd128.c) */
        const uint64_t rb = m->w->row_bytes, ls = (uint64_t)m->lane_rows * rb;
        for (int64_t r = tile * ROW_TILE; r < (tile + 1) * ROW_TILE && r < n_out; r++) {
            int nx = 1;
            while (nx < m->lanes && r + nx * m->lane_rows < n_out) nx++;
            chord_vec_dot_wrows(m->tr, n_in, w + (uint64_t)r * rb, ls, nx, x, out);
            for (int k = 0; k < nx; k++) m->y[r + k * m->lane_rows] = out[k];
        }
        return;
    }
    if (n_tok == 1) { /* decode: one dot per row */
        for (int64_t r = r0; r < r1; r++) m->y[r] = m->tr->vec_dot(n_in, w + (uint64_t)r * m->w->row_bytes, x);
        return;
    }
    const chord_vec_dot_tile_fn tile_fn = j->a->packed ? m->tr->vec_dot_tile_packed : m->tr->vec_dot_tile;
    if (tile_fn) { /* the kernel blocks rows x tokens itself */
        tile_fn(n_in, w + (uint64_t)r0 * m->w->row_bytes, m->w->row_bytes, (int)(r1 - r0), x, xs, n_tok, m->y + r0,
                (uint64_t)n_out);
        return;
    }
    /* prompt batch: a few activation rows (kept in L1) against every row of the tile (in L2).
     * Meanwhile the next tile's rows are prefetched, a slice per token group: a matrix streams
     * from memory once per batch, and the first token group otherwise waits for every line of
     * its tile (a quarter of the Q4_K prompt kernel's samples sat on its weight loads). */
    const uint8_t *pf = w + (uint64_t)r1 * m->w->row_bytes;
    const int64_t pf_rows = r1 + ROW_TILE < n_out ? ROW_TILE : n_out - r1;
    const uint64_t pf_bytes = (uint64_t)pf_rows * m->w->row_bytes;
    const uint64_t pf_step = (pf_bytes / (uint64_t)((n_tok + TOK_GROUP - 1) / TOK_GROUP) + 63) & ~(uint64_t)63;
    uint64_t pf_done = 0;
    for (int c0 = 0; c0 < n_tok; c0 += TOK_GROUP) {
        const int nc = n_tok - c0 < TOK_GROUP ? n_tok - c0 : TOK_GROUP;
        for (const uint64_t e = pf_done + pf_step; pf_done < e && pf_done < pf_bytes; pf_done += 64)
            __builtin_prefetch(pf + pf_done, 0, 2);
        for (int64_t r = r0; r < r1; r++) {
            if (j->a->packed) m->tr->vec_dot_rows_packed(n_in, w + (uint64_t)r * m->w->row_bytes, x + (uint64_t)c0 * xs, xs, nc, out);
            else chord_vec_dot_rows(m->tr, n_in, w + (uint64_t)r * m->w->row_bytes, x + (uint64_t)c0 * xs, xs, nc, out);
            for (int t = 0; t < nc; t++) m->y[(int64_t)(c0 + t) * n_out + r] = out[t];
        }
    }
}

static void matmul_task(void *ctx, int ith, int nth) {
    matmul_job *j = ctx;
    float out[TOK_GROUP];
    (void)ith;
    if (nth == 1) {
        for (int64_t t = 0; t < j->n_tiles; t++) matmul_tile(j, t, out);
        return;
    }
    /* Guided grabs: at most chunk tiles, and at most 1/(2 nth) of what is left, so that the
     * last grabs are single tiles and the join waits for one tile at most, not one chunk (a
     * decode chunk is ~20 tiles, ~15 µs of a ~150 µs product). */
    long long t0 = atomic_load_explicit(&j->next, memory_order_relaxed); /* atomic_llong's type */
    for (;;) {
        if (t0 >= j->n_tiles) return;
        int64_t c = (j->n_tiles - t0) / (2 * (int64_t)nth);
        c = c > j->chunk ? j->chunk : c < 1 ? 1 : c;
        if (!atomic_compare_exchange_weak_explicit(&j->next, &t0, t0 + c, memory_order_relaxed,
                                                   memory_order_relaxed)) continue;
        const int64_t t1 = t0 + c < j->n_tiles ? t0 + c : j->n_tiles;
        for (int64_t t = t0; t < t1; t++) matmul_tile(j, t, out);
        t0 = atomic_load_explicit(&j->next, memory_order_relaxed);
    }
}

/* Multiply-adds per grab of the tile counter: large enough that the shared counter's cache line
 * is touched rarely (decode tiles are 16 dots, microseconds), small enough to balance. */
#define GRAB_WORK (1 << 21)

void chord_matmul_n(chord_pool *pool, int n_mats, float *const *ys, const chord_mat *const *ws,
                    const chord_act *a) {
    assert(n_mats >= 1 && n_mats <= MATMUL_MAX_PARTS);
    matmul_job j = { .n_parts = n_mats, .a = a };
    int64_t n_tiles = 0, work = 0, tile_rows = ROW_TILE;
    for (int p = 0; p < n_mats; p++) {
        j.part[p] = (matmul_part){ .y = ys[p], .w = ws[p], .tr = chord_type_get(ws[p]->type), .tile0 = n_tiles };
        int64_t tiles = (ws[p]->n_out + ROW_TILE - 1) / ROW_TILE;
        if (a->n_tok == 1 && j.part[p].tr->vec_dot_wrows) {
            const int lanes = j.part[p].tr->wrows_lanes ? j.part[p].tr->wrows_lanes : CHORD_WROWS_MAX;
            tiles = (tiles + lanes - 1) / lanes;
            j.part[p].lane_rows = tiles * ROW_TILE;
            j.part[p].lanes = lanes;
            if (ROW_TILE * lanes > tile_rows) tile_rows = ROW_TILE * lanes;
        }
        n_tiles += tiles;
        work += ws[p]->n_in * ws[p]->n_out * a->n_tok;
    }
    const int64_t tile_work = tile_rows * a->n_in * a->n_tok;
    int64_t chunk = tile_work >= GRAB_WORK ? 1 : GRAB_WORK / (tile_work > 0 ? tile_work : 1);
    const int64_t nth = chord_pool_size(pool);
    /* at least 4 grabs per thread, so that a late thread still finds work */
    if (chunk * nth * 4 > n_tiles) chunk = n_tiles / (nth * 4) > 0 ? n_tiles / (nth * 4) : 1;
    j.n_tiles = n_tiles;
    j.chunk = chunk;
    atomic_init(&j.next, 0);
    chord_pool_run(pool_for(pool, work), matmul_task, &j);
}

void chord_matmul(chord_pool *pool, float *y, const chord_mat *w, const chord_act *a) {
    chord_matmul_n(pool, 1, &y, &w, a);
}

/* ---- element-wise ------------------------------------------------------------------------------ */

void chord_rmsnorm(float *y, const float *x, const float *w, int64_t n, float eps) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += (double)(x[i] * x[i]);
    const float mean = (float)(sum / (double)n);
    const float scale = 1.0f / sqrtf(mean + eps);
    for (int64_t i = 0; i < n; i++) y[i] = x[i] * scale * w[i];
}

/* ggml's rope_yarn_ramp: 1 below the low correction dimension, 0 above the high one. */
static float yarn_ramp(float low, float high, int32_t i0) {
    const float y = ((float)(i0 / 2) - low) / (0.001f > high - low ? 0.001f : high - low);
    return 1 - (1 < (0 > y ? 0 : y) ? 1 : (0 > y ? 0 : y));
}

void chord_rope_cache(float *cache, const chord_rope_params *p, int32_t pos) {
    const float theta_scale = powf(p->freq_base, -2.0f / (float)p->n_rot);
    float mscale = p->attn_factor;
    if (p->ext_factor != 0.0f) mscale *= 1.0f + 0.1f * logf(1.0f / p->freq_scale);
    float theta = (float)pos;
    for (int32_t i = 0; i < p->n_rot; i += 2) {
        /* ggml_rope_cache_init + rope_yarn: frequency factor, interpolation, YaRN mix, scale */
        const float extrap = theta / (p->freq_factors ? p->freq_factors[i / 2] : 1.0f);
        const float interp = p->freq_scale * extrap;
        float th = interp;
        if (p->ext_factor != 0.0f) {
            const float mix = yarn_ramp(p->corr[0], p->corr[1], i) * p->ext_factor;
            th = interp * (1 - mix) + extrap * mix;
        }
        cache[i] = cosf(th) * mscale;
        cache[i + 1] = sinf(th) * mscale;
        theta *= theta_scale;
    }
}

void chord_rope_apply(float *x, int32_t n_heads, int32_t head_dim, int32_t n_rot, const float *cache,
                      int neox) {
    const int32_t off = neox ? n_rot / 2 : 1;  /* distance between the two members of a pair */
    for (int32_t h = 0; h < n_heads; h++) {
        float *v = x + (int64_t)h * head_dim;
        for (int32_t i = 0; i < n_rot; i += 2) {
            const int32_t ic = neox ? i / 2 : i;
            const float c = cache[i], s = cache[i + 1];
            const float x0 = v[ic], x1 = v[ic + off];
            v[ic] = x0 * c - x1 * s;
            v[ic + off] = x0 * s + x1 * c;
        }
    }
}

typedef struct { float *gate; const float *up; int64_t n; } swiglu_job;

/* contiguous ranges, 16 floats aligned, so that threads do not share a cache line */
static void swiglu_task(void *ctx, int ith, int nth) {
    const swiglu_job *j = ctx;
    const int64_t per = (j->n / nth + 15) & ~(int64_t)15;
    const int64_t i0 = per * ith, i1 = i0 + per < j->n ? i0 + per : j->n;
    for (int64_t i = i0; i < i1; i++) {
        const float g = j->gate[i];
        j->gate[i] = g / (1.0f + expf(-g)) * j->up[i];
    }
}

/* A prompt batch's n_ff x n_tok exponentials (~2% of a 1-thread prefill) over the pool: run on
 * one thread they were a serial stretch that two threads wait through. */
void chord_swiglu(chord_pool *pool, float *gate, const float *up, int64_t n) {
    swiglu_job j = { .gate = gate, .up = up, .n = n };
    chord_pool_run(pool_for(pool, n * 16), swiglu_task, &j);
}

/* ggml_gelu_f32 (tanh approximation) */
static float gelu_f32(float x) {
    const float a = 0.044715f, s2p = 0.79788456080286535587989211986876f;
    return 0.5f * x * (1.0f + tanhf(s2p * x * (1.0f + a * x * x)));
}

/* ggml-cpu's ggml_vec_geglu_f32 with GGML_GELU_FP16: outside (-10, 10) exact limits, inside the
 * GELU of x rounded to F16, itself rounded to F16 (its lookup table holds exactly that). */
void chord_geglu(float *gate, const float *up, int64_t n) {
    const chord_type_traits *f16 = chord_type_get(CHORD_TYPE_F16);
    for (int64_t i = 0; i < n; i++) {
        const float x = gate[i];
        if (x <= -10.0f) { gate[i] = 0.0f; continue; }
        if (x >= 10.0f) { gate[i] = x * up[i]; continue; }
        uint16_t h;
        float xr, y;
        f16->from_float(&x, &h, 1);
        f16->to_float(&h, &xr, 1);
        y = gelu_f32(xr);
        f16->from_float(&y, &h, 1);
        f16->to_float(&h, &y, 1);
        gate[i] = y * up[i];
    }
}

void chord_softcap(float *x, int64_t n, float c) {
    const float inv = 1.0f / c;
    for (int64_t i = 0; i < n; i++) x[i] = tanhf(x[i] * inv) * c;
}

void chord_rmsnorm_heads(float *x, const float *w, int n_rows, int64_t n, float eps) {
    for (int r = 0; r < n_rows; r++) chord_rmsnorm(x + (int64_t)r * n, x + (int64_t)r * n, w, n, eps);
}

void chord_add_rows(float *y, const float *b, int n_tok, int64_t n) {
    for (int t = 0; t < n_tok; t++)
        for (int64_t i = 0; i < n; i++) y[(int64_t)t * n + i] += b[i];
}

/* ---- attention ------------------------------------------------------------------------------------ */

/* Below this many queries llama.cpp uses its F16-accumulating flash-attention kernel. */
#define TILED_MIN_QUERIES 64

/* Query heads of one KV head that the F32 path handles in one pass (see attend_f32). */
#define ATTN_HEADS_PER_PASS 8

uint64_t chord_attn_scratch_floats(int32_t head_dim, uint32_t n_ctx) {
    /* q16 + acc16 (as floats, generous), two f32 vectors, and one score per cached position for
     * each query head of an F32 pass */
    return (uint64_t)head_dim * 4 + (uint64_t)ATTN_HEADS_PER_PASS * n_ctx + 16;
}

/* One query head, F16 path (ggml flash_attn_ext_f16_one_chunk with an F16 V). */
static void attend_f16(const chord_attn *a, const float *q, const uint16_t *k, const uint16_t *v,
                       uint64_t kv_stride, int32_t ic0, int32_t n_kv, float *out, float *scratch) {
    const int32_t D = a->head_dim;
    const chord_type_traits *f16 = chord_type_get(CHORD_TYPE_F16);
    uint16_t *q16 = (uint16_t *)scratch, *acc16 = q16 + D;
    f16->from_float(q, q16, D);
    memset(acc16, 0, (size_t)D * sizeof *acc16);
    float S = 0.0f, M = -INFINITY;
    const float scale = a->softcap != 0.0f ? a->scale / a->softcap : a->scale;
    for (int32_t ic = ic0; ic < n_kv; ic++) {
        float s = f16->vec_dot(D, k + (uint64_t)ic * kv_stride, q16) * scale;
        if (a->softcap != 0.0f) s = a->softcap * tanhf(s);
        float ms = 1.0f, vs = 1.0f;
        const int rescale = s > M;
        if (rescale) {
            const float Mold = M;
            M = s;
            ms = expf(Mold - M);
        } else {
            vs = expf(s - M);
        }
        /* acc16 = f16(acc16 [* ms, rounded to f16] + v * vs), one fused pass (quant.h) */
        chord_f16_mad(acc16, v + (uint64_t)ic * kv_stride, D, ms, vs, rescale);
        S = S * ms + vs;
    }
    f16->to_float(acc16, out, D);
    const float inv = S == 0.0f ? 0.0f : 1.0f / S;
    for (int32_t d = 0; d < D; d++) out[d] *= inv;
}

/* nh query heads of one query that share a KV head, F32 path (ggml's tiled kernel: F32 Q, K and
 * V, F32 softmax). Each K and V row is converted to F32 once for all nh heads instead of once per
 * head (GQA: 8 query heads per KV head in TinyLlama); every head still performs exactly the
 * float operations of the one-head loop in the same order (scores, max, the double sum, then the
 * V accumulation in key order), so the results do not change. q and out: nh heads, D apart. */
static void attend_f32(const chord_attn *a, const float *q, int nh, const uint16_t *k, const uint16_t *v,
                       uint64_t kv_stride, int32_t ic0, int32_t n_kv, float *out, float *scratch) {
    const int32_t D = a->head_dim;
    const chord_type_traits *f16 = chord_type_get(CHORD_TYPE_F16), *f32 = chord_type_get(CHORD_TYPE_F32);
    float *kf = scratch, *scores = scratch + 2 * D; /* scores of head h: scores + h·n_kv */
    float M[ATTN_HEADS_PER_PASS];
    double S[ATTN_HEADS_PER_PASS];
    const float scale = a->softcap != 0.0f ? a->scale / a->softcap : a->scale;
    for (int h = 0; h < nh; h++) M[h] = -INFINITY;
    for (int32_t ic = ic0; ic < n_kv; ic++) {
        f16->to_float(k + (uint64_t)ic * kv_stride, kf, D);
        for (int h = 0; h < nh; h++) {
            float *sc = scores + (int64_t)h * n_kv;
            sc[ic] = f32->vec_dot(D, kf, q + (int64_t)h * D) * scale;
            if (a->softcap != 0.0f) sc[ic] = tanhf(sc[ic]) * a->softcap;
            if (sc[ic] > M[h]) M[h] = sc[ic];
        }
    }
    for (int h = 0; h < nh; h++) {
        float *sc = scores + (int64_t)h * n_kv;
        S[h] = 0.0;
        for (int32_t ic = ic0; ic < n_kv; ic++) {
            sc[ic] = expf(sc[ic] - M[h]);
            S[h] += sc[ic];
        }
    }
    memset(out, 0, (size_t)nh * D * sizeof *out);
    for (int32_t ic = ic0; ic < n_kv; ic++) {
        f16->to_float(v + (uint64_t)ic * kv_stride, kf, D);
        for (int h = 0; h < nh; h++) {
            const float p = scores[(int64_t)h * n_kv + ic];
            float *o = out + (int64_t)h * D;
            for (int32_t d = 0; d < D; d++) o[d] += p * kf[d];
        }
    }
    for (int h = 0; h < nh; h++) {
        const float inv = S[h] == 0.0 ? 0.0f : (float)(1.0 / S[h]);
        for (int32_t d = 0; d < D; d++) out[(int64_t)h * D + d] *= inv;
    }
}

static void attn_task(void *ctx, int ith, int nth) {
    const chord_attn *a = ctx;
    const int32_t D = a->head_dim, group = a->n_head / a->n_head_kv;
    const uint64_t kv_stride = (uint64_t)a->n_head_kv * D, q_stride = (uint64_t)a->n_head * D;
    float *scratch = a->scratch + (uint64_t)ith * a->scratch_per_thread;
    /* F32 path: a job is one query and up to ATTN_HEADS_PER_PASS heads of one KV head's group;
     * F16 path: one query head */
    const int tiled = a->n_tok >= TILED_MIN_QUERIES;
    const int32_t per = tiled ? (group < ATTN_HEADS_PER_PASS ? group : ATTN_HEADS_PER_PASS) : 1;
    const int32_t passes = (group + per - 1) / per; /* per KV head */
    const int64_t jobs_per_tok = (int64_t)a->n_head_kv * passes;
    const int64_t n_jobs = (int64_t)a->n_tok * jobs_per_tok;
    for (int64_t job = ith; job < n_jobs; job += nth) {
        const int32_t t = (int32_t)(job / jobs_per_tok), r = (int32_t)(job % jobs_per_tok);
        const int32_t kvh = r / passes, h = kvh * group + (r % passes) * per;
        const int32_t nh = group - (h - kvh * group) < per ? group - (h - kvh * group) : per;
        const int32_t n_kv = a->pos0 + t + 1;
        /* sliding window: llama.cpp masks key p0 for query p1 when p1 - p0 >= n_swa */
        const int32_t ic0 = a->window > 0 && n_kv > a->window ? n_kv - a->window : 0;
        const float *q = a->q + (uint64_t)t * q_stride + (uint64_t)h * D;
        float *out = a->out + (uint64_t)t * q_stride + (uint64_t)h * D;
        const uint16_t *k = a->k + (uint64_t)kvh * D, *v = a->v + (uint64_t)kvh * D;
        if (tiled) attend_f32(a, q, nh, k, v, kv_stride, ic0, n_kv, out, scratch);
        else attend_f16(a, q, k, v, kv_stride, ic0, n_kv, out, scratch);
    }
}

void chord_attention(chord_pool *pool, const chord_attn *a) {
    /* work: every query attends to about pos0 + n_tok/2 keys of head_dim */
    const int64_t work = (int64_t)a->n_tok * a->n_head * a->head_dim * (a->pos0 + a->n_tok / 2 + 1);
    chord_pool_run(pool_for(pool, work), attn_task, (void *)a);
}
