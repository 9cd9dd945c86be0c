/*
 * json.c — the JSON writer of the wasm binding (see json.h). Objects are written flat by the
 * callers (model info, session stats); nesting is the caller's "{" and "}".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

static void put(chord_json *j, const char *s, size_t n) {
    if (j->oom) return;
    if (j->n + n + 1 > j->cap) {
        size_t cap = j->cap ? j->cap * 2 : 1024;
        while (cap < j->n + n + 1) cap *= 2;
        char *t = realloc(j->s, cap);
        if (!t) { j->oom = 1; return; }
        j->s = t;
        j->cap = cap;
    }
    memcpy(j->s + j->n, s, n);
    j->n += n;
    j->s[j->n] = 0;
}

void chord_json_raw(chord_json *j, const char *s) { put(j, s, strlen(s)); }

void chord_json_str(chord_json *j, const char *s) {
    put(j, "\"", 1);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') { esc[0] = '\\'; esc[1] = (char)c; put(j, esc, 2); }
        else if (c < 0x20) { snprintf(esc, sizeof esc, "\\u%04x", c); put(j, esc, 6); }
        else put(j, (const char *)&c, 1);
    }
    put(j, "\"", 1);
}

void chord_json_key(chord_json *j, const char *key) {
    if (j->n && j->s[j->n - 1] != '{') put(j, ",", 1);
    chord_json_str(j, key);
    put(j, ":", 1);
}

void chord_json_num(chord_json *j, const char *fmt, ...) {
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) { j->oom = 1; return; } /* never a cut number */
    put(j, tmp, (size_t)n);
}

char *chord_json_take(chord_json *j) {
    if (j->oom || !j->s) { free(j->s); j->s = NULL; return NULL; }
    char *s = j->s;
    j->s = NULL;
    return s;
}
