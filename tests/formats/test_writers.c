/* The format writers on documents built by hand (no stage plugins): what a
 * user of each format relies on. Suite 'formats'. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "doc.h"
#include "format.h"
#include "output.h"

/* A document over `text` with the layers given as "layer:start:end:label"
 * byte spans (label may be empty); sentences exported as "sentences",
 * entities as "entities". */
static dp_doc *make_doc(const char *name, const char *text, ...)
{
    dp_doc *doc = dp_doc_new(name, NULL, text, strlen(text));
    dp_err err = {{0}};
    assert_non_null(doc);
    assert_int_equal(dp_doc_decode_utf8(doc, &err), 0);
    va_list ap;
    va_start(ap, text);
    const char *spec;
    while ((spec = va_arg(ap, const char *)) != NULL) {
        char layer[32], label[64] = "";
        size_t s, e;
        int n = sscanf(spec, "%31[^:]:%zu:%zu:%63s", layer, &s, &e, label);
        assert_true(n >= 3);
        json_t *attrs = NULL;
        char *ref = strchr(label, '@'); /* "PERSON@0": attrs {"ref": 0} */
        if (ref) {
            *ref = 0;
            attrs = json_pack("{s:i}", "ref", atoi(ref + 1));
        }
        assert_int_equal(dp_host_api.annotate(doc, layer, s, e,
                                              label[0] ? label : NULL, attrs),
                         0);
    }
    va_end(ap);
    dp_host_api.export_layer(doc, "sentence", "sentences", 0);
    dp_host_api.export_layer(doc, "entity", "entities", DP_EXPORT_TEXT);
    return doc;
}

