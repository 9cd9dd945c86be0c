/*
 * paged.c — the paged policy: model-wide tensors (embeddings, output norm, output head) are
 * read once into owned buffers; transformer layers live in n_slots slots filled on demand from
 * the model's chord_source (natively and under WASI pread, in wasm the host read import). The
 * file is never touched through a mapping, so RSS is the slots plus the model-wide tensors.
 *
 * A layer's tensors are contiguous in a GGUF, so a slot is filled by reading the layer's span
 * [lo aligned down to 4 KiB, hi) in at most a few reads of up to CHUNK_BYTES — one read per
 * layer, not one per tensor. Which slot a layer goes into is slots.c's decision (pin or lru).
 *
 * Slot life: EMPTY → LOADING (assigned under the lock, read outside it) → READY; a failed read
 * returns the slot to EMPTY (never used half-filled) and the acquire fails with `io` naming the
 * layer, offset and byte count; the next call reads again. A READY slot is evictable while its
 * layer has no pins. Waiting for a LOADING slot spins on its atomic state — the hook a host
 * that fills slots asynchronously (the next issue's browser stores) uses: it marks a slot
 * LOADING, fills it and stores READY; compute waits on that atomic.
 *
 * Prefetch: the forward pass hints the next layer when it starts one; the next `prefetch`
 * layers are assigned LOADING and read while the current layer computes — by the source itself
 * when it reads asynchronously (chord_source.read_async: a wasm host's store in another worker
 * writes the slot and moves its state word, chord.h), else by a helper thread (native). With
 * neither (WASI, a wasm host without async reads) hints are ignored and layers are read when
 * acquired.
 *
 * Async slot states (the state word is shared with the host): LOADING (= CHORD_ASYNC_PENDING)
 * → FILLING (the host is writing; = CHORD_ASYNC_WRITING) → READY, or FAILED (the acquire then
 * reads it again synchronously and reports the error).
 *
 * Who owns the word (chord.h): a host that accepted a read_async may touch its word until the
 * source's drain returns, even after the request was cancelled (a request it holds queued finds
 * the word later). So a word is never freed before the drain (pg_close drains first) and never
 * reused for another request: a read taken back after the patience without progress is
 * cancelled on its word (PENDING → CANCELLED), which is retired (p->retired, freed after the
 * drain), and the slot gets a fresh word — else the old request, finding the next request's
 * PENDING there, would write its bytes over the slot's new layer and store DONE for it. That is
 * why a slot's word is its own allocation, not part of the slot array. The slot's buffer is
 * free again as soon as the cancel succeeded: a host writes only after its own PENDING → WRITING
 * swap.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "platform.h"
#include "weights/policy.h"
#include "weights/slots.h"

#define ALIGN ((uint64_t)4096)
#define CHUNK_BYTES ((uint64_t)64 << 20)

enum { SLOT_EMPTY = CHORD_ASYNC_CANCELLED, SLOT_LOADING = CHORD_ASYNC_PENDING, SLOT_READY = CHORD_ASYNC_DONE,
       SLOT_FILLING = CHORD_ASYNC_WRITING, SLOT_FAILED = CHORD_ASYNC_FAILED };
/* A pending async read with no progress for this long is taken back and read synchronously
 * (a host that died never answers). */
#define ASYNC_PATIENCE_MS 300000.0

/* A slot's state word: its own allocation, since a host may hold its address past the slot's
 * use (above). `next` chains retired words. */
typedef struct state_word {
    atomic_int v;                /* SLOT_*; written by the host too for an async read */
    struct state_word *next;
} state_word;

typedef struct slot {
    uint8_t *buf;        /* ALIGN-aligned, slot_bytes long */
    void *alloc;
    state_word *word;    /* replaced (under the lock) only when a read is taken back */
    int prefetched;      /* filled by the helper (or the host) and not yet used */
    int async;           /* the pending read is the host's (chord_source.read_async) */
    uint64_t base;       /* source offset of buf[0] */
} slot;

typedef struct paged {
    chord_slots dir;
    slot *slots;
    uint64_t slot_bytes;
    void *gmem[CHORD_W_NSLOTS];         /* owned copies of the global tensors */
    const uint8_t *gptr[CHORD_W_NSLOTS];
    uint64_t global_bytes;
    atomic_flag lock;
    chord_helper *helper;
    int async;                          /* the source reads asynchronously: no helper */
    int32_t depth;
    int32_t *queue;                     /* slots for the helper to fill (ring of n_slots) */
    int32_t q_head, q_len;
    state_word *retired;                /* words of taken-back reads, until the drain */
    double patience_ms;                 /* ASYNC_PATIENCE_MS unless the config says */
} paged;

