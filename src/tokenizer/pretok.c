/*
 * tok_pretok.c — pre-tokenizer splits for byte-level BPE: the regular expressions that
 * tokenizer.json files name, written out as hand-made left-to-right scanners over code points
 * (no regex engine). Each scanner walks one chunk [ini, end) once; every step consumes at least
 * one code point, and the look-aheads ("\s+(?!\S)") rescan at most the run they consume, so a
 * split is linear in its input and never recurses.
 *
 * The splits reproduce llama.cpp's (src/unicode.cpp, unicode_regex_split and the
 * unicode_regex_split_custom_* functions), including their treatment of chunk ends: past the
 * end of a chunk a code point reads as "none" with flags 0.
 *
 *   gpt-2    's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 *   llama3   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}
 *            | ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 *   qwen2    as llama3 with \p{N} instead of \p{N}{1,3}
 *   default  four splits chained, each applied to every piece of the previous one:
 *            [\p{P}\$\+<=>\^~\|]+   then gpt-2   then \p{N}+   then [0-9][0-9][0-9]
 *   starcoder  \p{N} then gpt-2
 *   qwen35   as qwen2 with combining marks in words: [^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+ and
 *            ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*
 *   deepseek-coder  [\r\n]  then \s?\p{L}+  then \s?\p{P}+  then [一-龥ࠀ-一가-퟿]+  then \p{N}
 *            (llama.cpp runs these through std::regex: one optional whitespace before a run)
 *   deepseek-llm  [\r\n]  then \s?[Latin, Greek, Cyrillic, ... letters]+  then
 *            \s?[!-/:-~！-／：-～‘-‟　-。]+  then \s+$  then [一-龥ࠀ-一가-퟿]+  then \p{N}+ (the two
 *            explicit classes below are the code point ranges of llama.cpp's expressions; its
 *            std::wregex sees non-ASCII whitespace as U+000B, so U+3000 is whitespace, not in a class)
 *   falcon   [\p{P}\$\+<=>\^~\|`]+   then gpt-2 (without its last "|\s+", which changes no split)
 *            then [0-9][0-9][0-9]
 * A chained split keeps the text between matches as pieces of their own.
 */
#include <stdlib.h>

#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

#define NONE 0xFFFFFFFFu

typedef struct {
    const uint32_t *cps;
    const uint16_t *fl;    /* flags of each code point */
    size_t ini, end;       /* current chunk */
    size_t prev;           /* end of the last emitted piece */
    uint32_t *out;         /* piece lengths */
    size_t n_out, cap_out;
    int oom;
} splitter;

static uint32_t cp_at(const splitter *s, size_t i) { return i >= s->ini && i < s->end ? s->cps[i] : NONE; }
static uint32_t fl_at(const splitter *s, size_t i) { return i >= s->ini && i < s->end ? s->fl[i] : 0; }

/* Ends the current piece at `end` (empty pieces are dropped). */
static void emit(splitter *s, size_t end) {
    if (end > s->prev) {
        if (s->n_out == s->cap_out) {
            size_t cap = s->cap_out ? s->cap_out * 2 : 64;
            uint32_t *v = realloc(s->out, cap * sizeof *v);
            if (!v) { s->oom = 1; return; }
            s->out = v;
            s->cap_out = cap;
        }
        s->out[s->n_out++] = (uint32_t)(end - s->prev);
    }
    s->prev = end;
}

/* 's 't 're 've 'm 'll 'd at pos (optionally case-insensitive): length 3/4 incl. the quote, or 0. */
static size_t contraction(const splitter *s, size_t pos, int fold) {
    if (cp_at(s, pos) != '\'' || pos + 1 >= s->end) return 0;
    uint32_t a = cp_at(s, pos + 1);
    if (fold) a = chord_ucd_tolower(a);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    if (pos + 2 >= s->end) return 0;
    uint32_t b = cp_at(s, pos + 2);
    if (fold) b = chord_ucd_tolower(b);
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
    return 0;
}

#define WLN (CHORD_UCD_WHITESPACE | CHORD_UCD_LETTER | CHORD_UCD_NUMBER)

/* The whitespace tail shared by all splits: \s+(?!\S) | \s+ ; with_newlines adds the
 * \s*[\r\n]+ alternative that llama3/qwen2 try first. Returns the new position. */