static char *render(dp_doc *doc, dp_format_fn fn)
{
    dp_membuf b = {0};
    dp_err err = {{0}};
    int rc = fn(doc, dp_sink_membuf, &b, &err);
    if (rc != 0)
        fail_msg("writer failed: %d %s", rc, err.msg);
    if (b.data == NULL)
        return strdup("");
    return b.data;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

static const char *evil =
    "Alice Smith wrote <script>alert('x')</script> & left.\n"
    "Then \"Bob\" <b>met</b> Paris.";

static dp_doc *evil_doc(void)
{
    /* Alice Smith 0-11, Bob 61-64 (inside quotes), Paris 77-82 */
    const char *t = evil;
    size_t bob = (size_t)(strstr(t, "Bob") - t);
    size_t paris = (size_t)(strstr(t, "Paris") - t);
    size_t nl = (size_t)(strchr(t, '\n') - t);
    char e1[64], e2[64], e3[64], s1[64], s2[64];
    snprintf(e1, sizeof e1, "entity:0:11:PERSON@0");
    snprintf(e2, sizeof e2, "entity:%zu:%zu:<img_src=x>", bob, bob + 3);
    snprintf(e3, sizeof e3, "entity:%zu:%zu:GPE", paris, paris + 5);
    snprintf(s1, sizeof s1, "sentence:0:%zu:", nl);
    snprintf(s2, sizeof s2, "sentence:%zu:%zu:", nl + 1, strlen(t));
    dp_doc *doc = make_doc("<script>name.txt", t, s1, s2, e1, e2, e3,
                           (const char *)NULL);
    dp_host_api.set_output(
        doc, "summary",
        json_pack("{s:[i],s:s}", "sentences", 1, "text",
                  "Summary with <script>alert(1)</script> inside"));
    dp_host_api.set_output(
        doc, "keyphrases",
        json_pack("[{s:s,s:f}]", "text", "</li><script>x</script>", "score",
                  0.5));
    return doc;
}

/* ---- html ---------------------------------------------------------------- */

static void html_escapes_everything(void **state)
{
    (void)state;
    dp_doc *doc = evil_doc();
    char *h = render(doc, dp_format_html);
    /* No script element anywhere: every <script> of the input is text. */
    assert_null(strstr(h, "<script"));
    assert_null(strstr(h, "<SCRIPT"));
    assert_null(strstr(h, "<b>met"));
    assert_null(strstr(h, "<img"));
    assert_non_null(strstr(h, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert_non_null(strstr(h, "&lt;script&gt;name.txt"));
    assert_non_null(strstr(h, "&quot;"));
    assert_non_null(strstr(h, "&amp; left"));
    /* The label is escaped in the attribute as in the text. */
    assert_non_null(strstr(h, "data-label=\"&lt;img_src=x&gt;\""));
    /* Nothing is loaded from elsewhere and nothing may run. */
    assert_null(strstr(h, "http://"));
    assert_null(strstr(h, "https://"));
    assert_non_null(strstr(h, "default-src 'none'"));
    free(h);
    dp_doc_free(doc);
}

static void html_sections_and_marks(void **state)
{
    (void)state;
    dp_doc *doc = evil_doc();
    char *h = render(doc, dp_format_html);
    assert_non_null(strstr(h, "<!DOCTYPE html>"));
    assert_non_null(strstr(h, "<section id=\"summary\">"));
    assert_non_null(strstr(h, "<section id=\"keyphrases\">"));
    assert_non_null(strstr(h, "<section id=\"entities\">"));
    assert_non_null(strstr(h, "<section id=\"text\">"));
    /* Title: the first line. */
    assert_non_null(strstr(h, "<h1>Alice Smith wrote &lt;script&gt;"));
    /* Every entity marked, with its label; one class per label colour. */
    assert_int_equal(count(h, "<mark class=\"e "), 3);
    assert_int_equal(count(h, "</mark>"), 3);
    assert_non_null(strstr(h, "data-label=\"PERSON\""));
    assert_non_null(strstr(h, "data-label=\"GPE\">Paris</mark>"));
    /* Sentences are spans with a hover style; the summary one marked. */
    assert_int_equal(count(h, "<span class=\"s"), 2);
    assert_int_equal(count(h, "<span class=\"s sum\""), 1);
    assert_non_null(strstr(h, ".s:hover"));
    /* The entity index counts mentions. */
    assert_non_null(strstr(h, "data-count=\"1\">Alice Smith<b>1</b>"));
    free(h);
    dp_doc_free(doc);
}

/* Only the text: no empty sections. */
static void html_without_layers(void **state)
{
    (void)state;
    dp_doc *doc = make_doc("plain.txt", "Just words.\nMore.", (const char *)NULL);
    char *h = render(doc, dp_format_html);
    assert_null(strstr(h, "id=\"summary\""));
    assert_null(strstr(h, "id=\"keyphrases\""));
    assert_null(strstr(h, "id=\"entities\""));
    assert_null(strstr(h, "<mark"));
    assert_non_null(strstr(h, "<div class=\"doc\">Just words.\nMore.</div>"));
    free(h);
    dp_doc_free(doc);
}

/* Paragraphs get a little space between them, the text staying as it is. */
static void html_paragraphs(void **state)
{
    (void)state;
    const char *t = "First para. Still.\nSecond para.\n\nThird.";
    dp_doc *doc = make_doc("p.txt", t, "paragraph:0:18:", "paragraph:19:31:",
                           "paragraph:33:39:", "sentence:0:11:",
                           "sentence:12:18:", "sentence:19:31:",
                           "sentence:33:39:", (const char *)NULL);
    char *h = render(doc, dp_format_html);
    assert_int_equal(count(h, "<i class=\"pb\"></i>"), 2);
    assert_non_null(strstr(h, "Still.</span>\n<i class=\"pb\"></i><span"));
    assert_non_null(strstr(h, "para.</span>\n\n<i class=\"pb\"></i><span"));
    free(h);
    dp_doc_free(doc);
}

/* Entities crossing a sentence end, overlapping or empty still give
 * properly nested elements and the whole text once. */
static void html_nesting(void **state)
{
    (void)state;
    const char *t = "One two. Three four five. Six.";
    dp_doc *doc = make_doc("n.txt", t, "sentence:0:8:", "sentence:9:25:",
                           "sentence:26:30:", "entity:4:13:X",
                           "entity:10:19:Y", "entity:20:20:Z",
                           "entity:20:30:W", (const char *)NULL);
    char *h = render(doc, dp_format_html);
    const char *body = strstr(h, "<div class=\"doc\">");
    assert_non_null(body);
    /* Strip the tags: the text must come back exactly. */
    char *plain = calloc(1, strlen(body) + 1);
    size_t o = 0;
    int depth_mark = 0, depth_span = 0, in_tag = 0;
    for (const char *p = body + strlen("<div class=\"doc\">");
         strncmp(p, "</div>", 6) != 0; p++) {
        if (*p == '<') {
            in_tag = 1;
            if (strncmp(p, "<mark", 5) == 0) {
                assert_int_equal(depth_mark, 0);
                depth_mark++;
            } else if (strncmp(p, "</mark>", 7) == 0) {
                depth_mark--;
            } else if (strncmp(p, "<span", 5) == 0) {
                assert_int_equal(depth_mark, 0); /* spans outside marks */
                depth_span++;
            } else if (strncmp(p, "</span>", 7) == 0) {
                assert_int_equal(depth_mark, 0);
                depth_span--;
            }
            assert_true(depth_mark >= 0 && depth_mark <= 1);
            assert_true(depth_span >= 0 && depth_span <= 1);
        } else if (*p == '>' && in_tag) {
            in_tag = 0;
        } else if (!in_tag) {
            plain[o++] = *p;
        }
    }
    assert_int_equal(depth_mark, 0);
    assert_int_equal(depth_span, 0);
    assert_string_equal(plain, t);
    /* X is split at the sentence end: in the first sentence, the space
     * between, and the second sentence. */
    assert_int_equal(count(h, "data-label=\"X\""), 3);
    /* Y overlaps X: left out of the text (kept in the index). */
    assert_int_equal(count(h, "data-label=\"Y\""), 0);
    free(plain);
    free(h);
    dp_doc_free(doc);
}

/* ---- md ------------------------------------------------------------------ */

static void md_sections(void **state)
{
    (void)state;
    dp_doc *doc = evil_doc();
    char *m = render(doc, dp_format_md);
    assert_memory_equal(m, "# Alice Smith wrote ", 20);
    assert_non_null(strstr(m, "\n## Summary\n\n"));
    assert_non_null(strstr(m, "\n## Keyphrases\n\n- "));
    assert_non_null(strstr(m, "\n## Entities\n"));
    /* Grouped by label, PERSON before GPE. */
    const char *per = strstr(m, "\n### PERSON\n\n- Alice Smith\n");
    const char *gpe = strstr(m, "\n### GPE\n\n- Paris\n");
    assert_non_null(per);
    assert_non_null(gpe);
    assert_true(per < gpe);
    /* Nothing of the text can become HTML or markup: every '<' is
     * backslash-escaped. */
    for (const char *p = m; (p = strchr(p, '<')) != NULL; p++)
        assert_true(p > m && p[-1] == '\\');
    assert_non_null(strstr(m, "\\<script\\>"));
    free(m);
    dp_doc_free(doc);
}

static void md_counts_and_escapes(void **state)
{
    (void)state;
    const char *t = "- *Rome* [x](y) and Rome and Rome_1.\n";
    dp_doc *doc = make_doc("r.md", t, "entity:3:7:GPE", "entity:20:24:GPE",
                           "entity:29:35:GPE", (const char *)NULL);
    char *m = render(doc, dp_format_md);
    /* The title would start a list: escaped. */
    assert_memory_equal(m, "# \\- \\*Rome\\* \\[x\\](y)", 22);
    assert_non_null(strstr(m, "- Rome (2)\n"));
    assert_non_null(strstr(m, "- Rome\\_1\n"));
    assert_null(strstr(m, "## Summary"));
    free(m);
    dp_doc_free(doc);
}

/* ---- brat ---------------------------------------------------------------- */

/* Code point offset -> byte offset. */
static size_t cp_to_byte(const char *s, size_t cp)
{
    size_t b = 0;
    while (s[b] && cp > 0) {
        b++;
        while (((unsigned char)s[b] & 0xC0) == 0x80)
            b++;
        cp--;
    }
    return b;
}

/* Check every T-line of `ann` against `txt` as brat does: the fragments'
 * texts joined by single spaces equal the line's text. Returns the count. */
static size_t check_ann(const char *txt, const char *ann)
{
    size_t n = 0;
    char *copy = strdup(ann);
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        assert_int_equal(line[0], 'T');
        char *tab1 = strchr(line, '\t');
        assert_non_null(tab1);
        char *tab2 = strchr(tab1 + 1, '\t');
        assert_non_null(tab2);
        *tab2 = 0;
        const char *want = tab2 + 1;
        char *sp = strchr(tab1 + 1, ' '); /* after the type */
        assert_non_null(sp);
        char got[1024] = "";
        for (char *frag = sp + 1; frag && *frag;) {
            size_t s, e;
            assert_int_equal(sscanf(frag, "%zu %zu", &s, &e), 2);
            assert_true(s < e);
            size_t bs = cp_to_byte(txt, s), be = cp_to_byte(txt, e);
            if (got[0])
                strcat(got, " ");
            strncat(got, txt + bs, be - bs);
            frag = strchr(frag, ';');
            if (frag)
                frag++;
        }
        assert_string_equal(got, want);
        n++;
    }
    free(copy);
    return n;
}

static void brat_offsets_match(void **state)
{
    (void)state;
    /* Multi-byte characters before and inside entities; one entity over a
     * line break; one with a tab. */
    const char *t = "Zoë Ångström met 北京 😀 people.\nNew\nYork\tCity hosts "
                    "Café Noir.";
    const char *ny = strstr(t, "New");
    const char *cafe = strstr(t, "Café");
    char e3[64], e4[64];
    snprintf(e3, sizeof e3, "entity:%zu:%zu:GPE", (size_t)(ny - t),
             (size_t)(ny - t) + strlen("New\nYork\tCity"));
    snprintf(e4, sizeof e4, "entity:%zu:%zu:ORG", (size_t)(cafe - t),
             (size_t)(cafe - t) + strlen("Café Noir"));
    size_t bj = (size_t)(strstr(t, "北京") - t);
    char e2[64];
    snprintf(e2, sizeof e2, "entity:%zu:%zu:GPE", bj, bj + strlen("北京"));
    dp_doc *doc = make_doc("b.txt", t, "entity:0:14:PERSON", e2, e3, e4,
                           (const char *)NULL);
    char *txt = render(doc, dp_format_brat_txt);
    char *ann = render(doc, dp_format_brat_ann);
    assert_string_equal(txt, t);
    assert_int_equal(check_ann(txt, ann), 4);
    /* Offsets are characters: "北京" starts at code point 17. */
    assert_non_null(strstr(ann, "T2\tGPE 17 19\t北京\n"));
    /* Over a line break and a tab: a discontinuous annotation. */
    assert_non_null(strstr(ann, "\tGPE 30 33;34 38;39 43\tNew York City\n"));
    free(txt);
    free(ann);
    dp_doc_free(doc);
}

static void brat_no_entities(void **state)
{
    (void)state;
    dp_doc *doc = make_doc("e.txt", "nothing here", (const char *)NULL);
    char *ann = render(doc, dp_format_brat_ann);
    assert_string_equal(ann, "");
    free(ann);
    dp_doc_free(doc);
}

/* ---- conll --------------------------------------------------------------- */

/* Check the CoNLL shape: a -DOCSTART- line, then "TOKEN TAG" lines with
 * O/B-X/I-X tags (I-X only after B-X or I-X), sentences separated by one
 * blank line. Returns the number of sentences. */
static size_t check_conll(const char *c)
{
    assert_memory_equal(c, "-DOCSTART- O\n\n", 14);
    const char *p = c + 14;
    size_t sents = 0, in_sent = 0;
    char prev[64] = "O";
    while (*p) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl); /* every line ends */
        if (nl == p) {
            assert_true(in_sent); /* no double blank lines */
            in_sent = 0;
            snprintf(prev, sizeof prev, "O");
            p++;
            continue;
        }
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)(nl - p), p);
        char *sp = strchr(line, ' ');
        assert_non_null(sp);
        assert_null(strchr(sp + 1, ' ')); /* exactly two columns */
        assert_null(strchr(line, '\t'));
        const char *tag = sp + 1;
        if (strcmp(tag, "O") != 0) {
            assert_true(tag[0] == 'B' || tag[0] == 'I');
            assert_int_equal(tag[1], '-');
            if (tag[0] == 'I')
                assert_string_equal(prev + 2, tag + 2);
        }
        snprintf(prev, sizeof prev, "%s", tag);
        if (!in_sent)
            sents++;
        in_sent = 1;
        p = nl + 1;
    }
    assert_false(in_sent); /* ends with a blank line */
    return sents;
}

