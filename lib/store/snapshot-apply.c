/* store/snapshot-apply.c -- a decided mail's effects, written to the
 * snapshot as soon as the mail is in the journal, so that the next
 * decision sees them before the recorder has put them into PostgreSQL
 * (a reply during a database outage, say, finds the message it answers).
 *
 * Everything written here is marked pending at the mail's journal position
 * (seq).  A row read from PostgreSQL does not overwrite a pending change
 * unless the recorder had reported that position recorded before the row
 * was read (docs/snapshot.md, "Pending effects").  A message applied here
 * has no id yet: it is kept under a local handle, found by its Message-ID,
 * token and idempotency key, and replaced by the row of PostgreSQL that
 * has the same key or Message-ID when that row is read.
 *
 * Intake mail that makes a resume makes it here too, as the resume in the
 * making of its sender's address (store/directory.h): record key 'n' and
 * the address, its processes keyed by resume 0 and the address.  Nothing
 * of PostgreSQL ever overwrites it; it goes when PostgreSQL's resume with
 * the address has arrived and the recorder is past it (the sweep,
 * lib/store/snapshot-rows.c).
 */
#include "store/snapshot-int.h"

#include <string.h>

#define VALUE_BUF(b) struct atsm_buf b; atsm_buf_init(&b, ATSM_SNAP_VALUE_MAX)

/* The handle of the mail's message: that of an earlier apply of the same
 * mail, or a new local one.  0: the directory has it from PostgreSQL
 * already (nothing to write). */
static int
message_handle(struct atsm_snap_w *w, const struct atsm_dir_effects *e, uint64_t *handle,
    struct atsm_err *err)
{
	const struct atsm_dir_message *m = e->message;
	struct atsm_snap_key k;
	uint64_t h, next;
	int rc;

	*handle = 0;
	atsm_snap_key_mid(&k, e->msgid, strlen(e->msgid), m->direction == ATSM_DIR_IN);
	if ((rc = atsm_snap_index_get(w, ATSM_SNAP_MSG_MID, &k, &h, err)) < 0)
		return -1;
	if (rc == 0 && m->ref.key[0] != '\0') {
		atsm_snap_key_str(&k, m->ref.key, strlen(m->ref.key));
		if ((rc = atsm_snap_index_get(w, ATSM_SNAP_MSG_KEY, &k, &h, err)) < 0)
			return -1;
	}
	if (rc == 1) {
		if ((h & ATSM_SNAP_LOCAL_BIT) != 0)
			*handle = h;
		return 0;
	}
	if (m->ref.id > 0) {
		*handle = (uint64_t)m->ref.id;
		return 0;
	}
	if (atsm_snap_meta_get(w->txn, w->s, "local_next", &next, err) < 0 ||
	    atsm_snap_meta_put(w, "local_next", next + 1, err) < 0)
		return -1;
	*handle = ATSM_SNAP_LOCAL_BIT | (next & ~ATSM_SNAP_LOCAL_BIT);
	return 0;
}

static int
apply_message(struct atsm_snap_w *w, const struct atsm_dir_effects *e, unsigned long long seq,
    struct atsm_err *err)
{
	struct atsm_dir_message m = *e->message;
	struct atsm_snap_key mark;
	uint64_t handle;

	if (e->msgid[0] == '\0')
		return atsm_err_setc(err, ATSM_ERR_INPUT, "snapshot: a message without Message-ID "
		    "cannot be applied (key '%s')", m.ref.key);
	if (message_handle(w, e, &handle, err) < 0)
		return -1;
	if (handle == 0)
		return 0;
	/* a message that starts its thread names itself */
	if (m.thread.id == 0 && m.thread.key[0] == '\0')
		m.thread = m.ref;
	if (atsm_snap_msg_put_local(w, handle, &m, e->msgid, err) < 0)
		return -1;
	atsm_snap_mark_msg(&mark, handle);
	return atsm_snap_mark(w, &mark, seq, err);
}

/* The phase of the record of key k, marked pending under mark. */
static int
set_record_phase(struct atsm_snap_w *w, const struct atsm_snap_key *k,
    const struct atsm_snap_key *mark, const char *phase, unsigned long long seq,
    struct atsm_err *err)
{
	struct atsm_dir_record r;
	MDB_val v;
	VALUE_BUF(b);
	int rc;

