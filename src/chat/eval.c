/*
 * eval.c — walks the AST: statements write to the current output (C->w), expressions yield
 * values. Scoping follows jinja2 where templates can tell the difference: a for loop body gets a
 * fresh scope per iteration (a `set` inside never leaks out, hence namespace()), `if` makes no
 * scope, a macro call runs in a scope whose parent is the template's top level.
 *
 * Sandbox: every loop iteration and macro call is a step (limit max_steps), macro calls and
 * expression nesting count against max_depth, output is capped by chat_buf_put.
 */
#include <string.h>

#include "chat/chat.h"

#define TRY(C) do { if (CHAT_FAILED(C)) return cv_none(); } while (0)

int chat_step(chat_ctx *C, const chat_node *at) {
    if (++C->steps > C->lim.max_steps) {
        chat_fail(C, CHORD_E_RANGE, at->line, at->col, "template ran more than %llu steps (limit)",
                  (unsigned long long)C->lim.max_steps);
        return -1;
    }
    return 0;
}

/* ---- scopes ----------------------------------------------------------------------------- */
static chat_scope *scope_push(chat_ctx *C, chat_scope *parent) {
    chat_scope *s = chat_alloc(C, sizeof *s);
    if (!s) return NULL;
    memset(s, 0, sizeof *s);
    s->parent = parent;
    return s;
}

cv chat_scope_lookup(chat_ctx *C, const char *name, size_t n) {
    for (chat_scope *s = C->scope; s; s = s->parent) {
        const cv *v = cv_dict_get(&s->vars, name, n);
        if (v) return *v;
    }
    int fn = chat_global_func(name, n);
    if (fn) { cv f = cv_none(); f.t = CV_FUNC; f.u.fn = fn; return f; }
    cv u = cv_str_copy(C, name, n);
    return cv_undef(u.u.s.p);
}

static int scope_set(chat_ctx *C, const char *name, size_t n, cv v) {
    return cv_dict_set(C, &C->scope->vars, cv_str(name, n), v);
}

/* ---- helpers ---------------------------------------------------------------------------- */
static cv eval_list(chat_ctx *C, chat_node *const *items, size_t n, int tuple) {
    cv l = cv_new_list(C, n);
    TRY(C);
    for (size_t i = 0; i < n; i++) { cv v = chat_eval(C, items[i]); TRY(C); cv_list_push(C, l.u.l, v); }
    l.u.l->is_tuple = tuple;
    return l;
}

/* Positional + keyword arguments of a call/filter/test node. */
typedef struct { cv pos[16]; const char *kn[16]; size_t kl[16]; cv kv[16]; chat_args a; } argbuf;

static int eval_args(chat_ctx *C, const chat_node *call, argbuf *ab) {
    if (call->n_items > 16 || call->n_items2 > 16) {
        chat_fail(C, CHORD_E_UNSUPPORTED, call->line, call->col, "more than 16 arguments in a call");
        return -1;
    }
    for (size_t i = 0; i < call->n_items; i++) { ab->pos[i] = chat_eval(C, call->items[i]); if (CHAT_FAILED(C)) return -1; }
    for (size_t i = 0; i < call->n_items2; i++) {
        ab->kn[i] = call->items2[i]->s; ab->kl[i] = call->items2[i]->n;
        ab->kv[i] = chat_eval(C, call->items2[i]->a);
        if (CHAT_FAILED(C)) return -1;
    }
    ab->a.pos = ab->pos; ab->a.n_pos = call->n_items;
    ab->a.kw_names = ab->kn; ab->a.kw_lens = ab->kl; ab->a.kw = ab->kv; ab->a.n_kw = call->n_items2;
    return 0;
}

static void undefined_error(chat_ctx *C, const chat_node *at, const cv *v) {
    if (v->undef_name) chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "'%s' is undefined", v->undef_name);
    else chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "undefined value used");
}

