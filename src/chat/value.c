/*
 * value.c — the render arena, error recording, byte buffers, and the value model with Python's
 * semantics where templates observe them: truthiness, == (1 == 1.0 == True), ordering, str()
 * and repr() (None, True, 'quoted', [1, 2], {'k': 'v'}, repr(float) = shortest round-trip).
 *
 * Everything allocates from the context's arena; nothing here is ever freed individually.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat/chat.h"
#include "tokenizer/unicode.h"

/* ---- arena ------------------------------------------------------------------------------ */
enum { BLOCK_MIN = 64 * 1024 };

void *chat_alloc(chat_ctx *C, size_t n) {
    chat_arena *a = &C->arena;
    if (CHAT_FAILED(C)) return NULL;
    n = (n + 15) & ~(size_t)15;
    if (!n) n = 16;
    chat_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > BLOCK_MIN ? n : BLOCK_MIN;
        if (a->total + cap > a->cap || cap + sizeof(chat_block) + 16 < cap) {
            chat_fail(C, CHORD_E_RANGE, 0, 0, "template used more than %zu bytes of memory (limit)",
                      a->cap);
            return NULL;
        }
        b = malloc(sizeof(chat_block) + 16 + cap);
        if (!b) { chat_fail(C, CHORD_E_NOMEM, 0, 0, "out of memory rendering the template"); return NULL; }
        b->used = 0; b->cap = cap; b->next = a->head; a->head = b;
        a->total += cap;
    }
    /* The header is padded to 16 bytes so every allocation is 16-aligned. */
    char *base = (char *)b + ((sizeof(chat_block) + 15) & ~(size_t)15);
    void *p = base + b->used;
    b->used += n;
    return p;
}

void chat_arena_free(chat_arena *a) {
    chat_block *b = a->head;
    while (b) { chat_block *nx = b->next; free(b); b = nx; }
    a->head = NULL; a->total = 0;
}

void chat_fail(chat_ctx *C, chord_status code, uint32_t line, uint32_t col, const char *fmt, ...) {
    if (CHAT_FAILED(C)) return;  /* keep the first error: it names the cause */
    C->status = code;
    size_t off = 0;
    if (line) {
        int k = snprintf(C->msg, sizeof C->msg, "template line %u column %u: ", line, col);
        off = k > 0 ? (size_t)k : 0;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(C->msg + off, sizeof C->msg - off, fmt, ap);
    va_end(ap);
}

int chat_name_eq(const char *s, size_t n, const char *lit) {
    size_t k = strlen(lit);
    return k == n && memcmp(s, lit, n) == 0;
}

/* ---- buffers ---------------------------------------------------------------------------- */
int chat_buf_put(chat_ctx *C, chat_buf *b, const char *s, size_t n) {
    if (CHAT_FAILED(C)) return -1;
    if (b == &C->out && b->n + n > C->lim.max_output_bytes) {
        chat_fail(C, CHORD_E_RANGE, 0, 0, "template output exceeds %zu bytes (limit)",
                  C->lim.max_output_bytes);
        return -1;
    }
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = chat_alloc(C, cap);
        if (!p) return -1;
        if (b->n) memcpy(p, b->p, b->n);
        b->p = p; b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
    return 0;
}

int chat_buf_putc(chat_ctx *C, chat_buf *b, char ch) { return chat_buf_put(C, b, &ch, 1); }

int chat_buf_printf(chat_ctx *C, chat_buf *b, const char *fmt, ...) {
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k < 0) k = 0;
    if ((size_t)k >= sizeof tmp) k = (int)sizeof tmp - 1;
    return chat_buf_put(C, b, tmp, (size_t)k);
}

/* ---- constructors ----------------------------------------------------------------------- */
cv cv_undef(const char *name) { cv v; memset(&v, 0, sizeof v); v.t = CV_UNDEF; v.undef_name = name; return v; }
cv cv_none(void) { cv v; memset(&v, 0, sizeof v); v.t = CV_NONE; return v; }
cv cv_bool(int b) { cv v; memset(&v, 0, sizeof v); v.t = CV_BOOL; v.u.b = !!b; return v; }
cv cv_int(int64_t i) { cv v; memset(&v, 0, sizeof v); v.t = CV_INT; v.u.i = i; return v; }
cv cv_float(double f) { cv v; memset(&v, 0, sizeof v); v.t = CV_FLOAT; v.u.f = f; return v; }
cv cv_str(const char *p, size_t n) { cv v; memset(&v, 0, sizeof v); v.t = CV_STR; v.u.s.p = p; v.u.s.n = n; return v; }
cv cv_cstr(const char *p) { return cv_str(p, strlen(p)); }

