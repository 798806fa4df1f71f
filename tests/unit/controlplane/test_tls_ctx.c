/* SPDX-License-Identifier: MIT */
/*
 * controlplane/tls_ctx.c: certificates are made here with OpenSSL's API in a temporary
 * directory (a CA; leaves for a.example.com, *.w.example.com and default.example; an expired
 * leaf; a key that matches nothing); handshakes run in-process between a client SSL and a
 * server SSL joined by a BIO pair, exactly what a worker's memory BIOs will see.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <CUnit/Basic.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "controlplane/tls_ctx.h"
#include "cunit_main.h"

static char dir[64];
static EVP_PKEY *ca_key;
static X509 *ca;

/* ------------------------------------------------------------------ making certificates */

/* Certificates are made in the suite's set-up, where CUnit's assertions cannot run. */
#define MUST(x)                                                                                    \
	do {                                                                                       \
		if (!(x)) {                                                                        \
			fprintf(stderr, "%s:%d: making certificates: %s failed\n", __FILE__,       \
				__LINE__, #x);                                                     \
			ERR_print_errors_fp(stderr);                                               \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

static char *
path_of(const char *name)
{
	static char bufs[8][256];
	static unsigned int next;
	char *b = bufs[next++ % 8];

	snprintf(b, 256, "%s/%s", dir, name);
	return b;
}

static EVP_PKEY *
new_key(const char *type)
{
	return strcmp(type, "rsa") ? EVP_EC_gen("P-256") : EVP_RSA_gen(2048);
}

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *e;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	MUST(e);
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
}

/* A certificate for key signed by the CA (or self-signed when ca is NULL), valid [from, to]. */
static X509 *
make_cert(EVP_PKEY *key, const char *cn, const char *san, const char *from, const char *to)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();

	MUST(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, ca ? X509_get_subject_name(ca) : name);
	X509_NAME_free(name);
	if (from)
		ASN1_TIME_set_string(X509_getm_notBefore(x), from);
	else
		X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	if (to)
		ASN1_TIME_set_string(X509_getm_notAfter(x), to);
	else
		X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400);
	X509_set_pubkey(x, key);
	if (san) {
		add_ext(x, ca, NID_subject_alt_name, san);
	} else {
		add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
	}
	MUST(X509_sign(x, ca ? ca_key : key, EVP_sha256()) > 0);
	return x;
}

static void
write_pem(const char *name, X509 *x, EVP_PKEY *k)
{
	FILE *f = fopen(path_of(name), "w");

	MUST(f);
	if (x)
		MUST(PEM_write_X509(f, x) == 1);
	if (k)
		MUST(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1);
	fclose(f);
}

/* name.pem (leaf then CA: a chain) and name.key; the key is returned for mismatches. */
static void
make_leaf(const char *name, const char *type, const char *cn, const char *from, const char *to)
{
	char san[300], file[64];
	EVP_PKEY *k = new_key(type);
	X509 *x;

	MUST(k);
	snprintf(san, sizeof(san), "DNS:%s", cn);
	x = make_cert(k, cn, san, from, to);
	snprintf(file, sizeof(file), "%s.pem", name);
	{
		FILE *f = fopen(path_of(file), "w");

		MUST(f);
		PEM_write_X509(f, x);
		PEM_write_X509(f, ca);
		fclose(f);
	}
	snprintf(file, sizeof(file), "%s.key", name);
	write_pem(file, NULL, k);
	X509_free(x);
	EVP_PKEY_free(k);
}

static int
suite_init(void)
{
	EVP_PKEY *other;
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/sl-tls-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	ca_key = new_key("ec");
	ca = make_cert(ca_key, "sluice test CA", NULL, NULL, NULL);
	write_pem("ca.pem", ca, NULL);
	make_leaf("a", "ec", "a.example.com", NULL, NULL);
	make_leaf("w", "ec", "*.w.example.com", NULL, NULL);
	make_leaf("d", "ec", "default.example", NULL, NULL);
	make_leaf("expired", "ec", "old.example.com", "20240101000000Z", "20250101000000Z");
	other = new_key("ec");
	write_pem("other.key", NULL, other);
	EVP_PKEY_free(other);
	f = fopen(path_of("garbage.pem"), "w");
	fputs("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n", f);
	fclose(f);
	mkdir(path_of("adir"), 0700);
	return 0;
}

static int
suite_clean(void)
{
	char cmd[128];

	X509_free(ca);
	EVP_PKEY_free(ca_key);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------ helpers */

static struct sl_config *
load(const char *yaml)
{
	struct sl_config *cfg = NULL;
	struct sl_config_error err;
	char msg[1024];

	if (sl_config_load_buffer("tls.yaml", yaml, strlen(yaml), &cfg, &err) < 0) {
		sl_config_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "\n  config: %s\n", msg);
	}
	return cfg;
}

#define BACKEND "    locations: [{path: /, backends: [{url: http://198.18.0.11}]}]\n"

