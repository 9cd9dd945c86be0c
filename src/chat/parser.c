/*
 * parser.c — tokens to an AST, a recursive-descent parser that follows jinja2's grammar and
 * operator precedence (jinja2/parser.py):
 *   cond (x if c else y) < or < and < not < compare (== != < > <= >= in, not in)
 *   < + - < ~ < * / // % < ** < unary - + < primary with postfix (.attr [item] [a:b:c] (call))
 *   and filter/test chains (x|f(a) is t) bound tighter than any binary operator.
 * Statements: if/elif/else, for (targets, `if` filter, else), set (name, ns.attr, unpacking,
 * block set with filters), macro (defaults), call blocks, filter blocks, break/continue, and
 * transformers' {% generation %} (rendered as its body). Anything else is an error naming the
 * tag and its position. Recursion depth is bounded by the render limit.
 */
#include <stdio.h>
#include <string.h>

#include "chat/chat.h"

typedef struct {
    chat_ctx *C;
    const chat_tok *t; size_t n, i;
    uint32_t depth;
} parser;

typedef struct { chat_node **v; size_t n, cap; } nvec;

static const chat_tok *cur(parser *P) { return &P->t[P->i]; }
static const chat_tok *peek(parser *P, size_t k) { return &P->t[P->i + k < P->n ? P->i + k : P->n - 1]; }

static int is_op(const chat_tok *t, const char *op) { return t->k == TK_OP && chat_name_eq(t->s, t->n, op); }
static int is_name(const chat_tok *t, const char *nm) { return t->k == TK_NAME && chat_name_eq(t->s, t->n, nm); }

static void fail_at(parser *P, const chat_tok *t, const char *fmt, const char *arg) {
    chat_fail(P->C, CHORD_E_FORMAT, t->line, t->col, fmt, arg);
}

static const char *tok_desc(const chat_tok *t, char *buf, size_t cap) {
    switch (t->k) {
    case TK_EOF: return "end of template";
    case TK_VAR_END: return "'}}'";
    case TK_BLOCK_END: return "'%}'";
    case TK_TEXT: return "text";
    case TK_STRING: return "string";
    case TK_INT: case TK_FLOAT: return "number";
    default: {
        size_t n = t->n < cap - 3 ? t->n : cap - 3;
        buf[0] = '\''; memcpy(buf + 1, t->s, n); buf[n + 1] = '\''; buf[n + 2] = 0;
        return buf;
    }
    }
}

static int expect_op(parser *P, const char *op) {
    if (is_op(cur(P), op)) { P->i++; return 0; }
    char b[48], m[64];
    snprintf(m, sizeof m, "expected '%s', got %%s", op);
    fail_at(P, cur(P), m, tok_desc(cur(P), b, sizeof b));
    return -1;
}

static int expect_kind(parser *P, chat_tok_kind k, const char *what) {
    if (cur(P)->k == k) { P->i++; return 0; }
    char b[48], m[64];
    snprintf(m, sizeof m, "expected %s, got %%s", what);
    fail_at(P, cur(P), m, tok_desc(cur(P), b, sizeof b));
    return -1;
}

static chat_node *mk(parser *P, chat_node_kind k, const chat_tok *at) {
    chat_node *n = chat_alloc(P->C, sizeof *n);
    if (!n) return NULL;
    memset(n, 0, sizeof *n);
    n->kind = k; n->line = at->line; n->col = at->col;
    return n;
}

static int nvec_push(parser *P, nvec *v, chat_node *n) {
    if (!n || CHAT_FAILED(P->C)) return -1;
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 4;
        chat_node **nv = chat_alloc(P->C, cap * sizeof *nv);
        if (!nv) return -1;
        if (v->n) memcpy(nv, v->v, v->n * sizeof *nv);
        v->v = nv; v->cap = cap;
    }
    v->v[v->n++] = n;
    return 0;
}

static int enter(parser *P) {
    if (++P->depth > P->C->lim.max_depth) {
        chat_fail(P->C, CHORD_E_RANGE, cur(P)->line, cur(P)->col, "template nesting deeper than %u (limit)", P->C->lim.max_depth);
        return -1;
    }
    return 0;
}

