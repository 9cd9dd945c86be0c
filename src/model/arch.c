/*
 * arch.c — the one architecture table, the tensor names of the slots, and the metadata-key
 * policy. What llama.cpp does is the reference (src/llama-arch.cpp, llama-model.cpp,
 * src/models/<arch>.cpp of the bundled version):
 *
 *   llama — RMSNorm, RoPE on adjacent pairs, GQA, SwiGLU; optional biases on q/k/v, on
 *           attn_output and on ffn_{gate,up,down}; optional fused attn_qkv; optional
 *           `rope_freqs.weight` (Llama 3.1+ frequency factors); output tied to token_embd when
 *           output.weight is absent.
 *   qwen2 — the same block with (required) q/k/v biases and NeoX RoPE; optional output.bias.
 *   qwen3 — qwen2 without biases, plus per-head RMSNorm of q and k (attn_{q,k}_norm) before RoPE.
 *   gemma2 — embeddings scaled by sqrt(n_embd), GeGLU FFN, RMSNorm after attention and after the
 *           FFN too (post_attention_norm, post_ffw_norm), attention and final logit soft-capping,
 *           sliding-window attention on even layers, q scaled before attention, tied head.
 *   gemma3 — gemma2 without attention soft-capping (final soft-cap only if the file sets it),
 *           plus per-head q/k RMSNorm before RoPE; sliding window (only when the file sets
 *           attention.sliding_window) on 5 of every 6 layers, whose RoPE has its own base
 *           (rope.freq_base_swa, default 10000) and no scaling; output.weight optional.
 *   phi3  — fused attn_qkv (or separate q/k/v), fused ffn_up = [gate | up] with SwiGLU, NeoX
 *           RoPE, q scaled by 1/sqrt(head) before attention (llama.cpp's graph would add an
 *           output.bias, but its loader never reads one, so a file with it is refused). Phi-3's
 *           long-context RoPE factors rope_factors_long/short.weight (128k models): per-pair
 *           frequency divisors like rope_freqs, the long ones when the context (rounded up to
 *           256, as llama_context does) exceeds rope.scaling.original_context_length, else the
 *           short ones; their attention factor is rope.scaling.attn_factor.
 *
 * A tensor whose slot is CHORD_T_NO for the family is not used by llama.cpp either, and it
 * refuses such files ("wrong number of tensors"); so do we, naming the tensor.
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "model/arch.h"

static const char *const SLOT_NAMES[CHORD_W_NSLOTS] = {
    [CHORD_W_ATTN_NORM] = "attn_norm.weight", [CHORD_W_Q] = "attn_q.weight", [CHORD_W_K] = "attn_k.weight",
    [CHORD_W_V] = "attn_v.weight", [CHORD_W_Q_B] = "attn_q.bias", [CHORD_W_K_B] = "attn_k.bias",
    [CHORD_W_V_B] = "attn_v.bias", [CHORD_W_O] = "attn_output.weight", [CHORD_W_FFN_NORM] = "ffn_norm.weight",
    [CHORD_W_GATE] = "ffn_gate.weight", [CHORD_W_UP] = "ffn_up.weight", [CHORD_W_DOWN] = "ffn_down.weight",
    [CHORD_W_TOK_EMBD] = "token_embd.weight", [CHORD_W_OUT_NORM] = "output_norm.weight",
    [CHORD_W_OUTPUT] = "output.weight", [CHORD_W_QKV] = "attn_qkv.weight", [CHORD_W_QKV_B] = "attn_qkv.bias",
    [CHORD_W_O_B] = "attn_output.bias", [CHORD_W_GATE_B] = "ffn_gate.bias", [CHORD_W_UP_B] = "ffn_up.bias",
    [CHORD_W_DOWN_B] = "ffn_down.bias", [CHORD_W_Q_NORM] = "attn_q_norm.weight",
    [CHORD_W_K_NORM] = "attn_k_norm.weight", [CHORD_W_ROPE_FREQS] = "rope_freqs.weight",
    [CHORD_W_OUTPUT_B] = "output.bias", [CHORD_W_ATTN_POST_NORM] = "post_attention_norm.weight",
    [CHORD_W_FFN_POST_NORM] = "post_ffw_norm.weight", [CHORD_W_ROPE_LONG] = "rope_factors_long.weight",
    [CHORD_W_ROPE_SHORT] = "rope_factors_short.weight",
};

const char *chord_slot_name(chord_wslot s) { return s < CHORD_W_NSLOTS ? SLOT_NAMES[s] : "?"; }

int chord_slot_is_global(chord_wslot s) {
    return s == CHORD_W_TOK_EMBD || s == CHORD_W_OUT_NORM || s == CHORD_W_OUTPUT || s == CHORD_W_ROPE_FREQS ||
           s == CHORD_W_OUTPUT_B || s == CHORD_W_ROPE_LONG || s == CHORD_W_ROPE_SHORT;
}

/* ---- per-family key lists ---------------------------------------------------------------------- */

