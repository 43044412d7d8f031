/* Rules for numbers and time, and mention linking, on hand-made tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../ent.h"

/* Split on spaces into tokens; returns the count. */
static size_t toks(char *buf, ner_tok *t, size_t max)
{
    size_t n = 0;
    char *save = NULL;
    for (char *w = strtok_r(buf, " ", &save); w && n < max; w = strtok_r(NULL, " ", &save))
        ner_tok_prepare(&t[n++], w, strlen(w));
    return n;
}

/* Run numex on `text` and render "label:words|label:words". */
static void numex(const char *text, const gaz *g, char *out, size_t outlen)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", text);
    ner_tok t[64];
    size_t n = toks(buf, t, 64);
    ner_sent_finish(NULL, g, t, n);
    ent_span s[64];
    size_t k = numex_find(t, n, g, s);
    out[0] = 0;
    for (size_t i = 0; i < k; i++) {
        size_t l = strlen(out);
        snprintf(out + l, outlen - l, "%s%s:", i ? "|" : "", s[i].label);
        for (uint32_t j = s[i].start; j < s[i].end; j++) {
            l = strlen(out);
            snprintf(out + l, outlen - l, "%s%.*s", j > s[i].start ? " " : "",
                     (int)t[j].len, t[j].s);
        }
    }
}

#define EXPECT(text, want)                                                     \
    do {                                                                       \
        char got[512];                                                         \
        numex(text, &g, got, sizeof got);                                      \
        if (strcmp(got, want) != 0)                                            \
            fail_msg("'%s': got '%s', want '%s'", text, got, want);            \
    } while (0)

static void test_numex(void **state)
{
    (void)state;
    gaz g;
    gaz_init(&g);
    assert_int_equal(numex_init(), 0);
    assert_int_equal(gaz_add(&g, "USD", 3, GZ_CURRENCY), 0);
    EXPECT("Monday , January 10 , during a call", "DATE:Monday , January 10");
    EXPECT("since January 2 with protests", "DATE:January 2");
    EXPECT("on 10 January 2022 he left", "DATE:10 January 2022");
    EXPECT("in March 1999 and in 2004", "DATE:March 1999|DATE:2004");
    EXPECT("we may go", "");
    /* a month alone after a cue word, also the ones that are names too */
    EXPECT("held in July and in early June", "DATE:July|DATE:June");
    EXPECT("by March prices rose", "DATE:March");
    EXPECT("June Carter met May Smith", "");
    EXPECT("in Jun prices rose", "");
    EXPECT("the 1990s were long", "DATE:the 1990s");
    EXPECT("yesterday and last week", "DATE:yesterday|DATE:last week");
    EXPECT("three years ago", "DATE:three years ago");
    EXPECT("at 5 p.m. or 10:30", "TIME:5 p.m.|TIME:10:30");
    EXPECT("it cost $ 5 million", "MONEY:$ 5 million");
    EXPECT("it cost $5 million", "MONEY:$5 million");
    EXPECT("paid 300 USD today", "MONEY:300 USD|DATE:today");
    EXPECT("about 20 euros", "MONEY:20 euros");
    EXPECT("rose 3 % or 4.5 percent", "PERCENT:3 %|PERCENT:4.5 percent");
    EXPECT("rose 3%", "PERCENT:3%");
    EXPECT("a country of 18 million inhabitants", "CARDINAL:18 million");
    EXPECT("walked 5 km and 12 miles", "QUANTITY:5 km|QUANTITY:12 miles");
    EXPECT("the second time and 21st place", "ORDINAL:second|ORDINAL:21st");
    EXPECT("wait a second", "");
    EXPECT("no one came but twenty-five did", "CARDINAL:twenty-five");
    EXPECT("1,200 people", "CARDINAL:1,200");
    EXPECT("two and a half million cars", "CARDINAL:two and a half million");
    EXPECT("on 2021-03-04", "DATE:2021-03-04");
    gaz_free(&g);
}

