/* test-snapshot-intake.c -- the resume that intake mail is making, in the
 * LMDB snapshot (store/directory.h "A resume in the making",
 * docs/snapshot.md): applied from the intake mail's effects, answered by
 * records_by_addr as a resume of id 0, its phase and processes set by later
 * mails, hidden once PostgreSQL's resume holds the address (which takes
 * what mails not yet recorded did to it), and swept once the recorder is
 * past it.  No server: rows are written the way a sync
 * writes them (tests/unit/snapshot-fixture.h).
 */
#include "snapshot-fixture.h"

#include <stdio.h>
#include <string.h>

#define NEWCOMER "kenji@applicant.test"

/* The effects of the newcomer's intake mail n, of owner's mailbox. */
static void
intake_effects(struct atsm_dir_effects *e, struct atsm_dir_message *m, struct atsm_dir_link *l,
    int n, long long owner)
{
	static char msgid[64];
	static const char *parts[1] = { NEWCOMER };

	memset(e, 0, sizeof(*e));
	memset(m, 0, sizeof(*m));
	memset(l, 0, sizeof(*l));
	snprintf(msgid, sizeof(msgid), "intake-%d@applicant.test", n);
	snprintf(m->ref.key, sizeof(m->ref.key), "key-intake-%d", n);
	m->direction = ATSM_DIR_IN;
	m->visibility = ATSM_VIS_SHARED;
	l->kind = ATSM_RECORD_RESUME;
	l->resume_addr = NEWCOMER;
	m->links = l;
	m->n_links = 1;
	m->participants = parts;
	m->n_participants = 1;
	e->msgid = msgid;
	e->message = m;
	e->intake_sender = NEWCOMER;
	e->new_resume = NEWCOMER;
	e->new_resume_owner = owner;
	e->at = (long long)time(NULL);
}

/* The effects of a later mail: phase sets only. */
static void
phase_effects(struct atsm_dir_effects *e, struct atsm_dir_phase_set *ps, size_t n)
{
	memset(e, 0, sizeof(*e));
	e->phases = ps;
	e->n_phases = n;
	e->at = (long long)time(NULL);
}

/* Is the resume in the making of addr stored (record and mark)? */
static int
stored(const char *addr)
{
	struct atsm_snap_key k;
	MDB_val v;
	int rec, mark;

	wbegin(0);
	atsm_snap_key_new_resume(&k, addr);
	rec = atsm_snap_get(w.txn, snap, ATSM_SNAP_RECORD, &k, &v, &err);
	mark = atsm_snap_get(w.txn, snap, ATSM_SNAP_PENDING, &k, &v, &err);
	atsm_snap_w_abort(&w);
	ck_assert_msg(rec >= 0 && mark >= 0, "%s", err.msg);
	ck_assert_int_eq(rec, mark);
	return rec;
}

START_TEST(test_intake_makes_a_resume_in_the_making)
{
	struct atsm_dir_effects e;
	struct atsm_dir_message m, got;
	struct atsm_dir_link l;
	struct atsm_dir_record r[4];
	size_t n;

	fill();
	intake_effects(&e, &m, &l, 1, 1);
	OK(atsm_snapshot_apply(snap, &e, 100, &err));
	vbegin();
	FOUND(d.ops->records_by_addr(d.ctx, NEWCOMER, r, 4, &n, &err));
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(r[0].kind, ATSM_RECORD_RESUME);
	ck_assert_int_eq(r[0].id, 0);
	ck_assert_str_eq(r[0].phase, ATSM_DIR_NEW_RESUME_PHASE);
	ck_assert(!r[0].shared);   /* resumes.shared defaults to false (sql/013) */
	ck_assert_int_eq(r[0].owner_id, 1);
	/* it has no id to be asked by */
	NOTFOUND(d.ops->record(d.ctx, ATSM_RECORD_RESUME, 0, &r[1], &err));
	NOTFOUND(d.ops->records_by_addr(d.ctx, "someone@applicant.test", r, 4, &n, &err));
	/* the intake message is linked to it, by its address */
	FOUND(d.ops->message_by_msgid(d.ctx, "intake-1@applicant.test", ATSM_DIR_IN, &arena, &got,
	    &err));
	ck_assert_uint_eq(got.n_links, 1);
	ck_assert_int_eq(got.links[0].kind, ATSM_RECORD_RESUME);
	ck_assert_int_eq(got.links[0].id, 0);
	ck_assert_str_eq(got.links[0].resume_addr, NEWCOMER);
	/* other addresses answer as before: resumes, then contacts */
	FOUND(d.ops->records_by_addr(d.ctx, "family@candidate.test", r, 4, &n, &err));
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(r[0].id, 1004);
	vend();
	/* a second intake mail of theirs (decided before the first was
	 * applied) keeps the one made: its phase and owner */
	intake_effects(&e, &m, &l, 2, 3);
	OK(atsm_snapshot_apply(snap, &e, 101, &err));
	vbegin();
	FOUND(d.ops->records_by_addr(d.ctx, NEWCOMER, r, 4, &n, &err));
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(r[0].owner_id, 1);
	vend();
	/* intake mail from an address a recorded resume holds makes nothing */
	e.new_resume = "taro@candidate.test";
	OK(atsm_snapshot_apply(snap, &e, 102, &err));
	ck_assert_int_eq(stored("taro@candidate.test"), 0);
	vbegin();
	FOUND(d.ops->records_by_addr(d.ctx, "taro@candidate.test", r, 4, &n, &err));
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(r[0].id, 1001);
	vend();
}
END_TEST

