/* SPDX-License-Identifier: MIT */
#include "controlplane/service_notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int notify_fd = -1;
static struct sockaddr_un notify_addr;
static socklen_t notify_len;

int
sl_cp_notify_init(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t n;

	sl_cp_notify_fini();
	if (path == NULL || path[0] == '\0')
		return 0;
	n = strlen(path);
	/* An absolute path or an abstract name ('@' stands for the leading NUL). */
	if ((path[0] != '/' && path[0] != '@') || n >= sizeof(notify_addr.sun_path) ||
	    (path[0] == '@' && n < 2)) {
		unsetenv("NOTIFY_SOCKET");
		return -EINVAL;
	}
	memset(&notify_addr, 0, sizeof(notify_addr));
	notify_addr.sun_family = AF_UNIX;
	memcpy(notify_addr.sun_path, path, n);
	if (path[0] == '@')
		notify_addr.sun_path[0] = '\0';
	/* An abstract name is exactly n bytes long: no terminating NUL counts. */
	notify_len =
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '@' ? 0 : 1));
	unsetenv("NOTIFY_SOCKET");
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	return notify_fd < 0 ? -errno : 0;
}

int
sl_cp_notify(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	if (notify_fd < 0)
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1; /* a long STATUS= is cut, the message still goes */
	if (sendto(notify_fd, msg, (size_t)n, MSG_NOSIGNAL, (struct sockaddr *)&notify_addr,
		   notify_len) < 0)
		return -errno;
	return 0;
}

void
sl_cp_notify_fini(void)
{
	if (notify_fd >= 0)
		close(notify_fd);
	notify_fd = -1;
}
