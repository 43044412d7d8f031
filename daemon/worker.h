/* The worker side of process isolation: `docprocd --worker CONFIG`.
 *
 * docprocd starts N copies of itself as workers (daemon/workerpool.c). Each
 * loads the config and its plugins once, then runs one document at a time
 * with dp_job_run, so that a stage that crashes or hangs takes down only
 * its worker, never the daemon.
 *
 * The protocol is JSON, one object per line, over the worker's stdin (from
 * the daemon) and stdout (to the daemon). Names are bytes: a name that is
 * valid UTF-8 travels as "name", any other as "name_hex".
 *
 *   daemon -> worker  {"config": {...}}                  first, once: the
 *                                                        config to run (the
 *                                                        one the daemon runs,
 *                                                        so that a worker
 *                                                        started after the
 *                                                        file was edited
 *                                                        still matches it)
 *                     {"name": N, "pname": P, "recovering": bool,
 *                      "indexed_output": O}              O: only for a document
 *                                                        of a recovery pass:
 *                                                        its output found in
 *                                                        the outbox, or ""
 *   worker -> daemon  {"event": "ready", "pid": N}       once, after loading
 *                     {"event": "stage", "stage": S}     before each stage
 *                                                        ("input" before the
 *                                                        pipeline, "output"
 *                                                        after its last stage)
 *                     {"event": "result", "result": "done"|"failed"|"retry",
 *                      "stage": S, "message": M, "out_name": O,
 *                      "bytes": N, "ms": X, "stages": [[name, ms], ...]}
 *
 * The worker exits 0 when its stdin reaches end of file (the daemon closes
 * it to stop the worker), and 2 when the config or a plugin cannot be
 * loaded. It ignores SIGINT, SIGTERM and SIGHUP (the daemon decides when it
 * stops) and dies with the daemon (PR_SET_PDEATHSIG), so that no orphan
 * keeps working on a document that the next daemon resumes. */
#ifndef DP_WORKER_H
#define DP_WORKER_H

#include <stddef.h>

#include <jansson.h>

/* Run a worker until its stdin closes. `config_path` only names the
 * config in messages: the config itself comes first on stdin. Returns the
 * process exit status. */
int dp_worker_main(const char *config_path);

/* Protocol helpers shared with the pool. */

/* Set obj[key] (or obj[key_hex]) from the bytes of the NUL-terminated s.
 * Returns 0 or -ENOMEM. */
int dp_wire_set_bytes(json_t *obj, const char *key, const char *s);

/* Read obj[key] (or obj[key_hex]) into buf. Returns 0, or -EINVAL when
 * missing, malformed or longer than size - 1 bytes. */
int dp_wire_get_bytes(const json_t *obj, const char *key, char *buf,
                      size_t size);

/* A JSON string of the bytes s with invalid UTF-8 replaced by U+FFFD,
 * for messages (lossy). NULL when out of memory. */
json_t *dp_wire_text(const char *s);

#endif
