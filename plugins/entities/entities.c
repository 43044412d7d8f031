/* entities: named entities (a hashed-feature averaged perceptron with
 * Viterbi over BIO tags), numbers and time (rules), gazetteers and mention
 * linking. Requires "sentence" and "token" (segment); provides "entity". */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <docproc/docproc.h>

#include "rules.h"

#define MAX_SENT_TOKENS 400 /* longer runs are tagged in pieces */
/* A document of up to this many tokens keeps them all prepared (about 150
 * bytes each, 10 MB at most) from the context pass to the tagging pass; a
 * longer one prepares each sentence again, so that memory stays bounded. */
#define KEEP_TOKENS 65536
/* the word cache pays off on longer documents only */
#define CACHE_MIN_TOKENS 1000

static const dp_option ent_options[] = {
    {"model", DP_OPT_STRING, NULL,
     "model file made by docproc-train (default: model.bin beside the plugin)"},
    {"gazetteers", DP_OPT_STRING_LIST, "[]",
     "extra gazetteer files, lines NAME<TAB>CLASS; a class that is an entity "
     "label (PERSON, ORG, PRODUCT...) tags the name where the model found nothing"},
    {"recall_bias", DP_OPT_NUMBER, "6",
     "taken from the score of 'no entity' at each token: higher finds more "
     "names, less precisely (0 = the model as trained)"},
    {"numbers", DP_OPT_BOOL, "true",
     "tag DATE, TIME, MONEY, PERCENT, QUANTITY, CARDINAL, ORDINAL by rules"},
    {"link", DP_OPT_BOOL, "true",
     "link repeats and short forms of names to their first full mention"},
    {"gazetteer_tagging", DP_OPT_BOOL, "true",
     "tag countries, nationalities and languages from the gazetteer where the "
     "model found nothing"},
    {NULL, 0, NULL, NULL}};

static const char *map_model_label(const char *l)
{
    static const char *const known[] = {
        "PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT",
        "WORK_OF_ART", "LAW", "LANGUAGE", "DATE", "TIME", "PERCENT", "MONEY",
        "QUANTITY", "ORDINAL", "CARDINAL", "MISC", NULL};
    if (strcmp(l, "PER") == 0)
        return "PERSON";
    for (const char *const *p = known; *p; p++)
        if (strcmp(*p, l) == 0)
            return *p;
    return NULL; /* model-specific: the model's own string */
}

static void ent_destroy(void *instance)
{
    entities *e = instance;
    if (e == NULL)
        return;
    ner_model_free(&e->model);
    gaz_free(&e->gaz);
    gaz_free(&e->heads);
    free(e);
}

