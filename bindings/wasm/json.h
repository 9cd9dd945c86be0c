/*
 * json.h — the one JSON writer of the wasm binding (json.c): a growable buffer, strings escaped
 * per RFC 8259 (quote, backslash and control characters; other bytes pass through, so UTF-8
 * stays UTF-8), numbers printed with a format the caller gives. Out of memory is sticky: every
 * later call is a no-op and chord_json_take returns NULL.
 */
#ifndef CHORD_WASM_JSON_H
#define CHORD_WASM_JSON_H
#include <stddef.h>

typedef struct { char *s; size_t n, cap; int oom; } chord_json;

void chord_json_raw(chord_json *j, const char *s);                 /* punctuation: "{", ",", "}" */
void chord_json_str(chord_json *j, const char *s);                 /* a quoted, escaped string */
void chord_json_key(chord_json *j, const char *key);               /* ,"key": (comma when needed) */
void chord_json_num(chord_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The NUL-terminated text (caller frees), or NULL after an allocation failure. */
char *chord_json_take(chord_json *j);

#endif
