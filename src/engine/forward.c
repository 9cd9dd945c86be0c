/*
 * forward.c — the transformer forward pass over a batch of tokens:
 *
 *   x = embed(tokens)                                     (gemma: × sqrt(n_embd))
 *   for each layer (a view of its weights acquired from the weights module, released after):
 *       h = rmsnorm(x) · attn_norm
 *       q, k, v = Wq h (+bq), Wk h (+bk), Wv h (+bv)      or one fused Wqkv h (+bqkv), split
 *       q, k = rmsnorm_per_head(q) · q_norm, … · k_norm  (qwen3, gemma3)
 *       rope(q), rope(k) (frequency factors: rope_freqs or phi3's long/short; linear/YaRN
 *           scaling; sliding-window layers: their own base and scale); append k, v to the cache
 *       x += post_norm(Wo · attention(q, cache, window, soft-cap) (+bo))   (post_norm: gemma)
 *       h = rmsnorm(x) · ffn_norm
 *       x += post_norm(Wdown · (act(Wgate h (+bg)) ⊙ (Wup h (+bu))) (+bd))
 *           act = silu, or gelu (gemma); phi3: [gate | up] = Wup h
 *   logits = Woutput · (rmsnorm(x_last) · output_norm) (+b)   (gemma: final soft-cap)
 * Which optional tensors a family may carry is decided by model/arch.c; absent ones are NULL.
 *
 * A batch (prefill) goes through every matrix as one matrix × matrix product, so each weight
 * row is read once per batch rather than once per token. All buffers live in the session.
 */
#include <math.h>
#include <string.h>

#include "core/error.h"
#include "engine/session.h"

/* y[n][n_out] = W x[n][n_in], quantizing x for W's vec_dot_type unless already done. */
static void matmul(chord_session *s, float *y, const chord_mat *w, const float *x, uint32_t n) {
    chord_act_quantize(&s->act, s->pool, x, (int)n, w->n_in, chord_type_get(w->type)->vec_dot_type,
                       chord_act_packs(&w, 1, (int)n));
    chord_matmul(s->pool, y, w, &s->act);
}

/* ys[i] = ws[i] x for n (2 or 3) matrices with one input (q/k/v, gate/up): one quantization of x
 * and one pool run when they share a vec_dot_type (Q4_K_M mixes Q4_K and Q6_K, both Q8_K), else
 * one product each. Each row's arithmetic is the same either way. */
static void matmul_shared(chord_session *s, int n_mats, float *const *ys, const chord_mat *const *ws,
                          const float *x, uint32_t n) {
    const chord_type vdt = chord_type_get(ws[0]->type)->vec_dot_type;
    int same = 1;
    for (int i = 1; i < n_mats; i++)
        same &= chord_type_get(ws[i]->type)->vec_dot_type == vdt && ws[i]->n_in == ws[0]->n_in;
    if (!same) {
        for (int i = 0; i < n_mats; i++) matmul(s, ys[i], ws[i], x, n);
        return;
    }
    chord_act_quantize(&s->act, s->pool, x, (int)n, ws[0]->n_in, vdt, chord_act_packs(ws, n_mats, (int)n));
    chord_matmul_n(s->pool, n_mats, ys, ws, &s->act);
}

static void embed(chord_session *s, const chord_layer_view *g, const int32_t *tokens, uint32_t n) {
    const chord_mat *t = &g->w[CHORD_W_TOK_EMBD];
    const chord_type_traits *tr = chord_type_get(t->type);
    const int64_t E = s->model->hp.n_embd;
    for (uint32_t i = 0; i < n; i++)
        tr->to_float((const uint8_t *)t->data + (uint64_t)tokens[i] * t->row_bytes, s->x + i * E, E);
    const float sc = s->model->hp.embd_scale; /* gemma2: ggml_scale(embeddings, sqrt(n_embd)) */
    if (sc != 0.0f)
        for (int64_t i = 0; i < (int64_t)n * E; i++) s->x[i] *= sc;
}

/* gemma2's RMSNorm of a block's output before it joins the residual stream (when present) */
static void post_norm(chord_session *s, const chord_layer_view *lv, chord_wslot slot, uint32_t n) {
    const int64_t E = s->model->hp.n_embd;
    if (!lv->w[slot].data) return;
    for (uint32_t t = 0; t < n; t++)
        chord_rmsnorm(s->xn + t * E, s->xn + t * E, lv->w[slot].data, E, s->model->hp.norm_eps);
}

/* y += b when the bias exists */
static void add_bias(float *y, const chord_layer_view *lv, chord_wslot slot, uint32_t n, int64_t width) {
    if (lv->w[slot].data) chord_add_rows(y, lv->w[slot].data, (int)n, width);
}

/* q, k, v of n tokens from the normed input s->xn: three products, or one fused product whose
 * rows [q | k | v] are split (llama.cpp's attn_qkv views). */
