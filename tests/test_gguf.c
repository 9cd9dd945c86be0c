/*
 * test_gguf.c — the GGUF reader and writer: write/read round trips (every value type, arrays,
 * string arrays, alignments, versions 2 and 3, kv copying), typed getters, the real files in
 * models/ and vocab/, the malformed corpus tests/data/bad (manifest EXPECTED), truncation at every byte,
 * and hostile sources that claim huge sizes (must fail fast without allocating).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "gguf/gguf.h"
#include "platform.h"

/* ---- helpers ------------------------------------------------------------------------------- */

static char *temp_path(char *buf, size_t cap) {
    const char *dir = getenv("TMPDIR");
    snprintf(buf, cap, "%s/test_gguf_XXXXXX", dir ? dir : "/tmp");
    int fd = mkstemp(buf);
    if (fd < 0) return NULL;
    close(fd);
    return buf;
}

static uint8_t *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(sz > 0 ? (size_t)sz : 1);
    *n = p && sz >= 0 && fread(p, 1, (size_t)sz, f) == (size_t)sz ? (size_t)sz : 0;
    fclose(f);
    return p;
}

/* Opens a GGUF from memory; the source is returned so it can be closed after the handle. */
static chord_status open_mem(chord_gguf **g, chord_source *src, const void *data, size_t n, chord_error *err) {
    chord_source_from_memory(src, data, n);
    chord_status s = chord_gguf_open(g, src, err);
    if (s != CHORD_OK) chord_source_close(src);
    return s;
}

static uint8_t pattern(size_t i, unsigned seed) { return (uint8_t)(i * 7u + seed * 31u + (i >> 8)); }

/* ---- round trip ------------------------------------------------------------------------------ */

typedef struct { const char *name; chord_type type; uint32_t n_dims; int64_t ne[4]; uint64_t bytes; } tdesc;

static const tdesc tensors[] = {
    { "t.f32", CHORD_TYPE_F32, 2, { 3, 5, 1, 1 }, 60 },
    { "t.f16", CHORD_TYPE_F16, 1, { 4, 1, 1, 1 }, 8 },
    { "t.q4_0", CHORD_TYPE_Q4_0, 3, { 64, 2, 3, 1 }, 2 * 18 * 6 },
    { "t.q8_0", CHORD_TYPE_Q8_0, 4, { 32, 1, 2, 1 }, 34 * 2 },
    { "t.q4_K", CHORD_TYPE_Q4_K, 2, { 256, 2, 1, 1 }, 144 * 2 },
    { "t.last", CHORD_TYPE_F32, 1, { 16, 1, 1, 1 }, 64 },
};
#define N_TENSORS (sizeof tensors / sizeof tensors[0])

static const char *const strs[] = { "alpha", "", "β-ünïcode ✓", "with\ttab" };

static chord_gguf_writer *make_writer(uint32_t version, uint32_t alignment) {
    chord_gguf_writer *w = chord_gguf_writer_new();
    chord_gguf_writer_set_version(w, version);
    if (alignment) chord_gguf_writer_set_alignment(w, alignment);
    uint8_t u8 = 200, b = 1;
    int8_t i8 = -100;
    uint16_t u16 = 60000;
    int16_t i16 = -30000;
    int64_t i64 = INT64_MIN + 5;
    double f64 = -1.0 / 3.0;
    chord_gguf_writer_kv_str(w, "general.architecture", "llama");
    chord_gguf_writer_kv_scalar(w, "v.u8", CHORD_GGUF_UINT8, &u8);
    chord_gguf_writer_kv_scalar(w, "v.i8", CHORD_GGUF_INT8, &i8);
    chord_gguf_writer_kv_scalar(w, "v.u16", CHORD_GGUF_UINT16, &u16);
    chord_gguf_writer_kv_scalar(w, "v.i16", CHORD_GGUF_INT16, &i16);
    chord_gguf_writer_kv_u32(w, "v.u32", 4000000000u);
    chord_gguf_writer_kv_i32(w, "v.i32", -2000000000);
    chord_gguf_writer_kv_f32(w, "v.f32", 1.5e-5f);
    chord_gguf_writer_kv_scalar(w, "v.bool", CHORD_GGUF_BOOL, &b);
    chord_gguf_writer_kv_bool(w, "v.false", 0);
    chord_gguf_writer_kv_u64(w, "v.u64", 0xfedcba9876543210ull);
    chord_gguf_writer_kv_scalar(w, "v.i64", CHORD_GGUF_INT64, &i64);
    chord_gguf_writer_kv_scalar(w, "v.f64", CHORD_GGUF_FLOAT64, &f64);
    chord_gguf_writer_kv_str(w, "v.str", "hello, gguf");
    chord_gguf_writer_kv_str(w, "v.empty", "");
    /* one array per numeric element type, contents = pattern bytes */
    static uint8_t arr_bytes[8 * 37];
    for (size_t i = 0; i < sizeof arr_bytes; i++) arr_bytes[i] = pattern(i, 1);
    for (int t = 0; t < CHORD_GGUF_NTYPES; t++) {
        if (t == CHORD_GGUF_STRING || t == CHORD_GGUF_ARRAY) continue;
        char key[32];
        snprintf(key, sizeof key, "a.%s", chord_gguf_vtype_name((chord_gguf_vtype)t));
        if (t == CHORD_GGUF_BOOL) {
            uint8_t bools[5] = { 0, 1, 1, 0, 1 };
            chord_gguf_writer_kv_arr(w, key, CHORD_GGUF_BOOL, bools, 5);
        } else {
            chord_gguf_writer_kv_arr(w, key, (chord_gguf_vtype)t, arr_bytes, 37);
        }
    }
    chord_gguf_writer_kv_arr(w, "a.empty", CHORD_GGUF_FLOAT32, NULL, 0);
    chord_gguf_writer_kv_arr_str(w, "a.strs", strs, 4);
    chord_gguf_writer_kv_arr_str(w, "a.nostrs", NULL, 0);
    for (size_t i = 0; i < N_TENSORS; i++)
        chord_gguf_writer_add_tensor(w, tensors[i].name, tensors[i].type, tensors[i].n_dims, tensors[i].ne);
    return w;
}

