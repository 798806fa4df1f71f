/* SPDX-License-Identifier: MIT */
/*
 * sluicectl stats: GET /api/stats as tables a person reads (totals, workers, ports, and
 * requests per service / location / backend), or the JSON as it came with --json.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "apps/sluicectl/sluicectl.h"

#define TOKEN_MAX 4096
#define COLS_MAX 12
#define CELL_MAX 96

/* A table printed with its columns as wide as their widest cell. */
struct table {
	unsigned int n_cols, n_rows, cap;
	char (*cells)[COLS_MAX][CELL_MAX]; /* row 0: the header */
	bool right[COLS_MAX];		   /* numbers align right */
};

static void
table_init(struct table *t, unsigned int n_cols, const char *const *head, const char *align)
{
	memset(t, 0, sizeof(*t));
	t->n_cols = n_cols;
	t->cap = 16;
	t->cells = calloc(t->cap, sizeof(*t->cells));
	for (unsigned int c = 0; c < n_cols; c++) {
		if (t->cells)
			snprintf(t->cells[0][c], CELL_MAX, "%s", head[c]);
		t->right[c] = align[c] == 'r';
	}
	t->n_rows = 1;
}

/* Add a row of n_cols strings (cut at CELL_MAX - 1 bytes). */
static void
table_row(struct table *t, ...)
{
	va_list ap;

	if (t->cells == NULL)
		return;
	if (t->n_rows == t->cap) {
		void *n = realloc(t->cells, 2 * t->cap * sizeof(*t->cells));

		if (n == NULL)
			return;
		t->cells = n;
		t->cap *= 2;
	}
	va_start(ap, t);
	for (unsigned int c = 0; c < t->n_cols; c++)
		snprintf(t->cells[t->n_rows][c], CELL_MAX, "%s", va_arg(ap, const char *));
	va_end(ap);
	t->n_rows++;
}

static void
table_print(struct table *t)
{
	size_t w[COLS_MAX] = {0};

	if (t->cells == NULL)
		return;
	for (unsigned int r = 0; r < t->n_rows; r++)
		for (unsigned int c = 0; c < t->n_cols; c++)
			if (strlen(t->cells[r][c]) > w[c])
				w[c] = strlen(t->cells[r][c]);
	for (unsigned int r = 0; r < t->n_rows; r++) {
		for (unsigned int c = 0; c < t->n_cols; c++) {
			const char *sep = c + 1 < t->n_cols ? "  " : "";

			if (t->right[c])
				printf("%*s%s", (int)w[c], t->cells[r][c], sep);
			else if (c + 1 < t->n_cols)
				printf("%-*s%s", (int)w[c], t->cells[r][c], sep);
			else
				printf("%s", t->cells[r][c]);
		}
		printf("\n");
	}
	free(t->cells);
	t->cells = NULL;
}

