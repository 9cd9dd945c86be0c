/*
 * malloc.c — the allocator of the freestanding wasm builds. The heap is the memory from
 * __heap_base to the end of the (shared, imported) linear memory and grows with memory.grow.
 *
 * Why not a bump allocator: a page that loads and frees models must get its memory back
 * (memory can never shrink in wasm, so every leak of address space is permanent). Design:
 * boundary-tag chunks (a 16-byte header: size of the previous chunk when it is free, own size
 * and flags), coalescing of neighbours on free, a "top" chunk at the end of the heap that
 * absorbs everything freed next to it, and segregated free lists (exact 16-byte classes below
 * 1 KiB, four classes per power of two above) with a bitmap to find the next non-empty one.
 * Payloads are 16-byte aligned (SIMD loads, and sizes in headers keep two flag bits free).
 *
 * Threads: worker threads may allocate too, so a spin lock guards the heap. It never uses
 * memory.atomic.wait, because that traps on a browser's main thread; critical sections are
 * short (no memory.grow happens with contention in practice: only the engine thread loads).
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "wasm_libc.h"

#define HDR 16u
#define MIN_CHUNK 32u
#define INUSE ((size_t)1)
#define PREV_INUSE ((size_t)2)
#define FLAGS (INUSE | PREV_INUSE)
#define PAGE 65536u
#define NBINS 288
#define SMALL_LIMIT 1024u

typedef struct chunk {
    size_t prev_size; /* valid only when the previous chunk is free */
    size_t size;      /* bytes including this header | flags */
#if __SIZEOF_POINTER__ == 4
    size_t pad[2];
#endif
    struct chunk *next, *prev; /* free chunks only: the bin's doubly linked list */
} chunk;
_Static_assert(sizeof(chunk) - 2 * sizeof(void *) == HDR, "chunk header is 16 bytes");

extern unsigned char __heap_base;

static atomic_int heap_lock;
static int heap_ready;
static uintptr_t heap_start, heap_end; /* [heap_start, heap_end) is managed */
static chunk *top;                     /* the last chunk, always free, never in a bin */
static chunk *bins[NBINS];
static uint64_t bin_map[(NBINS + 63) / 64];
static size_t used_bytes, peak_used_bytes;

static void lock(void) {
    while (atomic_exchange_explicit(&heap_lock, 1, memory_order_acquire))
        while (atomic_load_explicit(&heap_lock, memory_order_relaxed)) {}
}
static void unlock(void) { atomic_store_explicit(&heap_lock, 0, memory_order_release); }

static size_t csize(const chunk *c) { return c->size & ~FLAGS; }
static chunk *at(uintptr_t a) { return (chunk *)a; }
static chunk *next_chunk(chunk *c) { return at((uintptr_t)c + csize(c)); }

/* wasm32 cannot address byte 2^32, so its heap stops one page short of 4 GiB. */
static uint64_t max_heap_end(void) {
    return sizeof(void *) == 4 ? 0xFFFF0000ull : (uint64_t)1 << 40;
}

static uint64_t memory_end(void) {
    return (uint64_t)__builtin_wasm_memory_size(0) * PAGE;
}

static void heap_init(void) {
    heap_start = ((uintptr_t)&__heap_base + 15) & ~(uintptr_t)15;
    uint64_t end = memory_end();
    if (end > max_heap_end()) end = max_heap_end();
    heap_end = (uintptr_t)end;
    top = at(heap_start);
    top->prev_size = 0;
    top->size = (heap_end - heap_start) | PREV_INUSE;
    heap_ready = 1;
}

static unsigned bin_index(size_t s) {
    if (s < SMALL_LIMIT) return (unsigned)(s / 16);
    unsigned b = 63u - (unsigned)__builtin_clzll((unsigned long long)s);
    unsigned idx = 64 + (b - 10) * 4 + (unsigned)((s >> (b - 2)) & 3);
    return idx < NBINS ? idx : NBINS - 1;
}

static void bin_insert(chunk *c) {
    unsigned i = bin_index(csize(c));
    c->prev = NULL;
    c->next = bins[i];
    if (bins[i]) bins[i]->prev = c;
    bins[i] = c;
    bin_map[i / 64] |= 1ull << (i % 64);
}

