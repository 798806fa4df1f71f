/* SPDX-License-Identifier: MIT */
/*
 * Scalar syntax of the configuration: integers, booleans, durations, byte sizes, IPv4
 * addresses, host names, URLs and policy names. Plain strings in, values out; no YAML here, so
 * the admin API can accept exactly what a configuration file accepts.
 */

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "config.h"
#include "config_private.h"

int
sl__config_parse_int(const char *s, long long *out)
{
	const char *p = s;
	char *end;

	if (*p == '+' || *p == '-')
		p++;
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; *p; p++)
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
	errno = 0;
	*out = strtoll(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	return 0;
}

int
sl__config_parse_double(const char *s, double *out)
{
	char *end;

	/* strtod alone would also take "nan", "inf" and hex floats. */
	if (!*s || strspn(s, "0123456789+-.eE") != strlen(s) || !strpbrk(s, "0123456789"))
		return -EINVAL;
	errno = 0;
	*out = strtod(s, &end);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || !isfinite(*out))
		return -ERANGE;
	return 0;
}

int
sl__config_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on"};
	static const char *const no[] = {"false", "no", "off"};

	for (size_t i = 0; i < 3; i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * One or more <number><unit> terms, Go style ("1m30s"), or one bare number of seconds. Integer
 * arithmetic throughout so that "1.1s" is exactly 1100ms; a result that is not a whole number
 * of milliseconds is refused rather than rounded.
 */
int
sl_config_parse_duration(const char *text, uint32_t *ms)
{
	static const struct {
		const char *name;
		uint64_t ms;
	} units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
	const char *p = text;
	uint64_t total = 0;
	bool first = true;

	if (*p == '-')
		return -ERANGE;
	if (*p == '+')
		p++;
	if (!*p)
		return -EINVAL;
	while (*p) {
		uint64_t whole = 0, frac = 0, scale = 1, unit = 0;
		bool digits = false;

		for (; isdigit((unsigned char)*p); p++, digits = true) {
			whole = whole * 10 + (uint64_t)(*p - '0');
			if (whole > UINT32_MAX)
				return -ERANGE;
		}
		if (*p == '.') {
			for (p++; isdigit((unsigned char)*p); p++, digits = true) {
				if (scale == 1000000000)
					return -ERANGE;
				frac = frac * 10 + (uint64_t)(*p - '0');
				scale *= 10;
			}
		}
		if (!digits)
			return -EINVAL;
		if (!*p && first) {
			/* The whole text is one bare number: seconds. */
			unit = 1000;
		} else {
			for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
				size_t n = strlen(units[i].name);

				if (!strncmp(p, units[i].name, n) &&
				    !isalpha((unsigned char)p[n])) {
					unit = units[i].ms;
					p += n;
					break;
				}
			}
			if (!unit)
				return -EINVAL;
		}
		if ((frac * unit) % scale)
			return -ERANGE;
		total += whole * unit + frac * unit / scale;
		if (total > UINT32_MAX)
			return -ERANGE;
		first = false;
	}
	*ms = (uint32_t)total;
	return 0;
}

void
sl_config_format_duration(uint32_t ms, char *buf, size_t len)
{
	if (ms == 0)
		snprintf(buf, len, "0s");
	else if (ms % 3600000 == 0)
		snprintf(buf, len, "%uh", ms / 3600000);
	else if (ms % 60000 == 0)
		snprintf(buf, len, "%um", ms / 60000);
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%us", ms / 1000);
	else
		snprintf(buf, len, "%ums", ms);
}

