/* A stage that requires the "token" layer and checks it is there. It also
 * uses the annotation API: one "count" output per document. */
#include <errno.h>

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
    size_t n;
    (void)i;
    dp_doc_layer(doc, "token", &n);
    if (n == 0) {
        dp_err_set(err, "no tokens");
        return -EINVAL;
    }
    return dp_doc_api(doc)->set_output(doc, "token_count",
                                       json_integer((json_int_t)n));
}
static void destroy(void *i) { (void)i; }

static const char *const needs_requires[] = {"token", NULL};
static const dp_stage needs_stage = {
    .abi_major = DP_ABI_MAJOR, .abi_minor = DP_ABI_MINOR,
    .struct_size = sizeof(dp_stage), .name = "needs", .version = "1",
    .requires = needs_requires, .create = create, .process = process,
    .destroy = destroy};
DP_STAGE_EXPORT(needs_stage)
