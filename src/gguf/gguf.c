/*
 * gguf.c — reader for GGUF v2/v3 files (llama.cpp's model format) over a chord_source.
 *
 * File layout. Every integer is little-endian; there is no implicit padding between fields.
 *
 *   header     magic "GGUF" (bytes 47 47 55 46) | u32 version | u64 n_tensors | u64 n_kv
 *   metadata   n_kv times:  string key | u32 value type | value
 *                string  = u64 byte length, then that many bytes (UTF-8, no terminating NUL)
 *                value   = one scalar of the type: u8 i8 u16 i16 u32 i32 f32 bool(1 byte)
 *                          string u64 i64 f64 (type ids 0..12, ARRAY = 9), or for ARRAY:
 *                          u32 element type | u64 count | count elements (no arrays of arrays)
 *   tensors    n_tensors times:  string name | u32 n_dims (1..4) | u64 ne[n_dims] (ne[0] is
 *                the contiguous row length) | u32 ggml type id | u64 offset (relative to the
 *                data section, a multiple of the alignment)
 *   padding    zero bytes up to the next multiple of `general.alignment` (u32 kv, default 32)
 *   data       the tensors' bytes, each at data_off + offset; writers pad each to the alignment
 *
 * Version 1 used 32-bit counts and lengths and is rejected; version 3 only added big-endian
 * files (recognised and rejected with a clear message). The reader never touches tensor data:
 * it checks that every tensor lies inside the file, aligned and without overlap.
 *
 * Hostile input. Every count, length, dimension, product and offset is checked in 64-bit
 * arithmetic against what the rest of the file could possibly hold and against a cap before
 * anything is allocated for it; tables grow only as bytes are actually consumed, so a small
 * file cannot make the reader allocate much more than a few times its own header size.
 *
 * Reading goes only through chord_source.read (which may be a wasm host import), through a
 * buffered cursor that fetches CURSOR_BYTES at a time — a 128k-token vocabulary is ~400k fields.
 *
 * Memory. Strings, array payloads, the kv and tensor tables and the two hash indexes all live in
 * one arena owned by the handle (chunked, so pointers are stable); chord_gguf_close frees it.
 */
#include <stdio.h> /* snprintf only */
#include <string.h>
#include <stdlib.h>

#include "core/error.h"
#include "gguf/gguf_impl.h"

#define GGUF_HEADER_BYTES 24u
#define CURSOR_BYTES (256u * 1024u) /* few host reads even when the source is a wasm import */
#define CAP_KEY_BYTES 4096u                 /* longest key / tensor name we accept */
#define CAP_STR_BYTES (16u * 1024u * 1024u) /* longest string value (chat templates are ~10 KB) */
#define CAP_META_BYTES (64u * 1024u * 1024u) /* header + metadata + tensor infos (a 256k vocab is ~20 MB) */
#define CAP_KV (1u << 16)                   /* real files have < 100 kvs */
#define CAP_TENSORS (1u << 20)
#define MIN_KV_BYTES 13u                    /* u64 key length + u32 type + 1-byte value */
#define MIN_TENSOR_INFO_BYTES 32u           /* u64 name length + u32 n_dims + u64 ne + u32 type + u64 off */
#define MAX_DIMS 4u
#define GGML_TYPE_IDS 43u                   /* ggml's GGML_TYPE_COUNT at the time of writing */

typedef unsigned long long ull; /* for printf */

/* ---- arena (its types are in gguf_impl.h) ------------------------------------------------ */

/* Returns n bytes aligned to 16, or NULL when out of memory or n does not fit size_t. */
static void *arena_alloc(arena *a, uint64_t n) {
    n = (n + 15u) & ~(uint64_t)15u;
    if (n > SIZE_MAX / 2) return NULL;
    arena_chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = a->next_cap ? a->next_cap : 64u * 1024u;
        if (cap < 16u * 1024u * 1024u) a->next_cap = cap * 2;
        if (cap < n) cap = (size_t)n;
        c = malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->cap = cap;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->mem + c->used;
    c->used += (size_t)n;
    return p;
}

static void arena_free(arena *a) {
    for (arena_chunk *c = a->head, *nx; c; c = nx) {
        nx = c->next;
        free(c);
    }
    a->head = NULL;
}

/* The handle (struct chord_gguf), kv_entry and the arena types are in gguf_impl.h, shared with
 * gguf_get.c (the accessors and typed getters). */

/* ---- buffered cursor over the source ------------------------------------------------------ */

