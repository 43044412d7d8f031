/* Data files of the stage: code pages and the word list. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clean.h"

size_t u8_put(int32_t cp, char *out)
{
    unsigned c = (unsigned)cp;
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xC0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

static int rev_cmp(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static void build_rev(codepage *p)
{
    for (int i = 0; i < 128; i++) {
        p->rev[i].cp = p->hi[i];
        p->rev[i].byte = (unsigned char)(0x80 + i);
    }
    qsort(p->rev, 128, sizeof p->rev[0], rev_cmp);
    p->loaded = 1;
}

int cp_encode(const codepage *p, int32_t cp)
{
    if (cp < 0x80)
        return cp;
    size_t lo = 0, hi = 128;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p->rev[mid].cp < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < 128 && p->rev[lo].cp == cp ? p->rev[lo].byte : -1;
}

/* The 32 bytes where Windows-1252 differs from Latin-1; the five it leaves
 * undefined keep their Latin-1 (C1) value. */
static const uint16_t w1252_80[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
    0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

void codepage_1252_builtin(codepage *p)
{
    memset(p, 0, sizeof *p);
    strcpy(p->name, "windows-1252");
    for (int i = 0; i < 128; i++)
        p->hi[i] = i < 32 ? w1252_80[i] : 0x80 + i;
    build_rev(p);
}

static const char *const page_names[CP_COUNT] = {
    "windows-1252", "latin-1", "windows-1250", "windows-1251",
    "iso-8859-2", "windows-1257", "mac-roman", "cp437"};

int codepages_load(codepage pages[CP_COUNT], const char *path, dp_err *err)
{
    codepage_1252_builtin(&pages[CP_1252]);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        dp_err_set(err, "cannot open %s: %s", path, strerror(errno));
        return -errno;
    }
    char line[2048];
    int rc = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        char *sp = strchr(line, ' ');
        if (sp == NULL)
            continue;
        *sp = 0;
        int k = -1;
        for (int i = 0; i < CP_COUNT; i++)
            if (strcmp(line, page_names[i]) == 0)
                k = i;
        if (k < 0)
            continue;
        codepage *p = &pages[k];
        memset(p, 0, sizeof *p);
        snprintf(p->name, sizeof p->name, "%s", line);
        char *s = sp + 1;
        for (int i = 0; i < 128; i++) {
            char *e;
            long v = strtol(s, &e, 16);
            if (e == s || v <= 0 || v > 0x10FFFF) {
                dp_err_set(err, "%s: bad table for %s", path, line);
                rc = -EINVAL;
                goto out;
            }
            p->hi[i] = (int32_t)v;
            s = e;
        }
        build_rev(p);
    }
    for (int i = 0; i < CP_COUNT; i++)
        if (!pages[i].loaded) {
            dp_err_set(err, "%s: no table for %s", path, page_names[i]);
            rc = -EINVAL;
        }
out:
    fclose(f);
    return rc;
}

static uint64_t hash_word(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

int wordset_load(wordset *w, const char *path, dp_err *err)
{
    memset(w, 0, sizeof *w);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        dp_err_set(err, "cannot open %s: %s", path, strerror(errno));
        return -errno;
    }
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        dp_err_set(err, "cannot read %s", path);
        return -EIO;
    }
    w->pool = malloc((size_t)size + 1);
    if (w->pool == NULL) {
        fclose(f);
        return -ENOMEM;
    }
    size_t got = fread(w->pool, 1, (size_t)size, f);
    fclose(f);
    w->pool[got] = 0;
    size_t nlines = 0;
    for (size_t i = 0; i < got; i++)
        nlines += w->pool[i] == '\n';
    size_t cap = 1024;
    while (cap < nlines * 2 + 2)
        cap *= 2;
    w->slots = calloc(cap, sizeof *w->slots);
    if (w->slots == NULL) {
        wordset_free(w);
        return -ENOMEM;
    }
    w->mask = cap - 1;
    char *s = w->pool;
    while (*s) {
        char *e = strchr(s, '\n');
        if (e)
            *e = 0;
        size_t n = strlen(s);
        if (n && s[n - 1] == '\r')
            s[--n] = 0;
        if (n > 0 && s[0] != '#') {
            size_t h = (size_t)hash_word(s, n) & w->mask;
            while (w->slots[h] && strcmp(w->slots[h], s) != 0)
                h = (h + 1) & w->mask;
            w->slots[h] = s;
        }
        if (e == NULL)
            break;
        s = e + 1;
    }
    return 0;
}

