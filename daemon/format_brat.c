/* brat: the standoff format of the brat annotation tool. NAME.txt holds
 * the document's text exactly (the cleaned text, which the offsets refer
 * to); NAME.ann one T-line per entity mention:
 *
 *     T1<TAB>PERSON 0 12<TAB>Barack Obama
 *
 * Offsets count characters (code points) of the .txt, end exclusive, as
 * brat does. A mention that spans a line break becomes a discontinuous
 * annotation, "T2<TAB>ORG 10 15;16 22<TAB>first second", since a T-line's
 * text cannot hold a newline (nor a tab); its fragments are joined by one space, as
 * brat expects. */
#include "format.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int dp_format_brat_txt(dp_doc *doc, dp_sink_fn sink, void *ctx, dp_err *err)
{
    size_t len;
    const char *text = dp_host_api.text(doc, &len);
    if (text == NULL) {
        dp_err_set(err, "the document has no text");
        return -EINVAL;
    }
    if (len && sink(text, len, ctx) != 0) {
        dp_err_set(err, "cannot write the brat text");
        return -EIO;
    }
    return 0;
}

/* The type of a T-line: brat allows no white space in it. */
static void brat_type(dp_fw *w, const char *label)
{
    if (label == NULL || *label == 0)
        label = "ENTITY";
    for (const char *p = label; *p; p++) {
        char c = *p;
        dp_fw_put(w, c == ' ' || c == '\t' || c == '\n' || c == '\r' ? "_"
                                                                   : p,
                  1);
    }
}

static int is_break(char c) { return c == '\n' || c == '\r' || c == '\t'; }

int dp_format_brat_ann(dp_doc *doc, dp_sink_fn sink, void *ctx, dp_err *err)
{
    size_t len, n;
    const char *text = dp_host_api.text(doc, &len);
    const dp_ann *E = dp_host_api.layer(doc, "entity", &n);
    if (text == NULL) {
        dp_err_set(err, "the document has no text");
        return -EINVAL;
    }
    dp_fw *w = malloc(sizeof *w);
    if (w == NULL) {
        dp_err_set(err, "out of memory writing brat");
        return -ENOMEM;
    }
    dp_fw_init(w, sink, ctx);
    /* Byte to character offsets, walking forward: the layer is sorted. */
    size_t byte = 0, cp = 0, t = 0;
#define CP_AT(b)                                                              \
    do {                                                                      \
        if ((b) < byte) {                                                     \
            byte = 0;                                                         \
            cp = 0;                                                           \
        }                                                                     \
        while (byte < (b))                                                    \
            cp += ((unsigned char)text[byte++] & 0xC0) != 0x80;               \
    } while (0)
    for (size_t i = 0; i < n; i++) {
        size_t s = E[i].start, e = E[i].end;
        /* Trim line breaks at the edges; skip what is left empty. */
        while (s < e && is_break(text[s]))
            s++;
        while (e > s && is_break(text[e - 1]))
            e--;
        if (s >= e)
            continue;
        dp_fw_printf(w, "T%zu\t", ++t);
        brat_type(w, E[i].label);
        /* Fragments: the runs between line breaks. */
        size_t fs = s;
        int first = 1;
        while (fs < e) {
            size_t fe = fs;
            while (fe < e && !is_break(text[fe]))
                fe++;
            CP_AT(fs);
            size_t cs = cp;
            CP_AT(fe);
            dp_fw_printf(w, "%s%zu %zu", first ? " " : ";", cs, cp);
            first = 0;
            fs = fe;
            while (fs < e && is_break(text[fs]))
                fs++;
        }
        dp_fw_puts(w, "\t");
        fs = s;
        first = 1;
        while (fs < e) {
            size_t fe = fs;
            while (fe < e && !is_break(text[fe]))
                fe++;
            if (!first)
                dp_fw_puts(w, " ");
            dp_fw_put(w, text + fs, fe - fs);
            first = 0;
            fs = fe;
            while (fs < e && is_break(text[fs]))
                fs++;
        }
        dp_fw_puts(w, "\n");
    }
#undef CP_AT
    int rc = dp_fw_finish(w, err);
    free(w);
    return rc;
}