/* Load yaml, build the set and free the configuration (the set must not need it). */
static int
build_yaml(const char *yaml, struct sl_tls_tickets *t, struct sl_tls **out, char *err,
	   size_t errlen)
{
	struct sl_config *cfg = load(yaml);
	int rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	*out = (struct sl_tls *)1; /* must be reset whatever happens */
	rc = sl_tls_build(cfg, t, out, err, errlen);
	sl_config_free(cfg);
	return rc;
}

/* Two TLS services with their own hosts and pairs (<pair>.pem and <pair>.key), no global one. */
static const char *
two_services(const char *host1, const char *pair1, const char *host2, const char *pair2)
{
	static char yaml[2048];

	snprintf(yaml, sizeof(yaml),
		 "services:\n  - name: s1\n    host: \"%s\"\n"
		 "    tls: {cert_file: %s/%s.pem, key_file: %s/%s.key}\n" BACKEND
		 "  - name: s2\n    host: \"%s\"\n"
		 "    tls: {cert_file: %s/%s.pem, key_file: %s/%s.key}\n" BACKEND,
		 host1, dir, pair1, dir, pair1, host2, dir, pair2, dir, pair2);
	return yaml;
}

/* The standard set: a global default certificate, a.example.com, *.w.example.com. */
static struct sl_tls *
build_std(struct sl_tls_tickets *t)
{
	char yaml[2048], err[512];
	struct sl_tls *tls;

	snprintf(yaml, sizeof(yaml),
		 "tls: {cert_file: %s/d.pem, key_file: %s/d.key}\n"
		 "services:\n"
		 "  - name: a\n    host: a.example.com\n"
		 "    tls: {cert_file: %s/a.pem, key_file: %s/a.key}\n" BACKEND
		 "  - name: w\n    host: \"*.w.example.com\"\n"
		 "    tls: {cert_file: %s/w.pem, key_file: %s/w.key}\n" BACKEND
		 "  - name: a2\n    host: a2.example.com\n"
		 "    tls: {cert_file: %s/a.pem, key_file: %s/a.key}\n" BACKEND,
		 dir, dir, dir, dir, dir, dir, dir, dir);
	if (build_yaml(yaml, t, &tls, err, sizeof(err)) < 0)
		fprintf(stderr, "\n  build: %s\n", err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tls);
	return tls;
}

static SSL_CTX *
client_ctx(int min, int max)
{
	SSL_CTX *c = SSL_CTX_new(TLS_client_method());

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	if (min == TLS1_1_VERSION) {
		/* OpenSSL 3 will not even offer TLS 1.1 at the default security level. */
		SSL_CTX_set_security_level(c, 0);
		SSL_CTX_set_cipher_list(c, "DEFAULT:@SECLEVEL=0");
	}
	SSL_CTX_set_min_proto_version(c, min);
	SSL_CTX_set_max_proto_version(c, max);
	X509_STORE_add_cert(SSL_CTX_get_cert_store(c), ca);
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_alpn_protos(c, (const unsigned char *)"\x02h2\x08http/1.1", 12);
	return c;
}

struct conn {
	SSL *c, *s;
};

static struct conn
conn_new(SSL_CTX *cctx, struct sl_tls *tls, const char *sni, SSL_SESSION *resume)
{
	struct conn k = {SSL_new(cctx), SSL_new(sl_tls_default_ctx(tls))};
	BIO *bc, *bs;

	CU_ASSERT_FATAL(k.c && k.s && BIO_new_bio_pair(&bc, 0, &bs, 0) == 1);
	SSL_set_bio(k.c, bc, bc);
	SSL_set_bio(k.s, bs, bs);
	SSL_set_connect_state(k.c);
	SSL_set_accept_state(k.s);
	if (sni) {
		SSL_set_tlsext_host_name(k.c, sni);
		SSL_set1_host(k.c, sni);
	}
	if (resume)
		SSL_set_session(k.c, resume);
	return k;
}

/*
 * Closed as a worker will close: close_notify both ways. (An SSL freed without it marks its
 * session not resumable, on the client side.)
 */
static void
conn_free(struct conn *k)
{
	if (SSL_is_init_finished(k->c) && SSL_is_init_finished(k->s)) {
		SSL_shutdown(k->c);
		SSL_shutdown(k->s);
		SSL_shutdown(k->c);
	}
	SSL_free(k->c);
	SSL_free(k->s);
}

static int
stuck(SSL *s, int rc)
{
	int e = SSL_get_error(s, rc);

	return rc != 1 && e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE;
}

