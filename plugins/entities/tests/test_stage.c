/* The stage through a pipeline "segment,entities": the sample article,
 * options and errors, refs and the entity index, any input bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>

#include "testkit.h"

static dp_pipeline pipe_;

static int setup(void **state)
{
    (void)state;
    dp_err err = {{0}};
    if (tk_pipeline(&pipe_, "[{\"name\":\"segment\"},{\"name\":\"entities\"}]", &err)) {
        fprintf(stderr, "pipeline: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dp_pipeline_free(&pipe_);
    return 0;
}

static json_t *run(const char *text, long len)
{
    dp_err err = {{0}};
    const char *failed = NULL;
    dp_doc *doc = tk_run(&pipe_, "t.txt", text, len, &err, &failed);
    if (doc == NULL)
        fail_msg("run failed in %s: %s", failed ? failed : "?", err.msg);
    json_t *out = tk_output(doc);
    dp_doc_free(doc);
    assert_non_null(out);
    return out;
}

static int has(json_t *out, const char *text, const char *label)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(out, "entities"), i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "text")), text) == 0 &&
            strcmp(json_string_value(json_object_get(e, "label")), label) == 0)
            return 1;
    }
    return 0;
}

#define HAS(out, text, label)                                                  \
    do {                                                                       \
        if (!has(out, text, label))                                            \
            fail_msg("no %s entity '%s'", label, text);                        \
    } while (0)

static void check_refs(json_t *out)
{
    json_t *ents = json_object_get(out, "entities");
    json_t *index = json_object_get(out, "entity_index");
    assert_true(json_is_array(ents));
    assert_true(json_is_array(index));
    size_t i, canon = 0;
    json_int_t total = 0;
    json_t *e;
    json_array_foreach(ents, i, e)
    {
        json_t *ref = json_object_get(e, "ref");
        assert_true(json_is_integer(ref));
        json_int_t r = json_integer_value(ref);
        assert_true(r >= 0 && (size_t)r <= i);
        json_t *c = json_array_get(ents, (size_t)r);
        assert_int_equal(json_integer_value(json_object_get(c, "ref")), r);
        assert_string_equal(json_string_value(json_object_get(c, "label")),
                            json_string_value(json_object_get(e, "label")));
        if ((size_t)r == i)
            canon++;
    }
    assert_int_equal(json_array_size(index), canon);
    json_array_foreach(index, i, e)
    {
        assert_non_null(json_string_value(json_object_get(e, "text")));
        assert_non_null(json_string_value(json_object_get(e, "label")));
        total += json_integer_value(json_object_get(e, "count"));
    }
    assert_int_equal(total, json_array_size(ents));
}

static void check_sample(json_t *out);

static void test_sample(void **state)
{
    (void)state;
    size_t len;
    char *text = tk_slurp(SAMPLE_FILE, &len);
    assert_non_null(text);
    json_t *out = run(text, (long)len);
    check_sample(out);
    /* and behind clean (text replaced: entities carry "src") when this
     * build has it */
    dp_pipeline p;
    dp_err err = {{0}};
    if (tk_pipeline(&p, "[{\"name\":\"clean\"},{\"name\":\"segment\"},"
                        "{\"name\":\"entities\"}]", &err) == 0) {
        const char *failed = NULL;
        dp_doc *doc = tk_run(&p, "k.txt", text, (long)len, &err, &failed);
        assert_non_null(doc);
        out = tk_output(doc);
        dp_doc_free(doc);
        check_sample(out);
        dp_pipeline_free(&p);
    }
    free(text);
}

static void check_sample(json_t *out)
{
    HAS(out, "Kassym-Jomart Tokayev", "PERSON");
    HAS(out, "Xi Jinping", "PERSON");
    HAS(out, "Wang Yi", "PERSON");
    HAS(out, "Sergei Lavrov", "PERSON");
    const char *gpe[] = {"China", "Kazakhstan", "Russia", "Moscow", "Beijing",
                         "Armenia", "Belarus", "Kyrgyzstan", "Tajikistan",
                         "Xinjiang", NULL};
    for (const char **g = gpe; *g; g++)
        HAS(out, *g, "GPE");
    HAS(out, "Collective Security Treaty Organization", "ORG");
    HAS(out, "CSTO", "ORG");
    HAS(out, "Global Times", "ORG");
    HAS(out, "Chinese", "NORP");
    HAS(out, "Kazakh", "NORP");
    HAS(out, "Russian", "NORP");
    HAS(out, "Uighurs", "NORP");
    HAS(out, "January 2", "DATE");
    HAS(out, "Monday, January 10", "DATE");
    HAS(out, "18 million", "CARDINAL");
    /* CSTO is linked to its long form, which is its canonical mention */
    json_t *index = json_object_get(out, "entity_index");
    size_t i;
    json_t *e;
    int found = 0;
    json_array_foreach(index, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "text")),
                   "Collective Security Treaty Organization") == 0) {
            assert_int_equal(json_integer_value(json_object_get(e, "count")), 3);
            found = 1;
        }
        assert_string_not_equal(json_string_value(json_object_get(e, "text")), "CSTO");
    }
    assert_true(found);
    check_refs(out);
    json_decref(out);
}

