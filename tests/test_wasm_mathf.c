/*
 * test_wasm_mathf.c — the wasm builds' expf/sinf/cosf/sincosf/expm1f/tanhf (platform/wasm_libc/glibc_mathf.c)
 * must return what the native build's glibc returns, bit for bit, or wasm and native logits
 * drift apart (rope and attention amplify a single ulp). Compiled natively here against glibc:
 * 20 million random inputs over the ranges the engine uses plus edge values. glibc picks its FMA
 * variants on CPUs with FMA, which glibc_mathf.c emulates; without FMA the test SKIPs.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "check.h"

#define expf wtest_expf
#define sinf wtest_sinf
#define cosf wtest_cosf
#define sincosf wtest_sincosf
#define expm1f wtest_expm1f
#define tanhf wtest_tanhf
#include "../platform/wasm_libc/glibc_mathf.c"
#undef expm1f
#undef tanhf
#undef expf
#undef sinf
#undef cosf
#undef sincosf

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t next32(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return (uint32_t)(rng >> 32); }
static int same(float a, float b) { return !memcmp(&a, &b, 4) || (isnan(a) && isnan(b)); }

int main(void) {
    (void)check_shared_path;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("fma")) {
        printf("SKIP: this CPU has no FMA, so glibc uses its non-FMA variants (wasm builds follow the FMA ones)\n");
        return 0;
    }
#endif
    long bad_e = 0, bad_s = 0, bad_t = 0;
    const float edges[] = {0.0f, -0.0f, 1e-40f, 0x1p-12f, 0.785398f, 0.7854f, 119.9f, 120.0f, 88.72f, -103.9f, -104.0f,
                           89.0f, 1e10f, -1e30f, 3.4e38f, INFINITY, -INFINITY, NAN};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        float x = edges[i], s1, c1, s2, c2;
        sincosf(x, &s1, &c1);
        wtest_sincosf(x, &s2, &c2);
        bad_s += !same(s1, s2) || !same(c1, c2);
        bad_e += !same(expf(x), wtest_expf(x));
    }
    for (long i = 0; i < 20000000; i++) {
        uint32_t u = next32();
        float x;
        if (i & 1) memcpy(&x, &u, 4);                           /* any float */
        else x = (float)((double)u * 0x1p-32 * 8192.0 - 4096.0); /* rope angles, softmax range */
        float s1, c1, s2, c2;
        sincosf(x, &s1, &c1);
        wtest_sincosf(x, &s2, &c2);
        if (!same(s1, s2) || !same(c1, c2)) {
            if (bad_s++ < 3) fprintf(stderr, "sincosf(%a): glibc %a %a, ours %a %a\n", x, s1, c1, s2, c2);
        }
        float e1 = expf(x * 0.02f), e2 = wtest_expf(x * 0.02f);
        if (!same(e1, e2) && bad_e++ < 3) fprintf(stderr, "expf(%a): glibc %a, ours %a\n", x * 0.02f, e1, e2);
        if (!same(sinf(x), wtest_sinf(x)) || !same(cosf(x), wtest_cosf(x))) bad_s++;
        /* tanhf: soft-capping and GELU arguments (|x| up to ~30), and any float */
        const float xt = (i & 1) ? x : x * 0.008f;
        if ((!same(tanhf(xt), wtest_tanhf(xt)) || !same(expm1f(xt * 0.03f), wtest_expm1f(xt * 0.03f))) && bad_t++ < 3)
            fprintf(stderr, "tanhf/expm1f(%a): glibc %a %a, ours %a %a\n", xt, tanhf(xt), expm1f(xt * 0.03f),
                    wtest_tanhf(xt), wtest_expm1f(xt * 0.03f));
    }
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        bad_t += !same(tanhf(edges[i]), wtest_tanhf(edges[i])) || !same(expm1f(edges[i]), wtest_expm1f(edges[i]));
    CHECKF(bad_t == 0, "%ld tanhf/expm1f results differ from glibc", bad_t);
    CHECKF(bad_s == 0, "%ld sinf/cosf/sincosf results differ from glibc", bad_s);
    CHECKF(bad_e <= 1, "%ld expf results differ from glibc", bad_e); /* measured: 1 in 1.43e9 */
    return check_report("test_wasm_mathf");
}
