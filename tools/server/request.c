/*
 * request.c — the server's own reading of a request, from what libmicrohttpd hands over (method,
 * path, the Authorization header, body chunks) to a route or an OpenAI-shaped error. It is a pure
 * function of its inputs and the server's configuration — no connection, socket or thread — so
 * that tests/fuzz/fuzz_server.c runs exactly the code a request runs. libmicrohttpd has already
 * parsed the HTTP syntax (request line, headers, Content-Length, chunked encoding, the query
 * string, which it strips from the path) before any of this.
 *
 * The checks come in the order a client should hear about them: /health needs no key; then the
 * API key (401), the body limit (413), the path and method (404, 405), and last the body itself
 * (oai.c: 400 naming the field, 404 for another model).
 */
#include <stdlib.h>
#include <string.h>

#include "server.h"

/* ---- the body ------------------------------------------------------------------------------- */

int srv_body_append(srv_body *b, const char *chunk, size_t n, size_t max) {
    if (b->too_big || n > max || b->n > max - n) {
        b->too_big = 1;   /* the caller keeps reading and answers 413 at the end */
        return 0;
    }
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->n + n + 1) * 2;
        char *d = realloc(b->data, cap);
        if (!d) return -1;
        b->data = d;
        b->cap = cap;
    }
    if (n) memcpy(b->data + b->n, chunk, n);
    b->n += n;
    b->data[b->n] = 0;
    return 0;
}

void srv_body_free(srv_body *b) {
    free(b->data);
    *b = (srv_body){ 0 };
}

/* ---- the API key ---------------------------------------------------------------------------- */

/* 'Bearer KEY' against the configured key, in time independent of where they differ. */
static int authorized(const srv_ctx *c, const char *h) {
    if (!c->cfg->api_key) return 1;
    if (!h || strncmp(h, "Bearer ", 7)) return 0;
    const char *k = h + 7, *want = c->cfg->api_key;
    size_t lk = strlen(k), lw = strlen(want);
    unsigned diff = (unsigned)(lk ^ lw);
    for (size_t i = 0; i < lw; i++) diff |= (unsigned)(want[i] ^ (i < lk ? k[i] : 0));
    return diff == 0;
}

/* ---- routing -------------------------------------------------------------------------------- */

static srv_route method_error(srv_err *e, const char *msg) {
    srv_err_set(e, 405, "invalid_request_error", "method_not_allowed", NULL, "%s", msg);
    return RT_ERROR;
}

srv_route srv_request_parse(srv_ctx *c, const srv_http_req *in, srv_req *rq, srv_job **job, srv_err *e) {
    *job = NULL;
    const char *url = in->url, *method = in->method;
    int get = !strcmp(method, "GET"), post = !strcmp(method, "POST");
    if (!strcmp(url, "/health")) return get ? RT_HEALTH : method_error(e, "/health takes GET");
    if (!authorized(c, in->authorization)) {
        srv_err_set(e, 401, "invalid_request_error", "invalid_api_key", NULL,
                    "missing or wrong API key: send 'Authorization: Bearer <key>'");
        return RT_ERROR;
    }
    if (in->body->too_big) {
        srv_err_set(e, 413, "invalid_request_error", "request_too_large", NULL,
                    "the request body exceeds %ld bytes", c->cfg->max_body_bytes);
        return RT_ERROR;
    }
    if (!strcmp(url, "/v1/models") || !strncmp(url, "/v1/models/", 11)) {
        if (!get) return method_error(e, "/v1/models takes GET");
        if (url[10] == 0) return RT_MODELS;
        if (strcmp(url + 11, c->model_id)) {
            srv_err_set(e, 404, "invalid_request_error", "model_not_found", "model",
                        "the model '%s' does not exist; this server serves '%s'", url + 11, c->model_id);
            return RT_ERROR;
        }
        return RT_MODEL;
    }
    srv_endpoint ep;
    if (!strcmp(url, "/v1/chat/completions")) ep = EP_CHAT;
    else if (!strcmp(url, "/v1/completions")) ep = EP_COMPLETION;
    else {
        srv_err_set(e, 404, "invalid_request_error", "unknown_url", NULL, "unknown endpoint %s %s", method, url);
        return RT_ERROR;
    }
    if (!post) return method_error(e, "this endpoint takes POST");
    const srv_body *b = in->body;
    *job = srv_oai_parse(c, ep, b->data ? b->data : "", b->n, rq, e);
    return *job ? RT_GENERATE : RT_ERROR;
}
