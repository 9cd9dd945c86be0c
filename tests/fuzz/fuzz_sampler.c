/*
 * fuzz_sampler.c — sampler parameters and logits from raw bytes: NaN, infinities, negative and
 * huge values included. Input: 32 bytes of parameters (temperature, top_k, top_p, min_p,
 * repeat_penalty, repeat_last_n, seed), then n_vocab (2 bytes) and the logits (float32) and a
 * history of ids. Invariants: chord_sampler_params_check decides; when it accepts, the sampler
 * is created and every pick is inside [0, n_vocab) (or -1 when no candidate is left), twice
 * in a row from the same seed gives the same pick.
 */
#include <math.h>
#include "fuzz.h"

static float f32_at(const uint8_t *p) { float f; memcpy(&f, p, 4); return f; }
static int32_t i32_at(const uint8_t *p) { int32_t v; memcpy(&v, p, 4); return v; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 34) return 0;
    chord_sampler_params p = chord_sampler_params_default();
    p.temperature = f32_at(data);
    p.top_k = i32_at(data + 4);
    p.top_p = f32_at(data + 8);
    p.min_p = f32_at(data + 12);
    p.repeat_penalty = f32_at(data + 16);
    p.repeat_last_n = i32_at(data + 20);
    memcpy(&p.seed, data + 24, 8);
    p.ignore_eos = 0;
    int32_t n_vocab = (int32_t)(1 + (data[32] | data[33] << 8) % 4096);
    const uint8_t *rest = data + 34;
    size_t n_rest = size - 34;
    float *logits = calloc((size_t)n_vocab, sizeof *logits);
    int32_t *hist = malloc(64 * sizeof *hist);
    if (!logits || !hist) { free(logits); free(hist); return 0; }
    for (int32_t i = 0; i < n_vocab && 4 * (size_t)i + 4 <= n_rest; i++) logits[i] = f32_at(rest + 4 * i);
    size_t used = 4 * (size_t)n_vocab < n_rest ? 4 * (size_t)n_vocab : n_rest, n_hist = 0;
    for (; n_hist < 64 && used + 2 <= n_rest; n_hist++, used += 2)
        hist[n_hist] = (int32_t)((rest[used] | rest[used + 1] << 8) % (n_vocab + 3)) - 1; /* -1 and > n_vocab too */
    chord_error err;
    if (chord_sampler_params_check(&p, &err) == CHORD_OK) {
        chord_sampler *a = NULL, *b = NULL;
        FUZZ_REQUIRE(chord_sampler_new(&a, &p, &err) == CHORD_OK && chord_sampler_new(&b, &p, &err) == CHORD_OK);
        int32_t ta = chord_sampler_sample(a, NULL, logits, n_vocab, hist, n_hist);
        int32_t tb = chord_sampler_sample(b, NULL, logits, n_vocab, hist, n_hist);
        FUZZ_REQUIRE(ta >= -1 && ta < n_vocab);
        FUZZ_REQUIRE(ta == tb);
        chord_sampler_free(a);
        chord_sampler_free(b);
    } else {
        FUZZ_REQUIRE(err.code == CHORD_E_INVALID_ARG && err.message[0]);
    }
    free(logits);
    free(hist);
    return 0;
}
