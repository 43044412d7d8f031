/* segment: internal interfaces shared by the files of the stage.
 *
 *   abbrev.c     word lists (abbreviations, sentence starters) from data files
 *   chars.c      character classes (ASCII table, utf8proc beyond ASCII)
 *   tokens.c     Penn-Treebank-like tokenizer with shape classes
 *   sentences.c  sentence boundaries over the tokens
 *   segment.c    the stage descriptor: options, paragraphs, annotation
 */
#ifndef SEGMENT_H
#define SEGMENT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <docproc/stage.h>

/* ---------------------------------------------------------------- chars */

enum {
    CH_SPACE = 1, /* white space that is not a line break */
    CH_NL,        /* line break: \n \r \v \f U+0085 U+2028 U+2029 */
    CH_UPPER,     /* Lu, Lt */
    CH_LOWER,     /* Ll */
    CH_LETTER,    /* Lm, Lo: letters without case */
    CH_MARK,      /* Mn, Mc, Me, Cf: joins the word it follows */
    CH_DIGIT,     /* Nd */
    CH_NUMOTHER,  /* Nl, No: numeric but not a decimal digit */
    CH_PUNCT      /* everything else: P*, S*, controls */
};

/* Class of the code point at s[i] (valid UTF-8, i < len); *cp gets the code
 * point and *n its length in bytes. ASCII is a table look-up, inline. */
extern const unsigned char seg_ascii_class[128];
int ch_class_slow(const char *s, size_t len, size_t i, int32_t *cp, size_t *n);
static inline int ch_class(const char *s, size_t len, size_t i, int32_t *cp,
                           size_t *n)
{
    unsigned char c = (unsigned char)s[i];
    if (c < 0x80) {
        *cp = c;
        *n = 1;
        return seg_ascii_class[c];
    }
    return ch_class_slow(s, len, i, cp, n);
}

static inline int ch_is_wordish(int c)
{
    return c == CH_UPPER || c == CH_LOWER || c == CH_LETTER || c == CH_MARK ||
           c == CH_DIGIT || c == CH_NUMOTHER;
}

/* The first k' >= k with f[k'] & bits, n when none. Flags set on a few
 * tokens in ten (sentence ends, tokens the sentence rules must look at):
 * eight bytes read at a time, so that runs of plain tokens cost no branch
 * each. */
static inline size_t seg_next_bit(const uint8_t *f, size_t k, size_t n,
                                  uint8_t bits)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t mask = 0x0101010101010101ULL * bits;
    while (k + 8 <= n) {
        uint64_t w;
        memcpy(&w, f + k, 8);
        if (w & mask)
            return k + (size_t)__builtin_ctzll(w & mask) / 8;
        k += 8;
    }
#endif
    while (k < n && !(f[k] & bits))
        k++;
    return k;
}

/* The first k' >= k with f[k'] != 0, n when none. */
static inline size_t seg_next_flag(const uint8_t *f, size_t k, size_t n)
{
    return seg_next_bit(f, k, n, 0xFF);
}

/* ---------------------------------------------------------------- words */

/* Abbreviation classes (data file: "<word> [class]"). */
enum {
    AB_NONE = 0,
    AB_ANY,   /* may end a sentence: "etc.", "Inc.", "U.S." */
    AB_TITLE, /* precedes a name, never ends a sentence: "Mr.", "Dr." */
    AB_INNER, /* never ends a sentence: "e.g.", "vs." */
    AB_NUM    /* an abbreviation only before a number: "No. 5", "p. 55" */
};

typedef struct wordset wordset;

wordset *wordset_new(void);
void wordset_free(wordset *ws);
/* Add a word (without final period) with a class (1..255). Words are
 * compared case-insensitively (ASCII) unless `exact`. 0 or -ENOMEM. */
int wordset_add(wordset *ws, const char *w, size_t len, int cls, int exact);
/* The class of a word, 0 when absent. */
int wordset_get(const wordset *ws, const char *w, size_t len);
/* Load "word [class]" lines from a file; '#' starts a comment. Classes:
 * any, title, inner, num; "cs" after it makes the entry case-sensitive.
 * 0, or a negative errno with `msg` (size msglen) filled. */
int wordset_load(wordset *ws, const char *path, char *msg, size_t msglen);
/* Parse one entry such as "approx", "Prof. title" or "No num". */
int wordset_add_entry(wordset *ws, const char *line, size_t len, char *msg,
                      size_t msglen);

/* ---------------------------------------------------------------- tokens */

enum {
    TK_WORD = 1, /* letters/digits/marks, hyphenated, clitic */
    TK_NUM,      /* digits with separators: 3,500.25 09:25 05/22/2001 */
    TK_ABBR,     /* a word with its period: Mr. U.S. a.m. J. */
    TK_URL,      /* URL, e-mail, @handle, #tag */
    TK_TERM,     /* . ! ? runs, CJK stops */
    TK_ELLIPSIS, /* ... .... … and ". . ." */
    TK_SEP,      /* a run of 3+ identical symbols: *** --- === */
    TK_PUNCT,    /* any other punctuation or symbol: one code point */
    TK_EMO       /* an emoticon: :-) ;) :P <3 */
};

