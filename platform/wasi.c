/*
 * wasi.c — the platform layer for the wasm32-wasi CLI (wasi-libc): monotonic clock, memory size
 * as peak memory, a one-thread pool (Debian's wasi-libc has no wasi-threads), and file sources
 * read with pread — WASI has no mmap, so the model copies the weights into its own buffer and
 * the file is never read whole into a second copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "platform.h"
#include "pread_full.h"

double chord_time_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

uint64_t chord_peak_memory_bytes(void) { return (uint64_t)__builtin_wasm_memory_size(0) * 65536u; }

int chord_cpu_count(void) { return 1; }

/* ---- pool: one thread ---------------------------------------------------------------------- */

struct chord_pool { int n; };

chord_status chord_pool_new(chord_pool **out, int n_threads, chord_error *err) {
    (void)n_threads; /* more than one is accepted and runs on one thread */
    *out = malloc(sizeof **out);
    if (!*out) return chord_fail(err, CHORD_E_NOMEM, "out of memory allocating the thread pool");
    (*out)->n = 1;
    return CHORD_OK;
}
void chord_pool_free(chord_pool *p) { free(p); }
int chord_pool_size(const chord_pool *p) { return p ? p->n : 1; }
void chord_pool_run(chord_pool *p, chord_task_fn fn, void *ctx) { (void)p; fn(ctx, 0, 1); }

/* ---- sources --------------------------------------------------------------------------------- */

typedef struct { int fd; } file_ctx;

static chord_status file_read(void *ctx, uint64_t off, void *dst, size_t len) {
    return chord_pread_full(((file_ctx *)ctx)->fd, off, dst, len);
}

static void file_close(void *ctx) {
    file_ctx *f = ctx;
    close(f->fd);
    free(f);
}

chord_status chord_source_from_file(chord_source *src, const char *path, chord_error *err) {
    if (!src || !path) return chord_fail(err, CHORD_E_INVALID_ARG, "source or path is NULL");
    memset(src, 0, sizeof *src);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return chord_fail(err, CHORD_E_IO, "cannot open '%s': %s (is its directory preopened, e.g. "
                          "wasmtime --dir?)", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return chord_fail(err, CHORD_E_IO, "'%s' is not a regular file", path);
    }
    file_ctx *f = malloc(sizeof *f);
    if (!f) {
        close(fd);
        return chord_fail(err, CHORD_E_NOMEM, "out of memory opening '%s'", path);
    }
    f->fd = fd;
    src->ctx = f;
    src->size = (uint64_t)st.st_size;
    src->read = file_read;
    src->close = file_close;
    return CHORD_OK;
}


/* ---- memory and helper thread ------------------------------------------------------------------ */

/* Unknown here: a budget must be given (the JS host knows the engine's address space). */
uint64_t chord_available_memory_bytes(void) { return 0; }
void chord_cpu_relax(void) {}
void chord_wait_while(atomic_int *word, int value) { (void)word; (void)value; }

/* No thread can be started from C on this target: the paged weights read synchronously. */
#include "no_helper.h"
