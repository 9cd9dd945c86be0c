/*
 * wasm.c — the platform layer for freestanding wasm32/wasm64 (the builds driven by js/src/core.js):
 * clock from the host, peak memory = linear memory size, a fork-join pool over Workers that share
 * this module's memory, and chord_source over memory buffers and over a host read function.
 *
 * Threads: wasm has no thread creation. The host starts N-1 Workers, each instantiating this
 * module on the same shared memory with its own stack and TLS, and each calls
 * chord_wasm_worker_main(ith), which never returns until chord_wasm_threads_stop(). Workers
 * sleep in memory.atomic.wait32 on a generation counter after spinning briefly (a forward pass
 * issues hundreds of runs per token; waking from wait costs ~25 µs, a spin ~0.4 µs). The leader
 * (whoever calls chord_pool_run) only spins and never waits, because wait traps on a browser's
 * main thread. There is one set of workers per module instance, so pools are views on it.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "platform.h"
#include "wasm_host.h"

#define WASM_IMPORT(name) __attribute__((import_module("env"), import_name(#name)))
WASM_IMPORT(chord_host_now_ms) double chord_host_now_ms(void);
WASM_IMPORT(chord_host_read) int32_t chord_host_read(int32_t handle, uint64_t off, void *dst, size_t len);
/* Starts an asynchronous read into dst (the store side writes it and moves *state; chord.h's
 * chord_source.read_async); 0 = started. */
WASM_IMPORT(chord_host_read_async) int32_t chord_host_read_async(int32_t handle, uint64_t off, void *dst, size_t len,
                                                                 int32_t *state);
/* Returns once the host touches no state word or buffer of an earlier async read (chord.h). */
WASM_IMPORT(chord_host_drain) void chord_host_drain(int32_t handle);

#define EXPORT __attribute__((visibility("default")))
#define MAX_THREADS 64
#define SPIN_ITERS 100000

double chord_time_ms(void) { return chord_host_now_ms(); }

/* Linear memory never shrinks, so its current size is the peak. */
uint64_t chord_peak_memory_bytes(void) { return (uint64_t)__builtin_wasm_memory_size(0) * 65536u; }

/* ---- thread pool ------------------------------------------------------------------------- */

static struct {
    _Atomic int32_t gen;      /* bumped once per run; workers wait on it */
    atomic_int done;          /* workers finished in the current run */
    atomic_int ready;         /* workers inside chord_wasm_worker_main */
    atomic_int sleepers;      /* workers blocked in wait32 (notify only when > 0) */
    atomic_int quit;
    chord_task_fn fn;
    void *ctx;
    int nth;
} g_pool;

int chord_cpu_count(void) { return 1 + atomic_load(&g_pool.ready); }

struct chord_pool { int n; };

chord_status chord_pool_new(chord_pool **out, int n_threads, chord_error *err) {
    *out = NULL;
    int avail = chord_cpu_count();
    if (n_threads <= 0) n_threads = avail;
    if (n_threads > avail)
        return chord_fail(err, CHORD_E_INVALID_ARG,
                          "n_threads %d exceeds the %d threads this wasm engine started", n_threads,
                          avail);
    chord_pool *p = malloc(sizeof *p);
    if (!p) return chord_fail(err, CHORD_E_NOMEM, "out of memory allocating the thread pool");
    p->n = n_threads;
    *out = p;
    return CHORD_OK;
}

void chord_pool_free(chord_pool *p) { free(p); }
int chord_pool_size(const chord_pool *p) { return p ? p->n : 1; }

void chord_pool_run(chord_pool *p, chord_task_fn fn, void *ctx) {
    if (!p || p->n == 1) {
        fn(ctx, 0, 1);
        return;
    }
    g_pool.fn = fn;
    g_pool.ctx = ctx;
    g_pool.nth = p->n;
    atomic_store_explicit(&g_pool.done, 0, memory_order_relaxed);
    atomic_fetch_add(&g_pool.gen, 1); /* seq_cst: orders the job fields before it */
    if (atomic_load(&g_pool.sleepers) > 0)
        __builtin_wasm_memory_atomic_notify((int32_t *)&g_pool.gen, (uint32_t)-1);
    fn(ctx, 0, p->n);
    while (atomic_load_explicit(&g_pool.done, memory_order_acquire) != p->n - 1) {
        /* spin: the other slices are about as long as ours */
    }
}

