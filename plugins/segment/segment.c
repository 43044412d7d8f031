/* segment: paragraphs, sentences and tokens.
 *
 * Provides the layers "paragraph", "sentence" (exported as "sentences") and
 * "token" (label: the shape class; exported as "tokens" when the option
 * `tokens` is true). Abbreviations and sentence starters come from
 * abbrev.<language>.txt and starters.<language>.txt beside the plugin,
 * extended by the option `abbreviations`. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <docproc/docproc.h>

#include "segment.h"

/* The per-document work arrays (the token array, the sentence-end flags
 * and the sentence rules' work area),
 * kept for the next document instead of freed: a fresh malloc of a few
 * kilobytes per document, and the first writes into it, were a measurable
 * share of short documents' time. One spare set per instance, taken and
 * given back by atomic exchange (process() runs on several threads at
 * once: a thread that finds none makes its own, and of two given back one
 * is freed); arrays past SCRATCH_KEEP tokens are freed, not kept. */
typedef struct scratch {
    seg_toks toks;
    uint8_t *ends; /* ends_cap flags, then ends_cap bytes of work */
    size_t ends_cap;
} scratch;

#define SCRATCH_KEEP ((size_t)1 << 16)

typedef struct segment {
    seg_lang lang;
    int export_tokens;
    _Atomic(scratch *) spare;
} segment;

static void scratch_free(scratch *sc)
{
    if (sc == NULL)
        return;
    seg_toks_free(&sc->toks);
    free(sc->ends);
    free(sc);
}

/* The instance's spare scratch, or a new empty one; NULL on out of memory. */
static scratch *scratch_take(segment *sg)
{
    scratch *sc = atomic_exchange(&sg->spare, NULL);
    if (sc == NULL)
        return calloc(1, sizeof *sc);
    sc->toks.n = 0;
    return sc;
}

static void scratch_give_back(segment *sg, scratch *sc)
{
    if (sc->toks.cap > SCRATCH_KEEP)
        seg_toks_free(&sc->toks);
    if (sc->ends_cap > SCRATCH_KEEP) {
        free(sc->ends);
        sc->ends = NULL;
        sc->ends_cap = 0;
    }
    scratch_free(atomic_exchange(&sg->spare, sc));
}

static const dp_option segment_options[] = {
    {"tokens", DP_OPT_BOOL, "false",
     "put the token layer in the output as \"tokens\" (label: shape class)"},
    {"language", DP_OPT_STRING, "\"en\"",
     "language of the word lists (abbrev.<language>.txt beside the plugin)"},
    {"abbreviations", DP_OPT_STRING_LIST, "[]",
     "extra abbreviations, e.g. \"approx\", \"Sen. title\", \"Fig num\" "
     "(classes: any, title, inner, num; see docs/segment.md)"},
    {"sentence_starters", DP_OPT_STRING_LIST, "[]",
     "extra words that commonly begin a sentence (after an abbreviation)"},
    {NULL, 0, NULL, NULL}};

static void segment_destroy(void *instance)
{
    segment *sg = instance;
    if (sg == NULL)
        return;
    wordset_free(sg->lang.abbrev);
    wordset_free(sg->lang.starters);
    wordset_free(sg->lang.closings);
    wordset_free(sg->lang.greetings);
    scratch_free(atomic_load(&sg->spare));
    free(sg);
}

static int valid_language(const char *l)
{
    size_t n = strlen(l);
    if (n == 0 || n > 16)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = l[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

static int load_list(wordset *ws, const char *data_dir, const char *what,
                     const char *lang, dp_err *err)
{
    char path[4096], msg[400];
    int w = snprintf(path, sizeof path, "%s/%s.%s.txt",
                     data_dir ? data_dir : ".", what, lang);
    if (w < 0 || (size_t)w >= sizeof path) {
        dp_err_set(err, "data directory path too long");
        return -ENAMETOOLONG;
    }
    int rc = wordset_load(ws, path, msg, sizeof msg);
    if (rc)
        dp_err_set(err, "%s%s", msg,
                   rc == -ENOENT ? " (no word list for this language)" : "");
    return rc;
}

/* A word list a language may lack: absent, it stays empty. */
static int load_optional(wordset *ws, const char *data_dir, const char *what,
                         const char *lang, dp_err *err)
{
    int rc = load_list(ws, data_dir, what, lang, err);
    if (rc == -ENOENT) {
        err->msg[0] = 0;
        return 0;
    }
    return rc;
}

static int add_option_list(wordset *ws, const json_t *list, const char *key,
                           dp_err *err)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        const char *s = json_string_value(v);
        char msg[300];
        if (s == NULL)
            continue;
        int rc = wordset_add_entry(ws, s, strlen(s), msg, sizeof msg);
        if (rc) {
            dp_err_set(err, "%s[%zu]: %s", key, i, msg);
            return rc;
        }
    }
    return 0;
}

