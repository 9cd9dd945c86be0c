/*
 * test_paged.c — the paged weights (src/weights/paged.c, slots.c):
 *   - the slot policies on a cyclic trace: hits/misses/evictions exactly as predicted for every
 *     slot count (pin+stream: P pinned hit every pass after the first; LRU: 0 hits when S < L);
 *   - the same counts through the weights contract on a hand-built model, views pointing at the
 *     right bytes, preload and clear;
 *   - faults: a failing or short read ends the acquire with `io` naming layer, offset and bytes,
 *     the slot is left empty and the next acquire works;
 *   - two threads acquiring layers of one paged handle with 2 slots always see the right bytes;
 *   - an asynchronous source (chord_source.read_async, the wasm host's protocol, served here by a
 *     thread writing slots in pieces): every acquire after the first is a prefetch hit, a failed
 *     async read is read again on demand, freeing with a read pending drains the host first (the
 *     read is dropped, never written after the free); a read taken back after the patience
 *     leaves the old request only its retired word, so it cannot write over the slot's next
 *     request when the host wakes;
 *     stories260K over it gives the resident tokens;
 *   - stories260K: paged (all, half, 2 slots; pin and LRU; prefetch on/off; 1 and 2 threads)
 *     generates exactly the resident tokens; a budget too small is `nomem` naming the numbers.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chord.h"
#include "check.h"
#include "check_model.h"
#include "weights/slots.h"
#include "weights/weights.h"

/* ---- the policies on a cyclic trace ------------------------------------------------------------ */

typedef struct { uint64_t hits, misses, evictions; } counts;

static counts run_trace(chord_cache_policy pol, int32_t S, int32_t L, int passes) {
    chord_slots d;
    counts c = { 0, 0, 0 };
    if (chord_slots_init(&d, pol, S, L, 1, NULL) != CHORD_OK) return c;
    for (int t = 0; t < passes; t++)
        for (int32_t l = 0; l < L; l++) {
            int32_t s = chord_slots_find(&d, l);
            if (s >= 0) {
                chord_slots_touch(&d, s);
                c.hits++;
                continue;
            }
            c.misses++;
            s = chord_slots_victim(&d, l, NULL, NULL);
            if (chord_slots_assign(&d, s, l) >= 0) c.evictions++;
        }
    chord_slots_free(&d);
    return c;
}

static void policies(void) {
    const int32_t L = 8;
    const int T = 5;
    for (int32_t S = 1; S <= L; S++) {
        /* pin: P = S - 1 pinned (ring of 1) when S < L, all pinned when S = L */
        int32_t P = S >= L ? L : S - 1;
        counts pin = run_trace(CHORD_CACHE_PIN, S, L, T);
        uint64_t first_ev = (uint64_t)(L - P > 1 ? L - P - 1 : 0);
        uint64_t later = S >= L ? 0 : (uint64_t)(L - P);
        CHECKF(pin.hits == (uint64_t)(T - 1) * (uint64_t)P, "pin S=%d hits %llu", S, (unsigned long long)pin.hits);
        CHECKF(pin.misses == (uint64_t)L + (uint64_t)(T - 1) * later, "pin S=%d misses %llu", S,
               (unsigned long long)pin.misses);
        CHECKF(pin.evictions == first_ev + (uint64_t)(T - 1) * later, "pin S=%d evictions %llu", S,
               (unsigned long long)pin.evictions);
        counts lru = run_trace(CHORD_CACHE_LRU, S, L, T);
        if (S < L) {
            CHECKF(lru.hits == 0, "lru S=%d hits %llu", S, (unsigned long long)lru.hits);
            CHECK(lru.misses == (uint64_t)T * L);
            CHECK(lru.evictions == (uint64_t)T * L - (uint64_t)S);
        } else {
            CHECK(lru.hits == (uint64_t)(T - 1) * L && lru.misses == (uint64_t)L && lru.evictions == 0);
        }
    }
    /* the example: LRU 0 hits where pin+stream shows pinned / L */
    counts lru = run_trace(CHORD_CACHE_LRU, 4, 8, 10), pin = run_trace(CHORD_CACHE_PIN, 4, 8, 10);
    printf("cyclic trace, 8 layers, 4 slots, 10 passes: lru %llu hits, pin %llu hits (3 pinned x 9 passes)\n",
           (unsigned long long)lru.hits, (unsigned long long)pin.hits);
    CHECK(lru.hits == 0 && pin.hits == 27);
}

