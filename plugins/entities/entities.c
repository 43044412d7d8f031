/* entities: named entities (a hashed-feature averaged perceptron with
 * Viterbi over BIO tags), numbers and time (rules), gazetteers and mention
 * linking. Requires "sentence" and "token" (segment); provides "entity". */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <docproc/docproc.h>

#include "ent.h"

#define MAX_SENT_TOKENS 400 /* longer runs are tagged in pieces */
/* A document of up to this many tokens keeps them all prepared (about 150
 * bytes each, 10 MB at most) from the context pass to the tagging pass; a
 * longer one prepares each sentence again, so that memory stays bounded. */
#define KEEP_TOKENS 65536
/* the word cache pays off on longer documents only */
#define CACHE_MIN_TOKENS 1000

typedef struct entities {
    ner_model model;
    gaz gaz;
    gaz heads; /* head words of names (data/heads.tsv): ORG, LOC, FAC */
    int fac_class; /* class index of FAC in heads, or -1 */
    int numbers, link, gaz_tagging;
    const char *label_map[NER_MAX_LABELS]; /* model label -> output label */
} entities;

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
    ent_span *spans;
    size_t n, cap;
    ent_span *tmp; /* per sentence */
    ner_tok *toks; /* the document's tokens, or one sentence's (see KEEP_TOKENS) */
    float *em;
    int *bp, *tags;
    ner_cache *cache; /* per document */
} work;

static int push_span(work *w, ent_span s)
{
    if (w->n == w->cap) {
        size_t c = w->cap ? w->cap * 2 : 256;
        ent_span *p = realloc(w->spans, c * sizeof *p);
        if (p == NULL)
            return -ENOMEM;
        w->spans = p;
        w->cap = c;
    }
    w->spans[w->n++] = s;
    return 0;
}

static uint32_t span_gaz(const entities *e, const char *text, const dp_ann *tok,
                         uint32_t a, uint32_t b)
{
    return gaz_lookup(&e->gaz, text + tok[a].start, tok[b - 1].end - tok[a].start);
}

/* OntoNotes label of a model span, refined with the gazetteer. */
static const char *refine(const entities *e, const char *label, uint32_t mask,
                          const ner_tok *next)
{
    const uint32_t GEO = (1u << GZ_COUNTRY) | (1u << GZ_CITY) | (1u << GZ_REGION);
    if (strcmp(label, "PERSON") != 0 &&
        (mask & ((1u << GZ_NORP) | (1u << GZ_LANGUAGE))) && next &&
        (next->flags & TF_LOWER))
        return "NORP"; /* "Kazakh counterpart", "Russian forces" */
    if (strcmp(label, "PERSON") != 0 && (mask & (1u << GZ_NORP)) && !(mask & GEO))
        return "NORP"; /* "Uighurs", "Muslims" */
    /* the gazetteer knows the whole name, and as one kind only */
    {
        int org = (mask & (1u << GZ_ORG)) != 0, geo = (mask & GEO) != 0,
            per = (mask & (1u << GZ_PERSON)) != 0;
        if (org + geo + per == 1 && strcmp(label, "MISC") != 0) {
            if (org)
                return "ORG";
            if (geo)
                return "GPE";
            if (per)
                return "PERSON";
        }
    }
    if (strcmp(label, "LOC") == 0 && (mask & GEO))
        return "GPE";
    if (strcmp(label, "MISC") == 0 || strcmp(label, "NORP") == 0 ||
        strcmp(label, "LANGUAGE") == 0) {
        if (mask & (1u << GZ_NORP))
            return "NORP";
        if (mask & (1u << GZ_LANGUAGE))
            return next && (next->flags & TF_LOWER) ? "NORP" : "LANGUAGE";
    }
    (void)e;
    return label;
}

/* A name of two or more words whose last word tells its kind: "Ontario
 * Liberal Party" ORG, "Willett Brook" LOC, "Mark Hopkins Hotel" FAC. A
 * span starting with a first name stays PERSON ("Michael Bay"), one the
 * gazetteer knows as a place stays a place ("Soviet Union"). */
