/* JSON output writer. */
#include "output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define DUMP_FLAGS                                                            \
    (JSON_ENCODE_ANY | JSON_COMPACT | JSON_PRESERVE_ORDER |                      \
     JSON_REAL_PRECISION(6))

int dp_sink_file(const char *buf, size_t len, void *ctx)
{
    return fwrite(buf, 1, len, (FILE *)ctx) == len ? 0 : -1;
}

int dp_sink_membuf(const char *buf, size_t len, void *ctx)
{
    dp_membuf *b = ctx;
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + len + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (d == NULL)
            return -1;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, buf, len);
    b->len += len;
    b->data[b->len] = 0;
    return 0;
}

void dp_membuf_free(dp_membuf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

void dp_output_init(void)
{
    char hex[65];
    dp_sha256_hex("", 0, hex);
}

void dp_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    static const char hex[] = "0123456789abcdef";
    if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
        memset(md, 0, sizeof md);
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = 0;
}

/* Converts byte offsets to code-point offsets by walking from the last
 * position asked, so sorted spans cost one pass over the text. */
typedef struct cp_cursor {
    const unsigned char *s;
    size_t byte, cp;
} cp_cursor;

static size_t cp_at(cp_cursor *c, size_t byte)
{
    while (c->byte < byte)
        c->cp += (c->s[c->byte++] & 0xC0) != 0x80;
    while (c->byte > byte)
        c->cp -= (c->s[--c->byte] & 0xC0) != 0x80;
    return c->cp;
}

typedef struct writer {
    dp_sink_fn sink;
    void *ctx;
    int failed;
} writer;

static void put(writer *w, const char *s, size_t n)
{
    if (!w->failed && w->sink(s, n, w->ctx) != 0)
        w->failed = 1;
}

static void puts_(writer *w, const char *s) { put(w, s, strlen(s)); }

static void put_json(writer *w, json_t *v)
{
    if (!w->failed && json_dump_callback(v, w->sink, w->ctx, DUMP_FLAGS) != 0)
        w->failed = 1;
}

static void put_key(writer *w, const char *key)
{
    json_t *k = json_string(key);
    if (k == NULL) {
        w->failed = 1;
        return;
    }
    puts_(w, ",");
    put_json(w, k);
    puts_(w, ":");
    json_decref(k);
}

static void put_stringn(writer *w, const char *s, size_t n)
{
    json_t *v = json_stringn_nocheck(s, n);
    if (v == NULL) {
        w->failed = 1;
        return;
    }
    put_json(w, v);
    json_decref(v);
}

static void put_layer(writer *w, dp_doc *doc, const dp_doc_export *ex,
                      const char *text, cp_cursor *cur)
{
    size_t n;
    const dp_ann *a = dp_host_api.layer(doc, ex->layer, &n);
    int src = (ex->flags & DP_EXPORT_SRC) && dp_doc_text_replaced(doc);
    char num[128];
    put_key(w, ex->key);
    puts_(w, "[");
    for (size_t i = 0; i < n && !w->failed; i++) {
        size_t s = cp_at(cur, a[i].start);
        size_t e = cp_at(cur, a[i].end);
        int len = snprintf(num, sizeof num, "%s{\"start\":%zu,\"end\":%zu",
                           i ? "," : "", s, e);
        put(w, num, (size_t)len);
        if (a[i].label) {
            puts_(w, ",\"label\":");
            put_stringn(w, a[i].label, strlen(a[i].label));
        }
        if (ex->flags & DP_EXPORT_TEXT) {
            puts_(w, ",\"text\":");
            put_stringn(w, text + a[i].start, a[i].end - a[i].start);
        }
        if (src) {
            size_t ss, se;
            dp_doc_src_span(doc, a[i].start, a[i].end, &ss, &se);
            len = snprintf(num, sizeof num, ",\"src\":[%zu,%zu]", ss, se);
            put(w, num, (size_t)len);
        }
        const char *k;
        json_t *v;
        json_object_foreach(a[i].attrs, k, v) {
            put_key(w, k);
            put_json(w, v);
        }
        puts_(w, "}");
    }
    puts_(w, "]");
}

int dp_output_write(dp_doc *doc, dp_sink_fn sink, void *ctx)
{
    writer w = {sink, ctx, 0};
    size_t raw_len, text_len;
    const unsigned char *raw = dp_host_api.raw(doc, &raw_len);
    const char *text = dp_host_api.text(doc, &text_len);
    char sha[65];
    if (text == NULL)
        return -EINVAL;
    dp_sha256_hex(raw, raw_len, sha);

    puts_(&w, "{\"docproc\":1,\"id\":");
    json_t *id = dp_doc_get_id(doc);
    if (id)
        put_json(&w, id);
    else
        put_stringn(&w, dp_doc_get_name(doc), strlen(dp_doc_get_name(doc)));

    json_t *source = json_pack("{s:s,s:I,s:s,s:s?,s:s?}", "name",
                               dp_doc_get_name(doc), "bytes",
                               (json_int_t)raw_len, "sha256", sha, "encoding",
                               dp_doc_encoding(doc), "claim",
                               dp_doc_claim(doc));
    if (source == NULL)
        return -ENOMEM;
    put_key(&w, "source");
    put_json(&w, source);
    json_decref(source);

    put_key(&w, "text");
    put_stringn(&w, text, text_len);

    cp_cursor cur = {(const unsigned char *)text, 0, 0};
    for (size_t i = 0; i < dp_doc_n_exports(doc); i++)
        put_layer(&w, doc, dp_doc_get_export(doc, i), text, &cur);

    const char *k;
    json_t *v;
    json_object_foreach(dp_doc_outputs(doc), k, v) {
        put_key(&w, k);
        put_json(&w, v);
    }

    put_key(&w, "stages");
    puts_(&w, "[");
    for (size_t i = 0; i < dp_doc_n_stage_recs(doc); i++) {
        const dp_doc_stage_rec *r = dp_doc_get_stage_rec(doc, i);
        json_t *o = json_pack("{s:s,s:s,s:f}", "name", r->name, "version",
                              r->version, "ms", r->ms);
        if (o == NULL)
            return -ENOMEM;
        if (i)
            puts_(&w, ",");
        put_json(&w, o);
        json_decref(o);
    }
    puts_(&w, "]}");
    return w.failed ? -EIO : 0;
}

int dp_output_write_error(json_t *id, const char *name, const char *stage,
                          const char *message, dp_sink_fn sink, void *ctx)
{
    json_t *o = json_pack("{s:i}", "docproc", 1);
    if (o == NULL)
        return -ENOMEM;
    if (id)
        json_object_set(o, "id", id);
    if (name)
        json_object_set_new(o, "source", json_pack("{s:s}", "name", name));
    json_object_set_new(o, "error",
                        json_pack("{s:s,s:s}", "stage", stage ? stage : "",
                                  "message", message ? message : ""));
    int rc = json_dump_callback(o, sink, ctx, DUMP_FLAGS);
    json_decref(o);
    return rc == 0 ? 0 : -EIO;
}
