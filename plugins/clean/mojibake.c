/* Mojibake repair in the manner of ftfy: text that was UTF-8 but decoded
 * with a single-byte code page (once or twice) is re-encoded with that code
 * page and decoded as UTF-8, but only where the result is clearly better by
 * a cost measure on character classes (never a blind replace table).
 *
 * Per line: (1) whole-line candidates, one code page at a time, up to three
 * rounds, kept when the cost falls; (2) a partial pass that re-decodes single
 * UTF-8-looking sequences that are unmistakably mojibake ("â€™", "Ã©"),
 * for lines that mix good and broken text. Every output character keeps the
 * byte range of the input it came from, so the alignment stays exact. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "clean.h"

typedef struct wtext {
    int32_t *cp;
    uint32_t *s, *e; /* source byte range of each character, in the line */
    size_t n, cap;
} wtext;

typedef struct ws {
    wtext a, b;
    unsigned char *bytes;
    uint32_t *bs, *be; /* source range of each encoded byte */
    size_t nb, bcap;
} ws;

static int wt_reserve(wtext *w, size_t n)
{
    if (n <= w->cap)
        return 0;
    size_t cap = w->cap ? w->cap : 256;
    while (cap < n)
        cap *= 2;
    int32_t *cp = realloc(w->cp, cap * sizeof *cp);
    if (cp)
        w->cp = cp;
    uint32_t *s = realloc(w->s, cap * sizeof *s);
    if (s)
        w->s = s;
    uint32_t *e = realloc(w->e, cap * sizeof *e);
    if (e)
        w->e = e;
    if (!cp || !s || !e)
        return -ENOMEM;
    w->cap = cap;
    return 0;
}

static int ws_reserve_bytes(ws *w, size_t n)
{
    if (n <= w->bcap)
        return 0;
    size_t cap = w->bcap ? w->bcap : 1024;
    while (cap < n)
        cap *= 2;
    unsigned char *b = realloc(w->bytes, cap);
    if (b)
        w->bytes = b;
    uint32_t *s = realloc(w->bs, cap * sizeof *s);
    if (s)
        w->bs = s;
    uint32_t *e = realloc(w->be, cap * sizeof *e);
    if (e)
        w->be = e;
    if (!b || !s || !e)
        return -ENOMEM;
    w->bcap = cap;
    return 0;
}

static void ws_free(ws *w)
{
    free(w->a.cp);
    free(w->a.s);
    free(w->a.e);
    free(w->b.cp);
    free(w->b.s);
    free(w->b.e);
    free(w->bytes);
    free(w->bs);
    free(w->be);
}

/* ------------------------------------------------------------------------ */
/* Cost                                                                      */

static int is_latin(int32_t c)
{
    return c < 0x250 || (c >= 0x1E00 && c <= 0x1EFF) ||
           (c >= 0x2C60 && c <= 0x2C7F) || (c >= 0xA720 && c <= 0xA7FF) ||
           (c >= 0xFF21 && c <= 0xFF5A);
}

static char char_class(int32_t c)
{
    if (c == ' ' || c == '\t' || c == '\n')
        return ' ';
    if (c >= 0x80 && c <= 0x9F)
        return 'X';
    if (c == 0xB4 || c == '^' || c == '`') /* used as apostrophes/eyes */
        return 'o';
    const utf8proc_property_t *p = utf8proc_get_property(c);
    switch (p->category) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LT:
        return is_latin(c) ? 'L' : 'A';
    case UTF8PROC_CATEGORY_LL:
        if ((c >= 0x250 && c <= 0x2AF) || (c >= 0x1D00 && c <= 0x1DBF))
            return 'i';
        return is_latin(c) ? 'l' : 'a';
    case UTF8PROC_CATEGORY_LO:
        return 'C';
    case UTF8PROC_CATEGORY_LM:
        return 'm';
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
        return 'M';
    case UTF8PROC_CATEGORY_NO:
        return 'N';
    case UTF8PROC_CATEGORY_SM:
    case UTF8PROC_CATEGORY_SC:
        return '1';
    case UTF8PROC_CATEGORY_SK:
        return '2';
    case UTF8PROC_CATEGORY_SO:
        return '3';
    case UTF8PROC_CATEGORY_CO:
        return 'P';
    case UTF8PROC_CATEGORY_CN:
        return '_';
    case UTF8PROC_CATEGORY_CS:
        return 'S';
    case UTF8PROC_CATEGORY_ZS:
        return ' ';
    default:
        return 'o';
    }
}

