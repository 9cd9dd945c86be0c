/*
 * tokenize_api.c — the tokenizer's driver and the public tokenizer functions of chord.h.
 *
 * Encoding (llama.cpp's llama_vocab::impl::tokenize):
 *   1. special tokens are cut out of the text first: for every special token, longest text
 *      first, each raw fragment is split at that token's occurrences (leftmost first, without
 *      overlap). Control and unknown tokens take part only with CHORD_TOK_PARSE_SPECIAL;
 *      user-defined tokens always do.
 *   2. each remaining raw fragment goes to the SPM or BPE encoder; BOS/EOS are added as the
 *      vocabulary asks when CHORD_TOK_ADD_SPECIAL is given.
 * One Aho–Corasick pass over the special texts finds which special tokens occur at all; only
 * those are then searched for (KMP over the fragments). Cost: linear in the text, plus one
 * linear scan per special token that actually occurs.
 *
 * Decoding (llama_detokenize with remove_special = false, unparse_special = true) and the
 * streaming decoder that never splits a UTF-8 sequence are at the end.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

typedef struct { int32_t tok; uint32_t off, len; } fragment; /* tok = -1: raw text */
typedef struct { fragment *v; size_t n, cap; } frag_list;

static int frag_push(frag_list *l, int32_t tok, size_t off, size_t len) {
    if (tok < 0 && len == 0) return 1;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        fragment *v = realloc(l->v, cap * sizeof *v);
        if (!v) return 0;
        l->v = v;
        l->cap = cap;
    }
    fragment f = { tok, (uint32_t)off, (uint32_t)len };
    l->v[l->n++] = f;
    return 1;
}

/* Knuth–Morris–Pratt: linear in n + m whatever the text (no quadratic memcmp retries). */
static void kmp_table(const char *pat, size_t m, uint32_t *fail) {
    fail[0] = 0;
    for (size_t i = 1, k = 0; i < m; i++) {
        while (k && pat[i] != pat[k]) k = fail[k - 1];
        if (pat[i] == pat[k]) k++;
        fail[i] = (uint32_t)k;
    }
}

static const char *kmp_find(const char *hay, size_t n, const char *pat, size_t m, const uint32_t *fail) {
    for (size_t i = 0, k = 0; i < n; i++) {
        while (k && hay[i] != pat[k]) k = fail[k - 1];
        if (hay[i] == pat[k] && ++k == m) return hay + i + 1 - m;
    }
    return NULL;
}

static int is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* Splits every raw fragment of `in` at the occurrences of special token id into `out`. */
static int split_at(const chord_tokenizer *t, const char *text, int32_t id, const frag_list *in, frag_list *out) {
    size_t m;
    const char *s = chord_tok_text(t, id, &m);
    uint16_t a = t->attr[id];
    uint32_t fail[CHORD_TOK_MAX_TOKEN_BYTES];
    kmp_table(s, m, fail);
    out->n = 0;
    for (size_t i = 0; i < in->n; i++) {
        fragment f = in->v[i];
        if (f.tok >= 0) { if (!frag_push(out, f.tok, 0, 0)) return 0; continue; }
        size_t off = f.off, rem = f.len;
        for (;;) {
            const char *p = kmp_find(text + off, rem, s, m, fail);
            if (!p) { if (!frag_push(out, -1, off, rem)) return 0; break; }
            size_t at = (size_t)(p - text), left = at - off;
            if (a & CHORD_TATTR_LSTRIP) while (left > 0 && is_space(text[off + left - 1])) left--;
            if (!frag_push(out, -1, off, left) || !frag_push(out, id, 0, 0)) return 0;
            rem = off + rem - (at + m);
            off = at + m;
            if (a & CHORD_TATTR_RSTRIP) while (rem > 0 && is_space(text[off])) { off++; rem--; }
            if (rem == 0) break;
        }
    }
    return 1;
}

/* Marks in hit[] (one byte per special token) the special tokens that occur in text, in one
 * Aho–Corasick pass over the trie (failure and dictionary links built at load): linear in the
 * text, and each trie node's dictionary chain is walked at most once per call (seen[]). */
