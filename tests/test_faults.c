/*
 * test_faults.c — fault injection over load + generate, SQLite-style: fail the Nth allocation
 * for every N, then the Nth read of the model file for every N, and expect each run to end
 * with a clean error (`nomem` for an allocation, `io` for a read) and no leak.
 *
 * Allocations: this binary alone is linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,
 * --wrap=free (mk/fault.mk), so every allocation the library makes goes through the wrappers
 * below without a hook in src/. The wrappers count live blocks (leak check in every build;
 * under `make asan` LeakSanitizer checks too). Reads: tests/fault_source.h over a pread source.
 *
 * Scenario, on three small models — tiny (SPM words, F32), stories260K (the real SPM llama),
 * tiny-gpt2 (the gpt-2 BPE vocabulary): open, session of 32 positions, tokenize a prompt, feed,
 * generate 2 tokens, detokenize, free. With more N values than CHORD_FAULT_MAX_N (default 400)
 * the sweep takes every N up to 200, then an even stride over the rest (CHORD_FAULT_ALL=1: all).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chord.h"
#include "check.h"
#include "fault_source.h"
#include "tiny_model.h"

/* ---- the allocation wrappers -------------------------------------------------------------- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t k);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t k);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);

static struct { int armed; uint64_t count, fail_at, failed; long live; } A;

/* 1 when this allocation is the one to fail. */
static int inject(void) {
    if (!A.armed) return 0;
    A.count++;
    if (A.fail_at && A.count == A.fail_at) { A.failed++; return 1; }
    return 0;
}
void *__wrap_malloc(size_t n) {
    if (inject()) return NULL;
    void *p = __real_malloc(n);
    if (p) A.live++;
    return p;
}
void *__wrap_calloc(size_t n, size_t k) {
    if (inject()) return NULL;
    void *p = __real_calloc(n, k);
    if (p) A.live++;
    return p;
}
void *__wrap_realloc(void *p, size_t n) {
    if (inject()) return NULL;
    void *q = __real_realloc(p, n);
    if (q && !p) A.live++;
    return q;
}
void __wrap_free(void *p) {
    if (p) A.live--;
    __real_free(p);
}

/* ---- the scenario ------------------------------------------------------------------------- */

typedef struct { const char *name; char path[256]; } model_case;

static int on_token(void *user, int32_t token, const char *text, size_t len) {
    (void)token; (void)text; (void)len;
    ++*(int *)user;
    return 0;
}

/* Runs the scenario; returns its status, the message in *err. read_fault: 0 = mmap source and
 * no read faults; else the model comes through a fault_source failing read number read_fault. */
static chord_status scenario(const char *path, uint64_t read_fault, fault_source *fs, chord_error *err) {
    chord_model *m = NULL;
    chord_session *s = NULL;
    chord_status st;
    chord_model_params mp = chord_model_params_default();
    if (read_fault) {
        chord_source file, src;
        if ((st = chord_source_from_file(&file, path, err)) != CHORD_OK) return st;
        file.data = NULL; /* pread only: every byte is a read */
        file.check = NULL;
        src = fault_source_wrap(fs, &file, read_fault == UINT64_MAX ? 0 : read_fault, 0);
        st = chord_model_open_source(&m, &src, &mp, err);
    } else {
        st = chord_model_open(&m, path, &mp, err);
    }
    if (st != CHORD_OK) return st;
    chord_session_params sp = chord_session_params_default();
    sp.n_ctx = 32;
    sp.n_threads = 1;
    int32_t ids[64];
    size_t n = 0;
    char text[256];
    int n_gen = 0;
    chord_sampler_params p = chord_sampler_params_default();
    p.temperature = 0;
    p.ignore_eos = 1;
    if ((st = chord_session_new(&s, m, &sp, err)) == CHORD_OK &&
        (st = chord_tokenize(m, "Once upon a time", 16, CHORD_TOK_ADD_SPECIAL, ids, 64, &n, err)) == CHORD_OK &&
        (st = chord_session_feed(s, ids, n, err)) == CHORD_OK &&
        (st = chord_generate(s, &p, 2, on_token, &n_gen, err)) == CHORD_OK)
        st = chord_detokenize(m, ids, n, text, sizeof text, &n, err);
    chord_session_free(s);
    chord_model_free(m);
    return st;
}

/* The N values to try out of 1..total. */
static int pick(uint64_t n, uint64_t total, uint64_t max_n) {
    if (getenv("CHORD_FAULT_ALL") || total <= max_n || n <= max_n / 2) return 1;
    uint64_t stride = (total - max_n / 2) / (max_n / 2) + 1;
    return (n - max_n / 2) % stride == 0 || n == total;
}

