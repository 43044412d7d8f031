/* End-to-end tests of docprocd: each case starts the real daemon on a
 * temporary folder tree with its own config, drops documents the way
 * producers do, and checks inbox/, processing/, outbox/, failed/ and done/.
 *
 * Run one group: e2e_daemon basic | writers | inputs | crash | burst |
 * privilege (no argument: all).
 * Every wait polls with a deadline (E2E_DEADLINE_MS); nothing asserts on
 * how long the daemon takes. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "e2e.h"

#define SETTLE_MS 200

typedef struct fx {
    e2e_tree t;
    e2e_daemon d;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    e2e_tree_init(&f->t, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    e2e_daemon_kill(&f->d);
    e2e_tree_free(&f->t);
    free(f);
    return 0;
}

typedef struct start_ctx {
    fx *f;
    int status; /* wait status once the daemon has exited, else -1 */
} start_ctx;

/* The daemon has made its folders, or has exited. */
static int started(void *p)
{
    start_ctx *c = p;
    const e2e_tree *t = &c->f->t;
    if (c->status == -1)
        c->status = e2e_daemon_exited(&c->f->d);
    return c->status != -1 ||
           (e2e_exists(t->inbox) && e2e_exists(t->outbox) &&
            e2e_exists(t->failed) && e2e_exists(t->done) &&
            e2e_exists(t->processing));
}

/* Write the config and start the daemon; returns once it has made its
 * folders (it watches before it scans, so anything dropped from now on is
 * seen either way). */
static void start(fx *f, const char *stages, int settle_ms, const char *extra)
{
    e2e_write_config(&f->t, stages, settle_ms, extra);
    e2e_daemon_start(&f->d, &f->t, -1, -1);
    start_ctx c = {f, -1};
    if (!e2e_wait_for(started, &c, E2E_DEADLINE_MS) || c.status != -1) {
        char *log = e2e_read(f->t.log, NULL);
        fail_msg("docprocd did not start (wait status %d); log:\n%s",
                 c.status, log ? log : "(none)");
    }
}

/* Wait until the daemon watches its inbox: start() returns once the
 * folders exist, but the daemon still tries a rename between them (a
 * hidden probe file), so a folder removed before this may not be empty,
 * or make the start fail. */
static void wait_watching(fx *f)
{
    for (int i = 0; i < E2E_DEADLINE_MS / 20 &&
                    e2e_log_count(&f->t, "watching") == 0;
         i++)
        e2e_sleep_ms(20);
}

static int exists_cb(void *path) { return e2e_exists(path); }

/* Wait for a path to exist (lstat). */
static int wait_exists(const char *path)
{
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", path);
    return e2e_wait_for(exists_cb, copy, E2E_DEADLINE_MS);
}

/* outbox/<name>.json exists: wait for it and return it parsed. */
static json_t *wait_output(fx *f, const char *outname)
{
    const char *p = e2e_path(f->t.outbox, outname);
    char path[1024];
    snprintf(path, sizeof path, "%s", p);
    if (!e2e_wait_for(exists_cb, path, E2E_DEADLINE_MS)) {
        char *log = e2e_read(f->t.log, NULL);
        fail_msg("no %s; docprocd log:\n%s", path, log ? log : "(none)");
    }
    return e2e_read_json(path);
}

static json_int_t word_count(const json_t *out)
{
    const json_t *v = json_object_get(out, "word_count");
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static const char *source_name(const json_t *out)
{
    const char *s =
        json_string_value(json_object_get(json_object_get(out, "source"),
                                          "name"));
    assert_non_null(s);
    return s;
}

/* failed/<name> and its .error.json: wait for them and return the error. */
static json_t *wait_failed(fx *f, const char *name)
{
    char ej[1024];
    snprintf(ej, sizeof ej, "%s/%s.error.json", f->t.failed, name);
    if (!e2e_wait_for(exists_cb, ej, E2E_DEADLINE_MS)) {
        char *log = e2e_read(f->t.log, NULL);
        fail_msg("no %s; docprocd log:\n%s", ej, log ? log : "(none)");
    }
    assert_true(e2e_exists(e2e_path(f->t.failed, name)));
    json_t *e = e2e_read_json(ej);
    assert_true(json_is_string(json_object_get(e, "stage")));
    assert_true(json_is_string(json_object_get(e, "message")));
    assert_true(json_string_length(json_object_get(e, "message")) > 0);
    return e;
}

static const char *err_message(const json_t *e)
{
    return json_string_value(json_object_get(e, "message"));
}

/* Nothing left behind: the inbox and processing/ are empty (in this order:
 * documents leave the inbox for processing/). */
static void assert_drained(fx *f)
{
    assert_true(e2e_wait_count(f->t.inbox, 0));
    assert_true(e2e_wait_count(f->t.processing, 0));
}

/* Every log line carries a syslog priority prefix for journald (so a name
 * with a newline cannot start a line of its own). */
static void assert_log_prefixed(fx *f)
{
    char *log = e2e_read(f->t.log, NULL);
    assert_non_null(log);
    for (char *line = log, *next; *line; line = next) {
        next = strchr(line, '\n');
        next = next ? next + 1 : line + strlen(line);
        if (*line == '\n')
            continue;
        if (!(line[0] == '<' && line[1] >= '0' && line[1] <= '7' &&
              line[2] == '>'))
            fail_msg("log line without a <N> priority prefix: %.*s",
                     (int)(next - line), line);
    }
    free(log);
}

/* ------------------------------------------------------------------------ */
/* group "basic"                                                             */

/* The recommended convention: write elsewhere, rename into the inbox. */
static void test_rename_dropped(void **state)
{
    fx *f = *state;
    start(f, e2e_example_stages(NULL), SETTLE_MS, NULL);
    static const char text[] = "one two three\nfour\n";
    e2e_drop(&f->t, "report.txt", text, strlen(text));
    json_t *out = wait_output(f, "report.txt.json");
    assert_int_equal(word_count(out), 4);
    assert_string_equal(source_name(out), "report.txt");
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(out, "source"), "bytes")),
                     strlen(text));
    assert_string_equal(json_string_value(json_object_get(out, "text")), text);
    /* The original is archived in done/, unchanged. */
    assert_true(e2e_wait_count(f->t.done, 1));
    /* source.sha256 is the SHA-256 of the file's bytes. */
    if (access("/usr/bin/sha256sum", X_OK) == 0) {
        char *sum, *err;
        char *argv[] = {"/usr/bin/sha256sum",
                        (char *)e2e_path(f->t.done, "report.txt"), NULL};
        assert_int_equal(e2e_run(argv, NULL, &sum, &err), 0);
        const char *sha = json_string_value(
            json_object_get(json_object_get(out, "source"), "sha256"));
        assert_non_null(sha);
        assert_int_equal(strlen(sha), 64);
        assert_memory_equal(sum, sha, 64);
        free(sum);
        free(err);
    }
    json_decref(out);
    char *kept = e2e_read(e2e_path(f->t.done, "report.txt"), NULL);
    assert_non_null(kept);
    assert_string_equal(kept, text);
    free(kept);
    assert_drained(f);
    assert_int_equal(e2e_count(f->t.failed, 0), 0);
    assert_int_equal(e2e_count(f->t.outbox, 0), 1);
    e2e_daemon_stop(&f->d);
    /* No temporary output left behind either. */
    assert_int_equal(e2e_count(f->t.outbox, 1), 1);
    assert_log_prefixed(f);
}

/* Documents already in the inbox at start, and one left in processing/ by a
 * crash, are processed. */
static void test_backlog_at_start(void **state)
{
    fx *f = *state;
    e2e_tree_free(&f->t);
    e2e_tree_init(&f->t, 1);
    e2e_writef(e2e_path(f->t.inbox, "early.txt"), "already here");
    e2e_writef(e2e_path(f->t.processing, "crashed.txt"), "left by a crash");
    start(f, e2e_example_stages(NULL), SETTLE_MS, NULL);
    json_t *a = wait_output(f, "early.txt.json");
    json_t *b = wait_output(f, "crashed.txt.json");
    assert_int_equal(word_count(a), 2);
    assert_int_equal(word_count(b), 4);
    json_decref(a);
    json_decref(b);
    assert_true(e2e_wait_count(f->t.done, 2));
    assert_drained(f);
    e2e_daemon_stop(&f->d);
}

/* originals: "delete": the output is written and the original removed;
 * there is no done/ folder at all. */
