/*
 * tok_vocab.c — the second half of tokenizer loading (after tokens, scores, types and merges
 * are in place, see tokenizer.c): the end-of-generation set, the list of special tokens the
 * encoder matches in text, the per-byte fallback tables and the rendered piece of every token.
 *
 * GGUF files do not say which tokens end generation or which are FIM markers; llama.cpp
 * recognises them by their text, and so do we (same lists), so that e.g. Llama 3's <|eot_id|>
 * and Qwen's <|im_end|> stop generation like they do there.
 */
#include <stdio.h> /* snprintf only */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

/* Texts llama.cpp treats as end of generation (llama-vocab.cpp, "special_eog_ids"). */
static const char *const EOG_TEXTS[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
    "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
    "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
    "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>", "[e~[", NULL };
/* FIM markers: prefix/suffix/middle become control tokens; pad/repo/file-sep also end generation. */
static const char *const FIM_PRE[] = { "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>",
    "<\xef\xbd\x9c" "fim\xe2\x96\x81" "begin\xef\xbd\x9c>", "<PRE>", "\xe2\x96\x81<PRE>", "<|code_prefix|>", "<|prefix|>", NULL };
static const char *const FIM_SUF[] = { "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",
    "<\xef\xbd\x9c" "fim\xe2\x96\x81hole\xef\xbd\x9c>", "<SUF>", "\xe2\x96\x81<SUF>", "<|code_suffix|>", "<|suffix|>", NULL };
static const char *const FIM_MID[] = { "<|fim_middle|>", "<fim-middle>", "<fim_middle>",
    "<\xef\xbd\x9c" "fim\xe2\x96\x81" "end\xef\xbd\x9c>", "<MID>", "\xe2\x96\x81<MID>", "<|code_middle|>", "<|middle|>", NULL };
static const char *const FIM_PAD[] = { "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]", NULL };
static const char *const FIM_REP[] = { "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>", NULL };
static const char *const FIM_SEP[] = { "<|file_sep|>", NULL };

static int32_t find_text(const chord_tokenizer *t, const char *s) { return chord_tok_lookup(t, s, strlen(s)); }

/* The first listed text present in the vocabulary, made a control token; -1 if none. */
static int32_t detect(chord_tokenizer *t, const char *const *list) {
    for (; *list; list++) {
        int32_t id = find_text(t, *list);
        if (id >= 0) { t->attr[id] |= CHORD_TATTR_CONTROL; return id; }
    }
    return -1;
}

static int32_t fim_id(chord_tokenizer *t, const chord_gguf *g, const char *key, const char *old_key,
                      const char *const *list) {
    const char *keys[2] = { key, old_key };
    for (int k = 0; k < 2; k++) {
        uint32_t v;
        if (keys[k] && chord_gguf_get_u32(g, keys[k], &v, NULL) == CHORD_OK && v < t->n_tokens) return (int32_t)v;
    }
    return detect(t, list);
}

static void mark_eog(chord_tokenizer *t, int32_t id) {
    if (id >= 0 && (uint32_t)id < t->n_tokens) t->eog[id] = 1;
}

