/* Watching the inbox with inotify through a uv_poll_t. libuv's uv_fs_event
 * reports neither IN_CLOSE_WRITE nor IN_Q_OVERFLOW on Linux, and the daemon
 * needs both: the first to take a plain write as soon as it is closed, the
 * second to know when to rescan. */
#ifndef DP_WATCH_H
#define DP_WATCH_H

#include <uv.h>

#include <docproc/stage.h>

typedef enum dp_watch_event {
    DP_WATCH_WRITING,  /* created or modified: not finished yet */
    DP_WATCH_FINISHED, /* closed after writing, or renamed in */
    DP_WATCH_REMOVED,  /* deleted or moved away */
    DP_WATCH_OVERFLOW, /* events were lost: rescan everything */
    DP_WATCH_GONE      /* the watched folder itself went away */
} dp_watch_event;

typedef struct dp_watch dp_watch;
typedef void (*dp_watch_cb)(dp_watch *w, dp_watch_event ev, const char *name,
                            void *data);

struct dp_watch {
    uv_poll_t poll;
    int fd;
    int wd;
    dp_watch_cb cb;
    void *data;
};

/* Start watching `dir`. A watch that cannot be added says why and what to
 * raise (fs.inotify.max_user_watches / max_user_instances). */
int dp_watch_start(uv_loop_t *loop, dp_watch *w, const char *dir,
                   dp_watch_cb cb, void *data, dp_err *err);
/* Stop; the handle is closed asynchronously on the loop. */
void dp_watch_stop(dp_watch *w);

#endif
