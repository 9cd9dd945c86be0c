/*
 * chat.h — internals of the chat-template renderer (src/chat/): a sandboxed interpreter for the
 * subset of Jinja that Hugging Face chat templates use, rendering byte-identically to Python's
 * jinja2 configured as transformers' apply_chat_template does (trim_blocks, lstrip_blocks,
 * loopcontrols, ImmutableSandboxedEnvironment, its own tojson).
 *
 * Data flow: source -> chat_lex (tokens, whitespace control applied to text) -> chat_parse (AST)
 * -> chat_eval (walks the AST over values, writes the output buffer). Every allocation of one
 * render comes from one arena (chat_arena) freed at the end, so values never need freeing; the
 * arena has a byte cap, which together with the step and depth limits bounds any template.
 *
 * Errors never longjmp (freestanding wasm has no setjmp): a failing function records the first
 * error in the context (chat_ctx.status/msg) and returns a neutral value; callers test
 * CHAT_FAILED(C) after every call that can fail.
 */
#ifndef CHORD_CHAT_H
#define CHORD_CHAT_H

#include <stddef.h>
#include <stdint.h>
#include "chord.h"

/* ---- arena ------------------------------------------------------------------------------ */
typedef struct chat_block { struct chat_block *next; size_t used, cap; } chat_block;
typedef struct chat_arena { chat_block *head; size_t total, cap; } chat_arena;

/* ---- values ----------------------------------------------------------------------------- */
typedef enum {
    CV_UNDEF, CV_NONE, CV_BOOL, CV_INT, CV_FLOAT, CV_STR, CV_LIST, CV_DICT,
    CV_NS,      /* namespace(): a dict whose attributes may be assigned */
    CV_MACRO,   /* {% macro %}: points to its AST node */
    CV_FUNC,    /* a global builtin (range, namespace, raise_exception, ...) */
    CV_LOOP,    /* the `loop` variable of a for loop */
    CV_CYCLER,  /* joiner()/cycler() state, mutable */
} cv_type;

struct chat_node;
struct cv_list;
struct cv_dict;
struct chat_loop;
typedef struct cv {
    cv_type t;
    union {
        int b;
        int64_t i;
        double f;
        struct { const char *p; size_t n; } s;
        struct cv_list *l;
        struct cv_dict *d;          /* CV_DICT, CV_NS, CV_CYCLER (items in d) */
        const struct chat_node *m;  /* CV_MACRO */
        int fn;                     /* CV_FUNC */
        struct chat_loop *loop;     /* CV_LOOP */
    } u;
    const char *undef_name;         /* CV_UNDEF: the missing name, for error messages */
    int safe;                       /* CV_STR from |safe or |e: markupsafe's Markup, whose +
                                     * HTML-escapes a plain str operand (jinja2 does that even
                                     * with autoescape off) */
} cv;
/* is_gen: the result of map/select/reject/selectattr/rejectattr/unique/reverse, which jinja2
 * returns as a generator: always truthy, no len(), not JSON, consumed by the first iteration
 * (gen_pos = items already taken). Templates observe all of these. */
typedef struct cv_list { size_t n, cap; cv *v; int is_tuple, is_gen; size_t gen_pos; } cv_list;
typedef struct cv_dict { size_t n, cap; cv *k, *v; } cv_dict;
/* items NULL: a `for x in range(...)` loop, item i = r_start + i * r_step (never materialised). */
typedef struct chat_loop { int64_t index0, length, r_start, r_step; const cv_list *items; struct chat_loop *parent; int depth; } chat_loop;

/* ---- growable byte buffer (arena-backed) ------------------------------------------------ */
typedef struct chat_buf { char *p; size_t n, cap; } chat_buf;

