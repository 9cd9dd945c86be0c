/*
 * sampler.c — picking the next token from logits: repetition penalty over the last N tokens,
 * then greedy (temperature 0) or top-k → top-p → min-p → temperature → a seeded draw, the
 * order of llama.cpp's default chain. The random source is splitmix64 seeded by the params, so
 * the same seed, logits and history always give the same token on every target.
 *
 * Candidate buffers are sized once (chord_sampler_reserve) so sampling never allocates.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "model/model.h"
#include "engine/session.h"

typedef struct { int32_t id; float logit; } cand;

struct chord_sampler {
    chord_sampler_params p;
    uint64_t rng;
    cand *c;          /* n_cap candidates */
    float *penalized; /* n_cap logits after the repetition penalty */
    int32_t n_cap;
};

chord_sampler_params chord_sampler_params_default(void) {
    chord_sampler_params p = {
        .temperature = 0.8f, .top_k = 40, .top_p = 0.95f, .min_p = 0.05f,
        .repeat_penalty = 1.0f, .repeat_last_n = 64, .seed = 0, .ignore_eos = 0,
    };
    return p;
}

chord_status chord_sampler_params_check(const chord_sampler_params *p, chord_error *err) {
    if (!p) return chord_fail(err, CHORD_E_INVALID_ARG, "sampler params are NULL");
    if (isnan(p->temperature) || isinf(p->temperature) || p->temperature < 0)
        return chord_fail(err, CHORD_E_INVALID_ARG, "temperature %g must be a finite number >= 0", (double)p->temperature);
    if (p->top_k < 0) return chord_fail(err, CHORD_E_INVALID_ARG, "top_k %d must be >= 0 (0 = off)", p->top_k);
    if (isnan(p->top_p) || !(p->top_p > 0.0f && p->top_p <= 1.0f))
        return chord_fail(err, CHORD_E_INVALID_ARG, "top_p %g must be in (0, 1]", (double)p->top_p);
    if (isnan(p->min_p) || !(p->min_p >= 0.0f && p->min_p <= 1.0f))
        return chord_fail(err, CHORD_E_INVALID_ARG, "min_p %g must be in [0, 1]", (double)p->min_p);
    if (isnan(p->repeat_penalty) || isinf(p->repeat_penalty) || !(p->repeat_penalty > 0.0f))
        return chord_fail(err, CHORD_E_INVALID_ARG, "repeat_penalty %g must be a finite number > 0",
                          (double)p->repeat_penalty);
    if (p->repeat_last_n < 0)
        return chord_fail(err, CHORD_E_INVALID_ARG, "repeat_last_n %d must be >= 0", p->repeat_last_n);
    return CHORD_OK;
}

chord_status chord_sampler_new(chord_sampler **out, const chord_sampler_params *p, chord_error *err) {
    if (!out) return chord_fail(err, CHORD_E_INVALID_ARG, "chord_sampler_new: out is NULL");
    *out = NULL;
    chord_status st = chord_sampler_params_check(p, err);
    if (st != CHORD_OK) return st;
    chord_sampler *s = calloc(1, sizeof *s);
    if (!s) return chord_fail(err, CHORD_E_NOMEM, "out of memory allocating a sampler");
    s->p = *p;
    s->rng = p->seed;
    *out = s;
    return CHORD_OK;
}

void chord_sampler_free(chord_sampler *s) {
    if (!s) return;
    free(s->c);
    free(s->penalized);
    free(s);
}

chord_status chord_sampler_reserve(chord_sampler *s, int32_t n_vocab, chord_error *err) {
    if (n_vocab <= s->n_cap) return CHORD_OK;
    cand *c = malloc((size_t)n_vocab * sizeof *c);
    float *pen = malloc((size_t)n_vocab * sizeof *pen);
    if (!c || !pen) {
        free(c);
        free(pen);
        return chord_fail(err, CHORD_E_NOMEM, "out of memory for %d sampler candidates", n_vocab);
    }
    free(s->c);
    free(s->penalized);
    s->c = c;
    s->penalized = pen;
    s->n_cap = n_vocab;
    return CHORD_OK;
}

/* splitmix64: tiny, full-period, identical everywhere. */
static uint64_t next_u64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static float next_unit(uint64_t *state) { return (float)(next_u64(state) >> 40) / 16777216.0f; }

static int cand_desc(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->logit != y->logit) return x->logit < y->logit ? 1 : -1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Moves the k best candidates (cand_desc order) to the front in O(n log k): c[0..k) is kept as
 * a heap whose root is the worst of the best k so far. */
