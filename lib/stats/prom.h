/* SPDX-License-Identifier: MIT */
#ifndef SL_STATS_PROM_H
#define SL_STATS_PROM_H

/*
 * The Prometheus text exposition format 0.0.4, written into a growable buffer.
 *
 * Control plane only (it allocates). The writer enforces what the format and the naming
 * conventions require, so that a mistake shows as an error rather than as a scrape that
 * Prometheus refuses:
 *   - a family is begun once (`# HELP` and `# TYPE` once per name; a second begin of the same
 *     name is -EEXIST), and every sample written belongs to the family last begun;
 *   - metric and label names are checked, label values and help texts escaped;
 *   - a counter's name ends in `_total`; a histogram writes `_bucket{le}` cumulative up to
 *     `+Inf`, then `_sum` and `_count`.
 * Errors are sticky: the first one is kept in `err`, later calls do nothing, and
 * sl_prom_finish() returns it. Usage:
 *
 *	struct sl_prom p;
 *	sl_prom_init(&p);
 *	sl_prom_begin(&p, "sluice_x_total", SL_PROM_COUNTER, "Things done.");
 *	sl_prom_u64(&p, labels, 2, 42);
 *	if (sl_prom_finish(&p) == 0) send(p.buf, p.len);
 *	sl_prom_free(&p);
 */

#include <stddef.h>
#include <stdint.h>

#include "hist.h"

enum sl_prom_type {
	SL_PROM_COUNTER,
	SL_PROM_GAUGE,
	SL_PROM_HISTOGRAM,
};

struct sl_prom_label {
	const char *name;
	const char *value;
};

#define SL_PROM_LE_MAX 32 /* bucket boundaries of a histogram, +Inf aside */

struct sl_prom {
	char *buf; /* NUL-terminated text, owned by the writer until sl_prom_free() */
	size_t len, cap;
	int err; /* first error: -ENOMEM, -EINVAL (a bad name or type), -EEXIST (family twice) */
	char **families; /* names begun, to refuse a second begin */
	unsigned int n_families, cap_families;
	enum sl_prom_type type; /* of the current family */
	int has_family;
	/* The le boundaries last given to sl_prom_hist(), as values and as text. */
	unsigned int le_n;
	double le_val[SL_PROM_LE_MAX];
	char le_text[SL_PROM_LE_MAX][32];
};

/* The standard buckets from 0.5 ms to 10 s, in seconds (14 boundaries). */
extern const double sl_prom_le_default[];
extern const unsigned int sl_prom_n_le_default;

/* Content-Type of the exposition. */
#define SL_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

void sl_prom_init(struct sl_prom *p);
void sl_prom_free(struct sl_prom *p);
/* 0 or the first error. */
int sl_prom_finish(const struct sl_prom *p);

/* Start a family: `# HELP name help` and `# TYPE name type`. */
int sl_prom_begin(struct sl_prom *p, const char *name, enum sl_prom_type type, const char *help);

/* One sample of the current counter or gauge family. */
int sl_prom_u64(struct sl_prom *p, const struct sl_prom_label *labels, unsigned int n_labels,
		uint64_t value);
int sl_prom_double(struct sl_prom *p, const struct sl_prom_label *labels, unsigned int n_labels,
		   double value);

/*
 * One histogram series of the current histogram family from a log-linear histogram in ns
 * (typically a merged copy; a live one is read once, bucket by bucket, so the buckets and
 * the count of the output agree with each other). le[0..n_le-1] are boundaries in seconds,
 * increasing, at most SL_PROM_LE_MAX of them. The count under `le` is the sum of the buckets
 * whose whole range is <= le (sl_hist_n_below): a bucket that straddles le is counted under
 * the next boundary, never under one it may exceed. Decimal boundaries fall inside
 * log-linear buckets (0.5 ms lies in (499,712 ns, 507,904 ns]), so the count under le is
 * exactly the number of values <= the largest bucket bound <= le; a value at most 1/32
 * below le (at most 3.1 %) may be counted under the next boundary instead. `_sum` is in
 * seconds.
 */
int sl_prom_hist(struct sl_prom *p, const struct sl_prom_label *labels, unsigned int n_labels,
		 const struct sl_hist *h, const double *le, unsigned int n_le);

/* Append text verbatim (a comment, or text from another writer). */
int sl_prom_raw(struct sl_prom *p, const char *text);

/* Escape a label value (backslash, double quote, newline) into out; for tests and callers. */
int sl_prom_escape_label(const char *in, char *out, size_t cap);

#endif
