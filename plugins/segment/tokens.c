/* Penn-Treebank-like tokenizer.
 *
 * White space separates chunks; inside a chunk, punctuation is split off,
 * except where it belongs to the token: hyphenated words (F-16-launched),
 * numbers with separators (3,500.25 09:25 05/22/2001), dotted abbreviations
 * (U.S. a.m. e.g.) and known abbreviations with their period (Mr. Inc.),
 * URLs, e-mail addresses, @handles and #tags. Clitics are split off
 * ("don't" -> "do" "n't", "Russia's" -> "Russia" "'s"). Runs of . ! ? are
 * one token, as are ellipses ("...", "…", ". . .").
 *
 * One pass over the text, no allocation but the token array. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "segment.h"

const char *const seg_shape_names[SH_COUNT] = {"Xxxx", "xxxx",  "XX",
                                               "dd",   "mixed", "punct"};

typedef struct tz {
    const seg_lang *lang;
    const char *s;
    size_t len;
    seg_toks *out;
    uint8_t gap;
} tz;

/* What the token before means for a token's SF_LOOK: kept in the flag
 * byte of the token before (no state of the tokenizer's own), and at their
 * place in flag_tab's index, so that they go in with a mask and an or. */
enum { AFTER_TERM = SF_TERM, AFTER_BULLET = SF_BULLET };

void seg_toks_free(seg_toks *toks)
{
    free(toks->v);
    free(toks->fl ? toks->fl - 1 : NULL);
    toks->v = NULL;
    toks->fl = NULL;
    toks->n = toks->cap = 0;
}

/* The token array and its flags at cap entries (cap >= t->n), the first
 * t->n of each kept. 0 or -ENOMEM (then t is as it was, or only its token
 * array larger). */
static int toks_resize(seg_toks *t, size_t cap)
{
    if (t->n == 0) {
        /* nothing to keep: a fresh block rather than a copy by realloc */
        seg_toks_free(t);
        t->v = malloc(cap * sizeof *t->v);
        uint8_t *f = malloc(cap + 1);
        t->fl = f ? f + 1 : NULL;
        if (t->v == NULL || t->fl == NULL) {
            seg_toks_free(t);
            return -ENOMEM;
        }
        f[0] = 0; /* before the first token: nothing */
        t->cap = cap;
        return 0;
    }
    seg_tok *v = realloc(t->v, cap * sizeof *v);
    if (v == NULL)
        return -ENOMEM;
    t->v = v;
    uint8_t *f = realloc(t->fl - 1, cap + 1);
    if (f == NULL)
        return -ENOMEM;
    t->fl = f + 1;
    t->cap = cap;
    return 0;
}

/* The sentence rules' flags of a token (see seg_toks) from its kind, its
 * gap, what the token before it was (AFTER_*) and its length (1, 2, 3, 4
 * or more: the index's low bits are min(len, 4) - 1), one table look-up:
 * computed in the tokenizer with compares, they cost as many instructions
 * as a pass of their own. SF_LOOK, SF_BUSY, and AFTER_TERM when the
 * token is a full stop. The table is built by the compiler from the rules
 * written once below. */
_Static_assert(TK_EMO < 16 && SF_LOOK == 1 && SF_BUSY == 2 && AFTER_TERM == 4,
               "flag_tab's index and values");
#define FT_KIND(i) ((unsigned)(i) >> 6)
#define FT_GAP(i) (((unsigned)(i) >> 4) & 3u)
#define FT_AFTER(i) ((unsigned)(i) & (AFTER_TERM | AFTER_BULLET))
#define FT_LEN(i) (((unsigned)(i) & 3u) + 1u)
/* a word at a line start, after a full stop, or of one letter */
#define FT_WORD(i)                                                           \
    (FT_KIND(i) == TK_WORD &&                                                \
     (FT_LEN(i) == 1 || FT_GAP(i) >= GAP_NL || (FT_AFTER(i) & AFTER_TERM)))
/* short enough for a list marker, after white space or a bullet (as
 * seg_marker_max_len, which is no constant expression) */
#define FT_MAXLEN(i)                                                         \
    (FT_KIND(i) == TK_NUM    ? MARK_MAX_NUM                                  \
     : FT_KIND(i) == TK_WORD ? MARK_MAX_WORD                                 \
     : FT_KIND(i) == TK_ABBR ? MARK_MAX_ABBR                                 \
                             : 0)
#define FT_MARK(i)                                                           \
    (FT_LEN(i) <= FT_MAXLEN(i) &&                                            \
     (FT_GAP(i) != GAP_NONE || (FT_AFTER(i) & AFTER_BULLET)))
/* all but the words inside a line: a word of one letter ("a", "I") is
 * busy only as a list marker, which prescan() flags itself; the main loop
 * would do nothing at the others but count them */
#define FT_BUSY(i) (!(FT_KIND(i) == TK_WORD && FT_GAP(i) <= GAP_SPACE))
#define FT(i)                                                                \
    (uint8_t)((FT_WORD(i) || FT_MARK(i)) | FT_BUSY(i) << 1 |                 \
              (FT_KIND(i) == TK_TERM ? AFTER_TERM : 0))
