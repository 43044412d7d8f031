/* Sentence boundaries over the tokens.
 *
 * A sentence ends at a terminal token (. ! ? ellipsis, an abbreviation's
 * period) when what follows looks like a sentence start, after the closing
 * quotes and brackets attached to it; at a blank line; at a single line
 * break unless the line is visibly hard-wrapped prose; before list markers
 * ("1." "2)" "a." in a numbered sequence) and bullets. See docs/segment.md
 * for the rules and the cases they settle. */
#include <stdlib.h>
#include <string.h>

#include "segment.h"

/* ends[k]: the sentence ends with token k */
enum { E_END = 1 };

typedef struct sx {
    const seg_lang *lang;
    const char *s;
    size_t len;
    const seg_tok *t;
    size_t n;
    uint8_t *ends;
    uint8_t *mlen; /* length in tokens of the list marker starting here */
    uint8_t *fl;   /* SF_*: the tokens prescan() and the main loop must
                      look at */
    int informal;  /* casing is no evidence (lower-case sentence starts) */
} sx;

static int is_wordtok(const seg_tok *t)
{
    return t->kind == TK_WORD || t->kind == TK_NUM || t->kind == TK_ABBR ||
           t->kind == TK_URL || t->kind == TK_EMO;
}

static int first_class(const sx *x, const seg_tok *t)
{
    int32_t cp;
    size_t n;
    return ch_class(x->s, x->len, t->start, &cp, &n);
}

static int tok_is(const sx *x, const seg_tok *t, const char *lit)
{
    size_t l = strlen(lit);
    return t->len == l && memcmp(x->s + t->start, lit, l) == 0;
}

static int first_cp(const sx *x, const seg_tok *t)
{
    int32_t cp;
    size_t n;
    ch_class(x->s, x->len, t->start, &cp, &n);
    return cp;
}

/* The token to judge a sentence start by: the first after openers. */
static size_t lead_word(const sx *x, size_t j)
{
    while (j < x->n && x->t[j].kind == TK_PUNCT &&
           (x->t[j].flags & (TF_OPEN | TF_QUOTE)))
        j++;
    return j;
}

enum { W_NONE, W_UPPER, W_LOWER, W_DIGIT, W_OTHER };

static int word_case(const sx *x, size_t w)
{
    if (w >= x->n)
        return W_NONE;
    const seg_tok *t = &x->t[w];
    int c = first_class(x, t);
    if (t->kind == TK_URL) /* a link after a full stop starts a sentence */
        return (x->s[t->start] == '@' || x->s[t->start] == '#') ? W_OTHER
                                                                : W_UPPER;
    if (c == CH_UPPER || c == CH_LETTER)
        return W_UPPER;
    if (c == CH_LOWER)
        return W_LOWER;
    if (c == CH_DIGIT || c == CH_NUMOTHER)
        return W_DIGIT;
    if (t->kind == TK_PUNCT) {
        int cp = first_cp(x, t);
        /* currency: "$5 was..." starts like a number, and so does a
         * comparison sign glued to one (">100,000 Newsgroups", "~5 km") */
        if (cp == '$' || cp == 0x20AC || cp == 0xA3 || cp == 0xA5)
            return W_DIGIT;
        /* "... as a rat.\" ~CGoehring": a signature */
        if (cp == '~' && w + 1 < x->n && x->t[w + 1].gap == GAP_NONE &&
            x->t[w + 1].kind == TK_WORD && x->t[w + 1].shape != SH_XXXX_LOW &&
            x->t[w + 1].shape != SH_PUNCT)
            return W_UPPER;
        if ((cp == '>' || cp == '<' || cp == '~') && w + 1 < x->n &&
            x->t[w + 1].gap == GAP_NONE &&
            (x->t[w + 1].kind == TK_NUM ||
             first_class(x, &x->t[w + 1]) == CH_DIGIT))
            return W_DIGIT;
    }
    return W_OTHER;
}

static int is_starter(const sx *x, size_t w)
{
    const seg_tok *t = &x->t[w];
    size_t l = t->len;
    if (t->kind == TK_ABBR && l > 1)
        l--;
    return wordset_get(x->lang->starters, x->s + t->start, l) != 0;
}

/* Is the token at w a title abbreviation ("Mr.")? */
static int starts_with_title(const sx *x, size_t w)
{
    const seg_tok *t = &x->t[w];
    if (t->kind != TK_ABBR || t->len < 2)
        return 0;
    return wordset_get(x->lang->abbrev, x->s + t->start, t->len - 1) ==
           AB_TITLE;
}

/* "I" is upper-case wherever it stands: no evidence of a sentence start. */
static int is_pronoun_I(const sx *x, size_t w)
{
    return tok_is(x, &x->t[w], "I");
}

/* Abbreviation class of the token ending with a period at k (an ABBR token,
 * or the word glued before a '.' TERM token). -1: a single upper-case
 * letter (an initial); 0: not an abbreviation. */
static int abbr_class(const sx *x, size_t k)
{
    const seg_tok *t = &x->t[k];
    size_t ws, we;
    if (t->kind == TK_ABBR) {
        ws = t->start;
        we = t->start + t->len - 1;
    } else {
        if (k == 0 || t->gap != GAP_NONE)
            return 0;
        size_t m = k - 1;
        while (m > 0 && x->t[m].gap == GAP_NONE)
            m--;
        while (m < k && x->t[m].kind == TK_PUNCT &&
               (x->t[m].flags & (TF_OPEN | TF_QUOTE)))
            m++;
        if (m == k)
            return 0;
        /* a lone word before the period: the tokenizer looked it up already
         * (it would have kept an abbreviation's period) */
        if (m == k - 1 && x->t[m].kind == TK_WORD)
            return (x->t[m].flags & TF_NUMABBR) ? AB_NUM : 0;
        ws = x->t[m].start;
        we = t->start;
    }
    int32_t cp;
    size_t n;
    int initial = t->kind == TK_ABBR &&
                  ch_class(x->s, x->len, ws, &cp, &n) == CH_UPPER &&
                  n == we - ws;
    int c = wordset_get(x->lang->abbrev, x->s + ws, we - ws);
    /* "C. H. Douglas": a capital letter listed as a number abbreviation
     * ("c. 1818", "p. 55") is an initial before anything but a number,
     * which the initial rule leaves whole too */
    if (c && !(initial && c == AB_NUM))
        return c;
    if (t->kind != TK_ABBR)
        return 0;
    if (memchr(x->s + ws, '.', we - ws))
        return AB_ANY; /* U.S. a.m. */
    return initial ? -1 : 0;
}

static size_t count_dots(const sx *x, const seg_tok *t)
{
    size_t d = 0;
    for (size_t i = t->start; i < t->start + t->len; i++) {
        if (x->s[i] == '.')
            d++;
        else if ((unsigned char)x->s[i] == 0xE2)
            d += 3; /* … */
    }
    return d;
}

static int cp_is(const sx *x, const seg_tok *t, int cp)
{
    return t->len == 1 && x->s[t->start] == cp;
}

/* Does the bracket opened at token j close at the end of its line, a
 * short note ("(credit: modification of work by Liz West)", "(Applause.)")?
 * A few dozen tokens at most are looked at. */
static int note_ends_line(const sx *x, size_t j)
{
    for (size_t e = j + 1; e < x->n && e <= j + 24; e++) {
        if (x->t[e].gap >= GAP_NL)
            return 0;
        if (cp_is(x, &x->t[e], ')'))
            return e + 1 >= x->n || x->t[e + 1].gap >= GAP_NL;
    }
    return 0;
}

