/* The stems of common words, computed once at load.
 *
 * The Snowball stemmer is the costliest step per distinct word of a
 * document (about 0.2 us a word), and most words of a document are common
 * ones. The table is read-only after load and compact: one 32-byte entry
 * holds a word and its stem, so a lookup touches one cache line (a table of
 * separate key, id and string arrays cost more in misses than the stemmer,
 * with the other stages evicting it between documents). Words longer than
 * SZ_SC_MAX bytes are not kept; the stemmer handles them, and any word not
 * found, as before: the stems are the same either way. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libstemmer.h>

#include "sz.h"

void sz_stemcache_free(sz_stemcache *c)
{
    free(c->e);
    memset(c, 0, sizeof *c);
}

/* The entry of w, or the empty one where it belongs. */
static sz_sc_entry *slot(const sz_stemcache *c, const char *w, size_t len)
{
    size_t i = (size_t)sz_hash(w, len) & c->mask;
    for (;; i = (i + 1) & c->mask) {
        sz_sc_entry *e = &c->e[i];
        if (e->wlen == 0 || (e->wlen == len && memcmp(e->word, w, len) == 0))
            return e;
    }
}

static int grow(sz_stemcache *c)
{
    size_t cap = c->e ? (c->mask + 1) * 2 : 1024;
    sz_sc_entry *old = c->e;
    size_t oldcap = c->e ? c->mask + 1 : 0;
    /* aligned so that no entry straddles two cache lines */
    c->e = aligned_alloc(64, cap * sizeof *c->e);
    if (c->e == NULL) {
        c->e = old;
        return -ENOMEM;
    }
    memset(c->e, 0, cap * sizeof *c->e);
    c->mask = cap - 1;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].wlen)
            *slot(c, old[i].word, old[i].wlen) = old[i];
    free(old);
    return 0;
}

int sz_stemcache_put(sz_stemcache *c, const char *w, size_t len)
{
    if (len == 0 || len > SZ_SC_MAX)
        return 0;
    /* at most 5/8 full: probes stay short */
    if (c->e == NULL || (c->n + 1) * 8 > (c->mask + 1) * 5) {
        if (grow(c) != 0)
            return -ENOMEM;
    }
    sz_sc_entry *e = slot(c, w, len);
    if (e->wlen)
        return 0;
    e->wlen = (uint8_t)len;
    memcpy(e->word, w, len);
    c->n++;
    return 0;
}

int sz_stemcache_stem(sz_stemcache *c)
{
    if (c->e == NULL)
        return 0;
    struct sb_stemmer *st = sb_stemmer_new("english", NULL);
    if (st == NULL)
        return -ENOMEM;
    int rc = 0;
    for (size_t i = 0; i <= c->mask && rc == 0; i++) {
        sz_sc_entry *e = &c->e[i];
        if (e->wlen == 0)
            continue;
        const sb_symbol *s =
            sb_stemmer_stem(st, (const sb_symbol *)e->word, e->wlen);
        if (s == NULL) {
            rc = -ENOMEM;
            break;
        }
        int sl = sb_stemmer_length(st);
        if (sl < 0 || sl > SZ_SC_MAX) {
            e->slen = SZ_SC_NONE; /* found, but left to the stemmer */
        } else {
            e->slen = (uint8_t)sl;
            memcpy(e->stem, s, (size_t)sl);
        }
    }
    sb_stemmer_delete(st);
    return rc;
}

const sz_sc_entry *sz_stemcache_find(const sz_stemcache *c, const char *w,
                                     size_t len)
{
    if (c->e == NULL || len == 0 || len > SZ_SC_MAX)
        return NULL;
    const sz_sc_entry *e = slot(c, w, len);
    return e->wlen && e->slen != SZ_SC_NONE ? e : NULL;
}
