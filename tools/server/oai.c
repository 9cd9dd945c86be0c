/*
 * oai.c — the OpenAI wire format, parsed and written with cJSON. A request body becomes a job:
 * every field is type- and range-checked, and a field we do not implement is refused with 400
 * naming it (never ignored). Chat messages go through the model's chat template
 * (chord_chat_render, or --chat-template) and chord_chat_tokenize; a completion prompt is
 * tokenized as llama.cpp's server does (BOS as the model asks, special-token text parsed).
 * Errors have OpenAI's shape: {"error": {"message", "type", "param", "code"}}.
 *
 * Text is UTF-8 both ways: a body that is not is refused (RFC 8259 §8.1; llama.cpp's JSON
 * library refuses it too), and so is one with a NUL character, which a cJSON string cannot
 * hold (everything after it would be lost without a word). Error messages that quote the
 * client's bytes (a path, a cut-off name) are made valid UTF-8; generated text, which may
 * contain U+0000, is written by our own escaper (json_text).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "platform.h"
#include "server.h"
#include "tokenizer/unicode.h"

/* Replaces each invalid or cut-off UTF-8 sequence of s with '?', in place. */
static void utf8_clean(char *s) {
    size_t n = strlen(s), w = 0;
    for (size_t i = 0, k; i < n; i += k) {
        if (chord_utf8_check((const uint8_t *)s + i, n - i, &k) == 1) memmove(s + w, s + i, k), w += k;
        else s[w++] = '?';
    }
    s[w] = 0;
}

int srv_err_set(srv_err *e, int status, const char *type, const char *code, const char *param,
                 const char *fmt, ...) {
    e->status = status;
    e->type = type;
    e->code = code;
    snprintf(e->param, sizeof e->param, "%s", param ? param : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    utf8_clean(e->message);
    utf8_clean(e->param);
    return 0;
}

#define BAD(e, param, ...) srv_err_set(e, 400, "invalid_request_error", "invalid_value", param, __VA_ARGS__)

char *srv_oai_error_json(const srv_err *e) {
    cJSON *root = cJSON_CreateObject(), *o = cJSON_AddObjectToObject(root, "error");
    cJSON_AddStringToObject(o, "message", e->message);
    cJSON_AddStringToObject(o, "type", e->type ? e->type : "invalid_request_error");
    if (e->param[0]) cJSON_AddStringToObject(o, "param", e->param);
    else cJSON_AddNullToObject(o, "param");
    if (e->code) cJSON_AddStringToObject(o, "code", e->code);
    else cJSON_AddNullToObject(o, "code");
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return s;
}

/* ---- field checks --------------------------------------------------------------------------- */

/* Which keys each endpoint knows. Anything else is refused. */
static const char *const chat_keys[] = {
    "model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens",
    "temperature", "top_p", "seed", "stop", "n", "user", "frequency_penalty", "presence_penalty",
    "top_k", "min_p", "repeat_penalty", "ignore_eos", "logprobs", "chat_template_kwargs", NULL };
static const char *const completion_keys[] = {
    "model", "prompt", "stream", "stream_options", "max_tokens", "temperature", "top_p", "seed",
    "stop", "n", "user", "frequency_penalty", "presence_penalty", "top_k", "min_p",
    "repeat_penalty", "ignore_eos", "logprobs", "echo", "best_of", NULL };

static int known_key(const char *const *keys, const char *k) {
    for (; *keys; keys++)
        if (!strcmp(*keys, k)) return 1;
    return 0;
}

/* A number field in [lo, hi] (absent or null: *out untouched). */
static int get_num(const cJSON *o, const char *k, double lo, double hi, double *out, srv_err *e) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!v || cJSON_IsNull(v)) return 1;
    if (!cJSON_IsNumber(v)) return BAD(e, k, "'%s' must be a number", k);
    if (!(v->valuedouble >= lo && v->valuedouble <= hi))
        return BAD(e, k, "'%s' is %g, outside [%g, %g]", k, v->valuedouble, lo, hi);
    *out = v->valuedouble;
    return 1;
}

