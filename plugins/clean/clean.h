/* clean stage: shared declarations of its passes.
 *
 * The stage runs a chain of passes over the text. Each pass reads a UTF-8
 * text and, only when it changes something, writes a new text into a cbuf
 * together with an alignment (dp_align pieces) back to the text it read.
 * Unchanged stretches are copied as one 1:1 piece; every replacement is its
 * own piece, so any span of the output maps to the exact input bytes it came
 * from. The host composes the alignments of successive set_text calls.
 */
#ifndef CLEAN_H
#define CLEAN_H

#include <stddef.h>
#include <stdint.h>

#include <docproc/stage.h>

/* ------------------------------------------------------------------------ */
/* Output buffer with alignment                                              */

typedef struct cbuf {
    const char *in; /* the text the pass reads */
    size_t done;    /* input bytes consumed (copied or replaced) so far */
    char *s;        /* output text; NULL until the first change */
    size_t len, cap;
    dp_align *al;
    size_t nal, alcap;
    int last_copy; /* the last piece is a 1:1 copy that may be extended */
    int changed;
    int oom;
} cbuf;

void cb_init(cbuf *b, const char *in);
/* cb_init for the next pass over `in`, keeping b's buffers (their content
 * is not kept): the passes over a document then write into memory already
 * touched instead of a fresh text's worth each (25 k page faults for a 100
 * MB text). cb_free once at the end. */
void cb_reset(cbuf *b, const char *in);
void cb_free(cbuf *b);
/* Replace input [start, end) (start >= done) by rep[0..n); copies the input
 * between done and start unchanged first. n == 0 deletes. */
int cb_replace(cbuf *b, size_t start, size_t end, const char *rep, size_t n);
/* Copy input [done, upto) unchanged (no-op while nothing changed). */
int cb_keep(cbuf *b, size_t upto);
/* Copy the rest of the input; after it, b->s/len hold the full new text
 * when b->changed. */
int cb_finish(cbuf *b, size_t in_len);
/* Append raw output bytes mapped to input [start, end) as one piece
 * (used by passes that build their output from scratch). */
int cb_emit(cbuf *b, const char *rep, size_t n, size_t start, size_t end);

/* ------------------------------------------------------------------------ */
/* UTF-8 helpers                                                             */

/* Decode one code point of valid UTF-8 at s[i] (i < len); *n gets its byte
 * length. The text given to passes is always valid UTF-8. */
static inline int32_t u8_get(const char *s, size_t len, size_t i, size_t *n)
{
    const unsigned char *u = (const unsigned char *)s + i;
    unsigned c = u[0];
    if (c < 0x80 || i + 1 >= len) {
        *n = 1;
        return (int32_t)c;
    }
    if (c < 0xE0) {
        *n = 2;
        return (int32_t)(((c & 0x1F) << 6) | (u[1] & 0x3F));
    }
    if (c < 0xF0 || i + 3 > len) {
        *n = 3;
        return (int32_t)(((c & 0x0F) << 12) | ((u[1] & 0x3F) << 6) |
                         (u[2] & 0x3F));
    }
    *n = 4;
    return (int32_t)(((c & 0x07) << 18) | ((u[1] & 0x3F) << 12) |
                     ((u[2] & 0x3F) << 6) | (u[3] & 0x3F));
}

/* Encode cp into out (4 bytes room); returns the length. */
size_t u8_put(int32_t cp, char *out);

/* ------------------------------------------------------------------------ */
/* Data: code pages and the word list                                        */

enum { CP_1252, CP_LATIN1, CP_1250, CP_1251, CP_8859_2, CP_1257, CP_MACROMAN,
       CP_437, CP_COUNT };

typedef struct codepage {
    char name[24];
    int32_t hi[128]; /* code points of bytes 0x80..0xFF */
    /* reverse map: sorted (code point, byte) pairs for encoding */
    struct { int32_t cp; unsigned char byte; } rev[128];
    int loaded;
} codepage;

