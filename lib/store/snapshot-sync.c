/* store/snapshot-sync.c -- reading PostgreSQL into the snapshot: rows by
 * id, tables whole, and the full resync (the batches of notifications that
 * decide what to read are in lib/store/snapshot-batch.c).
 *
 * A full resync reads every table in one REPEATABLE READ transaction,
 * through cursors in id order, and walks the LMDB database of each table
 * beside it (a merge of two sorted lists): a row in both is compared and
 * written only when it changed, a key PostgreSQL no longer has is deleted
 * -- unless a pending mark protects it (docs/snapshot.md).  Messages are
 * read past the watermark (messages_seen) with an overlap, never removed.
 * Writes are committed every chunk of rows, so that a mail's apply never
 * waits behind a resync of a million resumes; a reader may see the resync
 * half done, which is a mix of older and newer rows, each one whole.
 * Between chunks the follower reads the rows that notifications name, on
 * its other connection, so that a resync of several seconds does not hold
 * changes back; those rows are newer than the resync's snapshot, and the
 * resync leaves them alone (y->skip).
 *
 * The recorder's position is read before the rows are (r0): a pending mark
 * above it means PostgreSQL may not have that change in what was read, and
 * the local value stays.
 */
#include "store/snapshot-int.h"

#include "base/log.h"
#include "store/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FETCH_ROWS "2000"         /* rows per chunk (and per write transaction) */
#define FETCH_MESSAGES "200"      /* messages carry links and participants */
#define SQL_MAX 2048

#define VALUE_BUF(b) struct atsm_buf b; atsm_buf_init(&b, ATSM_SNAP_VALUE_MAX)

/* ------------------------------------------------------------- PostgreSQL */

static bool
unavailable(PGconn *conn, const char *state)
{
	if (PQstatus(conn) != CONNECTION_OK || state == NULL)
		return true;
	/* connection exceptions, shutdown, cancelled (statement_timeout),
	 * insufficient resources */
	return strncmp(state, "08", 2) == 0 || strncmp(state, "57", 2) == 0 ||
	    strncmp(state, "53", 2) == 0;
}

PGresult *
atsm_snap_pg(PGconn *conn, const char *sql, int n, const char *const *values,
    struct atsm_err *err)
{
	/* with parameters: prepared once per connection, since the follower
	 * reads the same few statements for every notification (their
	 * parsing and planning cost PostgreSQL more than running them) */
	PGresult *r = n > 0 ? atsm_db_run_prepared(conn, sql, n, values) :
	    PQexecParams(conn, sql, n, NULL, values, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);
	const char *state, *msg;
	char head[48];

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return r;
	state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	msg = r != NULL && PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) != NULL ?
	    PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : PQerrorMessage(conn);
	snprintf(head, sizeof(head), "%.40s", sql);
	atsm_err_setc(err, unavailable(conn, state) ? ATSM_ERR_UNAVAILABLE : ATSM_ERR_REFUSED,
	    "snapshot: \"%s...\": %.*s", head, (int)strcspn(msg, "\n"), msg);
	atsm_err_set_sqlstate(err, state);
	PQclear(r);
	return NULL;
}

int
atsm_snap_pg_do(PGconn *conn, const char *sql, struct atsm_err *err)
{
	PGresult *r = atsm_snap_pg(conn, sql, 0, NULL, err);

	PQclear(r);
	return r != NULL ? 0 : -1;
}

static long long
row_id(PGresult *r, int row)
{
	return strtoll(PQgetvalue(r, row, 0), NULL, 10);
}

static size_t
tix(const struct atsm_snap_table *t)
{
	return (size_t)(t - atsm_snap_tables);
}

/* The intake entries as a whole are noted under unresolved_items. */
static size_t
intake_tix(void)
{
	return tix(atsm_snap_table_find("unresolved_items", 16));
}

