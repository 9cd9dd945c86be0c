/*
 * wasm_api.c — the flat C functions js/src/core.js calls (docs/WASM_ABI.md). Handles are plain
 * pointers into wasm memory; errors leave a code and message in one "last error" slot (the
 * engine is driven by one JS thread); strings cross as pointer + length (UTF-8) and JSON.
 *
 * The binding reaches the engine through chord.h only, plus api/host.h for the one thing a JS
 * host needs beyond it: the address of a session's cancel word. The generate loop is the C
 * chord_generate, the same code the native CLI runs, so a wasm build produces the native token
 * ids by construction; the per-token callback is an import (env.chord_host_token). Cancelling
 * is the session's own chord_session_cancel: from the engine thread through
 * chord_wasm_session_cancel, from another JS thread by an Atomics.store of 1 into the word at
 * chord_wasm_session_cancel_ptr (the same store). JSON is written by json.c.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chord.h"
#include "api/host.h"
#include "quant/quant.h"
#include "json.h"
#include "wasm_host.h"
#include "wasm_libc.h"

#define EXPORT __attribute__((visibility("default")))
#define WASM_IMPORT(name) __attribute__((import_module("env"), import_name(#name)))
WASM_IMPORT(chord_host_token)
int32_t chord_host_token(void *user, int32_t token, const char *text, size_t len);
/* Prompt-feed progress (chord_session_set_progress), after each layer of each batch. */
WASM_IMPORT(chord_host_progress)
void chord_host_progress(uint32_t done, uint32_t batch, uint32_t total, int32_t layer, int32_t n_layer);

#define ABI_VERSION 1

static chord_error g_err;

static void ok(void) { g_err.code = CHORD_OK; g_err.message[0] = 0; }

/* Records an error of the binding itself in the last-error slot; returns the code. */
static chord_status fail(chord_status code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static chord_status fail(chord_status code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_err.message, sizeof g_err.message, fmt, ap);
    va_end(ap);
    g_err.code = code;
    return code;
}

EXPORT int32_t chord_wasm_abi_version(void) { return ABI_VERSION; }
EXPORT int32_t chord_wasm_last_error_code(void) { return (int32_t)g_err.code; }
EXPORT const char *chord_wasm_last_error_message(void) { return g_err.message; }

EXPORT const char *chord_wasm_build_info(void) {
#if defined(__wasm_relaxed_simd__)
#define SIMD_NAME "relaxed"
#elif defined(__wasm_simd128__)
#define SIMD_NAME "simd128"
#else
#define SIMD_NAME "scalar"
#endif
    return "{\"abi\":1,\"version\":\"" CHORD_VERSION_STRING "\",\"target\":\"wasm"
#if __SIZEOF_POINTER__ == 8
           "64"
#else
           "32"
#endif
           "\",\"simd\":\"" SIMD_NAME "\"}";
}

/* Kernel shapes for the engine that runs this module (quant.h, chord_simd128_set_tuning; the
 * same results): the host calls it before loading a model. Returns the bits that apply. */
EXPORT uint32_t chord_wasm_set_tuning(uint32_t bits) {
#if defined(__wasm_simd128__)
    return chord_simd128_set_tuning(bits);
#else
    (void)bits;
    return 0;
#endif
}

EXPORT void *chord_wasm_alloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) fail(CHORD_E_NOMEM, "out of wasm memory allocating %zu bytes", n);
    return p;
}
EXPORT void *chord_wasm_alloc_aligned(size_t n, size_t align) {
    void *p = aligned_alloc(align, n ? n : 1);
    if (!p) fail(CHORD_E_NOMEM, "out of wasm memory allocating %zu bytes", n);
    return p;
}
EXPORT void chord_wasm_free(void *p) { free(p); }

/* ---- model -------------------------------------------------------------------------------- */

typedef struct { void *data; uint64_t size; } owned_mem;

static chord_status owned_read(void *ctx, uint64_t off, void *dst, size_t len) {
    owned_mem *m = ctx;
    if (off > m->size || len > m->size - off) return CHORD_E_IO;
    memcpy(dst, (const uint8_t *)m->data + off, len);
    return CHORD_OK;
}
static void owned_close(void *ctx) {
    owned_mem *m = ctx;
    free(m->data);
    free(m);
}

typedef struct { chord_model *model; char *info_json; } wmodel;

