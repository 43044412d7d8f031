/* entities: from the model's tags to one sentence's mentions.
 *
 * The model's spans are trimmed and relabelled first (model_spans: titles
 * and lower-case words at the edges left out, quotes kept in pairs, regnal
 * numbers and initials joined, labels refined by the gazetteer and head
 * words); then each rule below adds what the model missed or cut, in the
 * order of ent_sentence_mentions(): a rule sees the spans found before it.
 * Spans are token indexes of the document; a span whose label is set to
 * NULL is dropped at the end (drop_cleared). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

/* The gazetteer classes of places that are GPEs: countries, cities and
 * regions. */
#define GEO ((1u << GZ_COUNTRY) | (1u << GZ_CITY) | (1u << GZ_REGION))

/* What the gazetteer knows of the text of tokens [a, b) of the document. */
static uint32_t span_gaz(const ent_sentence *S, uint32_t a, uint32_t b)
{
    return gaz_lookup(&S->e->gaz, S->text + S->tok[a].start,
                      S->tok[b - 1].end - S->tok[a].start);
}

/* OntoNotes label of a model span, refined with the gazetteer. */
static const char *refine(const entities *e, const char *label, uint32_t mask,
                          const ner_tok *next)
{
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
    const uint32_t GEO_LOC = GEO | (1u << GZ_LOC);
    /* a place followed by a plural of animals or people is a sports team:
     * "Sacramento River Cats", "Chicago Bulls", "New York Giants" */
    if ((t[i].gaz & GEO_LOC) && t[i].gaz_b && !(span_mask & GEO_LOC) &&
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
        !((h & (1u << GZ_LOC)) && (t[i].gaz & GEO_LOC)))
        return label;
    if (span_mask & (GEO_LOC | (1u << GZ_ORG) | (1u << GZ_PERSON)))
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

/* A rule's span [A, B) in place of the sentence's spans inside it.
 * 0 or -ENOMEM. */
static int replace_inside(const ent_sentence *S, uint32_t A, uint32_t B, const char *label)
{
    for (size_t q = S->first; q < S->out->n; q++) {
        ent_span *s = &S->out->spans[q];
        if (s->label && s->start >= A && s->end <= B)
            s->label = NULL;
    }
    return ent_spans_push(S->out, (ent_span){A, B, label, -1, 2});
}

/* A sentence's first word that is no noun and occurs in lower case too
 * ("But", "So") is not the start of a name: "But Palace". */
static int weak_opener(const ner_tok *t)
{
    return (t->flags & TF_LCSEEN) && t->wcls == 0;
}

/* Titles and nationalities before a person's name are not part of it:
 * "President Xi Jinping", "Chinese Foreign Minister Wang Yi"; nor is a
 * title further in: "County Sheriff Don Eslinger", "Brigadier General
 * Glenn Profitt" -> the name after the last title. Moves *a. */
static void trim_titles(const entities *e, const ner_tok *t, size_t n, size_t *a, size_t j)
{
    const uint32_t STRIP = (1u << GZ_TITLE) | (1u << GZ_NORP) | (1u << GZ_COUNTRY);
    size_t i = *a;
    while (i < j && (t[i].gaz & STRIP) && t[i].gaz_b) {
        size_t q = i + 1;
        while (q < j && t[q].gaz && !t[q].gaz_b)
            q++;
        if (q < n && t[q].gaz && !t[q].gaz_b)
            break; /* the gazetteer name runs past the span */
        i = q;
    }
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
    *a = i;
}

/* Names neither start nor end with a lower-case word: "Chinese daily
 * Global Times" -> NORP + ORG, "Kazakh regime" -> "Kazakh"; nor start
 * with a weak sentence opener. Moves *a and *b. */
static void trim_lower_edges(const ner_tok *t, size_t n, size_t *a, size_t *b)
{
    const uint32_t ADJ = (1u << GZ_NORP) | (1u << GZ_LANGUAGE) | (1u << GZ_COUNTRY);
    size_t i = *a, j = *b;
    if (i == 0 && j > 1 && weak_opener(&t[0]) && !t[0].gaz)
        i++;
    while (i < j && ((t[i].flags & TF_LOWER) ||
                     (i + 1 < j && t[i].gaz_b && (t[i].gaz & ADJ) &&
                      (t[i + 1].flags & TF_LOWER) &&
                      !(i + 1 < n && t[i + 1].gaz && !t[i + 1].gaz_b))))
        i++;
    while (j > i && (t[j - 1].flags & TF_LOWER))
        j--;
    *a = i;
    *b = j;
}

/* A name holds its double quotes in pairs ('Dwayne "The Rock" Johnson'):
 * the model can stop inside them, 'John "Smith" met' giving 'John
 * "Smith'. Close the pair when the next token is the closing quote, else
 * leave the unpaired quote out. Moves *a or *b. */
static void pair_quotes(const ner_tok *t, size_t n, size_t *a, size_t *b)
{
    size_t nq = 0, lastq = *a;
    for (size_t k = *a; k < *b; k++)
        if (is_dquote(&t[k])) {
            nq++;
            lastq = k;
        }
    if (nq % 2 == 0)
        return;
    if (*b < n && is_dquote(&t[*b]))
        (*b)++;
    else if (lastq == *a)
        (*a)++;
    else
        *b = lastq;
}

/* "the League", "the Party", "the Union": one capitalised word after
 * "the" that is a noun of groups (WordNet's noun.group) and no place the
 * gazetteer knows names an organisation, not a person. */
static const char *the_group(const ner_tok *t, size_t i, size_t j, const char *label)
{
    if (j - i != 1 || i == 0 || !NER_LOW_IS(&t[i - 1], "the") || t[i].wcls != GZ_WC_GROUP ||
        !(t[i].flags & TF_INIT_CAP) || (t[i].flags & TF_ALLCAPS_SENT) || (t[i].gaz & GEO))
        return label;
    /* a place stays one: "the Village" is a neighbourhood as often */
    return strcmp(label, "PERSON") == 0 ? "ORG" : label;
}

/* The model's spans, trimmed and relabelled. */
static int model_spans(const ent_sentence *S)
{
    const entities *e = S->e;
    const ner_model *m = &S->e->model;
    const ner_tok *t = S->t;
    size_t n = S->n;
    size_t t0 = S->t0;
    size_t first_new = S->first;
    ent_spans *w = S->out;
    for (size_t i = 0; i < n;) {
        int tg = S->tags[i];
        if (m->tag_kind[tg] == 0) {
            i++;
            continue;
        }
        size_t j = i + 1;
        while (j < n && m->tag_kind[S->tags[j]] == 2 &&
               m->tag_label[S->tags[j]] == m->tag_label[tg])
            j++;
        const char *lab = e->label_map[m->tag_label[tg]];
        int person = strcmp(lab, "PERSON") == 0;
        size_t next = j; /* where the model's span ends */
        if (person)
            trim_titles(e, t, n, &i, j);
        if (i < j)
            trim_lower_edges(t, n, &i, &j);
        if (i < j)
            pair_quotes(t, n, &i, &j);
        if (i == j) {
            i = next;
            continue;
        }
        /* "World War II", "Henry VIII", "Andrew J. Evans Jr.", "C. H. Douglas" */
        while (j < n && m->tag_kind[S->tags[j]] == 0 &&
               (roman(&t[j]) || (person && suffix_jr(&t[j]))))
            j++;
        if (person)
            while (i > 0 && m->tag_kind[S->tags[i - 1]] == 0 && initial(&t[i - 1]) &&
                   (first_new == w->n || w->spans[w->n - 1].end < t0 + i))
                i--;
        uint32_t sm = span_gaz(S, (uint32_t)(t0 + i), (uint32_t)(t0 + j));
        lab = refine(e, lab, sm, j < n ? &t[j] : NULL);
        lab = head_label(e, lab, t, i, j, sm);
        lab = the_group(t, i, j, lab);
        ent_span s = {(uint32_t)(t0 + i), (uint32_t)(t0 + j), lab, -1, 0};
        if (ent_spans_push(w, s))
            return -ENOMEM;
        i = j > next ? j : next;
    }
    return 0;
}

/* a multi-word country, region or city name the model split or cut:
 * "Bosnia and Herzegovina", "People's Republic of China" */
static int geo_names(const ent_sentence *S)
{
    const ner_tok *t = S->t;
    size_t n = S->n;
    size_t t0 = S->t0;
    size_t first_new = S->first;
    ent_spans *w = S->out;
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
            if (ent_spans_push(w, s))
                return -ENOMEM;
            qsort(w->spans + first_new, w->n - first_new, sizeof *w->spans, ent_span_cmp);
        }
        i = j;
    }
    return 0;
}