static void test_delete_originals(void **state)
{
    fx *f = *state;
    e2e_write_config(&f->t, e2e_example_stages(NULL), SETTLE_MS,
                     "{\"originals\": \"delete\"}");
    e2e_daemon_start(&f->d, &f->t, -1, -1);
    /* done/ is not made in this mode: wait for the others. */
    assert_true(e2e_wait_count(f->t.processing, 0));
    assert_true(e2e_wait_count(f->t.inbox, 0));
    e2e_drop(&f->t, "gone.txt", "read once then deleted", 22);
    json_t *out = wait_output(f, "gone.txt.json");
    assert_int_equal(word_count(out), 4);
    json_decref(out);
    assert_drained(f);
    assert_true(e2e_count(f->t.done, 0) <= 0);
    assert_int_equal(e2e_count(f->t.failed, 0), 0);
    /* SIGINT (Ctrl-C in a terminal) stops it like SIGTERM: exit 0. */
    assert_int_equal(kill(f->d.pid, SIGINT), 0);
    int st = e2e_daemon_wait(&f->d);
    assert_true(st != -1 && WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* A file written in place, in pieces, with pauses both shorter and longer
 * than settle_ms while the writer keeps it open: never read half-way,
 * processed exactly once, complete. */
static void test_slow_writer(void **state)
{
    fx *f = *state;
    start(f, e2e_example_stages(NULL), SETTLE_MS, NULL);
    const char *path = e2e_path(f->t.inbox, "slow.txt");
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", path);
    int fd = open(copy, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    int words = 0;
    for (int i = 0; i < 8; i++) {
        char piece[64];
        int n = snprintf(piece, sizeof piece, "piece%d word%d ", i, i);
        assert_int_equal(write(fd, piece, (size_t)n), n);
        words += 2;
        /* Alternate: well under the settle time, then well over it. */
        e2e_sleep_ms(i % 2 ? SETTLE_MS * 3 : SETTLE_MS / 4);
        /* Still being written: nothing may have happened to it. */
        assert_true(e2e_exists(copy));
        assert_int_equal(e2e_count(f->t.outbox, 0), 0);
        assert_int_equal(e2e_count(f->t.processing, 0), 0);
        assert_int_equal(e2e_count(f->t.failed, 0), 0);
    }
    assert_int_equal(close(fd), 0);
    json_t *out = wait_output(f, "slow.txt.json");
    assert_int_equal(word_count(out), words);
    json_decref(out);
    assert_true(e2e_wait_count(f->t.done, 1));
    assert_drained(f);
    /* Exactly once. */
    e2e_sleep_ms(SETTLE_MS * 2);
    assert_int_equal(e2e_count(f->t.outbox, 0), 1);
    assert_int_equal(e2e_count(f->t.failed, 0), 0);
    e2e_daemon_stop(&f->d);
}

/* A writer (another process) that stalls mid-file for many settle times,
 * as a network copy does, and a zero-byte placeholder filled right after
 * it is created, as scanners do. */
static void test_writer_pauses_mid_file(void **state)
{
    fx *f = *state;
    start(f, e2e_example_stages(NULL), 1000, NULL);
    char path[1024], holder[1024];
    snprintf(path, sizeof path, "%s", e2e_path(f->t.inbox, "stalled.txt"));
    snprintf(holder, sizeof holder, "%s",
             e2e_path(f->t.inbox, "placeholder.txt"));

    /* The placeholder: created empty and closed, then filled at once. */
    e2e_write(holder, "", 0);
    e2e_writef(holder, "filled after the placeholder");

    int go[2];
    assert_int_equal(pipe(go), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(go[1]);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
            _exit(1);
        char buf[4096];
        memset(buf, 'a', sizeof buf);
        for (int i = 63; i < (int)sizeof buf; i += 64)
            buf[i] = ' ';
        /* First half: 32 KiB. */
        for (int i = 0; i < 8; i++)
            if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf)
                _exit(1);
        /* Stall until the parent says so. */
        char c;
        if (read(go[0], &c, 1) != 1)
            _exit(1);
        for (int i = 0; i < 8; i++)
            if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf)
                _exit(1);
        _exit(close(fd) == 0 ? 0 : 1);
    }
    close(go[0]);
    /* The placeholder went through whole, while the writer stalls. */
    json_t *out = wait_output(f, "placeholder.txt.json");
    assert_int_equal(word_count(out), 4);
    json_decref(out);
    /* Stalled for three settle times past the placeholder's output. */
    e2e_sleep_ms(3000);
    assert_true(e2e_exists(path));
    assert_false(e2e_exists(e2e_path(f->t.outbox, "stalled.txt.json")));
    assert_int_equal(e2e_count(f->t.processing, 0), 0);
    assert_int_equal(e2e_count(f->t.failed, 0), 0);
    assert_int_equal(write(go[1], "x", 1), 1);
    close(go[1]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    out = wait_output(f, "stalled.txt.json");
    /* 64 KiB of 64-byte words: all of them, not the first half only. */
    assert_int_equal(word_count(out), 16 * 4096 / 64);
    json_decref(out);
    assert_true(e2e_wait_count(f->t.done, 2));
    assert_drained(f);
    assert_int_equal(e2e_count(f->t.outbox, 0), 2);
    assert_int_equal(e2e_count(f->t.failed, 0), 0);
    e2e_daemon_stop(&f->d);
}

/* A second document with the same name never overwrites the first's
 * output: x.json, then x.1.json; also when it arrives while the first is
 * still being processed. */
static void test_same_name_twice(void **state)
{
    fx *f = *state;
    char stages[2048];
    snprintf(stages, sizeof stages,
             "[{\"name\": \"slow\", \"plugin\": \"%s\", \"options\": "
             "{\"ms\": 300}},"
             " {\"name\": \"example\", \"plugin\": \"%s\"}]",
             e2e_env("E2E_SLOW_SO"), e2e_env("E2E_EXAMPLE_SO"));
    start(f, stages, SETTLE_MS, NULL);
    e2e_drop(&f->t, "x", "alpha beta", 10);
    json_t *a = wait_output(f, "x.json");
    assert_true(e2e_wait_count(f->t.done, 1));
    e2e_drop(&f->t, "x", "gamma delta epsilon", 19);
    json_t *b = wait_output(f, "x.1.json");
    assert_int_equal(word_count(a), 2);
    assert_int_equal(word_count(b), 3);
    json_decref(a);
    json_decref(b);
    /* Both originals kept in done/. */
    assert_true(e2e_wait_count(f->t.done, 2));
    assert_true(e2e_exists(e2e_path(f->t.done, "x")));
    assert_true(e2e_exists(e2e_path(f->t.done, "x.1")));

    /* The same name again while the first "y" is still in flight. */
    e2e_drop(&f->t, "y", "one", 3);
    assert_true(e2e_wait_count(f->t.inbox, 0)); /* claimed: 300 ms to go */
    e2e_drop(&f->t, "y", "one two", 7);
    json_t *y0 = wait_output(f, "y.json");
    json_t *y1 = wait_output(f, "y.1.json");
    json_int_t c0 = word_count(y0), c1 = word_count(y1);
    assert_true((c0 == 1 && c1 == 2) || (c0 == 2 && c1 == 1));
    json_decref(y0);
    json_decref(y1);
    assert_drained(f);
    assert_int_equal(e2e_count(f->t.outbox, 0), 4);
    assert_int_equal(e2e_count(f->t.done, 0), 4);
    e2e_daemon_stop(&f->d);
}

/* Spaces, a newline, non-ASCII and non-UTF-8 bytes in names. */
static void test_odd_names(void **state)
{
    fx *f = *state;
    start(f, e2e_example_stages(NULL), SETTLE_MS, NULL);
    static const char *const names[] = {
        "with space.txt", "new\nline.txt",
        "\xc3\xbcn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9 \xe6\x96\x87\xe6\x9b\xb8.txt",
        "bad\xff" "byte.txt", " leading and trailing ", "quote\"back\\slash",
        "x\n<3>forged log line", "tab\there\r"};
    const size_t n = sizeof names / sizeof names[0];
    for (size_t i = 0; i < n; i++)
        e2e_drop(&f->t, names[i], "two words", 9);
    for (size_t i = 0; i < n; i++) {
        char outname[512];
        snprintf(outname, sizeof outname, "%s.json", names[i]);
        json_t *out = wait_output(f, outname);
        assert_int_equal(word_count(out), 2);
        if (strchr(names[i], '\xff') == NULL)
            assert_string_equal(source_name(out), names[i]);
        else /* still valid JSON, with a replacement character */
            assert_non_null(strstr(source_name(out), "byte.txt"));
        json_decref(out);
        assert_true(wait_exists(e2e_path(f->t.done, names[i])));
    }
    assert_drained(f);
    assert_int_equal(e2e_count(f->t.failed, 0), 0);
    e2e_daemon_stop(&f->d);
    assert_log_prefixed(f);
    /* The name's newline did not start a forged line of its own. */
    char *log = e2e_read(f->t.log, NULL);
    assert_non_null(log);
    assert_true(strncmp(log, "<3>forged", 9) != 0);
    assert_null(strstr(log, "\n<3>forged"));
    free(log);
}

/* Names of files still being uploaded or edited are left alone; renaming
 * one to its final name gets it processed. */
static void test_ignored_names(void **state)
{
    fx *f = *state;
    start(f, e2e_example_stages(NULL), SETTLE_MS, "{\"rescan_ms\": 300}");
    static const char *const ignored[] = {".hidden", "~x", "x.tmp", "x.part",
                                          "x.filepart", "~$report.docx"};
    const size_t n = sizeof ignored / sizeof ignored[0];
    for (size_t i = 0; i < n; i++) {
        if (i % 2)
            e2e_writef(e2e_path(f->t.inbox, ignored[i]), "ignored %zu", i);
        else {
            char text[32];
            snprintf(text, sizeof text, "ignored %zu", i);
            e2e_drop(&f->t, ignored[i], text, strlen(text));
        }
    }
    e2e_drop(&f->t, "sentinel.txt", "a b", 3);
    json_decref(wait_output(f, "sentinel.txt.json"));
    /* Give the daemon several settle times and rescans to get it wrong. */
    e2e_sleep_ms(1200);
    for (size_t i = 0; i < n; i++) {
        char want[32];
        snprintf(want, sizeof want, "ignored %zu", i);
        char *got = e2e_read(e2e_path(f->t.inbox, ignored[i]), NULL);
        if (got == NULL)
            fail_msg("%s was taken from the inbox", ignored[i]);
        assert_string_equal(got, want);
        free(got);
    }
    assert_int_equal(e2e_count(f->t.outbox, 0), 1);
    assert_int_equal(e2e_count(f->t.failed, 0), 0);
    assert_int_equal(e2e_count(f->t.processing, 0), 0);
    /* The upload finishes: x.part becomes x.txt. */
    assert_int_equal(rename(e2e_path(f->t.inbox, "x.part"),
                            e2e_path(f->t.inbox, "x.txt")),
                     0);
    json_t *out = wait_output(f, "x.txt.json");
    assert_int_equal(word_count(out), 2);
    json_decref(out);
    e2e_daemon_stop(&f->d);
}

/* A folder in the inbox is left alone and logged once, across rescans. */
static void test_directory_left_alone(void **state)
{
    fx *f = *state;
    start(f, e2e_example_stages(NULL), SETTLE_MS, "{\"rescan_ms\": 300}");
    char sub[1024];
    snprintf(sub, sizeof sub, "%s", e2e_path(f->t.inbox, "a-folder"));
    assert_int_equal(mkdir(sub, 0755), 0);
    e2e_writef(e2e_path(sub, "inside.txt"), "inside the folder");
    e2e_drop(&f->t, "sentinel.txt", "a b", 3);
    json_decref(wait_output(f, "sentinel.txt.json"));
    /* Several rescans. */
    e2e_sleep_ms(1500);
    struct stat st;
    assert_int_equal(lstat(sub, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    char *inside = e2e_read(e2e_path(sub, "inside.txt"), NULL);
    assert_non_null(inside);
    assert_string_equal(inside, "inside the folder");
    free(inside);
    assert_int_equal(e2e_count(f->t.outbox, 0), 1);
    assert_int_equal(e2e_count(f->t.failed, 0), 0);
    assert_int_equal(e2e_count(f->t.processing, 0), 0);
    e2e_daemon_stop(&f->d);
    int lines = e2e_log_count(&f->t, "a-folder");
    if (lines != 1) {
        char *log = e2e_read(f->t.log, NULL);
        fail_msg("the folder is logged %d times, not once:\n%s", lines, log);
    }
}

/* Polling (an inbox on NFS): a folder is left alone, and when it is
 * removed and a file of the same name dropped, the file is processed; it
 * used to stay ignored in the inbox until a restart. */
static void test_folder_then_file_polled(void **state)
{
    fx *f = *state;
    start(f, e2e_example_stages(NULL), SETTLE_MS, "{\"watch\": \"poll\"}");
    assert_int_equal(mkdir(e2e_path(f->t.inbox, "report.txt"), 0755), 0);
    /* Seen as a folder, then more than one poll. */
    for (int i = 0; i < E2E_DEADLINE_MS / 20 &&
                    e2e_log_count(&f->t, "is a folder") == 0;
         i++)
        e2e_sleep_ms(20);
    e2e_sleep_ms(600);
    assert_int_equal(rmdir(e2e_path(f->t.inbox, "report.txt")), 0);
    e2e_drop(&f->t, "report.txt", "now a file", 10);
    json_t *o = wait_output(f, "report.txt.json");
    assert_int_equal(word_count(o), 3);
    json_decref(o);
    e2e_daemon_stop(&f->d);
    assert_int_equal(e2e_log_count(&f->t, "is a folder"), 1);
}

/* An inbox on another file system than processing/ (say a tmpfs, or
 * another mount): the claim is a rename, which fails with EXDEV. The
 * daemon used to start, log "cannot claim ... Invalid cross-device link;
 * retrying later" every 30 s and never process anything. Now it refuses
 * to start (exit 1) with an error naming both folders and the fix. */
static void test_inbox_on_other_file_system(void **state)
{
    fx *f = *state;
    struct stat shm, tmp;
    if (stat("/dev/shm", &shm) != 0 || stat(f->t.root, &tmp) != 0 ||
        shm.st_dev == tmp.st_dev)
        skip();
    char inbox[64], extra[256];
    snprintf(inbox, sizeof inbox, "/dev/shm/docproc-e2e-inbox.%d",
             (int)getpid());
    assert_int_equal(mkdir(inbox, 0755), 0);
    e2e_writef(e2e_path(inbox, "a.txt"), "a b c");
    snprintf(extra, sizeof extra, "{\"inbox\": \"%s\"}", inbox);
    e2e_write_config(&f->t, e2e_example_stages(NULL), SETTLE_MS, extra);
    e2e_daemon_start(&f->d, &f->t, -1, -1);
    int st = e2e_daemon_wait(&f->d);
    int in_place = e2e_exists(e2e_path(inbox, "a.txt"));
    int left = e2e_count(inbox, 1);
    unlink(e2e_path(inbox, "a.txt"));
    rmdir(inbox);
    if (!(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 1)) {
        char *log = e2e_read(f->t.log, NULL);
        fail_msg("wait status %d, expected exit 1; log:\n%s", st, log);
    }
    assert_int_equal(e2e_log_count(&f->t, "different file systems"), 1);
    assert_int_equal(e2e_log_count(&f->t, inbox), 1);
    assert_true(in_place);
    assert_int_equal(left, 1); /* no probe file left behind */
}

/* A folder of the config that is a file: docprocd exits 1 with an error
 * naming the config key and the path, not the path alone. */
static void test_folder_is_a_file(void **state)
{
    fx *f = *state;
    rmdir(f->t.outbox); /* when the fixture made it */
    e2e_writef(f->t.outbox, "not a folder");
    e2e_write_config(&f->t, e2e_example_stages(NULL), SETTLE_MS, NULL);
    e2e_daemon_start(&f->d, &f->t, -1, -1);
    int st = e2e_daemon_wait(&f->d);
    char want[400];
    snprintf(want, sizeof want, "<3>outbox: %s exists and is not a folder",
             f->t.outbox);
    if (!(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 1) ||
        e2e_log_count(&f->t, want) != 1) {
        char *log = e2e_read(f->t.log, NULL);
        fail_msg("wait status %d, expected exit 1 and \"%s\"; log:\n%s", st,
                 want, log);
    }
}

/* Another docprocd on the same inbox holds a write lease on a file for a
 * moment (its open_elsewhere probe), so the O_NONBLOCK open of a claim
 * fails with EWOULDBLOCK. Such a file used to be claimed anyway, without
 * its flock, and the other docprocd could then resume it from processing/
 * while this one ran it: two outputs (ops/service, 3 daemons, saw it).
 * Held here for longer than settle_ms, the lease keeps the file in the
 * inbox; once it is let go, the file is done, once. */
static void test_leased_file_not_claimed_unlocked(void **state)
{
    fx *f = *state;
    start(f, e2e_example_stages(NULL), SETTLE_MS, NULL);
    wait_watching(f);
    char staged[600], dropped[600];
    snprintf(staged, sizeof staged, "%s/staging/leased.txt", f->t.root);
    snprintf(dropped, sizeof dropped, "%s/leased.txt", f->t.inbox);
    e2e_writef(staged, "a b c");
    int fd = open(staged, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    void (*old)(int) = signal(SIGIO, SIG_IGN); /* the lease-break notice */
    if (fcntl(fd, F_SETLEASE, F_WRLCK) != 0) {
        close(fd);
        signal(SIGIO, old);
        print_message("cannot take a lease: skipped\n");
        skip();
    }
    assert_int_equal(rename(staged, dropped), 0);
    e2e_sleep_ms(SETTLE_MS * 3 + 500);
    int kept = e2e_exists(dropped);
    fcntl(fd, F_SETLEASE, F_UNLCK);
    close(fd);
    signal(SIGIO, old);
    if (!kept) {
        char *log = e2e_read(f->t.log, NULL);
        fail_msg("a leased file was claimed without its lock; log:\n%s", log);
    }
    json_decref(wait_output(f, "leased.txt.json"));
    assert_true(e2e_wait_count(f->t.done, 1));
    assert_false(e2e_exists(e2e_path(f->t.outbox, "leased.txt.1.json")));
    e2e_daemon_stop(&f->d);
}

typedef struct metric_ctx {
    const char *path;
    const char *name;
    long long want;
} metric_ctx;

/* The metrics file has the line "<name> <want>". */
static int metric_is(void *p)
{
    metric_ctx *c = p;
    char *text = e2e_read(c->path, NULL);
    char line[128];
    snprintf(line, sizeof line, "\n%s %lld\n", c->name, c->want);
    int ok = text && strstr(text, line);
    free(text);
    return ok;
}

typedef struct logged_ctx {
    fx *f;
    const char *needle;
    int n;
} logged_ctx;

static int logged(void *p)
{
    logged_ctx *c = p;
    return e2e_log_count(&c->f->t, c->needle) >= c->n;
}

/* Folders that come and go in the inbox: the daemon's table of names used
 * to keep every folder name it had seen, forever (a long-running daemon on
 * an inbox where tools make and remove folders grew without bound); and a
 * folder made again under the name of a removed one was never looked at
 * (nor logged) again. Now the name is forgotten when the folder goes: the
 * docproc_inbox_names gauge falls back to 0. Both ways of watching. */
static void folders_come_and_go(fx *f, const char *watch)
{
    char extra[1024], metrics[400];
    snprintf(metrics, sizeof metrics, "%s/metrics.prom", f->t.root);
    snprintf(extra, sizeof extra,
             "{\"watch\": \"%s\", \"rescan_ms\": 300, \"metrics_file\": "
             "\"%s\", \"metrics_interval_ms\": 100}",
             watch, metrics);
    start(f, e2e_example_stages(NULL), SETTLE_MS, extra);
    enum { N = 40 };
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof name, "folder-%02d", i);
        assert_int_equal(mkdir(e2e_path(f->t.inbox, name), 0755), 0);
    }
    logged_ctx all = {f, "is a folder", N};
    assert_true(e2e_wait_for(logged, &all, E2E_DEADLINE_MS));
    metric_ctx held = {metrics, "docproc_inbox_names", N};
    assert_true(e2e_wait_for(metric_is, &held, E2E_DEADLINE_MS));
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof name, "folder-%02d", i);
        assert_int_equal(rmdir(e2e_path(f->t.inbox, name)), 0);
    }
    metric_ctx none = {metrics, "docproc_inbox_names", 0};
    if (!e2e_wait_for(metric_is, &none, E2E_DEADLINE_MS)) {
        char *m = e2e_read(metrics, NULL);
        fail_msg("the names of removed folders are still held:\n%s",
                 m ? m : "(no metrics file)");
    }
    /* A new folder of an old name is a new folder: logged again. */
    assert_int_equal(mkdir(e2e_path(f->t.inbox, "folder-07"), 0755), 0);
    logged_ctx again = {f, "folder-07 is a folder", 2};
    assert_true(e2e_wait_for(logged, &again, E2E_DEADLINE_MS));
    e2e_drop(&f->t, "sentinel.txt", "a b", 3);
    json_decref(wait_output(f, "sentinel.txt.json"));
    e2e_daemon_stop(&f->d);
    assert_int_equal(e2e_log_count(&f->t, "is a folder"), N + 1);
}

/* processing/, outbox/, failed/ or done/ removed while the daemon runs:
 * a missing processing/ made every claim fail with ENOENT, which claim()
 * took for "the file was deleted meanwhile": the documents stayed in the
 * inbox, and nothing was logged. The folders are now made again (with a
 * warning) and documents go on. */
static void test_folders_removed_while_running(void **state)
{
    fx *f = *state;
    start(f, e2e_example_stages(NULL), SETTLE_MS, NULL);
    wait_watching(f);
    const char *dirs[] = {f->t.processing, f->t.outbox, f->t.failed,
                          f->t.done};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(rmdir(dirs[i]), 0);
    logged_ctx all = {f, "was removed: made it again", 4};
    if (!e2e_wait_for(logged, &all, E2E_DEADLINE_MS)) {
        char *log = e2e_read(f->t.log, NULL);
        fail_msg("the removed folders were not made again; log:\n%s", log);
    }
    e2e_drop(&f->t, "after.txt", "a b c", 5);
    json_decref(wait_output(f, "after.txt.json"));
    assert_true(e2e_wait_count(f->t.done, 1));
    e2e_daemon_stop(&f->d);
}

/* A removed folder that cannot be made again (here failed/ replaced by a
 * dangling link: mkdir says it exists, stat finds nothing) is tried every
 * second, but said once, not once a second as it used to be; its recovery
 * is said once too, and documents flow again. */
static void test_folder_remake_fails_quietly(void **state)
{
    fx *f = *state;
    start(f, e2e_example_stages(NULL), SETTLE_MS, NULL);
    wait_watching(f);
    char needle[400];
    snprintf(needle, sizeof needle, "%s was removed: ", f->t.failed);
    assert_int_equal(rmdir(f->t.failed), 0);
    assert_int_equal(symlink("/nonexistent-docproc-e2e/failed", f->t.failed),
                     0);
    logged_ctx first = {f, needle, 1};
    if (!e2e_wait_for(logged, &first, E2E_DEADLINE_MS))
        fail_msg("no error about %s", f->t.failed);
    e2e_sleep_ms(3500); /* three more tries, at least */
    int n = e2e_log_count(&f->t, needle);
    if (n != 1) {
        char *log = e2e_read(f->t.log, NULL);
        fail_msg("the failure was said %d times, not once; log:\n%s", n, log);
    }
    assert_int_equal(unlink(f->t.failed), 0);
    logged_ctx again = {f, "made it again, after failing", 1};
    assert_true(e2e_wait_for(logged, &again, E2E_DEADLINE_MS));
    e2e_sleep_ms(1500);
    assert_int_equal(e2e_log_count(&f->t, needle), 2); /* + the recovery */
    e2e_drop(&f->t, "after.txt", "a b c", 5);
    json_decref(wait_output(f, "after.txt.json"));
    e2e_daemon_stop(&f->d);
}

static void test_folders_forgotten(void **state)
{
    folders_come_and_go(*state, "inotify");
}

static void test_folders_forgotten_polled(void **state)
{
    folders_come_and_go(*state, "poll");
}

typedef struct gone_ctx {
    fx *f;
    int status;
} gone_ctx;

/* The daemon has exited, or has logged an error naming the inbox. */
static int noticed_gone(void *p)
{
    gone_ctx *c = p;
    if (c->status == -1)
        c->status = e2e_daemon_exited(&c->f->d);
    if (c->status != -1)
        return 1;
    char *log = e2e_read(c->f->t.log, NULL);
    int found = 0;
    for (char *line = log, *next; line && *line && !found; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        else
            next = line + strlen(line);
        found = strncmp(line, "<3>", 3) == 0 && strstr(line, c->f->t.inbox);
    }
    free(log);
    return found;
}

/* The inbox is removed while the daemon runs. docprocd holds the folder
 * open, so inotify says nothing; the daemon notices on its own, logs an
 * error naming the inbox and exits with status 1, so that the service
 * manager restarts it on the folder that is there now. */
static void test_inbox_removed(void **state)
{
    fx *f = *state;
    start(f, e2e_example_stages(NULL), SETTLE_MS, "{\"rescan_ms\": 300}");
    /* only once it watches: before that, a missing inbox is a start error */
    wait_watching(f);
    assert_int_equal(rmdir(f->t.inbox), 0);
    gone_ctx ctx = {f, -1};
    if (!e2e_wait_for(noticed_gone, &ctx, E2E_DEADLINE_MS)) {
        char *log = e2e_read(f->t.log, NULL);
        fail_msg("the inbox was removed and docprocd neither said so nor "
                 "exited; log:\n%s",
                 log);
    }
    int status = ctx.status != -1 ? ctx.status : e2e_daemon_wait(&f->d);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    assert_true(e2e_log_count(&f->t, "was removed") >= 1);
}

/* failed/x.error.json cannot be written (here: every temporary name the
 * daemon would try in failed/ is taken by a folder). The document stays
 * in failed/, and the log line names it, the stage's reason and why the
 * .error.json could not be written, even when the reason is long (that
 * note used to be cut off the end of a 512-byte message). */
static void test_error_json_not_written(void **state)
{
    fx *f = *state;
    char word[451], stages_opts[600], extra[] = "{\"isolation\": \"thread\"}";
    memset(word, 'W', sizeof word - 1);
    word[sizeof word - 1] = 0;
    snprintf(stages_opts, sizeof stages_opts, "{\"fail_on\": \"%s\"}", word);
    start(f, e2e_example_stages(stages_opts), SETTLE_MS, extra);
    /* The names of dp_write_atomic's temporaries, for this process. */
    char host[64] = "";
    if (gethostname(host, sizeof host - 1) != 0 || host[0] == 0)
        strcpy(host, "localhost");
    for (char *p = host; *p; p++)
        if (*p == '.' || *p == '/')
            *p = '_';
    for (int k = 0; k < 64; k++) {
        char tmp[100];
        snprintf(tmp, sizeof tmp, ".docproc.%s.%ld.%d.tmp", host,
                 (long)f->d.pid, k);
        assert_int_equal(mkdir(e2e_path(f->t.failed, tmp), 0755), 0);
    }
    char bad[600];
    int n = snprintf(bad, sizeof bad, "it says %s here", word);
    e2e_drop(&f->t, "bad.txt", bad, (size_t)n);
    assert_true(wait_exists(e2e_path(f->t.failed, "bad.txt")));
    logged_ctx c = {f, "bad.txt.error.json could not be written: ", 1};
    if (!e2e_wait_for(logged, &c, E2E_DEADLINE_MS)) {
        char *log = e2e_read(f->t.log, NULL);
        fail_msg("no note about bad.txt.error.json; log:\n%s", log);
    }
    char *log = e2e_read(f->t.log, NULL);
    assert_non_null(log);
    char *line = strstr(log, "failed bad.txt -> ");
    assert_non_null(line);
    char *eol = strchr(line, '\n');
    if (eol)
        *eol = 0;
    assert_non_null(strstr(line, "found the word 'WWWW"));
    assert_non_null(strstr(line, "cannot create a file in"));
    assert_non_null(strstr(line, "File exists)"));
    free(log);
    assert_false(e2e_exists(e2e_path(f->t.failed, "bad.txt.error.json")));
    assert_drained(f);
    e2e_daemon_stop(&f->d);
}

/* error.json beside a failed document: stage, message and time; and the
 * daemon goes on with the next document. */
static void test_error_json(void **state)
{
    fx *f = *state;
    start(f, e2e_example_stages("{\"fail_on\": \"BOOM\"}"), SETTLE_MS, NULL);
    time_t before = time(NULL);
    static const char bad[] = "this one has BOOM inside";
    e2e_drop(&f->t, "bad.txt", bad, strlen(bad));
    e2e_drop(&f->t, "good.txt", "this one is fine", 16);
    json_t *e = wait_failed(f, "bad.txt");
    assert_string_equal(json_string_value(json_object_get(e, "stage")),
                        "example");
    assert_non_null(strstr(err_message(e), "BOOM"));
    const char *when = json_string_value(json_object_get(e, "time"));
    assert_non_null(when);
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(when, "%Y-%m-%dT%H:%M:%S", &tm);
    if (end == NULL)
        fail_msg("time is not ISO 8601: %s", when);
    time_t t = timegm(&tm);
    /* UTC ('Z') or with an offset; within a day either way. */
    assert_true(t > before - 86400 && t < time(NULL) + 86400);
    json_decref(e);
    /* The failed original is kept whole. */
    char *kept = e2e_read(e2e_path(f->t.failed, "bad.txt"), NULL);
    assert_non_null(kept);
    assert_string_equal(kept, bad);
    free(kept);
    json_t *out = wait_output(f, "good.txt.json");
    assert_int_equal(word_count(out), 4);
    json_decref(out);
    assert_false(e2e_exists(e2e_path(f->t.outbox, "bad.txt.json")));
    assert_drained(f);
    e2e_daemon_stop(&f->d);
}

/* ------------------------------------------------------------------------ */
/* group "inputs": bad inputs end in failed/ with their reason               */

static void expect_failure(fx *f, const char *name, const char *const *any)
{
    json_t *e = wait_failed(f, name);
    const char *msg = err_message(e);
    int found = 0;
    for (size_t i = 0; any[i] && !found; i++)
        found = strcasestr(msg, any[i]) != NULL;
    if (!found)
        fail_msg("%s: the reason \"%s\" does not say what is wrong "
                 "(expected a mention of \"%s\")",
                 name, msg, any[0]);
    json_decref(e);
    char outname[512];
    snprintf(outname, sizeof outname, "%s.json", name);
    assert_false(e2e_exists(e2e_path(f->t.outbox, outname)));
}

static void test_bad_inputs(void **state)
{
    fx *f = *state;
    start(f, e2e_example_stages(NULL), SETTLE_MS,
          "{\"max_document_bytes\": 1000}");
    /* An empty file, written in place and closed. */
    e2e_write(e2e_path(f->t.inbox, "empty.txt"), "", 0);
    /* A binary file (a PNG header and some pixels). */
    static const unsigned char png[] = {
        0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13,
        'I', 'H', 'D', 'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0,
        0x90, 0x77, 0x53, 0xde, 0xff, 0xfe, 0x00, 0x01};
    e2e_drop(&f->t, "image.png", png, sizeof png);
    /* Latin-1, not UTF-8. */
    static const char latin1[] = "caf\xe9 cr\xe8me br\xfbl\xe9" "e\n";
    e2e_drop(&f->t, "latin1.txt", latin1, strlen(latin1));
    /* Text with NUL bytes in it. */
    static const char nul[] = "hello\0world\0";
    e2e_drop(&f->t, "nul.txt", nul, sizeof nul - 1);
    /* One byte over the limit, and one exactly at it (which is fine). */
    char big[1001];
    memset(big, 'w', sizeof big);
    for (size_t i = 9; i < sizeof big; i += 10)
        big[i] = ' ';
    e2e_drop(&f->t, "over.txt", big, 1001);
    e2e_drop(&f->t, "at-limit.txt", big, 1000);

    expect_failure(f, "empty.txt", (const char *[]){"empty", NULL});
    expect_failure(f, "image.png",
                   (const char *[]){"binary", "NUL", "UTF-8", NULL});
    expect_failure(f, "latin1.txt", (const char *[]){"UTF-8", NULL});
    expect_failure(f, "nul.txt", (const char *[]){"NUL", "binary", NULL});
    expect_failure(f, "over.txt",
                   (const char *[]){"1000", "too large", "limit", NULL});
    json_t *out = wait_output(f, "at-limit.txt.json");
    assert_int_equal(word_count(out), 100);
    json_decref(out);
    /* Failed originals are kept whole beside their reasons. */
    size_t len;
    char *kept = e2e_read(e2e_path(f->t.failed, "nul.txt"), &len);
    assert_non_null(kept);
    assert_int_equal(len, sizeof nul - 1);
    assert_memory_equal(kept, nul, len);
    free(kept);
    assert_drained(f);
    assert_int_equal(e2e_count(f->t.failed, 0), 10);
    e2e_daemon_stop(&f->d);
}

/* Invalid UTF-8 is not a failure when the pipeline starts with the
 * decoding stage `clean`. */
static void test_invalid_utf8_with_clean(void **state)
{
    fx *f = *state;
    const char *clean = e2e_env("E2E_CLEAN_SO");
    if (access(clean, R_OK) != 0) {
        print_message("no %s in this build: skipped\n", clean);
        skip();
    }
    char stages[2048];
    snprintf(stages, sizeof stages,
             "[{\"name\": \"clean\", \"plugin\": \"%s\"},"
             " {\"name\": \"example\", \"plugin\": \"%s\"}]",
             clean, e2e_env("E2E_EXAMPLE_SO"));
    start(f, stages, SETTLE_MS, NULL);
    static const char latin1[] = "caf\xe9 cr\xe8me br\xfbl\xe9" "e\n";
    e2e_drop(&f->t, "latin1.txt", latin1, strlen(latin1));
    json_t *out = wait_output(f, "latin1.txt.json");
    const char *text = json_string_value(json_object_get(out, "text"));
    assert_non_null(text);
    assert_non_null(strstr(text, "caf\xc3\xa9"));
    assert_non_null(strstr(text, "cr\xc3\xa8me"));
    assert_int_equal(word_count(out), 3);
    json_decref(out);
    assert_int_equal(e2e_count(f->t.failed, 0), 0);
    assert_drained(f);
    e2e_daemon_stop(&f->d);
}

/* A symlink in the inbox is never followed: failed/ with the reason, and
 * its target is untouched. */
static void test_symlink(void **state)
{
    fx *f = *state;
    start(f, e2e_example_stages(NULL), SETTLE_MS, NULL);
    char target[1024], link[1024];
    snprintf(target, sizeof target, "%s/secret.txt", f->t.root);
    snprintf(link, sizeof link, "%s", e2e_path(f->t.inbox, "link.txt"));
    e2e_writef(target, "do not read me");
    struct stat before;
    assert_int_equal(stat(target, &before), 0);
    assert_int_equal(symlink(target, link), 0);
    /* And one whose target does not exist. */
    assert_int_equal(symlink("/nonexistent/nowhere",
                             e2e_path(f->t.inbox, "dangling.txt")),
                     0);
    expect_failure(f, "link.txt", (const char *[]){"link", NULL});
    expect_failure(f, "dangling.txt", (const char *[]){"link", NULL});
    struct stat after;
    assert_int_equal(stat(target, &after), 0);
    assert_int_equal(after.st_ino, before.st_ino);
    assert_int_equal(after.st_size, before.st_size);
    char *still = e2e_read(target, NULL);
    assert_non_null(still);
    assert_string_equal(still, "do not read me");
    free(still);
    /* The link itself went to failed/, still a link. */
    struct stat ls;
    assert_int_equal(lstat(e2e_path(f->t.failed, "link.txt"), &ls), 0);
    assert_true(S_ISLNK(ls.st_mode));
    assert_int_equal(e2e_count(f->t.outbox, 0), 0);
    assert_drained(f);
    e2e_daemon_stop(&f->d);
}

/* A file and a FIFO: the FIFO (not a regular file) fails, never blocks the
 * daemon. */
static void test_fifo(void **state)
{
    fx *f = *state;
    start(f, e2e_example_stages(NULL), SETTLE_MS, NULL);
    assert_int_equal(mkfifo(e2e_path(f->t.inbox, "pipe"), 0644), 0);
    expect_failure(f, "pipe", (const char *[]){"regular", "file", NULL});
    e2e_drop(&f->t, "after.txt", "still running", 13);
    json_decref(wait_output(f, "after.txt.json"));
    assert_drained(f);
    e2e_daemon_stop(&f->d);
}

/* Is there an error.json in failed/ whose "name" is `name`? */
static int has_error_for(fx *f, const char *name)
{
    DIR *d = opendir(f->t.failed);
    if (d == NULL)
        return 0;
    struct dirent *e;
    int found = 0;
    while (!found && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 11 || strcmp(e->d_name + n - 11, ".error.json") != 0)
            continue;
        json_t *o = json_load_file(e2e_path(f->t.failed, e->d_name), 0, NULL);
        const char *s = json_string_value(json_object_get(o, "name"));
        found = s && strcmp(s, name) == 0;
        json_decref(o);
    }
    closedir(d);
    return found;
}