static void conll_bio_and_sentences(void **state)
{
    (void)state;
    const char *t = "Barack Obama met Angela Merkel. Berlin was cold.";
    dp_doc *doc = make_doc(
        "c.txt", t, "sentence:0:31:", "sentence:32:48:", "token:0:6:Xxxx",
        "token:7:12:Xxxx", "token:13:16:xxxx", "token:17:23:Xxxx",
        "token:24:30:Xxxx", "token:30:31:punct", "token:32:38:Xxxx",
        "token:39:42:xxxx", "token:43:47:xxxx", "token:47:48:punct",
        "entity:0:12:PERSON", "entity:17:30:PERSON", "entity:32:38:GPE",
        (const char *)NULL);
    assert_int_equal(dp_format_conll_check(doc, NULL), 0);
    char *c = render(doc, dp_format_conll);
    assert_int_equal(check_conll(c), 2);
    assert_string_equal(c, "-DOCSTART- O\n\n"
                           "Barack B-PERSON\nObama I-PERSON\nmet O\n"
                           "Angela B-PERSON\nMerkel I-PERSON\n. O\n\n"
                           "Berlin B-GPE\nwas O\ncold O\n. O\n\n");
    free(c);
    dp_doc_free(doc);
}

/* Two adjacent entities of one label stay two (B then B); white space in a
 * token cannot split the columns; tokens outside sentences still come. */
