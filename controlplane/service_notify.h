/* SPDX-License-Identifier: MIT */
#ifndef SL_CP_SERVICE_NOTIFY_H
#define SL_CP_SERVICE_NOTIFY_H

/*
 * The service manager's readiness protocol (systemd's sd_notify, Type=notify), written by hand
 * so that sluice needs no libsystemd: one datagram of "KEY=VALUE\n" lines to the AF_UNIX socket
 * named by $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace).
 *
 * sl_cp_notify_init() reads $NOTIFY_SOCKET and removes it from the environment (children,
 * such as the ACME client, must not speak for sluice); call it once, before any thread
 * starts (unsetenv is not thread-safe). Returns 0 (also when the variable is absent: the
 * notifications are then no-ops) or -errno (a malformed or too long address, no socket).
 *
 * sl_cp_notify() sends one message ("READY=1", "RELOADING=1\nMONOTONIC_USEC=...",
 * "STOPPING=1", "STATUS=..."); returns 0 when sent or when there is no manager to tell,
 * -errno when the send failed. Control thread only.
 */
int sl_cp_notify_init(void);
int sl_cp_notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Closes the socket; sl_cp_notify() is a no-op afterwards. */
void sl_cp_notify_fini(void);

#endif