static wmodel *open_source_params(chord_source *src, const chord_model_params *mp) {
    wmodel *w = calloc(1, sizeof *w);
    if (!w) {
        chord_source_close(src);
        fail(CHORD_E_NOMEM, "out of wasm memory opening the model");
        return NULL;
    }
    if (chord_model_open_source(&w->model, src, mp, &g_err) != CHORD_OK) {
        free(w);
        return NULL;
    }
    ok();
    return w;
}

static wmodel *open_source(chord_source *src, int32_t vocab_only) {
    chord_model_params mp = chord_model_params_default();
    mp.vocab_only = vocab_only;
    return open_source_params(src, &mp);
}

EXPORT wmodel *chord_wasm_model_open_memory(void *buf, size_t size, int32_t vocab_only) {
    owned_mem *m = malloc(sizeof *m);
    if (!m) {
        free(buf);
        fail(CHORD_E_NOMEM, "out of wasm memory opening the model");
        return NULL;
    }
    m->data = buf;
    m->size = size;
    chord_source src = {.ctx = m, .size = size, .read = owned_read, .close = owned_close, .data = buf};
    return open_source(&src, vocab_only);
}

EXPORT wmodel *chord_wasm_model_open_host(int32_t handle, uint64_t size, int32_t vocab_only) {
    chord_source src;
    if (chord_wasm_source_from_host(&src, handle, size, 0) != CHORD_OK) {
        fail(CHORD_E_NOMEM, "out of wasm memory opening the model");
        return NULL;
    }
    return open_source(&src, vocab_only);
}

/* A host model with the residency settings of chord_model_params (docs/MEMORY64.md): residency
 * 0 auto / 1 resident / 2 paged, a budget in bytes (0 = the build's address space), slots (0 =
 * as many as the budget allows), prefetch depth, policy 0 pin+stream / 1 LRU, and the context the
 * budget must hold. Paged layers are read through env.chord_host_read while generating; with
 * host_flags bit 0 the host also reads asynchronously (env.chord_host_read_async), and the paged
 * policy's prefetch hands it the next layers' slots. */
EXPORT wmodel *chord_wasm_model_open_host_ex(int32_t handle, uint64_t size, int32_t residency, uint64_t budget,
                                             int32_t n_slots, int32_t prefetch, int32_t policy, int32_t plan_n_ctx,
                                             int32_t host_flags) {
    if (residency < CHORD_RESIDENCY_AUTO || residency > CHORD_RESIDENCY_PAGED || policy < 0 || policy > 1 ||
        n_slots < 0 || prefetch < 0 || plan_n_ctx < 0 || (host_flags & ~1)) {
        fail(CHORD_E_INVALID_ARG, "open_host_ex: residency %d, policy %d, slots %d, prefetch %d "
                   "or n_ctx %d out of range", residency, policy, n_slots, prefetch, plan_n_ctx);
        return NULL;
    }
    chord_source src;
    if (chord_wasm_source_from_host(&src, handle, size, host_flags & 1) != CHORD_OK) {
        fail(CHORD_E_NOMEM, "out of wasm memory opening the model");
        return NULL;
    }
    chord_model_params mp = chord_model_params_default();
    mp.residency = (chord_residency)residency;
    mp.mem_budget = budget;
    mp.n_slots = n_slots;
    mp.prefetch = prefetch;
    mp.cache_policy = (chord_cache_policy)policy;
    mp.plan_n_ctx = (uint32_t)plan_n_ctx;
    return open_source_params(&src, &mp);
}

EXPORT int32_t chord_wasm_model_preload(wmodel *w) {
    if (!w) return (int32_t)fail(CHORD_E_INVALID_ARG, "preload: model is NULL");
    chord_status st = chord_model_preload(w->model, &g_err);
    if (st == CHORD_OK) ok();
    return (int32_t)st;
}

EXPORT int32_t chord_wasm_model_clear_cache(wmodel *w) {
    if (!w) return (int32_t)fail(CHORD_E_INVALID_ARG, "clear_cache: model is NULL");
    chord_status st = chord_model_clear_cache(w->model);
    if (st != CHORD_OK) return (int32_t)fail(st, "clear_cache: %s", chord_status_message(st));
    ok();
    return 0;
}

