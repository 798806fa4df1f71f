/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>

#include "controlplane/access_log.h"
#include "lib/accesslog/accesslog.h"

#define BUF_SIZE (256u * 1024u) /* lines gathered before one write() */
#define IDLE_NS (2u * 1000000u) /* sleep after a pass that emptied every ring */
#define BATCH 1024u		/* records of one worker per pass */
#define CLOCK_RESYNC_S 60u	/* re-pair TSC and realtime (drift) */

struct sl_cp_alog {
	const struct sl_plane_view *v;
	enum sl_alog_format fmt;
	char path[SL_CONFIG_PATH_MAX]; /* "" for stdout */
	int fd;
	struct sl_alog_clock clock;
	uint64_t clock_at_s;
	pthread_t thread;
	int stop, reopen; /* atomic flags */
	char *buf;
	size_t len;
	uint64_t pending[SL_MAX_WORKERS]; /* lines of each worker in buf */
	uint64_t lost;			  /* lines a failed write() took with it */
	bool failing;			  /* the last write failed (report once per streak) */
};

static uint64_t
realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
clock_sync(struct sl_cp_alog *a)
{
	a->clock.tsc = rte_rdtsc();
	a->clock.realtime_ns = realtime_ns();
	a->clock.tsc_hz = a->v->tsc_hz;
	a->clock_at_s = a->clock.realtime_ns / 1000000000u;
}

static int
open_dest(struct sl_cp_alog *a)
{
	int fd;

	if (a->path[0] == '\0')
		return STDOUT_FILENO;
	fd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	return fd < 0 ? -errno : fd;
}

static void
do_reopen(struct sl_cp_alog *a)
{
	int fd;

	if (a->path[0] == '\0')
		return;
	fd = open_dest(a);
	if (fd < 0) {
		/* Keep writing to the old file rather than lose lines. */
		fprintf(stderr,
			"sluice: access log: cannot reopen %s: %s (still writing to the "
			"previous file)\n",
			a->path, strerror(-fd));
		return;
	}
	close(a->fd);
	a->fd = fd;
}

/* Write the buffer out; count its lines as written (or lost) per worker. */
static void
flush(struct sl_cp_alog *a)
{
	size_t off = 0;
	int err = 0;

	if (a->len == 0)
		return;
	while (off < a->len) {
		ssize_t n = write(a->fd, a->buf + off, a->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? errno : EIO;
			break;
		}
		off += (size_t)n;
	}
	for (unsigned int w = 0; w < a->v->n_workers; w++) {
		if (a->pending[w] == 0)
			continue;
		if (err == 0)
			sl_alog_add_written(a->v->alog[w], a->pending[w]);
		else
			sl_alog_add_lost(a->v->alog[w], a->pending[w]);
		if (err != 0)
			a->lost += a->pending[w];
		a->pending[w] = 0;
	}
	if (err != 0 && !a->failing)
		fprintf(stderr,
			"sluice: access log: cannot write to %s: %s (lines are lost until "
			"it works again; %llu so far)\n",
			a->path[0] ? a->path : "stdout", strerror(err),
			(unsigned long long)a->lost);
	a->failing = err != 0;
	a->len = 0;
}

/* One pass over every worker's ring. Returns true if a ring had more than one batch. */
static bool
drain(struct sl_cp_alog *a)
{
	bool more = false;

	for (unsigned int w = 0; w < a->v->n_workers; w++) {
		struct sl_alog *l = a->v->alog[w];
		struct sl_alog_rec *r;

		if (l == NULL)
			continue;
		/* A bounded batch per worker, so that a busy one does not starve the others. */
		for (unsigned int k = 0; (r = sl_alog_next(l)) != NULL; k++) {
			int n;

			if (BUF_SIZE - a->len < SL_ALOG_LINE_MAX)
				flush(a);
			n = sl_alog_format(a->fmt, r, sl_alog_wall_ns(&a->clock, r->start_tsc),
					   a->buf + a->len, BUF_SIZE - a->len);
			sl_alog_release(l, r);
			if (n > 0) {
				a->len += (size_t)n;
				a->pending[w]++;
			}
			if (k + 1 == BATCH) {
				more = true;
				break;
			}
		}
	}
	return more;
}

static void *
writer(void *arg)
{
	struct sl_cp_alog *a = arg;
	sigset_t all;

	/* Signals are the main thread's; a reader gone from stdout is EPIPE here, not SIGPIPE
	 * killing the process. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		bool stopping = __atomic_load_n(&a->stop, __ATOMIC_ACQUIRE);

		if (__atomic_exchange_n(&a->reopen, 0, __ATOMIC_ACQ_REL)) {
			flush(a);
			do_reopen(a);
		}
		if (realtime_ns() / 1000000000u - a->clock_at_s >= CLOCK_RESYNC_S)
			clock_sync(a);
		if (drain(a))
			continue; /* a worker has more waiting: no sleep */
		flush(a);
		/* The stop flag was read before this pass, which found every ring empty. */
		if (stopping)
			break;
		/* Sleep rather than spin on a trickle: the records wait in their rings, so one
		 * write() carries a few milliseconds of lines. */
		nanosleep(&(struct timespec){0, IDLE_NS}, NULL);
	}
	return NULL;
}

int
sl_cp_alog_start(const struct sl_config_access_log *cfg, const struct sl_plane_view *v,
		 struct sl_cp_alog **out, char *err, size_t errlen)
{
	struct sl_cp_alog *a;
	int rc;

	*out = NULL;
	if (!cfg->enabled)
		return 0;
	a = calloc(1, sizeof(*a));
	if (a == NULL || (a->buf = malloc(BUF_SIZE)) == NULL) {
		free(a);
		snprintf(err, errlen, "access log: out of memory");
		return -ENOMEM;
	}
	a->v = v;
	a->fmt =
	    cfg->format == SL_CONFIG_LOG_COMBINED ? SL_ALOG_FORMAT_COMBINED : SL_ALOG_FORMAT_JSON;
	if (strcmp(cfg->path, SL_CONFIG_LOG_STDOUT) != 0)
		snprintf(a->path, sizeof(a->path), "%s", cfg->path);
	a->fd = open_dest(a);
	if (a->fd < 0) {
		rc = a->fd;
		snprintf(err, errlen, "access log: cannot open %s: %s (admin.access_log.path)",
			 cfg->path, strerror(-rc));
		goto fail;
	}
	clock_sync(a);
	rc = -pthread_create(&a->thread, NULL, writer, a);
	if (rc != 0) {
		snprintf(err, errlen, "access log: cannot start its thread: %s", strerror(-rc));
		if (a->path[0])
			close(a->fd);
		goto fail;
	}
	*out = a;
	return 0;
fail:
	free(a->buf);
	free(a);
	return rc;
}

void
sl_cp_alog_reopen(struct sl_cp_alog *a)
{
	if (a != NULL)
		__atomic_store_n(&a->reopen, 1, __ATOMIC_RELEASE);
}

void
sl_cp_alog_stop(struct sl_cp_alog *a)
{
	if (a == NULL)
		return;
	__atomic_store_n(&a->stop, 1, __ATOMIC_RELEASE);
	pthread_join(a->thread, NULL);
	flush(a);
	if (a->path[0])
		close(a->fd);
	free(a->buf);
	free(a);
}
