/*
 * gguf_write.c — streaming GGUF v2/v3 writer (native only: uses stdio). The layout it produces is
 * described at the top of gguf.c.
 *
 * Metadata kvs are serialized into memory as they are added (a 128k-token vocabulary is a few
 * MB); tensor infos are collected and their offsets assigned at chord_gguf_writer_begin, which
 * writes header, metadata, infos and padding. Tensor bytes are then streamed in the order the
 * tensors were added, each padded to the alignment (as ggml does, including the last one), so
 * a multi-GB model is never held in memory.
 *
 * Setters have no error argument: the first problem (bad argument, duplicate key or tensor name,
 * out of memory) is remembered and reported by chord_gguf_writer_begin. The writer refuses to
 * produce files the reader would reject, and tensor names ggml could not load (>= 64 bytes).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "gguf/gguf.h"

#define GGML_MAX_NAME 64 /* ggml stores tensor names in char[64] */

typedef unsigned long long ull;

typedef struct { uint8_t *p; size_t n, cap; } bytes;

typedef struct { char *key; bytes data; } kv_rec; /* data = the whole serialized kv */

typedef struct {
    char *name;
    chord_type type;
    uint32_t n_dims;
    int64_t ne[4];
    uint64_t n_bytes, off;
} tensor_rec;

struct chord_gguf_writer {
    uint32_t version, alignment;
    kv_rec *kv;
    size_t n_kv, cap_kv;
    tensor_rec *t;
    size_t n_t, cap_t;
    chord_error sticky;    /* first error from a setter */
    FILE *f;
    char *path;
    size_t cur;            /* tensor whose data is being written */
    uint64_t cur_written;  /* bytes of it written so far */
    uint64_t pos;          /* bytes written to the file */
};

/* ---- small helpers -------------------------------------------------------------------------- */

static chord_status stick(chord_gguf_writer *w, chord_status code, const char *fmt, ...) CHORD_PRINTF(3, 4);
static chord_status stick(chord_gguf_writer *w, chord_status code, const char *fmt, ...) {
    if (w->sticky.code == CHORD_OK) {
        va_list ap;
        va_start(ap, fmt);
        w->sticky.code = code;
        vsnprintf(w->sticky.message, sizeof w->sticky.message, fmt, ap);
        va_end(ap);
    }
    return code;
}

static int put(bytes *b, const void *src, size_t n) {
    if (b->cap - b->n < n) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->n < n) cap *= 2;
        uint8_t *np = realloc(b->p, cap);
        if (!np) return -1;
        b->p = np;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, src, n);
    b->n += n;
    return 0;
}

static int put_le(bytes *b, uint64_t v, unsigned n) {
    uint8_t tmp[8];
    for (unsigned i = 0; i < n; i++) tmp[i] = (uint8_t)(v >> (8 * i));
    return put(b, tmp, n);
}

static int put_str(bytes *b, const char *s, size_t len) { return put_le(b, len, 8) || put(b, s, len); }

static const uint8_t scalar_bytes[CHORD_GGUF_NTYPES] = { 1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8 };

chord_gguf_writer *chord_gguf_writer_new(void) {
    chord_gguf_writer *w = calloc(1, sizeof *w);
    if (w) {
        w->version = 3;
        w->alignment = 32;
    }
    return w;
}

void chord_gguf_writer_free(chord_gguf_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_kv; i++) {
        free(w->kv[i].key);
        free(w->kv[i].data.p);
    }
    for (size_t i = 0; i < w->n_t; i++) free(w->t[i].name);
    free(w->kv);
    free(w->t);
    if (w->f) {
        fclose(w->f); /* not ended: remove the incomplete file rather than leave a truncated model */
        remove(w->path);
    }
    free(w->path);
    free(w);
}

void chord_gguf_writer_set_alignment(chord_gguf_writer *w, uint32_t alignment) {
    if (alignment == 0 || (alignment & (alignment - 1)))
        stick(w, CHORD_E_INVALID_ARG, "alignment %u is not a non-zero power of two", alignment);
    else
        w->alignment = alignment;
}