static chord_status build_eog(chord_tokenizer *t, const chord_gguf *g, chord_error *err) {
    t->eog = calloc(t->n_tokens, 1);
    if (!t->eog) return chord_fail(err, CHORD_E_NOMEM, "out of memory for the end-of-generation set");
    fim_id(t, g, "tokenizer.ggml.fim_pre_token_id", "tokenizer.ggml.prefix_token_id", FIM_PRE);
    fim_id(t, g, "tokenizer.ggml.fim_suf_token_id", "tokenizer.ggml.suffix_token_id", FIM_SUF);
    fim_id(t, g, "tokenizer.ggml.fim_mid_token_id", "tokenizer.ggml.middle_token_id", FIM_MID);
    mark_eog(t, fim_id(t, g, "tokenizer.ggml.fim_pad_token_id", NULL, FIM_PAD));
    mark_eog(t, fim_id(t, g, "tokenizer.ggml.fim_rep_token_id", NULL, FIM_REP));
    mark_eog(t, fim_id(t, g, "tokenizer.ggml.fim_sep_token_id", NULL, FIM_SEP));
    for (const char *const *p = EOG_TEXTS; *p; p++) {
        int32_t id = find_text(t, *p);
        if (id >= 0) { t->eog[id] = 1; t->attr[id] |= CHORD_TATTR_CONTROL; }
    }
    /* gpt-oss: these look like control tokens but must always be rendered. */
    static const char *const SHOWN[] = { "<|channel|>", "<|message|>", "<|start|>", "<|constrain|>", NULL };
    for (const char *const *p = SHOWN; *p; p++) {
        int32_t id = find_text(t, *p);
        if (id >= 0) t->attr[id] = CHORD_TATTR_USER_DEFINED;
    }
    mark_eog(t, t->eos);
    mark_eog(t, t->eot);
    mark_eog(t, t->eom);
    /* Harmony / solar-open chat formats: <|end|> separates messages there, it does not stop. */
    int32_t end = find_text(t, "<|end|>"), ret = find_text(t, "<|return|>"), flush = find_text(t, "<|flush|>");
    int32_t call = find_text(t, "<|call|>");
    if (call < 0) call = find_text(t, "<|calls|>");
    if (end >= 0 && t->eog[end] && call >= 0 && t->eog[call] &&
        ((ret >= 0 && t->eog[ret]) || (flush >= 0 && t->eog[flush]))) {
        t->eog[end] = 0;
        t->attr[end] = CHORD_TATTR_USER_DEFINED;
    }
    /* Gemma 4: </s> is an ordinary token when <|tool_response> exists. */
    int32_t tr = find_text(t, "<|tool_response>"), es = find_text(t, "</s>");
    if (tr >= 0 && t->eog[tr] && es >= 0 && t->eog[es]) {
        t->eog[es] = 0;
        t->attr[es] = CHORD_TATTR_NORMAL;
    }
    return CHORD_OK;
}

/* ---- special tokens, longest first ------------------------------------------------------- */

static int u64_cmp(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void lowercase_ascii(char *dst, size_t cap, const char *src) {
    size_t i = 0;
    for (; src[i] && i + 1 < cap; i++) dst[i] = (char)((src[i] >= 'A' && src[i] <= 'Z') ? src[i] + 32 : src[i]);
    dst[i] = 0;
}

static chord_status build_special(chord_tokenizer *t, const chord_gguf *g, chord_error *err) {
    const uint16_t want = CHORD_TATTR_CONTROL | CHORD_TATTR_USER_DEFINED | CHORD_TATTR_UNKNOWN;
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->n_tokens; i++) n += (t->attr[i] & want) != 0;
    t->special = malloc((n ? n : 1) * sizeof *t->special);
    uint64_t *keys = malloc((n ? n : 1) * sizeof *keys);
    if (!t->special || !keys) {
        free(keys);
        return chord_fail(err, CHORD_E_NOMEM, "out of memory for the special tokens");
    }
    /* Sort key: longer text first, then lower id (llama.cpp's std::sort leaves ties unordered;
     * we make them deterministic). */
    for (uint32_t i = 0; i < t->n_tokens; i++) {
        if (!(t->attr[i] & want)) continue;
        uint64_t len = t->text_off[i + 1] - t->text_off[i];
        keys[t->n_special++] = (UINT32_MAX - len) << 32 | i;
    }
    qsort(keys, t->n_special, sizeof *keys, u64_cmp);
    for (uint32_t i = 0; i < t->n_special; i++) t->special[i] = (int32_t)(keys[i] & UINT32_MAX);
    free(keys);
    /* Phi-3: special tokens swallow the whitespace that follows them (llama.cpp sets RSTRIP by
     * model name). */
    chord_str name;
    char lower[256];
    if (chord_gguf_get_str(g, "general.name", &name, NULL) == CHORD_OK) {
        lowercase_ascii(lower, sizeof lower, name.ptr);
        if (strstr(lower, "phi-3") || strstr(lower, "phi3")) {
            for (uint32_t i = 0; i < t->n_special; i++) t->attr[t->special[i]] |= CHORD_TATTR_RSTRIP;
            int32_t id = find_text(t, "</s>");
            if (id >= 0) t->attr[id] |= CHORD_TATTR_RSTRIP;
            static const char *const KEEP[] = { "<unk>", "<s>", "<|endoftext|>", NULL };
            for (const char *const *p = KEEP; *p; p++)
                if ((id = find_text(t, *p)) >= 0) t->attr[id] &= (uint16_t)~CHORD_TATTR_RSTRIP;
        }
    }
    return CHORD_OK;
}