static chat_node *parse_expr(parser *P, int with_cond);
static chat_node *parse_unary(parser *P, int with_filter);
static chat_node *parse_tuple(parser *P, int with_cond, int explicit_parens);

/* ---- expressions ------------------------------------------------------------------------ */
/* (args, kw=...) after the '(' has been seen */
static int parse_call_args(parser *P, nvec *args, nvec *kw) {
    if (expect_op(P, "(")) return -1;
    while (!is_op(cur(P), ")")) {
        if (args->n || kw->n) { if (expect_op(P, ",")) return -1; if (is_op(cur(P), ")")) break; }
        if (is_op(cur(P), "*") || is_op(cur(P), "**")) { fail_at(P, cur(P), "unsupported: %s in call arguments", "*args/**kwargs"); return -1; }
        if (cur(P)->k == TK_NAME && is_op(peek(P, 1), "=")) {
            chat_node *k = mk(P, N_KWARG, cur(P));
            if (!k) return -1;
            k->s = cur(P)->s; k->n = cur(P)->n;
            P->i += 2;
            k->a = parse_expr(P, 1);
            if (nvec_push(P, kw, k)) return -1;
        } else {
            if (kw->n) { fail_at(P, cur(P), "%s", "positional argument after keyword argument"); return -1; }
            if (nvec_push(P, args, parse_expr(P, 1))) return -1;
        }
    }
    P->i++;
    return 0;
}

static chat_node *parse_primary(parser *P) {
    const chat_tok *t = cur(P);
    chat_node *n = NULL;
    if (t->k == TK_NAME) {
        n = mk(P, N_CONST, t);
        if (!n) return NULL;
        if (is_name(t, "true") || is_name(t, "True")) n->val = cv_bool(1);
        else if (is_name(t, "false") || is_name(t, "False")) n->val = cv_bool(0);
        else if (is_name(t, "none") || is_name(t, "None")) n->val = cv_none();
        else { n->kind = N_NAME; n->s = t->s; n->n = t->n; }
        P->i++;
        return n;
    }
    if (t->k == TK_STRING) {
        n = mk(P, N_CONST, t);
        if (!n) return NULL;
        n->val = cv_str(t->s, t->n);
        P->i++;
        if (cur(P)->k == TK_STRING) {   /* adjacent literals concatenate */
            chat_buf b = { 0 };
            chat_buf_put(P->C, &b, t->s, t->n);
            while (cur(P)->k == TK_STRING) { chat_buf_put(P->C, &b, cur(P)->s, cur(P)->n); P->i++; }
            n->val = cv_str(b.p, b.n);
        }
        return n;
    }
    if (t->k == TK_INT || t->k == TK_FLOAT) {
        n = mk(P, N_CONST, t);
        if (!n) return NULL;
        n->val = t->k == TK_INT ? cv_int(t->i) : cv_float(t->f);
        P->i++;
        return n;
    }
    if (is_op(t, "(")) {
        P->i++;
        n = parse_tuple(P, 1, 1);
        if (!n || expect_op(P, ")")) return NULL;
        return n;
    }
    if (is_op(t, "[")) {
        P->i++;
        nvec v = { 0 };
        while (!is_op(cur(P), "]")) {
            if (v.n) { if (expect_op(P, ",")) return NULL; if (is_op(cur(P), "]")) break; }
            if (nvec_push(P, &v, parse_expr(P, 1))) return NULL;
        }
        P->i++;
        n = mk(P, N_LIST, t);
        if (n) { n->items = v.v; n->n_items = v.n; }
        return n;
    }
    if (is_op(t, "{")) {
        P->i++;
        nvec v = { 0 };
        while (!is_op(cur(P), "}")) {
            if (v.n) { if (expect_op(P, ",")) return NULL; if (is_op(cur(P), "}")) break; }
            if (nvec_push(P, &v, parse_expr(P, 1)) || expect_op(P, ":") || nvec_push(P, &v, parse_expr(P, 1))) return NULL;
        }
        P->i++;
        n = mk(P, N_DICT, t);
        if (n) { n->items = v.v; n->n_items = v.n; }
        return n;
    }
    char b[48];
    fail_at(P, t, "unexpected %s in expression", tok_desc(t, b, sizeof b));
    return NULL;
}

