/* stdio.h — wasm-chord's freestanding libc: only formatting into buffers (no FILE). */
#ifndef CHORD_WASM_STDIO_H
#define CHORD_WASM_STDIO_H
#include <stddef.h>
#include <stdarg.h>
int snprintf(char *restrict buf, size_t cap, const char *restrict fmt, ...)
    __attribute__((format(printf, 3, 4)));
int vsnprintf(char *restrict buf, size_t cap, const char *restrict fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
#endif
