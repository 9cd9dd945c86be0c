/*
 * native.c — the platform layer for Linux/POSIX: monotonic clock, peak RSS, a fork-join thread
 * pool on pthreads, and file sources (mmap, falling back to pread).
 *
 * Pool protocol: the caller bumps a generation counter; workers spin briefly on it (a forward
 * pass issues hundreds of runs per token, so sleeping between them would cost more than the
 * work), then yield, then block on a condition variable. Each worker runs its slice and increments a
 * done counter; the caller runs slice 0 and waits for the counter to reach nth-1.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
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

uint64_t chord_peak_memory_bytes(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (uint64_t)ru.ru_maxrss * 1024u; /* Linux reports KiB */
}

int chord_cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* ---- thread pool --------------------------------------------------------------------------- */

#define CHORD_MAX_THREADS 64
/* Waits spin SPIN_PAUSES times with a pause hint, then yield the core up to SPIN_YIELDS times
 * (a worker then sleeps on the condition variable; the caller's join keeps yielding). A spin that
 * never yields holds its core while the thread it waits for may be the one the scheduler took
 * off the other core for another process: on a 2-core machine shared with a second busy process,
 * that turned 2-thread decode into 0.3x of llama.cpp's. sched_yield returns at once when nothing
 * else is runnable, so on a quiet machine the cost is a system call per poll after the pauses. */
#define SPIN_PAUSES 4000
#define SPIN_YIELDS 200

static inline void cpu_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* One poll of a wait; returns 0 once the worker's spin budget is spent. */
static inline int pool_poll(int *spins) {
    if (*spins < SPIN_PAUSES) cpu_pause();
    else sched_yield();
    return ++*spins < SPIN_PAUSES + SPIN_YIELDS;
}

struct chord_pool {
    int n;
    pthread_t th[CHORD_MAX_THREADS];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_uint gen;      /* bumped once per run */
    atomic_int done;      /* workers finished in the current run */
    atomic_int quit;
    chord_task_fn fn;
    void *ctx;
};

typedef struct { chord_pool *p; int ith; } worker_arg;

static void *worker_main(void *arg) {
    chord_pool *p = ((worker_arg *)arg)->p;
    int ith = ((worker_arg *)arg)->ith;
    free(arg);
    unsigned seen = 0;
    for (;;) {
        unsigned g;
        int spins = 0;
        while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen &&
               !atomic_load(&p->quit) && pool_poll(&spins)) {}
        if (g == seen && !atomic_load(&p->quit)) {
            pthread_mutex_lock(&p->mu);
            while ((g = atomic_load(&p->gen)) == seen && !atomic_load(&p->quit))
                pthread_cond_wait(&p->cv, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->quit)) return NULL;
        seen = g;
        p->fn(p->ctx, ith, p->n);
        atomic_fetch_add_explicit(&p->done, 1, memory_order_acq_rel);
    }
}

chord_status chord_pool_new(chord_pool **out, int n_threads, chord_error *err) {
    *out = NULL;
    if (n_threads <= 0) n_threads = chord_cpu_count();
    if (n_threads > CHORD_MAX_THREADS)
        return chord_fail(err, CHORD_E_INVALID_ARG, "n_threads %d exceeds the maximum %d",
                          n_threads, CHORD_MAX_THREADS);
    chord_pool *p = calloc(1, sizeof *p);
    if (!p) return chord_fail(err, CHORD_E_NOMEM, "out of memory allocating the thread pool");
    p->n = n_threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    for (int i = 1; i < n_threads; i++) {
        worker_arg *a = malloc(sizeof *a);
        if (a) { a->p = p; a->ith = i; } /* before the thread starts: it reads them at once */
        if (!a || pthread_create(&p->th[i], NULL, worker_main, a) != 0) {
            free(a);
            p->n = i; /* join the ones that started */
            chord_pool_free(p);
            return chord_fail(err, CHORD_E_NOMEM, "cannot start thread %d of %d", i, n_threads);
        }
    }
    *out = p;
    return CHORD_OK;
}