static chat_node *parse_subscript(parser *P, chat_node *obj, const chat_tok *at) {
    chat_node *parts[3] = { NULL, NULL, NULL };
    int k = 0, is_slice = 0;
    for (;;) {
        if (is_op(cur(P), "]")) break;
        if (is_op(cur(P), ":")) {
            if (++k > 2) { fail_at(P, cur(P), "%s", "too many ':' in slice"); return NULL; }
            is_slice = 1; P->i++; continue;
        }
        if (parts[k]) { char b[48]; fail_at(P, cur(P), "unexpected %s in subscript", tok_desc(cur(P), b, sizeof b)); return NULL; }
        parts[k] = parse_expr(P, 1);
        if (!parts[k]) return NULL;
    }
    P->i++;
    chat_node *n = mk(P, is_slice ? N_SLICE : N_ITEM, at);
    if (!n) return NULL;
    n->a = obj;
    if (is_slice) { n->b = parts[0]; n->c = parts[1]; n->items = chat_alloc(P->C, sizeof(chat_node *)); if (n->items) { n->items[0] = parts[2]; n->n_items = 1; } }
    else {
        if (!parts[0]) { fail_at(P, at, "%s", "empty subscript"); return NULL; }
        n->b = parts[0];
    }
    return n;
}

static chat_node *parse_postfix(parser *P, chat_node *n) {
    while (n && !CHAT_FAILED(P->C)) {
        const chat_tok *t = cur(P);
        if (is_op(t, ".")) {
            P->i++;
            const chat_tok *nm = cur(P);
            if (nm->k != TK_NAME && nm->k != TK_INT) { char b[48]; fail_at(P, nm, "expected attribute name, got %s", tok_desc(nm, b, sizeof b)); return NULL; }
            chat_node *a = mk(P, nm->k == TK_INT ? N_ITEM : N_ATTR, t);
            if (!a) return NULL;
            a->a = n;
            if (nm->k == TK_INT) { a->b = mk(P, N_CONST, nm); if (a->b) a->b->val = cv_int(nm->i); }
            else { a->s = nm->s; a->n = nm->n; }
            P->i++;
            n = a;
        } else if (is_op(t, "[")) {
            P->i++;
            n = parse_subscript(P, n, t);
        } else if (is_op(t, "(")) {
            nvec args = { 0 }, kw = { 0 };
            if (parse_call_args(P, &args, &kw)) return NULL;
            chat_node *c = mk(P, N_CALL, t);
            if (!c) return NULL;
            c->line = n->line; c->col = n->col;   /* errors point at the callee */
            c->a = n; c->items = args.v; c->n_items = args.n; c->items2 = kw.v; c->n_items2 = kw.n;
            n = c;
        } else break;
    }
    return n;
}

static chat_node *parse_filter_or_test(parser *P, chat_node *n, int is_test) {
    const chat_tok *at = cur(P);
    P->i++;
    int neg = 0;
    if (is_test && is_name(cur(P), "not")) { neg = 1; P->i++; }
    const chat_tok *nm = cur(P);
    if (nm->k != TK_NAME) { char b[48]; fail_at(P, nm, is_test ? "expected test name, got %s" : "expected filter name, got %s", tok_desc(nm, b, sizeof b)); return NULL; }
    P->i++;
    chat_node *f = mk(P, is_test ? N_TEST : N_FILTER, nm);
    if (!f) return NULL;
    (void)at;
    f->a = n; f->s = nm->s; f->n = nm->n; f->neg = neg;
    nvec args = { 0 }, kw = { 0 };
    if (is_op(cur(P), "(")) {
        if (parse_call_args(P, &args, &kw)) return NULL;
    } else if (is_test) {
        /* jinja2: `x is divisibleby 3`, `x is sameas none` — one primary argument */
        const chat_tok *t = cur(P);
        int starts = t->k == TK_NAME || t->k == TK_STRING || t->k == TK_INT || t->k == TK_FLOAT ||
                     is_op(t, "(") || is_op(t, "[") || is_op(t, "{");
        if (starts && !is_name(t, "else") && !is_name(t, "or") && !is_name(t, "and") && !is_name(t, "if")) {
            if (is_name(t, "is")) { fail_at(P, t, "%s", "You cannot chain multiple tests with is"); return NULL; }
            if (nvec_push(P, &args, parse_postfix(P, parse_primary(P)))) return NULL;
        }
    }
    f->items = args.v; f->n_items = args.n; f->items2 = kw.v; f->n_items2 = kw.n;
    return f;
}

