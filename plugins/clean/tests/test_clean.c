#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "testkit.h"

static void t_smoke(void **state)
{
    (void)state;
    dp_pipeline p;
    dp_err err = {{0}};
    assert_int_equal(tk_pipeline(&p, "[{\"name\":\"clean\"}]", &err), 0);
    const char *fs = NULL;
    dp_doc *d = tk_run(&p, "x", "Caf\xC3\x83\xC2\xA9", -1, &err, &fs);
    assert_non_null(d);
    dp_doc_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(t_smoke)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
