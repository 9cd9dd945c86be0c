/*
 * tokenizer.c — builds a chord_tokenizer from a GGUF's tokenizer.ggml.* metadata.
 *
 * Load order (each step validates before it allocates):
 *   1. kind and pre-tokenizer   tokenizer.ggml.model ("llama" = SPM, "gpt2" = BPE) and
 *                               tokenizer.ggml.pre, with llama.cpp's per-kind defaults
 *   2. tokens                   strings copied into one buffer, a hash from string to id
 *   3. scores, token types      arrays of exactly n_tokens elements
 *   4. merges (BPE)             "left right" pairs -> rank, both sides must be tokens
 *   5. special ids, add_bos/eos explicit BOS/EOS must lie inside the vocabulary
 *   6. end-of-generation set    eos/eot/eom plus llama.cpp's list of end-like token texts
 *   7. special-token list       control / user-defined / unknown tokens, longest first, which
 *                               the encoder matches in text before splitting the rest
 *   8. byte tables, piece cache what each byte falls back to, what each token renders as
 *
 * Reference: llama.cpp src/llama-vocab.cpp (llama_vocab::impl::load), whose behaviour we
 * reproduce; where it only warns about broken metadata we return a clear error instead.
 */
#include <stdio.h> /* snprintf only */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

/* ---- small helpers ------------------------------------------------------------------------ */

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;                 /* FNV-1a */
    for (size_t i = 0; i < n; i++) { h ^= (uint8_t)s[i]; h *= 1099511628211ull; }
    return h ^ (h >> 29);
}

static uint32_t pow2_at_least(uint64_t n) {
    uint32_t p = 16;
    while (p < n) p <<= 1;
    return p;
}

int32_t chord_tok_lookup(const chord_tokenizer *t, const char *s, size_t len) {
    uint32_t i = (uint32_t)hash_bytes(s, len) & t->hash_mask;
    for (;;) {
        uint32_t v = t->hash[i];
        if (v == 0) return -1;
        size_t tl;
        const char *ts = chord_tok_text(t, (int32_t)(v - 1), &tl);
        if (tl == len && memcmp(ts, s, len) == 0) return (int32_t)(v - 1);
        i = (i + 1) & t->hash_mask;
    }
}

static uint32_t pair_hash(int32_t l, int32_t r) {
    uint64_t k = (uint64_t)(uint32_t)l << 32 | (uint32_t)r;
    k *= 0x9E3779B97F4A7C15ull;
    return (uint32_t)(k >> 32);
}

const chord_merge *chord_tok_merge(const chord_tokenizer *t, int32_t left, int32_t right) {
    if (!t->merges || left < 0 || right < 0) return NULL;
    uint32_t i = pair_hash(left, right) & t->merge_mask;
    for (;;) {
        const chord_merge *m = &t->merges[i];
        if (m->left < 0) return NULL;
        if (m->left == left && m->right == right) return m;
        i = (i + 1) & t->merge_mask;
    }
}

chord_status chord_ids_push(chord_ids *ids, int32_t id) {
    if (ids->n == ids->cap) {
        size_t cap = ids->cap ? ids->cap * 2 : 256;
        int32_t *v = realloc(ids->v, cap * sizeof *v);
        if (!v) return CHORD_E_NOMEM;
        ids->v = v;
        ids->cap = cap;
    }
    ids->v[ids->n++] = id;
    return CHORD_OK;
}

/* a ranks before b: higher key, then lower symbol position. */
static int qent_before(chord_qent a, chord_qent b) {
    return a.key > b.key || (a.key == b.key && a.sym < b.sym);
}

/* A 4-ary heap of 8-byte entries: the four children of a node share one 32-byte span, and
 * the depth is half a binary heap's — pops on million-entry queues are dominated by misses. */
#define QA 4

chord_status chord_pairq_init(chord_pairq *q, size_t n_sym) {
    q->n = 0;
    q->heap = malloc((n_sym + 1) * sizeof *q->heap);
    q->pos = malloc((n_sym + 1) * sizeof *q->pos);
    if (!q->heap || !q->pos) { chord_pairq_free(q); return CHORD_E_NOMEM; }
    for (size_t i = 0; i < n_sym; i++) q->pos[i] = -1;
    return CHORD_OK;
}