static int ent_create(const dp_api *api, const json_t *options,
                      const char *data_dir, void **instance, dp_err *err)
{
    (void)api;
    entities *e = calloc(1, sizeof *e);
    if (e == NULL)
        return -ENOMEM;
    char path[PATH_MAX], msg[512];
    int rc;
    const char *model = json_string_value(json_object_get(options, "model"));
    if (model == NULL) {
        snprintf(path, sizeof path, "%s/model.bin", data_dir ? data_dir : ".");
        model = path;
    }
    if ((rc = ner_model_load(&e->model, model, msg, sizeof msg)) != 0) {
        dp_err_set(err, "%s", msg);
        ent_destroy(e);
        return rc;
    }
    e->model.o_penalty = (float)json_number_value(json_object_get(options, "recall_bias"));
    if (e->model.o_penalty < 0 || e->model.o_penalty > 1000) {
        dp_err_set(err, "recall_bias must be between 0 and 1000");
        ent_destroy(e);
        return -EINVAL;
    }
    for (unsigned l = 0; l < e->model.n_labels; l++) {
        const char *m = map_model_label(e->model.labels[l]);
        e->label_map[l] = m ? m : e->model.labels[l];
    }
    gaz_init(&e->gaz);
    gaz_init(&e->heads);
    snprintf(path, sizeof path, "%s/heads.tsv", data_dir ? data_dir : ".");
    if ((rc = gaz_load(&e->heads, path, msg, sizeof msg)) != 0) {
        dp_err_set(err, "%s", msg);
        ent_destroy(e);
        return rc;
    }
    e->fac_class = -1;
    for (int c = GZ_USER_FIRST; c < e->heads.n_classes; c++)
        if (strcmp(e->heads.class_names[c], "FAC") == 0)
            e->fac_class = c;
    /* the gazetteer, then the word classes the model was trained with */
    static const char *const gz_files[] = {"gazetteer.tsv", "wordclass.tsv"};
    for (size_t f = 0; f < sizeof gz_files / sizeof *gz_files; f++) {
        snprintf(path, sizeof path, "%s/%s", data_dir ? data_dir : ".", gz_files[f]);
        if ((rc = gaz_load(&e->gaz, path, msg, sizeof msg)) != 0) {
            dp_err_set(err, "%s", msg);
            ent_destroy(e);
            return rc;
        }
    }
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(options, "gazetteers"), i, v)
    {
        if ((rc = gaz_load(&e->gaz, json_string_value(v), msg, sizeof msg)) != 0) {
            dp_err_set(err, "gazetteers[%zu]: %s", i, msg);
            ent_destroy(e);
            return rc;
        }
    }
    if (numex_init() != 0) {
        dp_err_set(err, "out of memory");
        ent_destroy(e);
        return -ENOMEM;
    }
    e->numbers = json_is_true(json_object_get(options, "numbers"));
    e->link = json_is_true(json_object_get(options, "link"));
    e->gaz_tagging = json_is_true(json_object_get(options, "gazetteer_tagging"));
    *instance = e;
    return 0;
}

/* ---- per document -------------------------------------------------------- */
typedef struct work {
    ent_spans mentions; /* the document's, as they are found */
    ent_span *tmp; /* per sentence */
    ner_tok *toks; /* the document's tokens, or one sentence's (see KEEP_TOKENS) */
    float *em;
    int *bp, *tags;
    ner_cache *cache; /* per document */
} work;

/* Tag one sentence: tokens [t0, t0 + n) of the document, in t; `prepare`
 * when t does not hold them prepared yet. */
static int do_sentence(const entities *e, work *w, const ner_docctx *dc,
                       const char *text, const dp_ann *tok, size_t t0, size_t n,
                       ner_tok *t, int prepare)
{
    for (size_t i = 0; prepare && i < n; i++)
        ner_tok_prepare(&t[i], text + tok[t0 + i].start,
                        tok[t0 + i].end - tok[t0 + i].start);
    if (ner_sent_finish(dc, &e->gaz, t, n))
        return -ENOMEM;
    ner_tag(&e->model, t, n, w->em, w->bp, w->tags, w->cache);
    ent_sentence S = {e, text, tok, t, n, t0, w->tags, w->tmp, &w->mentions, w->mentions.n};
    return ent_sentence_mentions(&S);
}

/* Tag the document: pass 0 prepares every token and collects the
 * document context (its lower-case and capitalised forms), pass 1 tags
 * sentence by sentence. Tokens are grouped into sentences; tokens outside
 * any sentence form groups of their own, and a group is at most
 * MAX_SENT_TOKENS long. Fills flags (each token's TF_*, as linking sees
 * them). 0 or -ENOMEM. */
