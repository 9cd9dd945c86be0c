/*
 * lexer.c — template source to tokens, with whitespace control applied to the text tokens
 * exactly as jinja2's lexer applies it under Hugging Face's settings:
 *   - newlines are normalised first (\r\n, \r and the other str.splitlines() breaks become \n)
 *     and one trailing newline of the source is dropped (keep_trailing_newline=False);
 *   - `{%-`, `{{-`, `{#-` strip all whitespace before the tag; `-%}`, `-}}`, `-#}` after it;
 *   - trim_blocks: a block or comment end `%}` / `#}` swallows one following \n;
 *   - lstrip_blocks: spaces and tabs between the start of a line and `{%` / `{#` are dropped
 *     (`{%+` keeps them); "start of a line" includes the start of the template and text that
 *     follows a tag whose end swallowed a newline;
 *   - inside `{{ }}` / `{% %}` an end marker only counts outside brackets, as in jinja2.
 * String literals are decoded like Python's unicode-escape (\n, \t, \xNN, \uNNNN, ...).
 */
#include <stdlib.h>
#include <string.h>

#include "chat/chat.h"
#include "tokenizer/unicode.h"

typedef struct {
    chat_ctx *C;
    const char *s; size_t n, i;
    uint32_t line, col;       /* of position i */
    chat_tok *t; size_t nt, cap;
    int line_starting;        /* the previous match ended with \n */
} lexer;

static void adv(lexer *L, size_t to) {
    for (; L->i < to; L->i++) {
        if (L->s[L->i] == '\n') { L->line++; L->col = 1; }
        else if (((uint8_t)L->s[L->i] & 0xC0) != 0x80) L->col++;
    }
}

static chat_tok *push(lexer *L, chat_tok_kind k, uint32_t line, uint32_t col) {
    if (CHAT_FAILED(L->C)) return NULL;
    if (L->nt == L->cap) {
        size_t cap = L->cap ? L->cap * 2 : 256;
        chat_tok *nt = chat_alloc(L->C, cap * sizeof *nt);
        if (!nt) return NULL;
        if (L->nt) memcpy(nt, L->t, L->nt * sizeof *nt);
        L->t = nt; L->cap = cap;
    }
    chat_tok *t = &L->t[L->nt++];
    memset(t, 0, sizeof *t);
    t->k = k; t->line = line; t->col = col;
    return t;
}

/* Python's str.isspace() for the code point at s[i]; returns its byte length or 0. */
static size_t space_at(const char *s, size_t n, size_t i) {
    uint8_t c = (uint8_t)s[i];
    if (c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f)) return 1;
    if (c < 0x80) return 0;
    uint32_t cp; size_t k = chord_utf8_decode((const uint8_t *)s + i, n - i, &cp);
    if (k && cp >= 0x80 && (chord_ucd_flags(cp) & CHORD_UCD_WHITESPACE)) return k;
    return 0;
}

static size_t rstrip_len(const char *s, size_t n) {
    /* walk back over whole code points */
    while (n > 0) {
        size_t st = n - 1;
        while (st > 0 && ((uint8_t)s[st] & 0xC0) == 0x80) st--;
        if (space_at(s, n, st) != n - st) break;
        n = st;
    }
    return n;
}

static void skip_space(lexer *L) {
    size_t j = L->i, k;
    while (j < L->n && (k = space_at(L->s, L->n, j))) j += k;
    adv(L, j);
}

/* The text before a tag at `tag` (which starts with `{` and the kind char). */
static void emit_text(lexer *L, size_t st, size_t tag, uint32_t line, uint32_t col) {
    size_t end = tag;
    char kind = L->s[tag + 1];
    char mod = tag + 2 < L->n ? L->s[tag + 2] : 0;
    if (mod == '-') end = st + rstrip_len(L->s + st, tag - st);
    else if (mod != '+' && (kind == '%' || kind == '#')) {
        size_t lp = end;
        while (lp > st && L->s[lp - 1] != '\n') lp--;
        int at_line_start = lp > st || L->line_starting;
        size_t j = lp;
        while (j < end && (L->s[j] == ' ' || L->s[j] == '\t')) j++;
        if (at_line_start && j == end) end = lp;
    }
    if (end > st) {
        chat_tok *t = push(L, TK_TEXT, line, col);
        if (t) { t->s = L->s + st; t->n = end - st; }
    }
}

