/* SPDX-License-Identifier: MIT */
/*
 * Automatic certificates with uacme as a child process (acme.h says how the pieces fit).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "acme.h"
#include "lib/stats/prom.h"

extern char **environ;

#define RUN_TIMEOUT_S 300     /* one uacme run, whatever it waits for */
#define RETRY_FIRST_S 60      /* after a failure; doubles up to the check interval */
#define CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define FILE_MAX (SL_CONFIG_PATH_MAX + SL_CONFIG_HOST_MAX + 32)

struct name {
	struct sl_acme_status st; /* under mu */
	int64_t next_try;	  /* unix time; thread only */
	unsigned int backoff_s;
};

struct sl_acme {
	char cert_dir[SL_CONFIG_PATH_MAX];
	struct sl_config_acme cfg;
	char self[PATH_MAX]; /* the hook program: this binary */
	struct sl_acme_ops ops;
	struct name *names;
	unsigned int n_names;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop, force;
	pid_t child; /* the running uacme, 0 none (under mu) */
};

static void __attribute__((format(printf, 1, 2)))
acme_log(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "sluice: acme: %s\n", line);
}

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

/* ------------------------------------------------------------------ files */

static void
paths(const char *dir, const char *name, char *cert, char *key)
{
	snprintf(cert, FILE_MAX, "%s/%s/cert.pem", dir, name);
	snprintf(key, FILE_MAX, "%s/private/%s/key.pem", dir, name);
}

static int
mkdir_p(const char *path, mode_t mode)
{
	char tmp[FILE_MAX];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int
sl_acme_cert_info(const char *path, char *issuer, size_t issuer_len, char *serial,
		  size_t serial_len, int64_t *not_after, bool *placeholder)
{
	FILE *f = fopen(path, "r");
	X509 *x;
	int rc = 0;

	if (f == NULL)
		return -errno;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL)
		return -EBADMSG;
	if (issuer != NULL && issuer_len > 0) {
		issuer[0] = '\0';
		X509_NAME_oneline(X509_get_issuer_name(x), issuer, (int)issuer_len);
	}
	if (serial != NULL && serial_len > 0) {
		BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
		char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;

		snprintf(serial, serial_len, "%s", hex != NULL ? hex : "");
		OPENSSL_free(hex);
		BN_free(bn);
	}
	if (not_after != NULL) {
		struct tm tm;

		if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
			*not_after = (int64_t)timegm(&tm);
		else
			rc = -EBADMSG;
	}
	if (placeholder != NULL) {
		char org[128] = "";

		X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_organizationName, org,
					  sizeof(org));
		*placeholder = strcmp(org, SL_ACME_PLACEHOLDER_ORG) == 0;
	}
	X509_free(x);
	return rc;
}

static int
write_file(const char *path, mode_t mode, int (*fn)(FILE *, void *), void *arg)
{
	char tmp[FILE_MAX + 8];
	FILE *f;
	int fd, rc;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		return -ENOMEM;
	}
	rc = fn(f, arg) == 1 ? 0 : -EIO;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc != 0)
		unlink(tmp);
	return rc;
}

static int
put_key(FILE *f, void *k)
{
	return PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
}

static int
put_cert(FILE *f, void *x)
{
	return PEM_write_X509(f, x);
}

int
sl_acme_write_placeholder(const char *name, const char *cert_path, const char *key_path)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n;
	X509_EXTENSION *ext = NULL;
	char san[SL_CONFIG_HOST_MAX + 8];
	int rc = -ENOMEM;

	if (k == NULL || x == NULL)
		goto out;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(now_s() & 0x7fffffff));
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 90L * 86400);
	X509_set_pubkey(x, k);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)SL_ACME_PLACEHOLDER_ORG,
				   -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)name, -1, -1, 0);
	X509_set_issuer_name(x, n);
	snprintf(san, sizeof(san), "DNS:%s", name);
	ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
	if (ext == NULL || !X509_add_ext(x, ext, -1) || !X509_sign(x, k, EVP_sha256())) {
		rc = -EINVAL;
		goto out;
	}
	/* the key first: a certificate on disk always has its key */
	rc = write_file(key_path, 0600, put_key, k);
	if (rc == 0)
		rc = write_file(cert_path, 0644, put_cert, x);
