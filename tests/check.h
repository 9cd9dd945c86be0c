/*
 * check.h — the tiny test harness: CHECK(cond) records a failure and continues; a test file's
 * main returns check_report() (0 if everything passed).
 */
#ifndef CHORD_CHECK_H
#define CHORD_CHECK_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures = 0, check_count = 0;

#define CHECK(cond) do { check_count++; if (!(cond)) { check_failures++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECKF(cond, ...) do { check_count++; if (!(cond)) { check_failures++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)
#define CHECK_OK(expr, errp) do { chord_status s_ = (expr); check_count++; if (s_ != CHORD_OK) { \
    check_failures++; fprintf(stderr, "%s:%d: %s -> %s: %s\n", __FILE__, __LINE__, #expr, \
    chord_status_name(s_), (errp) ? (errp)->message : ""); } } while (0)

__attribute__((unused)) static int check_report(const char *name) {
    if (check_failures) fprintf(stderr, "%s: %d of %d checks FAILED\n", name, check_failures, check_count);
    else printf("%s: all %d checks passed\n", name, check_count);
    return check_failures ? 1 : 0;
}

/* Path to a file of the test material: $CHORD_SHARED, else the repository (models/, vocab/); NULL with a SKIP message when absent. */
__attribute__((unused)) static const char *check_shared_path(const char *rel, char *buf, size_t cap) {
    const char *root = getenv("CHORD_SHARED");
    if (!root) root = ".";  /* the repository carries models/ and vocab/ */
    snprintf(buf, cap, "%s/%s", root, rel);
    FILE *f = fopen(buf, "rb");
    if (!f) { printf("SKIP: %s not found (set CHORD_SHARED)\n", buf); return NULL; }
    fclose(f);
    return buf;
}
#endif
