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
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <uv.h>

#include "config.h"
#include "fsops.h"
#include "inbox.h"
#include "job.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "output.h"
#include "pipeline.h"
#include "resume.h"
#include "version.h"
#include "watch.h"
#include "worker.h"
#include "workerpool.h"

/* One loaded configuration and its pipeline. A reload makes a new one;
 * documents in flight keep the one they started with, which is freed when
 * the last of them finishes. */
typedef struct dpd_gen {
    dp_config cfg;
    dp_pipeline pipeline;
    int refs;
} dpd_gen;

typedef struct daemon_job {
    dp_job job;
    struct dpd *d;
    dpd_gen *gen;             /* the config it runs under */
    int lock_fd;              /* flock held while it is ours, or -1 */
    dp_cand *cand;            /* NULL for documents resumed from processing/ */
    uint64_t retry_at;        /* for DP_JOB_RETRY */
    unsigned retries;
    struct daemon_job *next;  /* retry list */
} daemon_job;

typedef struct dpd {
    uv_loop_t *loop;
    const char *config_path;
    dpd_gen *gen;        /* current config; folders never change */
    dp_config *cfg;      /* == &gen->cfg: folders, limits */
    dp_inbox inbox;
    dp_inbox owned;      /* names in processing/ this process works on */
    dp_watch watch;
    int watching;
    uv_timer_t tick, rescan, drain, watchdog, metrics_timer;
    uv_signal_t sigint, sigterm, sighup;
    int inbox_fd;
    int in_flight;
    int stopping;
    int exit_code;       /* 1 when stopping because something broke */
    int need_scan;
    uint64_t inbox_checked; /* when the inbox folder was last checked */
    struct {
        int err;             /* why making it again fails (negative errno) */
        uint64_t logged;     /* when that was last said */
    } remake[4];             /* check_folders, per folder */
    daemon_job *retry;
    dp_metrics metrics;
    unsigned long done, failed;
    char status[200];
} dpd;

static void gen_unref(dpd_gen *g)
{
    if (g && --g->refs == 0) {
        dp_pipeline_free(&g->pipeline);
        dp_config_free(&g->cfg);
        free(g);
    }
}

static int pipeline_provides(const dp_pipeline *p, const char *layer)
{
    for (size_t i = 0; i < p->n; i++)
        for (const char *const *l = p->stages[i].plugin.stage->provides;
             l && *l; l++)
            if (strcmp(*l, layer) == 0)
                return 1;
    return 0;
}

static dpd_gen *gen_load(const char *path, dp_err *err)
{
    dpd_gen *g = calloc(1, sizeof *g);
    if (g == NULL) {
        dp_err_set(err, "out of memory");
        return NULL;
    }
    if (dp_config_load(path, &g->cfg, err) != 0) {
        free(g);
        return NULL;
    }
    dp_err inner = {{0}};
    if (dp_pipeline_load(&g->pipeline, &g->cfg, NULL, NULL, &inner) != 0) {
        dp_err_set(err, "%s: %s", path, inner.msg);
        dp_config_free(&g->cfg);
        free(g);
        return NULL;
    }
    /* A format that needs a layer no stage provides would fail every
     * document: refuse the config instead. */
    if (dp_config_wants_output(&g->cfg, "conll") &&
        !pipeline_provides(&g->pipeline, "token")) {
        dp_err_set(err,
                   "%s: outputs: \"conll\" needs the token layer: add the "
                   "segment stage",
                   path);
        dp_pipeline_free(&g->pipeline);
        dp_config_free(&g->cfg);
        free(g);
        return NULL;
    }
    g->refs = 1;
    return g;
}

static uint64_t now_ms(dpd *d) { return uv_now(d->loop); }

static void pump(dpd *d);

/* ------------------------------------------------------------------------ */
/* Deciding when a name is ready                                             */

/* Whether some process still has the file open: 1 yes, 0 no, -1 cannot
 * tell. A write lease can only be taken on a file nobody else has open;
 * leases are refused on files of another owner and on network file
 * systems, where the caller falls back on what inotify said. */
static int open_elsewhere(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW |
                                     O_CLOEXEC);
    if (fd < 0)
        return -1;
    int busy;
    if (fcntl(fd, F_SETLEASE, F_WRLCK) == 0) {
        fcntl(fd, F_SETLEASE, F_UNLCK);
        busy = 0;
    } else {
        busy = errno == EAGAIN || errno == EBUSY ? 1 : -1;
    }
    close(fd);
    return busy;
}

/* A file inotify saw written and never closed is still being written,
 * whatever its age (a writer may pause): up to this long since it was last
 * written, after which a writer that holds it open is taken as gone. */
#define WRITING_GIVE_UP_MS (10 * 60 * 1000)

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
    int settled = age_ms >= d->cfg->settle_ms;
    if (!c->finished && !settled)
        return CHECK_WAIT;
    /* An empty file may be a placeholder its writer will fill. */
    if (st.st_size == 0 && !settled)
        return CHECK_WAIT;
    switch (open_elsewhere(d->inbox_fd, c->name)) {
    case 1: return CHECK_WAIT;
    case 0: return CHECK_READY;
    default:
        if (c->writing && now_ms(d) - c->written_at < WRITING_GIVE_UP_MS)
            return CHECK_WAIT;
        return CHECK_READY;
    }
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
               d->cfg->inbox, c->name);
        dp_inbox_set_state(&d->inbox, c, DP_CAND_IGNORED);
        break;
    case CHECK_READY: dp_inbox_set_state(&d->inbox, c, DP_CAND_READY); break;
    case CHECK_WAIT: break;
    }
}

