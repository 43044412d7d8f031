/* The document API as stages see it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
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

/* dp_doc_adopt keeps the caller's buffer as the raw bytes: a file read
 * whole is not copied again (100 MB more touched for a 100 MB file). */
static void test_adopt(void **state)
{
    (void)state;
    unsigned char *buf = malloc(4);
    assert_non_null(buf);
    memcpy(buf, "abc", 3);
    dp_doc *d = dp_doc_adopt("t.txt", NULL, buf, 3);
    assert_non_null(d);
    size_t len;
    assert_ptr_equal(dp_doc_api(d)->raw(d, &len), buf);
    assert_int_equal(len, 3);
    assert_int_equal(buf[3], 0);
    dp_err err = {{0}};
    assert_int_equal(dp_doc_decode_utf8(d, &err), 0);
    assert_string_equal(dp_doc_api(d)->text(d, &len), "abc");
    dp_doc_free(d);
}

/* A new text of about the old one's size is written over it (no new
 * memory touched per cleaning pass), also when it is a piece of it. */
static void test_set_text_reuses(void **state)
{
    (void)state;
    dp_doc *d = doc_of("hello world, hello");
    const dp_api *api = dp_doc_api(d);
    size_t len;
    const char *t0 = api->text(d, &len);
    assert_int_equal(api->set_text(d, "hello world! hello", 18, NULL, 0), 0);
    assert_ptr_equal(api->text(d, &len), t0);
    assert_string_equal(t0, "hello world! hello");
    assert_int_equal(api->set_text(d, t0 + 6, 12, NULL, 0), 0);
    assert_ptr_equal(api->text(d, &len), t0);
    assert_int_equal(len, 12);
    assert_string_equal(t0, "world! hello");
    /* longer than the buffer: a new one */
    assert_int_equal(api->set_text(d, "a longer text than the buffer", 29, NULL, 0), 0);
    assert_string_equal(api->text(d, &len), "a longer text than the buffer");
    dp_doc_free(d);
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

/* Interface 1.2: annotations written in place (reserve) and handed over
 * (commit): labels interned, attrs owned by the host, order noted. */
static void test_reserve_commit(void **state)
{
    (void)state;
    dp_doc *d = doc_of("alpha beta gamma");
    const dp_api *api = dp_doc_api(d);
    assert_true(DP_HAS_FIELD(api, dp_api, commit));
    char label[8] = "xxxx";
    dp_ann *r = api->reserve(d, "tok", 4);
    assert_non_null(r);
    r[0] = (dp_ann){0, 5, label, NULL};
    r[1] = (dp_ann){6, 10, "Xxxx", json_pack("{s:i}", "k", 1)};
    r[2] = (dp_ann){11, 16, label, NULL};
    /* three of the four reserved */
    assert_int_equal(api->commit(d, "tok", 3), 0);
    strcpy(label, "dd"); /* the caller's buffer is reused: no stale label */
    size_t n;
    const dp_ann *a = dp_doc_layer(d, "tok", &n);
    assert_int_equal(n, 3);
    assert_string_equal(a[0].label, "xxxx");
    assert_true(a[0].label != label); /* the host's copy */
    assert_ptr_equal(a[0].label, a[2].label);
    assert_string_equal(a[1].label, "Xxxx");
    assert_int_equal(json_integer_value(json_object_get(a[1].attrs, "k")), 1);
    /* after a commit the room is gone */
    assert_int_equal(api->commit(d, "tok", 1), -EINVAL);
    /* more to the same layer, out of order: sorted on reading */
    r = api->reserve(d, "tok", 2);
    assert_non_null(r);
    r[0] = (dp_ann){6, 8, NULL, NULL};
    r[1] = (dp_ann){0, 2, label, NULL};
    assert_int_equal(api->commit(d, "tok", 2), 0);
    a = dp_doc_layer(d, "tok", &n);
    assert_int_equal(n, 5);
    /* (0,2) (0,5) (6,8) (6,10) (11,16) */
    const size_t want[][2] = {{0, 2}, {0, 5}, {6, 8}, {6, 10}, {11, 16}};
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(a[i].start, want[i][0]);
        assert_int_equal(a[i].end, want[i][1]);
    }
    assert_string_equal(a[0].label, "dd");
    assert_null(a[2].label);
    /* the same span twice, the longer first: unsorted too */
    r = api->reserve(d, "w", 2);
    r[0] = (dp_ann){0, 10, NULL, NULL};
    r[1] = (dp_ann){0, 5, NULL, NULL};
    assert_int_equal(api->commit(d, "w", 2), 0);
    a = dp_doc_layer(d, "w", &n);
    assert_int_equal(n, 2);
    assert_int_equal(a[0].end, 5);
    /* a room of nothing is still a room */
    assert_non_null(api->reserve(d, "empty", 0));
    assert_int_equal(api->commit(d, "empty", 0), 0);
    assert_null(dp_doc_layer(d, "empty", &n));
    assert_int_equal(n, 0);
    dp_doc_free(d);
}

