/* SPDX-License-Identifier: MIT */
/* controlplane/auth_*.c and rate_limit.c: no civetweb, no EAL; a temporary database file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <jansson.h>
#include <jwt.h>

#include "controlplane/auth_jwt.h"
#include "controlplane/auth_password.h"
#include "controlplane/auth_store.h"
#include "controlplane/rate_limit.h"
#include "cunit_main.h"

static char tmpdir[] = "/tmp/sl-test-auth-XXXXXX";

static struct sl_auth_store *
fresh_store(const char *name)
{
	struct sl_auth_store *s = NULL;
	char path[256], err[256];

	snprintf(path, sizeof(path), "%s/%s.db", tmpdir, name);
	unlink(path);
	CU_ASSERT_EQUAL_FATAL(sl_auth_store_open(path, &s, err, sizeof(err)), 0);
	return s;
}

/* ------------------------------------------------------------------ passwords */

static void
test_hash_is_argon2id_with_the_chosen_cost_and_verifies(void)
{
	char h[SL_AUTH_HASH_MAX];

	CU_ASSERT_EQUAL(sl_auth_password_hash("correct horse battery", h, sizeof(h)), 0);
	CU_ASSERT_EQUAL(strncmp(h, "$argon2id$v=19$m=19456,t=2,p=1$", 31), 0);
	CU_ASSERT_EQUAL(sl_auth_password_verify(h, "correct horse battery"), 0);
	CU_ASSERT_EQUAL(sl_auth_password_verify(h, "correct horse batterY"), -EACCES);
	CU_ASSERT_EQUAL(sl_auth_password_verify(h, ""), -EACCES);
}

static void
test_same_password_hashes_differ_by_salt(void)
{
	char a[SL_AUTH_HASH_MAX], b[SL_AUTH_HASH_MAX];

	CU_ASSERT_EQUAL(sl_auth_password_hash("correct horse battery", a, sizeof(a)), 0);
	CU_ASSERT_EQUAL(sl_auth_password_hash("correct horse battery", b, sizeof(b)), 0);
	CU_ASSERT_STRING_NOT_EQUAL(a, b);
}

static void
test_verify_refuses_what_is_not_an_argon2id_hash(void)
{
	CU_ASSERT_EQUAL(sl_auth_password_verify("", "x"), -EINVAL);
	CU_ASSERT_EQUAL(sl_auth_password_verify("plaintext", "plaintext"), -EINVAL);
	/* argon2i (not id) and a truncated argon2id */
	CU_ASSERT_EQUAL(sl_auth_password_verify("$argon2i$v=19$m=16,t=2,p=1$c2FsdHNhbHQ$"
						"ZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZm",
						"x"),
			-EINVAL);
	CU_ASSERT_EQUAL(sl_auth_password_verify("$argon2id$v=19$m=19456", "x"), -EINVAL);
}

static void
test_hash_into_a_small_buffer_is_refused(void)
{
	char h[32];

	CU_ASSERT_EQUAL(sl_auth_password_hash("correct horse battery", h, sizeof(h)), -ENOSPC);
}