/* Both sides until both are done (0) or one fails (-1). srv_ns: CPU time of the server side. */
static int
handshake(struct conn *k, long long *srv_ns)
{
	struct timespec a, b;
	int rc, rs;

	for (int round = 0; round < 50; round++) {
		rc = SSL_do_handshake(k->c);
		if (stuck(k->c, rc))
			return -1;
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
		rs = SSL_do_handshake(k->s);
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
		if (srv_ns)
			*srv_ns += (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
		if (stuck(k->s, rs))
			return -1;
		if (rc == 1 && rs == 1)
			return 0;
	}
	return -1;
}

/* The session to resume with: TLS 1.3 tickets arrive after the handshake, read them. */
static SSL_SESSION *
session_of(struct conn *k)
{
	char b[16];

	CU_ASSERT(SSL_read(k->c, b, sizeof(b)) <= 0);
	CU_ASSERT(SSL_get_error(k->c, -1) == SSL_ERROR_WANT_READ);
	return SSL_get1_session(k->c);
}

static void
peer_cn(SSL *c, char *out, size_t len)
{
	X509 *x = SSL_get1_peer_certificate(c);

	out[0] = '\0';
	if (x)
		X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, out, (int)len);
	X509_free(x);
}

/* ------------------------------------------------------------------ errors */

static void
expect_pair_error(const char *cert, const char *key, int64_t now, const char *want)
{
	char err[512] = "";

	CU_ASSERT(sl_tls_check_pair(cert, key, now, err, sizeof(err)) < 0);
	if (!strstr(err, want)) {
		fprintf(stderr, "\n  want '%s', got '%s'\n", want, err);
		CU_FAIL("error message");
	}
}

static void
test_bad_certificates_and_keys_are_named_with_the_reason(void)
{
	/* The message is "<the file named>: <reason>", and the certificate's name after it. */
	static const struct {
		const char *cert, *key;
		int64_t now;
		bool names_key;
		const char *reason;
		bool then_cert;
	} cases[] = {
	    {"none.pem", "a.key", 0, false, "cannot open: No such file or directory", false},
	    {"a.pem", "none.key", 0, true, "cannot open: No such file or directory", false},
	    {"adir", "a.key", 0, false, "not a regular file", false},
	    {"garbage.pem", "a.key", 0, false, "no PEM certificate in it", false},
	    {"a.key", "a.key", 0, false, "no PEM certificate in it", false},
	    {"a.pem", "garbage.pem", 0, true, "no PEM private key in it", false},
	    {"expired.pem", "expired.key", 0, false, "certificate expired on 2025-01-01", false},
	    /* a.pem seen from 2020: before its notBefore */
	    {"a.pem", "a.key", 1577836800, false, "certificate is not valid before 20", false},
	    {"a.pem", "other.key", 0, true, "key does not match certificate", true},
	    {"a.pem", "w.key", 0, true, "key does not match certificate", true},
	};
	char want[600], err[512];

	CU_ASSERT_EQUAL(sl_tls_check_pair(path_of("a.pem"), path_of("a.key"), 0, err, sizeof(err)),
			0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(want, sizeof(want), "%s: %s%s%s",
			 path_of(cases[i].names_key ? cases[i].key : cases[i].cert),
			 cases[i].reason, cases[i].then_cert ? " " : "",
			 cases[i].then_cert ? path_of(cases[i].cert) : "");
		expect_pair_error(path_of(cases[i].cert), path_of(cases[i].key), cases[i].now,
				  want);
	}
	if (geteuid() != 0) { /* root reads a mode-000 file */
		chmod(path_of("d.key"), 0);
		snprintf(want, sizeof(want), "%s: cannot open: Permission denied",
			 path_of("d.key"));
		expect_pair_error(path_of("d.pem"), path_of("d.key"), 0, want);
		chmod(path_of("d.key"), 0600);
	}
}