static int segment_create(const dp_api *api, const json_t *options,
                          const char *data_dir, void **instance, dp_err *err)
{
    (void)api;
    const char *lang = json_string_value(json_object_get(options, "language"));
    if (lang == NULL)
        lang = "en";
    if (!valid_language(lang)) {
        dp_err_set(err, "language: '%s' is not a language code", lang);
        return -EINVAL;
    }
    segment *sg = calloc(1, sizeof *sg);
    if (sg == NULL)
        return -ENOMEM;
    sg->export_tokens = json_is_true(json_object_get(options, "tokens"));
    sg->lang.abbrev = wordset_new();
    sg->lang.starters = wordset_new();
    sg->lang.closings = wordset_new();
    sg->lang.greetings = wordset_new();
    int rc = -ENOMEM;
    if (sg->lang.abbrev == NULL || sg->lang.starters == NULL ||
        sg->lang.closings == NULL || sg->lang.greetings == NULL) {
        dp_err_set(err, "out of memory");
        goto fail;
    }
    if ((rc = load_list(sg->lang.abbrev, data_dir, "abbrev", lang, err)) ||
        (rc = load_list(sg->lang.starters, data_dir, "starters", lang, err)) ||
        (rc = load_list(sg->lang.closings, data_dir, "closings", lang, err)) ||
        (rc = load_optional(sg->lang.greetings, data_dir, "greetings", lang,
                            err)) ||
        (rc = add_option_list(sg->lang.abbrev,
                              json_object_get(options, "abbreviations"),
                              "abbreviations", err)) ||
        (rc = add_option_list(sg->lang.starters,
                              json_object_get(options, "sentence_starters"),
                              "sentence_starters", err)))
        goto fail;
    *instance = sg;
    return 0;
fail:
    segment_destroy(sg);
    return rc;
}

/* Annotations go to the host in one of three ways, the best it has (and
 * with interface 1.3 the tokens as they are: see add_tokens()):
 * - interface 1.2: written straight into the layer's storage (reserve, then
 *   commit): one store per annotation and no copy; each layer's count is
 *   known before it is written (tokens, sentence ends), so one room each;
 * - 1.1: in batches through annotate_many (one layer look-up and one array
 *   growth per batch instead of per token);
 * - 1.0: one annotate call each.
 * Labels are static strings (the host finds their interned copy by
 * pointer). */
#define BATCH_TOKENS 4096
#define BATCH_SENTENCES 512
#define BATCH_PARAGRAPHS 128

typedef struct batch {
    const dp_api *api;
    dp_doc *doc;
    const char *layer;
    int mode; /* BATCH_ROOM, BATCH_MANY or BATCH_ONE */
    size_t n, cap;
    dp_ann *v;
} batch;

enum { BATCH_ONE, BATCH_MANY, BATCH_ROOM };

static int host_mode(const dp_api *api)
{
    if (DP_HAS_FIELD(api, dp_api, commit) && api->reserve && api->commit)
        return BATCH_ROOM;
    if (DP_HAS_FIELD(api, dp_api, annotate_many) && api->annotate_many)
        return BATCH_MANY;
    return BATCH_ONE;
}

/* With BATCH_ROOM, `total` annotations at most will be added: the room is
 * reserved on the layer at once and `buf` is not used. Otherwise batches of
 * `cap` go through `buf`. */
static int batch_init(batch *b, const dp_api *api, dp_doc *doc, int mode,
                      const char *layer, dp_ann *buf, size_t cap,
                      size_t total)
{
    b->api = api;
    b->doc = doc;
    b->layer = layer;
    b->mode = mode;
    b->n = 0;
    b->cap = cap;
    b->v = buf;
    if (mode == BATCH_ROOM) {
        /* nothing to add: no room, and nothing is ever written */
        b->cap = total;
        b->v = total ? api->reserve(doc, layer, total) : NULL;
        if (total && b->v == NULL)
            return -ENOMEM;
    }
    return 0;
}

