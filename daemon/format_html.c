/* html: one self-contained page per document. Inline CSS only, no script
 * at all, and a Content-Security-Policy that forbids loading anything, so
 * the page works offline and cannot run code even if the text tried to.
 * Every piece of document text goes through html_text/html_attr. */
#include "format.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "version.h"

/* Escape for element content and quoted attribute values alike. */
static void html_escn(dp_fw *w, const char *s, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep = NULL;
        switch (s[i]) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default:
            /* C0 controls other than tab, LF, CR are parse errors in HTML:
             * show them as U+FFFD rather than pass them on. */
            if ((unsigned char)s[i] < 0x20 && s[i] != '\t' && s[i] != '\n' &&
                s[i] != '\r')
                rep = "\xEF\xBF\xBD";
            else if (s[i] == 0x7F)
                rep = "\xEF\xBF\xBD";
        }
        if (rep) {
            dp_fw_put(w, s + run, i - run);
            dp_fw_puts(w, rep);
            run = i + 1;
        }
    }
    dp_fw_put(w, s + run, n - run);
}

static void html_esc(dp_fw *w, const char *s)
{
    if (s)
        html_escn(w, s, strlen(s));
}

/* ---- colours per label -------------------------------------------------- */

static void label_colour(const char *label, char out[32])
{
    const char *known = dp_format_label_colour(label);
    if (known) {
        snprintf(out, 32, "%s", known);
        return;
    }
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)label; *p; p++)
        h = (h ^ *p) * 16777619u;
    snprintf(out, 32, "hsl(%u,70%%,84%%)", (unsigned)(h % 360));
}

/* Distinct labels of the page; a label's index names its CSS class. */
typedef struct labels {
    const char **v;
    size_t n, cap;
} labels;

static int label_index(labels *ls, const char *label, int add)
{
    for (size_t i = 0; i < ls->n; i++)
        if (strcmp(ls->v[i], label) == 0)
            return (int)i;
    if (!add)
        return -1;
    if (ls->n == ls->cap) {
        size_t cap = ls->cap ? ls->cap * 2 : 16;
        const char **v = realloc(ls->v, cap * sizeof *v);
        if (v == NULL)
            return -1;
        ls->v = v;
        ls->cap = cap;
    }
    ls->v[ls->n] = label;
    return (int)ls->n++;
}

static const char *ann_label(const dp_ann *a)
{
    return a->label && *a->label ? a->label : "ENTITY";
}

static const char page_css[] =
    ":root{color-scheme:light}"
    "body{font:16px/1.55 system-ui,-apple-system,'Segoe UI',Roboto,"
    "'DejaVu Sans',sans-serif;max-width:52rem;margin:2rem auto;"
    "padding:0 1.2rem;color:#1d1d1f;background:#fff}"
    "h1{font-size:1.7rem;line-height:1.25;margin:.2rem 0 .4rem}"
    "h2{font-size:1.05rem;text-transform:uppercase;letter-spacing:.06em;"
    "color:#555;border-bottom:1px solid #e3e3e3;padding-bottom:.2rem;"
    "margin:1.8rem 0 .7rem}"
    ".meta{color:#777;font-size:.85rem;margin:0}"
    "#summary p{font-size:1.08rem;background:#f6f8fa;border-left:4px solid "
    "#6a9fd8;padding:.7rem 1rem;margin:0;white-space:pre-wrap}"
    ".kp{list-style:none;padding:0;margin:0;display:flex;flex-wrap:wrap;"
    "gap:.4rem}"
    ".kp li{background:#eef1f5;border-radius:1rem;padding:.15rem .7rem;"
    "font-size:.92rem}"
    ".kp li span{color:#888;font-size:.75rem;margin-left:.35rem}"
    ".grp{margin:.35rem 0;line-height:2}"
    ".grp .tag{min-width:5.5rem;text-align:center;margin-right:.3rem}"
    ".ent{border:1px solid var(--c);border-radius:.3rem;padding:.05rem .4rem;"
    "margin-right:.15rem;font-size:.92rem;white-space:nowrap}"
    ".ent b{font-weight:600;font-size:.72rem;color:#666;margin-left:.35rem}"
    ".tag{display:inline-block;font-size:.72rem;font-weight:600;"
    "letter-spacing:.03em;padding:0 .35rem;border-radius:.25rem;"
    "background:var(--c);color:#333}"
    "#text .meta{margin-bottom:.6rem}"
    ".pb{display:block;height:.7em}"
    ".doc{white-space:pre-wrap;overflow-wrap:break-word}"
    ".s{border-radius:.2rem;transition:background .1s}"
    ".s:hover{background:#fff4c2;box-shadow:0 0 0 1px #e8d48a}"
    ".s.sum{text-decoration:underline;text-decoration-color:#6a9fd8;"
    "text-decoration-thickness:2px;text-underline-offset:3px}"
    "mark.e{background:var(--c);color:inherit;padding:.05rem .15rem;"
    "border-radius:.25rem;box-decoration-break:clone;"
    "-webkit-box-decoration-break:clone}"
    "mark.e::after{content:attr(data-label);font-size:.62em;font-weight:700;"
    "letter-spacing:.03em;margin-left:.3em;color:#444;vertical-align:.1em;"
    "text-decoration:none;display:inline-block}"
    "footer{margin-top:2.5rem;color:#999;font-size:.8rem}"
    "@media print{.s:hover{background:none;box-shadow:none}}";

