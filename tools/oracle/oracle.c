/*
 * oracle.c — the reference: a thin command-line harness over the prebuilt llama.cpp that ships
 * in npm (node-llama-cpp's @node-llama-cpp/linux-x64, libllama v0.5.0). wasm-chord's parity
 * test and benchmark ask it what llama.cpp does on the same GGUF file:
 *
 *   oracle quantize IN OUT TYPE [-t N]       llama_model_quantize (Q4_K_M, Q8_0, Q4_0, F16, ...)
 *   oracle tokenize MODEL TEXT [--no-bos] [--parse-special]
 *                                            token ids, one line
 *   oracle generate MODEL (--tokens "1 2 3" | -p TEXT) [-n 64] [-t N] [--top 5] [--kv f16|f32]
 *                        [--flash-attn on|off|auto]
 *                                            greedy ids as JSON, with the top-2 logit gap at
 *                                            every position and the first position's top logits
 *   oracle tensors MODEL [--hash]            name, type, shape (and a hash of the data) of
 *                                            each tensor, as ggml's own GGUF reader sees them
 *   oracle bench MODEL [-t N] [--prefill 64] [--decode 64] [-r REPS]
 *                                            prefill and decode tokens/s as JSON
 *
 * Greedy decoding here is plain argmax over the raw logits with end-of-generation tokens
 * excluded (llama.cpp's --ignore-eos), ties broken towards the lower id — the same rule our
 * engine follows, so the two token streams are directly comparable. The gap between the best and
 * second-best allowed logit is what decides whether a divergence is a near-tie (numerics) or a
 * bug. llama.cpp's log is silenced unless ORACLE_VERBOSE=1.
 *
 * The CPU backend of this llama.cpp is a separate library per CPU family (libggml-cpu-zen4.so, …)
 * chosen at run time; ggml_backend_load_all_from_path() on the bins folder (ORACLE_BINS, baked
 * in at build time, overridable by the environment) picks the best one for this machine.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "gguf.h"
#include "llama.h"

#ifndef ORACLE_BINS
#define ORACLE_BINS "node_modules/@node-llama-cpp/linux-x64/bins/linux-x64"
#endif

#define MAX_TOKENS 8192

static void die(const char *fmt, const char *arg) {
    fprintf(stderr, "oracle: error: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(1);
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- logging and backend set-up ------------------------------------------------------------ */

static void quiet_log(enum ggml_log_level level, const char *text, void *user) {
    (void)user;
    if (level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

static void init_backend(void) {
    const char *verbose = getenv("ORACLE_VERBOSE");
    if (!verbose || strcmp(verbose, "1") != 0) llama_log_set(quiet_log, NULL);
    const char *bins = getenv("ORACLE_BINS");
    ggml_backend_load_all_from_path(bins ? bins : ORACLE_BINS);
    if (!ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU))
        die("no CPU backend found under %s (libggml-cpu-*.so)", bins ? bins : ORACLE_BINS);
    llama_backend_init();
}

/* ---- argument helpers ------------------------------------------------------------------------ */

static long parse_long(const char *s, const char *what) {
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end) die("bad number for %s", what);
    return v;
}

static const char *need_arg(int argc, char **argv, int *i) {
    if (*i + 1 >= argc) die("option %s needs a value", argv[*i]);
    return argv[++*i];
}

/* Parses "1 2 3" (spaces or commas) into out; returns the count. */
static int parse_tokens(const char *s, llama_token *out, int cap) {
    int n = 0;
    while (*s) {
        while (*s == ' ' || *s == ',' || *s == '\t' || *s == '\n') s++;
        if (!*s) break;
        char *end = NULL;
        long v = strtol(s, &end, 10);
        if (end == s || v < 0 || v > INT32_MAX) die("bad token list near '%s'", s);
        if (n >= cap) die("too many tokens (cap %s)", "8192");
        out[n++] = (llama_token)v;
        s = end;
    }
    return n;
}

static struct llama_model *load_model(const char *path, bool vocab_only) {
    struct llama_model_params mp = llama_model_default_params();
    mp.vocab_only = vocab_only;
    mp.n_gpu_layers = 0;
    struct llama_model *m = llama_model_load_from_file(path, mp);
    if (!m) die("llama.cpp could not load '%s' (ORACLE_VERBOSE=1 shows why)", path);
    return m;
}

