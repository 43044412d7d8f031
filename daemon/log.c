/* Logging to stderr with syslog priority prefixes. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int log_level = DP_LOG_INFO;
static const char *plain_prog; /* NULL: syslog priority prefixes */

void dp_log_set_plain(const char *prog) { plain_prog = prog; }

void dp_log_set_level(int level) { log_level = level; }

int dp_log_level_from_name(const char *name)
{
    static const struct {
        const char *name;
        int level;
    } names[] = {{"error", DP_LOG_ERR},
                 {"warning", DP_LOG_WARNING},
                 {"info", DP_LOG_INFO},
                 {"debug", DP_LOG_DEBUG}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i].name) == 0)
            return names[i].level;
    return -1;
}

static void vlog(int level, const char *stage, const char *fmt, va_list ap)
{
    char line[2048];
    int n = 0;
    if (level > log_level)
        return;
    if (plain_prog)
        n = snprintf(line, sizeof line, "%s: %s", plain_prog,
                     level == DP_LOG_WARNING ? "warning: " : "");
    else
        n = snprintf(line, sizeof line, "<%d>", level);
    if (stage && n >= 0 && (size_t)n < sizeof line)
        n += snprintf(line + n, sizeof line - (size_t)n, "%s: ", stage);
    if (n >= 0 && (size_t)n < sizeof line)
        vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    /* One line per event: fold newlines that a message may carry. */
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    /* A single fputs keeps lines from several threads whole. */
    fprintf(stderr, "%s\n", line);
}

void dp_log(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(level, NULL, fmt, ap);
    va_end(ap);
}

void dp_log_stage(int level, const char *stage, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(level, stage, fmt, ap);
    va_end(ap);
}
