/*
 * tok_spm.c — SentencePiece-style BPE (tokenizer.ggml.model = "llama": Llama 2, TinyLlama,
 * Mistral …) for one fragment of raw text, as llama.cpp's llm_tokenizer_spm does it.
 *
 *   1. spaces become U+2581 "▁", and one "▁" is prepended when the fragment starts the text
 *      or follows a special token (add_space_prefix)
 *   2. each UTF-8 character is a symbol; its length is judged by the lead byte alone, so
 *      malformed bytes stay in the text and later fall back to byte tokens (exact round trip)
 *   3. repeatedly merge the adjacent pair whose concatenation is the token with the highest
 *      score (ties: leftmost) — an indexed queue holding each symbol's pair with its right
 *      neighbour, updated in place as merges change the neighbours
 *   4. a final symbol that is not a token becomes its bytes' <0xNN> tokens
 * Cost: O(n log n) in the fragment's characters; no recursion.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

typedef struct { int32_t prev, next; uint32_t start, n; } symbol;

/* (Re)computes the candidate of symbol l: the token its text forms with its right neighbour's. */
static void update_pair(const chord_tokenizer *t, const char *s, const symbol *sym, int32_t l, chord_pairq *q) {
    if (l < 0) return;
    int32_t r = sym[l].next, id = -1;
    if (r >= 0) id = chord_tok_lookup(t, s + sym[l].start, sym[l].n + sym[r].n);
    if (id >= 0) chord_pairq_set(q, l, t->scores[id]);
    else chord_pairq_remove(q, l);
}

static chord_status emit_symbol(const chord_tokenizer *t, const char *s, const symbol *y, chord_ids *out) {
    int32_t id = chord_tok_lookup(t, s + y->start, y->n);
    if (id >= 0) return chord_ids_push(out, id);
    for (uint32_t i = 0; i < y->n; i++) {
        id = t->byte_tok[(uint8_t)s[y->start + i]];
        if (id < 0) id = t->unk;  /* no byte token: llama.cpp would throw; we emit <unk> */
        if (id < 0) continue;
        if (chord_ids_push(out, id) != CHORD_OK) return CHORD_E_NOMEM;
    }
    return CHORD_OK;
}

/* Escapes text into a new buffer: optional leading "▁", every ' ' as "▁". */
static char *escape(const char *text, size_t len, int space_prefix, size_t *n_out) {
    char *s = malloc(3 * len + 4);
    if (!s) return NULL;
    size_t n = 0;
    if (space_prefix) { memcpy(s, "\xe2\x96\x81", 3); n = 3; }
    for (size_t i = 0; i < len; i++) {
        if (text[i] == ' ') { memcpy(s + n, "\xe2\x96\x81", 3); n += 3; }
        else s[n++] = text[i];
    }
    *n_out = n;
    return s;
}

chord_status chord_spm_encode(const chord_tokenizer *t, const char *text, size_t len, int space_prefix,
                              chord_ids *out) {
    size_t n;
    char *s = escape(text, len, space_prefix, &n);
    symbol *sym = s ? malloc((n + 1) * sizeof *sym) : NULL;
    chord_pairq q = { 0 };
    chord_status st = CHORD_E_NOMEM;
    if (!sym || chord_pairq_init(&q, n + 1) != CHORD_OK) goto done;
    int32_t n_sym = 0;
    for (size_t off = 0; off < n;) {
        size_t k = chord_utf8_lead_len((uint8_t)s[off]);
        if (k > n - off) k = n - off;
        symbol y = { n_sym - 1, -1, (uint32_t)off, (uint32_t)k };
        if (n_sym) sym[n_sym - 1].next = n_sym;
        sym[n_sym++] = y;
        off += k;
    }
    for (int32_t i = 0; i + 1 < n_sym; i++) update_pair(t, s, sym, i, &q);
    while (q.n) {
        int32_t li = chord_pairq_pop(&q);
        symbol *l = &sym[li], *r = &sym[l->next];
        l->n += r->n;
        r->n = 0;
        chord_pairq_remove(&q, l->next);
        l->next = r->next;
        if (r->next >= 0) sym[r->next].prev = li;
        update_pair(t, s, sym, l->prev, &q);
        update_pair(t, s, sym, li, &q);
    }
    st = CHORD_OK;
    for (int32_t i = n_sym ? 0 : -1; i >= 0 && st == CHORD_OK; i = sym[i].next) st = emit_symbol(t, s, &sym[i], out);
done:
    free(s); free(sym); chord_pairq_free(&q);
    return st;
}
