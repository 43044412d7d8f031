/* docprocd: watches the inbox and runs every document that lands there
 * through the pipeline, on libuv's thread pool.
 *
 * The life of a document:
 *   inbox/x --(stable: renamed in, closed after writing, or unchanged for
 *   settle_ms and open by no one)--> claimed by rename into processing/x
 *   --(pool thread)--> outbox/x.json written durably, then x to done/ (or
 *   deleted); or x to failed/ with x.error.json.
 * A rename is the only way a document changes place, so a crash at any
 * point leaves it in exactly one folder; processing/ is resumed at start. */
#define _GNU_SOURCE
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "config.h"
#include "fsops.h"
#include "inbox.h"
#include "job.h"
#include "log.h"
#include "pipeline.h"
#include "version.h"
#include "watch.h"

typedef struct daemon_job {
    dp_job job;
    struct dpd *d;
    dp_cand *cand;            /* NULL for documents resumed from processing/ */
    uint64_t retry_at;        /* for DP_JOB_RETRY */
    unsigned retries;
    struct daemon_job *next;  /* retry list */
} daemon_job;

typedef struct dpd {
    uv_loop_t *loop;
    dp_config cfg;
    dp_pipeline pipeline;
    dp_inbox inbox;
    dp_watch watch;
    uv_timer_t tick;
    uv_timer_t rescan;
    uv_signal_t sigint, sigterm;
    int inbox_fd;
    int in_flight;
    int stopping;
    int need_scan;
    daemon_job *retry;
    unsigned long done, failed;
} dpd;

static uint64_t now_ms(dpd *d) { return uv_now(d->loop); }

static void pump(dpd *d);

/* ------------------------------------------------------------------------ */
/* Deciding when a name is ready                                             */

/* True when some process still has the file open. A write lease can only
 * be taken on a file nobody else has open; where leases are not allowed
 * (another owner, network file systems) we rely on the settle time. */
static int open_elsewhere(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW |
                                     O_CLOEXEC);
    if (fd < 0)
        return 0;
    int busy = 0;
    if (fcntl(fd, F_SETLEASE, F_WRLCK) == 0)
        fcntl(fd, F_SETLEASE, F_UNLCK);
    else
        busy = errno == EAGAIN || errno == EBUSY;
    close(fd);
    return busy;
}

typedef enum { CHECK_WAIT, CHECK_READY, CHECK_GONE, CHECK_IGNORE } check_result;