	ATSM_SNAP_GET(rc, w, ATSM_SNAP_RECORD, k, &v, err);
	if (rc == 0)
		return 0;          /* gone meanwhile: PostgreSQL will refuse the change too */
	if (atsm_snap_dec_record(&v, &r) < 0)
		return atsm_snap_err_corrupt_k(err, ATSM_SNAP_RECORD, k);
	atsm_snap_enc_record(&b, r.shared, r.owner_id, phase);
	rc = atsm_snap_put(w, ATSM_SNAP_RECORD, k, &b, err);
	atsm_buf_free(&b);
	if (rc < 0)
		return -1;
	return atsm_snap_mark(w, mark, seq, err);
}

/* A resume of id 0 is named by its address: PostgreSQL's resume once one
 * holds it (the one decisions see from then on, and the record function
 * resolves the address to), else the one in the making. */
static int
apply_record_phase(struct atsm_snap_w *w, const struct atsm_dir_phase_set *ps,
    unsigned long long seq, struct atsm_err *err)
{
	int kind = atsm_snap_kind_char(ps->kind);
	struct atsm_snap_key k, mark;
	long long id = ps->id;
	int rc;

	if (id == 0 && ps->kind == ATSM_RECORD_RESUME) {
		if (ps->resume_addr == NULL)
			return atsm_err_setc(err, ATSM_ERR_INPUT, "snapshot: a resume phase '%s' "
			    "without a resume id or address", ps->phase);
		if ((rc = atsm_snap_addr_resume(w->txn, w->s, ps->resume_addr, &id, err)) < 0)
			return -1;
		if (rc == 0) {
			atsm_snap_key_new_resume(&k, ps->resume_addr);
			return set_record_phase(w, &k, &k, ps->phase, seq, err);
		}
	}
	atsm_snap_key_record(&k, kind, id);
	atsm_snap_mark_record(&mark, kind, id);
	return set_record_phase(w, &k, &mark, ps->phase, seq, err);
}

/* Intake mail that makes a resume: the resume in the making of its
 * sender's address, unless a recorded resume holds it (then the record
 * function links that one) or an earlier intake mail made it. */
static int
apply_new_resume(struct atsm_snap_w *w, const struct atsm_dir_effects *e, unsigned long long seq,
    struct atsm_err *err)
{
	struct atsm_snap_key k;
	long long id;
	MDB_val v;
	VALUE_BUF(b);
	int rc;

	atsm_snap_key_new_resume(&k, e->new_resume);
	if (k.bad)
		return atsm_err_setc(err, ATSM_ERR_INPUT, "snapshot: intake mail makes a resume "
		    "of an address that is empty or too long");
	if ((rc = atsm_snap_addr_resume(w->txn, w->s, e->new_resume, &id, err)) != 0)
		return rc < 0 ? -1 : 0;
	ATSM_SNAP_GET(rc, w, ATSM_SNAP_RECORD, &k, &v, err);
	if (rc == 0) {
		atsm_snap_enc_record(&b, ATSM_DIR_NEW_RESUME_SHARED,
		    e->new_resume_owner > 0 ? e->new_resume_owner : 0, ATSM_DIR_NEW_RESUME_PHASE);
		rc = atsm_snap_put(w, ATSM_SNAP_RECORD, &k, &b, err);
		atsm_buf_free(&b);
		if (rc < 0)
			return -1;
	}
	return atsm_snap_mark(w, &k, seq, err);
}

/* A process of the resume in the making: created or moved; id 0 until
 * PostgreSQL has both. */
static int
apply_new_process_phase(struct atsm_snap_w *w, const struct atsm_dir_phase_set *ps,
    unsigned long long seq, struct atsm_err *err)
{
	struct atsm_snap_key k, mark;
	VALUE_BUF(b);
	int rc;

	atsm_snap_key_new_proc(&k, ps->resume_addr, ps->job_id);
	atsm_snap_mark_new_proc(&mark, ps->resume_addr, ps->job_id);
	if (k.bad || mark.bad)
		return atsm_err_setc(err, ATSM_ERR_INPUT, "snapshot: a process phase '%s' of a "
		    "resume whose address is too long", ps->phase);
	atsm_snap_enc_proc(&b, 0, ps->phase);
	rc = atsm_snap_put(w, ATSM_SNAP_PROC, &k, &b, err);
	atsm_buf_free(&b);
	if (rc < 0)
		return -1;
	return atsm_snap_mark(w, &mark, seq, err);
}

