/* wasm_libc.h — extensions of the freestanding wasm libc used by the platform layer. */
#ifndef CHORD_WASM_LIBC_H
#define CHORD_WASM_LIBC_H
#include <stdint.h>
typedef struct chord_wasm_heap {
    uint64_t heap_base, heap_end; /* managed range */
    uint64_t used, peak_used;     /* bytes in allocated chunks (headers included) */
    uint64_t top_free;            /* free bytes at the end of the heap */
    uint64_t memory_bytes;        /* current linear memory size */
} chord_wasm_heap;
void chord_wasm_heap_stats_get(chord_wasm_heap *h);
#endif
