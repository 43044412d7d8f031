/* A stage built for a future, incompatible interface (major 99). */
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

static const dp_stage badabi_stage = {
    .abi_major = 99, .abi_minor = 0, .struct_size = sizeof(dp_stage),
    .name = "badabi", .version = "0", .create = create, .process = process,
    .destroy = destroy};

/* Bypass DP_STAGE_EXPORT's own check, as a stale plugin would. */
DP_EXPORTED const struct dp_stage *docproc_stage_entry(uint32_t a, uint32_t b);
DP_EXPORTED const struct dp_stage *docproc_stage_entry(uint32_t a, uint32_t b)
{
    (void)a, (void)b;
    return &badabi_stage;
}
