/* store/snapshot-rows.c -- one writer per kind of row of the snapshot,
 * shared by apply (a mail's effects) and sync (rows of PostgreSQL), each
 * keeping its indexes in step: a user and its login, an address row and
 * the address index, a process and its id, a message and its Message-ID,
 * token and idempotency key.  Where a mail's effect is still pending
 * (docs/snapshot.md), the row from PostgreSQL keeps the local part; the
 * sweep drops what only this host had once the recorder is past it.
 *
 * A resume in the making (store/directory.h) is never overwritten by a
 * row: PostgreSQL's resume with its address, when its address row is
 * written, takes what later mails not yet read did to it (its phase and
 * processes, pending at their seqs), and the sweep drops it once the
 * recorder is past it and a recorded resume holds the address.
 */
#include "store/snapshot-int.h"

#include <string.h>

#define VALUE_BUF(b) struct atsm_buf b; atsm_buf_init(&b, ATSM_SNAP_VALUE_MAX)

/* ------------------------------------------------------------------ users */

int
atsm_snap_user_put(struct atsm_snap_w *w, const struct atsm_dir_user *u, struct atsm_err *err)
{
	struct atsm_snap_key k, lk;
	struct atsm_dir_user old;
	MDB_val v;
	VALUE_BUF(b);
	int rc;

	atsm_snap_key_id(&k, (uint64_t)u->id);
	ATSM_SNAP_GET(rc, w, ATSM_SNAP_USER, &k, &v, err);
	if (rc == 1) {
		if (atsm_snap_dec_user(&v, &old) < 0)
			return atsm_snap_err_corrupt_k(err, ATSM_SNAP_USER, &k);
		atsm_snap_key_login(&lk, old.login);
		if (strcmp(old.login, u->login) != 0 &&
		    atsm_snap_index_del(w, ATSM_SNAP_LOGIN, &lk, (uint64_t)u->id, err) < 0)
			return -1;
	}
	atsm_snap_enc_user(&b, u);
	rc = atsm_snap_put(w, ATSM_SNAP_USER, &k, &b, err);
	atsm_buf_free(&b);
	atsm_snap_key_login(&lk, u->login);
	if (rc < 0 || atsm_snap_index_put(w, ATSM_SNAP_LOGIN, &lk, (uint64_t)u->id, err) < 0)
		return -1;
	return 0;
}

int
atsm_snap_user_del(struct atsm_snap_w *w, long long id, struct atsm_err *err)
{
	struct atsm_snap_key k, lk;
	struct atsm_dir_user old;
	MDB_val v;
	int rc;

	atsm_snap_key_id(&k, (uint64_t)id);
	ATSM_SNAP_GET(rc, w, ATSM_SNAP_USER, &k, &v, err);
	if (rc == 0)
		return 0;
	if (atsm_snap_dec_user(&v, &old) < 0)
		return atsm_snap_err_corrupt_k(err, ATSM_SNAP_USER, &k);
	atsm_snap_key_login(&lk, old.login);
	if (atsm_snap_index_del(w, ATSM_SNAP_LOGIN, &lk, (uint64_t)id, err) < 0)
		return -1;
	return atsm_snap_del(w, ATSM_SNAP_USER, &k, err);
}

/* ---------------------------------------------------------------- records */

int
atsm_snap_record_put(struct atsm_snap_w *w, int kind, long long id, bool shared,
    long long owner, const char *phase, struct atsm_err *err)
{
	struct atsm_snap_key k, mark;
	struct atsm_dir_record old;
	MDB_val v;
	VALUE_BUF(b);
	int rc, prot;

	atsm_snap_key_record(&k, kind, id);
	atsm_snap_mark_record(&mark, kind, id);
	if ((prot = atsm_snap_protected(w, &mark, err)) < 0)
		return -1;
	if (prot == 1) {
		ATSM_SNAP_GET(rc, w, ATSM_SNAP_RECORD, &k, &v, err);
		if (rc == 1) {
			if (atsm_snap_dec_record(&v, &old) < 0)
				return atsm_snap_err_corrupt_k(err, ATSM_SNAP_RECORD, &k);
			phase = old.phase;     /* set by a mail PostgreSQL has not got yet */
		}
	}
	atsm_snap_enc_record(&b, shared, owner, phase);
	rc = atsm_snap_put(w, ATSM_SNAP_RECORD, &k, &b, err);
	atsm_buf_free(&b);
	return rc;
}

