/* Layout: spaces collapsed, leading/trailing spaces of lines removed, blank
 * lines kept as paragraph breaks (one blank line), hard-wrapped lines joined
 * and words hyphenated across a line break rejoined.
 *
 * Joining is conservative: a line is joined to the next only when
 *  - it ends with "letter-" and the next starts with a lowercase letter
 *    (hyphenation; the hyphen goes when the joined word is in the word list),
 *  - or it does not end a sentence and the next starts with a lowercase
 *    letter,
 *  - or the document is hard-wrapped (most lines that continue a paragraph
 *    are about as long as the longest, at most 120 characters) and this
 *    line is one of those full lines and the next is no list item.
 * A document whose paragraphs are single long lines (no blank lines between
 * them) is therefore left as it is: headings stay on their own line. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "clean.h"

typedef struct line {
    size_t s, e;   /* the line, without its '\n' */
    size_t cs, ce; /* its content, without leading/trailing spaces */
    size_t ncp;    /* content length in code points */
} line;

static int is_sp(char c) { return c == ' ' || c == '\t'; }

static size_t count_cp(const char *s, size_t a, size_t b)
{
    size_t n = 0;
    for (size_t i = a; i < b; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

static int32_t last_cp(const char *s, size_t a, size_t b, size_t *at)
{
    size_t i = b;
    while (i > a && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i > a)
        i--;
    size_t n;
    *at = i;
    return u8_get(s, b, i, &n);
}

static int is_lower(int32_t c)
{
    if (c < 0x80)
        return c >= 'a' && c <= 'z';
    return utf8proc_category(c) == UTF8PROC_CATEGORY_LL;
}

static int is_letter(int32_t c)
{
    if (c < 0x80)
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    utf8proc_category_t k = utf8proc_category(c);
    return k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO;
}

static int ends_sentence(int32_t c)
{
    return c == '.' || c == '!' || c == '?' || c == ':' || c == ';' ||
           c == '"' || c == ')' || c == 0x201D || c == 0x2019 || c == 0xBB ||
           c == 0x2026;
}

static int list_item(const char *s, size_t cs, size_t ce)
{
    if (cs >= ce)
        return 0;
    unsigned char c = (unsigned char)s[cs];
    if (c == '-' || c == '*' || c == '+' || c == '>' || c == '#' || c == '|')
        return 1;
    if (ce - cs >= 3 && memcmp(s + cs, "\xE2\x80\xA2", 3) == 0)
        return 1;
    size_t i = cs;
    while (i < ce && s[i] >= '0' && s[i] <= '9')
        i++;
    return i > cs && i < ce && (s[i] == '.' || s[i] == ')');
}

/* The word fragment ending at b (ASCII letters), lowercased into w. */
static size_t frag_before(const char *s, size_t a, size_t b, char *w,
                          size_t cap)
{
    size_t i = b;
    while (i > a && ((s[i - 1] >= 'a' && s[i - 1] <= 'z') ||
                     (s[i - 1] >= 'A' && s[i - 1] <= 'Z')))
        i--;
    size_t n = b - i;
    if (n == 0 || n >= cap)
        return 0;
    for (size_t k = 0; k < n; k++) {
        char c = s[i + k];
        w[k] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
    }
    return n;
}

static size_t frag_after(const char *s, size_t a, size_t b, char *w,
                         size_t cap)
{
    size_t i = a;
    while (i < b && s[i] >= 'a' && s[i] <= 'z')
        i++;
    size_t n = i - a;
    if (n == 0 || n >= cap)
        return 0;
    memcpy(w, s + a, n);
    return n;
}

/* Has the 8-byte word a zero byte? */
static inline uint64_t has_zero(uint64_t v)
{
    return (v - 0x0101010101010101ULL) & ~v & 0x8080808080808080ULL;
}

/* Collapse runs of spaces (and tabs) inside [cs, ce) of one line: a lone
 * space or tab stays, any longer run becomes one space. Two adjacent spaces
 * are looked for eight bytes at a time; a line with a tab takes the slow
 * path. */
static int collapse(const char *s, size_t cs, size_t ce, cbuf *out)
{
    int tabs = memchr(s + cs, '\t', ce - cs) != NULL;
    size_t i = cs;
    const uint64_t sp = 0x2020202020202020ULL;
    while (i + 1 < ce) {
        if (!tabs) {
            while (i + 9 <= ce) {
                uint64_t a, b;
                memcpy(&a, s + i, 8);
                memcpy(&b, s + i + 1, 8);
                if (has_zero((a ^ sp) | (b ^ sp)))
                    break;
                i += 8;
            }
        }
        if (i + 1 >= ce)
            break;
        if (!(is_sp(s[i]) && is_sp(s[i + 1]))) {
            i++;
            continue;
        }
        size_t a = i, b = i;
        while (b < ce && is_sp(s[b]))
            b++;
        if (cb_replace(out, a, b, " ", 1))
            return -ENOMEM;
        i = b;
    }
    return 0;
}

/* Parse the line starting at pos (pos <= len); 0 when there is none. */
static int get_line(const char *s, size_t len, size_t pos, line *l)
{
    if (pos > len)
        return 0;
    const char *p = memchr(s + pos, '\n', len - pos);
    size_t e = p ? (size_t)(p - s) : len;
    l->s = pos;
    l->e = e;
    l->cs = pos;
    while (l->cs < e && is_sp(s[l->cs]))
        l->cs++;
    l->ce = e;
    while (l->ce > l->cs && is_sp(s[l->ce - 1]))
        l->ce--;
    size_t nb = l->ce - l->cs;
    /* past 480 bytes a line is past 120 characters: no need to count */
    l->ncp = nb > 480 ? nb : count_cp(s, l->cs, l->ce);
    return 1;
}

static int blank(const line *l) { return l->ce == l->cs; }

/* The next line after l, or 0 at the end. */
static int next_line(const char *s, size_t len, const line *l, line *m)
{
    return get_line(s, len, l->e + 1, m);
}

int clean_layout(const clean_cfg *cfg, const char *s, size_t len, cbuf *out)
{
    /* Is the document hard-wrapped? Two streaming passes over the lines
     * (no per-line memory): the longest line that continues a paragraph,
     * then how many such lines are near it. */
    size_t W = 0, cont = 0, full = 0;
    line la, lb;
    for (int pass = 0; pass < 2 && cfg->join_lines; pass++) {
        int have = get_line(s, len, 0, &la);
        while (have) {
            int more = next_line(s, len, &la, &lb);
            if (more && !blank(&la) && !blank(&lb)) {
                if (pass == 0 && la.ncp > W)
                    W = la.ncp;
                if (pass == 1) {
                    cont++;
                    full += la.ncp * 10 >= W * 7;
                }
            }
            la = lb;
            have = more;
        }
        if (W > 120)
            break; /* cannot be hard-wrapped */
    }
    int wrapped = cfg->join_lines && W >= 30 && W <= 120 && full >= 3 &&
                  full * 10 >= cont * 6;

    int rc = 0;
    line cur, m;
    int have = get_line(s, len, 0, &cur);
    while (have && blank(&cur))
        have = next_line(s, len, &cur, &cur);
    if (!have) { /* nothing but white space */
        if (len)
            rc = cb_replace(out, 0, len, "", 0);
        return rc ? rc : cb_finish(out, len);
    }
    if (cur.cs > 0)
        rc = cb_replace(out, 0, cur.cs, "", 0);
    char w1[64], w2[64], joined[128];
    while (rc == 0) {
        line *l = &cur;
        if (cfg->collapse_spaces && (rc = collapse(s, l->cs, l->ce, out)))
            break;
        int more = next_line(s, len, l, &m);
        while (more && blank(&m))
            more = next_line(s, len, &m, &m);
        if (!more) { /* last content line: drop what follows */
            if (l->ce < len)
                rc = cb_replace(out, l->ce, len, "", 0);
            break;
        }
        if (m.s != l->e + 1) { /* blank lines between: one paragraph break */
            if (!(m.cs - l->ce == 2 && s[l->ce] == '\n' &&
                  s[l->ce + 1] == '\n'))
                rc = cb_replace(out, l->ce, m.cs, "\n\n", 2);
            cur = m;
            continue;
        }
        /* adjacent lines: join or keep the break */
        size_t at;
        int32_t lc = last_cp(s, l->cs, l->ce, &at);
        size_t n2;
        int32_t fc = u8_get(s, len, m.cs, &n2);
        int done = 0;
        if (cfg->join_hyphens && lc == '-' && at > l->cs && is_lower(fc)) {
            size_t at2;
            int32_t pc = last_cp(s, l->cs, at, &at2);
            if (is_letter(pc)) {
                size_t a = frag_before(s, l->cs, at, w1, sizeof w1);
                size_t b = frag_after(s, m.cs, m.ce, w2, sizeof w2);
                int drop = 0;
                if (a && b && cfg->words.slots) {
                    memcpy(joined, w1, a);
                    memcpy(joined + a, w2, b);
                    drop = wordset_has(&cfg->words, joined, a + b);
                }
                rc = cb_replace(out, drop ? at : l->ce, m.cs, "", 0);
                done = 1;
            }
        }
        if (!done && cfg->join_lines) {
            int join = lc == '-' ? 0 : /* hyphens are the rule above */
                       (!ends_sentence(lc) && is_lower(fc)) ||
                       (wrapped && l->ncp * 10 >= W * 6 &&
                        !list_item(s, m.cs, m.ce) && lc != ':');
            if (join) {
                rc = cb_replace(out, l->ce, m.cs, " ", 1);
                done = 1;
            }
        }
        if (!done && !(m.cs == l->ce + 1))
            rc = cb_replace(out, l->ce, m.cs, "\n", 1);
        cur = m;
    }
    if (rc)
        return rc;
    return cb_finish(out, len);
}
