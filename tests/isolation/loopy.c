/* loopy: a deliberately bad stage for the isolation tests. It never returns
 * on a document that contains its marker word (default LOOPME): it spins,
 * as a stage stuck in a runaway loop does. With "sleep_ms" it also takes
 * that long over every document (a slow stage, to keep documents in
 * flight). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <docproc/stage.h>

typedef struct loopy {
    long sleep_ms;
    char marker[];
} loopy;

static const dp_option loopy_options[] = {
    {"marker", DP_OPT_STRING, "\"LOOPME\"", "loop forever on this word"},
    {"sleep_ms", DP_OPT_INT, "0", "sleep this long on every document"},
    {NULL, 0, NULL, NULL}};

static int loopy_create(const dp_api *api, const json_t *options,
                        const char *data_dir, void **instance, dp_err *err)
{
    (void)api;
    (void)data_dir;
    json_int_t ms = json_integer_value(json_object_get(options, "sleep_ms"));
    if (ms < 0 || ms > 60000) {
        dp_err_set(err, "sleep_ms must be from 0 to 60000");
        return -EINVAL;
    }
    const char *m = json_string_value(json_object_get(options, "marker"));
    loopy *l = malloc(sizeof *l + strlen(m) + 1);
    if (l == NULL)
        return -ENOMEM;
    l->sleep_ms = (long)ms;
    strcpy(l->marker, m);
    *instance = l;
    return 0;
}

static int loopy_process(void *instance, dp_doc *doc, dp_err *err)
{
    const loopy *l = instance;
    size_t len;
    const char *text = dp_doc_text(doc, &len);
    (void)err;
    if (l->sleep_ms > 0) {
        struct timespec ts = {l->sleep_ms / 1000,
                              (l->sleep_ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
    if (l->marker[0] && strstr(text, l->marker)) {
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
