/* A decoding stage (DP_STAGE_DECODES): takes the raw bytes as the text,
 * as the clean stage does after decoding them. */
#include <docproc/docproc.h>

static int create(const dp_api *api, const json_t *o, const char *d,
                  void **inst, dp_err *err)
{
    (void)api, (void)o, (void)d, (void)err;
    *inst = NULL;
    return 0;
}
static int process(void *inst, dp_doc *doc, dp_err *err)
{
    const dp_api *api = dp_doc_api(doc);
    size_t len;
    const unsigned char *raw = api->raw(doc, &len);
    dp_align a = {0, len, 0, len};
    (void)inst, (void)err;
    return api->set_text(doc, (const char *)raw, len, &a, 1);
}
static void destroy(void *i) { (void)i; }

static const dp_stage decodes_stage = {
    .abi_major = DP_ABI_MAJOR, .abi_minor = DP_ABI_MINOR,
    .struct_size = sizeof(dp_stage), .flags = DP_STAGE_DECODES,
    .name = "decodes", .version = "1", .create = create, .process = process,
    .destroy = destroy};
DP_STAGE_EXPORT(decodes_stage)
