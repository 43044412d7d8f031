/* Helpers for the end-to-end tests. */
#define _GNU_SOURCE
#include "e2e.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *e2e_env(const char *name)
{
    const char *v = getenv(name);
    if (v == NULL || *v == 0)
        fail_msg("%s is not set: run the tests with meson test", name);
    return v;
}

int e2e_deadline_ms(void)
{
    const char *v = getenv("E2E_DEADLINE_MS");
    long ms = v ? strtol(v, NULL, 10) : 0;
    return ms > 0 && ms < 3600000 ? (int)ms : 20000;
}

static void set_path(char *out, size_t len, const char *root,
                     const char *name)
{
    int w = snprintf(out, len, "%s/%s", root, name);
    assert_true(w > 0 && (size_t)w < len);
}

void e2e_tree_init(e2e_tree *t, int make_dirs)
{
    memset(t, 0, sizeof *t);
    snprintf(t->root, sizeof t->root, "/tmp/docproc-e2e.XXXXXX");
    assert_non_null(mkdtemp(t->root));
    set_path(t->inbox, sizeof t->inbox, t->root, "inbox");
    set_path(t->outbox, sizeof t->outbox, t->root, "outbox");
    set_path(t->failed, sizeof t->failed, t->root, "failed");
    set_path(t->done, sizeof t->done, t->root, "done");
    set_path(t->processing, sizeof t->processing, t->root, "processing");
    set_path(t->config, sizeof t->config, t->root, "config.json");
    set_path(t->log, sizeof t->log, t->root, "docprocd.log");
    char staging[300];
    set_path(staging, sizeof staging, t->root, "staging");
    assert_int_equal(mkdir(staging, 0755), 0);
    if (make_dirs) {
        const char *dirs[] = {t->inbox, t->outbox, t->failed, t->done,
                              t->processing};
        for (size_t i = 0; i < 5; i++)
            assert_int_equal(mkdir(dirs[i], 0755), 0);
    }
}

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        chmod(path, 0700);
    return remove(path) == 0 || errno == ENOENT ? 0 : 0;
}

static int unlock_one(const char *path, const struct stat *st, int flag,
                      struct FTW *ftw)
{
    (void)ftw;
    if ((flag == FTW_D || flag == FTW_DNR) && (st->st_mode & 0700) != 0700)
        chmod(path, st->st_mode | 0700);
    return 0;
}

void e2e_tree_free(e2e_tree *t)
{
    if (t->root[0] == 0 || getenv("E2E_KEEP"))
        return;
    nftw(t->root, unlock_one, 16, FTW_PHYS);
    nftw(t->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    t->root[0] = 0;
}

void e2e_write_config(const e2e_tree *t, const char *stages_json,
                      int settle_ms, const char *extra_json)
{
    json_error_t je;
    json_t *stages = json_loads(stages_json, 0, &je);
    if (stages == NULL)
        fail_msg("bad stages JSON in the test: %s", je.text);
    json_t *cfg = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:i,s:s}", "inbox",
                            t->inbox, "outbox", t->outbox, "failed",
                            t->failed, "done", t->done, "processing",
                            t->processing, "stages", stages, "settle_ms",
                            settle_ms, "log_level", "debug");
    assert_non_null(cfg);
    if (extra_json) {
        json_t *extra = json_loads(extra_json, 0, &je);
        if (extra == NULL)
            fail_msg("bad extra JSON in the test: %s", je.text);
        assert_int_equal(json_object_update(cfg, extra), 0);
        json_decref(extra);
    }
    assert_int_equal(json_dump_file(cfg, t->config, JSON_INDENT(2)), 0);
    json_decref(cfg);
}

const char *e2e_example_stages(const char *options_json)
{
    static char buf[2048];
    snprintf(buf, sizeof buf,
             "[{\"name\": \"example\", \"plugin\": \"%s\", \"options\": %s}]",
             e2e_env("E2E_EXAMPLE_SO"), options_json ? options_json : "{}");
    return buf;
}

/* ------------------------------------------------------------------------ */

