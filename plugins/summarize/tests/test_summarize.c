/* Tests of the summarize stage, on a predictable segmenter (testseg). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>

#include <cmocka.h>

#include "testkit.h"

/* Run text (len bytes, or -1 for a C string) through the pipeline of the
 * given stages; returns the output object (json_decref it). */
static json_t *run_stages(const char *stages, const char *name,
                          const char *text, long len)
{
    dp_pipeline p;
    dp_err err = {{0}};
    int rc = tk_pipeline(&p, stages, &err);
    if (rc != 0)
        fail_msg("pipeline: %s", err.msg);
    const char *failed = NULL;
    dp_doc *doc = tk_run(&p, name, text, len, &err, &failed);
    if (doc == NULL)
        fail_msg("run failed in %s: %s", failed ? failed : "?", err.msg);
    json_t *out = tk_output(doc);
    assert_non_null(out);
    dp_doc_free(doc);
    dp_pipeline_free(&p);
    return out;
}

/* Run text through testseg + summarize with the given options. */
static json_t *run(const char *options, const char *text)
{
    char stages[1024];
    snprintf(stages, sizeof stages,
             "[{\"name\": \"testseg\", \"plugin\": \"%s\"},"
             " {\"name\": \"summarize\", \"options\": %s}]",
             TESTSEG_PATH, options);
    return run_stages(stages, "t.txt", text, -1);
}

static json_t *summary_idx(json_t *out)
{
    json_t *s = json_object_get(json_object_get(out, "summary"), "sentences");
    assert_true(json_is_array(s));
    return s;
}

static const char *summary_text(json_t *out)
{
    json_t *t = json_object_get(json_object_get(out, "summary"), "text");
    assert_true(json_is_string(t));
    return json_string_value(t);
}

static int picked(json_t *out, size_t i)
{
    json_t *s = summary_idx(out);
    for (size_t k = 0; k < json_array_size(s); k++)
        if ((size_t)json_integer_value(json_array_get(s, k)) == i)
            return 1;
    return 0;
}

/* A news-like document of n sentences about a council's library plans. */
static char *make_doc(size_t n)
{
    static const char *const pool[] = {
        "The city council approved a new budget for the central library on Monday.",
        "Library staff said the budget would pay for longer opening hours.",
        "Council members argued for weeks about the cost of the library plan.",
        "Local schools will use the library for reading programmes next year.",
        "The mayor said the council had listened to readers and library staff.",
        "Critics of the plan said the council should spend more on roads.",
        "A public meeting on the library budget is planned for the spring.",
        "Volunteers have helped the library run events for children since 2010.",
        "The library building needs a new roof before the winter storms.",
        "Readers signed a petition asking the council to protect library jobs.",
    };
    size_t np = sizeof pool / sizeof *pool;
    size_t cap = n * 100 + 1, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    for (size_t i = 0; i < n; i++) {
        const char *s = pool[i % np];
        char tmp[160];
        /* vary sentences beyond the pool so they are not all repeats */
        if (i >= np)
            snprintf(tmp, sizeof tmp, "%.*s in district %zu.",
                     (int)strlen(s) - 1, s, i / np);
        else
            snprintf(tmp, sizeof tmp, "%s", s);
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", tmp,
                                (i % 4 == 3) ? "\n\n" : " ");
    }
    return buf;
}

static void test_default_length_rule(void **state)
{
    (void)state;
    /* a two-sentence note gets one sentence, not itself */
    json_t *out = run("{}", "The meeting moved to Friday at noon. Please "
                            "bring the signed budget forms with you.");
    assert_int_equal(json_array_size(summary_idx(out)), 1);
    json_decref(out);

    char *doc = make_doc(10); /* 20% of 10 = 2 */
    out = run("{}", doc);
    assert_int_equal(json_array_size(summary_idx(out)), 2);
    json_decref(out);
    free(doc);

    doc = make_doc(40); /* 3 is fewer than 20% of 40 */
    out = run("{}", doc);
    assert_int_equal(json_array_size(summary_idx(out)), 3);
    json_decref(out);
    free(doc);

    out = run("{}", "Just one sentence here about the library.");
    assert_int_equal(json_array_size(summary_idx(out)), 1);
    json_decref(out);
}

