/* inotify watcher on the libuv loop. */
#include "watch.h"

#include <errno.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#define WATCH_MASK                                                            \
    (IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_MODIFY | IN_DELETE |      \
     IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR |             \
     IN_EXCL_UNLINK)

static void on_readable(uv_poll_t *handle, int status, int events)
{
    dp_watch *w = handle->data;
    /* Aligned as the kernel's struct inotify_event requires. */
    char buf[64 * 1024]
        __attribute__((aligned(__alignof__(struct inotify_event))));
    (void)events;
    if (status < 0) {
        w->cb(w, DP_WATCH_OVERFLOW, NULL, w->data);
        return;
    }
    for (;;) {
        ssize_t n = read(w->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const void *)p;
            p += sizeof *ev + ev->len;
            if (ev->mask & IN_Q_OVERFLOW) {
                w->cb(w, DP_WATCH_OVERFLOW, NULL, w->data);
            } else if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF |
                                   IN_IGNORED)) {
                w->cb(w, DP_WATCH_GONE, NULL, w->data);
            } else if (ev->len > 0) {
                dp_watch_event kind =
                    (ev->mask & (IN_DELETE | IN_MOVED_FROM))
                        ? DP_WATCH_REMOVED
                    : (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO))
                        ? DP_WATCH_FINISHED
                        : DP_WATCH_WRITING;
                w->cb(w, kind, ev->name, w->data);
            }
        }
    }
}

int dp_watch_start(uv_loop_t *loop, dp_watch *w, const char *dir,
                   dp_watch_cb cb, void *data, dp_err *err)
{
    memset(w, 0, sizeof *w);
    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->fd < 0) {
        int e = errno;
        if (e == EMFILE)
            dp_err_set(err,
                       "cannot watch %s: too many inotify instances; raise "
                       "fs.inotify.max_user_instances (sysctl)",
                       dir);
        else
            dp_err_set(err, "cannot watch %s: inotify_init: %s", dir,
                       strerror(e));
        return -e;
    }
    w->wd = inotify_add_watch(w->fd, dir, WATCH_MASK);
    if (w->wd < 0) {
        int e = errno;
        if (e == ENOSPC)
            dp_err_set(err,
                       "cannot watch %s: the inotify watch limit is "
                       "reached; raise fs.inotify.max_user_watches (sysctl)",
                       dir);
        else
            dp_err_set(err, "cannot watch %s: %s", dir, strerror(e));
        close(w->fd);
        w->fd = -1;
        return -e;
    }
    w->cb = cb;
    w->data = data;
    int rc = uv_poll_init(loop, &w->poll, w->fd);
    if (rc == 0) {
        w->poll.data = w;
        rc = uv_poll_start(&w->poll, UV_READABLE, on_readable);
    }
    if (rc) {
        dp_err_set(err, "cannot watch %s: %s", dir, uv_strerror(rc));
        close(w->fd);
        w->fd = -1;
        return rc;
    }
    return 0;
}

static void on_closed(uv_handle_t *h)
{
    dp_watch *w = h->data;
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
}

void dp_watch_stop(dp_watch *w)
{
    if (w->fd < 0 || uv_is_closing((uv_handle_t *)&w->poll))
        return;
    uv_poll_stop(&w->poll);
    uv_close((uv_handle_t *)&w->poll, on_closed);
}