/* The commonest full stops: "word. Next", a '.' glued to a lone word
 * (nothing glued before it) and followed by a space and a word, or by a
 * line break. The tokenizer looked that word up (it keeps an
 * abbreviation's period, and notes a number abbreviation such as "No" in
 * TF_NUMABBR), and no closer, citation or footnote follows, so decide()
 * comes down to the line break or the case of the next word:
 * plain_stop_end() gives its result in a few tests. */
static int plain_stop(const sx *x, size_t k)
{
    const seg_tok *t = &x->t[k];
    if (t->kind != TK_TERM || t->len != 1 || x->s[t->start] != '.' ||
        t->gap != GAP_NONE || k == 0 || k + 1 >= x->n)
        return 0;
    const seg_tok *p = &x->t[k - 1], *nx = &x->t[k + 1];
    return p->kind == TK_WORD && (k == 1 || p->gap != GAP_NONE) &&
           (nx->gap >= GAP_NL ||
            (nx->gap == GAP_SPACE && nx->kind == TK_WORD));
}

static size_t plain_stop_end(const sx *x, size_t k)
{
    if (x->t[k + 1].gap >= GAP_NL)
        return k;
    int wc = word_case(x, k + 1);
    if (wc == W_DIGIT && (x->t[k - 1].flags & TF_NUMABBR))
        return (size_t)-1; /* "No. 5" */
    if (wc == W_UPPER || wc == W_DIGIT || (wc == W_LOWER && x->informal))
        return k;
    return (size_t)-1;
}

/* Decide whether the sentence ends at the terminal token k. Returns the
 * index of its last token (after attached closers) or (size_t)-1. */
static size_t decide(const sx *x, size_t k, size_t words)
{
    if (plain_stop(x, k))
        return plain_stop_end(x, k);
    const seg_tok *t = &x->t[k];
    const size_t NO = (size_t)-1;
    size_t j = k + 1;
    int quoted = 0;
    while (j < x->n && x->t[j].gap == GAP_NONE &&
           ((x->t[j].kind == TK_PUNCT &&
             (x->t[j].flags & (TF_CLOSE | TF_QUOTE))) ||
            (x->t[j].kind == TK_TERM && x->t[j - 1].kind == TK_PUNCT))) {
        if (x->t[j].flags & TF_QUOTE || first_cp(x, &x->t[j]) == 0x201D ||
            first_cp(x, &x->t[j]) == 0x2019 || first_cp(x, &x->t[j]) == 0xBB)
            quoted = 1;
        j++;
    }
    /* a straight quote or a closing bracket standing alone between spaces
     * after the terminal closes the sentence: "... the phrase. ' And then"
     * (the quote opened sentences earlier), "(We fly next day. ) Hop on" */
    if (j < x->n && x->t[j].gap == GAP_SPACE && x->t[j].kind == TK_PUNCT &&
        (x->t[j].flags & (TF_QUOTE | TF_CLOSE)) &&
        (j + 1 >= x->n || x->t[j + 1].gap != GAP_NONE)) {
        quoted |= (x->t[j].flags & TF_QUOTE) != 0;
        j++;
    }
    /* a citation mark belongs to the sentence before it: "... 1805. [6]" */
    if (j + 2 < x->n && x->t[j].gap == GAP_SPACE && tok_is(x, &x->t[j], "[") &&
        x->t[j + 1].gap == GAP_NONE && x->t[j + 1].kind == TK_NUM &&
        x->t[j + 2].gap == GAP_NONE && tok_is(x, &x->t[j + 2], "]") &&
        t->kind != TK_ABBR)
        j += 3;
    /* a footnote number: "... minority rights. 4 Even though" */
    if (j + 1 < x->n && cp_is(x, t, '.') && x->t[j].gap == GAP_SPACE &&
        x->t[j].kind == TK_NUM && x->t[j].len <= 2 &&
        x->t[j + 1].gap == GAP_SPACE && word_case(x, j + 1) == W_UPPER &&
        is_starter(x, j + 1) && !is_pronoun_I(x, j + 1))
        j++;
    size_t last = j - 1;
    if (j >= x->n)
        return last;

    int cls = 0;
    int cp0 = first_cp(x, t);
    if (t->kind == TK_ABBR || (t->kind == TK_TERM && cp0 == '.'))
        cls = abbr_class(x, k);

    const seg_tok *nx = &x->t[j];
    if (nx->gap >= GAP_NL) {
        if (cls == AB_TITLE || cls == AB_INNER) {
            int wc = word_case(x, lead_word(x, j));
            if (wc == W_UPPER || wc == W_DIGIT)
                return NO;
        }
        return last;
    }
    if (nx->kind == TK_SEP || (nx->flags & TF_BULLET))
        return last;

    size_t w = lead_word(x, j);
    int wc = word_case(x, w);

    if (t->kind == TK_TERM && cp0 != '.' && cp0 != '!' && cp0 != '?' &&
        cp0 != 0xFF01 && cp0 != 0xFF1F && cp0 != 0x203C && cp0 != 0x2047 &&
        cp0 != 0x2048 && cp0 != 0x2049)
        return last; /* 。 । ۔ ؟ : always final */

    if (t->kind == TK_TERM && cp0 != '.') { /* ! ? */
        if (nx->kind == TK_TERM || nx->kind == TK_ELLIPSIS)
            return NO;
        /* "Direct Fax:? 203...": a '?' glued to a colon is a lost
         * character (a no-break space through a lossy encoding) */
        if (cp0 == '?' && t->len == 1 && k > 0 && t->gap == GAP_NONE &&
            tok_is(x, &x->t[k - 1], ":"))
            return NO;
        if (wc == W_UPPER || wc == W_DIGIT)
            return last;
        if (wc == W_LOWER && !quoted && nx->gap != GAP_NONE) {
            /* "grow up? india": ends even before lower case, but after a
             * capitalised word the mark may be part of a name ("Yahoo! in",
             * "What Hi-Fi? are") unless the text ignores capitals anyway */
            int name =
                k > 0 && t->gap == GAP_NONE && x->t[k - 1].kind == TK_WORD &&
                (x->t[k - 1].shape == SH_XXXX_CAP ||
                 x->t[k - 1].shape == SH_XX || x->t[k - 1].shape == SH_MIXED);
            if (x->informal || !name)
                return last;
        }
        return NO;
    }

    if (t->kind == TK_EMO) {
        if (nx->gap == GAP_NONE)
            return NO;
        if (wc == W_UPPER || wc == W_DIGIT)
            return last;
        if (wc == W_LOWER && x->informal)
            return last;
        return NO;
    }

    if (t->kind == TK_ELLIPSIS) {
        if (k > 0 && t->gap == GAP_NONE && x->t[k - 1].kind == TK_PUNCT &&
            (x->t[k - 1].flags & TF_OPEN)) {
            /* "[...]" leaves the sentence open, except right after a
             * finished one before a capital: "Jonathan Bell. [...] For the
             * intervener" (text left out at the end of the sentence) */
            if (k >= 2 && x->t[k - 2].kind == TK_TERM &&
                x->t[k - 1].gap == GAP_SPACE && last > k &&
                nx->gap == GAP_SPACE && wc == W_UPPER)
                return last;
            return NO; /* [...] */
        }
        if (nx->gap == GAP_NONE && !quoted)
            return NO; /* mean...see */
        size_t dots = count_dots(x, t);
        if (dots == 2 && !(t->flags & TF_SPACED) &&
            (wc == W_UPPER || wc == W_DIGIT))
            return last; /* "before.. I should": a doubled full stop */
        if (dots >= 4) {
            if (wc == W_UPPER || wc == W_DIGIT)
                return last;
            return NO;
        }
        if (wc == W_UPPER && (!is_pronoun_I(x, w) || x->informal))
            return last;
        return NO;
    }

    /* a period: plain, or an abbreviation's */
    if (cls == AB_TITLE || cls == AB_INNER)
        return NO;
    if (cls == AB_NUM && wc == W_DIGIT)
        return NO;
    if (cls == AB_ANY) {
        /* "Co. It closed": a starter opens a new sentence; a title is a
         * weaker sign ("At 5 a.m. Mr. Smith went" goes on, "He left at 6
         * P.M. Mr. Smith then went" does not) */
        if (wc == W_UPPER && is_starter(x, w) &&
            words >= (starts_with_title(x, w) ? 4u : 2u))
            return last;
        /* "proper surroundings etc. the easiest thing": in a text that
         * does not capitalise its sentences, as after a full stop; not a
         * dotted one ("cost of the U.S. in money": the abbreviation of a
         * name, inside the sentence more often than at its end) */
        if (wc == W_LOWER && x->informal && !quoted && words >= 2 &&
            memchr(x->s + t->start, '.', t->len - 1) == NULL)
            return last;
        return NO;
    }
    if (cls == -1) { /* an initial: "George W. Bush", "you and I. Did" */
        if (wc == W_UPPER && is_starter(x, w) && k > 0 &&
            ((x->t[k - 1].kind == TK_WORD &&
              first_class(x, &x->t[k - 1]) == CH_LOWER) ||
             x->t[k - 1].kind == TK_NUM))
            return last; /* "... was 98.6 F. It rose" */
        return NO;
    }
    if (nx->kind == TK_ELLIPSIS) {
        /* "compounds. . . . The": the period ends, the ellipsis opens */
        if ((nx->flags & TF_SPACED) && nx->gap != GAP_NONE) {
            size_t w2 = lead_word(x, j + 1);
            if (word_case(x, w2) == W_UPPER && !is_pronoun_I(x, w2))
                return last;
        }
        return NO;
    }
    /* "Contract. ? Do not hesitate": a lone '?' between a full stop and a
     * capital is a lost character opening the next sentence */
    if (nx->kind == TK_TERM && nx->len == 1 && x->s[nx->start] == '?' &&
        nx->gap == GAP_SPACE && j + 1 < x->n && x->t[j + 1].gap == GAP_SPACE &&
        (word_case(x, lead_word(x, j + 1)) == W_UPPER ||
         x->t[j + 1].kind == TK_SEP))
        return last;
    if (nx->kind == TK_TERM)
        return NO;
    if (nx->gap == GAP_NONE) {
        /* "end.Next one" */
        if (w == j && wc == W_UPPER &&
            (x->t[w].kind == TK_WORD || x->t[w].kind == TK_ABBR) &&
            x->t[w].len >= 2 && quoted == 0)
            return last;
        if (quoted && (wc == W_UPPER || wc == W_DIGIT))
            return last;
        return NO;
    }
    if (wc == W_UPPER || wc == W_DIGIT)
        return last;
    if (wc == W_LOWER && x->informal && !quoted)
        return last;
    /* "... for hundreds of years. (credit: modification of work by Liz
     * West)\n": a note in brackets after a finished sentence that ends its
     * line is a sentence of its own, whatever its case */
    if (cp_is(x, nx, '(') && note_ends_line(x, j))
        return last;
    return NO;
}

