/* SPDX-License-Identifier: MIT */
/* lib/msg: the liveness ping record the control thread keeps per worker. */
#include <errno.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "lib/msg/msg.h"
#include "cunit_main.h"

#define MS 1000000ull
#define PERIOD (250 * MS)
#define DEADLINE (1000 * MS)

/* What a worker does with a command it knows (dataplane/worker.c): fill in worker/result. */
static void
worker_answers(struct sl_msg *m, unsigned int w)
{
	m->worker = w;
	m->result = 0;
}

static void
test_ping_carries_a_new_id_each_time(void)
{
	struct sl_msg_ping p;
	uint64_t t = 5000 * MS, id1, id2;

	sl_msg_ping_init(&p, t);
	CU_ASSERT_TRUE(sl_msg_ping_due(&p, t, PERIOD));
	id1 = sl_msg_ping_prepare(&p, t);
	CU_ASSERT_EQUAL(p.msg.type, SL_MSG_PING);
	CU_ASSERT_EQUAL(p.msg.id, id1);
	CU_ASSERT_NOT_EQUAL(p.msg.result, 0);			       /* not answered yet */
	CU_ASSERT_FALSE(sl_msg_ping_due(&p, t + 10 * PERIOD, PERIOD)); /* one in flight at most */
	worker_answers(&p.msg, 3);
	CU_ASSERT_EQUAL(sl_msg_ping_answer(&p, &p.msg, t + 2 * MS), 0);
	CU_ASSERT_EQUAL(__atomic_load_n(&p.last_rtt_ns, __ATOMIC_RELAXED), 2 * MS);
	CU_ASSERT_FALSE(sl_msg_ping_due(&p, t + PERIOD - 1, PERIOD)); /* period from the send */
	CU_ASSERT_TRUE(sl_msg_ping_due(&p, t + PERIOD, PERIOD));
	id2 = sl_msg_ping_prepare(&p, t + PERIOD);
	CU_ASSERT_NOT_EQUAL(id1, id2);
}

static void
test_answer_is_checked(void)
{
	struct sl_msg_ping p, other;
	uint64_t t = 1000 * MS;

	sl_msg_ping_init(&p, t);
	sl_msg_ping_init(&other, t);
	sl_msg_ping_prepare(&p, t);
	sl_msg_ping_prepare(&other, t);
	worker_answers(&other.msg, 0);
	CU_ASSERT_EQUAL(sl_msg_ping_answer(&p, &other.msg, t), -ENOENT); /* not this record's */
	/* A worker that did not handle the type sends it back with -ENOTSUP: not an answer. */
	p.msg.result = -ENOTSUP;
	CU_ASSERT_EQUAL(sl_msg_ping_answer(&p, &p.msg, t + MS), -EPROTO);
	/* An id other than the one in flight is refused too. */
	worker_answers(&p.msg, 0);
	p.msg.id++;
	CU_ASSERT_EQUAL(sl_msg_ping_answer(&p, &p.msg, t + MS), -EPROTO);
	p.msg.id--;
	CU_ASSERT_EQUAL(sl_msg_ping_answer(&p, &p.msg, t + MS), 0);
	/* The same answer twice: the second one is refused. */
	CU_ASSERT_EQUAL(sl_msg_ping_answer(&p, &p.msg, t + 2 * MS), -EPROTO);
	/* A ping whose enqueue failed is not in flight: the next one is due at once. */
	sl_msg_ping_prepare(&p, t + PERIOD);
	sl_msg_ping_unsent(&p);
	CU_ASSERT_TRUE(sl_msg_ping_due(&p, t + PERIOD, 0));
}

static void
test_silent_worker_is_dead_after_the_deadline(void)
{
	struct sl_msg_ping p;
	uint64_t t0 = 7000 * MS;

	sl_msg_ping_init(&p, t0);
	/* Grace: alive for one deadline after the start, before any answer. */
	CU_ASSERT_TRUE(sl_msg_ping_alive(&p, t0 + DEADLINE, DEADLINE));
	CU_ASSERT_FALSE(sl_msg_ping_alive(&p, t0 + DEADLINE + 1, DEADLINE));
	sl_msg_ping_prepare(&p, t0);
	worker_answers(&p.msg, 0);
	sl_msg_ping_answer(&p, &p.msg, t0 + 300 * MS);
	CU_ASSERT_TRUE(sl_msg_ping_alive(&p, t0 + 300 * MS + DEADLINE, DEADLINE));
	CU_ASSERT_EQUAL(sl_msg_ping_age_ms(&p, t0 + 800 * MS), 500);
	/* The next ping goes unanswered: dead once the last answer is older than the deadline. */
	sl_msg_ping_prepare(&p, t0 + 550 * MS);
	CU_ASSERT_TRUE(sl_msg_ping_alive(&p, t0 + 1300 * MS, DEADLINE));
	CU_ASSERT_FALSE(sl_msg_ping_alive(&p, t0 + 1300 * MS + 1, DEADLINE));
	CU_ASSERT_EQUAL(sl_msg_ping_age_ms(&p, t0 + 5300 * MS), 5000);
	/* It comes back: alive again. */
	worker_answers(&p.msg, 0);
	CU_ASSERT_EQUAL(sl_msg_ping_answer(&p, &p.msg, t0 + 6000 * MS), 0);
	CU_ASSERT_TRUE(sl_msg_ping_alive(&p, t0 + 6000 * MS, DEADLINE));
	/* A reader whose clock is behind the writer's sees it alive, not 584 years old. */
	CU_ASSERT_TRUE(sl_msg_ping_alive(&p, t0 + 5999 * MS, DEADLINE));
	CU_ASSERT_EQUAL(sl_msg_ping_age_ms(&p, t0 + 5999 * MS), 0);
}

