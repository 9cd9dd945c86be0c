/*
 * simd128_plain.h — the primitives of simd128.c for plain simd128 (Node, Firefox, Safari and
 * wasm64 today): fused multiply-add emulated in double (only the F32/F16 dots use it), integer
 * dots by widening to i16.
 * simd128_relaxed.h defines the same names for the relaxed build; simd128.c includes exactly
 * one, so the kernels themselves carry no build conditionals. Included only by simd128.c.
 */
/* chord_dot_q8_0_simd128 converts 4 blocks' scales at once (see there) */
#define Q8_BATCH_SCALES 0
#define SIMD128_ISA_NAME "wasm-simd128"
/* dot_k45 (simd128_k.c) as one function that Q4_K and Q5_K call with `five` a run-time flag: clang
 * inlined it into both once the FMA emulation was gone, and V8 ran those two copies slower (Node 20,
 * 4096 x 1024 matvec, interleaved, load 4.5: Q4_K 4.48 -> 5.83 GB/s, Q5_K 3.70 -> 5.38 shared; the
 * build with the emulated FMA, where clang did not inline it, 4.99 / 4.74). */
#define K45_DOT_ATTR __attribute__((noinline))
/* k45_wrows' sub-block loop stays rolled here: unrolled (as in the relaxed build) Node 20's
 * Q4_K_M decode fell at 1 thread from 5.46-5.66 to 2.78-4.34 tok/s and at 2 threads from
 * 9.0-10.1 to 7.4-7.5 (2 interleaved pairs, Zen 3, 2026-12-04). */
#define K45_WROWS_UNROLL 0

/* a*b + c per lane with one rounding to float (see simd128.c's header): the product of two
 * floats is exact in double, so one double add and one rounding to float equal the fused
 * result except on a double-rounding midpoint. */
static inline v128_t fma4(v128_t a, v128_t b, v128_t c) {
    const v128_t lo = wasm_f64x2_add(wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(a), wasm_f64x2_promote_low_f32x4(b)),
                                     wasm_f64x2_promote_low_f32x4(c));
    const v128_t ah = wasm_i32x4_shuffle(a, a, 2, 3, 2, 3), bh = wasm_i32x4_shuffle(b, b, 2, 3, 2, 3);
    const v128_t ch = wasm_i32x4_shuffle(c, c, 2, 3, 2, 3);
    const v128_t hi = wasm_f64x2_add(wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(ah), wasm_f64x2_promote_low_f32x4(bh)),
                                     wasm_f64x2_promote_low_f32x4(ch));
    return wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(lo), wasm_f32x4_demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/* 16 signed bytes x times 16 signed bytes y → 4 int32 lanes, lane k = Σ bytes 4k..4k+3. Split
 * in two so that a multi-row kernel widens x once for several y: i8_prep(x), dot4_i8_p(p, y). */
typedef struct { v128_t lo, hi; } i8_prep;
static inline i8_prep i8_prep_of(v128_t x) {
    return (i8_prep){ wasm_i16x8_extend_low_i8x16(x), wasm_i16x8_extend_high_i8x16(x) };
}
static inline v128_t dot4_i8_p(i8_prep p, v128_t y) {
    const v128_t lo = wasm_i32x4_dot_i16x8(p.lo, wasm_i16x8_extend_low_i8x16(y));
    const v128_t hi = wasm_i32x4_dot_i16x8(p.hi, wasm_i16x8_extend_high_i8x16(y));
    return wasm_i32x4_add(wasm_i32x4_shuffle(lo, hi, 0, 2, 4, 6), wasm_i32x4_shuffle(lo, hi, 1, 3, 5, 7));
}
static inline v128_t dot4_i8(v128_t x, v128_t y) { return dot4_i8_p(i8_prep_of(x), y); }

/* Unsigned bytes u (< 128) times signed bytes y, grouped as dot4_i8. */
static inline v128_t dot4_u8(v128_t u, v128_t y) {
    const v128_t lo = wasm_i32x4_dot_i16x8(wasm_u16x8_extend_low_u8x16(u), wasm_i16x8_extend_low_i8x16(y));
    const v128_t hi = wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(u), wasm_i16x8_extend_high_i8x16(y));
    return wasm_i32x4_add(wasm_i32x4_shuffle(lo, hi, 0, 2, 4, 6), wasm_i32x4_shuffle(lo, hi, 1, 3, 5, 7));
}

/* The Q4_K/Q5_K integer accumulator (see simd128.c): i16 products (≤ 63·128) via extmul, dot
 * with the scale gives sc × (2-byte sums) in two "pair" accumulators per half; their adjacent
 * lanes are added into 4-byte lanes once per block instead of once per 16 bytes. */
typedef struct {
    v128_t lo_a, lo_b, hi_a, hi_b; /* pair sums of bytes 0..7 / 8..15 of each 16-byte half */
} kacc;

static inline kacc kacc_zero(void) {
    const v128_t z = wasm_i32x4_splat(0);
    return (kacc){ z, z, z, z };
}