void chord_pairq_free(chord_pairq *q) {
    free(q->heap);
    free(q->pos);
    q->heap = NULL;
    q->pos = NULL;
    q->n = 0;
}

static void q_place(chord_pairq *q, size_t i, chord_qent e) {
    q->heap[i] = e;
    q->pos[e.sym] = (int32_t)i;
}

static void q_sift_up(chord_pairq *q, size_t i, chord_qent e) {
    while (i > 0) {
        size_t p = (i - 1) / QA;
        if (!qent_before(e, q->heap[p])) break;
        q_place(q, i, q->heap[p]);
        i = p;
    }
    q_place(q, i, e);
}

static void q_sift_down(chord_pairq *q, size_t i, chord_qent e) {
    for (;;) {
        size_t c = QA * i + 1;
        if (c >= q->n) break;
        size_t best = c, end = c + QA < q->n ? c + QA : q->n;
        for (size_t j = c + 1; j < end; j++) if (qent_before(q->heap[j], q->heap[best])) best = j;
        if (!qent_before(q->heap[best], e)) break;
        q_place(q, i, q->heap[best]);
        i = best;
    }
    q_place(q, i, e);
}

/* Puts e at slot i (which it may not fit) and restores the heap order. */
static void q_fix(chord_pairq *q, size_t i, chord_qent e) {
    if (i > 0 && qent_before(e, q->heap[(i - 1) / QA])) q_sift_up(q, i, e);
    else q_sift_down(q, i, e);
}

void chord_pairq_set(chord_pairq *q, int32_t sym, float key) {
    chord_qent e = { key, sym };
    if (q->pos[sym] >= 0) q_fix(q, (size_t)q->pos[sym], e);
    else q_sift_up(q, q->n++, e);
}

void chord_pairq_remove(chord_pairq *q, int32_t sym) {
    int32_t i = q->pos[sym];
    if (i < 0) return;
    q->pos[sym] = -1;
    chord_qent last = q->heap[--q->n];
    if ((size_t)i < q->n) q_fix(q, (size_t)i, last);
}

int32_t chord_pairq_pop(chord_pairq *q) {
    int32_t sym = q->heap[0].sym;
    chord_pairq_remove(q, sym);
    return sym;
}

static int str_eq(chord_str s, const char *lit) {
    size_t n = strlen(lit);
    return s.len == n && memcmp(s.ptr, lit, n) == 0;
}

static int str_in(chord_str s, const char *const *list) {
    for (; *list; list++) if (str_eq(s, *list)) return 1;
    return 0;
}

/* ---- 1. kind and pre-tokenizer --------------------------------------------------------- */

/* tokenizer.ggml.pre values llama.cpp maps to each split we implement, and whether they keep
 * clean_spaces (the detokenizer's " ." -> "." pass) on. */
static const char *const PRE_LLAMA3[] = { "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral",
                                          "midm-2.0", "lfm2", "jina-v5-nano", "glm4", "chatglm-bpe", NULL };
/* llama.cpp splits these with Llama 3's expression but, unlike llama3, adds no BOS and runs the
 * merges on every word (LLAMA_VOCAB_PRE_TYPE_DBRX / _SMAUG). */
static const char *const PRE_LLAMA3_SPLIT[] = { "dbrx", "smaug-bpe", NULL };
static const char *const PRE_GPT2[] = { "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es",
                                        "jina-v2-de", "a.x-4.0", "mellum", "modern-bert", "exaone4", "mpt",
                                        "olmo", "jais", "trillion", "granite-docling", NULL };
static const char *const PRE_QWEN2[] = { "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez", "stablelm2",
                                         "hunyuan", "solar-open", NULL };
static const char *const PRE_STARCODER[] = { "starcoder", "refact", "command-r", "smollm", "codeshell", "exaone",
                                             "minerva-7b", "mellum2", NULL };
static const char *const PRE_NO_CLEAN[] = { "qwen2", "qwen35", "deepseek-coder", "deepseek-llm", "deepseek-r1-qwen", "kormo", "f2llmv2", "hunyuan",
                                            "solar-open", "command-r", "smollm", "trillion", "granite-docling",
                                            NULL };

