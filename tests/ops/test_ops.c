/* Running docprocd as a service: reload, drain, several instances on one
 * inbox, a full outbox, metrics and systemd notifications. Each test runs
 * the real daemon on temporary folders (the e2e harness). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "e2e.h"

/* Thread mode keeps these tests about the daemon itself; process isolation
 * has its own suite. */
#define BASE_KEYS "\"isolation\": \"thread\""

static char stages_buf[2048];

static const char *slow_then_example(int ms, const char *example_opts)
{
    snprintf(stages_buf, sizeof stages_buf,
             "[{\"name\": \"slow\", \"plugin\": \"%s\", \"options\": "
             "{\"ms\": %d}}, {\"name\": \"example\", \"plugin\": \"%s\", "
             "\"options\": %s}]",
             e2e_env("E2E_SLOW_SO"), ms, e2e_env("E2E_EXAMPLE_SO"),
             example_opts);
    return stages_buf;
}

static void drop_text(const e2e_tree *t, const char *name, const char *text)
{
    e2e_drop(t, name, text, strlen(text));
}

static void test_reload(void **state)
{
    (void)state;
    e2e_tree t;
    e2e_daemon d;
    e2e_tree_init(&t, 1);
    e2e_write_config(&t, e2e_example_stages("{\"fail_on\": \"alpha\"}"), 100,
                     "{" BASE_KEYS "}");
    e2e_daemon_start(&d, &t, -1, -1);
    drop_text(&t, "one.txt", "alpha beta");
    assert_true(e2e_wait_count(t.failed, 2)); /* doc + error.json */

    /* a new config: alpha is fine now, beta fails */
    e2e_write_config(&t, e2e_example_stages("{\"fail_on\": \"beta\"}"), 100,
                     "{" BASE_KEYS "}");
    kill(d.pid, SIGHUP);
    for (int i = 0; i < 500 && e2e_log_count(&t, "reloaded") == 0; i++)
        e2e_sleep_ms(20);
    assert_int_equal(e2e_log_count(&t, "reloaded"), 1);
    drop_text(&t, "two.txt", "alpha only");
    assert_true(e2e_wait_count(t.outbox, 1));
    assert_true(e2e_exists(e2e_path(t.outbox, "two.txt.json")));

    /* an invalid config is refused and the old one keeps running */
    e2e_writef(t.config, "{\"stages\": [{\"name\": \"example\", \"plugin\": "
                         "\"%s\", \"options\": {\"nope\": 1}}]}",
               e2e_env("E2E_EXAMPLE_SO"));
    kill(d.pid, SIGHUP);
    for (int i = 0; i < 500 && e2e_log_count(&t, "reload refused") == 0; i++)
        e2e_sleep_ms(20);
    assert_int_equal(e2e_log_count(&t, "reload refused"), 1);
    assert_true(e2e_log_count(&t, "stages[0].options.nope") >= 1);
    drop_text(&t, "three.txt", "beta fails still");
    assert_true(e2e_wait_count(t.failed, 4));
    assert_true(e2e_exists(e2e_path(t.failed, "three.txt")));
    e2e_daemon_stop(&d);
    e2e_tree_free(&t);
}

static int exists_cb(void *path) { return e2e_exists(path); }

static void reload_with(e2e_daemon *d, e2e_tree *t, const char *extra, int n)
{
    e2e_write_config(t, e2e_example_stages(NULL), 100, extra);
    kill(d->pid, SIGHUP);
    for (int i = 0; i < E2E_DEADLINE_MS / 20 &&
                    e2e_log_count(t, "reloaded") < n;
         i++)
        e2e_sleep_ms(20);
    assert_int_equal(e2e_log_count(t, "reloaded"), n);
}

/* A reload that sets, moves or drops the metrics file: the timers used to
 * keep the first config's settings, so a metrics_file added by a reload
 * was never written, and one dropped was written to "(null)" (a warning
 * every interval, a stray "(null).PID.tmp" in the working folder). */
