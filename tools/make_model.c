/*
 * make_model.c — writes a synthetic llama, qwen2, qwen3, phi3, gemma2 or gemma3 GGUF: any shape, any tensor
 * type (or llama.cpp's Q4_K_M mixture), deterministic pseudo-random weights, and the real
 * tokenizer of another GGUF (one of ../shared/vocab) so that text round-trips. These files are
 * what the parity tests and benchmarks run on: llama.cpp and wasm-chord load the same bytes.
 *
 *   make_model --vocab ../shared/vocab/ggml-vocab-llama-spm.gguf --layers 22 --embd 2048 \
 *              --ff 5632 --heads 32 --kv-heads 4 --type q4_k_m -o tinyllama-q4_k_m.gguf
 *
 * Tensors are produced one at a time (generated and quantized row by row on all cores, each row
 * from its own random stream, see synth/rng.h) and streamed through the GGUF writer, so memory
 * stays at about one tensor even for a 4 GB F32 file. The output appears under its name only
 * once complete (written to OUT.tmp, then renamed). What is in the file: synth/plan.c.
 *
 * Rows are quantized by the scalar reference quantizers (traits.from_float_ref), never the SIMD
 * ones, so a file's bytes depend on make_model, synth/, the GGUF writer and the reference
 * quantizers alone — not on the CPU or its kernels. tests/parity/lib.sh keys its model cache on
 * exactly that, plus `make_model --quant-probe`: the bytes this build's quantizers (traits table,
 * fp16/bf16 conversion, reference code) produce for a few fixed rows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chord.h"
#include "core/error.h"
#include "gguf/gguf.h"
#include "platform.h"
#include "quant/quant.h"
#include "synth/plan.h"
#include "synth/rng.h"

typedef struct {
    chord_synth_shape shape;
    const chord_synth_ftype *ftype;
    const char *vocab, *out, *name;
    const char *chat_template;   /* file whose text becomes tokenizer.chat_template, or NULL */
    float rope_theta, eps;
    uint64_t seed;
    int n_threads, quiet;
    int64_t rope_dim;          /* rope.dimension_count (0: the head size) */
    int64_t swa;               /* gemma2/3 attention.sliding_window (gemma3: written only if set) */
    const char *kv[16];        /* extra metadata "KEY=TYPE:VALUE", written last (override copies) */
    int n_kv;
} options;

static void usage(FILE *f) {
    fprintf(f,
        "usage: make_model --vocab VOCAB.gguf -o OUT.gguf [options]\n"
        "       make_model --quant-probe   (what the quantizers write for fixed rows; the cache key)\n\n"
        "Writes a llama/qwen2 GGUF with deterministic random weights (GPT-2-style scaling) and the\n"
        "tokenizer of VOCAB.gguf (n_vocab = its token count).\n\n"
        "  --arch llama|qwen2|qwen3|phi3|gemma2|gemma3  architecture (default llama; gemma2 is always tied)\n"
        "  --swa N                gemma2: attention.sliding_window (default 4096); gemma3: written\n"
        "                         only when given (without it every gemma3 layer is global)\n"
        "  --layers N             blocks (default 2)\n"
        "  --embd N               embedding width (default 256)\n"
        "  --ff N                 feed-forward width (default 768)\n"
        "  --heads N              attention heads (default 4)\n"
        "  --kv-heads N           key/value heads (default: --heads)\n"
        "  --ctx N                training context length (default 2048)\n"
        "  --rope-theta F         RoPE base (default 10000; qwen2 1000000)\n"
        "  --eps F                RMSNorm epsilon (default 1e-5; qwen2 1e-6)\n"
        "  --type T               %s (default f32)\n"
        "  --tied                 no output.weight: the head reuses token_embd\n"
        "  --head-dim N           attention.key_length/value_length (default embd/heads)\n"
        "  --rope-dim N           rope.dimension_count (default: the head size)\n"
        "  --rope-freqs llama3|wide  add rope_freqs.weight: Llama 3.1's factors, or 0.5/1/2/4 in turn\n"
        "                         (wide also changes the fast pairs, so tiny tests see it; llama)\n"
        "  --bias-o, --bias-ffn   add attn_output.bias / ffn_{gate,up,down}.bias (llama)\n"
        "  --rope-factors         add rope_factors_long/short.weight (phi3 long context; set\n"
        "                         phi3.rope.scaling.original_context_length with --kv)\n"
        "  --bias-out             add output.bias (qwen2)\n"
        "  --fused-qkv            one attn_qkv.weight per layer instead of attn_{q,k,v}\n"
        "  --kv KEY=TYPE:VALUE    extra metadata (TYPE u32|i32|f32|bool|str, or an array bools|u32s|i32s\n"
        "                         of comma-separated numbers); replaces a copied key\n"
        "  --extra-tensor NAME    an extra 256-float tensor no architecture uses (up to 4)\n"
        "  --wstd F               std of the block matrices (default 0.02); larger makes attention\n"
        "                         and position matter more (key/tensor tests), at the cost of chaos\n"
        "  --seed N               random seed (default 1)\n"
        "  --name S               general.name (default: synthetic-<arch>)\n"
        "  --chat-template FILE   store FILE (a Jinja chat template) as tokenizer.chat_template\n"
        "  -t N                   threads (default: all cores)\n"
        "  -q                     quiet\n", chord_synth_ftype_names());
}

