/*
 * math.c — elementary functions for the freestanding wasm builds (wasm64 has no libm at all).
 *
 * Why double inside: every float function is computed in double with ~1 ulp (double) error and
 * rounded once to float, so the float result is the correctly rounded one except when the true
 * value lies within ~1e-16 (relative) of a rounding boundary. glibc's float functions, used by
 * the native build, are also within ~0.5 ulp, so native and wasm logits agree bit for bit in
 * almost every call — that is what keeps greedy tokens identical across targets.
 *
 * Methods: exp — k·ln2 reduction (Cody–Waite split ln2) and a degree-13 Taylor polynomial;
 * log — m in [√½, √2), 2·atanh(f/(2+f)) series; sin/cos — x − k·π/2 with a three-part π/2
 * (exact for |x| < 2^20·π/2 ≈ 1.6e6; beyond that accuracy degrades), then Taylor kernels on
 * |r| ≤ π/4; pow via exp(y·log x) in double (fine for the float version; the double version is
 * a few ulp off for large |y·log x|).
 */
#include <math.h>
#include <stdint.h>

static uint64_t bits(double x) { union { double f; uint64_t u; } v = {x}; return v.u; }
static double from_bits(uint64_t u) { union { uint64_t u; double f; } v = {u}; return v.f; }

static const double LN2_HI = 6.93147180369123816490e-01; /* 33 significant bits */
static const double LN2_LO = 1.90821492927058770002e-10;
static const double INV_LN2 = 1.44269504088896338700e+00;

double ldexp(double x, int e) {
    if (x == 0 || !__builtin_isfinite(x)) return x;
    while (e > 1023) { x *= 0x1p1023; e -= 1023; if (__builtin_isinf(x)) return x; }
    while (e < -1022) { x *= 0x1p-1022; e += 1022; if (x == 0) return x; }
    return x * from_bits((uint64_t)(e + 1023) << 52);
}
float ldexpf(float x, int e) { return (float)ldexp(x, e); }

double frexp(double x, int *e) {
    *e = 0;
    if (x == 0 || !__builtin_isfinite(x)) return x;
    int sub = 0;
    if (__builtin_fabs(x) < 0x1p-1022) { x *= 0x1p64; sub = 64; }
    uint64_t u = bits(x);
    *e = (int)((u >> 52) & 0x7ff) - 1022 - sub;
    return from_bits((u & ~(0x7ffull << 52)) | (1022ull << 52));
}
float frexpf(float x, int *e) { return (float)frexp(x, e); }

/* e^r for |r| <= ~0.35 */
static double exp_kernel(double r) {
    double p = 1.0 / 6227020800.0; /* 1/13! */
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    return r + r * r * p; /* e^r - 1 */
}

double expm1(double x) {
    if (__builtin_isnan(x)) return x;
    if (__builtin_fabs(x) < 0.34) return exp_kernel(x);
    return exp(x) - 1.0;
}
/* expm1f: glibc_mathf.c (glibc's bits) */

double exp(double x) {
    if (__builtin_isnan(x)) return x;
    if (x > 709.782712893384) return HUGE_VAL;
    if (x < -745.1332191019412) return 0;
    double k = __builtin_nearbyint(x * INV_LN2);
    double r = (x - k * LN2_HI) - k * LN2_LO;
    return ldexp(1.0 + exp_kernel(r), (int)k);
}
/* expf, sinf, cosf, sincosf: glibc_mathf.c (shared with the WASI build). */
double exp2(double x) {
    if (__builtin_isnan(x)) return x;
    double k = __builtin_nearbyint(x);
    if (k > 1100) return HUGE_VAL;
    if (k < -1100) return 0;
    return ldexp(exp((x - k) * M_LN2), (int)k);
}
float exp2f(float x) { return (float)exp2(x); }

double log(double x) {
    if (__builtin_isnan(x) || x < 0) return NAN;
    if (x == 0) return -HUGE_VAL;
    if (__builtin_isinf(x)) return x;
    int e;
    double m = frexp(x, &e) * 2.0; /* [1, 2) */
    e -= 1;
    if (m > M_SQRT2) { m *= 0.5; e++; }
    double f = m - 1.0, s = f / (2.0 + f), s2 = s * s;
    double p = 1.0 / 23;
    for (int i = 21; i >= 3; i -= 2) p = p * s2 + 1.0 / i;
    double hf = 0.5 * f * f, R = 2.0 * s2 * p, dk = (double)e; /* fdlibm's arrangement */
    return dk * LN2_HI - ((hf - (s * (hf + R) + dk * LN2_LO)) - f);
}
float logf(float x) { return (float)log(x); }
double log2(double x) { return log(x) * 1.44269504088896340736; }
float log2f(float x) { return (float)log2(x); }
double log10(double x) { return log(x) * 0.434294481903251827651; }
float log10f(float x) { return (float)log10(x); }

