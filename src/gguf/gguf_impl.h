/*
 * gguf_impl.h — internal to src/gguf: the reader's handle, shared by gguf.c (parsing) and
 * gguf_get.c (the accessors and typed getters). Nothing outside src/gguf includes it.
 */
#ifndef CHORD_GGUF_IMPL_H
#define CHORD_GGUF_IMPL_H

#include "gguf/gguf.h"

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char mem[];
} arena_chunk;

typedef struct { arena_chunk *head; size_t next_cap; } arena;

typedef struct {
    chord_str key;
    chord_gguf_vtype type, arr_type;
    uint64_t arr_n;
    chord_gguf_value val;   /* scalars; zero for arrays */
    const void *arr_data;   /* numeric arrays: raw little-endian elements */
    chord_str *arr_strs;    /* string arrays */
} kv_entry;

struct chord_gguf {
    const chord_source *src;
    uint32_t version;
    uint64_t alignment, data_off;
    uint64_t n_kv, n_tensors;
    kv_entry *kv;
    chord_gguf_tensor *tensors;
    uint32_t *kv_index, *t_index; /* open-addressing hash tables of index+1; 0 = empty */
    uint64_t kv_mask, t_mask;
    arena arena;
};

/* The index of the name key[0..len) in an index built over n names (first, first + stride, ...),
 * or -1. */
int64_t chord_gguf_index_find(const uint32_t *table, uint64_t mask, const void *first, size_t stride,
                              const char *key, uint64_t len);

#endif