START_TEST(test_later_mails_set_its_phase_and_processes)
{
	struct atsm_dir_phase_set ps[2] = {
		{ ATSM_RECORD_RESUME, 0, 0, 0, "active", NEWCOMER },
		{ ATSM_RECORD_PROCESS, 0, 0, 3001, "entry", NEWCOMER },
	};
	struct atsm_dir_phase_set bad = { ATSM_RECORD_RESUME, 0, 0, 0, "active", NULL };
	struct atsm_dir_effects e;
	struct atsm_dir_message m;
	struct atsm_dir_link l;
	struct atsm_dir_record r;
	struct atsm_dir_process p[4];
	size_t n;

	fill();
	intake_effects(&e, &m, &l, 1, 0);
	OK(atsm_snapshot_apply(snap, &e, 100, &err));
	phase_effects(&e, ps, 2);
	OK(atsm_snapshot_apply(snap, &e, 101, &err));
	vbegin();
	FOUND(d.ops->records_by_addr(d.ctx, NEWCOMER, &r, 1, &n, &err));
	ck_assert_str_eq(r.phase, "active");
	FOUND(d.ops->new_resume_process(d.ctx, NEWCOMER, 3001, &p[0], &err));
	ck_assert_int_eq(p[0].id, 0);
	ck_assert_int_eq(p[0].resume_id, 0);
	ck_assert_int_eq(p[0].job_id, 3001);
	ck_assert_str_eq(p[0].phase, "entry");
	ck_assert(p[0].job_open);
	NOTFOUND(d.ops->new_resume_process(d.ctx, NEWCOMER, 3002, &p[0], &err));
	NOTFOUND(d.ops->new_resume_process(d.ctx, "someone@applicant.test", 3001, &p[0], &err));
	FOUND(d.ops->new_resume_processes(d.ctx, NEWCOMER, p, 4, &n, &err));
	ck_assert_uint_eq(n, 1);
	/* resume 0 has no processes by id: they are asked by address */
	NOTFOUND(d.ops->processes_of_resume(d.ctx, 0, p, 4, &n, &err));
	/* the processes of recorded resumes are as they were */
	FOUND(d.ops->processes_of_resume(d.ctx, 1002, p, 4, &n, &err));
	ck_assert_uint_eq(n, 2);
	vend();
	/* a phase of resume 0 needs its address */
	phase_effects(&e, &bad, 1);
	ck_assert_int_eq(atsm_snapshot_apply(snap, &e, 102, &err), -1);
	ck_assert_int_eq(err.cls, ATSM_ERR_INPUT);
}
END_TEST

/* PostgreSQL's resume arrives (the recorder recorded the intake mail): it
 * wins at once, and takes what later mails not yet recorded did to the one
 * in the making (its phase, its processes), pending at their seqs; the one
 * in the making is swept once the recorder is past every mail that
 * changed it. */
