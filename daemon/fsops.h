/* File-system steps of the daemon, each ordered so that a crash at any
 * point leaves every document in exactly one place: folder creation, a
 * durable write under a temporary name followed by a rename, and moves
 * that never overwrite. */
#ifndef DP_FSOPS_H
#define DP_FSOPS_H

#include <stddef.h>
#include <stdio.h>

#include <docproc/stage.h>

/* Create a folder and its parents (mode 0755 for new ones). */
int dp_mkdirs(const char *path, dp_err *err);

/* fsync a folder, so that renames into it survive a power cut. */
int dp_fsync_dir(const char *dir);

/* Rename dir_from/name_from into dir_to under `name` or, when taken,
 * `name` with ".1", ".2", ... inserted before `ext` (ext may be ""). The
 * name used is written to `final` (size final_len). Never overwrites. */
int dp_move_unique(const char *dir_from, const char *name_from,
                   const char *dir_to, const char *name, const char *ext,
                   char *final, size_t final_len, dp_err *err);

/* The n-th name dp_move_unique and dp_write_atomic try for `name` and
 * `ext`: name+ext, or name+".N"+ext when n > 0, shortened at a UTF-8
 * boundary to fit NAME_MAX. Whoever looks for a file they wrote must use
 * it, since a long name is not stored as given. -ENAMETOOLONG when even
 * the suffix does not fit. */
int dp_numbered_name(char *out, size_t len, const char *name,
                     const char *ext, unsigned n);

/* Writes the body of a file; returns 0 or a negative errno. */
typedef int (*dp_write_fn)(FILE *f, void *ctx);

/* Write a file durably: to a hidden temporary in `dir`, fsync, then
 * rename to `name`+`ext` (or a numbered variant, never overwriting),
 * then fsync `dir`. The name used goes to `final`. */
int dp_write_atomic(const char *dir, const char *name, const char *ext,
                    dp_write_fn write, void *ctx, char *final,
                    size_t final_len, dp_err *err);

/* Remove temporaries that a killed docprocd left in `dir` (its process is
 * gone; another host's only when a day old). Returns how many. */
int dp_clean_stale_temporaries(const char *dir);

#endif
