/* clean: the decoding and repair stage. Reads the raw bytes, decodes them,
 * and runs the enabled passes (HTML, mojibake, Unicode, NFC, typography,
 * layout); each pass that changes the text hands it to the host with an
 * exact alignment, so every later annotation maps back to the original
 * bytes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <docproc/docproc.h>

#include "clean.h"

static const dp_option clean_options[] = {
    {"decode_fallback", DP_OPT_BOOL, "true",
     "read bytes that are not UTF-8 as Windows-1252 (otherwise fail)"},
    {"binary_ratio", DP_OPT_NUMBER, "0.3",
     "refuse input whose first 64 KiB hold more than this share of control "
     "bytes"},
    {"html", DP_OPT_STRING, "\"auto\"",
     "strip HTML: \"auto\" (by .html/.htm name or content), \"always\", "
     "\"never\""},
    {"mojibake", DP_OPT_BOOL, "true",
     "repair UTF-8 that was decoded with a single-byte code page"},
    {"unicode", DP_OPT_BOOL, "true",
     "line endings to \\n, control characters removed, odd spaces to a "
     "space, zero-width characters removed, C1 controls as Windows-1252"},
    {"nfc", DP_OPT_BOOL, "true", "Unicode NFC normalisation"},
    {"fold_width", DP_OPT_BOOL, "true",
     "fold full-width ASCII and Latin ligatures (ﬁ -> fi)"},
    {"entities", DP_OPT_BOOL, "true",
     "decode HTML character references (&amp; &#8217;) in plain text"},
    {"collapse_spaces", DP_OPT_BOOL, "true",
     "collapse runs of spaces; strip spaces at line starts and ends"},
    {"join_lines", DP_OPT_BOOL, "true",
     "join lines that were hard-wrapped inside a paragraph"},
    {"join_hyphens", DP_OPT_BOOL, "true",
     "rejoin words hyphenated across a line break"},
    {"layout", DP_OPT_BOOL, "true",
     "the layout pass as a whole (blank lines, trailing spaces, joins)"},
    {"typography", DP_OPT_BOOL, "true",
     "spaces inside quotes, wrong-facing quotes, doubled punctuation"},
    {"guillemet_space", DP_OPT_STRING, "\"remove\"",
     "the space after « and before »: \"remove\" or \"keep\""},
    {"drop_rule_lines", DP_OPT_BOOL, "true",
     "drop lines holding only a dash or a bullet"},
    {"ascii_punctuation", DP_OPT_BOOL, "false",
     "fold curly quotes to ' and \" and dashes to -"},
    {NULL, 0, NULL, NULL}};

typedef struct clean_inst {
    clean_cfg cfg;
    int html_mode; /* 0 never, 1 auto, 2 always */
    int unicode, nfc, layout;
} clean_inst;

static int opt_bool(const json_t *o, const char *k)
{
    return json_is_true(json_object_get(o, k));
}

static void clean_destroy(void *instance)
{
    clean_inst *ci = instance;
    if (ci == NULL)
        return;
    wordset_free(&ci->cfg.words);
    free(ci->cfg.lead_mask);
    free(ci->cfg.cont_mask);
    free(ci->cfg.a0_mask);
    free(ci->cfg.lead3_mask);
    entities_free(&ci->cfg.ents);
    free(ci);
}