static int in_set(int32_t c, const int32_t *set)
{
    for (; *set; set++)
        if (*set == c)
            return 1;
    return 0;
}

/* Characters that follow Â/Ã/Ă only in mojibake. */
static const int32_t after_a_hat[] = {
    0x20AC, 0x192, 0x201A, 0x201E, 0x2020, 0x2021, 0x2C6, 0x2030, 0x2039,
    0x152, 0x201C, 0x2022, 0x2DC, 0x153, 0x178, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5,
    0xA6, 0xA7, 0xA8, 0xAA, 0xAB, 0xAC, 0xAF, 0xB0, 0xB1, 0xB2, 0xB3, 0xB5,
    0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xBC, 0xBD, 0xBE, 0xBF, 0x2C7, 0x2D8, 0x2DD,
    0};
static const int32_t after_a_hat_word[] = {0x203A, 0xBB, 0x2018, 0x201D, 0xB4,
                                           0xA9, 0x2122, 0};
static const int32_t after_not_sqrt[] = {
    0xC4, 0xC5, 0xC7, 0xC9, 0xD1, 0xD6, 0xDC, 0xE1, 0xE0, 0xE2, 0xE4, 0xE3,
    0xE5, 0xE7, 0xE9, 0xE8, 0xEA, 0xEB, 0xED, 0xEC, 0xEE, 0xEF, 0xF1, 0xFA,
    0xF9, 0xFB, 0xFC, 0x2020, 0xA2, 0xA3, 0xA7, 0xB6, 0xDF, 0xAE, 0xA9, 0x2122,
    0x2260, 0xC6, 0xD8, 0xA5, 0xAA, 0xE6, 0xF8, 0x2264, 0x2265, 0};
static const int32_t after_ve_je[] = {0x459, 0x45B, 0xA6, 0xB0, 0x2116, 0x2122,
                                      0x45C, 0x201C, 0x201D, 0};
static const int32_t common_syms[] = {
    0x2026, 0x2014, 0x2013, 0x2018, 0x201C, 0x2019, 0x201D, 0xA1, 0xBF, 0xB0,
    0x2122, 0xAE, 0x2039, 0x203A, 0xAB, 0xBB, 0xA0, 0xB4, 0xD7, 0xDF, 0xFEFF,
    0};

/* Characters nearly only seen in mojibake. */
static int bad_char(int32_t c)
{
    return (c >= 0x80 && c <= 0x9F) || c == 0xA6 || c == 0xA4 || c == 0xA8 ||
           c == 0xAC || c == 0xAF || c == 0xB6 || c == 0xA7 || c == 0xB8 ||
           c == 0x192 || c == 0x2C6 || c == 0x2C7 || c == 0x2D8 ||
           c == 0x2DB || c == 0x2DC || c == 0x2020 || c == 0x2021 ||
           c == 0x2030 || c == 0x25CA || c == 0xAA || c == 0xBA;
}

static int is_word(int32_t c)
{
    if (c < 0x80)
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
               (c >= 'A' && c <= 'Z') || c == '_';
    utf8proc_category_t k = utf8proc_category(c);
    return k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_NO;
}