/* ---- 0. which tokenizer.ggml.* keys we read ---------------------------------------------- */

/* Read and implemented (here and in tok_vocab.c). */
static const char *const KEYS_USED[] = {
    "model", "pre", "tokens", "scores", "token_type", "merges", "bos_token_id", "eos_token_id",
    "eot_token_id", "eom_token_id", "unknown_token_id", "padding_token_id", "add_bos_token",
    "add_eos_token", "add_space_prefix", "fim_pre_token_id", "fim_suf_token_id", "fim_mid_token_id",
    "fim_pad_token_id", "fim_rep_token_id", "fim_sep_token_id", "prefix_token_id", "suffix_token_id",
    "middle_token_id", NULL,
};
/* Ignored on purpose — they do not change what llama.cpp computes for the `llama` (SPM) and
 * `gpt2` (BPE) tokenizer models we support:
 *   seperator_token_id, cls_token_id, mask_token_id  used only with add_sep_token (BERT-style
 *                                  encoders) and by embedding heads;
 *   token_type_count               BERT's segment count;
 *   remove_extra_whitespaces, precompiled_charsmap   read only by the UGM (T5) tokenizer;
 *   add_sep_token = false          the default. */
static const char *const KEYS_IGNORED[] = {
    "seperator_token_id", "cls_token_id", "mask_token_id", "token_type_count", "remove_extra_whitespaces",
    "precompiled_charsmap", NULL,
};

static int in_list(const char *s, const char *const *list) {
    for (; *list; list++)
        if (!strcmp(s, *list)) return 1;
    return 0;
}

/* Any other tokenizer.ggml.* key may change tokenization (add_sep_token, normalizer.*,
 * suppress_tokens, ...) and is refused by name. */
static chord_status check_keys(const chord_gguf *g, chord_error *err) {
    for (uint64_t i = 0; i < chord_gguf_n_kv(g); i++) {
        const char *key = chord_gguf_key(g, i);
        if (strncmp(key, "tokenizer.ggml.", 15) || in_list(key + 15, KEYS_USED) || in_list(key + 15, KEYS_IGNORED))
            continue;
        int v = 1;
        if (!strcmp(key, "tokenizer.ggml.add_sep_token") && chord_gguf_get_bool(g, key, &v, NULL) == CHORD_OK && !v)
            continue;
        return chord_fail(err, CHORD_E_UNSUPPORTED, "tokenizer metadata '%s' is not supported (it may change "
                          "tokenization; see docs/MODELS.md)", key);
    }
    return CHORD_OK;
}

static chord_status read_kind(chord_tokenizer *t, const chord_gguf *g, chord_error *err) {
    chord_str model, pre = { "", 0 };
    chord_status s = chord_gguf_get_str(g, "tokenizer.ggml.model", &model, err);
    if (s != CHORD_OK) return s;
    int64_t ki = chord_gguf_find_key(g, "tokenizer.ggml.pre");
    if (ki >= 0 && (s = chord_gguf_get_str(g, "tokenizer.ggml.pre", &pre, err)) != CHORD_OK) return s;
    t->eot = t->eom = t->pad = -1;
    if (str_eq(model, "llama")) {
        t->kind = CHORD_VOCAB_SPM;
        t->pre = CHORD_PRE_DEFAULT;
        t->bos = 1; t->eos = 2; t->unk = 0;
        t->add_space_prefix = 1; t->add_bos = 1;
        return CHORD_OK;
    }
    if (!str_eq(model, "gpt2"))
        return chord_fail(err, CHORD_E_UNSUPPORTED, "tokenizer.ggml.model '%.64s' is not supported (llama, gpt2)",
                          model.ptr);
    t->kind = CHORD_VOCAB_BPE;
    t->bos = 11; t->eos = 11; t->unk = -1;
    t->clean_spaces = 1;
    if (pre.len == 0 || str_eq(pre, "default")) t->pre = CHORD_PRE_DEFAULT;
    else if (str_in(pre, PRE_LLAMA3)) {
        t->pre = CHORD_PRE_LLAMA3;
        if (str_eq(pre, "glm4") || str_eq(pre, "chatglm-bpe")) t->bos = -1;
        else t->ignore_merges = t->add_bos = 1;
    } else if (str_in(pre, PRE_LLAMA3_SPLIT)) t->pre = CHORD_PRE_LLAMA3;
    else if (str_in(pre, PRE_GPT2)) t->pre = CHORD_PRE_GPT2;
    else if (str_in(pre, PRE_QWEN2)) t->pre = CHORD_PRE_QWEN2;
    else if (str_in(pre, PRE_STARCODER)) t->pre = CHORD_PRE_STARCODER;
    else if (str_eq(pre, "qwen35")) t->pre = CHORD_PRE_QWEN35;
    else if (str_eq(pre, "falcon")) t->pre = CHORD_PRE_FALCON;
    else if (str_eq(pre, "deepseek-coder")) t->pre = CHORD_PRE_DEEPSEEK_CODER;
    else if (str_eq(pre, "deepseek-llm")) t->pre = CHORD_PRE_DEEPSEEK_LLM;
    else
        return chord_fail(err, CHORD_E_UNSUPPORTED, "tokenizer.ggml.pre '%.64s' is not a supported pre-tokenizer "
                          "(default, llama-bpe, qwen2, qwen35, gpt-2, starcoder, falcon, deepseek-coder, deepseek-llm and their aliases)", pre.ptr);
    if (str_in(pre, PRE_NO_CLEAN)) t->clean_spaces = 0;
    return CHORD_OK;
}