static int get_int(const cJSON *o, const char *k, double lo, double hi, double *out, srv_err *e) {
    double v = NAN;
    if (!get_num(o, k, lo, hi, &v, e)) return 0;
    if (isnan(v)) return 1;
    if (v != floor(v)) return BAD(e, k, "'%s' must be an integer, not %g", k, v);
    *out = v;
    return 1;
}

static int get_bool(const cJSON *o, const char *k, int *out, srv_err *e) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!v || cJSON_IsNull(v)) return 1;
    if (!cJSON_IsBool(v)) return BAD(e, k, "'%s' must be a boolean", k);
    *out = cJSON_IsTrue(v);
    return 1;
}

/* Fields whose only supported value is their default: refuse anything else by name. */
static int only_default(const cJSON *o, srv_err *e) {
    double d = 0;
    int b = 0;
    if (!get_num(o, "frequency_penalty", -2, 2, &d, e)) return 0;
    if (d != 0) return srv_err_set(e, 400, "invalid_request_error", "unsupported_parameter", "frequency_penalty",
                                   "'frequency_penalty' is not supported (only 0); use 'repeat_penalty'");
    if (!get_num(o, "presence_penalty", -2, 2, &d, e)) return 0;
    if (d != 0) return srv_err_set(e, 400, "invalid_request_error", "unsupported_parameter", "presence_penalty",
                                   "'presence_penalty' is not supported (only 0); use 'repeat_penalty'");
    const cJSON *lp = cJSON_GetObjectItemCaseSensitive(o, "logprobs");
    if (lp && !cJSON_IsNull(lp) && !cJSON_IsFalse(lp))
        return srv_err_set(e, 400, "invalid_request_error", "unsupported_parameter", "logprobs", "'logprobs' is not supported");
    if (!get_bool(o, "echo", &b, e)) return 0;
    if (b) return srv_err_set(e, 400, "invalid_request_error", "unsupported_parameter", "echo", "'echo' is not supported");
    d = 1;
    if (!get_int(o, "best_of", 1, 1e9, &d, e)) return 0;
    if (d != 1) return srv_err_set(e, 400, "invalid_request_error", "unsupported_parameter", "best_of", "'best_of' must be 1");
    d = 1;
    if (!get_int(o, "n", 1, 1e9, &d, e)) return 0;
    if (d != 1) return srv_err_set(e, 400, "invalid_request_error", "unsupported_parameter", "n",
                                   "'n' must be 1: one choice per request");
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(o, "user");
    if (u && !cJSON_IsNull(u) && !cJSON_IsString(u)) return BAD(e, "user", "'user' must be a string");
    return 1;
}

static int parse_stop(const cJSON *o, srv_job *j, srv_err *e) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "stop");
    if (!v || cJSON_IsNull(v)) return 1;
    const cJSON *one[1] = { v };
    int n = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : 1;
    if (!cJSON_IsArray(v) && !cJSON_IsString(v)) return BAD(e, "stop", "'stop' must be a string or an array of strings");
    if (n > SRV_MAX_STOP) return BAD(e, "stop", "'stop' has %d strings; at most %d", n, SRV_MAX_STOP);
    for (int i = 0; i < n; i++) {
        const cJSON *s = cJSON_IsArray(v) ? cJSON_GetArrayItem(v, i) : one[0];
        if (!cJSON_IsString(s)) return BAD(e, "stop", "'stop[%d]' must be a string", i);
        if (!s->valuestring[0]) return BAD(e, "stop", "'stop[%d]' is empty", i);
        if (!(j->stop[j->n_stop] = strdup(s->valuestring))) return BAD(e, "stop", "out of memory");
        size_t len = strlen(s->valuestring);
        if (len > j->max_stop_len) j->max_stop_len = len;
        j->n_stop++;
    }
    return 1;
}

