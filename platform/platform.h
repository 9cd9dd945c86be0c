/*
 * platform.h — the only interface to the target (native, wasm32, wasm64, WASI): clock, thread
 * pool, memory statistics. Everything in src/ uses only this plus a small libc subset:
 * the mem- and str- functions, malloc/calloc/realloc/free, snprintf/vsnprintf, qsort, and float math
 * (expf, logf, sqrtf, powf, sinf, cosf, fabsf, floorf, tanhf, isnan/isinf). No stdio files,
 * no exit/abort on input.
 */
#ifndef CHORD_PLATFORM_H
#define CHORD_PLATFORM_H

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

#endif