static void test_short_forms(void **state)
{
    (void)state;
    json_t *out = run("President Kassym-Jomart Tokayev asked for help. Later, "
                      "Tokayev thanked Russia. Chinese President Xi Jinping called. Xi said it "
                      "was over.", -1);
    HAS(out, "Tokayev", "PERSON");
    HAS(out, "Xi", "PERSON");
    check_refs(out);
    json_decref(out);
}

/* The mentions of one entity share one attrs object, one reference each:
 * a huge document repeats a few thousand entities in millions of mentions,
 * and an object per mention made the stage's memory grow by about 300
 * bytes a mention. */
static void test_attrs_shared(void **state)
{
    (void)state;
    dp_err err = {{0}};
    const char *failed = NULL;
    const char *text = "Russia called. Later, Russia wrote. Russia and China met. "
                       "China said no.";
    dp_doc *doc = tk_run(&pipe_, "t.txt", text, -1, &err, &failed);
    assert_non_null(doc);
    size_t n = 0;
    const dp_ann *a = dp_doc_layer(doc, "entity", &n);
    size_t russia = 0, china = 0;
    const json_t *first_russia = NULL, *first_china = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *word = text + a[i].start;
        const json_t **first = strncmp(word, "Russia", 6) == 0 ? &first_russia
                               : strncmp(word, "China", 5) == 0 ? &first_china
                                                                 : NULL;
        if (first == NULL)
            continue;
        if (*first == NULL)
            *first = a[i].attrs;
        assert_ptr_equal(a[i].attrs, *first);
        if (first == &first_russia)
            russia++;
        else
            china++;
    }
    assert_int_equal(russia, 3);
    assert_int_equal(china, 2);
    assert_ptr_not_equal(first_russia, first_china);
    /* one reference per mention: the layer frees them without help */
    assert_int_equal(first_russia->refcount, 3);
    dp_doc_free(doc);
}

/* The last word of a multi-word name tells its kind (data/heads.tsv);
 * a first name keeps a person ("Michael Bay"), a known place its kind. */
