/*
 * model.c — opening a model: GGUF metadata → architecture and hyper-parameters (validated),
 * tensor names → slots (shape-checked; every tensor of the file must land in a slot), then the
 * weights module and the tokenizer.
 *
 * The families and what each may carry are one table (model/arch.c). Hyper-parameter keys are
 * `<arch>.<name>`; every one the forward pass relies on is checked here so that a bad file fails
 * at load with a message, never later inside a kernel, and every key that would change the
 * computation without being implemented is refused (arch.c, docs/MODELS.md).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "model/arch.h"
#include "model/model.h"
#include "platform.h"
#include "quant/quant.h"
#include "tokenizer/tokenizer.h"

/* Caps that no real model reaches; they keep products of dimensions far from overflow. */
#define MAX_DIM   (1 << 20)
#define MAX_LAYER 4096

/* ---- hyper-parameters ------------------------------------------------------------------------ */

static chord_status get_dim(const chord_gguf *g, const char *arch, const char *key, int required,
                            int32_t def, int32_t *out, chord_error *err) {
    char full[128];
    snprintf(full, sizeof full, "%s.%s", arch, key);
    uint32_t v = 0;
    chord_status st = chord_gguf_get_u32(g, full, &v, err);
    if (st == CHORD_E_NOT_FOUND && !required) {
        *out = def;
        return CHORD_OK;
    }
    if (st == CHORD_E_NOT_FOUND) return chord_fail(err, CHORD_E_FORMAT, "missing hyper-parameter '%s'", full);
    if (st != CHORD_OK) return st;
    if (v == 0 || v > MAX_DIM)
        return chord_fail(err, CHORD_E_FORMAT, "hyper-parameter '%s' = %u is out of range [1, %d]", full, v, MAX_DIM);
    *out = (int32_t)v;
    return CHORD_OK;
}

static chord_status get_float(const chord_gguf *g, const char *arch, const char *key, int required,
                              float def, float *out, chord_error *err) {
    char full[128];
    snprintf(full, sizeof full, "%s.%s", arch, key);
    chord_status st = chord_gguf_get_f32(g, full, out, err);
    if (st == CHORD_E_NOT_FOUND && !required) {
        *out = def;
        return CHORD_OK;
    }
    if (st == CHORD_E_NOT_FOUND) return chord_fail(err, CHORD_E_FORMAT, "missing hyper-parameter '%s'", full);
    if (st != CHORD_OK) return st;
    if (isnan(*out) || isinf(*out) || *out < 0)
        return chord_fail(err, CHORD_E_FORMAT, "hyper-parameter '%s' = %g is not a finite non-negative number",
                          full, (double)*out);
    return CHORD_OK;
}

static int has_key(const chord_gguf *g, const char *arch, const char *key) {
    char full[128];
    snprintf(full, sizeof full, "%s.%s", arch, key);
    return chord_gguf_find_key(g, full) >= 0;
}

/* YaRN correction dimension (ggml_rope_yarn_corr_dim, same float operations). */
static float yarn_corr_dim(int n_dims, int n_ctx_orig, float n_rot, float base) {
    return (float)n_dims * logf((float)n_ctx_orig / (n_rot * 2 * (float)M_PI)) / (2 * logf(base));
}

/* RoPE scaling as llama.cpp derives it (llama_model::load_hparams, llama_context's cparams):
 * rope.scaling.type defaults to linear; the factor is rope.scaling.factor or the older
 * rope.scale_linear; type none means no scaling whatever the factor; yarn mixes interpolation
 * and extrapolation per dimension and rescales cos/sin; rope.scaling.attn_factor multiplies
 * cos/sin in every case. The type longrope is refused: no converter writes it (Phi-3 128k files
 * carry rope_factors_long/short with the default type; forward.c picks one by the context). */
