/*
 * test_model.c — model loading and the session API on small generated GGUF files:
 *  - bad hyper-parameters and tensors are load-time errors naming the problem (heads not
 *    dividing the embedding, kv heads not dividing heads, a tensor of the wrong shape, a missing
 *    tensor or key, an unknown architecture, an odd RoPE dimension count);
 *  - the forward pass of llama and qwen2 (biases, NeoX RoPE, GQA, tied output) agrees with a
 *    plain double-precision reference written here from the equations;
 *  - batched and one-token-at-a-time feeding, and 1 and 2 threads, give identical logits;
 *  - API errors: token out of range, prompt longer than the context, context beyond the
 *    model's, generate before feed, bad sampler parameters.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chord.h"
#include "check.h"
#include "gguf/gguf.h"

typedef struct {
    const char *arch;
    int embd, ff, layers, heads, kv_heads, vocab, ctx, rot;
    int tied;
    const char *bad_tensor;   /* this tensor gets one extra row */
    const char *skip_tensor;  /* this tensor is left out */
    int skip_block_count;
} spec;

static spec base_spec(const char *arch) {
    spec s = { arch, 32, 48, 2, 4, 2, 40, 128, 8, 0, NULL, NULL, 0 };
    return s;
}

static uint64_t rng_state = 1;
static float frand(void) { /* deterministic small weights in [-0.5, 0.5) */
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)(rng_state >> 40) / 16777216.0f - 0.5f;
}

/* Weights of the model, kept for the reference forward pass. */
typedef struct { char name[64]; int64_t ne0, ne1; float *w; } tensor;
typedef struct { tensor t[64]; int n; } tensors;

static void add(tensors *ts, const spec *s, const char *name, int64_t ne0, int64_t ne1, float scale, float bias) {
    if (s->skip_tensor && !strcmp(s->skip_tensor, name)) return;
    tensor *t = &ts->t[ts->n++];
    snprintf(t->name, sizeof t->name, "%s", name);
    if (s->bad_tensor && !strcmp(s->bad_tensor, name)) ne1 += 1;
    t->ne0 = ne0;
    t->ne1 = ne1;
    t->w = malloc(sizeof(float) * (size_t)(ne0 * ne1));
    for (int64_t i = 0; i < ne0 * ne1; i++) t->w[i] = bias + scale * frand();
}

static const float *find(const tensors *ts, const char *name) {
    for (int i = 0; i < ts->n; i++) if (!strcmp(ts->t[i].name, name)) return ts->t[i].w;
    return NULL;
}

static void free_tensors(tensors *ts) { for (int i = 0; i < ts->n; i++) free(ts->t[i].w); ts->n = 0; }