/* ---- macros ----------------------------------------------------------------------------- */
cv chat_call_macro(chat_ctx *C, const cv *macro, const chat_node *call, const cv *args, size_t n_args,
                   const chat_node *const *kwnodes, const cv *kwvals, size_t n_kw) {
    (void)kwnodes;
    const chat_node *m = macro->u.m;
    const chat_node *at = call ? call : m;
    if (chat_step(C, at)) return cv_none();
    if (++C->depth > C->lim.max_depth) {
        chat_fail(C, CHORD_E_RANGE, at->line, at->col, "macro calls nested deeper than %u (limit)", C->lim.max_depth);
        return cv_none();
    }
    if (n_args > m->n_targets) {
        chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "macro '%.*s' takes not more than %zu argument(s)",
                  (int)m->n, m->s, m->n_targets);
        return cv_none();
    }
    chat_scope *saved = C->scope;
    chat_scope *s = scope_push(C, C->globals);
    TRY(C);
    C->scope = s;
    for (size_t i = 0; i < m->n_targets; i++) {
        const chat_node *p = m->targets[i];
        cv v = cv_undef(NULL);
        int found = 0;
        if (i < n_args) { v = args[i]; found = 1; }
        for (size_t k = 0; k < n_kw; k++)
            if (kwnodes[k]->n == p->n && memcmp(kwnodes[k]->s, p->s, p->n) == 0) { v = kwvals[k]; found = 1; }
        if (!found && m->items2[i]) { v = chat_eval(C, m->items2[i]); if (CHAT_FAILED(C)) break; }
        else if (!found) { cv nm = cv_str_copy(C, p->s, p->n); v = cv_undef(nm.u.s.p); }
        scope_set(C, p->s, p->n, v);
    }
    for (size_t k = 0; k < n_kw && !CHAT_FAILED(C); k++) {
        int ok = 0;
        for (size_t i = 0; i < m->n_targets; i++)
            if (kwnodes[k]->n == m->targets[i]->n && memcmp(kwnodes[k]->s, m->targets[i]->s, m->targets[i]->n) == 0) ok = 1;
        if (!ok) chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "macro '%.*s' takes no keyword argument '%.*s'",
                           (int)m->n, m->s, (int)kwnodes[k]->n, kwnodes[k]->s);
    }
    chat_buf buf = { 0 }, *saved_w = C->w;
    int saved_ctl = C->loop_ctl, saved_in_loop = C->in_loop;
    C->w = &buf; C->in_loop = 0;
    if (!CHAT_FAILED(C)) chat_buf_put(C, &buf, "", 0), chat_exec_body(C, m->items, m->n_items);
    C->w = saved_w; C->scope = saved; C->loop_ctl = saved_ctl; C->in_loop = saved_in_loop;
    C->depth--;
    TRY(C);
    return cv_str(buf.p, buf.n);
}

/* ---- expressions ------------------------------------------------------------------------ */
static int64_t floordiv(int64_t a, int64_t b) { int64_t q = a / b; if ((a % b != 0) && ((a < 0) != (b < 0))) q--; return q; }
static int is_num(const cv *v) { return v->t == CV_INT || v->t == CV_FLOAT || v->t == CV_BOOL; }
static double fv(const cv *v) { return v->t == CV_FLOAT ? v->u.f : v->t == CV_INT ? (double)v->u.i : (double)v->u.b; }
static int64_t iv(const cv *v) { return v->t == CV_INT ? v->u.i : (int64_t)v->u.b; }

