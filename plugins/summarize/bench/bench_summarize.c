/* bench_summarize: time of the summarize stage against document size.
 *
 *   bench_summarize [--plugin SUMMARIZE.so] [--segment NAME_OR_PATH]
 *                   CORPUS.jsonl [MB]
 *   bench_summarize [--plugin SUMMARIZE.so] --articles CORPUS.jsonl
 *
 * Builds a document of MB megabytes (default 10) and one of MB/10 from the
 * "text" members of CORPUS.jsonl (news articles, e.g. the BBC dev set),
 * repeated and joined by blank lines, runs the segmenter then summarize on
 * one thread, and prints the summarize stage's time, its throughput and the
 * ratio of the two times (linear cost: about 10). The segmenter is the
 * tests' testseg plugin unless --segment names another stage (e.g.
 * "segment"); only summarize's own time is counted: the thread CPU time of
 * segmenter+summarize minus that of the segmenter alone (CPU time, so that
 * other processes on the machine do not skew it), best of 3.
 *
 * --plugin takes summarize from another build, to compare two versions in
 * the same conditions.
 *
 * --articles runs every line of CORPUS as a document of its own through
 * clean, segment, entities and summarize (the daemon's default pipeline)
 * and prints the thread CPU time of summarize's
 * process() calls summed over the corpus: the median of 5 passes, and all
 * of them. Per-document costs (allocation, set-up) show here, which the
 * large documents above hide.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* CPU time of one run of the pipeline on text. */
static double run_once(const dp_pipeline *p, const char *text, size_t len)
{
    dp_doc *doc = dp_doc_new("bench.txt", NULL, text, len);
    dp_err err = {{0}};
    const char *failed = NULL;
    double t0 = cpu_ms();
    if (doc == NULL || dp_pipeline_run(p, doc, &failed, &err) != 0) {
        fprintf(stderr, "bench: run failed (%s): %s\n",
                failed ? failed : "?", err.msg);
        exit(1);
    }
    double t = cpu_ms() - t0;
    dp_doc_free(doc);
    return t;
}

static int load(dp_pipeline *p, dp_config *cfg, const char *seg,
                const char *plugin, int with_sum)
{
    char stages[4096], sum[2048] = "";
    if (with_sum)
        snprintf(sum, sizeof sum, ", {\"name\": \"summarize\"%s%s%s}",
                 plugin ? ", \"plugin\": \"" : "", plugin ? plugin : "",
                 plugin ? "\"" : "");
    if (seg && strchr(seg, '/'))
        snprintf(stages, sizeof stages,
                 "{\"plugin_dir\": \"%s\", \"stages\": [{\"name\": \"segment\","
                 " \"plugin\": \"%s\"}%s]}", SZ_PLUGIN_DIR, seg, sum);
    else if (seg)
        snprintf(stages, sizeof stages,
                 "{\"plugin_dir\": \"%s\", \"stages\": [{\"name\": \"%s\"}%s]}",
                 SZ_PLUGIN_DIR, seg, sum);
    else
        snprintf(stages, sizeof stages,
                 "{\"plugin_dir\": \"%s\", \"stages\": [{\"name\": \"testseg\","
                 " \"plugin\": \"%s/summarize/tests/testseg.so\"}%s]}",
                 SZ_PLUGIN_DIR, SZ_PLUGIN_DIR, sum);
    json_t *root = json_loads(stages, 0, NULL);
    dp_err err = {{0}};
    if (root == NULL || dp_config_from_json(root, cfg, &err) != 0) {
        fprintf(stderr, "bench: config: %s\n", err.msg);
        return -1;
    }
    json_decref(root);
    if (dp_pipeline_load(p, cfg, NULL, NULL, &err) != 0) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return -1;
    }
    return 0;
}

/* summarize's own CPU time on text: best of 3 (both pipelines). */
static double measure(const dp_pipeline *seg, const dp_pipeline *both,
                      const char *text, size_t len)
{
    double bs = 1e30, bb = 1e30;
    for (int i = 0; i < 3; i++) {
        double a = run_once(seg, text, len), b = run_once(both, text, len);
        if (a < bs)
            bs = a;
        if (b < bb)
            bb = b;
    }
    return bb - bs;
}

