/*
 * cli_run.c — `wasm-chord run`: generate text from a prompt with llama.cpp-style flags,
 * streaming it to stdout, or printing one JSON object with --json:
 *   {"prompt_tokens": [...], "tokens": [...], "text": "...",
 *    "timings": {"load_ms": .., "prefill_tok_s": .., "decode_tok_s": ..},
 *    "cache": {"policy": .., "slots": .., "pinned": .., "hits": .., ...}, "peak_memory_bytes": ..
 *    [, "first_top_logits": [[id, logit], ...]]}
 * --tokens "1 2 3" gives the prompt as ids (used as is, no BOS added) and --logits-top K adds
 * the top K logits of the first generated position — the two hooks the parity tests use.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chord.h"
#include "cli.h"

typedef struct {
    const char *model, *prompt, *tokens, *prompt_file;
    long long n_predict, n_ctx, n_threads, n_batch, logits_top;
    chord_sampler_params sp;
    chord_model_params mp;   /* residency, budget, slots, prefetch, policy (cli_mem.c) */
    int json;
} run_opts;

typedef struct {
    int json;
    int32_t *ids;
    size_t n_ids, cap_ids;
    char *text;
    size_t n_text, cap_text;
    int oom;
} run_out;

static void usage(FILE *f) {
    fprintf(f,
        "usage: wasm-chord run -m FILE [-p TEXT | --tokens \"ID ID ...\"] [options]\n"
        "  -m, --model FILE        GGUF model\n"
        "  -p, --prompt TEXT       prompt (BOS added as the model asks; default empty)\n"
        "  -f, --file FILE         read the prompt from FILE (the whole file, newlines included)\n"
        "      --tokens \"1 2 3\"    prompt as token ids, used as given\n"
        "  -n, --n-predict N       tokens to generate (default 128; -1 = until the context is full)\n"
        "  -c, --ctx-size N        context length (default: min(model's, 4096))\n"
        "  -t, --threads N         threads (default: all cores)\n"
        "  -b, --batch-size N      prompt tokens per forward pass (default 64)\n"
        "      --temp T            temperature (default 0.8; 0 = greedy)\n"
        "      --top-k K           (default 40; 0 = off)\n"
        "      --top-p P           (default 0.95; 1 = off)\n"
        "      --min-p P           (default 0.05; 0 = off)\n"
        "      --repeat-penalty R  (default 1 = off)\n"
        "      --repeat-last-n N   window of the repetition penalty (default 64)\n"
        "  -s, --seed N            random seed (default 0)\n"
        "      --ignore-eos        never stop at an end-of-generation token\n"
        "      --no-mmap           read the model into memory instead of mapping it (safe when\n"
        "                          the file may change while it runs)\n"
        "      --json              print one JSON object instead of streaming text\n"
        "      --logits-top K      with --json: top K logits of the first generated position\n"
        "  memory (docs/MEMORY64.md):\n"
        "      --paged             keep model-wide tensors resident, layers in a cache of slots\n"
        "      --resident          every tensor addressable (default: auto, by --mem-budget)\n"
        "      --cache-layers N    layer slots (implies --paged)\n"
        "      --mem-budget SIZE   bytes for weights + KV + scratch (512M, 2G; default: free RAM)\n"
        "      --prefetch D        layers read ahead while one computes (default 1)\n"
        "      --policy pin|lru    slot policy (default pin: pin what fits, stream the rest)\n"
        "      --preload           fill every layer slot before the prompt\n");
}

static int fail(const char *msg, const char *arg) {
    fprintf(stderr, "wasm-chord run: error: %s%s%s\n", msg, arg ? " " : "", arg ? arg : "");
    return 2;
}

