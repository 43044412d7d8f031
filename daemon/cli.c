/* docproc: the pipeline as a command-line tool. Files given as arguments,
 * or JSON lines on stdin (--jsonl); one result object per line on stdout,
 * in input order. Documents of a batch run in parallel on libuv's pool. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "config.h"
#include "fileio.h"
#include "log.h"
#include "output.h"
#include "pipeline.h"
#include "version.h"

enum { EXIT_DOC_FAILED = 1, EXIT_USAGE = 2 };

/* One document of a batch. */
typedef struct job {
    uv_work_t req;
    const dp_pipeline *pipeline;
    dp_doc *doc;       /* NULL when the input was already bad */
    json_t *id;        /* output id */
    char *name;
    char *error;       /* input error, or the stage's error after work */
    const char *error_stage;
    dp_membuf out;
} job;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: docproc [--config F] [--stages a,b,...] "
            "[--set STAGE.KEY=VALUE]... FILE...\n"
            "       docproc --jsonl [--config F] [--stages ...] [--set ...] "
            "< lines\n"
            "\n"
            "Runs the docproc pipeline and writes one JSON result per line.\n"
            "  --config F        config file (default: %s)\n"
            "  --stages a,b      run only these configured stages, in "
            "configured order\n"
            "  --set S.K=V       override option K of stage S (V parsed as "
            "JSON, else a string)\n"
            "  --jsonl           read {\"id\":...,\"text\":...} lines from "
            "stdin\n"
            "  --help, --version\n"
            "Exit status: 0 all fine, 1 some documents failed, 2 usage or "
            "config error.\n",
            dp_config_default_path());
}

static int parse_set(json_t *overrides, const char *arg)
{
    const char *dot = strchr(arg, '.');
    const char *eq = dot ? strchr(dot, '=') : NULL;
    if (dot == NULL || eq == NULL || dot == arg || eq == dot + 1)
        return -EINVAL;
    char stage[128], key[128];
    if ((size_t)(dot - arg) >= sizeof stage ||
        (size_t)(eq - dot - 1) >= sizeof key)
        return -EINVAL;
    memcpy(stage, arg, (size_t)(dot - arg));
    stage[dot - arg] = 0;
    memcpy(key, dot + 1, (size_t)(eq - dot - 1));
    key[eq - dot - 1] = 0;
    json_t *v = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
    if (v == NULL)
        v = json_string(eq + 1);
    json_t *obj = json_object_get(overrides, stage);
    if (obj == NULL) {
        obj = json_object();
        json_object_set_new(overrides, stage, obj);
    }
    return json_object_set_new(obj, key, v) == 0 ? 0 : -ENOMEM;
}

static char **split_stages(const char *arg)
{
    size_t n = 1;
    for (const char *p = arg; *p; p++)
        n += *p == ',';
    char **list = calloc(n + 1, sizeof *list);
    char *copy = strdup(arg);
    if (list == NULL || copy == NULL) {
        free(list);
        free(copy);
        return NULL;
    }
    size_t i = 0;
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save))
        list[i++] = strdup(tok);
    free(copy);
    return list;
}

static void free_list(char **list)
{
    for (size_t i = 0; list && list[i]; i++)
        free(list[i]);
    free(list);
}

static void work_cb(uv_work_t *req)
{
    job *j = req->data;
    dp_err err = {{0}};
    if (j->doc == NULL)
        return;
    if (dp_pipeline_run(j->pipeline, j->doc, &j->error_stage, &err) != 0) {
        j->error = strdup(err.msg);
        return;
    }
    if (dp_output_write(j->doc, dp_sink_membuf, &j->out) != 0) {
        j->error_stage = "output";
        j->error = strdup("cannot write the output");
    }
}

static void after_work_cb(uv_work_t *req, int status)
{
    (void)req;
    (void)status;
}

/* Run a batch in parallel and print it in order. Returns how many failed. */
static size_t run_batch(uv_loop_t *loop, job *jobs, size_t n)
{
    size_t failed = 0;
    for (size_t i = 0; i < n; i++) {
        jobs[i].req.data = &jobs[i];
        if (jobs[i].doc)
            uv_queue_work(loop, &jobs[i].req, work_cb, after_work_cb);
    }
    uv_run(loop, UV_RUN_DEFAULT);
    for (size_t i = 0; i < n; i++) {
        job *j = &jobs[i];
        if (j->error || j->error_stage) {
            failed++;
            dp_log(DP_LOG_ERR, "%s: %s: %s", j->name,
                   j->error_stage ? j->error_stage : "input",
                   j->error ? j->error : "out of memory");
            dp_output_write_error(j->id, j->name,
                                  j->error_stage ? j->error_stage : "input",
                                  j->error ? j->error : "out of memory",
                                  dp_sink_file, stdout);
        } else {
            fwrite(j->out.data, 1, j->out.len, stdout);
        }
        fputc('\n', stdout);
        dp_doc_free(j->doc);
        json_decref(j->id);
        free(j->name);
        free(j->error);
        dp_membuf_free(&j->out);
        memset(j, 0, sizeof *j);
    }
    fflush(stdout);
    return failed;
}

#define BATCH_DOCS 256
#define BATCH_BYTES (16u << 20)

