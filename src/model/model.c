/*
 * model.c — opening a model: GGUF metadata → architecture and hyper-parameters (validated),
 * tensor names → layer slots (shape-checked), then the weights module and the tokenizer.
 *
 * Architectures (llama.cpp's names and conventions):
 *   llama — RMSNorm, RoPE on adjacent pairs ("normal"), grouped-query attention, SwiGLU FFN,
 *           output head `output.weight` or, when absent, tied to `token_embd.weight`.
 *   qwen2 — the same block with biases on q/k/v and RoPE on halves ("neox").
 * Hyper-parameter keys are `<arch>.<name>`; every one that the forward pass relies on is checked
 * here so that a bad file fails at load with a message, never later inside a kernel.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "model/model.h"
#include "platform.h"
#include "quant/quant.h"
#include "tokenizer/tokenizer.h"

typedef struct arch_desc {
    const char *name;
    int rope_neox;
    int qkv_bias;   /* q/k/v biases required */
} arch_desc;

static const arch_desc ARCHS[CHORD_ARCH_COUNT] = {
    [CHORD_ARCH_LLAMA] = { .name = "llama", .rope_neox = 0, .qkv_bias = 0 },
    [CHORD_ARCH_QWEN2] = { .name = "qwen2", .rope_neox = 1, .qkv_bias = 1 },
};

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

