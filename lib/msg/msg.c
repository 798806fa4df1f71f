/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "msg.h"

const char *
sl_arp_state_name(enum sl_arp_state s)
{
	switch (s) {
	case SL_ARP_FREE:
		return "free";
	case SL_ARP_INCOMPLETE:
		return "incomplete";
	case SL_ARP_REACHABLE:
		return "reachable";
	}
	return "unknown";
}

void
sl_msg_ping_init(struct sl_msg_ping *p, uint64_t now_ns)
{
	memset(p, 0, sizeof(*p));
	p->next_id = 1;
	__atomic_store_n(&p->last_ok_ns, now_ns, __ATOMIC_RELAXED);
}

bool
sl_msg_ping_due(const struct sl_msg_ping *p, uint64_t now_ns, uint64_t period_ns)
{
	return !p->in_flight && (p->sent_ns == 0 || now_ns - p->sent_ns >= period_ns);
}

uint64_t
sl_msg_ping_prepare(struct sl_msg_ping *p, uint64_t now_ns)
{
	memset(&p->msg, 0, sizeof(p->msg));
	p->msg.type = SL_MSG_PING;
	p->msg.id = p->next_id++;
	p->msg.result = -EINPROGRESS;
	p->sent_ns = now_ns;
	p->in_flight = true;
	return p->msg.id;
}

void
sl_msg_ping_unsent(struct sl_msg_ping *p)
{
	p->in_flight = false;
}

int
sl_msg_ping_answer(struct sl_msg_ping *p, const struct sl_msg *m, uint64_t now_ns)
{
	if (m != &p->msg)
		return -ENOENT;
	/* Only the ping in flight counts: an old id would be a worker answering twice. */
	if (!p->in_flight || m->type != SL_MSG_PING || m->id != p->next_id - 1 || m->result != 0)
		return -EPROTO;
	p->in_flight = false;
	__atomic_store_n(&p->last_rtt_ns, now_ns - p->sent_ns, __ATOMIC_RELAXED);
	__atomic_store_n(&p->last_ok_ns, now_ns, __ATOMIC_RELEASE);
	return 0;
}

bool
sl_msg_ping_alive(const struct sl_msg_ping *p, uint64_t now_ns, uint64_t deadline_ns)
{
	uint64_t ok = __atomic_load_n(&p->last_ok_ns, __ATOMIC_ACQUIRE);

	return now_ns < ok || now_ns - ok <= deadline_ns;
}

uint64_t
sl_msg_ping_age_ms(const struct sl_msg_ping *p, uint64_t now_ns)
{
	uint64_t ok = __atomic_load_n(&p->last_ok_ns, __ATOMIC_ACQUIRE);

	return now_ns > ok ? (now_ns - ok) / 1000000u : 0;
}

void
sl_msg_round_start(struct sl_msg_round *r, unsigned int n_workers, enum sl_msg_type type,
		   uint64_t id)
{
	r->n_workers = n_workers > SL_MAX_WORKERS ? SL_MAX_WORKERS : n_workers;
	r->type = type;
	r->id = id;
	r->answered = 0;
}

void
sl_msg_round_prepare(const struct sl_msg_round *r, struct sl_msg *m)
{
	m->type = r->type;
	m->id = r->id;
	m->worker = UINT32_MAX; /* the worker writes its own id */
	m->result = -EINPROGRESS;
	m->n = 0;
}

int
sl_msg_round_answer(struct sl_msg_round *r, unsigned int w, const struct sl_msg *m)
{
	if (w >= r->n_workers || m->id != r->id || m->type != r->type || m->worker != w)
		return -EPROTO;
	if (r->answered & (1u << w))
		return -EALREADY;
	r->answered |= 1u << w;
	return 0;
}

uint32_t
sl_msg_round_missing(const struct sl_msg_round *r)
{
	uint32_t all = r->n_workers >= 32 ? UINT32_MAX : (1u << r->n_workers) - 1;

	return all & ~r->answered;
}

bool
sl_msg_round_complete(const struct sl_msg_round *r)
{
	return sl_msg_round_missing(r) == 0;
}

int
sl_msg_round_missing_text(const struct sl_msg_round *r, char *buf, size_t len)
{
	uint32_t miss = sl_msg_round_missing(r);
	size_t used = 0;

	if (len > 0)
		buf[0] = '\0';
	for (unsigned int w = 0; w < r->n_workers && used < len; w++) {
		if (!(miss & (1u << w)))
			continue;
		int n = snprintf(buf + used, len - used, "%sworker %u", used ? ", " : "", w);

		if (n < 0)
			break;
		used += (size_t)n;
	}
	return (int)(used < len ? used : len ? len - 1 : 0);
}
