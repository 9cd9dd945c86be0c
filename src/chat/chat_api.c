/*
 * chat_api.c — the public chat-template entry points (include/chord.h): builds the render
 * context from the conversation JSON the way transformers' apply_chat_template passes its
 * variables, runs lexer -> parser -> evaluator, hands the caller a malloc'd copy of the output;
 * the plain fallback for models without a template; strftime_now's clock and formatter; and
 * chord_chat_tokenize (special tokens parsed, BOS never doubled — as llama.cpp does for chat).
 */
#include <stdlib.h>
#include <string.h>
#if !defined(CHORD_WASM_FREESTANDING)
#include <time.h>
#endif

#include "chat/chat.h"
#include "core/error.h"
#include "gguf/gguf.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

chord_chat_limits chord_chat_limits_default(void) {
    chord_chat_limits l;
    l.max_output_bytes = (size_t)16 << 20;
    l.max_steps = 10000000;
    l.max_depth = 200;
    l.max_memory_bytes = (size_t)256 << 20;
    return l;
}

void chord_free(void *p) { free(p); }

/* ---- strftime_now ----------------------------------------------------------------------- */

static int wall_clock(int64_t *out) {
#if defined(CHORD_WASM_FREESTANDING)
    (void)out;
    return -1;
#else
    *out = (int64_t)time(NULL);
    return 0;
#endif
}

/* days since 1970-01-01 -> y/m/d (Howard Hinnant's civil_from_days) */
static void civil(int64_t z, int64_t *y, int *m, int *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int chat_strftime_now(chat_ctx *C, chat_buf *b, const char *fmt, size_t n) {
    static const char *const mon[] = { "January", "February", "March", "April", "May", "June", "July",
                                       "August", "September", "October", "November", "December" };
    static const char *const wday[] = { "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday" };
    int64_t t;
    if (C->now_override >= 0) t = C->now_override;
    else if (wall_clock(&t)) {
        chat_fail(C, CHORD_E_UNSUPPORTED, 0, 0, "strftime_now: this target has no wall clock; pass \"now_unix\" or the template's date variable");
        return -1;
    }
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400), secs = t - days * 86400;
    int64_t year; int month, day;
    civil(days, &year, &month, &day);
    int wd = (int)(((days % 7) + 11) % 7);   /* 1970-01-01 was a Thursday */
    int hh = (int)(secs / 3600), mm = (int)(secs / 60 % 60), ss = (int)(secs % 60);
    static const int cum[] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    int yday = cum[month - 1] + day + (leap && month > 2);
    for (size_t i = 0; i < n; i++) {
        if (fmt[i] != '%') { chat_buf_putc(C, b, fmt[i]); continue; }
        if (++i >= n) return -1;
        int nopad = 0;
        if (fmt[i] == '-') { nopad = 1; if (++i >= n) return -1; }
        const char *pad2 = nopad ? "%d" : "%02d";
        switch (fmt[i]) {
        case 'Y': chat_buf_printf(C, b, "%lld", (long long)year); break;
        case 'y': chat_buf_printf(C, b, pad2, (int)(year % 100)); break;
        case 'm': chat_buf_printf(C, b, pad2, month); break;
        case 'd': chat_buf_printf(C, b, pad2, day); break;
        case 'e': chat_buf_printf(C, b, nopad ? "%d" : "%2d", day); break;
        case 'H': chat_buf_printf(C, b, pad2, hh); break;
        case 'I': chat_buf_printf(C, b, pad2, hh % 12 ? hh % 12 : 12); break;
        case 'M': chat_buf_printf(C, b, pad2, mm); break;
        case 'S': chat_buf_printf(C, b, pad2, ss); break;
        case 'p': chat_buf_put(C, b, hh < 12 ? "AM" : "PM", 2); break;
        case 'j': chat_buf_printf(C, b, nopad ? "%d" : "%03d", yday); break;
        case 'b': chat_buf_put(C, b, mon[month - 1], 3); break;
        case 'B': chat_buf_put(C, b, mon[month - 1], strlen(mon[month - 1])); break;
        case 'a': chat_buf_put(C, b, wday[wd], 3); break;
        case 'A': chat_buf_put(C, b, wday[wd], strlen(wday[wd])); break;
        case '%': chat_buf_putc(C, b, '%'); break;
        default: return -1;
        }
    }
    return CHAT_FAILED(C) ? -1 : 0;
}

/* ---- rendering -------------------------------------------------------------------------- */
static chord_status finish(chat_ctx *C, char **out, size_t *out_len, chord_error *err) {
    chord_status st = C->status;
    if (st == CHORD_OK) {
        size_t n = C->out.n;
        char *r = malloc(n + 1);
        if (!r) st = chord_fail(err, CHORD_E_NOMEM, "out of memory copying the rendered prompt (%zu bytes)", n);
        else {
            if (n) memcpy(r, C->out.p, n);
            r[n] = 0;
            *out = r;
            if (out_len) *out_len = n;
        }
    } else chord_fail(err, st, "%s", C->msg);
    chat_arena_free(&C->arena);
    return st;
}