/* Sampling, stop strings, max_tokens, stream flags. */
static int parse_common(srv_ctx *c, const cJSON *o, srv_job *j, srv_req *rq, srv_err *e) {
    const srv_config *cfg = c->cfg;
    double temp = 1, top_p = 1, top_k = 0, min_p = 0, rep = 1, seed = NAN, max_t = NAN;
    if (!get_num(o, "temperature", 0, 2, &temp, e) || !get_num(o, "top_p", 0, 1, &top_p, e) ||
        !get_int(o, "top_k", 0, 1e9, &top_k, e) || !get_num(o, "min_p", 0, 1, &min_p, e) ||
        !get_num(o, "repeat_penalty", 1e-3, 100, &rep, e) || !get_int(o, "seed", -9.2e18, 9.2e18, &seed, e))
        return 0;
    if (top_p == 0) return BAD(e, "top_p", "'top_p' must be in (0, 1]");
    const char *mk = cJSON_GetObjectItemCaseSensitive(o, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
    if (!get_int(o, mk, 1, 1e12, &max_t, e)) return 0;
    if (!isnan(max_t) && max_t > (double)cfg->max_tokens_limit)
        return BAD(e, mk, "'%s' is %.0f; this server allows at most %ld", mk, max_t, cfg->max_tokens_limit);
    j->max_tokens = isnan(max_t) ? (int32_t)cfg->max_tokens_limit : (int32_t)max_t;
    j->sp.temperature = (float)temp;
    j->sp.top_p = (float)top_p;
    j->sp.top_k = (int32_t)top_k;
    j->sp.min_p = (float)min_p;
    j->sp.repeat_penalty = (float)rep;
    j->sp.seed = isnan(seed) ? (uint64_t)time(NULL) ^ (uint64_t)(chord_time_ms() * 1000.0) : (uint64_t)(int64_t)seed;
    if (!get_bool(o, "ignore_eos", &j->sp.ignore_eos, e)) return 0;
    if (!get_bool(o, "stream", &rq->stream, e) || !parse_stop(o, j, e) || !only_default(o, e)) return 0;
    const cJSON *so = cJSON_GetObjectItemCaseSensitive(o, "stream_options");
    if (so && !cJSON_IsNull(so)) {
        if (!cJSON_IsObject(so)) return BAD(e, "stream_options", "'stream_options' must be an object");
        for (const cJSON *k = so->child; k; k = k->next)
            if (strcmp(k->string, "include_usage"))
                return srv_err_set(e, 400, "invalid_request_error", "unsupported_parameter", "stream_options",
                                   "'stream_options.%s' is not supported", k->string);
        if (!get_bool(so, "include_usage", &rq->include_usage, e)) return 0;
    }
    return 1;
}

/* ---- prompts -------------------------------------------------------------------------------- */

static int tokenize(srv_ctx *c, const char *text, size_t len, int chat, srv_job *j, srv_err *e) {
    chord_error err = { 0 };
    size_t cap = len + 16, n = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        free(j->prompt);
        if (!(j->prompt = malloc(cap * sizeof *j->prompt))) break;
        chord_status st = chat ? chord_chat_tokenize(c->model, text, len, j->prompt, cap, &n, &err)
                               : chord_tokenize(c->model, text, len, CHORD_TOK_ADD_SPECIAL | CHORD_TOK_PARSE_SPECIAL,
                                                j->prompt, cap, &n, &err);
        if (st == CHORD_OK) { j->n_prompt = n; return 1; }
        if (st != CHORD_E_BUFFER || attempt) {
            srv_err_set(e, 400, "invalid_request_error", "invalid_prompt", chat ? "messages" : "prompt",
                        "tokenizing the prompt: %s", err.message);
            return 0;
        }
        cap = n;
    }
    srv_err_set(e, 500, "server_error", "out_of_memory", NULL, "out of memory for the prompt tokens");
    return 0;
}