static int fail(const char *fmt, const char *a) {
    fprintf(stderr, "make_model: error: ");
    fprintf(stderr, fmt, a);
    fputc('\n', stderr);
    return 1;
}

static int num(const char *s, double lo, double hi, double *out) {
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) return 0;
    *out = v;
    return 1;
}

/* Integer options: name, destination. */
static int64_t *int_opt(options *o, const char *a) {
    chord_synth_shape *s = &o->shape;
    if (!strcmp(a, "--layers")) return &s->n_layer;
    if (!strcmp(a, "--embd")) return &s->n_embd;
    if (!strcmp(a, "--ff")) return &s->n_ff;
    if (!strcmp(a, "--heads")) return &s->n_head;
    if (!strcmp(a, "--kv-heads")) return &s->n_head_kv;
    if (!strcmp(a, "--ctx")) return &s->n_ctx;
    if (!strcmp(a, "--head-dim")) return &s->head_dim;
    if (!strcmp(a, "--rope-dim")) return &o->rope_dim;
    if (!strcmp(a, "--swa")) return &o->swa;
    return NULL;
}

static int parse_args(options *o, int argc, char **argv) {
    const char *arch = "llama";
    double v, theta = 0, eps = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--tied")) { o->shape.tied = 1; continue; }
        if (!strcmp(a, "--bias-o")) { o->shape.bias_o = 1; continue; }
        if (!strcmp(a, "--bias-ffn")) { o->shape.bias_ffn = 1; continue; }
        if (!strcmp(a, "--bias-out")) { o->shape.bias_out = 1; continue; }
        if (!strcmp(a, "--fused-qkv")) { o->shape.fused_qkv = 1; continue; }
        if (!strcmp(a, "--rope-factors")) { o->shape.rope_factors = 1; continue; }
        if (!strcmp(a, "-q")) { o->quiet = 1; continue; }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); exit(0); }
        if (i + 1 >= argc) return fail("option %s needs a value (or is unknown; try --help)", a);
        const char *val = argv[++i];
        int64_t *dst = int_opt(o, a);
        if (dst) {
            if (!num(val, 1, 1 << 24, &v) || v != (double)(int64_t)v) return fail("%s takes a positive integer", a);
            *dst = (int64_t)v;
        } else if (!strcmp(a, "--vocab")) o->vocab = val;
        else if (!strcmp(a, "-o")) o->out = val;
        else if (!strcmp(a, "--name")) o->name = val;
        else if (!strcmp(a, "--chat-template")) o->chat_template = val;
        else if (!strcmp(a, "--arch")) arch = val;
        else if (!strcmp(a, "--rope-freqs")) {
            if (!strcmp(val, "llama3")) o->shape.rope_freqs = 1;
            else if (!strcmp(val, "wide")) o->shape.rope_freqs = 2;
            else return fail("--rope-freqs takes llama3 or wide, not '%s'", val);
        }
        else if (!strcmp(a, "--kv")) {
            if (o->n_kv >= 16 || !strchr(val, '=') || !strchr(strchr(val, '='), ':'))
                return fail("--kv takes KEY=TYPE:VALUE (at most 16), not '%s'", val);
            o->kv[o->n_kv++] = val;
        } else if (!strcmp(a, "--extra-tensor")) {
            if (o->shape.n_extra >= 4 || strlen(val) >= sizeof o->shape.extra[0])
                return fail("--extra-tensor: at most 4 names under 48 bytes ('%s')", val);
            strcpy(o->shape.extra[o->shape.n_extra++], val);
        }
        else if (!strcmp(a, "--type")) {
            if (!(o->ftype = chord_synth_ftype_find(val))) return fail("unknown --type '%s'", val);
        } else if (!strcmp(a, "--rope-theta")) {
            if (!num(val, 1, 1e12, &theta)) return fail("--rope-theta must be in 1..1e12, not '%s'", val);
        } else if (!strcmp(a, "--eps")) {
            if (!num(val, 1e-12, 1, &eps)) return fail("--eps must be in 1e-12..1, not '%s'", val);
        } else if (!strcmp(a, "--wstd")) {
            if (!num(val, 1e-6, 10, &v)) return fail("--wstd must be in 1e-6..10, not '%s'", val);
            o->shape.wstd = (float)v;
        } else if (!strcmp(a, "--seed")) {
            if (!num(val, 0, 9007199254740992.0, &v)) return fail("bad --seed '%s'", val);
            o->seed = (uint64_t)v;
        } else if (!strcmp(a, "-t")) {
            if (!num(val, 1, 64, &v)) return fail("-t must be in 1..64, not '%s'", val);
            o->n_threads = (int)v;
        } else return fail("unknown option '%s' (try --help)", a);
    }
    if (!strcmp(arch, "llama")) o->shape.arch = CHORD_ARCH_LLAMA;
    else if (!strcmp(arch, "qwen2")) o->shape.arch = CHORD_ARCH_QWEN2;
    else if (!strcmp(arch, "qwen3")) o->shape.arch = CHORD_ARCH_QWEN3;
    else if (!strcmp(arch, "phi3")) o->shape.arch = CHORD_ARCH_PHI3;
    else if (!strcmp(arch, "gemma2")) o->shape.arch = CHORD_ARCH_GEMMA2;
    else if (!strcmp(arch, "gemma3")) o->shape.arch = CHORD_ARCH_GEMMA3;
    else return fail("--arch must be llama, qwen2, qwen3, phi3, gemma2 or gemma3, not '%s'", arch);
    /* Qwen's and Gemma 3's converters write a 1e6 RoPE base and 1e-6 epsilon */
    int e6 = o->shape.arch == CHORD_ARCH_QWEN2 || o->shape.arch == CHORD_ARCH_QWEN3 || o->shape.arch == CHORD_ARCH_GEMMA3;
    o->rope_theta = (float)(theta > 0 ? theta : e6 ? 1e6 : 1e4);
    o->eps = (float)(eps > 0 ? eps : e6 ? 1e-6 : 1e-5);
    o->shape.rope_theta = o->rope_theta;
    if (!o->shape.n_head_kv) o->shape.n_head_kv = o->shape.n_head;
    if (!o->vocab) return fail("--vocab FILE.gguf is required (a tokenizer to copy, e.g. %s)", "../shared/vocab/ggml-vocab-llama-spm.gguf");
    if (!o->out) return fail("-o OUT.gguf is required%s", "");
    return 0;
}