void e2e_daemon_start(e2e_daemon *d, const e2e_tree *t, int uid, int gid)
{
    const char *exe = e2e_env("E2E_DOCPROCD");
    d->t = t;
    int logfd = open(t->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    assert_true(logfd >= 0);
    if (uid >= 0)
        assert_int_equal(fchown(logfd, (uid_t)uid, (gid_t)gid), 0);
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        if (null < 0 || dup2(null, 0) < 0 || dup2(logfd, 1) < 0 ||
            dup2(logfd, 2) < 0)
            _exit(126);
        if (gid >= 0 && (setgroups(0, NULL) != 0 || setgid((gid_t)gid) != 0))
            _exit(126);
        if (uid >= 0 && setuid((uid_t)uid) != 0)
            _exit(126);
        /* Should the test program die (a crash, a meson timeout), its
         * daemon dies too instead of running on. Set after setuid, which
         * clears it. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(126);
        /* E2E_VALGRIND=/usr/bin/valgrind runs the daemon under memcheck:
         * any error or definite leak makes it exit 99, which the tests'
         * exit-status checks report. */
        const char *vg = getenv("E2E_VALGRIND");
        if (vg && *vg)
            execl(vg, vg, "-q", "--error-exitcode=99", "--leak-check=full",
                  "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite",
                  exe, "--config", t->config, (char *)NULL);
        else
            execl(exe, exe, "--config", t->config, (char *)NULL);
        dprintf(2, "e2e: cannot exec %s: %s\n", exe, strerror(errno));
        _exit(127);
    }
    close(logfd);
    d->pid = pid;
}

int e2e_daemon_exited(e2e_daemon *d)
{
    int st;
    if (d->pid <= 0)
        return -1;
    pid_t r = waitpid(d->pid, &st, WNOHANG);
    if (r == d->pid) {
        d->pid = 0;
        return st;
    }
    return -1;
}

int e2e_daemon_wait(e2e_daemon *d)
{
    for (int waited = 0; waited < E2E_DEADLINE_MS; waited += 20) {
        int st = e2e_daemon_exited(d);
        if (st != -1)
            return st;
        e2e_sleep_ms(20);
    }
    e2e_daemon_kill(d);
    return -1;
}

static void print_log(const e2e_tree *t)
{
    char *log = e2e_read(t->log, NULL);
    if (log) {
        size_t n = strlen(log);
        const char *tail = n > 4000 ? log + n - 4000 : log;
        print_message("---- docprocd log (tail) ----\n%s\n----\n", tail);
    }
    free(log);
}

void e2e_daemon_stop(e2e_daemon *d)
{
    if (d->pid <= 0)
        return;
    assert_int_equal(kill(d->pid, SIGTERM), 0);
    int st = e2e_daemon_wait(d);
    if (!(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
        print_log(d->t);
        if (st == -1)
            fail_msg("docprocd did not exit within %d ms of SIGTERM",
                     E2E_DEADLINE_MS);
        else if (WIFSIGNALED(st))
            fail_msg("docprocd died of signal %d after SIGTERM",
                     WTERMSIG(st));
        else
            fail_msg("docprocd exited with status %d after SIGTERM",
                     WEXITSTATUS(st));
    }
}

void e2e_daemon_kill(e2e_daemon *d)
{
    if (d->pid <= 0)
        return;
    kill(d->pid, SIGKILL);
    int st;
    while (waitpid(d->pid, &st, 0) < 0 && errno == EINTR)
        ;
    d->pid = 0;
}

int e2e_procs_with(const char *needle)
{
    DIR *d = opendir("/proc");
    if (d == NULL)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0 || pid == (long)getpid())
            continue;
        char path[64], buf[4096];
        snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t r = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (r <= 0)
            continue; /* a zombie, or gone */
        for (ssize_t i = 0; i < r; i++)
            if (buf[i] == 0)
                buf[i] = ' ';
        buf[r] = 0;
        n += strstr(buf, needle) != NULL;
    }
    closedir(d);
    return n;
}

static int no_procs(void *needle) { return e2e_procs_with(needle) == 0; }

int e2e_wait_no_procs(const char *needle)
{
    return e2e_wait_for(no_procs, (void *)needle, E2E_DEADLINE_MS);
}

