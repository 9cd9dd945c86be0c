/*
 * fuzz_load.c — a GGUF file from memory: open it as a model and, when that succeeds, run a
 * session of at most 16 positions: feed BOS (or token 0) and generate 2 tokens. Invariants:
 * every failure is a status with a message; generated ids are inside the vocabulary.
 * Seeds: tiny models (tests/tiny_model.h) and the malformed files of tests/data/bad.
 */
#include "fuzz.h"

typedef struct { int32_t n_vocab; int n; } gen_check;

static int on_token(void *user, int32_t token, const char *text, size_t len) {
    gen_check *g = user;
    FUZZ_REQUIRE(token == -1 || (token >= 0 && token < g->n_vocab));
    FUZZ_REQUIRE(len == 0 || text != NULL);
    g->n++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    chord_model *m = NULL;
    uint8_t *copy = NULL;
    if (fuzz_open_memory(data, size, 0, &m, &copy) != CHORD_OK) { free(copy); return 0; }
    chord_model_info info;
    FUZZ_REQUIRE(chord_model_get_info(m, &info) == CHORD_OK && info.n_vocab > 0);
    chord_session_params sp = chord_session_params_default();
    sp.n_ctx = info.n_ctx_train > 0 && info.n_ctx_train < 16 ? (uint32_t)info.n_ctx_train : 16;
    sp.n_threads = 1;
    chord_session *s = NULL;
    chord_error err;
    if (chord_session_new(&s, m, &sp, &err) == CHORD_OK) {
        int32_t first = info.bos >= 0 && info.bos < info.n_vocab ? info.bos : 0;
        if (chord_session_feed(s, &first, 1, &err) == CHORD_OK) {
            chord_sampler_params p = chord_sampler_params_default();
            p.temperature = 0;
            gen_check g = { info.n_vocab, 0 };
            chord_status st = chord_generate(s, &p, 2, on_token, &g, &err);
            FUZZ_REQUIRE(st == CHORD_OK || err.message[0]);
            FUZZ_REQUIRE(g.n <= 3);
        }
    }
    chord_session_free(s);
    chord_model_free(m);
    free(copy);
    return 0;
}
