/* Prometheus textfile metrics. */
#include "metrics.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Upper bounds of the stage-time buckets, in seconds. */
static const double buckets[DP_METRICS_BUCKETS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05,   0.1,   0.25,   0.5,   1.0,  5.0};

void dp_metrics_failed(dp_metrics *m, const char *stage, const char *reason)
{
    for (size_t i = 0; i < m->n_fails; i++) {
        if (strcmp(m->fails[i].stage, stage) == 0 &&
            strcmp(m->fails[i].reason, reason) == 0) {
            m->fails[i].n++;
            return;
        }
    }
    if (m->n_fails == DP_METRICS_MAX_FAILS) /* bounded: fold the rest */
        stage = "other", reason = "other";
    for (size_t i = 0; i < m->n_fails; i++) {
        if (strcmp(m->fails[i].stage, stage) == 0 &&
            strcmp(m->fails[i].reason, reason) == 0) {
            m->fails[i].n++;
            return;
        }
    }
    if (m->n_fails == DP_METRICS_MAX_FAILS)
        return;
    dp_metrics_fail *f = &m->fails[m->n_fails++];
    snprintf(f->stage, sizeof f->stage, "%s", stage);
    snprintf(f->reason, sizeof f->reason, "%s", reason);
    f->n = 1;
}

void dp_metrics_stage_time(dp_metrics *m, const char *stage, double ms)
{
    dp_metrics_hist *h = NULL;
    for (size_t i = 0; i < m->n_hists && !h; i++)
        if (strcmp(m->hists[i].stage, stage) == 0)
            h = &m->hists[i];
    if (h == NULL) {
        if (m->n_hists == DP_METRICS_MAX_STAGES)
            return;
        h = &m->hists[m->n_hists++];
        snprintf(h->stage, sizeof h->stage, "%s", stage);
    }
    double s = ms / 1000.0;
    size_t b = 0;
    while (b < DP_METRICS_BUCKETS && s > buckets[b])
        b++;
    h->counts[b]++;
    h->sum_s += s;
    h->n++;
}

const char *dp_metrics_reason_class(const char *msg)
{
    static const char *const classes[][2] = {
        {"binary input", "binary"},
        {"invalid UTF-8", "invalid_utf8"},
        {"empty file", "empty"},
        {"too large", "too_large"},
        {"symbolic link", "symlink"},
        {"not a regular file", "not_regular"},
        {"crashed", "crash"},
        {"time limit", "timeout"},
        {"cannot open", "unreadable"},
        {"read error", "unreadable"},
    };
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        if (strstr(msg, classes[i][0]))
            return classes[i][1];
    return "stage_error";
}

/* A growing string buffer for rendering. */
typedef struct sbuf {
    char *s;
    size_t len, cap;
    int oom;
} sbuf;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void add(sbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = b->oom ? 0
                       : vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (b->oom || n < 0)
            return;
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap + (size_t)n + 1) * 2;
        char *s = realloc(b->s, cap);
        if (s == NULL) {
            b->oom = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

int dp_metrics_render(const dp_metrics *m, char **out, size_t *len)
{
    sbuf b = {malloc(4096), 0, 4096, 0};
    if (b.s == NULL)
        return -ENOMEM;
    b.s[0] = 0;
#define COUNTER(name, help, v)                                                \
    add(&b, "# HELP " name " " help "\n# TYPE " name " counter\n" name        \
            " %llu\n",                                                        \
        (unsigned long long)(v))
#define GAUGE(name, help, v)                                                  \
    add(&b, "# HELP " name " " help "\n# TYPE " name " gauge\n" name " %llu\n", \
        (unsigned long long)(v))
    COUNTER("docproc_documents_claimed_total", "Documents claimed from the inbox.", m->claimed);
    COUNTER("docproc_documents_done_total", "Documents whose output is in the outbox.", m->done);
    add(&b, "# HELP docproc_documents_failed_total Documents moved to failed/, by stage and reason.\n"
            "# TYPE docproc_documents_failed_total counter\n");
    for (size_t i = 0; i < m->n_fails; i++)
        add(&b, "docproc_documents_failed_total{stage=\"%s\",reason=\"%s\"} %llu\n",
            m->fails[i].stage, m->fails[i].reason,
            (unsigned long long)m->fails[i].n);
    GAUGE("docproc_documents_in_flight", "Documents claimed and not finished.", (unsigned)m->in_flight);
    GAUGE("docproc_queue_depth", "Documents ready in the inbox, not yet claimed.", m->queue_depth);
    GAUGE("docproc_inbox_names", "Names in the inbox the daemon keeps track of (files not yet finished, folders).", m->inbox_names);
    COUNTER("docproc_bytes_in_total", "Bytes of documents read.", m->bytes_in);
    COUNTER("docproc_worker_restarts_total", "Worker processes replaced after a crash or a time limit.", m->worker_restarts);
    COUNTER("docproc_output_retries_total", "Times an output could not be written and was retried.", m->retries);
    add(&b, "# HELP docproc_stage_seconds Time spent in each stage per document.\n"
            "# TYPE docproc_stage_seconds histogram\n");
    for (size_t i = 0; i < m->n_hists; i++) {
        const dp_metrics_hist *h = &m->hists[i];
        uint64_t cum = 0;
        for (size_t k = 0; k < DP_METRICS_BUCKETS; k++) {
            cum += h->counts[k];
            add(&b, "docproc_stage_seconds_bucket{stage=\"%s\",le=\"%g\"} %llu\n",
                h->stage, buckets[k], (unsigned long long)cum);
        }
        cum += h->counts[DP_METRICS_BUCKETS];
        add(&b, "docproc_stage_seconds_bucket{stage=\"%s\",le=\"+Inf\"} %llu\n",
            h->stage, (unsigned long long)cum);
        add(&b, "docproc_stage_seconds_sum{stage=\"%s\"} %.6f\n", h->stage, h->sum_s);
        add(&b, "docproc_stage_seconds_count{stage=\"%s\"} %llu\n", h->stage,
            (unsigned long long)h->n);
    }
#undef COUNTER
#undef GAUGE
    if (b.oom) {
        free(b.s);
        return -ENOMEM;
    }
    *out = b.s;
    *len = b.len;
    return 0;
}

int dp_metrics_write(const dp_metrics *m, const char *path)
{
    char *text;
    size_t len;
    char tmp[4096];
    int rc = dp_metrics_render(m, &text, &len);
    if (rc)
        return rc;
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        rc = -errno;
        free(text);
        return rc;
    }
    if (fwrite(text, 1, len, f) != len)
        rc = -EIO;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    free(text);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc)
        unlink(tmp);
    return rc;
}
