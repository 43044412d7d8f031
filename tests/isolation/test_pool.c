/* The worker pool on its own loop, without the daemon: submitting, a reload
 * with documents in flight (each runs on the config it started under), and
 * closing with a document still running (it comes back as a retry and stays
 * in processing/).
 *
 * The pool starts its workers as /proc/self/exe --worker CONFIG: this test
 * program, whose main() turns into a worker when called so. */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config.h"
#include "job.h"
#include "worker.h"
#include "workerpool.h"

#define DEADLINE_MS 30000

typedef struct fx {
    char root[128];
    char dirs[5][192]; /* inbox outbox failed done processing */
    char config[192];
    uv_loop_t loop;
    dp_workerpool pool;
    dp_config cfg;
    int done_count;
    int closed;
    uv_timer_t deadline;
} fx;

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* The config: folders of f, then [loopy (sleep_ms), example (fail_on)]. */
static void write_config(fx *f, int sleep_ms, const char *fail_on)
{
    json_t *c = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:i,s:s,s:[{s:s,s:s,s:{s:i}},"
        "{s:s,s:{s:s}}]}",
        "inbox", f->dirs[0], "outbox", f->dirs[1], "failed", f->dirs[2],
        "done", f->dirs[3], "processing", f->dirs[4], "plugin_dir",
        PLUGIN_DIR, "workers", 2, "time_limit_ms", 0, "log_level", "warning",
        "stages", "name", "loopy", "plugin", LOOPY_SO, "options",
        "sleep_ms", sleep_ms, "name", "example", "options", "fail_on",
        fail_on);
    assert_non_null(c);
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s.tmp", f->config);
    assert_int_equal(json_dump_file(c, tmp, JSON_INDENT(2)), 0);
    assert_int_equal(rename(tmp, f->config), 0);
    json_decref(c);
    dp_config_free(&f->cfg);
    dp_err err = {{0}};
    assert_int_equal(dp_config_load(f->config, &f->cfg, &err), 0);
}

static void on_deadline(uv_timer_t *t)
{
    (void)t;
    fail_msg("the pool did not finish within %d ms", DEADLINE_MS);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->root, sizeof f->root, "/tmp/dp-pool-XXXXXX");
    assert_non_null(mkdtemp(f->root));
    const char *names[] = {"inbox", "outbox", "failed", "done", "processing"};
    for (int i = 0; i < 5; i++) {
        snprintf(f->dirs[i], sizeof f->dirs[i], "%s/%s", f->root, names[i]);
        assert_int_equal(mkdir(f->dirs[i], 0755), 0);
    }
    snprintf(f->config, sizeof f->config, "%s/config.json", f->root);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    uv_timer_init(&f->loop, &f->deadline);
    f->deadline.data = f;
    uv_timer_start(&f->deadline, on_deadline, DEADLINE_MS, 0);
    uv_unref((uv_handle_t *)&f->deadline);
    *state = f;
    return 0;
}

