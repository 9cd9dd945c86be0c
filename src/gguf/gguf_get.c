/*
 * gguf_get.c — the GGUF handle's accessors and typed getters (gguf.h): lookups by key and tensor
 * name through the hash indexes gguf.c built, and integer/float/bool/string/array values checked
 * against the type and range the caller asks for, with an error naming the key.
 */
#include <string.h>

#include "core/error.h"
#include "gguf/gguf_impl.h"

/* ---- accessors ------------------------------------------------------------------------------ */

uint32_t chord_gguf_version(const chord_gguf *g) { return g->version; }
uint64_t chord_gguf_alignment(const chord_gguf *g) { return g->alignment; }
uint64_t chord_gguf_data_off(const chord_gguf *g) { return g->data_off; }
uint64_t chord_gguf_n_kv(const chord_gguf *g) { return g->n_kv; }
uint64_t chord_gguf_n_tensors(const chord_gguf *g) { return g->n_tensors; }

int64_t chord_gguf_find_key(const chord_gguf *g, const char *key) {
    if (!g || !key || !g->n_kv) return -1;
    return chord_gguf_index_find(g->kv_index, g->kv_mask, &g->kv[0].key, sizeof g->kv[0], key, strlen(key));
}

const char *chord_gguf_key(const chord_gguf *g, uint64_t i) { return i < g->n_kv ? g->kv[i].key.ptr : NULL; }
chord_gguf_vtype chord_gguf_kv_type(const chord_gguf *g, uint64_t i) {
    return i < g->n_kv ? g->kv[i].type : CHORD_GGUF_NTYPES;
}
chord_gguf_vtype chord_gguf_arr_type(const chord_gguf *g, uint64_t i) {
    return i < g->n_kv && g->kv[i].type == CHORD_GGUF_ARRAY ? g->kv[i].arr_type : CHORD_GGUF_NTYPES;
}
uint64_t chord_gguf_arr_n(const chord_gguf *g, uint64_t i) { return i < g->n_kv ? g->kv[i].arr_n : 0; }
const void *chord_gguf_arr_data(const chord_gguf *g, uint64_t i) { return i < g->n_kv ? g->kv[i].arr_data : NULL; }

chord_str chord_gguf_arr_str(const chord_gguf *g, uint64_t i, uint64_t j) {
    chord_str none = { "", 0 };
    if (i >= g->n_kv || !g->kv[i].arr_strs || j >= g->kv[i].arr_n) return none;
    return g->kv[i].arr_strs[j];
}

const chord_gguf_value *chord_gguf_value_at(const chord_gguf *g, uint64_t i) {
    return i < g->n_kv ? &g->kv[i].val : NULL;
}

const chord_gguf_tensor *chord_gguf_tensor_at(const chord_gguf *g, uint64_t i) {
    return i < g->n_tensors ? &g->tensors[i] : NULL;
}

const chord_gguf_tensor *chord_gguf_find_tensor(const chord_gguf *g, const char *name) {
    if (!g || !name || !g->n_tensors) return NULL;
    int64_t i = chord_gguf_index_find(g->t_index, g->t_mask, &g->tensors[0].name, sizeof g->tensors[0], name, strlen(name));
    return i < 0 ? NULL : &g->tensors[i];
}

/* ---- typed getters -------------------------------------------------------------------------- */

static chord_status lookup(const chord_gguf *g, const char *key, const kv_entry **e, chord_error *err) {
    int64_t i = chord_gguf_find_key(g, key);
    if (i < 0) return chord_fail(err, CHORD_E_NOT_FOUND, "key '%s' not found", key ? key : "(null)");
    *e = &g->kv[i];
    return CHORD_OK;
}

static int vtype_is_int(chord_gguf_vtype t) {
    return t <= CHORD_GGUF_INT32 || t == CHORD_GGUF_UINT64 || t == CHORD_GGUF_INT64;
}
static int vtype_is_signed(chord_gguf_vtype t) {
    return t == CHORD_GGUF_INT8 || t == CHORD_GGUF_INT16 || t == CHORD_GGUF_INT32 || t == CHORD_GGUF_INT64;
}