/* chord_cache_stats as a JSON object (model.cacheStats(), and "cache" in the session stats). */
static void cache_json(chord_json *j, const chord_cache_stats *c) {
    chord_json_raw(j, "{");
    chord_json_key(j, "policy");
    chord_json_str(j, c->policy);
    const struct { const char *k; uint64_t v; } cc[] = {
        { "n_layer", (uint64_t)c->n_layer }, { "slots", (uint64_t)c->slots }, { "pinned", (uint64_t)c->pinned },
        { "hits", c->hits }, { "misses", c->misses }, { "evictions", c->evictions }, { "bytes_read", c->bytes_read },
        { "prefetch_hits", c->prefetch_hits }, { "resident_bytes", c->resident_bytes },
    };
    for (size_t i = 0; i < sizeof cc / sizeof *cc; i++) {
        chord_json_key(j, cc[i].k);
        chord_json_num(j, "%llu", (unsigned long long)cc[i].v);
    }
    chord_json_key(j, "read_ms");
    chord_json_num(j, "%.3f", c->read_ms);
    chord_json_key(j, "stall_ms");
    chord_json_num(j, "%.3f", c->stall_ms);
    chord_json_raw(j, "}");
}

/* chord_model_cache_stats as JSON; the string lives until the next call. */
EXPORT const char *chord_wasm_model_cache_stats_json(wmodel *w) {
    static char *last = NULL;
    chord_cache_stats c;
    if (!w || chord_model_cache_stats(w->model, &c) != CHORD_OK) {
        fail(CHORD_E_INVALID_ARG, "cache_stats: no model");
        return NULL;
    }
    chord_json j = {0};
    cache_json(&j, &c);
    char *text = chord_json_take(&j);
    if (!text) {
        fail(CHORD_E_NOMEM, "out of wasm memory rendering the cache stats");
        return NULL;
    }
    free(last);
    last = text;
    ok();
    return text;
}

EXPORT void chord_wasm_model_free(wmodel *w) {
    if (!w) return;
    chord_model_free(w->model);
    free(w->info_json);
    free(w);
}

EXPORT const char *chord_wasm_model_info_json(wmodel *w) {
    if (!w) return NULL;
    chord_model_info in;
    if (chord_model_get_info(w->model, &in) != CHORD_OK) {
        fail(CHORD_E_INTERNAL, "cannot read the model info");
        return NULL;
    }
    chord_json j = {0};
    chord_json_raw(&j, "{");
    chord_json_key(&j, "arch"); chord_json_str(&j, in.arch ? in.arch : "");
    chord_json_key(&j, "name"); chord_json_str(&j, in.name ? in.name : "");
    const struct { const char *k; int32_t v; } ints[] = {
        { "n_vocab", in.n_vocab }, { "n_ctx_train", in.n_ctx_train }, { "n_embd", in.n_embd },
        { "n_layer", in.n_layer }, { "n_head", in.n_head }, { "n_head_kv", in.n_head_kv }, { "n_ff", in.n_ff },
        { "bos", in.bos }, { "eos", in.eos },
    };
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) { chord_json_key(&j, ints[i].k); chord_json_num(&j, "%d", ints[i].v); }
    chord_json_key(&j, "rope_theta"); chord_json_num(&j, "%.9g", (double)in.rope_theta);
    chord_json_key(&j, "file_bytes"); chord_json_num(&j, "%llu", (unsigned long long)in.file_bytes);
    chord_json_key(&j, "weight_bytes"); chord_json_num(&j, "%llu", (unsigned long long)in.weight_bytes);
    chord_json_key(&j, "n_params"); chord_json_num(&j, "%llu", (unsigned long long)in.n_params);
    /* "model": tokenizer.chat_template is rendered; "fallback": the plain format of chord.h */
    chord_json_key(&j, "chat_template"); chord_json_str(&j, chord_model_has_chat_template(w->model) ? "model" : "fallback");
    chord_json_key(&j, "metadata");
    chord_json_raw(&j, "{");
    size_t nm = chord_model_meta_count(w->model);
    char *val = malloc(4096);
    if (!val) j.oom = 1;
    for (size_t i = 0; i < nm && val; i++) {
        const char *k = chord_model_meta_key(w->model, i);
        if (!k) continue;
        chord_status vs = chord_model_meta_value(w->model, i, val, 4096);
        if (vs != CHORD_OK && vs != CHORD_E_BUFFER) val[0] = 0; /* BUFFER: cut, still terminated */
        chord_json_key(&j, k);
        chord_json_str(&j, val);
    }
    free(val);
    chord_json_raw(&j, "}}");
    char *text = chord_json_take(&j);
    if (!text) {
        fail(CHORD_E_NOMEM, "out of wasm memory rendering the model info");
        return NULL;
    }
    free(w->info_json);
    w->info_json = text;
    return text;
}

