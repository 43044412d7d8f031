/* The stage as a whole: the sample article, paragraphs, the JSON output and
 * its options, bad configuration, and inputs that must never crash. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>

#include "seghelp.h"

static void sample_article(void **state)
{
    (void)state;
    size_t len;
    char *text = tk_slurp(SAMPLE_FILE, &len);
    assert_non_null(text);
    dp_doc *doc = seg_run(text);
    assert_non_null(doc);
    size_t n;
    const dp_ann *s = dp_doc_layer(doc, "sentence", &n);
    assert_true(n >= 15);
    int heading = 0, guillemet = 0;
    for (size_t i = 0; i < n; i++) {
        char *t = tk_span(doc, &s[i]);
        /* the quote closed by "»," goes on: no sentence starts at "said" */
        assert_false(strncmp(t, "said the Chinese", 16) == 0);
        assert_false(strncmp(t, ", said", 6) == 0);
        if (strstr(t, "citizens \xC2\xBB, said the Chinese number one"))
            guillemet = 1;
        if (strcmp(t, "Need of the Kazakh regime") == 0)
            heading = 1;
        /* no sentence begins or ends with white space */
        assert_false(t[0] == ' ' || t[0] == '\n');
        size_t l = strlen(t);
        assert_false(l == 0 || t[l - 1] == ' ' || t[l - 1] == '\n');
        free(t);
    }
    assert_true(heading);
    assert_true(guillemet);
    /* every line is a paragraph; the heading is one of them */
    size_t np;
    const dp_ann *p = dp_doc_layer(doc, "paragraph", &np);
    assert_int_equal(np, 7);
    char *h = tk_span(doc, &p[3]);
    assert_string_equal(h, "Need of the Kazakh regime");
    free(h);
    dp_doc_free(doc);
    free(text);
}

static void paragraphs(void **state)
{
    (void)state;
    seg_check(
        "paragraph", 0,
        "Title here\n\nFirst line of a para.\nIt goes on. And on.\n\n\nLast "
        "one.",
        "Title here | First line of a para.\nIt goes on. And on. | Last one.");
    seg_check("paragraph", 0, "One line.\nAnother line.",
              "One line. | Another line.");
}

static void json_output(void **state)
{
    (void)state;
    dp_doc *doc = seg_run("Caf\xC3\xA9 is open. Come in.");
    assert_non_null(doc);
    json_t *out = tk_output(doc);
    assert_non_null(out);
    json_t *sents = json_object_get(out, "sentences");
    assert_int_equal(json_array_size(sents), 2);
    /* code-point offsets in the output */
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(sents, 1), "start")),
        14);
    json_t *toks = json_object_get(out, "tokens");
    assert_int_equal(json_array_size(toks), 7);
    json_decref(out);
    dp_doc_free(doc);

    /* tokens stay out of the output unless asked for */
    seg_teardown(NULL);
    assert_int_equal(seg_setup_opts("{}"), 0);
    doc = seg_run("Short text. Two.");
    assert_non_null(doc);
    out = tk_output(doc);
    assert_null(json_object_get(out, "tokens"));
    assert_int_equal(json_array_size(json_object_get(out, "sentences")), 2);
    size_t n;
    assert_non_null(dp_doc_layer(doc, "token", &n));
    assert_int_equal(n, 5);
    json_decref(out);
    dp_doc_free(doc);
    seg_teardown(NULL);
    assert_int_equal(seg_setup(NULL), 0);
}

static void bad_configuration(void **state)
{
    (void)state;
    dp_pipeline p;
    dp_err err = {{0}};
    assert_int_not_equal(
        tk_pipeline(
            &p, "[{\"name\":\"segment\",\"options\":{\"language\":\"xx\"}}]",
            &err),
        0);
    assert_non_null(strstr(err.msg, "abbrev.xx.txt"));
    memset(&err, 0, sizeof err);
    assert_int_not_equal(
        tk_pipeline(
            &p,
            "[{\"name\":\"segment\",\"options\":{\"language\":\"../etc\"}}]",
            &err),
        0);
    memset(&err, 0, sizeof err);
    assert_int_not_equal(tk_pipeline(&p,
                                     "[{\"name\":\"segment\",\"options\":{"
                                     "\"abbreviations\":[\"Mr frob\"]}}]",
                                     &err),
                         0);
    assert_non_null(strstr(err.msg, "frob"));
}