static int tokenize_text_special(const struct llama_vocab *v, const char *text, bool add_bos,
                                 bool parse_special, llama_token *out, int cap) {
    int32_t n = llama_tokenize(v, text, (int32_t)strlen(text), out, cap, add_bos, parse_special);
    if (n < 0) die("prompt too long for %s tokens", "8192");
    return n;
}

static int tokenize_text(const struct llama_vocab *v, const char *text, bool add_bos,
                         llama_token *out, int cap) {
    int32_t n = llama_tokenize(v, text, (int32_t)strlen(text), out, cap, add_bos, false);
    if (n < 0) die("prompt too long for %s tokens", "8192");
    return n;
}

/* ---- quantize -------------------------------------------------------------------------------- */

static const struct { const char *name; enum llama_ftype ftype; } ftypes[] = {
    { "F32", LLAMA_FTYPE_ALL_F32 },        { "F16", LLAMA_FTYPE_MOSTLY_F16 },
    { "BF16", LLAMA_FTYPE_MOSTLY_BF16 },   { "Q4_0", LLAMA_FTYPE_MOSTLY_Q4_0 },
    { "Q4_1", LLAMA_FTYPE_MOSTLY_Q4_1 },   { "Q5_0", LLAMA_FTYPE_MOSTLY_Q5_0 },
    { "Q5_1", LLAMA_FTYPE_MOSTLY_Q5_1 },   { "Q8_0", LLAMA_FTYPE_MOSTLY_Q8_0 },
    { "Q2_K", LLAMA_FTYPE_MOSTLY_Q2_K },   { "Q3_K_S", LLAMA_FTYPE_MOSTLY_Q3_K_S },
    { "Q3_K_M", LLAMA_FTYPE_MOSTLY_Q3_K_M }, { "Q3_K_L", LLAMA_FTYPE_MOSTLY_Q3_K_L },
    { "Q4_K_S", LLAMA_FTYPE_MOSTLY_Q4_K_S }, { "Q4_K_M", LLAMA_FTYPE_MOSTLY_Q4_K_M },
    { "Q5_K_S", LLAMA_FTYPE_MOSTLY_Q5_K_S }, { "Q5_K_M", LLAMA_FTYPE_MOSTLY_Q5_K_M },
    { "Q6_K", LLAMA_FTYPE_MOSTLY_Q6_K },
};

static int cmd_quantize(int argc, char **argv) {
    const char *pos[3] = { 0 };
    int n_pos = 0, n_threads = 0;
    bool pure = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-t")) n_threads = (int)parse_long(need_arg(argc, argv, &i), "-t");
        else if (!strcmp(argv[i], "--pure")) pure = true;
        else if (n_pos < 3) pos[n_pos++] = argv[i];
        else die("unexpected argument '%s'", argv[i]);
    }
    if (n_pos != 3) die("usage: oracle quantize IN OUT TYPE [-t N] [--pure]%s", "");
    struct llama_model_quantize_params qp = llama_model_quantize_default_params();
    size_t k = 0;
    for (; k < sizeof ftypes / sizeof ftypes[0]; k++)
        if (!strcasecmp(ftypes[k].name, pos[2])) break;
    if (k == sizeof ftypes / sizeof ftypes[0]) die("unknown quantization type '%s'", pos[2]);
    qp.ftype = ftypes[k].ftype;
    qp.nthread = n_threads;
    qp.pure = pure;
    init_backend();
    double t0 = now_ms();
    if (llama_model_quantize(pos[0], pos[1], &qp) != 0)
        die("llama_model_quantize failed on '%s' (ORACLE_VERBOSE=1 shows why)", pos[0]);
    fprintf(stderr, "oracle: quantized %s -> %s (%s) in %.1f s\n", pos[0], pos[1], ftypes[k].name,
            (now_ms() - t0) / 1e3);
    return 0;
}

/* ---- tokenize -------------------------------------------------------------------------------- */

