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
#include <stdio.h>
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
        /* a slot holds the span from its 4 KiB-aligned start (paged.c reads aligned) */
        uint64_t base = lo & ~(uint64_t)4095;
        if (hi > lo && hi - base > L.layer_bytes) L.layer_bytes = hi - base;
    }
    if (L.lo > L.hi) L.lo = L.hi = 0;
    return L;
}

/* Fills *out for a residency and slot count (n_slots ignored when resident). */
static void plan_fill(const chord_model *m, const layout *L, chord_residency res, int32_t n_slots, uint32_t n_ctx,
                      uint32_t n_batch, int nth, chord_build build, int use_mmap, chord_memory_plan *out) {
    memset(out, 0, sizeof *out);
    out->n_layer = m->hp.n_layer;
    out->n_ctx = n_ctx;
    out->n_batch = n_batch;
    out->n_threads = nth;
    out->global_bytes = L->global_bytes;
    out->layer_bytes = L->layer_bytes;
    out->residency = res;
    if (res == CHORD_RESIDENCY_PAGED) {
        if (n_slots > m->hp.n_layer) n_slots = m->hp.n_layer;
        out->n_slots = n_slots;
        out->weights = L->global_bytes + (uint64_t)n_slots * L->layer_bytes;
    } else {
        out->n_slots = m->hp.n_layer;
        out->weights = L->hi - L->lo;
    }
    const uint64_t header = L->lo; /* GGUF head: magic, metadata, tensor table */
    if (build == CHORD_BUILD_NATIVE) out->file_copy = use_mmap && res == CHORD_RESIDENCY_RESIDENT ? header : 0;
    else if (res == CHORD_RESIDENCY_RESIDENT) out->file_copy = m->src.size - out->weights;
    else out->file_copy = 0; /* paged wasm reads layers through the host; the file stays outside */
    out->model = MODEL_PER_HEADER_BYTE * header + MODEL_PER_TOKEN * (uint64_t)m->hp.n_vocab;
    out->scratch = chord_session_buffer_bytes(m, n_ctx, n_batch, nth, &out->kv_cache) - out->kv_cache;
    out->fixed = build == CHORD_BUILD_NATIVE ? NATIVE_FIXED + (uint64_t)nth * NATIVE_PER_THREAD
                                             : WASM_FIXED + (uint64_t)(nth - 1) * WASM_PER_THREAD;
    out->total = out->weights + out->file_copy + out->model + out->kv_cache + out->scratch + out->fixed;
}

static uint64_t address_space(chord_build b) {
    return b == CHORD_BUILD_WASM32 ? (uint64_t)4 << 30 : b == CHORD_BUILD_WASM64 ? (uint64_t)16 << 30 : UINT64_MAX;
}

/* "1.25 GiB" or "3.4 MiB": messages stay readable for small and large models. */
typedef struct { char s[32]; } human;
static human hb(uint64_t n) {
    human h;
    if (n >= ((uint64_t)1 << 30)) snprintf(h.s, sizeof h.s, "%.2f GiB", (double)n / (double)((uint64_t)1 << 30));
    else snprintf(h.s, sizeof h.s, "%.1f MiB", (double)n / (double)((uint64_t)1 << 20));
    return h;
}

