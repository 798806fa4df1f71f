/* SPDX-License-Identifier: MIT */
/*
 * sluicectl: the operator's client of sluice's admin API. `login` talks to the API;
 * `user ...` works on the users database directly (it needs to be able to write that file,
 * which is the authorisation for managing users).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <jansson.h>

#include "apps/sluicectl/sluicectl.h"

#ifndef SL_VERSION
#define SL_VERSION "unknown"
#endif

static void
usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: sluicectl [options] COMMAND ...\n"
	    "\n"
	    "Commands:\n"
	    "  login [-u NAME]          log in to the admin API; the token goes to the token\n"
	    "                           file (mode 0600)\n"
	    "  user add NAME            create a user (asks for the password)\n"
	    "  user passwd NAME         set a user's password (strength and history enforced)\n"
	    "  user del NAME            delete a user (its tokens stop working)\n"
	    "  user list                list users, password age and expiry\n"
	    "  stats                    counters: totals, workers, ports, and requests per\n"
	    "                           service / location / backend (GET /api/stats)\n"
	    "  backends [--service S]   list the backends (id, state, weight, in flight, ...)\n"
	    "  drain ID                 no new requests to backend ID; in-flight ones finish\n"
	    "  enable ID | disable ID   put backend ID back / take it out\n"
	    "  weight ID N              set backend ID's weight (N >= 1)\n"
	    "  add --service S --location L URL [--weight N] [--max-connections N]\n"
	    "                           add a backend (a runtime override; see the README)\n"
	    "  remove ID                drain backend ID, then remove it\n"
	    "  reload                   reload sluice's configuration file (as SIGHUP)\n"
	    "\n"
	    "Options:\n"
	    "  --url URL            admin API (default http://127.0.0.1:1997)\n"
	    "  --token-file PATH    default $XDG_CONFIG_HOME/sluice/token or\n"
	    "                       ~/.config/sluice/token\n"
	    "  --db PATH            users database for `user` (default: admin.auth.db_path of\n"
	    "                       --config)\n"
	    "  --config FILE        sluice's configuration: the database path, the password\n"
	    "                       history size and expiry (without it: no history, no expiry)\n"
	    "  -u, --username NAME  the user for `login`\n"
	    "  --password-stdin     read the password from stdin (one line) instead of the\n"
	    "                       terminal; also implied when stdin is not a terminal\n"
	    "  --json               machine-readable output on stdout, errors as JSON on stderr\n"
	    "  --service S, --location L, --weight N, --max-connections N   for backends / add\n"
	    "  -V, --version, -h, --help\n"
	    "\n"
	    "Exit status: 0 done; 1 refused (wrong password, user exists or not found, weak or\n"
	    "reused password, rate limited); 2 usage error; 3 unavailable (server unreachable,\n"
	    "database or file cannot be used).\n");
}

int
slctl_fail(const struct sluicectl *c, int code, const char *error, const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (c->json) {
		json_t *o = json_pack("{s:s, s:s}", "error", error, "detail", detail);
		char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

		fprintf(stderr, "%s\n", s ? s : "{}");
		free(s);
		json_decref(o);
	} else {
		fprintf(stderr, "sluicectl: %s: %s\n", error, detail);
	}
	return code;
}

static int
read_line(FILE *f, char *buf, size_t len)
{
	size_t n;

	if (fgets(buf, (int)len, f) == NULL)
		return -EIO;
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	else if (n == len - 1)
		return -E2BIG; /* longer than the buffer: do not silently truncate a password */
	if (n && buf[n - 1] == '\r')
		buf[--n] = '\0';
	return 0;
}

static int
read_tty(const char *prompt, char *buf, size_t len)
{
	struct termios old, quiet;
	FILE *tty = fopen("/dev/tty", "r+");
	int rc;

	if (tty == NULL)
		return -ENOTTY;
	fprintf(tty, "%s", prompt);
	fflush(tty);
	tcgetattr(fileno(tty), &old);
	quiet = old;
	quiet.c_lflag &= ~(ECHO | ECHONL);
	tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	rc = read_line(tty, buf, len);
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fprintf(tty, "\n");
	fclose(tty);
	return rc;
}

