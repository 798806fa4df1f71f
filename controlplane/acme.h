/* SPDX-License-Identifier: MIT */
#ifndef SL_ACME_H
#define SL_ACME_H

/*
 * Automatic certificates (tls.auto_cert): the control plane obtains and renews a certificate
 * per name of tls.domains that a TLS service without its own cert_file serves (its host), from
 * the ACME server tls.acme.directory (RFC 8555), with HTTP-01 challenges that the workers
 * answer on the services' plain port (dataplane/proxy/px_plain.c). Other names of tls.domains
 * are logged and left alone.
 *
 * The protocol is Debian's `uacme`, run as a child process from a control-plane thread (never
 * from a worker): `uacme -c CERT_DIR -a DIRECTORY -h SLUICE -f -y issue NAME`. Its hook
 * program is the sluice binary itself: started with SLUICE_ACME_HOOK_FD=N in its environment
 * it is the hook (sl_acme_hook_main), sends "begin|done|failed TYPE IDENT TOKEN AUTH" over the
 * socket N (a SOCK_SEQPACKET pair the thread made for this run) and exits with the thread's
 * verdict: for "begin http-01" the thread publishes token -> key authorization to the workers
 * and answers only when every worker sees it (sl_acme_chal_set), so the ACME server's
 * validation request that follows finds it; "done"/"failed" withdraw it. Other challenge
 * types are declined.
 *
 * Files, in uacme's layout under tls.cert_dir (what sl_tls_build reads for a TLS service
 * without cert_file whose host is in tls.domains):
 *   DIR/private/key.pem         the ACME account key (uacme makes it: `uacme new`)
 *   DIR/NAME/cert.pem           the certificate chain
 *   DIR/private/NAME/key.pem    its key (kept across renewals)
 * Until a name has a certificate, sl_acme_prepare writes a self-signed placeholder there
 * (subject O=SL_ACME_PLACEHOLDER_ORG, logged), so the TLS service can start; a placeholder is
 * replaced at the first check.
 *
 * Renewal: at start and every tls.acme.check_interval (12 h) each name whose certificate is a
 * placeholder, unreadable, or expires within renew_before_days is (re)issued. A failure is
 * logged and retried after 1 min, doubling up to the check interval; the old certificate keeps
 * serving. After an issuance the configuration is reloaded through the same path as SIGHUP
 * (live connections stay; the new TLS contexts load the new files).
 *
 * tls.acme.ca_file: a PEM bundle uacme trusts instead of the system's (a private or test ACME
 * server). uacme's libcurl (GnuTLS) reads only /etc/ssl/certs/ca-certificates.crt, so the child
 * enters a private mount namespace and bind-mounts ca_file there before exec (root only).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/config/config.h"

#define SL_ACME_PLACEHOLDER_ORG "sluice placeholder (ACME pending)"
#define SL_ACME_HOOK_ENV "SLUICE_ACME_HOOK_FD"
#define SL_ACME_UACME "uacme" /* found on PATH; SLUICE_UACME overrides (tests) */

struct sl_prom;
struct sl_acme;

/* What the thread calls into (main.c wires them to the data plane and the runtime config). */
struct sl_acme_ops {
	/* Publish token -> keyauth to the workers (keyauth NULL: withdraw). 0 once every worker
	 * sees it, or -errno. */
	int (*publish)(void *arg, const char *token, const char *keyauth);
	/* Load the certificate files again (a configuration reload). 0 or -errno with err. */
	int (*reload)(void *arg, char *err, size_t errlen);
	void *arg;
};

/*
 * At start, before the TLS contexts are built: cert_dir and its private/ part exist, and every
 * name of tls.domains without a certificate gets a self-signed placeholder (logged). Nothing
 * to do without auto_cert. 0 or -errno with a sentence in err.
 */
int sl_acme_prepare(const struct sl_config *cfg, char *err, size_t errlen);

/* Start the renewal thread (auto_cert only; *out NULL otherwise). cfg is copied. */
int sl_acme_start(const struct sl_config *cfg, const struct sl_acme_ops *ops, struct sl_acme **out,
		  char *err, size_t errlen);
/* Stop the thread (a running uacme is killed) and free. NULL is fine. */
void sl_acme_stop(struct sl_acme *a);
/* Renew every name now, whatever its expiry (POST /api/tls/renew). */
void sl_acme_renew_now(struct sl_acme *a);

/* One name's state, for the API and the metrics. */
struct sl_acme_status {
	char domain[SL_CONFIG_HOST_MAX];
	char issuer[256];	 /* the certificate's issuer, one line; "" none */
	char serial[80];	 /* hex */
	int64_t not_after;	 /* unix time, 0 unknown */
	int64_t last_success;	 /* unix time of the last issuance, 0 never */
	int64_t next_check;	 /* unix time */
	uint64_t issued, failures;
	bool placeholder;	 /* the self-signed stand-in is what is on disk */
	char last_error[256];
};
unsigned int sl_acme_n_names(const struct sl_acme *a);
/* Up to max names' states; returns how many. */
unsigned int sl_acme_status(struct sl_acme *a, struct sl_acme_status *out, unsigned int max);
/* sluice_acme_* families into p (api_metrics' extra hook). 0 or -errno. */
int sl_acme_metrics(void *a, struct sl_prom *p);

/* The hook mode of the sluice binary: argv = {prog, METHOD, TYPE, IDENT, TOKEN, AUTH}. */
int sl_acme_hook_main(int argc, char **argv);

/*
 * The certificate file: its issuer (one line), serial, notAfter, whether it is our placeholder.
 * 0 or -errno. Used by the thread; exposed for tests.
 */
int sl_acme_cert_info(const char *path, char *issuer, size_t issuer_len, char *serial,
		      size_t serial_len, int64_t *not_after, bool *placeholder);
/* Write a self-signed placeholder for name (EC P-256, 90 days) to cert/key paths. 0 or -errno. */
int sl_acme_write_placeholder(const char *name, const char *cert_path, const char *key_path);

#endif