static size_t split_space(splitter *s, size_t pos, int with_newlines) {
    size_t n = 0, last_nl = 0;
    while (fl_at(s, pos + n) & CHORD_UCD_WHITESPACE) {
        uint32_t c = cp_at(s, pos + n);
        if (c == '\r' || c == '\n') last_nl = pos + n + 1;
        n++;
    }
    if (with_newlines && last_nl > 0) pos = last_nl;            /* \s*[\r\n]+ */
    else if (n > 1 && cp_at(s, pos + n) != NONE) pos += n - 1;  /* \s+(?!\S): leave one for the next word */
    else if (n > 0) pos += n;                                   /* \s+ */
    else pos++;                                                 /* nothing matched: one code point */
    emit(s, pos);
    return pos;
}

static void split_gpt2(splitter *s) {
    size_t pos = s->ini;
    while (pos < s->end && !s->oom) {
        uint32_t c = cp_at(s, pos);
        size_t k = contraction(s, pos, 0);
        if (k) { pos += k; emit(s, pos); continue; }
        uint32_t f2 = c == ' ' ? fl_at(s, pos + 1) : fl_at(s, pos);
        uint32_t cls = f2 & CHORD_UCD_LETTER ? CHORD_UCD_LETTER : f2 & CHORD_UCD_NUMBER ? CHORD_UCD_NUMBER : 0;
        if (cls) {                                              /*  ?\p{L}+  |  ?\p{N}+ */
            pos += c == ' ';
            while (fl_at(s, pos) & cls) pos++;
            emit(s, pos);
            continue;
        }
        if (!(f2 & WLN) && f2) {                                /*  ?[^\s\p{L}\p{N}]+ */
            pos += c == ' ';
            while (!(fl_at(s, pos) & WLN) && fl_at(s, pos)) pos++;
            emit(s, pos);
            continue;
        }
        pos = split_space(s, pos, 0);
    }
}

/* llama3 / qwen2 / qwen35: `word` is the class of word code points (\p{L}, or \p{L}\p{M}). */
static void split_llama3(splitter *s, size_t max_digits, uint32_t word) {
    const uint32_t wln = WLN | word;
    size_t pos = s->ini;
    while (pos < s->end && !s->oom) {
        uint32_t c = cp_at(s, pos), f = fl_at(s, pos);
        size_t k = contraction(s, pos, 1);
        if (k) { pos += k; emit(s, pos); continue; }
        if (!(c == '\r' || c == '\n' || (f & CHORD_UCD_NUMBER)) &&
            ((f & word) || (!(f & CHORD_UCD_LETTER) && (fl_at(s, pos + 1) & word)))) {
            pos++;                                              /* [^\r\n\p{L}\p{N}]?\p{L}+ */
            while (fl_at(s, pos) & word) pos++;
            emit(s, pos);
            continue;
        }
        if (f & CHORD_UCD_NUMBER) {                             /* \p{N}{1,max_digits} */
            size_t start = pos;
            while ((fl_at(s, pos) & CHORD_UCD_NUMBER) && pos - start < max_digits) pos++;
            emit(s, pos);
            continue;
        }
        uint32_t f2 = c == ' ' ? fl_at(s, pos + 1) : f;
        if (!(f2 & wln) && f) {                                 /*  ?[^\s\p{L}\p{N}]+[\r\n]* */
            pos += c == ' ';
            while (!(fl_at(s, pos) & wln) && fl_at(s, pos)) pos++;
            while (cp_at(s, pos) == '\r' || cp_at(s, pos) == '\n') pos++;
            emit(s, pos);
            continue;
        }
        pos = split_space(s, pos, 1);
    }
}

/* Runs of code points inside / outside a class become pieces: the regex "[class]+". With
 * single = 1 every class code point is a piece of its own: the regex "[class]". */
static int in_punct_class(uint32_t cp, uint32_t f, int tick) { /* [\p{P}\$\+<=>\^~\|] (+ ` for falcon) */
    return (f & CHORD_UCD_PUNCT) || cp == '$' || cp == '+' || cp == '<' || cp == '=' || cp == '>' ||
           cp == '^' || cp == '~' || cp == '|' || (tick && cp == '`');
}

/* punct: 0 = \p{N}, 1 = the punctuation class, 2 = the punctuation class with a backtick */
static void split_class(splitter *s, int punct, int single) {
    for (size_t pos = s->ini; pos < s->end && !s->oom; pos++) {
        uint32_t f = s->fl[pos];
        int in = punct ? in_punct_class(s->cps[pos], f, punct == 2) : (f & CHORD_UCD_NUMBER) != 0;
        if (pos == s->ini) { if (single && in) emit(s, pos + 1); continue; }
        uint32_t pf = s->fl[pos - 1];
        int prev_in = punct ? in_punct_class(s->cps[pos - 1], pf, punct == 2) : (pf & CHORD_UCD_NUMBER) != 0;
        if (single && in) { emit(s, pos); emit(s, pos + 1); }
        else if (in != prev_in) emit(s, pos);
    }
    emit(s, s->end);
}