/* OpenAI content: a string, null, or a list of parts of which we take the text ones. */
static int flatten_content(cJSON *msg, int i, srv_err *e) {
    char param[48];
    snprintf(param, sizeof param, "messages[%d].content", i);
    cJSON *ct = cJSON_GetObjectItemCaseSensitive(msg, "content");
    if (!ct || cJSON_IsNull(ct) || cJSON_IsString(ct)) return 1;
    if (!cJSON_IsArray(ct)) return BAD(e, param, "'%s' must be a string, null or an array of parts", param);
    size_t n = 0;
    for (const cJSON *p = ct->child; p; p = p->next) {
        const cJSON *ty = cJSON_GetObjectItemCaseSensitive(p, "type");
        const cJSON *tx = cJSON_GetObjectItemCaseSensitive(p, "text");
        if (!cJSON_IsString(ty) || strcmp(ty->valuestring, "text"))
            return srv_err_set(e, 400, "invalid_request_error", "unsupported_content", param,
                               "'%s': only parts of type 'text' are supported", param);
        if (!cJSON_IsString(tx)) return BAD(e, param, "'%s': a text part needs a string 'text'", param);
        n += strlen(tx->valuestring) + 1;
    }
    char *s = calloc(n + 1, 1), *w = s;
    if (!s) return BAD(e, param, "out of memory");
    for (const cJSON *p = ct->child; p; p = p->next) {
        const char *tx = cJSON_GetObjectItemCaseSensitive(p, "text")->valuestring;
        if (w != s) *w++ = '\n';   /* parts are joined with a newline */
        size_t l = strlen(tx);
        memcpy(w, tx, l);
        w += l;
    }
    cJSON_ReplaceItemInObjectCaseSensitive(msg, "content", cJSON_CreateString(s));
    free(s);
    return 1;
}

/* messages → the conversation JSON of chord_chat_render → rendered text → tokens. */
static int chat_prompt(srv_ctx *c, const cJSON *o, srv_job *j, srv_err *e) {
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(o, "messages");
    if (!msgs) return BAD(e, "messages", "'messages' is required");
    if (!cJSON_IsArray(msgs) || cJSON_GetArraySize(msgs) == 0)
        return BAD(e, "messages", "'messages' must be a non-empty array");
    cJSON *conv = cJSON_CreateObject(), *copy = cJSON_Duplicate(msgs, 1);
    cJSON_AddItemToObject(conv, "messages", copy);
    int i = 0, ok = 1;
    for (cJSON *m = copy->child; m && ok; m = m->next, i++) {
        char param[40];
        snprintf(param, sizeof param, "messages[%d]", i);
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        if (!cJSON_IsObject(m)) ok = BAD(e, param, "'%s' must be an object", param);
        else if (!cJSON_IsString(role)) ok = BAD(e, param, "'%s.role' must be a string", param);
        else if (cJSON_GetObjectItemCaseSensitive(m, "tool_calls"))
            ok = srv_err_set(e, 400, "invalid_request_error", "unsupported_parameter", param,
                             "'%s.tool_calls': tool calls are not supported", param);
        else ok = flatten_content(m, i, e);
    }
    const cJSON *kw = cJSON_GetObjectItemCaseSensitive(o, "chat_template_kwargs");
    if (ok && kw && !cJSON_IsNull(kw)) {
        if (!cJSON_IsObject(kw)) ok = BAD(e, "chat_template_kwargs", "'chat_template_kwargs' must be an object");
        for (const cJSON *k = ok ? kw->child : NULL; k; k = k->next)
            if (strcmp(k->string, "messages")) cJSON_AddItemToObject(conv, k->string, cJSON_Duplicate(k, 1));
    }
    if (ok) cJSON_AddBoolToObject(conv, "add_generation_prompt", 1);
    char *json = ok ? cJSON_PrintUnformatted(conv) : NULL;
    cJSON_Delete(conv);
    if (!ok) return 0;
    if (!json) return srv_err_set(e, 500, "server_error", "out_of_memory", NULL, "out of memory");
    char *text = NULL;
    size_t n = 0;
    chord_error err = { 0 };
    chord_status st = c->chat_template
        ? chord_chat_render_template(c->chat_template, c->chat_template_len, c->bos_text, c->eos_text,
                                     json, strlen(json), &text, &n, &err)
        : chord_chat_render(c->model, json, strlen(json), &text, &n, &err);
    free(json);
    if (st != CHORD_OK) {
        chord_free(text);
        if (st == CHORD_E_NOMEM) return srv_err_set(e, 500, "server_error", "out_of_memory", NULL, "%s", err.message);
        return srv_err_set(e, 400, "invalid_request_error", "chat_template_error", "messages",
                           "the chat template failed on these messages: %s", err.message);
    }
    ok = tokenize(c, text, n, 1, j, e);
    chord_free(text);
    return ok;
}

