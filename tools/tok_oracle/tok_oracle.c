/*
 * tok_oracle.c — llama.cpp's tokenizer as a reference for tests/t_tokenizer_oracle.sh: reads
 * texts separated by "\n__ggml_vocab_test__\n" (llama.cpp's vocab test format; arbitrary bytes,
 * NULs included) and prints, per text, three lines:
 *   ids of llama_tokenize(add_special = false, parse_special = false)
 *   ids of llama_tokenize(add_special = true,  parse_special = true)
 *   hex of llama_detokenize(first ids, remove_special = false, unparse_special = true)
 * Our side prints the same with `test_tokenizer --dump`; the script diffs the two.
 * `tok_oracle MODEL --eog` prints the ids llama_vocab_is_eog accepts, and BOS/EOS, on one line.
 * Built against the prebuilt libllama from npm (see mk/tokenizer.mk); never part of `all`.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llama.h"

#ifndef ORACLE_BINS
#define ORACLE_BINS "node_modules/@node-llama-cpp/linux-x64/bins/linux-x64"
#endif

static void quiet_log(enum ggml_log_level level, const char *text, void *user) {
    (void)user;
    if (level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

static char *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)sz + 1);
    *n = fread(b, 1, (size_t)sz, f);
    fclose(f);
    return b;
}

static int tokenize(const struct llama_vocab *v, const char *s, size_t len, bool add, bool parse, llama_token **out) {
    int cap = (int)len + 16;
    *out = malloc((size_t)cap * sizeof **out);
    int n = llama_tokenize(v, s, (int32_t)len, *out, cap, add, parse);
    if (n < 0) {
        cap = -n;
        *out = realloc(*out, (size_t)cap * sizeof **out);
        n = llama_tokenize(v, s, (int32_t)len, *out, cap, add, parse);
    }
    return n;
}

static void print_ids(const llama_token *ids, int n) {
    for (int i = 0; i < n; i++) printf(i ? " %d" : "%d", ids[i]);
    putchar('\n');
}

static void one(const struct llama_vocab *v, const char *s, size_t len) {
    llama_token *ids, *ids2;
    int n = tokenize(v, s, len, false, false, &ids);
    print_ids(ids, n);
    int n2 = tokenize(v, s, len, true, true, &ids2);
    print_ids(ids2, n2);
    int cap = 64 + 8 * (int)len;
    char *text = malloc((size_t)cap);
    int k = llama_detokenize(v, ids, n, text, cap, false, true);
    if (k < 0) { cap = -k; text = realloc(text, (size_t)cap); k = llama_detokenize(v, ids, n, text, cap, false, true); }
    for (int i = 0; i < k; i++) printf("%02x", (unsigned char)text[i]);
    putchar('\n');
    free(ids); free(ids2); free(text);
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: tok_oracle MODEL INPUTS\n"); return 2; }
    llama_log_set(quiet_log, NULL);
    const char *bins = getenv("ORACLE_BINS");
    ggml_backend_load_all_from_path(bins ? bins : ORACLE_BINS);
    llama_backend_init();
    struct llama_model_params mp = llama_model_default_params();
    mp.vocab_only = true;
    struct llama_model *m = llama_model_load_from_file(argv[1], mp);
    if (!m) { fprintf(stderr, "tok_oracle: llama.cpp cannot load %s\n", argv[1]); return 1; }
    if (!strcmp(argv[2], "--eog")) {
        const struct llama_vocab *v = llama_model_get_vocab(m);
        printf("bos %d eos %d eog", llama_vocab_bos(v), llama_vocab_eos(v));
        for (int32_t id = 0; id < llama_vocab_n_tokens(v); id++) if (llama_vocab_is_eog(v, id)) printf(" %d", id);
        putchar('\n');
        llama_model_free(m);
        return 0;
    }
    size_t n;
    char *all = read_all(argv[2], &n);
    if (!all) { fprintf(stderr, "tok_oracle: cannot read %s\n", argv[2]); return 1; }
    const char *sep = "\n__ggml_vocab_test__\n";
    size_t sl = strlen(sep), pos = 0;
    while (pos < n) {
        const char *next = NULL;
        for (size_t i = pos; i + sl <= n; i++) if (!memcmp(all + i, sep, sl)) { next = all + i; break; }
        size_t len = next ? (size_t)(next - all) - pos : n - pos;
        one(llama_model_get_vocab(m), all + pos, len);
        if (!next) break;
        pos = (size_t)(next - all) + sl;
    }
    free(all);
    llama_model_free(m);
    return 0;
}
