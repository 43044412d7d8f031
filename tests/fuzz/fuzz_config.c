/* libFuzzer target: the config loader must turn any bytes into a config or
 * a clear error, never a crash or a leak. */
#include <stddef.h>
#include <stdint.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *root = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (root == NULL)
        return 0;
    dp_config cfg;
    dp_err err = {{0}};
    if (dp_config_from_json(root, &cfg, &err) == 0)
        dp_config_free(&cfg);
    json_decref(root);
    return 0;
}
