/* SPDX-License-Identifier: MIT */
/*
 * A TLS service's plain-HTTP port (its `http_port`, default 80; lib/config sl_config_plain_port):
 *   - GET /.well-known/acme-challenge/<token> is answered from the ACME challenge table the
 *     control plane publishes (acme_chal.h): 200 text/plain with the key authorization, or
 *     404; before routing, no backend is involved;
 *   - a request whose Host and path route, on the service's TLS port, to a location with
 *     `http_redirect: true` gets a 308 to https://host[:tls port]/path?query;
 *   - every other request is routed as any request on that port (a plain service there, or
 *     404).
 * The challenge table is acme_chal.c's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acme_chal.h"
#include "proxy_private.h"

/* ------------------------------------------------------------------ plain ports */

int
px_plain_build(struct sl_proxy *p, char *err, size_t errlen)
{
	const struct sl_config *cfg = p->cfg;
	unsigned int n = 0;

	for (unsigned int s = 0; s < cfg->n_services; s++)
		n += sl_config_plain_port(cfg, &cfg->services[s]) != 0;
	if (n == 0)
		return 0;
	p->plain = calloc(n, sizeof(*p->plain));
	if (p->plain == NULL) {
		snprintf(err, errlen, "out of memory building the plain-HTTP ports");
		return -ENOMEM;
	}
	for (unsigned int s = 0; s < cfg->n_services; s++) {
		const struct sl_config_service *svc = &cfg->services[s];
		uint16_t port = sl_config_plain_port(cfg, svc);
		bool dup = false;

		for (unsigned int i = 0; i < p->n_plain && !dup; i++)
			dup = p->plain[i].addr == svc->address && p->plain[i].port == port &&
			      p->plain[i].tls_port == svc->port;
		if (port == 0 || dup)
			continue;
		p->plain[p->n_plain++] =
		    (struct px_plain){.addr = svc->address, .port = port, .tls_port = svc->port};
	}
	return 0;
}

static bool
is_plain(const struct sl_proxy *p, uint32_t laddr, uint16_t lport)
{
	for (unsigned int i = 0; i < p->n_plain; i++)
		if (p->plain[i].port == lport && (p->plain[i].addr == 0 || p->plain[i].addr == laddr))
			return true;
	return false;
}

bool
px_plain_acme(struct px_session *s, bool *ret)
{
	const struct sl_proxy *p = s->gen->p;
	const struct sl_http_head *h = &s->rp.head;
	const size_t plen = sizeof(SL_ACME_CHAL_PREFIX) - 1;
	const char *target = s->head + h->target.off, *ka;
	size_t len = h->target.len, tlen;

	if (p->n_plain == 0 || (h->method != SL_HTTP_M_GET && h->method != SL_HTTP_M_HEAD) ||
	    len <= plen || memcmp(target, SL_ACME_CHAL_PREFIX, plen) != 0 ||
	    !is_plain(p, s->laddr, s->lport))
		return false;
	for (tlen = 0; plen + tlen < len && target[plen + tlen] != '?'; tlen++)
		;
	ka = sl_acme_chal_find(target + plen, tlen);
	s->row = sl_req_row_unrouted(s->gen->stats);
	*ret = px_reply_text(s, ka != NULL ? 200 : 404, ka);
	return true;
}

bool
px_plain_match(const struct px_session *s, const char *host, size_t host_len,
	       struct sl_route_match *m)
{
	const struct sl_proxy *p = s->gen->p;
	const struct sl_http_head *h = &s->rp.head;

	for (unsigned int i = 0; i < p->n_plain; i++) {
		const struct px_plain *e = &p->plain[i];

		if (e->port != s->lport || (e->addr != 0 && e->addr != s->laddr))
			continue;
		sl_route_match_addr(p->routes, s->laddr, e->tls_port, host, host_len,
				    s->head + h->target.off, h->target.len, 0, m);
		if (m->action == SL_ROUTE_REDIRECT && m->https &&
		    sl_config_plain_port(p->cfg, m->loc->service) == s->lport)
			return true;
	}
	return false;
}
