/* docproc --format, --output-dir, the progress line and usage errors, run
 * as a user would, with the test stage 'fakener'. Suite 'formats'. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "run.h"

typedef struct fx {
    char dir[256];
    char config[300];
    char a[300], b[300], c[300]; /* inputs; c is dir/sub/a.txt */
    char *docproc;
} fx;

static const char *text_a =
    "Alice Smith met Bob in Paris. it was <script>alert(1)</script> fun.\n"
    "so Alice Smith left Paris.\n";
static const char *text_b = "Zoë Lindström visited Oslo. Oslo was cold.\n";

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    const char *so = fmt_env("FMT_FAKENER_SO");
    const char *exe = fmt_env("FMT_DOCPROC");
    if (f == NULL || so == NULL || exe == NULL)
        return -1;
    f->docproc = (char *)exe;
    snprintf(f->dir, sizeof f->dir, "%s", fmt_tmpdir());
    snprintf(f->config, sizeof f->config, "%s/config.json", f->dir);
    json_t *cfg = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:s,s:[{s:s,s:s}]}", "inbox", "inbox",
        "outbox", "outbox", "failed", "failed", "done", "done", "processing",
        "processing", "log_level", "warning", "stages", "name", "fakener",
        "plugin", so);
    if (cfg == NULL || json_dump_file(cfg, f->config, 0) != 0)
        return -1;
    json_decref(cfg);
    snprintf(f->a, sizeof f->a, "%s/a.txt", f->dir);
    snprintf(f->b, sizeof f->b, "%s/b.txt", f->dir);
    char sub[280];
    snprintf(sub, sizeof sub, "%s/sub", f->dir);
    mkdir(sub, 0755);
    snprintf(f->c, sizeof f->c, "%s/sub/a.txt", f->dir);
    if (fmt_write(f->a, text_a) || fmt_write(f->b, text_b) ||
        fmt_write(f->c, text_b))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    fmt_rmrf(f->dir);
    free(f);
    return 0;
}

/* Run docproc --config CONFIG ARGS... (NULL-terminated). */
static int dp(fx *f, const char *input, char **out, char **err, ...)
{
    char *argv[32];
    int n = 0;
    argv[n++] = f->docproc;
    argv[n++] = "--config";
    argv[n++] = f->config;
    va_list ap;
    va_start(ap, err);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < 31)
        argv[n++] = (char *)a;
    va_end(ap);
    argv[n] = NULL;
    return fmt_run(argv, input, out, err);
}

static void json_default_and_jsonl(void **state)
{
    fx *f = *state;
    char *out, *err, *out2;
    assert_int_equal(dp(f, NULL, &out, &err, f->a, f->b, NULL), 0);
    assert_int_equal(fmt_count(out, "\n"), 2);
    char *line2 = strchr(out, '\n') + 1;
    json_t *o = json_loadb(out, (size_t)(line2 - out), 0, NULL);
    assert_non_null(o);
    assert_true(json_array_size(json_object_get(o, "entities")) > 0);
    json_decref(o);
    free(err);
    assert_int_equal(dp(f, NULL, &out2, &err, "--format", "jsonl", f->a,
                        f->b, NULL),
                     0);
    /* The same results, but for the per-stage timings. */
    assert_int_equal(fmt_count(out2, "\n"), 2);
    assert_memory_equal(out, out2, (size_t)(strstr(out, "\"stages\"") - out));
    free(out);
    free(out2);
    free(err);
}

