/*
 * gguf.h — internal interface of the GGUF v2/v3 reader (gguf.c) and writer (gguf_write.c).
 * The reader works over a chord_source, validates everything before allocating, and keeps all
 * metadata in memory owned by the chord_gguf handle. Tensor data is never read by the reader.
 */
#ifndef CHORD_GGUF_H
#define CHORD_GGUF_H

#include "chord.h"
#include "quant/quant.h"

typedef enum {
    CHORD_GGUF_UINT8 = 0, CHORD_GGUF_INT8 = 1, CHORD_GGUF_UINT16 = 2, CHORD_GGUF_INT16 = 3,
    CHORD_GGUF_UINT32 = 4, CHORD_GGUF_INT32 = 5, CHORD_GGUF_FLOAT32 = 6, CHORD_GGUF_BOOL = 7,
    CHORD_GGUF_STRING = 8, CHORD_GGUF_ARRAY = 9, CHORD_GGUF_UINT64 = 10, CHORD_GGUF_INT64 = 11,
    CHORD_GGUF_FLOAT64 = 12, CHORD_GGUF_NTYPES = 13
} chord_gguf_vtype;

typedef struct chord_str { const char *ptr; uint64_t len; } chord_str; /* ptr is NUL-terminated */

typedef struct chord_gguf_tensor {
    chord_str name;
    uint32_t n_dims;
    int64_t ne[4];        /* ne[0] is the row length (contiguous); unused dims are 1 */
    chord_type type;
    uint64_t off;         /* absolute offset of the data in the source */
    uint64_t n_bytes;
    uint64_t n_elems;
} chord_gguf_tensor;

typedef struct chord_gguf chord_gguf;

/* Parses header, metadata and tensor infos; does not touch tensor data beyond checking that
 * the source is long enough to hold it. `src` must outlive the handle. */
chord_status chord_gguf_open(chord_gguf **out, const chord_source *src, chord_error *err);
void chord_gguf_close(chord_gguf *g);

uint32_t chord_gguf_version(const chord_gguf *g);
uint64_t chord_gguf_alignment(const chord_gguf *g);
uint64_t chord_gguf_data_off(const chord_gguf *g);   /* start of the tensor data section */

/* Metadata */
uint64_t chord_gguf_n_kv(const chord_gguf *g);
int64_t chord_gguf_find_key(const chord_gguf *g, const char *key);          /* -1 if absent */
const char *chord_gguf_key(const chord_gguf *g, uint64_t i);
chord_gguf_vtype chord_gguf_kv_type(const chord_gguf *g, uint64_t i);
chord_gguf_vtype chord_gguf_arr_type(const chord_gguf *g, uint64_t i);     /* for ARRAY kvs */
uint64_t chord_gguf_arr_n(const chord_gguf *g, uint64_t i);
/* Raw little-endian element storage of a numeric array (element size from its type); NULL for
 * string arrays. */
const void *chord_gguf_arr_data(const chord_gguf *g, uint64_t i);
chord_str chord_gguf_arr_str(const chord_gguf *g, uint64_t i, uint64_t j); /* string arrays */
/* Scalar value of kv i as raw union */
typedef union { uint64_t u64; int64_t i64; double f64; float f32; uint32_t u32; int32_t i32; uint8_t b; chord_str str; } chord_gguf_value;
/* Integers are stored widened: unsigned types in .u64, signed in .i64 (on little-endian targets
 * .u32/.i32/.b alias the same value); bool in .u64 (0/1 as stored); arrays: all zero. */
const chord_gguf_value *chord_gguf_value_at(const chord_gguf *g, uint64_t i);

/* Typed getters by key. CHORD_E_NOT_FOUND when absent, CHORD_E_TYPE on a type mismatch (the
 * integer getters accept any integer type whose value fits; get_f32 accepts f32 and f64). */
