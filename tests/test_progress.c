/*
 * test_progress.c — chord_session_set_progress, the prompt-feed progress a host shows while a
 * long prefill runs (the JS package posts its live stats from it): on the real stories260K model
 * with 4-token batches, a 10-token feed reports every layer of its 3 batches in order with the
 * right done/batch/total; one-token feeds and generation report nothing; NULL turns it off; the
 * logits are the same with and without the callback.
 */
#include <string.h>

#include "chord.h"
#include "check.h"
#include "check_model.h"

#define MAX_CALLS 256

typedef struct {
    int n;
    uint32_t done[MAX_CALLS], batch[MAX_CALLS], total[MAX_CALLS];
    int32_t layer[MAX_CALLS], n_layer[MAX_CALLS];
} calls;

static void record(void *user, uint32_t done, uint32_t batch, uint32_t total, int32_t layer, int32_t n_layer) {
    calls *c = user;
    if (c->n >= MAX_CALLS) return;
    c->done[c->n] = done;
    c->batch[c->n] = batch;
    c->total[c->n] = total;
    c->layer[c->n] = layer;
    c->n_layer[c->n] = n_layer;
    c->n++;
}

static int no_stop(void *user, int32_t token, const char *text, size_t len) {
    (void)user; (void)token; (void)text; (void)len;
    return 0;
}

int main(void) {
    char path[512];
    chord_error err_, *err = &err_;
    chord_model *m = check_open_shared("models/stories260K.gguf", NULL, path, sizeof path);
    if (!m) return check_report("test_progress");
    chord_model_info info;
    chord_model_get_info(m, &info);
    const int L = info.n_layer;

    chord_session_params sp = chord_session_params_default();
    sp.n_ctx = 64;
    sp.n_threads = 1;
    sp.n_batch = 4;
    chord_session *s = NULL, *plain = NULL;
    CHECK_OK(chord_session_new(&s, m, &sp, err), err);
    CHECK_OK(chord_session_new(&plain, m, &sp, err), err);
    if (!s || !plain) return check_report("test_progress");

    int32_t ids[10];
    for (int i = 0; i < 10; i++) ids[i] = 1 + (i * 37) % (info.n_vocab - 1);
    static calls c;
    chord_session_set_progress(s, record, &c);
    CHECK_OK(chord_session_feed(s, ids, 10, err), err);
    CHECKF(c.n == 3 * L, "%d progress calls for 3 batches of %d layers", c.n, L);
    for (int k = 0; k < c.n && k < 3 * L; k++) {
        const int b = k / L;
        CHECKF(c.done[k] == (uint32_t)(4 * b) && c.batch[k] == (b < 2 ? 4u : 2u) && c.total[k] == 10 &&
                   c.layer[k] == k % L && c.n_layer[k] == L,
               "call %d: done %u batch %u total %u layer %d of %d", k, c.done[k], c.batch[k], c.total[k],
               c.layer[k], c.n_layer[k]);
    }

    /* the callback changes nothing in the arithmetic */
    CHECK_OK(chord_session_feed(plain, ids, 10, err), err);
    const float *l1 = chord_session_logits(s), *l2 = chord_session_logits(plain);
    CHECK(l1 && l2 && memcmp(l1, l2, (size_t)info.n_vocab * sizeof *l1) == 0);

    /* one-token feeds and generation (decode) report nothing */
    c.n = 0;
    CHECK_OK(chord_session_feed(s, ids, 1, err), err);
    chord_sampler_params p = chord_sampler_params_default();
    p.temperature = 0;
    CHECK_OK(chord_generate(s, &p, 4, no_stop, NULL, err), err);
    CHECKF(c.n == 0, "%d progress calls while decoding", c.n);

    /* NULL turns it off */
    chord_session_set_progress(s, NULL, NULL);
    chord_session_reset(s);
    CHECK_OK(chord_session_feed(s, ids, 10, err), err);
    CHECKF(c.n == 0, "%d progress calls after turning it off", c.n);

    chord_session_free(plain);
    chord_session_free(s);
    chord_model_free(m);
    return check_report("test_progress");
}
