/*
 * http.c — the HTTP side of `wasm-chord serve`, on libmicrohttpd with one thread per connection
 * (so a handler may block on its job). A request is read whole (up to max_body_bytes, else 413),
 * then request.c decides what it is — an error, /health, /v1/models, or a job parsed from the
 * body (oai.c) — and a job is submitted to the slot pool (slots.c). Non-streamed answers are sent when the job is done; streamed ones as
 * Server-Sent Events from a content-reader callback that waits on the job's text.
 *
 * Disconnects: while it waits, the connection thread polls its socket for POLLRDHUP; a client
 * that went away cancels its job at once, so its slot is free within one token. Time limits:
 * queue_timeout_s in the queue (then 503), timeout_s for the whole request (then 504, or an
 * error event when streaming).
 */
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "platform.h"
#include "server.h"

#define WAIT_SLICE_MS 50

static atomic_int draining;   /* after srv_http_quiesce: answers close their connection */

/* ---- plain responses ------------------------------------------------------------------------ */

static enum MHD_Result send_json(struct MHD_Connection *conn, unsigned status, char *json) {
    if (!json) return MHD_NO;
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(json), json, MHD_RESPMEM_MUST_FREE);
    if (!r) { free(json); return MHD_NO; }
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (draining) MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *conn, const srv_err *e) {
    return send_json(conn, (unsigned)e->status, srv_oai_error_json(e));
}

static enum MHD_Result send_error_msg(struct MHD_Connection *conn, int status, const char *type,
                                      const char *code, const char *msg) {
    srv_err e;
    srv_err_set(&e, status, type, code, NULL, "%s", msg);
    return send_error(conn, &e);
}

/* ---- waiting on a job ----------------------------------------------------------------------- */

static int client_gone(int fd) {
    if (fd < 0) return 0;
    struct pollfd p = { .fd = fd, .events = POLLRDHUP };
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static int conn_fd(struct MHD_Connection *conn) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    return ci ? ci->connect_fd : -1;
}

typedef enum { WAIT_OK, WAIT_GONE, WAIT_QUEUE_TIMEOUT, WAIT_TIMEOUT } wait_result;

/* Waits (j->mu held) until pred(j) holds; cancels the job if the client leaves or a limit ends. */
static wait_result wait_job(srv_ctx *c, srv_job *j, int fd, int (*pred)(const srv_job *)) {
    const double queue_end = chord_time_ms() + c->cfg->queue_timeout_s * 1000.0;
    while (!pred(j)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += WAIT_SLICE_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
        pthread_cond_timedwait(&j->cv, &j->mu, &ts);
        if (pred(j)) break;
        double now = chord_time_ms();
        wait_result why = client_gone(fd) ? WAIT_GONE
                        : j->state == JOB_QUEUED && now > queue_end ? WAIT_QUEUE_TIMEOUT
                        : now > j->deadline_ms ? WAIT_TIMEOUT : WAIT_OK;
        if (why == WAIT_OK) continue;
        if (why == WAIT_TIMEOUT) atomic_store(&j->cancel, 2);
        pthread_mutex_unlock(&j->mu);
        srv_pool_cancel(c->pool, j);
        pthread_mutex_lock(&j->mu);
        while (j->state != JOB_DONE) pthread_cond_wait(&j->cv, &j->mu);
        return why;
    }
    return WAIT_OK;
}

static int is_done(const srv_job *j) { return j->state == JOB_DONE; }
static int is_started(const srv_job *j) { return j->state != JOB_QUEUED; }

static enum MHD_Result wait_failure(struct MHD_Connection *conn, srv_ctx *c, wait_result w) {
    char msg[160];
    if (w == WAIT_QUEUE_TIMEOUT) {
        snprintf(msg, sizeof msg, "the server is busy: no slot became free within %g s; retry later", c->cfg->queue_timeout_s);
        return send_error_msg(conn, 503, "server_error", "server_busy", msg);
    }
    if (w == WAIT_TIMEOUT) {
        snprintf(msg, sizeof msg, "the request exceeded the server's time limit of %g s", c->cfg->timeout_s);
        return send_error_msg(conn, 504, "timeout", "request_timeout", msg);
    }
    return MHD_NO; /* the client is gone: close the connection */
}

/* ---- streaming ------------------------------------------------------------------------------ */

typedef enum { PH_ROLE, PH_TEXT, PH_USAGE, PH_DONE, PH_END } phase;

