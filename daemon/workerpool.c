/* The pool of worker processes: see workerpool.h. */
#define _GNU_SOURCE
#include "workerpool.h"

/* The identity of pool->exe when the pool started (see spawn_one). */
static dev_t exe_dev;
static ino_t exe_ino;

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "worker.h"

#define MAX_LINE (1u << 20)       /* a longer line from a worker is a bug */
#define EXIT_GRACE_MS 2000        /* wait for the last lines after an exit */
#define RESPAWN_MAX_MS 30000
#define START_LIMIT_MS 120000     /* loading the plugins may not take longer */

typedef enum { W_STARTING, W_IDLE, W_BUSY } wstate;

struct dp_wtask {
    dp_workerpool *pool;
    dp_job *job;
    dp_workerpool_done_cb done;
    void *data;
    unsigned attempts; /* times given to a worker */
    uint64_t t0;       /* first start, for job->ms */
    char stage[64];    /* why it failed, for dp_job_fail */
    char reason[512];
    uv_work_t work;
    dp_wtask *next;
};

struct dp_wproc {
    dp_workerpool *pool;
    dp_wproc *prev, *next; /* pool->procs */
    unsigned generation;
    uv_process_t proc;
    uv_pipe_t to, from; /* its stdin, its stdout */
    uv_timer_t timer;   /* the time limit, then the grace after exit */
    int open_handles;
    wstate state;
    int spawned, ready, exited, eof, finalized, timed_out, stop_asked;
    int64_t exit_status;
    int term_signal;
    long pid;
    dp_wtask *task;
    char stage[64]; /* the stage the worker said it is running */
    char *buf;
    size_t len, cap;
    unsigned long served;
};

typedef struct wwrite {
    uv_write_t req;
    char *data;
} wwrite;

static void dispatch(dp_workerpool *pool);
static void spawn_missing(dp_workerpool *pool);
static void check_closed(dp_workerpool *pool);
static void on_respawn(uv_timer_t *t);
static void retire(dp_wproc *w);
static void on_written(uv_write_t *req, int status);

/* ------------------------------------------------------------------------ */
/* Tasks                                                                     */

static void complete(dp_wtask *t)
{
    dp_workerpool_done_cb done = t->done;
    void *data = t->data;
    dp_job *job = t->job;
    if (t->t0 && job->ms == 0)
        job->ms = (double)(uv_hrtime() - t->t0) / 1e6;
    free(t);
    done(job, data);
}

static void complete_retry(dp_wtask *t, const char *stage, const char *msg)
{
    dp_job *job = t->job;
    job->result = DP_JOB_RETRY;
    snprintf(job->stage, sizeof job->stage, "%s", stage);
    snprintf(job->message, sizeof job->message, "%s", msg);
    complete(t);
}

static void enqueue(dp_workerpool *pool, dp_wtask *t, int front)
{
    t->next = NULL;
    if (pool->queue_head == NULL) {
        pool->queue_head = pool->queue_tail = t;
    } else if (front) {
        t->next = pool->queue_head;
        pool->queue_head = t;
    } else {
        pool->queue_tail->next = t;
        pool->queue_tail = t;
    }
    pool->queued++;
}

static dp_wtask *dequeue(dp_workerpool *pool)
{
    dp_wtask *t = pool->queue_head;
    if (t) {
        pool->queue_head = t->next;
        if (pool->queue_head == NULL)
            pool->queue_tail = NULL;
        pool->queued--;
        t->next = NULL;
    }
    return t;
}

static void fail_work(uv_work_t *req)
{
    dp_wtask *t = req->data;
    dp_job_fail(t->job, t->stage, t->reason);
}

static void after_fail_work(uv_work_t *req, int status)
{
    dp_wtask *t = req->data;
    dp_workerpool *pool = t->pool;
    (void)status;
    pool->pending_work--;
    t->job->ms = 0;
    complete(t);
    check_closed(pool);
}

