/*
 * avx512vnni_k.c — the Q4_K and Q6_K prompt tiles (quant.h chord_vec_dot_tile_fn) on 512-bit
 * registers with AVX512-VNNI's vpdpwssd, compiled with AVX512VNNI_FLAGS and installed only where
 * the CPU and the OS report AVX512F/VL/BW/VNNI (traits.c).
 *
 * Why a tile and not x86_vnni.h's rows kernel on zmm: a zmm holds two 32-element groups, and
 * ref_k.c's canonical order needs a block's 8 lanes summed exactly before the float steps, so a
 * one-token zmm sum would need a cross-half fold per block and token. Instead every zmm here
 * holds TWO TOKENS' copies of the same group: lanes 0-7 token a, lanes 8-15 token b. The weight
 * operand is the group's 32 levels broadcast to both halves (one load, 1-2 logic operations),
 * the activation operand is 64 bytes of a scratch the tile fills once per group of 8 tokens
 * ([a's group g | b's group g], shared by every weight row of the tile), and at the end of a
 * block the pair's integer lanes are exactly two tokens' 8 canonical lanes: one conversion, one
 * multiply by [d_a x8 | d_b x8] and one add per two tokens, no shuffles. Per 256 weights x token
 * that is 4 vpmaddubsw + 4 vpdpwssd on 512 bits (Zen 5 issues two per cycle); the Q4_K tile takes
 * two weight rows per pass, so each activation load feeds both (Q6_K's two-row form was no
 * faster, its level unpacking is twice Q4_K's).
 *
 * Measured on Zen 5 and not kept (bench_kernels --prompt, tok 64, n = 2048, best of 5
 * interleaved runs): fewer multiplies per token, 4 vpdpbusd for the 4-element group sums and one
 * vpdpwssd per two groups (their int16-safe sums paired by vpackssdw: 5.3 -> 5.3 q4_K, 4.7 ->
 * 5.0 q6_K; by a shift and vpternlogd: 5.4 -> 5.6); the block's 16 scale products as one
 * multiply spread by vpermps instead of six multiplies (4.6 -> 4.8).
 *
 * Bit-identical to the AVX2 kernels and the scalar reference: the integer lanes are exact sums
 * (any order), then per block and (row, token) (float)lane * d and acc + f, a multiply and then an
 * add, never fused; Q4_K's min lanes in their own accumulator (4 tokens x 4 lanes per zmm); the
 * final sums in hsum_ps / hsum_ps128's order. Q6_K's "-32 x levels" correction is folded into the
 * integer lanes as their starting value (madd of the bsums with -32 x scale: exact, |v| < 2^31).
 */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <stdint.h>
#include "quant/quant.h"
#include "quant/blocks.h"
#include "quant/kernels.h"
#include "quant/x86.h"

#define TK_T 8        /* tokens per group: 4 pairs */
#define TK_KC 8       /* blocks per chunk: the scratch of 8 tokens x 8 blocks is 21 KiB, in L1 */

/* One block of a group of 8 tokens, prepared once for all weight rows. Tokens past the group's
 * count repeat its last token (computed, never written out). */
typedef struct {
    int8_t qs[TK_T / 2][8][64]; /* pair p, group g: [token 2p's 32 levels | token 2p+1's] */
    float d[TK_T / 2][16];      /* pair p: [y.d of 2p x8 | of 2p+1 x8] */
    int16_t aux[TK_T / 2][32];  /* Q6_K: pair p's bsums [2p x16 | 2p+1 x16]; Q4_K: quad q < 2:
                                 * [t p0..p7] for t = 4q..4q+3, p_j = bsums[2j] + bsums[2j+1] */
    float nd[2][16];            /* Q4_K: quad q: [-y.d of 4q+t x4 for t < 4] */
} tk_block;

#define TK_Y(yb, ys, t, i) ((const chord_block_q8_K *)((yb) + (uint64_t)(t) * (ys)) + (i))

/* Vector copies only: it runs once per tile call (16 weight rows) and token group; with scalar
 * bsums pair sums it took a fifth of the Q4_K tile's time (perf, TinyLlama prefill), now ~1/8. */