static chat_node *parse_filter_expr(parser *P, chat_node *n) {
    while (n && !CHAT_FAILED(P->C)) {
        if (is_op(cur(P), "|")) n = parse_filter_or_test(P, n, 0);
        else if (is_name(cur(P), "is")) n = parse_filter_or_test(P, n, 1);
        else if (is_op(cur(P), "(")) n = parse_postfix(P, n);
        else break;
    }
    return n;
}

static chat_node *parse_unary(parser *P, int with_filter) {
    if (enter(P)) return NULL;
    const chat_tok *t = cur(P);
    chat_node *n;
    if (is_op(t, "-") || is_op(t, "+")) {
        P->i++;
        n = mk(P, N_UNARY, t);
        if (n) { n->s = t->s; n->n = 1; n->a = parse_unary(P, 0); if (!n->a) n = NULL; }
    } else n = parse_primary(P);
    n = parse_postfix(P, n);
    if (with_filter) n = parse_filter_expr(P, n);
    P->depth--;
    return n;
}

static chat_node *binary(parser *P, const chat_tok *op, chat_node *l, chat_node *r) {
    if (!l || !r) return NULL;
    chat_node *n = mk(P, N_BINARY, op);
    if (!n) return NULL;
    n->s = op->s; n->n = op->n; n->a = l; n->b = r;
    return n;
}

static chat_node *parse_pow(parser *P) {
    chat_node *l = parse_unary(P, 1);
    while (l && is_op(cur(P), "**")) { const chat_tok *op = cur(P); P->i++; l = binary(P, op, l, parse_unary(P, 1)); }
    return l;
}
static chat_node *parse_math2(parser *P) {
    chat_node *l = parse_pow(P);
    while (l && (is_op(cur(P), "*") || is_op(cur(P), "/") || is_op(cur(P), "//") || is_op(cur(P), "%"))) {
        const chat_tok *op = cur(P); P->i++; l = binary(P, op, l, parse_pow(P));
    }
    return l;
}
static chat_node *parse_concat(parser *P) {
    chat_node *l = parse_math2(P);
    while (l && is_op(cur(P), "~")) { const chat_tok *op = cur(P); P->i++; l = binary(P, op, l, parse_math2(P)); }
    return l;
}
static chat_node *parse_math1(parser *P) {
    chat_node *l = parse_concat(P);
    while (l && (is_op(cur(P), "+") || is_op(cur(P), "-"))) { const chat_tok *op = cur(P); P->i++; l = binary(P, op, l, parse_concat(P)); }
    return l;
}

static chat_node *parse_compare(parser *P) {
    chat_node *first = parse_math1(P), *res = NULL, *left = first;
    if (!first) return NULL;
    for (;;) {
        const chat_tok *t = cur(P);
        const char *op = NULL;
        if (t->k == TK_OP && (is_op(t, "==") || is_op(t, "!=") || is_op(t, "<") || is_op(t, ">") || is_op(t, "<=") || is_op(t, ">="))) {
            P->i++;
            op = t->n == 2 ? (t->s[0] == '=' ? "==" : t->s[0] == '!' ? "!=" : t->s[0] == '<' ? "<=" : ">=") : (t->s[0] == '<' ? "<" : ">");
        } else if (is_name(t, "in")) { P->i++; op = "in"; }
        else if (is_name(t, "not") && is_name(peek(P, 1), "in")) { P->i += 2; op = "notin"; }
        else break;
        chat_node *right = parse_math1(P);
        if (!right) return NULL;
        chat_node *c = mk(P, N_COMPARE, t);
        if (!c) return NULL;
        c->s = op; c->n = strlen(op); c->a = left; c->b = right;
        if (!res) res = c;
        else {   /* a < b < c  ==  (a < b) and (b < c) */
            chat_node *an = mk(P, N_AND, t);
            if (!an) return NULL;
            an->a = res; an->b = c; res = an;
        }
        left = right;
    }
    return res ? res : first;
}