/* prompt: a string, an array with one string, or an array of token ids. */
static int completion_prompt(srv_ctx *c, const cJSON *o, srv_job *j, srv_err *e) {
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "prompt");
    if (!p) return BAD(e, "prompt", "'prompt' is required");
    if (cJSON_IsArray(p) && cJSON_GetArraySize(p) == 1 && cJSON_IsString(p->child)) p = p->child;
    if (cJSON_IsString(p)) return tokenize(c, p->valuestring, strlen(p->valuestring), 0, j, e);
    if (!cJSON_IsArray(p) || !cJSON_GetArraySize(p))
        return BAD(e, "prompt", "'prompt' must be a string, an array of one string, or an array of token ids");
    chord_model_info info;
    chord_model_get_info(c->model, &info);
    size_t n = (size_t)cJSON_GetArraySize(p), i = 0;
    if (!(j->prompt = malloc(n * sizeof *j->prompt))) return BAD(e, "prompt", "out of memory");
    for (const cJSON *t = p->child; t; t = t->next, i++) {
        if (!cJSON_IsNumber(t) || t->valuedouble != floor(t->valuedouble) || t->valuedouble < 0 ||
            t->valuedouble >= info.n_vocab)
            return BAD(e, "prompt", "'prompt[%zu]' is not a token id in [0, %d)", i, info.n_vocab);
        j->prompt[i] = (int32_t)t->valuedouble;
    }
    j->n_prompt = n;
    return 1;
}

/* The body's text is UTF-8 without a NUL character (raw, or escaped as \u0000 in a string). */
static int body_text_ok(const char *body, size_t len, srv_err *e) {
    size_t ok = chord_utf8_valid_prefix((const uint8_t *)body, len);
    if (ok < len) {
        srv_err_set(e, 400, "invalid_request_error", "invalid_json", NULL,
                    "the request body is not valid UTF-8 (byte %zu)", ok);
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        size_t at = i;
        int nul = body[i] == 0;
        if (body[i] == '\\' && i + 1 < len) {   /* an escape: skip what it escapes */
            nul = len - i >= 6 && body[i + 1] == 'u' && !memcmp(body + i + 2, "0000", 4);
            i++;
        }
        if (nul) {
            srv_err_set(e, 400, "invalid_request_error", "unsupported_content", NULL,
                        "the request body has a NUL character (U+0000) at byte %zu; strings cannot carry it", at);
            return 0;
        }
    }
    return 1;
}

