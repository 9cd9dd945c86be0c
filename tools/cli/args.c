/*
 * args.c — checked parsing of command-line values for every subcommand: a number is accepted
 * only when the whole argument is one decimal number inside the option's range (no silent
 * truncation: `-c 4294967297` is an error, not 1), and a file option reads the whole file.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int chord_cli_int(const char *s, long long min, long long max, long long *out) {
    if (!s || !*s) return 0;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) return 0;
    *out = v;
    return 1;
}

int chord_cli_u64(const char *s, uint64_t *out) {
    if (!s || !*s) return 0;
    const char *p = s;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '-' || *p == '+') return 0; /* strtoull would wrap "-1" to 2^64 - 1 */
    char *end;
    errno = 0;
    unsigned long long v = strtoull(p, &end, 10);
    if (errno || end == p || *end) return 0;
    *out = (uint64_t)v;
    return 1;
}

int chord_cli_float(const char *s, float *out) {
    if (!s || !*s) return 0;
    char *end;
    errno = 0;
    float v = strtof(s, &end);
    if (errno || end == s || *end) return 0;
    *out = v;
    return 1;
}

char *chord_cli_read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, len = 0;
    char *b = malloc(cap + 1);
    for (size_t got; b && (got = fread(b + len, 1, cap - len, f)) > 0;) {
        len += got;
        if (len == cap) {
            char *nb = realloc(b, (cap *= 2) + 1);
            if (!nb) { free(b); b = NULL; }
            else b = nb;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad || !b) { free(b); return NULL; }
    b[len] = 0;
    *n = len;
    return b;
}
