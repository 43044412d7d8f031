/* Tokens -> terms, sentence vectors (TF-ISF) and sentence features. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libstemmer.h>
#include <utf8proc.h>

#include "sz.h"

char *sz_fold(const char *s, size_t len, char *buf, size_t bufsz,
              size_t *outlen)
{
    int ascii = 1;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80) {
            ascii = 0;
            break;
        }
    if (ascii && len < bufsz) {
        for (size_t i = 0; i < len; i++) {
            char c = s[i];
            buf[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
        }
        buf[len] = 0;
        *outlen = len;
        return buf;
    }
    utf8proc_uint8_t *out = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s,
                                      (utf8proc_ssize_t)len, &out,
                                      UTF8PROC_STABLE | UTF8PROC_COMPOSE |
                                          UTF8PROC_CASEFOLD);
    if (n < 0)
        return NULL;
    /* Typographic apostrophes fold to ASCII ones ("n’t" is "n't"). */
    size_t w = 0;
    for (utf8proc_ssize_t i = 0; i < n;) {
        if (i + 2 < n && out[i] == 0xE2 && out[i + 1] == 0x80 &&
            (out[i + 2] == 0x99 || out[i + 2] == 0x98)) {
            out[w++] = '\'';
            i += 3;
        } else {
            out[w++] = out[i++];
        }
    }
    out[w] = 0;
    *outlen = w;
    if (w < bufsz) {
        memcpy(buf, out, w + 1);
        free(out);
        return buf;
    }
    return (char *)out;
}

void sz_doc_free(sz_doc *d)
{
    free(d->tok_type);
    sz_strtab_free(&d->surf);
    free(d->types);
    sz_strtab_free(&d->stems);
    free(d->stem);
    free(d->sent);
    free(d->vec);
    free(d->nb);
    free(d->nbw);
    free(d->nbn);
    memset(d, 0, sizeof *d);
}

/* Decode one code point at s (valid UTF-8 assumed, checked anyway). */
static inline int32_t cp_at(const char *s, size_t len, size_t *adv)
{
    if (len > 0 && (unsigned char)s[0] < 0x80) { /* most text: no call */
        *adv = 1;
        return (unsigned char)s[0];
    }
    utf8proc_int32_t cp;
    utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)s,
                                          (utf8proc_ssize_t)len, &cp);
    if (n <= 0) {
        *adv = 1;
        return -1;
    }
    *adv = (size_t)n;
    return cp;
}

static int is_alnum_cp(int32_t cp)
{
    if (cp < 0x80)
        return (cp >= '0' && cp <= '9') || ((cp | 32) >= 'a' && (cp | 32) <= 'z');
    utf8proc_category_t c = utf8proc_category(cp);
    return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) ||
           (c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO) ||
           c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_MC;
}

/* A lower-case word that reads as a past participle or an adverb: "-ed"
 * (not "-eed": speed, need) or "-ly" (not -ily, -ply, -mbly: family,
 * supply, assembly). Such words may sit inside a keyphrase but not begin or
 * end one. */
static int looks_weak(const char *s, size_t len)
{
    if (len <= 4 || s[0] < 'a' || s[0] > 'z')
        return 0;
    const char *e = s + len;
    if (e[-2] == 'e' && e[-1] == 'd')
        return e[-3] != 'e';
    if (e[-2] == 'l' && e[-1] == 'y')
        return e[-3] != 'i' && e[-3] != 'p' &&
               !(e[-3] == 'b' && e[-4] == 'm');
    return 0;
}

/* Classify a new surface form into a type (and stem). */
/* The English stemmer twice: the ISO-8859-1 build of the same algorithm
 * runs about a fifth faster than the UTF-8 one, and on ASCII words, whose
 * bytes are the same in both encodings, gives the same stems. */
typedef struct stemmers {
    struct sb_stemmer *utf8, *latin1;
} stemmers;