int
atsm_snap_record_del(struct atsm_snap_w *w, int kind, long long id, struct atsm_err *err)
{
	struct atsm_snap_key k, mark;
	int prot;

	atsm_snap_mark_record(&mark, kind, id);
	if ((prot = atsm_snap_protected(w, &mark, err)) != 0)
		return prot < 0 ? -1 : 0;
	atsm_snap_key_record(&k, kind, id);
	return atsm_snap_del(w, ATSM_SNAP_RECORD, &k, err);
}

int
atsm_snap_addr_resume(MDB_txn *txn, struct atsm_snapshot *s, const char *addr, long long *id,
    struct atsm_err *err)
{
	struct atsm_snap_key prefix, rk;
	MDB_cursor *c;
	MDB_val k, v;
	int rc, found = 0;

	*id = 0;
	atsm_snap_key_reset(&prefix);
	atsm_snap_key_text(&prefix, addr);
	atsm_snap_key_u8(&prefix, 0);
	atsm_snap_key_u8(&prefix, 'r');
	if (prefix.bad)
		return 0;
	if ((rc = mdb_cursor_open(txn, s->dbi[ATSM_SNAP_ADDR], &c)) != 0)
		return atsm_snap_err_mdb(err, rc, "read", ATSM_SNAP_ADDR, NULL);
	k = atsm_snap_key_val(&prefix);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0 && found == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		MDB_val rv;
		long long owner;

		if (k.mv_size < prefix.n || memcmp(k.mv_data, prefix.b, prefix.n) != 0)
			break;
		if (k.mv_size != prefix.n + 8) {
			mdb_cursor_close(c);
			return atsm_snap_err_corrupt(err, ATSM_SNAP_ADDR, &k);
		}
		owner = (long long)atsm_snap_get_u64((const unsigned char *)k.mv_data + prefix.n);
		/* an address whose resume is gone (deleted, not yet seen) holds nothing */
		atsm_snap_key_record(&rk, 'r', owner);
		if ((found = atsm_snap_get(txn, s, ATSM_SNAP_RECORD, &rk, &rv, err)) < 0)
			break;
		if (found == 1)
			*id = owner;
	}
	mdb_cursor_close(c);
	if (found < 0)
		return -1;
	if (found == 0 && rc != 0 && rc != MDB_NOTFOUND)
		return atsm_snap_err_mdb(err, rc, "read", ATSM_SNAP_ADDR, NULL);
	return found;
}

/* -------------------------------------------------------------- addresses */

/* The address row, when stored: 1 with its fields, 0, -1. */
static int
addr_row_get(struct atsm_snap_w *w, const struct atsm_snap_key *rk, int *kind, long long *owner,
    char addr[ATSM_SNAP_ADDR_MAX + 1], struct atsm_err *err)
{
	MDB_val v;
	int rc;

	ATSM_SNAP_GET(rc, w, ATSM_SNAP_ADDR_ROW, rk, &v, err);
	if (rc == 1 && atsm_snap_dec_addr_row(&v, kind, owner, addr) < 0)
		return atsm_snap_err_corrupt_k(err, ATSM_SNAP_ADDR_ROW, rk);
	return rc;
}

/* The seq of the pending mark k: 1 with *seq, 0 none, -1. */
static int
mark_seq(struct atsm_snap_w *w, const struct atsm_snap_key *k, uint64_t *seq,
    struct atsm_err *err)
{
	MDB_val v;
	int rc;

