/* SPDX-License-Identifier: MIT */
#include "dataplane/net/tcp/tcp_isn.h"

#include <string.h>

/* First byte of every message hashed with the TCP secret, so that ISNs and cookies never meet. */
#define TCP_ISN_DOMAIN 0x01
/* tcp_syncookie.c uses 0x02. */
#define TCP_PORT_DOMAIN 0x03

void
sl_tcp_secret_init(struct sl_tcp_secret *s, const uint8_t seed[SL_SIPHASH_KEY_LEN])
{
	memcpy(s->key, seed, sizeof(s->key));
}

uint32_t
sl_tcp_isn(const struct sl_tcp_secret *s, uint32_t laddr, uint16_t lport, uint32_t raddr,
	   uint16_t rport, uint64_t now_us)
{
	uint8_t msg[16] = {TCP_ISN_DOMAIN};
	uint32_t f;

	sl_put_le32(msg + 4, laddr);
	sl_put_le32(msg + 8, raddr);
	sl_put_le32(msg + 12, (uint32_t)lport << 16 | rport);
	f = (uint32_t)sl_siphash24(s->key, msg, sizeof(msg));
	return (uint32_t)(now_us >> 2) + f;
}

uint64_t
sl_tcp_port_hash(const struct sl_tcp_secret *s, uint32_t laddr, uint32_t raddr, uint16_t rport)
{
	uint8_t msg[12] = {TCP_PORT_DOMAIN};

	msg[2] = (uint8_t)rport;
	msg[3] = (uint8_t)(rport >> 8);
	sl_put_le32(msg + 4, laddr);
	sl_put_le32(msg + 8, raddr);
	return sl_siphash24(s->key, msg, sizeof(msg));
}
