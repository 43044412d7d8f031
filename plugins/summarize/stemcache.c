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
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <libstemmer.h>

#include "sz.h"

_Static_assert(sizeof(sz_sc_entry) == 32 &&
                   offsetof(sz_sc_entry, word) == 1,
               "an entry is 32 bytes, its key the first 16");

void sz_stemcache_free(sz_stemcache *c)
{
    free(c->e);
    memset(c, 0, sizeof *c);
}

/* A word as the first 16 bytes of its entry: its length, then its bytes,
 * zero-padded. Lookups hash and compare these two words, no memcmp. */
typedef struct sc_key {
    uint64_t w[2];
} sc_key;

static int make_key(const char *w, size_t len, sc_key *k)
{
    if (len == 0 || len > SZ_SC_MAX)
        return 0;
    unsigned char b[16] = {0};
    b[0] = (unsigned char)len;
    memcpy(b + 1, w, len);
    memcpy(k->w, b, sizeof b);
    return 1;
}

static size_t key_hash(const sc_key *k)
{
    uint64_t h = k->w[0] * 0x9E3779B97F4A7C15ULL ^
                 k->w[1] * 0xC2B2AE3D27D4EB4FULL;
    h ^= h >> 32;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 29;
    return (size_t)h;
}

/* The entry of k, or the empty one where it belongs. */
static sz_sc_entry *slot(const sz_stemcache *c, const sc_key *k)
{
    for (size_t i = key_hash(k) & c->mask;; i = (i + 1) & c->mask) {
        sz_sc_entry *e = &c->e[i];
        uint64_t ew[2];
        memcpy(ew, e, sizeof ew);
        if (e->wlen == 0 || (ew[0] == k->w[0] && ew[1] == k->w[1]))
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
    for (size_t i = 0; i < oldcap; i++) {
        sc_key k;
        if (make_key(old[i].word, old[i].wlen, &k))
            *slot(c, &k) = old[i];
    }
    free(old);
    return 0;
}

int sz_stemcache_put(sz_stemcache *c, const char *w, size_t len)
{
    sc_key k;
    if (!make_key(w, len, &k))
        return 0;
    /* at most 5/8 full: probes stay short */
    if (c->e == NULL || (c->n + 1) * 8 > (c->mask + 1) * 5) {
        if (grow(c) != 0)
            return -ENOMEM;
    }
    sz_sc_entry *e = slot(c, &k);
    if (e->wlen)
        return 0;
    memcpy(e, k.w, sizeof k.w);
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
    sc_key k;
    if (c->e == NULL || !make_key(w, len, &k))
        return NULL;
    const sz_sc_entry *e = slot(c, &k);
    return e->wlen && e->slen != SZ_SC_NONE ? e : NULL;
}