/* Each is created when the first word misses the stem cache: most short
 * documents need only the ISO-8859-1 one, many neither. NULL when out of
 * memory. */
static struct sb_stemmer *stemmer_for(stemmers *sts, int ascii)
{
    struct sb_stemmer **st = ascii ? &sts->latin1 : &sts->utf8;
    if (*st == NULL)
        *st = sb_stemmer_new("english", ascii ? "ISO_8859_1" : NULL);
    return *st;
}

static int is_ascii(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80)
            return 0;
    return 1;
}

static int new_type(sz_doc *d, stemmers *sts, const char *s,
                    size_t len, sz_type *ty)
{
    memset(ty, 0, sizeof *ty);
    ty->stem = SZ_NONE;
    int digits = 0, letters = 0, other = 0;
    for (size_t i = 0; i < len;) {
        size_t adv;
        int32_t cp = cp_at(s + i, len - i, &adv);
        i += adv;
        if (cp >= '0' && cp <= '9')
            digits++;
        else if (is_alnum_cp(cp))
            letters++;
        else if (cp != ',' && cp != '.')
            other++;
    }
    ty->word = (digits + letters) > 0;
    if (!ty->word)
        return 0;
    ty->weak = looks_weak(s, len);
    ty->number = letters == 0 && other == 0;
    char buf[256];
    size_t flen;
    char *f = sz_fold(s, len, buf, sizeof buf, &flen);
    if (f == NULL)
        return 0; /* not valid UTF-8: treat as a non-word */
    int rc = 0;
    /* one hash for the three word lists */
    uint64_t h = sz_hash(f, flen);
    ty->person = sz_strtab_find_h(&d->inst->person, f, flen, h) >= 0;
    ty->lower = s[0] >= 'a' && s[0] <= 'z';
    if (sz_strtab_find_h(&d->inst->stop, f, flen, h) >= 0) {
        ty->stop = 1;
        goto out;
    }
    uint32_t bit = sz_verb_bit(h);
    ty->verb = (d->inst->verb_filter[bit / 64] >> (bit % 64) & 1) &&
               sz_strtab_find_h(&d->inst->verbs, f, flen, h) >= 0;
    const char *key = f;
    size_t klen = flen;
    const sz_sc_entry *ce;
    if (letters > 0 && (ce = sz_stemcache_find(&d->inst->common, f, flen))) {
        /* the stemmer's own result for these bytes, kept from load */
        key = ce->stem;
        klen = ce->slen;
    } else if (letters > 0 && flen < 128) {
        struct sb_stemmer *st = stemmer_for(sts, is_ascii(f, flen));
        const sb_symbol *stem =
            st ? sb_stemmer_stem(st, (const sb_symbol *)f, (int)flen) : NULL;
        if (stem == NULL) {
            rc = -ENOMEM;
            goto out;
        }
        key = (const char *)stem;
        klen = (size_t)sb_stemmer_length(st);
    }
    int added;
    long id = sz_strtab_put(&d->stems, key, klen, &added);
    if (id < 0) {
        rc = -ENOMEM;
        goto out;
    }
    if (added) {
        if ((size_t)id >= d->stem_cap) {
            size_t c = d->stem_cap ? d->stem_cap * 2 : 1024;
            sz_stem *ns = realloc(d->stem, c * sizeof *ns);
            if (ns == NULL) {
                rc = -ENOMEM;
                goto out;
            }
            d->stem = ns;
            d->stem_cap = c;
        }
        d->stem[id] = (sz_stem){.last_sent = SZ_NONE, .first = SZ_NONE};
    }
    ty->stem = (uint32_t)id;
out:
    if (f != buf)
        free(f);
    return rc;
}

static int is_quote_cp(int32_t cp)
{
    return cp == '"' || cp == '\'' || cp == 0x201C || cp == 0x201D ||
           cp == 0x2018 || cp == 0x2019 || cp == 0xAB || cp == 0xBB ||
           cp == 0x201E || cp == 0x2039 || cp == 0x203A;
}