static check_result check(dpd *d, dp_cand *c)
{
    struct stat st;
    if (fstatat(d->inbox_fd, c->name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? CHECK_GONE : CHECK_WAIT;
    if (S_ISDIR(st.st_mode))
        return CHECK_IGNORE;
    if (!S_ISREG(st.st_mode))
        return CHECK_READY; /* links, fifos...: claimed, then failed */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t age_ms = (int64_t)(now.tv_sec - st.st_mtim.tv_sec) * 1000 +
                     (now.tv_nsec - st.st_mtim.tv_nsec) / 1000000;
    int settled = age_ms >= d->cfg.settle_ms;
    if (!c->finished && !settled)
        return CHECK_WAIT;
    /* An empty file may be a placeholder its writer will fill. */
    if (st.st_size == 0 && !settled)
        return CHECK_WAIT;
    if (open_elsewhere(d->inbox_fd, c->name))
        return CHECK_WAIT;
    return CHECK_READY;
}

static void evaluate(dpd *d, dp_cand *c)
{
    if (c->state == DP_CAND_CLAIMED) {
        c->recheck = 1;
        return;
    }
    if (c->state == DP_CAND_IGNORED || c->state == DP_CAND_READY)
        return;
    switch (check(d, c)) {
    case CHECK_GONE: dp_inbox_remove(&d->inbox, c); break;
    case CHECK_IGNORE:
        dp_log(DP_LOG_WARNING, "%s/%s is a folder: left alone",
               d->cfg.inbox, c->name);
        dp_inbox_set_state(&d->inbox, c, DP_CAND_IGNORED);
        break;
    case CHECK_READY: dp_inbox_set_state(&d->inbox, c, DP_CAND_READY); break;
    case CHECK_WAIT: break;
    }
}

static void saw(dpd *d, const char *name, int finished)
{
    if (dp_inbox_ignored_name(name))
        return;
    dp_cand *c = dp_inbox_get(&d->inbox, name, NULL);
    if (c == NULL) {
        dp_log(DP_LOG_ERR, "out of memory tracking %s: a rescan will find it",
               name);
        d->need_scan = 1;
        return;
    }
    if (finished)
        c->finished = 1;
    if (c->state == DP_CAND_IGNORED && finished)
        dp_inbox_set_state(&d->inbox, c, DP_CAND_WAITING);
    evaluate(d, c);
}

static int scan_inbox(dpd *d)
{
    int fd = openat(d->inbox_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    if (dir == NULL) {
        dp_log(DP_LOG_ERR, "cannot read the inbox %s: %s", d->cfg.inbox,
               strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        saw(d, e->d_name, 0);
    }
    closedir(dir);
    d->need_scan = 0;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Running documents                                                         */

static void work_cb(uv_work_t *req)
{
    dp_job_run(&((daemon_job *)req->data)->job);
}

static void finish(daemon_job *dj);

static void after_work_cb(uv_work_t *req, int status)
{
    (void)status;
    finish(req->data);
}

static void start_job(dpd *d, daemon_job *dj)
{
    d->in_flight++;
    dj->job.req.data = dj;
    int rc = uv_queue_work(d->loop, &dj->job.req, work_cb, after_work_cb);
    if (rc) {
        d->in_flight--;
        dp_log(DP_LOG_ERR, "cannot queue %s: %s", dj->job.name,
               uv_strerror(rc));
        dj->retry_at = now_ms(d) + 1000;
        dj->next = d->retry;
        d->retry = dj;
    }
}

static daemon_job *new_job(dpd *d, const char *name, const char *pname)
{
    daemon_job *dj = calloc(1, sizeof *dj);
    if (dj == NULL)
        return NULL;
    dj->d = d;
    dj->job.cfg = &d->cfg;
    dj->job.pipeline = &d->pipeline;
    snprintf(dj->job.name, sizeof dj->job.name, "%s", name);
    snprintf(dj->job.pname, sizeof dj->job.pname, "%s", pname);
    return dj;
}

static void describe_dir(const char *dir, char *buf, size_t len)
{
    struct stat st;
    if (stat(dir, &st) == 0)
        snprintf(buf, len, "owner uid %u, mode %04o; docprocd runs as uid %u",
                 (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777),
                 (unsigned)geteuid());
    else
        snprintf(buf, len, "%s", strerror(errno));
}

/* Claim a ready candidate by renaming it into processing/. */
static void claim(dpd *d, dp_cand *c)
{
    char pname[NAME_MAX + 1];
    dp_err err = {{0}};
    int rc = dp_move_unique(d->cfg.inbox, c->name, d->cfg.processing,
                            c->name, "", pname, sizeof pname, &err);
    if (rc == -ENOENT) {
        /* Gone: deleted, or taken by another docprocd on this inbox. */
        dp_inbox_remove(&d->inbox, c);
        return;
    }
    if (rc) {
        char why[160];
        describe_dir(d->cfg.inbox, why, sizeof why);
        dp_log(DP_LOG_ERR, "cannot claim %s/%s: %s (%s); retrying later",
               d->cfg.inbox, c->name, err.msg, why);
        c->not_before = now_ms(d) + 30000;
        dp_inbox_set_state(&d->inbox, c, DP_CAND_WAITING);
        return;
    }
    daemon_job *dj = new_job(d, c->name, pname);
    if (dj == NULL) {
        dp_log(DP_LOG_ERR, "out of memory: %s stays in %s", pname,
               d->cfg.processing);
        dp_inbox_remove(&d->inbox, c);
        return;
    }
    dj->cand = c;
    dp_log(DP_LOG_DEBUG, "claimed %s", c->name);
    start_job(d, dj);
}

static void finish(daemon_job *dj)
{
    dpd *d = dj->d;
    dp_job *j = &dj->job;
    d->in_flight--;
    switch (j->result) {
    case DP_JOB_DONE:
        d->done++;
        dp_log(DP_LOG_INFO, "done %s -> %s/%s (%zu bytes, %.1f ms)%s%s",
               j->name, d->cfg.outbox, j->out_name, j->bytes, j->ms,
               j->message[0] ? "; " : "", j->message);
        break;
    case DP_JOB_FAILED:
        d->failed++;
        dp_log(DP_LOG_ERR, "failed %s -> %s/%s: %s: %s", j->name,
               d->cfg.failed, j->out_name, j->stage, j->message);
        break;
    case DP_JOB_RETRY: {
        unsigned shift = dj->retries < 6 ? dj->retries : 6;
        uint64_t delay = 1000ULL << shift; /* 1 s .. 64 s */
        dj->retries++;
        dp_log(DP_LOG_ERR,
               "cannot finish %s: %s: %s; it stays in %s, retry in %llu s",
               j->name, j->stage, j->message, d->cfg.processing,
               (unsigned long long)(delay / 1000));
        dj->retry_at = now_ms(d) + delay;
        j->recovering = 1;
        dj->next = d->retry;
        d->retry = dj;
        break;
    }
    }
    if (dj->cand) {
        dp_cand *c = dj->cand;
        dj->cand = NULL;
        int again = c->recheck;
        char *name = again ? strdup(c->name) : NULL;
        dp_inbox_remove(&d->inbox, c);
        if (name) /* a new file came under the same name meanwhile */
            saw(d, name, 1);
        free(name);
    }
    if (j->result != DP_JOB_RETRY)
        free(dj);
    pump(d);
}

static void close_all(dpd *d);

static void pump(dpd *d)
{
    if (d->stopping) {
        if (d->in_flight == 0)
            close_all(d);
        return;
    }
    uint64_t now = now_ms(d);
    /* Retries first: they were claimed earlier. */
    for (daemon_job **pp = &d->retry; *pp && d->in_flight < d->cfg.max_in_flight;) {
        daemon_job *dj = *pp;
        if (dj->retry_at <= now) {
            *pp = dj->next;
            start_job(d, dj);
        } else {
            pp = &dj->next;
        }
    }
    while (d->in_flight < d->cfg.max_in_flight) {
        dp_cand *c = dp_inbox_pop_ready(&d->inbox);
        if (c == NULL)
            break;
        claim(d, c);
    }
}

/* Documents left in processing/ by a crash or a stop: run them again. The
 * job checks the outbox first, so none is output twice. */
static void resume_processing(dpd *d)
{
    DIR *dir = opendir(d->cfg.processing);
    if (dir == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        daemon_job *dj = new_job(d, e->d_name, e->d_name);
        if (dj == NULL)
            break;
        dj->job.recovering = 1;
        dp_log(DP_LOG_INFO, "resuming %s/%s", d->cfg.processing, e->d_name);
        dj->retry_at = 0;
        dj->next = d->retry;
        d->retry = dj;
    }
    closedir(dir);
}

/* ------------------------------------------------------------------------ */
/* Loop wiring                                                               */

static void on_watch(dp_watch *w, dp_watch_event ev, const char *name,
                     void *data)
{
    dpd *d = data;
    (void)w;
    if (d->stopping)
        return;
    switch (ev) {
    case DP_WATCH_WRITING: saw(d, name, 0); break;
    case DP_WATCH_FINISHED: saw(d, name, 1); break;
    case DP_WATCH_OVERFLOW:
        dp_log(DP_LOG_WARNING,
               "inotify queue overflow: rescanning the inbox");
        d->need_scan = 1;
        break;
    case DP_WATCH_GONE:
        dp_log(DP_LOG_ERR, "the inbox %s was removed or moved: stopping",
               d->cfg.inbox);
        d->stopping = 1;
        dp_watch_stop(&d->watch);
        break;
    }
    pump(d);
}

static void on_tick(uv_timer_t *t)
{
    dpd *d = t->data;
    uint64_t now = now_ms(d);
    if (d->need_scan)
        scan_inbox(d);
    for (dp_cand *c = d->inbox.waiting.head, *next; c; c = next) {
        next = c->next;
        if (c->not_before <= now)
            evaluate(d, c);
    }
    pump(d);
}

static void on_rescan(uv_timer_t *t)
{
    dpd *d = t->data;
    d->need_scan = 1;
}

static void on_signal(uv_signal_t *s, int signum)
{
    dpd *d = s->data;
    if (d->stopping)
        return;
    dp_log(DP_LOG_INFO, "%s: finishing %d document(s) in flight, then exiting",
           strsignal(signum), d->in_flight);
    d->stopping = 1;
    dp_watch_stop(&d->watch);
    uv_timer_stop(&d->rescan);
    pump(d);
}

static void close_all(dpd *d)
{
    dp_watch_stop(&d->watch);
    uv_handle_t *hs[] = {(uv_handle_t *)&d->tick, (uv_handle_t *)&d->rescan,
                         (uv_handle_t *)&d->sigint,
                         (uv_handle_t *)&d->sigterm};
    for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++)
        if (!uv_is_closing(hs[i]))
            uv_close(hs[i], NULL);
}

/* ------------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: docprocd [--config F]\n"
            "       docprocd --check-config F\n"
            "\n"
            "Watches the inbox of the config and writes a JSON result for "
            "each document\nto the outbox. Default config: %s\n"
            "  --config F        use this config\n"
            "  --check-config F  validate F (and load its plugins), then "
            "exit\n"
            "  --help, --version\n",
            dp_config_default_path());
}

static int setup_folders(dpd *d)
{
    const char *dirs[] = {d->cfg.inbox, d->cfg.outbox, d->cfg.failed,
                          d->cfg.processing, d->cfg.done};
    dp_err err = {{0}};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        if (i == 4 && d->cfg.delete_originals)
            continue;
        if (dp_mkdirs(dirs[i], &err) != 0) {
            dp_log(DP_LOG_ERR, "%s", err.msg);
            return -1;
        }
        if (access(dirs[i], W_OK | X_OK) != 0) {
            char why[160];
            describe_dir(dirs[i], why, sizeof why);
            dp_log(DP_LOG_ERR,
                   "%s is not writable by docprocd (%s): nothing can be "
                   "moved; fix its permissions",
                   dirs[i], why);
            return -1;
        }
    }
    d->inbox_fd = open(d->cfg.inbox, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d->inbox_fd < 0) {
        dp_log(DP_LOG_ERR, "cannot open the inbox %s: %s", d->cfg.inbox,
               strerror(errno));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    const char *config_path = NULL;
    int check_only = 0, c;
    while ((c = getopt_long(argc, argv, "c:C:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config_path = optarg; break;
        case 'C':
            config_path = optarg;
            check_only = 1;
            break;
        case 'h': usage(stdout); return 0;
        case 'V':
            printf("docprocd %s (stage interface %d.%d)\n", DP_VERSION,
                   DP_ABI_MAJOR, DP_ABI_MINOR);
            return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "docprocd: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (config_path == NULL)
        config_path = dp_config_default_path();

    static dpd dd;
    dpd *d = &dd;
    dp_err err = {{0}};
    if (dp_config_load(config_path, &d->cfg, &err) != 0) {
        dp_log(DP_LOG_ERR, "config error: %s", err.msg);
        return 2;
    }
    dp_log_set_level(d->cfg.log_level);
    if (dp_pipeline_load(&d->pipeline, &d->cfg, NULL, NULL, &err) != 0) {
        dp_log(DP_LOG_ERR, "config error: %s: %s", config_path, err.msg);
        dp_config_free(&d->cfg);
        return 2;
    }
    if (check_only) {
        printf("%s: OK (%zu stages)\n", config_path, d->pipeline.n);
        dp_pipeline_free(&d->pipeline);
        dp_config_free(&d->cfg);
        return 0;
    }
    d->inbox_fd = -1;
    if (setup_folders(d) != 0 || dp_inbox_init(&d->inbox) != 0) {
        dp_pipeline_free(&d->pipeline);
        dp_config_free(&d->cfg);
        return 1;
    }
    char threads[16];
    snprintf(threads, sizeof threads, "%d", d->cfg.workers);
    setenv("UV_THREADPOOL_SIZE", threads, 1);
    signal(SIGPIPE, SIG_IGN);

    d->loop = uv_default_loop();
    int rc = 1;
    /* Watch first, then scan: nothing lands unseen in between. */
    if (dp_watch_start(d->loop, &d->watch, d->cfg.inbox, on_watch, d, &err) !=
        0) {
        dp_log(DP_LOG_ERR, "%s", err.msg);
        goto out;
    }
    uv_timer_init(d->loop, &d->tick);
    uv_timer_init(d->loop, &d->rescan);
    uv_signal_init(d->loop, &d->sigint);
    uv_signal_init(d->loop, &d->sigterm);
    d->tick.data = d->rescan.data = d->sigint.data = d->sigterm.data = d;
    uint64_t tick = (uint64_t)d->cfg.settle_ms / 4;
    tick = tick < 20 ? 20 : tick > 250 ? 250 : tick;
    uv_timer_start(&d->tick, on_tick, tick, tick);
    if (d->cfg.rescan_ms > 0)
        uv_timer_start(&d->rescan, on_rescan, (uint64_t)d->cfg.rescan_ms,
                       (uint64_t)d->cfg.rescan_ms);
    uv_signal_start(&d->sigint, on_signal, SIGINT);
    uv_signal_start(&d->sigterm, on_signal, SIGTERM);

    dp_log(DP_LOG_INFO,
           "docprocd %s: watching %s -> %s (%zu stages, %d workers)",
           DP_VERSION, d->cfg.inbox, d->cfg.outbox, d->pipeline.n,
           d->cfg.workers);
    resume_processing(d);
    scan_inbox(d);
    pump(d);
    uv_run(d->loop, UV_RUN_DEFAULT);
    dp_log(DP_LOG_INFO, "stopped: %lu done, %lu failed", d->done, d->failed);
    rc = 0;
out:
    while (d->retry) {
        daemon_job *next = d->retry->next;
        free(d->retry);
        d->retry = next;
    }
    uv_loop_close(d->loop);
    close(d->inbox_fd);
    dp_inbox_free(&d->inbox);
    dp_pipeline_free(&d->pipeline);
    dp_config_free(&d->cfg);
    return rc;
}
