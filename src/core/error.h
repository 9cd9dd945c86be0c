/* error.h — filling a caller's chord_error. */
#ifndef CHORD_ERROR_H
#define CHORD_ERROR_H
#include "chord.h"

#if defined(__GNUC__)
#define CHORD_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CHORD_PRINTF(a, b)
#endif

/* Sets err (if non-NULL) to code and a formatted message; returns code so callers can write
 * `return chord_fail(err, CHORD_E_FORMAT, "tensor '%s': ...", name);` */
chord_status chord_fail(chord_error *err, chord_status code, const char *fmt, ...) CHORD_PRINTF(3, 4);
void chord_error_clear(chord_error *err);

#endif
