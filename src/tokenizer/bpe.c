/*
 * tok_bpe.c — byte-level BPE (tokenizer.ggml.model = "gpt2": GPT-2, Llama 3, Qwen2 …) for one
 * fragment of raw text.
 *
 *   1. decode the bytes to code points (malformed UTF-8 becomes U+FFFD, as in llama.cpp)
 *   2. split into words with the vocabulary's pre-tokenizer (tok_pretok.c)
 *   3. per word: re-encode to UTF-8; each byte starts as one symbol whose token is the GPT-2
 *      byte-level character for that byte; repeatedly merge the adjacent pair with the lowest
 *      merge rank (ties: leftmost) — an indexed queue holding each symbol's pair with its
 *      right neighbour, updated in place as merges change the neighbours
 *   4. a final symbol that is not a token falls back to the tokens of its single bytes
 *
 * Symbols are identified by token id, so merge lookups are integer hashes: every merge names two
 * known tokens (checked at load), and a concatenation that is not a token can never take part in
 * a later merge, so this is exactly llama.cpp's string-keyed algorithm.
 * Cost: O(n log n) per word in the number of bytes; no recursion.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

typedef struct { int32_t id, prev, next; uint32_t start, n; } symbol;

typedef struct {
    const chord_tokenizer *t;
    uint8_t *word;      /* raw UTF-8 bytes of the current word */
    char *enc;          /* its byte-level encoding (<= 2 bytes per byte) */
    symbol *sym;
    chord_pairq q;
} bpe_state;

/* (Re)computes the candidate of symbol `left`: its pair with its current right neighbour. */
static void update_pair(bpe_state *b, int32_t left) {
    if (left < 0) return;
    int32_t right = b->sym[left].next;
    const chord_merge *m = right >= 0 ? chord_tok_merge(b->t, b->sym[left].id, b->sym[right].id) : NULL;
    if (m) chord_pairq_set(&b->q, left, -(float)m->rank); /* lowest rank first */
    else chord_pairq_remove(&b->q, left);
}

/* Byte-level encoding of raw bytes w[0..n) into b->enc; returns its length. */
static size_t encode_bytes(const bpe_state *b, const uint8_t *w, size_t n, char *dst) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += chord_utf8_encode(b->t->byte_cp[w[i]], (uint8_t *)dst + k);
    return k;
}

static chord_status emit_symbol(bpe_state *b, const symbol *s, chord_ids *out) {
    if (s->id >= 0) return chord_ids_push(out, s->id);
    /* Not a token: each byte of its byte-level text, where that single byte is a token. */
    size_t k = encode_bytes(b, b->word + s->start, s->n, b->enc);
    for (size_t i = 0; i < k; i++) {
        int32_t id = b->t->raw_tok[(uint8_t)b->enc[i]];
        if (id >= 0 && chord_ids_push(out, id) != CHORD_OK) return CHORD_E_NOMEM;
    }
    return CHORD_OK;
}

static chord_status merge_word(bpe_state *b, size_t n, chord_ids *out) {
    const chord_tokenizer *t = b->t;
    if (n == 0) return CHORD_OK;
    if (t->ignore_merges) {  /* Llama 3: a word that is a whole token is taken as is */
        size_t k = encode_bytes(b, b->word, n, b->enc);
        int32_t id = chord_tok_lookup(t, b->enc, k);
        if (id >= 0) return chord_ids_push(out, id);
    }
    for (size_t i = 0; i < n; i++) {
        symbol s = { t->enc_tok[b->word[i]], (int32_t)i - 1, i + 1 < n ? (int32_t)i + 1 : -1, (uint32_t)i, 1 };
        b->sym[i] = s;
    }
    for (size_t i = 0; i + 1 < n; i++) update_pair(b, (int32_t)i);
    while (b->q.n) {
        int32_t li = chord_pairq_pop(&b->q);
        symbol *l = &b->sym[li], *r = &b->sym[l->next];
        l->id = chord_tok_merge(t, l->id, r->id)->result;
        l->n += r->n;
        r->n = 0;
        chord_pairq_remove(&b->q, l->next);
        l->next = r->next;
        if (r->next >= 0) b->sym[r->next].prev = li;
        update_pair(b, l->prev);
        update_pair(b, li);
    }
    chord_status st = CHORD_OK;
    for (int32_t i = 0; i >= 0 && st == CHORD_OK; i = b->sym[i].next) st = emit_symbol(b, &b->sym[i], out);
    return st;
}

/* Decodes text leniently into code points; returns the count. */
static size_t decode_all(const char *text, size_t len, uint32_t *cps) {
    size_t n = 0;
    for (size_t i = 0; i < len;) i += chord_utf8_decode((const uint8_t *)text + i, len - i, &cps[n++]);
    return n;
}

static size_t utf8_len(uint32_t cp) { return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4; }

chord_status chord_bpe_encode(const chord_tokenizer *t, const char *text, size_t len, chord_ids *out) {
    if (len == 0) return CHORD_OK;
    bpe_state b = { .t = t };
    uint32_t *cps = malloc(len * sizeof *cps), *lens = NULL;
    size_t n_lens = 0, n = 0, max_bytes = 0;
    chord_status st = CHORD_E_NOMEM;
    if (!cps) goto done;
    n = decode_all(text, len, cps);
    if ((st = chord_pretokenize(t->pre, cps, n, &lens, &n_lens)) != CHORD_OK) goto done;
    /* Buffers sized for the longest word, not the whole fragment. */
    for (size_t w = 0, at = 0; w < n_lens; at += lens[w++]) {
        size_t nb = 0;
        for (size_t i = at; i < at + lens[w]; i++) nb += utf8_len(cps[i]);
        if (nb > max_bytes) max_bytes = nb;
    }
    st = CHORD_E_NOMEM;
    b.word = malloc(max_bytes + 4);
    b.enc = malloc(2 * max_bytes + 8);
    b.sym = malloc((max_bytes + 1) * sizeof *b.sym);
    if (!b.word || !b.enc || !b.sym || chord_pairq_init(&b.q, max_bytes + 1) != CHORD_OK) goto done;
    st = CHORD_OK;
    for (size_t w = 0, at = 0; w < n_lens && st == CHORD_OK; at += lens[w++]) {
        size_t nb = 0;
        for (size_t i = at; i < at + lens[w]; i++) nb += chord_utf8_encode(cps[i], b.word + nb);
        st = merge_word(&b, nb, out);
    }
done:
    free(cps); free(lens); free(b.word); free(b.enc); free(b.sym); chord_pairq_free(&b.q);
    return st;
}