/* What an option's value must be, for the error message. */
static const char *expected(const char *opt) {
    static const struct { const char *opt, *what; } t[] = {
        { "-n", "an integer in [-1, 2147483647]" }, { "--n-predict", "an integer in [-1, 2147483647]" },
        { "-c", "an integer in [0, 4294967295]" }, { "--ctx-size", "an integer in [0, 4294967295]" },
        { "-t", "an integer in [0, 1024]" }, { "--threads", "an integer in [0, 1024]" },
        { "-b", "an integer in [1, 4294967295]" }, { "--batch-size", "an integer in [1, 4294967295]" },
        { "--logits-top", "an integer in [0, 2147483647]" }, { "--top-k", "a 32-bit integer" },
        { "--repeat-last-n", "a 32-bit integer" },
        { "-s", "an integer in [0, 18446744073709551615]" }, { "--seed", "an integer in [0, 18446744073709551615]" },
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) if (!strcmp(t[i].opt, opt)) return t[i].what;
    return "a number";
}

/* Returns 0 on success, else the exit code (-1 for --help). */
static int parse_args(int argc, char **argv, run_opts *o) {
    o->sp = chord_sampler_params_default();
    o->mp = chord_model_params_default();
    o->n_predict = 128;
    o->n_batch = 64;
    o->prompt = "";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return -1;
        if (!strcmp(a, "--json")) { o->json = 1; continue; }
        if (!strcmp(a, "--ignore-eos")) { o->sp.ignore_eos = 1; continue; }
        int mem = chord_cli_mem_flag(argc, argv, &i, &o->mp, "run");
        if (mem < 0) return 2;
        if (mem > 0) continue;
        if (i + 1 >= argc) return fail("missing value after", a);
        const char *v = argv[++i];
        long long l = 0;
        int ok = 1;
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) o->model = v;
        else if (!strcmp(a, "-p") || !strcmp(a, "--prompt")) o->prompt = v;
        else if (!strcmp(a, "-f") || !strcmp(a, "--file")) o->prompt_file = v;
        else if (!strcmp(a, "--tokens")) o->tokens = v;
        else if (!strcmp(a, "-n") || !strcmp(a, "--n-predict")) ok = chord_cli_int(v, -1, INT32_MAX, &o->n_predict);
        else if (!strcmp(a, "-c") || !strcmp(a, "--ctx-size")) ok = chord_cli_int(v, 0, UINT32_MAX, &o->n_ctx);
        else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) ok = chord_cli_int(v, 0, 1024, &o->n_threads);
        else if (!strcmp(a, "-b") || !strcmp(a, "--batch-size")) ok = chord_cli_int(v, 1, UINT32_MAX, &o->n_batch);
        else if (!strcmp(a, "--logits-top")) ok = chord_cli_int(v, 0, INT32_MAX, &o->logits_top);
        else if (!strcmp(a, "--temp")) ok = chord_cli_float(v, &o->sp.temperature);
        else if (!strcmp(a, "--top-k")) { ok = chord_cli_int(v, INT32_MIN, INT32_MAX, &l); o->sp.top_k = (int32_t)l; }
        else if (!strcmp(a, "--top-p")) ok = chord_cli_float(v, &o->sp.top_p);
        else if (!strcmp(a, "--min-p")) ok = chord_cli_float(v, &o->sp.min_p);
        else if (!strcmp(a, "--repeat-penalty")) ok = chord_cli_float(v, &o->sp.repeat_penalty);
        else if (!strcmp(a, "--repeat-last-n")) { ok = chord_cli_int(v, INT32_MIN, INT32_MAX, &l); o->sp.repeat_last_n = (int32_t)l; }
        else if (!strcmp(a, "-s") || !strcmp(a, "--seed")) ok = chord_cli_u64(v, &o->sp.seed);
        else return fail("unknown option", a);
        if (!ok) {
            fprintf(stderr, "wasm-chord run: error: bad value '%s' for %s (expected %s)\n", v, a, expected(a));
            return 2;
        }
    }
    if (!o->model) return fail("-m FILE is required (try --help)", NULL);
    if (!!o->tokens + !!o->prompt_file + (o->prompt[0] != 0) > 1)
        return fail("give only one of -p, -f and --tokens", NULL);
    chord_error err;
    if (chord_sampler_params_check(&o->sp, &err) != CHORD_OK) return fail(err.message, NULL);
    return 0;
}

