/*
 * test_weights.c — the weights contract (src/weights/weights.h): views handed out by acquire,
 * acquire/release balance, pins under concurrent acquires, errors (bad layer, data beyond the
 * source, failing reads, bad policy), stats; and one model serving two sessions on two threads
 * that generate exactly the tokens one session generates alone (stories260K).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "chord.h"
#include "check.h"
#include "check_model.h"
#include "weights/weights.h"

/* ---- a hand-built tensor table over a memory buffer -------------------------------------------- */

enum { N_LAYER = 3, E = 8, F = 16, V = 10 };

typedef struct {
    chord_gguf_tensor t[64];
    int n;
    uint64_t off;
    chord_layer_tensors layers[N_LAYER], global;
    uint8_t *buf;
    uint64_t size;
} table;

static const chord_gguf_tensor *add(table *tb, chord_type type, int64_t ne0, int64_t ne1) {
    chord_gguf_tensor *t = &tb->t[tb->n++];
    memset(t, 0, sizeof *t);
    t->type = type;
    t->n_dims = ne1 > 1 ? 2 : 1;
    t->ne[0] = ne0; t->ne[1] = ne1; t->ne[2] = t->ne[3] = 1;
    t->n_elems = (uint64_t)(ne0 * ne1);
    t->n_bytes = t->n_elems * (type == CHORD_TYPE_F16 ? 2 : 4);
    t->off = tb->off;
    tb->off += (t->n_bytes + 31) & ~(uint64_t)31;
    return t;
}

static void build(table *tb) {
    memset(tb, 0, sizeof *tb);
    tb->off = 64; /* a pretend header */
    tb->global.t[CHORD_W_TOK_EMBD] = add(tb, CHORD_TYPE_F16, E, V);
    for (int l = 0; l < N_LAYER; l++) {
        chord_layer_tensors *lt = &tb->layers[l];
        lt->t[CHORD_W_ATTN_NORM] = add(tb, CHORD_TYPE_F32, E, 1);
        lt->t[CHORD_W_Q] = add(tb, CHORD_TYPE_F32, E, E);
        lt->t[CHORD_W_K] = add(tb, CHORD_TYPE_F32, E, E / 2);
        lt->t[CHORD_W_V] = add(tb, CHORD_TYPE_F32, E, E / 2);
        lt->t[CHORD_W_O] = add(tb, CHORD_TYPE_F32, E, E);
        lt->t[CHORD_W_FFN_NORM] = add(tb, CHORD_TYPE_F32, E, 1);
        lt->t[CHORD_W_GATE] = add(tb, CHORD_TYPE_F16, E, F);
        lt->t[CHORD_W_UP] = add(tb, CHORD_TYPE_F16, E, F);
        lt->t[CHORD_W_DOWN] = add(tb, CHORD_TYPE_F16, F, E);
    }
    tb->global.t[CHORD_W_OUT_NORM] = add(tb, CHORD_TYPE_F32, E, 1);
    tb->global.t[CHORD_W_OUTPUT] = tb->global.t[CHORD_W_TOK_EMBD]; /* tied */
    tb->size = tb->off;
    tb->buf = malloc(tb->size);
    for (uint64_t i = 0; i < tb->size; i++) tb->buf[i] = (uint8_t)(i * 131u + 7u);
}

/* A source that reads from the table's buffer and can be told to fail or to read short. */
typedef struct { const table *tb; int fail_at_read; int n_reads; } flaky;
static chord_status flaky_read(void *ctx, uint64_t off, void *dst, size_t len) {
    flaky *f = ctx;
    if (++f->n_reads == f->fail_at_read) return CHORD_E_IO;
    if (off > f->tb->size || len > f->tb->size - off) return CHORD_E_IO;
    memcpy(dst, f->tb->buf + off, len);
    return CHORD_OK;
}

/* Every view matches the tensor table and points at the tensor's bytes. */
static void check_view(const table *tb, const chord_layer_tensors *lt, const chord_layer_view *v) {
    for (int s = 0; s < CHORD_W_NSLOTS; s++) {
        const chord_gguf_tensor *t = lt->t[s];
        if (!t) { CHECK(v->w[s].data == NULL); continue; }
        CHECK(v->w[s].data != NULL);
        CHECK(v->w[s].type == t->type);
        CHECK(v->w[s].n_in == t->ne[0] && v->w[s].n_out == t->ne[1]);
        CHECK(v->w[s].row_bytes * (uint64_t)t->ne[1] == t->n_bytes);
        CHECK(v->w[s].data && memcmp(v->w[s].data, tb->buf + t->off, t->n_bytes) == 0);
    }
}

