/* End-to-end tests of the command-line front ends: `docproc` on files and
 * on JSON lines, and `docprocd --check-config`. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e.h"

typedef struct fx {
    e2e_tree t;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    e2e_tree_init(&f->t, 0);
    e2e_write_config(&f->t, e2e_example_stages("{\"fail_on\": \"BOOM\"}"),
                     200, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    e2e_tree_free(&f->t);
    free(f);
    return 0;
}

/* Split stdout into parsed lines; returns their count (<= max). */
static size_t parse_lines(const char *out, json_t **lines, size_t max)
{
    size_t n = 0;
    const char *p = out;
    while (*p) {
        const char *nl = strchr(p, '\n');
        if (nl == NULL)
            fail_msg("the output does not end with a newline: %s", p);
        json_error_t je;
        json_t *o = json_loadb(p, (size_t)(nl - p), 0, &je);
        if (o == NULL)
            fail_msg("output line %zu is not JSON (%s): %.*s", n + 1, je.text,
                     (int)(nl - p), p);
        assert_true(n < max);
        lines[n++] = o;
        p = nl + 1;
    }
    return n;
}

static void free_lines(json_t **lines, size_t n)
{
    for (size_t i = 0; i < n; i++)
        json_decref(lines[i]);
}

static json_int_t word_count(const json_t *o)
{
    const json_t *v = json_object_get(o, "word_count");
    if (!json_is_integer(v)) {
        char *s = json_dumps(o, 0);
        fail_msg("no word_count in %s", s ? s : "?");
    }
    return json_integer_value(v);
}

static int is_error(const json_t *o)
{
    return json_is_object(json_object_get(o, "error"));
}

static const char *error_stage(const json_t *o)
{
    return json_string_value(
        json_object_get(json_object_get(o, "error"), "stage"));
}

static int run(char **argv, const char *input, char **out, char **err)
{
    return e2e_run(argv, input, out, err);
}

#define DOCPROC (char *)e2e_env("E2E_DOCPROC")
#define DOCPROCD (char *)e2e_env("E2E_DOCPROCD")

/* ------------------------------------------------------------------------ */
/* docproc FILE...                                                           */

static void test_cli_files(void **state)
{
    fx *f = *state;
    char a[600], b[600], bad[600], missing[600], boom[600];
    snprintf(a, sizeof a, "%s/a.txt", f->t.root);
    snprintf(b, sizeof b, "%s/b.txt", f->t.root);
    snprintf(bad, sizeof bad, "%s/latin1.txt", f->t.root);
    snprintf(missing, sizeof missing, "%s/missing.txt", f->t.root);
    snprintf(boom, sizeof boom, "%s/boom.txt", f->t.root);
    e2e_writef(a, "one two three");
    e2e_writef(b, "four five");
    e2e_writef(bad, "caf\xe9");
    e2e_writef(boom, "it goes BOOM");
    char *out, *err;

    /* One file: one JSON object, exit 0. */
    char *argv1[] = {DOCPROC, "--config", f->t.config, a, NULL};
    assert_int_equal(run(argv1, NULL, &out, &err), 0);
    json_t *lines[8];
    size_t n = parse_lines(out, lines, 8);
    assert_int_equal(n, 1);
    assert_int_equal(json_integer_value(json_object_get(lines[0], "docproc")),
                     1);
    assert_int_equal(word_count(lines[0]), 3);
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(lines[0], "source"), "name")),
        "a.txt");
    assert_string_equal(json_string_value(json_object_get(lines[0], "text")),
                        "one two three");
    free_lines(lines, n);
    free(out);
    free(err);

    /* Several files: a line each, in order. */
    char *argv2[] = {DOCPROC, "--config", f->t.config, a, b, NULL};
    assert_int_equal(run(argv2, NULL, &out, &err), 0);
    n = parse_lines(out, lines, 8);
    assert_int_equal(n, 2);
    assert_int_equal(word_count(lines[0]), 3);
    assert_int_equal(word_count(lines[1]), 2);
    free_lines(lines, n);
    free(out);
    free(err);

    /* Some fail: an error line each, the others still done, exit 1. */
    char *argv3[] = {DOCPROC, "--config", f->t.config, a,    missing,
                     bad,     boom,       b,           NULL};
    assert_int_equal(run(argv3, NULL, &out, &err), 1);
    n = parse_lines(out, lines, 8);
    assert_int_equal(n, 5);
    assert_int_equal(word_count(lines[0]), 3);
    assert_true(is_error(lines[1]));
    assert_true(is_error(lines[2]));
    assert_true(is_error(lines[3]));
    assert_string_equal(error_stage(lines[3]), "example");
    assert_int_equal(word_count(lines[4]), 2);
    free_lines(lines, n);
    assert_true(strlen(err) > 0); /* and said so on stderr */
    /* naming each file as given, so that two x.txt are told apart */
    assert_non_null(strstr(err, missing));
    assert_non_null(strstr(err, bad));
    free(out);
    free(err);
}