/* A bad span or attrs refuses the whole commit: nothing is added, the
 * attrs are taken all the same (ASan's leak check sees them), and the
 * layer is as before. */
static void test_commit_refuses(void **state)
{
    (void)state;
    dp_doc *d = doc_of("alpha beta gamma");
    const dp_api *api = dp_doc_api(d);
    dp_ann *r = api->reserve(d, "tok", 1);
    r[0] = (dp_ann){0, 5, "a", NULL};
    assert_int_equal(api->commit(d, "tok", 1), 0);
    const dp_ann bad[][2] = {
        {{0, 1, "a", json_object()}, {5, 99, NULL, NULL}}, /* past the end */
        {{0, 1, NULL, NULL}, {5, 4, NULL, json_object()}}, /* end < start */
        {{0, 1, NULL, json_array()}, {2, 3, NULL, NULL}},  /* not an object */
    };
    for (size_t b = 0; b < 3; b++) {
        r = api->reserve(d, "tok", 2);
        assert_non_null(r);
        memcpy(r, bad[b], sizeof bad[b]);
        assert_int_equal(api->commit(d, "tok", 2), -EINVAL);
        size_t n;
        const dp_ann *a = dp_doc_layer(d, "tok", &n);
        assert_int_equal(n, 1);
        assert_int_equal(a[0].end, 5);
        assert_null(a[0].attrs);
    }
    /* more than reserved; no room at all; a layer never reserved */
    r = api->reserve(d, "tok", 2);
    r[0] = (dp_ann){0, 1, NULL, json_object()}; /* taken even so */
    r[1] = (dp_ann){0, 1, NULL, NULL};
    assert_int_equal(api->commit(d, "tok", 3), -EINVAL);
    assert_int_equal(api->commit(d, "tok", 2), -EINVAL); /* released */
    assert_int_equal(api->commit(d, "none", 0), -EINVAL);
    assert_int_equal(api->commit(d, NULL, 0), -EINVAL);
    assert_null(api->reserve(d, NULL, 1));
    /* an addition between reserve and commit releases the room */
    r = api->reserve(d, "tok", 1);
    r[0] = (dp_ann){0, 1, NULL, NULL};
    assert_int_equal(dp_doc_annotate(d, "tok", 6, 10, NULL, NULL), 0);
    assert_int_equal(api->commit(d, "tok", 1), -EINVAL);
    size_t n;
    dp_doc_layer(d, "tok", &n);
    assert_int_equal(n, 2);
    /* so does a new text, which drops the layers */
    r = api->reserve(d, "tok", 1);
    r[0] = (dp_ann){0, 1, NULL, NULL};
    assert_int_equal(api->set_text(d, "other", 5, NULL, 0), 0);
    assert_int_equal(api->commit(d, "tok", 1), -EINVAL);
    dp_doc_free(d);
    /* no room before the text is decoded */
    d = dp_doc_new("t.txt", NULL, "x", 1);
    assert_null(dp_doc_api(d)->reserve(d, "tok", 1));
    dp_doc_free(d);
}

/* Interface 1.3: compact spans with labels by index. The layer reads back
 * as any other (spans, interned labels shared with the other layers, NULL
 * label, sorted on reading); a bad span or index adds nothing, and a
 * layer made by a refused call does not exist. */
