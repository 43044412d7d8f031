/* Tests of the clean stage, through a real pipeline with the built plugin. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testkit.h"
#include "../clean.h"

/* Run `in` through a pipeline holding only clean with `opts` (a JSON
 * object text, or NULL). Returns the document or NULL with err set. */
static dp_doc *run_doc(const char *opts, const char *name, const char *in,
                       long len, dp_err *err)
{
    char stages[1024];
    snprintf(stages, sizeof stages, "[{\"name\":\"clean\",\"options\":%s}]",
             opts ? opts : "{}");
    dp_pipeline p;
    dp_err e = {{0}};
    assert_int_equal(tk_pipeline(&p, stages, &e), 0);
    const char *fs = NULL;
    dp_doc *d = tk_run(&p, name, in, len, err ? err : &e, &fs);
    dp_pipeline_free(&p);
    return d;
}

/* The cleaned text of `in` (malloc'd), or NULL on a stage error. */
static char *run(const char *opts, const char *in, long len)
{
    dp_doc *d = run_doc(opts, "doc.txt", in, len, NULL);
    if (d == NULL)
        return NULL;
    size_t n;
    char *t = strdup(dp_doc_text(d, &n));
    dp_doc_free(d);
    return t;
}

static void check(const char *opts, const char *in, const char *want)
{
    char *got = run(opts, in, -1);
    assert_non_null(got);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "input: [%s]\nwant:  [%s]\ngot:   [%s]\n", in, want,
                got);
    assert_string_equal(got, want);
    free(got);
}

/* For every word of the cleaned text, the original bytes it maps to must
 * clean to the same word (the promise behind "src"). */
static void check_alignment(const char *opts, const char *name,
                            const char *in, long len)
{
    dp_doc *d = run_doc(opts, name, in, len, NULL);
    assert_non_null(d);
    size_t n, rn;
    const char *t = dp_doc_text(d, &n);
    const unsigned char *raw = dp_doc_api(d)->raw(d, &rn);
    size_t i = 0, words = 0;
    while (i < n) {
        while (i < n && (t[i] == ' ' || t[i] == '\n'))
            i++;
        size_t s = i;
        while (i < n && t[i] != ' ' && t[i] != '\n')
            i++;
        if (i == s)
            break;
        size_t a, b;
        dp_doc_src_span(d, s, i, &a, &b);
        assert_true(a <= b && b <= rn);
        char *again = run(opts, (const char *)raw + a, (long)(b - a));
        assert_non_null(again);
        if (strlen(again) != i - s || memcmp(again, t + s, i - s) != 0)
            fprintf(stderr, "word [%.*s] maps to [%.*s] which cleans to [%s]\n",
                    (int)(i - s), t + s, (int)(b - a), raw + a, again);
        assert_int_equal(strlen(again), i - s);
        assert_memory_equal(again, t + s, i - s);
        free(again);
        words++;
    }
    assert_true(words > 0);
    dp_doc_free(d);
}

static char *sample(size_t *len)
{
    char *s = tk_slurp(SAMPLE_FILE, len);
    assert_non_null(s);
    return s;
}

/* Replace the one occurrence of `from` in the malloc'd string *s. */
static void subst(char **s, const char *from, const char *to)
{
    char *p = strstr(*s, from);
    assert_non_null(p);
    assert_null(strstr(p + 1, from));
    size_t a = (size_t)(p - *s), fl = strlen(from), tl = strlen(to);
    size_t n = strlen(*s);
    char *r = malloc(n - fl + tl + 1);
    assert_non_null(r);
    memcpy(r, *s, a);
    memcpy(r + a, to, tl);
    memcpy(r + a + tl, *s + a + fl, n - a - fl + 1);
    free(*s);
    *s = r;
}

/* ------------------------------------------------------------------------ */

