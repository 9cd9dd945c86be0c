/*
 * x86_tile_pass.h — template: the driver of a Q8_0 prompt tile (x86_tile_q8.h's ymm tile,
 * avx512vnni_q8.c's zmm tile): weight rows TP_RG at a time with their scales converted once, each
 * pass walking the token groups and calling the register-blocked kernel with constant row and
 * token counts. The includer defines TP_PASS and TP_RUN (the two functions' names), TP_TILE (the
 * kernel: (nb, xb, xs, dxf, nr, yb, ys, nt, out, os), nr <= TP_R and nt <= TP_T constants after
 * inlining), TP_R, TP_T, TP_RG and TP_NBMAX (the scale scratch's blocks per row); each inclusion
 * defines the two functions and undefines the parameters.
 */
/* One pass of the token groups over rg (<= TP_RG) weight rows whose scales are in dxf. Meanwhile
 * the TP_RG rows after these (the next pass's, or the next call's: ops.c walks a matrix's rows in
 * order) are prefetched into L2, a slice per token group: a matrix streams from memory once per
 * prompt, and without this the next pass's scale conversion waited for each line (15% of the
 * tile time with the 2048 x 16384 matrix of a microbenchmark). Prefetches never fault, so running
 * past the matrix's end is harmless. */
static void TP_PASS(int64_t nb, const uint8_t *xb, uint64_t xs, const float *dxf, int rg,
                                       const uint8_t *yb, uint64_t ys, int ny, float *out, uint64_t os) {
    const uint8_t *pf = xb + (uint64_t)rg * xs;
    const uint64_t pf_bytes = (uint64_t)TP_RG * xs;
    const int groups = (ny + TP_T - 1) / TP_T;
    const uint64_t pf_step = (pf_bytes / (uint64_t)groups + 63) & ~(uint64_t)63;
    uint64_t pf_done = 0;
    for (int t0 = 0; t0 < ny; t0 += TP_T) {
        for (uint64_t e = pf_done + pf_step; pf_done < e && pf_done < pf_bytes; pf_done += 64)
            _mm_prefetch((const char *)(pf + pf_done), _MM_HINT_T1);
        const int nt = ny - t0 < TP_T ? ny - t0 : TP_T;
        const uint8_t *y = yb + (uint64_t)t0 * ys;
        float *o = out + (uint64_t)t0 * os;
        int r = 0;
#define TP_CALL(NR, NT) TP_TILE(nb, xb + (uint64_t)r * xs, xs, dxf + r * TP_NBMAX, NR, y, ys, NT, o + r, os)
#define TP_CALLS(NR)                                                                               \
        switch (nt) {                                                                              \
        case 8: if (TP_T >= 8) TP_CALL(NR, 8 <= TP_T ? 8 : 1); break;                              \
        case 7: if (TP_T >= 7) TP_CALL(NR, 7 <= TP_T ? 7 : 1); break;                              \
        case 6: if (TP_T >= 6) TP_CALL(NR, 6 <= TP_T ? 6 : 1); break;                              \
        case 5: if (TP_T >= 5) TP_CALL(NR, 5 <= TP_T ? 5 : 1); break;                              \
        case 4: if (TP_T >= 4) TP_CALL(NR, 4 <= TP_T ? 4 : 1); break;                              \
        case 3: if (TP_T >= 3) TP_CALL(NR, 3 <= TP_T ? 3 : 1); break;                              \
        case 2: TP_CALL(NR, 2); break;                                                             \
        default: TP_CALL(NR, 1); break;                                                            \
        }
        for (; r + TP_R <= rg; r += TP_R) TP_CALLS(TP_R);
        switch (rg - r) {
        case 3: if (TP_R > 3) TP_CALLS(3 < TP_R ? 3 : 1); break;
        case 2: if (TP_R > 2) TP_CALLS(2 < TP_R ? 2 : 1); break;
        case 1: TP_CALLS(1); break;
        default: break;
        }
#undef TP_CALLS
#undef TP_CALL
    }
}

/* Every weight row: TP_RG at a time, their fp16 scales converted to floats once for all passes
 * (nb <= TP_NBMAX; the includer's entry point takes longer rows another way). */
static void TP_RUN(int64_t nb, const uint8_t *xb, uint64_t xs, int nx, const uint8_t *yb, uint64_t ys, int ny,
                   float *out, uint64_t os) {
    float dxf[TP_RG * TP_NBMAX];
    for (int r0 = 0; r0 < nx; r0 += TP_RG) {
        const int rg = nx - r0 < TP_RG ? nx - r0 : TP_RG;
        for (int r = 0; r < rg; r++) {
            const chord_block_q8_0 *b = (const chord_block_q8_0 *)(xb + (uint64_t)(r0 + r) * xs);
            for (int64_t i = 0; i < nb; i++) dxf[r * TP_NBMAX + i] = H2F(b[i].d);
        }
        TP_PASS(nb, xb + (uint64_t)r0 * xs, xs, dxf, rg, yb, ys, ny, out + r0, os);
    }
}

#undef TP_PASS
#undef TP_RUN
#undef TP_TILE
#undef TP_R
#undef TP_T
#undef TP_RG
#undef TP_NBMAX