/* ---- tokenizer ---------------------------------------------------------------------------- */

/* Count-returning wrappers: n, or n > cap with last error `buffer` (retry with a buffer of n),
 * or -1 on any other error (a token id out of range is an error, not a retry). */
static int64_t counted(chord_status st, size_t n) {
    if (st == CHORD_OK) {
        ok();
        return (int64_t)n;
    }
    if (st == CHORD_E_BUFFER) {
        fail(CHORD_E_BUFFER, "%zu items needed", n);
        return (int64_t)n;
    }
    if (!g_err.message[0] || g_err.code != st) fail(st, "%s", chord_status_message(st));
    return -1;
}

EXPORT int64_t chord_wasm_tokenize(wmodel *w, const char *text, size_t len, int32_t flags,
                                   int32_t *out, size_t cap) {
    size_t n = 0;
    g_err.message[0] = 0;
    chord_status st = chord_tokenize(w ? w->model : NULL, text, len, flags, out, cap, &n, &g_err);
    return counted(st, n);
}

EXPORT int64_t chord_wasm_detokenize(wmodel *w, const int32_t *ids, size_t n, char *buf, size_t cap) {
    size_t got = 0;
    g_err.message[0] = 0;
    chord_status st = chord_detokenize(w ? w->model : NULL, ids, n, buf, cap, &got, &g_err);
    return counted(st, got);
}

EXPORT int64_t chord_wasm_token_piece(wmodel *w, int32_t id, char *buf, size_t cap) {
    size_t got = 0;
    g_err.message[0] = 0;
    chord_status st = chord_token_piece(w ? w->model : NULL, id, buf, cap, &got);
    if (st != CHORD_OK && st != CHORD_E_BUFFER)
        fail(st, "token %d: %s", id, chord_status_message(st));
    return counted(st, got);
}

EXPORT int32_t chord_wasm_token_is_eog(wmodel *w, int32_t id) {
    return w ? chord_token_is_eog(w->model, id) : 0;
}

EXPORT chord_detok *chord_wasm_detok_new(wmodel *w) {
    chord_detok *d = malloc(sizeof *d);
    if (!d || !w) {
        free(d);
        fail(w ? CHORD_E_NOMEM : CHORD_E_INVALID_ARG, "cannot create a detokenizer");
        return NULL;
    }
    chord_detok_init(d, w->model);
    return d;
}
EXPORT int64_t chord_wasm_detok_push(chord_detok *d, int32_t id, char *buf, size_t cap) {
    size_t n = 0;
    g_err.message[0] = 0;
    chord_status st = chord_detok_push(d, id, buf, cap, &n);
    if (st != CHORD_OK) fail(st, "detokenizing token %d: %s", id, chord_status_message(st));
    return st == CHORD_OK ? (int64_t)n : -1;
}
EXPORT int64_t chord_wasm_detok_max_bytes(wmodel *w) { return w ? (int64_t)chord_detok_max_bytes(w->model) : 0; }
EXPORT int64_t chord_wasm_detok_flush(chord_detok *d, char *buf, size_t cap) {
    return (int64_t)chord_detok_flush(d, buf, cap);
}
EXPORT void chord_wasm_detok_free(chord_detok *d) { free(d); }

/* ---- sampler ------------------------------------------------------------------------------ */

typedef struct { chord_sampler *s; chord_sampler_params p; } wsampler;

EXPORT wsampler *chord_wasm_sampler_new(float temp, int32_t top_k, float top_p, float min_p,
                                        float repeat_penalty, int32_t repeat_last_n,
                                        uint32_t seed_lo, uint32_t seed_hi, int32_t ignore_eos) {
    wsampler *w = calloc(1, sizeof *w);
    if (!w) {
        fail(CHORD_E_NOMEM, "out of wasm memory creating a sampler");
        return NULL;
    }
    w->p = chord_sampler_params_default();
    w->p.temperature = temp;
    w->p.top_k = top_k;
    w->p.top_p = top_p;
    w->p.min_p = min_p;
    w->p.repeat_penalty = repeat_penalty;
    w->p.repeat_last_n = repeat_last_n;
    w->p.seed = (uint64_t)seed_hi << 32 | seed_lo;
    w->p.ignore_eos = ignore_eos;
    if (chord_sampler_new(&w->s, &w->p, &g_err) != CHORD_OK) {
        free(w);
        return NULL;
    }
    ok();
    return w;
}
EXPORT void chord_wasm_sampler_free(wsampler *w) {
    if (!w) return;
    chord_sampler_free(w->s);
    free(w);
}

