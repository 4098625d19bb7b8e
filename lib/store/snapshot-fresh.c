/* store/snapshot-fresh.c -- the rows read from notifications while a full
 * resync runs: newer than the resync's snapshot, which leaves them alone
 * (snapshot-sync.c).  A bounded set of (table, id): past half full, a
 * table counts as read whole.  The batch (snapshot-batch.c) notes rows,
 * the resync asks.
 */
#include "store/snapshot-int.h"

#include <stdlib.h>
#include <string.h>

#define FRESH_SLOTS 65536         /* ids noted during one resync, then whole tables */
#define TABLES_MAX 32

/* Open addressing over (table, id) packed in one number; 0 is empty. */
struct atsm_snap_fresh {
	uint64_t slot[FRESH_SLOTS];
	size_t n;
	bool whole[TABLES_MAX];
};

static uint64_t
fresh_key(size_t table, long long id)
{
	return ((uint64_t)(table + 1) << 56) | ((uint64_t)id & 0x00FFFFFFFFFFFFFFULL);
}

static size_t
fresh_hash(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return (size_t)(k & (FRESH_SLOTS - 1));
}

struct atsm_snap_fresh *
atsm_snap_fresh_new(void)
{
	return calloc(1, sizeof(struct atsm_snap_fresh));
}

void
atsm_snap_fresh_free(struct atsm_snap_fresh *f)
{
	free(f);
}

void
atsm_snap_fresh_note(struct atsm_snap_fresh *f, size_t table, long long id)
{
	uint64_t k = fresh_key(table, id);
	size_t i;

	if (table >= TABLES_MAX || f->whole[table])
		return;
	/* half full: the table as a whole (the resync leaves the rest of it
	 * to the notifications, which is always safe for freshness) */
	if (id <= 0 || f->n >= FRESH_SLOTS / 2) {
		f->whole[table] = true;
		return;
	}
	for (i = fresh_hash(k); f->slot[i] != 0; i = (i + 1) & (FRESH_SLOTS - 1))
		if (f->slot[i] == k)
			return;
	f->slot[i] = k;
	f->n++;
}

bool
atsm_snap_fresh_whole(const struct atsm_snap_fresh *f, size_t table)
{
	return table < TABLES_MAX && f->whole[table];
}

bool
atsm_snap_fresh_has(const struct atsm_snap_fresh *f, size_t table, long long id)
{
	uint64_t k = fresh_key(table, id);
	size_t i;

	if (table >= TABLES_MAX || f->whole[table])
		return true;
	for (i = fresh_hash(k); f->slot[i] != 0; i = (i + 1) & (FRESH_SLOTS - 1))
		if (f->slot[i] == k)
			return true;
	return false;
}

