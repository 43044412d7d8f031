/* A pipeline: the ordered, loaded stages of a config, with their
 * requirements checked, and the running of one document through them. */
#ifndef DP_PIPELINE_H
#define DP_PIPELINE_H

#include "config.h"
#include "doc.h"
#include "plugin.h"

typedef struct dp_pipeline_stage {
    dp_plugin plugin;
    json_t *options; /* validated, defaults filled in */
    void *instance;
} dp_pipeline_stage;

typedef struct dp_pipeline {
    dp_pipeline_stage *stages;
    size_t n;
} dp_pipeline;

/* Load the stages of `cfg`. `only` (NULL-terminated, or NULL for all)
 * keeps a subset, in configured order; a name not configured is an error.
 * `overrides` (or NULL) is {"stage": {"key": value}}, applied over the
 * configured options. */
int dp_pipeline_load(dp_pipeline *p, const dp_config *cfg,
                     const char *const *only, const json_t *overrides,
                     dp_err *err);
void dp_pipeline_free(dp_pipeline *p);

/* Run every stage on `doc`. On failure, *failed_stage names the stage (or
 * "decode"), err says why, and a negative errno is returned. */
int dp_pipeline_run(const dp_pipeline *p, dp_doc *doc,
                    const char **failed_stage, dp_err *err);

#endif
