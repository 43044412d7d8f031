/* Config validation: defaults, and every error naming its key path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static int parse(const char *json, dp_config *cfg, dp_err *err)
{
    json_t *root = json_loads(json, 0, NULL);
    assert_non_null(root);
    int rc = dp_config_from_json(root, cfg, err);
    json_decref(root);
    return rc;
}

static void expect_error(const char *json, const char *msg)
{
    dp_config cfg;
    dp_err err = {{0}};
    assert_int_not_equal(parse(json, &cfg, &err), 0);
    if (strstr(err.msg, msg) == NULL)
        fail_msg("expected '%s' in '%s'", msg, err.msg);
}

static void test_defaults(void **state)
{
    (void)state;
    dp_config cfg;
    dp_err err = {{0}};
    assert_int_equal(parse("{\"stages\":[{\"name\":\"a\"}]}", &cfg, &err), 0);
    assert_string_equal(cfg.inbox, "inbox");
    assert_string_equal(cfg.outbox, "outbox");
    assert_string_equal(cfg.failed, "failed");
    assert_string_equal(cfg.done, "done");
    assert_string_equal(cfg.processing, "processing");
    assert_null(cfg.plugin_dir);
    assert_int_equal(cfg.n_stages, 1);
    assert_string_equal(cfg.stages[0].name, "a");
    assert_true(json_is_object(cfg.stages[0].options));
    assert_int_equal(cfg.workers, 2);
    assert_int_equal(cfg.delete_originals, 0);
    assert_true(dp_config_wants_output(&cfg, "json"));
    assert_false(dp_config_wants_output(&cfg, "html"));
    assert_true(cfg.isolation_process);
    dp_config_free(&cfg);
}

static void test_values_read(void **state)
{
    (void)state;
    dp_config cfg;
    dp_err err = {{0}};
    assert_int_equal(
        parse("{\"inbox\":\"/x/in\",\"workers\":4,\"originals\":\"delete\","
              "\"settle_ms\":0,\"max_document_bytes\":10,"
              "\"outputs\":[\"json\",\"html\"],\"isolation\":\"thread\","
              "\"stages\":[{\"name\":\"a\",\"options\":{\"k\":1}},"
              "{\"name\":\"b\",\"plugin\":\"/p/b.so\"}]}",
              &cfg, &err),
        0);
    assert_string_equal(cfg.inbox, "/x/in");
    assert_int_equal(cfg.workers, 4);
    assert_int_equal(cfg.delete_originals, 1);
    assert_int_equal(cfg.settle_ms, 0);
    assert_int_equal(cfg.max_bytes, 10);
    assert_true(dp_config_wants_output(&cfg, "html"));
    assert_false(cfg.isolation_process);
    assert_string_equal(cfg.stages[1].plugin, "/p/b.so");
    assert_int_equal(
        json_integer_value(json_object_get(cfg.stages[0].options, "k")), 1);
    dp_config_free(&cfg);
}

static void test_errors_name_key_path(void **state)
{
    (void)state;
    expect_error("{\"stages\":[{\"name\":\"a\"}],\"inboxx\":\"i\"}",
                 "inboxx: unknown key");
    expect_error("{\"stages\":[]}", "stages: expected a non-empty array");
    expect_error("{}", "stages: expected a non-empty array");
    expect_error("{\"stages\":[{\"name\":\"a\"}],\"workers\":\"2\"}",
                 "workers: expected an integer, got a string");
    expect_error("{\"stages\":[{\"name\":\"a\"}],\"workers\":0}",
                 "workers: expected an integer from 1 to 256, got 0");
    expect_error("{\"stages\":[{\"name\":\"a\"}],\"inbox\":3}",
                 "inbox: expected a non-empty string, got an integer");
    /* It used to say "..., got a string". */
    expect_error("{\"stages\":[{\"name\":\"a\"}],\"inbox\":\"\"}",
                 "inbox: expected a non-empty string, got an empty string");
    expect_error("{\"stages\":[{\"name\":\"a\"},{\"nam\":\"b\"}]}",
                 "stages[1].nam: unknown key");
    expect_error("{\"stages\":[{\"name\":\"a\"},{\"name\":\"../b\"}]}",
                 "stages[1].name: expected a stage name");
    expect_error("{\"stages\":[{\"name\":\"a\",\"options\":[]}]}",
                 "stages[0].options: expected an object, got an array");
    expect_error("{\"stages\":[{\"name\":\"a\"}],\"originals\":\"keep\"}",
                 "originals: expected one of \"done\", \"delete\", got \"keep\"");
    expect_error("{\"stages\":[{\"name\":\"a\"}],\"outputs\":[\"pdf\"]}",
                 "outputs[0]: expected");
    expect_error("{\"stages\":[{\"name\":\"a\"}],\"log_level\":\"loud\"}",
                 "log_level: expected");
    expect_error("[1]", "expected an object");
}

static void test_load_file_errors(void **state)
{
    (void)state;
    dp_config cfg;
    dp_err err = {{0}};
    char path[] = "/tmp/dp-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{\"stages\": [,]}", 15), 15);
    close(fd);
    assert_int_not_equal(dp_config_load(path, &cfg, &err), 0);
    assert_non_null(strstr(err.msg, path)); /* names the file */
    assert_non_null(strstr(err.msg, ":1:")); /* and the line */
    unlink(path);
    assert_int_not_equal(dp_config_load("/nonexistent/c.json", &cfg, &err), 0);
    assert_non_null(strstr(err.msg, "/nonexistent/c.json"));
    assert_null(strstr(err.msg, "-1")); /* no line -1, column -1 */
    /* A folder given as the config: said so, not "'[' or '{' expected". */
    assert_int_not_equal(dp_config_load("/tmp", &cfg, &err), 0);
    assert_non_null(strstr(err.msg, "/tmp: is a folder, not a config file"));
}

static void test_default_config_is_valid(void **state)
{
    (void)state;
    dp_config cfg;
    dp_err err = {{0}};
    assert_int_equal(dp_config_load(DP_SOURCE_CONFIG_FOR_TEST, &cfg, &err), 0);
    assert_true(cfg.n_stages >= 1);
    dp_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_values_read),
        cmocka_unit_test(test_errors_name_key_path),
        cmocka_unit_test(test_load_file_errors),
        cmocka_unit_test(test_default_config_is_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