/* Mistral-7B-v0.1-style files carry attention.sliding_window under `llama`; llama.cpp's llama,
 * qwen2 and qwen3 graphs never read it (full causal attention), so neither do we. */
static const char *const IGNORED_NO_SWA[] = { "attention.sliding_window", NULL };
/* phi3: llama.cpp reads attention.sliding_window and then switches SWA off ("Phi SWA is
 * currently disabled"), so the computation is full causal attention. */
/* gemma2/3: implemented in model.c (soft-capping, sliding window and its layer pattern, SWA RoPE base). */
static const char *const GEMMA2_KEYS[] = { "attn_logit_softcapping", "final_logit_softcapping",
                                           "attention.sliding_window", "attention.sliding_window_pattern",
                                           "rope.freq_base_swa", NULL };
static const char *const GEMMA3_KEYS[] = { "final_logit_softcapping", "attention.sliding_window",
                                           "attention.sliding_window_pattern", "rope.freq_base_swa", NULL };
/* gemma3: llama.cpp's gemma3 never reads attn_logit_softcapping (Gemma 3 has no attention
 * soft-cap; its converter asserts the config has none), so the key cannot change its tokens. */
static const char *const GEMMA3_IGNORED[] = { "attn_logit_softcapping", NULL };

#define REQ CHORD_T_REQ
#define OPT CHORD_T_OPT
/* The block every family here shares: norms, q/k/v (or fused qkv), output, FFN up/down (ffn_gate
 * separately: phi3 has it fused into ffn_up; output.weight separately: gemma2 never has one). */
#define DENSE_BLOCK \
    [CHORD_W_ATTN_NORM] = REQ, [CHORD_W_Q] = REQ, [CHORD_W_K] = REQ, [CHORD_W_V] = REQ, [CHORD_W_QKV] = OPT, \
    [CHORD_W_O] = REQ, [CHORD_W_FFN_NORM] = REQ, [CHORD_W_UP] = REQ, [CHORD_W_DOWN] = REQ, \
    [CHORD_W_TOK_EMBD] = REQ, [CHORD_W_OUT_NORM] = REQ

