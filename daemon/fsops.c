/* Durable, non-overwriting file operations. */
#define _GNU_SOURCE
#include "fsops.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int dp_mkdirs(const char *path, dp_err *err)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        dp_err_set(err, "%s: path too long", path);
        return -ENAMETOOLONG;
    }
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
                int e = errno;
                dp_err_set(err, "cannot create folder %s: %s", buf,
                           strerror(e));
                return -e;
            }
            *p = c;
            if (c == 0)
                break;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        dp_err_set(err, "%s exists and is not a folder", path);
        return -ENOTDIR;
    }
    return 0;
}

int dp_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) == 0 ? 0 : -errno;
    close(fd);
    return rc;
}

/* name, or name with ".N" before ext when n > 0. A name too long for the
 * file system once the suffix is added (NAME_MAX bytes) is shortened, at a
 * UTF-8 character boundary, so that every document still gets its output
 * and its error record. */
int dp_numbered_name(char *out, size_t len, const char *name,
                     const char *ext, unsigned n)
{
    char num[16] = "";
    if (n)
        snprintf(num, sizeof num, ".%u", n);
    size_t room = NAME_MAX < len - 1 ? NAME_MAX : len - 1;
    size_t fixed = strlen(num) + strlen(ext);
    if (fixed >= room)
        return -ENAMETOOLONG;
    size_t keep = strlen(name);
    if (keep > room - fixed) {
        keep = room - fixed;
        while (keep > 0 && ((unsigned char)name[keep] & 0xC0) == 0x80)
            keep--; /* do not cut a character in two */
    }
    snprintf(out, len, "%.*s%s%s", (int)keep, name, num, ext);
    return 0;
}

/* Rename without replacing; tries name, name.1, name.2, ... */
static int rename_unique(int from_dirfd, const char *from, int to_dirfd,
                         const char *name, const char *ext, char *final,
                         size_t final_len)
{
    for (unsigned n = 0; n < 100000; n++) {
        if (dp_numbered_name(final, final_len, name, ext, n) != 0)
            return -ENAMETOOLONG;
        if (renameat2(from_dirfd, from, to_dirfd, final, RENAME_NOREPLACE) ==
            0)
            return 0;
        if (errno == EINVAL || errno == ENOSYS) {
            /* No RENAME_NOREPLACE here (some file systems): link+unlink
             * gives the same guarantee. */
            if (linkat(from_dirfd, from, to_dirfd, final, 0) == 0) {
                unlinkat(from_dirfd, from, 0);
                return 0;
            }
        }
        if (errno != EEXIST)
            return -errno;
    }
    return -EEXIST;
}

int dp_move_unique(const char *dir_from, const char *name_from,
                   const char *dir_to, const char *name, const char *ext,
                   char *final, size_t final_len, dp_err *err)
{
    int from = open(dir_from, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int to = open(dir_to, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc;
    if (from < 0 || to < 0) {
        rc = -errno;
        dp_err_set(err, "cannot open folder %s: %s",
                   from < 0 ? dir_from : dir_to, strerror(-rc));
    } else {
        rc = rename_unique(from, name_from, to, name, ext, final, final_len);
        if (rc)
            dp_err_set(err, "cannot move %s/%s to %s: %s", dir_from,
                       name_from, dir_to, strerror(-rc));
        else
            fsync(to);
    }
    if (from >= 0)
        close(from);
    if (to >= 0)
        close(to);
    return rc;
}

static const char *host_name(void)
{
    static char host[64];
    if (host[0] == 0) {
        if (gethostname(host, sizeof host - 1) != 0 || host[0] == 0)
            strcpy(host, "localhost");
        for (char *p = host; *p; p++)
            if (*p == '.' || *p == '/')
                *p = '_'; /* keep the name parseable */
    }
    return host;
}

int dp_clean_stale_temporaries(const char *dir)
{
    DIR *d = opendir(dir);
    int removed = 0;
    if (d == NULL)
        return 0;
    const char *me = host_name();
    size_t melen = strlen(me);
    time_t now = time(NULL);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *n = e->d_name;
        size_t len = strlen(n);
        if (strncmp(n, ".docproc.", 9) != 0 || len < 13 ||
            strcmp(n + len - 4, ".tmp") != 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode))
            continue;
        int stale;
        if (strncmp(n + 9, me, melen) == 0 && n[9 + melen] == '.') {
            /* ours (this host): stale when its process is gone */
            long pid = strtol(n + 9 + melen + 1, NULL, 10);
            stale = pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
        } else {
            /* another host's (a shared folder): only when a day old */
            stale = now - st.st_mtime > 24 * 3600;
        }
        if (stale && unlinkat(dirfd(d), n, 0) == 0)
            removed++;
    }
    closedir(d);
    return removed;
}

int dp_write_atomic(const char *dir, const char *name, const char *ext,
                    dp_write_fn write, void *ctx, char *final,
                    size_t final_len, dp_err *err)
{
    static atomic_uint counter;
    char tmp[NAME_MAX + 1];
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        int e = errno;
        dp_err_set(err, "cannot open folder %s: %s", dir, strerror(e));
        return -e;
    }
    /* Hidden and suffixed .tmp, so no watcher or reader takes it; named
     * by host and process, so a later start can tell it is stale. */
    snprintf(tmp, sizeof tmp, ".docproc.%s.%ld.%u.tmp", host_name(),
             (long)getpid(), atomic_fetch_add(&counter, 1));
    int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                    0644);
    if (fd < 0) {
        int e = errno;
        dp_err_set(err, "cannot create a file in %s: %s", dir, strerror(e));
        close(dirfd);
        return -e;
    }
    FILE *f = fdopen(fd, "w");
    int rc = f ? 0 : -errno;
    if (f) {
        static const size_t bufsize = 1 << 16;
        setvbuf(f, NULL, _IOFBF, bufsize);
        rc = write(f, ctx);
        if (fflush(f) != 0 && rc == 0)
            rc = -errno;
        if (rc == 0 && fsync(fileno(f)) != 0)
            rc = -errno;
        if (fclose(f) != 0 && rc == 0)
            rc = -errno;
    } else {
        close(fd);
    }
    if (rc == 0)
        rc = rename_unique(dirfd, tmp, dirfd, name, ext, final, final_len);
    if (rc == 0) {
        fsync(dirfd);
    } else {
        dp_err_set(err, "cannot write %s/%s%s: %s", dir, name, ext,
                   strerror(rc < 0 ? -rc : EIO));
        unlinkat(dirfd, tmp, 0);
    }
    close(dirfd);
    return rc;
}
