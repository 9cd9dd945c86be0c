/*
 * cli_inspect.c — `wasm-chord inspect -m FILE [--json]`: a GGUF file's header, metadata (long
 * arrays abbreviated to their type, count and first elements) and tensor table (name, type,
 * shape, offset, bytes) with totals. --json prints one JSON object for machines:
 *   {"file": .., "file_bytes": .., "version": .., "alignment": .., "data_offset": ..,
 *    "metadata": [{"key": .., "type": "u32", "value": 5},
 *                 {"key": .., "type": "arr", "elem_type": "str", "count": 512, "head": [..]}],
 *    "tensors": [{"name": .., "type": "q4_K", "shape": [4096, 32000], "offset": .., "bytes": ..}],
 *    "totals": {"tensors": .., "elements": .., "bytes": ..}}
 * Strings are escaped (JSON rules; invalid UTF-8 becomes U+FFFD) so any file prints valid JSON.
 * --plan prints the memory plan (cli_mem.c) instead.
 * Bad input: one line "wasm-chord: error: FILE: message" on stderr and exit status 1.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "chord.h"
#include "cli.h"
#include "gguf/gguf.h"

#define TEXT_HEAD 5        /* array elements shown in text mode */
#define JSON_HEAD 8        /* array elements shown in JSON */
#define TEXT_STR_MAX 72    /* longest string value shown in text mode (bytes) */

typedef unsigned long long ull;

