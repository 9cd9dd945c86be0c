/*
 * generate.c — chord_generate, the sample → stream → feed loop of the public API. Hosts (the
 * CLI, the wasm binding, the server) all generate through it, so cancel and streaming behave the
 * same everywhere.
 *
 * Nothing is lost on the way to the callback: the text buffer is sized once, before the first
 * token, for the longest piece of the vocabulary (chord_detok_max_bytes), the streaming decoder
 * does not allocate, and if a token's text still cannot be produced the call ends with that
 * error. Bytes of an incomplete UTF-8 sequence held back at the end are flushed (token -1).
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "engine/session.h"


typedef struct {
    chord_session *s;
    chord_sampler *sampler;
    chord_token_cb cb;
    void *user;
    chord_detok detok;
    char *text;
    size_t cap_text;
} gen_state;

/* Samples one token from the current logits; CHORD_OK with *stop = 1 at end of generation. */
static chord_status gen_one(gen_state *g, const chord_sampler_params *p, int *stop, chord_error *err) {
    chord_session *s = g->s;
    const chord_model *m = s->model;
    size_t n_hist = s->pos;
    int32_t tok = chord_sampler_sample(g->sampler, m, s->logits, m->hp.n_vocab, s->history, n_hist);
    if (tok < 0) return chord_fail(err, CHORD_E_INTERNAL, "the sampler found no candidate token");
    if (!p->ignore_eos && m->tok && chord_token_is_eog(m, tok)) {
        *stop = 1;
        return CHORD_OK;
    }
    size_t n_text = 0;
    if (m->tok) {
        chord_status st = chord_detok_push(&g->detok, tok, g->text, g->cap_text, &n_text);
        if (st != CHORD_OK)
            return chord_fail(err, st, "cannot produce the text of generated token %d (%s)", tok,
                              chord_status_message(st));
    }
    int user_stop = g->cb ? g->cb(g->user, tok, g->text, n_text) : 0;
    if (s->pos >= s->n_ctx)
        return chord_fail(err, CHORD_E_RANGE, "the context is full (%u tokens)", s->n_ctx);
    chord_status st = chord_session_feed_decode(s, tok, err);
    if (st != CHORD_OK) return st;
    *stop = user_stop;
    return CHORD_OK;
}

chord_status chord_generate(chord_session *s, const chord_sampler_params *p, int32_t max_tokens,
                            chord_token_cb cb, void *user, chord_error *err) {
    if (!s) return chord_fail(err, CHORD_E_INVALID_ARG, "chord_generate: session is NULL");
    chord_session_call_begin(s); /* a cancel from before this call does not apply to it */
    chord_sampler_params d = chord_sampler_params_default();
    if (!p) p = &d;
    if (max_tokens < 0) return chord_fail(err, CHORD_E_INVALID_ARG, "max_tokens %d is negative", max_tokens);
    if (!s->has_logits)
        return chord_fail(err, CHORD_E_INVALID_ARG, "nothing to continue: feed at least one token (e.g. BOS) first");
    gen_state g = { .s = s, .cb = cb, .user = user };
    g.cap_text = chord_detok_max_bytes(s->model) + 1;
    g.text = malloc(g.cap_text);
    if (!g.text) return chord_fail(err, CHORD_E_NOMEM, "out of memory for a text buffer of %zu bytes", g.cap_text);
    chord_status st = chord_sampler_new(&g.sampler, p, err);
    if (st == CHORD_OK) st = chord_sampler_reserve(g.sampler, s->model->hp.n_vocab, err);
    if (s->model->tok) chord_detok_init(&g.detok, s->model);
    for (int32_t i = 0; i < max_tokens && st == CHORD_OK; i++) {
        if (chord_session_take_cancel(s)) {
            st = chord_fail(err, CHORD_E_CANCELLED, "generation cancelled after %d tokens", i);
            break;
        }
        int stop = 0;
        if ((st = gen_one(&g, p, &stop, err)) != CHORD_OK || stop) break;
    }
    size_t rest = s->model->tok ? chord_detok_flush(&g.detok, g.text, g.cap_text) : 0;
    if (rest && cb) cb(user, -1, g.text, rest);
    chord_sampler_free(g.sampler);
    free(g.text);
    return st;
}