/* ------------------------------------------------------------ list markers */

typedef struct marker {
    size_t k;      /* first token */
    uint8_t len;   /* tokens */
    uint8_t type;  /* 1 digits, 2 lower letter, 3 upper letter */
    uint8_t delim; /* 1 '.', 2 ')', 3 '.)' */
    uint8_t linestart;
    int value;
} marker;

const uint8_t seg_marker_max_len[16] = {[TK_NUM] = MARK_MAX_NUM,
                                        [TK_WORD] = MARK_MAX_WORD,
                                        [TK_ABBR] = MARK_MAX_ABBR};

static int marker_at(const sx *x, size_t k, marker *m)
{
    const seg_tok *t = &x->t[k];
    if (t->len > seg_marker_max_len[t->kind & 15] ||
        (t->kind == TK_ABBR && t->len != 2))
        return 0;
    int after_bullet = k > 0 && (x->t[k - 1].flags & TF_BULLET);
    if (!(k == 0 || t->gap != GAP_NONE || after_bullet))
        return 0;
    m->k = k;
    m->linestart = k == 0 || t->gap >= GAP_NL || after_bullet;
    size_t j;
    const char *p = x->s + t->start;
    if (t->kind == TK_NUM && t->len <= 3) {
        int v = 0;
        for (size_t i = 0; i < t->len; i++) {
            if (p[i] < '0' || p[i] > '9')
                return 0;
            v = v * 10 + (p[i] - '0');
        }
        m->type = 1;
        m->value = v;
        j = k + 1;
    } else if ((t->kind == TK_WORD && t->len == 1) ||
               (t->kind == TK_ABBR && t->len == 2)) {
        char c = p[0];
        if (c >= 'a' && c <= 'z')
            m->type = 2, m->value = c - 'a' + 1;
        else if (c >= 'A' && c <= 'Z' && t->kind == TK_WORD)
            m->type = 3, m->value = c - 'A' + 1;
        else
            return 0;
        if (t->kind == TK_ABBR) {
            m->delim = 1;
            m->len = 1;
            goto follow;
        }
        j = k + 1;
    } else
        return 0;
    if (j >= x->n || x->t[j].gap != GAP_NONE)
        return 0;
    if (tok_is(x, &x->t[j], ".")) {
        m->delim = 1;
        if (j + 1 < x->n && x->t[j + 1].gap == GAP_NONE &&
            tok_is(x, &x->t[j + 1], ")")) {
            m->delim = 3;
            j++;
        }
    } else if (tok_is(x, &x->t[j], ")"))
        m->delim = 2;
    else
        return 0;
    m->len = (uint8_t)(j - k + 1);
follow:
    j = k + m->len;
    /* a marker is followed by a space and a word */
    if (j >= x->n || x->t[j].gap != GAP_SPACE)
        return 0;
    return 1;
}

static int informal_at(const sx *x, size_t k);

/* One pass over the tokens: the casing evidence (x->informal) and the list
 * markers (x->mlen). 0 or -1 (out of memory). */
