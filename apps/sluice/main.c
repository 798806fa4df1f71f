/* SPDX-License-Identifier: MIT */
/*
 * sluice: EAL arguments first, application arguments after `--`, as with
 * dpdk-testpmd:
 *
 *   sluice -l 0-1 --no-pci --vdev net_tap0,iface=sl0 -- --config FILE
 *
 * --check, --version and --help need no EAL arguments and never start EAL.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_version.h>

#include "controlplane/access_log.h"
#include "controlplane/acme.h"
#include "controlplane/api_acme.h"
#include "controlplane/admin_server.h"
#include "controlplane/api_backends.h"
#include "controlplane/api_metrics.h"
#include "controlplane/backend_health.h"
#include "controlplane/ring_client.h"
#include "controlplane/service_notify.h"
#include "controlplane/stats_json.h"
#include "dataplane/dataplane.h"
#include "dataplane/log.h"
#include "dataplane/proxy/acme_chal.h"
#include "dataplane/proxy/proxy.h"
#include "lib/config/config.h"

#ifndef SL_VERSION
#define SL_VERSION "unknown"
#endif

/* After the drain, what stopping the workers and ports and EAL's clean-up may take at most. */
#define SL_STOP_MARGIN_MS 15000

struct app_opts {
	const char *config;
	bool check;
};

static volatile sig_atomic_t got_stop, got_dump, got_reopen, got_reload;

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_dump = 1;
	else if (sig == SIGUSR2)
		got_reopen = 1;
	else if (sig == SIGHUP)
		got_reload = 1;
	else if (got_stop < 2)
		got_stop++; /* the first: a graceful stop; the second: at once */
}

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: sluice [EAL options] -- [options]\n"
		"       sluice --check [--config FILE]\n"
		"\n"
		"EAL options (see dpdk-testpmd), for example:\n"
		"  -l 0-1 --no-pci --vdev net_tap0,iface=sl0      TAP testbed, one worker\n"
		"  -l 0-2 -a 0000:03:00.0                          a NIC bound to vfio-pci\n"
		"  sluice refuses to start without --no-pci or an explicit -a list, and adds a\n"
		"  unique --file-prefix when none is given.\n"
		"\n"
		"Options:\n"
		"  -c, --config FILE   configuration (YAML); default: the built-in tap-demo config\n"
		"      --check         load and validate the configuration, print it normalised as\n"
		"                      JSON, exit 0 if valid and 1 if not\n"
		"  -V, --version       print the version and exit\n"
		"  -h, --help          this text\n"
		"\n"
		"Signals: SIGINT/SIGTERM stop gracefully (no new connection; requests in flight\n"
		"finish within timeouts.shutdown_grace, then exit 0); a second one stops at once.\n"
		"SIGUSR1 prints a stats line (JSON); SIGUSR2 reopens the access log file (after\n"
		"log rotation); SIGHUP reloads the configuration file (as POST /api/config/reload).\n"
		"Under systemd (sluice.service, Type=notify) it reports READY=1, RELOADING=1 and\n"
		"STOPPING=1 to $NOTIFY_SOCKET.\n");
}

/* Returns 0 to go on, 1 to exit successfully, -1 on a usage error (already reported). */
static int
parse_app_args(int argc, char **argv, struct app_opts *o)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'}, {"check", no_argument, NULL, 'k'},
		{"version", no_argument, NULL, 'V'},      {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:Vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'k':
			o->check = true;
			break;
		case 'V':
			printf("sluice %s (%s)\n", SL_VERSION, rte_version());
			return 1;
		case 'h':
			usage(stdout);
			return 1;
		case ':':
			fprintf(stderr, "sluice: option '%s' needs a value (try --help)\n",
				argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "sluice: unknown option '%s' (try --help)\n",
				argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sluice: unexpected argument '%s' (try --help)\n", argv[optind]);
		return -1;
	}
	return 0;
}

static int
load_config(const struct app_opts *o, struct sl_config **cfg)
{
	struct sl_config_error err;
	char msg[1024];
	int rc;

	if (o->config != NULL)
		rc = sl_config_load_file(o->config, cfg, &err);
	else
		rc = sl_config_load_buffer("<built-in tap-demo.yaml>", sl_config_default_yaml,
					   sl_config_default_yaml_len, cfg, &err);
	if (rc != 0) {
		sl_config_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "sluice: %s\n", msg);
	}
	return rc;
}

static int
run_check(const struct app_opts *o)
{
	struct sl_config *cfg;
	char *json;

	if (load_config(o, &cfg) != 0)
		return 1;
	json = sl_config_to_json(cfg);
	if (json == NULL) {
		fprintf(stderr, "sluice: out of memory\n");
		sl_config_free(cfg);
		return 1;
	}
	printf("%s\n", json);
	free(json);
	sl_config_free(cfg);
	return 0;
}

