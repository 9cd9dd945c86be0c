/*
 * no_helper.h — the helper-thread half of platform.h for targets where C cannot start a thread
 * (freestanding wasm, WASI preview1): chord_helper_new says so with `unsupported`, and the paged
 * weights then read synchronously. (A host that fills slots asynchronously plugs in behind the
 * weights module; docs/MEMORY64.md.) Included by exactly one .c file per such target.
 */
#ifndef CHORD_PLATFORM_NO_HELPER_H
#define CHORD_PLATFORM_NO_HELPER_H

#include "core/error.h"
#include "platform.h"

struct chord_helper { int unused; };
chord_status chord_helper_new(chord_helper **out, void (*fn)(void *), void *arg, chord_error *err) {
    (void)fn; (void)arg;
    *out = NULL;
    return chord_fail(err, CHORD_E_UNSUPPORTED, "no helper threads on this target");
}
void chord_helper_kick(chord_helper *h) { (void)h; }
void chord_helper_free(chord_helper *h) { (void)h; }

#endif