static void test_length_options(void **state)
{
    (void)state;
    char *doc = make_doc(20);
    json_t *out = run("{\"sentences\": 5}", doc);
    assert_int_equal(json_array_size(summary_idx(out)), 5);
    json_decref(out);

    out = run("{\"ratio\": 0.5}", doc);
    assert_int_equal(json_array_size(summary_idx(out)), 10);
    json_decref(out);

    out = run("{\"sentences\": 100}", doc); /* capped at the document */
    assert_int_equal(json_array_size(summary_idx(out)), 20);
    json_decref(out);

    /* word budget: at most 30 words, at least one sentence */
    out = run("{\"words\": 30}", doc);
    size_t n = json_array_size(summary_idx(out));
    assert_true(n >= 1);
    const char *t = summary_text(out);
    size_t words = 0;
    for (const char *p = t; *p;) {
        while (*p == ' ')
            p++;
        if (*p)
            words++;
        while (*p && *p != ' ')
            p++;
    }
    assert_true(words <= 30);
    assert_true(words >= 10);
    json_decref(out);

    /* a budget smaller than any sentence still gives one sentence */
    out = run("{\"words\": 2}", doc);
    assert_int_equal(json_array_size(summary_idx(out)), 1);
    json_decref(out);
    free(doc);
}

static void test_bad_options_refused(void **state)
{
    (void)state;
    const char *bad[] = {"{\"ratio\": 1.5}", "{\"sentences\": 0}",
                         "{\"words\": -3}", "{\"diversity\": 2}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char stages[512];
        snprintf(stages, sizeof stages,
                 "[{\"name\": \"testseg\", \"plugin\": \"%s\"},"
                 " {\"name\": \"summarize\", \"options\": %s}]",
                 TESTSEG_PATH, bad[i]);
        dp_pipeline p;
        dp_err err = {{0}};
        assert_int_not_equal(tk_pipeline(&p, stages, &err), 0);
        assert_non_null(strstr(err.msg, "summarize"));
    }
}

static void test_order_and_text(void **state)
{
    (void)state;
    char *doc = make_doc(30);
    json_t *out = run("{\"sentences\": 4}", doc);
    json_t *idx = summary_idx(out);
    json_t *sents = json_object_get(out, "sentences");
    const char *text = json_string_value(json_object_get(out, "text"));
    assert_int_equal(json_array_size(idx), 4);
    char expect[4096] = "";
    long prev = -1;
    for (size_t k = 0; k < json_array_size(idx); k++) {
        long i = (long)json_integer_value(json_array_get(idx, k));
        assert_true(i > prev); /* document order */
        prev = i;
        json_t *s = json_array_get(sents, (size_t)i);
        size_t a = (size_t)json_integer_value(json_object_get(s, "start"));
        size_t b = (size_t)json_integer_value(json_object_get(s, "end"));
        if (k)
            strcat(expect, " ");
        strncat(expect, text + a, b - a); /* ASCII: code points = bytes */
    }
    assert_string_equal(summary_text(out), expect);
    json_decref(out);
    free(doc);
}

static void test_redundancy(void **state)
{
    (void)state;
    const char *text =
        "The city council approved a new budget for the central library.\n\n"
        "Library staff welcomed the budget for the central library.\n\n"
        "The city council approved a new budget for the central library.\n\n"
        "Schools will use the library for reading lessons.\n\n"
        "The council budget also covers a new roof for the library.\n\n"
        "Critics said the council should spend more money on roads.\n\n"
        "A public meeting about the budget is planned for the spring.\n\n"
        "Volunteers run events for children at the library.\n\n"
        "The city council approved a new budget for the central library.\n\n"
        "Readers signed a petition to protect library jobs.";
    json_t *out = run("{\"sentences\": 3}", text);
    int copies = picked(out, 0) + picked(out, 2) + picked(out, 8);
    assert_true(copies <= 1);
    assert_int_equal(json_array_size(summary_idx(out)), 3);
    json_decref(out);
}

