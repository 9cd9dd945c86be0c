/*
 * cli_mem.c — the memory flags shared by `run` and `inspect --plan`, and `inspect --plan`
 * itself (the memory plan of a model for a context, thread count, build and budget):
 *   --paged                 layers in a cache of slots (residency paged)
 *   --resident              every tensor addressable (residency resident)
 *   --cache-layers N        slots for layers (implies --paged)
 *   --mem-budget SIZE       budget for weights + KV + scratch: bytes or 512M, 2G, 1.5G
 *   --prefetch D            layers read ahead (default 1)
 *   --policy pin|lru        slot policy (default pin: pin what fits, stream the rest)
 *   --no-mmap               read resident weights into memory instead of mapping the file
 *   --preload               fill every layer slot before the prompt (chord_model_preload)
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chord.h"
#include "cli.h"

typedef unsigned long long ull;

int chord_cli_want_preload = 0;

int chord_cli_parse_size(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !(v >= 0) || !isfinite(v)) return 0;
    double mul = 1;
    if (*end) {
        switch (*end) {
        case 'k': case 'K': mul = 1024.0; break;
        case 'm': case 'M': mul = 1024.0 * 1024; break;
        case 'g': case 'G': mul = 1024.0 * 1024 * 1024; break;
        case 't': case 'T': mul = 1024.0 * 1024 * 1024 * 1024; break;
        default: return 0;
        }
        end++;
        if (*end == 'i' || *end == 'I') end++;
        if (*end == 'b' || *end == 'B') end++;
        if (*end) return 0;
    }
    v *= mul;
    if (v >= 18446744073709551615.0) return 0;
    *out = (uint64_t)v;
    return 1;
}

static int parse_int(const char *s, long long lo, long long hi, int32_t *out) {
    long long v = 0;
    if (!chord_cli_int(s, lo, hi, &v)) return 0;
    *out = (int32_t)v;
    return 1;
}

int chord_cli_mem_flag(int argc, char **argv, int *i, chord_model_params *mp, const char *cmd) {
    const char *a = argv[*i];
    if (!strcmp(a, "--paged")) { mp->residency = CHORD_RESIDENCY_PAGED; return 1; }
    if (!strcmp(a, "--resident")) { mp->residency = CHORD_RESIDENCY_RESIDENT; return 1; }
    if (!strcmp(a, "--no-mmap")) { mp->use_mmap = 0; return 1; }
    if (!strcmp(a, "--preload")) { chord_cli_want_preload = 1; return 1; }
    int takes = !strcmp(a, "--cache-layers") || !strcmp(a, "--mem-budget") || !strcmp(a, "--prefetch") ||
                !strcmp(a, "--policy");
    if (!takes) return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "wasm-chord %s: error: missing value after %s\n", cmd, a);
        return -1;
    }
    const char *v = argv[++*i];
    int ok = 1;
    if (!strcmp(a, "--cache-layers")) {
        ok = parse_int(v, 1, 1 << 20, &mp->n_slots);
        if (mp->residency == CHORD_RESIDENCY_AUTO) mp->residency = CHORD_RESIDENCY_PAGED;
    } else if (!strcmp(a, "--mem-budget")) {
        ok = chord_cli_parse_size(v, &mp->mem_budget) && mp->mem_budget > 0;
    } else if (!strcmp(a, "--prefetch")) {
        ok = parse_int(v, 0, 64, &mp->prefetch);
    } else if (!strcmp(v, "pin")) {
        mp->cache_policy = CHORD_CACHE_PIN;
    } else if (!strcmp(v, "lru")) {
        mp->cache_policy = CHORD_CACHE_LRU;
    } else {
        ok = 0;
    }
    if (!ok) {
        fprintf(stderr, "wasm-chord %s: error: bad value '%s' for %s\n", cmd, v, a);
        return -1;
    }
    return 1;
}

static const char *build_name(chord_build b) {
    return b == CHORD_BUILD_WASM32 ? "wasm32" : b == CHORD_BUILD_WASM64 ? "wasm64" : "native";
}

static void print_plan(const char *path, const chord_memory_plan *p, chord_build b, uint64_t budget, int json) {
    const char *res = p->residency == CHORD_RESIDENCY_PAGED ? "paged" : "resident";
    if (json) {
        printf("{\"file\": \"%s\", \"build\": \"%s\", \"residency\": \"%s\", \"budget\": %llu, \"n_layer\": %d, "
               "\"n_slots\": %d, \"n_ctx\": %u, \"n_batch\": %u, \"n_threads\": %d, \"weights\": %llu, "
               "\"global_bytes\": %llu, \"layer_bytes\": %llu, \"file_copy\": %llu, \"model\": %llu, "
               "\"kv_cache\": %llu, \"scratch\": %llu, \"fixed\": %llu, \"total\": %llu}\n",
               path, build_name(b), res, (ull)budget, p->n_layer, p->n_slots, p->n_ctx, p->n_batch, p->n_threads,
               (ull)p->weights, (ull)p->global_bytes, (ull)p->layer_bytes, (ull)p->file_copy, (ull)p->model,
               (ull)p->kv_cache, (ull)p->scratch, (ull)p->fixed, (ull)p->total);
        return;
    }
    const double M = 1024.0 * 1024.0;
    printf("memory plan: %s, %s, n_ctx %u, %d threads, batch %u\n", build_name(b), res, p->n_ctx, p->n_threads,
           p->n_batch);
    if (budget) printf("  budget         %10.1f MiB\n", (double)budget / M);
    printf("  weights        %10.1f MiB  (%d of %d layers in slots of %.1f MiB; model-wide %.1f MiB)\n",
           (double)p->weights / M, p->n_slots, p->n_layer, (double)p->layer_bytes / M, (double)p->global_bytes / M);
    printf("  file copy      %10.1f MiB\n", (double)p->file_copy / M);
    printf("  model tables   %10.1f MiB\n", (double)p->model / M);
    printf("  KV cache (F16) %10.1f MiB\n", (double)p->kv_cache / M);
    printf("  scratch        %10.1f MiB\n", (double)p->scratch / M);
    printf("  fixed          %10.1f MiB\n", (double)p->fixed / M);
    printf("  total          %10.1f MiB\n", (double)p->total / M);
}

int chord_cli_plan(int argc, char **argv) {
    const char *path = NULL;
    int json = 0;
    chord_build build = CHORD_BUILD_NATIVE;
    chord_model_params mp = chord_model_params_default();
    chord_session_params sp = chord_session_params_default();
    int32_t v = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = chord_cli_mem_flag(argc, argv, &i, &mp, "inspect");
        if (r < 0) return 2;
        if (r > 0 || !strcmp(a, "--plan")) continue;
        if (!strcmp(a, "--json")) { json = 1; continue; }
        if (i + 1 >= argc) {
            fprintf(stderr, "wasm-chord inspect: error: unexpected argument '%s' (try --help)\n", a);
            return 2;
        }
        const char *val = argv[++i];
        int ok = 1;
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) path = val;
        else if (!strcmp(a, "-c") || !strcmp(a, "--ctx-size")) { ok = parse_int(val, 0, INT32_MAX, &v); sp.n_ctx = (uint32_t)v; }
        else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) ok = parse_int(val, 0, 1024, &sp.n_threads);
        else if (!strcmp(a, "-b") || !strcmp(a, "--batch-size")) { ok = parse_int(val, 1, 4096, &v); sp.n_batch = (uint32_t)v; }
        else if (!strcmp(a, "--build")) {
            if (!strcmp(val, "native")) build = CHORD_BUILD_NATIVE;
            else if (!strcmp(val, "wasm32")) build = CHORD_BUILD_WASM32;
            else if (!strcmp(val, "wasm64")) build = CHORD_BUILD_WASM64;
            else ok = 0;
        } else {
            fprintf(stderr, "wasm-chord inspect: error: unexpected argument '%s' (try --help)\n", a);
            return 2;
        }
        if (!ok) {
            fprintf(stderr, "wasm-chord inspect: error: bad value '%s' for %s\n", val, a);
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "wasm-chord: error: inspect: no file given (-m FILE; try --help)\n");
        return 2;
    }
    mp.plan_n_ctx = sp.n_ctx;
    chord_error err = { 0 };
    chord_model *m = NULL;
    chord_memory_plan plan;
    /* open as resident-in-place (mapped, nothing read): the plan then applies the flags */
    chord_model_params open_p = chord_model_params_default();
    open_p.residency = CHORD_RESIDENCY_RESIDENT;
    if (chord_model_open(&m, path, &open_p, &err) != CHORD_OK ||
        chord_model_memory_plan(m, &mp, &sp, build, &plan, &err) != CHORD_OK) {
        fprintf(stderr, "wasm-chord: error: %s: %s\n", path, err.message);
        chord_model_free(m);
        return 1;
    }
    print_plan(path, &plan, build, mp.mem_budget, json);
    chord_model_free(m);
    return fflush(stdout) == 0 ? 0 : 1;
}

