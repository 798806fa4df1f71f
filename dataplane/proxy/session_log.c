/* SPDX-License-Identifier: MIT */
/*
 * The access-log record of a request (lib/accesslog), filled as the request goes: taken when
 * its first byte arrives, the request line and a few fields copied once the head is parsed
 * (the head buffer is reused for the response head), and handed to the control plane when the
 * request ends, however it ends (px_req_finish). No allocation, lock or system call: a record
 * comes from the worker's fixed array, or the request goes unlogged and is counted as dropped.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "dataplane/worker.h"
#include "proxy_private.h"

void
px_log_begin(struct px_session *s)
{
	struct sl_alog *l = s->px->w->alog;

	s->err = 0;
	s->t_first_tsc = 0;
	s->log = l != NULL ? sl_alog_take(l, s->t0_tsc) : NULL;
	if (s->log == NULL)
		return;
	s->log->client_ip = s->client_ip;
	s->log->client_port = s->client_port;
}

/*
 * Copy span sp of the request head into a field. The head is in the head buffer up to hlen;
 * a head the parser refused stops short of the piece it refused, which is still at the front
 * of the client's input (nothing of a head is consumed before it is complete).
 */
static void
copy_span(struct px_session *s, struct sl_http_span sp, char *dst, size_t cap, uint32_t cut_flag)
{
	const char *src = NULL;

	if (sp.len == 0)
		return;
	if ((uint32_t)sp.off + sp.len <= s->hlen)
		src = s->head + sp.off;
	else if (s->req.in != NULL && (uint32_t)sp.off + sp.len <= s->req.in->data_len)
		src = rte_pktmbuf_mtod_offset(s->req.in, const char *, sp.off);
	if (src != NULL && sl_alog_copy(dst, cap, src, sp.len))
		s->log->flags |= cut_flag;
}

void
px_log_request(struct px_session *s, bool head_complete)
{
	const struct sl_http_head *h = &s->rp.head;
	struct sl_alog_rec *r = s->log;
	struct sl_http_span v;

	if (r == NULL || s->head == NULL)
		return;
	/* A refused head was not copied: what came so far is still in the input. */
	r->bytes_received = head_complete ? s->hlen : s->hlen + s->req.len;
	/* A refused head (400, 413, 414, 431) may still have a readable request line. */
	copy_span(s, h->method_s, r->method, sizeof(r->method), SL_ALOG_F_METHOD_CUT);
	copy_span(s, h->target, r->path, sizeof(r->path), SL_ALOG_F_PATH_CUT);
	if (r->method[0] != '\0')
		r->flags |= SL_ALOG_F_HAS_REQUEST;
	r->version = h->version; /* 0 until the request line was complete */
	if (!head_complete)
		return;
	if (h->flags & SL_HTTP_F_HOST)
		copy_span(s, h->host, r->host, sizeof(r->host), SL_ALOG_F_HOST_CUT);
	else if (h->flags & SL_HTTP_F_ABSOLUTE)
		copy_span(s, h->authority, r->host, sizeof(r->host), SL_ALOG_F_HOST_CUT);
	if (sl_http_header_find(s->head, h, "referer", &v))
		copy_span(s, v, r->referer, sizeof(r->referer), SL_ALOG_F_REFERER_CUT);
	if (sl_http_header_find(s->head, h, "user-agent", &v))
		copy_span(s, v, r->user_agent, sizeof(r->user_agent), SL_ALOG_F_UA_CUT);
}

void
px_log_sent(struct px_session *s, uint64_t head, uint64_t body)
{
	struct sl_alog_rec *r = s->log;

	if (r == NULL || head + body == 0)
		return;
	if (s->t_first_tsc == 0)
		s->t_first_tsc = rte_rdtsc();
	r->bytes_sent += head + body;
	r->body_bytes_sent += body;
}

