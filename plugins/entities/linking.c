/* Mention linking: later repeats and short forms of a name become mentions
 * of the same entity ("Tokayev" after "Kassym-Jomart Tokayev", "Xi" after
 * "Xi Jinping", "CSTO" with "Collective Security Treaty Organization"),
 * each with a ref to its canonical (first full) mention and its label. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ent.h"

typedef struct lmap {
    uint64_t *k;
    int32_t *v;
    size_t cap, n;
} lmap;

static int lmap_put(lmap *m, uint64_t k, int32_t v)
{
    if (k == 0)
        k = 1;
    if ((m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        uint64_t *nk = calloc(cap, sizeof *nk);
        int32_t *nv = calloc(cap, sizeof *nv);
        if (!nk || !nv) {
            free(nk);
            free(nv);
            return -ENOMEM;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->k[i])
                continue;
            size_t j = nh_mix(m->k[i]) & (cap - 1);
            while (nk[j])
                j = (j + 1) & (cap - 1);
            nk[j] = m->k[i];
            nv[j] = m->v[i];
        }
        free(m->k);
        free(m->v);
        m->k = nk;
        m->v = nv;
        m->cap = cap;
    }
    size_t j = nh_mix(k) & (m->cap - 1);
    while (m->k[j] && m->k[j] != k)
        j = (j + 1) & (m->cap - 1);
    if (!m->k[j]) {
        m->k[j] = k;
        m->n++;
    }
    m->v[j] = v;
    return 0;
}

static int32_t lmap_get(const lmap *m, uint64_t k)
{
    if (m->cap == 0)
        return -1;
    if (k == 0)
        k = 1;
    size_t j = nh_mix(k) & (m->cap - 1);
    while (m->k[j]) {
        if (m->k[j] == k)
            return m->v[j];
        j = (j + 1) & (m->cap - 1);
    }
    return -1;
}

static void lmap_free(lmap *m)
{
    free(m->k);
    free(m->v);
    memset(m, 0, sizeof *m);
}

static int is_numeric_label(const char *l)
{
    static const char *const num[] = {"DATE", "TIME", "PERCENT", "MONEY",
                                      "QUANTITY", "ORDINAL", "CARDINAL", NULL};
    for (const char *const *p = num; *p; p++)
        if (strcmp(*p, l) == 0)
            return 1;
    return 0;
}

static uint64_t tok_hash(const ent_toks *t, size_t i)
{
    return nh_bytes(NH_SEED, ent_tok_s(t, i), ent_tok_len(t, i));
}

static uint64_t seq_add(uint64_t h, uint64_t th)
{
    return nh_mix(h ^ th) + 0x9E37u;
}

static uint64_t seq_hash(const ent_toks *t, uint32_t a, uint32_t b)
{
    uint64_t h = NH_SEED;
    for (uint32_t i = a; i < b; i++)
        h = seq_add(h, tok_hash(t, i));
    return h;
}

/* Initials of the capitalised words ("Collective Security Treaty
 * Organization" -> "CSTO"); 0 when fewer than two. */
static uint64_t acronym(const ent_toks *t, uint32_t a, uint32_t b)
{
    char buf[16];
    size_t n = 0;
    for (uint32_t i = a; i < b; i++) {
        unsigned char c = (unsigned char)ent_tok_s(t, i)[0];
        if (ent_tok_len(t, i) == 0)
            continue;
        if (c >= 'A' && c <= 'Z') {
            if (n == sizeof buf)
                return 0;
            buf[n++] = (char)c;
        } else if (c >= 'a' && c <= 'z') {
            continue; /* of, the, and, for */
        } else if (c != '&' && c != '-') {
            return 0;
        }
    }
    if (n < 2)
        return 0;
    return seq_add(NH_SEED, nh_bytes(NH_SEED, buf, n));
}

static int is_acronym_tok(const ent_toks *t, size_t i)
{
    const char *s = ent_tok_s(t, i);
    size_t len = ent_tok_len(t, i);
    if (len < 2 || len > 8)
        return 0;
    for (size_t k = 0; k < len; k++)
        if (s[k] < 'A' || s[k] > 'Z')
            return 0;
    return 1;
}

/* A: the forms a name found can be repeated in: the whole name, a
 * person's surname or (not seen in lower case) first name, the initials
 * of a multi-word name. cand maps each form's hash to the mention;
 * *maxlen is the longest name in tokens. 0 or -ENOMEM. */
