/*
 * platform.h — the only interface to the target (native, wasm32, wasm64, WASI): clock, thread
 * pool, memory statistics. Everything in src/ uses only this plus a small libc subset:
 * the mem- and str- functions, malloc/calloc/realloc/free, snprintf/vsnprintf, qsort, and float math
 * (expf, logf, sqrtf, powf, sinf, cosf, fabsf, floorf, tanhf, isnan/isinf). No stdio files,
 * no exit/abort on input.
 */
#ifndef CHORD_PLATFORM_H
#define CHORD_PLATFORM_H

#include <stdatomic.h>
#include <stdint.h>
#include "chord.h"

double chord_time_ms(void);                 /* monotonic milliseconds */
uint64_t chord_peak_memory_bytes(void);     /* peak RSS natively; memory size in wasm */
int chord_cpu_count(void);

/* Fork-join pool. chord_pool_run calls fn(ctx, ith, nth) for ith in [0, nth) on nth threads
 * (the caller is thread 0) and returns when all have finished. */
typedef struct chord_pool chord_pool;
typedef void (*chord_task_fn)(void *ctx, int ith, int nth);
chord_status chord_pool_new(chord_pool **out, int n_threads, chord_error *err);
void chord_pool_free(chord_pool *p);
int chord_pool_size(const chord_pool *p);
void chord_pool_run(chord_pool *p, chord_task_fn fn, void *ctx);

/* Memory the system could give this process now (natively MemAvailable); 0 when unknown. The
 * default memory budget of residency auto (docs/MEMORY64.md). */
uint64_t chord_available_memory_bytes(void);
/* Maps the pages of [p, p + len) of a mapped source into this process now, so that the first
 * forward pass does not take a page fault per 64 KiB of weights (~10k faults and 2-5% of a
 * TinyLlama prefill; llama.cpp maps with MAP_POPULATE for the same reason). A hint: errors are
 * ignored. Natively madvise(MADV_POPULATE_READ); nothing in wasm, which never maps files. */
#if defined(__wasm__)
static inline void chord_prefault(const void *p, uint64_t len) { (void)p; (void)len; }
#else
void chord_prefault(const void *p, uint64_t len);
#endif
/* Gives the CPU to another thread while waiting for one (natively sched_yield). */
void chord_cpu_relax(void);
/* Waits a little while *word == value (returns at once otherwise; may return early): natively a
 * yield, in wasm memory.atomic.wait32 with a short timeout, woken by the host's Atomics.notify
 * (an async slot read, docs/MEMORY64.md). Callers loop on their own condition. */
void chord_wait_while(atomic_int *word, int value);

/* A helper thread that runs fn(arg) after chord_helper_kick; kicks that arrive while fn runs
 * make it run once more (they coalesce). The paged weights' prefetcher. CHORD_E_UNSUPPORTED on
 * targets that cannot start a thread from C (WASI, freestanding wasm): callers then do the work
 * synchronously. */
typedef struct chord_helper chord_helper;
chord_status chord_helper_new(chord_helper **out, void (*fn)(void *arg), void *arg, chord_error *err);
void chord_helper_kick(chord_helper *h);
void chord_helper_free(chord_helper *h); /* waits for a running fn, joins; NULL is fine */

#endif