void chord_cli_cache_json(FILE *f, const chord_model *m) {
    chord_cache_stats c;
    if (chord_model_cache_stats(m, &c) != CHORD_OK) {
        fputs("null", f);
        return;
    }
    fprintf(f, "{\"policy\": \"%s\", \"slots\": %d, \"pinned\": %d, \"hits\": %llu, \"misses\": %llu, "
               "\"evictions\": %llu, \"bytes_read\": %llu, \"read_ms\": %.3f, \"stall_ms\": %.3f, "
               "\"prefetch_hits\": %llu, \"resident_bytes\": %llu}",
            c.policy, c.slots, c.pinned, (ull)c.hits, (ull)c.misses, (ull)c.evictions, (ull)c.bytes_read,
            c.read_ms, c.stall_ms, (ull)c.prefetch_hits, (ull)c.resident_bytes);
}

void chord_cli_cache_summary(FILE *f, const chord_model *m, uint64_t n_tokens) {
    chord_cache_stats c;
    if (chord_model_cache_stats(m, &c) != CHORD_OK || strncmp(c.policy, "paged", 5) != 0) return;
    uint64_t acq = c.hits + c.misses + c.prefetch_hits;
    fprintf(f, "wasm-chord: cache %s: %d slots (%d pinned) of %d layers, hit rate %.1f%% (%llu hits, %llu misses, "
               "%llu prefetch hits, %llu evictions), read %.1f MiB in %.0f ms (%.1f MiB/token), stalled %.0f ms\n",
            c.policy, c.slots, c.pinned, c.n_layer, acq ? 100.0 * (double)c.hits / (double)acq : 0.0, (ull)c.hits,
            (ull)c.misses, (ull)c.prefetch_hits, (ull)c.evictions, (double)c.bytes_read / 1048576.0, c.read_ms,
            n_tokens ? (double)c.bytes_read / 1048576.0 / (double)n_tokens : 0.0, c.stall_ms);
}
