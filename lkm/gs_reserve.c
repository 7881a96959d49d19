// SPDX-License-Identifier: GPL-2.0
/*
 * Memory held back for a global OOM, and what stands between a handler and
 * the free pages: a reserve of pages taken at load (reserve_kb), lent to
 * the handler when a global OOM fires and taken back once memory returns,
 * and the zones' watermark boost, dropped while the OOM killer waits. This
 * is the part of the module that touches mm internals.
 */
#define pr_fmt(fmt) "graceful_shutdown: " fmt

#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/spinlock.h>
#include <linux/vmstat.h>
#include <linux/workqueue.h>

#include "gs_internal.h"

/*
 * The reserve, chained through page->lru: blocks of GS_RESERVE_ORDER, and
 * order-0 pages where no block could be had. A block larger than
 * PAGE_ALLOC_COSTLY_ORDER goes straight back to the buddy lists when
 * freed, where the watermark checks count it; order-0 pages would go to
 * this CPU's per-CPU list, which those checks do not count, so that a
 * handler allowed down to half the min watermark could fail that check
 * with pages to spare there.
 */
#define GS_RESERVE_ORDER	(PAGE_ALLOC_COSTLY_ORDER + 1)

static LIST_HEAD(gs_reserve_blocks);
static LIST_HEAD(gs_reserve_pages);
static unsigned long gs_reserve_count;
static DEFINE_SPINLOCK(gs_reserve_lock);
static void gs_reserve_refill(struct work_struct *work);
static DECLARE_DELAYED_WORK(gs_reserve_work, gs_reserve_refill);

/**
 * gs_handler_reserves - whether the kernel lets a handler use the OOM reserves
 *
 * Context: any.
 * Return: true on a kernel with the gs-kit reserves patch.
 */
bool gs_handler_reserves(void)
{
#ifdef GS_HAVE_OOM_RESERVES
	return true;
#else
	return false;
#endif
}

static unsigned long gs_reserve_target(void)
{
	return ((unsigned long)gs_reserve_kb * 1024) >> PAGE_SHIFT;
}

/**
 * gs_reserve_fill - take memory for the reserve until it is full
 * @gfp: how to allocate it
 *
 * Context: process context; may sleep if @gfp allows.
 * Return: false if the allocator said no first.
 */
bool gs_reserve_fill(gfp_t gfp)
{
	unsigned long target = gs_reserve_target(), missing;
	unsigned int order;
	struct page *page;

	for (;;) {
		spin_lock(&gs_reserve_lock);
		missing = target > gs_reserve_count ? target - gs_reserve_count : 0;
		spin_unlock(&gs_reserve_lock);
		if (!missing)
			return true;

		page = NULL;
		order = GS_RESERVE_ORDER;
		if (missing >= 1UL << order)
			page = alloc_pages(gfp | __GFP_NORETRY, order);
		if (!page) {
			order = 0;
			page = alloc_page(gfp);
		}
		if (!page)
			return false;
		spin_lock(&gs_reserve_lock);
		list_add(&page->lru, order ? &gs_reserve_blocks : &gs_reserve_pages);
		gs_reserve_count += 1UL << order;
		spin_unlock(&gs_reserve_lock);
	}
}

/**
 * gs_reserve_release - give the whole reserve back to the page allocator
 *
 * Context: any context that may take a spinlock.
 * Return: the number of pages given back.
 */
unsigned long gs_reserve_release(void)
{
	struct page *page, *next;
	unsigned long freed;
	LIST_HEAD(blocks);
	LIST_HEAD(pages);

	spin_lock(&gs_reserve_lock);
	list_splice_init(&gs_reserve_blocks, &blocks);
	list_splice_init(&gs_reserve_pages, &pages);
	freed = gs_reserve_count;
	gs_reserve_count = 0;
	spin_unlock(&gs_reserve_lock);

	list_for_each_entry_safe(page, next, &blocks, lru) {
		list_del(&page->lru);
		__free_pages(page, GS_RESERVE_ORDER);
	}
	list_for_each_entry_safe(page, next, &pages, lru) {
		list_del(&page->lru);
		__free_page(page);
	}
	return freed;
}

