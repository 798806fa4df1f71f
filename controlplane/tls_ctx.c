/* SPDX-License-Identifier: MIT */
/*
 * TLS contexts and session-ticket keys (see tls_ctx.h). Runs in the control plane: building
 * reads files and allocates freely. What the workers will run per handshake is the three
 * callbacks (servername, ALPN, ticket key): no allocation of ours, no lock, no system call.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "tls_ctx.h"

#define CERT_FILE_MAX (1 << 20) /* a PEM file larger than this is not a certificate chain */

struct sl_tls_tickets {
	_Atomic(struct sl_tls_ticket_keys *) live;
	struct sl_tls_ticket_keys *retired; /* replaced at the last rotation; freed at the next */
	EVP_CIPHER *aes;		    /* fetched once: no provider lookup per ticket */
};

struct cert {
	char cert_file[SL_CONFIG_PATH_MAX];
	char key_file[SL_CONFIG_PATH_MAX];
	SSL_CTX *ctx;
};

struct host {
	const char *name; /* the service's host: "a.example.com" or "*.example.com" */
	SSL_CTX *ctx;
};

struct sl_tls {
	struct cert *certs;
	unsigned int n_certs;
	struct host *hosts;
	unsigned int n_hosts;
	SSL_CTX *dflt;
	struct sl_tls_tickets *tickets;
};

/* ------------------------------------------------------------------ ticket keys */

static int
new_key(struct sl_tls_ticket_key *k)
{
	if (RAND_bytes(k->name, sizeof(k->name)) != 1 ||
	    RAND_priv_bytes(k->aes_key, sizeof(k->aes_key)) != 1 ||
	    RAND_priv_bytes(k->hmac_key, sizeof(k->hmac_key)) != 1)
		return -EIO;
	return 0;
}

int
sl_tls_tickets_create(struct sl_tls_tickets **out)
{
	struct sl_tls_tickets *t = calloc(1, sizeof(*t));
	struct sl_tls_ticket_keys *k = calloc(1, sizeof(*k));

	*out = NULL;
	if (!t || !k)
		goto fail;
	t->aes = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
	if (!t->aes || new_key(&k->current) < 0)
		goto fail;
	atomic_store_explicit(&t->live, k, memory_order_release);
	*out = t;
	return 0;
fail:
	if (t)
		EVP_CIPHER_free(t->aes);
	free(t);
	free(k);
	return -ENOMEM;
}

int
sl_tls_tickets_rotate(struct sl_tls_tickets *t)
{
	struct sl_tls_ticket_keys *old = atomic_load_explicit(&t->live, memory_order_relaxed);
	struct sl_tls_ticket_keys *k = calloc(1, sizeof(*k));

	if (!k)
		return -ENOMEM;
	if (new_key(&k->current) < 0) {
		OPENSSL_cleanse(k, sizeof(*k));
		free(k);
		return -EIO;
	}
	k->previous = old->current;
	k->has_previous = 1;
	atomic_store_explicit(&t->live, k, memory_order_release);
	if (t->retired) {
		OPENSSL_cleanse(t->retired, sizeof(*t->retired));
		free(t->retired);
	}
	t->retired = old;
	return 0;
}

const struct sl_tls_ticket_keys *
sl_tls_tickets_keys(const struct sl_tls_tickets *t)
{
	return atomic_load_explicit(&((struct sl_tls_tickets *)t)->live, memory_order_acquire);
}

void
sl_tls_tickets_free(struct sl_tls_tickets *t)
{
	struct sl_tls_ticket_keys *k;

	if (!t)
		return;
	k = atomic_load_explicit(&t->live, memory_order_relaxed);
	OPENSSL_cleanse(k, sizeof(*k));
	free(k);
	if (t->retired) {
		OPENSSL_cleanse(t->retired, sizeof(*t->retired));
		free(t->retired);
	}
	EVP_CIPHER_free(t->aes);
	free(t);
}