/* ---- metadata ------------------------------------------------------------------------------- */

static const char *arch_name(chord_synth_arch a) {
    return a == CHORD_ARCH_QWEN2 ? "qwen2" : a == CHORD_ARCH_QWEN3 ? "qwen3" : a == CHORD_ARCH_PHI3 ? "phi3"
         : a == CHORD_ARCH_GEMMA2 ? "gemma2" : a == CHORD_ARCH_GEMMA3 ? "gemma3" : "llama";
}

static chord_status put_hparams(chord_gguf_writer *w, const options *o) {
    const chord_synth_shape *s = &o->shape;
    const char *arch = arch_name(s->arch);
    const int64_t head = s->head_dim ? s->head_dim : s->n_embd / s->n_head;
    char key[96], name[64];
    chord_status st = CHORD_OK;
    snprintf(name, sizeof name, "synthetic-%s", arch);
    st = st ? st : chord_gguf_writer_kv_str(w, "general.architecture", arch);
    st = st ? st : chord_gguf_writer_kv_str(w, "general.name", o->name ? o->name : name);
    st = st ? st : chord_gguf_writer_kv_u32(w, "general.file_type", o->ftype->llama_ftype);
    st = st ? st : chord_gguf_writer_kv_u32(w, "general.quantization_version", 2);
    st = st ? st : chord_gguf_writer_kv_u32(w, "general.alignment", 32);
#define KV_U32(suffix, v) (snprintf(key, sizeof key, "%s." suffix, arch), \
                           st = st ? st : chord_gguf_writer_kv_u32(w, key, (uint32_t)(v)))
    KV_U32("context_length", s->n_ctx);
    KV_U32("embedding_length", s->n_embd);
    KV_U32("block_count", s->n_layer);
    KV_U32("feed_forward_length", s->n_ff);
    KV_U32("attention.head_count", s->n_head);
    KV_U32("attention.head_count_kv", s->n_head_kv);
    KV_U32("rope.dimension_count", o->rope_dim ? o->rope_dim : head);
    if (s->head_dim) {
        KV_U32("attention.key_length", head);
        KV_U32("attention.value_length", head);
    }
    KV_U32("vocab_size", s->n_vocab);
    if (s->arch == CHORD_ARCH_GEMMA2) { /* Gemma 2's soft-caps and window (config.json values) */
        KV_U32("attention.sliding_window", o->swa ? o->swa : 4096);
        snprintf(key, sizeof key, "%s.attn_logit_softcapping", arch);
        st = st ? st : chord_gguf_writer_kv_f32(w, key, 50.0f);
        snprintf(key, sizeof key, "%s.final_logit_softcapping", arch);
        st = st ? st : chord_gguf_writer_kv_f32(w, key, 30.0f);
    }
    if (s->arch == CHORD_ARCH_GEMMA3 && o->swa) KV_U32("attention.sliding_window", o->swa); /* no soft-caps */
