/* Small file helpers shared by the CLI and the daemon. */
#ifndef DP_FILEIO_H
#define DP_FILEIO_H

#include <stddef.h>
#include <stdint.h>

#include <docproc/stage.h>

/* Flags of dp_read_file. */
enum {
    /* refuse a final symbolic link (the daemon: links are never followed) */
    DP_READ_NOFOLLOW = 1,
    /* also read pipes and character devices to their end, and "-" as
     * standard input (the CLI: `cmd | docproc -`, `docproc <(cmd)`); the
     * daemon reads regular files only, as a FIFO in the inbox would block */
    DP_READ_STREAMS = 2,
};

/* Read a whole regular file, refusing more than max_bytes. On error err
 * names the problem ("empty file", "larger than the limit of N bytes",
 * ...). *data (malloc'd) has room for *len + 1 bytes (dp_doc_adopt). */
int dp_read_file(const char *path, unsigned flags, uint64_t max_bytes,
                 unsigned char **data, size_t *len, dp_err *err);

#endif
