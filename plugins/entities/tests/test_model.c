/* Model file: write/load round trip and clear errors for bad files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../ner.h"

static char path[256];

static void write_model(void)
{
    char tags[3][NER_TAGNAME] = {"O", "B-PER", "I-PER"};
    float start[3] = {0.5f, -1, -2}, trans[9] = {0};
    size_t rows = 1u << 8;
    float *w = calloc(rows * 3, sizeof *w);
    assert_non_null(w);
    for (size_t i = 0; i < rows * 3; i++)
        w[i] = (float)(i % 7) - 3.0f;
    char msg[512];
    assert_int_equal(ner_model_write(path, 8, 3, tags, start, trans, w, msg, sizeof msg), 0);
    free(w);
}

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/ent_test_model_%d.bin", (int)getpid());
    write_model();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

static void test_round_trip(void **state)
{
    (void)state;
    ner_model m;
    char msg[512];
    assert_int_equal(ner_model_load(&m, path, msg, sizeof msg), 0);
    assert_int_equal(m.n_tags, 3);
    assert_int_equal(m.hash_bits, 8);
    assert_string_equal(m.tags[1], "B-PER");
    assert_int_equal(m.n_labels, 1);
    assert_string_equal(m.labels[0], "PER");
    assert_true(m.start[0] > 0.49f && m.start[0] < 0.51f);
    /* weights dequantize to what was written, within the scale */
    assert_true(m.w[0] * m.scale > -3.01f && m.w[0] * m.scale < -2.99f);
    assert_true(m.w[4] * m.scale > 0.99f && m.w[4] * m.scale < 1.01f);
    ner_model_free(&m);
}

static void corrupt(size_t off, unsigned char v, long truncate_to)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    if (truncate_to >= 0) {
        assert_int_equal(ftruncate(fileno(f), truncate_to), 0);
    } else {
        fseek(f, (long)off, SEEK_SET);
        fputc(v, f);
    }
    fclose(f);
}

static void expect_error(const char *needle)
{
    ner_model m;
    char msg[512] = "";
    assert_true(ner_model_load(&m, path, msg, sizeof msg) < 0);
    if (strstr(msg, needle) == NULL)
        fail_msg("error '%s' lacks '%s'", msg, needle);
    write_model();
}

static void test_errors(void **state)
{
    (void)state;
    ner_model m;
    char msg[512];
    assert_true(ner_model_load(&m, "/nonexistent/model.bin", msg, sizeof msg) < 0);
    assert_non_null(strstr(msg, "cannot open"));
    corrupt(0, 'X', -1);
    expect_error("bad magic");
    corrupt(8, 9, -1);
    expect_error("version 9");
    corrupt(24, 99, -1);
    expect_error("feature set");
    corrupt(0, 0, 100);
    expect_error("truncated");
    corrupt(0, 0, 20);
    expect_error("too short");
    corrupt(500, 0x55, -1);
    expect_error("checksum");
    /* a text file */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("this is not a model, but it is long enough to be read as one.\n", f);
    fclose(f);
    expect_error("bad magic");
}

/* Capitalised runs: a name with inner connectors is one run; its tokens
 * know the run's position and the words around it; a gazetteer match
 * shorter than the run is marked ("Perth" in "Perth Glory"). */
static void prep(ner_tok *t, const char *const *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ner_tok_prepare(&t[i], w[i], strlen(w[i]));
}