typedef enum { SAW_SCAN, SAW_WRITING, SAW_FINISHED } saw_kind;

static void saw(dpd *d, const char *name, saw_kind kind)
{
    int finished = kind == SAW_FINISHED;
    if (dp_inbox_ignored_name(name))
        return;
    dp_cand *c = dp_inbox_get(&d->inbox, name, NULL);
    if (c == NULL) {
        dp_log(DP_LOG_ERR, "out of memory tracking %s: a rescan will find it",
               name);
        d->need_scan = 1;
        return;
    }
    if (kind == SAW_WRITING) {
        c->writing = 1;
        c->finished = 0;
        c->written_at = now_ms(d);
    } else if (finished) {
        c->writing = 0;
        c->finished = 1;
    }
    if (c->state == DP_CAND_IGNORED && kind == SAW_SCAN) {
        /* When polling, a scan is the only news that a folder has gone,
         * maybe replaced by a file of its name: look again. A folder
         * still there stays ignored, and is not logged again. */
        struct stat st;
        if (fstatat(d->inbox_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISDIR(st.st_mode))
            return;
        dp_inbox_set_state(&d->inbox, c, DP_CAND_WAITING);
    }
    if (c->state == DP_CAND_IGNORED && finished)
        dp_inbox_set_state(&d->inbox, c, DP_CAND_WAITING);
    evaluate(d, c);
}

/* A name went away from the inbox (an event, or a scan that no longer
 * finds it). A folder's entry is dropped, so that the table holds no name
 * of a folder that is gone, and a new folder of that name is seen (and
 * logged) as new; files are looked at on the next tick anyway. */
static void forget_folder(dpd *d, dp_cand *c)
{
    struct stat st;
    if (c->state != DP_CAND_IGNORED ||
        fstatat(d->inbox_fd, c->name, &st, AT_SYMLINK_NOFOLLOW) == 0 ||
        errno != ENOENT)
        return;
    dp_log(DP_LOG_DEBUG, "%s/%s: the folder is gone", d->cfg->inbox,
           c->name);
    dp_inbox_remove(&d->inbox, c);
}

static int scan_inbox(dpd *d)
{
    int fd = openat(d->inbox_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    if (dir == NULL) {
        dp_log(DP_LOG_ERR, "cannot read the inbox %s: %s", d->cfg->inbox,
               strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        saw(d, e->d_name, SAW_SCAN);
    }
    closedir(dir);
    for (dp_cand *c = d->inbox.ignored.head, *next; c; c = next) {
        next = c->next;
        forget_folder(d, c);
    }
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

static dp_workerpool wpool; /* isolation "process": the worker processes */

static void pool_done(dp_job *job, void *data)
{
    (void)job;
    finish(data);
}

static void start_job(dpd *d, daemon_job *dj)
{
    d->in_flight++;
    dj->job.req.data = dj;
    int rc = d->cfg->isolation_process && wpool.loop
                 ? dp_workerpool_submit(&wpool, &dj->job, pool_done, dj)
                 : uv_queue_work(d->loop, &dj->job.req, work_cb,
                                 after_work_cb);
    if (rc) {
        d->in_flight--;
        dp_log(DP_LOG_ERR, "cannot queue %s: %s", dj->job.name,
               uv_strerror(rc));
        dj->retry_at = now_ms(d) + 1000;
        dj->next = d->retry;
        d->retry = dj;
    }
}

static daemon_job *new_job(dpd *d, const char *name, const char *pname,
                           int lock_fd)
{
    daemon_job *dj = calloc(1, sizeof *dj);
    int created = 0;
    if (dj == NULL || dp_inbox_get(&d->owned, pname, &created) == NULL) {
        free(dj);
        return NULL;
    }
    dj->d = d;
    dj->gen = d->gen;
    d->gen->refs++;
    dj->lock_fd = lock_fd;
    dj->job.cfg = &dj->gen->cfg;
    dj->job.pipeline = &dj->gen->pipeline;
    snprintf(dj->job.name, sizeof dj->job.name, "%s", name);
    snprintf(dj->job.pname, sizeof dj->job.pname, "%s", pname);
    return dj;
}

static void free_job(dpd *d, daemon_job *dj)
{
    dp_cand *o = dp_inbox_find(&d->owned, dj->job.pname);
    if (o)
        dp_inbox_remove(&d->owned, o);
    if (dj->lock_fd >= 0)
        close(dj->lock_fd);
    gen_unref(dj->gen);
    free(dj);
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

/* Take an exclusive flock on a file before moving it: the lock follows the
 * inode through the rename, so another docprocd on the same folders
 * (a shared inbox) never takes a document this one holds. Returns the fd,
 * -1 when the file cannot be opened (a symlink, say: claimed unlocked),
 * -2 when another process holds it, or -3 when another process holds a
 * lease on it for a moment (another docprocd's open_elsewhere probe: the
 * O_NONBLOCK open fails with EWOULDBLOCK). Claimed unlocked then, the
 * document could be resumed from processing/ by that other docprocd
 * while this one runs it: output twice. */
static int lock_file(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
                                     O_CLOEXEC);
    if (fd < 0)
        return errno == EWOULDBLOCK ? -3 : -1;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return -2;
    }
    return fd;
}

/* Claim a ready candidate by renaming it into processing/. */
static void claim(dpd *d, dp_cand *c)
{
    char pname[NAME_MAX + 1];
    dp_err err = {{0}};
    int lock = lock_file(d->inbox_fd, c->name);
    if (lock == -2) {
        /* Another docprocd is claiming it right now. */
        dp_inbox_remove(&d->inbox, c);
        return;
    }
    if (lock == -3) { /* leased for a moment: look again shortly */
        c->not_before = now_ms(d) + 50;
        dp_inbox_set_state(&d->inbox, c, DP_CAND_WAITING);
        return;
    }
    int rc = dp_move_unique(d->cfg->inbox, c->name, d->cfg->processing,
                            c->name, "", pname, sizeof pname, &err);
    struct stat st;
    if (rc == -ENOENT &&
        fstatat(d->inbox_fd, c->name, &st, AT_SYMLINK_NOFOLLOW) == 0)
        rc = -EIO; /* still there: it is processing/ that is missing */
    if (rc == -ENOENT) {
        /* Gone: deleted, or taken by another docprocd on this inbox. */
        if (lock >= 0)
            close(lock);
        dp_inbox_remove(&d->inbox, c);
        return;
    }
    if (rc) {
        char why[160];
        if (lock >= 0)
            close(lock);
        describe_dir(d->cfg->inbox, why, sizeof why);
        dp_log(DP_LOG_ERR, "cannot claim %s/%s: %s (%s); retrying later",
               d->cfg->inbox, c->name, err.msg, why);
        c->not_before = now_ms(d) + 30000;
        dp_inbox_set_state(&d->inbox, c, DP_CAND_WAITING);
        return;
    }
    daemon_job *dj = new_job(d, c->name, pname, lock);
    if (dj == NULL) {
        if (lock >= 0)
            close(lock);
        dp_log(DP_LOG_ERR, "out of memory: %s stays in %s until a rescan",
               pname, d->cfg->processing);
        dp_inbox_remove(&d->inbox, c);
        return;
    }
    dj->cand = c;
    d->metrics.claimed++;
    dp_log(DP_LOG_DEBUG, "claimed %s", c->name);
    start_job(d, dj);
}

static void finish(daemon_job *dj)
{
    dpd *d = dj->d;
    dp_job *j = &dj->job;
    d->in_flight--;
    d->metrics.bytes_in += j->bytes;
    for (size_t i = 0; i < j->n_stage_ms; i++)
        dp_metrics_stage_time(&d->metrics, j->stage_ms[i].name,
                              j->stage_ms[i].ms);
    switch (j->result) {
    case DP_JOB_DONE:
        d->done++;
        d->metrics.done++;
        dp_log(DP_LOG_INFO, "done %s -> %s/%s (%zu bytes, %.1f ms)%s%s",
               j->name, d->cfg->outbox, j->out_name, j->bytes, j->ms,
               j->message[0] ? "; " : "", j->message);
        break;
    case DP_JOB_FAILED:
        d->failed++;
        dp_metrics_failed(&d->metrics, j->stage,
                          dp_metrics_reason_class(j->message));
        if (j->out_name[0])
            dp_log(DP_LOG_ERR, "failed %s -> %s/%s: %s: %s", j->name,
                   d->cfg->failed, j->out_name, j->stage, j->message);
        else /* it left processing/ before it could be moved */
            dp_log(DP_LOG_ERR, "failed %s: %s: %s", j->name, j->stage,
                   j->message);
        break;
    case DP_JOB_RETRY: {
        unsigned shift = dj->retries < 6 ? dj->retries : 6;
        uint64_t delay = 1000ULL << shift; /* 1 s .. 64 s */
        dj->retries++;
        d->metrics.retries++;
        dp_log(DP_LOG_ERR,
               "cannot finish %s: %s: %s; it stays in %s, retry in %llu s",
               j->name, j->stage, j->message, d->cfg->processing,
               (unsigned long long)(delay / 1000));
        dj->retry_at = now_ms(d) + delay;
        j->recovering = 1;
        j->indexed = 0; /* the outbox may have changed since */
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
            saw(d, name, SAW_FINISHED);
        free(name);
    }
    if (j->result != DP_JOB_RETRY)
        free_job(d, dj);
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
    for (daemon_job **pp = &d->retry;
         *pp && d->in_flight < d->cfg->max_in_flight;) {
        daemon_job *dj = *pp;
        if (dj->retry_at <= now) {
            *pp = dj->next;
            start_job(d, dj);
        } else {
            pp = &dj->next;
        }
    }
    while (d->in_flight < d->cfg->max_in_flight) {
        dp_cand *c = dp_inbox_pop_ready(&d->inbox);
        if (c == NULL)
            break;
        claim(d, c);
    }
    d->metrics.in_flight = d->in_flight;
    d->metrics.queue_depth = d->inbox.ready.n;
    d->metrics.inbox_names = d->inbox.n;
}

/* Look the orphans of one pass up in one index of the outbox: reading the
 * whole outbox once per orphan made a restart with many of them and a
 * large outbox quadratic. When the index cannot be made, each job reads
 * the outbox itself, as a retry does. */
static void index_orphans(dpd *d, daemon_job **jobs, size_t n)
{
    dp_resume_doc *docs = calloc(n, sizeof *docs);
    char (*claims)[64] = calloc(n, sizeof *claims);
    int rc = docs && claims ? 0 : -ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", d->cfg->processing,
                 jobs[i]->job.pname);
        dp_resume_claim(path, claims[i], sizeof claims[i]);
        docs[i].name = jobs[i]->job.name;
        docs[i].pname = jobs[i]->job.pname;
        docs[i].claim = claims[i];
    }
    if (rc == 0)
        rc = dp_resume_index(d->cfg->outbox, docs, n);
    size_t found = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        dp_job *j = &jobs[i]->job;
        j->indexed = 1;
        snprintf(j->indexed_output, sizeof j->indexed_output, "%s",
                 docs[i].output);
        found += docs[i].output[0] != 0;
    }
    if (rc == 0)
        dp_log(DP_LOG_INFO,
               "resuming %zu document(s): the outbox read once, %zu of "
               "their outputs found there",
               n, found);
    else
        dp_log(DP_LOG_WARNING,
               "resuming %zu document(s): cannot index the outbox %s (%s); "
               "each looks for its output itself",
               n, d->cfg->outbox, strerror(-rc));
    free(docs);
    free(claims);
}

/* Documents in processing/ that nobody holds: left by a crash, a drain
 * that ran out of time, or another docprocd that died. Run them again; the
 * job checks the outbox first, so none is output twice. */
static void adopt_orphans(dpd *d)
{
    int dirfd = open(d->cfg->processing, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dir = dirfd >= 0 ? fdopendir(dirfd) : NULL;
    if (dir == NULL) {
        if (dirfd >= 0)
            close(dirfd);
        return;
    }
    daemon_job **jobs = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.' || dp_inbox_find(&d->owned, e->d_name))
            continue;
        if (n == cap) {
            size_t ncap = cap ? 2 * cap : 64;
            daemon_job **nj = realloc(jobs, ncap * sizeof *nj);
            if (nj == NULL)
                break; /* the rest on the next rescan */
            jobs = nj;
            cap = ncap;
        }
        int lock = lock_file(dirfd, e->d_name);
        if (lock == -2 || lock == -3)
            continue; /* a live docprocd works on it */
        if (lock == -1 && errno == ENOENT)
            continue; /* gone since readdir: its docprocd finished it */
        daemon_job *dj = new_job(d, e->d_name, e->d_name, lock);
        if (dj == NULL) {
            if (lock >= 0)
                close(lock);
            break;
        }
        dj->job.recovering = 1;
        d->metrics.claimed++;
        dp_log(DP_LOG_INFO, "resuming %s/%s", d->cfg->processing, e->d_name);
        jobs[n++] = dj;
    }
    closedir(dir);
    if (n)
        index_orphans(d, jobs, n);
    /* Queued only now: none may run before the index is made. */
    for (size_t i = 0; i < n; i++) {
        jobs[i]->retry_at = 0;
        jobs[i]->next = d->retry;
        d->retry = jobs[i];
    }
    free(jobs);
}

/* ------------------------------------------------------------------------ */
/* Loop wiring                                                               */

/* The inbox folder went away (or was replaced by another folder of the
 * same name): say so and stop with an error, so that the service manager
 * restarts docprocd on the folder that is there now. Documents in flight
 * finish first. */
static void inbox_gone(dpd *d, const char *what)
{
    if (d->stopping)
        return;
    dp_log(DP_LOG_ERR,
           "the inbox %s was %s: stopping; start docprocd again to watch "
           "the folder there now",
           d->cfg->inbox, what);
    d->stopping = 1;
    d->exit_code = 1;
    if (d->watching)
        dp_watch_stop(&d->watch);
    uv_timer_stop(&d->rescan);
}

/* inotify says nothing when the folder is removed while we hold it open,
 * so compare the open folder with the path from time to time. */
static void check_inbox(dpd *d)
{
    struct stat open_st, path_st;
    if (fstat(d->inbox_fd, &open_st) != 0 || open_st.st_nlink == 0)
        inbox_gone(d, "removed");
    else if (stat(d->cfg->inbox, &path_st) != 0)
        inbox_gone(d, errno == ENOENT ? "removed" : "made unreachable");
    else if (path_st.st_dev != open_st.st_dev ||
             path_st.st_ino != open_st.st_ino)
        inbox_gone(d, "replaced by another folder");
}

/* A folder the documents move to, removed while docprocd runs (by hand, a
 * cleanup script): made again, so that claims and outputs go on instead
 * of failing (a missing processing/ made every claim look like a file
 * deleted meanwhile, and the documents stayed in the inbox unsaid). It is
 * tried every second; a failure is said at once, then again only when its
 * reason changes or a minute has passed (it used to fill the journal with
 * a line a second), and the recovery once. */
static void check_folders(dpd *d)
{
    const char *dirs[] = {d->cfg->processing, d->cfg->outbox, d->cfg->failed,
                          d->cfg->delete_originals ? NULL : d->cfg->done};
    uint64_t now = now_ms(d);
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        struct stat st;
        dp_err err = {{0}};
        int was = d->remake[i].err;
        if (dirs[i] == NULL)
            continue;
        if (stat(dirs[i], &st) == 0 || errno != ENOENT) {
            if (was) /* someone else made it */
                dp_log(DP_LOG_WARNING, "%s is there again", dirs[i]);
            d->remake[i].err = 0;
            continue;
        }
        int rc = dp_mkdirs(dirs[i], &err);
        d->remake[i].err = rc;
        if (rc == 0) {
            dp_log(DP_LOG_WARNING, "%s was removed: made it again%s",
                   dirs[i], was ? ", after failing" : "");
        } else if (rc != was || now - d->remake[i].logged >= 60000) {
            d->remake[i].logged = now;
            dp_log(DP_LOG_ERR,
                   "%s was removed: %s (tried every second; said again "
                   "in a minute, or when the reason changes)",
                   dirs[i], err.msg);
        }
    }
}

