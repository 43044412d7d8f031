/* docproc: the pipeline as a command-line tool. Files given as arguments,
 * or JSON lines on stdin (--jsonl); the results go to stdout in input
 * order (one JSON object per line by default), or with --output-dir to one
 * file (or pair of files, for brat) per document. --format picks json,
 * jsonl, html, md, brat or conll (daemon/format.h, docs/formats.md).
 * Documents of a batch run in parallel on libuv's pool. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "config.h"
#include "fileio.h"
#include "format.h"
#include "log.h"
#include "output.h"
#include "pipeline.h"
#include "version.h"

enum { EXIT_DOC_FAILED = 1, EXIT_USAGE = 2 };

/* How this run writes its results. */
typedef struct run_opts {
    const dp_format *fmt;
    const char *outdir; /* NULL: stdout */
    json_t *names;      /* output base names taken so far (a set) */
    json_t *labels;     /* entity labels seen (a set), for brat's conf */
} run_opts;

/* The progress line on stderr. */
typedef struct progress {
    int on;
    size_t total, done, failed;
    uint64_t t0, last_draw;
    int drawn;
} progress;

/* Between two documents of the md format on stdout. */
#define MD_SEPARATOR "\n---\n\n"

/* One document of a batch. */
typedef struct job {
    uv_work_t req;
    const dp_pipeline *pipeline;
    const run_opts *ro;
    progress *pg;
    dp_doc *doc;       /* NULL when the input was already bad */
    json_t *id;        /* output id */
    char *name;
    const char *path;  /* the file as given (run_files), for messages */
    size_t line;       /* its line on stdin (run_jsonl), or 0 */
    char *base;        /* output file name without extension (--output-dir) */
    char *error;       /* input error, or the stage's error after work */
    const char *error_stage;
    dp_membuf out;
    /* Written straight to stdout from the worker (stream_alone) instead of
     * into out; sep: the separator of md documents goes first. */
    int stream, sep, streamed;
} job;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: docproc [OPTIONS] FILE...\n"
            "       docproc --jsonl [OPTIONS] < lines\n"
            "\n"
            "Runs the docproc pipeline on each FILE (or on each JSON line "
            "{\"id\":...,\"text\":...}\n"
            "of stdin with --jsonl) and writes the results in input order.\n"
            "A FILE of - is standard input, read as one document.\n"
            "\n"
            "  -f, --format F       json (default), jsonl, html, md, brat or "
            "conll\n"
            "  -o, --output-dir D   write one file per document into D "
            "(created if\n"
            "                       needed) instead of stdout: NAME.json, "
            "NAME.html,\n"
            "                       NAME.md, NAME.conll, or NAME.txt + "
            "NAME.ann for brat,\n"
            "                       NAME being the file name without its "
            "extension (or\n"
            "                       the jsonl id); required for brat, and "
            "for html with\n"
            "                       several documents\n"
            "  -c, --config F       config file (default: %s)\n"
            "  -s, --stages a,b     run only these configured stages, in "
            "configured order\n"
            "      --set S.K=V      override option K of stage S (V parsed "
            "as JSON,\n"
            "                       else a string); repeatable\n"
            "  -j, --jsonl          read {\"id\":...,\"text\":...} lines "
            "from stdin\n"
            "      --progress       show a progress line on stderr (default: "
            "only when\n"
            "                       stderr is a terminal and there are "
            "several files)\n"
            "      --no-progress    never show it\n"
            "  -h, --help           this help\n"
            "  -V, --version        version and stage interface\n"
            "\n"
            "On stdout, json/jsonl write one result object per line (a "
            "failed document\n"
            "gives an {\"error\":...} object), md and conll one document "
            "after another.\n"
            "Exit status: 0 all fine, 1 some documents failed, 2 usage or "
            "config error.\n"
            "See docproc(1) and docs/formats.md.\n",
            dp_config_default_path());
}

/* `fmt` has one %s, for `arg`. */
static int usage_error(const char *fmt, const char *arg)
{
    fputs("docproc: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nTry 'docproc --help' for more information.\n", stderr);
    return EXIT_USAGE;
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
    if (v == NULL)
        return -EINVAL; /* not UTF-8 */
    json_t *obj = json_object_get(overrides, stage);
    if (obj == NULL) {
        obj = json_object();
        if (obj == NULL || json_object_set_new(overrides, stage, obj) != 0) {
            json_decref(v);
            return -ENOMEM;
        }
    }
    return json_object_set_new(obj, key, v) == 0 ? 0 : -ENOMEM;
}

