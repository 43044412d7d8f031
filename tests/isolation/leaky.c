/* leaky: a deliberately bad stage for the isolation tests. It keeps
 * "leak_kb" KiB (default 1024) of every document it sees and never gives
 * them back, like a cache without a bound. The blocks stay reachable from a
 * global list, so that leak checkers stay quiet at exit: what matters is
 * that the process grows with every document. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <docproc/stage.h>

typedef struct block {
    struct block *next;
    unsigned char bytes[];
} block;

static block *hoard;
static pthread_mutex_t hoard_lock = PTHREAD_MUTEX_INITIALIZER;

static const dp_option leaky_options[] = {
    {"leak_kb", DP_OPT_INT, "1024", "KiB kept per document"},
    {NULL, 0, NULL, NULL}};

static int leaky_create(const dp_api *api, const json_t *options,
                        const char *data_dir, void **instance, dp_err *err)
{
    (void)api;
    (void)data_dir;
    json_int_t kb = json_integer_value(json_object_get(options, "leak_kb"));
    if (kb < 1 || kb > 65536) {
        dp_err_set(err, "leak_kb must be from 1 to 65536");
        return -EINVAL;
    }
    size_t *size = malloc(sizeof *size);
    if (size == NULL)
        return -ENOMEM;
    *size = (size_t)kb * 1024;
    *instance = size;
    return 0;
}

static int leaky_process(void *instance, dp_doc *doc, dp_err *err)
{
    size_t size = *(const size_t *)instance;
    (void)doc;
    block *b = malloc(sizeof *b + size);
    if (b == NULL) {
        dp_err_set(err, "out of memory");
        return -ENOMEM;
    }
    memset(b->bytes, 0xA5, size); /* touch it: resident, not just mapped */
    pthread_mutex_lock(&hoard_lock);
    b->next = hoard;
    hoard = b;
    pthread_mutex_unlock(&hoard_lock);
    return 0;
}

static void leaky_destroy(void *instance)
{
    free(instance);
}

static const dp_stage leaky_stage = {
    .abi_major = DP_ABI_MAJOR,
    .abi_minor = DP_ABI_MINOR,
    .struct_size = sizeof(dp_stage),
    .name = "leaky",
    .version = "1.0.0",
    .description = "keeps memory from every document (isolation tests)",
    .options = leaky_options,
    .create = leaky_create,
    .process = leaky_process,
    .destroy = leaky_destroy,
};

DP_STAGE_EXPORT(leaky_stage)
