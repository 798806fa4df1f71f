/* SPDX-License-Identifier: MIT */
#ifndef SL_TEST_SERVICES_H
#define SL_TEST_SERVICES_H

#include "lib/config/config.h"

struct sl_worker;

/*
 * The stack's own test services (RFC 862 echo, RFC 863 discard, RFC 864
 * chargen), off unless dataplane.test_services names their ports. They
 * exercise the TCP stack alone, without HTTP.
 */
int sl_test_services_start(struct sl_worker *w, const struct sl_config_test_services *cfg,
			   uint32_t max_connections);
void sl_test_services_stop(struct sl_worker *w);

/* Byte i of the chargen stream: 72-character lines of rotating printable ASCII and CRLF. */
static inline char
sl_chargen_byte(uint64_t i)
{
	uint64_t line = i / 74, col = i % 74;

	if (col == 72)
		return '\r';
	if (col == 73)
		return '\n';
	return (char)(' ' + (line + col) % 95);
}

#endif
