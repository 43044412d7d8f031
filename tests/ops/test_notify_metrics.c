/* The systemd notify module and the metrics file, without a daemon. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "metrics.h"
#include "notify.h"

static int bind_dgram(const char *path, int abstract)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    socklen_t len;
    if (abstract) {
        sa.sun_path[0] = 0;
        memcpy(sa.sun_path + 1, path, strlen(path));
        len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
                          strlen(path));
    } else {
        unlink(path);
        memcpy(sa.sun_path, path, strlen(path) + 1);
        len = sizeof sa;
    }
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, len), 0);
    return fd;
}

static void test_notify_path_socket(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "/tmp/dp-notify-%d", (int)getpid());
    int fd = bind_dgram(path, 0);
    setenv("NOTIFY_SOCKET", path, 1);
    assert_int_equal(dp_notify("READY=1\nSTATUS=ok"), 0);
    char buf[128] = {0};
    assert_true(recv(fd, buf, sizeof buf - 1, 0) > 0);
    assert_string_equal(buf, "READY=1\nSTATUS=ok");
    assert_int_equal(dp_notifyf("STATUS=%d done", 3), 0);
    memset(buf, 0, sizeof buf);
    assert_true(recv(fd, buf, sizeof buf - 1, 0) > 0);
    assert_string_equal(buf, "STATUS=3 done");
    close(fd);
    unlink(path);
}

static void test_notify_abstract_socket(void **state)
{
    (void)state;
    char name[64], env[66];
    snprintf(name, sizeof name, "dp-notify-abstract-%d", (int)getpid());
    snprintf(env, sizeof env, "@%s", name);
    int fd = bind_dgram(name, 1);
    setenv("NOTIFY_SOCKET", env, 1);
    assert_int_equal(dp_notify("WATCHDOG=1"), 0);
    char buf[64] = {0};
    assert_true(recv(fd, buf, sizeof buf - 1, 0) > 0);
    assert_string_equal(buf, "WATCHDOG=1");
    close(fd);
}

static void test_notify_without_systemd_is_silent(void **state)
{
    (void)state;
    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(dp_notify("READY=1"), 0);
    setenv("NOTIFY_SOCKET", "relative/path", 1);
    assert_int_not_equal(dp_notify("READY=1"), 0);
    unsetenv("NOTIFY_SOCKET");
}

static void test_watchdog_interval(void **state)
{
    (void)state;
    char pid[32];
    unsetenv("WATCHDOG_USEC");
    assert_int_equal(dp_notify_watchdog_ms(), 0);
    setenv("WATCHDOG_USEC", "30000000", 1);
    unsetenv("WATCHDOG_PID");
    assert_int_equal(dp_notify_watchdog_ms(), 30000);
    snprintf(pid, sizeof pid, "%d", (int)getpid() + 1);
    setenv("WATCHDOG_PID", pid, 1); /* meant for another process */
    assert_int_equal(dp_notify_watchdog_ms(), 0);
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    setenv("WATCHDOG_PID", pid, 1);
    assert_int_equal(dp_notify_watchdog_ms(), 30000);
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
}

static void test_metrics_text(void **state)
{
    (void)state;
    static dp_metrics m;
    memset(&m, 0, sizeof m);
    m.claimed = 5;
    m.done = 3;
    m.in_flight = 1;
    dp_metrics_failed(&m, "input", dp_metrics_reason_class("empty file"));
    dp_metrics_failed(&m, "clean",
                      dp_metrics_reason_class("binary input: NUL byte"));
    dp_metrics_failed(&m, "clean",
                      dp_metrics_reason_class("binary input: NUL byte"));
    dp_metrics_stage_time(&m, "segment", 0.2);  /* 0.0002 s */
    dp_metrics_stage_time(&m, "segment", 30.0); /* 0.03 s */
    char *text;
    size_t len;
    assert_int_equal(dp_metrics_render(&m, &text, &len), 0);
    assert_non_null(strstr(text, "docproc_documents_claimed_total 5\n"));
    assert_non_null(strstr(text, "docproc_documents_done_total 3\n"));
    assert_non_null(strstr(text, "docproc_documents_in_flight 1\n"));
    assert_non_null(strstr(
        text,
        "docproc_documents_failed_total{stage=\"clean\",reason=\"binary\"} 2\n"));
    assert_non_null(strstr(
        text,
        "docproc_documents_failed_total{stage=\"input\",reason=\"empty\"} 1\n"));
    /* buckets are cumulative */
    assert_non_null(strstr(
        text, "docproc_stage_seconds_bucket{stage=\"segment\",le=\"0.0005\"} 1\n"));
    assert_non_null(strstr(
        text, "docproc_stage_seconds_bucket{stage=\"segment\",le=\"0.05\"} 2\n"));
    assert_non_null(strstr(
        text, "docproc_stage_seconds_bucket{stage=\"segment\",le=\"+Inf\"} 2\n"));
    assert_non_null(
        strstr(text, "docproc_stage_seconds_count{stage=\"segment\"} 2\n"));
    assert_non_null(strstr(text, "# TYPE docproc_stage_seconds histogram\n"));
    free(text);

    char path[64];
    snprintf(path, sizeof path, "/tmp/dp-metrics-%d.prom", (int)getpid());
    assert_int_equal(dp_metrics_write(&m, path), 0);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[256];
    int found = 0;
    while (fgets(line, sizeof line, f))
        found |= strcmp(line, "docproc_documents_done_total 3\n") == 0;
    fclose(f);
    assert_true(found);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_notify_path_socket),
        cmocka_unit_test(test_notify_abstract_socket),
        cmocka_unit_test(test_notify_without_systemd_is_silent),
        cmocka_unit_test(test_watchdog_interval),
        cmocka_unit_test(test_metrics_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