/* The worker running t died: try t once more, else fail it. */
static void worker_died_on(dp_workerpool *pool, dp_wproc *w, dp_wtask *t)
{
    const char *stage = w->stage[0] ? w->stage : "worker";
    if (pool->closing) { /* killed by dp_workerpool_close, not a crash */
        dp_log(DP_LOG_WARNING, "stopped worker %ld in stage '%s' of %s: it "
               "stays in processing/", w->pid, stage, t->job->name);
        complete_retry(t, "shutdown",
                       "docprocd stopped while it ran; it stays in "
                       "processing/ for the next start");
        return;
    }
    snprintf(t->stage, sizeof t->stage, "%s", stage);
    if (w->timed_out)
        snprintf(t->reason, sizeof t->reason,
                 "stage '%s' exceeded the time limit of %d ms", stage,
                 pool->time_limit_ms);
    else if (w->term_signal)
        snprintf(t->reason, sizeof t->reason,
                 "stage '%s' crashed: %s (signal %d)", stage,
                 strsignal(w->term_signal), w->term_signal);
    else
        snprintf(t->reason, sizeof t->reason,
                 "stage '%s' ended its worker process (exit status %lld)",
                 stage, (long long)w->exit_status);
    if (!w->timed_out)
        pool->crashes++;
    if (t->attempts < 2) {
        dp_log(DP_LOG_WARNING,
               "worker %ld on %s: %s; trying it once more on another worker",
               w->pid, t->job->name, t->reason);
        /* It may have been written out before the death: check, in the
         * outbox as it is now (not in an index made before). */
        t->job->recovering = 1;
        t->job->indexed = 0;
        enqueue(pool, t, 1);
        return;
    }
    dp_log(DP_LOG_ERR, "worker %ld on %s: %s, for the second time: "
           "moving it to %s", w->pid, t->job->name, t->reason,
           t->job->cfg->failed);
    t->work.data = t;
    pool->pending_work++;
    if (uv_queue_work(pool->loop, &t->work, fail_work, after_fail_work) !=
        0) {
        fail_work(&t->work);
        after_fail_work(&t->work, 0);
    }
}

/* ------------------------------------------------------------------------ */
/* Worker processes                                                          */

static void on_handle_closed(uv_handle_t *h)
{
    dp_wproc *w = h->data;
    if (--w->open_handles > 0)
        return;
    dp_workerpool *pool = w->pool;
    if (w->prev)
        w->prev->next = w->next;
    else
        pool->procs = w->next;
    if (w->next)
        w->next->prev = w->prev;
    free(w->buf);
    free(w);
    check_closed(pool);
}

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, on_handle_closed);
}

static void close_all_handles(dp_wproc *w)
{
    close_handle((uv_handle_t *)&w->proc);
    close_handle((uv_handle_t *)&w->to);
    close_handle((uv_handle_t *)&w->from);
    close_handle((uv_handle_t *)&w->timer);
}

static void kill_worker(dp_wproc *w)
{
    if (w->spawned && !w->exited)
        uv_process_kill(&w->proc, SIGKILL);
}

static void schedule_respawn(dp_workerpool *pool)
{
    if (pool->closing)
        return;
    unsigned shift = pool->start_failures < 7 ? pool->start_failures : 7;
    uint64_t delay = pool->start_failures ? 250ULL << shift : 0;
    if (delay > RESPAWN_MAX_MS)
        delay = RESPAWN_MAX_MS;
    if (delay == 0) {
        spawn_missing(pool);
        return;
    }
    if (!uv_is_active((uv_handle_t *)&pool->respawn)) {
        dp_log(DP_LOG_WARNING, "starting a worker again in %llu ms",
               (unsigned long long)delay);
        uv_timer_start(&pool->respawn, on_respawn, delay, 0);
    }
}