static int prescan(sx *x)
{
    size_t cap = 0, nm = 0;
    marker *ms = NULL;
    /* The tokens informal_at() or marker_at() could accept, flagged by
     * the tokenizer (SF_LOOK): an "i" or a word at a line start or
     * after a full stop; a short token after white space or a bullet. */
    for (size_t k = seg_next_bit(x->fl, 0, x->n, SF_LOOK); k < x->n;
         k = seg_next_bit(x->fl, k + 1, x->n, SF_LOOK)) {
        marker m;
        const seg_tok *t = &x->t[k];
        if (t->kind == TK_WORD && !x->informal && informal_at(x, k))
            x->informal = 1;
        if (!marker_at(x, k, &m))
            continue;
        if (nm == cap) {
            size_t nc = cap ? cap * 2 : 16;
            marker *v = realloc(ms, nc * sizeof *v);
            if (v == NULL) {
                free(ms);
                return -1;
            }
            ms = v;
            cap = nc;
        }
        ms[nm++] = m;
    }
    if (nm == 0)
        return 0;
    /* chains: each marker linked to the next of the same kind with the next
     * value, within 64 markers and before a blank line */
    size_t *next = malloc(nm * sizeof *next);
    uint8_t *has_prev = calloc(nm, 1);
    if (next == NULL || has_prev == NULL) {
        free(ms);
        free(next);
        free(has_prev);
        return -1;
    }
    for (size_t a = 0; a < nm; a++) {
        next[a] = (size_t)-1;
        for (size_t b = a + 1; b < nm && b < a + 64; b++) {
            if (ms[b].type == ms[a].type && ms[b].delim == ms[a].delim &&
                ms[b].value == ms[a].value + 1 && !has_prev[b]) {
                int para = 0;
                for (size_t q = ms[a].k + 1; q <= ms[b].k; q++)
                    if (x->t[q].gap == GAP_PARA) {
                        para = 1;
                        break;
                    }
                if (!para) {
                    next[a] = b;
                    has_prev[b] = 1;
                }
                break;
            }
        }
    }
    for (size_t a = 0; a < nm; a++) {
        if (has_prev[a])
            continue;
        int ok = next[a] != (size_t)-1 && (ms[a].value == 1 || ms[a].linestart);
        if (!ok && ms[a].type == 1 && ms[a].linestart && ms[a].value <= 99 &&
            ms[a].delim != 1)
            ok = 1; /* "1) Introduction" at a line start */
        if (!ok && ms[a].type == 1 && ms[a].linestart && ms[a].value <= 20 &&
            ms[a].delim == 1)
            ok = 1; /* "1. Introduction" at a line start */
        if (!ok)
            continue;
        for (size_t b = a; b != (size_t)-1; b = next[b]) {
            x->mlen[ms[b].k] = ms[b].len;
            x->fl[ms[b].k] |= SF_BUSY; /* "a" in "a) first": no plain word */
        }
    }
    free(ms);
    free(next);
    free(has_prev);
    return 0;
}

/* ------------------------------------------------------------ casing */

/* Does the text use lower-case sentence starts (chat, reviews)? Then a
 * lower-case word after a full stop or a line break is no sign that the
 * sentence goes on. Evidence at the word token k: */
static int informal_at(const sx *x, size_t k)
{
    const seg_tok *t = &x->t[k];
    /* "i" as a pronoun */
    if (t->len == 1 && x->s[t->start] == 'i' &&
        (k + 1 >= x->n || x->t[k + 1].gap != GAP_NONE ||
         x->t[k + 1].kind == TK_WORD))
        return 1;
    const seg_tok *p = k > 0 ? &x->t[k - 1] : NULL;
    if (p && t->gap < GAP_NL && p->kind != TK_TERM)
        return 0;
    if (t->shape != SH_XXXX_LOW) /* "iPhone" is no evidence */
        return 0;
    /* the text, or a line after a finished one, starts in lower case */
    if (p == NULL ||
        (t->gap >= GAP_NL &&
         (p->kind == TK_TERM || p->kind == TK_ELLIPSIS || p->kind == TK_EMO)))
        return 1;
    if (t->gap != GAP_SPACE || p->kind != TK_TERM || k < 2)
        return 0;
    int cp = first_cp(x, p);
    if (cp == '?' && x->t[k - 2].shape == SH_XXXX_LOW)
        return 1; /* "grow up? india" */
    /* "it is available. it is not frequent" */
    return cp == '.' && x->t[k - 2].kind == TK_WORD && x->t[k - 2].len > 3 &&
           abbr_class(x, k - 1) == 0;
}

/* ------------------------------------------------------------ e-mail */

static int num_pattern(const sx *x, const seg_tok *t, const char *pat)
{
    /* pat: 'd' a digit, '+' more digits, other bytes literal */
    const char *p = x->s + t->start, *e = p + t->len;
    for (; *pat; pat++) {
        if (*pat == 'd') {
            if (p >= e || *p < '0' || *p > '9')
                return 0;
            p++;
        } else if (*pat == '+') {
            while (p < e && *p >= '0' && *p <= '9')
                p++;
        } else {
            if (p >= e || *p != *pat)
                return 0;
            p++;
        }
    }
    return p == e;
}

/* A header time stamp "08/16/2000 12:05 PM" at k: its length in tokens. */
static size_t datetime_at(const sx *x, size_t k)
{
    if (x->t[k].kind != TK_NUM || k + 1 >= x->n || x->t[k + 1].kind != TK_NUM ||
        x->t[k + 1].gap != GAP_SPACE)
        return 0;
    if (!num_pattern(x, &x->t[k], "d+/d+/dd+"))
        return 0;
    if (!num_pattern(x, &x->t[k + 1], "d+:dd") &&
        !num_pattern(x, &x->t[k + 1], "d+:dd:dd"))
        return 0;
    if (k + 2 < x->n && x->t[k + 2].gap <= GAP_SPACE &&
        (tok_is(x, &x->t[k + 2], "AM") || tok_is(x, &x->t[k + 2], "PM") ||
         tok_is(x, &x->t[k + 2], "am") || tok_is(x, &x->t[k + 2], "pm")))
        return 3;
    return 2;
}

/* A comma glued to the word before it and followed by a space, the
 * commonest busy token. Of the main loop's rules only the salutation and
 * the closing can act on it: every other one asks first for another
 * kind, mark or gap (a line break after the comma for name_line_at()), and
 * a comma is no list marker. */
static int plain_comma(const sx *x, size_t k)
{
    const seg_tok *t = &x->t[k];
    return t->gap == GAP_NONE && t->kind == TK_PUNCT && t->len == 1 &&
           x->s[t->start] == ',' && k + 1 < x->n &&
           x->t[k + 1].gap == GAP_SPACE;
}

/* "Regards, Debra": a letter closing and its comma end a line of their own
 * even when the name follows on the same line. Token k is a plain comma
 * (plain_comma()), the only comma the rule is for: the main loop asks this
 * for no other token. */
static int closing_word(const sx *x, size_t k)
{
    if (k == 0 || x->lang->closings == NULL)
        return 0;
    /* most commas go on in lower case (what word_case() below says of
     * an ASCII lower-case letter, but of a link), with no look-up */
    const seg_tok *nx = &x->t[k + 1];
    if (nx->kind != TK_URL && (unsigned char)(x->s[nx->start] - 'a') < 26)
        return 0;
    const seg_tok *p = &x->t[k - 1];
    if (p->kind != TK_WORD ||
        !wordset_get(x->lang->closings, x->s + p->start, p->len))
        return 0;
    size_t w = lead_word(x, k + 1);
    return word_case(x, w) == W_UPPER;
}

static int is_link(const sx *x, const seg_tok *t)
{
    return t->kind == TK_URL && x->s[t->start] != '@' && x->s[t->start] != '#';
}

/* Is there a field label ("Fax:", "R Square:") of one or two capitalised
 * words at w? */
