/*
 * test_hardening.c — the failures of issue 14 that live in the C engine, each on a tiny model
 * (tests/tiny_model.h) whose all-zero weights make greedy decoding repeat token 0:
 *  - "buffer too small" (CHORD_E_BUFFER, size needed in *n_out) is a status of its own, apart
 *    from a token id outside the vocabulary (CHORD_E_RANGE);
 *  - a token whose text is long (150 invalid bytes → 450 bytes of U+FFFD) streams whole, and
 *    bytes held back at the end are flushed (token -1): generated text is never dropped;
 *  - chord_session_cancel while nothing runs does not cancel the next call; during a call it
 *    does;
 *  - a mapped model file truncated while in use fails with `io` naming the file (it used to
 *    die of SIGBUS), and a model loaded with use_mmap = 0 keeps working.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chord.h"
#include "check.h"
#include "tiny_model.h"

static char path[96];

static chord_model *open_tiny(const char *const *tokens, int n, int use_mmap) {
    tiny_spec s = { tokens, n, 0.0f, CHORD_TYPE_F32, NULL };
    if (!tiny_model_write(path, &s)) return NULL;
    chord_model_params mp = chord_model_params_default();
    mp.use_mmap = use_mmap;
    chord_model *m = NULL;
    chord_error err;
    if (chord_model_open(&m, path, &mp, &err) != CHORD_OK) {
        fprintf(stderr, "open %s: %s\n", path, err.message);
        return NULL;
    }
    return m;
}

typedef struct { char text[8192]; size_t n; int calls, last_token; int stop_after; chord_session *cancel; } sink;

static int on_token(void *user, int32_t token, const char *text, size_t len) {
    sink *k = user;
    if (k->n + len <= sizeof k->text) memcpy(k->text + k->n, text, len);
    k->n += len;
    k->calls++;
    k->last_token = token;
    if (k->cancel && k->calls == k->stop_after) chord_session_cancel(k->cancel);
    return 0;
}

static chord_session *session_fed(chord_model *m) {
    chord_session *s = NULL;
    chord_error err;
    chord_session_params sp = chord_session_params_default();
    sp.n_threads = 1;
    if (chord_session_new(&s, m, &sp, &err) != CHORD_OK) return NULL;
    int32_t bos = 1;
    if (chord_session_feed(s, &bos, 1, &err) != CHORD_OK) { chord_session_free(s); return NULL; }
    return s;
}

static void test_status_codes(void) {
    int n;
    const char *const *v = tiny_words(&n);
    chord_model *m = open_tiny(v, n, 1);
    CHECK(m != NULL);
    if (!m) return;
    chord_error err;
    char buf[64];
    size_t got = 0;
    int32_t bad[] = { 1, 99999, -1 };
    CHECK(chord_detokenize(m, bad, 3, buf, sizeof buf, &got, &err) == CHORD_E_RANGE && strstr(err.message, "99999"));
    int32_t ok[] = { 3 + 4, 3 + 5 }; /* "▁the▁cat" */
    CHECK(chord_detokenize(m, ok, 2, buf, 0, &got, &err) == CHORD_E_BUFFER && got == 7);
    CHECK(chord_detokenize(m, ok, 2, buf, got, &got, &err) == CHORD_OK && !memcmp(buf, "the cat", 7));
    int32_t ids[8];
    chord_status tst = chord_tokenize(m, "the cat", 7, CHORD_TOK_ADD_SPECIAL, ids, 1, &got, &err);
    CHECKF(tst == CHORD_E_BUFFER && got > 1 && got <= 8, "%s got %zu: %s", chord_status_name(tst), got, err.message);
    CHECK(chord_tokenize(m, "the cat", 7, CHORD_TOK_ADD_SPECIAL, ids, got, &got, &err) == CHORD_OK && ids[0] == 1);
    CHECK(chord_token_piece(m, 7, buf, 1, &got) == CHORD_E_BUFFER && got == 4);
    CHECK(chord_token_piece(m, 99999, buf, sizeof buf, &got) == CHORD_E_RANGE);
    chord_detok d;
    chord_detok_init(&d, m);
    CHECK(chord_detok_push(&d, 99999, buf, sizeof buf, &got) == CHORD_E_RANGE);
    CHECK(chord_detok_push(&d, 7, buf, 0, &got) == CHORD_E_BUFFER && got == 4);
    CHECK(strcmp(chord_status_name(CHORD_E_BUFFER), "buffer") == 0);
    chord_model_free(m);
}