START_TEST(test_superseded_by_the_recorded_resume_then_swept)
{
	struct atsm_dir_phase_set ps[2] = {
		{ ATSM_RECORD_RESUME, 0, 0, 0, "active", NEWCOMER },
		{ ATSM_RECORD_PROCESS, 0, 0, 3001, "entry", NEWCOMER },
	};
	struct atsm_dir_effects e;
	struct atsm_dir_message m;
	struct atsm_dir_link l;
	struct atsm_dir_record r[4];
	struct atsm_dir_process p[4];
	size_t n;

	fill();
	intake_effects(&e, &m, &l, 1, 0);
	OK(atsm_snapshot_apply(snap, &e, 200, &err));
	phase_effects(&e, ps, 2);
	OK(atsm_snapshot_apply(snap, &e, 201, &err));
	/* the recorder is past the intake mail (200), not the second (201):
	 * the follower reads the resume it made and its address */
	atsm_snapshot_recorded(snap, 200);
	wbegin(200);
	OK(atsm_snap_record_put(&w, 'r', 10001, true, 0, "new", &err));
	OK(atsm_snap_addr_put(&w, 20001, 'r', 10001, NEWCOMER, &err));
	OK(atsm_snap_pending_sweep(&w, false, &err));
	wcommit();
	vbegin();
	FOUND(d.ops->records_by_addr(d.ctx, NEWCOMER, r, 4, &n, &err));
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(r[0].id, 10001);       /* never the one in the making beside it */
	ck_assert_str_eq(r[0].phase, "active"); /* what 201 did, as PostgreSQL will */
	FOUND(d.ops->processes_of_resume(d.ctx, 10001, p, 4, &n, &err));
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(p[0].job_id, 3001);
	ck_assert_int_eq(p[0].id, 0);
	ck_assert_str_eq(p[0].phase, "entry");
	vend();
	ck_assert_int_eq(stored(NEWCOMER), 1);  /* a later mail changed it: kept */
	/* read again before 201 is recorded: the pending phase stays */
	wbegin(200);
	OK(atsm_snap_record_put(&w, 'r', 10001, true, 0, "new", &err));
	OK(atsm_snap_addr_put(&w, 20001, 'r', 10001, NEWCOMER, &err));
	wcommit();
	vbegin();
	FOUND(d.ops->record(d.ctx, ATSM_RECORD_RESUME, 10001, &r[0], &err));
	ck_assert_str_eq(r[0].phase, "active");
	vend();
	/* a phase decided on the one in the making, applied now: the resume's */
	snprintf(ps[0].phase, sizeof(ps[0].phase), "placed");
	phase_effects(&e, ps, 1);
	OK(atsm_snapshot_apply(snap, &e, 202, &err));
	vbegin();
	FOUND(d.ops->record(d.ctx, ATSM_RECORD_RESUME, 10001, &r[0], &err));
	ck_assert_str_eq(r[0].phase, "placed");
	vend();
	/* the recorder is past all of them: swept; PostgreSQL's rows rule */
	atsm_snapshot_recorded(snap, 202);
	wbegin(202);
	OK(atsm_snap_record_put(&w, 'r', 10001, true, 0, "placed", &err));
	OK(atsm_snap_addr_put(&w, 20001, 'r', 10001, NEWCOMER, &err));
	OK(atsm_snap_pending_sweep(&w, false, &err));
	wcommit();
	ck_assert_int_eq(stored(NEWCOMER), 0);
	vbegin();
	FOUND(d.ops->records_by_addr(d.ctx, NEWCOMER, r, 4, &n, &err));
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(r[0].id, 10001);
	ck_assert_str_eq(r[0].phase, "placed");
	vend();
}
END_TEST

/* Another resume that holds the address by a lower id is the one: a
 * resume read later with the address takes nothing. */