static void conll_edges(void **state)
{
    (void)state;
    const char *t = "Paris London a\xC2\xA0" "b x y";
    dp_doc *doc = make_doc("c.txt", t, "sentence:0:12:", "token:0:5:Xxxx",
                           "token:6:12:Xxxx", "token:13:17:mixed",
                           "token:18:19:xxxx", "token:20:21:xxxx",
                           "entity:0:5:GPE", "entity:6:12:GPE",
                           (const char *)NULL);
    char *c = render(doc, dp_format_conll);
    assert_int_equal(check_conll(c), 2);
    assert_non_null(strstr(c, "Paris B-GPE\nLondon B-GPE\n\n"));
    free(c);
    dp_doc_free(doc);
    /* A token with an ASCII space inside (a stage may make one). */
    doc = make_doc("c.txt", "New York", "token:0:8:Xxxx", "entity:0:8:GPE",
                   (const char *)NULL);
    c = render(doc, dp_format_conll);
    assert_string_equal(c, "-DOCSTART- O\n\nNew_York B-GPE\n\n");
    free(c);
    dp_doc_free(doc);
}

static void conll_needs_tokens(void **state)
{
    (void)state;
    dp_doc *doc = make_doc("c.txt", "Some text.", "sentence:0:10:",
                           (const char *)NULL);
    dp_err err = {{0}};
    assert_int_equal(dp_format_conll_check(doc, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "segment"));
    dp_membuf b = {0};
    assert_int_equal(dp_format_conll(doc, dp_sink_membuf, &b, &err), -EINVAL);
    assert_null(b.data); /* nothing half written */
    dp_doc_free(doc);
    /* An empty document is fine: no tokens to write. */
    doc = make_doc("e.txt", " \n", (const char *)NULL);
    assert_int_equal(dp_format_conll_check(doc, &err), 0);
    dp_doc_free(doc);
}