out:
	X509_EXTENSION_free(ext);
	X509_free(x);
	EVP_PKEY_free(k);
	return rc;
}

/* A name of tls.domains that a TLS service without its own cert_file serves: one to obtain. */
static bool
served(const struct sl_config *cfg, const char *name)
{
	for (unsigned int i = 0; i < cfg->n_services; i++) {
		const struct sl_config_service *s = &cfg->services[i];

		if (s->tls.enabled && !s->tls.cert_file[0] && !strcmp(s->host, name))
			return true;
	}
	return false;
}

int
sl_acme_prepare(const struct sl_config *cfg, char *err, size_t errlen)
{
	const struct sl_config_tls *t = &cfg->tls;
	char dir[FILE_MAX], cert[FILE_MAX], key[FILE_MAX];
	int rc;

	bool any = false;

	if (!t->enabled || !t->auto_cert)
		return 0;
	for (unsigned int i = 0; i < t->domains.n; i++)
		any |= served(cfg, t->domains.items[i]);
	if (!any)
		return 0;
	snprintf(dir, sizeof(dir), "%s/private", t->cert_dir);
	if ((rc = mkdir_p(t->cert_dir, 0755)) != 0 || (rc = mkdir_p(dir, 0700)) != 0) {
		snprintf(err, errlen, "tls.cert_dir %s: cannot create it: %s", t->cert_dir,
			 strerror(-rc));
		return rc;
	}
	for (unsigned int i = 0; i < t->domains.n; i++) {
		const char *name = t->domains.items[i];

		if (!served(cfg, name))
			continue;
		paths(t->cert_dir, name, cert, key);
		if (access(cert, R_OK) == 0 && access(key, R_OK) == 0)
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", t->cert_dir, name);
		if ((rc = mkdir_p(dir, 0755)) == 0) {
			snprintf(dir, sizeof(dir), "%s/private/%s", t->cert_dir, name);
			rc = mkdir_p(dir, 0700);
		}
		if (rc == 0)
			rc = sl_acme_write_placeholder(name, cert, key);
		if (rc != 0) {
			snprintf(err, errlen, "%s: cannot write a placeholder certificate: %s", cert,
				 strerror(-rc));
			return rc;
		}
		acme_log("%s: no certificate yet; serving a self-signed placeholder (%s) until "
			 "the ACME server issues one",
			 name, cert);
	}
	return 0;
}

/* ------------------------------------------------------------------ the hook program */

int
sl_acme_hook_main(int argc, char **argv)
{
	const char *env = getenv(SL_ACME_HOOK_ENV);
	char msg[2048], reply[64];
	struct pollfd pfd;
	ssize_t n;
	int fd, len;

	if (env == NULL || argc != 6) {
		fprintf(stderr, "sluice (ACME hook): usage: METHOD TYPE IDENT TOKEN AUTH, run by "
				"uacme with %s set\n",
			SL_ACME_HOOK_ENV);
		return 85;
	}
	fd = atoi(env);
	len = snprintf(msg, sizeof(msg), "%s %s %s %s %s", argv[1], argv[2], argv[3], argv[4],
		       argv[5]);
	if (len < 0 || (size_t)len >= sizeof(msg) || strchr(msg, '\n')) {
		fprintf(stderr, "sluice (ACME hook): arguments too long\n");
		return 1;
	}
	if (send(fd, msg, (size_t)len, MSG_NOSIGNAL) != len) {
		fprintf(stderr, "sluice (ACME hook): cannot reach sluice: %s\n", strerror(errno));
		return 1;
	}
	pfd = (struct pollfd){.fd = fd, .events = POLLIN};
	if (poll(&pfd, 1, 60000) != 1 || (n = recv(fd, reply, sizeof(reply) - 1, 0)) <= 0) {
		fprintf(stderr, "sluice (ACME hook): no answer from sluice\n");
		return 1;
	}
	reply[n] = '\0';
	if (strcmp(reply, "ok") == 0)
		return 0;
	fprintf(stderr, "sluice (ACME hook): declined: %s\n", reply);
	return 1;
}