/* ---- the text with sentences and entities ------------------------------- */

static void open_mark(dp_fw *w, const dp_ann *E, size_t ne, size_t i,
                      const char *text, labels *ls)
{
    const char *label = ann_label(&E[i]);
    int li = label_index(ls, label, 0);
    dp_fw_printf(w, "<mark class=\"e l%d\" title=\"", li < 0 ? 0 : li);
    html_esc(w, label);
    /* A later mention names its canonical one ("Obama" -> "Barack
     * Obama"). */
    json_t *r = json_object_get(E[i].attrs, "ref");
    if (json_is_integer(r) && json_integer_value(r) >= 0 &&
        (size_t)json_integer_value(r) < ne &&
        (size_t)json_integer_value(r) != i) {
        const dp_ann *c = &E[json_integer_value(r)];
        dp_fw_puts(w, ": ");
        html_escn(w, text + c->start, c->end - c->start);
    }
    dp_fw_puts(w, "\" data-label=\"");
    html_esc(w, label);
    dp_fw_puts(w, "\">");
}

static void write_body_text(dp_fw *w, dp_doc *doc, labels *ls,
                            const unsigned char *in_summary)
{
    size_t len, ns, ne;
    const char *text = dp_host_api.text(doc, &len);
    const dp_ann *S = dp_host_api.layer(doc, "sentence", &ns);
    const dp_ann *E = dp_host_api.layer(doc, "entity", &ne);
    size_t np;
    const dp_ann *P = dp_host_api.layer(doc, "paragraph", &np);
    size_t si = 0, ei = 0, pi = 0, pos = 0;
    int s_open = 0;
    const dp_ann *cur = NULL; /* the entity being marked */
    size_t cur_i = 0;
    int cur_shown = 0; /* its <mark> is open (not closed at a boundary) */

    dp_fw_puts(w, "<div class=\"doc\">");
    for (;;) {
        /* Skip empty spans and those overlapping what came before. */
        while (!s_open && si < ns &&
               (S[si].start < pos || S[si].end <= S[si].start))
            si++;
        while (cur == NULL && ei < ne &&
               (E[ei].start < pos || E[ei].end <= E[ei].start))
            ei++;
        int s_event = (s_open && pos == S[si].end) ||
                      (!s_open && si < ns && S[si].start == pos);
        if (cur && cur_shown && (pos == cur->end || s_event)) {
            dp_fw_puts(w, "</mark>");
            cur_shown = 0;
        }
        if (cur && pos == cur->end)
            cur = NULL;
        if (s_open && pos == S[si].end) {
            dp_fw_puts(w, "</span>");
            s_open = 0;
            si++;
            while (si < ns && (S[si].start < pos || S[si].end <= S[si].start))
                si++;
        }
        /* A little space before each paragraph but the first (an empty
         * element: the text itself stays as it is). */
        while (pi < np && P[pi].start < pos)
            pi++;
        if (pi < np && P[pi].start == pos) {
            if (pos > 0 && !s_open && !cur_shown && pos < len)
                dp_fw_puts(w, "<i class=\"pb\"></i>");
            pi++;
        }
        if (!s_open && si < ns && S[si].start == pos && pos < len) {
            dp_fw_printf(w, "<span class=\"s%s\" title=\"sentence %zu\">",
                         in_summary && in_summary[si] ? " sum" : "", si + 1);
            s_open = 1;
        }
        if (cur && !cur_shown && pos < len) {
            open_mark(w, E, ne, cur_i, text, ls);
            cur_shown = 1;
        } else if (cur == NULL) {
            while (ei < ne && (E[ei].start < pos || E[ei].end <= E[ei].start))
                ei++;
            if (ei < ne && E[ei].start == pos && pos < len) {
                cur = &E[ei];
                cur_i = ei++;
                open_mark(w, E, ne, cur_i, text, ls);
                cur_shown = 1;
            }
        }
        if (pos >= len)
            break;
        size_t next = len;
        if (s_open)
            next = S[si].end;
        else if (si < ns && S[si].start < next)
            next = S[si].start;
        if (pi < np && P[pi].start > pos && P[pi].start < next)
            next = P[pi].start;
        if (cur && cur->end < next)
            next = cur->end;
        else if (cur == NULL && ei < ne && E[ei].start < next)
            next = E[ei].start;
        if (next <= pos) /* cannot happen; never loop forever */
            next = pos + 1;
        html_escn(w, text + pos, next - pos);
        pos = next;
    }
    if (cur_shown)
        dp_fw_puts(w, "</mark>");
    if (s_open)
        dp_fw_puts(w, "</span>");
    dp_fw_puts(w, "</div>\n");
}