static int is_closer_cp(int32_t cp)
{
    return is_quote_cp(cp) || cp == ')' || cp == ']' || cp == '}';
}

/* The last code point of s[0..len) before any trailing space and closing
 * quotes/brackets. */
static int32_t final_mark(const char *s, size_t len)
{
    size_t i = len;
    while (i > 0) {
        size_t b = i - 1;
        while (b > 0 && ((unsigned char)s[b] & 0xC0) == 0x80)
            b--;
        size_t adv;
        int32_t cp = cp_at(s + b, i - b, &adv);
        if (!(cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' ||
              cp == 0xA0 || is_closer_cp(cp)))
            return cp;
        i = b;
    }
    return -1;
}

static void sentence_flags(sz_doc *d, sz_sent *se)
{
    const char *s = d->text + se->start;
    size_t len = se->end - se->start;
    int32_t fin = final_mark(s, len);
    if (fin == '?' || fin == 0xFF1F)
        se->flags |= SZ_QUESTION;
    if (!(fin == '.' || fin == '!' || fin == '?' || fin == 0x2026 ||
          fin == 0x3002 || fin == 0xFF01 || fin == 0xFF1F))
        se->flags |= SZ_NO_END;

    /* Opening quote, lower-case start. */
    size_t i = 0;
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    size_t adv;
    int32_t cp = i < len ? cp_at(s + i, len - i, &adv) : -1;
    if (cp >= 0 && is_quote_cp(cp)) {
        /* A quotation: attributed when words follow its closing quote. */
        size_t q = i + adv, close = len;
        while (q < len) {
            int32_t c2 = cp_at(s + q, len - q, &adv);
            if (is_quote_cp(c2) && c2 != 0x2018 &&
                !(c2 == '\'' || c2 == 0x2019)) {
                close = q + adv;
                break;
            }
            q += adv;
        }
        /* count word tokens after the close */
        uint32_t after = 0;
        for (uint32_t k = 0; k < se->ntok; k++) {
            const dp_ann *t = &d->tok[se->tok0 + k];
            uint32_t ty = d->tok_type[se->tok0 + k];
            if (ty != SZ_NONE && d->types[ty].word &&
                t->start >= se->start + close)
                after++;
        }
        if (after < 2)
            se->flags |= SZ_QUOTE_ONLY;
    } else if (cp >= 0) {
        utf8proc_category_t c = utf8proc_category(cp);
        if (c == UTF8PROC_CATEGORY_LL)
            se->flags |= SZ_LOWER_START;
    }

    /* Boilerplate: only short sentences are checked. */
    if (d->inst->n_boiler && se->nwords <= 30 && len < 400) {
        char buf[400];
        for (size_t k = 0; k < len; k++) {
            char c = s[k];
            buf[k] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
        }
        buf[len] = 0;
        for (size_t b = 0; b < d->inst->n_boiler; b++)
            if (strstr(buf, d->inst->boiler[b])) {
                se->flags |= SZ_BOILER;
                break;
            }
    }
}

static const char *const numeric_labels[] = {
    "DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL",
    NULL};

int sz_label_numeric(const char *label)
{
    if (label == NULL)
        return 0;
    for (size_t i = 0; numeric_labels[i]; i++)
        if (strcmp(label, numeric_labels[i]) == 0)
            return 1;
    return 0;
}

/* Entity centrality: entities mentioned often make their sentences central.
 * Mentions are grouped by their "ref" attribute (or their text). */