/* A full resync leaves a row that a notification has read meanwhile. */
static bool
skipped(const struct atsm_snap_sync *y, const struct atsm_snap_table *t, long long id)
{
	return y->skip != NULL && atsm_snap_fresh_has(y->skip, tix(t), id);
}

static const char *
id_col(const struct atsm_snap_table *t)
{
	return t->how == ATSM_SNAP_HOW_MESSAGES ? "m.id" : "id";
}

/* ---------------------------------------------------------- rows by id */

int
atsm_snap_cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static int
put_rows(struct atsm_snap_sync *y, const struct atsm_snap_table *t, struct atsm_snap_w *w,
    PGresult *r, struct atsm_err *err)
{
	int row;

	for (row = 0; row < PQntuples(r); row++)
		if (t->put(y, w, r, row, err) < 0)
			return -1;
	return 0;
}

/* The rows of t named by ids[0..n) (sorted): written, or deleted when gone. */
int
atsm_snap_read_ids(struct atsm_snap_sync *y, const struct atsm_snap_table *t, const long long *ids,
    size_t n, struct atsm_err *err)
{
	struct atsm_buf arr;
	char sql[SQL_MAX];
	const char *v[1];
	PGresult *r = NULL, *ri = NULL;
	struct atsm_snap_w w;
	size_t i;
	int row, rc = -1;

	atsm_buf_init(&arr, 32u * (n + 1));
	(void)atsm_buf_putc(&arr, '{');
	for (i = 0; i < n; i++)
		(void)atsm_buf_printf(&arr, "%s%lld", i > 0 ? "," : "", ids[i]);
	if (atsm_buf_putc(&arr, '}') < 0) {
		atsm_buf_free(&arr);
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "snapshot: out of memory for ids");
	}
	v[0] = atsm_buf_str(&arr);
	if (t->select != NULL) {
		snprintf(sql, sizeof(sql), "%s WHERE %s = ANY($1::bigint[])", t->select, id_col(t));
		if ((r = atsm_snap_pg(y->conn, sql, 1, v, err)) == NULL)
			goto out;
	}
	if (t->intake_by_id != NULL && (ri = atsm_snap_pg(y->conn, t->intake_by_id, 1, v,
	    err)) == NULL)
		goto out;
	if (atsm_snap_w_begin(y->s, &w, y->r0, err) < 0)
		goto out;
	if (r != NULL) {
		bool *found = calloc(n + 1, sizeof(bool));

		if (found == NULL) {
			atsm_snap_w_abort(&w);
			atsm_err_setc(err, ATSM_ERR_NOMEM, "snapshot: out of memory for ids");
			goto out;
		}
		for (row = 0; row < PQntuples(r); row++) {
			long long id = row_id(r, row);
			long long *at = bsearch(&id, ids, n, sizeof(*ids), atsm_snap_cmp_ll);

			if (at != NULL)
				found[at - ids] = true;
		}
		rc = put_rows(y, t, &w, r, err);
		for (i = 0; rc == 0 && i < n; i++) {
			if (found[i])
				continue;
			if (t->how == ATSM_SNAP_HOW_MESSAGES)
				rc = atsm_snap_msg_del(&w, (uint64_t)ids[i], err);
			else
				rc = t->del(&w, ids[i], err);
		}
		free(found);
	} else {
		rc = 0;
	}
	for (row = 0; rc == 0 && ri != NULL && row < PQntuples(ri); row++)
		rc = atsm_snap_put_intake(y, &w, ri, row, err);
	if (rc == 0) {
		y->changes += w.changes;
		rc = atsm_snap_w_commit(&w, err);
	} else {
		atsm_snap_w_abort(&w);
	}
	for (i = 0; rc == 0 && y->noted != NULL && i < n; i++)
		atsm_snap_fresh_note(y->noted, tix(t), ids[i]);
	if (rc == 0 && y->noted != NULL && ri != NULL)
		atsm_snap_fresh_note(y->noted, intake_tix(), 0);