static void qkv_proj(chord_session *s, const chord_layer_view *lv, uint32_t n, int64_t nq, int64_t nkv) {
    if (lv->w[CHORD_W_QKV].data) {
        const int64_t w = nq + 2 * nkv;
        matmul(s, s->qkv, &lv->w[CHORD_W_QKV], s->xn, n);
        add_bias(s->qkv, lv, CHORD_W_QKV_B, n, w);
        for (uint32_t t = 0; t < n; t++) {
            memcpy(s->q + t * nq, s->qkv + t * w, (size_t)nq * sizeof(float));
            memcpy(s->k + t * nkv, s->qkv + t * w + nq, (size_t)nkv * sizeof(float));
            memcpy(s->v + t * nkv, s->qkv + t * w + nq + nkv, (size_t)nkv * sizeof(float));
        }
    } else {
        float *const ys[3] = { s->q, s->k, s->v };
        const chord_mat *const ws[3] = { &lv->w[CHORD_W_Q], &lv->w[CHORD_W_K], &lv->w[CHORD_W_V] };
        matmul_shared(s, 3, ys, ws, s->xn, n);
    }
    add_bias(s->q, lv, CHORD_W_Q_B, n, nq);
    add_bias(s->k, lv, CHORD_W_K_B, n, nkv);
    add_bias(s->v, lv, CHORD_W_V_B, n, nkv);
}

static void attention_block(chord_session *s, int32_t il, const chord_layer_view *lv, const chord_layer_view *g,
                            uint32_t n) {
    const chord_hparams *hp = &s->model->hp;
    const int64_t E = hp->n_embd, D = hp->n_embd_head;
    const int64_t nq = (int64_t)hp->n_head * D, nkv = (int64_t)hp->n_head_kv * D;
    for (uint32_t t = 0; t < n; t++)
        chord_rmsnorm(s->xn + t * E, s->x + t * E, lv->w[CHORD_W_ATTN_NORM].data, E, hp->norm_eps);
    chord_act_invalidate(&s->act);
    qkv_proj(s, lv, n, nq, nkv);
    if (lv->w[CHORD_W_Q_NORM].data)
        chord_rmsnorm_heads(s->q, lv->w[CHORD_W_Q_NORM].data, (int)n * hp->n_head, D, hp->norm_eps);
    if (lv->w[CHORD_W_K_NORM].data)
        chord_rmsnorm_heads(s->k, lv->w[CHORD_W_K_NORM].data, (int)n * hp->n_head_kv, D, hp->norm_eps);

    const chord_type_traits *f16 = chord_type_get(CHORD_TYPE_F16);
    const uint64_t layer_off = (uint64_t)il * s->n_ctx * (uint64_t)nkv;
    /* a sliding-window layer (gemma2/3) has its own RoPE base and scale (llama_model::get_rope_freq_*) */
    const int swa = hp->n_swa > 0 && s->model->swa_layer && s->model->swa_layer[il];
    /* per-pair frequency factors: llama3's rope_freqs, else phi3's long ones when the context
     * llama.cpp would allocate (n_ctx rounded up to 256) exceeds the original context, else its
     * short ones (llama_model::get_rope_factors); all absent: none */
    const float *ff = g->w[CHORD_W_ROPE_FREQS].data;
    if (!ff) ff = g->w[((uint64_t)s->n_ctx + 255) / 256 * 256 > (uint64_t)hp->n_ctx_orig ? CHORD_W_ROPE_LONG : CHORD_W_ROPE_SHORT].data;
    const chord_rope_params rp = {
        .n_rot = hp->n_rot, .freq_base = swa ? hp->rope_theta_swa : hp->rope_theta,
        .freq_scale = swa ? hp->rope_freq_scale_swa : hp->rope_freq_scale,
        .ext_factor = hp->rope_ext_factor, .attn_factor = hp->rope_attn_factor,
        .corr = { swa ? hp->rope_corr_swa[0] : hp->rope_corr[0], swa ? hp->rope_corr_swa[1] : hp->rope_corr[1] },
        .freq_factors = ff,
    };
    for (uint32_t t = 0; t < n; t++) {
        chord_rope_cache(s->rope, &rp, (int32_t)(s->pos + t));
        chord_rope_apply(s->q + t * nq, hp->n_head, (int32_t)D, hp->n_rot, s->rope, hp->rope_neox);
        chord_rope_apply(s->k + t * nkv, hp->n_head_kv, (int32_t)D, hp->n_rot, s->rope, hp->rope_neox);
        if (hp->q_scale != 0.0f) /* phi3, gemma2: ggml_scale(q, ...) after RoPE, attention scale 1 */
            for (int64_t i = 0; i < nq; i++) s->q[t * nq + i] *= hp->q_scale;
        const uint64_t at = layer_off + (uint64_t)(s->pos + t) * (uint64_t)nkv;
        f16->from_float(s->k + t * nkv, s->k_cache + at, nkv);
        f16->from_float(s->v + t * nkv, s->v_cache + at, nkv);
    }
    chord_attn a = {
        .q = s->q, .k = s->k_cache + layer_off, .v = s->v_cache + layer_off, .out = s->attn,
        .n_tok = (int32_t)n, .pos0 = (int32_t)s->pos, .n_head = hp->n_head, .n_head_kv = hp->n_head_kv,
        .head_dim = (int32_t)D, .scale = hp->q_scale != 0.0f ? 1.0f : 1.0f / sqrtf((float)D),
        .softcap = hp->attn_softcap, .window = swa ? hp->n_swa : 0,
        .scratch = s->attn_scratch, .scratch_per_thread = s->attn_scratch_per_thread,
    };
    chord_attention(s->pool, &a);
    chord_act_invalidate(&s->act);
    matmul(s, s->xn, &lv->w[CHORD_W_O], s->attn, n);
    add_bias(s->xn, lv, CHORD_W_O_B, n, E);
    post_norm(s, lv, CHORD_W_ATTN_POST_NORM, n);
    for (int64_t i = 0; i < (int64_t)n * E; i++) s->x[i] += s->xn[i];
}

