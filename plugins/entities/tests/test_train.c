/* docproc-train round trip: train on a tiny CoNLL file, tag it back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../conll.h"
#include "../ner.h"

static char dir[128], conllf[192], modelf[192], model2f[192];

static const char *DATA =
    "-DOCSTART- O\n\n"
    "Alice\tB-PER\nSmith\tI-PER\nvisited\tO\nParis\tB-LOC\n.\tO\n\n"
    "Bob\tB-PER\njoined\tO\nAcme\tB-ORG\nCorp\tI-ORG\nin\tO\nBerlin\tB-LOC\n.\tO\n\n"
    "-DOCSTART- O\n\n"
    "The\tO\nreport\tO\nfrom\tO\nAcme\tB-ORG\nCorp\tI-ORG\nnamed\tO\nAlice\tB-PER\nSmith\tI-PER\n.\tO\n\n"
    "Paris\tB-LOC\nand\tO\nBerlin\tB-LOC\nare\tO\ncities\tO\n.\tO\n";

static int run(const char *cmd)
{
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/ent_test_train_%d", (int)getpid());
    if (mkdir(dir, 0700) != 0)
        return -1;
    snprintf(conllf, sizeof conllf, "%s/tiny.conll", dir);
    snprintf(modelf, sizeof modelf, "%s/tiny.model", dir);
    snprintf(model2f, sizeof model2f, "%s/tiny2.model", dir);
    FILE *f = fopen(conllf, "w");
    if (!f)
        return -1;
    fputs(DATA, f);
    fclose(f);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(conllf);
    unlink(modelf);
    unlink(model2f);
    rmdir(dir);
    return 0;
}

static void test_round_trip(void **state)
{
    (void)state;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s -q --train %s --bits 12 --epochs 8 -o %s",
             TRAIN_EXE, conllf, modelf);
    assert_int_equal(run(cmd), 0);
    ner_model m;
    char msg[512];
    assert_int_equal(ner_model_load(&m, modelf, msg, sizeof msg), 0);
    assert_int_equal(m.n_tags, 7); /* O + B/I of LOC ORG PER */
    conll c = {0};
    assert_int_equal(conll_read(&c, conllf, msg, sizeof msg), 0);
    assert_int_equal(c.n_sent, 4);
    ner_tok t[16];
    float em[16 * NER_MAX_TAGS];
    int bp[16 * NER_MAX_TAGS], out[16];
    for (size_t s = 0; s < c.n_sent; s++) {
        size_t n = c.sent[s].n;
        ner_docctx d = {0};
        for (size_t i = 0; i < n; i++) {
            const char *w = c.tok[c.sent[s].first + i];
            ner_tok_prepare(&t[i], w, strlen(w));
        }
        assert_int_equal(ner_doc_observe(&d, t, n), 0);
        assert_int_equal(ner_sent_finish(&d, NULL, t, n), 0);
        ner_tag(&m, t, n, em, bp, out, NULL);
        for (size_t i = 0; i < n; i++)
            assert_string_equal(m.tags[out[i]], c.tag[c.sent[s].first + i]);
        ner_docctx_free(&d);
    }
    conll_free(&c);
    ner_model_free(&m);
    /* reproducible: the same command writes the same bytes */
    snprintf(cmd, sizeof cmd, "%s -q --train %s --bits 12 --epochs 8 -o %s && cmp -s %s %s",
             TRAIN_EXE, conllf, model2f, modelf, model2f);
    assert_int_equal(run(cmd), 0);
    /* --domains (shared + per-file feature copies) and --runs (average of
     * several trainings) write a loadable model */
    snprintf(cmd, sizeof cmd, "%s -q --train %s %s --domains --runs 2 --bits 12 -o %s",
             TRAIN_EXE, conllf, conllf, model2f);
    assert_int_equal(run(cmd), 0);
    ner_model m2;
    assert_int_equal(ner_model_load(&m2, model2f, msg, sizeof msg), 0);
    assert_int_equal(m2.n_tags, 7);
    ner_model_free(&m2);
    /* --test reports F1 1 on its own training data */
    snprintf(cmd, sizeof cmd, "%s --test %s -m %s | grep -q 'F1 1.0000'", TRAIN_EXE,
             conllf, modelf);
    assert_int_equal(run(cmd), 0);
    /* --repeat (a file seen N times per epoch) and --target (the model keeps
     * that file's own weights too) still learn the data */
    snprintf(cmd, sizeof cmd, "%s -q --train %s --repeat %s=3 --domains --target %s "
             "--bits 12 -o %s && %s --test %s -m %s | grep -q 'F1 1.0000'",
             TRAIN_EXE, conllf, conllf, conllf, model2f, TRAIN_EXE, conllf, model2f);
    assert_int_equal(run(cmd), 0);
    /* they name a --train file; --target needs --domains */
    snprintf(cmd, sizeof cmd, "%s -q --train %s --repeat /other.conll=2 -o %s 2>/dev/null",
             TRAIN_EXE, conllf, model2f);
    assert_int_equal(run(cmd), 2);
    snprintf(cmd, sizeof cmd, "%s -q --train %s --repeat %s=0 -o %s 2>/dev/null",
             TRAIN_EXE, conllf, conllf, model2f);
    assert_int_equal(run(cmd), 2);
    snprintf(cmd, sizeof cmd, "%s -q --train %s --target %s -o %s 2>/dev/null",
             TRAIN_EXE, conllf, conllf, model2f);
    assert_int_equal(run(cmd), 2);
}

static void test_iob1_and_errors(void **state)
{
    (void)state;
    /* IOB1: I- opens an entity; B- only between two adjacent ones */
    char path[256], msg[512];
    snprintf(path, sizeof path, "%s/iob1.conll", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("Alice NNP I-PER\nSmith NNP I-PER\nBob NNP B-PER\nsaw VBD O\n", f);
    fclose(f);
    conll c = {0};
    assert_int_equal(conll_read(&c, path, msg, sizeof msg), 0);
    assert_string_equal(c.tag[0], "B-PER");
    assert_string_equal(c.tag[1], "I-PER");
    assert_string_equal(c.tag[2], "B-PER");
    assert_string_equal(c.tag[3], "O");
    conll_free(&c);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("Alice B-PER\nSmith X-PER\n", f);
    fclose(f);
    assert_true(conll_read(&c, path, msg, sizeof msg) < 0);
    assert_non_null(strstr(msg, ":2: bad tag"));
    conll_free(&c);
    unlink(path);
    /* usage errors */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s --train %s 2>/dev/null", TRAIN_EXE, conllf);
    assert_int_equal(run(cmd), 2);
    snprintf(cmd, sizeof cmd, "%s --bogus 2>/dev/null", TRAIN_EXE);
    assert_int_equal(run(cmd), 2);
    snprintf(cmd, sizeof cmd, "%s --help | grep -q usage", TRAIN_EXE);
    assert_int_equal(run(cmd), 0);
    /* --version prints "docproc-train VERSION" and succeeds */
    snprintf(cmd, sizeof cmd, "%s --version | grep -q '^docproc-train [0-9]'", TRAIN_EXE);
    assert_int_equal(run(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s --train /nonexistent.conll -o %s/x 2>/dev/null", TRAIN_EXE, dir);
    assert_int_equal(run(cmd), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_iob1_and_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
