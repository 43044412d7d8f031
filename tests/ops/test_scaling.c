/* docs/scaling.md, on a small scale: `docproc --jsonl` split by GNU
 * parallel gives the same results, line for line, as one run. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e.h"

/* Drop the per-run timings, which differ between runs. */
static json_t *without_timings(const char *line)
{
    json_t *o = json_loads(line, 0, NULL);
    if (o)
        json_object_del(o, "stages");
    return o;
}

static void test_parallel_equals_single_run(void **state)
{
    (void)state;
    if (system("command -v parallel >/dev/null 2>&1") != 0)
        skip();
    e2e_tree t;
    e2e_tree_init(&t, 0);
    e2e_write_config(&t, e2e_example_stages("{\"export_words\": true}"), 100,
                     NULL);
    /* 2,000 lines of varied text, one with a bad line in the middle */
    char input[300];
    snprintf(input, sizeof input, "%s/in.jsonl", t.root);
    FILE *f = fopen(input, "w");
    assert_non_null(f);
    for (int i = 0; i < 2000; i++) {
        if (i == 777)
            fprintf(f, "this line is not JSON\n");
        else
            fprintf(f, "{\"id\": \"doc-%d\", \"text\": \"Document %d says "
                       "%s\"}\n",
                    i, i, i % 3 ? "something short" : "a little more, é ü");
    }
    fclose(f);
    char single[1200], split[1200];
    snprintf(single, sizeof single, "%s --config %s --jsonl < %s", e2e_env("E2E_DOCPROC"),
             t.config, input);
    /* --block 8k makes many chunks, run 2 at a time, kept in order (-k) */
    snprintf(split, sizeof split,
             "parallel --will-cite --pipe -k --block 8k -j 2 %s --config %s "
             "--jsonl < %s",
             e2e_env("E2E_DOCPROC"), t.config, input);
    char *argv1[] = {"/bin/sh", "-c", single, NULL};
    char *argv2[] = {"/bin/sh", "-c", split, NULL};
    char *out1, *out2, *err1, *err2;
    int rc1 = e2e_run(argv1, NULL, &out1, &err1);
    int rc2 = e2e_run(argv2, NULL, &out2, &err2);
    assert_int_equal(rc1, 1); /* one bad line: exit 1, not an abort */
    assert_int_not_equal(rc2, 0);
    size_t lines = 0;
    char *save1 = NULL, *save2 = NULL;
    char *l1 = strtok_r(out1, "\n", &save1), *l2 = strtok_r(out2, "\n", &save2);
    for (; l1 && l2; l1 = strtok_r(NULL, "\n", &save1),
                     l2 = strtok_r(NULL, "\n", &save2), lines++) {
        json_t *a = without_timings(l1), *b = without_timings(l2);
        assert_non_null(a);
        assert_non_null(b);
        /* A line that is not JSON has no id: its error line names its line
         * number within the chunk docproc saw. Compare what it says. */
        json_t *ea = json_object_get(a, "error"), *eb = json_object_get(b, "error");
        if (ea && eb) {
            assert_true(json_equal(json_object_get(ea, "stage"),
                                   json_object_get(eb, "stage")));
        } else if (!json_equal(a, b))
            fail_msg("line %zu differs:\n%s\n%s", lines + 1, l1, l2);
        json_decref(a);
        json_decref(b);
    }
    assert_null(l1);
    assert_null(l2);
    assert_int_equal(lines, 2000);
    free(out1);
    free(out2);
    free(err1);
    free(err2);
    e2e_tree_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parallel_equals_single_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