static const chord_arch_desc ARCHS[CHORD_ARCH_COUNT] = {
    [CHORD_ARCH_LLAMA] = { .name = "llama", .rope_neox = 0, .ignored = IGNORED_NO_SWA, .t = {
        DENSE_BLOCK, [CHORD_W_OUTPUT] = OPT, [CHORD_W_GATE] = REQ, [CHORD_W_Q_B] = OPT, [CHORD_W_K_B] = OPT, [CHORD_W_V_B] = OPT,
        [CHORD_W_QKV_B] = OPT, [CHORD_W_O_B] = OPT, [CHORD_W_GATE_B] = OPT, [CHORD_W_UP_B] = OPT, [CHORD_W_DOWN_B] = OPT,
        [CHORD_W_ROPE_FREQS] = OPT } },
    [CHORD_ARCH_QWEN2] = { .name = "qwen2", .rope_neox = 1, .ignored = IGNORED_NO_SWA, .t = {
        DENSE_BLOCK, [CHORD_W_OUTPUT] = OPT, [CHORD_W_GATE] = REQ, [CHORD_W_Q_B] = REQ, [CHORD_W_K_B] = REQ,
        [CHORD_W_V_B] = REQ, [CHORD_W_QKV_B] = OPT, [CHORD_W_OUTPUT_B] = OPT } },
    [CHORD_ARCH_QWEN3] = { .name = "qwen3", .rope_neox = 1, .ignored = IGNORED_NO_SWA, .t = {
        DENSE_BLOCK, [CHORD_W_OUTPUT] = OPT, [CHORD_W_GATE] = REQ, [CHORD_W_Q_B] = OPT, [CHORD_W_K_B] = OPT, [CHORD_W_V_B] = OPT,
        [CHORD_W_QKV_B] = OPT, [CHORD_W_Q_NORM] = REQ, [CHORD_W_K_NORM] = REQ } },
    [CHORD_ARCH_PHI3] = { .name = "phi3", .rope_neox = 1, .ffn_fused = 1, .q_prescale = 1, .ignored = IGNORED_NO_SWA,
        .t = { DENSE_BLOCK, [CHORD_W_OUTPUT] = OPT, [CHORD_W_Q_B] = OPT, [CHORD_W_K_B] = OPT, [CHORD_W_V_B] = OPT,
               [CHORD_W_QKV_B] = OPT, [CHORD_W_ROPE_LONG] = OPT, [CHORD_W_ROPE_SHORT] = OPT } },
    /* gemma2: the head is always token_embd (llama.cpp never reads output.weight) */
    [CHORD_ARCH_GEMMA2] = { .name = "gemma2", .rope_neox = 1, .gemma = 1, .keys = GEMMA2_KEYS,
        .t = { DENSE_BLOCK, [CHORD_W_GATE] = REQ, [CHORD_W_Q_B] = OPT,
               [CHORD_W_K_B] = OPT, [CHORD_W_V_B] = OPT, [CHORD_W_QKV_B] = OPT, [CHORD_W_ATTN_POST_NORM] = REQ,
               [CHORD_W_FFN_POST_NORM] = REQ } },
    /* gemma3: gemma2's block plus per-head q/k RMSNorm; output.weight optional (else tied) */
    [CHORD_ARCH_GEMMA3] = { .name = "gemma3", .rope_neox = 1, .gemma = 1, .keys = GEMMA3_KEYS,
        .ignored = GEMMA3_IGNORED,
        .t = { DENSE_BLOCK, [CHORD_W_OUTPUT] = OPT, [CHORD_W_GATE] = REQ, [CHORD_W_Q_B] = OPT,
               [CHORD_W_K_B] = OPT, [CHORD_W_V_B] = OPT, [CHORD_W_QKV_B] = OPT, [CHORD_W_Q_NORM] = REQ,
               [CHORD_W_K_NORM] = REQ, [CHORD_W_ATTN_POST_NORM] = REQ, [CHORD_W_FFN_POST_NORM] = REQ } },
};
#undef REQ
#undef OPT

const chord_arch_desc *chord_arch_get(chord_arch a) { return a < CHORD_ARCH_COUNT ? &ARCHS[a] : NULL; }

int chord_arch_find(const char *name) {
    for (int i = 0; i < CHORD_ARCH_COUNT; i++)
        if (!strcmp(name, ARCHS[i].name)) return i;
    return -1;
}

const char *chord_arch_names(void) { return "llama, qwen2, qwen3, phi3, gemma2, gemma3"; }

/* ---- metadata-key policy --------------------------------------------------------------------- */

/* `<arch>.` keys the hyper-parameter loader (hparams.c) reads and implements, for every family. */
static const char *const USED[] = {
    "context_length", "embedding_length", "block_count", "feed_forward_length", "attention.head_count",
    "attention.head_count_kv", "attention.key_length", "attention.value_length",
    "attention.layer_norm_rms_epsilon", "rope.dimension_count", "rope.freq_base", "rope.scaling.type",
    "rope.scaling.factor", "rope.scale_linear", "rope.scaling.attn_factor",
    "rope.scaling.original_context_length", NULL,
};

/* Keys known not to change the computation, ignored on purpose:
 *   vocab_size              llama.cpp only uses it to name the model size; the vocabulary is the
 *                           token list and the embedding's row count (both checked).
 *   rope.scaling.finetuned  a converter's note; llama.cpp stores it and never reads it again. */
static const char *const IGNORED[] = { "vocab_size", "rope.scaling.finetuned", NULL };

/* Keys llama.cpp reads for every architecture whose only value we implement is the neutral one. */
typedef struct { const char *suffix; int64_t neutral; const char *what; } neutral_key;
static const neutral_key NEUTRAL[] = {
    { "expert_count", 0, "mixture-of-experts models are not supported" },
    { "expert_used_count", 0, "mixture-of-experts models are not supported" },
    { "attention.causal", 1, "only causal attention is supported" },
    { "pooling_type", 0, "embedding pooling is not supported" },
};

