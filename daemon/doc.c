/* Document model behind the dp_api table. */
#include "doc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

typedef struct dp_layer {
    char *name;
    dp_ann *anns;
    size_t n, cap;
    size_t room; /* reserved past n by reserve(), not counted until commit */
    int sorted;
} dp_layer;

/* One replacement of the text: maps text_k onto text_{k-1} (or the raw
 * bytes for the first). */
typedef struct dp_align_map {
    dp_align *segs;
    size_t n;
} dp_align_map;

struct dp_doc {
    struct dp_doc_head head; /* must stay first: stages read the api here */
    char *name;
    json_t *id;
    unsigned char *raw;
    size_t raw_len;
    char *text; /* NULL until decoded */
    size_t text_len;
    size_t text_cap; /* bytes of the text's buffer (text_fits) */
    char encoding[32];
    char claim[64]; /* the daemon's claim of it (output "source.claim") */

    dp_align_map *maps;
    size_t n_maps;

    /* both arrays grow by doubling: a stage adds its layers and labels one
     * by one to every document */
    dp_layer *layers;
    size_t n_layers, cap_layers;

    char **labels; /* interned annotation labels */
    size_t n_labels, cap_labels;
    /* Recent callers' label pointers and their interned copies: stages
     * pass the same static strings again and again. */
    struct {
        const char *caller;
        const char *interned;
    } label_cache[8];
    unsigned label_next;

    dp_doc_export *exports;
    size_t n_exports;

    json_t *outputs;

    dp_doc_stage_rec *recs;
    size_t n_recs;
};

/* ------------------------------------------------------------------------ */

size_t dp_utf8_valid_prefix(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        /* Fast path: eight ASCII bytes at a time. */
        while (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ULL)
                break;
            i += 8;
        }
        if (i >= len)
            break;
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned min;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            min = 0x10000;
        } else {
            return i;
        }
        unsigned cp = c & (0x3F >> n);
        for (size_t k = 1; k <= n; k++) {
            if (i + k >= len || (s[i + k] & 0xC0) != 0x80)
                return i;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return i;
        i += n + 1;
    }
    return len;
}

void dp_utf8_sanitize(const char *in, char *out, size_t out_len)
{
    size_t n = strlen(in), i = 0;
    if (out_len == 0)
        return;
    if (n >= out_len)
        n = out_len - 1;
    memmove(out, in, n);
    out[n] = 0;
    while (i < n) {
        i += dp_utf8_valid_prefix((unsigned char *)out + i, n - i);
        if (i < n)
            out[i++] = '?';
    }
}

/* ------------------------------------------------------------------------ */

static void layers_clear(dp_doc *doc)
{
    for (size_t i = 0; i < doc->n_layers; i++) {
        dp_layer *l = &doc->layers[i];
        for (size_t k = 0; k < l->n; k++)
            json_decref(l->anns[k].attrs);
        free(l->anns);
        free(l->name);
    }
    free(doc->layers);
    doc->layers = NULL;
    doc->n_layers = doc->cap_layers = 0;
}

dp_doc *dp_doc_new(const char *name, json_t *id, const void *raw,
                   size_t raw_len)
{
    unsigned char *copy = malloc(raw_len + 1);
    if (copy == NULL)
        return NULL;
    if (raw_len)
        memcpy(copy, raw, raw_len);
    return dp_doc_adopt(name, id, copy, raw_len);
}

dp_doc *dp_doc_adopt(const char *name, json_t *id, unsigned char *raw,
                     size_t raw_len)
{
    dp_doc *doc = calloc(1, sizeof *doc);
    if (doc == NULL) {
        free(raw);
        return NULL;
    }
    doc->head.api = &dp_host_api;
    doc->raw = raw;
    raw[raw_len] = 0;
    doc->raw_len = raw_len;
    doc->name = strdup(name ? name : "");
    /* File names are bytes; the output is UTF-8. */
    if (doc->name)
        dp_utf8_sanitize(doc->name, doc->name, strlen(doc->name) + 1);
    doc->outputs = json_object();
    if (doc->name == NULL || doc->outputs == NULL) {
        dp_doc_free(doc);
        return NULL;
    }
    doc->id = id ? json_incref(id) : NULL;
    return doc;
}