/* The CJK-and-more class of deepseek's "[一-龥ࠀ-一가-퟿]": U+0800..U+9FA5 and U+AC00..U+D7FF. */
static int in_cjk(uint32_t cp) { return (cp >= 0x0800 && cp <= 0x9FA5) || (cp >= 0xAC00 && cp <= 0xD7FF); }

/* deepseek-coder's stages: "[\r\n]" (ST_CRLF), "\s?\p{L}+", "\s?\p{P}+" (one optional whitespace
 * before a run of the class), "[cjk]+" (runs). Unmatched text between matches stays a piece. */
typedef struct { uint32_t lo, hi; } cp_range;
/* deepseek-llm's letter class, sorted */
static const cp_range DS_LATIN[] = {
    { 0x0041, 0x005A }, { 0x0061, 0x007A }, { 0x00B5, 0x00B5 }, { 0x00C0, 0x00D6 },
    { 0x00D8, 0x00F6 }, { 0x00F8, 0x01BA }, { 0x01BC, 0x01BF }, { 0x01C4, 0x0293 },
    { 0x0295, 0x02AF }, { 0x0370, 0x0373 }, { 0x0376, 0x0376 }, { 0x0377, 0x0377 },
    { 0x037B, 0x037D }, { 0x037F, 0x037F }, { 0x0386, 0x0386 }, { 0x0388, 0x038A },
    { 0x038C, 0x038C }, { 0x038E, 0x03A1 }, { 0x03A3, 0x03F5 }, { 0x03F7, 0x0481 },
    { 0x048A, 0x052F }, { 0x0531, 0x0556 }, { 0x10A0, 0x10C5 }, { 0x13A0, 0x13F5 },
    { 0x13F8, 0x13FD }, { 0x1C90, 0x1CBA }, { 0x1CBD, 0x1CBF }, { 0x1D00, 0x1D2B },
    { 0x1D6B, 0x1D77 }, { 0x1D79, 0x1D9A }, { 0x1E00, 0x1F15 }, { 0x1F18, 0x1F1D },
    { 0x1F20, 0x1F45 }, { 0x1F48, 0x1F4D }, { 0x1F50, 0x1F57 }, { 0x1F59, 0x1F59 },
    { 0x1F5B, 0x1F5B }, { 0x1F5D, 0x1F5D }, { 0x1F5F, 0x1F7D }, { 0x1F80, 0x1FB4 },
    { 0x1FB6, 0x1FBC }, { 0x1FBE, 0x1FBE }, { 0x1FC2, 0x1FC4 }, { 0x1FC6, 0x1FCC },
    { 0x1FD0, 0x1FD3 }, { 0x1FD6, 0x1FDB }, { 0x1FE0, 0x1FEC }, { 0x1FF2, 0x1FF4 },
    { 0x1FF6, 0x1FFC }, { 0x2102, 0x2102 }, { 0x2107, 0x2107 }, { 0x210A, 0x2113 },
    { 0x2115, 0x2115 }, { 0x2119, 0x211D }, { 0x2124, 0x2124 }, { 0x2126, 0x2126 },
    { 0x2128, 0x2128 }, { 0x212A, 0x212D }, { 0x212F, 0x2134 }, { 0x2139, 0x2139 },
    { 0x213C, 0x213F }, { 0x2145, 0x2149 }, { 0x214E, 0x214E }, { 0x2183, 0x2183 },
    { 0x2184, 0x2184 }, { 0x2C00, 0x2C7B }, { 0x2C7E, 0x2CE4 }, { 0x2CEB, 0x2CEE },
    { 0x2CF2, 0x2CF2 }, { 0x2CF3, 0x2CF3 }, { 0xA640, 0xA66D }, { 0xA680, 0xA69B },
    { 0xA722, 0xA76F }, { 0xA771, 0xA787 }, { 0xA78B, 0xA78E }, { 0xAB70, 0xABBF },
    { 0xFB00, 0xFB06 }, { 0xFB13, 0xFB17 }, { 0xFF21, 0xFF3A }, { 0xFF41, 0xFF5A },
    { 0x10400, 0x1044F }, { 0x104B0, 0x104D3 }, { 0x104D8, 0x104FB }, { 0x10C80, 0x10CB2 },
    { 0x10CC0, 0x10CF2 }, { 0x118A0, 0x118DF }, { 0x1E900, 0x1E943 },
};
/* deepseek-llm's punctuation class, sorted */
static const cp_range DS_ASCII_PUNCT[] = {
    { 0x0021, 0x002F }, { 0x003A, 0x007E }, { 0x2018, 0x201F }, { 0x3000, 0x3002 },
    { 0xFF01, 0xFF0F }, { 0xFF1A, 0xFF5E },
};