/* ---- session ------------------------------------------------------------------------------ */

typedef struct { chord_session *s; wmodel *m; char *stats_json; int32_t n_generated; } wsession;

EXPORT wsession *chord_wasm_session_new(wmodel *m, int32_t n_ctx, int32_t n_threads, int32_t n_batch) {
    if (!m) {
        fail(CHORD_E_INVALID_ARG, "session_new: model is NULL");
        return NULL;
    }
    if (n_ctx < 0 || n_batch < 0) {
        fail(CHORD_E_INVALID_ARG, "session_new: n_ctx %d / n_batch %d is negative",
                   n_ctx, n_batch);
        return NULL;
    }
    wsession *w = calloc(1, sizeof *w);
    if (!w) {
        fail(CHORD_E_NOMEM, "out of wasm memory creating a session");
        return NULL;
    }
    chord_session_params sp = chord_session_params_default();
    sp.n_ctx = (uint32_t)n_ctx;
    sp.n_threads = n_threads;
    if (n_batch > 0) sp.n_batch = (uint32_t)n_batch;
    if (chord_session_new(&w->s, m->model, &sp, &g_err) != CHORD_OK) {
        free(w);
        return NULL;
    }
    w->m = m;
    ok();
    return w;
}

EXPORT void chord_wasm_session_free(wsession *w) {
    if (!w) return;
    chord_session_free(w->s);
    free(w->stats_json);
    free(w);
}

EXPORT void chord_wasm_session_reset(wsession *w) { if (w) chord_session_reset(w->s); }
EXPORT int32_t chord_wasm_session_pos(wsession *w) { return w ? (int32_t)chord_session_pos(w->s) : 0; }
EXPORT int32_t chord_wasm_session_n_ctx(wsession *w) { return w ? (int32_t)chord_session_n_ctx(w->s) : 0; }
EXPORT const float *chord_wasm_session_logits(wsession *w) { return w ? chord_session_logits(w->s) : NULL; }
EXPORT int32_t chord_wasm_session_n_vocab(wsession *w) {
    chord_model_info in;
    return w && chord_model_get_info(w->m->model, &in) == CHORD_OK ? in.n_vocab : 0;
}

/* Cancelling (see the top of this file): the session's own word, scoped to the running call. */
EXPORT void chord_wasm_session_cancel(wsession *w) { if (w) chord_session_cancel(w->s); }
EXPORT atomic_int *chord_wasm_session_cancel_ptr(wsession *w) { return w ? chord_session_cancel_word(w->s) : NULL; }

static void on_progress(void *user, uint32_t done, uint32_t batch, uint32_t total, int32_t layer, int32_t n_layer) {
    (void)user;
    chord_host_progress(done, batch, total, layer, n_layer);
}

/* on != 0: the session's prompt feeds call env.chord_host_progress after every layer. */
EXPORT void chord_wasm_session_progress(wsession *w, int32_t on) {
    if (w) chord_session_set_progress(w->s, on ? on_progress : NULL, NULL);
}

EXPORT int32_t chord_wasm_session_feed(wsession *w, const int32_t *ids, size_t n) {
    if (!w) return (int32_t)fail(CHORD_E_INVALID_ARG, "feed: session is NULL");
    chord_status st = chord_session_feed(w->s, ids, n, &g_err);
    if (st == CHORD_OK) ok();
    return (int32_t)st;
}

EXPORT int32_t chord_wasm_session_sample(wsession *w, wsampler *sm) {
    const float *logits = w ? chord_session_logits(w->s) : NULL;
    if (!logits || !sm) {
        fail(CHORD_E_INVALID_ARG, "sample: %s", !sm ? "sampler is NULL" :
                   "no logits: feed at least one token first");
        return -1;
    }
    int32_t n_vocab = chord_wasm_session_n_vocab(w);
    int32_t t = chord_sampler_sample(sm->s, w->m->model, logits, n_vocab, chord_session_tokens(w->s),
                                     chord_session_pos(w->s));
    if (t < 0) fail(CHORD_E_INTERNAL, "the sampler found no candidate token");
    return t;
}

