/* Plugin loading. */
#define _GNU_SOURCE
#include "plugin.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#ifndef DP_INSTALL_PLUGIN_DIR
#define DP_INSTALL_PLUGIN_DIR "/usr/lib/docproc/plugins"
#endif

/* The smallest dp_stage a host of this major version understands: up to
 * and including destroy. */
#define DP_STAGE_MIN_SIZE                                                     \
    (offsetof(dp_stage, destroy) + sizeof(((dp_stage *)0)->destroy))

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

const char *dp_plugin_default_dir(void)
{
    static char dir[PATH_MAX + 16];
    char exe[PATH_MAX];
    size_t len = sizeof exe;
    if (dir[0])
        return dir;
    if (uv_exepath(exe, &len) == 0) {
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            /* build tree: build/daemon/docprocd -> build/plugins */
            snprintf(dir, sizeof dir, "%s/../plugins", exe);
            struct stat st;
            if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
                return dir;
        }
    }
    snprintf(dir, sizeof dir, "%s", DP_INSTALL_PLUGIN_DIR);
    return dir;
}

int dp_plugin_find(const char *plugin_dir, const char *name,
                   const char *explicit_path, char **path, dp_err *err)
{
    char buf[PATH_MAX];
    if (explicit_path) {
        *path = strdup(explicit_path);
        return *path ? 0 : -ENOMEM;
    }
    if (plugin_dir == NULL)
        plugin_dir = dp_plugin_default_dir();
    snprintf(buf, sizeof buf, "%s/%s.so", plugin_dir, name);
    if (!is_file(buf))
        snprintf(buf, sizeof buf, "%s/%s/%s.so", plugin_dir, name, name);
    if (!is_file(buf)) {
        dp_err_set(err, "stage '%s': no plugin %s/%s.so or %s/%s/%s.so", name,
                   plugin_dir, name, plugin_dir, name, name);
        return -ENOENT;
    }
    *path = strdup(buf);
    return *path ? 0 : -ENOMEM;
}

int dp_plugin_load(const char *path, dp_plugin *p, dp_err *err)
{
    memset(p, 0, sizeof *p);
    dlerror();
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        dp_err_set(err, "%s: cannot load: %s", path, dlerror());
        return -ENOENT;
    }
    dp_stage_entry_fn entry;
    void *sym = dlsym(h, DP_STAGE_ENTRY_SYMBOL);
    if (sym == NULL) {
        dp_err_set(err, "%s: not a docproc stage: missing symbol %s", path,
                   DP_STAGE_ENTRY_SYMBOL);
        dlclose(h);
        return -EINVAL;
    }
    memcpy(&entry, &sym, sizeof entry);
    const dp_stage *st = entry(DP_ABI_MAJOR, DP_ABI_MINOR);
    if (st == NULL) {
        dp_err_set(err,
                   "%s: the stage refused this host (host interface %d.%d; "
                   "the stage was built for a newer one)",
                   path, DP_ABI_MAJOR, DP_ABI_MINOR);
        goto bad;
    }
    if (st->abi_major != DP_ABI_MAJOR) {
        dp_err_set(err,
                   "%s: interface version mismatch: stage built for %u.%u, "
                   "host speaks %d.%d",
                   path, st->abi_major, st->abi_minor, DP_ABI_MAJOR,
                   DP_ABI_MINOR);
        goto bad;
    }
    if (st->abi_minor > DP_ABI_MINOR) {
        dp_err_set(err,
                   "%s: stage needs interface %u.%u, host has only %d.%d: "
                   "upgrade docproc",
                   path, st->abi_major, st->abi_minor, DP_ABI_MAJOR,
                   DP_ABI_MINOR);
        goto bad;
    }
    if (st->struct_size < DP_STAGE_MIN_SIZE) {
        dp_err_set(err, "%s: stage descriptor too small (%u bytes)", path,
                   st->struct_size);
        goto bad;
    }
    if (st->name == NULL || st->name[0] == 0 || st->create == NULL ||
        st->process == NULL || st->destroy == NULL) {
        dp_err_set(err,
                   "%s: stage descriptor lacks a name or a callback "
                   "(create, process, destroy)",
                   path);
        goto bad;
    }
    p->handle = h;
    p->stage = st;
    p->path = strdup(path);
    p->data_dir = strdup(path);
    if (p->path == NULL || p->data_dir == NULL) {
        dp_err_set(err, "out of memory");
        dp_plugin_unload(p);
        return -ENOMEM;
    }
    char *slash = strrchr(p->data_dir, '/');
    if (slash)
        *slash = 0;
    else
        strcpy(p->data_dir, ".");
    return 0;
bad:
    dlclose(h);
    return -EINVAL;
}

void dp_plugin_unload(dp_plugin *p)
{
    /* Plugins stay mapped until exit: a thread may still sit in code we
     * would unmap, and dlclose buys nothing for a daemon. */
    free(p->path);
    free(p->data_dir);
    memset(p, 0, sizeof *p);
}

static const char *opt_type_name(dp_opt_type t)
{
    switch (t) {
    case DP_OPT_BOOL: return "a boolean";
    case DP_OPT_INT: return "an integer";
    case DP_OPT_NUMBER: return "a number";
    case DP_OPT_STRING: return "a string";
    case DP_OPT_STRING_LIST: return "an array of strings";
    default: return "a value";
    }
}

static int opt_type_ok(dp_opt_type t, const json_t *v)
{
    switch (t) {
    case DP_OPT_BOOL: return json_is_boolean(v);
    case DP_OPT_INT: return json_is_integer(v);
    case DP_OPT_NUMBER: return json_is_number(v);
    case DP_OPT_STRING: return json_is_string(v);
    case DP_OPT_STRING_LIST: {
        if (!json_is_array(v))
            return 0;
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) if (!json_is_string(x)) return 0;
        return 1;
    }
    default: return 1;
    }
}

json_t *dp_plugin_options(const dp_stage *stage, const json_t *options,
                          const char *where, dp_err *err)
{
    const dp_option *schema = stage->options;
    json_t *out = json_object();
    if (out == NULL) {
        dp_err_set(err, "out of memory");
        return NULL;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)options, k, v) {
        const dp_option *o = NULL;
        for (size_t i = 0; schema && schema[i].name; i++)
            if (strcmp(schema[i].name, k) == 0)
                o = &schema[i];
        if (o == NULL) {
            char known[256] = "";
            size_t n = 0;
            for (size_t i = 0; schema && schema[i].name && n < sizeof known;
                 i++)
                n += (size_t)snprintf(known + n, sizeof known - n, "%s%s",
                                      i ? ", " : "", schema[i].name);
            dp_err_set(err, "%s.%s: unknown option of stage '%s' (known: %s)",
                       where, k, stage->name, known[0] ? known : "none");
            goto fail;
        }
        if (!opt_type_ok(o->type, v)) {
            dp_err_set(err, "%s.%s: expected %s", where, k,
                       opt_type_name(o->type));
            goto fail;
        }
        json_object_set(out, k, v);
    }
    for (size_t i = 0; schema && schema[i].name; i++) {
        if (json_object_get(out, schema[i].name) || !schema[i].default_json)
            continue;
        json_t *d =
            json_loads(schema[i].default_json, JSON_DECODE_ANY, NULL);
        if (d == NULL) {
            dp_err_set(err, "%s.%s: the stage's default is not JSON", where,
                       schema[i].name);
            goto fail;
        }
        json_object_set_new(out, schema[i].name, d);
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}