static void
test_build_refuses_a_bad_service_certificate_or_cipher_list(void)
{
	struct sl_tls *tls;
	char yaml[1024], err[512] = "", want[600];

	CU_ASSERT(build_yaml(two_services("a.example.com", "a", "old.example.com", "expired"), NULL,
			     &tls, err, sizeof(err)) == -EINVAL);
	CU_ASSERT_PTR_NULL(tls);
	snprintf(want, sizeof(want), "%s: certificate expired on 2025-01-01",
		 path_of("expired.pem"));
	CU_ASSERT_STRING_EQUAL(err, want);

	snprintf(yaml, sizeof(yaml),
		 "tls:\n  cert_file: %s/d.pem\n  key_file: %s/d.key\n"
		 "  ciphers: \"NO-SUCH-CIPHER:ALSO-NOT\"\n",
		 dir, dir);
	CU_ASSERT(build_yaml(yaml, NULL, &tls, err, sizeof(err)) == -EINVAL);
	CU_ASSERT_PTR_NULL(tls);
	CU_ASSERT_STRING_EQUAL(err, "tls.yaml:4:12: tls.ciphers: OpenSSL knows no cipher in "
				    "'NO-SUCH-CIPHER:ALSO-NOT'");

	/* certificates that ACME or cert_dir would provide: refused until they exist */
	CU_ASSERT(build_yaml("tls: {cert_dir: /nonexistent}\nservices:\n  - name: a\n"
			     "    host: a.example.com\n    tls: {enabled: true}\n" BACKEND,
			     NULL, &tls, err, sizeof(err)) == -EINVAL);
	CU_ASSERT_PTR_NULL(tls);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/a.example.com/cert.pem"));

	/* cert_dir in uacme's layout: DIR/<host>/cert.pem, DIR/private/<host>/key.pem */
	{
		char cmd[1024], yaml[512];

		snprintf(cmd, sizeof(cmd),
			 "mkdir -p %s/cd/a.example.com %s/cd/private/a.example.com && "
			 "cp %s/a.pem %s/cd/a.example.com/cert.pem && "
			 "cp %s/a.key %s/cd/private/a.example.com/key.pem",
			 dir, dir, dir, dir, dir, dir);
		CU_ASSERT_FATAL(system(cmd) == 0);
		snprintf(yaml, sizeof(yaml),
			 "tls: {cert_dir: %s/cd}\nservices:\n  - name: a\n"
			 "    host: a.example.com\n    tls: {enabled: true}\n" BACKEND,
			 dir);
		CU_ASSERT_EQUAL(build_yaml(yaml, NULL, &tls, err, sizeof(err)), 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(tls);
		CU_ASSERT_EQUAL(sl_tls_n_certs(tls), 1);
		sl_tls_free(tls);
	}
	/* a service without a host cannot name its file in cert_dir */
	CU_ASSERT(build_yaml("tls: {cert_dir: /nonexistent}\nservices:\n  - name: a\n"
			     "    tls: {enabled: true}\n" BACKEND,
			     NULL, &tls, err, sizeof(err)) == -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "service 'a' (line 3): tls without cert_file needs a global "
				    "tls.cert_file, or tls.cert_dir and a host");

	/* no TLS anywhere: no set, no error */
	CU_ASSERT_EQUAL(
	    build_yaml("services:\n  - name: a\n" BACKEND, NULL, &tls, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NULL(tls);
}

/* ------------------------------------------------------------------ handshakes */

static void
test_tls13_and_tls12_negotiate_with_alpn_http11_and_tls11_is_refused(void)
{
	struct sl_tls *tls = build_std(NULL);
	SSL_CTX *c13 = client_ctx(TLS1_2_VERSION, TLS1_3_VERSION);
	SSL_CTX *c12 = client_ctx(TLS1_2_VERSION, TLS1_2_VERSION);
	SSL_CTX *c11 = client_ctx(TLS1_1_VERSION, TLS1_1_VERSION);
	SSL_CTX *h2only = client_ctx(TLS1_2_VERSION, TLS1_3_VERSION);
	const unsigned char *alpn;
	unsigned int alpn_len;
	unsigned long e;
	struct conn k;
	int refused = 0;

	CU_ASSERT_EQUAL(sl_tls_n_certs(tls), 3); /* d, a (twice named), w */
	k = conn_new(c13, tls, "a.example.com", NULL);
	CU_ASSERT_EQUAL_FATAL(handshake(&k, NULL), 0);
	CU_ASSERT_EQUAL(SSL_version(k.s), TLS1_3_VERSION);
	CU_ASSERT_STRING_EQUAL(SSL_get_cipher_name(k.s), "TLS_AES_128_GCM_SHA256");
	SSL_get0_alpn_selected(k.c, &alpn, &alpn_len);
	CU_ASSERT(alpn_len == 8 && !memcmp(alpn, "http/1.1", 8));
	CU_ASSERT_EQUAL(SSL_get_verify_result(k.c), X509_V_OK);
	conn_free(&k);

	k = conn_new(c12, tls, "a.example.com", NULL);
	CU_ASSERT_EQUAL_FATAL(handshake(&k, NULL), 0);
	CU_ASSERT_EQUAL(SSL_version(k.s), TLS1_2_VERSION);
	CU_ASSERT_STRING_EQUAL(SSL_get_cipher_name(k.s), "ECDHE-ECDSA-AES128-GCM-SHA256");
	SSL_get0_alpn_selected(k.c, &alpn, &alpn_len);
	CU_ASSERT(alpn_len == 8 && !memcmp(alpn, "http/1.1", 8));
	conn_free(&k);

	ERR_clear_error();
	k = conn_new(c11, tls, "a.example.com", NULL);
	CU_ASSERT_EQUAL(handshake(&k, NULL), -1);
	CU_ASSERT(SSL_version(k.s) != TLS1_3_VERSION && !SSL_is_init_finished(k.s));
	while ((e = ERR_get_error()))
		refused |= ERR_GET_REASON(e) == SSL_R_UNSUPPORTED_PROTOCOL;
	CU_ASSERT(refused); /* the server saw the hello and said no, for the version */
	conn_free(&k);

	SSL_CTX_set_alpn_protos(h2only, (const unsigned char *)"\x02h2", 3);
	k = conn_new(h2only, tls, "a.example.com", NULL);
	CU_ASSERT_EQUAL(handshake(&k, NULL), -1); /* RFC 7301: no_application_protocol */
	ERR_clear_error();
	conn_free(&k);

	SSL_CTX_free(c13);
	SSL_CTX_free(c12);
	SSL_CTX_free(c11);
	SSL_CTX_free(h2only);
	sl_tls_free(tls);
}

static void
sni_gives(SSL_CTX *cctx, struct sl_tls *tls, const char *sni, const char *want_cn, int verified)
{
	struct conn k = conn_new(cctx, tls, sni, NULL);
	char cn[256];

	if (sni && !verified)
		SSL_set1_host(k.c, NULL); /* the default certificate does not name this host */
	CU_ASSERT_EQUAL_FATAL(handshake(&k, NULL), 0);
	peer_cn(k.c, cn, sizeof(cn));
	if (strcmp(cn, want_cn)) {
		fprintf(stderr, "\n  SNI %s: want %s, got %s\n", sni ? sni : "(none)", want_cn, cn);
		CU_FAIL("certificate chosen by SNI");
	}
	CU_ASSERT_EQUAL(SSL_get_verify_result(k.c), X509_V_OK);
	conn_free(&k);
}

static void
test_sni_picks_the_certificate_and_no_sni_gets_the_default(void)
{
	struct sl_tls *tls = build_std(NULL);
	SSL_CTX *c = client_ctx(TLS1_2_VERSION, TLS1_3_VERSION);
	SSL_CTX *c12 = client_ctx(TLS1_2_VERSION, TLS1_2_VERSION);

	sni_gives(c, tls, "a.example.com", "a.example.com", 1);
	sni_gives(c, tls, "A.Example.COM", "a.example.com", 1);
	sni_gives(c, tls, "a2.example.com", "a.example.com", 0); /* same pair, its own host */
	sni_gives(c, tls, "x.w.example.com", "*.w.example.com", 1);
	sni_gives(c12, tls, "y.w.example.com", "*.w.example.com", 1);
	sni_gives(c, tls, "x.y.w.example.com", "default.example", 0); /* one label only */
	sni_gives(c, tls, "w.example.com", "default.example", 0);
	sni_gives(c, tls, "unknown.example.com", "default.example", 0);
	sni_gives(c, tls, NULL, "default.example", 0);
	sni_gives(c12, tls, NULL, "default.example", 0);
	CU_ASSERT_PTR_EQUAL(sl_tls_ctx_for_host(tls, "q.w.example.com"),
			    sl_tls_ctx_for_host(tls, "z.w.example.com"));
	CU_ASSERT_PTR_EQUAL(sl_tls_ctx_for_host(tls, "nope"), sl_tls_default_ctx(tls));
	SSL_CTX_free(c);
	SSL_CTX_free(c12);
	sl_tls_free(tls);
}

static void
test_without_global_certificate_the_first_service_is_the_default(void)
{
	SSL_CTX *c = client_ctx(TLS1_2_VERSION, TLS1_3_VERSION);
	struct sl_tls *tls;
	char err[512];

	CU_ASSERT_EQUAL_FATAL(build_yaml(two_services("*.w.example.com", "w", "a.example.com", "a"),
					 NULL, &tls, err, sizeof(err)),
			      0);
	sni_gives(c, tls, NULL, "*.w.example.com", 0);
	sni_gives(c, tls, "a.example.com", "a.example.com", 1);
	SSL_CTX_free(c);
	sl_tls_free(tls);
}

/* Full handshake, then its ticket offered on a new SSL; returns whether the server resumed. */
static int
resumes(SSL_CTX *cctx, struct sl_tls *tls, const char *sni, SSL_SESSION *sess)
{
	struct conn k = conn_new(cctx, tls, sni, sess);
	int reused;

	CU_ASSERT_EQUAL_FATAL(handshake(&k, NULL), 0);
	reused = SSL_session_reused(k.s);
	CU_ASSERT_EQUAL(reused, SSL_session_reused(k.c));
	conn_free(&k);
	return reused;
}

static SSL_SESSION *
first_session(SSL_CTX *cctx, struct sl_tls *tls, const char *sni)
{
	struct conn k = conn_new(cctx, tls, sni, NULL);
	SSL_SESSION *s;

	CU_ASSERT_EQUAL_FATAL(handshake(&k, NULL), 0);
	CU_ASSERT_FALSE(SSL_session_reused(k.s));
	s = session_of(&k);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT(SSL_SESSION_is_resumable(s));
	conn_free(&k);
	return s;
}

static void
test_tickets_resume_across_one_rotation_and_not_two(void)
{
	struct sl_tls_tickets *t;
	struct sl_tls *tls, *reloaded;
	SSL_CTX *c13 = client_ctx(TLS1_2_VERSION, TLS1_3_VERSION);
	SSL_CTX *c12 = client_ctx(TLS1_2_VERSION, TLS1_2_VERSION);
	SSL_SESSION *s13, *s12, *sw;

	CU_ASSERT_EQUAL_FATAL(sl_tls_tickets_create(&t), 0);
	CU_ASSERT_FALSE(sl_tls_tickets_keys(t)->has_previous);
	tls = build_std(t);
	s13 = first_session(c13, tls, "a.example.com");
	s12 = first_session(c12, tls, "a.example.com");
	sw = first_session(c13, tls, "x.w.example.com");
	CU_ASSERT_TRUE(resumes(c13, tls, "a.example.com", s13));
	CU_ASSERT_TRUE(resumes(c12, tls, "a.example.com", s12));
	CU_ASSERT_TRUE(resumes(c13, tls, "x.w.example.com", sw));

	/* a reload builds new contexts around the same keys: tickets still resume */
	reloaded = build_std(t);
	CU_ASSERT_TRUE(resumes(c13, reloaded, "a.example.com", s13));
	sl_tls_free(reloaded);

	CU_ASSERT_EQUAL(sl_tls_tickets_rotate(t), 0);
	CU_ASSERT_TRUE(sl_tls_tickets_keys(t)->has_previous);
	CU_ASSERT_TRUE(resumes(c13, tls, "a.example.com", s13));
	CU_ASSERT_TRUE(resumes(c12, tls, "a.example.com", s12));
	CU_ASSERT_EQUAL(sl_tls_tickets_rotate(t), 0);
	CU_ASSERT_FALSE(resumes(c13, tls, "a.example.com", s13)); /* full handshake, no error */
	CU_ASSERT_FALSE(resumes(c12, tls, "a.example.com", s12));

	/* keys of a different holder (another process) never open these tickets */
	SSL_SESSION_free(s13);
	s13 = first_session(c13, tls, "a.example.com");
	{
		struct sl_tls_tickets *t2;
		struct sl_tls *other;

		CU_ASSERT_EQUAL_FATAL(sl_tls_tickets_create(&t2), 0);
		other = build_std(t2);
		CU_ASSERT_FALSE(resumes(c13, other, "a.example.com", s13));
		sl_tls_free(other);
		sl_tls_tickets_free(t2);
	}
	SSL_SESSION_free(s13);
	SSL_SESSION_free(s12);
	SSL_SESSION_free(sw);
	SSL_CTX_free(c13);
	SSL_CTX_free(c12);
	sl_tls_free(tls);
	sl_tls_tickets_free(t);
}

/* ------------------------------------------------------------------ cost */

/*
 * Handshakes for about a second: full ones, or resumed with one ticket when `resumed`.
 * Figures are CPU time of this thread, so they hold on a loaded machine: the server side
 * alone (what a worker pays) and both sides.
 */
static void
measure(const char *label, const char *name, int max_version, bool resumed)
{
	SSL_CTX *c = client_ctx(TLS1_2_VERSION, max_version);
	struct sl_tls_tickets *t = NULL;
	SSL_SESSION *sess = NULL;
	struct sl_tls *tls = NULL;
	struct timespec a, b, ca, cb;
	long long srv_ns = 0, wall_ns, cpu_ns;
	char yaml[1024], err[512];
	int n = 0, reused = 0;

	snprintf(yaml, sizeof(yaml), "tls: {cert_file: %s/%s.pem, key_file: %s/%s.key}\n", dir,
		 name, dir, name);
	if (resumed)
		CU_ASSERT_EQUAL_FATAL(sl_tls_tickets_create(&t), 0);
	CU_ASSERT_EQUAL_FATAL(build_yaml(yaml, t, &tls, err, sizeof(err)), 0);
	if (resumed)
		sess = first_session(c, tls, NULL);
	clock_gettime(CLOCK_MONOTONIC, &a);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ca);
	do { /* bounded: at most 5000 handshakes or about 1 s */
		struct conn k = conn_new(c, tls, NULL, sess);

		CU_ASSERT_EQUAL_FATAL(handshake(&k, &srv_ns), 0);
		reused += SSL_session_reused(k.s);
		conn_free(&k);
		n++;
		clock_gettime(CLOCK_MONOTONIC, &b);
		wall_ns = (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
	} while (n < 5000 && wall_ns < 1000000000LL);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cb);
	cpu_ns = (cb.tv_sec - ca.tv_sec) * 1000000000LL + (cb.tv_nsec - ca.tv_nsec);
	CU_ASSERT_EQUAL(reused, resumed ? n : 0);
	printf("\n  %-22s %4d %s handshakes: server %.0f/s per core (%.0f us CPU each); "
	       "client and server %.0f/s per core",
	       label, n, resumed ? "resumed" : "full", n * 1e9 / (double)srv_ns, srv_ns / 1e3 / n,
	       n * 1e9 / (double)cpu_ns);
	SSL_SESSION_free(sess);
	SSL_CTX_free(c);
	sl_tls_free(tls);
	sl_tls_tickets_free(t);
}

static void
test_handshakes_per_second_are_printed(void)
{
	make_leaf("rsa", "rsa", "rsa.example.com", NULL, NULL);
	measure("ECDSA P-256, TLS 1.3", "d", TLS1_3_VERSION, false);
	measure("ECDSA P-256, TLS 1.2", "d", TLS1_2_VERSION, false);
	measure("RSA-2048, TLS 1.3", "rsa", TLS1_3_VERSION, false);
	measure("ECDSA P-256, TLS 1.3", "d", TLS1_3_VERSION, true);
	measure("ECDSA P-256, TLS 1.2", "d", TLS1_2_VERSION, true);
	printf("\n");
}

/* ------------------------------------------------------------------ backend (client) contexts */

/* A worker's backend context from `backend_tls: <btls>` (the configuration freed after). */
static SSL_CTX *
backend_ctx(const char *btls, char *err, size_t errlen, int *rc)
{
	char yaml[1024];
	struct sl_config *cfg;
	SSL_CTX *ctx = NULL;

	snprintf(yaml, sizeof(yaml), "backend_tls: %s\nservices:\n  - name: b\n" BACKEND, btls);
	cfg = load(yaml);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	*rc = sl_tls_client_ctx(cfg, &cfg->services[0].locations[0].backend_tls, &ctx, err, errlen);
	sl_config_free(cfg);
	return ctx;
}

/* A self-signed CA that signed nothing here: a bundle without the server's issuer. */
static void
write_other_ca(void)
{
	X509 *saved = ca;
	EVP_PKEY *k = new_key("ec");
	X509 *x;

	ca = NULL;
	x = make_cert(k, "another CA", NULL, NULL, NULL);
	ca = saved;
	write_pem("otherca.pem", x, NULL);
	X509_free(x);
	EVP_PKEY_free(k);
}

static void
test_backend_context_verifies_names_resumes_and_refuses_a_bad_ca_file(void)
{
	struct sl_tls_tickets *t;
	struct sl_tls *tls;
	const unsigned char *alpn;
	unsigned int alpn_len;
	char y[600], err[512];
	SSL_SESSION *sess;
	struct conn k;
	SSL_CTX *c;
	int rc;

	CU_ASSERT_EQUAL_FATAL(sl_tls_tickets_create(&t), 0);
	tls = build_std(t);
	snprintf(y, sizeof(y), "{ca_file: %s/ca.pem}", dir);
	c = backend_ctx(y, err, sizeof(err), &rc);
	CU_ASSERT_EQUAL_FATAL(rc, 0);

	/* verified (chain and name), TLS 1.3, ALPN http/1.1; its ticket resumes */
	k = conn_new(c, tls, "a.example.com", NULL);
	CU_ASSERT_EQUAL(handshake(&k, NULL), 0);
	CU_ASSERT_EQUAL(SSL_get_verify_result(k.c), X509_V_OK);
	CU_ASSERT_EQUAL(SSL_version(k.c), TLS1_3_VERSION);
	SSL_get0_alpn_selected(k.c, &alpn, &alpn_len);
	CU_ASSERT(alpn_len == 8 && memcmp(alpn, "http/1.1", 8) == 0);
	sess = session_of(&k); /* reads the NewSessionTicket records */
	CU_ASSERT_PTR_NOT_NULL_FATAL(sess);
	CU_ASSERT(SSL_SESSION_is_resumable(sess));
	conn_free(&k);
	k = conn_new(c, tls, "a.example.com", sess);
	CU_ASSERT_EQUAL(handshake(&k, NULL), 0);
	CU_ASSERT_TRUE(SSL_session_reused(k.c));
	conn_free(&k);

	/* another name than the certificate's: X509_V_ERR_HOSTNAME_MISMATCH */
	k = conn_new(c, tls, "b.example.com", NULL);
	CU_ASSERT_EQUAL(handshake(&k, NULL), -1);
	CU_ASSERT_EQUAL(SSL_get_verify_result(k.c), X509_V_ERR_HOSTNAME_MISMATCH);
	conn_free(&k);
	ERR_clear_error();
	SSL_CTX_free(c);

	/* a bundle without the server's CA */
	write_other_ca();
	snprintf(y, sizeof(y), "{ca_file: %s/otherca.pem}", dir);
	c = backend_ctx(y, err, sizeof(err), &rc);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	k = conn_new(c, tls, "a.example.com", NULL);
	CU_ASSERT_EQUAL(handshake(&k, NULL), -1);
	/* the server sends our CA after its leaf: a self-signed root this bundle does not hold */
	rc = (int)SSL_get_verify_result(k.c);
	CU_ASSERT(rc == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
		  rc == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
	conn_free(&k);
	ERR_clear_error();
	SSL_CTX_free(c);

	/* verify: false takes any certificate, any name */
	c = backend_ctx("{verify: false}", err, sizeof(err), &rc);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	k = conn_new(c, tls, "b.example.com", NULL);
	CU_ASSERT_EQUAL(handshake(&k, NULL), 0);
	conn_free(&k);
	SSL_CTX_free(c);

	/* a client certificate (mutual TLS): in the context; an expired one or a key of another
	 * certificate refused at cert_file's line:col, naming the file */
	snprintf(y, sizeof(y), "{ca_file: %s/ca.pem, cert_file: %s/a.pem, key_file: %s/a.key}", dir,
		 dir, dir);
	c = backend_ctx(y, err, sizeof(err), &rc);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL(SSL_CTX_get0_certificate(c));
	k = conn_new(c, tls, "a.example.com", NULL);
	CU_ASSERT_EQUAL(handshake(&k, NULL), 0);
	conn_free(&k);
	SSL_CTX_free(c);
	snprintf(y, sizeof(y), "{cert_file: %s/expired.pem, key_file: %s/expired.key}", dir, dir);
	c = backend_ctx(y, err, sizeof(err), &rc);
	CU_ASSERT_EQUAL(rc, -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "tls.yaml:1:26: backend_tls cert_file: "));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "expired.pem: certificate expired on 2025-01-01"));
	snprintf(y, sizeof(y), "{cert_file: %s/a.pem, key_file: %s/other.key}", dir, dir);
	c = backend_ctx(y, err, sizeof(err), &rc);
	CU_ASSERT_EQUAL(rc, -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "other.key: key does not match certificate"));

	/* a CA file OpenSSL finds no certificate in: refused at its line:col */
	snprintf(y, sizeof(y), "{ca_file: %s/garbage.pem}", dir);
	c = backend_ctx(y, err, sizeof(err), &rc);
	CU_ASSERT_EQUAL(rc, -EINVAL);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "tls.yaml:1:24: backend_tls ca_file "));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "garbage.pem: "));
	SSL_SESSION_free(sess);
	sl_tls_free(tls);
	sl_tls_tickets_free(t);
}