/* ---- a hand-built model over a flaky source ------------------------------------------------------ */

enum { NL = 6, E = 16, F = 32, V = 12 };

typedef struct {
    chord_gguf_tensor t[80];
    int n;
    uint64_t off;
    chord_layer_tensors layers[NL], global;
    uint8_t *buf;
    uint64_t size;
} table;

static const chord_gguf_tensor *add(table *tb, int64_t ne0, int64_t ne1) {
    chord_gguf_tensor *t = &tb->t[tb->n++];
    memset(t, 0, sizeof *t);
    t->type = CHORD_TYPE_F32;
    t->ne[0] = ne0; t->ne[1] = ne1; t->ne[2] = t->ne[3] = 1;
    t->n_elems = (uint64_t)(ne0 * ne1);
    t->n_bytes = t->n_elems * 4;
    t->off = tb->off;
    tb->off += (t->n_bytes + 31) & ~(uint64_t)31;
    return t;
}

static void build(table *tb) {
    memset(tb, 0, sizeof *tb);
    tb->off = 96;
    tb->global.t[CHORD_W_TOK_EMBD] = add(tb, E, V);
    for (int l = 0; l < NL; l++) {
        chord_layer_tensors *lt = &tb->layers[l];
        lt->t[CHORD_W_ATTN_NORM] = add(tb, E, 1);
        lt->t[CHORD_W_Q] = add(tb, E, E);
        lt->t[CHORD_W_K] = add(tb, E, E);
        lt->t[CHORD_W_V] = add(tb, E, E);
        lt->t[CHORD_W_O] = add(tb, E, E);
        lt->t[CHORD_W_FFN_NORM] = add(tb, E, 1);
        lt->t[CHORD_W_GATE] = add(tb, E, F);
        lt->t[CHORD_W_UP] = add(tb, E, F);
        lt->t[CHORD_W_DOWN] = add(tb, F, E);
    }
    tb->global.t[CHORD_W_OUT_NORM] = add(tb, E, 1);
    tb->global.t[CHORD_W_OUTPUT] = add(tb, E, V);
    tb->size = tb->off;
    tb->buf = malloc(tb->size);
    /* not periodic in the offset: the bytes of one layer never match another layer's */
    for (uint64_t i = 0; i < tb->size; i++) tb->buf[i] = (uint8_t)((i * 151u + 3u) ^ (i >> 8) ^ (i >> 16));
}

typedef struct { const table *tb; int fail_at; int n_reads; uint64_t visible; } flaky;
static chord_status flaky_read(void *ctx, uint64_t off, void *dst, size_t len) {
    flaky *f = ctx;
    if (++f->n_reads == f->fail_at) return CHORD_E_IO;
    if (off > f->visible || len > f->visible - off) return CHORD_E_IO; /* short: the file shrank */
    memcpy(dst, f->tb->buf + off, len);
    return CHORD_OK;
}

static int view_ok(const table *tb, const chord_layer_tensors *lt, const chord_layer_view *v) {
    for (int s = 0; s < CHORD_W_NSLOTS; s++) {
        const chord_gguf_tensor *t = lt->t[s];
        if (!t) continue;
        if (!v->w[s].data || v->w[s].n_in != t->ne[0] || v->w[s].n_out != t->ne[1]) return 0;
        if (memcmp(v->w[s].data, tb->buf + t->off, t->n_bytes) != 0) return 0;
    }
    return 1;
}

static chord_weights *open_paged(const table *tb, flaky *fl, chord_source *src, int32_t slots,
                                 chord_cache_policy pol, int32_t prefetch, chord_error *err) {
    *fl = (flaky){ tb, 0, 0, tb->size };
    *src = (chord_source){ .ctx = fl, .size = tb->size, .read = flaky_read };
    chord_weights_config cfg = { .policy = CHORD_WPOLICY_PAGED, .n_slots = slots, .prefetch = prefetch,
                                 .cache_policy = pol };
    chord_weights *w = NULL;
    CHECK_OK(chord_weights_open(&w, src, tb->layers, NL, &tb->global, &cfg, err), err);
    return w;
}

