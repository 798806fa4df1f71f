/* SPDX-License-Identifier: MIT */
#ifndef SL_AUTH_JWT_H
#define SL_AUTH_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controlplane/auth_password.h"

/*
 * HS256 tokens (libjwt). The key comes from, in order: admin.auth.jwt_secret,
 * admin.auth.jwt_secret_file (the file's bytes, one trailing newline dropped), or 32
 * random bytes from getrandom() at start-up: then every restart logs everyone out, which
 * is the safe default for a single instance (several instances behind one name need a
 * shared secret).
 */
#define SL_AUTH_JWT_KEY_MAX 512
#define SL_AUTH_JWT_RANDOM_KEY 32
#define SL_AUTH_TOKEN_MAX 1024

/* The token's scope: full API, or only POST /api/auth/password (an expired password). */
#define SL_AUTH_SCOPE_API "api"
#define SL_AUTH_SCOPE_PASSWORD "password_change"

struct sl_auth_jwt_key {
	unsigned char key[SL_AUTH_JWT_KEY_MAX];
	size_t len;
	bool random; /* generated for this run */
};

struct sl_auth_claims {
	char sub[SL_AUTH_NAME_MAX + 1];
	char jti[33];
	char scope[24];
	int64_t iat;
	int64_t exp;
};

/* secret and secret_file may be NULL or "". 0 or -errno with a sentence in err. */
int sl_auth_jwt_key_init(struct sl_auth_jwt_key *k, const char *secret, const char *secret_file,
			 char *err, size_t errlen);

/* Issue a token for sub valid [now, now + ttl_s). 0, -ENOSPC (out too small) or -errno. */
int sl_auth_jwt_issue(const struct sl_auth_jwt_key *k, const char *sub, const char *scope,
		      int64_t now, uint32_t ttl_s, char *out, size_t outlen,
		      struct sl_auth_claims *claims);

/*
 * Verify a token: the signature with the key, the algorithm pinned to HS256 (a token
 * claiming "none" or any other algorithm is refused whatever its signature), exp > now,
 * iat not in the future (60 s of clock skew allowed), sub and jti present.
 * Returns 0 and fills c, -EKEYEXPIRED (expired), or -EBADMSG (anything else).
 */
int sl_auth_jwt_verify(const struct sl_auth_jwt_key *k, const char *token, int64_t now,
		       struct sl_auth_claims *c);

#endif
