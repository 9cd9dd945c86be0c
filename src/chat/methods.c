/*
 * methods.c — attribute and item access, Python methods of str/dict/list as the sandbox allows
 * them (str.startswith/split/strip/format..., dict.items/keys/values/get; mutating methods such
 * as list.append or dict.pop are refused exactly as ImmutableSandboxedEnvironment refuses them),
 * `loop.*`, and the global functions (range, namespace, dict, raise_exception, strftime_now).
 *
 * Access rules follow jinja2's default Undefined: a missing key/attribute is undefined, but any
 * attribute or item of an undefined value is an error naming it.
 */
#include <string.h>

#include "chat/chat.h"
#include "tokenizer/unicode.h"

#define TRY(C) do { if (CHAT_FAILED(C)) return cv_none(); } while (0)

const cv *chat_arg(const chat_args *a, size_t pos, const char *name) {
    if (name)
        for (size_t i = 0; i < a->n_kw; i++)
            if (chat_name_eq(a->kw_names[i], a->kw_lens[i], name)) return &a->kw[i];
    return pos < a->n_pos ? &a->pos[pos] : NULL;
}

static void fail_undef(chat_ctx *C, const chat_node *at, const cv *obj) {
    if (obj->undef_name) chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "'%s' is undefined", obj->undef_name);
    else chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "undefined value has no attributes");
}

static cv loop_attr(chat_ctx *C, const chat_node *at, const chat_loop *lp, const char *name, size_t n) {
    int64_t i = lp->index0, len = lp->length;
    if (chat_name_eq(name, n, "index")) return cv_int(i + 1);
    if (chat_name_eq(name, n, "index0")) return cv_int(i);
    if (chat_name_eq(name, n, "revindex")) return cv_int(len - i);
    if (chat_name_eq(name, n, "revindex0")) return cv_int(len - i - 1);
    if (chat_name_eq(name, n, "first")) return cv_bool(i == 0);
    if (chat_name_eq(name, n, "last")) return cv_bool(i == len - 1);
    if (chat_name_eq(name, n, "length")) return cv_int(len);
    if (chat_name_eq(name, n, "depth")) return cv_int(lp->depth);
    if (chat_name_eq(name, n, "depth0")) return cv_int(lp->depth - 1);
    if (chat_name_eq(name, n, "previtem") || chat_name_eq(name, n, "nextitem")) {
        int64_t k = name[0] == 'p' ? i - 1 : i + 1;
        if (k < 0 || k >= len) return cv_undef(name[0] == 'p' ? "previtem" : "nextitem");
        return lp->items ? lp->items->v[k] : cv_int(lp->r_start + k * lp->r_step);
    }
    (void)C; (void)at;
    return cv_undef(NULL);
}

cv chat_getattr(chat_ctx *C, const chat_node *at, const cv *obj, const char *name, size_t n) {
    switch (obj->t) {
    case CV_UNDEF: fail_undef(C, at, obj); return cv_none();
    case CV_DICT: case CV_NS: {
        const cv *v = cv_dict_get(obj->u.d, name, n);
        if (v) return *v;
        cv nm = cv_str_copy(C, name, n);
        return cv_undef(nm.u.s.p);
    }
    case CV_LOOP: return loop_attr(C, at, obj->u.loop, name, n);
    default: { cv nm = cv_str_copy(C, name, n); return cv_undef(nm.u.s.p); }
    }
}

