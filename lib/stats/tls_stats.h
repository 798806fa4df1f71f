/* SPDX-License-Identifier: MIT */
#ifndef SL_STATS_TLS_STATS_H
#define SL_STATS_TLS_STATS_H

/*
 * A worker's TLS counters (dataplane/proxy/px_tls.c): one writer, the worker (sl_counter_inc,
 * sl_hist_record); the control plane sums them into /metrics (sl_metrics_tls).
 */

#include <stdint.h>

#include "hist.h"

/* Why a handshake failed; the label values of sluice_tls_handshake_failures_total{reason}. */
#define SL_TLS_FAILS(X)                                                                            \
	X(NOT_TLS, "not_tls")		/* garbage or plain HTTP instead of a ClientHello */       \
	X(VERSION, "protocol_version")	/* TLS 1.1 or older, SSL */                                \
	X(CIPHER, "no_shared_cipher")	/* no cipher suite, group or signature in common */        \
	X(EOF, "eof_or_timeout")	/* the client left or stalled (header timeout) mid-way */ \
	X(OTHER, "other")		/* anything else (an alert from the client, ...) */        \
	X(VERIFY, "verify")		/* backends: the certificate did not verify (CA, name) */

#define SL_TLS_FAIL_ENUM(e, name) SL_TLS_FAIL_##e,
enum sl_tls_fail { SL_TLS_FAILS(SL_TLS_FAIL_ENUM) SL_TLS_FAIL_N };
#undef SL_TLS_FAIL_ENUM

struct sl_tls_stats {
	uint64_t handshakes;  /* completed */
	uint64_t resumed;     /* of which resumed with a session ticket */
	uint64_t failed[SL_TLS_FAIL_N];
	uint64_t bad_records; /* after the handshake: a record that does not decrypt */
	struct sl_hist hs_time; /* first ClientHello byte to handshake done, ns */
};

#endif