/* ---- shared -------------------------------------------------------------- */

static void format_table(void **state)
{
    (void)state;
    const char *names[] = {"json", "jsonl", "html", "md", "brat", "conll"};
    for (size_t i = 0; i < 6; i++) {
        const dp_format *f = dp_format_find(names[i]);
        assert_non_null(f);
        assert_true(f->n_parts >= 1);
        assert_non_null(strstr(dp_format_names(), names[i]));
    }
    assert_null(dp_format_find("xml"));
    assert_null(dp_format_find(NULL));
    assert_int_equal(dp_format_find("brat")->n_parts, 2);
}

static void titles(void **state)
{
    (void)state;
    dp_doc *doc = make_doc("t.txt", "\n\n  A   short   title  \nbody",
                           (const char *)NULL);
    char *t = dp_format_title(doc, 100);
    assert_string_equal(t, "A short title");
    free(t);
    dp_doc_free(doc);
    /* Long: cut at a word and marked; never inside a character. */
    doc = make_doc("t.txt", "ééééé ééééé ééééé ééééé", (const char *)NULL);
    t = dp_format_title(doc, 26);
    assert_string_equal(t, "ééééé ééééé\xE2\x80\xA6");
    free(t);
    dp_doc_free(doc);
    doc = make_doc("blank.txt", "  \n ", (const char *)NULL);
    t = dp_format_title(doc, 100);
    assert_string_equal(t, "blank.txt");
    free(t);
    dp_doc_free(doc);
}

