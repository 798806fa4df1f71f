/* SPDX-License-Identifier: MIT */
#ifndef SL_STATS_JSON_H
#define SL_STATS_JSON_H

#include "lib/msg/msg.h"

/*
 * A snapshot of the data plane as one JSON document: per-port counters and
 * drops by reason (summed over workers), per-worker busy time, and every
 * worker's ARP table (asked for over the command rings). Caller frees.
 */
char *sl_cp_stats_json(const struct sl_plane_view *v);

#endif
