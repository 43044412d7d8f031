/* Pipelines of stages. */
#include "pipeline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

static int in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return 1;
    return 0;
}

/* "clean, segment, ...": the configured stage names, for messages. */
static void configured_names(const dp_config *cfg, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = 0;
    for (size_t j = 0; j < cfg->n_stages && used < len; j++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s",
                                 j ? ", " : "", cfg->stages[j].name);
}

static int check_requirements(const dp_pipeline *p, dp_err *err)
{
    for (size_t i = 0; i < p->n; i++) {
        const dp_stage *st = p->stages[i].plugin.stage;
        /* A decoding stage maps the raw bytes onto its text. After another
         * stage the host has decoded already (a BOM stripped, so the text
         * is no longer the raw bytes) and that map would not fit. */
        if ((st->flags & DP_STAGE_DECODES) && i > 0) {
            dp_err_set(err,
                       "%s: stage '%s' decodes the raw bytes, so it must "
                       "come first in the stages (it comes after '%s')",
                       p->stages[i].plugin.path, st->name,
                       p->stages[i - 1].plugin.stage->name);
            return -EINVAL;
        }
        for (size_t r = 0; st->requires && st->requires[r]; r++) {
            int found = 0;
            for (size_t j = 0; j < i && !found; j++)
                found = in_list(p->stages[j].plugin.stage->provides,
                                st->requires[r]);
            if (!found) {
                dp_err_set(err,
                           "%s: stage '%s' requires the layer '%s', which "
                           "no earlier stage provides",
                           p->stages[i].plugin.path, st->name,
                           st->requires[r]);
                return -EINVAL;
            }
        }
    }
    return 0;
}

int dp_pipeline_load(dp_pipeline *p, const dp_config *cfg,
                     const char *const *only, const json_t *overrides,
                     dp_err *err)
{
    int rc = 0;
    char names[256];
    memset(p, 0, sizeof *p);
    configured_names(cfg, names, sizeof names);
    for (size_t i = 0; only && only[i]; i++) {
        int found = 0;
        for (size_t j = 0; j < cfg->n_stages; j++)
            found |= strcmp(cfg->stages[j].name, only[i]) == 0;
        if (!found) {
            dp_err_set(err,
                       "stage '%s' is not in the configured pipeline "
                       "(configured: %s)",
                       only[i], names);
            return -EINVAL;
        }
    }
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)overrides, key, val) {
        int found = 0;
        for (size_t j = 0; j < cfg->n_stages; j++)
            found |= strcmp(cfg->stages[j].name, key) == 0;
        if (!found) {
            /* Name the option as it was given: STAGE.KEY. */
            void *it = json_object_iter(val);
            dp_err_set(err,
                       "--set %s.%s: no stage '%s' in the pipeline "
                       "(configured: %s)",
                       key, it ? json_object_iter_key(it) : "", key, names);
            return -EINVAL;
        }
    }
    p->stages = calloc(cfg->n_stages, sizeof *p->stages);
    if (p->stages == NULL) {
        dp_err_set(err, "out of memory");
        return -ENOMEM;
    }
    for (size_t i = 0; i < cfg->n_stages; i++) {
        const dp_stage_conf *sc = &cfg->stages[i];
        if (only && !in_list(only, sc->name))
            continue;
        for (size_t j = 0; j < p->n; j++) {
            if (strcmp(p->stages[j].plugin.stage->name, sc->name) == 0) {
                dp_err_set(err, "stages[%zu]: duplicate stage name '%s'", i,
                           sc->name);
                rc = -EINVAL;
                goto fail;
            }
        }
        dp_pipeline_stage *ps = &p->stages[p->n];
        char *path = NULL;
        if ((rc = dp_plugin_find(cfg->plugin_dir, sc->name, sc->plugin, &path,
                                 err))) {
            if (rc == -ENOENT) { /* say which entry of the config it is */
                char why[sizeof err->msg];
                memcpy(why, err->msg, sizeof why);
                dp_err_set(err, "stages[%zu].name: %s", i, why);
            }
            goto fail;
        }
        rc = dp_plugin_load(path, &ps->plugin, err);
        free(path);
        if (rc)
            goto fail;
        p->n++;
        if (strcmp(ps->plugin.stage->name, sc->name) != 0) {
            dp_err_set(err, "%s: the plugin calls itself '%s', not '%s'",
                       ps->plugin.path, ps->plugin.stage->name, sc->name);
            rc = -EINVAL;
            goto fail;
        }
        json_t *ov = json_object_get(overrides, sc->name);
        if (ov) {
            /* A bad --set is named as the user wrote it, not by the
             * config's key path. */
            char set_where[80];
            snprintf(set_where, sizeof set_where, "--set %s", sc->name);
            json_t *checked = dp_plugin_options(ps->plugin.stage, ov,
                                                set_where, err);
            if (checked == NULL) {
                rc = -EINVAL;
                goto fail;
            }
            json_decref(checked);
        }
        json_t *merged = json_deep_copy(sc->options);
        if (merged == NULL || (ov && json_object_update(merged, ov) != 0)) {
            json_decref(merged);
            dp_err_set(err, "out of memory");
            rc = -ENOMEM;
            goto fail;
        }
        char where[64];
        snprintf(where, sizeof where, "stages[%zu].options", i);
        ps->options = dp_plugin_options(ps->plugin.stage, merged, where, err);
        json_decref(merged);
        if (ps->options == NULL) {
            rc = -EINVAL;
            goto fail;
        }
    }
    if ((rc = check_requirements(p, err)))
        goto fail;
    for (size_t i = 0; i < p->n; i++) {
        dp_pipeline_stage *ps = &p->stages[i];
        dp_err e = {{0}};
        rc = ps->plugin.stage->create(&dp_host_api, ps->options,
                                      ps->plugin.data_dir, &ps->instance, &e);
        if (rc) {
            dp_err_set(err, "%s: stage '%s' failed to start: %s",
                       ps->plugin.path, ps->plugin.stage->name,
                       e.msg[0] ? e.msg : strerror(-rc));
            ps->instance = NULL;
            goto fail;
        }
    }
    return 0;