static int articles(const char *path, const char *plugin)
{
    char conf[4096];
    snprintf(conf, sizeof conf,
             "{\"plugin_dir\": \"%s\", \"stages\": [{\"name\": \"clean\"},"
             " {\"name\": \"segment\"}, {\"name\": \"entities\"},"
             " {\"name\": \"summarize\"%s%s%s}]}",
             SZ_PLUGIN_DIR, plugin ? ", \"plugin\": \"" : "",
             plugin ? plugin : "", plugin ? "\"" : "");
    json_t *root = json_loads(conf, 0, NULL);
    dp_config cfg;
    dp_pipeline p;
    dp_err err = {{0}};
    if (root == NULL || dp_config_from_json(root, &cfg, &err) != 0 ||
        dp_pipeline_load(&p, &cfg, NULL, NULL, &err) != 0) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    json_decref(root);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "bench: cannot read %s\n", path);
        return 1;
    }
    size_t n = 0, cap = 0, bytes = 0;
    char **texts = NULL;
    char *line = NULL;
    size_t lcap = 0;
    while (getline(&line, &lcap, f) > 0) {
        json_t *o = json_loads(line, 0, NULL);
        const char *t = json_string_value(json_object_get(o, "text"));
        if (t) {
            if (n == cap) {
                cap = cap ? cap * 2 : 1024;
                char **nt = realloc(texts, cap * sizeof *nt);
                if (nt == NULL)
                    return 1;
                texts = nt;
            }
            if ((texts[n] = strdup(t)) == NULL)
                return 1;
            bytes += strlen(t);
            n++;
        }
        json_decref(o);
    }
    free(line);
    fclose(f);
    enum { PASSES = 5 };
    double pass[PASSES];
    for (int r = 0; r < PASSES; r++) {
        pass[r] = 0;
        for (size_t i = 0; i < n; i++) {
            dp_doc *doc = dp_doc_new("bench.txt", NULL, texts[i],
                                     strlen(texts[i]));
            if (doc == NULL)
                return 1;
            for (size_t s = 0; s < p.n; s++) {
                const dp_pipeline_stage *ps = &p.stages[s];
                double t0 = cpu_ms();
                int rc = ps->plugin.stage->process(ps->instance, doc, &err);
                if (s + 1 == p.n)
                    pass[r] += cpu_ms() - t0;
                if (rc != 0) {
                    fprintf(stderr, "bench: %s: %s\n",
                            ps->plugin.stage->name, err.msg);
                    return 1;
                }
            }
            dp_doc_free(doc);
        }
    }
    double sorted[PASSES];
    memcpy(sorted, pass, sizeof pass);
    for (int i = 1; i < PASSES; i++)
        for (int j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
            double t = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = t;
        }
    double med = sorted[PASSES / 2];
    printf("%zu documents, %.2f MB: summarize %.1f ms  %.1f MB/s (passes:",
           n, bytes / 1e6, med, bytes / 1e3 / med);
    for (int r = 0; r < PASSES; r++)
        printf(" %.1f", pass[r]);
    printf(")\n");
    for (size_t i = 0; i < n; i++)
        free(texts[i]);
    free(texts);
    dp_pipeline_free(&p);
    dp_config_free(&cfg);
    return 0;
}

int main(int argc, char **argv)
{
    const char *seg = NULL, *plugin = NULL;
    int a = 1, per_article = 0;
    for (;;) {
        if (argc - a > 1 && strcmp(argv[a], "--plugin") == 0) {
            plugin = argv[a + 1];
            a += 2;
        } else if (argc - a > 1 && strcmp(argv[a], "--segment") == 0) {
            seg = argv[a + 1];
            a += 2;
        } else if (argc - a > 0 && strcmp(argv[a], "--articles") == 0) {
            per_article = 1;
            a++;
        } else {
            break;
        }
    }
    if (per_article && argc - a >= 1)
        return articles(argv[a], plugin);
    if (argc - a < 1) {
        fprintf(stderr, "usage: bench_summarize [--plugin P] [--segment S] "
                        "CORPUS.jsonl [MB]\n"
                        "       bench_summarize [--plugin P] --articles "
                        "CORPUS.jsonl\n");
        return 2;
    }
    double mb = argc - a > 1 ? atof(argv[a + 1]) : 10;
    size_t clen;
    char *src = corpus(argv[a], &clen);
    if (src == NULL || clen == 0) {
        fprintf(stderr, "bench: cannot read %s\n", argv[a]);
        return 1;
    }
    dp_config cfg1, cfg2;
    dp_pipeline p1, p2;
    if (load(&p1, &cfg1, seg, NULL, 0) || load(&p2, &cfg2, seg, plugin, 1))
        return 1;
    size_t big = (size_t)(mb * 1e6), small = big / 10;
    char *ts = repeat(src, clen, small), *tb = repeat(src, clen, big);
    if (ts == NULL || tb == NULL) {
        fprintf(stderr, "bench: out of memory\n");
        return 1;
    }
    size_t ls = strlen(ts), lb = strlen(tb);
    run_once(&p2, ts, ls); /* warm up */
    double best_s = measure(&p1, &p2, ts, ls);
    double best_b = measure(&p1, &p2, tb, lb);
    printf("size %8.2f MB: summarize %9.1f ms  %6.1f MB/s\n", ls / 1e6,
           best_s, ls / 1e3 / best_s);
    printf("size %8.2f MB: summarize %9.1f ms  %6.1f MB/s\n", lb / 1e6,
           best_b, lb / 1e3 / best_b);
    printf("time ratio for %.1fx the input: %.2f\n", (double)lb / ls,
           best_b / best_s);
    free(ts);
    free(tb);
    free(src);
    dp_pipeline_free(&p1);
    dp_pipeline_free(&p2);
    dp_config_free(&cfg1);
    dp_config_free(&cfg2);
    return 0;
}