static void bin_remove(chunk *c) {
    unsigned i = bin_index(csize(c));
    if (c->prev) c->prev->next = c->next;
    else bins[i] = c->next;
    if (c->next) c->next->prev = c->prev;
    if (!bins[i]) bin_map[i / 64] &= ~(1ull << (i % 64));
}

/* A free chunk of `need` bytes or more from the bins, unlinked; NULL if none. */
static chunk *bin_take(size_t need) {
    unsigned i = bin_index(need);
    for (chunk *c = bins[i]; c; c = c->next) /* the own class may hold smaller chunks */
        if (csize(c) >= need) {
            bin_remove(c);
            return c;
        }
    for (unsigned j = i + 1; j < NBINS;) {
        uint64_t m = bin_map[j / 64] >> (j % 64);
        if (!m) {
            j = (j / 64 + 1) * 64;
            continue;
        }
        j += (unsigned)__builtin_ctzll(m);
        if (j >= NBINS) break;
        chunk *c = bins[j];
        bin_remove(c);
        return c;
    }
    return NULL;
}

/* Makes the top chunk at least `need` bytes by growing memory; 0 when memory is exhausted. */
static int top_reserve(size_t need) {
    size_t have = csize(top);
    if (have >= need) return 1;
    uint64_t want_end = (uint64_t)(uintptr_t)top + need;
    if (want_end > max_heap_end()) return 0;
    uint64_t cur = memory_end();
    if (want_end > cur) {
        uint64_t pages = (want_end - cur + PAGE - 1) / PAGE;
        uint64_t min_pages = 16; /* grow at least 1 MiB: fewer grows, little waste */
        if (pages < min_pages && cur + min_pages * PAGE <= max_heap_end()) pages = min_pages;
        if (__builtin_wasm_memory_grow(0, (size_t)pages) == (size_t)-1) {
            pages = (want_end - cur + PAGE - 1) / PAGE;
            if (__builtin_wasm_memory_grow(0, (size_t)pages) == (size_t)-1) return 0;
        }
        cur = memory_end();
    }
    uint64_t end = cur > max_heap_end() ? max_heap_end() : cur;
    heap_end = (uintptr_t)end;
    top->size = (heap_end - (uintptr_t)top) | (top->size & PREV_INUSE);
    return 1;
}

/* Marks chunk c (free, unlinked, size s >= need) in use, returning its tail to the bins. */
static void carve(chunk *c, size_t need) {
    size_t s = csize(c), prev_flag = c->size & PREV_INUSE;
    if (s - need >= MIN_CHUNK) {
        chunk *r = at((uintptr_t)c + need);
        r->size = (s - need) | PREV_INUSE;
        next_chunk(r)->prev_size = s - need;
        bin_insert(r);
        s = need;
    } else {
        next_chunk(c)->size |= PREV_INUSE;
    }
    c->size = s | INUSE | prev_flag;
    used_bytes += s;
    if (used_bytes > peak_used_bytes) peak_used_bytes = used_bytes;
}

static chunk *alloc_locked(size_t need) {
    if (!heap_ready) heap_init();
    chunk *c = bin_take(need);
    if (c) {
        carve(c, need);
        return c;
    }
    if (!top_reserve(need + MIN_CHUNK)) return NULL;
    c = top;
    size_t s = csize(c);
    top = at((uintptr_t)c + need);
    top->size = (s - need) | PREV_INUSE;
    c->size = need | INUSE | (c->size & PREV_INUSE);
    used_bytes += need;
    if (used_bytes > peak_used_bytes) peak_used_bytes = used_bytes;
    return c;
}

static void free_locked(chunk *c) {
    size_t s = csize(c);
    used_bytes -= s;
    if (!(c->size & PREV_INUSE)) {
        chunk *p = at((uintptr_t)c - c->prev_size);
        bin_remove(p);
        s += csize(p);
        c = p; /* p's own PREV_INUSE is set: free chunks never touch */
    }
    chunk *n = at((uintptr_t)c + s);
    if (n == top) {
        top = c;
        top->size = (s + csize(n)) | PREV_INUSE;
        return;
    }
    if (!(n->size & INUSE)) {
        bin_remove(n);
        s += csize(n);
    }
    c->size = s | PREV_INUSE;
    n = at((uintptr_t)c + s);
    n->prev_size = s;
    n->size &= ~PREV_INUSE;
    bin_insert(c);
}