/* ---- 2. tokens --------------------------------------------------------------------------- */

static chord_status hash_insert(chord_tokenizer *t, int32_t id, chord_error *err) {
    size_t len;
    const char *s = chord_tok_text(t, id, &len);
    uint32_t i = (uint32_t)hash_bytes(s, len) & t->hash_mask;
    while (t->hash[i]) {
        size_t ol;
        const char *os = chord_tok_text(t, (int32_t)(t->hash[i] - 1), &ol);
        if (ol == len && memcmp(os, s, len) == 0)
            return chord_fail(err, CHORD_E_FORMAT, "tokenizer.ggml.tokens: token %d '%.40s' duplicates token %u",
                              id, s, t->hash[i] - 1);
        i = (i + 1) & t->hash_mask;
    }
    t->hash[i] = (uint32_t)id + 1;
    return CHORD_OK;
}

static chord_status read_tokens(chord_tokenizer *t, const chord_gguf *g, int32_t n_expected, chord_error *err) {
    uint64_t ki, n;
    chord_status s = chord_gguf_get_arr(g, "tokenizer.ggml.tokens", CHORD_GGUF_STRING, &ki, &n, err);
    if (s != CHORD_OK) return s;
    if (n == 0 || n > CHORD_TOK_MAX_TOKENS)
        return chord_fail(err, CHORD_E_FORMAT, "tokenizer.ggml.tokens: %llu tokens (expected 1..%u)",
                          (unsigned long long)n, CHORD_TOK_MAX_TOKENS);
    if (n_expected >= 0 && n != (uint64_t)n_expected)
        return chord_fail(err, CHORD_E_FORMAT, "tokenizer.ggml.tokens has %llu tokens but the embedding has %d rows",
                          (unsigned long long)n, n_expected);
    uint64_t bytes = 0;
    for (uint64_t i = 0; i < n; i++) {
        chord_str w = chord_gguf_arr_str(g, ki, i);
        if (w.len > CHORD_TOK_MAX_TOKEN_BYTES)
            return chord_fail(err, CHORD_E_FORMAT, "tokenizer.ggml.tokens: token %llu is %llu bytes long (cap %u)",
                              (unsigned long long)i, (unsigned long long)w.len, CHORD_TOK_MAX_TOKEN_BYTES);
        bytes += (w.len ? w.len : 24) + 1;
    }
    t->n_tokens = (uint32_t)n;
    t->text = malloc(bytes);
    t->text_off = malloc((n + 1) * sizeof *t->text_off);
    t->hash_mask = pow2_at_least(2 * n) - 1;
    t->hash = calloc((size_t)t->hash_mask + 1, sizeof *t->hash);
    if (!t->text || !t->text_off || !t->hash) return chord_fail(err, CHORD_E_NOMEM, "out of memory for the vocabulary");
    uint32_t off = 0;
    for (uint64_t i = 0; i < n; i++) {
        chord_str w = chord_gguf_arr_str(g, ki, i);
        t->text_off[i] = off;
        if (w.len == 0) /* llama.cpp names empty tokens so that they stay distinct */
            off += (uint32_t)snprintf(t->text + off, 25, "[EMPTY_%llu]", (unsigned long long)i) + 1;
        else {
            memcpy(t->text + off, w.ptr, w.len);
            t->text[off + w.len] = 0;
            off += (uint32_t)w.len + 1;
        }
    }
    t->text_off[n] = off;
    for (uint32_t i = 0; i < t->n_tokens; i++)
        if ((s = hash_insert(t, (int32_t)i, err)) != CHORD_OK) return s;
    return CHORD_OK;
}