/* Both the exit and the end of its output are in: account for it. */
static void finalize(dp_wproc *w)
{
    dp_workerpool *pool = w->pool;
    if (w->finalized)
        return;
    w->finalized = 1;
    uv_timer_stop(&w->timer);
    dp_wtask *t = w->task;
    w->task = NULL;
    int was_ready = w->ready;
    if (t)
        worker_died_on(pool, w, t);
    else if (w->stop_asked) {
        if (w->term_signal || w->exit_status != 0)
            dp_log(DP_LOG_WARNING, "worker %ld, asked to stop, ended with "
                   "%s %d", w->pid, w->term_signal ? "signal" : "status",
                   w->term_signal ? w->term_signal : (int)w->exit_status);
    } else {
        if (was_ready)
            dp_log(DP_LOG_WARNING, "worker %ld died while idle: %s%s%d",
                   w->pid, w->term_signal ? strsignal(w->term_signal) : "",
                   w->term_signal ? ", signal " : "exit status ",
                   w->term_signal ? w->term_signal : (int)w->exit_status);
        else
            dp_log(DP_LOG_ERR,
                   "worker %ld could not start (%s %d): see the lines above",
                   w->pid, w->term_signal ? "signal" : "exit status",
                   w->term_signal ? w->term_signal : (int)w->exit_status);
    }
    close_all_handles(w);
    if (!pool->closing && !w->stop_asked) {
        if (was_ready) {
            pool->restarts++;
            pool->start_failures = 0;
        } else {
            pool->start_failures++;
        }
    }
    schedule_respawn(pool);
    dispatch(pool);
    check_closed(pool);
}

static void on_timer(uv_timer_t *timer);

static void start_timer(dp_wproc *w, uint64_t ms)
{
    uv_timer_stop(&w->timer);
    uv_timer_start(&w->timer, on_timer, ms, 0);
}

static void on_exit_cb(uv_process_t *p, int64_t exit_status, int term_signal)
{
    dp_wproc *w = p->data;
    w->exited = 1;
    w->exit_status = exit_status;
    w->term_signal = term_signal;
    uv_timer_stop(&w->timer);
    if (w->eof)
        finalize(w);
    else /* its last lines may still be in the pipe */
        start_timer(w, EXIT_GRACE_MS);
}

static void on_timer(uv_timer_t *timer)
{
    dp_wproc *w = timer->data;
    if (w->exited) { /* the grace after the exit is over */
        w->eof = 1;
        uv_read_stop((uv_stream_t *)&w->from);
        finalize(w);
        return;
    }
    if (w->state == W_STARTING) {
        dp_log(DP_LOG_ERR, "worker %ld did not load its plugins within %d "
               "ms: killing it", w->pid, START_LIMIT_MS);
        kill_worker(w);
        return;
    }
    if (w->state == W_BUSY && w->task) {
        w->timed_out = 1;
        w->pool->timeouts++;
        dp_log(DP_LOG_WARNING,
               "worker %ld: %s still in stage '%s' after %d ms: killing it",
               w->pid, w->task->job->name, w->stage[0] ? w->stage : "?",
               w->pool->time_limit_ms);
        kill_worker(w);
    }
}

/* Resident memory of a process in KiB, or 0 when unknown. */
static unsigned long rss_kb(long pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/statm", pid);
    FILE *f = fopen(path, "re");
    unsigned long size = 0, resident = 0;
    if (f == NULL)
        return 0;
    if (fscanf(f, "%lu %lu", &size, &resident) != 2)
        resident = 0;
    fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    return resident * (unsigned long)(page > 0 ? page : 4096) / 1024;
}

/* True when a worker should be replaced after its last document: it has
 * done max_documents, or it grew past max_rss_kb (a stage that leaks). */