out:
	PQclear(r);
	PQclear(ri);
	atsm_buf_free(&arr);
	return rc;
}

/* ------------------------------------------------------------ the merge walk */

static void
walk_key(struct atsm_snap_key *k, const struct atsm_snap_table *t, long long id)
{
	atsm_snap_key_reset(k);
	if (t->prefix != 0)
		atsm_snap_key_u8(k, (unsigned)t->prefix);
	atsm_snap_key_u64(k, (uint64_t)id);
}

/* Delete the keys of t's database strictly between lo and hi (NULL: the
 * start or end of t's range); protected ones stay (t->del decides). */
static int
delete_between(struct atsm_snap_sync *y, struct atsm_snap_w *w, const struct atsm_snap_table *t,
    const struct atsm_snap_key *lo, const struct atsm_snap_key *hi, struct atsm_err *err)
{
	size_t klen = t->prefix != 0 ? 9 : 8;
	struct atsm_snap_key pos;
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_cursor_open(w->txn, w->s->dbi[t->db], &c)) != 0)
		return atsm_snap_err_mdb(err, rc, "resync", t->db, NULL);
	atsm_snap_key_reset(&pos);
	if (lo != NULL)
		pos = *lo;
	else if (t->prefix != 0)
		atsm_snap_key_u8(&pos, (unsigned)t->prefix);
	k = atsm_snap_key_val(&pos);
	rc = pos.n > 0 ? mdb_cursor_get(c, &k, &v, MDB_SET_RANGE) :
	    mdb_cursor_get(c, &k, &v, MDB_FIRST);
	while (rc == 0) {
		const unsigned char *p = k.mv_data;

		if (t->prefix != 0 && p[0] != t->prefix)
			break;
		if (k.mv_size != klen) {
			mdb_cursor_close(c);
			return atsm_snap_err_corrupt(err, t->db, &k);
		}
		if (lo != NULL && memcmp(p, lo->b, klen) == 0) {
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
			continue;
		}
		if (hi != NULL && memcmp(p, hi->b, klen) >= 0)
			break;
		atsm_snap_key_reset(&pos);
		atsm_snap_key_raw(&pos, p, k.mv_size);
		if (!skipped(y, t, (long long)atsm_snap_get_u64(p + klen - 8)) &&
		    t->del(w, (long long)atsm_snap_get_u64(p + klen - 8), err) < 0) {
			mdb_cursor_close(c);
			return -1;
		}
		k = atsm_snap_key_val(&pos);
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		/* still there: kept by a pending mark, or newer than the resync */
		if (rc == 0 && k.mv_size == pos.n && memcmp(k.mv_data, pos.b, pos.n) == 0)
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return atsm_snap_err_mdb(err, rc, "resync", t->db, NULL);
	return 0;
}

/* Read sql (rows in id order) through a cursor, chunk by chunk, one write
 * transaction each; with walk, delete what is not among the rows. */