typedef struct { void *user; wsession *w; } gen_ctx;

static int on_token(void *user, int32_t token, const char *text, size_t len) {
    gen_ctx *g = user;
    if (token >= 0) g->w->n_generated++; /* -1: held-back bytes flushed at the end */
    return chord_host_token(g->user, token, text, len) != 0;
}

EXPORT int32_t chord_wasm_session_generate(wsession *w, wsampler *sm, int32_t max_tokens, void *user) {
    if (!w || !sm) return (int32_t)fail(CHORD_E_INVALID_ARG, "generate: NULL session or sampler");
    gen_ctx g = {user, w};
    w->n_generated = 0;
    chord_status st = chord_generate(w->s, &sm->p, max_tokens, on_token, &g, &g_err);
    if (st == CHORD_OK) ok();
    return (int32_t)st;
}

EXPORT int32_t chord_wasm_session_n_generated(wsession *w) { return w ? w->n_generated : 0; }

EXPORT const char *chord_wasm_session_stats_json(wsession *w) {
    chord_stats st;
    if (!w || chord_session_stats(w->s, &st) != CHORD_OK) {
        fail(CHORD_E_INVALID_ARG, "stats: no session");
        return NULL;
    }
    chord_json j = {0};
    chord_json_raw(&j, "{");
    const struct { const char *k; double v; } ms[] = {
        { "load_ms", st.load_ms }, { "prefill_ms", st.prefill_ms }, { "decode_ms", st.decode_ms },
        { "prefill_tok_s", st.prefill_tok_s }, { "decode_tok_s", st.decode_tok_s },
    };
    for (size_t i = 0; i < sizeof ms / sizeof *ms; i++) { chord_json_key(&j, ms[i].k); chord_json_num(&j, "%.3f", ms[i].v); }
    const struct { const char *k; uint64_t v; } counts[] = {
        { "n_prefill", st.n_prefill }, { "n_decode", st.n_decode }, { "weight_bytes", st.weight_bytes },
        { "peak_memory_bytes", st.peak_memory_bytes },
    };
    for (size_t i = 0; i < sizeof counts / sizeof *counts; i++) {
        chord_json_key(&j, counts[i].k);
        chord_json_num(&j, "%llu", (unsigned long long)counts[i].v);
    }
    chord_cache_stats c;
    if (chord_model_cache_stats(w->m->model, &c) == CHORD_OK) {
        chord_json_key(&j, "cache");
        cache_json(&j, &c);
    }
    chord_json_raw(&j, "}");
    char *text = chord_json_take(&j);
    if (!text) {
        fail(CHORD_E_NOMEM, "out of wasm memory rendering the session stats");
        return NULL;
    }
    free(w->stats_json);
    w->stats_json = text;
    return text;
}

/* ---- KV reuse across chat turns (model.chat) ----------------------------------------------- */

/* KV reuse across turns: keep the first n_keep cached tokens, and count the shared prefix. */
EXPORT int32_t chord_wasm_session_truncate(wsession *w, int32_t n_keep) {
    if (!w || n_keep < 0) return (int32_t)fail(CHORD_E_INVALID_ARG, "truncate: bad session or n_keep %d", n_keep);
    chord_status st = chord_session_truncate(w->s, (uint32_t)n_keep, &g_err);
    if (st == CHORD_OK) ok();
    return (int32_t)st;
}
EXPORT int32_t chord_wasm_session_common_prefix(wsession *w, const int32_t *ids, size_t n) {
    return w ? (int32_t)chord_session_common_prefix(w->s, ids, n) : 0;
}

EXPORT const char *chord_wasm_heap_stats(void) {
    static char buf[320];
    chord_wasm_heap h;
    chord_wasm_heap_stats_get(&h);
    snprintf(buf, sizeof buf,
             "{\"heapBase\":%llu,\"heapEnd\":%llu,\"used\":%llu,\"peakUsed\":%llu,\"topFree\":%llu,"
             "\"memoryBytes\":%llu}",
             (unsigned long long)h.heap_base, (unsigned long long)h.heap_end,
             (unsigned long long)h.used, (unsigned long long)h.peak_used,
             (unsigned long long)h.top_free, (unsigned long long)h.memory_bytes);
    return buf;
}