static void tk_prepare(tk_block *g, int64_t i0, int64_t nb, const uint8_t *yb, uint64_t ys, int nt, int q4) {
    for (int64_t i = 0; i < nb; i++) {
        const chord_block_q8_K *y[TK_T];
        for (int t = 0; t < TK_T; t++) y[t] = TK_Y(yb, ys, t < nt ? t : nt - 1, i0 + i);
        for (int p = 0; p < TK_T / 2; p++) {
            const chord_block_q8_K *a = y[2 * p], *b = y[2 * p + 1];
            for (int k = 0; k < 8; k++) {
                const __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(a->qs + 32 * k))),
                                                     _mm256_loadu_si256((const __m256i *)(b->qs + 32 * k)), 1);
                _mm512_store_si512(g[i].qs[p][k], v);
            }
            _mm256_store_ps(g[i].d[p], _mm256_set1_ps(a->d));
            _mm256_store_ps(g[i].d[p] + 8, _mm256_set1_ps(b->d));
            const __m256i ba = _mm256_loadu_si256((const __m256i *)a->bsums), bb = _mm256_loadu_si256((const __m256i *)b->bsums);
            if (q4) {
                /* [a p0-3, b p0-3 | a p4-7, b p4-7] -> [a p0-7 | b p0-7] */
                const __m256i h = _mm256_permute4x64_epi64(_mm256_hadd_epi16(ba, bb), _MM_SHUFFLE(3, 1, 2, 0));
                _mm256_store_si256((__m256i *)(g[i].aux[p / 2] + 16 * (p & 1)), h);
                _mm256_store_ps(g[i].nd[p / 2] + 8 * (p & 1), _mm256_setr_ps(-a->d, -a->d, -a->d, -a->d, -b->d, -b->d, -b->d, -b->d));
            } else {
                _mm256_store_si256((__m256i *)g[i].aux[p], ba);
                _mm256_store_si256((__m256i *)(g[i].aux[p] + 16), bb);
            }
        }
    }
}

/* A (weight row, token group)'s float accumulators between block chunks: the chunks run in
 * block order, so every lane still adds its blocks' products in the canonical order. */
typedef struct {
    __m512 acc[TK_T / 2]; /* pair p: [token 2p's 8 lanes | 2p+1's] */
    __m512 accm[2];       /* Q4_K quad q: tokens 4q..4q+3's 4 min lanes each */
} tk_acc;

/* An opaque vector: GCC otherwise reassociates a block's integer sums, issues every multiply
 * first and spills their results (x86_prompt_k.h's PK_KEEP, measured on Zen 3). */
#define TK_KEEP(v) __asm__("" : "+v"(v))

/* hsum_ps of the low (half 0) or high (half 1) 8 lanes of a pair accumulator */
static inline float tk_hsum_half(__m512 v, int half) {
    return hsum_ps(half ? _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)) : _mm512_castps512_ps256(v));
}

/* A Q4_K block's scales as vpdpwssd operands (dword j = scale j | scale j << 16) and its mins as
 * int16, unpacked once per tile call for all its token groups: per group and block the scalar
 * unpacking was ~4% of the tile's time (bench_kernels, n = 2048). 48 bytes per row and block on
 * the stack: 17 KiB for a 16-row tile of n = 5632. */
typedef struct {
    int32_t sc[8];
    __m128i mins;
} tk_q4s;

static void tk_prep_q4_K(tk_q4s *o, const uint8_t *x, uint64_t xs, int nx, int64_t nb) {
    for (int k = 0; k < nx; k++)
        for (int64_t i = 0; i < nb; i++, o++) {
            const __m128i sm = k4_scales_mins(((const chord_block_q4_K *)(x + (uint64_t)k * xs))[i].scales);
            const __m128i s16 = _mm_cvtepu8_epi16(sm);
            _mm_storeu_si128((__m128i *)o->sc, _mm_unpacklo_epi16(s16, s16));
            _mm_storeu_si128((__m128i *)(o->sc + 4), _mm_unpackhi_epi16(s16, s16));
            o->mins = _mm_cvtepu8_epi16(_mm_srli_si128(sm, 8));
        }
}

