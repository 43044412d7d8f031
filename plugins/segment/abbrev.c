/* Word sets: abbreviations and sentence starters, loaded from the data files
 * beside the plugin (data/abbrev.<lang>.txt, data/starters.<lang>.txt) and
 * from the stage's options. Read-only once built. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "segment.h"

#define WS_MAXKEY 64

typedef struct ws_slot {
    char *key; /* NULL when empty */
    size_t len;
    int cls;
} ws_slot;

typedef struct ws_table {
    ws_slot *slots;
    size_t cap, n; /* cap is a power of two */
} ws_table;

/* Most words looked up are in no list (every "word." at a sentence end,
 * every word before a comma): a bit per (first letter, last letter, length)
 * class, folded, answers most of them without hashing the word. */
#define WS_FILTER_BITS 4096

struct wordset {
    ws_table ci;    /* folded keys: case-insensitive entries */
    ws_table cs;    /* exact keys: case-sensitive entries */
    size_t max_len; /* of any key: longer words are not looked up */
    uint64_t filter[WS_FILTER_BITS / 64]; /* filter_bit() of every key */
};

static inline unsigned filter_bit(const char *w, size_t len)
{
    /* 5 bits of the first byte, 5 of the last, 2 of the length: the low
     * bits of an ASCII letter are the same in both cases */
    return ((unsigned)((unsigned char)w[0] & 31) << 7) |
           ((unsigned)((unsigned char)w[len - 1] & 31) << 2) |
           (unsigned)(len & 3);
}

static uint64_t hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static size_t fold(const char *w, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++) {
        char c = w[i];
        out[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    return len;
}

static void table_free(ws_table *t)
{
    for (size_t i = 0; i < t->cap; i++)
        free(t->slots[i].key);
    free(t->slots);
}

static ws_slot *table_find(const ws_table *t, const char *k, size_t len)
{
    if (t->cap == 0)
        return NULL;
    size_t mask = t->cap - 1;
    for (size_t i = hash(k, len) & mask;; i = (i + 1) & mask) {
        ws_slot *s = &t->slots[i];
        if (s->key == NULL)
            return s;
        if (s->len == len && memcmp(s->key, k, len) == 0)
            return s;
    }
}

static int table_grow(ws_table *t)
{
    size_t cap = t->cap ? t->cap * 2 : 64;
    ws_slot *slots = calloc(cap, sizeof *slots);
    if (slots == NULL)
        return -ENOMEM;
    ws_table nt = {slots, cap, t->n};
    for (size_t i = 0; i < t->cap; i++) {
        if (t->slots[i].key) {
            ws_slot *s = table_find(&nt, t->slots[i].key, t->slots[i].len);
            *s = t->slots[i];
        }
    }
    free(t->slots);
    *t = nt;
    return 0;
}

static int table_put(ws_table *t, const char *k, size_t len, int cls)
{
    if ((t->n + 1) * 2 > t->cap && table_grow(t))
        return -ENOMEM;
    ws_slot *s = table_find(t, k, len);
    if (s->key == NULL) {
        s->key = malloc(len + 1);
        if (s->key == NULL)
            return -ENOMEM;
        memcpy(s->key, k, len);
        s->key[len] = 0;
        s->len = len;
        t->n++;
    }
    s->cls = cls;
    return 0;
}

wordset *wordset_new(void)
{
    return calloc(1, sizeof(wordset));
}

void wordset_free(wordset *ws)
{
    if (ws == NULL)
        return;
    table_free(&ws->ci);
    table_free(&ws->cs);
    free(ws);
}

int wordset_add(wordset *ws, const char *w, size_t len, int cls, int exact)
{
    if (len == 0 || len > WS_MAXKEY)
        return -EINVAL;
    if (len > ws->max_len)
        ws->max_len = len;
    unsigned b = filter_bit(w, len);
    ws->filter[b / 64] |= (uint64_t)1 << (b % 64);
    if (exact)
        return table_put(&ws->cs, w, len, cls);
    char k[WS_MAXKEY];
    fold(w, len, k);
    return table_put(&ws->ci, k, len, cls);
}

int wordset_get(const wordset *ws, const char *w, size_t len)
{
    if (len == 0 || len > ws->max_len)
        return 0;
    unsigned b = filter_bit(w, len);
    if (!(ws->filter[b / 64] >> (b % 64) & 1))
        return 0;
    const ws_slot *s = table_find(&ws->cs, w, len);
    if (s && s->key)
        return s->cls;
    char k[WS_MAXKEY];
    fold(w, len, k);
    s = table_find(&ws->ci, k, len);
    return s && s->key ? s->cls : 0;
}

static int is_sp(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

int wordset_add_entry(wordset *ws, const char *line, size_t len, char *msg,
                      size_t msglen)
{
    size_t i = 0;
    while (i < len && is_sp(line[i]))
        i++;
    size_t ws0 = i;
    while (i < len && !is_sp(line[i]) && line[i] != '#')
        i++;
    size_t we = i;
    if (we == ws0)
        return 0; /* blank or comment */
    if (we > ws0 + 1 && line[we - 1] == '.')
        we--; /* "Mr." and "Mr" are the same entry */
    int cls = AB_ANY, exact = 0;
    while (i < len && line[i] != '#') {
        while (i < len && is_sp(line[i]))
            i++;
        size_t ts = i;
        while (i < len && !is_sp(line[i]) && line[i] != '#')
            i++;
        size_t tl = i - ts;
        if (tl == 0)
            break;
        const char *t = line + ts;
        if (tl == 3 && memcmp(t, "any", 3) == 0)
            cls = AB_ANY;
        else if (tl == 5 && memcmp(t, "title", 5) == 0)
            cls = AB_TITLE;
        else if (tl == 5 && memcmp(t, "inner", 5) == 0)
            cls = AB_INNER;
        else if (tl == 3 && memcmp(t, "num", 3) == 0)
            cls = AB_NUM;
        else if (tl == 2 && memcmp(t, "cs", 2) == 0)
            exact = 1;
        else {
            snprintf(msg, msglen, "unknown tag '%.*s' for '%.*s'", (int)tl, t,
                     (int)(we - ws0), line + ws0);
            return -EINVAL;
        }
    }
    if (we - ws0 > WS_MAXKEY) {
        snprintf(msg, msglen, "entry too long: '%.*s'", (int)(we - ws0),
                 line + ws0);
        return -EINVAL;
    }
    int rc = wordset_add(ws, line + ws0, we - ws0, cls, exact);
    if (rc)
        snprintf(msg, msglen, "out of memory");
    return rc;
}

int wordset_load(wordset *ws, const char *path, char *msg, size_t msglen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        int e = errno;
        snprintf(msg, msglen, "cannot open %s: %s", path, strerror(e));
        return -e;
    }
    char line[512];
    int rc = 0;
    unsigned lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strcspn(line, "\n");
        char sub[256];
        rc = wordset_add_entry(ws, line, len, sub, sizeof sub);
        if (rc) {
            snprintf(msg, msglen, "%s:%u: %s", path, lineno, sub);
            break;
        }
    }
    if (rc == 0 && ferror(f)) {
        snprintf(msg, msglen, "cannot read %s", path);
        rc = -EIO;
    }
    fclose(f);
    return rc;
}