/* A --set for a configured stage that --stages leaves out would be
 * ignored without a word; say which option and which stage instead.
 * Returns EXIT_USAGE after the message, or 0. */
static int check_sets_run(char **sets, size_t n_sets, char **only,
                          const char *stages_arg, const dp_config *cfg)
{
    for (size_t i = 0; only && i < n_sets; i++) {
        size_t len = strcspn(sets[i], ".");
        int configured = 0, run = 0;
        for (size_t j = 0; j < cfg->n_stages; j++)
            configured |= strlen(cfg->stages[j].name) == len &&
                          strncmp(cfg->stages[j].name, sets[i], len) == 0;
        for (size_t j = 0; only[j]; j++)
            run |= strlen(only[j]) == len &&
                   strncmp(only[j], sets[i], len) == 0;
        if (configured && !run) {
            fprintf(stderr,
                    "docproc: --set '%s': stage '%.*s' does not run: "
                    "--stages '%s' leaves it out (add it to --stages, or "
                    "drop this --set)\n"
                    "Try 'docproc --help' for more information.\n",
                    sets[i], (int)len, sets[i], stages_arg);
            return EXIT_USAGE;
        }
    }
    return 0;
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
         tok = strtok_r(NULL, ",", &save)) {
        if ((list[i++] = strdup(tok)) == NULL) {
            for (size_t k = 0; k < i; k++)
                free(list[k]);
            free(list);
            free(copy);
            return NULL;
        }
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

/* ---- progress ------------------------------------------------------------ */

static void progress_draw(progress *pg, int force)
{
    if (!pg->on)
        return;
    uint64_t now = uv_hrtime();
    if (!force && pg->drawn && now - pg->last_draw < 100000000ull)
        return;
    pg->last_draw = now;
    pg->drawn = 1;
    double secs = (double)(now - pg->t0) / 1e9;
    double rate = secs > 0 ? (double)pg->done / secs : 0;
    char bar[31];
    size_t fill = pg->total ? pg->done * 30 / pg->total : 0;
    for (size_t i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[30] = 0;
    char eta[32] = "--:--";
    if (rate > 0 && pg->done < pg->total) {
        unsigned long s = (unsigned long)((double)(pg->total - pg->done) /
                                              rate +
                                          0.5);
        if (s >= 3600)
            snprintf(eta, sizeof eta, "%lu:%02lu:%02lu", s / 3600,
                     s / 60 % 60, s % 60);
        else
            snprintf(eta, sizeof eta, "%lu:%02lu", s / 60, s % 60);
    } else if (pg->done >= pg->total) {
        snprintf(eta, sizeof eta, "0:00");
    }
    fprintf(stderr, "\r\033[K[%s] %zu/%zu  %.1f docs/s  ETA %s", bar,
            pg->done, pg->total, rate, eta);
    if (pg->failed)
        fprintf(stderr, "  %zu failed", pg->failed);
    fflush(stderr);
}

/* Clear the line, so that a message or the shell prompt starts clean. */
static void progress_clear(progress *pg)
{
    if (pg->on && pg->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        pg->drawn = 0;
    }
}

/* ---- output files -------------------------------------------------------- */

/* Make `dir` and its parents. */
static int mkdirs(const char *dir)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return -ENAMETOOLONG;
    for (char *p = path + 1;; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            if (mkdir(path, 0755) != 0 && errno != EEXIST)
                return -errno;
            *p = c;
            if (c == 0)
                break;
        }
    }
    struct stat st;
    if (stat(dir, &st) != 0)
        return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* n, less a last UTF-8 character that is cut short. */
static size_t utf8_whole(const char *s, size_t n)
{
    size_t k = n;
    while (k > 0 && n - k < 3 && ((unsigned char)s[k - 1] & 0xC0) == 0x80)
        k--;
    if (k == 0)
        return n;
    unsigned char c = (unsigned char)s[k - 1];
    size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return need > n - (k - 1) ? k - 1 : n;
}

/* The output base name of a document: the file name without its last
 * extension, or the jsonl id, made safe as a file name, and unique in this
 * run ("a", "a-2", ...). */
static char *output_base(run_opts *ro, const char *name, int strip_ext)
{
    char safe[201];
    size_t n = 0;
    for (const char *p = name; *p && n < sizeof safe - 1; p++) {
        unsigned char c = (unsigned char)*p;
        safe[n++] = (c < 0x20 || c == 0x7F || c == '/' || c == '\\' ||
                     c == ' ')
                        ? (c == ' ' ? '-' : '_')
                        : (char)c;
    }
    /* Do not end on a UTF-8 character cut in two (here, or by the jsonl
     * id's 60 bytes): the name would not be UTF-8 and became "doc-N". */
    n = utf8_whole(safe, n);
    safe[n] = 0;
    if (strip_ext) {
        char *dot = strrchr(safe, '.');
        if (dot && dot != safe)
            *dot = 0;
    }
    if (safe[0] == '.')
        safe[0] = '_';
    if (safe[0] == 0)
        snprintf(safe, sizeof safe, "doc");
    char cand[220];
    snprintf(cand, sizeof cand, "%s", safe);
    for (unsigned k = 2; json_object_get(ro->names, cand); k++)
        snprintf(cand, sizeof cand, "%s-%u", safe, k);
    /* Keys must be UTF-8; names that are not are still unique enough by
     * their numbered fallback. */
    if (json_object_set_new(ro->names, cand, json_true()) != 0) {
        for (unsigned k = 1;; k++) {
            snprintf(cand, sizeof cand, "doc-%u", k);
            if (json_object_get(ro->names, cand) == NULL)
                break;
        }
        json_object_set_new(ro->names, cand, json_true());
    }
    return strdup(cand);
}

/* Write one part into DIR/BASE.EXT through a temporary and a rename, so
 * that a reader never sees half a file. */
static int write_part_file(const char *dir, const char *base,
                           const dp_format_part *part, dp_doc *doc,
                           dp_err *err)
{
    static unsigned counter;
    char path[4096], tmp[4096];
    unsigned k = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
    snprintf(path, sizeof path, "%s/%s%s", dir, base, part->ext);
    snprintf(tmp, sizeof tmp, "%s/.%s%s.%ld.%u.tmp", dir, base, part->ext,
             (long)getpid(), k);
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        dp_err_set(err, "cannot create %s: %s", tmp, strerror(errno));
        return -EIO;
    }
    errno = 0;
    int rc = part->write(doc, dp_sink_file, f, err);
    /* The writer only knows that a write failed; the reason (a full disk,
     * a size limit) is in errno. */
    if (rc != 0 && ferror(f) && errno != 0)
        dp_err_set(err, "cannot write %s: %s", path, strerror(errno));
    if (fclose(f) != 0 && rc == 0) {
        dp_err_set(err, "cannot write %s: %s", path, strerror(errno));
        rc = -EIO;
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        dp_err_set(err, "cannot rename %s to %s: %s", tmp, path,
                   strerror(errno));
        rc = -EIO;
    }
    if (rc != 0)
        unlink(tmp);
    return rc;
}

