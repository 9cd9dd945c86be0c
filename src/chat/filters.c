/*
 * filters.c — jinja2's builtin filters and tests that chat templates use, with jinja2's
 * semantics (jinja2/filters.py, jinja2/tests.py) and transformers' own `tojson`
 * (json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)).
 * An unknown filter or test is an error naming it, never a pass-through.
 */
#include <stdlib.h>
#include <string.h>

#include "chat/chat.h"

#define TRY(C) do { if (CHAT_FAILED(C)) return cv_none(); } while (0)

cv chat_str_case(chat_ctx *C, const cv *s, int mode);
cv chat_str_strip(const cv *s, const cv *chars, int which);
cv chat_str_replace(chat_ctx *C, const cv *s, const cv *old, const cv *rep, int64_t count);
cv chat_dict_items(chat_ctx *C, const cv_dict *d);

static int need_str(chat_ctx *C, const chat_node *at, const cv *v, const char *what) {
    if (v && v->t == CV_STR) return 0;
    chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "%s expects a string, got %s", what, v ? cv_type_name(v) : "nothing");
    return -1;
}

/* attribute path "a.b.0" as jinja2's make_attrgetter resolves it */
static cv get_path(chat_ctx *C, const chat_node *at, const cv *obj, const cv *path) {
    cv cur = *obj;
    const char *p = path->u.s.p; size_t n = path->u.s.n, st = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && p[i] != '.') continue;
        const char *seg = p + st; size_t sl = i - st;
        int digits = sl > 0;
        for (size_t k = 0; k < sl; k++) if (seg[k] < '0' || seg[k] > '9') digits = 0;
        if (digits) { cv k = cv_int(strtoll(seg, NULL, 10)); cur = chat_getitem(C, at, &cur, &k); }
        else { cv k = cv_str(seg, sl); cur = chat_getitem(C, at, &cur, &k); }
        TRY(C);
        st = i + 1;
    }
    return cur;
}

/* ---- sorting (stable merge sort; comparison errors are template errors) ------------------ */
typedef struct { chat_ctx *C; const chat_node *at; int case_insensitive; int reverse; } sort_ctx;

static cv sort_key(sort_ctx *S, const cv *v) {
    if (S->case_insensitive && v->t == CV_STR) return chat_str_case(S->C, v, 0);
    return *v;
}

static int key_cmp(sort_ctx *S, const cv *a, const cv *b) {
    cv x = sort_key(S, a), y = sort_key(S, b);
    int c = cv_compare(&x, &y);
    if (c == 2) {
        chat_fail(S->C, CHORD_E_FORMAT, S->at->line, S->at->col, "'<' not supported between instances of '%s' and '%s'", cv_type_name(&x), cv_type_name(&y));
        return 0;
    }
    return S->reverse ? -c : c;
}

static void merge_sort(sort_ctx *S, cv *v, cv *keys, cv *tmp, cv *tmpk, size_t n) {
    if (n < 2 || CHAT_FAILED(S->C)) return;
    size_t h = n / 2;
    merge_sort(S, v, keys, tmp, tmpk, h);
    merge_sort(S, v + h, keys + h, tmp, tmpk, n - h);
    size_t i = 0, j = h, o = 0;
    while (i < h && j < n) {
        if (key_cmp(S, &keys[j], &keys[i]) < 0) { tmp[o] = v[j]; tmpk[o++] = keys[j++]; }
        else { tmp[o] = v[i]; tmpk[o++] = keys[i++]; }
    }
    while (i < h) { tmp[o] = v[i]; tmpk[o++] = keys[i++]; }
    while (j < n) { tmp[o] = v[j]; tmpk[o++] = keys[j++]; }
    memcpy(v, tmp, n * sizeof(cv)); memcpy(keys, tmpk, n * sizeof(cv));
}