static int label_at(const sx *x, size_t w)
{
    for (size_t j = w; j < w + 2 && j + 1 < x->n; j++) {
        const seg_tok *t = &x->t[j];
        if (t->kind != TK_WORD || (j > w && t->gap != GAP_SPACE) ||
            (t->shape != SH_XXXX_CAP && t->shape != SH_XX))
            return 0;
        const seg_tok *c = &x->t[j + 1];
        if (c->gap == GAP_NONE && tok_is(x, c, ":"))
            return 1;
    }
    return 0;
}

/* "Phone: 814.863.1874 Fax: 814.863.6874", "Intercept: -0.39 (0.0076)
 * Slope: 0.11": a field value (numbers, signs and brackets after a
 * capitalised "Label:") before another label on the same line ends the
 * field. */
static int field_value_end(const sx *x, size_t start, size_t k)
{
    const seg_tok *t = &x->t[k];
    if (k + 1 >= x->n || x->t[k + 1].gap != GAP_SPACE)
        return 0;
    if (!(t->kind == TK_NUM ||
          (t->kind == TK_PUNCT && (t->flags & TF_CLOSE) &&
           (first_cp(x, t) == ')' || first_cp(x, t) == ']'))))
        return 0;
    /* "R Square: 0.0585 Therefore I could not", "Fax: 814.863.6874
     * http://...": a sentence starter or a link after the value ends the
     * field as well as another label does */
    if (!label_at(x, k + 1) &&
        !(word_case(x, k + 1) == W_UPPER && is_starter(x, k + 1)) &&
        !is_link(x, &x->t[k + 1]))
        return 0;
    /* back over the value (numbers, signs, brackets) to "Label:" */
    size_t j = k;
    for (int steps = 0; j > start && steps < 8; steps++, j--) {
        const seg_tok *v = &x->t[j];
        if (v->kind != TK_NUM && v->kind != TK_PUNCT)
            return 0;
        if (tok_is(x, v, ":"))
            break;
        if (v->gap >= GAP_NL)
            return 0;
    }
    return j > start && tok_is(x, &x->t[j], ":") &&
           x->t[j - 1].kind == TK_WORD &&
           (x->t[j - 1].shape == SH_XXXX_CAP || x->t[j - 1].shape == SH_XX);
}

/* "Hi, Yes it is", "Dear All, My name is": a salutation (a greeting word
 * opening the sentence, then up to three capitalised words) and its comma
 * end a sentence before a capitalised word or a line break. */
static int salutation_at(const sx *x, size_t start, size_t k)
{
    const seg_tok *t = &x->t[k];
    if (k + 1 >= x->n || x->lang->greetings == NULL || t->kind != TK_PUNCT ||
        !tok_is(x, t, ",") || t->gap != GAP_NONE ||
        x->t[k + 1].gap == GAP_NONE)
        return 0;
    const seg_tok *g = &x->t[start];
    if (g->kind != TK_WORD ||
        !wordset_get(x->lang->greetings, x->s + g->start, g->len))
        return 0;
    for (size_t j = start + 1; j < k; j++) {
        const seg_tok *w = &x->t[j];
        if ((w->kind != TK_WORD && w->kind != TK_ABBR) ||
            w->gap != GAP_SPACE ||
            (w->shape != SH_XXXX_CAP && w->shape != SH_XX))
            return 0;
    }
    if (x->t[k + 1].gap >= GAP_NL)
        return 1;
    return word_case(x, lead_word(x, k + 1)) == W_UPPER;
}

/* A salutation is short: the comma at most four tokens into the sentence.
 * Tested here, inline, which spares a call at nearly every comma. */
static inline int salutation_comma(const sx *x, size_t start, size_t k)
{
    return k != start && k - start <= 4 && salutation_at(x, start, k);
}

/* The name after a closing ("Thanks, Sean Here you go", "Regards, Debra
 * Perlingiere - ENRON") is a sentence of its own when something else
 * follows it on the same line: one or two capitalised words that are not
 * sentence starters, then a capitalised starter, a dash or a bracket, or a
 * link. Returns the index just past the name, or 0. */
static size_t closing_name_end(const sx *x, size_t j)
{
    size_t names = 0, first = j;
    while (j < x->n && names < 2 && x->t[j].kind == TK_WORD &&
           x->t[j].gap == GAP_SPACE && x->t[j].shape == SH_XXXX_CAP &&
           !is_starter(x, j)) {
        j++;
        names++;
    }
    if (names == 0 || j >= x->n || x->t[j].gap != GAP_SPACE)
        return 0;
    /* "Sincerely, Traci Traci Warner Enron Broadband": the signed name,
     * then the signature block opening with the same name */
    if (names == 2 && x->t[first].len == x->t[first + 1].len &&
        memcmp(x->s + x->t[first].start, x->s + x->t[first + 1].start,
               x->t[first].len) == 0)
        return first + 1;
    const seg_tok *t = &x->t[j];
    if (t->kind == TK_WORD && t->shape == SH_XXXX_CAP && is_starter(x, j))
        return j;
    if (is_link(x, t))
        return j;
    if (t->kind == TK_PUNCT || t->kind == TK_SEP) {
        int cp = first_cp(x, t);
        if (cp == '-' || cp == 0x2013 || cp == 0x2014 || cp == '(' ||
            cp == '[')
            return j;
    }
    return 0;
}

/* Is token j a word of greetings.<lang>.txt or closings.<lang>.txt? */
static int greeting_or_closing(const sx *x, size_t j)
{
    const seg_tok *f = &x->t[j];
    return f->kind == TK_WORD &&
           ((x->lang->greetings &&
             wordset_get(x->lang->greetings, x->s + f->start, f->len)) ||
            (x->lang->closings &&
             wordset_get(x->lang->closings, x->s + f->start, f->len)));
}

/* "Revised Article 4.6 Debra Perlingiere Kathleen,\nYou are correct": a
 * line that ends in one capitalised name and a comma before a capitalised
 * line is a salutation ("Kathleen,"), and what stands before it on the line
 * (a signature, a subject, a closing without its comma: "Take Care Traci")
 * ends there, as if the line break before the name had been lost. Not when
 * the line is itself a salutation ("Dear Dr. Vincent Kaminski,", "Hey
 * Vladi,") or a closing. Token k is the comma; the sentence ends before
 * k - 1. */
static int name_line_at(const sx *x, size_t start, size_t k)
{
    if (k < start + 2 || k + 1 >= x->n || !cp_is(x, &x->t[k], ',') ||
        x->t[k].gap != GAP_NONE || x->t[k + 1].gap < GAP_NL ||
        word_case(x, lead_word(x, k + 1)) != W_UPPER)
        return 0;
    const seg_tok *nm = &x->t[k - 1], *p = &x->t[k - 2];
    if (nm->kind != TK_WORD || nm->shape != SH_XXXX_CAP ||
        nm->gap != GAP_SPACE || is_starter(x, k - 1) || !is_wordtok(p))
        return 0;
    /* "Dr." or "Mr" before the name: a salutation */
    size_t pl = p->kind == TK_ABBR && p->len > 1 ? p->len - 1 : p->len;
    if (wordset_get(x->lang->abbrev, x->s + p->start, pl) == AB_TITLE)
        return 0;
    /* no greeting or closing word opens the sentence or stands among the
     * few words before the name on its line (a salutation is short) */
    size_t j = k - 2;
    for (int steps = 0;; steps++, j--) {
        if (greeting_or_closing(x, j))
            return 0;
        if (steps == 4 || j == start || x->t[j].gap >= GAP_NL)
            break;
    }
    return !greeting_or_closing(x, start);
}

