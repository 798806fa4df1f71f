/* SPDX-License-Identifier: MIT */
#ifndef SL_AUTH_PASSWORD_H
#define SL_AUTH_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sl_auth_store;

/*
 * argon2id with OWASP's baseline for interactive logins: 19 MiB, 2 passes, one lane
 * (~30 ms here). The parameters travel in the encoded hash, so raising them later
 * leaves existing hashes verifiable.
 */
#define SL_AUTH_ARGON2_M_KIB 19456
#define SL_AUTH_ARGON2_T 2
#define SL_AUTH_ARGON2_P 1
#define SL_AUTH_HASH_MAX 160 /* an encoded argon2id hash with these parameters is ~97 bytes */

#define SL_AUTH_PASSWORD_MIN 12	 /* characters (bytes) */
#define SL_AUTH_PASSWORD_MAX 256 /* bytes; argon2 takes more, a login form does not need it */
#define SL_AUTH_NAME_MAX 64

/* Hash a password into an encoded "$argon2id$v=19$m=...,t=...,p=...$salt$hash" string. */
int sl_auth_password_hash(const char *password, char *encoded, size_t len);

/* 0 if password matches the encoded hash, -EACCES if not, -EINVAL if encoded is not one. */
int sl_auth_password_verify(const char *encoded, const char *password);

/* A user name: 1..64 of [A-Za-z0-9._-]. 0 or -EINVAL with a sentence in err. */
int sl_auth_name_check(const char *name, char *err, size_t errlen);

/* The strength minimum: length bounds, not the user name. 0 or -EINVAL with a sentence. */
int sl_auth_password_check(const char *name, const char *password, char *err, size_t errlen);

/* Whether a password set at changed_at (Unix seconds) has expired at now; 0 days = never. */
bool sl_auth_password_expired(int64_t changed_at, int64_t now, uint32_t expiry_days);

/*
 * Set name's password to password, enforcing the strength minimum and the history: the
 * password may not be any of the last history_size passwords of the user (the current one
 * included); history_size 0 allows reuse. Returns 0, -ENOENT (no such user), -EINVAL (too
 * weak), -EEXIST (reused), or another -errno; err holds a sentence for a person.
 */
int sl_auth_password_change(struct sl_auth_store *s, const char *name, const char *password,
			    uint32_t history_size, int64_t now, char *err, size_t errlen);

/* Create a user (strength minimum enforced); -EEXIST if it exists. */
int sl_auth_user_create(struct sl_auth_store *s, const char *name, const char *password,
			int64_t now, char *err, size_t errlen);

#endif