cv cv_str_copy(chat_ctx *C, const char *p, size_t n) {
    char *d = chat_alloc(C, n + 1);
    if (!d) return cv_str("", 0);
    if (n) memcpy(d, p, n);
    d[n] = 0;
    return cv_str(d, n);
}

cv cv_new_list(chat_ctx *C, size_t cap) {
    cv v = cv_none();
    cv_list *l = chat_alloc(C, sizeof *l);
    if (!l) return v;
    l->n = 0; l->is_tuple = 0; l->is_gen = 0; l->gen_pos = 0; l->cap = cap; l->v = cap ? chat_alloc(C, cap * sizeof(cv)) : NULL;
    v.t = CV_LIST; v.u.l = l;
    return v;
}

cv cv_new_dict(chat_ctx *C, size_t cap, cv_type t) {
    cv v = cv_none();
    cv_dict *d = chat_alloc(C, sizeof *d);
    if (!d) return v;
    d->n = 0; d->cap = cap;
    d->k = cap ? chat_alloc(C, cap * sizeof(cv)) : NULL;
    d->v = cap ? chat_alloc(C, cap * sizeof(cv)) : NULL;
    v.t = t; v.u.d = d;
    return v;
}

int cv_list_push(chat_ctx *C, cv_list *l, cv v) {
    if (CHAT_FAILED(C)) return -1;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        cv *nv = chat_alloc(C, cap * sizeof(cv));
        if (!nv) return -1;
        if (l->n) memcpy(nv, l->v, l->n * sizeof(cv));
        l->v = nv; l->cap = cap;
    }
    l->v[l->n++] = v;
    return 0;
}

const cv *cv_dict_find(const cv_dict *d, const cv *key) {
    for (size_t i = 0; i < d->n; i++)
        if (cv_equal(&d->k[i], key)) return &d->v[i];
    return NULL;
}

const cv *cv_dict_get(const cv_dict *d, const char *key, size_t n) {
    for (size_t i = 0; i < d->n; i++)
        if (d->k[i].t == CV_STR && d->k[i].u.s.n == n && memcmp(d->k[i].u.s.p, key, n) == 0)
            return &d->v[i];
    return NULL;
}

/* Insert or replace, keeping first-insertion order like a Python dict. */
int cv_dict_set(chat_ctx *C, cv_dict *d, cv k, cv v) {
    if (CHAT_FAILED(C)) return -1;
    for (size_t i = 0; i < d->n; i++)
        if (cv_equal(&d->k[i], &k)) { d->v[i] = v; return 0; }
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 4;
        cv *nk = chat_alloc(C, cap * sizeof(cv)), *nv = chat_alloc(C, cap * sizeof(cv));
        if (!nk || !nv) return -1;
        if (d->n) { memcpy(nk, d->k, d->n * sizeof(cv)); memcpy(nv, d->v, d->n * sizeof(cv)); }
        d->k = nk; d->v = nv; d->cap = cap;
    }
    d->k[d->n] = k; d->v[d->n] = v; d->n++;
    return 0;
}

/* ---- Python semantics ------------------------------------------------------------------- */
int cv_is_str(const cv *v) { return v->t == CV_STR; }

static int is_num(const cv *v) { return v->t == CV_INT || v->t == CV_FLOAT || v->t == CV_BOOL; }
static double num_f(const cv *v) {
    return v->t == CV_FLOAT ? v->u.f : v->t == CV_INT ? (double)v->u.i : (double)v->u.b;
}
static int64_t num_i(const cv *v) { return v->t == CV_INT ? v->u.i : (int64_t)v->u.b; }

