/*
 * fuzz_tokenize.c — text through the tokenizer of each test vocabulary (SPM llama, BPE llama3,
 * BPE gpt-2), with and without special-token parsing and BOS/EOS. Input: byte 0 picks the
 * vocabulary (bits 0-1) and the flags (bits 2-3); the rest is the text (any bytes, invalid
 * UTF-8 included). Invariants: a too-small buffer answers CHORD_E_BUFFER with the size needed,
 * and the retry with that size succeeds with the same count; every id is inside the vocabulary;
 * the ids detokenize without error.
 * Seeds: short texts with each flag byte (tests/fuzz/make_seeds.c).
 */
#include "fuzz.h"

FUZZ_INIT_VOCABS

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 4096) return 0;
    const chord_model *m = fuzz_vocab(data[0] & 3);
    int flags = ((data[0] >> 2) & 1 ? CHORD_TOK_PARSE_SPECIAL : 0) | ((data[0] >> 3) & 1 ? CHORD_TOK_ADD_SPECIAL : 0);
    const char *text = (const char *)data + 1;
    size_t len = size - 1, need = 0;
    chord_error err;
    int32_t one;
    chord_status st = chord_tokenize(m, text, len, flags, &one, 1, &need, &err);
    FUZZ_REQUIRE(st == CHORD_OK || st == CHORD_E_BUFFER);
    FUZZ_REQUIRE(st == CHORD_OK ? need <= 1 : need > 1);
    int32_t *ids = malloc((need ? need : 1) * sizeof *ids);
    if (!ids) return 0;
    size_t got = 0;
    FUZZ_REQUIRE(chord_tokenize(m, text, len, flags, ids, need, &got, &err) == CHORD_OK && got == need);
    chord_model_info info;
    chord_model_get_info(m, &info);
    for (size_t i = 0; i < got; i++) FUZZ_REQUIRE(ids[i] >= 0 && ids[i] < info.n_vocab);
    size_t n_text = 0;
    st = chord_detokenize(m, ids, got, NULL, 0, &n_text, &err);
    FUZZ_REQUIRE(st == CHORD_OK || st == CHORD_E_BUFFER);
    free(ids);
    return 0;
}
