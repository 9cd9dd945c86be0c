/*
 * plan.c — the memory plan: one function that says what a model costs in a build (native,
 * wasm32, wasm64) for a context length and thread count, counted the way the engine allocates:
 *
 *   weights   resident: the tensor-data span the weights module maps or reads (weights/);
 *             paged: the model-wide tensors + n_slots × the largest layer span
 *   file_copy wasm: the GGUF is copied whole into linear memory, so its non-tensor bytes count;
 *             native mmap: the header pages the reader touched
 *   model     the GGUF arena (metadata, tensor table) and the tokenizer's tables
 *   kv_cache  F16 K and V, n_layer × n_ctx × n_head_kv·head_dim each (session.c)
 *   scratch   every other session buffer, summed by session.c's own size function
 *   fixed     the runtime: native code/libc/thread stacks; wasm stack, thread stacks + TLS and
 *             the allocator's growth step
 *
 * The same numbers decide the JS build choice (bindings/wasm, js/src/index.js) and the paged
 * path (model.c, residency auto), so there is one estimate, not one per host.
 */
#include <string.h>

#include "core/error.h"
#include "engine/session.h"
#include "platform.h"

#define MiB ((uint64_t)1 << 20)

/* Per-model overheads measured on this engine (tests/t_memplan.sh keeps them honest): the GGUF
 * arena holds about the metadata's size again, the tokenizer ~40 bytes per token beyond it. */
#define MODEL_PER_HEADER_BYTE 2
#define MODEL_PER_TOKEN 40
#define NATIVE_FIXED (2 * MiB)
#define NATIVE_PER_THREAD (128 * 1024)
#define WASM_FIXED (3 * MiB)       /* 1 MiB main stack, static data, 1 MiB allocator step, slack */
#define WASM_PER_THREAD (MiB + 64 * 1024)

typedef struct layout {
    uint64_t lo, hi;          /* span of all tensor data */
    uint64_t global_bytes;    /* model-wide tensors, each counted once */
    uint64_t layer_bytes;     /* largest layer span */
} layout;

static void span_add(const chord_layer_tensors *lt, uint64_t *lo, uint64_t *hi) {
    for (int s = 0; s < CHORD_W_NSLOTS; s++) {
        const chord_gguf_tensor *t = lt->t[s];
        if (!t) continue;
        if (t->off < *lo) *lo = t->off;
        if (t->off + t->n_bytes > *hi) *hi = t->off + t->n_bytes;
    }
}

static layout model_layout(const chord_model *m) {
    layout L = { UINT64_MAX, 0, 0, 0 };
    span_add(&m->global, &L.lo, &L.hi);
    for (int s = 0; s < CHORD_W_NSLOTS; s++) {
        const chord_gguf_tensor *t = m->global.t[s];
        int dup = 0;
        for (int r = 0; r < s; r++) dup |= m->global.t[r] == t;
        if (t && !dup) L.global_bytes += t->n_bytes;
    }
    for (int32_t il = 0; il < m->hp.n_layer; il++) {
        uint64_t lo = UINT64_MAX, hi = 0;
        span_add(&m->layers[il], &lo, &hi);
        span_add(&m->layers[il], &L.lo, &L.hi);
        if (hi > lo && hi - lo > L.layer_bytes) L.layer_bytes = hi - lo;
    }
    if (L.lo > L.hi) L.lo = L.hi = 0;
    return L;
}

