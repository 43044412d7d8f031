/* Configuration loading and validation. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "log.h"

#ifndef DP_SYSCONF_CONFIG
#define DP_SYSCONF_CONFIG "/etc/docproc/docprocd.json"
#endif
#ifndef DP_SOURCE_CONFIG
#define DP_SOURCE_CONFIG "config/docprocd.json"
#endif

#ifndef DP_BUILD_ROOT
#define DP_BUILD_ROOT ""
#endif

/* A binary run from its build tree uses the source tree's config; an
 * installed one the config under sysconfdir. */
const char *dp_config_default_path(void)
{
    const char *env = getenv("DOCPROC_CONFIG");
    char exe[4096];
    size_t len = sizeof exe;
    if (env && *env)
        return env;
    if (DP_BUILD_ROOT[0] && uv_exepath(exe, &len) == 0 &&
        strncmp(exe, DP_BUILD_ROOT "/", strlen(DP_BUILD_ROOT) + 1) == 0 &&
        access(DP_SOURCE_CONFIG, R_OK) == 0)
        return DP_SOURCE_CONFIG;
    return DP_SYSCONF_CONFIG;
}

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

static int get_string(const json_t *root, const char *key, char **out,
                      const char *def, dp_err *err)
{
    const json_t *v = json_object_get(root, key);
    const char *s = def;
    if (v) {
        if (!json_is_string(v) || json_string_length(v) == 0) {
            dp_err_set(err, "%s: expected a non-empty string, got %s", key,
                       json_is_string(v) ? "an empty string"
                                         : json_type_name(v));
            return -EINVAL;
        }
        s = json_string_value(v);
    }
    *out = s ? strdup(s) : NULL;
    if (s && *out == NULL) {
        dp_err_set(err, "out of memory");
        return -ENOMEM;
    }
    return 0;
}

static int get_int(const json_t *root, const char *key, long long min,
                   long long max, long long def, long long *out, dp_err *err)
{
    const json_t *v = json_object_get(root, key);
    if (v == NULL) {
        *out = def;
        return 0;
    }
    if (!json_is_integer(v)) {
        dp_err_set(err, "%s: expected an integer, got %s", key,
                   json_type_name(v));
        return -EINVAL;
    }
    long long x = json_integer_value(v);
    if (x < min || x > max) {
        dp_err_set(err, "%s: expected an integer from %lld to %lld, got %lld",
                   key, min, max, x);
        return -EINVAL;
    }
    *out = x;
    return 0;
}

/* A folder path made comparable: "./a//b/" -> "a/b". */
static void normalise(const char *in, char *out, size_t len)
{
    size_t n = 0;
    while (in[0] == '.' && in[1] == '/')
        in += 2;
    for (; *in && n + 1 < len; in++) {
        if (*in == '/' && (n > 0 && out[n - 1] == '/'))
            continue;
        if (*in == '/' && in[1] == '.' && (in[2] == '/' || in[2] == 0)) {
            in++;
            continue;
        }
        out[n++] = *in;
    }
    while (n > 1 && out[n - 1] == '/')
        n--;
    out[n] = 0;
}

/* A folder as docprocd will use it: the longest part of it that exists
 * resolved with realpath (links, "..", the working folder of a relative
 * path), the rest appended as written (normalised). A folder that does
 * not exist yet is then still compared where it will be. */
static void resolve(const char *path, char *out, size_t len)
{
    char norm[PATH_MAX], head[PATH_MAX], real[PATH_MAX];
    normalise(path, norm, sizeof norm);
    snprintf(head, sizeof head, "%s", norm);
    const char *tail = "";
    for (;;) {
        if (realpath(head[0] ? head : ".", real)) {
            snprintf(out, len, "%s%s%s", strcmp(real, "/") ? real : "",
                     tail[0] || strcmp(real, "/") == 0 ? "/" : "", tail);
            return;
        }
        char *slash = strrchr(head, '/');
        if (head[0] == 0 || (slash == head && head[1] == 0)) {
            snprintf(out, len, "%s", norm); /* not even "." or "/" */
            return;
        }
        tail = slash ? norm + (slash - head) + 1 : norm;
        if (slash == head)
            head[1] = 0; /* "/x": its head is "/" */
        else if (slash)
            *slash = 0;
        else
            head[0] = 0;
    }
}

/* Whether folder `in` is inside folder `dir` (both resolved). */
static int inside(const char *in, const char *dir)
{
    size_t n = strlen(dir);
    if (n == 1 && dir[0] == '/')
        return in[1] != 0;
    return strncmp(in, dir, n) == 0 && in[n] == '/';
}