void
px_log_reply(struct px_session *s, const char *page, int n)
{
	const char *end;

	if (s->log == NULL || n <= 0)
		return;
	end = memmem(page, (size_t)n, "\r\n\r\n", 4);
	uint64_t head = end != NULL ? (uint64_t)(end + 4 - page) : (uint64_t)n;

	px_log_sent(s, head, (uint64_t)n - head);
}

static enum sl_alog_reason
reason_of(unsigned int err)
{
	switch (err) {
	case 0:
		return SL_ALOG_OK;
	case SL_PROXY_ERR_BAD_REQUEST + 1:
		return SL_ALOG_PARSE_ERROR;
	case SL_PROXY_ERR_URI_TOO_LONG + 1:
	case SL_PROXY_ERR_HEADERS_TOO_LARGE + 1:
	case SL_PROXY_ERR_BODY_TOO_LARGE + 1:
		return SL_ALOG_TOO_LARGE;
	case SL_PROXY_ERR_HEADER_TIMEOUT + 1:
		return SL_ALOG_HEADER_TIMEOUT;
	case SL_PROXY_ERR_CLIENT_ABORT + 1:
		return SL_ALOG_CLIENT_CLOSED;
	case SL_PROXY_ERR_NO_ROUTE + 1:
		return SL_ALOG_NO_ROUTE;
	case SL_PROXY_ERR_CONNECT_FAILURE + 1:
		return SL_ALOG_CONNECT_FAILED;
	case SL_PROXY_ERR_CONNECT_TIMEOUT + 1:
		return SL_ALOG_CONNECT_TIMEOUT;
	case SL_PROXY_ERR_BACKEND_RESET + 1:
		return SL_ALOG_BACKEND_RESET;
	case SL_PROXY_ERR_BACKEND_TIMEOUT + 1:
		return SL_ALOG_BACKEND_TIMEOUT;
	case SL_PROXY_ERR_BAD_RESPONSE + 1:
		return SL_ALOG_BAD_RESPONSE;
	case SL_PROXY_ERR_NO_BACKEND + 1:
		return SL_ALOG_NO_BACKEND;
	case SL_PROXY_ERR_NO_MEMORY + 1:
		return SL_ALOG_NO_MEMORY;
	default: /* circuit open, rate limited, queue full or timed out */
		return SL_ALOG_REFUSED;
	}
}

void
px_log_end(struct px_session *s, unsigned int status, uint64_t ns)
{
	struct sl_proxy_worker *px = s->px;
	struct sl_alog_rec *r = s->log;
	const struct sl_req_stats *st = s->gen->stats;

	if (r == NULL)
		return;
	s->log = NULL;
	r->status = (uint16_t)status;
	r->bytes_received += s->body_out;
	r->duration_us = ns / 1000 > UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)(ns / 1000);
	if (s->t_first_tsc != 0)
		r->ttfb_us = (uint32_t)RTE_MIN((s->t_first_tsc - s->t0_tsc) / px->tsc_per_us,
					       (uint64_t)UINT32_MAX - 1);
	r->reason = (uint8_t)reason_of(s->err);
	/* The stats row says how far the request got: a location (then attempts and loc are
	 * this request's), and maybe a backend. */
	if (s->row >= sl_req_row_location(st, 0) && s->loc != NULL) {
		r->retries = (uint16_t)(s->attempts > 1 ? s->attempts - 1 : 0);
		if (sl_alog_copy(r->service, sizeof(r->service), s->loc->rl->service->name,
				 strlen(s->loc->rl->service->name)))
			r->flags |= SL_ALOG_F_SERVICE_CUT;
		if (sl_alog_copy(r->location, sizeof(r->location), s->loc->cfg->path,
				 strlen(s->loc->cfg->path)))
			r->flags |= SL_ALOG_F_LOCATION_CUT;
		if (s->row >= sl_req_row_backend(st, 0) && s->bidx >= 0 &&
		    (unsigned int)s->bidx < s->loc->n_backends) {
			r->backend_ip = s->loc->ip[s->bidx];
			r->backend_port = rte_be_to_cpu_16(s->loc->port[s->bidx]);
		}
	}
	sl_alog_commit(px->w->alog, r);
}