/* "Lotte Wilms lotte.wilms@kb.nl National Library": an e-mail address after
 * a capitalised name is one field of a contact line that goes on; other
 * links before a capitalised word end their sentence ("Email: x@y.com Site
 * made!", "[http://...] (New Scientist)"). */
static int contact_field(const sx *x, size_t k)
{
    const seg_tok *t = &x->t[k];
    if (memchr(x->s + t->start, '@', t->len) == NULL || k == 0 ||
        t->gap != GAP_SPACE)
        return 0;
    const seg_tok *p = &x->t[k - 1];
    return p->kind == TK_WORD && p->shape == SH_XXXX_CAP;
}

/* ------------------------------------------------------------ heads */

static int is_cap_word(const seg_tok *t)
{
    return t->kind == TK_WORD &&
           (t->shape == SH_XXXX_CAP || t->shape == SH_XX);
}

/* "Good Morning Debra - I have attached", "Vince - Thanks for",
 * "TEHRAN (AFP) - An international contest": a sentence that opens with a
 * few capitalised words (a salutation, a name, a dateline) and a spaced
 * dash before a capitalised word ends after the dash. The dash is token k,
 * the sentence began at `start`. */
static int head_dash(const sx *x, size_t start, size_t k)
{
    const seg_tok *t = &x->t[k];
    if (k == start || k - start > 6 || k + 1 >= x->n ||
        t->kind != TK_PUNCT || t->gap != GAP_SPACE ||
        x->t[k + 1].gap != GAP_SPACE)
        return 0;
    int cp = first_cp(x, t);
    if (cp != '-' && cp != 0x2013 && cp != 0x2014)
        return 0;
    size_t names = 0;
    for (size_t j = start; j < k; j++) {
        const seg_tok *w = &x->t[j];
        if (w->gap >= GAP_NL && j > start)
            return 0;
        if (is_cap_word(w))
            names++;
        else if (!(tok_is(x, w, ",") || tok_is(x, w, "and") ||
                   tok_is(x, w, "(") || tok_is(x, w, ")")))
            return 0;
    }
    /* "The Senate - Democrats, mostly - met": a sentence opening with a
     * starter (a determiner, a pronoun) is no name */
    if (names == 0 || is_starter(x, start))
        return 0;
    return word_case(x, lead_word(x, k + 1)) == W_UPPER;
}

/* "what to expect in this contest: TEHRAN (AFP) - An international
 * contest": a news dateline (a place in capitals, the agency in brackets,
 * a spaced dash) opens a sentence wherever it stands; the dash then ends
 * it (head_dash). Token k is the opening bracket; returns the index of the
 * first word of the place, or 0. */
static size_t dateline_at(const sx *x, size_t start, size_t k)
{
    if (k < 1 || k + 4 >= x->n || !cp_is(x, &x->t[k], '(') ||
        x->t[k].gap != GAP_SPACE || x->t[k + 1].gap != GAP_NONE ||
        x->t[k + 1].kind != TK_WORD || x->t[k + 1].shape != SH_XX ||
        x->t[k + 2].gap != GAP_NONE || !cp_is(x, &x->t[k + 2], ')') ||
        x->t[k + 3].gap != GAP_SPACE || x->t[k + 3].kind != TK_PUNCT ||
        x->t[k + 4].gap != GAP_SPACE ||
        word_case(x, lead_word(x, k + 4)) != W_UPPER)
        return 0;
    int cp = first_cp(x, &x->t[k + 3]);
    if (cp != '-' && cp != 0x2013 && cp != 0x2014)
        return 0;
    /* the place: one to three words in capitals ("NEW YORK") */
    size_t p = k;
    while (p > start && k - p < 3 && x->t[p - 1].kind == TK_WORD &&
           x->t[p - 1].shape == SH_XX && x->t[p - 1].len >= 2 &&
           x->t[p - 1].gap == GAP_SPACE)
        p--;
    return p < k && x->t[k - 1].len >= 3 ? p : 0;
}

/* "Yeah but, not at uh — This is at six thirty", "We need a — Do you
 * have": a spaced em dash before a capitalised sentence starter is an
 * utterance broken off and begun again (transcripts, chat). Not before
 * "I" ("but then af- — I wanted": 0 of 3 in GUM), nor before a name ("the
 * star — Lionel Messi — scored"), nor after an en dash or "--", which join
 * ranges and asides ("c. 1818 – January 8"). Token k is the dash. */
static int broken_off(const sx *x, size_t k)
{
    const seg_tok *t = &x->t[k];
    if (t->len != 3 || first_cp(x, t) != 0x2014 || t->gap != GAP_SPACE ||
        k + 1 >= x->n || x->t[k + 1].gap != GAP_SPACE ||
        x->t[k + 1].kind != TK_WORD)
        return 0;
    return word_case(x, k + 1) == W_UPPER && is_starter(x, k + 1) &&
           !is_pronoun_I(x, k + 1);
}

/* "... of Islamic Jihad. (Jerusalem Post) \"We're not happy": a credit of
 * capitalised words in brackets opening a sentence, before a capitalised
 * word, is a sentence of its own. Token k opens the bracket; returns the
 * index of its closing bracket, or 0. */
static size_t credit_end(const sx *x, size_t k)
{
    if (!tok_is(x, &x->t[k], "("))
        return 0;
    size_t j = k + 1, names = 0;
    for (; j < x->n && j <= k + 8; j++) {
        const seg_tok *w = &x->t[j];
        if (w->gap >= GAP_NL)
            return 0;
        if (tok_is(x, w, ")"))
            break;
        if (is_cap_word(w))
            names++;
        else if (!tok_is(x, w, ":"))
            return 0;
    }
    if (names == 0 || j >= x->n || j > k + 8 || j + 1 >= x->n ||
        x->t[j + 1].gap != GAP_SPACE)
        return 0;
    size_t w = lead_word(x, j + 1);
    if (w < x->n && x->t[w].gap == GAP_NONE && w > j + 1 &&
        tok_is(x, &x->t[w - 1], "(")) /* "(Hat Tip) (BBC) The..." */
        return word_case(x, w) == W_UPPER ? j : 0;
    return word_case(x, w) == W_UPPER && !is_pronoun_I(x, w) ? j : 0;
}

/* "Figure 1.5 Residents of Boxborough gather": a line opening with a
 * capitalised word and a section number ("1.5", with its dot) before a
 * capitalised word is a caption or a section label, a sentence of its own
 * ("Apollo 11 Astronauts Return", with no dot, is a headline). Token k
 * opens the line; returns the index of the number, or 0. */
static size_t caption_end(const sx *x, size_t k)
{
    if (!(k == 0 || x->t[k].gap >= GAP_NL) || k + 2 >= x->n ||
        !is_cap_word(&x->t[k]))
        return 0;
    const seg_tok *num = &x->t[k + 1];
    if (num->kind != TK_NUM || num->gap != GAP_SPACE ||
        !num_pattern(x, num, "d+.d+") || x->t[k + 2].gap != GAP_SPACE ||
        x->t[k + 2].kind != TK_WORD || word_case(x, k + 2) != W_UPPER)
        return 0;
    return k + 1;
}

/* "Contract. ? Do not hesitate": a '?' standing alone between spaces after
 * a finished sentence is a character lost in a lossy encoding (a no-break
 * space), and the treebanks make it a sentence of its own. */