static int write_file(chord_gguf_writer *w, const char *path, chord_error *err) {
    chord_status s = chord_gguf_writer_begin(w, path, err);
    uint8_t buf[512];
    for (size_t i = 0; i < N_TENSORS && s == CHORD_OK; i++) {
        for (size_t k = 0; k < tensors[i].bytes; k++) buf[k] = pattern(k, (unsigned)i);
        if (i % 2) { /* odd tensors in two parts */
            s = chord_gguf_writer_tensor_part(w, buf, 5, err);
            if (s == CHORD_OK) s = chord_gguf_writer_tensor_part(w, buf + 5, tensors[i].bytes - 5, err);
        } else {
            s = chord_gguf_writer_tensor_data(w, buf, tensors[i].bytes, err);
        }
    }
    if (s == CHORD_OK) s = chord_gguf_writer_end(w, err);
    chord_gguf_writer_free(w);
    return s == CHORD_OK;
}

static void check_values(const chord_gguf *g, chord_error *err) {
    uint32_t u32 = 0;
    int32_t i32 = 0;
    uint64_t u64 = 0, kvi = 0, n = 0;
    float f = 0;
    int b = 0;
    chord_str s = { 0 };
    CHECK_OK(chord_gguf_get_u32(g, "v.u8", &u32, err), err); CHECK(u32 == 200);
    CHECK_OK(chord_gguf_get_i32(g, "v.i8", &i32, err), err); CHECK(i32 == -100);
    CHECK_OK(chord_gguf_get_u32(g, "v.u16", &u32, err), err); CHECK(u32 == 60000);
    CHECK_OK(chord_gguf_get_i32(g, "v.i16", &i32, err), err); CHECK(i32 == -30000);
    CHECK_OK(chord_gguf_get_u32(g, "v.u32", &u32, err), err); CHECK(u32 == 4000000000u);
    CHECK_OK(chord_gguf_get_i32(g, "v.i32", &i32, err), err); CHECK(i32 == -2000000000);
    CHECK_OK(chord_gguf_get_f32(g, "v.f32", &f, err), err); CHECK(f == 1.5e-5f);
    CHECK_OK(chord_gguf_get_bool(g, "v.bool", &b, err), err); CHECK(b == 1);
    CHECK_OK(chord_gguf_get_bool(g, "v.false", &b, err), err); CHECK(b == 0);
    CHECK_OK(chord_gguf_get_u64(g, "v.u64", &u64, err), err); CHECK(u64 == 0xfedcba9876543210ull);
    const chord_gguf_value *v = chord_gguf_value_at(g, (uint64_t)chord_gguf_find_key(g, "v.i64"));
    CHECK(v && v->i64 == INT64_MIN + 5);
    v = chord_gguf_value_at(g, (uint64_t)chord_gguf_find_key(g, "v.f64"));
    CHECK(v && v->f64 == -1.0 / 3.0);
    CHECK_OK(chord_gguf_get_f32(g, "v.f64", &f, err), err); CHECK(f == (float)(-1.0 / 3.0));
    CHECK_OK(chord_gguf_get_str(g, "v.str", &s, err), err); CHECK(s.len == 11 && !strcmp(s.ptr, "hello, gguf"));
    CHECK_OK(chord_gguf_get_str(g, "v.empty", &s, err), err); CHECK(s.len == 0 && s.ptr && !s.ptr[0]);
    /* numeric arrays */
    for (int t = 0; t < CHORD_GGUF_NTYPES; t++) {
        if (t == CHORD_GGUF_STRING || t == CHORD_GGUF_ARRAY || t == CHORD_GGUF_BOOL) continue;
        char key[32];
        snprintf(key, sizeof key, "a.%s", chord_gguf_vtype_name((chord_gguf_vtype)t));
        CHECK_OK(chord_gguf_get_arr(g, key, (chord_gguf_vtype)t, &kvi, &n, err), err);
        CHECK(n == 37 && chord_gguf_arr_type(g, kvi) == (chord_gguf_vtype)t);
        const uint8_t *d = chord_gguf_arr_data(g, kvi);
        size_t esz = t <= 1 ? 1 : t <= 3 ? 2 : t <= 6 ? 4 : 8;
        int same = d != NULL;
        for (size_t i = 0; same && i < 37 * esz; i++) same = d[i] == pattern(i, 1);
        CHECKF(same, "array %s contents", key);
    }
    CHECK_OK(chord_gguf_get_arr(g, "a.bool", CHORD_GGUF_BOOL, &kvi, &n, err), err);
    CHECK(n == 5 && !memcmp(chord_gguf_arr_data(g, kvi), "\0\1\1\0\1", 5));
    CHECK_OK(chord_gguf_get_arr(g, "a.empty", CHORD_GGUF_FLOAT32, &kvi, &n, err), err); CHECK(n == 0);
    CHECK_OK(chord_gguf_get_arr(g, "a.strs", CHORD_GGUF_STRING, &kvi, &n, err), err);
    CHECK(n == 4 && chord_gguf_arr_data(g, kvi) == NULL);
    for (uint64_t j = 0; j < 4 && n == 4; j++) {
        chord_str e = chord_gguf_arr_str(g, kvi, j);
        CHECKF(e.len == strlen(strs[j]) && !strcmp(e.ptr, strs[j]), "string %llu", (unsigned long long)j);
    }
    CHECK(chord_gguf_arr_str(g, kvi, 4).len == 0); /* out of range: empty, not a crash */
    CHECK_OK(chord_gguf_get_arr(g, "a.nostrs", CHORD_GGUF_STRING, &kvi, &n, err), err); CHECK(n == 0);
}