static chat_node *parse_not(parser *P) {
    if (is_name(cur(P), "not")) {
        const chat_tok *t = cur(P);
        P->i++;
        if (enter(P)) return NULL;
        chat_node *n = mk(P, N_NOT, t);
        if (n) { n->a = parse_not(P); if (!n->a) n = NULL; }
        P->depth--;
        return n;
    }
    return parse_compare(P);
}
static chat_node *parse_and(parser *P) {
    chat_node *l = parse_not(P);
    while (l && is_name(cur(P), "and")) {
        const chat_tok *t = cur(P); P->i++;
        chat_node *n = mk(P, N_AND, t), *r = parse_not(P);
        if (!n || !r) return NULL;
        n->a = l; n->b = r; l = n;
    }
    return l;
}
static chat_node *parse_or(parser *P) {
    chat_node *l = parse_and(P);
    while (l && is_name(cur(P), "or")) {
        const chat_tok *t = cur(P); P->i++;
        chat_node *n = mk(P, N_OR, t), *r = parse_and(P);
        if (!n || !r) return NULL;
        n->a = l; n->b = r; l = n;
    }
    return l;
}

static chat_node *parse_expr(parser *P, int with_cond) {
    if (enter(P)) return NULL;
    chat_node *e = parse_or(P);
    while (with_cond && e && is_name(cur(P), "if")) {
        const chat_tok *t = cur(P); P->i++;
        chat_node *c = mk(P, N_COND, t);
        if (!c) return NULL;
        c->a = parse_or(P);   /* the condition */
        c->b = e;             /* value when true */
        if (is_name(cur(P), "else")) { P->i++; c->c = parse_expr(P, 1); if (!c->c) return NULL; }
        if (!c->a) return NULL;
        e = c;
    }
    P->depth--;
    return e;
}

/* Comma-separated expressions; a single one without a trailing comma is itself. */
static chat_node *parse_tuple(parser *P, int with_cond, int explicit_parens) {
    const chat_tok *at = cur(P);
    nvec v = { 0 };
    int comma = 0;
    if (explicit_parens && is_op(cur(P), ")")) { chat_node *t = mk(P, N_TUPLE, at); return t; }
    for (;;) {
        if (nvec_push(P, &v, parse_expr(P, with_cond))) return NULL;
        if (!is_op(cur(P), ",")) break;
        P->i++; comma = 1;
        const chat_tok *t = cur(P);
        if (t->k == TK_VAR_END || t->k == TK_BLOCK_END || is_op(t, ")") || is_name(t, "if") || is_name(t, "recursive")) break;
    }
    if (v.n == 1 && !comma) return v.v[0];
    chat_node *t = mk(P, N_TUPLE, at);
    if (t) { t->items = v.v; t->n_items = v.n; }
    return t;
}

/* ---- statements ------------------------------------------------------------------------- */
static int parse_body(parser *P, nvec *out, const char *const *ends, const chat_tok **end_at);

/* Assignment targets: name | name.attr | a, b, ... */
static int parse_targets(parser *P, nvec *tg, int allow_attr) {
    int paren = is_op(cur(P), "(");
    if (paren) P->i++;
    for (;;) {
        const chat_tok *t = cur(P);
        if (t->k != TK_NAME) { char b[48]; fail_at(P, t, "expected a variable name, got %s", tok_desc(t, b, sizeof b)); return -1; }
        chat_node *n = mk(P, N_NAME, t);
        if (!n) return -1;
        n->s = t->s; n->n = t->n;
        P->i++;
        if (allow_attr && is_op(cur(P), ".")) {
            P->i++;
            const chat_tok *a = cur(P);
            if (a->k != TK_NAME) { char b[48]; fail_at(P, a, "expected attribute name, got %s", tok_desc(a, b, sizeof b)); return -1; }
            chat_node *at = mk(P, N_ATTR, a);
            if (!at) return -1;
            at->a = n; at->s = a->s; at->n = a->n;
            P->i++;
            n = at;
        }
        if (nvec_push(P, tg, n)) return -1;
        if (!is_op(cur(P), ",")) break;
        P->i++;
    }
    if (paren && expect_op(P, ")")) return -1;
    return 0;
}

