/*
 * serve.c — `wasm-chord serve`: flags, the shared model, the slot pool and the HTTP daemon;
 * runs until SIGINT/SIGTERM, then cancels what is running and stops cleanly. Prints
 * "wasm-chord serve: listening on http://HOST:PORT" on stderr once ready (with --port 0 the
 * port the system chose — the tests start servers that way). SIGTERM drains: the listening
 * socket closes at once, requests in flight are answered, then the process exits 0.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "platform.h"
#include "server.h"

static void usage(FILE *f) {
    fprintf(f,
        "usage: wasm-chord serve -m FILE [options]\n"
        "An OpenAI-compatible HTTP server: POST /v1/chat/completions, POST /v1/completions,\n"
        "GET /v1/models, GET /health (no key needed).\n"
        "  -m, --model FILE         GGUF model\n"
        "      --host ADDR          address to bind (default 127.0.0.1)\n"
        "      --port N             port (default 8080; 0 = any free port)\n"
        "  -np, --parallel N        requests generated at once, one session each (default 1)\n"
        "      --api-key KEY        require 'Authorization: Bearer KEY' (or $WASM_CHORD_API_KEY)\n"
        "      --alias NAME         model id in /v1/models and requests (default: file name)\n"
        "      --chat-template FILE Jinja chat template to use instead of the model's\n"
        "  -c, --ctx-size N         context per slot: prompt + answer (default: min(model's, 4096))\n"
        "  -t, --threads N          threads per slot (default: cores / parallel, at least 1)\n"
        "      --queue N            requests that may wait for a slot (default 32), then 503\n"
        "      --queue-timeout S    seconds a request may wait for a slot (default 60), then 503\n"
        "      --timeout S          seconds a request may take in all (default 600), then 504\n"
        "      --max-body BYTES     largest request body (default 1048576), then 413\n"
        "      --max-tokens N       largest max_tokens a request may ask (default 4096)\n"
        "      --cache-prompt       keep each slot's KV cache and reuse the common prompt prefix\n");
}

static int fail(const char *msg, const char *arg) {
    fprintf(stderr, "wasm-chord serve: error: %s%s%s\n", msg, arg ? " " : "", arg ? arg : "");
    return 2;
}

static int parse_long(const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

static int parse_secs(const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v > 0 && v <= 86400 * 7)) return 0;
    *out = v;
    return 1;
}

static int parse_args(int argc, char **argv, srv_config *c) {
    *c = (srv_config){ .host = "127.0.0.1", .port = 8080, .parallel = 1, .queue_max = 32, .queue_timeout_s = 60,
                       .timeout_s = 600, .max_body_bytes = 1 << 20, .max_tokens_limit = 4096 };
    c->api_key = getenv("WASM_CHORD_API_KEY");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return -1;
        if (!strcmp(a, "--cache-prompt")) { c->cache_prompt = 1; continue; }
        if (i + 1 >= argc) return fail("missing value after", a);
        const char *v = argv[++i];
        long l = 0;
        int ok = 1;
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) c->model_path = v;
        else if (!strcmp(a, "--host")) c->host = v;
        else if (!strcmp(a, "--port")) { ok = parse_long(v, 0, 65535, &l); c->port = (int)l; }
        else if (!strcmp(a, "-np") || !strcmp(a, "--parallel")) { ok = parse_long(v, 1, 256, &l); c->parallel = (int)l; }
        else if (!strcmp(a, "--api-key")) { c->api_key = v; ok = v[0] != 0; }
        else if (!strcmp(a, "--alias")) { c->alias = v; ok = v[0] && strlen(v) < 128; }
        else if (!strcmp(a, "--chat-template")) c->chat_template_path = v;
        else if (!strcmp(a, "-c") || !strcmp(a, "--ctx-size")) { ok = parse_long(v, 0, 1 << 24, &l); c->n_ctx = (uint32_t)l; }
        else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) { ok = parse_long(v, 1, 1024, &l); c->n_threads = (int)l; }
        else if (!strcmp(a, "--queue")) { ok = parse_long(v, 0, 100000, &l); c->queue_max = (int)l; }
        else if (!strcmp(a, "--queue-timeout")) ok = parse_secs(v, &c->queue_timeout_s);
        else if (!strcmp(a, "--timeout")) ok = parse_secs(v, &c->timeout_s);
        else if (!strcmp(a, "--max-body")) ok = parse_long(v, 64, 1L << 30, &c->max_body_bytes);
        else if (!strcmp(a, "--max-tokens")) ok = parse_long(v, 1, 1 << 24, &c->max_tokens_limit);
        else return fail("unknown option", a);
        if (!ok) {
            fprintf(stderr, "wasm-chord serve: error: bad value '%s' for %s\n", v, a);
            return 2;
        }
    }
    if (!c->model_path) return fail("-m FILE is required (try --help)", NULL);
    if (!c->n_threads) c->n_threads = chord_cpu_count() / c->parallel > 0 ? chord_cpu_count() / c->parallel : 1;
    return 0;
}

static int read_file(const char *path, char **out, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    for (size_t r; b && (r = fread(b + n, 1, cap - n - 1, f)) > 0;) {
        n += r;
        if (n + 1 == cap) {
            char *nb = cap < (64u << 20) ? realloc(b, cap *= 2) : NULL;
            if (!nb) { free(b); b = NULL; }
            b = nb;
        }
    }
    int ok = b && !ferror(f);
    fclose(f);
    if (!ok) { free(b); return 0; }
    b[n] = 0;
    *out = b;
    *len = n;
    return 1;
}

static void token_text(const chord_model *m, int32_t id, char *buf, size_t cap) {
    size_t n = 0;
    buf[0] = 0;
    if (id >= 0 && chord_token_piece(m, id, buf, cap - 1, &n) == CHORD_OK) buf[n] = 0;
    else buf[0] = 0;
}

/* Model, template, ids and limits that depend on the model. Returns 0 or an exit code. */
static int setup(srv_ctx *c, srv_config *cfg) {
    chord_error err = { 0 };
    chord_model_params mp = chord_model_params_default();
    if (chord_model_open(&c->model, cfg->model_path, &mp, &err) != CHORD_OK) return fail(err.message, NULL) - 1;
    chord_model_info info;
    chord_model_get_info(c->model, &info);
    uint32_t train = (uint32_t)info.n_ctx_train;
    if (!cfg->n_ctx) cfg->n_ctx = train < 4096 ? train : 4096;
    if (cfg->n_ctx > train) return fail("--ctx-size exceeds the model's context length", NULL) - 1;
    if (cfg->chat_template_path && !read_file(cfg->chat_template_path, &c->chat_template, &c->chat_template_len))
        return fail("cannot read --chat-template", cfg->chat_template_path) - 1;
    token_text(c->model, info.bos, c->bos_text, sizeof c->bos_text);
    token_text(c->model, info.eos, c->eos_text, sizeof c->eos_text);
    if (cfg->alias) {
        snprintf(c->model_id, sizeof c->model_id, "%s", cfg->alias);
    } else {
        const char *b = strrchr(cfg->model_path, '/');
        snprintf(c->model_id, sizeof c->model_id, "%s", b ? b + 1 : cfg->model_path);
        size_t l = strlen(c->model_id);
        if (l > 5 && !strcmp(c->model_id + l - 5, ".gguf")) c->model_id[l - 5] = 0;
    }
    c->created = (long)time(NULL);
    atomic_init(&c->next_id, (uint64_t)time(NULL) * 1000);
    if (srv_pool_new(&c->pool, c->model, cfg, &err) != CHORD_OK) return fail(err.message, NULL) - 1;
    return 0;
}