static void test_question_and_boilerplate_penalties(void **state)
{
    (void)state;
    const char *text =
        "What will the council do about the library budget and library jobs?\n\n"
        "The council approved the library budget after a long debate.\n\n"
        "Read more about the library budget and library jobs here.\n\n"
        "Library jobs were protected in the new budget, staff said.\n\n"
        "Schools will use the library for reading lessons next year.\n\n"
        "The library roof will also be repaired before the winter.\n\n"
        "Critics said the council should spend more money on roads.\n\n"
        "Click here to subscribe to our library budget newsletter.\n\n"
        "A public meeting about the budget is planned for the spring.\n\n"
        "Volunteers run events for children at the library.";
    json_t *out = run("{\"sentences\": 3}", text);
    assert_false(picked(out, 0)); /* question */
    assert_false(picked(out, 2)); /* Read more */
    assert_false(picked(out, 7)); /* Click here */
    json_decref(out);

    /* a quotation without attribution loses to a reported statement */
    text = "\"We will protect every library job in the city budget.\"\n\n"
           "The mayor promised to protect every library job in the city "
           "budget on Monday.\n\n"
           "The library opens at nine.\n\n"
           "Schools will use the library for lessons.\n\n"
           "Parking near the building is free.";
    out = run("{\"sentences\": 1}", text);
    assert_true(picked(out, 1));
    json_decref(out);
}

/* A sentence made of "I", "you", "we" is an aside; the third-person
 * statement of the same news is the summary, even though the aside comes
 * first (and so has the lead boost). */
static void test_first_person_aside(void **state)
{
    (void)state;
    const char *text =
        "I told you we love our library and our library budget, you know.\n\n"
        "The council approved the library budget for the city library.\n\n"
        "The library opens at nine.\n\n"
        "Schools will use the library for lessons.\n\n"
        "Parking near the building is free.";
    json_t *out = run("{\"sentences\": 1}", text);
    assert_true(picked(out, 1));
    json_decref(out);
}

static void test_keyphrases(void **state)
{
    (void)state;
    char *doc = make_doc(30);
    json_t *out = run("{}", doc);
    json_t *kp = json_object_get(out, "keyphrases");
    assert_true(json_is_array(kp));
    assert_true(json_array_size(kp) >= 3);
    assert_true(json_array_size(kp) <= 10);
    int library = 0;
    double prev = 2;
    for (size_t i = 0; i < json_array_size(kp); i++) {
        json_t *k = json_array_get(kp, i);
        const char *t = json_string_value(json_object_get(k, "text"));
        double sc = json_number_value(json_object_get(k, "score"));
        assert_non_null(t);
        assert_true(strlen(t) > 0);
        assert_true(sc > 0 && sc <= 1.0);
        assert_true(sc <= prev); /* best first */
        prev = sc;
        if (strstr(t, "library"))
            library = 1;
        /* verbs and adverbs do not end a phrase ("approved", "planned") */
        size_t tl = strlen(t);
        assert_false(tl > 2 && strcmp(t + tl - 2, "ed") == 0);
        assert_false(tl > 2 && strcmp(t + tl - 2, "ly") == 0);
    }
    assert_true(library);
    json_decref(out);

    out = run("{\"keyphrases\": 0}", doc);
    assert_int_equal(json_array_size(json_object_get(out, "keyphrases")), 0);
    json_decref(out);
    free(doc);
}

/* Whether a keyphrase of out is text (exact) or contains it. */
static int kp_find(json_t *out, const char *text, int exact)
{
    json_t *kp = json_object_get(out, "keyphrases");
    for (size_t i = 0; i < json_array_size(kp); i++) {
        const char *t =
            json_string_value(json_object_get(json_array_get(kp, i), "text"));
        if (exact ? strcmp(t, text) == 0 : strstr(t, text) != NULL)
            return 1;
    }
    return 0;
}