START_TEST(test_only_the_lowest_resume_of_the_address_takes_over)
{
	struct atsm_dir_phase_set ps[1] = { { ATSM_RECORD_RESUME, 0, 0, 0, "active", NEWCOMER } };
	struct atsm_dir_effects e;
	struct atsm_dir_message m;
	struct atsm_dir_link l;
	struct atsm_dir_record r;

	fill();
	intake_effects(&e, &m, &l, 1, 0);
	OK(atsm_snapshot_apply(snap, &e, 200, &err));
	phase_effects(&e, ps, 1);
	OK(atsm_snapshot_apply(snap, &e, 201, &err));
	wbegin(200);
	OK(atsm_snap_record_put(&w, 'r', 10005, true, 0, "new", &err));
	OK(atsm_snap_addr_put(&w, 20005, 'r', 10005, NEWCOMER, &err));
	OK(atsm_snap_record_put(&w, 'r', 10006, true, 0, "new", &err));
	OK(atsm_snap_addr_put(&w, 20006, 'r', 10006, NEWCOMER, &err));
	wcommit();
	vbegin();
	FOUND(d.ops->record(d.ctx, ATSM_RECORD_RESUME, 10005, &r, &err));
	ck_assert_str_eq(r.phase, "active");
	FOUND(d.ops->record(d.ctx, ATSM_RECORD_RESUME, 10006, &r, &err));
	ck_assert_str_eq(r.phase, "new");
	vend();
}
END_TEST

/* The recorder is past the intake mail, yet no resume arrived (its entry
 * was set aside): kept by the sweep of a notification, dropped by the
 * sweep of a full resync. */
START_TEST(test_never_recorded_goes_at_a_full_resync)
{
	struct atsm_dir_phase_set ps[1] = { { ATSM_RECORD_PROCESS, 0, 0, 3001, "entry", NEWCOMER } };
	struct atsm_dir_effects e;
	struct atsm_dir_message m;
	struct atsm_dir_link l;
	struct atsm_dir_record r;
	struct atsm_dir_process p;
	size_t n;

	fill();
	intake_effects(&e, &m, &l, 1, 0);
	OK(atsm_snapshot_apply(snap, &e, 300, &err));
	phase_effects(&e, ps, 1);
	OK(atsm_snapshot_apply(snap, &e, 301, &err));
	atsm_snapshot_recorded(snap, 301);
	wbegin(301);
	OK(atsm_snap_pending_sweep(&w, false, &err));
	wcommit();
	ck_assert_int_eq(stored(NEWCOMER), 1);
	wbegin(301);
	OK(atsm_snap_pending_sweep(&w, true, &err));
	wcommit();
	ck_assert_int_eq(stored(NEWCOMER), 0);
	vbegin();
	NOTFOUND(d.ops->records_by_addr(d.ctx, NEWCOMER, &r, 1, &n, &err));
	NOTFOUND(d.ops->new_resume_process(d.ctx, NEWCOMER, 3001, &p, &err));
	vend();
}
END_TEST

/* A process of resume 0 decided before PostgreSQL's resume arrived and
 * applied after: it is that resume's process. */
START_TEST(test_process_of_a_resume_that_arrived_meanwhile)
{
	struct atsm_dir_phase_set ps[1] = { { ATSM_RECORD_PROCESS, 0, 0, 3003, "entry", NEWCOMER } };
	struct atsm_dir_effects e;
	struct atsm_dir_message m;
	struct atsm_dir_link l;
	struct atsm_dir_process p;

	fill();
	intake_effects(&e, &m, &l, 1, 0);
	OK(atsm_snapshot_apply(snap, &e, 400, &err));
	atsm_snapshot_recorded(snap, 400);
	wbegin(400);
	OK(atsm_snap_record_put(&w, 'r', 10002, true, 0, "new", &err));
	OK(atsm_snap_addr_put(&w, 20002, 'r', 10002, NEWCOMER, &err));
	OK(atsm_snap_pending_sweep(&w, false, &err));
	wcommit();
	ck_assert_int_eq(stored(NEWCOMER), 0);
	phase_effects(&e, ps, 1);
	OK(atsm_snapshot_apply(snap, &e, 401, &err));
	vbegin();
	FOUND(d.ops->process(d.ctx, 10002, 3003, &p, &err));
	ck_assert_int_eq(p.id, 0);
	ck_assert_str_eq(p.phase, "entry");
	NOTFOUND(d.ops->new_resume_process(d.ctx, NEWCOMER, 3003, &p, &err));
	vend();
}
END_TEST

/* Links naming a resume in the making keep their address through the
 * message value; a link with a bad address flag does not decode. */