static void test_reload_metrics(void **state)
{
    (void)state;
    e2e_tree t;
    e2e_daemon d;
    e2e_tree_init(&t, 1);
    char a[400], b[400], extra[1024];
    snprintf(a, sizeof a, "%s/a.prom", t.root);
    snprintf(b, sizeof b, "%s/b.prom", t.root);
    e2e_write_config(&t, e2e_example_stages(NULL), 100, "{" BASE_KEYS "}");
    e2e_daemon_start(&d, &t, -1, -1);
    for (int i = 0; i < E2E_DEADLINE_MS / 20 &&
                    e2e_log_count(&t, "watching") == 0;
         i++)
        e2e_sleep_ms(20);
    /* added */
    snprintf(extra, sizeof extra,
             "{" BASE_KEYS ", \"metrics_file\": \"%s\", "
             "\"metrics_interval_ms\": 100}",
             a);
    reload_with(&d, &t, extra, 1);
    assert_true(e2e_wait_for(exists_cb, a, E2E_DEADLINE_MS));
    /* moved */
    snprintf(extra, sizeof extra,
             "{" BASE_KEYS ", \"metrics_file\": \"%s\", "
             "\"metrics_interval_ms\": 100}",
             b);
    reload_with(&d, &t, extra, 2);
    assert_true(e2e_wait_for(exists_cb, b, E2E_DEADLINE_MS));
    /* dropped: nothing written anywhere, no warning, for a few intervals
     * (a document done is the mark that time went on) */
    reload_with(&d, &t, "{" BASE_KEYS "}", 3);
    drop_text(&t, "x.txt", "a b");
    assert_true(e2e_wait_count(t.done, 1));
    e2e_sleep_ms(500); /* only lets a wrong write show: never fails */
    e2e_daemon_stop(&d);
    assert_int_equal(e2e_log_count(&t, "cannot write metrics"), 0);
    assert_int_equal(e2e_log_count(&t, "(null)"), 0);
    e2e_tree_free(&t);
}

static void test_reload_keeps_documents_in_flight(void **state)
{
    (void)state;
    e2e_tree t;
    e2e_daemon d;
    char name[32];
    e2e_tree_init(&t, 1);
    e2e_write_config(&t, slow_then_example(400, "{}"), 100,
                     "{" BASE_KEYS ", \"workers\": 2}");
    e2e_daemon_start(&d, &t, -1, -1);
    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof name, "doc%d.txt", i);
        drop_text(&t, name, "some words here");
    }
    /* reload while the first ones are in flight */
    for (int i = 0; i < 500 && e2e_count(t.processing, 0) == 0; i++)
        e2e_sleep_ms(10);
    kill(d.pid, SIGHUP);
    assert_true(e2e_wait_count(t.done, 6));
    assert_int_equal(e2e_count(t.outbox, 0), 6); /* each exactly once */
    assert_int_equal(e2e_count(t.processing, 0), 0);
    assert_int_equal(e2e_count(t.inbox, 0), 0);
    e2e_daemon_stop(&d);
    e2e_tree_free(&t);
}

static void test_sigterm_drains(void **state)
{
    (void)state;
    e2e_tree t;
    e2e_daemon d;
    e2e_tree_init(&t, 1);
    e2e_write_config(&t, slow_then_example(600, "{}"), 100,
                     "{" BASE_KEYS ", \"workers\": 2}");
    e2e_daemon_start(&d, &t, -1, -1);
    drop_text(&t, "a.txt", "first");
    drop_text(&t, "b.txt", "second");
    for (int i = 0; i < 500 && e2e_count(t.processing, 0) < 2; i++)
        e2e_sleep_ms(10);
    assert_int_equal(e2e_count(t.processing, 0), 2);
    e2e_daemon_stop(&d); /* asserts exit status 0 */
    assert_int_equal(e2e_count(t.outbox, 0), 2);
    assert_int_equal(e2e_count(t.done, 0), 2);
    assert_int_equal(e2e_count(t.processing, 0), 0);
    e2e_tree_free(&t);
}

static void test_drain_time_limit_keeps_documents(void **state)
{
    (void)state;
    e2e_tree t;
    e2e_daemon d;
    e2e_tree_init(&t, 1);
    e2e_write_config(&t, slow_then_example(5000, "{}"), 100,
                     "{" BASE_KEYS ", \"drain_ms\": 200}");
    e2e_daemon_start(&d, &t, -1, -1);
    drop_text(&t, "long.txt", "takes a while");
    for (int i = 0; i < 500 && e2e_count(t.processing, 0) < 1; i++)
        e2e_sleep_ms(10);
    e2e_daemon_stop(&d); /* exits 0 well before the stage finishes */
    assert_int_equal(e2e_count(t.processing, 0), 1);
    assert_int_equal(e2e_count(t.outbox, 0), 0);
    assert_true(e2e_log_count(&t, "stay in") >= 1);
    /* the next start finishes it */
    e2e_write_config(&t, slow_then_example(10, "{}"), 100, "{" BASE_KEYS "}");
    e2e_daemon_start(&d, &t, -1, -1);
    assert_true(e2e_wait_count(t.outbox, 1));
    assert_true(e2e_wait_count(t.processing, 0));
    e2e_daemon_stop(&d);
    e2e_tree_free(&t);
}