/* ---- tokens and AST --------------------------------------------------------------------- */
typedef enum {
    TK_TEXT, TK_VAR_BEGIN, TK_VAR_END, TK_BLOCK_BEGIN, TK_BLOCK_END,
    TK_NAME, TK_STRING, TK_INT, TK_FLOAT, TK_OP, TK_EOF,
} chat_tok_kind;
typedef struct chat_tok {
    chat_tok_kind k;
    uint32_t line, col;
    const char *s; size_t n;   /* text / name / decoded string / operator spelling */
    int64_t i; double f;
} chat_tok;

typedef enum {
    /* statements */
    N_BODY, N_TEXT, N_OUTPUT, N_IF, N_FOR, N_SET, N_SET_BLOCK, N_MACRO, N_CALL_BLOCK,
    N_FILTER_BLOCK, N_BREAK, N_CONTINUE,
    /* expressions */
    N_CONST, N_NAME, N_LIST, N_TUPLE, N_DICT, N_ATTR, N_ITEM, N_SLICE, N_CALL, N_FILTER, N_TEST,
    N_UNARY, N_BINARY, N_AND, N_OR, N_NOT, N_COMPARE, N_COND, N_KWARG,
} chat_node_kind;
typedef struct chat_node {
    chat_node_kind kind;
    uint32_t line, col;
    const char *s; size_t n;        /* name, operator, attribute, filter/test/macro name */
    cv val;                         /* N_CONST */
    struct chat_node *a, *b, *c;    /* operands; N_IF: a=cond, b=else; N_FOR: a=iter, b=cond */
    struct chat_node **items; size_t n_items;  /* args, elements, statements */
    struct chat_node **items2; size_t n_items2; /* N_FOR/N_MACRO: else body / defaults; */
    struct chat_node **targets; size_t n_targets; /* N_FOR/N_SET/N_MACRO: names (N_NAME/N_ATTR) */
    int neg;                        /* N_TEST: `is not`; N_COMPARE ops follow in items */
} chat_node;

/* ---- render context --------------------------------------------------------------------- */
typedef struct chat_scope { struct chat_scope *parent; cv_dict vars; } chat_scope;
typedef struct chat_ctx {
    chat_arena arena;
    chord_chat_limits lim;
    chord_status status;            /* CHORD_OK until the first error */
    char msg[256];
    chat_buf out;
    chat_buf *w;                    /* where output goes: &out, or a macro/set capture */
    uint64_t steps;
    uint32_t depth;
    chat_scope *globals;            /* template variables + top-level sets */
    chat_scope *scope;              /* innermost */
    int loop_ctl;                   /* 1 = break, 2 = continue pending */
    int in_loop;
    const chat_node *caller;        /* N_CALL_BLOCK body for caller() */
    chat_scope *caller_scope;
    int64_t now_override;           /* "now_unix" for strftime_now, -1 = the clock */
} chat_ctx;

#define CHAT_FAILED(C) ((C)->status != CHORD_OK)