typedef struct {
    const chord_source *src;
    uint64_t pos;     /* absolute offset of the next byte to consume */
    uint64_t buf_off; /* absolute offset of buf[0] */
    size_t buf_len;
    chord_error *err;
    uint8_t buf[CURSOR_BYTES];
} cursor;

static uint64_t cur_left(const cursor *c) { return c->src->size - c->pos; }

/* Copies n bytes at the cursor into dst (may be NULL to skip) and advances. `what` names the
 * field for the error message. */
static chord_status cur_read(cursor *c, void *dst, uint64_t n, const char *what) {
    if (n > cur_left(c))
        return chord_fail(c->err, CHORD_E_FORMAT,
                          "file truncated: %s needs %llu bytes at offset %llu, file has %llu bytes",
                          what, (ull)n, (ull)c->pos, (ull)c->src->size);
    uint8_t *d = dst;
    while (n > 0) {
        if (c->pos < c->buf_off || c->pos >= c->buf_off + c->buf_len) {
            uint64_t want = cur_left(c) < CURSOR_BYTES ? cur_left(c) : CURSOR_BYTES;
            c->buf_off = c->pos;
            c->buf_len = 0;
            if (c->src->read(c->src->ctx, c->pos, c->buf, (size_t)want) != CHORD_OK)
                return chord_fail(c->err, CHORD_E_IO, "read of %llu bytes at offset %llu failed (%s)",
                                  (ull)want, (ull)c->pos, what);
            c->buf_len = (size_t)want;
        }
        size_t at = (size_t)(c->pos - c->buf_off);
        size_t take = c->buf_len - at;
        if (take > n) take = (size_t)n;
        if (d) {
            memcpy(d, c->buf + at, take);
            d += take;
        }
        c->pos += take;
        n -= take;
    }
    return CHORD_OK;
}

static uint64_t le_get(const uint8_t *b, unsigned n) {
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) v |= (uint64_t)b[i] << (8 * i);
    return v;
}

static chord_status cur_u32(cursor *c, uint32_t *v, const char *what) {
    uint8_t b[4];
    chord_status s = cur_read(c, b, 4, what);
    if (s == CHORD_OK) *v = (uint32_t)le_get(b, 4);
    return s;
}

static chord_status cur_u64(cursor *c, uint64_t *v, const char *what) {
    uint8_t b[8];
    chord_status s = cur_read(c, b, 8, what);
    if (s == CHORD_OK) *v = le_get(b, 8);
    return s;
}

/* Reads a GGUF string into the arena (NUL-terminated). `what` names it; `cap` bounds its length. */
static chord_status cur_str(cursor *c, arena *a, chord_str *out, uint64_t cap, const char *what) {
    uint64_t len;
    uint64_t at = c->pos;
    chord_status s = cur_u64(c, &len, what);
    if (s != CHORD_OK) return s;
    if (len > cap)
        return chord_fail(c->err, CHORD_E_FORMAT, "%s: string length %llu at offset %llu exceeds the cap of %llu",
                          what, (ull)len, (ull)at, (ull)cap);
    if (len > cur_left(c))
        return chord_fail(c->err, CHORD_E_FORMAT,
                          "%s: string length %llu at offset %llu exceeds the %llu bytes left in the file",
                          what, (ull)len, (ull)at, (ull)cur_left(c));
    char *p = arena_alloc(a, len + 1);
    if (!p) return chord_fail(c->err, CHORD_E_NOMEM, "%s: out of memory for %llu bytes", what, (ull)len);
    s = cur_read(c, p, len, what);
    if (s != CHORD_OK) return s;
    p[len] = '\0';
    out->ptr = p;
    out->len = len;
    return CHORD_OK;
}

/* ---- growable table (kv entries, tensor infos) --------------------------------------------- */

/* A table that grows by doubling as entries are parsed, so memory follows the bytes consumed.
 * Its buffer is an arena chunk, adopted by the arena when parsing is done (no copy). */
typedef struct { arena_chunk *c; uint64_t n, cap; size_t elem; } vec;

static void *vec_push(vec *v) {
    if (v->n == v->cap) {
        uint64_t cap = v->cap ? v->cap * 2 : 16;
        if (cap > (SIZE_MAX - sizeof(arena_chunk)) / v->elem) return NULL;
        arena_chunk *nc = realloc(v->c, sizeof *nc + (size_t)(cap * v->elem));
        if (!nc) return NULL;
        v->c = nc;
        v->cap = cap;
    }
    void *e = v->c->mem + v->n * v->elem;
    memset(e, 0, v->elem);
    v->n++;
    return e;
}