static cv arith(chat_ctx *C, const chat_node *e, const cv *a, const cv *b) {
    char op = e->s[0];
    int two = e->n == 2;
    if (a->t == CV_UNDEF || b->t == CV_UNDEF) { undefined_error(C, e, a->t == CV_UNDEF ? a : b); return cv_none(); }
    if (op == '+' && a->t == CV_STR && b->t == CV_STR) {
        int safe = a->safe || b->safe;
        cv x = (safe && !a->safe) ? chat_escape_html(C, a) : *a, y = (safe && !b->safe) ? chat_escape_html(C, b) : *b;
        chat_buf r = { 0 };
        chat_buf_put(C, &r, "", 0);
        chat_buf_put(C, &r, x.u.s.p, x.u.s.n); chat_buf_put(C, &r, y.u.s.p, y.u.s.n);
        cv res = cv_str(r.p, r.n);
        res.safe = safe;
        return res;
    }
    if (op == '+' && a->t == CV_LIST && b->t == CV_LIST) {
        cv l = cv_new_list(C, a->u.l->n + b->u.l->n);
        TRY(C);
        for (size_t i = 0; i < a->u.l->n; i++) cv_list_push(C, l.u.l, a->u.l->v[i]);
        for (size_t i = 0; i < b->u.l->n; i++) cv_list_push(C, l.u.l, b->u.l->v[i]);
        return l;
    }
    if (op == '*' && !two && ((a->t == CV_STR && b->t == CV_INT) || (a->t == CV_INT && b->t == CV_STR))) {
        const cv *s = a->t == CV_STR ? a : b;
        int64_t k = a->t == CV_INT ? a->u.i : b->u.i;
        chat_buf r = { 0 };
        chat_buf_put(C, &r, "", 0);
        for (int64_t i = 0; i < k && !CHAT_FAILED(C); i++) {
            if (r.n + s->u.s.n > C->lim.max_output_bytes) { chat_fail(C, CHORD_E_RANGE, e->line, e->col, "string repetition exceeds the output limit"); break; }
            chat_buf_put(C, &r, s->u.s.p, s->u.s.n);
        }
        TRY(C);
        return cv_str(r.p, r.n);
    }
    if (!is_num(a) || !is_num(b)) {
        chat_fail(C, CHORD_E_FORMAT, e->line, e->col, "unsupported operand type(s) for %.*s: '%s' and '%s'",
                  (int)e->n, e->s, cv_type_name(a), cv_type_name(b));
        return cv_none();
    }
    int ints = a->t != CV_FLOAT && b->t != CV_FLOAT;
    if (op == '/' && !two) {
        if (fv(b) == 0) { chat_fail(C, CHORD_E_FORMAT, e->line, e->col, "division by zero"); return cv_none(); }
        return cv_float(fv(a) / fv(b));
    }
    if (ints) {
        int64_t x = iv(a), y = iv(b), r = 0;
        switch (op) {
        case '+': if (__builtin_add_overflow(x, y, &r)) goto overflow; return cv_int(r);
        case '-': if (__builtin_sub_overflow(x, y, &r)) goto overflow; return cv_int(r);
        case '*':
            if (two) {   /* ** */
                if (y < 0) return cv_float(__builtin_pow((double)x, (double)y));
                r = 1;
                for (int64_t i = 0; i < y; i++) if (__builtin_mul_overflow(r, x, &r)) goto overflow;
                return cv_int(r);
            }
            if (__builtin_mul_overflow(x, y, &r)) goto overflow;
            return cv_int(r);
        case '/': case '%':
            if (y == 0) { chat_fail(C, CHORD_E_FORMAT, e->line, e->col, "integer division or modulo by zero"); return cv_none(); }
            if (x == INT64_MIN && y == -1) goto overflow;
            if (op == '/') return cv_int(floordiv(x, y));
            return cv_int(x - floordiv(x, y) * y);
        }
    } else {
        double x = fv(a), y = fv(b);
        switch (op) {
        case '+': return cv_float(x + y);
        case '-': return cv_float(x - y);
        case '*': return cv_float(two ? __builtin_pow(x, y) : x * y);
        case '/': case '%': {
            if (y == 0) { chat_fail(C, CHORD_E_FORMAT, e->line, e->col, "float division by zero"); return cv_none(); }
            double q = __builtin_floor(x / y);
            return cv_float(op == '/' ? q : x - q * y);
        }
        }
    }
overflow:
    chat_fail(C, CHORD_E_UNSUPPORTED, e->line, e->col, "integer result beyond 64 bits");
    return cv_none();
}

static cv eval_binary(chat_ctx *C, const chat_node *e) {
    cv a = chat_eval(C, e->a); TRY(C);
    cv b = chat_eval(C, e->b); TRY(C);
    if (e->s[0] == '~') {
        chat_buf r = { 0 };
        chat_buf_put(C, &r, "", 0);
        cv_to_str(C, &r, &a, 0); cv_to_str(C, &r, &b, 0);
        return cv_str(r.p, r.n);
    }
    if (e->s[0] == '%' && a.t == CV_STR) {
        chat_args args = { 0 };
        if (b.t == CV_LIST && b.u.l->is_tuple) { args.pos = b.u.l->v; args.n_pos = b.u.l->n; }
        else { args.pos = &b; args.n_pos = 1; }
        return chat_method(C, e, &a, "__mod__", 7, &args);
    }
    return arith(C, e, &a, &b);
}