static void contract(const table *tb, int mapped) {
    chord_error err_, *err = &err_;
    flaky fl = { tb, 0, 0 };
    chord_source src = { .ctx = &fl, .size = tb->size, .read = flaky_read, .data = mapped ? tb->buf : NULL };
    chord_weights *w = NULL;
    CHECK_OK(chord_weights_open(&w, &src, tb->layers, N_LAYER, &tb->global, NULL, err), err);
    if (!w) return;
    CHECK(!strcmp(chord_weights_policy_name(w), "resident"));
    CHECK(mapped ? fl.n_reads == 0 : fl.n_reads >= 1);
    CHECK(chord_weights_resident_bytes(w) == tb->size - 64);

    chord_layer_view g, v;
    CHECK_OK(chord_weights_acquire(w, CHORD_LAYER_GLOBAL, &g, err), err);
    check_view(tb, &tb->global, &g);
    CHECK(g.w[CHORD_W_OUTPUT].data == g.w[CHORD_W_TOK_EMBD].data);
    for (int l = 0; l < N_LAYER; l++) {
        CHECK_OK(chord_weights_acquire(w, l, &v, err), err);
        check_view(tb, &tb->layers[l], &v);
        CHECK(chord_weights_pins(w, l) == 1);
        CHECK_OK(chord_weights_acquire(w, l, &v, err), err); /* nested: a second session */
        CHECK(chord_weights_pins(w, l) == 2);
        chord_weights_prefetch(w, l); /* a hint: never fails, changes nothing here */
        chord_weights_release(w, l);
        chord_weights_release(w, l);
        CHECK(chord_weights_pins(w, l) == 0);
    }
    CHECK(chord_weights_pins(w, CHORD_LAYER_GLOBAL) == 1);
    chord_weights_release(w, CHORD_LAYER_GLOBAL);
    CHECK(chord_weights_pins(w, CHORD_LAYER_GLOBAL) == 0);

    /* unbalanced release never goes negative; bad layers are refused and pin nothing */
    chord_weights_release(w, 0);
    CHECK(chord_weights_pins(w, 0) == 0);
    CHECK(chord_weights_acquire(w, N_LAYER, &v, err) == CHORD_E_RANGE);
    CHECK(strstr(err->message, "layer 3") != NULL);
    CHECK(chord_weights_acquire(w, -2, &v, err) == CHORD_E_RANGE);
    CHECK(chord_weights_acquire(w, 0, NULL, err) == CHORD_E_INVALID_ARG);
    chord_weights_release(w, 99);
    chord_weights_prefetch(w, 99);
    for (int l = -1; l < N_LAYER; l++) CHECK(chord_weights_pins(w, l) == 0);
    CHECK(chord_weights_pins(w, N_LAYER) == -1);

    /* stats: resident = every layer pinned in its own slot; layer acquires are hits */
    chord_cache_stats st;
    chord_weights_stats(w, &st);
    CHECK(!strcmp(st.policy, "resident"));
    CHECK(st.n_layer == N_LAYER && st.slots == N_LAYER && st.pinned == N_LAYER);
    CHECK(st.hits == 2 * N_LAYER && st.misses == 0 && st.evictions == 0);
    CHECK(st.bytes_read == (mapped ? 0 : tb->size - 64));
    CHECK_OK(chord_weights_preload(w, err), err);
    chord_weights_clear(w);
    CHECK_OK(chord_weights_acquire(w, 1, &v, err), err); /* still there after clear */
    check_view(tb, &tb->layers[1], &v);
    chord_weights_release(w, 1);
    chord_weights_free(w);
}