static chord_status rope_scaling(const chord_gguf *g, const char *arch, chord_hparams *hp, chord_error *err) {
    char full[128];
    snprintf(full, sizeof full, "%s.rope.scaling.type", arch);
    chord_str type = { "linear", 6 };
    chord_status st = chord_gguf_get_str(g, full, &type, err);
    if (st != CHORD_OK && st != CHORD_E_NOT_FOUND) return st;
    const int none = !strcmp(type.ptr, "none"), yarn = !strcmp(type.ptr, "yarn");
    if (!none && !yarn && strcmp(type.ptr, "linear") != 0)
        return chord_fail(err, CHORD_E_UNSUPPORTED, "'%s' = '%s' is not supported (none, linear, yarn)", full, type.ptr);
    float factor = 0.0f, attn = 1.0f;
    if ((st = get_float(g, arch, has_key(g, arch, "rope.scaling.factor") ? "rope.scaling.factor" : "rope.scale_linear",
                        0, 0.0f, &factor, err)) ||
        (st = get_float(g, arch, "rope.scaling.attn_factor", 0, 1.0f, &attn, err)))
        return st;
    hp->rope_freq_scale = none || factor == 0.0f ? 1.0f : 1.0f / factor;
    hp->rope_ext_factor = yarn ? 1.0f : 0.0f;
    hp->rope_attn_factor = 1.0f;
    int32_t n_ctx_orig = hp->n_ctx_train;
    if ((st = get_dim(g, arch, "rope.scaling.original_context_length", 0, hp->n_ctx_train, &n_ctx_orig, err)))
        return st;
    if (yarn) {
        const float f = 1.0f / hp->rope_freq_scale;
        const float mscale = f <= 1.0f ? 1.0f : 0.1f * 1.0f * logf(f) + 1.0f;
        hp->rope_attn_factor = mscale * (1.0f / (1.0f + 0.1f * logf(f)));
    }
    hp->rope_attn_factor *= attn;
    hp->n_ctx_orig = n_ctx_orig;
    return CHORD_OK;
}

/* YaRN correction dimensions for RoPE base `base` (ggml_rope_yarn_corr_dims: ggml derives them
 * from the base each rope call gets, so SWA layers with their own base get their own). beta_fast
 * 32, beta_slow 1: llama.cpp's defaults (no key sets them for these families). */
static void yarn_corr(const chord_hparams *hp, float base, float corr[2]) {
    const float start = floorf(yarn_corr_dim(hp->n_rot, hp->n_ctx_orig, 32.0f, base));
    const float end = ceilf(yarn_corr_dim(hp->n_rot, hp->n_ctx_orig, 1.0f, base));
    corr[0] = start > 0 ? start : 0;
    corr[1] = end < (float)(hp->n_rot - 1) ? end : (float)(hp->n_rot - 1);
}

/* Which layers slide (llama_model_base::load_swa_pattern): `attention.sliding_window_pattern` is
 * either one flag per layer (an array of bool / u32 / i32: nonzero = SWA) or a period n (every
 * n-th layer, the last of each period, is global; 0: all slide); absent, the family's period. */
static chord_status swa_layers(chord_model *m, uint32_t period, chord_error *err) {
    const chord_gguf *g = m->gguf;
    const int32_t L = m->hp.n_layer;
    char key[128];
    snprintf(key, sizeof key, "%s.attention.sliding_window_pattern", m->arch_name);
    if (!(m->swa_layer = calloc((size_t)L, 1))) return chord_fail(err, CHORD_E_NOMEM, "out of memory for %d layers", L);
    const int64_t k = chord_gguf_find_key(g, key);
    if (k >= 0 && chord_gguf_kv_type(g, (uint64_t)k) == CHORD_GGUF_ARRAY) {
        const chord_gguf_vtype et = chord_gguf_arr_type(g, (uint64_t)k);
        const uint64_t n = chord_gguf_arr_n(g, (uint64_t)k);
        if (et != CHORD_GGUF_BOOL && et != CHORD_GGUF_UINT32 && et != CHORD_GGUF_INT32)
            return chord_fail(err, CHORD_E_FORMAT, "'%s' is an array of %s (bool, u32 or i32 expected)", key,
                              chord_gguf_vtype_name(et));
        if (n != (uint64_t)L)
            return chord_fail(err, CHORD_E_UNSUPPORTED, "'%s' with %llu entries for %d layers is not supported",
                              key, (unsigned long long)n, L);
        const uint8_t *b = chord_gguf_arr_data(g, (uint64_t)k);
        for (int32_t il = 0; il < L; il++) {
            uint32_t v = 0;
            if (et == CHORD_GGUF_BOOL) v = b[il];
            else memcpy(&v, b + 4 * (size_t)il, 4);
            m->swa_layer[il] = v != 0;
        }
        return CHORD_OK;
    }
    if (k >= 0) {
        chord_status st = chord_gguf_get_u32(g, key, &period, err);
        if (st != CHORD_OK) return st;
    }
    for (int32_t il = 0; il < L; il++) m->swa_layer[il] = period == 0 || (uint32_t)il % period < period - 1;
    return CHORD_OK;
}