static int write_model(const char *path, const spec *s, tensors *ts) {
    char k[96];
    int hd = s->embd / s->heads;
    rng_state = 42;
    chord_gguf_writer *w = chord_gguf_writer_new();
    chord_gguf_writer_kv_str(w, "general.architecture", s->arch);
#define KV(key, v) do { snprintf(k, sizeof k, "%s." key, s->arch); chord_gguf_writer_kv_u32(w, k, (uint32_t)(v)); } while (0)
    KV("embedding_length", s->embd);
    KV("feed_forward_length", s->ff);
    if (!s->skip_block_count) KV("block_count", s->layers);
    KV("attention.head_count", s->heads);
    KV("attention.head_count_kv", s->kv_heads);
    KV("context_length", s->ctx);
    KV("rope.dimension_count", s->rot);
#undef KV
    snprintf(k, sizeof k, "%s.attention.layer_norm_rms_epsilon", s->arch);
    chord_gguf_writer_kv_f32(w, k, 1e-5f);
    snprintf(k, sizeof k, "%s.rope.freq_base", s->arch);
    chord_gguf_writer_kv_f32(w, k, 10000.0f);
    int qwen = !strcmp(s->arch, "qwen2");
    int hd_all = hd * s->heads, kv_all = (s->embd % s->heads ? s->embd / s->heads : hd) * s->kv_heads;
    add(ts, s, "token_embd.weight", s->embd, s->vocab, 2.0f, 0);
    add(ts, s, "output_norm.weight", s->embd, 1, 0.2f, 1.0f);
    if (!s->tied) add(ts, s, "output.weight", s->embd, s->vocab, 0.4f, 0);
    for (int l = 0; l < s->layers; l++) {
        char n[64];
#define T(suffix, a, b, sc, bi) do { snprintf(n, sizeof n, "blk.%d." suffix, l); add(ts, s, n, a, b, sc, bi); } while (0)
        T("attn_norm.weight", s->embd, 1, 0.2f, 1.0f);
        T("attn_q.weight", s->embd, hd_all, 0.5f, 0);
        T("attn_k.weight", s->embd, kv_all, 0.5f, 0);
        T("attn_v.weight", s->embd, kv_all, 0.5f, 0);
        if (qwen) {
            T("attn_q.bias", hd_all, 1, 0.5f, 0);
            T("attn_k.bias", kv_all, 1, 0.5f, 0);
            T("attn_v.bias", kv_all, 1, 0.5f, 0);
        }
        T("attn_output.weight", hd_all, s->embd, 0.3f, 0);
        T("ffn_norm.weight", s->embd, 1, 0.2f, 1.0f);
        T("ffn_gate.weight", s->embd, s->ff, 0.5f, 0);
        T("ffn_up.weight", s->embd, s->ff, 0.5f, 0);
        T("ffn_down.weight", s->ff, s->embd, 0.3f, 0);
#undef T
    }
    for (int i = 0; i < ts->n; i++) {
        int64_t ne[2] = { ts->t[i].ne0, ts->t[i].ne1 };
        chord_gguf_writer_add_tensor(w, ts->t[i].name, CHORD_TYPE_F32, ts->t[i].ne1 == 1 ? 1 : 2, ne);
    }
    chord_error err;
    int ok = chord_gguf_writer_begin(w, path, &err) == CHORD_OK;
    for (int i = 0; ok && i < ts->n; i++)
        ok = chord_gguf_writer_tensor_data(w, ts->t[i].w, sizeof(float) * (uint64_t)(ts->t[i].ne0 * ts->t[i].ne1), &err) == CHORD_OK;
    ok = ok && chord_gguf_writer_end(w, &err) == CHORD_OK;
    if (!ok) fprintf(stderr, "writing %s: %s\n", path, err.message);
    chord_gguf_writer_free(w);
    return ok;
}

/* Opens a model made from spec; returns the status and the message. */
static chord_status open_spec2(const spec *s, chord_model **m, chord_model **m_read, chord_error *err, tensors *keep) {
    char path[64];
    snprintf(path, sizeof path, "/tmp/chord_test_model_%d.gguf", (int)getpid());
    tensors local = { .n = 0 };
    tensors *ts = keep ? keep : &local;
    if (!write_model(path, s, ts)) return CHORD_E_IO;
    chord_status st = chord_model_open(m, path, NULL, err);
    if (st == CHORD_OK && m_read) { /* the same file read into an owned buffer instead of mapped */
        chord_model_params mp = chord_model_params_default();
        mp.use_mmap = 0;
        st = chord_model_open(m_read, path, &mp, err);
    }
    if (!keep) free_tensors(&local);
    remove(path);
    return st;
}

static chord_status open_spec(const spec *s, chord_model **m, chord_error *err, tensors *keep) {
    return open_spec2(s, m, NULL, err, keep);
}

static void expect_load_error(spec s, chord_status code, const char *needle) {
    chord_model *m = NULL;
    chord_error err_, *err = &err_;
    err->message[0] = '\0';
    chord_status st = open_spec(&s, &m, err, NULL);
    CHECKF(st == code && strstr(err->message, needle), "expected %s containing '%s', got %s: %s",
           chord_status_name(code), needle, chord_status_name(st), err->message);
    chord_model_free(m);
}

/* ---- reference forward pass (double precision, straight from the equations) ---------------- */

static void ref_matvec(double *y, const float *w, const double *x, int n_in, int n_out) {
    for (int r = 0; r < n_out; r++) {
        double s = 0;
        for (int i = 0; i < n_in; i++) s += (double)w[(size_t)r * n_in + i] * x[i];
        y[r] = s;
    }
}

static void ref_norm(double *y, const double *x, const float *w, int n) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += x[i] * x[i];
    double sc = 1.0 / sqrt(ss / n + 1e-5);
    for (int i = 0; i < n; i++) y[i] = x[i] * sc * w[i];
}