chord_status chord_model_memory_plan(const chord_model *m, const chord_model_params *mp,
                                     const chord_session_params *sp, chord_build build,
                                     chord_memory_plan *out, chord_error *err) {
    if (!m || !out) return chord_fail(err, CHORD_E_INVALID_ARG, "chord_model_memory_plan: NULL argument");
    memset(out, 0, sizeof *out);
    if (m->vocab_only || !m->layers)
        return chord_fail(err, CHORD_E_INVALID_ARG, "the model was opened vocab_only: no weights to plan");
    if (build < CHORD_BUILD_NATIVE || build > CHORD_BUILD_WASM64)
        return chord_fail(err, CHORD_E_INVALID_ARG, "unknown build %d", (int)build);
    chord_model_params dmp = chord_model_params_default();
    if (!mp) mp = &dmp;
    chord_session_params dsp = chord_session_params_default();
    if (!sp) sp = &dsp;
    uint32_t n_ctx = 0, n_batch = 0;
    chord_status st = chord_session_resolve(m, sp, &n_ctx, &n_batch, err);
    if (st != CHORD_OK) return st;
    int nth = sp->n_threads > 0 ? sp->n_threads : chord_cpu_count();

    const layout L = model_layout(m);
    out->n_layer = m->hp.n_layer;
    out->n_ctx = n_ctx;
    out->n_batch = n_batch;
    out->n_threads = nth;
    out->global_bytes = L.global_bytes;
    out->layer_bytes = L.layer_bytes;
    out->residency = mp->residency == CHORD_RESIDENCY_PAGED ? CHORD_RESIDENCY_PAGED : CHORD_RESIDENCY_RESIDENT;
    if (out->residency == CHORD_RESIDENCY_PAGED) {
        int32_t slots = mp->n_slots > 0 ? mp->n_slots : 2;
        if (slots > m->hp.n_layer) slots = m->hp.n_layer;
        out->n_slots = slots;
        out->weights = L.global_bytes + (uint64_t)slots * L.layer_bytes;
    } else {
        out->n_slots = m->hp.n_layer;
        out->weights = L.hi - L.lo;
    }
    const uint64_t header = L.lo; /* GGUF head: magic, metadata, tensor table */
    if (build == CHORD_BUILD_NATIVE) out->file_copy = mp->use_mmap ? header : 0;
    else if (out->residency == CHORD_RESIDENCY_RESIDENT) out->file_copy = m->src.size - out->weights;
    else out->file_copy = 0; /* paged wasm reads layers through the host; the file stays outside */
    out->model = MODEL_PER_HEADER_BYTE * header + MODEL_PER_TOKEN * (uint64_t)m->hp.n_vocab;
    out->scratch = chord_session_buffer_bytes(m, n_ctx, n_batch, nth, &out->kv_cache) - out->kv_cache;
    out->fixed = build == CHORD_BUILD_NATIVE ? NATIVE_FIXED + (uint64_t)nth * NATIVE_PER_THREAD
                                             : WASM_FIXED + (uint64_t)(nth - 1) * WASM_PER_THREAD;
    out->total = out->weights + out->file_copy + out->model + out->kv_cache + out->scratch + out->fixed;
    return CHORD_OK;
}

/* A source over the first bytes of a file. The GGUF reader reads ahead in large buffered
 * chunks, so bytes past the prefix read as zeros; a header that does not fit in the prefix then
 * fails to parse (format) rather than reading data that is not there. Reads wholly past the
 * prefix fail. */
typedef struct { const uint8_t *head; size_t len; } prefix;
static chord_status prefix_read(void *ctx, uint64_t off, void *dst, size_t len) {
    const prefix *p = ctx;
    if (off >= p->len) return len ? CHORD_E_IO : CHORD_OK;
    size_t have = p->len - (size_t)off < len ? p->len - (size_t)off : len;
    memcpy(dst, p->head + off, have);
    memset((uint8_t *)dst + have, 0, len - have);
    return CHORD_OK;
}

chord_status chord_memory_plan_header(const void *head, size_t len, uint64_t file_size,
                                      const chord_model_params *mp, const chord_session_params *sp,
                                      chord_build build, chord_memory_plan *out, chord_error *err) {
    if (!head || !out) return chord_fail(err, CHORD_E_INVALID_ARG, "chord_memory_plan_header: NULL argument");
    if (len > file_size) return chord_fail(err, CHORD_E_INVALID_ARG, "header of %zu bytes is longer than the file (%llu)",
                                           len, (unsigned long long)file_size);
    prefix p = { head, len };
    chord_source src = { .ctx = &p, .size = file_size, .read = prefix_read };
    chord_model *m = NULL;
    chord_status st = chord_model_open_tensors(&m, &src, err);
    if (st == CHORD_E_IO)
        return chord_fail(err, CHORD_E_IO, "the GGUF header, metadata and tensor table need more than the first %zu bytes",
                          len);
    if (st != CHORD_OK) return st;
    st = chord_model_memory_plan(m, mp, sp, build, out, err);
    chord_model_free(m);
    return st;
}
