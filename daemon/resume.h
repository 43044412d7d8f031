/* Crash recovery: the output a document left in processing/ may have been
 * given before the crash (docs/operations.md, "Resuming after a crash").
 * An output is that document's when its name is one of the document's
 * output names and its source.claim and source.sha256 are the document's. */
#ifndef DP_RESUME_H
#define DP_RESUME_H

#include <limits.h>
#include <stddef.h>

/* This claim of the document at `path` in processing/: its inode and its
 * change time there, as "source.claim" in its output. 0 or -errno. */
int dp_resume_claim(const char *path, char *out, size_t len);

/* Whether outbox/fname has this claim and sha256 in its source: 1 or 0. */
int dp_resume_is_output(const char *outbox, const char *fname,
                        const char *claim, const char *sha);

/* For one document (`name`, claimed as `pname`): read the whole outbox
 * for its output. 1 found, 0 not (also when the outbox cannot be read). */
int dp_resume_scan(const char *outbox, const char *name, const char *pname,
                   const char *claim, const char *sha);

/* One document of a recovery pass. */
typedef struct dp_resume_doc {
    const char *name, *pname; /* as for dp_resume_scan */
    const char *claim;
    char output[NAME_MAX + 1]; /* out: its output of that claim, or "" */
} dp_resume_doc;

/* For all the documents of a recovery pass at once: read the outbox once
 * (parsing only the outputs under their names) and set each one's
 * `output` by claim; the sha256 is left to dp_resume_is_output, when the
 * document is read. A restart with many documents in processing/ used to
 * read the whole outbox once per document. 0, or a negative errno when
 * the outbox cannot be read (then no `output` is set). */
int dp_resume_index(const char *outbox, dp_resume_doc *docs, size_t n);

#endif
