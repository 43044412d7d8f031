/* Plugin loading and pipeline assembly: what is accepted, and that every
 * refusal names the file and the reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pipeline.h"
#include "testkit.h"

static char *plugin(const char *name)
{
    static char buf[4][1024];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s.so", UNIT_PLUGIN_DIR, name);
    return buf[i];
}

static void test_good_plugin_loads(void **state)
{
    (void)state;
    dp_plugin p;
    dp_err err = {{0}};
    char path[1024];
    snprintf(path, sizeof path, "%s/example/example.so", DP_TEST_PLUGIN_DIR);
    assert_int_equal(dp_plugin_load(path, &p, &err), 0);
    assert_string_equal(p.stage->name, "example");
    assert_non_null(strstr(p.data_dir, "plugins/example"));
    dp_plugin_unload(&p);
}

static void test_missing_symbol_refused(void **state)
{
    (void)state;
    dp_plugin p;
    dp_err err = {{0}};
    assert_int_not_equal(dp_plugin_load(plugin("nosymbol"), &p, &err), 0);
    assert_non_null(strstr(err.msg, "nosymbol.so"));
    assert_non_null(strstr(err.msg, "missing symbol docproc_stage_entry"));
}

static void test_wrong_version_refused(void **state)
{
    (void)state;
    dp_plugin p;
    dp_err err = {{0}};
    assert_int_not_equal(dp_plugin_load(plugin("badabi"), &p, &err), 0);
    assert_non_null(strstr(err.msg, "badabi.so"));
    assert_non_null(strstr(err.msg, "interface version mismatch"));
    assert_non_null(strstr(err.msg, "99.0"));
}

static void test_newer_minor_refused(void **state)
{
    (void)state;
    dp_plugin p;
    dp_err err = {{0}};
    assert_int_not_equal(dp_plugin_load(plugin("newminor"), &p, &err), 0);
    assert_non_null(strstr(err.msg, "newminor.so"));
    assert_non_null(strstr(err.msg, "needs interface 1.99"));
    assert_non_null(strstr(err.msg, "upgrade docproc"));
}

static void test_not_a_shared_object_refused(void **state)
{
    (void)state;
    dp_plugin p;
    dp_err err = {{0}};
    assert_int_not_equal(
        dp_plugin_load(UNIT_SOURCE_DIR "/test_plugin.c", &p, &err), 0);
    assert_non_null(strstr(err.msg, "test_plugin.c: cannot load"));
}

static int load(dp_pipeline *p, const char *fmt, dp_err *err)
{
    char json[2048];
    snprintf(json, sizeof json, fmt, plugin("tokens"), plugin("needs"));
    return tk_pipeline(p, json, err);
}

static void test_unmet_requirement_refused(void **state)
{
    (void)state;
    dp_pipeline p;
    dp_err err = {{0}};
    /* needs comes first: nothing before it provides "token". */
    int rc = load(&p,
                  "[{\"name\":\"needs\",\"plugin\":\"%2$s\"},"
                  "{\"name\":\"tokens\",\"plugin\":\"%1$s\"}]",
                  &err);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(err.msg, "needs.so"));
    assert_non_null(strstr(err.msg, "requires the layer 'token'"));
}

static void test_requirement_met_runs(void **state)
{
    (void)state;
    dp_pipeline p;
    dp_err err = {{0}};
    const char *stage = NULL;
    assert_int_equal(load(&p,
                          "[{\"name\":\"tokens\",\"plugin\":\"%1$s\"},"
                          "{\"name\":\"needs\",\"plugin\":\"%2$s\"}]",
                          &err),
                     0);
    dp_doc *doc = tk_run(&p, "d", "three little words", -1, &err, &stage);
    assert_non_null(doc);
    json_t *out = tk_output(doc);
    assert_int_equal(json_integer_value(json_object_get(out, "token_count")),
                     3);
    json_decref(out);
    dp_doc_free(doc);
    dp_pipeline_free(&p);
}

