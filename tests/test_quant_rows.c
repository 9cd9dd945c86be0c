/*
 * test_quant_rows.c — the batch kernels against the single-row dot: vec_dot_rows (one weight row,
 * many activation rows), the prompt tiles (vec_dot_tile, plain and packed activations), the packed
 * Q8_0 rows kernel, the decode shape vec_dot_wrows, and on x86 each ISA's rows kernel called
 * directly. The forward pass relies on every one of them giving exactly vec_dot's bits per row
 * (batch-size invariance, the same tokens on every target), so every comparison here is exact
 * (memcmp or ==); vec_dot itself is checked against the scalar reference in test_quant.c.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "quant/quant.h"
#include "quant/blocks.h"
#include "quant/kernels.h"
#include "quant_data.h"

/* Row contents for the batch-kernel tests: kind 0 random, 1 every element at full scale with
 * alternating sign (int8 levels at +-127/-128, nibbles at 0/15), 2 one block in four all zeros
 * and the rest random, 3 constant (the largest same-sign integer sums). */
static void fill_row(float *x, int64_t n, int kind, float scale) {
    for (int64_t k = 0; k < n; k++) {
        switch (kind) {
        case 1: x[k] = (k & 1 ? -1.0f : 1.0f) * scale; break;
        case 2: x[k] = (k / 32) % 4 == 1 ? 0.0f : gauss() * scale; break;
        case 3: x[k] = scale; break;
        default: x[k] = gauss() * scale; break;
        }
    }
}

/* One weight row of each row kind against max_rows activation rows of all kinds, for ny = 1 ..
 * max_rows: rows(...) must give exactly vec_dot per row (the forward pass relies on it for
 * batch-size invariance). 17 rows cover two full groups of 8 (the AVX-512 kernels) and every tail. */
static void check_rows_kernel(uint32_t type, chord_vec_dot_rows_fn fn, const char *what) {
    enum { MAX_ROWS = 17 };
    const int64_t n = 256 * 6;
    const chord_type_traits *tx = chord_type_get(type), *ty = chord_type_get(tx->vec_dot_type);
    uint64_t rb, yb;
    chord_type_row_bytes(type, (uint64_t)n, &rb);
    chord_type_row_bytes(tx->vec_dot_type, (uint64_t)n, &yb);
    float *x = malloc(n * 4), out[MAX_ROWS];
    uint8_t *w = malloc(rb), *y = malloc(yb * MAX_ROWS);
    for (int wk = 0; wk < 4; wk++) {
        fill_row(x, n, wk, 1.0f);
        tx->from_float(x, w, n);
        for (int r = 0; r < MAX_ROWS; r++) {
            fill_row(x, n, (r + wk) % 4, (float)(r + 1));
            ty->from_float(x, y + r * yb, n);
        }
        for (int ny = 1; ny <= MAX_ROWS; ny++) {
            if (fn) fn(n, w, y, yb, ny, out);
            else chord_vec_dot_rows(tx, n, w, y, yb, ny, out);
            int bad = 0;
            for (int r = 0; r < ny; r++) {
                const float one = tx->vec_dot(n, w, y + r * yb);
                bad += memcmp(&one, &out[r], 4) != 0;
            }
            CHECKF(bad == 0, "%s %s: %d rows (weight kind %d) differ from vec_dot in %d", tx->name, what, ny, wk, bad);
        }
    }
    free(w); free(y); free(x);
}

/* The two forms of the packed layout (kernels.h): its plain -> packed row and its quantizer. */
typedef struct {
    void (*pack)(const void *blocks, void *dst, int64_t n);
    void (*quant)(const float *src, void *dst, int64_t n);
} packing;
static const packing PACK_U8 = { chord_pack_q8_0, chord_quant_q8_0_act_packed };    /* levels + 128 */
static const packing PACK_S8 = { chord_pack_q8_0_s8, chord_quant_q8_0_act_packed_s8 }; /* signed levels */

/* A packed-activation batch kernel (Q8_0, chord_pack_q8_0 or _s8: pk) against vec_dot on the same rows in
 * the plain layout: the row kinds above, then raw random weight bytes (levels -128..127, any
 * finite scale) against random levels in -127..127 (what the activation quantizer makes), for
 * every ny up to 17 and lengths with and without a tail of blocks beyond the kernel's chunks of 8.
 * Also checks that the packed quantizer is the plain one followed by the packing. */