/*
 * OpenSSL's ticket callback: enc = 1 seals a new ticket with the current key; enc = 0 finds
 * the key a ticket names. Returns 1 (use it), 2 (use it and issue a fresh ticket: the previous
 * key), 0 (unknown key: full handshake) or -1 (error).
 */
static int
ticket_key_cb(SSL *s, unsigned char key_name[16], unsigned char iv[EVP_MAX_IV_LENGTH],
	      EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	static char sha256[] = "SHA256";
	const struct sl_tls *tls = SSL_CTX_get_app_data(SSL_get_SSL_CTX(s));
	const struct sl_tls_ticket_keys *k = sl_tls_tickets_keys(tls->tickets);
	const struct sl_tls_ticket_key *key;
	OSSL_PARAM params[3];
	int rc = 1;

	if (enc) {
		key = &k->current;
		memcpy(key_name, key->name, sizeof(key->name));
		if (RAND_bytes(iv, 16) != 1 ||
		    !EVP_EncryptInit_ex(cctx, tls->tickets->aes, NULL, key->aes_key, iv))
			return -1;
	} else {
		if (!memcmp(key_name, k->current.name, sizeof(k->current.name))) {
			key = &k->current;
		} else if (k->has_previous &&
			   !memcmp(key_name, k->previous.name, sizeof(k->previous.name))) {
			key = &k->previous;
			rc = 2;
		} else {
			return 0;
		}
		if (!EVP_DecryptInit_ex(cctx, tls->tickets->aes, NULL, key->aes_key, iv))
			return -1;
	}
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)key->hmac_key,
						      sizeof(key->hmac_key));
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, sha256, 0);
	params[2] = OSSL_PARAM_construct_end();
	return EVP_MAC_CTX_set_params(hctx, params) ? rc : -1;
}

/* ------------------------------------------------------------------ SNI and ALPN */

/* host (lower case) against the table: an exact name first, then "*.suffix" for one label. */
static SSL_CTX *
lookup(const struct sl_tls *tls, const char *host)
{
	const char *dot = strchr(host, '.');

	for (unsigned int i = 0; i < tls->n_hosts; i++)
		if (!strcmp(tls->hosts[i].name, host))
			return tls->hosts[i].ctx;
	if (!dot || dot == host)
		return NULL;
	for (unsigned int i = 0; i < tls->n_hosts; i++) {
		const char *n = tls->hosts[i].name;

		if (n[0] == '*' && n[1] == '.' && !strcmp(n + 1, dot))
			return tls->hosts[i].ctx;
	}
	return NULL;
}

SSL_CTX *
sl_tls_ctx_for_host(const struct sl_tls *tls, const char *host)
{
	SSL_CTX *ctx = host ? lookup(tls, host) : NULL;

	return ctx ? ctx : tls->dflt;
}