/* One Q4_K weight row x np pairs of the group (np a constant after inlining). */
static inline __attribute__((always_inline)) void tk_rows_q4_K(int64_t nb, const chord_block_q4_K *x0,
        const chord_block_q4_K *x1, const tk_block *g, const int nr, const int np, tk_acc *st0, tk_acc *st1,
        const tk_q4s *k0, const tk_q4s *k1) {
    const int nq = (np + 1) / 2;
    const __m512i m4 = _mm512_set1_epi8(0xF);
    const chord_block_q4_K *xr[2] = { x0, x1 };
    tk_acc *st[2] = { st0, st1 };
    __m512 acc[2][TK_T / 2], accm[2][2];
    const tk_q4s *ks[2] = { k0, k1 };
    UNROLL
    for (int r = 0; r < nr; r++) {
        UNROLL
        for (int p = 0; p < np; p++) acc[r][p] = st[r]->acc[p];
        UNROLL
        for (int q = 0; q < nq; q++) accm[r][q] = st[r]->accm[q];
    }
    for (int64_t i = 0; i < nb; i++) {
        UNROLL
        for (int r = 0; r < nr; r++) {
            const chord_block_q4_K *x = xr[r] + i;
            const __m512i mins = _mm512_broadcast_i32x4(ks[r][i].mins);
            const __m512 xdmin = _mm512_set1_ps(chord_x86_h2f[x->dmin]);
            UNROLL
            for (int q = 0; q < nq; q++) {
                const __m512i prod = _mm512_madd_epi16(mins, _mm512_load_si512(g[i].aux[q]));
                const __m512 d = _mm512_mul_ps(_mm512_load_ps(g[i].nd[q]), xdmin);
                accm[r][q] = _mm512_add_ps(accm[r][q], _mm512_mul_ps(d, _mm512_cvtepi32_ps(prod)));
            }
        }
        __m512i sumi[2][TK_T / 2];
        UNROLL
        for (int r = 0; r < nr; r++)
            UNROLL
            for (int p = 0; p < np; p++) sumi[r][p] = _mm512_setzero_si512();
        UNROLL
        for (int j = 0; j < 4; j++) {
            __m512i lo[2], hi[2];
            UNROLL
            for (int r = 0; r < nr; r++) {
                const __m512i bits = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(xr[r][i].qs + 32 * j)));
                lo[r] = _mm512_and_si512(bits, m4);
                hi[r] = _mm512_and_si512(_mm512_srli_epi16(bits, 4), m4);
            }
            UNROLL
            for (int p = 0; p < np; p++) {
                const __m512i yl = _mm512_load_si512(g[i].qs[p][2 * j]), yh = _mm512_load_si512(g[i].qs[p][2 * j + 1]);
                UNROLL
                for (int r = 0; r < nr; r++) {
                    const __m512i pl = _mm512_maddubs_epi16(lo[r], yl);
                    const __m512i ph = _mm512_maddubs_epi16(hi[r], yh);
                    sumi[r][p] = _mm512_dpwssd_epi32(sumi[r][p], pl, _mm512_set1_epi32(ks[r][i].sc[2 * j]));
                    sumi[r][p] = _mm512_dpwssd_epi32(sumi[r][p], ph, _mm512_set1_epi32(ks[r][i].sc[2 * j + 1]));
                    TK_KEEP(sumi[r][p]);
                }
            }
        }
        UNROLL
        for (int r = 0; r < nr; r++) {
            const __m512 xd = _mm512_set1_ps(chord_x86_h2f[xr[r][i].d]);
            UNROLL
            for (int p = 0; p < np; p++) {
                const __m512 d = _mm512_mul_ps(_mm512_load_ps(g[i].d[p]), xd);
                acc[r][p] = _mm512_add_ps(acc[r][p], _mm512_mul_ps(d, _mm512_cvtepi32_ps(sumi[r][p])));
            }
        }
    }
    UNROLL
    for (int r = 0; r < nr; r++) {
        UNROLL
        for (int p = 0; p < np; p++) st[r]->acc[p] = acc[r][p];
        UNROLL
        for (int q = 0; q < nq; q++) st[r]->accm[q] = accm[r][q];
    }
}

static inline void tk_out_q4_K(const tk_acc *st, int nt, float *o) {
    for (int t = 0; t < nt; t++) {
        float m[16];
        _mm512_storeu_ps(m, st->accm[t / 4]);
        const __m128 mt = _mm_loadu_ps(m + 4 * (t % 4));
        o[t] = tk_hsum_half(st->acc[t / 2], t & 1) + hsum_ps128(mt);
    }
}

/* One Q6_K weight row x np pairs. A group's scale operand is [sc a x8 | sc b x8] words in each
 * half (its two 16-element sub-blocks): one vpermw of the block's 16 scales per group. */
