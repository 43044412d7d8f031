/* loopy: a deliberately bad stage for the isolation tests. It never returns
 * on a document that contains its marker word (default LOOPME): it spins,
 * as a stage stuck in a runaway loop does. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <docproc/stage.h>

static const dp_option loopy_options[] = {
    {"marker", DP_OPT_STRING, "\"LOOPME\"", "loop forever on this word"},
    {NULL, 0, NULL, NULL}};

static int loopy_create(const dp_api *api, const json_t *options,
                        const char *data_dir, void **instance, dp_err *err)
{
    (void)api;
    (void)data_dir;
    (void)err;
    char *marker = strdup(json_string_value(json_object_get(options, "marker")));
    if (marker == NULL)
        return -ENOMEM;
    *instance = marker;
    return 0;
}

static int loopy_process(void *instance, dp_doc *doc, dp_err *err)
{
    const char *marker = instance;
    size_t len;
    const char *text = dp_doc_text(doc, &len);
    (void)err;
    if (*marker && strstr(text, marker)) {
        volatile unsigned long spins = 0;
        for (;;)
            spins++;
    }
    return 0;
}

static void loopy_destroy(void *instance)
{
    free(instance);
}

static const dp_stage loopy_stage = {
    .abi_major = DP_ABI_MAJOR,
    .abi_minor = DP_ABI_MINOR,
    .struct_size = sizeof(dp_stage),
    .name = "loopy",
    .version = "1.0.0",
    .description = "never returns on a marker word (isolation tests)",
    .options = loopy_options,
    .create = loopy_create,
    .process = loopy_process,
    .destroy = loopy_destroy,
};

DP_STAGE_EXPORT(loopy_stage)