void chord_pool_free(chord_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->quit, 1);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n; i++) pthread_join(p->th[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}

int chord_pool_size(const chord_pool *p) { return p ? p->n : 1; }

void chord_pool_run(chord_pool *p, chord_task_fn fn, void *ctx) {
    if (!p || p->n == 1) {
        fn(ctx, 0, 1);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    atomic_store_explicit(&p->done, 0, memory_order_relaxed);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    fn(ctx, 0, p->n);
    int spins = 0;
    while (atomic_load_explicit(&p->done, memory_order_acquire) != p->n - 1) {
        /* the other slices are about as long as ours: poll, yielding once the pauses are spent */
        if (!pool_poll(&spins)) spins = SPIN_PAUSES;
    }
}

/* ---- sources --------------------------------------------------------------------------------- */

typedef struct {
    int fd;
    void *map;
    uint64_t map_bytes;
    char path[200];  /* for messages (truncated when longer) */
} file_ctx;

static chord_status file_read(void *ctx, uint64_t off, void *dst, size_t len) {
    return chord_pread_full(((file_ctx *)ctx)->fd, off, dst, len);
}

/* A mapped file that shrinks under us turns every access to a lost page into SIGBUS, which a
 * library cannot catch without owning the process's signal handlers. So the session asks before
 * each forward pass whether the file still covers the mapping; a truncation that lands inside a
 * forward pass can still fault, which is why the message points to --no-mmap (weights copied
 * into memory at load, immune to later changes of the file). */
static chord_status file_check(void *ctx, chord_error *err) {
    file_ctx *f = ctx;
    struct stat st;
    if (!f->map) return CHORD_OK;
    if (fstat(f->fd, &st) != 0)
        return chord_fail(err, CHORD_E_IO, "cannot stat the model file '%s': %s", f->path, strerror(errno));
    if ((uint64_t)st.st_size < f->map_bytes)
        return chord_fail(err, CHORD_E_IO, "the model file '%s' shrank from %llu to %llu bytes while mapped; "
                          "reload it, or load with --no-mmap (use_mmap = 0) to copy it into memory",
                          f->path, (unsigned long long)f->map_bytes, (unsigned long long)st.st_size);
    return CHORD_OK;
}

static void file_close(void *ctx) {
    file_ctx *f = ctx;
    if (f->map) munmap(f->map, f->map_bytes);
    close(f->fd);
    free(f);
}

chord_status chord_source_from_file(chord_source *src, const char *path, chord_error *err) {
    if (!src || !path) return chord_fail(err, CHORD_E_INVALID_ARG, "source or path is NULL");
    memset(src, 0, sizeof *src);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return chord_fail(err, CHORD_E_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return chord_fail(err, CHORD_E_IO, "'%s' is not a regular file", path);
    }
    file_ctx *f = calloc(1, sizeof *f);
    if (!f) {
        close(fd);
        return chord_fail(err, CHORD_E_NOMEM, "out of memory opening '%s'", path);
    }
    f->fd = fd;
    snprintf(f->path, sizeof f->path, "%s", path);
    uint64_t size = (uint64_t)st.st_size;
    if (size > 0) {
        void *m = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m != MAP_FAILED) {
            f->map = m;
            f->map_bytes = size;
        }
    }
    src->ctx = f;
    src->size = size;
    src->read = file_read;
    src->close = file_close;
    src->data = f->map;
    src->check = f->map ? file_check : NULL;
    return CHORD_OK;
}


/* ---- memory and helper thread ------------------------------------------------------------------ */

uint64_t chord_available_memory_bytes(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (f) {
        char line[256];
        unsigned long long kib = 0;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1) break;
        fclose(f);
        if (kib) return (uint64_t)kib * 1024u;
    }
    long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
}

void chord_prefault(const void *p, uint64_t len) {
    if (!p || len == 0) return;
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), a = (uintptr_t)p & ~(page - 1);
#ifdef MADV_POPULATE_READ
    if (madvise((void *)a, (size_t)((uintptr_t)p + len - a), MADV_POPULATE_READ) == 0) return;
#endif
    (void)madvise((void *)a, (size_t)((uintptr_t)p + len - a), MADV_WILLNEED); /* kernels before 5.14 */
}

void chord_cpu_relax(void) { sched_yield(); }
void chord_wait_while(atomic_int *word, int value) {
    if (atomic_load(word) == value) sched_yield();
}

struct chord_helper {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int kicked, stop;
    void (*fn)(void *);
    void *arg;
};

static void *helper_main(void *p) {
    chord_helper *h = p;
    pthread_mutex_lock(&h->mu);
    for (;;) {
        while (!h->kicked && !h->stop) pthread_cond_wait(&h->cv, &h->mu);
        if (h->stop) break;
        h->kicked = 0;
        pthread_mutex_unlock(&h->mu);
        h->fn(h->arg);
        pthread_mutex_lock(&h->mu);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

chord_status chord_helper_new(chord_helper **out, void (*fn)(void *), void *arg, chord_error *err) {
    *out = NULL;
    chord_helper *h = calloc(1, sizeof *h);
    if (!h) return chord_fail(err, CHORD_E_NOMEM, "out of memory for a helper thread");
    h->fn = fn;
    h->arg = arg;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    if (pthread_create(&h->th, NULL, helper_main, h) != 0) {
        pthread_mutex_destroy(&h->mu);
        pthread_cond_destroy(&h->cv);
        free(h);
        return chord_fail(err, CHORD_E_NOMEM, "cannot start a helper thread");
    }
    *out = h;
    return CHORD_OK;
}

void chord_helper_kick(chord_helper *h) {
    pthread_mutex_lock(&h->mu);
    h->kicked = 1;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

void chord_helper_free(chord_helper *h) {
    if (!h) return;
    pthread_mutex_lock(&h->mu);
    h->stop = 1;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->th, NULL);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
    free(h);
}
