/*
 * plan.c — the tensor list of a synthetic llama/qwen2 model and the type of each tensor.
 *
 * Names and shapes follow llama.cpp (src/llama-arch.cpp, llama-model.cpp, src/models/ of each
 * attn_{q,k}_norm, phi3's fused attn_qkv and [gate | up] ffn_up, llama's optional biases and
 * rope_freqs): token_embd.weight
 * (n_embd, n_vocab), blk.N.{attn_norm,attn_q,attn_k,attn_v,attn_output,ffn_norm,ffn_gate,
 * ffn_up,ffn_down}.weight, qwen2's blk.N.attn_{q,k,v}.bias, output_norm.weight and, unless the
 * head is tied to the embeddings, output.weight (n_embd, n_vocab).
 *
 * Initialisation is GPT-2's, so that a random deep network is not chaotic (greedy tokens would
 * otherwise flip on rounding noise within a few steps and parity tests could not tell numerics
 * from bugs): token embeddings N(0, 1), matrices N(0, 0.02), the two matrices that write into
 * the residual stream (attn_output, ffn_down) additionally scaled by 1/sqrt(2·n_layer), norm
 * weights exactly 1, qwen2 biases N(0, 0.02).
 *
 * Types: 1-D tensors (norms, biases) stay F32 as llama.cpp keeps them. A single-type file puts
 * every matrix in that type (llama.cpp's --pure). The Q4_K_M mixture reproduces llama.cpp's
 * llama_tensor_get_type for a dense llama/qwen2 model: Q4_K everywhere, except output.weight
 * (and token_embd when tied) Q6_K, and attn_v / ffn_down Q6_K in the layers where
 * use_more_bits(i, n) holds: the first and last eighth of the layers and every third in between.
 * A row length that the block size does not divide falls back as llama.cpp does
 * (Q2_K/Q3_K→Q4_0, Q4_K→Q5_0, Q5_K→Q5_1, Q6_K→Q8_0, then F16).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "plan.h"

static const chord_synth_ftype ftypes[] = {
    { "f32",    CHORD_TYPE_F32,  0, 0 },  { "f16",  CHORD_TYPE_F16,  0, 1 },
    { "bf16",   CHORD_TYPE_BF16, 0, 32 }, { "q4_0", CHORD_TYPE_Q4_0, 0, 2 },
    { "q4_1",   CHORD_TYPE_Q4_1, 0, 3 },  { "q5_0", CHORD_TYPE_Q5_0, 0, 8 },
    { "q5_1",   CHORD_TYPE_Q5_1, 0, 9 },  { "q8_0", CHORD_TYPE_Q8_0, 0, 7 },
    { "q2_k",   CHORD_TYPE_Q2_K, 0, 10 }, { "q3_k", CHORD_TYPE_Q3_K, 0, 11 },
    { "q4_k",   CHORD_TYPE_Q4_K, 0, 14 }, { "q5_k", CHORD_TYPE_Q5_K, 0, 16 },
    { "q6_k",   CHORD_TYPE_Q6_K, 0, 18 }, { "q4_k_m", CHORD_TYPE_Q4_K, 1, 15 },
};

const chord_synth_ftype *chord_synth_ftype_find(const char *name) {
    for (size_t i = 0; i < sizeof ftypes / sizeof ftypes[0]; i++) {
        const char *a = ftypes[i].name, *b = name;
        while (*a && (*b >= 'A' && *b <= 'Z' ? *b + 32 : *b) == *a) { a++; b++; } /* Q4_K_M works too */
        if (!*a && !*b) return &ftypes[i];
    }
    return NULL;
}

const char *chord_synth_ftype_names(void) {
    return "f32|f16|bf16|q4_0|q4_1|q5_0|q5_1|q8_0|q2_k|q3_k|q4_k|q5_k|q6_k|q4_k_m";
}

size_t chord_synth_plan_count(const chord_synth_shape *s) {
    size_t per_layer = 9 + 3 + 2 + 1 + 3; /* block, q/k/v biases, q/k norms, o bias, ffn biases */
    return 6 + (size_t)s->n_extra + (size_t)s->n_layer * per_layer;
}