static atomic_int *state(const slot *sl) { return &sl->word->v; }

static void lock(paged *p) {
    while (atomic_flag_test_and_set_explicit(&p->lock, memory_order_acquire)) chord_cpu_relax();
}
static void unlock(paged *p) { atomic_flag_clear_explicit(&p->lock, memory_order_release); }

static void *alloc_aligned(uint64_t n, void **raw) {
    if (n > (uint64_t)SIZE_MAX - ALIGN) return NULL;
    uint8_t *m = malloc((size_t)(n + ALIGN));
    *raw = m;
    if (!m) return NULL;
    return (void *)(((uintptr_t)m + (ALIGN - 1)) & ~(uintptr_t)(ALIGN - 1));
}

/* Reads [off, off + n) into dst in chunks; counts bytes and time. */
static chord_status read_span(chord_weights *w, uint64_t off, uint8_t *dst, uint64_t n, uint64_t *failed_at) {
    double t0 = chord_time_ms();
    chord_status st = CHORD_OK;
    for (uint64_t done = 0; done < n && st == CHORD_OK;) {
        uint64_t len = n - done < CHUNK_BYTES ? n - done : CHUNK_BYTES;
        st = w->src->read(w->src->ctx, off + done, dst + done, (size_t)len);
        if (st != CHORD_OK) *failed_at = off + done;
        done += len;
    }
    if (st == CHORD_OK) atomic_fetch_add(&w->bytes_read, n);
    atomic_fetch_add(&w->read_us, (uint64_t)((chord_time_ms() - t0) * 1000.0));
    return st;
}

static uint64_t layer_base(const chord_weights *w, int32_t layer) { return w->spans[layer].lo & ~(ALIGN - 1); }

/* Fills slot s with `layer` (the slot is LOADING and owned by the caller). */
static chord_status fill(chord_weights *w, paged *p, int32_t s, int32_t layer, chord_error *err) {
    slot *sl = &p->slots[s];
    uint64_t base = layer_base(w, layer), n = w->spans[layer].hi - base, at = base;
    sl->base = base;
    chord_status st = read_span(w, base, sl->buf, n, &at);
    if (st != CHORD_OK)
        return chord_fail(err, CHORD_E_IO, "reading layer %d failed at offset %llu (%llu bytes from %llu): %s; "
                          "the slot was left empty (the model file may have been truncated or changed)",
                          layer, (unsigned long long)at, (unsigned long long)n, (unsigned long long)base,
                          chord_status_message(st));
    return CHORD_OK;
}

typedef struct { chord_weights *w; paged *p; } evict_ctx;
static int evictable(void *ctx, int32_t s) {
    const evict_ctx *e = ctx;
    int32_t layer = e->p->dir.slot_layer[s];
    int st = atomic_load(state(&e->p->slots[s]));
    return (st == SLOT_READY || st == SLOT_FAILED) && atomic_load(&e->w->pins[layer]) == 0;
}

/* Takes back slot s's pending async read on word wd (no progress for the patience: the host
 * may be dead): cancels it there, retires wd (the host may still hold the request and look at
 * wd later) and gives the slot a fresh word, FAILED, so the acquire reads the layer itself.
 * Without memory for a fresh word nothing changes and the wait goes on. */
static void take_back(paged *p, int32_t s, state_word *wd) {
    state_word *fresh = calloc(1, sizeof *fresh);
    if (!fresh) return;
    atomic_init(&fresh->v, SLOT_FAILED);
    lock(p);
    int e = SLOT_LOADING;
    if (p->slots[s].word == wd && atomic_compare_exchange_strong(&wd->v, &e, CHORD_ASYNC_CANCELLED)) {
        wd->next = p->retired;
        p->retired = wd;
        p->slots[s].word = fresh;
        fresh = NULL;
    }
    unlock(p);
    free(fresh);
}

/* Waits while slot s is being read (LOADING or FILLING) on word wd (read under the lock with
 * `async`; a retired word stays valid until close). An async read with no progress for the
 * patience is taken back, so the acquire reads it itself. */
static void wait_slot(paged *p, int32_t s, state_word *wd, int async) {
    double t0 = chord_time_ms();
    for (int st; (st = atomic_load(&wd->v)) == SLOT_LOADING || st == SLOT_FILLING;) {
        chord_wait_while(&wd->v, st);
        if (atomic_load(&wd->v) != st) t0 = chord_time_ms();
        else if (st == SLOT_LOADING && async && chord_time_ms() - t0 > p->patience_ms) {
            take_back(p, s, wd);
            t0 = chord_time_ms();
        }
    }
}

