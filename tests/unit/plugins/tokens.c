/* Provides a "token" layer: every run of non-space bytes. */
#include <ctype.h>

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
    size_t len, i = 0;
    const char *t = dp_doc_text(doc, &len);
    (void)inst, (void)err;
    while (i < len) {
        while (i < len && isspace((unsigned char)t[i]))
            i++;
        size_t s = i;
        while (i < len && !isspace((unsigned char)t[i]))
            i++;
        if (i > s && dp_doc_annotate(doc, "token", s, i, "x", NULL))
            return -1;
    }
    return 0;
}
static void destroy(void *i) { (void)i; }

static const char *const tokens_provides[] = {"token", NULL};
static const dp_stage tokens_stage = {
    .abi_major = DP_ABI_MAJOR, .abi_minor = DP_ABI_MINOR,
    .struct_size = sizeof(dp_stage), .name = "tokens", .version = "1",
    .provides = tokens_provides, .create = create, .process = process,
    .destroy = destroy};
DP_STAGE_EXPORT(tokens_stage)