static int rm_cb(const char *path, const struct stat *st, int flag,
                 struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    uv_close((uv_handle_t *)&f->deadline, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    dp_config_free(&f->cfg);
    nftw(f->root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

typedef struct doc {
    dp_job job;
    fx *f;
    int finished;
} doc;

static void on_done(dp_job *job, void *data)
{
    doc *d = data;
    assert_ptr_equal(job, &d->job);
    d->finished++;
    d->f->done_count++;
}

static void on_closed(dp_workerpool *pool)
{
    fx *f = (fx *)((char *)pool - offsetof(fx, pool));
    f->closed = 1;
}

/* Put `text` in processing/ as `name` and hand it to the pool. */
static void submit(fx *f, doc *d, const char *name, const char *text)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", f->dirs[4], name);
    write_text(path, text);
    memset(d, 0, sizeof *d);
    d->f = f;
    d->job.cfg = &f->cfg;
    snprintf(d->job.name, sizeof d->job.name, "%s", name);
    snprintf(d->job.pname, sizeof d->job.pname, "%s", name);
    assert_int_equal(dp_workerpool_submit(&f->pool, &d->job, on_done, d), 0);
}

static void run_until(fx *f, int *flag, int want)
{
    while (*flag < want)
        uv_run(&f->loop, UV_RUN_ONCE);
}

static int exists(const char *dir, const char *name)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

static void close_pool(fx *f)
{
    dp_workerpool_close(&f->pool, on_closed);
    run_until(f, &f->closed, 1);
}

/* Documents go through; a stage error is a normal failure, not a crash. */
static void test_submit(void **state)
{
    fx *f = *state;
    write_config(f, 0, "beta");
    assert_int_equal(dp_workerpool_init(&f->loop, &f->pool, &f->cfg,
                                        f->config),
                     0);
    doc d[5];
    for (int i = 0; i < 4; i++) {
        char name[32];
        snprintf(name, sizeof name, "ok%d.txt", i);
        submit(f, &d[i], name, "alpha gamma");
    }
    submit(f, &d[4], "no.txt", "alpha beta");
    run_until(f, &f->done_count, 5);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(d[i].job.result, DP_JOB_DONE);
        assert_int_equal(d[i].finished, 1);
        assert_int_equal(d[i].job.bytes, 11);
        assert_true(d[i].job.n_stage_ms == 2);
        assert_string_equal(d[i].job.stage_ms[1].name, "example");
        char out[64];
        snprintf(out, sizeof out, "ok%d.txt.json", i);
        assert_string_equal(d[i].job.out_name, out);
        assert_true(exists(f->dirs[1], out));
    }
    assert_int_equal(d[4].job.result, DP_JOB_FAILED);
    assert_string_equal(d[4].job.stage, "example");
    assert_non_null(strstr(d[4].job.message, "beta"));
    assert_true(exists(f->dirs[2], "no.txt"));
    assert_int_equal(f->pool.restarts, 0);
    close_pool(f);
}

/* A reload with documents in flight: those finish on the config they
 * started under, later ones run on the new one. */
static void test_reload_in_flight(void **state)
{
    fx *f = *state;
    write_config(f, 300, "beta");
    assert_int_equal(dp_workerpool_init(&f->loop, &f->pool, &f->cfg,
                                        f->config),
                     0);
    doc a, b, c;
    submit(f, &a, "a.txt", "beta words"); /* old: fails; new: fine */
    /* wait until a worker has it */
    while (dp_workerpool_busy(&f->pool) == 0)
        uv_run(&f->loop, UV_RUN_ONCE);
    write_config(f, 300, "alpha");
    assert_int_equal(dp_workerpool_reload(&f->pool, &f->cfg, f->config), 0);
    submit(f, &b, "b.txt", "alpha words"); /* old: fine; new: fails */
    submit(f, &c, "c.txt", "gamma words");
    run_until(f, &f->done_count, 3);
    assert_int_equal(a.job.result, DP_JOB_FAILED);
    assert_non_null(strstr(a.job.message, "beta"));
    assert_int_equal(b.job.result, DP_JOB_FAILED);
    assert_non_null(strstr(b.job.message, "alpha"));
    assert_int_equal(c.job.result, DP_JOB_DONE);

    /* A config file that no longer reads is refused; the workers stay. */
    write_text(f->config, "{\"stages\": []}");
    assert_true(dp_workerpool_reload(&f->pool, &f->cfg, f->config) != 0);
    doc e;
    submit(f, &e, "e.txt", "beta is fine now");
    run_until(f, &f->done_count, 4);
    assert_int_equal(e.job.result, DP_JOB_DONE);
    close_pool(f);
}

/* Closing while a document runs: it comes back as a retry, stays in
 * processing/, and the close completes. */
static void test_close_busy(void **state)
{
    fx *f = *state;
    write_config(f, 0, "beta");
    assert_int_equal(dp_workerpool_init(&f->loop, &f->pool, &f->cfg,
                                        f->config),
                     0);
    doc d;
    submit(f, &d, "stuck.txt", "LOOPME forever");
    while (dp_workerpool_busy(&f->pool) == 0)
        uv_run(&f->loop, UV_RUN_ONCE);
    dp_workerpool_close(&f->pool, on_closed);
    run_until(f, &f->closed, 1);
    assert_int_equal(d.finished, 1);
    assert_int_equal(d.job.result, DP_JOB_RETRY);
    assert_string_equal(d.job.stage, "shutdown");
    assert_true(exists(f->dirs[4], "stuck.txt"));
    doc late;
    memset(&late, 0, sizeof late);
    assert_int_equal(dp_workerpool_submit(&f->pool, &late.job, on_done,
                                          &late),
                     UV_ECANCELED);
}

/* Workers are replaced after max_documents, or when over max_rss_kb. */
static void test_recycle(void **state)
{
    fx *f = *state;
    write_config(f, 0, "beta");
    assert_int_equal(dp_workerpool_init(&f->loop, &f->pool, &f->cfg,
                                        f->config),
                     0);
    f->pool.max_documents = 2;
    doc d[6];
    for (int i = 0; i < 6; i++) {
        char name[32];
        snprintf(name, sizeof name, "r%d.txt", i);
        submit(f, &d[i], name, "recycled workers");
    }
    run_until(f, &f->done_count, 6);
    for (int i = 0; i < 6; i++)
        assert_int_equal(d[i].job.result, DP_JOB_DONE);
    /* 6 documents, 2 per worker: at most 2 workers end with only one. */
    assert_true(f->pool.recycled >= 2 && f->pool.recycled <= 3);

    /* Any worker is over 1 KiB: each is replaced after its document. */
    f->pool.max_documents = 0;
    f->pool.max_rss_kb = 1;
    unsigned long before = f->pool.recycled;
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "m%d.txt", i);
        submit(f, &d[i], name, "big workers");
        run_until(f, &f->done_count, 7 + i);
        assert_int_equal(d[i].job.result, DP_JOB_DONE);
    }
    assert_int_equal(f->pool.recycled - before, 3);
    assert_int_equal(f->pool.restarts, 0); /* none of them died */
    close_pool(f);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--worker") == 0)
        return dp_worker_main(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_submit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_in_flight, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_close_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recycle, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