cv chat_getitem(chat_ctx *C, const chat_node *at, const cv *obj, const cv *key) {
    if (obj->t == CV_UNDEF) { fail_undef(C, at, obj); return cv_none(); }
    if (obj->t == CV_DICT || obj->t == CV_NS) {
        const cv *v = cv_dict_find(obj->u.d, key);
        return v ? *v : cv_undef(NULL);
    }
    if (key->t == CV_STR) return chat_getattr(C, at, obj, key->u.s.p, key->u.s.n);
    if (obj->t == CV_LIST && obj->u.l->is_gen) return cv_undef(NULL);   /* generators: no [] */
    if ((obj->t == CV_LIST || obj->t == CV_STR) && (key->t == CV_INT || key->t == CV_BOOL)) {
        int64_t i = key->t == CV_INT ? key->u.i : key->u.b;
        if (obj->t == CV_LIST) {
            int64_t len = (int64_t)obj->u.l->n;
            if (i < 0) i += len;
            return (i >= 0 && i < len) ? obj->u.l->v[i] : cv_undef(NULL);
        }
        int64_t len = (int64_t)chat_utf8_len(obj->u.s.p, obj->u.s.n);
        if (i < 0) i += len;
        if (i < 0 || i >= len) return cv_undef(NULL);
        size_t o = chat_utf8_offset(obj->u.s.p, obj->u.s.n, (size_t)i);
        size_t e = chat_utf8_offset(obj->u.s.p, obj->u.s.n, (size_t)i + 1);
        return cv_str(obj->u.s.p + o, e - o);
    }
    return cv_undef(NULL);
}

/* ---- case mapping ----------------------------------------------------------------------- */
/* Upper case as the inverse of the UCD simple lowercase table (smallest source wins, so 'k'
 * maps to 'K' rather than KELVIN SIGN). */
static uint32_t cp_upper(uint32_t cp) {
    if (cp < 0x80) return (cp >= 'a' && cp <= 'z') ? cp - 32 : cp;
    uint32_t best = cp;
    for (uint32_t r = 0; r < chord_ucd_n_lower; r++) {
        const chord_ucd_case_run *run = &chord_ucd_lower[r];
        int64_t src = (int64_t)cp - run->delta;
        if (src < (int64_t)run->first) continue;
        int64_t k = (src - (int64_t)run->first);
        uint32_t stride = run->stride ? run->stride : 1;
        if (k % stride || k / stride >= run->count) continue;
        if (best == cp || (uint32_t)src < best) best = (uint32_t)src;
    }
    return best;
}
static uint32_t cp_lower(uint32_t cp) {
    if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
    return chord_ucd_tolower(cp);
}
static int cp_is_cased_letter(uint32_t cp) { return (chord_ucd_flags(cp) & CHORD_UCD_LETTER) != 0; }

/* mode: 0 lower, 1 upper, 2 title (words start upper), 3 capitalize */
cv chat_str_case(chat_ctx *C, const cv *s, int mode);
cv chat_str_case(chat_ctx *C, const cv *s, int mode) {
    chat_buf b = { 0 };
    chat_buf_put(C, &b, "", 0);
    const uint8_t *p = (const uint8_t *)s->u.s.p;
    size_t n = s->u.s.n, i = 0;
    int prev_letter = 0, first = 1;
    while (i < n) {
        uint32_t cp; size_t k = chord_utf8_decode(p + i, n - i, &cp);
        if (!k) k = 1;
        uint32_t o;
        if (mode == 0) o = cp_lower(cp);
        else if (mode == 1) o = cp_upper(cp);
        else if (mode == 2) o = prev_letter ? cp_lower(cp) : cp_upper(cp);
        else o = first ? cp_upper(cp) : cp_lower(cp);
        prev_letter = cp_is_cased_letter(cp);
        first = 0;
        uint8_t u[4]; size_t ul = chord_utf8_encode(o, u);
        chat_buf_put(C, &b, (const char *)u, ul);
        i += k;
    }
    return cv_str(b.p, b.n);
}

/* ---- str methods ------------------------------------------------------------------------ */
static size_t ws_at(const char *s, size_t n, size_t i) {
    uint8_t c = (uint8_t)s[i];
    if (c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f)) return 1;
    if (c < 0x80) return 0;
    uint32_t cp; size_t k = chord_utf8_decode((const uint8_t *)s + i, n - i, &cp);
    return (k && (cp == 0x85 || (chord_ucd_flags(cp) & CHORD_UCD_WHITESPACE))) ? k : 0;
}