static int entity_scores(sz_doc *d, dp_doc *doc)
{
    size_t ne;
    const dp_ann *ent = dp_doc_layer(doc, "entity", &ne);
    if (ent == NULL || ne == 0)
        return 0;
    sz_strtab keys;
    if (sz_strtab_init(&keys, ne) != 0)
        return -ENOMEM;
    uint32_t *key = malloc(ne * sizeof *key);
    uint32_t *count = calloc(ne, sizeof *count);
    uint32_t *seen = calloc(ne, sizeof *seen);
    int rc = -ENOMEM;
    if (key == NULL || count == NULL || seen == NULL)
        goto out;
    for (size_t i = 0; i < ne; i++) {
        key[i] = SZ_NONE;
        if (sz_label_numeric(ent[i].label))
            continue;
        char kb[64];
        size_t kl;
        json_t *ref = ent[i].attrs ? json_object_get(ent[i].attrs, "ref") : NULL;
        if (json_is_integer(ref)) {
            kl = (size_t)snprintf(kb, sizeof kb, "#%lld",
                                  (long long)json_integer_value(ref));
        } else {
            kl = ent[i].end - ent[i].start;
            if (kl > sizeof kb - 1)
                kl = sizeof kb - 1;
            memcpy(kb, d->text + ent[i].start, kl);
        }
        long id = sz_strtab_put(&keys, kb, kl, NULL);
        if (id < 0)
            goto out;
        key[i] = (uint32_t)id;
        count[id]++;
    }
    /* Two pointers: entities and sentences are both sorted by start. */
    size_t e = 0;
    for (size_t s = 0; s < d->nsent; s++) {
        sz_sent *se = &d->sent[s];
        while (e < ne && ent[e].start < se->start)
            e++;
        float sum = 0;
        for (size_t k = e; k < ne && ent[k].start < se->end; k++) {
            if (key[k] == SZ_NONE || ent[k].end > se->end)
                continue;
            if (seen[key[k]] == s + 1) /* counted in this sentence */
                continue;
            seen[key[k]] = (uint32_t)s + 1;
            if (count[key[k]] > 1)
                sum += logf((float)count[key[k]]);
        }
        se->ent = sum;
    }
    rc = 0;
out:
    free(key);
    free(count);
    free(seen);
    sz_strtab_free(&keys);
    return rc;
}