static void check_rows_packed(chord_vec_dot_rows_fn fn, packing pk, const char *what) {
    enum { MAX_ROWS = 17 };
    static const int64_t lens[] = { 256 * 6, 32, 32 * 7, 32 * 9, 32 * 23 };
    const chord_type_traits *tx = chord_type_get(CHORD_TYPE_Q8_0);
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        const int64_t n = lens[li], nb = n / 32;
        const uint64_t rb = (uint64_t)nb * sizeof(chord_block_q8_0);
        float *x = malloc(n * 4), out[MAX_ROWS];
        chord_block_q8_0 *w = malloc(rb), *y = malloc(rb * MAX_ROWS);
        uint8_t *yp = malloc(rb * MAX_ROWS), *yq = malloc(rb);
        for (int wk = 0; wk < 5; wk++) {
            if (wk < 4) {
                fill_row(x, n, wk, 1.0f);
                tx->from_float(x, w, n);
            } else {
                for (int64_t i = 0; i < nb; i++) {
                    w[i].d = chord_fp32_to_fp16((gauss() + 0.01f) * 1e-3f);
                    for (int j = 0; j < 32; j++) w[i].qs[j] = (int8_t)rnd();
                }
            }
            for (int r = 0; r < MAX_ROWS; r++) {
                chord_block_q8_0 *yr = y + (uint64_t)r * nb;
                fill_row(x, n, (r + wk) % 4, (float)(r + 1));
                chord_quant_q8_0_act(x, yr, n);
                if (wk == 4)
                    for (int64_t i = 0; i < nb; i++)
                        for (int j = 0; j < 32; j++) yr[i].qs[j] = (int8_t)(rnd() % 255 - 127);
                pk.pack(yr, yp + (uint64_t)r * rb, n);
                if (wk < 4) {
                    pk.quant(x, yq, n);
                    CHECKF(memcmp(yq, yp + (uint64_t)r * rb, rb) == 0, "q8_0 packed quantizer differs from pack(quant) (n %lld)", (long long)n);
                }
            }
            for (int ny = 1; ny <= MAX_ROWS; ny++) {
                fn(n, w, yp, rb, ny, out);
                int bad = 0;
                for (int r = 0; r < ny; r++) {
                    const float one = tx->vec_dot(n, w, y + (uint64_t)r * nb);
                    bad += memcmp(&one, &out[r], 4) != 0;
                }
                CHECKF(bad == 0, "q8_0 %s: %d rows of %lld (weight kind %d) differ from vec_dot in %d", what, ny, (long long)n, wk, bad);
            }
        }
        free(x); free(w); free(y); free(yp); free(yq);
    }
}

/* A tile kernel's out[t * os + k] (pre-filled with -7) against want[t * max_x + k]: bad counts
 * the nx x ny results that differ bitwise, stray the entries outside them that were written. */
static void tile_compare(const float *out, int os, const float *want, int max_x, int max_y, int nx, int ny,
                         int *bad, int *stray) {
    for (int t = 0; t < max_y; t++)
        for (int k = 0; k < os; k++) {
            const float o = out[t * os + k];
            if (t < ny && k < nx) *bad += memcmp(&o, &want[t * max_x + k], 4) != 0;
            else *stray += o != -7.0f;
        }
}

/* The tile sweep both tile checks share: want = vec_dot of every weight row (stride rb) against
 * every plain activation row (stride yb), then fn over nx x ny up to 19 on the activations
 * it takes (yk, stride kb: packed or plain) into an output of stride OS pre-filled with -7
 * (stray writes), compared exactly. Long rows (big) sample nx past 3 and ny past ny_dense. */
enum { MAX_X = 19, MAX_Y = 19, OS = 23 };
static void tile_sweep(const chord_type_traits *tx, chord_vec_dot_tile_fn fn, int64_t n, const void *w,
                       uint64_t rb, const void *y, uint64_t yb, const void *yk, uint64_t kb, int big,
                       int ny_dense, float *out, float *want, const char *what) {
    const uint8_t *wb = w, *ybytes = y;
    for (int t = 0; t < MAX_Y; t++)
        for (int k = 0; k < MAX_X; k++)
            want[t * MAX_X + k] = tx->vec_dot(n, wb + (uint64_t)k * rb, ybytes + (uint64_t)t * yb);
    for (int nx = 1; nx <= MAX_X; nx += (big && nx > 3) ? 7 : 1)
        for (int ny = 1; ny <= MAX_Y; ny += (big && ny > ny_dense) ? 5 : 1) {
            for (int i = 0; i < MAX_Y * OS; i++) out[i] = -7.0f;
            fn(n, w, rb, nx, yk, kb, ny, out, OS);
            int bad = 0, stray = 0;
            tile_compare(out, OS, want, MAX_X, MAX_Y, nx, ny, &bad, &stray);
            CHECKF(bad == 0 && stray == 0, "%s %s: %d x %d of %lld: %d differ from vec_dot, %d written outside",
                   tx->name, what, nx, ny, (long long)n, bad, stray);
        }
}