static int kp_has(json_t *out, const char *word) { return kp_find(out, word, 0); }
static int kp_is(json_t *out, const char *text) { return kp_find(out, text, 1); }

/* A keyphrase is a noun phrase: the words that are only ever verbs
 * (data/verbs.txt) end it, lower-case or first in the sentence, while a
 * capitalised one inside a sentence may be part of a name. */
static void test_keyphrases_leave_out_verbs(void **state)
{
    (void)state;
    json_t *out = run("{\"keyphrases\": 20}",
                      "Please bring the budget figures. Staff discussed the "
                      "budget figures again. We listened to Bring Me The "
                      "Horizon on the budget bus.");
    assert_true(kp_is(out, "budget figures"));
    assert_false(kp_has(out, "Please"));
    assert_false(kp_has(out, "discussed"));
    assert_false(kp_has(out, "bring"));
    assert_true(kp_is(out, "Bring"));
    json_decref(out);
}

/* Dates, times and amounts are entities of their own, not topics: with
 * the entities stage they stay out of keyphrases, and a count in front of
 * a noun is dropped ("5,000 troops" is about troops); counts and ordinals
 * inside a phrase stay ("third quarter"). */
static void test_keyphrases_leave_out_dates_and_counts(void **state)
{
    (void)state;
    if (access(SZ_PLUGIN_DIR "/segment/segment.so", R_OK) != 0 ||
        access(SZ_PLUGIN_DIR "/entities/entities.so", R_OK) != 0)
        skip();
    json_t *out = run_stages(
        "[{\"name\": \"segment\"}, {\"name\": \"entities\"},"
        " {\"name\": \"summarize\", \"options\": {\"keyphrases\": 30}}]",
        "t.txt",
        "The board met at 10 a.m. on January 12 to review the third quarter. "
        "Some 5,000 troops guarded the board's offices during the third "
        "quarter. The troops stayed until 5 p.m. on January 12. Sales "
        "figures for the third quarter rose by $5 million.",
        -1);
    assert_false(kp_has(out, "a.m."));
    assert_false(kp_has(out, "p.m."));
    assert_false(kp_has(out, "January"));
    assert_false(kp_has(out, "5,000"));
    assert_false(kp_has(out, "million"));
    assert_true(kp_is(out, "troops"));
    assert_true(kp_is(out, "third quarter"));
    json_decref(out);
}

static void test_empty_and_odd_input(void **state)
{
    (void)state;
    json_t *out = run("{}", "");
    assert_int_equal(json_array_size(summary_idx(out)), 0);
    assert_string_equal(summary_text(out), "");
    assert_int_equal(json_array_size(json_object_get(out, "keyphrases")), 0);
    json_decref(out);

    out = run("{}", "!!! ??? ... --- \xe2\x80\x94 \xf0\x9f\x98\x80 \xe4\xb8\xad\xe6\x96\x87\xe3\x80\x82 "
                    "\xc3\x89T\xc3\x89 \xc3\xa9t\xc3\xa9 isn\xe2\x80\x99t.");
    assert_true(json_array_size(summary_idx(out)) >= 1);
    json_decref(out);
}

static void test_long_document_completes(void **state)
{
    (void)state;
    /* ~50,000 sentences (~4 MB): the windowed graph keeps this linear. */
    char *doc = make_doc(50000);
    json_t *out = run("{\"ratio\": 0.01}", doc);
    assert_int_equal(json_array_size(summary_idx(out)), 500);
    assert_true(json_array_size(json_object_get(out, "keyphrases")) > 0);
    json_decref(out);
    free(doc);
}

/* process() runs on several threads with one instance: the results must
 * be those of a serial run. */
typedef struct thr_arg {
    const dp_pipeline *p;
    const char *text;
    char *summary; /* out: summary text of the last run */
    int ok;
} thr_arg;