void chord_gguf_writer_set_version(chord_gguf_writer *w, uint32_t version) {
    if (version != 2 && version != 3) stick(w, CHORD_E_INVALID_ARG, "GGUF version %u: only 2 and 3 can be written", version);
    else w->version = version;
}

/* ---- metadata ------------------------------------------------------------------------------- */

static kv_rec *find_kv(chord_gguf_writer *w, const char *key) {
    for (size_t i = 0; i < w->n_kv; i++)
        if (!strcmp(w->kv[i].key, key)) return &w->kv[i];
    return NULL;
}

/* Starts a kv record: key and type id. Returns NULL (with the sticky error set) on failure. */
static bytes *kv_begin(chord_gguf_writer *w, const char *key, chord_gguf_vtype t) {
    if (w->f) { stick(w, CHORD_E_INVALID_ARG, "kv '%s' added after begin", key ? key : ""); return NULL; }
    if (!key || !*key) { stick(w, CHORD_E_INVALID_ARG, "empty or NULL key"); return NULL; }
    if (find_kv(w, key)) { stick(w, CHORD_E_INVALID_ARG, "duplicate key '%s'", key); return NULL; }
    if (!strcmp(key, "general.alignment") && t != CHORD_GGUF_UINT32) {
        stick(w, CHORD_E_INVALID_ARG, "general.alignment must be u32");
        return NULL;
    }
    if (w->n_kv == w->cap_kv) {
        size_t cap = w->cap_kv ? w->cap_kv * 2 : 32;
        kv_rec *nk = realloc(w->kv, cap * sizeof *nk);
        if (!nk) { stick(w, CHORD_E_NOMEM, "out of memory adding kv '%s'", key); return NULL; }
        w->kv = nk;
        w->cap_kv = cap;
    }
    kv_rec *r = &w->kv[w->n_kv];
    memset(r, 0, sizeof *r);
    size_t len = strlen(key);
    r->key = malloc(len + 1);
    if (!r->key || put_str(&r->data, key, len) || put_le(&r->data, (uint64_t)t, 4)) {
        free(r->key);
        free(r->data.p);
        stick(w, CHORD_E_NOMEM, "out of memory adding kv '%s'", key);
        return NULL;
    }
    memcpy(r->key, key, len + 1);
    w->n_kv++;
    return &r->data;
}

/* Finishes a kv record: rc != 0 means an append failed (out of memory) — drop the record. */
static chord_status kv_end(chord_gguf_writer *w, int rc) {
    if (!rc) return CHORD_OK;
    kv_rec *r = &w->kv[--w->n_kv];
    stick(w, CHORD_E_NOMEM, "out of memory writing kv '%s'", r->key);
    free(r->key);
    free(r->data.p);
    return CHORD_E_NOMEM;
}

/* Scalar value bytes from a C value (see gguf.h for what `v` points to). */
static int put_scalar(bytes *b, chord_gguf_vtype t, const void *v) {
    if (t == CHORD_GGUF_STRING) return put_str(b, v, strlen(v));
    uint64_t raw = 0;
    switch (t) {
    case CHORD_GGUF_FLOAT32: { uint32_t u; memcpy(&u, v, 4); raw = u; break; }
    case CHORD_GGUF_FLOAT64: memcpy(&raw, v, 8); break;
    default: { /* integers and bool, read through their own C type */
        uint8_t u8; uint16_t u16; uint32_t u32;
        switch (scalar_bytes[t]) {
        case 1: memcpy(&u8, v, 1); raw = u8; break;
        case 2: memcpy(&u16, v, 2); raw = u16; break;
        case 4: memcpy(&u32, v, 4); raw = u32; break;
        default: memcpy(&raw, v, 8); break;
        }
    }
    }
    return put_le(b, raw, scalar_bytes[t]);
}

