/* store/snapshot-write.c -- the write side of the snapshot shared by
 * apply (a mail's effects) and sync (rows of PostgreSQL): one function per
 * kind of row, each keeping its indexes in step (a user and its login, an
 * address row and the address index, a process and its id, a message and
 * its Message-ID, token and key), and the pending marks that keep a
 * mail's effects until PostgreSQL has them (docs/snapshot.md, "Pending
 * effects").
 *
 * A put compares with the stored value first and writes only a change, so
 * that a full resync of an unchanged directory reads every page and dirties
 * none.
 */
#include "store/snapshot-int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define VALUE_BUF(b) struct atsm_buf b; atsm_buf_init(&b, ATSM_SNAP_VALUE_MAX)

/* ------------------------------------------------------------ transactions */

int
atsm_snap_w_begin(struct atsm_snapshot *s, struct atsm_snap_w *w, unsigned long long r0,
    struct atsm_err *err)
{
	int rc;

	memset(w, 0, sizeof(*w));
	if (s->readonly)
		return atsm_err_setc(err, ATSM_ERR_INTERNAL, "snapshot %s is open read-only", s->dir);
	w->s = s;
	w->r0 = r0;
	w->now = (long long)time(NULL);
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &w->txn)) != 0) {
		w->txn = NULL;
		return atsm_err_setc(err, ATSM_ERR_IO, "snapshot %s: cannot begin a write "
		    "transaction: %s", s->dir, mdb_strerror(rc));
	}
	return 0;
}

int
atsm_snap_w_commit(struct atsm_snap_w *w, struct atsm_err *err)
{
	unsigned long long rec = __atomic_load_n(&w->s->recorded, __ATOMIC_ACQUIRE);
	int rc;

	if (rec != w->s->recorded_saved && atsm_snap_meta_put(w, "recorded", rec, err) < 0) {
		atsm_snap_w_abort(w);
		return -1;
	}
	rc = mdb_txn_commit(w->txn);
	w->txn = NULL;
	if (rc != 0)
		return atsm_snap_err_mdb(err, rc, "commit", ATSM_SNAP_META, NULL);
	w->s->recorded_saved = rec;
	return 0;
}

void
atsm_snap_w_abort(struct atsm_snap_w *w)
{
	if (w->txn != NULL)
		mdb_txn_abort(w->txn);
	w->txn = NULL;
}

/* ------------------------------------------------------------ get put del */