static void *thr_main(void *v)
{
    thr_arg *a = v;
    a->ok = 1;
    for (int i = 0; i < 10; i++) {
        dp_err err = {{0}};
        const char *failed = NULL;
        dp_doc *doc = tk_run(a->p, "t.txt", a->text, -1, &err, &failed);
        json_t *out = doc ? tk_output(doc) : NULL;
        const char *t = json_string_value(json_object_get(
            json_object_get(out, "summary"), "text"));
        if (t == NULL) {
            a->ok = 0;
        } else if (a->summary == NULL) {
            a->summary = strdup(t);
        } else if (strcmp(a->summary, t) != 0) {
            a->ok = 0;
        }
        json_decref(out);
        dp_doc_free(doc);
    }
    return NULL;
}

static void test_concurrent_documents(void **state)
{
    (void)state;
    char stages[1024];
    snprintf(stages, sizeof stages,
             "[{\"name\": \"testseg\", \"plugin\": \"%s\"},"
             " {\"name\": \"summarize\", \"options\": {\"sentences\": 2}}]",
             TESTSEG_PATH);
    dp_pipeline p;
    dp_err err = {{0}};
    assert_int_equal(tk_pipeline(&p, stages, &err), 0);
    char *docs[4] = {make_doc(12), make_doc(40), make_doc(200), NULL};
    docs[3] = strdup("Prices rose again in March. Shops blamed energy costs. "
                     "The central bank said rates would stay high. Economists "
                     "expect prices to settle by the summer.");
    thr_arg serial[4] = {{0}}, par[4] = {{0}};
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        serial[i] = (thr_arg){&p, docs[i], NULL, 0};
        thr_main(&serial[i]);
        assert_true(serial[i].ok);
        par[i] = (thr_arg){&p, docs[i], NULL, 0};
    }
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, thr_main, &par[i]), 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_true(par[i].ok);
        assert_string_equal(par[i].summary, serial[i].summary);
        free(par[i].summary);
        free(serial[i].summary);
        free(docs[i]);
    }
    dp_pipeline_free(&p);
}

/* End to end on a real news article with the real segmenter. */
static void test_news_with_segment(void **state)
{
    (void)state;
    if (access(SZ_PLUGIN_DIR "/segment/segment.so", R_OK) != 0 ||
        access(SZ_SAMPLE, R_OK) != 0)
        skip();
    size_t len;
    char *text = tk_slurp(SZ_SAMPLE, &len);
    assert_non_null(text);
    json_t *out =
        run_stages("[{\"name\": \"segment\"}, {\"name\": \"summarize\"}]",
                   "kazakhstan.txt", text, (long)len);
    size_t n = json_array_size(json_object_get(out, "sentences"));
    json_t *idx = summary_idx(out);
    assert_true(n >= 15);
    assert_int_equal(json_array_size(idx), 3); /* default rule */
    long prev = -1;
    for (size_t k = 0; k < json_array_size(idx); k++) {
        long i = (long)json_integer_value(json_array_get(idx, k));
        assert_true(i > prev && (size_t)i < n);
        prev = i;
    }
    assert_true(picked(out, 0)); /* news: the lead is part of the gist */
    json_t *kp = json_object_get(out, "keyphrases");
    assert_true(json_array_size(kp) >= 5);
    int found = 0;
    for (size_t k = 0; k < 3 && k < json_array_size(kp); k++)
        found |= strcmp(json_string_value(json_object_get(
                            json_array_get(kp, k), "text")),
                        "Kazakhstan") == 0;
    assert_true(found);
    json_decref(out);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_length_rule),
        cmocka_unit_test(test_length_options),
        cmocka_unit_test(test_bad_options_refused),
        cmocka_unit_test(test_order_and_text),
        cmocka_unit_test(test_redundancy),
        cmocka_unit_test(test_question_and_boilerplate_penalties),
        cmocka_unit_test(test_first_person_aside),
        cmocka_unit_test(test_keyphrases),
        cmocka_unit_test(test_keyphrases_leave_out_verbs),
        cmocka_unit_test(test_keyphrases_leave_out_dates_and_counts),
        cmocka_unit_test(test_empty_and_odd_input),
        cmocka_unit_test(test_long_document_completes),
        cmocka_unit_test(test_concurrent_documents),
        cmocka_unit_test(test_news_with_segment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
