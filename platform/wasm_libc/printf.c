/*
 * printf.c — snprintf/vsnprintf for the freestanding wasm builds: flags (- + space # 0), width
 * and precision (also *), lengths hh h l ll z j t L, conversions d i u o x X c s p % f F e E g G.
 *
 * Floating point is converted exactly: the double is expanded into all of its decimal digits
 * with a small base-10^9 big number (at most ~770 digits), then rounded half-to-even on that
 * exact expansion — the result is the same text glibc prints, so JSON and messages match
 * between native and wasm builds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct { char *buf; size_t cap, len; } out_t;

static void put(out_t *o, char c) {
    if (o->len + 1 < o->cap) o->buf[o->len] = c;
    o->len++;
}
static void put_n(out_t *o, char c, int n) { while (n-- > 0) put(o, c); }
static void put_s(out_t *o, const char *s, size_t n) { while (n--) put(o, *s++); }

enum { F_MINUS = 1, F_PLUS = 2, F_SPACE = 4, F_HASH = 8, F_ZERO = 16 };

/* Writes sign/prefix, body with padding as flags and width ask. */
static void emit(out_t *o, int flags, int width, const char *prefix, const char *body, size_t n,
                 int zeros) {
    size_t pl = strlen(prefix);
    int total = (int)(pl + n) + zeros;
    if (!(flags & (F_MINUS | F_ZERO))) put_n(o, ' ', width - total);
    put_s(o, prefix, pl);
    if ((flags & (F_MINUS | F_ZERO)) == F_ZERO) put_n(o, '0', width - total);
    put_n(o, '0', zeros);
    put_s(o, body, n);
    if (flags & F_MINUS) put_n(o, ' ', width - total);
}

static void fmt_int(out_t *o, unsigned long long v, int neg, int base, int upper, int flags,
                    int width, int prec) {
    char tmp[72];
    int n = 0;
    const char *dig = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    while (v) {
        tmp[sizeof tmp - 1 - n++] = dig[v % (unsigned)base];
        v /= (unsigned)base;
    }
    char prefix[4] = {0};
    int pl = 0;
    if (neg) prefix[pl++] = '-';
    else if (flags & F_PLUS) prefix[pl++] = '+';
    else if (flags & F_SPACE) prefix[pl++] = ' ';
    if ((flags & F_HASH) && base == 16 && n) { prefix[pl++] = '0'; prefix[pl++] = upper ? 'X' : 'x'; }
    int zeros = prec > n ? prec - n : 0;
    if ((flags & F_HASH) && base == 8 && zeros == 0 && (n == 0 || tmp[sizeof tmp - n] != '0')) zeros = 1;
    if (prec >= 0) flags &= ~F_ZERO;
    else if (n == 0) zeros = 1; /* the value 0 prints "0" */
    emit(o, flags, width, prefix, tmp + sizeof tmp - n, (size_t)n, zeros);
}

/* ---- exact decimal expansion of a double ----------------------------------------------- */

#define LIMBS 100 /* 100 * 9 = 900 digits > the ~770 a double can need */
typedef struct { uint32_t d[LIMBS]; int n; } big_t; /* little-endian base 10^9 */

static void big_mul(big_t *b, uint32_t m) {
    uint64_t carry = 0;
    for (int i = 0; i < b->n; i++) {
        uint64_t t = (uint64_t)b->d[i] * m + carry;
        b->d[i] = (uint32_t)(t % 1000000000u);
        carry = t / 1000000000u;
    }
    while (carry && b->n < LIMBS) {
        b->d[b->n++] = (uint32_t)(carry % 1000000000u);
        carry /= 1000000000u;
    }
}

/* Digits of |x| (x finite, non-zero) into dig (no leading zeros); returns the count and sets
 * *dexp so that |x| = 0.DIGITS × 10^dexp. */
static int exact_digits(double x, char *dig, int *dexp) {
    union { double f; uint64_t u; } u = {x};
    int e = (int)((u.u >> 52) & 0x7ff);
    uint64_t m = u.u & ((1ull << 52) - 1);
    if (e) m |= 1ull << 52;
    else e = 1;
    e -= 1075; /* |x| = m × 2^e */
    big_t b = {{0}, 0};
    while (m) { b.d[b.n++] = (uint32_t)(m % 1000000000u); m /= 1000000000u; }
    int frac = 0; /* decimal digits after the point */
    if (e > 0) {
        for (; e >= 29; e -= 29) big_mul(&b, 1u << 29);
        if (e) big_mul(&b, 1u << e);
    } else if (e < 0) { /* m / 2^k = m × 5^k / 10^k */
        int k = -e;
        frac = k;
        for (; k >= 13; k -= 13) big_mul(&b, 1220703125u); /* 5^13 */
        uint32_t p5 = 1;
        while (k--) p5 *= 5;
        if (p5 > 1) big_mul(&b, p5);
    }
    int n = 0;
    char tmp[16];
    for (int i = b.n - 1; i >= 0; i--) {
        uint32_t v = b.d[i];
        int w = 0;
        for (int j = 0; j < 9; j++) { tmp[8 - j] = (char)('0' + v % 10); v /= 10; }
        w = 9;
        int s = 0;
        if (i == b.n - 1) while (s < 8 && tmp[s] == '0') s++;
        for (int j = s; j < w; j++) dig[n++] = tmp[j];
    }
    *dexp = n - frac;
    while (n > 1 && dig[n - 1] == '0') n--; /* trailing zeros carry no information */
    return n;
}