/* Layers are well formed: sorted, inside the text, sentences cover tokens. */
static void check_layers(dp_doc *doc, size_t len)
{
    size_t nt, ns;
    const dp_ann *t = dp_doc_layer(doc, "token", &nt);
    const dp_ann *s = dp_doc_layer(doc, "sentence", &ns);
    size_t k = 0;
    for (size_t i = 0; i < ns; i++) {
        assert_true(s[i].start < s[i].end && s[i].end <= len);
        if (i)
            assert_true(s[i - 1].end <= s[i].start);
        /* every token sits inside one sentence */
        for (; k < nt && t[k].start < s[i].end; k++)
            assert_true(t[k].start >= s[i].start && t[k].end <= s[i].end);
    }
    assert_int_equal(k, nt);
    for (size_t i = 0; i < nt; i++) {
        assert_true(t[i].start < t[i].end && t[i].end <= len);
        assert_non_null(t[i].label);
    }
}

static void odd_inputs_never_crash(void **state)
{
    (void)state;
    static const char *const cases[] = {
        ".",
        "...",
        ". . .",
        "!!!",
        "'",
        "\"",
        "-",
        "--",
        "***",
        ":-)",
        "@",
        "#",
        "http://",
        "www.",
        "a@b",
        "1.",
        "1)",
        "a.",
        "\xE2\x80\xA2",
        "Mr.",
        "U.S.",
        "'s",
        "n't",
        "\r\n\r\n",
        "\xE2\x80\xA8x\xE2\x80\xA9y",
        "x\x01y\x7f",
        "\xCC\x81\xCC\x81 combining first",
        "\xEF\xBB\xBF"
        "BOM. Then.",
        "a.b.c.d.e.f.g.h.i.j.k.l",
        "1,2,3,4,5.6.7.8",
        "((((((((((",
        "[1] [2]",
        "www.x.com)))))).",
        "\xF0\x9F\x98\x80\xF0\x9F\x98\x80 emoji. Ok.",
        "Mr.\nSmith",
        "e.g.\n\n1. a\n2. b",
        NULL};
    for (size_t i = 0; cases[i]; i++) {
        dp_doc *doc = seg_run(cases[i]);
        assert_non_null(doc);
        size_t len;
        dp_host_api.text(doc, &len);
        check_layers(doc, len);
        dp_doc_free(doc);
    }
    /* pseudo-random printable ASCII and UTF-8 soup */
    unsigned seed = 12345;
    static const char *const atoms[] = {"a",
                                        "B",
                                        " ",
                                        "\n",
                                        ".",
                                        "!",
                                        "?",
                                        "'",
                                        "\"",
                                        "(",
                                        ")",
                                        "1",
                                        ",",
                                        ":",
                                        "-",
                                        "@",
                                        "#",
                                        "/",
                                        "\xC3\xA9",
                                        "\xE2\x80\x9D",
                                        "\xE2\x80\xA6",
                                        "Mr",
                                        "http://",
                                        "\t",
                                        "\xE3\x80\x82",
                                        "$",
                                        "*",
                                        "&",
                                        ";",
                                        "[",
                                        "]"};
    char buf[4096];
    for (int round = 0; round < 300; round++) {
        size_t used = 0;
        while (used + 8 < sizeof buf) {
            seed = seed * 1103515245u + 12345u;
            const char *a =
                atoms[(seed >> 16) % (sizeof atoms / sizeof *atoms)];
            size_t l = strlen(a);
            memcpy(buf + used, a, l);
            used += l;
            if ((seed >> 8) % 97 == 0)
                break;
        }
        buf[used] = 0;
        dp_doc *doc = seg_run(buf);
        assert_non_null(doc);
        check_layers(doc, used);
        dp_doc_free(doc);
    }
}

