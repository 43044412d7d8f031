/* The JSON output: version 1 shape, code-point offsets, src spans. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "doc.h"
#include "output.h"
#include "testkit.h"

static json_t *write_parse(dp_doc *d)
{
    json_t *o = tk_output(d);
    assert_non_null(o);
    return o;
}

static void test_shape_and_source(void **state)
{
    (void)state;
    dp_doc *d = dp_doc_new("a.txt", NULL, "abc", 3);
    dp_err err = {{0}};
    dp_doc_decode_utf8(d, &err);
    dp_doc_add_stage_rec(d, "s1", "1.0", 0.5);
    json_t *o = write_parse(d);
    assert_int_equal(json_integer_value(json_object_get(o, "docproc")), 1);
    assert_string_equal(json_string_value(json_object_get(o, "id")), "a.txt");
    json_t *src = json_object_get(o, "source");
    assert_string_equal(json_string_value(json_object_get(src, "name")),
                        "a.txt");
    assert_int_equal(json_integer_value(json_object_get(src, "bytes")), 3);
    /* sha256("abc") */
    assert_string_equal(
        json_string_value(json_object_get(src, "sha256")),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_string_equal(json_string_value(json_object_get(src, "encoding")),
                        "utf-8");
    assert_string_equal(json_string_value(json_object_get(o, "text")), "abc");
    json_t *st = json_array_get(json_object_get(o, "stages"), 0);
    assert_string_equal(json_string_value(json_object_get(st, "name")), "s1");
    /* layers whose stage did not run are absent */
    assert_null(json_object_get(o, "sentences"));
    assert_null(json_object_get(o, "entities"));
    json_decref(o);
    dp_doc_free(d);
}

static void test_offsets_are_code_points(void **state)
{
    (void)state;
    /* "é" is 2 bytes, "€" 3, "𝄞" 4: byte and code-point offsets differ */
    const char *text = "é € 𝄞 Paris";
    json_t *id = json_string("id-1");
    dp_doc *d = dp_doc_new("u", id, text, strlen(text));
    json_decref(id); /* the document holds its own reference */
    dp_err err = {{0}};
    dp_doc_decode_utf8(d, &err);
    const dp_api *api = dp_doc_api(d);
    size_t paris = (size_t)(strstr(text, "Paris") - text);
    dp_doc_annotate(d, "entity", paris, paris + 5, "GPE",
                    json_pack("{s:i}", "ref", 0));
    dp_doc_annotate(d, "entity", 0, 2, "X", NULL);
    api->export_layer(d, "entity", "entities", DP_EXPORT_TEXT | DP_EXPORT_SRC);
    json_t *o = write_parse(d);
    assert_string_equal(json_string_value(json_object_get(o, "id")), "id-1");
    json_t *ents = json_object_get(o, "entities");
    assert_int_equal(json_array_size(ents), 2);
    json_t *e0 = json_array_get(ents, 0), *e1 = json_array_get(ents, 1);
    assert_int_equal(json_integer_value(json_object_get(e0, "start")), 0);
    assert_int_equal(json_integer_value(json_object_get(e0, "end")), 1);
    assert_int_equal(json_integer_value(json_object_get(e1, "start")), 6);
    assert_int_equal(json_integer_value(json_object_get(e1, "end")), 11);
    assert_string_equal(json_string_value(json_object_get(e1, "text")),
                        "Paris");
    assert_string_equal(json_string_value(json_object_get(e1, "label")),
                        "GPE");
    assert_int_equal(json_integer_value(json_object_get(e1, "ref")), 0);
    /* the text was not replaced: no src */
    assert_null(json_object_get(e1, "src"));
    json_decref(o);
    dp_doc_free(d);
}

static void test_src_when_text_replaced(void **state)
{
    (void)state;
    dp_doc *d = dp_doc_new("h.html", NULL, "<b>Paris</b>", 12);
    const dp_api *api = dp_doc_api(d);
    dp_align al[] = {{0, 5, 3, 8}};
    api->set_text(d, "Paris", 5, al, 1);
    api->set_encoding(d, "utf-8");
    dp_doc_annotate(d, "entity", 0, 5, "GPE", NULL);
    api->export_layer(d, "entity", "entities", DP_EXPORT_SRC);
    json_t *o = write_parse(d);
    json_t *src = json_object_get(
        json_array_get(json_object_get(o, "entities"), 0), "src");
    assert_int_equal(json_integer_value(json_array_get(src, 0)), 3);
    assert_int_equal(json_integer_value(json_array_get(src, 1)), 8);
    json_decref(o);
    dp_doc_free(d);
}

static void test_error_object(void **state)
{
    (void)state;
    dp_membuf b = {0};
    json_t *id = json_integer(7);
    assert_int_equal(dp_output_write_error(id, "n", "input", "bad line",
                                           dp_sink_membuf, &b),
                     0);
    json_t *o = json_loads(b.data, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(o, "id")), 7);
    json_t *e = json_object_get(o, "error");
    assert_string_equal(json_string_value(json_object_get(e, "stage")),
                        "input");
    assert_string_equal(json_string_value(json_object_get(e, "message")),
                        "bad line");
    json_decref(o);
    json_decref(id);
    dp_membuf_free(&b);
}

static void test_text_escaped(void **state)
{
    (void)state;
    const char *text = "quote \" backslash \\ newline \n tab \t ctl \x01";
    dp_doc *d = dp_doc_new("e", NULL, text, strlen(text));
    dp_err err = {{0}};
    dp_doc_decode_utf8(d, &err);
    json_t *o = write_parse(d);
    assert_string_equal(json_string_value(json_object_get(o, "text")), text);
    json_decref(o);
    dp_doc_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape_and_source),
        cmocka_unit_test(test_offsets_are_code_points),
        cmocka_unit_test(test_src_when_text_replaced),
        cmocka_unit_test(test_error_object),
        cmocka_unit_test(test_text_escaped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
