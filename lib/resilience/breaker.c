/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "lib/resilience/breaker.h"

/*
 * The state word: bits 0-1 state, 2-17 half-open admissions, 18-33 half-open successes,
 * 34-63 epoch. One CAS moves all of them together, so a new period's counters can never be
 * incremented by a worker that still believes in the old period.
 */
#define W_STATE_MASK 0x3ull
#define W_ADM_SHIFT 2
#define W_SUC_SHIFT 18
#define W_EPOCH_SHIFT 34
#define W_CNT_MASK 0xffffull

#define T48_MASK ((1ull << 48) - 1)

/* Window slot: bits 40-63 slot number (time / slot width), 20-39 requests, 0-19 failures. */
#define S_CNT_MASK ((1ull << 20) - 1)
#define S_TAG_MASK ((1ull << 24) - 1)

static inline enum sl_breaker_state
w_state(uint64_t w)
{
	return (enum sl_breaker_state)(w & W_STATE_MASK);
}

static inline uint32_t
w_adm(uint64_t w)
{
	return (uint32_t)((w >> W_ADM_SHIFT) & W_CNT_MASK);
}

static inline uint32_t
w_suc(uint64_t w)
{
	return (uint32_t)((w >> W_SUC_SHIFT) & W_CNT_MASK);
}

static inline uint32_t
w_epoch(uint64_t w)
{
	return (uint32_t)(w >> W_EPOCH_SHIFT);
}

static inline uint64_t
w_make(enum sl_breaker_state s, uint32_t epoch)
{
	return ((uint64_t)(epoch & 0x3fffffffu) << W_EPOCH_SHIFT) | (uint64_t)s;
}

void
sl_breaker_cfg_from_config(struct sl_breaker_cfg *cfg, const struct sl_config_circuit_breaker *c)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->enabled = c->enabled;
	cfg->threshold = c->threshold;
	cfg->open_us = (uint64_t)c->timeout_ms * 1000;
	cfg->half_open_max =
	    c->half_open_requests ? c->half_open_requests : SL_BREAKER_DEFAULT_HALF_OPEN_MAX;
	cfg->half_open_successes = c->half_open_successes ? c->half_open_successes
							  : SL_BREAKER_DEFAULT_HALF_OPEN_SUCCESSES;
	cfg->ratio_pct = c->error_ratio;
	cfg->min_requests = c->min_requests ? c->min_requests : SL_BREAKER_DEFAULT_MIN_REQUESTS;
	cfg->window_us =
	    c->window_ms ? (uint64_t)c->window_ms * 1000 : SL_BREAKER_DEFAULT_WINDOW_US;
}

void
sl_breaker_init(struct sl_breaker *b, const struct sl_breaker_cfg *cfg, uint64_t now_us)
{
	memset(b, 0, sizeof(*b));
	b->cfg = *cfg;
	if (b->cfg.half_open_max == 0)
		b->cfg.half_open_max = 1;
	if (b->cfg.half_open_max > W_CNT_MASK)
		b->cfg.half_open_max = W_CNT_MASK;
	if (b->cfg.half_open_successes == 0)
		b->cfg.half_open_successes = 1;
	/* More successes than probes could never close the circuit. */
	if (b->cfg.half_open_successes > b->cfg.half_open_max)
		b->cfg.half_open_successes = b->cfg.half_open_max;
	if (b->cfg.window_us < SL_BREAKER_WINDOW_SLOTS)
		b->cfg.window_us = SL_BREAKER_WINDOW_SLOTS;
	atomic_init(&b->word, w_make(SL_BREAKER_CLOSED, 0));
	atomic_init(&b->since, now_us & T48_MASK);
	atomic_init(&b->consec, 0);
	for (unsigned int i = 0; i < SL_BREAKER_WINDOW_SLOTS; i++)
		atomic_init(&b->window[i], 0);
}

/*
 * Has `span` passed since the transition that started the epoch of w? `since` is stored
 * after the CAS that changes the word, so a reader may briefly see the new word with the
 * previous epoch's time; the epoch tag in `since` detects that, and the answer is then "no"
 * (the transition has only just happened).
 */
static bool
elapsed(const struct sl_breaker *b, uint64_t w, uint64_t now_us, uint64_t span)
{
	uint64_t s = atomic_load_explicit(&b->since, memory_order_acquire);

	if ((s >> 48) != (w_epoch(w) & 0xffffu))
		return false;
	return ((now_us - s) & T48_MASK) >= span;
}