static void test_add_spans(void **state)
{
    (void)state;
    dp_doc *d = doc_of("alpha beta gamma");
    const dp_api *api = dp_doc_api(d);
    assert_true(DP_HAS_FIELD(api, dp_api, add_spans));
    char buf[8] = "xxxx";
    const char *labels[] = {buf, "Xxxx", NULL};
    dp_span sp[] = {{0, 5, 0, {0}}, {6, 4, 1, {0}}, {11, 5, 2, {7, 7, 7}}};
    assert_int_equal(api->add_spans(d, "tok", sp, 3, labels, 3), 0);
    strcpy(buf, "dd"); /* the caller's buffer is reused: no stale label */
    assert_int_equal(dp_doc_annotate(d, "w", 0, 5, "xxxx", NULL), 0);
    size_t n;
    const dp_ann *a = dp_doc_layer(d, "tok", &n);
    assert_int_equal(n, 3);
    assert_int_equal(a[1].start, 6);
    assert_int_equal(a[1].end, 10);
    assert_string_equal(a[0].label, "xxxx");
    assert_string_equal(a[1].label, "Xxxx");
    assert_null(a[2].label);
    assert_null(a[2].attrs);
    /* one interned copy, whichever call made it */
    assert_ptr_equal(a[0].label, dp_doc_layer(d, "w", &n)[0].label);
    /* more, out of order: sorted on reading */
    dp_span more[] = {{0, 2, 1, {0}}};
    assert_int_equal(api->add_spans(d, "tok", more, 1, labels, 2), 0);
    a = dp_doc_layer(d, "tok", &n);
    assert_int_equal(n, 4);
    assert_int_equal(a[0].end, 2);
    assert_int_equal(a[1].end, 5);
    /* refused: past the end, a sum that wraps, an index past the labels */
    const dp_span bad[][2] = {
        {{0, 1, 0, {0}}, {12, 5, 0, {0}}},
        {{0, 1, 0, {0}}, {SIZE_MAX - 1, 4, 0, {0}}},
        {{0, 1, 0, {0}}, {1, 1, 3, {0}}},
    };
    for (size_t b = 0; b < 3; b++) {
        assert_int_equal(api->add_spans(d, "tok", bad[b], 2, labels, 3),
                         -EINVAL);
        dp_doc_layer(d, "tok", &n);
        assert_int_equal(n, 4);
        assert_int_equal(api->add_spans(d, "new", bad[b], 2, labels, 3),
                         -EINVAL);
    }
    assert_int_equal(api->commit(d, "new", 0), -EINVAL); /* never made */
    /* no spans: nothing to check, nothing added */
    assert_int_equal(api->add_spans(d, "tok", NULL, 0, NULL, 0), 0);
    dp_doc_layer(d, "tok", &n);
    assert_int_equal(n, 4);
    dp_doc_free(d);
}

/* Many distinct labels in one commit, more than the host's per-call table
 * of pointers holds, and the same string from different pointers: each
 * annotation keeps its own label, and equal labels share one copy. */
static void test_commit_labels(void **state)
{
    (void)state;
    dp_doc *d = doc_of("abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz");
    const dp_api *api = dp_doc_api(d);
    char names[40][4], again[40][4];
    dp_ann *r = api->reserve(d, "x", 80);
    assert_non_null(r);
    for (int i = 0; i < 40; i++) {
        snprintf(names[i], sizeof names[i], "L%d", i);
        snprintf(again[i], sizeof again[i], "L%d", i);
        r[i] = (dp_ann){(size_t)i, (size_t)i + 1, names[i], NULL};
        r[40 + i] = (dp_ann){(size_t)i + 1, (size_t)i + 2, again[i], NULL};
    }
    assert_int_equal(api->commit(d, "x", 80), 0);
    size_t n;
    const dp_ann *a = dp_doc_layer(d, "x", &n);
    assert_int_equal(n, 80);
    /* names[i] on (i, i+1), again[i] on (i+1, i+2): equal spans keep no
     * particular order, so each label is checked against its span and
     * counted */
    int count[40] = {0};
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(a[i].end - a[i].start, 1);
        assert_int_equal(a[i].label[0], 'L');
        int k = atoi(a[i].label + 1);
        assert_true(k >= 0 && k < 40);
        assert_true((size_t)k == a[i].start || (size_t)k + 1 == a[i].start);
        count[k]++;
    }
    for (int k = 0; k < 40; k++)
        assert_int_equal(count[k], 2);
    /* one interned copy per distinct label */
    const char *l0 = NULL, *l0b = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(a[i].label, "L0") == 0) {
            if (l0 == NULL)
                l0 = a[i].label;
            else
                l0b = a[i].label;
        }
    assert_non_null(l0b);
    assert_ptr_equal(l0, l0b);
    dp_doc_free(d);
}

