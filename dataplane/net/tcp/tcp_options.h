/* SPDX-License-Identifier: MIT */
#ifndef SL_TCP_OPTIONS_H
#define SL_TCP_OPTIONS_H

/* TCP options we read and write: MSS, window scale, SACK, timestamps. */

#include <stdbool.h>
#include <stdint.h>

#define SL_TCPOPT_EOL 0
#define SL_TCPOPT_NOP 1
#define SL_TCPOPT_MSS 2
#define SL_TCPOPT_WS 3
#define SL_TCPOPT_SACK_PERM 4
#define SL_TCPOPT_SACK 5
#define SL_TCPOPT_TS 8
#define SL_TCPOLEN_MSS 4
#define SL_TCPOLEN_WS 3
#define SL_TCPOLEN_SACK_PERM 2
#define SL_TCPOLEN_TS 10
#define SL_TCPOPT_MAX 40

struct sl_tcp_opts {
	bool mss_ok, ws_ok, sack_perm, ts_ok;
	uint16_t mss;
	uint8_t ws;
	uint8_t n_sack;
	uint32_t tsval, tsecr;
	uint32_t sack[4][2];
};

static inline void
sl_tcpopt_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t
sl_tcpopt_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * Parse len bytes of options. Returns 0, or -EINVAL for a malformed list (an
 * option running past the end, a length below 2). Options of the wrong
 * length or unknown kinds are skipped, as RFC 9293 3.1 asks. MSS and window
 * scale count only on a SYN.
 */
int sl_tcp_parse_options(const uint8_t *p, unsigned int len, bool syn, struct sl_tcp_opts *o);

#endif
