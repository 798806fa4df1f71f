/* SPDX-License-Identifier: MIT */
/*
 * The normalised configuration as JSON, for `sluice --check` and the admin API.
 *
 * Keys and value forms are those of the YAML schema (durations as "5s"/"250ms", addresses
 * dotted, port addresses in CIDR form), so the output is itself a valid canonical configuration:
 * loading it again gives the same tree. Two exceptions: jwt_secret is printed as "<redacted>",
 * and empty optional strings (redirect, rewrite, gateway, certificate paths) are left out.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <jansson.h>

#include "config.h"

/* Steals v. Non-zero on failure (v NULL, or no memory). */
static int
set(json_t *o, const char *key, json_t *v)
{
	return !v || json_object_set_new(o, key, v) ? 1 : 0;
}

static int
set_str_if(json_t *o, const char *key, const char *s)
{
	return s[0] ? set(o, key, json_string(s)) : 0;
}

static json_t *
done(json_t *o, int bad)
{
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
duration(uint32_t ms)
{
	char buf[24];

	sl_config_format_duration(ms, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *
ipv4(uint32_t be, int prefix)
{
	char buf[INET_ADDRSTRLEN + 4];
	uint32_t a = ntohl(be);
	int n;

	n = snprintf(buf, sizeof(buf), "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
		     a & 255);
	if (prefix >= 0)
		snprintf(buf + n, sizeof(buf) - (size_t)n, "/%d", prefix);
	return json_string(buf);
}

static json_t *
strlist(const struct sl_config_strlist *l)
{
	json_t *a = json_array();
	int bad = !a;

	for (unsigned int i = 0; !bad && i < l->n; i++)
		bad = json_array_append_new(a, json_string(l->items[i]));
	return done(a, bad);
}

static json_t *
health_check(const struct sl_config_health_check *hc)
{
	json_t *o = json_object(), *th = json_object();
	int bad = !o || !th;

	if (bad) {
		json_decref(o);
		json_decref(th);
		return NULL;
	}
	bad |= set(o, "enabled", json_boolean(hc->enabled));
	bad |= set(o, "type", json_string(hc->type == SL_CONFIG_HC_TCP ? "tcp" : "http"));
	bad |= set(o, "path", json_string(hc->path));
	bad |= set(o, "interval", duration(hc->interval_ms));
	bad |= set(o, "timeout", duration(hc->timeout_ms));
	bad |= set(th, "healthy", json_integer(hc->healthy));
	bad |= set(th, "unhealthy", json_integer(hc->unhealthy));
	bad |= set(o, "thresholds", th);
	if (hc->status_min == hc->status_max)
		bad |= set(o, "expected_status", json_integer(hc->status_min));
	else
		bad |= set(o, "expected_status",
			   json_sprintf("%u-%u", hc->status_min, hc->status_max));
	return done(o, bad);
}

static json_t *
rate_limit(const struct sl_config_rate_limit *rl)
{
	json_t *o = json_object();
	int bad = !o;

	if (bad)
		return NULL;
	bad |= set(o, "enabled", json_boolean(rl->enabled));
	/* a disabled limit may hold zeros, which are not valid values */
	if (rl->requests_per_second > 0)
		bad |= set(o, "requests_per_second", json_real(rl->requests_per_second));
	if (rl->burst)
		bad |= set(o, "burst", json_integer(rl->burst));
	return done(o, bad);
}

static json_t *
circuit_breaker(const struct sl_config_circuit_breaker *cb)
{
	json_t *o = json_object();
	int bad = !o;

	if (bad)
		return NULL;
	bad |= set(o, "enabled", json_boolean(cb->enabled));
	bad |= set(o, "threshold", json_integer(cb->threshold));
	bad |= set(o, "timeout", duration(cb->timeout_ms));
	bad |= set(o, "half_open_requests", json_integer(cb->half_open_requests));
	bad |= set(o, "half_open_successes", json_integer(cb->half_open_successes));
	bad |= set(o, "error_ratio", json_integer(cb->error_ratio));
	bad |= set(o, "window", duration(cb->window_ms));
	bad |= set(o, "min_requests", json_integer(cb->min_requests));
	return done(o, bad);
}

static json_t *
outlier_detection(const struct sl_config_outlier *od)
{
	json_t *o = json_object();
	int bad = !o;

	if (bad)
		return NULL;
	bad |= set(o, "enabled", json_boolean(od->enabled));
	bad |= set(o, "consecutive", json_integer(od->consecutive));
	bad |= set(o, "base_ejection_time", duration(od->base_ejection_ms));
	bad |= set(o, "max_ejection_time", duration(od->max_ejection_ms));
	bad |= set(o, "max_ejection_percent", json_integer(od->max_ejection_percent));
	return done(o, bad);
}

static json_t *
slow_start(const struct sl_config_slow_start *ss)
{
	json_t *o = json_object();
	int bad = !o;

	if (bad)
		return NULL;
	bad |= set(o, "enabled", json_boolean(ss->enabled));
	bad |= set(o, "window", duration(ss->window_ms));
	bad |= set(o, "min_weight_percent", json_integer(ss->min_weight_percent));
	return done(o, bad);
}

/* outlier_detection and slow_start, at every level but backends (effective values). */
static int
resilience(json_t *o, const struct sl_config_outlier *od, const struct sl_config_slow_start *ss)
{
	return set(o, "outlier_detection", outlier_detection(od)) |
	       set(o, "slow_start", slow_start(ss));
}

static json_t *
connection_pool(const struct sl_config_connection_pool *cp)
{
	json_t *o = json_object();
	int bad = !o;

	if (bad)
		return NULL;
	bad |= set(o, "max_idle", json_integer(cp->max_idle));
	bad |= set(o, "max_open", json_integer(cp->max_open));
	bad |= set(o, "idle_timeout", duration(cp->idle_timeout_ms));
	return done(o, bad);
}

static json_t *
backend_tls(const struct sl_config_backend_tls *bt)
{
	json_t *o = json_object();
	int bad = !o;

	if (bad)
		return NULL;
	bad |= set(o, "verify", json_boolean(bt->verify));
	/* The default is left out: a dump must load where that bundle is not installed. */
	if (bt->verify && strcmp(bt->ca_file, SL_CONFIG_DEFAULT_CA_FILE) != 0)
		bad |= set(o, "ca_file", json_string(bt->ca_file));
	bad |= set_str_if(o, "server_name", bt->server_name);
	bad |= set_str_if(o, "cert_file", bt->cert_file);
	bad |= set_str_if(o, "key_file", bt->key_file);
	return done(o, bad);
}

/* The four sections every level carries, effective values. */
static int
policies(json_t *o, const struct sl_config_health_check *hc, const struct sl_config_rate_limit *rl,
	 const struct sl_config_circuit_breaker *cb, const struct sl_config_connection_pool *cp)
{
	int bad = 0;

	bad |= set(o, "health_check", health_check(hc));
	bad |= set(o, "rate_limit", rate_limit(rl));
	bad |= set(o, "circuit_breaker", circuit_breaker(cb));
	bad |= set(o, "connection_pool", connection_pool(cp));
	return bad;
}

static json_t *
dataplane(const struct sl_config_dataplane *dp)
{
	const struct sl_config_tcp *tcp = &dp->tcp;
	json_t *o = json_object(), *ports = json_array(), *t = json_object(), *ts = json_object();
	int bad = !o || !ports || !t || !ts;

	if (bad) {
		json_decref(o);
		json_decref(ports);
		json_decref(t);
		json_decref(ts);
		return NULL;
	}
	for (unsigned int i = 0; !bad && i < dp->n_ports; i++) {
		const struct sl_config_port *p = &dp->ports[i];
		json_t *po = json_object();

		if (!po) {
			bad = 1;
			break;
		}
		bad |= set(po, "name", json_string(p->name));
		bad |= set(po, "device", json_string(p->device));
		bad |= set(po, "ip", ipv4(p->ip, p->prefix));
		if (p->gateway)
			bad |= set(po, "gateway", ipv4(p->gateway, -1));
		bad |= set(po, "mtu", json_integer(p->mtu));
		if (p->n_addresses > 0) {
			json_t *a = json_array();

			bad |= a == NULL;
			for (unsigned int k = 0; a != NULL && k < p->n_addresses; k++)
				bad |= json_array_append_new(a, ipv4(p->addresses[k], -1));
			if (a != NULL)
				bad |= set(po, "addresses", a);
		}
		bad |= json_array_append_new(ports, po);
	}
	bad |= set(o, "ports", ports);
	bad |= set(o, "workers", json_integer(dp->workers));
	bad |= set(o, "mbufs", json_integer(dp->mbufs));
	bad |= set(o, "idle", json_string(dp->idle == SL_IDLE_POLL ? "poll" : "adaptive"));
	bad |= set(t, "max_connections", json_integer(tcp->max_connections));
	bad |= set(t, "syn_backlog", json_integer(tcp->syn_backlog));
	bad |= set(t, "time_wait", duration(tcp->time_wait_ms));
	bad |= set(t, "rcvbuf", json_integer(tcp->rcvbuf));
	bad |= set(t, "sndbuf", json_integer(tcp->sndbuf));
	bad |= set(t, "rcv_mem_percent", json_integer(tcp->rcv_mem_percent));
	bad |= set(t, "keepalive", duration(tcp->keepalive_ms));
	bad |= set(t, "rto_min", duration(tcp->rto_min_ms));
	bad |= set(t, "delayed_ack", duration(tcp->delayed_ack_ms));
	bad |= set(t, "congestion", json_string(tcp->cubic ? "cubic" : "newreno"));
	bad |= set(o, "tcp", t);
	bad |= set(ts, "echo", json_integer(dp->test_services.echo));
	bad |= set(ts, "discard", json_integer(dp->test_services.discard));
	bad |= set(ts, "chargen", json_integer(dp->test_services.chargen));
	if (dp->test_services.answer != 0)
		bad |= set(ts, "answer", json_integer(dp->test_services.answer));
	if (dp->test_services.forward.port != 0) {
		const struct sl_config_forward *fw = &dp->test_services.forward;
		json_t *f = json_object();
		char to[32];
		const uint8_t *a = (const uint8_t *)&fw->to_ip;

		snprintf(to, sizeof(to), "%u.%u.%u.%u:%u", a[0], a[1], a[2], a[3], fw->to_port);
		bad |= set(f, "port", json_integer(fw->port));
		bad |= set(f, "to", json_string(to));
		bad |= set(ts, "forward", f);
	}
	bad |= set(o, "test_services", ts);
	return done(o, bad);
}

static json_t *
admin(const struct sl_config_admin *a)
{
	const struct sl_config_auth *auth = &a->auth;
	json_t *o = json_object(), *au = json_object();
	char listen[32];
	uint32_t ip = ntohl(a->ip);
	int bad = !o || !au;

	if (bad) {
		json_decref(o);
		json_decref(au);
		return NULL;
	}
	snprintf(listen, sizeof(listen), "%u.%u.%u.%u:%u", ip >> 24, (ip >> 16) & 255,
		 (ip >> 8) & 255, ip & 255, a->port);
	bad |= set(o, "listen", json_string(listen));
	if (auth->jwt_secret[0])
		bad |= set(au, "jwt_secret", json_string("<redacted>"));
	bad |= set_str_if(au, "db_path", auth->db_path);
	bad |= set(au, "password_expiry_days", json_integer(auth->password_expiry_days));
	bad |= set(au, "password_history_size", json_integer(auth->password_history_size));
	bad |= set_str_if(au, "jwt_secret_file", auth->jwt_secret_file);
	bad |= set(au, "token_ttl", duration(auth->token_ttl_ms));
	bad |= set(o, "auth", au);
	bad |= set(o, "rate_limit", rate_limit(&a->rate_limit));
	if (a->access_log.enabled) {
		json_t *al = json_object();

		bad |= !al;
		bad |= set(al, "path", json_string(a->access_log.path));
		bad |= set(al, "format", json_string(a->access_log.format == SL_CONFIG_LOG_COMBINED
							 ? "combined"
							 : "json"));
		bad |= set(al, "ring_size", json_integer(a->access_log.ring_size));
		bad |= set(o, "access_log", al);
	}
	return done(o, bad);
}

static json_t *
globals_tls(const struct sl_config_tls *tls)
{
	json_t *o = json_object();
	int bad = !o;

	if (bad)
		return NULL;
	bad |= set(o, "enabled", json_boolean(tls->enabled));
	bad |= set(o, "domains", strlist(&tls->domains));
	bad |= set_str_if(o, "cert_dir", tls->cert_dir);
	bad |= set(o, "auto_cert", json_boolean(tls->auto_cert));
	bad |= set_str_if(o, "cert_file", tls->cert_file);
	bad |= set_str_if(o, "key_file", tls->key_file);
	bad |= set_str_if(o, "ciphers", tls->ciphers);
	bad |= set_str_if(o, "ciphersuites", tls->ciphersuites);
	if (tls->auto_cert) {
		json_t *a = json_object();

		bad |= !a;
		if (a) {
			bad |= set(a, "directory", json_string(tls->acme.directory));
			bad |= set_str_if(a, "email", tls->acme.email);
			bad |= set(a, "renew_before_days", json_integer(tls->acme.renew_before_days));
			bad |= set(a, "check_interval", duration(tls->acme.check_interval_ms));
			bad |= set_str_if(a, "ca_file", tls->acme.ca_file);
			bad |= set(o, "acme", a);
		}
	}
	return done(o, bad);
}

static json_t *
queue(const struct sl_config_queue *q)
{
	json_t *qo = json_object();
	int bad = !qo;

	if (qo) {
		bad |= set(qo, "enabled", json_boolean(q->enabled));
		bad |= set(qo, "max_concurrent", json_integer(q->max_concurrent));
		bad |= set(qo, "max_queue", json_integer(q->max_queue));
		bad |= set(qo, "timeout", duration(q->timeout_ms));
	}
	return done(qo, bad);
}

static int
globals(json_t *root, const struct sl_config *cfg)
{
	const struct sl_config_cors *cors = &cfg->cors;
	const struct sl_config_security *sec = &cfg->security;
	static const char *const frame[] = {"none", "DENY", "SAMEORIGIN"};
	json_t *co = json_object(), *so = json_object();
	int bad = !co || !so;

	bad |= policies(root, &cfg->health_check, &cfg->rate_limit, &cfg->circuit_breaker,
			&cfg->connection_pool);
	bad |= resilience(root, &cfg->outlier_detection, &cfg->slow_start);
	bad |= set(root, "backend_tls", backend_tls(&cfg->backend_tls));
	bad |= set(root, "queue", queue(&cfg->queue));
	json_t *to = json_object();

	bad |= !to;
	if (to) {
		bad |= set(to, "client_header", duration(cfg->timeouts.client_header_ms));
		bad |= set(to, "client_keepalive", duration(cfg->timeouts.client_keepalive_ms));
		bad |= set(to, "backend_connect", duration(cfg->timeouts.backend_connect_ms));
		bad |= set(to, "backend_response", duration(cfg->timeouts.backend_response_ms));
		bad |= set(to, "shutdown_grace", duration(cfg->timeouts.shutdown_grace_ms));
	}
	bad |= set(root, "timeouts", to);
	json_t *lo = json_object();

	bad |= !lo;
	if (lo) {
		bad |= set(lo, "max_request_line", json_integer(cfg->limits.max_request_line));
		bad |= set(lo, "max_header_size", json_integer(cfg->limits.max_header_size));
		bad |= set(lo, "max_headers", json_integer(cfg->limits.max_headers));
		bad |= set(lo, "max_body", json_integer(cfg->limits.max_body));
		bad |= set(lo, "max_connections_per_ip",
			   json_integer(cfg->limits.max_connections_per_ip));
		bad |= set(lo, "rate_limit_table_size",
			   json_integer(cfg->limits.rate_limit_table_size));
	}
	bad |= set(root, "limits", lo);
	if (co) {
		bad |= set(co, "enabled", json_boolean(cors->enabled));
		bad |= set(co, "allowed_origins", strlist(&cors->allowed_origins));
		bad |= set(co, "allowed_methods", strlist(&cors->allowed_methods));
		bad |= set(co, "allowed_headers", strlist(&cors->allowed_headers));
		bad |= set(co, "max_age", json_integer(cors->max_age));
		bad |= set(co, "allow_credentials", json_boolean(cors->allow_credentials));
	}
	bad |= set(root, "cors", co);
	if (so) {
		bad |= set(so, "enabled", json_boolean(sec->enabled));
		bad |= set(so, "hsts", json_boolean(sec->hsts));
		bad |= set(so, "hsts_max_age", json_integer(sec->hsts_max_age));
		bad |= set(so, "frame_options", json_string(frame[sec->frame_options]));
		bad |= set(so, "content_type_options", json_boolean(sec->content_type_options));
		bad |= set(so, "xss_protection", json_boolean(sec->xss_protection));
		if (sec->referrer_policy[0])
			bad |= set(so, "referrer_policy", json_string(sec->referrer_policy));
	}
	bad |= set(root, "security", so);
	bad |= set(root, "tls", globals_tls(&cfg->tls));
	return bad;
}

static json_t *
backend(const struct sl_config_backend *be)
{
	json_t *o = json_object();
	int bad = !o;

	if (bad)
		return NULL;
	bad |= set(o, "url", json_string(be->url));
	bad |= set(o, "weight", json_integer(be->weight));
	bad |= set(o, "max_connections", json_integer(be->max_connections));
	bad |= set(o, "health_check", health_check(&be->health_check));
	return done(o, bad);
}

static json_t *
location(const struct sl_config_location *loc)
{
	json_t *o = json_object(), *bs = json_array();
	int bad = !o || !bs;

	if (bad) {
		json_decref(o);
		json_decref(bs);
		return NULL;
	}
	bad |= set(o, "path", json_string(loc->path));
	bad |= set(o, "lb_policy", json_string(sl_config_lb_policy_name(loc->lb_policy)));
	bad |= set(o, "http_redirect", json_boolean(loc->http_redirect));
	bad |= set_str_if(o, "redirect", loc->redirect);
	bad |= set_str_if(o, "rewrite", loc->rewrite);
	bad |= policies(o, &loc->health_check, &loc->rate_limit, &loc->circuit_breaker,
			&loc->connection_pool);
	bad |= resilience(o, &loc->outlier_detection, &loc->slow_start);
	bad |= set(o, "backend_tls", backend_tls(&loc->backend_tls));
	for (unsigned int i = 0; !bad && i < loc->n_backends; i++)
		bad |= json_array_append_new(bs, backend(&loc->backends[i]));
	bad |= set(o, "backends", bs);
	return done(o, bad);
}

static json_t *
service(const struct sl_config_service *svc)
{
	json_t *o = json_object(), *tls = json_object(), *locs = json_array();
	int bad = !o || !tls || !locs;

	if (bad) {
		json_decref(o);
		json_decref(tls);
		json_decref(locs);
		return NULL;
	}
	bad |= set(o, "name", json_string(svc->name));
	bad |= set(o, "host", json_string(svc->host[0] ? svc->host : "*"));
	bad |= set(o, "port", json_integer(svc->port));
	if (svc->address != 0)
		bad |= set(o, "address", ipv4(svc->address, -1));
	if (svc->http_port)
		bad |= set(o, "http_port", json_integer(svc->http_port));
	bad |= set(tls, "enabled", json_boolean(svc->tls.enabled));
	bad |= set_str_if(tls, "cert_file", svc->tls.cert_file);
	bad |= set_str_if(tls, "key_file", svc->tls.key_file);
	bad |= set(o, "tls", tls);
	bad |= policies(o, &svc->health_check, &svc->rate_limit, &svc->circuit_breaker,
			&svc->connection_pool);
	bad |= resilience(o, &svc->outlier_detection, &svc->slow_start);
	bad |= set(o, "backend_tls", backend_tls(&svc->backend_tls));
	bad |= set(o, "queue", queue(&svc->queue));
	for (unsigned int i = 0; !bad && i < svc->n_locations; i++)
		bad |= json_array_append_new(locs, location(&svc->locations[i]));
	bad |= set(o, "locations", locs);
	return done(o, bad);
}

char *
sl_config_to_json(const struct sl_config *cfg)
{
	json_t *root = json_object(), *svcs = json_array();
	int bad = !root || !svcs;
	char *text = NULL;

	if (bad) {
		json_decref(root);
		json_decref(svcs);
		return NULL;
	}
	bad |= set(root, "dataplane", dataplane(&cfg->dataplane));
	bad |= set(root, "admin", admin(&cfg->admin));
	bad |= globals(root, cfg);
	for (unsigned int i = 0; !bad && i < cfg->n_services; i++)
		bad |= json_array_append_new(svcs, service(&cfg->services[i]));
	bad |= set(root, "services", svcs);
	if (!bad)
		text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	return text;
}