/* Hands the table to the arena (behind its current chunk, which stays the one allocated from)
 * and returns the entries; NULL when empty. */
static void *vec_to_arena(vec *v, arena *a) {
    arena_chunk *c = v->c;
    v->c = NULL;
    if (!c) return NULL;
    c->used = c->cap = (size_t)(v->n * v->elem);
    if (a->head) {
        c->next = a->head->next;
        a->head->next = c;
    } else {
        c->next = NULL;
        a->head = c;
    }
    return c->mem;
}

/* ---- names ---------------------------------------------------------------------------------- */

static const char *const vtype_names[CHORD_GGUF_NTYPES] = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "arr", "u64", "i64", "f64",
};
static const uint8_t vtype_bytes[CHORD_GGUF_NTYPES] = { 1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8 };

const char *chord_gguf_vtype_name(chord_gguf_vtype t) {
    return (unsigned)t < CHORD_GGUF_NTYPES ? vtype_names[t] : "?";
}

/* ggml's names for every type id it has ever defined, so errors can name types we do not
 * support (NULL = id removed from ggml). */
static const char *const ggml_type_names[GGML_TYPE_IDS] = {
    "f32", "f16", "q4_0", "q4_1", NULL, NULL, "q5_0", "q5_1", "q8_0", "q8_1", "q2_K", "q3_K",
    "q4_K", "q5_K", "q6_K", "q8_K", "iq2_xxs", "iq2_xs", "iq3_xxs", "iq1_s", "iq4_nl", "iq3_s",
    "iq2_s", "iq4_xs", "i8", "i16", "i32", "i64", "f64", "iq1_m", "bf16", NULL, NULL, NULL,
    "tq1_0", "tq2_0", NULL, NULL, NULL, "mxfp4", "nvfp4", "q1_0", "q2_0",
};

/* ---- parsing -------------------------------------------------------------------------------- */

typedef struct {
    cursor *c;
    chord_gguf *g;
    chord_error *err;
    vec kv, tensors;
} parser;

static chord_status check_meta_cap(parser *p, const char *where) {
    if (p->c->pos > CAP_META_BYTES)
        return chord_fail(p->err, CHORD_E_FORMAT, "%s: metadata and tensor infos exceed the cap of %u bytes (at offset %llu)",
                          where, CAP_META_BYTES, (ull)p->c->pos);
    return CHORD_OK;
}

static chord_status bad_magic(chord_error *err, const uint8_t *m) {
    char shown[5];
    for (int i = 0; i < 4; i++) shown[i] = (m[i] >= 0x20 && m[i] < 0x7f) ? (char)m[i] : '.';
    shown[4] = '\0';
    return chord_fail(err, CHORD_E_FORMAT,
                      "wrong magic: expected 'GGUF' (47 47 55 46), found '%s' (%02x %02x %02x %02x); not a GGUF file",
                      shown, m[0], m[1], m[2], m[3]);
}