/* sc_lo × (levels q0 · y[0..15]) + sc_hi × (q1 · y[16..31]); sc_* are i16 splats, levels < 64. */
/* kacc_add_v: the same with y[0..15] | y[16..31] already loaded (y0, y1), so that the
 * multi-weight-row decode kernels load each activation vector once for all their rows. Widening
 * the levels to i16 instead and multiplying by the activations widened once for the 4 rows (as
 * Q4_K does) was tried for Q6_K: q6_K_w4's samples relative to q4_K_w4's fell 2-9% (Node 20,
 * 2 pairs, 1 thread, V8 --prof), ~1% of decode, not kept (2026-12-04). */
static inline kacc kacc_add_v(kacc a, v128_t q0, v128_t q1, v128_t y0, v128_t y1, v128_t sc_lo, v128_t sc_hi) {
    a.lo_a = wasm_i32x4_add(a.lo_a, wasm_i32x4_dot_i16x8(wasm_i16x8_extmul_low_i8x16(q0, y0), sc_lo));
    a.lo_b = wasm_i32x4_add(a.lo_b, wasm_i32x4_dot_i16x8(wasm_i16x8_extmul_high_i8x16(q0, y0), sc_lo));
    a.hi_a = wasm_i32x4_add(a.hi_a, wasm_i32x4_dot_i16x8(wasm_i16x8_extmul_low_i8x16(q1, y1), sc_hi));
    a.hi_b = wasm_i32x4_add(a.hi_b, wasm_i32x4_dot_i16x8(wasm_i16x8_extmul_high_i8x16(q1, y1), sc_hi));
    return a;
}
static inline kacc kacc_add(kacc a, v128_t q0, v128_t q1, const int8_t *y, v128_t sc_lo, v128_t sc_hi) {
    return kacc_add_v(a, q0, q1, wasm_v128_load(y), wasm_v128_load(y + 16), sc_lo, sc_hi);
}

/* kacc_add with the levels already widened to i16: q[0..1] = bytes 0..7 | 8..15 of the first
 * 16, q[2..3] of the second 16. */
static inline kacc kacc_add16_v(kacc a, const v128_t *q, v128_t y0, v128_t y1, v128_t sc_lo, v128_t sc_hi) {
    a.lo_a = wasm_i32x4_add(a.lo_a, wasm_i32x4_dot_i16x8(wasm_i16x8_mul(q[0], wasm_i16x8_extend_low_i8x16(y0)), sc_lo));
    a.lo_b = wasm_i32x4_add(a.lo_b, wasm_i32x4_dot_i16x8(wasm_i16x8_mul(q[1], wasm_i16x8_extend_high_i8x16(y0)), sc_lo));
    a.hi_a = wasm_i32x4_add(a.hi_a, wasm_i32x4_dot_i16x8(wasm_i16x8_mul(q[2], wasm_i16x8_extend_low_i8x16(y1)), sc_hi));
    a.hi_b = wasm_i32x4_add(a.hi_b, wasm_i32x4_dot_i16x8(wasm_i16x8_mul(q[3], wasm_i16x8_extend_high_i8x16(y1)), sc_hi));
    return a;
}
static inline kacc kacc_add16(kacc a, const v128_t *q, const int8_t *y, v128_t sc_lo, v128_t sc_hi) {
    return kacc_add16_v(a, q, wasm_v128_load(y), wasm_v128_load(y + 16), sc_lo, sc_hi);
}

static inline v8i kacc_get(kacc a) { return (v8i){ pair_sum(a.lo_a, a.lo_b), pair_sum(a.hi_a, a.hi_b) }; }

/* The prompt-batch (rows) kernels' weight step, prepared once for all activation rows: 32
 * levels widened to i16 and multiplied by their sub-block scale (|level·scale| ≤ 63·128 fits
 * i16), so that each activation row then costs one i32x4.dot_i16x8 and one add per 8 elements
 * (kacc_pre) instead of an i16 multiply more (kacc_add16) or an i8 extmul (kacc_add). The
 * exact integer pair sums are the same: dot(q·sc, y) = sc·q0·y0 + sc·q1·y1 = dot(q·y, sc).
 * Widening the activations to i16 once per token instead (a 548-byte packed Q8_K block, so that
 * each 8-element step is a load and a dot) was built and measured slower: Node 20, TinyLlama
 * Q4_K_M prefill at 1 thread, 2 interleaved rounds on Zen 3, 8.1 / 6.8 -> 6.4 / 5.5 tok/s (the
 * doubled activation rows of an 8-token group no longer fit L1). */