/* What a worker pays per handshake with an https backend (client side, verification included). */
static void
measure_backend(const char *label, int max_version, bool resumed)
{
	struct sl_tls_tickets *t;
	struct sl_tls *tls;
	SSL_SESSION *sess = NULL;
	struct timespec a, b, ca0, cb;
	long long srv_ns = 0, wall_ns, cli_ns;
	char y[600], err[512];
	int n = 0, reused = 0, rc;
	SSL_CTX *c;

	CU_ASSERT_EQUAL_FATAL(sl_tls_tickets_create(&t), 0);
	tls = build_std(t);
	snprintf(y, sizeof(y), "{ca_file: %s/ca.pem}", dir);
	c = backend_ctx(y, err, sizeof(err), &rc);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	SSL_CTX_set_max_proto_version(c, max_version);
	if (resumed) {
		struct conn k = conn_new(c, tls, "a.example.com", NULL);

		CU_ASSERT_EQUAL_FATAL(handshake(&k, NULL), 0);
		sess = session_of(&k); /* TLS 1.3: the tickets */
		conn_free(&k);
		CU_ASSERT_PTR_NOT_NULL_FATAL(sess);
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ca0);
	do { /* bounded: at most 5000 handshakes or about 1 s */
		struct conn k = conn_new(c, tls, "a.example.com", sess);

		CU_ASSERT_EQUAL_FATAL(handshake(&k, &srv_ns), 0);
		reused += SSL_session_reused(k.c);
		conn_free(&k);
		n++;
		clock_gettime(CLOCK_MONOTONIC, &b);
		wall_ns = (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
	} while (n < 5000 && wall_ns < 1000000000LL);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cb);
	cli_ns = (cb.tv_sec - ca0.tv_sec) * 1000000000LL + (cb.tv_nsec - ca0.tv_nsec) - srv_ns;
	CU_ASSERT_EQUAL(reused, resumed ? n : 0);
	printf("\n  backend, %-13s %4d %s handshakes: client %.0f/s per core (%.0f us CPU each)",
	       label, n, resumed ? "resumed" : "full", n * 1e9 / (double)cli_ns, cli_ns / 1e3 / n);
	SSL_SESSION_free(sess);
	SSL_CTX_free(c);
	sl_tls_free(tls);
	sl_tls_tickets_free(t);
}