static int batch_flush(batch *b)
{
    size_t n = b->n;
    b->n = 0;
    if (n == 0)
        return 0;
    if (b->mode == BATCH_ROOM) {
        /* the room is used once: nothing more goes to this layer */
        b->cap = 0;
        return b->api->commit(b->doc, b->layer, n);
    }
    if (b->mode == BATCH_MANY)
        return b->api->annotate_many(b->doc, b->layer, b->v, n);
    for (size_t i = 0; i < n; i++) {
        int rc = b->api->annotate(b->doc, b->layer, b->v[i].start,
                                  b->v[i].end, b->v[i].label, NULL);
        if (rc)
            return rc;
    }
    return 0;
}

static inline int batch_add(batch *b, size_t start, size_t end,
                            const char *label)
{
    if (b->n == b->cap) {
        /* a room is sized to the layer: never full */
        if (b->mode == BATCH_ROOM)
            return -EOVERFLOW;
        int rc = batch_flush(b);
        if (rc)
            return rc;
    }
    b->v[b->n++] = (dp_ann){start, end, label, NULL};
    return 0;
}

/* The token layer. A 1.3 host takes the token array as it is (a token is
 * a dp_span whose label is its shape) and writes the layer's records
 * itself: no copy here and no second pass there. Otherwise a tight copy
 * loop per batch (the whole layer at once into a room), no test per
 * token. No tokens, no layer. */
static int add_tokens(const dp_api *api, dp_doc *doc, int mode,
                      const seg_toks *toks, dp_ann *buf)
{
    if (toks->n == 0)
        return 0;
    if (DP_HAS_FIELD(api, dp_api, add_spans) && api->add_spans)
        return api->add_spans(doc, "token", &toks->v[0].span, toks->n,
                              seg_shape_names, SH_COUNT);
    batch tb;
    int rc = batch_init(&tb, api, doc, mode, "token", buf, BATCH_TOKENS,
                        toks->n);
    for (size_t k0 = 0, m = 0; k0 < toks->n && rc == 0; k0 += m) {
        m = toks->n - k0 < tb.cap ? toks->n - k0 : tb.cap;
        const seg_tok *tv = toks->v + k0;
        dp_ann *out = tb.v;
        for (size_t i = 0; i < m; i++)
            out[i] = (dp_ann){tv[i].start, tv[i].start + tv[i].len,
                              seg_shape_names[tv[i].shape], NULL};
        tb.n = m;
        rc = batch_flush(&tb);
    }
    return rc;
}

/* The number of sentence ends. The flags are bytes of 0 or 1, so one
 * multiply sums eight of them (no carry: each partial sum is at most 8):
 * no branch a sentence, where stepping from flag to flag mispredicted
 * about once a sentence. */
static size_t count_ends(const uint8_t *ends, size_t n)
{
    size_t c = 0, k = 0;
    for (; k + 8 <= n; k += 8) {
        uint64_t w;
        memcpy(&w, ends + k, 8);
        c += (size_t)((w * 0x0101010101010101ull) >> 56);
    }
    for (; k < n; k++)
        c += ends[k];
    return c;
}