/**
 * gs_reserve_meter - lend the reserve to a handler with the OOM reserves alone
 *
 * Free a block only while its zone stays at or below the min watermark
 * with it, the floor of ordinary allocations. The allocators that wait for
 * the OOM killer still fail that check, and do not pull the block's pages
 * onto their per-CPU lists in batches; the handler, allowed down to half
 * the min watermark (patch 0002), finds them. Called again during the
 * wait, it tops the zones up as the handler uses them.
 *
 * Context: the OOM path; takes gs_reserve_lock, then zone locks.
 * Return: the pages lent.
 */
unsigned long gs_reserve_meter(void)
{
	unsigned long lent = 0, block = 1UL << GS_RESERVE_ORDER;
	struct page *page, *next;

	spin_lock(&gs_reserve_lock);
	list_for_each_entry_safe(page, next, &gs_reserve_blocks, lru) {
		struct zone *zone = page_zone(page);

		/* The snapshot: the blocks just freed count at once. */
		if (zone_page_state_snapshot(zone, NR_FREE_PAGES) + block >
		    zone->_watermark[WMARK_MIN])
			continue;
		list_del(&page->lru);
		gs_reserve_count -= block;
		__free_pages(page, GS_RESERVE_ORDER);
		lent += block;
	}
	spin_unlock(&gs_reserve_lock);
	return lent;
}

/*
 * Take the reserve back once memory is available again. Never let this
 * allocation start an OOM kill of its own: retry later instead.
 */
static void gs_reserve_refill(struct work_struct *work)
{
	if (!gs_reserve_fill(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN))
		queue_delayed_work(gs_percpu_wq, &gs_reserve_work, GS_REFILL_DELAY);
}

/**
 * gs_reserve_refill_later - take the reserve back soon after a global OOM
 *
 * The kill frees memory right after the hook returns; retaking the reserve
 * soon lets a second OOM close behind the first still find it.
 *
 * Context: any.
 */
void gs_reserve_refill_later(void)
{
	if (gs_reserve_target())
		queue_delayed_work(gs_percpu_wq, &gs_reserve_work, GS_REFILL_DELAY);
}

/**
 * gs_reserve_exit - stop refilling, and give everything back (unload)
 *
 * Context: process context, once no OOM can use the reserve.
 */
void gs_reserve_exit(void)
{
	cancel_delayed_work_sync(&gs_reserve_work);
	gs_reserve_release();
}

/**
 * gs_drop_watermark_boost - reset every zone's watermark boost, as kswapd would
 *
 * Watermark boosting, an anti-fragmentation heuristic, raises every
 * watermark of a zone by up to 150% of its high one after a fallback, and
 * only kswapd resets it, once the zone is balanced: in an OOM it never is.
 * The pages lent for the helper would then sit below the boosted minimum,
 * out of reach of the worker that forks it. The helper's movable pages
 * come from the lent pages' blocks, a fallback that raises the boost
 * again, so a global OOM's wait drops it at every stretch.
 *
 * Context: process context; takes each zone's lock.
 */
void gs_drop_watermark_boost(void)
{
	unsigned long flags;
	int nid, i;

	for_each_online_node(nid) {
		pg_data_t *pgdat = NODE_DATA(nid);

		for (i = 0; i < MAX_NR_ZONES; i++) {
			struct zone *zone = &pgdat->node_zones[i];

			if (!populated_zone(zone) || !READ_ONCE(zone->watermark_boost))
				continue;
			spin_lock_irqsave(&zone->lock, flags);
			zone->watermark_boost = 0;
			spin_unlock_irqrestore(&zone->lock, flags);
		}
	}
}
