/* One claimed document's trip through the daemon, run on a pool thread:
 * read it from processing/, run the pipeline, write the output durably,
 * then archive the original (done/ or deleted), or move it to failed/ with
 * a <name>.error.json beside it. */
#ifndef DP_JOB_H
#define DP_JOB_H

#include <limits.h>

#include <uv.h>

#include "config.h"
#include "pipeline.h"

typedef enum dp_job_result {
    DP_JOB_DONE,   /* output in the outbox, original archived */
    DP_JOB_FAILED, /* original in failed/ with its reason */
    DP_JOB_RETRY   /* could not write: the document stays in processing/ */
} dp_job_result;

typedef struct dp_job {
    uv_work_t req;
    const dp_config *cfg;
    const dp_pipeline *pipeline;
    char name[NAME_MAX + 1];  /* its name in the inbox */
    char pname[NAME_MAX + 1]; /* its name in processing/ */
    int recovering;           /* left in processing/ by an earlier run */
    /* Looked up in a recovery pass's index of the outbox (resume.h):
     * indexed_output is the output of its claim found there, or "". */
    int indexed;
    char indexed_output[NAME_MAX + 1];

    /* results */
    dp_job_result result;
    char stage[64];
    char message[512];
    char out_name[NAME_MAX + 1];
    size_t bytes;
    double ms;
    /* per-stage times, for the metrics */
    struct {
        char name[32];
        double ms;
    } stage_ms[16];
    size_t n_stage_ms;
} dp_job;

/* Do the work; blocking, for the thread pool. */
void dp_job_run(dp_job *job);

/* Move the document from processing/ to failed/ with <name>.error.json
 * (stage, message, time), and set the job's result. Also used by the
 * daemon when a worker process dies on a document. */
void dp_job_fail(dp_job *job, const char *stage, const char *message);

#endif
