/* Keyphrases: noun-phrase-like candidates (runs of content words between
 * stop words and punctuation, at most SZ_KP_MAX words) and entity mentions,
 * scored by the document frequency of their words, their own frequency and
 * how early they first appear. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sz.h"

#define SZ_KP_MAX 4

/* numeric_tokens(): what a token is part of */
enum { SZ_KP_AMOUNT = 1, SZ_KP_CARDINAL, SZ_KP_ORDINAL };

typedef struct kp {
    uint32_t count;
    uint32_t first;      /* first sentence */
    size_t start, end;   /* first occurrence, bytes */
    uint32_t k0, nk;     /* its stems in kstems */
    uint8_t entity;
    double score;
} kp;

typedef struct kp_occ {
    uint32_t kp, sent;
} kp_occ;

typedef struct kp_set {
    sz_strtab tab;       /* key: stem ids as bytes */
    kp *items;
    size_t cap;
    uint32_t *kstems;
    size_t nk, kcap;
    kp_occ *occ;         /* every occurrence, by sentence */
    size_t nocc, occcap;
    uint32_t *chosen;    /* the best, without near-duplicates */
    size_t nchosen;
} kp_set;

struct sz_kps {
    kp_set ks;
};

static int kp_add(kp_set *ks, const uint32_t *stems, uint32_t n,
                  uint32_t sent, size_t start, size_t end, int entity)
{
    int added;
    long id = sz_strtab_put(&ks->tab, (const char *)stems,
                            n * sizeof *stems, &added);
    if (id < 0)
        return -ENOMEM;
    if (added) {
        if ((size_t)id >= ks->cap) {
            size_t c = ks->cap ? ks->cap * 2 : 256;
            kp *ni = realloc(ks->items, c * sizeof *ni);
            if (ni == NULL)
                return -ENOMEM;
            ks->items = ni;
            ks->cap = c;
        }
        if (ks->nk + n > ks->kcap) {
            size_t c = ks->kcap ? ks->kcap * 2 : 1024;
            while (c < ks->nk + n)
                c *= 2;
            uint32_t *nk = realloc(ks->kstems, c * sizeof *nk);
            if (nk == NULL)
                return -ENOMEM;
            ks->kstems = nk;
            ks->kcap = c;
        }
        memcpy(ks->kstems + ks->nk, stems, n * sizeof *stems);
        ks->items[id] = (kp){.first = sent, .start = start, .end = end,
                             .k0 = (uint32_t)ks->nk, .nk = n};
        ks->nk += n;
    }
    if (ks->nocc == ks->occcap) {
        size_t c = ks->occcap ? ks->occcap * 2 : 1024;
        kp_occ *no = realloc(ks->occ, c * sizeof *no);
        if (no == NULL)
            return -ENOMEM;
        ks->occ = no;
        ks->occcap = c;
    }
    ks->occ[ks->nocc++] = (kp_occ){(uint32_t)id, sent};
    kp *p = &ks->items[id];
    p->count++;
    if (entity && !p->entity) {
        p->entity = 1;
        p->start = start; /* an entity's own span reads best */
        p->end = end;
    }
    return 0;
}

/* Add the run of tokens [k0, k1) of sentence s (all content words, maybe
 * with hyphens between), trimmed of weak words at its edges and of a count
 * in front ("5,000 troops" is about troops). A run of numbers and counts
 * alone ("18 million", "first") is not a phrase. */