static void test_duplicate_stage_refused(void **state)
{
    (void)state;
    dp_pipeline p;
    dp_err err = {{0}};
    int rc = load(&p,
                  "[{\"name\":\"tokens\",\"plugin\":\"%1$s\"},"
                  "{\"name\":\"tokens\",\"plugin\":\"%1$s\"}]",
                  &err);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(err.msg, "duplicate stage name 'tokens'"));
}

/* A decoding stage reads the raw bytes and replaces the text: after
 * another stage, the host has already decoded (BOM stripped), so its
 * mapping no longer fits and every BOM file failed with "cannot set the
 * cleaned text (-22)". Such an order is a config error, named. */
static void test_decoding_stage_not_first_refused(void **state)
{
    (void)state;
    dp_pipeline p;
    dp_err err = {{0}};
    char json[2048];
    snprintf(json, sizeof json,
             "[{\"name\":\"tokens\",\"plugin\":\"%s\"},"
             "{\"name\":\"decodes\",\"plugin\":\"%s\"}]",
             plugin("tokens"), plugin("decodes"));
    assert_int_not_equal(tk_pipeline(&p, json, &err), 0);
    assert_non_null(strstr(err.msg, "decodes.so"));
    assert_non_null(strstr(err.msg, "must come first"));
    /* First, it loads and runs, BOM and all. */
    snprintf(json, sizeof json,
             "[{\"name\":\"decodes\",\"plugin\":\"%s\"},"
             "{\"name\":\"tokens\",\"plugin\":\"%s\"}]",
             plugin("decodes"), plugin("tokens"));
    assert_int_equal(tk_pipeline(&p, json, &err), 0);
    const char *stage = NULL;
    dp_doc *doc = tk_run(&p, "d", "\xEF\xBB\xBFtwo words", -1, &err, &stage);
    assert_non_null(doc);
    dp_doc_free(doc);
    dp_pipeline_free(&p);
}

static void test_name_mismatch_refused(void **state)
{
    (void)state;
    dp_pipeline p;
    dp_err err = {{0}};
    int rc = load(&p, "[{\"name\":\"other\",\"plugin\":\"%1$s\"}]", &err);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(err.msg, "calls itself 'tokens'"));
}

static void test_missing_plugin_file_named(void **state)
{
    (void)state;
    dp_pipeline p;
    dp_err err = {{0}};
    assert_int_not_equal(tk_pipeline(&p, "[{\"name\":\"nonesuch\"}]", &err), 0);
    assert_non_null(strstr(err.msg, "nonesuch.so"));
}

static void test_options_validated_with_path(void **state)
{
    (void)state;
    dp_pipeline p;
    dp_err err = {{0}};
    int rc = tk_pipeline(
        &p, "[{\"name\":\"example\",\"options\":{\"min_length\":\"two\"}}]",
        &err);
    assert_int_not_equal(rc, 0);
    assert_string_equal(err.msg,
                        "stages[0].options.min_length: expected an integer");
    rc = tk_pipeline(&p, "[{\"name\":\"example\",\"options\":{\"typo\":1}}]",
                     &err);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(err.msg, "stages[0].options.typo: unknown option"));
}

static void test_stage_create_error_reported(void **state)
{
    (void)state;
    dp_pipeline p;
    dp_err err = {{0}};
    int rc = tk_pipeline(
        &p, "[{\"name\":\"example\",\"options\":{\"min_length\":0}}]", &err);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(err.msg, "failed to start: min_length must be"));
}

static void test_stage_failure_names_stage(void **state)
{
    (void)state;
    dp_pipeline p;
    dp_err err = {{0}};
    const char *stage = NULL;
    assert_int_equal(
        tk_pipeline(&p,
                    "[{\"name\":\"example\",\"options\":{\"fail_on\":"
                    "\"boom\"}}]",
                    &err),
        0);
    assert_null(tk_run(&p, "d", "it goes boom here", -1, &err, &stage));
    assert_string_equal(stage, "example");
    assert_non_null(strstr(err.msg, "found the word 'boom'"));
    dp_pipeline_free(&p);
}