/* The sample article: the typography fixed, nothing else changed. */
static void t_sample_exact(void **state)
{
    (void)state;
    size_t len;
    char *raw = sample(&len);
    char *want = strdup(raw);
    subst(&want, "citizens \xC2\xBB,", "citizens\xC2\xBB,");
    subst(&want, "\xE2\x80\x9D stability \xE2\x80\x9C,",
          "\xE2\x80\x9Cstability\xE2\x80\x9D,");
    subst(&want, "\xE2\x80\x9Csilk roads\xE2\x80\x9D. . As",
          "\xE2\x80\x9Csilk roads\xE2\x80\x9D. As");
    subst(&want, "benefit from it.\n\xE2\x80\x93", "benefit from it.");
    char *got = run(NULL, raw, (long)len);
    assert_non_null(got);
    assert_string_equal(got, want);
    /* the heading keeps its own line */
    assert_non_null(strstr(got, "\nNeed of the Kazakh regime\nFor Beijing"));
    free(got);
    /* with the guillemet space kept */
    subst(&want, "citizens\xC2\xBB,", "citizens \xC2\xBB,");
    got = run("{\"guillemet_space\":\"keep\"}", raw, (long)len);
    assert_string_equal(got, want);
    free(got);
    /* typography off: the quotes stay as they were */
    got = run("{\"typography\":false}", raw, (long)len);
    assert_non_null(strstr(got, "\xE2\x80\x9D stability \xE2\x80\x9C"));
    free(got);
    free(want);
    free(raw);
}

static void t_sample_alignment(void **state)
{
    (void)state;
    size_t len;
    char *raw = sample(&len);
    check_alignment(NULL, "k.txt", raw, (long)len);
    dp_doc *d = run_doc(NULL, "k.txt", raw, (long)len, NULL);
    assert_true(dp_doc_text_replaced(d));
    dp_doc_free(d);
    free(raw);
}

static void t_mojibake_alignment(void **state)
{
    (void)state;
    check_alignment(NULL, "m.txt",
                    "Caf\xC3\x83\xC2\xA9 au lait, don\xC3\xA2\xE2\x82\xAC"
                    "\xE2\x84\xA2t worry.\nIggy Pop (n\xC3\x83\xC6\x92\xC3\x82"
                    "\xC2\xA9 Jim)\nan inter-\nnational \xEF\xAC\x81le",
                    -1);
}

static void t_html_alignment(void **state)
{
    (void)state;
    const char *h = "<html><head><title>T</title><style>p{x:1}</style>"
                    "</head><body><h1>Caf&eacute; news</h1><p>Fish &amp; "
                    "chips,\n  <b>twice</b> a&nbsp;day.</p><script>var a="
                    "'<p>';</script><p>It&#8217;s done</p></body></html>";
    check(NULL, h,
          "T\n\nCaf\xC3\xA9 news\n\nFish & chips, twice a day.\n\n"
          "It\xE2\x80\x99s done");
    check_alignment(NULL, "page.html", h, -1);
}

/* ------------------------------------------------------------------------ */
/* Decoding                                                                  */

static void t_decode(void **state)
{
    (void)state;
    dp_doc *d = run_doc(NULL, "a", "\xEF\xBB\xBFhello", -1, NULL);
    assert_non_null(d);
    size_t n;
    assert_string_equal(dp_doc_text(d, &n), "hello");
    assert_string_equal(dp_doc_encoding(d), "utf-8");
    size_t a, b;
    dp_doc_src_span(d, 0, 5, &a, &b);
    assert_int_equal(a, 3);
    assert_int_equal(b, 8);
    dp_doc_free(d);

    /* UTF-16 LE and BE with BOM */
    d = run_doc(NULL, "a", "\xFF\xFEh\0\xE9\0!\0", 8, NULL);
    assert_string_equal(dp_doc_text(d, &n), "h\xC3\xA9!");
    assert_string_equal(dp_doc_encoding(d), "utf-16le");
    dp_doc_src_span(d, 1, 3, &a, &b); /* é */
    assert_int_equal(a, 4);
    assert_int_equal(b, 6);
    dp_doc_free(d);
    d = run_doc(NULL, "a", "\xFE\xFF\0h\xD8\x3D\xDE\x0D", 8, NULL);
    assert_string_equal(dp_doc_text(d, &n), "h\xF0\x9F\x98\x8D");
    assert_string_equal(dp_doc_encoding(d), "utf-16be");
    dp_doc_free(d);
    /* odd length and a lone surrogate: U+FFFD, no crash */
    char *t = run(NULL, "\xFF\xFEh\0i\0\x00\xD8x", 9);
    assert_string_equal(t, "hi\xEF\xBF\xBD\xEF\xBF\xBD");
    free(t);

    /* Windows-1252 */
    d = run_doc(NULL, "a", "caf\xE9 \x93ok\x94", -1, NULL);
    assert_string_equal(dp_doc_text(d, &n),
                        "caf\xC3\xA9 \xE2\x80\x9Cok\xE2\x80\x9D");
    assert_string_equal(dp_doc_encoding(d), "windows-1252");
    dp_doc_free(d);

    /* truncated UTF-8 at the end and in the middle: text, not a crash */
    t = run(NULL, "abc \xE2\x80", -1);
    assert_non_null(t);
    free(t);
    t = run(NULL, "a\xC3 b \xF0\x9F\x98", -1);
    assert_non_null(t);
    free(t);
    /* strict mode refuses it */
    dp_err err = {{0}};
    d = run_doc("{\"decode_fallback\":false}", "a", "abc \xE2\x80", -1, &err);
    assert_null(d);
    assert_non_null(strstr(err.msg, "invalid UTF-8"));
}

