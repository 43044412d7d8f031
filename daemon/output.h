/* The JSON output of a document (format version 1, docs/output.md),
 * streamed to a sink so that large documents are not built in memory. */
#ifndef DP_OUTPUT_H
#define DP_OUTPUT_H

#include <stdio.h>

#include "doc.h"

/* Same shape as jansson's json_dump_callback_t: 0 ok, -1 error. */
typedef int (*dp_sink_fn)(const char *buf, size_t len, void *ctx);

/* Sinks: a stdio stream, or a growing memory buffer. */
int dp_sink_file(const char *buf, size_t len, void *ctx); /* ctx: FILE* */

typedef struct dp_membuf {
    char *data;
    size_t len, cap;
} dp_membuf;
int dp_sink_membuf(const char *buf, size_t len, void *ctx); /* dp_membuf* */
void dp_membuf_free(dp_membuf *b);

/* Write the result object of a processed document (no trailing newline). */
int dp_output_write(dp_doc *doc, dp_sink_fn sink, void *ctx);

/* Write an error object: {"docproc":1,"id",...,"error":{"stage","message"}}.
 * `id` and `name` may be NULL. */
int dp_output_write_error(json_t *id, const char *name, const char *stage,
                          const char *message, dp_sink_fn sink, void *ctx);

/* Call once at start, on the main thread: OpenSSL sets up its global state
 * on first use, and doing that on a pool thread that is never joined
 * leaves a per-thread block that leak checkers report. */
void dp_output_init(void);

/* Lower-case hex SHA-256 of a buffer (65 bytes with the NUL). */
void dp_sha256_hex(const void *data, size_t len, char out[65]);

#endif
