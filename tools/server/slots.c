/*
 * slots.c — the server's capacity: N slots, each a chord_session over the shared model and a
 * worker thread, fed from one bounded FIFO queue. A job waits in the queue until a slot is
 * free; when the queue holds queue_max jobs, new ones are refused at once (the HTTP side
 * answers 503). A cancelled job leaves the queue immediately, or — when running — has its
 * session cancelled, so the slot is free again within one token.
 *
 * Generation streams into the job's text buffer under the job's lock. Stop strings are cut off
 * here: n_ready is how much text is safe to send, holding back a tail that could still turn out
 * to be the start of a stop string.
 *
 * With cache_prompt, a slot keeps its KV cache between jobs and only feeds the part of the next
 * prompt after the common prefix (chord_session_truncate); off by default so every answer is
 * computed exactly as `wasm-chord run` computes it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "platform.h"
#include "server.h"

typedef struct {
    srv_pool *pool;
    chord_session *s;
    pthread_t thread;
    int busy;
} srv_slot;

struct srv_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;                /* a job was queued, or shutdown */
    srv_job *head, *tail;
    int n_queued, queue_max, n_busy, n_slots, quit;
    uint64_t served, failed, tokens, prefilled, cached;
    int cache_prompt;
    srv_slot *slots;
};

srv_job *srv_job_new(void) {
    srv_job *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    atomic_init(&j->cancel, 0);
    j->refs = 1;
    j->sp = chord_sampler_params_default();
    return j;
}

void srv_job_free(srv_job *j) {
    if (!j) return;
    free(j->prompt);
    for (size_t i = 0; i < j->n_stop; i++) free(j->stop[i]);
    free(j->text);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->cv);
    free(j);
}

void srv_job_release(srv_pool *p, srv_job *j) {
    if (!j) return;
    pthread_mutex_lock(&p->mu);
    int last = --j->refs == 0;
    pthread_mutex_unlock(&p->mu);
    if (last) srv_job_free(j);
}

void srv_job_fail_locked(srv_job *j, int status, const char *type, const char *code, const char *msg) {
    j->http_status = status;
    j->error_type = type;
    j->error_code = code;
    snprintf(j->error, sizeof j->error, "%s", msg);
}

/* ---- stop strings --------------------------------------------------------------------------- */

/* Cuts the text at the first stop string (returns 1), else moves n_ready up to the longest tail
 * that is not a prefix of any stop string. Caller holds j->mu. */
static int apply_stop(srv_job *j, size_t n_before) {
    size_t from = n_before > j->max_stop_len ? n_before - j->max_stop_len : 0;
    size_t cut = (size_t)-1;
    for (size_t k = 0; k < j->n_stop; k++) {
        size_t sl = strlen(j->stop[k]);
        for (size_t i = from; i + sl <= j->n_text && i < cut; i++)
            if (!memcmp(j->text + i, j->stop[k], sl)) { cut = i; break; }
    }
    if (cut != (size_t)-1) {
        j->n_text = cut;
        j->n_ready = cut;
        return 1;
    }
    size_t hold = 0;
    for (size_t k = 0; k < j->n_stop; k++) {
        size_t sl = strlen(j->stop[k]);
        for (size_t h = sl - 1; h > hold; h--)
            if (h <= j->n_text && !memcmp(j->text + j->n_text - h, j->stop[k], h)) { hold = h; break; }
    }
    j->n_ready = j->n_text - hold;
    return 0;
}

int srv_job_push_locked(srv_job *j, int32_t token, const char *text, size_t len) {
    if (token >= 0) j->n_completion++;   /* -1: held-back bytes flushed at the end, not a token */
    if (j->n_text + len + 1 > j->cap_text) {
        size_t cap = (j->n_text + len + 1) * 2;
        char *t = realloc(j->text, cap);
        if (!t) {
            srv_job_fail_locked(j, 500, "server_error", "out_of_memory", "out of memory collecting the answer");
            return -1;
        }
        j->text = t;
        j->cap_text = cap;
    }
    size_t before = j->n_text;
    if (len) memcpy(j->text + j->n_text, text, len);
    j->n_text += len;
    j->text[j->n_text] = 0;
    if (!apply_stop(j, before)) return 0;
    j->finish = "stop";
    return 1;
}