/* Gemma 2 and 3 as llama_model_gemma2/gemma3::load_arch_hparams: embeddings × sqrt(n_embd), GeGLU,
 * q × 1/sqrt(head) (the 27B, 46 / 62 layers: 1/sqrt(n_embd/n_head)).
 *   gemma2: soft-caps 50 / 30 unless given; a 4096 window unless given on every other layer;
 *           SWA layers' RoPE base rope.freq_base_swa (default the global one), same scaling.
 *   gemma3: no attention soft-cap; final soft-cap only when given; a window only when
 *           attention.sliding_window is given (> 0), then on 5 of every 6 layers, whose RoPE has
 *           base rope.freq_base_swa (default 10000) and no scaling (rope scaling is global-only). */
static chord_status gemma_hparams(chord_model *m, chord_error *err) {
    const chord_gguf *g = m->gguf;
    const char *a = m->arch_name;
    chord_hparams *hp = &m->hp;
    const int g3 = m->arch == CHORD_ARCH_GEMMA3;
    chord_status st;
    char key[128];
    snprintf(key, sizeof key, "%s.attention.sliding_window", a);
    uint32_t swa = 4096;
    if ((st = chord_gguf_get_u32(g, key, &swa, err)) == CHORD_E_NOT_FOUND) swa = g3 ? 0 : 4096;
    else if (st != CHORD_OK) return st;
    if (swa > MAX_DIM) return chord_fail(err, CHORD_E_FORMAT, "'%s' = %u exceeds %d", key, swa, MAX_DIM);
    if (!g3 && swa == 0) return chord_fail(err, CHORD_E_FORMAT, "'%s' = 0 (gemma2 needs a window)", key);
    hp->n_swa = (int32_t)swa;
    hp->attn_softcap = 0.0f;
    if ((!g3 && (st = get_float(g, a, "attn_logit_softcapping", 0, 50.0f, &hp->attn_softcap, err))) ||
        (st = get_float(g, a, "final_logit_softcapping", 0, g3 ? 0.0f : 30.0f, &hp->final_softcap, err)))
        return st;
    if (hp->n_swa > 0) {
        if ((st = get_float(g, a, "rope.freq_base_swa", 0, g3 ? 10000.0f : hp->rope_theta, &hp->rope_theta_swa, err)) ||
            (st = swa_layers(m, g3 ? 6 : 2, err)))
            return st;
        if (hp->rope_theta_swa <= 0) return chord_fail(err, CHORD_E_FORMAT, "%s.rope.freq_base_swa must be positive", a);
        hp->rope_freq_scale_swa = g3 ? 1.0f : hp->rope_freq_scale;
    }
    hp->gelu = 1;
    hp->embd_scale = sqrtf((float)hp->n_embd);
    hp->q_scale = hp->n_layer == (g3 ? 62 : 46) ? 1.0f / sqrtf((float)(hp->n_embd / hp->n_head))
                                                : 1.0f / sqrtf((float)hp->n_embd_head);
    return CHORD_OK;
}