static void html_to_stdout(void **state)
{
    fx *f = *state;
    char *out, *err;
    assert_int_equal(dp(f, NULL, &out, &err, "--format", "html", f->a, NULL),
                     0);
    assert_memory_equal(out, "<!DOCTYPE html>", 15);
    assert_non_null(strstr(out, "<section id=\"summary\">"));
    assert_non_null(strstr(out, "data-label=\"PERSON\">Alice Smith</mark>"));
    assert_non_null(strstr(out, "data-label=\"GPE\">Paris</mark>"));
    assert_null(strstr(out, "<script"));
    assert_non_null(strstr(out, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_string_equal(err, "");
    free(out);
    free(err);
}

static void md_and_conll_stream(void **state)
{
    fx *f = *state;
    char *out, *err;
    assert_int_equal(dp(f, NULL, &out, &err, "-f", "md", f->a, f->b, NULL),
                     0);
    assert_memory_equal(out, "# Alice Smith met Bob in Paris.", 31);
    /* Two digests, one rule between them. */
    assert_int_equal(fmt_count(out, "\n# "), 1);
    assert_int_equal(fmt_count(out, "\n---\n"), 1);
    assert_non_null(strstr(out, "\n### PERSON\n\n- Alice Smith (2)\n"));
    assert_non_null(strstr(out, "\n### GPE\n\n- Oslo (2)\n"));
    free(out);
    free(err);

    assert_int_equal(dp(f, NULL, &out, &err, "-f", "conll", f->a, f->b,
                        NULL),
                     0);
    assert_int_equal(fmt_count(out, "-DOCSTART- O\n\n"), 2);
    assert_non_null(strstr(out, "\nAlice B-PERSON\nSmith I-PERSON\nmet O\n"));
    assert_non_null(strstr(out, "Zoë B-PERSON\nLindström I-PERSON\n"));
    /* Blank lines between sentences: 3 in a, 2 in b. */
    assert_int_equal(fmt_count(out, ". O\n\n"), 5);
    free(out);
    free(err);
}

/* Checks a brat pair the way brat reads it. */
static void check_brat(const char *txt, const char *ann, size_t want)
{
    size_t n = 0;
    char *copy = strdup(ann), *save = NULL;
    for (char *l = strtok_r(copy, "\n", &save); l;
         l = strtok_r(NULL, "\n", &save)) {
        char type[64], text[256];
        size_t s, e;
        assert_int_equal(sscanf(l, "T%*u\t%63s %zu %zu\t%255[^\n]", type, &s,
                                &e, text),
                         4);
        /* character offsets -> bytes */
        size_t b = 0, cp = 0, bs = 0;
        for (; txt[b] && cp < e; b++) {
            if (((unsigned char)txt[b] & 0xC0) != 0x80) {
                if (cp == s)
                    bs = b;
                cp++;
            }
        }
        while (((unsigned char)txt[b] & 0xC0) == 0x80)
            b++;
        assert_int_equal(b - bs, strlen(text));
        assert_memory_equal(txt + bs, text, strlen(text));
        n++;
    }
    free(copy);
    assert_int_equal(n, want);
}

static void brat_output_dir(void **state)
{
    fx *f = *state;
    char *out, *err, od[300], path[400];
    snprintf(od, sizeof od, "%s/brat/new", f->dir); /* made with parents */
    assert_int_equal(dp(f, NULL, &out, &err, "--format", "brat",
                        "--output-dir", od, f->a, f->b, NULL),
                     0);
    assert_string_equal(out, "");
    const char *names[] = {"a", "b"};
    const char *texts[] = {text_a, text_b};
    size_t ents[] = {5, 3};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s.txt", od, names[i]);
        char *txt = fmt_read(path, NULL);
        assert_non_null(txt);
        assert_string_equal(txt, texts[i]);
        snprintf(path, sizeof path, "%s/%s.ann", od, names[i]);
        char *ann = fmt_read(path, NULL);
        assert_non_null(ann);
        check_brat(txt, ann, ents[i]);
        free(txt);
        free(ann);
    }
    /* "Zoë Lindström" starts at character 0 and has 13 characters. */
    snprintf(path, sizeof path, "%s/b.ann", od);
    char *ann = fmt_read(path, NULL);
    assert_non_null(strstr(ann, "T1\tPERSON 0 13\tZoë Lindström\n"));
    free(ann);
    free(out);
    free(err);
    /* brat opens the folder as it is: its types are declared. */
    snprintf(path, sizeof path, "%s/annotation.conf", od);
    char *conf = fmt_read(path, NULL);
    assert_non_null(conf);
    assert_non_null(strstr(conf, "\n[entities]\n"));
    assert_non_null(strstr(conf, "\nPERSON\n"));
    assert_non_null(strstr(conf, "\nGPE\n"));
    assert_non_null(strstr(conf, "\n[relations]\n"));
    free(conf);
    snprintf(path, sizeof path, "%s/visual.conf", od);
    conf = fmt_read(path, NULL);
    assert_non_null(strstr(conf, "\nPERSON\tbgColor:#"));
    free(conf);
    /* A conf of the user's own is left alone. */
    snprintf(path, sizeof path, "%s/annotation.conf", od);
    assert_int_equal(fmt_write(path, "[entities]\nMine\n"), 0);
    assert_int_equal(dp(f, NULL, &out, &err, "-f", "brat", "-o", od, f->a,
                        NULL),
                     0);
    conf = fmt_read(path, NULL);
    assert_string_equal(conf, "[entities]\nMine\n");
    free(conf);
    free(out);
    free(err);
}

static void output_dir_names(void **state)
{
    fx *f = *state;
    char *out, *err, od[300], path[400];
    snprintf(od, sizeof od, "%s/html", f->dir);
    /* Two inputs named a.txt: a.html and a-2.html. */
    assert_int_equal(dp(f, NULL, &out, &err, "-f", "html", "-o", od, f->a,
                        f->c, f->b, NULL),
                     0);
    const char *want[] = {"a.html", "a-2.html", "b.html"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", od, want[i]);
        char *h = fmt_read(path, NULL);
        if (h == NULL)
            fail_msg("missing %s", path);
        assert_memory_equal(h, "<!DOCTYPE html>", 15);
        free(h);
    }
    free(out);
    free(err);
    /* jsonl ids name the files; unsafe characters are replaced. */
    snprintf(od, sizeof od, "%s/md", f->dir);
    const char *lines = "{\"id\":\"doc/1\",\"text\":\"Hello Anna.\"}\n"
                        "{\"id\":7,\"text\":\"Bye Anna.\"}\n"
                        "{\"id\":\"doc/1\",\"text\":\"Again.\"}\n"
                        "{\"text\":\"No id.\"}\n";
    assert_int_equal(dp(f, lines, &out, &err, "--jsonl", "-f", "md", "-o", od,
                        NULL),
                     0);
    const char *want2[] = {"doc_1.md", "7.md", "doc_1-2.md", "line-4.md"};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", od, want2[i]);
        if (access(path, F_OK) != 0)
            fail_msg("missing %s", path);
    }
    free(out);
    free(err);
    /* Names cut to their length limit keep whole UTF-8 characters (a cut
     * one made the name invalid, and the file "doc-1"): a file name cut at
     * 200 bytes inside an emoji, a jsonl id cut at 60 inside an "é". */
    char longname[300], want3[2][300];
    memset(longname, 'a', 197);
    snprintf(longname + 197, sizeof longname - 197,
             "\xF0\x9F\x98\x80\xF0\x9F\x98\x80.txt");
    snprintf(path, sizeof path, "%s/%s", f->dir, longname);
    assert_int_equal(fmt_write(path, "Hello Anna."), 0);
    snprintf(od, sizeof od, "%s/cut", f->dir);
    assert_int_equal(dp(f, NULL, &out, &err, "-f", "md", "-o", od, path,
                        NULL),
                     0);
    free(out);
    free(err);
    char idline[200];
    snprintf(idline, sizeof idline,
             "{\"id\":\"%.59s\xC3\xA9\",\"text\":\"Hello Anna.\"}\n",
             longname);
    assert_int_equal(dp(f, idline, &out, &err, "--jsonl", "-f", "md", "-o",
                        od, NULL),
                     0);
    free(out);
    free(err);
    snprintf(want3[0], sizeof want3[0], "%.197s.md", longname);
    snprintf(want3[1], sizeof want3[1], "%.59s.md", longname);
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", od, want3[i]);
        if (access(path, F_OK) != 0)
            fail_msg("missing %s", path);
    }
    /* json to a folder: NAME.json, one result each. */
    snprintf(od, sizeof od, "%s/json", f->dir);
    assert_int_equal(dp(f, NULL, &out, &err, "-o", od, f->b, NULL), 0);
    snprintf(path, sizeof path, "%s/b.json", od);
    char *j = fmt_read(path, NULL);
    assert_non_null(j);
    json_t *o = json_loads(j, 0, NULL);
    assert_non_null(o);
    json_decref(o);
    free(j);
    free(out);
    free(err);
}