/* Is there an output in the outbox whose source.name is `name`? */
static int has_output_for(fx *f, const char *name)
{
    DIR *d = opendir(f->t.outbox);
    if (d == NULL)
        return 0;
    struct dirent *e;
    int found = 0;
    while (!found && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        json_t *o = json_load_file(e2e_path(f->t.outbox, e->d_name), 0, NULL);
        const char *s = json_string_value(
            json_object_get(json_object_get(o, "source"), "name"));
        found = s && strcmp(s, name) == 0;
        json_decref(o);
    }
    closedir(d);
    return found;
}

/* Names so long that "<name>.json" or "<name>.error.json" exceed NAME_MAX
 * (255 bytes): the output and the error record get a shortened name,
 * never stuck in processing/. */
static void test_long_names(void **state)
{
    fx *f = *state;
    start(f, e2e_example_stages(NULL), SETTLE_MS, NULL);
    char good[256], bad[256];
    memset(good, 'a', 251);
    good[251] = 0;
    memset(bad, 'b', 245);
    bad[245] = 0;
    e2e_drop(&f->t, good, "two words", 9);
    e2e_drop(&f->t, bad, "has a \0 NUL", 11);
    assert_drained(f); /* not stuck in processing/ */
    assert_true(has_output_for(f, good));
    assert_true(e2e_exists(e2e_path(f->t.failed, bad)));
    /* the reason is written just after the document moves */
    for (int i = 0; i < E2E_DEADLINE_MS / 20 && !has_error_for(f, bad); i++)
        e2e_sleep_ms(20);
    assert_true(has_error_for(f, bad));
    e2e_daemon_stop(&f->d);
}