/* The five folders must be five, and none inside the inbox or processing/:
 * an outbox that is (or is in) the inbox would feed every output back in
 * as a new document, without end; a folder inside processing/ would be
 * taken for a document left there by a crash. */
static int check_distinct_folders(const dp_config *cfg, dp_err *err)
{
    const char *keys[] = {"inbox", "processing", "outbox", "failed", "done"};
    const char *paths[] = {cfg->inbox, cfg->processing, cfg->outbox,
                           cfg->failed, cfg->done};
    char r[5][PATH_MAX];
    for (int i = 0; i < 5; i++)
        resolve(paths[i], r[i], sizeof r[i]);
    for (int i = 0; i < 5; i++) {
        for (int j = i + 1; j < 5; j++) {
            if (strcmp(r[i], r[j]) == 0) {
                dp_err_set(err,
                           "%s: %s is the same folder as the %s %s (%s)",
                           keys[j], paths[j], keys[i], paths[i], r[j]);
                return -EINVAL;
            }
        }
    }
    for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 5; j++) {
            if (j != i && inside(r[j], r[i])) {
                dp_err_set(err,
                           "%s: %s is inside the %s %s (%s): docprocd would "
                           "take its own files for documents",
                           keys[j], paths[j], keys[i], paths[i], r[j]);
                return -EINVAL;
            }
        }
    }
    return 0;
}

/* Order matters: the index is the value stored. */
static const char *const isolation_names[] = {"thread", "process", NULL};
static const char *const watch_names[] = {"inotify", "poll", "auto", NULL};
static const char *const output_names[] = {"json", "html", "md", "brat",
                                           "conll", NULL};
static const char *const originals_names[] = {"done", "delete", NULL};

