/* Helpers for the end-to-end tests: temporary folder trees, a docprocd
 * child process, polling with a deadline, running the CLI. */
#ifndef DP_E2E_H
#define DP_E2E_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include <setjmp.h>
#include <cmocka.h>

/* How long any expected state may take to appear: 20 s, or the
 * environment's E2E_DEADLINE_MS (e.g. more under valgrind). Generous,
 * because the machine may be loaded (and the daemon built with
 * sanitizers); a passing run never waits this long. */
int e2e_deadline_ms(void);
#define E2E_DEADLINE_MS e2e_deadline_ms()

/* Paths of the programs and plugins under test, from the environment
 * (set by tests/e2e/meson.build). Aborts the test when one is missing. */
const char *e2e_env(const char *name);

/* A temporary tree: root/{inbox,outbox,failed,done,processing} and
 * root/config.json. */
typedef struct e2e_tree {
    char root[256];
    char inbox[300], outbox[300], failed[300], done[300], processing[300];
    char config[300];
    char log[300]; /* the daemon's stderr */
} e2e_tree;

/* Make the tree (the folders themselves are left to the daemon unless
 * make_dirs). */
void e2e_tree_init(e2e_tree *t, int make_dirs);
/* Remove everything under root. */
void e2e_tree_free(e2e_tree *t);

/* Write t->config: the folders of t, the given stages (a JSON array text),
 * settle_ms, and extra top-level keys (a JSON object text or NULL). */
void e2e_write_config(const e2e_tree *t, const char *stages_json,
                      int settle_ms, const char *extra_json);
/* The stage list for the example plugin with the given options (JSON object
 * text or NULL), as a JSON array text in a static buffer. */
const char *e2e_example_stages(const char *options_json);

/* docprocd */
typedef struct e2e_daemon {
    pid_t pid;
    const e2e_tree *t;
} e2e_daemon;

/* Start docprocd --config t->config with stderr/stdout appended to t->log.
 * uid/gid >= 0: drop to them in the child before exec. */
void e2e_daemon_start(e2e_daemon *d, const e2e_tree *t, int uid, int gid);
/* Wait for the child to exit (up to E2E_DEADLINE_MS); its wait status, or
 * -1 when it did not exit in time (then it is killed). */
int e2e_daemon_wait(e2e_daemon *d);
/* SIGTERM and wait: asserts a clean exit with status 0. */
void e2e_daemon_stop(e2e_daemon *d);
/* SIGKILL and reap. */
void e2e_daemon_kill(e2e_daemon *d);
/* Exit status when the child has exited by now, else -1 (non-blocking). */
int e2e_daemon_exited(e2e_daemon *d);

/* Number of processes (other than this one) whose command line contains
 * needle, e.g. the config path: daemons and their worker processes. */
int e2e_procs_with(const char *needle);
/* Wait (up to E2E_DEADLINE_MS) until none is left; returns 1 then. */
int e2e_wait_no_procs(const char *needle);

/* Files */
void e2e_write(const char *path, const void *data, size_t len);
void e2e_writef(const char *path, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Write the file elsewhere (root/staging) and rename it into dir/name. */
void e2e_drop(const e2e_tree *t, const char *name, const void *data,
              size_t len);
/* Whole file, NUL-terminated; NULL when missing. */
char *e2e_read(const char *path, size_t *len);
json_t *e2e_read_json(const char *path);
int e2e_exists(const char *path); /* lstat: links count too */
/* Number of entries of a folder (names starting with '.' skipped when
 * !hidden); -1 when the folder is missing. */
int e2e_count(const char *dir, int hidden);
/* Path of dir/name in a static rotating buffer. */
const char *e2e_path(const char *dir, const char *name);
/* Lines of the log containing needle. */
int e2e_log_count(const e2e_tree *t, const char *needle);

/* Poll fn(ctx) every 20 ms until it returns true or timeout_ms passed. */
int e2e_wait_for(int (*fn)(void *), void *ctx, int timeout_ms);
/* Common predicate: e2e_count(dir, 0) == n. */
int e2e_wait_count(const char *dir, int n);
/* Sleep ms milliseconds. */
void e2e_sleep_ms(int ms);

/* Run a program: argv[0] a path; stdin from the given bytes (or /dev/null
 * when NULL). Returns the exit status (or 128+signal); *out and *err get
 * the outputs (free them). */
int e2e_run(char *const argv[], const char *input, char **out, char **err);

#endif