/* "-" is standard input and a pipe is read to its end, as `cmd | docproc -`
 * and `docproc <(cmd)` expect; an empty stream is an empty file. */
static void test_cli_streams(void **state)
{
    fx *f = *state;
    char *out, *err;
    char *argv[] = {DOCPROC, "--config", f->t.config, "-", NULL};
    assert_int_equal(run(argv, "one two three", &out, &err), 0);
    json_t *lines[4];
    size_t n = parse_lines(out, lines, 4);
    assert_int_equal(n, 1);
    assert_int_equal(word_count(lines[0]), 3);
    assert_string_equal(json_string_value(json_object_get(lines[0], "text")),
                        "one two three");
    free_lines(lines, n);
    free(out);
    free(err);

    assert_int_equal(run(argv, "", &out, &err), 1);
    n = parse_lines(out, lines, 4);
    assert_int_equal(n, 1);
    assert_true(is_error(lines[0]));
    assert_non_null(strstr(err, "empty file"));
    free_lines(lines, n);
    free(out);
    free(err);
}

/* Run argv with stdout to out_path (when not NULL) and stderr to
 * err_path, and a file size limit (when fsize > 0; a write past it fails
 * with EFBIG); returns the exit status. */
static int run_redirected(char *const argv[], const char *out_path,
                          const char *err_path, long fsize)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (err < 0 || dup2(err, 2) < 0)
            _exit(99);
        if (out_path) {
            int out = open(out_path, O_WRONLY);
            if (out < 0 || dup2(out, 1) < 0)
                _exit(99);
        }
        if (fsize > 0) {
            struct rlimit rl = {(rlim_t)fsize, (rlim_t)fsize};
            signal(SIGXFSZ, SIG_IGN);
            if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
                _exit(99);
        }
        execv(argv[0], argv);
        _exit(98);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* Results written to a full disk (here /dev/full, which fails every write
 * with ENOSPC) are lost: docproc must say so and exit 1, not 0. */
static void test_cli_stdout_full(void **state)
{
    fx *f = *state;
    char a[600], errpath[600];
    snprintf(a, sizeof a, "%s/a.txt", f->t.root);
    snprintf(errpath, sizeof errpath, "%s/stderr.txt", f->t.root);
    e2e_writef(a, "one two three");
    char *formats[] = {"json", "md"};
    for (size_t i = 0; i < 2; i++) {
        char *argv[] = {DOCPROC, "--config", f->t.config, "--format",
                        formats[i], a, NULL};
        assert_int_equal(run_redirected(argv, "/dev/full", errpath, 0), 1);
        char *err = e2e_read(errpath, NULL);
        assert_non_null(err);
        assert_non_null(strstr(err, "cannot write the results to stdout: "
                                    "No space left on device"));
        free(err);
    }
}

/* With --output-dir, a file that cannot be written says why (here the
 * file size limit, EFBIG, standing in for a full disk), not only "cannot
 * write the output". */
static void test_cli_output_dir_write_error(void **state)
{
    fx *f = *state;
    char a[600], dir[600], errpath[600];
    snprintf(a, sizeof a, "%s/big.txt", f->t.root);
    snprintf(dir, sizeof dir, "%s/pages", f->t.root);
    snprintf(errpath, sizeof errpath, "%s/stderr.txt", f->t.root);
    FILE *in = fopen(a, "w");
    assert_non_null(in);
    for (int i = 0; i < 4000; i++)
        fputs("several words in a line ", in);
    fclose(in);
    char *argv[] = {DOCPROC,  "--config",     f->t.config, "--format",
                    "html",   "--output-dir", dir,         a,
                    NULL};
    assert_int_equal(run_redirected(argv, NULL, errpath, 16384), 1);
    char *err = e2e_read(errpath, NULL);
    assert_non_null(err);
    assert_non_null(strstr(err, "File too large"));
    free(err);
}

/* ------------------------------------------------------------------------ */
/* docproc --jsonl                                                           */

