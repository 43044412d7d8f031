/*
 * docproc stage-plugin interface: the one header a third-party stage includes.
 *
 * A stage is a shared object that exports exactly one function,
 *
 *     const struct dp_stage *docproc_stage_entry(uint32_t host_major,
 *                                                uint32_t host_minor);
 *
 * which DP_STAGE_EXPORT() below defines for you. The host calls it once after
 * dlopen(RTLD_NOW | RTLD_LOCAL); the stage may refuse an older host by
 * returning NULL. The host in turn refuses a stage whose abi_major differs
 * from its own, or whose abi_minor is newer than its own.
 *
 * Interface history: 1.0 the first; 1.1 added dp_api.annotate_many; 1.2
 * added dp_api.reserve and dp_api.commit (annotations written in place) and
 * DP_STAGE_EXPORT_SINCE (a stage that also runs on older hosts); 1.3 added
 * dp_api.add_spans and dp_span (a large layer with few labels from compact
 * records).
 *
 * Compatibility rules (as nginx and Redis modules do it):
 *   - struct dp_stage and struct dp_api only ever grow at their end. Each
 *     records its size; a reader touches a field only when the recorded size
 *     covers it (DP_HAS_FIELD).
 *   - A change that is not an append bumps DP_ABI_MAJOR.
 *
 * Threading: create() and destroy() run on one thread. process() is called
 * concurrently from several threads on different documents with the same
 * instance, so an instance must be read-only after create(). Per-document
 * state lives on the stack or in the document.
 *
 * Offsets: every offset a stage sees or gives is a byte offset into the
 * document's UTF-8 text, end exclusive. The host converts them to code points
 * in the JSON output.
 *
 * Return values follow libuv: 0 on success, a negative errno on failure.
 */
#ifndef DOCPROC_STAGE_H
#define DOCPROC_STAGE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DP_ABI_MAJOR 1
#define DP_ABI_MINOR 3

/* The one symbol a stage exports. */
#define DP_STAGE_ENTRY_SYMBOL "docproc_stage_entry"

#define DP_HAS_FIELD(ptr, type, field)                                        \
    ((ptr)->struct_size >= offsetof(type, field) + sizeof((ptr)->field))

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */

/* A human-readable reason, written by a stage and copied by the host into
 * the document's error record (failed/<name>.error.json) or the load error. */
