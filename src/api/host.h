/*
 * host.h — the one internal header a host binding (bindings/wasm) may use beyond chord.h.
 * Everything else a binding needs is public API; this names only what a host with threads that
 * cannot call into the engine requires.
 */
#ifndef CHORD_API_HOST_H
#define CHORD_API_HOST_H

#include <stdatomic.h>
#include "chord.h"

/* The word chord_session_cancel stores 1 into, for a thread that can only write memory (a JS
 * main thread doing Atomics.store on the wasm memory). Storing 1 there is exactly
 * chord_session_cancel, scoped the same way. Lives as long as the session. */
atomic_int *chord_session_cancel_word(chord_session *s);

#endif
