/* The systemd notify protocol: one datagram of "KEY=VALUE" lines to the
 * AF_UNIX socket named by $NOTIFY_SOCKET. systemd documents it as stable
 * for independent implementations (sd_notify(3)), so no libsystemd. */
#ifndef DP_NOTIFY_H
#define DP_NOTIFY_H

#include <stdint.h>

/* Send `state` (e.g. "READY=1\nSTATUS=..."). Returns 0, a negative errno,
 * or 0 without sending when $NOTIFY_SOCKET is unset. */
int dp_notify(const char *state);

/* printf-style convenience. */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
int dp_notifyf(const char *fmt, ...);

/* The watchdog interval systemd asks for ($WATCHDOG_USEC, when
 * $WATCHDOG_PID is unset or ours), in ms; 0 when none. */
uint64_t dp_notify_watchdog_ms(void);

#endif
