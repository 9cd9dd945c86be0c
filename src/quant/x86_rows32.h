/*
 * x86_rows32.h — template: one weight row of a 32-element block type against nr activation rows
 * (nr <= 4, a constant after inlining), in the canonical order of ref.c (acc32): per row, even
 * and odd blocks go to two accumulators of 8 float lanes (R32_STEP: a multiply, then an add, never
 * fused) and the min terms are summed in block order, exactly as for a single row (nr = 1 is the
 * single-row kernel), so every result is bit-identical to the scalar reference; the weight block
 * is loaded and unpacked once for all rows.
 *
 * The includer defines R32_NAME (the function's return type, attributes and name, e.g.
 * `void rows_q4_0`), R32_TX / R32_TY (weight / activation block types), R32_STEP(x, y, acc)
 * (one block into an accumulator) and, for the *_1 types only, R32_MIN(x, y) (the block's min
 * term; without it the result is the lane sum plus 0, as ref.c's, and no scalar add chain runs).
 * R32_MAXR (default 4) bounds nr. Each inclusion defines one kernel and undefines the parameters.
 */
#ifndef R32_MAXR
#define R32_MAXR 4
#endif
    static inline __attribute__((always_inline)) R32_NAME(int64_t n, const R32_TX *x,
            const uint8_t *yb, uint64_t ys, const int nr, float *out) {
        const int64_t nb = n / 32;
        __m256 acc0[R32_MAXR], acc1[R32_MAXR];
        float summs[R32_MAXR];
        UNROLL
        for (int r = 0; r < nr; r++) {
            acc0[r] = _mm256_setzero_ps(); acc1[r] = _mm256_setzero_ps(); summs[r] = 0;
        }
        int64_t i = 0;
        for (; i + 2 <= nb; i += 2) {
            UNROLL
            for (int r = 0; r < nr; r++) {
                const R32_TY *y = (const R32_TY *)(yb + (uint64_t)r * ys);
                acc0[r] = R32_STEP(&x[i], &y[i], acc0[r]);
                acc1[r] = R32_STEP(&x[i + 1], &y[i + 1], acc1[r]);
#ifdef R32_MIN
                /* separate statements: clang contracts a + b * c within one */
                const float m0 = R32_MIN(x[i], y[i]), m1 = R32_MIN(x[i + 1], y[i + 1]);
                summs[r] = summs[r] + m0;
                summs[r] = summs[r] + m1;
#endif
            }
        }
        for (; i < nb; i++) {
            UNROLL
            for (int r = 0; r < nr; r++) {
                const R32_TY *y = (const R32_TY *)(yb + (uint64_t)r * ys);
                acc0[r] = R32_STEP(&x[i], &y[i], acc0[r]);
#ifdef R32_MIN
                const float m0 = R32_MIN(x[i], y[i]);
                summs[r] = summs[r] + m0;
#endif
            }
        }
        UNROLL
        for (int r = 0; r < nr; r++) out[r] = hsum_ps(_mm256_add_ps(acc0[r], acc1[r])) + summs[r];
    }

#undef R32_NAME
#undef R32_TX
#undef R32_TY
#undef R32_STEP
#undef R32_MIN
#undef R32_MAXR
