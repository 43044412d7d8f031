/* The daemon's per-document job with "outputs": every configured format is
 * written into the outbox, durably and under matching names; a document
 * lacking what a format needs goes to failed/ with the reason. Runs
 * dp_job_run itself (what a docprocd worker runs), with the test stage
 * 'fakener'. Suite 'formats'. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "job.h"
#include "pipeline.h"

typedef struct fx {
    char root[256];
    dp_config cfg;
    dp_pipeline p;
} fx;

static int rm_one(const char *p, const struct stat *sb, int flag,
                  struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void load(fx *f, const char *outputs_json, int with_segment)
{
    char path[400];
    const char *so = getenv("FMT_FAKENER_SO");
    assert_non_null(so);
    json_t *outputs = json_loads(outputs_json, 0, NULL);
    assert_non_null(outputs);
    /* Without a tokenizing stage: the example stage (words only). */
    const char *ex = getenv("FMT_EXAMPLE_SO");
    if (!with_segment && (ex == NULL || access(ex, R_OK) != 0)) {
        print_message("no example plugin in this build: skipped\n");
        skip();
    }
    json_t *stages = with_segment
                         ? json_pack("[{s:s,s:s}]", "name", "fakener",
                                     "plugin", so)
                         : json_pack("[{s:s,s:s}]", "name", "example",
                                     "plugin", ex);
    json_t *root = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o}", "inbox", "x",
                             "outbox", "x", "failed", "x", "done", "x",
                             "processing", "x", "outputs", outputs, "stages",
                             stages);
    const char *dirs[] = {"inbox", "outbox", "failed", "done", "processing"};
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "%s/%s", f->root, dirs[i]);
        mkdir(path, 0755);
        json_object_set_new(root, dirs[i], json_string(path));
    }
    dp_err err = {{0}};
    if (dp_config_from_json(root, &f->cfg, &err) != 0)
        fail_msg("config: %s", err.msg);
    json_decref(root);
    if (dp_pipeline_load(&f->p, &f->cfg, NULL, NULL, &err) != 0)
        fail_msg("pipeline: %s", err.msg);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    const char *base = getenv("TMPDIR");
    snprintf(f->root, sizeof f->root, "%s/docproc-fmtd-XXXXXX",
             base && *base ? base : "/tmp");
    if (mkdtemp(f->root) == NULL)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    dp_pipeline_free(&f->p);
    dp_config_free(&f->cfg);
    nftw(f->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void run_doc(fx *f, dp_job *job, const char *name, const char *text)
{
    char path[600];
    memset(job, 0, sizeof *job);
    job->cfg = &f->cfg;
    job->pipeline = &f->p;
    snprintf(job->name, sizeof job->name, "%s", name);
    snprintf(job->pname, sizeof job->pname, "%s", name);
    snprintf(path, sizeof path, "%s/%s", f->cfg.processing, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    dp_job_run(job);
}

static char *slurp(const char *dir, const char *name)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        fail_msg("missing %s", path);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = 0;
    fclose(fp);
    return strdup(buf);
}

static int count_dir(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        n += e->d_name[0] != '.'; /* temporaries are hidden */
    if (d)
        closedir(d);
    return n;
}

static const char *doc_text = "Alice Smith saw <b>Paris</b>. Paris was "
                              "grey.\nAlice Smith left.\n";

static void every_format_written(void **state)
{
    fx *f = *state;
    load(f, "[\"json\", \"html\", \"md\", \"brat\", \"conll\"]", 1);
    dp_job job;
    run_doc(f, &job, "news.txt", doc_text);
    if (job.result != DP_JOB_DONE)
        fail_msg("job: %d %s: %s", job.result, job.stage, job.message);
    assert_string_equal(job.out_name, "news.txt.json");
    /* json, html, md, brat .txt + .ann, conll; nothing half written. */
    assert_int_equal(count_dir(f->cfg.outbox), 6);
    char *s = slurp(f->cfg.outbox, "news.txt.json");
    assert_non_null(strstr(s, "\"entities\""));
    free(s);
    s = slurp(f->cfg.outbox, "news.txt.html");
    assert_non_null(strstr(s, "data-label=\"PERSON\">Alice Smith</mark>"));
    assert_null(strstr(s, "<b>Paris"));
    assert_non_null(strstr(s, "&lt;b&gt;"));
    free(s);
    s = slurp(f->cfg.outbox, "news.txt.md");
    assert_non_null(strstr(s, "- Alice Smith (2)"));
    free(s);
    s = slurp(f->cfg.outbox, "news.txt.txt");
    assert_string_equal(s, doc_text);
    free(s);
    s = slurp(f->cfg.outbox, "news.txt.ann");
    assert_non_null(strstr(s, "T1\tPERSON 0 11\tAlice Smith\n"));
    free(s);
    s = slurp(f->cfg.outbox, "news.txt.conll");
    assert_non_null(strstr(s, "Alice B-PERSON\nSmith I-PERSON\n"));
    free(s);
    /* The original is archived. */
    assert_int_equal(count_dir(f->cfg.done), 1);

    /* The same name again: numbered, and brat's pair keeps one name. */
    run_doc(f, &job, "news.txt", doc_text);
    assert_int_equal(job.result, DP_JOB_DONE);
    assert_int_equal(count_dir(f->cfg.outbox), 12);
    free(slurp(f->cfg.outbox, "news.txt.1.txt"));
    free(slurp(f->cfg.outbox, "news.txt.1.ann"));
    free(slurp(f->cfg.outbox, "news.txt.1.html"));
}

/* Without "json" in outputs, only the formats asked for are written. */
static void only_html(void **state)
{
    fx *f = *state;
    load(f, "[\"html\"]", 1);
    dp_job job;
    run_doc(f, &job, "a.txt", doc_text);
    assert_int_equal(job.result, DP_JOB_DONE);
    assert_int_equal(count_dir(f->cfg.outbox), 1);
    assert_string_equal(job.out_name, "a.txt.html");
}

/* conll without a tokenizing stage: the document fails with stage
 * "output" and the reason, and no output is left behind. */
static void conll_without_tokens_fails(void **state)
{
    fx *f = *state;
    load(f, "[\"json\", \"conll\"]", 0);
    dp_job job;
    run_doc(f, &job, "a.txt", doc_text);
    assert_int_equal(job.result, DP_JOB_FAILED);
    assert_string_equal(job.stage, "output");
    assert_non_null(strstr(job.message, "conll"));
    assert_int_equal(count_dir(f->cfg.outbox), 0);
    assert_int_equal(count_dir(f->cfg.failed), 2); /* a.txt + .error.json */
}

/* An outbox that cannot be written: the document stays for a retry and
 * no part is left behind. */
static void unwritable_outbox_retries(void **state)
{
    fx *f = *state;
    /* A missing folder, since root writes anywhere. */
    load(f, "[\"html\", \"json\"]", 1);
    rmdir(f->cfg.outbox);
    dp_job job;
    run_doc(f, &job, "a.txt", doc_text);
    assert_int_equal(job.result, DP_JOB_RETRY);
    assert_string_equal(job.stage, "output");
    assert_int_equal(count_dir(f->cfg.processing), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(every_format_written, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(only_html, setup, teardown),
        cmocka_unit_test_setup_teardown(conll_without_tokens_fails, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(unwritable_outbox_retries, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