static void check_getter_errors(const chord_gguf *g) {
    chord_error e;
    uint32_t u32;
    int32_t i32;
    uint64_t u64, kvi, n;
    float f;
    int b;
    chord_str s;
    CHECK(chord_gguf_get_u32(g, "nope", &u32, &e) == CHORD_E_NOT_FOUND && strstr(e.message, "'nope'"));
    CHECK(chord_gguf_get_u32(g, "v.str", &u32, &e) == CHORD_E_TYPE && strstr(e.message, "type str"));
    CHECK(chord_gguf_get_u32(g, "v.f32", &u32, &e) == CHORD_E_TYPE);
    CHECK(chord_gguf_get_u32(g, "v.bool", &u32, &e) == CHORD_E_TYPE);
    CHECK(chord_gguf_get_u32(g, "v.i8", &u32, &e) == CHORD_E_RANGE && strstr(e.message, "-100"));
    CHECK(chord_gguf_get_u32(g, "v.u64", &u32, &e) == CHORD_E_RANGE);
    CHECK(chord_gguf_get_i32(g, "v.u32", &i32, &e) == CHORD_E_RANGE && strstr(e.message, "4000000000"));
    CHECK(chord_gguf_get_u64(g, "v.i64", &u64, &e) == CHORD_E_RANGE);
    CHECK(chord_gguf_get_f32(g, "v.u32", &f, &e) == CHORD_E_TYPE);
    CHECK(chord_gguf_get_bool(g, "v.u8", &b, &e) == CHORD_E_TYPE);
    CHECK(chord_gguf_get_str(g, "a.strs", &s, &e) == CHORD_E_TYPE && strstr(e.message, "type arr"));
    CHECK(chord_gguf_get_arr(g, "a.strs", CHORD_GGUF_INT32, &kvi, &n, &e) == CHORD_E_TYPE &&
          strstr(e.message, "array of str"));
    CHECK(chord_gguf_get_arr(g, "v.u32", CHORD_GGUF_UINT32, &kvi, &n, &e) == CHORD_E_TYPE);
    CHECK(chord_gguf_find_key(g, "v") == -1 && chord_gguf_find_key(g, NULL) == -1);
    CHECK(chord_gguf_find_tensor(g, "t.f3") == NULL);
    CHECK(chord_gguf_key(g, chord_gguf_n_kv(g)) == NULL && chord_gguf_tensor_at(g, 999) == NULL);
}

