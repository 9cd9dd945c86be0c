/*
 * fuzz_gguf_meta.c — a GGUF header from memory through the metadata getters: the typed getters
 * of src/gguf (chord_gguf_get_u32/i32/u64/f32/bool/str/arr) on every key with every type, and
 * the public chord_model_meta_key/value of a vocab_only load with a roomy and a tiny buffer.
 * Invariants: a getter on a key that is present never answers not_found or internal (type and
 * range are the refusals); array elements are all inside the file; meta_value always NUL-terminates, CHORD_E_BUFFER only for a cut value.
 */
#include "fuzz.h"
#include "gguf/gguf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    chord_source src;
    if (chord_source_from_memory(&src, data, size) != CHORD_OK) return 0;
    chord_gguf *g = NULL;
    chord_error err;
    if (chord_gguf_open(&g, &src, &err) == CHORD_OK) {
        uint64_t n = chord_gguf_n_kv(g);
        for (uint64_t i = 0; i < n && i < 512; i++) {
            const char *key = chord_gguf_key(g, i);
            FUZZ_REQUIRE(key != NULL);
            uint32_t u32; int32_t i32; uint64_t u64; float f; int b; chord_str s;
            chord_status st[6] = {
                chord_gguf_get_u32(g, key, &u32, &err), chord_gguf_get_i32(g, key, &i32, &err),
                chord_gguf_get_u64(g, key, &u64, &err), chord_gguf_get_f32(g, key, &f, &err),
                chord_gguf_get_bool(g, key, &b, &err), chord_gguf_get_str(g, key, &s, &err),
            };
            for (int k = 0; k < 6; k++) FUZZ_REQUIRE(st[k] != CHORD_E_INTERNAL && st[k] != CHORD_E_NOT_FOUND);
            for (int e = 0; e < CHORD_GGUF_NTYPES; e++) {
                uint64_t at = 0, count = 0;
                chord_status as = chord_gguf_get_arr(g, key, (chord_gguf_vtype)e, &at, &count, &err);
                if (as != CHORD_OK) continue;
                FUZZ_REQUIRE(at < n && chord_gguf_arr_n(g, at) == count);
                volatile uint8_t sink = 0; /* touch every element: ASan checks the bounds */
                if (e == CHORD_GGUF_STRING) {
                    for (uint64_t j = 0; j < count && j < 4096; j++) {
                        chord_str str = chord_gguf_arr_str(g, at, j);
                        if (str.len) sink ^= (uint8_t)str.ptr[str.len - 1];
                    }
                } else if (count) {
                    const uint8_t *raw = chord_gguf_arr_data(g, at);
                    FUZZ_REQUIRE(raw != NULL);
                    sink ^= raw[0];
                }
                (void)sink;
            }
        }
        chord_gguf_close(g);
    }
    chord_source_close(&src);

    chord_model *m = NULL;
    uint8_t *copy = NULL;
    if (fuzz_open_memory(data, size, 1, &m, &copy) == CHORD_OK) {
        size_t n = chord_model_meta_count(m);
        char big[4096], tiny[4];
        for (size_t i = 0; i < n && i < 512; i++) {
            FUZZ_REQUIRE(chord_model_meta_key(m, i) != NULL);
            chord_status a = chord_model_meta_value(m, i, big, sizeof big);
            FUZZ_REQUIRE((a == CHORD_OK || a == CHORD_E_BUFFER) && memchr(big, 0, sizeof big));
            chord_status t = chord_model_meta_value(m, i, tiny, sizeof tiny);
            FUZZ_REQUIRE((t == CHORD_OK || t == CHORD_E_BUFFER) && memchr(tiny, 0, sizeof tiny));
        }
        FUZZ_REQUIRE(chord_model_meta_key(m, n) == NULL);
    }
    chord_model_free(m);
    free(copy);
    return 0;
}