static chord_status parse_header(parser *p) {
    cursor *c = p->c;
    uint64_t size = c->src->size;
    if (size < GGUF_HEADER_BYTES)
        return chord_fail(p->err, CHORD_E_FORMAT, "file is %llu bytes, shorter than the %u-byte GGUF header",
                          (ull)size, GGUF_HEADER_BYTES);
    uint8_t h[GGUF_HEADER_BYTES];
    chord_status s = cur_read(c, h, sizeof h, "header");
    if (s != CHORD_OK) return s;
    if (memcmp(h, "GGUF", 4) != 0) return bad_magic(p->err, h);
    uint32_t v = (uint32_t)le_get(h + 4, 4);
    uint32_t swapped = (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
    if (v != 2 && v != 3) {
        if (swapped == 2 || swapped == 3)
            return chord_fail(p->err, CHORD_E_UNSUPPORTED,
                              "version field %u is a big-endian GGUF v%u file; only little-endian files are supported",
                              v, swapped);
        if (v == 1)
            return chord_fail(p->err, CHORD_E_UNSUPPORTED, "GGUF version 1 is not supported (only versions 2 and 3)");
        return chord_fail(p->err, CHORD_E_FORMAT, "bad GGUF version %u (supported: 2 and 3)", v);
    }
    p->g->version = v;
    uint64_t n_tensors = le_get(h + 8, 8), n_kv = le_get(h + 16, 8);
    uint64_t left = size - GGUF_HEADER_BYTES;
    if (n_kv > left / MIN_KV_BYTES)
        return chord_fail(p->err, CHORD_E_FORMAT,
                          "n_kv %llu is more than the file could hold (%llu bytes after the header, >= %u bytes per kv)",
                          (ull)n_kv, (ull)left, MIN_KV_BYTES);
    if (n_tensors > left / MIN_TENSOR_INFO_BYTES)
        return chord_fail(p->err, CHORD_E_FORMAT,
                          "n_tensors %llu is more than the file could hold (%llu bytes after the header, >= %u bytes per tensor info)",
                          (ull)n_tensors, (ull)left, MIN_TENSOR_INFO_BYTES);
    if (n_kv * MIN_KV_BYTES + n_tensors * MIN_TENSOR_INFO_BYTES > left)
        return chord_fail(p->err, CHORD_E_FORMAT,
                          "n_kv %llu and n_tensors %llu are more than the file could hold (%llu bytes after the header)",
                          (ull)n_kv, (ull)n_tensors, (ull)left);
    if (n_kv > CAP_KV)
        return chord_fail(p->err, CHORD_E_FORMAT, "n_kv %llu exceeds the cap of %u", (ull)n_kv, CAP_KV);
    if (n_tensors > CAP_TENSORS)
        return chord_fail(p->err, CHORD_E_FORMAT, "n_tensors %llu exceeds the cap of %u", (ull)n_tensors, CAP_TENSORS);
    p->g->n_kv = n_kv;
    p->g->n_tensors = n_tensors;
    return CHORD_OK;
}

/* Decodes one scalar. Integers are stored widened (unsigned in .u64, signed in .i64), so on a
 * little-endian machine the narrower members (.u32, .i32, .b) alias the same value. */
static chord_status parse_scalar(parser *p, kv_entry *e, const char *what) {
    if (e->type == CHORD_GGUF_STRING) return cur_str(p->c, &p->g->arena, &e->val.str, CAP_STR_BYTES, what);
    uint8_t b[8];
    unsigned n = vtype_bytes[e->type];
    chord_status s = cur_read(p->c, b, n, what);
    if (s != CHORD_OK) return s;
    uint64_t raw = le_get(b, n);
    switch (e->type) {
    case CHORD_GGUF_INT8: e->val.i64 = (int8_t)(uint8_t)raw; break;
    case CHORD_GGUF_INT16: e->val.i64 = (int16_t)(uint16_t)raw; break;
    case CHORD_GGUF_INT32: e->val.i64 = (int32_t)(uint32_t)raw; break;
    case CHORD_GGUF_INT64: e->val.i64 = (int64_t)raw; break;
    case CHORD_GGUF_FLOAT32: { uint32_t u = (uint32_t)raw; memcpy(&e->val.f32, &u, 4); break; }
    case CHORD_GGUF_FLOAT64: memcpy(&e->val.f64, &raw, 8); break;
    default: e->val.u64 = raw; break; /* u8 u16 u32 u64 bool */
    }
    return CHORD_OK;
}

/* Two passes: the first walks the strings checking every length against the file and the cap
 * without allocating; the second allocates the exact table and one blob, then copies. */
static chord_status parse_string_array(parser *p, kv_entry *e, const char *what) {
    cursor *c = p->c;
    if (e->arr_n > cur_left(c) / 8)
        return chord_fail(p->err, CHORD_E_FORMAT,
                          "%s: string array count %llu exceeds what the %llu bytes left in the file could hold (>= 8 bytes each)",
                          what, (ull)e->arr_n, (ull)cur_left(c));
    uint64_t start = c->pos, total = 0;
    chord_status s = CHORD_OK;
    for (uint64_t j = 0; j < e->arr_n && s == CHORD_OK; j++) {
        uint64_t len = 0, at = c->pos;
        s = cur_u64(c, &len, what);
        if (s == CHORD_OK && len > CAP_STR_BYTES)
            s = chord_fail(p->err, CHORD_E_FORMAT, "%s: string %llu length %llu at offset %llu exceeds the cap of %u",
                           what, (ull)j, (ull)len, (ull)at, CAP_STR_BYTES);
        if (s == CHORD_OK && len > cur_left(c))
            s = chord_fail(p->err, CHORD_E_FORMAT,
                           "%s: string %llu length %llu at offset %llu exceeds the %llu bytes left in the file",
                           what, (ull)j, (ull)len, (ull)at, (ull)cur_left(c));
        if (s == CHORD_OK) s = cur_read(c, NULL, len, what);
        if (s == CHORD_OK) s = check_meta_cap(p, what);
        total += len; /* <= file size: no overflow */
    }
    if (s != CHORD_OK) return s;
    chord_str *tab = arena_alloc(&p->g->arena, e->arr_n * sizeof *tab);
    char *blob = arena_alloc(&p->g->arena, total + e->arr_n);
    if (!tab || !blob) return chord_fail(p->err, CHORD_E_NOMEM, "%s: out of memory for %llu strings", what, (ull)e->arr_n);
    c->pos = start;
    for (uint64_t j = 0; j < e->arr_n && s == CHORD_OK; j++) {
        uint64_t len = 0;
        s = cur_u64(c, &len, what);
        if (s == CHORD_OK) s = cur_read(c, blob, len, what); /* cannot fail: checked above */
        blob[len] = '\0';
        tab[j].ptr = blob;
        tab[j].len = len;
        blob += len + 1;
    }
    e->arr_strs = tab;
    return s;
}

static chord_status parse_array(parser *p, kv_entry *e, const char *what) {
    uint32_t et;
    chord_status s = cur_u32(p->c, &et, what);
    if (s != CHORD_OK) return s;
    if (et == CHORD_GGUF_ARRAY)
        return chord_fail(p->err, CHORD_E_FORMAT,
                          "%s: nested array (array of arrays); only one level of arrays is supported", what);
    if (et >= CHORD_GGUF_NTYPES)
        return chord_fail(p->err, CHORD_E_FORMAT, "%s: unknown array element type id %u (valid: 0..12)", what, et);
    e->arr_type = (chord_gguf_vtype)et;
    s = cur_u64(p->c, &e->arr_n, what);
    if (s != CHORD_OK) return s;
    if (et == CHORD_GGUF_STRING) return parse_string_array(p, e, what);
    uint64_t esz = vtype_bytes[et];
    if (e->arr_n > UINT64_MAX / esz)
        return chord_fail(p->err, CHORD_E_FORMAT, "%s: array count %llu x element size %llu overflows 64 bits",
                          what, (ull)e->arr_n, (ull)esz);
    uint64_t bytes = e->arr_n * esz;
    if (bytes > cur_left(p->c))
        return chord_fail(p->err, CHORD_E_FORMAT,
                          "%s: array of %llu %s (%llu bytes) exceeds the %llu bytes left in the file",
                          what, (ull)e->arr_n, vtype_names[et], (ull)bytes, (ull)cur_left(p->c));
    if (bytes > CAP_META_BYTES)
        return chord_fail(p->err, CHORD_E_FORMAT, "%s: array of %llu bytes exceeds the metadata cap of %u",
                          what, (ull)bytes, CAP_META_BYTES);
    void *data = arena_alloc(&p->g->arena, bytes);
    if (!data) return chord_fail(p->err, CHORD_E_NOMEM, "%s: out of memory for %llu bytes", what, (ull)bytes);
    e->arr_data = data;
    return cur_read(p->c, data, bytes, what);
}

static chord_status parse_kv(parser *p, uint64_t i) {
    char what[96];
    kv_entry *e = vec_push(&p->kv);
    if (!e) return chord_fail(p->err, CHORD_E_NOMEM, "out of memory reading kv #%llu", (ull)i);
    snprintf(what, sizeof what, "kv #%llu key", (ull)i);
    chord_status s = cur_str(p->c, &p->g->arena, &e->key, CAP_KEY_BYTES, what);
    if (s != CHORD_OK) return s;
    if (memchr(e->key.ptr, 0, (size_t)e->key.len)) /* found by fuzz_gguf_meta: unreachable by name */
        return chord_fail(p->err, CHORD_E_FORMAT, "kv #%llu key '%s...' contains a NUL byte", (ull)i, e->key.ptr);
    snprintf(what, sizeof what, "kv #%llu '%.60s'", (ull)i, e->key.ptr);
    uint32_t t;
    s = cur_u32(p->c, &t, what);
    if (s != CHORD_OK) return s;
    if (t >= CHORD_GGUF_NTYPES)
        return chord_fail(p->err, CHORD_E_FORMAT, "%s: unknown value type id %u (valid: 0..12)", what, t);
    e->type = (chord_gguf_vtype)t;
    s = t == CHORD_GGUF_ARRAY ? parse_array(p, e, what) : parse_scalar(p, e, what);
    return s == CHORD_OK ? check_meta_cap(p, what) : s;
}

/* ---- hash indexes over kv keys and tensor names ------------------------------------------- */

static uint64_t hash_bytes(const char *s, uint64_t n) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (uint64_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h;
}

static const chord_str *name_at(const void *first, size_t stride, uint64_t i) {
    return (const chord_str *)((const char *)first + i * stride);
}

int64_t chord_gguf_index_find(const uint32_t *table, uint64_t mask, const void *first, size_t stride,
                              const char *key, uint64_t len) {
    if (!table) return -1;
    for (uint64_t h = hash_bytes(key, len) & mask;; h = (h + 1) & mask) {
        if (!table[h]) return -1;
        const chord_str *s = name_at(first, stride, table[h] - 1u);
        if (s->len == len && memcmp(s->ptr, key, (size_t)len) == 0) return (int64_t)table[h] - 1;
    }
}

/* Builds an index of n names (n <= CAP_TENSORS). Returns CHORD_OK, CHORD_E_NOMEM, or
 * CHORD_E_FORMAT with *dup / *first_seen set to the indexes of a duplicated name. */
static chord_status index_build(arena *a, const void *first, size_t stride, uint64_t n,
                                uint32_t **table, uint64_t *mask, uint64_t *dup, uint64_t *first_seen) {
    uint64_t slots = 8;
    while (slots < 2 * n) slots *= 2;
    uint32_t *t = arena_alloc(a, slots * sizeof *t);
    if (!t) return CHORD_E_NOMEM;
    memset(t, 0, (size_t)(slots * sizeof *t));
    *table = t;
    *mask = slots - 1;
    for (uint64_t i = 0; i < n; i++) {
        const chord_str *s = name_at(first, stride, i);
        int64_t j = chord_gguf_index_find(t, slots - 1, first, stride, s->ptr, s->len);
        if (j >= 0) {
            *dup = i;
            *first_seen = (uint64_t)j;
            return CHORD_E_FORMAT;
        }
        uint64_t h = hash_bytes(s->ptr, s->len) & (slots - 1);
        while (t[h]) h = (h + 1) & (slots - 1);
        t[h] = (uint32_t)(i + 1);
    }
    return CHORD_OK;
}

/* ---- tensor infos --------------------------------------------------------------------------- */

static chord_status check_tensor_type(parser *p, const chord_gguf_tensor *t, uint32_t type) {
    if (type >= GGML_TYPE_IDS || !ggml_type_names[type])
        return chord_fail(p->err, CHORD_E_FORMAT, "tensor '%s': type id %u out of range (not a ggml type)",
                          t->name.ptr, type);
    if (!chord_type_get(type))
        return chord_fail(p->err, CHORD_E_UNSUPPORTED, "tensor '%s': tensor type %s (id %u) is not supported",
                          t->name.ptr, ggml_type_names[type], type);
    return CHORD_OK;
}

/* Dimensions, element count and byte size of tensor t, all checked. */
static chord_status parse_shape(parser *p, chord_gguf_tensor *t) {
    const char *nm = t->name.ptr;
    chord_status s = cur_u32(p->c, &t->n_dims, "tensor n_dims");
    if (s != CHORD_OK) return s;
    if (t->n_dims == 0 || t->n_dims > MAX_DIMS)
        return chord_fail(p->err, CHORD_E_FORMAT, "tensor '%s': n_dims %u (must be 1..%u)", nm, t->n_dims, MAX_DIMS);
    uint64_t n = 1;
    for (uint32_t d = 0; d < MAX_DIMS; d++) t->ne[d] = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        uint64_t raw;
        s = cur_u64(p->c, &raw, "tensor dimension");
        if (s != CHORD_OK) return s;
        int64_t v = (int64_t)raw;
        if (v <= 0)
            return chord_fail(p->err, CHORD_E_FORMAT, "tensor '%s': dimension ne[%u] = %lld (must be positive)",
                              nm, d, (long long)v);
        if (n > (uint64_t)INT64_MAX / raw)
            return chord_fail(p->err, CHORD_E_FORMAT,
                              "tensor '%s': element count overflows: product of dimensions up to ne[%u] = %lld exceeds 2^63",
                              nm, d, (long long)v);
        n *= raw;
        t->ne[d] = v;
    }
    t->n_elems = n;
    uint32_t type;
    s = cur_u32(p->c, &type, "tensor type");
    if (s != CHORD_OK) return s;
    s = check_tensor_type(p, t, type);
    if (s != CHORD_OK) return s;
    t->type = (chord_type)type;
    uint64_t row;
    s = chord_type_row_bytes(type, (uint64_t)t->ne[0], &row);
    if (s == CHORD_E_FORMAT)
        return chord_fail(p->err, CHORD_E_FORMAT,
                          "tensor '%s': ne[0] = %lld is not a multiple of the block size %u of type %s",
                          nm, (long long)t->ne[0], chord_type_get(type)->block_elems, ggml_type_names[type]);
    uint64_t rows = n / (uint64_t)t->ne[0];
    if (s != CHORD_OK || (rows && row > UINT64_MAX / rows) || row * rows > (uint64_t)INT64_MAX)
        return chord_fail(p->err, CHORD_E_FORMAT, "tensor '%s': byte size overflows (%llu elements of type %s)",
                          nm, (ull)n, ggml_type_names[type]);
    t->n_bytes = row * rows;
    return CHORD_OK;
}