static void test_head_words(void **state)
{
    (void)state;
    json_t *out = run("The trestle crossed Willett Brook near Harrison. She ran for the "
                      "leadership of the Ontario Liberal Party in 1990. They stayed at the "
                      "Mark Hopkins Hotel in San Francisco. Michael Bay directed the film. "
                      "The Soviet Union collapsed.", -1);
    HAS(out, "Willett Brook", "LOC");
    HAS(out, "Ontario Liberal Party", "ORG");
    HAS(out, "Mark Hopkins Hotel", "FAC");
    HAS(out, "Michael Bay", "PERSON");
    HAS(out, "Soviet Union", "GPE");
    check_refs(out);
    json_decref(out);
    /* a place and a plural of animals or people: a sports team */
    out = run("Gaudin began the season for the Sacramento River Cats. The Chicago Bulls "
              "beat the New York Knicks.", -1);
    HAS(out, "Sacramento River Cats", "ORG");
    HAS(out, "Chicago Bulls", "ORG");
    json_decref(out);
    /* a first name that is also a place before a geographic head */
    out = run("The park includes Lincoln Reservoir and a playfield. Peter Brook directed "
              "the play.", -1);
    HAS(out, "Lincoln Reservoir", "LOC");
    HAS(out, "Peter Brook", "PERSON");
    check_refs(out);
    json_decref(out);
    /* events, laws and awards by their last word */
    out = run("The band played at the North Sea Jazz Festival in July. Congress passed "
              "the Clean Air Act in 1970. They played at the Glastonbury Festival in "
              "2004. The road runs between Main Street and the Arkansas River. She "
              "studied at the University of Oxford.", -1);
    HAS(out, "North Sea Jazz Festival", "EVENT");
    HAS(out, "Clean Air Act", "LAW");
    /* a run ending with a head word, whatever the model found inside it,
     * cut after its last connector; "X of ..." with an organisation head */
    HAS(out, "Glastonbury Festival", "EVENT");
    HAS(out, "Arkansas River", "LOC");
    HAS(out, "University of Oxford", "ORG");
    assert_false(has(out, "Main Street and the Arkansas River", "LOC"));
    check_refs(out);
    json_decref(out);
    /* events and laws named by their head and "of", ordinal included, over
     * the place inside them; "and" ends a name */
    out = run("The Second Battle of Bull Run was fought in 1862. He served at the "
              "Battle of Gettysburg and the Siege of Petersburg. The Treaty of "
              "Versailles ended the war. The 2nd Battle of Fredericksburg was short.",
              -1);
    HAS(out, "Second Battle of Bull Run", "EVENT");
    HAS(out, "Battle of Gettysburg", "EVENT");
    HAS(out, "Siege of Petersburg", "EVENT");
    HAS(out, "Treaty of Versailles", "LAW");
    HAS(out, "2nd Battle of Fredericksburg", "EVENT");
    assert_false(has(out, "Versailles", "GPE"));
    check_refs(out);
    json_decref(out);
    /* a noun that names what follows */
    out = run("He was a founding member of the band God Street Wine. She signed to the "
              "record label Deltasonic in 2004. The group leader John Smith spoke.", -1);
    HAS(out, "God Street Wine", "ORG");
    HAS(out, "Deltasonic", "ORG");
    HAS(out, "John Smith", "PERSON");
    check_refs(out);
    json_decref(out);
    out = run("The line ran to the town of Sebago. It lies in the village of Vanxim.", -1);
    HAS(out, "Sebago", "GPE");
    HAS(out, "Vanxim", "GPE");
    check_refs(out);
    json_decref(out);
    /* a title inside a person span: the name after the last one */
    out = run("Seminole County Sheriff Don Eslinger said the boy was safe. But Woodward "
              "said no, but others agreed.", -1);
    HAS(out, "Don Eslinger", "PERSON");
    /* a sentence's first word that is no noun and occurs in lower case too
     * is not part of a name */
    HAS(out, "Woodward", "PERSON");
    assert_false(has(out, "But Woodward", "PERSON"));
    check_refs(out);
    json_decref(out);
    /* "the" and a noun of groups: an organisation, not a person */
    out = run("Lawyers for the states asked the Court to rule. They met Smith there.", -1);
    HAS(out, "Court", "ORG");
    assert_false(has(out, "Court", "PERSON"));
    HAS(out, "Smith", "PERSON");
    json_decref(out);
}

/* A title-case phrase in double quotes is a work; quoted speech is not. */
static void test_quoted_titles(void **state)
{
    (void)state;
    json_t *out = run("The band released \"A Beautiful Lie\" in 2005 and \u201cMade in "
                      "Miami\u201d later. \"We will win this War,\" he said. She read "
                      "\"The Old Man and the Sea\" aloud. An open \" quote Here Now.", -1);
    HAS(out, "A Beautiful Lie", "WORK_OF_ART");
    HAS(out, "Made in Miami", "WORK_OF_ART");
    HAS(out, "The Old Man and the Sea", "WORK_OF_ART");
    assert_false(has(out, "Miami", "GPE"));
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(out, "entities"), i, e)
        assert_null(strstr(json_string_value(json_object_get(e, "text")), "We will"));
    check_refs(out);
    json_decref(out);
}

/* A name never holds one double quote of a pair: the model stopping
 * inside 'John "Smith"' must not give 'John "Smith'. */
static void test_quotes_paired(void **state)
{
    (void)state;
    json_t *out = run("John \"Smith\" met Mary \"Jones\" in Paris. \"Peter Brook "
                      "said so,\" he wrote.", -1);
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(out, "entities"), i, e) {
        const char *t = json_string_value(json_object_get(e, "text"));
        size_t q = 0;
        for (const char *p = t; *p; p++)
            q += *p == '"';
        if (q % 2)
            fprintf(stderr, "unpaired quote in [%s]\n", t);
        assert_int_equal(q % 2, 0);
    }
    HAS(out, "Paris", "GPE");
    HAS(out, "Peter Brook", "PERSON");
    check_refs(out);
    json_decref(out);
    /* a nickname in quotes inside a name is part of the name, not a work */
    out = run("Yesterday Dwayne \"The Rock\" Johnson visited Paris.", -1);
    HAS(out, "Dwayne \"The Rock\" Johnson", "PERSON");
    assert_false(has(out, "The Rock", "WORK_OF_ART"));
    check_refs(out);
    json_decref(out);
}