static int in_chars(const cv *chars, const char *s, size_t k) {
    const char *c = chars->u.s.p; size_t n = chars->u.s.n;
    for (size_t i = 0; i + k <= n; ) {
        size_t l = 1;
        while (i + l < n && ((uint8_t)c[i + l] & 0xC0) == 0x80) l++;
        if (l == k && memcmp(c + i, s, k) == 0) return 1;
        i += l;
    }
    return 0;
}

/* strip(): which 1 = left, 2 = right, 3 = both; chars NULL/None = whitespace */
cv chat_str_strip(const cv *s, const cv *chars, int which);
cv chat_str_strip(const cv *s, const cv *chars, int which) {
    const char *p = s->u.s.p; size_t n = s->u.s.n, st = 0, en = n;
    int ws = !chars || chars->t == CV_NONE;
    if (which & 1)
        while (st < en) {
            size_t k = 1;
            while (st + k < en && ((uint8_t)p[st + k] & 0xC0) == 0x80) k++;
            if (ws ? ws_at(p, en, st) != k : !in_chars(chars, p + st, k)) break;
            st += k;
        }
    if (which & 2)
        while (en > st) {
            size_t b = en - 1;
            while (b > st && ((uint8_t)p[b] & 0xC0) == 0x80) b--;
            if (ws ? ws_at(p, en, b) != en - b : !in_chars(chars, p + b, en - b)) break;
            en = b;
        }
    return cv_str(p + st, en - st);
}

static cv str_split(chat_ctx *C, const chat_node *at, const cv *s, const cv *sep, int64_t maxsplit, int right) {
    cv l = cv_new_list(C, 0); TRY(C);
    const char *p = s->u.s.p; size_t n = s->u.s.n;
    if (!sep || sep->t == CV_NONE) {   /* runs of whitespace, no empty strings */
        if (right) { chat_fail(C, CHORD_E_UNSUPPORTED, at->line, at->col, "unsupported: rsplit() without a separator"); return cv_none(); }
        size_t i = 0;
        while (i < n) {
            size_t k;
            while (i < n && (k = ws_at(p, n, i))) i += k;
            if (i >= n) break;
            size_t st = i;
            if (maxsplit >= 0 && (int64_t)l.u.l->n == maxsplit) { cv_list_push(C, l.u.l, chat_str_strip(&(cv){ .t = CV_STR, .u.s = { p + st, n - st } }, NULL, 2)); break; }
            while (i < n && !ws_at(p, n, i)) i++;
            cv_list_push(C, l.u.l, cv_str(p + st, i - st));
        }
        return l;
    }
    if (sep->t != CV_STR) { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "must be str or None, not %s", cv_type_name(sep)); return cv_none(); }
    const char *q = sep->u.s.p; size_t m = sep->u.s.n;
    if (!m) { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "empty separator"); return cv_none(); }
    if (!right) {
        size_t st = 0, i = 0;
        while (i + m <= n) {
            if ((maxsplit < 0 || (int64_t)l.u.l->n < maxsplit) && memcmp(p + i, q, m) == 0) {
                cv_list_push(C, l.u.l, cv_str(p + st, i - st));
                i += m; st = i;
            } else i++;
        }
        cv_list_push(C, l.u.l, cv_str(p + st, n - st));
        return l;
    }
    /* rsplit: collect from the right, then reverse */
    cv tmp = cv_new_list(C, 0); TRY(C);
    size_t en = n;
    int64_t i = (int64_t)n - (int64_t)m;
    while (i >= 0) {
        if ((maxsplit < 0 || (int64_t)tmp.u.l->n < maxsplit) && memcmp(p + i, q, m) == 0) {
            cv_list_push(C, tmp.u.l, cv_str(p + i + m, en - (size_t)i - m));
            en = (size_t)i; i -= (int64_t)m;
        } else i--;
    }
    cv_list_push(C, tmp.u.l, cv_str(p, en));
    for (size_t k = tmp.u.l->n; k > 0; k--) cv_list_push(C, l.u.l, tmp.u.l->v[k - 1]);
    return l;
}

