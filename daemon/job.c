/* The per-document work of the daemon. */
#include "job.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "doc.h"
#include "fileio.h"
#include "format.h"
#include "fsops.h"
#include "output.h"
#include "resume.h"
#include "version.h"

typedef struct error_rec {
    const dp_job *job;
    const char *failed_name;
} error_rec;

static int write_error(FILE *f, void *ctx)
{
    const error_rec *r = ctx;
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    /* Names are bytes, and messages may quote them; jansson wants UTF-8. */
    char name[NAME_MAX + 1], file[NAME_MAX + 1], message[sizeof r->job->message];
    dp_utf8_sanitize(r->job->name, name, sizeof name);
    dp_utf8_sanitize(r->failed_name, file, sizeof file);
    dp_utf8_sanitize(r->job->message, message, sizeof message);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "name", name, "stage",
                          r->job->stage, "message", message, "time", when,
                          "file", file, "docproc", DP_VERSION);
    if (o == NULL)
        return -ENOMEM;
    int rc = json_dumpf(o, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (rc == 0 && fputc('\n', f) == EOF)
        rc = -1;
    return rc == 0 ? 0 : -EIO;
}

/* The document stays in failed/ (it did fail, and a retry would fail
 * again) without its .error.json: the log line the daemon makes of the
 * message is then the only record of why. Say which file could not be
 * written and why, and cut the reason rather than that note (it used to
 * be lost when the reason filled the message). */