static cv sorted(chat_ctx *C, const chat_node *at, const cv_list *in, const cv *attr, int by_index, int ci, int rev) {
    size_t n = in->n;
    cv out = cv_new_list(C, n); TRY(C);
    cv *keys = chat_alloc(C, (n + 1) * sizeof(cv)), *tmp = chat_alloc(C, (n + 1) * sizeof(cv)), *tmpk = chat_alloc(C, (n + 1) * sizeof(cv));
    TRY(C);
    for (size_t i = 0; i < n; i++) {
        out.u.l->v[i] = in->v[i];
        if (by_index >= 0) { cv k = cv_int(by_index); keys[i] = chat_getitem(C, at, &in->v[i], &k); }
        else keys[i] = attr ? get_path(C, at, &in->v[i], attr) : in->v[i];
        TRY(C);
    }
    out.u.l->n = n;
    sort_ctx S = { C, at, ci, rev };
    merge_sort(&S, out.u.l->v, keys, tmp, tmpk, n);
    TRY(C);
    return out;
}

/* ---- select / reject / map -------------------------------------------------------------- */
static cv gen(cv l) { if (l.t == CV_LIST) l.u.l->is_gen = 1; return l; }

static cv select_items(chat_ctx *C, const chat_node *at, const cv *v, const chat_args *a, int by_attr, int want) {
    cv_list *l;
    if (!cv_truthy(v)) return gen(cv_new_list(C, 0));   /* jinja2: `if seq:` before iterating */
    if (cv_iter_list(C, v, &l, at->line, at->col)) return cv_none();
    size_t first = by_attr ? 1 : 0;
    if (by_attr && (a->n_pos < 1 || a->pos[0].t != CV_STR)) { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "selectattr/rejectattr need an attribute name"); return cv_none(); }
    const cv *test = a->n_pos > first ? &a->pos[first] : NULL;
    if (test && test->t != CV_STR) { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "test name must be a string"); return cv_none(); }
    chat_args ta = { 0 };
    if (a->n_pos > first + 1) { ta.pos = a->pos + first + 1; ta.n_pos = a->n_pos - first - 1; }
    cv out = cv_new_list(C, 0); TRY(C);
    for (size_t i = 0; i < l->n; i++) {
        cv item = by_attr ? get_path(C, at, &l->v[i], &a->pos[0]) : l->v[i];
        TRY(C);
        int r = test ? chat_test(C, at, test->u.s.p, test->u.s.n, &item, &ta) : cv_truthy(&item);
        TRY(C);
        if (r == want) cv_list_push(C, out.u.l, l->v[i]);
    }
    return gen(out);
}

static cv map_items(chat_ctx *C, const chat_node *at, const cv *v, const chat_args *a) {
    cv_list *l;
    if (!cv_truthy(v)) return gen(cv_new_list(C, 0));
    if (cv_iter_list(C, v, &l, at->line, at->col)) return cv_none();
    const cv *attr = chat_arg(a, 99, "attribute"), *def = chat_arg(a, 99, "default");
    cv out = cv_new_list(C, l->n); TRY(C);
    if (attr) {
        if (attr->t != CV_STR) { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "map(attribute=) must be a string"); return cv_none(); }
        for (size_t i = 0; i < l->n; i++) {
            cv x = get_path(C, at, &l->v[i], attr); TRY(C);
            if (x.t == CV_UNDEF && def) x = *def;
            cv_list_push(C, out.u.l, x);
        }
        return gen(out);
    }
    if (!a->n_pos || a->pos[0].t != CV_STR) { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "map() needs a filter name or attribute="); return cv_none(); }
    chat_args fa = { a->pos + 1, a->n_pos - 1, a->kw_names, a->kw_lens, a->kw, a->n_kw };
    for (size_t i = 0; i < l->n; i++) {
        cv x = chat_filter(C, at, a->pos[0].u.s.p, a->pos[0].u.s.n, &l->v[i], &fa); TRY(C);
        cv_list_push(C, out.u.l, x);
    }
    return gen(out);
}