static void check_tensors(const chord_gguf *g, const uint8_t *file, size_t size, uint64_t alignment) {
    CHECK(chord_gguf_n_tensors(g) == N_TENSORS);
    CHECK(chord_gguf_data_off(g) % alignment == 0);
    for (size_t i = 0; i < N_TENSORS && chord_gguf_n_tensors(g) == N_TENSORS; i++) {
        const chord_gguf_tensor *t = chord_gguf_find_tensor(g, tensors[i].name);
        CHECKF(t && t == chord_gguf_tensor_at(g, i), "tensor %s", tensors[i].name);
        if (!t) continue;
        CHECK(t->type == tensors[i].type && t->n_dims == tensors[i].n_dims && t->n_bytes == tensors[i].bytes);
        CHECK(!memcmp(t->ne, tensors[i].ne, sizeof t->ne));
        CHECK(t->n_elems == (uint64_t)(t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]));
        CHECK((t->off - chord_gguf_data_off(g)) % alignment == 0 && t->off + t->n_bytes <= size);
        int same = t->off + t->n_bytes <= size;
        for (uint64_t k = 0; same && k < t->n_bytes; k++) same = file[t->off + k] == pattern((size_t)k, (unsigned)i);
        CHECKF(same, "tensor %s data", tensors[i].name);
    }
}

static void test_roundtrip(uint32_t version, uint32_t alignment) {
    char path[256];
    chord_error err_ = { 0 }, *err = &err_;
    if (!temp_path(path, sizeof path)) { CHECKF(0, "mkstemp failed"); return; }
    CHECK(write_file(make_writer(version, alignment), path, err));
    size_t n = 0;
    uint8_t *file = slurp(path, &n);
    chord_source src;
    chord_gguf *g = NULL;
    CHECK_OK(open_mem(&g, &src, file, n, err), err);
    if (g) {
        uint64_t align = alignment ? alignment : 32;
        CHECK(chord_gguf_version(g) == version && chord_gguf_alignment(g) == align);
        CHECK((chord_gguf_find_key(g, "general.alignment") >= 0) == (align != 32));
        check_values(g, err);
        check_getter_errors(g);
        check_tensors(g, file, n, align);
        /* copy every kv into a new file and compare again */
        chord_gguf_writer *w = chord_gguf_writer_new();
        for (uint64_t i = 0; i < chord_gguf_n_kv(g); i++) CHECK_OK(chord_gguf_writer_kv_copy(w, g, i), err);
        char path2[256];
        if (temp_path(path2, sizeof path2)) {
            CHECK_OK(chord_gguf_writer_begin(w, path2, err), err);
            CHECK_OK(chord_gguf_writer_end(w, err), err);
            chord_source src2;
            chord_gguf *g2 = NULL;
            CHECK_OK(chord_source_from_file(&src2, path2, err), err);
            CHECK_OK(chord_gguf_open(&g2, &src2, err), err);
            if (g2) {
                CHECK(chord_gguf_n_kv(g2) == chord_gguf_n_kv(g) && chord_gguf_alignment(g2) == align);
                check_values(g2, err);
            }
            chord_gguf_close(g2);
            chord_source_close(&src2);
            remove(path2);
        }
        chord_gguf_writer_free(w);
        chord_gguf_close(g);
        chord_source_close(&src);
    }
    free(file);
    remove(path);
}

/* ---- writer refusals ------------------------------------------------------------------------ */

static void expect_begin_error(chord_gguf_writer *w, const char *want) {
    char path[256];
    chord_error err_ = { 0 }, *err = &err_;
    if (!temp_path(path, sizeof path)) return;
    chord_status s = chord_gguf_writer_begin(w, path, err);
    CHECKF(s != CHORD_OK && strstr(err->message, want), "writer: want '%s', got '%s'", want, err->message);
    chord_gguf_writer_free(w);
    remove(path);
}

static void test_writer_errors(void) {
    const int64_t ne[2] = { 33, 2 }, ok[1] = { 32 };
    chord_gguf_writer *w = chord_gguf_writer_new();
    chord_gguf_writer_kv_u32(w, "k", 1);
    chord_gguf_writer_kv_str(w, "k", "again");
    expect_begin_error(w, "duplicate key 'k'");
    w = chord_gguf_writer_new();
    chord_gguf_writer_set_alignment(w, 48);
    expect_begin_error(w, "alignment 48");
    w = chord_gguf_writer_new();
    chord_gguf_writer_add_tensor(w, "q", CHORD_TYPE_Q4_0, 2, ne);
    expect_begin_error(w, "not a multiple of the block size");
    w = chord_gguf_writer_new();
    chord_gguf_writer_add_tensor(w, "a-name-that-is-far-too-long-for-ggml-which-keeps-sixty-four-bytes", CHORD_TYPE_F32, 1, ok);
    expect_begin_error(w, "longer than 63 bytes");
    w = chord_gguf_writer_new();
    chord_gguf_writer_add_tensor(w, "x", CHORD_TYPE_F32, 1, ok);
    chord_gguf_writer_add_tensor(w, "x", CHORD_TYPE_F32, 1, ok);
    expect_begin_error(w, "duplicate tensor name 'x'");
    w = chord_gguf_writer_new();
    chord_gguf_writer_set_version(w, 1);
    expect_begin_error(w, "version 1");
    w = chord_gguf_writer_new();
    chord_gguf_writer_kv_arr(w, "general.alignment", CHORD_GGUF_UINT32, ok, 1);
    expect_begin_error(w, "general.alignment must be u32");

    /* wrong data size, and end before all data: errors, and the partial file is removed */
    char path[256];
    chord_error err_ = { 0 }, *err = &err_;
    if (!temp_path(path, sizeof path)) return;
    w = chord_gguf_writer_new();
    chord_gguf_writer_add_tensor(w, "x", CHORD_TYPE_F32, 1, ok);
    float data[32] = { 0 };
    CHECK_OK(chord_gguf_writer_begin(w, path, err), err);
    CHECK(chord_gguf_writer_tensor_data(w, data, 64, err) == CHORD_E_INVALID_ARG && strstr(err->message, "expected 128"));
    CHECK(chord_gguf_writer_end(w, err) == CHORD_E_INVALID_ARG && strstr(err->message, "no data"));
    chord_gguf_writer_free(w);
    CHECK(access(path, F_OK) != 0);
}

