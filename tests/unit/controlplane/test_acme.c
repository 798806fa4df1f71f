/* SPDX-License-Identifier: MIT */
/*
 * ACME pieces that need no ACME server (test_acme.sh runs pebble for the rest):
 *   - the challenge table the workers read (dataplane/proxy/acme_chal.c) with a real QSBR
 *     variable and a reader thread: set, find, replace, withdraw, bad input, and the grace
 *     period (a reader that never reports a quiescent state makes set time out after ~1 s);
 *   - the placeholder certificate and what is read back from a certificate file;
 *   - the hook program's protocol over a SOCK_SEQPACKET pair;
 *   - the text page the workers answer a challenge with (lib/http).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <rte_rcu_qsbr.h>

#include "cunit_main.h"

#include "controlplane/acme.h"
#include "dataplane/proxy/acme_chal.h"
#include "lib/http/http.h"

static const char *
find(const char *token)
{
	return sl_acme_chal_find(token, strlen(token));
}

static void
test_table_set_find_replace_withdraw(void)
{
	CU_ASSERT_PTR_NULL(find("tok1"));
	CU_ASSERT_EQUAL(sl_acme_chal_set(NULL, "tok1", "tok1.thumb"), 0);
	CU_ASSERT_EQUAL(sl_acme_chal_set(NULL, "tok-2_B", "tok-2_B.thumb"), 0);
	CU_ASSERT_STRING_EQUAL(find("tok1"), "tok1.thumb");
	CU_ASSERT_STRING_EQUAL(find("tok-2_B"), "tok-2_B.thumb");
	CU_ASSERT_PTR_NULL(sl_acme_chal_find("tok", 3)); /* a prefix is not a token */
	CU_ASSERT_PTR_NULL(sl_acme_chal_find("tok1x", 5));
	CU_ASSERT_EQUAL(sl_acme_chal_count(), 2);
	/* the same token again replaces its key authorization */
	CU_ASSERT_EQUAL(sl_acme_chal_set(NULL, "tok1", "tok1.other"), 0);
	CU_ASSERT_STRING_EQUAL(find("tok1"), "tok1.other");
	CU_ASSERT_EQUAL(sl_acme_chal_count(), 2);
	CU_ASSERT_EQUAL(sl_acme_chal_set(NULL, "tok1", NULL), 0);
	CU_ASSERT_PTR_NULL(find("tok1"));
	CU_ASSERT_STRING_EQUAL(find("tok-2_B"), "tok-2_B.thumb");
	/* withdrawing what is not there is fine */
	CU_ASSERT_EQUAL(sl_acme_chal_set(NULL, "never", NULL), 0);
	sl_acme_chal_clear();
	CU_ASSERT_EQUAL(sl_acme_chal_count(), 0);
	CU_ASSERT_PTR_NULL(find("tok-2_B"));
}

static void
test_table_refuses_bad_input_and_overflow(void)
{
	char long_token[SL_ACME_TOKEN_MAX + 2], tok[32], ka[40];

	CU_ASSERT_EQUAL(sl_acme_chal_set(NULL, "", "x"), -EINVAL);
	CU_ASSERT_EQUAL(sl_acme_chal_set(NULL, NULL, "x"), -EINVAL);
	CU_ASSERT_EQUAL(sl_acme_chal_set(NULL, "a/b", "a.b"), -EINVAL);	     /* not base64url */
	CU_ASSERT_EQUAL(sl_acme_chal_set(NULL, "a.b", "a.b"), -EINVAL);	     /* '.' in a token */
	CU_ASSERT_EQUAL(sl_acme_chal_set(NULL, "ab", "ab.c\r\nX: y"), -EINVAL); /* header split */
	CU_ASSERT_EQUAL(sl_acme_chal_set(NULL, "ab", ""), -EINVAL);
	memset(long_token, 'a', sizeof(long_token) - 1);
	long_token[sizeof(long_token) - 1] = '\0';
	CU_ASSERT_EQUAL(sl_acme_chal_set(NULL, long_token, "a.b"), -EINVAL);
	long_token[SL_ACME_TOKEN_MAX] = '\0'; /* exactly the maximum */
	CU_ASSERT_EQUAL(sl_acme_chal_set(NULL, long_token, "a.b"), 0);
	CU_ASSERT_STRING_EQUAL(find(long_token), "a.b");
	sl_acme_chal_clear();
	for (unsigned int i = 0; i < SL_ACME_CHAL_MAX; i++) {
		snprintf(tok, sizeof(tok), "t%u", i);
		snprintf(ka, sizeof(ka), "t%u.k", i);
		CU_ASSERT_EQUAL(sl_acme_chal_set(NULL, tok, ka), 0);
	}
	CU_ASSERT_EQUAL(sl_acme_chal_set(NULL, "one-more", "x.y"), -ENOSPC);
	CU_ASSERT_EQUAL(sl_acme_chal_set(NULL, "t5", "t5.new"), 0); /* a replacement fits */
	CU_ASSERT_STRING_EQUAL(find("t5"), "t5.new");
	CU_ASSERT_STRING_EQUAL(find("t63"), "t63.k");
	sl_acme_chal_clear();
}