static int segment_process(void *instance, dp_doc *doc, dp_err *err)
{
    segment *sg = instance;
    const dp_api *api = dp_doc_api(doc);
    size_t len;
    const char *text = dp_doc_text(doc, &len);
    if (text == NULL) {
        dp_err_set(err, "no text (the document was not decoded)");
        return -EINVAL;
    }
    scratch *sc = scratch_take(sg);
    if (sc == NULL) {
        dp_err_set(err, "out of memory");
        return -ENOMEM;
    }
    int rc = seg_tokenize(&sg->lang, text, len, &sc->toks);
    seg_toks toks = sc->toks; /* the arrays, now filled */
    /* the sentence-end flags, then the rules' work area (a byte a token) */
    uint8_t *ends = sc->ends;
    if (rc == 0 && toks.n > sc->ends_cap) {
        free(sc->ends);
        sc->ends_cap = 0;
        if ((sc->ends = ends = malloc(toks.n * 2)) != NULL)
            sc->ends_cap = toks.n;
    }
    if (rc == 0 && toks.n > 0 &&
        (ends == NULL || seg_sentences_in(&sg->lang, text, len, &toks, ends,
                                          ends + toks.n)))
        rc = -ENOMEM;
    if (rc) {
        dp_err_set(err, "out of memory");
        goto out;
    }
    /* does the text use blank lines between paragraphs? */
    int blank_lines = toks.blank_lines;
    int mode = host_mode(api);
    /* sentences, and paragraphs at most as many: the rooms' sizes */
    size_t n_sent = mode == BATCH_ROOM ? count_ends(ends, toks.n) : 0;
    /* one buffer for the three batches, on the heap (worker stacks); none
     * when the host takes the annotations in place */
    dp_ann *buf = NULL;
    if (mode != BATCH_ROOM &&
        (buf = malloc((BATCH_TOKENS + BATCH_SENTENCES + BATCH_PARAGRAPHS) *
                      sizeof *buf)) == NULL) {
        rc = -ENOMEM;
        dp_err_set(err, "out of memory");
        goto out;
    }
    if ((rc = add_tokens(api, doc, mode, &toks, buf)) != 0) {
        free(buf);
        dp_err_set(err, "cannot annotate: %s", strerror(-rc));
        goto out;
    }
    batch sb, pb;
    if ((rc = batch_init(&sb, api, doc, mode, "sentence",
                         buf ? buf + BATCH_TOKENS : NULL, BATCH_SENTENCES,
                         n_sent)) ||
        (rc = batch_init(&pb, api, doc, mode, "paragraph",
                         buf ? buf + BATCH_TOKENS + BATCH_SENTENCES : NULL,
                         BATCH_PARAGRAPHS, n_sent))) {
        free(buf);
        dp_err_set(err, "out of memory");
        goto out;
    }
    /* sentences and paragraphs: from one sentence end to the next */
    size_t sstart = 0, pstart = 0;
    for (size_t k = seg_next_flag(ends, 0, toks.n); k < toks.n && rc == 0;
         k = seg_next_flag(ends, k + 1, toks.n)) {
        const seg_tok *t = &toks.v[k];
        const seg_tok *f = &toks.v[sstart];
        size_t s_end = t->start + t->len;
        rc = batch_add(&sb, f->start, s_end, NULL);
        /* paragraph break after this sentence? */
        int pbreak = k + 1 >= toks.n;
        if (!pbreak) {
            uint8_t g = toks.v[k + 1].gap;
            if (g == GAP_PARA)
                pbreak = 1;
            else if (g == GAP_NL) {
                /* without blank lines each line is a paragraph; with them,
                 * a single line of its own (a heading) is one */
                int own_line = f->gap >= GAP_NL || sstart == 0;
                int unpunct = t->kind != TK_TERM && t->kind != TK_ELLIPSIS;
                pbreak = !blank_lines || (own_line && unpunct);
            }
        }
        if (rc == 0 && pbreak) {
            rc = batch_add(&pb, toks.v[pstart].start, s_end, NULL);
            pstart = k + 1;
        }
        sstart = k + 1;
    }
    if (rc == 0)
        rc = batch_flush(&sb);
    if (rc == 0)
        rc = batch_flush(&pb);
    free(buf);
    if (rc) {
        dp_err_set(err, "cannot annotate: %s", strerror(-rc));
        goto out;
    }
    rc = api->export_layer(doc, "sentence", "sentences", DP_EXPORT_SRC);
    if (rc == 0 && sg->export_tokens)
        rc = api->export_layer(doc, "token", "tokens", DP_EXPORT_SRC);
    if (rc)
        dp_err_set(err, "cannot export layers: %s", strerror(-rc));
out:
    scratch_give_back(sg, sc);
    return rc;
}

static const char *const segment_provides[] = {"paragraph", "sentence", "token",
                                               NULL};

static const dp_stage segment_stage = {
    .abi_major = DP_ABI_MAJOR,
    /* runs on 1.1 hosts too (annotate_many); uses reserve/commit (1.2) and
     * add_spans (1.3) where the host has them */
    .abi_minor = 1,
    .struct_size = sizeof(dp_stage),
    .name = "segment",
    .version = "1.1.0",
    .description = "paragraphs, sentences and Penn-Treebank-like tokens",
    .provides = segment_provides,
    .requires = NULL,
    .options = segment_options,
    .create = segment_create,
    .process = segment_process,
    .destroy = segment_destroy,
};

DP_STAGE_EXPORT_SINCE(segment_stage, 1)