static int lost_mark(const sx *x, size_t k)
{
    const seg_tok *t = &x->t[k];
    return t->kind == TK_TERM && t->len == 1 && x->s[t->start] == '?' &&
           t->gap == GAP_SPACE && k > 0 && x->t[k - 1].kind == TK_TERM &&
           x->s[x->t[k - 1].start] == '.' && k + 1 < x->n &&
           x->t[k + 1].gap == GAP_SPACE &&
           (x->t[k + 1].kind == TK_SEP ||
            word_case(x, lead_word(x, k + 1)) == W_UPPER);
}

/* ------------------------------------------------------------ main loop */

/* Does token e end a file name ("API.pdf", "Lisa_resume.doc"): a word
 * ending in a dot and an extension of two to four letters or digits? */
static int file_name_end(const sx *x, size_t e)
{
    const seg_tok *t = &x->t[e];
    if (t->kind != TK_WORD || t->len < 4)
        return 0;
    const char *p = x->s + t->start;
    size_t ext = 0;
    while (ext < t->len && ext <= 4 && p[t->len - 1 - ext] != '.') {
        unsigned char c = (unsigned char)p[t->len - 1 - ext];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9')))
            return 0;
        ext++;
    }
    /* the extension opens with a letter: "£2.5bn" is no file */
    unsigned char e0 = (unsigned char)p[t->len - ext];
    return ext >= 2 && ext <= 4 && ext + 1 < t->len &&
           p[t->len - 1 - ext] == '.' &&
           ((e0 >= 'a' && e0 <= 'z') || (e0 >= 'A' && e0 <= 'Z'));
}

/* A file name starting at token j: glued tokens, the last one a file
 * name's end. */
static int file_name_at(const sx *x, size_t j)
{
    size_t e = j;
    while (e + 1 < x->n && x->t[e + 1].gap == GAP_NONE)
        e++;
    return file_name_end(x, e);
}

/* "... Thank you. - TEXT.htm << File: TEXT.htm >> - API.pdf": a spaced
 * dash before a file name opens an item of an attachment list whose line
 * breaks were lost. Token k is the dash. */
static int file_item_at(const sx *x, size_t k)
{
    const seg_tok *t = &x->t[k];
    return t->kind == TK_PUNCT && t->len == 1 && x->s[t->start] == '-' &&
           t->gap != GAP_NONE && k + 1 < x->n &&
           x->t[k + 1].gap == GAP_SPACE && file_name_at(x, k + 1);
}

/* "(See attached file: Sam3102.doc) Regards, Debra": a bracket closing
 * right after a file name ends an attachment note; before a capitalised
 * word, the sentence (not before the next note: "X.pdf) (See attached
 * file: Y.pdf)" is one list). Token k is the bracket. */
static int file_note_end(const sx *x, size_t k)
{
    return k > 0 && cp_is(x, &x->t[k], ')') && x->t[k].gap == GAP_NONE &&
           x->t[k - 1].kind == TK_WORD && file_name_end(x, k - 1) &&
           k + 1 < x->n && x->t[k + 1].gap == GAP_SPACE &&
           x->t[k + 1].kind == TK_WORD && word_case(x, k + 1) == W_UPPER;
}

/* "<< File: TEXT.htm >> I was thinking": the ">>" closing an attachment
 * note ("<<" earlier in the sentence) before a capitalised word ends the
 * sentence. Token k is the second '>'. */
static int note_end(const sx *x, size_t start, size_t k)
{
    if (k < start + 3 || !tok_is(x, &x->t[k], ">") ||
        x->t[k].gap != GAP_NONE || !tok_is(x, &x->t[k - 1], ">") ||
        k + 1 >= x->n || x->t[k + 1].gap != GAP_SPACE ||
        word_case(x, lead_word(x, k + 1)) != W_UPPER)
        return 0;
    /* a note is short ("<< File: Lisa_resume.doc >>"): looking back a
     * dozen tokens at most keeps a line of many ">>" linear */
    size_t from = k > start + 12 ? k - 12 : start;
    for (size_t j = from; j + 1 < k - 1; j++)
        if (tok_is(x, &x->t[j], "<") && tok_is(x, &x->t[j + 1], "<") &&
            x->t[j + 1].gap == GAP_NONE)
            return 1;
    return 0;
}

/* The sentence ends with token e: the next one starts after it. */
static inline void cut(uint8_t *ends, size_t e, size_t *start, size_t *words)
{
    ends[e] |= E_END;
    *start = e + 1;
    *words = 0;
}

/* "Regards, Debra": the comma at k ends a sentence, and the name after it
 * another when something follows it on the line. Returns the last token
 * taken. */
static size_t closing_cut(const sx *x, size_t k, size_t *start, size_t *words)
{
    cut(x->ends, k, start, words);
    size_t e = closing_name_end(x, k + 1);
    if (e == 0)
        return k;
    x->ends[e - 1] |= E_END;
    *start = e;
    return e - 1;
}

/* Does the sentence end at the terminal token k (decide())? Returns the
 * last token taken. */
static size_t term_cut(const sx *x, size_t k, size_t *start, size_t *words)
{
    if (*words == 0)
        return k;
    size_t e = decide(x, k, *words);
    if (e == (size_t)-1)
        return k;
    cut(x->ends, e, start, words);
    return e;
}

int seg_sentences(const seg_lang *lang, const char *text, size_t len,
                  seg_toks *toks, uint8_t *ends)
{
    if (toks->n == 0)
        return 0;
    uint8_t *work = malloc(toks->n);
    if (work == NULL)
        return -1;
    int rc = seg_sentences_in(lang, text, len, toks, ends, work);
    free(work);
    return rc;
}