static int add_run(sz_doc *d, const uint8_t *numeric, kp_set *ks, uint32_t s,
                   uint32_t k0, uint32_t k1)
{
    const sz_sent *se = &d->sent[s];
    const uint32_t *tt = d->tok_type + se->tok0;
    const dp_ann *tok = d->tok + se->tok0;
    const uint8_t *num = numeric != NULL ? numeric + se->tok0 : NULL;
    while (k0 < k1 && (tt[k0] == SZ_NONE || d->types[tt[k0]].weak ||
                       (num != NULL && num[k0] == SZ_KP_CARDINAL)))
        k0++;
    while (k1 > k0 && (tt[k1 - 1] == SZ_NONE || d->types[tt[k1 - 1]].weak))
        k1--;
    uint32_t stems[SZ_KP_MAX], n = 0, nonnum = 0;
    for (uint32_t k = k0; k < k1; k++) {
        if (tt[k] == SZ_NONE)
            continue; /* a hyphen */
        if (n == SZ_KP_MAX)
            return 0; /* too long to be a phrase */
        for (uint32_t j = 0; j < n; j++)
            if (stems[j] == d->types[tt[k]].stem)
                return 0; /* "na na na", "very very" */
        stems[n++] = d->types[tt[k]].stem;
        nonnum += !d->types[tt[k]].number && !(num != NULL && num[k]);
    }
    if (n == 0 || nonnum == 0 || tok[k1 - 1].end - tok[k0].start <= 1)
        return 0;
    return kp_add(ks, stems, n, s, tok[k0].start, tok[k1 - 1].end, 0);
}

/* Whether token k (of the document) may be inside a keyphrase run: a
 * content word, not part of a date, time or amount ("10 a.m.", "January
 * 2", "$5 million": the entity stage has already said what those are;
 * counts and ordinals may stay, "room 4", "third quarter"), and not
 * a verb ("Please bring budget figures" holds two phrases at most). A
 * capitalised verb form inside a sentence belongs to a name ("Bring Me the
 * Horizon"), so only lower-case ones and the sentence's first word count. */
static int in_run(const sz_doc *d, const uint8_t *numeric, size_t k,
                  int first_of_sentence)
{
    uint32_t ty = d->tok_type[k];
    if (ty == SZ_NONE || (numeric != NULL && numeric[k] == SZ_KP_AMOUNT))
        return 0;
    const sz_type *t = &d->types[ty];
    if (!t->word || t->stem == SZ_NONE)
        return 0;
    return !(t->verb && (t->lower || first_of_sentence));
}

static int runs_of_sentence(sz_doc *d, const uint8_t *numeric, kp_set *ks,
                            uint32_t s)
{
    const sz_sent *se = &d->sent[s];
    uint32_t n = 0, first = 0;
    size_t end = 0;
    for (uint32_t k = 0; k <= se->ntok; k++) {
        uint32_t ty = k < se->ntok ? d->tok_type[se->tok0 + k] : SZ_NONE;
        const sz_type *t = ty != SZ_NONE ? &d->types[ty] : NULL;
        /* A hyphen between two words does not end a run. */
        int joins = 0;
        if (t == NULL && k < se->ntok && n > 0 && k + 1 < se->ntok) {
            const dp_ann *a = &d->tok[se->tok0 + k];
            if (a->end - a->start == 1 && d->text[a->start] == '-' &&
                a->start == end && d->tok[se->tok0 + k + 1].start == a->end)
                joins = 1;
        }
        if (joins)
            continue;
        if (k < se->ntok && in_run(d, numeric, se->tok0 + k, k == 0)) {
            if (n == 0)
                first = k;
            n++;
            end = d->tok[se->tok0 + k].end;
            continue;
        }
        if (n > 0 && add_run(d, numeric, ks, s, first, k) != 0)
            return -ENOMEM;
        n = 0;
    }
    return 0;
}

/* Per token, one byte: SZ_KP_AMOUNT inside a DATE, TIME, MONEY, PERCENT or
 * QUANTITY mention, SZ_KP_CARDINAL or SZ_KP_ORDINAL inside those, else 0.
 * NULL without an entity layer (or no numeric mention). */
static int numeric_tokens(const sz_doc *d, dp_doc *doc, uint8_t **out)
{
    *out = NULL;
    size_t ne;
    const dp_ann *ent = dp_doc_layer(doc, "entity", &ne);
    if (ent == NULL || d->ntok == 0)
        return 0;
    uint8_t *m = NULL;
    size_t t = 0;
    for (size_t e = 0; e < ne; e++) {
        if (!sz_label_numeric(ent[e].label))
            continue;
        uint8_t kind = strcmp(ent[e].label, "CARDINAL") == 0  ? SZ_KP_CARDINAL
                       : strcmp(ent[e].label, "ORDINAL") == 0 ? SZ_KP_ORDINAL
                                                              : SZ_KP_AMOUNT;
        if (m == NULL && (m = calloc(d->ntok, 1)) == NULL)
            return -ENOMEM;
        while (t > 0 && d->tok[t - 1].end > ent[e].start)
            t--; /* mentions may overlap or come out of order */
        while (t < d->ntok && d->tok[t].end <= ent[e].start)
            t++;
        for (size_t k = t; k < d->ntok && d->tok[k].start < ent[e].end; k++)
            m[k] = kind;
    }
    *out = m;
    return 0;
}