/* ---- tojson ----------------------------------------------------------------------------- */
static cv tojson(chat_ctx *C, const chat_node *at, const cv *v, const chat_args *a) {
    const cv *ea = chat_arg(a, 0, "ensure_ascii"), *ind = chat_arg(a, 1, "indent"),
             *sep = chat_arg(a, 2, "separators"), *sk = chat_arg(a, 3, "sort_keys");
    chat_json_opts o = { -1, ea ? cv_truthy(ea) : 0, sk ? cv_truthy(sk) : 0, ", ", ": " };
    if (ind && ind->t != CV_NONE) {
        if (ind->t != CV_INT || ind->u.i < 0 || ind->u.i > 64) { chat_fail(C, CHORD_E_UNSUPPORTED, at->line, at->col, "tojson: indent must be an integer 0..64"); return cv_none(); }
        o.indent = (int)ind->u.i; o.item_sep = ",";
    }
    if (sep && sep->t != CV_NONE) {
        if (sep->t != CV_LIST || sep->u.l->n != 2 || sep->u.l->v[0].t != CV_STR || sep->u.l->v[1].t != CV_STR) {
            chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "tojson: separators must be a pair of strings"); return cv_none();
        }
        o.item_sep = cv_str_copy(C, sep->u.l->v[0].u.s.p, sep->u.l->v[0].u.s.n).u.s.p;
        o.key_sep = cv_str_copy(C, sep->u.l->v[1].u.s.p, sep->u.l->v[1].u.s.n).u.s.p;
    }
    chat_buf b = { 0 };
    chat_buf_put(C, &b, "", 0);
    if (chat_json_dump(C, &b, v, &o, 0)) {
        if (C->msg[0] && C->status != CHORD_OK && !strstr(C->msg, "line")) {
            char tmp[256];
            memcpy(tmp, C->msg, sizeof tmp);
            C->status = CHORD_OK;
            chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "%s", tmp);
        }
        return cv_none();
    }
    return cv_str(b.p, b.n);
}

static cv indent_filter(chat_ctx *C, const chat_node *at, const cv *s, const chat_args *a) {
    const cv *w = chat_arg(a, 0, "width"), *first = chat_arg(a, 1, "first"), *blank = chat_arg(a, 2, "blank");
    chat_buf pad = { 0 };
    chat_buf_put(C, &pad, "", 0);
    if (!w) chat_buf_put(C, &pad, "    ", 4);
    else if (w->t == CV_STR) chat_buf_put(C, &pad, w->u.s.p, w->u.s.n);
    else if (w->t == CV_INT) for (int64_t i = 0; i < w->u.i && i < 256; i++) chat_buf_putc(C, &pad, ' ');
    else { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "indent width must be int or str"); return cv_none(); }
    chat_buf b = { 0 };
    chat_buf_put(C, &b, "", 0);
    const char *p = s->u.s.p; size_t n = s->u.s.n, st = 0;
    int line_no = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && p[i] != '\n') continue;
        size_t len = i - st;
        int is_blank = 1;
        for (size_t k = st; k < i; k++) if (p[k] != ' ' && p[k] != '\t') is_blank = 0;
        int do_pad = line_no == 0 ? (first && cv_truthy(first)) : (blank && cv_truthy(blank)) || !is_blank;
        if (line_no == 0 && first && cv_truthy(first) && !(blank && cv_truthy(blank)) && is_blank && len == 0) do_pad = 0;
        if (do_pad) chat_buf_put(C, &b, pad.p, pad.n);
        chat_buf_put(C, &b, p + st, len);
        if (i < n) chat_buf_putc(C, &b, '\n');
        st = i + 1; line_no++;
    }
    return cv_str(b.p, b.n);
}


cv chat_escape_html(chat_ctx *C, const cv *s) {
    chat_buf b = { 0 };
    chat_buf_put(C, &b, "", 0);
    for (size_t i = 0; i < s->u.s.n; i++) {
        char c = s->u.s.p[i];
        switch (c) {
        case '&': chat_buf_put(C, &b, "&amp;", 5); break;
        case '<': chat_buf_put(C, &b, "&lt;", 4); break;
        case '>': chat_buf_put(C, &b, "&gt;", 4); break;
        case '"': chat_buf_put(C, &b, "&#34;", 5); break;
        case '\'': chat_buf_put(C, &b, "&#39;", 5); break;
        default: chat_buf_putc(C, &b, c);
        }
    }
    cv r = cv_str(b.p, b.n);
    r.safe = 1;
    return r;
}