static int collect_forms(const ent_toks *t, const ent_spans *l, lmap *cand, int *maxlen)
{
    for (size_t i = 0; i < l->n; i++) {
        const ent_span *s = &l->spans[i];
        if (is_numeric_label(s->label))
            continue;
        uint32_t len = s->end - s->start;
        if (!(t->flags[s->start] & TF_INIT_CAP) || len > 8)
            continue;
        /* a lone word at a sentence start is too weak to spread */
        if (len == 1 && (t->flags[s->start] & TF_SENT_START) && !is_acronym_tok(t, s->start))
            continue;
        if (lmap_put(cand, seq_hash(t, s->start, s->end), (int32_t)i))
            return -ENOMEM;
        if ((int)len > *maxlen)
            *maxlen = (int)len;
        if (strcmp(s->label, "PERSON") == 0 && len >= 2) {
            size_t first = s->start, last = s->end - 1;
            if ((t->flags[last] & TF_INIT_CAP) && ent_tok_len(t, last) >= 2 &&
                lmap_put(cand, seq_add(NH_SEED, tok_hash(t, last)), (int32_t)i))
                return -ENOMEM;
            if ((t->flags[first] & TF_INIT_CAP) && ent_tok_len(t, first) >= 2 &&
                !(t->flags[first] & TF_LCSEEN) &&
                lmap_put(cand, seq_add(NH_SEED, tok_hash(t, first)), (int32_t)i))
                return -ENOMEM;
        }
        uint64_t ac = len >= 2 ? acronym(t, s->start, s->end) : 0;
        if (ac && lmap_put(cand, ac, (int32_t)i))
            return -ENOMEM;
    }
    return 0;
}

/* A: untagged capitalised runs outside the mentions that match a form,
 * longest first, become mentions with its label (a single word seen in
 * lower case elsewhere does not). 0 or -ENOMEM. */
static int add_repeats(const ent_toks *t, ent_spans *l, const lmap *cand, int maxlen)
{
    size_t n_tok = t->n;
    size_t si = 0, n0 = l->n;
    for (size_t i = 0; i < n_tok;) {
        while (si < n0 && l->spans[si].end <= i)
            si++;
        if (si < n0 && l->spans[si].start <= i) {
            i = l->spans[si].end;
            continue;
        }
        if (!(t->flags[i] & TF_INIT_CAP)) {
            i++;
            continue;
        }
        size_t limit = si < n0 ? l->spans[si].start : n_tok;
        uint64_t h = NH_SEED;
        size_t best = 0;
        int32_t src = -1;
        for (size_t j = i; j < limit && (int)(j - i) < maxlen; j++) {
            h = seq_add(h, tok_hash(t, j));
            int32_t v = lmap_get(cand, h);
            if (v >= 0) {
                best = j + 1;
                src = v;
            }
        }
        if (best && best == i + 1 && (t->flags[i] & TF_LCSEEN))
            best = 0;
        if (best) {
            ent_span s = {(uint32_t)i, (uint32_t)best, l->spans[src].label, -1, 3};
            if (ent_spans_push(l, s))
                return -ENOMEM;
            i = best;
        } else {
            i++;
        }
    }
    qsort(l->spans, l->n, sizeof *l->spans, ent_span_cmp);
    return 0;
}

/* B: each mention's canonical mention (ref), in document order: the first
 * with the same words (and, for numbers, the same label), else for a
 * single word the first person it is the surname or first name of, or the
 * first name it is the acronym of; a name takes its canonical's label.
 * 0 or -ENOMEM. */
static int assign_canonical(const ent_toks *t, ent_spans *l)
{
    int rc = -ENOMEM;
    lmap exact = {0}, shortf = {0};
    for (size_t i = 0; i < l->n; i++) {
        ent_span *s = &l->spans[i];
        /* the words' hash, with the label's mixed in for numbers */
        int numeric = is_numeric_label(s->label);
        uint64_t key = seq_hash(t, s->start, s->end);
        if (numeric)
            key ^= nh_bytes(NH_SEED, s->label, strlen(s->label));
        int32_t c = lmap_get(&exact, key);
        uint32_t len = s->end - s->start;
        if (c < 0 && !numeric && len == 1) {
            uint64_t h1 = seq_add(NH_SEED, tok_hash(t, s->start));
            c = lmap_get(&shortf, h1);
            if (c >= 0 && !is_acronym_tok(t, s->start) &&
                strcmp(l->spans[c].label, "PERSON") != 0)
                c = -1;
        }
        if (c >= 0) {
            s->ref = c;
            if (!numeric)
                s->label = l->spans[c].label;
            continue;
        }
        s->ref = (int32_t)i;
        if (lmap_put(&exact, key, (int32_t)i))
            goto out;
        if (numeric)
            continue;
        if (strcmp(s->label, "PERSON") == 0 && len >= 2) {
            size_t first = s->start, last = s->end - 1;
            if (lmap_put(&shortf, seq_add(NH_SEED, tok_hash(t, last)), (int32_t)i) ||
                ((t->flags[first] & TF_INIT_CAP) &&
                 lmap_put(&shortf, seq_add(NH_SEED, tok_hash(t, first)), (int32_t)i)))
                goto out;
        }
        uint64_t ac = len >= 2 ? acronym(t, s->start, s->end) : 0;
        if (ac && lmap_put(&shortf, ac, (int32_t)i))
            goto out;
    }
    rc = 0;
out:
    lmap_free(&exact);
    lmap_free(&shortf);
    return rc;
}