static void contract(const table *tb) {
    chord_error err_, *err = &err_;
    flaky fl;
    chord_source src;
    const int T = 4;
    for (int pol = 0; pol < 2; pol++) {
        chord_weights *w = open_paged(tb, &fl, &src, 4, pol ? CHORD_CACHE_LRU : CHORD_CACHE_PIN, 0, err);
        if (!w) continue;
        chord_layer_view g, v;
        CHECK_OK(chord_weights_acquire(w, CHORD_LAYER_GLOBAL, &g, err), err);
        CHECK(view_ok(tb, &tb->global, &g));
        int bad = 0;
        for (int t = 0; t < T; t++)
            for (int l = 0; l < NL; l++) {
                CHECK_OK(chord_weights_acquire(w, l, &v, err), err);
                bad += !view_ok(tb, &tb->layers[l], &v);
                chord_weights_release(w, l);
            }
        chord_weights_release(w, CHORD_LAYER_GLOBAL);
        CHECK(bad == 0);
        chord_cache_stats st;
        chord_weights_stats(w, &st);
        CHECK(st.slots == 4 && st.n_layer == NL);
        if (!pol) { /* pin: 3 pinned + a ring of 1 */
            CHECK(!strcmp(st.policy, "paged-pin") && st.pinned == 3);
            CHECKF(st.hits == 3 * (T - 1) && st.misses == NL + 3 * (T - 1) && st.evictions == 2 + 3 * (T - 1),
                   "pin: %llu hits %llu misses %llu evictions", (unsigned long long)st.hits,
                   (unsigned long long)st.misses, (unsigned long long)st.evictions);
        } else {
            CHECK(!strcmp(st.policy, "paged-lru") && st.pinned == 0);
            CHECKF(st.hits == 0 && st.misses == NL * T && st.evictions == NL * T - 4, "lru: %llu hits",
                   (unsigned long long)st.hits);
        }
        CHECK(st.prefetch_hits == 0);
        /* one read per layer: the span of its 9 tensors in one call */
        CHECKF(fl.n_reads == 3 + (int)(st.misses), "reads %d for %llu misses", fl.n_reads, (unsigned long long)st.misses);
        uint64_t span = tb->layers[0].t[CHORD_W_DOWN]->off + tb->layers[0].t[CHORD_W_DOWN]->n_bytes -
                        (tb->layers[0].t[CHORD_W_ATTN_NORM]->off & ~(uint64_t)4095);
        CHECK(st.bytes_read >= st.misses * (span - 4096));
        /* clear drops the ring, keeps the pinned; preload fills again */
        chord_weights_clear(w);
        chord_cache_stats st2;
        CHECK_OK(chord_weights_acquire(w, 0, &v, err), err);
        chord_weights_release(w, 0);
        chord_weights_stats(w, &st2);
        CHECK(pol ? st2.misses == st.misses + 1 : st2.hits == st.hits + 1);
        CHECK_OK(chord_weights_preload(w, err), err);
        chord_weights_stats(w, &st);
        CHECK(st.misses == st2.misses); /* preload is not counted as demand misses */
        for (int l = -1; l < NL; l++) CHECK(chord_weights_pins(w, l) == 0);
        chord_weights_free(w);
    }
}