static int numbers(const ent_sentence *S)
{
    const entities *e = S->e;
    const ner_tok *t = S->t;
    size_t n = S->n;
    size_t t0 = S->t0;
    size_t first_new = S->first;
    ent_spans *w = S->out;
    size_t n_model = w->n - first_new;
    /* numbers and time: they replace a model span they cover entirely */
    size_t k = e->numbers ? numex_find(t, n, &e->gaz, S->tmp) : 0;
    for (size_t r = 0; r < k; r++) {
        uint32_t a = (uint32_t)t0 + S->tmp[r].start, b = (uint32_t)t0 + S->tmp[r].end;
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
            ent_span s = {a, b, S->tmp[r].label, -1, 1};
            if (ent_spans_push(w, s))
                return -ENOMEM;
        }
    }
    return 0;
}

/* gazetteer: countries, nationalities, languages, user classes */
static int gazetteer_names(const ent_sentence *S)
{
    const entities *e = S->e;
    const ner_tok *t = S->t;
    size_t n = S->n;
    size_t t0 = S->t0;
    size_t first_new = S->first;
    ent_spans *w = S->out;
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
                    if (ent_spans_push(w, s))
                        return -ENOMEM;
                }
            }
            i = j;
        }
    }
    return 0;
}

/* a title followed by capitalised words: "President Xi Jinping" */
static int title_person(const ent_sentence *S)
{
    const ner_tok *t = S->t;
    size_t n = S->n;
    size_t t0 = S->t0;
    size_t first_new = S->first;
    ent_spans *w = S->out;
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
            if (ent_spans_push(w, s))
                return -ENOMEM;
        }
        i = b - 1;
    }
    return 0;
}