static int run_files(uv_loop_t *loop, const dp_pipeline *p,
                     const dp_config *cfg, char **files, int nfiles)
{
    job *jobs = calloc(BATCH_DOCS, sizeof *jobs);
    size_t n = 0, bytes = 0, failed = 0;
    if (jobs == NULL)
        return EXIT_USAGE;
    for (int i = 0; i < nfiles; i++) {
        job *j = &jobs[n++];
        const char *base = strrchr(files[i], '/');
        j->pipeline = p;
        j->name = strdup(base ? base + 1 : files[i]);
        j->id = json_string(files[i]);
        unsigned char *data;
        size_t len;
        dp_err err = {{0}};
        if (dp_read_file(files[i], 0, cfg->max_bytes, &data, &len, &err)) {
            j->error_stage = "input";
            j->error = strdup(err.msg);
        } else {
            j->doc = dp_doc_new(j->name, j->id, data, len);
            free(data);
            if (j->doc == NULL)
                j->error_stage = "input";
            bytes += len;
        }
        if (n == BATCH_DOCS || bytes >= BATCH_BYTES || i == nfiles - 1) {
            failed += run_batch(loop, jobs, n);
            n = 0;
            bytes = 0;
        }
    }
    free(jobs);
    return failed ? EXIT_DOC_FAILED : 0;
}

static int run_jsonl(uv_loop_t *loop, const dp_pipeline *p,
                     const dp_config *cfg)
{
    job *jobs = calloc(BATCH_DOCS, sizeof *jobs);
    size_t n = 0, bytes = 0, failed = 0, lineno = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    if (jobs == NULL)
        return EXIT_USAGE;
    for (;;) {
        len = getline(&line, &cap, stdin);
        if (len < 0)
            break;
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        if (len == 0)
            continue;
        job *j = &jobs[n++];
        char msg[600];
        j->pipeline = p;
        json_error_t je;
        json_t *o = json_loadb(line, (size_t)len, 0, &je);
        json_t *text = json_object_get(o, "text");
        json_t *id = json_object_get(o, "id");
        j->id = id ? json_incref(id) : json_integer((json_int_t)lineno);
        char name[64];
        if (json_is_string(id))
            snprintf(name, sizeof name, "%.60s", json_string_value(id));
        else
            snprintf(name, sizeof name, "line %zu", lineno);
        j->name = strdup(name);
        j->error_stage = "input";
        if (o == NULL) {
            snprintf(msg, sizeof msg, "line %zu: not JSON: %s", lineno,
                     je.text);
            j->error = strdup(msg);
        } else if (!json_is_string(text)) {
            snprintf(msg, sizeof msg,
                     "line %zu: expected an object with a string \"text\"",
                     lineno);
            j->error = strdup(msg);
        } else if (json_string_length(text) > cfg->max_bytes) {
            snprintf(msg, sizeof msg, "line %zu: text larger than %llu bytes",
                     lineno, (unsigned long long)cfg->max_bytes);
            j->error = strdup(msg);
        } else {
            j->doc = dp_doc_new(j->name, j->id, json_string_value(text),
                                json_string_length(text));
            if (j->doc)
                j->error_stage = NULL;
            bytes += json_string_length(text);
        }
        json_decref(o);
        if (n == BATCH_DOCS || bytes >= BATCH_BYTES) {
            failed += run_batch(loop, jobs, n);
            n = 0;
            bytes = 0;
        }
    }
    if (n)
        failed += run_batch(loop, jobs, n);
    free(line);
    free(jobs);
    return failed ? EXIT_DOC_FAILED : 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"stages", required_argument, NULL, 's'},
        {"set", required_argument, NULL, 'S'},
        {"jsonl", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    const char *config_path = NULL;
    char **only = NULL;
    int jsonl = 0, c, rc = EXIT_USAGE;
    json_t *overrides = json_object();
    if (overrides == NULL)
        return EXIT_USAGE;
    while ((c = getopt_long(argc, argv, "c:s:S:jhV", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config_path = optarg; break;
        case 's':
            free_list(only);
            only = split_stages(optarg);
            break;
        case 'S':
            if (parse_set(overrides, optarg) != 0) {
                fprintf(stderr,
                        "docproc: --set %s: expected STAGE.KEY=VALUE\n",
                        optarg);
                goto out;
            }
            break;
        case 'j': jsonl = 1; break;
        case 'h':
            usage(stdout);
            rc = 0;
            goto out;
        case 'V':
            printf("docproc %s (stage interface %d.%d)\n", DP_VERSION,
                   DP_ABI_MAJOR, DP_ABI_MINOR);
            rc = 0;
            goto out;
        default: usage(stderr); goto out;
        }
    }
    if (!jsonl && optind >= argc) {
        fprintf(stderr, "docproc: no input files (or use --jsonl)\n");
        usage(stderr);
        goto out;
    }
    if (jsonl && optind < argc) {
        fprintf(stderr, "docproc: --jsonl reads stdin; no files expected\n");
        goto out;
    }

    dp_config cfg;
    dp_err err = {{0}};
    if (config_path == NULL)
        config_path = dp_config_default_path();
    if (dp_config_load(config_path, &cfg, &err) != 0) {
        fprintf(stderr, "docproc: config error: %s\n", err.msg);
        goto out;
    }
    dp_log_set_level(cfg.log_level < DP_LOG_WARNING ? cfg.log_level
                                                    : DP_LOG_WARNING);
    dp_pipeline p;
    if (dp_pipeline_load(&p, &cfg, (const char *const *)only, overrides,
                         &err) != 0) {
        fprintf(stderr, "docproc: %s\n", err.msg);
        dp_config_free(&cfg);
        goto out;
    }
    char threads[16];
    snprintf(threads, sizeof threads, "%u", uv_available_parallelism());
    if (getenv("UV_THREADPOOL_SIZE") == NULL)
        setenv("UV_THREADPOOL_SIZE", threads, 1);
    uv_loop_t loop;
    uv_loop_init(&loop);
    rc = jsonl ? run_jsonl(&loop, &p, &cfg)
               : run_files(&loop, &p, &cfg, argv + optind, argc - optind);
    uv_loop_close(&loop);
    dp_pipeline_free(&p);
    dp_config_free(&cfg);
out:
    free_list(only);
    json_decref(overrides);
    return rc;
}