/* Llama 3.1 (convert_hf_to_gguf.py, rope_type llama3): factor 8, low/high frequency factors 1
 * and 4, original context 8192. Pairs whose wavelength exceeds 8192 are slowed 8×, those below
 * 2048 kept, those between smoothly mixed. */
float chord_synth_rope_freq(double theta, int64_t i, int64_t n) {
    const double factor = 8, lo = 1, hi = 4, old_ctx = 8192;
    const double freq = 1.0 / pow(theta, (double)(2 * i) / (double)(2 * n));
    const double wavelen = 2 * M_PI / freq;
    if (wavelen < old_ctx / hi) return 1.0f;
    if (wavelen > old_ctx / lo) return (float)factor;
    const double smooth = (old_ctx / wavelen - lo) / (hi - lo);
    return (float)(1 / ((1 - smooth) / factor + smooth));
}

/* ---- type selection -------------------------------------------------------------------------- */

typedef enum { ROLE_EMBD, ROLE_OUTPUT, ROLE_ATTN_V, ROLE_FFN_DOWN, ROLE_OTHER } role;

/* llama.cpp's "more bits" layers of the K-quant mixtures. */
static int use_more_bits(int64_t i, int64_t n) {
    return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

static chord_type fallback(chord_type t, int64_t ne0) {
    const chord_type_traits *tr = chord_type_get(t);
    if (tr && ne0 % tr->block_elems == 0) return t;
    chord_type f = t == CHORD_TYPE_Q2_K || t == CHORD_TYPE_Q3_K ? CHORD_TYPE_Q4_0
                 : t == CHORD_TYPE_Q4_K ? CHORD_TYPE_Q5_0
                 : t == CHORD_TYPE_Q5_K ? CHORD_TYPE_Q5_1
                 : t == CHORD_TYPE_Q6_K ? CHORD_TYPE_Q8_0 : CHORD_TYPE_F16;
    tr = chord_type_get(f);
    return tr && ne0 % tr->block_elems == 0 ? f : CHORD_TYPE_F16;
}

static chord_type pick_type(const chord_synth_ftype *ft, const chord_synth_shape *s, role r,
                            int64_t layer, int64_t ne0) {
    chord_type t = ft->base;
    if (ft->q4_k_m) {
        if (r == ROLE_OUTPUT || (r == ROLE_EMBD && s->tied))
            return ne0 % 256 == 0 ? CHORD_TYPE_Q6_K : CHORD_TYPE_Q8_0;
        if ((r == ROLE_ATTN_V || r == ROLE_FFN_DOWN) && use_more_bits(layer, s->n_layer))
            t = CHORD_TYPE_Q6_K;
    }
    if (t == CHORD_TYPE_F32 || t == CHORD_TYPE_F16 || t == CHORD_TYPE_BF16) return t;
    return fallback(t, ne0);
}

/* ---- the list -------------------------------------------------------------------------------- */

typedef struct {
    const chord_synth_shape *s;
    const chord_synth_ftype *ft;
    chord_synth_tensor *out;
    size_t n, cap;
} builder;

static void add(builder *b, const char *name, int64_t layer, role r, int64_t ne0, int64_t ne1,
                chord_synth_init init, float std) {
    if (b->n >= b->cap) return;
    chord_synth_tensor *t = &b->out[b->n++];
    memset(t, 0, sizeof *t);
    if (layer >= 0) snprintf(t->name, sizeof t->name, "blk.%lld.%s", (long long)layer, name);
    else snprintf(t->name, sizeof t->name, "%s", name);
    t->n_dims = ne1 > 0 ? 2 : 1;
    t->ne[0] = ne0;
    t->ne[1] = ne1 > 0 ? ne1 : 1;
    t->type = t->n_dims == 1 ? CHORD_TYPE_F32 : pick_type(b->ft, b->s, r, layer, ne0);
    t->init = init;
    t->std = std;
    t->mean = 0.0f;
}

static void post_norm(builder *b, const char *name, int64_t l) {
    add(b, name, l, ROLE_OTHER, b->s->n_embd, 0, CHORD_INIT_NORMAL, 0.1f);
    b->out[b->n - 1].mean = 1.0f;
}

static int gemma(const chord_synth_shape *s) { return s->arch == CHORD_ARCH_GEMMA2 || s->arch == CHORD_ARCH_GEMMA3; }

static int64_t head_dim(const chord_synth_shape *s) { return s->head_dim ? s->head_dim : s->n_embd / s->n_head; }

static void add_layer(builder *b, int64_t l) {
    const chord_synth_shape *s = b->s;
    const int64_t d = s->n_embd, hd = head_dim(s), d_q = hd * s->n_head, d_kv = hd * s->n_head_kv;
    const float std = s->wstd > 0 ? s->wstd : 0.02f, resid = std / sqrtf(2.0f * (float)s->n_layer);
    add(b, "attn_norm.weight", l, ROLE_OTHER, d, 0, CHORD_INIT_ONES, 0);
    if (s->fused_qkv || s->arch == CHORD_ARCH_PHI3) { /* phi3: always fused, as its converter writes */
        add(b, "attn_qkv.weight", l, ROLE_ATTN_V, d, d_q + 2 * d_kv, CHORD_INIT_NORMAL, std);
    } else {
        add(b, "attn_q.weight", l, ROLE_OTHER, d, d_q, CHORD_INIT_NORMAL, std);
        add(b, "attn_k.weight", l, ROLE_OTHER, d, d_kv, CHORD_INIT_NORMAL, std);
        add(b, "attn_v.weight", l, ROLE_ATTN_V, d, d_kv, CHORD_INIT_NORMAL, std);
    }
    if (s->arch == CHORD_ARCH_QWEN2) {
        add(b, "attn_q.bias", l, ROLE_OTHER, d_q, 0, CHORD_INIT_NORMAL, std);
        add(b, "attn_k.bias", l, ROLE_OTHER, d_kv, 0, CHORD_INIT_NORMAL, std);
        add(b, "attn_v.bias", l, ROLE_OTHER, d_kv, 0, CHORD_INIT_NORMAL, std);
    }
    if (s->arch == CHORD_ARCH_QWEN3 || s->arch == CHORD_ARCH_GEMMA3) {
        /* per-head norms: N(1, 0.1) rather than ones, so that a missing norm would show */
        add(b, "attn_q_norm.weight", l, ROLE_OTHER, hd, 0, CHORD_INIT_NORMAL, 0.1f);
        add(b, "attn_k_norm.weight", l, ROLE_OTHER, hd, 0, CHORD_INIT_NORMAL, 0.1f);
        b->out[b->n - 1].mean = b->out[b->n - 2].mean = 1.0f;
    }
    add(b, "attn_output.weight", l, ROLE_OTHER, d_q, d, CHORD_INIT_NORMAL, resid);
    /* gemma2/3's post-norms: N(1, 0.1) (not exactly ones, so that a missing one would show) */
    if (gemma(s)) post_norm(b, "post_attention_norm.weight", l);
    if (s->bias_o) add(b, "attn_output.bias", l, ROLE_OTHER, d, 0, CHORD_INIT_NORMAL, 0.02f);
    add(b, "ffn_norm.weight", l, ROLE_OTHER, d, 0, CHORD_INIT_ONES, 0);
    if (s->arch == CHORD_ARCH_PHI3) { /* phi3: ffn_up = [gate | up], no ffn_gate */
        add(b, "ffn_up.weight", l, ROLE_OTHER, d, 2 * s->n_ff, CHORD_INIT_NORMAL, std);
    } else {
        add(b, "ffn_gate.weight", l, ROLE_OTHER, d, s->n_ff, CHORD_INIT_NORMAL, std);
        add(b, "ffn_up.weight", l, ROLE_OTHER, d, s->n_ff, CHORD_INIT_NORMAL, std);
    }
    add(b, "ffn_down.weight", l, ROLE_FFN_DOWN, s->n_ff, d, CHORD_INIT_NORMAL, resid);
    if (gemma(s)) post_norm(b, "post_ffw_norm.weight", l);
    if (s->bias_ffn) {
        add(b, "ffn_gate.bias", l, ROLE_OTHER, s->n_ff, 0, CHORD_INIT_NORMAL, 0.5f);
        add(b, "ffn_up.bias", l, ROLE_OTHER, s->n_ff, 0, CHORD_INIT_NORMAL, 0.02f);
        add(b, "ffn_down.bias", l, ROLE_OTHER, d, 0, CHORD_INIT_NORMAL, 0.02f);
    }
}

static int check_shape(const chord_synth_shape *s, char *msg, size_t cap) {
    const int64_t lim = (int64_t)1 << 24;
    if (s->n_layer < 1 || s->n_layer > 4096) return snprintf(msg, cap, "--layers must be in 1..4096"), 0;
    if (s->n_embd < 1 || s->n_embd > lim || s->n_ff < 1 || s->n_ff > lim || s->n_ctx < 1 || s->n_ctx > lim)
        return snprintf(msg, cap, "--embd, --ff and --ctx must be in 1..%lld", (long long)lim), 0;
    if (s->n_head < 1 || s->n_embd % s->n_head)
        return snprintf(msg, cap, "--heads %lld must divide --embd %lld", (long long)s->n_head, (long long)s->n_embd), 0;
    if (s->n_head_kv < 1 || s->n_head % s->n_head_kv)
        return snprintf(msg, cap, "--kv-heads %lld must divide --heads %lld", (long long)s->n_head_kv, (long long)s->n_head), 0;
    if (head_dim(s) % 2 || head_dim(s) < 2)
        return snprintf(msg, cap, "head size %lld must be even (RoPE rotates pairs)", (long long)head_dim(s)), 0;
    if (s->n_vocab < 1 || s->n_vocab > lim) return snprintf(msg, cap, "vocabulary size %lld out of range", (long long)s->n_vocab), 0;
    return 1;
}

size_t chord_synth_plan(const chord_synth_shape *s, const chord_synth_ftype *ft,
                        chord_synth_tensor *out, size_t cap, char *msg, size_t msg_cap) {
    if (!check_shape(s, msg, msg_cap)) return 0;
    if (!chord_type_get(ft->base) || !chord_type_get(ft->base)->from_float) {
        snprintf(msg, msg_cap, "tensor type %s has no quantizer in this build", ft->name);
        return 0;
    }
    builder b = { s, ft, out, 0, cap };
    /* gemma2 multiplies embeddings by sqrt(n_embd): std 1/sqrt(n_embd) gives the residual stream
     * the usual unit scale (with std 1 the tied head would echo every input token) */
    add(&b, "token_embd.weight", -1, ROLE_EMBD, s->n_embd, s->n_vocab, CHORD_INIT_NORMAL,
        gemma(s) ? 1.0f / sqrtf((float)s->n_embd) : 1.0f);
    if (s->rope_freqs) {
        /* std tells fill_rows which values: 1 = Llama 3.1's, 2 = "wide" (see make_model --help) */
        add(&b, "rope_freqs.weight", -1, ROLE_OTHER, head_dim(s) / 2, 0, CHORD_INIT_ROPE_FREQS, (float)s->rope_freqs);
        b.out[b.n - 1].theta = s->rope_theta;
    }
    if (s->rope_factors) { /* phi3 long context: long = 0.5/1/2/4 in turn, short = 1/1.5/2.5 in turn */
        add(&b, "rope_factors_long.weight", -1, ROLE_OTHER, head_dim(s) / 2, 0, CHORD_INIT_ROPE_FREQS, 2);
        add(&b, "rope_factors_short.weight", -1, ROLE_OTHER, head_dim(s) / 2, 0, CHORD_INIT_ROPE_FREQS, 3);
    }
    for (int i = 0; i < s->n_extra; i++) add(&b, s->extra[i], -1, ROLE_OTHER, 256, 0, CHORD_INIT_NORMAL, 0.02f);
    for (int64_t l = 0; l < s->n_layer; l++) add_layer(&b, l);
    add(&b, "output_norm.weight", -1, ROLE_OTHER, s->n_embd, 0, CHORD_INIT_ONES, 0);
    if (!s->tied && s->arch != CHORD_ARCH_GEMMA2) /* gemma2's head is always token_embd (gemma3's may not be) */
        add(&b, "output.weight", -1, ROLE_OUTPUT, s->n_embd, s->n_vocab, CHORD_INIT_NORMAL, 0.02f);
    if (s->bias_out) add(&b, "output.bias", -1, ROLE_OTHER, s->n_vocab, 0, CHORD_INIT_NORMAL, 0.5f);
    return b.n;
}