static int cmd_tokenize(int argc, char **argv) {
    const char *model = NULL, *text = NULL;
    bool bos = true, special = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--no-bos")) bos = false;
        else if (!strcmp(argv[i], "--parse-special")) special = true;
        else if (!model) model = argv[i];
        else if (!text) text = argv[i];
        else die("unexpected argument '%s'", argv[i]);
    }
    if (!model || !text) die("usage: oracle tokenize MODEL TEXT [--no-bos] [--parse-special]%s", "");
    init_backend();
    struct llama_model *m = load_model(model, true);
    static llama_token toks[MAX_TOKENS];
    int n = tokenize_text_special(llama_model_get_vocab(m), text, bos, special, toks, MAX_TOKENS);
    for (int i = 0; i < n; i++) printf(i ? " %d" : "%d", toks[i]);
    printf("\n");
    llama_model_free(m);
    return 0;
}

/* ---- generate -------------------------------------------------------------------------------- */

typedef struct { llama_token id; float logit; } scored;

/* Best and second-best non-EOG logits (lower id wins ties, as a forward scan gives). */
static void top2(const float *logits, int n_vocab, const struct llama_vocab *v, scored *best,
                 scored *second) {
    best->id = second->id = -1;
    best->logit = second->logit = -INFINITY;
    for (int i = 0; i < n_vocab; i++) {
        if (llama_vocab_is_eog(v, i)) continue;
        float x = logits[i];
        if (best->id < 0 || x > best->logit) { *second = *best; best->id = i; best->logit = x; }
        else if (second->id < 0 || x > second->logit) { second->id = i; second->logit = x; }
    }
}

static int cmp_scored(const void *a, const void *b) {
    const scored *x = a, *y = b;
    if (x->logit != y->logit) return x->logit < y->logit ? 1 : -1;
    return x->id < y->id ? -1 : (x->id > y->id);
}

/* Top k of all logits (EOG included: this describes the distribution, not the choice). */
static void print_top(const float *logits, int n_vocab, int k) {
    scored *all = malloc(sizeof *all * (size_t)n_vocab);
    if (!all) die("out of memory%s", "");
    for (int i = 0; i < n_vocab; i++) { all[i].id = i; all[i].logit = logits[i]; }
    qsort(all, (size_t)n_vocab, sizeof *all, cmp_scored);
    printf("[");
    for (int i = 0; i < k && i < n_vocab; i++)
        printf("%s[%d, %.6f]", i ? ", " : "", all[i].id, (double)all[i].logit);
    printf("]");
    free(all);
}

typedef struct {
    const char *model, *tokens, *prompt;
    int n_gen, n_threads, n_top;
    bool f32_kv;
    int flash;            /* -1 auto (llama.cpp's default), 0 off, 1 on */
} gen_opts;

static struct llama_context *make_context(struct llama_model *m, int n_ctx, int n_batch,
                                          int n_threads, bool f32_kv, int flash) {
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = (uint32_t)n_ctx;
    cp.n_batch = cp.n_ubatch = (uint32_t)n_batch;
    cp.n_threads = cp.n_threads_batch = n_threads;
    cp.no_perf = true;
    if (flash >= 0) cp.flash_attn_type = flash ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
    if (f32_kv) cp.type_k = cp.type_v = GGML_TYPE_F32;
    struct llama_context *ctx = llama_init_from_model(m, cp);
    if (!ctx) die("llama_init_from_model failed%s", "");
    return ctx;
}

static void decode_or_die(struct llama_context *ctx, llama_token *toks, int n) {
    if (llama_decode(ctx, llama_batch_get_one(toks, n)) != 0) die("llama_decode failed%s", "");
}

/* A file path as a JSON string body (quotes, backslashes and control bytes escaped). */
static void print_json_str(const char *s) {
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20) printf("\\u%04x", c);
        else putchar(c);
    }
}

static void print_ids(const char *key, const llama_token *t, int n) {
    printf("\"%s\": [", key);
    for (int i = 0; i < n; i++) printf(i ? ", %d" : "%d", t[i]);
    printf("]");
}

