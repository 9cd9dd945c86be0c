/* wasm_host.h — wasm-only platform extras shared by platform/wasm.c and bindings/wasm/wasm_api.c. */
#ifndef CHORD_WASM_HOST_H
#define CHORD_WASM_HOST_H
#include <stdint.h>
#include "chord.h"
/* A source whose bytes come from the host's synchronous env.chord_host_read(handle, ...); with
 * async_reads also env.chord_host_read_async (chord_source.read_async: paged prefetch). */
chord_status chord_wasm_source_from_host(chord_source *src, int32_t handle, uint64_t size, int async_reads);
#endif