/* Slot s is assigned to `layer` (lock held): marks it LOADING, reads it here (a demand read,
 * counted as a miss and stall when count) and unlocks. */
static chord_status claim_and_fill(chord_weights *w, paged *p, int32_t s, int32_t layer, int count, int32_t *slot_out,
                                   chord_error *err) {
    atomic_store(state(&p->slots[s]), SLOT_LOADING);
    p->slots[s].prefetched = 0;
    p->slots[s].async = 0;
    if (count) atomic_fetch_add(&w->misses, 1);
    unlock(p);
    double t0 = chord_time_ms();
    chord_status st = fill(w, p, s, layer, err);
    if (count) atomic_fetch_add(&w->stall_us, (uint64_t)((chord_time_ms() - t0) * 1000.0));
    lock(p);
    if (st != CHORD_OK) chord_slots_drop(&p->dir, s);
    atomic_store(state(&p->slots[s]), st == CHORD_OK ? SLOT_READY : SLOT_EMPTY);
    unlock(p);
    *slot_out = s;
    return st;
}

/* Makes `layer` READY in some slot; *slot_out = its slot. count: 1 for an acquire (hits,
 * misses, stalls), 0 for preload. Called without the lock. */
static chord_status ensure(chord_weights *w, paged *p, int32_t layer, int count, int32_t *slot_out, chord_error *err) {
    evict_ctx ec = { w, p };
    lock(p);
    for (;;) {
        int32_t s = chord_slots_find(&p->dir, layer);
        if (s >= 0) {
            int st = atomic_load(state(&p->slots[s]));
            if (st == SLOT_READY) {
                chord_slots_touch(&p->dir, s);
                if (count) atomic_fetch_add(p->slots[s].prefetched ? &w->prefetch_hits : &w->hits, 1);
                p->slots[s].prefetched = 0;
                unlock(p);
                *slot_out = s;
                return CHORD_OK;
            }
            if (st == SLOT_FAILED) {
                /* an async prefetch failed: read it here, which reports the error */
                if (p->slots[s].prefetched) atomic_fetch_sub(&w->bytes_read, w->spans[layer].hi - layer_base(w, layer));
                return claim_and_fill(w, p, s, layer, count, slot_out, err);
            }
            /* LOADING or FILLING by the helper, the host or another session: wait, look again */
            state_word *wd = p->slots[s].word;
            int async = p->slots[s].async;
            unlock(p);
            double t0 = chord_time_ms();
            wait_slot(p, s, wd, async);
            if (count) atomic_fetch_add(&w->stall_us, (uint64_t)((chord_time_ms() - t0) * 1000.0));
            lock(p);
            continue;
        }
        s = chord_slots_victim(&p->dir, layer, evictable, &ec);
        if (s < 0 || (p->dir.slot_layer[s] >= 0 && !evictable(&ec, s))) {
            /* every slot is in use by other sessions or being read: wait for one */
            unlock(p);
            chord_cpu_relax();
            lock(p);
            continue;
        }
        if (chord_slots_assign(&p->dir, s, layer) >= 0) atomic_fetch_add(&w->evictions, 1);
        return claim_and_fill(w, p, s, layer, count, slot_out, err);
    }
}

static void helper_run(void *arg) {
    chord_weights *w = arg;
    paged *p = w->impl;
    for (;;) {
        lock(p);
        if (p->q_len == 0) {
            unlock(p);
            return;
        }
        int32_t s = p->queue[p->q_head];
        p->q_head = (p->q_head + 1) % p->dir.n_slots;
        p->q_len--;
        int32_t layer = p->dir.slot_layer[s];
        unlock(p);
        /* a failed prefetch leaves the slot empty; the acquire then reads and reports the error */
        chord_status st = layer >= 0 ? fill(w, p, s, layer, NULL) : CHORD_E_INTERNAL;
        lock(p);
        if (st != CHORD_OK) {
            chord_slots_drop(&p->dir, s);
            p->slots[s].prefetched = 0;
        }
        atomic_store(state(&p->slots[s]), st == CHORD_OK ? SLOT_READY : SLOT_EMPTY);
        unlock(p);
    }
}