static chord_status rope_scaling(const chord_gguf *g, const char *arch, chord_hparams *hp, chord_error *err) {
    char full[128];
    snprintf(full, sizeof full, "%s.rope.scaling.type", arch);
    chord_str type;
    hp->rope_freq_scale = 1.0f;
    chord_status st = chord_gguf_get_str(g, full, &type, err);
    if (st == CHORD_E_NOT_FOUND) return CHORD_OK;
    if (st != CHORD_OK) return st;
    if (!strcmp(type.ptr, "none")) return CHORD_OK;
    if (strcmp(type.ptr, "linear") != 0)
        return chord_fail(err, CHORD_E_UNSUPPORTED, "'%s' = '%s' is not supported (only none, linear)", full, type.ptr);
    float factor = 1.0f;
    st = get_float(g, arch, "rope.scaling.factor", 0, 1.0f, &factor, err);
    if (st != CHORD_OK) return st;
    if (factor != 0.0f) hp->rope_freq_scale = 1.0f / factor;
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
    int32_t head = hp->n_embd / hp->n_head, klen = 0, vlen = 0;
    if ((st = get_dim(g, a, "attention.key_length", 0, head, &klen, err)) ||
        (st = get_dim(g, a, "attention.value_length", 0, head, &vlen, err)))
        return st;
    if (klen != head || vlen != head)
        return chord_fail(err, CHORD_E_UNSUPPORTED, "%s.attention.key_length/value_length = %d/%d differ from "
                          "embedding_length/head_count = %d", a, klen, vlen, head);
    hp->n_embd_head = head;
    if ((st = get_dim(g, a, "rope.dimension_count", 0, head, &hp->n_rot, err))) return st;
    if (hp->n_rot > head || hp->n_rot % 2 != 0)
        return chord_fail(err, CHORD_E_FORMAT, "%s.rope.dimension_count = %d must be even and at most the head size %d",
                          a, hp->n_rot, head);
    if ((st = get_float(g, a, "rope.freq_base", 0, 10000.0f, &hp->rope_theta, err)) ||
        (st = get_float(g, a, "attention.layer_norm_rms_epsilon", 1, 0, &hp->norm_eps, err)) ||
        (st = rope_scaling(g, a, hp, err)))
        return st;
    if (hp->rope_theta <= 0)
        return chord_fail(err, CHORD_E_FORMAT, "%s.rope.freq_base must be positive", a);
    hp->rope_neox = ARCHS[m->arch].rope_neox;
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

static chord_status bind_layer(chord_model *m, int32_t il, chord_error *err) {
    const chord_hparams *hp = &m->hp;
    const int64_t E = hp->n_embd, Q = (int64_t)hp->n_head * hp->n_embd_head,
                  KV = (int64_t)hp->n_head_kv * hp->n_embd_head, F = hp->n_ff;
    const int bias = ARCHS[m->arch].qkv_bias;
    static const struct { chord_wslot slot; const char *suffix; int dims; int required_bias; } spec[] = {
        { CHORD_W_ATTN_NORM, "attn_norm.weight", 0, -1 }, { CHORD_W_Q, "attn_q.weight", 1, -1 },
        { CHORD_W_K, "attn_k.weight", 2, -1 }, { CHORD_W_V, "attn_v.weight", 2, -1 },
        { CHORD_W_Q_B, "attn_q.bias", 3, 1 }, { CHORD_W_K_B, "attn_k.bias", 4, 1 },
        { CHORD_W_V_B, "attn_v.bias", 4, 1 }, { CHORD_W_O, "attn_output.weight", 5, -1 },
        { CHORD_W_FFN_NORM, "ffn_norm.weight", 0, -1 }, { CHORD_W_GATE, "ffn_gate.weight", 6, -1 },
        { CHORD_W_UP, "ffn_up.weight", 6, -1 }, { CHORD_W_DOWN, "ffn_down.weight", 7, -1 },
    };
    /* shapes by `dims` code: {ne0, ne1} */
    const int64_t shapes[8][2] = { { E, 1 }, { E, Q }, { E, KV }, { Q, 1 }, { KV, 1 }, { Q, E }, { E, F }, { F, E } };
    chord_layer_tensors *lt = &m->layers[il];
    for (size_t i = 0; i < sizeof spec / sizeof spec[0]; i++) {
        char name[96];
        snprintf(name, sizeof name, "blk.%d.%s", il, spec[i].suffix);
        int required = spec[i].required_bias < 0 ? 1 : bias;
        chord_status st = bind(m, name, required, shapes[spec[i].dims][0], shapes[spec[i].dims][1],
                               &lt->t[spec[i].slot], err);
        if (st != CHORD_OK) return st;
        if (spec[i].dims == 0 || spec[i].required_bias > 0)
            if ((st = need_f32(lt->t[spec[i].slot], err)) != CHORD_OK) return st;
    }
    return CHORD_OK;
}

chord_status chord_model_load_arch(chord_model *m, chord_error *err) {
    chord_status st = load_hparams(m, err);
    if (st != CHORD_OK) return st;
    const chord_gguf_tensor *emb = chord_gguf_find_tensor(m->gguf, "token_embd.weight");
    if (!emb) return chord_fail(err, CHORD_E_FORMAT, "missing tensor 'token_embd.weight'");
    if (emb->ne[1] <= 0 || emb->ne[1] > INT32_MAX / 2)
        return chord_fail(err, CHORD_E_FORMAT, "tensor 'token_embd.weight' has %lld rows (vocabulary size)",
                          (long long)emb->ne[1]);
    m->hp.n_vocab = (int32_t)emb->ne[1];
    const int64_t E = m->hp.n_embd, V = m->hp.n_vocab;
    if ((st = bind(m, "token_embd.weight", 1, E, V, &m->global.t[CHORD_W_TOK_EMBD], err)) ||
        (st = bind(m, "output_norm.weight", 1, E, 1, &m->global.t[CHORD_W_OUT_NORM], err)) ||
        (st = need_f32(m->global.t[CHORD_W_OUT_NORM], err)) ||
        (st = bind(m, "output.weight", 0, E, V, &m->global.t[CHORD_W_OUTPUT], err)))
        return st;
    if (!m->global.t[CHORD_W_OUTPUT]) m->global.t[CHORD_W_OUTPUT] = m->global.t[CHORD_W_TOK_EMBD]; /* tied */
    m->layers = calloc((size_t)m->hp.n_layer, sizeof *m->layers);
    if (!m->layers) return chord_fail(err, CHORD_E_NOMEM, "out of memory for %d layers", m->hp.n_layer);
    for (int32_t il = 0; il < m->hp.n_layer; il++)
        if ((st = bind_layer(m, il, err)) != CHORD_OK) return st;
    return CHORD_OK;
}

/* ---- open / free ------------------------------------------------------------------------------ */

static chord_status detect_arch(chord_model *m, chord_error *err) {
    chord_str a;
    chord_status st = chord_gguf_get_str(m->gguf, "general.architecture", &a, err);
    if (st == CHORD_E_NOT_FOUND) return chord_fail(err, CHORD_E_FORMAT, "missing 'general.architecture'");
    if (st != CHORD_OK) return st;
    for (int i = 0; i < CHORD_ARCH_COUNT; i++)
        if (!strcmp(a.ptr, ARCHS[i].name)) {
            m->arch = (chord_arch)i;
            m->arch_name = ARCHS[i].name;
            return CHORD_OK;
        }
    return chord_fail(err, CHORD_E_UNSUPPORTED, "architecture '%s' is not supported (llama, qwen2)", a.ptr);
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
    chord_gguf_close(m->gguf);
    chord_source_close(&m->src);
    free(m);
}

const struct chord_tokenizer *chord_model_tokenizer(const chord_model *m) { return m ? m->tok : NULL; }
const chord_gguf *chord_model_gguf(const chord_model *m) { return m ? m->gguf : NULL; }