int link_mentions(const ent_toks *t, ent_spans *l)
{
    lmap cand = {0};
    int maxlen = 1;
    int rc = collect_forms(t, l, &cand, &maxlen);
    if (rc == 0 && cand.n)
        rc = add_repeats(t, l, &cand, maxlen);
    lmap_free(&cand);
    return rc ? rc : assign_canonical(t, l);
}

static int connector(const ent_toks *t, size_t i)
{
    const char *s = ent_tok_s(t, i);
    size_t len = ent_tok_len(t, i);
    static const char *const w[] = {"of", "the", "and", "for", "de", "on",
                                    "&", "-", "in", "to", NULL};
    for (const char *const *p = w; *p; p++)
        if (len == strlen(*p) && memcmp(s, *p, len) == 0)
            return 1;
    return 0;
}

int acronym_defs(const ent_toks *t, ent_spans *l)
{
    size_t added = 0, n0 = l->n, n_tok = t->n;
    for (size_t p = 1; p + 2 < n_tok; p++) {
        if (!(ent_tok_len(t, p) == 1 && ent_tok_s(t, p)[0] == '(') || !is_acronym_tok(t, p + 1))
            continue;
        uint64_t want = seq_add(NH_SEED, tok_hash(t, p + 1));
        /* furthest start first: the longest name whose initials match */
        size_t lo = p;
        while (lo > 0 && p - lo < 12 &&
               ((t->flags[lo - 1] & TF_INIT_CAP) || connector(t, lo - 1)))
            lo--;
        size_t start = SIZE_MAX;
        for (size_t a = lo; a + 1 < p; a++) {
            if (!(t->flags[a] & TF_INIT_CAP))
                continue;
            if (acronym(t, (uint32_t)a, (uint32_t)p) == want) {
                start = a;
                break;
            }
        }
        if (start == SIZE_MAX)
            continue;
        /* label: a span already inside the name, else ORG. Spans are
         * sorted and do not overlap: start at the first that may touch. */
        size_t lo_i = 0, hi_i = n0;
        while (lo_i < hi_i) {
            size_t mid = (lo_i + hi_i) / 2;
            if (l->spans[mid].end <= start)
                lo_i = mid + 1;
            else
                hi_i = mid;
        }
        const char *label = "ORG";
        for (size_t i = lo_i; i < n0 && l->spans[i].start < p; i++) {
            ent_span *s = &l->spans[i];
            if (s->label && s->start < p && s->end > start &&
                !is_numeric_label(s->label) && s->end - s->start > 1) {
                label = s->label;
                break;
            }
        }
        for (size_t i = lo_i; i < n0 && l->spans[i].start <= p + 1; i++) {
            ent_span *s = &l->spans[i];
            if (s->label && ((s->start < p && s->end > start) ||
                             (s->start <= p + 1 && s->end > p + 1)))
                s->label = NULL;
        }
        ent_span a = {(uint32_t)start, (uint32_t)p, label, -1, 3};
        ent_span b = {(uint32_t)p + 1, (uint32_t)p + 2, label, -1, 3};
        if (ent_spans_push(l, a) || ent_spans_push(l, b))
            return -ENOMEM;
        added++;
    }
    if (added) {
        size_t o = 0;
        for (size_t i = 0; i < l->n; i++)
            if (l->spans[i].label)
                l->spans[o++] = l->spans[i];
        l->n = o;
        qsort(l->spans, l->n, sizeof *l->spans, ent_span_cmp);
    }
    return 0;
}
