/*
 * stdlib.c — qsort (a stable merge sort, as glibc's is, so tied keys sort the same on every
 * target), bsearch, integer/float parsing, and the few process functions a freestanding module
 * can offer (abort and exit trap: there is no process to end).
 */
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>

static void swap_bytes(unsigned char *a, unsigned char *b, size_t size) {
    while (size--) {
        unsigned char t = *a;
        *a++ = *b;
        *b++ = t;
    }
}

static void sift_down(unsigned char *base, size_t root, size_t n, size_t size,
                      int (*cmp)(const void *, const void *)) {
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n) return;
        if (child + 1 < n && cmp(base + child * size, base + (child + 1) * size) < 0) child++;
        if (cmp(base + root * size, base + child * size) >= 0) return;
        swap_bytes(base + root * size, base + child * size, size);
        root = child;
    }
}

static void insertion_sort(unsigned char *b, size_t n, size_t size,
                           int (*cmp)(const void *, const void *)) {
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && cmp(b + (j - 1) * size, b + j * size) > 0; j--)
            swap_bytes(b + (j - 1) * size, b + j * size, size);
}

/* Stable merge sort through a temporary buffer, like glibc's qsort (Debian 12), so that equal
 * keys (tied logits) end up in the same order on every target; heap sort if no memory. */
static void merge_sort(unsigned char *b, unsigned char *tmp, size_t n, size_t size,
                       int (*cmp)(const void *, const void *)) {
    if (n <= 12) {
        insertion_sort(b, n, size, cmp);
        return;
    }
    size_t h = n / 2;
    merge_sort(b, tmp, h, size, cmp);
    merge_sort(b + h * size, tmp, n - h, size, cmp);
    if (cmp(b + (h - 1) * size, b + h * size) <= 0) return;
    memcpy(tmp, b, h * size);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) {
        if (cmp(tmp + i * size, b + j * size) <= 0) memcpy(b + k++ * size, tmp + i++ * size, size);
        else memcpy(b + k++ * size, b + j++ * size, size);
    }
    if (i < h) memcpy(b + k * size, tmp + i * size, (h - i) * size);
}

void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *)) {
    unsigned char *b = base;
    if (n < 2 || size == 0) return;
    unsigned char *tmp = n <= ((size_t)-1 / 2) / size ? malloc((n / 2 + 1) * size) : NULL;
    if (tmp) {
        merge_sort(b, tmp, n, size, cmp);
        free(tmp);
        return;
    }
    for (size_t i = n / 2; i-- > 0;) sift_down(b, i, n, size, cmp);
    for (size_t end = n - 1; end > 0; end--) {
        swap_bytes(b, b + end * size, size);
        sift_down(b, 0, end, size, cmp);
    }
}

void *bsearch(const void *key, const void *base, size_t n, size_t size,
              int (*cmp)(const void *, const void *)) {
    const unsigned char *b = base;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp(key, b + mid * size);
        if (c == 0) return (void *)(b + mid * size);
        if (c < 0) hi = mid;
        else lo = mid + 1;
    }
    return NULL;
}

int abs(int x) { return x < 0 ? -x : x; }
long labs(long x) { return x < 0 ? -x : x; }
long long llabs(long long x) { return x < 0 ? -x : x; }

static int digit_value(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'z') return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
    return 99;
}

/* Parses an unsigned magnitude; *neg receives the sign; saturates and sets errno on overflow. */
static unsigned long long parse_ull(const char *s, char **end, int base, int *neg) {
    const char *p = s;
    while (*p == ' ' || (*p >= '\t' && *p <= '\r')) p++;
    *neg = 0;
    if (*p == '+' || *p == '-') *neg = *p++ == '-';
    if ((base == 0 || base == 16) && p[0] == '0' && (p[1] | 32) == 'x' && digit_value(p[2]) < 16) {
        p += 2;
        base = 16;
    } else if (base == 0) {
        base = *p == '0' ? 8 : 10;
    }
    unsigned long long v = 0;
    int any = 0, over = 0;
    for (int d; (d = digit_value((unsigned char)*p)) < base; p++) {
        any = 1;
        if (v > (~0ull - (unsigned)d) / (unsigned)base) over = 1;
        else v = v * (unsigned)base + (unsigned)d;
    }
    if (end) *end = (char *)(any ? p : s);
    if (over) {
        errno = ERANGE;
        return ~0ull;
    }
    return v;
}