/* Names are case-insensitive (RFC 6066 sends them as written); the table is lower case. */
static int
servername_cb(SSL *s, int *alert, void *arg)
{
	const struct sl_tls *tls = arg;
	const char *name = SSL_get_servername(s, TLSEXT_NAMETYPE_host_name);
	char lower[SL_CONFIG_HOST_MAX];
	SSL_CTX *ctx;
	size_t i;

	if (!name)
		return SSL_TLSEXT_ERR_OK; /* no SNI: the default certificate */
	for (i = 0; name[i] && i < sizeof(lower) - 1; i++)
		lower[i] = (name[i] >= 'A' && name[i] <= 'Z') ? (char)(name[i] + 32) : name[i];
	if (name[i])
		return SSL_TLSEXT_ERR_OK; /* longer than any DNS name: no match */
	lower[i] = '\0';
	ctx = sl_tls_ctx_for_host(tls, lower);
	if (ctx != SSL_get_SSL_CTX(s) && !SSL_set_SSL_CTX(s, ctx)) {
		*alert = SSL_AD_INTERNAL_ERROR;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	return SSL_TLSEXT_ERR_OK;
}

/*
 * ALPN: http/1.1 or nothing. A client that offers protocols but not http/1.1 gets the
 * no_application_protocol alert (RFC 7301 section 3.2) rather than a silent mismatch.
 */
static int
alpn_cb(SSL *s, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
	unsigned int inlen, void *arg)
{
	static const unsigned char ours[] = "\x08http/1.1";
	unsigned char *sel;

	if (SSL_select_next_proto(&sel, outlen, ours, sizeof(ours) - 1, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/* ------------------------------------------------------------------ certificate files */

/* The last OpenSSL reason, for a message; the error queue is emptied. */
static const char *
ossl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	return r ? r : "unknown error";
}

/* The whole file as a memory BIO (a regular file, at most 1 MiB). NULL with err set. */
static BIO *
read_file(const char *path, char *err, size_t errlen)
{
	struct stat st;
	BIO *bio = NULL;
	char *buf = NULL;
	ssize_t n = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size > CERT_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes; not a certificate or key", path,
			 CERT_FILE_MAX);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	for (off_t got = 0; got < st.st_size; got += n) {
		n = read(fd, buf + got, (size_t)(st.st_size - got));
		if (n <= 0) {
			snprintf(err, errlen, "%s: cannot read: %s", path,
				 n < 0 ? strerror(errno) : "file shrank while read");
			goto out;
		}
	}
	bio = BIO_new(BIO_s_mem());
	if (!bio || BIO_write(bio, buf, (int)st.st_size) != (int)st.st_size) {
		BIO_free(bio);
		bio = NULL;
		snprintf(err, errlen, "%s: out of memory", path);
	}
out:
	if (buf)
		OPENSSL_cleanse(buf, (size_t)st.st_size);
	free(buf);
	close(fd);
	return bio;
}

/* A passphrase callback that refuses: an encrypted key must fail, never prompt on a tty. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

static void
day_of(const ASN1_TIME *t, char *out, size_t len)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1 || !strftime(out, len, "%Y-%m-%d", &tm))
		snprintf(out, len, "an unreadable date");
}

/*
 * Certificate (the leaf, then any chain after it) and key, checked: in date at `now`, and the
 * key the certificate's. 0, or -EINVAL (-ENOMEM) with "file: reason" in err.
 */
static int
load_pair(const char *cert_file, const char *key_file, time_t now, X509 **leaf,
	  STACK_OF(X509) * *chain, EVP_PKEY **pkey, char *err, size_t errlen)
{
	BIO *cb = NULL, *kb = NULL;
	X509 *x;
	char day[32];
	int rc = -EINVAL;

	*leaf = NULL;
	*chain = NULL;
	*pkey = NULL;
	ERR_clear_error();
	if (!(cb = read_file(cert_file, err, errlen)))
		goto fail;
	*leaf = PEM_read_bio_X509(cb, NULL, no_passphrase, NULL);
	if (!*leaf) {
		snprintf(err, errlen, "%s: no PEM certificate in it (%s)", cert_file,
			 ossl_reason());
		goto fail;
	}
	if (!(*chain = sk_X509_new_null()))
		goto nomem;
	while ((x = PEM_read_bio_X509(cb, NULL, no_passphrase, NULL))) {
		if (!sk_X509_push(*chain, x)) {
			X509_free(x);
			goto nomem;
		}
	}
	if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE) {
		snprintf(err, errlen, "%s: certificate %d of the chain is malformed (%s)",
			 cert_file, sk_X509_num(*chain) + 2, ossl_reason());
		goto fail;
	}
	ERR_clear_error();
	if (X509_cmp_time(X509_get0_notAfter(*leaf), &now) <= 0) {
		day_of(X509_get0_notAfter(*leaf), day, sizeof(day));
		snprintf(err, errlen, "%s: certificate expired on %s", cert_file, day);
		goto fail;
	}
	if (X509_cmp_time(X509_get0_notBefore(*leaf), &now) > 0) {
		day_of(X509_get0_notBefore(*leaf), day, sizeof(day));
		snprintf(err, errlen, "%s: certificate is not valid before %s", cert_file, day);
		goto fail;
	}
	if (!(kb = read_file(key_file, err, errlen)))
		goto fail;
	*pkey = PEM_read_bio_PrivateKey(kb, NULL, no_passphrase, NULL);
	if (!*pkey) {
		snprintf(err, errlen,
			 "%s: no PEM private key in it (%s); keys with a passphrase are not "
			 "supported",
			 key_file, ossl_reason());
		goto fail;
	}
	if (X509_check_private_key(*leaf, *pkey) != 1) {
		ERR_clear_error();
		snprintf(err, errlen, "%s: key does not match certificate %s", key_file, cert_file);
		goto fail;
	}
	rc = 0;
	goto out;
nomem:
	snprintf(err, errlen, "%s: out of memory", cert_file);
	rc = -ENOMEM;
fail:
	X509_free(*leaf);
	sk_X509_pop_free(*chain, X509_free);
	EVP_PKEY_free(*pkey);
	*leaf = NULL;
	*chain = NULL;
	*pkey = NULL;
out:
	BIO_free(cb);
	BIO_free(kb);
	return rc;
}

int
sl_tls_check_pair(const char *cert_file, const char *key_file, int64_t now, char *err,
		  size_t errlen)
{
	STACK_OF(X509) * chain;
	EVP_PKEY *pkey;
	X509 *leaf;
	int rc;

	rc = load_pair(cert_file, key_file, now ? (time_t)now : time(NULL), &leaf, &chain, &pkey,
		       err, errlen);
	if (rc == 0) {
		X509_free(leaf);
		sk_X509_pop_free(chain, X509_free);
		EVP_PKEY_free(pkey);
	}
	return rc;
}

/* ------------------------------------------------------------------ contexts */

static SSL_CTX *
new_ctx(const struct sl_config *cfg, struct sl_tls *tls, const char *cert_file,
	const char *key_file, char *err, size_t errlen)
{
	const struct sl_config_tls *g = &cfg->tls;
	const char *ciphers = g->ciphers[0] ? g->ciphers : SL_TLS_DEFAULT_CIPHERS;
	const char *suites = g->ciphersuites[0] ? g->ciphersuites : SL_TLS_DEFAULT_CIPHERSUITES;
	STACK_OF(X509) *chain = NULL;
	EVP_PKEY *pkey = NULL;
	X509 *leaf = NULL;
	SSL_CTX *ctx;

	if (load_pair(cert_file, key_file, time(NULL), &leaf, &chain, &pkey, err, errlen) < 0)
		return NULL;
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION)) {
		snprintf(err, errlen, "cannot make a TLS context: %s", ossl_reason());
		goto fail;
	}
	if (!SSL_CTX_set_cipher_list(ctx, ciphers)) {
		ERR_clear_error();
		snprintf(err, errlen, "%s:%u:%u: tls.ciphers: OpenSSL knows no cipher in '%s'",
			 cfg->file, g->ciphers_line, g->ciphers_col, ciphers);
		goto fail;
	}
	if (!SSL_CTX_set_ciphersuites(ctx, suites)) {
		snprintf(err, errlen, "tls.ciphersuites '%s' refused by OpenSSL: %s", suites,
			 ossl_reason());
		goto fail;
	}
	/* Renegotiation is an attack surface and nothing HTTP/1.1 needs; compression is CRIME. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
				     SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* No server-side session cache (a locked table shared by every worker): tickets only. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"sluice", 6);
	if (tls->tickets)
		SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_key_cb);
	else
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, NULL);
	SSL_CTX_set_tlsext_servername_callback(ctx, servername_cb);
	SSL_CTX_set_tlsext_servername_arg(ctx, tls);
	SSL_CTX_set_app_data(ctx, tls);
	if (SSL_CTX_use_certificate(ctx, leaf) != 1 || SSL_CTX_use_PrivateKey(ctx, pkey) != 1 ||
	    SSL_CTX_set1_chain(ctx, chain) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "%s: OpenSSL refuses the certificate or key (%s)", cert_file,
			 ossl_reason());
		goto fail;
	}
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	EVP_PKEY_free(pkey);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	EVP_PKEY_free(pkey);
	return NULL;
}

/* The context of a cert/key pair, made once however many services name it. */
static SSL_CTX *
ctx_of(const struct sl_config *cfg, struct sl_tls *tls, const char *cert_file, const char *key_file,
       char *err, size_t errlen)
{
	struct cert *c;

	for (unsigned int i = 0; i < tls->n_certs; i++)
		if (!strcmp(tls->certs[i].cert_file, cert_file) &&
		    !strcmp(tls->certs[i].key_file, key_file))
			return tls->certs[i].ctx;
	c = &tls->certs[tls->n_certs];
	if (!(c->ctx = new_ctx(cfg, tls, cert_file, key_file, err, errlen)))
		return NULL;
	snprintf(c->cert_file, sizeof(c->cert_file), "%s", cert_file);
	snprintf(c->key_file, sizeof(c->key_file), "%s", key_file);
	tls->n_certs++;
	return c->ctx;
}