static void test_cli_jsonl(void **state)
{
    fx *f = *state;
    char *out, *err;
    char *argv[] = {DOCPROC, "--config", f->t.config, "--jsonl", NULL};
    const char *input = "{\"id\": \"a\", \"text\": \"x y\"}\n"
                        "{\"id\": 7, \"text\": \"one\"}\n"
                        "this is not json\n"
                        "{\"id\": \"n\", \"text\": 5}\n"
                        "{\"id\": \"b\", \"text\": \"has BOOM\"}\n"
                        "{\"id\": {\"k\": [1, 2]}, \"text\": \"a b c d\"}\n"
                        "{\"id\": \"raw\", \"text\": \"caf\xe9\"}\n"
                        "{\"id\": \"nul\", \"text\": \"a\\u0000b\"}\r\n"
                        "{\"id\": \"last\", \"text\": \"the end\"}";
    assert_int_equal(run(argv, input, &out, &err), 1);
    json_t *lines[16];
    size_t n = parse_lines(out, lines, 16);
    assert_int_equal(n, 9);
    /* Not valid JSON text (raw Latin-1), and a NUL in the text: error
     * lines, in their places; a last line without a newline still counts. */
    assert_true(is_error(lines[6]));
    assert_true(is_error(lines[7]));
    assert_string_equal(json_string_value(json_object_get(lines[8], "id")),
                        "last");
    assert_int_equal(word_count(lines[8]), 2);
    assert_string_equal(json_string_value(json_object_get(lines[0], "id")),
                        "a");
    assert_int_equal(word_count(lines[0]), 2);
    assert_int_equal(json_integer_value(json_object_get(lines[1], "id")), 7);
    assert_int_equal(word_count(lines[1]), 1);
    assert_true(is_error(lines[2]));
    assert_true(is_error(lines[3]));
    assert_string_equal(json_string_value(json_object_get(lines[3], "id")),
                        "n");
    assert_true(is_error(lines[4]));
    assert_string_equal(json_string_value(json_object_get(lines[4], "id")),
                        "b");
    assert_string_equal(error_stage(lines[4]), "example");
    /* Any JSON id is carried as it was. */
    json_t *want = json_pack("{s:[i,i]}", "k", 1, 2);
    assert_true(json_equal(json_object_get(lines[5], "id"), want));
    json_decref(want);
    assert_int_equal(word_count(lines[5]), 4);
    free_lines(lines, n);
    free(out);
    free(err);

    /* All good: exit 0; empty input: no output, exit 0. */
    assert_int_equal(run(argv, "{\"id\": 1, \"text\": \"fine\"}\n", &out, &err),
                     0);
    assert_non_null(strstr(out, "\"word_count\":1"));
    free(out);
    free(err);
    assert_int_equal(run(argv, "", &out, &err), 0);
    assert_string_equal(out, "");
    free(out);
    free(err);

    /* A byte order mark before the first line (PowerShell, utf-8-sig) is
     * not an error in the first document; later, it is not JSON. */
    assert_int_equal(run(argv,
                         "\xEF\xBB\xBF{\"id\": 1, \"text\": \"with bom\"}\n"
                         "\n   \n\t\r\n" /* blank lines: no documents */
                         "{\"id\": 2, \"text\": \"fine\"}\n",
                         &out, &err),
                     0);
    n = parse_lines(out, lines, 16);
    assert_int_equal(n, 2);
    assert_false(is_error(lines[0]));
    assert_int_equal(json_integer_value(json_object_get(lines[0], "id")), 1);
    assert_int_equal(word_count(lines[0]), 2);
    free_lines(lines, n);
    free(out);
    free(err);

    /* A long id names the document by its first 60 bytes, whole
     * characters only: 59 "a" and a cut "e-acute" give 59 "a", not
     * "aaa...a?" (the id itself is kept as it was). */
    char longid[200], want_name[64];
    memset(want_name, 'a', 59);
    want_name[59] = 0;
    snprintf(longid, sizeof longid,
             "{\"id\": \"%s\xC3\xA9\xC3\xA9\", \"text\": \"x\"}\n",
             want_name);
    assert_int_equal(run(argv, longid, &out, &err), 0);
    n = parse_lines(out, lines, 16);
    assert_int_equal(n, 1);
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(lines[0], "source"), "name")),
        want_name);
    free_lines(lines, n);
    free(out);
    free(err);
}

/* A bad JSON line: stderr names the input, the line once and the problem
 * ("stdin: line 3: input: not JSON: ..."); it used to say the line twice
 * ("line 3: input: line 3: ...") and not where it came from. The result
 * line keeps "line 3: ..." (it has only the id). A stage failure names
 * the line too. */