static chord_status load_hparams(chord_model *m, chord_error *err) {
    const chord_gguf *g = m->gguf;
    const char *a = m->arch_name;
    chord_hparams *hp = &m->hp;
    chord_status st;
    if ((st = get_dim(g, a, "embedding_length", 1, 0, &hp->n_embd, err)) ||
        (st = get_dim(g, a, "block_count", 1, 0, &hp->n_layer, err)) ||
        (st = get_dim(g, a, "feed_forward_length", 1, 0, &hp->n_ff, err)) ||
        (st = get_dim(g, a, "attention.head_count", 1, 0, &hp->n_head, err)) ||
        (st = get_dim(g, a, "attention.head_count_kv", 0, hp->n_head, &hp->n_head_kv, err)) ||
        (st = get_dim(g, a, "context_length", 1, 0, &hp->n_ctx_train, err)))
        return st;
    if (hp->n_layer > MAX_LAYER)
        return chord_fail(err, CHORD_E_FORMAT, "%s.block_count = %d exceeds %d", a, hp->n_layer, MAX_LAYER);
    if (hp->n_embd % hp->n_head != 0)
        return chord_fail(err, CHORD_E_FORMAT, "%s.attention.head_count = %d does not divide %s.embedding_length = %d",
                          a, hp->n_head, a, hp->n_embd);
    if (hp->n_head % hp->n_head_kv != 0)
        return chord_fail(err, CHORD_E_FORMAT, "%s.attention.head_count_kv = %d does not divide %s.attention.head_count = %d",
                          a, hp->n_head_kv, a, hp->n_head);
    /* head size: attention.key_length (Qwen3 and Gemma heads are wider than n_embd / n_head) */
    int32_t klen = 0, vlen = 0;
    if ((st = get_dim(g, a, "attention.key_length", 0, hp->n_embd / hp->n_head, &klen, err)) ||
        (st = get_dim(g, a, "attention.value_length", 0, klen, &vlen, err)))
        return st;
    if (klen != vlen)
        return chord_fail(err, CHORD_E_UNSUPPORTED, "%s.attention.key_length = %d differs from value_length = %d",
                          a, klen, vlen);
    if (klen % 2 != 0) return chord_fail(err, CHORD_E_FORMAT, "%s.attention.key_length = %d is odd", a, klen);
    const int32_t head = klen;
    hp->n_embd_head = head;
    if ((st = get_dim(g, a, "rope.dimension_count", 0, head, &hp->n_rot, err))) return st;
    if (hp->n_rot > head || hp->n_rot % 2 != 0)
        return chord_fail(err, CHORD_E_FORMAT, "%s.rope.dimension_count = %d must be even and at most the head size %d",
                          a, hp->n_rot, head);
    /* llama.cpp refuses partial rotary for llama ("invalid n_rot") and asserts n_rot == head size
     * in the qwen2/qwen3 graphs */
    if (hp->n_rot != head)
        return chord_fail(err, CHORD_E_UNSUPPORTED, "%s.rope.dimension_count = %d is not supported: RoPE on part of "
                          "the head (head size %d)", a, hp->n_rot, head);
    if ((st = get_float(g, a, "rope.freq_base", 0, 10000.0f, &hp->rope_theta, err)) ||
        (st = get_float(g, a, "attention.layer_norm_rms_epsilon", 1, 0, &hp->norm_eps, err)))
        return st;
    if (hp->rope_theta <= 0)
        return chord_fail(err, CHORD_E_FORMAT, "%s.rope.freq_base must be positive", a);
    if ((st = rope_scaling(g, a, hp, err))) return st;
    hp->rope_neox = chord_arch_get(m->arch)->rope_neox;
    hp->ffn_fused = chord_arch_get(m->arch)->ffn_fused;
    hp->q_scale = chord_arch_get(m->arch)->q_prescale ? 1.0f / sqrtf((float)head) : 0.0f;
    hp->rope_theta_swa = hp->rope_theta;
    hp->rope_freq_scale_swa = hp->rope_freq_scale;
    if (chord_arch_get(m->arch)->gemma && (st = gemma_hparams(m, err))) return st;
    yarn_corr(hp, hp->rope_theta, hp->rope_corr);
    yarn_corr(hp, hp->rope_theta_swa, hp->rope_corr_swa);
    return CHORD_OK;
}