#define FT4(i) FT(i), FT((i) + 1), FT((i) + 2), FT((i) + 3)
#define FT16(i) FT4(i), FT4((i) + 4), FT4((i) + 8), FT4((i) + 12)
#define FT64(i) FT16(i), FT16((i) + 16), FT16((i) + 32), FT16((i) + 48)
#define FT256(i) FT64(i), FT64((i) + 64), FT64((i) + 128), FT64((i) + 192)
static const uint8_t flag_tab[1024] = {FT256(0), FT256(256), FT256(512),
                                       FT256(768)};

/* Write the token at the end of t (room checked by the caller), with the
 * sentence rules' flags: here, where the token is in registers, rather
 * than in a pass that loads every token and its predecessor again.
 * Everything is read before the token's byte stores, which the compiler
 * must assume alias it. */
static inline void put_tok(tz *z, seg_toks *t, size_t start, uint32_t len,
                           unsigned kind, unsigned shape, unsigned flags)
{
    size_t k = t->n;
    seg_tok *o = &t->v[k];
    uint8_t *fl = t->fl;
    unsigned gap = z->gap;
    const uint8_t *before = fl - 1; /* before[k]: the token before */
    unsigned f = flag_tab[kind << 6 | gap << 4 |
                          (before[k] & (AFTER_TERM | AFTER_BULLET)) |
                          ((len < 4 ? len : 4) - 1)];
    *o = (seg_tok){{start, len, (uint8_t)shape, (uint8_t)kind, (uint8_t)gap,
                    (uint8_t)flags}};
    fl[k] = (uint8_t)(f | ((flags & TF_BULLET) ? AFTER_BULLET : 0));
    z->gap = GAP_NONE;
    t->n = k + 1;
}

static int cls_at(const tz *z, size_t i, int32_t *cp, size_t *n)
{
    return ch_class(z->s, z->len, i, cp, n);
}

/* Class of the code point that ends just before byte i (i > 0). */
static int cls_before(const tz *z, size_t i, int32_t *cp)
{
    size_t k = i - 1;
    unsigned char b = (unsigned char)z->s[k];
    if (b < 0x80) {
        *cp = b;
        return seg_ascii_class[b];
    }
    while (k > 0 && ((unsigned char)z->s[k] & 0xC0) == 0x80)
        k--;
    size_t n;
    return ch_class(z->s, z->len, k, cp, &n);
}

static int shape_of(const char *s, size_t start, size_t end, size_t len)
{
    unsigned up = 0, lo = 0, nocase = 0, dig = 0;
    int first_upper = -1, inner_upper = 0, prev_letter = 0;
    size_t i = start;
    while (i < end) {
        int32_t cp;
        size_t n;
        int c = ch_class(s, len, i, &cp, &n);
        int letter = 0;
        switch (c) {
        case CH_UPPER:
            if (first_upper < 0)
                first_upper = 1;
            else if (prev_letter)
                inner_upper = 1;
            up++;
            letter = 1;
            break;
        case CH_LOWER:
            if (first_upper < 0)
                first_upper = 0;
            lo++;
            letter = 1;
            break;
        case CH_LETTER:
            if (first_upper < 0)
                first_upper = 0;
            nocase++;
            letter = 1;
            break;
        case CH_MARK:
            letter = prev_letter;
            break;
        case CH_DIGIT:
        case CH_NUMOTHER:
            dig++;
            break;
        default:
            break;
        }
        prev_letter = letter;
        i += n;
    }
    if (up + lo + nocase == 0)
        return dig ? SH_DD : SH_PUNCT;
    if (dig)
        return SH_MIXED;
    if (up == 0)
        return SH_XXXX_LOW;
    if (lo == 0 && nocase == 0)
        return up >= 2 ? SH_XX : SH_XXXX_CAP;
    if (first_upper == 1 && !inner_upper)
        return SH_XXXX_CAP;
    return SH_MIXED;
}

static int toks_grow(seg_toks *t)
{
    return toks_resize(t, t->cap ? t->cap * 2 : 256);
}

static int emit(tz *z, size_t start, size_t end, int kind, int shape,
                unsigned flags);
static inline int emit(tz *z, size_t start, size_t end, int kind, int shape,
                       unsigned flags)
{
    seg_toks *t = z->out;
    if (end <= start)
        return 0;
    while (end - start > UINT32_MAX) { /* a token over 4 GiB: in pieces */
        size_t cut = start + UINT32_MAX;
        while (cut > start && ((unsigned char)z->s[cut] & 0xC0) == 0x80)
            cut--;
        int rc = emit(z, start, cut, kind, shape, flags);
        if (rc)
            return rc;
        start = cut;
    }
    if (t->n == t->cap && toks_grow(t))
        return -ENOMEM;
    if (shape < 0)
        shape = shape_of(z->s, start, end, z->len);
    put_tok(z, t, start, (uint32_t)(end - start), (unsigned)kind,
            (unsigned)shape, flags);
    return 0;
}