static void test_cli_jsonl_error_message(void **state)
{
    fx *f = *state;
    char *out, *err;
    char *argv[] = {DOCPROC, "--config", f->t.config, "--jsonl", NULL};
    const char *input = "{\"id\": 1, \"text\": \"fine\"}\n"
                        "\n"
                        "this is not json\n"
                        "{\"id\": \"b\", \"text\": \"has BOOM\"}\n";
    assert_int_equal(run(argv, input, &out, &err), 1);
    const char *at = strstr(err, "docproc: stdin: line 3: input: not JSON: ");
    if (at == NULL)
        fail_msg("no \"stdin: line 3: input: not JSON\" in: %s", err);
    const char *eol = strchr(at, '\n');
    assert_non_null(eol);
    const char *again = strstr(at + 20, "line 3");
    if (again && again < eol)
        fail_msg("the line is named twice: %.*s", (int)(eol - at), at);
    assert_non_null(strstr(err, "docproc: stdin: line 4: example: "));
    json_t *lines[8];
    size_t n = parse_lines(out, lines, 8);
    assert_int_equal(n, 3);
    const char *msg = json_string_value(json_object_get(
        json_object_get(lines[1], "error"), "message"));
    assert_non_null(msg);
    assert_int_equal(strncmp(msg, "line 3: not JSON: ", 18), 0);
    free_lines(lines, n);
    free(out);
    free(err);
}

/* Order is kept across batches (the CLI runs documents in parallel). */
static void test_cli_jsonl_order(void **state)
{
    fx *f = *state;
    enum { N = 700 };
    size_t cap = N * 80, len = 0;
    char *input = malloc(cap);
    assert_non_null(input);
    for (int i = 0; i < N; i++) {
        len += (size_t)snprintf(input + len, cap - len,
                                "{\"id\": \"doc-%d\", \"text\": \"", i);
        for (int w = 0; w <= i % 7; w++)
            len += (size_t)snprintf(input + len, cap - len, "w%d ", w);
        len += (size_t)snprintf(input + len, cap - len, "\"}\n");
    }
    char *out, *err;
    char *argv[] = {DOCPROC, "--config", f->t.config, "--jsonl", NULL};
    assert_int_equal(run(argv, input, &out, &err), 0);
    free(input);
    json_t **lines = calloc(N + 1, sizeof *lines);
    assert_non_null(lines);
    size_t n = parse_lines(out, lines, N + 1);
    assert_int_equal(n, N);
    for (int i = 0; i < N; i++) {
        char id[32];
        snprintf(id, sizeof id, "doc-%d", i);
        assert_string_equal(
            json_string_value(json_object_get(lines[i], "id")), id);
        assert_int_equal(word_count(lines[i]), i % 7 + 1);
    }
    free_lines(lines, n);
    free(lines);
    free(out);
    free(err);
}

/* A pipeline the config cannot make (a stage name without a plugin): the
 * message names the config file, which docproc used to leave out (with
 * the default config, the user did not know which file to fix). */
static void test_cli_pipeline_error_names_config(void **state)
{
    fx *f = *state;
    char *out, *err, want[700];
    e2e_write_config(&f->t, "[{\"name\": \"no-such-stage\"}]", 200, NULL);
    char *argv[] = {DOCPROC, "--config", f->t.config, "--jsonl", NULL};
    int rc = run(argv, "{\"id\": 1, \"text\": \"a\"}\n", &out, &err);
    snprintf(want, sizeof want,
             "docproc: %s: stages[0].name: stage 'no-such-stage': no plugin ",
             f->t.config);
    if (rc != 2 || strstr(err, want) == NULL)
        fail_msg("exit %d, stderr: %s (wanted \"%s\")", rc, err, want);
    free(out);
    free(err);
}

/* --set for a configured stage that --stages leaves out: it used to be
 * ignored without a word (the user believes the option applied). Now a
 * usage error, exit 2, naming the option and the stage; with the stage
 * run, the same --set is fine. */
static void test_cli_set_for_left_out_stage(void **state)
{
    fx *f = *state;
    char stages[2048], *out, *err;
    snprintf(stages, sizeof stages,
             "[{\"name\": \"slow\", \"plugin\": \"%s\", \"options\": "
             "{\"ms\": 0}}, {\"name\": \"example\", \"plugin\": \"%s\"}]",
             e2e_env("E2E_SLOW_SO"), e2e_env("E2E_EXAMPLE_SO"));
    e2e_write_config(&f->t, stages, 200, NULL);
    const char *input = "{\"id\": 1, \"text\": \"a bb ccc dddd\"}\n";
    char *left_out[] = {DOCPROC, "--config", f->t.config, "--jsonl",
                        "--set", "slow.ms=5", "--stages", "example", NULL};
    int rc = run(left_out, input, &out, &err);
    if (rc != 2)
        fail_msg("--set for a stage left out by --stages: exit %d, not 2; "
                 "stderr: %s",
                 rc, err);
    assert_string_equal(out, "");
    assert_non_null(strstr(err, "--set 'slow.ms=5'"));
    assert_non_null(strstr(err, "stage 'slow'"));
    assert_non_null(strstr(err, "--stages 'example'"));
    free(out);
    free(err);
    char *both[] = {DOCPROC, "--config", f->t.config, "--jsonl",
                    "--stages", "slow,example", "--set", "slow.ms=5",
                    "--set", "example.min_length=3", NULL};
    assert_int_equal(run(both, input, &out, &err), 0);
    assert_non_null(strstr(out, "\"slow_ms\":5"));
    assert_non_null(strstr(out, "\"word_count\":2"));
    free(out);
    free(err);
    char *kept[] = {DOCPROC, "--config", f->t.config, "--jsonl",
                    "--stages", "example", "--set", "example.min_length=3",
                    NULL};
    assert_int_equal(run(kept, input, &out, &err), 0);
    assert_non_null(strstr(out, "\"word_count\":2"));
    free(out);
    free(err);
}