/* Random texts and random (even overlapping or empty) spans: every writer
 * gives a result, balanced HTML, valid brat lines. */
static void random_documents(void **state)
{
    (void)state;
    unsigned seed = 12345;
    static const char alphabet[][5] = {"a", "B", " ", "\n", "<", "&", "é",
                                       "😀", "\t", ".", "\"", "\r"};
    for (int round = 0; round < 300; round++) {
        char text[400];
        size_t len = 0;
        int n = (int)(rand_r(&seed) % 80);
        for (int i = 0; i < n; i++) {
            const char *c = alphabet[rand_r(&seed) % 12];
            memcpy(text + len, c, strlen(c));
            len += strlen(c);
        }
        text[len] = 0;
        dp_doc *doc = dp_doc_new("r", NULL, text, len);
        dp_err err = {{0}};
        assert_int_equal(dp_doc_decode_utf8(doc, &err), 0);
        const char *layers[] = {"sentence", "token", "entity"};
        for (int k = 0; k < 30 && len; k++) {
            size_t s = (size_t)rand_r(&seed) % (len + 1);
            size_t e = s + (size_t)rand_r(&seed) % (len - s + 1);
            /* Only at character boundaries, as the host requires of
             * stages. */
            while (s > 0 && ((unsigned char)text[s] & 0xC0) == 0x80)
                s--;
            while (e < len && ((unsigned char)text[e] & 0xC0) == 0x80)
                e++;
            dp_host_api.annotate(doc, layers[k % 3], s, e,
                                 k % 2 ? "L" : NULL, NULL);
        }
        char *h = render(doc, dp_format_html);
        char *body = strstr(h, "<div class=\"doc\">");
        assert_non_null(body);
        assert_int_equal(count(body, "<mark"), count(body, "</mark>"));
        assert_int_equal(count(body, "<span class=\"s"),
                         count(body, "</span>"));
        free(h);
        free(render(doc, dp_format_md));
        char *txt = render(doc, dp_format_brat_txt);
        char *ann = render(doc, dp_format_brat_ann);
        check_ann(txt, ann);
        free(txt);
        free(ann);
        if (dp_format_conll_check(doc, &err) == 0) {
            char *c = render(doc, dp_format_conll);
            check_conll(c);
            free(c);
        }
        dp_doc_free(doc);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(html_escapes_everything),
        cmocka_unit_test(html_sections_and_marks),
        cmocka_unit_test(html_without_layers),
        cmocka_unit_test(html_paragraphs),
        cmocka_unit_test(html_nesting),
        cmocka_unit_test(md_sections),
        cmocka_unit_test(md_counts_and_escapes),
        cmocka_unit_test(brat_offsets_match),
        cmocka_unit_test(brat_no_entities),
        cmocka_unit_test(conll_bio_and_sentences),
        cmocka_unit_test(conll_edges),
        cmocka_unit_test(conll_needs_tokens),
        cmocka_unit_test(format_table),
        cmocka_unit_test(titles),
        cmocka_unit_test(random_documents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
