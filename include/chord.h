/*
 * chord.h — the one public header of wasm-chord, an LLM inference runtime for GGUF models that
 * runs natively and inside WebAssembly (wasm32, wasm64/Memory64, WASI).
 *
 * Usage (20 lines):
 *
 *   chord_error err;
 *   chord_model *model = NULL;
 *   chord_model_params mp = chord_model_params_default();
 *   if (chord_model_open(&model, "model.gguf", &mp, &err) != CHORD_OK) {
 *       fprintf(stderr, "%s\n", err.message); return 1;
 *   }
 *   chord_session *s = NULL;
 *   chord_session_params sp = chord_session_params_default();
 *   sp.n_ctx = 2048; sp.n_threads = 2;
 *   if (chord_session_new(&s, model, &sp, &err) != CHORD_OK) { ... }
 *   int32_t toks[512]; size_t n = 0;
 *   chord_tokenize(model, "Hello", 5, CHORD_TOK_ADD_SPECIAL, toks, 512, &n, &err);
 *   chord_session_feed(s, toks, n, &err);                 // batched prefill
 *   chord_sampler_params sam = chord_sampler_params_default();
 *   sam.temperature = 0.0f;                                // greedy
 *   chord_generate(s, &sam, 64, on_token, user, &err);     // on_token(user, id, text, len) streams
 *   chord_session_free(s);
 *   chord_model_free(model);
 *
 * Conventions: every function that can fail returns a chord_status and, when given a non-NULL
 * chord_error, writes a message naming the problem (field, offset, expected vs found). The
 * library never prints, exits or aborts because of input. Free functions accept NULL. Pointers
 * returned by a handle's getters live as long as that handle.
 */
#ifndef CHORD_H
#define CHORD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CHORD_VERSION_MAJOR 0
#define CHORD_VERSION_MINOR 1
#define CHORD_VERSION_PATCH 0
#define CHORD_VERSION_STRING "0.1.0"
const char *chord_version(void);

/* ---------------------------------------------------------------------------------------------
 * Status codes: stable numbers, generated from one list (code, name, default message).
 * ------------------------------------------------------------------------------------------- */
#define CHORD_STATUS_LIST(X)                                                           \
    X(CHORD_OK,            0, "ok",            "success")                              \
    X(CHORD_E_INVALID_ARG, 1, "invalid_arg",   "invalid argument")                     \
    X(CHORD_E_IO,          2, "io",            "input/output error")                   \
    X(CHORD_E_FORMAT,      3, "format",        "malformed model file")                 \
    X(CHORD_E_UNSUPPORTED, 4, "unsupported",   "unsupported feature or tensor type")   \
    X(CHORD_E_NOMEM,       5, "nomem",         "out of memory")                        \
    X(CHORD_E_RANGE,       6, "range",         "value out of range")                   \
    X(CHORD_E_NOT_FOUND,   7, "not_found",     "not found")                            \
    X(CHORD_E_TYPE,        8, "type",          "type mismatch")                        \
    X(CHORD_E_CANCELLED,   9, "cancelled",     "cancelled")                            \
    X(CHORD_E_INTERNAL,   10, "internal",      "internal error")                       \
    X(CHORD_E_BUFFER,     11, "buffer",        "output buffer too small")

typedef enum {
#define CHORD_X_ENUM(sym, num, name, msg) sym = num,
    CHORD_STATUS_LIST(CHORD_X_ENUM)
#undef CHORD_X_ENUM
} chord_status;

const char *chord_status_name(chord_status s);    /* "format" — static string */
const char *chord_status_message(chord_status s); /* "malformed model file" — static string */

#define CHORD_ERROR_MESSAGE_BYTES 256
typedef struct chord_error {
    chord_status code;
    char message[CHORD_ERROR_MESSAGE_BYTES];
} chord_error;

/* ---------------------------------------------------------------------------------------------
 * Sources: where GGUF bytes come from. One reader serves a file, a memory buffer, or (in wasm)
 * a host function. `read` must fill exactly `len` bytes at `off` or return an error.
 * `data` is non-NULL when the whole source is addressable memory (a buffer or an mmap); then
 * tensors can be used in place without copying.
 * ------------------------------------------------------------------------------------------- */
