/* Final sentence scores, the length rule and MMR selection. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sz.h"

size_t sz_target_count(const sz_inst *in, size_t nsent)
{
    if (nsent == 0)
        return 0;
    size_t k = nsent;
    int given = 0;
    if (in->opt_sentences >= 0) {
        k = (size_t)in->opt_sentences;
        given = 1;
    }
    if (in->opt_ratio >= 0) {
        double r = floor(in->opt_ratio * (double)nsent + 0.5);
        size_t kr = r >= (double)nsent ? nsent : (size_t)r;
        if (kr < k)
            k = kr;
        given = 1;
    }
    if (!given && in->opt_words < 0) {
        /* default: 3 sentences or 20%, whichever is fewer */
        size_t kr = (size_t)floor(0.2 * (double)nsent + 0.5);
        k = kr < 3 ? kr : 3;
    }
    if (k < 1)
        k = 1;
    if (k > nsent)
        k = nsent;
    return k;
}

/* Weights of the salience features (see docs/summarize.md). */
#define W_RANK 0.45     /* graph centrality (LexRank) */
#define W_KEYWORD 0.40  /* keyword centrality */
#define W_ENTITY 0.15   /* entity centrality */
#define W_KEYPHRASE 0.40 /* keyphrase centrality (top 20 keyphrases held) */
#define LEAD_BOOST 1.0  /* the first body sentence counts double ... */
#define LEAD_DECAY 1.5  /* ... and the boost fades over the next ones */
#define LONG_WORDS 20.0 /* longer sentences are discounted by sqrt */
#define PERSON_WEIGHT 1.5 /* discount per share of "I"/"you"/"we" words */

/* Salience of each sentence: graph centrality, keyword and entity
 * centrality, a position prior and penalties for poor summary sentences. */
static void score_sentences(sz_doc *d)
{
    float max_rank = 0, max_kw = 0, max_ent = 0, max_kp = 0;
    for (size_t s = 0; s < d->nsent; s++) {
        const sz_sent *se = &d->sent[s];
        if (se->rank > max_rank)
            max_rank = se->rank;
        if (se->kw > max_kw)
            max_kw = se->kw;
        if (se->ent > max_ent)
            max_ent = se->ent;
        if (se->kp > max_kp)
            max_kp = se->kp;
    }
    size_t body = 0; /* index among sentences that read as sentences */
    for (size_t s = 0; s < d->nsent; s++) {
        sz_sent *se = &d->sent[s];
        double rank = max_rank > 0 ? se->rank / max_rank : 0;
        double kw = max_kw > 0 ? se->kw / max_kw : 0;
        double ent = max_ent > 0 ? se->ent / max_ent : 0;
        double kp = max_kp > 0 ? se->kp / max_kp : 0;
        double v = W_RANK * rank + W_KEYWORD * kw + W_ENTITY * ent +
                   W_KEYPHRASE * kp;
        /* a summary should be concise: keyword sums grow with length */
        if (se->nwords > LONG_WORDS)
            v /= sqrt(se->nwords / LONG_WORDS);
        int fragment = se->nwords < 6 || se->ncontent < 3;
        if (!fragment && !(se->flags & (SZ_NO_END | SZ_QUESTION |
                                         SZ_QUOTE_ONLY | SZ_BOILER))) {
            /* news puts the gist first */
            v *= 1.0 + LEAD_BOOST * exp(-(double)body / LEAD_DECAY);
            body++;
        }
        /* lists, tables, addresses: mostly numbers and symbols */
        if (se->ntok > 0) {
            double prose = (double)(se->nwords - se->nnum) / se->ntok;
            if (prose < 0.6)
                v *= prose / 0.6;
        }
        /* A summary tells what a document is about in the third person;
         * sentences full of "I", "you", "we" are the speaker's asides
         * (chat, vlogs, letters). A share of 1/3 such words halves the
         * score. */
        if (se->nperson > 0 && se->nwords > 0) {
            double p = 1.0 - PERSON_WEIGHT * se->nperson / se->nwords;
            v *= p > 0.1 ? p : 0.1;
        }
        if (fragment)
            v *= 0.1; /* "Biography", "[1]", "Reuters" */
        if (se->flags & SZ_NO_END)
            v *= 0.3; /* headings, bylines, captions */
        if (se->flags & SZ_QUESTION)
            v *= 0.3;
        if (se->flags & SZ_QUOTE_ONLY)
            v *= 0.5;
        if (se->flags & SZ_LOWER_START)
            v *= 0.6; /* a continuation, or a broken sentence */
        if (se->flags & SZ_BOILER)
            v *= 0.01;
        se->score = (float)v;
    }
}

typedef struct heap_item {
    double v;
    uint32_t s;
    uint32_t stamp;
} heap_item;

static void heap_push(heap_item *h, size_t *n, heap_item it)
{
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h[p].v >= it.v)
            break;
        h[i] = h[p];
        i = p;
    }
    h[i] = it;
}

static heap_item heap_pop(heap_item *h, size_t *n)
{
    heap_item top = h[0];
    heap_item last = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && h[c + 1].v > h[c].v)
            c++;
        if (h[c].v <= last.v)
            break;
        h[i] = h[c];
        i = c;
    }
    if (*n)
        h[i] = last;
    return top;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The hashes of the chosen sentences (0 = empty slot; sentence hashes are
 * never 0). */