static int contains(chat_ctx *C, const chat_node *e, const cv *item, const cv *seq) {
    if (seq->t == CV_STR) {
        if (item->t != CV_STR) { chat_fail(C, CHORD_E_FORMAT, e->line, e->col, "'in <string>' requires string as left operand, not %s", cv_type_name(item)); return 0; }
        if (!item->u.s.n) return 1;
        for (size_t i = 0; i + item->u.s.n <= seq->u.s.n; i++)
            if (memcmp(seq->u.s.p + i, item->u.s.p, item->u.s.n) == 0) return 1;
        return 0;
    }
    if (seq->t == CV_LIST) { for (size_t i = 0; i < seq->u.l->n; i++) if (cv_equal(&seq->u.l->v[i], item)) return 1; return 0; }
    if (seq->t == CV_DICT || seq->t == CV_NS) return cv_dict_find(seq->u.d, item) != NULL;
    if (seq->t == CV_UNDEF) return 0;
    chat_fail(C, CHORD_E_FORMAT, e->line, e->col, "argument of type '%s' is not iterable", cv_type_name(seq));
    return 0;
}

static cv eval_compare(chat_ctx *C, const chat_node *e) {
    cv a = chat_eval(C, e->a); TRY(C);
    cv b = chat_eval(C, e->b); TRY(C);
    const char *op = e->s;
    if (op[0] == 'i') return cv_bool(contains(C, e, &a, &b));
    if (op[0] == 'n') return cv_bool(!contains(C, e, &a, &b));
    if (op[0] == '=') return cv_bool(cv_equal(&a, &b));
    if (op[0] == '!') return cv_bool(!cv_equal(&a, &b));
    int c = cv_compare(&a, &b);
    if (c == 2) {
        chat_fail(C, CHORD_E_FORMAT, e->line, e->col, "'%s' not supported between instances of '%s' and '%s'", op, cv_type_name(&a), cv_type_name(&b));
        return cv_none();
    }
    if (op[0] == '<') return cv_bool(op[1] ? c <= 0 : c < 0);
    return cv_bool(op[1] ? c >= 0 : c > 0);
}

/* Python slice semantics over n elements. */
static int slice_bounds(chat_ctx *C, const chat_node *e, int64_t n, int64_t *start, int64_t *stop, int64_t *step) {
    cv s = e->b ? chat_eval(C, e->b) : cv_none(), t = e->c ? chat_eval(C, e->c) : cv_none();
    cv st = (e->n_items && e->items[0]) ? chat_eval(C, e->items[0]) : cv_none();
    if (CHAT_FAILED(C)) return -1;
    const cv *parts[3] = { &s, &t, &st };
    for (int k = 0; k < 3; k++)
        if (parts[k]->t != CV_NONE && parts[k]->t != CV_INT && parts[k]->t != CV_BOOL) {
            chat_fail(C, CHORD_E_FORMAT, e->line, e->col, "slice indices must be integers or None");
            return -1;
        }
    *step = st.t == CV_NONE ? 1 : iv(&st);
    if (*step == 0) { chat_fail(C, CHORD_E_FORMAT, e->line, e->col, "slice step cannot be zero"); return -1; }
    int64_t lo = *step < 0 ? -1 : 0, hi = *step < 0 ? n - 1 : n;
    if (s.t == CV_NONE) *start = *step < 0 ? hi : lo;
    else { *start = iv(&s); if (*start < 0) *start += n; if (*start < lo) *start = lo; if (*start > hi) *start = hi; }
    if (t.t == CV_NONE) *stop = *step < 0 ? lo : hi;
    else { *stop = iv(&t); if (*stop < 0) *stop += n; if (*stop < lo) *stop = lo; if (*stop > hi) *stop = hi; }
    return 0;
}

static cv eval_slice(chat_ctx *C, const chat_node *e) {
    cv obj = chat_eval(C, e->a); TRY(C);
    int64_t start, stop, step;
    if (obj.t == CV_LIST) {
        if (slice_bounds(C, e, (int64_t)obj.u.l->n, &start, &stop, &step)) return cv_none();
        cv l = cv_new_list(C, 0); TRY(C);
        for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) cv_list_push(C, l.u.l, obj.u.l->v[i]);
        return l;
    }
    if (obj.t == CV_STR) {
        cv_list *chars;
        if (cv_iter_list(C, &obj, &chars, e->line, e->col)) return cv_none();
        if (slice_bounds(C, e, (int64_t)chars->n, &start, &stop, &step)) return cv_none();
        chat_buf r = { 0 };
        chat_buf_put(C, &r, "", 0);
        for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) chat_buf_put(C, &r, chars->v[i].u.s.p, chars->v[i].u.s.n);
        return cv_str(r.p, r.n);
    }
    if (obj.t == CV_UNDEF) { undefined_error(C, e, &obj); return cv_none(); }
    chat_fail(C, CHORD_E_FORMAT, e->line, e->col, "'%s' object is not subscriptable", cv_type_name(&obj));
    return cv_none();
}