static void pg_prefetch(chord_weights *w, int32_t layer) {
    paged *p = w->impl;
    if ((!p->helper && !p->async) || p->depth <= 0) return;
    evict_ctx ec = { w, p };
    int queued = 0;
    /* async: reads to start once the lock is dropped (the word as it was under the lock) */
    struct { int32_t s; state_word *wd; uint64_t n; } issue[8];
    int32_t n_issue = 0;
    lock(p);
    for (int32_t d = 0; d < p->depth && d < w->n_layer; d++) {
        int32_t t = (layer + d) % w->n_layer;
        if (chord_slots_find(&p->dir, t) >= 0 || p->q_len >= p->dir.n_slots) continue;
        int32_t s = chord_slots_victim(&p->dir, t, evictable, &ec);
        if (s < 0 || (p->dir.slot_layer[s] >= 0 && !evictable(&ec, s))) break;
        if (p->async && n_issue == (int32_t)(sizeof issue / sizeof issue[0])) break;
        if (chord_slots_assign(&p->dir, s, t) >= 0) atomic_fetch_add(&w->evictions, 1);
        atomic_store(state(&p->slots[s]), SLOT_LOADING);
        p->slots[s].prefetched = 1;
        p->slots[s].async = p->async;
        if (p->async) {
            p->slots[s].base = layer_base(w, t);
            issue[n_issue].s = s;
            issue[n_issue].wd = p->slots[s].word;
            issue[n_issue++].n = w->spans[t].hi - p->slots[s].base;
            continue;
        }
        p->queue[(p->q_head + p->q_len) % p->dir.n_slots] = s;
        p->q_len++;
        queued = 1;
    }
    unlock(p);
    if (queued) chord_helper_kick(p->helper);
    /* The slots stay LOADING (not evictable, not re-read) until the host moves their state. */
    for (int32_t i = 0; i < n_issue; i++) {
        slot *sl = &p->slots[issue[i].s];
        state_word *wd = issue[i].wd;
        uint64_t n = issue[i].n;
        atomic_fetch_add(&w->bytes_read, n);
        if (w->src->read_async(w->src->ctx, sl->base, sl->buf, (size_t)n, (int32_t *)&wd->v) != CHORD_OK) {
            /* not started (if a take-back retired the word meanwhile, it stays CANCELLED) */
            atomic_fetch_sub(&w->bytes_read, n);
            lock(p);
            if (sl->word == wd) sl->prefetched = 0;
            int e = SLOT_LOADING;
            atomic_compare_exchange_strong(&wd->v, &e, SLOT_FAILED);
            unlock(p);
        }
    }
}

static chord_status pg_open(chord_weights *w, chord_error *err) {
    if (w->n_layer <= 0) return chord_fail(err, CHORD_E_INVALID_ARG, "paged weights need at least one layer");
    paged *p = calloc(1, sizeof *p);
    if (!p) return chord_fail(err, CHORD_E_NOMEM, "out of memory allocating the paged weights");
    w->impl = p;
    atomic_flag_clear(&p->lock);
    int32_t depth = w->cfg.prefetch < 0 ? 0 : w->cfg.prefetch;
    chord_status st = chord_slots_init(&p->dir, w->cfg.cache_policy, w->cfg.n_slots, w->n_layer, 1 + depth, err);
    if (st != CHORD_OK) return st;
    for (int32_t l = 0; l < w->n_layer; l++) {
        uint64_t n = w->spans[l].hi - layer_base(w, l);
        if (n > p->slot_bytes) p->slot_bytes = n;
    }
    /* the model-wide tensors, each read once (a tied head aliases the embeddings) */
    for (int s = 0; s < CHORD_W_NSLOTS; s++) {
        const chord_gguf_tensor *t = w->global->t[s];
        if (!t) continue;
        for (int r = 0; r < s; r++)
            if (w->global->t[r] == t) p->gptr[s] = p->gptr[r];
        if (p->gptr[s]) continue;
        uint8_t *buf = alloc_aligned(t->n_bytes ? t->n_bytes : 1, &p->gmem[s]);
        const char *name = t->name.ptr ? t->name.ptr : "?";
        if (!buf)
            return chord_fail(err, CHORD_E_NOMEM, "out of memory for tensor '%s' (%llu bytes)", name,
                              (unsigned long long)t->n_bytes);
        uint64_t at = t->off;
        if ((st = read_span(w, t->off, buf, t->n_bytes, &at)) != CHORD_OK)
            return chord_fail(err, CHORD_E_IO, "reading tensor '%s' failed at offset %llu (%llu bytes): %s",
                              name, (unsigned long long)at, (unsigned long long)t->n_bytes,
                              chord_status_message(st));
        p->gptr[s] = buf;
        p->global_bytes += t->n_bytes;
    }
    const int32_t S = p->dir.n_slots;
    p->slots = calloc((size_t)S, sizeof *p->slots);
    p->queue = calloc((size_t)S, sizeof *p->queue);
    if (!p->slots || !p->queue) return chord_fail(err, CHORD_E_NOMEM, "out of memory for %d slots", S);
    for (int32_t s = 0; s < S; s++) {
        if (!(p->slots[s].word = calloc(1, sizeof *p->slots[s].word)))
            return chord_fail(err, CHORD_E_NOMEM, "out of memory for %d slots", S);
        atomic_init(&p->slots[s].word->v, SLOT_EMPTY);
        if (!(p->slots[s].buf = alloc_aligned(p->slot_bytes, &p->slots[s].alloc)))
            return chord_fail(err, CHORD_E_NOMEM, "out of memory for layer slot %d of %d (%llu bytes each)", s + 1, S,
                              (unsigned long long)p->slot_bytes);
    }
    p->depth = depth;
    p->patience_ms = w->cfg.async_patience_ms > 0 ? w->cfg.async_patience_ms : ASYNC_PATIENCE_MS;
    p->async = w->src->read_async != NULL && w->src->drain != NULL && depth > 0 && S > 1;
    if (!p->async && depth > 0 && S > 1 && chord_helper_new(&p->helper, helper_run, w, NULL) != CHORD_OK)
        p->helper = NULL;
    return CHORD_OK;
}