/* arena + errors (value.c) */
void *chat_alloc(chat_ctx *C, size_t n);
void chat_arena_free(chat_arena *a);
void chat_fail(chat_ctx *C, chord_status code, uint32_t line, uint32_t col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* buffers */
int chat_buf_put(chat_ctx *C, chat_buf *b, const char *s, size_t n);
int chat_buf_putc(chat_ctx *C, chat_buf *b, char ch);
int chat_buf_printf(chat_ctx *C, chat_buf *b, const char *fmt, ...);

/* value constructors and helpers (value.c) */
cv cv_undef(const char *name);
cv cv_none(void);
cv cv_bool(int b);
cv cv_int(int64_t i);
cv cv_float(double f);
cv cv_str(const char *p, size_t n);
cv cv_cstr(const char *p);
cv cv_str_copy(chat_ctx *C, const char *p, size_t n);
cv cv_new_list(chat_ctx *C, size_t cap);
cv cv_new_dict(chat_ctx *C, size_t cap, cv_type t);
int cv_list_push(chat_ctx *C, cv_list *l, cv v);
int cv_dict_set(chat_ctx *C, cv_dict *d, cv k, cv v);
const cv *cv_dict_get(const cv_dict *d, const char *key, size_t n);
const cv *cv_dict_find(const cv_dict *d, const cv *key);
int cv_truthy(const cv *v);
int cv_equal(const cv *a, const cv *b);
/* -1/0/1, or 2 when the types cannot be ordered */
int cv_compare(const cv *a, const cv *b);
const char *cv_type_name(const cv *v);
int cv_is_str(const cv *v);
/* Python str(): appends to b. repr=1 gives repr() (used inside containers). */
int cv_to_str(chat_ctx *C, chat_buf *b, const cv *v, int repr);
cv cv_stringify(chat_ctx *C, const cv *v);
void chat_fmt_float(double f, char *buf, size_t cap);
/* code point count of a UTF-8 string; byte offset of code point i (clamped) */
size_t chat_utf8_len(const char *p, size_t n);
/* 1 when p[0..n) is strict UTF-8; else 0 and *bad = offset of the first bad sequence */
int chat_utf8_valid(const char *p, size_t n, size_t *bad);
size_t chat_utf8_offset(const char *p, size_t n, size_t cp_index);
/* iteration: lists as is, dicts -> keys, strings -> characters; else error */
int cv_iter_list(chat_ctx *C, const cv *v, cv_list **out, uint32_t line, uint32_t col);

/* JSON (json.c) */
int chat_json_parse(chat_ctx *C, const char *s, size_t n, cv *out);
typedef struct chat_json_opts { int indent; int ensure_ascii; int sort_keys; const char *item_sep, *key_sep; } chat_json_opts;
int chat_json_dump(chat_ctx *C, chat_buf *b, const cv *v, const chat_json_opts *o, int level);

/* lexer and parser */
int chat_lex(chat_ctx *C, const char *src, size_t n, chat_tok **toks, size_t *n_toks);
chat_node *chat_parse(chat_ctx *C, const chat_tok *toks, size_t n_toks);

/* evaluator (eval.c) */
int chat_exec_body(chat_ctx *C, chat_node *const *stmts, size_t n);
cv chat_eval(chat_ctx *C, const chat_node *e);
int chat_step(chat_ctx *C, const chat_node *at);
cv chat_call_macro(chat_ctx *C, const cv *macro, const chat_node *call, const cv *args, size_t n_args,
                   const chat_node *const *kwnodes, const cv *kwvals, size_t n_kw);
cv chat_scope_lookup(chat_ctx *C, const char *name, size_t n);

/* builtins (filters.c, methods.c, tests) */
typedef struct chat_args {
    const cv *pos; size_t n_pos;
    const char *const *kw_names; const size_t *kw_lens; const cv *kw; size_t n_kw;
} chat_args;
cv chat_filter(chat_ctx *C, const chat_node *at, const char *name, size_t n, const cv *v, const chat_args *a);
int chat_test(chat_ctx *C, const chat_node *at, const char *name, size_t n, const cv *v, const chat_args *a);
int chat_has_filter(const char *name, size_t n);
cv chat_method(chat_ctx *C, const chat_node *at, const cv *obj, const char *name, size_t n, const chat_args *a);
cv chat_call_func(chat_ctx *C, const chat_node *at, int fn, const chat_args *a);
cv chat_getattr(chat_ctx *C, const chat_node *at, const cv *obj, const char *name, size_t n);
cv chat_getitem(chat_ctx *C, const chat_node *at, const cv *obj, const cv *key);
cv chat_escape_html(chat_ctx *C, const cv *s);
/* one argument by position or name; NULL when absent */
const cv *chat_arg(const chat_args *a, size_t pos, const char *name);
enum { FN_RANGE = 1, FN_NAMESPACE, FN_RAISE, FN_STRFTIME, FN_DICT, FN_JOINER, FN_CYCLER, FN_CALLER };
int chat_global_func(const char *name, size_t n);
/* wall clock for strftime_now (platform-dependent, chat_api.c) */
int chat_strftime_now(chat_ctx *C, chat_buf *b, const char *fmt, size_t n);

int chat_name_eq(const char *s, size_t n, const char *lit);

#endif
