/* Test helpers. */
#include "testkit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tk_pipeline(dp_pipeline *p, const char *stages_json, dp_err *err)
{
    json_error_t je;
    json_t *stages = json_loads(stages_json, 0, &je);
    if (stages == NULL) {
        dp_err_set(err, "bad stage list: %s", je.text);
        return -1;
    }
    json_t *root = json_pack("{s:o,s:s}", "stages", stages, "plugin_dir",
                             DP_TEST_PLUGIN_DIR);
    dp_config cfg;
    int rc = dp_config_from_json(root, &cfg, err);
    json_decref(root);
    if (rc)
        return rc;
    rc = dp_pipeline_load(p, &cfg, NULL, NULL, err);
    dp_config_free(&cfg);
    return rc;
}

dp_doc *tk_run(const dp_pipeline *p, const char *name, const char *text,
               long len, dp_err *err, const char **failed_stage)
{
    size_t n = len < 0 ? strlen(text) : (size_t)len;
    dp_doc *doc = dp_doc_new(name, NULL, text, n);
    if (doc == NULL)
        return NULL;
    if (dp_pipeline_run(p, doc, failed_stage, err) != 0) {
        dp_doc_free(doc);
        return NULL;
    }
    return doc;
}

json_t *tk_output(dp_doc *doc)
{
    dp_membuf b = {0};
    json_t *v = NULL;
    if (dp_output_write(doc, dp_sink_membuf, &b) == 0)
        v = json_loadb(b.data, b.len, 0, NULL);
    dp_membuf_free(&b);
    return v;
}

char *tk_span(dp_doc *doc, const dp_ann *a)
{
    size_t len;
    const char *text = dp_host_api.text(doc, &len);
    return strndup(text + a->start, a->end - a->start);
}

char *tk_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n - 1 == 0) {
            char *b = realloc(buf, cap * 2);
            if (b == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) {
        buf[n] = 0;
        if (len)
            *len = n;
    }
    return buf;
}