/* a noun that names what follows: "the band Spirit" -> ORG, where the
 * model saw a person or a place, or nothing */
static int cue_noun(const ent_sentence *S)
{
    const ner_tok *t = S->t;
    size_t n = S->n;
    size_t t0 = S->t0;
    size_t first_new = S->first;
    ent_spans *w = S->out;
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
            if (ent_spans_push(w, s))
                return -ENOMEM;
        }
        i = b - 1;
    }
    return 0;
}

/* The first user class (EVENT, LAW, ...) of a heads.tsv mask, or NULL. */
static const char *head_class(const entities *e, uint32_t h)
{
    for (int c = GZ_USER_FIRST; c < e->heads.n_classes; c++)
        if (h & (1u << c))
            return e->heads.class_names[c];
    return NULL;
}

/* a capitalised run that ends with a head word is a name of that kind
 * even where the model found nothing or only a part of it: "the
 * Glastonbury Festival" EVENT, "North Sea Jazz Festival" (not "North
 * Sea"), "Deltasonic Records" ORG; and "University/Bank/Ministry of
 * ..." ORG by its first word. A leading "The" is left out; a name that
 * starts with a first name is left to the model when it is two words
 * or its head is a place or building ("Peter Brook", "John Smith
 * Hall"). */
static int head_runs(const ent_sentence *S)
{
    const entities *e = S->e;
    const ner_tok *t = S->t;
    size_t n = S->n;
    size_t t0 = S->t0;
    size_t first_new = S->first;
    ent_spans *w = S->out;
    for (size_t i = 0; i < n; i++) {
        if (t[i].run_pos != 1)
            continue;
        size_t a = i, b = i + 1;
        while (b < n && (t[b].run_pos == 2 || t[b].run_pos == 3))
            b++;
        i = b - 1;
        if (NER_LOW_IS(&t[a], "the") || NER_LOW_IS(&t[a], "a") ||
            (a == 0 && weak_opener(&t[a])))
            a++; /* "Lantern Festival" stays: "Lantern" is a noun */
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
            lab = head_class(e, h);
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
        /* "North Sea" in "North Sea Jazz Festival" goes */
        if (free_ && replace_inside(S, A, B, lab))
            return -ENOMEM;
    }
    return 0;
}