/* A process: created (id 0 until PostgreSQL gives it one) or moved. */
static int
apply_process_phase(struct atsm_snap_w *w, const struct atsm_dir_phase_set *ps,
    unsigned long long seq, struct atsm_err *err)
{
	struct atsm_snap_key k, mark;
	char phase[ATSM_DIR_PHASE_MAX];
	long long id = ps->id;
	MDB_val v;
	VALUE_BUF(b);
	int rc;

	if (ps->resume_id < 0 || ps->job_id <= 0 || (ps->resume_id == 0 &&
	    (ps->resume_addr == NULL || ps->resume_addr[0] == '\0')))
		return atsm_err_setc(err, ATSM_ERR_INPUT, "snapshot: a process phase '%s' without "
		    "its resume and job (resume %lld, job %lld)", ps->phase, ps->resume_id,
		    ps->job_id);
	if (ps->resume_id == 0) {
		struct atsm_dir_phase_set real;
		long long resume;

		/* PostgreSQL's resume once one holds the address, else the one
		 * in the making (if it is still there) */
		if ((rc = atsm_snap_addr_resume(w->txn, w->s, ps->resume_addr, &resume, err)) < 0)
			return -1;
		if (rc == 0) {
			atsm_snap_key_new_resume(&k, ps->resume_addr);
			ATSM_SNAP_GET(rc, w, ATSM_SNAP_RECORD, &k, &v, err);
			return rc == 1 ? apply_new_process_phase(w, ps, seq, err) : 0;
		}
		real = *ps;
		real.resume_id = resume;
		real.resume_addr = NULL;
		return apply_process_phase(w, &real, seq, err);
	}
	atsm_snap_key_proc(&k, ps->resume_id, ps->job_id);
	ATSM_SNAP_GET(rc, w, ATSM_SNAP_PROC, &k, &v, err);
	if (rc == 1) {
		long long old;

		if (atsm_snap_dec_proc(&v, &old, phase) < 0)
			return atsm_snap_err_corrupt_k(err, ATSM_SNAP_PROC, &k);
		if (old != 0)
			id = old;
	}
	atsm_snap_enc_proc(&b, id, ps->phase);
	rc = atsm_snap_put(w, ATSM_SNAP_PROC, &k, &b, err);
	if (rc == 0 && id > 0) {
		struct atsm_snap_key ik;

		atsm_buf_reset(&b);
		atsm_snap_enc_pair(&b, ps->resume_id, ps->job_id);
		atsm_snap_key_id(&ik, (uint64_t)id);
		rc = atsm_snap_put(w, ATSM_SNAP_PROC_ID, &ik, &b, err);
	}
	atsm_buf_free(&b);
	if (rc < 0)
		return -1;
	atsm_snap_mark_proc(&mark, ps->resume_id, ps->job_id);
	return atsm_snap_mark(w, &mark, seq, err);
}

static int
apply_effects(struct atsm_snap_w *w, const struct atsm_dir_effects *e, unsigned long long seq,
    struct atsm_err *err)
{
	size_t i;

	/* first: the mail's own phase changes may be the new resume's */
	if (e->new_resume != NULL && apply_new_resume(w, e, seq, err) < 0)
		return -1;
	if (e->msgid != NULL && e->message != NULL && apply_message(w, e, seq, err) < 0)
		return -1;
	for (i = 0; i < e->n_phases; i++) {
		const struct atsm_dir_phase_set *ps = &e->phases[i];
		int rc;

		if (ps->phase[0] == '\0')
			return atsm_err_setc(err, ATSM_ERR_INPUT, "snapshot: phase set %zu of the "
			    "mail has no phase", i);
		switch (ps->kind) {
		case ATSM_RECORD_RESUME:
		case ATSM_RECORD_CONTACT:
			rc = apply_record_phase(w, ps, seq, err);
			break;
		case ATSM_RECORD_PROCESS:
			rc = apply_process_phase(w, ps, seq, err);
			break;
		default:
			return atsm_err_setc(err, ATSM_ERR_INPUT, "snapshot: phase set %zu of the "
			    "mail is for a %s, which has no phase", i,
			    atsm_record_kind_name(ps->kind));
		}
		if (rc < 0)
			return -1;
	}
	if (e->intake_sender != NULL && e->intake_sender[0] != '\0' &&
	    atsm_snap_intake_put(w, e->intake_sender, e->at, 'l', seq, err) < 0)
		return -1;
	return 0;
}

int
atsm_snapshot_apply(struct atsm_snapshot *s, const struct atsm_dir_effects *e,
    unsigned long long seq, struct atsm_err *err)
{
	struct atsm_snap_w w;

	if (atsm_snap_w_begin(s, &w, __atomic_load_n(&s->recorded, __ATOMIC_ACQUIRE), err) < 0)
		return -1;
	if (apply_effects(&w, e, seq, err) < 0) {
		atsm_snap_w_abort(&w);
		return atsm_err_prefix(err, "snapshot: effects of journal entry %llu", seq);
	}
	return atsm_snap_w_commit(&w, err);
}
