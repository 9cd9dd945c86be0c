/*
 * tokenizer.h — internal interface of the tokenizer module (tokenizer.c, tok_spm.c, tok_bpe.c,
 * tok_pretok.c, tokenize_api.c).
 *
 * NOTE for the model module: the model owns one chord_tokenizer, built at load with
 * chord_tokenizer_new() from the model's chord_gguf (pass the embedding row count as
 * n_vocab_expected, or -1 for vocab-only loads), and exposes it through
 * chord_model_tokenizer() (defined in src/model/model.c). The public chord_tokenize / chord_detokenize
 * / chord_token_piece / chord_token_is_eog / chord_detok_* functions (tokenize_api.c) reach the
 * tokenizer through that accessor.
 *
 * Two vocabulary kinds, as llama.cpp names them:
 *   SPM (tokenizer.ggml.model = "llama"): SentencePiece-style BPE driven by token scores, with
 *       byte fallback <0xNN> and the leading-space rule (add_space_prefix).
 *   BPE (tokenizer.ggml.model = "gpt2"): byte-level BPE driven by tokenizer.ggml.merges ranks,
 *       after a pre-tokenizer split chosen by tokenizer.ggml.pre.
 * Everything a tokenizer needs is copied out of the GGUF, so it does not depend on the
 * chord_gguf after chord_tokenizer_new returns.
 */
#ifndef CHORD_TOKENIZER_H
#define CHORD_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>
#include "chord.h"
#include "gguf/gguf.h"

typedef struct chord_tokenizer chord_tokenizer;

/* Builds the tokenizer from tokenizer.ggml.* metadata, validating it: element types and
 * lengths of the token/score/type arrays, token count against n_vocab_expected (embedding rows;
 * -1 skips the check), BOS/EOS ids inside the vocabulary, merges naming known tokens, token
 * strings within CHORD_TOK_MAX_TOKEN_BYTES, no duplicate token strings.
 * On success *out owns all its memory; free with chord_tokenizer_free. */
chord_status chord_tokenizer_new(chord_tokenizer **out, const chord_gguf *g, int32_t n_vocab_expected,
                                 chord_error *err);
void chord_tokenizer_free(chord_tokenizer *t);
int32_t chord_tokenizer_n_vocab(const chord_tokenizer *t);

/* The model's tokenizer (defined in src/model/model.c); NULL when the model has none. */
const struct chord_tokenizer *chord_model_tokenizer(const chord_model *m);

/* Text -> ids. flags: CHORD_TOK_ADD_SPECIAL, CHORD_TOK_PARSE_SPECIAL. Capacity rule as
 * chord_tokenize. */
chord_status chord_tokenizer_encode(const chord_tokenizer *t, const char *text, size_t len, int flags,
                                    int32_t *out, size_t cap, size_t *n_out, chord_error *err);
/* The bytes of one token. special = 0 renders control/unknown tokens as nothing (what a user
 * should see in generated text); special = 1 renders their text. The pointer lives as long as
 * the tokenizer. Returns CHORD_E_RANGE for an id outside the vocabulary. */
chord_status chord_tokenizer_piece(const chord_tokenizer *t, int32_t id, int special, const char **ptr,
                                   size_t *len);
/* Ids -> text the way llama.cpp's llama_detokenize(remove_special = false, unparse_special =
 * true) does: pieces concatenated, the first piece's leading space dropped when the vocabulary
 * adds one (add_space_prefix), and the clean-up of " ." " ," " 's" … for vocabularies that ask
 * for it. Capacity rule as chord_tokenize. */
chord_status chord_tokenizer_decode(const chord_tokenizer *t, const int32_t *ids, size_t n, char *buf,
                                    size_t cap, size_t *n_out, chord_error *err);
int chord_tokenizer_is_eog(const chord_tokenizer *t, int32_t id);
int32_t chord_tokenizer_bos(const chord_tokenizer *t);   /* -1 when none */
int32_t chord_tokenizer_eos(const chord_tokenizer *t);   /* -1 when none */
size_t chord_tokenizer_max_piece(const chord_tokenizer *t); /* longest piece in bytes */

/* ---- module-private below: shared by the tokenizer's own files only ------------------------ */

#define CHORD_TOK_MAX_TOKENS (1u << 24)        /* sane cap on vocabulary size */
#define CHORD_TOK_MAX_TOKEN_BYTES 4096u        /* sane cap on one token's string */

typedef enum { CHORD_VOCAB_SPM = 1, CHORD_VOCAB_BPE = 2 } chord_vocab_kind;

/* Pre-tokenizer splits (tok_pretok.c); the regexes are llama.cpp's. */
typedef enum {
    CHORD_PRE_DEFAULT = 0,  /* punctuation runs | gpt-2 | \p{N}+ | [0-9]{3} chained */
    CHORD_PRE_GPT2,         /* 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
    CHORD_PRE_LLAMA3,       /* (?i:'s|…)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
    CHORD_PRE_QWEN2,        /* as LLAMA3 with \p{N} (single digits) */
    CHORD_PRE_STARCODER,    /* \p{N} then gpt-2 */
    CHORD_PRE_QWEN35,       /* as QWEN2 with marks: [\p{L}\p{M}]+ words, [^\s\p{L}\p{M}\p{N}]+ symbols */
    CHORD_PRE_FALCON,       /* [\p{P}\$\+<=>\^~\|`]+ | gpt-2 | [0-9]{3} chained */
    CHORD_PRE_DEEPSEEK_CODER, /* [\r\n] | \s?\p{L}+ | \s?\p{P}+ | [一-龥ࠀ-一가-퟿]+ | \p{N} chained */
    CHORD_PRE_DEEPSEEK_LLM, /* [\r\n] | \s?[letters]+ | \s?[punct]+ | \s+$ | [cjk]+ | \p{N}+ chained */
} chord_pre_kind;

