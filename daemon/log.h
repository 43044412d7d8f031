/* Logging: one line per event on stderr, with a syslog priority prefix
 * ("<3>", "<4>", "<6>", "<7>") so that journald keeps the level. */
#ifndef DP_LOG_H
#define DP_LOG_H

#include <docproc/stage.h>

/* Write "PROG: " (and "warning: " on warnings) instead of the priority
 * prefix: for a command run from a terminal or a script, whose stderr a
 * person reads. NULL restores the prefix. */
void dp_log_set_plain(const char *prog);

/* Lines above this level are dropped (default DP_LOG_INFO). */
void dp_log_set_level(int level);
int dp_log_level_from_name(const char *name);

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void dp_log(int level, const char *fmt, ...);

/* The variant stages call through dp_api.log. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void dp_log_stage(int level, const char *stage, const char *fmt, ...);

#endif
