/*
 * fuzz_server.c — libFuzzer target for what `wasm-chord serve` reads itself: the code from the
 * bytes libmicrohttpd hands over to a route or an error (tools/server/request.c: body limit, API
 * key, path and method; oai.c: the OpenAI body of /v1/chat/completions and /v1/completions with
 * every field, the chat template applied to the messages, the prompt tokenized), then the
 * answer's side of a parsed job (the stop strings of slots.c over streamed text, and the JSON of
 * oai.c). It links the server's own objects (mk/fuzz.mk FUZZ_SRC_server), not copies.
 *
 * Input: byte 0 configures the server —
 *   bits 0-1 vocabulary (fuzz.h), bit 2 --api-key sekret, bit 3 --chat-template
 *   tests/data/chat/chatml.jinja (else the model's own: these vocabularies have none, so the
 *   plain fallback), bits 4-5 the body arrives whole / in 1 / 7 / 100-byte chunks, bit 6
 *   --max-body 300, bit 7 --ctx-size 24 (else 512);
 * then the request as text: "METHOD PATH[?query]\n", header lines "Name: value\n" up to an empty
 * line, then the body ("\r\n" works too). That split is a stand-in for libmicrohttpd's HTTP
 * parser, which is not ours to fuzz: it keeps the path before '?' and the Authorization header.
 *
 * Invariants beyond "no crash, leak, UB": an error has a status the server uses, a type and a
 * message, and its body is JSON carrying them; a job has 0 < prompt tokens < context, every id
 * in the vocabulary, max_tokens in [1, --max-tokens], at most SRV_MAX_STOP non-empty stop strings,
 * and sampler params the engine accepts (else a request would pass the parser and fail in the
 * worker). Streaming the prompt's own text back through the stop strings (as chord_generate
 * delivers it: chord_detok pieces) never sends a byte it takes back, holds back only a
 * prefix of a stop string, cuts exactly before the first stop string, and the answer's JSON
 * carries the text unchanged.
 */
#include <cjson/cJSON.h>

#include "fuzz.h"
#include "server.h"
#include "tokenizer/unicode.h"

/* Every body the server writes is JSON, so it must be UTF-8 (RFC 8259 §8.1). */
static void require_utf8(const char *s) {
    size_t n = strlen(s), ok = chord_utf8_valid_prefix((const uint8_t *)s, n);
    if (ok != n) fprintf(stderr, "not UTF-8 at byte %zu of: %s\n", ok, s);
    FUZZ_REQUIRE(ok == n);
}

#define MODEL_ID "fuzz-model"

static char *chatml;          /* tests/data/chat/chatml.jinja */
static size_t chatml_len;

static void load_chatml(void) {
    if (chatml) return;
    FILE *f = fopen("tests/data/chat/chatml.jinja", "rb");
    if (!f) { fprintf(stderr, "fuzz_server: cannot open tests/data/chat/chatml.jinja (run from the repository root)\n"); abort(); }
    chatml = calloc(1, 4096);
    chatml_len = fread(chatml, 1, 4095, f);
    fclose(f);
}

static void token_text(const chord_model *m, int32_t id, char *buf, size_t cap) {
    size_t n = 0;
    buf[0] = 0;
    if (id >= 0 && chord_token_piece(m, id, buf, cap - 1, &n) == CHORD_OK) buf[n] = 0;
    else buf[0] = 0;
}

/* ---- the request as libmicrohttpd would hand it over ---------------------------------------- */

typedef struct {
    char *method, *url, *auth;
    const uint8_t *body;
    size_t n_body;
} http_in;

/* Next line of [p, end) as a NUL-terminated copy without its "\n" / "\r\n"; *p moves past it. */
static char *take_line(const uint8_t **p, const uint8_t *end) {
    const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
    const uint8_t *stop = nl ? nl : end;
    size_t n = (size_t)(stop - *p);
    if (n && (*p)[n - 1] == '\r') n--;
    char *s = malloc(n + 1);
    if (!s) abort();
    memcpy(s, *p, n);
    s[n] = 0;
    *p = nl ? nl + 1 : end;
    return s;
}

