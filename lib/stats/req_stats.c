/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "req_stats.h"

#define ROW_WORDS (sizeof(struct sl_req_row) / sizeof(uint64_t))
_Static_assert(sizeof(struct sl_req_row) % sizeof(uint64_t) == 0, "a row is an array of u64");

static const char *const error_names[SL_PROXY_ERR_MAX] = {
#define SL_PROXY_ERROR_NAME(id, name) [SL_PROXY_ERR_##id] = name,
    SL_PROXY_ERRORS(SL_PROXY_ERROR_NAME)
#undef SL_PROXY_ERROR_NAME
};

static const char *const class_names[SL_REQ_CLASS_MAX] = {"none", "1xx", "2xx",
							  "3xx",  "4xx", "5xx"};

const char *
sl_proxy_error_name(enum sl_proxy_error e)
{
	return (unsigned int)e < SL_PROXY_ERR_MAX ? error_names[e] : "unknown";
}

const char *
sl_req_class_name(enum sl_req_class c)
{
	return (unsigned int)c < SL_REQ_CLASS_MAX ? class_names[c] : "unknown";
}

struct sl_req_stats *
sl_req_stats_create(unsigned int n_services, unsigned int n_locations, unsigned int n_backends)
{
	struct sl_req_stats *st;
	size_t n_rows = 1 + (size_t)n_services + n_locations + n_backends;
	size_t hist_off, size;

	if (n_rows > UINT32_MAX / 2)
		return NULL;
	/* One block: the header, the rows, then the histograms on their cache lines. */
	hist_off = sizeof(*st) + n_rows * sizeof(struct sl_req_row);
	hist_off = (hist_off + 63) & ~(size_t)63;
	size = hist_off + n_rows * sizeof(struct sl_hist);
	st = aligned_alloc(64, (size + 63) & ~(size_t)63);
	if (st == NULL)
		return NULL;
	memset(st, 0, size);
	st->n_services = n_services;
	st->n_locations = n_locations;
	st->n_backends = n_backends;
	st->n_rows = (unsigned int)n_rows;
	st->rows = (struct sl_req_row *)(st + 1);
	st->hists = (struct sl_hist *)((char *)st + hist_off);
	return st;
}

void
sl_req_stats_free(struct sl_req_stats *st)
{
	free(st);
}

void
sl_req_stats_reset(struct sl_req_stats *st)
{
	memset(st->rows, 0, st->n_rows * sizeof(struct sl_req_row));
	memset(st->hists, 0, st->n_rows * sizeof(struct sl_hist));
}

int
sl_req_stats_add(struct sl_req_stats *dst, const struct sl_req_stats *src)
{
	if (dst->n_services != src->n_services || dst->n_locations != src->n_locations ||
	    dst->n_backends != src->n_backends)
		return -EINVAL;
	for (unsigned int r = 0; r < src->n_rows; r++) {
		uint64_t *d = (uint64_t *)&dst->rows[r];
		const uint64_t *s = (const uint64_t *)&src->rows[r];

		for (size_t i = 0; i < ROW_WORDS; i++)
			d[i] += sl_counter_read(&s[i]);
		sl_hist_add(&dst->hists[r], &src->hists[r]);
	}
	return 0;
}

int
sl_req_stats_merge(struct sl_req_stats *dst, const struct sl_req_stats *const *src, unsigned int n)
{
	sl_req_stats_reset(dst);
	for (unsigned int k = 0; k < n; k++) {
		int rc = sl_req_stats_add(dst, src[k]);

		if (rc != 0)
			return rc;
	}
	return 0;
}

int
sl_req_row_used(const struct sl_req_stats *st, unsigned int row)
{
	const uint64_t *w = (const uint64_t *)&st->rows[row];

	for (size_t i = 0; i < ROW_WORDS; i++)
		if (sl_counter_read(&w[i]) != 0)
			return 1;
	return sl_hist_count(&st->hists[row]) != 0;
}