/* Token attributes (llama.cpp's llama_token_attr bits). */
enum {
    CHORD_TATTR_UNKNOWN = 1 << 0, CHORD_TATTR_UNUSED = 1 << 1, CHORD_TATTR_NORMAL = 1 << 2,
    CHORD_TATTR_CONTROL = 1 << 3, CHORD_TATTR_USER_DEFINED = 1 << 4, CHORD_TATTR_BYTE = 1 << 5,
    CHORD_TATTR_LSTRIP = 1 << 7, CHORD_TATTR_RSTRIP = 1 << 8,
};

/* Merge rank table entry (BPE): the pair (left, right) of token ids merges with this rank into
 * token `result` (-1 when the concatenation is not itself a token). */
typedef struct chord_merge { int32_t left, right, rank, result; } chord_merge;

/* Aho–Corasick automaton over the special tokens' texts (node 0 is the root; 0 as a link means
 * "none"): trie links, the failure link (longest proper suffix that is a trie node) and the
 * dictionary link (nearest node on the failure chain that ends a special token). */
typedef struct chord_trie_node {
    uint32_t child, sibling, fail, dict;
    int32_t special;  /* index into chord_tokenizer.special, or -1 */
    uint8_t byte;
} chord_trie_node;

struct chord_tokenizer {
    chord_vocab_kind kind;
    chord_pre_kind pre;
    uint32_t n_tokens;
    char *text;             /* all token strings, each NUL-terminated */
    uint32_t *text_off;     /* n_tokens + 1 offsets into text (length = next - this - 1) */
    float *scores;          /* n_tokens */
    uint16_t *attr;         /* n_tokens, CHORD_TATTR_* */
    uint8_t *eog;           /* n_tokens: 1 when the token ends generation */
    uint32_t *hash;         /* open addressing, id + 1 (0 = empty), hash_mask + 1 slots */
    uint32_t hash_mask;
    chord_merge *merges;    /* hash of (left, right) pairs; left = -1 marks an empty slot */
    uint32_t merge_mask;
    uint32_t n_merges;
    int32_t bos, eos, unk, eot, eom, pad;
    int add_bos, add_eos, add_space_prefix, clean_spaces, ignore_merges;
    int32_t byte_tok[256];  /* SPM: byte fallback token <0xNN> (or the 1-byte string); -1 none */
    int32_t enc_tok[256];   /* BPE: token of the byte-level character of byte b; -1 none */
    int32_t raw_tok[256];   /* BPE: token whose string is the single byte b; -1 none */
    uint32_t byte_cp[256];  /* GPT-2 byte -> code point */
    int32_t *special;       /* ids of control/user-defined/unknown tokens, longest text first */
    uint32_t n_special;
    chord_trie_node *trie;  /* special texts; a node's `special` indexes the list above, or -1 */
    uint32_t n_trie;
    char *piece;            /* every token's rendered bytes (special = 1) */
    uint32_t *piece_off;    /* n_tokens + 1 */
    size_t max_piece;
};

/* Token string of id (valid id). */
static inline const char *chord_tok_text(const chord_tokenizer *t, int32_t id, size_t *len) {
    *len = t->text_off[id + 1] - t->text_off[id] - 1;
    return t->text + t->text_off[id];
}
/* Id of the token whose string is s[0..len), or -1. */
int32_t chord_tok_lookup(const chord_tokenizer *t, const char *s, size_t len);
/* Merge entry for the pair, or NULL. */
const chord_merge *chord_tok_merge(const chord_tokenizer *t, int32_t left, int32_t right);

/* Growable id vector the encoders append to. */
typedef struct chord_ids { int32_t *v; size_t n, cap; } chord_ids;
chord_status chord_ids_push(chord_ids *ids, int32_t id);

/* The merge queue both tokenizers use: at most one candidate per symbol — the pair it forms
 * with its right neighbour — ordered by key (higher first), then by symbol position (lower
 * first), which is the order of llama.cpp's priority queues. Indexed (pos[] per symbol), so a
 * merge updates the two pairs it changes in place instead of leaving stale entries behind. */
typedef struct chord_qent { float key; int32_t sym; } chord_qent;
typedef struct chord_pairq { chord_qent *heap; int32_t *pos; size_t n; } chord_pairq;
/* For n_sym symbols; all slots empty. */
chord_status chord_pairq_init(chord_pairq *q, size_t n_sym);
void chord_pairq_free(chord_pairq *q);
/* Sets (inserts or re-keys) the candidate of symbol sym. */
void chord_pairq_set(chord_pairq *q, int32_t sym, float key);
/* Removes the candidate of symbol sym, if any. */
void chord_pairq_remove(chord_pairq *q, int32_t sym);
/* Removes and returns the best candidate's symbol; q->n must be > 0. */
int32_t chord_pairq_pop(chord_pairq *q);

/* Encoders of one raw-text fragment (no special tokens inside). */
chord_status chord_spm_encode(const chord_tokenizer *t, const char *text, size_t len, int space_prefix,
                              chord_ids *out);
chord_status chord_bpe_encode(const chord_tokenizer *t, const char *text, size_t len, chord_ids *out);

/* Pre-tokenizer: splits cps[0..n) into words; writes word lengths (in code points) into
 * *lens (allocated, caller frees) and their count into *n_lens. */
chord_status chord_pretokenize(chord_pre_kind pre, const uint32_t *cps, size_t n, uint32_t **lens,
                               size_t *n_lens);

#endif