/* A NUL byte in the input: said in the words of the other input errors
 * ("binary input: NUL byte at offset N"), with the file or line, never in
 * jansson's ("control character 0x0", "\\u0000 is not allowed without
 * JSON_ALLOW_NUL"); the other documents go on. Files, JSON lines (escaped
 * and raw) and a config file. */
static void test_cli_nul_inputs(void **state)
{
    fx *f = *state;
    char *out, *err;
    static const char jansson_words[][40] = {
        "JSON_ALLOW_NUL", "control character", "end of file expected",
        "NUL byte in object key"};

    char file[400], lines[400];
    snprintf(file, sizeof file, "%s/nul.txt", f->t.root);
    e2e_write(file, "abc\0def", 7);
    char *files[] = {DOCPROC, "--config", f->t.config, file, NULL};
    assert_int_equal(run(files, NULL, &out, &err), 1);
    assert_non_null(strstr(err, "nul.txt"));
    assert_non_null(strstr(err, "binary input: NUL byte at offset 3"));
    free(out);
    free(err);

    static const char input[] =
        "{\"id\": 1, \"text\": \"ab\\u0000cd\"}\n"
        "{\"id\": 2, \"text\": \"a b\"}\n"
        "{\"id\": 3, \"text\": \"ab\0cd\"}\n"
        "{\"id\": 4, \"te\\u0000xt\": \"x\"}\n";
    snprintf(lines, sizeof lines, "%s/in.jsonl", f->t.root);
    e2e_write(lines, input, sizeof input - 1);
    char *jsonl[] = {"/bin/sh", "-c", "exec \"$0\" --config \"$1\" --jsonl "
                     "< \"$2\"", DOCPROC, f->t.config, lines, NULL};
    assert_int_equal(run(jsonl, NULL, &out, &err), 1);
    json_t *got[8];
    size_t n = parse_lines(out, got, 8);
    assert_int_equal(n, 4);
    const char *want[] = {
        "line 1: binary input: NUL character (\\u0000) in \"text\" at byte "
        "offset 2",
        NULL, "line 3: binary input: NUL byte at offset 21 of the line",
        "line 4: a key holds \\u0000 (a NUL character)"};
    for (size_t i = 0; i < n; i++) {
        const char *msg = json_string_value(json_object_get(
            json_object_get(got[i], "error"), "message"));
        assert_int_equal(json_integer_value(json_object_get(got[i], "id")),
                         (json_int_t)i + 1);
        if (want[i] == NULL) {
            assert_null(msg);
        } else if (msg == NULL || strstr(msg, want[i]) == NULL) {
            fail_msg("line %zu: expected \"%s\", got %s", i + 1, want[i],
                     msg ? msg : "(no error)");
        }
        json_decref(got[i]);
    }
    for (size_t k = 0; k < sizeof jansson_words / sizeof jansson_words[0];
         k++) {
        assert_null(strstr(out, jansson_words[k]));
        assert_null(strstr(err, jansson_words[k]));
    }
    free(out);
    free(err);

    /* A config file with a NUL byte. */
    char cfg[400];
    snprintf(cfg, sizeof cfg, "%s/nul.json", f->t.root);
    e2e_write(cfg, "{\"workers\": 2}\0\n", 16);
    char *check[] = {DOCPROCD, "--check-config", cfg, NULL};
    assert_int_equal(run(check, NULL, &out, &err), 2);
    assert_non_null(strstr(err, "nul.json: binary input: NUL byte at offset 14"));
    for (size_t k = 0; k < sizeof jansson_words / sizeof jansson_words[0];
         k++)
        assert_null(strstr(err, jansson_words[k]));
    free(out);
    free(err);
}