enum {
    SH_XXXX_CAP = 0, /* "Xxxx" */
    SH_XXXX_LOW,     /* "xxxx" */
    SH_XX,           /* "XX" */
    SH_DD,           /* "dd" */
    SH_MIXED,        /* "mixed" */
    SH_PUNCT,        /* "punct" */
    SH_COUNT
};

extern const char *const seg_shape_names[SH_COUNT];

/* gap: what separates a token from the one before it. */
enum {
    GAP_NONE = 0, /* attached */
    GAP_SPACE,    /* spaces only */
    GAP_NL,       /* one line break */
    GAP_PARA      /* two line breaks or more (a blank line) */
};

/* A token is also the host's compact annotation (dp_span, interface 1.3):
 * the shape is its label index into seg_shape_names and the rest sits in
 * the span's `user` bytes, so that the token array is handed to add_spans
 * as it is, with no copy. */
typedef union seg_tok {
    struct {
        size_t start;
        uint32_t len;
        uint8_t shape; /* SH_*: dp_span.label */
        uint8_t kind;  /* TK_* */
        uint8_t gap;   /* GAP_* before this token */
        uint8_t flags; /* TF_* */
    };
    dp_span span;
} seg_tok;
_Static_assert(sizeof(seg_tok) == sizeof(dp_span) &&
                   offsetof(seg_tok, shape) == offsetof(dp_span, label),
               "a token is a dp_span");

enum {
    TF_SPACEAFTER_NL = 1u << 0, /* the line this token ends had trailing
                                   white space before its break */
    TF_OPEN = 1u << 1,          /* opening bracket or quote */
    TF_CLOSE = 1u << 2,         /* closing bracket or quote */
    TF_QUOTE = 1u << 3,         /* an ambiguous quote: " ' */
    TF_BULLET = 1u << 4,        /* a list bullet: • ⁃ ◦ ▪ ‣ ● */
    TF_SPACED = 1u << 5,        /* an ellipsis written ". . ." */
    TF_NUMABBR = 1u << 6        /* a word looked up as a number abbreviation
                                   ("No") whose period was left apart */
};

/* The token array, and beside it the flags the sentence rules step by
 * (seg_next_bit), written by the tokenizer as it emits each token: it
 * knows the token's kind then, and a pass of their own over the array cost
 * a fifth of the rules' instructions. One byte a token (one store), SF_*:
 *   SF_BUSY: the rules' main loop must look at the token (all but the
 *            plain words inside a line; the rules add the list markers);
 *   SF_LOOK: the casing and list-marker scan must look at it (a word at a
 *            line start, after a full stop or of one letter; a token short
 *            enough for a marker after white space or a bullet). */
enum {
    SF_LOOK = 1,
    SF_BUSY = 2,
    /* the tokenizer's own: what the token means for the next's SF_LOOK */
    SF_TERM = 4,  /* a full stop */
    SF_BULLET = 8 /* a bullet */
};

typedef struct seg_toks {
    seg_tok *v;
    uint8_t *fl; /* cap bytes: SF_*; fl[-1] exists and is 0 (the "token"
                    before the first) */
    size_t n, cap;
    /* a token other than the first has GAP_PARA: the text uses blank
     * lines (noted where the tokenizer finds the gap, not by a scan) */
    int blank_lines;
} seg_toks;

/* The longest list-marker token of each kind: "12" "12." (TK_NUM up to
 * three bytes), "a" (TK_WORD), "a." (TK_ABBR, exactly two bytes); by kind
 * in seg_marker_max_len (0 for the others). */
enum { MARK_MAX_NUM = 3, MARK_MAX_WORD = 1, MARK_MAX_ABBR = 2 };
extern const uint8_t seg_marker_max_len[16];

typedef struct seg_lang {
    wordset *abbrev;   /* abbreviations, AB_* classes */
    wordset *starters; /* words that commonly begin a sentence */
    wordset *closings; /* letter closings that end a line: "Regards" */
    wordset *greetings; /* salutations opening a message: "Hi", "Dear";
                           NULL or empty when the language has none */
} seg_lang;

/* Tokenize text[0, len) (valid UTF-8, NUL-terminated as the host's text
 * always is: text[len] == 0 ends the fast word scan) into toks (appended).
 * 0 or -ENOMEM. */
int seg_tokenize(const seg_lang *lang, const char *text, size_t len,
                 seg_toks *toks);
void seg_toks_free(seg_toks *toks);

/* ---------------------------------------------------------------- sentences */

/* Sentence boundaries: ends[k] is set for each token k that ends a
 * sentence (the last token always does). `ends` has toks->n bytes. The
 * list markers found are added to toks->busy. */
int seg_sentences(const seg_lang *lang, const char *text, size_t len,
                  seg_toks *toks, uint8_t *ends);
/* The same with the caller's work area of toks->n bytes (any content), so
 * that a caller can keep it from one text to the next. */
int seg_sentences_in(const seg_lang *lang, const char *text, size_t len,
                     seg_toks *toks, uint8_t *ends, uint8_t *work);

#endif