/* "<role>: <content>\n\n" per message, then "assistant: " — documented in chord.h. */
static void render_plain(chat_ctx *C, const cv *messages, int add_gen) {
    for (size_t i = 0; messages->t == CV_LIST && i < messages->u.l->n && !CHAT_FAILED(C); i++) {
        const cv *m = &messages->u.l->v[i];
        if (m->t != CV_DICT) { chat_fail(C, CHORD_E_INVALID_ARG, 0, 0, "conversation JSON: messages[%zu] is not an object", i); return; }
        const cv *role = cv_dict_get(m->u.d, "role", 4), *content = cv_dict_get(m->u.d, "content", 7);
        if (!role || role->t != CV_STR) { chat_fail(C, CHORD_E_INVALID_ARG, 0, 0, "conversation JSON: messages[%zu].role is not a string", i); return; }
        chat_buf_put(C, &C->out, role->u.s.p, role->u.s.n);
        chat_buf_put(C, &C->out, ": ", 2);
        if (content && content->t == CV_STR) chat_buf_put(C, &C->out, content->u.s.p, content->u.s.n);
        else if (content && content->t == CV_LIST)
            for (size_t k = 0; k < content->u.l->n; k++) {
                const cv *part = &content->u.l->v[k];
                const cv *txt = part->t == CV_DICT ? cv_dict_get(part->u.d, "text", 4) : NULL;
                if (txt && txt->t == CV_STR) chat_buf_put(C, &C->out, txt->u.s.p, txt->u.s.n);
            }
        chat_buf_put(C, &C->out, "\n\n", 2);
    }
    if (add_gen) chat_buf_put(C, &C->out, "assistant: ", 11);
}

chord_status chord_chat_render_template_ex(const char *template_src, size_t template_len,
                                           const char *bos_token, const char *eos_token,
                                           const char *conversation_json, size_t json_len,
                                           const chord_chat_limits *limits,
                                           char **out, size_t *out_len, chord_error *err) {
    if (!out || !conversation_json) return chord_fail(err, CHORD_E_INVALID_ARG, "chord_chat_render: out and conversation_json are required");
    *out = NULL;
    if (out_len) *out_len = 0;
    chat_ctx C;
    memset(&C, 0, sizeof C);
    C.lim = limits ? *limits : chord_chat_limits_default();
    C.arena.cap = C.lim.max_memory_bytes;
    C.status = CHORD_OK;
    C.now_override = -1;
    C.w = &C.out;
    chat_buf_put(&C, &C.out, "", 0);

    cv conv;
    if (chat_json_parse(&C, conversation_json, json_len, &conv)) return finish(&C, out, out_len, err);
    if (conv.t != CV_DICT) {
        chat_fail(&C, CHORD_E_INVALID_ARG, 0, 0, "conversation JSON must be an object with \"messages\"");
        return finish(&C, out, out_len, err);
    }
    const cv *messages = cv_dict_get(conv.u.d, "messages", 8);
    if (!messages || messages->t != CV_LIST) {
        chat_fail(&C, CHORD_E_INVALID_ARG, 0, 0, "conversation JSON: \"messages\" must be an array");
        return finish(&C, out, out_len, err);
    }
    const cv *agp = cv_dict_get(conv.u.d, "add_generation_prompt", 21);
    if (agp && agp->t != CV_BOOL) {
        chat_fail(&C, CHORD_E_INVALID_ARG, 0, 0, "conversation JSON: \"add_generation_prompt\" must be true or false");
        return finish(&C, out, out_len, err);
    }
    const cv *now = cv_dict_get(conv.u.d, "now_unix", 8);
    if (now) {
        if (now->t != CV_INT || now->u.i < 0) {
            chat_fail(&C, CHORD_E_INVALID_ARG, 0, 0, "conversation JSON: \"now_unix\" must be a non-negative integer");
            return finish(&C, out, out_len, err);
        }
        C.now_override = now->u.i;
    }
    int add_gen = agp ? agp->u.b : 1;

    if (!template_src) { render_plain(&C, messages, add_gen); return finish(&C, out, out_len, err); }

    C.globals = chat_alloc(&C, sizeof *C.globals);
    if (!C.globals) return finish(&C, out, out_len, err);
    memset(C.globals, 0, sizeof *C.globals);
    C.scope = C.globals;
    cv_dict *g = &C.globals->vars;
    for (size_t i = 0; i < conv.u.d->n; i++)
        if (!chat_name_eq(conv.u.d->k[i].u.s.p, conv.u.d->k[i].u.s.n, "now_unix"))
            cv_dict_set(&C, g, conv.u.d->k[i], conv.u.d->v[i]);
    if (!cv_dict_get(g, "tools", 5)) cv_dict_set(&C, g, cv_cstr("tools"), cv_none());
    if (!cv_dict_get(g, "documents", 9)) cv_dict_set(&C, g, cv_cstr("documents"), cv_none());
    cv_dict_set(&C, g, cv_cstr("add_generation_prompt"), cv_bool(add_gen));
    if (bos_token && !cv_dict_get(g, "bos_token", 9)) cv_dict_set(&C, g, cv_cstr("bos_token"), cv_cstr(bos_token));
    if (eos_token && !cv_dict_get(g, "eos_token", 9)) cv_dict_set(&C, g, cv_cstr("eos_token"), cv_cstr(eos_token));

    chat_tok *toks; size_t n_toks;
    if (chat_lex(&C, template_src, template_len, &toks, &n_toks) == 0) {
        chat_node *root = chat_parse(&C, toks, n_toks);
        if (root) chat_exec_body(&C, root->items, root->n_items);
        if (C.loop_ctl && !CHAT_FAILED(&C)) chat_fail(&C, CHORD_E_FORMAT, 0, 0, "break/continue outside of a loop");
    }
    return finish(&C, out, out_len, err);
}