/* An event or a law named by its head and "of": "Battle of Gettysburg",
 * "Second Battle of Bull Run", "2nd Battle of Fredericksburg", "Siege of
 * Petersburg", "Treaty of Versailles", "Edict of Nantes". The whole name
 * takes the head's class (heads.tsv) over the place inside it, which the
 * model or the gazetteer tagged alone, and over the model's own label for
 * the whole. */
static int event_of(const ent_sentence *S)
{
    const entities *e = S->e;
    const ner_tok *t = S->t;
    size_t n = S->n;
    for (size_t f = 0; f + 2 < n; f++) {
        if (!t[f].run_pos || t[f].run_pos == 3 || t[f].run_pos == 4 ||
            !(t[f].flags & TF_INIT_CAP) || !NER_LOW_IS(&t[f + 1], "of"))
            continue;
        const char *lab = head_class(e, gaz_lookup(&e->heads, t[f].s, t[f].len));
        if (lab == NULL || (strcmp(lab, "EVENT") != 0 && strcmp(lab, "LAW") != 0))
            continue;
        size_t a = f > 0 && numex_is_ordinal(&t[f - 1]) ? f - 1 : f;
        /* the name ends with the run, or before "and": "the Battle of
         * Gettysburg and the Siege of Petersburg" are two */
        size_t b = f + 2;
        while (b < n && (t[b].run_pos == 2 || t[b].run_pos == 3) &&
               !NER_LOW_IS(&t[b], "and") && !NER_LOW_IS(&t[b], "or") &&
               !NER_LOW_IS(&t[b], "&"))
            b++;
        while (b > f + 2 && (t[b - 1].flags & TF_LOWER))
            b--;
        if (b == f + 2 || b - a > 8)
            continue;
        uint32_t A = (uint32_t)(S->t0 + a), B = (uint32_t)(S->t0 + b);
        int crossed = 0;
        for (size_t q = S->first; q < S->out->n && !crossed; q++) {
            const ent_span *s = &S->out->spans[q];
            crossed = s->label && s->start < B && s->end > A && (s->start < A || s->end > B);
        }
        if (!crossed && replace_inside(S, A, B, lab))
            return -ENOMEM;
        f = b - 1;
    }
    return 0;
}

/* a capitalised title in double quotes is a work: "A Beautiful Lie" */
static int quoted(const ent_sentence *S)
{
    const entities *e = S->e;
    const ner_tok *t = S->t;
    size_t n = S->n;
    size_t t0 = S->t0;
    size_t first_new = S->first;
    ent_spans *w = S->out;
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
        /* "Miami" in "Made in Miami" goes */
        if (free_ && replace_inside(S, A, B, "WORK_OF_ART"))
            return -ENOMEM;
        i = j;
    }
    return 0;
}

/* drop the spans a later rule replaced (their label set to NULL) */
static int drop_cleared(const ent_sentence *S)
{
    size_t first_new = S->first;
    ent_spans *w = S->out;
    size_t o = first_new;
    for (size_t q = first_new; q < w->n; q++)
        if (w->spans[q].label)
            w->spans[o++] = w->spans[q];
    w->n = o;
    return 0;
}

int ent_sentence_mentions(const ent_sentence *S)
{
    /* the rules in order; each sees the spans of those before it */
    static int (*const step[])(const ent_sentence *) = {
        model_spans, geo_names,  numbers, gazetteer_names, title_person,
        cue_noun,    head_runs,  event_of, quoted,  drop_cleared};
    for (size_t i = 0; i < sizeof step / sizeof *step; i++) {
        int rc = step[i](S);
        if (rc)
            return rc;
    }
    return 0;
}
