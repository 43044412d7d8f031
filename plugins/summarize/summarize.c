/* summarize: extractive summaries and keyphrases.
 *
 * Requires the "sentence" and "token" layers (segment); uses "entity" when
 * present. Outputs
 *   "summary":    {"sentences": [indexes into "sentences"], "text": "..."}
 *   "keyphrases": [{"text": "...", "score": 0..1}, ...]
 *
 * Pipeline per document: terms and TF-ISF vectors (vocab.c), a windowed
 * sparse similarity graph ranked with PageRank (graph.c), salience with
 * keyword/entity centrality, a position prior and penalties, then MMR
 * selection under the length rule (select.c), and keyphrases (keyphrase.c).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sz.h"

static const dp_option sz_options[] = {
    {"sentences", DP_OPT_INT, NULL,
     "summary length in sentences (default: 3 or 20% of the sentences, "
     "whichever is fewer, at least 1)"},
    {"ratio", DP_OPT_NUMBER, NULL,
     "summary length as a fraction of the sentences (0 < ratio <= 1)"},
    {"words", DP_OPT_INT, NULL,
     "word budget: sentences are added while the total stays within it"},
    {"keyphrases", DP_OPT_INT, "10", "number of keyphrases (0: none)"},
    {"diversity", DP_OPT_NUMBER, "0.3",
     "MMR weight of redundancy against salience, 0..1 (0: none)"},
    {NULL, 0, NULL, NULL}};

/* Read a word-list file: one entry per line; '#' or '|' start a comment.
 * With first_word, only the first word of a line counts. Each entry is
 * passed lower-cased to add(). */
static int read_list(const char *dir, const char *name, int first_word,
                     int (*add)(sz_inst *, const char *, size_t), sz_inst *in,
                     dp_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : ".", name);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        dp_err_set(err, "summarize: cannot open data file %s", path);
        return -ENOENT;
    }
    char line[1024];
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        char *p = line;
        char *cut = strpbrk(p, "#|\r\n");
        if (cut)
            *cut = 0;
        while (*p == ' ' || *p == '\t')
            p++;
        size_t len = strlen(p);
        if (first_word) {
            len = strcspn(p, " \t");
        } else {
            while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
                len--;
        }
        if (len == 0)
            continue;
        for (size_t i = 0; i < len; i++)
            if (p[i] >= 'A' && p[i] <= 'Z')
                p[i] = (char)(p[i] + 32);
        rc = add(in, p, len);
    }
    fclose(f);
    if (rc)
        dp_err_set(err, "summarize: out of memory reading %s", path);
    return rc;
}

static int add_stop(sz_inst *in, const char *w, size_t len)
{
    return sz_strtab_put(&in->stop, w, len, NULL) < 0 ? -ENOMEM : 0;
}

static int add_person(sz_inst *in, const char *w, size_t len)
{
    return sz_strtab_put(&in->person, w, len, NULL) < 0 ? -ENOMEM : 0;
}

static int add_verb(sz_inst *in, const char *w, size_t len)
{
    uint32_t bit = sz_verb_bit(sz_hash(w, len));
    in->verb_filter[bit / 64] |= 1ull << (bit % 64);
    return sz_strtab_put(&in->verbs, w, len, NULL) < 0 ? -ENOMEM : 0;
}

/* Stop words are never stemmed: they stay out of the stem cache. */
static int add_common(sz_inst *in, const char *w, size_t len)
{
    if (sz_strtab_find(&in->stop, w, len) >= 0)
        return 0;
    return sz_stemcache_put(&in->common, w, len);
}

static int add_boiler(sz_inst *in, const char *w, size_t len)
{
    char **b = realloc(in->boiler, (in->n_boiler + 1) * sizeof *b);
    if (b == NULL)
        return -ENOMEM;
    in->boiler = b;
    b[in->n_boiler] = strndup(w, len);
    if (b[in->n_boiler] == NULL)
        return -ENOMEM;
    in->n_boiler++;
    return 0;
}

static void sz_destroy(void *instance)
{
    sz_inst *in = instance;
    if (in == NULL)
        return;
    sz_strtab_free(&in->stop);
    sz_strtab_free(&in->person);
    sz_strtab_free(&in->verbs);
    sz_stemcache_free(&in->common);
    for (size_t i = 0; i < in->n_boiler; i++)
        free(in->boiler[i]);
    free(in->boiler);
    free(in);
}

