/* SPDX-License-Identifier: MIT */
#include "dataplane/net/tcp/tcp_sack.h"

#include <string.h>

#include "dataplane/net/tcp/tcp_seq.h"

static inline uint32_t
range_len(const struct sl_sack_range *r)
{
	return r->end - r->start;
}

void
sl_sack_reset(struct sl_sack_scoreboard *sb)
{
	sb->una = 0;
	sb->bytes = 0;
	sb->n = 0;
}

void
sl_sack_advance(struct sl_sack_scoreboard *sb, uint32_t snd_una)
{
	uint32_t drop = 0;

	sb->una = snd_una;
	while (drop < sb->n && sl_seq_leq(sb->r[drop].end, snd_una)) {
		sb->bytes -= range_len(&sb->r[drop]);
		drop++;
	}
	if (drop > 0) {
		sb->n -= drop;
		memmove(&sb->r[0], &sb->r[drop], sb->n * sizeof(sb->r[0]));
	}
	if (sb->n > 0 && sl_seq_lt(sb->r[0].start, snd_una)) {
		sb->bytes -= snd_una - sb->r[0].start;
		sb->r[0].start = snd_una;
	}
}

/*
 * Record [s, e), which lies above una, and return how many of its bytes were
 * not recorded yet. Ranges i .. j-1 overlap or touch it and melt into one;
 * when none does and the array is full, the highest range gives way, unless
 * the new one would itself be the highest.
 */
static uint32_t
sack_insert(struct sl_sack_scoreboard *sb, uint32_t s, uint32_t e)
{
	struct sl_sack_range *r = sb->r;
	uint32_t i = 0, j, k, covered = 0, added;

	while (i < sb->n && sl_seq_lt(r[i].end, s))
		i++;
	for (j = i; j < sb->n && sl_seq_leq(r[j].start, e); j++)
		covered += range_len(&r[j]);

	if (j > i) {
		r[i].start = sl_seq_min(s, r[i].start);
		r[i].end = sl_seq_max(e, r[j - 1].end);
		added = range_len(&r[i]) - covered;
		memmove(&r[i + 1], &r[j], (sb->n - j) * sizeof(r[0]));
		sb->n -= j - i - 1;
	} else {
		if (sb->n == SL_SACK_MAX_RANGES) {
			if (i == sb->n)
				return 0;
			sb->n--;
			sb->bytes -= range_len(&r[sb->n]);
		}
		for (k = sb->n; k > i; k--)
			r[k] = r[k - 1];
		r[i].start = s;
		r[i].end = e;
		sb->n++;
		added = e - s;
	}
	sb->bytes += added;
	return added;
}

static inline bool
block_valid(uint32_t s, uint32_t e)
{
	return sl_seq_lt(s, e) && e - s < UINT32_C(0x80000000);
}

uint32_t
sl_sack_update(struct sl_sack_scoreboard *sb, uint32_t snd_una, const uint32_t (*blocks)[2],
	       unsigned n, bool *dsack)
{
	uint32_t added = 0, s, e;
	bool first_is_dsack = false;
	unsigned i;

	sl_sack_advance(sb, snd_una);
	if (n > 0 && block_valid(blocks[0][0], blocks[0][1])) {
		if (sl_seq_lt(blocks[0][0], snd_una))
			first_is_dsack = true;
		else if (n > 1 && block_valid(blocks[1][0], blocks[1][1]) &&
			 sl_seq_geq(blocks[0][0], blocks[1][0]) &&
			 sl_seq_leq(blocks[0][1], blocks[1][1]))
			first_is_dsack = true;
	}
	if (dsack != NULL)
		*dsack = first_is_dsack;

	for (i = first_is_dsack ? 1 : 0; i < n; i++) {
		s = blocks[i][0];
		e = blocks[i][1];
		if (!block_valid(s, e) || sl_seq_leq(e, snd_una))
			continue;
		if (sl_seq_lt(s, snd_una))
			s = snd_una;
		added += sack_insert(sb, s, e);
	}
	return added;
}

bool
sl_sack_is_sacked(const struct sl_sack_scoreboard *sb, uint32_t seq)
{
	uint32_t i;

	for (i = 0; i < sb->n; i++)
		if (seq - sb->r[i].start < range_len(&sb->r[i]))
			return true;
	return false;
}

uint32_t
sl_sack_highest(const struct sl_sack_scoreboard *sb)
{
	return sb->n > 0 ? sb->r[sb->n - 1].end : sb->una;
}

bool
sl_sack_next_hole(const struct sl_sack_scoreboard *sb, uint32_t snd_una, uint32_t snd_nxt,
		  uint32_t from, uint32_t *hole_start, uint32_t *hole_len)
{
	uint32_t p = sl_seq_max(from, snd_una);
	uint32_t i, end;

	for (i = 0; i < sb->n; i++) {
		if (sl_seq_leq(sb->r[i].end, p))
			continue;
		if (sl_seq_leq(sb->r[i].start, p)) {
			p = sb->r[i].end; /* inside a SACKed range: the hole starts after it */
			continue;
		}
		end = sl_seq_min(sb->r[i].start, snd_nxt);
		if (!sl_seq_lt(p, end))
			return false;
		*hole_start = p;
		*hole_len = end - p;
		return true;
	}
	return false;
}

bool
sl_sack_is_lost(const struct sl_sack_scoreboard *sb, uint32_t seq, uint32_t smss)
{
	uint64_t above = 0;
	unsigned ranges = 0;
	uint32_t i;

	for (i = sb->n; i-- > 0;) {
		const struct sl_sack_range *r = &sb->r[i];

		if (sl_seq_gt(r->start, seq)) {
			ranges++;
			above += range_len(r);
		} else {
			/* Ranges are ascending: this one holds seq or lies below it. */
			if (sl_seq_gt(r->end - 1, seq))
				above += r->end - 1 - seq;
			break;
		}
	}
	return ranges >= SL_SACK_DUPTHRESH || above > (uint64_t)(SL_SACK_DUPTHRESH - 1) * smss;
}