static void split_request(const uint8_t *p, const uint8_t *end, http_in *h) {
    *h = (http_in){ 0 };
    char *line = take_line(&p, end), *sp = strchr(line, ' ');
    if (sp) *sp = 0;
    h->method = strdup(line);
    const char *u = sp ? sp + 1 : "";
    h->url = strndup(u, strcspn(u, "? "));
    free(line);
    while (p < end) {
        line = take_line(&p, end);
        if (!line[0]) { free(line); break; }
        char *colon = strchr(line, ':');
        if (colon && (size_t)(colon - line) == 13 && !strncasecmp(line, "Authorization", 13)) {
            const char *v = colon + 1;
            while (*v == ' ' || *v == '\t') v++;
            free(h->auth);
            h->auth = strdup(v);
        }
        free(line);
    }
    h->body = p;
    h->n_body = (size_t)(end - p);
    if (!h->method || !h->url) abort();
}

/* ---- checks --------------------------------------------------------------------------------- */

static void check_error(const srv_err *e) {
    static const int statuses[] = { 400, 401, 404, 405, 413 };
    int known = 0;
    for (size_t i = 0; i < sizeof statuses / sizeof *statuses; i++) known |= e->status == statuses[i];
    if (!known) fprintf(stderr, "status %d: %s\n", e->status, e->message);
    FUZZ_REQUIRE(known);   /* 500 is out of memory, which does not happen here */
    FUZZ_REQUIRE(e->type && e->code && e->message[0]);
    char *js = srv_oai_error_json(e);
    FUZZ_REQUIRE(js);
    require_utf8(js);
    cJSON *o = cJSON_Parse(js), *er = cJSON_GetObjectItemCaseSensitive(o, "error");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(er, "message");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(er, "code");
    FUZZ_REQUIRE(cJSON_IsString(msg) && !strcmp(msg->valuestring, e->message));
    FUZZ_REQUIRE(cJSON_IsString(code) && !strcmp(code->valuestring, e->code));
    cJSON_Delete(o);
    free(js);
}

/* The answer's JSON (whole and streamed) carries `text` unchanged. */
static void check_answer_json(const srv_ctx *c, const srv_req *rq, const srv_job *j) {
    char *js = srv_oai_result_json(c, rq, j);
    FUZZ_REQUIRE(js);
    require_utf8(js);
    cJSON *o = cJSON_Parse(js);
    const cJSON *ch = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "choices"), 0);
    const cJSON *t = rq->ep == EP_CHAT
        ? cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ch, "message"), "content")
        : cJSON_GetObjectItemCaseSensitive(ch, "text");
    FUZZ_REQUIRE(cJSON_IsString(t));
    /* the decoded string holds a \u0000 as a 0 byte (its allocation is the decoded length, so
     * ASan catches a shorter one): compare the bytes and the terminator */
    int same = !memcmp(t->valuestring, j->text ? j->text : "", j->n_text) && t->valuestring[j->n_text] == 0;
    if (!same) fprintf(stderr, "answer of %zu bytes arrives as %zu\n", j->n_text, strlen(t->valuestring));
    FUZZ_REQUIRE(same);
    cJSON_Delete(o);
    free(js);
    char *ev = srv_oai_chunk(c, rq, j->text ? j->text : "", j->n_text, 1, NULL, NULL);
    FUZZ_REQUIRE(ev && !strncmp(ev, "data: {", 7) && ev[strlen(ev) - 1] == '\n');
    require_utf8(ev);
    o = cJSON_Parse(ev + 6);
    FUZZ_REQUIRE(o);
    cJSON_Delete(o);
    free(ev);
    /* the last events of a stream: finish_reason, then usage when asked for */
    for (int k = 0; k < 2; k++) {
        ev = srv_oai_chunk(c, rq, NULL, 0, 0, k ? NULL : (j->finish ? j->finish : "length"), k ? j : NULL);
        FUZZ_REQUIRE(ev && !strncmp(ev, "data: {", 7));
        require_utf8(ev);
        o = cJSON_Parse(ev + 6);
        FUZZ_REQUIRE(o);
        if (k) {
            const cJSON *u = cJSON_GetObjectItemCaseSensitive(o, "usage");
            const cJSON *pt = cJSON_GetObjectItemCaseSensitive(u, "prompt_tokens");
            FUZZ_REQUIRE(cJSON_IsNumber(pt) && pt->valuedouble == (double)j->n_prompt);
        }
        cJSON_Delete(o);
        free(ev);
    }
}

