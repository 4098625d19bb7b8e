/* store/snapshot-view.c -- the directory operations (store/directory.h)
 * over one LMDB read transaction: a consistent picture of the snapshot
 * for one decision, however long it takes and whatever the follower
 * writes meanwhile.
 *
 * Each operation is one or two B-tree lookups, or a cursor over one short
 * key range (the records of one address, the processes of one resume, the
 * phases of one kind, the rules of one kind and event, the intake entries
 * of one sender since a time), so its cost does not grow with the number
 * of resumes.  Values are decoded with their bounds checked: a damaged
 * one is an error naming its database and key.
 */
#include "store/snapshot-int.h"

#include <stdlib.h>
#include <string.h>

struct atsm_snapshot_view {
	struct atsm_snapshot *s;
	MDB_txn *txn;
};

/* 1 found, 0 not, -1 error. */
static int
vget(struct atsm_snapshot_view *v, enum atsm_snap_db db, const struct atsm_snap_key *k,
    MDB_val *val, struct atsm_err *err)
{
	return atsm_snap_get(v->txn, v->s, db, k, val, err);
}

static int
corrupt(struct atsm_err *err, enum atsm_snap_db db, const struct atsm_snap_key *k)
{
	return atsm_snap_err_corrupt_k(err, db, k);
}

/* An index entry's number: 1, 0, -1. */
static int
vindex(struct atsm_snapshot_view *v, enum atsm_snap_db db, const struct atsm_snap_key *k,
    uint64_t *x, struct atsm_err *err)
{
	MDB_val val;
	int rc = vget(v, db, k, &val, err);

	if (rc == 1 && atsm_snap_dec_u64(&val, x) < 0)
		return corrupt(err, db, k);
	return rc;
}

/* A cursor on db at the first key >= k: 1 positioned, 0 none, -1. */
static int
seek(struct atsm_snapshot_view *v, enum atsm_snap_db db, const struct atsm_snap_key *k,
    MDB_cursor **c, MDB_val *key, MDB_val *val, struct atsm_err *err)
{
	int rc;

	if ((rc = mdb_cursor_open(v->txn, v->s->dbi[db], c)) != 0)
		return atsm_snap_err_mdb(err, rc, "read", db, NULL);
	*key = atsm_snap_key_val(k);
	rc = mdb_cursor_get(*c, key, val, MDB_SET_RANGE);
	if (rc == 0)
		return 1;
	if (rc == MDB_NOTFOUND)
		return 0;
	mdb_cursor_close(*c);
	*c = NULL;
	return atsm_snap_err_mdb(err, rc, "read", db, NULL);
}

static int
next(MDB_cursor *c, MDB_val *key, MDB_val *val, enum atsm_snap_db db, struct atsm_err *err)
{
	int rc = mdb_cursor_get(c, key, val, MDB_NEXT);

	if (rc == 0)
		return 1;
	if (rc == MDB_NOTFOUND)
		return 0;
	return atsm_snap_err_mdb(err, rc, "read", db, NULL);
}

static bool
has_prefix(const MDB_val *key, const struct atsm_snap_key *prefix)
{
	return key->mv_size >= prefix->n && memcmp(key->mv_data, prefix->b, prefix->n) == 0;
}

/* ------------------------------------------------------------------ users */

static int
user_by_id(struct atsm_snapshot_view *v, uint64_t id, struct atsm_dir_user *out,
    struct atsm_err *err)
{
	struct atsm_snap_key k;
	MDB_val val;
	int rc;

	atsm_snap_key_id(&k, id);
	if ((rc = vget(v, ATSM_SNAP_USER, &k, &val, err)) <= 0)
		return rc;
	if (atsm_snap_dec_user(&val, out) < 0)
		return corrupt(err, ATSM_SNAP_USER, &k);
	return 1;
}