typedef struct {
    srv_ctx *c;
    srv_job *j;
    srv_req rq;
    int fd;
    phase ph;
    size_t n_sent;                  /* bytes of j->text already sent */
    char *ev;                       /* the event being written */
    size_t ev_len, ev_off;
} stream_state;

/* The next SSE event, or NULL when the client has left. Blocks until there is something. */
static char *next_event(stream_state *st) {
    srv_job *j = st->j;
    if (st->ph == PH_ROLE) {
        st->ph = PH_TEXT;
        if (st->rq.ep == EP_CHAT) return srv_oai_chunk(st->c, &st->rq, "", 0, 1, NULL, NULL);
    }
    if (st->ph == PH_USAGE) {
        st->ph = PH_DONE;
        return srv_oai_chunk(st->c, &st->rq, NULL, 0, 0, NULL, j);
    }
    if (st->ph == PH_DONE) {
        st->ph = PH_END;
        return strdup("data: [DONE]\n\n");
    }
    pthread_mutex_lock(&j->mu);
    /* wait until there is unsent text or the job is done */
    wait_result w = WAIT_OK;
    while (!(j->n_ready > st->n_sent || j->state == JOB_DONE) && w == WAIT_OK) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += WAIT_SLICE_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
        pthread_cond_timedwait(&j->cv, &j->mu, &ts);
        if (j->n_ready > st->n_sent || j->state == JOB_DONE) break;
        if (client_gone(st->fd)) w = WAIT_GONE;
        else if (chord_time_ms() > j->deadline_ms) w = WAIT_TIMEOUT;
    }
    if (w != WAIT_OK) {
        if (w == WAIT_TIMEOUT) atomic_store(&j->cancel, 2);
        pthread_mutex_unlock(&j->mu);
        srv_pool_cancel(st->c->pool, j);
        if (w == WAIT_GONE) return NULL;
        pthread_mutex_lock(&j->mu);
        while (j->state != JOB_DONE) pthread_cond_wait(&j->cv, &j->mu);
    }
    char *ev;
    if (j->n_ready > st->n_sent) {
        ev = srv_oai_chunk(st->c, &st->rq, j->text + st->n_sent, j->n_ready - st->n_sent, 0, NULL, NULL);
        st->n_sent = j->n_ready;
    } else if (j->http_status) {
        srv_err e;
        srv_err_set(&e, j->http_status, j->error_type, j->error_code, NULL, "%s", j->error);
        char *js = srv_oai_error_json(&e);
        size_t l = js ? strlen(js) + 9 : 0;
        ev = js ? malloc(l) : NULL;
        if (ev) snprintf(ev, l, "data: %s\n\n", js);
        free(js);
        st->ph = PH_DONE;
    } else {
        ev = srv_oai_chunk(st->c, &st->rq, NULL, 0, 0, j->finish ? j->finish : "stop", NULL);
        st->ph = st->rq.include_usage ? PH_USAGE : PH_DONE;
    }
    pthread_mutex_unlock(&j->mu);
    return ev;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    stream_state *st = cls;
    for (;;) {
        if (st->ev && st->ev_off < st->ev_len) {
            size_t n = st->ev_len - st->ev_off < max ? st->ev_len - st->ev_off : max;
            memcpy(buf, st->ev + st->ev_off, n);
            st->ev_off += n;
            return (ssize_t)n;
        }
        free(st->ev);
        st->ev = NULL;
        if (st->ph == PH_END) return MHD_CONTENT_READER_END_OF_STREAM;
        if (!(st->ev = next_event(st))) return MHD_CONTENT_READER_END_WITH_ERROR;
        st->ev_len = strlen(st->ev);
        st->ev_off = 0;
    }
}

/* Called when the response is done or the connection died: a job still running is cancelled. */
static void stream_free(void *cls) {
    stream_state *st = cls;
    srv_pool_cancel(st->c->pool, st->j);
    srv_job_release(st->c->pool, st->j);
    free(st->ev);
    free(st);
}

/* ---- the completion endpoints --------------------------------------------------------------- */