/* ---- 3. scores and token types ------------------------------------------------------------ */

static chord_status read_scores_types(chord_tokenizer *t, const chord_gguf *g, chord_error *err) {
    uint32_t n = t->n_tokens;
    t->scores = calloc(n, sizeof *t->scores);
    t->attr = malloc(n * sizeof *t->attr);
    if (!t->scores || !t->attr) return chord_fail(err, CHORD_E_NOMEM, "out of memory for token scores");
    int64_t si = chord_gguf_find_key(g, "tokenizer.ggml.scores");
    if (si >= 0) {
        chord_gguf_vtype at = chord_gguf_arr_type(g, (uint64_t)si);
        if (at != CHORD_GGUF_FLOAT32 && at != CHORD_GGUF_INT32)
            return chord_fail(err, CHORD_E_TYPE, "tokenizer.ggml.scores must be an array of f32 (or i32), found %s%s",
                              chord_gguf_kv_type(g, (uint64_t)si) == CHORD_GGUF_ARRAY ? "array of " : "",
                              chord_gguf_vtype_name(at == CHORD_GGUF_NTYPES ? chord_gguf_kv_type(g, (uint64_t)si) : at));
        if (chord_gguf_arr_n(g, (uint64_t)si) != n)
            return chord_fail(err, CHORD_E_FORMAT, "tokenizer.ggml.scores has %llu elements, expected %u (one per token)",
                              (unsigned long long)chord_gguf_arr_n(g, (uint64_t)si), n);
        const uint8_t *p = chord_gguf_arr_data(g, (uint64_t)si);
        for (uint32_t i = 0; i < n; i++) {
            if (at == CHORD_GGUF_FLOAT32) memcpy(&t->scores[i], p + 4 * (size_t)i, 4);
            else { int32_t v; memcpy(&v, p + 4 * (size_t)i, 4); t->scores[i] = (float)v; }
            if (t->scores[i] != t->scores[i]) /* NaN would make the merge order undefined */
                return chord_fail(err, CHORD_E_FORMAT, "tokenizer.ggml.scores[%u] is NaN", i);
        }
    }
    for (uint32_t i = 0; i < n; i++) t->attr[i] = CHORD_TATTR_NORMAL;
    int64_t ti = chord_gguf_find_key(g, "tokenizer.ggml.token_type");
    if (ti < 0) return CHORD_OK;
    uint64_t kidx, cnt;
    chord_status s = chord_gguf_get_arr(g, "tokenizer.ggml.token_type", CHORD_GGUF_INT32, &kidx, &cnt, err);
    if (s != CHORD_OK) return s;
    if (cnt != n)
        return chord_fail(err, CHORD_E_FORMAT, "tokenizer.ggml.token_type has %llu elements, expected %u (one per token)",
                          (unsigned long long)cnt, n);
    /* GGUF token types 1..6 -> attributes; 0 and anything else is "undefined" (renders empty). */
    static const uint16_t type_attr[7] = { 0, CHORD_TATTR_NORMAL, CHORD_TATTR_UNKNOWN, CHORD_TATTR_CONTROL,
                                           CHORD_TATTR_USER_DEFINED, CHORD_TATTR_UNUSED, CHORD_TATTR_BYTE };
    const uint8_t *p = chord_gguf_arr_data(g, kidx);
    for (uint32_t i = 0; i < n; i++) {
        int32_t v;
        memcpy(&v, p + 4 * (size_t)i, 4);
        t->attr[i] = (v >= 0 && v <= 6) ? type_attr[v] : 0;
    }
    return CHORD_OK;
}

