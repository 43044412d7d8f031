/* Token features shared by the tagger and docproc-train. */
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "ner.h"

/* ---- hash map (set) ---------------------------------------------------- */
static int hset_grow_to(hset *h, size_t cap)
{
    hset_slot *v = calloc(cap, sizeof *v);
    if (v == NULL)
        return -1;
    for (size_t i = 0; i < h->cap; i++) {
        if (h->v[i].key == 0)
            continue;
        size_t j = h->v[i].key & (cap - 1);
        while (v[j].key)
            j = (j + 1) & (cap - 1);
        v[j] = h->v[i];
    }
    free(h->v);
    h->v = v;
    h->cap = cap;
    return 0;
}

static int hset_grow(hset *h)
{
    return hset_grow_to(h, h->cap ? h->cap * 2 : 256);
}

int hset_reserve(hset *h, size_t n)
{
    size_t cap = 256;
    while (cap < 2 * n && cap < ((size_t)1 << 17))
        cap *= 2;
    return cap > h->cap ? hset_grow_to(h, cap) : 0;
}

int hset_or(hset *h, uint64_t k, uint32_t bits)
{
    if (k == 0)
        k = 1;
    if ((h->n + 1) * 2 > h->cap && hset_grow(h))
        return -1;
    size_t j = k & (h->cap - 1);
    while (h->v[j].key && h->v[j].key != k)
        j = (j + 1) & (h->cap - 1);
    if (h->v[j].key == 0) {
        h->v[j].key = k;
        h->n++;
    }
    h->v[j].bits |= bits;
    return 0;
}

static const hset_slot *hset_find(const hset *h, uint64_t k)
{
    if (h->cap == 0)
        return NULL;
    if (k == 0)
        k = 1;
    size_t j = k & (h->cap - 1);
    while (h->v[j].key) {
        if (h->v[j].key == k)
            return &h->v[j];
        j = (j + 1) & (h->cap - 1);
    }
    return NULL;
}

int hset_add(hset *h, uint64_t k)
{
    return hset_or(h, k, 0);
}

int hset_has(const hset *h, uint64_t k)
{
    return hset_find(h, k) != NULL;
}

uint32_t hset_bits(const hset *h, uint64_t k)
{
    const hset_slot *s = hset_find(h, k);
    return s ? s->bits : 0;
}

void hset_free(hset *h)
{
    free(h->v);
    memset(h, 0, sizeof *h);
}

/* ---- per-token fields --------------------------------------------------- */
void ner_tok_prepare(ner_tok *t, const char *s, size_t len)
{
    t->s = s;
    t->len = (uint32_t)len;
    t->gaz = 0;
    t->gaz_b = 0;
    t->flags = 0;
    size_t lo = 0, sh = 0;
    char last = 0;
    int has_upper = 0, has_lower = 0, first_upper = 0, space = 0;
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        char cls;
        if (c < 0x80) {
            char lc = c;
            if (c >= 'A' && c <= 'Z') {
                cls = 'X';
                lc = (char)(c + 32);
                has_upper = 1;
                if (i == 0)
                    first_upper = 1;
            } else if (c >= 'a' && c <= 'z') {
                cls = 'x';
                has_lower = 1;
            } else if (c >= '0' && c <= '9') {
                cls = 'd';
            } else {
                cls = (char)c;
                space |= c == ' ' || c == '\t' || c == '\n' || c == '\r';
            }
            if (lo < NER_TOKMAX)
                t->low[lo++] = lc;
            i++;
        } else {
            utf8proc_int32_t cp;
            utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
                                                  (utf8proc_ssize_t)(len - i), &cp);
            if (k <= 0) {
                cls = 'o';
                if (lo < NER_TOKMAX)
                    t->low[lo++] = (char)c;
                i++;
            } else {
                utf8proc_category_t cat = utf8proc_category(cp);
                if (cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LT) {
                    cls = 'X';
                    has_upper = 1;
                    if (i == 0)
                        first_upper = 1;
                } else if (cat >= UTF8PROC_CATEGORY_LL && cat <= UTF8PROC_CATEGORY_LO) {
                    cls = 'x';
                    has_lower = 1;
                } else if (cat == UTF8PROC_CATEGORY_ND) {
                    cls = 'd';
                } else {
                    cls = 'o';
                }
                utf8proc_uint8_t buf[4];
                utf8proc_ssize_t m = utf8proc_encode_char(utf8proc_tolower(cp), buf);
                if (m > 0 && lo + (size_t)m <= NER_TOKMAX) {
                    memcpy(t->low + lo, buf, (size_t)m);
                    lo += (size_t)m;
                }
                i += (size_t)k;
            }
        }
        if (cls != last && sh < sizeof t->shape) {
            t->shape[sh++] = cls;
            last = cls;
        }
    }
    t->llen = (uint8_t)lo;
    t->slen = (uint8_t)sh;
    if (first_upper)
        t->flags |= TF_INIT_CAP;
    if (has_lower && !has_upper)
        t->flags |= TF_LOWER;
    t->h_word = nh_bytes(NH_SEED, s, len < 64 ? len : 64);
    t->h_gaz = space || len > 64 ? gaz_key(s, len) : t->h_word;
    t->h_low = nh_bytes(NH_SEED, t->low, lo);
    t->h_shape = nh_bytes(NH_SEED, t->shape, sh);
}