int cv_truthy(const cv *v) {
    switch (v->t) {
    case CV_UNDEF: case CV_NONE: return 0;
    case CV_BOOL: return v->u.b;
    case CV_INT: return v->u.i != 0;
    case CV_FLOAT: return v->u.f != 0.0;
    case CV_STR: return v->u.s.n != 0;
    case CV_LIST: return v->u.l->is_gen || v->u.l->n != 0;
    case CV_DICT: return v->u.d->n != 0;
    default: return 1;
    }
}

int cv_equal(const cv *a, const cv *b) {
    if (is_num(a) && is_num(b)) {
        if (a->t == CV_FLOAT || b->t == CV_FLOAT) return num_f(a) == num_f(b);
        return num_i(a) == num_i(b);
    }
    if (a->t != b->t) return 0;
    switch (a->t) {
    case CV_UNDEF: case CV_NONE: return 1;
    case CV_STR: return a->u.s.n == b->u.s.n && memcmp(a->u.s.p, b->u.s.p, a->u.s.n) == 0;
    case CV_LIST:
        if (a->u.l->is_gen || b->u.l->is_gen) return a->u.l == b->u.l;
        if (a->u.l->n != b->u.l->n) return 0;
        for (size_t i = 0; i < a->u.l->n; i++)
            if (!cv_equal(&a->u.l->v[i], &b->u.l->v[i])) return 0;
        return 1;
    case CV_DICT:
        if (a->u.d->n != b->u.d->n) return 0;
        for (size_t i = 0; i < a->u.d->n; i++) {
            const cv *o = cv_dict_find(b->u.d, &a->u.d->k[i]);
            if (!o || !cv_equal(&a->u.d->v[i], o)) return 0;
        }
        return 1;
    case CV_MACRO: return a->u.m == b->u.m;
    case CV_FUNC: return a->u.fn == b->u.fn;
    default: return a->u.d == b->u.d;
    }
}

int cv_compare(const cv *a, const cv *b) {
    if (is_num(a) && is_num(b)) {
        if (a->t == CV_FLOAT || b->t == CV_FLOAT) {
            double x = num_f(a), y = num_f(b);
            return x < y ? -1 : x > y ? 1 : 0;
        }
        int64_t x = num_i(a), y = num_i(b);
        return x < y ? -1 : x > y ? 1 : 0;
    }
    if (a->t == CV_STR && b->t == CV_STR) {
        /* UTF-8 byte order is code point order, as Python compares str. */
        size_t n = a->u.s.n < b->u.s.n ? a->u.s.n : b->u.s.n;
        int c = n ? memcmp(a->u.s.p, b->u.s.p, n) : 0;
        if (c) return c < 0 ? -1 : 1;
        return a->u.s.n < b->u.s.n ? -1 : a->u.s.n > b->u.s.n ? 1 : 0;
    }
    if (a->t == CV_LIST && b->t == CV_LIST) {
        size_t n = a->u.l->n < b->u.l->n ? a->u.l->n : b->u.l->n;
        for (size_t i = 0; i < n; i++) {
            if (cv_equal(&a->u.l->v[i], &b->u.l->v[i])) continue;
            return cv_compare(&a->u.l->v[i], &b->u.l->v[i]);
        }
        return a->u.l->n < b->u.l->n ? -1 : a->u.l->n > b->u.l->n ? 1 : 0;
    }
    return 2;
}

const char *cv_type_name(const cv *v) {
    if (v->t == CV_LIST && v->u.l->is_gen) return "generator";
    static const char *names[] = { "Undefined", "NoneType", "bool", "int", "float", "str", "list",
                                   "dict", "Namespace", "Macro", "builtin_function", "LoopContext",
                                   "Cycler" };
    return names[v->t];
}

