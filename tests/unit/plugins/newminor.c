/* A stage built for a newer minor interface (1.99) than this host has. */
#include <docproc/docproc.h>

static int create(const dp_api *api, const json_t *o, const char *d,
                  void **inst, dp_err *err)
{
    (void)api, (void)o, (void)d, (void)err;
    *inst = NULL;
    return 0;
}
static int process(void *i, dp_doc *doc, dp_err *err)
{
    (void)i, (void)doc, (void)err;
    return 0;
}
static void destroy(void *i) { (void)i; }

static const dp_stage newminor_stage = {
    .abi_major = DP_ABI_MAJOR, .abi_minor = 99, .struct_size = sizeof(dp_stage),
    .name = "newminor", .version = "0", .create = create, .process = process,
    .destroy = destroy};

/* Bypass DP_STAGE_EXPORT's own check, as a stale plugin would. */
DP_EXPORTED const struct dp_stage *docproc_stage_entry(uint32_t a, uint32_t b);
DP_EXPORTED const struct dp_stage *docproc_stage_entry(uint32_t a, uint32_t b)
{
    (void)a, (void)b;
    return &newminor_stage;
}