/* Any integer kv checked against [lo, hi] (hi as unsigned, lo as signed). */
static chord_status get_int(const chord_gguf *g, const char *key, int64_t lo, uint64_t hi, const char *want,
                            int64_t *s_out, uint64_t *u_out, chord_error *err) {
    const kv_entry *e = NULL;
    chord_status s = lookup(g, key, &e, err);
    if (s != CHORD_OK) return s;
    if (!vtype_is_int(e->type))
        return chord_fail(err, CHORD_E_TYPE, "key '%s' has type %s, expected an integer (%s)", key,
                          chord_gguf_vtype_name(e->type), want);
    if (vtype_is_signed(e->type)) {
        if (e->val.i64 < lo || (e->val.i64 > 0 && (uint64_t)e->val.i64 > hi))
            return chord_fail(err, CHORD_E_RANGE, "key '%s': value %lld does not fit %s", key, (long long)e->val.i64, want);
        *s_out = e->val.i64;
        *u_out = (uint64_t)e->val.i64;
    } else {
        if (e->val.u64 > hi)
            return chord_fail(err, CHORD_E_RANGE, "key '%s': value %llu does not fit %s", key, (unsigned long long)e->val.u64, want);
        *s_out = (int64_t)e->val.u64;
        *u_out = e->val.u64;
    }
    return CHORD_OK;
}

chord_status chord_gguf_get_u32(const chord_gguf *g, const char *key, uint32_t *out, chord_error *err) {
    int64_t sv;
    uint64_t uv;
    chord_status s = get_int(g, key, 0, UINT32_MAX, "u32", &sv, &uv, err);
    if (s == CHORD_OK) *out = (uint32_t)uv;
    return s;
}

chord_status chord_gguf_get_i32(const chord_gguf *g, const char *key, int32_t *out, chord_error *err) {
    int64_t sv;
    uint64_t uv;
    chord_status s = get_int(g, key, INT32_MIN, INT32_MAX, "i32", &sv, &uv, err);
    if (s == CHORD_OK) *out = (int32_t)sv;
    return s;
}

chord_status chord_gguf_get_u64(const chord_gguf *g, const char *key, uint64_t *out, chord_error *err) {
    int64_t sv;
    uint64_t uv;
    chord_status s = get_int(g, key, 0, UINT64_MAX, "u64", &sv, &uv, err);
    if (s == CHORD_OK) *out = uv;
    return s;
}

chord_status chord_gguf_get_f32(const chord_gguf *g, const char *key, float *out, chord_error *err) {
    const kv_entry *e = NULL;
    chord_status s = lookup(g, key, &e, err);
    if (s != CHORD_OK) return s;
    if (e->type == CHORD_GGUF_FLOAT32) *out = e->val.f32;
    else if (e->type == CHORD_GGUF_FLOAT64) *out = (float)e->val.f64;
    else return chord_fail(err, CHORD_E_TYPE, "key '%s' has type %s, expected f32 or f64", key, chord_gguf_vtype_name(e->type));
    return CHORD_OK;
}

chord_status chord_gguf_get_bool(const chord_gguf *g, const char *key, int *out, chord_error *err) {
    const kv_entry *e = NULL;
    chord_status s = lookup(g, key, &e, err);
    if (s != CHORD_OK) return s;
    if (e->type != CHORD_GGUF_BOOL)
        return chord_fail(err, CHORD_E_TYPE, "key '%s' has type %s, expected bool", key, chord_gguf_vtype_name(e->type));
    *out = e->val.u64 != 0;
    return CHORD_OK;
}

chord_status chord_gguf_get_str(const chord_gguf *g, const char *key, chord_str *out, chord_error *err) {
    const kv_entry *e = NULL;
    chord_status s = lookup(g, key, &e, err);
    if (s != CHORD_OK) return s;
    if (e->type != CHORD_GGUF_STRING)
        return chord_fail(err, CHORD_E_TYPE, "key '%s' has type %s, expected str", key, chord_gguf_vtype_name(e->type));
    *out = e->val.str;
    return CHORD_OK;
}

chord_status chord_gguf_get_arr(const chord_gguf *g, const char *key, chord_gguf_vtype elem,
                                uint64_t *kv_index, uint64_t *n, chord_error *err) {
    const kv_entry *e = NULL;
    chord_status s = lookup(g, key, &e, err);
    if (s != CHORD_OK) return s;
    if (e->type != CHORD_GGUF_ARRAY)
        return chord_fail(err, CHORD_E_TYPE, "key '%s' has type %s, expected an array of %s", key,
                          chord_gguf_vtype_name(e->type), chord_gguf_vtype_name(elem));
    if (e->arr_type != elem)
        return chord_fail(err, CHORD_E_TYPE, "key '%s' is an array of %s, expected an array of %s", key,
                          chord_gguf_vtype_name(e->arr_type), chord_gguf_vtype_name(elem));
    *kv_index = (uint64_t)(e - g->kv);
    *n = e->arr_n;
    return CHORD_OK;
}
