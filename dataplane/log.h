/* SPDX-License-Identifier: MIT */
#ifndef SL_LOG_H
#define SL_LOG_H

#include <rte_log.h>

/* Main lcore and start-up only: workers never log on the hot path. */
extern int sl_logtype;
#define SL_LOG(level, fmt, ...)                                                                    \
	rte_log(RTE_LOG_##level, sl_logtype, "sluice: " fmt "\n", ##__VA_ARGS__)

#endif