static void on_watch(dp_watch *w, dp_watch_event ev, const char *name,
                     void *data)
{
    dpd *d = data;
    (void)w;
    if (d->stopping)
        return;
    switch (ev) {
    case DP_WATCH_WRITING: saw(d, name, SAW_WRITING); break;
    case DP_WATCH_FINISHED: saw(d, name, SAW_FINISHED); break;
    case DP_WATCH_REMOVED: {
        dp_cand *c = dp_inbox_find(&d->inbox, name);
        if (c)
            forget_folder(d, c);
        break;
    }
    case DP_WATCH_OVERFLOW:
        dp_log(DP_LOG_WARNING,
               "inotify queue overflow: rescanning the inbox");
        d->need_scan = 1;
        /* Close events may be among those lost: settle times decide. */
        for (dp_cand *c = d->inbox.waiting.head; c; c = c->next)
            c->writing = 0;
        break;
    case DP_WATCH_GONE: inbox_gone(d, "removed or moved"); break;
    }
    pump(d);
}

static void update_status(dpd *d)
{
    char status[sizeof d->status];
    snprintf(status, sizeof status,
             "%lu done, %lu failed, %d in flight, %zu waiting", d->done,
             d->failed, d->in_flight, d->inbox.ready.n + d->inbox.waiting.n);
    if (strcmp(status, d->status) != 0) {
        memcpy(d->status, status, sizeof status);
        dp_notifyf("STATUS=%s", status);
    }
}