/* ------------------------------------------------------------------ running uacme */

/* One hook message: "METHOD TYPE IDENT TOKEN AUTH". The reply goes back on fd. */
static void
on_hook(struct sl_acme *a, const char *name, int fd, char *msg)
{
	char *f[5], *save = NULL, reply[200] = "ok";
	unsigned int n = 0;
	int rc;

	for (char *p = strtok_r(msg, " ", &save); p != NULL && n < 5;
	     p = strtok_r(NULL, " ", &save))
		f[n++] = p;
	if (n != 5)
		snprintf(reply, sizeof(reply), "malformed hook message");
	else if (strcmp(f[1], "http-01") != 0)
		snprintf(reply, sizeof(reply), "%s: sluice answers http-01 only", f[1]);
	else if (strcmp(f[2], name) != 0)
		snprintf(reply, sizeof(reply), "identifier %.60s is not %.60s", f[2], name);
	else if (strcmp(f[0], "begin") == 0) {
		rc = a->ops.publish(a->ops.arg, f[3], f[4]);
		if (rc != 0 && rc != -ETIMEDOUT)
			snprintf(reply, sizeof(reply), "cannot publish the challenge: %s",
				 strerror(-rc));
		else
			acme_log("%s: http-01 challenge %s published to the workers%s", name, f[3],
				 rc == -ETIMEDOUT ? " (a worker has not confirmed within 1 s)" : "");
	} else if (strcmp(f[0], "done") == 0 || strcmp(f[0], "failed") == 0) {
		a->ops.publish(a->ops.arg, f[3], NULL);
		acme_log("%s: http-01 challenge %s %s; withdrawn", name, f[3],
			 f[0][0] == 'd' ? "validated" : "failed");
	} else
		snprintf(reply, sizeof(reply), "unknown method %.40s", f[0]);
	if (send(fd, reply, strlen(reply), MSG_NOSIGNAL) < 0)
		acme_log("%s: cannot answer the hook: %s", name, strerror(errno));
}

/* uacme's stderr, line by line, into our log. */
static void
log_output(const char *name, char *buf, size_t *len, bool flush)
{
	char *nl;

	while ((nl = memchr(buf, '\n', *len)) != NULL || (flush && *len > 0)) {
		size_t n = nl != NULL ? (size_t)(nl - buf) : *len;

		acme_log("%s: uacme: %.*s", name, (int)n, buf);
		n += nl != NULL;
		memmove(buf, buf + n, *len - n);
		*len -= n;
	}
}

/* prog, or the first executable prog on PATH (resolved before fork: the child only execs). */
static int
find_program(const char *prog, char *out, size_t cap)
{
	const char *path = getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin";

	if (strchr(prog, '/')) {
		snprintf(out, cap, "%s", prog);
		return access(out, X_OK) == 0 ? 0 : -ENOENT;
	}
	while (*path) {
		size_t n = strcspn(path, ":");

		snprintf(out, cap, "%.*s/%s", (int)n, path, prog);
		if (n > 0 && access(out, X_OK) == 0)
			return 0;
		path += n + (path[n] == ':');
	}
	return -ENOENT;
}

/*
 * Run uacme with args (NULL-terminated, argv[0] included) for name, serving its hooks. Returns
 * its exit status (0 issued, 1 still current, 2 failure), or -errno, or -ETIMEDOUT.
 */