	ATSM_SNAP_GET(rc, w, ATSM_SNAP_PENDING, k, &v, err);
	if (rc == 1 && atsm_snap_dec_u64(&v, seq) < 0)
		return atsm_snap_err_corrupt_k(err, ATSM_SNAP_PENDING, k);
	return rc;
}

/* The processes of the resume in the making of addr that mails not yet in
 * what was read made or moved: resume's (PostgreSQL's, now), pending at
 * the same seq. */
static int
promote_processes(struct atsm_snap_w *w, const char *addr, long long resume,
    struct atsm_err *err)
{
	struct atsm_snap_key prefix, pos, mark, pk;
	char phase[ATSM_DIR_PHASE_MAX], ophase[ATSM_DIR_PHASE_MAX];
	long long id, oid, job;
	uint64_t seq;
	MDB_cursor *c;
	MDB_val k, v;
	VALUE_BUF(b);
	int rc, has = 0;

	atsm_snap_key_new_procs(&prefix, addr);
	if (prefix.bad)
		return 0;
	if ((rc = mdb_cursor_open(w->txn, w->s->dbi[ATSM_SNAP_PROC], &c)) != 0)
		return atsm_snap_err_mdb(err, rc, "read", ATSM_SNAP_PROC, NULL);
	pos = prefix;
	k = atsm_snap_key_val(&pos);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE)) {
		if (k.mv_size != prefix.n + 8 || memcmp(k.mv_data, prefix.b, prefix.n) != 0)
			break;
		if (atsm_snap_dec_proc(&v, &id, phase) < 0) {
			mdb_cursor_close(c);
			return atsm_snap_err_corrupt(err, ATSM_SNAP_PROC, &k);
		}
		job = (long long)atsm_snap_get_u64((const unsigned char *)k.mv_data + prefix.n);
		atsm_snap_key_reset(&pos);
		atsm_snap_key_raw(&pos, k.mv_data, k.mv_size);
		atsm_snap_key_u8(&pos, 0);          /* then on past it */
		atsm_snap_mark_new_proc(&mark, addr, job);
		if ((has = mark_seq(w, &mark, &seq, err)) < 0)
			break;
		if (has == 1 && seq > w->r0) {
			uint64_t rseq;

			/* a mail decided on resume's own process since wins */
			atsm_snap_mark_proc(&mark, resume, job);
			if ((has = mark_seq(w, &mark, &rseq, err)) < 0)
				break;
			if (has == 1 && rseq >= seq) {
				k = atsm_snap_key_val(&pos);
				continue;
			}
			atsm_snap_key_proc(&pk, resume, job);
			if ((has = atsm_snap_get(w->txn, w->s, ATSM_SNAP_PROC, &pk, &v, err)) < 0)
				break;
			oid = 0;
			if (has == 1 && atsm_snap_dec_proc(&v, &oid, ophase) < 0) {
				has = atsm_snap_err_corrupt_k(err, ATSM_SNAP_PROC, &pk);
				break;
			}
			atsm_buf_reset(&b);
			atsm_snap_enc_proc(&b, oid, phase);
			if ((has = atsm_snap_put(w, ATSM_SNAP_PROC, &pk, &b, err)) < 0 ||
			    (has = atsm_snap_mark(w, &mark, seq, err)) < 0)
				break;
		}
		k = atsm_snap_key_val(&pos);
	}
	mdb_cursor_close(c);
	atsm_buf_free(&b);
	if (has < 0)
		return -1;
	if (rc != 0 && rc != MDB_NOTFOUND)
		return atsm_snap_err_mdb(err, rc, "read", ATSM_SNAP_PROC, NULL);
	return 0;
}

/* PostgreSQL's resume of an address whose resume in the making mails here
 * changed after the intake entry (marks newer than what was read): the
 * phase and processes they set are that resume's from now on, pending at
 * the same seqs, as if they had been decided on it -- the record function
 * will apply them to it.  The resume in the making itself is hidden from
 * now on and goes at the sweep. */
