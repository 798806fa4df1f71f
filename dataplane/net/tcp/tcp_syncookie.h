/* SPDX-License-Identifier: MIT */
#ifndef SL_TCP_SYNCOOKIE_H
#define SL_TCP_SYNCOOKIE_H

/*
 * SYN cookies (RFC 4987 section 3.6, after Linux net/ipv4/syncookies.c): when
 * the SYN queue is full the listener keeps no state for a SYN; our ISN in the
 * SYN-ACK is a cookie from which the returning ACK alone rebuilds the
 * connection (4-tuple, peer ISN, MSS, and with timestamps the window scale
 * and SACK permission).
 *
 * Cookie layout (32 bits, it is our ISN):
 *   31..3  MAC: the top 29 bits of SipHash-2-4 under the TCP secret of
 *          (4-tuple, peer ISN, counter, MSS index)
 *   2      the counter's low bit
 *   1..0   MSS index into sl_syncookie_mss_table
 * The counter is now_s / 64. A cookie made at counter c checks at counters c
 * and c + 1 only: it lives 64 to 128 seconds. The low bit tells the checker
 * which of the two to recompute the MAC for, so a check costs one SipHash.
 * Unlike Linux, which adds its fields to two hashes and only verifies that the
 * MSS index comes out in range, the fields are in the clear and the MAC
 * covers all of them: a blind forgery succeeds with probability 2^-29 per
 * guess. The low bits reveal the peer's own MSS bucket and the clock's
 * parity, nothing secret.
 *
 * Pure C, no DPDK, no allocation. Addresses and ports are hashed as given:
 * the same byte order on both sides (the stack uses network order).
 */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "dataplane/net/tcp/tcp_isn.h"

#define SL_SYNCOOKIE_MSS_COUNT 4
#define SL_SYNCOOKIE_PERIOD_SHIFT 6 /* the counter ticks every 2^6 = 64 s */
#define SL_SYNCOOKIE_TS_BITS 6	    /* low TSval bits carrying options */
#define SL_SYNCOOKIE_WSCALE_NONE 15 /* "the peer sent no window scale option" */

/* The MSS values a cookie can carry, ascending: {536, 1300, 1440, 1460} as in Linux. */
extern const uint16_t sl_syncookie_mss_table[SL_SYNCOOKIE_MSS_COUNT];

/*
 * The cookie to send as our ISN in the SYN-ACK answering a SYN with sequence
 * number peer_isn and MSS option peer_mss (536 when the SYN had none, per
 * RFC 9293). The MSS is rounded down to the table (to 536 when below it) and
 * that value, the one the connection must use, is stored in *mss_out unless
 * mss_out is NULL.
 */
uint32_t sl_syncookie_make(const struct sl_tcp_secret *s, uint32_t laddr, uint16_t lport,
			   uint32_t raddr, uint16_t rport, uint32_t peer_isn, uint16_t peer_mss,
			   uint64_t now_s, uint16_t *mss_out);

/*
 * Check the ACK that completes a cookie handshake: peer_isn is the ACK's
 * seq - 1, cookie its ack_seq - 1. Returns 0 and the MSS in *mss_out (unless
 * NULL) when the cookie was made for this 4-tuple and peer ISN, with this
 * secret, at the current or previous counter; -EINVAL otherwise (forged,
 * expired, or for another connection).
 */
int sl_syncookie_check(const struct sl_tcp_secret *s, uint32_t laddr, uint16_t lport,
		       uint32_t raddr, uint16_t rport, uint32_t peer_isn, uint32_t cookie,
		       uint64_t now_s, uint16_t *mss_out);

/*
 * Our TSval for a cookie SYN-ACK when the SYN carried timestamps: the low 6
 * bits hold the options the ACK's TSecr will give back (bits 0-3 the peer's
 * window scale 0-14, or 15 for none, and anything above 14 is taken as none;
 * bit 4 SACK permitted; bit 5 zero), the rest is tsval_now.
 *
 * The result is the largest value <= tsval_now (mod 2^32) with those low bits,
 * 0 to 63 ticks behind the clock, as Linux does. Rounding down, not up, is
 * what keeps our TSvals monotonic: every later segment of the connection
 * carries the clock, so it is >= this one and passes the peer's PAWS check
 * (RFC 7323 section 5), whereas a SYN-ACK TSval ahead of the clock would get
 * our next segments dropped as old. The price: the echo of this TSval is up
 * to 63 ticks stale, so take no RTT sample from the TSecr of the cookie ACK.
 */
uint32_t sl_syncookie_ts_encode(uint32_t tsval_now, uint8_t wscale, bool sack_ok);

/*
 * The options of a cookie ACK from its TSecr (the echo of the TSval made by
 * sl_syncookie_ts_encode). *wscale is 0-14, or SL_SYNCOOKIE_WSCALE_NONE. Only
 * for an ACK that carries a timestamp option; without one, the connection has
 * neither window scaling nor SACK.
 */
void sl_syncookie_ts_decode(uint32_t tsecr, uint8_t *wscale, bool *sack_ok);

#endif