static int
op_user_by_login(void *ctx, const char *login, struct atsm_dir_user *out, struct atsm_err *err)
{
	struct atsm_snapshot_view *v = ctx;
	struct atsm_snap_key k;
	uint64_t id;
	int rc;

	atsm_snap_key_login(&k, login);
	if ((rc = vindex(v, ATSM_SNAP_LOGIN, &k, &id, err)) <= 0)
		return rc;
	if ((rc = user_by_id(v, id, out, err)) <= 0)
		return rc;
	return strcmp(out->login, login) == 0 ? 1 : 0;
}

/* The owners of kind ('u', 'c', 'r') of addr, in id order, through fn. */
static int
addr_owners(struct atsm_snapshot_view *v, const char *addr, int kind,
    int (*fn)(struct atsm_snapshot_view *, int, long long, void *, struct atsm_err *),
    void *arg, struct atsm_err *err)
{
	struct atsm_snap_key prefix;
	MDB_cursor *c = NULL;
	MDB_val key, val;
	int rc;

	atsm_snap_key_reset(&prefix);
	atsm_snap_key_text(&prefix, addr);
	atsm_snap_key_u8(&prefix, 0);
	if (kind != 0)
		atsm_snap_key_u8(&prefix, (unsigned)kind);
	if (prefix.bad)
		return 0;
	for (rc = seek(v, ATSM_SNAP_ADDR, &prefix, &c, &key, &val, err); rc == 1;
	    rc = next(c, &key, &val, ATSM_SNAP_ADDR, err)) {
		const unsigned char *p = key.mv_data;
		size_t base;

		if (!has_prefix(&key, &prefix))
			break;
		base = prefix.n - (kind != 0 ? 1 : 0);
		if (key.mv_size != base + 9) {
			atsm_snap_err_corrupt(err, ATSM_SNAP_ADDR, &key);
			rc = -1;
			break;
		}
		if ((rc = fn(v, p[base], (long long)atsm_snap_get_u64(p + base + 1), arg, err)) != 1)
			break;
	}
	if (c != NULL)
		mdb_cursor_close(c);
	return rc < 0 ? -1 : 0;
}

struct user_find {
	struct atsm_dir_user *out;
	int found;
};

static int
user_found(struct atsm_snapshot_view *v, int kind, long long id, void *arg,
    struct atsm_err *err)
{
	struct user_find *f = arg;
	int rc;

	if ((rc = user_by_id(v, (uint64_t)id, f->out, err)) < 0)
		return -1;
	f->found = rc;
	return rc == 1 ? 0 : 1;      /* stop at the first user that exists */
}

static int
op_user_by_addr(void *ctx, const char *addr, struct atsm_dir_user *out, struct atsm_err *err)
{
	struct user_find f = { out, 0 };

	if (addr_owners(ctx, addr, 'u', user_found, &f, err) < 0)
		return -1;
	return f.found;
}

/* ---------------------------------------------------------------- records */

static int
record_get(struct atsm_snapshot_view *v, int kind, long long id, struct atsm_dir_record *out,
    struct atsm_err *err)
{
	struct atsm_snap_key k;
	MDB_val val;
	int rc;

	atsm_snap_key_record(&k, kind, id);
	if ((rc = vget(v, ATSM_SNAP_RECORD, &k, &val, err)) <= 0)
		return rc;
	if (atsm_snap_dec_record(&val, out) < 0)
		return corrupt(err, ATSM_SNAP_RECORD, &k);
	out->kind = atsm_snap_kind_of_char(kind);
	out->id = id;
	return 1;
}

struct rec_list {
	struct atsm_dir_record *out;
	size_t max, *n;
	int want;                  /* the kind this pass fills */
	bool contacts;             /* the first pass went past contacts */
};

static int
record_found(struct atsm_snapshot_view *v, int kind, long long id, void *arg,
    struct atsm_err *err)
{
	struct rec_list *l = arg;
	int rc;

