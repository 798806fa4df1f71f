/* SPDX-License-Identifier: MIT */
#ifndef SL_RESILIENCE_H
#define SL_RESILIENCE_H

/*
 * lib/resilience: every header of the module. Each one states its own contract; README.md
 * says who calls what (workers, control plane) and how results reach struct sl_bal_live.
 */

#include "lib/resilience/admission.h"
#include "lib/resilience/breaker.h"
#include "lib/resilience/connlimit.h"
#include "lib/resilience/health.h"
#include "lib/resilience/outlier.h"
#include "lib/resilience/ratelimit.h"
#include "lib/resilience/retry.h"
#include "lib/resilience/slowstart.h"

#endif