static int lower_ascii(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

static int is_apos(const tz *z, size_t i, size_t *n)
{
    if (z->s[i] == '\'') {
        *n = 1;
        return 1;
    }
    if (i + 2 < z->len && (unsigned char)z->s[i] == 0xE2 &&
        (unsigned char)z->s[i + 1] == 0x80 &&
        (unsigned char)z->s[i + 2] == 0x99) { /* U+2019 */
        *n = 3;
        return 1;
    }
    return 0;
}

static int space_at(const tz *z, size_t i)
{
    int32_t cp;
    size_t n;
    int c = ch_class(z->s, z->len, i, &cp, &n);
    return c == CH_SPACE || c == CH_NL;
}

/* The end of the white-space delimited chunk holding i. */
static size_t chunk_end(const tz *z, size_t i)
{
    while (i < z->len && !space_at(z, i)) {
        unsigned char b = (unsigned char)z->s[i];
        i++;
        if (b >= 0x80)
            while (i < z->len && ((unsigned char)z->s[i] & 0xC0) == 0x80)
                i++;
    }
    return i;
}

/* URL trailing characters that are punctuation of the sentence. */
static int url_trailer(int32_t cp, int cls)
{
    if (cp < 0x80)
        return cp != '/' && cp != '=' && cp != '#' && cp != '_' && cp != '-' &&
               cp != '~' && cp != '+' && cp != '&' && cp != '%' && cp != '*' &&
               cp != '@' && cls == CH_PUNCT;
    return cls == CH_PUNCT;
}

/* End of a URL starting at i within the chunk [i, ce). */
static size_t url_end(const tz *z, size_t i)
{
    size_t ce = chunk_end(z, i);
    size_t e = ce;
    int opens = 0, closes = 0;
    for (size_t k = i; k < ce; k++) {
        if (z->s[k] == '(')
            opens++;
        else if (z->s[k] == ')')
            closes++;
    }
    while (e > i) {
        int32_t cp;
        int c = cls_before(z, e, &cp);
        if (!url_trailer(cp, c))
            break;
        if (cp == ')' && opens >= closes)
            break;
        if (cp == ')')
            closes--;
        size_t k = e - 1;
        while (k > i && ((unsigned char)z->s[k] & 0xC0) == 0x80)
            k--;
        e = k;
    }
    return e;
}

/* Does `p` (n bytes) start with the lower-case ASCII literal `lit`? */
static int starts_ci(const char *p, size_t n, const char *lit, size_t k)
{
    if (n < k)
        return 0;
    for (size_t i = 0; i < k; i++)
        if (lower_ascii((unsigned char)p[i]) != lit[i])
            return 0;
    return 1;
}

static int url_start(const tz *z, size_t i, size_t ce)
{
    const char *p = z->s + i;
    size_t n = ce - i, k;
    if (n < 6)
        return 0;
    int c1 = lower_ascii((unsigned char)p[1]);
    switch (lower_ascii((unsigned char)p[0])) {
    case 'h':
        if (c1 != 't')
            return 0;
        k = starts_ci(p, n, "http://", 7)    ? 7
            : starts_ci(p, n, "https://", 8) ? 8
                                             : 0;
        break;
    case 'w':
        k = c1 == 'w' && starts_ci(p, n, "www.", 4) ? 4 : 0;
        break;
    case 'f':
        k = c1 == 't' && starts_ci(p, n, "ftp://", 6) ? 6 : 0;
        break;
    case 'm':
        k = c1 == 'a' && starts_ci(p, n, "mailto:", 7) ? 7 : 0;
        break;
    default:
        return 0;
    }
    if (k == 0 || n <= k + 1)
        return 0;
    unsigned char c = (unsigned char)p[k];
    return c != '.' && c > ' ';
}

static int email_local(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '%' ||
           c == '+' || c == '-';
}

static int alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

/* An e-mail address at i: its end, or 0. */
static size_t email_at(const tz *z, size_t i, size_t ce)
{
    size_t k = i;
    while (k < ce && email_local((unsigned char)z->s[k]))
        k++;
    if (k == i || k >= ce || z->s[k] != '@')
        return 0;
    k++;
    size_t dom = k, last_dot = 0;
    while (k < ce && (alnum((unsigned char)z->s[k]) || z->s[k] == '-' ||
                      (z->s[k] == '.' && k + 1 < ce &&
                       alnum((unsigned char)z->s[k + 1])))) {
        if (z->s[k] == '.')
            last_dot = k;
        k++;
    }
    if (last_dot == 0 || last_dot <= dom || k - last_dot < 3)
        return 0;
    return k;
}

static int is_clitic(const char *p, size_t n)
{
    /* p: the letters after the apostrophe */
    if (n == 1)
        return lower_ascii((unsigned char)p[0]) == 's' ||
               lower_ascii((unsigned char)p[0]) == 'd' ||
               lower_ascii((unsigned char)p[0]) == 'm';
    if (n == 2) {
        int a = lower_ascii((unsigned char)p[0]),
            b = lower_ascii((unsigned char)p[1]);
        return (a == 'r' && b == 'e') || (a == 'v' && b == 'e') ||
               (a == 'l' && b == 'l');
    }
    return 0;
}

/* "Newsfeed.Com": a top-level domain after a dot, whatever its case. */
static int ascii_letter(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int tld_at(const tz *z, size_t i)
{
    static const char *const tlds[] = {"com", "net",  "org", "edu",
                                       "gov", "info", "biz", NULL};
    size_t k = i;
    while (k < z->len && k < i + 5 && ascii_letter((unsigned char)z->s[k]))
        k++;
    if (k < z->len && alnum((unsigned char)z->s[k]))
        return 0;
    for (size_t t = 0; tlds[t]; t++)
        if (strlen(tlds[t]) == k - i &&
            starts_ci(z->s + i, k - i, tlds[t], k - i))
            return 1;
    return 0;
}

/* Is the '.' at i (after a word [ws, i)) part of that word, as an
 * abbreviation? 1 yes; 0 no; 2 no, but the word is a number abbreviation
 * ("No." not before a number): the token says so (TF_NUMABBR) for the
 * sentence rules, which then need not look the word up again. */
static int abbrev_period(const tz *z, size_t ws, size_t i, int dotted)
{
    if (i + 1 < z->len && z->s[i + 1] == '.')
        return 0; /* an ellipsis */
    size_t wl = i - ws;
    if (dotted)
        return 1;
    /* a single letter: an initial or a list letter */
    int32_t cp;
    size_t n;
    int c = cls_at(z, ws, &cp, &n);
    if (n == wl && (c == CH_UPPER || c == CH_LOWER))
        return 1;
    int cls = wordset_get(z->lang->abbrev, z->s + ws, wl);
    if (cls == AB_NONE)
        return 0;
    if (cls == AB_NUM) {
        /* "No. 5": only before a number */
        size_t k = i + 1;
        while (k < z->len && (z->s[k] == ' ' || z->s[k] == '\t'))
            k++;
        return (k > i + 1 && k < z->len && z->s[k] >= '0' && z->s[k] <= '9')
                   ? 1
                   : 2;
    }
    return 1;
}

/* A word, number or hyphenated compound at i; emits it (with clitics
 * and an abbreviation period) and returns the position after it. */
static int shape_from(unsigned up, unsigned lo, unsigned nocase, unsigned dig,
                      int first_upper, int inner_upper)
{
    if (up + lo + nocase == 0)
        return dig ? SH_DD : SH_PUNCT;
    if (dig)
        return SH_MIXED;
    if (up == 0)
        return SH_XXXX_LOW;
    if (lo == 0 && nocase == 0)
        return up >= 2 ? SH_XX : SH_XXXX_CAP;
    if (first_upper == 1 && !inner_upper)
        return SH_XXXX_CAP;
    return SH_MIXED;
}

static size_t word_at(tz *z, size_t i, size_t ce, int may_mail, int *rc)
{
    size_t j = i;
    int letters = 0, dotted = 0, dot_ok = 1;
    size_t part_start = i, apos = 0;
    int32_t cp;
    size_t n;
    int prev = CH_PUNCT;
    /* shape counters, as shape_of() */
    unsigned up = 0, lo = 0, nocase = 0, dig = 0;
    int first_upper = -1, inner_upper = 0, prev_letter = 0;
    while (j < ce) {
        unsigned char b = (unsigned char)z->s[j];
        int c;
        if (b < 0x80) {
            c = seg_ascii_class[b];
            if (c == CH_LOWER) {
                lo++;
                if (first_upper < 0)
                    first_upper = 0;
                prev_letter = 1;
                prev = c;
                j++;
                continue;
            }
            if (c == CH_UPPER) {
                if (first_upper < 0)
                    first_upper = 1;
                else if (prev_letter)
                    inner_upper = 1;
                up++;
                prev_letter = 1;
                prev = c;
                j++;
                continue;
            }
            if (c == CH_DIGIT) {
                dig++;
                prev_letter = 0;
                prev = c;
                j++;
                continue;
            }
            cp = b;
            n = 1;
        } else {
            c = ch_class_slow(z->s, z->len, j, &cp, &n);
        }
        if (ch_is_wordish(c)) {
            switch (c) {
            case CH_UPPER:
                if (first_upper < 0)
                    first_upper = 1;
                else if (prev_letter)
                    inner_upper = 1;
                up++;
                prev_letter = 1;
                break;
            case CH_LOWER:
                if (first_upper < 0)
                    first_upper = 0;
                lo++;
                prev_letter = 1;
                break;
            case CH_LETTER:
                if (first_upper < 0)
                    first_upper = 0;
                nocase++;
                prev_letter = 1;
                break;
            case CH_MARK:
                break;
            default:
                dig++;
                prev_letter = 0;
            }
            prev = c;
            j += n;
            continue;
        }
        if (j + n >= ce || !ch_is_wordish(prev))
            break;
        int32_t ncp;
        size_t nn;
        int nc = cls_at(z, j + n, &ncp, &nn);
        if (!ch_is_wordish(nc))
            break;
        prev_letter = 0;
        char ch = z->s[j];
        if (ch == '-' || cp == 0x2010 || cp == 0x2011) {
            prev = CH_PUNCT;
            j += n;
            part_start = j;
            continue;
        }
        if ((ch == ',' || ch == '.' || ch == ':' || ch == '/') &&
            prev == CH_DIGIT && nc == CH_DIGIT) {
            if (ch == ',') {
                /* thousands: exactly three digits follow */
                size_t k = j + 1, d = 0;
                while (k < ce && z->s[k] >= '0' && z->s[k] <= '9')
                    k++, d++;
                if (d != 3 || up + lo + nocase > 0)
                    break;
            }
            j += 1;
            continue;
        }
        letters = up + lo + nocase > 0;
        if (ch == '.' && letters && nc != CH_DIGIT) {
            /* "U.S.A", "e.g", "example.com" stay; "world.Today" splits */
            size_t plen = j - part_start;
            if ((nc == CH_UPPER) && plen >= 2) {
                int32_t c3;
                size_t n3;
                size_t k = j + 1 + nn;
                if (k < ce && cls_at(z, k, &c3, &n3) == CH_LOWER &&
                    !tld_at(z, j + 1))
                    break;
            }
            if (plen > 2)
                dot_ok = 0;
            dotted = 1;
            prev = CH_PUNCT;
            j += 1;
            part_start = j;
            continue;
        }
        if (ch == '&' && prev == CH_UPPER && nc == CH_UPPER) {
            prev = CH_PUNCT;
            j += 1;
            continue;
        }
        size_t an;
        if (is_apos(z, j, &an) && prev != CH_DIGIT && nc != CH_DIGIT) {
            apos = j;
            prev = CH_PUNCT;
            j += an;
            continue;
        }
        break;
    }
    size_t we = j;
    if (may_mail && we < ce &&
        (z->s[we] == '@' || z->s[we] == '.' || z->s[we] == '_' ||
         z->s[we] == '-' || z->s[we] == '+' || z->s[we] == '%')) {
        /* an e-mail address: the word stopped at one of its characters */
        size_t k = we;
        while (k < ce && k < we + 64 && email_local((unsigned char)z->s[k]))
            k++;
        size_t e = k < ce && z->s[k] == '@' ? email_at(z, i, ce) : 0;
        if (e) {
            *rc = emit(z, i, e, TK_URL, SH_MIXED, 0);
            return e;
        }
    }
    if (dotted && we - part_start > 2)
        dot_ok = 0;
    /* clitics: "Russia's" -> "Russia" "'s"; "don't" -> "do" "n't" */
    size_t split = we;
    if (apos) {
        size_t an;
        is_apos(z, apos, &an);
        size_t after = apos + an;
        if (is_clitic(z->s + after, we - after))
            split = apos;
        else if (we == after + 1 &&
                 (z->s[after] == 't' || z->s[after] == 'T') && apos - i >= 2 &&
                 (z->s[apos - 1] == 'n' || z->s[apos - 1] == 'N'))
            split = apos - 1;
    }
    letters = up + lo + nocase > 0;
    int kind = letters ? TK_WORD : TK_NUM;
    if (split < we) {
        if ((*rc = emit(z, i, split, kind, -1, 0)) != 0)
            return we;
        *rc = emit(z, split, we, TK_WORD, -1, 0);
        return we;
    }
    int shape = shape_from(up, lo, nocase, dig, first_upper, inner_upper);
    unsigned flags = 0;
    if (letters && we < z->len && z->s[we] == '.') {
        int ap = abbrev_period(z, i, we, dotted && dot_ok);
        if (ap == 1) {
            *rc = emit(z, i, we + 1, TK_ABBR, shape, 0);
            return we + 1;
        }
        if (ap == 2)
            flags = TF_NUMABBR;
    }
    *rc = emit(z, i, we, kind, shape, flags);
    return we;
}

static int is_term_cp(int32_t cp)
{
    return cp == '!' || cp == '?' || cp == 0x203C || cp == 0x2047 ||
           cp == 0x2048 || cp == 0x2049 || cp == 0xFF01 || cp == 0xFF1F ||
           cp == 0x3002 || cp == 0xFF61 || cp == 0x061F || cp == 0x06D4 ||
           cp == 0x0964 || cp == 0x0965;
}

static unsigned punct_flags(int32_t cp, int *is_bullet)
{
    *is_bullet = 0;
    switch (cp) {
    case '(':
    case '[':
    case '{':
    case 0x201C:
    case 0x2018:
    case 0x00AB:
    case 0x2039:
    case 0x201E:
    case 0x201A:
    case 0x00BF:
    case 0x00A1:
    case 0x300C:
    case 0x300E:
    case 0xFF08:
        return TF_OPEN;
    case ')':
    case ']':
    case '}':
    case 0x201D:
    case 0x2019:
    case 0x00BB:
    case 0x203A:
    case 0x300D:
    case 0x300F:
    case 0xFF09:
        return TF_CLOSE;
    case '"':
    case '\'':
    case '`':
        return TF_QUOTE;
    case 0x2022:
    case 0x2043:
    case 0x25E6:
    case 0x25AA:
    case 0x2023:
    case 0x25CF:
    case 0x25CB:
    case 0x25A0:
    case 0x25A1:
    case 0x25BA:
    case 0x25B8:
    case 0x27A2:
    case 0x2219:
    case 0x00B7:
        *is_bullet = 1;
        return TF_BULLET;
    default:
        return 0;
    }
}

static int sep_char(int32_t cp)
{
    return cp == '*' || cp == '-' || cp == '=' || cp == '_' || cp == '~' ||
           cp == '#' || cp == '+' || cp == '<' || cp == '>' || cp == 0x2014 ||
           cp == 0x2500 || cp == 0x2550;
}

/* An emoticon at i: its end, or 0. Eyes : ; = (8 only with a nose), an
 * optional nose - ^ ', then a mouth repeated; or <3. */
static size_t emoticon_at(const tz *z, size_t i, size_t ce)
{
    const char *s = z->s;
    if (i + 1 < ce && s[i] == '<' && s[i + 1] == '3')
        return (i + 2 == ce || !alnum((unsigned char)s[i + 2])) ? i + 2 : 0;
    char e = s[i];
    if (e != ':' && e != ';' && e != '=' && e != '8')
        return 0;
    size_t j = i + 1;
    int nose = 0;
    if (j < ce && (s[j] == '-' || s[j] == '^' || s[j] == '\'')) {
        j++;
        nose = 1;
    }
    if (e == '8' && !nose)
        return 0;
    if (j >= ce)
        return 0;
    char m = s[j];
    if (!strchr(")(DPpO/|][*3", m))
        return 0;
    size_t k = j + 1;
    while (k < ce && s[k] == m && (m == ')' || m == '(' || m == 'D'))
        k++;
    if (k < ce && alnum((unsigned char)s[k]))
        return 0;
    if (m == '/' && k < ce && s[k] == '/')
        return 0; /* :// */
    return k;
}

/* One token (or a few) at i, inside the chunk [i, ce). */
static size_t token_at(tz *z, size_t i, size_t ce, int *rc)
{
    int32_t cp;
    size_t n;
    int c = cls_at(z, i, &cp, &n);
    int after_word = 0;
    if (i > 0 && z->gap == GAP_NONE) {
        int32_t pcp;
        after_word = ch_is_wordish(cls_before(z, i, &pcp));
    }
    if (ch_is_wordish(c)) {
        if (!after_word && url_start(z, i, ce)) {
            size_t e = url_end(z, i);
            *rc = emit(z, i, e, TK_URL, SH_MIXED, 0);
            return e;
        }
        return word_at(z, i, ce, !after_word && c != CH_MARK, rc);
    }
    if ((cp == '@' || cp == '#') && !after_word && i + 1 < ce) {
        size_t j = i + 1;
        while (j < ce) {
            int32_t c2;
            size_t n2;
            int k = cls_at(z, j, &c2, &n2);
            if (!ch_is_wordish(k) && c2 != '_')
                break;
            j += n2;
        }
        if (j > i + 1) {
            *rc = emit(z, i, j, TK_URL, SH_MIXED, 0);
            return j;
        }
    }
    if (!after_word &&
        (cp == ':' || cp == ';' || cp == '=' || cp == '8' || cp == '<')) {
        size_t e = emoticon_at(z, i, ce);
        if (e) {
            *rc = emit(z, i, e, TK_EMO, SH_PUNCT, 0);
            return e;
        }
    }
    if (cp == '.' || cp == 0x2026) {
        size_t j = i, dots = 0, ell = 0;
        while (j < z->len) {
            if (z->s[j] == '.') {
                j++;
                dots++;
            } else if (j + 2 < z->len && (unsigned char)z->s[j] == 0xE2 &&
                       (unsigned char)z->s[j + 1] == 0x80 &&
                       (unsigned char)z->s[j + 2] == 0xA6) {
                j += 3;
                ell++;
            } else
                break;
        }
        if (dots + ell >= 2 || ell) {
            *rc = emit(z, i, j, TK_ELLIPSIS, SH_PUNCT, 0);
            return j;
        }
        /* ". . ." (at least three), not right after a word */
        if (!after_word) {
            size_t k = i + 1, d = 1, last = i + 1;
            while (k + 1 < z->len && z->s[k] == ' ' && z->s[k + 1] == '.') {
                d++;
                k += 2;
                last = k;
            }
            if (d >= 3) {
                *rc = emit(z, i, last, TK_ELLIPSIS, SH_PUNCT, TF_SPACED);
                return last;
            }
        }
        *rc = emit(z, i, i + 1, TK_TERM, SH_PUNCT, 0);
        return i + 1;
    }
    if (is_term_cp(cp)) {
        size_t j = i;
        while (j < ce) {
            int32_t c2;
            size_t n2;
            cls_at(z, j, &c2, &n2);
            if (!is_term_cp(c2))
                break;
            j += n2;
        }
        *rc = emit(z, i, j, TK_TERM, SH_PUNCT, 0);
        return j;
    }
    if (sep_char(cp)) {
        size_t j = i + n, count = 1;
        while (j + n <= ce && memcmp(z->s + j, z->s + i, n) == 0) {
            j += n;
            count++;
        }
        if (count >= 3) {
            *rc = emit(z, i, j, TK_SEP, SH_PUNCT, 0);
            return j;
        }
        if (count == 2 && cp == '-') {
            /* "--" standing alone between spaces: a separator */
            int alone = !after_word && z->gap != GAP_NONE &&
                        (j >= z->len || space_at(z, j));
            *rc = emit(z, i, j, alone ? TK_SEP : TK_PUNCT, SH_PUNCT, 0);
            return j;
        }
    }
    /* a clitic after an abbreviation: Jr.'s */
    size_t an;
    if (i > 0 && z->s[i - 1] == '.' && is_apos(z, i, &an)) {
        size_t j = i + an;
        while (j < ce && ((z->s[j] >= 'a' && z->s[j] <= 'z') ||
                          (z->s[j] >= 'A' && z->s[j] <= 'Z')))
            j++;
        if (j > i + an && is_clitic(z->s + i + an, j - i - an) &&
            (j == ce || !ch_is_wordish(cls_at(z, j, &cp, &n)))) {
            *rc = emit(z, i, j, TK_WORD, SH_XXXX_LOW, 0);
            return j;
        }
    }
    int bullet;
    unsigned fl = punct_flags(cp, &bullet);
    if (!after_word && c == CH_PUNCT && (cp == '-' || cp == 0x2013) &&
        (z->gap >= GAP_NL))
        fl |= TF_BULLET;
    (void)bullet;
    *rc = emit(z, i, i + n, TK_PUNCT, SH_PUNCT, fl);
    return i + n;
}

/* Append a short token (under 4 GiB) with no flags. */
static inline int push(tz *z, size_t start, size_t end, int kind, int shape)
{
    seg_toks *t = z->out;
    if (t->n == t->cap && toks_grow(t))
        return -ENOMEM;
    put_tok(z, t, start, (uint32_t)(end - start), (unsigned)kind,
            (unsigned)shape, 0);
    return 0;
}

#ifdef __SSE2__
#include <emmintrin.h>
/* Bits set in a 16-bit mask (no popcnt instruction in the x86-64 baseline:
 * __builtin_popcount would be a libgcc call). */
static inline unsigned popcount16(unsigned x)
{
    x = x - ((x >> 1) & 0x5555u);
    x = (x & 0x3333u) + ((x >> 2) & 0x3333u);
    x = (x + (x >> 4)) & 0x0F0Fu;
    return (x + (x >> 8)) & 0x1Fu;
}

/* The run of ASCII letters at the start of p[0, 16): its length, and the
 * bit mask of its capitals (bit k: p[k]). */
static inline void letters16(const char *p, unsigned *run, unsigned *caps)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    /* (c | 0x20) - 'a' < 26 as unsigned bytes: a letter */
    __m128i low = _mm_sub_epi8(_mm_or_si128(v, _mm_set1_epi8(0x20)),
                               _mm_set1_epi8('a'));
    __m128i let = _mm_cmpeq_epi8(_mm_min_epu8(low, _mm_set1_epi8(25)), low);
    /* c - 'A' < 26: a capital */
    __m128i u = _mm_sub_epi8(v, _mm_set1_epi8('A'));
    __m128i cap = _mm_cmpeq_epi8(_mm_min_epu8(u, _mm_set1_epi8(25)), u);
    unsigned lm = (unsigned)_mm_movemask_epi8(let);
    /* lm has 16 bits: ~lm always has bit 16 set, so the count is at most
     * 16 (all letters) with no test */
    unsigned n = (unsigned)__builtin_ctz(~lm);
    *run = n;
    *caps = (unsigned)_mm_movemask_epi8(cap) & ((1u << n) - 1u);
}
#endif

/* ASCII letters: 1 lower case, 2 upper case. */
static const unsigned char letter_tab[256] = {['a' ... 'z'] = 1,
                                              ['A' ... 'Z'] = 2};

/* Shape of a run of ASCII letters, indexed by: bits 0-1 the capitals
 * (0, 1, 2 or more), bit 2 all capitals, bit 3 a capital first. */
static const uint8_t plain_shape[16] = {
    [0] = SH_XXXX_LOW,  /* "word" */
    [1] = SH_MIXED,     /* one capital, not first: "eBay" */
    [2] = SH_MIXED,     /* "iPhoneX" */
    [4] = SH_XXXX_LOW,  /* (cannot be: no letter) */
    [5] = SH_XXXX_CAP,  /* (cannot be: all capitals, the one not first) */
    [6] = SH_XX,        /* (cannot be) */
    [8] = SH_XXXX_LOW,  /* (cannot be: a capital first, none counted) */
    [9] = SH_XXXX_CAP,  /* "Word" */
    [10] = SH_MIXED,    /* "McDonald" */
    [12] = SH_XXXX_LOW, /* (cannot be) */
    [13] = SH_XXXX_CAP, /* "I" */
    [14] = SH_XX,       /* "NASA" */
};

/* Bytes after which a run of ASCII letters is a plain word. */
static const unsigned char plain_end[256] = {
    [' '] = 1, ['\n'] = 1, ['\t'] = 1, ['\r'] = 1, [','] = 1, [';'] = 1,
    [')'] = 1, [']'] = 1,  ['}'] = 1,  ['"'] = 1,  ['?'] = 1, ['!'] = 1};

int seg_tokenize(const seg_lang *lang, const char *text, size_t len,
                 seg_toks *toks)
{
    tz z = {lang, text, len, toks, GAP_PARA};
    /* about one token per five bytes of news prose (and fewer in most
     * other text): reserve once, so that growing is rare; an array kept
     * from an earlier text (toks->n == 0, its content not needed) is
     * replaced when too small rather than copied by realloc */
    size_t want = len / 4 + 64;
    if (want > ((size_t)1 << 20))
        want = (size_t)1 << 20; /* big texts grow by doubling */
    if (len > 0 && toks->cap - toks->n < want &&
        toks_resize(toks, toks->n + want))
        return -ENOMEM;
    size_t n0 = toks->n;
    if (n0 == 0)
        toks->blank_lines = 0;
    size_t i = 0;
    int rc = 0;
    unsigned char b; /* text[i] at the top of the chunk loop */
    while (i < len) {
        /* white space: one plain space first, the common case */
        if (text[i] == ' ' && i + 1 < len && toks->n > 0) {
            unsigned char nb = (unsigned char)text[i + 1];
            if (nb > ' ' && nb < 0x80) {
                i++;
                z.gap = GAP_SPACE;
                goto chunk;
            }
        }
        size_t ws_start = i;
        unsigned nl = 0, sp_before_nl = 0;
        while (i < len) {
            unsigned char wb = (unsigned char)text[i];
            if (wb == ' ' || wb == '\t') {
                if (nl == 0)
                    sp_before_nl = 1;
                i++;
                continue;
            }
            if (wb == '\n') {
                nl++;
                i++;
                continue;
            }
            if (wb == '\r') {
                if (i + 1 >= len || text[i + 1] != '\n')
                    nl++;
                i++;
                continue;
            }
            if (wb < 0x80 && wb != '\v' && wb != '\f')
                break;
            int32_t cp;
            size_t n;
            int c = ch_class(text, len, i, &cp, &n);
            if (c == CH_NL)
                nl++;
            else if (c == CH_SPACE) {
                if (nl == 0)
                    sp_before_nl = 1;
            } else
                break;
            i += n;
        }
        if (i >= len)
            break;
        if (toks->n > 0 && nl && sp_before_nl)
            toks->v[toks->n - 1].flags |= TF_SPACEAFTER_NL;
        if (toks->n > 0) {
            z.gap = nl >= 2        ? GAP_PARA
                    : nl == 1      ? GAP_NL
                    : i > ws_start ? GAP_SPACE
                                   : GAP_NONE;
            toks->blank_lines |= nl >= 2;
        }
    chunk:
        /* the tokens of the chunk up to the next white space */
        do {
            /* fast path: a plain ASCII word ended by a space or by simple
             * punctuation; anything else takes token_at() */
            b = (unsigned char)text[i];
            if (letter_tab[b]) {
            word:;
                /* the text is NUL-terminated: letter_tab[0] stops the scan */
                size_t up = letter_tab[b] == 2;
                size_t j = i + 1;
#ifdef __SSE2__
                /* 16 bytes at a time while they are all letters */
                while (j + 16 <= len) {
                    unsigned run, caps;
                    letters16(text + j, &run, &caps);
                    j += run;
                    if (caps)
                        up += popcount16(caps);
                    if (run < 16)
                        goto word_end; /* text[j] is no ASCII letter */
                }
#endif
                for (;;) {
                    unsigned char c = (unsigned char)text[j];
                    if (letter_tab[c] == 1) {
                        j++;
                        continue;
                    }
                    if (letter_tab[c] != 2)
                        break;
                    up++;
                    j++;
                }
#ifdef __SSE2__
            word_end:;
#endif
                unsigned char e = (unsigned char)text[j]; /* NUL at len */
                /* "word." before white space or the end: the word
                 * (with its period when an abbreviation) and a full stop.
                 * Tested only after the commoner plain ends: most words
                 * end at a space or a comma. text[j + 1] is read only
                 * after a '.', so j < len. */
                int plain = plain_end[e] || j >= len, stop = 0;
                if (!plain) {
                    unsigned char e1 = (unsigned char)text[j + 1];
                    stop = e == '.' && (e1 == ' ' || e1 == '\n' || e1 == 0 ||
                                        e1 == '\r' || e1 == '\t');
                    plain = stop;
                }
                if (plain && j - i <= UINT32_MAX) {
                    /* the shape from a table, not from branches that a
                     * predictor misses on every few words */
                    unsigned si = (unsigned)(up < 2 ? up : 2) |
                                  (unsigned)(up == j - i) << 2 |
                                  (unsigned)(letter_tab[b] == 2) << 3;
                    int shape = plain_shape[si];
                    if (!stop) {
                        /* the commonest token of all, on its own path:
                         * kind and flags constants, nothing after it */
                        if ((rc = push(&z, i, j, TK_WORD, shape)) != 0)
                            return rc;
                        i = j;
                        goto next;
                    }
                    /* "word." before white space */
                    int kind = TK_WORD, ap = abbrev_period(&z, i, j, 0);
                    if (ap == 1) {
                        kind = TK_ABBR;
                        j++;
                        stop = 0;
                    }
                    if ((rc = push(&z, i, j, kind, shape)) != 0)
                        return rc;
                    if (ap == 2)
                        toks->v[toks->n - 1].flags = TF_NUMABBR;
                    if (stop && (rc = push(&z, j, j + 1, TK_TERM, SH_PUNCT)))
                        return rc;
                    i = j + (stop != 0);
                    goto next;
                }
            }
            if (b == ',') { /* the commonest punctuation */
                if ((rc = push(&z, i, i + 1, TK_PUNCT, SH_PUNCT)) != 0)
                    return rc;
                i++;
                goto next;
            }
            i = token_at(&z, i, len, &rc);
            if (rc)
                return rc;
            continue;
        next:
            /* the commonest white space, one space before a letter, is
             * taken here rather than by the outer loop (text[len] is NUL) */
            if (text[i] == ' ' && letter_tab[(unsigned char)text[i + 1]]) {
                z.gap = GAP_SPACE;
                b = (unsigned char)text[++i];
                goto word; /* i < len: text[len] is NUL, no letter */
            }
        } while (i < len && (((unsigned char)text[i] > ' ' &&
                              (unsigned char)text[i] < 0x80) ||
                             !space_at(&z, i)));
    }
    if (n0 == 0 && toks->n > 0)
        toks->fl[0] |= SF_LOOK; /* the first token: always looked at */
    if (n0 > 0 && toks->n > n0)
        toks->blank_lines = 1; /* the first of these: GAP_PARA */
    return 0;
}