static int
promote_new_resume(struct atsm_snap_w *w, const char *addr, long long resume,
    struct atsm_err *err)
{
	struct atsm_snap_key nk, rk, mark;
	struct atsm_dir_record pend, rec;
	uint64_t seq, rseq;
	long long holder;
	MDB_val v;
	VALUE_BUF(b);
	int rc;

	/* almost every address has none: one lookup */
	atsm_snap_key_new_resume(&nk, addr);
	ATSM_SNAP_GET(rc, w, ATSM_SNAP_RECORD, &nk, &v, err);
	if (rc == 0)
		return 0;
	if (atsm_snap_dec_record(&v, &pend) < 0)
		return atsm_snap_err_corrupt_k(err, ATSM_SNAP_RECORD, &nk);
	/* only the resume the record function resolves the address to */
	if ((rc = atsm_snap_addr_resume(w->txn, w->s, addr, &holder, err)) <= 0 ||
	    holder != resume)
		return rc < 0 ? -1 : 0;
	atsm_snap_key_record(&rk, 'r', resume);
	ATSM_SNAP_GET(rc, w, ATSM_SNAP_RECORD, &rk, &v, err);
	if (rc == 0)
		return 0;           /* its row is not read yet: it cannot hold the address */
	if (atsm_snap_dec_record(&v, &rec) < 0)
		return atsm_snap_err_corrupt_k(err, ATSM_SNAP_RECORD, &rk);
	if ((rc = mark_seq(w, &nk, &seq, err)) < 0)
		return -1;
	atsm_snap_mark_record(&mark, 'r', resume);
	if (rc == 1 && seq > w->r0) {
		/* a mail decided on the resume itself since wins */
		if ((rc = mark_seq(w, &mark, &rseq, err)) < 0)
			return -1;
		if (rc == 0 || rseq < seq) {
			atsm_snap_enc_record(&b, rec.shared, rec.owner_id, pend.phase);
			rc = atsm_snap_put(w, ATSM_SNAP_RECORD, &rk, &b, err);
			atsm_buf_free(&b);
			if (rc < 0 || atsm_snap_mark(w, &mark, seq, err) < 0)
				return -1;
		}
	}
	return promote_processes(w, addr, resume, err);
}

int
atsm_snap_addr_put(struct atsm_snap_w *w, long long row, int kind, long long owner,
    const char *addr, struct atsm_err *err)
{
	struct atsm_snap_key rk, ak;
	char old[ATSM_SNAP_ADDR_MAX + 1];
	long long oowner;
	int okind, rc;
	VALUE_BUF(b);

	if (strlen(addr) > ATSM_SNAP_ADDR_MAX)
		return 0;          /* PostgreSQL's CHECK forbids it; nothing could match it */
	atsm_snap_key_id(&rk, (uint64_t)row);
	if ((rc = addr_row_get(w, &rk, &okind, &oowner, old, err)) < 0)
		return -1;
	if (rc == 1 && (okind != kind || oowner != owner || strcmp(old, addr) != 0)) {
		atsm_snap_key_addr(&ak, old, okind, oowner);
		if (atsm_snap_del(w, ATSM_SNAP_ADDR, &ak, err) < 0)
			return -1;
	}
	atsm_snap_enc_addr_row(&b, kind, owner, addr);
	rc = atsm_snap_put(w, ATSM_SNAP_ADDR_ROW, &rk, &b, err);
	atsm_buf_reset(&b);
	atsm_snap_enc_empty(&b);
	atsm_snap_key_addr(&ak, addr, kind, owner);
	if (rc == 0)
		rc = atsm_snap_put(w, ATSM_SNAP_ADDR, &ak, &b, err);
	atsm_buf_free(&b);
	if (rc == 0 && kind == 'r')
		rc = promote_new_resume(w, addr, owner, err);
	return rc;
}

