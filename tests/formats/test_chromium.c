/* The HTML page in a real browser: headless Chromium loads what
 * `docproc --format html` wrote and the resulting DOM must show the
 * summary and the entity marks, and no script from the document may have
 * become an element. Skipped (with a message) when Chromium is absent:
 * install Debian's `chromium` package. Suite 'formats'. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "run.h"

static char dir[256];

static const char *chromium(void)
{
    const char *c = getenv("CHROMIUM");
    if (c && access(c, X_OK) == 0)
        return c;
    const char *paths[] = {"/usr/bin/chromium", "/usr/bin/chromium-browser",
                           NULL};
    for (int i = 0; paths[i]; i++)
        if (access(paths[i], X_OK) == 0)
            return paths[i];
    return NULL;
}

/* Run Chromium headless on `html` with `what` ("--dump-dom" or
 * "--screenshot=PATH"); returns its stdout. */
static char *browse(const char *html, const char *what)
{
    char profile[300], url[400];
    snprintf(profile, sizeof profile, "--user-data-dir=%s/profile", dir);
    snprintf(url, sizeof url, "file://%s", html);
    char *argv[] = {"/usr/bin/timeout", "90", (char *)chromium(),
                    "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--window-size=1000,1400", profile,
                    (char *)what, url, NULL};
    char *out, *err;
    int rc = fmt_run(argv, NULL, &out, &err);
    if (rc != 0)
        fail_msg("chromium %s: exit %d: %s", what, rc, err);
    free(err);
    return out;
}

/* Write the page of `input` made with `config` (NULL: the default one). */
static void make_page(const char *config, const char *input, const char *html)
{
    char *out, *err;
    char *argv[] = {(char *)fmt_env("FMT_DOCPROC"), "--format", "html",
                    "--config", (char *)config, (char *)input, NULL};
    if (config == NULL) {
        argv[3] = (char *)input;
        argv[4] = NULL;
    }
    int rc = fmt_run(argv, NULL, &out, &err);
    if (rc != 0)
        fail_msg("docproc --format html %s: exit %d: %s", input, rc, err);
    assert_int_equal(fmt_write(html, out), 0);
    free(out);
    free(err);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s", fmt_tmpdir());
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fmt_rmrf(dir);
    return 0;
}

/* A document full of markup, through the test stage. */
static void hostile_document(void **state)
{
    (void)state;
    if (chromium() == NULL) {
        print_message("chromium is not installed: skipped (apt-get install "
                      "chromium)\n");
        skip();
    }
    char cfg[300], in[300], html[300];
    snprintf(cfg, sizeof cfg, "%s/config.json", dir);
    snprintf(in, sizeof in, "%s/evil.txt", dir);
    snprintf(html, sizeof html, "%s/evil.html", dir);
    json_t *c = json_pack("{s:[{s:s,s:s}]}", "stages", "name", "fakener",
                          "plugin", fmt_env("FMT_FAKENER_SO"));
    assert_int_equal(json_dump_file(c, cfg, 0), 0);
    json_decref(c);
    assert_int_equal(
        fmt_write(in,
                  "Alice Smith visited Paris. <script>document.title="
                  "'PWNED';document.body.innerHTML='PWNED'</script> "
                  "<img src=x onerror=\"document.title='PWNED'\"> "
                  "<style>body{display:none}</style>\n"
                  "Later Alice Smith met Bob Jones in Rome.\n"),
        0);
    make_page(cfg, in, html);
    char *dom = browse(html, "--dump-dom");
    assert_null(strstr(dom, "PWNED</title>"));
    assert_null(strstr(dom, "<img"));
    assert_null(strstr(dom, "<script"));
    assert_non_null(strstr(dom, "&lt;script&gt;document.title="));
    assert_non_null(strstr(dom, "<section id=\"summary\">"));
    assert_non_null(strstr(dom, "data-label=\"PERSON\">Alice Smith</mark>"));
    assert_non_null(strstr(dom, "data-label=\"GPE\">Paris</mark>"));
    free(dom);
}

/* The check: the sample article through the real stages shows the
 * summary and highlighted persons, places and more. */
static void sample_article(void **state)
{
    (void)state;
    if (chromium() == NULL) {
        print_message("chromium is not installed: skipped\n");
        skip();
    }
    char so[400];
    snprintf(so, sizeof so, "%s/plugins/summarize/summarize.so",
             fmt_env("FMT_BUILD_ROOT"));
    const char *sample = fmt_env("FMT_SAMPLE");
    if (access(so, R_OK) != 0 || sample == NULL || access(sample, R_OK)) {
        print_message("the real stages are not built: skipped\n");
        skip();
    }
    char html[300], png[300], shot[320];
    snprintf(html, sizeof html, "%s/k.html", dir);
    snprintf(png, sizeof png, "%s/k.png", dir);
    make_page(NULL, sample, html);
    char *dom = browse(html, "--dump-dom");
    assert_non_null(strstr(dom, "<section id=\"summary\">"));
    assert_non_null(strstr(dom, "<section id=\"entities\">"));
    assert_non_null(strstr(dom, "<span class=\"s"));
    const char *labels[] = {"PERSON", "GPE", "ORG", "DATE", "NORP"};
    int found = 0;
    for (int i = 0; i < 5; i++) {
        char needle[64];
        snprintf(needle, sizeof needle, "data-label=\"%s\">", labels[i]);
        found += strstr(dom, needle) != NULL;
    }
    assert_non_null(strstr(dom, "data-label=\"PERSON\">"));
    assert_non_null(strstr(dom, "data-label=\"GPE\">"));
    assert_true(found >= 3);
    assert_true(fmt_count(dom, "<mark class=\"e ") >= 10);
    free(dom);
    /* And it paints: a screenshot of the page's size, not a blank one. */
    snprintf(shot, sizeof shot, "--screenshot=%s", png);
    free(browse(html, shot));
    size_t len;
    char *img = fmt_read(png, &len);
    assert_non_null(img);
    assert_memory_equal(img, "\x89PNG", 4);
    uint32_t w = (uint32_t)((unsigned char)img[16] << 24 |
                            (unsigned char)img[17] << 16 |
                            (unsigned char)img[18] << 8 |
                            (unsigned char)img[19]);
    assert_int_equal(w, 1000);
    assert_true(len > 50000); /* text and colours compress far less */
    free(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hostile_document),
        cmocka_unit_test(sample_article),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