/* Encode cp in page p: the byte, or -1 when it has none. */
int cp_encode(const codepage *p, int32_t cp);
int codepages_load(codepage pages[CP_COUNT], const char *path, dp_err *err);
/* The built-in Windows-1252 table (decoding needs it even without data). */
void codepage_1252_builtin(codepage *p);

typedef struct entity {
    const char *name;
    unsigned char n;   /* UTF-8 length */
    char utf8[11];
} entity;

typedef struct entity_tab {
    entity *ents; /* sorted by name */
    size_t n;
    char *pool;
} entity_tab;

int entities_load(entity_tab *t, const char *path, dp_err *err);
const entity *entities_find(const entity_tab *t, const char *name, size_t n);
void entities_free(entity_tab *t);

typedef struct wordset {
    char **slots; /* open addressing, NULL = empty */
    size_t mask;
    char *pool;
} wordset;

int wordset_load(wordset *w, const char *path, dp_err *err);
int wordset_has(const wordset *w, const char *word, size_t len);
void wordset_free(wordset *w);

/* ------------------------------------------------------------------------ */
/* Configuration                                                             */

enum { GUIL_REMOVE, GUIL_KEEP, GUIL_NBSP };

typedef struct clean_cfg {
    int decode_fallback; /* invalid UTF-8 bytes as Windows-1252 */
    int mojibake;
    int unicode;  /* NFC, controls, odd spaces, zero-width, line endings */
    int fold_width; /* full-width ASCII and ligatures */
    int entities;
    int html; /* 0 never, 1 auto, 2 always */
    int collapse_spaces;
    int join_lines;
    int join_hyphens;
    int typography;
    int guillemets; /* GUIL_* */
    int ascii_punct;
    int drop_rule_lines;
    double binary_ratio;
    codepage pages[CP_COUNT];
    wordset words;
    entity_tab ents;
    /* For code points below 0x10000: bit p set when code page p encodes it
     * as a UTF-8 lead byte (C2-F4) / a continuation byte (80-BF). A line
     * with no lead followed by a continuation cannot be mojibake. */
    uint8_t *lead_mask, *cont_mask; /* lead_mask: two-byte leads C2-DF */
    uint8_t *lead3_mask;            /* leads of three or four bytes */
    uint8_t *a0_mask; /* encodes as C2 C3 C5 CE D0 D9: "Ã " may be "à" */
} clean_cfg;

int clean_mojibake_init(clean_cfg *cfg); /* after the code pages load */

/* ------------------------------------------------------------------------ */
/* Passes                                                                    */

/* decode.c: raw bytes to UTF-8. Sets *encoding to a static name. Returns
 * 0, or -EILSEQ with err set for binary input, or -ENOMEM. */
int clean_decode(const clean_cfg *cfg, const unsigned char *raw, size_t len,
                 cbuf *out, const char **encoding, dp_err *err);

/* html.c */
int clean_is_html(const char *name, const char *text, size_t len);
int clean_html(const clean_cfg *cfg, const char *in, size_t len, cbuf *out);
/* Decode the entity at s[i] (s[i] == '&'); returns its length in bytes and
 * writes the UTF-8 into out (up to 8 bytes) with *outn, or 0 if none. */
size_t clean_entity(const clean_cfg *cfg, const char *s, size_t len, size_t i, char *out,
                    size_t *outn);

/* mojibake.c */
int clean_mojibake(const clean_cfg *cfg, const char *in, size_t len,
                   cbuf *out);

/* unicode.c */
int clean_unicode(const clean_cfg *cfg, const char *in, size_t len,
                  cbuf *out, int entities);
int clean_nfc(const char *in, size_t len, cbuf *out);

/* typography.c */
int clean_typography(const clean_cfg *cfg, const char *in, size_t len,
                     cbuf *out);

/* layout.c */
int clean_layout(const clean_cfg *cfg, const char *in, size_t len,
                 cbuf *out);

#endif