/* Residency auto/resident/paged and the slot count for a budget (docs/MEMORY64.md). */
static chord_status decide(const chord_model *m, const layout *L, const chord_model_params *mp, uint32_t n_ctx,
                           uint32_t n_batch, int nth, chord_build build, chord_memory_plan *out, chord_error *err) {
    const int32_t NL = m->hp.n_layer;
    uint64_t budget = mp->mem_budget;
    const int explicit_budget = budget != 0;
    if (!budget) budget = build == CHORD_BUILD_NATIVE ? chord_available_memory_bytes() : 0;
    if (!budget || budget > address_space(build)) budget = address_space(build);
    chord_memory_plan res;
    plan_fill(m, L, CHORD_RESIDENCY_RESIDENT, 0, n_ctx, n_batch, nth, build, mp->use_mmap, &res);
    /* bytes already in addressable memory (a wasm buffer) are resident whatever we decide */
    const int in_memory = build != CHORD_BUILD_NATIVE && m->src.data;
    chord_residency r = mp->residency;
    if (r == CHORD_RESIDENCY_AUTO)
        r = (in_memory || (res.total <= budget && res.total <= address_space(build))) ? CHORD_RESIDENCY_RESIDENT
                                                                                      : CHORD_RESIDENCY_PAGED;
    if (r == CHORD_RESIDENCY_RESIDENT) {
        *out = res;
        return CHORD_OK;
    }
    chord_memory_plan base;
    plan_fill(m, L, CHORD_RESIDENCY_PAGED, 0, n_ctx, n_batch, nth, build, mp->use_mmap, &base);
    int32_t slots = mp->n_slots;
    if (slots <= 0) {
        uint64_t room = budget > base.total ? budget - base.total : 0;
        uint64_t fit = L->layer_bytes ? room / L->layer_bytes : (uint64_t)NL;
        slots = fit > (uint64_t)NL ? NL : (int32_t)fit;
        if (slots < 2 && NL >= 2)
            return chord_fail(err, CHORD_E_NOMEM,
                              "the model does not fit a %s budget of %s even paged: model-wide tensors %s "
                              "+ KV cache %s (n_ctx %u) + scratch and tables %s + 2 layer slots of %s = %s",
                              explicit_budget ? "memory" : "available-memory", hb(budget).s, hb(base.global_bytes).s,
                              hb(base.kv_cache).s, n_ctx, hb(base.scratch + base.model + base.fixed).s,
                              hb(L->layer_bytes).s, hb(base.total + 2 * L->layer_bytes).s);
        if (slots < 1) slots = 1;
    }
    plan_fill(m, L, CHORD_RESIDENCY_PAGED, slots, n_ctx, n_batch, nth, build, mp->use_mmap, out);
    if (explicit_budget && out->total > budget)
        return chord_fail(err, CHORD_E_NOMEM, "%d layer slots need %s (model-wide %s + slots %s + KV cache %s + "
                          "other %s), more than the memory budget of %s", out->n_slots, hb(out->total).s,
                          hb(out->global_bytes).s, hb((uint64_t)out->n_slots * L->layer_bytes).s,
                          hb(out->kv_cache).s, hb(out->scratch + out->model + out->fixed).s, hb(budget).s);
    return CHORD_OK;
}

static chord_status check_args(const chord_model *m, chord_build build, chord_error *err) {
    if (m->vocab_only || !m->layers)
        return chord_fail(err, CHORD_E_INVALID_ARG, "the model was opened vocab_only: no weights to plan");
    if (build < CHORD_BUILD_NATIVE || build > CHORD_BUILD_WASM64)
        return chord_fail(err, CHORD_E_INVALID_ARG, "unknown build %d", (int)build);
    return CHORD_OK;
}

chord_status chord_model_memory_plan(const chord_model *m, const chord_model_params *mp,
                                     const chord_session_params *sp, chord_build build,
                                     chord_memory_plan *out, chord_error *err) {
    if (!m || !out) return chord_fail(err, CHORD_E_INVALID_ARG, "chord_model_memory_plan: NULL argument");
    memset(out, 0, sizeof *out);
    chord_status st = check_args(m, build, err);
    if (st != CHORD_OK) return st;
    chord_model_params dmp = chord_model_params_default();
    if (!mp) mp = &dmp;
    chord_session_params dsp = chord_session_params_default();
    if (!sp) sp = &dsp;
    uint32_t n_ctx = 0, n_batch = 0;
    if ((st = chord_session_resolve(m, sp, &n_ctx, &n_batch, err)) != CHORD_OK) return st;
    int nth = sp->n_threads > 0 ? sp->n_threads : chord_cpu_count();
    const layout L = model_layout(m);
    return decide(m, &L, mp, n_ctx, n_batch, nth, build, out, err);
}

chord_build chord_plan_this_build(void) {
#if defined(__wasm64__)
    return CHORD_BUILD_WASM64;
#elif defined(__wasm__)
    return CHORD_BUILD_WASM32;
#else
    return CHORD_BUILD_NATIVE;
#endif
}

chord_status chord_plan_weights(const chord_model *m, const chord_model_params *mp, chord_weights_config *cfg,
                                chord_error *err) {
    memset(cfg, 0, sizeof *cfg);
    chord_session_params sp = chord_session_params_default();
    sp.n_ctx = mp->plan_n_ctx;
    if (sp.n_ctx > (uint32_t)m->hp.n_ctx_train) sp.n_ctx = 0; /* the session will refuse it; plan the default */
    if (mp->residency == CHORD_RESIDENCY_RESIDENT) return CHORD_OK;
    chord_memory_plan plan;
    chord_status st = chord_model_memory_plan(m, mp, &sp, chord_plan_this_build(), &plan, err);
    if (st != CHORD_OK) return st;
    if (plan.residency == CHORD_RESIDENCY_PAGED) {
        cfg->policy = CHORD_WPOLICY_PAGED;
        cfg->n_slots = plan.n_slots;
        cfg->prefetch = mp->prefetch;
        cfg->cache_policy = mp->cache_policy;
    }
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
