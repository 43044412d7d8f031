/* The daemon's configuration (config/docprocd.json): loading and
 * validation. Every error names the key path and what was expected. */
#ifndef DP_CONFIG_H
#define DP_CONFIG_H

#include <stdint.h>

#include <docproc/stage.h>

typedef struct dp_stage_conf {
    char *name;      /* stage name; the plugin file is <name>.so */
    char *plugin;    /* explicit path to the .so, or NULL */
    json_t *options; /* the stage's options object (never NULL) */
} dp_stage_conf;

typedef struct dp_config {
    char *inbox, *outbox, *failed, *done, *processing;
    char *plugin_dir; /* NULL: next to the binary, then the install dir */
    dp_stage_conf *stages;
    size_t n_stages;
    int workers;          /* threads of the pool */
    int max_in_flight;    /* documents claimed but not finished */
    uint64_t max_bytes;   /* larger documents fail */
    int settle_ms;        /* a plain write is taken once this stable */
    int rescan_ms;        /* periodic safety rescan of the inbox; 0 = off */
    int delete_originals; /* "originals": "delete" rather than "done" */
    int log_level;

    char **outputs;       /* "outputs": formats written per document */
    size_t n_outputs;     /* (default: just "json") */

    int isolation_process; /* "isolation": "process" (default) or "thread" */
    int time_limit_ms;     /* per document; 0 = none */
    int drain_ms;          /* SIGTERM: how long in-flight work may take */
    char *metrics_file;    /* Prometheus textfile, or NULL */
    int metrics_interval_ms;
    int watch_mode;        /* DP_WATCH_MODE_* */
    int worker_max_documents; /* recycle a worker after this many; 0 = off */
    int worker_max_rss_mb;    /* or above this resident size; 0 = off */
} dp_config;

enum { DP_WATCH_MODE_INOTIFY, DP_WATCH_MODE_POLL, DP_WATCH_MODE_AUTO };

/* True when `cfg` asks for output format `name`. */
int dp_config_wants_output(const dp_config *cfg, const char *name);

/* Parse and validate a config object. On error, fills err with
 * "<path>: <problem>" and returns a negative errno. */
int dp_config_from_json(const json_t *root, dp_config *cfg, dp_err *err);
int dp_config_load(const char *path, dp_config *cfg, dp_err *err);
void dp_config_free(dp_config *cfg);

/* The default config file: $DOCPROC_CONFIG, the installed one, or the one
 * in the source tree this binary was built from. */
const char *dp_config_default_path(void);

#endif