typedef struct dp_err {
    char msg[512];
} dp_err;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static inline void dp_err_set(dp_err *err, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------------------ */
/* Options schema                                                            */

typedef enum dp_opt_type {
    DP_OPT_BOOL = 1,
    DP_OPT_INT,         /* JSON integer */
    DP_OPT_NUMBER,      /* JSON integer or real */
    DP_OPT_STRING,
    DP_OPT_STRING_LIST, /* JSON array of strings */
    DP_OPT_ANY          /* any JSON value; the stage checks it */
} dp_opt_type;

/* One option a stage accepts. The host validates the stage's "options"
 * object against this table before create(): an unknown key or a wrong type
 * fails config loading with the key path. Missing keys get `default_json`
 * (a JSON text, or NULL for "no default": the key stays absent). */
typedef struct dp_option {
    const char *name;
    dp_opt_type type;
    const char *default_json;
    const char *description;
} dp_option;

/* ------------------------------------------------------------------------ */
/* Documents                                                                 */

typedef struct dp_doc dp_doc; /* opaque; owned by the host */

/* One annotation of a layer: a span of the text with an optional label and
 * optional attributes (a JSON object, owned by the host). Attributes are
 * read, never changed, once added: annotations may share one object, each
 * holding a reference of its own (entities does, for the mentions of one
 * entity). */
typedef struct dp_ann {
    size_t start;
    size_t end;
    const char *label; /* interned by the host; NULL when none */
    json_t *attrs;     /* NULL when none */
} dp_ann;

/* A compact annotation for add_spans (interface 1.3): the span [start,
 * start + len) with the label labels[label] of the call, no attrs. 16
 * bytes; `user` is the stage's own, which the host never reads, so that a
 * stage can keep a few bytes of its own per record (segment: a token's
 * kind and gaps) and hand over its array as it is. */
typedef struct dp_span {
    size_t start;
    uint32_t len;
    uint8_t label;
    uint8_t user[3];
} dp_span;

/* One piece of the alignment between a new text and the text it replaces.
 * The pieces given to set_text cover the new text in order. When the two
 * lengths are equal the bytes correspond one to one; otherwise every byte of
 * [new_start, new_end) maps to the whole range [old_start, old_end). */
typedef struct dp_align {
    size_t new_start, new_end;
    size_t old_start, old_end;
} dp_align;

/* Log levels, as syslog priorities. */
enum { DP_LOG_ERR = 3, DP_LOG_WARNING = 4, DP_LOG_INFO = 6, DP_LOG_DEBUG = 7 };

/* Flags for export_layer. */
enum {
    DP_EXPORT_TEXT = 1u << 0, /* each item carries "text": its covered text */
    DP_EXPORT_SRC = 1u << 1   /* each item carries "src": [start, end] bytes
                                 of the original file, when the text was
                                 replaced by a stage */
};

/* The functions the host offers a stage. A stage never links against host
 * symbols: it reaches the host only through this table, which every document
 * carries (dp_doc_api) and create() receives. */
typedef struct dp_api {
    uint32_t struct_size;

    /* The current text (valid UTF-8, NUL-terminated) or NULL while the
     * document still holds undecoded bytes (before a decoding stage). The
     * pointer stays valid until set_text. */
    const char *(*text)(const dp_doc *doc, size_t *len);

    /* The original bytes of the file, as read. */
    const unsigned char *(*raw)(const dp_doc *doc, size_t *len);

    /* The document's name (file name or jsonl id), for hints such as a
     * .html suffix. Never a path a stage should open. */
    const char *(*name)(const dp_doc *doc);

    /* Replace the text. `text` must be valid UTF-8 (it is checked). `align`
     * maps the new text onto the previous one (onto the raw bytes when there
     * was no text yet); NULL maps it all to all. Existing annotations are
     * dropped: they pointed into the old text. The host copies both. */
    int (*set_text)(dp_doc *doc, const char *text, size_t len,
                    const dp_align *align, size_t n_align);

    /* Record the source encoding found ("utf-8", "windows-1252", ...). */
    int (*set_encoding)(dp_doc *doc, const char *encoding);

    /* Add an annotation to `layer`. The host takes ownership of `attrs`
     * (even on failure). Returns -EINVAL for a span outside the text. */
    int (*annotate)(dp_doc *doc, const char *layer, size_t start, size_t end,
                    const char *label, json_t *attrs);

    /* The annotations of `layer`, sorted by start then end; *n gets their
     * count. NULL with *n == 0 when the layer is empty or absent. Valid until
     * the next annotate, annotate_many or reserve on that layer. */
    const dp_ann *(*layer)(dp_doc *doc, const char *layer, size_t *n);

    /* Put `layer` in the JSON output as an array under `key` (for example
     * layer "sentence" as "sentences"). Layers not exported stay internal. */
    int (*export_layer)(dp_doc *doc, const char *layer, const char *key,
                        unsigned flags);

    /* Set a top-level output member (e.g. "summary"). Takes ownership of
     * `value`. Keys the host owns (docproc, id, source, text, stages, error)
     * and exported layer keys are refused with -EINVAL. */
    int (*set_output)(dp_doc *doc, const char *key, json_t *value);

    /* A top-level output member set by an earlier stage, borrowed; NULL if
     * none. */
    json_t *(*get_output)(dp_doc *doc, const char *key);

    /* Log a line through the daemon's log (stderr with a syslog prefix). */
    void (*log)(int level, const char *stage, const char *fmt, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 3, 4)))
#endif
        ;

    /* --- 1.1 --- (check DP_HAS_FIELD(api, dp_api, annotate_many)) */

    /* Add n annotations to `layer` in one call: the cheap way to add a
     * large layer such as tokens. The host copies the array and takes
     * ownership of every attrs (even on failure). Same checks as annotate;
     * on -EINVAL nothing is added. */
    int (*annotate_many)(dp_doc *doc, const char *layer, const dp_ann *anns,
                         size_t n);

    /* --- 1.2 --- (check DP_HAS_FIELD(api, dp_api, commit)) */

    /* Room for n annotations at the end of `layer` (created when absent),
     * inside the layer's own storage: the stage writes them there and hands
     * them over with commit, so that a large layer is never copied. NULL on
     * out of memory, for a NULL layer or before the text is decoded. The
     * room holds nothing of the layer until commit; it stays valid until
     * the next reserve, commit, annotate or annotate_many on that layer or
     * set_text (a new reserve replaces it; an annotate overwrites it).
     * Leave no attrs in the part of the room that is not committed. */
    dp_ann *(*reserve)(dp_doc *doc, const char *layer, size_t n);

    /* Add the first n annotations written into the room reserved on
     * `layer`, n at most what was reserved, and release the room. The same
     * checks as annotate_many in one pass over the room: spans, attrs,
     * labels interned (any string; the host rewrites each label field with
     * its interned copy), order noted. -EINVAL for a bad span or attrs, or
     * n larger than the room (or no room): nothing is added. The host takes
     * ownership of the n entries' attrs, even on failure, except when there
     * was no room. */
    int (*commit)(dp_doc *doc, const char *layer, size_t n);

    /* --- 1.3 --- (check DP_HAS_FIELD(api, dp_api, add_spans)) */

    /* Add n annotations to `layer` (created when absent) from compact
     * records: spans[i] becomes [start, start + len) labelled
     * labels[spans[i].label] (interned; a NULL entry is no label), no
     * attrs. The host writes the layer's records itself in one pass that
     * checks the spans and label indexes (< n_labels, n_labels <= 256) and
     * notes the order: for a large layer with a few labels (tokens and
     * their shapes) this costs less than writing dp_ann records and
     * committing them. -EINVAL for a bad span or index (nothing is added),
     * -ENOMEM. Releases a room reserved on the layer. */
    int (*add_spans)(dp_doc *doc, const char *layer, const dp_span *spans,
                     size_t n, const char *const *labels, size_t n_labels);
} dp_api;