enum { MANY = 3000, INSTANCES = 3 };

/* Wait until dir holds n entries, for as long as the count keeps growing
 * (a loaded machine fsyncing 3,000 outputs is slow, not stuck). */
static int wait_count_progress(const char *dir, int n)
{
    int last = -1;
    while (!e2e_wait_count(dir, n)) {
        int now = e2e_count(dir, 0);
        if (now <= last || now > n)
            return 0;
        last = now;
    }
    return 1;
}

static void test_three_instances_one_inbox(void **state)
{
    (void)state;
    e2e_tree t;
    e2e_daemon d[INSTANCES];
    char name[32], text[64];
    e2e_tree_init(&t, 1);
    e2e_write_config(&t, e2e_example_stages(NULL), 100,
                     "{" BASE_KEYS ", \"rescan_ms\": 500}");
    for (int i = 0; i < INSTANCES; i++)
        e2e_daemon_start(&d[i], &t, -1, -1);
    for (int i = 0; i < MANY; i++) {
        snprintf(name, sizeof name, "f%05d.txt", i);
        snprintf(text, sizeof text, "document number %d", i);
        drop_text(&t, name, text);
    }
    assert_true(wait_count_progress(t.done, MANY));
    assert_true(wait_count_progress(t.outbox, MANY));
    /* exactly once: every output is <name>.json, none is <name>.1.json */
    for (int i = 0; i < MANY; i++) {
        snprintf(name, sizeof name, "f%05d.txt.json", i);
        if (!e2e_exists(e2e_path(t.outbox, name)))
            fail_msg("missing output %s", name);
    }
    assert_int_equal(e2e_count(t.outbox, 0), MANY);
    assert_int_equal(e2e_count(t.failed, 0), 0);
    assert_int_equal(e2e_count(t.processing, 0), 0);
    for (int i = 0; i < INSTANCES; i++)
        e2e_daemon_stop(&d[i]);
    e2e_tree_free(&t);
}

static void test_full_outbox_keeps_documents(void **state)
{
    (void)state;
    e2e_tree t;
    e2e_daemon d;
    e2e_tree_init(&t, 1);
    /* a 64 KiB file system for the outbox, filled up */
    if (geteuid() != 0 ||
        mount("tmpfs", t.outbox, "tmpfs", 0, "size=64k,mode=0755") != 0) {
        e2e_tree_free(&t);
        skip(); /* needs root and permission to mount */
    }
    char filler[300];
    snprintf(filler, sizeof filler, "%s/filler", t.outbox);
    FILE *f = fopen(filler, "w");
    assert_non_null(f);
    char block[4096];
    memset(block, 'x', sizeof block);
    while (fwrite(block, 1, sizeof block, f) == sizeof block && fflush(f) == 0)
        ;
    fclose(f);
    e2e_write_config(&t, e2e_example_stages(NULL), 100, "{" BASE_KEYS "}");
    e2e_daemon_start(&d, &t, -1, -1);
    char doc[8192];
    memset(doc, 'w', sizeof doc - 1);
    doc[sizeof doc - 1] = 0;
    for (int i = 0; i < 100; i += 9)
        doc[i] = ' ';
    drop_text(&t, "big.txt", doc);
    for (int i = 0; i < 500 && e2e_log_count(&t, "cannot finish") == 0; i++)
        e2e_sleep_ms(20);
    assert_true(e2e_log_count(&t, "cannot finish big.txt") >= 1);
    assert_true(e2e_log_count(&t, "No space left") >= 1);
    /* the document waits in processing/, nothing is lost */
    assert_int_equal(e2e_count(t.processing, 0), 1);
    assert_int_equal(e2e_count(t.failed, 0), 0);
    /* space comes back: the retry writes it */
    unlink(filler);
    assert_true(e2e_wait_count(t.processing, 0));
    assert_true(e2e_exists(e2e_path(t.outbox, "big.txt.json")));
    assert_true(e2e_exists(e2e_path(t.done, "big.txt")));
    e2e_daemon_stop(&d);
    umount(t.outbox);
    e2e_tree_free(&t);
}

static int contains(void *p)
{
    const char **a = p;
    return strstr(a[0], a[1]) != NULL;
}