int
sl_tls_build(const struct sl_config *cfg, struct sl_tls_tickets *tickets, struct sl_tls **out,
	     char *err, size_t errlen)
{
	const struct sl_config_tls *g = &cfg->tls;
	bool global = g->enabled && g->cert_file[0];
	SSL_CTX *any_host = NULL, *first = NULL, *ctx;
	struct sl_tls *tls;
	int rc = -EINVAL;

	*out = NULL;
	if (!(tls = calloc(1, sizeof(*tls))))
		return -ENOMEM;
	tls->tickets = tickets;
	tls->certs = calloc(cfg->n_services + 1, sizeof(*tls->certs));
	tls->hosts = calloc(cfg->n_services + 1, sizeof(*tls->hosts));
	if (!tls->certs || !tls->hosts) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (global && !(first = ctx_of(cfg, tls, g->cert_file, g->key_file, err, errlen)))
		goto fail;
	for (unsigned int i = 0; i < cfg->n_services; i++) {
		const struct sl_config_service *s = &cfg->services[i];

		if (!s->tls.enabled)
			continue;
		if (s->tls.cert_file[0])
			ctx = ctx_of(cfg, tls, s->tls.cert_file, s->tls.key_file, err, errlen);
		else if (g->enabled && g->cert_dir[0] && s->host[0] && (g->auto_cert || !global)) {
			/* cert_dir in uacme's layout (controlplane/acme.c keeps it filled):
			 * DIR/<host>/cert.pem and DIR/private/<host>/key.pem */
			char cf[SL_CONFIG_PATH_MAX + SL_CONFIG_HOST_MAX + 16];
			char kf[SL_CONFIG_PATH_MAX + SL_CONFIG_HOST_MAX + 24];

			snprintf(cf, sizeof(cf), "%s/%s/cert.pem", g->cert_dir, s->host);
			snprintf(kf, sizeof(kf), "%s/private/%s/key.pem", g->cert_dir, s->host);
			ctx = ctx_of(cfg, tls, cf, kf, err, errlen);
		} else if (global)
			ctx = first;
		else {
			snprintf(err, errlen,
				 "service '%s' (line %u): tls without cert_file needs a global "
				 "tls.cert_file, or tls.cert_dir and a host",
				 s->name, s->line);
			goto fail;
		}
		if (!ctx)
			goto fail;
		if (!first)
			first = ctx;
		if (!s->host[0] || !strcmp(s->host, "*")) {
			if (!any_host)
				any_host = ctx;
			continue;
		}
		/* a copy: the set outlives the configuration snapshot it came from */
		if (!(tls->hosts[tls->n_hosts].name = strdup(s->host))) {
			rc = -ENOMEM;
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		tls->hosts[tls->n_hosts].ctx = ctx;
		tls->n_hosts++;
	}
	if (!first) {
		sl_tls_free(tls);
		return 0; /* no TLS in this configuration */
	}
	/* The global certificate, else the one of a service for any host, else the first. */
	tls->dflt = global ? first : any_host ? any_host : first;
	*out = tls;
	return 0;
fail:
	sl_tls_free(tls);
	return rc;
}

SSL_CTX *
sl_tls_default_ctx(const struct sl_tls *tls)
{
	return tls->dflt;
}

unsigned int
sl_tls_n_certs(const struct sl_tls *tls)
{
	return tls->n_certs;
}

void
sl_tls_free(struct sl_tls *tls)
{
	if (!tls)
		return;
	for (unsigned int i = 0; i < tls->n_certs; i++)
		SSL_CTX_free(tls->certs[i].ctx);
	for (unsigned int i = 0; tls->hosts && i < tls->n_hosts; i++)
		free((char *)tls->hosts[i].name);
	free(tls->certs);
	free(tls->hosts);
	free(tls);
}

/* ------------------------------------------------------------------ HTTPS backends */

int
sl_tls_client_ctx(const struct sl_config *cfg, const struct sl_config_backend_tls *bt,
		  SSL_CTX **out, char *err, size_t errlen)
{
	static const unsigned char alpn[] = "\x08http/1.1";
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	*out = NULL;
	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
	    SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1) != 0) {
		snprintf(err, errlen, "cannot make a TLS client context: %s", ossl_reason());
		SSL_CTX_free(ctx);
		return -ENOMEM;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	if (bt->verify) {
		if (SSL_CTX_load_verify_locations(ctx, bt->ca_file, NULL) != 1) {
			if (bt->ca_line)
				snprintf(err, errlen, "%s:%u:%u: backend_tls ca_file %s: %s",
					 cfg->file, bt->ca_line, bt->ca_col, bt->ca_file,
					 ossl_reason());
			else
				snprintf(err, errlen,
					 "backend_tls ca_file %s (the default): %s; name a CA "
					 "bundle with backend_tls.ca_file",
					 bt->ca_file, ossl_reason());
			SSL_CTX_free(ctx);
			return -EINVAL;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	}
	if (bt->cert_file[0]) { /* mutual TLS: checked as a service's pair is */
		STACK_OF(X509) *chain;
		EVP_PKEY *pkey;
		X509 *leaf;
		char why[400];
		int rc = load_pair(bt->cert_file, bt->key_file, time(NULL), &leaf, &chain, &pkey,
				   why, sizeof(why));

		if (rc == 0 && (SSL_CTX_use_certificate(ctx, leaf) != 1 ||
				SSL_CTX_use_PrivateKey(ctx, pkey) != 1 ||
				SSL_CTX_set1_chain(ctx, chain) != 1)) {
			snprintf(why, sizeof(why), "%.200s: OpenSSL refuses the certificate or key (%s)",
				 bt->cert_file, ossl_reason());
			rc = -EINVAL;
		}
		X509_free(leaf);
		sk_X509_pop_free(chain, X509_free);
		EVP_PKEY_free(pkey);
		if (rc != 0) {
			snprintf(err, errlen, "%s:%u:%u: backend_tls cert_file: %s", cfg->file,
				 bt->cert_line, bt->cert_col, why);
			SSL_CTX_free(ctx);
			return rc;
		}
	}
	/* No cache (its client mode locks the shared context per ticket): the workers keep the
	 * sessions they resume with, per backend (px_tls.c). */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	*out = ctx;
	return 0;
}