static void test_subset_and_overrides(void **state)
{
    (void)state;
    dp_config cfg;
    dp_err err = {{0}};
    json_t *root = json_pack(
        "{s:s,s:[{s:s}]}", "plugin_dir", DP_TEST_PLUGIN_DIR, "stages", "name",
        "example");
    assert_int_equal(dp_config_from_json(root, &cfg, &err), 0);
    dp_pipeline p;
    const char *only_bad[] = {"segmentx", NULL};
    assert_int_not_equal(dp_pipeline_load(&p, &cfg, only_bad, NULL, &err), 0);
    assert_non_null(strstr(err.msg, "'segmentx' is not in the configured"));
    assert_non_null(strstr(err.msg, "(configured: example)"));
    /* A stage name with no plugin names the config entry. */
    dp_config cfg_typo;
    json_t *typo = json_pack("{s:s,s:[{s:s},{s:s}]}", "plugin_dir",
                             DP_TEST_PLUGIN_DIR, "stages", "name", "example",
                             "name", "exampel");
    assert_int_equal(dp_config_from_json(typo, &cfg_typo, &err), 0);
    assert_int_not_equal(dp_pipeline_load(&p, &cfg_typo, NULL, NULL, &err), 0);
    assert_non_null(
        strstr(err.msg, "stages[1].name: stage 'exampel': no plugin "));
    dp_config_free(&cfg_typo);
    json_decref(typo);
    /* A --set for a stage not configured names the option and the stage. */
    json_t *ov_bad = json_pack("{s:{s:i}}", "summarize", "sentences", 3);
    assert_int_not_equal(dp_pipeline_load(&p, &cfg, NULL, ov_bad, &err), 0);
    assert_string_equal(err.msg, "--set summarize.sentences: no stage "
                                 "'summarize' in the pipeline (configured: "
                                 "example)");
    json_decref(ov_bad);
    /* A --set of the wrong type or an unknown one is named as given. */
    ov_bad = json_pack("{s:{s:s}}", "example", "min_length", "x");
    assert_int_not_equal(dp_pipeline_load(&p, &cfg, NULL, ov_bad, &err), 0);
    assert_string_equal(err.msg,
                        "--set example.min_length: expected an integer");
    json_decref(ov_bad);
    ov_bad = json_pack("{s:{s:i}}", "example", "nope", 1);
    assert_int_not_equal(dp_pipeline_load(&p, &cfg, NULL, ov_bad, &err), 0);
    assert_non_null(strstr(err.msg, "--set example.nope: unknown option"));
    json_decref(ov_bad);
    json_t *ov = json_pack("{s:{s:i}}", "example", "min_length", 4);
    const char *only[] = {"example", NULL};
    assert_int_equal(dp_pipeline_load(&p, &cfg, only, ov, &err), 0);
    const char *stage;
    dp_doc *doc = tk_run(&p, "d", "a bb cccc ddddd", -1, &err, &stage);
    json_t *out = tk_output(doc);
    assert_int_equal(json_integer_value(json_object_get(out, "word_count")),
                     2);
    json_decref(out);
    dp_doc_free(doc);
    dp_pipeline_free(&p);
    json_decref(ov);
    json_decref(root);
    dp_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_plugin_loads),
        cmocka_unit_test(test_missing_symbol_refused),
        cmocka_unit_test(test_wrong_version_refused),
        cmocka_unit_test(test_newer_minor_refused),
        cmocka_unit_test(test_not_a_shared_object_refused),
        cmocka_unit_test(test_unmet_requirement_refused),
        cmocka_unit_test(test_requirement_met_runs),
        cmocka_unit_test(test_duplicate_stage_refused),
        cmocka_unit_test(test_decoding_stage_not_first_refused),
        cmocka_unit_test(test_name_mismatch_refused),
        cmocka_unit_test(test_missing_plugin_file_named),
        cmocka_unit_test(test_options_validated_with_path),
        cmocka_unit_test(test_stage_create_error_reported),
        cmocka_unit_test(test_stage_failure_names_stage),
        cmocka_unit_test(test_subset_and_overrides),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
