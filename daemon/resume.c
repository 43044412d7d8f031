/* Crash recovery: finding the output of a document left in processing/. */
#include "resume.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "fsops.h"

/* The claim's rename set the change time, and nothing changes it until
 * the document leaves processing/, so it is the same after a crash;
 * another drop of the same name and bytes (a re-send) is another inode,
 * claimed at another time. */
int dp_resume_claim(const char *path, char *out, size_t len)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return -errno;
    snprintf(out, len, "%llx-%lld.%09ld", (unsigned long long)st.st_ino,
             (long long)st.st_ctim.tv_sec, (long)st.st_ctim.tv_nsec);
    return 0;
}

/* Whether `fname` is one of the names write_outputs tries for `base`
 * (base.json, base.1.json, ...: a long base shortened to fit). */
static int output_name_of(const char *fname, const char *base)
{
    char want[NAME_MAX + 1];
    unsigned long n = 0;
    size_t len = strlen(fname);
    if (len < 5 || strcmp(fname + len - 5, ".json") != 0)
        return 0;
    /* base.N.json: read N, then compare with what N gives. */
    const char *dot = NULL;
    for (const char *p = fname + len - 5; p > fname; p--)
        if (p[-1] == '.') {
            dot = p;
            break;
        } else if (p[-1] < '0' || p[-1] > '9') {
            break;
        }
    if (dot && dot < fname + len - 5 && *dot != '0')
        n = strtoul(dot, NULL, 10);
    if (n < 100000 &&
        dp_numbered_name(want, sizeof want, base, ".json", (unsigned)n) == 0 &&
        strcmp(want, fname) == 0)
        return 1;
    return n != 0 &&
           dp_numbered_name(want, sizeof want, base, ".json", 0) == 0 &&
           strcmp(want, fname) == 0;
}

/* The dot of a name's ".N" end (x.txt.1), or NULL. */
static const char *number_dot(const char *s)
{
    const char *dot = strrchr(s, '.');
    return dot && dot > s && dot[1] &&
                   strspn(dot + 1, "0123456789") == strlen(dot + 1)
               ? dot
               : NULL;
}

/* The names a document's outputs are made from: its name, and the name it
 * was claimed under without processing/'s number (x.txt is claimed as
 * x.txt.1 while another x.txt is in flight, and a resumed document only
 * knows the numbered one). Returns how many: 1 or 2. */
static size_t output_bases(const char *name, const char *pname,
                           char bases[2][NAME_MAX + 1])
{
    snprintf(bases[0], NAME_MAX + 1, "%s", name);
    const char *dot = number_dot(pname);
    if (dot) {
        snprintf(bases[1], NAME_MAX + 1, "%.*s", (int)(dot - pname), pname);
        return 2;
    }
    return 1;
}

/* source.claim of outbox/fname (into out), or "" when it has none. */
static void output_claim(const char *outbox, const char *fname, char *sha,
                         char *out, size_t len)
{
    char path[PATH_MAX];
    out[0] = 0;
    if (sha)
        sha[0] = 0;
    int w = snprintf(path, sizeof path, "%s/%s", outbox, fname);
    if (w < 0 || (size_t)w >= sizeof path)
        return;
    json_t *o = json_load_file(path, 0, NULL);
    json_t *src = json_object_get(o, "source");
    const char *s = json_string_value(json_object_get(src, "sha256"));
    const char *c = json_string_value(json_object_get(src, "claim"));
    if (c && s) { /* both, or it never counts */
        snprintf(out, len, "%s", c);
        if (sha)
            snprintf(sha, 65, "%s", s);
    }
    json_decref(o);
}

int dp_resume_is_output(const char *outbox, const char *fname,
                        const char *claim, const char *sha)
{
    char c[128], s[65];
    output_claim(outbox, fname, s, c, sizeof c);
    return c[0] && strcmp(c, claim) == 0 && strcmp(s, sha) == 0;
}

/* The whole outbox is read, since a consumer may have taken some of the
 * numbered outputs away. */