static void note_no_error_json(dp_job *job, const char *final,
                               const char *why)
{
    char note[320];
    int n = snprintf(note, sizeof note,
                     " (and %s.error.json could not be written: %s)", final,
                     why);
    size_t nl = n < 0 ? 0 : (size_t)n < sizeof note ? (size_t)n
                                                     : sizeof note - 1;
    size_t len = strlen(job->message), room = sizeof job->message - 1 - nl;
    if (len > room) {
        len = room;
        /* Not in the middle of a UTF-8 character. */
        while (len > 0 && ((unsigned char)job->message[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(job->message + len, note, nl + 1);
}

void dp_job_fail(dp_job *job, const char *stage, const char *message)
{
    char final[NAME_MAX + 1], errname[NAME_MAX + 1];
    dp_err err = {{0}};
    snprintf(job->stage, sizeof job->stage, "%s", stage);
    snprintf(job->message, sizeof job->message, "%s", message);
    job->result = DP_JOB_FAILED;
    if (dp_move_unique(job->cfg->processing, job->pname, job->cfg->failed,
                       job->name, "", final, sizeof final, &err) != 0) {
        char path[PATH_MAX];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", job->cfg->processing,
                 job->pname);
        if (lstat(path, &st) != 0 && errno == ENOENT) {
            /* Removed from processing/ by someone else: nothing is left
             * to move, and a retry would fail the same way forever. */
            job->out_name[0] = 0;
            snprintf(job->message, sizeof job->message,
                     "%s (it was removed from %s meanwhile)", message,
                     job->cfg->processing);
            return;
        }
        /* It stays in processing/ and is tried again later. */
        job->result = DP_JOB_RETRY;
        snprintf(job->message, sizeof job->message,
                 "%s (and moving it to failed/ failed: %s)", message,
                 err.msg);
        return;
    }
    snprintf(job->out_name, sizeof job->out_name, "%s", final);
    error_rec rec = {job, final};
    if (dp_write_atomic(job->cfg->failed, final, ".error.json", write_error,
                        &rec, errname, sizeof errname, &err) != 0)
        note_no_error_json(job, final, err.msg);
}

/* ---- outputs ------------------------------------------------------------ */

typedef struct part_ctx {
    dp_doc *doc;
    dp_format_fn write;
    dp_err *err;
} part_ctx;

static int write_part(FILE *f, void *ctx)
{
    part_ctx *p = ctx;
    errno = 0;
    int rc = p->write(p->doc, dp_sink_file, f, p->err);
    /* A failed fwrite leaves the reason (ENOSPC, EIO...) in errno. */
    if (rc != 0 && ferror(f) && errno != 0)
        rc = -errno;
    return rc;
}

/* Write every configured format of `doc` into the outbox, each part
 * through dp_write_atomic. The JSON result goes last: its presence is what
 * already_output() takes as "this document was output" after a crash. On
 * a write failure the parts written so far are removed, so that a retry
 * does not leave numbered duplicates. Returns 0; -EINVAL (err filled) when
 * the document lacks what a format needs, before anything is written; or
 * another negative errno when writing failed. */
static int write_outputs(dp_job *job, dp_doc *doc, dp_err *err)
{
    const dp_config *cfg = job->cfg;
    const dp_format *fmts[16];
    size_t nf = 0;
    int json = 0;
    for (size_t i = 0; i < cfg->n_outputs && nf < 15; i++) {
        const dp_format *f = dp_format_find(cfg->outputs[i]);
        if (f == NULL || strcmp(f->name, "jsonl") == 0) {
            json = 1;
            continue;
        }
        if (strcmp(f->name, "json") == 0) {
            json = 1;
            continue;
        }
        int dup = 0;
        for (size_t k = 0; k < nf; k++)
            dup |= fmts[k] == f;
        if (dup)
            continue;
        dp_err e = {{0}};
        if (f->check && f->check(doc, &e) != 0) {
            dp_err_set(err, "%s output: %s", f->name, e.msg);
            return -EINVAL;
        }
        fmts[nf++] = f;
    }
    if (json || nf == 0)
        fmts[nf++] = dp_format_find("json");

    char written[32][NAME_MAX + 1];
    size_t nw = 0;
    int rc = 0;
    job->out_name[0] = 0;
    for (size_t i = 0; i < nf && rc == 0; i++) {
        const dp_format *f = fmts[i];
        /* Parts after the first take the first one's name, so that brat's
         * x.txt.txt and x.txt.ann (or x.txt.1.txt and x.txt.1.ann) pair. */
        char base[NAME_MAX + 1];
        snprintf(base, sizeof base, "%s", job->name);
        for (size_t p = 0; p < f->n_parts && rc == 0; p++) {
            dp_err e = {{0}};
            part_ctx pc = {doc, f->parts[p].write, &e};
            char final[NAME_MAX + 1];
            rc = dp_write_atomic(cfg->outbox, base, f->parts[p].ext,
                                 write_part, &pc, final, sizeof final, err);
            if (rc != 0) {
                if (rc == -EINVAL) /* -EINVAL means "the document's fault" */
                    rc = -EIO;
                if (e.msg[0])
                    dp_err_set(err, "%s output: %s: %s", f->name, e.msg,
                               strerror(-rc));
                break;
            }
            if (nw < 32)
                snprintf(written[nw++], NAME_MAX + 1, "%s", final);
            size_t fl = strlen(final), el = strlen(f->parts[p].ext);
            if (p == 0 && fl > el)
                snprintf(base, sizeof base, "%.*s", (int)(fl - el), final);
            if (strcmp(f->name, "json") == 0 || job->out_name[0] == 0)
                snprintf(job->out_name, sizeof job->out_name, "%s", final);
        }
    }
    if (rc != 0) {
        char path[PATH_MAX];
        for (size_t i = 0; i < nw; i++) {
            snprintf(path, sizeof path, "%s/%s", cfg->outbox, written[i]);
            unlink(path);
        }
        if (nw)
            dp_fsync_dir(cfg->outbox);
    }
    return rc;
}

/* After a crash (or a failed write), the output of this very claim may
 * already be in the outbox (resume.h), so that it is not output twice. An
 * earlier document of the same name and bytes (the same file dropped
 * again) has another claim: it does not count, and this one gets its own
 * output. Outputs without a claim (from before docproc 0.2, or written by
 * hand) never count. A document of a recovery pass was looked up in that
 * pass's index of the outbox; others (retries) read the outbox. */
static int already_output(const dp_job *job, const char *claim,
                          const unsigned char *data, size_t len)
{
    char sha[65];
    if (job->indexed && job->indexed_output[0] == 0)
        return 0;
    dp_sha256_hex(data, len, sha);
    if (job->indexed)
        return dp_resume_is_output(job->cfg->outbox, job->indexed_output,
                                   claim, sha);
    return dp_resume_scan(job->cfg->outbox, job->name, job->pname, claim,
                          sha);
}

static void archive(dp_job *job)
{
    char final[NAME_MAX + 1], path[PATH_MAX];
    dp_err err = {{0}};
    if (job->cfg->delete_originals) {
        snprintf(path, sizeof path, "%s/%s", job->cfg->processing,
                 job->pname);
        if (unlink(path) != 0)
            snprintf(job->message, sizeof job->message,
                     "output written, but the original could not be "
                     "deleted: %s",
                     strerror(errno));
        return;
    }
    if (dp_move_unique(job->cfg->processing, job->pname, job->cfg->done,
                       job->name, "", final, sizeof final, &err) != 0)
        snprintf(job->message, sizeof job->message,
                 "output written, but the original could not be archived: "
                 "%s",
                 err.msg);
}

void dp_job_run(dp_job *job)
{
    char path[PATH_MAX];
    unsigned char *data = NULL;
    size_t len = 0;
    dp_err err = {{0}};
    uint64_t t0 = uv_hrtime();
    job->message[0] = 0;
    job->stage[0] = 0;

    snprintf(path, sizeof path, "%s/%s", job->cfg->processing, job->pname);
    char claim[64] = "";
    dp_resume_claim(path, claim, sizeof claim); /* a missing file fails below */
    if (dp_read_file(path, DP_READ_NOFOLLOW, job->cfg->max_bytes, &data, &len, &err) != 0) {
        dp_job_fail(job, "input", err.msg);
        goto out;
    }
    job->bytes = len;
    if (job->recovering && claim[0] && already_output(job, claim, data, len)) {
        job->result = DP_JOB_DONE;
        snprintf(job->out_name, sizeof job->out_name, "(already output)");
        archive(job);
        goto out;
    }
    dp_doc *doc = dp_doc_adopt(job->name, NULL, data, len);
    data = NULL; /* the document's now, freed with it */
    if (doc == NULL) {
        dp_job_fail(job, "input", "out of memory");
        goto out;
    }
    dp_doc_set_claim(doc, claim);
    const char *stage = NULL;
    int prc = dp_pipeline_run(job->pipeline, doc, &stage, &err);
    job->n_stage_ms = 0;
    for (size_t i = 0; i < dp_doc_n_stage_recs(doc) && i < 16; i++) {
        const dp_doc_stage_rec *r = dp_doc_get_stage_rec(doc, i);
        snprintf(job->stage_ms[i].name, sizeof job->stage_ms[i].name, "%s",
                 r->name);
        job->stage_ms[i].ms = r->ms;
        job->n_stage_ms++;
    }
    if (prc != 0) {
        dp_doc_free(doc);
        dp_job_fail(job, stage ? stage : "pipeline", err.msg);
        goto out;
    }
    int rc = write_outputs(job, doc, &err);
    dp_doc_free(doc);
    if (rc == -EINVAL) {
        /* The document lacks what a format needs (e.g. tokens for conll). */
        dp_job_fail(job, "output", err.msg);
        goto out;
    }
    if (rc != 0) {
        /* Not the document's fault (disk full, permissions): keep it. */
        job->result = DP_JOB_RETRY;
        snprintf(job->stage, sizeof job->stage, "output");
        snprintf(job->message, sizeof job->message, "%s", err.msg);
        goto out;
    }
    job->result = DP_JOB_DONE;
    archive(job);
out:
    free(data);
    job->ms = (double)(uv_hrtime() - t0) / 1e6;
}
