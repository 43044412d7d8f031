/* entities: the stage instance, and the mentions of one sentence
 * (rules.c) as the stage (entities.c) asks for them. */
#ifndef ENT_RULES_H
#define ENT_RULES_H

#include <docproc/docproc.h>

#include "ent.h"

typedef struct entities {
    ner_model model;
    gaz gaz;
    gaz heads; /* head words of names (data/heads.tsv): ORG, LOC, FAC */
    int fac_class; /* class index of FAC in heads, or -1 */
    int numbers, link, gaz_tagging;
    const char *label_map[NER_MAX_LABELS]; /* model label -> output label */
} entities;

/* One tagged sentence: t[0, n) are the document's tokens [t0, t0 + n)
 * (tok, offsets into text), prepared; tags the model's tag of each. */
typedef struct ent_sentence {
    const entities *e;
    const char *text;
    const dp_ann *tok;
    const ner_tok *t;
    size_t n, t0;
    const int *tags;
    ent_span *tmp; /* room for n spans (numbers and time) */
    ent_spans *out; /* the document's mentions; this sentence's from `first` */
    size_t first;
} ent_sentence;

/* Append the sentence's mentions to S->out: the model's spans, trimmed
 * and relabelled, then those of the rules. 0 or -ENOMEM. */
int ent_sentence_mentions(const ent_sentence *S);

#endif
