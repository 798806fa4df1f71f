/* SPDX-License-Identifier: MIT */
#include <errno.h>
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
