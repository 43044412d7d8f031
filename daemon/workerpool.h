/* The daemon side of process isolation: a pool of worker processes
 * (`docprocd --worker CONFIG`, see worker.h) that run the documents, so
 * that a stage that crashes or hangs costs one document, not the daemon.
 *
 * Everything here runs on the loop thread. Documents go to idle workers, or
 * wait in a queue. A worker that dies (a signal, an exit) is replaced; a
 * worker that overruns the time limit (cfg->time_limit_ms, 0 = none) is
 * killed with SIGKILL and replaced. The document it was running is tried
 * once more on another worker process; if that dies too, the document is
 * moved to failed/ (dp_job_fail, on the thread pool) with a reason such as
 *   stage 'crashy' crashed: Segmentation fault (signal 11)
 *   stage 'loopy' exceeded the time limit of 2000 ms
 * and its job completes with DP_JOB_FAILED. */
#ifndef DP_WORKERPOOL_H
#define DP_WORKERPOOL_H

#include <uv.h>

#include "config.h"
#include "job.h"

typedef struct dp_wproc dp_wproc; /* one worker process */
typedef struct dp_wtask dp_wtask; /* one submitted document */
typedef struct dp_workerpool dp_workerpool;

typedef void (*dp_workerpool_done_cb)(dp_job *job, void *data);
typedef void (*dp_workerpool_close_cb)(dp_workerpool *pool);

struct dp_workerpool {
    uv_loop_t *loop;
    char *exe;           /* this binary, re-executed as a worker */
    char *config_path;   /* for messages */
    json_t *config;      /* what every new worker runs */
    int n_workers;       /* wanted */
    int time_limit_ms;   /* per document; 0 = none */
    unsigned generation; /* bumped by a reload */
    dp_wproc *procs;     /* every worker process not yet freed */
    dp_wtask *queue_head, *queue_tail;
    int queued;
    uv_timer_t respawn;      /* backs off while workers fail to start */
    unsigned start_failures; /* in a row, for the back-off */
    int pending_work;        /* dp_job_fail calls on the thread pool */
    int closing, closed;
    dp_workerpool_close_cb close_cb;

    /* Recycling (0 = off; set after init): a worker is replaced, between
     * documents, once it has run max_documents, or once its resident
     * memory exceeds max_rss_kb KiB (a stage that leaks). */
    unsigned long max_documents;
    unsigned long max_rss_kb;

    /* Counters, for logs and metrics. */
    unsigned long restarts; /* workers replaced after dying */
    unsigned long timeouts; /* workers killed for the time limit */
    unsigned long crashes;  /* workers that died on a document */
    unsigned long recycled; /* workers replaced by max_documents/_rss_kb */
};

/* Start cfg->workers worker processes running the config `cfg` was loaded
 * from (`config_path`, read again here, with the folders of `cfg`). Only
 * `pool` must outlive the pool; `cfg` is copied. Returns 0 or a negative
 * errno; the pool is then closing (run the loop to let it finish). */
/* argv[0] of docprocd, set by main: preferred to /proc/self/exe for
 * starting workers. */
extern const char *dp_workerpool_argv0;

int dp_workerpool_init(uv_loop_t *loop, dp_workerpool *pool,
                       const dp_config *cfg, const char *config_path);

/* Run `job` (name, pname, recovering) on a worker; `done` is called on the
 * loop thread with the job's results filled in, exactly once. Returns 0, or
 * -ECANCELED once the pool is closing, or -ENOMEM; `done` is then never
 * called. */
int dp_workerpool_submit(dp_workerpool *pool, dp_job *job,
                         dp_workerpool_done_cb done, void *data);

/* After the daemon reloaded its config (SIGHUP): read `config_path`
 * again, keeping the folders of `cfg` (the new, loaded config), and replace
 * every worker: idle ones now, busy ones once their document is done, so
 * documents in flight finish on the old pipeline and new ones start on the
 * new one. Returns 0, or a negative errno with the old workers kept (the
 * file no longer reads as a valid config). */
int dp_workerpool_reload(dp_workerpool *pool, const dp_config *cfg,
                         const char *config_path);

/* Documents waiting for a worker, and workers running one. */
int dp_workerpool_queued(const dp_workerpool *pool);
int dp_workerpool_busy(const dp_workerpool *pool);

/* Stop: idle workers are told to exit (their stdin is closed); busy ones
 * are killed and their documents complete with DP_JOB_RETRY (stage
 * "shutdown"), as do queued ones: they stay in processing/ for the next
 * start. `cb` (or NULL) runs once every handle is closed. Calling it again
 * does nothing. */
void dp_workerpool_close(dp_workerpool *pool, dp_workerpool_close_cb cb);

#endif