static void sweep_alloc(const model_case *mc, uint64_t max_n) {
    chord_error err;
    A.armed = 1; A.count = 0; A.fail_at = 0; A.live = 0;
    chord_status st = scenario(mc->path, 0, NULL, &err);
    A.armed = 0;
    uint64_t total = A.count;
    CHECKF(st == CHORD_OK && A.live == 0, "%s: baseline %s (%s), live %ld", mc->name, chord_status_name(st), err.message, A.live);
    uint64_t tried = 0, nomem = 0, bad = 0;
    for (uint64_t n = 1; n <= total; n++) {
        if (!pick(n, total, max_n)) continue;
        tried++;
        A.armed = 1; A.count = 0; A.fail_at = n; A.failed = 0; A.live = 0;
        memset(&err, 0, sizeof err);
        st = scenario(mc->path, 0, NULL, &err);
        A.armed = 0;
        int clean = A.failed == 1 && st == CHORD_E_NOMEM && err.message[0] && A.live == 0;
        if (clean) { nomem++; continue; }
        if (++bad <= 10)
            fprintf(stderr, "%s: allocation %llu of %llu failed -> %s '%s', %ld blocks leaked\n", mc->name,
                    (unsigned long long)n, (unsigned long long)total, chord_status_name(st), err.message, A.live);
    }
    CHECKF(bad == 0, "%s: %llu of %llu failed allocations did not end cleanly", mc->name,
           (unsigned long long)bad, (unsigned long long)tried);
    printf("  %-12s allocations: %llu in the scenario, %llu failed one at a time, %llu clean nomem, 0 leaks%s\n",
           mc->name, (unsigned long long)total, (unsigned long long)tried, (unsigned long long)nomem, bad ? " (FAILURES)" : "");
}

static void sweep_reads(const model_case *mc, uint64_t max_n) {
    chord_error err;
    fault_source fs;
    A.armed = 1; A.count = 0; A.fail_at = 0; A.live = 0;
    chord_status st = scenario(mc->path, UINT64_MAX, &fs, &err);
    A.armed = 0;
    uint64_t total = fs.n_reads;
    CHECKF(st == CHORD_OK && A.live == 0, "%s: read baseline %s (%s)", mc->name, chord_status_name(st), err.message);
    uint64_t tried = 0, io = 0, bad = 0;
    for (uint64_t n = 1; n <= total; n++) {
        if (!pick(n, total, max_n)) continue;
        tried++;
        A.armed = 1; A.count = 0; A.fail_at = 0; A.live = 0;
        memset(&err, 0, sizeof err);
        st = scenario(mc->path, n, &fs, &err);
        A.armed = 0;
        if (fs.n_failed == 1 && st == CHORD_E_IO && err.message[0] && A.live == 0) { io++; continue; }
        if (++bad <= 10)
            fprintf(stderr, "%s: read %llu of %llu failed -> %s '%s', %ld blocks leaked\n", mc->name,
                    (unsigned long long)n, (unsigned long long)total, chord_status_name(st), err.message, A.live);
    }
    CHECKF(bad == 0, "%s: %llu of %llu failed reads did not end cleanly", mc->name, (unsigned long long)bad,
           (unsigned long long)tried);
    printf("  %-12s reads: %llu in the load, %llu failed one at a time, %llu clean io, 0 leaks%s\n", mc->name,
           (unsigned long long)total, (unsigned long long)tried, (unsigned long long)io, bad ? " (FAILURES)" : "");
}

int main(void) {
    uint64_t max_n = getenv("CHORD_FAULT_MAX_N") ? strtoull(getenv("CHORD_FAULT_MAX_N"), NULL, 10) : 400;
    if (max_n < 2) max_n = 2;
    model_case cases[3] = { { "tiny", "" }, { "stories260K", "" }, { "tiny-gpt2", "" } };
    int n_cases = 0;
    snprintf(cases[0].path, sizeof cases[0].path, "/tmp/chord_faults_tiny_%d.gguf", (int)getpid());
    int nw;
    const char *const *words = tiny_words(&nw);
    tiny_spec t = { words, nw, 1.0f, CHORD_TYPE_F32, NULL };
    if (tiny_model_write(cases[0].path, &t)) n_cases = 1;
    CHECK(n_cases == 1);
    char vocab[256];
    if (check_shared_path("models/stories260K.gguf", cases[1].path, sizeof cases[1].path)) n_cases = 2;
    if (n_cases == 2 && check_shared_path("vocab/ggml-vocab-gpt-2.gguf", vocab, sizeof vocab)) {
        snprintf(cases[2].path, sizeof cases[2].path, "/tmp/chord_faults_gpt2_%d.gguf", (int)getpid());
        tiny_spec g = { NULL, 0, 1.0f, CHORD_TYPE_F32, vocab };
        if (tiny_model_write(cases[2].path, &g)) n_cases = 3;
    }
    for (int i = 0; i < n_cases; i++) {
        sweep_alloc(&cases[i], max_n);
        sweep_reads(&cases[i], max_n);
    }
    remove(cases[0].path);
    if (n_cases == 3) remove(cases[2].path);
    if (n_cases < 3) printf("SKIP: only %d of 3 models (shared test material not found)\n", n_cases);
    return check_report("test_faults");
}