srv_job *srv_oai_parse(srv_ctx *c, srv_endpoint ep, const char *body, size_t len, srv_req *rq, srv_err *e) {
    cJSON *o = cJSON_ParseWithLength(body, len);
    if (!o) {
        srv_err_set(e, 400, "invalid_request_error", "invalid_json", NULL,
                    "the request body is not valid JSON (near byte %zu)",
                    cJSON_GetErrorPtr() ? (size_t)(cJSON_GetErrorPtr() - body) : (size_t)0);
        return NULL;
    }
    if (!body_text_ok(body, len, e)) {
        cJSON_Delete(o);
        return NULL;
    }
    srv_job *j = srv_job_new();
    int ok = j != NULL;
    if (!ok) srv_err_set(e, 500, "server_error", "out_of_memory", NULL, "out of memory");
    if (ok && !cJSON_IsObject(o)) ok = BAD(e, NULL, "the request body must be a JSON object");
    const char *const *keys = ep == EP_CHAT ? chat_keys : completion_keys;
    for (const cJSON *k = ok ? o->child : NULL; k && ok; k = k->next)
        if (!known_key(keys, k->string))
            ok = srv_err_set(e, 400, "invalid_request_error", "unsupported_parameter", k->string,
                             "unsupported parameter '%s'", k->string);
    const cJSON *model = ok ? cJSON_GetObjectItemCaseSensitive(o, "model") : NULL;
    if (ok && model && !cJSON_IsString(model)) ok = BAD(e, "model", "'model' must be a string");
    if (ok && model && strcmp(model->valuestring, c->model_id))
        ok = srv_err_set(e, 404, "invalid_request_error", "model_not_found", "model",
                         "the model '%s' does not exist; this server serves '%s'", model->valuestring, c->model_id);
    if (ok) ok = parse_common(c, o, j, rq, e);
    if (ok) ok = ep == EP_CHAT ? chat_prompt(c, o, j, e) : completion_prompt(c, o, j, e);
    cJSON_Delete(o);
    uint32_t n_ctx = c->cfg->n_ctx;
    if (ok && j->n_prompt == 0) ok = BAD(e, ep == EP_CHAT ? "messages" : "prompt", "the prompt has no tokens");
    if (ok && j->n_prompt >= n_ctx)
        ok = srv_err_set(e, 400, "invalid_request_error", "context_length_exceeded", ep == EP_CHAT ? "messages" : "prompt",
                         "this model's context is %u tokens; the prompt has %zu (at least one must be left to answer)",
                         n_ctx, j->n_prompt);
    if (!ok) {
        srv_job_free(j);
        return NULL;
    }
    rq->ep = ep;
    rq->created = (long)time(NULL);
    snprintf(rq->id, sizeof rq->id, "%s-%llu", ep == EP_CHAT ? "chatcmpl" : "cmpl",
             (unsigned long long)atomic_fetch_add(&c->next_id, 1));
    j->deadline_ms = chord_time_ms() + c->cfg->timeout_s * 1000.0;
    return j;
}

/* ---- responses ------------------------------------------------------------------------------ */

static cJSON *base_object(const srv_ctx *c, const srv_req *rq, const char *object) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", rq->id);
    cJSON_AddStringToObject(o, "object", object);
    cJSON_AddNumberToObject(o, "created", (double)rq->created);
    cJSON_AddStringToObject(o, "model", c->model_id);
    cJSON_AddStringToObject(o, "system_fingerprint", "wasm-chord-" CHORD_VERSION_STRING);
    return o;
}

static void add_usage(cJSON *o, const srv_job *j) {
    cJSON *u = cJSON_AddObjectToObject(o, "usage");
    cJSON_AddNumberToObject(u, "prompt_tokens", (double)j->n_prompt);
    cJSON_AddNumberToObject(u, "completion_tokens", j->n_completion);
    cJSON_AddNumberToObject(u, "total_tokens", (double)j->n_prompt + j->n_completion);
}

/* s[0..n) as a JSON string value, U+0000 included (cJSON's own strings end at a NUL). The
 * text comes from chord_detok, so it is valid UTF-8 and only needs its escapes. */
static cJSON *json_text(const char *s, size_t n) {
    char *t = malloc(n * 6 + 3), *w = t;   /* worst case: every byte as \u00XX */
    if (!t) return NULL;
    *w++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        const char *esc = ch == '"' ? "\\\"" : ch == '\\' ? "\\\\" : ch == '\n' ? "\\n" : ch == '\r' ? "\\r"
                        : ch == '\t' ? "\\t" : ch == '\b' ? "\\b" : ch == '\f' ? "\\f" : NULL;
        if (esc) w += sprintf(w, "%s", esc);
        else if (ch < 0x20) w += sprintf(w, "\\u%04x", ch);
        else *w++ = (char)ch;
    }
    *w++ = '"';
    *w = 0;
    cJSON *v = cJSON_CreateRaw(t);
    free(t);
    return v;
}