	if (kind == 'c' && l->want == 'r') {
		l->contacts = true;
		return 1;
	}
	if (kind != l->want || *l->n >= l->max)
		return 0;
	/* an address whose record is gone (deleted, not yet seen) is skipped */
	if ((rc = record_get(v, kind, id, &l->out[*l->n], err)) < 0)
		return -1;
	*l->n += (size_t)rc;
	return 1;
}

/* The resume that intake mail from addr is making (id 0): 1, 0, -1. */
static int
new_resume_get(struct atsm_snapshot_view *v, const char *addr, struct atsm_dir_record *out,
    struct atsm_err *err)
{
	struct atsm_snap_key k;
	MDB_val val;
	int rc;

	atsm_snap_key_new_resume(&k, addr);
	if ((rc = vget(v, ATSM_SNAP_RECORD, &k, &val, err)) <= 0)
		return rc;
	if (atsm_snap_dec_record(&val, out) < 0)
		return corrupt(err, ATSM_SNAP_RECORD, &k);
	out->kind = ATSM_RECORD_RESUME;
	out->id = 0;
	return 1;
}

static int
op_records_by_addr(void *ctx, const char *addr, struct atsm_dir_record *out, size_t max,
    size_t *n, struct atsm_err *err)
{
	struct rec_list l = { out, max, n, 'r', false };
	int rc;

	/* resumes, then contacts, each by id: the order of the SQL it
	 * replaces (owner_kind DESC, owner_id).  Keys sort contacts ('c')
	 * first: one pass over the address takes the resumes and notes
	 * whether there are contacts, a second is needed only then. */
	*n = 0;
	if (addr_owners(ctx, addr, 0, record_found, &l, err) < 0)
		return -1;
	/* no recorded resume: the one intake mail is making, if any (id 0
	 * sorts first among resumes) */
	if (*n == 0 && max > 0) {
		if ((rc = new_resume_get(ctx, addr, &out[0], err)) < 0)
			return -1;
		*n = (size_t)rc;
	}
	l.want = 'c';
	if (l.contacts && *n < max && addr_owners(ctx, addr, 'c', record_found, &l, err) < 0)
		return -1;
	return *n > 0 ? 1 : 0;
}

static int
op_record(void *ctx, enum atsm_record_kind kind, long long id, struct atsm_dir_record *out,
    struct atsm_err *err)
{
	if (kind != ATSM_RECORD_RESUME && kind != ATSM_RECORD_CONTACT)
		return 0;
	return record_get(ctx, atsm_snap_kind_char(kind), id, out, err);
}

static int
job_open(struct atsm_snapshot_view *v, long long id, bool *open, struct atsm_err *err)
{
	struct atsm_snap_key k;
	MDB_val val;
	int rc;

	*open = false;
	atsm_snap_key_id(&k, (uint64_t)id);
	if ((rc = vget(v, ATSM_SNAP_JOB, &k, &val, err)) <= 0)
		return rc;
	if (atsm_snap_dec_flag(&val, open) < 0)
		return corrupt(err, ATSM_SNAP_JOB, &k);
	return 1;
}

static int
op_job(void *ctx, long long id, struct atsm_dir_job *out, struct atsm_err *err)
{
	int rc = job_open(ctx, id, &out->open, err);

	out->id = id;
	return rc;
}

/* -------------------------------------------------------------- processes */

static int
proc_fill(struct atsm_snapshot_view *v, long long resume, long long job, const MDB_val *val,
    const struct atsm_snap_key *k, struct atsm_dir_process *out, struct atsm_err *err)
{
	if (atsm_snap_dec_proc(val, &out->id, out->phase) < 0)
		return corrupt(err, ATSM_SNAP_PROC, k);
	out->resume_id = resume;
	out->job_id = job;
	return job_open(v, job, &out->job_open, err) < 0 ? -1 : 1;
}

static int
op_process(void *ctx, long long resume_id, long long job_id, struct atsm_dir_process *out,
    struct atsm_err *err)
{
	struct atsm_snapshot_view *v = ctx;
	struct atsm_snap_key k;
	MDB_val val;
	int rc;