static int worn_out(dp_wproc *w)
{
    dp_workerpool *pool = w->pool;
    if (pool->max_documents && w->served >= pool->max_documents) {
        dp_log(DP_LOG_INFO, "worker %ld replaced after %lu documents",
               w->pid, w->served);
        return 1;
    }
    if (pool->max_rss_kb) {
        unsigned long kb = rss_kb(w->pid);
        if (kb > pool->max_rss_kb) {
            dp_log(DP_LOG_WARNING,
                   "worker %ld replaced: %lu KiB resident after %lu "
                   "documents, over the limit of %lu KiB (a stage that "
                   "leaks?)",
                   w->pid, kb, w->served, pool->max_rss_kb);
            return 1;
        }
    }
    return 0;
}

static void on_result(dp_wproc *w, json_t *o)
{
    dp_wtask *t = w->task;
    if (t == NULL || w->state != W_BUSY) {
        dp_log(DP_LOG_ERR, "worker %ld sent a result for no document: "
               "stopping it", w->pid);
        kill_worker(w);
        return;
    }
    dp_job *job = t->job;
    const char *r = json_string_value(json_object_get(o, "result"));
    job->result = r && strcmp(r, "done") == 0     ? DP_JOB_DONE
                  : r && strcmp(r, "failed") == 0 ? DP_JOB_FAILED
                                                  : DP_JOB_RETRY;
    const char *s = json_string_value(json_object_get(o, "stage"));
    snprintf(job->stage, sizeof job->stage, "%s", s ? s : "");
    s = json_string_value(json_object_get(o, "message"));
    snprintf(job->message, sizeof job->message, "%s", s ? s : "");
    if (dp_wire_get_bytes(o, "out_name", job->out_name,
                          sizeof job->out_name) != 0)
        job->out_name[0] = 0;
    json_int_t bytes = json_integer_value(json_object_get(o, "bytes"));
    job->bytes = bytes > 0 ? (size_t)bytes : 0;
    job->ms = json_number_value(json_object_get(o, "ms"));
    job->n_stage_ms = 0;
    size_t i;
    json_t *st;
    json_array_foreach(json_object_get(o, "stages"), i, st) {
        const char *name = json_string_value(json_array_get(st, 0));
        if (name == NULL ||
            job->n_stage_ms >= sizeof job->stage_ms / sizeof job->stage_ms[0])
            continue;
        snprintf(job->stage_ms[job->n_stage_ms].name,
                 sizeof job->stage_ms[0].name, "%s", name);
        job->stage_ms[job->n_stage_ms].ms =
            json_number_value(json_array_get(st, 1));
        job->n_stage_ms++;
    }
    if (t->attempts > 1) /* count the first, lost, attempt too */
        job->ms = (double)(uv_hrtime() - t->t0) / 1e6;
    uv_timer_stop(&w->timer);
    w->task = NULL;
    w->state = W_IDLE;
    w->stage[0] = 0;
    w->served++;
    dp_workerpool *pool = w->pool;
    if (pool->closing || w->generation != pool->generation) {
        retire(w);
        spawn_missing(pool);
    } else if (worn_out(w)) {
        pool->recycled++;
        retire(w);
        spawn_missing(pool);
    }
    t->t0 = 0;
    complete(t);
    dispatch(pool);
}

