/*
 * json.c — the conversation input and the `tojson` filter: a strict JSON reader into values
 * (integers stay integers, as Python's json.loads keeps them) and a writer that prints exactly
 * what Python's json.dumps prints with the arguments transformers' tojson passes
 * (ensure_ascii=False, separators ", " / ": " or "," / ": " with indent, insertion order unless
 * sort_keys, floats as repr()).
 *
 * The reader is bounded: nesting deeper than JSON_MAX_DEPTH is an error, not a stack overflow.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat/chat.h"
#include "tokenizer/unicode.h"

enum { JSON_MAX_DEPTH = 128 };

typedef struct { chat_ctx *C; const char *s; size_t n, i; } jrd;

static int jfail(jrd *r, const char *what) {
    chat_fail(r->C, CHORD_E_INVALID_ARG, 0, 0, "conversation JSON: %s at byte %zu", what, r->i);
    return -1;
}

static void jws(jrd *r) {
    while (r->i < r->n && (r->s[r->i] == ' ' || r->s[r->i] == '\t' || r->s[r->i] == '\n' || r->s[r->i] == '\r')) r->i++;
}

static int hex4(jrd *r, uint32_t *out) {
    if (r->i + 4 > r->n) return jfail(r, "truncated \\u escape");
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
        char c = r->s[r->i++];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
        else if ((c | 32) >= 'a' && (c | 32) <= 'f') v |= (uint32_t)((c | 32) - 'a' + 10);
        else return jfail(r, "bad \\u escape");
    }
    *out = v;
    return 0;
}

static int jstring(jrd *r, cv *out) {
    chat_buf b = { 0 };
    r->i++; /* opening quote */
    for (;;) {
        if (r->i >= r->n) return jfail(r, "unterminated string");
        uint8_t c = (uint8_t)r->s[r->i];
        if (c == '"') { r->i++; break; }
        if (c < 0x20) return jfail(r, "control character in string");
        if (c != '\\') {
            size_t j = r->i;
            while (j < r->n && r->s[j] != '"' && r->s[j] != '\\' && (uint8_t)r->s[j] >= 0x20) j++;
            size_t bad = 0;
            if (!chat_utf8_valid(r->s + r->i, j - r->i, &bad)) { r->i += bad; return jfail(r, "invalid UTF-8"); }
            if (chat_buf_put(r->C, &b, r->s + r->i, j - r->i)) return -1;
            r->i = j;
            continue;
        }
        r->i++;
        if (r->i >= r->n) return jfail(r, "unterminated escape");
        char e = r->s[r->i++];
        char ch = 0;
        switch (e) {
        case '"': ch = '"'; break; case '\\': ch = '\\'; break; case '/': ch = '/'; break;
        case 'b': ch = '\b'; break; case 'f': ch = '\f'; break; case 'n': ch = '\n'; break;
        case 'r': ch = '\r'; break; case 't': ch = '\t'; break;
        case 'u': {
            uint32_t cp;
            if (hex4(r, &cp)) return -1;
            if (cp >= 0xD800 && cp < 0xDC00) {
                uint32_t lo;
                if (r->i + 2 > r->n || r->s[r->i] != '\\' || r->s[r->i + 1] != 'u') return jfail(r, "lone surrogate in \\u escape");
                r->i += 2;
                if (hex4(r, &lo)) return -1;
                if (lo < 0xDC00 || lo >= 0xE000) return jfail(r, "lone surrogate in \\u escape");
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp < 0xE000) return jfail(r, "lone surrogate in \\u escape");
            uint8_t u[4]; size_t k = chord_utf8_encode(cp, u);
            if (chat_buf_put(r->C, &b, (const char *)u, k)) return -1;
            continue;
        }
        default: r->i--; return jfail(r, "bad escape");
        }
        if (chat_buf_putc(r->C, &b, ch)) return -1;
    }
    *out = b.p ? cv_str(b.p, b.n) : cv_str("", 0);
    return 0;
}

