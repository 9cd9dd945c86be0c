/*
 * simd128_relaxed.h — the primitives of simd128.c for the relaxed-SIMD build (-mrelaxed-simd,
 * Chromium): fused multiply-add by f32x4.relaxed_madd (only the F32/F16 dots use it; the block
 * types multiply and then add) and integer dots by relaxed_dot_i8x16_i7x16.
 * simd128_plain.h defines the same names for plain simd128; simd128.c includes exactly one, so
 * the kernels themselves carry no build conditionals. Included only by simd128.c.
 */
/* chord_dot_q8_0_simd128 converts 4 blocks' scales at once (see there) */
#define Q8_BATCH_SCALES 1
#define SIMD128_ISA_NAME "wasm-relaxed-simd"
/* dot_k45 inlined into the Q4_K and Q5_K kernels, as clang always did in this build (see
 * simd128_plain.h for why the plain build keeps one copy). */
#define K45_DOT_ATTR inline
/* k45_wrows' 4 sub-block steps unrolled (simd128_k.c): the rolled loop left 27% of the Q4_K
 * 4-row kernel's samples on its header in Chromium wasm32 (two vector spills and V8's loop
 * interrupt check) against 0.5% in wasm64; unrolled, 1-thread Q4_K_M decode went 6.24 -> 7.02
 * tok/s in wasm32 and 6.72 -> 7.67 in wasm64 (means of 4 interleaved runs, load ~1.5; a second
 * round of 5 pairs, wasm32 6.37 -> 7.95). Not kept where it was also tried: Q6_K's 4-row kernel
 * (even) and the Q4_K prompt kernel k45_rows (wasm32 prefill 11.04 -> 10.17 tok/s, wasm64 even;
 * Node 20, this build, 1 thread: 13.7 / 13.5 -> 11.8 / 10.8, 2 interleaved pairs).
 * Node 20 (V8 11.3) runs the rolled loop faster, so this build also has rolled entries that the
 * host selects there (chord_simd128_set_tuning). */
#define K45_WROWS_UNROLL 1

/* a*b + c per lane with one rounding to float (see simd128.c's header): f32x4.relaxed_madd,
 * which Chromium fuses on CPUs with FMA (x86-64 FMA3, arm64) — the CPUs whose native build
 * uses FMA too — and which is twice as fast as the plain build's emulation. */
static inline v128_t fma4(v128_t a, v128_t b, v128_t c) { return wasm_f32x4_relaxed_madd(a, b, c); }

/* 16 signed bytes x times 16 signed bytes y → 4 int32 lanes, lane k = Σ bytes 4k..4k+3.
 * x = pos - neg with pos = max(x, 0) and neg = pos - x = max(-x, 0), both valid i7 (our quantizers never
 * write -128), so x·y = pos·y - neg·y: two i16x8.relaxed_dot (pmaddubsw on x86), an exact i16
 * difference (it equals x's own pair sum, |.| ≤ 2·127·127) and one pairwise widening add. Split
 * in two so that a multi-row kernel prepares x once for several y: i8_prep(x), dot4_i8_p(p, y).
 * Against giving y x's sign and one i32x4.relaxed_dot (neg, bitselect, dot: 3 more instructions
 * per 16 bytes of y on x86): Q8_0 +9% single-row, +25% 4-row in Chromium, interleaved A/B. */
typedef struct { v128_t pos, neg; } i8_prep;
static inline i8_prep i8_prep_of(v128_t x) {
    const v128_t pos = wasm_i8x16_max(x, wasm_i8x16_splat(0));
    return (i8_prep){ pos, wasm_i8x16_sub(pos, x) };
}
static inline v128_t dot4_i8_p(i8_prep p, v128_t y) {
    const v128_t d = wasm_i16x8_sub(wasm_i16x8_relaxed_dot_i8x16_i7x16(y, p.pos), wasm_i16x8_relaxed_dot_i8x16_i7x16(y, p.neg));
    return wasm_i32x4_extadd_pairwise_i16x8(d);
}
static inline v128_t dot4_i8(v128_t x, v128_t y) { return dot4_i8_p(i8_prep_of(x), y); }

/* Unsigned bytes u (< 128) times signed bytes y, grouped as dot4_i8: i16x8.relaxed_dot (pair
 * sums ≤ 2·127·128 never saturate) and one pairwise widening add, the same two instructions that
 * V8 emits for i32x4.relaxed_dot_i8x16_i7x16_add with a zero accumulator on CPUs without VNNI.
 * Not that instruction: Node 20's baseline compiler (Liftoff, V8 11.3) computes it wrongly (the
 * accumulator register is overwritten: 2× with a zero one, garbage in a loop), and every function
 * runs in Liftoff before it tiers up; its i16x8.relaxed_dot and f32x4.relaxed_madd are right in
 * both tiers, so this build runs under Node 20 too (js/src/core.js, enableRelaxedSimd). */
static inline v128_t dot4_u8(v128_t u, v128_t y) {
    return wasm_i32x4_extadd_pairwise_i16x8(wasm_i16x8_relaxed_dot_i8x16_i7x16(y, u));
}

/* The Q4_K/Q5_K integer accumulator (see simd128.c): i16x8.relaxed_dot (levels ≤ 63 are valid
 * i7; pair sums ≤ 2·63·128 never saturate), then i32x4.dot_i16x8 with the sub-block scale gives
 * sc × (4-byte sums) directly — AVX2's maddubs + madd(scale). */