cv chat_str_replace(chat_ctx *C, const cv *s, const cv *old, const cv *rep, int64_t count);
cv chat_str_replace(chat_ctx *C, const cv *s, const cv *old, const cv *rep, int64_t count) {
    chat_buf b = { 0 };
    chat_buf_put(C, &b, "", 0);
    const char *p = s->u.s.p; size_t n = s->u.s.n, m = old->u.s.n, i = 0;
    int64_t done = 0;
    if (!m) {   /* Python inserts the replacement between every character */
        while (i <= n) {
            if (count < 0 || done < count) { chat_buf_put(C, &b, rep->u.s.p, rep->u.s.n); done++; }
            if (i == n) break;
            size_t k = 1;
            while (i + k < n && ((uint8_t)p[i + k] & 0xC0) == 0x80) k++;
            chat_buf_put(C, &b, p + i, k);
            i += k;
        }
        return cv_str(b.p, b.n);
    }
    while (i < n) {
        if ((count < 0 || done < count) && i + m <= n && memcmp(p + i, old->u.s.p, m) == 0) {
            chat_buf_put(C, &b, rep->u.s.p, rep->u.s.n); i += m; done++;
        } else chat_buf_putc(C, &b, p[i++]);
    }
    return cv_str(b.p, b.n);
}

static int affix(const cv *s, const cv *a, int end) {
    if (a->t != CV_STR || a->u.s.n > s->u.s.n) return 0;
    const char *p = end ? s->u.s.p + s->u.s.n - a->u.s.n : s->u.s.p;
    return memcmp(p, a->u.s.p, a->u.s.n) == 0;
}

/* "{} {0} {name}" with empty format specs, "{{" and "}}". */
static cv str_format(chat_ctx *C, const chat_node *at, const cv *s, const chat_args *a) {
    chat_buf b = { 0 };
    chat_buf_put(C, &b, "", 0);
    const char *p = s->u.s.p; size_t n = s->u.s.n, auto_i = 0;
    for (size_t i = 0; i < n && !CHAT_FAILED(C); i++) {
        if (p[i] == '{' && i + 1 < n && p[i + 1] == '{') { chat_buf_putc(C, &b, '{'); i++; continue; }
        if (p[i] == '}' && i + 1 < n && p[i + 1] == '}') { chat_buf_putc(C, &b, '}'); i++; continue; }
        if (p[i] != '{') { chat_buf_putc(C, &b, p[i]); continue; }
        size_t j = i + 1;
        while (j < n && p[j] != '}') j++;
        if (j >= n) { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "Single '{' encountered in format string"); break; }
        const char *f = p + i + 1; size_t fl = j - i - 1;
        if (memchr(f, ':', fl) || memchr(f, '!', fl)) { chat_fail(C, CHORD_E_UNSUPPORTED, at->line, at->col, "unsupported: format spec in str.format()"); break; }
        const cv *v = NULL;
        if (!fl) v = auto_i < a->n_pos ? &a->pos[auto_i++] : NULL;
        else if (f[0] >= '0' && f[0] <= '9') { size_t k = 0; for (size_t q = 0; q < fl; q++) k = k * 10 + (size_t)(f[q] - '0'); v = k < a->n_pos ? &a->pos[k] : NULL; }
        else for (size_t q = 0; q < a->n_kw; q++) if (a->kw_lens[q] == fl && memcmp(a->kw_names[q], f, fl) == 0) v = &a->kw[q];
        if (!v) { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "str.format(): missing argument for '{%.*s}'", (int)fl, f); break; }
        cv_to_str(C, &b, v, 0);
        i = j;
    }
    TRY(C);
    return cv_str(b.p, b.n);
}