static int sz_create(const dp_api *api, const json_t *options,
                     const char *data_dir, void **instance, dp_err *err)
{
    (void)api;
    json_t *v;
    sz_inst *in = calloc(1, sizeof *in);
    if (in == NULL)
        return -ENOMEM;
    in->opt_sentences = -1;
    in->opt_ratio = -1;
    in->opt_words = -1;
    int rc = -EINVAL;
    if ((v = json_object_get(options, "sentences")) && !json_is_null(v)) {
        if (json_integer_value(v) < 1) {
            dp_err_set(err, "summarize: sentences must be at least 1");
            goto fail;
        }
        in->opt_sentences = (long)json_integer_value(v);
    }
    if ((v = json_object_get(options, "ratio")) && !json_is_null(v)) {
        double r = json_number_value(v);
        if (!(r > 0 && r <= 1)) {
            dp_err_set(err, "summarize: ratio must be in (0, 1]");
            goto fail;
        }
        in->opt_ratio = r;
    }
    if ((v = json_object_get(options, "words")) && !json_is_null(v)) {
        if (json_integer_value(v) < 1) {
            dp_err_set(err, "summarize: words must be at least 1");
            goto fail;
        }
        in->opt_words = (long)json_integer_value(v);
    }
    in->n_keyphrases =
        (long)json_integer_value(json_object_get(options, "keyphrases"));
    if (in->n_keyphrases < 0 || in->n_keyphrases > 1000) {
        dp_err_set(err, "summarize: keyphrases must be in 0..1000");
        goto fail;
    }
    double div = json_number_value(json_object_get(options, "diversity"));
    if (!(div >= 0 && div <= 1)) {
        dp_err_set(err, "summarize: diversity must be in [0, 1]");
        goto fail;
    }
    in->lambda = 1.0 - div;
    if ((rc = sz_strtab_init(&in->stop, 512)) != 0 ||
        (rc = sz_strtab_init(&in->person, 32)) != 0 ||
        (rc = sz_strtab_init(&in->verbs, 16384)) != 0)
        goto fail;
    if ((rc = read_list(data_dir, "stopwords.txt", 1, add_stop, in, err)) ||
        (rc = read_list(data_dir, "stopwords_extra.txt", 1, add_stop, in,
                        err)) ||
        (rc = read_list(data_dir, "common_words.txt", 1, add_common, in,
                        err)) ||
        (rc = read_list(data_dir, "person_words.txt", 1, add_person, in,
                        err)) ||
        (rc = read_list(data_dir, "verbs.txt", 1, add_verb, in, err)) ||
        (rc = read_list(data_dir, "boilerplate.txt", 0, add_boiler, in, err)))
        goto fail;
    if ((rc = sz_stemcache_stem(&in->common)) != 0) {
        dp_err_set(err, "summarize: out of memory stemming the common words");
        goto fail;
    }
    *instance = in;
    return 0;
fail:
    sz_destroy(in);
    return rc;
}

/* The chosen sentences joined by one space, inner white space collapsed. */
static json_t *summary_text(const sz_doc *d, const uint32_t *sel, size_t n)
{
    size_t total = 1;
    for (size_t i = 0; i < n; i++)
        total += d->sent[sel[i]].end - d->sent[sel[i]].start + 1;
    char *buf = malloc(total);
    if (buf == NULL)
        return NULL;
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        const sz_sent *se = &d->sent[sel[i]];
        int space = w > 0;
        for (size_t k = se->start; k < se->end; k++) {
            char c = d->text[k];
            if (c == ' ' || c == '\n' || c == '\t' || c == '\r' ||
                c == '\f' || c == '\v') {
                space = 1;
                continue;
            }
            if (space && w > 0)
                buf[w++] = ' ';
            space = 0;
            buf[w++] = c;
        }
    }
    json_t *v = json_stringn(buf, w);
    free(buf);
    return v;
}

static int sz_process(void *instance, dp_doc *doc, dp_err *err)
{
    const dp_api *api = dp_doc_api(doc);
    sz_doc d = {0};
    d.inst = instance;
    d.text = dp_doc_text(doc, &d.len);
    if (d.text == NULL) {
        dp_err_set(err, "summarize: the document has no text");
        return -EINVAL;
    }
    uint32_t *sel = NULL;
    size_t nsel = 0;
    sz_kps *kps = NULL;
    int rc;
    if ((rc = sz_vocab_build(&d, doc, err)) ||
        (rc = sz_graph_rank(&d, err)))
        goto out;
    if ((rc = sz_kp_build(&d, doc, &kps)) != 0)
        goto oom;
    if ((rc = sz_select(&d, &sel, &nsel, err)))
        goto out;
    rc = -ENOMEM;
    json_t *idx = json_array();
    json_t *text = summary_text(&d, sel, nsel);
    for (size_t i = 0; idx && i < nsel; i++)
        if (json_array_append_new(idx, json_integer(sel[i])) != 0) {
            json_decref(idx);
            idx = NULL;
        }
    if (idx == NULL || text == NULL) {
        json_decref(idx);
        json_decref(text);
        goto oom;
    }
    /* Built member by member: json_pack parses its format per call. */
    json_t *summary = json_object();
    int bad = summary == NULL ||
              json_object_set_nocheck(summary, "sentences", idx) != 0 ||
              json_object_set_nocheck(summary, "text", text) != 0;
    json_decref(idx);
    json_decref(text);
    if (bad) {
        json_decref(summary);
        goto oom;
    }
    if (api->set_output(doc, "summary", summary) != 0)
        goto oom;
    json_t *kpj = sz_kp_json(&d, kps);
    if (kpj == NULL || api->set_output(doc, "keyphrases", kpj) != 0)
        goto oom;
    rc = 0;
    goto out;
oom:
    dp_err_set(err, "summarize: out of memory");
out:
    free(sel);
    sz_kp_free(kps);
    sz_doc_free(&d);
    return rc;
}

static const char *const sz_requires[] = {"sentence", "token", NULL};

static const dp_stage sz_stage = {
    .abi_major = DP_ABI_MAJOR,
    .abi_minor = DP_ABI_MINOR,
    .struct_size = sizeof(dp_stage),
    .name = "summarize",
    .version = "1.0.0",
    .description = "extractive summary (LexRank + position, keywords, "
                   "entities, MMR) and keyphrases",
    .provides = NULL,
    .requires = sz_requires,
    .options = sz_options,
    .create = sz_create,
    .process = sz_process,
    .destroy = sz_destroy,
};

DP_STAGE_EXPORT(sz_stage)
