/*
 * unicode.c — lookups over the generated Unicode tables, UTF-8 coding with llama.cpp's
 * treatment of malformed input, and GPT-2's byte <-> code point map.
 *
 * Class lookups hit a 256-entry table for Latin-1 (nearly all text the hot loops see) and
 * otherwise binary-search ~2,300 ranges.
 */
#include "tokenizer/unicode.h"

uint32_t chord_ucd_flags(uint32_t cp) {
    if (cp < 256) return chord_ucd_latin1[cp];
    if (cp >= CHORD_UCD_MAX) return CHORD_UCD_UNDEF;
    /* Last range whose first code point is <= cp; the sentinel keeps hi in bounds. */
    uint32_t lo = 0, hi = chord_ucd_n_ranges - 1;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if ((chord_ucd_ranges[mid] >> 10) <= cp) lo = mid; else hi = mid;
    }
    return chord_ucd_ranges[lo] & 0x3FFu;
}

uint32_t chord_ucd_tolower(uint32_t cp) {
    if (cp < 128) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
    /* Runs are sorted and disjoint: find the last run starting at or before cp. */
    uint32_t lo = 0, hi = chord_ucd_n_lower;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (chord_ucd_lower[mid].first <= cp) lo = mid + 1; else hi = mid;
    }
    if (lo == 0) return cp;
    const chord_ucd_case_run *r = &chord_ucd_lower[lo - 1];
    uint32_t k = cp - r->first;
    if (k % r->stride || k / r->stride >= r->count) return cp;
    return (uint32_t)((int32_t)cp + r->delta);
}

size_t chord_utf8_decode(const uint8_t *s, size_t n, uint32_t *cp) {
    uint8_t b = s[0];
    size_t len;
    uint32_t v;
    if (b < 0x80) { *cp = b; return 1; }
    if ((b & 0x40) == 0) goto bad;                     /* continuation byte as a lead */
    if ((b & 0x20) == 0) { len = 2; v = b & 0x1Fu; }
    else if ((b & 0x10) == 0) { len = 3; v = b & 0x0Fu; }
    else if ((b & 0x08) == 0) { len = 4; v = b & 0x07u; }
    else goto bad;
    if (len > n) goto bad;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) goto bad;
        v = v << 6 | (s[i] & 0x3Fu);
    }
    if (v >= CHORD_UCD_MAX) goto bad;  /* llama.cpp cannot re-encode these; we call them bad */
    *cp = v;
    return len;
bad:
    *cp = 0xFFFD;
    return 1;
}

size_t chord_utf8_encode(uint32_t cp, uint8_t out[4]) {
    if (cp < 0x80) { out[0] = (uint8_t)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | cp >> 6); out[1] = (uint8_t)(0x80 | (cp & 0x3F)); return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | cp >> 12); out[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F)); return 3;
    }
    out[0] = (uint8_t)(0xF0 | cp >> 18); out[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F)); out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

size_t chord_utf8_seq_len(uint8_t b) {
    if (b < 0x80) return 1;
    if (b >= 0xC2 && b <= 0xDF) return 2;
    if (b >= 0xE0 && b <= 0xEF) return 3;
    if (b >= 0xF0 && b <= 0xF4) return 4;
    return 0;
}

int chord_utf8_check(const uint8_t *s, size_t n, size_t *len) {
    size_t need = chord_utf8_seq_len(s[0]);
    *len = 1;
    if (need == 0) return -1;
    if (need == 1) return 1;
    uint8_t lo = 0x80, hi = 0xBF;                      /* allowed range of the second byte */
    if (s[0] == 0xE0) lo = 0xA0;                       /* no overlong 3-byte forms */
    else if (s[0] == 0xED) hi = 0x9F;                  /* no surrogates */
    else if (s[0] == 0xF0) lo = 0x90;                  /* no overlong 4-byte forms */
    else if (s[0] == 0xF4) hi = 0x8F;                  /* <= U+10FFFF */
    for (size_t i = 1; i < need; i++) {
        if (i == n) { *len = n; return 0; }            /* a valid start, cut short */
        uint8_t a = i == 1 ? lo : 0x80, b = i == 1 ? hi : 0xBF;
        if (s[i] < a || s[i] > b) { *len = i; return -1; } /* maximal subpart -> one U+FFFD */
    }
    *len = need;
    return 1;
}

size_t chord_utf8_valid_prefix(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        size_t k;
        if (chord_utf8_check(s + i, n - i, &k) != 1) break;
        i += k;
    }
    return i;
}

/* Bytes that GPT-2 leaves as themselves; the other 68 are shifted to U+0100 + rank. */
static int byte_is_printable(unsigned b) {
    return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

/* The 68 non-printable bytes, in order, are 0x00..0x20 (33), 0x7F..0xA0 (34) and 0xAD (1);
 * the k-th of them maps to U+0100 + k. */
uint32_t chord_byte_to_cp(uint8_t b) {
    if (byte_is_printable(b)) return b;
    if (b <= 0x20) return 0x100u + b;
    if (b <= 0xA0) return 0x100u + 33 + (b - 0x7Fu);
    return 0x100u + 67;                                /* 0xAD, soft hyphen */
}

int chord_cp_to_byte(uint32_t cp) {
    if (cp < 256) return byte_is_printable(cp) ? (int)cp : -1;
    if (cp >= 0x100 + 68) return -1;
    uint32_t k = cp - 0x100;
    if (k < 33) return (int)k;
    if (k < 67) return (int)(0x7F + k - 33);
    return 0xAD;
}