/* ---- tensors ----------------------------------------------------------------------------------- */

/* Finds `name` and checks its shape is exactly {ne0, ne1} (ne1 = 1 for vectors). */
static chord_status bind(chord_model *m, const char *name, int required, int64_t ne0, int64_t ne1,
                         const chord_gguf_tensor **out, chord_error *err) {
    const chord_gguf_tensor *t = chord_gguf_find_tensor(m->gguf, name);
    *out = t;
    if (!t) return required ? chord_fail(err, CHORD_E_FORMAT, "missing tensor '%s'", name) : CHORD_OK;
    if (t->ne[0] != ne0 || t->ne[1] != ne1 || t->ne[2] != 1 || t->ne[3] != 1)
        return chord_fail(err, CHORD_E_FORMAT, "tensor '%s' has shape [%lld, %lld, %lld, %lld], expected [%lld, %lld]",
                          name, (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2],
                          (long long)t->ne[3], (long long)ne0, (long long)ne1);
    const chord_type_traits *tr = chord_type_get(t->type);
    if (!tr || !tr->to_float || !tr->vec_dot)
        return chord_fail(err, CHORD_E_UNSUPPORTED, "tensor '%s' has unsupported type %s (%u)", name,
                          chord_type_name(t->type), (unsigned)t->type);
    return CHORD_OK;
}

/* Norm weights and biases are read as plain floats by the forward pass. */
static chord_status need_f32(const chord_gguf_tensor *t, chord_error *err) {
    if (t && t->type != CHORD_TYPE_F32)
        return chord_fail(err, CHORD_E_UNSUPPORTED, "tensor '%s' must be f32 (found %s)", t->name.ptr,
                          chord_type_name(t->type));
    return CHORD_OK;
}

/* Expected shape {ne0, ne1} of a slot (ne1 = 1 for vectors). */
static void slot_shape(const chord_hparams *hp, chord_wslot slot, int64_t *ne0, int64_t *ne1) {
    const int64_t E = hp->n_embd, D = hp->n_embd_head, Q = (int64_t)hp->n_head * D,
                  KV = (int64_t)hp->n_head_kv * D, F = hp->n_ff, V = hp->n_vocab;
    *ne1 = 1;
    switch (slot) {
    case CHORD_W_Q: *ne0 = E; *ne1 = Q; break;
    case CHORD_W_K: case CHORD_W_V: *ne0 = E; *ne1 = KV; break;
    case CHORD_W_QKV: *ne0 = E; *ne1 = Q + 2 * KV; break;
    case CHORD_W_O: *ne0 = Q; *ne1 = E; break;
    case CHORD_W_GATE: *ne0 = E; *ne1 = F; break;
    case CHORD_W_UP: *ne0 = E; *ne1 = hp->ffn_fused ? 2 * F : F; break;
    case CHORD_W_DOWN: *ne0 = F; *ne1 = E; break;
    case CHORD_W_TOK_EMBD: case CHORD_W_OUTPUT: *ne0 = E; *ne1 = V; break;
    case CHORD_W_Q_B: *ne0 = Q; break;
    case CHORD_W_K_B: case CHORD_W_V_B: *ne0 = KV; break;
    case CHORD_W_QKV_B: *ne0 = Q + 2 * KV; break;
    case CHORD_W_GATE_B: case CHORD_W_UP_B: *ne0 = F; break;
    case CHORD_W_Q_NORM: case CHORD_W_K_NORM: *ne0 = D; break;
    case CHORD_W_ROPE_FREQS: case CHORD_W_ROPE_LONG: case CHORD_W_ROPE_SHORT: *ne0 = hp->n_rot / 2; break;
    case CHORD_W_OUTPUT_B: *ne0 = V; break;
    default: *ne0 = E; break; /* norms, attn_output / ffn_down biases */
    }
}