static int get_enum(const json_t *root, const char *key,
                    const char *const *names, int def, int *out, dp_err *err)
{
    const json_t *v = json_object_get(root, key);
    *out = def;
    if (v == NULL)
        return 0;
    for (int i = 0; json_is_string(v) && names[i]; i++) {
        if (strcmp(json_string_value(v), names[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    char list[200] = "";
    size_t n = 0;
    for (int i = 0; names[i] && n < sizeof list; i++)
        n += (size_t)snprintf(list + n, sizeof list - n, "%s\"%s\"",
                              i ? ", " : "", names[i]);
    /* say what was given: a typo is then plain to see */
    if (json_is_string(v))
        dp_err_set(err, "%s: expected one of %s, got \"%.60s\"", key, list,
                   json_string_value(v));
    else
        dp_err_set(err, "%s: expected one of %s, got %s", key, list,
                   json_type_name(v));
    return -EINVAL;
}

static int parse_outputs(const json_t *root, dp_config *cfg, dp_err *err)
{
    const json_t *v = json_object_get(root, "outputs");
    json_t *def = NULL;
    if (v == NULL)
        v = def = json_pack("[s]", "json");
    int rc = 0;
    if (!json_is_array(v) || json_array_size(v) == 0) {
        dp_err_set(err, "outputs: expected a non-empty array of formats");
        rc = -EINVAL;
        goto out;
    }
    cfg->outputs = calloc(json_array_size(v), sizeof *cfg->outputs);
    if (cfg->outputs == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < json_array_size(v); i++) {
        const char *s = json_string_value(json_array_get(v, i));
        int known = 0;
        for (size_t j = 0; s && output_names[j]; j++)
            known |= strcmp(s, output_names[j]) == 0;
        if (!known) {
            dp_err_set(err,
                       "outputs[%zu]: expected \"json\", \"html\", \"md\", "
                       "\"brat\" or \"conll\"",
                       i);
            rc = -EINVAL;
            goto out;
        }
        if ((cfg->outputs[cfg->n_outputs++] = strdup(s)) == NULL) {
            rc = -ENOMEM;
            goto out;
        }
    }
out:
    json_decref(def);
    return rc;
}

int dp_config_wants_output(const dp_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_outputs; i++)
        if (strcmp(cfg->outputs[i], name) == 0)
            return 1;
    return 0;
}

static int parse_stage(const json_t *v, size_t i, dp_stage_conf *sc,
                       dp_err *err)
{
    static const char *const keys[] = {"name", "plugin", "options", NULL};
    if (!json_is_object(v)) {
        dp_err_set(err, "stages[%zu]: expected an object, got %s", i,
                   json_type_name(v));
        return -EINVAL;
    }
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x) {
        int known = 0;
        for (size_t j = 0; keys[j]; j++)
            known |= strcmp(k, keys[j]) == 0;
        if (!known) {
            dp_err_set(err,
                       "stages[%zu].%s: unknown key (expected name, plugin, "
                       "options)",
                       i, k);
            return -EINVAL;
        }
    }
    const json_t *name = json_object_get(v, "name");
    if (!json_is_string(name) || json_string_length(name) == 0 ||
        strpbrk(json_string_value(name), "/.") != NULL) {
        dp_err_set(err,
                   "stages[%zu].name: expected a stage name (no '/' or '.')",
                   i);
        return -EINVAL;
    }
    const json_t *plugin = json_object_get(v, "plugin");
    if (plugin && !json_is_string(plugin)) {
        dp_err_set(err, "stages[%zu].plugin: expected a string (a path)", i);
        return -EINVAL;
    }
    const json_t *opts = json_object_get(v, "options");
    if (opts && !json_is_object(opts)) {
        dp_err_set(err, "stages[%zu].options: expected an object, got %s", i,
                   json_type_name(opts));
        return -EINVAL;
    }
    sc->name = strdup(json_string_value(name));
    sc->plugin = plugin ? strdup(json_string_value(plugin)) : NULL;
    sc->options = opts ? json_deep_copy(opts) : json_object();
    if (sc->name == NULL || (plugin && sc->plugin == NULL) ||
        sc->options == NULL) {
        dp_err_set(err, "out of memory");
        return -ENOMEM;
    }
    return 0;
}

int dp_config_from_json(const json_t *root, dp_config *cfg, dp_err *err)
{
    static const char *const keys[] = {
        "inbox", "outbox", "failed", "done", "processing", "plugin_dir",
        "stages", "workers", "max_in_flight", "max_document_bytes",
        "settle_ms", "rescan_ms", "originals", "log_level", "outputs",
        "isolation", "time_limit_ms", "drain_ms", "metrics_file",
        "metrics_interval_ms", "watch", "worker_max_documents",
        "worker_max_rss_mb", NULL};
    int rc;
    long long x;
    memset(cfg, 0, sizeof *cfg);
    if (!json_is_object(root)) {
        dp_err_set(err, "(top level): expected an object");
        return -EINVAL;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)root, k, v) {
        int known = 0;
        for (size_t j = 0; keys[j]; j++)
            known |= strcmp(k, keys[j]) == 0;
        if (!known) {
            dp_err_set(err, "%s: unknown key", k);
            return -EINVAL;
        }
    }
    if ((rc = get_string(root, "inbox", &cfg->inbox, "inbox", err)) ||
        (rc = get_string(root, "outbox", &cfg->outbox, "outbox", err)) ||
        (rc = get_string(root, "failed", &cfg->failed, "failed", err)) ||
        (rc = get_string(root, "done", &cfg->done, "done", err)) ||
        (rc = get_string(root, "processing", &cfg->processing, "processing",
                         err)) ||
        (rc = get_string(root, "plugin_dir", &cfg->plugin_dir, NULL, err)))
        goto fail;
    if ((rc = check_distinct_folders(cfg, err)))
        goto fail;
    if ((rc = get_int(root, "workers", 1, 256, 2, &x, err)))
        goto fail;
    cfg->workers = (int)x;
    if ((rc = get_int(root, "max_in_flight", 1, 100000, 64, &x, err)))
        goto fail;
    cfg->max_in_flight = (int)x;
    if ((rc = get_int(root, "max_document_bytes", 1, 1LL << 40,
                      256LL << 20, &x, err)))
        goto fail;
    cfg->max_bytes = (uint64_t)x;
    if ((rc = get_int(root, "settle_ms", 0, 3600000, 1000, &x, err)))
        goto fail;
    cfg->settle_ms = (int)x;
    if ((rc = get_int(root, "rescan_ms", 0, 86400000, 30000, &x, err)))
        goto fail;
    cfg->rescan_ms = (int)x;

    int originals;
    if ((rc = get_enum(root, "originals", originals_names, 0, &originals, err)))
        goto fail;
    cfg->delete_originals = originals == 1;
    cfg->log_level = DP_LOG_INFO;
    const json_t *lv = json_object_get(root, "log_level");
    if (lv) {
        int l = json_is_string(lv)
                    ? dp_log_level_from_name(json_string_value(lv))
                    : -1;
        if (l < 0) {
            dp_err_set(err, "log_level: expected \"error\", \"warning\", "
                            "\"info\" or \"debug\"");
            rc = -EINVAL;
            goto fail;
        }
        cfg->log_level = l;
    }

    if ((rc = parse_outputs(root, cfg, err)))
        goto fail;
    if ((rc = get_enum(root, "isolation", isolation_names, 1,
                       &cfg->isolation_process, err)))
        goto fail;
    if ((rc = get_enum(root, "watch", watch_names, DP_WATCH_MODE_AUTO,
                       &cfg->watch_mode, err)))
        goto fail;
    if ((rc = get_int(root, "time_limit_ms", 0, 86400000, 60000, &x, err)))
        goto fail;
    cfg->time_limit_ms = (int)x;
    if ((rc = get_int(root, "drain_ms", 0, 86400000, 30000, &x, err)))
        goto fail;
    cfg->drain_ms = (int)x;
    if ((rc = get_string(root, "metrics_file", &cfg->metrics_file, NULL,
                         err)))
        goto fail;
    if ((rc = get_int(root, "metrics_interval_ms", 100, 86400000, 10000, &x,
                      err)))
        goto fail;
    cfg->metrics_interval_ms = (int)x;
    if ((rc = get_int(root, "worker_max_documents", 0, 1000000000, 0, &x,
                      err)))
        goto fail;
    cfg->worker_max_documents = (int)x;
    if ((rc = get_int(root, "worker_max_rss_mb", 0, 1048576, 0, &x, err)))
        goto fail;
    cfg->worker_max_rss_mb = (int)x;

    const json_t *stages = json_object_get(root, "stages");
    if (stages == NULL || !json_is_array(stages) ||
        json_array_size(stages) == 0) {
        dp_err_set(err, "stages: expected a non-empty array of stages");
        rc = -EINVAL;
        goto fail;
    }
    cfg->stages = calloc(json_array_size(stages), sizeof *cfg->stages);
    if (cfg->stages == NULL) {
        dp_err_set(err, "out of memory");
        rc = -ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < json_array_size(stages); i++) {
        cfg->n_stages = i + 1;
        if ((rc = parse_stage(json_array_get(stages, i), i, &cfg->stages[i],
                              err)))
            goto fail;
    }
    return 0;
fail:
    dp_config_free(cfg);
    return rc;
}

/* Offset of the first NUL byte of the file, or -1 (none, or unreadable).
 * jansson names one "control character 0x0" or "end of file expected". */
static long nul_offset(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    long off = -1;
    for (long i = 0;; i++) {
        int c = getc(f);
        if (c == EOF)
            break;
        if (c == 0) {
            off = i;
            break;
        }
    }
    fclose(f);
    return off;
}

int dp_config_load(const char *path, dp_config *cfg, dp_err *err)
{
    json_error_t je;
    struct stat st;
    /* jansson reads a folder as an empty file ("'[' or '{' expected"). */
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        memset(cfg, 0, sizeof *cfg);
        dp_err_set(err, "%s: is a folder, not a config file", path);
        return -EINVAL;
    }
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        memset(cfg, 0, sizeof *cfg);
        long nul = je.line < 1 ? -1 : nul_offset(path);
        if (je.line < 1) /* not a parse error: the file cannot be read */
            dp_err_set(err, "%s: %s", path, je.text);
        else if (nul >= 0)
            dp_err_set(err,
                       "%s: binary input: NUL byte at offset %ld (a config "
                       "is JSON text)",
                       path, nul);
        else if (strncmp(je.text, "\\u0000", 6) == 0)
            dp_err_set(err,
                       "%s:%d:%d: a string holds \\u0000 (a NUL character), "
                       "which no setting accepts",
                       path, je.line, je.column);
        else
            dp_err_set(err, "%s:%d:%d: %s", path, je.line, je.column,
                       je.text);
        return -EINVAL;
    }
    dp_err inner = {{0}};
    int rc = dp_config_from_json(root, cfg, &inner);
    json_decref(root);
    if (rc)
        dp_err_set(err, "%s: %s", path, inner.msg);
    return rc;
}

void dp_config_free(dp_config *cfg)
{
    free(cfg->inbox);
    free(cfg->outbox);
    free(cfg->failed);
    free(cfg->done);
    free(cfg->processing);
    free(cfg->plugin_dir);
    for (size_t i = 0; i < cfg->n_stages; i++) {
        free(cfg->stages[i].name);
        free(cfg->stages[i].plugin);
        json_decref(cfg->stages[i].options);
    }
    free(cfg->stages);
    for (size_t i = 0; i < cfg->n_outputs; i++)
        free(cfg->outputs[i]);
    free(cfg->outputs);
    free(cfg->metrics_file);
    memset(cfg, 0, sizeof *cfg);
}
