/* SPDX-License-Identifier: MIT */
#include "msg.h"

const char *
sl_arp_state_name(enum sl_arp_state s)
{
	switch (s) {
	case SL_ARP_FREE:
		return "free";
	case SL_ARP_INCOMPLETE:
		return "incomplete";
	case SL_ARP_REACHABLE:
		return "reachable";
	}
	return "unknown";
}