static void test_long_piece(void) {
    static char longtok[160];
    memset(longtok, 0xC0, 150); /* 150 invalid lead bytes: 450 bytes of U+FFFD */
    longtok[150] = 'z';
    const char *v[] = { longtok, "<s>", "</s>", "a" };
    chord_model *m = open_tiny(v, 4, 1);
    CHECK(m != NULL);
    if (!m) return;
    CHECK(chord_detok_max_bytes(m) >= 451);
    chord_session *s = session_fed(m);
    CHECK(s != NULL);
    chord_sampler_params p = chord_sampler_params_default();
    p.temperature = 0;
    sink k = { 0 };
    chord_error err, *errp = &err;
    CHECK_OK(chord_generate(s, &p, 4, on_token, &k, &err), errp);
    CHECKF(k.n == 4 * 451 && k.calls == 4, "streamed %zu bytes in %d calls, want %d", k.n, k.calls, 4 * 451);
    CHECK(k.n >= 451 && !memcmp(k.text, "\xef\xbf\xbd", 3) && k.text[450] == 'z');
    chord_session_free(s);
    chord_model_free(m);

    /* Token 0 is an incomplete sequence (2 of 3 bytes): the tail is flushed at the end. */
    const char *v2[] = { "\xe4\xb8", "<s>", "</s>", "a" };
    m = open_tiny(v2, 4, 1);
    CHECK(m != NULL);
    if (!m) return;
    s = session_fed(m);
    memset(&k, 0, sizeof k);
    CHECK_OK(chord_generate(s, &p, 3, on_token, &k, &err), errp);
    CHECKF(k.calls == 4 && k.last_token == -1 && k.n >= 3 && !memcmp(k.text + k.n - 3, "\xef\xbf\xbd", 3),
           "calls %d last token %d bytes %zu", k.calls, k.last_token, k.n);
    chord_session_free(s);
    chord_model_free(m);
}

static void test_cancel_scope(void) {
    int n;
    const char *const *v = tiny_words(&n);
    chord_model *m = open_tiny(v, n, 1);
    chord_session *s = m ? session_fed(m) : NULL;
    CHECK(s != NULL);
    if (!s) { chord_model_free(m); return; }
    chord_sampler_params p = chord_sampler_params_default();
    p.temperature = 0;
    p.ignore_eos = 1;
    chord_error err, *errp = &err;
    sink k = { 0 };
    chord_session_cancel(s); /* nothing runs: must not stick */
    CHECK_OK(chord_generate(s, &p, 5, on_token, &k, &err), errp);
    CHECK(k.calls == 5);
    chord_session_cancel(s);
    int32_t t = 3;
    CHECK_OK(chord_session_feed(s, &t, 1, &err), errp);
    memset(&k, 0, sizeof k);
    k.cancel = s;
    k.stop_after = 2; /* cancel from inside the running call */
    CHECK(chord_generate(s, &p, 10, on_token, &k, &err) == CHORD_E_CANCELLED && k.calls == 2);
    memset(&k, 0, sizeof k);
    CHECK_OK(chord_generate(s, &p, 3, on_token, &k, &err), errp);
    CHECK(k.calls == 3);
    chord_session_free(s);
    chord_model_free(m);
}

static void test_truncated_file(void) {
    int n;
    const char *const *v = tiny_words(&n);
    chord_model *mapped = open_tiny(v, n, 1);
    CHECK(mapped != NULL);
    if (!mapped) return;
    chord_model_params mp = chord_model_params_default();
    mp.use_mmap = 0;
    chord_model *copied = NULL;
    chord_error err, *errp = &err;
    CHECK_OK(chord_model_open(&copied, path, &mp, &err), errp);
    chord_session *s1 = NULL, *s2 = NULL;
    chord_session_params sp = chord_session_params_default();
    sp.n_threads = 1;
    CHECK_OK(chord_session_new(&s1, mapped, &sp, &err), errp);
    CHECK_OK(chord_session_new(&s2, copied, &sp, &err), errp);
    CHECK(truncate(path, 0) == 0);
    int32_t bos = 1;
    CHECK(chord_session_feed(s1, &bos, 1, &err) == CHORD_E_IO && strstr(err.message, path) &&
          strstr(err.message, "--no-mmap"));
    CHECK_OK(chord_session_feed(s2, &bos, 1, &err), errp);
    chord_session_free(s1);
    chord_session_free(s2);
    chord_model_free(mapped);
    chord_model_free(copied);
}

int main(void) {
    snprintf(path, sizeof path, "/tmp/chord_hardening_%d.gguf", (int)getpid());
    test_status_codes();
    test_long_piece();
    test_cancel_scope();
    test_truncated_file();
    remove(path);
    return check_report("test_hardening");
}