static int is_name0(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if ((c | 32) >= 'a' && (c | 32) <= 'f') return (c | 32) - 'a' + 10;
    return -1;
}

/* Decodes the body of a string literal like Python's unicode-escape codec. */
static int lex_string(lexer *L, chat_tok *t) {
    char q = L->s[L->i];
    size_t j = L->i + 1;
    while (j < L->n && L->s[j] != q) j += L->s[j] == '\\' ? 2 : 1;
    if (j >= L->n) { chat_fail(L->C, CHORD_E_FORMAT, t->line, t->col, "unterminated string literal"); return -1; }
    chat_buf b = { 0 };
    chat_buf_put(L->C, &b, "", 0);
    for (size_t k = L->i + 1; k < j; k++) {
        char c = L->s[k];
        if (c != '\\') { chat_buf_putc(L->C, &b, c); continue; }
        char e = L->s[++k];
        uint32_t cp = 0; int nd = 0;
        switch (e) {
        case 'n': chat_buf_putc(L->C, &b, '\n'); continue;
        case 't': chat_buf_putc(L->C, &b, '\t'); continue;
        case 'r': chat_buf_putc(L->C, &b, '\r'); continue;
        case 'a': chat_buf_putc(L->C, &b, '\a'); continue;
        case 'b': chat_buf_putc(L->C, &b, '\b'); continue;
        case 'f': chat_buf_putc(L->C, &b, '\f'); continue;
        case 'v': chat_buf_putc(L->C, &b, '\v'); continue;
        case '\\': case '\'': case '"': chat_buf_putc(L->C, &b, e); continue;
        case '\n': continue;
        case 'x': nd = 2; break;
        case 'u': nd = 4; break;
        case 'U': nd = 8; break;
        default:
            if (e >= '0' && e <= '7') {
                int m = 0;
                while (m < 3 && k < j && L->s[k] >= '0' && L->s[k] <= '7') { cp = cp * 8 + (uint32_t)(L->s[k] - '0'); k++; m++; }
                k--;
                uint8_t u[4]; size_t ul = chord_utf8_encode(cp, u);
                chat_buf_put(L->C, &b, (const char *)u, ul);
                continue;
            }
            chat_buf_putc(L->C, &b, '\\'); chat_buf_putc(L->C, &b, e); continue;
        }
        for (int m = 0; m < nd; m++) {
            int h = k + 1 < j ? hexval(L->s[k + 1]) : -1;
            if (h < 0) { chat_fail(L->C, CHORD_E_FORMAT, t->line, t->col, "truncated \\%c escape in string literal", e); return -1; }
            cp = cp * 16 + (uint32_t)h; k++;
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000)) {
            chat_fail(L->C, CHORD_E_FORMAT, t->line, t->col, "\\%c escape is not a valid code point", e); return -1;
        }
        uint8_t u[4]; size_t ul = chord_utf8_encode(cp, u);
        chat_buf_put(L->C, &b, (const char *)u, ul);
    }
    t->k = TK_STRING; t->s = b.p; t->n = b.n;
    adv(L, j + 1);
    return CHAT_FAILED(L->C) ? -1 : 0;
}