int sz_vocab_build(sz_doc *d, dp_doc *doc, dp_err *err)
{
    size_t ns;
    const dp_ann *sl = dp_doc_layer(doc, "sentence", &ns);
    d->tok = dp_doc_layer(doc, "token", &d->ntok);
    if (d->tok == NULL)
        d->ntok = 0;
    if (sl == NULL)
        ns = 0;
    if (d->ntok >= UINT32_MAX || ns >= UINT32_MAX) {
        dp_err_set(err, "document too large for summarize");
        return -EFBIG;
    }
    stemmers st = {NULL, NULL};
    int rc = -ENOMEM;
    d->nsent = ns;
    d->sent = calloc(ns ? ns : 1, sizeof *d->sent);
    d->tok_type = malloc((d->ntok ? d->ntok : 1) * sizeof *d->tok_type);
    d->vec = malloc((d->ntok ? d->ntok : 1) * sizeof *d->vec);
    /* Tables sized for the document (a news article has a few hundred
     * distinct words) and grown as needed: small tables stay in cache, and
     * large fixed ones cost zeroing and misses per document. */
    size_t expect = d->ntok / 2 < 4096 ? d->ntok / 2 : 4096;
    if (!d->sent || !d->tok_type || !d->vec ||
        sz_strtab_init(&d->surf, expect) || sz_strtab_init(&d->stems, expect))
        goto fail;

    size_t t = 0;
    for (size_t s = 0; s < ns; s++) {
        sz_sent *se = &d->sent[s];
        se->start = sl[s].start;
        se->end = sl[s].end;
        while (t < d->ntok && d->tok[t].start < se->start)
            d->tok_type[t++] = SZ_NONE;
        se->tok0 = (uint32_t)t;
        se->vec0 = (uint32_t)d->nvec;
        uint64_t h = 1469598103934665603ULL;
        for (; t < d->ntok && d->tok[t].start < se->end; t++) {
            const dp_ann *tk = &d->tok[t];
            if (tk->end > se->end || tk->end <= tk->start ||
                (tk->label && tk->label[0] == 'p' && strcmp(tk->label, "punct") == 0)) {
                d->tok_type[t] = SZ_NONE;
                continue;
            }
            const char *w = d->text + tk->start;
            size_t wl = tk->end - tk->start;
            int added;
            long id = sz_strtab_put(&d->surf, w, wl, &added);
            if (id < 0)
                goto fail;
            if (added) {
                if ((size_t)id >= d->types_cap) {
                    size_t c = d->types_cap ? d->types_cap * 2 : 1024;
                    sz_type *nt = realloc(d->types, c * sizeof *nt);
                    if (nt == NULL)
                        goto fail;
                    d->types = nt;
                    d->types_cap = c;
                }
                if (new_type(d, &st, w, wl, &d->types[id]) != 0)
                    goto fail;
            }
            const sz_type *ty = &d->types[id];
            d->tok_type[t] = (uint32_t)id;
            if (!ty->word)
                continue;
            se->nwords++;
            if (ty->number)
                se->nnum++;
            if (ty->person)
                se->nperson++;
            if (ty->stem == SZ_NONE) {
                /* stop words count for repeats only: "Why?" twice */
                h = (h ^ (0x80000000u | (uint32_t)id)) * 1099511628211ULL;
                continue;
            }
            se->ncontent++;
            sz_stem *sm = &d->stem[ty->stem];
            sm->tf++;
            h = (h ^ ty->stem) * 1099511628211ULL;
            if (sm->last_sent != s) {
                sm->last_sent = (uint32_t)s;
                sm->df++;
                if (sm->first == SZ_NONE)
                    sm->first = (uint32_t)s;
                sm->pos = (uint32_t)d->nvec;
                d->vec[d->nvec++] = (sz_entry){ty->stem, 1.0f};
            } else {
                d->vec[sm->pos].w += 1.0f;
            }
        }
        se->ntok = (uint32_t)t - se->tok0;
        se->nvec = (uint32_t)d->nvec - se->vec0;
        if (se->nwords == 0) /* punctuation only: its bytes */
            h = sz_hash(d->text + se->start, se->end - se->start);
        se->hash = h ? h : 1;
    }
    for (; t < d->ntok; t++)
        d->tok_type[t] = SZ_NONE;

    /* Inverse sentence frequency and keyword weights. */
    uint32_t max_tf = 1;
    for (size_t k = 0; k < d->stems.n; k++)
        if (d->stem[k].tf > max_tf)
            max_tf = d->stem[k].tf;
    for (size_t k = 0; k < d->stems.n; k++) {
        sz_stem *sm = &d->stem[k];
        sm->isf = logf((float)(ns + 1) / (float)(sm->df ? sm->df : 1));
        sm->kw = sm->tf > 1 ? logf((float)sm->tf) : 0.0f;
    }
    for (size_t s = 0; s < ns; s++) {
        sz_sent *se = &d->sent[s];
        double norm = 0, kw = 0;
        for (uint32_t k = 0; k < se->nvec; k++) {
            sz_entry *e = &d->vec[se->vec0 + k];
            const sz_stem *sm = &d->stem[e->stem];
            e->w = (1.0f + logf(e->w)) * sm->isf;
            norm += (double)e->w * e->w;
            kw += sm->kw;
        }
        if (norm > 0) {
            float inv = (float)(1.0 / sqrt(norm));
            for (uint32_t k = 0; k < se->nvec; k++)
                d->vec[se->vec0 + k].w *= inv;
        }
        se->kw = (float)kw;
        sentence_flags(d, se);
    }
    if (entity_scores(d, doc) != 0)
        goto fail;
    sb_stemmer_delete(st.utf8);
    sb_stemmer_delete(st.latin1);
    return 0;
fail:
    sb_stemmer_delete(st.utf8);
    sb_stemmer_delete(st.latin1);
    dp_err_set(err, "summarize: out of memory");
    return rc;
}
