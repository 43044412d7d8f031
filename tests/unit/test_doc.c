/* The document API as stages see it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "doc.h"

static dp_doc *doc_of(const char *text)
{
    dp_doc *d = dp_doc_new("t.txt", NULL, text, strlen(text));
    dp_err err = {{0}};
    assert_non_null(d);
    assert_int_equal(dp_doc_decode_utf8(d, &err), 0);
    return d;
}

static void test_text_and_raw(void **state)
{
    (void)state;
    dp_doc *d = dp_doc_new("t.txt", NULL, "\xEF\xBB\xBFhi", 5);
    const dp_api *api = dp_doc_api(d);
    size_t len;
    assert_null(api->text(d, &len)); /* not decoded yet */
    dp_err err = {{0}};
    assert_int_equal(dp_doc_decode_utf8(d, &err), 0);
    assert_string_equal(api->text(d, &len), "hi"); /* BOM is not text */
    assert_int_equal(len, 2);
    assert_int_equal(api->raw(d, &len)[0], 0xEF);
    assert_int_equal(len, 5);
    assert_string_equal(api->name(d), "t.txt");
    assert_string_equal(dp_doc_encoding(d), "utf-8");
    dp_doc_free(d);
}

static void test_decode_rejects_bad_input(void **state)
{
    (void)state;
    dp_err err = {{0}};
    dp_doc *d = dp_doc_new("b", NULL, "ab\0cd", 5);
    assert_int_equal(dp_doc_decode_utf8(d, &err), -EILSEQ);
    assert_string_equal(err.msg, "binary input: NUL byte at offset 2");
    dp_doc_free(d);
    d = dp_doc_new("b", NULL, "caf\xE9", 4);
    assert_int_equal(dp_doc_decode_utf8(d, &err), -EILSEQ);
    assert_non_null(strstr(err.msg, "invalid UTF-8 at byte offset 3"));
    dp_doc_free(d);
    /* truncated sequence, overlong, surrogate */
    const char *bad[] = {"a\xE2\x82", "\xC0\xAF", "\xED\xA0\x80"};
    for (size_t i = 0; i < 3; i++) {
        d = dp_doc_new("b", NULL, bad[i], strlen(bad[i]));
        assert_int_equal(dp_doc_decode_utf8(d, &err), -EILSEQ);
        dp_doc_free(d);
    }
}

static void test_utf8_validator(void **state)
{
    (void)state;
    const char *ok = "plain ascii text longer than eight, é ü € 𝄞 end";
    assert_int_equal(dp_utf8_valid_prefix((const unsigned char *)ok,
                                          strlen(ok)),
                     strlen(ok));
    assert_int_equal(dp_utf8_valid_prefix((const unsigned char *)"abcdefgh\xFF",
                                          9),
                     8);
    assert_int_equal(
        dp_utf8_valid_prefix((const unsigned char *)"\xF4\x90\x80\x80", 4), 0);
}

static void test_annotate_and_layer_sorted(void **state)
{
    (void)state;
    dp_doc *d = doc_of("one two three");
    assert_int_equal(dp_doc_annotate(d, "w", 8, 13, "X", NULL), 0);
    assert_int_equal(dp_doc_annotate(d, "w", 0, 3, "X", NULL), 0);
    assert_int_equal(dp_doc_annotate(d, "w", 4, 7, "Y",
                                     json_pack("{s:i}", "n", 1)),
                     0);
    size_t n;
    const dp_ann *a = dp_doc_layer(d, "w", &n);
    assert_int_equal(n, 3);
    assert_int_equal(a[0].start, 0);
    assert_int_equal(a[1].start, 4);
    assert_int_equal(a[2].start, 8);
    assert_string_equal(a[1].label, "Y");
    assert_ptr_equal(a[0].label, a[2].label); /* interned */
    assert_int_equal(json_integer_value(json_object_get(a[1].attrs, "n")), 1);
    assert_null(dp_doc_layer(d, "absent", &n));
    assert_int_equal(n, 0);
    /* out of range spans are refused */
    assert_int_equal(dp_doc_annotate(d, "w", 5, 99, NULL, NULL), -EINVAL);
    assert_int_equal(dp_doc_annotate(d, "w", 5, 4, NULL, NULL), -EINVAL);
    dp_doc_free(d);
}

static void test_annotate_many(void **state)
{
    (void)state;
    dp_doc *d = doc_of("alpha beta gamma");
    const dp_api *api = dp_doc_api(d);
    assert_true(DP_HAS_FIELD(api, dp_api, annotate_many));
    char label[8] = "xxxx";
    dp_ann batch[] = {{0, 5, label, NULL},
                      {6, 10, "Xxxx", json_pack("{s:i}", "k", 1)},
                      {11, 16, label, NULL}};
    assert_int_equal(api->annotate_many(d, "tok", batch, 3), 0);
    strcpy(label, "dd"); /* the caller reuses its buffer: no stale label */
    dp_ann more[] = {{0, 1, label, NULL}};
    assert_int_equal(api->annotate_many(d, "tok", more, 1), 0);
    size_t n;
    const dp_ann *a = dp_doc_layer(d, "tok", &n);
    assert_int_equal(n, 4);
    assert_string_equal(a[0].label, "dd"); /* sorted: (0,1) first */
    assert_string_equal(a[1].label, "xxxx");
    assert_string_equal(a[2].label, "Xxxx");
    assert_int_equal(json_integer_value(json_object_get(a[2].attrs, "k")), 1);
    /* one bad span refuses the whole batch, and takes its attrs */
    dp_ann bad[] = {{0, 1, NULL, json_object()}, {5, 99, NULL, NULL}};
    assert_int_equal(api->annotate_many(d, "tok", bad, 2), -EINVAL);
    dp_doc_layer(d, "tok", &n);
    assert_int_equal(n, 4);
    dp_doc_free(d);
}

