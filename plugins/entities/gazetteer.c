/* Gazetteer: names (one or more tokens) mapped to a mask of classes.
 *
 * A name's key is a hash of its bytes with white space left out, so that
 * it matches whatever way the tokenizer split it ("Kassym-Jomart" as one
 * token or three). Every prefix that ends at a word or punctuation boundary
 * is stored too (flag 2), so matching stops as soon as no entry continues. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ner.h"

const char *const gz_builtin_names[GZ_N_BUILTIN] = {
    "COUNTRY", "CITY", "REGION", "NORP", "LANGUAGE", "CURRENCY",
    "FIRST", "PERSON", "ORG", "LOC", "TITLE", "NAME"};

const char *const gz_wordclass_names[GZ_N_WORDCLASS] = {
    "noun.Tops", "noun.act", "noun.animal", "noun.artifact", "noun.attribute",
    "noun.body", "noun.cognition", "noun.communication", "noun.event",
    "noun.feeling", "noun.food", "noun.group", "noun.location", "noun.motive",
    "noun.object", "noun.person", "noun.phenomenon", "noun.plant",
    "noun.possession", "noun.process", "noun.quantity", "noun.relation",
    "noun.shape", "noun.state", "noun.substance", "noun.time"};

unsigned gaz_wordclass(const gaz *g, const char *low, size_t llen, uint64_t h_low)
{
    if (g->wcls.n == 0 || llen < 2)
        return 0;
    unsigned c = hset_bits(&g->wcls, h_low);
    if (c || llen < 4 || low[llen - 1] != 's')
        return c;
    /* regular plurals: bands -> band, churches -> church, companies -> company */
    if ((c = hset_bits(&g->wcls, nh_bytes(NH_SEED, low, llen - 1))) != 0)
        return c;
    if (low[llen - 2] == 'e') {
        if (low[llen - 3] == 'i') {
            char buf[NER_TOKMAX];
            memcpy(buf, low, llen - 3);
            buf[llen - 3] = 'y';
            return hset_bits(&g->wcls, nh_bytes(NH_SEED, buf, llen - 2));
        }
        return hset_bits(&g->wcls, nh_bytes(NH_SEED, low, llen - 2));
    }
    return 0;
}

int gaz_init(gaz *g)
{
    memset(g, 0, sizeof *g);
    g->n_classes = GZ_N_BUILTIN;
    return 0;
}

void gaz_free(gaz *g)
{
    free(g->slots);
    free(g->filter);
    hset_free(&g->wcls);
    for (int i = 0; i < GZ_MAX_CLASSES; i++)
        free(g->class_names[i]);
    memset(g, 0, sizeof *g);
}

static inline size_t filter_bit(uint64_t key)
{
    return (size_t)(nh_mix(key ^ 0x5bd1e995u) >> (64 - GZ_FILTER_BITS));
}

static gaz_slot *gaz_find(const gaz *g, uint64_t key)
{
    if (g->cap == 0)
        return NULL;
    size_t fbit = filter_bit(key);
    if (!(g->filter[fbit / 64] & (1ULL << (fbit % 64))))
        return NULL;
    size_t j = nh_mix(key) & (g->cap - 1);
    while (g->slots[j].key) {
        if (g->slots[j].key == key)
            return &g->slots[j];
        j = (j + 1) & (g->cap - 1);
    }
    return NULL;
}

static int gaz_put(gaz *g, uint64_t key, uint32_t mask, uint32_t flags)
{
    if (key == 0)
        key = 1;
    if (g->filter == NULL) {
        g->filter = calloc(((size_t)1 << GZ_FILTER_BITS) / 64, sizeof *g->filter);
        if (g->filter == NULL)
            return -ENOMEM;
    }
    size_t fbit = filter_bit(key);
    g->filter[fbit / 64] |= 1ULL << (fbit % 64);
    if ((g->n + 1) * 2 > g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 1024;
        gaz_slot *s = calloc(cap, sizeof *s);
        if (s == NULL)
            return -ENOMEM;
        for (size_t i = 0; i < g->cap; i++) {
            if (g->slots[i].key == 0)
                continue;
            size_t j = nh_mix(g->slots[i].key) & (cap - 1);
            while (s[j].key)
                j = (j + 1) & (cap - 1);
            s[j] = g->slots[i];
        }
        free(g->slots);
        g->slots = s;
        g->cap = cap;
    }
    size_t j = nh_mix(key) & (g->cap - 1);
    while (g->slots[j].key && g->slots[j].key != key)
        j = (j + 1) & (g->cap - 1);
    if (g->slots[j].key == 0) {
        g->slots[j].key = key;
        g->n++;
    }
    g->slots[j].mask |= mask;
    g->slots[j].flags |= flags;
    return 0;
}

static int is_alnum_byte(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z') || c >= 0x80;
}

int gaz_add(gaz *g, const char *name, size_t len, int cls)
{
    if (cls < 0 || cls >= GZ_MAX_CLASSES)
        return -EINVAL;
    uint64_t h = NH_SEED;
    int words = 1, any = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == ' ' || c == '\t') {
            words++;
            continue;
        }
        if (any && i > 0) {
            unsigned char p = (unsigned char)name[i - 1];
            if (p == ' ' || is_alnum_byte(p) != is_alnum_byte(c)) {
                if (gaz_put(g, h ? h : 1, 0, 2))
                    return -ENOMEM;
                words++;
            }
        }
        h = nh_bytes(h, &c, 1);
        any = 1;
    }
    if (!any)
        return 0;
    if (words > 12)
        return 0; /* longer than anything matched */
    if (words > g->max_tokens)
        g->max_tokens = words;
    return gaz_put(g, h ? h : 1, 1u << cls, 1);
}

