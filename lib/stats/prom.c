/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prom.h"

const double sl_prom_le_default[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
				     0.1,    0.25,  0.5,    1,	   2.5,	 5,	10};
const unsigned int sl_prom_n_le_default =
    sizeof(sl_prom_le_default) / sizeof(sl_prom_le_default[0]);

static const char *const type_names[] = {
    [SL_PROM_COUNTER] = "counter",
    [SL_PROM_GAUGE] = "gauge",
    [SL_PROM_HISTOGRAM] = "histogram",
};

void
sl_prom_init(struct sl_prom *p)
{
	memset(p, 0, sizeof(*p));
}

void
sl_prom_free(struct sl_prom *p)
{
	for (unsigned int i = 0; i < p->n_families; i++)
		free(p->families[i]);
	free(p->families);
	free(p->buf);
	memset(p, 0, sizeof(*p));
}

int
sl_prom_finish(const struct sl_prom *p)
{
	return p->err;
}

static int
fail(struct sl_prom *p, int err)
{
	if (p->err == 0)
		p->err = err;
	return p->err;
}

static int
reserve(struct sl_prom *p, size_t more)
{
	size_t cap = p->cap ? p->cap : 4096;
	char *b;

	if (p->len + more + 1 <= p->cap)
		return 0;
	while (cap < p->len + more + 1)
		cap *= 2;
	b = realloc(p->buf, cap);
	if (b == NULL)
		return fail(p, -ENOMEM);
	p->buf = b;
	p->cap = cap;
	return 0;
}

static void
put(struct sl_prom *p, const char *s, size_t n)
{
	if (p->err != 0 || reserve(p, n) != 0)
		return;
	memcpy(p->buf + p->len, s, n);
	p->len += n;
	p->buf[p->len] = '\0';
}

static void
puts_(struct sl_prom *p, const char *s)
{
	put(p, s, strlen(s));
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* for metrics; labels the same without ':' and not "__..." */
static int
valid_name(const char *s, int label)
{
	if (s == NULL || *s == '\0' || (*s >= '0' && *s <= '9'))
		return 0;
	if (label && s[0] == '_' && s[1] == '_')
		return 0;
	for (; *s; s++) {
		char c = *s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || (!label && c == ':')))
			return 0;
	}
	return 1;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Help text escapes backslash and newline; label values also the double quote. */
static void
put_escaped(struct sl_prom *p, const char *s, int quote)
{
	const char *run = s;

	for (; *s; s++) {
		const char *esc = NULL;

		if (*s == '\\')
			esc = "\\\\";
		else if (*s == '\n')
			esc = "\\n";
		else if (quote && *s == '"')
			esc = "\\\"";
		if (esc == NULL)
			continue;
		put(p, run, (size_t)(s - run));
		puts_(p, esc);
		run = s + 1;
	}
	put(p, run, (size_t)(s - run));
}

int
sl_prom_escape_label(const char *in, char *out, size_t cap)
{
	struct sl_prom p;
	int rc;

	sl_prom_init(&p);
	put_escaped(&p, in, 1);
	put(&p, "", 0);
	rc = p.err;
	if (rc == 0 && p.len + 1 > cap)
		rc = -ENOSPC;
	if (rc == 0)
		memcpy(out, p.buf ? p.buf : "", p.len + 1);
	sl_prom_free(&p);
	return rc;
}

static const char *
current(const struct sl_prom *p)
{
	return p->families[p->n_families - 1];
}

int
sl_prom_begin(struct sl_prom *p, const char *name, enum sl_prom_type type, const char *help)
{
	char *copy;

	if (p->err != 0)
		return p->err;
	if (!valid_name(name, 0) || (unsigned int)type > SL_PROM_HISTOGRAM || help == NULL)
		return fail(p, -EINVAL);
	/* Counters end in _total; nothing else may, and a histogram's names must not clash. */
	if ((type == SL_PROM_COUNTER) != ends_with(name, "_total"))
		return fail(p, -EINVAL);
	for (unsigned int i = 0; i < p->n_families; i++)
		if (strcmp(p->families[i], name) == 0)
			return fail(p, -EEXIST);
	if (p->n_families == p->cap_families) {
		unsigned int cap = p->cap_families ? 2 * p->cap_families : 64;
		char **f = realloc(p->families, cap * sizeof(*f));

		if (f == NULL)
			return fail(p, -ENOMEM);
		p->families = f;
		p->cap_families = cap;
	}
	copy = strdup(name);
	if (copy == NULL)
		return fail(p, -ENOMEM);
	p->families[p->n_families++] = copy;
	p->type = type;
	p->has_family = 1;
	puts_(p, "# HELP ");
	puts_(p, name);
	puts_(p, " ");
	put_escaped(p, help, 0);
	puts_(p, "\n# TYPE ");
	puts_(p, name);
	puts_(p, " ");
	puts_(p, type_names[type]);
	puts_(p, "\n");
	return p->err;
}

/* `a="x",b="y",` (each label followed by a comma), checked and escaped. */
static void
put_labels(struct sl_prom *p, const struct sl_prom_label *labels, unsigned int n_labels)
{
	for (unsigned int i = 0; i < n_labels; i++) {
		/* le is the writer's to add to a histogram: a caller's le would clash. */
		if (!valid_name(labels[i].name, 1) || strcmp(labels[i].name, "le") == 0 ||
		    labels[i].value == NULL) {
			fail(p, -EINVAL);
			return;
		}
		puts_(p, labels[i].name);
		puts_(p, "=\"");
		put_escaped(p, labels[i].value, 1);
		puts_(p, "\",");
	}
}