static void on_line(dp_wproc *w, const char *line, size_t len)
{
    json_error_t jerr;
    json_t *o = json_loadb(line, len, 0, &jerr);
    const char *ev = json_string_value(json_object_get(o, "event"));
    if (ev == NULL) {
        dp_log(DP_LOG_ERR, "worker %ld sent a bad line (%s): stopping it",
               w->pid, o ? "no event" : jerr.text);
        kill_worker(w);
    } else if (strcmp(ev, "stage") == 0) {
        const char *s = json_string_value(json_object_get(o, "stage"));
        snprintf(w->stage, sizeof w->stage, "%s", s ? s : "?");
    } else if (strcmp(ev, "result") == 0) {
        on_result(w, o);
    } else if (strcmp(ev, "ready") == 0) {
        w->ready = 1;
        uv_timer_stop(&w->timer);
        if (w->state == W_STARTING)
            w->state = W_IDLE;
        w->pool->start_failures = 0;
        dp_log(DP_LOG_DEBUG, "worker %ld ready", w->pid);
        if (w->pool->closing || w->generation != w->pool->generation)
            retire(w);
        dispatch(w->pool);
    } else {
        dp_log(DP_LOG_WARNING, "worker %ld sent an unknown event '%s'",
               w->pid, ev);
    }
    json_decref(o);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    dp_wproc *w = h->data;
    if (suggested < 4096)
        suggested = 4096;
    if (w->cap - w->len < suggested) {
        size_t cap = w->len + suggested;
        char *nb = realloc(w->buf, cap);
        if (nb == NULL) {
            *buf = uv_buf_init(NULL, 0); /* libuv reports UV_ENOBUFS */
            return;
        }
        w->buf = nb;
        w->cap = cap;
    }
    *buf = uv_buf_init(w->buf + w->len, (unsigned)(w->cap - w->len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    dp_wproc *w = s->data;
    (void)buf;
    if (nread < 0) {
        if (nread != UV_EOF)
            dp_log(DP_LOG_ERR, "reading from worker %ld: %s", w->pid,
                   uv_strerror((int)nread));
        w->eof = 1;
        uv_read_stop(s);
        if (w->exited) {
            finalize(w);
        } else if (!w->stop_asked) {
            /* Its output is closed: it can do nothing useful any more. */
            kill_worker(w);
        }
        return;
    }
    w->len += (size_t)nread;
    size_t start = 0;
    for (;;) {
        char *nl = memchr(w->buf + start, '\n', w->len - start);
        if (nl == NULL)
            break;
        size_t end = (size_t)(nl - w->buf);
        on_line(w, w->buf + start, end - start);
        start = end + 1;
        if (w->finalized)
            return;
    }
    memmove(w->buf, w->buf + start, w->len - start);
    w->len -= start;
    if (w->len > MAX_LINE) {
        dp_log(DP_LOG_ERR, "worker %ld sent a line over %u bytes: stopping "
               "it", w->pid, MAX_LINE);
        w->len = 0;
        kill_worker(w);
    }
}

static void on_written(uv_write_t *req, int status)
{
    wwrite *ww = (wwrite *)req;
    dp_wproc *w = req->handle->data;
    if (status < 0 && status != UV_ECANCELED) {
        dp_log(DP_LOG_ERR, "writing to worker %ld: %s", w->pid,
               uv_strerror(status));
        kill_worker(w);
    }
    free(ww->data);
    free(ww);
}

/* Workers that count towards n_workers: not leaving, not dead. */
static int active_workers(const dp_workerpool *pool)
{
    int n = 0;
    for (const dp_wproc *w = pool->procs; w; w = w->next)
        n += !w->stop_asked && !w->finalized && !w->exited;
    return n;
}

/* Tell a worker to exit once idle: its stdin reaches end of file. */
static void retire(dp_wproc *w)
{
    w->stop_asked = 1;
    close_handle((uv_handle_t *)&w->to);
}

static int send_config(dp_wproc *w)
{
    json_t *o = json_pack("{s:O}", "config", w->pool->config);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    wwrite *ww = s ? malloc(sizeof *ww) : NULL;
    if (ww == NULL) {
        free(s);
        return UV_ENOMEM;
    }
    size_t len = strlen(s);
    s[len++] = '\n'; /* over the NUL: the length is passed */
    ww->data = s;
    uv_buf_t b = uv_buf_init(s, (unsigned)len);
    int rc = uv_write(&ww->req, (uv_stream_t *)&w->to, &b, 1, on_written);
    if (rc) {
        free(s);
        free(ww);
    }
    return rc;
}

static int spawn_one(dp_workerpool *pool)
{
    dp_wproc *w = calloc(1, sizeof *w);
    if (w == NULL)
        return UV_ENOMEM;
    w->pool = pool;
    w->generation = pool->generation;
    w->state = W_STARTING;
    w->next = pool->procs;
    if (pool->procs)
        pool->procs->prev = w;
    pool->procs = w;
    uv_pipe_init(pool->loop, &w->to, 0);
    uv_pipe_init(pool->loop, &w->from, 0);
    uv_timer_init(pool->loop, &w->timer);
    w->to.data = w->from.data = w->timer.data = w->proc.data = w;
    w->open_handles = 4;

    uv_stdio_container_t stdio[3];
    stdio[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
    stdio[0].data.stream = (uv_stream_t *)&w->to;
    stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[1].data.stream = (uv_stream_t *)&w->from;
    stdio[2].flags = UV_INHERIT_FD;
    stdio[2].data.fd = 2;
    char *args[] = {pool->exe, (char *)"--worker", pool->config_path, NULL};
    uv_process_options_t opts;
    memset(&opts, 0, sizeof opts);
    /* Workers run the very binary this daemon is: the file it started
     * from, or, when a package upgrade has replaced that file since,
     * /proc/self/exe (the old binary), so the protocol always matches.
     * (Not /proc/self/exe always: under valgrind it is valgrind's tool.) */
    struct stat st;
    int replaced = stat(pool->exe, &st) != 0 || st.st_dev != exe_dev ||
                   st.st_ino != exe_ino;
    opts.file = replaced && access("/proc/self/exe", X_OK) == 0
                    ? "/proc/self/exe"
                    : pool->exe;
    opts.args = args;
    opts.exit_cb = on_exit_cb;
    opts.stdio = stdio;
    opts.stdio_count = 3;
    /* uv_spawn initialises the process handle even when it fails: it is
     * closed with the others. */
    int rc = uv_spawn(pool->loop, &w->proc, &opts);
    if (rc == 0) {
        w->spawned = 1;
        w->pid = (long)w->proc.pid;
        rc = uv_read_start((uv_stream_t *)&w->from, on_alloc, on_read);
        if (rc == 0)
            rc = send_config(w);
    }
    if (rc != 0) {
        dp_log(DP_LOG_ERR, "cannot start a worker process (%s --worker): %s",
               pool->exe, uv_strerror(rc));
        if (w->spawned) {
            /* Let its exit be reaped and accounted as a failed start. */
            kill_worker(w);
            return 0;
        }
        w->finalized = 1;
        close_all_handles(w);
        return rc;
    }
    start_timer(w, START_LIMIT_MS);
    dp_log(DP_LOG_DEBUG, "started worker %ld", w->pid);
    return 0;
}

static void spawn_missing(dp_workerpool *pool)
{
    while (!pool->closing && active_workers(pool) < pool->n_workers) {
        if (spawn_one(pool) != 0) {
            pool->start_failures++;
            schedule_respawn(pool);
            return;
        }
    }
}

static void on_respawn(uv_timer_t *t)
{
    spawn_missing(t->data);
}

static int assign(dp_workerpool *pool, dp_wproc *w, dp_wtask *t)
{
    json_t *o = json_object();
    if (o == NULL || dp_wire_set_bytes(o, "name", t->job->name) ||
        dp_wire_set_bytes(o, "pname", t->job->pname) ||
        json_object_set_new(o, "recovering",
                            json_boolean(t->job->recovering)) ||
        (t->job->indexed &&
         dp_wire_set_bytes(o, "indexed_output", t->job->indexed_output))) {
        json_decref(o);
        return UV_ENOMEM;
    }
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    wwrite *ww = s ? malloc(sizeof *ww) : NULL;
    if (ww == NULL) {
        free(s);
        return UV_ENOMEM;
    }
    size_t len = strlen(s);
    s[len++] = '\n'; /* over the NUL: the length is passed */
    ww->data = s;
    uv_buf_t b = uv_buf_init(s, (unsigned)len);
    w->state = W_BUSY;
    w->task = t;
    w->stage[0] = 0;
    w->timed_out = 0;
    t->attempts++;
    if (t->t0 == 0)
        t->t0 = uv_hrtime();
    int rc = uv_write(&ww->req, (uv_stream_t *)&w->to, &b, 1, on_written);
    if (rc != 0) {
        free(s);
        free(ww);
        dp_log(DP_LOG_ERR, "writing to worker %ld: %s", w->pid,
               uv_strerror(rc));
        /* Its death gives the document back to the queue. */
        kill_worker(w);
        return 0;
    }
    if (pool->time_limit_ms > 0)
        start_timer(w, (uint64_t)pool->time_limit_ms);
    return 0;
}

static void dispatch(dp_workerpool *pool)
{
    while (pool->queue_head && !pool->closing) {
        dp_wproc *idle = NULL;
        for (dp_wproc *w = pool->procs; w && idle == NULL; w = w->next)
            if (w->state == W_IDLE && !w->stop_asked && !w->exited &&
                !w->eof && !w->finalized)
                idle = w;
        if (idle == NULL)
            return;
        dp_wtask *t = dequeue(pool);
        if (assign(pool, idle, t) != 0)
            complete_retry(t, "worker", "out of memory handing it to a "
                           "worker");
    }
}

/* ------------------------------------------------------------------------ */
/* Public                                                                    */

/* The config file as JSON, with the daemon's folders. */
static json_t *read_config(const dp_config *cfg, const char *config_path)
{
    json_error_t jerr;
    json_t *root = json_load_file(config_path, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(root)) {
        dp_log(DP_LOG_ERR, "worker pool: cannot read %s: %s", config_path,
               root ? "not an object" : jerr.text);
        json_decref(root);
        return NULL;
    }
    const char *keys[] = {"inbox", "outbox", "failed", "done", "processing"};
    const char *vals[] = {cfg->inbox, cfg->outbox, cfg->failed, cfg->done,
                          cfg->processing};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (json_object_set_new(root, keys[i], json_string(vals[i])) != 0) {
            dp_log(DP_LOG_ERR, "worker pool: out of memory");
            json_decref(root);
            return NULL;
        }
    }
    dp_config check;
    dp_err err = {{0}};
    if (dp_config_from_json(root, &check, &err) != 0) {
        dp_log(DP_LOG_ERR, "worker pool: %s: %s", config_path, err.msg);
        json_decref(root);
        return NULL;
    }
    dp_config_free(&check);
    return root;
}

const char *dp_workerpool_argv0;

int dp_workerpool_init(uv_loop_t *loop, dp_workerpool *pool,
                       const dp_config *cfg, const char *config_path)
{
    memset(pool, 0, sizeof *pool);
    char exe[PATH_MAX];
    size_t len = sizeof exe;
    int rc = 0;
    /* The path docprocd was started by, when it names a file: under a
     * wrapper such as valgrind, /proc/self/exe is the wrapper's tool. */
    const char *self = dp_workerpool_argv0;
    if (self && strchr(self, '/') && realpath(self, exe) != NULL &&
        access(exe, X_OK) == 0)
        len = strlen(exe);
    else
        rc = uv_exepath(exe, &len);
    if (rc != 0) {
        dp_log(DP_LOG_ERR, "cannot find the docprocd binary to start "
               "workers: %s", uv_strerror(rc));
        return rc;
    }
    pool->config = read_config(cfg, config_path);
    if (pool->config == NULL)
        return UV_EINVAL;
    pool->exe = strdup(exe);
    struct stat st;
    if (stat(exe, &st) == 0) {
        exe_dev = st.st_dev;
        exe_ino = st.st_ino;
    }
    pool->config_path = realpath(config_path, NULL);
    if (pool->config_path == NULL)
        pool->config_path = strdup(config_path);
    if (pool->exe == NULL || pool->config_path == NULL) {
        free(pool->exe);
        free(pool->config_path);
        json_decref(pool->config);
        memset(pool, 0, sizeof *pool);
        return UV_ENOMEM;
    }
    pool->loop = loop;
    pool->n_workers = cfg->workers > 0 ? cfg->workers : 1;
    pool->time_limit_ms = cfg->time_limit_ms;
    uv_timer_init(loop, &pool->respawn);
    pool->respawn.data = pool;
    if ((rc = spawn_one(pool)) != 0) {
        dp_workerpool_close(pool, NULL);
        return rc;
    }
    spawn_missing(pool);
    return 0;
}

int dp_workerpool_reload(dp_workerpool *pool, const dp_config *cfg,
                         const char *config_path)
{
    if (pool->loop == NULL || pool->closing)
        return UV_EINVAL;
    json_t *config = read_config(cfg, config_path);
    if (config == NULL)
        return UV_EINVAL;
    json_decref(pool->config);
    pool->config = config;
    pool->n_workers = cfg->workers > 0 ? cfg->workers : 1;
    pool->time_limit_ms = cfg->time_limit_ms;
    pool->generation++;
    pool->start_failures = 0;
    /* Busy ones are retired when their result comes. */
    for (dp_wproc *w = pool->procs; w; w = w->next)
        if (w->state != W_BUSY && !w->stop_asked)
            retire(w);
    spawn_missing(pool);
    return 0;
}

int dp_workerpool_submit(dp_workerpool *pool, dp_job *job,
                         dp_workerpool_done_cb done, void *data)
{
    if (pool->loop == NULL || pool->closing)
        return UV_ECANCELED;
    dp_wtask *t = calloc(1, sizeof *t);
    if (t == NULL)
        return UV_ENOMEM;
    t->pool = pool;
    t->job = job;
    t->done = done;
    t->data = data;
    job->ms = 0;
    job->bytes = 0;
    job->out_name[0] = 0;
    job->n_stage_ms = 0;
    enqueue(pool, t, 0);
    dispatch(pool);
    return 0;
}

int dp_workerpool_queued(const dp_workerpool *pool)
{
    return pool->queued;
}

int dp_workerpool_busy(const dp_workerpool *pool)
{
    int n = 0;
    for (const dp_wproc *w = pool->procs; w; w = w->next)
        n += w->state == W_BUSY && w->task != NULL;
    return n;
}

static void on_respawn_closed(uv_handle_t *h)
{
    dp_workerpool *pool = h->data;
    pool->respawn.data = NULL;
    check_closed(pool);
}

static void check_closed(dp_workerpool *pool)
{
    if (!pool->closing || pool->closed || pool->pending_work > 0 ||
        pool->respawn.data != NULL || pool->procs != NULL)
        return;
    pool->closed = 1;
    free(pool->exe);
    free(pool->config_path);
    json_decref(pool->config);
    pool->exe = pool->config_path = NULL;
    pool->config = NULL;
    if (pool->close_cb)
        pool->close_cb(pool);
}

void dp_workerpool_close(dp_workerpool *pool, dp_workerpool_close_cb cb)
{
    if (pool->loop == NULL || pool->closed)
        return;
    if (cb)
        pool->close_cb = cb;
    if (pool->closing)
        return;
    pool->closing = 1;
    uv_close((uv_handle_t *)&pool->respawn, on_respawn_closed);
    for (dp_wtask *t; (t = dequeue(pool)) != NULL;)
        complete_retry(t, "shutdown",
                       "docprocd stopped before a worker took it; it stays "
                       "in processing/ for the next start");
    for (dp_wproc *w = pool->procs; w; w = w->next) {
        if (w->state == W_BUSY && w->task)
            kill_worker(w);
        else if (!w->stop_asked)
            retire(w);
    }
    check_closed(pool);
}