/* Streams the prompt's text back as the engine would deliver it and checks the stop strings. */
static void check_stop(const chord_model *m, srv_job *j) {
    size_t cap = chord_detok_max_bytes(m), n_all = 0, got = 0;
    char *piece = malloc(cap + 1), *all = malloc(j->n_prompt * cap + cap + 1);
    FUZZ_REQUIRE(piece && all);
    chord_detok d;
    chord_detok_init(&d, m);
    int stopped = 0;
    for (size_t i = 0; i <= j->n_prompt && !stopped && j->n_completion < j->max_tokens; i++) {
        int32_t tok = i < j->n_prompt ? j->prompt[i] : -1;
        if (tok >= 0) FUZZ_REQUIRE(chord_detok_push(&d, tok, piece, cap, &got) == CHORD_OK);
        else got = chord_detok_flush(&d, piece, cap);
        size_t sent_before = j->n_ready;
        int had_stop = 0;
        for (size_t k = 0; k < j->n_stop; k++) had_stop |= memmem(all, n_all, j->stop[k], strlen(j->stop[k])) != NULL;
        FUZZ_REQUIRE(!had_stop);   /* it would have stopped before */
        memcpy(all + n_all, piece, got);
        n_all += got;
        int r = srv_job_push_locked(j, tok, piece, got);
        FUZZ_REQUIRE(r == 0 || r == 1);
        FUZZ_REQUIRE(j->n_text <= n_all && !memcmp(j->text, all, j->n_text));
        FUZZ_REQUIRE(j->n_ready <= j->n_text && j->n_ready >= sent_before);   /* nothing sent is taken back */
        for (size_t k = 0; k < j->n_stop; k++) FUZZ_REQUIRE(!memmem(j->text, j->n_text, j->stop[k], strlen(j->stop[k])));
        if (r == 1) {
            stopped = 1;
            FUZZ_REQUIRE(j->n_ready == j->n_text && j->finish && !strcmp(j->finish, "stop"));
            int at_stop = 0;
            for (size_t k = 0; k < j->n_stop; k++) {
                size_t sl = strlen(j->stop[k]);
                at_stop |= j->n_text + sl <= n_all && !memcmp(all + j->n_text, j->stop[k], sl);
            }
            FUZZ_REQUIRE(at_stop);
        } else {
            FUZZ_REQUIRE(j->n_text == n_all);
            size_t hold = j->n_text - j->n_ready;
            int prefix = hold == 0;
            for (size_t k = 0; k < j->n_stop && !prefix; k++)
                prefix = hold < strlen(j->stop[k]) && !memcmp(j->text + j->n_ready, j->stop[k], hold);
            FUZZ_REQUIRE(prefix);
        }
    }
    free(piece);
    free(all);
}

static void check_job(srv_ctx *c, const chord_model *m, const srv_req *rq, srv_job *j, const http_in *h) {
    chord_model_info info;
    chord_model_get_info(m, &info);
    FUZZ_REQUIRE(!strcmp(h->method, "POST"));
    FUZZ_REQUIRE(!strcmp(h->url, rq->ep == EP_CHAT ? "/v1/chat/completions" : "/v1/completions"));
    FUZZ_REQUIRE(j->n_prompt > 0 && j->n_prompt < c->cfg->n_ctx);
    for (size_t i = 0; i < j->n_prompt; i++) FUZZ_REQUIRE(j->prompt[i] >= 0 && j->prompt[i] < info.n_vocab);
    FUZZ_REQUIRE(j->max_tokens >= 1 && j->max_tokens <= c->cfg->max_tokens_limit);
    FUZZ_REQUIRE(j->n_stop <= SRV_MAX_STOP);
    size_t longest = 0;
    for (size_t k = 0; k < j->n_stop; k++) {
        size_t l = strlen(j->stop[k]);
        FUZZ_REQUIRE(l > 0);
        if (l > longest) longest = l;
    }
    FUZZ_REQUIRE(longest == j->max_stop_len);
    chord_error err;
    if (chord_sampler_params_check(&j->sp, &err) != CHORD_OK) fprintf(stderr, "sampler refuses: %s\n", err.message);
    FUZZ_REQUIRE(chord_sampler_params_check(&j->sp, &err) == CHORD_OK);
    check_stop(m, j);
    check_answer_json(c, rq, j);
}

/* ---- the target ----------------------------------------------------------------------------- */