static int on_token(void *user, int32_t token, const char *text, size_t len) {
    srv_job *j = user;
    pthread_mutex_lock(&j->mu);
    int r = srv_job_push_locked(j, token, text, len);
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    if (r < 0) return 1;
    if (chord_time_ms() > j->deadline_ms) atomic_store(&j->cancel, 2);
    return r || atomic_load(&j->cancel);
}

/* ---- running a job -------------------------------------------------------------------------- */

/* Tokens of the cached history equal to the prompt's start, keeping at least one prompt token
 * to feed (the logits of the last prompt token are needed). */
static size_t reuse_prefix(chord_session *s, const srv_job *j, int cache_prompt) {
    if (!cache_prompt) return 0;
    size_t n = chord_session_common_prefix(s, j->prompt, j->n_prompt);
    return n >= j->n_prompt ? j->n_prompt - 1 : n;
}

static void run_job(srv_slot *sl, srv_job *j) {
    chord_session *s = sl->s;
    chord_error err = { 0 };
    size_t keep = reuse_prefix(s, j, sl->pool->cache_prompt);
    j->n_cached = keep;
    chord_status st = chord_session_truncate(s, (uint32_t)keep, &err);
    if (st == CHORD_OK) st = chord_session_feed(s, j->prompt + keep, j->n_prompt - keep, &err);
    int32_t room = (int32_t)(chord_session_n_ctx(s) - chord_session_pos(s));
    int32_t n_gen = j->max_tokens < room ? j->max_tokens : room;
    if (st == CHORD_OK) st = chord_generate(s, &j->sp, n_gen, on_token, j, &err);
    pthread_mutex_lock(&j->mu);
    int cancel = atomic_load(&j->cancel);
    if (j->http_status) {
        /* on_token failed (out of memory) */
    } else if (cancel == 2) {
        srv_job_fail_locked(j, 504, "timeout", "request_timeout", "the request exceeded the server's time limit (--timeout)");
    } else if (cancel) {
        srv_job_fail_locked(j, 499, "cancelled", "client_closed", "the client closed the connection");
    } else if (st == CHORD_OK || st == CHORD_E_RANGE) {
        /* CHORD_E_RANGE: the context filled up — the answer is cut at its length limit */
        if (!j->finish) j->finish = j->n_completion >= n_gen || st == CHORD_E_RANGE ? "length" : "stop";
        j->n_ready = j->n_text;
    } else {
        srv_job_fail_locked(j, 500, "server_error", chord_status_name(st), err.message);
    }
    j->state = JOB_DONE;
    j->session = NULL;
    /* read after session = NULL: a cancel that reached chord_session_cancel set j->cancel first,
     * and the session's flag must not leak into the slot's next job */
    cancel = atomic_load(&j->cancel);
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    if (cancel || !sl->pool->cache_prompt) chord_session_reset(s);
}

static void *worker(void *arg) {
    srv_slot *sl = arg;
    srv_pool *p = sl->pool;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->head && !p->quit) pthread_cond_wait(&p->cv, &p->mu);
        if (p->quit) break;
        srv_job *j = p->head;
        p->head = j->next;
        if (!p->head) p->tail = NULL;
        j->next = NULL;
        p->n_queued--;
        p->n_busy++;
        sl->busy = 1;
        pthread_mutex_unlock(&p->mu);

        pthread_mutex_lock(&j->mu);
        j->state = JOB_RUNNING;
        j->session = sl->s;
        pthread_cond_broadcast(&j->cv);
        pthread_mutex_unlock(&j->mu);
        run_job(sl, j);

        pthread_mutex_lock(&p->mu);
        p->tokens += (uint64_t)j->n_completion;
        p->cached += j->n_cached;
        p->prefilled += j->n_prompt - j->n_cached;
        if (j->http_status) p->failed++;
        else p->served++;
        p->n_busy--;
        sl->busy = 0;
        pthread_mutex_unlock(&p->mu);
        srv_job_release(p, j);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ---- the pool ------------------------------------------------------------------------------- */