chord_status chord_gguf_writer_kv_scalar(chord_gguf_writer *w, const char *key, chord_gguf_vtype t, const void *v) {
    if ((unsigned)t >= CHORD_GGUF_NTYPES || t == CHORD_GGUF_ARRAY || !v)
        return stick(w, CHORD_E_INVALID_ARG, "kv '%s': bad scalar type %d or NULL value", key ? key : "", (int)t);
    bytes *b = kv_begin(w, key, t);
    if (!b) return w->sticky.code;
    chord_status s = kv_end(w, put_scalar(b, t, v));
    if (s == CHORD_OK && !strcmp(key, "general.alignment")) { /* u32: checked by kv_begin */
        uint32_t a;
        memcpy(&a, v, 4);
        chord_gguf_writer_set_alignment(w, a);
    }
    return s;
}

chord_status chord_gguf_writer_kv_u32(chord_gguf_writer *w, const char *key, uint32_t v) {
    return chord_gguf_writer_kv_scalar(w, key, CHORD_GGUF_UINT32, &v);
}
chord_status chord_gguf_writer_kv_i32(chord_gguf_writer *w, const char *key, int32_t v) {
    return chord_gguf_writer_kv_scalar(w, key, CHORD_GGUF_INT32, &v);
}
chord_status chord_gguf_writer_kv_u64(chord_gguf_writer *w, const char *key, uint64_t v) {
    return chord_gguf_writer_kv_scalar(w, key, CHORD_GGUF_UINT64, &v);
}
chord_status chord_gguf_writer_kv_f32(chord_gguf_writer *w, const char *key, float v) {
    return chord_gguf_writer_kv_scalar(w, key, CHORD_GGUF_FLOAT32, &v);
}
chord_status chord_gguf_writer_kv_bool(chord_gguf_writer *w, const char *key, int v) {
    uint8_t b = v != 0;
    return chord_gguf_writer_kv_scalar(w, key, CHORD_GGUF_BOOL, &b);
}
chord_status chord_gguf_writer_kv_str(chord_gguf_writer *w, const char *key, const char *v) {
    return chord_gguf_writer_kv_scalar(w, key, CHORD_GGUF_STRING, v);
}

chord_status chord_gguf_writer_kv_arr(chord_gguf_writer *w, const char *key, chord_gguf_vtype elem,
                                      const void *data, uint64_t n) {
    if ((unsigned)elem >= CHORD_GGUF_NTYPES || !scalar_bytes[elem] || (n && !data))
        return stick(w, CHORD_E_INVALID_ARG, "kv '%s': bad numeric array element type %d", key ? key : "", (int)elem);
    if (n > SIZE_MAX / 8) return stick(w, CHORD_E_INVALID_ARG, "kv '%s': array of %llu elements", key, (ull)n);
    bytes *b = kv_begin(w, key, CHORD_GGUF_ARRAY);
    if (!b) return w->sticky.code;
    int rc = put_le(b, (uint64_t)elem, 4) || put_le(b, n, 8);
    const uint8_t *src = data;
    for (uint64_t i = 0; i < n && !rc; i++) rc = put_scalar(b, elem, src + i * scalar_bytes[elem]);
    return kv_end(w, rc);
}

chord_status chord_gguf_writer_kv_arr_str(chord_gguf_writer *w, const char *key, const char *const *strs, uint64_t n) {
    if (n && !strs) return stick(w, CHORD_E_INVALID_ARG, "kv '%s': NULL string array", key ? key : "");
    for (uint64_t i = 0; i < n; i++)
        if (!strs[i]) return stick(w, CHORD_E_INVALID_ARG, "kv '%s': string %llu is NULL", key ? key : "", (ull)i);
    bytes *b = kv_begin(w, key, CHORD_GGUF_ARRAY);
    if (!b) return w->sticky.code;
    int rc = put_le(b, CHORD_GGUF_STRING, 4) || put_le(b, n, 8);
    for (uint64_t i = 0; i < n && !rc; i++) rc = put_str(b, strs[i], strlen(strs[i]));
    return kv_end(w, rc);
}