/* The default pipeline of config/docprocd.json (clean, segment, entities,
 * summarize), on the sample the issue names: an output with sentences,
 * entities and a summary. Skipped while a plugin is missing. */
static void test_default_pipeline(void **state)
{
    fx *f = *state;
    const char *plugin_dir = e2e_env("E2E_PLUGIN_DIR");
    json_t *def = e2e_read_json(e2e_env("E2E_DEFAULT_CONFIG"));
    json_t *stages = json_object_get(def, "stages");
    assert_true(json_is_array(stages));
    size_t i;
    json_t *st;
    json_array_foreach(stages, i, st) {
        const char *name = json_string_value(json_object_get(st, "name"));
        char so[1024];
        snprintf(so, sizeof so, "%s/%s/%s.so", plugin_dir, name, name);
        if (access(so, R_OK) != 0) {
            print_message("no %s in this build: skipped\n", so);
            json_decref(def);
            skip();
        }
    }
    char *stages_text = json_dumps(stages, 0);
    assert_non_null(stages_text);
    char extra[1200];
    snprintf(extra, sizeof extra, "{\"plugin_dir\": \"%s\"}", plugin_dir);
    start(f, stages_text, SETTLE_MS, extra);
    free(stages_text);
    size_t len;
    char path[1024];
    snprintf(path, sizeof path, "%s/kazakhstan.txt", e2e_env("E2E_SAMPLES"));
    char *text = e2e_read(path, &len);
    assert_non_null(text);
    e2e_drop(&f->t, "kazakhstan.txt", text, len);
    free(text);
    json_t *out = wait_output(f, "kazakhstan.txt.json");
    assert_int_equal(json_integer_value(json_object_get(out, "docproc")), 1);
    assert_true(json_array_size(json_object_get(out, "sentences")) > 1);
    assert_true(json_array_size(json_object_get(out, "entities")) > 0);
    json_t *summary = json_object_get(out, "summary");
    assert_true(json_is_object(summary));
    assert_true(json_string_length(json_object_get(summary, "text")) > 0);
    /* Every stage that ran is recorded, in order. */
    json_t *ran = json_object_get(out, "stages");
    assert_int_equal(json_array_size(ran), json_array_size(stages));
    json_array_foreach(stages, i, st)
        assert_string_equal(
            json_string_value(json_object_get(json_array_get(ran, i), "name")),
            json_string_value(json_object_get(st, "name")));
    json_decref(out);
    json_decref(def);
    assert_drained(f);
    assert_int_equal(e2e_count(f->t.failed, 0), 0);
    e2e_daemon_stop(&f->d);
}