chord_status chord_gguf_get_u32(const chord_gguf *g, const char *key, uint32_t *out, chord_error *err);
chord_status chord_gguf_get_i32(const chord_gguf *g, const char *key, int32_t *out, chord_error *err);
chord_status chord_gguf_get_u64(const chord_gguf *g, const char *key, uint64_t *out, chord_error *err);
chord_status chord_gguf_get_f32(const chord_gguf *g, const char *key, float *out, chord_error *err);
chord_status chord_gguf_get_bool(const chord_gguf *g, const char *key, int *out, chord_error *err);
chord_status chord_gguf_get_str(const chord_gguf *g, const char *key, chord_str *out, chord_error *err);
/* Array lookup: checks it is an array of `elem` type; returns index of kv, n elements. */
chord_status chord_gguf_get_arr(const chord_gguf *g, const char *key, chord_gguf_vtype elem,
                                uint64_t *kv_index, uint64_t *n, chord_error *err);

/* Tensors */
uint64_t chord_gguf_n_tensors(const chord_gguf *g);
const chord_gguf_tensor *chord_gguf_tensor_at(const chord_gguf *g, uint64_t i);
const chord_gguf_tensor *chord_gguf_find_tensor(const chord_gguf *g, const char *name); /* NULL if absent */

const char *chord_gguf_vtype_name(chord_gguf_vtype t);

/* ---- Writer (native tools and tests) -------------------------------------------------------
 * Collect metadata and tensor infos, then stream: header + metadata + infos are written by
 * chord_gguf_writer_begin, then each tensor's bytes in order with chord_gguf_writer_tensor_data. */
typedef struct chord_gguf_writer chord_gguf_writer;
chord_gguf_writer *chord_gguf_writer_new(void);   /* NULL on OOM; version 3, alignment 32 */
void chord_gguf_writer_free(chord_gguf_writer *w);
void chord_gguf_writer_set_alignment(chord_gguf_writer *w, uint32_t alignment);
/* 2 or 3 (the layouts are identical; tests write both). */
void chord_gguf_writer_set_version(chord_gguf_writer *w, uint32_t version);
/* Any scalar type: `v` points to the value in its C type (uint8_t, int8_t, uint16_t, int16_t,
 * uint32_t, int32_t, float, uint8_t for BOOL, uint64_t, int64_t, double); for STRING, `v` is
 * the NUL-terminated string itself. */
chord_status chord_gguf_writer_kv_scalar(chord_gguf_writer *w, const char *key, chord_gguf_vtype t,
                                         const void *v);
chord_status chord_gguf_writer_kv_u32(chord_gguf_writer *w, const char *key, uint32_t v);
chord_status chord_gguf_writer_kv_i32(chord_gguf_writer *w, const char *key, int32_t v);
chord_status chord_gguf_writer_kv_u64(chord_gguf_writer *w, const char *key, uint64_t v);
chord_status chord_gguf_writer_kv_f32(chord_gguf_writer *w, const char *key, float v);
chord_status chord_gguf_writer_kv_bool(chord_gguf_writer *w, const char *key, int v);
chord_status chord_gguf_writer_kv_str(chord_gguf_writer *w, const char *key, const char *v);
/* Any scalar or array kv copied from another file (used to copy vocabularies). */
chord_status chord_gguf_writer_kv_copy(chord_gguf_writer *w, const chord_gguf *g, uint64_t kv_index);
chord_status chord_gguf_writer_kv_arr(chord_gguf_writer *w, const char *key, chord_gguf_vtype elem,
                                      const void *data, uint64_t n); /* numeric arrays */
chord_status chord_gguf_writer_kv_arr_str(chord_gguf_writer *w, const char *key,
                                          const char *const *strs, uint64_t n);
chord_status chord_gguf_writer_add_tensor(chord_gguf_writer *w, const char *name, chord_type type,
                                          uint32_t n_dims, const int64_t *ne);
/* Writes header, metadata, tensor infos and padding to `path`. */
chord_status chord_gguf_writer_begin(chord_gguf_writer *w, const char *path, chord_error *err);
/* Tensor data, in the order tensors were added; n_bytes must match the tensor's size. */
chord_status chord_gguf_writer_tensor_data(chord_gguf_writer *w, const void *data, uint64_t n_bytes,
                                           chord_error *err);
/* The current tensor's bytes in pieces (any split; the tensor ends when its size is reached),
 * so a multi-GB tensor never has to be in memory at once. */
chord_status chord_gguf_writer_tensor_part(chord_gguf_writer *w, const void *data, uint64_t n_bytes,
                                           chord_error *err);
chord_status chord_gguf_writer_end(chord_gguf_writer *w, chord_error *err);

#endif