static int
read_cursor(struct atsm_snap_sync *y, const struct atsm_snap_table *t, const char *sql,
    const char *param, bool walk, struct atsm_err *err)
{
	char decl[SQL_MAX];
	const char *v[1] = { param };
	struct atsm_snap_key last;
	bool have_last = false;
	const char *fetch = t->how == ATSM_SNAP_HOW_MESSAGES ? "FETCH FORWARD " FETCH_MESSAGES
	    " FROM atsm_snap_c" : "FETCH FORWARD " FETCH_ROWS " FROM atsm_snap_c";
	PGresult *r;
	int rc = 0;

	snprintf(decl, sizeof(decl), "DECLARE atsm_snap_c NO SCROLL CURSOR FOR %s ORDER BY 1", sql);
	if ((r = atsm_snap_pg(y->conn, decl, param != NULL ? 1 : 0, v, err)) == NULL)
		return -1;
	PQclear(r);
	for (;;) {
		struct atsm_snap_w w;
		int row;

		if ((r = atsm_snap_pg(y->conn, fetch, 0, NULL, err)) == NULL)
			return -1;
		if (PQntuples(r) == 0) {
			PQclear(r);
			break;
		}
		if (atsm_snap_w_begin(y->s, &w, y->r0, err) < 0) {
			PQclear(r);
			return -1;
		}
		for (row = 0; rc == 0 && row < PQntuples(r); row++) {
			struct atsm_snap_key k;

			if (walk) {
				walk_key(&k, t, row_id(r, row));
				rc = delete_between(y, &w, t, have_last ? &last : NULL, &k, err);
				last = k;
				have_last = true;
			}
			if (rc == 0 && !skipped(y, t, row_id(r, row)))
				rc = t->put(y, &w, r, row, err);
		}
		PQclear(r);
		if (rc < 0) {
			atsm_snap_w_abort(&w);
			return -1;
		}
		y->changes += w.changes;
		if (atsm_snap_w_commit(&w, err) < 0)
			return -1;
		if (y->between != NULL && y->between(y->between_arg, err) < 0)
			return -1;
		/* read whole by a notification meanwhile: what is left is older */
		if (y->skip != NULL && atsm_snap_fresh_whole(y->skip, tix(t))) {
			walk = false;
			break;
		}
	}
	if (walk) {
		struct atsm_snap_w w;

		if (atsm_snap_w_begin(y->s, &w, y->r0, err) < 0)
			return -1;
		if (delete_between(y, &w, t, have_last ? &last : NULL, NULL, err) < 0) {
			atsm_snap_w_abort(&w);
			return -1;
		}
		y->changes += w.changes;
		if (atsm_snap_w_commit(&w, err) < 0)
			return -1;
	}
	return atsm_snap_pg_do(y->conn, "CLOSE atsm_snap_c", err);
}

/* A small table, whole: its database emptied and filled in one transaction. */
int
atsm_snap_read_whole(struct atsm_snap_sync *y, const struct atsm_snap_table *t, struct atsm_err *err)
{
	struct atsm_snap_w w;
	PGresult *r;
	int rc;

	if (y->skip != NULL && atsm_snap_fresh_whole(y->skip, tix(t)))
		return 0;
	if ((r = atsm_snap_pg(y->conn, t->select, 0, NULL, err)) == NULL)
		return -1;
	if (atsm_snap_w_begin(y->s, &w, y->r0, err) < 0) {
		PQclear(r);
		return -1;
	}
	if ((rc = mdb_drop(w.txn, y->s->dbi[t->db], 0)) != 0) {
		PQclear(r);
		atsm_snap_w_abort(&w);
		return atsm_snap_err_mdb(err, rc, "resync", t->db, NULL);
	}
	rc = put_rows(y, t, &w, r, err);
	y->changes += (size_t)PQntuples(r) + 1;
	PQclear(r);
	if (rc < 0) {
		atsm_snap_w_abort(&w);
		return -1;
	}
	if (atsm_snap_w_commit(&w, err) < 0)
		return -1;
	if (y->noted != NULL)
		atsm_snap_fresh_note(y->noted, tix(t), 0);
	return 0;
}