/* ---- chat templates (src/chat/) ------------------------------------------------------------ */
/* The rendered prompt as a malloc'd NUL-terminated string (free with chord_wasm_free), its byte
 * length in *out_len; NULL on error with the last error set (line/column of a template error).
 * bos/eos are NUL-terminated or NULL; tmpl NULL = the plain fallback format. */
static char *chat_result(chord_status st, char *out, size_t n, size_t *out_len) {
    if (st != CHORD_OK) return NULL;
    ok();
    if (out_len) *out_len = n;
    return out;
}

EXPORT char *chord_wasm_chat_render(wmodel *w, const char *json, size_t len, size_t *out_len) {
    char *out = NULL;
    size_t n = 0;
    chord_status st = chord_chat_render(w ? w->model : NULL, json, len, &out, &n, &g_err);
    return chat_result(st, out, n, out_len);
}

EXPORT char *chord_wasm_chat_render_template(const char *tmpl, size_t tlen, const char *bos, const char *eos,
                                             const char *json, size_t len, size_t *out_len) {
    char *out = NULL;
    size_t n = 0;
    chord_status st = chord_chat_render_template(tmpl, tlen, bos, eos, json, len, &out, &n, &g_err);
    return chat_result(st, out, n, out_len);
}

EXPORT int32_t chord_wasm_model_has_chat_template(wmodel *w) { return w ? chord_model_has_chat_template(w->model) : 0; }

/* chord_chat_tokenize: special tokens parsed, BOS not doubled. Same count rule as tokenize. */
EXPORT int64_t chord_wasm_chat_tokenize(wmodel *w, const char *text, size_t len, int32_t *out, size_t cap) {
    size_t n = 0;
    g_err.message[0] = 0;
    chord_status st = chord_chat_tokenize(w ? w->model : NULL, text, len, out, cap, &n, &g_err);
    return counted(st, n);
}

/* The memory plan (chord_memory_plan_header) of a GGUF from its first `len` bytes, for each
 * build, as JSON {"wasm32": {...}, "wasm64": {...}}; NULL with the last error on failure.
 * The string lives until the next call. */
static void plan_json(chord_json *j, const char *name, const chord_memory_plan *p) {
    chord_json_key(j, name);
    chord_json_raw(j, "{");
    chord_json_key(j, "residency");
    chord_json_str(j, p->residency == CHORD_RESIDENCY_PAGED ? "paged" : "resident");
    const struct { const char *k; uint64_t v; } f[] = {
        { "n_ctx", p->n_ctx }, { "n_batch", p->n_batch }, { "n_threads", (uint64_t)p->n_threads },
        { "n_slots", (uint64_t)p->n_slots }, { "weights", p->weights }, { "file_copy", p->file_copy },
        { "model", p->model }, { "kv_cache", p->kv_cache }, { "scratch", p->scratch }, { "fixed", p->fixed },
        { "total", p->total },
    };
    for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
        chord_json_key(j, f[i].k);
        chord_json_num(j, "%llu", (unsigned long long)f[i].v);
    }
    chord_json_raw(j, "}");
}

EXPORT const char *chord_wasm_memory_plan(const void *head, size_t len, uint64_t file_size, int32_t n_ctx,
                                          int32_t n_threads, int32_t n_batch) {
    static char *last = NULL;
    chord_session_params sp = chord_session_params_default();
    sp.n_ctx = n_ctx > 0 ? (uint32_t)n_ctx : 0;
    sp.n_threads = n_threads > 0 ? n_threads : 1;
    if (n_batch > 0) sp.n_batch = (uint32_t)n_batch;
    chord_model_params mp = chord_model_params_default();
    mp.residency = CHORD_RESIDENCY_RESIDENT;
    chord_memory_plan p32, p64;
    if (chord_memory_plan_header(head, len, file_size, &mp, &sp, CHORD_BUILD_WASM32, &p32, &g_err) != CHORD_OK ||
        chord_memory_plan_header(head, len, file_size, &mp, &sp, CHORD_BUILD_WASM64, &p64, &g_err) != CHORD_OK)
        return NULL;
    chord_json j = {0};
    chord_json_raw(&j, "{");
    plan_json(&j, "wasm32", &p32);
    plan_json(&j, "wasm64", &p64);
    chord_json_raw(&j, "}");
    char *text = chord_json_take(&j);
    if (!text) {
        fail(CHORD_E_NOMEM, "out of wasm memory for the memory plan");
        return NULL;
    }
    free(last);
    last = text;
    ok();
    return text;
}