static int jnumber(jrd *r, cv *out) {
    size_t st = r->i;
    int is_float = 0;
    if (r->s[r->i] == '-') r->i++;
    if (r->i >= r->n || r->s[r->i] < '0' || r->s[r->i] > '9') return jfail(r, "bad number");
    if (r->s[r->i] == '0') r->i++;
    else while (r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9') r->i++;
    if (r->i < r->n && r->s[r->i] == '.') {
        is_float = 1; r->i++;
        if (r->i >= r->n || r->s[r->i] < '0' || r->s[r->i] > '9') return jfail(r, "bad number");
        while (r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9') r->i++;
    }
    if (r->i < r->n && (r->s[r->i] == 'e' || r->s[r->i] == 'E')) {
        is_float = 1; r->i++;
        if (r->i < r->n && (r->s[r->i] == '+' || r->s[r->i] == '-')) r->i++;
        if (r->i >= r->n || r->s[r->i] < '0' || r->s[r->i] > '9') return jfail(r, "bad number");
        while (r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9') r->i++;
    }
    char tmp[64];
    size_t len = r->i - st;
    if (len >= sizeof tmp) return jfail(r, "number too long");
    memcpy(tmp, r->s + st, len); tmp[len] = 0;
    if (is_float) { *out = cv_float(strtod(tmp, NULL)); return 0; }
    /* Python ints are unbounded; ours are 64-bit: refuse rather than wrap. */
    int neg = tmp[0] == '-';
    uint64_t v = 0;
    for (const char *p = tmp + neg; *p; p++) {
        if (v > (UINT64_MAX - 9) / 10) return jfail(r, "integer out of 64-bit range");
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (v > (uint64_t)INT64_MAX + (uint64_t)neg) return jfail(r, "integer out of 64-bit range");
    *out = cv_int(neg ? (int64_t)(0 - v) : (int64_t)v);
    return 0;
}

static int jvalue(jrd *r, cv *out, int depth) {
    if (depth > JSON_MAX_DEPTH) return jfail(r, "nesting too deep");
    jws(r);
    if (r->i >= r->n) return jfail(r, "unexpected end");
    char c = r->s[r->i];
    if (c == '"') return jstring(r, out);
    if (c == '-' || (c >= '0' && c <= '9')) return jnumber(r, out);
    if (c == '[') {
        r->i++;
        *out = cv_new_list(r->C, 0);
        if (CHAT_FAILED(r->C)) return -1;
        jws(r);
        if (r->i < r->n && r->s[r->i] == ']') { r->i++; return 0; }
        for (;;) {
            cv e;
            if (jvalue(r, &e, depth + 1) || cv_list_push(r->C, out->u.l, e)) return -1;
            jws(r);
            if (r->i < r->n && r->s[r->i] == ',') { r->i++; continue; }
            if (r->i < r->n && r->s[r->i] == ']') { r->i++; return 0; }
            return jfail(r, "expected ',' or ']'");
        }
    }
    if (c == '{') {
        r->i++;
        *out = cv_new_dict(r->C, 0, CV_DICT);
        if (CHAT_FAILED(r->C)) return -1;
        jws(r);
        if (r->i < r->n && r->s[r->i] == '}') { r->i++; return 0; }
        for (;;) {
            cv k, v;
            jws(r);
            if (r->i >= r->n || r->s[r->i] != '"') return jfail(r, "expected a string key");
            if (jstring(r, &k)) return -1;
            jws(r);
            if (r->i >= r->n || r->s[r->i] != ':') return jfail(r, "expected ':'");
            r->i++;
            if (jvalue(r, &v, depth + 1) || cv_dict_set(r->C, out->u.d, k, v)) return -1;
            jws(r);
            if (r->i < r->n && r->s[r->i] == ',') { r->i++; continue; }
            if (r->i < r->n && r->s[r->i] == '}') { r->i++; return 0; }
            return jfail(r, "expected ',' or '}'");
        }
    }
    static const struct { const char *w; int t; } lits[] = { { "true", 1 }, { "false", 0 }, { "null", 2 } };
    for (size_t k = 0; k < 3; k++) {
        size_t L = strlen(lits[k].w);
        if (r->n - r->i >= L && memcmp(r->s + r->i, lits[k].w, L) == 0) {
            r->i += L;
            *out = lits[k].t == 2 ? cv_none() : cv_bool(lits[k].t);
            return 0;
        }
    }
    return jfail(r, "unexpected character");
}

int chat_json_parse(chat_ctx *C, const char *s, size_t n, cv *out) {
    jrd r = { C, s, n, 0 };
    if (jvalue(&r, out, 0)) return -1;
    jws(&r);
    if (r.i != n) return jfail(&r, "trailing characters");
    return 0;
}

/* ---- writer ----------------------------------------------------------------------------- */
static int jput_str(chat_ctx *C, chat_buf *b, const char *s, size_t n, int ascii) {
    chat_buf_putc(C, b, '"');
    size_t i = 0;
    while (i < n) {
        uint8_t c = (uint8_t)s[i];
        const char *esc = NULL;
        switch (c) {
        case '"': esc = "\\\""; break; case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break; case '\r': esc = "\\r"; break; case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break; case '\f': esc = "\\f"; break;
        default: break;
        }
        if (esc) { chat_buf_put(C, b, esc, 2); i++; continue; }
        if (c < 0x20 || (ascii && c == 0x7f)) { chat_buf_printf(C, b, "\\u%04x", c); i++; continue; }
        if (c < 0x80 || !ascii) {
            size_t j = i + 1;
            while (j < n && (uint8_t)s[j] >= 0x20 && s[j] != '"' && s[j] != '\\' && (!ascii || (uint8_t)s[j] < 0x7f)) j++;
            chat_buf_put(C, b, s + i, j - i);
            i = j;
            continue;
        }
        uint32_t cp; size_t k = chord_utf8_decode((const uint8_t *)s + i, n - i, &cp);
        if (!k) k = 1;
        if (cp >= 0x10000) {
            uint32_t v = cp - 0x10000;
            chat_buf_printf(C, b, "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
        } else chat_buf_printf(C, b, "\\u%04x", cp);
        i += k;
    }
    return chat_buf_putc(C, b, '"');
}

static int jnewline(chat_ctx *C, chat_buf *b, const chat_json_opts *o, int level) {
    chat_buf_putc(C, b, '\n');
    for (int i = 0; i < o->indent * level; i++) chat_buf_putc(C, b, ' ');
    return CHAT_FAILED(C) ? -1 : 0;
}

static int key_cmp_ctx(const cv *a, const cv *b) { return cv_compare(a, b); }

int chat_json_dump(chat_ctx *C, chat_buf *b, const cv *v, const chat_json_opts *o, int level) {
    char tmp[64];
    if (level > JSON_MAX_DEPTH) { chat_fail(C, CHORD_E_RANGE, 0, 0, "tojson: nesting too deep"); return -1; }
    int pretty = o->indent >= 0;
    switch (v->t) {
    case CV_NONE: return chat_buf_put(C, b, "null", 4);
    case CV_BOOL: return v->u.b ? chat_buf_put(C, b, "true", 4) : chat_buf_put(C, b, "false", 5);
    case CV_INT: snprintf(tmp, sizeof tmp, "%lld", (long long)v->u.i); return chat_buf_put(C, b, tmp, strlen(tmp));
    case CV_FLOAT:
        if (v->u.f != v->u.f) return chat_buf_put(C, b, "NaN", 3);
        if (v->u.f == 1.0 / 0.0) return chat_buf_put(C, b, "Infinity", 8);
        if (v->u.f == -1.0 / 0.0) return chat_buf_put(C, b, "-Infinity", 9);
        chat_fmt_float(v->u.f, tmp, sizeof tmp);
        return chat_buf_put(C, b, tmp, strlen(tmp));
    case CV_STR: return jput_str(C, b, v->u.s.p, v->u.s.n, o->ensure_ascii);
    case CV_LIST: {
        const cv_list *l = v->u.l;
        if (l->is_gen) { chat_fail(C, CHORD_E_FORMAT, 0, 0, "tojson: Object of type generator is not JSON serializable"); return -1; }
        if (!l->n) return chat_buf_put(C, b, "[]", 2);
        chat_buf_putc(C, b, '[');
        for (size_t i = 0; i < l->n; i++) {
            if (i) chat_buf_put(C, b, o->item_sep, strlen(o->item_sep));
            if (pretty) jnewline(C, b, o, level + 1);
            if (chat_json_dump(C, b, &l->v[i], o, level + 1)) return -1;
        }
        if (pretty) jnewline(C, b, o, level);
        return chat_buf_putc(C, b, ']');
    }
    case CV_DICT: {
        const cv_dict *d = v->u.d;
        if (!d->n) return chat_buf_put(C, b, "{}", 2);
        size_t *ord = chat_alloc(C, d->n * sizeof(size_t));
        if (!ord) return -1;
        for (size_t i = 0; i < d->n; i++) ord[i] = i;
        if (o->sort_keys) /* insertion sort: stable, and dicts in templates are small */
            for (size_t i = 1; i < d->n; i++)
                for (size_t j = i; j > 0 && key_cmp_ctx(&d->k[ord[j - 1]], &d->k[ord[j]]) == 1; j--) {
                    size_t t = ord[j]; ord[j] = ord[j - 1]; ord[j - 1] = t;
                }
        chat_buf_putc(C, b, '{');
        for (size_t ii = 0; ii < d->n; ii++) {
            size_t i = ord[ii];
            if (ii) chat_buf_put(C, b, o->item_sep, strlen(o->item_sep));
            if (pretty) jnewline(C, b, o, level + 1);
            const cv *k = &d->k[i];
            if (k->t == CV_STR) jput_str(C, b, k->u.s.p, k->u.s.n, o->ensure_ascii);
            else if (k->t == CV_INT || k->t == CV_FLOAT || k->t == CV_BOOL || k->t == CV_NONE) {
                chat_buf_putc(C, b, '"');
                if (chat_json_dump(C, b, k, o, level + 1)) return -1;
                chat_buf_putc(C, b, '"');
            } else {
                chat_fail(C, CHORD_E_FORMAT, 0, 0, "tojson: keys must be str, int, float, bool or None, not %s", cv_type_name(k));
                return -1;
            }
            chat_buf_put(C, b, o->key_sep, strlen(o->key_sep));
            if (chat_json_dump(C, b, &d->v[i], o, level + 1)) return -1;
        }
        if (pretty) jnewline(C, b, o, level);
        return chat_buf_putc(C, b, '}');
    }
    default:
        chat_fail(C, CHORD_E_FORMAT, 0, 0, "tojson: Object of type %s is not JSON serializable", cv_type_name(v));
        return -1;
    }
}