/* repr(float): the shortest digits that round-trip, in Python's layout (1.0, 1e-05, 1e+16). */
void chat_fmt_float(double f, char *buf, size_t cap) {
    if (f != f) { snprintf(buf, cap, "nan"); return; }
    if (f == 1.0 / 0.0) { snprintf(buf, cap, "inf"); return; }
    if (f == -1.0 / 0.0) { snprintf(buf, cap, "-inf"); return; }
    char tmp[40];
    int prec = 1;
    for (; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, f);
        if (strtod(tmp, NULL) == f) break;
    }
    /* tmp = [-]d.ddde[+-]XX: split digits and exponent */
    char digits[24]; size_t nd = 0; int neg = 0;
    const char *p = tmp;
    if (*p == '-') { neg = 1; p++; }
    for (; *p && *p != 'e'; p++) if (*p != '.') digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    int exp10 = atoi(p + 1);
    size_t o = 0;
    char out[64];
    if (neg) out[o++] = '-';
    if (exp10 >= -5 + 1 && exp10 < 16) {   /* Python: fixed when -4 <= exp < 16 */
        if (exp10 < 0) {
            out[o++] = '0'; out[o++] = '.';
            for (int z = 0; z < -exp10 - 1; z++) out[o++] = '0';
            for (size_t i = 0; i < nd; i++) out[o++] = digits[i];
        } else {
            for (int i = 0; i <= exp10; i++) out[o++] = (size_t)i < nd ? digits[i] : '0';
            out[o++] = '.';
            if ((size_t)exp10 + 1 < nd) for (size_t i = (size_t)exp10 + 1; i < nd; i++) out[o++] = digits[i];
            else out[o++] = '0';
        }
        out[o] = 0;
    } else {
        out[o++] = digits[0];
        if (nd > 1) { out[o++] = '.'; for (size_t i = 1; i < nd; i++) out[o++] = digits[i]; }
        out[o] = 0;
        snprintf(out + o, sizeof out - o, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    }
    snprintf(buf, cap, "%s", out);
}

/* Python's str.isprintable() for one code point, from the UCD classes. */
static int cp_printable(uint32_t cp) {
    if (cp == ' ') return 1;
    uint32_t f = chord_ucd_flags(cp);
    return !(f & (CHORD_UCD_UNDEF | CHORD_UCD_CONTROL | CHORD_UCD_SEPARATOR));
}

static int repr_str(chat_ctx *C, chat_buf *b, const char *s, size_t n) {
    int has_sq = memchr(s, '\'', n) != NULL, has_dq = memchr(s, '"', n) != NULL;
    char q = has_sq && !has_dq ? '"' : '\'';
    if (chat_buf_putc(C, b, q)) return -1;
    size_t i = 0;
    while (i < n) {
        uint8_t c = (uint8_t)s[i];
        if (c == '\\' || c == (uint8_t)q) { chat_buf_putc(C, b, '\\'); chat_buf_putc(C, b, (char)c); i++; continue; }
        if (c == '\n') { chat_buf_put(C, b, "\\n", 2); i++; continue; }
        if (c == '\r') { chat_buf_put(C, b, "\\r", 2); i++; continue; }
        if (c == '\t') { chat_buf_put(C, b, "\\t", 2); i++; continue; }
        uint32_t cp; size_t k = chord_utf8_decode((const uint8_t *)s + i, n - i, &cp);
        if (!k) k = 1;
        if (cp_printable(cp)) chat_buf_put(C, b, s + i, k);
        else if (cp < 0x100) chat_buf_printf(C, b, "\\x%02x", cp);
        else if (cp < 0x10000) chat_buf_printf(C, b, "\\u%04x", cp);
        else chat_buf_printf(C, b, "\\U%08x", cp);
        i += k;
    }
    return chat_buf_putc(C, b, q);
}