static chord_status parse_tensor_info(parser *p, uint64_t i) {
    char what[64];
    chord_gguf_tensor *t = vec_push(&p->tensors);
    if (!t) return chord_fail(p->err, CHORD_E_NOMEM, "out of memory reading tensor #%llu", (ull)i);
    snprintf(what, sizeof what, "tensor #%llu name", (ull)i);
    chord_status s = cur_str(p->c, &p->g->arena, &t->name, CAP_KEY_BYTES, what);
    if (s == CHORD_OK && memchr(t->name.ptr, 0, (size_t)t->name.len))
        return chord_fail(p->err, CHORD_E_FORMAT, "tensor #%llu name '%s...' contains a NUL byte", (ull)i, t->name.ptr);
    if (s == CHORD_OK) s = parse_shape(p, t);
    if (s == CHORD_OK) s = cur_u64(p->c, &t->off, "tensor offset");
    if (s != CHORD_OK) return s;
    if (t->off % p->g->alignment != 0)
        return chord_fail(p->err, CHORD_E_FORMAT, "tensor '%s': offset %llu is not a multiple of the alignment %llu",
                          t->name.ptr, (ull)t->off, (ull)p->g->alignment);
    return check_meta_cap(p, what);
}

typedef struct { uint64_t off, end, i; } span;

