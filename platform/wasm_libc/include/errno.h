/* errno.h — wasm-chord's freestanding libc (errno is per thread). */
#ifndef CHORD_WASM_ERRNO_H
#define CHORD_WASM_ERRNO_H
extern _Thread_local int errno;
#define EDOM 33
#define ERANGE 34
#define ENOMEM 12
#define EINVAL 22
#define EIO 5
#endif