static long text_cost2(const int32_t *t, size_t n, long *badness,
                       long *signatures)
{
    long weird = 0, moji = 0, common = 0;
    char prev = ' ';
    for (size_t i = 0; i < n; i++) {
        int32_t c = t[i];
        if (c < 0x80 && i > 0 && t[i - 1] < 0x80) {
            prev = char_class(c);
            continue; /* ASCII pairs are never weird */
        }
        char k = char_class(c);
        if (k == '2' || k == 'X' || k == 'P' || k == '_' || k == 'S')
            weird++;
        if (i > 0) {
            if (k == 'M' && prev != 'C' && prev != 'M')
                weird++;
            if ((prev == 'L' || prev == 'l') &&
                (k == 'A' || k == 'a' || k == 'C'))
                weird++;
            if ((k == 'L' || k == 'l') &&
                (prev == 'A' || prev == 'a' || prev == 'C'))
                weird++;
            if ((prev == 'L' || prev == 'A') && k == 'i')
                weird++;
            if (prev == 'i' && (k == 'L' || k == 'A'))
                weird++;
            if (k != prev && strchr("MmN13", k) && strchr("MmN13", prev))
                weird++;
        }
        prev = k;
        if (c >= 0x80 && in_set(c, common_syms))
            common++;
        int32_t nx = i + 1 < n ? t[i + 1] : 0;
        int32_t nx2 = i + 2 < n ? t[i + 2] : 0;
        if (c == 0xC2 || c == 0xC3 || c == 0x102) {
            if ((nx >= 0x80 && nx <= 0x9F) || in_set(nx, after_a_hat) ||
                in_set(nx, after_a_hat_word))
                moji++;
            /* "Ã " for "à " inside lowercase words */
            if (c == 0xC3 && nx == ' ' &&
                ((nx2 >= 'a' && nx2 <= 'z') ||
                 (nx2 == ' ' && i + 3 < n && t[i + 3] >= 'a' &&
                  t[i + 3] <= 'z')) &&
                !(i > 0 && t[i - 1] >= 'A' && t[i - 1] <= 'Z'))
                moji++;
        } else if ((c == 0xAC || c == 0x221A) && in_set(nx, after_not_sqrt)) {
            moji++;
        } else if (c == 0x221A && (nx == 0xB1 || nx == 0x2202) && i > 0 &&
                   is_word(t[i - 1]) && is_word(nx2)) {
            moji++;
        } else if ((c == 0xF0 || c == 0x111) && (nx == 0x178 || nx == 0x9F)) {
            moji++;
        } else if (c == 0xE2 && nx == 0x20AC) {
            moji++;
        } else if (c == 0x432 && nx == 0x402 && in_set(nx2, after_ve_je)) {
            moji++;
        } else if (c == 0xD7 && ((nx >= 0x80 && nx <= 0x9F) ||
                                 (nx >= 0x2013 && nx <= 0x2022) ||
                                 nx == 0xA2 || nx == 0xA9 || nx == 0xAA)) {
            moji++; /* Hebrew read as Windows-1252 */
        }
        if (c >= 0x2500 && c <= 0x257F &&
            ((nx >= 0xC0 && nx <= 0x17F) ||
             (i > 0 && t[i - 1] >= 0xC0 && t[i - 1] <= 0x17F)))
            moji++; /* box drawing against an accented letter: cp437 */
        if (bad_char(c) &&
            ((nx >= 0xC0 && nx <= 0x17F && nx != 0xD7 && nx != 0xF7) ||
             (i > 0 && t[i - 1] >= 0xC0 && t[i - 1] <= 0x17F &&
              t[i - 1] != 0xD7 && t[i - 1] != 0xF7)))
            moji++;
    }
    if (badness)
        *badness = weird + moji;
    if (signatures)
        *signatures = moji;
    return (long)n + 2 * weird + 2 * moji - common;
}

static long text_cost(const int32_t *t, size_t n)
{
    return text_cost2(t, n, NULL, NULL);
}

/* ------------------------------------------------------------------------ */
/* One whole-line step                                                       */

/* The page order of the search: the common mix-ups first. */
static const int page_order[] = {CP_LATIN1, CP_1252, CP_1250, CP_8859_2,
                                 CP_1251, CP_1257, CP_MACROMAN, CP_437};
static const int page_cost[] = {[CP_LATIN1] = 0, [CP_1252] = 0,
                                [CP_1250] = 0,   [CP_8859_2] = 0,
                                [CP_1251] = 0,   [CP_1257] = 1,
                                [CP_MACROMAN] = 2, [CP_437] = 3};

static int encode_line(const codepage *p, int sloppy_fffd, const wtext *t,
                       ws *w)
{
    if (ws_reserve_bytes(w, t->n * 2 + 4))
        return -ENOMEM;
    w->nb = 0;
    int any_high = 0;
    for (size_t i = 0; i < t->n; i++) {
        int32_t c = t->cp[i];
        int b;
        if (c < 0x80)
            b = c;
        else if (c == 0xFFFD && sloppy_fffd)
            b = 0x1A;
        else
            b = cp_encode(p, c);
        if (b < 0)
            return 1; /* not encodable */
        any_high |= b >= 0x80;
        w->bytes[w->nb] = (unsigned char)b;
        w->bs[w->nb] = t->s[i];
        w->be[w->nb] = t->e[i];
        w->nb++;
    }
    return any_high ? 0 : 1;
}

