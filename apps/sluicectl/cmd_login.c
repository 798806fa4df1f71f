/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "apps/sluicectl/sluicectl.h"

/* $XDG_CONFIG_HOME/sluice/token, else ~/.config/sluice/token; creates the folder (0700). */
static int
default_token_file(char *out, size_t len)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char dir[PATH_MAX];

	if (xdg && xdg[0])
		snprintf(dir, sizeof(dir), "%s", xdg);
	else if (home && home[0])
		snprintf(dir, sizeof(dir), "%s/.config", home);
	else
		return -ENOENT;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -errno;
	if (strlen(dir) + sizeof("/sluice/token") > len)
		return -ENAMETOOLONG;
	snprintf(out, len, "%s/sluice", dir);
	if (mkdir(out, 0700) != 0 && errno != EEXIST)
		return -errno;
	strcat(out, "/token");
	return 0;
}

/*
 * Write the token through a temporary file created with mode 0600 and renamed into place,
 * so that it is never readable by others, not even for a moment, nor half written.
 */
static int
write_token(const char *path, const char *token)
{
	char tmp[PATH_MAX + 16];
	size_t n = strlen(token);
	int fd, rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0600) != 0 || write(fd, token, n) != (ssize_t)n || write(fd, "\n", 1) != 1 ||
	    fsync(fd) != 0)
		rc = errno ? -errno : -EIO;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

int
slctl_token(const struct sluicectl *c, char *buf, size_t len)
{
	char path[PATH_MAX];
	const char *file = c->token_file;
	FILE *f;
	size_t n;

	if (file == NULL) {
		if (default_token_file(path, sizeof(path)) != 0)
			return slctl_fail(c, SLCTL_REFUSED, "not logged in",
					  "no token file; run `sluicectl login` (or --token-file)");
		file = path;
	}
	f = fopen(file, "r");
	if (f == NULL)
		return slctl_fail(c, SLCTL_REFUSED, "not logged in",
				  "cannot read %s (%s); run `sluicectl login` first", file,
				  strerror(errno));
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	if (n == 0 || n == len - 1)
		return slctl_fail(c, SLCTL_REFUSED, "not logged in",
				  "%s holds no token; run `sluicectl login`", file);
	return 0;
}

static const char *
jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

int
slctl_cmd_login(struct sluicectl *c, int argc, char **argv)
{
	char password[SLCTL_PASSWORD_BUF], err[512], path[PATH_MAX];
	const char *name = c->username, *token_file = c->token_file;
	char *body = NULL, *resp = NULL;
	json_t *req = NULL, *o = NULL;
	int status = 0, rc;

	if (argc > 1 || (argc == 1 && name))
		return slctl_fail(c, SLCTL_USAGE, "usage", "login takes one user name (-u NAME)");
	if (argc == 1)
		name = argv[0];
	if (name == NULL)
		return slctl_fail(c, SLCTL_USAGE, "usage", "login needs a user name: -u NAME");
	if (token_file == NULL) {
		rc = default_token_file(path, sizeof(path));
		if (rc)
			return slctl_fail(c, SLCTL_UNAVAILABLE, "no token file",
					  "cannot make ~/.config/sluice (%s); use --token-file",
					  strerror(-rc));
		token_file = path;
	}
	rc = slctl_read_password(c, "password: ", false, password, sizeof(password));
	if (rc)
		return rc;
	req = json_pack("{s:s, s:s}", "username", name, "password", password);
	explicit_bzero(password, sizeof(password));
	body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (body == NULL)
		return slctl_fail(c, SLCTL_UNAVAILABLE, "out of memory", "building the request");
	rc = slctl_http_post(c->url, "/api/auth/login", NULL, body, &status, &resp, err,
			     sizeof(err));
	explicit_bzero(body, strlen(body));
	free(body);
	if (rc) {
		rc = slctl_fail(c, rc == -EINVAL ? SLCTL_USAGE : SLCTL_UNAVAILABLE,
				"admin API unavailable", "%s", err);
		goto out;
	}
	o = json_loads(resp, 0, NULL);
	if (status != 200) {
		int code = status >= 500 ? SLCTL_UNAVAILABLE : SLCTL_REFUSED;

		rc = o ? slctl_fail(c, code, jstr(o, "error"), "%s (HTTP %d)", jstr(o, "detail"),
				    status)
		       : slctl_fail(c, code, "login failed", "HTTP %d", status);
		goto out;
	}
	if (o == NULL || jstr(o, "token")[0] == '\0') {
		rc = slctl_fail(c, SLCTL_UNAVAILABLE, "bad response",
				"the server answered 200 without a token: is %s sluice?", c->url);
		goto out;
	}
	rc = write_token(token_file, jstr(o, "token"));
	if (rc) {
		rc = slctl_fail(c, SLCTL_UNAVAILABLE, "cannot write the token", "%s: %s",
				token_file, strerror(-rc));
		goto out;
	}
	bool expired = json_is_true(json_object_get(o, "password_expired"));

	if (c->json) {
		json_t *out =
		    json_pack("{s:s, s:s, s:s, s:b}", "user", name, "token_file", token_file,
			      "expires_at", jstr(o, "expires_at"), "password_expired", expired);
		char *s = out ? json_dumps(out, JSON_COMPACT) : NULL;

		printf("%s\n", s ? s : "{}");
		free(s);
		json_decref(out);
	} else {
		printf("logged in as %s; token in %s, valid until %s\n", name, token_file,
		       jstr(o, "expires_at"));
		if (expired)
			printf("the password has expired: this token only allows changing it "
			       "(POST /api/auth/password)\n");
	}
	rc = SLCTL_OK;
out:
	json_decref(o);
	free(resp);
	return rc;
}
