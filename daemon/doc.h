/* The document model: raw bytes, current text, annotation layers, outputs and
 * the alignment from the text back to the raw bytes. Stages reach it only
 * through the dp_api table (include/docproc/stage.h); the host uses these. */
#ifndef DP_DOC_H
#define DP_DOC_H

#include <docproc/stage.h>

/* A stage's entry in the output's "stages" list. */
typedef struct dp_doc_stage_rec {
    const char *name;
    const char *version;
    double ms;
} dp_doc_stage_rec;

/* Create a document over a copy of `raw`. `name` is the file name or jsonl
 * id shown to stages; `id` (borrowed, may be NULL) is the output "id". */
dp_doc *dp_doc_new(const char *name, json_t *id, const void *raw,
                   size_t raw_len);
/* The same over `raw` itself (malloc'd, room for raw_len + 1 bytes, as
 * dp_read_file returns it), which the document takes, also when it fails
 * (NULL): a copy of a file of 100 MB costs 100 MB more memory touched. */
dp_doc *dp_doc_adopt(const char *name, json_t *id, unsigned char *raw,
                     size_t raw_len);
void dp_doc_free(dp_doc *doc);

/* Decode the raw bytes as strict UTF-8 (what happens when no stage
 * decodes). Fails with a reason on NUL bytes or invalid UTF-8. */
int dp_doc_decode_utf8(dp_doc *doc, dp_err *err);

int dp_doc_has_text(const dp_doc *doc);
const char *dp_doc_get_name(const dp_doc *doc);
json_t *dp_doc_get_id(const dp_doc *doc);
const char *dp_doc_encoding(const dp_doc *doc);
/* What identifies the daemon's claim of this document (written as the
 * output's "source.claim"; NULL when unset, as in the CLI). */
void dp_doc_set_claim(dp_doc *doc, const char *claim);
const char *dp_doc_claim(const dp_doc *doc);

/* Record that a stage ran and how long it took. */
int dp_doc_add_stage_rec(dp_doc *doc, const char *name, const char *version,
                         double ms);

/* Map a byte span of the current text back to the raw bytes. */
void dp_doc_src_span(const dp_doc *doc, size_t start, size_t end,
                     size_t *src_start, size_t *src_end);
/* True when a stage replaced the text (so "src" differs from offsets). */
int dp_doc_text_replaced(const dp_doc *doc);

/* Iterate exported layers for the output writer. */
typedef struct dp_doc_export {
    const char *layer;
    const char *key;
    unsigned flags;
} dp_doc_export;
size_t dp_doc_n_exports(const dp_doc *doc);
const dp_doc_export *dp_doc_get_export(const dp_doc *doc, size_t i);

/* Top-level outputs set by stages (an object, in insertion order). */
json_t *dp_doc_outputs(const dp_doc *doc);

size_t dp_doc_n_stage_recs(const dp_doc *doc);
const dp_doc_stage_rec *dp_doc_get_stage_rec(const dp_doc *doc, size_t i);

/* The API table every document carries. */
extern const dp_api dp_host_api;

/* Length of the longest valid UTF-8 prefix of s (== len when all valid). */
size_t dp_utf8_valid_prefix(const unsigned char *s, size_t len);

/* Copy `in` (bytes, e.g. a file name) into `out` as valid UTF-8: each byte
 * that is not part of a valid sequence becomes '?'. Truncates to fit. */
void dp_utf8_sanitize(const char *in, char *out, size_t out_len);

#endif
