/* strings.h — wasm-chord's freestanding libc. */
#ifndef CHORD_WASM_STRINGS_H
#define CHORD_WASM_STRINGS_H
#include <string.h>
#endif