/* ---- the real files in models/ and vocab/------------------------------------------------------------ */

static chord_gguf *open_shared(const char *rel, chord_source *src, double *ms) {
    char buf[512];
    chord_error err_ = { 0 }, *err = &err_;
    const char *path = check_shared_path(rel, buf, sizeof buf);
    if (!path) return NULL;
    chord_gguf *g = NULL;
    CHECK_OK(chord_source_from_file(src, path, err), err);
    double t0 = chord_time_ms();
    CHECK_OK(chord_gguf_open(&g, src, err), err);
    *ms = chord_time_ms() - t0;
    if (!g) chord_source_close(src);
    return g;
}

static void check_str_kv(const chord_gguf *g, const char *key, const char *want) {
    chord_str s = { 0 };
    chord_error err_ = { 0 }, *err = &err_;
    CHECK_OK(chord_gguf_get_str(g, key, &s, err), err);
    CHECKF(s.ptr && !strcmp(s.ptr, want), "%s = '%s', want '%s'", key, s.ptr ? s.ptr : "", want);
}

static void check_vocab(const char *rel, const char *model, uint64_t n_tokens, uint64_t n_merges, uint32_t bos) {
    chord_source src;
    double ms = 0;
    chord_gguf *g = open_shared(rel, &src, &ms);
    if (!g) return;
    chord_error err_ = { 0 }, *err = &err_;
    uint64_t kvi = 0, n = 0;
    uint32_t u = 0;
    printf("  %s: %llu kvs, parsed in %.1f ms\n", rel, (unsigned long long)chord_gguf_n_kv(g), ms);
    CHECK(chord_gguf_n_tensors(g) == 0);
    check_str_kv(g, "tokenizer.ggml.model", model);
    CHECK_OK(chord_gguf_get_arr(g, "tokenizer.ggml.tokens", CHORD_GGUF_STRING, &kvi, &n, err), err);
    CHECK(n == n_tokens);
    CHECK(n == n_tokens && chord_gguf_arr_str(g, kvi, n - 1).len > 0);
    CHECK_OK(chord_gguf_get_arr(g, "tokenizer.ggml.token_type", CHORD_GGUF_INT32, &kvi, &n, err), err);
    CHECK(n == n_tokens);
    if (n_merges) {
        CHECK_OK(chord_gguf_get_arr(g, "tokenizer.ggml.merges", CHORD_GGUF_STRING, &kvi, &n, err), err);
        CHECK(n == n_merges && strchr(chord_gguf_arr_str(g, kvi, 0).ptr, ' '));
    }
    CHECK_OK(chord_gguf_get_u32(g, "tokenizer.ggml.bos_token_id", &u, err), err);
    CHECK(u == bos);
    /* Speed is a benchmark matter, not a check: the parse time is printed above (~20 ms natively). */
    chord_gguf_close(g);
    chord_source_close(&src);
}

typedef struct { const uint8_t *data; uint64_t size; int n_reads; } count_ctx;

static chord_status count_read(void *ctx, uint64_t off, void *dst, size_t len) {
    count_ctx *c = ctx;
    c->n_reads++;
    if (off > c->size || len > c->size - off) return CHORD_E_IO;
    memcpy(dst, c->data + off, len);
    return CHORD_OK;
}

/* The reader must fetch the 7.8 MB llama-bpe header in large chunks, not field by field. */
static void test_read_count(void) {
    char buf[512];
    const char *path = check_shared_path("vocab/ggml-vocab-llama-bpe.gguf", buf, sizeof buf);
    if (!path) return;
    size_t n = 0;
    uint8_t *file = slurp(path, &n);
    count_ctx c = { file, n, 0 };
    chord_source src = { .ctx = &c, .size = n, .read = count_read };
    chord_error err_ = { 0 }, *err = &err_;
    chord_gguf *g = NULL;
    CHECK_OK(chord_gguf_open(&g, &src, err), err);
    printf("  llama-bpe: %zu bytes parsed with %d source reads\n", n, c.n_reads);
    CHECK(c.n_reads > 0 && (uint64_t)c.n_reads <= 2 * n / (256 * 1024) + 8);
    chord_gguf_close(g);
    free(file);
}