int
slctl_read_password(const struct sluicectl *c, const char *prompt, bool confirm, char *buf,
		    size_t len)
{
	char again[512];
	int rc;

	if (c->password_stdin || !isatty(STDIN_FILENO)) {
		rc = read_line(stdin, buf, len);
		if (rc == -E2BIG)
			return slctl_fail(c, SLCTL_USAGE, "bad password", "longer than %zu bytes",
					  len - 2);
		if (rc)
			return slctl_fail(c, SLCTL_USAGE, "no password",
					  "expected the password on stdin (one line)");
		return 0;
	}
	if (read_tty(prompt, buf, len) != 0)
		return slctl_fail(c, SLCTL_USAGE, "no password",
				  "cannot read it from the terminal; use --password-stdin");
	if (confirm) {
		if (read_tty("again: ", again, sizeof(again)) != 0 || strcmp(again, buf) != 0) {
			explicit_bzero(again, sizeof(again));
			return slctl_fail(c, SLCTL_REFUSED, "passwords differ",
					  "the two passwords typed are not the same");
		}
		explicit_bzero(again, sizeof(again));
	}
	return 0;
}

int
main(int argc, char **argv)
{
	enum { O_URL = 256, O_TOKEN, O_DB, O_CONFIG, O_JSON, O_PWSTDIN, O_SVC, O_LOC, O_W, O_MAXC };
	static const struct option longopts[] = {
	    {"url", required_argument, NULL, O_URL},
	    {"token-file", required_argument, NULL, O_TOKEN},
	    {"db", required_argument, NULL, O_DB},
	    {"config", required_argument, NULL, O_CONFIG},
	    {"username", required_argument, NULL, 'u'},
	    {"json", no_argument, NULL, O_JSON},
	    {"password-stdin", no_argument, NULL, O_PWSTDIN},
	    {"service", required_argument, NULL, O_SVC},
	    {"location", required_argument, NULL, O_LOC},
	    {"weight", required_argument, NULL, O_W},
	    {"max-connections", required_argument, NULL, O_MAXC},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct sluicectl c = {.url = "http://127.0.0.1:1997"};
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":u:Vh", longopts, NULL)) != -1) {
		switch (opt) {
		case O_URL:
			c.url = optarg;
			break;
		case O_TOKEN:
			c.token_file = optarg;
			break;
		case O_DB:
			c.db = optarg;
			break;
		case O_CONFIG:
			c.config = optarg;
			break;
		case 'u':
			c.username = optarg;
			break;
		case O_JSON:
			c.json = true;
			break;
		case O_PWSTDIN:
			c.password_stdin = true;
			break;
		case O_SVC:
			c.service = optarg;
			break;
		case O_LOC:
			c.location = optarg;
			break;
		case O_W:
			c.weight = optarg;
			break;
		case O_MAXC:
			c.max_connections = optarg;
			break;
		case 'V':
			printf("sluicectl %s\n", SL_VERSION);
			return SLCTL_OK;
		case 'h':
			usage(stdout);
			return SLCTL_OK;
		case ':':
			return slctl_fail(&c, SLCTL_USAGE, "usage", "option '%s' needs a value",
					  argv[optind - 1]);
		default:
			return slctl_fail(&c, SLCTL_USAGE, "usage",
					  "unknown option '%s' (try --help)", argv[optind - 1]);
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return SLCTL_USAGE;
	}
	if (strcmp(argv[optind], "login") == 0)
		return slctl_cmd_login(&c, argc - optind - 1, argv + optind + 1);
	if (strcmp(argv[optind], "user") == 0)
		return slctl_cmd_user(&c, argc - optind - 1, argv + optind + 1);
	if (strcmp(argv[optind], "stats") == 0)
		return slctl_cmd_stats(&c, argc - optind - 1, argv + optind + 1);
	int rc = slctl_cmd_backends(&c, argv[optind], argc - optind - 1, argv + optind + 1);

	if (rc >= 0)
		return rc;
	return slctl_fail(&c, SLCTL_USAGE, "usage",
			  "unknown command '%s'; expected login, user, stats, backends, drain, "
			  "enable, disable, weight, add, remove or reload (try --help)",
			  argv[optind]);
}
