/*
 * chat.c — `wasm-chord chat`: a terminal chat with a model through its own chat template.
 * Line editing and history come from libedit (Debian's BSD editline, readline API); history is
 * kept in $HOME/.wasm_chord_history. Each turn renders the whole conversation with the template,
 * tokenizes it and feeds only what is new: the KV cache keeps the tokens it shares with the
 * previous turn (chord_session_common_prefix + chord_session_truncate), so a turn costs its own
 * tokens, not the whole history (/stats shows both counts).
 *
 * Ctrl-C during an answer cancels it (chord_session_cancel from the signal handler is a single
 * atomic store); the partial answer stays in the conversation. Ctrl-C at the prompt only prints
 * how to leave; Ctrl-D or /quit leaves. Context overflow policy: nothing is dropped silently —
 * a message that does not fit is refused with the numbers and /reset is suggested; an answer
 * that fills the context ends there with a note.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <readline.h>

#include "chord.h"
#include "cli.h"

typedef struct {
    const char *model, *system, *template_path;
    long n_ctx, n_threads, n_predict;
    chord_sampler_params sp;
} chat_opts;

typedef struct {
    chord_model *model;
    chord_session *s;
    cJSON *messages;
    char *tmpl;                     /* --chat-template contents or NULL */
    size_t tmpl_len;
    char bos[64], eos[64];
    int32_t *toks;
    size_t cap_toks;
    char *answer;                   /* the answer being generated */
    size_t n_answer, cap_answer;
    int turns;
    size_t last_total, last_reused, last_fed;
    int32_t last_generated;
} chat_state;

static volatile sig_atomic_t interrupted, at_prompt;
static chord_session *volatile running;   /* the session generating, for the SIGINT handler */

/* Async-signal-safe: an atomic store, or (at the terminal prompt, where libedit keeps reading)
 * one write of the hint and a fresh prompt. */
static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
    chord_session *s = running;
    if (s) chord_session_cancel(s);
    else if (at_prompt) {
        static const char hint[] = "\n(Ctrl-D or /quit to leave)\n> ";
        ssize_t w = write(STDOUT_FILENO, hint, sizeof hint - 1);
        (void)w;
    }
}

static void usage(FILE *f) {
    fprintf(f,
        "usage: wasm-chord chat -m FILE [options]\n"
        "  -m, --model FILE        GGUF model (its tokenizer.chat_template formats the turns)\n"
        "  -sys, --system TEXT     system message\n"
        "      --chat-template F   Jinja template to use instead of the model's\n"
        "  -c, --ctx-size N        context length (default: min(model's, 4096))\n"
        "  -t, --threads N         threads (default: all cores)\n"
        "  -n, --n-predict N       longest answer in tokens (default -1: until the model stops)\n"
        "      --temp T  --top-k K  --top-p P  --min-p P  --repeat-penalty R  -s, --seed N\n"
        "      --ignore-eos        never stop at an end-of-generation token\n"
        "commands: /reset (forget the conversation), /stats, /help, /quit; Ctrl-C stops an answer\n");
}

static int bad(const char *a, const char *v) {
    fprintf(stderr, "wasm-chord chat: error: bad value '%s' for %s\n", v, a);
    return 2;
}