static void test_runs(void **state)
{
    (void)state;
    static const char *const w[] = {"the", "Bank", "of", "England", "says",
                                    "Perth", "Glory", "met", "in", "Perth", "."};
    enum { N = sizeof w / sizeof *w };
    ner_tok t[N];
    prep(t, w, N);
    gaz g;
    gaz_init(&g);
    assert_int_equal(gaz_add(&g, "Perth", 5, GZ_CITY), 0);
    assert_int_equal(ner_sent_finish(NULL, &g, t, N), 0);
    assert_int_equal(t[0].run_pos, 0);
    assert_int_equal(t[1].run_pos, 1);
    assert_int_equal(t[2].run_pos, 2);
    assert_int_equal(t[3].run_pos, 3);
    assert_true(t[1].h_run_last == t[3].h_low && t[3].h_run_first == t[1].h_low);
    assert_true(t[2].h_run_prev == t[0].h_low && t[2].h_run_next == t[4].h_low);
    assert_int_equal(t[4].run_pos, 0);
    assert_int_equal(t[5].run_pos, 1);
    assert_int_equal(t[6].run_pos, 3);
    assert_int_equal(t[9].run_pos, 4);
    assert_true(t[5].gaz & (1u << GZ_CITY));
    assert_int_equal(t[5].gaz_part, 1); /* "Perth" of "Perth Glory" */
    assert_int_equal(t[9].gaz_part, 0); /* "Perth" alone */
    /* the run features differ with the name's last word */
    uint32_t f1[NER_MAX_FEATS], f2[NER_MAX_FEATS];
    size_t k1 = ner_features(t, N, 5, 20, f1);
    static const char *const w2[] = {"the", "Bank", "of", "England", "says",
                                     "Perth", "Airport", "met", "in", "Perth", "."};
    ner_tok t2[N];
    prep(t2, w2, N);
    assert_int_equal(ner_sent_finish(NULL, &g, t2, N), 0);
    size_t k2 = ner_features(t2, N, 5, 20, f2);
    assert_int_equal(k1, k2);
    assert_true(k1 <= NER_MAX_FEATS);
    assert_true(memcmp(f1, f2, k1 * sizeof *f1) != 0);
    gaz_free(&g);
    /* an all-capitals sentence (a heading) has no runs */
    static const char *const w3[] = {"THE", "BANK", "OF", "ENGLAND"};
    ner_tok t3[4];
    prep(t3, w3, 4);
    assert_int_equal(ner_sent_finish(NULL, NULL, t3, 4), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(t3[i].run_pos, 0);
    /* a connector between capitalised words stays inside the name */
    static const char *const w4[] = {"in", "Bosnia", "and", "Herzegovina", "and", "here"};
    ner_tok t4[6];
    prep(t4, w4, 6);
    assert_int_equal(ner_sent_finish(NULL, NULL, t4, 6), 0);
    assert_int_equal(t4[2].run_pos, 2);
    assert_int_equal(t4[3].run_pos, 3);
    assert_int_equal(t4[4].run_pos, 0);
}

/* Document contexts: what a capitalised word does in one sentence ("in
 * Harrison") reaches its other mentions ("Harrison grew"). */
static void test_doc_context(void **state)
{
    (void)state;
    static const char *const s1[] = {"They", "moved", "to", "a", "farm", "in", "Harrison", "."};
    static const char *const s2[] = {"Later", "Harrison", "grew", "."};
    static const char *const s3[] = {"Later", "Smith", "grew", "."};
    ner_tok a[8], b[4], c[4];
    prep(a, s1, 8);
    prep(b, s2, 4);
    prep(c, s3, 4);
    ner_docctx d = {0};
    assert_int_equal(ner_doc_observe(&d, a, 8), 0);
    assert_int_equal(ner_doc_observe(&d, b, 4), 0);
    assert_int_equal(ner_sent_finish(&d, NULL, b, 4), 0);
    assert_int_equal(ner_sent_finish(&d, NULL, c, 4), 0);
    assert_true(b[1].docctx != 0);
    assert_int_equal(c[1].docctx, 0); /* "Smith" was not seen */
    uint32_t fb1[NER_MAX_FEATS], fb2[NER_MAX_FEATS];
    size_t k1 = ner_features(b, 4, 1, 20, fb1);
    /* the same sentence in a document without "in Harrison" */
    ner_docctx d2 = {0};
    prep(b, s2, 4);
    assert_int_equal(ner_doc_observe(&d2, b, 4), 0);
    assert_int_equal(ner_sent_finish(&d2, NULL, b, 4), 0);
    size_t k2 = ner_features(b, 4, 1, 20, fb2);
    assert_true(k1 > k2);
    ner_docctx_free(&d);
    ner_docctx_free(&d2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test(test_runs),
        cmocka_unit_test(test_doc_context),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