int
atsm_snap_addr_del(struct atsm_snap_w *w, long long row, struct atsm_err *err)
{
	struct atsm_snap_key rk, ak;
	char old[ATSM_SNAP_ADDR_MAX + 1];
	long long oowner;
	int okind, rc;

	atsm_snap_key_id(&rk, (uint64_t)row);
	if ((rc = addr_row_get(w, &rk, &okind, &oowner, old, err)) <= 0)
		return rc;
	atsm_snap_key_addr(&ak, old, okind, oowner);
	if (atsm_snap_del(w, ATSM_SNAP_ADDR, &ak, err) < 0)
		return -1;
	return atsm_snap_del(w, ATSM_SNAP_ADDR_ROW, &rk, err);
}

/* -------------------------------------------------------------- processes */

int
atsm_snap_proc_put(struct atsm_snap_w *w, long long id, long long resume, long long job,
    const char *phase, struct atsm_err *err)
{
	struct atsm_snap_key ik, pk, mark;
	char ophase[ATSM_DIR_PHASE_MAX];
	long long oresume, ojob, oid;
	MDB_val v;
	VALUE_BUF(b);
	int rc, prot;

	atsm_snap_key_id(&ik, (uint64_t)id);
	ATSM_SNAP_GET(rc, w, ATSM_SNAP_PROC_ID, &ik, &v, err);
	if (rc == 1) {
		if (atsm_snap_dec_pair(&v, &oresume, &ojob) < 0)
			return atsm_snap_err_corrupt_k(err, ATSM_SNAP_PROC_ID, &ik);
		if ((oresume != resume || ojob != job) && atsm_snap_proc_del(w, id, err) < 0)
			return -1;
	}
	atsm_snap_key_proc(&pk, resume, job);
	atsm_snap_mark_proc(&mark, resume, job);
	if ((prot = atsm_snap_protected(w, &mark, err)) < 0)
		return -1;
	if (prot == 1) {
		ATSM_SNAP_GET(rc, w, ATSM_SNAP_PROC, &pk, &v, err);
		if (rc == 1) {
			if (atsm_snap_dec_proc(&v, &oid, ophase) < 0)
				return atsm_snap_err_corrupt_k(err, ATSM_SNAP_PROC, &pk);
			phase = ophase;    /* set by a mail PostgreSQL has not got yet */
		}
	}
	atsm_snap_enc_proc(&b, id, phase);
	rc = atsm_snap_put(w, ATSM_SNAP_PROC, &pk, &b, err);
	atsm_buf_reset(&b);
	atsm_snap_enc_pair(&b, resume, job);
	if (rc == 0)
		rc = atsm_snap_put(w, ATSM_SNAP_PROC_ID, &ik, &b, err);
	atsm_buf_free(&b);
	return rc;
}

int
atsm_snap_proc_del(struct atsm_snap_w *w, long long id, struct atsm_err *err)
{
	struct atsm_snap_key ik, pk, mark;
	char ophase[ATSM_DIR_PHASE_MAX];
	long long resume, job, oid;
	MDB_val v;
	int rc, prot;

	atsm_snap_key_id(&ik, (uint64_t)id);
	ATSM_SNAP_GET(rc, w, ATSM_SNAP_PROC_ID, &ik, &v, err);
	if (rc == 0)
		return 0;
	if (atsm_snap_dec_pair(&v, &resume, &job) < 0)
		return atsm_snap_err_corrupt_k(err, ATSM_SNAP_PROC_ID, &ik);
	if (atsm_snap_del(w, ATSM_SNAP_PROC_ID, &ik, err) < 0)
		return -1;
	atsm_snap_mark_proc(&mark, resume, job);
	if ((prot = atsm_snap_protected(w, &mark, err)) != 0)
		return prot < 0 ? -1 : 0;
	atsm_snap_key_proc(&pk, resume, job);
	ATSM_SNAP_GET(rc, w, ATSM_SNAP_PROC, &pk, &v, err);
	if (rc == 0)
		return 0;
	if (atsm_snap_dec_proc(&v, &oid, ophase) < 0)
		return atsm_snap_err_corrupt_k(err, ATSM_SNAP_PROC, &pk);
	return oid == id ? atsm_snap_del(w, ATSM_SNAP_PROC, &pk, err) : 0;
}