typedef struct chord_source {
    void *ctx;
    uint64_t size;
    chord_status (*read)(void *ctx, uint64_t off, void *dst, size_t len);
    void (*close)(void *ctx); /* optional; called by chord_source_close */
    const uint8_t *data;      /* optional: whole source mapped in memory */
    /* optional: CHORD_OK while `data` is still backed by the source, else CHORD_E_IO naming it
     * (a mapped file truncated since it was opened: touching the lost pages would raise SIGBUS).
     * The session calls it before each forward pass. */
    chord_status (*check)(void *ctx, chord_error *err);
    /* optional: starts an asynchronous read of [off, off + len) into dst by the host (a wasm
     * host's store in another worker) and returns CHORD_OK at once; any other status = not
     * started (the caller reads synchronously). `state` is the caller's slot word, set to
     * CHORD_ASYNC_PENDING before the call; the host moves it (atomically, then wakes waiters):
     * PENDING → WRITING (compare-and-swap, before it touches dst) → PENDING (between pieces) or
     * DONE (all bytes there) or FAILED. A caller that no longer wants the bytes swaps PENDING
     * back to CHORD_ASYNC_CANCELLED, and the host stops without writing. Until `drain` the
     * host may still look at a cancelled request's word, so the caller gives each request its
     * own word: a cancelled word is never reused for a later read. docs/MEMORY64.md. */
    chord_status (*read_async)(void *ctx, uint64_t off, void *dst, size_t len, int32_t *state);
    /* required with read_async: when it returns, the host touches no state word and no buffer of
     * any earlier read_async again (reads not started are dropped, one being written finishes
     * first). Called before the memory of those reads is freed (the model is freed). */
    void (*drain)(void *ctx);
} chord_source;

/* The slot word of chord_source.read_async. */
enum { CHORD_ASYNC_CANCELLED = 0, CHORD_ASYNC_PENDING = 1, CHORD_ASYNC_DONE = 2, CHORD_ASYNC_WRITING = 3,
       CHORD_ASYNC_FAILED = 4 };

/* A source over caller memory; the caller keeps `data` alive while the source is in use. */
chord_status chord_source_from_memory(chord_source *src, const void *data, uint64_t size);
/* A source over a file (native: mmap when possible, else pread; WASI: pread). */
chord_status chord_source_from_file(chord_source *src, const char *path, chord_error *err);
void chord_source_close(chord_source *src);

/* ---------------------------------------------------------------------------------------------
 * Model: weights, hyper-parameters and vocabulary. Immutable after open; one model can serve
 * several sessions.
 * ------------------------------------------------------------------------------------------- */
typedef struct chord_model chord_model;

/* Where the weights live (docs/MEMORY64.md). */
typedef enum {
    CHORD_RESIDENCY_AUTO = 0,     /* resident when the memory plan fits the budget, else paged */
    CHORD_RESIDENCY_RESIDENT = 1, /* every tensor addressable (mapped in place or read once) */
    CHORD_RESIDENCY_PAGED = 2,    /* model-wide tensors resident; layers in a cache of slots */
} chord_residency;
typedef enum {
    CHORD_CACHE_PIN = 0,  /* pin what fits, stream the rest through a small ring (cyclic scans) */
    CHORD_CACHE_LRU = 1,  /* least recently used (for comparison: 0 hits on a cyclic scan) */
} chord_cache_policy;

typedef struct chord_model_params {
    int vocab_only;   /* load metadata and tokenizer only (e.g. the vocab test files) */
    int use_mmap;     /* native: map the file instead of reading it (default 1) */
    chord_residency residency;  /* default auto */
    uint64_t mem_budget;        /* bytes for weights + KV + scratch; 0 = natively available RAM,
                                   in wasm the build's address space */
    int32_t n_slots;            /* paged: layer slots (0 = as many as the budget allows) */
    int32_t prefetch;           /* paged: layers read ahead (default 1; 0 = none) */
    chord_cache_policy cache_policy;
    uint32_t plan_n_ctx;        /* auto: the context length the budget must also hold (0 = 4096
                                   or the trained length when smaller) */
} chord_model_params;
chord_model_params chord_model_params_default(void);

chord_status chord_model_open(chord_model **out, const char *path, const chord_model_params *p,
                              chord_error *err);
/* Takes ownership of *src on success and on failure (closes it). */
chord_status chord_model_open_source(chord_model **out, chord_source *src,
                                     const chord_model_params *p, chord_error *err);
void chord_model_free(chord_model *m);