#undef KV_U32
    snprintf(key, sizeof key, "%s.rope.freq_base", arch);
    st = st ? st : chord_gguf_writer_kv_f32(w, key, o->rope_theta);
    snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", arch);
    st = st ? st : chord_gguf_writer_kv_f32(w, key, o->eps);
    return st;
}

/* --kv KEY=bools|u32s|i32s:1,0,3 — a numeric array (gemma's per-layer sliding_window_pattern) */
static chord_status put_kv_array(chord_gguf_writer *w, const char *key, const char *type, const char *val,
                                 chord_error *err) {
    const int is_bool = !strcmp(type, "bools"), is_i32 = !strcmp(type, "i32s");
    uint32_t data[512];
    uint8_t bytes[512];
    uint64_t n = 0;
    char item[32];
    for (const char *p = val; *p; n++) {
        size_t len = strcspn(p, ",");
        double v;
        if (n >= 512 || len >= sizeof item) return chord_fail(err, CHORD_E_INVALID_ARG, "--kv %s: at most 512 numbers", key);
        memcpy(item, p, len); item[len] = 0;
        if (!num(item, is_i32 ? -2147483648.0 : 0, is_bool ? 1 : 4294967295.0, &v) || v != (double)(int64_t)v)
            return chord_fail(err, CHORD_E_INVALID_ARG, "--kv %s: bad %s element '%s'", key, type, item);
        if (is_i32) { int32_t x = (int32_t)v; memcpy(&data[n], &x, 4); }
        else data[n] = (uint32_t)v;
        bytes[n] = (uint8_t)v;
        p += len + (p[len] == ',');
    }
    return chord_gguf_writer_kv_arr(w, key, is_bool ? CHORD_GGUF_BOOL : is_i32 ? CHORD_GGUF_INT32 : CHORD_GGUF_UINT32,
                                    is_bool ? (const void *)bytes : (const void *)data, n);
}

/* --kv KEY=TYPE:VALUE */
static chord_status put_extra_kv(chord_gguf_writer *w, const char *spec, chord_error *err) {
    char key[256], type[16];
    const char *eq = strchr(spec, '='), *colon = strchr(eq, ':'), *val = colon + 1;
    if ((size_t)(eq - spec) >= sizeof key || (size_t)(colon - eq - 1) >= sizeof type)
        return chord_fail(err, CHORD_E_INVALID_ARG, "--kv '%s': key or type too long", spec);
    memcpy(key, spec, (size_t)(eq - spec)); key[eq - spec] = 0;
    memcpy(type, eq + 1, (size_t)(colon - eq - 1)); type[colon - eq - 1] = 0;
    if (!strcmp(type, "bools") || !strcmp(type, "u32s") || !strcmp(type, "i32s")) return put_kv_array(w, key, type, val, err);
    double v = 0;
    int is_num = num(val, -1e30, 1e30, &v);
    if (!strcmp(type, "str")) return chord_gguf_writer_kv_str(w, key, val);
    if (!strcmp(type, "bool") && (!strcmp(val, "true") || !strcmp(val, "false")))
        return chord_gguf_writer_kv_bool(w, key, !strcmp(val, "true"));
    if (is_num && !strcmp(type, "f32")) return chord_gguf_writer_kv_f32(w, key, (float)v);
    if (is_num && !strcmp(type, "u32") && v >= 0 && v <= 4294967295.0 && v == (double)(uint32_t)v)
        return chord_gguf_writer_kv_u32(w, key, (uint32_t)v);
    if (is_num && !strcmp(type, "i32") && v >= -2147483648.0 && v <= 2147483647.0 && v == (double)(int32_t)v)
        return chord_gguf_writer_kv_i32(w, key, (int32_t)v);
    return chord_fail(err, CHORD_E_INVALID_ARG, "--kv '%s': TYPE must be u32|i32|f32|bool|str with a matching value", spec);
}