static bool
eal_arg_present(int argc, char **argv, const char *const *names)
{
	for (int i = 1; i < argc; i++)
		for (const char *const *n = names; *n; n++) {
			size_t len = strlen(*n);

			if (strncmp(argv[i], *n, len) == 0 &&
			    (argv[i][len] == '\0' || argv[i][len] == '=' || (*n)[1] != '-'))
				return true;
		}
	return false;
}

/*
 * Never let EAL probe every PCI device: the host's own NIC must not be
 * touched. Also give each instance its own runtime directory.
 */
static char **
eal_args_sane(int argc, char **argv, int *out_argc)
{
	static const char *const pci_choice[] = {"--no-pci", "-a", "--allow", NULL};
	static const char *const prefix[] = {"--file-prefix", NULL};
	static char prefix_arg[64];
	char **out;

	if (!eal_arg_present(argc, argv, pci_choice)) {
		fprintf(stderr, "sluice: EAL needs --no-pci or an explicit -a <PCI address> list; "
				"sluice never probes every PCI device\n");
		return NULL;
	}
	out = calloc(argc + 2, sizeof(*out));
	if (out == NULL)
		return NULL;
	memcpy(out, argv, argc * sizeof(*out));
	*out_argc = argc;
	if (!eal_arg_present(argc, argv, prefix)) {
		snprintf(prefix_arg, sizeof(prefix_arg), "--file-prefix=sluice-%d", (int)getpid());
		out[(*out_argc)++] = prefix_arg;
	}
	return out;
}

static void
dump_stats(const struct sl_dataplane *dp)
{
	char *s = sl_cp_stats_json(&dp->view);

	if (s != NULL) {
		printf("stats: %s\n", s);
		fflush(stdout);
		free(s);
	}
}

/*
 * Graceful stop: the workers refuse new connections and finish what they have. Wait until
 * no client session is left (then up to 1 s more for the last responses' FIN handshakes),
 * the grace period ends, or a second signal comes.
 */
static void
drain(struct sl_dataplane *dp, uint32_t grace_ms)
{
	uint64_t t0 = sl_cp_now_ns(), end = t0 + (uint64_t)grace_ms * 1000000, idle_since = 0;
	unsigned int n = sl_dataplane_sessions(dp, NULL);
	uint64_t conns = 0;

	if (got_stop > 1 || grace_ms == 0 || dp->proxy == NULL)
		return;
	SL_LOG(INFO, "graceful stop: %u client session(s) open, %u ms to finish", n, grace_ms);
	sl_dataplane_drain(dp);
	for (;;) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		uint64_t now = sl_cp_now_ns();

		n = sl_dataplane_sessions(dp, &conns);
		if (n == 0 && idle_since == 0)
			idle_since = now;
		if (got_stop > 1 || now >= end ||
		    (n == 0 && (conns == 0 || now - idle_since >= 1000000000ull)))
			break;
		nanosleep(&ts, NULL);
	}
	SL_LOG(INFO, "graceful stop: %s after %llu ms, %u session(s) and %llu connection(s) left",
	       got_stop > 1 ? "second signal" : n == 0 ? "done" : "grace period over",
	       (unsigned long long)((sl_cp_now_ns() - t0) / 1000000), n, (unsigned long long)conns);
}

/* tls.auto_cert (controlplane/acme.h): challenges to the workers, certificates by reload. */
struct acme_ctx {
	struct sl_dataplane *dp;
	struct sl_cp_runtime *rt;
};

static int
acme_publish(void *arg, const char *token, const char *keyauth)
{
	struct acme_ctx *x = arg;

	return sl_acme_chal_set(x->dp->qsbr, token, keyauth);
}

static int
acme_reload(void *arg, char *err, size_t errlen)
{
	struct acme_ctx *x = arg;
	json_t *summary = NULL;
	int rc = sl_cp_runtime_reload(x->rt, &summary, err, errlen);

	json_decref(summary);
	return rc;
}