/* A prompt tile kernel (quant.h chord_vec_dot_tile_fn) over packed Q8_0 activations against
 * vec_dot on the plain rows, with memcmp: 1..19 weight rows x 1..19 tokens (every register-block
 * tail of 2 x 4 and the 8-row scale passes), lengths with and without a tail of blocks beyond the
 * chunks of 8, rows longer than the kernel's scale scratch (its one-row fallback), weight rows of
 * every kind plus raw random bytes, and an output stride wider than nx (ops.c passes n_out). */
static void check_tile_packed(chord_vec_dot_tile_fn fn, packing pk, const char *what) {
    static const int64_t lens[] = { 256 * 6, 32, 32 * 7, 32 * 9, 32 * 23, 32 * 600 };
    const chord_type_traits *tx = chord_type_get(CHORD_TYPE_Q8_0);
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        const int64_t n = lens[li], nb = n / 32;
        const uint64_t rb = (uint64_t)nb * sizeof(chord_block_q8_0);
        float *x = malloc(n * 4), *out = malloc(sizeof(float) * MAX_Y * OS), *want = malloc(sizeof(float) * MAX_Y * MAX_X);
        chord_block_q8_0 *w = malloc(rb * MAX_X), *y = malloc(rb * MAX_Y);
        uint8_t *yp = malloc(rb * MAX_Y);
        for (int k = 0; k < MAX_X; k++) {
            chord_block_q8_0 *wk = w + (uint64_t)k * nb;
            if (k % 5 < 4) {
                fill_row(x, n, k % 5, 1.0f + (float)k);
                tx->from_float(x, wk, n);
            } else {
                for (int64_t i = 0; i < nb; i++) {
                    wk[i].d = chord_fp32_to_fp16((gauss() + 0.01f) * 1e-3f);
                    for (int j = 0; j < 32; j++) wk[i].qs[j] = (int8_t)rnd();
                }
            }
        }
        for (int t = 0; t < MAX_Y; t++) {
            chord_block_q8_0 *yr = y + (uint64_t)t * nb;
            fill_row(x, n, t % 4, (float)(t + 1));
            chord_quant_q8_0_act(x, yr, n);
            if (t % 3 == 2)
                for (int64_t i = 0; i < nb; i++)
                    for (int j = 0; j < 32; j++) yr[i].qs[j] = (int8_t)(rnd() % 255 - 127);
            pk.pack(yr, yp + (uint64_t)t * rb, n);
        }
        tile_sweep(tx, fn, n, w, rb, y, rb, yp, rb, n > 32 * 64, 3, out, want, what);
        free(x); free(out); free(want); free(w); free(y); free(yp);
    }
}

/* A plain-activation tile kernel (vec_dot_tile; AVX2 Q4_K: x86_prompt_k.h) against vec_dot for
 * every nx, ny up to 19 (every group size 1..8 of the 8-row groups and their tails) and a row
 * stride past the output (stray writes): weight rows of the fill_row kinds and raw random bytes
 * (every bit of the packed scales, mins and levels; finite d, dmin), activations quantized from
 * the row kinds and raw random levels -127..127 with their bsums; lengths from one block to past
 * the kernel's scratch (PK_NBMAX, 64 blocks: its fallback). */