/* Rounds dig[0..n) to keep `keep` digits (half to even on the exact value). Returns new n;
 * may bump *dexp when 999.. rounds up. keep may be <= 0 (then the result is 0 or 1 unit). */
static int round_digits(char *dig, int n, int keep, int *dexp) {
    if (keep >= n) return n;
    if (keep < 0) { dig[0] = '0'; return 0; }
    int up;
    char first = dig[keep];
    if (first > '5') up = 1;
    else if (first < '5') up = 0;
    else {
        int rest = 0;
        for (int i = keep + 1; i < n; i++) if (dig[i] != '0') { rest = 1; break; }
        up = rest || (keep > 0 && ((dig[keep - 1] - '0') & 1));
    }
    n = keep;
    if (up) {
        int i = n - 1;
        while (i >= 0 && dig[i] == '9') dig[i--] = '0';
        if (i >= 0) dig[i]++;
        else { /* all nines: becomes 1000.. */
            memmove(dig + 1, dig, (size_t)n);
            dig[0] = '1';
            n++;
            (*dexp)++;
        }
    }
    return n;
}

#define DIGS 1200
static void fmt_float(out_t *o, double x, char conv, int flags, int width, int prec) {
    char prefix[2] = {0};
    int neg = __builtin_signbit(x);
    if (neg) prefix[0] = '-';
    else if (flags & F_PLUS) prefix[0] = '+';
    else if (flags & F_SPACE) prefix[0] = ' ';
    int upper = conv == 'F' || conv == 'E' || conv == 'G';
    if (__builtin_isnan(x) || __builtin_isinf(x)) {
        emit(o, flags & ~F_ZERO, width, prefix, __builtin_isnan(x) ? (upper ? "NAN" : "nan") :
             (upper ? "INF" : "inf"), 3, 0);
        return;
    }
    if (prec < 0) prec = 6;
    static _Thread_local char dig[DIGS], body[DIGS + 64];
    int dexp = 1, n;
    if (x == 0) { dig[0] = '0'; n = 1; }
    else n = exact_digits(neg ? -x : x, dig, &dexp);
    char c = (char)(conv | 32);
    int strip = 0;
    if (c == 'g') {
        int P = prec ? prec : 1;
        int X = dexp - 1; /* exponent of the %e form, after rounding */
        if (x != 0) { n = round_digits(dig, n, P, &dexp); X = dexp - 1; }
        if (P > X && X >= -4) { c = 'f'; prec = P - 1 - X; }
        else { c = 'e'; prec = P - 1; }
        strip = !(flags & F_HASH);
    }
    int bl = 0;
    if (c == 'f') {
        if (x != 0) n = round_digits(dig, n, dexp + prec, &dexp);
        if (n == 0) { dig[0] = '0'; n = 1; dexp = 1; if (x != 0) dexp = 1; }
        /* integer part */
        if (dexp <= 0 || (n == 1 && dig[0] == '0')) body[bl++] = '0';
        else for (int i = 0; i < dexp && bl < DIGS; i++) body[bl++] = i < n ? dig[i] : '0';
        if (prec > 0 || (flags & F_HASH)) body[bl++] = '.';
        for (int i = 0; i < prec && bl < DIGS + 60; i++) {
            int pos = dexp + i; /* index into dig */
            body[bl++] = (pos >= 0 && pos < n && !(n == 1 && dig[0] == '0')) ? dig[pos] : '0';
        }
    } else {
        int e10 = 0;
        if (x != 0) {
            n = round_digits(dig, n, prec + 1, &dexp);
            e10 = dexp - 1;
        }
        body[bl++] = dig[0];
        if (prec > 0 || (flags & F_HASH)) body[bl++] = '.';
        for (int i = 1; i <= prec && bl < DIGS; i++) body[bl++] = i < n ? dig[i] : '0';
        if (strip) goto strip_now;
    exp_part:
        body[bl++] = upper ? 'E' : 'e';
        body[bl++] = e10 < 0 ? '-' : '+';
        int ae = e10 < 0 ? -e10 : e10;
        if (ae >= 100) body[bl++] = (char)('0' + ae / 100);
        body[bl++] = (char)('0' + ae / 10 % 10);
        body[bl++] = (char)('0' + ae % 10);
        goto done;
    strip_now:
        if (memchr(body, '.', (size_t)bl)) {
            while (body[bl - 1] == '0') bl--;
            if (body[bl - 1] == '.') bl--;
        }
        strip = 0;
        goto exp_part;
    }
    if (strip && memchr(body, '.', (size_t)bl)) {
        while (body[bl - 1] == '0') bl--;
        if (body[bl - 1] == '.') bl--;
    }
done:
    emit(o, flags, width, prefix, body, (size_t)bl, 0);
}