typedef struct chord_model_info {
    const char *arch;        /* "llama", "qwen2" */
    const char *name;        /* general.name or "" */
    int32_t n_vocab, n_ctx_train, n_embd, n_layer, n_head, n_head_kv, n_ff;
    float rope_theta;
    uint64_t file_bytes;     /* size of the GGUF */
    uint64_t weight_bytes;   /* bytes of all tensors */
    uint64_t n_params;       /* number of weights */
    int32_t bos, eos;        /* -1 when absent */
} chord_model_info;
chord_status chord_model_get_info(const chord_model *m, chord_model_info *info);

/* The layer cache behind a model's weights (see docs/MEMORY64.md). A resident model reports
 * every layer as a pinned slot; its acquires count as hits. Counters are since open. */
typedef struct chord_cache_stats {
    const char *policy;      /* "resident", ... (static string) */
    int32_t n_layer;         /* transformer layers of the model */
    int32_t slots;           /* layer slots (= n_layer when resident) */
    int32_t pinned;          /* slots holding a layer that is never evicted */
    uint64_t hits;           /* layer acquires served from the cache (resident, pinned, or kept) */
    uint64_t misses;         /* layer acquires that read their layer on demand */
    uint64_t evictions;      /* layers dropped from a slot to make room for another */
    uint64_t bytes_read;     /* bytes read from the source into slots */
    double read_ms;          /* time spent reading (any thread) */
    double stall_ms;         /* time compute waited for a layer */
    uint64_t prefetch_hits;  /* layer acquires served by a slot the prefetcher filled (or was
                                filling: then compute waited, counted in stall_ms);
                                hits + misses + prefetch_hits = layer acquires */
    uint64_t resident_bytes; /* weight bytes addressable now (mapped, owned or in slots) */
} chord_cache_stats;

chord_status chord_model_cache_stats(const chord_model *m, chord_cache_stats *out);
/* Fills every slot (every layer when all fit). */
chord_status chord_model_preload(chord_model *m, chord_error *err);
/* Drops cached layers that are not pinned (a resident model keeps everything). */
chord_status chord_model_clear_cache(chord_model *m);

/* Metadata as text, for hosts (JS model.info): key i and its value rendered as a short string
 * (long arrays abbreviated). Returns NULL past the end. Strings live as long as the model. */
size_t chord_model_meta_count(const chord_model *m);
const char *chord_model_meta_key(const chord_model *m, size_t i);
chord_status chord_model_meta_value(const chord_model *m, size_t i, char *buf, size_t cap);

/* ---------------------------------------------------------------------------------------------
 * Tokenizer
 * ------------------------------------------------------------------------------------------- */
enum {
    CHORD_TOK_ADD_SPECIAL = 1,   /* add BOS/EOS as the model's metadata asks */
    CHORD_TOK_PARSE_SPECIAL = 2, /* match special/control token text inside the input */
};
/* Writes up to `cap` ids; *n_out receives the number produced. When cap is too small returns
 * CHORD_E_BUFFER with *n_out set to the number needed (retry with that capacity); every other
 * status is a real error (CHORD_E_RANGE: a token id outside the vocabulary, …). */
chord_status chord_tokenize(const chord_model *m, const char *text, size_t len, int flags,
                            int32_t *out, size_t cap, size_t *n_out, chord_error *err);
/* The raw bytes of one token (byte-fallback and byte-level decoding applied). May be a partial
 * UTF-8 sequence; use chord_detok for streaming-safe text. */
chord_status chord_token_piece(const chord_model *m, int32_t token, char *buf, size_t cap,
                               size_t *n_out);
/* Whole-sequence detokenize into caller buffer (same capacity rule as chord_tokenize). */
chord_status chord_detokenize(const chord_model *m, const int32_t *tokens, size_t n, char *buf,
                              size_t cap, size_t *n_out, chord_error *err);
int chord_token_is_eog(const chord_model *m, int32_t token); /* end of generation (EOS, EOT…) */

/* Streaming detokenizer: holds back bytes of an incomplete UTF-8 sequence until it completes.
 * It never allocates, so pushing into a buffer of chord_detok_max_bytes() cannot fail. */
typedef struct chord_detok { const chord_model *model; uint8_t pending[8]; uint32_t n_pending; int n_out_tokens; } chord_detok;
void chord_detok_init(chord_detok *d, const chord_model *m);
/* Appends the text completed by `token` into buf; *n_out receives the byte count (may be 0).
 * Control tokens add nothing; invalid UTF-8 becomes U+FFFD. A cap of chord_detok_max_bytes(m)
 * is always enough. When cap is too small: CHORD_E_BUFFER, *n_out = the size needed, and the
 * token is not consumed (push it again with a larger buffer). CHORD_E_RANGE: id outside the
 * vocabulary. */
