/* store/snapshot-batch.c -- the notifications of PostgreSQL, gathered
 * and read: a notification names rows ("resumes:1001,1002"), rows from an
 * id on ("resumes:+5000") or a whole table ("resumes:*"); the follower
 * gathers every notification that has arrived into one batch (ids merged,
 * sorted and once each, per table), then reads each table once: the rows
 * named are read again, and those that are gone are deleted.
 *
 * While a full resync runs on the follower's other connection, the rows a
 * batch reads are noted in the "fresh" set (snapshot-fresh.c): they are
 * newer than the resync's snapshot, which then leaves them alone.
 */
#include "store/snapshot-int.h"

#include <stdlib.h>
#include <string.h>

#define IDS_PER_QUERY 1000        /* ids in one WHERE id = ANY($1) */
#define BATCH_IDS_MAX 20000       /* ids of one table in a batch, then "read it whole" */
#define TABLES_MAX 32

/* ------------------------------------------------------------- the batch */

struct batch_entry {
	bool all;                 /* read the table whole */
	bool recent;              /* messages: past the watermark (a part changed) */
	long long plus;           /* from this id on; 0 none */
	long long *ids;
	size_t n, cap;
};

struct atsm_snap_batch {
	struct batch_entry e[TABLES_MAX];
	bool any;
};

struct atsm_snap_batch *
atsm_snap_batch_new(void)
{
	return calloc(1, sizeof(struct atsm_snap_batch));
}

static void
batch_clear(struct atsm_snap_batch *b)
{
	size_t i;

	for (i = 0; i < atsm_snap_ntables; i++) {
		free(b->e[i].ids);
		memset(&b->e[i], 0, sizeof(b->e[i]));
	}
	b->any = false;
}

void
atsm_snap_batch_free(struct atsm_snap_batch *b)
{
	if (b == NULL)
		return;
	batch_clear(b);
	free(b);
}

bool
atsm_snap_batch_empty(const struct atsm_snap_batch *b)
{
	return !b->any;
}

static int
add_id(struct batch_entry *e, long long id)
{
	if (e->all)
		return 0;
	if (e->n == e->cap) {
		size_t cap = e->cap == 0 ? 64 : 2 * e->cap;
		long long *v;

		if (cap > BATCH_IDS_MAX) {
			/* too many to name: read the table whole */
			free(e->ids);
			e->ids = NULL;
			e->n = e->cap = 0;
			e->all = true;
			return 0;
		}
		if ((v = realloc(e->ids, cap * sizeof(*v))) == NULL)
			return -1;
		e->ids = v;
		e->cap = cap;
	}
	e->ids[e->n++] = id;
	return 0;
}

int
atsm_snap_batch_add(struct atsm_snap_batch *b, const char *payload, struct atsm_err *err)
{
	const char *colon = strchr(payload, ':'), *p;
	const struct atsm_snap_table *t;
	struct batch_entry *e;

	if (colon == NULL || colon[1] == '\0')
		return atsm_err_setc(err, ATSM_ERR_INPUT, "snapshot: notification '%.80s' is not "
		    "table:spec", payload);
	if ((t = atsm_snap_table_find(payload, (size_t)(colon - payload))) == NULL ||
	    (size_t)(t - atsm_snap_tables) >= sizeof(b->e) / sizeof(b->e[0]))
		return 0;          /* a table the snapshot does not read */
	/* the parts of a message live in the message */
	if (t->how == ATSM_SNAP_HOW_MSG_PART)
		t = atsm_snap_table_find("messages", 8);
	e = &b->e[t - atsm_snap_tables];
	p = colon + 1;
	b->any = true;
	if (strcmp(p, "*") == 0) {
		if (strncmp(payload, "message_", 8) == 0)
			e->recent = true;
		else
			e->all = true;
		return 0;
	}
	if (*p == '+') {
		char *end;
		long long id = strtoll(p + 1, &end, 10);

		if (*end != '\0' || id <= 0)
			return atsm_err_setc(err, ATSM_ERR_INPUT, "snapshot: notification '%.80s': "
			    "bad id", payload);
		if (e->plus == 0 || id < e->plus)
			e->plus = id;
		return 0;
	}
	while (*p != '\0') {
		char *end;
		long long id = strtoll(p, &end, 10);

		if (end == p || id <= 0 || (*end != ',' && *end != '\0'))
			return atsm_err_setc(err, ATSM_ERR_INPUT, "snapshot: notification '%.80s': "
			    "bad id list", payload);
		if (add_id(e, id) < 0)
			return atsm_err_setc(err, ATSM_ERR_NOMEM, "snapshot: out of memory for ids");
		p = *end == ',' ? end + 1 : end;
	}
	return 0;
}

