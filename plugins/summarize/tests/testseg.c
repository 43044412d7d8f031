/* testseg: a small, predictable segmenter used only by the summarize tests
 * and benchmark, so that they do not depend on the real `segment` stage.
 *
 * Paragraphs are separated by blank lines. A sentence ends at . ! or ?
 * (plus closing quotes) followed by white space, or at the end of a
 * paragraph. Tokens are runs of letters/digits (bytes >= 0x80 count as
 * letters; inner ' . , - between alphanumerics are kept) with the clitics
 * n't and 's split off; any other byte is a "punct" token. Token labels are
 * shape classes as `segment` gives them.
 */
#include <errno.h>
#include <string.h>

#include <docproc/docproc.h>

static int alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z') ||
           c >= 0x80;
}

static const char *shape(const char *s, size_t n)
{
    int up = 0, low = 0, dig = 0, other = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z')
            up++;
        else if ((c >= 'a' && c <= 'z') || c >= 0x80)
            low++;
        else if (c >= '0' && c <= '9')
            dig++;
        else
            other++;
    }
    if (!up && !low && !dig)
        return "punct";
    if (dig && !up && !low)
        return "dd";
    if (up && !low && !dig)
        return "XX";
    if (!up && low && !dig)
        return "xxxx";
    if (up == 1 && s[0] >= 'A' && s[0] <= 'Z' && !dig)
        return "Xxxx";
    (void)other;
    return "mixed";
}

static int tok(dp_doc *doc, const char *t, size_t a, size_t b)
{
    return dp_doc_annotate(doc, "token", a, b, shape(t + a, b - a), NULL);
}

static int tokens(dp_doc *doc, const char *t, size_t a, size_t b)
{
    size_t i = a;
    int rc = 0;
    while (i < b && rc == 0) {
        unsigned char c = (unsigned char)t[i];
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            i++;
            continue;
        }
        if (!alnum(c)) {
            rc = tok(doc, t, i, i + 1);
            i++;
            continue;
        }
        size_t s = i;
        while (i < b && (alnum((unsigned char)t[i]) ||
                         ((t[i] == '\'' || t[i] == '.' || t[i] == ',' ||
                           t[i] == '-') &&
                          i + 1 < b && alnum((unsigned char)t[i + 1]) &&
                          i > s)))
            i++;
        size_t e = i;
        if (e - s > 3 && memcmp(t + e - 3, "n't", 3) == 0) {
            rc = tok(doc, t, s, e - 3);
            if (rc == 0)
                rc = tok(doc, t, e - 3, e);
        } else if (e - s > 2 && memcmp(t + e - 2, "'s", 2) == 0) {
            rc = tok(doc, t, s, e - 2);
            if (rc == 0)
                rc = tok(doc, t, e - 2, e);
        } else {
            rc = tok(doc, t, s, e);
        }
    }
    return rc;
}

static int sentence(dp_doc *doc, const char *t, size_t a, size_t b)
{
    while (a < b && (t[a] == ' ' || t[a] == '\n' || t[a] == '\t'))
        a++;
    while (b > a && (t[b - 1] == ' ' || t[b - 1] == '\n' || t[b - 1] == '\t'))
        b--;
    if (b <= a)
        return 0;
    int rc = dp_doc_annotate(doc, "sentence", a, b, NULL, NULL);
    return rc ? rc : tokens(doc, t, a, b);
}

static int paragraph(dp_doc *doc, const char *t, size_t a, size_t b)
{
    int rc = dp_doc_annotate(doc, "paragraph", a, b, NULL, NULL);
    size_t s = a;
    for (size_t i = a; i < b && rc == 0; i++) {
        if (t[i] != '.' && t[i] != '!' && t[i] != '?')
            continue;
        size_t e = i + 1;
        while (e < b && (t[e] == '"' || t[e] == '\'' || t[e] == ')'))
            e++;
        if (e < b && (t[e] == ' ' || t[e] == '\n')) {
            rc = sentence(doc, t, s, e);
            s = e;
            i = e;
        }
    }
    return rc ? rc : sentence(doc, t, s, b);
}

static int ts_create(const dp_api *api, const json_t *options,
                     const char *data_dir, void **instance, dp_err *err)
{
    (void)api, (void)options, (void)data_dir, (void)err;
    *instance = NULL;
    return 0;
}

static int ts_process(void *instance, dp_doc *doc, dp_err *err)
{
    (void)instance;
    size_t len;
    const char *t = dp_doc_text(doc, &len);
    size_t i = 0;
    int rc = 0;
    while (i < len && rc == 0) {
        while (i < len && (t[i] == '\n' || t[i] == ' ' || t[i] == '\t'))
            i++;
        size_t s = i;
        while (i < len && !(t[i] == '\n' && i + 1 < len && t[i + 1] == '\n'))
            i++;
        if (i > s)
            rc = paragraph(doc, t, s, i);
    }
    if (rc == 0)
        rc = dp_doc_api(doc)->export_layer(doc, "sentence", "sentences",
                                           DP_EXPORT_SRC);
    if (rc)
        dp_err_set(err, "testseg: cannot annotate");
    return rc;
}

static void ts_destroy(void *instance) { (void)instance; }

static const char *const ts_provides[] = {"paragraph", "sentence", "token",
                                          NULL};
static const dp_option ts_options[] = {{NULL, 0, NULL, NULL}};

static const dp_stage ts_stage = {
    .abi_major = DP_ABI_MAJOR,
    .abi_minor = DP_ABI_MINOR,
    .struct_size = sizeof(dp_stage),
    .name = "testseg",
    .version = "0.0.1",
    .description = "predictable segmenter for the summarize tests",
    .provides = ts_provides,
    .options = ts_options,
    .create = ts_create,
    .process = ts_process,
    .destroy = ts_destroy,
};

DP_STAGE_EXPORT(ts_stage)
