/* crashy: a deliberately bad stage for the isolation tests. It crashes the
 * process on a marker word: a segmentation fault on "marker" (default
 * CRASHME), abort() on "abort_marker" (default ABORTME). With "attempts_dir"
 * it first appends a line to <attempts_dir>/<document name>, so a test can
 * count how often a document was tried; with "once" it crashes only on the
 * first attempt (the file did not exist yet). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <docproc/stage.h>

typedef struct crashy {
    char *marker, *abort_marker, *attempts_dir;
    int once;
} crashy;

static const dp_option crashy_options[] = {
    {"marker", DP_OPT_STRING, "\"CRASHME\"", "segfault on this word"},
    {"abort_marker", DP_OPT_STRING, "\"ABORTME\"", "abort() on this word"},
    {"attempts_dir", DP_OPT_STRING, NULL,
     "append a line to <dir>/<name> before crashing"},
    {"once", DP_OPT_BOOL, "false", "crash only on the first attempt"},
    {NULL, 0, NULL, NULL}};

static void crashy_destroy(void *instance)
{
    crashy *c = instance;
    if (c == NULL)
        return;
    free(c->marker);
    free(c->abort_marker);
    free(c->attempts_dir);
    free(c);
}

static char *opt_dup(const json_t *options, const char *key, int *oom)
{
    const char *s = json_string_value(json_object_get(options, key));
    char *d = s ? strdup(s) : NULL;
    if (s && d == NULL)
        *oom = 1;
    return d;
}

static int crashy_create(const dp_api *api, const json_t *options,
                         const char *data_dir, void **instance, dp_err *err)
{
    (void)api;
    (void)data_dir;
    crashy *c = calloc(1, sizeof *c);
    if (c == NULL)
        return -ENOMEM;
    int oom = 0;
    c->marker = opt_dup(options, "marker", &oom);
    c->abort_marker = opt_dup(options, "abort_marker", &oom);
    c->attempts_dir = opt_dup(options, "attempts_dir", &oom);
    c->once = json_is_true(json_object_get(options, "once"));
    if (oom) {
        crashy_destroy(c);
        dp_err_set(err, "out of memory");
        return -ENOMEM;
    }
    *instance = c;
    return 0;
}

/* Record an attempt; returns 1 when there had been one before. */
static int record_attempt(const crashy *c, const char *name)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", c->attempts_dir, name);
    int before = access(path, F_OK) == 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
        ssize_t w = write(fd, "x\n", 2); /* best effort */
        (void)w;
        fsync(fd);
        close(fd);
    }
    return before;
}

static int crashy_process(void *instance, dp_doc *doc, dp_err *err)
{
    const crashy *c = instance;
    const dp_api *api = dp_doc_api(doc);
    size_t len;
    const char *text = api->text(doc, &len);
    (void)err;
    int seg = c->marker && *c->marker && strstr(text, c->marker) != NULL;
    int abrt = c->abort_marker && *c->abort_marker &&
               strstr(text, c->abort_marker) != NULL;
    if (!seg && !abrt)
        return 0;
    int before = c->attempts_dir ? record_attempt(c, api->name(doc)) : 0;
    if (c->once && before)
        return 0;
    if (abrt)
        abort();
    /* A real segmentation fault: a store to a page that allows nothing
     * (not a NULL store, which UBSan would report first). */
    volatile int *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
                           -1, 0);
    if (p == MAP_FAILED)
        abort();
    *p = 42;
    return 0;
}

static const dp_stage crashy_stage = {
    .abi_major = DP_ABI_MAJOR,
    .abi_minor = DP_ABI_MINOR,
    .struct_size = sizeof(dp_stage),
    .name = "crashy",
    .version = "1.0.0",
    .description = "crashes on a marker word (isolation tests)",
    .options = crashy_options,
    .create = crashy_create,
    .process = crashy_process,
    .destroy = crashy_destroy,
};

DP_STAGE_EXPORT(crashy_stage)
