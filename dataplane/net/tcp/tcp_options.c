/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "tcp_options.h"

int
sl_tcp_parse_options(const uint8_t *p, unsigned int len, bool syn, struct sl_tcp_opts *o)
{
	memset(o, 0, sizeof(*o));
	/*
	 * What nearly every segment of a connection with timestamps carries (RFC 7323
	 * appendix A: NOP, NOP, TS): the loop below would read the same.
	 */
	if (len == 12 && p[0] == SL_TCPOPT_NOP && p[1] == SL_TCPOPT_NOP && p[2] == SL_TCPOPT_TS &&
	    p[3] == SL_TCPOLEN_TS) {
		o->ts_ok = true;
		o->tsval = sl_tcpopt_get32(p + 4);
		o->tsecr = sl_tcpopt_get32(p + 8);
		return 0;
	}
	for (unsigned int i = 0; i < len;) {
		uint8_t kind = p[i], olen;

		if (kind == SL_TCPOPT_EOL)
			break;
		if (kind == SL_TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return -EINVAL;
		olen = p[i + 1];
		if (olen < 2 || i + olen > len)
			return -EINVAL;
		switch (kind) {
		case SL_TCPOPT_MSS:
			if (syn && olen == SL_TCPOLEN_MSS) {
				o->mss_ok = true;
				o->mss = (uint16_t)(p[i + 2] << 8 | p[i + 3]);
			}
			break;
		case SL_TCPOPT_WS:
			if (syn && olen == SL_TCPOLEN_WS) {
				o->ws_ok = true;
				o->ws = p[i + 2];
			}
			break;
		case SL_TCPOPT_SACK_PERM:
			if (syn && olen == SL_TCPOLEN_SACK_PERM)
				o->sack_perm = true;
			break;
		case SL_TCPOPT_SACK:
			if (olen >= 10 && (olen - 2) % 8 == 0) {
				unsigned int n = (olen - 2) / 8;

				for (unsigned int k = 0; k < n && o->n_sack < 4; k++) {
					o->sack[o->n_sack][0] = sl_tcpopt_get32(p + i + 2 + 8 * k);
					o->sack[o->n_sack][1] = sl_tcpopt_get32(p + i + 6 + 8 * k);
					o->n_sack++;
				}
			}
			break;
		case SL_TCPOPT_TS:
			if (olen == SL_TCPOLEN_TS) {
				o->ts_ok = true;
				o->tsval = sl_tcpopt_get32(p + i + 2);
				o->tsecr = sl_tcpopt_get32(p + i + 6);
			}
			break;
		}
		i += olen;
	}
	return 0;
}