/* Binds one slot of layer il (or a global slot when il < 0) as the architecture allows. */
static chord_status bind_slot(chord_model *m, int32_t il, chord_wslot slot, chord_layer_tensors *lt,
                              chord_error *err) {
    const chord_arch_desc *a = chord_arch_get(m->arch);
    char name[96];
    if (il >= 0) snprintf(name, sizeof name, "blk.%d.%s", il, chord_slot_name(slot));
    else snprintf(name, sizeof name, "%s", chord_slot_name(slot));
    int need = a->t[slot];
    const int fused = lt->t[CHORD_W_QKV] != NULL;
    if (fused && (slot == CHORD_W_Q || slot == CHORD_W_K || slot == CHORD_W_V)) need = CHORD_T_NO;
    if (fused && (slot == CHORD_W_Q_B || slot == CHORD_W_K_B || slot == CHORD_W_V_B) && need == CHORD_T_REQ)
        need = lt->t[CHORD_W_QKV_B] ? CHORD_T_NO : CHORD_T_REQ;
    if (need == CHORD_T_NO) {
        lt->t[slot] = NULL; /* present or not: a present one is reported as unused later */
        return CHORD_OK;
    }
    int64_t ne0, ne1;
    slot_shape(&m->hp, slot, &ne0, &ne1);
    chord_status st = bind(m, name, need == CHORD_T_REQ, ne0, ne1, &lt->t[slot], err);
    if (st == CHORD_OK && ne1 == 1) st = need_f32(lt->t[slot], err);
    return st;
}

/* Slots in binding order: the fused qkv first, since it decides whether q/k/v are needed. */
static chord_status bind_all(chord_model *m, int32_t il, chord_layer_tensors *lt, chord_error *err) {
    chord_status st;
    if (il >= 0) {
        if ((st = bind_slot(m, il, CHORD_W_QKV, lt, err)) || (st = bind_slot(m, il, CHORD_W_QKV_B, lt, err)))
            return st;
    }
    for (int s = 0; s < CHORD_W_NSLOTS; s++) {
        if (s == CHORD_W_QKV || s == CHORD_W_QKV_B || chord_slot_is_global((chord_wslot)s) != (il < 0)) continue;
        if ((st = bind_slot(m, il, (chord_wslot)s, lt, err)) != CHORD_OK) return st;
    }
    return CHORD_OK;
}

static int cmp_ptr(const void *a, const void *b) {
    const uintptr_t x = (uintptr_t)*(const void *const *)a, y = (uintptr_t)*(const void *const *)b;
    return x < y ? -1 : x > y;
}

/* Every tensor of the file must be bound to some slot: llama.cpp refuses files with tensors its
 * graph does not use, and an unread tensor (a bias, frequency factors) means wrong output. */
static chord_status check_all_used(chord_model *m, chord_error *err) {
    const uint64_t n = chord_gguf_n_tensors(m->gguf);
    const size_t cap = ((size_t)m->hp.n_layer + 1) * CHORD_W_NSLOTS;
    const void **bound = malloc(cap * sizeof *bound);
    if (!bound) return chord_fail(err, CHORD_E_NOMEM, "out of memory checking the tensor list");
    size_t nb = 0;
    for (int32_t il = -1; il < m->hp.n_layer; il++) {
        const chord_layer_tensors *lt = il < 0 ? &m->global : &m->layers[il];
        for (int s = 0; s < CHORD_W_NSLOTS; s++)
            if (lt->t[s]) bound[nb++] = lt->t[s];
    }
    qsort(bound, nb, sizeof *bound, cmp_ptr);
    chord_status st = CHORD_OK;
    for (uint64_t i = 0; i < n && st == CHORD_OK; i++) {
        const chord_gguf_tensor *t = chord_gguf_tensor_at(m->gguf, i);
        if (!bsearch(&t, bound, nb, sizeof *bound, cmp_ptr))
            st = chord_fail(err, CHORD_E_UNSUPPORTED, "tensor '%s' is not used by architecture %s", t->name.ptr,
                            m->arch_name);
    }
    free(bound);
    return st;
}