void dp_doc_free(dp_doc *doc)
{
    if (doc == NULL)
        return;
    layers_clear(doc);
    for (size_t i = 0; i < doc->n_maps; i++)
        free(doc->maps[i].segs);
    free(doc->maps);
    for (size_t i = 0; i < doc->n_labels; i++)
        free(doc->labels[i]);
    free(doc->labels);
    for (size_t i = 0; i < doc->n_exports; i++) {
        free((char *)doc->exports[i].layer);
        free((char *)doc->exports[i].key);
    }
    free(doc->exports);
    json_decref(doc->outputs);
    json_decref(doc->id);
    free(doc->recs);
    free(doc->text);
    free(doc->raw);
    free(doc->name);
    free(doc);
}

int dp_doc_decode_utf8(dp_doc *doc, dp_err *err)
{
    const unsigned char *nul = memchr(doc->raw, 0, doc->raw_len);
    if (nul != NULL) {
        dp_err_set(err, "binary input: NUL byte at offset %zu",
                   (size_t)(nul - doc->raw));
        return -EILSEQ;
    }
    size_t ok = dp_utf8_valid_prefix(doc->raw, doc->raw_len);
    if (ok != doc->raw_len) {
        dp_err_set(err,
                   "invalid UTF-8 at byte offset %zu (add the 'clean' stage "
                   "to decode other encodings)",
                   ok);
        return -EILSEQ;
    }
    size_t skip = 0;
    if (doc->raw_len >= 3 && memcmp(doc->raw, "\xEF\xBB\xBF", 3) == 0)
        skip = 3; /* a BOM is not text */
    dp_align a = {0, doc->raw_len - skip, skip, doc->raw_len};
    int rc = dp_host_api.set_text(doc, (const char *)doc->raw + skip,
                                  doc->raw_len - skip, &a, 1);
    if (rc != 0) {
        dp_err_set(err, "out of memory");
        return rc;
    }
    strcpy(doc->encoding, "utf-8");
    return 0;
}

int dp_doc_has_text(const dp_doc *doc) { return doc->text != NULL; }
const char *dp_doc_get_name(const dp_doc *doc) { return doc->name; }
json_t *dp_doc_get_id(const dp_doc *doc) { return doc->id; }
const char *dp_doc_encoding(const dp_doc *doc)
{
    return doc->encoding[0] ? doc->encoding : NULL;
}

void dp_doc_set_claim(dp_doc *doc, const char *claim)
{
    snprintf(doc->claim, sizeof doc->claim, "%s", claim);
}

const char *dp_doc_claim(const dp_doc *doc)
{
    return doc->claim[0] ? doc->claim : NULL;
}
json_t *dp_doc_outputs(const dp_doc *doc) { return doc->outputs; }
size_t dp_doc_n_exports(const dp_doc *doc) { return doc->n_exports; }
const dp_doc_export *dp_doc_get_export(const dp_doc *doc, size_t i)
{
    return i < doc->n_exports ? &doc->exports[i] : NULL;
}
size_t dp_doc_n_stage_recs(const dp_doc *doc) { return doc->n_recs; }
const dp_doc_stage_rec *dp_doc_get_stage_rec(const dp_doc *doc, size_t i)
{
    return i < doc->n_recs ? &doc->recs[i] : NULL;
}

int dp_doc_add_stage_rec(dp_doc *doc, const char *name, const char *version,
                         double ms)
{
    dp_doc_stage_rec *r =
        realloc(doc->recs, (doc->n_recs + 1) * sizeof *doc->recs);
    if (r == NULL)
        return -ENOMEM;
    doc->recs = r;
    r[doc->n_recs++] = (dp_doc_stage_rec){name, version, ms};
    return 0;
}

int dp_doc_text_replaced(const dp_doc *doc)
{
    if (doc->n_maps != 1)
        return doc->n_maps > 1;
    /* A plain UTF-8 decode (maybe minus a BOM) is not a replacement. */
    const dp_align_map *m = &doc->maps[0];
    return !(m->n == 1 && m->segs[0].old_start == 0 &&
             m->segs[0].new_end - m->segs[0].new_start ==
                 m->segs[0].old_end - m->segs[0].old_start);
}

/* Find the piece of `m` covering byte `pos` of its new text. */
static const dp_align *map_find(const dp_align_map *m, size_t pos)
{
    size_t lo = 0, hi = m->n;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (m->segs[mid].new_start <= pos)
            lo = mid;
        else
            hi = mid;
    }
    return &m->segs[lo];
}

