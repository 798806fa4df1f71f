/* SPDX-License-Identifier: MIT */
#ifndef SL_RESIL_BREAKER_H
#define SL_RESIL_BREAKER_H

/*
 * Circuit breaker, one per backend, shared by every worker (the seeds' semantics):
 *
 *   CLOSED --(threshold consecutive failures, or error ratio over the window)--> OPEN
 *   OPEN --(open time elapsed)--> HALF_OPEN
 *   HALF_OPEN: up to half_open_max requests go through as probes; the others are refused
 *   HALF_OPEN --(half_open_successes probe successes)--> CLOSED
 *   HALF_OPEN --(a probe fails, or the probes are lost for a whole open time)--> OPEN
 *
 * A failure is what the proxy calls one: a connection error, a reset or timeout before the
 * response, or a 5xx status. Everything else is a success.
 *
 * Sharing without locks: the state, a transition counter (epoch) and the half-open admission
 * and success counters are packed into one 64-bit atomic word. Every transition is one CAS
 * on that word from (epoch e, old state) to (epoch e + 1, new state, counters 0), so of
 * several workers that see the same reason to move, exactly one wins and reports the
 * transition; the losers see the new state on their next load. Half-open admission is a CAS
 * that increments the admission count only while it is below half_open_max, so all workers
 * together admit at most half_open_max probes per half-open period.
 *
 * Per request in the closed state a worker does one acquire load in sl_breaker_allow() and,
 * on success, two loads in sl_breaker_report() (the consecutive-failure counter is written
 * only when it is not already 0), so a healthy backend's line stays shared by all workers. A failure is one fetch_add. The error-ratio window,
 * when enabled, adds one CAS per request on a shared line: off by default.
 *
 * Publishing to the balancer: SL_BAL_F_CIRCUIT_OPEN is set while the state is OPEN and clear
 * otherwise (half-open backends must be picked for probes to reach them; sl_breaker_allow()
 * refuses the requests beyond the probe budget and the proxy picks again, excluding it). The
 * worker that performed a transition (a return value other than SL_BREAKER_T_NONE) calls
 * sl_breaker_sync_flags() and posts an event for the log and metrics; the control plane
 * calls sl_breaker_poll() and sl_breaker_sync_flags() on every backend on its tick (e.g.
 * 100 ms). The tick is what moves an open breaker to half-open, since no worker picks an open
 * backend, and it repairs a flag written out of order by two racing publishers.
 *
 * Time is the caller's clock in microseconds (below 2^48, i.e. 8.9 years of uptime).
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/balance/balance.h"
#include "lib/config/config.h"

enum sl_breaker_state {
	SL_BREAKER_CLOSED = 0,
	SL_BREAKER_OPEN,
	SL_BREAKER_HALF_OPEN,
};

enum sl_breaker_transition {
	SL_BREAKER_T_NONE = 0,
	SL_BREAKER_T_OPENED,	  /* closed -> open */
	SL_BREAKER_T_HALF_OPENED, /* open -> half-open */
	SL_BREAKER_T_CLOSED,	  /* half-open -> closed */
	SL_BREAKER_T_REOPENED,	  /* half-open -> open */
};

#define SL_BREAKER_WINDOW_SLOTS 10

/*
 * Settings. sl_config_circuit_breaker has only enabled/threshold/timeout; the other fields
 * take the defaults below until lib/config grows them (see README.md).
 */
struct sl_breaker_cfg {
	bool enabled;
	uint32_t threshold;	      /* consecutive failures that open; 0 = no such rule */
	uint64_t open_us;	      /* time open before half-open */
	uint32_t half_open_max;	      /* probes admitted per half-open period; default 3 */
	uint32_t half_open_successes; /* probe successes that close; default 1 */
	uint32_t ratio_pct;	      /* error ratio (percent) that opens; 0 = off (default) */
	uint32_t min_requests;	      /* requests in the window before the ratio counts; 20 */
	uint64_t window_us;	      /* the ratio's sliding window; default 10 s */
};

/* Default ratio-window settings, used by sl_breaker_cfg_from_config(). */
#define SL_BREAKER_DEFAULT_HALF_OPEN_MAX 3
#define SL_BREAKER_DEFAULT_HALF_OPEN_SUCCESSES 1
#define SL_BREAKER_DEFAULT_MIN_REQUESTS 20
#define SL_BREAKER_DEFAULT_WINDOW_US 10000000ull

/* Fill cfg from a location's effective circuit_breaker block and the defaults above. */
void sl_breaker_cfg_from_config(struct sl_breaker_cfg *cfg,
				const struct sl_config_circuit_breaker *c);

struct sl_breaker {
	/* state | half-open admitted | half-open successes | epoch; see breaker.c */
	_Alignas(64) _Atomic uint64_t word;
	_Atomic uint64_t since;	 /* (epoch & 0xffff) << 48 | time of the last transition */
	_Atomic uint32_t consec; /* consecutive failures while closed */
	_Atomic uint64_t window[SL_BREAKER_WINDOW_SLOTS]; /* slot tag | requests | failures */
	struct sl_breaker_cfg cfg;			  /* read-only after init */
};

/* What a request admitted by sl_breaker_allow() hands back to sl_breaker_report(). */
struct sl_breaker_ticket {
	uint32_t epoch; /* the breaker's epoch when the request was admitted */
	bool probe;	/* admitted as a half-open probe */
};

/* Initialise closed. Not thread-safe: before the breaker is shared. */
void sl_breaker_init(struct sl_breaker *b, const struct sl_breaker_cfg *cfg, uint64_t now_us);

/*
 * May a request go to this backend now? true: send it and report its outcome with the
 * ticket, whatever happens (a lost probe keeps the half-open budget used until the stale
 * rule reopens the breaker). false: do not send; pick another backend. A disabled breaker
 * always allows. *t (may be NULL) receives the transition this call performed: OPEN ->
 * HALF_OPEN when the open time has passed, or HALF_OPEN -> OPEN when every probe slot has
 * been used for a whole open time without a result. Lock-free, any thread.
 */
bool sl_breaker_allow(struct sl_breaker *b, uint64_t now_us, struct sl_breaker_ticket *ticket,
		      enum sl_breaker_transition *t);

/*
 * The outcome of a request admitted with `ticket`. Returns the transition this call
 * performed, if any. Outcomes of requests admitted in an earlier epoch (before the breaker
 * last moved) are ignored, so a slow request sent before the circuit opened cannot close it
 * and a request sent while closed cannot reopen a half-open circuit. Lock-free, any thread.
 */
enum sl_breaker_transition sl_breaker_report(struct sl_breaker *b,
					     const struct sl_breaker_ticket *ticket, bool failure,
					     uint64_t now_us);

/*
 * Time-driven transitions without a request: OPEN -> HALF_OPEN after the open time; a
 * half-open breaker whose probes were all admitted and none reported for a whole open time
 * goes back to OPEN. For the control plane's tick. Lock-free, any thread.
 */
enum sl_breaker_transition sl_breaker_poll(struct sl_breaker *b, uint64_t now_us);

enum sl_breaker_state sl_breaker_state(const struct sl_breaker *b);
/* Transitions so far (the epoch); for metrics. */
uint32_t sl_breaker_transitions(const struct sl_breaker *b);

/* Set or clear SL_BAL_F_CIRCUIT_OPEN of backend i from the breaker's current state. */
void sl_breaker_sync_flags(const struct sl_breaker *b, struct sl_bal_live *live, unsigned int i);

const char *sl_breaker_state_name(enum sl_breaker_state s);
const char *sl_breaker_transition_name(enum sl_breaker_transition t);

#endif