static chord_status find_present(const chord_tokenizer *t, const char *text, size_t len, uint8_t *hit) {
    const chord_trie_node *tr = t->trie;
    uint8_t *seen = calloc(t->n_trie, 1);
    if (!seen) return CHORD_E_NOMEM;
    uint32_t node = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)text[i];
        for (;;) {
            uint32_t ch = tr[node].child;
            while (ch && tr[ch].byte != c) ch = tr[ch].sibling;
            if (ch) { node = ch; break; }
            if (node == 0) break;
            node = tr[node].fail;
        }
        for (uint32_t d = tr[node].special >= 0 ? node : tr[node].dict; d && !seen[d]; d = tr[d].dict) {
            seen[d] = 1;
            hit[tr[d].special] = 1;
        }
    }
    free(seen);
    return CHORD_OK;
}

static chord_status partition(const chord_tokenizer *t, const char *text, size_t len, int parse_special,
                              frag_list *frags) {
    frag_list other = { 0 };
    uint8_t *hit = calloc(t->n_special + 1, 1);
    if (!hit || !frag_push(frags, -1, 0, len)) { free(hit); return CHORD_E_NOMEM; }
    chord_status st = find_present(t, text, len, hit);
    for (uint32_t k = 0; k < t->n_special && st == CHORD_OK; k++) {
        int32_t id = t->special[k];
        if (!hit[k]) continue;
        if (!parse_special && (t->attr[id] & (CHORD_TATTR_CONTROL | CHORD_TATTR_UNKNOWN))) continue;
        if (!split_at(t, text, id, frags, &other)) { st = CHORD_E_NOMEM; break; }
        frag_list tmp = *frags;
        *frags = other;
        other = tmp;
    }
    free(other.v);
    free(hit);
    return st;
}

static chord_status encode_ids(const chord_tokenizer *t, const char *text, size_t len, int flags, chord_ids *ids) {
    frag_list frags = { 0 };
    chord_status st = CHORD_OK;
    int add = (flags & CHORD_TOK_ADD_SPECIAL) != 0;
    if (add && t->add_bos) st = chord_ids_push(ids, t->bos);
    if (st == CHORD_OK && len) st = partition(t, text, len, (flags & CHORD_TOK_PARSE_SPECIAL) != 0, &frags);
    int prev_special = 1; /* SPM: a fragment at the start or after a special token gets "▁" */
    for (size_t i = 0; i < frags.n && st == CHORD_OK; i++) {
        fragment f = frags.v[i];
        if (f.tok >= 0) { st = chord_ids_push(ids, f.tok); prev_special = 1; continue; }
        if (t->kind == CHORD_VOCAB_SPM)
            st = chord_spm_encode(t, text + f.off, f.len, t->add_space_prefix && prev_special, ids);
        else
            st = chord_bpe_encode(t, text + f.off, f.len, ids);
        prev_special = 0;
    }
    if (st == CHORD_OK && add && t->add_eos) st = chord_ids_push(ids, t->eos);
    free(frags.v);
    return st;
}

chord_status chord_tokenizer_encode(const chord_tokenizer *t, const char *text, size_t len, int flags,
                                    int32_t *out, size_t cap, size_t *n_out, chord_error *err) {
    if (n_out) *n_out = 0;
    if (!t || (!text && len) || !n_out || (!out && cap))
        return chord_fail(err, CHORD_E_INVALID_ARG, "tokenize: NULL argument");
    if (len > (size_t)INT32_MAX / 4)
        return chord_fail(err, CHORD_E_RANGE, "tokenize: text of %zu bytes is too long", len);
    chord_ids ids = { 0 };
    chord_status st = encode_ids(t, text, len, flags, &ids);
    if (st != CHORD_OK) {
        free(ids.v);
        return chord_fail(err, st, "tokenize: out of memory for a text of %zu bytes", len);
    }
    *n_out = ids.n;
    if (ids.n > cap) {
        free(ids.v);
        return chord_fail(err, CHORD_E_BUFFER, "tokenize: %zu tokens do not fit in a buffer of %zu", *n_out, cap);
    }
    if (ids.n) memcpy(out, ids.v, ids.n * sizeof *out);
    free(ids.v);
    return CHORD_OK;
}

/* ---- decoding ----------------------------------------------------------------------------- */

/* llama.cpp's clean_spaces passes, in place: " ?" " !" " ." " ," lose the space; a lone
 * apostrophe between spaces loses both; " 's" " 'm" " 're" " 've" lose the space. */