static cv eval_call(chat_ctx *C, const chat_node *e) {
    argbuf ab;
    const chat_node *f = e->a;
    if (f->kind == N_ATTR) {
        cv obj = chat_eval(C, f->a); TRY(C);
        if (obj.t == CV_UNDEF) { undefined_error(C, f, &obj); return cv_none(); }
        if (obj.t == CV_DICT || obj.t == CV_NS) {
            const cv *m = cv_dict_get(obj.u.d, f->s, f->n);
            if (m && m->t == CV_MACRO) {
                if (eval_args(C, e, &ab)) return cv_none();
                return chat_call_macro(C, m, e, ab.pos, e->n_items, (const chat_node *const *)e->items2, ab.kv, e->n_items2);
            }
        }
        if (eval_args(C, e, &ab)) return cv_none();
        return chat_method(C, f, &obj, f->s, f->n, &ab.a);
    }
    cv fn = chat_eval(C, f); TRY(C);
    if (eval_args(C, e, &ab)) return cv_none();
    if (fn.t == CV_MACRO)
        return chat_call_macro(C, &fn, e, ab.pos, e->n_items, (const chat_node *const *)e->items2, ab.kv, e->n_items2);
    if (fn.t == CV_FUNC) return chat_call_func(C, e, fn.u.fn, &ab.a);
    if (fn.t == CV_UNDEF) { undefined_error(C, f, &fn); return cv_none(); }
    chat_fail(C, CHORD_E_FORMAT, e->line, e->col, "'%s' object is not callable", cv_type_name(&fn));
    return cv_none();
}

cv chat_eval(chat_ctx *C, const chat_node *e) {
    if (CHAT_FAILED(C)) return cv_none();
    switch (e->kind) {
    case N_CONST: return e->val;
    case N_NAME: return chat_scope_lookup(C, e->s, e->n);
    case N_LIST: return eval_list(C, e->items, e->n_items, 0);
    case N_TUPLE: return eval_list(C, e->items, e->n_items, 1);
    case N_DICT: {
        cv d = cv_new_dict(C, e->n_items / 2, CV_DICT); TRY(C);
        for (size_t i = 0; i + 1 < e->n_items; i += 2) {
            cv k = chat_eval(C, e->items[i]); TRY(C);
            cv v = chat_eval(C, e->items[i + 1]); TRY(C);
            cv_dict_set(C, d.u.d, k, v);
        }
        return d;
    }
    case N_ATTR: {
        cv obj = chat_eval(C, e->a); TRY(C);
        return chat_getattr(C, e, &obj, e->s, e->n);
    }
    case N_ITEM: {
        cv obj = chat_eval(C, e->a); TRY(C);
        cv k = chat_eval(C, e->b); TRY(C);
        return chat_getitem(C, e, &obj, &k);
    }
    case N_SLICE: return eval_slice(C, e);
    case N_CALL: return eval_call(C, e);
    case N_FILTER: {
        cv v = chat_eval(C, e->a); TRY(C);
        argbuf ab;
        if (eval_args(C, e, &ab)) return cv_none();
        return chat_filter(C, e, e->s, e->n, &v, &ab.a);
    }
    case N_TEST: {
        cv v = chat_eval(C, e->a); TRY(C);
        argbuf ab;
        if (eval_args(C, e, &ab)) return cv_none();
        int r = chat_test(C, e, e->s, e->n, &v, &ab.a);
        TRY(C);
        return cv_bool(e->neg ? !r : r);
    }
    case N_UNARY: {
        cv v = chat_eval(C, e->a); TRY(C);
        if (!is_num(&v)) { chat_fail(C, CHORD_E_FORMAT, e->line, e->col, "bad operand type for unary %c: '%s'", e->s[0], cv_type_name(&v)); return cv_none(); }
        if (e->s[0] == '+') return v.t == CV_BOOL ? cv_int(v.u.b) : v;
        if (v.t == CV_FLOAT) return cv_float(-v.u.f);
        if (iv(&v) == INT64_MIN) { chat_fail(C, CHORD_E_UNSUPPORTED, e->line, e->col, "integer result beyond 64 bits"); return cv_none(); }
        return cv_int(-iv(&v));
    }
    case N_BINARY: return eval_binary(C, e);
    case N_COMPARE: return eval_compare(C, e);
    case N_AND: { cv a = chat_eval(C, e->a); TRY(C); return cv_truthy(&a) ? chat_eval(C, e->b) : a; }
    case N_OR: { cv a = chat_eval(C, e->a); TRY(C); return cv_truthy(&a) ? a : chat_eval(C, e->b); }
    case N_NOT: { cv a = chat_eval(C, e->a); TRY(C); return cv_bool(!cv_truthy(&a)); }
    case N_COND: {
        cv c = chat_eval(C, e->a); TRY(C);
        if (cv_truthy(&c)) return chat_eval(C, e->b);
        return e->c ? chat_eval(C, e->c) : cv_undef(NULL);
    }
    default:
        chat_fail(C, CHORD_E_INTERNAL, e->line, e->col, "not an expression");
        return cv_none();
    }
}