chord_status srv_pool_new(srv_pool **out, chord_model *m, const srv_config *cfg, chord_error *err) {
    srv_pool *p = calloc(1, sizeof *p);
    if (!p) return chord_fail(err, CHORD_E_NOMEM, "out of memory for the slot pool");
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->queue_max = cfg->queue_max;
    p->cache_prompt = cfg->cache_prompt;
    p->slots = calloc((size_t)cfg->parallel, sizeof *p->slots);
    if (!p->slots) { srv_pool_free(p); return chord_fail(err, CHORD_E_NOMEM, "out of memory for %d slots", cfg->parallel); }
    chord_session_params sp = chord_session_params_default();
    sp.n_ctx = cfg->n_ctx;
    sp.n_threads = cfg->n_threads;
    for (int i = 0; i < cfg->parallel; i++) {
        srv_slot *sl = &p->slots[i];
        sl->pool = p;
        chord_status st = chord_session_new(&sl->s, m, &sp, err);
        if (st == CHORD_OK && pthread_create(&sl->thread, NULL, worker, sl) != 0) {
            chord_session_free(sl->s);
            sl->s = NULL;
            st = chord_fail(err, CHORD_E_INTERNAL, "cannot start the worker thread of slot %d", i);
        }
        if (st != CHORD_OK) { srv_pool_free(p); return st; }
        p->n_slots++;
    }
    *out = p;
    return CHORD_OK;
}

void srv_pool_free(srv_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    for (int i = 0; i < p->n_slots; i++) chord_session_cancel(p->slots[i].s);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n_slots; i++) {
        pthread_join(p->slots[i].thread, NULL);
        chord_session_free(p->slots[i].s);
    }
    free(p->slots);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}

int srv_pool_submit(srv_pool *p, srv_job *j) {
    pthread_mutex_lock(&p->mu);
    if (p->n_queued >= p->queue_max || p->quit) {
        pthread_mutex_unlock(&p->mu);
        return -1;
    }
    j->refs++;
    j->state = JOB_QUEUED;
    if (p->tail) p->tail->next = j;
    else p->head = j;
    p->tail = j;
    p->n_queued++;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

void srv_pool_cancel(srv_pool *p, srv_job *j) {
    atomic_store(&j->cancel, atomic_load(&j->cancel) ? atomic_load(&j->cancel) : 1);
    pthread_mutex_lock(&p->mu);
    /* still queued: unlink it, the queue's reference goes with it */
    srv_job **pp = &p->head, *prev = NULL;
    int unqueued = 0;
    while (*pp && *pp != j) { prev = *pp; pp = &(*pp)->next; }
    if (*pp == j) {
        *pp = j->next;
        if (p->tail == j) p->tail = prev;
        j->next = NULL;
        p->n_queued--;
        j->refs--;
        unqueued = 1;
    }
    pthread_mutex_unlock(&p->mu);
    pthread_mutex_lock(&j->mu);
    if (unqueued) {
        j->state = JOB_DONE;
        pthread_cond_broadcast(&j->cv);
    } else if (j->session) {
        chord_session_cancel(j->session);
    }
    pthread_mutex_unlock(&j->mu);
}

void srv_pool_health(srv_pool *p, srv_health *h) {
    pthread_mutex_lock(&p->mu);
    h->slots_total = p->n_slots;
    h->slots_free = p->n_slots - p->n_busy;
    h->queued = p->n_queued;
    h->queue_max = p->queue_max;
    h->served = p->served;
    h->failed = p->failed;
    h->tokens = p->tokens;
    h->prefilled = p->prefilled;
    h->cached = p->cached;
    pthread_mutex_unlock(&p->mu);
}

void srv_pool_shutdown(srv_pool *p) {
    pthread_mutex_lock(&p->mu);
    p->quit = 1;   /* refuse new jobs; workers exit after their current one */
    srv_job *q = p->head;
    p->head = p->tail = NULL;
    p->n_queued = 0;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (srv_job *j = q, *next; j; j = next) {
        next = j->next;
        pthread_mutex_lock(&j->mu);
        j->next = NULL;
        srv_job_fail_locked(j, 503, "server_error", "shutting_down", "the server is shutting down");
        j->state = JOB_DONE;
        pthread_cond_broadcast(&j->cv);
        pthread_mutex_unlock(&j->mu);
        srv_job_release(p, j);
    }
    for (int i = 0; i < p->n_slots; i++) chord_session_cancel(p->slots[i].s);
}
