/* dp-stagebench: time each stage of the pipeline alone, single-threaded, on
 * a JSONL corpus ({"id","text"} per line), beside memchr and memcpy over the
 * same bytes (the ceiling of any pass over the text).
 *
 *   dp-stagebench [--config F] [--stages a,b,c] [--runs N] CORPUS.jsonl
 *
 * The pipeline is loaded through the core library exactly as docproc loads
 * it. Every document runs through all the listed stages in one thread; the
 * time of each stage is the host's own record of its process() call (the
 * "stages" list of the output). The JSON output writer is timed too.
 * Prints one JSON object on stdout:
 *   {"docs": D, "bytes": B, "stages": [...], "failed": F, "first_error": "..",
 *    "runs": [{"memchr": s, "copy": s, "<stage>": s, ..., "output": s}],
 *    "maxrss_kb": K}
 * Exit status: 0 ok, 1 some documents failed, 2 usage or load error. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <jansson.h>
#include <uv.h>

#include "config.h"
#include "doc.h"
#include "log.h"
#include "output.h"
#include "pipeline.h"

typedef struct corpus {
    char **text;
    size_t *len;
    size_t n, cap, bytes, max_len;
} corpus;

static int corpus_load(corpus *c, const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "dp-stagebench: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    while ((len = getline(&line, &cap, f)) > 0) {
        json_error_t je;
        json_t *o = json_loadb(line, (size_t)len, 0, &je);
        json_t *t = json_object_get(o, "text");
        if (!json_is_string(t)) {
            json_decref(o);
            continue;
        }
        if (c->n == c->cap) {
            size_t nc = c->cap ? c->cap * 2 : 1024;
            char **nt = realloc(c->text, nc * sizeof *nt);
            if (nt == NULL) {
                json_decref(o);
                rc = -1;
                break;
            }
            c->text = nt;
            size_t *nl = realloc(c->len, nc * sizeof *nl);
            if (nl == NULL) {
                json_decref(o);
                rc = -1;
                break;
            }
            c->len = nl;
            c->cap = nc;
        }
        size_t l = json_string_length(t);
        char *copy = malloc(l + 1);
        if (copy == NULL) {
            json_decref(o);
            rc = -1;
            break;
        }
        memcpy(copy, json_string_value(t), l + 1);
        c->text[c->n] = copy;
        c->len[c->n++] = l;
        c->bytes += l;
        if (l > c->max_len)
            c->max_len = l;
        json_decref(o);
    }
    free(line);
    fclose(f);
    if (rc)
        fprintf(stderr, "dp-stagebench: out of memory reading %s\n", path);
    return rc;
}

static char **split_list(const char *arg)
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
         tok = strtok_r(NULL, ",", &save)) {
        if ((list[i] = strdup(tok)) == NULL)
            break;
        i++;
    }
    free(copy);
    return list;
}

static void free_list(char **list)
{
    for (size_t i = 0; list && list[i]; i++)
        free(list[i]);
    free(list);
}

static double secs(uint64_t ns) { return (double)ns / 1e9; }

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"stages", required_argument, NULL, 's'},
        {"runs", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0}};
    const char *config_path = NULL;
    char **only = NULL;
    int runs = 3, c, rc = 2;
    while ((c = getopt_long(argc, argv, "c:s:r:", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config_path = optarg; break;
        case 's':
            free_list(only);
            if ((only = split_list(optarg)) == NULL)
                return 2;
            break;
        case 'r': runs = atoi(optarg); break;
        default: goto usage;
        }
    }
    if (optind != argc - 1 || runs < 1 || runs > 1000)
        goto usage;

    corpus cp = {0};
    if (corpus_load(&cp, argv[optind]) != 0 || cp.n == 0) {
        if (cp.n == 0)
            fprintf(stderr, "dp-stagebench: no documents in %s\n",
                    argv[optind]);
        free_list(only);
        return 2;
    }

    dp_config cfg;
    dp_err err = {{0}};
    if (config_path == NULL)
        config_path = dp_config_default_path();
    if (dp_config_load(config_path, &cfg, &err) != 0) {
        fprintf(stderr, "dp-stagebench: config error: %s\n", err.msg);
        free_list(only);
        return 2;
    }
    dp_log_set_level(DP_LOG_WARNING);
    dp_pipeline p;
    if (dp_pipeline_load(&p, &cfg, (const char *const *)only, NULL, &err)) {
        fprintf(stderr, "dp-stagebench: %s\n", err.msg);
        dp_config_free(&cfg);
        free_list(only);
        return 2;
    }

    char *scratch = malloc(cp.max_len + 1);
    double *stage_s = calloc(p.n + 1, sizeof *stage_s);
    json_t *out = json_object();
    json_t *jruns = json_array();
    json_t *jstages = json_array();
    if (scratch == NULL || stage_s == NULL || out == NULL || jruns == NULL ||
        jstages == NULL) {
        fprintf(stderr, "dp-stagebench: out of memory\n");
        goto done;
    }
    for (size_t s = 0; s < p.n; s++)
        json_array_append_new(jstages,
                              json_string(p.stages[s].plugin.stage->name));

    size_t failed = 0;
    char first_error[600] = "";
    volatile size_t sink = 0;
    for (int r = 0; r < runs; r++) {
        json_t *jr = json_object();
        if (jr == NULL)
            goto done;
        /* Ceilings: one pass over the same bytes, document by document. */
        uint64_t t0 = uv_hrtime();
        for (size_t i = 0; i < cp.n; i++) {
            /* No NUL inside a JSON string's text: memchr scans it all. */
            const char *hit = memchr(cp.text[i], 0, cp.len[i]);
            sink += hit ? (size_t)(hit - cp.text[i]) : 0;
        }
        uint64_t t1 = uv_hrtime();
        for (size_t i = 0; i < cp.n; i++) {
            memcpy(scratch, cp.text[i], cp.len[i]);
            sink += (unsigned char)scratch[cp.len[i] / 2];
        }
        uint64_t t2 = uv_hrtime();
        json_object_set_new(jr, "memchr", json_real(secs(t1 - t0)));
        json_object_set_new(jr, "copy", json_real(secs(t2 - t1)));

        memset(stage_s, 0, (p.n + 1) * sizeof *stage_s);
        double output_s = 0;
        for (size_t i = 0; i < cp.n; i++) {
            char name[32];
            snprintf(name, sizeof name, "doc%zu", i);
            dp_doc *doc = dp_doc_new(name, NULL, cp.text[i], cp.len[i]);
            if (doc == NULL) {
                fprintf(stderr, "dp-stagebench: out of memory\n");
                json_decref(jr);
                goto done;
            }
            const char *fs = NULL;
            dp_err e = {{0}};
            if (dp_pipeline_run(&p, doc, &fs, &e) != 0) {
                if (r == 0) {
                    failed++;
                    if (!first_error[0])
                        snprintf(first_error, sizeof first_error,
                                 "%s: %s: %s", name, fs ? fs : "?", e.msg);
                }
            }
            for (size_t k = 0; k < dp_doc_n_stage_recs(doc); k++) {
                const dp_doc_stage_rec *rec = dp_doc_get_stage_rec(doc, k);
                for (size_t s = 0; s < p.n; s++)
                    if (strcmp(rec->name, p.stages[s].plugin.stage->name) ==
                        0)
                        stage_s[s] += rec->ms / 1e3;
            }
            if (dp_doc_has_text(doc)) {
                dp_membuf mb = {0};
                uint64_t o0 = uv_hrtime();
                if (dp_output_write(doc, dp_sink_membuf, &mb) == 0)
                    sink += mb.len;
                output_s += secs(uv_hrtime() - o0);
                dp_membuf_free(&mb);
            }
            dp_doc_free(doc);
        }
        for (size_t s = 0; s < p.n; s++)
            json_object_set_new(jr, p.stages[s].plugin.stage->name,
                                json_real(stage_s[s]));
        json_object_set_new(jr, "output", json_real(output_s));
        json_array_append_new(jruns, jr);
    }
    (void)sink;

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    json_object_set_new(out, "docs", json_integer((json_int_t)cp.n));
    json_object_set_new(out, "bytes", json_integer((json_int_t)cp.bytes));
    json_object_set(out, "stages", jstages);
    json_object_set(out, "runs", jruns);
    json_object_set_new(out, "failed", json_integer((json_int_t)failed));
    if (first_error[0])
        json_object_set_new(out, "first_error", json_string(first_error));
    json_object_set_new(out, "maxrss_kb", json_integer(ru.ru_maxrss));
    char *s = json_dumps(out, JSON_COMPACT);
    if (s) {
        puts(s);
        free(s);
        rc = failed ? 1 : 0;
    }
done:
    json_decref(out);
    json_decref(jruns);
    json_decref(jstages);
    free(stage_s);
    free(scratch);
    for (size_t i = 0; i < cp.n; i++)
        free(cp.text[i]);
    free(cp.text);
    free(cp.len);
    dp_pipeline_free(&p);
    dp_config_free(&cfg);
    free_list(only);
    return rc;
usage:
    fprintf(stderr, "usage: dp-stagebench [--config F] [--stages a,b] "
                    "[--runs N] CORPUS.jsonl\n");
    free_list(only);
    return 2;
}