static int
run_uacme(struct sl_acme *a, const char *name, char *const args[])
{
	int sv[2] = {-1, -1}, out[2] = {-1, -1}, hook_fd = -1, status = 0, rc;
	char env_hook[64], out_buf[4096], msg[2048];
	size_t out_len = 0, n_env = 0;
	char **envp;
	int64_t deadline = now_s() + RUN_TIMEOUT_S;
	const char *want = getenv("SLUICE_UACME") ? getenv("SLUICE_UACME") : SL_ACME_UACME;
	char prog[PATH_MAX];
	pid_t pid;
	bool out_open = true;

	if (find_program(want, prog, sizeof(prog)) != 0) {
		acme_log("%s: cannot find %s on PATH (apt-get install uacme)", name, want);
		return -ENOENT;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0 ||
	    pipe2(out, O_CLOEXEC) != 0)
		goto fail_errno;
	/* the child's end, without O_CLOEXEC, above stdio */
	hook_fd = fcntl(sv[1], F_DUPFD, 3);
	if (hook_fd < 0)
		goto fail_errno;
	snprintf(env_hook, sizeof(env_hook), "%s=%d", SL_ACME_HOOK_ENV, hook_fd);
	while (environ[n_env] != NULL)
		n_env++;
	envp = calloc(n_env + 2, sizeof(*envp));
	if (envp == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0, k = 0; i < n_env; i++)
		if (strncmp(environ[i], SL_ACME_HOOK_ENV "=", sizeof(SL_ACME_HOOK_ENV)) != 0)
			envp[k++] = environ[i], envp[k] = NULL;
	for (n_env = 0; envp[n_env] != NULL; n_env++)
		;
	envp[n_env] = env_hook;

	pid = fork();
	if (pid == 0) {
		/* The child: only async-signal-safe calls until exec. */
		sigset_t none;
		int devnull = open("/dev/null", O_RDONLY);

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		if (a->cfg.ca_file[0] &&
		    (unshare(CLONE_NEWNS) != 0 ||
		     mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
		     mount(a->cfg.ca_file, CA_BUNDLE, NULL, MS_BIND, NULL) != 0)) {
			static const char m[] = "cannot trust tls.acme.ca_file: a private mount "
						"namespace needs root (CAP_SYS_ADMIN)\n";
			(void)!write(2, m, sizeof(m) - 1);
			_exit(2);
		}
		execve(prog, args, envp);
		{
			static const char m[] = "cannot run uacme (apt-get install uacme)\n";
			(void)!write(2, m, sizeof(m) - 1);
		}
		_exit(127);
	}
	free(envp);
	if (pid < 0)
		goto fail_errno;
	close(hook_fd);
	hook_fd = -1;
	close(sv[1]);
	sv[1] = -1;
	close(out[1]);
	out[1] = -1;
	pthread_mutex_lock(&a->mu);
	a->child = pid;
	pthread_mutex_unlock(&a->mu);

	for (;;) {
		struct pollfd p[2] = {{.fd = sv[0], .events = POLLIN},
				      {.fd = out_open ? out[0] : -1, .events = POLLIN}};
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid) {
			/* what is left of its output */
			while (out_open && poll(&p[1], 1, 0) == 1) {
				ssize_t n = read(out[0], out_buf + out_len, sizeof(out_buf) - out_len);

				if (n <= 0)
					break;
				out_len += (size_t)n;
				log_output(name, out_buf, &out_len, out_len == sizeof(out_buf));
			}
			log_output(name, out_buf, &out_len, true);
			break;
		}
		if (now_s() > deadline || __atomic_load_n(&a->stop, __ATOMIC_ACQUIRE)) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			acme_log("%s: uacme %s; killed", name,
				 a->stop ? "still running at stop" : "took too long");
			rc = -ETIMEDOUT;
			goto out_child;
		}
		if (poll(p, 2, 200) <= 0)
			continue;
		if (p[0].revents & POLLIN) {
			ssize_t n = recv(sv[0], msg, sizeof(msg) - 1, 0);

			if (n > 0) {
				msg[n] = '\0';
				on_hook(a, name, sv[0], msg);
			}
		}
		if (p[1].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(out[0], out_buf + out_len, sizeof(out_buf) - out_len);

			if (n <= 0)
				out_open = false;
			else
				out_len += (size_t)n;
			log_output(name, out_buf, &out_len, out_len == sizeof(out_buf));
		}
	}
	rc = WIFEXITED(status) ? WEXITSTATUS(status) : -EINTR;
out_child:
	pthread_mutex_lock(&a->mu);
	a->child = 0;
	pthread_mutex_unlock(&a->mu);
	goto out;