/* Copies kv i of a reader handle, whatever its type (strings may contain NUL bytes). */
chord_status chord_gguf_writer_kv_copy(chord_gguf_writer *w, const chord_gguf *g, uint64_t i) {
    if (!g || i >= chord_gguf_n_kv(g)) return stick(w, CHORD_E_INVALID_ARG, "kv_copy: index %llu out of range", (ull)i);
    const char *key = chord_gguf_key(g, i);
    chord_gguf_vtype t = chord_gguf_kv_type(g, i);
    const chord_gguf_value *v = chord_gguf_value_at(g, i);
    if (t != CHORD_GGUF_ARRAY) {
        union { uint8_t u8; uint16_t u16; uint32_t u32; uint64_t u64; float f32; double f64; } raw;
        if (t == CHORD_GGUF_STRING) {
            bytes *b = kv_begin(w, key, t);
            return b ? kv_end(w, put_str(b, v->str.ptr, (size_t)v->str.len)) : w->sticky.code;
        }
        /* the reader stores integers widened to 64 bits; narrow to the C type kv_scalar expects */
        if (t == CHORD_GGUF_FLOAT32) raw.f32 = v->f32;
        else if (t == CHORD_GGUF_FLOAT64) raw.f64 = v->f64;
        else if (scalar_bytes[t] == 1) raw.u8 = (uint8_t)v->u64;
        else if (scalar_bytes[t] == 2) raw.u16 = (uint16_t)v->u64;
        else if (scalar_bytes[t] == 4) raw.u32 = (uint32_t)v->u64;
        else raw.u64 = v->u64;
        return chord_gguf_writer_kv_scalar(w, key, t, &raw);
    }
    chord_gguf_vtype et = chord_gguf_arr_type(g, i);
    uint64_t n = chord_gguf_arr_n(g, i);
    if (et != CHORD_GGUF_STRING) return chord_gguf_writer_kv_arr(w, key, et, chord_gguf_arr_data(g, i), n);
    bytes *b = kv_begin(w, key, CHORD_GGUF_ARRAY);
    if (!b) return w->sticky.code;
    int rc = put_le(b, CHORD_GGUF_STRING, 4) || put_le(b, n, 8);
    for (uint64_t j = 0; j < n && !rc; j++) {
        chord_str s = chord_gguf_arr_str(g, i, j);
        rc = put_str(b, s.ptr, (size_t)s.len);
    }
    return kv_end(w, rc);
}

/* ---- tensors -------------------------------------------------------------------------------- */