static int in_list(const char *s, const char *const *list) {
    for (; list && *list; list++)
        if (!strcmp(s, *list)) return 1;
    return 0;
}

/* Integer (or bool) value of kv i; 0 when it is not an integer scalar (then `ok` = 0). */
static int64_t int_value(const chord_gguf *g, uint64_t i, int *ok) {
    const chord_gguf_value *v = chord_gguf_value_at(g, i);
    *ok = 1;
    switch (chord_gguf_kv_type(g, i)) {
    case CHORD_GGUF_UINT8: case CHORD_GGUF_UINT16: case CHORD_GGUF_UINT32: case CHORD_GGUF_UINT64:
    case CHORD_GGUF_BOOL:
        return (int64_t)v->u64;
    case CHORD_GGUF_INT8: case CHORD_GGUF_INT16: case CHORD_GGUF_INT32: case CHORD_GGUF_INT64:
        return v->i64;
    default:
        *ok = 0;
        return 0;
    }
}

static chord_status check_arch_key(const chord_gguf *g, uint64_t i, const char *key, const char *suffix,
                                   const chord_arch_desc *a, chord_error *err) {
    if (in_list(suffix, USED) || in_list(suffix, a->keys) || in_list(suffix, IGNORED) || in_list(suffix, a->ignored))
        return CHORD_OK;
    for (size_t k = 0; k < sizeof NEUTRAL / sizeof NEUTRAL[0]; k++) {
        if (strcmp(suffix, NEUTRAL[k].suffix)) continue;
        int ok;
        int64_t v = int_value(g, i, &ok);
        if (!ok && chord_gguf_kv_type(g, i) == CHORD_GGUF_ARRAY) { /* per-layer arrays (expert_used_count) */
            const chord_gguf_vtype et = chord_gguf_arr_type(g, i);
            ok = et == CHORD_GGUF_UINT32 || et == CHORD_GGUF_INT32;
            const int32_t *d = chord_gguf_arr_data(g, i);
            for (uint64_t j = 0; ok && j < chord_gguf_arr_n(g, i); j++)
                if (d[j] != NEUTRAL[k].neutral) { v = d[j]; break; }
            if (ok && v == 0 && NEUTRAL[k].neutral == 0) return CHORD_OK;
        }
        if (ok && v == NEUTRAL[k].neutral) return CHORD_OK;
        return chord_fail(err, CHORD_E_UNSUPPORTED, "metadata '%s' = %lld is not supported: %s", key, (long long)v,
                          NEUTRAL[k].what);
    }
    return chord_fail(err, CHORD_E_UNSUPPORTED,
                      "metadata key '%s' is not supported by architecture %s (it may change the computation; "
                      "see docs/MODELS.md)", key, a->name);
}

chord_status chord_arch_check_keys(const chord_gguf *g, const chord_arch_desc *a, chord_error *err) {
    const size_t alen = strlen(a->name);
    for (uint64_t i = 0; i < chord_gguf_n_kv(g); i++) {
        const char *key = chord_gguf_key(g, i);
        if (!strncmp(key, a->name, alen) && key[alen] == '.') {
            chord_status st = check_arch_key(g, i, key, key + alen + 1, a, err);
            if (st != CHORD_OK) return st;
        } else if (!strcmp(key, "general.type")) {
            chord_str t;
            if (chord_gguf_get_str(g, key, &t, NULL) != CHORD_OK || strcmp(t.ptr, "model") != 0)
                return chord_fail(err, CHORD_E_UNSUPPORTED, "general.type '%s' is not supported (only model)",
                                  chord_gguf_kv_type(g, i) == CHORD_GGUF_STRING ? chord_gguf_value_at(g, i)->str.ptr : "?");
        } else if (!strcmp(key, "split.count")) {
            int ok;
            int64_t n = int_value(g, i, &ok);
            if (!ok || n != 1)
                return chord_fail(err, CHORD_E_UNSUPPORTED, "split.count = %lld: split GGUF files are not supported "
                                  "(merge them with llama-gguf-split --merge)", (long long)n);
        }
        /* Everything else is outside the computation: general.* (names, licence, file type,
         * quantization version, sampling hints; general.alignment is applied by the reader),
         * tokenizer.* (checked by the tokenizer module), quantize.imatrix.*, split.no and keys of
         * other architectures, which llama.cpp never reads for this one. */
    }
    return CHORD_OK;
}