static int kv_overridden(const options *o, const char *key) {
    for (int i = 0; i < o->n_kv; i++)
        if (!strncmp(o->kv[i], key, strlen(key)) && o->kv[i][strlen(key)] == '=') return 1;
    return 0;
}

/* Copies every tokenizer.* key of the vocabulary file (tokens, scores, types, merges, special
 * ids, pre-tokenizer name): llama.cpp and our tokenizer then behave exactly as on the original. */
static chord_status put_vocab(chord_gguf_writer *w, const options *o, const chord_gguf *v, int skip_template,
                              chord_error *err) {
    for (uint64_t i = 0; i < chord_gguf_n_kv(v); i++) {
        if (strncmp(chord_gguf_key(v, i), "tokenizer.", 10) || kv_overridden(o, chord_gguf_key(v, i))) continue;
        if (skip_template && !strcmp(chord_gguf_key(v, i), "tokenizer.chat_template")) continue;
        chord_status st = chord_gguf_writer_kv_copy(w, v, i);
        if (st) return chord_fail(err, st, "copying '%s' from the vocabulary", chord_gguf_key(v, i));
    }
    return CHORD_OK;
}

/* --chat-template: the file's bytes as tokenizer.chat_template (must be UTF-8 text, no NUL). */
static chord_status put_chat_template(chord_gguf_writer *w, const char *path, chord_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return chord_fail(err, CHORD_E_IO, "cannot open --chat-template %s", path);
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap + 1);
    for (size_t got; b && (got = fread(b + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) { char *nb = realloc(b, (cap *= 2) + 1); if (!nb) { free(b); b = NULL; } else b = nb; }
    }
    fclose(f);
    if (!b) return chord_fail(err, CHORD_E_NOMEM, "reading %s", path);
    b[n] = 0;
    chord_status st = strlen(b) != n ? chord_fail(err, CHORD_E_INVALID_ARG, "%s contains a NUL byte", path)
                                     : chord_gguf_writer_kv_str(w, "tokenizer.chat_template", b);
    free(b);
    return st;
}

/* ---- tensor data ---------------------------------------------------------------------------- */

typedef struct {
    const chord_synth_tensor *t;
    const chord_type_traits *tr;
    uint64_t tensor_seed, row_bytes;
    uint8_t *dst;
    float *scratch;            /* ne[0] floats per thread */
} fill_job;

static void fill_rows(void *ctx, int ith, int nth) {
    fill_job *j = ctx;
    const int64_t ne0 = j->t->ne[0];
    float *row = j->scratch + (size_t)ith * (size_t)ne0;
    for (int64_t r = ith; r < j->t->ne[1]; r += nth) {
        if (j->t->init == CHORD_INIT_ONES) {
            for (int64_t k = 0; k < ne0; k++) row[k] = 1.0f;
        } else if (j->t->init == CHORD_INIT_ROPE_FREQS) {
            static const float SHORT[3] = { 1.0f, 1.5f, 2.5f };
            for (int64_t k = 0; k < ne0; k++)
                row[k] = j->t->std > 2 ? SHORT[k % 3] : j->t->std > 1 ? 0.5f * (float)(1 << (k % 4))
                                                      : chord_synth_rope_freq(j->t->theta, k, ne0);
        } else {
            chord_rng rng;
            chord_rng_seed(&rng, j->tensor_seed, (uint64_t)r);
            chord_rng_normal(&rng, row, ne0, j->t->std);
            for (int64_t k = 0; k < ne0; k++) row[k] += j->t->mean;
        }
        uint8_t *out = j->dst + (uint64_t)r * j->row_bytes;
        if (j->t->type == CHORD_TYPE_F32) memcpy(out, row, (size_t)ne0 * sizeof(float));
        else j->tr->from_float_ref(row, out, ne0);
    }
}