/* "Ã " where "à " was meant: a space that stood for byte A0 after a lead
 * byte. Returns how many A0 bytes were put back. */
static int restore_a0(ws *w)
{
    int count = 0;
    for (size_t i = 0; i + 1 < w->nb; i++) {
        unsigned char c = w->bytes[i];
        if (w->bytes[i + 1] != ' ')
            continue;
        if (!(c == 0xC2 || c == 0xC3 || c == 0xC5 || c == 0xCE ||
              c == 0xD0 || c == 0xD9))
            continue;
        const unsigned char *nx = w->bytes + i + 2;
        size_t left = w->nb - i - 2;
        int keep_space =
            c == 0xC3 &&
            !((left >= 1 && nx[0] == ' ') ||
              (left >= 2 && nx[0] == 's' && (left == 1 || nx[1] == ' ')) ||
              (left >= 5 && (memcmp(nx, "quele", 5) == 0 ||
                             memcmp(nx, "quela", 5) == 0 ||
                             memcmp(nx, "quilo", 5) == 0)));
        if (keep_space) { /* insert A0 before the space */
            if (ws_reserve_bytes(w, w->nb + 1))
                return -1;
            memmove(w->bytes + i + 2, w->bytes + i + 1, w->nb - i - 1);
            memmove(w->bs + i + 2, w->bs + i + 1, (w->nb - i - 1) * 4);
            memmove(w->be + i + 2, w->be + i + 1, (w->nb - i - 1) * 4);
            w->nb++;
        }
        w->bytes[i + 1] = 0xA0;
        count++;
        i++;
    }
    return count;
}

/* Sequences where a lossy decode left 0x1A (or '?') in UTF-8 become U+FFFD,
 * as does a lone 0x1A. */
static int replace_lossy(ws *w)
{
    size_t nb = w->nb, o = 0;
    unsigned char *b = malloc(nb * 3 + 3);
    uint32_t *bs = malloc((nb * 3 + 3) * sizeof *bs);
    uint32_t *be = malloc((nb * 3 + 3) * sizeof *be);
    if (!b || !bs || !be) {
        free(b);
        free(bs);
        free(be);
        return -ENOMEM;
    }
    for (size_t i = 0; i < nb;) {
        unsigned c = w->bytes[i];
        size_t need = c >= 0xC2 && c <= 0xDF   ? 1
                      : c >= 0xE0 && c <= 0xEF ? 2
                      : c >= 0xF0 && c <= 0xF4 ? 3
                                               : 0;
        size_t take = 0;
        if (c == 0x1A) {
            take = 1;
        } else if (need && i + need < nb + 0 + 1 && i + need <= nb - 1) {
            int lossy = 0, real = 0, ok = 1;
            for (size_t k = 1; k <= need; k++) {
                unsigned d = w->bytes[i + k];
                if (d == 0x1A || (d == '?' && need > 1))
                    lossy++;
                else if ((d & 0xC0) == 0x80)
                    real++;
                else
                    ok = 0;
            }
            if (ok && lossy && (real || need == 1 ||
                                memchr(w->bytes + i + 1, 0x1A, need)))
                take = need + 1;
        }
        if (take) {
            static const unsigned char fffd[3] = {0xEF, 0xBF, 0xBD};
            for (int k = 0; k < 3; k++) {
                b[o] = fffd[k];
                bs[o] = w->bs[i];
                be[o] = w->be[i + take - 1];
                o++;
            }
            i += take;
        } else {
            b[o] = w->bytes[i];
            bs[o] = w->bs[i];
            be[o] = w->be[i];
            o++;
            i++;
        }
    }
    free(w->bytes);
    free(w->bs);
    free(w->be);
    w->bytes = b;
    w->bs = bs;
    w->be = be;
    w->nb = o;
    w->bcap = nb * 3 + 3;
    return 0;
}