static int in_ranges(uint32_t cp, const cp_range *r, size_t n) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < r[mid].lo) hi = mid;
        else if (cp > r[mid].hi) lo = mid + 1;
        else return 1;
    }
    return 0;
}

typedef enum { DS_CRLF, DS_LETTERS, DS_PUNCT, DS_CJK, DS_LATIN_RUNS, DS_ASCII_PUNCT_RUNS } ds_class;
static int ds_in(const splitter *s, size_t i, ds_class c) {
    if (i < s->ini || i >= s->end) return 0;
    switch (c) {
    case DS_CRLF: return s->cps[i] == '\r' || s->cps[i] == '\n';
    case DS_LETTERS: return (s->fl[i] & CHORD_UCD_LETTER) != 0;
    case DS_PUNCT: return (s->fl[i] & CHORD_UCD_PUNCT) != 0;
    case DS_CJK: case DS_LATIN_RUNS: case DS_ASCII_PUNCT_RUNS:
        /* these classes go through std::wregex, which sees non-ASCII whitespace as U+000B (so
         * U+2009 is not in the U+0800..U+9FA5 range, nor U+3000 in the punctuation one) */
        if (s->cps[i] > 0x7F && (s->fl[i] & CHORD_UCD_WHITESPACE)) return 0;
        if (c == DS_CJK) return in_cjk(s->cps[i]);
        return c == DS_LATIN_RUNS ? in_ranges(s->cps[i], DS_LATIN, sizeof DS_LATIN / sizeof DS_LATIN[0])
                                  : in_ranges(s->cps[i], DS_ASCII_PUNCT, sizeof DS_ASCII_PUNCT / sizeof DS_ASCII_PUNCT[0]);
    }
    return 0;
}

static void split_deepseek(splitter *s, ds_class c) {
    const int ws_prefix = c != DS_CRLF && c != DS_CJK;
    size_t pos = s->ini;
    while (pos < s->end && !s->oom) {
        size_t start = pos;
        if (ws_prefix && (fl_at(s, pos) & CHORD_UCD_WHITESPACE) && ds_in(s, pos + 1, c)) pos++;
        else if (!ds_in(s, pos, c)) { pos++; continue; }
        if (c == DS_CRLF) pos++;
        else while (ds_in(s, pos, c)) pos++;
        emit(s, start); /* the unmatched text before, then the match */
        emit(s, pos);
    }
    emit(s, s->end);
}

/* \s+$ : the whitespace run that ends the chunk becomes a piece */
static void split_trailing_space(splitter *s) {
    size_t start = s->end;
    while (start > s->ini && (s->fl[start - 1] & CHORD_UCD_WHITESPACE)) start--;
    emit(s, start);
    emit(s, s->end);
}

/* [0-9][0-9][0-9]: successive non-overlapping triples of ASCII digits; the rest stays between. */
static void split_digit3(splitter *s) {
    size_t pos = s->ini;
    while (pos + 3 <= s->end) {
        const uint32_t *c = s->cps + pos;
        if (c[0] >= '0' && c[0] <= '9' && c[1] >= '0' && c[1] <= '9' && c[2] >= '0' && c[2] <= '9') {
            emit(s, pos);
            pos += 3;
            emit(s, pos);
        } else pos++;
    }
    emit(s, s->end);
}

typedef enum { ST_GPT2, ST_LLAMA3, ST_QWEN2, ST_QWEN35, ST_PUNCT_RUNS, ST_PUNCT_TICK_RUNS, ST_NUMBER_RUNS,
               ST_NUMBER_EACH, ST_DIGIT3, ST_DS_CRLF, ST_DS_LETTERS, ST_DS_PUNCT, ST_DS_CJK,
               ST_DS_LATIN, ST_DS_ASCII_PUNCT, ST_TRAILING_SPACE } stage;

