/* Helpers shared by the segment tests: run text through a pipeline holding
 * only the segment stage and render a layer as "a | b | c". */
#ifndef SEGHELP_H
#define SEGHELP_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testkit.h"

static dp_pipeline seg_pipe;
static int seg_pipe_ok;

static int seg_setup_opts(const char *options)
{
    char json[1024];
    dp_err err = {{0}};
    snprintf(json, sizeof json, "[{\"name\":\"segment\",\"options\":%s}]",
             options);
    if (tk_pipeline(&seg_pipe, json, &err) != 0) {
        fprintf(stderr, "pipeline: %s\n", err.msg);
        return -1;
    }
    seg_pipe_ok = 1;
    return 0;
}

static int seg_setup(void **state)
{
    (void)state;
    return seg_setup_opts("{\"tokens\":true}");
}

static int seg_teardown(void **state)
{
    (void)state;
    if (seg_pipe_ok)
        dp_pipeline_free(&seg_pipe);
    seg_pipe_ok = 0;
    return 0;
}

static dp_doc *seg_run(const char *text)
{
    dp_err err = {{0}};
    const char *failed = NULL;
    dp_doc *doc = tk_run(&seg_pipe, "t.txt", text, -1, &err, &failed);
    if (doc == NULL)
        fprintf(stderr, "run failed in %s: %s\n", failed ? failed : "?",
                err.msg);
    return doc;
}

/* The spans of `layer` as "a | b | c" (labels as "a/Xxxx" when
 * with_label); a static buffer. */
static const char *seg_join(dp_doc *doc, const char *layer, int with_label)
{
    static char buf[16384];
    size_t n = 0, used = 0;
    const dp_ann *a = dp_doc_layer(doc, layer, &n);
    buf[0] = 0;
    for (size_t i = 0; i < n; i++) {
        char *s = tk_span(doc, &a[i]);
        assert_non_null(s);
        int w = snprintf(buf + used, sizeof buf - used, "%s%s%s%s",
                         i ? " | " : "", s, with_label && a[i].label ? "/" : "",
                         with_label && a[i].label ? a[i].label : "");
        free(s);
        if (w < 0 || (size_t)w >= sizeof buf - used)
            break;
        used += (size_t)w;
    }
    return buf;
}

/* Segment `text` and compare its layer with `expected`. */
static void seg_check(const char *layer, int with_label, const char *text,
                      const char *expected)
{
    dp_doc *doc = seg_run(text);
    assert_non_null(doc);
    const char *got = seg_join(doc, layer, with_label);
    if (strcmp(got, expected) != 0)
        fprintf(stderr, "text:     %s\nexpected: %s\ngot:      %s\n", text,
                expected, got);
    assert_string_equal(got, expected);
    dp_doc_free(doc);
}

#define SENTS(text, expected) seg_check("sentence", 0, text, expected)
#define TOKS(text, expected) seg_check("token", 0, text, expected)
#define SHAPES(text, expected) seg_check("token", 1, text, expected)

#endif