/* Parses "1 2 3" into ids. */
static int parse_ids(const char *s, int32_t **out, size_t *n) {
    size_t cap = 16;
    int32_t *v = malloc(cap * sizeof *v);
    *n = 0;
    while (v) {
        while (*s == ' ' || *s == ',' || *s == '\t' || *s == '\n') s++;
        if (!*s) break;
        char *end;
        errno = 0;
        long id = strtol(s, &end, 10);
        if (errno || end == s || id < INT32_MIN || id > INT32_MAX) { free(v); return 0; }
        if (*n == cap) {
            int32_t *nv = realloc(v, (cap *= 2) * sizeof *v);
            if (!nv) { free(v); return 0; }
            v = nv;
        }
        v[(*n)++] = (int32_t)id;
        s = end;
    }
    *out = v;
    return v != NULL;
}

static int on_token(void *user, int32_t token, const char *text, size_t len) {
    run_out *o = user;
    if (o->n_ids == o->cap_ids) {
        size_t cap = o->cap_ids ? o->cap_ids * 2 : 64;
        int32_t *v = realloc(o->ids, cap * sizeof *v);
        if (!v) { o->oom = 1; return 1; }
        o->ids = v;
        o->cap_ids = cap;
    }
    if (token >= 0) o->ids[o->n_ids++] = token; /* -1: held-back bytes flushed at the end */
    if (!o->json) {
        fwrite(text, 1, len, stdout);
        fflush(stdout);
        return 0;
    }
    if (o->n_text + len + 1 > o->cap_text) {
        size_t cap = (o->n_text + len + 1) * 2;
        char *t = realloc(o->text, cap);
        if (!t) { o->oom = 1; return 1; }
        o->text = t;
        o->cap_text = cap;
    }
    memcpy(o->text + o->n_text, text, len);
    o->n_text += len;
    return 0;
}

static void json_string(const char *s, size_t n) {
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c == '\n') fputs("\\n", stdout);
        else if (c == '\t') fputs("\\t", stdout);
        else if (c == '\r') fputs("\\r", stdout);
        else if (c < 0x20) printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
}

static void json_ids(const int32_t *v, size_t n) {
    putchar('[');
    for (size_t i = 0; i < n; i++) printf(i ? ", %d" : "%d", v[i]);
    putchar(']');
}

/* The K largest logits, highest first (ties: lower id first). */
static void json_top_logits(const float *logits, int32_t n_vocab, long k) {
    if (k > n_vocab) k = n_vocab;
    int32_t *best = malloc((size_t)(k ? k : 1) * sizeof *best);
    if (!best) { fputs("[]", stdout); return; }
    for (long j = 0; j < k; j++) {
        int32_t b = -1;
        for (int32_t i = 0; i < n_vocab; i++) {
            int taken = 0;
            for (long q = 0; q < j && !taken; q++) taken = best[q] == i;
            if (!taken && (b < 0 || logits[i] > logits[b])) b = i;
        }
        best[j] = b;
    }
    putchar('[');
    for (long j = 0; j < k; j++) printf("%s[%d, %.9g]", j ? ", " : "", best[j], (double)logits[best[j]]);
    putchar(']');
    free(best);
}

