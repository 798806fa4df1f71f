/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <argon2.h>

#include "controlplane/auth_password.h"
#include "controlplane/auth_store.h"

#define SALT_LEN 16
#define HASH_LEN 32

int
sl_auth_password_hash(const char *password, char *encoded, size_t len)
{
	uint8_t salt[SALT_LEN];
	size_t need = argon2_encodedlen(SL_AUTH_ARGON2_T, SL_AUTH_ARGON2_M_KIB, SL_AUTH_ARGON2_P,
					SALT_LEN, HASH_LEN, Argon2_id);

	if (need > len)
		return -ENOSPC;
	if (getrandom(salt, sizeof(salt), 0) != sizeof(salt))
		return -EIO;
	if (argon2id_hash_encoded(SL_AUTH_ARGON2_T, SL_AUTH_ARGON2_M_KIB, SL_AUTH_ARGON2_P,
				  password, strlen(password), salt, sizeof(salt), HASH_LEN, encoded,
				  len) != ARGON2_OK)
		return -ENOMEM;
	return 0;
}

int
sl_auth_password_verify(const char *encoded, const char *password)
{
	int rc;

	/* Only argon2id: a hash of another kind in the database is a tampered row. */
	if (strncmp(encoded, "$argon2id$", 10) != 0)
		return -EINVAL;
	/* argon2_verify recomputes and compares in constant time. */
	rc = argon2id_verify(encoded, password, strlen(password));
	if (rc == ARGON2_OK)
		return 0;
	return rc == ARGON2_VERIFY_MISMATCH ? -EACCES : -EINVAL;
}

int
sl_auth_name_check(const char *name, char *err, size_t errlen)
{
	size_t n = strlen(name);

	if (n == 0 || n > SL_AUTH_NAME_MAX) {
		snprintf(err, errlen, "a user name has 1 to %d characters", SL_AUTH_NAME_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-')) {
			snprintf(err, errlen,
				 "a user name may hold only letters, digits, '.', '_' and '-'");
			return -EINVAL;
		}
	}
	return 0;
}

int
sl_auth_password_check(const char *name, const char *password, char *err, size_t errlen)
{
	size_t n = strlen(password);

	if (n < SL_AUTH_PASSWORD_MIN) {
		snprintf(err, errlen, "the password is too short: at least %d characters",
			 SL_AUTH_PASSWORD_MIN);
		return -EINVAL;
	}
	if (n > SL_AUTH_PASSWORD_MAX) {
		snprintf(err, errlen, "the password is too long: at most %d bytes",
			 SL_AUTH_PASSWORD_MAX);
		return -EINVAL;
	}
	if (name != NULL && strcasestr(password, name) != NULL) {
		snprintf(err, errlen, "the password must not contain the user name");
		return -EINVAL;
	}
	return 0;
}

bool
sl_auth_password_expired(int64_t changed_at, int64_t now, uint32_t expiry_days)
{
	if (expiry_days == 0)
		return false;
	return now - changed_at >= (int64_t)expiry_days * 86400;
}

struct reuse_check {
	const char *password;
	bool seen;
};

static int
reuse_one(const char *hash, void *arg)
{
	struct reuse_check *r = arg;

	if (sl_auth_password_verify(hash, r->password) == 0) {
		r->seen = true;
		return 1;
	}
	return 0;
}

int
sl_auth_password_change(struct sl_auth_store *s, const char *name, const char *password,
			uint32_t history_size, int64_t now, char *err, size_t errlen)
{
	struct reuse_check r = {password, false};
	struct sl_auth_user u;
	char hash[SL_AUTH_HASH_MAX];
	int rc;

	rc = sl_auth_store_get(s, name, &u);
	if (rc == -ENOENT) {
		snprintf(err, errlen, "no user '%s'", name);
		return rc;
	}
	if (rc) {
		snprintf(err, errlen, "cannot read the user database: %s", sl_auth_store_errmsg(s));
		return rc;
	}
	rc = sl_auth_password_check(name, password, err, errlen);
	if (rc)
		return rc;
	rc = sl_auth_store_history(s, name, history_size, reuse_one, &r);
	if (rc < 0) {
		snprintf(err, errlen, "cannot read the password history: %s",
			 sl_auth_store_errmsg(s));
		return rc;
	}
	if (r.seen) {
		snprintf(err, errlen,
			 "the password was used recently: choose one that is not among the last "
			 "%u passwords",
			 history_size);
		return -EEXIST;
	}
	rc = sl_auth_password_hash(password, hash, sizeof(hash));
	if (rc) {
		snprintf(err, errlen, "cannot hash the password (%s)", strerror(-rc));
		return rc;
	}
	rc = sl_auth_store_set_hash(s, name, hash, now, history_size);
	if (rc == -ENOENT)
		snprintf(err, errlen, "no user '%s'", name);
	else if (rc)
		snprintf(err, errlen, "cannot write the user database: %s",
			 sl_auth_store_errmsg(s));
	return rc;
}

int
sl_auth_user_create(struct sl_auth_store *s, const char *name, const char *password, int64_t now,
		    char *err, size_t errlen)
{
	char hash[SL_AUTH_HASH_MAX];
	int rc;

	rc = sl_auth_name_check(name, err, errlen);
	if (rc)
		return rc;
	rc = sl_auth_password_check(name, password, err, errlen);
	if (rc)
		return rc;
	rc = sl_auth_password_hash(password, hash, sizeof(hash));
	if (rc) {
		snprintf(err, errlen, "cannot hash the password (%s)", strerror(-rc));
		return rc;
	}
	rc = sl_auth_store_add(s, name, hash, now);
	if (rc == -EEXIST)
		snprintf(err, errlen, "user '%s' exists already", name);
	else if (rc)
		snprintf(err, errlen, "cannot write the user database: %s",
			 sl_auth_store_errmsg(s));
	return rc;
}