static const char *head_label(const entities *e, const char *label,
                              const ner_tok *t, size_t i, size_t j,
                              uint32_t span_mask)
{
    if (j - i < 2 || !(t[j - 1].flags & TF_INIT_CAP) || (t[j - 1].flags & TF_ALLCAPS_SENT))
        return label;
    const uint32_t GEO = (1u << GZ_COUNTRY) | (1u << GZ_CITY) | (1u << GZ_REGION) |
                         (1u << GZ_LOC);
    /* a place followed by a plural of animals or people is a sports team:
     * "Sacramento River Cats", "Chicago Bulls", "New York Giants" */
    if ((t[i].gaz & GEO) && t[i].gaz_b && !(span_mask & GEO) &&
        t[j - 1].llen > 3 && t[j - 1].low[t[j - 1].llen - 1] == 's' &&
        (t[j - 1].wcls == GZ_WC_ANIMAL || t[j - 1].wcls == GZ_WC_PERSON))
        return "ORG";
    uint32_t h = gaz_lookup(&e->heads, t[j - 1].s, t[j - 1].len);
    if (h == 0)
        return label;
    int per = strcmp(label, "PERSON") == 0;
    /* a first name keeps a person ("Peter Brook"), unless it is a place
     * name too and the head is geographic: "Lincoln Reservoir" */
    if (per && (t[i].gaz & (1u << GZ_FIRST)) && t[i].gaz_b &&
        !((h & (1u << GZ_LOC)) && (t[i].gaz & GEO)))
        return label;
    if (span_mask & (GEO | (1u << GZ_ORG) | (1u << GZ_PERSON)))
        return label; /* the gazetteer knows the whole name */
    int geo = strcmp(label, "GPE") == 0 || strcmp(label, "LOC") == 0;
    if ((h & (1u << GZ_ORG)) && (per || geo))
        return "ORG";
    if ((h & (1u << GZ_LOC)) && (per || strcmp(label, "ORG") == 0))
        return "LOC";
    if (e->fac_class >= 0 && (h & (1u << e->fac_class)) && (per || geo))
        return "FAC";
    /* events, awards, laws: whatever kind of name the model said */
    for (int c = GZ_USER_FIRST; c < e->heads.n_classes; c++)
        if (c != e->fac_class && (h & (1u << c)))
            return e->heads.class_names[c];
    return label;
}

/* Common nouns that name what follows: "the band Spirit", "radio station
 * 6PR", "the record label Deltasonic". */
static int org_cue(const ner_tok *t)
{
    static const ner_word w[] = {
        NER_W("band"), NER_W("label"), NER_W("club"), NER_W("company"),
        NER_W("firm"), NER_W("station"), NER_W("newspaper"), NER_W("magazine"),
        NER_W("group"), NER_W("broadcaster"), NER_W("airline"), NER_W("manufacturer")};
    return (t->flags & TF_LOWER) && ner_low_in(t->low, t->llen, w, sizeof w / sizeof *w);
}

/* "the town of Sebago", "the village of Vanxim" */
static int place_cue(const ner_tok *t, size_t n, size_t i)
{
    static const ner_word w[] = {
        NER_W("town"), NER_W("village"), NER_W("city"), NER_W("county"),
        NER_W("province"), NER_W("district"), NER_W("municipality"), NER_W("commune"),
        NER_W("parish"), NER_W("suburb"), NER_W("hamlet"), NER_W("capital"),
        NER_W("region"), NER_W("state")};
    if (i + 2 >= n || !(t[i].flags & TF_LOWER) || !NER_LOW_IS(&t[i + 1], "of"))
        return 0;
    return ner_low_in(t[i].low, t[i].llen, w, sizeof w / sizeof *w);
}

static int is_dquote(const ner_tok *t)
{
    return (t->len == 1 && t->s[0] == '"') ||
           (t->len == 3 && memcmp(t->s, "\xe2\x80", 2) == 0 &&
            ((unsigned char)t->s[2] == 0x9c || (unsigned char)t->s[2] == 0x9d));
}

/* Lower-case words a title may hold: "Made in Miami", "A Storm to Come". */
static int title_small(const ner_tok *t)
{
    static const ner_word w[] = {
        NER_W("a"), NER_W("an"), NER_W("the"), NER_W("of"), NER_W("and"), NER_W("or"),
        NER_W("in"), NER_W("on"), NER_W("at"), NER_W("to"), NER_W("for"), NER_W("from"),
        NER_W("with"), NER_W("by"), NER_W("is"), NER_W("de"), NER_W("la"), NER_W("le"),
        NER_W("as"), NER_W("vs."), NER_W("into"), NER_W("over")};
    return ner_low_in(t->low, t->llen, w, sizeof w / sizeof *w);
}