/* The intake entries of PostgreSQL, again: the entries made here stay. */
int
atsm_snap_read_intake(struct atsm_snap_sync *y, struct atsm_err *err)
{
	struct atsm_snap_key pos;
	struct atsm_snap_w w;
	MDB_cursor *c;
	MDB_val k, v;
	PGresult *r;
	int rc, row;

	if ((r = atsm_snap_pg(y->conn, atsm_snap_intake_select, 0, NULL, err)) == NULL)
		return -1;
	if (atsm_snap_w_begin(y->s, &w, y->r0, err) < 0) {
		PQclear(r);
		return -1;
	}
	if ((rc = mdb_cursor_open(w.txn, y->s->dbi[ATSM_SNAP_INTAKE], &c)) != 0)
		goto mdb_fail;
	/* entries that notifications read meanwhile are newer: only add */
	rc = y->skip != NULL && atsm_snap_fresh_whole(y->skip, intake_tix()) ? MDB_NOTFOUND :
	    mdb_cursor_get(c, &k, &v, MDB_FIRST);
	while (rc == 0) {
		/* the tag is the byte before the id: 'l' made here */
		if (k.mv_size < 18 || ((const unsigned char *)k.mv_data)[k.mv_size - 9] == 'l') {
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
			continue;
		}
		atsm_snap_key_reset(&pos);
		atsm_snap_key_raw(&pos, k.mv_data, k.mv_size);
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			break;
		k = atsm_snap_key_val(&pos);
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND)
		goto mdb_fail;
	for (row = 0; row < PQntuples(r); row++)
		if (atsm_snap_put_intake(y, &w, r, row, err) < 0) {
			PQclear(r);
			atsm_snap_w_abort(&w);
			return -1;
		}
	PQclear(r);
	y->changes += w.changes;
	if (atsm_snap_w_commit(&w, err) < 0)
		return -1;
	if (y->noted != NULL)
		atsm_snap_fresh_note(y->noted, intake_tix(), 0);
	return 0;
mdb_fail:
	PQclear(r);
	atsm_snap_w_abort(&w);
	return atsm_snap_err_mdb(err, rc, "resync", ATSM_SNAP_INTAKE, NULL);
}

/* Messages with an id above after, in a transaction of their own unless
 * one is open. */
int
atsm_snap_read_messages_after(struct atsm_snap_sync *y, long long after, bool in_txn,
    struct atsm_err *err)
{
	const struct atsm_snap_table *t = atsm_snap_table_find("messages", 8);
	char sql[SQL_MAX], p[24];

	snprintf(sql, sizeof(sql), "%s WHERE m.id > $1::bigint", atsm_snap_messages_select);
	snprintf(p, sizeof(p), "%lld", after > 0 ? after : 0);
	if (!in_txn && atsm_snap_pg_do(y->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err) < 0)
		return -1;
	if (read_cursor(y, t, sql, p, false, err) < 0) {
		if (!in_txn)
			(void)atsm_snap_pg_do(y->conn, "ROLLBACK", NULL);
		return -1;
	}
	if (y->noted != NULL)
		atsm_snap_fresh_note(y->noted, tix(t), 0);
	return in_txn ? 0 : atsm_snap_pg_do(y->conn, "COMMIT", err);
}

/* A table whole (walk) or from an id on (plus > 0). */
int
atsm_snap_read_table(struct atsm_snap_sync *y, const struct atsm_snap_table *t, long long plus,
    bool in_txn, struct atsm_err *err)
{
	char sql[SQL_MAX], p[24];
	int rc;

	if (!in_txn && atsm_snap_pg_do(y->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err) < 0)
		return -1;
	if (plus > 0) {
		snprintf(sql, sizeof(sql), "%s WHERE id >= $1::bigint", t->select);
		snprintf(p, sizeof(p), "%lld", plus);
		rc = read_cursor(y, t, sql, p, false, err);
	} else {
		rc = read_cursor(y, t, t->select, NULL, true, err);
	}
	if (rc < 0) {
		if (!in_txn)
			(void)atsm_snap_pg_do(y->conn, "ROLLBACK", NULL);
		return -1;
	}
	if (y->noted != NULL)
		atsm_snap_fresh_note(y->noted, tix(t), 0);
	return in_txn ? 0 : atsm_snap_pg_do(y->conn, "COMMIT", err);
}

