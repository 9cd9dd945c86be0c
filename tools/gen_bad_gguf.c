/*
 * gen_bad_gguf.c — writes the malformed-GGUF corpus (the .gguf files in tests/data/bad) and its manifest
 * tests/data/bad/EXPECTED: one line per file, "<file>\t<status name>\t<substring the reader's
 * error message must contain>". Deterministic: rerunning it reproduces the committed files.
 *
 * Each case starts from the same small valid file (two kvs, one or two f32 tensors) built byte
 * by byte here, not with the library writer, because the writer refuses to produce bad files.
 *
 * usage: gen_bad_gguf [DIR]     (default tests/data/bad)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { uint8_t *p; size_t n, cap; } buf;

static void put(buf *b, const void *src, size_t n) {
    if (b->cap - b->n < n) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap - b->n < n) cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p) { fprintf(stderr, "gen_bad_gguf: out of memory\n"); exit(1); }
        b->cap = cap;
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}
static void le(buf *b, uint64_t v, unsigned n) {
    uint8_t t[8];
    for (unsigned i = 0; i < n; i++) t[i] = (uint8_t)(v >> (8 * i));
    put(b, t, n);
}
static void u32(buf *b, uint32_t v) { le(b, v, 4); }
static void u64(buf *b, uint64_t v) { le(b, v, 8); }
static void str(buf *b, const char *s) { u64(b, strlen(s)); put(b, s, strlen(s)); }
static void zeros(buf *b, size_t n) { for (size_t i = 0; i < n; i++) le(b, 0, 1); }
static void pad(buf *b, size_t align) { while (b->n % align) le(b, 0, 1); }

static void header(buf *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    put(b, "GGUF", 4);
    u32(b, version);
    u64(b, n_tensors);
    u64(b, n_kv);
}
static void kv_str(buf *b, const char *k, const char *v) { str(b, k); u32(b, 8); str(b, v); }
static void kv_u32(buf *b, const char *k, uint32_t v) { str(b, k); u32(b, 4); u32(b, v); }
static void tinfo(buf *b, const char *name, uint32_t n_dims, const int64_t *ne, uint32_t type, uint64_t off) {
    str(b, name);
    u32(b, n_dims);
    for (uint32_t d = 0; d < n_dims; d++) u64(b, (uint64_t)ne[d]);
    u32(b, type);
    u64(b, off);
}

/* The common valid prefix: header + 2 kvs (extra kvs/tensors counted by the caller). */
static void base_kvs(buf *b, uint64_t n_tensors, uint64_t n_kv) {
    header(b, 3, n_tensors, n_kv);
    kv_str(b, "general.architecture", "llama");
    kv_u32(b, "test.value", 7);
}

/* One valid f32 tensor "a" of 8x2 (64 bytes) with the given shape/type/offset overrides. */
static void one_tensor_file(buf *b, uint32_t n_dims, const int64_t *ne, uint32_t type, uint64_t off, size_t data) {
    base_kvs(b, 1, 2);
    tinfo(b, "a", n_dims, ne, type, off);
    pad(b, 32);
    zeros(b, data);
}

static FILE *manifest;
static const char *dir;

static void emit(const char *name, buf *b, const char *status, const char *expect) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || (b->n && fwrite(b->p, 1, b->n, f) != b->n) || fclose(f) != 0) {
        fprintf(stderr, "gen_bad_gguf: cannot write %s\n", path);
        exit(1);
    }
    fprintf(manifest, "%s\t%s\t%s\n", name, status, expect);
    free(b->p);
    memset(b, 0, sizeof *b);
}

static void header_cases(void) {
    buf b = { 0 };
    emit("empty.gguf", &b, "format", "0 bytes, shorter than the 24-byte GGUF header");
    put(&b, "GGUF\3\0\0\0\0\0\0\0", 12);
    emit("short_header.gguf", &b, "format", "12 bytes, shorter than the 24-byte GGUF header");
    header(&b, 3, 0, 0); memcpy(b.p, "GGML", 4);
    emit("bad_magic.gguf", &b, "format", "wrong magic: expected 'GGUF' (47 47 55 46), found 'GGML'");
    header(&b, 0, 0, 0);
    emit("version0.gguf", &b, "format", "bad GGUF version 0");
    header(&b, 1, 0, 0);
    emit("version1.gguf", &b, "unsupported", "GGUF version 1 is not supported");
    header(&b, 4, 0, 0);
    emit("version4.gguf", &b, "format", "bad GGUF version 4");
    header(&b, 0x03000000u, 0, 0);
    emit("version_big_endian.gguf", &b, "unsupported", "big-endian GGUF v3");
    base_kvs(&b, 0, 1ull << 40);
    emit("n_kv_huge.gguf", &b, "format", "n_kv 1099511627776 is more than the file could hold");
    base_kvs(&b, 1ull << 40, 2);
    emit("n_tensors_huge.gguf", &b, "format", "n_tensors 1099511627776 is more than the file could hold");
    base_kvs(&b, 2, 3);
    emit("counts_sum.gguf", &b, "format", "n_kv 3 and n_tensors 2 are more than the file could hold");
}

