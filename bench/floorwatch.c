/* dp-floorwatch: the floor for drop-to-output latency. A bare libuv watcher
 * that copies each file renamed into INBOX to OUTBOX (through a hidden
 * temporary name and a rename, as docprocd writes its outputs) and removes
 * it from INBOX. No parsing, no pipeline, no fsync: only the watching and
 * the file operations every watched-folder tool pays.
 *
 *   dp-floorwatch INBOX OUTBOX      (stops on SIGINT or SIGTERM) */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <uv.h>

static const char *inbox, *outbox;
static uv_fs_event_t watcher;
static uv_signal_t sigterm, sigint;

static void copy_one(const char *name)
{
    char src[4096], tmp[4096], dst[4096], buf[1 << 16];
    if (name == NULL || name[0] == '.')
        return;
    snprintf(src, sizeof src, "%s/%s", inbox, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", outbox, name);
    snprintf(dst, sizeof dst, "%s/%s", outbox, name);
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return; /* not there (any more): an event for a name already done */
    int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ssize_t n = 0;
    while (out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n)
            n = -1;
    close(in);
    if (out >= 0 && close(out) == 0 && n == 0 && rename(tmp, dst) == 0)
        unlink(src);
    else
        fprintf(stderr, "dp-floorwatch: cannot copy %s\n", name);
}

static void on_event(uv_fs_event_t *h, const char *name, int events,
                     int status)
{
    (void)h;
    (void)events;
    if (status == 0)
        copy_one(name);
}

static void on_signal(uv_signal_t *s, int signum)
{
    (void)signum;
    uv_fs_event_stop(&watcher);
    uv_close((uv_handle_t *)&watcher, NULL);
    uv_close((uv_handle_t *)&sigterm, NULL);
    uv_close((uv_handle_t *)&sigint, NULL);
    (void)s;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: dp-floorwatch INBOX OUTBOX\n");
        return 2;
    }
    inbox = argv[1];
    outbox = argv[2];
    uv_loop_t *loop = uv_default_loop();
    uv_fs_event_init(loop, &watcher);
    int rc = uv_fs_event_start(&watcher, on_event, inbox, 0);
    if (rc) {
        fprintf(stderr, "dp-floorwatch: %s: %s\n", inbox, uv_strerror(rc));
        return 1;
    }
    uv_signal_init(loop, &sigterm);
    uv_signal_init(loop, &sigint);
    uv_signal_start(&sigterm, on_signal, SIGTERM);
    uv_signal_start(&sigint, on_signal, SIGINT);
    fprintf(stderr, "dp-floorwatch: watching %s\n", inbox);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    return 0;
}