static void map_span(const dp_align_map *m, size_t *s, size_t *e)
{
    if (m->n == 0) {
        *s = *e = 0;
        return;
    }
    size_t start = *s, end = *e;
    const dp_align *a = map_find(m, start);
    size_t same = (a->new_end - a->new_start) == (a->old_end - a->old_start);
    size_t ns;
    if (start >= a->new_end)
        ns = a->old_end;
    else
        ns = same ? a->old_start + (start - a->new_start) : a->old_start;
    size_t ne;
    if (end <= start) {
        ne = ns;
    } else {
        const dp_align *b = map_find(m, end - 1);
        size_t sameb =
            (b->new_end - b->new_start) == (b->old_end - b->old_start);
        if (end - 1 >= b->new_end)
            ne = b->old_end;
        else
            ne = sameb ? b->old_start + (end - b->new_start) : b->old_end;
    }
    *s = ns;
    *e = ne < ns ? ns : ne;
}

void dp_doc_src_span(const dp_doc *doc, size_t start, size_t end,
                     size_t *src_start, size_t *src_end)
{
    for (size_t k = doc->n_maps; k-- > 0;)
        map_span(&doc->maps[k], &start, &end);
    *src_start = start;
    *src_end = end;
}

/* ------------------------------------------------------------------------ */
/* The dp_api functions                                                      */

static const char *api_text(const dp_doc *doc, size_t *len)
{
    if (len)
        *len = doc->text ? doc->text_len : 0;
    return doc->text;
}

static const unsigned char *api_raw(const dp_doc *doc, size_t *len)
{
    if (len)
        *len = doc->raw_len;
    return doc->raw;
}

static const char *api_name(const dp_doc *doc) { return doc->name; }

/* Whether a new text of len bytes goes into the current text's buffer:
 * a cleaning pass replaces a text with one of about its size, and writing
 * it over the old one touches no new memory (a fresh copy of a 100 MB
 * text is 25 k page faults). Not when it would leave more than half of
 * the buffer unused. */
static int text_fits(const dp_doc *doc, size_t len)
{
    return doc->text != NULL && len < doc->text_cap &&
           len + 1 >= doc->text_cap / 2;
}

static int api_set_text(dp_doc *doc, const char *text, size_t len,
                        const dp_align *align, size_t n_align)
{
    if (text == NULL && len > 0)
        return -EINVAL;
    if (len && dp_utf8_valid_prefix((const unsigned char *)text, len) != len)
        return -EILSEQ;
    size_t old_len = doc->text ? doc->text_len : doc->raw_len;
    for (size_t i = 0; i < n_align; i++) {
        const dp_align *a = &align[i];
        if (a->new_start > a->new_end || a->new_end > len ||
            a->old_start > a->old_end || a->old_end > old_len ||
            (i > 0 && a->new_start < align[i - 1].new_end))
            return -EINVAL;
    }
    int reuse = text_fits(doc, len);
    char *copy = reuse ? doc->text : malloc(len + 1);
    dp_align_map *maps =
        realloc(doc->maps, (doc->n_maps + 1) * sizeof *doc->maps);
    if (maps)
        doc->maps = maps;
    size_t nseg = n_align ? n_align : 1;
    dp_align *segs = malloc(nseg * sizeof *segs);
    if (copy == NULL || maps == NULL || segs == NULL) {
        if (!reuse)
            free(copy);
        free(segs);
        return -ENOMEM;
    }
    /* memmove: a stage may pass a piece of the current text */
    if (len)
        memmove(copy, text, len);
    copy[len] = 0;
    if (n_align)
        memcpy(segs, align, n_align * sizeof *segs);
    else
        segs[0] = (dp_align){0, len, 0, old_len};
    doc->maps[doc->n_maps++] = (dp_align_map){segs, nseg};
    if (!reuse) {
        free(doc->text);
        doc->text = copy;
        doc->text_cap = len + 1;
    }
    doc->text_len = len;
    layers_clear(doc);
    return 0;
}

static int api_set_encoding(dp_doc *doc, const char *encoding)
{
    if (encoding == NULL || strlen(encoding) >= sizeof doc->encoding)
        return -EINVAL;
    strcpy(doc->encoding, encoding);
    return 0;
}