static void
test_backend_handshakes_per_second_are_printed(void)
{
	measure_backend("TLS 1.3", TLS1_3_VERSION, false);
	measure_backend("TLS 1.2", TLS1_2_VERSION, false);
	measure_backend("TLS 1.3", TLS1_3_VERSION, true);
	measure_backend("TLS 1.2", TLS1_2_VERSION, true);
	printf("\n");
}

int
main(void)
{
	static const struct sl_unit_test tests[] = {
#define T(f) {#f, f}
	    T(test_bad_certificates_and_keys_are_named_with_the_reason),
	    T(test_build_refuses_a_bad_service_certificate_or_cipher_list),
	    T(test_tls13_and_tls12_negotiate_with_alpn_http11_and_tls11_is_refused),
	    T(test_sni_picks_the_certificate_and_no_sni_gets_the_default),
	    T(test_without_global_certificate_the_first_service_is_the_default),
	    T(test_tickets_resume_across_one_rotation_and_not_two),
	    T(test_handshakes_per_second_are_printed),
	    T(test_backend_context_verifies_names_resumes_and_refuses_a_bad_ca_file),
	    T(test_backend_handshakes_per_second_are_printed),
#undef T
	};

	return sl_unit_run("controlplane/tls_ctx", suite_init, suite_clean, tests,
			   sizeof(tests) / sizeof(tests[0]));
}