/* "%s %d %r %%" formatting (str % args). */
static cv str_mod(chat_ctx *C, const chat_node *at, const cv *s, const chat_args *a) {
    chat_buf b = { 0 };
    chat_buf_put(C, &b, "", 0);
    const char *p = s->u.s.p; size_t n = s->u.s.n, k = 0;
    for (size_t i = 0; i < n && !CHAT_FAILED(C); i++) {
        if (p[i] != '%') { chat_buf_putc(C, &b, p[i]); continue; }
        char c = i + 1 < n ? p[++i] : 0;
        if (c == '%') { chat_buf_putc(C, &b, '%'); continue; }
        if (c != 's' && c != 'd' && c != 'r' && c != 'i') { chat_fail(C, CHORD_E_UNSUPPORTED, at->line, at->col, "unsupported: '%%%c' in string formatting", c ? c : ' '); break; }
        if (k >= a->n_pos) { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "not enough arguments for format string"); break; }
        const cv *v = &a->pos[k++];
        if ((c == 'd' || c == 'i') && v->t == CV_FLOAT) { cv t = cv_int((int64_t)v->u.f); cv_to_str(C, &b, &t, 0); }
        else if ((c == 'd' || c == 'i') && v->t != CV_INT && v->t != CV_BOOL) { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "%%d format: a real number is required, not %s", cv_type_name(v)); break; }
        else if (c == 'd' && v->t == CV_BOOL) { cv t = cv_int(v->u.b); cv_to_str(C, &b, &t, 0); }
        else cv_to_str(C, &b, v, c == 'r');
    }
    if (!CHAT_FAILED(C) && k < a->n_pos) chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "not all arguments converted during string formatting");
    TRY(C);
    return cv_str(b.p, b.n);
}