/* ---- the filters: one function each, found by name in `filters` ----------------------- */
/* One signature for all; `name` tells a function serving several names which one was asked. */
#define U __attribute__((unused))
#define FILTER(fn) static cv fn(U chat_ctx *C, U const chat_node *at, U const char *name, U size_t n, \
                                U const cv *v, U const chat_args *a)
#define IS(x) chat_name_eq(name, n, x)
FILTER(filter_tojson) {
    return tojson(C, at, v, a);
}

FILTER(filter_safe) {
    cv s = cv_stringify(C, v);
    s.safe = 1;
    return s;
}

FILTER(filter_default) {
    const cv *dv = chat_arg(a, 0, "default_value"), *b = chat_arg(a, 1, "boolean");
    int use = v->t == CV_UNDEF || (b && cv_truthy(b) && !cv_truthy(v));
    return use ? (dv ? *dv : cv_str("", 0)) : *v;
}

FILTER(filter_length) {
    switch (v->t) {
    case CV_UNDEF: return cv_int(0);
    case CV_STR: return cv_int((int64_t)chat_utf8_len(v->u.s.p, v->u.s.n));
    case CV_LIST:
        if (v->u.l->is_gen) { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "object of type 'generator' has no len()"); return cv_none(); }
        return cv_int((int64_t)v->u.l->n);
    case CV_DICT: case CV_NS: return cv_int((int64_t)v->u.d->n);
    default: chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "object of type '%s' has no len()", cv_type_name(v)); return cv_none();
    }
}

FILTER(filter_string) {
    return cv_stringify(C, v);
}

FILTER(filter_trim) {
    cv s = cv_stringify(C, v);
    return chat_str_strip(&s, chat_arg(a, 0, "chars"), 3);
}

FILTER(filter_upper) {
    cv s = cv_stringify(C, v);
    return chat_str_case(C, &s, IS("lower") ? 0 : IS("upper") ? 1 : IS("title") ? 2 : 3);
}

FILTER(filter_e) {
    if (v->t == CV_STR && v->safe) return *v;   /* already Markup */
    cv s = cv_stringify(C, v);
    return chat_escape_html(C, &s);
}

FILTER(filter_replace) {
    cv s = cv_stringify(C, v);
    const cv *o = chat_arg(a, 0, "old"), *r = chat_arg(a, 1, "new"), *c = chat_arg(a, 2, "count");
    if (!o || !r) { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "replace needs old and new"); return cv_none(); }
    cv os = cv_stringify(C, o), rs = cv_stringify(C, r);
    return chat_str_replace(C, &s, &os, &rs, c && c->t == CV_INT ? c->u.i : -1);
}

FILTER(filter_items) {
    if (v->t == CV_UNDEF) return cv_new_list(C, 0);
    if (v->t != CV_DICT) { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "Can only get item pairs from a mapping."); return cv_none(); }
    return chat_dict_items(C, v->u.d);
}

FILTER(filter_list) {
    cv_list *l;
    if (cv_iter_list(C, v, &l, at->line, at->col)) return cv_none();
    cv out = cv_new_list(C, l->n); TRY(C);
    for (size_t i = 0; i < l->n; i++) cv_list_push(C, out.u.l, l->v[i]);
    return out;
}

FILTER(filter_join) {
    cv_list *l;
    if (cv_iter_list(C, v, &l, at->line, at->col)) return cv_none();
    const cv *sep = chat_arg(a, 0, "d"), *attr = chat_arg(a, 1, "attribute");
    cv ss = sep ? cv_stringify(C, sep) : cv_str("", 0);
    chat_buf b = { 0 };
    chat_buf_put(C, &b, "", 0);
    for (size_t i = 0; i < l->n; i++) {
        if (i) chat_buf_put(C, &b, ss.u.s.p, ss.u.s.n);
        cv x = attr ? get_path(C, at, &l->v[i], attr) : l->v[i];
        TRY(C);
        cv_to_str(C, &b, &x, 0);
    }
    return cv_str(b.p, b.n);
}