static void run_stage(splitter *s, stage st) {
    switch (st) {
    case ST_GPT2: split_gpt2(s); break;
    case ST_LLAMA3: split_llama3(s, 3, CHORD_UCD_LETTER); break;
    case ST_QWEN2: split_llama3(s, 1, CHORD_UCD_LETTER); break;
    case ST_QWEN35: split_llama3(s, 1, CHORD_UCD_LETTER | CHORD_UCD_MARK); break;
    case ST_PUNCT_RUNS: split_class(s, 1, 0); break;
    case ST_PUNCT_TICK_RUNS: split_class(s, 2, 0); break;
    case ST_NUMBER_RUNS: split_class(s, 0, 0); break;
    case ST_NUMBER_EACH: split_class(s, 0, 1); break;
    case ST_DIGIT3: split_digit3(s); break;
    case ST_DS_CRLF: split_deepseek(s, DS_CRLF); break;
    case ST_DS_LETTERS: split_deepseek(s, DS_LETTERS); break;
    case ST_DS_PUNCT: split_deepseek(s, DS_PUNCT); break;
    case ST_DS_CJK: split_deepseek(s, DS_CJK); break;
    case ST_DS_LATIN: split_deepseek(s, DS_LATIN_RUNS); break;
    case ST_DS_ASCII_PUNCT: split_deepseek(s, DS_ASCII_PUNCT_RUNS); break;
    case ST_TRAILING_SPACE: split_trailing_space(s); break;
    }
}

chord_status chord_pretokenize(chord_pre_kind pre, const uint32_t *cps, size_t n, uint32_t **lens,
                               size_t *n_lens) {
    static const stage DEFAULT[] = { ST_PUNCT_RUNS, ST_GPT2, ST_NUMBER_RUNS, ST_DIGIT3 };
    static const stage GPT2[] = { ST_GPT2 }, LLAMA3[] = { ST_LLAMA3 }, QWEN2[] = { ST_QWEN2 };
    static const stage STARCODER[] = { ST_NUMBER_EACH, ST_GPT2 }, QWEN35[] = { ST_QWEN35 };
    static const stage FALCON[] = { ST_PUNCT_TICK_RUNS, ST_GPT2, ST_DIGIT3 };
    static const stage DS_CODER[] = { ST_DS_CRLF, ST_DS_LETTERS, ST_DS_PUNCT, ST_DS_CJK, ST_NUMBER_EACH };
    static const stage DS_LLM[] = { ST_DS_CRLF, ST_DS_LATIN, ST_DS_ASCII_PUNCT, ST_TRAILING_SPACE, ST_DS_CJK,
                                    ST_NUMBER_RUNS };
    const stage *stages = DEFAULT;
    size_t n_stages = 4;
    switch (pre) {
    case CHORD_PRE_DEFAULT: break;
    case CHORD_PRE_GPT2: stages = GPT2; n_stages = 1; break;
    case CHORD_PRE_LLAMA3: stages = LLAMA3; n_stages = 1; break;
    case CHORD_PRE_QWEN2: stages = QWEN2; n_stages = 1; break;
    case CHORD_PRE_STARCODER: stages = STARCODER; n_stages = 2; break;
    case CHORD_PRE_QWEN35: stages = QWEN35; n_stages = 1; break;
    case CHORD_PRE_FALCON: stages = FALCON; n_stages = 3; break;
    case CHORD_PRE_DEEPSEEK_CODER: stages = DS_CODER; n_stages = 5; break;
    case CHORD_PRE_DEEPSEEK_LLM: stages = DS_LLM; n_stages = 6; break;
    }
    *lens = NULL;
    *n_lens = 0;
    if (n == 0) return CHORD_OK;
    if (n > UINT32_MAX) return CHORD_E_RANGE;
    uint16_t *fl = malloc(n * sizeof *fl);
    uint32_t *chunks = malloc(sizeof *chunks);
    if (!fl || !chunks) { free(fl); free(chunks); return CHORD_E_NOMEM; }
    for (size_t i = 0; i < n; i++) fl[i] = (uint16_t)chord_ucd_flags(cps[i]);
    chunks[0] = (uint32_t)n;
    size_t n_chunks = 1;
    for (size_t k = 0; k < n_stages; k++) {
        splitter s = { .cps = cps, .fl = fl };
        size_t start = 0;
        for (size_t c = 0; c < n_chunks && !s.oom; c++) {
            s.ini = s.prev = start;
            s.end = start + chunks[c];
            run_stage(&s, stages[k]);
            start = s.end;
        }
        free(chunks);
        if (s.oom) { free(s.out); free(fl); return CHORD_E_NOMEM; }
        chunks = s.out;
        n_chunks = s.n_out;
    }
    free(fl);
    *lens = chunks;
    *n_lens = n_chunks;
    return CHORD_OK;
}