fail:
    dp_pipeline_free(p);
    return rc ? rc : -EINVAL;
}

void dp_pipeline_free(dp_pipeline *p)
{
    for (size_t i = 0; i < p->n; i++) {
        dp_pipeline_stage *ps = &p->stages[i];
        if (ps->instance)
            ps->plugin.stage->destroy(ps->instance);
        json_decref(ps->options);
        dp_plugin_unload(&ps->plugin);
    }
    free(p->stages);
    memset(p, 0, sizeof *p);
}

int dp_pipeline_run(const dp_pipeline *p, dp_doc *doc,
                    const char **failed_stage, dp_err *err)
{
    int rc;
    for (size_t i = 0; i < p->n; i++) {
        const dp_pipeline_stage *ps = &p->stages[i];
        const dp_stage *st = ps->plugin.stage;
        if (!dp_doc_has_text(doc) && !(st->flags & DP_STAGE_DECODES)) {
            if ((rc = dp_doc_decode_utf8(doc, err))) {
                *failed_stage = "decode";
                return rc;
            }
        }
        uint64_t t0 = uv_hrtime();
        dp_err e = {{0}};
        rc = st->process(ps->instance, doc, &e);
        double ms = (double)(uv_hrtime() - t0) / 1e6;
        if (rc == 0 && !dp_doc_has_text(doc)) {
            dp_err_set(&e, "the decoding stage produced no text");
            rc = -EINVAL;
        }
        if (rc) {
            *failed_stage = st->name;
            dp_err_set(err, "%s", e.msg[0] ? e.msg : strerror(-rc));
            return rc < 0 ? rc : -EIO;
        }
        if (dp_doc_add_stage_rec(doc, st->name,
                                 st->version ? st->version : "", ms)) {
            *failed_stage = st->name;
            dp_err_set(err, "out of memory");
            return -ENOMEM;
        }
    }
    if (!dp_doc_has_text(doc) && (rc = dp_doc_decode_utf8(doc, err))) {
        *failed_stage = "decode";
        return rc;
    }
    return 0;
}