static const char *intern_label(dp_doc *doc, const char *label)
{
    /* A caller's buffer may be reused with other text: a cache hit is
     * confirmed by one comparison, cheaper than the search. */
    for (size_t i = 0; i < 8; i++)
        if (doc->label_cache[i].caller == label &&
            strcmp(doc->label_cache[i].interned, label) == 0)
            return doc->label_cache[i].interned;
    const char *found = NULL;
    for (size_t i = 0; i < doc->n_labels && !found; i++)
        if (strcmp(doc->labels[i], label) == 0)
            found = doc->labels[i];
    if (found) {
        unsigned k = doc->label_next++ % 8;
        doc->label_cache[k].caller = label;
        doc->label_cache[k].interned = found;
        return found;
    }
    if (doc->n_labels == doc->cap_labels) {
        size_t cap = doc->cap_labels ? doc->cap_labels * 2 : 8;
        char **l = realloc(doc->labels, cap * sizeof *l);
        if (l == NULL)
            return NULL;
        doc->labels = l;
        doc->cap_labels = cap;
    }
    char *copy = strdup(label);
    if (copy == NULL)
        return NULL;
    doc->labels[doc->n_labels++] = copy;
    return copy;
}

static dp_layer *find_layer(const dp_doc *doc, const char *name)
{
    for (size_t i = 0; i < doc->n_layers; i++)
        if (strcmp(doc->layers[i].name, name) == 0)
            return &doc->layers[i];
    return NULL;
}

/* The layer named `name`, created when absent, with room for `more`
 * annotations; NULL on out of memory. */
static dp_layer *layer_with_room(dp_doc *doc, const char *name, size_t more)
{
    dp_layer *l = find_layer(doc, name);
    if (l == NULL) {
        if (doc->n_layers == doc->cap_layers) {
            size_t cap = doc->cap_layers ? doc->cap_layers * 2 : 4;
            dp_layer *ls = realloc(doc->layers, cap * sizeof *ls);
            if (ls == NULL)
                return NULL;
            doc->layers = ls;
            doc->cap_layers = cap;
        }
        l = &doc->layers[doc->n_layers];
        *l = (dp_layer){.sorted = 1};
        if ((l->name = strdup(name)) == NULL)
            return NULL;
        doc->n_layers++;
    }
    if (l->cap - l->n < more) {
        size_t cap = l->cap ? l->cap : 64;
        while (cap - l->n < more)
            cap *= 2;
        dp_ann *a = realloc(l->anns, cap * sizeof *a);
        if (a == NULL)
            return NULL;
        l->anns = a;
        l->cap = cap;
    }
    return l;
}

static int api_annotate(dp_doc *doc, const char *layer, size_t start,
                        size_t end, const char *label, json_t *attrs)
{
    dp_ann one = {start, end, label, attrs};
    return dp_host_api.annotate_many(doc, layer, &one, 1);
}

/* Labels met within one annotate_many or commit call, keyed by the
 * caller's pointer: a batch repeats a few label pointers thousands of times
 * (segment: the token shapes), and while the caller's strings cannot change
 * under the call, the same pointer is the same label, found with one load
 * and one comparison instead of a scan. Direct-mapped: a collision only
 * costs an intern_label call. */
#define SEEN_SLOTS 16
typedef struct label_seen {
    const char *in[SEEN_SLOTS], *out[SEEN_SLOTS];
} label_seen;

static inline unsigned seen_slot(const char *p)
{
    /* Fibonacci hashing: the top bits of the product mix every bit of
     * the pointer, so neighbouring static strings land apart. */
    return (unsigned)(((uintptr_t)p * (uintptr_t)0x9E3779B97F4A7C15ULL) >>
                      (sizeof(uintptr_t) * 8 - 4));
}

/* A label missing from the table: interned and put in its slot. Out of
 * line, so that the loop of layer_take keeps its registers. NULL stays NULL
 * (slot 0 may hold another label). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int seen_miss(dp_doc *doc, label_seen *s, const char *in,
                     const char **out)
{
    const char *lab = NULL;
    if (in != NULL && (lab = intern_label(doc, in)) == NULL)
        return -ENOMEM;
    unsigned k = seen_slot(in);
    s->in[k] = in;
    s->out[k] = lab;
    *out = lab;
    return 0;
}

/* A layer's order as annotations are added to it: the last span, and
 * whether all are sorted so far. */
typedef struct order {
    size_t start, end;
    int sorted;
} order;

static inline order order_of(const dp_layer *l)
{
    order o = {0, 0, l->sorted};
    if (l->n > 0) {
        o.start = l->anns[l->n - 1].start;
        o.end = l->anns[l->n - 1].end;
    }
    return o;
}

/* Unsorted when this one starts before the one before it, or at the same
 * place and ends before it (the first of an empty layer compares with
 * (0, 0), which never fails). */