static void check_tile_plain(uint32_t type, chord_vec_dot_tile_fn fn, const char *what) {
    static const int64_t lens[] = { 256 * 6, 256, 256 * 3, 256 * 70 };
    const chord_type_traits *tx = chord_type_get(type), *ty = chord_type_get(tx->vec_dot_type);
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        const int64_t n = lens[li];
        uint64_t rb, yb;
        chord_type_row_bytes(type, (uint64_t)n, &rb);
        chord_type_row_bytes(tx->vec_dot_type, (uint64_t)n, &yb);
        float *x = malloc(n * 4), *out = malloc(sizeof(float) * MAX_Y * OS), *want = malloc(sizeof(float) * MAX_Y * MAX_X);
        uint8_t *w = malloc(rb * MAX_X), *y = malloc(yb * MAX_Y);
        for (int k = 0; k < MAX_X; k++) {
            uint8_t *wk = w + (uint64_t)k * rb;
            if (k % 5 < 4) {
                fill_row(x, n, k % 5, 1.0f + (float)k);
                tx->from_float(x, wk, n);
            } else {
                for (uint64_t b = 0; b < rb; b++) wk[b] = (uint8_t)rnd();
                if (type == CHORD_TYPE_Q4_K)
                    for (int64_t i = 0; i < n / 256; i++) {
                        chord_block_q4_K *bk = (chord_block_q4_K *)wk + i;
                        bk->d = chord_fp32_to_fp16((gauss() + 0.01f) * 1e-2f);
                        bk->dmin = chord_fp32_to_fp16((gauss() + 0.01f) * 1e-2f);
                    }
            }
        }
        for (int t = 0; t < MAX_Y; t++) {
            fill_row(x, n, t % 4, (float)(t + 1));
            ty->from_float(x, y + (uint64_t)t * yb, n);
            if (t % 3 == 2)
                for (int64_t i = 0; i < n / 256; i++) {
                    chord_block_q8_K *yk = (chord_block_q8_K *)(y + (uint64_t)t * yb) + i;
                    for (int j = 0; j < 256; j++) yk->qs[j] = (int8_t)(rnd() % 255 - 127);
                    for (int j = 0; j < 16; j++) {
                        int sum = 0;
                        for (int e = 0; e < 16; e++) sum += yk->qs[16 * j + e];
                        yk->bsums[j] = (int16_t)sum;
                    }
                }
        }
        tile_sweep(tx, fn, n, w, rb, y, yb, y, yb, n > 256 * 8, 9, out, want, what);
        free(x); free(out); free(want); free(w); free(y);
    }
}

/* Through the table: whatever batch kernel this CPU selected. */
static void test_dot_rows(void) {
    for (size_t i = 0; i < N_TYPES; i++) check_rows_kernel(TYPES[i], NULL, "vec_dot_rows");
    for (size_t i = 0; i < N_TYPES; i++)
        if (TYPES[i] != CHORD_TYPE_Q8_0 && chord_type_get(TYPES[i])->vec_dot_tile)
            check_tile_plain(TYPES[i], chord_type_get(TYPES[i])->vec_dot_tile, "vec_dot_tile");
    const chord_type_traits *q8 = chord_type_get(CHORD_TYPE_Q8_0);
    CHECK(!q8->vec_dot_rows_packed == !q8->from_float_act_packed);
    /* the table's kernels with the table's quantizer: each layout is one of the two */
    CHECK(!q8->from_float_act_packed || q8->from_float_act_packed == PACK_U8.quant ||
          q8->from_float_act_packed == PACK_S8.quant);
    const packing pk = q8->from_float_act_packed == PACK_S8.quant ? PACK_S8 : PACK_U8;
    if (q8->vec_dot_rows_packed) check_rows_packed(q8->vec_dot_rows_packed, pk, "vec_dot_rows_packed");
    CHECK(!q8->vec_dot_tile_packed || q8->vec_dot_rows_packed);
    if (q8->vec_dot_tile_packed) check_tile_packed(q8->vec_dot_tile_packed, pk, "vec_dot_tile_packed");
}

/* The decode shape through the table: chord_vec_dot_wrows over nx weight rows (stride past the
 * row size) against one activation row must give exactly vec_dot per row, and the scalar
 * reference's bits, for every nx up to 9 (passes of CHORD_WROWS_MAX, a 3-row pass, a single last
 * row), whether or not this CPU's table has a vec_dot_wrows kernel for the type (AVX2: Q4_K, Q6_K,
 * Q8_0, x86_wrows.h; elsewhere this checks the dispatch itself). Weight rows: the four fill_row
 * kinds, raw random bytes (every bit of the packed scales and levels) and a repeated byte pattern,
 * all with finite scales; activations quantized from Gaussian data and raw random bytes; lengths
 * with an even and (32-element types) an odd block count. */