static void errors(const table *tb) {
    chord_error err_, *err = &err_;
    chord_weights *w = NULL;
    flaky fl = { tb, 1, 0 };
    chord_source src = { .ctx = &fl, .size = tb->size, .read = flaky_read };
    CHECK(chord_weights_open(&w, &src, tb->layers, N_LAYER, &tb->global, NULL, err) == CHORD_E_IO);
    CHECKF(strstr(err->message, "offset 64") != NULL, "%s", err->message);
    CHECK(w == NULL);

    src.size = tb->size - 1; /* the last tensor ends past the source */
    fl.fail_at_read = 0;
    CHECK(chord_weights_open(&w, &src, tb->layers, N_LAYER, &tb->global, NULL, err) == CHORD_E_FORMAT);
    CHECKF(strstr(err->message, "beyond the source size") != NULL, "%s", err->message);
    src.size = tb->size;

    chord_weights_config cfg = { .policy = CHORD_WPOLICY_COUNT };
    CHECK(chord_weights_open(&w, &src, tb->layers, N_LAYER, &tb->global, &cfg, err) == CHORD_E_INVALID_ARG);
    CHECK(chord_weights_open(&w, NULL, tb->layers, N_LAYER, &tb->global, NULL, err) == CHORD_E_INVALID_ARG);
    CHECK(chord_weights_open(&w, &src, NULL, N_LAYER, &tb->global, NULL, err) == CHORD_E_INVALID_ARG);
    CHECK(chord_weights_open(NULL, &src, tb->layers, N_LAYER, &tb->global, NULL, err) == CHORD_E_INVALID_ARG);
    CHECK(chord_weights_acquire(NULL, 0, NULL, err) == CHORD_E_INVALID_ARG);
    chord_weights_release(NULL, 0);
    chord_weights_free(NULL);
}

/* ---- pins under contention: exact counts from several threads ----------------------------------- */

typedef struct { chord_weights *w; int iters; int failures; } hammer_arg;
static void *hammer(void *p) {
    hammer_arg *a = p;
    chord_layer_view v;
    for (int i = 0; i < a->iters; i++) {
        int l = i % N_LAYER;
        if (chord_weights_acquire(a->w, l, &v, NULL) != CHORD_OK || !v.w[CHORD_W_Q].data) a->failures++;
        chord_weights_release(a->w, l);
    }
    return NULL;
}

static void contention(const table *tb) {
    chord_error err_, *err = &err_;
    chord_source src;
    chord_source_from_memory(&src, tb->buf, tb->size);
    chord_weights *w = NULL;
    CHECK_OK(chord_weights_open(&w, &src, tb->layers, N_LAYER, &tb->global, NULL, err), err);
    if (!w) return;
    enum { T = 4, ITERS = 200000 };
    pthread_t th[T];
    hammer_arg a[T];
    for (int i = 0; i < T; i++) {
        a[i] = (hammer_arg){ w, ITERS, 0 };
        pthread_create(&th[i], NULL, hammer, &a[i]);
    }
    for (int i = 0; i < T; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < T; i++) CHECK(a[i].failures == 0);
    for (int l = 0; l < N_LAYER; l++) CHECK(chord_weights_pins(w, l) == 0);
    chord_cache_stats st;
    chord_weights_stats(w, &st);
    CHECKF(st.hits == (uint64_t)T * ITERS, "hits %llu", (unsigned long long)st.hits);
    chord_weights_free(w);
    chord_source_close(&src);
}

/* ---- one model, two sessions on two threads ------------------------------------------------------ */

typedef struct { chord_model *m; int32_t ids[160]; int n; chord_status st; } gen_arg;

static int collect(void *user, int32_t token, const char *text, size_t len) {
    (void)text; (void)len;
    gen_arg *g = user;
    if (g->n < 160) g->ids[g->n++] = token;
    return 0;
}

static void *generate(void *p) {
    gen_arg *g = p;
    chord_session *s = NULL;
    chord_session_params sp = chord_session_params_default();
    sp.n_ctx = 256;
    sp.n_threads = 1;
    g->n = 0;
    g->st = chord_session_new(&s, g->m, &sp, NULL);
    if (g->st != CHORD_OK) return NULL;
    chord_model_info info;
    chord_model_get_info(g->m, &info);
    int32_t prompt[3] = { info.bos, 403, 407 };
    chord_sampler_params sam = chord_sampler_params_default();
    sam.temperature = 0.0f;
    sam.ignore_eos = 1;
    if ((g->st = chord_session_feed(s, prompt, 3, NULL)) == CHORD_OK)
        g->st = chord_generate(s, &sam, 150, collect, g, NULL);
    chord_session_free(s);
    return NULL;
}

