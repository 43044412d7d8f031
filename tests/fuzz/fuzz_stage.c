/* libFuzzer target for one stage plugin's process function: any bytes
 * are a document; the pipeline (the stage and what it requires, given at
 * build time as FUZZ_STAGES) must give text or a clear error, and the
 * output writer must cope with whatever the stages produced. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "testkit.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static dp_pipeline pipeline;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    dp_err err = {{0}};
    char json[512] = "[";
    char names[] = FUZZ_STAGES;
    (void)argc;
    (void)argv;
    for (char *save = NULL, *s = strtok_r(names, ",", &save); s;
         s = strtok_r(NULL, ",", &save))
        snprintf(json + strlen(json), sizeof json - strlen(json),
                 "%s{\"name\":\"%s\"}", json[1] ? "," : "", s);
    strcat(json, "]");
    if (tk_pipeline(&pipeline, json, &err) != 0) {
        fprintf(stderr, "fuzz: cannot load %s: %s\n", FUZZ_STAGES, err.msg);
        exit(1);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dp_doc *doc = dp_doc_new("fuzz.txt", NULL, data, size);
    if (doc == NULL)
        return 0;
    const char *stage = NULL;
    dp_err err = {{0}};
    if (dp_pipeline_run(&pipeline, doc, &stage, &err) == 0) {
        dp_membuf b = {0};
        dp_output_write(doc, dp_sink_membuf, &b);
        dp_membuf_free(&b);
    }
    dp_doc_free(doc);
    return 0;
}