chord_status chord_model_load_arch(chord_model *m, chord_error *err) {
    chord_status st = chord_arch_check_keys(m->gguf, chord_arch_get(m->arch), err);
    if (st == CHORD_OK) st = load_hparams(m, err);
    if (st != CHORD_OK) return st;
    const chord_gguf_tensor *emb = chord_gguf_find_tensor(m->gguf, "token_embd.weight");
    if (!emb) return chord_fail(err, CHORD_E_FORMAT, "missing tensor 'token_embd.weight'");
    if (emb->ne[1] <= 0 || emb->ne[1] > INT32_MAX / 2)
        return chord_fail(err, CHORD_E_FORMAT, "tensor 'token_embd.weight' has %lld rows (vocabulary size)",
                          (long long)emb->ne[1]);
    m->hp.n_vocab = (int32_t)emb->ne[1];
    if ((st = bind_all(m, -1, &m->global, err))) return st;
    m->layers = calloc((size_t)m->hp.n_layer, sizeof *m->layers);
    if (!m->layers) return chord_fail(err, CHORD_E_NOMEM, "out of memory for %d layers", m->hp.n_layer);
    for (int32_t il = 0; il < m->hp.n_layer; il++)
        if ((st = bind_all(m, il, &m->layers[il], err)) != CHORD_OK) return st;
    if ((st = check_all_used(m, err)) != CHORD_OK) return st;
    if (!m->global.t[CHORD_W_OUTPUT]) m->global.t[CHORD_W_OUTPUT] = m->global.t[CHORD_W_TOK_EMBD]; /* tied */
    return CHORD_OK;
}

/* ---- open / free ------------------------------------------------------------------------------ */

static chord_status detect_arch(chord_model *m, chord_error *err) {
    chord_str a;
    chord_status st = chord_gguf_get_str(m->gguf, "general.architecture", &a, err);
    if (st == CHORD_E_NOT_FOUND) return chord_fail(err, CHORD_E_FORMAT, "missing 'general.architecture'");
    if (st != CHORD_OK) return st;
    int i = chord_arch_find(a.ptr);
    if (i < 0) return chord_fail(err, CHORD_E_UNSUPPORTED, "architecture '%s' is not supported (%s)", a.ptr, chord_arch_names());
    m->arch = (chord_arch)i;
    m->arch_name = chord_arch_get(m->arch)->name;
    return CHORD_OK;
}

static int32_t special_id(const chord_gguf *g, const char *key) {
    uint32_t v;
    if (chord_gguf_get_u32(g, key, &v, NULL) != CHORD_OK || v > INT32_MAX) return -1;
    return (int32_t)v;
}

static void file_totals(chord_model *m) {
    for (uint64_t i = 0; i < chord_gguf_n_tensors(m->gguf); i++) {
        const chord_gguf_tensor *t = chord_gguf_tensor_at(m->gguf, i);
        m->weight_bytes += t->n_bytes;
        m->n_params += t->n_elems;
    }
}

static chord_status open_parts(chord_model *m, const chord_model_params *p, chord_error *err) {
    chord_status st = chord_gguf_open(&m->gguf, &m->src, err);
    if (st != CHORD_OK) return st;
    chord_str name;
    m->name = chord_gguf_get_str(m->gguf, "general.name", &name, NULL) == CHORD_OK ? name.ptr : "";
    m->bos = special_id(m->gguf, "tokenizer.ggml.bos_token_id");
    m->eos = special_id(m->gguf, "tokenizer.ggml.eos_token_id");
    m->vocab_only = p->vocab_only;
    file_totals(m);
    int32_t n_vocab_expected = -1;
    if (!p->vocab_only) {
        if ((st = detect_arch(m, err)) || (st = chord_model_load_arch(m, err))) return st;
        n_vocab_expected = m->hp.n_vocab;
        /* resident, or paged with how many slots: decided from the memory plan before any
         * weight is read (plan.c) */
        chord_weights_config wc;
        if ((st = chord_plan_weights(m, p, &wc, err)) != CHORD_OK) return st;
        st = chord_weights_open(&m->weights, &m->src, m->layers, m->hp.n_layer, &m->global, &wc, err);
        if (st != CHORD_OK) return st;
    } else {
        chord_str a;
        m->arch_name = chord_gguf_get_str(m->gguf, "general.architecture", &a, NULL) == CHORD_OK ? a.ptr : "";
    }
    if (chord_gguf_find_key(m->gguf, "tokenizer.ggml.model") >= 0) {
        st = chord_tokenizer_new(&m->tok, m->gguf, n_vocab_expected, err);
        if (st != CHORD_OK) return st;
        if (p->vocab_only) m->hp.n_vocab = (int32_t)chord_tokenizer_n_vocab(m->tok);
    } else if (p->vocab_only) {
        return chord_fail(err, CHORD_E_FORMAT, "vocab_only: the file has no 'tokenizer.ggml.model'");
    }
    return CHORD_OK;
}