static int
run(int eal_argc, char **eal_argv, const struct app_opts *o)
{
	struct sl_dataplane dp;
	struct sl_admin_server *admin = NULL;
	struct sl_cp_alog *alog = NULL;
	struct sl_cp_runtime *rt = NULL;
	struct sl_cp_health *health = NULL;
	struct sl_acme *acme = NULL;
	static struct acme_ctx acme_x;
	static struct sl_cp_live live; /* read by /health on civetweb's threads */
	struct sl_config *cfg = NULL;
	struct sigaction sa;
	char err[512];
	char **args;
	int nargs, rc;

	args = eal_args_sane(eal_argc, eal_argv, &nargs);
	if (args == NULL)
		return 1;
	if (load_config(o, &cfg) != 0) {
		free(args);
		return 1;
	}
	/* auto_cert: the TLS contexts need a certificate on disk from the start */
	if (sl_acme_prepare(cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "sluice: %s\n", err);
		free(args);
		sl_config_free(cfg);
		return 1;
	}
	/*
	 * Under systemd stdout is the journal (JOURNAL_STREAM), and DPDK's log stream writes each
	 * line to stdout and again to syslog, the journal too: every line would show twice. To
	 * stdout only, a line at a time (a socket is otherwise fully buffered).
	 */
	if (getenv("JOURNAL_STREAM") != NULL) {
		setvbuf(stdout, NULL, _IOLBF, 0);
		rte_openlog_stream(stdout);
	}
	/* Before EAL starts threads: it unsets NOTIFY_SOCKET (sluice.service is Type=notify). */
	rc = sl_cp_notify_init();
	if (rc != 0)
		fprintf(stderr, "sluice: NOTIFY_SOCKET ignored: %s\n", strerror(-rc));
	if (rte_eal_init(nargs, args) < 0) {
		fprintf(stderr, "sluice: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
		free(args);
		sl_config_free(cfg);
		return 1;
	}
	free(args);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	rc = sl_dataplane_init(&dp, cfg, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "sluice: %s\n", err);
		goto out;
	}
	rc = sl_cp_alog_start(&cfg->admin.access_log, &dp.view, &alog, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "sluice: %s\n", err);
		goto out;
	}
	/* Before the workers run: their first notifications find it. */
	health = sl_cp_health_create(cfg, dp.view.resil, dp.view.tsc_hz);
	if (health == NULL) {
		fprintf(stderr, "sluice: no memory for the backend health table\n");
		rc = -ENOMEM;
		goto out;
	}
	sl_cp_health_follow(health, &dp.view); /* reloads publish new snapshots */
	dp.view.on_evt = sl_cp_health_on_evt;
	dp.view.on_evt_arg = health;
	rc = sl_dataplane_launch(&dp);
	if (rc != 0) {
		fprintf(stderr, "sluice: cannot launch the workers: %s\n", rte_strerror(-rc));
		goto out;
	}
	/* The admin API: civetweb threads on the kernel stack, started once the workers run. */
	{
		struct sl_admin_opts ao = {.cfg = &cfg->admin,
					   .n_workers = dp.view.n_workers,
					   .worker_alive = sl_cp_live_alive,
					   .worker_alive_arg = &live,
					   .app = &dp};

		sl_cp_live_init(&live, dp.view.n_workers, sl_cp_now_ns());
		rc = sl_admin_create(&ao, &admin, err, sizeof(err));
		if (rc == 0) {
			rc = sl_api_metrics_register(admin, &dp.view, cfg, &live);
			sl_api_metrics_health(health);
			if (rc != 0)
				snprintf(err, sizeof(err), "cannot register /metrics: %s",
					 strerror(-rc));
		}
		if (rc == 0) {
			rc = sl_cp_runtime_create(&dp.view, o->config, cfg, &rt);
			if (rc == 0) {
				sl_cp_runtime_health(rt, health);
				rc = sl_api_backends_register(admin, rt);
			}
			if (rc != 0)
				snprintf(err, sizeof(err), "cannot set up the backends API: %s",
					 strerror(-rc));
		}
		if (rc == 0) {
			struct sl_acme_ops ops = {acme_publish, acme_reload, &acme_x};

			acme_x = (struct acme_ctx){&dp, rt};
			rc = sl_acme_start(cfg, &ops, &acme, err, sizeof(err));
			if (rc == 0)
				rc = sl_api_acme_register(admin, acme);
			if (rc == 0)
				rc = sl_api_metrics_extra(sl_cp_runtime_metrics, rt);
			if (rc == 0 && acme != NULL)
				rc = sl_api_metrics_extra(sl_acme_metrics, acme);
		}
		if (rc == 0)
			rc = sl_admin_start(admin, err, sizeof(err));
		if (rc != 0) {
			fprintf(stderr, "sluice: %s\n", err);
			goto out;
		}
		if (cfg->admin.auth.db_path[0] == '\0')
			SL_LOG(WARNING, "admin.auth.db_path is not set: no users, every login "
					"is refused");
		if (!cfg->admin.auth.jwt_secret[0] && !cfg->admin.auth.jwt_secret_file[0])
			SL_LOG(INFO, "no jwt_secret: tokens are signed with a random per-run key");
	}
	sl_cp_live_start(&live, sl_cp_now_ns());
	SL_LOG(INFO, "ready");
	sl_cp_notify("READY=1\nSTATUS=ready: %u worker(s), %u port(s)", dp.view.n_workers,
		     dp.n_ports);

	/*
	 * The control loop. Link state is polled: not every PMD raises an interrupt. This
	 * thread owns the rings: it pings the workers (liveness for /health), civetweb's
	 * threads only read what it records.
	 */
	for (unsigned int tick = 0; !got_stop; tick++) {
		struct timespec ts = {0, 50 * 1000 * 1000};

		sl_cp_live_poll(&live, &dp.view, sl_cp_now_ns());
		sl_cp_health_tick(health);
		if (tick % 20 == 0)
			for (unsigned int i = 0; i < dp.n_ports; i++)
				sl_port_check_link(&dp.ports[i]);

		if (got_dump) {
			got_dump = 0;
			dump_stats(&dp);
		}
		if (got_reopen) {
			got_reopen = 0;
			sl_cp_alog_reopen(alog);
		}
		if (got_reload) {
			json_t *summary = NULL;

			got_reload = 0;
			sl_cp_notify("RELOADING=1\nMONOTONIC_USEC=%llu",
				     (unsigned long long)(sl_cp_now_ns() / 1000));
			if (sl_cp_runtime_reload(rt, &summary, err, sizeof(err)) == 0) {
				SL_LOG(INFO, "SIGHUP: configuration reloaded");
				sl_cp_notify("READY=1\nSTATUS=configuration reloaded");
			} else {
				SL_LOG(ERR, "SIGHUP: configuration refused, the running one stays: "
					    "%s", err);
				sl_cp_notify("READY=1\nSTATUS=reload refused: %s", err);
			}
			json_decref(summary);
		}
		sl_cp_runtime_tick(rt);
		sl_dataplane_reap(&dp);
		sl_dataplane_tls_tick(&dp);
		/* The whole 50 ms: under load the TAP PMD signals (SIGRTMIN+1) by the thousand. */
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !got_stop && !got_dump &&
		       !got_reopen && !got_reload)
			;
	}
	{
		/* The running snapshot's grace period (a reload may have changed it). */
		uint64_t grace_ms = 0;

		if (dp.proxy != NULL)
			grace_ms = sl_proxy_config(dp.proxy)->timeouts.shutdown_grace_ms;

		/* A grace longer than the unit's TimeoutStopSec stretches it (the drain, then
		 * SL_STOP_MARGIN_MS for the workers, ports and EAL to stop). */
		sl_cp_notify("STOPPING=1\nEXTEND_TIMEOUT_USEC=%llu\nSTATUS=stopping: draining "
			     "connections for up to %llu ms",
			     (unsigned long long)(grace_ms + SL_STOP_MARGIN_MS) * 1000,
			     (unsigned long long)grace_ms);
		drain(&dp, grace_ms);
	}
	SL_LOG(INFO, "stopping");
	dump_stats(&dp);