static void usage(FILE *f) {
    fprintf(f,
        "usage: wasm-chord inspect -m FILE [--json]\n"
        "  -m, --model FILE   GGUF file to describe\n"
        "      --json         print one JSON object (metadata, tensors, totals)\n"
        "      --plan         print the memory plan instead: with -c N, -t N, -b N,\n"
        "                     --build native|wasm32|wasm64, --mem-budget SIZE, --paged,\n"
        "                     --cache-layers N (the weights, KV cache, scratch and fixed bytes)\n"
        "  -h, --help         this help\n");
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n) {
    size_t len = s[0] < 0x80 ? 1 : (s[0] >> 5) == 6 ? 2 : (s[0] >> 4) == 14 ? 3 : (s[0] >> 3) == 30 ? 4 : 0;
    if (len == 0 || len > n) return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    uint32_t cp = len == 1 ? s[0] : len == 2 ? s[0] & 0x1fu : len == 3 ? s[0] & 0x0fu : s[0] & 0x07u;
    for (size_t i = 1; i < len; i++) cp = (cp << 6) | (s[i] & 0x3fu);
    static const uint32_t min_cp[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (cp < min_cp[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return len;
}

/* Prints a quoted, escaped string (JSON escapes; also fine for humans), at most max bytes of it
 * followed by "..." when cut. */
static void put_quoted(FILE *f, const char *p, uint64_t n, uint64_t max) {
    const unsigned char *s = (const unsigned char *)p;
    uint64_t lim = n < max ? n : max;
    fputc('"', f);
    for (uint64_t i = 0; i < lim;) {
        unsigned char c = s[i];
        size_t len = utf8_len(s + i, (size_t)(n - i));
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c == '\n') fputs("\\n", f);
        else if (c == '\t') fputs("\\t", f);
        else if (c == '\r') fputs("\\r", f);
        else if (c < 0x20 || c == 0x7f) fprintf(f, "\\u%04x", c);
        else if (len == 0) fputs("\\ufffd", f);
        else fwrite(s + i, 1, len, f);
        i += len ? len : 1;
    }
    if (n > lim) fputs("...", f);
    fputc('"', f);
}

/* One array element or scalar of numeric type t from raw little-endian bytes. */
static void put_number(FILE *f, chord_gguf_vtype t, const uint8_t *b, int json) {
    uint64_t u = 0;
    static const uint8_t sz[CHORD_GGUF_NTYPES] = { 1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8 };
    for (unsigned i = 0; i < sz[t]; i++) u |= (uint64_t)b[i] << (8 * i);
    switch (t) {
    case CHORD_GGUF_INT8: fprintf(f, "%d", (int8_t)(uint8_t)u); break;
    case CHORD_GGUF_INT16: fprintf(f, "%d", (int16_t)(uint16_t)u); break;
    case CHORD_GGUF_INT32: fprintf(f, "%d", (int32_t)(uint32_t)u); break;
    case CHORD_GGUF_INT64: fprintf(f, "%lld", (long long)(int64_t)u); break;
    case CHORD_GGUF_BOOL: fputs(u ? "true" : "false", f); break;
    case CHORD_GGUF_FLOAT32:
    case CHORD_GGUF_FLOAT64: {
        double d;
        if (t == CHORD_GGUF_FLOAT32) {
            float x;
            uint32_t w = (uint32_t)u;
            memcpy(&x, &w, 4);
            d = x;
        } else {
            memcpy(&d, &u, 8);
        }
        if (json && !isfinite(d)) fputs("null", f); /* JSON has no NaN/Inf */
        else if (json) fprintf(f, t == CHORD_GGUF_FLOAT32 ? "%.9g" : "%.17g", d); /* round-trips */
        else fprintf(f, "%g", d);
        break;
    }
    default: fprintf(f, "%llu", (ull)u); break;
    }
}

/* Scalar kv i as bytes for put_number (the reader stores integers widened). */
static void scalar_bytes(const chord_gguf *g, uint64_t i, uint8_t b[8]) {
    const chord_gguf_value *v = chord_gguf_value_at(g, i);
    chord_gguf_vtype t = chord_gguf_kv_type(g, i);
    uint64_t u = v->u64;
    if (t == CHORD_GGUF_FLOAT32) {
        uint32_t w;
        memcpy(&w, &v->f32, 4);
        u = w;
    } else if (t == CHORD_GGUF_FLOAT64) {
        memcpy(&u, &v->f64, 8);
    }
    for (int k = 0; k < 8; k++) b[k] = (uint8_t)(u >> (8 * k));
}

/* The value of kv i: scalar, or "[type x count] first, elements, ..." */
static void put_value(FILE *f, const chord_gguf *g, uint64_t i, int json) {
    chord_gguf_vtype t = chord_gguf_kv_type(g, i);
    if (t == CHORD_GGUF_STRING) {
        chord_str s = chord_gguf_value_at(g, i)->str;
        put_quoted(f, s.ptr, s.len, json ? UINT64_MAX : TEXT_STR_MAX);
        return;
    }
    if (t != CHORD_GGUF_ARRAY) {
        uint8_t b[8];
        scalar_bytes(g, i, b);
        put_number(f, t, b, json);
        return;
    }
    chord_gguf_vtype et = chord_gguf_arr_type(g, i);
    uint64_t n = chord_gguf_arr_n(g, i), head = json ? JSON_HEAD : TEXT_HEAD;
    static const uint8_t sz[CHORD_GGUF_NTYPES] = { 1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8 };
    if (json) fprintf(f, "\"elem_type\": \"%s\", \"count\": %llu, \"head\": [", chord_gguf_vtype_name(et), (ull)n);
    else fprintf(f, "[%s x %llu]", chord_gguf_vtype_name(et), (ull)n);
    const uint8_t *data = chord_gguf_arr_data(g, i);
    for (uint64_t j = 0; j < n && j < head; j++) {
        fputs(j ? ", " : json ? "" : " ", f);
        if (et == CHORD_GGUF_STRING) {
            chord_str s = chord_gguf_arr_str(g, i, j);
            put_quoted(f, s.ptr, s.len, json ? UINT64_MAX : TEXT_STR_MAX / 2);
        } else {
            put_number(f, et, data + j * sz[et], json);
        }
    }
    if (json) fputc(']', f);
    else if (n > head) fputs(", ...", f);
}

static void put_shape(FILE *f, const chord_gguf_tensor *t) {
    fputc('[', f);
    for (uint32_t d = 0; d < t->n_dims; d++) fprintf(f, "%s%lld", d ? ", " : "", (long long)t->ne[d]);
    fputc(']', f);
}

static void print_text(FILE *f, const char *path, const chord_source *src, const chord_gguf *g) {
    fprintf(f, "file: %s (%llu bytes)\n", path, (ull)src->size);
    fprintf(f, "gguf: version %u, alignment %llu, data offset %llu\n", chord_gguf_version(g),
            (ull)chord_gguf_alignment(g), (ull)chord_gguf_data_off(g));
    fprintf(f, "\nmetadata: %llu keys\n", (ull)chord_gguf_n_kv(g));
    for (uint64_t i = 0; i < chord_gguf_n_kv(g); i++) {
        fprintf(f, "  %-44s %-4s ", chord_gguf_key(g, i), chord_gguf_vtype_name(chord_gguf_kv_type(g, i)));
        put_value(f, g, i, 0);
        fputc('\n', f);
    }
    uint64_t n = chord_gguf_n_tensors(g), elems = 0, bytes = 0;
    fprintf(f, "\ntensors: %llu\n", (ull)n);
    if (n) fprintf(f, "  %5s  %-36s %-6s %-24s %12s %12s\n", "#", "name", "type", "shape", "offset", "bytes");
    for (uint64_t i = 0; i < n; i++) {
        const chord_gguf_tensor *t = chord_gguf_tensor_at(g, i);
        char shape[96];
        int k = 0;
        for (uint32_t d = 0; d < t->n_dims; d++)
            k += snprintf(shape + k, sizeof shape - (size_t)k, "%s%lld", d ? " x " : "", (long long)t->ne[d]);
        fprintf(f, "  %5llu  %-36s %-6s %-24s %12llu %12llu\n", (ull)i, t->name.ptr, chord_type_name(t->type), shape,
                (ull)t->off, (ull)t->n_bytes);
        elems += t->n_elems;
        bytes += t->n_bytes;
    }
    fprintf(f, "\ntotals: %llu tensors, %llu elements, %llu bytes (%.2f MiB) of %llu in the file\n", (ull)n, (ull)elems,
            (ull)bytes, (double)bytes / (1024.0 * 1024.0), (ull)src->size);
}

static void print_json(FILE *f, const char *path, const chord_source *src, const chord_gguf *g) {
    fputs("{\"file\": ", f);
    put_quoted(f, path, strlen(path), UINT64_MAX);
    fprintf(f, ", \"file_bytes\": %llu, \"version\": %u, \"alignment\": %llu, \"data_offset\": %llu,\n \"metadata\": [",
            (ull)src->size, chord_gguf_version(g), (ull)chord_gguf_alignment(g), (ull)chord_gguf_data_off(g));
    for (uint64_t i = 0; i < chord_gguf_n_kv(g); i++) {
        const char *key = chord_gguf_key(g, i);
        chord_gguf_vtype t = chord_gguf_kv_type(g, i);
        fputs(i ? ",\n  {\"key\": " : "\n  {\"key\": ", f);
        put_quoted(f, key, strlen(key), UINT64_MAX);
        fprintf(f, ", \"type\": \"%s\", ", chord_gguf_vtype_name(t));
        if (t != CHORD_GGUF_ARRAY) fputs("\"value\": ", f);
        put_value(f, g, i, 1);
        fputc('}', f);
    }
    fputs("],\n \"tensors\": [", f);
    uint64_t n = chord_gguf_n_tensors(g), elems = 0, bytes = 0;
    for (uint64_t i = 0; i < n; i++) {
        const chord_gguf_tensor *t = chord_gguf_tensor_at(g, i);
        fputs(i ? ",\n  {\"name\": " : "\n  {\"name\": ", f);
        put_quoted(f, t->name.ptr, t->name.len, UINT64_MAX);
        fprintf(f, ", \"type\": \"%s\", \"shape\": ", chord_type_name(t->type));
        put_shape(f, t);
        fprintf(f, ", \"offset\": %llu, \"bytes\": %llu}", (ull)t->off, (ull)t->n_bytes);
        elems += t->n_elems;
        bytes += t->n_bytes;
    }
    fprintf(f, "],\n \"totals\": {\"tensors\": %llu, \"elements\": %llu, \"bytes\": %llu}}\n", (ull)n, (ull)elems,
            (ull)bytes);
}

int chord_cli_inspect(int argc, char **argv) {
    const char *path = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--plan")) return chord_cli_plan(argc, argv);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if ((!strcmp(argv[i], "-m") || !strcmp(argv[i], "--model")) && i + 1 < argc) {
            path = argv[++i];
        } else {
            fprintf(stderr, "wasm-chord: error: inspect: unexpected argument '%s' (try --help)\n", argv[i]);
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "wasm-chord: error: inspect: no file given (-m FILE; try --help)\n");
        return 2;
    }
    chord_source src;
    chord_error err = { 0 };
    chord_gguf *g = NULL;
    if (chord_source_from_file(&src, path, &err) != CHORD_OK) {
        fprintf(stderr, "wasm-chord: error: %s\n", err.message);
        return 1;
    }
    if (chord_gguf_open(&g, &src, &err) != CHORD_OK) {
        fprintf(stderr, "wasm-chord: error: %s: %s\n", path, err.message);
        chord_source_close(&src);
        return 1;
    }
    if (json) print_json(stdout, path, &src, g);
    else print_text(stdout, path, &src, g);
    chord_gguf_close(g);
    chord_source_close(&src);
    return fflush(stdout) == 0 ? 0 : 1;
}
