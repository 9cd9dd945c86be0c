/*
 * cli_template.c — `wasm-chord template -m FILE --messages CONV.json [--template FILE]
 * [--tokens]` prints the prompt the model's chat template (tokenizer.chat_template) renders for
 * a conversation, byte for byte, with no added newline — for users debugging a template and
 * for the comparison with Python's jinja2 (tests/t_chat_template.sh).
 * CONV.json: {"messages": [...], "tools": [...], "add_generation_prompt": true, other keys =
 * template variables}. Without -m, --template is required and --bos/--eos give the tokens.
 * --tokens prints the token ids chord_chat_tokenize makes of the rendered prompt instead.
 * Errors: one line "wasm-chord: error: ..." on stderr, exit 1 (2 for usage).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chord.h"
#include "cli.h"

static void usage(FILE *f) {
    fprintf(f,
        "usage: wasm-chord template [-m FILE] --messages CONV.json [--template FILE] [--bos T] [--eos T] [--tokens]\n"
        "  -m, --model FILE       GGUF file whose tokenizer.chat_template and BOS/EOS are used\n"
        "      --messages FILE    conversation: {\"messages\":[...], \"tools\":[...], \"add_generation_prompt\":true, ...}\n"
        "      --template FILE    use this Jinja template instead of the model's\n"
        "      --bos T, --eos T   bos_token/eos_token when no model is given\n"
        "      --tokens           print the token ids of the rendered prompt (needs -m)\n"
        "  -h, --help             this help\n");
}

static int print_tokens(const chord_model *m, const char *text, size_t n) {
    chord_error err;
    size_t cap = n + 16, got = 0;
    int32_t *ids = malloc(cap * sizeof *ids);
    if (!ids) { fprintf(stderr, "wasm-chord: error: out of memory\n"); return 1; }
    if (chord_chat_tokenize(m, text, n, ids, cap, &got, &err) != CHORD_OK) {
        fprintf(stderr, "wasm-chord: error: %s\n", err.message);
        free(ids);
        return 1;
    }
    for (size_t i = 0; i < got; i++) printf(i ? " %d" : "%d", ids[i]);
    printf("\n");
    free(ids);
    return 0;
}

int chord_cli_template(int argc, char **argv) {
    const char *model = NULL, *conv_path = NULL, *tmpl_path = NULL, *bos = NULL, *eos = NULL;
    int tokens = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if ((!strcmp(a, "-m") || !strcmp(a, "--model")) && i + 1 < argc) model = argv[++i];
        else if (!strcmp(a, "--messages") && i + 1 < argc) conv_path = argv[++i];
        else if (!strcmp(a, "--template") && i + 1 < argc) tmpl_path = argv[++i];
        else if (!strcmp(a, "--bos") && i + 1 < argc) bos = argv[++i];
        else if (!strcmp(a, "--eos") && i + 1 < argc) eos = argv[++i];
        else if (!strcmp(a, "--tokens")) tokens = 1;
        else {
            fprintf(stderr, "wasm-chord: error: template: unknown or incomplete option '%s' (try --help)\n", a);
            return 2;
        }
    }
    if (!conv_path || (!model && !tmpl_path) || (tokens && !model)) { usage(stderr); return 2; }
    size_t conv_n = 0, tmpl_n = 0;
    char *conv = chord_cli_read_file(conv_path, &conv_n), *tmpl = NULL;
    if (!conv) { fprintf(stderr, "wasm-chord: error: cannot read '%s'\n", conv_path); return 1; }
    if (tmpl_path && !(tmpl = chord_cli_read_file(tmpl_path, &tmpl_n))) {
        fprintf(stderr, "wasm-chord: error: cannot read '%s'\n", tmpl_path);
        free(conv);
        return 1;
    }
    chord_error err;
    chord_model *m = NULL;
    int rc = 1;
    char *out = NULL;
    size_t out_n = 0;
    chord_status st;
    if (model) {
        chord_model_params mp = chord_model_params_default();
        mp.vocab_only = 1;
        if (chord_model_open(&m, model, &mp, &err) != CHORD_OK) {
            fprintf(stderr, "wasm-chord: error: %s\n", err.message);
            goto done;
        }
        st = chord_chat_render_ex(m, tmpl, tmpl_n, conv, conv_n, NULL, &out, &out_n, &err);
    } else {
        st = chord_chat_render_template(tmpl, tmpl_n, bos, eos, conv, conv_n, &out, &out_n, &err);
    }
    if (st != CHORD_OK) { fprintf(stderr, "wasm-chord: error: %s\n", err.message); goto done; }
    if (tokens) rc = print_tokens(m, out, out_n);
    else rc = fwrite(out, 1, out_n, stdout) == out_n && fflush(stdout) == 0 ? 0 : 1;
done:
    chord_free(out);
    chord_model_free(m);
    free(conv);
    free(tmpl);
    return rc;
}
