/* Typography: spaces inside quotes removed and wrong-facing quotes turned
 * (“ stability “ -> “stability”), the space inside « » per option, doubled
 * punctuation collapsed (". ." -> "."), lines of only a dash or bullet
 * emptied, and optional ASCII folding of quotes and dashes. Works line by
 * line: a quote pair never spans lines. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clean.h"

typedef struct edit {
    size_t s, e;
    char rep[8];
    size_t n;
} edit;

typedef struct edits {
    edit *v;
    size_t n, cap;
} edits;

static int add_edit(edits *E, size_t s, size_t e, const char *rep, size_t n)
{
    if (E->n == E->cap) {
        size_t cap = E->cap ? E->cap * 2 : 32;
        edit *v = realloc(E->v, cap * sizeof *v);
        if (v == NULL)
            return -ENOMEM;
        E->v = v;
        E->cap = cap;
    }
    edit *x = &E->v[E->n++];
    x->s = s;
    x->e = e;
    x->n = n;
    memcpy(x->rep, rep, n);
    return 0;
}

static int edit_cmp(const void *a, const void *b)
{
    const edit *x = a, *y = b;
    if (x->s != y->s)
        return x->s < y->s ? -1 : 1;
    return (x->e > y->e) - (x->e < y->e);
}

static int is_sp(char c) { return c == ' ' || c == '\t'; }

/* Code point at i and its length (valid UTF-8). */
static int32_t cp_at(const char *s, size_t len, size_t i, size_t *n)
{
    return u8_get(s, len, i, n);
}

static int rule_char(int32_t c)
{
    return c == '-' || c == '*' || c == '_' || c == '=' || c == '~' ||
           c == 0x2013 || c == 0x2014 || c == 0x2015 || c == 0x2012 ||
           c == 0x2022 || c == 0xB7 || c == 0x2043 || c == 0x25AA ||
           c == 0x25CF || c == 0x25E6 || c == 0x2212;
}

typedef struct qpos {
    size_t at, n;
    int32_t c;
} qpos;

/* Fix the spacing (and direction) of a family of quotes on one line. */
static int fix_quotes(const char *s, size_t ls, size_t le, const qpos *q,
                      size_t nq, int turn, edits *E)
{
    if (nq == 0 || nq % 2)
        return 0; /* unbalanced: leave alone */
    /* The pairing must agree with the spacing: an opener is not glued to
     * the word before it, a closer not to the word after it. */
    for (size_t k = 0; k < nq; k++) {
        size_t a = q[k].at, b = q[k].at + q[k].n;
        int word_before = a > ls && !is_sp(s[a - 1]);
        int word_after = b < le && !is_sp(s[b]) &&
                         !strchr(".,;:!?)]}", s[b]);
        int space_before = a == ls || is_sp(s[a - 1]);
        int space_after = b == le || is_sp(s[b]);
        if (k % 2 == 0 && word_before && space_after)
            return 0;
        if (k % 2 == 1 && space_before && word_after)
            return 0;
    }
    for (size_t k = 0; k < nq; k++) {
        int open = k % 2 == 0;
        const qpos *p = &q[k];
        if (open) {
            if (turn && p->c == 0x201D &&
                add_edit(E, p->at, p->at + p->n, "\xE2\x80\x9C", 3))
                return -ENOMEM;
            size_t j = p->at + p->n;
            while (j < le && is_sp(s[j]))
                j++;
            if (j > p->at + p->n && j < le && j < q[k + 1].at &&
                add_edit(E, p->at + p->n, j, "", 0))
                return -ENOMEM;
        } else {
            if (turn && p->c == 0x201C && q[k - 1].c != 0x201E &&
                add_edit(E, p->at, p->at + p->n, "\xE2\x80\x9D", 3))
                return -ENOMEM;
            size_t j = p->at;
            while (j > ls && is_sp(s[j - 1]))
                j--;
            size_t prev_end = q[k - 1].at + q[k - 1].n;
            if (j < p->at && j > prev_end && add_edit(E, j, p->at, "", 0))
                return -ENOMEM;
        }
    }
    return 0;
}

/* Bytes that start a quote, a guillemet, a doubled punctuation mark or a
 * character to fold: '"', '.', ',', ';', and the lead bytes C2 (« ») and
 * E2 (curly quotes, dashes, bullets). */
static const unsigned char interesting[256] = {
    ['"'] = 1, ['.'] = 1, [','] = 1, [';'] = 1, [0xC2] = 1, [0xE2] = 1};

/* A line of only dashes or bullets (and spaces): where its rule starts
 * and ends, or 0 when it holds anything else. */
static int rule_line(const char *s, size_t len, size_t ls, size_t le, size_t *cs,
                     size_t *ce)
{
    int any = 0;
    *cs = le;
    *ce = ls;
    for (size_t i = ls, n; i < le; i += n) {
        int32_t c = cp_at(s, len, i, &n);
        if (c < 0x80 && is_sp((char)c))
            continue;
        if (!rule_char(c))
            return 0;
        any = 1;
        if (*cs == le)
            *cs = i;
        *ce = i + n;
    }
    return any;
}