static void usage_errors(void **state)
{
    fx *f = *state;
    struct {
        const char *args[4];
        const char *mention;
    } bad[] = {
        {{"-f", "brat", f->a, NULL}, "--output-dir"},
        {{"-f", "html", f->a, f->b}, "--output-dir"},
        {{"--jsonl", "-f", "html", NULL}, "--output-dir"},
        {{"-f", "xml", f->a, NULL}, "xml"},
        {{"-f", NULL, NULL, NULL}, "-f"},
        {{"--format", NULL, NULL, NULL}, "--format"},
        {{"--no-such-flag", f->a, NULL, NULL}, "--no-such-flag"},
        {{"-Z", f->a, NULL, NULL}, "-Z"},
        {{"--jsonl", f->a, NULL, NULL}, "--jsonl"},
        {{"--stages", ",", f->a, NULL}, "--stages"},
        {{NULL, NULL, NULL, NULL}, "no input"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *out, *err;
        int rc = dp(f, "", &out, &err, bad[i].args[0], bad[i].args[1],
                    bad[i].args[2], bad[i].args[3], NULL);
        if (rc != 2)
            fail_msg("case %zu: exit %d, expected 2; stderr: %s", i, rc, err);
        assert_string_equal(out, "");
        if (strstr(err, bad[i].mention) == NULL)
            fail_msg("case %zu: the message does not name %s: %s", i,
                     bad[i].mention, err);
        assert_non_null(strstr(err, "docproc --help"));
        free(out);
        free(err);
    }
    /* An output folder that cannot be made. */
    char *out, *err, od[400];
    snprintf(od, sizeof od, "%s/out", f->a); /* under a file */
    assert_int_equal(dp(f, NULL, &out, &err, "-o", od, f->a, NULL), 2);
    assert_non_null(strstr(err, od));
    free(out);
    free(err);
}

static void help_and_version(void **state)
{
    fx *f = *state;
    char *out, *err;
    char *h[] = {f->docproc, "--help", NULL};
    assert_int_equal(fmt_run(h, NULL, &out, &err), 0);
    const char *must[] = {"--format", "--output-dir", "html", "brat",
                          "conll", "--progress", "--version"};
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        if (strstr(out, must[i]) == NULL)
            fail_msg("--help does not mention %s", must[i]);
    free(out);
    free(err);
    char *v[] = {f->docproc, "--version", NULL};
    assert_int_equal(fmt_run(v, NULL, &out, &err), 0);
    assert_memory_equal(out, "docproc ", 8);
    free(out);
    free(err);
}

static void progress_line(void **state)
{
    fx *f = *state;
    char *out, *err;
    /* stderr is a pipe here: no progress unless asked. */
    assert_int_equal(dp(f, NULL, &out, &err, f->a, f->b, f->c, NULL), 0);
    assert_null(strchr(err, '\r'));
    assert_null(strstr(err, "docs/s"));
    free(out);
    free(err);
    assert_int_equal(dp(f, NULL, &out, &err, "--progress", f->a, f->b, f->c,
                        NULL),
                     0);
    assert_non_null(strstr(err, "3/3"));
    assert_non_null(strstr(err, "docs/s"));
    assert_non_null(strstr(err, "ETA"));
    assert_non_null(strstr(err, "3 documents in"));
    /* The results themselves are untouched. */
    assert_int_equal(fmt_count(out, "\n"), 3);
    free(out);
    free(err);
}

/* On a terminal the progress line comes by itself (several files), and
 * not for one file or with --no-progress. */
static void progress_on_terminal(void **state)
{
    fx *f = *state;
    char *err;
    char *several[] = {f->docproc, "--config", f->config, f->a, f->b, f->c,
                       NULL};
    assert_int_equal(fmt_run_tty(several, &err), 0);
    assert_non_null(strstr(err, "\r"));
    assert_non_null(strstr(err, "3/3"));
    assert_non_null(strstr(err, "docs/s"));
    assert_non_null(strstr(err, "ETA"));
    free(err);
    char *one[] = {f->docproc, "--config", f->config, f->a, NULL};
    assert_int_equal(fmt_run_tty(one, &err), 0);
    assert_null(strstr(err, "docs/s"));
    free(err);
    char *off[] = {f->docproc, "--config", f->config, "--no-progress", f->a,
                   f->b, NULL};
    assert_int_equal(fmt_run_tty(off, &err), 0);
    assert_null(strstr(err, "docs/s"));
    free(err);
}

/* Every option --help lists is in the man page, so they do not drift. */
static void man_page_covers_help(void **state)
{
    fx *f = *state;
    const char *mandir = fmt_env("FMT_MAN_DIR");
    char path[400];
    snprintf(path, sizeof path, "%s/docproc.1", mandir ? mandir : ".");
    char *man = fmt_read(path, NULL);
    if (man == NULL)
        fail_msg("cannot read %s", path);
    char *out, *err;
    char *h[] = {f->docproc, "--help", NULL};
    assert_int_equal(fmt_run(h, NULL, &out, &err), 0);
    size_t n = 0;
    for (char *p = out; (p = strstr(p, "--")) != NULL;) {
        char opt[64], troff[140];
        size_t k = 0;
        p += 2;
        while (k < sizeof opt - 1 && (p[k] == '-' || (p[k] >= 'a' &&
                                                      p[k] <= 'z')))
            k++;
        snprintf(opt, sizeof opt, "%.*s", (int)k, p);
        p += k;
        if (k == 0)
            continue;
        /* In troff each '-' is written "\-". */
        size_t o = 0;
        o += (size_t)snprintf(troff, sizeof troff, "\\-\\-");
        for (size_t i = 0; i < k && o + 3 < sizeof troff; i++) {
            if (opt[i] == '-') {
                troff[o++] = '\\';
                troff[o++] = '-';
            } else {
                troff[o++] = opt[i];
            }
        }
        troff[o] = 0;
        if (strstr(man, troff) == NULL)
            fail_msg("docproc.1 does not document --%s", opt);
        n++;
    }
    assert_true(n >= 10);
    free(out);
    free(err);
    free(man);
}

/* The four man pages render without a warning (when man is installed). */
static void man_pages_render(void **state)
{
    (void)state;
    const char *mandir = fmt_env("FMT_MAN_DIR");
    if (access("/usr/bin/man", X_OK) != 0 || mandir == NULL) {
        print_message("man is not installed: skipped\n");
        skip();
    }
    const char *pages[] = {"docproc.1", "docproc-train.1", "docprocd.8",
                           "docprocd.json.5"};
    for (int i = 0; i < 4; i++) {
        char path[400], *out, *err;
        snprintf(path, sizeof path, "%s/%s", mandir, pages[i]);
        char *argv[] = {"/usr/bin/man", "--warnings", "-l", path, NULL};
        int rc = fmt_run(argv, NULL, &out, &err);
        if (rc != 0 || err[0])
            fail_msg("man %s: exit %d: %s", pages[i], rc, err);
        assert_non_null(strstr(out, "NAME"));
        assert_non_null(strstr(out, "SEE ALSO"));
        free(out);
        free(err);
    }
}

/* A document that lacks what the format needs fails alone, with a reason;
 * the others are written. */
static void conll_without_tokens(void **state)
{
    fx *f = *state;
    const char *ex = fmt_env("FMT_EXAMPLE_SO");
    if (ex == NULL || access(ex, R_OK) != 0) {
        print_message("no example plugin in this build: skipped\n");
        skip();
    }
    char cfgpath[400];
    snprintf(cfgpath, sizeof cfgpath, "%s/example.json", f->dir);
    json_t *cfg = json_pack("{s:[{s:s,s:s}]}", "stages", "name", "example",
                            "plugin", ex);
    assert_int_equal(json_dump_file(cfg, cfgpath, 0), 0);
    json_decref(cfg);
    char *out, *err;
    char *argv[] = {f->docproc, "--config", cfgpath, "-f", "conll", f->a,
                    NULL};
    assert_int_equal(fmt_run(argv, NULL, &out, &err), 1);
    assert_string_equal(out, "");
    assert_non_null(strstr(err, "segment"));
    free(out);
    free(err);
}

/* With the real stages: CoNLL written by docproc is read by docproc-train,
 * and a model trained on it gives its tags back. */
static void conll_round_trip(void **state)
{
    fx *f = *state;
    const char *train = fmt_env("FMT_TRAIN"), *sample = fmt_env("FMT_SAMPLE");
    char so[600];
    snprintf(so, sizeof so, "%s/plugins/entities/entities.so",
             fmt_env("FMT_BUILD_ROOT"));
    if (train == NULL || access(train, X_OK) != 0 || access(so, R_OK) != 0 ||
        sample == NULL) {
        print_message("no docproc-train or entities stage: skipped\n");
        skip();
    }
    char *out, *err, path[400], model[400];
    char *argv[] = {f->docproc, "-f", "conll", (char *)sample, NULL};
    int rc = fmt_run(argv, NULL, &out, &err);
    if (rc != 0)
        fail_msg("docproc -f conll with the default config: %d %s", rc, err);
    assert_true(fmt_count(out, " B-") > 5);
    snprintf(path, sizeof path, "%s/k.conll", f->dir);
    snprintf(model, sizeof model, "%s/k.model", f->dir);
    assert_int_equal(fmt_write(path, out), 0);
    free(out);
    free(err);
    char *t[] = {(char *)train, "--train", path, "-o", model, "--epochs", "8",
                 "--bits", "16", "-q", NULL};
    rc = fmt_run(t, NULL, &out, &err);
    if (rc != 0)
        fail_msg("docproc-train --train: %d %s", rc, err);
    free(out);
    free(err);
    char *e[] = {(char *)train, "--test", path, "-m", model, NULL};
    rc = fmt_run(e, NULL, &out, &err);
    if (rc != 0)
        fail_msg("docproc-train --test: %d %s", rc, err);
    const char *f1 = strstr(out, "F1 ");
    if (f1 == NULL)
        f1 = strstr(err, "F1 ");
    assert_non_null(f1);
    double score = atof(f1 + 3);
    if (score < 0.9)
        fail_msg("tags not given back: %s%s", out, err);
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_default_and_jsonl),
        cmocka_unit_test(html_to_stdout),
        cmocka_unit_test(md_and_conll_stream),
        cmocka_unit_test(brat_output_dir),
        cmocka_unit_test(output_dir_names),
        cmocka_unit_test(usage_errors),
        cmocka_unit_test(help_and_version),
        cmocka_unit_test(progress_line),
        cmocka_unit_test(progress_on_terminal),
        cmocka_unit_test(man_page_covers_help),
        cmocka_unit_test(man_pages_render),
        cmocka_unit_test(conll_without_tokens),
        cmocka_unit_test(conll_round_trip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