static size_t clean_spaces(char *x, size_t total) {
    size_t n1 = total;
    total = total ? 1 : 0;
    for (size_t i = 1; i < n1; i++) {
        char c = x[i];
        if (x[i - 1] == ' ' && (c == '?' || c == '!' || c == '.' || c == ',')) total--;
        x[total++] = c;
    }
    size_t n2 = total;
    total = total ? 1 : 0;
    for (size_t i = 1; i < n2; i++) {
        char c = x[i];
        if (c == '\'' && i + 1 < n2 && x[i - 1] == ' ' && x[i + 1] == ' ') { total--; x[++i] = 0; }
        x[total++] = c;
    }
    size_t n3 = total;
    total = total ? 1 : 0;
    for (size_t i = 1; i < n3; i++) {
        char c = x[i];
        if (x[i - 1] == ' ' && c == '\'' && i + 1 < n3) {
            char c1 = x[i + 1];
            if (c1 == 's' || c1 == 'm') total--;
            else if (i + 2 < n3 && ((c1 == 'r' && x[i + 2] == 'e') || (c1 == 'v' && x[i + 2] == 'e'))) total--;
        }
        x[total++] = c;
    }
    return total;
}

chord_status chord_tokenizer_decode(const chord_tokenizer *t, const int32_t *ids, size_t n, char *buf,
                                    size_t cap, size_t *n_out, chord_error *err) {
    if (n_out) *n_out = 0;
    if (!t || (!ids && n) || !n_out || (!buf && cap))
        return chord_fail(err, CHORD_E_INVALID_ARG, "detokenize: NULL argument");
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0 || (uint32_t)ids[i] >= t->n_tokens)
            return chord_fail(err, CHORD_E_RANGE, "detokenize: token %d at position %zu is outside the vocabulary (%u)",
                              ids[i], i, t->n_tokens);
        total += t->piece_off[ids[i] + 1] - t->piece_off[ids[i]];
    }
    char *x = malloc(total + 1);
    if (!x) return chord_fail(err, CHORD_E_NOMEM, "detokenize: out of memory for %zu bytes", total);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p;
        size_t len;
        chord_tokenizer_piece(t, ids[i], 1, &p, &len);
        if (i == 0 && t->add_space_prefix && len && p[0] == ' ') { p++; len--; }
        memcpy(x + k, p, len);
        k += len;
    }
    if (t->clean_spaces) k = clean_spaces(x, k);
    *n_out = k;
    chord_status st = CHORD_OK;
    if (k > cap) st = chord_fail(err, CHORD_E_BUFFER, "detokenize: %zu bytes do not fit in a buffer of %zu", k, cap);
    else if (k) memcpy(buf, x, k);
    free(x);
    return st;
}

/* ---- public API over a model ---------------------------------------------------------------- */

/* The model's tokenizer, or NULL with *st saying why (NULL model / model without one). */
static const chord_tokenizer *model_tok(const chord_model *m, chord_status *st, chord_error *err) {
    const chord_tokenizer *t = m ? chord_model_tokenizer(m) : NULL;
    *st = CHORD_OK;
    if (!t) *st = chord_fail(err, m ? CHORD_E_NOT_FOUND : CHORD_E_INVALID_ARG,
                             m ? "the model has no tokenizer" : "NULL model");
    return t;
}

chord_status chord_tokenize(const chord_model *m, const char *text, size_t len, int flags, int32_t *out,
                            size_t cap, size_t *n_out, chord_error *err) {
    chord_status st;
    const chord_tokenizer *t = model_tok(m, &st, err);
    if (!t) { if (n_out) *n_out = 0; return st; }
    return chord_tokenizer_encode(t, text, len, flags, out, cap, n_out, err);
}

chord_status chord_detokenize(const chord_model *m, const int32_t *tokens, size_t n, char *buf, size_t cap,
                              size_t *n_out, chord_error *err) {
    chord_status st;
    const chord_tokenizer *t = model_tok(m, &st, err);
    if (!t) { if (n_out) *n_out = 0; return st; }
    return chord_tokenizer_decode(t, tokens, n, buf, cap, n_out, err);
}

