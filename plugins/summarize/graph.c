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

/* A sentence's entries by stem (stems are distinct within a sentence).
 * Most sentences have a few dozen: insertion sort, without qsort's call per
 * comparison and its buffer. */
static void sort_entries(sz_entry *e, size_t n)
{
    if (n > 64) {
        qsort(e, n, sizeof *e, cmp_entry);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        sz_entry x = e[i];
        size_t j = i;
        while (j > 0 && e[j - 1].stem > x.stem) {
            e[j] = e[j - 1];
            j--;
        }
        e[j] = x;
    }
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

/* Neighbours of the sentences of one block [b0, b1), through an inverted
 * index of the sentences [lo, hi) = the block widened by the window. The
 * index is local so that it stays in cache however long the document. */
typedef struct nb_scratch {
    uint32_t *lid;    /* per global stem: local id, valid when mark == blk */
    uint32_t *mark;   /* per global stem: block number + 1 */
    uint32_t *lstart; /* per local stem: start in lpost (+1 sentinel) */
    uint32_t *lcur;   /* per local stem: cursor */
    uint32_t *lpost;  /* local postings: sentence ids */
    float *lpostw;
    float *acc;       /* 2 * SZ_WINDOW + 1 */
    uint32_t *touched;
    uint32_t *amark;
} nb_scratch;

static void block_neighbours(sz_doc *d, nb_scratch *x, uint32_t blk,
                             size_t b0, size_t b1, float *outw)
{
    size_t n = d->nsent;
    size_t lo = b0 > SZ_WINDOW ? b0 - SZ_WINDOW : 0;
    size_t hi = b1 + SZ_WINDOW < n ? b1 + SZ_WINDOW : n;
    size_t e0 = d->sent[lo].vec0, e1 = hi < n ? d->sent[hi].vec0 : d->nvec;
    uint32_t nl = 0;
    for (size_t e = e0; e < e1; e++) {
        uint32_t st = d->vec[e].stem;
        if (x->mark[st] != blk + 1) {
            x->mark[st] = blk + 1;
            x->lid[st] = nl;
            x->lstart[nl++] = 0;
        }
        x->lstart[x->lid[st]]++;
    }
    uint32_t sum = 0;
    for (uint32_t l = 0; l < nl; l++) {
        uint32_t c = x->lstart[l];
        x->lstart[l] = sum;
        x->lcur[l] = sum;
        sum += c;
    }
    x->lstart[nl] = sum;
    for (size_t s = lo; s < hi; s++) {
        const sz_sent *se = &d->sent[s];
        for (uint32_t k = 0; k < se->nvec; k++) {
            const sz_entry *en = &d->vec[se->vec0 + k];
            uint32_t l = x->lid[en->stem];
            x->lpost[x->lcur[l]] = (uint32_t)s;
            x->lpostw[x->lcur[l]++] = en->w;
        }
    }
    for (uint32_t l = 0; l < nl; l++)
        x->lcur[l] = x->lstart[l];

    for (size_t s = b0; s < b1; s++) {
        const sz_sent *se = &d->sent[s];
        size_t wlo = s > SZ_WINDOW ? s - SZ_WINDOW : 0;
        size_t whi = s + SZ_WINDOW; /* inclusive */
        size_t nt = 0;
        for (uint32_t k = 0; k < se->nvec; k++) {
            const sz_entry *e = &d->vec[se->vec0 + k];
            uint32_t l = x->lid[e->stem];
            uint32_t p = x->lcur[l], pe = x->lstart[l + 1];
            while (p < pe && x->lpost[p] < wlo)
                p++;
            x->lcur[l] = p; /* windows only move forward */
            for (; p < pe && x->lpost[p] <= whi; p++) {
                uint32_t j = x->lpost[p];
                if (j == s)
                    continue;
                size_t slot = j + SZ_WINDOW - s;
                if (x->amark[slot] != s + 1) {
                    x->amark[slot] = (uint32_t)s + 1;
                    x->acc[slot] = 0;
                    x->touched[nt++] = (uint32_t)slot;
                }
                x->acc[slot] += e->w * x->lpostw[p];
            }
        }
        /* keep the SZ_K best (insertion into a small sorted list) */
        uint32_t *nb = d->nb + s * SZ_K;
        float *nw = d->nbw + s * SZ_K;
        unsigned m = 0;
        for (size_t q = 0; q < nt; q++) {
            size_t slot = x->touched[q];
            float w = x->acc[slot];
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
        float total = 0;
        for (unsigned q = 0; q < m; q++)
            total += nw[q];
        outw[s] = total;
    }
}

#define SZ_BLOCK 2048 /* sentences per block of the neighbour search */

int sz_graph_rank(sz_doc *d, dp_err *err)
{
    size_t n = d->nsent, nstem = d->stems.n;
    if (n == 0)
        return 0;
    for (size_t s = 0; s < n; s++)
        sort_entries(d->vec + d->sent[s].vec0, d->sent[s].nvec);

    int rc = -ENOMEM;
    /* the widest block's entries bound the local index */
    size_t maxe = 0;
    for (size_t b0 = 0; b0 < n; b0 += SZ_BLOCK) {
        size_t b1 = b0 + SZ_BLOCK < n ? b0 + SZ_BLOCK : n;
        size_t lo = b0 > SZ_WINDOW ? b0 - SZ_WINDOW : 0;
        size_t hi = b1 + SZ_WINDOW < n ? b1 + SZ_WINDOW : n;
        size_t e = (hi < n ? d->sent[hi].vec0 : d->nvec) - d->sent[lo].vec0;
        if (e > maxe)
            maxe = e;
    }
    nb_scratch x = {0};
    x.lid = malloc((nstem + 1) * sizeof *x.lid);
    x.mark = calloc(nstem + 1, sizeof *x.mark);
    x.lstart = malloc((maxe + 2) * sizeof *x.lstart);
    x.lcur = malloc((maxe + 2) * sizeof *x.lcur);
    x.lpost = malloc((maxe + 1) * sizeof *x.lpost);
    x.lpostw = malloc((maxe + 1) * sizeof *x.lpostw);
    x.acc = calloc(2 * SZ_WINDOW + 1, sizeof *x.acc);
    x.touched = malloc((2 * SZ_WINDOW + 1) * sizeof *x.touched);
    x.amark = calloc(2 * SZ_WINDOW + 1, sizeof *x.amark);
    double *r = malloc(n * sizeof *r), *r2 = malloc(n * sizeof *r2);
    float *outw = calloc(n, sizeof *outw);
    d->nb = malloc(n * SZ_K * sizeof *d->nb);
    d->nbw = malloc(n * SZ_K * sizeof *d->nbw);
    d->nbn = calloc(n, sizeof *d->nbn);
    if (!x.lid || !x.mark || !x.lstart || !x.lcur || !x.lpost || !x.lpostw ||
        !x.acc || !x.touched || !x.amark || !r || !r2 || !outw || !d->nb ||
        !d->nbw || !d->nbn)
        goto out;
    for (size_t b0 = 0, blk = 0; b0 < n; b0 += SZ_BLOCK, blk++)
        block_neighbours(d, &x, (uint32_t)blk, b0,
                         b0 + SZ_BLOCK < n ? b0 + SZ_BLOCK : n, outw);

    /* PageRank with a uniform jump; a sentence without neighbours spreads
     * its mass uniformly. */
    const double damp = 0.85;
    for (size_t s = 0; s < n; s++)
        r[s] = 1.0 / (double)n;
    for (int it = 0; it < 40; it++) {
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
        if (delta < 1e-4)
            break;
    }
    for (size_t s = 0; s < n; s++)
        d->sent[s].rank = (float)(r[s] * (double)n);
    rc = 0;
out:
    if (rc)
        dp_err_set(err, "summarize: out of memory");
    free(x.lid);
    free(x.mark);
    free(x.lstart);
    free(x.lcur);
    free(x.lpost);
    free(x.lpostw);
    free(x.acc);
    free(x.touched);
    free(x.amark);
    free(r);
    free(r2);
    free(outw);
    return rc;
}