/* ------------------------------------------------------------------------ */
/* group "crash": kill -9 and SIGTERM with documents in flight               */

#define CRASH_DOCS 24

static const char *slow_stages(int ms)
{
    static char buf[2048];
    snprintf(buf, sizeof buf,
             "[{\"name\": \"slow\", \"plugin\": \"%s\", \"options\": "
             "{\"ms\": %d}},"
             " {\"name\": \"example\", \"plugin\": \"%s\"}]",
             e2e_env("E2E_SLOW_SO"), ms, e2e_env("E2E_EXAMPLE_SO"));
    return buf;
}

typedef struct at_least {
    const char *dir;
    int n;
} at_least;

static int has_at_least(void *p)
{
    at_least *a = p;
    return e2e_count(a->dir, 0) >= a->n;
}

/* Each document is in exactly one of inbox/, processing/, done/. */
static void assert_each_once(fx *f, int n)
{
    for (int i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "doc-%02d.txt", i);
        int places = e2e_exists(e2e_path(f->t.inbox, name)) +
                     e2e_exists(e2e_path(f->t.processing, name)) +
                     e2e_exists(e2e_path(f->t.done, name));
        if (places != 1)
            fail_msg("%s is in %d places after kill -9", name, places);
    }
    assert_int_equal(e2e_count(f->t.inbox, 0) +
                         e2e_count(f->t.processing, 0) +
                         e2e_count(f->t.done, 0),
                     n);
}

static void test_kill9_restart(void **state)
{
    fx *f = *state;
    const char *stages = slow_stages(300);
    const char *extra = "{\"workers\": 2, \"max_in_flight\": 4}";
    start(f, stages, SETTLE_MS, extra);
    for (int i = 0; i < CRASH_DOCS; i++) {
        char name[64], text[64];
        snprintf(name, sizeof name, "doc-%02d.txt", i);
        int n = snprintf(text, sizeof text, "document number %d", i);
        e2e_drop(&f->t, name, text, (size_t)n);
    }
    /* Kill it twice, each time with documents in flight. */
    for (int round = 0; round < 2; round++) {
        at_least a = {f->t.outbox, 3 + round * 6};
        assert_true(e2e_wait_for(has_at_least, &a, E2E_DEADLINE_MS));
        at_least busy = {f->t.processing, 1};
        assert_true(e2e_wait_for(has_at_least, &busy, E2E_DEADLINE_MS));
        e2e_daemon_kill(&f->d);
        /* No process of the killed daemon (a worker) goes on running: it
         * could write an output the restarted daemon writes again. */
        if (!e2e_wait_no_procs(f->t.config))
            fail_msg("%d process(es) of the killed docprocd still run",
                     e2e_procs_with(f->t.config));
        /* Nothing lost: every document is somewhere, once. */
        assert_each_once(f, CRASH_DOCS);
        e2e_daemon_start(&f->d, &f->t, -1, -1);
    }
    assert_true(e2e_wait_count(f->t.done, CRASH_DOCS));
    assert_drained(f);
    e2e_daemon_stop(&f->d);
    /* None output twice: exactly one output per document, under its own
     * name (a duplicate would be doc-NN.txt.1.json). */
    assert_int_equal(e2e_count(f->t.outbox, 0), CRASH_DOCS);
    for (int i = 0; i < CRASH_DOCS; i++) {
        char outname[64];
        snprintf(outname, sizeof outname, "doc-%02d.txt.json", i);
        json_t *out = e2e_read_json(e2e_path(f->t.outbox, outname));
        assert_int_equal(word_count(out), 3);
        json_decref(out);
    }
    assert_int_equal(e2e_count(f->t.failed, 0), 0);
    assert_int_equal(e2e_count(f->t.done, 0), CRASH_DOCS);
}

/* Make, for real, the state kill -9 leaves between "output renamed into
 * the outbox" and "original moved to done/": done/ is replaced by a file
 * (a missing folder would be made again), so that the daemon writes the
 * output of `name` and then cannot archive it; then the daemon is killed
 * and done/ put back. The daemon must be running. */
static void output_then_crash(fx *f, const char *name, const char *text)
{
    char away[400];
    snprintf(away, sizeof away, "%s.away", f->t.done);
    int before = e2e_log_count(&f->t, "could not be archived");
    assert_int_equal(rename(f->t.done, away), 0);
    e2e_writef(f->t.done, "not a folder");
    e2e_drop(&f->t, name, text, strlen(text));
    logged_ctx c = {f, "could not be archived", before + 1};
    if (!e2e_wait_for(logged, &c, E2E_DEADLINE_MS)) {
        char *log = e2e_read(f->t.log, NULL);
        fail_msg("the output of %s was not written; log:\n%s", name, log);
    }
    e2e_daemon_kill(&f->d);
    assert_true(e2e_wait_no_procs(f->t.config));
    assert_int_equal(unlink(f->t.done), 0);
    assert_int_equal(rename(away, f->t.done), 0);
    assert_true(e2e_exists(e2e_path(f->t.processing, name)));
}

/* Start the daemon again and let it finish all `done_n` documents; with
 * `outname`, that output must be there with `words` words. Stops it. */
static void restart_until_done(fx *f, int done_n, const char *outname,
                               json_int_t words)
{
    e2e_daemon_start(&f->d, &f->t, -1, -1);
    assert_true(e2e_wait_count(f->t.done, done_n));
    assert_drained(f);
    if (outname) {
        json_t *o = wait_output(f, outname);
        assert_int_equal(word_count(o), words);
        json_decref(o);
    }
    e2e_daemon_stop(&f->d);
}

/* The state above: on restart the daemon finds the output of that very
 * claim (source.claim and sha256) and does not output the document
 * again. An older output of another document under the same name is not
 * taken for it. */
static void test_resume_finds_output(void **state)
{
    fx *f = *state;
    start(f, e2e_example_stages(NULL), SETTLE_MS, NULL);
    output_then_crash(f, "x.txt", "output before the crash");
    char *out = e2e_read(e2e_path(f->t.outbox, "x.txt.json"), NULL);
    assert_non_null(out);
    /* y.txt: the outbox has y.txt.json of an earlier, different y.txt. */
    e2e_writef(e2e_path(f->t.processing, "y.txt"), "the new y");
    e2e_writef(e2e_path(f->t.outbox, "y.txt.json"),
               "{\"docproc\":1,\"id\":\"y.txt\",\"source\":{\"name\":\"y.txt\","
               "\"bytes\":5,\"sha256\":\"%064d\"},\"text\":\"old y\"}\n",
               0);
    restart_until_done(f, 2, "y.txt.1.json", 3);
    /* x.txt was not output again, and its output is untouched. */
    assert_int_equal(e2e_count(f->t.outbox, 0), 3);
    assert_false(e2e_exists(e2e_path(f->t.outbox, "x.txt.1.json")));
    char *still = e2e_read(e2e_path(f->t.outbox, "x.txt.json"), NULL);
    assert_non_null(still);
    assert_string_equal(still, out);
    free(still);
    free(out);
    assert_int_equal(e2e_count(f->t.failed, 0), 0);
}