static void on_tick(uv_timer_t *t)
{
    dpd *d = t->data;
    uint64_t now = now_ms(d);
    if (!d->stopping && now - d->inbox_checked >= 1000) {
        d->inbox_checked = now;
        check_inbox(d);
        check_folders(d);
    }
    if (d->need_scan && !d->stopping)
        scan_inbox(d);
    for (dp_cand *c = d->inbox.waiting.head, *next; c; c = next) {
        next = c->next;
        if (c->not_before <= now)
            evaluate(d, c);
    }
    pump(d);
    update_status(d);
}

static void on_rescan(uv_timer_t *t)
{
    dpd *d = t->data;
    d->need_scan = 1;
    adopt_orphans(d);
}

static void on_watchdog(uv_timer_t *t)
{
    (void)t;
    /* From the loop thread: a stuck loop stops these and systemd
     * restarts the service. */
    dp_notify("WATCHDOG=1");
}

static void on_metrics(uv_timer_t *t)
{
    dpd *d = t->data;
    d->metrics.worker_restarts = wpool.restarts;
    int rc = dp_metrics_write(&d->metrics, d->cfg->metrics_file);
    if (rc)
        dp_log(DP_LOG_WARNING, "cannot write metrics to %s: %s",
               d->cfg->metrics_file, strerror(-rc));
}

