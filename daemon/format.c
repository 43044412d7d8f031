/* The table of output formats and what their writers share. */
#include "format.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int dp_format_json(dp_doc *doc, dp_sink_fn sink, void *ctx, dp_err *err)
{
    int rc = dp_output_write(doc, sink, ctx);
    if (rc == 0 && sink("\n", 1, ctx) != 0)
        rc = -EIO;
    if (rc)
        dp_err_set(err, "cannot write the JSON result");
    return rc;
}

const dp_format dp_formats[] = {
    {"json", "the JSON result, one document per line (docs/output.md)",
     DP_FORMAT_STREAMS, NULL, 1, {{".json", dp_format_json}}},
    {"jsonl", "the same as json: one JSON result per line",
     DP_FORMAT_STREAMS, NULL, 1, {{".json", dp_format_json}}},
    {"html", "a self-contained page: summary, entities highlighted", 0, NULL,
     1, {{".html", dp_format_html}}},
    {"md", "a Markdown digest: title, summary, keyphrases, entities",
     DP_FORMAT_STREAMS, NULL, 1, {{".md", dp_format_md}}},
    {"brat", "brat standoff: NAME.txt (the text) and NAME.ann (entities)", 0,
     NULL, 2,
     {{".txt", dp_format_brat_txt}, {".ann", dp_format_brat_ann}}},
    {"conll", "CoNLL: token per line with BIO entity tags",
     DP_FORMAT_STREAMS, dp_format_conll_check, 1,
     {{".conll", dp_format_conll}}},
    {NULL, NULL, 0, NULL, 0, {{NULL, NULL}}}};