/* Entity mentions: their content stems, as one phrase. */
static int add_entities(sz_doc *d, dp_doc *doc, kp_set *ks)
{
    size_t ne;
    const dp_ann *ent = dp_doc_layer(doc, "entity", &ne);
    if (ent == NULL)
        return 0;
    size_t t = 0, s = 0;
    for (size_t e = 0; e < ne; e++) {
        if (sz_label_numeric(ent[e].label))
            continue;
        while (s < d->nsent && d->sent[s].end <= ent[e].start)
            s++;
        if (s == d->nsent)
            break;
        while (t < d->ntok && d->tok[t].start < ent[e].start)
            t++;
        uint32_t stems[SZ_KP_MAX];
        uint32_t n = 0;
        int bad = 0;
        for (size_t k = t; k < d->ntok && d->tok[k].start < ent[e].end; k++) {
            uint32_t ty = d->tok_type[k];
            if (ty == SZ_NONE || d->types[ty].stem == SZ_NONE)
                continue;
            if (n == SZ_KP_MAX) {
                bad = 1;
                break;
            }
            stems[n++] = d->types[ty].stem;
        }
        if (n == 0 || bad)
            continue;
        if (kp_add(ks, stems, n, (uint32_t)s, ent[e].start, ent[e].end, 1))
            return -ENOMEM;
    }
    return 0;
}

/* Whether candidate a ranks before b: higher score, then found earlier
 * (the order a stable sort by score gives). */
static int kp_before(const kp *items, uint32_t a, uint32_t b)
{
    double x = items[a].score, y = items[b].score;
    return x > y || (x == y && a < b);
}

static void kp_sift(const kp *items, uint32_t *h, size_t n, size_t i)
{
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            return;
        if (c + 1 < n && kp_before(items, h[c + 1], h[c]))
            c++;
        if (!kp_before(items, h[c], h[i]))
            return;
        uint32_t t = h[i];
        h[i] = h[c];
        h[c] = t;
        i = c;
    }
}

/* Whether every stem of a is in b. */
static int covered(const kp_set *ks, const kp *a, const kp *b)
{
    for (uint32_t i = 0; i < a->nk; i++) {
        int found = 0;
        for (uint32_t j = 0; j < b->nk && !found; j++)
            found = ks->kstems[a->k0 + i] == ks->kstems[b->k0 + j];
        if (!found)
            return 0;
    }
    return 1;
}

static json_t *phrase_text(const sz_doc *d, const kp *p)
{
    size_t len = p->end - p->start;
    char *buf = malloc(len + 1);
    if (buf == NULL)
        return NULL;
    size_t w = 0;
    int space = 0;
    for (size_t i = p->start; i < p->end; i++) {
        char c = d->text[i];
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            space = 1;
            continue;
        }
        if (space && w > 0)
            buf[w++] = ' ';
        space = 0;
        buf[w++] = c;
    }
    json_t *v = json_stringn(buf, w);
    free(buf);
    return v;
}

#define SZ_KP_TOP 20 /* keyphrases that make a sentence central */

void sz_kp_free(sz_kps *k)
{
    if (k == NULL)
        return;
    free(k->ks.items);
    free(k->ks.kstems);
    free(k->ks.occ);
    free(k->ks.chosen);
    sz_strtab_free(&k->ks.tab);
    free(k);
}