static int parse_args(int argc, char **argv, chat_opts *o) {
    o->sp = chord_sampler_params_default();
    o->n_predict = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return -1;
        if (!strcmp(a, "--ignore-eos")) { o->sp.ignore_eos = 1; continue; }
        if (i + 1 >= argc) {
            fprintf(stderr, "wasm-chord chat: error: missing value after %s\n", a);
            return 2;
        }
        const char *v = argv[++i];
        char *end = NULL;
        errno = 0;
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) o->model = v;
        else if (!strcmp(a, "-sys") || !strcmp(a, "--system")) o->system = v;
        else if (!strcmp(a, "--chat-template")) o->template_path = v;
        else if (!strcmp(a, "-c") || !strcmp(a, "--ctx-size")) { o->n_ctx = strtol(v, &end, 10); if (o->n_ctx < 0) errno = ERANGE; }
        else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) { o->n_threads = strtol(v, &end, 10); if (o->n_threads < 0) errno = ERANGE; }
        else if (!strcmp(a, "-n") || !strcmp(a, "--n-predict")) { o->n_predict = strtol(v, &end, 10); if (o->n_predict < -1) errno = ERANGE; }
        else if (!strcmp(a, "--temp")) o->sp.temperature = strtof(v, &end);
        else if (!strcmp(a, "--top-k")) o->sp.top_k = (int32_t)strtol(v, &end, 10);
        else if (!strcmp(a, "--top-p")) o->sp.top_p = strtof(v, &end);
        else if (!strcmp(a, "--min-p")) o->sp.min_p = strtof(v, &end);
        else if (!strcmp(a, "--repeat-penalty")) o->sp.repeat_penalty = strtof(v, &end);
        else if (!strcmp(a, "-s") || !strcmp(a, "--seed")) o->sp.seed = strtoull(v, &end, 10);
        else {
            fprintf(stderr, "wasm-chord chat: error: unknown option %s\n", a);
            return 2;
        }
        if (end && (errno || end == v || *end)) return bad(a, v);
    }
    if (!o->model) {
        fprintf(stderr, "wasm-chord chat: error: -m FILE is required (try --help)\n");
        return 2;
    }
    chord_error err;
    if (chord_sampler_params_check(&o->sp, &err) != CHORD_OK) {
        fprintf(stderr, "wasm-chord chat: error: %s\n", err.message);
        return 2;
    }
    return 0;
}

/* ---- the conversation ----------------------------------------------------------------------- */

static void add_message(chat_state *c, const char *role, const char *content) {
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "role", role);
    cJSON_AddStringToObject(m, "content", content);
    cJSON_AddItemToArray(c->messages, m);
}

static void drop_last_message(chat_state *c) {
    int n = cJSON_GetArraySize(c->messages);
    if (n > 0) cJSON_DeleteItemFromArray(c->messages, n - 1);
}

static void reset(chat_state *c, const char *system) {
    cJSON_Delete(c->messages);
    c->messages = cJSON_CreateArray();
    if (system) add_message(c, "system", system);
    chord_session_reset(c->s);
    c->turns = 0;
}

/* Renders the conversation (+ the generation prompt) and tokenizes it into c->toks. */
static chord_status render(chat_state *c, size_t *n_toks, chord_error *err) {
    cJSON *conv = cJSON_CreateObject();
    cJSON_AddItemReferenceToObject(conv, "messages", c->messages);
    cJSON_AddBoolToObject(conv, "add_generation_prompt", 1);
    char *json = cJSON_PrintUnformatted(conv);
    cJSON_Delete(conv);
    if (!json) return CHORD_E_NOMEM;
    char *text = NULL;
    size_t len = 0;
    chord_status st = c->tmpl ? chord_chat_render_template(c->tmpl, c->tmpl_len, c->bos, c->eos, json, strlen(json), &text, &len, err)
                              : chord_chat_render(c->model, json, strlen(json), &text, &len, err);
    free(json);
    for (int attempt = 0; st == CHORD_OK && attempt < 2; attempt++) {
        if (c->cap_toks < len + 16) {
            int32_t *t = realloc(c->toks, (len + 16) * sizeof *t);
            if (!t) { st = CHORD_E_NOMEM; break; }
            c->toks = t;
            c->cap_toks = len + 16;
        }
        st = chord_chat_tokenize(c->model, text, len, c->toks, c->cap_toks, n_toks, err);
        if (st != CHORD_E_RANGE) break;
        len = *n_toks;
        st = CHORD_OK;
    }
    chord_free(text);
    return st;
}