static void test_shared(void) {
    test_read_count();
    check_vocab("vocab/ggml-vocab-llama-spm.gguf", "llama", 32000, 0, 1);
    check_vocab("vocab/ggml-vocab-llama-bpe.gguf", "gpt2", 128256, 280147, 128000);
    check_vocab("vocab/ggml-vocab-gpt-2.gguf", "gpt2", 50257, 50000, 50256);

    chord_source src;
    double ms = 0;
    chord_gguf *g = open_shared("models/stories260K.gguf", &src, &ms);
    if (!g) return;
    chord_error err_ = { 0 }, *err = &err_;
    uint32_t u = 0;
    uint64_t kvi = 0, n = 0;
    float eps = 0;
    check_str_kv(g, "general.architecture", "llama");
    CHECK_OK(chord_gguf_get_u32(g, "llama.block_count", &u, err), err); CHECK(u == 5);
    CHECK_OK(chord_gguf_get_u32(g, "llama.embedding_length", &u, err), err); CHECK(u == 64);
    CHECK_OK(chord_gguf_get_u32(g, "llama.attention.head_count", &u, err), err); CHECK(u == 8);
    CHECK_OK(chord_gguf_get_u32(g, "llama.attention.head_count_kv", &u, err), err); CHECK(u == 4);
    CHECK_OK(chord_gguf_get_f32(g, "llama.attention.layer_norm_rms_epsilon", &eps, err), err);
    CHECK(eps > 0 && eps < 1e-3f);
    CHECK_OK(chord_gguf_get_arr(g, "tokenizer.ggml.tokens", CHORD_GGUF_STRING, &kvi, &n, err), err);
    CHECK(n == 512);
    CHECK(chord_gguf_n_tensors(g) == 48); /* 3 + 5 layers x 9 */
    const chord_gguf_tensor *t = chord_gguf_find_tensor(g, "token_embd.weight");
    CHECK(t && t->n_dims == 2 && t->ne[0] == 64 && t->ne[1] == 512 && t->type == CHORD_TYPE_F32 &&
          t->n_bytes == 64 * 512 * 4 && t->off == chord_gguf_data_off(g));
    t = chord_gguf_find_tensor(g, "blk.4.ffn_down.weight");
    CHECK(t && t->ne[0] == 172 && t->ne[1] == 64);
    uint64_t total = 0;
    for (uint64_t i = 0; i < chord_gguf_n_tensors(g); i++) total += chord_gguf_tensor_at(g, i)->n_bytes;
    CHECK(chord_gguf_data_off(g) + total <= src.size);
    chord_gguf_close(g);
    chord_source_close(&src);
}

/* ---- the malformed corpus ------------------------------------------------------------------- */

static void test_corpus(void) {
    FILE *m = fopen("tests/data/bad/EXPECTED", "r");
    CHECKF(m != NULL, "tests/data/bad/EXPECTED missing (run from the repository root)");
    if (!m) return;
    char line[1024];
    int n_cases = 0;
    while (fgets(line, sizeof line, m)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        line[strcspn(line, "\n")] = '\0';
        char *name = strtok(line, "\t"), *status = strtok(NULL, "\t"), *want = strtok(NULL, "\t");
        if (!name || !status || !want) { CHECKF(0, "bad manifest line"); continue; }
        char path[512];
        snprintf(path, sizeof path, "tests/data/bad/%s", name);
        chord_source src;
        chord_error err_ = { 0 }, *err = &err_;
        chord_gguf *g = NULL;
        CHECK_OK(chord_source_from_file(&src, path, err), err);
        chord_status s = chord_gguf_open(&g, &src, err);
        CHECKF(s != CHORD_OK && !strcmp(chord_status_name(s), status) && strstr(err->message, want),
               "%s: want %s '%s', got %s '%s'", name, status, want, chord_status_name(s), s ? err->message : "");
        chord_gguf_close(g);
        chord_source_close(&src);
        n_cases++;
    }
    fclose(m);
    printf("  malformed corpus: %d files\n", n_cases);
    CHECK(n_cases >= 40);
}

/* ---- truncation at every byte, read counting --------------------------------------------------- */

