/* Loading one stage plugin: dlopen, the entry point, the ABI check both
 * ways, and validation of the stage's options against its schema. */
#ifndef DP_PLUGIN_H
#define DP_PLUGIN_H

#include <docproc/stage.h>

typedef struct dp_plugin {
    void *handle;            /* from dlopen; kept until exit */
    const dp_stage *stage;   /* the plugin's descriptor */
    char *path;              /* the file it came from */
    char *data_dir;          /* its folder */
} dp_plugin;

/* Find the shared object for stage `name` in `plugin_dir` (<dir>/<name>.so
 * or <dir>/<name>/<name>.so), or use `explicit_path` when not NULL. */
int dp_plugin_find(const char *plugin_dir, const char *name,
                   const char *explicit_path, char **path, dp_err *err);

/* Load and check a plugin file. Every error names the file and why. */
int dp_plugin_load(const char *path, dp_plugin *p, dp_err *err);
void dp_plugin_unload(dp_plugin *p);

/* Check `options` against the stage's schema and return a new object with
 * defaults filled in. `where` prefixes error paths ("stages[2].options"). */
json_t *dp_plugin_options(const dp_stage *stage, const json_t *options,
                          const char *where, dp_err *err);

/* The plugin folder used when the config names none: beside the binary in
 * a build tree, else the install folder. */
const char *dp_plugin_default_dir(void);

#endif
