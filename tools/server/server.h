/*
 * server.h — `wasm-chord serve`, an OpenAI-compatible HTTP server over one shared chord_model.
 * The pieces, in the order a request moves through them:
 *   http.c   libmicrohttpd glue: responses, SSE streaming, disconnects
 *   request.c what the server reads itself: body limit, API key, path and method → a route, and
 *            the body (oai.c) → a job; a pure function, fuzzed by tests/fuzz/fuzz_server.c
 *   oai.c    OpenAI request JSON (cJSON) → a job (prompt tokens, sampling, stop strings) and
 *            job results → OpenAI response JSON; OpenAI-shaped error bodies
 *   slots.c  N slots (one chord_session and one worker thread each) and a bounded FIFO queue
 *   serve.c  flags, model, start/stop
 * Threads: libmicrohttpd runs one thread per connection; that thread submits a job and waits on
 * it, the slot's worker thread generates into the job's text buffer. A job is shared by the two
 * and freed by whichever lets go last (refs).
 */
#ifndef CHORD_SERVER_H
#define CHORD_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "chord.h"

#define SRV_MAX_STOP 4

typedef enum { JOB_QUEUED, JOB_RUNNING, JOB_DONE } srv_job_state;

typedef struct srv_job {
    /* the request, set before submission and then read-only */
    int32_t *prompt;
    size_t n_prompt;
    int32_t max_tokens;
    chord_sampler_params sp;
    char *stop[SRV_MAX_STOP];
    size_t n_stop, max_stop_len;
    double deadline_ms;               /* chord_time_ms() at which the request time limit ends */

    /* progress, guarded by mu; cv signals every change */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    srv_job_state state;
    char *text;                       /* generated text, stop string cut off */
    size_t n_text, cap_text;
    size_t n_ready;                   /* bytes of text that can be sent (no stop prefix held back) */
    int32_t n_completion;             /* tokens generated */
    size_t n_cached;                  /* prompt tokens taken from the slot's cache (--cache-prompt) */
    const char *finish;               /* "stop" | "length" once DONE without error */
    int http_status;                  /* non-zero: the job failed with this status */
    char error[CHORD_ERROR_MESSAGE_BYTES];
    const char *error_type, *error_code;

    atomic_int cancel;                /* the client left or the time ran out */
    chord_session *session;           /* while RUNNING, for chord_session_cancel */
    int refs;                         /* guarded by the pool's lock */
    struct srv_job *next;             /* queue link */
} srv_job;

typedef struct srv_pool srv_pool;

typedef struct srv_config {
    const char *model_path, *host, *api_key, *alias, *chat_template_path;
    int port, parallel, queue_max, n_threads;
    uint32_t n_ctx;
    long max_body_bytes, max_tokens_limit;
    double timeout_s, queue_timeout_s;
    int cache_prompt;
    int quiet;
} srv_config;

typedef struct srv_ctx {
    const srv_config *cfg;
    chord_model *model;
    srv_pool *pool;
    char model_id[128];
    char *chat_template;              /* --chat-template file contents, or NULL */
    size_t chat_template_len;
    char bos_text[64], eos_text[64];
    long created;                     /* start time, reported in /v1/models */
    atomic_uint_least64_t next_id;
    atomic_int in_flight;             /* requests between their first byte and their answer's end */
} srv_ctx;

/* ---- slots.c -------------------------------------------------------------------------------- */
typedef struct srv_health { int slots_total, slots_free, queued, queue_max; uint64_t served, failed, tokens, prefilled, cached; } srv_health;