static cv str_method(chat_ctx *C, const chat_node *at, const cv *s, const char *name, size_t n, const chat_args *a) {
    const cv *a0 = chat_arg(a, 0, NULL), *a1 = chat_arg(a, 1, NULL);
#define IS(x) chat_name_eq(name, n, x)
    if (IS("__mod__")) return str_mod(C, at, s, a);
    if (IS("startswith") || IS("endswith")) {
        int end = IS("endswith");
        if (!a0) goto bad_args;
        if (a0->t == CV_LIST) { for (size_t i = 0; i < a0->u.l->n; i++) if (affix(s, &a0->u.l->v[i], end)) return cv_bool(1); return cv_bool(0); }
        if (a0->t != CV_STR) goto bad_args;
        return cv_bool(affix(s, a0, end));
    }
    if (IS("strip") || IS("lstrip") || IS("rstrip")) {
        if (a0 && a0->t != CV_STR && a0->t != CV_NONE) goto bad_args;
        return chat_str_strip(s, a0, IS("strip") ? 3 : IS("lstrip") ? 1 : 2);
    }
    if (IS("split") || IS("rsplit")) {
        const cv *sep = chat_arg(a, 0, "sep"), *mx = chat_arg(a, 1, "maxsplit");
        return str_split(C, at, s, sep, mx && mx->t == CV_INT ? mx->u.i : -1, IS("rsplit"));
    }
    if (IS("upper")) return chat_str_case(C, s, 1);
    if (IS("lower")) return chat_str_case(C, s, 0);
    if (IS("title")) return chat_str_case(C, s, 2);
    if (IS("capitalize")) return chat_str_case(C, s, 3);
    if (IS("replace")) {
        if (!a0 || !a1 || a0->t != CV_STR || a1->t != CV_STR) goto bad_args;
        const cv *cnt = chat_arg(a, 2, "count");
        return chat_str_replace(C, s, a0, a1, cnt && cnt->t == CV_INT ? cnt->u.i : -1);
    }
    if (IS("format")) return str_format(C, at, s, a);
    if (IS("join")) {
        if (!a0) goto bad_args;
        cv_list *l;
        if (cv_iter_list(C, a0, &l, at->line, at->col)) return cv_none();
        chat_buf b = { 0 };
        chat_buf_put(C, &b, "", 0);
        for (size_t i = 0; i < l->n; i++) {
            if (l->v[i].t != CV_STR) { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "sequence item %zu: expected str instance, %s found", i, cv_type_name(&l->v[i])); return cv_none(); }
            if (i) chat_buf_put(C, &b, s->u.s.p, s->u.s.n);
            chat_buf_put(C, &b, l->v[i].u.s.p, l->v[i].u.s.n);
        }
        return cv_str(b.p, b.n);
    }
    if (IS("find") || IS("rfind") || IS("count") || IS("index")) {
        if (!a0 || a0->t != CV_STR) goto bad_args;
        int64_t found = -1, cnt = 0;
        size_t m = a0->u.s.n;
        for (size_t i = 0; i + m <= s->u.s.n; ) {
            if (memcmp(s->u.s.p + i, a0->u.s.p, m) == 0) {
                if (found < 0 || IS("rfind")) found = (int64_t)chat_utf8_len(s->u.s.p, i);
                cnt++; i += m ? m : 1;
                if (!m && i > s->u.s.n) break;
            } else i++;
        }
        if (IS("count")) return cv_int(m ? cnt : (int64_t)chat_utf8_len(s->u.s.p, s->u.s.n) + 1);
        if (IS("index") && found < 0) { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "substring not found"); return cv_none(); }
        return cv_int(found);
    }
    if (IS("splitlines")) {
        cv l = cv_new_list(C, 0); TRY(C);
        size_t st = 0, i = 0, len = s->u.s.n;
        const char *p = s->u.s.p;
        while (i < len) {
            if (p[i] == '\n' || p[i] == '\r') {
                cv_list_push(C, l.u.l, cv_str(p + st, i - st));
                if (p[i] == '\r' && i + 1 < len && p[i + 1] == '\n') i++;
                st = ++i;
            } else i++;
        }
        if (st < len) cv_list_push(C, l.u.l, cv_str(p + st, len - st));
        return l;
    }
    if (IS("isdigit") || IS("isalpha") || IS("isalnum") || IS("isspace") || IS("islower") || IS("isupper")) {
        if (!s->u.s.n) return cv_bool(0);
        int lower_seen = 0, upper_seen = 0;
        for (size_t i = 0; i < s->u.s.n; ) {
            uint32_t cp; size_t k = chord_utf8_decode((const uint8_t *)s->u.s.p + i, s->u.s.n - i, &cp);
            if (!k) k = 1;
            uint32_t f = chord_ucd_flags(cp);
            int dig = cp >= '0' && cp <= '9', alpha = (f & CHORD_UCD_LETTER) != 0;
            if (IS("isdigit") && !dig) return cv_bool(0);
            if (IS("isalpha") && !alpha) return cv_bool(0);
            if (IS("isalnum") && !alpha && !(f & CHORD_UCD_NUMBER)) return cv_bool(0);
            if (IS("isspace") && !ws_at(s->u.s.p, s->u.s.n, i)) return cv_bool(0);
            if (cp_lower(cp) != cp) upper_seen = 1;
            if (cp_upper(cp) != cp) lower_seen = 1;
            i += k;
        }
        if (IS("islower")) return cv_bool(lower_seen && !upper_seen);
        if (IS("isupper")) return cv_bool(upper_seen && !lower_seen);
        return cv_bool(1);
    }
#undef IS
    chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "'str' object has no attribute '%.*s'", (int)n, name);
    return cv_none();
bad_args:
    chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "str.%.*s(): bad arguments", (int)n, name);
    return cv_none();
}