/* ---- the page ------------------------------------------------------------ */

int dp_format_html(dp_doc *doc, dp_sink_fn sink, void *ctx, dp_err *err)
{
    dp_fw *w = malloc(sizeof *w);
    labels ls = {0};
    dp_entity_index ix = {0};
    unsigned char *in_summary = NULL;
    char *title = dp_format_title(doc, 110);
    size_t len, ne, ns;
    const char *text = dp_host_api.text(doc, &len);
    int rc = -ENOMEM;
    if (w == NULL || title == NULL || text == NULL ||
        dp_entity_index_build(doc, &ix) != 0)
        goto out;
    dp_fw_init(w, sink, ctx);
    json_t *outputs = dp_doc_outputs(doc);

    /* Labels, in order of first appearance. */
    const dp_ann *E = dp_host_api.layer(doc, "entity", &ne);
    for (size_t i = 0; i < ne; i++)
        if (label_index(&ls, ann_label(&E[i]), 1) < 0)
            goto out;
    for (size_t i = 0; i < ix.n; i++)
        if (label_index(&ls, ix.e[i].label, 1) < 0)
            goto out;

    dp_host_api.layer(doc, "sentence", &ns);
    json_t *summary = json_object_get(outputs, "summary");
    json_t *sum_idx = json_object_get(summary, "sentences");
    if (ns && json_array_size(sum_idx)) {
        if ((in_summary = calloc(ns, 1)) == NULL)
            goto out;
        size_t k;
        json_t *v;
        json_array_foreach(sum_idx, k, v) {
            if (json_is_integer(v) && json_integer_value(v) >= 0 &&
                (size_t)json_integer_value(v) < ns)
                in_summary[json_integer_value(v)] = 1;
        }
    }

    dp_fw_puts(w, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n"
                  "<meta http-equiv=\"Content-Security-Policy\" "
                  "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, "
                  "initial-scale=1\">\n"
                  "<meta name=\"generator\" content=\"docproc " DP_VERSION
                  "\">\n<title>");
    html_esc(w, title);
    dp_fw_puts(w, "</title>\n<style>");
    dp_fw_puts(w, page_css);
    for (size_t i = 0; i < ls.n; i++) {
        char colour[32];
        label_colour(ls.v[i], colour);
        dp_fw_printf(w, ".l%zu{--c:%s}", i, colour);
    }
    dp_fw_puts(w, "</style>\n</head>\n<body>\n<header><h1>");
    html_esc(w, title);
    dp_fw_puts(w, "</h1><p class=\"meta\">");
    html_esc(w, dp_doc_get_name(doc));
    dp_fw_printf(w, " &middot; %zu characters", dp_utf8_cps(text, len));
    const char *enc = dp_doc_encoding(doc);
    if (enc && strcmp(enc, "utf-8") != 0 && strcmp(enc, "ascii") != 0 &&
        strcmp(enc, "us-ascii") != 0) {
        dp_fw_puts(w, " &middot; decoded from ");
        html_esc(w, enc);
    }
    dp_fw_puts(w, "</p></header>\n");

    const char *sum_text = json_string_value(json_object_get(summary, "text"));
    if (sum_text && *sum_text) {
        dp_fw_puts(w, "<section id=\"summary\"><h2>Summary</h2><p>");
        html_esc(w, sum_text);
        dp_fw_puts(w, "</p></section>\n");
    }

    json_t *kps = json_object_get(outputs, "keyphrases");
    if (json_array_size(kps)) {
        dp_fw_puts(w, "<section id=\"keyphrases\"><h2>Keyphrases</h2>"
                      "<ul class=\"kp\">");
        size_t k;
        json_t *v;
        json_array_foreach(kps, k, v) {
            const char *t = json_string_value(json_object_get(v, "text"));
            if (t == NULL)
                t = json_string_value(v);
            if (t == NULL)
                continue;
            dp_fw_puts(w, "<li>");
            html_esc(w, t);
            json_t *sc = json_object_get(v, "score");
            if (json_is_number(sc))
                dp_fw_printf(w, "<span>%.2f</span>", json_number_value(sc));
            dp_fw_puts(w, "</li>");
        }
        dp_fw_puts(w, "</ul></section>\n");
    }

    if (ix.n) {
        /* One line per label: the tag, then each distinct entity with its
         * mention count. */
        dp_fw_puts(w, "<section id=\"entities\"><h2>Entities</h2>\n");
        for (size_t i = 0; i < ix.n; i++) {
            int li = label_index(&ls, ix.e[i].label, 0);
            if (i == 0 || strcmp(ix.e[i].label, ix.e[i - 1].label) != 0) {
                if (i)
                    dp_fw_puts(w, "</p>\n");
                dp_fw_printf(w, "<p class=\"grp\"><span class=\"tag l%d\">",
                             li);
                html_esc(w, ix.e[i].label);
                dp_fw_puts(w, "</span> ");
            }
            dp_fw_printf(w, "<span class=\"ent l%d\" data-count=\"%lld\">",
                         li, ix.e[i].count);
            html_esc(w, ix.e[i].text);
            dp_fw_printf(w, "<b>%lld</b></span> ", ix.e[i].count);
        }
        dp_fw_puts(w, "</p></section>\n");
    }

    dp_fw_puts(w, "<section id=\"text\"><h2>Text</h2>\n");
    if (ns)
        dp_fw_puts(w, "<p class=\"meta\">Hover over the text to see each "
                      "sentence; sentences of the summary are underlined."
                      "</p>\n");
    write_body_text(w, doc, &ls, in_summary);
    dp_fw_puts(w, "</section>\n<footer>Made by docproc " DP_VERSION);
    size_t nrec = dp_doc_n_stage_recs(doc);
    for (size_t i = 0; i < nrec; i++) {
        dp_fw_puts(w, i ? ", " : " with stages ");
        html_esc(w, dp_doc_get_stage_rec(doc, i)->name);
    }
    dp_fw_puts(w, ".</footer>\n</body></html>\n");
    rc = dp_fw_finish(w, err);
out:
    if (rc == -ENOMEM)
        dp_err_set(err, "out of memory writing HTML");
    dp_entity_index_free(&ix);
    free(ls.v);
    free(in_summary);
    free(title);
    free(w);
    return rc;
}