static void t_binary(void **state)
{
    (void)state;
    dp_err err = {{0}};
    dp_doc *d = run_doc(NULL, "a", "PK\x03\x04\0\0abc", 9, &err);
    assert_null(d);
    assert_non_null(strstr(err.msg, "binary input"));
    memset(&err, 0, sizeof err);
    d = run_doc(NULL, "a", "\x01\x02\x03\x04\x05x\x06\x07\x08\x0E", -1, &err);
    assert_null(d);
    assert_non_null(strstr(err.msg, "binary input"));
    /* a few stray controls are only removed */
    check(NULL, "bell\x07 and\x1B tab\tok", "bell and tab\tok");
}

static void t_empty(void **state)
{
    (void)state;
    check(NULL, "", "");
    check(NULL, "  \n\n \t \r\n", "");
    check(NULL, "\xEF\xBB\xBF", "");
    check(NULL, "\xE2\x80\x8B\xC2\xAD", "");
    check("{\"html\":\"always\"}", "<p> </p>", "");
}

/* Random bytes: always text or a clean error, and an alignment in range. */
static void t_random_bytes(void **state)
{
    (void)state;
    unsigned long x = 12345;
    char buf[300];
    dp_pipeline p;
    dp_err e = {{0}};
    assert_int_equal(tk_pipeline(&p, "[{\"name\":\"clean\"}]", &e), 0);
    for (int k = 0; k < 300; k++) {
        size_t len = (size_t)(k % 97) + (k % 3) * 100;
        for (size_t i = 0; i < len; i++) {
            x = x * 6364136223846793005UL + 1442695040888963407UL;
            unsigned char c = (unsigned char)(x >> 56);
            if (k % 2 && c < 0x20) /* half the cases without controls */
                c = (unsigned char)(c + 0x41);
            if (k % 5 == 0) /* and some from a small alphabet */
                c = (unsigned char)" \n-\xC3\xA9\xE2\x80\x9C\x9D" "a<>&;#"[c % 15];
            buf[i] = (char)c;
        }
        const char *fs = NULL;
        dp_err err = {{0}};
        dp_doc *d = tk_run(&p, k % 7 ? "r.txt" : "r.html", buf, (long)len,
                           &err, &fs);
        if (d == NULL) {
            assert_true(err.msg[0] != 0);
            continue;
        }
        size_t n, rn, a, b;
        dp_doc_text(d, &n);
        dp_doc_api(d)->raw(d, &rn);
        for (size_t s = 0; s < n; s += 7) {
            dp_doc_src_span(d, s, s + 1 < n ? s + 1 : n, &a, &b);
            assert_true(a <= b && b <= rn);
        }
        dp_doc_free(d);
    }
    dp_pipeline_free(&p);
}

/* ------------------------------------------------------------------------ */
/* Each step, on and off                                                     */

static void t_mojibake(void **state)
{
    (void)state;
    check(NULL, "Caf\xC3\x83\xC2\xA9", "Caf\xC3\xA9");
    check(NULL, "don\xC3\xA2\xE2\x82\xAC\xE2\x84\xA2t", "don\xE2\x80\x99t");
    check(NULL, "Iggy Pop (n\xC3\x83\xC6\x92\xC3\x82\xC2\xA9 Jim)",
          "Iggy Pop (n\xC3\xA9 Jim)");
    check(NULL, "\xC3\x83  la carte", "\xC3\xA0 la carte");
    check(NULL, "l\xE2\x80\x99\xC3\x83\xC2\xA9t\xC3\x83\xC2\xA9 dernier",
          "l\xE2\x80\x99\xC3\xA9t\xC3\xA9 dernier"); /* mixed line */
    check(NULL, "\xC3\x90\xC2\xBF\xC3\x91\xE2\x82\xAC\xC3\x90\xC2\xB8",
          "\xD0\xBF\xD1\x80\xD0\xB8"); /* Russian via Windows-1252 */
    /* legitimate Portuguese "Ã" stays */
    check(NULL, "C O N C L U S \xC3\x83  O", "C O N C L U S \xC3\x83 O");
    check(NULL, "C O N C L U S \xC3\x83 O", "C O N C L U S \xC3\x83 O");
    check(NULL, "S\xC3\x83O PAULO", "S\xC3\x83O PAULO");
    check(NULL, "4288\xC3\x97\xE2\x80\xA6", "4288\xC3\x97\xE2\x80\xA6");
    /* a very long line is repaired in segments */
    size_t n = 200000, k = 0;
    char *big = malloc(n + 16), *want = malloc(n + 16);
    assert_non_null(big);
    assert_non_null(want);
    size_t w = 0;
    while (k + 8 < n) {
        memcpy(big + k, "Caf\xC3\x83\xC2\xA9 ", 8);
        memcpy(want + w, "Caf\xC3\xA9 ", 6);
        k += 8;
        w += 6;
    }
    big[k] = 0;
    want[w - 1] = 0; /* no trailing space */
    char *got = run(NULL, big, (long)k);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
    free(big);
    free(want);
    check("{\"mojibake\":false}", "Caf\xC3\x83\xC2\xA9", "Caf\xC3\x83\xC2\xA9");
}

