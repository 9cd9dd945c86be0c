/*
 * fault_source.h — a chord_source wrapper that fails reads on purpose, for fault-injection
 * tests (tests/test_faults.c; the paged-weights tests reuse it). It forwards to an inner source
 * and fails the `fail_at`-th read (1-based; 0 = never) — or every read from then on with
 * `sticky` — with CHORD_E_IO, counting reads so a sweep can try every N. The wrapper never
 * exposes `data`, so every byte goes through read(): the path a paged or host source takes.
 */
#ifndef CHORD_FAULT_SOURCE_H
#define CHORD_FAULT_SOURCE_H
#include <stdlib.h>
#include "chord.h"

typedef struct {
    chord_source inner;   /* owned: closed with the wrapper */
    uint64_t fail_at;     /* 1-based read number that fails; 0 = none */
    int sticky;           /* fail every read from fail_at on */
    uint64_t n_reads;     /* reads attempted so far */
    uint64_t n_failed;    /* reads failed on purpose */
} fault_source;

static chord_status fault_read(void *ctx, uint64_t off, void *dst, size_t len) {
    fault_source *f = ctx;
    f->n_reads++;
    if (f->fail_at && (f->n_reads == f->fail_at || (f->sticky && f->n_reads > f->fail_at))) {
        f->n_failed++;
        return CHORD_E_IO;
    }
    return f->inner.read(f->inner.ctx, off, dst, len);
}

static void fault_close(void *ctx) {
    fault_source *f = ctx;
    chord_source_close(&f->inner);
}

/* Wraps *inner (ownership moves into f; f must outlive the source). The result reads through
 * f; its close closes the inner source but does not free f. */
__attribute__((unused)) static chord_source fault_source_wrap(fault_source *f, chord_source *inner, uint64_t fail_at,
                                                              int sticky) {
    f->inner = *inner;
    f->fail_at = fail_at;
    f->sticky = sticky;
    f->n_reads = f->n_failed = 0;
    chord_source s = { .ctx = f, .size = inner->size, .read = fault_read, .close = fault_close, .data = NULL };
    return s;
}
#endif