static void test_truncation(void) {
    char path[256];
    chord_error err_ = { 0 }, *err = &err_;
    if (!temp_path(path, sizeof path)) return;
    CHECK(write_file(make_writer(3, 0), path, err)); /* last tensor is 64 bytes: no trailing pad */
    size_t n = 0;
    uint8_t *file = slurp(path, &n);
    remove(path);
    int n_err = 0;
    for (size_t k = 0; k < n; k++) {
        /* a private copy of exactly k bytes, so ASan sees any read past the end */
        uint8_t *cut = malloc(k ? k : 1);
        memcpy(cut, file, k);
        count_ctx c = { cut, k, 0 };
        chord_source src = { .ctx = &c, .size = k, .read = count_read };
        chord_gguf *g = NULL;
        chord_status s = chord_gguf_open(&g, &src, err);
        n_err += s != CHORD_OK && err->message[0] != '\0';
        if (s == CHORD_OK) {
            fprintf(stderr, "truncated at %zu of %zu: accepted\n", k, n);
            chord_gguf_close(g);
        }
        free(cut);
    }
    printf("  truncation: %d of %zu prefixes rejected\n", n_err, n);
    CHECK(n_err == (int)n);
    count_ctx c = { file, n, 0 };
    chord_source src = { .ctx = &c, .size = n, .read = count_read };
    chord_gguf *g = NULL;
    CHECK_OK(chord_gguf_open(&g, &src, err), err);
    CHECK(c.n_reads <= 2); /* buffered: the whole header fits in one 256 KiB read */
    chord_gguf_close(g);
    free(file);
}

/* ---- random mutations of the header region ------------------------------------------------------ */

static uint64_t rng_next(uint64_t *x) { /* xorshift64: deterministic across runs */
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Corrupts 1-4 bytes of the metadata/tensor-info region 3000 times: every result is either
 * rejected with a message or, when accepted, self-consistent (tensors inside the file). Run
 * under ASan/UBSan this is a small fuzzer. */
static void test_mutations(void) {
    char path[256];
    chord_error err_ = { 0 }, *err = &err_;
    if (!temp_path(path, sizeof path)) return;
    CHECK(write_file(make_writer(3, 0), path, err));
    size_t n = 0;
    uint8_t *file = slurp(path, &n);
    remove(path);
    uint8_t *copy = malloc(n);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    size_t head = n > 1200 ? 1200 : n; /* header + kvs + infos of this file */
    int rejected = 0, accepted = 0, bad = 0;
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(copy, file, n);
        int k = 1 + (int)(rng_next(&x) % 4);
        for (int j = 0; j < k; j++) {
            size_t pos = (size_t)(rng_next(&x) % head);
            uint64_t r = rng_next(&x);
            copy[pos] = (r & 3) == 0 ? 0xff : (r & 3) == 1 ? 0 : (uint8_t)(r >> 8);
        }
        count_ctx c = { copy, n, 0 };
        chord_source src = { .ctx = &c, .size = n, .read = count_read };
        chord_gguf *g = NULL;
        err->message[0] = '\0';
        if (chord_gguf_open(&g, &src, err) != CHORD_OK) {
            rejected++;
            bad += err->message[0] == '\0';
            continue;
        }
        accepted++;
        for (uint64_t i = 0; i < chord_gguf_n_tensors(g); i++) {
            const chord_gguf_tensor *t = chord_gguf_tensor_at(g, i);
            bad += t->off + t->n_bytes > n || t->off < chord_gguf_data_off(g) || chord_gguf_find_tensor(g, t->name.ptr) == NULL;
        }
        chord_gguf_close(g);
    }
    printf("  mutations: %d rejected, %d accepted (consistent)\n", rejected, accepted);
    CHECK(bad == 0 && rejected > 1000);
    free(copy);
    free(file);
}

/* ---- hostile sources that claim to be huge ----------------------------------------------------- */

/* A 1 TiB "file": a fixed prefix, then zero bytes forever. */
typedef struct { uint8_t prefix[128]; size_t n_prefix; int n_reads; } huge_ctx;

static chord_status huge_read(void *ctx, uint64_t off, void *dst, size_t len) {
    huge_ctx *h = ctx;
    h->n_reads++;
    memset(dst, 0, len);
    if (off < h->n_prefix) {
        size_t k = h->n_prefix - (size_t)off;
        memcpy(dst, h->prefix + off, k < len ? k : len);
    }
    return CHORD_OK;
}