/* 262144, 256k, 256KB, 256KiB, 1m, 1g: binary multiples. */
int
sl__config_parse_bytes(const char *s, uint64_t *out)
{
	static const char *const suffixes[] = {"", "b", "ib"};
	uint64_t v = 0, mult = 1;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return *p == '-' ? -ERANGE : -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			return -ERANGE;
	}
	switch (tolower((unsigned char)*p)) {
	case '\0':
		*out = v;
		return 0;
	case 'k':
		mult = 1024;
		break;
	case 'm':
		mult = 1024 * 1024;
		break;
	case 'g':
		mult = 1024 * 1024 * 1024;
		break;
	default:
		return -EINVAL;
	}
	p++;
	for (size_t i = 0; i < 3; i++) {
		if (!strcasecmp(p, suffixes[i])) {
			*out = v * mult;
			return 0;
		}
	}
	return -EINVAL;
}

/* Dotted quad, each part 0..255 without leading zeros (which some tools read as octal). */
int
sl__config_parse_ipv4(const char *s, uint32_t *be)
{
	uint32_t addr = 0;
	const char *p = s;

	for (int part = 0; part < 4; part++) {
		unsigned int v = 0, n = 0;

		if (part > 0 && *p++ != '.')
			return -EINVAL;
		for (; isdigit((unsigned char)*p) && n < 4; p++, n++)
			v = v * 10 + (unsigned int)(*p - '0');
		if (n == 0 || n > 3 || v > 255 || (n > 1 && p[-(int)n] == '0'))
			return -EINVAL;
		addr = addr << 8 | v;
	}
	if (*p)
		return -EINVAL;
	*be = htonl(addr);
	return 0;
}

/*
 * A DNS name (letters, digits, '-', and '_' which container names use), or an IPv4 literal
 * when it is made of digits and dots only. Writes the reason into why on failure.
 */
int
sl__config_check_host(const char *host, uint32_t *ip, char *why, size_t why_len)
{
	size_t len = strlen(host), label = 0;

	*ip = 0;
	if (len == 0) {
		snprintf(why, why_len, "the host is empty");
		return -EINVAL;
	}
	if (strspn(host, "0123456789.") == len) {
		if (sl__config_parse_ipv4(host, ip) < 0) {
			snprintf(why, why_len, "'%.64s' is not a valid IPv4 address", host);
			return -EINVAL;
		}
		return 0;
	}
	if (len > 253) {
		snprintf(why, why_len, "the host name is longer than 253 characters");
		return -EINVAL;
	}
	for (const char *p = host; *p; p++) {
		if (*p == '.') {
			if (label == 0) {
				snprintf(why, why_len, "the host name '%.64s' has an empty label",
					 host);
				return -EINVAL;
			}
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_') {
			if (isprint((unsigned char)*p))
				snprintf(why, why_len, "invalid character '%c' in host name", *p);
			else
				snprintf(why, why_len, "invalid byte 0x%02x in host name",
					 (unsigned char)*p);
			return -EINVAL;
		}
		if (++label > 63) {
			snprintf(why, why_len,
				 "a label of the host name is longer than 63 characters");
			return -EINVAL;
		}
	}
	return 0;
}