fail_errno:
	rc = -errno;
out:
	for (int i = 0; i < 2; i++) {
		if (sv[i] >= 0)
			close(sv[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	if (hook_fd >= 0)
		close(hook_fd);
	return rc;
}

/* ------------------------------------------------------------------ the thread */

static void
set_error(struct sl_acme *a, struct name *nm, const char *fmt, ...)
{
	char e[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e, sizeof(e), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&a->mu);
	snprintf(nm->st.last_error, sizeof(nm->st.last_error), "%s", e);
	nm->st.failures++;
	pthread_mutex_unlock(&a->mu);
	acme_log("%s: %s", nm->st.domain, e);
}

/* The file's state into nm->st; true when it must be (re)issued. */
static bool
refresh(struct sl_acme *a, struct name *nm, bool force)
{
	char cert[FILE_MAX], key[FILE_MAX], issuer[256] = "", serial[80] = "";
	int64_t not_after = 0;
	bool ph = false;
	int rc;

	paths(a->cert_dir, nm->st.domain, cert, key);
	rc = sl_acme_cert_info(cert, issuer, sizeof(issuer), serial, sizeof(serial), &not_after,
			       &ph);
	pthread_mutex_lock(&a->mu);
	snprintf(nm->st.issuer, sizeof(nm->st.issuer), "%s", issuer);
	snprintf(nm->st.serial, sizeof(nm->st.serial), "%s", serial);
	nm->st.not_after = not_after;
	nm->st.placeholder = ph;
	pthread_mutex_unlock(&a->mu);
	return force || rc != 0 || ph ||
	       not_after - now_s() < (int64_t)a->cfg.renew_before_days * 86400;
}

/* Account (once), then the certificate. 0 issued, else -errno / uacme's status. */
static int
issue(struct sl_acme *a, struct name *nm)
{
	char account[FILE_MAX];
	const char *verbose = "-v";
	int rc;

	snprintf(account, sizeof(account), "%s/private/key.pem", a->cert_dir);
	if (access(account, R_OK) != 0) {
		char *const args[] = {"uacme",	 (char *)verbose,    "-y", "-c",
				      a->cert_dir, "-a", a->cfg.directory, "new",
				      a->cfg.email[0] ? a->cfg.email : NULL, NULL};

		acme_log("creating the ACME account at %s", a->cfg.directory);
		rc = run_uacme(a, nm->st.domain, args);
		if (rc != 0) {
			set_error(a, nm, "account creation at %s failed (uacme: %d)",
				  a->cfg.directory, rc);
			return rc < 0 ? rc : -EPROTO;
		}
	}
	{
		char *const args[] = {"uacme",	  (char *)verbose, "-y",    "-f",
				      "-c",	  a->cert_dir,	   "-a",    a->cfg.directory,
				      "-h",	  a->self,	   "issue", nm->st.domain,
				      NULL};

		rc = run_uacme(a, nm->st.domain, args);
	}
	if (rc != 0) {
		set_error(a, nm, "issuance failed (uacme: %d); the current certificate keeps serving",
			  rc);
		return rc < 0 ? rc : -EPROTO;
	}
	return 0;
}

static void
after_issue(struct sl_acme *a, struct name *nm)
{
	char err[512] = "";
	int rc;

	refresh(a, nm, false);
	pthread_mutex_lock(&a->mu);
	nm->st.issued++;
	nm->st.last_success = now_s();
	nm->st.last_error[0] = '\0';
	pthread_mutex_unlock(&a->mu);
	acme_log("%s: certificate issued by '%s', serial %s, valid for %lld more days", nm->st.domain,
		 nm->st.issuer, nm->st.serial, (long long)((nm->st.not_after - now_s()) / 86400));
	rc = a->ops.reload != NULL ? a->ops.reload(a->ops.arg, err, sizeof(err)) : 0;
	if (rc != 0)
		acme_log("%s: reloading the certificates failed, the running ones stay: %s",
			 nm->st.domain, err);
	else
		acme_log("%s: certificate loaded (configuration reloaded, connections kept)",
			 nm->st.domain);
}

static void *
thread_main(void *arg)
{
	struct sl_acme *a = arg;

	pthread_mutex_lock(&a->mu);
	while (!a->stop) {
		int64_t now = now_s(), next = INT64_MAX;
		bool force = a->force;

		a->force = false;
		pthread_mutex_unlock(&a->mu);
		for (unsigned int i = 0; i < a->n_names && !__atomic_load_n(&a->stop, __ATOMIC_ACQUIRE);
		     i++) {
			struct name *nm = &a->names[i];

			if (!force && now < nm->next_try)
				continue;
			if (refresh(a, nm, force)) {
				if (issue(a, nm) == 0) {
					after_issue(a, nm);
					nm->backoff_s = 0;
					nm->next_try = now_s() + a->cfg.check_interval_ms / 1000;
				} else {
					unsigned int cap = a->cfg.check_interval_ms / 1000;

					nm->backoff_s = nm->backoff_s ? nm->backoff_s * 2 : RETRY_FIRST_S;
					if (nm->backoff_s > cap)
						nm->backoff_s = cap > 0 ? cap : 1;
					nm->next_try = now_s() + nm->backoff_s;
					acme_log("%s: next attempt in %u s", nm->st.domain, nm->backoff_s);
				}
			} else {
				nm->next_try = now + a->cfg.check_interval_ms / 1000;
			}
			pthread_mutex_lock(&a->mu);
			nm->st.next_check = nm->next_try;
			pthread_mutex_unlock(&a->mu);
		}
		for (unsigned int i = 0; i < a->n_names; i++)
			if (a->names[i].next_try < next)
				next = a->names[i].next_try;
		pthread_mutex_lock(&a->mu);
		if (!a->stop && !a->force) {
			struct timespec ts = {.tv_sec = next > now_s() ? next : now_s() + 1};

			pthread_cond_timedwait(&a->cv, &a->mu, &ts);
		}
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

int
sl_acme_start(const struct sl_config *cfg, const struct sl_acme_ops *ops, struct sl_acme **out,
	      char *err, size_t errlen)
{
	const struct sl_config_tls *t = &cfg->tls;
	struct sl_acme *a;
	pthread_condattr_t ca;
	unsigned int n_served = 0;
	ssize_t n;
	int rc;

	*out = NULL;
	if (!t->enabled || !t->auto_cert || t->domains.n == 0)
		return 0;
	for (unsigned int i = 0; i < t->domains.n; i++)
		if (!served(cfg, t->domains.items[i]))
			acme_log("%s: no TLS service without its own cert_file serves it; no "
				 "certificate is requested",
				 t->domains.items[i]);
		else
			n_served++;
	if (n_served == 0)
		return 0;
	a = calloc(1, sizeof(*a));
	if (a == NULL || (a->names = calloc(t->domains.n, sizeof(*a->names))) == NULL) {
		free(a);
		snprintf(err, errlen, "out of memory starting ACME");
		return -ENOMEM;
	}
	n = readlink("/proc/self/exe", a->self, sizeof(a->self) - 1);
	if (n <= 0) {
		rc = -errno;
		snprintf(err, errlen, "acme: cannot find the sluice binary for uacme's hook: %s",
			 strerror(errno));
		free(a->names);
		free(a);
		return rc;
	}
	a->self[n] = '\0';
	snprintf(a->cert_dir, sizeof(a->cert_dir), "%s", t->cert_dir);
	a->cfg = t->acme;
	a->ops = *ops;
	for (unsigned int i = 0; i < t->domains.n; i++)
		if (served(cfg, t->domains.items[i]))
			snprintf(a->names[a->n_names++].st.domain, sizeof(a->names[0].st.domain),
				 "%s", t->domains.items[i]);
	pthread_mutex_init(&a->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_REALTIME);
	pthread_cond_init(&a->cv, &ca);
	pthread_condattr_destroy(&ca);
	rc = -pthread_create(&a->thread, NULL, thread_main, a);
	if (rc != 0) {
		snprintf(err, errlen, "acme: cannot start its thread: %s", strerror(-rc));
		pthread_mutex_destroy(&a->mu);
		pthread_cond_destroy(&a->cv);
		free(a->names);
		free(a);
		return rc;
	}
	acme_log("automatic certificates for %u name(s) from %s into %s (renewed %u days before "
		 "expiry, checked every %u s)",
		 a->n_names, a->cfg.directory, a->cert_dir, a->cfg.renew_before_days,
		 a->cfg.check_interval_ms / 1000);
	*out = a;
	return 0;
}

void
sl_acme_renew_now(struct sl_acme *a)
{
	if (a == NULL)
		return;
	pthread_mutex_lock(&a->mu);
	a->force = true;
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
}

void
sl_acme_stop(struct sl_acme *a)
{
	if (a == NULL)
		return;
	pthread_mutex_lock(&a->mu);
	__atomic_store_n(&a->stop, true, __ATOMIC_RELEASE);
	if (a->child > 0)
		kill(a->child, SIGKILL);
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
	pthread_join(a->thread, NULL);
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cv);
	free(a->names);
	free(a);
}

unsigned int
sl_acme_n_names(const struct sl_acme *a)
{
	return a != NULL ? a->n_names : 0;
}

unsigned int
sl_acme_status(struct sl_acme *a, struct sl_acme_status *out, unsigned int max)
{
	unsigned int n = 0;

	if (a == NULL)
		return 0;
	pthread_mutex_lock(&a->mu);
	for (; n < a->n_names && n < max; n++)
		out[n] = a->names[n].st;
	pthread_mutex_unlock(&a->mu);
	return n;
}

int
sl_acme_metrics(void *arg, struct sl_prom *p)
{
	struct sl_acme *a = arg;
	struct sl_acme_status *st = calloc(a->n_names, sizeof(*st));
	unsigned int n = st != NULL ? sl_acme_status(a, st, a->n_names) : 0;
	int64_t now = now_s();
	int rc = 0;

	if (st == NULL)
		return -ENOMEM;
	rc |= sl_prom_begin(p, "sluice_acme_cert_expiry_seconds", SL_PROM_GAUGE,
			    "Seconds until the certificate on disk expires (negative: expired).");
	for (unsigned int i = 0; i < n; i++) {
		struct sl_prom_label l = {"domain", st[i].domain};

		rc |= sl_prom_double(p, &l, 1,
				     st[i].not_after ? (double)(st[i].not_after - now) : 0.0);
	}
	rc |= sl_prom_begin(p, "sluice_acme_last_success_timestamp_seconds", SL_PROM_GAUGE,
			    "Unix time of the last certificate issued by the ACME server (0: never).");
	for (unsigned int i = 0; i < n; i++) {
		struct sl_prom_label l = {"domain", st[i].domain};

		rc |= sl_prom_u64(p, &l, 1, (uint64_t)st[i].last_success);
	}
	rc |= sl_prom_begin(p, "sluice_acme_issued_total", SL_PROM_COUNTER,
			    "Certificates issued (first issuance and renewals).");
	for (unsigned int i = 0; i < n; i++) {
		struct sl_prom_label l = {"domain", st[i].domain};

		rc |= sl_prom_u64(p, &l, 1, st[i].issued);
	}
	rc |= sl_prom_begin(p, "sluice_acme_failures_total", SL_PROM_COUNTER,
			    "Failed account creations and issuances (each retried with backoff).");
	for (unsigned int i = 0; i < n; i++) {
		struct sl_prom_label l = {"domain", st[i].domain};

		rc |= sl_prom_u64(p, &l, 1, st[i].failures);
	}
	rc |= sl_prom_begin(p, "sluice_acme_placeholder", SL_PROM_GAUGE,
			    "1 while the self-signed placeholder is the certificate on disk.");
	for (unsigned int i = 0; i < n; i++) {
		struct sl_prom_label l = {"domain", st[i].domain};

		rc |= sl_prom_u64(p, &l, 1, st[i].placeholder);
	}
	free(st);
	return rc ? sl_prom_finish(p) : 0;
}
