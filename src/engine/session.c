/*
 * session.c — a session is one conversation over a model: the F16 KV cache (n_ctx positions,
 * chosen at creation and bounded by the model's training context), the token history, the
 * thread pool and every scratch buffer the forward pass needs, all sized here once so that
 * feeding and generating never allocate. Feeding validates the whole input before touching the
 * cache, then runs the forward pass in batches of n_batch tokens (matrix × matrix products).
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "engine/session.h"
#include "api/host.h"

#define DEFAULT_CTX 4096
#define DEFAULT_BATCH 64
#define MAX_BATCH 4096

chord_session_params chord_session_params_default(void) {
    chord_session_params p = { .n_ctx = 0, .n_threads = 0, .n_batch = DEFAULT_BATCH };
    return p;
}

/* Largest activation row (bytes) any matrix of the model needs, for the quantized-input buffer. */
static uint64_t max_act_row(const chord_model *m) {
    uint64_t best = 0;
    for (int32_t il = -1; il < m->hp.n_layer; il++) {
        const chord_layer_tensors *lt = il < 0 ? &m->global : &m->layers[il];
        for (int s = 0; s < CHORD_W_NSLOTS; s++) {
            const chord_gguf_tensor *t = lt->t[s];
            if (!t || t->ne[1] == 1 || s == CHORD_W_TOK_EMBD) continue;
            uint64_t rb = chord_act_row_bytes(chord_type_get(t->type)->vec_dot_type, t->ne[0]);
            if (rb > best) best = rb;
        }
    }
    return best;
}

/* One allocation per buffer; sizes are checked against overflow by staying below 2^62. */
static void *alloc_floats(uint64_t n, uint64_t elem, int *failed) {
    if (*failed) return NULL;
    if (n == 0) n = 1;
    if (n > ((uint64_t)1 << 62) / elem || n * elem > (uint64_t)SIZE_MAX) { *failed = 1; return NULL; }
    void *p = calloc((size_t)n, (size_t)elem);
    if (!p) *failed = 1;
    return p;
}

/* Element counts of every session buffer (bytes = count × element size). The memory plan
 * (plan.c) adds these up, so it counts exactly what alloc_buffers allocates. */
typedef struct buf_sizes {
    uint64_t kv;                      /* uint16 each, K and V */
    uint64_t history;                 /* int32 */
    uint64_t embd, q, kvrow, ff;      /* floats per buffer */
    uint64_t logits, rope, attn_per_thread, attn;
    uint64_t act;                     /* bytes */
    uint64_t qkv, ffn2;               /* floats: fused q|k|v and gate|up products (0 when unused) */
} buf_sizes;

static buf_sizes buffer_sizes(const chord_model *m, uint32_t n_ctx, uint32_t n_batch, int nth) {
    const chord_hparams *hp = &m->hp;
    const uint64_t B = n_batch, D = (uint64_t)hp->n_embd_head;
    buf_sizes z;
    z.kv = (uint64_t)hp->n_layer * n_ctx * ((uint64_t)hp->n_head_kv * D);
    z.history = n_ctx;
    z.embd = B * (uint64_t)hp->n_embd;
    z.q = B * (uint64_t)hp->n_head * D;
    z.kvrow = B * (uint64_t)hp->n_head_kv * D;
    z.ff = B * (uint64_t)hp->n_ff;
    z.logits = (uint64_t)hp->n_vocab;
    z.rope = (uint64_t)hp->n_rot + 2;
    z.attn_per_thread = (chord_attn_scratch_floats(hp->n_embd_head, n_ctx) + 15) & ~(uint64_t)15;
    z.attn = z.attn_per_thread * (uint64_t)nth;
    z.act = B * max_act_row(m);
    int fused = 0; /* any layer with attn_qkv (phi3, or fused llama files) */
    for (int32_t il = 0; il < hp->n_layer; il++) fused |= m->layers[il].t[CHORD_W_QKV] != NULL;
    z.qkv = fused ? z.q + 2 * z.kvrow : 0;
    z.ffn2 = hp->ffn_fused ? 2 * z.ff : 0;
    return z;
}