static void put_le(uint8_t *p, uint64_t v, int n) {
    for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* header with n_kv = 1, key "a", ARRAY of elem type `et`, count `count` */
static void test_huge_one(uint32_t et, uint64_t count, const char *want) {
    huge_ctx h = { { 0 }, 0, 0 };
    memcpy(h.prefix, "GGUF", 4);
    put_le(h.prefix + 4, 3, 4);
    put_le(h.prefix + 8, 0, 8);
    put_le(h.prefix + 16, 1, 8);
    put_le(h.prefix + 24, 1, 8);
    h.prefix[32] = 'a';
    put_le(h.prefix + 33, CHORD_GGUF_ARRAY, 4);
    put_le(h.prefix + 37, et, 4);
    put_le(h.prefix + 41, count, 8);
    h.n_prefix = 49;
    chord_source src = { .ctx = &h, .size = 1ull << 40, .read = huge_read };
    chord_error err_ = { 0 }, *err = &err_;
    chord_gguf *g = NULL;
    uint64_t rss0 = chord_peak_memory_bytes();
    double t0 = chord_time_ms();
    chord_status s = chord_gguf_open(&g, &src, err);
    double ms = chord_time_ms() - t0;
    uint64_t grew = chord_peak_memory_bytes() - rss0;
    CHECKF(s == CHORD_E_FORMAT && strstr(err->message, want), "huge source: want '%s', got '%s'", want, err->message);
    CHECKF(grew < (64u << 20), "peak RSS grew by %llu bytes", (unsigned long long)grew);
    printf("  hostile 1 TiB source, %s x %llu: rejected in %.0f ms after %d reads, RSS +%llu KiB\n",
           chord_gguf_vtype_name((chord_gguf_vtype)et), (unsigned long long)count, ms, h.n_reads,
           (unsigned long long)(grew >> 10));
    chord_gguf_close(g);
}

/* 64-bit offsets: a 16 GiB tensor followed by another, in a virtual 16 GiB+ source. */
static void test_big_offsets(void) {
    huge_ctx h = { { 0 }, 0, 0 };
    uint8_t *p = h.prefix;
    memcpy(p, "GGUF", 4);
    put_le(p + 4, 3, 4);
    put_le(p + 8, 2, 8);
    put_le(p + 16, 0, 8);
    size_t k = 24;
    put_le(p + k, 3, 8); memcpy(p + k + 8, "big", 3); k += 11;
    put_le(p + k, 2, 4); put_le(p + k + 4, 1ull << 31, 8); put_le(p + k + 12, 2, 8); k += 20;
    put_le(p + k, CHORD_TYPE_F32, 4); put_le(p + k + 4, 0, 8); k += 12;
    put_le(p + k, 5, 8); memcpy(p + k + 8, "after", 5); k += 13;
    put_le(p + k, 1, 4); put_le(p + k + 4, 8, 8); k += 12;
    put_le(p + k, CHORD_TYPE_F32, 4); put_le(p + k + 4, 1ull << 34, 8); k += 12;
    h.n_prefix = k;
    uint64_t data_off = (k + 31) & ~(uint64_t)31;
    chord_source src = { .ctx = &h, .size = data_off + (1ull << 34) + 32, .read = huge_read };
    chord_error err_ = { 0 }, *err = &err_;
    chord_gguf *g = NULL;
    CHECK_OK(chord_gguf_open(&g, &src, err), err);
    const chord_gguf_tensor *big = g ? chord_gguf_find_tensor(g, "big") : NULL;
    const chord_gguf_tensor *after = g ? chord_gguf_find_tensor(g, "after") : NULL;
    CHECK(big && big->n_bytes == 1ull << 34 && big->n_elems == 1ull << 32 && big->off == data_off);
    CHECK(after && after->off == data_off + (1ull << 34) && after->n_bytes == 32);
    chord_gguf_close(g);
    src.size -= 1; /* one byte short: truncated inside "after" */
    CHECK(chord_gguf_open(&g, &src, err) == CHORD_E_FORMAT && strstr(err->message, "truncated inside tensor data"));
}

static void test_hostile(void) {
    test_big_offsets();
    test_huge_one(CHORD_GGUF_STRING, 1ull << 36, "exceed the cap"); /* 2^37 empty strings */
    test_huge_one(CHORD_GGUF_UINT8, 1ull << 36, "exceeds the metadata cap");
    test_huge_one(CHORD_GGUF_UINT64, 1ull << 62, "overflows 64 bits");
    /* n_kv at the cap boundary on a huge source: each kv is an empty key with type 0 (u8) */
    huge_ctx h = { { 0 }, 0, 0 };
    memcpy(h.prefix, "GGUF", 4);
    put_le(h.prefix + 4, 2, 4);
    put_le(h.prefix + 16, 1ull << 17, 8);
    h.n_prefix = 24;
    chord_source src = { .ctx = &h, .size = 1ull << 40, .read = huge_read };
    chord_error err_ = { 0 }, *err = &err_;
    chord_gguf *g = NULL;
    CHECK(chord_gguf_open(&g, &src, err) == CHORD_E_FORMAT && strstr(err->message, "n_kv 131072 exceeds the cap"));
    chord_gguf_close(g);
}

int main(void) {
    chord_quant_init();
    test_roundtrip(3, 0);
    test_roundtrip(2, 0);
    test_roundtrip(3, 1);
    test_roundtrip(2, 8);
    test_roundtrip(3, 64);
    test_roundtrip(3, 4096);
    test_writer_errors();
    test_shared();
    test_corpus();
    test_truncation();
    test_mutations();
    test_hostile();
    return check_report("test_gguf");
}