static void two_sessions(void) {
    char path[512];
    chord_error err_, *err = &err_;
    chord_model *m = check_open_shared("models/stories260K.gguf", NULL, path, sizeof path);
    if (!m) return;
    gen_arg one = { .m = m };
    generate(&one);
    CHECK(one.st == CHORD_OK && one.n == 150);
    for (int round = 0; round < 3; round++) {
        gen_arg a = { .m = m }, b = { .m = m };
        pthread_t ta, tb;
        pthread_create(&ta, NULL, generate, &a);
        pthread_create(&tb, NULL, generate, &b);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        CHECK(a.st == CHORD_OK && b.st == CHORD_OK);
        CHECK(a.n == one.n && memcmp(a.ids, one.ids, sizeof(int32_t) * (size_t)one.n) == 0);
        CHECK(b.n == one.n && memcmp(b.ids, one.ids, sizeof(int32_t) * (size_t)one.n) == 0);
    }
    chord_cache_stats st;
    CHECK_OK(chord_model_cache_stats(m, &st), err);
    CHECK(st.n_layer == 5 && st.slots == 5 && st.misses == 0);
    CHECK(st.hits > 0 && st.hits % 5 == 0); /* every forward pass acquires every layer once */
    CHECK(chord_model_cache_stats(NULL, &st) == CHORD_E_INVALID_ARG);
    CHECK_OK(chord_model_preload(m, err), err);
    CHECK_OK(chord_model_clear_cache(m), err);
    chord_model_free(m);
}

/* A mapped resident model has its weight pages mapped at load (chord_prefault), not by page
 * faults in the first forward pass: right after open, the file mapping's Rss in /proc/self/smaps
 * covers at least 90% of the resident weight bytes (without the prefault only the header and
 * vocabulary pages the loader read would be mapped). Skipped where the kernel has no
 * MADV_POPULATE_READ (Linux < 5.14) or no smaps. */
static void prefaulted(void) {
#if defined(__linux__) && defined(MADV_POPULATE_READ)
    char path[512], line[1024];
    if (!check_shared_path("models/stories260K.gguf", path, sizeof path)) return;
    void *probe = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    const int supported = probe != MAP_FAILED && madvise(probe, 4096, MADV_POPULATE_READ) == 0;
    if (probe != MAP_FAILED) munmap(probe, 4096);
    FILE *f = supported ? fopen("/proc/self/smaps", "r") : NULL;
    if (!f) { printf("test_weights: no MADV_POPULATE_READ or smaps: prefault not checked\n"); return; }
    fclose(f);
    chord_error err_, *err = &err_;
    chord_model *m = NULL;
    CHECK_OK(chord_model_open(&m, path, NULL, err), err);
    if (!m) return;
    chord_cache_stats st;
    CHECK_OK(chord_model_cache_stats(m, &st), err);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    unsigned long long rss_kib = 0;
    int in_map = 0;
    f = fopen("/proc/self/smaps", "r");
    while (f && fgets(line, sizeof line, f)) {
        if (strchr(line, '-') && strchr(line, ' ') && strchr(line, '-') < strchr(line, ' ')) {
            const size_t n = strlen(line);
            in_map = n > strlen(base) + 1 && strncmp(line + n - 1 - strlen(base), base, strlen(base)) == 0;
        } else if (in_map) {
            unsigned long long k;
            if (sscanf(line, "Rss: %llu kB", &k) == 1) rss_kib += k;
        }
    }
    if (f) fclose(f);
    CHECKF(st.resident_bytes > 0 && rss_kib * 1024 >= st.resident_bytes / 10 * 9,
           "mapped weights after open: Rss %llu KiB of %llu resident bytes", rss_kib,
           (unsigned long long)st.resident_bytes);
    chord_model_free(m);
#endif
}

int main(void) {
    table tb;
    build(&tb);
    contract(&tb, 1);
    contract(&tb, 0);
    errors(&tb);
    contention(&tb);
    two_sessions();
    prefaulted();
    free(tb.buf);
    return check_report("test_weights");
}
