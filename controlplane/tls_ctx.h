/* SPDX-License-Identifier: MIT */
#ifndef SL_TLS_CTX_H
#define SL_TLS_CTX_H

/*
 * TLS contexts (OpenSSL 3), built by the control plane from the configuration and shared
 * read-only with the workers, which will drive SSL objects over memory BIOs.
 *
 * One SSL_CTX per certificate (a cert_file/key_file pair): TLS 1.2 and 1.3 only, the cipher
 * policy of `tls.ciphers` / `tls.ciphersuites` (or a safe default), ALPN answering http/1.1,
 * and SNI: the default context's servername callback moves a connection to the context of the
 * service whose host matches (exact, then `*.example.com` for exactly one more label); a
 * client without SNI, or naming no known host, gets the default certificate (the global
 * tls.cert_file, else the first TLS service's).
 *
 * Session tickets use keys the control plane holds in a struct sl_tls_tickets and rotates:
 * tickets sealed with the current key are accepted, and with the previous one too (and
 * renewed), so one rotation never forces a full handshake; two do.
 *
 * Building is all or nothing: a missing, unreadable, malformed, expired or not yet valid
 * certificate, a bad key, a key that does not match its certificate or a cipher list OpenSSL
 * rejects fails with a sentence naming the file (or config file:line:col) and the reason, and
 * a reload keeps the running set.
 */

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "lib/config/config.h"

#define SL_TLS_DEFAULT_CIPHERS                                                                     \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                               \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                               \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define SL_TLS_DEFAULT_CIPHERSUITES                                                                \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

/* One ticket key: the 16-byte name sent in the ticket, AES-256-CBC and HMAC-SHA256 keys. */
struct sl_tls_ticket_key {
	uint8_t name[16];
	uint8_t aes_key[32];
	uint8_t hmac_key[32];
};

/* What a worker reads: immutable once published. */
struct sl_tls_ticket_keys {
	struct sl_tls_ticket_key current;
	struct sl_tls_ticket_key previous;
	int has_previous;
};

struct sl_tls_tickets; /* the control plane's holder of the published keys */

/* A fresh holder with a random current key. 0 or -errno. */
int sl_tls_tickets_create(struct sl_tls_tickets **out);
/*
 * A new random current key; the current one becomes the previous one and the previous one is
 * forgotten. Publishes a new immutable sl_tls_ticket_keys with one release store; the set it
 * replaces is freed at the next rotation (a worker holds the pointer only inside one ticket
 * callback, far shorter than a rotation period). Control plane only, one thread. 0 or -errno.
 */
int sl_tls_tickets_rotate(struct sl_tls_tickets *t);
/* The keys in force (an acquire load): what the workers' callback reads. */
const struct sl_tls_ticket_keys *sl_tls_tickets_keys(const struct sl_tls_tickets *t);
void sl_tls_tickets_free(struct sl_tls_tickets *t);

struct sl_tls; /* the built set of contexts */

/*
 * Build every context cfg asks for. tickets (may be NULL: no tickets issued) must outlive the
 * set. *out is NULL when the configuration has no TLS service and no global certificate.
 * 0 or -errno with the reason in err.
 */
int sl_tls_build(const struct sl_config *cfg, struct sl_tls_tickets *tickets, struct sl_tls **out,
		 char *err, size_t errlen);
/* The context a new server SSL starts from (SNI may move it to another one). */
SSL_CTX *sl_tls_default_ctx(const struct sl_tls *tls);
/* The context whose certificate serves host (lower case), or the default one. */
SSL_CTX *sl_tls_ctx_for_host(const struct sl_tls *tls, const char *host);
unsigned int sl_tls_n_certs(const struct sl_tls *tls);
void sl_tls_free(struct sl_tls *tls);

/*
 * One certificate and key checked alone (what sl_tls_build does per pair): 0 or -errno with
 * "file: reason" in err. now = 0 means time(NULL).
 */
int sl_tls_check_pair(const char *cert_file, const char *key_file, int64_t now, char *err,
		      size_t errlen);

/*
 * A client context for HTTPS backends with the settings bt (a location's effective
 * backend_tls): TLS 1.2 and 1.3, ALPN offering http/1.1, no renegotiation, the peer verified
 * against bt->ca_file unless bt->verify is false (then any certificate is taken), the client
 * certificate bt->cert_file/key_file shown to a backend that asks (checked as a service's
 * pair: in date, the key its certificate's, no passphrase). Tickets are
 * accepted but OpenSSL's session cache is off: its client mode takes the context's lock for
 * every ticket received, which all workers would share; the caller keeps the sessions it
 * wants to resume (SSL_get0_session after the handshake and after tickets arrive).
 * 0, or -errno with "config:line:col: backend_tls ca_file F: reason" in err (an unreadable file,
 * no certificate in it).
 */
int sl_tls_client_ctx(const struct sl_config *cfg, const struct sl_config_backend_tls *bt,
		      SSL_CTX **out, char *err, size_t errlen);

#endif