static chord_status write_tensor(chord_gguf_writer *w, chord_pool *pool, const options *o,
                                 const chord_synth_tensor *t, uint8_t **buf, uint64_t *buf_cap,
                                 float *scratch, chord_error *err) {
    fill_job j = { .t = t, .tr = chord_type_get(t->type), .scratch = scratch };
    chord_status st = chord_type_row_bytes(t->type, (uint64_t)t->ne[0], &j.row_bytes);
    if (st) return chord_fail(err, st, "tensor '%s': no row size for type %s", t->name, chord_type_name(t->type));
    if (t->type != CHORD_TYPE_F32 && (!j.tr || !j.tr->from_float_ref))
        return chord_fail(err, CHORD_E_UNSUPPORTED, "tensor '%s': type %s has no quantizer", t->name, chord_type_name(t->type));
    uint64_t n_bytes = j.row_bytes * (uint64_t)t->ne[1];
    if (n_bytes > *buf_cap) {
        free(*buf);
        if (!(*buf = malloc((size_t)n_bytes))) { *buf_cap = 0; return chord_fail(err, CHORD_E_NOMEM, "tensor '%s': %llu bytes", t->name, (unsigned long long)n_bytes); }
        *buf_cap = n_bytes;
    }
    j.dst = *buf;
    j.tensor_seed = chord_rng_tensor_seed(o->seed, t->name);
    chord_pool_run(pool, fill_rows, &j);
    return chord_gguf_writer_tensor_data(w, j.dst, n_bytes, err);
}

/* --quant-probe: for every type with a quantizer, its name and block size and the bytes of three
 * 512-wide rows made by the same code as a tensor (fill_rows: random stream, mean, quantizer) —
 * small, typical (std 0.02) and large (std 1, mean 0.5) weights and a row of zeros. A change
 * to what any quantizer writes changes this output. */
static int quant_probe(void) {
    static const struct { float std, mean; } rows[3] = { { 0.02f, 0 }, { 1.0f, 0.5f }, { 0, 0 } };
    float scratch[512];
    uint8_t out[512 * sizeof(float)];
    for (uint32_t type = 0; type < CHORD_TYPE_COUNT; type++) {
        const chord_type_traits *tr = chord_type_get(type);
        if (!tr || (type != CHORD_TYPE_F32 && !tr->from_float_ref)) continue;
        printf("%s %u %u\n", tr->name, tr->block_elems, tr->block_bytes);
        for (int k = 0; k < 3; k++) {
            chord_synth_tensor t = { .n_dims = 2, .ne = { 512, 1 }, .type = (chord_type)type,
                                     .init = CHORD_INIT_NORMAL, .std = rows[k].std, .mean = rows[k].mean };
            snprintf(t.name, sizeof t.name, "probe.%d", k);
            fill_job j = { .t = &t, .tr = tr, .scratch = scratch, .dst = out,
                           .tensor_seed = chord_rng_tensor_seed(1, t.name) };
            if (chord_type_row_bytes(type, 512, &j.row_bytes) != CHORD_OK || j.row_bytes > sizeof out) return 1;
            fill_rows(&j, 0, 1);
            fwrite(out, 1, (size_t)j.row_bytes, stdout);
        }
    }
    return fflush(stdout) != 0;
}

/* ---- main ----------------------------------------------------------------------------------- */

typedef struct {
    chord_source src;
    chord_gguf *vocab;
    chord_gguf_writer *w;
    chord_pool *pool;
    chord_synth_tensor *tensors;
    uint8_t *buf;
    float *scratch;
} resources;

static void release(resources *r) {
    chord_gguf_writer_free(r->w);
    chord_gguf_close(r->vocab);
    chord_source_close(&r->src);
    chord_pool_free(r->pool);
    free(r->tensors);
    free(r->buf);
    free(r->scratch);
}