static int tag_document(const entities *e, work *w, ner_docctx *dc, const char *text,
                        const dp_ann *tok, size_t n_tok, const dp_ann *sent,
                        size_t n_sent, uint8_t *flags)
{
    int keep = n_tok <= KEEP_TOKENS;
    for (int pass = 0; pass < 2; pass++) {
        size_t si = 0;
        for (size_t i = 0; i < n_tok;) {
            while (si < n_sent && sent[si].end <= tok[i].start)
                si++;
            size_t j = i + 1;
            if (si < n_sent && sent[si].start <= tok[i].start) {
                while (j < n_tok && tok[j].end <= sent[si].end && j - i < MAX_SENT_TOKENS)
                    j++;
            } else {
                size_t lim = si < n_sent ? sent[si].start : SIZE_MAX;
                while (j < n_tok && tok[j].start < lim && j - i < MAX_SENT_TOKENS)
                    j++;
            }
            ner_tok *st = w->toks + (keep ? i : 0);
            if (pass == 0) {
                for (size_t q = i; q < j; q++)
                    ner_tok_prepare(&st[q - i], text + tok[q].start,
                                    tok[q].end - tok[q].start);
                if (ner_doc_observe(dc, st, j - i))
                    return -ENOMEM;
            } else {
                int rc = do_sentence(e, w, dc, text, tok, i, j - i, st, !keep);
                if (rc)
                    return rc;
                for (size_t q = i; q < j; q++)
                    flags[q] = (uint8_t)(st[q - i].flags | (q == i ? TF_SENT_START : 0));
            }
            i = j;
        }
    }
    return 0;
}

/* The attrs {"ref": ref} of mention i, whose earlier mentions are in
 * anns[0..i). The mentions of one entity share their canonical mention's
 * object, one reference each: the attrs are only read, and a huge document
 * repeats a few thousand entities in millions of mentions, each of which
 * would otherwise cost an object of four allocations (about 300 bytes). */
static json_t *ref_attrs(const dp_ann *anns, size_t i, int32_t ref)
{
    if (ref >= 0 && (size_t)ref < i)
        return json_incref(anns[ref].attrs);
    json_t *attrs = json_object();
    if (attrs == NULL ||
        json_object_set_new_nocheck(attrs, "ref", json_integer(ref))) {
        json_decref(attrs);
        return NULL;
    }
    return attrs;
}

/* The mentions as the "entity" layer (attribute "ref": the index of the
 * canonical mention), exported as "entities", and "entity_index": one
 * item per distinct entity with its text, label and count. Built with
 * jansson's constructors rather than json_pack (no format to parse); the
 * spans go in one call where the host has annotate_many. 0 or -errno. */
static int output_mentions(const dp_api *api, dp_doc *doc, const char *text,
                           const dp_ann *tok, const ent_spans *m)
{
    int rc = -ENOMEM;
    json_t *index = json_array();
    size_t *slot = calloc(m->n + 1, sizeof *slot);
    dp_ann *anns = malloc((m->n + 1) * sizeof *anns);
    int many = DP_HAS_FIELD(api, dp_api, annotate_many) && api->annotate_many;
    size_t n_ann = 0;
    if (index == NULL || slot == NULL || anns == NULL)
        goto out;
    for (size_t i = 0; i < m->n; i++) {
        const ent_span *s = &m->spans[i];
        size_t a = tok[s->start].start, b = tok[s->end - 1].end;
        json_t *attrs = ref_attrs(anns, i, s->ref);
        if (attrs == NULL)
            goto out;
        anns[n_ann++] = (dp_ann){a, b, s->label, attrs};
        if (!many && (rc = api->annotate(doc, "entity", a, b, s->label, attrs)) != 0)
            goto out;
        rc = -ENOMEM;
        if (s->ref == (int32_t)i) {
            json_t *item = json_object();
            if (item == NULL || json_array_append_new(index, item) ||
                json_object_set_new_nocheck(item, "text", json_stringn(text + a, b - a)) ||
                json_object_set_new_nocheck(item, "label", json_string(s->label)) ||
                json_object_set_new_nocheck(item, "count", json_integer(1)))
                goto out;
            slot[i] = json_array_size(index) - 1;
        } else {
            json_t *c = json_object_get(json_array_get(index, slot[s->ref]), "count");
            json_integer_set(c, json_integer_value(c) + 1);
        }
    }
    if (many) {
        rc = api->annotate_many(doc, "entity", anns, n_ann);
        n_ann = 0; /* the host took the attrs */
        if (rc)
            goto out;
    }
    if ((rc = api->export_layer(doc, "entity", "entities",
                                DP_EXPORT_TEXT | DP_EXPORT_SRC)) != 0)
        goto out;
    rc = api->set_output(doc, "entity_index", index);
    index = NULL;
out:
    if (many)
        for (size_t i = 0; i < n_ann; i++)
            json_decref(anns[i].attrs);
    free(anns);
    free(slot);
    json_decref(index);
    return rc;
}