chord_status chord_detok_push(chord_detok *d, int32_t token, char *buf, size_t cap, size_t *n_out);
/* Flushes held-back bytes (invalid sequences become U+FFFD). */
size_t chord_detok_flush(chord_detok *d, char *buf, size_t cap);
/* Bytes one chord_detok_push or chord_detok_flush may write for this model (computed from the
 * longest token piece at load); 0 for a model without a tokenizer. */
size_t chord_detok_max_bytes(const chord_model *m);

/* ---------------------------------------------------------------------------------------------
 * Sampler
 * ------------------------------------------------------------------------------------------- */
typedef struct chord_sampler_params {
    float temperature;      /* 0 = greedy; must be >= 0 */
    int32_t top_k;          /* 0 = off */
    float top_p;            /* 1 = off; in (0, 1] */
    float min_p;            /* 0 = off; in [0, 1] */
    float repeat_penalty;   /* 1 = off; > 0 */
    int32_t repeat_last_n;  /* window of the repetition penalty */
    uint64_t seed;
    int ignore_eos;         /* never pick an end-of-generation token */
} chord_sampler_params;
chord_sampler_params chord_sampler_params_default(void);
/* Checks a params struct; CHORD_E_INVALID_ARG naming the bad field (NaN, negative temp, …). */
chord_status chord_sampler_params_check(const chord_sampler_params *p, chord_error *err);

typedef struct chord_sampler chord_sampler;
chord_status chord_sampler_new(chord_sampler **out, const chord_sampler_params *p, chord_error *err);
void chord_sampler_free(chord_sampler *s);
/* Picks a token from logits (n_vocab floats; not modified). `history` is the recent token
 * window used by the repetition penalty. `m` may be NULL when ignore_eos is off. */
int32_t chord_sampler_sample(chord_sampler *s, const chord_model *m, const float *logits,
                             int32_t n_vocab, const int32_t *history, size_t n_history);

/* ---------------------------------------------------------------------------------------------
 * Session: KV cache and position over one model.
 * ------------------------------------------------------------------------------------------- */
typedef struct chord_session chord_session;

typedef struct chord_session_params {
    uint32_t n_ctx;     /* context length; 0 = min(model's n_ctx_train, 4096) */
    int32_t n_threads;  /* 0 = all cores */
    uint32_t n_batch;   /* prompt tokens per forward pass (default 64) */
} chord_session_params;
chord_session_params chord_session_params_default(void);

chord_status chord_session_new(chord_session **out, chord_model *m, const chord_session_params *p,
                               chord_error *err);
void chord_session_free(chord_session *s);
/* Appends tokens (batched prefill). Afterwards chord_session_logits gives the logits of the
 * last token. Errors: token out of range, context overflow (nothing is appended then). */
chord_status chord_session_feed(chord_session *s, const int32_t *tokens, size_t n, chord_error *err);
const float *chord_session_logits(const chord_session *s); /* n_vocab floats, or NULL */
/* The chord_session_pos() tokens in the KV cache, in order (the repetition penalty's history).
 * Valid until the next feed, generate or reset. */
const int32_t *chord_session_tokens(const chord_session *s);
uint32_t chord_session_pos(const chord_session *s);
uint32_t chord_session_n_ctx(const chord_session *s);
void chord_session_reset(chord_session *s); /* empties the KV cache */
/* Progress of a prompt feed (more than one token), for a host that shows it while a long
 * prefill runs: called on the feeding thread after every layer of every batch, with the tokens
 * fed before this batch (done), the tokens in it (batch), the feed's total, and the layer just
 * finished (0-based) of n_layer. The weights of that layer are released (a paged model's cache
 * counters are current). One-token feeds (decoding) do not call it. NULL cb turns it off. */
typedef void (*chord_progress_cb)(void *user, uint32_t done, uint32_t batch, uint32_t total, int32_t layer,
                                  int32_t n_layer);
void chord_session_set_progress(chord_session *s, chord_progress_cb cb, void *user);
/* Keeps the first n_keep tokens of the KV cache and drops the rest (n_keep <= chord_session_pos),
 * so that a conversation continues from a shared prefix without prefilling it again: the cache
 * of position i depends only on tokens 0..i. The logits are dropped unless n_keep equals the
 * position (feed at least one token before generating). Errors: n_keep > position. */