static inline __attribute__((always_inline)) void tk_row_q6_K(int64_t nb, const chord_block_q6_K *x,
        const tk_block *g, const int np, tk_acc *st) {
    const __m512i m4 = _mm512_set1_epi8(0xF);
    __m512 acc[TK_T / 2];
    UNROLL
    for (int p = 0; p < np; p++) acc[p] = st->acc[p];
    for (int64_t i = 0; i < nb; i++) {
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x[i].scales));
        const __m512i sc = _mm512_castsi256_si512(sc16);
        /* -32 x scale in both halves: the bsums madd is the levels' +32 offset, exactly */
        const __m512i nsc = _mm512_broadcast_i64x4(_mm256_slli_epi16(_mm256_sub_epi16(_mm256_setzero_si256(), sc16), 5));
        __m512i sumi[TK_T / 2];
        UNROLL
        for (int p = 0; p < np; p++) sumi[p] = _mm512_madd_epi16(_mm512_load_si512(g[i].aux[p]), nsc);
        UNROLL
        for (int j = 0; j < 2; j++) {
            const __m512i l0 = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(x[i].ql + 64 * j)));
            const __m512i l1 = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(x[i].ql + 64 * j + 32)));
            const __m512i h = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(x[i].qh + 32 * j)));
            UNROLL
            for (int k = 0; k < 4; k++) {
                const __m512i l = k & 1 ? l1 : l0;
                const __m512i lv = k < 2 ? l : _mm512_srli_epi16(l, 4);
                /* bits 2k, 2k+1 of h to bits 4, 5 (masked first, so nothing else moves in) */
                const __m512i hm = _mm512_and_si512(h, _mm512_set1_epi8((char)(3 << (2 * k))));
                const __m512i hv = k == 0 ? _mm512_slli_epi16(hm, 4) : k == 1 ? _mm512_slli_epi16(hm, 2)
                                 : k == 2 ? hm : _mm512_srli_epi16(hm, 2);
                /* (lv & 0x0F) | hv: bitwise select by the constant (0xE4 = C ? A : B) */
                const __m512i q = _mm512_ternarylogic_epi32(lv, hv, m4, 0xE4);
                const short a = (short)(8 * j + 2 * k);
                const __m512i idx = _mm512_mask_blend_epi16(0xFF00FF00u, _mm512_set1_epi16(a), _mm512_set1_epi16((short)(a + 1)));
                const __m512i s = _mm512_permutexvar_epi16(idx, sc);
                UNROLL
                for (int p = 0; p < np; p++) {
                    const __m512i pr = _mm512_maddubs_epi16(q, _mm512_load_si512(g[i].qs[p][4 * j + k]));
                    sumi[p] = _mm512_dpwssd_epi32(sumi[p], pr, s);
                    TK_KEEP(sumi[p]);
                }
            }
        }
        const __m512 xd = _mm512_set1_ps(chord_x86_h2f[x[i].d]);
        UNROLL
        for (int p = 0; p < np; p++) {
            const __m512 d = _mm512_mul_ps(_mm512_load_ps(g[i].d[p]), xd);
            acc[p] = _mm512_add_ps(acc[p], _mm512_mul_ps(d, _mm512_cvtepi32_ps(sumi[p])));
        }
    }
    UNROLL
    for (int p = 0; p < np; p++) st->acc[p] = acc[p];
}

static inline __attribute__((always_inline)) void tk_rows_q6_K(int64_t nb, const chord_block_q6_K *x0,
        const chord_block_q6_K *x1, const tk_block *g, const int nr, const int np, tk_acc *st0, tk_acc *st1,
        const char *k0, const char *k1) {
    (void)x1; (void)nr; (void)st1; (void)k0; (void)k1;
    tk_row_q6_K(nb, x0, g, np, st0);
}

static inline void tk_out_q6_K(const tk_acc *st, int nt, float *o) {
    for (int t = 0; t < nt; t++) o[t] = tk_hsum_half(st->acc[t / 2], t & 1);
}

/* nx weight rows x ny tokens: groups of 8 tokens, and in each group chunks of TK_KC blocks, each
 * prepared once, against every weight row (so the scratch stays in L1: with the whole row
 * prepared, 22 blocks (n = 5632, TinyLlama's ffn_down) took 8.1 cycles per 256 weights x token
 * against 5.3 at n = 2048, Zen 5). Meanwhile the next nx rows (the next tile's, ops.c walks a
 * matrix in order) are prefetched into L2, a slice per group, as x86_prompt_k.h's tile does. */
