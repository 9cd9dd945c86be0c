/*
 * arch.h — the architecture table (arch.c): for each supported `general.architecture`, which
 * tensors a file must / may carry, which `<arch>.*` metadata keys the loader reads, which keys
 * are ignored on purpose, and the few per-family switches of the forward pass. Adding a family is
 * a row here plus whatever op is genuinely new; the forward pass is shared.
 */
#ifndef CHORD_MODEL_ARCH_H
#define CHORD_MODEL_ARCH_H

#include "chord.h"
#include "gguf/gguf.h"
#include "model/model.h"

/* How a tensor slot appears in files of an architecture. */
typedef enum { CHORD_T_NO = 0, CHORD_T_OPT = 1, CHORD_T_REQ = 2 } chord_tneed;

typedef struct chord_arch_desc {
    const char *name;                 /* general.architecture */
    int rope_neox;                    /* RoPE on halves (i, i + n_rot/2) instead of adjacent pairs */
    int ffn_fused;                    /* ffn_up = [gate | up], no ffn_gate (phi3) */
    int q_prescale;                   /* q scaled by 1/sqrt(head) before attention (phi3's graph) */
    int gemma;                        /* gemma2/3: embedding scale, GeGLU, post-norms, soft-capping, SWA */
    unsigned char t[CHORD_W_NSLOTS];  /* chord_tneed per slot (layer and global slots alike) */
    const char *const *keys;          /* extra `<arch>.` suffixes read for this family (NULL-ended) */
    const char *const *ignored;       /* extra suffixes ignored on purpose (NULL-ended), see arch.c */
} chord_arch_desc;

const chord_arch_desc *chord_arch_get(chord_arch a);
/* Index of architecture `name`, or -1. */
int chord_arch_find(const char *name);
/* "llama, qwen2, qwen3, phi3, gemma2, gemma3" */
const char *chord_arch_names(void);

/* GGUF name of a slot: "attn_q.weight" (layer slots, prefixed "blk.N.") or "rope_freqs.weight". */
const char *chord_slot_name(chord_wslot s);
int chord_slot_is_global(chord_wslot s);

/* Refuses (CHORD_E_UNSUPPORTED, naming key and value) any metadata key that could change the
 * computation and is not implemented: unknown `<arch>.*` keys, `general.type` other than model,
 * split files, and MoE/non-causal/pooling values. Rules: docs/MODELS.md. */
chord_status chord_arch_check_keys(const chord_gguf *g, const chord_arch_desc *a, chord_error *err);

#endif
