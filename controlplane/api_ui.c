/* SPDX-License-Identifier: MIT */
/*
 * The web UI at /ui/: one page, its script and its style sheet, built into the binary
 * (lib/config/embed_file.py, from controlplane/ui/), so the UI works wherever sluice runs.
 * Chart.js is Debian's libjs-chart.js, read from the package's file on each request (the
 * browser caches it): no CDN, no copy in the tree. Every route here is public; the page logs
 * in through POST /api/auth/login and sends its token on each /api/ call.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <civetweb.h>

#include "controlplane/admin_private.h"

#ifndef SL_UI_CHARTJS_PATH
#define SL_UI_CHARTJS_PATH "/usr/share/javascript/chart.js/chart.min.js"
#endif
#define CHARTJS_MAX (4 * 1024 * 1024)

extern const char sl_ui_index_html[], sl_ui_app_js[], sl_ui_app_css[];
extern const size_t sl_ui_index_html_len, sl_ui_app_js_len, sl_ui_app_css_len;

/* Scripts and styles from this origin only; no inline code, no framing. */
#define UI_HEADERS                                                                                 \
	"Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; "       \
	"img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; "          \
	"frame-ancestors 'none'\r\n"                                                               \
	"X-Content-Type-Options: nosniff\r\n"                                                      \
	"X-Frame-Options: DENY\r\n"                                                                \
	"Referrer-Policy: no-referrer\r\n"

static int
send_body(struct sl_admin_req *r, const char *type, const char *cache, const void *body,
	  size_t len)
{
	mg_printf(r->conn,
		  "HTTP/1.1 200 OK\r\n"
		  "Content-Type: %s\r\n"
		  "Content-Length: %zu\r\n"
		  "Cache-Control: %s\r\n" UI_HEADERS "\r\n",
		  type, len, cache);
	if (strcmp(r->method, "HEAD") != 0)
		mg_write(r->conn, body, len);
	return 200;
}

static int
redirect(struct sl_admin_req *r, const char *to)
{
	mg_printf(r->conn,
		  "HTTP/1.1 302 Found\r\n"
		  "Location: %s\r\n"
		  "Content-Length: 0\r\n"
		  "Cache-Control: no-store\r\n"
		  "\r\n",
		  to);
	return 302;
}

static int
send_chartjs(struct sl_admin_req *r)
{
	static atomic_int warned;
	struct stat st;
	char *buf = NULL;
	ssize_t n = 0;
	int fd, rc;

	fd = open(SL_UI_CHARTJS_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > CHARTJS_MAX) {
		int e = fd < 0 ? errno : EINVAL;

		if (fd >= 0)
			close(fd);
		if (atomic_exchange(&warned, 1) == 0)
			fprintf(stderr,
				"sluice: web UI: cannot serve Chart.js from %s (%s): install "
				"Debian's libjs-chart.js; the UI runs without its charts\n",
				SL_UI_CHARTJS_PATH, strerror(e));
		return sl_admin_reply_error(r, 404, "not found",
					    "Chart.js is not installed: %s is missing (%s); install "
					    "Debian's libjs-chart.js",
					    SL_UI_CHARTJS_PATH, strerror(e));
	}
	buf = malloc((size_t)st.st_size + 1);
	while (buf != NULL && n < st.st_size) {
		ssize_t k = read(fd, buf + n, (size_t)(st.st_size - n));

		if (k <= 0)
			break;
		n += k;
	}
	close(fd);
	if (buf == NULL || n != st.st_size) {
		free(buf);
		return sl_admin_reply_error(r, 500, "internal error", "cannot read %s",
					    SL_UI_CHARTJS_PATH);
	}
	/* The package's file changes only with the package: let the browser keep it an hour. */
	rc = send_body(r, "text/javascript; charset=utf-8", "public, max-age=3600", buf, (size_t)n);
	free(buf);
	return rc;
}

static int
get_ui(struct sl_admin_req *r)
{
	const char *f = r->path + strlen("/ui/");

	/* The embedded files change with the binary: revalidate each time. */
	if (strcmp(f, "") == 0 || strcmp(f, "index.html") == 0)
		return send_body(r, "text/html; charset=utf-8", "no-cache", sl_ui_index_html,
				 sl_ui_index_html_len);
	if (strcmp(f, "app.js") == 0)
		return send_body(r, "text/javascript; charset=utf-8", "no-cache", sl_ui_app_js,
				 sl_ui_app_js_len);
	if (strcmp(f, "app.css") == 0)
		return send_body(r, "text/css; charset=utf-8", "no-cache", sl_ui_app_css,
				 sl_ui_app_css_len);
	if (strcmp(f, "chart.min.js") == 0)
		return send_chartjs(r);
	return sl_admin_reply_error(r, 404, "not found",
				    "no file %s in the web UI (it has /ui/, app.js, app.css and "
				    "chart.min.js)",
				    r->path);
}

static int
to_ui(struct sl_admin_req *r)
{
	return redirect(r, "/ui/");
}

const struct sl_admin_route sl_api_ui_routes[] = {
    {"GET", "/ui/", get_ui, SL_ADMIN_PUBLIC | SL_ADMIN_PREFIX},
    {"HEAD", "/ui/", get_ui, SL_ADMIN_PUBLIC | SL_ADMIN_PREFIX},
    {"GET", "/ui", to_ui, SL_ADMIN_PUBLIC},
    {"GET", "/", to_ui, SL_ADMIN_PUBLIC},
};
const unsigned int sl_api_ui_n_routes = sizeof(sl_api_ui_routes) / sizeof(sl_api_ui_routes[0]);