/* A "worker": reads the table and reports quiescent states until told to stop. */
static struct rte_rcu_qsbr *qsbr;
static volatile int reader_stop, reader_quiet;
static volatile unsigned long reader_hits;

static void *
reader(void *arg)
{
	(void)arg;
	rte_rcu_qsbr_thread_register(qsbr, 0);
	rte_rcu_qsbr_thread_online(qsbr, 0);
	while (!reader_stop) {
		const char *ka = find("live");

		if (ka != NULL && strcmp(ka, "live.k") == 0)
			reader_hits++;
		if (!reader_quiet)
			rte_rcu_qsbr_quiescent(qsbr, 0);
	}
	rte_rcu_qsbr_thread_offline(qsbr, 0);
	rte_rcu_qsbr_thread_unregister(qsbr, 0);
	return NULL;
}

static void
test_table_waits_for_the_workers_grace_period(void)
{
	size_t sz = rte_rcu_qsbr_get_memsize(1);
	struct timespec t0, t1;
	pthread_t th;
	double s;

	CU_ASSERT_FATAL(posix_memalign((void **)&qsbr, 128, sz) == 0);
	CU_ASSERT_FATAL(rte_rcu_qsbr_init(qsbr, 1) == 0);
	reader_stop = reader_quiet = 0;
	CU_ASSERT_FATAL(pthread_create(&th, NULL, reader, NULL) == 0);
	usleep(10000);
	/* a reporting worker: published and confirmed quickly, and the reader sees it */
	CU_ASSERT_EQUAL(sl_acme_chal_set(qsbr, "live", "live.k"), 0);
	usleep(10000);
	CU_ASSERT(reader_hits > 0);
	for (int i = 0; i < 50; i++) /* old tables are freed while the reader runs */
		CU_ASSERT_EQUAL(sl_acme_chal_set(qsbr, "other", i % 2 ? "o.1" : "o.2"), 0);
	CU_ASSERT_STRING_EQUAL(find("live"), "live.k");
	/* a worker that never passes a quiescent state: published, but not confirmed */
	reader_quiet = 1;
	usleep(10000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CU_ASSERT_EQUAL(sl_acme_chal_set(qsbr, "late", "late.k"), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	CU_ASSERT(s >= 0.9 && s < 5);
	CU_ASSERT_STRING_EQUAL(find("late"), "late.k");
	reader_quiet = 0;
	reader_stop = 1;
	pthread_join(th, NULL);
	sl_acme_chal_clear();
	free(qsbr);
}

static char dir[64];

static void
test_placeholder_is_recognised_and_read_back(void)
{
	char cert[128], key[128], issuer[256], serial[80], cmd[1024];
	int64_t not_after = 0;
	bool ph = false;
	struct stat st;

	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	CU_ASSERT_EQUAL_FATAL(sl_acme_write_placeholder("a.example.com", cert, key), 0);
	CU_ASSERT_EQUAL(sl_acme_cert_info(cert, issuer, sizeof(issuer), serial, sizeof(serial),
					  &not_after, &ph),
			0);
	CU_ASSERT_TRUE(ph);
	CU_ASSERT_PTR_NOT_NULL(strstr(issuer, "CN=a.example.com"));
	CU_ASSERT(serial[0] != '\0');
	CU_ASSERT(not_after > time(NULL) + 89L * 86400 && not_after <= time(NULL) + 90L * 86400);
	CU_ASSERT_EQUAL(stat(key, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	/* the pair matches, and the name is in the SAN */
	snprintf(cmd, sizeof(cmd),
		 "[ \"$(openssl x509 -in %s -noout -pubkey | openssl sha256)\" = "
		 "\"$(openssl pkey -in %s -pubout | openssl sha256)\" ] && "
		 "openssl x509 -in %s -noout -ext subjectAltName | grep -q DNS:a.example.com",
		 cert, key, cert);
	CU_ASSERT_EQUAL(system(cmd), 0);
	/* a certificate that is not ours is not a placeholder */
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3 "
		 "-subj /CN=b.example.com -keyout %s/b.key -out %s/b.pem 2>/dev/null",
		 dir, dir);
	CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
	snprintf(cert, sizeof(cert), "%s/b.pem", dir);
	CU_ASSERT_EQUAL(sl_acme_cert_info(cert, NULL, 0, NULL, 0, &not_after, &ph), 0);
	CU_ASSERT_FALSE(ph);
	CU_ASSERT(not_after > time(NULL) + 2L * 86400 && not_after <= time(NULL) + 3L * 86400);
	CU_ASSERT_EQUAL(sl_acme_cert_info("/nonexistent/x.pem", NULL, 0, NULL, 0, NULL, NULL),
			-ENOENT);
	CU_ASSERT_EQUAL(sl_acme_cert_info(key, NULL, 0, NULL, 0, NULL, NULL), -EBADMSG);
}

/* Run the hook in a child with the socket; the parent answers `reply`. */
static int
hook_run(const char *reply, char *got, size_t got_len, char **argv, int argc)
{
	int sv[2], status;
	char env[32];
	pid_t pid;
	ssize_t n;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		snprintf(env, sizeof(env), "%d", sv[1]);
		setenv(SL_ACME_HOOK_ENV, env, 1);
		_exit(sl_acme_hook_main(argc, argv));
	}
	close(sv[1]);
	got[0] = '\0';
	if (reply != NULL) {
		n = recv(sv[0], got, got_len - 1, 0);
		got[n > 0 ? n : 0] = '\0';
		send(sv[0], reply, strlen(reply), 0);
	}
	waitpid(pid, &status, 0);
	close(sv[0]);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
test_hook_program_protocol(void)
{
	char *argv[] = {"sluice", "begin", "http-01", "a.example.com", "tok", "tok.ka", NULL};
	char got[256];

	CU_ASSERT_EQUAL(hook_run("ok", got, sizeof(got), argv, 6), 0);
	CU_ASSERT_STRING_EQUAL(got, "begin http-01 a.example.com tok tok.ka");
	CU_ASSERT_EQUAL(hook_run("dns-01: sluice answers http-01 only", got, sizeof(got), argv, 6),
			1);
	/* wrong argument count: usage, nothing sent */
	CU_ASSERT_EQUAL(hook_run(NULL, got, sizeof(got), argv, 4), 85);
}

static void
test_challenge_page_is_plain_text(void)
{
	char buf[512];
	int n = sl_http_write_text(200, "tok.ka", false, buf, sizeof(buf));

	CU_ASSERT_FATAL(n > 0);
	buf[n] = '\0';
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "HTTP/1.1 200 OK\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "Content-Type: text/plain\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "Content-Length: 6\r\n"));
	CU_ASSERT_PTR_NULL(strstr(buf, "Connection: close"));
	CU_ASSERT_EQUAL(strcmp(buf + n - 10, "\r\n\r\ntok.ka"), 0);
	n = sl_http_write_text(200, "tok.ka", true, buf, sizeof(buf));
	buf[n] = '\0';
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "Connection: close\r\n"));
	CU_ASSERT_EQUAL(sl_http_write_text(200, "tok.ka", false, buf, 20), -ENOSPC);
	CU_ASSERT_EQUAL(sl_http_write_text(200, NULL, false, buf, sizeof(buf)), -EINVAL);
}

static int
suite_init(void)
{
	snprintf(dir, sizeof(dir), "/tmp/sl-acme-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int
suite_clean(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	static const struct sl_unit_test tests[] = {
	    SL_UNIT_TEST(test_table_set_find_replace_withdraw),
	    SL_UNIT_TEST(test_table_refuses_bad_input_and_overflow),
	    SL_UNIT_TEST(test_table_waits_for_the_workers_grace_period),
	    SL_UNIT_TEST(test_placeholder_is_recognised_and_read_back),
	    SL_UNIT_TEST(test_hook_program_protocol),
	    SL_UNIT_TEST(test_challenge_page_is_plain_text),
	};

	return sl_unit_run("acme", suite_init, suite_clean, tests, sizeof(tests) / sizeof(tests[0]));
}