/* --------------------------------------------------------------- messages */

int
atsm_snap_msg_del(struct atsm_snap_w *w, uint64_t handle, struct atsm_err *err)
{
	struct atsm_snap_key k, ik;
	struct atsm_snap_msg_ids ids;
	MDB_val v;
	int rc;

	atsm_snap_key_id(&k, handle);
	ATSM_SNAP_GET(rc, w, ATSM_SNAP_MSG, &k, &v, err);
	if (rc == 0)
		return 0;
	if (atsm_snap_dec_msg_ids(&v, &ids) < 0)
		return atsm_snap_err_corrupt_k(err, ATSM_SNAP_MSG, &k);
	if (ids.msgid_len > 0) {
		atsm_snap_key_mid(&ik, ids.msgid, ids.msgid_len, ids.in);
		if (atsm_snap_index_del(w, ATSM_SNAP_MSG_MID, &ik, handle, err) < 0)
			return -1;
	}
	if (ids.token_len > 0) {
		atsm_snap_key_str(&ik, ids.token, ids.token_len);
		if (atsm_snap_index_del(w, ATSM_SNAP_MSG_TOK, &ik, handle, err) < 0)
			return -1;
	}
	if (ids.key_len > 0) {
		atsm_snap_key_str(&ik, ids.key, ids.key_len);
		if (atsm_snap_index_del(w, ATSM_SNAP_MSG_KEY, &ik, handle, err) < 0)
			return -1;
	}
	atsm_snap_mark_msg(&ik, handle);
	if (atsm_snap_del(w, ATSM_SNAP_PENDING, &ik, err) < 0)
		return -1;
	return atsm_snap_del(w, ATSM_SNAP_MSG, &k, err);
}

/* Write message m under handle with its indexes, replacing what was there. */
static int
msg_write(struct atsm_snap_w *w, uint64_t handle, const struct atsm_dir_message *m,
    const char *msgid, bool local, struct atsm_err *err)
{
	struct atsm_snap_key k, ik;
	bool in = m->direction == ATSM_DIR_IN;
	VALUE_BUF(b);
	int rc;

	/* the old indexes go first: the Message-ID, token or key may change */
	if (atsm_snap_msg_del(w, handle, err) < 0)
		return -1;
	atsm_snap_key_id(&k, handle);
	atsm_snap_enc_msg(&b, m, msgid, local);
	rc = atsm_snap_put(w, ATSM_SNAP_MSG, &k, &b, err);
	atsm_buf_free(&b);
	if (rc < 0)
		return -1;
	if (msgid != NULL && msgid[0] != '\0') {
		atsm_snap_key_mid(&ik, msgid, strlen(msgid), in);
		if (atsm_snap_index_put(w, ATSM_SNAP_MSG_MID, &ik, handle, err) < 0)
			return -1;
	}
	if (m->token[0] != '\0') {
		atsm_snap_key_str(&ik, m->token, strlen(m->token));
		if (atsm_snap_index_put(w, ATSM_SNAP_MSG_TOK, &ik, handle, err) < 0)
			return -1;
	}
	if (m->ref.key[0] != '\0') {
		atsm_snap_key_str(&ik, m->ref.key, strlen(m->ref.key));
		if (atsm_snap_index_put(w, ATSM_SNAP_MSG_KEY, &ik, handle, err) < 0)
			return -1;
	}
	return 0;
}

/* The local copy of a mail named by index entry k, if any, goes: the row
 * of PostgreSQL that has the same key or Message-ID is that mail. */
static int
drop_local_twin(struct atsm_snap_w *w, enum atsm_snap_db db, const struct atsm_snap_key *k,
    uint64_t handle, struct atsm_err *err)
{
	uint64_t h;
	int rc;

	if ((rc = atsm_snap_index_get(w, db, k, &h, err)) <= 0)
		return rc;
	if (h != handle && (h & ATSM_SNAP_LOCAL_BIT) != 0)
		return atsm_snap_msg_del(w, h, err);
	return 0;
}