int wordset_has(const wordset *w, const char *word, size_t len)
{
    if (w->slots == NULL)
        return 0;
    size_t h = (size_t)hash_word(word, len) & w->mask;
    while (w->slots[h]) {
        if (strncmp(w->slots[h], word, len) == 0 && w->slots[h][len] == 0)
            return 1;
        h = (h + 1) & w->mask;
    }
    return 0;
}

void wordset_free(wordset *w)
{
    free(w->slots);
    free(w->pool);
    memset(w, 0, sizeof *w);
}

static int ent_cmp(const void *a, const void *b)
{
    return strcmp(((const entity *)a)->name, ((const entity *)b)->name);
}

int entities_load(entity_tab *t, const char *path, dp_err *err)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        dp_err_set(err, "cannot open %s: %s", path, strerror(errno));
        return -errno;
    }
    char line[256];
    size_t cap = 0, poolcap = 0, poollen = 0;
    /* Names go into one pool; entries point into it once it is final. */
    size_t *offs = NULL;
    int rc = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        char *sp = strchr(line, ' ');
        if (sp == NULL)
            continue;
        *sp = 0;
        size_t nl = strlen(line);
        if (t->n == cap) {
            cap = cap ? cap * 2 : 2048;
            entity *e = realloc(t->ents, cap * sizeof *e);
            size_t *o = realloc(offs, cap * sizeof *o);
            if (e)
                t->ents = e;
            if (o)
                offs = o;
            if (e == NULL || o == NULL) {
                rc = -ENOMEM;
                goto out;
            }
        }
        if (poollen + nl + 1 > poolcap) {
            poolcap = poolcap ? poolcap * 2 : 32768;
            while (poollen + nl + 1 > poolcap)
                poolcap *= 2;
            char *p = realloc(t->pool, poolcap);
            if (p == NULL) {
                rc = -ENOMEM;
                goto out;
            }
            t->pool = p;
        }
        memcpy(t->pool + poollen, line, nl + 1);
        entity *e = &t->ents[t->n];
        memset(e, 0, sizeof *e);
        offs[t->n] = poollen;
        poollen += nl + 1;
        char *s = sp + 1;
        for (;;) {
            char *end;
            long v = strtol(s, &end, 16);
            if (end == s)
                break;
            if (v <= 0 || v > 0x10FFFF || (size_t)e->n + 4 > sizeof e->utf8) {
                dp_err_set(err, "%s: bad entry %s", path, line);
                rc = -EINVAL;
                goto out;
            }
            e->n = (unsigned char)(e->n + u8_put((int32_t)v, e->utf8 + e->n));
            s = end;
        }
        t->n++;
    }
    for (size_t i = 0; i < t->n; i++)
        t->ents[i].name = t->pool + offs[i];
    qsort(t->ents, t->n, sizeof *t->ents, ent_cmp);
out:
    free(offs);
    fclose(f);
    if (rc)
        entities_free(t);
    return rc;
}

const entity *entities_find(const entity_tab *t, const char *name, size_t n)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strncmp(t->ents[mid].name, name, n);
        if (c == 0 && t->ents[mid].name[n] != 0)
            c = 1;
        if (c < 0)
            lo = mid + 1;
        else if (c > 0)
            hi = mid;
        else
            return &t->ents[mid];
    }
    return NULL;
}

void entities_free(entity_tab *t)
{
    free(t->ents);
    free(t->pool);
    memset(t, 0, sizeof *t);
}