/* buf's words (split at single spaces) as linking sees them */
static dp_ann lt_span[64];
static uint8_t lt_flags[64];
static ent_toks ltoks(const char *buf)
{
    size_t n = 0, i = 0, len = strlen(buf);
    while (i < len && n < 64) {
        size_t e = i;
        while (e < len && buf[e] != ' ')
            e++;
        ner_tok t;
        ner_tok_prepare(&t, buf + i, e - i);
        lt_span[n] = (dp_ann){i, e, NULL, NULL};
        lt_flags[n] = t.flags;
        n++;
        i = e + 1;
    }
    return (ent_toks){buf, lt_span, lt_flags, n};
}

static void test_linking(void **state)
{
    (void)state;
    char buf[] = "Kassym-Jomart Tokayev met Xi Jinping . Tokayev and Xi spoke . "
                 "The Collective Security Treaty Organization ( CSTO ) acts . "
                 "CSTO troops came . Xi Jinping left";
    ent_toks lt = ltoks(buf);
    ent_spans l = {0};
    assert_int_equal(ent_spans_push(&l, (ent_span){0, 2, "PERSON", -1, 0}), 0);
    assert_int_equal(ent_spans_push(&l, (ent_span){3, 5, "PERSON", -1, 0}), 0);
    /* wrong label, fixed by linking */
    assert_int_equal(ent_spans_push(&l, (ent_span){6, 7, "GPE", -1, 0}), 0);
    assert_int_equal(acronym_defs(&lt, &l), 0);
    assert_int_equal(link_mentions(&lt, &l), 0);
    const ent_span *s = l.spans;
    size_t ns = l.n;
    /* mentions: K-J Tokayev, Xi Jinping, Tokayev, Xi, CSTO-long, CSTO, CSTO, Xi Jinping */
    assert_int_equal(ns, 8);
    assert_int_equal(s[2].start, 6);
    assert_string_equal(s[2].label, "PERSON");
    assert_int_equal(s[2].ref, 0);
    assert_int_equal(s[3].start, 8);
    assert_int_equal(s[3].ref, 1);
    assert_string_equal(s[4].label, "ORG");
    assert_int_equal(s[4].start, 12);
    assert_int_equal(s[4].end, 16);
    assert_int_equal(s[4].ref, 4);
    assert_int_equal(s[5].ref, 4); /* (CSTO) */
    assert_int_equal(s[6].ref, 4); /* CSTO troops */
    assert_string_equal(s[6].label, "ORG");
    assert_int_equal(s[7].ref, 1); /* repeat found again */
    for (size_t i = 0; i < ns; i++)
        assert_true(s[i].ref >= 0 && (size_t)s[i].ref <= i);
    free(l.spans);
}

/* Write `text` to a new temporary file; its name goes to path (a
 * mkstemp template). */