chord_status chord_token_piece(const chord_model *m, int32_t token, char *buf, size_t cap, size_t *n_out) {
    if (n_out) *n_out = 0;
    chord_status st;
    const chord_tokenizer *t = model_tok(m, &st, NULL);
    if (!t) return st;
    if (!n_out || (!buf && cap)) return CHORD_E_INVALID_ARG;
    const char *p;
    size_t len;
    st = chord_tokenizer_piece(t, token, 1, &p, &len);
    if (st != CHORD_OK) return st;
    *n_out = len;
    if (len > cap) return CHORD_E_BUFFER;
    memcpy(buf, p, len);
    return CHORD_OK;
}

int chord_token_is_eog(const chord_model *m, int32_t token) {
    return chord_tokenizer_is_eog(m ? chord_model_tokenizer(m) : NULL, token);
}

/* ---- streaming decoder ---------------------------------------------------------------------- */

void chord_detok_init(chord_detok *d, const chord_model *m) {
    if (!d) return;
    memset(d, 0, sizeof *d);
    d->model = m;
}

/* Writes the complete UTF-8 of s[0..n) into dst (which has room for 3n bytes; NULL only
 * counts): valid sequences as they are, invalid bytes as U+FFFD; an incomplete tail is kept
 * back when `hold` is set. Returns the bytes written; *used receives the bytes of s consumed. */
static size_t sanitize(const uint8_t *s, size_t n, int hold, char *dst, size_t *used) {
    size_t i = 0, k = 0;
    while (i < n) {
        size_t len;
        int r = chord_utf8_check(s + i, n - i, &len);
        if (r == 0 && hold) break;
        if (r == 1) { if (dst) memcpy(dst + k, s + i, len); k += len; }
        else { if (dst) memcpy(dst + k, "\xef\xbf\xbd", 3); k += 3; }
        i += len;
    }
    *used = i;
    return k;
}

/* Held-back bytes plus the longest piece: the streaming decoder works in one stack buffer of
 * this size, so a push never allocates and cannot fail for want of memory mid-generation. */
#define DETOK_WORK_BYTES (sizeof(((chord_detok *)0)->pending) + CHORD_TOK_MAX_TOKEN_BYTES)

size_t chord_detok_max_bytes(const chord_model *m) {
    const chord_tokenizer *t = m ? chord_model_tokenizer(m) : NULL;
    if (!t) return 0;
    return 3 * (t->max_piece + sizeof(((chord_detok *)0)->pending));
}

chord_status chord_detok_push(chord_detok *d, int32_t token, char *buf, size_t cap, size_t *n_out) {
    if (n_out) *n_out = 0;
    if (!d || !n_out || (!buf && cap)) return CHORD_E_INVALID_ARG;
    chord_status st;
    const chord_tokenizer *t = model_tok(d->model, &st, NULL);
    if (!t) return st;
    const char *p;
    size_t len;
    st = chord_tokenizer_piece(t, token, 0, &p, &len); /* control tokens show nothing */
    if (st != CHORD_OK) return st;
    size_t n = d->n_pending + len, used;
    uint8_t all[DETOK_WORK_BYTES];
    if (d->n_pending > sizeof d->pending || n > sizeof all) return CHORD_E_INTERNAL; /* load caps pieces */
    memcpy(all, d->pending, d->n_pending);
    memcpy(all + d->n_pending, p, len);
    size_t k = sanitize(all, n, 1, NULL, &used);
    *n_out = k;
    if (k > cap) return CHORD_E_BUFFER;  /* nothing consumed; call again with a larger buffer */
    sanitize(all, n, 1, buf, &used);
    d->n_pending = (uint32_t)(n - used);             /* < 4: an incomplete sequence */
    memcpy(d->pending, all + used, d->n_pending);
    d->n_out_tokens++;
    return CHORD_OK;
}

size_t chord_detok_flush(chord_detok *d, char *buf, size_t cap) {
    if (!d || d->n_pending == 0) return 0;
    char tmp[3 * sizeof d->pending];
    size_t used, k = sanitize(d->pending, d->n_pending, 0, tmp, &used);
    if (k > cap) return 0;  /* the caller's buffer cannot hold it; keep it pending */
    if (k) memcpy(buf, tmp, k);
    d->n_pending = 0;
    return k;
}
