/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "controlplane/auth_store.h"

struct sl_auth_store {
	sqlite3 *db;
};

/* user_version 1. A later schema change bumps it and migrates here. */
static const char schema[] =
    "CREATE TABLE IF NOT EXISTS users ("
    " name TEXT PRIMARY KEY NOT NULL,"
    " hash TEXT NOT NULL,"
    " created_at INTEGER NOT NULL,"
    " changed_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS password_history ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,"
    " hash TEXT NOT NULL,"
    " changed_at INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS password_history_name ON password_history(name, id);"
    "PRAGMA user_version = 1;";

int
sl_auth_store_open(const char *path, struct sl_auth_store **out, char *err, size_t errlen)
{
	struct sl_auth_store *s;
	char *msg = NULL;
	int rc;

	*out = NULL;
	if (path == NULL || path[0] == '\0') {
		snprintf(err, errlen, "no user database path (set admin.auth.db_path)");
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open the user database %s: %s", path,
			 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto fail;
	}
	/* sluice and sluicectl may write at the same time: wait for the other's lock. */
	sqlite3_busy_timeout(s->db, 5000);
	if (sqlite3_exec(s->db, "PRAGMA foreign_keys = ON;", NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(s->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "cannot create the schema in the user database %s: %s", path,
			 msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		goto fail;
	}
	*out = s;
	return 0;
fail:
	sqlite3_close(s->db);
	free(s);
	return -EIO;
}

void
sl_auth_store_close(struct sl_auth_store *s)
{
	if (s == NULL)
		return;
	sqlite3_close(s->db);
	free(s);
}

const char *
sl_auth_store_errmsg(struct sl_auth_store *s)
{
	return sqlite3_errmsg(s->db);
}

static sqlite3_stmt *
prepare(struct sl_auth_store *s, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	return st;
}

static void
row_to_user(sqlite3_stmt *st, struct sl_auth_user *u)
{
	const unsigned char *name = sqlite3_column_text(st, 0);
	const unsigned char *hash = sqlite3_column_text(st, 1);

	memset(u, 0, sizeof(*u));
	snprintf(u->name, sizeof(u->name), "%s", name ? (const char *)name : "");
	snprintf(u->hash, sizeof(u->hash), "%s", hash ? (const char *)hash : "");
	u->created_at = sqlite3_column_int64(st, 2);
	u->changed_at = sqlite3_column_int64(st, 3);
}

int
sl_auth_store_get(struct sl_auth_store *s, const char *name, struct sl_auth_user *u)
{
	sqlite3_stmt *st;
	int rc;

	st = prepare(s, "SELECT name, hash, created_at, changed_at FROM users WHERE name = ?1");
	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		row_to_user(st, u);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : -EIO;
	}
	sqlite3_finalize(st);
	return rc;
}

static int
exec_simple(struct sl_auth_store *s, const char *sql)
{
	return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

static int
history_add(struct sl_auth_store *s, const char *name, const char *hash, int64_t now, uint32_t keep)
{
	sqlite3_stmt *st;
	int rc;

	st = prepare(s, "INSERT INTO password_history(name, hash, changed_at) VALUES (?1, ?2, ?3)");
	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
	sqlite3_finalize(st);
	if (rc)
		return rc;
	/* Old hashes are not kept beyond what the policy needs: they are still secrets. */
	st = prepare(s,
		     "DELETE FROM password_history WHERE name = ?1 AND id NOT IN "
		     "(SELECT id FROM password_history WHERE name = ?1 ORDER BY id DESC LIMIT ?2)");
	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, keep ? keep : 1);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
	sqlite3_finalize(st);
	return rc;
}

int
sl_auth_store_add(struct sl_auth_store *s, const char *name, const char *hash, int64_t now)
{
	sqlite3_stmt *st;
	int rc;

	if (exec_simple(s, "BEGIN IMMEDIATE"))
		return -EIO;
	st = prepare(s, "INSERT INTO users(name, hash, created_at, changed_at) "
			"VALUES (?1, ?2, ?3, ?3)");
	if (st == NULL) {
		rc = -EIO;
		goto out;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		rc = 0;
	else if (sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_PRIMARYKEY)
		rc = -EEXIST;
	else
		rc = -EIO;
	sqlite3_finalize(st);
	if (rc == 0)
		rc = history_add(s, name, hash, now, 1000);
out:
	if (rc == 0 && exec_simple(s, "COMMIT") == 0)
		return 0;
	exec_simple(s, "ROLLBACK");
	return rc ? rc : -EIO;
}

int
sl_auth_store_set_hash(struct sl_auth_store *s, const char *name, const char *hash, int64_t now,
		       uint32_t keep)
{
	sqlite3_stmt *st;
	int rc;

	if (exec_simple(s, "BEGIN IMMEDIATE"))
		return -EIO;
	st = prepare(s, "UPDATE users SET hash = ?2, changed_at = ?3 WHERE name = ?1");
	if (st == NULL) {
		rc = -EIO;
		goto out;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
	if (rc == 0 && sqlite3_changes(s->db) == 0)
		rc = -ENOENT;
	sqlite3_finalize(st);
	if (rc == 0)
		rc = history_add(s, name, hash, now, keep);
out:
	if (rc == 0 && exec_simple(s, "COMMIT") == 0)
		return 0;
	exec_simple(s, "ROLLBACK");
	return rc ? rc : -EIO;
}

int
sl_auth_store_del(struct sl_auth_store *s, const char *name)
{
	sqlite3_stmt *st;
	int rc;

	st = prepare(s, "DELETE FROM users WHERE name = ?1");
	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
	if (rc == 0 && sqlite3_changes(s->db) == 0)
		rc = -ENOENT;
	sqlite3_finalize(st);
	return rc;
}

int
sl_auth_store_count(struct sl_auth_store *s)
{
	sqlite3_stmt *st = prepare(s, "SELECT count(*) FROM users");
	int rc;

	if (st == NULL)
		return -EIO;
	rc = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -EIO;
	sqlite3_finalize(st);
	return rc;
}

int
sl_auth_store_list(struct sl_auth_store *s, int (*fn)(const struct sl_auth_user *u, void *arg),
		   void *arg)
{
	struct sl_auth_user u;
	sqlite3_stmt *st;
	int rc = 0, step;

	st = prepare(s, "SELECT name, hash, created_at, changed_at FROM users ORDER BY name");
	if (st == NULL)
		return -EIO;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		row_to_user(st, &u);
		rc = fn(&u, arg);
		if (rc != 0)
			break;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = -EIO;
	sqlite3_finalize(st);
	return rc;
}

int
sl_auth_store_history(struct sl_auth_store *s, const char *name, uint32_t n,
		      int (*fn)(const char *hash, void *arg), void *arg)
{
	sqlite3_stmt *st;
	int rc = 0, step;

	if (n == 0)
		return 0;
	st = prepare(s, "SELECT hash FROM password_history WHERE name = ?1 "
			"ORDER BY id DESC LIMIT ?2");
	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, n);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *h = sqlite3_column_text(st, 0);

		rc = fn(h ? (const char *)h : "", arg);
		if (rc != 0)
			break;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = -EIO;
	sqlite3_finalize(st);
	return rc;
}