static uint32_t trie_child(const chord_trie_node *tr, uint32_t node, uint8_t c) {
    uint32_t ch = tr[node].child;
    while (ch && tr[ch].byte != c) ch = tr[ch].sibling;
    return ch;
}

/* Failure and dictionary links, breadth first (a node's links depend on shallower nodes). */
static chord_status build_links(chord_tokenizer *t, chord_error *err) {
    chord_trie_node *tr = t->trie;
    uint32_t *queue = malloc(t->n_trie * sizeof *queue), head = 0, tail = 0;
    if (!queue) return chord_fail(err, CHORD_E_NOMEM, "out of memory for the special-token automaton");
    for (uint32_t c = tr[0].child; c; c = tr[c].sibling) { tr[c].fail = 0; tr[c].dict = 0; queue[tail++] = c; }
    while (head < tail) {
        uint32_t v = queue[head++];
        for (uint32_t c = tr[v].child; c; c = tr[c].sibling) {
            uint32_t f = tr[v].fail, to;
            while (!(to = trie_child(tr, f, tr[c].byte)) && f) f = tr[f].fail;
            tr[c].fail = to && to != c ? to : 0;
            uint32_t fl = tr[c].fail;
            tr[c].dict = tr[fl].special >= 0 ? fl : tr[fl].dict;
            queue[tail++] = c;
        }
    }
    free(queue);
    return CHORD_OK;
}

/* The trie lets the encoder find, in one pass over a text, which special tokens occur in it at
 * all, so that only those are searched for (a vocabulary has hundreds of them). */
static chord_status build_trie(chord_tokenizer *t, chord_error *err) {
    uint64_t total = 1;
    for (uint32_t k = 0; k < t->n_special; k++) {
        int32_t id = t->special[k];
        total += t->text_off[id + 1] - t->text_off[id];
    }
    t->trie = calloc(total, sizeof *t->trie);
    if (!t->trie) return chord_fail(err, CHORD_E_NOMEM, "out of memory for the special-token trie");
    t->trie[0].special = -1;
    t->n_trie = 1;
    for (uint32_t k = 0; k < t->n_special; k++) {
        size_t len;
        const char *s = chord_tok_text(t, t->special[k], &len);
        uint32_t node = 0;
        for (size_t i = 0; i < len; i++) {
            uint32_t c = t->trie[node].child;
            while (c && t->trie[c].byte != (uint8_t)s[i]) c = t->trie[c].sibling;
            if (!c) {
                c = t->n_trie++;
                chord_trie_node nn = { 0, t->trie[node].child, 0, 0, -1, (uint8_t)s[i] };
                t->trie[c] = nn;
                t->trie[node].child = c;
            }
            node = c;
        }
        if (t->trie[node].special < 0 && node != 0) t->trie[node].special = (int32_t)k;
    }
    return build_links(t, err);
}

/* ---- byte tables --------------------------------------------------------------------------- */

static void build_bytes(chord_tokenizer *t) {
    for (int b = 0; b < 256; b++) {
        char one = (char)b, hex[8];
        snprintf(hex, sizeof hex, "<0x%02X>", b);
        t->raw_tok[b] = chord_tok_lookup(t, &one, 1);
        t->byte_tok[b] = chord_tok_lookup(t, hex, 6);
        if (t->byte_tok[b] < 0) t->byte_tok[b] = t->raw_tok[b];
        t->byte_cp[b] = chord_byte_to_cp((uint8_t)b);
        uint8_t enc[4];
        size_t n = chord_utf8_encode(t->byte_cp[b], enc);
        t->enc_tok[b] = chord_tok_lookup(t, (const char *)enc, n);
    }
}

/* ---- pieces -------------------------------------------------------------------------------- */

typedef struct { char *v; size_t n, cap; } bytebuf;

static int put(bytebuf *b, const void *p, size_t n) {
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n) cap *= 2;
        char *v = realloc(b->v, cap);
        if (!v) return 0;
        b->v = v;
        b->cap = cap;
    }
    memcpy(b->v + b->n, p, n);
    b->n += n;
    return 1;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Byte-level BPE text -> bytes; a character outside GPT-2's byte alphabet is rendered the way
 * llama.cpp renders it: "[UNK_BYTE_0x<its utf-8 in hex><the token text>]". */