static void
test_password_strength_minimum(void)
{
	char err[256], longpw[SL_AUTH_PASSWORD_MAX + 2];

	CU_ASSERT_EQUAL(sl_auth_password_check("alice", "short", err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "at least 12"));
	CU_ASSERT_EQUAL(sl_auth_password_check("alice", "xxAlice-1234567", err, sizeof(err)),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "user name"));
	memset(longpw, 'a', sizeof(longpw) - 1);
	longpw[sizeof(longpw) - 1] = '\0';
	CU_ASSERT_EQUAL(sl_auth_password_check("bob", longpw, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(sl_auth_password_check("bob", "twelve chars", err, sizeof(err)), 0);
}

static void
test_user_names_are_checked(void)
{
	char err[256];

	CU_ASSERT_EQUAL(sl_auth_name_check("alice.ops-1_x", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(sl_auth_name_check("", err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(sl_auth_name_check("a b", err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(sl_auth_name_check("a\"b", err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(
	    sl_auth_name_check("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			       "aaaa1",
			       err, sizeof(err)),
	    -EINVAL);
}

static void
test_password_expiry_boundary(void)
{
	CU_ASSERT_FALSE(sl_auth_password_expired(1000, 1000 + 7 * 86400 - 1, 7));
	CU_ASSERT_TRUE(sl_auth_password_expired(1000, 1000 + 7 * 86400, 7));
	CU_ASSERT_FALSE(sl_auth_password_expired(0, 1000000000, 0)); /* 0 = never */
}

/* ------------------------------------------------------------------ store */

static int
collect_name(const struct sl_auth_user *u, void *arg)
{
	strcat(arg, u->name);
	strcat(arg, ",");
	return 0;
}

static void
test_store_creates_schema_and_keeps_users_across_reopen(void)
{
	struct sl_auth_store *s = fresh_store("reopen");
	struct sl_auth_user u;
	char path[256], err[256], names[256] = "";

	CU_ASSERT_EQUAL(sl_auth_store_count(s), 0);
	CU_ASSERT_EQUAL(sl_auth_store_add(s, "bob", "$argon2id$h1", 100), 0);
	CU_ASSERT_EQUAL(sl_auth_store_add(s, "alice", "$argon2id$h2", 200), 0);
	CU_ASSERT_EQUAL(sl_auth_store_add(s, "alice", "$argon2id$h3", 300), -EEXIST);
	sl_auth_store_close(s);

	snprintf(path, sizeof(path), "%s/reopen.db", tmpdir);
	CU_ASSERT_EQUAL_FATAL(sl_auth_store_open(path, &s, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(sl_auth_store_count(s), 2);
	CU_ASSERT_EQUAL(sl_auth_store_get(s, "alice", &u), 0);
	CU_ASSERT_STRING_EQUAL(u.hash, "$argon2id$h2");
	CU_ASSERT_EQUAL(u.created_at, 200);
	CU_ASSERT_EQUAL(u.changed_at, 200);
	CU_ASSERT_EQUAL(sl_auth_store_list(s, collect_name, names), 0);
	CU_ASSERT_STRING_EQUAL(names, "alice,bob,");
	CU_ASSERT_EQUAL(sl_auth_store_get(s, "carol", &u), -ENOENT);
	sl_auth_store_close(s);
}

static int
count_hash(const char *h, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static void
test_store_delete_removes_user_and_history(void)
{
	struct sl_auth_store *s = fresh_store("del");
	struct sl_auth_user u;
	int n = 0;

	CU_ASSERT_EQUAL(sl_auth_store_add(s, "bob", "$argon2id$h1", 100), 0);
	CU_ASSERT_EQUAL(sl_auth_store_del(s, "bob"), 0);
	CU_ASSERT_EQUAL(sl_auth_store_get(s, "bob", &u), -ENOENT);
	CU_ASSERT_EQUAL(sl_auth_store_del(s, "bob"), -ENOENT);
	/* Re-created: no history inherited from the deleted user. */
	CU_ASSERT_EQUAL(sl_auth_store_add(s, "bob", "$argon2id$h9", 200), 0);
	CU_ASSERT_EQUAL(sl_auth_store_history(s, "bob", 10, count_hash, &n), 0);
	CU_ASSERT_EQUAL(n, 1);
	sl_auth_store_close(s);
}

static int
append_hash(const char *h, void *arg)
{
	strcat(arg, h + strlen("$argon2id$"));
	strcat(arg, ",");
	return 0;
}

static void
test_store_history_keeps_the_newest_n(void)
{
	struct sl_auth_store *s = fresh_store("hist");
	char seen[256] = "";

	CU_ASSERT_EQUAL(sl_auth_store_add(s, "bob", "$argon2id$h1", 100), 0);
	CU_ASSERT_EQUAL(sl_auth_store_set_hash(s, "bob", "$argon2id$h2", 200, 3), 0);
	CU_ASSERT_EQUAL(sl_auth_store_set_hash(s, "bob", "$argon2id$h3", 300, 3), 0);
	CU_ASSERT_EQUAL(sl_auth_store_set_hash(s, "bob", "$argon2id$h4", 400, 3), 0);
	CU_ASSERT_EQUAL(sl_auth_store_history(s, "bob", 10, append_hash, seen), 0);
	CU_ASSERT_STRING_EQUAL(seen, "h4,h3,h2,");
	CU_ASSERT_EQUAL(sl_auth_store_set_hash(s, "nobody", "$argon2id$h", 500, 3), -ENOENT);
	sl_auth_store_close(s);
}

static void
test_store_open_failure_names_the_path(void)
{
	struct sl_auth_store *s = NULL;
	char err[256];

	CU_ASSERT_NOT_EQUAL(sl_auth_store_open("/nonexistent-dir/x/auth.db", &s, err, sizeof(err)),
			    0);
	CU_ASSERT_PTR_NULL(s);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent-dir/x/auth.db"));
	CU_ASSERT_EQUAL(sl_auth_store_open("", &s, err, sizeof(err)), -EINVAL);
}

/* ------------------------------------------------------------------ change rules */

static void
test_history_refuses_the_last_n_passwords_and_allows_older(void)
{
	struct sl_auth_store *s = fresh_store("rules");
	char err[256];

	CU_ASSERT_EQUAL(sl_auth_user_create(s, "bob", "password-one-1", 100, err, sizeof(err)), 0);
	/* history 2: the current and the one before are refused */
	CU_ASSERT_EQUAL(
	    sl_auth_password_change(s, "bob", "password-one-1", 2, 200, err, sizeof(err)), -EEXIST);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "last 2 passwords"));
	CU_ASSERT_EQUAL(
	    sl_auth_password_change(s, "bob", "password-two-2", 2, 200, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(
	    sl_auth_password_change(s, "bob", "password-one-1", 2, 300, err, sizeof(err)), -EEXIST);
	CU_ASSERT_EQUAL(
	    sl_auth_password_change(s, "bob", "password-three", 2, 300, err, sizeof(err)), 0);
	/* password-one-1 is now third from the top: allowed again */
	CU_ASSERT_EQUAL(
	    sl_auth_password_change(s, "bob", "password-one-1", 2, 400, err, sizeof(err)), 0);
	sl_auth_store_close(s);
}

static void
test_history_size_zero_allows_reuse(void)
{
	struct sl_auth_store *s = fresh_store("nohist");
	struct sl_auth_user u;
	char err[256];

	CU_ASSERT_EQUAL(sl_auth_user_create(s, "bob", "password-one-1", 100, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(
	    sl_auth_password_change(s, "bob", "password-one-1", 0, 200, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(sl_auth_store_get(s, "bob", &u), 0);
	CU_ASSERT_EQUAL(u.changed_at, 200);
	CU_ASSERT_EQUAL(sl_auth_password_verify(u.hash, "password-one-1"), 0);
	sl_auth_store_close(s);
}

static void
test_change_refuses_weak_and_unknown(void)
{
	struct sl_auth_store *s = fresh_store("weak");
	char err[256];

	CU_ASSERT_EQUAL(sl_auth_user_create(s, "bob", "short", 100, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(sl_auth_user_create(s, "bo b", "password-one-1", 100, err, sizeof(err)),
			-EINVAL);
	CU_ASSERT_EQUAL(sl_auth_user_create(s, "bob", "password-one-1", 100, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(sl_auth_user_create(s, "bob", "password-one-2", 100, err, sizeof(err)),
			-EEXIST);
	CU_ASSERT_EQUAL(sl_auth_password_change(s, "bob", "tiny", 5, 200, err, sizeof(err)),
			-EINVAL);
	CU_ASSERT_EQUAL(
	    sl_auth_password_change(s, "carol", "password-one-1", 5, 200, err, sizeof(err)),
	    -ENOENT);
	sl_auth_store_close(s);
}

/* ------------------------------------------------------------------ JWT */

static struct sl_auth_jwt_key key;

static void
b64url(const unsigned char *in, size_t n, char *out)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		out[o++] = t[in[i] >> 2];
		out[o++] = t[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		out[o++] = t[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		out[o++] = t[in[i + 2] & 63];
	}
	if (n - i == 1) {
		out[o++] = t[in[i] >> 2];
		out[o++] = t[(in[i] & 3) << 4];
	} else if (n - i == 2) {
		out[o++] = t[in[i] >> 2];
		out[o++] = t[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		out[o++] = t[(in[i + 1] & 15) << 2];
	}
	out[o] = '\0';
}

static void
test_jwt_issue_then_verify_gives_the_claims(void)
{
	struct sl_auth_claims c, v;
	char tok[SL_AUTH_TOKEN_MAX];

	CU_ASSERT_EQUAL(
	    sl_auth_jwt_issue(&key, "alice", SL_AUTH_SCOPE_API, 1000, 60, tok, sizeof(tok), &c), 0);
	CU_ASSERT_EQUAL(strncmp(tok, "eyJhbGciOiJIUzI1NiIs", 20), 0); /* {"alg":"HS256", */
	CU_ASSERT_EQUAL(sl_auth_jwt_verify(&key, tok, 1030, &v), 0);
	CU_ASSERT_STRING_EQUAL(v.sub, "alice");
	CU_ASSERT_STRING_EQUAL(v.scope, SL_AUTH_SCOPE_API);
	CU_ASSERT_STRING_EQUAL(v.jti, c.jti);
	CU_ASSERT_EQUAL(strlen(v.jti), 32);
	CU_ASSERT_EQUAL(v.iat, 1000);
	CU_ASSERT_EQUAL(v.exp, 1060);
}

static void
test_jwt_ids_are_unique(void)
{
	struct sl_auth_claims a, b;
	char tok[SL_AUTH_TOKEN_MAX];

	sl_auth_jwt_issue(&key, "alice", "api", 1000, 60, tok, sizeof(tok), &a);
	sl_auth_jwt_issue(&key, "alice", "api", 1000, 60, tok, sizeof(tok), &b);
	CU_ASSERT_STRING_NOT_EQUAL(a.jti, b.jti);
}

static void
test_jwt_expires_at_exp(void)
{
	struct sl_auth_claims v;
	char tok[SL_AUTH_TOKEN_MAX];

	sl_auth_jwt_issue(&key, "alice", "api", 1000, 10, tok, sizeof(tok), NULL);
	CU_ASSERT_EQUAL(sl_auth_jwt_verify(&key, tok, 1009, &v), 0);
	CU_ASSERT_EQUAL(sl_auth_jwt_verify(&key, tok, 1010, &v), -EKEYEXPIRED);
	CU_ASSERT_EQUAL(sl_auth_jwt_verify(&key, tok, 99999, &v), -EKEYEXPIRED);
}

static void
test_jwt_issued_in_the_future_is_refused(void)
{
	struct sl_auth_claims v;
	char tok[SL_AUTH_TOKEN_MAX];

	sl_auth_jwt_issue(&key, "alice", "api", 5000, 3600, tok, sizeof(tok), NULL);
	CU_ASSERT_EQUAL(sl_auth_jwt_verify(&key, tok, 5000 - 61, &v), -EBADMSG);
	CU_ASSERT_EQUAL(sl_auth_jwt_verify(&key, tok, 5000 - 60, &v), 0); /* clock skew */
}

static void
test_jwt_with_another_key_is_refused(void)
{
	struct sl_auth_jwt_key other;
	struct sl_auth_claims v;
	char tok[SL_AUTH_TOKEN_MAX], err[128];

	CU_ASSERT_EQUAL(sl_auth_jwt_key_init(&other, NULL, NULL, err, sizeof(err)), 0);
	sl_auth_jwt_issue(&other, "alice", "api", 1000, 60, tok, sizeof(tok), NULL);
	CU_ASSERT_EQUAL(sl_auth_jwt_verify(&key, tok, 1001, &v), -EBADMSG);
	CU_ASSERT_STRING_EQUAL(v.sub, "");
}

static void
test_jwt_tampered_payload_is_refused(void)
{
	struct sl_auth_claims c, v;
	char tok[SL_AUTH_TOKEN_MAX], forged[SL_AUTH_TOKEN_MAX], payload[256], enc[400];

	sl_auth_jwt_issue(&key, "alice", "api", 1000, 60, tok, sizeof(tok), &c);
	/* The same header and signature around a payload naming someone else, and one that
	 * only extends exp. */
	const char *subs[] = {"mallory", "alice"};
	const long exps[] = {1060, 999999};

	for (int i = 0; i < 2; i++) {
		char *d1 = strchr(tok, '.'), *d2 = strchr(d1 + 1, '.');

		snprintf(
		    payload, sizeof(payload),
		    "{\"exp\":%ld,\"iat\":1000,\"jti\":\"%s\",\"scope\":\"api\",\"sub\":\"%s\"}",
		    exps[i], c.jti, subs[i]);
		b64url((const unsigned char *)payload, strlen(payload), enc);
		snprintf(forged, sizeof(forged), "%.*s.%s%s", (int)(d1 - tok), tok, enc, d2);
		CU_ASSERT_EQUAL(sl_auth_jwt_verify(&key, forged, 1001, &v), -EBADMSG);
	}
	/* One flipped character in the signature. */
	snprintf(forged, sizeof(forged), "%s", tok);
	size_t n = strlen(forged);

	forged[n - 2] = forged[n - 2] == 'A' ? 'B' : 'A';
	CU_ASSERT_EQUAL(sl_auth_jwt_verify(&key, forged, 1001, &v), -EBADMSG);
	/* The untouched token still verifies: the refusals above are about the changes. */
	CU_ASSERT_EQUAL(sl_auth_jwt_verify(&key, tok, 1001, &v), 0);
}

static void
test_jwt_alg_none_is_refused(void)
{
	struct sl_auth_claims c, v;
	char tok[SL_AUTH_TOKEN_MAX], forged[SL_AUTH_TOKEN_MAX], hdr[64], payload[256], enc[400];
	const char *none = "{\"alg\":\"none\",\"typ\":\"JWT\"}";

	sl_auth_jwt_issue(&key, "alice", "api", 1000, 60, tok, sizeof(tok), &c);
	b64url((const unsigned char *)none, strlen(none), hdr);
	snprintf(payload, sizeof(payload),
		 "{\"exp\":1060,\"iat\":1000,\"jti\":\"%s\",\"scope\":\"api\",\"sub\":\"alice\"}",
		 c.jti);
	b64url((const unsigned char *)payload, strlen(payload), enc);
	/* Unsigned, as alg none has it, and with the real token's signature attached. */
	snprintf(forged, sizeof(forged), "%s.%s.", hdr, enc);
	CU_ASSERT_EQUAL(sl_auth_jwt_verify(&key, forged, 1001, &v), -EBADMSG);
	snprintf(forged, sizeof(forged), "%s.%s%s", hdr, enc, strrchr(tok, '.'));
	CU_ASSERT_EQUAL(sl_auth_jwt_verify(&key, forged, 1001, &v), -EBADMSG);

	/* A token libjwt itself makes with alg none. */
	jwt_t *j;
	char *s;

	CU_ASSERT_EQUAL_FATAL(jwt_new(&j), 0);
	jwt_add_grant(j, "sub", "alice");
	jwt_add_grant(j, "jti", "0123456789abcdef0123456789abcdef");
	jwt_add_grant_int(j, "iat", 1000);
	jwt_add_grant_int(j, "exp", 1060);
	jwt_set_alg(j, JWT_ALG_NONE, NULL, 0);
	s = jwt_encode_str(j);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(sl_auth_jwt_verify(&key, s, 1001, &v), -EBADMSG);
	free(s);
	jwt_free(j);
}

static void
test_jwt_other_hmac_alg_with_our_key_is_refused(void)
{
	struct sl_auth_claims v;
	jwt_t *j;
	char *s;

	CU_ASSERT_EQUAL_FATAL(jwt_new(&j), 0);
	jwt_add_grant(j, "sub", "alice");
	jwt_add_grant(j, "jti", "0123456789abcdef0123456789abcdef");
	jwt_add_grant_int(j, "iat", 1000);
	jwt_add_grant_int(j, "exp", 1060);
	jwt_set_alg(j, JWT_ALG_HS384, key.key, (int)key.len);
	s = jwt_encode_str(j);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(sl_auth_jwt_verify(&key, s, 1001, &v), -EBADMSG);
	free(s);
	jwt_free(j);
	/* The same claims with HS256 pass: the refusal above is the algorithm's. */
	jwt_t *k;

	CU_ASSERT_EQUAL_FATAL(jwt_new(&k), 0);
	jwt_add_grant(k, "sub", "alice");
	jwt_add_grant(k, "jti", "0123456789abcdef0123456789abcdef");
	jwt_add_grant_int(k, "iat", 1000);
	jwt_add_grant_int(k, "exp", 1060);
	jwt_set_alg(k, JWT_ALG_HS256, key.key, (int)key.len);
	s = jwt_encode_str(k);
	CU_ASSERT_EQUAL(sl_auth_jwt_verify(&key, s, 1001, &v), 0);
	free(s);
	jwt_free(k);
}

static void
test_jwt_garbage_is_refused(void)
{
	struct sl_auth_claims v;
	const char *bad[] = {"",   "abc",  "a.b",     "a.b.c",
			     "..", "a..c", "a.b.c.d", "eyJhbGciOiJIUzI1NiJ9.e30.x"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(sl_auth_jwt_verify(&key, bad[i], 1001, &v), -EBADMSG);
	CU_ASSERT_EQUAL(sl_auth_jwt_verify(&key, NULL, 1001, &v), -EBADMSG);
}

static void
test_jwt_missing_claims_are_refused(void)
{
	struct sl_auth_claims v;
	jwt_t *j;
	char *s;

	/* Signed with our key and HS256, but no exp: never accepted as "never expires". */
	CU_ASSERT_EQUAL_FATAL(jwt_new(&j), 0);
	jwt_add_grant(j, "sub", "alice");
	jwt_add_grant(j, "jti", "0123456789abcdef0123456789abcdef");
	jwt_add_grant_int(j, "iat", 1000);
	jwt_set_alg(j, JWT_ALG_HS256, key.key, (int)key.len);
	s = jwt_encode_str(j);
	CU_ASSERT_EQUAL(sl_auth_jwt_verify(&key, s, 1001, &v), -EBADMSG);
	free(s);
	jwt_free(j);
}

static void
test_jwt_key_from_secret_file_and_random(void)
{
	struct sl_auth_jwt_key a, b;
	char path[256], err[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/secret", tmpdir);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("file-secret-0123456789\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(sl_auth_jwt_key_init(&a, "", path, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(a.len, strlen("file-secret-0123456789")); /* newline dropped */
	CU_ASSERT_FALSE(a.random);
	CU_ASSERT_EQUAL(sl_auth_jwt_key_init(&b, "file-secret-0123456789", NULL, err, sizeof(err)),
			0);
	CU_ASSERT_EQUAL(memcmp(a.key, b.key, a.len), 0);

	CU_ASSERT_NOT_EQUAL(sl_auth_jwt_key_init(&a, NULL, "/nonexistent/secret", err, sizeof(err)),
			    0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/secret"));

	CU_ASSERT_EQUAL(sl_auth_jwt_key_init(&a, NULL, NULL, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(sl_auth_jwt_key_init(&b, NULL, NULL, err, sizeof(err)), 0);
	CU_ASSERT_TRUE(a.random);
	CU_ASSERT_EQUAL(a.len, SL_AUTH_JWT_RANDOM_KEY);
	CU_ASSERT_NOT_EQUAL(memcmp(a.key, b.key, a.len), 0);
}

/* ------------------------------------------------------------------ rate limit */

static void
test_rate_limit_burst_then_refill_with_retry_after(void)
{
	static struct sl_cp_rate_limit rl;
	const uint64_t s = 1000000000ull, t0 = 100 * s;

	sl_cp_rl_init(&rl, true, 1, 3);
	CU_ASSERT_EQUAL(sl_cp_rl_take(&rl, "198.18.0.1", t0), 0);
	CU_ASSERT_EQUAL(sl_cp_rl_take(&rl, "198.18.0.1", t0), 0);
	CU_ASSERT_EQUAL(sl_cp_rl_take(&rl, "198.18.0.1", t0), 0);
	CU_ASSERT_EQUAL(sl_cp_rl_take(&rl, "198.18.0.1", t0), 1);
	/* Another address has its own bucket. */
	CU_ASSERT_EQUAL(sl_cp_rl_take(&rl, "198.18.0.2", t0), 0);
	CU_ASSERT_EQUAL(sl_cp_rl_take(&rl, "198.18.0.1", t0 + s / 2), 1);
	CU_ASSERT_EQUAL(sl_cp_rl_take(&rl, "198.18.0.1", t0 + s), 0);
	CU_ASSERT_EQUAL(sl_cp_rl_take(&rl, "198.18.0.1", t0 + s), 1);
	sl_cp_rl_fini(&rl);
}

static void
test_login_failure_limit_waits_twelve_seconds(void)
{
	static struct sl_cp_rate_limit rl;
	const uint64_t t0 = 5000000000ull;

	sl_cp_rl_init(&rl, true, 5.0 / 60, 5);
	for (int i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(sl_cp_rl_peek(&rl, "a", t0), 0);
		CU_ASSERT_EQUAL(sl_cp_rl_take(&rl, "a", t0), 0);
	}
	CU_ASSERT_EQUAL(sl_cp_rl_peek(&rl, "a", t0), 12);
	CU_ASSERT_EQUAL(sl_cp_rl_peek(&rl, "a", t0), 12); /* peek takes nothing */
	CU_ASSERT_EQUAL(sl_cp_rl_peek(&rl, "a", t0 + 12000000000ull), 0);
	sl_cp_rl_fini(&rl);
}

static void
test_rate_limit_disabled_and_table_full(void)
{
	static struct sl_cp_rate_limit rl;
	char addr[32];

	sl_cp_rl_init(&rl, false, 1, 1);
	for (int i = 0; i < 10; i++)
		CU_ASSERT_EQUAL(sl_cp_rl_take(&rl, "x", 1), 0);
	sl_cp_rl_fini(&rl);

	/* More addresses than slots: the longest idle bucket is reused, the newest kept. */
	sl_cp_rl_init(&rl, true, 1, 1);
	for (int i = 0; i < SL_CP_RL_SLOTS + 10; i++) {
		snprintf(addr, sizeof(addr), "198.18.%d.%d", i / 256, i % 256);
		CU_ASSERT_EQUAL(sl_cp_rl_take(&rl, addr, 1000 + i), 0);
	}
	CU_ASSERT_EQUAL(sl_cp_rl_take(&rl, addr, 2000), 1);
	sl_cp_rl_fini(&rl);
}

int
main(void)
{
	static const struct sl_unit_test tests[] = {
#define T(f) {#f, f}
	    T(test_hash_is_argon2id_with_the_chosen_cost_and_verifies),
	    T(test_same_password_hashes_differ_by_salt),
	    T(test_verify_refuses_what_is_not_an_argon2id_hash),
	    T(test_hash_into_a_small_buffer_is_refused),
	    T(test_password_strength_minimum),
	    T(test_user_names_are_checked),
	    T(test_password_expiry_boundary),
	    T(test_store_creates_schema_and_keeps_users_across_reopen),
	    T(test_store_delete_removes_user_and_history),
	    T(test_store_history_keeps_the_newest_n),
	    T(test_store_open_failure_names_the_path),
	    T(test_history_refuses_the_last_n_passwords_and_allows_older),
	    T(test_history_size_zero_allows_reuse),
	    T(test_change_refuses_weak_and_unknown),
	    T(test_jwt_issue_then_verify_gives_the_claims),
	    T(test_jwt_ids_are_unique),
	    T(test_jwt_expires_at_exp),
	    T(test_jwt_issued_in_the_future_is_refused),
	    T(test_jwt_with_another_key_is_refused),
	    T(test_jwt_tampered_payload_is_refused),
	    T(test_jwt_alg_none_is_refused),
	    T(test_jwt_other_hmac_alg_with_our_key_is_refused),
	    T(test_jwt_garbage_is_refused),
	    T(test_jwt_missing_claims_are_refused),
	    T(test_jwt_key_from_secret_file_and_random),
	    T(test_rate_limit_burst_then_refill_with_retry_after),
	    T(test_login_failure_limit_waits_twelve_seconds),
	    T(test_rate_limit_disabled_and_table_full),
#undef T
	};
	char err[128], cmd[64];
	int failed;

	if (mkdtemp(tmpdir) == NULL)
		return 1;
	if (sl_auth_jwt_key_init(&key, "unit-test-secret-0123456789abcdef", NULL, err,
				 sizeof(err)) != 0)
		return 1;
	failed = SL_UNIT_RUN("controlplane/auth", tests);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	return failed;
}