EXPORT void chord_wasm_worker_main(int32_t ith) {
    int32_t seen = atomic_load(&g_pool.gen);
    atomic_fetch_add(&g_pool.ready, 1);
    for (;;) {
        int32_t g;
        int spins = 0;
        while ((g = atomic_load_explicit(&g_pool.gen, memory_order_acquire)) == seen &&
               !atomic_load_explicit(&g_pool.quit, memory_order_relaxed) && spins < SPIN_ITERS)
            spins++;
        while (g == seen && !atomic_load(&g_pool.quit)) {
            atomic_fetch_add(&g_pool.sleepers, 1);
            __builtin_wasm_memory_atomic_wait32((int32_t *)&g_pool.gen, seen, -1);
            atomic_fetch_sub(&g_pool.sleepers, 1);
            g = atomic_load(&g_pool.gen);
        }
        if (atomic_load(&g_pool.quit)) break;
        seen = g;
        if (ith < g_pool.nth) {
            g_pool.fn(g_pool.ctx, ith, g_pool.nth);
            atomic_fetch_add_explicit(&g_pool.done, 1, memory_order_acq_rel);
        }
    }
    atomic_fetch_sub(&g_pool.ready, 1);
}

EXPORT int32_t chord_wasm_threads_ready(void) { return atomic_load(&g_pool.ready); }

EXPORT void chord_wasm_threads_stop(void) {
    atomic_store(&g_pool.quit, 1);
    atomic_fetch_add(&g_pool.gen, 1);
    __builtin_wasm_memory_atomic_notify((int32_t *)&g_pool.gen, (uint32_t)-1);
}

/* ---- sources ----------------------------------------------------------------------------- */

chord_status chord_source_from_file(chord_source *src, const char *path, chord_error *err) {
    if (src) memset(src, 0, sizeof *src);
    return chord_fail(err, CHORD_E_UNSUPPORTED,
                      "cannot open '%s': this wasm build has no file system; load the model "
                      "from memory or a host source", path ? path : "(null)");
}

typedef struct { int32_t handle; uint64_t size; } host_ctx;

static chord_status host_read(void *ctx, uint64_t off, void *dst, size_t len) {
    host_ctx *h = ctx;
    if (off > h->size || len > h->size - off) return CHORD_E_IO;
    int32_t st = chord_host_read(h->handle, off, dst, len);
    return st == 0 ? CHORD_OK : (st > 0 && st <= CHORD_E_INTERNAL ? (chord_status)st : CHORD_E_IO);
}

static chord_status host_read_async(void *ctx, uint64_t off, void *dst, size_t len, int32_t *state) {
    host_ctx *h = ctx;
    if (off > h->size || len > h->size - off) return CHORD_E_IO;
    return chord_host_read_async(h->handle, off, dst, len, state) == 0 ? CHORD_OK : CHORD_E_UNSUPPORTED;
}

static void host_drain(void *ctx) { chord_host_drain(((host_ctx *)ctx)->handle); }

chord_status chord_wasm_source_from_host(chord_source *src, int32_t handle, uint64_t size, int async_reads) {
    if (!src) return CHORD_E_INVALID_ARG;
    memset(src, 0, sizeof *src);
    host_ctx *h = malloc(sizeof *h);
    if (!h) return CHORD_E_NOMEM;
    h->handle = handle;
    h->size = size;
    src->ctx = h;
    src->size = size;
    src->read = host_read;
    if (async_reads) {
        src->read_async = host_read_async;
        src->drain = host_drain;
    }
    src->close = free;
    return CHORD_OK;
}


/* ---- memory and helper thread ------------------------------------------------------------------ */

/* Unknown here: a budget must be given (the JS host knows the engine's address space). */
uint64_t chord_available_memory_bytes(void) { return 0; }
void chord_cpu_relax(void) {}

/* Only ever called on a worker thread (the package's engine worker): wait32 traps on a browser's
 * main thread, and no async source is given there. Spins first: a slot that is almost there. */
void chord_wait_while(atomic_int *word, int value) {
    for (int i = 0; i < 2000; i++)
        if (atomic_load(word) != value) return;
    __builtin_wasm_memory_atomic_wait32((int32_t *)word, value, 1000000); /* 1 ms; the host notifies */
}

/* No thread can be started from C on this target: the paged weights read synchronously. */
#include "no_helper.h"