static void ref_rope(double *v, int n_heads, int hd, int rot, int pos, int neox) {
    for (int h = 0; h < n_heads; h++)
        for (int i = 0; i < rot / 2; i++) {
            double th = pos * pow(10000.0, -2.0 * i / rot);
            int a = neox ? i : 2 * i, b = neox ? i + rot / 2 : 2 * i + 1;
            double x0 = v[h * hd + a], x1 = v[h * hd + b];
            v[h * hd + a] = x0 * cos(th) - x1 * sin(th);
            v[h * hd + b] = x0 * sin(th) + x1 * cos(th);
        }
}

/* Logits after feeding tokens[0..n) (last position). */
static void ref_forward(const spec *s, const tensors *ts, const int32_t *tok, int n, double *logits) {
    const int E = s->embd, H = s->heads, KV = s->kv_heads, hd = E / H, F = s->ff;
    int neox = !strcmp(s->arch, "qwen2");
    double *K = calloc((size_t)s->layers * n * KV * hd, sizeof(double)), *V = calloc((size_t)s->layers * n * KV * hd, sizeof(double));
    double x[256], h[256], q[256], k[256], v[256], att[256], g[256], u[256], o[256], sc[128];
    char nm[64];
    for (int p = 0; p < n; p++) {
        for (int i = 0; i < E; i++) x[i] = find(ts, "token_embd.weight")[(size_t)tok[p] * E + i];
        for (int l = 0; l < s->layers; l++) {
#define W(suffix) (snprintf(nm, sizeof nm, "blk.%d." suffix, l), find(ts, nm))
            ref_norm(h, x, W("attn_norm.weight"), E);
            ref_matvec(q, W("attn_q.weight"), h, E, H * hd);
            ref_matvec(k, W("attn_k.weight"), h, E, KV * hd);
            ref_matvec(v, W("attn_v.weight"), h, E, KV * hd);
            if (neox) {
                for (int i = 0; i < H * hd; i++) q[i] += W("attn_q.bias")[i];
                for (int i = 0; i < KV * hd; i++) { k[i] += W("attn_k.bias")[i]; v[i] += W("attn_v.bias")[i]; }
            }
            ref_rope(q, H, hd, s->rot, p, neox);
            ref_rope(k, KV, hd, s->rot, p, neox);
            double *Kl = K + (size_t)l * n * KV * hd, *Vl = V + (size_t)l * n * KV * hd;
            memcpy(Kl + (size_t)p * KV * hd, k, sizeof(double) * KV * hd);
            memcpy(Vl + (size_t)p * KV * hd, v, sizeof(double) * KV * hd);
            for (int hh = 0; hh < H; hh++) {
                int kh = hh / (H / KV);
                double mx = -1e300, sum = 0;
                for (int t = 0; t <= p; t++) {
                    double d = 0;
                    for (int i = 0; i < hd; i++) d += q[hh * hd + i] * Kl[((size_t)t * KV + kh) * hd + i];
                    sc[t] = d / sqrt((double)hd);
                    if (sc[t] > mx) mx = sc[t];
                }
                for (int t = 0; t <= p; t++) { sc[t] = exp(sc[t] - mx); sum += sc[t]; }
                for (int i = 0; i < hd; i++) {
                    double a = 0;
                    for (int t = 0; t <= p; t++) a += sc[t] * Vl[((size_t)t * KV + kh) * hd + i];
                    att[hh * hd + i] = a / sum;
                }
            }
            ref_matvec(o, W("attn_output.weight"), att, H * hd, E);
            for (int i = 0; i < E; i++) x[i] += o[i];
            ref_norm(h, x, W("ffn_norm.weight"), E);
            ref_matvec(g, W("ffn_gate.weight"), h, E, F);
            ref_matvec(u, W("ffn_up.weight"), h, E, F);
            for (int i = 0; i < F; i++) g[i] = g[i] / (1 + exp(-g[i])) * u[i];
            ref_matvec(o, W("ffn_down.weight"), g, F, E);
            for (int i = 0; i < E; i++) x[i] += o[i];
#undef W
        }
    }
    ref_norm(h, x, find(ts, "output_norm.weight"), E);
    const float *out = find(ts, s->tied ? "token_embd.weight" : "output.weight");
    ref_matvec(logits, out, h, E, s->vocab);
    free(K);
    free(V);
}