static cv pairs(chat_ctx *C, const cv_dict *d, int what) {
    cv l = cv_new_list(C, d->n); TRY(C);
    for (size_t i = 0; i < d->n; i++) {
        if (what == 0) {
            cv t = cv_new_list(C, 2); TRY(C);
            t.u.l->is_tuple = 1;
            cv_list_push(C, t.u.l, d->k[i]); cv_list_push(C, t.u.l, d->v[i]);
            cv_list_push(C, l.u.l, t);
        } else cv_list_push(C, l.u.l, what == 1 ? d->k[i] : d->v[i]);
    }
    return l;
}
cv chat_dict_items(chat_ctx *C, const cv_dict *d);
cv chat_dict_items(chat_ctx *C, const cv_dict *d) { return pairs(C, d, 0); }

static int is_mutator(const char *name, size_t n) {
    static const char *const m[] = { "append", "extend", "insert", "pop", "remove", "clear", "sort",
                                     "reverse", "update", "setdefault", "popitem", "add", "discard", NULL };
    for (size_t i = 0; m[i]; i++) if (chat_name_eq(name, n, m[i])) return 1;
    return 0;
}

cv chat_method(chat_ctx *C, const chat_node *at, const cv *obj, const char *name, size_t n, const chat_args *a) {
    if (obj->t == CV_STR) return str_method(C, at, obj, name, n, a);
    if (obj->t == CV_DICT) {
        if (chat_name_eq(name, n, "items")) return pairs(C, obj->u.d, 0);
        if (chat_name_eq(name, n, "keys")) return pairs(C, obj->u.d, 1);
        if (chat_name_eq(name, n, "values")) return pairs(C, obj->u.d, 2);
        if (chat_name_eq(name, n, "get")) {
            const cv *k = chat_arg(a, 0, NULL), *d = chat_arg(a, 1, NULL);
            if (!k) { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "dict.get() needs a key"); return cv_none(); }
            const cv *v = cv_dict_find(obj->u.d, k);
            return v ? *v : d ? *d : cv_none();
        }
    }
    if (obj->t == CV_LIST) {
        if (chat_name_eq(name, n, "index") || chat_name_eq(name, n, "count")) {
            const cv *x = chat_arg(a, 0, NULL);
            if (!x) { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "list.%.*s() needs an argument", (int)n, name); return cv_none(); }
            int64_t cnt = 0;
            for (size_t i = 0; i < obj->u.l->n; i++)
                if (cv_equal(&obj->u.l->v[i], x)) { if (name[0] == 'i') return cv_int((int64_t)i); cnt++; }
            if (name[0] == 'i') { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "list.index(x): x not in list"); return cv_none(); }
            return cv_int(cnt);
        }
    }
    if (obj->t == CV_LOOP && chat_name_eq(name, n, "cycle")) {
        if (!a->n_pos) { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "no items for cycling given"); return cv_none(); }
        return a->pos[obj->u.loop->index0 % (int64_t)a->n_pos];
    }
    if ((obj->t == CV_LIST || obj->t == CV_DICT) && is_mutator(name, n)) {
        /* ImmutableSandboxedEnvironment refuses these; so do we. */
        chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "access to attribute '%.*s' of '%s' object is unsafe (immutable sandbox)",
                  (int)n, name, cv_type_name(obj));
        return cv_none();
    }
    if (obj->t == CV_UNDEF) { fail_undef(C, at, obj); return cv_none(); }
    if (obj->t == CV_DICT || obj->t == CV_NS) {
        const cv *v = cv_dict_get(obj->u.d, name, n);
        if (v && v->t == CV_FUNC) return chat_call_func(C, at, v->u.fn, a);
    }
    chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "'%s' object has no callable attribute '%.*s'", cv_type_name(obj), (int)n, name);
    return cv_none();
}