static void test_any_bytes(void **state)
{
    (void)state;
    json_t *out = run("", 0);
    assert_int_equal(json_array_size(json_object_get(out, "entities")), 0);
    assert_int_equal(json_array_size(json_object_get(out, "entity_index")), 0);
    json_decref(out);
    /* long runs without sentence ends, odd scripts, control characters */
    size_t n = 20000;
    char *buf = malloc(n + 1);
    assert_non_null(buf);
    unsigned seed = 7;
    static const char *const pieces[] = {"Alpha ", "Beta ", "( ", "ABC ", "$ ",
                                         "5 ", "% ", "Январь ", "東京 ", "\t",
                                         "- ", "'s ", "May ", "2020 ", "x"};
    size_t k = 0;
    while (k < n) {
        seed = seed * 1103515245u + 12345u;
        const char *p = pieces[(seed >> 16) % 15];
        size_t l = strlen(p);
        if (k + l > n)
            break;
        memcpy(buf + k, p, l);
        k += l;
    }
    buf[k] = 0;
    out = run(buf, (long)k);
    check_refs(out);
    json_decref(out);
    free(buf);
}

static void test_options(void **state)
{
    (void)state;
    dp_pipeline p;
    dp_err err = {{0}};
    assert_true(tk_pipeline(&p, "[{\"name\":\"segment\"},{\"name\":\"entities\","
                                "\"options\":{\"model\":\"/nonexistent/m.bin\"}}]",
                            &err) != 0);
    assert_non_null(strstr(err.msg, "/nonexistent/m.bin"));
    memset(&err, 0, sizeof err);
    assert_true(tk_pipeline(&p, "[{\"name\":\"segment\"},{\"name\":\"entities\","
                                "\"options\":{\"gazetteers\":[\"/nonexistent/g.tsv\"]}}]",
                            &err) != 0);
    assert_non_null(strstr(err.msg, "gazetteers[0]"));
    /* a user gazetteer tags its names; numbers can be switched off */
    char path[] = "/tmp/ent_test_ugaz_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("Frobnicator Pro\tPRODUCT\n", f);
    fclose(f);
    char cfg[512];
    snprintf(cfg, sizeof cfg,
             "[{\"name\":\"segment\"},{\"name\":\"entities\",\"options\":"
             "{\"gazetteers\":[\"%s\"],\"numbers\":false}}]", path);
    assert_int_equal(tk_pipeline(&p, cfg, &err), 0);
    const char *failed = NULL;
    dp_doc *doc = tk_run(&p, "u.txt", "we bought the frobnicator and a Frobnicator Pro for 5 dollars.",
                         -1, &err, &failed);
    assert_non_null(doc);
    json_t *out = tk_output(doc);
    HAS(out, "Frobnicator Pro", "PRODUCT");
    assert_false(has(out, "5 dollars", "MONEY"));
    json_decref(out);
    dp_doc_free(doc);
    dp_pipeline_free(&p);
    unlink(path);
}

/* process() runs on several threads with one instance: the same text gives
 * the same entities on every thread. */
static char *sample_text;
static size_t sample_len;
static char *thread_out[4];

static void *worker(void *arg)
{
    size_t k = (size_t)arg;
    for (int r = 0; r < 3; r++) {
        dp_err err = {{0}};
        const char *failed = NULL;
        dp_doc *doc = tk_run(&pipe_, "k.txt", sample_text, (long)sample_len, &err, &failed);
        if (doc == NULL)
            return NULL;
        json_t *out = tk_output(doc);
        dp_doc_free(doc);
        free(thread_out[k]);
        thread_out[k] = json_dumps(json_object_get(out, "entities"), JSON_SORT_KEYS);
        json_decref(out);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    sample_text = tk_slurp(SAMPLE_FILE, &sample_len);
    assert_non_null(sample_text);
    json_t *one = run(sample_text, (long)sample_len);
    char *want = json_dumps(json_object_get(one, "entities"), JSON_SORT_KEYS);
    json_decref(one);
    pthread_t th[4];
    for (size_t k = 0; k < 4; k++)
        assert_int_equal(pthread_create(&th[k], NULL, worker, (void *)k), 0);
    for (size_t k = 0; k < 4; k++)
        pthread_join(th[k], NULL);
    for (size_t k = 0; k < 4; k++) {
        assert_non_null(thread_out[k]);
        assert_string_equal(thread_out[k], want);
        free(thread_out[k]);
    }
    free(want);
    free(sample_text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample),
        cmocka_unit_test(test_short_forms),
        cmocka_unit_test(test_attrs_shared),
        cmocka_unit_test(test_head_words),
        cmocka_unit_test(test_quoted_titles),
        cmocka_unit_test(test_quotes_paired),
        cmocka_unit_test(test_any_bytes),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