/* --set and --stages */
static void test_cli_options(void **state)
{
    fx *f = *state;
    char *out, *err;
    const char *input = "{\"id\": 1, \"text\": \"a bb ccc dddd\"}\n";

    char *plain[] = {DOCPROC, "--config", f->t.config, "--jsonl", NULL};
    assert_int_equal(run(plain, input, &out, &err), 0);
    assert_non_null(strstr(out, "\"word_count\":4"));
    free(out);
    free(err);

    char *set[] = {DOCPROC, "--config", f->t.config, "--jsonl",
                   "--set", "example.min_length=3", NULL};
    assert_int_equal(run(set, input, &out, &err), 0);
    assert_non_null(strstr(out, "\"word_count\":2"));
    free(out);
    free(err);

    /* A string value, and the --set overriding the configured option. */
    char *set_str[] = {DOCPROC, "--config", f->t.config, "--jsonl",
                       "--set", "example.fail_on=ccc", NULL};
    assert_int_equal(run(set_str, input, &out, &err), 1);
    assert_non_null(strstr(out, "\"error\""));
    free(out);
    free(err);

    char *stages[] = {DOCPROC, "--config", f->t.config, "--jsonl",
                      "--stages", "example", NULL};
    assert_int_equal(run(stages, input, &out, &err), 0);
    assert_non_null(strstr(out, "\"word_count\":4"));
    free(out);
    free(err);

    /* Usage and config errors: exit 2, a message, no output. */
    struct {
        const char *a, *b, *mention;
    } bad[] = {
        {"--stages", "nosuchstage", "nosuchstage"},
        {"--set", "example.min_length=0", "min_length"},
        {"--set", "nosuchstage.x=1", "nosuchstage"},
        {"--set", "no-dot-here", "no-dot-here"},
        {"--set", "example.min_length=\"many\"", "min_length"},
        {"--set", "example.no_such_option=1", "no_such_option"},
        {"--no-such-flag", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *argv[] = {DOCPROC, "--config", f->t.config, "--jsonl",
                        (char *)bad[i].a, (char *)bad[i].b, NULL};
        int rc = run(argv, input, &out, &err);
        if (rc != 2)
            fail_msg("docproc %s %s: exit %d, expected 2; stderr: %s",
                     bad[i].a, bad[i].b ? bad[i].b : "", rc, err);
        assert_string_equal(out, "");
        if (bad[i].mention && strstr(err, bad[i].mention) == NULL)
            fail_msg("docproc %s %s: the message does not name %s: %s",
                     bad[i].a, bad[i].b, bad[i].mention, err);
        free(out);
        free(err);
    }
    /* No input at all. */
    char *none[] = {DOCPROC, "--config", f->t.config, NULL};
    assert_int_equal(run(none, NULL, &out, &err), 2);
    free(out);
    free(err);
    /* A config that does not exist. */
    char *nocfg[] = {DOCPROC, "--config", "/nonexistent/docprocd.json",
                     "--jsonl", NULL};
    assert_int_equal(run(nocfg, input, &out, &err), 2);
    assert_non_null(strstr(err, "/nonexistent/docprocd.json"));
    free(out);
    free(err);
}

/* ------------------------------------------------------------------------ */
/* docprocd --check-config                                                   */

static void check_config(fx *f, const char *json, int want_rc,
                         const char *mention)
{
    char path[600];
    snprintf(path, sizeof path, "%s/check.json", f->t.root);
    e2e_write(path, json, strlen(json));
    char *out, *err;
    char *argv[] = {DOCPROCD, "--check-config", path, NULL};
    int rc = run(argv, NULL, &out, &err);
    if (rc != want_rc)
        fail_msg("--check-config on %s: exit %d, expected %d; stderr: %s",
                 json, rc, want_rc, err);
    if (mention && strstr(err, mention) == NULL)
        fail_msg("--check-config on %s: the message does not name \"%s\": "
                 "%s",
                 json, mention, err);
    free(out);
    free(err);
}

static void test_check_config(void **state)
{
    fx *f = *state;
    char *out, *err;
    char *good[] = {DOCPROCD, "--check-config", f->t.config, NULL};
    int rc = run(good, NULL, &out, &err);
    if (rc != 0)
        fail_msg("--check-config on a good config: exit %d: %s", rc, err);
    free(out);
    free(err);
    /* Checking creates no folder. */
    assert_false(e2e_exists(f->t.inbox));
    assert_false(e2e_exists(f->t.outbox));

    char stage[1024];
    snprintf(stage, sizeof stage,
             "{\"name\": \"example\", \"plugin\": \"%s\"",
             e2e_env("E2E_EXAMPLE_SO"));
    char json[4096];
#define CFG(...) (snprintf(json, sizeof json, __VA_ARGS__), json)
    check_config(f, CFG("{\"stages\": [%s}]}", stage), 0, NULL);
    check_config(f, CFG("{\"inbx\": \"in\", \"stages\": [%s}]}", stage), 2,
                 "inbx");
    check_config(f, CFG("{\"workers\": \"two\", \"stages\": [%s}]}", stage),
                 2, "workers");
    check_config(f, CFG("{\"workers\": 0, \"stages\": [%s}]}", stage), 2,
                 "workers");
    check_config(f, CFG("{\"settle_ms\": -5, \"stages\": [%s}]}", stage), 2,
                 "settle_ms");
    /* a bad choice is quoted back */
    check_config(f, CFG("{\"originals\": \"keep\", \"stages\": [%s}]}", stage),
                 2, "originals: expected one of \"done\", \"delete\", got \"keep\"");
    check_config(f, CFG("{\"isolation\": 2, \"stages\": [%s}]}", stage), 2,
                 "isolation: expected one of \"thread\", \"process\", got an integer");
    check_config(f,
                 CFG("{\"stages\": [%s, \"options\": {\"min_length\": "
                     "\"three\"}}]}",
                     stage),
                 2, "stages[0].options.min_length");
    check_config(f,
                 CFG("{\"stages\": [%s, \"options\": {\"min_lenght\": 3}}]}",
                     stage),
                 2, "stages[0].options.min_lenght");
    check_config(f, CFG("{\"stages\": [%s, \"plugn\": 1}]}", stage), 2,
                 "stages[0].plugn");
    check_config(f,
                 CFG("{\"stages\": [%s}, {\"name\": \"other\", \"plugin\": "
                     "\"/nonexistent/other.so\"}]}",
                     stage),
                 2, "/nonexistent/other.so");
    check_config(f, CFG("{\"stages\": [%s}, %s}]}", stage, stage), 2,
                 "duplicate");
    check_config(f, CFG("{\"stages\": []}"), 2, "stages");
    check_config(f, CFG("{\"stages\": [%s}]", stage), 2, "check.json");
    check_config(f, CFG("[1, 2]"), 2, NULL);
#undef CFG
    /* A file that does not exist. */
    char *missing[] = {DOCPROCD, "--check-config", "/nonexistent/x.json",
                       NULL};
    assert_int_equal(run(missing, NULL, &out, &err), 2);
    assert_non_null(strstr(err, "/nonexistent/x.json"));
    free(out);
    free(err);
}

/* A stage whose required layers no earlier stage provides: a usage/config
 * error (exit 2) naming the requirement, for the CLI's --stages and for
 * --check-config. Uses the real entities stage (requires sentence, token);
 * skipped when this build lacks it. */
static void test_missing_requirement(void **state)
{
    fx *f = *state;
    const char *dir = e2e_env("E2E_PLUGIN_DIR");
    char so[1024];
    snprintf(so, sizeof so, "%s/entities/entities.so", dir);
    if (access(so, R_OK) != 0) {
        print_message("no %s in this build: skipped\n", so);
        skip();
    }
    char cfg[600], json[2048];
    snprintf(cfg, sizeof cfg, "%s/entities-only.json", f->t.root);
    snprintf(json, sizeof json,
             "{\"plugin_dir\": \"%s\", \"stages\": [{\"name\": \"entities\"}]}",
             dir);
    e2e_write(cfg, json, strlen(json));
    char *out, *err;
    char *check[] = {DOCPROCD, "--check-config", cfg, NULL};
    assert_int_equal(run(check, NULL, &out, &err), 2);
    assert_non_null(strstr(err, "requires"));
    free(out);
    free(err);

    /* The CLI: --stages leaving out what entities needs. */
    char seg[1024];
    snprintf(seg, sizeof seg, "%s/segment/segment.so", dir);
    if (access(seg, R_OK) != 0) {
        print_message("no %s in this build: skipped\n", seg);
        skip();
    }
    snprintf(json, sizeof json,
             "{\"plugin_dir\": \"%s\", \"stages\": [{\"name\": \"segment\"}, "
             "{\"name\": \"entities\"}]}",
             dir);
    e2e_write(cfg, json, strlen(json));
    char *cli[] = {DOCPROC, "--config", cfg, "--jsonl", "--stages", "entities",
                   NULL};
    assert_int_equal(run(cli, "{\"id\": 1, \"text\": \"Paris.\"}\n", &out,
                         &err),
                     2);
    assert_string_equal(out, "");
    assert_non_null(strstr(err, "requires"));
    free(out);
    free(err);
    /* and with the requirement: fine */
    char *both[] = {DOCPROC, "--config", cfg, "--jsonl", "--stages",
                    "segment,entities", NULL};
    assert_int_equal(run(both, "{\"id\": 1, \"text\": \"Paris.\"}\n", &out,
                         &err),
                     0);
    assert_non_null(strstr(out, "\"sentences\""));
    free(out);
    free(err);
}

/* A config whose outbox (or failed/done/processing) is the inbox itself
 * would take its own outputs as new documents without end: a config error
 * naming the key (exit 2). */
static void test_check_config_same_folder(void **state)
{
    fx *f = *state;
    static const char *const keys[] = {"outbox", "failed", "done",
                                       "processing"};
    for (size_t i = 0; i < 4; i++) {
        char json[2048];
        snprintf(json, sizeof json,
                 "{\"inbox\": \"%s/box\", \"%s\": \"%s/box/\", "
                 "\"stages\": [{\"name\": \"example\", \"plugin\": \"%s\"}]}",
                 f->t.root, keys[i], f->t.root, e2e_env("E2E_EXAMPLE_SO"));
        check_config(f, json, 2, keys[i]);
    }
}

/* A folder inside the inbox (or inside processing/), or one folder for
 * two roles under another spelling (a link, "..", a trailing slash):
 * refused by --check-config and at start (exit 2, nothing made), with a
 * message naming both paths. They used to be accepted, and the daemon
 * then took its own files for documents. */
static void test_check_config_nested_folder(void **state)
{
    fx *f = *state;
    char link[600], target[600];
    snprintf(target, sizeof target, "%s/box", f->t.root);
    snprintf(link, sizeof link, "%s/alias", f->t.root);
    assert_int_equal(mkdir(target, 0755), 0);
    assert_int_equal(symlink("box", link), 0);
    static const struct {
        const char *key, *path, *mention, *other;
    } cases[] = {
        {"processing", "box/processing", "inside the inbox", "box"},
        {"outbox", "box/out", "inside the inbox", "box"},
        {"failed", "box/a/b/failed", "inside the inbox", "box"},
        {"done", "alias/done", "inside the inbox", "box"},
        {"done", "box/../box/done", "inside the inbox", "box"},
        {"outbox", "alias", "the same folder as the inbox", "box"},
        {"outbox", "processing/out", "inside the processing", "processing"},
        {"failed", "done/.", "is the same folder as the failed", "done"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[700], dir[700];
        snprintf(path, sizeof path, "%s/%s", f->t.root, cases[i].path);
        /* Every role set, then the case's key set over one of them. */
        json_t *o = json_pack("{s:[{s:s,s:s}]}", "stages", "name", "example",
                              "plugin", e2e_env("E2E_EXAMPLE_SO"));
        assert_non_null(o);
        static const char *const roles[] = {"processing", "outbox",
                                            "failed", "done"};
        snprintf(dir, sizeof dir, "%s/box", f->t.root);
        json_object_set_new(o, "inbox", json_string(dir));
        for (size_t k = 0; k < 4; k++) {
            snprintf(dir, sizeof dir, "%s/%s", f->t.root, roles[k]);
            json_object_set_new(o, roles[k], json_string(dir));
        }
        json_object_set_new(o, cases[i].key, json_string(path));
        char *json = json_dumps(o, 0);
        json_decref(o);
        assert_non_null(json);
        check_config(f, json, 2, cases[i].mention);
        check_config(f, json, 2, path);
        char checked[700], *out, *err;
        snprintf(checked, sizeof checked, "%s/check.json", f->t.root);
        snprintf(dir, sizeof dir, "%s/%s ", f->t.root, cases[i].other);
        check_config(f, json, 2, dir); /* the other folder, too */
        char *start[] = {DOCPROCD, "--config", checked, NULL};
        int rc = run(start, NULL, &out, &err);
        if (rc != 2 || strstr(err, path) == NULL)
            fail_msg("docprocd on %s: exit %d, stderr: %s", json, rc, err);
        free(out);
        free(err);
        free(json);
    }
    /* Nothing was made. */
    char made[700];
    snprintf(made, sizeof made, "%s/box/processing", f->t.root);
    assert_int_equal(access(made, F_OK), -1);
}

/* docprocd's own usage errors. */
static void test_daemon_usage(void **state)
{
    (void)state;
    char *out, *err;
    char *bogus[] = {DOCPROCD, "--no-such-flag", NULL};
    assert_int_equal(run(bogus, NULL, &out, &err), 2);
    free(out);
    free(err);
    char *extra[] = {DOCPROCD, "unexpected-argument", NULL};
    assert_int_equal(run(extra, NULL, &out, &err), 2);
    assert_non_null(strstr(err, "unexpected-argument"));
    free(out);
    free(err);
    char *version[] = {DOCPROCD, "--version", NULL};
    assert_int_equal(run(version, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "docprocd"));
    free(out);
    free(err);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_cli_files),    T(test_cli_streams), T(test_cli_stdout_full),
        T(test_cli_output_dir_write_error),
        T(test_cli_jsonl),    T(test_cli_jsonl_order),
        T(test_cli_jsonl_error_message),
        T(test_cli_options),  T(test_cli_set_for_left_out_stage),
        T(test_cli_pipeline_error_names_config),
        T(test_cli_nul_inputs),
        T(test_check_config),
        T(test_missing_requirement), T(test_daemon_usage),
        T(test_check_config_same_folder),
        T(test_check_config_nested_folder),
    };
    return cmocka_run_group_tests_name("e2e cli", tests, NULL, NULL);
}