void ner_docctx_free(ner_docctx *d)
{
    hset_free(&d->words);
}

/* What a word's entry records: the DC_* context classes below in the low
 * bits, and these. */
enum {
    DW_LOWER = 1u << 8, /* seen all in lower case */
    DW_CAP = 1u << 9    /* seen capitalised, not first in its sentence */
};

/* Contexts a capitalised word has anywhere in the document, gathered in
 * a first pass so that every mention sees those of the others ("in
 * Harrison" makes "Harrison" alone elsewhere look like a place). */
enum {
    DC_LOCPREP = 1, /* after in/at/from/near/into/across/outside */
    DC_THE = 2,     /* after "the" */
    DC_AFTERCAP = 4,/* after another capitalised word (a surname, a head) */
    DC_BEFORECAP = 8, /* before another capitalised word */
    DC_POSS = 16,   /* before 's */
    DC_SAID = 32,   /* next to said/says/told */
    DC_ALONE = 64   /* a one-word name mid-sentence */
};

#define low_is NER_LOW_IS

static unsigned doc_context(const ner_tok *t, size_t n, size_t i)
{
    unsigned m = 0;
    if (i > 0) {
        const ner_tok *p = &t[i - 1];
        static const ner_word loc[] = {NER_W("in"), NER_W("at"), NER_W("from"),
                                       NER_W("near"), NER_W("into"), NER_W("across"),
                                       NER_W("outside"), NER_W("towards")};
        if (ner_low_in(p->low, p->llen, loc, sizeof loc / sizeof *loc))
            m |= DC_LOCPREP;
        if (low_is(p, "the"))
            m |= DC_THE;
        if (p->flags & TF_INIT_CAP)
            m |= DC_AFTERCAP;
        if (low_is(p, "said") || low_is(p, "says") || low_is(p, "told"))
            m |= DC_SAID;
    }
    if (i + 1 < n) {
        const ner_tok *x = &t[i + 1];
        if (x->flags & TF_INIT_CAP)
            m |= DC_BEFORECAP;
        if (low_is(x, "'s") || low_is(x, "\xe2\x80\x99s"))
            m |= DC_POSS;
        if (low_is(x, "said") || low_is(x, "says") || low_is(x, "told"))
            m |= DC_SAID;
    }
    if (i > 0 && !(m & (DC_AFTERCAP | DC_BEFORECAP)))
        m |= DC_ALONE;
    return m;
}

int ner_doc_observe(ner_docctx *d, const ner_tok *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t bits = 0;
        if ((t[i].flags & TF_INIT_CAP) && t[i].slen && t[i].shape[0] == 'X')
            bits = doc_context(t, n, i);
        if (t[i].flags & TF_LOWER)
            bits |= DW_LOWER;
        else if (i > 0 && (t[i].flags & TF_INIT_CAP))
            bits |= DW_CAP;
        if (bits && hset_or(&d->words, t[i].h_low, bits))
            return -1;
    }
    return 0;
}

/* Lower-case connectors that may sit inside a name ("Bank of England",
 * "Bosnia and Herzegovina", "Pierre de Coubertin"). */
static int run_connector(const ner_tok *t)
{
    static const ner_word w[] = {NER_W("of"), NER_W("and"), NER_W("&"), NER_W("the"),
                                 NER_W("de"), NER_W("for"), NER_W("du"), NER_W("la"),
                                 NER_W("von"), NER_W("van"), NER_W("der"), NER_W("del")};
    return t->llen <= 3 && ner_low_in(t->low, t->llen, w, sizeof w / sizeof *w);
}

static int run_word(const ner_tok *t)
{
    return (t->flags & TF_INIT_CAP) ||
           (t->slen > 0 && t->shape[0] == 'd' && t->slen > 1); /* 3AW, 6PR */
}

