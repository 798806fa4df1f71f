/* SPDX-License-Identifier: MIT */
#ifndef SL_TCP_ISN_H
#define SL_TCP_ISN_H

/*
 * Initial sequence numbers per RFC 6528: ISN = M + F(4-tuple, secret), M a
 * clock ticking every 4 microseconds, F a keyed hash (SipHash-2-4). An
 * off-path attacker cannot guess the ISN of a connection, yet successive
 * incarnations of one 4-tuple get increasing ISNs (the clock) so that old
 * duplicates fall outside the new sequence space.
 *
 * Pure C, no DPDK. Addresses and ports are hashed as given: pass them in the
 * same byte order every time (the stack uses network order throughout).
 */

#include <stdint.h>

#include "lib/hash/siphash.h"

/*
 * The per-process secret behind ISNs and SYN cookies. Filled once at start
 * from a random source (getrandom) and the same on every worker, so that any
 * worker can check a cookie another one issued. Changing it while
 * connections live only costs the monotonicity of their successors' ISNs, but
 * invalidates every SYN cookie in flight.
 */
/* Little-endian store for building hash input the same way on every host. */
static inline void
sl_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

struct sl_tcp_secret {
	uint8_t key[SL_SIPHASH_KEY_LEN];
};

/* Set the secret from 16 random bytes. */
void sl_tcp_secret_init(struct sl_tcp_secret *s, const uint8_t seed[SL_SIPHASH_KEY_LEN]);

/*
 * The ISN for the connection laddr:lport <-> raddr:rport at time now_us
 * (microseconds, any epoch, the same for all calls). Equal inputs give equal
 * results; the value advances by 250,000 per second of now_us and wraps
 * every 2^32 * 4 us, about 4.8 hours.
 */
uint32_t sl_tcp_isn(const struct sl_tcp_secret *s, uint32_t laddr, uint16_t lport, uint32_t raddr,
		    uint16_t rport, uint64_t now_us);

/*
 * RFC 6056 3.3.4 (Algorithm 4): the keyed hash of a destination behind the
 * source port of an active open. The low 32 bits are the offset F into the
 * port range, the high 32 bits pick the counter G from the table that
 * advances with every port handed out. Same byte-order rule as above.
 */
uint64_t sl_tcp_port_hash(const struct sl_tcp_secret *s, uint32_t laddr, uint32_t raddr,
			  uint16_t rport);

#endif