static int clean_create(const dp_api *api, const json_t *options,
                        const char *data_dir, void **instance, dp_err *err)
{
    (void)api;
    clean_inst *ci = calloc(1, sizeof *ci);
    if (ci == NULL)
        return -ENOMEM;
    clean_cfg *c = &ci->cfg;
    c->decode_fallback = opt_bool(options, "decode_fallback");
    c->binary_ratio = json_number_value(json_object_get(options, "binary_ratio"));
    c->mojibake = opt_bool(options, "mojibake");
    ci->unicode = opt_bool(options, "unicode");
    ci->nfc = opt_bool(options, "nfc");
    c->fold_width = opt_bool(options, "fold_width");
    c->entities = opt_bool(options, "entities");
    c->collapse_spaces = opt_bool(options, "collapse_spaces");
    c->join_lines = opt_bool(options, "join_lines");
    c->join_hyphens = opt_bool(options, "join_hyphens");
    ci->layout = opt_bool(options, "layout");
    c->typography = opt_bool(options, "typography");
    c->drop_rule_lines = opt_bool(options, "drop_rule_lines");
    c->ascii_punct = opt_bool(options, "ascii_punctuation");
    const char *h = json_string_value(json_object_get(options, "html"));
    const char *g =
        json_string_value(json_object_get(options, "guillemet_space"));
    int rc = -EINVAL;
    if (h == NULL || (strcmp(h, "auto") && strcmp(h, "always") &&
                      strcmp(h, "never"))) {
        dp_err_set(err, "html must be \"auto\", \"always\" or \"never\"");
        goto fail;
    }
    ci->html_mode = strcmp(h, "never") == 0 ? 0 : strcmp(h, "auto") == 0 ? 1 : 2;
    if (g == NULL || (strcmp(g, "remove") && strcmp(g, "keep"))) {
        dp_err_set(err, "guillemet_space must be \"remove\" or \"keep\"");
        goto fail;
    }
    c->guillemets = strcmp(g, "remove") == 0 ? GUIL_REMOVE : GUIL_KEEP;
    if (!(c->binary_ratio > 0 && c->binary_ratio <= 1)) {
        dp_err_set(err, "binary_ratio must be in (0, 1]");
        goto fail;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/codepages.txt", data_dir ? data_dir : ".");
    if ((rc = codepages_load(c->pages, path, err)))
        goto fail;
    if ((rc = clean_mojibake_init(c))) {
        dp_err_set(err, "out of memory");
        goto fail;
    }
    snprintf(path, sizeof path, "%s/entities.txt", data_dir ? data_dir : ".");
    if ((rc = entities_load(&c->ents, path, err)))
        goto fail;
    if (c->join_hyphens) {
        snprintf(path, sizeof path, "%s/words.txt", data_dir ? data_dir : ".");
        if ((rc = wordset_load(&c->words, path, err)))
            goto fail;
    }
    *instance = ci;
    return 0;
fail:
    clean_destroy(ci);
    return rc;
}

/* Hand a changed text to the host. */
static int commit(const dp_api *api, dp_doc *doc, cbuf *b, dp_err *err)
{
    int rc = api->set_text(doc, b->s ? b->s : "", b->len, b->al, b->nal);
    if (rc)
        dp_err_set(err, "cannot set the cleaned text (%d)", rc);
    return rc;
}

static int all_ascii(const char *s, size_t len)
{
    size_t i = 0;
    uint64_t acc = 0;
    for (; i + 32 <= len; i += 32) {
        uint64_t w[4];
        memcpy(w, s + i, 32);
        acc |= w[0] | w[1] | w[2] | w[3];
        if (acc & 0x8080808080808080ULL)
            return 0;
    }
    for (; i < len; i++)
        if ((unsigned char)s[i] >= 0x80)
            return 0;
    return 1;
}

enum { P_HTML, P_MOJIBAKE, P_UNICODE, P_NFC, P_TYPO, P_LAYOUT, P_COUNT };

static int clean_process(void *instance, dp_doc *doc, dp_err *err)
{
    const clean_inst *ci = instance;
    const clean_cfg *cfg = &ci->cfg;
    const dp_api *api = dp_doc_api(doc);
    size_t rlen;
    const unsigned char *raw = api->raw(doc, &rlen);
    const char *enc = "utf-8";
    cbuf b;
    cb_init(&b, (const char *)raw);
    int rc = clean_decode(cfg, raw, rlen, &b, &enc, err);
    if (rc) {
        if (rc == -ENOMEM)
            dp_err_set(err, "out of memory");
        cb_free(&b);
        return rc;
    }
    if (b.changed) {
        rc = commit(api, doc, &b, err);
    } else {
        dp_align a = {0, rlen, 0, rlen};
        rc = api->set_text(doc, (const char *)raw, rlen, &a, 1);
        if (rc)
            dp_err_set(err, "cannot set the decoded text (%d)", rc);
    }
    cb_free(&b);
    if (rc)
        return rc;
    if ((rc = api->set_encoding(doc, enc)))
        return rc;

    int html = 0, ascii = 0;
    for (int p = 0; p < P_COUNT; p++) {
        size_t len;
        const char *text = api->text(doc, &len);
        if (text == NULL || len == 0)
            break;
        cb_reset(&b, text); /* the last pass's buffers, if any */
        if (p == P_MOJIBAKE || p == P_NFC) /* ASCII: no repair, no NFC */
            ascii = all_ascii(text, len);
        switch (p) {
        case P_HTML:
            html = ci->html_mode == 2 ||
                   (ci->html_mode == 1 &&
                    clean_is_html(api->name(doc), text, len));
            if (html)
                rc = clean_html(cfg, text, len, &b);
            break;
        case P_MOJIBAKE:
            if (cfg->mojibake && !ascii)
                rc = clean_mojibake(cfg, text, len, &b);
            break;
        case P_UNICODE:
            if (ci->unicode)
                rc = clean_unicode(cfg, text, len, &b,
                                   cfg->entities && !html);
            break;
        case P_NFC:
            if (ci->nfc && !ascii)
                rc = clean_nfc(text, len, &b);
            break;
        case P_TYPO:
            if (cfg->typography)
                rc = clean_typography(cfg, text, len, &b);
            break;
        case P_LAYOUT:
            if (ci->layout)
                rc = clean_layout(cfg, text, len, &b);
            break;
        }
        if (rc == 0 && b.changed)
            rc = commit(api, doc, &b, err);
        else if (rc == -ENOMEM)
            dp_err_set(err, "out of memory");
        else if (rc)
            dp_err_set(err, "clean pass %d failed (%d)", p, rc);
        if (rc)
            break;
    }
    cb_free(&b);
    return rc;
}

static const dp_stage clean_stage = {
    .abi_major = DP_ABI_MAJOR,
    .abi_minor = DP_ABI_MINOR,
    .struct_size = sizeof(dp_stage),
    .flags = DP_STAGE_DECODES,
    .name = "clean",
    .version = "1.0.0",
    .description = "decodes the raw bytes and repairs encoding, Unicode, "
                   "HTML, layout and typography, with offsets back to the "
                   "original",
    .provides = NULL,
    .requires = NULL,
    .options = clean_options,
    .create = clean_create,
    .process = clean_process,
    .destroy = clean_destroy,
};

DP_STAGE_EXPORT(clean_stage)