int chord_cli_serve(int argc, char **argv) {
    srv_config cfg;
    int rc = parse_args(argc, argv, &cfg);
    if (rc == -1) { usage(stdout); return 0; }
    if (rc) return rc;
    /* signals are taken by sigwait below: block them before any thread starts */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    srv_ctx c = { .cfg = &cfg };
    void *d = NULL;
    char msg[256];
    rc = setup(&c, &cfg);
    if (!rc && !(d = srv_http_start(&c, msg, sizeof msg))) rc = fail(msg, NULL) - 1;
    if (!rc) {
        fprintf(stderr, "wasm-chord serve: model '%s', %d slot(s) of %u tokens, %d thread(s) each\n",
                c.model_id, cfg.parallel, cfg.n_ctx, cfg.n_threads);
        fprintf(stderr, "wasm-chord serve: listening on http://%s:%d\n", cfg.host, srv_http_port(d));
        int sig = 0;
        sigwait(&sigs, &sig);
        /* graceful: stop accepting (a load balancer sends new requests elsewhere), let the
         * requests in flight finish, then stop; a second signal or the time limit cuts it short */
        fprintf(stderr, "wasm-chord serve: signal %d, draining (signal again to stop now)\n", sig);
        srv_http_quiesce(d);
        double end = chord_time_ms() + cfg.timeout_s * 1000.0;
        struct timespec slice = { 0, 50 * 1000000L };
        while (atomic_load(&c.in_flight) > 0 && chord_time_ms() < end)
            if (sigtimedwait(&sigs, NULL, &slice) > 0) break;
        fprintf(stderr, "wasm-chord serve: stopping\n");
        srv_pool_shutdown(c.pool);
        srv_http_stop(d);
    }
    srv_pool_free(c.pool);
    chord_model_free(c.model);
    free(c.chat_template);
    return rc;
}
