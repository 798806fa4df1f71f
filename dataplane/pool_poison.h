/* SPDX-License-Identifier: MIT */
#ifndef SL_POOL_POISON_H
#define SL_POOL_POISON_H

/*
 * Objects from a DPDK mempool live in EAL memory, which AddressSanitizer does not track
 * (Debian's DPDK is not built with ASan). In a sanitizer build (build-asan/, the fuzz build) a
 * free object is poisoned, so touching it after it went back to its pool is reported like a
 * use after free(). Every get unpoisons the object, every put poisons it again; a pool is
 * poisoned whole once created and unpoisoned whole before rte_mempool_free() gives its memory
 * back to EAL. All of it compiles to nothing in other builds.
 */

#include <stddef.h>

#include <rte_mempool.h>

#if defined(__SANITIZE_ADDRESS__)
#define SL_POOL_POISON 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SL_POOL_POISON 1
#endif
#endif

#ifdef SL_POOL_POISON
#include <sanitizer/asan_interface.h>

static inline void
sl_pool_poison(void *obj, size_t len)
{
	ASAN_POISON_MEMORY_REGION(obj, len);
}

static inline void
sl_pool_unpoison(void *obj, size_t len)
{
	ASAN_UNPOISON_MEMORY_REGION(obj, len);
}

static inline void
sl_pool_poison_cb(struct rte_mempool *mp, void *arg, void *obj, unsigned int idx)
{
	(void)arg;
	(void)idx;
	ASAN_POISON_MEMORY_REGION(obj, mp->elt_size);
}

static inline void
sl_pool_unpoison_cb(struct rte_mempool *mp, void *arg, void *obj, unsigned int idx)
{
	(void)arg;
	(void)idx;
	ASAN_UNPOISON_MEMORY_REGION(obj, mp->elt_size);
}

/* Only for a pool whose objects are all free (just created). */
static inline void
sl_pool_poison_all(struct rte_mempool *mp)
{
	rte_mempool_obj_iter(mp, sl_pool_poison_cb, NULL);
}

static inline void
sl_pool_unpoison_all(struct rte_mempool *mp)
{
	if (mp != NULL)
		rte_mempool_obj_iter(mp, sl_pool_unpoison_cb, NULL);
}
#else
static inline void
sl_pool_poison(void *obj, size_t len)
{
	(void)obj;
	(void)len;
}

static inline void
sl_pool_unpoison(void *obj, size_t len)
{
	(void)obj;
	(void)len;
}

static inline void
sl_pool_poison_all(struct rte_mempool *mp)
{
	(void)mp;
}

static inline void
sl_pool_unpoison_all(struct rte_mempool *mp)
{
	(void)mp;
}
#endif

#endif