chord_status chord_gguf_writer_add_tensor(chord_gguf_writer *w, const char *name, chord_type type,
                                          uint32_t n_dims, const int64_t *ne) {
    if (w->f) return stick(w, CHORD_E_INVALID_ARG, "tensor '%s' added after begin", name ? name : "");
    if (!name || !*name || strlen(name) >= GGML_MAX_NAME)
        return stick(w, CHORD_E_INVALID_ARG, "tensor name '%s' is empty or longer than %d bytes", name ? name : "",
                     GGML_MAX_NAME - 1);
    if (n_dims == 0 || n_dims > 4 || !ne)
        return stick(w, CHORD_E_INVALID_ARG, "tensor '%s': n_dims %u (must be 1..4)", name, n_dims);
    for (size_t i = 0; i < w->n_t; i++)
        if (!strcmp(w->t[i].name, name)) return stick(w, CHORD_E_INVALID_ARG, "duplicate tensor name '%s'", name);
    tensor_rec r = { .type = type, .n_dims = n_dims, .ne = { 1, 1, 1, 1 } };
    uint64_t rows = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
        if (ne[d] <= 0) return stick(w, CHORD_E_INVALID_ARG, "tensor '%s': ne[%u] = %lld", name, d, (long long)ne[d]);
        r.ne[d] = ne[d];
        if (d == 0) continue;
        if (rows > (uint64_t)INT64_MAX / (uint64_t)ne[d])
            return stick(w, CHORD_E_INVALID_ARG, "tensor '%s': element count overflows", name);
        rows *= (uint64_t)ne[d];
    }
    uint64_t row;
    chord_status s = chord_type_row_bytes((uint32_t)type, (uint64_t)ne[0], &row);
    if (s != CHORD_OK)
        return stick(w, s, "tensor '%s': type %s (id %d) with ne[0] = %lld: %s", name, chord_type_name((uint32_t)type),
                     (int)type, (long long)ne[0], s == CHORD_E_FORMAT ? "not a multiple of the block size" : "unsupported");
    if (rows > UINT64_MAX / 2 / row) return stick(w, CHORD_E_INVALID_ARG, "tensor '%s': byte size overflows", name);
    r.n_bytes = row * rows;
    if (w->n_t == w->cap_t) {
        size_t cap = w->cap_t ? w->cap_t * 2 : 64;
        tensor_rec *nt = realloc(w->t, cap * sizeof *nt);
        if (!nt) return stick(w, CHORD_E_NOMEM, "out of memory adding tensor '%s'", name);
        w->t = nt;
        w->cap_t = cap;
    }
    size_t len = strlen(name);
    if (!(r.name = malloc(len + 1))) return stick(w, CHORD_E_NOMEM, "out of memory adding tensor '%s'", name);
    memcpy(r.name, name, len + 1);
    w->t[w->n_t++] = r;
    return CHORD_OK;
}

/* ---- streaming ------------------------------------------------------------------------------ */

static chord_status write_bytes(chord_gguf_writer *w, const void *p, size_t n, chord_error *err) {
    if (n && fwrite(p, 1, n, w->f) != n)
        return chord_fail(err, CHORD_E_IO, "write to '%s' failed at offset %llu", w->path, (ull)w->pos);
    w->pos += n;
    return CHORD_OK;
}

static chord_status write_padding(chord_gguf_writer *w, chord_error *err) {
    static const uint8_t zeros[256];
    chord_status s = CHORD_OK;
    while (s == CHORD_OK && w->pos % w->alignment) {
        uint64_t n = w->alignment - w->pos % w->alignment;
        s = write_bytes(w, zeros, n < sizeof zeros ? (size_t)n : sizeof zeros, err);
    }
    return s;
}

/* Header, kvs and tensor infos into one buffer (small: no tensor data). */
static int serialize_head(chord_gguf_writer *w, bytes *b) {
    int rc = put(b, "GGUF", 4) || put_le(b, w->version, 4) || put_le(b, w->n_t, 8) || put_le(b, w->n_kv, 8);
    for (size_t i = 0; i < w->n_kv && !rc; i++) rc = put(b, w->kv[i].data.p, w->kv[i].data.n);
    for (size_t i = 0; i < w->n_t && !rc; i++) {
        const tensor_rec *t = &w->t[i];
        rc = put_str(b, t->name, strlen(t->name)) || put_le(b, t->n_dims, 4);
        for (uint32_t d = 0; d < t->n_dims && !rc; d++) rc = put_le(b, (uint64_t)t->ne[d], 8);
        rc = rc || put_le(b, (uint64_t)t->type, 4) || put_le(b, t->off, 8);
    }
    return rc;
}

