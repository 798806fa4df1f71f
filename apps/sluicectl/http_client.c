/* SPDX-License-Identifier: MIT */
/* A blocking HTTP/1.1 client on civetweb's client API: one request per connection. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>

#include "apps/sluicectl/sluicectl.h"

#define RESP_MAX (1 << 20)
#define TIMEOUT_MS 10000

/* http://HOST[:PORT][/PREFIX] -> host, port, prefix (without a trailing '/'). */
static int
parse_url(const char *url, char *host, size_t hostlen, int *port, char *prefix, size_t plen,
	  char *err, size_t errlen)
{
	const char *p, *slash, *colon;
	size_t n;

	if (strncmp(url, "http://", 7) != 0) {
		snprintf(err, errlen,
			 "the URL '%s' must start with http:// (the admin API speaks "
			 "plain HTTP on a management address)",
			 url);
		return -EINVAL;
	}
	p = url + 7;
	slash = strchr(p, '/');
	n = slash ? (size_t)(slash - p) : strlen(p);
	colon = memchr(p, ':', n);
	if (colon) {
		char *end;
		long v = strtol(colon + 1, &end, 10);

		if (end != p + n || v < 1 || v > 65535) {
			snprintf(err, errlen, "the URL '%s' has a bad port (1..65535)", url);
			return -EINVAL;
		}
		*port = (int)v;
		n = colon - p;
	} else {
		*port = 80;
	}
	if (n == 0 || n >= hostlen) {
		snprintf(err, errlen, "the URL '%s' has no host", url);
		return -EINVAL;
	}
	memcpy(host, p, n);
	host[n] = '\0';
	snprintf(prefix, plen, "%s", slash ? slash : "");
	n = strlen(prefix);
	if (n && prefix[n - 1] == '/')
		prefix[n - 1] = '\0';
	return 0;
}

/* One request; body NULL sends none. */
static int
http_request(const char *method, const char *url, const char *path, const char *bearer,
	     const char *body, int *status, char **resp, char *err, size_t errlen)
{
	char host[256], prefix[256], ebuf[256] = "";
	const struct mg_response_info *ri;
	struct mg_connection *conn;
	size_t len = 0, cap = 4096;
	char *buf = NULL;
	int port, rc, n;

	*resp = NULL;
	rc = parse_url(url, host, sizeof(host), &port, prefix, sizeof(prefix), err, errlen);
	if (rc)
		return rc;
	mg_init_library(0);
	conn = mg_connect_client(host, port, 0, ebuf, sizeof(ebuf));
	if (conn == NULL) {
		snprintf(err, errlen, "cannot connect to %s: %s", url,
			 ebuf[0] ? ebuf : "connection failed");
		rc = -ECONNREFUSED;
		goto out_lib;
	}
	mg_printf(conn,
		  "%s %s%s HTTP/1.1\r\n"
		  "Host: %s:%d\r\n"
		  "User-Agent: sluicectl\r\n"
		  "Accept: application/json\r\n"
		  "%s"
		  "Content-Length: %zu\r\n"
		  "%s%s%s"
		  "Connection: close\r\n\r\n",
		  method, prefix, path, host, port,
		  body ? "Content-Type: application/json\r\n" : "", body ? strlen(body) : 0,
		  bearer ? "Authorization: Bearer " : "", bearer ? bearer : "", bearer ? "\r\n" : "");
	if (body != NULL)
		mg_write(conn, body, strlen(body));
	if (mg_get_response(conn, ebuf, sizeof(ebuf), TIMEOUT_MS) < 0) {
		snprintf(err, errlen, "no HTTP response from %s: %s", url,
			 ebuf[0] ? ebuf : "timed out");
		rc = -EPROTO;
		goto out;
	}
	ri = mg_get_response_info(conn);
	*status = ri->status_code;
	buf = malloc(cap);
	if (buf == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	while ((n = mg_read(conn, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (len + 1 == cap) {
			char *t = cap < RESP_MAX ? realloc(buf, cap * 2) : NULL;

			if (t == NULL) {
				snprintf(err, errlen, "the response from %s is too large", url);
				rc = -EMSGSIZE;
				goto out;
			}
			buf = t;
			cap *= 2;
		}
	}
	buf[len] = '\0';
	*resp = buf;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	mg_close_connection(conn);
out_lib:
	mg_exit_library();
	return rc;
}

int
slctl_http_request(const char *url, const char *method, const char *path, const char *bearer,
		   const char *body, int *status, char **resp, char *err, size_t errlen)
{
	return http_request(method, url, path, bearer, body, status, resp, err, errlen);
}

int
slctl_http_post(const char *url, const char *path, const char *bearer, const char *body,
		int *status, char **resp, char *err, size_t errlen)
{
	return http_request("POST", url, path, bearer, body, status, resp, err, errlen);
}

int
slctl_http_get(const char *url, const char *path, const char *bearer, int *status, char **resp,
	       char *err, size_t errlen)
{
	return http_request("GET", url, path, bearer, NULL, status, resp, err, errlen);
}