static int lex_number(lexer *L, chat_tok *t) {
    size_t j = L->i;
    int is_float = 0;
    while (j < L->n && (is_digit(L->s[j]) || (L->s[j] == '_' && j + 1 < L->n && is_digit(L->s[j + 1])))) j++;
    if (j + 1 < L->n && L->s[j] == '.' && is_digit(L->s[j + 1])) {
        is_float = 1; j++;
        while (j < L->n && (is_digit(L->s[j]) || L->s[j] == '_')) j++;
    }
    if (j < L->n && (L->s[j] == 'e' || L->s[j] == 'E')) {
        size_t e = j + 1;
        if (e < L->n && (L->s[e] == '+' || L->s[e] == '-')) e++;
        if (e < L->n && is_digit(L->s[e])) { is_float = 1; j = e; while (j < L->n && is_digit(L->s[j])) j++; }
    }
    char tmp[64]; size_t m = 0;
    for (size_t k = L->i; k < j && m < sizeof tmp - 1; k++) if (L->s[k] != '_') tmp[m++] = L->s[k];
    tmp[m] = 0;
    if (is_float) {
        t->k = TK_FLOAT;
        t->f = strtod(tmp, NULL);
    } else {
        t->k = TK_INT;
        uint64_t v = 0;
        for (size_t k = 0; k < m; k++) {
            if (v > ((uint64_t)INT64_MAX - 9) / 10) { chat_fail(L->C, CHORD_E_UNSUPPORTED, t->line, t->col, "integer literal out of 64-bit range"); return -1; }
            v = v * 10 + (uint64_t)(tmp[k] - '0');
        }
        t->i = (int64_t)v;
    }
    adv(L, j);
    return 0;
}

/* Inside {{ }} or {% %}: tokens up to the end marker. Returns 0 at the end marker. */
static int lex_tag(lexer *L, char endc, chat_tok_kind end_kind) {
    int depth = 0;
    for (;;) {
        skip_space(L);
        if (L->i >= L->n) {
            chat_fail(L->C, CHORD_E_FORMAT, L->line, L->col, "unexpected end of template, expected '%c}'", endc);
            return -1;
        }
        const char *p = L->s + L->i;
        size_t left = L->n - L->i;
        if (depth == 0) {
            int mod = (p[0] == '-' || p[0] == '+') ? 1 : 0;
            if (left >= (size_t)mod + 2 && p[mod] == endc && p[mod + 1] == '}') {
                push(L, end_kind, L->line, L->col);
                adv(L, L->i + (size_t)mod + 2);
                if (p[0] == '-') skip_space(L);
                else if (!mod && endc == '%' && L->i < L->n && L->s[L->i] == '\n') adv(L, L->i + 1);
                L->line_starting = L->i > 0 && L->s[L->i - 1] == '\n';
                return 0;
            }
        }
        chat_tok *t = push(L, TK_OP, L->line, L->col);
        if (!t) return -1;
        if (is_name0(p[0])) {
            size_t j = L->i;
            while (j < L->n && (is_name0(L->s[j]) || is_digit(L->s[j]))) j++;
            t->k = TK_NAME; t->s = p; t->n = j - L->i;
            adv(L, j);
            continue;
        }
        if (is_digit(p[0])) { if (lex_number(L, t)) return -1; continue; }
        if (p[0] == '\'' || p[0] == '"') { if (lex_string(L, t)) return -1; continue; }
        static const char *ops2[] = { "//", "**", "==", "!=", "<=", ">=" };
        size_t len = 0;
        for (size_t k = 0; k < 6; k++)
            if (left >= 2 && p[0] == ops2[k][0] && p[1] == ops2[k][1]) { len = 2; break; }
        if (!len && strchr("+-*/%~<>=.,:|()[]{};", p[0]) && p[0]) len = 1;
        if (!len) {
            chat_fail(L->C, CHORD_E_FORMAT, L->line, L->col, "unexpected character '%c' in tag", p[0]);
            return -1;
        }
        if (p[0] == '(' || p[0] == '[' || p[0] == '{') depth++;
        if (len == 1 && (p[0] == ')' || p[0] == ']' || p[0] == '}')) {
            if (depth == 0) { chat_fail(L->C, CHORD_E_FORMAT, L->line, L->col, "unexpected '%c'", p[0]); return -1; }
            depth--;
        }
        t->s = p; t->n = len;
        adv(L, L->i + len);
    }
}

