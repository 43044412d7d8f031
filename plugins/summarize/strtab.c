/* String interning with open addressing (linear probing). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sz.h"

uint64_t sz_hash(const void *p, size_t len)
{
    /* Eight bytes per multiply (keys are words and short stem-id strings,
     * hashed once per token), then a final mix so that both the low bits
     * (slot) and the high bits (tag) are usable. */
    const unsigned char *s = p;
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ len;
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
        s += 8;
        len -= 8;
    }
    /* The last 1..7 bytes in at most two loads (overlapping ones: the
     * length is in the seed), not a loop a byte. */
    uint64_t w = 0;
    if (len >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + len - 4, 4);
        w = a | (uint64_t)b << 32;
    } else if (len > 0) {
        w = s[0] | (uint64_t)s[len / 2] << 8 | (uint64_t)s[len - 1] << 16;
    }
    h = (h ^ w) * 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
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
    free(t->keys);
    free(t->arena);
    memset(t, 0, sizeof *t);
}

static inline uint64_t slot_tag(uint64_t h)
{
    return h & 0xFFFFFFFF00000000ULL;
}

/* The slot holding key, or the empty slot where it belongs. */
static size_t probe(const sz_strtab *t, const char *key, size_t len,
                    uint64_t h)
{
    size_t mask = t->cap - 1;
    uint64_t tag = slot_tag(h);
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        uint64_t s = t->slots[i];
        if (s == 0)
            return i;
        if (slot_tag(s) != tag)
            continue;
        const sz_strkey *k = &t->keys[(uint32_t)s - 1];
        if (k->len == len && memcmp(t->arena + k->off, key, len) == 0)
            return i;
    }
}

long sz_strtab_find_h(const sz_strtab *t, const char *key, size_t len,
                      uint64_t h)
{
    if (t->cap == 0)
        return -1;
    uint64_t s = t->slots[probe(t, key, len, h)];
    return s ? (long)((uint32_t)s - 1) : -1;
}

long sz_strtab_find(const sz_strtab *t, const char *key, size_t len)
{
    return sz_strtab_find_h(t, key, len, sz_hash(key, len));
}

static int grow_slots(sz_strtab *t)
{
    size_t cap = t->cap * 2;
    uint64_t *slots = calloc(cap, sizeof *slots);
    if (slots == NULL)
        return -ENOMEM;
    for (size_t id = 0; id < t->n; id++) {
        uint64_t h = t->keys[id].hash;
        size_t i = (size_t)h & (cap - 1);
        while (slots[i])
            i = (i + 1) & (cap - 1);
        slots[i] = slot_tag(h) | (uint32_t)(id + 1);
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return 0;
}

long sz_strtab_put(sz_strtab *t, const char *key, size_t len, int *added)
{
    return sz_strtab_put_h(t, key, len, sz_hash(key, len), added);
}

long sz_strtab_put_h(sz_strtab *t, const char *key, size_t len, uint64_t h,
                     int *added)
{
    if (added)
        *added = 0;
    if (len > UINT32_MAX / 2 || t->n >= UINT32_MAX / 4 || t->cap == 0)
        return -ENOMEM;
    size_t i = probe(t, key, len, h);
    if (t->slots[i])
        return (long)((uint32_t)t->slots[i] - 1);
    if ((t->n + 1) * 2 > t->cap) {
        if (grow_slots(t) != 0)
            return -ENOMEM;
        i = probe(t, key, len, h);
    }
    if (t->n == t->id_cap) {
        size_t c = t->id_cap ? t->id_cap * 2 : 64;
        sz_strkey *k = realloc(t->keys, c * sizeof *k);
        if (k == NULL)
            return -ENOMEM;
        t->keys = k;
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
    uint32_t nid = (uint32_t)t->n;
    t->keys[nid] = (sz_strkey){(uint32_t)t->arena_len, (uint32_t)len, h};
    t->arena_len += len + 1;
    t->slots[i] = slot_tag(h) | (nid + 1);
    t->n++;
    if (added)
        *added = 1;
    return nid;
}