static void faults(const table *tb) {
    chord_error err_, *err = &err_;
    flaky fl;
    chord_source src;
    chord_weights *w = open_paged(tb, &fl, &src, 2, CHORD_CACHE_PIN, 0, err);
    if (!w) return;
    chord_layer_view v;
    /* the next read fails: layer 2's fill */
    fl.fail_at = fl.n_reads + 1;
    CHECK(chord_weights_acquire(w, 2, &v, err) == CHORD_E_IO);
    CHECKF(strstr(err->message, "layer 2") && strstr(err->message, "offset") && strstr(err->message, "bytes"),
           "%s", err->message);
    CHECK(chord_weights_pins(w, 2) == 0);
    /* the slot is empty and the model usable: the same layer reads fine now */
    CHECK_OK(chord_weights_acquire(w, 2, &v, err), err);
    CHECK(view_ok(tb, &tb->layers[2], &v));
    chord_weights_release(w, 2);
    /* the file "shrinks" under us: a short read is io naming the layer; restoring it recovers */
    fl.visible = tb->layers[4].t[CHORD_W_Q]->off;
    CHECK(chord_weights_acquire(w, 4, &v, err) == CHORD_E_IO);
    CHECKF(strstr(err->message, "layer 4") != NULL, "%s", err->message);
    fl.visible = tb->size;
    CHECK_OK(chord_weights_acquire(w, 4, &v, err), err);
    CHECK(view_ok(tb, &tb->layers[4], &v));
    chord_weights_release(w, 4);
    chord_weights_free(w);
    /* open fails cleanly when a model-wide tensor cannot be read */
    fl = (flaky){ tb, 1, 0, tb->size };
    chord_weights_config cfg = { .policy = CHORD_WPOLICY_PAGED, .n_slots = 2, .cache_policy = CHORD_CACHE_PIN };
    w = NULL;
    CHECK(chord_weights_open(&w, &src, tb->layers, NL, &tb->global, &cfg, err) == CHORD_E_IO);
    CHECK(w == NULL && strstr(err->message, "offset 96") != NULL);
}

/* ---- two threads on 2 slots ------------------------------------------------------------------- */

typedef struct { chord_weights *w; const table *tb; int iters, seed, bad; } worker_arg;
static void *worker(void *p) {
    worker_arg *a = p;
    chord_layer_view v;
    unsigned r = (unsigned)a->seed;
    for (int i = 0; i < a->iters; i++) {
        r = r * 1103515245u + 12345u;
        int l = (int)((r >> 16) % NL);
        if (chord_weights_acquire(a->w, l, &v, NULL) != CHORD_OK || !view_ok(a->tb, &a->tb->layers[l], &v)) a->bad++;
        chord_weights_release(a->w, l);
    }
    return NULL;
}

static void threads(const table *tb) {
    chord_error err_, *err = &err_;
    for (int prefetch = 0; prefetch <= 1; prefetch++) {
        /* a source without failures is read from two threads at once: a memory source, unmapped */
        chord_source mem;
        chord_source_from_memory(&mem, tb->buf, tb->size);
        mem.data = NULL; /* force paging */
        chord_weights_config cfg = { .policy = CHORD_WPOLICY_PAGED, .n_slots = 2, .prefetch = prefetch,
                                     .cache_policy = CHORD_CACHE_LRU };
        chord_weights *w = NULL;
        CHECK_OK(chord_weights_open(&w, &mem, tb->layers, NL, &tb->global, &cfg, err), err);
        if (!w) continue;
        worker_arg a = { w, tb, 3000, 1, 0 }, b = { w, tb, 3000, 7, 0 };
        pthread_t ta, tbb;
        pthread_create(&ta, NULL, worker, &a);
        pthread_create(&tbb, NULL, worker, &b);
        /* the main thread drops prefetch hints meanwhile */
        for (int i = 0; i < 3000; i++) chord_weights_prefetch(w, i % NL);
        pthread_join(ta, NULL);
        pthread_join(tbb, NULL);
        CHECK(a.bad == 0 && b.bad == 0);
        chord_cache_stats st;
        chord_weights_stats(w, &st);
        CHECK(st.hits + st.misses + st.prefetch_hits == 6000);
        for (int l = 0; l < NL; l++) CHECK(chord_weights_pins(w, l) == 0);
        chord_weights_free(w);
        chord_source_close(&mem);
    }
}

/* ---- stories260K: paged tokens = resident tokens --------------------------------------------------- */

/* ---- an asynchronous source: a host thread that fills slots in pieces ---------------------------- */