static void write_tmp(char *path, const char *text)
{
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A gazetteer loaded from `text` (a temporary file named in path). */
static void load_tmp(gaz *g, char *path, const char *text)
{
    char msg[256];
    gaz_init(g);
    write_tmp(path, text);
    assert_int_equal(gaz_load(g, path, msg, sizeof msg), 0);
}

/* Loading `text` fails, naming line 2. */
static void assert_bad_line2(gaz *g, const char *path, const char *text)
{
    char msg[256];
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_true(gaz_load(g, path, msg, sizeof msg) < 0);
    assert_non_null(strstr(msg, ":2:"));
}

static void test_gazetteer(void **state)
{
    (void)state;
    gaz g;
    char path[] = "/tmp/ent_test_gaz_XXXXXX";
    load_tmp(&g, path, "# comment\nNew York\tCITY\nKassym-Jomart Tokayev\tPERSON\n"
                       "Acme Widgets\tPRODUCT\n");
    char buf[] = "Kassym - Jomart Tokayev visited New York to buy Acme Widgets";
    ner_tok t[16];
    size_t n = toks(buf, t, 16);
    assert_int_equal(ner_sent_finish(NULL, &g, t, n), 0);
    assert_true(t[0].gaz & (1u << GZ_PERSON));
    assert_true(t[0].gaz_b && !t[1].gaz_b && (t[3].gaz & (1u << GZ_PERSON)));
    assert_true(t[5].gaz & (1u << GZ_CITY));
    assert_int_equal(t[9].gaz, 1u << GZ_USER_FIRST);
    assert_string_equal(g.class_names[GZ_USER_FIRST], "PRODUCT");
    assert_int_equal(t[4].gaz, 0);
    /* a token holding white space (or longer than its hashed 64 bytes)
     * still matches: its key is made without the spaces */
    ner_tok ny[1];
    ner_tok_prepare(&ny[0], "New York", 8);
    assert_true(ny[0].h_gaz == gaz_key("NewYork", 7) && ny[0].h_gaz != ny[0].h_word);
    assert_int_equal(ner_sent_finish(NULL, &g, ny, 1), 0);
    assert_true(ny[0].gaz & (1u << GZ_CITY));
    assert_true(t[5].h_gaz == t[5].h_word);
    /* bad lines are reported with their number */
    assert_bad_line2(&g, path, "Good\tCITY\nno tab here\n");
    unlink(path);
    gaz_free(&g);
}

/* Word classes (data/wordclass.tsv): a token gets its WordNet class, a
 * regular plural its singular's, a capitalised run its head's class. */
static void test_wordclass(void **state)
{
    (void)state;
    gaz g;
    char msg[256];
    char path[] = "/tmp/ent_test_wc_XXXXXX";
    load_tmp(&g, path, "band\tnoun.group\ncompany\tnoun.group\n"
                       "orchestra\tnoun.group\ntown\tnoun.location\n");
    unsigned group = 0;
    for (unsigned i = 0; i < GZ_N_WORDCLASS; i++)
        if (strcmp(gz_wordclass_names[i], "noun.group") == 0)
            group = i + 1;
    assert_true(group > 0);
    assert_string_equal(gz_wordclass_names[GZ_WC_ANIMAL - 1], "noun.animal");
    assert_string_equal(gz_wordclass_names[GZ_WC_PERSON - 1], "noun.person");
    char buf[] = "The bands and companies of the town met the Berlin Philharmonic Orchestra";
    ner_tok t[16];
    size_t n = toks(buf, t, 16);
    assert_int_equal(ner_sent_finish(NULL, &g, t, n), 0);
    assert_int_equal(t[1].wcls, group);  /* bands -> band */
    assert_int_equal(t[3].wcls, group);  /* companies -> company */
    assert_int_not_equal(t[6].wcls, 0);  /* town */
    assert_int_not_equal(t[6].wcls, group);
    assert_int_equal(t[0].wcls, 0);      /* "The": no class */
    assert_int_equal(t[11].wcls, group); /* capitalised: its lower case */
    assert_int_equal(t[9].wcls_run_last, group); /* "Berlin" in "... Orchestra" */
    assert_int_equal(g.n, 0); /* word classes are not gazetteer names */
    /* an unknown class is an error with its line */
    assert_bad_line2(&g, path, "band\tnoun.group\nfoo\tnoun.nothing\n");
    unlink(path);
    gaz_free(&g);
    /* the shipped file loads and knows the nouns the rules rely on */
    gaz_init(&g);
    char shipped[1024];
    snprintf(shipped, sizeof shipped, "%s/data/wordclass.tsv", ENT_SRC_DIR);
    assert_int_equal(gaz_load(&g, shipped, msg, sizeof msg), 0);
    assert_true(g.wcls.n > 50000);
    ner_tok c[1];
    ner_tok_prepare(&c[0], "clubs", 5);
    assert_int_equal(gaz_wordclass(&g, c[0].low, c[0].llen, c[0].h_low), group);
    gaz_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numex),
        cmocka_unit_test(test_linking),
        cmocka_unit_test(test_gazetteer),
        cmocka_unit_test(test_wordclass),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