/* Chunk size for a request, 0 on overflow. */
static size_t request_size(size_t n) {
    if (n > SIZE_MAX - PAGE * 4) return 0;
    size_t s = (n + HDR + 15) & ~(size_t)15;
    return s < MIN_CHUNK ? MIN_CHUNK : s;
}

static chunk *checked_chunk(void *p) {
    uintptr_t a = (uintptr_t)p;
    if (a < heap_start + HDR || a >= heap_end || (a & 15)) __builtin_trap(); /* not ours */
    chunk *c = at(a - HDR);
    if (!(c->size & INUSE)) __builtin_trap(); /* double free */
    return c;
}

void *malloc(size_t n) {
    size_t need = request_size(n);
    if (!need) return NULL;
    lock();
    chunk *c = alloc_locked(need);
    unlock();
    return c ? (unsigned char *)c + HDR : NULL;
}

void free(void *p) {
    if (!p) return;
    lock();
    free_locked(checked_chunk(p));
    unlock();
}

void *calloc(size_t n, size_t size) {
    if (size && n > SIZE_MAX / size) return NULL;
    void *p = malloc(n * size);
    if (p) memset(p, 0, n * size);
    return p;
}

void *realloc(void *p, size_t n) {
    if (!p) return malloc(n);
    size_t need = request_size(n);
    if (!need) return NULL;
    lock();
    chunk *c = checked_chunk(p);
    size_t s = csize(c);
    if (s >= need) { /* shrink in place */
        if (s - need >= MIN_CHUNK) {
            c->size = need | (c->size & FLAGS);
            chunk *r = at((uintptr_t)c + need);
            r->size = (s - need) | INUSE | PREV_INUSE;
            free_locked(r); /* takes s - need out of used_bytes */
        }
        unlock();
        return p;
    }
    chunk *n2 = next_chunk(c);
    if (n2 == top && top_reserve(need - s + MIN_CHUNK)) { /* grow into the top chunk */
        size_t ts = csize(top);
        c->size = need | (c->size & FLAGS);
        top = at((uintptr_t)c + need);
        top->size = (ts - (need - s)) | PREV_INUSE;
        used_bytes += need - s;
        if (used_bytes > peak_used_bytes) peak_used_bytes = used_bytes;
        unlock();
        return p;
    }
    if (n2 != top && !(n2->size & INUSE) && s + csize(n2) >= need) { /* absorb a free neighbour */
        bin_remove(n2);
        size_t prev_flag = c->size & PREV_INUSE;
        used_bytes -= s;
        c->size = (s + csize(n2)) | prev_flag;
        carve(c, need);
        unlock();
        return p;
    }
    chunk *d = alloc_locked(need);
    if (!d) {
        unlock();
        return NULL;
    }
    memcpy((unsigned char *)d + HDR, p, s - HDR);
    free_locked(c);
    unlock();
    return (unsigned char *)d + HDR;
}

void *aligned_alloc(size_t align, size_t n) {
    if (align <= 16) return malloc(n);
    if (align & (align - 1)) return NULL;
    if (n > SIZE_MAX - align - 2 * PAGE) return NULL;
    size_t need = request_size(n + align + MIN_CHUNK);
    if (!need) return NULL;
    lock();
    chunk *c = alloc_locked(need);
    if (!c) {
        unlock();
        return NULL;
    }
    uintptr_t p = (uintptr_t)c + HDR;
    uintptr_t q = (p + MIN_CHUNK + align - 1) & ~(uintptr_t)(align - 1);
    size_t gap = q - p, s = csize(c);
    chunk *a = at(q - HDR);
    a->size = (s - gap) | INUSE;           /* its previous chunk (the gap) is about to be free */
    c->size = gap | INUSE | (c->size & PREV_INUSE);
    free_locked(c); /* takes the gap out of used_bytes */
    unlock();
    return (void *)q;
}

int posix_memalign(void **out, size_t align, size_t n) {
    if (align < sizeof(void *) || (align & (align - 1))) return 22;
    void *p = aligned_alloc(align, n);
    if (!p) return 12;
    *out = p;
    return 0;
}

void chord_wasm_heap_stats_get(chord_wasm_heap *h) {
    lock();
    if (!heap_ready) heap_init();
    h->heap_base = heap_start;
    h->heap_end = heap_end;
    h->used = used_bytes;
    h->peak_used = peak_used_bytes;
    h->top_free = csize(top);
    h->memory_bytes = memory_end();
    unlock();
}
