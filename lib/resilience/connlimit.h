/* SPDX-License-Identifier: MIT */
#ifndef SL_RESIL_CONNLIMIT_H
#define SL_RESIL_CONNLIMIT_H

/*
 * Open client connections per IPv4 address, shared by every worker, with a limit
 * (limits.max_connections_per_ip). A bounded 8-way set-associative table of 64-bit words,
 * address << 32 | count, allocated once: an entry whose count is 0 is free, so a closing
 * connection frees its entry without a second step and nothing ever needs eviction (an
 * address holds an entry only while it has connections open, so the table needs at most
 * as many entries as connections can be open; size it so).
 *
 * sl_cl_acquire() at accept, sl_cl_release() at close with the same address, from any
 * thread, lock-free (one CAS on the address's entry). Two workers inserting the same
 * address at the same moment may create two entries for it; the limit sums every entry of
 * the address in its set, so it still holds, and each release takes from one of them.
 * When all 8 ways of a set are held by other addresses the connection is let through
 * untracked (SL_CL_UNTRACKED, counted by the caller): refusing a client because of its
 * neighbours would be worse, and with the table sized for every open connection that needs
 * eight addresses with open connections hashing to one set (keyed SipHash: not aimable).
 */

#include <stdatomic.h>
#include <stdint.h>

#define SL_CL_WAYS 8

enum sl_cl_verdict {
	SL_CL_ADMITTED = 0, /* counted: sl_cl_release() when it closes */
	SL_CL_REFUSED,	    /* the address is at its limit: refuse the connection */
	SL_CL_UNTRACKED,    /* its set is full of other addresses: let it in, uncounted */
};

struct sl_cl_table {
	_Atomic uint64_t *e; /* n_sets * SL_CL_WAYS, 64-byte aligned */
	uint64_t n_sets;     /* a power of two */
	uint32_t limit;	     /* connections per address, >= 1 */
	uint8_t hash_key[16];
};

/*
 * A table for at least `capacity` open connections (rounded up to 8 * a power of two) of at
 * most `limit` per address. 0, -EINVAL (limit 0), -ENOMEM. Memory: 8 bytes per entry.
 */
int sl_cl_table_create(uint64_t capacity, uint32_t limit, const uint8_t hash_key[16],
		       struct sl_cl_table **out);
void sl_cl_table_free(struct sl_cl_table *t);

/* A new connection from ip (any byte order, the same at release). */
enum sl_cl_verdict sl_cl_acquire(struct sl_cl_table *t, uint32_t ip);
/* A connection sl_cl_acquire() ADMITTED has closed. */
void sl_cl_release(struct sl_cl_table *t, uint32_t ip);
/* Connections counted for ip (for tests and the API). */
uint32_t sl_cl_count(const struct sl_cl_table *t, uint32_t ip);

#endif
