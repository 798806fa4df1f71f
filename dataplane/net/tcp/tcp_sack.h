/* SPDX-License-Identifier: MIT */
#ifndef SL_TCP_SACK_H
#define SL_TCP_SACK_H

/*
 * The sender's SACK scoreboard (RFC 2018, RFC 6675): which bytes above
 * SND.UNA the peer has reported holding, as a sorted array of disjoint,
 * non-adjacent ranges [start, end) of sequence space (wrap-around safe: all
 * ranges lie within 2^31 above SND.UNA). The receiver's side (building SACK
 * blocks from the out-of-order queue) lives with the reassembly queue.
 *
 * Bounded: at most SL_SACK_MAX_RANGES ranges, no allocation. When a new
 * range would not fit, the ranges nearest SND.UNA are kept and the highest
 * is forgotten (or the new one is not recorded, if it is the highest). Holes
 * near SND.UNA are the ones retransmission needs; forgetting that a segment
 * was SACKed costs at worst a spurious retransmission, never a missed one.
 *
 * SND.UNA never moves back: pass the sender's own variable. Validating the
 * blocks against SND.NXT (RFC 2018 says blocks above it are bogus) is the
 * caller's job, before sl_sack_update.
 *
 * Pure C, no DPDK. Sequence numbers in host byte order.
 */

#include <stdbool.h>
#include <stdint.h>

#define SL_SACK_MAX_RANGES 32
#define SL_SACK_DUPTHRESH 3 /* RFC 6675 DupThresh */

struct sl_sack_range {
	uint32_t start; /* first SACKed byte */
	uint32_t end;	/* one past the last */
};

/* 268 bytes. Read the fields if useful; change them only through the functions below. */
struct sl_sack_scoreboard {
	uint32_t una;	/* SND.UNA as last given */
	uint32_t bytes; /* total length of the ranges */
	uint32_t n;	/* ranges in use, r[0 .. n-1] */
	/* Ascending, disjoint, never adjacent, all above una. */
	struct sl_sack_range r[SL_SACK_MAX_RANGES];
};

/* Empty scoreboard (after a retransmission timeout, or for a new connection). */
void sl_sack_reset(struct sl_sack_scoreboard *sb);

/*
 * Merge the SACK blocks of one incoming ACK (blocks[i][0] = left edge,
 * blocks[i][1] = right edge, host order, as they appear in the option) whose
 * cumulative ACK made SND.UNA snd_una. First drops what snd_una now covers
 * (as sl_sack_advance). A block is ignored when it is invalid (start not
 * before end, or 2^31 bytes long or more) or lies wholly at or below
 * snd_una; the part of a block below snd_una is trimmed off.
 *
 * *dsack (unless NULL) is set when the first block is a D-SACK (RFC 2883
 * section 4): it starts below snd_una, or it lies within the second block.
 * A D-SACK block reports a duplicate, not new data: it is not merged.
 *
 * Returns the number of bytes SACKed now that were not before (0 for a
 * duplicate report), not counting any range forgotten for lack of room.
 */
uint32_t sl_sack_update(struct sl_sack_scoreboard *sb, uint32_t snd_una,
			const uint32_t (*blocks)[2], unsigned n, bool *dsack);

/* SND.UNA moved to snd_una: forget the ranges, and the parts of one, it covers. */
void sl_sack_advance(struct sl_sack_scoreboard *sb, uint32_t snd_una);

/* Has the peer SACKed the byte with sequence number seq? */
bool sl_sack_is_sacked(const struct sl_sack_scoreboard *sb, uint32_t seq);

/* Total bytes SACKed above SND.UNA. */
static inline uint32_t
sl_sack_bytes(const struct sl_sack_scoreboard *sb)
{
	return sb->bytes;
}

/*
 * One past the highest SACKed byte (RFC 6675 HighSACK + 1), or SND.UNA as
 * last given when nothing is SACKed (0 right after sl_sack_reset).
 */
uint32_t sl_sack_highest(const struct sl_sack_scoreboard *sb);

/*
 * The first hole at or after `from` (or snd_una, if later): the first range
 * of un-SACKed bytes that starts there or above and ends below the highest
 * SACKed byte, clipped to snd_nxt. Returns true and sets *hole_start and
 * *hole_len (> 0), or false when no SACKed byte lies above such a range.
 * With from = the last byte (re)sent + 1 this walks the holes in order: the
 * basis of RFC 6675 NextSeg rule 1, the caller adding the IsLost test.
 */
bool sl_sack_next_hole(const struct sl_sack_scoreboard *sb, uint32_t snd_una, uint32_t snd_nxt,
		       uint32_t from, uint32_t *hole_start, uint32_t *hole_len);

/*
 * RFC 6675 IsLost(seq): true when at least DupThresh (3) discontiguous SACKed
 * ranges start above seq, or more than (DupThresh - 1) * smss bytes with
 * sequence numbers above seq are SACKed (the RFC's "more than", so 2 * smss
 * bytes do not make a loss, 2 * smss + 1 do; three full-sized segments do).
 */
bool sl_sack_is_lost(const struct sl_sack_scoreboard *sb, uint32_t seq, uint32_t smss);

#endif