/* ROW(..., nr, NP, ...) with NP the constant equal to np (1..4) */
#define TK_BY_NP(np, ROW, kc, xa, xb, g, nr, sa, sb, ka, kb)                                       \
    switch (np) {                                                                                  \
    case 4: ROW(kc, xa, xb, g, nr, 4, sa, sb, ka, kb); break;                                      \
    case 3: ROW(kc, xa, xb, g, nr, 3, sa, sb, ka, kb); break;                                      \
    case 2: ROW(kc, xa, xb, g, nr, 2, sa, sb, ka, kb); break;                                      \
    default: ROW(kc, xa, xb, g, nr, 1, sa, sb, ka, kb); break;                                     \
    }
#define TK_TILE(NAME, BLOCK, Q4, ROW, OUT, NR, KT, KPREP)                                                         \
    void NAME(int64_t n, const void *xv, uint64_t xs, int nx, const void *yv, uint64_t ys, int ny, \
              float *out, uint64_t os) {                                                           \
        const uint8_t *x = xv, *y = yv;                                                            \
        const int64_t nb = n / QK_K;                                                               \
        tk_block g[TK_KC] __attribute__((aligned(64)));                                            \
        tk_acc st[nx > 0 ? nx : 1];                                                                \
        KT kd[Q4 && nx > 0 ? (int64_t)nx * nb : 1];                                                \
        KPREP(kd, x, xs, nx, nb);                                                                  \
        const uint64_t pf_bytes = (uint64_t)nx * xs;                                               \
        const uint64_t pf_step = (pf_bytes / (uint64_t)((ny + TK_T - 1) / TK_T) + 63) & ~(uint64_t)63; \
        const uint8_t *pf = x + pf_bytes;                                                          \
        uint64_t pf_done = 0;                                                                      \
        for (int t0 = 0; t0 < ny; t0 += TK_T) {                                                    \
            const int nt = ny - t0 < TK_T ? ny - t0 : TK_T, np = (nt + 1) / 2;                     \
            const uint8_t *yg = y + (uint64_t)t0 * ys;                                             \
            for (const uint64_t e = pf_done + pf_step; pf_done < e && pf_done < pf_bytes; pf_done += 64) \
                _mm_prefetch((const char *)pf + pf_done, _MM_HINT_T1);                             \
            for (int k = 0; k < nx; k++) {                                                         \
                for (int p = 0; p < TK_T / 2; p++) st[k].acc[p] = _mm512_setzero_ps();             \
                st[k].accm[0] = st[k].accm[1] = _mm512_setzero_ps();                               \
            }                                                                                      \
            for (int64_t c0 = 0; c0 < nb; c0 += TK_KC) {                                           \
                const int64_t kc = nb - c0 < TK_KC ? nb - c0 : TK_KC;                              \
                tk_prepare(g, c0, kc, yg, ys, nt, Q4);                                             \
                for (int k = 0; k < nx; k += NR) {                                                 \
                    const BLOCK *xk = (const BLOCK *)(x + (uint64_t)k * xs) + c0;                  \
                    if (NR == 2 && k + 1 < nx) {                                                   \
                        const BLOCK *xk1 = (const BLOCK *)(x + (uint64_t)(k + 1) * xs) + c0;       \
                        TK_BY_NP(np, ROW, kc, xk, xk1, g, 2, &st[k], &st[k + 1],                   \
                                 kd + (Q4 ? k * nb + c0 : 0), kd + (Q4 ? (k + 1) * nb + c0 : 0))           \
                    } else {                                                                       \
                        TK_BY_NP(np, ROW, kc, xk, xk, g, 1, &st[k], &st[k],                        \
                                 kd + (Q4 ? k * nb + c0 : 0), kd + (Q4 ? k * nb + c0 : 0))                 \
                        if (NR == 2) break;                                                        \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
            for (int k = 0; k < nx; k++) {                                                         \
                float o[TK_T];                                                                     \
                OUT(&st[k], nt, o);                                                                \
                for (int t = 0; t < nt; t++) out[(uint64_t)(t0 + t) * os + k] = o[t];              \
            }                                                                                      \
        }                                                                                          \
    }

TK_TILE(chord_dot_tile_q4_K_avx512vnni, chord_block_q4_K, 1, tk_rows_q4_K, tk_out_q4_K, 2, tk_q4s, tk_prep_q4_K)
#define TK_PREP_NONE(kd, x, xs, nx, nb) ((void)kd)
TK_TILE(chord_dot_tile_q6_K_avx512vnni, chord_block_q6_K, 0, tk_rows_q6_K, tk_out_q6_K, 1, char, TK_PREP_NONE)

#endif