/* `unit` written `reps` times, NUL-terminated (malloc'd). */
static char *text_of(const char *unit, size_t reps)
{
    size_t ul = strlen(unit);
    char *t = malloc(ul * reps + 1);
    assert_non_null(t);
    for (size_t i = 0; i < reps; i++)
        memcpy(t + i * ul, unit, ul);
    t[ul * reps] = 0;
    return t;
}

static void long_input_is_linear(void **state)
{
    (void)state;
    /* one big line of abbreviations and markers: must finish and segment */
    size_t reps = 20000;
    const char *unit = "Mr. A. B. Smith of the U.S. met 1. Dr. Who at 5 p.m. ";
    size_t ul = strlen(unit);
    char *big = text_of(unit, reps);
    dp_doc *doc = seg_run(big);
    assert_non_null(doc);
    size_t n;
    dp_doc_layer(doc, "token", &n);
    assert_true(n > reps * 10);
    check_layers(doc, reps * ul);
    dp_doc_free(doc);
    free(big);
}


static void glued_rules_are_linear(void **state)
{
    (void)state;
    /* a rule with symbols glued to it ("---="), repeated over 400 KB: each
     * rule looks at a few glued symbols only, not at the whole run */
    size_t reps = 100000;
    char *big = malloc(reps * 4 + 3);
    assert_non_null(big);
    memcpy(big, "a ", 2);
    for (size_t i = 0; i < reps; i++)
        memcpy(big + 2 + i * 4, "---=", 4);
    big[2 + reps * 4] = 0;
    dp_doc *doc = seg_run(big);
    assert_non_null(doc);
    check_layers(doc, 2 + reps * 4);
    dp_doc_free(doc);
    free(big);
}

/* The layers of a document as one string: every token, sentence and
 * paragraph span with its label (malloc'd). */
static char *layers_of(dp_doc *doc)
{
    static const char *const names[] = {"token", "sentence", "paragraph"};
    size_t cap = 1 << 20, used = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    for (size_t l = 0; l < 3; l++) {
        size_t n;
        const dp_ann *a = dp_doc_layer(doc, names[l], &n);
        for (size_t i = 0; i < n; i++) {
            if (cap - used < 64) {
                cap *= 2;
                out = realloc(out, cap);
                assert_non_null(out);
            }
            used += (size_t)snprintf(out + used, cap - used, "%s %zu %zu %s\n",
                                     names[l], a[i].start, a[i].end,
                                     a[i].label ? a[i].label : "-");
        }
    }
    out[used] = 0;
    return out;
}

/* A decoded document of `text`. */
static dp_doc *doc_for(const char *text, size_t len)
{
    dp_doc *d = dp_doc_new("t.txt", NULL, text, len);
    dp_err err = {{0}};
    assert_non_null(d);
    assert_int_equal(dp_doc_decode_utf8(d, &err), 0);
    return d;
}

/* The stage's process() on `d`, as a host with the api table `api` would
 * call it. */
static int process_with(dp_doc *d, const dp_api *api, dp_err *err)
{
    struct dp_doc_head *head = (struct dp_doc_head *)(void *)d;
    const dp_api *real = head->api;
    head->api = api;
    const dp_pipeline_stage *ps = &seg_pipe.stages[0];
    int rc = ps->plugin.stage->process(ps->instance, d, err);
    head->api = real;
    return rc;
}

/* The layers the stage gives through an api table cut to an older
 * interface: `size` is the offset of the first field that host lacks. */
static char *layers_with_api(const char *text, size_t used, size_t size)
{
    dp_doc *d = doc_for(text, used);
    dp_err err = {{0}};
    dp_api old = *dp_doc_api(d);
    old.struct_size = (uint32_t)size;
    /* what lies past struct_size is not there: garbage the stage must not
     * call */
    if (size <= offsetof(dp_api, annotate_many))
        old.annotate_many = NULL;
    if (size <= offsetof(dp_api, reserve))
        old.reserve = NULL;
    if (size <= offsetof(dp_api, commit))
        old.commit = NULL;
    if (size <= offsetof(dp_api, add_spans))
        old.add_spans = NULL;
    assert_int_equal(process_with(d, &old, &err), 0);
    char *out = layers_of(d);
    dp_doc_free(d);
    return out;
}