/* ---- the batch ----------------------------------------------------------- */

/* A streamed job's output goes out STREAM_CHUNK bytes at a time through
 * its buffer: one fwrite per piece (a number, a key) cost more user time
 * than the copy it saves. */
#define STREAM_CHUNK (64u << 10)

static int stream_flush(dp_membuf *b)
{
    size_t n = b->len;
    b->len = 0;
    return n && fwrite(b->data, 1, n, stdout) != n ? -1 : 0;
}

static int sink_stream(const char *buf, size_t len, void *ctx)
{
    dp_membuf *b = ctx;
    if (dp_sink_membuf(buf, len, b))
        return -1;
    return b->len >= STREAM_CHUNK ? stream_flush(b) : 0;
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
    const dp_format *f = j->ro->fmt;
    if (f->check && f->check(j->doc, &err) != 0)
        goto fail;
    if (j->stream) {
        j->streamed = 1;
        if (j->sep)
            fputs(MD_SEPARATOR, stdout);
    }
    for (size_t p = 0; p < f->n_parts; p++) {
        int rc = j->ro->outdir
                     ? write_part_file(j->ro->outdir, j->base, &f->parts[p],
                                       j->doc, &err)
                 : j->stream
                     ? f->parts[p].write(j->doc, sink_stream, &j->out, &err)
                     : f->parts[p].write(j->doc, dp_sink_membuf, &j->out,
                                         &err);
        if (rc != 0)
            goto fail;
    }
    if (j->stream && stream_flush(&j->out) != 0)
        goto fail;
    return;
fail:
    j->error_stage = "output";
    j->error = strdup(err.msg[0] ? err.msg : "cannot write the output");
}