/* Mark the capitalised runs of one sentence (none in all-capitals ones). */
static void mark_runs(ner_tok *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        t[i].run_pos = 0;
        t[i].gaz_part = 0;
        t[i].wcls_run_last = t[i].wcls_run_prev = 0;
    }
    if (n && (t[0].flags & TF_ALLCAPS_SENT))
        return;
    for (size_t i = 0; i < n;) {
        if (!run_word(&t[i])) {
            i++;
            continue;
        }
        size_t e = i + 1;
        for (;;) {
            if (e < n && run_word(&t[e])) {
                e++;
                continue;
            }
            /* one or two connectors followed by a capitalised word */
            size_t c = e;
            while (c < n && c < e + 2 && run_connector(&t[c]))
                c++;
            if (c > e && c < n && run_word(&t[c])) {
                e = c + 1;
                continue;
            }
            break;
        }
        uint64_t first = t[i].h_low, last = t[e - 1].h_low;
        uint64_t prev = i > 0 ? t[i - 1].h_low : 0x51ed270b27f1d2c3ULL;
        uint64_t next = e < n ? t[e].h_low : 0x2f5a7c3b1d9e8f61ULL;
        uint8_t wl = t[e - 1].wcls, wp = i > 0 ? t[i - 1].wcls : 0;
        for (size_t k = i; k < e; k++) {
            t[k].wcls_run_last = wl;
            t[k].wcls_run_prev = wp;
            t[k].run_pos = e - i == 1 ? 4 : k == i ? 1 : k + 1 == e ? 3 : 2;
            t[k].h_run_first = first;
            t[k].h_run_last = last;
            t[k].h_run_prev = prev;
            t[k].h_run_next = next;
        }
        i = e;
    }
}

int ner_sent_finish(const ner_docctx *d, const gaz *g, ner_tok *t, size_t n)
{
    size_t letters = 0, upper = 0;
    /* the word-class table is far larger than the caches: ask for every
     * word's slot first so that the lookups below wait once, not per word */
    if (g && g->wcls.cap)
        for (size_t i = 0; i < n; i++)
            __builtin_prefetch(&g->wcls.v[(t[i].h_low ? t[i].h_low : 1) & (g->wcls.cap - 1)]);
    for (size_t i = 0; i < n; i++) {
        if (t[i].slen && (t[i].shape[0] == 'X' || t[i].shape[0] == 'x')) {
            letters++;
            if (t[i].slen == 1 && t[i].shape[0] == 'X')
                upper++;
        }
        t[i].docctx = 0;
        t[i].wcls = 0;
        if (g && t[i].slen && (t[i].shape[0] == 'x' || t[i].shape[0] == 'X'))
            t[i].wcls = (uint8_t)gaz_wordclass(g, t[i].low, t[i].llen, t[i].h_low);
        if (d && (t[i].flags & TF_INIT_CAP)) {
            uint32_t bits = hset_bits(&d->words, t[i].h_low);
            if (bits & DW_LOWER)
                t[i].flags |= TF_LCSEEN;
            if (bits & DW_CAP)
                t[i].flags |= TF_CAPSEEN;
            t[i].docctx = (uint8_t)(bits & 0x7f);
        }
    }
    if (letters >= 3 && upper * 10 >= letters * 8)
        for (size_t i = 0; i < n; i++)
            t[i].flags |= TF_ALLCAPS_SENT;
    if (!(g && g->n && n))
        mark_runs(t, n);
    if (g && g->n && n) {
        const char *stack_tok[64];
        uint32_t stack_len[64];
        uint64_t stack_key[64];
        gaz_match stack_m[64];
        const char **tok = stack_tok;
        uint32_t *len = stack_len;
        uint64_t *key = stack_key;
        gaz_match *m = stack_m;
        if (n > 64) {
            tok = malloc(n * sizeof *tok);
            len = malloc(n * sizeof *len);
            key = malloc(n * sizeof *key);
            m = malloc(n * sizeof *m);
            if (!tok || !len || !key || !m) {
                if (tok != stack_tok) free(tok);
                if (len != stack_len) free(len);
                if (key != stack_key) free(key);
                if (m != stack_m) free(m);
                return -1;
            }
        }
        for (size_t i = 0; i < n; i++) {
            tok[i] = t[i].s;
            len[i] = t[i].len;
            key[i] = t[i].h_gaz;
        }
        size_t k = gaz_match_tokens(g, tok, len, key, n, m);
        mark_runs(t, n);
        for (size_t j = 0; j < k; j++) {
            /* the match is part of a longer name: "Perth" in "Perth Glory" */
            uint32_t s0 = m[j].start, e0 = m[j].end;
            int part = t[s0].run_pos && (t[s0].run_pos == 2 || t[s0].run_pos == 3 ||
                       (e0 - 1 < n && (t[e0 - 1].run_pos == 1 || t[e0 - 1].run_pos == 2)));
            for (uint32_t i = s0; i < e0; i++) {
                t[i].gaz = m[j].mask;
                t[i].gaz_b = i == m[j].start;
                t[i].gaz_part = (uint8_t)part;
            }
        }
        if (n > 64) {
            free(tok);
            free(len);
            free(key);
            free(m);
        }
    }
    return 0;
}

