/* CoNLL reader: whitespace-separated columns, token first and tag last;
 * blank lines end sentences; "-DOCSTART-" lines start documents. Tags may
 * be BIO2, IOB1 or BIOES/BILOU: all are converted to BIO2. A file without
 * any -DOCSTART- line (tweets) makes each sentence its own document. */
#include "conll.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int push_tok(conll *c, const char *tok, size_t tl, const char *tag)
{
    if (c->n_tok == c->cap_tok) {
        size_t cap = c->cap_tok ? c->cap_tok * 2 : 4096;
        char **a = realloc(c->tok, cap * sizeof *a);
        if (a == NULL)
            return -ENOMEM;
        c->tok = a;
        char **b = realloc(c->tag, cap * sizeof *b);
        if (b == NULL)
            return -ENOMEM;
        c->tag = b;
        c->cap_tok = cap;
    }
    c->tok[c->n_tok] = strndup(tok, tl);
    c->tag[c->n_tok] = strdup(tag);
    if (!c->tok[c->n_tok] || !c->tag[c->n_tok]) {
        free(c->tok[c->n_tok]);
        free(c->tag[c->n_tok]);
        return -ENOMEM;
    }
    c->n_tok++;
    return 0;
}

static int end_sent(conll *c, size_t first, uint32_t doc)
{
    if (c->n_tok == first)
        return 0;
    if (c->n_sent == c->cap_sent) {
        size_t cap = c->cap_sent ? c->cap_sent * 2 : 1024;
        conll_sent *s = realloc(c->sent, cap * sizeof *s);
        if (s == NULL)
            return -ENOMEM;
        c->sent = s;
        c->cap_sent = cap;
    }
    c->sent[c->n_sent].first = first;
    c->sent[c->n_sent].n = c->n_tok - first;
    c->sent[c->n_sent].doc = doc;
    c->sent[c->n_sent].file = c->n_files;
    c->n_sent++;
    return 0;
}

/* Convert tag `t` to BIO2 given the previous BIO2 tag. */
static void to_bio2(const char *t, const char *prev, char *out, size_t outlen)
{
    if (strcmp(t, "O") == 0 || strlen(t) < 3 || t[1] != '-') {
        snprintf(out, outlen, "O");
        return;
    }
    const char *lab = t + 2;
    int cont = prev && strcmp(prev, "O") != 0 && strcmp(prev + 2, lab) == 0;
    switch (t[0]) {
    case 'B':
    case 'S':
    case 'U':
        snprintf(out, outlen, "B-%s", lab);
        break;
    case 'I':
    case 'E':
    case 'L':
        snprintf(out, outlen, "%c-%s", cont ? 'I' : 'B', lab);
        break;
    default:
        snprintf(out, outlen, "O");
    }
}

int conll_read(conll *c, const char *path, char *msg, size_t msglen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        int e = errno;
        snprintf(msg, msglen, "%s: %s", path, strerror(e));
        return -e;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t r;
    unsigned long lineno = 0;
    int rc = 0, has_docstart = 0;
    size_t first = c->n_tok, sent0 = c->n_sent;
    uint32_t doc = c->n_docs;
    while ((r = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (r > 0 && (line[r - 1] == '\n' || line[r - 1] == '\r' ||
                         line[r - 1] == ' ' || line[r - 1] == '\t'))
            line[--r] = 0;
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == 0) {
            if ((rc = end_sent(c, first, doc)))
                break;
            first = c->n_tok;
            continue;
        }
        if (strncmp(p, "-DOCSTART-", 10) == 0) {
            if ((rc = end_sent(c, first, doc)))
                break;
            first = c->n_tok;
            if (has_docstart || c->n_sent > sent0)
                doc++;
            has_docstart = 1;
            continue;
        }
        char *tokend = p + strcspn(p, " \t");
        char *tag = strrchr(p, ' ');
        char *tab = strrchr(p, '\t');
        if (tab > tag)
            tag = tab;
        if (tag == NULL || tag < tokend) {
            snprintf(msg, msglen, "%s:%lu: expected TOKEN ... TAG columns", path, lineno);
            rc = -EINVAL;
            break;
        }
        tag++;
        if (!(strcmp(tag, "O") == 0 ||
              (strlen(tag) > 2 && tag[1] == '-' && strchr("BIESLU", tag[0])))) {
            snprintf(msg, msglen, "%s:%lu: bad tag '%s' (expected O, B-X, I-X)",
                     path, lineno, tag);
            rc = -EINVAL;
            break;
        }
        char bio[64];
        const char *prev = c->n_tok > first ? c->tag[c->n_tok - 1] : NULL;
        to_bio2(tag, prev, bio, sizeof bio);
        if ((rc = push_tok(c, p, (size_t)(tokend - p), bio))) {
            snprintf(msg, msglen, "out of memory");
            break;
        }
    }
    if (rc == 0 && (rc = end_sent(c, first, doc)) != 0)
        snprintf(msg, msglen, "out of memory");
    free(line);
    fclose(f);
    if (rc)
        return rc;
    c->n_files++;
    if (!has_docstart) {
        /* one document per sentence */
        for (size_t s = sent0; s < c->n_sent; s++)
            c->sent[s].doc = doc++;
        c->n_docs = doc;
    } else {
        c->n_docs = doc + 1;
    }
    return 0;
}

void conll_free(conll *c)
{
    for (size_t i = 0; i < c->n_tok; i++) {
        free(c->tok[i]);
        free(c->tag[i]);
    }
    free(c->tok);
    free(c->tag);
    free(c->sent);
    memset(c, 0, sizeof *c);
}