	atsm_snap_key_proc(&k, resume_id, job_id);
	if ((rc = vget(v, ATSM_SNAP_PROC, &k, &val, err)) <= 0)
		return rc;
	return proc_fill(v, resume_id, job_id, &val, &k, out, err);
}

static int
op_process_by_id(void *ctx, long long id, struct atsm_dir_process *out, struct atsm_err *err)
{
	struct atsm_snapshot_view *v = ctx;
	struct atsm_snap_key k;
	long long resume, job;
	MDB_val val;
	int rc;

	atsm_snap_key_id(&k, (uint64_t)id);
	if ((rc = vget(v, ATSM_SNAP_PROC_ID, &k, &val, err)) <= 0)
		return rc;
	if (atsm_snap_dec_pair(&val, &resume, &job) < 0)
		return corrupt(err, ATSM_SNAP_PROC_ID, &k);
	return op_process(ctx, resume, job, out, err);
}

/* The processes whose keys are prefix and a job id (of resume_id). */
static int
processes_of(struct atsm_snapshot_view *v, const struct atsm_snap_key *prefix, long long resume_id,
    struct atsm_dir_process *out, size_t max, size_t *n, struct atsm_err *err)
{
	struct atsm_snap_key k;
	MDB_cursor *c = NULL;
	MDB_val key, val;
	int rc;

	*n = 0;
	if (prefix->bad)
		return 0;
	for (rc = seek(v, ATSM_SNAP_PROC, prefix, &c, &key, &val, err); rc == 1 && *n < max;
	    rc = next(c, &key, &val, ATSM_SNAP_PROC, err)) {
		if (!has_prefix(&key, prefix))
			break;
		atsm_snap_key_reset(&k);
		atsm_snap_key_raw(&k, key.mv_data, key.mv_size);
		if (key.mv_size != prefix->n + 8) {
			rc = corrupt(err, ATSM_SNAP_PROC, &k);
			break;
		}
		if ((rc = proc_fill(v, resume_id, (long long)atsm_snap_get_u64(
		    (const unsigned char *)key.mv_data + prefix->n), &val, &k, &out[*n], err)) < 0)
			break;
		(*n)++;
	}
	if (c != NULL)
		mdb_cursor_close(c);
	if (rc < 0)
		return -1;
	return *n > 0 ? 1 : 0;
}

static int
op_processes_of_resume(void *ctx, long long resume_id, struct atsm_dir_process *out, size_t max,
    size_t *n, struct atsm_err *err)
{
	struct atsm_snap_key prefix;

	*n = 0;
	if (resume_id <= 0)
		return 0;          /* resume 0 is one in the making: by its address */
	atsm_snap_key_reset(&prefix);
	atsm_snap_key_u64(&prefix, (uint64_t)resume_id);
	return processes_of(ctx, &prefix, resume_id, out, max, n, err);
}

static int
op_new_resume_processes(void *ctx, const char *addr, struct atsm_dir_process *out, size_t max,
    size_t *n, struct atsm_err *err)
{
	struct atsm_snap_key prefix;

	atsm_snap_key_new_procs(&prefix, addr);
	return processes_of(ctx, &prefix, 0, out, max, n, err);
}

static int
op_new_resume_process(void *ctx, const char *addr, long long job_id,
    struct atsm_dir_process *out, struct atsm_err *err)
{
	struct atsm_snapshot_view *v = ctx;
	struct atsm_snap_key k;
	MDB_val val;
	int rc;

	atsm_snap_key_new_proc(&k, addr, job_id);
	if ((rc = vget(v, ATSM_SNAP_PROC, &k, &val, err)) <= 0)
		return rc;
	return proc_fill(v, 0, job_id, &val, &k, out, err);
}

/* ----------------------------------------------------------- phases, rules */