typedef struct { uint64_t off; uint8_t *dst; size_t len; int32_t *state; } areq;
typedef struct {
    const uint8_t *data;
    uint64_t size;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    areq q[64];
    int head, n, quit, hold;   /* hold: requests wait (a slow host) */
    int fail_req, n_req;       /* the fail_req-th request fails (1-based; 0 = none) */
    int cancelled, drained, dropped;  /* drained: touch no earlier request again (chord.h) */
    int served;                /* requests the host is done with (any outcome) */
    pthread_t th;
} ahost;

static chord_status ahost_read(void *ctx, uint64_t off, void *dst, size_t len) {
    ahost *h = ctx;
    if (off > h->size || len > h->size - off) return CHORD_E_IO;
    memcpy(dst, h->data + off, len);
    return CHORD_OK;
}

static chord_status ahost_read_async(void *ctx, uint64_t off, void *dst, size_t len, int32_t *state) {
    ahost *h = ctx;
    pthread_mutex_lock(&h->mu);
    int ok = h->n < 64;
    if (ok) {
        h->q[(h->head + h->n) % 64] = (areq){ off, dst, len, state };
        h->n++;
        pthread_cond_signal(&h->cv);
    }
    pthread_mutex_unlock(&h->mu);
    return ok ? CHORD_OK : CHORD_E_UNSUPPORTED;
}

