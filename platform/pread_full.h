/*
 * pread_full.h — read exactly len bytes at off from a POSIX file descriptor (native and WASI file
 * sources share it). Retries short reads and EINTR; end of file or an error is CHORD_E_IO.
 */
#ifndef CHORD_PREAD_FULL_H
#define CHORD_PREAD_FULL_H
#include <errno.h>
#include <stdint.h>
#include <unistd.h>
#include "chord.h"

static inline chord_status chord_pread_full(int fd, uint64_t off, void *dst, size_t len) {
    uint8_t *d = dst;
    while (len > 0) {
        ssize_t r = pread(fd, d, len, (off_t)off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return CHORD_E_IO;
        d += r;
        off += (uint64_t)r;
        len -= (size_t)r;
    }
    return CHORD_OK;
}
#endif