static int
phase_kind(enum atsm_record_kind kind)
{
	return kind == ATSM_RECORD_RESUME || kind == ATSM_RECORD_CONTACT ||
	    kind == ATSM_RECORD_PROCESS ? atsm_snap_kind_char(kind) : 0;
}

static int
op_phase_active(void *ctx, enum atsm_record_kind kind, const char *code, struct atsm_err *err)
{
	struct atsm_snapshot_view *v = ctx;
	struct atsm_snap_key k;
	MDB_val val;
	bool active;
	int order, rc;

	if (phase_kind(kind) == 0 || strlen(code) >= ATSM_DIR_PHASE_MAX)
		return 0;
	atsm_snap_key_reset(&k);
	atsm_snap_key_u8(&k, (unsigned)phase_kind(kind));
	atsm_snap_key_raw(&k, code, strlen(code));
	if ((rc = vget(v, ATSM_SNAP_PHASE, &k, &val, err)) <= 0)
		return rc;
	if (atsm_snap_dec_phase(&val, &active, &order) < 0)
		return corrupt(err, ATSM_SNAP_PHASE, &k);
	return active ? 1 : 0;
}

static int
op_phase_first(void *ctx, enum atsm_record_kind kind, char out[ATSM_DIR_PHASE_MAX],
    struct atsm_err *err)
{
	struct atsm_snapshot_view *v = ctx;
	struct atsm_snap_key prefix, k;
	MDB_cursor *c = NULL;
	MDB_val key, val;
	int rc, order, best = 0, found = 0;
	bool active;

	out[0] = '\0';
	if (phase_kind(kind) == 0)
		return 0;
	atsm_snap_key_reset(&prefix);
	atsm_snap_key_u8(&prefix, (unsigned)phase_kind(kind));
	/* codes sort by byte, so the first of the lowest sort_order wins ties */
	for (rc = seek(v, ATSM_SNAP_PHASE, &prefix, &c, &key, &val, err); rc == 1;
	    rc = next(c, &key, &val, ATSM_SNAP_PHASE, err)) {
		if (!has_prefix(&key, &prefix))
			break;
		atsm_snap_key_reset(&k);
		atsm_snap_key_raw(&k, key.mv_data, key.mv_size);
		if (key.mv_size < 2 || key.mv_size > ATSM_DIR_PHASE_MAX ||
		    atsm_snap_dec_phase(&val, &active, &order) < 0) {
			rc = corrupt(err, ATSM_SNAP_PHASE, &k);
			break;
		}
		if (active && (!found || order < best)) {
			found = 1;
			best = order;
			memcpy(out, (const char *)key.mv_data + 1, key.mv_size - 1);
			out[key.mv_size - 1] = '\0';
		}
	}
	if (c != NULL)
		mdb_cursor_close(c);
	return rc < 0 ? -1 : found;
}

static int
event_char(const char *event)
{
	if (strcmp(event, "reply") == 0)
		return 'r';
	if (strcmp(event, "bounce") == 0)
		return 'b';
	if (strcmp(event, "sent") == 0)
		return 's';
	return 0;
}

static int
op_phase_rule(void *ctx, enum atsm_record_kind kind, const char *event, const char *from,
    struct atsm_dir_rule *out, struct atsm_err *err)
{
	struct atsm_snapshot_view *v = ctx;
	struct atsm_snap_key prefix, k;
	char rfrom[ATSM_DIR_PHASE_MAX];
	MDB_cursor *c = NULL;
	MDB_val key, val;
	int rc, found = 0;

