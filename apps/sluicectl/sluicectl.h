/* SPDX-License-Identifier: MIT */
#ifndef SLUICECTL_H
#define SLUICECTL_H

#include <stdbool.h>
#include <stddef.h>

/* Exit codes (also in --help). */
enum sluicectl_exit {
	SLCTL_OK = 0,
	SLCTL_REFUSED = 1,     /* the operation was refused: wrong password, user exists, ... */
	SLCTL_USAGE = 2,       /* bad command line */
	SLCTL_UNAVAILABLE = 3, /* server unreachable, database or file not usable */
};

struct sluicectl {
	const char *url;
	const char *token_file;
	const char *db;
	const char *config;
	const char *username;
	bool json;
	bool password_stdin;
	/* backends / add (cmd_backends.c) */
	const char *service;
	const char *location;
	const char *weight;
	const char *max_connections;
};

/* An error for a person (or {"error", "detail"} on stderr with --json); returns code. */
int slctl_fail(const struct sluicectl *c, int code, const char *error, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A password from stdin (one line) or the terminal with echo off; twice when confirm. */
int slctl_read_password(const struct sluicectl *c, const char *prompt, bool confirm, char *buf,
			size_t len);

/* POST body (JSON) to url + path; fills status and a malloc'd response body. 0 or -errno. */
int slctl_http_post(const char *url, const char *path, const char *bearer, const char *body,
		    int *status, char **resp, char *err, size_t errlen);

/* Any method (body NULL sends none), as slctl_http_post. */
int slctl_http_request(const char *url, const char *method, const char *path, const char *bearer,
		       const char *body, int *status, char **resp, char *err, size_t errlen);

/* GET url + path, as slctl_http_post. */
int slctl_http_get(const char *url, const char *path, const char *bearer, int *status,
		   char **resp, char *err, size_t errlen);

/* The token `login` saved (--token-file or the default file) into buf; 0, or an exit code
 * after telling the user to log in. */
int slctl_token(const struct sluicectl *c, char *buf, size_t len);

#define SLCTL_PASSWORD_BUF 1024

int slctl_cmd_login(struct sluicectl *c, int argc, char **argv);
int slctl_cmd_user(struct sluicectl *c, int argc, char **argv);
int slctl_cmd_stats(struct sluicectl *c, int argc, char **argv);
/* backends, drain, enable, disable, weight, add, remove, reload (cmd_backends.c): the exit
 * code, or -1 when name is none of them. */
int slctl_cmd_backends(struct sluicectl *c, const char *name, int argc, char **argv);

#endif