/* ---- features ----------------------------------------------------------- */
enum {
    F_BIAS = 1, F_WORD, F_LOW, F_SHAPE, F_PRE, F_SUF, F_LOWM1, F_LOWP1,
    F_LOWM2, F_LOWP2, F_SHM1, F_SHP1, F_SHM1SH, F_SHSHP1, F_BIM1, F_BIP1,
    F_FIRST, F_LCSEEN, F_CAPSEEN, F_GAZ, F_GAZM1, F_GAZP1, F_ALLCAPS,
    F_LEN, F_SHM2, F_SHP2, F_GAZLEN, F_LOWM1SH, F_LOWP1SH, F_SUFM1, F_LOWM2SH,
    F_RUNFIRST, F_RUNLAST, F_RUNPREV, F_RUNNEXT, F_GAZPART, F_TRIM, F_DOCCTX,
    F_WCLS, F_WCLSM1, F_WCLSP1, F_WCLSRUN
};

static const uint64_t BOS = 0x9e3779b97f4a7c15ULL, EOS = 0x7f4a7c159e3779b9ULL;

static inline uint32_t fb(uint64_t tmpl, uint64_t h, unsigned bits)
{
    return (uint32_t)(nh_mix(h ^ (tmpl * 0x9E3779B97F4A7C15ULL)) >> (64 - bits));
}

/* Features of the token alone (its bytes): the same wherever it occurs,
 * so the tagger may cache their sum per word. */
size_t ner_features_word(const ner_tok *c, unsigned bits, uint32_t *out)
{
    size_t k = 0;
    out[k++] = fb(F_BIAS, 0, bits);
    out[k++] = fb(F_WORD, c->h_word, bits);
    out[k++] = fb(F_LOW, c->h_low, bits);
    out[k++] = fb(F_SHAPE, c->h_shape, bits);
    uint64_t pre = NH_SEED; /* the prefix hash, a byte longer each time */
    for (unsigned p = 1; p <= 4 && p < c->llen; p++) {
        pre = nh_bytes(pre, c->low + p - 1, 1);
        out[k++] = fb(F_PRE + 100 * p, pre, bits);
        out[k++] = fb(F_SUF + 100 * p,
                      nh_bytes(NH_SEED, c->low + c->llen - p, p), bits);
    }
    out[k++] = fb(F_LEN, (uint64_t)(c->len > 12 ? 12 : c->len) * 7 +
                             (c->flags & TF_INIT_CAP), bits);
    if (c->wcls) /* its WordNet class, told apart capitalised or not */
        out[k++] = fb(F_WCLS, (uint64_t)c->wcls * 2 + (c->flags & TF_INIT_CAP), bits);
    return k;
}