static enum MHD_Result serve_generation(struct MHD_Connection *conn, srv_ctx *c, srv_job *j, srv_req rq) {
    srv_err e = { 0 };
    if (srv_pool_submit(c->pool, j) != 0) {
        srv_job_release(c->pool, j);
        return send_error_msg(conn, 503, "server_error", "queue_full",
                              "the server is busy: the request queue is full; retry later");
    }
    int fd = conn_fd(conn);
    pthread_mutex_lock(&j->mu);
    wait_result w = wait_job(c, j, fd, rq.stream ? is_started : is_done);
    int failed_early = j->state == JOB_DONE && j->http_status && !j->n_ready;
    pthread_mutex_unlock(&j->mu);
    if (w != WAIT_OK) {
        srv_job_release(c->pool, j);
        return wait_failure(conn, c, w);
    }
    if (!rq.stream || failed_early) {
        pthread_mutex_lock(&j->mu);
        char *out = NULL;
        int status = j->http_status;
        if (status) e.status = status, e.type = j->error_type, e.code = j->error_code,
                    snprintf(e.message, sizeof e.message, "%s", j->error), e.param[0] = 0;
        else out = srv_oai_result_json(c, &rq, j);
        pthread_mutex_unlock(&j->mu);
        srv_job_release(c->pool, j);
        if (status == 499) return MHD_NO;
        return status ? send_error(conn, &e) : send_json(conn, 200, out);
    }
    stream_state *st = calloc(1, sizeof *st);
    if (!st) {
        srv_pool_cancel(c->pool, j);
        srv_job_release(c->pool, j);
        return send_error_msg(conn, 500, "server_error", "out_of_memory", "out of memory");
    }
    *st = (stream_state){ .c = c, .j = j, .rq = rq, .fd = fd, .ph = PH_ROLE };
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_read, st, stream_free);
    if (!r) { stream_free(st); return MHD_NO; }
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    MHD_add_response_header(r, "X-Accel-Buffering", "no"); /* nginx: pass events on at once */
    enum MHD_Result ret = MHD_queue_response(conn, 200, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- routing -------------------------------------------------------------------------------- */

static enum MHD_Result route(struct MHD_Connection *conn, srv_ctx *c, const char *url, const char *method,
                             const srv_body *body) {
    srv_http_req in = { .method = method, .url = url, .body = body,
                        .authorization = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization") };
    srv_req rq = { 0 };
    srv_job *j = NULL;
    srv_err e = { 0 };
    switch (srv_request_parse(c, &in, &rq, &j, &e)) {
    case RT_HEALTH: {
        srv_health h;
        srv_pool_health(c->pool, &h);
        return send_json(conn, 200, srv_oai_health_json(&h));
    }
    case RT_MODELS: return send_json(conn, 200, srv_oai_models_json(c));
    case RT_MODEL: return send_json(conn, 200, srv_oai_model_json(c));
    case RT_GENERATE: return serve_generation(conn, c, j, rq);
    case RT_ERROR: break;
    }
    return send_error(conn, &e);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    (void)version;
    srv_ctx *c = cls;
    srv_body *b = *con_cls;
    if (!b) {
        if (!(b = calloc(1, sizeof *b))) return MHD_NO;
        *con_cls = b;
        atomic_fetch_add(&c->in_flight, 1);
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        return srv_body_append(b, upload, n, (size_t)c->cfg->max_body_bytes) == 0 ? MHD_YES : MHD_NO;
    }
    return route(conn, c, url, method, b);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe) {
    (void)conn; (void)toe;
    srv_ctx *c = cls;
    srv_body *b = *con_cls;
    if (b) { srv_body_free(b); free(b); atomic_fetch_sub(&c->in_flight, 1); }
    *con_cls = NULL;
}

void *srv_http_start(srv_ctx *c, char *msg, size_t cap) {
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *ai = NULL;
    char port[16];
    snprintf(port, sizeof port, "%d", c->cfg->port);
    int rc = getaddrinfo(c->cfg->host, port, &hints, &ai);
    if (rc != 0) {
        snprintf(msg, cap, "cannot resolve --host '%s': %s", c->cfg->host, gai_strerror(rc));
        return NULL;
    }
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC;
    if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
    struct MHD_Daemon *d = MHD_start_daemon(flags, (uint16_t)c->cfg->port, NULL, NULL, on_request, c,
        MHD_OPTION_SOCK_ADDR, ai->ai_addr,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)(c->cfg->parallel + c->cfg->queue_max + 64),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, c,
        MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!d) {
        snprintf(msg, cap, "cannot listen on %s:%d (in use, or not an address of this machine)", c->cfg->host, c->cfg->port);
        return NULL;
    }
    return d;
}

int srv_http_port(void *daemon) {
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    return di ? di->port : -1;
}

void srv_http_quiesce(void *daemon) {
    atomic_store(&draining, 1);
    MHD_socket fd = MHD_quiesce_daemon(daemon);
    if (fd != MHD_INVALID_SOCKET) close(fd);
}


void srv_http_stop(void *daemon) {
    if (daemon) MHD_stop_daemon(daemon);
}