static int span_cmp(const void *a, const void *b) {
    const span *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off ? 1 : (x->i > y->i) - (x->i < y->i);
}

/* Places tensors in the data section: inside the file, then no two overlapping. Offsets become
 * absolute. */
static chord_status place_tensors(parser *p) {
    chord_gguf *g = p->g;
    uint64_t size = g->src->size;
    span *sp = malloc((size_t)(g->n_tensors ? g->n_tensors : 1) * sizeof *sp);
    if (!sp) return chord_fail(p->err, CHORD_E_NOMEM, "out of memory placing %llu tensors", (ull)g->n_tensors);
    chord_status s = CHORD_OK;
    for (uint64_t i = 0; i < g->n_tensors && s == CHORD_OK; i++) {
        chord_gguf_tensor *t = &g->tensors[i];
        uint64_t avail = size > g->data_off ? size - g->data_off : 0;
        if (t->off >= avail)
            s = chord_fail(p->err, CHORD_E_FORMAT,
                           "tensor '%s': offset %llu is beyond the data section (%llu bytes from offset %llu; file has %llu bytes)",
                           t->name.ptr, (ull)t->off, (ull)avail, (ull)g->data_off, (ull)size);
        else if (t->n_bytes > avail - t->off)
            s = chord_fail(p->err, CHORD_E_FORMAT,
                           "file truncated inside tensor data: tensor '%s' needs bytes [%llu, %llu), file has %llu bytes",
                           t->name.ptr, (ull)(g->data_off + t->off), (ull)(g->data_off + t->off) + (ull)t->n_bytes, (ull)size);
        sp[i] = (span){ t->off, t->off + t->n_bytes, i };
    }
    if (s == CHORD_OK) qsort(sp, (size_t)g->n_tensors, sizeof *sp, span_cmp);
    for (uint64_t k = 1; k < g->n_tensors && s == CHORD_OK; k++)
        if (sp[k].off < sp[k - 1].end)
            s = chord_fail(p->err, CHORD_E_FORMAT,
                           "tensor '%s' at data offset %llu overlaps tensor '%s' at [%llu, %llu)",
                           g->tensors[sp[k].i].name.ptr, (ull)sp[k].off, g->tensors[sp[k - 1].i].name.ptr,
                           (ull)sp[k - 1].off, (ull)sp[k - 1].end);
    free(sp);
    for (uint64_t i = 0; i < g->n_tensors && s == CHORD_OK; i++) g->tensors[i].off += g->data_off;
    return s;
}