int
atsm_snap_get(MDB_txn *txn, struct atsm_snapshot *s, enum atsm_snap_db db,
    const struct atsm_snap_key *k, MDB_val *v, struct atsm_err *err)
{
	MDB_val key = atsm_snap_key_val(k);
	int rc;

	if (k->bad || k->n == 0)
		return 0;          /* no such key can have been stored */
	rc = mdb_get(txn, s->dbi[db], &key, v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return atsm_snap_err_mdb(err, rc, "read", db, &key);
	return 1;
}

int
atsm_snap_put(struct atsm_snap_w *w, enum atsm_snap_db db, const struct atsm_snap_key *k,
    const struct atsm_buf *b, struct atsm_err *err)
{
	MDB_val key = atsm_snap_key_val(k), old, val;
	int rc;

	if (k->bad || k->n == 0)
		return atsm_err_setc(err, ATSM_ERR_INPUT, "snapshot: a key of database %s is too "
		    "long (%d bytes at most)", atsm_snap_db_names[db], ATSM_SNAP_KEY_MAX);
	if (b->overflow) {
		char kp[96];

		atsm_snap_key_print(&key, kp, sizeof(kp));
		return atsm_err_setc(err, ATSM_ERR_INPUT, "snapshot: the value of key %s in "
		    "database %s is too large or has an over-long text", kp, atsm_snap_db_names[db]);
	}
	val.mv_data = b->data;
	val.mv_size = b->len;
	rc = mdb_get(w->txn, w->s->dbi[db], &key, &old);
	if (rc == 0 && old.mv_size == val.mv_size && memcmp(old.mv_data, val.mv_data,
	    val.mv_size) == 0)
		return 0;
	if (rc != 0 && rc != MDB_NOTFOUND)
		return atsm_snap_err_mdb(err, rc, "read", db, &key);
	if ((rc = mdb_put(w->txn, w->s->dbi[db], &key, &val, 0)) != 0)
		return atsm_snap_err_mdb(err, rc, "write", db, &key);
	w->changes++;
	return 0;
}

int
atsm_snap_del(struct atsm_snap_w *w, enum atsm_snap_db db, const struct atsm_snap_key *k,
    struct atsm_err *err)
{
	MDB_val key = atsm_snap_key_val(k);
	int rc;

	if (k->bad || k->n == 0)
		return 0;
	rc = mdb_del(w->txn, w->s->dbi[db], &key, NULL);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return atsm_snap_err_mdb(err, rc, "delete", db, &key);
	w->changes++;
	return 0;
}

static void
meta_key(struct atsm_snap_key *k, const char *name)
{
	atsm_snap_key_reset(k);
	atsm_snap_key_text(k, name);
}

int
atsm_snap_meta_get(MDB_txn *txn, struct atsm_snapshot *s, const char *name, uint64_t *x,
    struct atsm_err *err)
{
	struct atsm_snap_key k;
	MDB_val v;
	int rc;

	*x = 0;
	meta_key(&k, name);
	if ((rc = atsm_snap_get(txn, s, ATSM_SNAP_META, &k, &v, err)) <= 0)
		return rc;
	if (atsm_snap_dec_u64(&v, x) < 0) {
		MDB_val key = atsm_snap_key_val(&k);

		*x = 0;
		return atsm_snap_err_corrupt(err, ATSM_SNAP_META, &key);
	}
	return 1;
}

int
atsm_snap_meta_put(struct atsm_snap_w *w, const char *name, uint64_t x, struct atsm_err *err)
{
	struct atsm_snap_key k;
	VALUE_BUF(b);
	int rc;

	meta_key(&k, name);
	atsm_snap_enc_u64(&b, x);
	rc = atsm_snap_put(w, ATSM_SNAP_META, &k, &b, err);
	atsm_buf_free(&b);
	return rc;
}

int
atsm_snap_err_corrupt_k(struct atsm_err *err, enum atsm_snap_db db, const struct atsm_snap_key *k)
{
	MDB_val key = atsm_snap_key_val(k);

	return atsm_snap_err_corrupt(err, db, &key);
}

int
atsm_snap_index_put(struct atsm_snap_w *w, enum atsm_snap_db db, const struct atsm_snap_key *k,
    uint64_t x, struct atsm_err *err)
{
	VALUE_BUF(b);
	int rc;

	atsm_snap_enc_u64(&b, x);
	rc = atsm_snap_put(w, db, k, &b, err);
	atsm_buf_free(&b);
	return rc;
}

int
atsm_snap_index_get(struct atsm_snap_w *w, enum atsm_snap_db db, const struct atsm_snap_key *k,
    uint64_t *x, struct atsm_err *err)
{
	MDB_val v;
	int rc;

	ATSM_SNAP_GET(rc, w, db, k, &v, err);
	if (rc == 1 && atsm_snap_dec_u64(&v, x) < 0)
		return atsm_snap_err_corrupt_k(err, db, k);
	return rc;
}

int
atsm_snap_index_del(struct atsm_snap_w *w, enum atsm_snap_db db, const struct atsm_snap_key *k,
    uint64_t x, struct atsm_err *err)
{
	uint64_t h;
	int rc;

	if ((rc = atsm_snap_index_get(w, db, k, &h, err)) <= 0)
		return rc;
	return h == x ? atsm_snap_del(w, db, k, err) : 0;
}

/* ----------------------------------------------------------- pending marks */

void
atsm_snap_mark_record(struct atsm_snap_key *k, int kind, long long id)
{
	atsm_snap_key_reset(k);
	atsm_snap_key_u8(k, 'r');
	atsm_snap_key_u8(k, (unsigned)kind);
	atsm_snap_key_u64(k, (uint64_t)id);
}

void
atsm_snap_mark_proc(struct atsm_snap_key *k, long long resume, long long job)
{
	atsm_snap_key_reset(k);
	atsm_snap_key_u8(k, 'p');
	atsm_snap_key_u64(k, (uint64_t)resume);
	atsm_snap_key_u64(k, (uint64_t)job);
}

void
atsm_snap_mark_msg(struct atsm_snap_key *k, uint64_t handle)
{
	atsm_snap_key_reset(k);
	atsm_snap_key_u8(k, 'm');
	atsm_snap_key_u64(k, handle);
}

void
atsm_snap_mark_new_proc(struct atsm_snap_key *k, const char *addr, long long job)
{
	struct atsm_snap_key pk;

	atsm_snap_key_new_proc(&pk, addr, job);
	atsm_snap_key_reset(k);
	atsm_snap_key_u8(k, 'p');
	atsm_snap_key_raw(k, pk.b, pk.n);
	k->bad |= pk.bad;
}

int
atsm_snap_protected(struct atsm_snap_w *w, const struct atsm_snap_key *mark,
    struct atsm_err *err)
{
	MDB_val v;
	uint64_t seq;
	int rc;

	ATSM_SNAP_GET(rc, w, ATSM_SNAP_PENDING, mark, &v, err);
	if (rc == 0)
		return 0;
	if (atsm_snap_dec_u64(&v, &seq) < 0)
		return atsm_snap_err_corrupt_k(err, ATSM_SNAP_PENDING, mark);
	if (seq > w->r0)
		return 1;
	return atsm_snap_del(w, ATSM_SNAP_PENDING, mark, err);
}

int
atsm_snap_mark(struct atsm_snap_w *w, const struct atsm_snap_key *mark, unsigned long long seq,
    struct atsm_err *err)
{
	MDB_val v;
	uint64_t old;
	VALUE_BUF(b);
	int rc;

	ATSM_SNAP_GET(rc, w, ATSM_SNAP_PENDING, mark, &v, err);
	/* concurrent mails may be applied out of journal order: keep the later */
	if (rc == 1 && atsm_snap_dec_u64(&v, &old) == 0 && old >= seq)
		return 0;
	atsm_snap_enc_u64(&b, seq);
	rc = atsm_snap_put(w, ATSM_SNAP_PENDING, mark, &b, err);
	atsm_buf_free(&b);
	return rc;
}

/* ----------------------------------------------------------------- intake */

int
atsm_snap_intake_put(struct atsm_snap_w *w, const char *sender, long long at, int tag,
    uint64_t id, struct atsm_err *err)
{
	struct atsm_snap_key k;
	VALUE_BUF(b);
	int rc;

	if (sender == NULL || sender[0] == '\0' || at < w->now - ATSM_SNAP_INTAKE_KEEP)
		return 0;
	atsm_snap_key_intake(&k, sender, at, tag, id);
	atsm_snap_enc_empty(&b);
	rc = atsm_snap_put(w, ATSM_SNAP_INTAKE, &k, &b, err);
	atsm_buf_free(&b);
	if (rc == 0 && tag == 'l') {
		struct atsm_snap_key mark;

		/* 'i' seq key: in seq order, so the sweep stops at the first live one */
		atsm_snap_key_reset(&mark);
		atsm_snap_key_u8(&mark, 'i');
		atsm_snap_key_u64(&mark, id);
		atsm_snap_key_raw(&mark, k.b, k.n);
		rc = atsm_snap_mark(w, &mark, id, err);
	}
	return rc;
}

/* The time of an intake key: its fixed tail is NUL, time, tag, id. */
static long long
intake_time(const MDB_val *key)
{
	if (key->mv_size < 18)
		return -1;
	return (long long)atsm_snap_get_u64((const unsigned char *)key->mv_data +
	    key->mv_size - 17);
}

int
atsm_snap_intake_prune(struct atsm_snap_w *w, bool force, struct atsm_err *err)
{
	struct atsm_snap_key pos;
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if (!force && w->now - w->s->last_prune < 60)
		return 0;
	if ((rc = mdb_cursor_open(w->txn, w->s->dbi[ATSM_SNAP_INTAKE], &c)) != 0)
		return atsm_snap_err_mdb(err, rc, "prune", ATSM_SNAP_INTAKE, NULL);
	rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	while (rc == 0) {
		if (intake_time(&k) >= w->now - ATSM_SNAP_INTAKE_KEEP) {
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
			continue;
		}
		atsm_snap_key_reset(&pos);
		atsm_snap_key_raw(&pos, k.mv_data, k.mv_size);
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			break;
		w->changes++;
		k = atsm_snap_key_val(&pos);
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND)
		return atsm_snap_err_mdb(err, rc, "prune", ATSM_SNAP_INTAKE, NULL);
	w->s->last_prune = w->now;
	return 0;
}