FILTER(filter_first) {
    if (v->t == CV_LIST && v->u.l->is_gen) {
        cv_list *g = v->u.l;
        if (IS("first")) return g->gen_pos < g->n ? g->v[g->gen_pos++] : cv_undef(NULL);   /* next() */
        chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "'generator' object is not reversible");
        return cv_none();
    }
    cv_list *l;
    if (cv_iter_list(C, v, &l, at->line, at->col)) return cv_none();
    if (!l->n) return cv_undef(NULL);
    return IS("first") ? l->v[0] : l->v[l->n - 1];
}

FILTER(filter_reverse) {
    if (v->t == CV_STR) {
        cv_list *l;
        if (cv_iter_list(C, v, &l, at->line, at->col)) return cv_none();
        chat_buf b = { 0 };
        chat_buf_put(C, &b, "", 0);
        for (size_t i = l->n; i > 0; i--) chat_buf_put(C, &b, l->v[i - 1].u.s.p, l->v[i - 1].u.s.n);
        return cv_str(b.p, b.n);
    }
    cv_list *l;
    if (cv_iter_list(C, v, &l, at->line, at->col)) return cv_none();
    if (v->t == CV_LIST && v->u.l->is_gen) { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "'generator' object is not reversible"); return cv_none(); }
    cv out = cv_new_list(C, l->n); TRY(C);
    for (size_t i = l->n; i > 0; i--) cv_list_push(C, out.u.l, l->v[i - 1]);
    return gen(out);
}

FILTER(filter_int) {
    const cv *def = chat_arg(a, 0, "default");
    int is_int = IS("int");
    if (v->t == CV_INT) return is_int ? *v : cv_float((double)v->u.i);
    if (v->t == CV_BOOL) return is_int ? cv_int(v->u.b) : cv_float(v->u.b);
    if (v->t == CV_FLOAT) return is_int ? cv_int((int64_t)v->u.f) : *v;
    if (v->t == CV_STR) {
        char tmp[64];
        cv t = chat_str_strip(v, NULL, 3);
        if (t.u.s.n && t.u.s.n < sizeof tmp) {
            memcpy(tmp, t.u.s.p, t.u.s.n); tmp[t.u.s.n] = 0;
            char *end;
            long long iv = strtoll(tmp, &end, 10);
            if (!*end) return is_int ? cv_int(iv) : cv_float((double)iv);
            double d = strtod(tmp, &end);
            if (!*end) return is_int ? cv_int((int64_t)d) : cv_float(d);
        }
    }
    return def ? *def : is_int ? cv_int(0) : cv_float(0.0);
}

FILTER(filter_abs) {
    if (v->t == CV_INT) return cv_int(v->u.i < 0 ? -v->u.i : v->u.i);
    if (v->t == CV_FLOAT) return cv_float(v->u.f < 0 ? -v->u.f : v->u.f);
    chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "bad operand type for abs(): '%s'", cv_type_name(v)); return cv_none();
}

FILTER(filter_sum) {
    cv_list *l;
    if (cv_iter_list(C, v, &l, at->line, at->col)) return cv_none();
    const cv *attr = chat_arg(a, 0, "attribute"), *start = chat_arg(a, 1, "start");
    int64_t si = 0; double sf = 0; int fl = 0;
    if (start && start->t == CV_FLOAT) { fl = 1; sf = start->u.f; } else if (start && start->t == CV_INT) si = start->u.i;
    for (size_t i = 0; i < l->n; i++) {
        cv x = attr ? get_path(C, at, &l->v[i], attr) : l->v[i];
        TRY(C);
        if (x.t == CV_FLOAT) { if (!fl) { fl = 1; sf = (double)si; } sf += x.u.f; }
        else if (x.t == CV_INT || x.t == CV_BOOL) { int64_t k = x.t == CV_INT ? x.u.i : x.u.b; if (fl) sf += (double)k; else si += k; }
        else { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "unsupported operand type(s) for +: 'int' and '%s'", cv_type_name(&x)); return cv_none(); }
    }
    return fl ? cv_float(sf) : cv_int(si);
}

