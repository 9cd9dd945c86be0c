/*
 * error.c — status names and messages (from the one list in chord.h) and the message writer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "core/error.h"

const char *chord_version(void) { return CHORD_VERSION_STRING; }

const char *chord_status_name(chord_status s) {
    switch (s) {
#define CHORD_X_NAME(sym, num, name, msg) case sym: return name;
        CHORD_STATUS_LIST(CHORD_X_NAME)
#undef CHORD_X_NAME
    }
    return "unknown";
}

const char *chord_status_message(chord_status s) {
    switch (s) {
#define CHORD_X_MSG(sym, num, name, msg) case sym: return msg;
        CHORD_STATUS_LIST(CHORD_X_MSG)
#undef CHORD_X_MSG
    }
    return "unknown status";
}

chord_status chord_fail(chord_error *err, chord_status code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

void chord_error_clear(chord_error *err) {
    if (err) {
        err->code = CHORD_OK;
        err->message[0] = '\0';
    }
}