int cv_to_str(chat_ctx *C, chat_buf *b, const cv *v, int repr) {
    char tmp[64];
    switch (v->t) {
    case CV_UNDEF: return repr ? chat_buf_put(C, b, "Undefined", 9) : 0;
    case CV_NONE: return chat_buf_put(C, b, "None", 4);
    case CV_BOOL: return v->u.b ? chat_buf_put(C, b, "True", 4) : chat_buf_put(C, b, "False", 5);
    case CV_INT: snprintf(tmp, sizeof tmp, "%lld", (long long)v->u.i); return chat_buf_put(C, b, tmp, strlen(tmp));
    case CV_FLOAT: chat_fmt_float(v->u.f, tmp, sizeof tmp); return chat_buf_put(C, b, tmp, strlen(tmp));
    case CV_STR: return repr ? repr_str(C, b, v->u.s.p, v->u.s.n) : chat_buf_put(C, b, v->u.s.p, v->u.s.n);
    case CV_LIST:
        if (v->u.l->is_gen) {   /* jinja2 prints <generator object ... at 0x...>: no stable text */
            chat_fail(C, CHORD_E_UNSUPPORTED, 0, 0, "unsupported: printing a generator (add |list)");
            return -1;
        }
        chat_buf_putc(C, b, v->u.l->is_tuple ? '(' : '[');
        for (size_t i = 0; i < v->u.l->n; i++) {
            if (i) chat_buf_put(C, b, ", ", 2);
            cv_to_str(C, b, &v->u.l->v[i], 1);
        }
        if (v->u.l->is_tuple && v->u.l->n == 1) chat_buf_putc(C, b, ',');
        return chat_buf_putc(C, b, v->u.l->is_tuple ? ')' : ']');
    case CV_DICT:
        chat_buf_putc(C, b, '{');
        for (size_t i = 0; i < v->u.d->n; i++) {
            if (i) chat_buf_put(C, b, ", ", 2);
            cv_to_str(C, b, &v->u.d->k[i], 1);
            chat_buf_put(C, b, ": ", 2);
            cv_to_str(C, b, &v->u.d->v[i], 1);
        }
        return chat_buf_putc(C, b, '}');
    case CV_NS: return chat_buf_put(C, b, "<Namespace>", 11);
    case CV_MACRO: return chat_buf_put(C, b, "<Macro>", 7);
    case CV_LOOP: return chat_buf_put(C, b, "<LoopContext>", 13);
    default: return chat_buf_put(C, b, "<builtin>", 9);
    }
}

cv cv_stringify(chat_ctx *C, const cv *v) {
    if (v->t == CV_STR) return *v;
    chat_buf b = { 0 };
    cv_to_str(C, &b, v, 0);
    return b.p ? cv_str(b.p, b.n) : cv_str("", 0);
}

/* ---- UTF-8 ------------------------------------------------------------------------------ */
int chat_utf8_valid(const char *p, size_t n, size_t *bad) {
    size_t i = 0;
    while (i < n) {
        if ((uint8_t)p[i] < 0x80) { i++; continue; }
        size_t len = 0;
        if (chord_utf8_check((const uint8_t *)p + i, n - i, &len) != 1) { *bad = i; return 0; }
        i += len;
    }
    return 1;
}

size_t chat_utf8_len(const char *p, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) if (((uint8_t)p[i] & 0xC0) != 0x80) k++;
    return k;
}

size_t chat_utf8_offset(const char *p, size_t n, size_t cp_index) {
    size_t k = 0, i = 0;
    for (; i < n; i++) {
        if (((uint8_t)p[i] & 0xC0) != 0x80) { if (k == cp_index) return i; k++; }
    }
    return n;
}

int cv_iter_list(chat_ctx *C, const cv *v, cv_list **out, uint32_t line, uint32_t col) {
    if (v->t == CV_LIST && v->u.l->is_gen) {   /* a generator yields what is left, once */
        cv_list *g = v->u.l;
        cv rest = cv_new_list(C, 0);
        if (CHAT_FAILED(C)) return -1;
        /* an empty generator has no storage: NULL + 0 is undefined (fuzz_template under UBSan) */
        rest.u.l->v = g->v ? g->v + g->gen_pos : NULL; rest.u.l->n = rest.u.l->cap = g->n - g->gen_pos;
        g->gen_pos = g->n;
        *out = rest.u.l;
        return 0;
    }
    if (v->t == CV_LIST) { *out = v->u.l; return 0; }
    cv l = cv_new_list(C, 0);
    if (CHAT_FAILED(C)) return -1;
    if (v->t == CV_DICT || v->t == CV_NS) {
        for (size_t i = 0; i < v->u.d->n; i++) cv_list_push(C, l.u.l, v->u.d->k[i]);
    } else if (v->t == CV_STR) {
        const char *p = v->u.s.p; size_t n = v->u.s.n, i = 0;
        while (i < n) {
            size_t k = 1;
            while (i + k < n && ((uint8_t)p[i + k] & 0xC0) == 0x80) k++;
            cv_list_push(C, l.u.l, cv_str(p + i, k));
            i += k;
        }
    } else if (v->t != CV_UNDEF) {
        chat_fail(C, CHORD_E_FORMAT, line, col, "'%s' object is not iterable", cv_type_name(v));
        return -1;
    }
    *out = l.u.l;
    return CHAT_FAILED(C) ? -1 : 0;
}