static void
window_clear(struct sl_breaker *b)
{
	for (unsigned int i = 0; i < SL_BREAKER_WINDOW_SLOTS; i++)
		atomic_store_explicit(&b->window[i], 0, memory_order_relaxed);
}

/* One CAS from w to (to, epoch + 1, counters 0); true for the caller that performed it. */
static bool
transit(struct sl_breaker *b, uint64_t w, enum sl_breaker_state to, uint64_t now_us)
{
	uint32_t epoch = (w_epoch(w) + 1) & 0x3fffffffu;

	if (!atomic_compare_exchange_strong_explicit(&b->word, &w, w_make(to, epoch),
						     memory_order_acq_rel, memory_order_relaxed))
		return false;
	atomic_store_explicit(&b->since, ((uint64_t)(epoch & 0xffffu) << 48) | (now_us & T48_MASK),
			      memory_order_release);
	if (to != SL_BREAKER_HALF_OPEN)
		atomic_store_explicit(&b->consec, 0, memory_order_relaxed);
	/* A closed circuit starts with a clean window, or the failures that opened it would
	 * open it again at the first request. */
	if (to == SL_BREAKER_CLOSED && b->cfg.ratio_pct)
		window_clear(b);
	return true;
}

bool
sl_breaker_allow(struct sl_breaker *b, uint64_t now_us, struct sl_breaker_ticket *ticket,
		 enum sl_breaker_transition *t)
{
	if (t)
		*t = SL_BREAKER_T_NONE;
	ticket->epoch = 0;
	ticket->probe = false;
	if (!b->cfg.enabled)
		return true;
	for (;;) {
		uint64_t w = atomic_load_explicit(&b->word, memory_order_acquire);

		switch (w_state(w)) {
		case SL_BREAKER_CLOSED:
			ticket->epoch = w_epoch(w);
			return true;
		case SL_BREAKER_OPEN:
			if (!elapsed(b, w, now_us, b->cfg.open_us))
				return false;
			if (transit(b, w, SL_BREAKER_HALF_OPEN, now_us) && t)
				*t = SL_BREAKER_T_HALF_OPENED;
			continue;
		case SL_BREAKER_HALF_OPEN:
			if (w_adm(w) >= b->cfg.half_open_max) {
				/* Every probe slot used and no verdict for a whole open time: the
				 * probes were lost (or hang). Open again rather than stay stuck. */
				if (elapsed(b, w, now_us, b->cfg.open_us) &&
				    transit(b, w, SL_BREAKER_OPEN, now_us) && t)
					*t = SL_BREAKER_T_REOPENED;
				return false;
			}
			if (atomic_compare_exchange_weak_explicit(
				&b->word, &w, w + (1ull << W_ADM_SHIFT), memory_order_acq_rel,
				memory_order_relaxed)) {
				ticket->epoch = w_epoch(w);
				ticket->probe = true;
				return true;
			}
			continue;
		default:
			return false;
		}
	}
}

static void
window_record(struct sl_breaker *b, bool failure, uint64_t now_us)
{
	uint64_t slot_us = b->cfg.window_us / SL_BREAKER_WINDOW_SLOTS;
	uint64_t n = now_us / slot_us;
	_Atomic uint64_t *s = &b->window[n % SL_BREAKER_WINDOW_SLOTS];
	uint64_t tag = n & S_TAG_MASK;
	uint64_t old = atomic_load_explicit(s, memory_order_relaxed);
	uint64_t nw;

	do {
		uint64_t r = 0, f = 0;

		if ((old >> 40) == tag) {
			r = (old >> 20) & S_CNT_MASK;
			f = old & S_CNT_MASK;
		}
		if (r < S_CNT_MASK)
			r++;
		if (failure && f < S_CNT_MASK)
			f++;
		nw = (tag << 40) | (r << 20) | f;
	} while (!atomic_compare_exchange_weak_explicit(s, &old, nw, memory_order_relaxed,
							memory_order_relaxed));
}

/* Does the window's error ratio call for opening? Slots older than the window are skipped. */
static bool
window_trips(struct sl_breaker *b, uint64_t now_us)
{
	uint64_t slot_us = b->cfg.window_us / SL_BREAKER_WINDOW_SLOTS;
	uint64_t n = now_us / slot_us;
	uint64_t req = 0, fail = 0;

	for (unsigned int i = 0; i < SL_BREAKER_WINDOW_SLOTS; i++) {
		uint64_t v = atomic_load_explicit(&b->window[i], memory_order_relaxed);
		uint64_t age = (n - (v >> 40)) & S_TAG_MASK;

		if (v == 0 || age >= SL_BREAKER_WINDOW_SLOTS)
			continue;
		req += (v >> 20) & S_CNT_MASK;
		fail += v & S_CNT_MASK;
	}
	return req >= b->cfg.min_requests && req > 0 && fail * 100 >= req * b->cfg.ratio_pct;
}