/* annotate_many refused on a layer it would have made leaves no layer
 * (its export finds nothing), and one accepted after works. */
static void test_annotate_many_refused_adds_no_layer(void **state)
{
    (void)state;
    dp_doc *d = doc_of("alpha");
    const dp_api *api = dp_doc_api(d);
    dp_ann bad[] = {{0, 99, NULL, NULL}};
    assert_int_equal(api->annotate_many(d, "new", bad, 1), -EINVAL);
    size_t n = 7;
    assert_null(dp_doc_layer(d, "new", &n));
    assert_int_equal(n, 0);
    dp_ann good[] = {{0, 5, "w", NULL}};
    assert_int_equal(api->annotate_many(d, "new", good, 1), 0);
    assert_non_null(dp_doc_layer(d, "new", &n));
    assert_int_equal(n, 1);
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

/* Layers (and labels) grow by doubling: twenty layers, each made by a
 * call of its own, keep their names and annotations; after set_text drops
 * them, new ones are made again from an empty array. */
static void test_many_layers(void **state)
{
    (void)state;
    dp_doc *d = doc_of("abcdefghijklmnopqrstuvwxyz");
    const dp_api *api = dp_doc_api(d);
    for (int round = 0; round < 2; round++) {
        char name[20][8], lab[20][8];
        for (int i = 0; i < 20; i++) {
            snprintf(name[i], sizeof name[i], "y%d", i);
            snprintf(lab[i], sizeof lab[i], "L%d", i + round);
            if (i % 2) {
                assert_int_equal(dp_doc_annotate(d, name[i], (size_t)i,
                                                 (size_t)i + 1, lab[i], NULL),
                                 0);
            } else {
                dp_ann *r = api->reserve(d, name[i], 1);
                assert_non_null(r);
                r[0] = (dp_ann){(size_t)i, (size_t)i + 1, lab[i], NULL};
                assert_int_equal(api->commit(d, name[i], 1), 0);
            }
        }
        for (int i = 0; i < 20; i++) {
            size_t n;
            const dp_ann *a = dp_doc_layer(d, name[i], &n);
            assert_int_equal(n, 1);
            assert_int_equal(a[0].start, i);
            assert_string_equal(a[0].label, lab[i]);
            assert_ptr_not_equal(a[0].label, lab[i]); /* interned */
        }
        assert_int_equal(api->set_text(d, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", 26,
                                       NULL, 0),
                         0);
        size_t n;
        dp_doc_layer(d, "y0", &n);
        assert_int_equal(n, 0);
    }
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
        cmocka_unit_test(test_adopt),
        cmocka_unit_test(test_set_text_reuses),
        cmocka_unit_test(test_decode_rejects_bad_input),
        cmocka_unit_test(test_utf8_validator),
        cmocka_unit_test(test_annotate_and_layer_sorted),
        cmocka_unit_test(test_annotate_many),
        cmocka_unit_test(test_annotate_many_labels),
        cmocka_unit_test(test_reserve_commit),
        cmocka_unit_test(test_commit_refuses),
        cmocka_unit_test(test_commit_labels),
        cmocka_unit_test(test_add_spans),
        cmocka_unit_test(test_annotate_many_refused_adds_no_layer),
        cmocka_unit_test(test_set_text_drops_layers_and_maps_back),
        cmocka_unit_test(test_many_layers),
        cmocka_unit_test(test_unequal_piece_maps_whole),
        cmocka_unit_test(test_outputs_and_reserved_keys),
        cmocka_unit_test(test_name_made_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