static int run_generate(const gen_opts *o) {
    init_backend();
    struct llama_model *m = load_model(o->model, false);
    const struct llama_vocab *v = llama_model_get_vocab(m);
    const int n_vocab = llama_vocab_n_tokens(v);
    static llama_token prompt[MAX_TOKENS];
    int n_prompt = o->tokens ? parse_tokens(o->tokens, prompt, MAX_TOKENS)
                             : tokenize_text(v, o->prompt, true, prompt, MAX_TOKENS);
    if (n_prompt == 0) die("empty prompt%s", "");
    for (int i = 0; i < n_prompt; i++)
        if (prompt[i] >= n_vocab) die("prompt token out of range (n_vocab from %s)", o->model);
    struct llama_context *ctx = make_context(m, n_prompt + o->n_gen + 16, n_prompt > 512 ? n_prompt : 512,
                                             o->n_threads, o->f32_kv, o->flash);
    llama_token *out = calloc((size_t)o->n_gen + 1, sizeof *out);
    scored *second = calloc((size_t)o->n_gen + 1, sizeof *second);
    float *gap = calloc((size_t)o->n_gen + 1, sizeof *gap);
    if (!out || !second || !gap) die("out of memory%s", "");
    decode_or_die(ctx, prompt, n_prompt);
    const float *logits = llama_get_logits_ith(ctx, -1);
    printf("{\"model\": \"");
    print_json_str(o->model);
    printf("\", \"n_vocab\": %d, \"threads\": %d, \"kv\": \"%s\", \"flash_attn\": \"%s\", ",
           n_vocab, o->n_threads, o->f32_kv ? "f32" : "f16",
           o->flash < 0 ? "auto" : o->flash ? "on" : "off");
    printf("\"first_top_logits\": ");
    print_top(logits, n_vocab, o->n_top);
    for (int i = 0; i < o->n_gen; i++) {
        scored best;
        top2(logits, n_vocab, v, &best, &second[i]);
        out[i] = best.id;
        gap[i] = best.logit - second[i].logit;
        if (i + 1 == o->n_gen) break;
        decode_or_die(ctx, &out[i], 1);
        logits = llama_get_logits_ith(ctx, -1);
    }
    printf(", ");
    print_ids("prompt_tokens", prompt, n_prompt);
    printf(", ");
    print_ids("tokens", out, o->n_gen);
    printf(", \"second\": [");
    for (int i = 0; i < o->n_gen; i++) printf(i ? ", %d" : "%d", second[i].id);
    printf("], \"gaps\": [");
    for (int i = 0; i < o->n_gen; i++) printf(i ? ", %.6f" : "%.6f", (double)gap[i]);
    printf("]}\n");
    free(out); free(second); free(gap);
    llama_free(ctx);
    llama_model_free(m);
    return 0;
}

static int cmd_generate(int argc, char **argv) {
    gen_opts o = { .n_gen = 64, .n_threads = 1, .n_top = 5, .flash = -1 };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--tokens")) o.tokens = need_arg(argc, argv, &i);
        else if (!strcmp(a, "-p")) o.prompt = need_arg(argc, argv, &i);
        else if (!strcmp(a, "-n")) o.n_gen = (int)parse_long(need_arg(argc, argv, &i), "-n");
        else if (!strcmp(a, "-t")) o.n_threads = (int)parse_long(need_arg(argc, argv, &i), "-t");
        else if (!strcmp(a, "--top")) o.n_top = (int)parse_long(need_arg(argc, argv, &i), "--top");
        else if (!strcmp(a, "--kv")) {
            const char *k = need_arg(argc, argv, &i);
            if (!strcmp(k, "f32")) o.f32_kv = true;
            else if (strcmp(k, "f16")) die("--kv takes f16 or f32, not '%s'", k);
        } else if (!strcmp(a, "--flash-attn")) {
            const char *f = need_arg(argc, argv, &i);
            o.flash = !strcmp(f, "on") ? 1 : !strcmp(f, "off") ? 0 : !strcmp(f, "auto") ? -1 : -2;
            if (o.flash == -2) die("--flash-attn takes on, off or auto, not '%s'", f);
        }
        else if (a[0] == '-') die("unknown option '%s'", a);
        else if (!o.model) o.model = a;
        else die("unexpected argument '%s'", a);
    }
    if (!o.model || (!o.tokens == !o.prompt))
        die("usage: oracle generate MODEL (--tokens \"1 2 3\" | -p TEXT) [-n N] [-t N] [--top K] [--kv f16|f32] [--flash-attn on|off|auto]%s", "");
    if (o.n_gen < 1 || o.n_gen > MAX_TOKENS || o.n_threads < 1 || o.n_top < 1)
        die("-n, -t and --top must be positive (-n at most %s)", "8192");
    return run_generate(&o);
}