static chord_status build(const options *o_in, resources *r, const char *tmp, chord_error *err) {
    options o = *o_in;
    chord_status st = chord_source_from_file(&r->src, o.vocab, err);
    if (!st) st = chord_gguf_open(&r->vocab, &r->src, err);
    if (st) return st;
    uint64_t idx, n_tok;
    if ((st = chord_gguf_get_arr(r->vocab, "tokenizer.ggml.tokens", CHORD_GGUF_STRING, &idx, &n_tok, err)))
        return chord_fail(err, st, "%s: no token list: %s", o.vocab, err->message);
    o.shape.n_vocab = (int64_t)n_tok;
    if (!(r->w = chord_gguf_writer_new())) return chord_fail(err, CHORD_E_NOMEM, "GGUF writer");
    if ((st = put_hparams(r->w, &o))) return chord_fail(err, st, "writing hyper-parameters");
    if ((st = put_vocab(r->w, &o, r->vocab, o.chat_template != NULL, err))) return st;
    if (o.chat_template && (st = put_chat_template(r->w, o.chat_template, err))) return st;
    for (int i = 0; i < o.n_kv; i++)
        if ((st = put_extra_kv(r->w, o.kv[i], err))) return st;
    size_t cap = chord_synth_plan_count(&o.shape), n;
    char msg[256];
    if (!(r->tensors = calloc(cap, sizeof *r->tensors))) return chord_fail(err, CHORD_E_NOMEM, "tensor list");
    if (!(n = chord_synth_plan(&o.shape, o.ftype, r->tensors, cap, msg, sizeof msg)))
        return chord_fail(err, CHORD_E_INVALID_ARG, "%s", msg);
    for (size_t i = 0; i < n; i++)
        if ((st = chord_gguf_writer_add_tensor(r->w, r->tensors[i].name, r->tensors[i].type,
                                               r->tensors[i].n_dims, r->tensors[i].ne)))
            return chord_fail(err, st, "adding tensor '%s'", r->tensors[i].name);
    int nth = o.n_threads ? o.n_threads : chord_cpu_count();
    if ((st = chord_pool_new(&r->pool, nth, err))) return st;
    int64_t widest = 1; /* one row of the widest tensor per thread (output.bias is n_vocab long) */
    for (size_t i = 0; i < n; i++) widest = r->tensors[i].ne[0] > widest ? r->tensors[i].ne[0] : widest;
    if (!(r->scratch = malloc((size_t)nth * (size_t)widest * sizeof(float))))
        return chord_fail(err, CHORD_E_NOMEM, "scratch rows");
    if ((st = chord_gguf_writer_begin(r->w, tmp, err))) return st;
    uint64_t buf_cap = 0;
    int progress = !o.quiet && isatty(2);
    for (size_t i = 0; i < n; i++) {
        if ((st = write_tensor(r->w, r->pool, &o, &r->tensors[i], &r->buf, &buf_cap, r->scratch, err))) return st;
        if (progress) fprintf(stderr, "\rmake_model: %zu/%zu tensors", i + 1, n);
    }
    if (progress) fputc('\n', stderr);
    return chord_gguf_writer_end(r->w, err);
}

int main(int argc, char **argv) {
    options o = { .shape = { .n_layer = 2, .n_embd = 256, .n_ff = 768, .n_head = 4, .n_ctx = 2048 },
                  .seed = 1 };
    o.ftype = chord_synth_ftype_find("f32");
    if (argc < 2) { usage(stderr); return 2; }
    if (argc == 2 && !strcmp(argv[1], "--quant-probe")) return quant_probe();
    if (parse_args(&o, argc, argv)) return 2;
    chord_quant_init();
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", o.out) >= (int)sizeof tmp) return fail("output path too long: %s", o.out);
    double t0 = chord_time_ms();
    resources r;
    memset(&r, 0, sizeof r);
    chord_error err = { 0 };
    chord_status st = build(&o, &r, tmp, &err);
    release(&r);
    if (st != CHORD_OK) {
        remove(tmp);
        fprintf(stderr, "make_model: error: %s\n", err.message[0] ? err.message : chord_status_message(st));
        return 1;
    }
    if (rename(tmp, o.out) != 0) { remove(tmp); return fail("cannot rename the output to %s", o.out); }
    if (!o.quiet)
        fprintf(stderr, "make_model: wrote %s (%s, %s, %lld layers, %lld embd) in %.1f s\n", o.out,
                arch_name(o.shape.arch), o.ftype->name,
                (long long)o.shape.n_layer, (long long)o.shape.n_embd, (chord_time_ms() - t0) / 1e3);
    return 0;
}