/* The same state for a name so long that its output was written under a
 * shortened name ("<250 bytes>.json"): the restart must find that output
 * too, not write a second one ("<248 bytes>.1.json"). */
static void test_resume_finds_output_long_name(void **state)
{
    fx *f = *state;
    char name[256];
    memset(name, 'L', 253);
    name[253] = 0;
    start(f, e2e_example_stages(NULL), SETTLE_MS, NULL);
    output_then_crash(f, name, "output before the crash");
    assert_int_equal(e2e_count(f->t.outbox, 0), 1);
    restart_until_done(f, 1, NULL, 0);
    assert_int_equal(e2e_count(f->t.outbox, 0), 1);
    assert_int_equal(e2e_count(f->t.failed, 0), 0);
}

/* The same file dropped twice (a re-send: same name, same bytes), the
 * second claimed just before a crash, its output not written yet. The
 * restart used to find the first drop's output (same name and sha256)
 * and take the second as "already output": archived to done/ with no
 * output of its own. Each drop gets its own output. */
static void test_resend_resumed(void **state)
{
    fx *f = *state;
    start(f, e2e_example_stages(NULL), SETTLE_MS, NULL);
    e2e_drop(&f->t, "x.txt", "sent twice", 10);
    json_decref(wait_output(f, "x.txt.json"));
    assert_true(e2e_wait_count(f->t.done, 1));
    e2e_daemon_kill(&f->d);
    /* The re-send, claimed when the daemon died. */
    e2e_writef(e2e_path(f->t.processing, "x.txt"), "sent twice");
    restart_until_done(f, 2, "x.txt.1.json", 2);
    assert_int_equal(e2e_log_count(&f->t, "already output"), 0);
    assert_int_equal(e2e_count(f->t.outbox, 0), 2);
}

/* A consumer takes outputs away from the outbox. With x.txt.json and
 * x.txt.1.json gone, the output of a third x.txt (x.txt.2.json, written
 * just before a crash) was not found (the search stopped at the first
 * missing name) and the document was output a second time. */
static void test_resume_after_outputs_taken(void **state)
{
    fx *f = *state;
    start(f, e2e_example_stages(NULL), SETTLE_MS, NULL);
    for (int i = 0; i < 2; i++) {
        e2e_drop(&f->t, "x.txt", "sent again", 10);
        assert_true(e2e_wait_count(f->t.done, i + 1));
    }
    output_then_crash(f, "x.txt", "sent again");
    assert_true(e2e_exists(e2e_path(f->t.outbox, "x.txt.2.json")));
    assert_int_equal(unlink(e2e_path(f->t.outbox, "x.txt.json")), 0);
    assert_int_equal(unlink(e2e_path(f->t.outbox, "x.txt.1.json")), 0);
    restart_until_done(f, 3, "x.txt.2.json", 2);
    assert_int_equal(e2e_count(f->t.outbox, 0), 1);
    assert_true(e2e_exists(e2e_path(f->t.outbox, "x.txt.2.json")));
}

/* Several documents left in processing/ at once: five whose outputs were
 * written before the kill, three never output (one with an older output
 * of another drop under its name), one under a numbered name. The restart
 * reads the outbox once for all of them (it used to read it once per
 * document: quadratic with many of them and a large outbox) and does
 * exactly what it did one by one: the five archived without a second
 * output, the others output once. */
static void test_resume_many_orphans(void **state)
{
    fx *f = *state;
    enum { OUT = 5 };
    start(f, e2e_example_stages(NULL), SETTLE_MS, NULL);
    char away[400];
    snprintf(away, sizeof away, "%s.away", f->t.done);
    assert_int_equal(rename(f->t.done, away), 0);
    e2e_writef(f->t.done, "not a folder");
    for (int i = 0; i < OUT; i++) {
        char name[32];
        snprintf(name, sizeof name, "a%d.txt", i);
        e2e_drop(&f->t, name, "written before the kill", 23);
    }
    logged_ctx c = {f, "could not be archived", OUT};
    if (!e2e_wait_for(logged, &c, E2E_DEADLINE_MS)) {
        char *log = e2e_read(f->t.log, NULL);
        fail_msg("the outputs were not all written; log:\n%s", log);
    }
    e2e_daemon_kill(&f->d);
    assert_true(e2e_wait_no_procs(f->t.config));
    assert_int_equal(unlink(f->t.done), 0);
    assert_int_equal(rename(away, f->t.done), 0);
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "b%d.txt", i);
        e2e_writef(e2e_path(f->t.processing, name), "never output");
    }
    e2e_writef(e2e_path(f->t.processing, "c.txt.1"), "numbered one");
    e2e_writef(e2e_path(f->t.outbox, "b0.txt.json"),
               "{\"docproc\":1,\"id\":\"b0.txt\",\"source\":{\"name\":"
               "\"b0.txt\",\"bytes\":12,\"sha256\":\"%064d\",\"claim\":"
               "\"1-2.3\"},\"text\":\"older b0\"}\n",
               0);
    assert_int_equal(e2e_count(f->t.outbox, 0), OUT + 1);
    restart_until_done(f, OUT + 4, "b0.txt.1.json", 2);
    assert_int_equal(e2e_log_count(&f->t, "resuming 9 document(s): the "
                                          "outbox read once, 5 of their "
                                          "outputs found there"),
                     1);
    assert_int_equal(e2e_log_count(&f->t, "(already output)"), OUT);
    for (int i = 0; i < OUT; i++) {
        char name[32];
        snprintf(name, sizeof name, "a%d.txt.1.json", i);
        assert_false(e2e_exists(e2e_path(f->t.outbox, name)));
    }
    assert_true(e2e_exists(e2e_path(f->t.outbox, "b1.txt.json")));
    assert_true(e2e_exists(e2e_path(f->t.outbox, "b2.txt.json")));
    /* a0..a4, b0 (older), b0.1, b1, b2, and c's */
    assert_int_equal(e2e_count(f->t.outbox, 0), OUT + 5);
    assert_int_equal(e2e_count(f->t.failed, 0), 0);
}

/* A document removed from processing/ (by hand, or a cleanup job) while it
 * waits for a worker: it is reported once as failed, with why, and not
 * "retried" every 1..64 s forever as if it were still there. */
static void test_removed_from_processing(void **state)
{
    fx *f = *state;
    start(f, slow_stages(1000), SETTLE_MS,
          "{\"workers\": 1, \"max_in_flight\": 4}");
    e2e_drop(&f->t, "first.txt", "keeps the worker busy", 21);
    for (int i = 0; i < E2E_DEADLINE_MS / 20 &&
                    !e2e_exists(e2e_path(f->t.processing, "first.txt"));
         i++)
        e2e_sleep_ms(20);
    e2e_drop(&f->t, "gone.txt", "removed while queued", 20);
    for (int i = 0; i < E2E_DEADLINE_MS / 20 &&
                    !e2e_exists(e2e_path(f->t.processing, "gone.txt"));
         i++)
        e2e_sleep_ms(20);
    assert_int_equal(unlink(e2e_path(f->t.processing, "gone.txt")), 0);
    assert_true(e2e_wait_count(f->t.done, 1));
    /* Long enough for the first retries (1 s, 2 s) to have happened. */
    e2e_sleep_ms(3500);
    e2e_daemon_stop(&f->d);
    char *log = e2e_read(f->t.log, NULL);
    assert_non_null(log);
    assert_null(strstr(log, "cannot finish gone.txt"));
    assert_non_null(strstr(log, "failed gone.txt: input: "));
    assert_non_null(strstr(log, "removed from"));
    free(log);
    assert_int_equal(e2e_count(f->t.processing, 0), 0);
}

/* SIGTERM: stop claiming, finish what is in flight, exit 0. */
static void test_sigterm_in_flight(void **state)
{
    fx *f = *state;
    start(f, slow_stages(1000), SETTLE_MS,
          "{\"workers\": 2, \"max_in_flight\": 2}");
    for (int i = 0; i < 4; i++) {
        char name[64];
        snprintf(name, sizeof name, "doc-%02d.txt", i);
        e2e_drop(&f->t, name, "in flight", 9);
    }
    at_least busy = {f->t.processing, 2};
    assert_true(e2e_wait_for(has_at_least, &busy, E2E_DEADLINE_MS));
    char in_flight[2][64];
    int k = 0;
    for (int i = 0; i < 4 && k < 2; i++) {
        snprintf(in_flight[k], sizeof in_flight[k], "doc-%02d.txt", i);
        if (e2e_exists(e2e_path(f->t.processing, in_flight[k])))
            k++;
    }
    assert_true(k >= 1);
    e2e_daemon_stop(&f->d); /* asserts exit status 0 */
    /* and leaves no worker process behind */
    assert_true(e2e_wait_no_procs(f->t.config));
    /* The ones in flight were finished, not abandoned. */
    for (int i = 0; i < k; i++) {
        char outname[128];
        snprintf(outname, sizeof outname, "%s.json", in_flight[i]);
        assert_true(e2e_exists(e2e_path(f->t.outbox, outname)));
        assert_true(e2e_exists(e2e_path(f->t.done, in_flight[i])));
    }
    assert_int_equal(e2e_count(f->t.processing, 0), 0);
    /* The rest was not claimed: still in the inbox, and each document is
     * either done with its output or waiting. */
    assert_true(e2e_count(f->t.inbox, 0) >= 1);
    assert_int_equal(e2e_count(f->t.inbox, 0) + e2e_count(f->t.done, 0), 4);
    assert_int_equal(e2e_count(f->t.outbox, 0), e2e_count(f->t.done, 0));
    assert_int_equal(e2e_count(f->t.failed, 0), 0);
}

/* Whether the daemon has exited by now; keeps the status. */
static int has_exited(void *p)
{
    gone_ctx *c = p;
    if (c->status == -1)
        c->status = e2e_daemon_exited(&c->f->d);
    return c->status != -1;
}

static void assert_clean_exit(fx *f, int status, const char *when)
{
    if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return;
    char *log = e2e_read(f->t.log, NULL);
    if (status != -1 && WIFSIGNALED(status))
        fail_msg("SIGTERM %s: docprocd died of signal %d instead of "
                 "exiting 0; log:\n%s",
                 when, WTERMSIG(status), log ? log : "(none)");
    fail_msg("SIGTERM %s: wait status %d, not a clean exit 0; log:\n%s",
             when, status, log ? log : "(none)");
}

/* SIGTERM while docprocd still loads its plugins (a stage that is slow to
 * start): it used to die of the signal, since libuv's handlers came only
 * after the config, the plugins and the folders. It must exit 0 having
 * claimed nothing, the document still in the inbox. */