static void after_work_cb(uv_work_t *req, int status)
{
    job *j = req->data;
    (void)status;
    j->pg->done++;
    if (j->error || j->error_stage)
        j->pg->failed++;
    progress_draw(j->pg, 0);
}

static void free_job(job *j)
{
    dp_doc_free(j->doc);
    json_decref(j->id);
    free(j->name);
    free(j->base);
    free(j->error);
    dp_membuf_free(&j->out);
    memset(j, 0, sizeof *j);
}

/* Results that cannot be written to stdout (a full disk) are lost: say
 * so once, and let the caller stop with status 1 rather than exit 0.
 * stdout_errno keeps the reason of the first failed write. */
static int stdout_errno;

static void note_stdout_error(void)
{
    if (ferror(stdout) && stdout_errno == 0)
        stdout_errno = errno ? errno : -1; /* -1: the reason was lost */
}

static int stdout_failed(void)
{
    static int reported;
    if (fflush(stdout) != 0)
        note_stdout_error();
    if (!ferror(stdout))
        return 0;
    if (!reported) {
        reported = 1;
        fprintf(stderr, "docproc: cannot write the results to stdout: %s\n",
                stdout_errno > 0 ? strerror(stdout_errno) : "write error");
    }
    return 1;
}

/* A batch of one document to stdout is written there by its worker as it
 * is formatted: the output of one huge document is about three times its
 * size (300 MB for 100 MB), and buffering it whole cost as many fresh
 * pages before a byte was printed. With more documents the buffers keep
 * the output in input order. */
static void stream_alone(job *jobs, size_t n, progress *pg, size_t printed)
{
    job *j = &jobs[0];
    if (n != 1 || j->doc == NULL || j->ro->outdir != NULL)
        return;
    /* results on the same terminal must not start after the bar */
    if (pg->on && isatty(1))
        progress_clear(pg);
    j->stream = 1;
    j->sep = printed && strcmp(j->ro->fmt->name, "md") == 0;
}

/* Run a batch in parallel and print it in order. Returns how many failed. */
static size_t run_batch(uv_loop_t *loop, job *jobs, size_t n, progress *pg,
                        size_t *printed)
{
    size_t failed = 0;
    stream_alone(jobs, n, pg, *printed);
    for (size_t i = 0; i < n; i++) {
        jobs[i].req.data = &jobs[i];
        if (jobs[i].doc) {
            uv_queue_work(loop, &jobs[i].req, work_cb, after_work_cb);
        } else {
            pg->done++;
            pg->failed++;
        }
    }
    uv_run(loop, UV_RUN_DEFAULT);
    /* Results on the same terminal must not start after the bar. */
    if (pg->on && isatty(1))
        progress_clear(pg);
    for (size_t i = 0; i < n; i++) {
        job *j = &jobs[i];
        const run_opts *ro = j->ro;
        int json = ro->fmt->parts[0].write == dp_format_json;
        errno = 0; /* what is left after writing it is the write's */
        if (j->error || j->error_stage) {
            failed++;
            progress_clear(pg);
            const char *stage = j->error_stage ? j->error_stage : "input";
            const char *why = j->error ? j->error : "out of memory";
            /* The path as given: a.txt in two folders must be told apart;
             * a JSON line by its number (its id may be missing or bad). */
            if (j->line)
                dp_log(DP_LOG_ERR, "stdin: line %zu: %s: %s", j->line, stage,
                       why);
            else
                dp_log(DP_LOG_ERR, "%s: %s: %s", j->path ? j->path : j->name,
                       stage, why);
            if (json && ro->outdir == NULL) {
                if (j->streamed)
                    fputc('\n', stdout); /* after a part written */
                /* The result line has the id only: say the line too when
                 * the line itself was bad. */
                char msg[700];
                if (j->line && j->doc == NULL)
                    snprintf(msg, sizeof msg, "line %zu: %s", j->line, why);
                else
                    snprintf(msg, sizeof msg, "%s", why);
                dp_output_write_error(j->id, j->name, stage, msg,
                                      dp_sink_file, stdout);
                fputc('\n', stdout);
            }
        } else if (ro->outdir) {
            if (ro->labels && dp_format_collect_labels(j->doc, ro->labels))
                dp_log(DP_LOG_WARNING, "out of memory collecting labels");
        } else {
            if (!j->stream && *printed && strcmp(ro->fmt->name, "md") == 0)
                fputs(MD_SEPARATOR, stdout);
            if (!j->stream)
                fwrite(j->out.data, 1, j->out.len, stdout);
            (*printed)++;
        }
        note_stdout_error();
        free_job(j);
    }
    if (fflush(stdout) != 0)
        note_stdout_error();
    progress_draw(pg, 1);
    return failed;
}