/* Features of the token in its sentence and document. */
size_t ner_features_ctx(const ner_tok *t, size_t n, size_t i, unsigned bits,
                        uint32_t *out)
{
    size_t k = 0;
    const ner_tok *c = &t[i];
    uint64_t lm1 = i > 0 ? t[i - 1].h_low : BOS;
    uint64_t lp1 = i + 1 < n ? t[i + 1].h_low : EOS;
    uint64_t lm2 = i > 1 ? t[i - 2].h_low : BOS;
    uint64_t lp2 = i + 2 < n ? t[i + 2].h_low : EOS;
    uint64_t sm1 = i > 0 ? t[i - 1].h_shape : BOS;
    uint64_t sp1 = i + 1 < n ? t[i + 1].h_shape : EOS;
    uint64_t sm2 = i > 1 ? t[i - 2].h_shape : BOS;
    uint64_t sp2 = i + 2 < n ? t[i + 2].h_shape : EOS;

    out[k++] = fb(F_LOWM1, lm1, bits);
    out[k++] = fb(F_LOWP1, lp1, bits);
    out[k++] = fb(F_LOWM2, lm2, bits);
    out[k++] = fb(F_LOWP2, lp2, bits);
    out[k++] = fb(F_SHM1, sm1, bits);
    out[k++] = fb(F_SHP1, sp1, bits);
    out[k++] = fb(F_SHM2, sm2 * 31 + c->h_shape, bits);
    out[k++] = fb(F_SHP2, sp2 * 31 + c->h_shape, bits);
    out[k++] = fb(F_SHM1SH, sm1 * 31 + c->h_shape, bits);
    out[k++] = fb(F_SHSHP1, c->h_shape * 31 + sp1, bits);
    out[k++] = fb(F_BIM1, lm1 * 31 + c->h_low, bits);
    out[k++] = fb(F_BIP1, c->h_low * 31 + lp1, bits);
    out[k++] = fb(F_LOWM1SH, lm1 * 31 + c->h_shape, bits);
    out[k++] = fb(F_LOWP1SH, lp1 * 31 + c->h_shape, bits);
    out[k++] = fb(F_LOWM2SH, lm2 * 131 + c->h_shape, bits);
    out[k++] = fb(F_TRIM, lm2 * 131 + lm1, bits);
    if (c->run_pos) {
        uint64_t pos = c->run_pos;
        out[k++] = fb(F_RUNFIRST, c->h_run_first * 8 + pos, bits);
        out[k++] = fb(F_RUNLAST, c->h_run_last * 8 + pos, bits);
        out[k++] = fb(F_RUNPREV, c->h_run_prev * 8 + pos, bits);
        out[k++] = fb(F_RUNNEXT, c->h_run_next * 8 + pos, bits);
    }
    /* classes of the neighbours ("the band X": a group noun before) and of
     * the run's head and the word before it ("X Orchestra", "choir X") */
    if (i > 0 && t[i - 1].wcls)
        out[k++] = fb(F_WCLSM1, (uint64_t)t[i - 1].wcls * 31 + c->h_shape, bits);
    if (i + 1 < n && t[i + 1].wcls)
        out[k++] = fb(F_WCLSP1, (uint64_t)t[i + 1].wcls * 31 + c->h_shape, bits);
    if (c->run_pos && (c->wcls_run_last || c->wcls_run_prev))
        out[k++] = fb(F_WCLSRUN, ((uint64_t)c->wcls_run_last * 32 +
                                  c->wcls_run_prev) * 8 + c->run_pos, bits);
    if (c->docctx)
        for (unsigned b = 0; b < 7; b++)
            if (c->docctx & (1u << b))
                out[k++] = fb(F_DOCCTX, b * 8 + (uint64_t)c->run_pos, bits);
    if (i == 0)
        out[k++] = fb(F_FIRST, c->h_shape, bits);
    uint64_t caps = (c->flags & TF_ALLCAPS_SENT) ? 1 : 0;
    if (caps)
        out[k++] = fb(F_ALLCAPS, c->h_low, bits);
    if (c->flags & TF_INIT_CAP) {
        uint64_t seen = ((c->flags & TF_LCSEEN) ? 1 : 0) |
                        ((c->flags & TF_CAPSEEN) ? 2 : 0) | (caps << 2) |
                        ((i == 0) << 3);
        out[k++] = fb(F_LCSEEN, seen, bits);
        out[k++] = fb(F_CAPSEEN, seen * 1000003 + c->h_low, bits);
    }
    if (c->gaz) {
        for (unsigned b = 0; b < GZ_MAX_CLASSES && k < NER_MAX_CTX_FEATS - 4; b++)
            if (c->gaz & (1u << b))
                out[k++] = fb(F_GAZ, b * 2 + c->gaz_b, bits);
        out[k++] = fb(F_GAZLEN, (uint64_t)c->gaz * 4 + c->gaz_b * 2 +
                                    ((c->flags & TF_INIT_CAP) ? 1 : 0), bits);
        if (c->gaz_part)
            out[k++] = fb(F_GAZPART, (uint64_t)c->gaz * 4 + c->gaz_b, bits);
    }
    if (i > 0 && t[i - 1].gaz && k < NER_MAX_CTX_FEATS - 2)
        out[k++] = fb(F_GAZM1, (uint64_t)t[i - 1].gaz, bits);
    if (i + 1 < n && t[i + 1].gaz && k < NER_MAX_CTX_FEATS - 2)
        out[k++] = fb(F_GAZP1, (uint64_t)t[i + 1].gaz, bits);
    return k;
}

size_t ner_features(const ner_tok *t, size_t n, size_t i, unsigned bits,
                    uint32_t *out)
{
    size_t k = ner_features_word(&t[i], bits, out);
    return k + ner_features_ctx(t, n, i, bits, out + k);
}