int
sl_config_parse_url(const char *text, struct sl_config_url *out, char *why, size_t why_len)
{
	const char *host, *end, *colon, *rest;
	size_t host_len;
	const char *sep;

	memset(out, 0, sizeof(*out));
	if (!strncasecmp(text, "http://", 7)) {
		host = text + 7;
		out->port = 80;
	} else if (!strncasecmp(text, "https://", 8)) {
		host = text + 8;
		out->https = true;
		out->port = 443;
	} else if ((sep = strstr(text, "://"))) {
		snprintf(why, why_len, "unsupported scheme '%.*s'; expected http:// or https://",
			 (int)(sep - text > 16 ? 16 : sep - text), text);
		return -EINVAL;
	} else {
		snprintf(why, why_len, "missing scheme; expected http://%.64s or https://...",
			 text);
		return -EINVAL;
	}
	end = host + strcspn(host, "/?#");
	rest = end;
	if (memchr(host, '@', (size_t)(end - host))) {
		snprintf(why, why_len, "user names or passwords in the URL are not supported");
		return -EINVAL;
	}
	if (*host == '[') {
		snprintf(why, why_len, "IPv6 addresses are not supported; use IPv4 or a host name");
		return -EINVAL;
	}
	colon = memchr(host, ':', (size_t)(end - host));
	host_len = (size_t)((colon ? colon : end) - host);
	if (host_len == 0) {
		snprintf(why, why_len, "the URL has no host");
		return -EINVAL;
	}
	if (host_len >= sizeof(out->host)) {
		snprintf(why, why_len, "the host is longer than %zu characters",
			 sizeof(out->host) - 1);
		return -EINVAL;
	}
	for (size_t i = 0; i < host_len; i++)
		out->host[i] = (char)tolower((unsigned char)host[i]);
	out->host[host_len] = '\0';
	if (sl__config_check_host(out->host, &out->ip, why, why_len) < 0)
		return -EINVAL;
	if (colon) {
		unsigned long port = 0;
		const char *p = colon + 1;

		if (p == end) {
			snprintf(why, why_len, "empty port after ':'");
			return -EINVAL;
		}
		for (; p < end && isdigit((unsigned char)*p) && port <= 65535; p++)
			port = port * 10 + (unsigned long)(*p - '0');
		if (p != end || port < 1 || port > 65535) {
			snprintf(why, why_len, "port must be a number from 1 to 65535, got '%.*s'",
				 (int)(end - colon - 1 > 16 ? 16 : end - colon - 1), colon + 1);
			return -EINVAL;
		}
		out->port = (uint16_t)port;
	}
	if (*rest == '#') {
		snprintf(why, why_len, "a fragment (#...) has no meaning in a backend URL");
		return -EINVAL;
	}
	for (const char *p = rest; *p; p++) {
		if (*p == ' ' || !isprint((unsigned char)*p)) {
			snprintf(why, why_len,
				 "the path must be printable ASCII without spaces; "
				 "percent-encode other characters");
			return -EINVAL;
		}
	}
	if (*rest && strlen(rest) + 1 >= sizeof(out->path)) {
		snprintf(why, why_len, "the path is longer than %zu characters",
			 sizeof(out->path) - 2);
		return -EINVAL;
	}
	/* "http://h?x" has an empty path; store it as "/?x" so that path always starts with '/'. */
	snprintf(out->path, sizeof(out->path), "%s%s", *rest == '?' ? "/" : "", rest);
	return 0;
}

static const struct {
	const char *name;
	enum sl_config_lb_policy policy;
} lb_names[] = {
    /* canonical names first: sl_config_lb_policy_name() reads this table too */
    {"round_robin", SL_CONFIG_LB_ROUND_ROBIN},
    {"least_connections", SL_CONFIG_LB_LEAST_CONNECTIONS},
    {"weighted_round_robin", SL_CONFIG_LB_WEIGHTED_ROUND_ROBIN},
    {"consistent_hashing", SL_CONFIG_LB_CONSISTENT_HASHING},
    {"adaptive", SL_CONFIG_LB_ADAPTIVE},
    {"least_conn", SL_CONFIG_LB_LEAST_CONNECTIONS},
    {"ip_hash", SL_CONFIG_LB_CONSISTENT_HASHING},
};

int
sl_config_parse_lb_policy(const char *name, enum sl_config_lb_policy *out)
{
	char norm[32];
	size_t i;

	for (i = 0; name[i] && i < sizeof(norm) - 1; i++)
		norm[i] = name[i] == '-' ? '_' : (char)tolower((unsigned char)name[i]);
	if (name[i])
		return -EINVAL;
	norm[i] = '\0';
	for (i = 0; i < sizeof(lb_names) / sizeof(lb_names[0]); i++) {
		if (!strcmp(norm, lb_names[i].name)) {
			*out = lb_names[i].policy;
			return 0;
		}
	}
	return -EINVAL;
}

const char *
sl_config_lb_policy_name(enum sl_config_lb_policy policy)
{
	for (size_t i = 0; i < sizeof(lb_names) / sizeof(lb_names[0]); i++)
		if (lb_names[i].policy == policy)
			return lb_names[i].name;
	return "unknown";
}