/* ---- 4. merges ----------------------------------------------------------------------------- */

static chord_status add_merge(chord_tokenizer *t, chord_str w, uint32_t rank, chord_error *err) {
    /* "left right": split at the first space after the first byte (a side may itself be " "). */
    const char *sp = w.len > 1 ? memchr(w.ptr + 1, ' ', w.len - 1) : NULL;
    if (!sp || sp + 1 == w.ptr + w.len)
        return chord_fail(err, CHORD_E_FORMAT, "tokenizer.ggml.merges[%u] '%.60s' is not two tokens separated by a space",
                          rank, w.ptr);
    size_t ll = (size_t)(sp - w.ptr), rl = w.len - ll - 1;
    int32_t l = chord_tok_lookup(t, w.ptr, ll), r = chord_tok_lookup(t, sp + 1, rl);
    if (l < 0 || r < 0)
        return chord_fail(err, CHORD_E_FORMAT, "tokenizer.ggml.merges[%u] '%.60s' names an unknown token '%.40s'",
                          rank, w.ptr, l < 0 ? w.ptr : sp + 1);
    uint32_t i = pair_hash(l, r) & t->merge_mask;
    while (t->merges[i].left >= 0) {
        if (t->merges[i].left == l && t->merges[i].right == r) return CHORD_OK; /* first rank wins */
        i = (i + 1) & t->merge_mask;
    }
    char buf[2 * CHORD_TOK_MAX_TOKEN_BYTES];
    memcpy(buf, w.ptr, ll);
    memcpy(buf + ll, sp + 1, rl);
    chord_merge m = { l, r, (int32_t)rank, chord_tok_lookup(t, buf, ll + rl) };
    t->merges[i] = m;
    t->n_merges++;
    return CHORD_OK;
}

static chord_status read_merges(chord_tokenizer *t, const chord_gguf *g, chord_error *err) {
    uint64_t ki, n;
    if (chord_gguf_find_key(g, "tokenizer.ggml.merges") < 0)
        return chord_fail(err, CHORD_E_FORMAT, "gpt2 tokenizer without tokenizer.ggml.merges");
    chord_status s = chord_gguf_get_arr(g, "tokenizer.ggml.merges", CHORD_GGUF_STRING, &ki, &n, err);
    if (s != CHORD_OK) return s;
    if (n >= (1u << 24)) /* ranks must stay exact as float heap keys */
        return chord_fail(err, CHORD_E_FORMAT, "tokenizer.ggml.merges: %llu merges (cap %u)", (unsigned long long)n,
                          (1u << 24) - 1);
    t->merge_mask = pow2_at_least(n + n / 2 + 2) - 1;   /* load factor <= 2/3 */
    t->merges = malloc(((size_t)t->merge_mask + 1) * sizeof *t->merges);
    if (!t->merges) return chord_fail(err, CHORD_E_NOMEM, "out of memory for %llu merges", (unsigned long long)n);
    for (uint32_t i = 0; i <= t->merge_mask; i++) t->merges[i].left = -1;
    for (uint64_t i = 0; i < n; i++) {
        chord_str w = chord_gguf_arr_str(g, ki, i);
        if (w.len > 2 * CHORD_TOK_MAX_TOKEN_BYTES)
            return chord_fail(err, CHORD_E_FORMAT, "tokenizer.ggml.merges[%llu] is %llu bytes long",
                              (unsigned long long)i, (unsigned long long)w.len);
        if ((s = add_merge(t, w, (uint32_t)i, err)) != CHORD_OK) return s;
    }
    return CHORD_OK;
}

/* ---- 5. special ids and flags ------------------------------------------------------------- */

static chord_status read_special_id(chord_tokenizer *t, const chord_gguf *g, const char *key, int32_t *id,
                                    int strict, chord_error *err) {
    if (*id >= 0 && (uint32_t)*id >= t->n_tokens) *id = -1;  /* default outside a small vocab */
    if (chord_gguf_find_key(g, key) < 0) return CHORD_OK;
    uint32_t v;
    chord_status s = chord_gguf_get_u32(g, key, &v, err);
    if (s != CHORD_OK) return s;
    if (v >= t->n_tokens) {
        if (strict)
            return chord_fail(err, CHORD_E_FORMAT, "%s = %u is outside the vocabulary (%u tokens)", key, v, t->n_tokens);
        return CHORD_OK; /* llama.cpp ignores out-of-range optional ids */
    }
    *id = (int32_t)v;
    return CHORD_OK;
}

