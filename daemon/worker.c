/* The worker process of isolation mode: see worker.h for the protocol. */
#define _GNU_SOURCE
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "config.h"
#include "doc.h"
#include "job.h"
#include "log.h"
#include "pipeline.h"

/* ------------------------------------------------------------------------ */
/* Wire helpers                                                              */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int dp_wire_set_bytes(json_t *obj, const char *key, const char *s)
{
    size_t len = strlen(s);
    if (dp_utf8_valid_prefix((const unsigned char *)s, len) == len)
        return json_object_set_new(obj, key, json_stringn(s, len)) ? -ENOMEM
                                                                   : 0;
    char hkey[64];
    snprintf(hkey, sizeof hkey, "%s_hex", key);
    char *hex = malloc(2 * len + 1);
    if (hex == NULL)
        return -ENOMEM;
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        hex[2 * i] = digits[(unsigned char)s[i] >> 4];
        hex[2 * i + 1] = digits[(unsigned char)s[i] & 15];
    }
    hex[2 * len] = 0;
    int rc = json_object_set_new(obj, hkey, json_string(hex)) ? -ENOMEM : 0;
    free(hex);
    return rc;
}

int dp_wire_get_bytes(const json_t *obj, const char *key, char *buf,
                      size_t size)
{
    const json_t *v = json_object_get(obj, key);
    if (json_is_string(v)) {
        size_t len = json_string_length(v);
        if (len >= size || memchr(json_string_value(v), 0, len))
            return -EINVAL;
        memcpy(buf, json_string_value(v), len + 1);
        return 0;
    }
    char hkey[64];
    snprintf(hkey, sizeof hkey, "%s_hex", key);
    v = json_object_get(obj, hkey);
    if (!json_is_string(v))
        return -EINVAL;
    const char *h = json_string_value(v);
    size_t hlen = json_string_length(v);
    if (hlen % 2 || hlen / 2 >= size)
        return -EINVAL;
    for (size_t i = 0; i < hlen / 2; i++) {
        int hi = hexval(h[2 * i]), lo = hexval(h[2 * i + 1]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
            return -EINVAL;
        buf[i] = (char)(hi << 4 | lo);
    }
    buf[hlen / 2] = 0;
    return 0;
}

json_t *dp_wire_text(const char *s)
{
    size_t len = strlen(s), n = 0;
    /* Each invalid byte becomes the 3 bytes of U+FFFD. */
    char *out = malloc(3 * len + 1);
    if (out == NULL)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    while (len > 0) {
        size_t ok = dp_utf8_valid_prefix(p, len);
        memcpy(out + n, p, ok);
        n += ok;
        p += ok;
        len -= ok;
        if (len > 0) {
            memcpy(out + n, "\xEF\xBF\xBD", 3);
            n += 3;
            p++;
            len--;
        }
    }
    json_t *v = json_stringn(out, n);
    free(out);
    return v;
}

/* ------------------------------------------------------------------------ */
/* Talking to the daemon                                                     */

static int out_fd = -1;

/* Write one JSON line to the daemon. A broken pipe means the daemon is
 * gone: nothing is left to do. */
static void send_obj(json_t *o)
{
    if (o == NULL) {
        dp_log(DP_LOG_ERR, "worker %ld: out of memory writing to the daemon",
               (long)getpid());
        _exit(3);
    }
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (s == NULL) {
        dp_log(DP_LOG_ERR, "worker %ld: out of memory writing to the daemon",
               (long)getpid());
        _exit(3);
    }
    size_t len = strlen(s);
    s[len++] = '\n'; /* json_dumps leaves room: it wrote a NUL there */
    for (size_t off = 0; off < len;) {
        ssize_t w = write(out_fd, s + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            _exit(0); /* the daemon closed the pipe: it is stopping */
        off += (size_t)w;
    }
    free(s);
}

static void send_stage(const char *stage)
{
    json_t *o = json_object();
    if (o && (json_object_set_new(o, "event", json_string("stage")) ||
              json_object_set_new(o, "stage", dp_wire_text(stage)))) {
        json_decref(o);
        o = NULL;
    }
    send_obj(o);
}

/* ------------------------------------------------------------------------ */
/* Stage tracking: a copy of the pipeline whose stages report themselves     */
/* before running, so that the daemon can name the stage of a crash.       */

typedef struct tracked_stage {
    dp_stage desc;          /* a copy of the stage's, with process wrapped */
    const dp_stage *real;
    void *instance;
    int last;
} tracked_stage;

static int tracked_process(void *instance, dp_doc *doc, dp_err *err)
{
    tracked_stage *t = instance;
    send_stage(t->real->name);
    int rc = t->real->process(t->instance, doc, err);
    if (t->last)
        send_stage("output");
    return rc;
}

typedef struct tracked_pipeline {
    dp_pipeline pipeline;
    tracked_stage *tracked;
} tracked_pipeline;

static int track(const dp_pipeline *real, tracked_pipeline *tp)
{
    tp->pipeline.n = real->n;
    tp->pipeline.stages = calloc(real->n ? real->n : 1,
                                 sizeof *tp->pipeline.stages);
    tp->tracked = calloc(real->n ? real->n : 1, sizeof *tp->tracked);
    if (tp->pipeline.stages == NULL || tp->tracked == NULL) {
        free(tp->pipeline.stages);
        free(tp->tracked);
        return -ENOMEM;
    }
    for (size_t i = 0; i < real->n; i++) {
        const dp_pipeline_stage *rs = &real->stages[i];
        tracked_stage *t = &tp->tracked[i];
        size_t n = rs->plugin.stage->struct_size;
        memcpy(&t->desc, rs->plugin.stage, n < sizeof t->desc ? n : sizeof t->desc);
        t->desc.struct_size = sizeof t->desc;
        t->desc.process = tracked_process;
        t->real = rs->plugin.stage;
        t->instance = rs->instance;
        t->last = i + 1 == real->n;
        tp->pipeline.stages[i] = *rs;
        tp->pipeline.stages[i].plugin.stage = &t->desc;
        tp->pipeline.stages[i].instance = t;
    }
    return 0;
}

static void untrack(tracked_pipeline *tp)
{
    free(tp->pipeline.stages);
    free(tp->tracked);
}

/* ------------------------------------------------------------------------ */

static const char *result_name(dp_job_result r)
{
    switch (r) {
    case DP_JOB_DONE: return "done";
    case DP_JOB_FAILED: return "failed";
    case DP_JOB_RETRY: break;
    }
    return "retry";
}

static void send_result(const dp_job *job)
{
    json_t *times = json_array();
    for (size_t i = 0; times && i < job->n_stage_ms; i++)
        if (json_array_append_new(
                times, json_pack("[s,f]", job->stage_ms[i].name,
                                 job->stage_ms[i].ms))) {
            json_decref(times);
            times = NULL;
        }
    /* "o" hands the references to json_pack, even when it fails. */
    json_t *o = json_pack("{s:s,s:s,s:o,s:o,s:I,s:f,s:o}", "event", "result",
                          "result", result_name(job->result), "stage",
                          dp_wire_text(job->stage), "message",
                          dp_wire_text(job->message), "bytes",
                          (json_int_t)job->bytes, "ms", job->ms, "stages",
                          times);
    if (o && dp_wire_set_bytes(o, "out_name", job->out_name) != 0) {
        json_decref(o);
        o = NULL;
    }
    send_obj(o);
}

/* Take fd 0 and 1 for the protocol and point them at /dev/null and stderr,
 * so that a plugin that reads stdin or prints cannot break it. */
static int take_stdio(FILE **in)
{
    int ifd = fcntl(0, F_DUPFD_CLOEXEC, 3);
    int ofd = fcntl(1, F_DUPFD_CLOEXEC, 3);
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (ifd < 0 || ofd < 0 || null < 0 || dup2(null, 0) < 0 ||
        dup2(2, 1) < 0) {
        dp_log(DP_LOG_ERR, "worker: cannot set up its pipes: %s",
               strerror(errno));
        return -1;
    }
    close(null);
    /* libuv gives the child blocking ends, but make sure. */
    fcntl(ifd, F_SETFL, fcntl(ifd, F_GETFL) & ~O_NONBLOCK);
    fcntl(ofd, F_SETFL, fcntl(ofd, F_GETFL) & ~O_NONBLOCK);
    *in = fdopen(ifd, "r");
    if (*in == NULL) {
        dp_log(DP_LOG_ERR, "worker: cannot read its pipe: %s",
               strerror(errno));
        return -1;
    }
    out_fd = ofd;
    return 0;
}

static int parse_request(const char *line, dp_job *job, dp_err *err)
{
    json_error_t jerr;
    json_t *o = json_loads(line, 0, &jerr);
    int rc = 0;
    if (!json_is_object(o)) {
        dp_err_set(err, "bad request: %s", o ? "not an object" : jerr.text);
        rc = -EINVAL;
    } else if (dp_wire_get_bytes(o, "name", job->name, sizeof job->name) ||
               dp_wire_get_bytes(o, "pname", job->pname,
                                 sizeof job->pname) ||
               job->pname[0] == 0 || strchr(job->pname, '/') ||
               strcmp(job->pname, ".") == 0 ||
               strcmp(job->pname, "..") == 0) {
        dp_err_set(err, "bad request: missing or invalid name or pname");
        rc = -EINVAL;
    } else {
        job->recovering = json_is_true(json_object_get(o, "recovering"));
        /* Without the output name the worker reads the outbox itself:
         * slower, never wrong. */
        job->indexed = dp_wire_get_bytes(o, "indexed_output",
                                         job->indexed_output,
                                         sizeof job->indexed_output) == 0;
    }
    json_decref(o);
    return rc;
}

/* The first line: {"config": {...}}. */
static int read_config(FILE *in, const char *config_path, dp_config *cfg,
                       dp_err *err)
{
    char *line = NULL;
    size_t cap = 0;
    if (getline(&line, &cap, in) < 0) {
        free(line);
        dp_err_set(err, "no config came from the daemon");
        return -EINVAL;
    }
    json_error_t jerr;
    json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
    free(line);
    json_t *c = json_object_get(o, "config");
    int rc = -EINVAL;
    if (c == NULL) {
        dp_err_set(err, "the daemon sent no config: %s",
                   o ? "no \"config\" member" : jerr.text);
    } else {
        dp_err inner = {{0}};
        rc = dp_config_from_json(c, cfg, &inner);
        if (rc)
            dp_err_set(err, "%s: %s", config_path, inner.msg);
    }
    json_decref(o);
    return rc;
}

int dp_worker_main(const char *config_path)
{
    pid_t parent = getppid();
    /* Die with the daemon: an orphan must not keep working on a document
     * the next daemon will resume. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        return 0;
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);

    FILE *in = NULL;
    if (take_stdio(&in) != 0)
        return 2;

    dp_config cfg;
    dp_pipeline pipeline;
    tracked_pipeline tp;
    dp_err err = {{0}};
    if (read_config(in, config_path, &cfg, &err) != 0) {
        dp_log(DP_LOG_ERR, "worker: config error: %s", err.msg);
        fclose(in);
        return 2;
    }
    dp_log_set_level(cfg.log_level);
    if (dp_pipeline_load(&pipeline, &cfg, NULL, NULL, &err) != 0) {
        dp_log(DP_LOG_ERR, "worker: config error: %s: %s", config_path,
               err.msg);
        dp_config_free(&cfg);
        fclose(in);
        return 2;
    }
    if (track(&pipeline, &tp) != 0) {
        dp_log(DP_LOG_ERR, "worker: out of memory");
        dp_pipeline_free(&pipeline);
        dp_config_free(&cfg);
        fclose(in);
        return 2;
    }
    send_obj(json_pack("{s:s,s:I}", "event", "ready", "pid",
                       (json_int_t)getpid()));

    char *line = NULL;
    size_t cap = 0;
    int status = 0;
    while (getline(&line, &cap, in) >= 0) {
        dp_job job;
        memset(&job, 0, sizeof job);
        job.cfg = &cfg;
        job.pipeline = &tp.pipeline;
        if (parse_request(line, &job, &err) != 0) {
            /* Not a document we can name: the daemon has a bug. */
            dp_log(DP_LOG_ERR, "worker %ld: %s", (long)getpid(), err.msg);
            status = 2;
            break;
        }
        send_stage("input");
        dp_job_run(&job);
        send_result(&job);
    }
    free(line);
    fclose(in);
    untrack(&tp);
    dp_pipeline_free(&pipeline);
    dp_config_free(&cfg);
    return status;
}