#define BATCH_DOCS 256
#define BATCH_BYTES (16u << 20)

static int run_files(uv_loop_t *loop, const dp_pipeline *p,
                     const dp_config *cfg, run_opts *ro, progress *pg,
                     char **files, int nfiles)
{
    job *jobs = calloc(BATCH_DOCS, sizeof *jobs);
    size_t n = 0, bytes = 0, failed = 0, printed = 0;
    if (jobs == NULL)
        return EXIT_USAGE;
    pg->total = (size_t)nfiles;
    for (int i = 0; i < nfiles; i++) {
        job *j = &jobs[n++];
        const char *base = strrchr(files[i], '/');
        j->pipeline = p;
        j->ro = ro;
        j->pg = pg;
        j->name = strdup(base ? base + 1 : files[i]);
        j->path = files[i];
        j->id = json_string(files[i]);
        /* A path that is not UTF-8 has no JSON id: the output then uses
         * the document's name, made valid. */
        unsigned char *data;
        size_t len;
        dp_err err = {{0}};
        if (j->name == NULL) {
            j->error_stage = "input";
        } else if (ro->outdir &&
                   (j->base = output_base(ro, j->name, 1)) == NULL) {
            j->error_stage = "input";
        } else if (dp_read_file(files[i], DP_READ_STREAMS, cfg->max_bytes, &data, &len,
                                &err)) {
            j->error_stage = "input";
            j->error = strdup(err.msg);
        } else {
            j->doc = dp_doc_adopt(j->name, j->id, data, len);
            if (j->doc == NULL)
                j->error_stage = "input";
            bytes += len;
        }
        if (n == BATCH_DOCS || bytes >= BATCH_BYTES || i == nfiles - 1) {
            failed += run_batch(loop, jobs, n, pg, &printed);
            n = 0;
            bytes = 0;
            if (stdout_failed()) {
                failed++;
                break;
            }
        }
    }
    free(jobs);
    return failed ? EXIT_DOC_FAILED : 0;
}

