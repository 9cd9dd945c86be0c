/*
 * test_sampler.c — the sampler on hand-made logits: parameter validation (each bad field named),
 * greedy argmax with ties to the lowest id, seeded determinism, top-k / top-p / min-p cut-offs,
 * the repetition penalty, and that temperature-1 sampling follows the softmax distribution.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "chord.h"
#include "check.h"

static void expect_bad(chord_sampler_params p, const char *field) {
    chord_error err_, *err = &err_;
    chord_sampler *s = NULL;
    chord_status st = chord_sampler_new(&s, &p, err);
    CHECKF(st == CHORD_E_INVALID_ARG && s == NULL && strstr(err->message, field), "%s: got %s '%s'", field,
           chord_status_name(st), err->message);
}

static chord_sampler *make(chord_sampler_params p) {
    chord_error err_, *err = &err_;
    chord_sampler *s = NULL;
    CHECK_OK(chord_sampler_new(&s, &p, err), err);
    return s;
}

int main(void) {
    (void)check_shared_path;
    chord_sampler_params d = chord_sampler_params_default(), p;
    CHECK(chord_sampler_params_check(&d, NULL) == CHORD_OK);
    p = d; p.temperature = -0.5f; expect_bad(p, "temperature");
    p = d; p.temperature = NAN; expect_bad(p, "temperature");
    p = d; p.temperature = INFINITY; expect_bad(p, "temperature");
    p = d; p.top_p = 0.0f; expect_bad(p, "top_p");
    p = d; p.top_p = 1.5f; expect_bad(p, "top_p");
    p = d; p.top_p = NAN; expect_bad(p, "top_p");
    p = d; p.min_p = -0.1f; expect_bad(p, "min_p");
    p = d; p.min_p = NAN; expect_bad(p, "min_p");
    p = d; p.top_k = -1; expect_bad(p, "top_k");
    p = d; p.repeat_penalty = 0.0f; expect_bad(p, "repeat_penalty");
    p = d; p.repeat_penalty = NAN; expect_bad(p, "repeat_penalty");
    p = d; p.repeat_last_n = -2; expect_bad(p, "repeat_last_n");

    /* greedy: the first maximum */
    float l[8] = { 0.1f, 2.0f, -1.0f, 2.0f, 0.5f, 1.9f, -3.0f, 0.0f };
    p = d; p.temperature = 0.0f;
    chord_sampler *s = make(p);
    CHECK(chord_sampler_sample(s, NULL, l, 8, NULL, 0) == 1);
    /* repetition penalty: 1 and 3 seen recently, so 5 (1.9) wins */
    chord_sampler_free(s);
    p.repeat_penalty = 1.5f; p.repeat_last_n = 4;
    s = make(p);
    int32_t hist[6] = { 3, 7, 1, 1, 3, 2 };
    CHECK(chord_sampler_sample(s, NULL, l, 8, hist, 6) == 5);
    CHECK(chord_sampler_sample(s, NULL, l, 8, hist, 1) == 1);   /* window holds only token 3 */
    CHECK(chord_sampler_sample(s, NULL, l, 8, hist + 1, 1) == 1); /* 7 is not a candidate of note */
    chord_sampler_free(s);

    /* same seed, same tokens; another seed, another sequence */
    float flat[64];
    for (int i = 0; i < 64; i++) flat[i] = 0.01f * (float)(i % 7);
    p = d; p.temperature = 1.0f; p.top_k = 0; p.top_p = 1.0f; p.min_p = 0.0f; p.seed = 1234;
    int32_t a[100], b[100], c[100];
    chord_sampler *s1 = make(p), *s2 = make(p);
    p.seed = 99;
    chord_sampler *s3 = make(p);
    int differ = 0;
    for (int i = 0; i < 100; i++) {
        a[i] = chord_sampler_sample(s1, NULL, flat, 64, NULL, 0);
        b[i] = chord_sampler_sample(s2, NULL, flat, 64, NULL, 0);
        c[i] = chord_sampler_sample(s3, NULL, flat, 64, NULL, 0);
        differ += a[i] != c[i];
    }
    CHECK(memcmp(a, b, sizeof a) == 0);
    CHECK(differ > 50);
    chord_sampler_free(s1); chord_sampler_free(s2); chord_sampler_free(s3);

    /* top-k 1 is greedy at any temperature; top-p tiny keeps only the best; min-p cuts the tail */
    p = d; p.temperature = 5.0f; p.top_k = 1; p.top_p = 1.0f; p.min_p = 0.0f;
    s = make(p);
    for (int i = 0; i < 50; i++) CHECK(chord_sampler_sample(s, NULL, l, 8, NULL, 0) == 1);
    chord_sampler_free(s);
    p.top_k = 3; /* at temperature 5 the three best (1, 3, 5) are nearly uniform; nothing else */
    s = make(p);
    int seen[8] = { 0 };
    for (int i = 0; i < 300; i++) {
        int32_t t = chord_sampler_sample(s, NULL, l, 8, NULL, 0);
        if (t >= 0 && t < 8) seen[t]++;
    }
    CHECK(seen[1] > 50 && seen[3] > 50 && seen[5] > 50 && seen[1] + seen[3] + seen[5] == 300);
    chord_sampler_free(s);
    p.top_k = 0; p.top_p = 0.01f;
    s = make(p);
    for (int i = 0; i < 50; i++) CHECK(chord_sampler_sample(s, NULL, l, 8, NULL, 0) == 1);
    chord_sampler_free(s);
    p.top_p = 1.0f; p.min_p = 0.5f; /* p(x)/p(max) = e^(l - 2): only 1, 3, 5 pass 0.5 */
    s = make(p);
    int bad = 0;
    for (int i = 0; i < 300; i++) {
        int32_t t = chord_sampler_sample(s, NULL, l, 8, NULL, 0);
        bad += !(t == 1 || t == 3 || t == 5);
    }
    CHECK(bad == 0);
    chord_sampler_free(s);

    /* temperature 1 follows softmax: p = 0.5, 0.3, 0.2 */
    float pl[3] = { logf(0.5f), logf(0.3f), logf(0.2f) };
    p = d; p.temperature = 1.0f; p.top_k = 0; p.top_p = 1.0f; p.min_p = 0.0f; p.seed = 7;
    s = make(p);
    int count[3] = { 0 };
    const int N = 20000;
    for (int i = 0; i < N; i++) {
        int32_t t = chord_sampler_sample(s, NULL, pl, 3, NULL, 0);
        if (t >= 0 && t < 3) count[t]++;
    }
    printf("sampler: frequencies %.3f %.3f %.3f (expected 0.5 0.3 0.2)\n", count[0] / (double)N,
           count[1] / (double)N, count[2] / (double)N);
    CHECK(fabs(count[0] / (double)N - 0.5) < 0.02 && fabs(count[1] / (double)N - 0.3) < 0.02 &&
          fabs(count[2] / (double)N - 0.2) < 0.02);
    chord_sampler_free(s);
    CHECK(chord_sampler_sample(NULL, NULL, l, 8, NULL, 0) == -1);
    return check_report("test_sampler");
}
