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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