chord_status chord_session_truncate(chord_session *s, uint32_t n_keep, chord_error *err);
/* Number of leading tokens of tokens[0..n) equal to the tokens in the session's cache. */
size_t chord_session_common_prefix(const chord_session *s, const int32_t *tokens, size_t n);

/* Per-token callback: return non-zero to stop generation. `text` holds the complete UTF-8 the
 * token finished (possibly empty). When generation ends with bytes of an incomplete UTF-8
 * sequence held back, one last call with token = -1 delivers them (as U+FFFD), so the streamed
 * text always equals chord_detokenize of the tokens as a UTF-8 decoder reads it. */
typedef int (*chord_token_cb)(void *user, int32_t token, const char *text, size_t text_len);
/* Samples, streams and feeds up to max_tokens tokens; stops at an end-of-generation token
 * (unless ignore_eos), when the callback asks, on chord_session_cancel, or when the context is
 * full (CHORD_E_RANGE). A token whose text cannot be produced ends the call with an error: text
 * is never dropped silently. The session stays usable afterwards. */
chord_status chord_generate(chord_session *s, const chord_sampler_params *p, int32_t max_tokens,
                            chord_token_cb cb, void *user, chord_error *err);
/* Thread-safe: asks the running chord_generate/chord_session_feed to stop (CHORD_E_CANCELLED).
 * Scoped to that call: each call clears earlier requests when it starts, so a cancel made while
 * nothing runs does not stop the next call. */
void chord_session_cancel(chord_session *s);

typedef struct chord_stats {
    double load_ms;
    double prefill_ms, decode_ms;
    uint64_t n_prefill, n_decode;
    double prefill_tok_s, decode_tok_s;
    uint64_t weight_bytes;
    uint64_t peak_memory_bytes; /* process peak RSS natively; wasm memory size in wasm */
} chord_stats;
chord_status chord_session_stats(const chord_session *s, chord_stats *out);

/* ---------------------------------------------------------------------------------------------
 * Chat templates: the model's own Jinja template (tokenizer.chat_template), rendered in C the
 * way Hugging Face's apply_chat_template renders it with Python jinja2 (trim_blocks,
 * lstrip_blocks, loop controls, sandboxed). Same renderer on every target.
 * ------------------------------------------------------------------------------------------- */
/* Renders the model's chat template (metadata tokenizer.chat_template) over a conversation given
 * as a JSON object: {"messages":[{"role":"user","content":"Hi"},...], "tools":[...] (optional),
 * "add_generation_prompt": true (default true), any other key = a template variable (e.g.
 * "date_string")}. bos_token/eos_token come from the model's vocabulary. A model without a
 * template uses the plain fallback format below. On success *out (NUL-terminated, *out_len
 * bytes) is owned by the caller: free it with chord_free(). Errors: CHORD_E_INVALID_ARG (bad
 * conversation JSON, naming the offset), CHORD_E_FORMAT (template syntax or evaluation error,
 * naming line and column; raise_exception's message), CHORD_E_RANGE (a limit was hit),
 * CHORD_E_NOMEM.
 *
 * Variables as transformers passes them: messages, tools and documents (None when absent),
 * add_generation_prompt, bos_token/eos_token (undefined when NULL / the model has none), every
 * other key of the object. strftime_now() formats the current UTC time (native, WASI); the
 * optional key "now_unix" (seconds since 1970, not passed to the template) fixes that time —
 * needed on freestanding wasm, which has no wall clock (CHORD_E_UNSUPPORTED without it).
 *
 * Plain fallback (no tokenizer.chat_template): for each message "<role>: <content>\n\n"
 * (content that is a list of parts contributes its "text" parts), then "assistant: " when
 * add_generation_prompt is true; bos_token is not written (chord_chat_tokenize adds it). */
chord_status chord_chat_render(const chord_model *m, const char *conversation_json, size_t json_len,
                               char **out, size_t *out_len, chord_error *err);
/* Same with an explicit template source (for tests and hosts that override the model's).
 * bos_token/eos_token may be NULL (= ""). template_src NULL = the plain fallback. */
chord_status chord_chat_render_template(const char *template_src, size_t template_len,
                               const char *bos_token, const char *eos_token,
                               const char *conversation_json, size_t json_len,
                               char **out, size_t *out_len, chord_error *err);