static void kv_cases(void) {
    buf b = { 0 };
    header(&b, 3, 0, 1); u64(&b, 3000); zeros(&b, 40);
    emit("key_len_beyond_file.gguf", &b, "format", "kv #0 key: string length 3000 at offset 24 exceeds the 40 bytes left");
    header(&b, 3, 0, 1); u64(&b, 5000); zeros(&b, 5100);
    emit("key_len_cap.gguf", &b, "format", "kv #0 key: string length 5000 at offset 24 exceeds the cap of 4096");
    /* a key with a NUL byte could never be found by name (fuzz_gguf_meta's first finding) */
    base_kvs(&b, 0, 3); u64(&b, 4); put(&b, "te\0s", 4); u32(&b, 4); u32(&b, 1);
    emit("key_nul.gguf", &b, "format", "kv #2 key 'te...' contains a NUL byte");
    base_kvs(&b, 1, 2); u64(&b, 3); put(&b, "a\0b", 3); u32(&b, 1); u64(&b, 8); u32(&b, 0); u64(&b, 0);
    pad(&b, 32); zeros(&b, 32);
    emit("tensor_name_nul.gguf", &b, "format", "tensor #0 name 'a...' contains a NUL byte");
    base_kvs(&b, 0, 3); str(&b, "s"); u32(&b, 8); u64(&b, 1000); zeros(&b, 16);
    emit("str_len_beyond_file.gguf", &b, "format", "kv #2 's': string length 1000 at offset");
    base_kvs(&b, 0, 3); str(&b, "s"); u32(&b, 8); u64(&b, 1ull << 40); zeros(&b, 16);
    emit("str_len_cap.gguf", &b, "format", "kv #2 's': string length 1099511627776 at offset 108 exceeds the cap of 16777216");
    base_kvs(&b, 0, 3); str(&b, "t"); u32(&b, 13); u32(&b, 0);
    emit("unknown_vtype.gguf", &b, "format", "kv #2 't': unknown value type id 13");
    base_kvs(&b, 0, 3); str(&b, "t"); u32(&b, 0xffffffffu); u32(&b, 0);
    emit("unknown_vtype_max.gguf", &b, "format", "unknown value type id 4294967295");
    base_kvs(&b, 0, 3); str(&b, "arr"); u32(&b, 9); u32(&b, 99); u64(&b, 1); zeros(&b, 8);
    emit("unknown_array_elem.gguf", &b, "format", "kv #2 'arr': unknown array element type id 99");
    base_kvs(&b, 0, 3); str(&b, "arr"); u32(&b, 9); u32(&b, 9); u64(&b, 1); u32(&b, 4); u64(&b, 1); u32(&b, 5);
    emit("nested_array.gguf", &b, "format", "kv #2 'arr': nested array (array of arrays)");
    base_kvs(&b, 0, 3); str(&b, "arr"); u32(&b, 9); u32(&b, 10); u64(&b, 1ull << 62); zeros(&b, 16);
    emit("array_overflow.gguf", &b, "format", "array count 4611686018427387904 x element size 8 overflows 64 bits");
    base_kvs(&b, 0, 3); str(&b, "arr"); u32(&b, 9); u32(&b, 4); u64(&b, 1000); zeros(&b, 16);
    emit("array_beyond_file.gguf", &b, "format", "kv #2 'arr': array of 1000 u32 (4000 bytes) exceeds the 16 bytes left");
    base_kvs(&b, 0, 3); str(&b, "arr"); u32(&b, 9); u32(&b, 8); u64(&b, 1ull << 40); zeros(&b, 16);
    emit("string_array_count.gguf", &b, "format", "string array count 1099511627776 exceeds what the 16 bytes left");
    base_kvs(&b, 0, 3); str(&b, "arr"); u32(&b, 9); u32(&b, 8); u64(&b, 2); str(&b, "x"); u64(&b, 99);
    emit("string_array_elem_beyond.gguf", &b, "format", "kv #2 'arr': string 1 length 99 at offset");
    base_kvs(&b, 0, 3); kv_u32(&b, "general.alignment", 0);
    emit("alignment_zero.gguf", &b, "format", "general.alignment is 0, must be a non-zero power of two");
    base_kvs(&b, 0, 3); kv_u32(&b, "general.alignment", 48);
    emit("alignment_npot.gguf", &b, "format", "general.alignment is 48, must be a non-zero power of two");
    base_kvs(&b, 0, 3); str(&b, "general.alignment"); u32(&b, 10); u64(&b, 32);
    emit("alignment_type.gguf", &b, "format", "general.alignment has type u64, expected u32");
    base_kvs(&b, 0, 3); kv_str(&b, "general.architecture", "qwen2");
    emit("duplicate_key.gguf", &b, "format", "duplicate key 'general.architecture' (kv #0 and #2)");
    base_kvs(&b, 0, 3); str(&b, "cut"); u32(&b, 8); u64(&b, 10); put(&b, "abc", 3);
    emit("truncated_kv.gguf", &b, "format", "kv #2 'cut': string length 10 at offset");
}