/* ---- global functions ------------------------------------------------------------------- */
int chat_global_func(const char *name, size_t n) {
    static const struct { const char *n; int fn; } g[] = {
        { "range", FN_RANGE }, { "namespace", FN_NAMESPACE }, { "raise_exception", FN_RAISE },
        { "strftime_now", FN_STRFTIME }, { "dict", FN_DICT }, { "caller", FN_CALLER },
    };
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++) if (chat_name_eq(name, n, g[i].n)) return g[i].fn;
    return 0;
}

cv chat_call_caller(chat_ctx *C, const chat_node *at, const chat_args *a);

cv chat_call_func(chat_ctx *C, const chat_node *at, int fn, const chat_args *a) {
    switch (fn) {
    case FN_RANGE: {
        int64_t v[3] = { 0, 0, 1 };
        if (a->n_pos < 1 || a->n_pos > 3) { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "range expected 1 to 3 arguments"); return cv_none(); }
        for (size_t i = 0; i < a->n_pos; i++) {
            if (a->pos[i].t != CV_INT && a->pos[i].t != CV_BOOL) { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "'%s' object cannot be interpreted as an integer", cv_type_name(&a->pos[i])); return cv_none(); }
        }
        int64_t x[3];
        for (size_t i = 0; i < a->n_pos; i++) x[i] = a->pos[i].t == CV_INT ? a->pos[i].u.i : a->pos[i].u.b;
        if (a->n_pos == 1) v[1] = x[0]; else { v[0] = x[0]; v[1] = x[1]; if (a->n_pos == 3) v[2] = x[2]; }
        if (!v[2]) { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "range() arg 3 must not be zero"); return cv_none(); }
        cv l = cv_new_list(C, 0); TRY(C);
        for (int64_t i = v[0]; v[2] > 0 ? i < v[1] : i > v[1]; i += v[2]) {
            if (chat_step(C, at)) return cv_none();
            cv_list_push(C, l.u.l, cv_int(i));
        }
        return l;
    }
    case FN_NAMESPACE: case FN_DICT: {
        cv d = cv_new_dict(C, 0, fn == FN_NAMESPACE ? CV_NS : CV_DICT); TRY(C);
        for (size_t i = 0; i < a->n_pos; i++) {
            if (a->pos[i].t != CV_DICT && a->pos[i].t != CV_NS) { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "%s() takes a mapping", fn == FN_DICT ? "dict" : "namespace"); return cv_none(); }
            for (size_t k = 0; k < a->pos[i].u.d->n; k++) cv_dict_set(C, d.u.d, a->pos[i].u.d->k[k], a->pos[i].u.d->v[k]);
        }
        for (size_t i = 0; i < a->n_kw; i++) cv_dict_set(C, d.u.d, cv_str(a->kw_names[i], a->kw_lens[i]), a->kw[i]);
        return d;
    }
    case FN_RAISE: {
        cv m = a->n_pos ? cv_stringify(C, &a->pos[0]) : cv_cstr("");
        chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "template raised an exception: %.*s", (int)m.u.s.n, m.u.s.p);
        return cv_none();
    }
    case FN_STRFTIME: {
        if (!a->n_pos || a->pos[0].t != CV_STR) { chat_fail(C, CHORD_E_FORMAT, at->line, at->col, "strftime_now(format) needs a string"); return cv_none(); }
        chat_buf b = { 0 };
        chat_buf_put(C, &b, "", 0);
        if (chat_strftime_now(C, &b, a->pos[0].u.s.p, a->pos[0].u.s.n)) {
            if (!CHAT_FAILED(C)) chat_fail(C, CHORD_E_UNSUPPORTED, at->line, at->col, "strftime_now: unsupported format");
            return cv_none();
        }
        return cv_str(b.p, b.n);
    }
    case FN_CALLER: return chat_call_caller(C, at, a);
    default:
        chat_fail(C, CHORD_E_INTERNAL, at->line, at->col, "unknown builtin");
        return cv_none();
    }
}