static int run(const run_opts *o) {
    chord_error err = { 0 };
    chord_model *model = NULL;
    chord_session *sess = NULL;
    int32_t *prompt = NULL;
    size_t n_prompt = 0;
    run_out out = { .json = o->json };
    int rc = 1;
    char *file_text = NULL;
    chord_model_params mp = o->mp;
    mp.plan_n_ctx = (uint32_t)o->n_ctx;
    if (chord_model_open(&model, o->model, &mp, &err) != CHORD_OK) goto done;
    if (chord_cli_want_preload && chord_model_preload(model, &err) != CHORD_OK) goto done;
    if (o->tokens) {
        if (!parse_ids(o->tokens, &prompt, &n_prompt)) {
            snprintf(err.message, sizeof err.message, "--tokens: expected integers separated by spaces");
            goto done;
        }
    } else {
        const char *text = o->prompt;
        size_t len = strlen(text);
        if (o->prompt_file) {
            file_text = chord_cli_read_file(o->prompt_file, &len);
            if (!file_text) {
                snprintf(err.message, sizeof err.message, "cannot read the prompt file '%s': %s", o->prompt_file,
                         strerror(errno));
                goto done;
            }
            text = file_text;
        }
        size_t cap = len + 16;
        prompt = malloc(cap * sizeof *prompt);
        if (!prompt) {
            snprintf(err.message, sizeof err.message, "out of memory for the prompt");
            goto done;
        }
        if (chord_tokenize(model, text, len, CHORD_TOK_ADD_SPECIAL, prompt, cap, &n_prompt, &err) != CHORD_OK)
            goto done;
    }
    if (n_prompt == 0) {
        snprintf(err.message, sizeof err.message, "the prompt has no tokens (the model adds no BOS): give -p or --tokens");
        goto done;
    }
    chord_session_params sp = chord_session_params_default();
    sp.n_ctx = (uint32_t)o->n_ctx;
    sp.n_threads = (int32_t)o->n_threads;
    sp.n_batch = (uint32_t)o->n_batch;
    if (chord_session_new(&sess, model, &sp, &err) != CHORD_OK) goto done;
    if (chord_session_feed(sess, prompt, n_prompt, &err) != CHORD_OK) goto done;
    chord_model_info info;
    chord_model_get_info(model, &info);
    if (o->json && o->logits_top > 0) {
        printf("{\"first_top_logits\": ");
        json_top_logits(chord_session_logits(sess), info.n_vocab, o->logits_top);
        printf(", ");
    } else if (o->json) {
        printf("{");
    }
    int32_t n_gen = o->n_predict < 0 ? (int32_t)chord_session_n_ctx(sess) : (int32_t)o->n_predict;
    chord_status st = chord_generate(sess, &o->sp, n_gen, on_token, &out, &err);
    if (out.oom) snprintf(err.message, sizeof err.message, "out of memory collecting the output");
    /* a full context ends generation normally for -n -1 */
    if (st == CHORD_E_RANGE && o->n_predict < 0) st = CHORD_OK;
    chord_stats stats;
    chord_session_stats(sess, &stats);
    if (o->json) {
        printf("\"prompt_tokens\": ");
        json_ids(prompt, n_prompt);
        printf(", \"tokens\": ");
        json_ids(out.ids, out.n_ids);
        printf(", \"text\": ");
        json_string(out.text ? out.text : "", out.n_text);
        printf(", \"timings\": {\"load_ms\": %.3f, \"prefill_tok_s\": %.3f, \"decode_tok_s\": %.3f}",
               stats.load_ms, stats.prefill_tok_s, stats.decode_tok_s);
        printf(", \"cache\": ");
        chord_cli_cache_json(stdout, model);
        printf(", \"peak_memory_bytes\": %llu}\n", (unsigned long long)stats.peak_memory_bytes);
        chord_cli_cache_summary(stderr, model, stats.n_prefill + stats.n_decode);
    } else {
        putchar('\n');
        fprintf(stderr, "\nwasm-chord: %llu prompt tokens at %.1f tok/s, %llu generated at %.1f tok/s, load %.0f ms\n",
                (unsigned long long)stats.n_prefill, stats.prefill_tok_s, (unsigned long long)stats.n_decode,
                stats.decode_tok_s, stats.load_ms);
        chord_cli_cache_summary(stderr, model, stats.n_prefill + stats.n_decode);
    }
    fflush(stdout);
    rc = (st == CHORD_OK && !out.oom) ? 0 : 1;
done:
    if (rc) fprintf(stderr, "wasm-chord run: error: %s\n", err.message[0] ? err.message : "failed");
    chord_session_free(sess);
    chord_model_free(model);
    free(prompt);
    free(file_text);
    free(out.ids);
    free(out.text);
    return rc;
}

int chord_cli_run(int argc, char **argv) {
    run_opts o = { 0 };
    int rc = parse_args(argc, argv, &o);
    if (rc == -1) { usage(stdout); return 0; }
    if (rc) return rc;
    return run(&o);
}
