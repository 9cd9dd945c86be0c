/*
 * test_session_reuse.c — chord_session_truncate and chord_session_common_prefix, the KV-cache
 * reuse behind multi-turn chat (`wasm-chord chat`, JS model.chat, serve --cache-prompt), on the
 * real stories260K model. After feeding A+B, truncating to |A| and feeding C, the logits and the
 * greedy continuation must equal those of a fresh session fed A+C: the cache of a position only
 * depends on the tokens before it. One token per batch on both sides so the comparison is exact.
 * Also: the prefix count, bounds errors, logits dropped by truncation, truncate to 0 = reset.
 */
#include <stdlib.h>
#include <string.h>

#include "chord.h"
#include "check.h"
#include "check_model.h"

typedef struct { int32_t ids[64]; int n; } collected;

static int collect(void *user, int32_t token, const char *text, size_t len) {
    (void)text; (void)len;
    collected *c = user;
    if (c->n < 64) c->ids[c->n++] = token;
    return 0;
}

static chord_session *session(chord_model *m) {
    chord_error err_, *err = &err_;
    chord_session *s = NULL;
    chord_session_params sp = chord_session_params_default();
    sp.n_ctx = 256;
    sp.n_threads = 1;
    sp.n_batch = 1;
    CHECK_OK(chord_session_new(&s, m, &sp, err), err);
    return s;
}

static void greedy(chord_session *s, collected *out) {
    chord_error err_, *err = &err_;
    chord_sampler_params p = chord_sampler_params_default();
    p.temperature = 0;
    out->n = 0;
    CHECK_OK(chord_generate(s, &p, 24, collect, out, err), err);
}

int main(void) {
    char path[512];
    chord_error err_, *err = &err_;
    chord_model *m = check_open_shared("models/stories260K.gguf", NULL, path, sizeof path);
    if (!m) return check_report("test_session_reuse");
    chord_model_info info;
    chord_model_get_info(m, &info);

    int32_t a[32], b[32], c[32], ac[64];
    size_t na = 0, nb = 0, nc = 0;
    CHECK_OK(chord_tokenize(m, "Once upon a time, there was a little dog", 41, CHORD_TOK_ADD_SPECIAL, a, 32, &na, err), err);
    CHECK_OK(chord_tokenize(m, " who liked to run in the park", 29, 0, b, 32, &nb, err), err);
    CHECK_OK(chord_tokenize(m, " named Max. He had a red ball", 29, 0, c, 32, &nc, err), err);
    memcpy(ac, a, na * sizeof *a);
    memcpy(ac + na, c, nc * sizeof *c);

    /* reference: a fresh session fed A+C */
    chord_session *ref = session(m);
    CHECK_OK(chord_session_feed(ref, ac, na + nc, err), err);
    float *want = malloc((size_t)info.n_vocab * sizeof *want);
    memcpy(want, chord_session_logits(ref), (size_t)info.n_vocab * sizeof *want);
    collected gw;
    greedy(ref, &gw);

    /* reuse: A+B, back to A, then C */
    chord_session *s = session(m);
    CHECK_OK(chord_session_feed(s, a, na, err), err);
    CHECK_OK(chord_session_feed(s, b, nb, err), err);
    size_t shared = 0;   /* B and C may start with the same piece (e.g. the SPM space) */
    while (shared < nb && shared < nc && b[shared] == c[shared]) shared++;
    CHECK(chord_session_common_prefix(s, ac, na + nc) == na + shared);
    CHECK(chord_session_common_prefix(s, a, na) == na);
    CHECK(chord_session_truncate(s, (uint32_t)(na + nb + 1), err) == CHORD_E_RANGE);
    CHECK(strstr(err->message, "holds") != NULL);
    CHECK(chord_session_pos(s) == na + nb);
    CHECK_OK(chord_session_truncate(s, (uint32_t)(na + nb), err), err);  /* no-op keeps the logits */
    CHECK(chord_session_logits(s) != NULL);
    CHECK_OK(chord_session_truncate(s, (uint32_t)na, err), err);
    CHECK(chord_session_pos(s) == na);
    CHECK(chord_session_logits(s) == NULL);   /* those belonged to the dropped token */
    chord_sampler_params p = chord_sampler_params_default();
    CHECK(chord_generate(s, &p, 1, collect, &gw, err) == CHORD_E_INVALID_ARG);
    CHECK_OK(chord_session_feed(s, c, nc, err), err);
    CHECK(chord_session_pos(s) == na + nc);
    CHECKF(memcmp(chord_session_logits(s), want, (size_t)info.n_vocab * sizeof *want) == 0,
           "logits after truncate + feed differ from a fresh session's");
    collected gr;
    greedy(s, &gr);
    CHECK(gr.n == gw.n && gr.n > 0 && memcmp(gr.ids, gw.ids, (size_t)gr.n * sizeof *gr.ids) == 0);

    /* truncate to 0 is a reset: the same story from BOS again */
    CHECK_OK(chord_session_truncate(s, 0, err), err);
    CHECK(chord_session_pos(s) == 0 && chord_session_common_prefix(s, a, na) == 0);
    CHECK(chord_session_truncate(NULL, 0, err) == CHORD_E_INVALID_ARG);
    CHECK(chord_session_common_prefix(NULL, a, na) == 0);

    free(want);
    chord_session_free(s);
    chord_session_free(ref);
    chord_model_free(m);
    return check_report("test_session_reuse");
}