/* Sandbox limits; exceeding one is CHORD_E_RANGE naming the limit and the template position. */
typedef struct chord_chat_limits {
    size_t max_output_bytes;   /* default 16 MiB */
    uint64_t max_steps;        /* loop iterations + macro calls, default 10,000,000 */
    uint32_t max_depth;        /* nesting of macro calls / expressions, default 200 */
    size_t max_memory_bytes;   /* working memory of one render, default 256 MiB */
} chord_chat_limits;
chord_chat_limits chord_chat_limits_default(void);
chord_status chord_chat_render_template_ex(const char *template_src, size_t template_len,
                               const char *bos_token, const char *eos_token,
                               const char *conversation_json, size_t json_len,
                               const chord_chat_limits *limits,
                               char **out, size_t *out_len, chord_error *err);
/* chord_chat_render with an override template (NULL = the model's own, or the fallback) and
 * limits (NULL = defaults); bos_token/eos_token still come from the model's vocabulary. */
chord_status chord_chat_render_ex(const chord_model *m, const char *template_src, size_t template_len,
                                  const char *conversation_json, size_t json_len,
                                  const chord_chat_limits *limits,
                                  char **out, size_t *out_len, chord_error *err);
/* 1 when the model has a tokenizer.chat_template string, else 0. */
int chord_model_has_chat_template(const chord_model *m);
/* The template source (lives as long as the model), or NULL when the model has none. */
const char *chord_model_chat_template(const chord_model *m, size_t *len);
/* Tokenizes a rendered prompt the way llama.cpp does for chat: special-token text is parsed as
 * special tokens (CHORD_TOK_PARSE_SPECIAL) and BOS is added when the model asks for it unless
 * the rendered text already starts with the BOS token (never doubled). Same capacity rule as
 * chord_tokenize. chord_chat_tokenize_flags returns the flags it uses for that text. */
int chord_chat_tokenize_flags(const chord_model *m, const char *rendered, size_t len);
chord_status chord_chat_tokenize(const chord_model *m, const char *rendered, size_t len,
                                 int32_t *out, size_t cap, size_t *n_out, chord_error *err);
/* Frees memory the library handed to the caller (chord_chat_render's output). NULL is fine. */
void chord_free(void *p);

/* ---------------------------------------------------------------------------------------------
 * Memory plan
 * ------------------------------------------------------------------------------------------- */
/* The memory plan: what a model costs in a build, for a context length and thread count, as the
 * engine really allocates it (docs/MEMORY64.md). Natively "weights" of a mapped file count as
 * the resident pages they become once every layer has been used. */
typedef enum { CHORD_BUILD_NATIVE = 0, CHORD_BUILD_WASM32 = 1, CHORD_BUILD_WASM64 = 2 } chord_build;
typedef struct chord_memory_plan {
    chord_residency residency;  /* resident or paged (never auto) */
    int32_t n_layer, n_slots;   /* n_slots = n_layer when resident */
    uint32_t n_ctx, n_batch;
    int32_t n_threads;
    uint64_t weights;           /* weight bytes held: all tensors, or model-wide + slots */
    uint64_t global_bytes;      /* model-wide tensors (embeddings, output norm and head) */
    uint64_t layer_bytes;       /* one slot: the largest layer's span */
    uint64_t file_copy;         /* wasm: the rest of the GGUF, copied into memory with it */
    uint64_t model;             /* parsed metadata, tensor table, tokenizer */
    uint64_t kv_cache;          /* F16 K and V for n_layer x n_ctx positions */
    uint64_t scratch;           /* the session's activation buffers */
    uint64_t fixed;             /* runtime, stacks, allocator slack */
    uint64_t total;
} chord_memory_plan;
/* sp NULL = session defaults; mp NULL = model defaults (its residency settings apply). */
chord_status chord_model_memory_plan(const chord_model *m, const chord_model_params *mp,
                                     const chord_session_params *sp, chord_build build,
                                     chord_memory_plan *out, chord_error *err);
/* The same from the first `len` bytes of a GGUF of `file_size` bytes (header, metadata and
 * tensor table must be inside them), before anything is loaded. */
chord_status chord_memory_plan_header(const void *head, size_t len, uint64_t file_size,
                                      const chord_model_params *mp, const chord_session_params *sp,
                                      chord_build build, chord_memory_plan *out, chord_error *err);

#ifdef __cplusplus
}
#endif
#endif /* CHORD_H */
