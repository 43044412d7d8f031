/* conll: one token per line, "TOKEN TAG", with BIO2 entity tags (B-PERSON,
 * I-PERSON, O), a blank line after each sentence, and a "-DOCSTART- O"
 * line starting each document: the CoNLL-2003 layout that docproc-train
 * reads back. Tokens come from the "token" layer of the segment stage (it
 * is made even when the stage does not export it); sentences from the
 * "sentence" layer, else the whole document is one sentence. White space
 * inside a token (which would split the columns) is written as '_'. */
#include "format.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int blank_text(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!strchr(" \t\n\r\f\v", text[i]))
            return 0;
    return 1;
}

int dp_format_conll_check(dp_doc *doc, dp_err *err)
{
    size_t n, len;
    const char *text = dp_host_api.text(doc, &len);
    dp_host_api.layer(doc, "token", &n);
    if (n == 0 && text && !blank_text(text, len)) {
        dp_err_set(err, "the conll format needs tokens: run the segment "
                        "stage in the pipeline");
        return -EINVAL;
    }
    return 0;
}

static void put_label(dp_fw *w, const char *label)
{
    if (label == NULL || *label == 0)
        label = "ENTITY";
    for (const char *p = label; *p; p++)
        dp_fw_put(w, strchr(" \t\n\r\f\v", *p) ? "_" : p, 1);
}

int dp_format_conll(dp_doc *doc, dp_sink_fn sink, void *ctx, dp_err *err)
{
    int rc = dp_format_conll_check(doc, err);
    if (rc)
        return rc;
    size_t len, nt, ns, ne;
    const char *text = dp_host_api.text(doc, &len);
    const dp_ann *T = dp_host_api.layer(doc, "token", &nt);
    const dp_ann *S = dp_host_api.layer(doc, "sentence", &ns);
    const dp_ann *E = dp_host_api.layer(doc, "entity", &ne);
    dp_fw *w = malloc(sizeof *w);
    if (w == NULL) {
        dp_err_set(err, "out of memory writing CoNLL");
        return -ENOMEM;
    }
    dp_fw_init(w, sink, ctx);
    dp_fw_puts(w, "-DOCSTART- O\n\n");

    size_t si = 0, ei = 0;
    long cur_sent = -2; /* sentence of the previous token; -1: none */
    long last_ent = -1; /* entity tagged on the previous token */
    int any = 0;
    for (size_t i = 0; i < nt; i++) {
        if (T[i].end <= T[i].start)
            continue;
        /* Its sentence: the one containing its start, if any. */
        while (si < ns && S[si].end <= T[i].start)
            si++;
        long sent = si < ns && S[si].start <= T[i].start ? (long)si : -1;
        if (any && sent != cur_sent) {
            dp_fw_puts(w, "\n");
            last_ent = -1;
        }
        cur_sent = sent;
        /* Its entity: the first one overlapping it. */
        while (ei < ne && E[ei].end <= T[i].start)
            ei++;
        long ent = -1;
        for (size_t k = ei; k < ne && E[k].start < T[i].end; k++) {
            if (E[k].end > T[i].start && E[k].end > E[k].start) {
                ent = (long)k;
                break;
            }
        }
        for (size_t k = T[i].start; k < T[i].end; k++)
            dp_fw_put(w, strchr(" \t\n\r\f\v", text[k]) ? "_" : text + k, 1);
        if (ent < 0) {
            dp_fw_puts(w, " O\n");
        } else {
            dp_fw_puts(w, ent == last_ent ? " I-" : " B-");
            put_label(w, E[ent].label);
            dp_fw_puts(w, "\n");
        }
        last_ent = ent;
        any = 1;
    }
    if (any)
        dp_fw_puts(w, "\n");
    rc = dp_fw_finish(w, err);
    free(w);
    return rc;
}