const dp_format *dp_format_find(const char *name)
{
    for (const dp_format *f = dp_formats; name && f->name; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

const char *dp_format_names(void)
{
    return "json, jsonl, html, md, brat, conll";
}

/* ---- buffered writer ---------------------------------------------------- */

void dp_fw_init(dp_fw *w, dp_sink_fn sink, void *ctx)
{
    w->sink = sink;
    w->ctx = ctx;
    w->failed = 0;
    w->n = 0;
}

static void fw_flush(dp_fw *w)
{
    if (w->n && !w->failed && w->sink(w->buf, w->n, w->ctx) != 0)
        w->failed = 1;
    w->n = 0;
}

void dp_fw_put(dp_fw *w, const char *s, size_t n)
{
    if (w->failed)
        return;
    if (n > sizeof w->buf - w->n) {
        fw_flush(w);
        if (n >= sizeof w->buf) {
            if (!w->failed && w->sink(s, n, w->ctx) != 0)
                w->failed = 1;
            return;
        }
    }
    memcpy(w->buf + w->n, s, n);
    w->n += n;
}

void dp_fw_puts(dp_fw *w, const char *s) { dp_fw_put(w, s, strlen(s)); }

void dp_fw_printf(dp_fw *w, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        w->failed = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        dp_fw_put(w, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (big == NULL) {
        w->failed = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    dp_fw_put(w, big, (size_t)n);
    free(big);
}

int dp_fw_finish(dp_fw *w, dp_err *err)
{
    fw_flush(w);
    if (w->failed) {
        dp_err_set(err, "cannot write the output");
        return -EIO;
    }
    return 0;
}

/* ---- shared helpers ------------------------------------------------------ */

static const struct {
    const char *label;
    const char *colour;
} known_colours[] = {
    {"PERSON", "#f9c6d3"},   {"PER", "#f9c6d3"},     {"NORP", "#e2d3f7"},
    {"FAC", "#d6e4c8"},      {"ORG", "#c5dcf9"},     {"GPE", "#fddcae"},
    {"LOC", "#cfeabf"},      {"PRODUCT", "#f6d8c4"}, {"EVENT", "#f6e39c"},
    {"WORK_OF_ART", "#ecd0ec"}, {"LAW", "#dcdcdc"},  {"LANGUAGE", "#cdeeee"},
    {"DATE", "#c9f0dd"},     {"TIME", "#c3e9f2"},    {"PERCENT", "#e9e6b8"},
    {"MONEY", "#d6f2bd"},    {"QUANTITY", "#ebe6cf"}, {"ORDINAL", "#e6ddd0"},
    {"CARDINAL", "#e6ddd0"}, {"MISC", "#e4e0f0"},    {NULL, NULL}};

const char *dp_format_label_colour(const char *label)
{
    for (size_t i = 0; label && known_colours[i].label; i++)
        if (strcmp(known_colours[i].label, label) == 0)
            return known_colours[i].colour;
    return NULL;
}

size_t dp_utf8_cps(const char *text, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)text[i] & 0xC0) != 0x80;
    return n;
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

char *dp_format_title(dp_doc *doc, size_t max)
{
    size_t len;
    const char *text = dp_host_api.text(doc, &len);
    size_t i = 0;
    if (text == NULL)
        len = 0;
    /* The first line with something on it. */
    while (i < len && is_space((unsigned char)text[i]))
        i++;
    size_t end = i;
    while (end < len && text[end] != '\n' && text[end] != '\r')
        end++;
    /* A long first line is usually a paragraph: stop at its first
     * sentence when there is one. */
    size_t ns;
    const dp_ann *s = dp_host_api.layer(doc, "sentence", &ns);
    for (size_t k = 0; k < ns; k++) {
        if (s[k].end <= i)
            continue;
        if (s[k].start < end && s[k].end > i && s[k].end < end)
            end = s[k].end;
        break;
    }
    if (i == end)
        return strdup(dp_doc_get_name(doc));
    if (max < 8)
        max = 8;
    char *out = malloc(max + 4);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    int space = 0, cut = 0;
    for (size_t k = i; k < end; k++) {
        unsigned char c = (unsigned char)text[k];
        if (is_space(c)) {
            space = 1;
            continue;
        }
        if (space && o > 0) {
            if (o + 1 > max) {
                cut = 1;
                break;
            }
            out[o++] = ' ';
        }
        space = 0;
        /* Copy a whole character or nothing. */
        size_t cl = 1;
        while (k + cl < end && ((unsigned char)text[k + cl] & 0xC0) == 0x80)
            cl++;
        if (o + cl > max) {
            cut = 1;
            break;
        }
        memcpy(out + o, text + k, cl);
        o += cl;
        k += cl - 1;
    }
    /* Cut at a word boundary when one is not too far back. */
    if (cut) {
        size_t sp = o;
        while (sp > 0 && out[sp - 1] != ' ')
            sp--;
        if (sp > o * 2 / 3)
            o = sp;
    }
    while (cut && o > 0 && (out[o - 1] == ' ' || out[o - 1] == ',' ||
                            out[o - 1] == ';' || out[o - 1] == ':'))
        o--;
    if (cut) {
        memcpy(out + o, "\xE2\x80\xA6", 3); /* … */
        o += 3;
    }
    out[o] = 0;
    return out;
}

/* Labels in the order a reader looks for them; others after, by name. */
static int label_rank(const char *label)
{
    static const char *const order[] = {
        "PERSON", "PER", "ORG", "GPE", "LOC", "NORP", "FAC", "EVENT",
        "PRODUCT", "WORK_OF_ART", "LAW", "LANGUAGE", "MISC", "DATE", "TIME",
        "MONEY", "PERCENT", "QUANTITY", "CARDINAL", "ORDINAL", NULL};
    for (int i = 0; order[i]; i++)
        if (strcmp(order[i], label) == 0)
            return i;
    return 1000;
}

static int entry_cmp(const void *a, const void *b)
{
    const dp_entity_entry *x = a, *y = b;
    int rx = label_rank(x->label), ry = label_rank(y->label);
    if (rx != ry)
        return rx < ry ? -1 : 1;
    int c = strcmp(x->label, y->label);
    if (c)
        return c;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->text, y->text);
}

int dp_entity_index_build(dp_doc *doc, dp_entity_index *ix)
{
    memset(ix, 0, sizeof *ix);
    json_t *given = json_object_get(dp_doc_outputs(doc), "entity_index");
    json_t *list = NULL;
    if (json_is_array(given)) {
        list = json_incref(given);
    } else {
        /* Count the layer by (label, text). */
        size_t n, len;
        const dp_ann *a = dp_host_api.layer(doc, "entity", &n);
        const char *text = dp_host_api.text(doc, &len);
        json_t *by = json_object();
        if (by == NULL)
            return -ENOMEM;
        for (size_t i = 0; text && i < n; i++) {
            const char *label = a[i].label ? a[i].label : "ENTITY";
            size_t tl = a[i].end - a[i].start;
            size_t kl = strlen(label) + 1 + tl;
            char *key = malloc(kl + 1);
            if (key == NULL) {
                json_decref(by);
                return -ENOMEM;
            }
            snprintf(key, kl + 1, "%s", label);
            key[strlen(label)] = '\x01';
            memcpy(key + strlen(label) + 1, text + a[i].start, tl);
            key[kl] = 0;
            /* Keys must be valid UTF-8 without NUL: the text is. */
            json_t *e = json_object_get(by, key);
            if (e == NULL) {
                e = json_pack("{s:s%,s:s,s:I}", "text", text + a[i].start,
                              tl, "label", label, "count", (json_int_t)0);
                if (e == NULL || json_object_set_new(by, key, e) != 0) {
                    free(key);
                    json_decref(by);
                    return -ENOMEM;
                }
            }
            json_object_set_new(
                e, "count",
                json_integer(json_integer_value(json_object_get(e, "count")) +
                             1));
            free(key);
        }
        list = json_array();
        const char *k;
        json_t *v;
        json_object_foreach(by, k, v) {
            if (list)
                json_array_append(list, v);
        }
        json_decref(by);
        if (list == NULL)
            return -ENOMEM;
    }
    size_t n = json_array_size(list);
    ix->hold = list;
    if (n == 0)
        return 0;
    ix->e = calloc(n, sizeof *ix->e);
    if (ix->e == NULL) {
        dp_entity_index_free(ix);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(list, i);
        const char *t = json_string_value(json_object_get(o, "text"));
        const char *l = json_string_value(json_object_get(o, "label"));
        json_t *c = json_object_get(o, "count");
        if (t == NULL || *t == 0)
            continue;
        ix->e[ix->n++] = (dp_entity_entry){
            t, l && *l ? l : "ENTITY",
            json_is_integer(c) ? (long long)json_integer_value(c) : 1};
    }
    qsort(ix->e, ix->n, sizeof *ix->e, entry_cmp);
    return 0;
}

void dp_entity_index_free(dp_entity_index *ix)
{
    free(ix->e);
    json_decref(ix->hold);
    memset(ix, 0, sizeof *ix);
}

int dp_format_collect_labels(dp_doc *doc, json_t *labels)
{
    size_t n;
    const dp_ann *E = dp_host_api.layer(doc, "entity", &n);
    for (size_t i = 0; i < n; i++) {
        const char *l = E[i].label && *E[i].label ? E[i].label : "ENTITY";
        if (json_object_get(labels, l) == NULL &&
            json_object_set_new(labels, l, json_true()) != 0)
            return -ENOMEM;
    }
    return 0;
}