static int put_byte_level(bytebuf *b, const char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = chord_utf8_decode((const uint8_t *)s + i, n - i, &cp);
        i += k;
        int byte = chord_cp_to_byte(cp);
        if (byte >= 0) { char c = (char)byte; if (!put(b, &c, 1)) return 0; continue; }
        uint8_t enc[4];
        size_t m = chord_utf8_encode(cp, enc);
        char hex[16];
        if (!put(b, "[UNK_BYTE_0x", 12)) return 0;
        for (size_t j = 0; j < m; j++) {
            snprintf(hex, sizeof hex, "%02x", enc[j]);
            if (!put(b, hex, 2)) return 0;
        }
        if (!put(b, s, n) || !put(b, "]", 1)) return 0;
    }
    return 1;
}

static int put_piece(const chord_tokenizer *t, bytebuf *b, int32_t id) {
    size_t n;
    const char *s = chord_tok_text(t, id, &n);
    uint16_t a = t->attr[id];
    if (a & (CHORD_TATTR_UNKNOWN | CHORD_TATTR_CONTROL | CHORD_TATTR_USER_DEFINED)) return put(b, s, n);
    if (a & CHORD_TATTR_NORMAL) {
        if (t->kind == CHORD_VOCAB_BPE) return put_byte_level(b, s, n);
        for (size_t i = 0; i < n; i++) {                  /* SentencePiece: U+2581 is a space */
            if (i + 2 < n && memcmp(s + i, "\xe2\x96\x81", 3) == 0) { if (!put(b, " ", 1)) return 0; i += 2; }
            else if (!put(b, s + i, 1)) return 0;
        }
        return 1;
    }
    if (a & CHORD_TATTR_BYTE) {
        int hi = n == 6 ? hexval(s[3]) : -1, lo = n == 6 ? hexval(s[4]) : -1;
        if (hi < 0 || lo < 0 || memcmp(s, "<0x", 3) != 0 || s[5] != '>') return 1; /* malformed: empty */
        char c = (char)(hi << 4 | lo);
        return put(b, &c, 1);
    }
    return 1; /* unused / undefined tokens render as nothing */
}

static chord_status build_pieces(chord_tokenizer *t, chord_error *err) {
    bytebuf b = { 0 };
    t->piece_off = malloc(((size_t)t->n_tokens + 1) * sizeof *t->piece_off);
    if (!t->piece_off) return chord_fail(err, CHORD_E_NOMEM, "out of memory for token pieces");
    for (uint32_t i = 0; i < t->n_tokens; i++) {
        t->piece_off[i] = (uint32_t)b.n;
        if (!put_piece(t, &b, (int32_t)i) || b.n > UINT32_MAX / 2) {
            free(b.v);
            return chord_fail(err, CHORD_E_NOMEM, "out of memory for token pieces");
        }
        size_t len = b.n - t->piece_off[i];
        if (len > t->max_piece) t->max_piece = len;
    }
    t->piece_off[t->n_tokens] = (uint32_t)b.n;
    if (t->max_piece > CHORD_TOK_MAX_TOKEN_BYTES) { /* the streaming decoder's work buffer */
        free(b.v);
        return chord_fail(err, CHORD_E_FORMAT, "a token renders to %zu bytes, more than %u",
                          t->max_piece, CHORD_TOK_MAX_TOKEN_BYTES);
    }
    t->piece = b.v ? b.v : malloc(1);
    if (!t->piece) return chord_fail(err, CHORD_E_NOMEM, "out of memory for token pieces");
    return CHORD_OK;
}

chord_status chord_tok_finish(chord_tokenizer *t, const chord_gguf *g, chord_error *err);
chord_status chord_tok_finish(chord_tokenizer *t, const chord_gguf *g, chord_error *err) {
    chord_status s;
    if ((s = build_eog(t, g, err)) || (s = build_special(t, g, err)) || (s = build_trie(t, err))) return s;
    build_bytes(t);
    return build_pieces(t, err);
}

chord_status chord_tokenizer_piece(const chord_tokenizer *t, int32_t id, int special, const char **ptr,
                                   size_t *len) {
    *ptr = "";
    *len = 0;
    if (!t || id < 0 || (uint32_t)id >= t->n_tokens) return CHORD_E_RANGE;
    if (!special && (t->attr[id] & (CHORD_TATTR_UNKNOWN | CHORD_TATTR_CONTROL))) return CHORD_OK;
    *ptr = t->piece + t->piece_off[id];
    *len = t->piece_off[id + 1] - t->piece_off[id];
    return CHORD_OK;
}