static void on_drain_timeout(uv_timer_t *t)
{
    dpd *d = t->data;
    dp_log(DP_LOG_WARNING,
           "drain time of %d ms is over: %d document(s) stay in %s for the "
           "next start",
           d->cfg->drain_ms, d->in_flight, d->cfg->processing);
    if (d->cfg->metrics_file)
        dp_metrics_write(&d->metrics, d->cfg->metrics_file);
    /* Pool threads may still be inside a stage: leave without running
     * their cleanup. Every document is in exactly one folder. */
    _exit(0);
}

static void on_signal(uv_signal_t *s, int signum)
{
    dpd *d = s->data;
    if (d->stopping)
        return;
    dp_log(DP_LOG_INFO, "%s: finishing %d document(s) in flight, then exiting",
           strsignal(signum), d->in_flight);
    dp_notify("STOPPING=1");
    d->stopping = 1;
    if (d->watching)
        dp_watch_stop(&d->watch);
    uv_timer_stop(&d->rescan);
    if (d->in_flight > 0 && d->cfg->drain_ms > 0)
        uv_timer_start(&d->drain, on_drain_timeout,
                       (uint64_t)d->cfg->drain_ms, 0);
    pump(d);
}

static void set_worker_limits(dpd *d)
{
    wpool.max_documents = (unsigned long)d->cfg->worker_max_documents;
    wpool.max_rss_kb = (unsigned long)d->cfg->worker_max_rss_mb * 1024UL;
}

static void on_tick(uv_timer_t *t);
static void on_rescan(uv_timer_t *t);
static void on_metrics(uv_timer_t *t);

/* How often the tick looks at waiting names, and how often the inbox is
 * polled (watch "poll"), for a settle time. */
static uint64_t tick_ms(const dp_config *cfg)
{
    uint64_t tick = (uint64_t)cfg->settle_ms / 4;
    return tick < 20 ? 20 : tick > 250 ? 250 : tick;
}