static inline void order_note(order *o, size_t st, size_t en)
{
    if (o->start > st || (o->start == st && o->end > en))
        o->sorted = 0;
    o->start = st;
    o->end = en;
}

/* n annotations at l->anns[l->n] passed the checks: they count now. */
static inline void layer_grow(dp_layer *l, const order *o, size_t n)
{
    l->sorted = o->sorted;
    l->n += n;
}

/* The one pass of annotate_many and commit over n annotations already in
 * place at l->anns[l->n]: checks every span and attrs, interns the labels
 * and notes the order. Adds them (l->n grows) only when all pass, so that a
 * failure adds nothing. */
static int layer_take(dp_doc *doc, dp_layer *l, size_t n)
{
    dp_ann *a = l->anns + l->n, *end = a + n;
    size_t len = doc->text_len;
    /* all slots empty: NULL then finds NULL, the label "none", in any */
    label_seen seen = {{0}, {0}};
    order o = order_of(l);
    for (; a < end; a++) {
        size_t st = a->start, en = a->end;
        if (st > en || en > len || (a->attrs && !json_is_object(a->attrs)))
            return -EINVAL;
        const char *in = a->label;
        unsigned k = seen_slot(in);
        if (seen.in[k] == in)
            a->label = seen.out[k];
        else if (seen_miss(doc, &seen, in, &a->label))
            return -ENOMEM;
        order_note(&o, st, en);
    }
    layer_grow(l, &o, n);
    return 0;
}

/* After a refused call: the layer it made (when the layers are more than
 * n_layers) is dropped, so that a refused call leaves none. */
static void drop_new_layer(dp_doc *doc, size_t n_layers)
{
    if (doc->n_layers > n_layers) {
        dp_layer *l = &doc->layers[--doc->n_layers];
        free(l->anns);
        free(l->name);
    }
}

static int api_annotate_many(dp_doc *doc, const char *layer,
                             const dp_ann *anns, size_t n)
{
    int rc = -EINVAL;
    size_t i;
    if (layer == NULL || doc->text == NULL || (n > 0 && anns == NULL))
        goto fail;
    rc = -ENOMEM;
    size_t n_layers = doc->n_layers;
    dp_layer *l = layer_with_room(doc, layer, n);
    if (l == NULL)
        goto fail;
    /* any addition releases a room reserved on the layer: it is
     * overwritten here */
    l->room = 0;
    /* Copied past l->n, which counts them only once all pass. */
    if (n)
        memcpy(l->anns + l->n, anns, n * sizeof *anns);
    rc = layer_take(doc, l, n);
    if (rc) {
        drop_new_layer(doc, n_layers);
        goto fail;
    }
    return 0;
fail:
    for (i = 0; i < n && anns; i++)
        json_decref(anns[i].attrs);
    return rc;
}

static dp_ann *api_reserve(dp_doc *doc, const char *layer, size_t n)
{
    if (layer == NULL || doc->text == NULL)
        return NULL;
    /* room for one at least, so that success is never NULL */
    dp_layer *l = layer_with_room(doc, layer, n ? n : 1);
    if (l == NULL)
        return NULL;
    l->room = n;
    return l->anns + l->n;
}

static int api_commit(dp_doc *doc, const char *layer, size_t n)
{
    dp_layer *l = layer && doc->text ? find_layer(doc, layer) : NULL;
    if (l == NULL)
        return -EINVAL; /* no room: nothing of the stage's is known here */
    size_t room = l->room;
    l->room = 0; /* released whatever happens */
    /* past the room: refused, and only the room's entries exist */
    int rc = n > room ? -EINVAL : layer_take(doc, l, n);
    if (rc) {
        /* the host owns what was committed, accepted or not */
        for (size_t i = 0; i < n && i < room; i++)
            json_decref(l->anns[l->n + i].attrs);
    }
    return rc;
}

/* The one pass of add_spans: n compact records written as the layer's
 * own at l->anns[l->n] (room made by the caller), each span and label
 * index checked, the order noted; the labels (lab: interned, n_labels
 * of them) by index. Adds them only when all pass. */
static int spans_take(dp_doc *doc, dp_layer *l, const dp_span *sp, size_t n,
                      const char *const *lab, size_t n_labels)
{
    dp_ann *a = l->anns + l->n;
    size_t len = doc->text_len;
    order o = order_of(l);
    for (const dp_span *p = sp, *e = sp + n; p < e; p++, a++) {
        size_t st = p->start, ln = p->len;
        unsigned li = p->label;
        /* in that order, so that no sum can wrap */
        if (st > len || ln > len - st || li >= n_labels)
            return -EINVAL;
        size_t en = st + ln;
        *a = (dp_ann){st, en, lab[li], NULL};
        order_note(&o, st, en);
    }
    layer_grow(l, &o, n);
    return 0;
}