/* Newline normalisation as jinja2 does it: "\n".join(source.splitlines()). */
static char *normalize(chat_ctx *C, const char *src, size_t n, size_t *out_n) {
    char *d = chat_alloc(C, n + 1);
    if (!d) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)src[i];
        if (c == '\r') { d[o++] = '\n'; if (i + 1 < n && src[i + 1] == '\n') i++; continue; }
        if (c == '\v' || c == '\f' || (c >= 0x1c && c <= 0x1e)) { d[o++] = '\n'; continue; }
        if (c == 0xC2 && i + 1 < n && (uint8_t)src[i + 1] == 0x85) { d[o++] = '\n'; i++; continue; }
        if (c == 0xE2 && i + 2 < n && (uint8_t)src[i + 1] == 0x80 &&
            ((uint8_t)src[i + 2] == 0xA8 || (uint8_t)src[i + 2] == 0xA9)) { d[o++] = '\n'; i += 2; continue; }
        d[o++] = (char)c;
    }
    if (o && d[o - 1] == '\n') o--;   /* splitlines + join drops one trailing line break */
    d[o] = 0;
    *out_n = o;
    return d;
}

int chat_lex(chat_ctx *C, const char *src, size_t n, chat_tok **toks, size_t *n_toks) {
    size_t ok = 0;
    if (!chat_utf8_valid(src, n, &ok)) {
        chat_fail(C, CHORD_E_FORMAT, 0, 0, "template is not valid UTF-8 (byte %zu)", ok);
        return -1;
    }
    lexer L = { C, NULL, 0, 0, 1, 1, NULL, 0, 0, 1 };
    L.s = normalize(C, src, n, &L.n);
    if (!L.s) return -1;
    while (L.i < L.n && !CHAT_FAILED(C)) {
        size_t st = L.i, tag = st;
        uint32_t line = L.line, col = L.col;
        for (; tag + 1 < L.n; tag++)
            if (L.s[tag] == '{' && (L.s[tag + 1] == '{' || L.s[tag + 1] == '%' || L.s[tag + 1] == '#')) break;
        if (tag + 1 >= L.n) {   /* plain text to the end */
            chat_tok *t = push(&L, TK_TEXT, line, col);
            if (t) { t->s = L.s + st; t->n = L.n - st; }
            adv(&L, L.n);
            break;
        }
        emit_text(&L, st, tag, line, col);
        adv(&L, tag);
        char kind = L.s[tag + 1];
        uint32_t tl = L.line, tc = L.col;
        size_t body = tag + 2 + ((tag + 2 < L.n && (L.s[tag + 2] == '-' || L.s[tag + 2] == '+')) ? 1 : 0);
        if (kind == '#') {
            size_t j = body;
            while (j + 1 < L.n && !(L.s[j] == '#' && L.s[j + 1] == '}')) j++;
            if (j + 1 >= L.n) { chat_fail(C, CHORD_E_FORMAT, tl, tc, "unterminated comment"); break; }
            int minus = j > body && L.s[j - 1] == '-';
            int plus = j > body && L.s[j - 1] == '+';
            adv(&L, j + 2);
            if (minus) skip_space(&L);
            else if (!plus && L.i < L.n && L.s[L.i] == '\n') adv(&L, L.i + 1);
            L.line_starting = L.i > 0 && L.s[L.i - 1] == '\n';
            continue;
        }
        push(&L, kind == '{' ? TK_VAR_BEGIN : TK_BLOCK_BEGIN, tl, tc);
        adv(&L, body);
        if (lex_tag(&L, kind == '{' ? '}' : '%', kind == '{' ? TK_VAR_END : TK_BLOCK_END)) break;
    }
    push(&L, TK_EOF, L.line, L.col);
    if (CHAT_FAILED(C)) return -1;
    *toks = L.t; *n_toks = L.nt;
    return 0;
}
