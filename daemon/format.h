/* Output formats of a processed document, besides the JSON result of
 * output.c: a self-contained HTML page, a Markdown digest, brat standoff
 * (.txt + .ann) and CoNLL (token per line, BIO tags). Each works from the
 * document itself, so whatever layers the pipeline made are shown and
 * absent ones are simply left out (docs/formats.md).
 *
 * A format writes one or more files per document ("parts"): brat writes
 * NAME.txt and NAME.ann, the others one file each. The daemon writes every
 * part with dp_write_atomic; the CLI to stdout or to --output-dir. */
#ifndef DP_FORMAT_H
#define DP_FORMAT_H

#include "doc.h"
#include "output.h"

/* Write one part of `doc` to `sink`. Returns 0, or a negative errno with
 * err filled (-EIO when the sink failed). */
typedef int (*dp_format_fn)(dp_doc *doc, dp_sink_fn sink, void *ctx,
                            dp_err *err);

typedef struct dp_format_part {
    const char *ext;     /* file extension with its dot: ".html" */
    dp_format_fn write;
} dp_format_part;

enum {
    /* Several documents may follow each other in one stream (stdout):
     * json lines, Markdown digests, CoNLL documents. */
    DP_FORMAT_STREAMS = 1u << 0
};

typedef struct dp_format {
    const char *name;        /* as in --format and "outputs" */
    const char *description; /* one line, for --help */
    unsigned flags;          /* DP_FORMAT_* */
    /* Whether `doc` has what the format needs (e.g. CoNLL needs tokens):
     * 0, or -EINVAL with a reason. NULL: anything goes. Checked before any
     * part is written, so that a file is never left half made. */
    int (*check)(dp_doc *doc, dp_err *err);
    size_t n_parts;
    dp_format_part parts[2];
} dp_format;

/* The formats, terminated by an entry whose name is NULL. "jsonl" is the
 * CLI's name for json with one document per line (which json is too). */
extern const dp_format dp_formats[];

/* The format called `name`, or NULL. */
const dp_format *dp_format_find(const char *name);

/* "json, jsonl, html, md, brat, conll": for messages. */
const char *dp_format_names(void);

/* The writers, also usable alone. */
int dp_format_json(dp_doc *doc, dp_sink_fn sink, void *ctx, dp_err *err);
int dp_format_html(dp_doc *doc, dp_sink_fn sink, void *ctx, dp_err *err);
int dp_format_md(dp_doc *doc, dp_sink_fn sink, void *ctx, dp_err *err);
int dp_format_brat_txt(dp_doc *doc, dp_sink_fn sink, void *ctx, dp_err *err);
int dp_format_brat_ann(dp_doc *doc, dp_sink_fn sink, void *ctx, dp_err *err);
int dp_format_conll(dp_doc *doc, dp_sink_fn sink, void *ctx, dp_err *err);
int dp_format_conll_check(dp_doc *doc, dp_err *err);

/* ---- shared by the writers (format.c) --------------------------------- */

/* A buffered writer over a sink; `failed` sticks once a write fails. */
typedef struct dp_fw {
    dp_sink_fn sink;
    void *ctx;
    int failed;
    size_t n;
    char buf[8192];
} dp_fw;

void dp_fw_init(dp_fw *w, dp_sink_fn sink, void *ctx);
void dp_fw_put(dp_fw *w, const char *s, size_t n);
void dp_fw_puts(dp_fw *w, const char *s);
void dp_fw_printf(dp_fw *w, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Flush; returns 0 or -EIO (and fills err) when any write failed. */
int dp_fw_finish(dp_fw *w, dp_err *err);

/* A document's title: its first non-blank line, cut to at most `max`
 * bytes at a character boundary (with "…" when cut), spaces collapsed;
 * the document's name when the text is blank. Returns a new string. */
char *dp_format_title(dp_doc *doc, size_t max);

/* One distinct entity: its text, label and mention count. */
typedef struct dp_entity_entry {
    const char *text;
    const char *label;
    long long count;
} dp_entity_entry;

/* The entity index: the "entity_index" output when a stage set one,
 * otherwise counted from the "entity" layer (by text and label). Sorted
 * by label (PERSON, ORG, GPE... first), then by count (most first), then
 * by text. Free with
 * dp_entity_index_free. Returns 0 or -ENOMEM; *n may be 0. */
typedef struct dp_entity_index {
    dp_entity_entry *e;
    size_t n;
    json_t *hold; /* keeps the strings alive */
} dp_entity_index;
int dp_entity_index_build(dp_doc *doc, dp_entity_index *ix);
void dp_entity_index_free(dp_entity_index *ix);

/* The colour of a known label (OntoNotes and CoNLL names) as "#rrggbb",
 * or NULL. */
const char *dp_format_label_colour(const char *label);

/* Add the labels of `doc`'s entity layer to the set `labels` (a JSON
 * object used as a set). 0 or -ENOMEM. */
int dp_format_collect_labels(dp_doc *doc, json_t *labels);

/* Write brat's annotation.conf and visual.conf into `dir` for the entity
 * types in the set `labels`, so that brat opens the folder as it is. Files
 * there that docproc did not write are left alone; ones it wrote are
 * merged with (types are only added). 0, or a negative errno with err. */
int dp_format_brat_conf(const char *dir, json_t *labels, dp_err *err);

/* Code points in text[0, len). */
size_t dp_utf8_cps(const char *text, size_t len);

#endif