/* Tokens [a, b) look like a title: two to ten tokens, the first and last
 * capitalised, every other word capitalised or a small word, no sentence
 * punctuation (so that quoted speech is not one). */
static int title_case(const ner_tok *t, size_t a, size_t b)
{
    if (b - a < 2 || b - a > 10 || !(t[a].flags & TF_INIT_CAP) ||
        !(t[b - 1].flags & TF_INIT_CAP) || (t[a].flags & TF_ALLCAPS_SENT))
        return 0;
    for (size_t i = a; i < b; i++) {
        if (t[i].flags & TF_INIT_CAP)
            continue;
        if (t[i].slen && (t[i].shape[0] == 'x') && title_small(&t[i]))
            continue;
        if (t[i].slen == 1 && t[i].len == 1 && strchr("-:&'", t[i].s[0]))
            continue;
        if (t[i].slen && t[i].shape[0] == 'd')
            continue;
        return 0;
    }
    return 1;
}

static int cmp_span_c(const void *a, const void *b)
{
    const ent_span *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static int tok_eq(const ner_tok *t, const char *w)
{
    size_t n = strlen(w);
    return t->len == n && memcmp(t->s, w, n) == 0;
}

/* II..XX as a regnal or sequel number; not I, V, X alone */
static int roman(const ner_tok *t)
{
    if (t->len < 2 || t->len > 5)
        return 0;
    for (uint32_t i = 0; i < t->len; i++)
        if (t->s[i] != 'I' && t->s[i] != 'V' && t->s[i] != 'X')
            return 0;
    return 1;
}

static int suffix_jr(const ner_tok *t)
{
    return tok_eq(t, "Jr.") || tok_eq(t, "Sr.") || tok_eq(t, "Jr") || tok_eq(t, "Sr");
}

/* "C." */
static int initial(const ner_tok *t)
{
    return t->len == 2 && t->s[0] >= 'A' && t->s[0] <= 'Z' && t->s[1] == '.';
}

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
    const ner_model *m = &e->model;
    size_t first_new = w->n;
    /* model spans */
    for (size_t i = 0; i < n;) {
        int tg = w->tags[i];
        if (m->tag_kind[tg] == 0) {
            i++;
            continue;
        }
        size_t j = i + 1;
        while (j < n && m->tag_kind[w->tags[j]] == 2 &&
               m->tag_label[w->tags[j]] == m->tag_label[tg])
            j++;
        const char *lab = e->label_map[m->tag_label[tg]];
        size_t next = j; /* where the model's span ends */
        if (strcmp(lab, "PERSON") == 0) {
            /* titles and nationalities before a name are not part of it:
             * "President Xi Jinping", "Chinese Foreign Minister Wang Yi" */
            const uint32_t STRIP = (1u << GZ_TITLE) | (1u << GZ_NORP) |
                                   (1u << GZ_COUNTRY);
            while (i < j && (t[i].gaz & STRIP) && t[i].gaz_b) {
                size_t q = i + 1;
                while (q < j && t[q].gaz && !t[q].gaz_b)
                    q++;
                if (q < n && t[q].gaz && !t[q].gaz_b)
                    break; /* the gazetteer name runs past the span */
                i = q;
            }
            /* a title further in: "County Sheriff Don Eslinger", "Brigadier
             * General Glenn Profitt" -> the name after the last title */
            for (size_t k = i + 1; k + 1 < j; k++) {
                int title = (t[k].gaz & (1u << GZ_TITLE)) && t[k].gaz_b;
                if (!title && (t[k].flags & TF_INIT_CAP) &&
                    (gaz_lookup(&e->heads, t[k].s, t[k].len) & (1u << GZ_TITLE)))
                    title = 1;
                if (!title)
                    continue;
                size_t q = k + 1;
                while (q < j && t[q].gaz && !t[q].gaz_b && (t[k].gaz & (1u << GZ_TITLE)))
                    q++;
                if (q < j && (t[q].flags & TF_INIT_CAP))
                    i = q;
            }
            if (i == j) {
                i = next;
                continue;
            }
        }
        /* names neither start nor end with a lower-case word: "Chinese
         * daily Global Times" -> NORP + ORG, "Kazakh regime" -> "Kazakh" */
        {
            const uint32_t ADJ = (1u << GZ_NORP) | (1u << GZ_LANGUAGE) | (1u << GZ_COUNTRY);
            /* nor with a sentence's first word that is no noun and occurs in
             * lower case too: "But Palace", "So Woodward" */
            if (i == 0 && j > 1 && (t[0].flags & TF_LCSEEN) && t[0].wcls == 0 && !t[0].gaz)
                i++;
            while (i < j && ((t[i].flags & TF_LOWER) ||
                             (i + 1 < j && t[i].gaz_b && (t[i].gaz & ADJ) &&
                              (t[i + 1].flags & TF_LOWER) &&
                              !(i + 1 < n && t[i + 1].gaz && !t[i + 1].gaz_b))))
                i++;
            while (j > i && (t[j - 1].flags & TF_LOWER))
                j--;
            if (i == j) {
                i = next;
                continue;
            }
        }
        /* a name holds its double quotes in pairs ('Dwayne "The Rock"
         * Johnson'): the model can stop inside them, 'John "Smith" met'
         * giving 'John "Smith'. Close the pair when the next token is
         * the closing quote, else leave the unpaired quote out. */
        {
            size_t nq = 0, lastq = i;
            for (size_t k = i; k < j; k++)
                if (is_dquote(&t[k])) {
                    nq++;
                    lastq = k;
                }
            if (nq % 2 == 1) {
                if (j < n && is_dquote(&t[j]))
                    j++;
                else if (lastq == i)
                    i++;
                else
                    j = lastq;
            }
            if (i == j) {
                i = next;
                continue;
            }
        }
        /* "World War II", "Henry VIII", "Andrew J. Evans Jr.", "C. H. Douglas" */
        while (j < n && m->tag_kind[w->tags[j]] == 0 &&
               (roman(&t[j]) || (strcmp(lab, "PERSON") == 0 && suffix_jr(&t[j]))))
            j++;
        if (strcmp(lab, "PERSON") == 0)
            while (i > 0 && m->tag_kind[w->tags[i - 1]] == 0 && initial(&t[i - 1]) &&
                   (first_new == w->n || w->spans[w->n - 1].end < t0 + i))
                i--;
        {
            uint32_t sm = span_gaz(e, text, tok, (uint32_t)(t0 + i), (uint32_t)(t0 + j));
            lab = refine(e, lab, sm, j < n ? &t[j] : NULL);
            lab = head_label(e, lab, t, i, j, sm);
        }
        ent_span s = {(uint32_t)(t0 + i), (uint32_t)(t0 + j), lab, -1, 0};
        if (push_span(w, s))
            return -ENOMEM;
        i = j > next ? j : next;
    }
    /* a multi-word country, region or city name the model split or cut:
     * "Bosnia and Herzegovina", "People's Republic of China" */
    {
        const uint32_t GEO = (1u << GZ_COUNTRY) | (1u << GZ_CITY) | (1u << GZ_REGION);
        for (size_t i = 0; i < n;) {
            if (!t[i].gaz_b || !(t[i].gaz & GEO) || !(t[i].flags & TF_INIT_CAP)) {
                i++;
                continue;
            }
            size_t j = i + 1;
            while (j < n && t[j].gaz && !t[j].gaz_b)
                j++;
            uint32_t A = (uint32_t)(t0 + i), B = (uint32_t)(t0 + j);
            size_t inside = 0, across = 0, exact = 0;
            for (size_t q = first_new; q < w->n; q++) {
                const ent_span *s = &w->spans[q];
                if (s->end <= A || s->start >= B)
                    continue;
                if (s->start == A && s->end == B)
                    exact++;
                else if (s->start >= A && s->end <= B)
                    inside++;
                else
                    across++;
            }
            if (j - i >= 2 && inside >= 1 && across == 0 && exact == 0) {
                size_t o = first_new;
                for (size_t q = first_new; q < w->n; q++)
                    if (w->spans[q].end <= A || w->spans[q].start >= B)
                        w->spans[o++] = w->spans[q];
                w->n = o;
                ent_span s = {A, B, "GPE", -1, 2};
                if (push_span(w, s))
                    return -ENOMEM;
                qsort(w->spans + first_new, w->n - first_new, sizeof *w->spans, cmp_span_c);
            }
            i = j;
        }
    }
    size_t n_model = w->n - first_new;
    /* numbers and time: they replace a model span they cover entirely */
    size_t k = e->numbers ? numex_find(t, n, &e->gaz, w->tmp) : 0;
    for (size_t r = 0; r < k; r++) {
        uint32_t a = (uint32_t)t0 + w->tmp[r].start, b = (uint32_t)t0 + w->tmp[r].end;
        int keep = 1;
        for (size_t q = first_new; q < first_new + n_model; q++) {
            ent_span *s = &w->spans[q];
            if (s->end <= a || s->start >= b || s->label == NULL)
                continue;
            if (s->start >= a && s->end <= b)
                s->label = NULL; /* dropped below */
            else
                keep = 0;
        }
        if (keep) {
            ent_span s = {a, b, w->tmp[r].label, -1, 1};
            if (push_span(w, s))
                return -ENOMEM;
        }
    }
    /* gazetteer: countries, nationalities, languages, user classes */
    if (e->gaz_tagging) {
        for (size_t i = 0; i < n;) {
            if (!t[i].gaz || !t[i].gaz_b) {
                i++;
                continue;
            }
            size_t j = i + 1;
            while (j < n && t[j].gaz && !t[j].gaz_b)
                j++;
            uint32_t mask = t[i].gaz;
            const char *lab = NULL;
            for (int c = GZ_USER_FIRST; c < e->gaz.n_classes && !lab; c++)
                if (mask & (1u << c))
                    lab = e->gaz.class_names[c];
            if (!lab && (t[i].flags & TF_INIT_CAP) && !(t[i].flags & TF_ALLCAPS_SENT)) {
                int adj = j < n && (t[j].flags & TF_LOWER);
                if (mask & (1u << GZ_NORP))
                    lab = "NORP";
                else if ((mask & (1u << GZ_LANGUAGE)) && adj)
                    lab = "NORP";
                else if (mask & (1u << GZ_COUNTRY))
                    lab = "GPE";
                else if (mask & (1u << GZ_LANGUAGE))
                    lab = "LANGUAGE";
            }
            if (lab) {
                uint32_t a = (uint32_t)(t0 + i), b = (uint32_t)(t0 + j);
                int free_ = 1, user = (mask >> GZ_USER_FIRST) != 0;
                for (size_t q = first_new; q < w->n; q++) {
                    ent_span *s = &w->spans[q];
                    if (s->label && s->start < b && s->end > a) {
                        if (user && s->src == 0)
                            s->label = NULL; /* the user's names win */
                        else
                            free_ = 0;
                    }
                }
                if (free_) {
                    ent_span s = {a, b, lab, -1, 2};
                    if (push_span(w, s))
                        return -ENOMEM;
                }
            }
            i = j;
        }
    }
    /* a title followed by capitalised words: "President Xi Jinping" */
    for (size_t i = 0; i < n; i++) {
        if (!(t[i].gaz & (1u << GZ_TITLE)) || !t[i].gaz_b || !(t[i].flags & TF_INIT_CAP) ||
            (t[i].flags & TF_ALLCAPS_SENT))
            continue;
        size_t a = i + 1;
        while (a < n && t[a].gaz && !t[a].gaz_b)
            a++;
        size_t b = a;
        while (b < n && b - a < 4 && (t[b].flags & TF_INIT_CAP) && !(t[b].flags & TF_LCSEEN) &&
               !(t[b].gaz & ((1u << GZ_TITLE) | (1u << GZ_NORP) | (1u << GZ_COUNTRY))))
            b++;
        if (b == a)
            continue;
        uint32_t A = (uint32_t)(t0 + a), B = (uint32_t)(t0 + b);
        int free_ = 1;
        for (size_t q = first_new; q < w->n; q++) {
            ent_span *s = &w->spans[q];
            if (!s->label || s->start >= B || s->end <= A)
                continue;
            if (s->src == 0 && s->start >= A && s->end <= B && strcmp(s->label, "PERSON") != 0)
                s->label = NULL; /* a model span inside the name */
            else
                free_ = 0;
        }
        if (free_) {
            ent_span s = {A, B, "PERSON", -1, 2};
            if (push_span(w, s))
                return -ENOMEM;
        }
        i = b - 1;
    }
    /* a noun that names what follows: "the band Spirit" -> ORG, where the
     * model saw a person or a place, or nothing */
    for (size_t i = 0; i + 1 < n; i++) {
        int place = place_cue(t, n, i);
        if (!t[i + 1 + place].run_pos || !(place || org_cue(&t[i])))
            continue; /* the cheap test first */
        size_t a = i + 1 + place, b = a;
        while (b < n && t[b].run_pos && (b == a || t[b].run_pos != 1) && b - a < 5)
            b++;
        if (t[b - 1].run_pos != 3 && t[b - 1].run_pos != 4)
            continue; /* the name runs on: not sure where it ends */
        if ((t[a].gaz & (1u << GZ_FIRST)) && t[a].gaz_b && b - a > 1)
            continue; /* "group leader John Smith" */
        uint32_t A = (uint32_t)(t0 + a), B = (uint32_t)(t0 + b);
        int free_ = 1;
        ent_span *same = NULL;
        for (size_t q = first_new; q < w->n; q++) {
            ent_span *s = &w->spans[q];
            if (!s->label || s->start >= B || s->end <= A)
                continue;
            if (s->src == 0 && s->start == A && s->end == B &&
                (place ? strcmp(s->label, "PERSON") == 0 || strcmp(s->label, "ORG") == 0
                       : strcmp(s->label, "PERSON") == 0 || strcmp(s->label, "GPE") == 0 ||
                             strcmp(s->label, "LOC") == 0))
                same = s;
            else
                free_ = 0;
        }
        if (free_) {
            if (same)
                same->label = NULL; /* replaced */
            ent_span s = {A, B, place ? "GPE" : "ORG", -1, 2};
            if (push_span(w, s))
                return -ENOMEM;
        }
        i = b - 1;
    }
    /* a capitalised run that ends with a head word is a name of that kind
     * even where the model found nothing or only a part of it: "the
     * Glastonbury Festival" EVENT, "North Sea Jazz Festival" (not "North
     * Sea"), "Deltasonic Records" ORG; and "University/Bank/Ministry of
     * ..." ORG by its first word. A leading "The" is left out; a name that
     * starts with a first name is left to the model when it is two words
     * or its head is a place or building ("Peter Brook", "John Smith
     * Hall"). */
    for (size_t i = 0; i < n; i++) {
        if (t[i].run_pos != 1)
            continue;
        size_t a = i, b = i + 1;
        while (b < n && (t[b].run_pos == 2 || t[b].run_pos == 3))
            b++;
        i = b - 1;
        if (NER_LOW_IS(&t[a], "the") || NER_LOW_IS(&t[a], "a") ||
            (a == 0 && (t[a].flags & TF_LCSEEN) && t[a].wcls == 0))
            a++; /* "But Palace": a sentence's first word seen in lower case
                    and no noun ("Lantern Festival" is one) */
        if (b - a < 2)
            continue;
        const char *lab = NULL;
        uint32_t h = gaz_lookup(&e->heads, t[b - 1].s, t[b - 1].len);
        if (h & (1u << GZ_TITLE))
            h = 0;
        if (h) {
            /* the name is what follows the run's last connector: "Main
             * Street and the Arkansas River", "View of the George
             * Washington Bridge" */
            for (size_t q = b - 1; q > a; q--)
                if (t[q - 1].flags & TF_LOWER) {
                    a = q;
                    break;
                }
            if (b - a < 2)
                continue;
        }
        if (b - a > 6)
            continue;
        if (h == 0) {
            /* "University of Oxford": an organisation head before "of" */
            uint32_t h0 = gaz_lookup(&e->heads, t[a].s, t[a].len);
            if ((h0 & (1u << GZ_ORG)) && NER_LOW_IS(&t[a + 1], "of"))
                lab = "ORG";
        } else if ((t[a].gaz & (1u << GZ_FIRST)) && t[a].gaz_b &&
                   (b - a == 2 || (h & (1u << GZ_LOC)) ||
                    (e->fac_class >= 0 && (h & (1u << e->fac_class))))) {
            continue; /* "Peter Brook", "Michael Bay", "John Hall" */
        } else if (h & (1u << GZ_ORG)) {
            lab = "ORG";
        } else if (h & (1u << GZ_LOC)) {
            lab = "LOC";
        } else {
            for (int c = GZ_USER_FIRST; c < e->heads.n_classes && !lab; c++)
                if (h & (1u << c))
                    lab = e->heads.class_names[c];
        }
        if (lab == NULL)
            continue;
        uint32_t A = (uint32_t)(t0 + a), B = (uint32_t)(t0 + b);
        int free_ = 1;
        for (size_t q = first_new; q < w->n; q++) {
            const ent_span *s = &w->spans[q];
            if (s->label && s->start < B && s->end > A &&
                (s->src != 0 || s->start < A || s->end > B || s->end - s->start == B - A))
                free_ = 0; /* a rule's span, one across the run, or the whole run */
        }
        if (!free_)
            continue;
        for (size_t q = first_new; q < w->n; q++)
            if (w->spans[q].label && w->spans[q].start >= A && w->spans[q].end <= B)
                w->spans[q].label = NULL; /* "North Sea" in "North Sea Jazz Festival" */
        ent_span s = {A, B, lab, -1, 2};
        if (push_span(w, s))
            return -ENOMEM;
    }
    /* a capitalised title in double quotes is a work: "A Beautiful Lie" */
    for (size_t i = 0; e->gaz_tagging && i < n; i++) {
        if (!is_dquote(&t[i]))
            continue;
        size_t j = i + 1;
        while (j < n && !is_dquote(&t[j]))
            j++;
        if (j >= n)
            break; /* no closing quote in the sentence */
        /* a nickname inside a person's name is part of it, not a work:
         * Dwayne "The Rock" Johnson */
        if (i > 0 && j + 1 < n && j - i - 1 >= 1 && j - i - 1 <= 3 &&
            (t[j + 1].flags & TF_INIT_CAP)) {
            ent_span *who = NULL;
            for (size_t q = first_new; q < w->n; q++)
                if (w->spans[q].label && w->spans[q].end == t0 + i &&
                    strcmp(w->spans[q].label, "PERSON") == 0)
                    who = &w->spans[q];
            for (size_t q = first_new; who && q < w->n; q++)
                if (w->spans[q].label && w->spans[q].src == 1 &&
                    w->spans[q].start == t0 + j + 1)
                    who = NULL; /* 'Obama "Yes We Can" Monday': a date follows */
            if (who) {
                uint32_t end = (uint32_t)(t0 + j + 2);
                for (size_t q = first_new; q < w->n; q++)
                    if (w->spans[q].label && w->spans[q].start == t0 + j + 1 &&
                        w->spans[q].end > end)
                        end = w->spans[q].end; /* the surname the model found */
                for (size_t q = first_new; q < w->n; q++)
                    if (&w->spans[q] != who && w->spans[q].label &&
                        w->spans[q].start >= who->start && w->spans[q].end <= end)
                        w->spans[q].label = NULL;
                who->end = end;
                i = j;
                continue;
            }
        }
        if (!title_case(t, i + 1, j)) {
            i = j;
            continue;
        }
        uint32_t A = (uint32_t)(t0 + i + 1), B = (uint32_t)(t0 + j);
        int free_ = 1;
        for (size_t q = first_new; q < w->n; q++) {
            const ent_span *s = &w->spans[q];
            if (s->label && s->start < B && s->end > A &&
                (s->src == 1 || s->start < A || s->end > B || (s->start == A && s->end == B)))
                free_ = 0; /* a number, a name across the quotes, or the same span */
        }
        if (free_) {
            for (size_t q = first_new; q < w->n; q++)
                if (w->spans[q].label && w->spans[q].start >= A && w->spans[q].end <= B)
                    w->spans[q].label = NULL; /* "Miami" in "Made in Miami" */
            ent_span s = {A, B, "WORK_OF_ART", -1, 2};
            if (push_span(w, s))
                return -ENOMEM;
        }
        i = j;
    }
    /* drop the spans numbers replaced */
    size_t o = first_new;
    for (size_t q = first_new; q < w->n; q++)
        if (w->spans[q].label)
            w->spans[o++] = w->spans[q];
    w->n = o;
    return 0;
}