static void test_dot_wrows(void) {
    enum { MAX_ROWS = 9 };
    static const int64_t lens[] = { 256 * 3, 32 * 25 };
    static const uint8_t patterns[] = { 0xFF, 0x80, 0x55, 0x0F };
    for (size_t i = 0; i < N_TYPES; i++)
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            const int64_t n = lens[li];
            const chord_type_traits *tx = chord_type_get(TYPES[i]), *ty = chord_type_get(tx->vec_dot_type);
            if (n % tx->block_elems || n % ty->block_elems) continue;
            uint64_t rb, yb;
            chord_type_row_bytes(TYPES[i], (uint64_t)n, &rb);
            chord_type_row_bytes(tx->vec_dot_type, (uint64_t)n, &yb);
            const uint64_t xs = rb + 40;
            float *x = malloc(n * 4), out[MAX_ROWS];
            uint8_t *w = malloc(xs * MAX_ROWS), *y = malloc(yb);
            for (int r = 0; r < MAX_ROWS; r++) {
                uint8_t *row = w + (uint64_t)r * xs;
                const int kind = r % 6;
                const int is_float = tx->block_elems == 1;
                if (kind < 4 || is_float) {
                    fill_row(x, n, kind % 4, (float)(r + 1));
                    tx->from_float(x, row, n);
                } else {
                    for (uint64_t k = 0; k < rb; k++) row[k] = kind == 4 ? (uint8_t)rnd() : patterns[r % 4];
                    sanitize(TYPES[i], row, n / tx->block_elems, 1.0f);
                }
            }
            for (int yk = 0; yk < 2; yk++) {
                if (yk == 0 || ty->block_elems == 1) {
                    fill_row(x, n, 0, 1.0f);
                    ty->from_float(x, y, n);
                } else {
                    for (uint64_t k = 0; k < yb; k++) y[k] = (uint8_t)rnd();
                    sanitize(tx->vec_dot_type, y, n / ty->block_elems, 1.0f);
                }
                for (int nx = 0; nx <= MAX_ROWS; nx++) {
                    for (int r = 0; r < MAX_ROWS; r++) out[r] = -1.0f;
                    chord_vec_dot_wrows(tx, n, w, xs, nx, y, out);
                    int bad = 0;
                    for (int r = 0; r < nx; r++) {
                        const float one = tx->vec_dot(n, w + (uint64_t)r * xs, y);
                        const float ref = tx->vec_dot_ref(n, w + (uint64_t)r * xs, y);
                        bad += memcmp(&one, &out[r], 4) != 0;
                        if (is_block32(TYPES[i]) || is_kquant(TYPES[i])) bad += memcmp(&ref, &out[r], 4) != 0;
                    }
                    for (int r = nx; r < MAX_ROWS; r++) bad += out[r] != -1.0f; /* nothing past nx written */
                    CHECKF(bad == 0, "%s vec_dot_wrows n=%lld (activations %d): %d rows differ from vec_dot / ref in %d",
                           tx->name, (long long)n, yk, nx, bad);
                }
            }
            free(x); free(w); free(y);
        }
}

/* The table holds one batch kernel per type; the others built for x86 must stay bit-identical
 * too (other CPUs run them): AVX2 always, the AVX-VNNI and AVX512-VNNI twins where this CPU has
 * the instructions (a kernel the CPU cannot run is reported as not exercised). */
