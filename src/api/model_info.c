/*
 * model_info.c — model information and metadata as text (include/chord.h). Model open/free
 * live in model/model.c, sessions in engine/session.c, generation in api/generate.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "model/model.h"

/* ---- model information -------------------------------------------------------------------- */

chord_status chord_model_get_info(const chord_model *m, chord_model_info *info) {
    if (!m || !info) return CHORD_E_INVALID_ARG;
    memset(info, 0, sizeof *info);
    info->arch = m->arch_name ? m->arch_name : "";
    info->name = m->name ? m->name : "";
    info->n_vocab = m->hp.n_vocab;
    info->n_ctx_train = m->hp.n_ctx_train;
    info->n_embd = m->hp.n_embd;
    info->n_layer = m->hp.n_layer;
    info->n_head = m->hp.n_head;
    info->n_head_kv = m->hp.n_head_kv;
    info->n_ff = m->hp.n_ff;
    info->rope_theta = m->hp.rope_theta;
    info->file_bytes = m->src.size;
    info->weight_bytes = m->weight_bytes;
    info->n_params = m->n_params;
    info->bos = m->bos;
    info->eos = m->eos;
    return CHORD_OK;
}

size_t chord_model_meta_count(const chord_model *m) { return m ? (size_t)chord_gguf_n_kv(m->gguf) : 0; }

const char *chord_model_meta_key(const chord_model *m, size_t i) {
    if (!m || i >= chord_model_meta_count(m)) return NULL;
    return chord_gguf_key(m->gguf, i);
}

static void put_str(char *buf, size_t cap, size_t *n, const char *s, size_t len) {
    for (size_t i = 0; i < len; i++, (*n)++)
        if (*n + 1 < cap) buf[*n] = s[i];
    if (cap) buf[*n < cap ? *n : cap - 1] = '\0';
}

/* Formats into a small buffer and appends (numbers are short). */
static void appendf(char *buf, size_t cap, size_t *n, const char *fmt, ...) CHORD_PRINTF(4, 5);
static void appendf(char *buf, size_t cap, size_t *n, const char *fmt, ...) {
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (w > 0) put_str(buf, cap, n, tmp, (size_t)w < sizeof tmp ? (size_t)w : sizeof tmp - 1);
}

/* One numeric element of type t at p. */
static void put_num(char *buf, size_t cap, size_t *n, chord_gguf_vtype t, const void *p) {
    int64_t iv = 0; uint64_t uv = 0; double dv = 0; int is_int = 1, is_u = 0;
    switch (t) {
    case CHORD_GGUF_UINT8: uv = *(const uint8_t *)p; is_u = 1; break;
    case CHORD_GGUF_INT8: iv = *(const int8_t *)p; break;
    case CHORD_GGUF_UINT16: { uint16_t x; memcpy(&x, p, 2); uv = x; is_u = 1; break; }
    case CHORD_GGUF_INT16: { int16_t x; memcpy(&x, p, 2); iv = x; break; }
    case CHORD_GGUF_UINT32: { uint32_t x; memcpy(&x, p, 4); uv = x; is_u = 1; break; }
    case CHORD_GGUF_INT32: { int32_t x; memcpy(&x, p, 4); iv = x; break; }
    case CHORD_GGUF_UINT64: { uint64_t x; memcpy(&x, p, 8); uv = x; is_u = 1; break; }
    case CHORD_GGUF_INT64: { int64_t x; memcpy(&x, p, 8); iv = x; break; }
    case CHORD_GGUF_FLOAT32: { float x; memcpy(&x, p, 4); dv = x; is_int = 0; break; }
    case CHORD_GGUF_FLOAT64: { double x; memcpy(&x, p, 8); dv = x; is_int = 0; break; }
    case CHORD_GGUF_BOOL: put_str(buf, cap, n, *(const uint8_t *)p ? "true" : "false", *(const uint8_t *)p ? 4 : 5); return;
    default: put_str(buf, cap, n, "?", 1); return;
    }
    if (!is_int) appendf(buf, cap, n, "%g", dv);
    else if (is_u) appendf(buf, cap, n, "%llu", (unsigned long long)uv);
    else appendf(buf, cap, n, "%lld", (long long)iv);
}

static size_t vtype_size(chord_gguf_vtype t) {
    switch (t) {
    case CHORD_GGUF_UINT8: case CHORD_GGUF_INT8: case CHORD_GGUF_BOOL: return 1;
    case CHORD_GGUF_UINT16: case CHORD_GGUF_INT16: return 2;
    case CHORD_GGUF_UINT32: case CHORD_GGUF_INT32: case CHORD_GGUF_FLOAT32: return 4;
    case CHORD_GGUF_UINT64: case CHORD_GGUF_INT64: case CHORD_GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

#define META_ARRAY_SHOWN 8   /* long arrays are abbreviated to their first elements */
#define META_STR_BYTES 200   /* long strings (chat templates) are cut */

chord_status chord_model_meta_value(const chord_model *m, size_t i, char *buf, size_t cap) {
    if (!m || !buf || cap == 0) return CHORD_E_INVALID_ARG;
    if (i >= chord_model_meta_count(m)) return CHORD_E_RANGE;
    size_t n = 0;
    buf[0] = '\0';
    chord_gguf_vtype t = chord_gguf_kv_type(m->gguf, i);
    if (t == CHORD_GGUF_STRING) {
        chord_str s = chord_gguf_value_at(m->gguf, i)->str;
        size_t len = s.len > META_STR_BYTES ? META_STR_BYTES : (size_t)s.len;
        put_str(buf, cap, &n, s.ptr, len);
        if (s.len > META_STR_BYTES) put_str(buf, cap, &n, "...", 3);
    } else if (t == CHORD_GGUF_ARRAY) {
        chord_gguf_vtype et = chord_gguf_arr_type(m->gguf, i);
        uint64_t count = chord_gguf_arr_n(m->gguf, i);
        put_str(buf, cap, &n, "[", 1);
        for (uint64_t j = 0; j < count && j < META_ARRAY_SHOWN; j++) {
            if (j) put_str(buf, cap, &n, ", ", 2);
            if (et == CHORD_GGUF_STRING) {
                chord_str s = chord_gguf_arr_str(m->gguf, i, j);
                put_str(buf, cap, &n, "\"", 1);
                put_str(buf, cap, &n, s.ptr, s.len > 64 ? 64 : (size_t)s.len);
                put_str(buf, cap, &n, "\"", 1);
            } else {
                put_num(buf, cap, &n, et, (const uint8_t *)chord_gguf_arr_data(m->gguf, i) + j * vtype_size(et));
            }
        }
        if (count > META_ARRAY_SHOWN) {
            appendf(buf, cap, &n, ", ... (%llu items)", (unsigned long long)count);
        }
        put_str(buf, cap, &n, "]", 1);
    } else {
        const chord_gguf_value *v = chord_gguf_value_at(m->gguf, i);
        put_num(buf, cap, &n, t, v);
    }
    return n < cap ? CHORD_OK : CHORD_E_BUFFER; /* truncated, NUL-terminated */
}

