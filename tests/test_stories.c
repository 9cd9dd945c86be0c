/*
 * test_stories.c — the real-model proof: stories260K (Karpathy's TinyStories model, F32) at
 * temperature 0 from BOS must reproduce the greedy story printed in its model card, token for
 * token, for at least 200 tokens. The expected text is read from the model card itself (the
 * block after "./run stories260K/stories260K.bin -z stories260K/tok512.bin -t 0.0"), so nothing
 * is hard-coded here. Also checks 1 vs 2 threads and batched vs one-at-a-time prefill agree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chord.h"
#include "check.h"
#include "check_model.h"

static char *read_all(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
    if (buf) buf[n] = '\0';
    fclose(f);
    return buf;
}

/* The greedy story: the code block's lines after the "-t 0.0" command line. */
static char *card_story(const char *card) {
    const char *cmd = strstr(card, "-t 0.0\n");
    if (!cmd) return NULL;
    const char *start = cmd + strlen("-t 0.0\n");
    const char *end = strstr(start, "```");
    if (!end) return NULL;
    while (end > start && (end[-1] == '\n' || end[-1] == ' ')) end--;
    char *s = malloc((size_t)(end - start) + 1);
    memcpy(s, start, (size_t)(end - start));
    s[end - start] = '\0';
    return s;
}

typedef struct { int32_t ids[512]; int n; } collected;

static int collect(void *user, int32_t token, const char *text, size_t len) {
    (void)text; (void)len;
    collected *c = user;
    if (c->n < 512) c->ids[c->n++] = token;
    return 0;
}

static int generate(chord_model *m, int threads, int batch, collected *out) {
    chord_error err_, *err = &err_;
    chord_session *s = NULL;
    chord_session_params sp = chord_session_params_default();
    sp.n_ctx = 512;
    sp.n_threads = threads;
    sp.n_batch = (uint32_t)batch;
    CHECK_OK(chord_session_new(&s, m, &sp, err), err);
    if (!s) return 0;
    chord_model_info info;
    chord_model_get_info(m, &info);
    int32_t bos = info.bos;
    CHECK_OK(chord_session_feed(s, &bos, 1, err), err);
    chord_sampler_params p = chord_sampler_params_default();
    p.temperature = 0.0f;
    out->n = 0;
    CHECK_OK(chord_generate(s, &p, 256, collect, out, err), err);
    chord_session_free(s);
    return 1;
}

int main(void) {
    char mpath[512], cpath[512];
    if (!check_shared_path("models/stories260K.model-card.md", cpath, sizeof cpath)) return 0;
    char *card = read_all(cpath);
    char *story = card ? card_story(card) : NULL;
    CHECK(story != NULL);
    if (!story) { free(card); return check_report("test_stories"); }

    chord_error err_, *err = &err_;
    chord_model *m = check_open_shared("models/stories260K.gguf", NULL, mpath, sizeof mpath);
    if (!m) { free(card); return check_report("test_stories"); }

    collected a = { 0 };
    generate(m, 1, 64, &a);
    char text[8192];
    size_t n_text = 0;
    CHECK_OK(chord_detokenize(m, a.ids, (size_t)a.n, text, sizeof text - 1, &n_text, err), err);
    text[n_text] = '\0';
    const char *got = text;
    while (*got == ' ') got++;
    /* how many tokens of ours lie inside the card's story */
    int matched = 0;
    size_t story_len = strlen(story);
    for (int i = 1; i <= a.n; i++) {
        size_t n = 0;
        char buf[8192];
        if (chord_detokenize(m, a.ids, (size_t)i, buf, sizeof buf - 1, &n, NULL) != CHORD_OK) break;
        buf[n] = '\0';
        const char *b = buf;
        while (*b == ' ') b++;
        if (strlen(b) > story_len || strncmp(b, story, strlen(b)) != 0) break;
        matched = i;
    }
    printf("stories260K: %d generated tokens, %d reproduce the model card's greedy story (%zu bytes)\n",
           a.n, matched, story_len);
    CHECKF(matched >= 200, "only %d tokens match; got:\n%s", matched, got);
    CHECKF(strncmp(got, story, story_len) == 0, "the story text differs");

    /* the same tokens with 2 threads and with one-token batches */
    collected b = { 0 }, c = { 0 };
    generate(m, 2, 64, &b);
    generate(m, 1, 1, &c);
    CHECK(b.n == a.n && memcmp(a.ids, b.ids, sizeof(int32_t) * (size_t)a.n) == 0);
    CHECK(c.n == a.n && memcmp(a.ids, c.ids, sizeof(int32_t) * (size_t)a.n) == 0);

    chord_model_free(m);
    free(story);
    free(card);
    return check_report("test_stories");
}