int gaz_load(gaz *g, const char *path, char *msg, size_t msglen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(msg, msglen, "%s: cannot open gazetteer: %s", path,
                 strerror(errno));
        return -errno ? -errno : -ENOENT;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t r;
    unsigned long lineno = 0;
    int rc = 0;
    while ((r = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (r > 0 && (line[r - 1] == '\n' || line[r - 1] == '\r'))
            line[--r] = 0;
        if (r == 0 || line[0] == '#')
            continue;
        char *tab = strrchr(line, '\t');
        if (tab == NULL || tab == line || tab[1] == 0) {
            snprintf(msg, msglen, "%s:%lu: expected NAME<TAB>CLASS", path, lineno);
            rc = -EINVAL;
            break;
        }
        *tab = 0;
        const char *cname = tab + 1;
        int cls = -1;
        /* a word class line: the word lower-cased (ASCII; the default
         * file has ASCII words only), keyed like a token's lower case
         * (NER_TOKMAX bytes at most, as tokens keep) */
        if (strncmp(cname, "noun.", 5) == 0) {
            unsigned wc = 0;
            for (unsigned i = 0; i < GZ_N_WORDCLASS; i++)
                if (strcmp(gz_wordclass_names[i], cname) == 0)
                    wc = i + 1;
            size_t wl = (size_t)(tab - line);
            if (wc == 0 || wl > NER_TOKMAX) {
                snprintf(msg, msglen, "%s:%lu: unknown word class '%s' or word too long",
                         path, lineno, cname);
                rc = -EINVAL;
                break;
            }
            for (size_t i = 0; i < wl; i++)
                if (line[i] >= 'A' && line[i] <= 'Z')
                    line[i] = (char)(line[i] + 32);
            if (hset_or(&g->wcls, nh_bytes(NH_SEED, line, wl), wc)) {
                snprintf(msg, msglen, "%s:%lu: out of memory", path, lineno);
                rc = -ENOMEM;
                break;
            }
            continue;
        }
        for (int i = 0; i < g->n_classes; i++) {
            const char *nm = i < GZ_N_BUILTIN ? gz_builtin_names[i] : g->class_names[i];
            if (nm && strcmp(nm, cname) == 0) {
                cls = i;
                break;
            }
        }
        if (cls < 0) {
            if (g->n_classes >= GZ_MAX_CLASSES) {
                snprintf(msg, msglen, "%s:%lu: too many classes (at most %d)",
                         path, lineno, GZ_MAX_CLASSES - GZ_N_BUILTIN);
                rc = -EINVAL;
                break;
            }
            for (const char *p = cname; *p; p++)
                if (!((*p >= 'A' && *p <= 'Z') || *p == '_')) {
                    snprintf(msg, msglen, "%s:%lu: class '%s' is not an upper-case label",
                             path, lineno, cname);
                    rc = -EINVAL;
                    goto out;
                }
            cls = g->n_classes;
            g->class_names[cls] = strdup(cname);
            if (g->class_names[cls] == NULL) {
                rc = -ENOMEM;
                break;
            }
            g->n_classes++;
        }
        if ((rc = gaz_add(g, line, (size_t)(tab - line), cls)) != 0) {
            snprintf(msg, msglen, "%s:%lu: out of memory", path, lineno);
            break;
        }
    }
out:
    free(line);
    fclose(f);
    return rc;
}

static uint64_t feed_token(uint64_t h, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
            continue;
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    return h;
}

uint64_t gaz_key(const char *s, size_t len)
{
    return feed_token(NH_SEED, s, len);
}

uint32_t gaz_lookup(const gaz *g, const char *s, size_t len)
{
    uint64_t h = feed_token(NH_SEED, s, len);
    const gaz_slot *sl = gaz_find(g, h ? h : 1);
    return sl && (sl->flags & 1) ? sl->mask : 0;
}

size_t gaz_match_tokens(const gaz *g, const char *const *tok,
                        const uint32_t *len, const uint64_t *key1, size_t n,
                        gaz_match *out)
{
    size_t k = 0;
    if (g->n == 0)
        return 0;
    size_t maxt = (size_t)g->max_tokens + 4;
    /* the filter words of all first tokens requested at once, so that
     * their cache misses overlap */
    for (size_t i = 0; i < n; i++)
        __builtin_prefetch(&g->filter[filter_bit(key1[i] ? key1[i] : 1) / 64]);
    for (size_t i = 0; i < n;) {
        uint64_t h = NH_SEED;
        size_t best = 0;
        uint32_t mask = 0;
        for (size_t j = i; j < n && j - i < maxt; j++) {
            h = j == i ? key1[i] : feed_token(h, tok[j], len[j]);
            const gaz_slot *sl = gaz_find(g, h ? h : 1);
            if (sl == NULL)
                break;
            if (sl->flags & 1) {
                best = j + 1;
                mask = sl->mask;
            }
            if (!(sl->flags & 2))
                break;
        }
        if (best) {
            out[k].start = (uint32_t)i;
            out[k].end = (uint32_t)best;
            out[k].mask = mask;
            k++;
            i = best;
        } else {
            i++;
        }
    }
    return k;
}