static int on_token(void *user, int32_t token, const char *text, size_t len) {
    chat_state *c = user;
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    if (c->n_answer + len + 1 > c->cap_answer) {
        size_t cap = (c->n_answer + len + 1) * 2;
        char *a = realloc(c->answer, cap);
        if (!a) return 1;
        c->answer = a;
        c->cap_answer = cap;
    }
    memcpy(c->answer + c->n_answer, text, len);
    c->n_answer += len;
    c->answer[c->n_answer] = 0;
    if (token >= 0) c->last_generated++;   /* -1: held-back bytes flushed at the end */
    return interrupted;
}

/* One user turn: render, feed what is new, stream the answer, keep it in the conversation. */
static void turn(chat_state *c, const chat_opts *o, const char *line) {
    chord_error err = { 0 };
    add_message(c, "user", line);
    size_t n = 0;
    if (render(c, &n, &err) != CHORD_OK) {
        fprintf(stderr, "wasm-chord chat: %s\n", err.message);
        drop_last_message(c);
        return;
    }
    uint32_t n_ctx = chord_session_n_ctx(c->s);
    if (n + 1 > n_ctx) {
        fprintf(stderr, "wasm-chord chat: the conversation would be %zu tokens, beyond the context of %u; "
                        "the message was not sent — /reset to start over (or a larger -c)\n", n, n_ctx);
        drop_last_message(c);
        return;
    }
    size_t keep = chord_session_common_prefix(c->s, c->toks, n);
    if (keep >= n) keep = n - 1;   /* the last prompt token is fed again for its logits */
    c->last_total = n;
    c->last_reused = keep;
    c->last_fed = n - keep;
    c->n_answer = 0;
    c->last_generated = 0;
    if (c->answer) c->answer[0] = 0;
    interrupted = 0;
    running = c->s;
    chord_status st = chord_session_truncate(c->s, (uint32_t)keep, &err);
    if (st == CHORD_OK) st = chord_session_feed(c->s, c->toks + keep, n - keep, &err);
    /* a Ctrl-C that came just after the previous answer ended left the flag set: feed again */
    if (st == CHORD_E_CANCELLED && !interrupted) st = chord_session_feed(c->s, c->toks + keep, n - keep, &err);
    int32_t room = (int32_t)(n_ctx - chord_session_pos(c->s));
    int32_t max = o->n_predict < 0 || o->n_predict > room ? room : (int32_t)o->n_predict;
    if (st == CHORD_OK) st = chord_generate(c->s, &o->sp, max, on_token, c, &err);
    running = NULL;
    if (st == CHORD_E_CANCELLED || (st == CHORD_OK && interrupted)) printf(" [stopped]");
    else if (st == CHORD_E_RANGE || (st == CHORD_OK && c->last_generated >= room)) printf(" [the context is full: /reset to go on]");
    else if (st != CHORD_OK) fprintf(stderr, "\nwasm-chord chat: %s\n", err.message);
    putchar('\n');
    fflush(stdout);
    if (st != CHORD_OK && st != CHORD_E_CANCELLED && st != CHORD_E_RANGE && !c->last_generated) {
        drop_last_message(c);   /* nothing was answered: the turn did not happen */
        chord_session_reset(c->s);
        return;
    }
    add_message(c, "assistant", c->answer ? c->answer : "");
    c->turns++;
}

static void stats(const chat_state *c) {
    chord_stats s;
    chord_session_stats(c->s, &s);
    printf("turns %d; context %u of %u tokens\n", c->turns, chord_session_pos(c->s), chord_session_n_ctx(c->s));
    printf("last turn: prompt %zu tokens = %zu reused from the cache + %zu prefilled; %d generated\n",
           c->last_total, c->last_reused, c->last_fed, c->last_generated);
    printf("in all: %llu prefilled at %.1f tok/s, %llu generated at %.1f tok/s\n",
           (unsigned long long)s.n_prefill, s.prefill_tok_s, (unsigned long long)s.n_decode, s.decode_tok_s);
}

/* ---- setup and the loop --------------------------------------------------------------------- */

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *b = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            char *nb = realloc(b, cap = (n + 4096 + 1) * 2);
            if (!nb) { free(b); fclose(f); return NULL; }
            b = nb;
        }
        size_t r = fread(b + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0) break;
    }
    fclose(f);
    b[n] = 0;
    *len = n;
    return b;
}