int sz_kp_build(sz_doc *d, dp_doc *doc, sz_kps **out)
{
    *out = NULL;
    sz_kps *k = calloc(1, sizeof *k);
    if (k == NULL)
        return -ENOMEM;
    kp_set *ks = &k->ks;
    uint32_t *order = NULL;
    uint32_t *last = NULL;
    uint8_t *numeric = NULL;
    if (sz_strtab_init(&ks->tab, d->ntok / 4 < 1024 ? d->ntok / 4 : 1024) != 0 ||
        numeric_tokens(d, doc, &numeric) != 0)
        goto fail;
    for (size_t s = 0; s < d->nsent; s++)
        if (runs_of_sentence(d, numeric, ks, (uint32_t)s) != 0)
            goto fail;
    free(numeric);
    numeric = NULL;
    if (add_entities(d, doc, ks) != 0)
        goto fail;
    size_t n = ks->tab.n;
    if (n == 0) {
        *out = k;
        return 0;
    }
    double nsent = (double)d->nsent;
    for (size_t i = 0; i < n; i++) {
        kp *p = &ks->items[i];
        double w = 0;
        for (uint32_t j = 0; j < p->nk; j++)
            w += log1p((double)d->stem[ks->kstems[p->k0 + j]].tf);
        /* longer phrases are rarer: do not let length alone win */
        w /= sqrt((double)p->nk);
        double early = 1.0 + 0.5 / (1.0 + 10.0 * p->first / nsent);
        p->score = w * (1.0 + log((double)p->count)) * early *
                   (p->entity ? 1.5 : 1.0);
    }
    order = malloc(n * sizeof *order);
    size_t want = (size_t)d->inst->n_keyphrases;
    if (want < SZ_KP_TOP)
        want = SZ_KP_TOP;
    ks->chosen = malloc(want * sizeof *ks->chosen);
    last = malloc(n * sizeof *last);
    if (order == NULL || ks->chosen == NULL || last == NULL)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        order[i] = (uint32_t)i;
        last[i] = SZ_NONE;
    }
    /* Best first from a heap: only the first few dozen of the hundreds of
     * candidates are ever looked at, so no full sort. */
    for (size_t i = n / 2; i-- > 0;)
        kp_sift(ks->items, order, n, i);
    for (size_t left = n; left > 0 && ks->nchosen < want;) {
        uint32_t best = order[0];
        order[0] = order[--left];
        kp_sift(ks->items, order, left, 0);
        const kp *p = &ks->items[best];
        int skip = 0;
        for (size_t c = 0; c < ks->nchosen && !skip; c++)
            skip = covered(ks, p, &ks->items[ks->chosen[c]]) ||
                   covered(ks, &ks->items[ks->chosen[c]], p);
        if (!skip)
            ks->chosen[ks->nchosen++] = best;
    }
    /* Keyphrase centrality of sentences: the top keyphrases they hold. */
    double top = ks->items[ks->chosen[0]].score;
    uint8_t *is_top = (uint8_t *)order; /* reuse: n bytes fit in n words */
    memset(is_top, 0, n);
    for (size_t c = 0; c < ks->nchosen && c < SZ_KP_TOP; c++)
        is_top[ks->chosen[c]] = 1;
    for (size_t o = 0; o < ks->nocc; o++) {
        const kp_occ *oc = &ks->occ[o];
        if (!is_top[oc->kp] || last[oc->kp] == oc->sent)
            continue;
        last[oc->kp] = oc->sent;
        d->sent[oc->sent].kp += (float)(ks->items[oc->kp].score / top);
    }
    free(order);
    free(last);
    *out = k;
    return 0;
fail:
    free(numeric);
    free(order);
    free(last);
    sz_kp_free(k);
    return -ENOMEM;
}

json_t *sz_kp_json(const sz_doc *d, const sz_kps *k)
{
    json_t *arr = json_array();
    if (arr == NULL || k == NULL || k->ks.nchosen == 0)
        return arr;
    const kp_set *ks = &k->ks;
    double top = ks->items[ks->chosen[0]].score;
    for (size_t c = 0; c < ks->nchosen && c < (size_t)d->inst->n_keyphrases;
         c++) {
        const kp *p = &ks->items[ks->chosen[c]];
        /* Built member by member: json_pack parses its format string per
         * call, which cost more than the rest of this function. */
        json_t *o = json_object();
        if (o == NULL || json_array_append_new(arr, o) != 0 ||
            json_object_set_new_nocheck(o, "text", phrase_text(d, p)) != 0 ||
            json_object_set_new_nocheck(
                o, "score",
                json_real(round(p->score / top * 1000.0) / 1000.0)) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}