int
atsm_snap_msg_put_pg(struct atsm_snap_w *w, const struct atsm_dir_message *m,
    const char *msgid, struct atsm_err *err)
{
	struct atsm_snap_key ik;
	uint64_t handle = (uint64_t)m->ref.id;

	if (m->ref.id <= 0)
		return atsm_err_setc(err, ATSM_ERR_INTERNAL, "snapshot: a message of PostgreSQL "
		    "without an id");
	if (m->ref.key[0] != '\0') {
		atsm_snap_key_str(&ik, m->ref.key, strlen(m->ref.key));
		if (drop_local_twin(w, ATSM_SNAP_MSG_KEY, &ik, handle, err) < 0)
			return -1;
	}
	if (msgid != NULL && msgid[0] != '\0') {
		atsm_snap_key_mid(&ik, msgid, strlen(msgid), m->direction == ATSM_DIR_IN);
		if (drop_local_twin(w, ATSM_SNAP_MSG_MID, &ik, handle, err) < 0)
			return -1;
	}
	/* a message that neither a Message-ID nor a token can find is of no
	 * use to a decision */
	if ((msgid == NULL || msgid[0] == '\0') && m->token[0] == '\0')
		return atsm_snap_msg_del(w, handle, err);
	return msg_write(w, handle, m, msgid, false, err);
}

int
atsm_snap_msg_put_local(struct atsm_snap_w *w, uint64_t handle, const struct atsm_dir_message *m,
    const char *msgid, struct atsm_err *err)
{
	return msg_write(w, handle, m, msgid, true, err);
}

/* --------------------------------------------------------------- the sweep */

/* One expired mark (seq <= r0): drop what only this host ever had. */
static int
sweep_one(struct atsm_snap_w *w, const MDB_val *mk, struct atsm_err *err)
{
	const unsigned char *p = mk->mv_data;
	struct atsm_snap_key k;

	atsm_snap_key_reset(&k);
	if (p[0] == 'i' && mk->mv_size > 9) {
		atsm_snap_key_raw(&k, p + 9, mk->mv_size - 9);
		if (atsm_snap_del(w, ATSM_SNAP_INTAKE, &k, err) < 0)
			return -1;
	} else if (p[0] == 'p' && mk->mv_size >= 17) {
		char phase[ATSM_DIR_PHASE_MAX];
		long long id;
		MDB_val v;
		int rc;

		/* resume and job, or resume 0, the address and job */
		atsm_snap_key_raw(&k, p + 1, mk->mv_size - 1);
		ATSM_SNAP_GET(rc, w, ATSM_SNAP_PROC, &k, &v, err);
		if (rc == 1) {
			if (atsm_snap_dec_proc(&v, &id, phase) < 0)
				return atsm_snap_err_corrupt_k(err, ATSM_SNAP_PROC, &k);
			if (id == 0 && atsm_snap_del(w, ATSM_SNAP_PROC, &k, err) < 0)
				return -1;
		}
	} else if (p[0] == 'm' && mk->mv_size == 9) {
		uint64_t h = atsm_snap_get_u64(p + 1);

		if ((h & ATSM_SNAP_LOCAL_BIT) != 0 && atsm_snap_msg_del(w, h, err) < 0)
			return -1;
	} else if (p[0] == 'n' && mk->mv_size > 1) {
		/* the resume in the making: its record key is its mark */
		atsm_snap_key_raw(&k, p, mk->mv_size);
		if (atsm_snap_del(w, ATSM_SNAP_RECORD, &k, err) < 0)
			return -1;
	}
	atsm_snap_key_reset(&k);
	atsm_snap_key_raw(&k, mk->mv_data, mk->mv_size);
	return atsm_snap_del(w, ATSM_SNAP_PENDING, &k, err);
}

