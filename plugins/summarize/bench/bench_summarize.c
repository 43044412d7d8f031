/* bench_summarize: time of the summarize stage against document size.
 *
 *   bench_summarize [--segment NAME_OR_PATH] CORPUS.jsonl [MB]
 *
 * Builds a document of MB megabytes (default 10) and one of MB/10 from the
 * "text" members of CORPUS.jsonl (news articles, e.g. the BBC dev set),
 * repeated and joined by blank lines, runs the segmenter then summarize on
 * one thread, and prints the summarize stage's time, its throughput and the
 * ratio of the two times (linear cost: about 10). The segmenter is the
 * tests' testseg plugin unless --segment names another stage (e.g.
 * "segment"); only summarize's own time is measured.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "doc.h"
#include "pipeline.h"
#include "config.h"

static char *corpus(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    char *line = NULL;
    size_t lcap = 0;
    while (buf && getline(&line, &lcap, f) > 0) {
        json_t *o = json_loads(line, 0, NULL);
        const char *t = json_string_value(json_object_get(o, "text"));
        size_t tl = t ? strlen(t) : 0;
        if (tl) {
            while (n + tl + 3 > cap) {
                char *b = realloc(buf, cap * 2);
                if (b == NULL) {
                    free(buf);
                    buf = NULL;
                    break;
                }
                buf = b;
                cap *= 2;
            }
            if (buf) {
                memcpy(buf + n, t, tl);
                memcpy(buf + n + tl, "\n\n", 2);
                n += tl + 2;
            }
        }
        json_decref(o);
    }
    free(line);
    fclose(f);
    *len = n;
    return buf;
}

static char *repeat(const char *src, size_t srclen, size_t want)
{
    char *d = malloc(want + 1);
    if (d == NULL)
        return NULL;
    size_t n = 0;
    while (n < want) {
        size_t c = srclen < want - n ? srclen : want - n;
        memcpy(d + n, src, c);
        n += c;
    }
    /* cut at the last paragraph break so no sentence is torn */
    while (n > 2 && !(d[n - 1] == '\n' && d[n - 2] == '\n'))
        n--;
    d[n] = 0;
    return d;
}

static double run_once(const dp_pipeline *p, const char *text, size_t len)
{
    dp_doc *doc = dp_doc_new("bench.txt", NULL, text, len);
    dp_err err = {{0}};
    const char *failed = NULL;
    if (doc == NULL || dp_pipeline_run(p, doc, &failed, &err) != 0) {
        fprintf(stderr, "bench: run failed (%s): %s\n",
                failed ? failed : "?", err.msg);
        exit(1);
    }
    double ms = -1;
    for (size_t i = 0; i < dp_doc_n_stage_recs(doc); i++) {
        const dp_doc_stage_rec *r = dp_doc_get_stage_rec(doc, i);
        if (strcmp(r->name, "summarize") == 0)
            ms = r->ms;
    }
    dp_doc_free(doc);
    return ms;
}

int main(int argc, char **argv)
{
    const char *seg = NULL;
    int a = 1;
    if (argc > 2 && strcmp(argv[1], "--segment") == 0) {
        seg = argv[2];
        a = 3;
    }
    if (argc - a < 1) {
        fprintf(stderr, "usage: bench_summarize [--segment S] CORPUS.jsonl [MB]\n");
        return 2;
    }
    double mb = argc - a > 1 ? atof(argv[a + 1]) : 10;
    size_t clen;
    char *src = corpus(argv[a], &clen);
    if (src == NULL || clen == 0) {
        fprintf(stderr, "bench: cannot read %s\n", argv[a]);
        return 1;
    }
    char stages[2048];
    if (seg && strchr(seg, '/'))
        snprintf(stages, sizeof stages,
                 "{\"plugin_dir\": \"%s\", \"stages\": [{\"name\": \"segment\","
                 " \"plugin\": \"%s\"}, {\"name\": \"summarize\"}]}",
                 SZ_PLUGIN_DIR, seg);
    else if (seg)
        snprintf(stages, sizeof stages,
                 "{\"plugin_dir\": \"%s\", \"stages\": [{\"name\": \"%s\"},"
                 " {\"name\": \"summarize\"}]}", SZ_PLUGIN_DIR, seg);
    else
        snprintf(stages, sizeof stages,
                 "{\"plugin_dir\": \"%s\", \"stages\": [{\"name\": \"testseg\","
                 " \"plugin\": \"%s/summarize/tests/testseg.so\"},"
                 " {\"name\": \"summarize\"}]}", SZ_PLUGIN_DIR, SZ_PLUGIN_DIR);
    json_t *root = json_loads(stages, 0, NULL);
    dp_config cfg;
    dp_err err = {{0}};
    if (root == NULL || dp_config_from_json(root, &cfg, &err) != 0) {
        fprintf(stderr, "bench: config: %s\n", err.msg);
        return 1;
    }
    json_decref(root);
    dp_pipeline p;
    if (dp_pipeline_load(&p, &cfg, NULL, NULL, &err) != 0) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    size_t big = (size_t)(mb * 1e6), small = big / 10;
    char *ts = repeat(src, clen, small), *tb = repeat(src, clen, big);
    if (ts == NULL || tb == NULL) {
        fprintf(stderr, "bench: out of memory\n");
        return 1;
    }
    size_t ls = strlen(ts), lb = strlen(tb);
    run_once(&p, ts, ls); /* warm up */
    double best_s = 1e30, best_b = 1e30;
    for (int i = 0; i < 3; i++) {
        double t = run_once(&p, ts, ls);
        if (t < best_s)
            best_s = t;
    }
    for (int i = 0; i < 2; i++) {
        double t = run_once(&p, tb, lb);
        if (t < best_b)
            best_b = t;
    }
    printf("size %8.2f MB: summarize %9.1f ms  %6.1f MB/s\n", ls / 1e6,
           best_s, ls / 1e3 / best_s);
    printf("size %8.2f MB: summarize %9.1f ms  %6.1f MB/s\n", lb / 1e6,
           best_b, lb / 1e3 / best_b);
    printf("time ratio for %.1fx the input: %.2f\n", (double)lb / ls,
           best_b / best_s);
    free(ts);
    free(tb);
    free(src);
    dp_pipeline_free(&p);
    dp_config_free(&cfg);
    return 0;
}