static int end_block(parser *P) { return expect_kind(P, TK_BLOCK_END, "'%}'"); }

static chat_node *parse_if(parser *P, const chat_tok *at) {
    chat_node *n = mk(P, N_IF, at);
    if (!n) return NULL;
    n->a = parse_expr(P, 1);
    if (!n->a || end_block(P)) return NULL;
    static const char *const ends[] = { "elif", "else", "endif", NULL };
    nvec body = { 0 };
    const chat_tok *e;
    if (parse_body(P, &body, ends, &e)) return NULL;
    n->items = body.v; n->n_items = body.n;
    if (is_name(e, "elif")) { n->b = parse_if(P, e); return n->b ? n : NULL; }
    if (is_name(e, "else")) {
        if (end_block(P)) return NULL;
        static const char *const ends2[] = { "endif", NULL };
        nvec eb = { 0 };
        if (parse_body(P, &eb, ends2, &e)) return NULL;
        n->b = mk(P, N_BODY, e);
        if (!n->b) return NULL;
        n->b->items = eb.v; n->b->n_items = eb.n;
    }
    return end_block(P) ? NULL : n;
}

static chat_node *parse_for(parser *P, const chat_tok *at) {
    chat_node *n = mk(P, N_FOR, at);
    nvec tg = { 0 };
    if (!n || parse_targets(P, &tg, 0)) return NULL;
    n->targets = tg.v; n->n_targets = tg.n;
    if (!is_name(cur(P), "in")) { char b[48]; fail_at(P, cur(P), "expected 'in', got %s", tok_desc(cur(P), b, sizeof b)); return NULL; }
    P->i++;
    n->a = parse_tuple(P, 0, 0);
    if (!n->a) return NULL;
    if (is_name(cur(P), "if")) { P->i++; n->b = parse_expr(P, 1); if (!n->b) return NULL; }
    if (is_name(cur(P), "recursive")) { fail_at(P, cur(P), "unsupported: %s", "recursive for loops"); return NULL; }
    if (end_block(P)) return NULL;
    static const char *const ends[] = { "else", "endfor", NULL };
    nvec body = { 0 }, eb = { 0 };
    const chat_tok *e;
    if (parse_body(P, &body, ends, &e)) return NULL;
    n->items = body.v; n->n_items = body.n;
    if (is_name(e, "else")) {
        static const char *const ends2[] = { "endfor", NULL };
        if (end_block(P) || parse_body(P, &eb, ends2, &e)) return NULL;
        n->items2 = eb.v; n->n_items2 = eb.n;
    }
    return end_block(P) ? NULL : n;
}

/* `| f(args) | g` after a block set / filter tag: filter nodes with an empty operand. */
static int parse_filter_chain(parser *P, nvec *fl, int need_first_bar) {
    int first = 1;
    while (is_op(cur(P), "|") || (first && !need_first_bar)) {
        if (first && !need_first_bar) {
            const chat_tok *nm = cur(P);
            if (nm->k != TK_NAME) { char b[48]; fail_at(P, nm, "expected filter name, got %s", tok_desc(nm, b, sizeof b)); return -1; }
            P->i--;   /* parse_filter_or_test skips one token (the '|') */
        }
        chat_node *f = parse_filter_or_test(P, NULL, 0);
        if (nvec_push(P, fl, f)) return -1;
        first = 0;
    }
    return 0;
}