START_TEST(test_link_addresses_in_message_values)
{
	struct atsm_dir_link links[3] = {
		{ ATSM_RECORD_RESUME, 0, 0, 0, true, NEWCOMER },
		{ ATSM_RECORD_PROCESS, 0, 0, 3001, false, NEWCOMER },
		{ ATSM_RECORD_RESUME, 1001, 0, 0, false, "ignored@applicant.test" },
	};
	struct atsm_dir_message m, got;
	struct atsm_arena a;
	struct atsm_buf b;
	MDB_val v;

	memset(&m, 0, sizeof(m));
	snprintf(m.ref.key, sizeof(m.ref.key), "k");
	m.links = links;
	m.n_links = 3;
	atsm_buf_init(&b, ATSM_SNAP_VALUE_MAX);
	atsm_snap_enc_msg(&b, &m, "x@y", true);
	v.mv_data = b.data;
	v.mv_size = b.len;
	atsm_arena_init(&a, 65536);
	ck_assert_int_eq(atsm_snap_dec_msg(&v, &a, &got), 0);
	ck_assert_uint_eq(got.n_links, 3);
	ck_assert_str_eq(got.links[0].resume_addr, NEWCOMER);
	ck_assert(got.links[0].ambiguous);
	ck_assert_str_eq(got.links[1].resume_addr, NEWCOMER);
	ck_assert_int_eq(got.links[1].job_id, 3001);
	ck_assert_ptr_null(got.links[2].resume_addr);   /* a recorded resume: no address */
	/* link flags past 3 are damage: format, flags, id, thread, key "k",
	 * thread key, token, Message-ID "x@y", count, then the first link's
	 * kind and flags */
	{
		size_t at = 1 + 1 + 8 + 8 + (2 + 1) + 2 + 2 + (2 + 3) + 2 + 1;

		ck_assert_uint_eq(((unsigned char *)b.data)[at], 3);
		((unsigned char *)b.data)[at] = 4;
		ck_assert_int_eq(atsm_snap_dec_msg(&v, &a, &got), -1);
	}
	atsm_arena_free(&a);
	atsm_buf_free(&b);
}
END_TEST

/* A message value ends with its owner (the APPEND check of the inbound
 * decision needs it); a value written before it was kept ends without it
 * and reads as owner 0, not known; anything more is damage. */
START_TEST(test_owner_in_message_values)
{
	const char *parts[1] = { "saburo@candidate.test" };
	struct atsm_dir_message m, got;
	struct atsm_arena a;
	struct atsm_buf b;
	MDB_val v;

	memset(&m, 0, sizeof(m));
	snprintf(m.ref.key, sizeof(m.ref.key), "k");
	m.visibility = ATSM_VIS_PRIVATE;
	m.owner_id = 3;
	m.participants = parts;
	m.n_participants = 1;
	atsm_buf_init(&b, ATSM_SNAP_VALUE_MAX);
	atsm_snap_enc_msg(&b, &m, "x@y", true);
	v.mv_data = b.data;
	v.mv_size = b.len;
	atsm_arena_init(&a, 65536);
	ck_assert_int_eq(atsm_snap_dec_msg(&v, &a, &got), 0);
	ck_assert_int_eq(got.owner_id, 3);
	ck_assert_uint_eq(got.n_participants, 1);
	v.mv_size = b.len - 8;                      /* an earlier release's value */
	ck_assert_int_eq(atsm_snap_dec_msg(&v, &a, &got), 0);
	ck_assert_int_eq(got.owner_id, 0);
	ck_assert_str_eq(got.participants[0], "saburo@candidate.test");
	v.mv_size = b.len - 3;                      /* a torn owner */
	ck_assert_int_eq(atsm_snap_dec_msg(&v, &a, &got), -1);
	atsm_arena_free(&a);
	atsm_buf_free(&b);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("snapshot-intake");
	TCase *tc = tcase_create("intake");

	(void)effects;          /* the fixture's; these tests make their own */

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_intake_makes_a_resume_in_the_making);
	tcase_add_test(tc, test_later_mails_set_its_phase_and_processes);
	tcase_add_test(tc, test_superseded_by_the_recorded_resume_then_swept);
	tcase_add_test(tc, test_only_the_lowest_resume_of_the_address_takes_over);
	tcase_add_test(tc, test_never_recorded_goes_at_a_full_resync);
	tcase_add_test(tc, test_process_of_a_resume_that_arrived_meanwhile);
	tcase_add_test(tc, test_link_addresses_in_message_values);
	tcase_add_test(tc, test_owner_in_message_values);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