static void tensor_cases(void) {
    buf b = { 0 };
    const int64_t ne2[2] = { 8, 2 };
    one_tensor_file(&b, 0, ne2, 0, 0, 64);
    emit("ndims0.gguf", &b, "format", "tensor 'a': n_dims 0 (must be 1..4)");
    const int64_t ne5[5] = { 8, 2, 1, 1, 1 };
    one_tensor_file(&b, 5, ne5, 0, 0, 64);
    emit("ndims5.gguf", &b, "format", "tensor 'a': n_dims 5 (must be 1..4)");
    const int64_t nez[2] = { 8, 0 };
    one_tensor_file(&b, 2, nez, 0, 0, 64);
    emit("dim_zero.gguf", &b, "format", "tensor 'a': dimension ne[1] = 0 (must be positive)");
    const int64_t neneg[2] = { -5, 2 };
    one_tensor_file(&b, 2, neneg, 0, 0, 64);
    emit("dim_negative.gguf", &b, "format", "tensor 'a': dimension ne[0] = -5 (must be positive)");
    const int64_t nebig[2] = { 1ll << 32, 1ll << 32 };
    one_tensor_file(&b, 2, nebig, 0, 0, 64);
    emit("dim_product_overflow.gguf", &b, "format", "tensor 'a': element count overflows");
    const int64_t nebytes[2] = { 1ll << 31, 1ll << 31 };
    one_tensor_file(&b, 2, nebytes, 0, 0, 64);
    emit("byte_size_overflow.gguf", &b, "format", "tensor 'a': byte size overflows (4611686018427387904 elements of type f32)");
    one_tensor_file(&b, 2, ne2, 99, 0, 64);
    emit("type_out_of_range.gguf", &b, "format", "tensor 'a': type id 99 out of range");
    one_tensor_file(&b, 2, ne2, 4, 0, 64);
    emit("type_removed.gguf", &b, "format", "tensor 'a': type id 4 out of range");
    const int64_t ne256[2] = { 256, 1 };
    one_tensor_file(&b, 2, ne256, 16, 0, 128);
    emit("type_unsupported.gguf", &b, "unsupported", "tensor 'a': tensor type iq2_xxs (id 16) is not supported");
    const int64_t ne33[2] = { 33, 2 };
    one_tensor_file(&b, 2, ne33, 2, 0, 64);
    emit("block_multiple.gguf", &b, "format", "tensor 'a': ne[0] = 33 is not a multiple of the block size 32 of type q4_0");
    one_tensor_file(&b, 2, ne2, 0, 4, 96);
    emit("offset_misaligned.gguf", &b, "format", "tensor 'a': offset 4 is not a multiple of the alignment 32");
    one_tensor_file(&b, 2, ne2, 0, 1u << 20, 64);
    emit("offset_beyond.gguf", &b, "format", "tensor 'a': offset 1048576 is beyond the data section");
    one_tensor_file(&b, 2, ne2, 0, 0, 40);
    emit("truncated_data.gguf", &b, "format", "file truncated inside tensor data: tensor 'a' needs bytes");
    base_kvs(&b, 2, 2); tinfo(&b, "a", 2, ne2, 0, 0); tinfo(&b, "b", 2, ne2, 0, 32); pad(&b, 32); zeros(&b, 128);
    emit("overlap.gguf", &b, "format", "tensor 'b' at data offset 32 overlaps tensor 'a' at [0, 64)");
    base_kvs(&b, 2, 2); tinfo(&b, "a", 2, ne2, 0, 0); tinfo(&b, "a", 2, ne2, 0, 64); pad(&b, 32); zeros(&b, 128);
    emit("duplicate_tensor.gguf", &b, "format", "duplicate tensor name 'a' (tensors #0 and #1)");
    base_kvs(&b, 1, 2); u64(&b, 5000); zeros(&b, 5100);
    emit("tensor_name_cap.gguf", &b, "format", "tensor #0 name: string length 5000 at offset 95 exceeds the cap of 4096");
    base_kvs(&b, 1, 2); tinfo(&b, "a", 2, ne2, 0, 0); b.n -= 5;
    emit("truncated_info.gguf", &b, "format", "file truncated: tensor offset needs 8 bytes");
}

int main(int argc, char **argv) {
    dir = argc > 1 ? argv[1] : "tests/data/bad";
    char path[512];
    snprintf(path, sizeof path, "%s/EXPECTED", dir);
    manifest = fopen(path, "w");
    if (!manifest) {
        fprintf(stderr, "gen_bad_gguf: cannot write %s\n", path);
        return 1;
    }
    fprintf(manifest, "# file\tstatus\texpected error substring (generated by tools/gen_bad_gguf.c)\n");
    header_cases();
    kv_cases();
    tensor_cases();
    return fclose(manifest) != 0;
}
