/* Helpers of the 'formats' suite. */
#define _GNU_SOURCE
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

typedef struct buf {
    char *d;
    size_t n, cap;
} buf;

static void buf_add(buf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *d = realloc(b->d, cap);
        if (d == NULL)
            abort();
        b->d = d;
        b->cap = cap;
    }
    memcpy(b->d + b->n, s, n);
    b->n += n;
    b->d[b->n] = 0;
}

int fmt_run(char *const argv[], const char *input, char **out, char **err)
{
    int pin[2], pout[2], perr[2];
    if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC) ||
        pipe2(perr, O_CLOEXEC))
        abort();
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
    posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
    posix_spawn_file_actions_adddup2(&fa, perr[1], 2);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pin[0]);
    close(pout[1]);
    close(perr[1]);
    if (rc != 0) {
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(rc));
        abort();
    }
    signal(SIGPIPE, SIG_IGN);
    size_t in_len = input ? strlen(input) : 0, in_off = 0;
    if (in_len == 0) {
        close(pin[1]);
        pin[1] = -1;
    }
    buf bo = {0}, be = {0};
    buf_add(&bo, "", 0);
    buf_add(&be, "", 0);
    int open_fds = 2;
    while (open_fds > 0 || pin[1] >= 0) {
        struct pollfd p[3] = {{pout[0], POLLIN, 0},
                              {perr[0], POLLIN, 0},
                              {pin[1], POLLOUT, 0}};
        if (poll(p, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            abort();
        }
        char tmp[65536];
        for (int k = 0; k < 2; k++) {
            if (p[k].fd >= 0 && (p[k].revents & (POLLIN | POLLHUP))) {
                ssize_t r = read(p[k].fd, tmp, sizeof tmp);
                if (r > 0) {
                    buf_add(k ? &be : &bo, tmp, (size_t)r);
                } else {
                    close(p[k].fd);
                    if (k)
                        perr[0] = -1;
                    else
                        pout[0] = -1;
                    open_fds--;
                }
            }
        }
        if (pin[1] >= 0 && (p[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = write(pin[1], input + in_off, in_len - in_off);
            if (w > 0)
                in_off += (size_t)w;
            if (w < 0 || in_off == in_len) {
                close(pin[1]);
                pin[1] = -1;
            }
        }
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (out)
        *out = bo.d;
    else
        free(bo.d);
    if (err)
        *err = be.d;
    else
        free(be.d);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int fmt_run_tty(char *const argv[], char **err)
{
    int master, slave;
    if (openpty(&master, &slave, NULL, NULL, NULL) != 0)
        abort();
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, devnull, 0);
    posix_spawn_file_actions_adddup2(&fa, devnull, 1);
    posix_spawn_file_actions_adddup2(&fa, slave, 2);
    posix_spawn_file_actions_addclose(&fa, master);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(slave);
    close(devnull);
    if (rc != 0)
        abort();
    buf b = {0};
    buf_add(&b, "", 0);
    char tmp[4096];
    for (;;) {
        ssize_t r = read(master, tmp, sizeof tmp);
        if (r > 0)
            buf_add(&b, tmp, (size_t)r);
        else if (r < 0 && errno == EINTR)
            continue;
        else
            break; /* EIO once the child has closed the terminal */
    }
    close(master);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    *err = b.d;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

const char *fmt_env(const char *name) { return getenv(name); }

char *fmt_tmpdir(void)
{
    static char path[256];
    const char *base = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/docproc-formats-XXXXXX",
             base && *base ? base : "/tmp");
    if (mkdtemp(path) == NULL)
        abort();
    return path;
}

static int rm_one(const char *p, const struct stat *sb, int flag,
                  struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

void fmt_rmrf(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *fmt_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    buf b = {0};
    buf_add(&b, "", 0);
    char tmp[65536];
    size_t r;
    while ((r = fread(tmp, 1, sizeof tmp, f)) > 0)
        buf_add(&b, tmp, r);
    fclose(f);
    if (len)
        *len = b.n;
    return b.d;
}

int fmt_write(const char *path, const char *data)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    size_t n = strlen(data);
    int ok = fwrite(data, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

size_t fmt_count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}