int dp_resume_scan(const char *outbox, const char *name, const char *pname,
                   const char *claim, const char *sha)
{
    char bases[2][NAME_MAX + 1];
    size_t nb = output_bases(name, pname, bases);
    DIR *dir = opendir(outbox);
    if (dir == NULL)
        return 0;
    int found = 0;
    struct dirent *e;
    while (!found && (e = readdir(dir)) != NULL) {
        int ours = 0;
        for (size_t b = 0; b < nb && !ours; b++)
            ours = output_name_of(e->d_name, bases[b]);
        found = ours && dp_resume_is_output(outbox, e->d_name, claim, sha);
    }
    closedir(dir);
    return found;
}

/* ---- the index of a recovery pass ---------------------------------------- */

typedef struct base_ref {
    const char *base;
    size_t doc;
} base_ref;

static int cmp_ref(const void *a, const void *b)
{
    return strcmp(((const base_ref *)a)->base, ((const base_ref *)b)->base);
}

/* The first of refs[0..n) whose base is not below key. */
static size_t lower_bound(const base_ref *refs, size_t n, const char *key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(refs[mid].base, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

typedef struct entry {
    const char *outbox, *fname;
    char claim[128];
    int read; /* claim read (once per entry) */
} entry;

/* Take the entry for ref's document when it is under one of its names and
 * has its claim. */
static void consider(entry *e, const base_ref *ref, dp_resume_doc *docs)
{
    dp_resume_doc *d = &docs[ref->doc];
    if (d->output[0] || !output_name_of(e->fname, ref->base))
        return;
    if (!e->read) {
        output_claim(e->outbox, e->fname, NULL, e->claim, sizeof e->claim);
        e->read = 1;
    }
    if (e->claim[0] && strcmp(e->claim, d->claim) == 0)
        snprintf(d->output, sizeof d->output, "%s", e->fname);
}

/* The documents whose base is `key`. */
static void consider_base(entry *e, const char *key, const base_ref *refs,
                          size_t nr, dp_resume_doc *docs)
{
    for (size_t i = lower_bound(refs, nr, key);
         i < nr && strcmp(refs[i].base, key) == 0; i++)
        consider(e, &refs[i], docs);
}

/* A base longer than this may be shortened in its outputs' names
 * (dp_numbered_name: ".N" up to ".99999" and ".json" must fit): those are
 * not found by their stem, and are checked one by one against the few
 * entries as long as a shortened name. */
#define LONG_BASE (NAME_MAX - 11)

int dp_resume_index(const char *outbox, dp_resume_doc *docs, size_t n)
{
    char (*bases)[2][NAME_MAX + 1] = calloc(n ? n : 1, sizeof *bases);
    base_ref *refs = calloc(2 * n + 1, sizeof *refs);
    base_ref *longs = calloc(2 * n + 1, sizeof *longs);
    size_t nr = 0, nl = 0;
    int rc = 0;
    if (bases == NULL || refs == NULL || longs == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        docs[i].output[0] = 0;
        size_t nb = output_bases(docs[i].name, docs[i].pname, bases[i]);
        for (size_t b = 0; b < nb; b++) {
            base_ref r = {bases[i][b], i};
            refs[nr++] = r;
            if (strlen(r.base) > LONG_BASE)
                longs[nl++] = r;
        }
    }
    qsort(refs, nr, sizeof *refs, cmp_ref);
    DIR *dir = opendir(outbox);
    if (dir == NULL) {
        rc = -errno;
        goto out;
    }
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len <= 5 || strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        entry e = {outbox, de->d_name, "", 0};
        char stem[NAME_MAX + 1];
        snprintf(stem, sizeof stem, "%.*s", (int)(len - 5), de->d_name);
        consider_base(&e, stem, refs, nr, docs);
        /* stem = base.N */
        const char *dot = number_dot(stem);
        if (dot) {
            stem[dot - stem] = 0;
            consider_base(&e, stem, refs, nr, docs);
        }
        /* A shortened name fills NAME_MAX, less a cut UTF-8 character. */
        for (size_t i = 0; len + 3 >= NAME_MAX && i < nl; i++)
            consider(&e, &longs[i], docs);
    }
    closedir(dir);
out:
    free(bases);
    free(refs);
    free(longs);
    return rc;
}
