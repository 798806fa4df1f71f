/* SPDX-License-Identifier: MIT */
#ifndef SL_CP_ACCESS_LOG_H
#define SL_CP_ACCESS_LOG_H

#include <stddef.h>

#include "lib/config/config.h"
#include "lib/msg/msg.h"

/*
 * The access-log writer: a thread of the control plane that drains every worker's records
 * (lib/accesslog, view->alog[]) and writes one line per request to a file or to stdout, in
 * the configured format. Workers never wait for it: when it falls behind, their records run
 * out and they count drops. A slow disk slows this thread only, not the control loop.
 */
struct sl_cp_alog;

/*
 * Open the destination (a file is created 0640 and appended to) and start the thread. With
 * the log off (cfg->enabled false) *out is NULL and 0 is returned. 0 or -errno with a sentence
 * in err. The view must outlive the writer.
 */
int sl_cp_alog_start(const struct sl_config_access_log *cfg, const struct sl_plane_view *v,
		     struct sl_cp_alog **out, char *err, size_t errlen);
/* Reopen the file at the next pass (log rotation: SIGUSR2). Async-signal-safe; NULL is fine. */
void sl_cp_alog_reopen(struct sl_cp_alog *a);
/* Write out what is left, stop the thread, close, free. Call after the workers stopped to log
 * every request they finished. NULL is fine. */
void sl_cp_alog_stop(struct sl_cp_alog *a);

#endif