int seg_sentences_in(const seg_lang *lang, const char *text, size_t len,
                     seg_toks *toks, uint8_t *ends, uint8_t *work)
{
    size_t n = toks->n;
    if (n == 0)
        return 0;
    memset(ends, 0, n);
    /* work: the list marker lengths (zero but at markers); the SF_* flags
     * come with the tokens */
    uint8_t *mlen = work;
    memset(mlen, 0, n);
    uint8_t *fl = toks->fl;
    sx x = {lang, text, len, toks->v, n, ends, mlen, fl, 0};
    if (prescan(&x))
        return -1;

    size_t start = 0, words = 0, line_words = 0;
    for (size_t k = 0; k < n; k++) {
        /* most tokens: a word inside a line, nothing to decide */
        size_t nk = seg_next_bit(fl, k, n, SF_BUSY);
        words += nk - k;
        line_words += nk - k;
        if ((k = nk) >= n)
            break;
        const seg_tok *t = &x.t[k];
        /* a full stop (or ! ?) glued to what it ends: no boundary before it,
         * no list marker, and of the rules below only decide() acts on a
         * terminal without a gap (lost_mark() needs a space before it) */
        if (t->kind == TK_TERM && t->gap == GAP_NONE) {
            k = term_cut(&x, k, &start, &words);
            continue;
        }
        if (plain_comma(&x, k)) {
            if (salutation_comma(&x, start, k))
                cut(ends, k, &start, &words);
            else if (words > 0 && closing_word(&x, k))
                k = closing_cut(&x, k, &start, &words);
            continue;
        }
        /* a boundary before k */
        if (k > start && words > 0) {
            int brk = 0;
            if (t->gap == GAP_PARA)
                brk = 1;
            else if (mlen[k] && t->gap != GAP_NONE)
                brk = 1;
            else if ((t->flags & TF_BULLET) && t->gap != GAP_NONE)
                brk = 1;
            else if (file_item_at(&x, k))
                brk = 1;
            else if (t->gap == GAP_NL) {
                /* a line break ends the sentence unless the line is
                 * hard-wrapped prose going on in lower case */
                size_t w = lead_word(&x, k);
                int wc = word_case(&x, w);
                const seg_tok *p = &x.t[k - 1];
                int cont = 0;
                /* a link ending a line is no hard-wrapped prose */
                if (wc == W_LOWER && is_wordtok(p) && p->kind != TK_ABBR &&
                    !is_link(&x, p) &&
                    ((p->flags & TF_SPACEAFTER_NL) ||
                     (!x.informal && line_words >= 3)))
                    cont = 1;
                /* "and then,\nwe went" goes on; "John,\nsorry for..."
                 * (a salutation line) does not */
                if (p->kind == TK_PUNCT && first_cp(&x, p) == ',' &&
                    wc == W_LOWER && !x.informal && line_words >= 3)
                    cont = 1;
                brk = !cont;
            }
            if (brk) {
                ends[k - 1] |= E_END;
                start = k;
                words = 0;
            }
        }
        if (t->gap >= GAP_NL)
            line_words = 0;
        if (mlen[k]) {
            k += mlen[k] - 1;
            continue;
        }
        size_t dt = datetime_at(&x, k);
        if (dt) {
            const seg_tok *p = k > 0 ? &x.t[k - 1] : NULL;
            if (k > start && words > 0 && t->gap != GAP_NONE &&
                (is_link(&x, p) || p->shape == SH_XXXX_CAP ||
                 p->shape == SH_XX ||
                 /* "Rudwell Johnson/ENRON@enronXgate 03/28/2001" */
                 (p->shape == SH_MIXED && p->kind == TK_WORD) ||
                 (p->kind == TK_PUNCT && (p->flags & (TF_CLOSE | TF_QUOTE))) ||
                 first_cp(&x, p) == '>')) {
                ends[k - 1] |= E_END;
                start = k;
            }
            k += dt - 1;
            words = 1;
            if (k + 1 < n && x.t[k + 1].gap != GAP_NONE &&
                (is_wordtok(&x.t[k + 1]) ||
                 (x.t[k + 1].kind == TK_PUNCT &&
                  (x.t[k + 1].flags & (TF_OPEN | TF_QUOTE))))) {
                ends[k] |= E_END;
                start = k + 1;
                words = 0;
            }
            continue;
        }
        size_t ce = k == start ? credit_end(&x, k) : 0;
        if (!ce && k == start)
            ce = caption_end(&x, k);
        if (ce) {
            cut(ends, ce, &start, &words);
            k = ce;
            continue;
        }
        /* both look at a one-character mark: "(" or "," */
        if (t->kind == TK_PUNCT && t->len == 1) {
            size_t dl = words > 0 && k > start ? dateline_at(&x, start, k) : 0;
            if (dl > start) {
                ends[dl - 1] |= E_END;
                start = dl;
                words = k - dl;
            }
            if (words > 1 && name_line_at(&x, start, k)) {
                ends[k - 2] |= E_END;
                start = k - 1;
                words = 1;
            }
        }
        /* the sentence ends with token k: each of these rules ends at a
         * mark, a number (a field value) or a lone '?'; the words, links
         * and abbreviations among the busy tokens skip them all */
        int pk = t->kind == TK_PUNCT;
        if ((pk || t->kind == TK_NUM || t->kind == TK_TERM) &&
            ((words > 0 && field_value_end(&x, start, k)) ||
             (k == start && lost_mark(&x, k)) ||
             (words > 0 && pk &&
              (head_dash(&x, start, k) || note_end(&x, start, k) ||
               file_note_end(&x, k) || broken_off(&x, k))) ||
             (pk && salutation_comma(&x, start, k)))) {
            cut(ends, k, &start, &words);
            continue;
        }
        /* "<>": a link the text lost (anonymised), its brackets left */
        int hole = cp_is(&x, t, '<') && k + 1 < n &&
                   x.t[k + 1].gap == GAP_NONE && cp_is(&x, &x.t[k + 1], '>');
        if (is_link(&x, t) || hole) {
            /* a link, its closing brackets, then a link, a sentence
             * starter or a header field ("Groups:") */
            size_t e = k + (size_t)hole;
            while (e + 1 < n && x.t[e + 1].gap == GAP_NONE &&
                   x.t[e + 1].kind == TK_PUNCT &&
                   (x.t[e + 1].flags & (TF_CLOSE | TF_QUOTE) ||
                    x.s[x.t[e + 1].start] == '>'))
                e++;
            size_t w = e + 1;
            size_t lw = lead_word(&x, w);
            if (w < n && x.t[w].gap == GAP_SPACE &&
                (is_link(&x, &x.t[w]) ||
                 (words > 0 && word_case(&x, w) == W_UPPER &&
                  (is_starter(&x, w) ||
                   (w + 1 < n && x.t[w + 1].gap == GAP_NONE &&
                    tok_is(&x, &x.t[w + 1], ":")))) ||
                 (lw < n && word_case(&x, lw) == W_UPPER &&
                  !is_pronoun_I(&x, lw) && !contact_field(&x, k)))) {
                cut(ends, e, &start, &words);
                k = e;
                continue;
            }
        }
        if (is_wordtok(t)) {
            words++;
            line_words++;
        }
        /* a rule of 3+ symbols standing alone ("_____", "*** NOTICE",
         * "---= 19 Servers": a few symbols glued to it belong to it; a few,
         * so that a line of "---=---=..." stays linear) is a sentence of
         * its own */
        size_t se = k;
        if (t->kind == TK_SEP)
            while (se + 1 < n && se < k + 4 && x.t[se + 1].gap == GAP_NONE &&
                   (x.t[se + 1].kind == TK_PUNCT || x.t[se + 1].kind == TK_SEP) &&
                   !(x.t[se + 1].flags & (TF_OPEN | TF_CLOSE | TF_QUOTE)))
                se++;
        if (t->kind == TK_SEP && k > start && words > 0 && t->gap != GAP_NONE &&
            t->len >= 3 &&
            (se + 1 >= n ||
             (x.t[se + 1].gap != GAP_NONE && word_case(&x, se + 1) != W_LOWER))) {
            ends[k - 1] |= E_END;
            start = k;
            words = 0;
        }
        if (t->kind == TK_SEP && k == start && k + 1 < n &&
            x.t[k + 1].gap != GAP_NONE) {
            ends[k] |= E_END; /* "***" between sentences */
            start = k + 1;
            words = 0;
            continue;
        }
        /* "*****NOTICE***** This transmittal", "Usenet News==---- The #1
         * Newsgroup": a rule of four or more symbols closing a banner (glued
         * to it) ends it before a capitalised word; three ("it--- Then")
         * may be a typed dash */
        if (t->kind == TK_SEP && k > start && words > 0 && t->gap == GAP_NONE &&
            t->len >= 4 && se == k && k + 1 < n && x.t[k + 1].gap == GAP_SPACE &&
            word_case(&x, lead_word(&x, k + 1)) == W_UPPER) {
            cut(ends, k, &start, &words);
            continue;
        }
        if (t->kind == TK_TERM || t->kind == TK_ELLIPSIS ||
            t->kind == TK_ABBR || t->kind == TK_EMO)
            k = term_cut(&x, k, &start, &words);
    }
    ends[n - 1] |= E_END;
    return 0;
}