FILTER(filter_min) {
    cv_list *l;
    if (cv_iter_list(C, v, &l, at->line, at->col)) return cv_none();
    const cv *rev = IS("sort") ? chat_arg(a, 0, "reverse") : NULL;
    const cv *cs = chat_arg(a, IS("sort") ? 1 : 0, "case_sensitive");
    const cv *attr = chat_arg(a, IS("sort") ? 2 : 1, "attribute");
    int ci = !(cs && cv_truthy(cs));
    if (IS("unique")) {
        cv out = cv_new_list(C, 0); TRY(C);
        sort_ctx S = { C, at, ci, 0 };
        for (size_t i = 0; i < l->n; i++) {
            cv ki = attr ? get_path(C, at, &l->v[i], attr) : l->v[i];
            ki = sort_key(&S, &ki);
            int dup = 0;
            for (size_t j = 0; j < out.u.l->n && !dup; j++) {
                cv kj = attr ? get_path(C, at, &out.u.l->v[j], attr) : out.u.l->v[j];
                kj = sort_key(&S, &kj);
                dup = cv_equal(&ki, &kj);
            }
            if (!dup) cv_list_push(C, out.u.l, l->v[i]);
        }
        return gen(out);
    }
    cv s = sorted(C, at, l, attr && attr->t == CV_STR ? attr : NULL, -1, ci, rev && cv_truthy(rev));
    TRY(C);
    if (IS("sort")) return s;
    if (!s.u.l->n) return cv_undef(NULL);
    return IS("min") ? s.u.l->v[0] : s.u.l->v[s.u.l->n - 1];
}

FILTER(filter_dictsort) {
    if (v->t != CV_DICT) { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "You can only sort by either \"key\" or \"value\" of a mapping"); return cv_none(); }
    const cv *cs = chat_arg(a, 0, "case_sensitive"), *by = chat_arg(a, 1, "by"), *rev = chat_arg(a, 2, "reverse");
    int idx = by && by->t == CV_STR && chat_name_eq(by->u.s.p, by->u.s.n, "value") ? 1 : 0;
    cv items = chat_dict_items(C, v->u.d); TRY(C);
    return sorted(C, at, items.u.l, NULL, idx, !(cs && cv_truthy(cs)), rev && cv_truthy(rev));
}

FILTER(filter_selectattr) {
    return select_items(C, at, v, a, 1, 1);
}

FILTER(filter_rejectattr) {
    return select_items(C, at, v, a, 1, 0);
}

FILTER(filter_select) {
    return select_items(C, at, v, a, 0, 1);
}

FILTER(filter_reject) {
    return select_items(C, at, v, a, 0, 0);
}

FILTER(filter_map) {
    return map_items(C, at, v, a);
}

FILTER(filter_indent) {
    cv s = cv_stringify(C, v);
    return indent_filter(C, at, &s, a);
}

FILTER(filter_attr) {
    const cv *a0 = chat_arg(a, 0, NULL);
    if (need_str(C, at, a0, "attr")) return cv_none();
    return chat_getattr(C, at, v, a0->u.s.p, a0->u.s.n);
}

FILTER(filter_format) {
    if (need_str(C, at, v, "format")) return cv_none();
    return chat_method(C, at, v, "__mod__", 7, a);
}

FILTER(filter_wordcount) {
    cv s = cv_stringify(C, v);
    int64_t k = 0; int in = 0;
    for (size_t i = 0; i < s.u.s.n; i++) {
        char c = s.u.s.p[i];
        int w = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || ((uint8_t)c >= 0x80);
        if (w && !in) k++;
        in = w;
    }
    return cv_int(k);
}