static void test_metrics_and_notify(void **state)
{
    (void)state;
    e2e_tree t;
    e2e_daemon d;
    e2e_tree_init(&t, 1);
    char metrics[300], sock[300], extra[800];
    snprintf(metrics, sizeof metrics, "%s/metrics.prom", t.root);
    snprintf(sock, sizeof sock, "%s/notify.sock", t.root);
    snprintf(extra, sizeof extra,
             "{" BASE_KEYS ", \"metrics_file\": \"%s\", "
             "\"metrics_interval_ms\": 100}",
             metrics);
    e2e_write_config(&t, e2e_example_stages("{\"fail_on\": \"bad\"}"), 100,
                     extra);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    setenv("NOTIFY_SOCKET", sock, 1);
    e2e_daemon_start(&d, &t, -1, -1);
    unsetenv("NOTIFY_SOCKET");
    drop_text(&t, "ok.txt", "fine words");
    drop_text(&t, "no.txt", "a bad one");
    assert_true(e2e_wait_count(t.outbox, 1));
    assert_true(e2e_wait_count(t.failed, 2));
    const char *want[][2] = {
        {NULL, "docproc_documents_done_total 1\n"},
        {NULL, "docproc_documents_failed_total{stage=\"example\","
               "reason=\"stage_error\"} 1\n"},
        {NULL, "docproc_stage_seconds_count{stage=\"example\"} 1\n"}};
    for (size_t i = 0; i < 3; i++) {
        int ok = 0;
        for (int k = 0; k < 200 && !ok; k++) {
            char *text = e2e_read(metrics, NULL);
            if (text) {
                const char *a[2] = {text, want[i][1]};
                ok = contains(a);
                free(text);
            }
            if (!ok)
                e2e_sleep_ms(20);
        }
        if (!ok)
            fail_msg("metrics lack: %s", want[i][1]);
    }
    e2e_daemon_stop(&d);
    /* READY=1 at start, STATUS lines, STOPPING=1 at the end */
    char all[8192] = "", buf[512];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf - 1, 0)) > 0) {
        buf[n] = 0;
        strncat(all, buf, sizeof all - strlen(all) - 2);
        strcat(all, "|");
    }
    close(fd);
    assert_non_null(strstr(all, "READY=1|"));
    assert_non_null(strstr(all, "STATUS="));
    assert_non_null(strstr(all, "STOPPING=1|"));
    e2e_tree_free(&t);
}

static void test_poll_mode(void **state)
{
    (void)state;
    e2e_tree t;
    e2e_daemon d;
    e2e_tree_init(&t, 1);
    e2e_write_config(&t, e2e_example_stages(NULL), 300,
                     "{" BASE_KEYS ", \"watch\": \"poll\"}");
    e2e_daemon_start(&d, &t, -1, -1);
    drop_text(&t, "polled.txt", "found by a scan");
    assert_true(e2e_wait_count(t.outbox, 1));
    assert_true(e2e_log_count(&t, "polling the inbox") >= 1);
    e2e_daemon_stop(&d);
    e2e_tree_free(&t);
}

/* A kill -9 during an output write leaves a hidden temporary in the
 * outbox; the next start removes those of dead processes on this host,
 * and leaves another host's (a shared folder) alone. */
static void test_stale_temporaries_removed(void **state)
{
    (void)state;
    e2e_tree t;
    e2e_daemon d;
    char host[64], mine[400], other[400];
    e2e_tree_init(&t, 1);
    gethostname(host, sizeof host);
    for (char *p = host; *p; p++)
        if (*p == '.' || *p == '/')
            *p = '_';
    /* pid 4194303 is above any pid_max default: never alive */
    snprintf(mine, sizeof mine, "%s/.docproc.%s.4194303.1.tmp", t.outbox, host);
    snprintf(other, sizeof other, "%s/.docproc.elsewhere.1234.1.tmp", t.outbox);
    e2e_writef(mine, "half an output");
    e2e_writef(other, "another host's write in progress");
    e2e_write_config(&t, e2e_example_stages(NULL), 100, "{" BASE_KEYS "}");
    e2e_daemon_start(&d, &t, -1, -1);
    for (int i = 0; i < 500 && e2e_exists(mine); i++)
        e2e_sleep_ms(20);
    assert_false(e2e_exists(mine));
    assert_true(e2e_exists(other));
    e2e_daemon_stop(&d);
    e2e_tree_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reload),
        cmocka_unit_test(test_reload_metrics),
        cmocka_unit_test(test_reload_keeps_documents_in_flight),
        cmocka_unit_test(test_sigterm_drains),
        cmocka_unit_test(test_drain_time_limit_keeps_documents),
        cmocka_unit_test(test_three_instances_one_inbox),
        cmocka_unit_test(test_full_outbox_keeps_documents),
        cmocka_unit_test(test_metrics_and_notify),
        cmocka_unit_test(test_poll_mode),
        cmocka_unit_test(test_stale_temporaries_removed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