static chord_status read_bool(const chord_gguf *g, const char *key, int *v, chord_error *err) {
    if (chord_gguf_find_key(g, key) < 0) return CHORD_OK;
    return chord_gguf_get_bool(g, key, v, err);
}

static chord_status read_specials(chord_tokenizer *t, const chord_gguf *g, chord_error *err) {
    chord_status s;
    if ((s = read_special_id(t, g, "tokenizer.ggml.bos_token_id", &t->bos, 1, err)) ||
        (s = read_special_id(t, g, "tokenizer.ggml.eos_token_id", &t->eos, 1, err)) ||
        (s = read_special_id(t, g, "tokenizer.ggml.eot_token_id", &t->eot, 0, err)) ||
        (s = read_special_id(t, g, "tokenizer.ggml.eom_token_id", &t->eom, 0, err)) ||
        (s = read_special_id(t, g, "tokenizer.ggml.unknown_token_id", &t->unk, 0, err)) ||
        (s = read_special_id(t, g, "tokenizer.ggml.padding_token_id", &t->pad, 0, err)) ||
        (s = read_bool(g, "tokenizer.ggml.add_bos_token", &t->add_bos, err)) ||
        (s = read_bool(g, "tokenizer.ggml.add_eos_token", &t->add_eos, err)) ||
        (s = read_bool(g, "tokenizer.ggml.add_space_prefix", &t->add_space_prefix, err)))
        return s;
    if (t->add_bos && t->bos < 0)
        return chord_fail(err, CHORD_E_FORMAT, "tokenizer.ggml.add_bos_token is set but there is no BOS token");
    if (t->add_eos && t->eos < 0)
        return chord_fail(err, CHORD_E_FORMAT, "tokenizer.ggml.add_eos_token is set but there is no EOS token");
    return CHORD_OK;
}

/* Continued in tok_vocab.c: end-of-generation set, special-token list, byte tables, pieces. */
chord_status chord_tok_finish(chord_tokenizer *t, const chord_gguf *g, chord_error *err);

chord_status chord_tokenizer_new(chord_tokenizer **out, const chord_gguf *g, int32_t n_vocab_expected,
                                 chord_error *err) {
    if (!out || !g) return chord_fail(err, CHORD_E_INVALID_ARG, "chord_tokenizer_new: NULL argument");
    *out = NULL;
    chord_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return chord_fail(err, CHORD_E_NOMEM, "out of memory for the tokenizer");
    chord_status s;
    if ((s = check_keys(g, err)) || (s = read_kind(t, g, err)) || (s = read_tokens(t, g, n_vocab_expected, err)) ||
        (s = read_scores_types(t, g, err)) ||
        (t->kind == CHORD_VOCAB_BPE && (s = read_merges(t, g, err))) ||
        (s = read_specials(t, g, err)) || (s = chord_tok_finish(t, g, err))) {
        chord_tokenizer_free(t);
        return s;
    }
    *out = t;
    return CHORD_OK;
}

void chord_tokenizer_free(chord_tokenizer *t) {
    if (!t) return;
    free(t->text); free(t->text_off); free(t->scores); free(t->attr); free(t->eog);
    free(t->hash); free(t->merges); free(t->special); free(t->trie); free(t->piece); free(t->piece_off);
    free(t);
}

int32_t chord_tokenizer_n_vocab(const chord_tokenizer *t) { return t ? (int32_t)t->n_tokens : 0; }
int32_t chord_tokenizer_bos(const chord_tokenizer *t) { return t ? t->bos : -1; }
int32_t chord_tokenizer_eos(const chord_tokenizer *t) { return t ? t->eos : -1; }
size_t chord_tokenizer_max_piece(const chord_tokenizer *t) { return t ? t->max_piece : 0; }
int chord_tokenizer_is_eog(const chord_tokenizer *t, int32_t id) {
    return t && id >= 0 && (uint32_t)id < t->n_tokens && t->eog[id];
}