chord_status srv_pool_new(srv_pool **out, chord_model *m, const srv_config *cfg, chord_error *err);
void srv_pool_free(srv_pool *p);
srv_job *srv_job_new(void);
/* Frees a job that was never submitted (its one reference, nobody else holds it). NULL is fine. */
void srv_job_free(srv_job *j);
/* Queues the job (taking a reference). Returns 0, or -1 when the queue is full. */
int srv_pool_submit(srv_pool *p, srv_job *j);
/* Asks the job to stop: unqueued if still waiting, its session cancelled if running. */
void srv_pool_cancel(srv_pool *p, srv_job *j);
/* Drops one reference; the last one frees the job. */
void srv_job_release(srv_pool *p, srv_job *j);
void srv_pool_health(srv_pool *p, srv_health *h);
/* The slot's worker marks the job failed; caller holds j->mu. */
void srv_job_fail_locked(srv_job *j, int status, const char *type, const char *code, const char *msg);
/* Appends generated text (token -1: held-back bytes, not a token) and applies the stop strings:
 * returns 1 when a stop string ended the answer (text cut before it, finish = "stop"), 0 to go
 * on, -1 when out of memory (the job is failed). Caller holds j->mu. */
int srv_job_push_locked(srv_job *j, int32_t token, const char *text, size_t len);

/* ---- oai.c ---------------------------------------------------------------------------------- */
typedef enum { EP_CHAT, EP_COMPLETION } srv_endpoint;

/* What the HTTP side needs besides the job to answer a request. */
typedef struct srv_req {
    srv_endpoint ep;
    int stream, include_usage;
    char id[48];
    long created;
} srv_req;

typedef struct srv_err {
    int status;
    const char *type, *code;
    char param[64];
    char message[512];
} srv_err;

/* Parses and checks a request body, renders/tokenizes the prompt and fills a new job.
 * Returns the job (one reference) or NULL with *e set. */
srv_job *srv_oai_parse(srv_ctx *c, srv_endpoint ep, const char *body, size_t len, srv_req *rq, srv_err *e);
/* JSON bodies, malloc'd strings (caller frees). */
char *srv_oai_error_json(const srv_err *e);
char *srv_oai_models_json(const srv_ctx *c);
char *srv_oai_model_json(const srv_ctx *c);   /* the one model object of /v1/models/ID */
char *srv_oai_health_json(const srv_health *h);
/* The whole non-streamed answer; the job is DONE without error. */
char *srv_oai_result_json(const srv_ctx *c, const srv_req *rq, const srv_job *j);
/* One SSE event ("data: {...}\n\n") with delta text (first: also the role), or the final chunk
 * with finish_reason (finish != NULL), or the usage chunk (usage = 1). */
char *srv_oai_chunk(const srv_ctx *c, const srv_req *rq, const char *delta, size_t n, int first,
                    const char *finish, const srv_job *usage_of);
int srv_err_set(srv_err *e, int status, const char *type, const char *code, const char *param,
                 const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* ---- request.c ----------------------------------------------------------------------------- */
/* The body as it arrives; past max_body_bytes it is dropped and too_big is set (413 at the end). */
typedef struct srv_body {
    char *data;                       /* NUL-terminated, or NULL when empty */
    size_t n, cap;
    int too_big;
} srv_body;
/* Appends a chunk. Returns 0 (also when it is over the limit), -1 when out of memory. */
int srv_body_append(srv_body *b, const char *chunk, size_t n, size_t max);
void srv_body_free(srv_body *b);

/* What libmicrohttpd hands over: method, path (no query string), the Authorization header
 * (NULL when absent) and the whole body. */
typedef struct srv_http_req {
    const char *method, *url, *authorization;
    const srv_body *body;
} srv_http_req;

typedef enum { RT_ERROR, RT_HEALTH, RT_MODELS, RT_MODEL, RT_GENERATE } srv_route;
/* A request → what to answer: RT_ERROR with *e set (status, type, code, message), the health or
 * models answers, or RT_GENERATE with *job (one reference, never submitted) and *rq filled. */
srv_route srv_request_parse(srv_ctx *c, const srv_http_req *in, srv_req *rq, srv_job **job, srv_err *e);

/* ---- http.c --------------------------------------------------------------------------------- */
/* Starts the daemon; returns NULL with a message on failure. */
void *srv_http_start(srv_ctx *c, char *msg, size_t cap);
int srv_http_port(void *daemon);      /* the bound port (for --port 0) */
void srv_http_quiesce(void *daemon);  /* stop accepting connections; open ones go on */
void srv_http_stop(void *daemon);
void srv_pool_shutdown(srv_pool *p); /* cancels every job, refuses new ones */

int chord_cli_serve(int argc, char **argv);

#endif
