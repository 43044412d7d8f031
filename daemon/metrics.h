/* Metrics in the Prometheus text format, written to a file atomically
 * every few seconds (the node_exporter textfile convention). Counters are
 * only touched on the loop thread. */
#ifndef DP_METRICS_H
#define DP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define DP_METRICS_BUCKETS 12
#define DP_METRICS_MAX_STAGES 32
#define DP_METRICS_MAX_FAILS 64

typedef struct dp_metrics_hist {
    char stage[64];
    uint64_t counts[DP_METRICS_BUCKETS + 1]; /* last: +Inf */
    double sum_s;
    uint64_t n;
} dp_metrics_hist;

typedef struct dp_metrics_fail {
    char stage[64];
    char reason[64];
    uint64_t n;
} dp_metrics_fail;

typedef struct dp_metrics {
    uint64_t claimed, done, bytes_in, worker_restarts, retries;
    int in_flight;
    size_t queue_depth;
    size_t inbox_names; /* names the inbox table holds */
    dp_metrics_fail fails[DP_METRICS_MAX_FAILS];
    size_t n_fails;
    dp_metrics_hist hists[DP_METRICS_MAX_STAGES];
    size_t n_hists;
} dp_metrics;

/* Count a failure by stage and a short reason class. */
void dp_metrics_failed(dp_metrics *m, const char *stage, const char *reason);
/* Record one stage's time for one document. */
void dp_metrics_stage_time(dp_metrics *m, const char *stage, double ms);

/* Render the metrics (the text written to the file). */
int dp_metrics_render(const dp_metrics *m, char **out, size_t *len);
/* Write them to `path` atomically (temporary file + rename). */
int dp_metrics_write(const dp_metrics *m, const char *path);

/* A short, bounded class for a failure message ("binary input", "too
 * large", "invalid UTF-8", ...), for the reason label. */
const char *dp_metrics_reason_class(const char *message);

#endif