static uint64_t poll_ms(const dp_config *cfg)
{
    uint64_t every = (uint64_t)cfg->settle_ms / 2;
    return every < 250 ? 250 : every;
}

static void start_metrics(dpd *d)
{
    if (d->cfg->metrics_file)
        uv_timer_start(&d->metrics_timer, on_metrics,
                       (uint64_t)d->cfg->metrics_interval_ms,
                       (uint64_t)d->cfg->metrics_interval_ms);
    else
        uv_timer_stop(&d->metrics_timer);
}

/* After a reload, the timers follow the new settle_ms, rescan_ms and
 * metrics settings (they used to keep the first config's: a metrics_file
 * added was never written, one removed was written to "(null)"). What
 * cannot change while running is said. */
static void apply_reloaded(dpd *d, const dp_config *old)
{
    const dp_config *cfg = d->cfg;
    if (cfg->settle_ms != old->settle_ms) {
        uv_timer_start(&d->tick, on_tick, tick_ms(cfg), tick_ms(cfg));
        if (!d->watching)
            uv_timer_start(&d->rescan, on_rescan, poll_ms(cfg),
                           poll_ms(cfg));
    }
    if (d->watching && cfg->rescan_ms != old->rescan_ms) {
        uv_timer_stop(&d->rescan);
        if (cfg->rescan_ms > 0)
            uv_timer_start(&d->rescan, on_rescan, (uint64_t)cfg->rescan_ms,
                           (uint64_t)cfg->rescan_ms);
    }
    start_metrics(d);
    if (cfg->watch_mode != old->watch_mode)
        dp_log(DP_LOG_WARNING,
               "reload: \"watch\" takes effect at restart only");
    if (cfg->isolation_process && wpool.loop == NULL)
        dp_log(DP_LOG_WARNING,
               "reload: \"isolation\": \"process\" takes effect at restart "
               "only; documents run in threads until then");
    else if (!cfg->isolation_process && cfg->workers != old->workers)
        dp_log(DP_LOG_WARNING,
               "reload: \"workers\" takes effect at restart only with "
               "\"isolation\": \"thread\"");
}

/* SIGHUP: read the config again and load its plugins. Documents in flight
 * finish on the old pipeline; new claims use the new one. A config that
 * does not load is refused and the old one keeps running. */
static void reload(dpd *d)
{
    dp_err err = {{0}};
    dp_notify("RELOADING=1");
    dp_log(DP_LOG_INFO, "reloading %s", d->config_path);
    dpd_gen *g = gen_load(d->config_path, &err);
    if (g == NULL) {
        dp_log(DP_LOG_ERR, "reload refused, the old config keeps running: %s",
               err.msg);
        dp_notify("READY=1");
        return;
    }
    /* Folders are fixed for the life of the process. */
    char **keep[][2] = {{&g->cfg.inbox, &d->cfg->inbox},
                        {&g->cfg.outbox, &d->cfg->outbox},
                        {&g->cfg.failed, &d->cfg->failed},
                        {&g->cfg.done, &d->cfg->done},
                        {&g->cfg.processing, &d->cfg->processing}};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        if (strcmp(*keep[i][0], *keep[i][1]) != 0)
            dp_log(DP_LOG_WARNING,
                   "reload: folder %s -> %s takes effect at restart only",
                   *keep[i][1], *keep[i][0]);
        char *copy = strdup(*keep[i][1]);
        if (copy == NULL) {
            dp_log(DP_LOG_ERR, "reload refused: out of memory");
            gen_unref(g);
            dp_notify("READY=1");
            return;
        }
        free(*keep[i][0]);
        *keep[i][0] = copy;
    }
    dpd_gen *old = d->gen;
    d->gen = g;
    d->cfg = &g->cfg;
    dp_log_set_level(g->cfg.log_level);
    apply_reloaded(d, &old->cfg);
    gen_unref(old);
    /* Worker processes load the new config too: idle ones now, busy ones
     * after their document. */
    if (wpool.loop && !wpool.closing &&
        dp_workerpool_reload(&wpool, d->cfg, d->config_path) != 0)
        dp_log(DP_LOG_ERR, "reload: the worker processes keep the old config");
    else
        set_worker_limits(d);
    dp_log(DP_LOG_INFO, "reloaded: %zu stages", g->pipeline.n);
    dp_notify("READY=1");
}

static void on_sighup(uv_signal_t *s, int signum)
{
    dpd *d = s->data;
    (void)signum;
    if (!d->stopping)
        reload(d);
}

static void close_all(dpd *d)
{
    dp_workerpool_close(&wpool, NULL);
    if (d->watching)
        dp_watch_stop(&d->watch);
    uv_handle_t *hs[] = {
        (uv_handle_t *)&d->tick,     (uv_handle_t *)&d->rescan,
        (uv_handle_t *)&d->drain,    (uv_handle_t *)&d->watchdog,
        (uv_handle_t *)&d->metrics_timer, (uv_handle_t *)&d->sigint,
        (uv_handle_t *)&d->sigterm,  (uv_handle_t *)&d->sighup};
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
            "  --help, --version\n"
            "Signals: SIGHUP reloads the config, SIGTERM/SIGINT drain and "
            "exit.\n",
            dp_config_default_path());
}