static void *ahost_main(void *arg) {
    ahost *h = arg;
    for (;;) {
        pthread_mutex_lock(&h->mu);
        while (!h->quit && (h->n == 0 || h->hold)) pthread_cond_wait(&h->cv, &h->mu);
        if (h->quit) { pthread_mutex_unlock(&h->mu); return NULL; }
        areq r = h->q[h->head];
        h->head = (h->head + 1) % 64;
        h->n--;
        int fail = ++h->n_req == h->fail_req;
        pthread_mutex_unlock(&h->mu);
        /* the protocol of chord.h: PENDING → WRITING (CAS) → PENDING … → DONE, or FAILED; each
         * piece under the lock, so that a drain waits for one being written */
        for (size_t done = 0; done < r.len;) {
            size_t n = r.len - done < 1000 ? r.len - done : 1000;
            int32_t e = CHORD_ASYNC_PENDING;
            pthread_mutex_lock(&h->mu);
            int stop = 1;
            if (h->drained) h->dropped++;
            else if (fail)
                __atomic_compare_exchange_n(r.state, &e, CHORD_ASYNC_FAILED, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
            else if (!__atomic_compare_exchange_n(r.state, &e, CHORD_ASYNC_WRITING, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
                h->cancelled++;
            else {
                memcpy(r.dst + done, h->data + r.off + done, n);
                done += n;
                __atomic_store_n(r.state, done == r.len ? CHORD_ASYNC_DONE : CHORD_ASYNC_PENDING, __ATOMIC_SEQ_CST);
                stop = 0;
            }
            pthread_mutex_unlock(&h->mu);
            if (stop) break;
        }
        pthread_mutex_lock(&h->mu);
        h->served++;
        pthread_mutex_unlock(&h->mu);
    }
}

static void ahost_drain(void *ctx) {
    ahost *h = ctx;
    pthread_mutex_lock(&h->mu);
    h->drained = 1;
    pthread_mutex_unlock(&h->mu);
}

static void ahost_start(ahost *h, const uint8_t *data, uint64_t size, chord_source *src) {
    memset(h, 0, sizeof *h);
    h->data = data;
    h->size = size;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    pthread_create(&h->th, NULL, ahost_main, h);
    *src = (chord_source){ .ctx = h, .size = size, .read = ahost_read, .read_async = ahost_read_async, .drain = ahost_drain };
}

static void ahost_set(ahost *h, int *field, int v) {
    pthread_mutex_lock(&h->mu);
    *field = v;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

static void ahost_stop(ahost *h) {
    ahost_set(h, &h->quit, 1);
    pthread_join(h->th, NULL);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
}

static void async_source(const table *tb) {
    chord_error err_, *err = &err_;
    ahost h;
    chord_source src;
    ahost_start(&h, tb->buf, tb->size, &src);
    chord_weights_config cfg = { .policy = CHORD_WPOLICY_PAGED, .n_slots = 2, .prefetch = 1, .cache_policy = CHORD_CACHE_PIN };
    chord_weights *w = NULL;
    CHECK_OK(chord_weights_open(&w, &src, tb->layers, NL, &tb->global, &cfg, err), err);
    if (!w) { ahost_stop(&h); return; }
    chord_layer_view v;
    const int T = 5;
    int bad = 0;
    /* as the forward pass does: acquire l, hint l + 1, compute, release */
    for (int t = 0; t < T; t++)
        for (int l = 0; l < NL; l++) {
            CHECK_OK(chord_weights_acquire(w, l, &v, err), err);
            chord_weights_prefetch(w, (l + 1) % NL);
            bad += !view_ok(tb, &tb->layers[l], &v);
            chord_weights_release(w, l);
        }
    CHECK(bad == 0);
    chord_cache_stats st;
    chord_weights_stats(w, &st);
    CHECKF(st.misses == 1 && st.prefetch_hits == (uint64_t)(NL * T - 1) && st.hits == 0,
           "async: %llu misses %llu prefetch hits %llu hits", (unsigned long long)st.misses,
           (unsigned long long)st.prefetch_hits, (unsigned long long)st.hits);
    /* the next async read fails: the acquire reads it on demand (a miss) and gets the right bytes */
    CHECK_OK(chord_weights_acquire(w, 0, &v, err), err); /* waits for its read-ahead: no request in flight */
    pthread_mutex_lock(&h.mu);
    h.fail_req = h.n_req + 1;
    pthread_mutex_unlock(&h.mu);
    chord_weights_prefetch(w, 1);
    chord_weights_release(w, 0);
    CHECK_OK(chord_weights_acquire(w, 1, &v, err), err);
    CHECK(view_ok(tb, &tb->layers[1], &v));
    chord_weights_release(w, 1);
    chord_cache_stats st2;
    chord_weights_stats(w, &st2);
    CHECKF(st2.misses == st.misses + 1, "a failed async read is a demand miss: %llu", (unsigned long long)st2.misses);
    /* a slow host: freeing the handle with a read pending drains the host first, which then drops
     * the read without touching its (freed) state word or slot (TSan/ASan would see it) */
    ahost_set(&h, &h.hold, 1);
    CHECK_OK(chord_weights_acquire(w, 2, &v, err), err);
    chord_weights_prefetch(w, 3);
    chord_weights_release(w, 2);
    chord_weights_free(w);
    CHECK(h.drained == 1);
    ahost_set(&h, &h.hold, 0);
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&h.mu);
        int d = h.dropped;
        pthread_mutex_unlock(&h.mu);
        if (d) break;
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    }
    CHECKF(h.dropped == 1, "the pending read was dropped (%d)", h.dropped);
    ahost_stop(&h);
}

/* A host counter (moved under the host's lock). */
static int ahost_count(ahost *h, const int *field) {
    pthread_mutex_lock(&h->mu);
    int v = *field;
    pthread_mutex_unlock(&h->mu);
    return v;
}

/* A read taken back after the patience (here 50 ms; the host holds it) is read on demand; the
 * slot's next request goes on a fresh word, so when the host wakes, the old request finds its
 * retired word CANCELLED and writes nothing over the slot's new layer (with one word per slot,
 * it found the new request's PENDING, wrote layer 1 into layer 2's slot and stored DONE). */
static void async_take_back(const table *tb) {
    chord_error err_, *err = &err_;
    ahost h;
    chord_source src;
    ahost_start(&h, tb->buf, tb->size, &src);
    chord_weights_config cfg = { .policy = CHORD_WPOLICY_PAGED, .n_slots = 2, .prefetch = 1, .cache_policy = CHORD_CACHE_LRU,
                                 .async_patience_ms = 50 };
    chord_weights *w = NULL;
    CHECK_OK(chord_weights_open(&w, &src, tb->layers, NL, &tb->global, &cfg, err), err);
    if (!w) { ahost_stop(&h); return; }
    chord_layer_view v;
    CHECK_OK(chord_weights_acquire(w, 0, &v, err), err);
    chord_weights_release(w, 0);
    ahost_set(&h, &h.hold, 1);
    chord_weights_prefetch(w, 1);                        /* request 1: layer 1 into slot B, held */
    CHECK_OK(chord_weights_acquire(w, 1, &v, err), err); /* taken back after the patience */
    CHECK(view_ok(tb, &tb->layers[1], &v));
    chord_weights_release(w, 1);
    CHECK_OK(chord_weights_acquire(w, 0, &v, err), err); /* a hit: slot A is now the newer */
    chord_weights_release(w, 0);
    chord_weights_prefetch(w, 2);                        /* request 2: layer 2 into slot B again */
    pthread_mutex_lock(&h.mu);
    const areq *r1 = &h.q[h.head], *r2 = &h.q[(h.head + 1) % 64];
    int same = h.n == 2 && r1->dst == r2->dst && r1->state != r2->state;
    pthread_mutex_unlock(&h.mu);
    CHECKF(same, "both requests target one slot, on different words");
    ahost_set(&h, &h.hold, 0);
    for (int i = 0; i < 20000 && ahost_count(&h, &h.served) < 2; i++) {
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    }
    CHECKF(ahost_count(&h, &h.served) == 2 && ahost_count(&h, &h.cancelled) == 1, "the old request wrote nothing (%d of %d)",
           ahost_count(&h, &h.cancelled), ahost_count(&h, &h.served));
    CHECK_OK(chord_weights_acquire(w, 2, &v, err), err);
    CHECK(view_ok(tb, &tb->layers[2], &v));
    chord_weights_release(w, 2);
    chord_cache_stats st;
    chord_weights_stats(w, &st);
    CHECKF(st.misses == 2 && st.prefetch_hits == 1 && st.hits == 1, "take back: %llu misses %llu prefetch hits %llu hits",
           (unsigned long long)st.misses, (unsigned long long)st.prefetch_hits, (unsigned long long)st.hits);
    chord_weights_free(w); /* drains, then frees the retired word too */
    CHECK(ahost_count(&h, &h.drained) == 1);
    ahost_stop(&h);
}

typedef struct { int32_t ids[128]; int n; } toks;
static int collect(void *user, int32_t token, const char *text, size_t len) {
    (void)text; (void)len;
    toks *t = user;
    if (t->n < 128) t->ids[t->n++] = token;
    return 0;
}

static int generate(chord_model *m, int nth, toks *out) {
    chord_session *s = NULL;
    chord_session_params sp = chord_session_params_default();
    sp.n_ctx = 256;
    sp.n_threads = nth;
    if (chord_session_new(&s, m, &sp, NULL) != CHORD_OK) return 0;
    chord_model_info info;
    chord_model_get_info(m, &info);
    int32_t bos = info.bos;
    chord_sampler_params p = chord_sampler_params_default();
    p.temperature = 0.0f;
    p.ignore_eos = 1;
    out->n = 0;
    int ok = chord_session_feed(s, &bos, 1, NULL) == CHORD_OK && chord_generate(s, &p, 100, collect, out, NULL) == CHORD_OK;
    chord_session_free(s);
    return ok;
}

static void stories(void) {
    char path[512];
    chord_error err_, *err = &err_;
    chord_model_params mp = chord_model_params_default();
    mp.residency = CHORD_RESIDENCY_RESIDENT;
    chord_model *m = check_open_shared("models/stories260K.gguf", &mp, path, sizeof path);
    if (!m) return;
    toks ref;
    CHECK(generate(m, 1, &ref) && ref.n == 100);
    chord_model_free(m);
    const struct { int32_t slots; chord_cache_policy pol; int32_t prefetch; } cfg[] = {
        { 5, CHORD_CACHE_PIN, 1 }, { 3, CHORD_CACHE_PIN, 1 }, { 2, CHORD_CACHE_PIN, 1 }, { 2, CHORD_CACHE_LRU, 1 },
        { 3, CHORD_CACHE_PIN, 0 }, { 2, CHORD_CACHE_LRU, 0 }, { 4, CHORD_CACHE_PIN, 2 },
    };
    for (size_t i = 0; i < sizeof cfg / sizeof cfg[0]; i++)
        for (int nth = 1; nth <= 2; nth++) {
            mp = chord_model_params_default();
            mp.residency = CHORD_RESIDENCY_PAGED;
            mp.n_slots = cfg[i].slots;
            mp.cache_policy = cfg[i].pol;
            mp.prefetch = cfg[i].prefetch;
            m = NULL;
            CHECK_OK(chord_model_open(&m, path, &mp, err), err);
            if (!m) continue;
            toks got;
            CHECK(generate(m, nth, &got));
            CHECKF(got.n == ref.n && memcmp(got.ids, ref.ids, sizeof(int32_t) * (size_t)ref.n) == 0,
                   "paged %d slots policy %d prefetch %d threads %d: tokens differ", cfg[i].slots, cfg[i].pol,
                   cfg[i].prefetch, nth);
            chord_cache_stats st;
            CHECK_OK(chord_model_cache_stats(m, &st), err);
            CHECK(st.slots == cfg[i].slots && !strncmp(st.policy, "paged", 5));
            CHECK(st.hits + st.misses + st.prefetch_hits == 5u * 101u); /* 101 forward passes x 5 layers */
            if (cfg[i].pol == CHORD_CACHE_LRU && cfg[i].prefetch == 0) CHECK(st.hits == 0);
            if (cfg[i].slots == 5) CHECK(st.misses + st.prefetch_hits <= 5 && st.evictions == 0);
            chord_model_free(m);
        }
    /* the file through an asynchronous source (the wasm host's protocol): the same tokens */
    FILE *f = fopen(path, "rb");
    uint8_t *file = NULL;
    long fsz = 0;
    if (f && fseek(f, 0, SEEK_END) == 0 && (fsz = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (file = malloc((size_t)fsz)) && fread(file, 1, (size_t)fsz, f) == (size_t)fsz) {
        for (int nth = 1; nth <= 2; nth++) {
            ahost h;
            chord_source src;
            ahost_start(&h, file, (uint64_t)fsz, &src);
            mp = chord_model_params_default();
            mp.residency = CHORD_RESIDENCY_PAGED;
            mp.n_slots = 2;
            m = NULL;
            CHECK_OK(chord_model_open_source(&m, &src, &mp, err), err);
            toks got;
            if (m) {
                CHECK(generate(m, nth, &got));
                CHECKF(got.n == ref.n && memcmp(got.ids, ref.ids, sizeof(int32_t) * (size_t)ref.n) == 0,
                       "async source, %d threads: tokens differ", nth);
                chord_cache_stats st;
                CHECK_OK(chord_model_cache_stats(m, &st), err);
                CHECKF(st.prefetch_hits > 0 && st.prefetch_hits + st.misses + st.hits == 5u * 101u, "async: %llu prefetch hits",
                       (unsigned long long)st.prefetch_hits);
                chord_model_free(m);
            }
            ahost_stop(&h);
        }
    } else CHECK(0 && "cannot read the model file");
    if (f) fclose(f);
    free(file);
    /* budgets: auto stays resident when it fits; too small for 2 slots is nomem naming numbers */
    mp = chord_model_params_default();
    mp.mem_budget = (uint64_t)1 << 30;
    m = NULL;
    CHECK_OK(chord_model_open(&m, path, &mp, err), err);
    chord_cache_stats st;
    if (m && chord_model_cache_stats(m, &st) == CHORD_OK) CHECK(!strcmp(st.policy, "resident"));
    chord_model_free(m);
    mp.mem_budget = 200 * 1024;
    m = NULL;
    CHECK(chord_model_open(&m, path, &mp, err) == CHORD_E_NOMEM);
    CHECKF(strstr(err->message, "budget of 0.2 MiB") && strstr(err->message, "KV cache") && strstr(err->message, "slots"), "%s",
           err->message);
    CHECK(m == NULL);
}

int main(void) {
    policies();
    table tb;
    build(&tb);
    contract(&tb);
    faults(&tb);
    threads(&tb);
    async_source(&tb);
    async_take_back(&tb);
    free(tb.buf);
    stories();
    return check_report("test_paged");
}
