/* math.h — wasm-chord's freestanding libc. Float functions are evaluated in double and rounded
 * once, so they are correctly rounded in practice (as glibc's are), which keeps wasm logits
 * equal to native ones. */
#ifndef CHORD_WASM_MATH_H
#define CHORD_WASM_MATH_H
#define INFINITY (__builtin_inff())
#define NAN (__builtin_nanf(""))
#define HUGE_VAL (__builtin_huge_val())
#define HUGE_VALF (__builtin_huge_valf())
#define M_PI 3.14159265358979323846
#define M_E 2.7182818284590452354
#define M_LN2 0.69314718055994530942
#define M_SQRT2 1.41421356237309504880
#define isnan(x) __builtin_isnan(x)
#define isinf(x) __builtin_isinf(x)
#define isfinite(x) __builtin_isfinite(x)
#define signbit(x) __builtin_signbit(x)
#define fpclassify(x) __builtin_fpclassify(FP_NAN, FP_INFINITE, FP_NORMAL, FP_SUBNORMAL, FP_ZERO, x)
#define FP_NAN 0
#define FP_INFINITE 1
#define FP_ZERO 2
#define FP_SUBNORMAL 3
#define FP_NORMAL 4
typedef float float_t;
typedef double double_t;
double exp(double x); float expf(float x);
double exp2(double x); float exp2f(float x);
double expm1(double x); float expm1f(float x);
double log(double x); float logf(float x);
double log2(double x); float log2f(float x);
double log10(double x); float log10f(float x);
double pow(double x, double y); float powf(float x, float y);
double sin(double x); float sinf(float x);
double cos(double x); float cosf(float x);
void sincosf(float x, float *s, float *c);
double tan(double x); float tanf(float x);
double tanh(double x); float tanhf(float x);
double ldexp(double x, int e); float ldexpf(float x, int e);
double frexp(double x, int *e); float frexpf(float x, int *e);
double round(double x); float roundf(float x);
long lround(double x); long lroundf(float x);
static inline double sqrt(double x) { return __builtin_sqrt(x); }
static inline float sqrtf(float x) { return __builtin_sqrtf(x); }
static inline double fabs(double x) { return __builtin_fabs(x); }
static inline float fabsf(float x) { return __builtin_fabsf(x); }
static inline double floor(double x) { return __builtin_floor(x); }
static inline float floorf(float x) { return __builtin_floorf(x); }
static inline double ceil(double x) { return __builtin_ceil(x); }
static inline float ceilf(float x) { return __builtin_ceilf(x); }
static inline double trunc(double x) { return __builtin_trunc(x); }
static inline float truncf(float x) { return __builtin_truncf(x); }
static inline double rint(double x) { return __builtin_rint(x); }
static inline float rintf(float x) { return __builtin_rintf(x); }
static inline double nearbyint(double x) { return __builtin_nearbyint(x); }
static inline float nearbyintf(float x) { return __builtin_nearbyintf(x); }
static inline double fmax(double a, double b) { return __builtin_fmax(a, b); }
static inline float fmaxf(float a, float b) { return __builtin_fmaxf(a, b); }
static inline double fmin(double a, double b) { return __builtin_fmin(a, b); }
static inline float fminf(float a, float b) { return __builtin_fminf(a, b); }
static inline double copysign(double a, double b) { return __builtin_copysign(a, b); }
static inline float copysignf(float a, float b) { return __builtin_copysignf(a, b); }
static inline long lrint(double x) { return (long)__builtin_rint(x); }
static inline long lrintf(float x) { return (long)__builtin_rintf(x); }
#endif