/* The end of every sync: the watermark and times in meta, marks swept. */
int
atsm_snap_sync_finish(struct atsm_snap_sync *y, bool full, struct atsm_err *err)
{
	struct atsm_snap_w w;
	uint64_t seen;

	if (atsm_snap_w_begin(y->s, &w, y->r0, err) < 0)
		return -1;
	if (atsm_snap_meta_get(w.txn, y->s, "messages_seen", &seen, err) < 0 ||
	    (y->max_msg > seen && atsm_snap_meta_put(&w, "messages_seen", y->max_msg, err) < 0) ||
	    ((full || y->intake) && atsm_snap_pending_sweep(&w, full, err) < 0) ||
	    atsm_snap_intake_prune(&w, full, err) < 0 ||
	    atsm_snap_meta_put(&w, "last_change", (uint64_t)w.now, err) < 0 ||
	    (full && atsm_snap_meta_put(&w, "last_full_sync", (uint64_t)w.now, err) < 0)) {
		atsm_snap_w_abort(&w);
		return -1;
	}
	return atsm_snap_w_commit(&w, err);
}

void
atsm_snap_sync_init(struct atsm_snap_sync *y, struct atsm_snapshot *s, PGconn *conn)
{
	memset(y, 0, sizeof(*y));
	y->s = s;
	y->conn = conn;
	/* before any row is read: see the head comment */
	y->r0 = __atomic_load_n(&s->recorded, __ATOMIC_ACQUIRE);
}

int
atsm_snap_sync_full_run(struct atsm_snap_sync *y, struct atsm_err *err)
{
	uint64_t seen = 0;
	size_t i;
	int rc;

	if (atsm_snap_messages_seen(y->s, &seen, err) < 0)
		return -1;
	if (atsm_snap_pg_do(y->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err) < 0)
		return atsm_err_prefix(err, "full resync");
	for (i = 0, rc = 0; rc == 0 && i < atsm_snap_ntables; i++) {
		const struct atsm_snap_table *t = &atsm_snap_tables[i];

		if (t->how == ATSM_SNAP_HOW_ID)
			rc = atsm_snap_read_table(y, t, 0, true, err);
		else if (t->how == ATSM_SNAP_HOW_WHOLE)
			rc = atsm_snap_read_whole(y, t, err);
		else if (t->how == ATSM_SNAP_HOW_MESSAGES)
			rc = atsm_snap_read_messages_after(y, seen > ATSM_SNAP_MSG_OVERLAP ?
			    (long long)(seen - ATSM_SNAP_MSG_OVERLAP) : 0, true, err);
		if (rc == 0 && y->between != NULL)
			rc = y->between(y->between_arg, err);
	}
	if (rc == 0)
		rc = atsm_snap_read_intake(y, err);
	if (rc < 0) {
		(void)atsm_snap_pg_do(y->conn, "ROLLBACK", NULL);
		return atsm_err_prefix(err, "full resync");
	}
	if (atsm_snap_pg_do(y->conn, "COMMIT", err) < 0 || atsm_snap_sync_finish(y, true, err) < 0)
		return atsm_err_prefix(err, "full resync");
	/* a resync is worth keeping: flush it now rather than at close */
	if ((rc = mdb_env_sync(y->s->env, 1)) != 0)
		return atsm_snap_err_mdb(err, rc, "flush after the full resync", ATSM_SNAP_META, NULL);
	return 0;
}

int
atsm_snapshot_sync_full(struct atsm_snapshot *s, PGconn *conn, struct atsm_err *err)
{
	struct atsm_snap_sync y;

	atsm_snap_sync_init(&y, s, conn);
	return atsm_snap_sync_full_run(&y, err);
}

int
atsm_snap_messages_seen(struct atsm_snapshot *s, uint64_t *seen, struct atsm_err *err)
{
	MDB_txn *txn;
	int rc;

	*seen = 0;
	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0)
		return atsm_snap_err_mdb(err, rc, "read", ATSM_SNAP_META, NULL);
	rc = atsm_snap_meta_get(txn, s, "messages_seen", seen, err);
	mdb_txn_abort(txn);
	return rc < 0 ? -1 : 0;
}