chord_status chord_gguf_writer_begin(chord_gguf_writer *w, const char *path, chord_error *err) {
    if (!w || !path) return chord_fail(err, CHORD_E_INVALID_ARG, "writer or path is NULL");
    if (w->f) return chord_fail(err, CHORD_E_INVALID_ARG, "writer already begun");
    /* general.alignment must agree with the alignment used; add it when not the default */
    kv_rec *ak = find_kv(w, "general.alignment");
    if (ak) {
        ak->data.n -= 4;
        if (put_le(&ak->data, w->alignment, 4)) stick(w, CHORD_E_NOMEM, "out of memory");
    } else if (w->alignment != 32) {
        chord_gguf_writer_kv_u32(w, "general.alignment", w->alignment);
    }
    if (w->sticky.code != CHORD_OK) return chord_fail(err, w->sticky.code, "%s", w->sticky.message);
    uint64_t off = 0;
    for (size_t i = 0; i < w->n_t; i++) {
        w->t[i].off = off;
        uint64_t padded = (w->t[i].n_bytes + w->alignment - 1) & ~(uint64_t)(w->alignment - 1);
        if (off > UINT64_MAX / 2 - padded) return chord_fail(err, CHORD_E_RANGE, "tensor data size overflows");
        off += padded;
    }
    bytes head = { 0 };
    if (serialize_head(w, &head)) {
        free(head.p);
        return chord_fail(err, CHORD_E_NOMEM, "out of memory serializing the GGUF header");
    }
    size_t plen = strlen(path);
    w->path = malloc(plen + 1);
    if (w->path) memcpy(w->path, path, plen + 1);
    w->f = w->path ? fopen(path, "wb") : NULL;
    if (!w->f) {
        free(head.p);
        return chord_fail(err, CHORD_E_IO, "cannot create '%s'", path);
    }
    setvbuf(w->f, NULL, _IOFBF, 1u << 20);
    chord_status s = write_bytes(w, head.p, head.n, err);
    free(head.p);
    if (s == CHORD_OK) s = write_padding(w, err);
    w->cur = 0;
    w->cur_written = 0;
    return s;
}

chord_status chord_gguf_writer_tensor_part(chord_gguf_writer *w, const void *data, uint64_t n_bytes,
                                           chord_error *err) {
    if (!w || !w->f) return chord_fail(err, CHORD_E_INVALID_ARG, "tensor data before chord_gguf_writer_begin");
    if (w->cur >= w->n_t) return chord_fail(err, CHORD_E_INVALID_ARG, "more tensor data than tensors added");
    const tensor_rec *t = &w->t[w->cur];
    if (n_bytes > t->n_bytes - w->cur_written)
        return chord_fail(err, CHORD_E_INVALID_ARG, "tensor '%s': %llu bytes given, %llu remain of %llu", t->name,
                          (ull)n_bytes, (ull)(t->n_bytes - w->cur_written), (ull)t->n_bytes);
    if (n_bytes > SIZE_MAX) return chord_fail(err, CHORD_E_RANGE, "tensor part too large");
    chord_status s = write_bytes(w, data, (size_t)n_bytes, err);
    w->cur_written += n_bytes;
    if (s == CHORD_OK && w->cur_written == t->n_bytes) {
        s = write_padding(w, err);
        w->cur++;
        w->cur_written = 0;
    }
    return s;
}

chord_status chord_gguf_writer_tensor_data(chord_gguf_writer *w, const void *data, uint64_t n_bytes,
                                           chord_error *err) {
    if (w && w->f && w->cur < w->n_t && (w->cur_written != 0 || n_bytes != w->t[w->cur].n_bytes))
        return chord_fail(err, CHORD_E_INVALID_ARG, "tensor '%s': %llu bytes given, expected %llu",
                          w->t[w->cur].name, (ull)n_bytes, (ull)w->t[w->cur].n_bytes);
    return chord_gguf_writer_tensor_part(w, data, n_bytes, err);
}

chord_status chord_gguf_writer_end(chord_gguf_writer *w, chord_error *err) {
    if (!w || !w->f) return chord_fail(err, CHORD_E_INVALID_ARG, "chord_gguf_writer_end before begin");
    if (w->cur < w->n_t)
        return chord_fail(err, CHORD_E_INVALID_ARG, "tensor '%s' (#%zu of %zu) has no data yet", w->t[w->cur].name,
                          w->cur, w->n_t);
    int bad = ferror(w->f);
    bad |= fclose(w->f) != 0;
    w->f = NULL;
    if (bad) return chord_fail(err, CHORD_E_IO, "writing '%s' failed", w->path);
    return CHORD_OK;
}
