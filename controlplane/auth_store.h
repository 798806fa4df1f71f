/* SPDX-License-Identifier: MIT */
#ifndef SL_AUTH_STORE_H
#define SL_AUTH_STORE_H

#include <stdint.h>

#include "controlplane/auth_password.h"

/*
 * Admin users in SQLite: users(name, hash, created_at, changed_at) and
 * password_history(name, hash, changed_at), created if absent. sluice and sluicectl open
 * the same file; SQLite's locking serialises them (busy timeout 5 s). One handle must not
 * be used by two threads at once: the admin server holds a mutex around it.
 */
struct sl_auth_store;

struct sl_auth_user {
	char name[SL_AUTH_NAME_MAX + 1];
	char hash[SL_AUTH_HASH_MAX];
	int64_t created_at; /* Unix seconds */
	int64_t changed_at; /* when the password was last set */
};

/* Open (creating the file and the schema if absent). 0 or -errno with a sentence in err. */
int sl_auth_store_open(const char *path, struct sl_auth_store **out, char *err, size_t errlen);
void sl_auth_store_close(struct sl_auth_store *s);

/* 0, -ENOENT, or -EIO. */
int sl_auth_store_get(struct sl_auth_store *s, const char *name, struct sl_auth_user *u);
/* Insert a user with an already hashed password (recorded in the history too); -EEXIST. */
int sl_auth_store_add(struct sl_auth_store *s, const char *name, const char *hash, int64_t now);
/* Replace the hash, record it in the history and keep only the newest `keep` entries. */
int sl_auth_store_set_hash(struct sl_auth_store *s, const char *name, const char *hash, int64_t now,
			   uint32_t keep);
/* Delete a user and its history; -ENOENT if absent. */
int sl_auth_store_del(struct sl_auth_store *s, const char *name);
/* Number of users, or -EIO. */
int sl_auth_store_count(struct sl_auth_store *s);

/* Calls fn for each user by name; stops and returns fn's value if non-zero. */
int sl_auth_store_list(struct sl_auth_store *s, int (*fn)(const struct sl_auth_user *u, void *arg),
		       void *arg);

/* Calls fn for the newest n history hashes of name, newest first (stops on non-zero). */
int sl_auth_store_history(struct sl_auth_store *s, const char *name, uint32_t n,
			  int (*fn)(const char *hash, void *arg), void *arg);

/* The last SQLite error message, for logs. */
const char *sl_auth_store_errmsg(struct sl_auth_store *s);

#endif