static chord_status alloc_buffers(chord_session *s, chord_error *err) {
    const buf_sizes z = buffer_sizes(s->model, s->n_ctx, s->n_batch, chord_pool_size(s->pool));
    int failed = 0;
    s->k_cache = alloc_floats(z.kv, sizeof(uint16_t), &failed);
    s->v_cache = alloc_floats(z.kv, sizeof(uint16_t), &failed);
    s->history = alloc_floats(z.history, sizeof(int32_t), &failed);
    s->x = alloc_floats(z.embd, sizeof(float), &failed);
    s->xn = alloc_floats(z.embd, sizeof(float), &failed);
    s->q = alloc_floats(z.q, sizeof(float), &failed);
    s->k = alloc_floats(z.kvrow, sizeof(float), &failed);
    s->v = alloc_floats(z.kvrow, sizeof(float), &failed);
    s->attn = alloc_floats(z.q, sizeof(float), &failed);
    if (z.qkv) s->qkv = alloc_floats(z.qkv, sizeof(float), &failed);
    if (z.ffn2) s->ffn2 = alloc_floats(z.ffn2, sizeof(float), &failed);
    s->gate = alloc_floats(z.ff, sizeof(float), &failed);
    s->up = alloc_floats(z.ff, sizeof(float), &failed);
    s->logits = alloc_floats(z.logits, sizeof(float), &failed);
    s->rope = alloc_floats(z.rope, sizeof(float), &failed);
    s->attn_scratch_per_thread = z.attn_per_thread;
    s->attn_scratch = alloc_floats(z.attn, sizeof(float), &failed);
    s->act.cap = z.act;
    s->act.buf = alloc_floats(s->act.cap, 1, &failed);
    if (failed)
        return chord_fail(err, CHORD_E_NOMEM, "out of memory for a session of %u tokens (KV cache %llu bytes)",
                          s->n_ctx, (unsigned long long)(2 * z.kv * sizeof(uint16_t)));
    return CHORD_OK;
}

chord_status chord_session_resolve(const chord_model *m, const chord_session_params *p, uint32_t *n_ctx_out,
                                   uint32_t *n_batch_out, chord_error *err) {
    chord_session_params d = chord_session_params_default();
    if (!p) p = &d;
    uint32_t train = (uint32_t)m->hp.n_ctx_train;
    uint32_t n_ctx = p->n_ctx ? p->n_ctx : (train < DEFAULT_CTX ? train : DEFAULT_CTX);
    if (n_ctx > train)
        return chord_fail(err, CHORD_E_RANGE, "n_ctx %u exceeds the model's context length %u", n_ctx, train);
    if (p->n_threads < 0) return chord_fail(err, CHORD_E_INVALID_ARG, "n_threads %d is negative", p->n_threads);
    uint32_t n_batch = p->n_batch ? p->n_batch : DEFAULT_BATCH;
    if (n_batch > MAX_BATCH) return chord_fail(err, CHORD_E_RANGE, "n_batch %u exceeds %d", n_batch, MAX_BATCH);
    if (n_batch > n_ctx) n_batch = n_ctx;
    *n_ctx_out = n_ctx;
    *n_batch_out = n_batch;
    return CHORD_OK;
}

uint64_t chord_session_buffer_bytes(const chord_model *m, uint32_t n_ctx, uint32_t n_batch, int n_threads,
                                    uint64_t *kv_bytes) {
    const buf_sizes z = buffer_sizes(m, n_ctx, n_batch, n_threads);
    *kv_bytes = 2 * z.kv * sizeof(uint16_t);
    return *kv_bytes + z.history * sizeof(int32_t) +
           (2 * z.embd + 2 * z.q + 2 * z.kvrow + 2 * z.ff + z.logits + z.rope + z.attn + z.qkv + z.ffn2) *
               sizeof(float) + z.act;
}

chord_status chord_session_new(chord_session **out, chord_model *m, const chord_session_params *p,
                               chord_error *err) {
    if (!out || !m) return chord_fail(err, CHORD_E_INVALID_ARG, "chord_session_new: NULL argument");
    *out = NULL;
    if (m->vocab_only || !m->weights)
        return chord_fail(err, CHORD_E_INVALID_ARG, "the model was opened vocab_only: no weights to run");
    chord_session_params d = chord_session_params_default();
    if (!p) p = &d;
    uint32_t n_ctx = 0, n_batch = 0;
    chord_status st0 = chord_session_resolve(m, p, &n_ctx, &n_batch, err);
    if (st0 != CHORD_OK) return st0;
    chord_session *s = calloc(1, sizeof *s);
    if (!s) return chord_fail(err, CHORD_E_NOMEM, "out of memory allocating a session");
    s->model = m;
    s->n_ctx = n_ctx;
    s->n_batch = n_batch;
    atomic_init(&s->cancel, 0);
    chord_status st = chord_pool_new(&s->pool, p->n_threads, err);
    if (st == CHORD_OK) st = alloc_buffers(s, err);
    if (st != CHORD_OK) {
        chord_session_free(s);
        return st;
    }
    *out = s;
    return CHORD_OK;
}

void chord_session_free(chord_session *s) {
    if (!s) return;
    chord_pool_free(s->pool);
    free(s->k_cache); free(s->v_cache); free(s->history);
    free(s->x); free(s->xn); free(s->q); free(s->k); free(s->v); free(s->attn); free(s->qkv); free(s->ffn2);
    free(s->gate); free(s->up); free(s->logits); free(s->rope); free(s->attn_scratch);
    free(s->act.buf);
    free(s);
}

