/*
 * fuzz_detok.c — token ids (any int32, out of range included) through chord_detokenize and the
 * streaming decoder (chord_detok_push / chord_detok_flush) of each test vocabulary. Input:
 * byte 0 picks the vocabulary, the rest is little-endian int32 ids. Invariants: an id outside
 * the vocabulary is CHORD_E_RANGE (never CHORD_E_BUFFER), a too-small buffer is CHORD_E_BUFFER
 * with the size needed; a push into a buffer of chord_detok_max_bytes() never fails for a
 * valid id (what chord_generate relies on) and writes at most that; the streamed bytes are
 * valid UTF-8.
 */
#include "fuzz.h"

/* 1 when s[0..n) is well-formed UTF-8 (RFC 3629: no overlongs, surrogates or > U+10FFFF). */
static int utf8_ok(const uint8_t *s, size_t n) {
    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        size_t k = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (!k || i + k > n || (k == 2 && c < 0xC2)) return 0;
        uint32_t cp = k == 1 ? c : (uint32_t)(c & (0x7F >> k));
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return 0;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += k;
    }
    return 1;
}

FUZZ_INIT_VOCABS

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 4097) return 0;
    const chord_model *m = fuzz_vocab(data[0] & 3);
    chord_model_info info;
    chord_model_get_info(m, &info);
    size_t n = (size - 1) / 4;
    int32_t *ids = malloc((n ? n : 1) * sizeof *ids);
    if (!ids) return 0;
    int all_valid = 1;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = data + 1 + 4 * i;
        uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        /* mostly valid ids: fold large values into the vocabulary unless the top bit asks not to */
        ids[i] = (u & 0x80000000u) && (u & 1) ? (int32_t)u : (int32_t)((u & 0x7FFFFFFFu) % (uint32_t)(info.n_vocab + 2));
        if (ids[i] < 0 || ids[i] >= info.n_vocab) all_valid = 0;
    }
    chord_error err;
    size_t need = 0;
    chord_status st = chord_detokenize(m, ids, n, NULL, 0, &need, &err);
    if (!all_valid) FUZZ_REQUIRE(st == CHORD_E_RANGE);
    else FUZZ_REQUIRE(st == CHORD_OK ? need == 0 : st == CHORD_E_BUFFER);
    if (st == CHORD_E_BUFFER) {
        char *text = malloc(need);
        size_t got = 0;
        if (text) FUZZ_REQUIRE(chord_detokenize(m, ids, n, text, need, &got, &err) == CHORD_OK && got == need);
        free(text);
    }
    size_t cap = chord_detok_max_bytes(m);
    FUZZ_REQUIRE(cap > 0);
    char *buf = malloc(cap);
    chord_detok d;
    chord_detok_init(&d, m);
    for (size_t i = 0; buf && i < n; i++) {
        size_t got = 0;
        st = chord_detok_push(&d, ids[i], buf, cap, &got);
        if (ids[i] < 0 || ids[i] >= info.n_vocab) { FUZZ_REQUIRE(st == CHORD_E_RANGE); continue; }
        FUZZ_REQUIRE(st == CHORD_OK && got <= cap);
        FUZZ_REQUIRE(utf8_ok((const uint8_t *)buf, got));
        size_t small = 0;
        chord_detok copy = d;
        st = chord_detok_push(&copy, ids[i], buf, 0, &small); /* the retry protocol */
        FUZZ_REQUIRE(st == CHORD_OK ? small == 0 : (st == CHORD_E_BUFFER && small > 0 && small <= cap));
    }
    if (buf) {
        size_t k = chord_detok_flush(&d, buf, cap);
        FUZZ_REQUIRE(k <= cap && utf8_ok((const uint8_t *)buf, k) && d.n_pending == 0);
    }
    free(buf);
    free(ids);
    return 0;
}
