/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <jwt.h>

#include "controlplane/auth_jwt.h"

#define CLOCK_SKEW_S 60

int
sl_auth_jwt_key_init(struct sl_auth_jwt_key *k, const char *secret, const char *secret_file,
		     char *err, size_t errlen)
{
	memset(k, 0, sizeof(*k));
	if (secret != NULL && secret[0] != '\0') {
		size_t n = strlen(secret);

		if (n > sizeof(k->key)) {
			snprintf(err, errlen, "jwt_secret is longer than %zu bytes",
				 sizeof(k->key));
			return -EINVAL;
		}
		memcpy(k->key, secret, n);
		k->len = n;
		return 0;
	}
	if (secret_file != NULL && secret_file[0] != '\0') {
		int fd = open(secret_file, O_RDONLY | O_CLOEXEC);
		ssize_t n;

		if (fd < 0) {
			snprintf(err, errlen, "cannot open jwt_secret_file %s: %s", secret_file,
				 strerror(errno));
			return -errno;
		}
		/* One byte more than fits, to tell a too long file from one that fits exactly. */
		unsigned char buf[SL_AUTH_JWT_KEY_MAX + 2];

		n = read(fd, buf, sizeof(buf));
		close(fd);
		if (n < 0) {
			snprintf(err, errlen, "cannot read jwt_secret_file %s: %s", secret_file,
				 strerror(errno));
			return -EIO;
		}
		/* Files written by editors and `echo` end in a newline that is not the secret. */
		if (n > 0 && buf[n - 1] == '\n')
			n--;
		if (n > 0 && buf[n - 1] == '\r')
			n--;
		if (n == 0 || (size_t)n > sizeof(k->key)) {
			snprintf(err, errlen, "jwt_secret_file %s must hold 1 to %zu bytes",
				 secret_file, sizeof(k->key));
			return -EINVAL;
		}
		memcpy(k->key, buf, n);
		k->len = n;
		explicit_bzero(buf, sizeof(buf));
		return 0;
	}
	if (getrandom(k->key, SL_AUTH_JWT_RANDOM_KEY, 0) != SL_AUTH_JWT_RANDOM_KEY) {
		snprintf(err, errlen, "getrandom failed: %s", strerror(errno));
		return -EIO;
	}
	k->len = SL_AUTH_JWT_RANDOM_KEY;
	k->random = true;
	return 0;
}

static int
random_hex(char *out, size_t bytes)
{
	unsigned char b[32];

	if (bytes > sizeof(b) || getrandom(b, bytes, 0) != (ssize_t)bytes)
		return -EIO;
	for (size_t i = 0; i < bytes; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	return 0;
}

int
sl_auth_jwt_issue(const struct sl_auth_jwt_key *k, const char *sub, const char *scope, int64_t now,
		  uint32_t ttl_s, char *out, size_t outlen, struct sl_auth_claims *claims)
{
	struct sl_auth_claims c = {0};
	jwt_t *jwt = NULL;
	char *tok = NULL;
	int rc = -ENOMEM;

	snprintf(c.sub, sizeof(c.sub), "%s", sub);
	snprintf(c.scope, sizeof(c.scope), "%s", scope);
	c.iat = now;
	c.exp = now + ttl_s;
	if (random_hex(c.jti, 16))
		return -EIO;
	if (jwt_new(&jwt) != 0)
		return -ENOMEM;
	if (jwt_add_grant(jwt, "sub", c.sub) || jwt_add_grant(jwt, "jti", c.jti) ||
	    jwt_add_grant(jwt, "scope", c.scope) || jwt_add_grant_int(jwt, "iat", c.iat) ||
	    jwt_add_grant_int(jwt, "exp", c.exp) ||
	    jwt_set_alg(jwt, JWT_ALG_HS256, k->key, (int)k->len))
		goto out;
	tok = jwt_encode_str(jwt);
	if (tok == NULL)
		goto out;
	if (strlen(tok) >= outlen) {
		rc = -ENOSPC;
		goto out;
	}
	strcpy(out, tok);
	if (claims)
		*claims = c;
	rc = 0;
out:
	free(tok);
	jwt_free(jwt);
	return rc;
}

/* Three non-empty dot-separated parts: an HS256 token always has a signature. */
static bool
token_shape_ok(const char *token)
{
	const char *d1 = strchr(token, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;

	return d1 != NULL && d1 != token && d2 != NULL && d2 != d1 + 1 && d2[1] != '\0' &&
	       strchr(d2 + 1, '.') == NULL;
}

int
sl_auth_jwt_verify(const struct sl_auth_jwt_key *k, const char *token, int64_t now,
		   struct sl_auth_claims *c)
{
	jwt_t *jwt = NULL;
	const char *s;
	int rc = -EBADMSG;

	memset(c, 0, sizeof(*c));
	if (token == NULL || strlen(token) >= SL_AUTH_TOKEN_MAX || !token_shape_ok(token))
		return -EBADMSG;
	/* With a key, libjwt checks the signature with the header's algorithm... */
	if (jwt_decode(&jwt, token, k->key, (int)k->len) != 0 || jwt == NULL)
		return -EBADMSG;
	/* ...so the algorithm is pinned here: alg "none" or HS384 signed with our key is refused.
	 */
	if (jwt_get_alg(jwt) != JWT_ALG_HS256)
		goto out;
	s = jwt_get_grant(jwt, "sub");
	if (s == NULL || strlen(s) > SL_AUTH_NAME_MAX)
		goto out;
	snprintf(c->sub, sizeof(c->sub), "%s", s);
	s = jwt_get_grant(jwt, "jti");
	if (s == NULL || strlen(s) >= sizeof(c->jti))
		goto out;
	snprintf(c->jti, sizeof(c->jti), "%s", s);
	s = jwt_get_grant(jwt, "scope");
	snprintf(c->scope, sizeof(c->scope), "%s", s ? s : "");
	errno = 0;
	c->exp = jwt_get_grant_int(jwt, "exp");
	if (errno)
		goto out;
	c->iat = jwt_get_grant_int(jwt, "iat");
	if (errno)
		goto out;
	if (c->iat > now + CLOCK_SKEW_S)
		goto out;
	rc = now >= c->exp ? -EKEYEXPIRED : 0;
out:
	jwt_free(jwt);
	if (rc)
		memset(c, 0, sizeof(*c));
	return rc;
}