/* More distinct labels in one batch than the host remembers per call: each
 * annotation still keeps its own label. */
static void test_annotate_many_labels(void **state)
{
    (void)state;
    dp_doc *d = doc_of("abcdefghijklmnopqrstuvwxyz");
    const dp_api *api = dp_doc_api(d);
    char names[12][4];
    dp_ann batch[24];
    for (int i = 0; i < 24; i++) {
        int k = i % 12;
        snprintf(names[k], sizeof names[k], "L%d", k);
        batch[i] = (dp_ann){(size_t)i, (size_t)i + 1, names[k], NULL};
    }
    assert_int_equal(api->annotate_many(d, "x", batch, 24), 0);
    size_t n;
    const dp_ann *a = dp_doc_layer(d, "x", &n);
    assert_int_equal(n, 24);
    for (int i = 0; i < 24; i++) {
        char want[4];
        snprintf(want, sizeof want, "L%d", i % 12);
        assert_string_equal(a[i].label, want);
    }
    dp_doc_free(d);
}

static void test_set_text_drops_layers_and_maps_back(void **state)
{
    (void)state;
    /* raw "a  b" cleaned to "a b": byte 2 of the new text is raw byte 3 */
    dp_doc *d = doc_of("a  b");
    const dp_api *api = dp_doc_api(d);
    dp_doc_annotate(d, "w", 0, 1, NULL, NULL);
    dp_align al[] = {{0, 2, 0, 2}, {2, 3, 3, 4}};
    assert_int_equal(api->set_text(d, "a b", 3, al, 2), 0);
    size_t n;
    dp_doc_layer(d, "w", &n);
    assert_int_equal(n, 0);
    assert_true(dp_doc_text_replaced(d));
    size_t s, e;
    dp_doc_src_span(d, 2, 3, &s, &e);
    assert_int_equal(s, 3);
    assert_int_equal(e, 4);
    dp_doc_src_span(d, 0, 3, &s, &e);
    assert_int_equal(s, 0);
    assert_int_equal(e, 4);
    /* a second replacement composes with the first */
    dp_align al2[] = {{0, 1, 0, 1}, {1, 2, 1, 2}, {2, 3, 2, 3}};
    assert_int_equal(api->set_text(d, "A B", 3, al2, 3), 0);
    dp_doc_src_span(d, 2, 3, &s, &e);
    assert_int_equal(s, 3);
    assert_int_equal(e, 4);
    /* invalid UTF-8 or a bad alignment is refused */
    assert_int_equal(api->set_text(d, "\xFF", 1, NULL, 0), -EILSEQ);
    dp_align bad[] = {{0, 9, 0, 1}};
    assert_int_equal(api->set_text(d, "x", 1, bad, 1), -EINVAL);
    dp_doc_free(d);
}

static void test_unequal_piece_maps_whole(void **state)
{
    (void)state;
    /* "&amp;" (5 raw bytes) became "&" (1 byte) */
    dp_doc *d = dp_doc_new("h", NULL, "x&amp;y", 7);
    const dp_api *api = dp_doc_api(d);
    dp_align al[] = {{0, 1, 0, 1}, {1, 2, 1, 6}, {2, 3, 6, 7}};
    assert_int_equal(api->set_text(d, "x&y", 3, al, 3), 0);
    size_t s, e;
    dp_doc_src_span(d, 1, 2, &s, &e);
    assert_int_equal(s, 1);
    assert_int_equal(e, 6);
    dp_doc_src_span(d, 0, 3, &s, &e);
    assert_int_equal(s, 0);
    assert_int_equal(e, 7);
    dp_doc_free(d);
}

static void test_outputs_and_reserved_keys(void **state)
{
    (void)state;
    dp_doc *d = doc_of("x");
    const dp_api *api = dp_doc_api(d);
    assert_int_equal(api->set_output(d, "summary", json_string("s")), 0);
    assert_string_equal(json_string_value(api->get_output(d, "summary")),
                        "s");
    assert_int_equal(api->set_output(d, "text", json_string("no")), -EINVAL);
    assert_int_equal(api->set_output(d, "docproc", json_true()), -EINVAL);
    assert_int_equal(api->export_layer(d, "sentence", "sentences", 0), 0);
    assert_int_equal(api->set_output(d, "sentences", json_true()), -EINVAL);
    assert_int_equal(api->export_layer(d, "other", "sentences", 0), -EINVAL);
    assert_int_equal(api->export_layer(d, "x", "summary", 0), -EINVAL);
    assert_null(api->get_output(d, "absent"));
    dp_doc_free(d);
}

static void test_name_made_utf8(void **state)
{
    (void)state;
    dp_doc *d = dp_doc_new("caf\xE9.txt", NULL, "x", 1);
    assert_string_equal(dp_doc_get_name(d), "caf?.txt");
    dp_doc_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_and_raw),
        cmocka_unit_test(test_decode_rejects_bad_input),
        cmocka_unit_test(test_utf8_validator),
        cmocka_unit_test(test_annotate_and_layer_sorted),
        cmocka_unit_test(test_annotate_many),
        cmocka_unit_test(test_annotate_many_labels),
        cmocka_unit_test(test_set_text_drops_layers_and_maps_back),
        cmocka_unit_test(test_unequal_piece_maps_whole),
        cmocka_unit_test(test_outputs_and_reserved_keys),
        cmocka_unit_test(test_name_made_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