/* ---- statements ------------------------------------------------------------------------- */
static int assign(chat_ctx *C, chat_node *const *targets, size_t n_targets, const cv *v, const chat_node *at) {
    if (n_targets == 1 && targets[0]->kind == N_NAME) return scope_set(C, targets[0]->s, targets[0]->n, *v);
    if (n_targets == 1 && targets[0]->kind == N_ATTR) {
        const chat_node *t = targets[0];
        cv obj = chat_scope_lookup(C, t->a->s, t->a->n);
        if (obj.t != CV_NS) {
            chat_fail(C, CHORD_E_FORMAT, t->line, t->col, "cannot assign attribute on non-namespace object");
            return -1;
        }
        return cv_dict_set(C, obj.u.d, cv_str(t->s, t->n), *v);
    }
    cv_list *l;
    if (v->t != CV_LIST && v->t != CV_STR && v->t != CV_DICT) {
        chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "cannot unpack non-iterable %s object", cv_type_name(v));
        return -1;
    }
    if (cv_iter_list(C, v, &l, at->line, at->col)) return -1;
    if (l->n != n_targets) {
        chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "cannot unpack %zu values into %zu names", l->n, n_targets);
        return -1;
    }
    for (size_t i = 0; i < n_targets; i++) {
        if (targets[i]->kind != N_NAME) { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "can only unpack into names"); return -1; }
        scope_set(C, targets[i]->s, targets[i]->n, l->v[i]);
    }
    return CHAT_FAILED(C) ? -1 : 0;
}

static int exec_for_items(chat_ctx *C, const chat_node *s, const cv_list *items, int64_t r_start, int64_t r_step, int64_t n);

/* `range(...)` of the builtin as a for loop's iterable: its start/step/count without building
 * the list (templates loop `range(i - 1, -1, -1)` inside a loop over messages: quadratic in
 * steps, which the step limit bounds, but it must not be quadratic in memory too).
 * 1 = it is one, 0 = it is not, -1 = error. */
static int range_loop(chat_ctx *C, const chat_node *e, int64_t *start, int64_t *step, int64_t *count) {
    if (e->kind != N_CALL || e->a->kind != N_NAME || e->n_items2 || e->n_items < 1 || e->n_items > 3) return 0;
    cv f = chat_scope_lookup(C, e->a->s, e->a->n);
    if (f.t != CV_FUNC || f.u.fn != FN_RANGE) return 0;
    int64_t x[3] = { 0, 0, 0 };
    for (size_t i = 0; i < e->n_items; i++) {
        cv v = chat_eval(C, e->items[i]);
        if (CHAT_FAILED(C)) return -1;
        if (v.t != CV_INT && v.t != CV_BOOL) {
            chat_fail(C, CHORD_E_FORMAT, e->line, e->col, "'%s' object cannot be interpreted as an integer", cv_type_name(&v));
            return -1;
        }
        x[i] = v.t == CV_INT ? v.u.i : v.u.b;
    }
    int64_t lo = e->n_items == 1 ? 0 : x[0], hi = e->n_items == 1 ? x[0] : x[1], st = e->n_items == 3 ? x[2] : 1, span;
    if (!st) { chat_fail(C, CHORD_E_FORMAT, e->line, e->col, "range() arg 3 must not be zero"); return -1; }
    if (__builtin_sub_overflow(hi, lo, &span)) { chat_fail(C, CHORD_E_RANGE, e->line, e->col, "range() too long"); return -1; }
    *start = lo; *step = st;
    if ((st > 0 && span <= 0) || (st < 0 && span >= 0)) *count = 0;
    else *count = st > 0 ? (span - 1) / st + 1 : (-span - 1) / -st + 1;
    return 1;
}

