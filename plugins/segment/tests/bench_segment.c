/* bench_segment: the segment algorithm alone (tokens + sentences), single
 * thread, on the texts of a JSONL corpus ({"id","text"} per line), without
 * the host's annotate calls. Prints MB/s (CPU time of this thread) and the
 * token and sentence counts; compare with bench/run for the stage through
 * the host.
 *
 *   bench_segment DATA_DIR CORPUS.jsonl [RUNS]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "../segment.h"

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static wordset *load(const char *dir, const char *what)
{
    char path[4096], msg[256];
    snprintf(path, sizeof path, "%s/%s.en.txt", dir, what);
    wordset *ws = wordset_new();
    if (ws == NULL || wordset_load(ws, path, msg, sizeof msg)) {
        fprintf(stderr, "bench_segment: %s\n", msg);
        exit(2);
    }
    return ws;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_segment DATA_DIR CORPUS.jsonl [RUNS]\n");
        return 2;
    }
    seg_lang lang = {load(argv[1], "abbrev"), load(argv[1], "starters"),
                     load(argv[1], "closings"), load(argv[1], "greetings")};
    int runs = argc > 3 ? atoi(argv[3]) : 3;
    FILE *f = fopen(argv[2], "r");
    if (f == NULL) {
        perror(argv[2]);
        return 2;
    }
    char **texts = NULL, *line = NULL;
    size_t *lens = NULL, n = 0, cap = 0, lcap = 0, bytes = 0;
    ssize_t l;
    while ((l = getline(&line, &lcap, f)) > 0) {
        json_t *o = json_loadb(line, (size_t)l, 0, NULL);
        const char *t = json_string_value(json_object_get(o, "text"));
        if (t) {
            if (n == cap) {
                cap = cap ? cap * 2 : 1024;
                texts = realloc(texts, cap * sizeof *texts);
                lens = realloc(lens, cap * sizeof *lens);
                if (texts == NULL || lens == NULL)
                    return 2;
            }
            lens[n] = strlen(t);
            texts[n] = strdup(t);
            bytes += lens[n++];
        }
        json_decref(o);
    }
    free(line);
    fclose(f);
    for (int r = 0; r < runs; r++) {
        size_t ntok = 0, nsent = 0;
        double t0 = cpu_now();
        for (size_t i = 0; i < n; i++) {
            seg_toks toks = {0};
            if (seg_tokenize(&lang, texts[i], lens[i], &toks))
                return 1;
            uint8_t *ends = malloc(toks.n + 1);
            if (ends == NULL ||
                seg_sentences(&lang, texts[i], lens[i], &toks, ends))
                return 1;
            for (size_t k = 0; k < toks.n; k++)
                nsent += ends[k];
            ntok += toks.n;
            free(ends);
            seg_toks_free(&toks);
        }
        double s = cpu_now() - t0;
        printf("{\"docs\":%zu,\"bytes\":%zu,\"tokens\":%zu,\"sentences\":%zu,"
               "\"seconds\":%.4f,\"mb_per_s\":%.1f}\n",
               n, bytes, ntok, nsent, s, (double)bytes / s / 1e6);
    }
    return 0;
}