static void test_dot_rows_x86_direct(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (strcmp(chord_quant_isa(), "avx2") != 0) return;
    __builtin_cpu_init();
    const int vnni = __builtin_cpu_supports("avxvnni");
    const int avx512vnni = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                           __builtin_cpu_supports("avx512bw") &&
                           __builtin_cpu_supports("avx512vnni");
    static const struct {
        uint32_t type;
        chord_vec_dot_rows_fn avx2, vnni, avx512vnni;
        chord_vec_dot_fn one_avx2, one_vnni, one_avx512vnni;
    } k[] = {
        { CHORD_TYPE_Q4_K, chord_dot_rows_q4_K_avx2, chord_dot_rows_q4_K_vnni, chord_dot_rows_q4_K_avx512vnni,
          chord_dot_q4_K_avx2, chord_dot_q4_K_vnni, chord_dot_q4_K_avx512vnni },
        { CHORD_TYPE_Q6_K, chord_dot_rows_q6_K_avx2, chord_dot_rows_q6_K_vnni, chord_dot_rows_q6_K_avx512vnni,
          chord_dot_q6_K_avx2, chord_dot_q6_K_vnni, chord_dot_q6_K_avx512vnni },
        { CHORD_TYPE_Q8_0, chord_dot_rows_q8_0_avx2, chord_dot_rows_q8_0_vnni, chord_dot_rows_q8_0_avx512vnni,
          chord_dot_q8_0_avx2, chord_dot_q8_0_vnni, chord_dot_q8_0_avx512vnni },
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        /* the single-row (decode) VNNI forms against AVX2's, on every row kind */
        const chord_type_traits *tx = chord_type_get(k[i].type), *ty = chord_type_get(tx->vec_dot_type);
        const int64_t n = 256 * 5;
        uint64_t rb, yb;
        chord_type_row_bytes(k[i].type, (uint64_t)n, &rb);
        chord_type_row_bytes(tx->vec_dot_type, (uint64_t)n, &yb);
        float *x = malloc(n * 4);
        uint8_t *w = malloc(rb), *y = malloc(yb);
        for (int wk = 0; wk < 16; wk++) {
            fill_row(x, n, wk % 4, 1.0f + (float)wk);
            tx->from_float(x, w, n);
            fill_row(x, n, (wk / 4) % 4, 0.5f + (float)wk);
            ty->from_float(x, y, n);
            const float a = k[i].one_avx2(n, w, y);
            const float b = vnni ? k[i].one_vnni(n, w, y) : a, c = avx512vnni ? k[i].one_avx512vnni(n, w, y) : a;
            CHECKF(memcmp(&a, &b, 4) == 0 && memcmp(&a, &c, 4) == 0,
                   "%s single-row VNNI kernels differ from AVX2 (kinds %d): %.9g %.9g %.9g", tx->name, wk, a, b, c);
        }
        free(x); free(w); free(y);
        check_rows_kernel(k[i].type, k[i].avx2, "avx2 rows kernel");
        if (vnni) check_rows_kernel(k[i].type, k[i].vnni, "avx-vnni rows kernel");
        if (avx512vnni) check_rows_kernel(k[i].type, k[i].avx512vnni, "avx512-vnni rows kernel");
    }
    check_rows_packed(chord_dot_rows_q8_0_packed_avx2, PACK_U8, "avx2 packed rows kernel");
    check_tile_packed(chord_dot_tile_q8_0_packed_avx2, PACK_U8, "avx2 packed tile kernel");
    check_rows_packed(chord_dot_rows_q8_0_packed_s8_avx2, PACK_S8, "avx2 signed packed rows kernel");
    check_tile_packed(chord_dot_tile_q8_0_packed_s8_avx2, PACK_S8, "avx2 signed packed tile kernel");
    check_tile_plain(CHORD_TYPE_Q4_K, chord_dot_tile_q4_K_avx2, "avx2 tile kernel");
    if (vnni) check_rows_packed(chord_dot_rows_q8_0_packed_vnni, PACK_U8, "avx-vnni packed rows kernel");
    if (avx512vnni) check_rows_packed(chord_dot_rows_q8_0_packed_avx512vnni, PACK_U8, "avx512-vnni packed rows kernel");
    if (avx512vnni) check_tile_packed(chord_dot_tile_q8_0_packed_avx512vnni, PACK_U8, "avx512-vnni packed tile kernel");
    if (avx512vnni) check_tile_packed(chord_dot_tile_q8_0_packed_avx512, PACK_U8, "avx512 zmm packed tile kernel");
    if (avx512vnni) check_tile_plain(CHORD_TYPE_Q4_K, chord_dot_tile_q4_K_avx512vnni, "avx512-vnni q4_K tile kernel");
    if (avx512vnni) check_tile_plain(CHORD_TYPE_Q6_K, chord_dot_tile_q6_K_avx512vnni, "avx512-vnni q6_K tile kernel");
    printf("test_quant_rows: batch kernels exercised directly: avx2%s%s\n", vnni ? ", avx-vnni" : "",
           avx512vnni ? ", avx512-vnni" : "");
    if (!vnni) printf("test_quant_rows: this CPU has no AVX-VNNI: the _vnni batch kernels were not run\n");
    if (!avx512vnni) printf("test_quant_rows: this CPU has no AVX512-VNNI: the _avx512vnni batch kernels were not run\n");
#endif
}

