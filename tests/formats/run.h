/* Helpers of the 'formats' suite: run a program, read and write files,
 * temporary folders. */
#ifndef FMT_RUN_H
#define FMT_RUN_H

#include <stddef.h>

/* Run argv (argv[0] a path) with `input` on stdin (/dev/null when NULL).
 * Returns the exit status (128+signal when killed); *out and *err get the
 * outputs, NUL-terminated (free them; either may be NULL to discard). */
int fmt_run(char *const argv[], const char *input, char **out, char **err);

/* Run argv with stdout to /dev/null and stderr on a new pseudo-terminal,
 * as on a user's terminal; returns the exit status, *err what the
 * terminal showed. */
int fmt_run_tty(char *const argv[], char **err);

/* The environment variable `name` (set by meson), or NULL. */
const char *fmt_env(const char *name);

/* A new temporary folder (static buffer per call: copy it). */
char *fmt_tmpdir(void);
/* rm -r */
void fmt_rmrf(const char *path);

/* Whole file, NUL-terminated, or NULL. */
char *fmt_read(const char *path, size_t *len);
/* Write a file; 0 or -1. */
int fmt_write(const char *path, const char *data);

/* Occurrences of needle in hay. */
size_t fmt_count(const char *hay, const char *needle);

#endif