/* Decode w->bytes as UTF-8 (CESU-8 surrogate pairs allowed) into t.
 * Returns 0, 1 when not UTF-8, or -ENOMEM. */
static int decode_bytes(ws *w, wtext *t)
{
    if (wt_reserve(t, w->nb + 1))
        return -ENOMEM;
    t->n = 0;
    const unsigned char *b = w->bytes;
    size_t i = 0, nb = w->nb;
    while (i < nb) {
        unsigned c = b[i];
        size_t n;
        int32_t cp;
        if (c == 0x1A)
            return 1;
        if (c < 0x80) {
            n = 1;
            cp = (int32_t)c;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 2;
            cp = (int32_t)(c & 0x1F);
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 3;
            cp = (int32_t)(c & 0x0F);
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4;
            cp = (int32_t)(c & 0x07);
        } else {
            return 1;
        }
        if (i + n > nb)
            return 1;
        for (size_t k = 1; k < n; k++) {
            if ((b[i + k] & 0xC0) != 0x80)
                return 1;
            cp = (cp << 6) | (b[i + k] & 0x3F);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
            return 1;
        size_t used = n;
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 <= nb && b[i + 3] == 0xED &&
            (b[i + 4] & 0xF0) == 0xB0 && (b[i + 5] & 0xC0) == 0x80) {
            int32_t lo = 0xD000 | ((b[i + 4] & 0x3F) << 6) | (b[i + 5] & 0x3F);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            used = 6;
        } else if (cp >= 0xD800 && cp <= 0xDFFF) {
            return 1;
        }
        t->cp[t->n] = cp;
        t->s[t->n] = w->bs[i];
        t->e[t->n] = w->be[i + used - 1];
        t->n++;
        i += used;
    }
    return 0;
}

/* One step over the whole line `in`: the first code page that turns it into
 * UTF-8. Returns 0 with `out` filled and *cost the step's cost, 1 for no
 * candidate, or -ENOMEM. */