static void test_forward(const char *arch, int tied) {
    spec s = base_spec(arch);
    s.tied = tied;
    tensors ts = { .n = 0 };
    chord_model *m = NULL, *m_read = NULL;
    chord_error err_, *err = &err_;
    CHECK_OK(open_spec2(&s, &m, &m_read, err, &ts), err);
    if (!m || !m_read) { chord_model_free(m); free_tensors(&ts); return; }
    const int32_t toks[7] = { 1, 5, 17, 3, 39, 0, 22 };
    double ref[64];
    ref_forward(&s, &ts, toks, 7, ref);

    float got[4][64];
    for (int variant = 0; variant < 4; variant++) {
        chord_session *se = NULL;
        chord_session_params sp = chord_session_params_default();
        sp.n_ctx = 16;
        sp.n_threads = variant == 2 ? 2 : 1;
        sp.n_batch = variant == 1 ? 1 : 64;
        CHECK_OK(chord_session_new(&se, variant == 3 ? m_read : m, &sp, err), err);
        if (!se) break;
        CHECK_OK(chord_session_feed(se, toks, 3, err), err);  /* in two parts: the cache carries over */
        CHECK_OK(chord_session_feed(se, toks + 3, 4, err), err);
        CHECK(chord_session_pos(se) == 7);
        memcpy(got[variant], chord_session_logits(se), sizeof(float) * (size_t)s.vocab);
        chord_session_free(se);
    }
    double max_err = 0, max_ref = 0;
    for (int i = 0; i < s.vocab; i++) {
        double e = fabs(got[0][i] - ref[i]);
        if (e > max_err) max_err = e;
        if (fabs(ref[i]) > max_ref) max_ref = fabs(ref[i]);
    }
    /* F16 K/V cache and F16 attention accumulation: errors of ~1e-3 of the logit scale */
    printf("%s%s: forward vs double reference: max |error| %.5f (logits up to %.3f)\n", arch,
           tied ? " (tied)" : "", max_err, max_ref);
    CHECKF(max_err < 0.01 * max_ref + 1e-3, "%s: logits differ from the reference by %g", arch, max_err);
    CHECK(memcmp(got[0], got[1], sizeof(float) * (size_t)s.vocab) == 0); /* batched == one by one */
    CHECK(memcmp(got[0], got[2], sizeof(float) * (size_t)s.vocab) == 0); /* 1 thread == 2 threads */
    CHECK(memcmp(got[0], got[3], sizeof(float) * (size_t)s.vocab) == 0); /* mapped == read */

    /* a 70-token prompt in one batch takes the all-F32 attention path (>= 64 queries) */
    int32_t long_toks[70];
    for (int i = 0; i < 70; i++) long_toks[i] = (int32_t)((i * 7 + 3) % s.vocab);
    ref_forward(&s, &ts, long_toks, 70, ref);
    chord_session *se = NULL;
    chord_session_params sp = chord_session_params_default();
    sp.n_ctx = 80;
    sp.n_batch = 128;
    CHECK_OK(chord_session_new(&se, m, &sp, err), err);
    if (se) {
        CHECK_OK(chord_session_feed(se, long_toks, 70, err), err);
        const float *lg = chord_session_logits(se);
        double e70 = 0;
        for (int i = 0; i < s.vocab; i++) if (fabs(lg[i] - ref[i]) > e70) e70 = fabs(lg[i] - ref[i]);
        printf("%s%s: 70-token batch vs reference: max |error| %.5f\n", arch, tied ? " (tied)" : "", e70);
        CHECKF(e70 < 0.01 * max_ref + 2e-3, "%s: 70-token logits differ from the reference by %g", arch, e70);
        chord_session_free(se);
    }
    chord_model_free(m);
    chord_model_free(m_read);
    free_tensors(&ts);
}

static int cb_count(void *user, int32_t token, const char *text, size_t len) {
    (void)token; (void)text; (void)len;
    return ++*(int *)user >= 3; /* stop after 3 */
}