typedef struct { v128_t w[4]; } kpre;
static inline kpre kpre_of16(const v128_t *q, v128_t sc_lo, v128_t sc_hi) {
    return (kpre){ { wasm_i16x8_mul(q[0], sc_lo), wasm_i16x8_mul(q[1], sc_lo),
                     wasm_i16x8_mul(q[2], sc_hi), wasm_i16x8_mul(q[3], sc_hi) } };
}
static inline kpre kpre_of8(v128_t q0, v128_t q1, v128_t sc_lo, v128_t sc_hi) {
    const v128_t q[4] = { wasm_i16x8_extend_low_i8x16(q0), wasm_i16x8_extend_high_i8x16(q0),
                          wasm_i16x8_extend_low_i8x16(q1), wasm_i16x8_extend_high_i8x16(q1) };
    return kpre_of16(q, sc_lo, sc_hi);
}
static inline kacc kacc_pre(kacc a, const kpre *p, const int8_t *y) {
    const v128_t y0 = wasm_v128_load(y), y1 = wasm_v128_load(y + 16);
    a.lo_a = wasm_i32x4_add(a.lo_a, wasm_i32x4_dot_i16x8(p->w[0], wasm_i16x8_extend_low_i8x16(y0)));
    a.lo_b = wasm_i32x4_add(a.lo_b, wasm_i32x4_dot_i16x8(p->w[1], wasm_i16x8_extend_high_i8x16(y0)));
    a.hi_a = wasm_i32x4_add(a.hi_a, wasm_i32x4_dot_i16x8(p->w[2], wasm_i16x8_extend_low_i8x16(y1)));
    a.hi_b = wasm_i32x4_add(a.hi_b, wasm_i32x4_dot_i16x8(p->w[3], wasm_i16x8_extend_high_i8x16(y1)));
    return a;
}

/* Q5_K's high bits of one block widened to i16 once, consumed two bits per 64-element step. */
typedef struct { v128_t w[4]; } k45_high;
static inline k45_high k45_high_init(v128_t h0, v128_t h1) {
    return (k45_high){ { wasm_u16x8_extend_low_u8x16(h0), wasm_u16x8_extend_high_u8x16(h0),
                         wasm_u16x8_extend_low_u8x16(h1), wasm_u16x8_extend_high_u8x16(h1) } };
}

/* One 64-element step of dot_k45 (see simd128_relaxed.h): the packed bytes are widened once and
 * both nibbles come out of the same i16 lanes (i16 shifts are native on x86, i8x16 ones not).
 * Split into levels (k45_levels) and products (k45_acc) for the multi-row kernels. */
typedef struct { v128_t lo[4], up[4]; } k45_lv;
static inline k45_lv k45_levels(k45_high *h, v128_t b0, v128_t b1, int five) {
    const v128_t m4w = wasm_i16x8_splat(0x0f), onew = wasm_i16x8_splat(1);
    const v128_t e[4] = { wasm_u16x8_extend_low_u8x16(b0), wasm_u16x8_extend_high_u8x16(b0),
                          wasm_u16x8_extend_low_u8x16(b1), wasm_u16x8_extend_high_u8x16(b1) };
    k45_lv v;
    for (int k = 0; k < 4; k++) {
        v.lo[k] = wasm_v128_and(e[k], m4w);
        v.up[k] = wasm_u16x8_shr(e[k], 4);
        if (five) {
            v.lo[k] = wasm_v128_or(v.lo[k], wasm_i16x8_shl(wasm_v128_and(h->w[k], onew), 4));
            v.up[k] = wasm_v128_or(v.up[k], wasm_i16x8_shl(wasm_v128_and(wasm_u16x8_shr(h->w[k], 1), onew), 4));
            h->w[k] = wasm_u16x8_shr(h->w[k], 2);
        }
    }
    return v;
}
static inline kacc k45_acc(kacc s, const k45_lv *v, const int8_t *q8, v128_t sl, v128_t su) {
    s = kacc_add16(s, v->lo, q8, sl, sl);
    s = kacc_add16(s, v->up, q8 + 32, su, su);
    return s;
}
/* k45_acc with the step's 64 activation bytes already loaded (y[0..3]) */
static inline kacc k45_acc_v(kacc s, const k45_lv *v, const v128_t *y, v128_t sl, v128_t su) {
    s = kacc_add16_v(s, v->lo, y[0], y[1], sl, sl);
    s = kacc_add16_v(s, v->up, y[2], y[3], su, su);
    return s;
}
/* k45_acc for the rows kernels: the step's levels scaled once (k45_pre), then per activation row
 * two kacc_pre. */
typedef struct { kpre lo, up; } k45_pv;
static inline k45_pv k45_pre(const k45_lv *v, v128_t sl, v128_t su) {
    return (k45_pv){ kpre_of16(v->lo, sl, sl), kpre_of16(v->up, su, su) };
}
static inline kacc k45_acc_pre(kacc s, const k45_pv *p, const int8_t *q8) {
    s = kacc_pre(s, &p->lo, q8);
    return kacc_pre(s, &p->up, q8 + 32);
}
static inline kacc k45_step(kacc s, k45_high *h, v128_t b0, v128_t b1, const int8_t *q8, v128_t sl, v128_t su,
                            int five) {
    const k45_lv v = k45_levels(h, b0, b1, five);
    return k45_acc(s, &v, q8, sl, su);
}