static void t_unicode(void **state)
{
    (void)state;
    check(NULL, "A\r\nB\rC", "A\nB\nC");
    check(NULL, "a\xC2\xA0" "b\xE2\x80\x89" "c", "a b c");
    check(NULL, "zero\xE2\x80\x8Bwidth\xEF\xBB\xBF", "zerowidth");
    check(NULL, "\xEF\xAC\x81ne \xEF\xBC\xA1\xEF\xBD\x82", "fine Ab");
    check(NULL, "e\xCC\x81t\xC3\xA9", "\xC3\xA9t\xC3\xA9"); /* NFC */
    check(NULL, "10 \xE2\x84\xAB, \xE1\x84\x80\xE1\x85\xA1",
          "10 \xC3\x85, \xEA\xB0\x80"); /* Angstrom sign, Hangul jamo */
    check(NULL, "it&#8217;s &amp; &lt;b&gt; &eacute; AT&T &bogus;",
          "it\xE2\x80\x99s & <b> \xC3\xA9 AT&T &bogus;");
    check(NULL, "\xC2\x93quoted\xC2\x94", "\xE2\x80\x9Cquoted\xE2\x80\x9D");
    check("{\"unicode\":false}", "a\xC2\xA0" "b", "a\xC2\xA0" "b");
    check("{\"nfc\":false}", "e\xCC\x81", "e\xCC\x81");
    check("{\"fold_width\":false}", "\xEF\xAC\x81", "\xEF\xAC\x81");
    check("{\"entities\":false}", "&amp;", "&amp;");
}

static void t_html(void **state)
{
    (void)state;
    const char *h = "<!DOCTYPE html><html><body><h1>Title</h1>\n<p>One\n"
                    "line &amp; <i>more</i>.</p><script>x()</script>"
                    "<p>Two<br>Lines</p></body></html>";
    check(NULL, h, "Title\n\nOne line & more.\n\nTwo\nLines");
    /* by name, even without a doctype */
    dp_doc *d = run_doc(NULL, "x.HTM", "<b>bold</b> text", -1, NULL);
    size_t n;
    assert_string_equal(dp_doc_text(d, &n), "bold text");
    dp_doc_free(d);
    check("{\"html\":\"never\"}", h + 15,
          "<html><body><h1>Title</h1>\n<p>One line & <i>more</i>.</p>"
          "<script>x()</script><p>Two<br>Lines</p></body></html>");
    check("{\"html\":\"always\"}", "a <b>b</b>", "a b");
    check(NULL, "if a<b and c>d", "if a<b and c>d");
    /* Fragments without <html> or a file name (JSON lines): a paragraph
     * with a script, or a paragraph with a link, is markup; one closing
     * tag mentioned in prose is not. */
    check(NULL, "<p>Markets fell.<script>track('x')</script></p>",
          "Markets fell.");
    check(NULL, "<p>See <a href=\"/x\">the report</a> today.</p>",
          "See the report today.");
    check(NULL, "Close it with </p> as usual.",
          "Close it with </p> as usual.");
}