static void test_api_errors(void) {
    spec s = base_spec("llama");
    chord_model *m = NULL;
    chord_error err_, *err = &err_;
    CHECK_OK(open_spec(&s, &m, err, NULL), err);
    if (!m) return;
    chord_session *se = NULL;
    chord_session_params sp = chord_session_params_default();
    sp.n_ctx = 129;
    CHECK(chord_session_new(&se, m, &sp, err) == CHORD_E_RANGE && strstr(err->message, "context"));
    sp.n_ctx = 8;
    CHECK_OK(chord_session_new(&se, m, &sp, err), err);
    if (!se) { chord_model_free(m); return; }
    chord_sampler_params p = chord_sampler_params_default();
    CHECK(chord_generate(se, &p, 4, NULL, NULL, err) == CHORD_E_INVALID_ARG); /* nothing fed */
    int32_t bad = 40;
    CHECK(chord_session_feed(se, &bad, 1, err) == CHORD_E_RANGE && strstr(err->message, "40"));
    bad = -1;
    CHECK(chord_session_feed(se, &bad, 1, err) == CHORD_E_RANGE);
    int32_t many[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
    CHECK(chord_session_feed(se, many, 9, err) == CHORD_E_RANGE && strstr(err->message, "context"));
    CHECK(chord_session_pos(se) == 0); /* nothing appended on error */
    CHECK_OK(chord_session_feed(se, many, 2, err), err);
    p.temperature = -1;
    CHECK(chord_generate(se, &p, 4, NULL, NULL, err) == CHORD_E_INVALID_ARG && strstr(err->message, "temperature"));
    p = chord_sampler_params_default();
    p.top_p = 0;
    CHECK(chord_generate(se, &p, 4, NULL, NULL, err) == CHORD_E_INVALID_ARG && strstr(err->message, "top_p"));
    p.top_p = NAN;
    CHECK(chord_generate(se, &p, 4, NULL, NULL, err) == CHORD_E_INVALID_ARG);
    p = chord_sampler_params_default();
    p.temperature = 0;
    int count = 0;
    CHECK_OK(chord_generate(se, &p, 10, cb_count, &count, err), err);
    CHECK(count == 3 && chord_session_pos(se) == 5);   /* the callback stopped it after 3 tokens */
    CHECK(chord_generate(se, &p, 10, NULL, NULL, err) == CHORD_E_RANGE); /* fills the context */
    CHECK(chord_session_pos(se) == 8);
    chord_session_reset(se);
    CHECK(chord_session_pos(se) == 0 && chord_session_logits(se) == NULL);
    chord_stats st;
    CHECK_OK(chord_session_stats(se, &st), err);
    CHECK(st.n_prefill == 2 && st.n_decode == 6 && st.weight_bytes > 0);
    chord_session_free(se);
    chord_model_info info;
    CHECK_OK(chord_model_get_info(m, &info), err);
    CHECK(!strcmp(info.arch, "llama") && info.n_vocab == 40 && info.n_layer == 2 && info.n_head_kv == 2);
    char buf[256];
    int found = 0;
    for (size_t i = 0; i < chord_model_meta_count(m); i++)
        if (!strcmp(chord_model_meta_key(m, i), "llama.block_count")) {
            CHECK_OK(chord_model_meta_value(m, i, buf, sizeof buf), err);
            found = !strcmp(buf, "2");
        }
    CHECK(found);
    chord_model_free(m);
}

int main(void) {
    (void)check_shared_path;
    spec s;
    s = base_spec("llama"); s.heads = 5;
    expect_load_error(s, CHORD_E_FORMAT, "does not divide");
    s = base_spec("llama"); s.kv_heads = 3;
    expect_load_error(s, CHORD_E_FORMAT, "head_count_kv = 3 does not divide");
    s = base_spec("llama"); s.bad_tensor = "blk.1.attn_k.weight";
    expect_load_error(s, CHORD_E_FORMAT, "blk.1.attn_k.weight");
    s = base_spec("qwen2"); s.skip_tensor = "blk.0.attn_v.bias";
    expect_load_error(s, CHORD_E_FORMAT, "missing tensor 'blk.0.attn_v.bias'");
    s = base_spec("llama"); s.skip_tensor = "blk.1.ffn_down.weight";
    expect_load_error(s, CHORD_E_FORMAT, "blk.1.ffn_down.weight");
    s = base_spec("llama"); s.skip_block_count = 1;
    expect_load_error(s, CHORD_E_FORMAT, "block_count");
    s = base_spec("gpt-neox");
    expect_load_error(s, CHORD_E_UNSUPPORTED, "gpt-neox");
    s = base_spec("llama"); s.rot = 7;
    expect_load_error(s, CHORD_E_FORMAT, "rope.dimension_count");
    s = base_spec("llama"); s.bad_tensor = "output_norm.weight";
    expect_load_error(s, CHORD_E_FORMAT, "output_norm.weight");

    test_forward("llama", 0);
    test_forward("llama", 1);
    test_forward("qwen2", 0);
    test_api_errors();
    return check_report("test_model");
}