/* ---- open / close --------------------------------------------------------------------------- */

static chord_status read_alignment(parser *p) {
    chord_gguf *g = p->g;
    g->alignment = 32;
    int64_t i = chord_gguf_find_key(g, "general.alignment");
    if (i < 0) return CHORD_OK;
    const kv_entry *e = &g->kv[i];
    if (e->type != CHORD_GGUF_UINT32)
        return chord_fail(p->err, CHORD_E_FORMAT, "general.alignment has type %s, expected u32", vtype_names[e->type]);
    uint64_t a = e->val.u64;
    if (a == 0 || (a & (a - 1)) != 0)
        return chord_fail(p->err, CHORD_E_FORMAT, "general.alignment is %llu, must be a non-zero power of two", (ull)a);
    g->alignment = a;
    return CHORD_OK;
}

static chord_status parse_all(parser *p) {
    chord_gguf *g = p->g;
    uint64_t dup = 0, first = 0;
    chord_status s = parse_header(p);
    for (uint64_t i = 0; i < g->n_kv && s == CHORD_OK; i++) s = parse_kv(p, i);
    if (s != CHORD_OK) return s;
    g->kv = vec_to_arena(&p->kv, &g->arena);
    if (g->n_kv)
        s = index_build(&g->arena, &g->kv[0].key, sizeof g->kv[0], g->n_kv, &g->kv_index, &g->kv_mask, &dup, &first);
    if (s == CHORD_E_FORMAT)
        return chord_fail(p->err, s, "duplicate key '%s' (kv #%llu and #%llu)", g->kv[dup].key.ptr, (ull)first, (ull)dup);
    if (s != CHORD_OK) return chord_fail(p->err, s, "out of memory indexing %llu keys", (ull)g->n_kv);
    s = read_alignment(p);
    for (uint64_t i = 0; i < g->n_tensors && s == CHORD_OK; i++) s = parse_tensor_info(p, i);
    if (s != CHORD_OK) return s;
    g->tensors = vec_to_arena(&p->tensors, &g->arena);
    if (g->n_tensors)
        s = index_build(&g->arena, &g->tensors[0].name, sizeof g->tensors[0], g->n_tensors, &g->t_index,
                        &g->t_mask, &dup, &first);
    if (s == CHORD_E_FORMAT)
        return chord_fail(p->err, s, "duplicate tensor name '%s' (tensors #%llu and #%llu)", g->tensors[dup].name.ptr,
                          (ull)first, (ull)dup);
    if (s != CHORD_OK) return chord_fail(p->err, s, "out of memory indexing %llu tensors", (ull)g->n_tensors);
    /* pos <= CAP_META_BYTES and alignment <= 2^31, so this cannot overflow */
    g->data_off = (p->c->pos + g->alignment - 1) & ~(g->alignment - 1);
    return place_tensors(p);
}