static int ent_process(void *instance, dp_doc *doc, dp_err *err)
{
    const entities *e = instance;
    const dp_api *api = dp_doc_api(doc);
    size_t len, n_tok = 0, n_sent = 0;
    const char *text = dp_doc_text(doc, &len);
    const dp_ann *tok = dp_doc_layer(doc, "token", &n_tok);
    const dp_ann *sent = dp_doc_layer(doc, "sentence", &n_sent);
    int rc = -ENOMEM;
    work w = {0};
    ner_docctx dc = {0};
    uint8_t *flags = NULL;
    if (text == NULL) {
        dp_err_set(err, "no text (the document was not decoded)");
        return -EINVAL;
    }
    size_t T = e->model.n_tags;
    w.toks = malloc((n_tok <= KEEP_TOKENS ? n_tok + 1 : MAX_SENT_TOKENS) * sizeof *w.toks);
    w.tmp = malloc(MAX_SENT_TOKENS * sizeof *w.tmp);
    w.em = malloc(MAX_SENT_TOKENS * T * sizeof *w.em);
    w.bp = malloc(MAX_SENT_TOKENS * T * sizeof *w.bp);
    w.tags = malloc(MAX_SENT_TOKENS * sizeof *w.tags);
    flags = malloc(n_tok + 1);
    /* only the cache's keys need clearing (32 KB of its 290) */
    if (n_tok > CACHE_MIN_TOKENS && (w.cache = malloc(sizeof *w.cache)) != NULL)
        memset(w.cache->key, 0, sizeof w.cache->key);
    /* the words of the document context, at most one a token: a table
     * of their size from the start, not grown step by step */
    if (!w.toks || !w.tmp || !w.em || !w.bp || !w.tags || !flags ||
        (n_tok > CACHE_MIN_TOKENS && !w.cache) || hset_reserve(&dc.words, n_tok))
        goto out;
    if ((rc = tag_document(e, &w, &dc, text, tok, n_tok, sent, n_sent, flags)) != 0)
        goto out;
    rc = -ENOMEM;
    if (w.mentions.n)
        qsort(w.mentions.spans, w.mentions.n, sizeof *w.mentions.spans, ent_span_cmp);
    if (e->link) {
        ent_toks lt = {text, tok, flags, n_tok};
        if (acronym_defs(&lt, &w.mentions) || link_mentions(&lt, &w.mentions))
            goto out;
    } else {
        for (size_t i = 0; i < w.mentions.n; i++)
            w.mentions.spans[i].ref = (int32_t)i;
    }
    rc = output_mentions(api, doc, text, tok, &w.mentions);
out:
    if (rc)
        dp_err_set(err, "entities: %s", strerror(-rc));
    ner_docctx_free(&dc);
    free(w.mentions.spans);
    free(w.tmp);
    free(w.toks);
    free(w.em);
    free(w.bp);
    free(w.tags);
    free(w.cache);
    free(flags);
    return rc;
}

static const char *const ent_provides[] = {"entity", NULL};
static const char *const ent_requires[] = {"sentence", "token", NULL};

static const dp_stage entities_stage = {
    .abi_major = DP_ABI_MAJOR,
    .abi_minor = DP_ABI_MINOR,
    .struct_size = sizeof(dp_stage),
    .name = "entities",
    .version = "1.0.0",
    .description = "named entities (perceptron tagger), numbers and dates, linking",
    .provides = ent_provides,
    .requires = ent_requires,
    .options = ent_options,
    .create = ent_create,
    .process = ent_process,
    .destroy = ent_destroy,
};

DP_STAGE_EXPORT(entities_stage)