static void
test_round_counts_each_worker_once_and_names_the_silent(void)
{
	struct sl_msg m[4];
	struct sl_msg_round r;
	char text[64];

	sl_msg_round_start(&r, 4, SL_MSG_ARP_DUMP, 77);
	for (unsigned int w = 0; w < 4; w++) {
		memset(&m[w], 0xa5, sizeof(m[w]));
		sl_msg_round_prepare(&r, &m[w]);
		CU_ASSERT_EQUAL(m[w].type, SL_MSG_ARP_DUMP);
		CU_ASSERT_EQUAL(m[w].id, 77);
		CU_ASSERT_NOT_EQUAL(m[w].result, 0);
		CU_ASSERT_EQUAL(m[w].n, 0);
	}
	CU_ASSERT_EQUAL(sl_msg_round_missing(&r), 0xf);
	/* An unanswered message (the worker did not write its id) is not an answer. */
	CU_ASSERT_EQUAL(sl_msg_round_answer(&r, 0, &m[0]), -EPROTO);
	worker_answers(&m[0], 0);
	worker_answers(&m[2], 2);
	CU_ASSERT_EQUAL(sl_msg_round_answer(&r, 0, &m[0]), 0);
	CU_ASSERT_EQUAL(sl_msg_round_answer(&r, 0, &m[0]), -EALREADY);
	/* Worker 2's message on worker 1's ring is not worker 1's answer. */
	CU_ASSERT_EQUAL(sl_msg_round_answer(&r, 1, &m[2]), -EPROTO);
	CU_ASSERT_EQUAL(sl_msg_round_answer(&r, 2, &m[2]), 0);
	CU_ASSERT_FALSE(sl_msg_round_complete(&r));
	CU_ASSERT_EQUAL(sl_msg_round_missing(&r), 0xa);
	CU_ASSERT_EQUAL(sl_msg_round_missing_text(&r, text, sizeof(text)), 18);
	CU_ASSERT_STRING_EQUAL(text, "worker 1, worker 3");
	/* A late answer to the previous round, on the next one: refused by its id. */
	sl_msg_round_start(&r, 4, SL_MSG_ARP_DUMP, 78);
	CU_ASSERT_EQUAL(sl_msg_round_answer(&r, 0, &m[0]), -EPROTO);
	/* Another type with the right id: refused too. */
	m[1].id = 78;
	m[1].type = SL_MSG_PING;
	worker_answers(&m[1], 1);
	CU_ASSERT_EQUAL(sl_msg_round_answer(&r, 1, &m[1]), -EPROTO);
	CU_ASSERT_EQUAL(sl_msg_round_answer(&r, 9, &m[1]), -EPROTO); /* no such worker */
	for (unsigned int w = 0; w < 4; w++) {
		sl_msg_round_prepare(&r, &m[w]);
		worker_answers(&m[w], w);
		CU_ASSERT_EQUAL(sl_msg_round_answer(&r, w, &m[w]), 0);
	}
	CU_ASSERT_TRUE(sl_msg_round_complete(&r));
	CU_ASSERT_EQUAL(sl_msg_round_missing_text(&r, text, sizeof(text)), 0);
	CU_ASSERT_STRING_EQUAL(text, "");
	/* Every worker of the largest plane fits the mask. */
	sl_msg_round_start(&r, SL_MAX_WORKERS, SL_MSG_PING, 1);
	CU_ASSERT_EQUAL(sl_msg_round_missing(&r),
			SL_MAX_WORKERS == 32 ? UINT32_MAX : (1u << SL_MAX_WORKERS) - 1);
}

/* Notifications ride in the ring slot: every field survives, and they never look like a
 * message pointer (which is at least 2-aligned) nor a pointer like one of them. */
static void
test_notification_round_trips_and_is_told_from_pointers(void)
{
	static struct sl_msg m;
	void *slot = sl_evt_pack(SL_EVT_BREAKER, 4, 0xbeef, 16383);
	struct sl_evt e = sl_evt_unpack(slot);

	CU_ASSERT_TRUE(sl_evt_is(slot));
	CU_ASSERT_FALSE(sl_evt_is(&m));
	CU_ASSERT_EQUAL(e.kind, SL_EVT_BREAKER);
	CU_ASSERT_EQUAL(e.arg, 4);
	CU_ASSERT_EQUAL(e.gen, 0xbeef);
	CU_ASSERT_EQUAL(e.backend, 16383);
	e = sl_evt_unpack(sl_evt_pack(SL_EVT_PROBE, 255, 0, UINT32_MAX));
	CU_ASSERT_EQUAL(e.kind, SL_EVT_PROBE);
	CU_ASSERT_EQUAL(e.arg, 255);
	CU_ASSERT_EQUAL(e.gen, 0);
	CU_ASSERT_EQUAL(e.backend, UINT32_MAX);
}

int
main(void)
{
	static const struct sl_unit_test tests[] = {
	    SL_UNIT_TEST(test_ping_carries_a_new_id_each_time),
	    SL_UNIT_TEST(test_answer_is_checked),
	    SL_UNIT_TEST(test_silent_worker_is_dead_after_the_deadline),
	    SL_UNIT_TEST(test_round_counts_each_worker_once_and_names_the_silent),
	    SL_UNIT_TEST(test_notification_round_trips_and_is_told_from_pointers),
	};

	return SL_UNIT_RUN("msg_ping", tests);
}