/* Number of a key as text ("-" when absent); s holds CELL_MAX bytes. */
static const char *
num(json_t *o, const char *key, char *s)
{
	json_t *v = json_object_get(o, key);

	if (json_is_integer(v))
		snprintf(s, CELL_MAX, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(s, CELL_MAX, "%.3f", json_real_value(v));
	else
		snprintf(s, CELL_MAX, "-");
	return s;
}

static long long
ival(json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* Seconds of a quantile as milliseconds, "-" when none. */
static const char *
ms(json_t *d, const char *key, char *s)
{
	json_t *v = json_object_get(d, key);

	if (json_is_number(v))
		snprintf(s, CELL_MAX, "%.2f", json_number_value(v) * 1000);
	else
		snprintf(s, CELL_MAX, "-");
	return s;
}

/* "reason n, reason n" of an errors object; "-" when empty. */
static const char *
errors_text(json_t *errs, char *s)
{
	const char *k;
	json_t *v;
	size_t used = 0;

	s[0] = '\0';
	json_object_foreach(errs, k, v)
	{
		int n = snprintf(s + used, CELL_MAX - used, "%s%s %lld", used ? ", " : "", k,
				 (long long)json_integer_value(v));

		if (n < 0 || (size_t)n >= CELL_MAX - used)
			break;
		used += (size_t)n;
	}
	if (used == 0)
		snprintf(s, CELL_MAX, "-");
	return s;
}

static void
print_totals(json_t *root)
{
	json_t *http = json_object_get(root, "http"), *req = json_object_get(http, "requests");
	json_t *tcp = json_object_get(root, "tcp"), *mb = json_object_get(root, "mbufs");
	char e[CELL_MAX];

	printf("requests  1xx %lld  2xx %lld  3xx %lld  4xx %lld  5xx %lld  none %lld"
	       "  (retries %lld)\n",
	       ival(req, "1xx"), ival(req, "2xx"), ival(req, "3xx"), ival(req, "4xx"),
	       ival(req, "5xx"), ival(req, "none"), ival(http, "retries"));
	printf("errors    %s\n", errors_text(json_object_get(http, "errors"), e));
	printf("backend connections  open %lld  idle %lld  opened %lld  reused %lld\n",
	       ival(http, "open_conns"), ival(http, "idle_conns"), ival(http, "pool_opened"),
	       ival(http, "pool_reused"));
	printf("tcp       connections %lld (established %lld, time_wait %lld)  passive opens "
	       "%lld  retransmits %lld\n",
	       ival(tcp, "conns"), ival(tcp, "conns_established"), ival(tcp, "conns_time_wait"),
	       ival(tcp, "passive_opens"), ival(tcp, "retransmits"));
	printf("mbufs     %lld of %lld in use\n", ival(mb, "in_use"), ival(mb, "size"));
}

static void
print_workers(json_t *root)
{
	static const char *const head[] = {"WORKER", "STATUS", "BUSY_S", "LOG_WRITTEN",
					   "LOG_DROPPED"};
	struct table t;
	size_t i;
	json_t *w;

	table_init(&t, 5, head, "llrrr");
	json_array_foreach(json_object_get(root, "workers"), i, w)
	{
		json_t *al = json_object_get(w, "access_log");
		const char *st = json_string_value(json_object_get(w, "status"));
		char id[CELL_MAX], busy[CELL_MAX], wr[CELL_MAX], dr[CELL_MAX];

		table_row(&t, num(w, "id", id), st ? st : "-", num(w, "busy_seconds", busy),
			  num(al, "written", wr), num(al, "dropped", dr));
	}
	printf("\n");
	table_print(&t);
}

static void
print_ports(json_t *root)
{
	static const char *const head[] = {"PORT",     "RX_PACKETS", "TX_PACKETS",
					   "RX_BYTES", "TX_BYTES",   "DROPS"};
	struct table t;
	size_t i;
	json_t *p;

	table_init(&t, 6, head, "lrrrrr");
	json_array_foreach(json_object_get(root, "ports"), i, p)
	{
		const char *name = json_string_value(json_object_get(p, "name"));
		char a[CELL_MAX], b[CELL_MAX], c[CELL_MAX], d[CELL_MAX], drops[CELL_MAX];
		long long sum = 0;
		const char *k;
		json_t *v;

		json_object_foreach(json_object_get(p, "drops"), k, v)
		{
			sum += (long long)json_integer_value(v);
		}
		snprintf(drops, sizeof(drops), "%lld", sum);
		table_row(&t, name ? name : "-", num(p, "rx_packets", a), num(p, "tx_packets", b),
			  num(p, "rx_bytes", c), num(p, "tx_bytes", d), drops);
	}
	printf("\n");
	table_print(&t);
}

static void
print_requests(json_t *root)
{
	static const char *const head[] = {"SERVICE",	"LOCATION", "BACKEND", "STATE",
					   "IN_FLIGHT", "2XX",	    "4XX",     "5XX",
					   "OTHER",	"P50_MS",   "P99_MS",  "ERRORS"};
	struct table t;
	size_t i;
	json_t *r;

	table_init(&t, 12, head, "llllrrrrrrrl");
	json_array_foreach(json_object_get(root, "requests"), i, r)
	{
		json_t *req = json_object_get(r, "requests"), *d = json_object_get(r, "duration");
		const char *svc = json_string_value(json_object_get(r, "service"));
		const char *loc = json_string_value(json_object_get(r, "location"));
		const char *be = json_string_value(json_object_get(r, "backend"));
		char state[CELL_MAX] = "-", infl[CELL_MAX], c2[CELL_MAX], c4[CELL_MAX],
		     c5[CELL_MAX], other[CELL_MAX], p50[CELL_MAX], p99[CELL_MAX], errs[CELL_MAX];

		if (json_object_get(r, "up") != NULL) {
			const char *circuit = json_string_value(json_object_get(r, "circuit"));

			snprintf(state, sizeof(state), "%s%s%s",
				 json_is_true(json_object_get(r, "up")) ? "up" : "down",
				 json_is_true(json_object_get(r, "draining")) ? ",draining" : "",
				 circuit && strcmp(circuit, "closed") != 0 ? ",circuit " : "");
			if (circuit && strcmp(circuit, "closed") != 0)
				strncat(state, circuit, sizeof(state) - strlen(state) - 1);
		}
		snprintf(other, sizeof(other), "%lld",
			 ival(req, "none") + ival(req, "1xx") + ival(req, "3xx"));
		table_row(&t, svc && svc[0] ? svc : "(none)", loc && loc[0] ? loc : "-",
			  be && be[0] ? be : "-", state, num(r, "in_flight", infl),
			  num(req, "2xx", c2), num(req, "4xx", c4), num(req, "5xx", c5), other,
			  ms(d, "p50_seconds", p50), ms(d, "p99_seconds", p99),
			  errors_text(json_object_get(r, "errors"), errs));
	}
	printf("\n");
	table_print(&t);
}

int
slctl_cmd_stats(struct sluicectl *c, int argc, char **argv)
{
	char token[TOKEN_MAX], err[512];
	char *resp = NULL;
	json_t *root;
	int status = 0, rc;

	if (argc > 0)
		return slctl_fail(c, SLCTL_USAGE, "usage", "stats takes no argument, got '%s'",
				  argv[0]);
	rc = slctl_token(c, token, sizeof(token));
	if (rc != 0)
		return rc;
	if (slctl_http_get(c->url, "/api/stats", token, &status, &resp, err, sizeof(err)) != 0)
		return slctl_fail(c, SLCTL_UNAVAILABLE, "unreachable", "%s", err);
	root = json_loads(resp, 0, NULL);
	if (status != 200) {
		const char *detail = json_string_value(json_object_get(root, "detail"));

		rc = slctl_fail(c,
				status == 401 || status == 403 ? SLCTL_REFUSED : SLCTL_UNAVAILABLE,
				status == 401 ? "not logged in" : "refused", "HTTP %d: %s%s",
				status, detail ? detail : "(no detail)",
				status == 401 ? "; run `sluicectl login`" : "");
		goto out;
	}
	if (root == NULL) {
		rc = slctl_fail(c, SLCTL_UNAVAILABLE, "bad answer",
				"GET %s/api/stats did not return JSON: is it sluice?", c->url);
		goto out;
	}
	if (c->json) {
		/* The server's JSON as it came: scripts get every field. */
		fputs(resp, stdout);
		if (resp[0] && resp[strlen(resp) - 1] != '\n')
			putchar('\n');
	} else {
		print_totals(root);
		print_workers(root);
		print_ports(root);
		print_requests(root);
	}
	rc = SLCTL_OK;
out:
	json_decref(root);
	free(resp);
	return rc;
}
