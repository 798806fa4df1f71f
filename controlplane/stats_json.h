/* SPDX-License-Identifier: MIT */
#ifndef SL_STATS_JSON_H
#define SL_STATS_JSON_H

#include <stdbool.h>

#include <jansson.h>

#include "lib/msg/msg.h"

/*
 * A snapshot of the data plane as one JSON document: per-port counters and
 * drops by reason (summed over workers), per-worker busy time, and every
 * worker's ARP table (asked for over the command rings). Caller frees.
 */
char *sl_cp_stats_json(const struct sl_plane_view *v);
/*
 * The same as a JSON object (caller decrefs). Without ARP it reads counters only and never
 * touches a ring, so any thread may call it (the admin API's handlers).
 */
json_t *sl_cp_stats_object(const struct sl_plane_view *v, bool with_arp);

#endif