typedef struct hset {
    uint64_t *slots;
    size_t mask;
} hset;

static uint64_t *hset_slot(const hset *hs, uint64_t h)
{
    size_t i = (size_t)(h ^ (h >> 29)) & hs->mask;
    while (hs->slots[i] != 0 && hs->slots[i] != h)
        i = (i + 1) & hs->mask;
    return &hs->slots[i];
}

/* Whether s has the same content words, in order, as a chosen sentence. */
static int is_repeat(const sz_doc *d, uint32_t s, const hset *hs)
{
    uint64_t h = d->sent[s].hash;
    return h != 0 && *hset_slot(hs, h) == h;
}

/* Highest similarity of s to a selected sentence. */
static float max_sim(const sz_doc *d, uint32_t s, const uint32_t *sel,
                     size_t nsel, const uint8_t *is_sel, const hset *hs)
{
    float best = 0;
    if (is_repeat(d, s, hs))
        return 1.0f;
    if (nsel <= 64) {
        for (size_t k = 0; k < nsel; k++) {
            float c = sz_cosine(d, s, sel[k]);
            if (c > best)
                best = c;
        }
    } else {
        const uint32_t *nb = d->nb + (size_t)s * SZ_K;
        for (unsigned q = 0; q < d->nbn[s]; q++)
            if (is_sel[nb[q]] && d->nbw[(size_t)s * SZ_K + q] > best)
                best = d->nbw[(size_t)s * SZ_K + q];
    }
    return best;
}

int sz_select(sz_doc *d, uint32_t **out, size_t *nout, dp_err *err)
{
    *out = NULL;
    *nout = 0;
    size_t n = d->nsent;
    if (n == 0)
        return 0;
    score_sentences(d);
    size_t want = sz_target_count(d->inst, n);
    long words = d->inst->opt_words;
    const double lambda = d->inst->lambda;
    float max_score = 0;
    for (size_t s = 0; s < n; s++)
        if (d->sent[s].score > max_score)
            max_score = d->sent[s].score;
    if (max_score <= 0)
        max_score = 1;

    heap_item *h = malloc(n * sizeof *h);
    uint32_t *sel = malloc(want * sizeof *sel);
    uint8_t *is_sel = calloc(n, 1);
    if (!h || !sel || !is_sel) {
        free(h);
        free(sel);
        free(is_sel);
        dp_err_set(err, "summarize: out of memory");
        return -ENOMEM;
    }
    size_t nh = 0, nsel = 0;
    for (size_t s = 0; s < n; s++)
        heap_push(h, &nh,
                  (heap_item){lambda * d->sent[s].score / max_score,
                              (uint32_t)s, 0});
    long used_words = 0;
    /* Near-repeats of chosen sentences wait here; they are used only when
     * nothing else is left (exact repeats never are). */
    uint32_t *reserve = malloc(n * sizeof *reserve);
    size_t nres = 0;
    hset hs;
    size_t hcap = 16;
    while (hcap < 2 * want + 2)
        hcap <<= 1;
    hs.mask = hcap - 1;
    hs.slots = calloc(hcap, sizeof *hs.slots);
    if (reserve == NULL || hs.slots == NULL) {
        free(reserve);
        free(hs.slots);
        free(h);
        free(sel);
        free(is_sel);
        dp_err_set(err, "summarize: out of memory");
        return -ENOMEM;
    }
    /* Lazy greedy: a value only falls as the selection grows, so an item
     * whose value is current and still on top is the best one. */
    while (nh > 0 && nsel < want) {
        heap_item it = heap_pop(h, &nh);
        if (it.stamp != nsel) {
            float sim = max_sim(d, it.s, sel, nsel, is_sel, &hs);
            if (sim >= 0.95f) {
                if (!is_repeat(d, it.s, &hs))
                    reserve[nres++] = it.s;
                continue;
            }
            it.v = lambda * d->sent[it.s].score / max_score -
                   (1.0 - lambda) * sim;
            it.stamp = (uint32_t)nsel;
            heap_push(h, &nh, it);
            continue;
        }
        if (words >= 0 && nsel > 0 &&
            used_words + (long)d->sent[it.s].nwords > words)
            continue; /* over the word budget: try a shorter one */
        sel[nsel++] = it.s;
        is_sel[it.s] = 1;
        if (d->sent[it.s].hash)
            *hset_slot(&hs, d->sent[it.s].hash) = d->sent[it.s].hash;
        used_words += (long)d->sent[it.s].nwords;
        if (words >= 0 && used_words >= words)
            break;
    }
    for (size_t r = 0; r < nres && nsel < want; r++) {
        uint32_t s = reserve[r];
        if (is_repeat(d, s, &hs))
            continue;
        if (words >= 0 && used_words + (long)d->sent[s].nwords > words)
            continue;
        sel[nsel++] = s;
        is_sel[s] = 1;
        if (d->sent[s].hash)
            *hset_slot(&hs, d->sent[s].hash) = d->sent[s].hash;
        used_words += (long)d->sent[s].nwords;
    }
    free(reserve);
    free(hs.slots);
    free(h);
    free(is_sel);
    qsort(sel, nsel, sizeof *sel, cmp_u32);
    *out = sel;
    *nout = nsel;
    return 0;
}