/* Every document starts with this header; the rest is the host's. */
struct dp_doc_head {
    const dp_api *api;
};

static inline const dp_api *dp_doc_api(const dp_doc *doc)
{
    return ((const struct dp_doc_head *)(const void *)doc)->api;
}

/* Convenience wrappers, so stage code reads naturally. */
static inline const char *dp_doc_text(const dp_doc *doc, size_t *len)
{
    return dp_doc_api(doc)->text(doc, len);
}
static inline int dp_doc_annotate(dp_doc *doc, const char *layer, size_t start,
                                  size_t end, const char *label, json_t *attrs)
{
    return dp_doc_api(doc)->annotate(doc, layer, start, end, label, attrs);
}
static inline const dp_ann *dp_doc_layer(dp_doc *doc, const char *layer,
                                         size_t *n)
{
    return dp_doc_api(doc)->layer(doc, layer, n);
}

/* ------------------------------------------------------------------------ */
/* Stages                                                                    */

enum {
    /* The stage reads raw bytes and calls set_text with decoded UTF-8. When
     * the first stage of a pipeline lacks this flag, the host itself checks
     * that the input is UTF-8 and fails the document if not. */
    DP_STAGE_DECODES = 1u << 0
};

typedef struct dp_stage {
    uint32_t abi_major;   /* DP_ABI_MAJOR the stage was built against */
    uint32_t abi_minor;   /* DP_ABI_MINOR the stage was built against, or
                             the oldest it runs on (DP_STAGE_EXPORT_SINCE) */
    uint32_t struct_size; /* sizeof(struct dp_stage) at build time */
    uint32_t flags;       /* DP_STAGE_* */

    const char *name;        /* unique in a pipeline, e.g. "segment" */
    const char *version;     /* the stage's own version, e.g. "1.0.0" */
    const char *description; /* one line */

    /* Layers this stage adds and layers it needs from earlier stages,
     * NULL-terminated; either may be NULL for none. */
    const char *const *provides;
    const char *const *requires;

    /* Accepted options, terminated by an entry whose name is NULL. */
    const dp_option *options;

    /* Build an instance from validated options (defaults filled in).
     * `data_dir` is the folder the stage's shared object was loaded from;
     * its data files (word lists, models) sit there beside it. */
    int (*create)(const dp_api *api, const json_t *options,
                  const char *data_dir, void **instance, dp_err *err);

    /* Process one document. Called concurrently on different documents. */
    int (*process)(void *instance, dp_doc *doc, dp_err *err);

    /* Free an instance. */
    void (*destroy)(void *instance);
} dp_stage;

#if defined(__GNUC__)
#define DP_EXPORTED __attribute__((visibility("default")))
#else
#define DP_EXPORTED
#endif

/* Define the entry point for `stage` (a const struct dp_stage). The stage
 * refuses a host older than the header it was built with. Build plugins with
 * -fvisibility=hidden so that this is the only exported symbol. */
#define DP_STAGE_EXPORT(stage)                                                \
    DP_EXPORTED const struct dp_stage *docproc_stage_entry(                   \
        uint32_t host_major, uint32_t host_minor);                            \
    DP_EXPORTED const struct dp_stage *docproc_stage_entry(                   \
        uint32_t host_major, uint32_t host_minor)                             \
    {                                                                         \
        if (host_major != DP_ABI_MAJOR ||                                    \
            (uint64_t)host_minor + 1 <= DP_ABI_MINOR)                        \
            return NULL;                                                      \
        return &(stage);                                                      \
    }

/* The same for a stage that runs on hosts from interface 1.`min_minor` on
 * and checks DP_HAS_FIELD before using anything newer. Its descriptor gives
 * .abi_minor = min_minor, since a host refuses a stage whose abi_minor is
 * newer than its own. */
#define DP_STAGE_EXPORT_SINCE(stage, min_minor)                               \
    DP_EXPORTED const struct dp_stage *docproc_stage_entry(                   \
        uint32_t host_major, uint32_t host_minor);                            \
    DP_EXPORTED const struct dp_stage *docproc_stage_entry(                   \
        uint32_t host_major, uint32_t host_minor)                             \
    {                                                                         \
        if (host_major != DP_ABI_MAJOR || host_minor < (uint32_t)(min_minor))  \
            return NULL;                                                      \
        return &(stage);                                                      \
    }

typedef const struct dp_stage *(*dp_stage_entry_fn)(uint32_t host_major,
                                                    uint32_t host_minor);

#ifdef __cplusplus
}
#endif

#endif /* DOCPROC_STAGE_H */