/* The zmm decode kernels (avx512vnni_wrows.c) called directly against the AVX2 ones and vec_dot,
 * whatever the table installed: every nx of one call (1..4), weight rows of every kind (as
 * test_dot_wrows: the fill_row kinds, raw random bytes, repeated patterns), Gaussian and raw
 * activations; exact compares. */
static void test_dot_wrows_x86_direct(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (strcmp(chord_quant_isa(), "avx2") != 0) return;
    __builtin_cpu_init();
    if (!(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
          __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni"))) {
        printf("test_quant_rows: this CPU has no AVX512-VNNI: the _avx512vnni decode kernels were not run\n");
        return;
    }
    static const struct {
        uint32_t type;
        chord_vec_dot_wrows_fn avx2, avx512vnni;
    } k[] = {
        { CHORD_TYPE_Q4_K, chord_dot_wrows_q4_K_avx2, chord_dot_wrows_q4_K_avx512vnni },
        { CHORD_TYPE_Q6_K, chord_dot_wrows_q6_K_avx2, chord_dot_wrows_q6_K_avx512vnni },
    };
    static const uint8_t patterns[] = { 0xFF, 0x80, 0x55, 0x0F };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        for (int64_t n = 256; n <= 256 * 7; n += 256 * 3) {
            const chord_type_traits *tx = chord_type_get(k[i].type), *ty = chord_type_get(tx->vec_dot_type);
            uint64_t rb, yb;
            chord_type_row_bytes(k[i].type, (uint64_t)n, &rb);
            chord_type_row_bytes(tx->vec_dot_type, (uint64_t)n, &yb);
            const uint64_t xs = rb + 24;
            float *x = malloc(n * 4);
            uint8_t *w = malloc(xs * CHORD_WROWS_MAX), *y = malloc(yb);
            for (int round = 0; round < 12; round++) {
                for (int r = 0; r < CHORD_WROWS_MAX; r++) {
                    uint8_t *row = w + (uint64_t)r * xs;
                    const int kind = (round + r) % 6;
                    if (kind < 4) {
                        fill_row(x, n, kind, (float)(round + r + 1));
                        tx->from_float(x, row, n);
                    } else {
                        for (uint64_t b = 0; b < rb; b++) row[b] = kind == 4 ? (uint8_t)rnd() : patterns[(round + r) % 4];
                        sanitize(k[i].type, row, n / QK_K, 1.0f);
                    }
                }
                if (round % 2 == 0) {
                    fill_row(x, n, round / 2 % 4, 1.0f);
                    ty->from_float(x, y, n);
                } else {
                    for (uint64_t b = 0; b < yb; b++) y[b] = (uint8_t)rnd();
                    sanitize(tx->vec_dot_type, y, n / QK_K, 1.0f);
                }
                for (int nx = 1; nx <= CHORD_WROWS_MAX; nx++) {
                    float a[CHORD_WROWS_MAX + 1], b[CHORD_WROWS_MAX + 1];
                    for (int r = 0; r <= CHORD_WROWS_MAX; r++) a[r] = b[r] = -1.0f;
                    k[i].avx2(n, w, xs, nx, y, a);
                    k[i].avx512vnni(n, w, xs, nx, y, b);
                    int bad = 0;
                    for (int r = 0; r < nx; r++) {
                        const float one = tx->vec_dot(n, w + (uint64_t)r * xs, y);
                        bad += memcmp(&a[r], &b[r], 4) != 0 || memcmp(&one, &b[r], 4) != 0;
                    }
                    for (int r = nx; r <= CHORD_WROWS_MAX; r++) bad += b[r] != -1.0f;
                    CHECKF(bad == 0, "%s avx512-vnni decode kernel n=%lld round %d nx=%d: %d rows differ from avx2 / vec_dot",
                           tx->name, (long long)n, round, nx, bad);
                }
            }
            free(x); free(w); free(y);
        }
    printf("test_quant_rows: decode kernels exercised directly: avx2, avx512-vnni\n");
#endif
}

int main(void) {
    (void)check_shared_path;
    chord_quant_init();
    printf("test_quant_rows: kernels %s\n", chord_quant_isa());
    if (!strcmp(chord_quant_isa(), "scalar"))
        printf("SKIP: no AVX2/FMA/F16C on this CPU: SIMD batch kernels are not exercised\n");
    test_dot_rows();
    test_dot_wrows();
    test_dot_rows_x86_direct();
    test_dot_wrows_x86_direct();
    return check_report("test_quant_rows");
}
