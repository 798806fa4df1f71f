/* SPDX-License-Identifier: MIT */
#ifndef SL_FLOW_STEER_H
#define SL_FLOW_STEER_H

#include <stdbool.h>
#include <stdint.h>

struct sl_port;

/*
 * Make a NIC deliver every packet to the worker that owns its connection:
 *  - a symmetric RSS key, checked by computing the Toeplitz hash of a tuple
 *    and of its reverse, so both directions of a client flow meet on one queue;
 *  - rte_flow rules: listener ports keep RSS; every other TCP port goes to
 *    the queue sl_tcp_port_owner() names (the source ports of our active opens).
 * Whatever the device refuses is logged; workers then hand misdelivered
 * packets to their owner in software (always the case on TAP). Returns true
 * when the hardware steers everything.
 */
bool sl_flow_steer_setup(struct sl_port *p, uint16_t n_queues, const uint16_t *listen_ports,
			 unsigned int n_listen);

#endif
