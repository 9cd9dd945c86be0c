/*
 * cli_tokenize.c — `wasm-chord tokenize -m FILE (-p TEXT | --file INPUT) [--no-bos]
 * [--parse-special] [--pieces]`: prints the token ids of a text on one line, separated by
 * spaces. The whole input file is one text (newlines included). Works on vocabulary-only GGUFs
 * (metadata, no tensors): the model is opened with vocab_only.
 * BOS/EOS are added as the model's metadata asks unless --no-bos is given; --parse-special
 * matches special/control token texts (e.g. "<|eot_id|>") inside the input.
 * Bad input: one line "wasm-chord: error: ..." on stderr and exit status 1 (2 for usage).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chord.h"
#include "cli.h"

static void usage(FILE *f) {
    fprintf(f,
        "usage: wasm-chord tokenize -m FILE (-p TEXT | --file INPUT) [--no-bos] [--parse-special] [--pieces]\n"
        "  -m, --model FILE     GGUF file (a vocabulary-only file is enough)\n"
        "  -p, --prompt TEXT    text to tokenize\n"
        "  -f, --file INPUT     tokenize the whole file as one text\n"
        "      --no-bos         do not add BOS/EOS even if the model asks for them\n"
        "      --parse-special  match special token texts in the input\n"
        "      --pieces         also print each token's text (escaped), one per line\n"
        "  -h, --help           this help\n");
}

static void print_piece(const chord_model *m, int32_t id) {
    char buf[8192];
    size_t n = 0;
    printf("%d\t'", id);
    if (chord_token_piece(m, id, buf, sizeof buf, &n) == CHORD_OK) {
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)buf[i];
            if (c == '\n') fputs("\\n", stdout);
            else if (c == '\\' || c == '\'') printf("\\%c", c);
            else if (c < 0x20 || c == 0x7f) printf("\\x%02x", c);
            else putchar(c);
        }
    }
    puts("'");
}

int chord_cli_tokenize(int argc, char **argv) {
    const char *model = NULL, *prompt = NULL, *file = NULL;
    int flags = CHORD_TOK_ADD_SPECIAL, pieces = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if ((!strcmp(a, "-m") || !strcmp(a, "--model")) && i + 1 < argc) model = argv[++i];
        else if ((!strcmp(a, "-p") || !strcmp(a, "--prompt")) && i + 1 < argc) prompt = argv[++i];
        else if ((!strcmp(a, "-f") || !strcmp(a, "--file")) && i + 1 < argc) file = argv[++i];
        else if (!strcmp(a, "--no-bos")) flags &= ~CHORD_TOK_ADD_SPECIAL;
        else if (!strcmp(a, "--parse-special")) flags |= CHORD_TOK_PARSE_SPECIAL;
        else if (!strcmp(a, "--pieces")) pieces = 1;
        else {
            fprintf(stderr, "wasm-chord: error: tokenize: unknown or incomplete option '%s' (try --help)\n", a);
            return 2;
        }
    }
    if (!model || (!prompt) == (!file)) {
        fprintf(stderr, "wasm-chord: error: tokenize: need -m FILE and exactly one of -p TEXT or --file INPUT\n");
        return 2;
    }
    size_t len = 0;
    char *text = NULL;
    if (file) {
        text = chord_cli_read_file(file, &len);
        if (!text) { fprintf(stderr, "wasm-chord: error: %s: cannot read the input file\n", file); return 1; }
    } else len = strlen(prompt);
    chord_error err;
    chord_model *m = NULL;
    chord_model_params mp = chord_model_params_default();
    mp.vocab_only = 1;
    int rc = 1;
    if (chord_model_open(&m, model, &mp, &err) != CHORD_OK) {
        fprintf(stderr, "wasm-chord: error: %s: %s\n", model, err.message);
        free(text);
        return 1;
    }
    const char *src = file ? text : prompt;
    size_t n = 0;
    chord_tokenize(m, src, len, flags, NULL, 0, &n, NULL);  /* ask for the count */
    int32_t *ids = malloc((n ? n : 1) * sizeof *ids);
    if (!ids) fprintf(stderr, "wasm-chord: error: out of memory for %zu tokens\n", n);
    else if (chord_tokenize(m, src, len, flags, ids, n, &n, &err) != CHORD_OK)
        fprintf(stderr, "wasm-chord: error: tokenize: %s\n", err.message);
    else {
        for (size_t i = 0; i < n; i++) printf(i ? " %d" : "%d", ids[i]);
        putchar('\n');
        if (pieces) for (size_t i = 0; i < n; i++) print_piece(m, ids[i]);
        rc = 0;
    }
    free(ids);
    free(text);
    chord_model_free(m);
    return rc;
}
