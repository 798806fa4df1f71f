/* SPDX-License-Identifier: MIT */
/* controlplane/service_notify.c: the sd_notify datagrams, to a path and to an abstract socket,
 * the variable removed from the environment, bad addresses refused, no manager a no-op. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "controlplane/service_notify.h"
#include "cunit_main.h"

/* A datagram socket bound to NAME ('@' first: abstract); returns the fd or -1. */
static int
listen_at(const char *name)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct timeval tv = {2, 0};
	size_t n = strlen(name);
	socklen_t len;
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	if (fd < 0)
		return -1;
	memcpy(a.sun_path, name, n);
	if (name[0] == '@')
		a.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (name[0] == '@' ? 0 : 1));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(fd, (struct sockaddr *)&a, len) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A manager listening at a path of this process (written to PATH), sluice told about it: the
 * listener's fd, or -1. */
static int
manager_at_path(char *path, size_t len)
{
	int fd;

	snprintf(path, len, "/tmp/sl-notify-test-%d.sock", (int)getpid());
	unlink(path);
	fd = listen_at(path);
	if (fd < 0)
		return -1;
	setenv("NOTIFY_SOCKET", path, 1);
	if (sl_cp_notify_init() != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
expect_message(int fd, const char *want)
{
	char buf[600];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

	CU_ASSERT_TRUE_FATAL(n >= 0);
	buf[n] = '\0';
	CU_ASSERT_STRING_EQUAL(buf, want);
}

static void
test_ready_reloading_stopping_reach_a_path_socket(void)
{
	char path[64];
	int fd;

	fd = manager_at_path(path, sizeof(path));
	CU_ASSERT_TRUE_FATAL(fd >= 0);
	CU_ASSERT_PTR_NULL(getenv("NOTIFY_SOCKET")); /* children do not inherit it */
	CU_ASSERT_EQUAL(sl_cp_notify("READY=1"), 0);
	expect_message(fd, "READY=1");
	CU_ASSERT_EQUAL(sl_cp_notify("RELOADING=1\nMONOTONIC_USEC=%llu", 12345ULL), 0);
	expect_message(fd, "RELOADING=1\nMONOTONIC_USEC=12345");
	CU_ASSERT_EQUAL(sl_cp_notify("STOPPING=1"), 0);
	expect_message(fd, "STOPPING=1");
	sl_cp_notify_fini();
	CU_ASSERT_EQUAL(sl_cp_notify("READY=1"), 0); /* no-op once closed */
	close(fd);
	unlink(path);
}

static void
test_abstract_socket_name_starts_with_at(void)
{
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "@sl-notify-test-%d", (int)getpid());
	fd = listen_at(name);
	CU_ASSERT_TRUE_FATAL(fd >= 0);
	setenv("NOTIFY_SOCKET", name, 1);
	CU_ASSERT_EQUAL(sl_cp_notify_init(), 0);
	CU_ASSERT_EQUAL(sl_cp_notify("READY=1\nSTATUS=%s", "ready"), 0);
	expect_message(fd, "READY=1\nSTATUS=ready");
	sl_cp_notify_fini();
	close(fd);
}

static void
test_long_status_is_cut_not_dropped(void)
{
	char path[64], big[1000];
	char buf[2000];
	ssize_t n;
	int fd;

	fd = manager_at_path(path, sizeof(path));
	CU_ASSERT_TRUE_FATAL(fd >= 0);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CU_ASSERT_EQUAL(sl_cp_notify("READY=1\nSTATUS=%s", big), 0);
	n = recv(fd, buf, sizeof(buf), 0);
	CU_ASSERT_EQUAL(n, 511);
	CU_ASSERT_EQUAL(memcmp(buf, "READY=1\nSTATUS=xxx", 18), 0);
	sl_cp_notify_fini();
	close(fd);
	unlink(path);
}

static void
test_no_manager_is_a_no_op(void)
{
	unsetenv("NOTIFY_SOCKET");
	CU_ASSERT_EQUAL(sl_cp_notify_init(), 0);
	CU_ASSERT_EQUAL(sl_cp_notify("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "", 1);
	CU_ASSERT_EQUAL(sl_cp_notify_init(), 0);
	CU_ASSERT_EQUAL(sl_cp_notify("READY=1"), 0);
}

static void
test_bad_addresses_are_refused(void)
{
	char longpath[200];

	setenv("NOTIFY_SOCKET", "relative/path", 1);
	CU_ASSERT_EQUAL(sl_cp_notify_init(), -EINVAL);
	CU_ASSERT_PTR_NULL(getenv("NOTIFY_SOCKET"));
	CU_ASSERT_EQUAL(sl_cp_notify("READY=1"), 0); /* nothing to tell */
	setenv("NOTIFY_SOCKET", "@", 1);
	CU_ASSERT_EQUAL(sl_cp_notify_init(), -EINVAL);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longpath, 1);
	CU_ASSERT_EQUAL(sl_cp_notify_init(), -EINVAL);
}

static void
test_a_vanished_manager_reports_the_error(void)
{
	setenv("NOTIFY_SOCKET", "/tmp/sl-notify-test-nobody-listens.sock", 1);
	unlink("/tmp/sl-notify-test-nobody-listens.sock");
	CU_ASSERT_EQUAL(sl_cp_notify_init(), 0);
	CU_ASSERT_EQUAL(sl_cp_notify("READY=1"), -ENOENT);
	sl_cp_notify_fini();
}

int
main(void)
{
	static const struct sl_unit_test tests[] = {
	    SL_UNIT_TEST(test_ready_reloading_stopping_reach_a_path_socket),
	    SL_UNIT_TEST(test_abstract_socket_name_starts_with_at),
	    SL_UNIT_TEST(test_long_status_is_cut_not_dropped),
	    SL_UNIT_TEST(test_no_manager_is_a_no_op),
	    SL_UNIT_TEST(test_bad_addresses_are_refused),
	    SL_UNIT_TEST(test_a_vanished_manager_reports_the_error),
	};

	return SL_UNIT_RUN("service_notify", tests);
}