static chat_node *parse_set(parser *P, const chat_tok *at) {
    chat_node *n = mk(P, N_SET, at);
    nvec tg = { 0 };
    if (!n || parse_targets(P, &tg, 1)) return NULL;
    n->targets = tg.v; n->n_targets = tg.n;
    if (is_op(cur(P), "=")) {
        P->i++;
        n->a = parse_tuple(P, 1, 0);
        return (!n->a || end_block(P)) ? NULL : n;
    }
    n->kind = N_SET_BLOCK;
    nvec fl = { 0 }, body = { 0 };
    if (parse_filter_chain(P, &fl, 1) || end_block(P)) return NULL;
    static const char *const ends[] = { "endset", NULL };
    const chat_tok *e;
    if (parse_body(P, &body, ends, &e) || end_block(P)) return NULL;
    n->items = body.v; n->n_items = body.n; n->items2 = fl.v; n->n_items2 = fl.n;
    return n;
}

static chat_node *parse_macro_sig(parser *P, chat_node *n) {
    nvec tg = { 0 }, defs = { 0 };
    if (expect_op(P, "(")) return NULL;
    while (!is_op(cur(P), ")")) {
        if (tg.n && expect_op(P, ",")) return NULL;
        if (is_op(cur(P), ")")) break;
        const chat_tok *t = cur(P);
        if (t->k != TK_NAME) { char b[48]; fail_at(P, t, "expected a parameter name, got %s", tok_desc(t, b, sizeof b)); return NULL; }
        chat_node *pn = mk(P, N_NAME, t);
        if (!pn) return NULL;
        pn->s = t->s; pn->n = t->n;
        P->i++;
        chat_node *d = NULL;
        if (is_op(cur(P), "=")) { P->i++; d = parse_expr(P, 1); if (!d) return NULL; }
        else if (defs.n && defs.v[defs.n - 1]) { fail_at(P, t, "%s", "non-default argument follows default argument"); return NULL; }
        if (nvec_push(P, &tg, pn)) return NULL;
        /* defaults vector may hold NULL: push through a placeholder then clear */
        if (nvec_push(P, &defs, d ? d : pn)) return NULL;
        if (!d) defs.v[defs.n - 1] = NULL;
    }
    P->i++;
    n->targets = tg.v; n->n_targets = tg.n; n->items2 = defs.v; n->n_items2 = defs.n;
    return n;
}

static chat_node *parse_macro(parser *P, const chat_tok *at) {
    chat_node *n = mk(P, N_MACRO, at);
    const chat_tok *nm = cur(P);
    if (!n) return NULL;
    if (nm->k != TK_NAME) { char b[48]; fail_at(P, nm, "expected macro name, got %s", tok_desc(nm, b, sizeof b)); return NULL; }
    n->s = nm->s; n->n = nm->n;
    P->i++;
    if (!parse_macro_sig(P, n) || end_block(P)) return NULL;
    static const char *const ends[] = { "endmacro", NULL };
    nvec body = { 0 };
    const chat_tok *e;
    if (parse_body(P, &body, ends, &e)) return NULL;
    if (cur(P)->k == TK_NAME) P->i++;   /* {% endmacro name %} */
    if (end_block(P)) return NULL;
    n->items = body.v; n->n_items = body.n;
    return n;
}

static chat_node *parse_call_block(parser *P, const chat_tok *at) {
    chat_node *n = mk(P, N_CALL_BLOCK, at);
    if (!n) return NULL;
    if (is_op(cur(P), "(")) { if (!parse_macro_sig(P, n)) return NULL; }
    n->a = parse_expr(P, 1);
    if (!n->a || end_block(P)) return NULL;
    if (n->a->kind != N_CALL) { fail_at(P, at, "%s", "{% call %} needs a macro call"); return NULL; }
    static const char *const ends[] = { "endcall", NULL };
    nvec body = { 0 };
    const chat_tok *e;
    if (parse_body(P, &body, ends, &e) || end_block(P)) return NULL;
    n->items = body.v; n->n_items = body.n;
    return n;
}

static chat_node *parse_filter_block(parser *P, const chat_tok *at) {
    chat_node *n = mk(P, N_FILTER_BLOCK, at);
    nvec fl = { 0 }, body = { 0 };
    if (!n || parse_filter_chain(P, &fl, 0) || end_block(P)) return NULL;
    static const char *const ends[] = { "endfilter", NULL };
    const chat_tok *e;
    if (parse_body(P, &body, ends, &e) || end_block(P)) return NULL;
    n->items = body.v; n->n_items = body.n; n->items2 = fl.v; n->n_items2 = fl.n;
    return n;
}