/* Doubled punctuation at s[i] (a '.', ',' or ';'): "x. ." or "x,,", also
 * ". . ." -> "."; an ellipsis "..." is left alone. Returns where the
 * repeats end (an edit removes them), or i when there are none. */
static size_t doubled_punct(const char *s, size_t ls, size_t le, size_t i)
{
    char b = s[i];
    if (i > ls && s[i - 1] == '.')
        return i;
    size_t k = i + 1;
    for (;;) {
        size_t j = k;
        while (j < le && is_sp(s[j]))
            j++;
        if (j < le && s[j] == b && (b != '.' || j > k) && !(j + 1 < le && s[j + 1] == '.'))
            k = j + 1;
        else
            break;
    }
    return k == i + 1 ? i : k;
}

/* Curly quotes, primes and dashes of a line to ASCII (ascii_punct). */
static int ascii_line(const char *s, size_t len, size_t ls, size_t le, edits *E)
{
    for (size_t i = ls, n; i < le; i += n) {
        int32_t c = cp_at(s, len, i, &n);
        const char *r = NULL;
        if (c == 0x2018 || c == 0x2019 || c == 0x201A || c == 0x201B || c == 0x2032)
            r = "'";
        else if (c == 0x201C || c == 0x201D || c == 0x201E || c == 0x201F || c == 0xAB ||
                 c == 0xBB || c == 0x2033)
            r = "\"";
        else if (c == 0x2010 || c == 0x2011 || c == 0x2012 || c == 0x2013 || c == 0x2014 ||
                 c == 0x2015 || c == 0x2212)
            r = "-";
        if (r && add_edit(E, i, i + n, r, 1))
            return -ENOMEM;
    }
    return 0;
}

static int do_line(const clean_cfg *cfg, const char *s, size_t len, size_t ls,
                   size_t le, edits *E)
{
    size_t cs, ce;
    if (cfg->drop_rule_lines && rule_line(s, len, ls, le, &cs, &ce))
        return add_edit(E, cs, ce, "", 0);
    qpos cq[64], aq[64];
    size_t ncq = 0, naq = 0;
    for (size_t i = ls; i < le;) {
        /* skip the bytes that can start nothing of interest */
        while (i < le && !interesting[(unsigned char)s[i]])
            i++;
        if (i >= le)
            break;
        unsigned char b = (unsigned char)s[i];
        if (b < 0x80) {
            size_t k = i;
            if (b == '"' && naq < 64)
                aq[naq++] = (qpos){i, 1, '"'};
            else if (b == '.' || b == ',' || b == ';')
                k = doubled_punct(s, ls, le, i);
            if (k > i && add_edit(E, i + 1, k, "", 0))
                return -ENOMEM;
            i = k > i ? k : i + 1;
            continue;
        }
        size_t n;
        int32_t c = cp_at(s, len, i, &n);
        if ((c == 0x201C || c == 0x201D || c == 0x201E) && ncq < 64) {
            cq[ncq++] = (qpos){i, n, c};
        } else if (c == 0xAB && cfg->guillemets == GUIL_REMOVE) {
            size_t j = i + n;
            while (j < le && is_sp(s[j]))
                j++;
            if (j > i + n && j < le && add_edit(E, i + n, j, "", 0))
                return -ENOMEM;
        } else if (c == 0xBB && cfg->guillemets == GUIL_REMOVE) {
            size_t j = i;
            while (j > ls && is_sp(s[j - 1]))
                j--;
            if (j < i && j > ls && add_edit(E, j, i, "", 0))
                return -ENOMEM;
        }
        i += n;
    }
    /* turning is moot when the quotes are folded to ASCII anyway */
    if (fix_quotes(s, ls, le, cq, ncq, !cfg->ascii_punct, E) ||
        fix_quotes(s, ls, le, aq, naq, 0, E))
        return -ENOMEM;
    return cfg->ascii_punct ? ascii_line(s, len, ls, le, E) : 0;
}

int clean_typography(const clean_cfg *cfg, const char *s, size_t len,
                     cbuf *out)
{
    edits E = {0};
    int rc = 0;
    size_t ls = 0;
    while (ls <= len && rc == 0) {
        const char *nl = memchr(s + ls, '\n', len - ls);
        size_t le = nl ? (size_t)(nl - s) : len;
        E.n = 0;
        rc = do_line(cfg, s, len, ls, le, &E);
        if (rc == 0 && E.n) {
            qsort(E.v, E.n, sizeof *E.v, edit_cmp);
            /* two edits of one quote (a turn and its own spaces) never
             * overlap; the later of overlapping edits is dropped, and a
             * turn that merely repeats another is too */
            size_t last_end = 0;
            int first = 1;
            for (size_t k = 0; k < E.n && rc == 0; k++) {
                edit *x = &E.v[k];
                if (!first && x->s < last_end)
                    continue;
                rc = cb_replace(out, x->s, x->e, x->rep, x->n);
                last_end = x->e;
                first = 0;
            }
        }
        if (nl == NULL)
            break;
        ls = le + 1;
    }
    free(E.v);
    if (rc)
        return rc;
    return cb_finish(out, len);
}
