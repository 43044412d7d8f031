/* dp-icu-sentences: ICU's sentence BreakIterator over the texts of a JSONL
 * corpus, the C library a user would reach for instead of `segment`.
 *
 *   dp-icu-sentences [--runs N] CORPUS.jsonl
 *
 * One iterator (UBRK_SENTENCE, locale "en") is opened once and reset onto
 * each document's UTF-8 bytes through a UText, so no conversion to UTF-16 is
 * counted. Prints {"docs", "bytes", "sentences", "runs": [seconds...]}. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <unicode/ubrk.h>
#include <unicode/utext.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    int runs = 3, c;
    while ((c = getopt(argc, argv, "r:")) != -1) {
        if (c == 'r')
            runs = atoi(optarg);
        else
            goto usage;
    }
    if (optind != argc - 1 || runs < 1 || runs > 1000)
        goto usage;

    FILE *f = fopen(argv[optind], "r");
    if (f == NULL) {
        perror(argv[optind]);
        return 2;
    }
    json_t *texts = json_array();
    char *line = NULL;
    size_t cap = 0, bytes = 0;
    ssize_t len;
    while (texts && (len = getline(&line, &cap, f)) > 0) {
        json_t *o = json_loadb(line, (size_t)len, 0, NULL);
        json_t *t = json_object_get(o, "text");
        if (json_is_string(t)) {
            bytes += json_string_length(t);
            json_array_append(texts, t);
        }
        json_decref(o);
    }
    free(line);
    fclose(f);
    if (texts == NULL || json_array_size(texts) == 0) {
        fprintf(stderr, "dp-icu-sentences: no documents in %s\n",
                argv[optind]);
        json_decref(texts);
        return 2;
    }

    UErrorCode st = U_ZERO_ERROR;
    UBreakIterator *bi = ubrk_open(UBRK_SENTENCE, "en", NULL, 0, &st);
    if (U_FAILURE(st)) {
        fprintf(stderr, "dp-icu-sentences: ubrk_open: %s\n", u_errorName(st));
        json_decref(texts);
        return 2;
    }
    json_t *jruns = json_array();
    size_t sentences = 0;
    UText *ut = NULL;
    for (int r = 0; r < runs && jruns; r++) {
        size_t count = 0;
        double t0 = now();
        for (size_t i = 0; i < json_array_size(texts); i++) {
            json_t *t = json_array_get(texts, i);
            st = U_ZERO_ERROR;
            ut = utext_openUTF8(ut, json_string_value(t),
                                (int64_t)json_string_length(t), &st);
            ubrk_setUText(bi, ut, &st);
            if (U_FAILURE(st)) {
                fprintf(stderr, "dp-icu-sentences: document %zu: %s\n", i,
                        u_errorName(st));
                continue;
            }
            while (ubrk_next(bi) != UBRK_DONE)
                count++;
        }
        json_array_append_new(jruns, json_real(now() - t0));
        sentences = count;
    }
    utext_close(ut);
    ubrk_close(bi);
    json_t *out = json_pack("{s:I,s:I,s:I,s:o}", "docs",
                            (json_int_t)json_array_size(texts), "bytes",
                            (json_int_t)bytes, "sentences",
                            (json_int_t)sentences, "runs", jruns);
    char *s = out ? json_dumps(out, JSON_COMPACT) : NULL;
    if (s)
        puts(s);
    free(s);
    json_decref(out);
    json_decref(texts);
    return s ? 0 : 2;
usage:
    fprintf(stderr, "usage: dp-icu-sentences [-r RUNS] CORPUS.jsonl\n");
    return 2;
}