static int api_add_spans(dp_doc *doc, const char *layer, const dp_span *spans,
                         size_t n, const char *const *labels, size_t n_labels)
{
    if (layer == NULL || doc->text == NULL || (n > 0 && spans == NULL) ||
        n_labels > 256 || (n_labels > 0 && labels == NULL))
        return -EINVAL;
    /* the labels interned once for the call, not once per record */
    const char *lab[256];
    for (size_t i = 0; i < n_labels; i++) {
        lab[i] = NULL; /* a NULL entry: no label */
        if (labels[i] && (lab[i] = intern_label(doc, labels[i])) == NULL)
            return -ENOMEM;
    }
    size_t n_layers = doc->n_layers;
    dp_layer *l = layer_with_room(doc, layer, n);
    if (l == NULL)
        return -ENOMEM;
    l->room = 0; /* written over here */
    int rc = spans_take(doc, l, spans, n, lab, n_labels);
    if (rc)
        drop_new_layer(doc, n_layers);
    return rc;
}

static int ann_cmp(const void *a, const void *b)
{
    const dp_ann *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return 0;
}

static const dp_ann *api_layer(dp_doc *doc, const char *layer, size_t *n)
{
    dp_layer *l = find_layer(doc, layer);
    if (l == NULL || l->n == 0) {
        if (n)
            *n = 0;
        return NULL;
    }
    if (!l->sorted) {
        /* Stable enough: equal spans keep no particular order. */
        qsort(l->anns, l->n, sizeof *l->anns, ann_cmp);
        l->sorted = 1;
    }
    if (n)
        *n = l->n;
    return l->anns;
}

static const char *const reserved_keys[] = {
    "docproc", "id", "source", "text", "stages", "error", NULL};

static int key_taken(const dp_doc *doc, const char *key)
{
    for (size_t i = 0; reserved_keys[i]; i++)
        if (strcmp(key, reserved_keys[i]) == 0)
            return 1;
    for (size_t i = 0; i < doc->n_exports; i++)
        if (strcmp(doc->exports[i].key, key) == 0)
            return 1;
    return 0;
}

static int api_export_layer(dp_doc *doc, const char *layer, const char *key,
                            unsigned flags)
{
    if (layer == NULL || key == NULL)
        return -EINVAL;
    for (size_t i = 0; i < doc->n_exports; i++) {
        if (strcmp(doc->exports[i].key, key) == 0) {
            if (strcmp(doc->exports[i].layer, layer) != 0)
                return -EINVAL;
            doc->exports[i].flags = flags;
            return 0;
        }
    }
    if (key_taken(doc, key) || json_object_get(doc->outputs, key))
        return -EINVAL;
    dp_doc_export *e =
        realloc(doc->exports, (doc->n_exports + 1) * sizeof *e);
    if (e == NULL)
        return -ENOMEM;
    doc->exports = e;
    char *l = strdup(layer), *k = strdup(key);
    if (l == NULL || k == NULL) {
        free(l);
        free(k);
        return -ENOMEM;
    }
    e[doc->n_exports++] = (dp_doc_export){l, k, flags};
    return 0;
}

static int api_set_output(dp_doc *doc, const char *key, json_t *value)
{
    if (key == NULL || value == NULL || key_taken(doc, key)) {
        json_decref(value);
        return -EINVAL;
    }
    return json_object_set_new(doc->outputs, key, value) == 0 ? 0 : -ENOMEM;
}

static json_t *api_get_output(dp_doc *doc, const char *key)
{
    return json_object_get(doc->outputs, key);
}

const dp_api dp_host_api = {
    .struct_size = sizeof(dp_api),
    .text = api_text,
    .raw = api_raw,
    .name = api_name,
    .set_text = api_set_text,
    .set_encoding = api_set_encoding,
    .annotate = api_annotate,
    .layer = api_layer,
    .export_layer = api_export_layer,
    .set_output = api_set_output,
    .get_output = api_get_output,
    .log = dp_log_stage,
    .annotate_many = api_annotate_many,
    .reserve = api_reserve,
    .commit = api_commit,
    .add_spans = api_add_spans,
};