FILTER(filter_center) {
    cv s = cv_stringify(C, v);
    const cv *w = chat_arg(a, 0, "width");
    int64_t width = w && w->t == CV_INT ? w->u.i : 80, len = (int64_t)chat_utf8_len(s.u.s.p, s.u.s.n);
    if (width <= len) return s;
    int64_t total = width - len, left = total / 2 + (total & width & 1);
    chat_buf b = { 0 };
    chat_buf_put(C, &b, "", 0);
    for (int64_t i = 0; i < left; i++) chat_buf_putc(C, &b, ' ');
    chat_buf_put(C, &b, s.u.s.p, s.u.s.n);
    for (int64_t i = 0; i < total - left; i++) chat_buf_putc(C, &b, ' ');
    return cv_str(b.p, b.n);
}

FILTER(filter_round) {
    const cv *pr = chat_arg(a, 0, "precision"), *m = chat_arg(a, 1, "method");
    if (v->t != CV_INT && v->t != CV_FLOAT) { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "round expects a number"); return cv_none(); }
    double x = v->t == CV_INT ? (double)v->u.i : v->u.f, sc = 1;
    for (int64_t i = 0; pr && pr->t == CV_INT && i < pr->u.i && i < 15; i++) sc *= 10;
    const char *meth = m && m->t == CV_STR ? m->u.s.p : "common";
    double y = x * sc;
    if (meth[0] == 'f') y = __builtin_floor(y);
    else if (meth[0] == 'c' && meth[1] == 'e') y = __builtin_ceil(y);
    else y = y < 0 ? -__builtin_floor(-y + 0.5) : __builtin_floor(y + 0.5);
    return cv_float(y / sc);
}
#undef IS
#undef FILTER
#undef U

typedef cv (*filter_fn)(chat_ctx *, const chat_node *, const char *, size_t, const cv *, const chat_args *);
static const struct { const char *name; filter_fn fn; } filters[] = {
    { "abs", filter_abs },
    { "attr", filter_attr },
    { "capitalize", filter_upper },
    { "center", filter_center },
    { "count", filter_length },
    { "d", filter_default },
    { "default", filter_default },
    { "dictsort", filter_dictsort },
    { "e", filter_e },
    { "escape", filter_e },
    { "first", filter_first },
    { "float", filter_int },
    { "format", filter_format },
    { "indent", filter_indent },
    { "int", filter_int },
    { "items", filter_items },
    { "join", filter_join },
    { "last", filter_first },
    { "length", filter_length },
    { "list", filter_list },
    { "lower", filter_upper },
    { "map", filter_map },
    { "max", filter_min },
    { "min", filter_min },
    { "reject", filter_reject },
    { "rejectattr", filter_rejectattr },
    { "replace", filter_replace },
    { "reverse", filter_reverse },
    { "round", filter_round },
    { "safe", filter_safe },
    { "select", filter_select },
    { "selectattr", filter_selectattr },
    { "sort", filter_min },
    { "string", filter_string },
    { "sum", filter_sum },
    { "title", filter_upper },
    { "tojson", filter_tojson },
    { "trim", filter_trim },
    { "unique", filter_min },
    { "upper", filter_upper },
    { "wordcount", filter_wordcount },
};

int chat_has_filter(const char *name, size_t n) {
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++) if (chat_name_eq(name, n, filters[i].name)) return 1;
    return 0;
}

cv chat_filter(chat_ctx *C, const chat_node *at, const char *name, size_t n, const cv *v, const chat_args *a) {
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++)
        if (chat_name_eq(name, n, filters[i].name)) return filters[i].fn(C, at, name, n, v, a);
    chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "No filter named '%.*s'", (int)n, name);
    return cv_none();
}

/* ---- tests ------------------------------------------------------------------------------ */

