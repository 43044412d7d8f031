/* entities: the stage's own pieces (rules, linking) over prepared tokens. */
#ifndef ENT_ENT_H
#define ENT_ENT_H

#include <docproc/stage.h>

#include "ner.h"

/* A mention: tokens [start, end) of the document, its label (a static or
 * instance-owned string) and, after linking, its canonical mention. */
typedef struct ent_span {
    uint32_t start, end;
    const char *label;
    int32_t ref;   /* index of the canonical mention in the sorted list */
    uint8_t src;   /* 0 model, 1 rules, 2 gazetteer, 3 linking */
} ent_span;

/* The mentions of a document as they are found (spans.c). */
typedef struct ent_spans {
    ent_span *spans;
    size_t n, cap;
} ent_spans;

/* Append s; 0 or -ENOMEM (the list is then unchanged). */
int ent_spans_push(ent_spans *l, ent_span s);
/* qsort order of mentions: by start, then by end. */
int ent_span_cmp(const void *a, const void *b);

/* Numbers and time over the tokens of one sentence; spans are token
 * indexes relative to t. Returns the count written (at most n). */
int numex_init(void); /* once, before numex_find; thread-safe */
size_t numex_find(const ner_tok *t, size_t n, const gaz *g, ent_span *out);
/* Whether a token is an ordinal: "1st", "2nd", "third". */
int numex_is_ordinal(const ner_tok *t);

/* The tokens of the document as linking sees them: the host's token layer
 * (spans of text) and the flags the tagger found, one byte a token. A copy
 * of each token's text pointer and length beside its flags took 16 bytes
 * a token for the whole document (320 MB at 100 MB of text). */
typedef struct ent_toks {
    const char *text;
    const dp_ann *span; /* n spans of text */
    const uint8_t *flags; /* n TF_* */
    size_t n;
} ent_toks;

static inline const char *ent_tok_s(const ent_toks *t, size_t i)
{
    return t->text + t->span[i].start;
}
static inline size_t ent_tok_len(const ent_toks *t, size_t i)
{
    return t->span[i].end - t->span[i].start;
}

/* Link mentions (sorted, non-overlapping) of a document: add mentions for
 * untagged repeats and short forms of names, then give each its canonical
 * mention (ref) and the canonical's label. l->spans may be reallocated.
 * Returns 0 or -ENOMEM. */
int link_mentions(const ent_toks *t, ent_spans *l);

/* "Collective Security Treaty Organization (CSTO)": the capitalised words
 * before a parenthesised acronym made of their initials become one mention
 * (ORG unless already tagged otherwise), and the acronym another. */
int acronym_defs(const ent_toks *t, ent_spans *l);

#endif
