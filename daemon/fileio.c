/* File reading with the checks every front end needs. */
#define _GNU_SOURCE
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int dp_read_file(const char *path, unsigned flags, uint64_t max_bytes,
                 unsigned char **data, size_t *len, dp_err *err)
{
    int streams = (flags & DP_READ_STREAMS) != 0;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer (the daemon
     * then refuses it); a stream the caller accepts is read blocking. */
    int fd = streams && strcmp(path, "-") == 0
                 ? fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0)
                 : open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
                                  ((flags & DP_READ_NOFOLLOW) ? O_NOFOLLOW : 0));
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
    int stream = streams && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) ||
                             S_ISSOCK(st.st_mode));
    if (!S_ISREG(st.st_mode) && !stream) {
        dp_err_set(err, "not a regular file");
        close(fd);
        return -EINVAL;
    }
    if (stream) {
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
            int e = errno;
            dp_err_set(err, "cannot read: %s", strerror(e));
            close(fd);
            return -e;
        }
        st.st_size = 65535; /* unknown: start at 64 KiB and grow */
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