unsigned long long strtoull(const char *s, char **end, int base) {
    int neg;
    unsigned long long v = parse_ull(s, end, base, &neg);
    return neg ? -v : v;
}

long long strtoll(const char *s, char **end, int base) {
    int neg;
    unsigned long long v = parse_ull(s, end, base, &neg);
    if (!neg && v > (unsigned long long)INT64_MAX) { errno = ERANGE; return INT64_MAX; }
    if (neg && v > (unsigned long long)INT64_MAX + 1) { errno = ERANGE; return INT64_MIN; }
    return neg ? (long long)(0 - v) : (long long)v;
}

unsigned long strtoul(const char *s, char **end, int base) {
    unsigned long long v = strtoull(s, end, base);
    if (v > (unsigned long)-1 && (long long)v > 0) { errno = ERANGE; return (unsigned long)-1; }
    return (unsigned long)v;
}

long strtol(const char *s, char **end, int base) {
    long long v = strtoll(s, end, base);
    if (v > __LONG_MAX__) { errno = ERANGE; return __LONG_MAX__; }
    if (v < -__LONG_MAX__ - 1) { errno = ERANGE; return -__LONG_MAX__ - 1; }
    return (long)v;
}

int atoi(const char *s) { return (int)strtol(s, NULL, 10); }
long atol(const char *s) { return strtol(s, NULL, 10); }

/* Decimal to double: digits accumulated exactly into 19 significant digits, then scaled by a
 * power of ten computed in double (good to a few ulp; used for CLI/metadata text, not weights). */
double strtod(const char *s, char **end) {
    const char *p = s;
    while (*p == ' ' || (*p >= '\t' && *p <= '\r')) p++;
    int neg = 0;
    if (*p == '+' || *p == '-') neg = *p++ == '-';
    if (!strncasecmp(p, "inf", 3)) {
        p += strncasecmp(p, "infinity", 8) ? 3 : 8;
        if (end) *end = (char *)p;
        return neg ? -HUGE_VAL : HUGE_VAL;
    }
    if (!strncasecmp(p, "nan", 3)) {
        if (end) *end = (char *)(p + 3);
        return neg ? -(double)NAN : (double)NAN;
    }
    unsigned long long mant = 0;
    int nd = 0, exp10 = 0, any = 0;
    for (; *p >= '0' && *p <= '9'; p++, any = 1) {
        if (nd < 19) { mant = mant * 10 + (unsigned)(*p - '0'); if (mant) nd++; }
        else exp10++;
    }
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, any = 1) {
            if (nd < 19) { mant = mant * 10 + (unsigned)(*p - '0'); exp10--; if (mant) nd++; }
        }
    }
    if (!any) {
        if (end) *end = (char *)s;
        return 0;
    }
    if ((*p | 32) == 'e') {
        const char *q = p + 1;
        int eneg = 0, ev = 0, edig = 0;
        if (*q == '+' || *q == '-') eneg = *q++ == '-';
        for (; *q >= '0' && *q <= '9'; q++, edig = 1) if (ev < 100000) ev = ev * 10 + (*q - '0');
        if (edig) {
            exp10 += eneg ? -ev : ev;
            p = q;
        }
    }
    if (end) *end = (char *)p;
    double v = (double)mant;
    if (exp10 > 0) v *= pow(10.0, exp10 > 400 ? 400 : exp10);
    else if (exp10 < -300) v = v / 1e300 / pow(10.0, -exp10 - 300 > 400 ? 400 : -exp10 - 300);
    else if (exp10 < 0) v /= pow(10.0, -exp10);
    return neg ? -v : v;
}

float strtof(const char *s, char **end) { return (float)strtod(s, end); }
double atof(const char *s) { return strtod(s, NULL); }

char *getenv(const char *name) { (void)name; return NULL; }
_Noreturn void abort(void) { __builtin_trap(); }
_Noreturn void exit(int code) { (void)code; __builtin_trap(); }
