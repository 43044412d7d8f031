/* slow: a test-only stage that sleeps a fixed time per document, so that
 * end-to-end tests can have documents in flight when they kill or stop the
 * daemon. It provides nothing and adds {"slow_ms": N} to the output.
 * Option "ms" (default 200): how long each document takes.
 * Options "start_ms" (default 0) and "start_marker" (a path): how long the
 * stage takes to start, after creating the marker file, so that a test
 * can signal the daemon while it is still loading its plugins. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <docproc/docproc.h>

typedef struct slow {
    json_int_t ms;
} slow;

static const dp_option slow_options[] = {
    {"ms", DP_OPT_INT, "200", "milliseconds to sleep per document"},
    {"start_ms", DP_OPT_INT, "0", "milliseconds to sleep when created"},
    {"start_marker", DP_OPT_STRING, "\"\"",
     "file created when the stage starts being created"},
    {NULL, 0, NULL, NULL}};

static void sleep_ms(json_int_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int slow_create(const dp_api *api, const json_t *options,
                       const char *data_dir, void **instance, dp_err *err)
{
    (void)api;
    (void)data_dir;
    json_int_t ms = json_integer_value(json_object_get(options, "ms"));
    if (ms < 0 || ms > 600000) {
        dp_err_set(err, "ms must be from 0 to 600000");
        return -EINVAL;
    }
    const char *marker =
        json_string_value(json_object_get(options, "start_marker"));
    if (marker && *marker) {
        int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0)
            close(fd);
    }
    json_int_t start_ms =
        json_integer_value(json_object_get(options, "start_ms"));
    if (start_ms > 0 && start_ms <= 600000)
        sleep_ms(start_ms);
    slow *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    s->ms = ms;
    *instance = s;
    return 0;
}

static int slow_process(void *instance, dp_doc *doc, dp_err *err)
{
    const slow *s = instance;
    sleep_ms(s->ms);
    int rc = dp_doc_api(doc)->set_output(doc, "slow_ms",
                                         json_integer(s->ms));
    if (rc)
        dp_err_set(err, "cannot set the output");
    return rc;
}

static void slow_destroy(void *instance) { free(instance); }

static const dp_stage slow_stage = {
    .abi_major = DP_ABI_MAJOR,
    .abi_minor = DP_ABI_MINOR,
    .struct_size = sizeof(dp_stage),
    .name = "slow",
    .version = "1.0.0",
    .description = "sleeps a fixed time per document (tests only)",
    .provides = NULL,
    .requires = NULL,
    .options = slow_options,
    .create = slow_create,
    .process = slow_process,
    .destroy = slow_destroy,
};

DP_STAGE_EXPORT(slow_stage)
