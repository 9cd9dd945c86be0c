/*
 * session.h — internal view of a chord_session. Who owns what (allocation, lifetime, writes):
 *   session.c   creates and frees everything below, sized once at creation (no allocation per
 *               token); owns the state block and the statistics; feed/reset/truncate move pos.
 *   forward.c   the only writer of the KV cache, the scratch block and the logits; reads the
 *               state block; advances pos and has_logits at the end of a forward pass.
 *   api/generate.c  reads the state block (pos, n_ctx, logits, history) between tokens; never
 *               touches the cache or scratch.
 * engine/sampler.c and engine/plan.c include it only for the functions declared below; nothing
 * outside src/ includes it (the wasm binding goes through chord.h + api/host.h).
 */
#ifndef CHORD_SESSION_H
#define CHORD_SESSION_H

#include <stdatomic.h>
#include "chord.h"
#include "model/model.h"
#include "engine/ops.h"
#include "platform.h"

struct chord_session {
    /* ---- state (session.c; read by forward.c and api/generate.c) ---- */
    chord_model *model;
    chord_pool *pool;
    uint32_t n_ctx, n_batch;
    uint32_t pos;                /* tokens in the KV cache */
    int has_logits;              /* logits hold the prediction after the last token */
    atomic_int cancel;           /* one word, scoped to the running call (session.c) */
    int32_t *history;            /* [n_ctx] tokens in the cache, in order */

    /* ---- KV cache (allocated by session.c, written only by forward.c) ---- */
    uint16_t *k_cache, *v_cache; /* F16 [n_layer][n_ctx][n_head_kv * head_dim] */

    /* ---- scratch (allocated by session.c, used only by forward.c), all [n_batch][...] ---- */
    float *x;                    /* residual stream [n_embd] */
    float *xn;                   /* normed input / block output [n_embd] */
    float *q, *k, *v;            /* [n_head*hd], [n_head_kv*hd] x2 */
    float *qkv;                  /* fused q|k|v product (models with attn_qkv), else NULL */
    float *attn;                 /* attention output [n_head*hd] */
    float *gate, *up;            /* [n_ff] */
    float *ffn2;                 /* [2 n_ff] fused gate|up product (phi3), else NULL */
    float *logits;               /* [n_vocab] of the last token (read by generate.c) */
    float *rope;                 /* [n_rot] cos/sin of one position */
    float *attn_scratch;         /* per thread */
    uint64_t attn_scratch_per_thread;
    chord_act act;               /* quantized activations [n_batch][max row] */

    /* ---- prompt-feed progress (session.c sets it, forward.c reports after each layer) ---- */
    chord_progress_cb progress;
    void *progress_user;
    uint32_t feed_done, feed_total; /* of the running feed; feed_total <= 1: no progress calls */

    /* ---- statistics (session.c) ---- */
    double prefill_ms, decode_ms;
    uint64_t n_prefill, n_decode;
};

/* Runs the forward pass over n tokens (n <= n_batch) at position s->pos, appends their K/V and
 * leaves the logits of the last one in s->logits. Caller has checked ids and room. */
chord_status chord_forward(chord_session *s, const int32_t *tokens, uint32_t n, chord_error *err);

/* Feeds one sampled token, counted as decode in the statistics (chord_generate). */
chord_status chord_session_feed_decode(chord_session *s, int32_t token, chord_error *err);

/* Cancel scoping (session.c): a public call clears stale requests when it starts; loops poll
 * and consume a request between steps. */
void chord_session_call_begin(chord_session *s);
int chord_session_take_cancel(chord_session *s);
/* The n_ctx and n_batch a session with params p (NULL = defaults) would get, or the error
 * chord_session_new would give. */
chord_status chord_session_resolve(const chord_model *m, const chord_session_params *p, uint32_t *n_ctx,
                                   uint32_t *n_batch, chord_error *err);
/* Bytes of every buffer a session allocates (KV cache included); *kv_bytes = the KV cache. */
uint64_t chord_session_buffer_bytes(const chord_model *m, uint32_t n_ctx, uint32_t n_batch, int n_threads,
                                    uint64_t *kv_bytes);

/* Sampler internals shared with chord_generate: make room for n_vocab candidates. */
chord_status chord_sampler_reserve(chord_sampler *s, int32_t n_vocab, chord_error *err);

#endif