static chord_status pg_acquire(chord_weights *w, int32_t layer, const uint8_t *ptr[CHORD_W_NSLOTS], chord_error *err) {
    paged *p = w->impl;
    if (layer == CHORD_LAYER_GLOBAL) {
        for (int s = 0; s < CHORD_W_NSLOTS; s++) ptr[s] = p->gptr[s];
        return CHORD_OK;
    }
    int32_t s = -1;
    chord_status st = ensure(w, p, layer, 1, &s, err);
    if (st != CHORD_OK) return st;
    const slot *sl = &p->slots[s];
    const chord_layer_tensors *lt = &w->layers[layer];
    for (int i = 0; i < CHORD_W_NSLOTS; i++)
        if (lt->t[i]) ptr[i] = sl->buf + (lt->t[i]->off - sl->base);
    return CHORD_OK;
}

static chord_status pg_preload(chord_weights *w, chord_error *err) {
    paged *p = w->impl;
    /* pinned layers first, then as many following layers as the ring holds */
    int32_t n = p->dir.n_slots < w->n_layer ? p->dir.n_slots : w->n_layer;
    for (int32_t l = 0; l < n; l++) {
        int32_t s;
        chord_status st = ensure(w, p, l, 0, &s, err);
        if (st != CHORD_OK) return st;
    }
    return CHORD_OK;
}

static void pg_clear(chord_weights *w) {
    paged *p = w->impl;
    lock(p);
    for (int32_t s = p->dir.n_pinned; s < p->dir.n_slots; s++) {
        int32_t layer = p->dir.slot_layer[s];
        int st = atomic_load(state(&p->slots[s]));
        if (layer < 0 || (st != SLOT_READY && st != SLOT_FAILED) || atomic_load(&w->pins[layer]) != 0) continue;
        chord_slots_drop(&p->dir, s);
        atomic_store(state(&p->slots[s]), SLOT_EMPTY);
        p->slots[s].prefetched = 0;
    }
    unlock(p);
}

static void pg_stats(const chord_weights *w, chord_cache_stats *out) {
    const paged *p = w->impl;
    out->policy = p->dir.policy == CHORD_CACHE_LRU ? "paged-lru" : "paged-pin";
    out->slots = p->dir.n_slots;
    out->pinned = p->dir.n_pinned;
    out->resident_bytes = p->global_bytes + (uint64_t)p->dir.n_slots * p->slot_bytes;
}

static void pg_close(chord_weights *w) {
    paged *p = w->impl;
    chord_helper_free(p->helper); /* joins: no fill runs after this */
    /* the host lets go of every async read's state word and slot before they are freed (queued
     * reads are dropped, a piece being written finishes) */
    if (p->async && w->src->drain) w->src->drain(w->src->ctx);
    for (int32_t s = 0; p->slots && s < p->dir.n_slots; s++) {
        free(p->slots[s].word);
        free(p->slots[s].alloc);
    }
    for (state_word *r = p->retired, *next; r; r = next) {
        next = r->next;
        free(r);
    }
    for (int s = 0; s < CHORD_W_NSLOTS; s++) free(p->gmem[s]);
    free(p->slots);
    free(p->queue);
    chord_slots_free(&p->dir);
    free(p);
    w->impl = NULL;
}

const chord_weights_policy chord_wpolicy_paged = {
    .name = "paged",
    .open = pg_open,
    .acquire = pg_acquire,
    .prefetch = pg_prefetch,
    .preload = pg_preload,
    .clear = pg_clear,
    .stats = pg_stats,
    .close = pg_close,
};