/* ------------------------------------------------------------------------ */

void e2e_write(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        fail_msg("cannot create %s: %s", path, strerror(errno));
    const char *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        assert_true(w > 0);
        p += w;
        len -= (size_t)w;
    }
    assert_int_equal(close(fd), 0);
}

void e2e_writef(const char *path, const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    e2e_write(path, s, (size_t)n);
    free(s);
}

void e2e_drop(const e2e_tree *t, const char *name, const void *data,
              size_t len)
{
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s/staging/%s", t->root, name);
    e2e_write(tmp, data, len);
    if (rename(tmp, e2e_path(t->inbox, name)) != 0)
        fail_msg("cannot rename %s into the inbox: %s", tmp, strerror(errno));
}

char *e2e_read(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    for (;;) {
        if (n + 1 >= cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        assert_true(r >= 0);
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = 0;
    if (len)
        *len = n;
    return buf;
}

json_t *e2e_read_json(const char *path)
{
    json_error_t je;
    json_t *o = json_load_file(path, 0, &je);
    if (o == NULL)
        fail_msg("%s: not a JSON file: %s", path, je.text);
    return o;
}

int e2e_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

int e2e_count(const char *dir, int hidden)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (!hidden && e->d_name[0] == '.')
            continue;
        n++;
    }
    closedir(d);
    return n;
}

const char *e2e_path(const char *dir, const char *name)
{
    static char bufs[8][1024];
    static unsigned next;
    char *b = bufs[next++ % 8];
    int w = snprintf(b, sizeof bufs[0], "%s/%s", dir, name);
    assert_true(w > 0 && (size_t)w < sizeof bufs[0]);
    return b;
}

int e2e_log_count(const e2e_tree *t, const char *needle)
{
    char *log = e2e_read(t->log, NULL);
    int n = 0;
    for (char *line = log, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        else
            next = line + strlen(line);
        n += strstr(line, needle) != NULL;
    }
    free(log);
    return n;
}

void e2e_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int e2e_wait_for(int (*fn)(void *), void *ctx, int timeout_ms)
{
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (fn(ctx))
            return 1;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ms = (now.tv_sec - t0.tv_sec) * 1000 +
                  (now.tv_nsec - t0.tv_nsec) / 1000000;
        if (ms >= timeout_ms)
            return fn(ctx);
        e2e_sleep_ms(20);
    }
}

typedef struct count_ctx {
    const char *dir;
    int n;
} count_ctx;

static int count_is(void *p)
{
    count_ctx *c = p;
    return e2e_count(c->dir, 0) == c->n;
}

int e2e_wait_count(const char *dir, int n)
{
    count_ctx c = {dir, n};
    return e2e_wait_for(count_is, &c, E2E_DEADLINE_MS);
}

/* ------------------------------------------------------------------------ */

static int tmpfile_fd(void)
{
    char name[] = "/tmp/docproc-e2e-io.XXXXXX";
    int fd = mkstemp(name);
    assert_true(fd >= 0);
    unlink(name);
    return fd;
}

static char *slurp_fd(int fd)
{
    off_t end = lseek(fd, 0, SEEK_END);
    assert_true(end >= 0);
    char *buf = malloc((size_t)end + 1);
    assert_non_null(buf);
    assert_true(pread(fd, buf, (size_t)end, 0) == end);
    buf[end] = 0;
    return buf;
}

int e2e_run(char *const argv[], const char *input, char **out, char **err)
{
    int in = tmpfile_fd(), o = tmpfile_fd(), e = tmpfile_fd();
    if (input) {
        size_t len = strlen(input);
        assert_true(write(in, input, len) == (ssize_t)len);
        assert_int_equal(lseek(in, 0, SEEK_SET), 0);
    }
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!input) {
            close(in);
            in = open("/dev/null", O_RDONLY);
        }
        if (in < 0 || dup2(in, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
            _exit(126);
        execv(argv[0], argv);
        dprintf(2, "e2e: cannot exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        assert_int_equal(errno, EINTR);
    *out = slurp_fd(o);
    *err = slurp_fd(e);
    close(in);
    close(o);
    close(e);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
