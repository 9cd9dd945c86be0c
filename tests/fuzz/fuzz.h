/*
 * fuzz.h — shared pieces of the libFuzzer targets (tests/fuzz/fuzz_*.c, one file per target;
 * mk/fuzz.mk finds them by name). A target defines LLVMFuzzerTestOneInput and may use:
 *  - fuzz_vocab(i): vocabulary i of FUZZ_N_VOCABS (vocab/ggml-vocab-*.gguf, opened vocab_only
 *    once per process; $CHORD_VOCAB_DIR overrides the folder), or abort with a message;
 *    FUZZ_INIT_VOCABS defines LLVMFuzzerInitialize to open them all before the first input, so
 *    that the one-time load (seconds under ASan for llama-bpe's 280K merges, more on a busy
 *    machine) is never counted against an input's -timeout;
 *  - fuzz_open_memory(): a model from the input bytes (a memory source, no file);
 *  - FUZZ_REQUIRE(cond): an invariant of the API; a violation aborts, which libFuzzer reports
 *    as a finding with its reproducer.
 * Targets run under ASan + UBSan (-fno-sanitize-recover), so any memory error, leak or UB is a
 * finding too. Every input must be handled in bounded time and memory.
 */
#ifndef CHORD_FUZZ_H
#define CHORD_FUZZ_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chord.h"

#define FUZZ_REQUIRE(cond) do { if (!(cond)) { \
    fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__, #cond); abort(); } } while (0)

#define FUZZ_N_VOCABS 3
__attribute__((unused)) static const chord_model *fuzz_vocab(int i) {
    static const char *names[FUZZ_N_VOCABS] = { "ggml-vocab-llama-spm.gguf", "ggml-vocab-llama-bpe.gguf",
                                                "ggml-vocab-gpt-2.gguf" };
    static chord_model *models[FUZZ_N_VOCABS];
    i %= FUZZ_N_VOCABS;
    if (!models[i]) {
        const char *dir = getenv("CHORD_VOCAB_DIR");
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "vocab", names[i]);
        chord_model_params mp = chord_model_params_default();
        mp.vocab_only = 1;
        chord_error err;
        if (chord_model_open(&models[i], path, &mp, &err) != CHORD_OK) {
            fprintf(stderr, "fuzz: cannot open %s: %s (run from the repository root or set CHORD_VOCAB_DIR)\n",
                    path, err.message);
            abort();
        }
    }
    return models[i];
}

#define FUZZ_INIT_VOCABS \
    int LLVMFuzzerInitialize(int *argc, char ***argv); \
    int LLVMFuzzerInitialize(int *argc, char ***argv) { \
        (void)argc; (void)argv; \
        for (int i = 0; i < FUZZ_N_VOCABS; i++) fuzz_vocab(i); \
        return 0; \
    }

/* The input as a model file held in memory (copied: the source must outlive the call). */
__attribute__((unused)) static chord_status fuzz_open_memory(const uint8_t *data, size_t size, int vocab_only,
                                                             chord_model **m, uint8_t **copy) {
    *copy = malloc(size ? size : 1);
    if (!*copy) return CHORD_E_NOMEM;
    if (size) memcpy(*copy, data, size);
    chord_source src;
    chord_status st = chord_source_from_memory(&src, *copy, size);
    if (st != CHORD_OK) return st;
    chord_model_params mp = chord_model_params_default();
    mp.vocab_only = vocab_only;
    chord_error err;
    return chord_model_open_source(m, &src, &mp, &err);
}
#endif