chord_status chord_gguf_open(chord_gguf **out, const chord_source *src, chord_error *err) {
    if (!out || !src || !src->read) return chord_fail(err, CHORD_E_INVALID_ARG, "chord_gguf_open: NULL argument");
    *out = NULL;
    chord_error_clear(err);
    arena a = { 0 };
    chord_gguf *g = arena_alloc(&a, sizeof *g);
    cursor *c = malloc(sizeof *c); /* 256 KiB: too big for a wasm stack */
    if (!g || !c) {
        free(c);
        arena_free(&a);
        return chord_fail(err, CHORD_E_NOMEM, "out of memory opening GGUF");
    }
    memset(g, 0, sizeof *g);
    g->src = src;
    g->arena = a; /* from here on, allocate only through g->arena */
    c->src = src;
    c->pos = c->buf_off = 0;
    c->buf_len = 0;
    c->err = err;
    parser p = { .c = c, .g = g, .err = err, .kv = { .elem = sizeof(kv_entry) },
                 .tensors = { .elem = sizeof(chord_gguf_tensor) } };
    chord_status s = parse_all(&p);
    free(p.kv.c);
    free(p.tensors.c);
    free(c);
    if (s != CHORD_OK) {
        a = g->arena; /* g lives inside the arena */
        arena_free(&a);
        return s;
    }
    *out = g;
    return CHORD_OK;
}

void chord_gguf_close(chord_gguf *g) {
    if (!g) return;
    arena a = g->arena;
    arena_free(&a);
}
