/* File reading with the checks every front end needs. */
#define _GNU_SOURCE
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int dp_read_file(const char *path, int nofollow, uint64_t max_bytes,
                 unsigned char **data, size_t *len, dp_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0) |
                            O_NONBLOCK);
    *data = NULL;
    *len = 0;
    if (fd < 0) {
        int e = errno;
        if (e == ELOOP)
            dp_err_set(err, "a symbolic link (links are never followed)");
        else
            dp_err_set(err, "cannot open: %s", strerror(e));
        return -e;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        dp_err_set(err, "cannot stat: %s", strerror(e));
        close(fd);
        return -e;
    }
    if (!S_ISREG(st.st_mode)) {
        dp_err_set(err, "not a regular file");
        close(fd);
        return -EINVAL;
    }
    if ((uint64_t)st.st_size > max_bytes) {
        dp_err_set(err, "too large: %lld bytes, the limit is %llu",
                   (long long)st.st_size, (unsigned long long)max_bytes);
        close(fd);
        return -EFBIG;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    unsigned char *buf = malloc(cap);
    if (buf == NULL) {
        dp_err_set(err, "out of memory");
        close(fd);
        return -ENOMEM;
    }
    for (;;) {
        if (n == cap) {
            /* The file grew while we read it: allow up to the limit. */
            if (cap > max_bytes) {
                dp_err_set(err, "too large: over the limit of %llu bytes",
                           (unsigned long long)max_bytes);
                free(buf);
                close(fd);
                return -EFBIG;
            }
            unsigned char *b = realloc(buf, cap * 2);
            if (b == NULL) {
                dp_err_set(err, "out of memory");
                free(buf);
                close(fd);
                return -ENOMEM;
            }
            buf = b;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            dp_err_set(err, "read error: %s", strerror(e));
            free(buf);
            close(fd);
            return -e;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (n > max_bytes) {
        dp_err_set(err, "too large: %zu bytes, the limit is %llu", n,
                   (unsigned long long)max_bytes);
        free(buf);
        return -EFBIG;
    }
    if (n == 0) {
        dp_err_set(err, "empty file");
        free(buf);
        return -ENODATA;
    }
    *data = buf;
    *len = n;
    return 0;
}