static int cmp_span(const void *a, const void *b)
{
    const ent_span *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
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
    ent_tok *lt = NULL;
    json_t *index = NULL;
    if (text == NULL) {
        dp_err_set(err, "no text (the document was not decoded)");
        return -EINVAL;
    }
    size_t T = e->model.n_tags;
    int keep = n_tok <= KEEP_TOKENS;
    w.toks = malloc((keep ? n_tok + 1 : MAX_SENT_TOKENS) * sizeof *w.toks);
    w.tmp = malloc(MAX_SENT_TOKENS * sizeof *w.tmp);
    w.em = malloc(MAX_SENT_TOKENS * T * sizeof *w.em);
    w.bp = malloc(MAX_SENT_TOKENS * T * sizeof *w.bp);
    w.tags = malloc(MAX_SENT_TOKENS * sizeof *w.tags);
    lt = malloc((n_tok + 1) * sizeof *lt);
    /* only the cache's keys need clearing (32 KB of its 290) */
    if (n_tok > CACHE_MIN_TOKENS && (w.cache = malloc(sizeof *w.cache)) != NULL)
        memset(w.cache->key, 0, sizeof w.cache->key);
    /* the words of the document context, at most one a token: a table
     * of their size from the start, not grown step by step */
    if (!w.toks || !w.tmp || !w.em || !w.bp || !w.tags || !lt ||
        (n_tok > CACHE_MIN_TOKENS && !w.cache) || hset_reserve(&dc.words, n_tok))
        goto out;

    /* Pass 1: document context (lowercase forms, capitalised forms). Tokens
     * are grouped into sentences; tokens outside any sentence form groups
     * of their own. */
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
            ner_tok *st = w.toks + (keep ? i : 0);
            if (pass == 0) {
                for (size_t q = i; q < j; q++) {
                    ner_tok_prepare(&st[q - i], text + tok[q].start,
                                    tok[q].end - tok[q].start);
                    lt[q].s = text + tok[q].start;
                    lt[q].len = (uint32_t)(tok[q].end - tok[q].start);
                }
                if (ner_doc_observe(&dc, st, j - i))
                    goto out;
            } else {
                if ((rc = do_sentence(e, &w, &dc, text, tok, i, j - i, st, !keep)) != 0)
                    goto out;
                for (size_t q = i; q < j; q++)
                    lt[q].flags = (uint8_t)(st[q - i].flags | (q == i ? TF_SENT_START : 0));
                rc = -ENOMEM;
            }
            i = j;
        }
    }
    if (w.n)
        qsort(w.spans, w.n, sizeof *w.spans, cmp_span);
    if (e->link) {
        if (acronym_defs(lt, n_tok, &w.spans, &w.n, &w.cap) ||
            link_mentions(lt, n_tok, &w.spans, &w.n, &w.cap))
            goto out;
    } else {
        for (size_t i = 0; i < w.n; i++)
            w.spans[i].ref = (int32_t)i;
    }
    /* annotate, and the index of distinct entities; built with the
     * constructors rather than json_pack (no format to parse), the spans
     * added in one call where the host has annotate_many */
    index = json_array();
    size_t *slot = calloc(w.n + 1, sizeof *slot);
    dp_ann *anns = malloc((w.n + 1) * sizeof *anns);
    int many = DP_HAS_FIELD(api, dp_api, annotate_many) && api->annotate_many;
    size_t n_ann = 0;
    if (index == NULL || slot == NULL || anns == NULL)
        goto ann_out;
    for (size_t i = 0; i < w.n; i++) {
        const ent_span *s = &w.spans[i];
        size_t a = tok[s->start].start, b = tok[s->end - 1].end;
        json_t *attrs = json_object();
        if (attrs == NULL ||
            json_object_set_new_nocheck(attrs, "ref", json_integer(s->ref))) {
            json_decref(attrs);
            goto ann_out;
        }
        anns[n_ann++] = (dp_ann){a, b, s->label, attrs};
        if (!many && api->annotate(doc, "entity", a, b, s->label, attrs))
            goto ann_out;
        if (s->ref == (int32_t)i) {
            json_t *item = json_object();
            if (item == NULL || json_array_append_new(index, item) ||
                json_object_set_new_nocheck(item, "text", json_stringn(text + a, b - a)) ||
                json_object_set_new_nocheck(item, "label", json_string(s->label)) ||
                json_object_set_new_nocheck(item, "count", json_integer(1)))
                goto ann_out;
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
            goto ann_out;
    }
    rc = 0;
ann_out:
    if (many)
        for (size_t i = 0; i < n_ann; i++)
            json_decref(anns[i].attrs);
    free(anns);
    free(slot);
    if (rc || index == NULL) {
        rc = rc ? rc : -ENOMEM;
        goto out;
    }
    if ((rc = api->export_layer(doc, "entity", "entities",
                                DP_EXPORT_TEXT | DP_EXPORT_SRC)) != 0)
        goto out;
    rc = api->set_output(doc, "entity_index", index);
    index = NULL;
out:
    if (rc)
        dp_err_set(err, "entities: %s", strerror(-rc));
    json_decref(index);
    ner_docctx_free(&dc);
    free(w.spans);
    free(w.tmp);
    free(w.toks);
    free(w.em);
    free(w.bp);
    free(w.tags);
    free(w.cache);
    free(lt);
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