	if (phase_kind(kind) == 0 || event_char(event) == 0)
		return 0;
	atsm_snap_key_reset(&prefix);
	atsm_snap_key_u8(&prefix, (unsigned)phase_kind(kind));
	atsm_snap_key_u8(&prefix, (unsigned)event_char(event));
	/* in key order: priority descending, a named from_phase before any,
	 * then id: the first that applies is the one that fires */
	for (rc = seek(v, ATSM_SNAP_RULE, &prefix, &c, &key, &val, err); rc == 1;
	    rc = next(c, &key, &val, ATSM_SNAP_RULE, err)) {
		if (!has_prefix(&key, &prefix))
			break;
		if (atsm_snap_dec_rule(&val, &out->id, rfrom, out->to_phase) < 0) {
			atsm_snap_key_reset(&k);
			atsm_snap_key_raw(&k, key.mv_data, key.mv_size);
			rc = corrupt(err, ATSM_SNAP_RULE, &k);
			break;
		}
		if (rfrom[0] == '\0' || (from != NULL && strcmp(rfrom, from) == 0)) {
			found = 1;
			break;
		}
	}
	if (c != NULL)
		mdb_cursor_close(c);
	return rc < 0 ? -1 : found;
}

/* ---------------------------------------------------------- policy tables */

static int
op_excluded_domain(void *ctx, const char *domain, struct atsm_err *err)
{
	struct atsm_snap_key k;
	MDB_val val;

	atsm_snap_key_reset(&k);
	atsm_snap_key_text(&k, domain);
	return vget(ctx, ATSM_SNAP_EXCL, &k, &val, err);
}

static int
op_intake_address(void *ctx, const char *addr, bool *unresolved, struct atsm_err *err)
{
	struct atsm_snap_key k;
	MDB_val val;
	int rc;

	*unresolved = false;
	atsm_snap_key_reset(&k);
	atsm_snap_key_text(&k, addr);
	if ((rc = vget(ctx, ATSM_SNAP_INTAKE_ADDR, &k, &val, err)) <= 0)
		return rc;
	if (atsm_snap_dec_flag(&val, unresolved) < 0)
		return corrupt(err, ATSM_SNAP_INTAKE_ADDR, &k);
	return 1;
}

#define INTAKE_COUNT_MAX 1000000u   /* far above any intake_max_per_hour */

static int
op_intake_count(void *ctx, const char *sender, long long since, unsigned *count,
    struct atsm_err *err)
{
	struct atsm_snapshot_view *v = ctx;
	struct atsm_snap_key prefix, from;
	MDB_cursor *c = NULL;
	MDB_val key, val;
	int rc;

	*count = 0;
	atsm_snap_key_reset(&prefix);
	atsm_snap_key_text(&prefix, sender);
	atsm_snap_key_u8(&prefix, 0);
	if (prefix.bad)
		return 1;
	from = prefix;
	atsm_snap_key_u64(&from, (uint64_t)(since > 0 ? since : 0));
	for (rc = seek(v, ATSM_SNAP_INTAKE, &from, &c, &key, &val, err);
	    rc == 1 && *count < INTAKE_COUNT_MAX; rc = next(c, &key, &val, ATSM_SNAP_INTAKE, err)) {
		if (!has_prefix(&key, &prefix))
			break;
		(*count)++;
	}
	if (c != NULL)
		mdb_cursor_close(c);
	return rc < 0 ? -1 : 1;
}

/* --------------------------------------------------------------- messages */

static int
message_get(struct atsm_snapshot_view *v, uint64_t handle, const char *msgid, bool in,
    struct atsm_arena *a, struct atsm_dir_message *out, struct atsm_err *err)
{
	struct atsm_snap_key k, tk;
	struct atsm_snap_msg_ids ids;
	MDB_val val;
	uint64_t th;
	int rc;