int chat_test(chat_ctx *C, const chat_node *at, const char *name, size_t n, const cv *v, const chat_args *a) {
#define IS(x) chat_name_eq(name, n, x)
    const cv *a0 = chat_arg(a, 0, NULL);
    if (IS("defined")) return v->t != CV_UNDEF;
    if (IS("undefined")) return v->t == CV_UNDEF;
    if (IS("none")) return v->t == CV_NONE;
    if (IS("boolean")) return v->t == CV_BOOL;
    if (IS("true")) return v->t == CV_BOOL && v->u.b;
    if (IS("false")) return v->t == CV_BOOL && !v->u.b;
    if (IS("integer")) return v->t == CV_INT;
    if (IS("float")) return v->t == CV_FLOAT;
    if (IS("number")) return v->t == CV_INT || v->t == CV_FLOAT || v->t == CV_BOOL;
    if (IS("string")) return v->t == CV_STR;
    if (IS("mapping")) return v->t == CV_DICT;
    if (IS("iterable")) return v->t == CV_STR || v->t == CV_LIST || v->t == CV_DICT || v->t == CV_UNDEF;
    if (IS("sequence")) return v->t == CV_STR || v->t == CV_LIST || v->t == CV_DICT || v->t == CV_UNDEF;
    if (IS("callable")) return v->t == CV_MACRO || v->t == CV_FUNC;
    if (IS("lower") || IS("upper")) {
        if (v->t != CV_STR) return 0;
        cv r = chat_method(C, at, v, IS("lower") ? "islower" : "isupper", 7, a);
        return cv_truthy(&r);
    }
    if (IS("odd") || IS("even") || IS("divisibleby")) {
        if (v->t != CV_INT && v->t != CV_BOOL) { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "test '%.*s' needs an integer", (int)n, name); return 0; }
        int64_t x = v->t == CV_INT ? v->u.i : v->u.b;
        if (IS("odd")) return (x % 2) != 0;
        if (IS("even")) return (x % 2) == 0;
        if (!a0 || a0->t != CV_INT || !a0->u.i) { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "divisibleby needs a non-zero integer"); return 0; }
        return x % a0->u.i == 0;
    }
    if (IS("sameas")) {
        if (!a0) goto need_arg;
        if (v->t != a0->t) return 0;
        if (v->t == CV_NONE || v->t == CV_UNDEF) return 1;
        if (v->t == CV_BOOL) return v->u.b == a0->u.b;
        return cv_equal(v, a0) && (v->t == CV_INT || v->t == CV_FLOAT);
    }
    if (IS("eq") || IS("equalto") || IS("==")) { if (!a0) goto need_arg; return cv_equal(v, a0); }
    if (IS("ne") || IS("!=")) { if (!a0) goto need_arg; return !cv_equal(v, a0); }
    if (IS("lt") || IS("le") || IS("gt") || IS("ge") || IS("lessthan") || IS("greaterthan")) {
        if (!a0) goto need_arg;
        int c = cv_compare(v, a0);
        if (c == 2) { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "comparison not supported between '%s' and '%s'", cv_type_name(v), cv_type_name(a0)); return 0; }
        if (IS("lt") || IS("lessthan")) return c < 0;
        if (IS("le")) return c <= 0;
        if (IS("gt") || IS("greaterthan")) return c > 0;
        return c >= 0;
    }
    if (IS("in")) {
        if (!a0) goto need_arg;
        if (a0->t == CV_STR) {
            if (v->t != CV_STR) { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "'in <string>' requires string as left operand"); return 0; }
            if (!v->u.s.n) return 1;
            for (size_t i = 0; i + v->u.s.n <= a0->u.s.n; i++) if (memcmp(a0->u.s.p + i, v->u.s.p, v->u.s.n) == 0) return 1;
            return 0;
        }
        if (a0->t == CV_LIST) { for (size_t i = 0; i < a0->u.l->n; i++) if (cv_equal(&a0->u.l->v[i], v)) return 1; return 0; }
        if (a0->t == CV_DICT) return cv_dict_find(a0->u.d, v) != NULL;
        chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "argument of type '%s' is not iterable", cv_type_name(a0));
        return 0;
    }
    if (IS("filter")) return v->t == CV_STR && chat_has_filter(v->u.s.p, v->u.s.n);
    if (IS("escaped")) return v->t == CV_STR && v->safe;
#undef IS
    chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "No test named '%.*s'", (int)n, name);
    return 0;
need_arg:
    chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "test '%.*s' needs an argument", (int)n, name);
    return 0;
}