static chat_node *parse_stmt(parser *P, const chat_tok *kw) {
    P->i++;
    if (is_name(kw, "if")) return parse_if(P, kw);
    if (is_name(kw, "for")) return parse_for(P, kw);
    if (is_name(kw, "set")) return parse_set(P, kw);
    if (is_name(kw, "macro")) return parse_macro(P, kw);
    if (is_name(kw, "call")) return parse_call_block(P, kw);
    if (is_name(kw, "filter")) return parse_filter_block(P, kw);
    if (is_name(kw, "break") || is_name(kw, "continue")) {
        chat_node *n = mk(P, is_name(kw, "break") ? N_BREAK : N_CONTINUE, kw);
        return (!n || end_block(P)) ? NULL : n;
    }
    if (is_name(kw, "generation")) {   /* transformers' AssistantTracker: renders its body */
        if (end_block(P)) return NULL;
        static const char *const ends[] = { "endgeneration", NULL };
        nvec body = { 0 };
        const chat_tok *e;
        if (parse_body(P, &body, ends, &e) || end_block(P)) return NULL;
        chat_node *n = mk(P, N_BODY, kw);
        if (n) { n->items = body.v; n->n_items = body.n; }
        return n;
    }
    char b[48];
    fail_at(P, kw, "unknown or unsupported tag %s", tok_desc(kw, b, sizeof b));
    return NULL;
}

/* Statements until one of `ends` (NULL-terminated; NULL = end of template). */
static int parse_body(parser *P, nvec *out, const char *const *ends, const chat_tok **end_at) {
    if (enter(P)) return -1;
    for (;;) {
        const chat_tok *t = cur(P);
        if (CHAT_FAILED(P->C)) return -1;
        if (t->k == TK_EOF) {
            if (ends) {
                const char *want = ends[0];
                for (size_t k = 0; ends[k]; k++) if (strncmp(ends[k], "end", 3) == 0) want = ends[k];
                fail_at(P, t, "unexpected end of template, expected {%% %s %%}", want);
                return -1;
            }
            P->depth--;
            return 0;
        }
        if (t->k == TK_TEXT) {
            chat_node *n = mk(P, N_TEXT, t);
            if (!n) return -1;
            n->s = t->s; n->n = t->n;
            P->i++;
            if (nvec_push(P, out, n)) return -1;
        } else if (t->k == TK_VAR_BEGIN) {
            P->i++;
            chat_node *n = mk(P, N_OUTPUT, t);
            if (!n) return -1;
            n->a = parse_tuple(P, 1, 0);
            if (!n->a || expect_kind(P, TK_VAR_END, "'}}'") || nvec_push(P, out, n)) return -1;
        } else if (t->k == TK_BLOCK_BEGIN) {
            const chat_tok *kw = peek(P, 1);
            if (kw->k != TK_NAME) { char b[48]; fail_at(P, kw, "expected a tag name, got %s", tok_desc(kw, b, sizeof b)); return -1; }
            for (size_t k = 0; ends && ends[k]; k++)
                if (is_name(kw, ends[k])) { P->i += 2; *end_at = kw; P->depth--; return 0; }
            if ((kw->n >= 3 && memcmp(kw->s, "end", 3) == 0) || is_name(kw, "elif") || is_name(kw, "else")) {
                char b[48];
                fail_at(P, kw, "unexpected tag %s", tok_desc(kw, b, sizeof b));
                return -1;
            }
            P->i++;
            if (nvec_push(P, out, parse_stmt(P, kw))) return -1;
        } else {
            char b[48];
            fail_at(P, t, "unexpected %s", tok_desc(t, b, sizeof b));
            return -1;
        }
    }
}

chat_node *chat_parse(chat_ctx *C, const chat_tok *toks, size_t n_toks) {
    parser P = { C, toks, n_toks, 0, 0 };
    nvec body = { 0 };
    const chat_tok *e = NULL;
    if (parse_body(&P, &body, NULL, &e)) return NULL;
    chat_node *root = mk(&P, N_BODY, &toks[0]);
    if (root) { root->items = body.v; root->n_items = body.n; }
    return root;
}
