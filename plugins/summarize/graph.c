/* Sentence similarity graph and its ranking (LexRank, continuous).
 *
 * Similarity is the cosine of TF-ISF vectors. Pairs are found through an
 * inverted index (stem -> sentences, in order) restricted to a window of
 * SZ_WINDOW sentences on each side, and each sentence keeps its SZ_K most
 * similar neighbours. Both bounds make the cost linear in the number of
 * sentences; a document shorter than the window gets the exact graph.
 * The ranking is PageRank over the row-normalised neighbour weights.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sz.h"

static int cmp_entry(const void *a, const void *b)
{
    const sz_entry *x = a, *y = b;
    return (x->stem > y->stem) - (x->stem < y->stem);
}

float sz_cosine(const sz_doc *d, uint32_t a, uint32_t b)
{
    const sz_sent *sa = &d->sent[a], *sb = &d->sent[b];
    const sz_entry *x = d->vec + sa->vec0, *y = d->vec + sb->vec0;
    uint32_t i = 0, j = 0;
    float dot = 0;
    while (i < sa->nvec && j < sb->nvec) {
        if (x[i].stem < y[j].stem)
            i++;
        else if (x[i].stem > y[j].stem)
            j++;
        else
            dot += x[i++].w * y[j++].w;
    }
    return dot;
}

int sz_graph_rank(sz_doc *d, dp_err *err)
{
    size_t n = d->nsent, nstem = d->stems.n;
    if (n == 0)
        return 0;
    for (size_t s = 0; s < n; s++)
        qsort(d->vec + d->sent[s].vec0, d->sent[s].nvec, sizeof(sz_entry),
              cmp_entry);

    int rc = -ENOMEM;
    /* Postings: CSR layout, stem -> sentence ids in increasing order. */
    uint32_t *pstart = calloc(nstem + 1, sizeof *pstart);
    uint32_t *cursor = calloc(nstem + 1, sizeof *cursor);
    uint32_t *post = malloc((d->nvec ? d->nvec : 1) * sizeof *post);
    float *postw = malloc((d->nvec ? d->nvec : 1) * sizeof *postw);
    float *acc = calloc(2 * SZ_WINDOW + 1, sizeof *acc);
    uint32_t *touched = malloc((2 * SZ_WINDOW + 1) * sizeof *touched);
    uint32_t *mark = calloc(2 * SZ_WINDOW + 1, sizeof *mark);
    double *r = malloc(n * sizeof *r), *r2 = malloc(n * sizeof *r2);
    float *outw = calloc(n, sizeof *outw);
    d->nb = malloc(n * SZ_K * sizeof *d->nb);
    d->nbw = malloc(n * SZ_K * sizeof *d->nbw);
    d->nbn = calloc(n, sizeof *d->nbn);
    if (!pstart || !cursor || !post || !postw || !acc || !touched || !mark || !r ||
        !r2 || !outw || !d->nb || !d->nbw || !d->nbn)
        goto out;
    for (size_t k = 0; k < d->nvec; k++)
        pstart[d->vec[k].stem + 1]++;
    for (size_t k = 0; k < nstem; k++)
        pstart[k + 1] += pstart[k];
    memcpy(cursor, pstart, nstem * sizeof *cursor);
    for (size_t s = 0; s < n; s++) {
        const sz_sent *se = &d->sent[s];
        for (uint32_t k = 0; k < se->nvec; k++) {
            const sz_entry *e = &d->vec[se->vec0 + k];
            post[cursor[e->stem]] = (uint32_t)s;
            postw[cursor[e->stem]++] = e->w;
        }
    }
    memcpy(cursor, pstart, nstem * sizeof *cursor);

    /* Neighbours. */
    for (size_t s = 0; s < n; s++) {
        const sz_sent *se = &d->sent[s];
        size_t lo = s > SZ_WINDOW ? s - SZ_WINDOW : 0;
        size_t hi = s + SZ_WINDOW; /* inclusive */
        size_t nt = 0;
        for (uint32_t k = 0; k < se->nvec; k++) {
            const sz_entry *e = &d->vec[se->vec0 + k];
            uint32_t p = cursor[e->stem], pe = pstart[e->stem + 1];
            while (p < pe && post[p] < lo)
                p++;
            cursor[e->stem] = p; /* windows only move forward */
            for (; p < pe && post[p] <= hi; p++) {
                uint32_t j = post[p];
                if (j == s)
                    continue;
                size_t slot = j + SZ_WINDOW - s;
                if (mark[slot] != s + 1) {
                    mark[slot] = (uint32_t)s + 1;
                    touched[nt++] = (uint32_t)slot;
                }
                acc[slot] += e->w * postw[p];
            }
        }
        /* keep the SZ_K best (insertion into a small sorted list) */
        uint32_t *nb = d->nb + s * SZ_K;
        float *nw = d->nbw + s * SZ_K;
        unsigned m = 0;
        for (size_t q = 0; q < nt; q++) {
            size_t slot = touched[q];
            float w = acc[slot];
            acc[slot] = 0;
            if (w <= 0.01f)
                continue;
            if (m == SZ_K && w <= nw[m - 1])
                continue;
            unsigned pos = m < SZ_K ? m++ : SZ_K - 1;
            while (pos > 0 && nw[pos - 1] < w) {
                nw[pos] = nw[pos - 1];
                nb[pos] = nb[pos - 1];
                pos--;
            }
            nw[pos] = w;
            nb[pos] = (uint32_t)(slot + s - SZ_WINDOW);
        }
        d->nbn[s] = (uint8_t)m;
        float sum = 0;
        for (unsigned q = 0; q < m; q++)
            sum += nw[q];
        outw[s] = sum;
    }

    /* PageRank with a uniform jump; a sentence without neighbours spreads
     * its mass uniformly. */
    const double damp = 0.85;
    for (size_t s = 0; s < n; s++)
        r[s] = 1.0 / (double)n;
    for (int it = 0; it < 50; it++) {
        double dangling = 0;
        for (size_t s = 0; s < n; s++)
            if (outw[s] <= 0)
                dangling += r[s];
        double base = (1.0 - damp) / (double)n + damp * dangling / (double)n;
        for (size_t s = 0; s < n; s++)
            r2[s] = base;
        for (size_t s = 0; s < n; s++) {
            if (outw[s] <= 0)
                continue;
            double share = damp * r[s] / outw[s];
            const uint32_t *nb = d->nb + s * SZ_K;
            const float *nw = d->nbw + s * SZ_K;
            for (unsigned q = 0; q < d->nbn[s]; q++)
                r2[nb[q]] += share * nw[q];
        }
        double delta = 0;
        for (size_t s = 0; s < n; s++)
            delta += fabs(r2[s] - r[s]);
        double *tmp = r;
        r = r2;
        r2 = tmp;
        if (delta < 1e-7)
            break;
    }
    for (size_t s = 0; s < n; s++)
        d->sent[s].rank = (float)(r[s] * (double)n);
    rc = 0;
out:
    if (rc)
        dp_err_set(err, "summarize: out of memory");
    free(pstart);
    free(cursor);
    free(post);
    free(postw);
    free(acc);
    free(touched);
    free(mark);
    free(r);
    free(r2);
    free(outw);
    return rc;
}