chord_model_params chord_model_params_default(void) {
    chord_model_params p = { .vocab_only = 0, .use_mmap = 1, .residency = CHORD_RESIDENCY_AUTO, .prefetch = 1 };
    return p;
}

chord_status chord_model_open_tensors(chord_model **out, chord_source *src, chord_error *err) {
    *out = NULL;
    chord_model *m = calloc(1, sizeof *m);
    if (!m) {
        chord_source_close(src);
        return chord_fail(err, CHORD_E_NOMEM, "out of memory allocating the model");
    }
    m->src = *src;
    memset(src, 0, sizeof *src);
    chord_quant_init();
    chord_status st = chord_gguf_open(&m->gguf, &m->src, err);
    if (st == CHORD_OK) st = detect_arch(m, err);
    if (st == CHORD_OK) st = chord_model_load_arch(m, err);
    if (st != CHORD_OK) {
        chord_model_free(m);
        return st;
    }
    file_totals(m);
    *out = m;
    return CHORD_OK;
}

chord_status chord_model_open_source(chord_model **out, chord_source *src, const chord_model_params *p,
                                     chord_error *err) {
    if (out) *out = NULL;
    if (!out || !src || !src->read) {
        if (src) chord_source_close(src);
        return chord_fail(err, CHORD_E_INVALID_ARG, "chord_model_open_source: NULL argument");
    }
    chord_model_params defaults = chord_model_params_default();
    if (!p) p = &defaults;
    double t0 = chord_time_ms();
    chord_model *m = calloc(1, sizeof *m);
    if (!m) {
        chord_source_close(src);
        return chord_fail(err, CHORD_E_NOMEM, "out of memory allocating the model");
    }
    m->src = *src;
    memset(src, 0, sizeof *src);
    chord_quant_init();
    chord_status st = open_parts(m, p, err);
    if (st != CHORD_OK) {
        chord_model_free(m);
        return st;
    }
    m->load_ms = chord_time_ms() - t0;
    *out = m;
    return CHORD_OK;
}

chord_status chord_model_open(chord_model **out, const char *path, const chord_model_params *p,
                              chord_error *err) {
    if (out) *out = NULL;
    if (!out || !path) return chord_fail(err, CHORD_E_INVALID_ARG, "chord_model_open: NULL argument");
    double t0 = chord_time_ms();
    chord_source src;
    chord_status st = chord_source_from_file(&src, path, err);
    if (st != CHORD_OK) return st;
    if (p && !p->use_mmap) { /* read the weights into our own buffer instead */
        src.data = NULL;
        src.check = NULL;    /* nothing mapped is used: later changes of the file do not matter */
    }
    st = chord_model_open_source(out, &src, p, err);
    if (st == CHORD_OK) (*out)->load_ms = chord_time_ms() - t0;
    return st;
}

void chord_model_free(chord_model *m) {
    if (!m) return;
    chord_tokenizer_free(m->tok);
    chord_weights_free(m->weights);
    free(m->layers);
    free(m->swa_layer);
    chord_gguf_close(m->gguf);
    chord_source_close(&m->src);
    free(m);
}

const struct chord_tokenizer *chord_model_tokenizer(const chord_model *m) { return m ? m->tok : NULL; }
const chord_gguf *chord_model_gguf(const chord_model *m) { return m ? m->gguf : NULL; }