/* Hosts of interface 1.0 (no annotate_many: one annotate call each), 1.1
 * (annotate_many batches, no reserve/commit) and 1.2 (written in place,
 * the tokens copied: no add_spans) get the same layers as this one (1.3:
 * the token array handed over), on a text of more tokens than a batch
 * holds too; and the stage accepts a 1.1 host at load, not a 1.0 one. */
static void older_hosts(void **state)
{
    (void)state;
    /* over 4096 tokens, 512 sentences and 128 paragraphs */
    size_t cap = 200000, used = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    for (int i = 0; used + 100 < cap && i < 1500; i++)
        used += (size_t)snprintf(text + used, cap - used,
                                 "Item %d costs $%d.50, said Mr. Lee.%s", i,
                                 i, i % 5 == 4 ? "\n\n" : " ");
    dp_doc *doc = seg_run(text);
    assert_non_null(doc);
    size_t nt;
    dp_doc_layer(doc, "token", &nt);
    assert_true(nt > 4096 * 2);
    char *in_place = layers_of(doc);
    dp_doc_free(doc);

    char *room = layers_with_api(text, used, offsetof(dp_api, add_spans));
    assert_string_equal(in_place, room);
    char *many = layers_with_api(text, used, offsetof(dp_api, reserve));
    assert_string_equal(in_place, many);
    char *one = layers_with_api(text, used, offsetof(dp_api, annotate_many));
    assert_string_equal(in_place, one);
    /* a short text and an empty one: a room of one sentence, and none */
    const char *small[] = {"Hi.", "", "  \n "};
    for (size_t k = 0; k < 3; k++) {
        dp_doc *sd = seg_run(small[k]);
        assert_non_null(sd);
        char *a = layers_of(sd);
        char *b = layers_with_api(small[k], strlen(small[k]),
                                  offsetof(dp_api, reserve));
        assert_string_equal(a, b);
        char *c = layers_with_api(small[k], strlen(small[k]),
                                  offsetof(dp_api, add_spans));
        assert_string_equal(a, c);
        free(a);
        free(b);
        free(c);
        dp_doc_free(sd);
    }
    free(in_place);
    free(room);
    free(many);
    free(one);
    free(text);

    /* at load: the stage asks for 1.1 and answers a 1.1 host */
    const dp_pipeline_stage *ps = &seg_pipe.stages[0];
    assert_int_equal(ps->plugin.stage->abi_minor, 1);
    dp_stage_entry_fn entry;
    *(void **)&entry = dlsym(ps->plugin.handle, DP_STAGE_ENTRY_SYMBOL);
    assert_non_null(entry);
    assert_ptr_equal(entry(DP_ABI_MAJOR, 1), ps->plugin.stage);
    assert_ptr_equal(entry(DP_ABI_MAJOR, DP_ABI_MINOR), ps->plugin.stage);
    assert_null(entry(DP_ABI_MAJOR, 0));
    assert_null(entry(DP_ABI_MAJOR + 1, 1));
}

/* The work arrays kept from one document for the next (segment.c,
 * scratch): a text gives the same layers whatever the instance processed
 * before it (a larger text, a smaller one, an empty one, one past the size
 * that is kept), and on several threads at once. */

static char *layers_of_text(const char *text)
{
    dp_doc *d = seg_run(text);
    if (d == NULL)
        return NULL;
    char *out = layers_of(d);
    dp_doc_free(d);
    return out;
}

enum { REUSE_TEXTS = 4 };
static const char *reuse_text[REUSE_TEXTS];
static char *reuse_want[REUSE_TEXTS];