static int run_jsonl(uv_loop_t *loop, const dp_pipeline *p,
                     const dp_config *cfg, run_opts *ro, progress *pg)
{
    job *jobs = calloc(BATCH_DOCS, sizeof *jobs);
    size_t n = 0, bytes = 0, failed = 0, lineno = 0, printed = 0;
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
        /* A UTF-8 byte order mark before the first line (PowerShell's
         * Out-File, Python's utf-8-sig) is not part of the JSON. */
        char *json = line;
        if (lineno == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
            json += 3;
            len -= 3;
        }
        /* A blank line is no document, with or without spaces in it (it
         * used to be "not JSON: ... expected near end of file"). */
        if (strspn(json, " \t\r\n") == (size_t)len)
            continue;
        job *j = &jobs[n++];
        char msg[600];
        j->pipeline = p;
        j->ro = ro;
        j->pg = pg;
        j->line = lineno;
        pg->total++;
        json_error_t je;
        /* NULs get the words of the files' "binary input" error, not
         * jansson's ("control character 0x0", "\\u0000 is not allowed
         * without JSON_ALLOW_NUL"). */
        const char *raw_nul = memchr(json, 0, (size_t)len);
        json_t *o = raw_nul ? NULL
                            : json_loadb(json, (size_t)len, JSON_ALLOW_NUL,
                                         &je);
        json_t *text = json_object_get(o, "text");
        json_t *id = json_object_get(o, "id");
        j->id = id ? json_incref(id) : json_integer((json_int_t)lineno);
        char name[64];
        if (json_is_string(id)) {
            snprintf(name, sizeof name, "%.60s", json_string_value(id));
            /* Cut inside a character, the name became "...?". */
            name[utf8_whole(name, strlen(name))] = 0;
        } else if (json_is_integer(id)) {
            snprintf(name, sizeof name, "%lld",
                     (long long)json_integer_value(id));
        } else {
            snprintf(name, sizeof name, "line %zu", lineno);
        }
        j->name = strdup(name);
        j->error_stage = "input";
        if (ro->outdir && j->name)
            j->base = output_base(ro, j->name, 0);
        const char *text_nul =
            json_is_string(text) ? memchr(json_string_value(text), 0,
                                          json_string_length(text))
                                 : NULL;
        if (raw_nul) {
            snprintf(msg, sizeof msg,
                     "binary input: NUL byte at offset %zu of the "
                     "line",
                     (size_t)(raw_nul - json));
            j->error = strdup(msg);
        } else if (o == NULL && strstr(je.text, "NUL byte in object key")) {
            snprintf(msg, sizeof msg,
                     "a key holds \\u0000 (a NUL character), near "
                     "column %d",
                     je.column);
            j->error = strdup(msg);
        } else if (o == NULL) {
            snprintf(msg, sizeof msg, "not JSON: %s", je.text);
            j->error = strdup(msg);
        } else if (text_nul) {
            snprintf(msg, sizeof msg,
                     "binary input: NUL character (\\u0000) in "
                     "\"text\" at byte offset %zu",
                     (size_t)(text_nul - json_string_value(text)));
            j->error = strdup(msg);
        } else if (!json_is_string(text)) {
            snprintf(msg, sizeof msg,
                     "expected an object with a string \"text\"");
            j->error = strdup(msg);
        } else if (json_string_length(text) > cfg->max_bytes) {
            snprintf(msg, sizeof msg, "text larger than %llu bytes",
                     (unsigned long long)cfg->max_bytes);
            j->error = strdup(msg);
        } else if (j->name && (ro->outdir == NULL || j->base)) {
            j->doc = dp_doc_new(j->name, j->id, json_string_value(text),
                                json_string_length(text));
            if (j->doc)
                j->error_stage = NULL;
            bytes += json_string_length(text);
        }
        json_decref(o);
        if (n == BATCH_DOCS || bytes >= BATCH_BYTES) {
            failed += run_batch(loop, jobs, n, pg, &printed);
            n = 0;
            bytes = 0;
            if (stdout_failed())
                break;
        }
    }
    if (n)
        failed += run_batch(loop, jobs, n, pg, &printed);
    if (stdout_failed())
        failed++;
    free(line);
    free(jobs);
    return failed ? EXIT_DOC_FAILED : 0;
}