static int one_step(const clean_cfg *cfg, const wtext *in, wtext *out, ws *w,
                    long *cost, int bad)
{
    int has_1a = 0, ascii = 1;
    for (size_t i = 0; i < in->n; i++) {
        has_1a |= in->cp[i] == 0x1A;
        ascii &= in->cp[i] < 0x80;
    }
    if (ascii)
        return 1;
    for (size_t k = 0; k < sizeof page_order / sizeof *page_order; k++) {
        int pg = page_order[k];
        const codepage *p = &cfg->pages[pg];
        if (!p->loaded || (pg == CP_437 && !bad))
            continue; /* code page 437 is rare: it needs evidence */
        int rc = encode_line(p, !has_1a && pg != CP_LATIN1, in, w);
        if (rc < 0)
            return rc;
        if (rc)
            continue;
        int restored = restore_a0(w);
        if (restored < 0)
            return -ENOMEM;
        if (pg != CP_LATIN1 && replace_lossy(w))
            return -ENOMEM;
        rc = decode_bytes(w, out);
        if (rc < 0)
            return rc;
        if (rc)
            continue;
        *cost = page_cost[pg] + restored;
        return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Partial repair of unmistakable sequences                                  */

static int enc_mixed(const clean_cfg *cfg, int32_t c)
{
    int b = cp_encode(&cfg->pages[CP_1252], c);
    if (b < 0 && c >= 0x80 && c <= 0x9F)
        b = c;
    return b;
}

/* Continuations that follow a Latin-1 capital only in mojibake. */
static int generic_cont_bad(int32_t b)
{
    if (b >= 0x80 && b <= 0x9F)
        return 1;
    if (b >= 0xA1 && b <= 0xBF)
        return b != 0xA3 && b != 0xA5 && b != 0xAD;
    return b == 0x20AC || b == 0x201A || b == 0x192 || b == 0x201E ||
           b == 0x2020 || b == 0x2021 || b == 0x2C6 || b == 0x2030 ||
           b == 0x2039 || b == 0x203A || b == 0x160 || b == 0x152 ||
           b == 0x17D || b == 0x161 || b == 0x153 || b == 0x17E ||
           b == 0x178 || b == 0x2022 || b == 0x2DC;
}

/* Is the decoded-looking sequence t[i..i+n) surely mojibake? */
static int seq_bad(const int32_t *t, size_t n, size_t i)
{
    int32_t a = t[i], b = t[i + 1];
    if (n == 2) {
        if (a == 0xC2 || a == 0xC3 || a == 0xCE || a == 0xD0) {
            if (a == 0xC3 && b == 0xA5)
                return 0; /* "Ã¥" is also plain Latin-1 */
            return (b >= 0x80 && b <= 0x9F) || in_set(b, after_a_hat) ||
                   in_set(b, after_a_hat_word) || b == 0x160 || b == 0x161 ||
                   b == 0x17E || b == 0xA0 || b == 0xAD || b == 0x2013 ||
                   b == 0x2014;
        }
        return generic_cont_bad(b);
    }
    /* three or four bytes: only "â€" and kin and the emoji lead "ðŸ" */
    if (a == 0xE2 && (b == 0x20AC || (b >= 0x80 && b <= 0x9F)))
        return 1;
    if (n == 4 && a == 0xF0 && (b == 0x178 || b == 0x9F))
        return 1;
    return 0;
}

static int partial(const clean_cfg *cfg, const wtext *in, wtext *out, ws *w,
                   int *changed)
{
    if (wt_reserve(out, in->n + 1))
        return -ENOMEM;
    out->n = 0;
    *changed = 0;
    size_t i = 0;
    while (i < in->n) {
        int b0 = in->cp[i] >= 0xC0 ? enc_mixed(cfg, in->cp[i]) : -1;
        size_t need = b0 >= 0xC2 && b0 <= 0xDF   ? 2
                      : b0 >= 0xE0 && b0 <= 0xEF ? 3
                      : b0 >= 0xF0 && b0 <= 0xF4 ? 4
                                                 : 0;
        if (need && i + need <= in->n) {
            unsigned char bytes[4] = {(unsigned char)b0, 0, 0, 0};
            int ok = 1;
            for (size_t k = 1; k < need && ok; k++) {
                int bk = enc_mixed(cfg, in->cp[i + k]);
                if (bk < 0x80 || bk > 0xBF)
                    ok = 0;
                else
                    bytes[k] = (unsigned char)bk;
            }
            if (ok && seq_bad(in->cp, need, i)) {
                w->nb = 0;
                if (ws_reserve_bytes(w, 4))
                    return -ENOMEM;
                for (size_t k = 0; k < need; k++) {
                    w->bytes[k] = bytes[k];
                    w->bs[k] = in->s[i + k];
                    w->be[k] = in->e[i + k];
                }
                w->nb = need;
                wtext one = {0};
                if (wt_reserve(&one, 4))
                    return -ENOMEM;
                int rc = decode_bytes(w, &one);
                if (rc == 0 && one.n == 1 && one.cp[0] >= 0x80) {
                    out->cp[out->n] = one.cp[0];
                    out->s[out->n] = in->s[i];
                    out->e[out->n] = in->e[i + need - 1];
                    out->n++;
                    i += need;
                    *changed = 1;
                    free(one.cp);
                    free(one.s);
                    free(one.e);
                    continue;
                }
                free(one.cp);
                free(one.s);
                free(one.e);
                if (rc < 0)
                    return rc;
            }
        }
        out->cp[out->n] = in->cp[i];
        out->s[out->n] = in->s[i];
        out->e[out->n] = in->e[i];
        out->n++;
        i++;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */

static void wt_swap(wtext *a, wtext *b)
{
    wtext t = *a;
    *a = *b;
    *b = t;
}

static int wt_copy(wtext *dst, const wtext *src)
{
    if (wt_reserve(dst, src->n + 1))
        return -ENOMEM;
    memcpy(dst->cp, src->cp, src->n * sizeof *src->cp);
    memcpy(dst->s, src->s, src->n * sizeof *src->s);
    memcpy(dst->e, src->e, src->n * sizeof *src->e);
    dst->n = src->n;
    return 0;
}

/* Write the repaired line (characters with source ranges relative to
 * `base`) into out, keeping unchanged characters as copies. */
static int emit_line(const char *s, size_t base, const wtext *t, cbuf *out)
{
    size_t i = 0;
    char buf[64];
    while (i < t->n) {
        size_t gs = t->s[i], ge = t->e[i];
        size_t j = i + 1;
        while (j < t->n && t->s[j] < ge) { /* overlapping sources: group */
            if (t->e[j] > ge)
                ge = t->e[j];
            j++;
        }
        size_t bn = 0;
        char *p = buf;
        char *heap = NULL;
        if ((j - i) * 4 > sizeof buf) {
            heap = malloc((j - i) * 4);
            if (heap == NULL)
                return -ENOMEM;
            p = heap;
        }
        for (size_t k = i; k < j; k++)
            bn += u8_put(t->cp[k], p + bn);
        int same = bn == ge - gs && memcmp(p, s + base + gs, bn) == 0;
        int rc = 0;
        if (!same)
            rc = cb_replace(out, base + gs, base + ge, p, bn);
        free(heap);
        if (rc)
            return rc;
        i = j;
    }
    return 0;
}

/* Lines longer than this (bytes) are repaired in segments, so that the
 * working arrays stay small whatever the input. */
#define SEGMENT_MAX 65536

int clean_mojibake_init(clean_cfg *cfg)
{
    cfg->lead_mask = calloc(0x10000, 1);
    cfg->cont_mask = calloc(0x10000, 1);
    cfg->a0_mask = calloc(0x10000, 1);
    cfg->lead3_mask = calloc(0x10000, 1);
    if (!cfg->lead_mask || !cfg->cont_mask || !cfg->a0_mask ||
        !cfg->lead3_mask)
        return -ENOMEM;
    for (int p = 0; p < CP_COUNT; p++) {
        if (!cfg->pages[p].loaded)
            continue;
        for (int b = 0x80; b < 0x100; b++) {
            int32_t c = cfg->pages[p].hi[b - 0x80];
            if (c >= 0x10000)
                continue;
            if (b >= 0xC2 && b <= 0xDF)
                cfg->lead_mask[c] |= (uint8_t)(1u << p);
            if (b >= 0xE0 && b <= 0xF4)
                cfg->lead3_mask[c] |= (uint8_t)(1u << p);
            if (b <= 0xBF)
                cfg->cont_mask[c] |= (uint8_t)(1u << p);
            if (b == 0xC2 || b == 0xC3 || b == 0xC5 || b == 0xCE ||
                b == 0xD0 || b == 0xD9)
                cfg->a0_mask[c] = 1;
        }
    }
    /* the C1 controls stand for themselves (Latin-1 and sloppy pages) */
    for (int c = 0x80; c <= 0x9F; c++)
        cfg->cont_mask[c] |= (uint8_t)(1u << CP_LATIN1);
    /* U+FFFD may stand for a lost byte */
    cfg->cont_mask[0xFFFD] = 0xFF;
    cfg->lead_mask[0xFFFD] = 0xFF;
    cfg->lead3_mask[0xFFFD] = 0xFF;
    return 0;
}

/* Could the line s[a, b) hold mojibake at all? It must have, in one code
 * page, a two-byte lead followed by a continuation, or a longer lead
 * followed by two continuations (or a C1 control, or a space after a lead
 * that may have lost its A0). */
static int line_suspect(const clean_cfg *cfg, const char *s, size_t a,
                        size_t b)
{
    uint8_t lead2 = 0, lead3 = 0, pend3 = 0, a0 = 0;
    for (size_t i = a; i < b;) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            if (c == ' ' && a0)
                return 1; /* a space that may stand for byte A0 */
            lead2 = lead3 = pend3 = a0 = 0;
            i++;
            continue;
        }
        size_t n;
        int32_t cp = u8_get(s, b, i, &n);
        if (cp >= 0x10000) {
            lead2 = lead3 = pend3 = a0 = 0;
        } else {
            uint8_t cont = cfg->cont_mask[cp];
            if ((lead2 & cont) || (pend3 & cont))
                return 1;
            if (cp >= 0x80 && cp <= 0x9F)
                return 1; /* C1 controls are always worth a look */
            pend3 = lead3 & cont; /* a long lead and one continuation */
            lead2 = cfg->lead_mask[cp];
            lead3 = cfg->lead3_mask[cp];
            a0 = cfg->a0_mask[cp];
        }
        i += n;
    }
    return 0;
}

/* The end of the line or segment starting at ls, and where the next one
 * starts: a very long line goes in segments of SEGMENT_MAX, cut at a
 * space (or at least at a character boundary). */
static size_t line_end(const char *s, size_t len, size_t ls, size_t *next)
{
    const char *nl = memchr(s + ls, '\n', len - ls);
    size_t le = nl ? (size_t)(nl - s) : len;
    *next = le + 1;
    if (le - ls <= SEGMENT_MAX)
        return le;
    size_t cut = ls + SEGMENT_MAX;
    while (cut > ls + SEGMENT_MAX / 2 && s[cut - 1] != ' ')
        cut--;
    if (s[cut - 1] != ' ') {
        cut = ls + SEGMENT_MAX;
        while (((unsigned char)s[cut] & 0xC0) == 0x80)
            cut--;
    }
    *next = cut;
    return cut;
}

/* Whole-line repair: up to three rounds of re-decoding (double mojibake),
 * best kept the cheapest version of orig. 0 or -ENOMEM. */
static int repair_whole(const clean_cfg *cfg, ws *w, const wtext *orig, wtext *best)
{
    long bad0 = 0, steps = 0;
    long best_cost = text_cost2(orig->cp, orig->n, &bad0, NULL);
    int rc;
    if ((rc = wt_copy(best, orig)) || (rc = wt_copy(&w->a, orig)))
        return rc;
    for (int round = 0; round < 3; round++) {
        long c = 0;
        rc = one_step(cfg, &w->a, &w->b, w, &c, round > 0 || bad0 > 0);
        if (rc < 0)
            return rc;
        if (rc) /* no code page takes the line */
            return 0;
        steps += c;
        long cost = text_cost(w->b.cp, w->b.n) + steps;
        wt_swap(&w->a, &w->b);
        if (cost < best_cost) {
            best_cost = cost;
            if ((rc = wt_copy(best, &w->a)))
                return rc;
        }
    }
    return 0;
}

/* Partial repair of best, kept only when it leaves no mojibake behind (a
 * hopeless garble is better left as it is). 0 or -ENOMEM. */
static int repair_partial(const clean_cfg *cfg, ws *w, wtext *best)
{
    int rc, any = 0;
    if ((rc = wt_copy(&w->a, best)))
        return rc;
    for (int round = 0; round < 2; round++) {
        int changed = 0;
        if ((rc = partial(cfg, &w->a, &w->b, w, &changed)))
            return rc;
        if (!changed)
            break;
        any = 1;
        wt_swap(&w->a, &w->b);
    }
    if (any) {
        long bad1 = 0;
        text_cost2(w->a.cp, w->a.n, NULL, &bad1);
        if (bad1 == 0)
            return wt_copy(best, &w->a);
    }
    return 0;
}

int clean_mojibake(const clean_cfg *cfg, const char *s, size_t len,
                   cbuf *out)
{
    ws w;
    memset(&w, 0, sizeof w);
    wtext orig = {0}, best = {0};
    int rc = 0;
    for (size_t ls = 0, next; ls < len; ls = next) {
        size_t le = line_end(s, len, ls, &next);
        int high = 0;
        for (size_t i = ls; i < le; i++)
            if ((unsigned char)s[i] >= 0x80) {
                high = 1;
                break;
            }
        if (!high || (cfg->lead_mask && !line_suspect(cfg, s, ls, le)))
            continue;
        /* the line as characters */
        if (wt_reserve(&orig, le - ls + 1)) {
            rc = -ENOMEM;
            break;
        }
        orig.n = 0;
        for (size_t i = ls; i < le;) {
            size_t n;
            orig.cp[orig.n] = u8_get(s, len, i, &n);
            orig.s[orig.n] = (uint32_t)(i - ls);
            orig.e[orig.n] = (uint32_t)(i - ls + n);
            orig.n++;
            i += n;
        }
        if ((rc = repair_whole(cfg, &w, &orig, &best)) ||
            (rc = repair_partial(cfg, &w, &best)) ||
            (rc = emit_line(s, ls, &best, out)))
            break;
    }
    ws_free(&w);
    free(orig.cp);
    free(orig.s);
    free(orig.e);
    free(best.cp);
    free(best.s);
    free(best.e);
    if (rc)
        return rc;
    return cb_finish(out, len);
}
