/* SPDX-License-Identifier: MIT */
#include "dataplane/net/tcp/tcp_syncookie.h"

#include "lib/hash/siphash.h"

/* First byte of every message hashed with the TCP secret; tcp_isn.c uses 0x01. */
#define TCP_SYNCOOKIE_DOMAIN 0x02

#define COOKIE_MSS_MASK 0x3u
#define COOKIE_PARITY_BIT 0x4u
#define COOKIE_MAC_MASK (~0x7u)

#define TS_WSCALE_MASK 0xfu
#define TS_SACK_BIT 0x10u
#define TS_OPT_MASK ((1u << SL_SYNCOOKIE_TS_BITS) - 1)

const uint16_t sl_syncookie_mss_table[SL_SYNCOOKIE_MSS_COUNT] = {536, 1300, 1440, 1460};

/* The 29 MAC bits of a cookie, in place (bits 31..3), the other bits zero. */
static uint32_t
cookie_mac(const struct sl_tcp_secret *s, uint32_t laddr, uint16_t lport, uint32_t raddr,
	   uint16_t rport, uint32_t peer_isn, uint64_t counter, unsigned mss_idx)
{
	uint8_t msg[28] = {TCP_SYNCOOKIE_DOMAIN, (uint8_t)mss_idx};

	sl_put_le32(msg + 4, laddr);
	sl_put_le32(msg + 8, raddr);
	sl_put_le32(msg + 12, (uint32_t)lport << 16 | rport);
	sl_put_le32(msg + 16, peer_isn);
	sl_put_le32(msg + 20, (uint32_t)counter);
	sl_put_le32(msg + 24, (uint32_t)(counter >> 32));
	return (uint32_t)(sl_siphash24(s->key, msg, sizeof(msg)) >> 32) & COOKIE_MAC_MASK;
}

uint32_t
sl_syncookie_make(const struct sl_tcp_secret *s, uint32_t laddr, uint16_t lport, uint32_t raddr,
		  uint16_t rport, uint32_t peer_isn, uint16_t peer_mss, uint64_t now_s,
		  uint16_t *mss_out)
{
	uint64_t counter = now_s >> SL_SYNCOOKIE_PERIOD_SHIFT;
	unsigned idx;

	for (idx = SL_SYNCOOKIE_MSS_COUNT - 1; idx > 0; idx--)
		if (peer_mss >= sl_syncookie_mss_table[idx])
			break;
	if (mss_out != NULL)
		*mss_out = sl_syncookie_mss_table[idx];
	return cookie_mac(s, laddr, lport, raddr, rport, peer_isn, counter, idx) |
	       ((uint32_t)(counter & 1) << 2) | idx;
}

/*
 * The parity bit picks the one candidate counter, current or previous; a
 * cookie two or more periods old (or from the future) then names a counter
 * other than the one it was made at, and its MAC cannot match but by chance.
 */
int
sl_syncookie_check(const struct sl_tcp_secret *s, uint32_t laddr, uint16_t lport, uint32_t raddr,
		   uint16_t rport, uint32_t peer_isn, uint32_t cookie, uint64_t now_s,
		   uint16_t *mss_out)
{
	uint64_t counter = now_s >> SL_SYNCOOKIE_PERIOD_SHIFT;
	unsigned idx = cookie & COOKIE_MSS_MASK;

	if (((cookie & COOKIE_PARITY_BIT) != 0) != ((counter & 1) != 0))
		counter--;
	if ((cookie & COOKIE_MAC_MASK) !=
	    cookie_mac(s, laddr, lport, raddr, rport, peer_isn, counter, idx))
		return -EINVAL;
	if (mss_out != NULL)
		*mss_out = sl_syncookie_mss_table[idx];
	return 0;
}

uint32_t
sl_syncookie_ts_encode(uint32_t tsval_now, uint8_t wscale, bool sack_ok)
{
	uint32_t opts = wscale > 14 ? SL_SYNCOOKIE_WSCALE_NONE : wscale;
	uint32_t ts;

	if (sack_ok)
		opts |= TS_SACK_BIT;
	ts = (tsval_now & ~TS_OPT_MASK) | opts;
	if (opts > (tsval_now & TS_OPT_MASK))
		ts -= 1u << SL_SYNCOOKIE_TS_BITS; /* wraps below 64: TSvals are mod 2^32 */
	return ts;
}

void
sl_syncookie_ts_decode(uint32_t tsecr, uint8_t *wscale, bool *sack_ok)
{
	*wscale = (uint8_t)(tsecr & TS_WSCALE_MASK);
	*sack_ok = (tsecr & TS_SACK_BIT) != 0;
}