double pow(double x, double y) {
    if (y == 0) return 1.0;
    if (x == 1.0) return 1.0;
    if (__builtin_isnan(x) || __builtin_isnan(y)) return NAN;
    int y_int = __builtin_trunc(y) == y;
    int y_odd = y_int && __builtin_fabs(y) < 0x1p53 && ((int64_t)y & 1);
    if (x == 0) {
        if (y < 0) return y_odd ? copysign(HUGE_VAL, x) : HUGE_VAL;
        return y_odd ? x : 0.0;
    }
    if (__builtin_isinf(y)) {
        double ax = __builtin_fabs(x);
        if (ax == 1) return 1.0;
        return (ax > 1) == (y > 0) ? HUGE_VAL : 0.0;
    }
    double sign = 1.0;
    if (x < 0) {
        if (!y_int) return NAN;
        if (y_odd) sign = -1.0;
        x = -x;
    }
    if (__builtin_isinf(x)) return y > 0 ? sign * HUGE_VAL : sign * 0.0;
    return sign * exp(y * log(x));
}
float powf(float x, float y) { return (float)pow(x, y); }

/* sin/cos of |r| <= pi/4 */
static double sin_kernel(double r) {
    double r2 = r * r, p = -1.0 / 355687428096000.0; /* -1/17! */
    p = p * r2 + 1.0 / 1307674368000.0;
    p = p * r2 - 1.0 / 6227020800.0;
    p = p * r2 + 1.0 / 39916800.0;
    p = p * r2 - 1.0 / 362880.0;
    p = p * r2 + 1.0 / 5040.0;
    p = p * r2 - 1.0 / 120.0;
    p = p * r2 + 1.0 / 6.0;
    return r - r * r2 * p;
}
static double cos_kernel(double r) {
    double r2 = r * r, p = 1.0 / 6402373705728000.0; /* 1/18! */
    p = p * r2 - 1.0 / 20922789888000.0;
    p = p * r2 + 1.0 / 87178291200.0;
    p = p * r2 - 1.0 / 479001600.0;
    p = p * r2 + 1.0 / 3628800.0;
    p = p * r2 - 1.0 / 40320.0;
    p = p * r2 + 1.0 / 720.0;
    p = p * r2 - 1.0 / 24.0;
    double hr = 0.5 * r2, w = 1.0 - hr;
    return w + (((1.0 - w) - hr) + r2 * r2 * -p);
}

/* r = x - k*pi/2 with k returned mod 4 */
static int reduce_pio2(double x, double *r) {
    static const double P1 = 1.57079632673412561417e+00, P2 = 6.07710050630396597660e-11,
                        P3 = 2.02226624871116645580e-21, INV_PIO2 = 6.36619772367581382433e-01;
    if (__builtin_fabs(x) <= 0.7853981633974483) { *r = x; return 0; }
    double k = __builtin_nearbyint(x * INV_PIO2);
    *r = ((x - k * P1) - k * P2) - k * P3;
    return (int)((int64_t)k & 3);
}

double sin(double x) {
    if (!__builtin_isfinite(x)) return NAN;
    double r;
    switch (reduce_pio2(x, &r)) {
    case 0: return sin_kernel(r);
    case 1: return cos_kernel(r);
    case 2: return -sin_kernel(r);
    default: return -cos_kernel(r);
    }
}
double cos(double x) {
    if (!__builtin_isfinite(x)) return NAN;
    double r;
    switch (reduce_pio2(x, &r)) {
    case 0: return cos_kernel(r);
    case 1: return -sin_kernel(r);
    case 2: return -cos_kernel(r);
    default: return sin_kernel(r);
    }
}
double tan(double x) { return sin(x) / cos(x); }
float tanf(float x) { return (float)tan(x); }

double tanh(double x) {
    if (__builtin_isnan(x)) return x;
    double a = __builtin_fabs(x), t;
    if (a > 22) t = 1.0;
    else {
        double e = expm1(2 * a);
        t = e / (e + 2.0);
    }
    return x < 0 ? -t : t;
}
/* tanhf: glibc_mathf.c (glibc's bits) */

double round(double x) {
    double t = __builtin_trunc(x);
    if (__builtin_fabs(x - t) >= 0.5) t += x < 0 ? -1.0 : 1.0;
    return t;
}
float roundf(float x) {
    float t = __builtin_truncf(x);
    if (__builtin_fabsf(x - t) >= 0.5f) t += x < 0 ? -1.0f : 1.0f;
    return t;
}
long lround(double x) { return (long)round(x); }
long lroundf(float x) { return (long)roundf(x); }