/* The ids of e, sorted and once each, in queries of IDS_PER_QUERY. */
static int
run_ids(struct atsm_snap_sync *y, const struct atsm_snap_table *t, struct batch_entry *e,
    struct atsm_err *err)
{
	size_t i, k, n = 0;

	if (e->n == 0)
		return 0;
	qsort(e->ids, e->n, sizeof(*e->ids), atsm_snap_cmp_ll);
	for (i = 0; i < e->n; i++)
		if (n == 0 || e->ids[n - 1] != e->ids[i])
			e->ids[n++] = e->ids[i];
	for (i = 0; i < n; i += k) {
		k = n - i < IDS_PER_QUERY ? n - i : IDS_PER_QUERY;
		if (atsm_snap_read_ids(y, t, e->ids + i, k, err) < 0)
			return -1;
	}
	return 0;
}

static int
run_entry(struct atsm_snap_sync *y, const struct atsm_snap_table *t, struct batch_entry *e,
    uint64_t seen, struct atsm_err *err)
{
	switch (t->how) {
	case ATSM_SNAP_HOW_WHOLE:
		return atsm_snap_read_whole(y, t, err);
	case ATSM_SNAP_HOW_INTAKE:
		if (e->all || e->plus > 0)
			return atsm_snap_read_intake(y, err);
		return run_ids(y, t, e, err);
	case ATSM_SNAP_HOW_MESSAGES:
		if (e->all)
			return atsm_snap_read_messages_after(y, 0, false, err);
		if (e->recent && atsm_snap_read_messages_after(y, seen > ATSM_SNAP_MSG_OVERLAP ?
		    (long long)(seen - ATSM_SNAP_MSG_OVERLAP) : 0, false, err) < 0)
			return -1;
		if (e->plus > 0 && atsm_snap_read_messages_after(y, e->plus - 1, false, err) < 0)
			return -1;
		return run_ids(y, t, e, err);
	case ATSM_SNAP_HOW_ID:
		if (e->all) {
			if (atsm_snap_read_table(y, t, 0, false, err) < 0)
				return -1;
			return t->intake_by_id != NULL ? atsm_snap_read_intake(y, err) : 0;
		}
		if (e->plus > 0) {
			if (atsm_snap_read_table(y, t, e->plus, false, err) < 0)
				return -1;
			if (t->intake_by_id != NULL && atsm_snap_read_intake(y, err) < 0)
				return -1;
		}
		return run_ids(y, t, e, err);
	default:
		return 0;
	}
}

int
atsm_snap_batch_run(struct atsm_snapshot *s, PGconn *conn, struct atsm_snap_batch *b,
    struct atsm_snap_fresh *noted, struct atsm_err *err)
{
	struct atsm_snap_sync y;
	uint64_t seen = 0;
	size_t i;
	int rc;

	if (!b->any)
		return 0;
	atsm_snap_sync_init(&y, s, conn);
	y.noted = noted;
	rc = atsm_snap_messages_seen(s, &seen, err);
	for (i = 0; rc == 0 && i < atsm_snap_ntables; i++) {
		struct batch_entry *e = &b->e[i];

		if (e->all || e->recent || e->plus > 0 || e->n > 0)
			rc = run_entry(&y, &atsm_snap_tables[i], e, seen, err);
	}
	batch_clear(b);
	if (rc == 0)
		rc = atsm_snap_sync_finish(&y, false, err);
	return rc;
}

int
atsm_snapshot_sync_notify(struct atsm_snapshot *s, PGconn *conn, const char *payload,
    struct atsm_err *err)
{
	struct atsm_snap_batch *b = atsm_snap_batch_new();
	int rc;

	if (b == NULL)
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "snapshot: out of memory for a batch");
	rc = atsm_snap_batch_add(b, payload, err);
	if (rc == 0)
		rc = atsm_snap_batch_run(s, conn, b, NULL, err);
	atsm_snap_batch_free(b);
	return rc;
}
