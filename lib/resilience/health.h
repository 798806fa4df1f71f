/* SPDX-License-Identifier: MIT */
#ifndef SL_RESIL_HEALTH_H
#define SL_RESIL_HEALTH_H

/*
 * Active health checks: the threshold state machine applied to probe results, and the probe
 * scheduler that spreads probes over time.
 *
 * Who runs what: workers send probes and post each result on their event ring; the control
 * plane owns one struct sl_health per backend (single thread, no atomics needed), feeds it
 * the results with sl_health_report() and, on a transition, publishes the new state to every
 * worker through the shared backend table:
 *
 *   t = sl_health_report(&h, result, now_us);
 *   if (t != SL_HEALTH_T_NONE) {
 *           sl_bal_live_set_flags(live, i, sl_health_flags_set(&h), sl_health_flags_clear(&h));
 *           log once: backend, sl_health_state_name(h.state), h.reason; export metric
 *   }
 *
 * Time is the caller's clock in microseconds; nothing here reads a clock.
 */

#include <stdbool.h>
#include <stdint.h>

#include "lib/config/config.h"

enum sl_health_state {
	SL_HEALTH_UP = 0, /* in rotation */
	SL_HEALTH_DOWN,	  /* out of rotation (SL_BAL_F_DOWN) */
};

/* What a probe saw. Everything but SL_PROBE_PASS is a failure. */
enum sl_probe_result {
	SL_PROBE_PASS = 0,
	SL_PROBE_TIMEOUT,	 /* no answer within health_check.timeout */
	SL_PROBE_CONNECT_FAILED, /* RST / ICMP unreachable / no SYN-ACK */
	SL_PROBE_BAD_STATUS,	 /* HTTP status outside the expected range */
	SL_PROBE_BAD_RESPONSE,	 /* unparsable response, reset mid-response */
	SL_PROBE_TLS_FAILED,	 /* https backend: the TLS handshake failed (verify, not TLS) */
	SL_PROBE_RESULT_MAX,
};

enum sl_health_transition {
	SL_HEALTH_T_NONE = 0,
	SL_HEALTH_T_WENT_DOWN,
	SL_HEALTH_T_WENT_UP,
};

#define SL_HEALTH_REASON_MAX 96

/* One backend's threshold state. Plain fields: owned by one thread (the control plane). */
struct sl_health {
	enum sl_health_state state;
	bool enabled;
	bool awaiting_first; /* added at runtime: down until its first passing check */
	uint32_t healthy;    /* consecutive passes needed to go up */
	uint32_t unhealthy;  /* consecutive failures needed to go down */
	uint32_t passes;     /* current run of passes */
	uint32_t failures;   /* current run of failures */
	enum sl_probe_result last;
	uint64_t since_us;		   /* time of the last transition (or init) */
	uint64_t checks;		   /* results seen, for the API */
	char reason[SL_HEALTH_REASON_MAX]; /* why the last transition happened */
};

/*
 * Initialise from the backend's effective health_check block. `from_config` true: a backend
 * of the configuration, which starts up (eligible at once; a restart causes no outage
 * window). false: a backend added at runtime, which starts down and goes up on its first
 * passing check, whatever `healthy` says (DESIGN.md). With checks disabled the backend is up
 * and stays up. Thresholds of 0 are treated as 1.
 */
void sl_health_init(struct sl_health *h, const struct sl_config_health_check *cfg, bool from_config,
		    uint64_t now_us);

/*
 * Apply one probe result. Returns the transition it caused, if any; then h->state is the new
 * state and h->reason says why, e.g. "3 consecutive failed checks (last: timeout)". A down
 * backend goes up after `healthy` consecutive passes, an up backend goes down after
 * `unhealthy` consecutive failures; a result of the other kind restarts the run. Results for
 * a disabled check are ignored (SL_HEALTH_T_NONE). Control plane only: formats a string.
 */
enum sl_health_transition sl_health_report(struct sl_health *h, enum sl_probe_result r,
					   uint64_t now_us);

/* The SL_BAL_F_DOWN bit to set / clear in the shared backend table for h's current state. */
uint32_t sl_health_flags_set(const struct sl_health *h);
uint32_t sl_health_flags_clear(const struct sl_health *h);

const char *sl_health_state_name(enum sl_health_state s);
const char *sl_probe_result_name(enum sl_probe_result r);

/*
 * Probe scheduling. Each worker (or each prober) owns one scheduler; its PRNG is per
 * instance, seeded by the caller (e.g. from the worker id and a start-up random value), so
 * two workers never march in step and tests can replay a sequence.
 *
 * jitter_pct (0..50) is the spread around the interval: next = now + interval * (1 + u),
 * u uniform in [-jitter, +jitter). A steady 10% spread de-synchronises probes that started
 * together within a few intervals, the way Envoy's interval_jitter_percent does.
 */
struct sl_probe_sched {
	uint64_t rng;
	uint32_t jitter_pct;
};

void sl_probe_sched_init(struct sl_probe_sched *s, uint64_t seed, uint32_t jitter_pct);

/*
 * Time of a backend's first probe: uniform in [now, now + spread). With spread = interval the
 * probes of a freshly loaded configuration are spread over one interval instead of all going
 * out in the same millisecond; spread = 0 means "at once" (DESIGN.md: configured backends are
 * probed at once after a start).
 */
uint64_t sl_probe_first(struct sl_probe_sched *s, uint64_t now_us, uint64_t spread_us);

/* Time of the probe after one that ran at now_us: now + interval ± jitter; always > now. */
uint64_t sl_probe_next(struct sl_probe_sched *s, uint64_t now_us, uint64_t interval_us);

/*
 * Which of n_workers probes backend `backend` (a global backend index): consecutive backends
 * go to consecutive workers, so probe load is even whatever the pool sizes.
 */
static inline unsigned int
sl_probe_owner(unsigned int backend, unsigned int n_workers)
{
	return n_workers ? backend % n_workers : 0;
}

/* The PRNG used by the module (splitmix64): exposed for tests and callers' seeds. */
uint64_t sl_resil_rand(uint64_t *state);

#endif