chord_status chord_chat_render_template(const char *template_src, size_t template_len,
                                        const char *bos_token, const char *eos_token,
                                        const char *conversation_json, size_t json_len,
                                        char **out, size_t *out_len, chord_error *err) {
    return chord_chat_render_template_ex(template_src, template_len, bos_token, eos_token,
                                         conversation_json, json_len, NULL, out, out_len, err);
}

/* ---- model glue ------------------------------------------------------------------------- */
const char *chord_model_chat_template(const chord_model *m, size_t *len) {
    if (!m) return NULL;
    const chord_gguf *g = chord_model_gguf(m);
    chord_str s;
    if (!g || chord_gguf_find_key(g, "tokenizer.chat_template") < 0) return NULL;
    if (chord_gguf_get_str(g, "tokenizer.chat_template", &s, NULL) != CHORD_OK) return NULL;
    if (len) *len = (size_t)s.len;
    return s.ptr;
}

int chord_model_has_chat_template(const chord_model *m) { return chord_model_chat_template(m, NULL) != NULL; }

/* Token text of a special id as a NUL-terminated arena-free copy (caller frees), or NULL. */
static char *token_text(const chord_model *m, int32_t id) {
    const chord_tokenizer *t = chord_model_tokenizer(m);
    if (!t || id < 0 || (uint32_t)id >= t->n_tokens) return NULL;
    size_t n;
    const char *s = chord_tok_text(t, id, &n);
    char *r = malloc(n + 1);
    if (!r) return NULL;
    memcpy(r, s, n);
    r[n] = 0;
    return r;
}

chord_status chord_chat_render_ex(const chord_model *m, const char *template_src, size_t template_len,
                                  const char *conversation_json, size_t json_len,
                                  const chord_chat_limits *limits,
                                  char **out, size_t *out_len, chord_error *err) {
    if (!m) return chord_fail(err, CHORD_E_INVALID_ARG, "chord_chat_render: model is NULL");
    size_t tl = template_len;
    const char *tmpl = template_src ? template_src : chord_model_chat_template(m, &tl);
    const chord_tokenizer *t = chord_model_tokenizer(m);
    char *bos = t ? token_text(m, t->bos) : NULL, *eos = t ? token_text(m, t->eos) : NULL;
    chord_status st = chord_chat_render_template_ex(tmpl, tl, bos, eos, conversation_json, json_len,
                                                    limits, out, out_len, err);
    free(bos);
    free(eos);
    return st;
}

chord_status chord_chat_render(const chord_model *m, const char *conversation_json, size_t json_len,
                               char **out, size_t *out_len, chord_error *err) {
    return chord_chat_render_ex(m, NULL, 0, conversation_json, json_len, NULL, out, out_len, err);
}

int chord_chat_tokenize_flags(const chord_model *m, const char *rendered, size_t len) {
    const chord_tokenizer *t = m ? chord_model_tokenizer(m) : NULL;
    int flags = CHORD_TOK_PARSE_SPECIAL | CHORD_TOK_ADD_SPECIAL;
    if (!t || !t->add_bos || t->bos < 0) return flags;
    size_t n;
    const char *bt = chord_tok_text(t, t->bos, &n);
    if (n && len >= n && memcmp(rendered, bt, n) == 0) flags &= ~CHORD_TOK_ADD_SPECIAL;
    return flags;
}

chord_status chord_chat_tokenize(const chord_model *m, const char *rendered, size_t len,
                                 int32_t *out, size_t cap, size_t *n_out, chord_error *err) {
    if (!m || (!rendered && len)) return chord_fail(err, CHORD_E_INVALID_ARG, "chord_chat_tokenize: model and text are required");
    return chord_tokenize(m, rendered, len, chord_chat_tokenize_flags(m, rendered, len), out, cap, n_out, err);
}