static void sift_down(cand *h, int32_t k, int32_t i) {
    for (;;) {
        int32_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < k && cand_desc(&h[l], &h[w]) > 0) w = l;
        if (r < k && cand_desc(&h[r], &h[w]) > 0) w = r;
        if (w == i) return;
        cand t = h[i]; h[i] = h[w]; h[w] = t;
        i = w;
    }
}

static int32_t select_top_k(cand *c, int32_t n, int32_t k) {
    for (int32_t i = k / 2 - 1; i >= 0; i--) sift_down(c, k, i);
    for (int32_t j = k; j < n; j++)
        if (cand_desc(&c[j], &c[0]) < 0) {
            c[0] = c[j];
            sift_down(c, k, 0);
        }
    return k;
}

/* llama.cpp's penalty: each distinct recent token's logit is divided (if > 0) or multiplied
 * (if <= 0) by the penalty once. Marks visited tokens by negating nothing: a small scan per
 * token keeps it allocation-free (windows are short). */
static void apply_penalty(const chord_sampler *s, float *l, int32_t n_vocab, const int32_t *hist, size_t n_hist) {
    if (s->p.repeat_penalty == 1.0f || s->p.repeat_last_n == 0 || !hist) return;
    size_t n = n_hist < (size_t)s->p.repeat_last_n ? n_hist : (size_t)s->p.repeat_last_n;
    const int32_t *w = hist + (n_hist - n);
    for (size_t i = 0; i < n; i++) {
        int32_t id = w[i], seen = 0;
        if (id < 0 || id >= n_vocab) continue;
        for (size_t j = 0; j < i && !seen; j++) seen = w[j] == id;
        if (seen) continue;
        l[id] = l[id] <= 0 ? l[id] * s->p.repeat_penalty : l[id] / s->p.repeat_penalty;
    }
}

/* Keeps the first n candidates whose cumulative/relative probability passes top-p and min-p
 * (probabilities of the untempered logits, as llama.cpp's chain computes them). */
static int32_t filter_p(const chord_sampler *s, cand *c, int32_t n) {
    if (s->p.top_p >= 1.0f && s->p.min_p <= 0.0f) return n;
    const float max = c[0].logit;
    double sum = 0.0;
    for (int32_t i = 0; i < n; i++) sum += expf(c[i].logit - max);
    double cum = 0.0;
    int32_t keep = n;
    for (int32_t i = 0; i < n; i++) {
        double p = expf(c[i].logit - max) / sum;
        if (s->p.min_p > 0.0f && i > 0 && p < s->p.min_p * (1.0 / sum)) { keep = i; break; }
        cum += p;
        if (s->p.top_p < 1.0f && cum >= s->p.top_p) { keep = i + 1; break; }
    }
    return keep < 1 ? 1 : keep;
}

int32_t chord_sampler_sample(chord_sampler *s, const chord_model *m, const float *logits,
                             int32_t n_vocab, const int32_t *history, size_t n_history) {
    if (!s || !logits || n_vocab <= 0 || chord_sampler_reserve(s, n_vocab, NULL) != CHORD_OK) return -1;
    float *l = s->penalized;
    memcpy(l, logits, (size_t)n_vocab * sizeof *l);
    apply_penalty(s, l, n_vocab, history, n_history);
    int32_t n = 0;
    for (int32_t i = 0; i < n_vocab; i++) {
        if (s->p.ignore_eos && m && chord_token_is_eog(m, i)) continue;
        if (isnan(l[i])) continue;
        s->c[n].id = i;
        s->c[n].logit = l[i];
        n++;
    }
    if (n == 0) return -1;
    if (s->p.temperature == 0.0f) { /* greedy: first maximum wins */
        int32_t best = 0;
        for (int32_t i = 1; i < n; i++)
            if (s->c[i].logit > s->c[best].logit) best = i;
        return s->c[best].id;
    }
    cand *c = s->c;
    if (s->p.top_k > 0 && s->p.top_k < n) n = select_top_k(c, n, s->p.top_k);
    qsort(c, (size_t)n, sizeof *c, cand_desc);
    n = filter_p(s, c, n);
    const float inv_t = 1.0f / s->p.temperature, max = c[0].logit * inv_t;
    double sum = 0.0;
    for (int32_t i = 0; i < n; i++) sum += expf(c[i].logit * inv_t - max);
    double r = (double)next_unit(&s->rng) * sum, acc = 0.0;
    for (int32_t i = 0; i < n; i++) {
        acc += expf(c[i].logit * inv_t - max);
        if (r < acc) return c[i].id;
    }
    return c[n - 1].id;
}
