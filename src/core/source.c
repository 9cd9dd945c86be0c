/*
 * source.c — the target-independent part of chord_source: sources over caller memory, and
 * closing. File sources need the target (mmap/pread natively, pread under WASI, a host import
 * in freestanding wasm) and live in platform/.
 */
#include <stdlib.h>
#include <string.h>
#include "chord.h"

typedef struct { const uint8_t *data; uint64_t size; } mem_ctx;

static chord_status mem_read(void *ctx, uint64_t off, void *dst, size_t len) {
    mem_ctx *m = ctx;
    if (off > m->size || len > m->size - off) return CHORD_E_IO;
    memcpy(dst, m->data + off, len);
    return CHORD_OK;
}

chord_status chord_source_from_memory(chord_source *src, const void *data, uint64_t size) {
    if (!src || (!data && size)) return CHORD_E_INVALID_ARG;
    memset(src, 0, sizeof *src);
    mem_ctx *m = malloc(sizeof *m); /* separate from *src so the struct may be copied */
    if (!m) return CHORD_E_NOMEM;
    m->data = data;
    m->size = size;
    src->data = data;
    src->size = size;
    src->read = mem_read;
    src->close = free;
    src->ctx = m;
    return CHORD_OK;
}

void chord_source_close(chord_source *src) {
    if (!src) return;
    if (src->close) src->close(src->ctx);
    memset(src, 0, sizeof *src);
}