static char *print_free(cJSON *o) {
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

char *srv_oai_result_json(const srv_ctx *c, const srv_req *rq, const srv_job *j) {
    int chat = rq->ep == EP_CHAT;
    cJSON *o = base_object(c, rq, chat ? "chat.completion" : "text_completion");
    cJSON *ch = cJSON_CreateObject();
    cJSON_AddNumberToObject(ch, "index", 0);
    if (chat) {
        cJSON *m = cJSON_AddObjectToObject(ch, "message");
        cJSON_AddStringToObject(m, "role", "assistant");
        cJSON_AddItemToObject(m, "content", json_text(j->text ? j->text : "", j->n_text));
    } else {
        cJSON_AddItemToObject(ch, "text", json_text(j->text ? j->text : "", j->n_text));
    }
    cJSON_AddNullToObject(ch, "logprobs");
    cJSON_AddStringToObject(ch, "finish_reason", j->finish ? j->finish : "stop");
    cJSON *arr = cJSON_AddArrayToObject(o, "choices");
    cJSON_AddItemToArray(arr, ch);
    add_usage(o, j);
    return print_free(o);
}

char *srv_oai_chunk(const srv_ctx *c, const srv_req *rq, const char *delta, size_t n, int first,
                    const char *finish, const srv_job *usage_of) {
    int chat = rq->ep == EP_CHAT;
    cJSON *o = base_object(c, rq, chat ? "chat.completion.chunk" : "text_completion");
    cJSON *arr = cJSON_AddArrayToObject(o, "choices");
    if (usage_of) {
        add_usage(o, usage_of);
    } else {
        cJSON *ch = cJSON_CreateObject();
        cJSON_AddNumberToObject(ch, "index", 0);
        if (chat) {
            cJSON *d = cJSON_AddObjectToObject(ch, "delta");
            if (first) cJSON_AddStringToObject(d, "role", "assistant");
            if (!finish) cJSON_AddItemToObject(d, "content", json_text(delta, n));
        } else {
            cJSON_AddItemToObject(ch, "text", json_text(finish ? "" : delta, finish ? 0 : n));
        }
        cJSON_AddNullToObject(ch, "logprobs");
        if (finish) cJSON_AddStringToObject(ch, "finish_reason", finish);
        else cJSON_AddNullToObject(ch, "finish_reason");
        cJSON_AddItemToArray(arr, ch);
    }
    char *js = print_free(o);
    if (!js) return NULL;
    size_t l = strlen(js);
    char *ev = malloc(l + 9);
    if (ev) snprintf(ev, l + 9, "data: %s\n\n", js);
    free(js);
    return ev;
}

static cJSON *model_object(const srv_ctx *c) {
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "id", c->model_id);
    cJSON_AddStringToObject(m, "object", "model");
    cJSON_AddNumberToObject(m, "created", (double)c->created);
    cJSON_AddStringToObject(m, "owned_by", "wasm-chord");
    return m;
}

char *srv_oai_models_json(const srv_ctx *c) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "object", "list");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "data"), model_object(c));
    return print_free(o);
}

char *srv_oai_model_json(const srv_ctx *c) { return print_free(model_object(c)); }

char *srv_oai_health_json(const srv_health *h) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", h->slots_free > 0 ? "ok" : "busy");
    cJSON_AddNumberToObject(o, "slots_total", h->slots_total);
    cJSON_AddNumberToObject(o, "slots_free", h->slots_free);
    cJSON_AddNumberToObject(o, "queue", h->queued);
    cJSON_AddNumberToObject(o, "queue_max", h->queue_max);
    cJSON_AddNumberToObject(o, "requests_served", (double)h->served);
    cJSON_AddNumberToObject(o, "requests_failed", (double)h->failed);
    cJSON_AddNumberToObject(o, "tokens_generated", (double)h->tokens);
    cJSON_AddNumberToObject(o, "prompt_tokens_prefilled", (double)h->prefilled);
    cJSON_AddNumberToObject(o, "prompt_tokens_cached", (double)h->cached);
    return print_free(o);
}