out:
	sl_acme_stop(acme); /* before the runtime it reloads through */
	sl_admin_destroy(admin);
	sl_api_metrics_fini();
	/* The workers first: every request they finished is then in the access log. */
	sl_dataplane_stop(&dp);
	sl_cp_alog_stop(alog);
	sl_cp_runtime_free(rt);
	sl_dataplane_fini(&dp);
	sl_acme_chal_clear();
	sl_cp_health_free(health);
	sl_config_free(cfg);
	rte_eal_cleanup();
	sl_cp_notify_fini();
	return rc == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct app_opts o = {0};
	int dashdash = -1, rc;

	/* uacme runs this binary as its hook (controlplane/acme.h) */
	if (getenv(SL_ACME_HOOK_ENV) != NULL)
		return sl_acme_hook_main(argc, argv);

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			dashdash = i;
			break;
		}
	}
	/* Application arguments: after `--`, or all of them when there is no `--`. */
	int first = dashdash < 0 ? 0 : dashdash;
	char **app_argv = argv + first;
	int app_argc = argc - first;

	if (dashdash >= 0)
		app_argv[0] = argv[0];
	rc = parse_app_args(app_argc, app_argv, &o);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (o.check)
		return run_check(&o);
	if (dashdash < 0) {
		fprintf(stderr, "sluice: EAL arguments are required to run, e.g.\n"
				"  sluice -l 0-1 --no-pci --vdev net_tap0,iface=sl0 -- --config FILE\n"
				"(or --check to validate a configuration without starting)\n");
		return 2;
	}
	return run(dashdash, argv, &o);
}
