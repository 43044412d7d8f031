/* md: a short Markdown digest of a document: title, summary, keyphrases
 * and the entities grouped by label. Document text is escaped so that it
 * stays text in any CommonMark renderer (no HTML, links or emphasis). */
#include "format.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Inline text: white space collapsed to single spaces, Markdown and HTML
 * punctuation backslash-escaped, and what would start a list, heading or
 * quote at the start of a line made harmless. */
static void md_inline(dp_fw *w, const char *s, size_t n)
{
    int space = 0, first = 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
            c == '\v') {
            space = 1;
            continue;
        }
        if (space && !first)
            dp_fw_put(w, " ", 1);
        space = 0;
        if (c < 0x20 || c == 0x7F) {
            dp_fw_puts(w, "\xEF\xBF\xBD");
            first = 0;
            continue;
        }
        if (strchr("\\`*_[]<>#|~&!{}", c) ||
            (first && (c == '-' || c == '+' || c == '=' || c == ':')))
            dp_fw_put(w, "\\", 1);
        /* "1. " or "1) " at the start would make a list. */
        if (first && c >= '0' && c <= '9') {
            size_t k = i;
            while (k < n && s[k] >= '0' && s[k] <= '9')
                k++;
            if (k < n && (s[k] == '.' || s[k] == ')')) {
                dp_fw_put(w, s + i, k - i);
                dp_fw_put(w, "\\", 1);
                i = k - 1;
                first = 0;
                continue;
            }
        }
        dp_fw_put(w, s + i, 1);
        first = 0;
    }
}

static void md_str(dp_fw *w, const char *s)
{
    if (s)
        md_inline(w, s, strlen(s));
}

int dp_format_md(dp_doc *doc, dp_sink_fn sink, void *ctx, dp_err *err)
{
    dp_fw *w = malloc(sizeof *w);
    dp_entity_index ix = {0};
    char *title = dp_format_title(doc, 110);
    int rc = -ENOMEM;
    if (w == NULL || title == NULL || dp_entity_index_build(doc, &ix) != 0)
        goto out;
    dp_fw_init(w, sink, ctx);
    json_t *outputs = dp_doc_outputs(doc);

    dp_fw_puts(w, "# ");
    md_str(w, title);
    dp_fw_puts(w, "\n\n*Source:* ");
    md_str(w, dp_doc_get_name(doc));
    size_t len;
    const char *text = dp_host_api.text(doc, &len);
    dp_fw_printf(w, " (%zu characters)\n",
                 text ? dp_utf8_cps(text, len) : (size_t)0);

    const char *sum = json_string_value(
        json_object_get(json_object_get(outputs, "summary"), "text"));
    if (sum && *sum) {
        dp_fw_puts(w, "\n## Summary\n\n");
        md_str(w, sum);
        dp_fw_puts(w, "\n");
    }

    json_t *kps = json_object_get(outputs, "keyphrases");
    if (json_array_size(kps)) {
        dp_fw_puts(w, "\n## Keyphrases\n\n");
        size_t k;
        json_t *v;
        json_array_foreach(kps, k, v) {
            const char *t = json_string_value(json_object_get(v, "text"));
            if (t == NULL)
                t = json_string_value(v);
            if (t == NULL || *t == 0)
                continue;
            dp_fw_puts(w, "- ");
            md_str(w, t);
            dp_fw_puts(w, "\n");
        }
    }

    if (ix.n) {
        dp_fw_puts(w, "\n## Entities\n");
        for (size_t i = 0; i < ix.n; i++) {
            if (i == 0 || strcmp(ix.e[i].label, ix.e[i - 1].label) != 0) {
                dp_fw_puts(w, "\n### ");
                md_str(w, ix.e[i].label);
                dp_fw_puts(w, "\n\n");
            }
            dp_fw_puts(w, "- ");
            md_str(w, ix.e[i].text);
            if (ix.e[i].count > 1)
                dp_fw_printf(w, " (%lld)", ix.e[i].count);
            dp_fw_puts(w, "\n");
        }
    }
    rc = dp_fw_finish(w, err);
out:
    if (rc == -ENOMEM)
        dp_err_set(err, "out of memory writing Markdown");
    dp_entity_index_free(&ix);
    free(title);
    free(w);
    return rc;
}