static void *reuse_thread(void *arg)
{
    size_t first = (size_t)(uintptr_t)arg, bad = 0;
    for (size_t r = 0; r < 30; r++) {
        size_t k = (first + r) % 3; /* not the big one: quick */
        char *got = layers_of_text(reuse_text[k]);
        bad += got == NULL || strcmp(got, reuse_want[k]) != 0;
        free(got);
    }
    return (void *)(uintptr_t)bad;
}

static void scratch_reuse(void **state)
{
    (void)state;
    /* list markers (the rules' work area marks them) at other places in
     * each text */
    char *medium =
        text_of("Mr. Lee paid $3.50, not 4. He left.\n1. One\n2. Two\n\n", 300);
    /* more tokens than the kept arrays hold */
    char *big = text_of("Ab cd, ef. Gh ", 30000);
    reuse_text[0] = "Buy:\n1. Milk\n2. Eggs\n\nDr. Smith went home. He "
                    "slept.\n\nNew para! a) one b) two";
    reuse_text[1] = medium;
    reuse_text[2] = "";
    reuse_text[3] = big;
    /* the expected layers: each text after the one before in this order */
    for (size_t k = 0; k < REUSE_TEXTS; k++) {
        reuse_want[k] = layers_of_text(reuse_text[k]);
        assert_non_null(reuse_want[k]);
    }
    size_t nt;
    dp_doc *bd = seg_run(big);
    assert_non_null(bd);
    dp_doc_layer(bd, "token", &nt);
    assert_true(nt > ((size_t)1 << 16));
    dp_doc_free(bd);
    static const size_t order[] = {3, 0, 1, 2, 0, 3, 1, 0, 2, 1, 3, 3, 0};
    for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
        char *got = layers_of_text(reuse_text[order[i]]);
        assert_non_null(got);
        assert_string_equal(got, reuse_want[order[i]]);
        free(got);
    }
    pthread_t th[3];
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&th[i], NULL, reuse_thread,
                                        (void *)(uintptr_t)i),
                         0);
    for (size_t i = 0; i < 3; i++) {
        void *bad;
        assert_int_equal(pthread_join(th[i], &bad), 0);
        assert_int_equal((uintptr_t)bad, 0);
    }
    for (size_t k = 0; k < REUSE_TEXTS; k++)
        free(reuse_want[k]);
    free(medium);
    free(big);
}

static dp_ann *reserve_nothing(dp_doc *doc, const char *layer, size_t n)
{
    (void)doc;
    (void)layer;
    (void)n;
    return NULL;
}

static int commit_refused(dp_doc *doc, const char *layer, size_t n)
{
    (void)doc;
    (void)layer;
    (void)n;
    return -EINVAL;
}

/* A host whose reserve finds no memory, or whose commit refuses: the
 * document fails with the reason, and nothing is left half done. */
static void host_refuses_room(void **state)
{
    (void)state;
    for (int which = 0; which < 2; which++) {
        const char *text = "One sentence. Two sentences.";
        dp_doc *d = doc_for(text, strlen(text));
        dp_err err = {{0}};
        dp_api bad = *dp_doc_api(d);
        if (which == 0)
            bad.reserve = reserve_nothing;
        else
            bad.commit = commit_refused;
        int rc = process_with(d, &bad, &err);
        assert_int_equal(rc, which == 0 ? -ENOMEM : -EINVAL);
        assert_non_null(strstr(err.msg, which == 0 ? "out of memory"
                                                   : "cannot annotate"));
        dp_doc_free(d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sample_article),
        cmocka_unit_test(paragraphs),
        cmocka_unit_test(json_output),
        cmocka_unit_test(bad_configuration),
        cmocka_unit_test(odd_inputs_never_crash),
        cmocka_unit_test(long_input_is_linear),
        cmocka_unit_test(glued_rules_are_linear),
        cmocka_unit_test(older_hosts),
        cmocka_unit_test(host_refuses_room),
        cmocka_unit_test(scratch_reuse),
    };
    return cmocka_run_group_tests(tests, seg_setup, seg_teardown);
}