static void test_sigterm_while_loading(void **state)
{
    fx *f = *state;
    e2e_tree_free(&f->t);
    e2e_tree_init(&f->t, 1);
    char marker[400], stages[2048];
    snprintf(marker, sizeof marker, "%s/loading", f->t.root);
    snprintf(stages, sizeof stages,
             "[{\"name\": \"slow\", \"plugin\": \"%s\", \"options\": "
             "{\"ms\": 0, \"start_ms\": 1500, \"start_marker\": \"%s\"}},"
             " {\"name\": \"example\", \"plugin\": \"%s\"}]",
             e2e_env("E2E_SLOW_SO"), marker, e2e_env("E2E_EXAMPLE_SO"));
    e2e_write_config(&f->t, stages, SETTLE_MS, NULL);
    e2e_writef(e2e_path(f->t.inbox, "waiting.txt"), "left for later");
    e2e_daemon_start(&f->d, &f->t, -1, -1);
    assert_true(wait_exists(marker));
    assert_int_equal(kill(f->d.pid, SIGTERM), 0);
    gone_ctx c = {f, -1};
    e2e_wait_for(has_exited, &c, E2E_DEADLINE_MS);
    f->d.pid = c.status != -1 ? 0 : f->d.pid;
    assert_clean_exit(f, c.status, "while loading the plugins");
    assert_true(e2e_exists(e2e_path(f->t.inbox, "waiting.txt")));
    assert_int_equal(e2e_count(f->t.processing, 0), 0);
    assert_int_equal(e2e_count(f->t.outbox, 1), 0);
    assert_int_equal(e2e_count(f->t.done, 0), 0);
    assert_int_equal(e2e_log_count(&f->t, "claimed"), 0);
}

/* SIGTERM (bit 15 of a /proc status mask) is blocked or caught. */
static int sigterm_handled(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return 1; /* gone: the caller sees the exit */
    unsigned long long blk = 0, cgt = 0;
    while (fgets(line, sizeof line, fp)) {
        if (strncmp(line, "SigBlk:", 7) == 0)
            blk = strtoull(line + 7, NULL, 16);
        else if (strncmp(line, "SigCgt:", 7) == 0)
            cgt = strtoull(line + 7, NULL, 16);
    }
    fclose(fp);
    unsigned long long bit = 1ULL << (SIGTERM - 1);
    return ((blk | cgt) & bit) != 0;
}

static int sigterm_handled_cb(void *p) { return sigterm_handled(*(pid_t *)p); }

/* SIGTERM at once, as soon as docprocd's own code runs (before that, the
 * dynamic loader is still at work and no program can catch a signal): a
 * clean exit 0 every time, with documents in the inbox being claimed or
 * not. Not under valgrind, whose own handlers show in /proc. */
static void test_sigterm_at_start(void **state)
{
    fx *f = *state;
    const char *vg = getenv("E2E_VALGRIND");
    if (vg && *vg)
        skip();
    e2e_write_config(&f->t, e2e_example_stages(NULL), SETTLE_MS, NULL);
    for (int round = 0; round < 8; round++) {
        char name[64];
        snprintf(name, sizeof name, "doc-%02d.txt", round);
        if (round > 0)
            e2e_drop(&f->t, name, "a few words", 11);
        e2e_daemon_start(&f->d, &f->t, -1, -1);
        pid_t pid = f->d.pid;
        assert_true(e2e_wait_for(sigterm_handled_cb, &pid, E2E_DEADLINE_MS));
        assert_int_equal(kill(pid, SIGTERM), 0);
        gone_ctx c = {f, -1};
        e2e_wait_for(has_exited, &c, E2E_DEADLINE_MS);
        f->d.pid = c.status != -1 ? 0 : f->d.pid;
        assert_clean_exit(f, c.status, "at start");
        /* Nothing half done: each document is waiting or done with its
         * output. */
        assert_int_equal(e2e_count(f->t.processing, 0), 0);
        assert_int_equal(e2e_count(f->t.outbox, 1), e2e_count(f->t.done, 0));
        assert_int_equal(e2e_count(f->t.inbox, 0) + e2e_count(f->t.done, 0),
                         round);
    }
}

/* ------------------------------------------------------------------------ */
/* group "burst"                                                             */

#define BURST 1000

static void test_burst_1000(void **state)
{
    fx *f = *state;
    start(f, e2e_example_stages(NULL), SETTLE_MS, NULL);
    /* Written first, then all renamed in at once. */
    char staging[600];
    snprintf(staging, sizeof staging, "%s/staging", f->t.root);
    for (int i = 0; i < BURST; i++) {
        char name[64];
        snprintf(name, sizeof name, "burst-%04d.txt", i);
        e2e_writef(e2e_path(staging, name), "burst document %d", i);
    }
    for (int i = 0; i < BURST; i++) {
        char name[64];
        snprintf(name, sizeof name, "burst-%04d.txt", i);
        assert_int_equal(rename(e2e_path(staging, name),
                                e2e_path(f->t.inbox, name)),
                         0);
    }
    int ok = 0;
    for (int tries = 0; tries < 3 && !ok; tries++)
        ok = e2e_wait_count(f->t.done, BURST);
    if (!ok)
        fail_msg("%d of %d in done/, %d outputs, %d in the inbox, %d in "
                 "processing/",
                 e2e_count(f->t.done, 0), BURST, e2e_count(f->t.outbox, 0),
                 e2e_count(f->t.inbox, 0), e2e_count(f->t.processing, 0));
    assert_drained(f);
    e2e_daemon_stop(&f->d);
    /* Each exactly once. */
    assert_int_equal(e2e_count(f->t.outbox, 0), BURST);
    assert_int_equal(e2e_count(f->t.done, 0), BURST);
    assert_int_equal(e2e_count(f->t.failed, 0), 0);
    for (int i = 0; i < BURST; i++) {
        char name[64];
        snprintf(name, sizeof name, "burst-%04d.txt.json", i);
        if (!e2e_exists(e2e_path(f->t.outbox, name)))
            fail_msg("no output %s", name);
    }
}

/* Many producers writing in place at once (no rename): each file is taken
 * on close-after-write, exactly once and complete. */
static void test_burst_written_in_place(void **state)
{
    fx *f = *state;
    enum { N = 300, PARTS = 4 };
    start(f, e2e_example_stages(NULL), SETTLE_MS, NULL);
    int fds[N];
    /* All open at once, written in rounds, then closed. */
    for (int i = 0; i < N; i++) {
        char name[64];
        snprintf(name, sizeof name, "inplace-%03d.txt", i);
        fds[i] = open(e2e_path(f->t.inbox, name),
                      O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        assert_true(fds[i] >= 0);
    }
    for (int p = 0; p < PARTS; p++)
        for (int i = 0; i < N; i++)
            assert_int_equal(write(fds[i], "word ", 5), 5);
    for (int i = 0; i < N; i++)
        assert_int_equal(close(fds[i]), 0);
    assert_true(e2e_wait_count(f->t.done, N));
    assert_drained(f);
    e2e_daemon_stop(&f->d);
    assert_int_equal(e2e_count(f->t.outbox, 0), N);
    assert_int_equal(e2e_count(f->t.failed, 0), 0);
    for (int i = 0; i < N; i++) {
        char name[64];
        snprintf(name, sizeof name, "inplace-%03d.txt.json", i);
        json_t *out = e2e_read_json(e2e_path(f->t.outbox, name));
        assert_int_equal(word_count(out), PARTS);
        json_decref(out);
    }
}

static long read_long(const char *path)
{
    char *s = e2e_read(path, NULL);
    long v = s ? strtol(s, NULL, 10) : -1;
    free(s);
    return v;
}

/* The inotify queue overflows (IN_Q_OVERFLOW) and the events after it are
 * lost: the daemon must rescan and find the documents anyway. With the
 * daemon stopped (SIGSTOP) so it reads nothing, more events than
 * fs.inotify.max_queued_events are made on ignored names, then documents
 * are dropped whose events the kernel discards. The periodic rescan is off
 * (rescan_ms 0), so only the overflow handling can find them. */
static void test_inotify_overflow(void **state)
{
    fx *f = *state;
    long max = read_long("/proc/sys/fs/inotify/max_queued_events");
    if (max <= 0 || max > 200000) {
        print_message("max_queued_events is %ld: skipped\n", max);
        skip();
    }
    start(f, e2e_example_stages(NULL), SETTLE_MS,
          "{\"rescan_ms\": 0, \"watch\": \"inotify\"}");
    e2e_drop(&f->t, "before.txt", "before the storm", 16);
    json_decref(wait_output(f, "before.txt.json"));
    assert_int_equal(kill(f->d.pid, SIGSTOP), 0);
    /* Two events per round (IN_MODIFY, IN_CLOSE_WRITE), on alternating
     * names so that the kernel cannot merge them. */
    char noise[2][1024];
    snprintf(noise[0], sizeof noise[0], "%s", e2e_path(f->t.inbox, ".n0"));
    snprintf(noise[1], sizeof noise[1], "%s", e2e_path(f->t.inbox, ".n1"));
    for (long i = 0; i < max; i++) {
        int fd = open(noise[i % 2], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "x", 1), 1);
        assert_int_equal(close(fd), 0);
    }
    enum { LATE = 20 };
    for (int i = 0; i < LATE; i++) {
        char name[64];
        snprintf(name, sizeof name, "late-%02d.txt", i);
        e2e_drop(&f->t, name, "dropped after the overflow", 26);
    }
    assert_int_equal(kill(f->d.pid, SIGCONT), 0);
    assert_true(e2e_wait_count(f->t.done, 1 + LATE));
    for (int i = 0; i < LATE; i++) {
        char name[64];
        snprintf(name, sizeof name, "late-%02d.txt.json", i);
        json_decref(wait_output(f, name));
    }
    assert_int_equal(e2e_count(f->t.outbox, 0), 1 + LATE);
    assert_int_equal(e2e_count(f->t.processing, 0), 0);
    assert_int_equal(e2e_count(f->t.failed, 0), 0);
    /* Only the ignored names are left. */
    assert_int_equal(e2e_count(f->t.inbox, 0), 0);
    assert_int_equal(e2e_count(f->t.inbox, 1), 2);
    e2e_daemon_stop(&f->d);
}

/* ------------------------------------------------------------------------ */
/* group "privilege": an inbox the daemon may not write to                   */

typedef struct said_ctx {
    fx *f;
    int status;
} said_ctx;

/* The daemon has exited, or has logged a line naming the inbox. */
static int said(void *p)
{
    said_ctx *c = p;
    if (c->status == -1)
        c->status = e2e_daemon_exited(&c->f->d);
    return c->status != -1 || e2e_log_count(&c->f->t, c->f->t.inbox) > 0;
}

