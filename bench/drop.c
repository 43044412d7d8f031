/* dp-drop: drops files into a watched inbox and times their outputs.
 *
 *   dp-drop latency STAGING INBOX OUTBOX SUFFIX COUNT RATE TIMEOUT_S
 *   dp-drop burst   STAGING INBOX OUTBOX SUFFIX COUNT TIMEOUT_S
 *
 * STAGING holds d0000000.txt ... (COUNT files) on the same file system as
 * INBOX. latency: renames them into INBOX one by one at RATE per second;
 * burst: renames them all at once. An inotify watch on OUTBOX sees each
 * output "<name>SUFFIX" renamed into place (IN_MOVED_TO); the time from the
 * drop's rename to the output's rename is the latency. An inotify queue
 * overflow falls back to listing OUTBOX. Ends when every output arrived or
 * TIMEOUT_S after the last drop. Prints one JSON object:
 *   {"n","seen","dups","extra","drop_s","drain_s","docs_per_s",
 *    "p50_ms","p90_ms","p99_ms","max_ms","mean_ms"}
 * "dups" counts outputs renamed in twice, "extra" unexpected names (such as
 * a second output "x.1.json"). Exit status 0 when all arrived exactly once. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

static const char *outbox, *suffix;
static size_t n_docs, seen, dups, extra;
static double *t_drop, *t_out;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Index of an expected output name, or -1. */
static long parse_name(const char *name)
{
    char *end;
    if (name[0] != 'd' || strlen(name) < 12)
        return -1;
    errno = 0;
    unsigned long i = strtoul(name + 1, &end, 10);
    if (errno || end != name + 8 || strncmp(end, ".txt", 4) != 0 ||
        strcmp(end + 4, suffix) != 0 || i >= n_docs)
        return -1;
    return (long)i;
}

static void mark(const char *name, double t, int from_event)
{
    if (name[0] == '.')
        return; /* temporaries */
    long i = parse_name(name);
    if (i < 0) {
        if (from_event)
            extra++;
        return;
    }
    if (t_out[i] == 0) {
        t_out[i] = t;
        seen++;
    } else if (from_event) {
        dups++;
    }
}

/* After an overflow: whatever is in the outbox now has arrived. */
static void rescan(void)
{
    DIR *d = opendir(outbox);
    struct dirent *e;
    double t = now();
    while (d && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            mark(e->d_name, t, 0);
    if (d)
        closedir(d);
}

static void drain_events(int fd)
{
    char buf[256 * 1024]
        __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0)
            return;
        double t = now();
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const void *)p;
            p += sizeof *ev + ev->len;
            if (ev->mask & IN_Q_OVERFLOW)
                rescan();
            else if (ev->len > 0 && (ev->mask & IN_MOVED_TO))
                mark(ev->name, t, 1);
        }
    }
}

/* Wait for events until `until` (monotonic seconds). */
static void wait_until(int fd, double until)
{
    for (;;) {
        double left = until - now();
        if (left <= 0)
            return;
        struct pollfd pfd = {fd, POLLIN, 0};
        struct timespec ts = {(time_t)left,
                              (long)((left - (double)(time_t)left) * 1e9)};
        if (ppoll(&pfd, 1, &ts, NULL) > 0)
            drain_events(fd);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return -1;
    size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    return sorted[(rank > n ? n : rank) - 1];
}

int main(int argc, char **argv)
{
    int burst = argc == 8 && strcmp(argv[1], "burst") == 0;
    int latency = argc == 9 && strcmp(argv[1], "latency") == 0;
    if (!burst && !latency) {
        fprintf(stderr,
                "usage: dp-drop latency STAGING INBOX OUTBOX SUFFIX COUNT "
                "RATE TIMEOUT_S\n"
                "       dp-drop burst STAGING INBOX OUTBOX SUFFIX COUNT "
                "TIMEOUT_S\n");
        return 2;
    }
    const char *staging = argv[2], *inbox = argv[3];
    outbox = argv[4];
    suffix = argv[5];
    n_docs = strtoul(argv[6], NULL, 10);
    double rate = latency ? atof(argv[7]) : 0;
    double timeout = atof(argv[latency ? 8 : 7]);
    if (n_docs == 0 || n_docs > 10000000 || (latency && rate <= 0)) {
        fprintf(stderr, "dp-drop: bad COUNT or RATE\n");
        return 2;
    }
    t_drop = calloc(n_docs, sizeof *t_drop);
    t_out = calloc(n_docs, sizeof *t_out);
    double *lat = calloc(n_docs, sizeof *lat);
    if (t_drop == NULL || t_out == NULL || lat == NULL) {
        fprintf(stderr, "dp-drop: out of memory\n");
        return 2;
    }
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0 || inotify_add_watch(fd, outbox, IN_MOVED_TO | IN_ONLYDIR) < 0) {
        fprintf(stderr, "dp-drop: inotify on %s: %s\n", outbox,
                strerror(errno));
        return 2;
    }

    char from[PATH_MAX], to[PATH_MAX];
    double start = now();
    for (size_t i = 0; i < n_docs; i++) {
        if (latency)
            wait_until(fd, start + (double)i / rate);
        snprintf(from, sizeof from, "%s/d%07zu.txt", staging, i);
        snprintf(to, sizeof to, "%s/d%07zu.txt", inbox, i);
        t_drop[i] = now();
        if (rename(from, to) != 0) {
            fprintf(stderr, "dp-drop: rename %s: %s\n", from, strerror(errno));
            return 2;
        }
        if (burst && (i & 1023) == 1023)
            drain_events(fd);
    }
    double dropped = now();
    /* Wait for the rest, giving up TIMEOUT_S after the last new output. */
    double deadline = dropped + timeout;
    size_t last_seen = seen;
    while (seen < n_docs && now() < deadline) {
        wait_until(fd, now() + 0.05);
        if (seen != last_seen) {
            last_seen = seen;
            deadline = now() + timeout;
        }
    }
    /* Let late duplicates show. */
    wait_until(fd, now() + 0.2);

    size_t k = 0;
    double last = start, sum = 0;
    for (size_t i = 0; i < n_docs; i++) {
        if (t_out[i] == 0)
            continue;
        lat[k] = (t_out[i] - t_drop[i]) * 1e3;
        sum += lat[k++];
        if (t_out[i] > last)
            last = t_out[i];
    }
    qsort(lat, k, sizeof *lat, cmp_double);
    double drain = last - start;
    printf("{\"n\":%zu,\"seen\":%zu,\"dups\":%zu,\"extra\":%zu,"
           "\"drop_s\":%.6f,\"drain_s\":%.6f,\"docs_per_s\":%.1f,"
           "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,"
           "\"mean_ms\":%.3f}\n",
           n_docs, seen, dups, extra, dropped - start, drain,
           drain > 0 ? (double)seen / drain : 0.0, pct(lat, k, 50),
           pct(lat, k, 90), pct(lat, k, 99), k ? lat[k - 1] : -1.0,
           k ? sum / (double)k : -1.0);
    close(fd);
    free(t_drop);
    free(t_out);
    free(lat);
    return seen == n_docs && dups == 0 && extra == 0 ? 0 : 1;
}