static void t_layout(void **state)
{
    (void)state;
    check(NULL, "A   b  \nC\n\n\n\nd  ", "A b\nC\n\nd");
    /* hyphenation across a line break */
    check(NULL, "an inter-\nnational deal", "an international deal");
    check(NULL, "a well-\nknown fact", "a well-known fact");
    /* a line not ending a sentence, continued in lowercase */
    check(NULL, "It was the best\nof times.", "It was the best of times.");
    /* a hard-wrapped paragraph */
    check(NULL,
          "The committee met on Tuesday to discuss the new proposal and\n"
          "The chairman opened the session with a long statement about\n"
          "Budget matters that had been left open since the last winter\n"
          "Meeting of all the members.\n\nNext paragraph here.",
          "The committee met on Tuesday to discuss the new proposal and "
          "The chairman opened the session with a long statement about "
          "Budget matters that had been left open since the last winter "
          "Meeting of all the members.\n\nNext paragraph here.");
    /* one-line paragraphs and headings are not joined */
    check(NULL, "Heading\nA paragraph that is long enough to be a paragraph.\n"
                "Another Heading\nAnother paragraph.",
          "Heading\nA paragraph that is long enough to be a paragraph.\n"
          "Another Heading\nAnother paragraph.");
    check(NULL, "Items:\n- one\n- two", "Items:\n- one\n- two");
    check("{\"join_lines\":false}", "It was the best\nof times.",
          "It was the best\nof times.");
    check("{\"join_hyphens\":false}", "an inter-\nnational",
          "an inter-\nnational");
    check("{\"collapse_spaces\":false}", "a   b", "a   b");
    check("{\"layout\":false}", "a   b \n\n\n", "a   b \n\n\n");
}

static void t_typography(void **state)
{
    (void)state;
    check(NULL, "order and \xE2\x80\x9D stability \xE2\x80\x9C, that",
          "order and \xE2\x80\x9Cstability\xE2\x80\x9D, that");
    check(NULL, "say \" hello \" now", "say \"hello\" now");
    check(NULL, "\xC2\xAB oui \xC2\xBB", "\xC2\xABoui\xC2\xBB");
    check("{\"guillemet_space\":\"keep\"}", "\xC2\xAB oui \xC2\xBB",
          "\xC2\xAB oui \xC2\xBB");
    check(NULL, "the end. . Next,, one ; ; two... three . . .",
          "the end. Next, one ; two... three .");
    check(NULL, "para\n\xE2\x80\x94\nnext\n  \xE2\x80\xA2 \nlast",
          "para\n\nnext\n\nlast");
    /* German quotes keep their direction */
    check(NULL, "\xE2\x80\x9EJa\xE2\x80\x9C", "\xE2\x80\x9EJa\xE2\x80\x9C");
    check("{\"ascii_punctuation\":true}",
          "\xE2\x80\x9C" "A\xE2\x80\x9D \xE2\x80\x93 it\xE2\x80\x99" "s",
          "\"A\" - it's");
    check("{\"ascii_punctuation\":true}",
          "and \xE2\x80\x9D stability \xE2\x80\x9C, that",
          "and \"stability\", that");
    check("{\"typography\":false}", "a . . b", "a . . b");
    check("{\"drop_rule_lines\":false}", "a\n-\nb", "a\n-\nb");
}

/* cb_reset starts a new pass in the last pass's buffers: the passes over
 * a document write into memory already touched, not a fresh text's worth
 * each. */
static void t_cbuf_reset(void **state)
{
    (void)state;
    cbuf b;
    cb_init(&b, "one two");
    assert_int_equal(cb_replace(&b, 4, 7, "2", 1), 0);
    assert_int_equal(cb_finish(&b, 7), 0);
    assert_string_equal(b.s, "one 2");
    char *s = b.s;
    dp_align *al = b.al;
    cb_reset(&b, "three");
    assert_ptr_equal(b.s, s);
    assert_ptr_equal(b.al, al);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.nal, 0);
    assert_false(b.changed);
    assert_int_equal(cb_replace(&b, 0, 5, "3", 1), 0);
    assert_int_equal(cb_finish(&b, 5), 0);
    assert_string_equal(b.s, "3");
    assert_ptr_equal(b.s, s);
    assert_int_equal(b.nal, 1);
    cb_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_cbuf_reset),
        cmocka_unit_test(t_sample_exact),
        cmocka_unit_test(t_sample_alignment),
        cmocka_unit_test(t_mojibake_alignment),
        cmocka_unit_test(t_html_alignment),
        cmocka_unit_test(t_decode),
        cmocka_unit_test(t_binary),
        cmocka_unit_test(t_empty),
        cmocka_unit_test(t_random_bytes),
        cmocka_unit_test(t_mojibake),
        cmocka_unit_test(t_unicode),
        cmocka_unit_test(t_html),
        cmocka_unit_test(t_layout),
        cmocka_unit_test(t_typography),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