static void test_unwritable_inbox(void **state)
{
    fx *f = *state;
    int uid = -1, gid = -1;
    e2e_tree_free(&f->t);
    e2e_tree_init(&f->t, 1);
    if (geteuid() == 0) {
        /* As root (CI), drop the daemon to nobody; the inbox stays root's
         * 0755, the other folders are the daemon's. */
        uid = gid = 65534;
        assert_int_equal(chmod(f->t.root, 0755), 0);
        const char *mine[] = {f->t.outbox, f->t.failed, f->t.done,
                              f->t.processing};
        for (size_t i = 0; i < 4; i++)
            assert_int_equal(chown(mine[i], 65534, 65534), 0);
        /* nobody must reach the programs under test. */
        if (access(e2e_env("E2E_DOCPROCD"), X_OK) != 0) {
            print_message("cannot check as nobody: skipped\n");
            skip();
        }
    } else {
        assert_int_equal(chmod(f->t.inbox, 0555), 0);
    }
    e2e_writef(e2e_path(f->t.inbox, "waiting.txt"), "waiting patiently");
    e2e_write_config(&f->t, e2e_example_stages(NULL), SETTLE_MS, NULL);
    assert_int_equal(chmod(f->t.config, 0644), 0);
    e2e_daemon_start(&f->d, &f->t, uid, gid);
    /* Either it exits with an error or it keeps running and says why it
     * cannot claim: both must name the folder. */
    said_ctx ctx = {f, -1};
    assert_true(e2e_wait_for(said, &ctx, E2E_DEADLINE_MS));
    /* Give it time to exit, or, if it keeps running, to misbehave. */
    e2e_sleep_ms(SETTLE_MS * 3);
    if (ctx.status == -1)
        ctx.status = e2e_daemon_exited(&f->d);
    char *log = e2e_read(f->t.log, NULL);
    assert_non_null(log);
    if (strstr(log, "e2e: cannot exec")) {
        print_message("nobody cannot run %s here: skipped\n%s",
                      e2e_env("E2E_DOCPROCD"), log);
        free(log);
        skip();
    }
    if (e2e_log_count(&f->t, f->t.inbox) == 0)
        fail_msg("no error naming %s; log:\n%s", f->t.inbox, log);
    if (ctx.status != -1 &&
        (WIFEXITED(ctx.status) && WEXITSTATUS(ctx.status) == 0))
        fail_msg("docprocd exited with status 0 on an unwritable inbox");
    int err_lines = e2e_log_count(&f->t, "<3>");
    if (err_lines == 0)
        fail_msg("the error is not logged at error priority <3>:\n%s", log);
    free(log);
    /* Nothing moved. */
    char *kept = e2e_read(e2e_path(f->t.inbox, "waiting.txt"), NULL);
    assert_non_null(kept);
    assert_string_equal(kept, "waiting patiently");
    free(kept);
    assert_int_equal(e2e_count(f->t.processing, 0), 0);
    assert_int_equal(e2e_count(f->t.outbox, 0), 0);
    assert_int_equal(e2e_count(f->t.failed, 0), 0);
    assert_int_equal(e2e_count(f->t.done, 0), 0);
    if (ctx.status == -1) {
        /* Still running (waiting for the permissions to be fixed): it must
         * stop cleanly, having moved nothing. */
        kill(f->d.pid, SIGTERM);
        int st = e2e_daemon_wait(&f->d);
        assert_true(st != -1);
        assert_int_equal(e2e_count(f->t.processing, 0), 0);
        assert_true(e2e_exists(e2e_path(f->t.inbox, "waiting.txt")));
    }
}

/* The inotify limits: the daemon's user has used up its inotify instances
 * (fs.inotify.max_user_instances). The watch cannot be set up: a clear
 * error at <3> naming inotify, a failure exit, nothing moved. Root only: a
 * holder process of an otherwise unused uid (65533) takes all the instances
 * that uid may have, so no other process on the machine is affected. */
static void test_inotify_limit(void **state)
{
    fx *f = *state;
    enum { UID = 65533 };
    if (geteuid() != 0) {
        print_message("needs root to use up another uid's inotify "
                      "instances: skipped\n");
        skip();
    }
    int ready[2], release[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(release), 0);
    fflush(NULL);
    pid_t holder = fork();
    assert_true(holder >= 0);
    if (holder == 0) {
        close(ready[0]);
        close(release[1]);
        if (setgroups(0, NULL) != 0 || setgid(UID) != 0 || setuid(UID) != 0)
            _exit(1);
        int n = 0;
        while (n < 100000 && inotify_init1(IN_CLOEXEC) >= 0)
            n++;
        char c = errno == EMFILE && n < 100000 ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1)
            _exit(1);
        /* Hold them until the test is done. */
        (void)!read(release[0], &c, 1);
        _exit(0);
    }
    close(ready[1]);
    close(release[0]);
    char c = 0;
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    if (c != 'y') {
        close(release[1]);
        waitpid(holder, NULL, 0);
        print_message("could not use up the inotify instances: skipped\n");
        skip();
    }
    e2e_tree_free(&f->t);
    e2e_tree_init(&f->t, 1);
    assert_int_equal(chmod(f->t.root, 0755), 0);
    const char *dirs[] = {f->t.inbox, f->t.outbox, f->t.failed, f->t.done,
                          f->t.processing};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(chown(dirs[i], UID, UID), 0);
    e2e_writef(e2e_path(f->t.inbox, "waiting.txt"), "waiting patiently");
    e2e_write_config(&f->t, e2e_example_stages(NULL), SETTLE_MS,
                     "{\"watch\": \"inotify\"}");
    assert_int_equal(chmod(f->t.config, 0644), 0);
    e2e_daemon_start(&f->d, &f->t, UID, UID);
    int st = e2e_daemon_wait(&f->d);
    close(release[1]);
    waitpid(holder, NULL, 0);
    char *log = e2e_read(f->t.log, NULL);
    assert_non_null(log);
    if (st == -1)
        fail_msg("docprocd without inotify did not exit; log:\n%s", log);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        fail_msg("docprocd without inotify exited 0; log:\n%s", log);
    int said = 0;
    for (char *line = log, *next; *line && !said; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        else
            next = line + strlen(line);
        said = strncmp(line, "<3>", 3) == 0 && strstr(line, "inotify") &&
               strstr(line, f->t.inbox);
    }
    if (!said) {
        char *again = e2e_read(f->t.log, NULL);
        fail_msg("no error naming inotify and the inbox:\n%s", again);
    }
    free(log);
    assert_true(e2e_exists(e2e_path(f->t.inbox, "waiting.txt")));
    assert_int_equal(e2e_count(f->t.processing, 0), 0);
    assert_int_equal(e2e_count(f->t.outbox, 0), 0);
}

static int says_watching(void *t)
{
    return e2e_log_count(t, ": watching ") > 0;
}

/* The usual deployment, where docprocd runs as its own user and producers
 * write as others. A writer that keeps the file open and pauses longer than
 * settle_ms mid-file: the write-lease probe cannot tell (EACCES on a file
 * docprocd does not own), so the daemon relies on inotify having seen the
 * file written and not yet closed. One output, complete. Root only (the
 * daemon drops to 65534). */
static void test_other_users_writer_pauses(void **state)
{
    fx *f = *state;
    if (geteuid() != 0) {
        print_message("needs root to run the daemon as another user: "
                      "skipped\n");
        skip();
    }
    e2e_tree_free(&f->t);
    e2e_tree_init(&f->t, 1);
    assert_int_equal(chmod(f->t.root, 0755), 0);
    const char *dirs[] = {f->t.inbox, f->t.outbox, f->t.failed, f->t.done,
                          f->t.processing};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(chown(dirs[i], 65534, 65534), 0);
    e2e_write_config(&f->t, e2e_example_stages(NULL), SETTLE_MS, NULL);
    assert_int_equal(chmod(f->t.config, 0644), 0);
    e2e_daemon_start(&f->d, &f->t, 65534, 65534);
    /* The inbox exists already, so wait for the daemon's own word that it
     * watches: a file that is open for writing before the watch starts can
     * only be judged by settle time (slow starts: valgrind). */
    assert_true(e2e_wait_for(says_watching, &f->t, E2E_DEADLINE_MS));
    /* This process (root) is the producer. */
    char path[1024];
    snprintf(path, sizeof path, "%s", e2e_path(f->t.inbox, "stalled.txt"));
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    static const char half[] = "first half of the words ";
    for (int i = 0; i < 10; i++)
        assert_int_equal(write(fd, half, strlen(half)), strlen(half));
    e2e_sleep_ms(SETTLE_MS * 4);
    for (int i = 0; i < 10; i++)
        assert_int_equal(write(fd, half, strlen(half)), strlen(half));
    assert_int_equal(close(fd), 0);
    json_t *out = wait_output(f, "stalled.txt.json");
    assert_int_equal(word_count(out), 20 * 5);
    json_decref(out);
    assert_drained(f);
    assert_int_equal(e2e_count(f->t.outbox, 0), 1);
    e2e_daemon_stop(&f->d);
}

/* ------------------------------------------------------------------------ */

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(int argc, char **argv)
{
    const struct CMUnitTest basic[] = {
        T(test_rename_dropped),   T(test_backlog_at_start),
        T(test_delete_originals), T(test_same_name_twice),
        T(test_odd_names),        T(test_ignored_names),
        T(test_directory_left_alone), T(test_folder_then_file_polled),
        T(test_folders_forgotten), T(test_folders_forgotten_polled),
        T(test_inbox_on_other_file_system),
        T(test_folder_is_a_file),
        T(test_leased_file_not_claimed_unlocked),
        T(test_folders_removed_while_running),
        T(test_folder_remake_fails_quietly),
        T(test_error_json),
        T(test_error_json_not_written),
        T(test_inbox_removed),
    };
    const struct CMUnitTest writers[] = {
        T(test_slow_writer),
        T(test_writer_pauses_mid_file),
    };
    const struct CMUnitTest inputs[] = {
        T(test_bad_inputs),
        T(test_invalid_utf8_with_clean),
        T(test_symlink),
        T(test_fifo),
        T(test_long_names),
        T(test_default_pipeline),
    };
    const struct CMUnitTest crash[] = {
        T(test_kill9_restart),
        T(test_resume_finds_output),
        T(test_resume_finds_output_long_name),
        T(test_resend_resumed),
        T(test_resume_after_outputs_taken),
        T(test_resume_many_orphans),
        T(test_removed_from_processing),
        T(test_sigterm_in_flight),
        T(test_sigterm_while_loading),
        T(test_sigterm_at_start),
    };
    const struct CMUnitTest burst[] = {
        T(test_burst_1000),
        T(test_burst_written_in_place),
        T(test_inotify_overflow),
    };
    const struct CMUnitTest privilege[] = {
        T(test_unwritable_inbox),
        T(test_inotify_limit),
        T(test_other_users_writer_pauses),
    };
    const char *group = argc > 1 ? argv[1] : "all";
    int all = strcmp(group, "all") == 0, rc = 0, ran = 0;
    if (all || strcmp(group, "basic") == 0)
        ran = 1, rc |= cmocka_run_group_tests_name("e2e basic", basic, NULL,
                                                   NULL);
    if (all || strcmp(group, "writers") == 0)
        ran = 1, rc |= cmocka_run_group_tests_name("e2e writers", writers,
                                                   NULL, NULL);
    if (all || strcmp(group, "inputs") == 0)
        ran = 1, rc |= cmocka_run_group_tests_name("e2e inputs", inputs,
                                                   NULL, NULL);
    if (all || strcmp(group, "crash") == 0)
        ran = 1, rc |= cmocka_run_group_tests_name("e2e crash", crash, NULL,
                                                   NULL);
    if (all || strcmp(group, "burst") == 0)
        ran = 1, rc |= cmocka_run_group_tests_name("e2e burst", burst, NULL,
                                                   NULL);
    if (all || strcmp(group, "privilege") == 0)
        ran = 1, rc |= cmocka_run_group_tests_name("e2e privilege",
                                                   privilege, NULL, NULL);
    if (!ran) {
        fprintf(stderr, "unknown group %s\n", group);
        return 2;
    }
    return rc ? 1 : 0;
}
