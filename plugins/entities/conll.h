/* CoNLL reading for docproc-train (and the tests). */
#ifndef ENT_CONLL_H
#define ENT_CONLL_H

#include <stddef.h>
#include <stdint.h>

typedef struct conll_sent {
    size_t first, n; /* token range */
    uint32_t doc;    /* document number */
    uint32_t file;   /* index of the file it came from */
} conll_sent;

typedef struct conll {
    char **tok;       /* token strings */
    char **tag;       /* tags as BIO2 ("O", "B-PER", "I-PER") */
    size_t n_tok, cap_tok;
    conll_sent *sent;
    size_t n_sent, cap_sent;
    uint32_t n_docs;
    uint32_t n_files;
} conll;

/* Append the sentences of a CoNLL file. Returns 0 or -errno with msg. */
int conll_read(conll *c, const char *path, char *msg, size_t msglen);
void conll_free(conll *c);

#endif