/* ---- tensors ------------------------------------------------------------------------------- */

/* FNV-1a 64 of n bytes at off: tells whether two files hold bit-identical tensor data. */
static uint64_t hash_range(FILE *f, uint64_t off, uint64_t n) {
    static unsigned char buf[1 << 16];
    uint64_t h = 0xCBF29CE484222325ull;
    if (fseeko(f, (off_t)off, SEEK_SET) != 0) die("seek failed%s", "");
    while (n > 0) {
        size_t k = n < sizeof buf ? (size_t)n : sizeof buf;
        if (fread(buf, 1, k, f) != k) die("file shorter than its tensor table says%s", "");
        for (size_t i = 0; i < k; i++) h = (h ^ buf[i]) * 0x100000001B3ull;
        n -= k;
    }
    return h;
}

static int cmd_tensors(int argc, char **argv) {
    bool hash = argc == 3 && !strcmp(argv[2], "--hash");
    if (argc != 2 && !hash) die("usage: oracle tensors MODEL [--hash]%s", "");
    init_backend();
    struct gguf_init_params gp = { .no_alloc = true, .ctx = NULL };
    struct gguf_context *g = gguf_init_from_file(argv[1], gp);
    if (!g) die("ggml cannot read '%s' as GGUF", argv[1]);
    FILE *f = hash ? fopen(argv[1], "rb") : NULL;
    if (hash && !f) die("cannot open '%s'", argv[1]);
    for (int64_t i = 0; i < gguf_get_n_tensors(g); i++) {
        const int64_t *ne = gguf_get_tensor_ne(g, i);
        printf("%s %s %lld %lld", gguf_get_tensor_name(g, i), ggml_type_name(gguf_get_tensor_type(g, i)),
               (long long)ne[0], (long long)ne[1]);
        if (f) printf(" %016llx", (unsigned long long)hash_range(f, gguf_get_data_offset(g) +
                      gguf_get_tensor_offset(g, i), gguf_get_tensor_size(g, i)));
        printf("\n");
    }
    if (f) fclose(f);
    gguf_free(g);
    return 0;
}

/* ---- bench ----------------------------------------------------------------------------------- */

/* A fixed, EOG-free prompt: ids spread over the vocabulary (the content does not change speed). */
static void bench_prompt(const struct llama_vocab *v, llama_token *t, int n) {
    int n_vocab = llama_vocab_n_tokens(v);
    uint32_t x = 12345u;
    for (int i = 0; i < n; i++) {
        do { x = x * 1103515245u + 12345u; t[i] = (llama_token)((x >> 8) % (uint32_t)n_vocab); }
        while (llama_vocab_is_eog(v, t[i]));
    }
}

static void bench_once(struct llama_context *ctx, const struct llama_vocab *v, int n_prefill,
                       int n_decode, double *pre_ms, double *dec_ms) {
    static llama_token toks[MAX_TOKENS];
    bench_prompt(v, toks, n_prefill);
    llama_memory_clear(llama_get_memory(ctx), true);
    double t0 = now_ms();
    decode_or_die(ctx, toks, n_prefill);
    double t1 = now_ms();
    int n_vocab = llama_vocab_n_tokens(v);
    for (int i = 0; i < n_decode; i++) {
        scored best, second;
        top2(llama_get_logits_ith(ctx, -1), n_vocab, v, &best, &second);
        decode_or_die(ctx, &best.id, 1);
    }
    *pre_ms = t1 - t0;
    *dec_ms = now_ms() - t1;
}