enum sl_breaker_transition
sl_breaker_report(struct sl_breaker *b, const struct sl_breaker_ticket *ticket, bool failure,
		  uint64_t now_us)
{
	if (!b->cfg.enabled)
		return SL_BREAKER_T_NONE;
	for (;;) {
		uint64_t w = atomic_load_explicit(&b->word, memory_order_acquire);

		if (w_epoch(w) != ticket->epoch)
			return SL_BREAKER_T_NONE; /* a verdict on an earlier period */
		if (w_state(w) == SL_BREAKER_CLOSED) {
			bool trip = false;

			if (b->cfg.ratio_pct)
				window_record(b, failure, now_us);
			if (!failure) {
				if (atomic_load_explicit(&b->consec, memory_order_relaxed))
					atomic_store_explicit(&b->consec, 0, memory_order_relaxed);
				return SL_BREAKER_T_NONE;
			}
			if (b->cfg.threshold &&
			    atomic_fetch_add_explicit(&b->consec, 1, memory_order_relaxed) + 1 >=
				b->cfg.threshold)
				trip = true;
			if (!trip && b->cfg.ratio_pct && window_trips(b, now_us))
				trip = true;
			if (trip && transit(b, w, SL_BREAKER_OPEN, now_us))
				return SL_BREAKER_T_OPENED;
			return SL_BREAKER_T_NONE;
		}
		if (w_state(w) != SL_BREAKER_HALF_OPEN || !ticket->probe)
			return SL_BREAKER_T_NONE;
		if (failure) {
			if (transit(b, w, SL_BREAKER_OPEN, now_us))
				return SL_BREAKER_T_REOPENED;
			continue; /* the word moved (another probe's verdict): look again */
		}
		if (w_suc(w) + 1 >= b->cfg.half_open_successes) {
			if (transit(b, w, SL_BREAKER_CLOSED, now_us))
				return SL_BREAKER_T_CLOSED;
			continue;
		}
		if (atomic_compare_exchange_weak_explicit(&b->word, &w, w + (1ull << W_SUC_SHIFT),
							  memory_order_acq_rel,
							  memory_order_relaxed))
			return SL_BREAKER_T_NONE;
	}
}

enum sl_breaker_transition
sl_breaker_poll(struct sl_breaker *b, uint64_t now_us)
{
	uint64_t w;

	if (!b->cfg.enabled)
		return SL_BREAKER_T_NONE;
	w = atomic_load_explicit(&b->word, memory_order_acquire);
	if (w_state(w) == SL_BREAKER_OPEN && elapsed(b, w, now_us, b->cfg.open_us) &&
	    transit(b, w, SL_BREAKER_HALF_OPEN, now_us))
		return SL_BREAKER_T_HALF_OPENED;
	if (w_state(w) == SL_BREAKER_HALF_OPEN && w_adm(w) >= b->cfg.half_open_max &&
	    elapsed(b, w, now_us, b->cfg.open_us) && transit(b, w, SL_BREAKER_OPEN, now_us))
		return SL_BREAKER_T_REOPENED;
	return SL_BREAKER_T_NONE;
}

enum sl_breaker_state
sl_breaker_state(const struct sl_breaker *b)
{
	return w_state(atomic_load_explicit(&b->word, memory_order_acquire));
}

uint32_t
sl_breaker_transitions(const struct sl_breaker *b)
{
	return w_epoch(atomic_load_explicit(&b->word, memory_order_relaxed));
}

void
sl_breaker_sync_flags(const struct sl_breaker *b, struct sl_bal_live *live, unsigned int i)
{
	if (sl_breaker_state(b) == SL_BREAKER_OPEN)
		sl_bal_live_set_flags(live, i, SL_BAL_F_CIRCUIT_OPEN, 0);
	else
		sl_bal_live_set_flags(live, i, 0, SL_BAL_F_CIRCUIT_OPEN);
}

const char *
sl_breaker_state_name(enum sl_breaker_state s)
{
	switch (s) {
	case SL_BREAKER_CLOSED:
		return "closed";
	case SL_BREAKER_OPEN:
		return "open";
	case SL_BREAKER_HALF_OPEN:
		return "half-open";
	}
	return "?";
}

const char *
sl_breaker_transition_name(enum sl_breaker_transition t)
{
	static const char *const names[] = {"none", "opened", "half-opened", "closed", "reopened"};

	return (unsigned int)t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}