int main(int argc, char **argv)
{
    enum { OPT_SET = 0x100, OPT_PROGRESS, OPT_NO_PROGRESS };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"stages", required_argument, NULL, 's'},
        {"set", required_argument, NULL, OPT_SET},
        {"jsonl", no_argument, NULL, 'j'},
        {"format", required_argument, NULL, 'f'},
        {"output-dir", required_argument, NULL, 'o'},
        {"progress", no_argument, NULL, OPT_PROGRESS},
        {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    const char *config_path = NULL, *format = "json", *stages_arg = NULL;
    char **only = NULL;
    char **sets = calloc((size_t)argc, sizeof *sets); /* the --set args */
    size_t n_sets = 0;
    int jsonl = 0, c, rc = EXIT_USAGE, progress_opt = -1;
    run_opts ro = {0};
    progress pg = {0};
    json_t *overrides = json_object();
    ro.names = json_object();
    ro.labels = json_object();
    if (overrides == NULL || ro.names == NULL || ro.labels == NULL ||
        sets == NULL) {
        fprintf(stderr, "docproc: out of memory\n");
        goto out;
    }
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:s:jf:o:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config_path = optarg; break;
        case 's':
            free_list(only);
            stages_arg = optarg;
            only = split_stages(optarg);
            if (only == NULL || only[0] == NULL) {
                rc = usage_error("--stages '%s': expected stage names "
                                 "separated by commas",
                                 optarg);
                goto out;
            }
            break;
        case OPT_SET:
            if (parse_set(overrides, optarg) != 0) {
                rc = usage_error("--set '%s': expected STAGE.KEY=VALUE",
                                 optarg);
                goto out;
            }
            sets[n_sets++] = optarg;
            break;
        case 'j': jsonl = 1; break;
        case 'f': format = optarg; break;
        case 'o': ro.outdir = optarg; break;
        case OPT_PROGRESS: progress_opt = 1; break;
        case OPT_NO_PROGRESS: progress_opt = 0; break;
        case 'h':
            usage(stdout);
            rc = 0;
            goto out;
        case 'V':
            printf("docproc %s (stage interface %d.%d)\n", DP_VERSION,
                   DP_ABI_MAJOR, DP_ABI_MINOR);
            rc = 0;
            goto out;
        case ':':
            rc = usage_error("%s needs a value", argv[optind - 1]);
            goto out;
        default:
            if (optopt) {
                char o[3] = {'-', (char)optopt, 0};
                rc = usage_error("unknown option '%s'", o);
            } else {
                rc = usage_error("unknown option '%s'", argv[optind - 1]);
            }
            goto out;
        }
    }
    ro.fmt = dp_format_find(format);
    if (ro.fmt == NULL) {
        char msg[128];
        snprintf(msg, sizeof msg, "unknown --format '%%s' (expected %s)",
                 dp_format_names());
        rc = usage_error(msg, format);
        goto out;
    }
    int nfiles = argc - optind;
    if (!jsonl && nfiles <= 0) {
        rc = usage_error("no input files%s", " (give FILE... or --jsonl)");
        goto out;
    }
    if (jsonl && nfiles > 0) {
        rc = usage_error("--jsonl reads stdin; unexpected file '%s'",
                         argv[optind]);
        goto out;
    }
    if (ro.outdir == NULL && ro.fmt->n_parts > 1) {
        rc = usage_error("--format %s writes two files per document: give "
                         "--output-dir DIR",
                         ro.fmt->name);
        goto out;
    }
    if (ro.outdir == NULL && !(ro.fmt->flags & DP_FORMAT_STREAMS) &&
        (jsonl || nfiles > 1)) {
        rc = usage_error("--format %s makes one page per document: give "
                         "--output-dir DIR for several documents",
                         ro.fmt->name);
        goto out;
    }
    if (ro.outdir) {
        int e = mkdirs(ro.outdir);
        if (e != 0) {
            fprintf(stderr, "docproc: --output-dir %s: %s\n", ro.outdir,
                    strerror(-e));
            goto out;
        }
    }
    pg.on = progress_opt == 1 ||
            (progress_opt < 0 && !jsonl && nfiles > 1 && isatty(2));
    dp_output_init();

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
    /* The priority prefixes are for journald; a person or a script reads
     * the command's stderr, unless systemd connected it to the journal. */
    if (getenv("JOURNAL_STREAM") == NULL)
        dp_log_set_plain("docproc");
    if ((rc = check_sets_run(sets, n_sets, only, stages_arg, &cfg)) != 0) {
        dp_config_free(&cfg);
        goto out;
    }
    rc = EXIT_USAGE;
    dp_pipeline p;
    if (dp_pipeline_load(&p, &cfg, (const char *const *)only, overrides,
                         &err) != 0) {
        /* Name the config, as docprocd does: the default one is implicit. */
        fprintf(stderr, "docproc: %s: %s\n", config_path, err.msg);
        dp_config_free(&cfg);
        goto out;
    }
    char threads[16];
    snprintf(threads, sizeof threads, "%u", uv_available_parallelism());
    if (getenv("UV_THREADPOOL_SIZE") == NULL)
        setenv("UV_THREADPOOL_SIZE", threads, 1);
    uv_loop_t loop;
    uv_loop_init(&loop);
    pg.t0 = uv_hrtime();
    rc = jsonl ? run_jsonl(&loop, &p, &cfg, &ro, &pg)
               : run_files(&loop, &p, &cfg, &ro, &pg, argv + optind, nfiles);
    if (ro.outdir && strcmp(ro.fmt->name, "brat") == 0) {
        /* So that brat opens the folder as it is. */
        dp_err cerr = {{0}};
        if (dp_format_brat_conf(ro.outdir, ro.labels, &cerr) != 0)
            fprintf(stderr, "docproc: %s\n", cerr.msg);
    }
    if (pg.on) {
        progress_clear(&pg);
        double secs = (double)(uv_hrtime() - pg.t0) / 1e9;
        fprintf(stderr, "docproc: %zu documents in %.1f s (%.1f docs/s)",
                pg.done, secs, secs > 0 ? (double)pg.done / secs : 0.0);
        if (pg.failed)
            fprintf(stderr, ", %zu failed", pg.failed);
        fputc('\n', stderr);
    }
    uv_loop_close(&loop);
    dp_pipeline_free(&p);
    dp_config_free(&cfg);
out:
    free(sets);
    free_list(only);
    json_decref(overrides);
    json_decref(ro.names);
    json_decref(ro.labels);
    return rc;
}