/* Copy n bytes already written at off (a histogram's labels, written once per series). */
static void
put_again(struct sl_prom *p, size_t off, size_t n)
{
	if (p->err != 0 || reserve(p, n) != 0)
		return;
	memcpy(p->buf + p->len, p->buf + off, n);
	p->len += n;
	p->buf[p->len] = '\0';
}

/* name{labels} and a space */
static void
put_series(struct sl_prom *p, const struct sl_prom_label *labels, unsigned int n_labels)
{
	puts_(p, current(p));
	if (n_labels > 0) {
		puts_(p, "{");
		put_labels(p, labels, n_labels);
		if (p->err == 0)
			p->buf[p->len - 1] = '}'; /* the last comma */
	}
	puts_(p, " ");
}

/*
 * Shortest text that reads back as the same double; Inf and NaN as the format spells them.
 * Any decimal of at most 15 digits survives a round trip (DBL_DIG), so when %.15g reads back
 * it is already the shortest form (%g drops trailing zeros); else 16, else 17 digits.
 */
static void
format_double(char *out, size_t cap, double v)
{
	if (isnan(v)) {
		snprintf(out, cap, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(out, cap, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(out, cap, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

/* A counter value and the newline; the writer's most frequent number, without printf. */
static void
put_u64_line(struct sl_prom *p, uint64_t v)
{
	char tmp[24];
	char *e = tmp + sizeof(tmp), *s = e;

	*--s = '\n';
	do {
		*--s = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	put(p, s, (size_t)(e - s));
}

static int
check_sample(struct sl_prom *p, int histogram)
{
	if (p->err != 0)
		return p->err;
	if (!p->has_family || (p->type == SL_PROM_HISTOGRAM) != histogram)
		return fail(p, -EINVAL);
	return 0;
}

int
sl_prom_u64(struct sl_prom *p, const struct sl_prom_label *labels, unsigned int n_labels,
	    uint64_t value)
{
	if (check_sample(p, 0) != 0)
		return p->err;
	put_series(p, labels, n_labels);
	put_u64_line(p, value);
	return p->err;
}

int
sl_prom_double(struct sl_prom *p, const struct sl_prom_label *labels, unsigned int n_labels,
	       double value)
{
	char num[40];

	if (check_sample(p, 0) != 0)
		return p->err;
	/* A counter cannot be negative or NaN. */
	if (p->type == SL_PROM_COUNTER && !(value >= 0))
		return fail(p, -EINVAL);
	format_double(num, sizeof(num), value);
	put_series(p, labels, n_labels);
	puts_(p, num);
	puts_(p, "\n");
	return p->err;
}

/* The le labels of the last histogram written, formatted once for every series. */
static int
le_texts(struct sl_prom *p, const double *le, unsigned int n_le)
{
	if (n_le > SL_PROM_LE_MAX)
		return fail(p, -EINVAL);
	if (n_le == p->le_n && (n_le == 0 || memcmp(le, p->le_val, n_le * sizeof(*le)) == 0))
		return 0;
	for (unsigned int k = 0; k < n_le; k++) {
		if (!(le[k] > 0) || isinf(le[k]) || (k > 0 && !(le[k] > le[k - 1])))
			return fail(p, -EINVAL);
		format_double(p->le_text[k], sizeof(p->le_text[k]), le[k]);
		p->le_val[k] = le[k];
	}
	p->le_n = n_le;
	return 0;
}

int
sl_prom_hist(struct sl_prom *p, const struct sl_prom_label *labels, unsigned int n_labels,
	     const struct sl_hist *h, const double *le, unsigned int n_le)
{
	const char *name;
	uint64_t cum = 0, sum_ns;
	size_t lab_off, lab_len;
	unsigned int i = 0;
	char num[40];

	if (check_sample(p, 1) != 0 || le_texts(p, le, n_le) != 0)
		return p->err;
	name = current(p);
	sum_ns = sl_hist_sum(h);
	/* The labels are written once, on the first line, and copied to the others. */
	puts_(p, name);
	puts_(p, "_bucket{");
	lab_off = p->len;
	put_labels(p, labels, n_labels);
	lab_len = p->len - lab_off;
	/* One pass over the buckets, each read once: the output is cumulative even if h moves. */
	for (unsigned int k = 0; k <= n_le; k++) {
		if (k > 0) {
			puts_(p, name);
			puts_(p, "_bucket{");
			put_again(p, lab_off, lab_len);
		}
		if (k < n_le) {
			double ns = le[k] * 1e9;
			unsigned int end =
			    sl_hist_n_below(ns >= 0x1p63 ? UINT64_MAX : (uint64_t)llround(ns));

			for (; i < end; i++)
				cum += sl_counter_read(&h->buckets[i]);
		} else {
			for (; i < SL_HIST_BUCKETS; i++)
				cum += sl_counter_read(&h->buckets[i]);
		}
		puts_(p, "le=\"");
		puts_(p, k < n_le ? p->le_text[k] : "+Inf");
		puts_(p, "\"} ");
		put_u64_line(p, cum);
	}
	format_double(num, sizeof(num), (double)sum_ns / 1e9);
	for (unsigned int k = 0; k < 2; k++) {
		puts_(p, name);
		puts_(p, k == 0 ? "_sum" : "_count");
		if (lab_len > 0) {
			puts_(p, "{");
			put_again(p, lab_off, lab_len - 1);
			puts_(p, "}");
		}
		puts_(p, " ");
		if (k == 0) {
			puts_(p, num);
			puts_(p, "\n");
		} else {
			put_u64_line(p, cum);
		}
	}
	return p->err;
}

int
sl_prom_raw(struct sl_prom *p, const char *text)
{
	puts_(p, text);
	return p->err;
}