static int exec_for(chat_ctx *C, const chat_node *s) {
    int64_t r_start = 0, r_step = 1, r_count = 0;
    int is_range = s->b ? 0 : range_loop(C, s->a, &r_start, &r_step, &r_count);
    if (is_range < 0) return -1;
    if (is_range) return exec_for_items(C, s, NULL, r_start, r_step, r_count);
    cv it = chat_eval(C, s->a);
    if (CHAT_FAILED(C)) return -1;
    if (it.t == CV_NONE || (it.t != CV_LIST && it.t != CV_DICT && it.t != CV_STR && it.t != CV_UNDEF && it.t != CV_NS)) {
        chat_fail(C, CHORD_E_FORMAT, s->a->line, s->a->col, "'%s' object is not iterable", cv_type_name(&it));
        return -1;
    }
    cv_list *items;
    if (cv_iter_list(C, &it, &items, s->line, s->col)) return -1;
    chat_scope *outer = C->scope;
    if (s->b) {   /* `for x in xs if cond`: filter first, loop.* counts what remains */
        cv kept = cv_new_list(C, 0);
        chat_scope *fs = scope_push(C, outer);
        if (CHAT_FAILED(C)) return -1;
        for (size_t i = 0; i < items->n; i++) {
            if (chat_step(C, s)) return -1;
            fs->vars.n = 0;
            C->scope = fs;
            if (assign(C, s->targets, s->n_targets, &items->v[i], s)) { C->scope = outer; return -1; }
            cv c = chat_eval(C, s->b);
            C->scope = outer;
            if (CHAT_FAILED(C)) return -1;
            if (cv_truthy(&c)) cv_list_push(C, kept.u.l, items->v[i]);
        }
        items = kept.u.l;
    }
    return exec_for_items(C, s, items, 0, 1, (int64_t)items->n);
}

/* The loop proper over items (or, items NULL, over range(start, ..., step) of n items). One
 * scope serves every iteration, emptied at its start: a `set` in the body never reaches the
 * next iteration (as in jinja2) and a long loop does not allocate per iteration. */
static int exec_for_items(chat_ctx *C, const chat_node *s, const cv_list *items, int64_t r_start, int64_t r_step, int64_t n) {
    chat_scope *outer = C->scope;
    chat_loop *lp = chat_alloc(C, sizeof *lp);
    chat_scope *it_scope = scope_push(C, outer);
    if (!lp || !it_scope) return -1;
    lp->length = n; lp->items = items; lp->r_start = r_start; lp->r_step = r_step;
    cv prev_loop = chat_scope_lookup(C, "loop", 4);
    lp->parent = prev_loop.t == CV_LOOP ? prev_loop.u.loop : NULL;
    lp->depth = lp->parent ? lp->parent->depth + 1 : 1;
    cv lv = cv_none(); lv.t = CV_LOOP; lv.u.loop = lp;
    int saved_in_loop = C->in_loop;
    C->in_loop = 1;
    for (int64_t i = 0; i < n; i++) {
        if (chat_step(C, s)) break;
        lp->index0 = i;
        it_scope->vars.n = 0;
        C->scope = it_scope;
        scope_set(C, "loop", 4, lv);
        cv item = items ? items->v[i] : cv_int(r_start + i * r_step);
        if (assign(C, s->targets, s->n_targets, &item, s)) break;
        chat_exec_body(C, s->items, s->n_items);
        C->scope = outer;
        if (CHAT_FAILED(C)) break;
        int ctl = C->loop_ctl;
        C->loop_ctl = 0;
        if (ctl == 1) break;
    }
    C->scope = outer;
    C->in_loop = saved_in_loop;
    if (CHAT_FAILED(C)) return -1;
    if (!n && s->n_items2) return chat_exec_body(C, s->items2, s->n_items2);
    return 0;
}

/* Renders body into a fresh string (block set, filter block, caller()). */
static cv capture(chat_ctx *C, chat_node *const *body, size_t n) {
    chat_buf buf = { 0 }, *saved = C->w;
    C->w = &buf;
    chat_buf_put(C, &buf, "", 0);
    chat_exec_body(C, body, n);
    C->w = saved;
    return cv_str(buf.p ? buf.p : "", buf.n);
}