static void ffn_block(chord_session *s, const chord_layer_view *lv, uint32_t n) {
    const chord_hparams *hp = &s->model->hp;
    const int64_t E = hp->n_embd, F = hp->n_ff;
    for (uint32_t t = 0; t < n; t++)
        chord_rmsnorm(s->xn + t * E, s->x + t * E, lv->w[CHORD_W_FFN_NORM].data, E, hp->norm_eps);
    chord_act_invalidate(&s->act);
    if (hp->ffn_fused) { /* one product [gate | up] per token, split (ggml_swiglu's halves) */
        matmul(s, s->ffn2, &lv->w[CHORD_W_UP], s->xn, n);
        for (uint32_t t = 0; t < n; t++) {
            memcpy(s->gate + t * F, s->ffn2 + t * 2 * F, (size_t)F * sizeof(float));
            memcpy(s->up + t * F, s->ffn2 + t * 2 * F + F, (size_t)F * sizeof(float));
        }
    } else {
        float *const ys[2] = { s->gate, s->up };
        const chord_mat *const ws[2] = { &lv->w[CHORD_W_GATE], &lv->w[CHORD_W_UP] };
        matmul_shared(s, 2, ys, ws, s->xn, n);
    }
    add_bias(s->up, lv, CHORD_W_UP_B, n, F);
    add_bias(s->gate, lv, CHORD_W_GATE_B, n, F);
    if (hp->gelu) chord_geglu(s->gate, s->up, (int64_t)n * F);
    else chord_swiglu(s->pool, s->gate, s->up, (int64_t)n * F);
    chord_act_invalidate(&s->act);
    matmul(s, s->xn, &lv->w[CHORD_W_DOWN], s->gate, n);
    add_bias(s->xn, lv, CHORD_W_DOWN_B, n, E);
    post_norm(s, lv, CHORD_W_FFN_POST_NORM, n);
    for (int64_t i = 0; i < (int64_t)n * E; i++) s->x[i] += s->xn[i];
}

chord_status chord_forward(chord_session *s, const int32_t *tokens, uint32_t n, chord_error *err) {
    chord_model *m = s->model;
    const int64_t E = m->hp.n_embd;
    chord_layer_view g, lv;
    chord_status st = chord_weights_acquire(m->weights, CHORD_LAYER_GLOBAL, &g, err);
    if (st != CHORD_OK) return st;
    embed(s, &g, tokens, n);
    for (int32_t il = 0; il < m->hp.n_layer; il++) {
        if ((st = chord_weights_acquire(m->weights, il, &lv, err)) != CHORD_OK) break;
        /* a hint: the next layers (the first ones after the last) are read while this computes */
        chord_weights_prefetch(m->weights, il + 1 < m->hp.n_layer ? il + 1 : 0);
        attention_block(s, il, &lv, &g, n);
        ffn_block(s, &lv, n);
        chord_weights_release(m->weights, il);
        if (s->progress && s->feed_total > 1)
            s->progress(s->progress_user, s->feed_done, n, s->feed_total, il, m->hp.n_layer);
    }
    if (st == CHORD_OK) {
        /* only the last token's logits are needed */
        float *last = s->xn;
        chord_rmsnorm(last, s->x + (int64_t)(n - 1) * E, g.w[CHORD_W_OUT_NORM].data, E, m->hp.norm_eps);
        chord_act_invalidate(&s->act);
        matmul(s, s->logits, &g.w[CHORD_W_OUTPUT], last, 1);
        if (g.w[CHORD_W_OUTPUT_B].data) chord_add_rows(s->logits, g.w[CHORD_W_OUTPUT_B].data, 1, m->hp.n_vocab);
        if (m->hp.final_softcap != 0.0f) chord_softcap(s->logits, m->hp.n_vocab, m->hp.final_softcap);
        s->pos += n;
        s->has_logits = 1;
    }
    chord_weights_release(m->weights, CHORD_LAYER_GLOBAL);
    return st;
}