FUZZ_INIT_VOCABS

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const uint8_t flags = data[0];
    const chord_model *m = fuzz_vocab(flags & 3);
    load_chatml();
    srv_config cfg = { .host = "127.0.0.1", .port = 0, .parallel = 1, .queue_max = 32, .queue_timeout_s = 60,
                       .timeout_s = 600, .max_body_bytes = flags & 0x40 ? 300 : 1 << 20, .max_tokens_limit = 4096,
                       .n_ctx = flags & 0x80 ? 24 : 512, .api_key = flags & 4 ? "sekret" : NULL, .alias = MODEL_ID };
    srv_ctx c = { .cfg = &cfg, .model = (chord_model *)m, .created = 1764547200 };
    snprintf(c.model_id, sizeof c.model_id, "%s", MODEL_ID);
    if (flags & 8) { c.chat_template = chatml; c.chat_template_len = chatml_len; }
    chord_model_info info;
    chord_model_get_info(m, &info);
    token_text(m, info.bos, c.bos_text, sizeof c.bos_text);
    token_text(m, info.eos, c.eos_text, sizeof c.eos_text);
    atomic_init(&c.next_id, 1);
    atomic_init(&c.in_flight, 0);

    http_in h;
    split_request(data + 1, data + size, &h);
    static const size_t chunks[4] = { 0, 1, 7, 100 };
    size_t chunk = chunks[(flags >> 4) & 3];
    srv_body body = { 0 };
    for (size_t off = 0; off < h.n_body;) {
        size_t n = chunk && h.n_body - off > chunk ? chunk : h.n_body - off;
        FUZZ_REQUIRE(srv_body_append(&body, (const char *)h.body + off, n, (size_t)cfg.max_body_bytes) == 0);
        off += n;
    }
    FUZZ_REQUIRE(body.too_big == (h.n_body > (size_t)cfg.max_body_bytes));
    FUZZ_REQUIRE(body.too_big || (body.n == h.n_body && (!body.n || !memcmp(body.data, h.body, body.n))));

    srv_http_req in = { .method = h.method, .url = h.url, .authorization = h.auth, .body = &body };
    srv_req rq = { 0 };
    srv_job *j = NULL;
    srv_err e = { 0 };
    srv_route r = srv_request_parse(&c, &in, &rq, &j, &e);
    FUZZ_REQUIRE((r == RT_GENERATE) == (j != NULL));
    if (getenv("FUZZ_SERVER_TRACE")) {   /* what each seed reaches: FUZZ_SERVER_TRACE=1 fuzz_server -runs=0 DIR */
        if (r == RT_ERROR) fprintf(stderr, "trace: %s %s → %d %s: %s\n", h.method, h.url, e.status, e.code, e.message);
        else if (j) fprintf(stderr, "trace: %s %s → job: %zu prompt tokens, max_tokens %d, %zu stop, stream %d\n",
                            h.method, h.url, j->n_prompt, j->max_tokens, j->n_stop, rq.stream);
        else fprintf(stderr, "trace: %s %s → route %d\n", h.method, h.url, (int)r);
    }
    switch (r) {
    case RT_ERROR: check_error(&e); break;
    case RT_HEALTH: {
        FUZZ_REQUIRE(!strcmp(h.url, "/health") && !strcmp(h.method, "GET"));
        srv_health hl = { .slots_total = 1, .slots_free = (int)(flags & 1), .queue_max = cfg.queue_max };
        char *js = srv_oai_health_json(&hl);
        FUZZ_REQUIRE(js && strstr(js, flags & 1 ? "\"status\":\"ok\"" : "\"status\":\"busy\""));
        free(js);
        break;
    }
    case RT_MODELS:
    case RT_MODEL: {
        FUZZ_REQUIRE(!strcmp(h.method, "GET"));
        char *js = r == RT_MODELS ? srv_oai_models_json(&c) : srv_oai_model_json(&c);
        FUZZ_REQUIRE(js);
        require_utf8(js);
        cJSON *o = cJSON_Parse(js);
        const cJSON *mo = r == RT_MODELS ? cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "data"), 0) : o;
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(mo, "id");
        FUZZ_REQUIRE(cJSON_IsString(id) && !strcmp(id->valuestring, MODEL_ID));
        cJSON_Delete(o);
        free(js);
        break;
    }
    case RT_GENERATE: check_job(&c, m, &rq, j, &h); break;
    }
    srv_job_free(j);
    srv_body_free(&body);
    free(h.method);
    free(h.url);
    free(h.auth);
    return 0;
}
