/* SPDX-License-Identifier: MIT */
/* lib/msg: the liveness ping record the control thread keeps per worker. */
#include <errno.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "lib/msg/msg.h"

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

int
main(void)
{
	CU_pSuite s;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("msg_ping", NULL, NULL);
	CU_add_test(s, "ping_carries_a_new_id_each_time", test_ping_carries_a_new_id_each_time);
	CU_add_test(s, "answer_is_checked", test_answer_is_checked);
	CU_add_test(s, "silent_worker_is_dead_after_the_deadline",
		    test_silent_worker_is_dead_after_the_deadline);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed != 0;
}