/* Documents move inbox -> processing -> done/failed by rename, which
 * cannot cross file systems (nor mounts: a bind mount of the same disk is
 * EXDEV too). Try it once with an empty hidden file: 0, or -1 after
 * logging what to do (otherwise every claim would fail, logged and
 * retried every 30 s, and no document would ever be processed). */
static int check_rename(const char *from, const char *from_key,
                        const char *to, const char *to_key)
{
    char probe[64], src[PATH_MAX], dst[PATH_MAX];
    snprintf(probe, sizeof probe, ".docproc-probe.%ld.tmp", (long)getpid());
    snprintf(src, sizeof src, "%s/%s", from, probe);
    snprintf(dst, sizeof dst, "%s/%s", to, probe);
    int fd = open(src, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return 0; /* cannot tell; the claims will say why */
    close(fd);
    int rc = 0;
    if (rename(src, dst) == 0) {
        unlink(dst);
    } else {
        if (errno == EXDEV) {
            dp_log(DP_LOG_ERR,
                   "the %s %s and the %s %s are on different file systems "
                   "(or mounts): documents move between them by rename, "
                   "which cannot cross file systems; put inbox, "
                   "processing, done and failed on one file system",
                   from_key, from, to_key, to);
            rc = -1;
        }
        unlink(src);
    }
    return rc;
}

static int setup_folders(dpd *d)
{
    const char *dirs[] = {d->cfg->inbox, d->cfg->outbox, d->cfg->failed,
                          d->cfg->processing, d->cfg->done};
    /* The config key of each folder, so that the message says which. */
    static const char *const keys[] = {"inbox", "outbox", "failed",
                                       "processing", "done"};
    dp_err err = {{0}};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        if (i == 4 && d->cfg->delete_originals)
            continue;
        if (dp_mkdirs(dirs[i], &err) != 0) {
            dp_log(DP_LOG_ERR, "%s: %s", keys[i], err.msg);
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
    if (check_rename(d->cfg->inbox, "inbox", d->cfg->processing,
                     "processing") != 0 ||
        check_rename(d->cfg->processing, "processing", d->cfg->failed,
                     "failed") != 0 ||
        (!d->cfg->delete_originals &&
         check_rename(d->cfg->processing, "processing", d->cfg->done,
                      "done") != 0))
        return -1;
    int stale = dp_clean_stale_temporaries(d->cfg->outbox) +
                dp_clean_stale_temporaries(d->cfg->failed);
    if (stale > 0)
        dp_log(DP_LOG_INFO,
               "removed %d temporary file(s) left by a stopped docprocd",
               stale);
    d->inbox_fd = open(d->cfg->inbox, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d->inbox_fd < 0) {
        dp_log(DP_LOG_ERR, "cannot open the inbox %s: %s", d->cfg->inbox,
               strerror(errno));
        return -1;
    }
    return 0;
}

/* inotify accepts watches on network and FUSE file systems and then never
 * reports what other machines write: those inboxes need polling. */
static const char *network_fs_name(const char *dir)
{
    static const struct {
        long magic;
        const char *name;
    } kinds[] = {{0x6969, "NFS"},           {0x517B, "SMB"},
                 {(long)0xFF534D42, "CIFS"}, {(long)0xFE534D42, "SMB2"},
                 {0x65735546, "FUSE"},      {0x01021997, "9P"},
                 {0x47504653, "GPFS"},      {0x0BD00BD0, "Lustre"},
                 {0x564C, "NCP"},           {0x6B414653, "AFS"}};
    struct statfs st;
    if (statfs(dir, &st) != 0)
        return NULL;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if ((long)st.f_type == kinds[i].magic)
            return kinds[i].name;
    return NULL;
}

static int start_watching(dpd *d)
{
    dp_err err = {{0}};
    const char *netfs = network_fs_name(d->cfg->inbox);
    int poll = d->cfg->watch_mode == DP_WATCH_MODE_POLL ||
               (d->cfg->watch_mode == DP_WATCH_MODE_AUTO && netfs);
    if (netfs && !poll)
        dp_log(DP_LOG_WARNING,
               "the inbox %s is on %s: inotify may never report files "
               "written by other machines; set \"watch\": \"poll\" or "
               "\"auto\"",
               d->cfg->inbox, netfs);
    if (poll) {
        uint64_t every = poll_ms(d->cfg);
        dp_log(DP_LOG_INFO, "polling the inbox %s every %llu ms%s%s",
               d->cfg->inbox, (unsigned long long)every,
               netfs ? ": it is on " : "", netfs ? netfs : "");
        uv_timer_start(&d->rescan, on_rescan, every, every);
        return 0;
    }
    /* Watch first, then scan: nothing lands unseen in between. */
    if (dp_watch_start(d->loop, &d->watch, d->cfg->inbox, on_watch, d,
                       &err) != 0) {
        dp_log(DP_LOG_ERR, "%s", err.msg);
        return -1;
    }
    d->watching = 1;
    if (d->cfg->rescan_ms > 0)
        uv_timer_start(&d->rescan, on_rescan, (uint64_t)d->cfg->rescan_ms,
                       (uint64_t)d->cfg->rescan_ms);
    return 0;
}

/* SIGTERM and SIGINT must end docprocd cleanly whenever they come, also
 * while it still reads its config and loads (maybe slow) plugins, before
 * libuv's handlers exist: until then the default action would kill it on
 * the spot (systemd's stop, a Ctrl-C). So they are blocked before main
 * runs, and let through once the loop's handlers are installed; one that
 * came meanwhile is then handled as any other. The worker processes and
 * the one-shot commands (--check-config, --help) get the mask back at
 * once. */
static sigset_t stop_signals, saved_mask;

__attribute__((constructor)) static void block_stop_signals(void)
{
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGHUP);
    sigprocmask(SIG_BLOCK, &stop_signals, &saved_mask);
}

static void unblock_stop_signals(void)
{
    sigprocmask(SIG_SETMASK, &saved_mask, NULL);
}

int main(int argc, char **argv)
{
    dp_output_init();
    if (argc == 3 && strcmp(argv[1], "--worker") == 0) {
        /* Workers ignore these (the daemon stops them); ignoring them
         * first drops one that came during the exec. */
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        unblock_stop_signals();
        return dp_worker_main(argv[2]);
    }
    dp_workerpool_argv0 = argv[0];
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
    if (check_only)
        unblock_stop_signals();

    static dpd dd;
    dpd *d = &dd;
    dp_err err = {{0}};
    d->config_path = config_path;
    d->inbox_fd = -1;
    d->gen = gen_load(config_path, &err);
    if (d->gen == NULL) {
        dp_log(DP_LOG_ERR, "config error: %s", err.msg);
        return 2;
    }
    d->cfg = &d->gen->cfg;
    dp_log_set_level(d->cfg->log_level);
    if (check_only) {
        printf("%s: OK (%zu stage%s)\n", config_path, d->gen->pipeline.n,
               d->gen->pipeline.n == 1 ? "" : "s");
        gen_unref(d->gen);
        return 0;
    }
    if (setup_folders(d) != 0 || dp_inbox_init(&d->inbox) != 0 ||
        dp_inbox_init(&d->owned) != 0) {
        gen_unref(d->gen);
        return 1;
    }
    char threads[16];
    snprintf(threads, sizeof threads, "%d", d->cfg->workers);
    setenv("UV_THREADPOOL_SIZE", threads, 1);
    signal(SIGPIPE, SIG_IGN);
    /* The write-lease probe (open_elsewhere) gets SIGIO when a writer opens
     * the file during the probe; the probe lets go at once anyway. */
    signal(SIGIO, SIG_IGN);

    d->loop = uv_default_loop();
    int rc = 1;
    uv_timer_t *timers[] = {&d->tick, &d->rescan, &d->drain, &d->watchdog,
                            &d->metrics_timer};
    for (size_t i = 0; i < sizeof timers / sizeof timers[0]; i++) {
        uv_timer_init(d->loop, timers[i]);
        timers[i]->data = d;
    }
    uv_signal_t *sigs[] = {&d->sigint, &d->sigterm, &d->sighup};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        uv_signal_init(d->loop, sigs[i]);
        sigs[i]->data = d;
    }
    uv_signal_start(&d->sigint, on_signal, SIGINT);
    uv_signal_start(&d->sigterm, on_signal, SIGTERM);
    uv_signal_start(&d->sighup, on_sighup, SIGHUP);
    /* A stop asked for while starting: claim nothing, exit 0 at once. */
    sigset_t pending;
    int stop_pending = 0;
    if (sigpending(&pending) == 0)
        stop_pending = sigismember(&pending, SIGTERM) == 1   ? SIGTERM
                       : sigismember(&pending, SIGINT) == 1 ? SIGINT
                                                            : 0;
    unblock_stop_signals();
    if (start_watching(d) != 0) {
        close_all(d);
        uv_run(d->loop, UV_RUN_DEFAULT);
        goto out;
    }
    uv_timer_start(&d->tick, on_tick, tick_ms(d->cfg), tick_ms(d->cfg));
    uint64_t wd = dp_notify_watchdog_ms();
    if (wd > 0)
        uv_timer_start(&d->watchdog, on_watchdog, wd / 2, wd / 2);
    start_metrics(d);

    if (d->cfg->isolation_process &&
        dp_workerpool_init(d->loop, &wpool, d->cfg, config_path) != 0) {
        close_all(d);
        uv_run(d->loop, UV_RUN_DEFAULT);
        goto out;
    }
    set_worker_limits(d);
    dp_log(DP_LOG_INFO,
           "docprocd %s: watching %s -> %s (%zu stages, %d workers)",
           DP_VERSION, d->cfg->inbox, d->cfg->outbox, d->gen->pipeline.n,
           d->cfg->workers);
    if (stop_pending) {
        on_signal(&d->sigterm, stop_pending);
    } else {
        adopt_orphans(d);
        scan_inbox(d);
        dp_notify("READY=1");
        pump(d);
    }
    uv_run(d->loop, UV_RUN_DEFAULT);
    d->metrics.worker_restarts = wpool.restarts;
    if (d->cfg->metrics_file)
        dp_metrics_write(&d->metrics, d->cfg->metrics_file);
    dp_log(DP_LOG_INFO, "stopped: %lu done, %lu failed", d->done, d->failed);
    rc = d->exit_code;
out:
    while (d->retry) {
        daemon_job *next = d->retry->next;
        free_job(d, d->retry);
        d->retry = next;
    }
    uv_loop_close(d->loop);
    close(d->inbox_fd);
    dp_inbox_free(&d->inbox);
    dp_inbox_free(&d->owned);
    gen_unref(d->gen);
    return rc;
}