static int cmd_bench(int argc, char **argv) {
    const char *model = NULL;
    int n_threads = 1, n_prefill = 64, n_decode = 64, reps = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-t")) n_threads = (int)parse_long(need_arg(argc, argv, &i), "-t");
        else if (!strcmp(a, "--prefill")) n_prefill = (int)parse_long(need_arg(argc, argv, &i), a);
        else if (!strcmp(a, "--decode")) n_decode = (int)parse_long(need_arg(argc, argv, &i), a);
        else if (!strcmp(a, "-r")) reps = (int)parse_long(need_arg(argc, argv, &i), "-r");
        else if (a[0] == '-') die("unknown option '%s'", a);
        else if (!model) model = a;
        else die("unexpected argument '%s'", a);
    }
    if (!model) die("usage: oracle bench MODEL [-t N] [--prefill N] [--decode N] [-r REPS]%s", "");
    if (n_threads < 1 || n_prefill < 1 || n_decode < 0 || reps < 1 || n_prefill + n_decode > MAX_TOKENS - 16)
        die("bad bench sizes%s", "");
    init_backend();
    double t0 = now_ms();
    struct llama_model *m = load_model(model, false);
    const struct llama_vocab *v = llama_model_get_vocab(m);
    struct llama_context *ctx = make_context(m, n_prefill + n_decode + 16, n_prefill, n_threads, false, -1);
    double load_ms = now_ms() - t0, pre_ms, dec_ms;
    bench_once(ctx, v, n_prefill < 8 ? n_prefill : 8, 2, &pre_ms, &dec_ms); /* warm-up */
    double best_pre = INFINITY, best_dec = INFINITY;
    for (int r = 0; r < reps; r++) {
        bench_once(ctx, v, n_prefill, n_decode, &pre_ms, &dec_ms);
        if (pre_ms < best_pre) best_pre = pre_ms;
        if (dec_ms < best_dec) best_dec = dec_ms;
    }
    printf("{\"model\": \"");
    print_json_str(model);
    printf("\", \"threads\": %d, \"load_ms\": %.1f, \"n_prefill\": %d, \"n_decode\": %d, "
           "\"prefill_tok_s\": %.2f, \"decode_tok_s\": %.2f}\n", n_threads, load_ms, n_prefill,
           n_decode, n_prefill / (best_pre / 1e3), n_decode ? n_decode / (best_dec / 1e3) : 0.0);
    llama_free(ctx);
    llama_model_free(m);
    return 0;
}

/* ---- main ------------------------------------------------------------------------------------ */

static void usage(FILE *f) {
    fprintf(f, "oracle — llama.cpp %s (prebuilt, from npm) as a reference for wasm-chord\n\n"
               "  oracle quantize IN OUT TYPE [-t N] [--pure]\n"
               "  oracle tokenize MODEL TEXT [--no-bos] [--parse-special]\n"
               "  oracle generate MODEL (--tokens \"1 2 3\" | -p TEXT) [-n 64] [-t N] [--top 5] [--kv f16|f32] [--flash-attn on|off|auto]\n"
               "  oracle tensors MODEL [--hash]\n"
               "  oracle bench MODEL [-t N] [--prefill 64] [--decode 64] [-r REPS]\n\n"
               "ORACLE_VERBOSE=1 shows llama.cpp's log; ORACLE_BINS overrides the libggml-cpu folder.\n",
            llama_version());
}

int main(int argc, char **argv) {
    if (argc < 2) { usage(stderr); return 2; }
    const char *c = argv[1];
    if (!strcmp(c, "--help") || !strcmp(c, "-h")) { usage(stdout); return 0; }
    if (!strcmp(c, "quantize")) return cmd_quantize(argc - 1, argv + 1);
    if (!strcmp(c, "tokenize")) return cmd_tokenize(argc - 1, argv + 1);
    if (!strcmp(c, "generate")) return cmd_generate(argc - 1, argv + 1);
    if (!strcmp(c, "tensors")) return cmd_tensors(argc - 1, argv + 1);
    if (!strcmp(c, "bench")) return cmd_bench(argc - 1, argv + 1);
    fprintf(stderr, "oracle: error: unknown command '%s' (try --help)\n", c);
    return 2;
}