/* Feeds without touching the statistics; the caller times it as prefill or decode. */
static chord_status feed(chord_session *s, const int32_t *tokens, size_t n, chord_error *err) {
    if (!s || (!tokens && n)) return chord_fail(err, CHORD_E_INVALID_ARG, "chord_session_feed: NULL argument");
    if (n == 0) return CHORD_OK;
    if (n > (size_t)(s->n_ctx - s->pos))
        return chord_fail(err, CHORD_E_RANGE, "%zu tokens do not fit in the context: %u of %u positions used",
                          n, s->pos, s->n_ctx);
    const int32_t n_vocab = s->model->hp.n_vocab;
    for (size_t i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= n_vocab)
            return chord_fail(err, CHORD_E_RANGE, "token %zu has id %d, outside the vocabulary [0, %d)",
                              i, tokens[i], n_vocab);
    const chord_source *src = &s->model->src;
    s->feed_total = (uint32_t)n;
    for (size_t done = 0; done < n;) {
        if (chord_session_take_cancel(s))
            return chord_fail(err, CHORD_E_CANCELLED, "cancelled after %zu of %zu tokens", done, n);
        chord_status cst = src->check ? src->check(src->ctx, err) : CHORD_OK; /* a truncated mmap */
        if (cst != CHORD_OK) return cst;
        uint32_t b = (uint32_t)(n - done < s->n_batch ? n - done : s->n_batch);
        memcpy(s->history + s->pos, tokens + done, b * sizeof *tokens);
        s->feed_done = (uint32_t)done;
        chord_status st = chord_forward(s, tokens + done, b, err);
        if (st != CHORD_OK) return st;
        done += b;
    }
    return CHORD_OK;
}

chord_status chord_session_feed(chord_session *s, const int32_t *tokens, size_t n, chord_error *err) {
    if (s) chord_session_call_begin(s);
    double t0 = chord_time_ms();
    chord_status st = feed(s, tokens, n, err);
    if (st == CHORD_OK && n) {
        s->prefill_ms += chord_time_ms() - t0;
        s->n_prefill += n;
    }
    return st;
}

chord_status chord_session_feed_decode(chord_session *s, int32_t token, chord_error *err) {
    double t0 = chord_time_ms();
    chord_status st = feed(s, &token, 1, err);
    if (st == CHORD_OK) {
        s->decode_ms += chord_time_ms() - t0;
        s->n_decode++;
    }
    return st;
}

const float *chord_session_logits(const chord_session *s) { return s && s->has_logits ? s->logits : NULL; }
const int32_t *chord_session_tokens(const chord_session *s) { return s ? s->history : NULL; }
uint32_t chord_session_pos(const chord_session *s) { return s ? s->pos : 0; }
uint32_t chord_session_n_ctx(const chord_session *s) { return s ? s->n_ctx : 0; }

void chord_session_set_progress(chord_session *s, chord_progress_cb cb, void *user) {
    if (!s) return;
    s->progress = cb;
    s->progress_user = user;
}

void chord_session_reset(chord_session *s) {
    if (!s) return;
    s->pos = 0;
    s->has_logits = 0;
    atomic_store(&s->cancel, 0);
}

chord_status chord_session_truncate(chord_session *s, uint32_t n_keep, chord_error *err) {
    if (!s) return chord_fail(err, CHORD_E_INVALID_ARG, "chord_session_truncate: session is NULL");
    if (n_keep > s->pos)
        return chord_fail(err, CHORD_E_RANGE, "cannot keep %u tokens: the session holds %u", n_keep, s->pos);
    if (n_keep < s->pos) s->has_logits = 0;   /* the logits belong to the dropped last token */
    s->pos = n_keep;
    return CHORD_OK;
}

size_t chord_session_common_prefix(const chord_session *s, const int32_t *tokens, size_t n) {
    if (!s || !tokens) return 0;
    size_t i = 0;
    while (i < n && i < s->pos && s->history[i] == tokens[i]) i++;
    return i;
}

/* Cancel is one word per session, scoped to a call: chord_session_feed and chord_generate clear
 * it when they start (chord_session_call_begin) and consume it where they stop, so a request
 * made while nothing runs is dropped instead of cancelling the next call. Hosts that cancel
 * from a thread that cannot call into the engine store 1 into chord_session_cancel_word(). */
void chord_session_cancel(chord_session *s) {
    if (s) atomic_store(&s->cancel, 1);
}
void chord_session_call_begin(chord_session *s) { atomic_store(&s->cancel, 0); }
int chord_session_take_cancel(chord_session *s) { return atomic_exchange(&s->cancel, 0) != 0; }
atomic_int *chord_session_cancel_word(chord_session *s) { return s ? &s->cancel : NULL; }

chord_status chord_session_stats(const chord_session *s, chord_stats *out) {
    if (!s || !out) return CHORD_E_INVALID_ARG;
    memset(out, 0, sizeof *out);
    out->load_ms = s->model->load_ms;
    out->prefill_ms = s->prefill_ms;
    out->decode_ms = s->decode_ms;
    out->n_prefill = s->n_prefill;
    out->n_decode = s->n_decode;
    out->prefill_tok_s = s->prefill_ms > 0 ? (double)s->n_prefill * 1000.0 / s->prefill_ms : 0;
    out->decode_tok_s = s->decode_ms > 0 ? (double)s->n_decode * 1000.0 / s->decode_ms : 0;
    out->weight_bytes = s->model->weight_bytes;
    out->peak_memory_bytes = chord_peak_memory_bytes();
    return CHORD_OK;
}
