/* example: the smallest useful docproc stage, meant to be copied.
 *
 * It splits the text on white space into a "word" layer, exports it as
 * "words" when asked, and adds {"word_count": N} to the output. It shows
 * every part of the interface: the descriptor, an options schema, an
 * instance built once and only read afterwards, and errors through dp_err.
 *
 * Build outside the tree with:
 *   cc -shared -fPIC -fvisibility=hidden $(pkg-config --cflags docproc-plugin) \
 *      example.c -o example.so
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <docproc/docproc.h>

typedef struct example {
    int export_words;   /* option "export_words" */
    json_int_t min_len; /* option "min_length": shorter words are skipped */
    char *fail_on;      /* option "fail_on", or NULL */
} example;

static const dp_option example_options[] = {
    {"export_words", DP_OPT_BOOL, "false",
     "put the word layer in the output as \"words\""},
    {"min_length", DP_OPT_INT, "1", "skip words shorter than this (bytes)"},
    {"fail_on", DP_OPT_STRING, NULL,
     "fail any document containing this word (for tests)"},
    {NULL, 0, NULL, NULL}};

static int example_create(const dp_api *api, const json_t *options,
                          const char *data_dir, void **instance, dp_err *err)
{
    (void)api;
    (void)data_dir;
    json_int_t min_len = json_integer_value(json_object_get(options, "min_length"));
    if (min_len < 1) {
        dp_err_set(err, "min_length must be at least 1");
        return -EINVAL;
    }
    example *ex = calloc(1, sizeof *ex);
    if (ex == NULL)
        return -ENOMEM;
    ex->export_words = json_is_true(json_object_get(options, "export_words"));
    ex->min_len = min_len;
    const char *fail_on = json_string_value(json_object_get(options, "fail_on"));
    if (fail_on && (ex->fail_on = strdup(fail_on)) == NULL) {
        free(ex);
        return -ENOMEM;
    }
    *instance = ex;
    return 0;
}

static int example_process(void *instance, dp_doc *doc, dp_err *err)
{
    const example *ex = instance;
    const dp_api *api = dp_doc_api(doc);
    size_t len, count = 0;
    const char *text = dp_doc_text(doc, &len);
    size_t i = 0;
    while (i < len) {
        while (i < len && isspace((unsigned char)text[i]))
            i++;
        size_t start = i;
        while (i < len && !isspace((unsigned char)text[i]))
            i++;
        if (ex->fail_on && i - start == strlen(ex->fail_on) &&
            memcmp(text + start, ex->fail_on, i - start) == 0) {
            dp_err_set(err, "found the word '%s' at byte %zu", ex->fail_on,
                       start);
            return -EINVAL;
        }
        if (i > start && (json_int_t)(i - start) >= ex->min_len) {
            int rc = dp_doc_annotate(doc, "word", start, i, NULL, NULL);
            if (rc) {
                dp_err_set(err, "cannot annotate: out of memory");
                return rc;
            }
            count++;
        }
    }
    if (ex->export_words)
        api->export_layer(doc, "word", "words", DP_EXPORT_TEXT);
    return api->set_output(doc, "word_count", json_integer((json_int_t)count));
}

static void example_destroy(void *instance)
{
    example *ex = instance;
    free(ex->fail_on);
    free(ex);
}

static const char *const example_provides[] = {"word", NULL};

static const dp_stage example_stage = {
    .abi_major = DP_ABI_MAJOR,
    .abi_minor = DP_ABI_MINOR,
    .struct_size = sizeof(dp_stage),
    .name = "example",
    .version = "1.0.0",
    .description = "splits on white space and counts words",
    .provides = example_provides,
    .requires = NULL,
    .options = example_options,
    .create = example_create,
    .process = example_process,
    .destroy = example_destroy,
};

DP_STAGE_EXPORT(example_stage)