int vsnprintf(char *restrict buf, size_t cap, const char *restrict fmt, va_list ap) {
    out_t o = {buf, cap, 0};
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') { put(&o, *p); continue; }
        p++;
        int flags = 0, width = 0, prec = -1;
        for (;; p++) {
            if (*p == '-') flags |= F_MINUS;
            else if (*p == '+') flags |= F_PLUS;
            else if (*p == ' ') flags |= F_SPACE;
            else if (*p == '#') flags |= F_HASH;
            else if (*p == '0') flags |= F_ZERO;
            else break;
        }
        if (*p == '*') { width = va_arg(ap, int); if (width < 0) { flags |= F_MINUS; width = -width; } p++; }
        else while (*p >= '0' && *p <= '9') width = width * 10 + (*p++ - '0');
        if (*p == '.') {
            p++;
            prec = 0;
            if (*p == '*') { prec = va_arg(ap, int); p++; }
            else while (*p >= '0' && *p <= '9') prec = prec * 10 + (*p++ - '0');
        }
        int len = 0; /* 1 l, 2 ll, 3 z, 4 j, 5 t, -1 h, -2 hh */
        for (;; p++) {
            if (*p == 'l') len = len == 1 ? 2 : 1;
            else if (*p == 'h') len = len == -1 ? -2 : -1;
            else if (*p == 'z') len = 3;
            else if (*p == 'j') len = 4;
            else if (*p == 't') len = 5;
            else if (*p == 'L') len = 0;
            else break;
        }
        char conv = *p;
        if (!conv) break;
        switch (conv) {
        case 'd': case 'i': {
            long long v;
            if (len == 1) v = va_arg(ap, long);
            else if (len == 2 || len == 4) v = va_arg(ap, long long);
            else if (len == 3 || len == 5) v = (long long)va_arg(ap, ptrdiff_t);
            else v = va_arg(ap, int);
            if (len == -1) v = (short)v;
            if (len == -2) v = (signed char)v;
            unsigned long long m = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
            fmt_int(&o, m, v < 0, 10, 0, flags, width, prec);
            break;
        }
        case 'u': case 'x': case 'X': case 'o': {
            unsigned long long v;
            if (len == 1) v = va_arg(ap, unsigned long);
            else if (len == 2 || len == 4) v = va_arg(ap, unsigned long long);
            else if (len == 3 || len == 5) v = va_arg(ap, size_t);
            else v = va_arg(ap, unsigned);
            if (len == -1) v = (unsigned short)v;
            if (len == -2) v = (unsigned char)v;
            fmt_int(&o, v, 0, conv == 'u' ? 10 : conv == 'o' ? 8 : 16, conv == 'X',
                    flags & ~(F_PLUS | F_SPACE), width, prec);
            break;
        }
        case 'p':
            fmt_int(&o, (uintptr_t)va_arg(ap, void *), 0, 16, 0, F_HASH, width, -1);
            break;
        case 'c': {
            char c = (char)va_arg(ap, int);
            emit(&o, flags & ~F_ZERO, width, "", &c, 1, 0);
            break;
        }
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s) s = "(null)";
            size_t n = prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s);
            emit(&o, flags & ~F_ZERO, width, "", s, n, 0);
            break;
        }
        case 'f': case 'F': case 'e': case 'E': case 'g': case 'G':
            fmt_float(&o, va_arg(ap, double), conv, flags, width, prec);
            break;
        case '%': put(&o, '%'); break;
        default: put(&o, '%'); put(&o, conv); break;
        }
    }
    if (cap) o.buf[o.len < cap ? o.len : cap - 1] = 0;
    return o.len > 0x7fffffff ? -1 : (int)o.len;
}

int snprintf(char *restrict buf, size_t cap, const char *restrict fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    return r;
}