static cv apply_filters(chat_ctx *C, chat_node *const *fl, size_t n, cv v) {
    for (size_t i = 0; i < n && !CHAT_FAILED(C); i++) {
        argbuf ab;
        if (eval_args(C, fl[i], &ab)) break;
        v = chat_filter(C, fl[i], fl[i]->s, fl[i]->n, &v, &ab.a);
    }
    return v;
}

static int exec_stmt(chat_ctx *C, const chat_node *s) {
    switch (s->kind) {
    case N_TEXT: return chat_buf_put(C, C->w, s->s, s->n);
    case N_OUTPUT: {
        cv v = chat_eval(C, s->a);
        if (CHAT_FAILED(C)) return -1;
        return cv_to_str(C, C->w, &v, 0);
    }
    case N_BODY: return chat_exec_body(C, s->items, s->n_items);
    case N_IF: {
        cv c = chat_eval(C, s->a);
        if (CHAT_FAILED(C)) return -1;
        if (cv_truthy(&c)) return chat_exec_body(C, s->items, s->n_items);
        return s->b ? exec_stmt(C, s->b) : 0;
    }
    case N_FOR: return exec_for(C, s);
    case N_SET: {
        cv v = chat_eval(C, s->a);
        if (CHAT_FAILED(C)) return -1;
        return assign(C, s->targets, s->n_targets, &v, s);
    }
    case N_SET_BLOCK: {
        cv v = capture(C, s->items, s->n_items);
        v = apply_filters(C, s->items2, s->n_items2, v);
        if (CHAT_FAILED(C)) return -1;
        return assign(C, s->targets, s->n_targets, &v, s);
    }
    case N_FILTER_BLOCK: {
        cv v = capture(C, s->items, s->n_items);
        v = apply_filters(C, s->items2, s->n_items2, v);
        if (CHAT_FAILED(C)) return -1;
        return cv_to_str(C, C->w, &v, 0);
    }
    case N_MACRO: {
        cv m = cv_none(); m.t = CV_MACRO; m.u.m = s;
        return scope_set(C, s->s, s->n, m);
    }
    case N_CALL_BLOCK: {
        const chat_node *saved = C->caller;
        chat_scope *saved_scope = C->caller_scope;
        C->caller = s; C->caller_scope = C->scope;
        cv v = chat_eval(C, s->a);
        C->caller = saved; C->caller_scope = saved_scope;
        if (CHAT_FAILED(C)) return -1;
        return cv_to_str(C, C->w, &v, 0);
    }
    case N_BREAK: case N_CONTINUE:
        if (!C->in_loop) { chat_fail(C, CHORD_E_FORMAT, s->line, s->col, "'%s' outside of a loop", s->kind == N_BREAK ? "break" : "continue"); return -1; }
        C->loop_ctl = s->kind == N_BREAK ? 1 : 2;
        return 0;
    default:
        chat_fail(C, CHORD_E_INTERNAL, s->line, s->col, "not a statement");
        return -1;
    }
}

int chat_exec_body(chat_ctx *C, chat_node *const *stmts, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (exec_stmt(C, stmts[i])) return -1;
        if (C->loop_ctl) return 0;   /* break/continue: unwind to the loop */
    }
    return CHAT_FAILED(C) ? -1 : 0;
}

/* caller() inside a macro invoked by {% call %}: renders the call block's body. */
cv chat_call_caller(chat_ctx *C, const chat_node *at, const chat_args *a);
cv chat_call_caller(chat_ctx *C, const chat_node *at, const chat_args *a) {
    const chat_node *cb = C->caller;
    if (!cb) { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "'caller' is undefined"); return cv_none(); }
    chat_scope *saved = C->scope;
    C->scope = scope_push(C, C->caller_scope);
    TRY(C);
    for (size_t i = 0; i < cb->n_targets; i++) {
        cv v = i < a->n_pos ? a->pos[i] : (cb->items2[i] ? chat_eval(C, cb->items2[i]) : cv_undef(NULL));
        scope_set(C, cb->targets[i]->s, cb->targets[i]->n, v);
    }
    const chat_node *saved_caller = C->caller;
    C->caller = NULL;
    cv r = capture(C, cb->items, cb->n_items);
    C->caller = saved_caller;
    C->scope = saved;
    return r;
}