typedef struct { v128_t lo, hi; } kacc;

static inline kacc kacc_zero(void) {
    const v128_t z = wasm_i32x4_splat(0);
    return (kacc){ z, z };
}

/* sc_lo × (levels q0 · y[0..15]) + sc_hi × (q1 · y[16..31]); sc_* are i16 splats, levels < 64. */
/* kacc_add_v: the same with y[0..15] | y[16..31] already loaded (y0, y1), so that the
 * multi-weight-row decode kernels load each activation vector once for all their rows. */
static inline kacc kacc_add_v(kacc a, v128_t q0, v128_t q1, v128_t y0, v128_t y1, v128_t sc_lo, v128_t sc_hi) {
    a.lo = wasm_i32x4_add(a.lo, wasm_i32x4_dot_i16x8(wasm_i16x8_relaxed_dot_i8x16_i7x16(y0, q0), sc_lo));
    a.hi = wasm_i32x4_add(a.hi, wasm_i32x4_dot_i16x8(wasm_i16x8_relaxed_dot_i8x16_i7x16(y1, q1), sc_hi));
    return a;
}
static inline kacc kacc_add(kacc a, v128_t q0, v128_t q1, const int8_t *y, v128_t sc_lo, v128_t sc_hi) {
    return kacc_add_v(a, q0, q1, wasm_v128_load(y), wasm_v128_load(y + 16), sc_lo, sc_hi);
}

static inline v8i kacc_get(kacc a) { return (v8i){ a.lo, a.hi }; }

/* The rows kernels' prepared weight step (simd128_plain.h scales the widened levels there); here
 * relaxed_dot takes the i8 levels as they are, so preparing only keeps them with their scales. */
typedef struct { v128_t q0, q1, sc_lo, sc_hi; } kpre;
static inline kpre kpre_of8(v128_t q0, v128_t q1, v128_t sc_lo, v128_t sc_hi) { return (kpre){ q0, q1, sc_lo, sc_hi }; }
static inline kacc kacc_pre(kacc a, const kpre *p, const int8_t *y) { return kacc_add(a, p->q0, p->q1, y, p->sc_lo, p->sc_hi); }

/* Q5_K's high bits of one block, consumed two bits per 64-element step. */
typedef struct { v128_t h0, h1; } k45_high;
static inline k45_high k45_high_init(v128_t h0, v128_t h1) { return (k45_high){ h0, h1 }; }

/* One 64-element step of dot_k45: packed bytes b0|b1 (32 bytes, two nibbles each) against
 * q8[0..63] with sub-block scales sl (low nibbles) and su (high nibbles). Split into the levels
 * (k45_levels, weights only) and their products (k45_acc), so that a multi-row kernel unpacks a
 * weight block once for all its activation rows. */
typedef struct { v128_t l0, l1, u0, u1; } k45_lv;
static inline k45_lv k45_levels(k45_high *h, v128_t b0, v128_t b1, int five) {
    const v128_t m4 = wasm_i8x16_splat(0x0f), one = wasm_i8x16_splat(1);
    k45_lv v = { wasm_v128_and(b0, m4), wasm_v128_and(b1, m4), hi_nib(b0), hi_nib(b1) };
    if (five) {
        v.l0 = wasm_v128_or(v.l0, wasm_i16x8_shl(wasm_v128_and(h->h0, one), 4));
        v.l1 = wasm_v128_or(v.l1, wasm_i16x8_shl(wasm_v128_and(h->h1, one), 4));
        v.u0 = wasm_v128_or(v.u0, wasm_i16x8_shl(wasm_v128_and(wasm_u16x8_shr(h->h0, 1), one), 4));
        v.u1 = wasm_v128_or(v.u1, wasm_i16x8_shl(wasm_v128_and(wasm_u16x8_shr(h->h1, 1), one), 4));
        /* 16-bit shifts: only bits 0..1 are read, and the bits carried in from the next byte
         * land above them for the at most 3 shifts a block makes */
        h->h0 = wasm_u16x8_shr(h->h0, 2); h->h1 = wasm_u16x8_shr(h->h1, 2);
    }
    return v;
}
static inline kacc k45_acc(kacc s, const k45_lv *v, const int8_t *q8, v128_t sl, v128_t su) {
    s = kacc_add(s, v->l0, v->l1, q8, sl, sl);
    s = kacc_add(s, v->u0, v->u1, q8 + 32, su, su);
    return s;
}
/* k45_acc with the step's 64 activation bytes already loaded (y[0..3]) */
static inline kacc k45_acc_v(kacc s, const k45_lv *v, const v128_t *y, v128_t sl, v128_t su) {
    s = kacc_add_v(s, v->l0, v->l1, y[0], y[1], sl, sl);
    s = kacc_add_v(s, v->u0, v->u1, y[2], y[3], su, su);
    return s;
}
/* k45_acc for the rows kernels (simd128_plain.h scales the levels once per step there) */
typedef struct { kpre lo, up; } k45_pv;
static inline k45_pv k45_pre(const k45_lv *v, v128_t sl, v128_t su) {
    return (k45_pv){ kpre_of8(v->l0, v->l1, sl, sl), kpre_of8(v->u0, v->u1, su, su) };
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
