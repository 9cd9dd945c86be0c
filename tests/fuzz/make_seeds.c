/*
 * make_seeds.c — writes the generated seeds of the fuzz corpora (make fuzz-seeds): tiny models
 * for fuzz_load / fuzz_gguf_meta, id sequences for fuzz_detok, parameter sets for fuzz_sampler,
 * short texts with each flag byte for fuzz_tokenize. The files are committed; rerun only when
 * a target's input format changes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tiny_model.h"

static const char *root;

static void put(const char *target, const char *name, const void *data, size_t n) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, target);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", root, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n) { perror(path); exit(1); }
    fclose(f);
}

static void model_seed(const char *name, const tiny_spec *s) {
    const char *tmp = "/tmp/chord_make_seeds.gguf";
    if (!tiny_model_write(tmp, s)) exit(1);
    FILE *f = fopen(tmp, "rb");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) exit(1);
    fclose(f);
    remove(tmp);
    put("load", name, b, (size_t)n);
    put("gguf_meta", name, b, (size_t)n);
    free(b);
}

int main(int argc, char **argv) {
    root = argc > 1 ? argv[1] : "tests/fuzz/corpus";
    const char *small[] = { "a", "<s>", "</s>", "b" };
    tiny_spec z = { small, 4, 0.0f, CHORD_TYPE_F32, NULL };
    model_seed("tiny_zero.gguf", &z);
    tiny_spec r = { small, 4, 1.0f, CHORD_TYPE_F32, NULL };
    model_seed("tiny_random.gguf", &r);
    const char *utf[] = { "\xe4\xb8", "<s>", "</s>", "\xad", "\xc3\xa9t\xc3\xa9" };
    tiny_spec u = { utf, 5, 1.0f, CHORD_TYPE_F32, NULL };
    model_seed("tiny_partial_utf8.gguf", &u);

    const char *texts[] = { "Hello world", " leading space", "<s>special</s> and <|eot_id|>", "\xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80",
                            "3333 numbers 12345", "   \n\n\t tabs", "don't you're I'll", "\xff\xfe invalid \xc0\x80" };
    for (int v = 0; v < 16; v++) {
        const char *t = texts[v % 8];
        size_t n = strlen(t);
        char buf[128];
        buf[0] = (char)v;
        memcpy(buf + 1, t, n);
        char name[32];
        snprintf(name, sizeof name, "text_%02d", v);
        put("tokenize", name, buf, n + 1);
    }
    for (int v = 0; v < 3; v++) {
        uint8_t buf[1 + 4 * 8];
        buf[0] = (uint8_t)v;
        int32_t ids[8] = { 1, 15043, 3186, 29871, 13, 250, 0x7fffffff, -5 };
        memcpy(buf + 1, ids, sizeof ids);
        char name[32];
        snprintf(name, sizeof name, "ids_%d", v);
        put("detok", name, buf, sizeof buf);
    }
    for (int k = 0; k < 4; k++) {
        uint8_t buf[34 + 4 * 16 + 8];
        memset(buf, 0, sizeof buf);
        float temp[] = { 0.0f, 0.8f, 1.5f, 0.3f }, top_p[] = { 1.0f, 0.95f, 0.5f, 0.1f }, min_p[] = { 0, 0.05f, 0.2f, 0 };
        float pen[] = { 1.0f, 1.1f, 1.3f, 0.9f };
        int32_t top_k[] = { 0, 40, 3, 1 }, last_n[] = { 64, 8, 0, 2 };
        memcpy(buf, &temp[k], 4); memcpy(buf + 4, &top_k[k], 4); memcpy(buf + 8, &top_p[k], 4);
        memcpy(buf + 12, &min_p[k], 4); memcpy(buf + 16, &pen[k], 4); memcpy(buf + 20, &last_n[k], 4);
        uint64_t seed = 1234u + (uint64_t)k;
        memcpy(buf + 24, &seed, 8);
        buf[32] = 16; buf[33] = 0; /* n_vocab 17 */
        for (int i = 0; i < 16; i++) { float l = (float)((i * 7) % 5) - 2.0f; memcpy(buf + 34 + 4 * i, &l, 4); }
        for (int i = 0; i < 4; i++) { buf[34 + 64 + 2 * i] = (uint8_t)(i + 1); buf[34 + 64 + 2 * i + 1] = 0; }
        char name[32];
        snprintf(name, sizeof name, "params_%d", k);
        put("sampler", name, buf, sizeof buf);
    }
    return 0;
}
