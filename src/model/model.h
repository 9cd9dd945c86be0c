/*
 * model.h — internal view of a chord_model: architecture, hyper-parameters, the binding of
 * tensor names to layer slots, the weights handle and the tokenizer. Shared by model.c (load),
 * forward.c (the forward pass), session.c/chord.c (public API) and the tokenizer module, which
 * reaches the model's tokenizer through chord_model_tokenizer().
 */
#ifndef CHORD_MODEL_H
#define CHORD_MODEL_H

#include "chord.h"
#include "gguf/gguf.h"
#include "weights/weights.h"

/* Rows of the architecture table (model/arch.c). */
typedef enum { CHORD_ARCH_LLAMA = 0, CHORD_ARCH_QWEN2 = 1, CHORD_ARCH_QWEN3 = 2, CHORD_ARCH_PHI3 = 3, CHORD_ARCH_GEMMA2 = 4,
               CHORD_ARCH_GEMMA3 = 5, CHORD_ARCH_COUNT } chord_arch;

typedef struct chord_hparams {
    int32_t n_vocab;      /* rows of token_embd */
    int32_t n_ctx_train;
    int32_t n_embd;
    int32_t n_layer;
    int32_t n_head, n_head_kv;
    int32_t n_ff;
    int32_t n_embd_head;  /* dimension of one q/k/v head (attention.key_length) */
    int32_t n_rot;        /* dimensions of a head that RoPE rotates (= n_embd_head, as llama.cpp) */
    float rope_theta;     /* rope.freq_base */
    float rope_freq_scale;/* 1 / scaling factor (linear or YaRN) */
    float rope_ext_factor;/* YaRN extrapolation mix: 1 for rope.scaling.type yarn, else 0 */
    float rope_attn_factor; /* multiplies RoPE's cos/sin (llama.cpp's yarn_attn_factor) */
    float rope_corr[2];   /* YaRN correction dimensions (from rope_theta) */
    int32_t n_ctx_orig;   /* rope.scaling.original_context_length (default context_length) */
    float norm_eps;       /* RMSNorm epsilon */
    int rope_neox;        /* 1: rotate (i, i + n_rot/2) halves (qwen2); 0: adjacent pairs (llama) */
    int ffn_fused;        /* ffn_up holds [gate | up] (2 n_ff rows) and there is no ffn_gate (phi3) */
    float q_scale;        /* q *= q_scale after RoPE and attention scale 1 (phi3, gemma2); 0: none */
    int gelu;             /* GeGLU (tanh-approximated GELU, as ggml) instead of SwiGLU (gemma2) */
    float embd_scale;     /* token embeddings *= this (gemma2: sqrt(n_embd)); 0: none */
    float attn_softcap;   /* attention logits -> c·tanh(s/c) (gemma2); 0: none */
    float final_softcap;  /* output logits -> c·tanh(l/c) (gemma2); 0: none */
    int32_t n_swa;        /* sliding window of the SWA layers (0: none; which layers: model->swa_layer) */
    float rope_theta_swa; /* RoPE base of SWA layers (rope.freq_base_swa; gemma3 default 10000) */
    float rope_freq_scale_swa; /* RoPE frequency scale of SWA layers (gemma2: as global; gemma3: 1) */
    float rope_corr_swa[2];    /* YaRN correction dimensions from rope_theta_swa */
} chord_hparams;

struct chord_tokenizer;

struct chord_model {
    chord_source src;            /* owned; tensor data and metadata come from here */
    chord_gguf *gguf;            /* owned; names and metadata strings live here */
    chord_arch arch;
    const char *arch_name;       /* "llama", "qwen2" */
    const char *name;            /* general.name or "" */
    chord_hparams hp;
    chord_layer_tensors global;  /* token_embd, output_norm, output (output may alias token_embd) */
    chord_layer_tensors *layers; /* n_layer blocks */
    uint8_t *swa_layer;          /* n_layer flags: 1 = sliding-window layer (NULL: none is) */
    chord_weights *weights;      /* NULL for vocab_only models */
    struct chord_tokenizer *tok; /* NULL if the file has no tokenizer metadata */
    int vocab_only;
    double load_ms;
    uint64_t weight_bytes;       /* bytes of all tensors in the file */
    uint64_t n_params;
    int32_t bos, eos;            /* -1 when absent */
};

/* The model's tokenizer (NULL when the file carries none). Lives as long as the model. */
const struct chord_tokenizer *chord_model_tokenizer(const chord_model *m);
/* The parsed GGUF of the model. Lives as long as the model. */
const chord_gguf *chord_model_gguf(const chord_model *m);

/* Reads and validates hyper-parameters of architecture `arch` from metadata and binds every
 * tensor to its slot with shape checks (model.c). Exposed for tests. */
chord_status chord_model_load_arch(chord_model *m, chord_error *err);

/* Parses the GGUF and binds the tensors of its architecture without reading weights or building
 * the tokenizer (the memory plan from a file header). Takes ownership of *src. */
chord_status chord_model_open_tensors(chord_model **out, chord_source *src, chord_error *err);

/* The build this engine was compiled for, and the weights configuration that residency
 * auto/resident/paged resolves to for this model and params (engine/plan.c, from the memory
 * plan; model.c calls it before any weight is read, so `nomem` comes before a large allocation). */
chord_build chord_plan_this_build(void);
chord_status chord_plan_weights(const chord_model *m, const chord_model_params *mp, chord_weights_config *cfg,
                                chord_error *err);

#endif