	atsm_snap_key_id(&k, handle);
	if ((rc = vget(v, ATSM_SNAP_MSG, &k, &val, err)) <= 0)
		return rc;
	if (atsm_snap_dec_msg_ids(&val, &ids) < 0)
		return corrupt(err, ATSM_SNAP_MSG, &k);
	/* a hashed index key is confirmed by the text itself */
	if (msgid != NULL && (ids.in != in || ids.msgid_len != strlen(msgid) ||
	    memcmp(ids.msgid, msgid, ids.msgid_len) != 0))
		return 0;
	rc = atsm_snap_dec_msg(&val, a, out);
	if (rc == -2)
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "snapshot: no room in the mail's arena "
		    "for the links and participants of message %s%llu",
		    (handle & ATSM_SNAP_LOCAL_BIT) != 0 ? "(local) " : "",
		    (unsigned long long)(handle & ~ATSM_SNAP_LOCAL_BIT));
	if (rc < 0)
		return corrupt(err, ATSM_SNAP_MSG, &k);
	/* a thread named by key whose first message has been recorded since */
	if (out->thread.id == 0 && out->thread.key[0] != '\0') {
		atsm_snap_key_str(&tk, out->thread.key, strlen(out->thread.key));
		if ((rc = vindex(v, ATSM_SNAP_MSG_KEY, &tk, &th, err)) < 0)
			return -1;
		if (rc == 1 && (th & ATSM_SNAP_LOCAL_BIT) == 0)
			out->thread.id = (long long)th;
	}
	return 1;
}

static int
op_message_by_msgid(void *ctx, const char *msgid, enum atsm_dir_direction dir,
    struct atsm_arena *a, struct atsm_dir_message *out, struct atsm_err *err)
{
	struct atsm_snap_key k;
	uint64_t h;
	int rc;

	atsm_snap_key_mid(&k, msgid, strlen(msgid), dir == ATSM_DIR_IN);
	if ((rc = vindex(ctx, ATSM_SNAP_MSG_MID, &k, &h, err)) <= 0)
		return rc;
	return message_get(ctx, h, msgid, dir == ATSM_DIR_IN, a, out, err);
}

static int
op_message_by_token(void *ctx, const char *token, struct atsm_arena *a,
    struct atsm_dir_message *out, struct atsm_err *err)
{
	struct atsm_snap_key k;
	uint64_t h;
	int rc;

	atsm_snap_key_str(&k, token, strlen(token));
	if ((rc = vindex(ctx, ATSM_SNAP_MSG_TOK, &k, &h, err)) <= 0)
		return rc;
	if ((rc = message_get(ctx, h, NULL, false, a, out, err)) <= 0)
		return rc;
	return strcmp(out->token, token) == 0 ? 1 : 0;
}

static const struct atsm_dir_ops view_ops = {
	.user_by_login = op_user_by_login,
	.user_by_addr = op_user_by_addr,
	.records_by_addr = op_records_by_addr,
	.record = op_record,
	.job = op_job,
	.process = op_process,
	.process_by_id = op_process_by_id,
	.processes_of_resume = op_processes_of_resume,
	.new_resume_process = op_new_resume_process,
	.new_resume_processes = op_new_resume_processes,
	.phase_active = op_phase_active,
	.phase_first = op_phase_first,
	.phase_rule = op_phase_rule,
	.excluded_domain = op_excluded_domain,
	.intake_address = op_intake_address,
	.intake_count = op_intake_count,
	.message_by_msgid = op_message_by_msgid,
	.message_by_token = op_message_by_token,
};

int
atsm_snapshot_view_begin(struct atsm_snapshot *s, struct atsm_snapshot_view **vp,
    struct atsm_dir *dir, struct atsm_err *err)
{
	struct atsm_snapshot_view *v;
	int rc;

	*vp = NULL;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "snapshot: out of memory for a view");
	v->s = s;
	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &v->txn)) != 0) {
		free(v);
		/* MDB_READERS_FULL: more views at once than snapshot readers */
		return atsm_err_setc(err, rc == MDB_READERS_FULL ? ATSM_ERR_UNAVAILABLE : ATSM_ERR_IO,
		    "snapshot %s: cannot begin a view: %s", s->dir, mdb_strerror(rc));
	}
	dir->ops = &view_ops;
	dir->ctx = v;
	*vp = v;
	return 0;
}

void
atsm_snapshot_view_end(struct atsm_snapshot_view *v)
{
	if (v == NULL)
		return;
	mdb_txn_abort(v->txn);
	free(v);
}
