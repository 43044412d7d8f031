/* Helpers for tests: build a pipeline from a JSON stage list with the
 * plugins of this build tree, run text through it, read the output. */
#ifndef DP_TESTKIT_H
#define DP_TESTKIT_H

#include "doc.h"
#include "output.h"
#include "pipeline.h"

/* stages_json: a JSON array such as
 *   [{"name": "segment", "options": {"tokens": true}}]
 * Returns 0 or a negative errno with err filled. */
int tk_pipeline(dp_pipeline *p, const char *stages_json, dp_err *err);

/* Run `text` (len bytes; -1 for strlen) through p. Returns the document
 * (free with dp_doc_free) or NULL with err and *failed_stage set. */
dp_doc *tk_run(const dp_pipeline *p, const char *name, const char *text,
               long len, dp_err *err, const char **failed_stage);

/* The document's JSON output, parsed (json_decref it). */
json_t *tk_output(dp_doc *doc);

/* The current text of a layer annotation, as a new NUL-terminated string. */
char *tk_span(dp_doc *doc, const dp_ann *a);

/* Read a whole file into memory (NUL-terminated); NULL on error. */
char *tk_slurp(const char *path, size_t *len);

#endif
