/* String interning with open addressing (linear probing). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sz.h"

uint64_t sz_hash(const void *p, size_t len)
{
    /* FNV-1a, then a final mix so that low bits are usable. */
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

int sz_strtab_init(sz_strtab *t, size_t expect)
{
    memset(t, 0, sizeof *t);
    size_t cap = 64;
    while (cap < expect * 2)
        cap <<= 1;
    t->slots = calloc(cap, sizeof *t->slots);
    if (t->slots == NULL)
        return -ENOMEM;
    t->cap = cap;
    return 0;
}

void sz_strtab_free(sz_strtab *t)
{
    free(t->slots);
    free(t->off);
    free(t->len);
    free(t->hash);
    free(t->arena);
    memset(t, 0, sizeof *t);
}

long sz_strtab_find(const sz_strtab *t, const char *key, size_t len)
{
    if (t->cap == 0)
        return -1;
    uint64_t h = sz_hash(key, len);
    size_t mask = t->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        uint32_t s = t->slots[i];
        if (s == 0)
            return -1;
        uint32_t id = s - 1;
        if (t->hash[id] == h && t->len[id] == len &&
            memcmp(t->arena + t->off[id], key, len) == 0)
            return id;
    }
}

static int grow_slots(sz_strtab *t)
{
    size_t cap = t->cap * 2;
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (slots == NULL)
        return -ENOMEM;
    for (size_t id = 0; id < t->n; id++) {
        size_t i = (size_t)t->hash[id] & (cap - 1);
        while (slots[i])
            i = (i + 1) & (cap - 1);
        slots[i] = (uint32_t)id + 1;
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return 0;
}

long sz_strtab_put(sz_strtab *t, const char *key, size_t len, int *added)
{
    if (added)
        *added = 0;
    if (len > UINT32_MAX / 2 || t->n >= UINT32_MAX / 4)
        return -ENOMEM;
    long id = sz_strtab_find(t, key, len);
    if (id >= 0)
        return id;
    if ((t->n + 1) * 2 > t->cap && grow_slots(t) != 0)
        return -ENOMEM;
    if (t->n == t->id_cap) {
        size_t c = t->id_cap ? t->id_cap * 2 : 64;
        uint32_t *off = realloc(t->off, c * sizeof *off);
        if (off)
            t->off = off;
        uint32_t *ln = realloc(t->len, c * sizeof *ln);
        if (ln)
            t->len = ln;
        uint64_t *hs = realloc(t->hash, c * sizeof *hs);
        if (hs)
            t->hash = hs;
        if (!off || !ln || !hs)
            return -ENOMEM;
        t->id_cap = c;
    }
    if (t->arena_len + len + 1 > t->arena_cap) {
        size_t c = t->arena_cap ? t->arena_cap * 2 : 1024;
        while (c < t->arena_len + len + 1)
            c *= 2;
        if (c > UINT32_MAX)
            return -ENOMEM;
        char *a = realloc(t->arena, c);
        if (a == NULL)
            return -ENOMEM;
        t->arena = a;
        t->arena_cap = c;
    }
    memcpy(t->arena + t->arena_len, key, len);
    t->arena[t->arena_len + len] = 0;
    uint64_t h = sz_hash(key, len);
    uint32_t nid = (uint32_t)t->n;
    t->off[nid] = (uint32_t)t->arena_len;
    t->len[nid] = (uint32_t)len;
    t->hash[nid] = h;
    t->arena_len += len + 1;
    size_t mask = t->cap - 1;
    size_t i = (size_t)h & mask;
    while (t->slots[i])
        i = (i + 1) & mask;
    t->slots[i] = nid + 1;
    t->n++;
    if (added)
        *added = 1;
    return nid;
}
