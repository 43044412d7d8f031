/* Small file helpers shared by the CLI and the daemon. */
#ifndef DP_FILEIO_H
#define DP_FILEIO_H

#include <stddef.h>
#include <stdint.h>

#include <docproc/stage.h>

/* Read a whole regular file (not following a final symlink when
 * `nofollow`), refusing more than max_bytes. On error err names the
 * problem ("empty file", "larger than the limit of N bytes", ...). */
int dp_read_file(const char *path, int nofollow, uint64_t max_bytes,
                 unsigned char **data, size_t *len, dp_err *err);

#endif