static void token_text(const chord_model *m, int32_t id, char *buf, size_t cap) {
    size_t n = 0;
    if (id < 0 || chord_token_piece(m, id, buf, cap - 1, &n) != CHORD_OK) n = 0;
    buf[n] = 0;
}

static int open_all(chat_state *c, const chat_opts *o) {
    chord_error err = { 0 };
    chord_model_params mp = chord_model_params_default();
    if (chord_model_open(&c->model, o->model, &mp, &err) != CHORD_OK) goto fail;
    chord_session_params sp = chord_session_params_default();
    sp.n_ctx = (uint32_t)o->n_ctx;
    sp.n_threads = (int32_t)o->n_threads;
    if (chord_session_new(&c->s, c->model, &sp, &err) != CHORD_OK) goto fail;
    if (o->template_path && !(c->tmpl = slurp(o->template_path, &c->tmpl_len))) {
        fprintf(stderr, "wasm-chord chat: error: cannot read --chat-template %s\n", o->template_path);
        return 1;
    }
    chord_model_info info;
    chord_model_get_info(c->model, &info);
    token_text(c->model, info.bos, c->bos, sizeof c->bos);
    token_text(c->model, info.eos, c->eos, sizeof c->eos);
    if (!c->tmpl && !chord_model_has_chat_template(c->model))
        fprintf(stderr, "wasm-chord chat: the model has no chat template: using the plain \"role: text\" format\n");
    return 0;
fail:
    fprintf(stderr, "wasm-chord chat: error: %s\n", err.message);
    return 1;
}

/* A line from libedit on a terminal, from stdin otherwise. NULL at end of input. */
static char *read_line(int tty) {
    if (tty) {
        at_prompt = 1;
        char *l = readline("> ");
        at_prompt = 0;
        return l;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (n < 0) { free(line); return NULL; }
    if (n && line[n - 1] == '\n') line[n - 1] = 0;
    return line;
}

static int loop(chat_state *c, const chat_opts *o) {
    int tty = isatty(0);
    char hist[1024] = "";
    const char *home = getenv("HOME");
    if (tty && home) {
        snprintf(hist, sizeof hist, "%s/.wasm_chord_history", home);
        stifle_history(1000);
        read_history(hist);
    }
    if (tty) printf("wasm-chord chat — /help for commands, Ctrl-C stops an answer, Ctrl-D leaves\n");
    for (;;) {
        interrupted = 0;
        char *line = read_line(tty);
        if (!line) {
            if (interrupted) continue;
            break;
        }
        if (tty && line[0]) add_history(line);
        if (!strcmp(line, "/quit") || !strcmp(line, "/exit")) { free(line); break; }
        if (!strcmp(line, "/reset")) { reset(c, o->system); printf("(conversation reset)\n"); }
        else if (!strcmp(line, "/stats")) stats(c);
        else if (!strcmp(line, "/help")) usage(stdout);
        else if (line[0] == '/') printf("unknown command %s (/help)\n", line);
        else if (line[0]) turn(c, o, line);
        fflush(stdout);
        free(line);
    }
    if (hist[0]) write_history(hist);
    if (tty) putchar('\n');
    return 0;
}

int chord_cli_chat(int argc, char **argv) {
    chat_opts o = { 0 };
    int rc = parse_args(argc, argv, &o);
    if (rc == -1) { usage(stdout); return 0; }
    if (rc) return rc;
    chat_state c = { 0 };
    rc = open_all(&c, &o);
    if (!rc) {
        struct sigaction sa = { .sa_handler = on_sigint };   /* no SA_RESTART: reads return */
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        rl_catch_signals = 0;
        reset(&c, o.system);
        rc = loop(&c, &o);
    }
    cJSON_Delete(c.messages);
    chord_session_free(c.s);
    chord_model_free(c.model);
    free(c.tmpl);
    free(c.toks);
    free(c.answer);
    return rc;
}