/* The resumes in the making that the recorder is past and whose address a
 * recorded resume holds: PostgreSQL's resume has arrived, and every mail
 * that changed the one made here is in PostgreSQL too.  (One whose resume
 * never arrives -- its entry was set aside -- waits for a full resync.) */
static int
sweep_new_resumes(struct atsm_snap_w *w, struct atsm_err *err)
{
	char addr[ATSM_SNAP_ADDR_MAX + 1];
	struct atsm_snap_key pos;
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t seq;
	long long id;
	int rc, has = 0;

	if ((rc = mdb_cursor_open(w->txn, w->s->dbi[ATSM_SNAP_PENDING], &c)) != 0)
		return atsm_snap_err_mdb(err, rc, "sweep", ATSM_SNAP_PENDING, NULL);
	atsm_snap_key_reset(&pos);
	atsm_snap_key_u8(&pos, 'n');
	k = atsm_snap_key_val(&pos);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE)) {
		const unsigned char *kp = k.mv_data;

		if (kp[0] != 'n')
			break;
		if (k.mv_size < 2 || k.mv_size - 1 > ATSM_SNAP_ADDR_MAX ||
		    atsm_snap_dec_u64(&v, &seq) < 0) {
			mdb_cursor_close(c);
			return atsm_snap_err_corrupt(err, ATSM_SNAP_PENDING, &k);
		}
		atsm_snap_key_reset(&pos);
		atsm_snap_key_raw(&pos, k.mv_data, k.mv_size);
		memcpy(addr, kp + 1, k.mv_size - 1);
		addr[k.mv_size - 1] = '\0';
		has = seq <= w->r0 ? atsm_snap_addr_resume(w->txn, w->s, addr, &id, err) : 0;
		if (has < 0) {
			mdb_cursor_close(c);
			return -1;
		}
		if (has == 1) {
			MDB_val mk = atsm_snap_key_val(&pos);

			if (sweep_one(w, &mk, err) < 0) {
				mdb_cursor_close(c);
				return -1;
			}
		} else {
			/* kept: on past it */
			atsm_snap_key_u8(&pos, 0);
		}
		k = atsm_snap_key_val(&pos);
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return atsm_snap_err_mdb(err, rc, "sweep", ATSM_SNAP_PENDING, NULL);
	return 0;
}

int
atsm_snap_pending_sweep(struct atsm_snap_w *w, bool all, struct atsm_err *err)
{
	struct atsm_snap_key pos;
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t seq;
	int rc;

	if ((rc = mdb_cursor_open(w->txn, w->s->dbi[ATSM_SNAP_PENDING], &c)) != 0)
		return atsm_snap_err_mdb(err, rc, "sweep", ATSM_SNAP_PENDING, NULL);
	atsm_snap_key_reset(&pos);
	atsm_snap_key_u8(&pos, all ? 0 : 'i');
	k = atsm_snap_key_val(&pos);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == 0) {
		const unsigned char *kp = k.mv_data;

		if (!all && kp[0] != 'i')
			break;
		if (atsm_snap_dec_u64(&v, &seq) < 0) {
			mdb_cursor_close(c);
			return atsm_snap_err_corrupt(err, ATSM_SNAP_PENDING, &k);
		}
		if (seq > w->r0) {
			if (!all)
				break;     /* 'i' marks are in seq order */
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
			continue;
		}
		/* sweep_one deletes the mark: go on from its key */
		atsm_snap_key_reset(&pos);
		atsm_snap_key_raw(&pos, k.mv_data, k.mv_size);
		{
			MDB_val mk = atsm_snap_key_val(&pos);

			if (sweep_one(w, &mk, err) < 0) {
				mdb_cursor_close(c);
				return -1;
			}
		}
		k = atsm_snap_key_val(&pos);
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return atsm_snap_err_mdb(err, rc, "sweep", ATSM_SNAP_PENDING, NULL);
	return all ? 0 : sweep_new_resumes(w, err);
}
