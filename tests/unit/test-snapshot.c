/* test-snapshot.c -- unit tests of the LMDB snapshot (lib/store/snapshot*.c)
 * without any server: each test opens a snapshot in its own mkdtemp
 * directory, writes rows the way a sync does (the private row writers of
 * store/snapshot-int.h, as the rows of PostgreSQL would), applies a mail's
 * effects, and reads everything back through the directory operations
 * (the fixture is tests/unit/snapshot-fixture.h).
 * The reading of PostgreSQL itself is tested by test-snapshot-sync.c
 * (tests/e2e/snapshot-sync.sh).
 */
#include "snapshot-fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

START_TEST(test_open_creates_private_dir_and_empty_views)
{
	struct atsm_snapshot_info info;
	struct atsm_dir_user u;
	struct atsm_dir_record rec[4];
	struct atsm_dir_message m;
	struct stat st;
	char phase[ATSM_DIR_PHASE_MAX];
	size_t n = 9;
	unsigned count = 9;
	bool unres;

	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	OK(atsm_snapshot_info(snap, &info, &err));
	ck_assert_int_eq(info.last_full_sync, 0);
	ck_assert_uint_eq(info.records, 0);
	vbegin();
	NOTFOUND(d.ops->user_by_login(d.ctx, "alice@atsmail.test", &u, &err));
	NOTFOUND(d.ops->records_by_addr(d.ctx, "taro@candidate.test", rec, 4, &n, &err));
	ck_assert_uint_eq(n, 0);
	NOTFOUND(d.ops->phase_first(d.ctx, ATSM_RECORD_RESUME, phase, &err));
	NOTFOUND(d.ops->intake_address(d.ctx, "recruit@atsmail.test", &unres, &err));
	ck_assert_int_eq(d.ops->intake_count(d.ctx, "x@y.test", 0, &count, &err), 1);
	ck_assert_uint_eq(count, 0);
	NOTFOUND(d.ops->message_by_msgid(d.ctx, "a@b", ATSM_DIR_OUT, &arena, &m, &err));
	vend();
}
END_TEST

START_TEST(test_users)
{
	struct atsm_dir_user u;

	fill();
	vbegin();
	FOUND(d.ops->user_by_login(d.ctx, "alice@atsmail.test", &u, &err));
	ck_assert_int_eq(u.id, 1);
	ck_assert_int_eq(u.sharing_mode, ATSM_SHARING_PUBLIC);
	ck_assert(u.active && u.default_share);
	ck_assert_str_eq(u.lang, "");                     /* the site's default */
	FOUND(d.ops->user_by_addr(d.ctx, "alice.sales@atsmail.test", &u, &err));
	ck_assert_str_eq(u.login, "alice@atsmail.test");
	FOUND(d.ops->user_by_addr(d.ctx, "carol@atsmail.test", &u, &err));
	ck_assert_int_eq(u.sharing_mode, ATSM_SHARING_PRIVATE);
	ck_assert_str_eq(u.lang, "ja");                   /* users.lang kept */
	FOUND(d.ops->user_by_login(d.ctx, "gone@atsmail.test", &u, &err));
	ck_assert(!u.active);
	NOTFOUND(d.ops->user_by_login(d.ctx, "nobody@atsmail.test", &u, &err));
	NOTFOUND(d.ops->user_by_addr(d.ctx, "taro@candidate.test", &u, &err));  /* a resume's */
	NOTFOUND(d.ops->user_by_addr(d.ctx, "alice@atsmail.tes", &u, &err));
	vend();
	/* a login changed: the old one no longer finds the user */
	wbegin(0);
	put_user(1, "alice2@atsmail.test", ATSM_SHARING_CUSTOM, true);
	wcommit();
	vbegin();
	NOTFOUND(d.ops->user_by_login(d.ctx, "alice@atsmail.test", &u, &err));
	FOUND(d.ops->user_by_login(d.ctx, "alice2@atsmail.test", &u, &err));
	ck_assert_int_eq(u.sharing_mode, ATSM_SHARING_CUSTOM);
	vend();
}
END_TEST

START_TEST(test_records_by_addr_and_record)
{
	struct atsm_dir_record r[8];
	size_t n;

	fill();
	vbegin();
	/* resumes first by id, then contacts by id (the old SQL's order) */
	FOUND(d.ops->records_by_addr(d.ctx, "family@candidate.test", r, 8, &n, &err));
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(r[0].kind, ATSM_RECORD_RESUME);
	ck_assert_int_eq(r[0].id, 1004);
	ck_assert_int_eq(r[1].id, 1005);
	ck_assert(!r[1].shared);
	ck_assert_str_eq(r[1].phase, "active");
	ck_assert_int_eq(r[2].kind, ATSM_RECORD_CONTACT);
	ck_assert_int_eq(r[2].id, 2001);
	/* bounded by max */
	FOUND(d.ops->records_by_addr(d.ctx, "family@candidate.test", r, 2, &n, &err));
	ck_assert_uint_eq(n, 2);
	FOUND(d.ops->records_by_addr(d.ctx, "hanako@candidate.test", r, 8, &n, &err));
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(r[0].owner_id, 1);
	/* a user's address is no record; an unknown one is nothing */
	NOTFOUND(d.ops->records_by_addr(d.ctx, "alice@atsmail.test", r, 8, &n, &err));
	ck_assert_uint_eq(n, 0);
	NOTFOUND(d.ops->records_by_addr(d.ctx, "family@candidate.tes", r, 8, &n, &err));
	FOUND(d.ops->record(d.ctx, ATSM_RECORD_CONTACT, 2001, &r[0], &err));
	ck_assert_int_eq(r[0].kind, ATSM_RECORD_CONTACT);
	NOTFOUND(d.ops->record(d.ctx, ATSM_RECORD_RESUME, 2001, &r[0], &err));
	NOTFOUND(d.ops->record(d.ctx, ATSM_RECORD_JOB, 3001, &r[0], &err));
	vend();
	/* an address moved to another owner, and one deleted */
	wbegin(0);
	OK(atsm_snap_addr_put(&w, 13, 'r', 1001, "family@candidate.test", &err));
	OK(atsm_snap_addr_del(&w, 14, &err));
	OK(atsm_snap_record_del(&w, 'r', 1005, &err));
	wcommit();
	vbegin();
	FOUND(d.ops->records_by_addr(d.ctx, "family@candidate.test", r, 8, &n, &err));
	/* 1005's address row remains, but its record is gone: skipped */
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(r[0].id, 1001);
	vend();
}
END_TEST

START_TEST(test_jobs_and_processes)
{
	struct atsm_dir_job j;
	struct atsm_dir_process p[4];
	size_t n;

	fill();
	vbegin();
	FOUND(d.ops->job(d.ctx, 3001, &j, &err));
	ck_assert(j.open);
	FOUND(d.ops->job(d.ctx, 3002, &j, &err));
	ck_assert(!j.open);
	NOTFOUND(d.ops->job(d.ctx, 3999, &j, &err));
	FOUND(d.ops->process(d.ctx, 1002, 3001, &p[0], &err));
	ck_assert_int_eq(p[0].id, 4001);
	ck_assert_str_eq(p[0].phase, "screening");
	ck_assert(p[0].job_open);
	NOTFOUND(d.ops->process(d.ctx, 1001, 3001, &p[0], &err));
	FOUND(d.ops->process_by_id(d.ctx, 4002, &p[0], &err));
	ck_assert_int_eq(p[0].resume_id, 1002);
	ck_assert_int_eq(p[0].job_id, 3002);
	ck_assert(!p[0].job_open);
	NOTFOUND(d.ops->process_by_id(d.ctx, 4999, &p[0], &err));
	FOUND(d.ops->processes_of_resume(d.ctx, 1002, p, 4, &n, &err));
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(p[0].job_id, 3001);
	ck_assert_int_eq(p[1].job_id, 3002);
	FOUND(d.ops->processes_of_resume(d.ctx, 1002, p, 1, &n, &err));
	ck_assert_uint_eq(n, 1);
	NOTFOUND(d.ops->processes_of_resume(d.ctx, 1001, p, 4, &n, &err));
	ck_assert_uint_eq(n, 0);
	vend();
	wbegin(0);
	OK(atsm_snap_proc_del(&w, 4002, &err));
	wcommit();
	vbegin();
	NOTFOUND(d.ops->process_by_id(d.ctx, 4002, &p[0], &err));
	NOTFOUND(d.ops->process(d.ctx, 1002, 3002, &p[0], &err));
	vend();
}
END_TEST

START_TEST(test_phases_and_rules)
{
	char code[ATSM_DIR_PHASE_MAX];
	struct atsm_dir_rule rule;

	fill();
	vbegin();
	FOUND(d.ops->phase_active(d.ctx, ATSM_RECORD_RESUME, "active", &err));
	NOTFOUND(d.ops->phase_active(d.ctx, ATSM_RECORD_RESUME, "placed", &err));  /* inactive */
	NOTFOUND(d.ops->phase_active(d.ctx, ATSM_RECORD_RESUME, "screening", &err));
	NOTFOUND(d.ops->phase_active(d.ctx, ATSM_RECORD_JOB, "new", &err));
	FOUND(d.ops->phase_first(d.ctx, ATSM_RECORD_RESUME, code, &err));
	ck_assert_str_eq(code, "new");               /* placed is lower but inactive */
	FOUND(d.ops->phase_first(d.ctx, ATSM_RECORD_PROCESS, code, &err));
	ck_assert_str_eq(code, "aardvark");
	NOTFOUND(d.ops->phase_first(d.ctx, ATSM_RECORD_CONTACT, code, &err));
	/* priority 5 "any" beats priority 0 "new" */
	FOUND(d.ops->phase_rule(d.ctx, ATSM_RECORD_RESUME, "reply", "new", &rule, &err));
	ck_assert_int_eq(rule.id, 9007);
	ck_assert_str_eq(rule.to_phase, "inactive");
	/* same priority: the one naming the phase before "any" */
	FOUND(d.ops->phase_rule(d.ctx, ATSM_RECORD_RESUME, "reply", "placed", &rule, &err));
	ck_assert_int_eq(rule.id, 9008);
	FOUND(d.ops->phase_rule(d.ctx, ATSM_RECORD_CONTACT, "reply", "whatever", &rule, &err));
	ck_assert_int_eq(rule.id, 9003);
	NOTFOUND(d.ops->phase_rule(d.ctx, ATSM_RECORD_CONTACT, "bounce", "new", &rule, &err));
	NOTFOUND(d.ops->phase_rule(d.ctx, ATSM_RECORD_PROCESS, "reply", "screening", &rule, &err));
	NOTFOUND(d.ops->phase_rule(d.ctx, ATSM_RECORD_RESUME, "opened", "new", &rule, &err));
	vend();
}
END_TEST

START_TEST(test_policy_tables_and_intake_count)
{
	bool unresolved = true;
	unsigned count;
	long long now = (long long)time(NULL);

	fill();
	vbegin();
	FOUND(d.ops->excluded_domain(d.ctx, "rival.example", &err));
	NOTFOUND(d.ops->excluded_domain(d.ctx, "sub.rival.example", &err));  /* callers walk */
	FOUND(d.ops->intake_address(d.ctx, "recruit@atsmail.test", &unresolved, &err));
	ck_assert(!unresolved);
	FOUND(d.ops->intake_address(d.ctx, "jobs@atsmail.test", &unresolved, &err));
	ck_assert(unresolved);
	NOTFOUND(d.ops->intake_address(d.ctx, "alice@atsmail.test", &unresolved, &err));
	ck_assert_int_eq(d.ops->intake_count(d.ctx, "new@candidate.test", now - 3600, &count,
	    &err), 1);
	ck_assert_uint_eq(count, 2);                 /* the one 5000 s old is not counted */
	ck_assert_int_eq(d.ops->intake_count(d.ctx, "new@candidate.test", now - 45, &count,
	    &err), 1);
	ck_assert_uint_eq(count, 1);
	ck_assert_int_eq(d.ops->intake_count(d.ctx, "nobody@candidate.test", now - 3600, &count,
	    &err), 1);
	ck_assert_uint_eq(count, 0);
	vend();
}
END_TEST

START_TEST(test_intake_prune)
{
	long long now = (long long)time(NULL);
	unsigned count;

	fill();
	wbegin(0);
	/* older than kept: never written */
	OK(atsm_snap_intake_put(&w, "old@candidate.test", now - ATSM_SNAP_INTAKE_KEEP - 10, 'u',
	    90, &err));
	w.now = now + 4000;        /* later: the entry of 5000 s ago ages out */
	OK(atsm_snap_intake_prune(&w, true, &err));
	wcommit();
	vbegin();
	ck_assert_int_eq(d.ops->intake_count(d.ctx, "new@candidate.test", 0, &count, &err), 1);
	ck_assert_uint_eq(count, 2);
	ck_assert_int_eq(d.ops->intake_count(d.ctx, "old@candidate.test", 0, &count, &err), 1);
	ck_assert_uint_eq(count, 0);
	vend();
}
END_TEST

START_TEST(test_messages)
{
	struct atsm_dir_message m;

	fill();
	vbegin();
	FOUND(d.ops->message_by_msgid(d.ctx, "out-5001@atsmail.test", ATSM_DIR_OUT, &arena, &m,
	    &err));
	ck_assert_int_eq(m.ref.id, 5001);
	ck_assert_str_eq(m.ref.key, "seed-out-5001");
	ck_assert_int_eq(m.thread.id, 5001);
	ck_assert_str_eq(m.token, "tok5001");
	ck_assert_uint_eq(m.n_links, 2);
	ck_assert_int_eq(m.links[1].kind, ATSM_RECORD_PROCESS);
	ck_assert_int_eq(m.links[1].resume_id, 1002);
	ck_assert_int_eq(m.links[1].job_id, 3001);
	ck_assert_uint_eq(m.n_participants, 2);
	ck_assert_str_eq(m.participants[1], "cc@candidate.test");
	/* the same Message-ID in the other direction is another message */
	NOTFOUND(d.ops->message_by_msgid(d.ctx, "out-5001@atsmail.test", ATSM_DIR_IN, &arena, &m,
	    &err));
	FOUND(d.ops->message_by_msgid(d.ctx, "in-5002@candidate.test", ATSM_DIR_IN, &arena, &m,
	    &err));
	ck_assert_str_eq(m.token, "");
	FOUND(d.ops->message_by_token(d.ctx, "tok5001", &arena, &m, &err));
	ck_assert_int_eq(m.ref.id, 5001);
	NOTFOUND(d.ops->message_by_token(d.ctx, "tok5002", &arena, &m, &err));
	vend();
	/* the token changes, the message is deleted: the indexes follow */
	wbegin(0);
	put_message(5001, "out-5001@atsmail.test", ATSM_DIR_OUT, "tok5001b", "seed-out-5001");
	OK(atsm_snap_msg_del(&w, 5002, &err));
	wcommit();
	vbegin();
	NOTFOUND(d.ops->message_by_token(d.ctx, "tok5001", &arena, &m, &err));
	FOUND(d.ops->message_by_token(d.ctx, "tok5001b", &arena, &m, &err));
	NOTFOUND(d.ops->message_by_msgid(d.ctx, "in-5002@candidate.test", ATSM_DIR_IN, &arena, &m,
	    &err));
	vend();
}
END_TEST

START_TEST(test_long_texts_are_hashed_in_keys)
{
	char msgid[1001], sender[600];
	struct atsm_dir_message m;
	unsigned count;

	memset(msgid, 'x', sizeof(msgid) - 1);
	msgid[sizeof(msgid) - 1] = '\0';
	memcpy(msgid + 990, "@long.test", 10);
	memset(sender, 's', sizeof(sender) - 1);
	sender[sizeof(sender) - 1] = '\0';
	wbegin(0);
	put_message(6001, msgid, ATSM_DIR_OUT, "toklong", "k6001");
	OK(atsm_snap_intake_put(&w, sender, (long long)time(NULL), 'u', 1, &err));
	wcommit();
	vbegin();
	FOUND(d.ops->message_by_msgid(d.ctx, msgid, ATSM_DIR_OUT, &arena, &m, &err));
	ck_assert_int_eq(m.ref.id, 6001);
	ck_assert_int_eq(d.ops->intake_count(d.ctx, sender, 0, &count, &err), 1);
	ck_assert_uint_eq(count, 1);
	msgid[0] = 'y';
	sender[0] = 't';
	NOTFOUND(d.ops->message_by_msgid(d.ctx, msgid, ATSM_DIR_OUT, &arena, &m, &err));
	ck_assert_int_eq(d.ops->intake_count(d.ctx, sender, 0, &count, &err), 1);
	ck_assert_uint_eq(count, 0);
	vend();
}
END_TEST

START_TEST(test_apply_then_read_back)
{
	struct atsm_dir_phase_set ps[3] = {
		{ ATSM_RECORD_RESUME, 1001, 0, 0, "active", NULL },
		{ ATSM_RECORD_PROCESS, 0, 1001, 3003, "entry", NULL },   /* created by the mail */
		{ ATSM_RECORD_PROCESS, 4001, 1002, 3001, "interview1", NULL },
	};
	struct atsm_dir_effects e;
	struct atsm_dir_message m, got;
	struct atsm_dir_record r;
	struct atsm_dir_process p;
	unsigned count;

	fill();
	effects(&e, &m, ps, 3, "key-local-1");
	OK(atsm_snapshot_apply(snap, &e, 100, &err));
	vbegin();
	FOUND(d.ops->message_by_msgid(d.ctx, "local-1@atsmail.test", ATSM_DIR_OUT, &arena, &got,
	    &err));
	ck_assert_int_eq(got.ref.id, 0);                  /* not yet recorded */
	ck_assert_str_eq(got.ref.key, "key-local-1");
	ck_assert_str_eq(got.thread.key, "key-local-1");  /* it starts its thread */
	ck_assert_int_eq(got.visibility, ATSM_VIS_ADMINS);
	ck_assert_uint_eq(got.n_links, 1);
	FOUND(d.ops->message_by_token(d.ctx, "tok-key-local-1", &arena, &got, &err));
	FOUND(d.ops->record(d.ctx, ATSM_RECORD_RESUME, 1001, &r, &err));
	ck_assert_str_eq(r.phase, "active");
	FOUND(d.ops->process(d.ctx, 1001, 3003, &p, &err));
	ck_assert_int_eq(p.id, 0);
	ck_assert_str_eq(p.phase, "entry");
	ck_assert(p.job_open);
	FOUND(d.ops->process_by_id(d.ctx, 4001, &p, &err));
	ck_assert_str_eq(p.phase, "interview1");
	ck_assert_int_eq(d.ops->intake_count(d.ctx, "applicant@candidate.test", e.at - 10, &count,
	    &err), 1);
	ck_assert_uint_eq(count, 1);
	vend();
	/* applied again (a retry): nothing doubles */
	OK(atsm_snapshot_apply(snap, &e, 100, &err));
	{
		struct atsm_snapshot_info info;

		OK(atsm_snapshot_info(snap, &info, &err));
		ck_assert_uint_eq(info.messages, 3);
	}
}
END_TEST

START_TEST(test_applied_message_merges_with_its_row)
{
	struct atsm_dir_effects e;
	struct atsm_dir_message m, got;
	struct atsm_snapshot_info info;

	fill();
	effects(&e, &m, NULL, 0, "key-merge");
	OK(atsm_snapshot_apply(snap, &e, 200, &err));
	OK(atsm_snapshot_info(snap, &info, &err));
	ck_assert_uint_eq(info.messages, 3);
	/* the recorder has recorded it; the follower reads it with its id */
	wbegin(0);
	put_message(10001, "local-1@atsmail.test", ATSM_DIR_OUT, "tok-key-merge", "key-merge");
	wcommit();
	OK(atsm_snapshot_info(snap, &info, &err));
	ck_assert_uint_eq(info.messages, 3);              /* merged, not doubled */
	vbegin();
	FOUND(d.ops->message_by_msgid(d.ctx, "local-1@atsmail.test", ATSM_DIR_OUT, &arena, &got,
	    &err));
	ck_assert_int_eq(got.ref.id, 10001);
	FOUND(d.ops->message_by_token(d.ctx, "tok-key-merge", &arena, &got, &err));
	ck_assert_int_eq(got.ref.id, 10001);
	vend();
}
END_TEST

START_TEST(test_thread_named_by_key_gets_its_id)
{
	struct atsm_dir_effects e;
	struct atsm_dir_message m, got;

	fill();
	effects(&e, &m, NULL, 0, "key-reply");
	m.thread.id = 0;
	strcpy(m.thread.key, "seed-out-5001");      /* answered before 5001 had its id */
	OK(atsm_snapshot_apply(snap, &e, 300, &err));
	vbegin();
	FOUND(d.ops->message_by_msgid(d.ctx, "local-1@atsmail.test", ATSM_DIR_OUT, &arena, &got,
	    &err));
	ck_assert_int_eq(got.thread.id, 5001);
	vend();
}
END_TEST

/* A resync reads PostgreSQL's older rows: pending effects stay until the
 * recorder has recorded them, then PostgreSQL's rows win. */
START_TEST(test_pending_survives_resync)
{
	struct atsm_dir_phase_set ps[2] = {
		{ ATSM_RECORD_RESUME, 1001, 0, 0, "active", NULL },
		{ ATSM_RECORD_PROCESS, 0, 1001, 3003, "entry", NULL },
	};
	struct atsm_dir_effects e;
	struct atsm_dir_message m, got;
	struct atsm_dir_record r;
	struct atsm_dir_process p;
	unsigned count;

	fill();
	effects(&e, &m, ps, 2, "key-pending");
	OK(atsm_snapshot_apply(snap, &e, 500, &err));
	/* the recorder is at 400: the rows read say "new", no process, no message */
	atsm_snapshot_recorded(snap, 400);
	wbegin(400);
	OK(atsm_snap_record_put(&w, 'r', 1001, true, 0, "new", &err));
	OK(atsm_snap_record_del(&w, 'r', 1001, &err));
	OK(atsm_snap_pending_sweep(&w, true, &err));
	wcommit();
	vbegin();
	FOUND(d.ops->record(d.ctx, ATSM_RECORD_RESUME, 1001, &r, &err));
	ck_assert_str_eq(r.phase, "active");
	FOUND(d.ops->process(d.ctx, 1001, 3003, &p, &err));
	FOUND(d.ops->message_by_msgid(d.ctx, "local-1@atsmail.test", ATSM_DIR_OUT, &arena, &got,
	    &err));
	ck_assert_int_eq(d.ops->intake_count(d.ctx, "applicant@candidate.test", 0, &count, &err), 1);
	ck_assert_uint_eq(count, 1);
	vend();
	/* the process's row arrives with its id: the id is taken, the phase kept */
	wbegin(400);
	OK(atsm_snap_proc_put(&w, 4100, 1001, 3003, "screening", &err));
	wcommit();
	vbegin();
	FOUND(d.ops->process_by_id(d.ctx, 4100, &p, &err));
	ck_assert_str_eq(p.phase, "entry");
	vend();
	/* recorded: PostgreSQL's rows win, and what it never got goes */
	atsm_snapshot_recorded(snap, 500);
	atsm_snapshot_recorded(snap, 450);                /* never backwards */
	wbegin(500);
	OK(atsm_snap_record_put(&w, 'r', 1001, true, 0, "new", &err));
	OK(atsm_snap_proc_put(&w, 4100, 1001, 3003, "screening", &err));
	OK(atsm_snap_pending_sweep(&w, true, &err));
	wcommit();
	vbegin();
	FOUND(d.ops->record(d.ctx, ATSM_RECORD_RESUME, 1001, &r, &err));
	ck_assert_str_eq(r.phase, "new");
	FOUND(d.ops->process(d.ctx, 1001, 3003, &p, &err));
	ck_assert_str_eq(p.phase, "screening");
	NOTFOUND(d.ops->message_by_msgid(d.ctx, "local-1@atsmail.test", ATSM_DIR_OUT, &arena, &got,
	    &err));
	ck_assert_int_eq(d.ops->intake_count(d.ctx, "applicant@candidate.test", 0, &count, &err), 1);
	ck_assert_uint_eq(count, 0);
	vend();
}
END_TEST

/* A view is one read transaction: what is applied meanwhile (even by the
 * thread that holds the view) is seen by the next view, not by this one. */
START_TEST(test_view_is_a_consistent_picture)
{
	struct atsm_dir_phase_set ps[1] = { { ATSM_RECORD_RESUME, 1001, 0, 0, "placed", NULL } };
	struct atsm_dir_effects e;
	struct atsm_dir_message m;
	struct atsm_snapshot_view *v2;
	struct atsm_dir d2;
	struct atsm_dir_record r;

	fill();
	vbegin();
	effects(&e, &m, ps, 1, "key-view");
	OK(atsm_snapshot_apply(snap, &e, 800, &err));
	FOUND(d.ops->record(d.ctx, ATSM_RECORD_RESUME, 1001, &r, &err));
	ck_assert_str_eq(r.phase, "new");
	ck_assert_int_eq(atsm_snapshot_view_begin(snap, &v2, &d2, &err), 0);
	FOUND(d2.ops->record(d2.ctx, ATSM_RECORD_RESUME, 1001, &r, &err));
	ck_assert_str_eq(r.phase, "placed");
	atsm_snapshot_view_end(v2);
	vend();
}
END_TEST

START_TEST(test_apply_refuses_bad_effects)
{
	struct atsm_dir_phase_set ps[1] = { { ATSM_RECORD_JOB, 3001, 0, 0, "open", NULL } };
	struct atsm_dir_phase_set pp[1] = { { ATSM_RECORD_PROCESS, 0, 0, 3001, "entry", NULL } };
	struct atsm_dir_effects e;
	struct atsm_dir_message m;
	struct atsm_dir_message got;

	fill();
	effects(&e, &m, ps, 1, "key-bad");
	ck_assert_int_eq(atsm_snapshot_apply(snap, &e, 600, &err), -1);
	ck_assert_int_eq(err.cls, ATSM_ERR_INPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "job"));
	effects(&e, &m, pp, 1, "key-bad");
	ck_assert_int_eq(atsm_snapshot_apply(snap, &e, 600, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "resume"));
	/* all or nothing: the message of the refused mail is not there */
	vbegin();
	NOTFOUND(d.ops->message_by_msgid(d.ctx, "local-1@atsmail.test", ATSM_DIR_OUT, &arena, &got,
	    &err));
	vend();
}
END_TEST

/* ---- damage, reopening ------------------------------------------------------ */

static void
raw_put(enum atsm_snap_db db, const struct atsm_snap_key *k, const void *val, size_t n)
{
	MDB_txn *txn;
	MDB_val key = atsm_snap_key_val(k), v = { n, (void *)val };

	ck_assert_int_eq(mdb_txn_begin(snap->env, NULL, 0, &txn), 0);
	ck_assert_int_eq(mdb_put(txn, snap->dbi[db], &key, &v, 0), 0);
	ck_assert_int_eq(mdb_txn_commit(txn), 0);
}

START_TEST(test_corrupt_value_is_an_error_naming_the_key)
{
	static const unsigned char bad_version[] = { 9, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 'n', 'e',
	    'w' };
	static const unsigned char too_short[] = { ATSM_SNAP_V1, 1, 0, 0 };
	static const unsigned char long_str[] = { ATSM_SNAP_V1, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
	    0xff, 'x' };
	struct atsm_snap_key k;
	struct atsm_dir_record r;
	struct atsm_dir_message m;
	struct atsm_dir_process p;

	fill();
	atsm_snap_key_record(&k, 'r', 1001);
	raw_put(ATSM_SNAP_RECORD, &k, bad_version, sizeof(bad_version));
	atsm_snap_key_record(&k, 'r', 1002);
	raw_put(ATSM_SNAP_RECORD, &k, too_short, sizeof(too_short));
	atsm_snap_key_proc(&k, 1002, 3001);
	raw_put(ATSM_SNAP_PROC, &k, long_str, sizeof(long_str));
	atsm_snap_key_id(&k, 5001);
	raw_put(ATSM_SNAP_MSG, &k, too_short, sizeof(too_short));
	vbegin();
	ck_assert_int_eq(d.ops->record(d.ctx, ATSM_RECORD_RESUME, 1001, &r, &err), -1);
	ck_assert_int_eq(err.cls, ATSM_ERR_IO);
	ck_assert_msg(strstr(err.msg, "database record") != NULL && strstr(err.msg, "r\\x00") !=
	    NULL, "%s", err.msg);
	ck_assert_int_eq(d.ops->record(d.ctx, ATSM_RECORD_RESUME, 1002, &r, &err), -1);
	ck_assert_int_eq(d.ops->process(d.ctx, 1002, 3001, &p, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "database proc"));
	ck_assert_int_eq(d.ops->message_by_msgid(d.ctx, "out-5001@atsmail.test", ATSM_DIR_OUT,
	    &arena, &m, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "database msg"));
	/* the rest still answers */
	FOUND(d.ops->record(d.ctx, ATSM_RECORD_RESUME, 1004, &r, &err));
	vend();
	/* a writer meeting the damage fails the same way */
	wbegin(0);
	ck_assert_int_eq(atsm_snap_msg_del(&w, 5001, &err), -1);
	ck_assert_int_eq(err.cls, ATSM_ERR_IO);
	atsm_snap_w_abort(&w);
}
END_TEST

START_TEST(test_reopen_keeps_everything)
{
	struct atsm_dir_phase_set ps[1] = { { ATSM_RECORD_RESUME, 1002, 0, 0, "active", NULL } };
	struct atsm_dir_effects e;
	struct atsm_dir_message m, got;
	struct atsm_dir_record r;
	struct atsm_dir_user u;
	char marker[128];

	fill();
	effects(&e, &m, ps, 1, "key-reopen");
	OK(atsm_snapshot_apply(snap, &e, 700, &err));
	atsm_snapshot_recorded(snap, 650);
	atsm_snapshot_close(snap);
	snprintf(marker, sizeof(marker), "%s/open-boot.%ld", dir, (long)getpid());
	ck_assert_int_eq(access(marker, F_OK), -1);      /* closed cleanly */
	snap_open(false);
	ck_assert_int_eq(access(marker, F_OK), 0);
	ck_assert_uint_eq(snap->recorded, 650);
	vbegin();
	FOUND(d.ops->user_by_addr(d.ctx, "alice.sales@atsmail.test", &u, &err));
	FOUND(d.ops->record(d.ctx, ATSM_RECORD_RESUME, 1002, &r, &err));
	ck_assert_str_eq(r.phase, "active");
	FOUND(d.ops->message_by_msgid(d.ctx, "local-1@atsmail.test", ATSM_DIR_OUT, &arena, &got,
	    &err));
	ck_assert_str_eq(got.ref.key, "key-reopen");
	vend();
	/* still pending after the restart: a resync at 650 keeps it */
	wbegin(650);
	OK(atsm_snap_record_put(&w, 'r', 1002, true, 1, "new", &err));
	wcommit();
	vbegin();
	FOUND(d.ops->record(d.ctx, ATSM_RECORD_RESUME, 1002, &r, &err));
	ck_assert_str_eq(r.phase, "active");
	vend();
}
END_TEST

START_TEST(test_readonly_reads_and_refuses_writes)
{
	struct atsm_snapshot *rw;
	struct atsm_dir_effects e;
	struct atsm_dir_message m;
	struct atsm_dir_user u;

	fill();
	rw = snap;
	snap_open(true);
	vbegin();
	FOUND(d.ops->user_by_login(d.ctx, "carol@atsmail.test", &u, &err));
	vend();
	effects(&e, &m, NULL, 0, "key-ro");
	ck_assert_int_eq(atsm_snapshot_apply(snap, &e, 1, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "read-only"));
	atsm_snapshot_close(snap);
	snap = rw;
}
END_TEST

START_TEST(test_system_stop_discards_the_snapshot)
{
	struct atsm_snapshot_info info;
	char marker[128];
	FILE *f;

	fill();
	atsm_snapshot_close(snap);
	/* as if the machine had stopped with the snapshot open (MDB_NOSYNC) */
	snprintf(marker, sizeof(marker), "%s/open-boot", dir);
	ck_assert_ptr_nonnull(f = fopen(marker, "w"));
	fputs("another-boot", f);
	fclose(f);
	snap_open(false);
	OK(atsm_snapshot_info(snap, &info, &err));
	ck_assert_uint_eq(info.records, 0);
	ck_assert_uint_eq(info.users, 0);
}
END_TEST

/* The marker of this boot is per process: closing one handle leaves the
 * marker of another process (atsmaild beside an atsmailctl) in place, and
 * a marker whose process is gone is removed at the next open without
 * discarding anything. */
START_TEST(test_boot_markers_are_per_process)
{
	struct atsm_snapshot_info info;
	char live[160], dead[160], boot[64] = "";
	FILE *f;

	fill();
	ck_assert_ptr_nonnull(f = fopen("/proc/sys/kernel/random/boot_id", "r"));
	ck_assert_ptr_nonnull(fgets(boot, sizeof(boot), f));
	fclose(f);
	boot[strcspn(boot, "\n")] = '\0';
	/* pid 1 lives as long as the test does; 2^22 - 1 is above pid_max */
	snprintf(live, sizeof(live), "%s/open-boot.1", dir);
	snprintf(dead, sizeof(dead), "%s/open-boot.4194303", dir);
	ck_assert_ptr_nonnull(f = fopen(live, "w"));
	fputs(boot, f);
	fclose(f);
	ck_assert_ptr_nonnull(f = fopen(dead, "w"));
	fputs(boot, f);
	fclose(f);
	atsm_snapshot_close(snap);
	ck_assert_int_eq(access(live, F_OK), 0);         /* not ours: kept */
	snap_open(false);
	ck_assert_int_eq(access(dead, F_OK), -1);        /* its process is gone */
	ck_assert_int_eq(access(live, F_OK), 0);
	OK(atsm_snapshot_info(snap, &info, &err));
	ck_assert_uint_gt(info.users, 0);                /* nothing discarded */
	unlink(live);
}
END_TEST

START_TEST(test_other_layout_version_is_emptied)
{
	struct atsm_snapshot_info info;
	struct atsm_snap_key k;
	unsigned char v[9] = { ATSM_SNAP_V1, 0, 0, 0, 0, 0, 0, 0, 99 };
	uint64_t schema;
	MDB_txn *txn;

	fill();
	atsm_snap_key_reset(&k);
	atsm_snap_key_text(&k, "schema");
	raw_put(ATSM_SNAP_META, &k, v, sizeof(v));
	atsm_snapshot_close(snap);
	/* a reader of this version refuses it; a writer empties it */
	{
		struct atsm_snapshot_params p = { dir, 64u * 1024u * 1024u, 16, true };

		ck_assert_int_eq(atsm_snapshot_open(&p, &snap, &err), -1);
		ck_assert_ptr_nonnull(strstr(err.msg, "version 99"));
	}
	snap_open(false);
	OK(atsm_snapshot_info(snap, &info, &err));
	ck_assert_uint_eq(info.records, 0);
	ck_assert_int_eq(mdb_txn_begin(snap->env, NULL, MDB_RDONLY, &txn), 0);
	ck_assert_int_eq(atsm_snap_meta_get(txn, snap, "schema", &schema, &err), 1);
	mdb_txn_abort(txn);
	ck_assert_uint_eq(schema, ATSM_SNAPSHOT_SCHEMA);
}
END_TEST

START_TEST(test_map_full_is_an_io_error)
{
	struct atsm_snapshot_params p = { NULL, 1024u * 1024u, 16, false };
	struct atsm_snapshot *small;
	char sdir[128];
	int i, rc = 0;

	snprintf(sdir, sizeof(sdir), "%s/small", dir);
	p.dir = sdir;
	ck_assert_msg(atsm_snapshot_open(&p, &small, &err) == 0, "%s", err.msg);
	for (i = 0; i < 100000 && rc == 0; i++) {
		struct atsm_snap_w sw;

		ck_assert_int_eq(atsm_snap_w_begin(small, &sw, 0, &err), 0);
		rc = atsm_snap_record_put(&sw, 'r', i + 1, true, 0, "new", &err);
		if (rc == 0)
			rc = atsm_snap_w_commit(&sw, &err);
		else
			atsm_snap_w_abort(&sw);
	}
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(err.cls, ATSM_ERR_IO);
	ck_assert_ptr_nonnull(strstr(err.msg, "snapshot_map_size"));
	atsm_snapshot_close(small);
	p.dir = "relative/dir";
	ck_assert_int_eq(atsm_snapshot_open(&p, &small, &err), -1);
	ck_assert_int_eq(err.cls, ATSM_ERR_INPUT);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("snapshot");
	TCase *tc = tcase_create("snapshot");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_open_creates_private_dir_and_empty_views);
	tcase_add_test(tc, test_users);
	tcase_add_test(tc, test_records_by_addr_and_record);
	tcase_add_test(tc, test_jobs_and_processes);
	tcase_add_test(tc, test_phases_and_rules);
	tcase_add_test(tc, test_policy_tables_and_intake_count);
	tcase_add_test(tc, test_intake_prune);
	tcase_add_test(tc, test_messages);
	tcase_add_test(tc, test_long_texts_are_hashed_in_keys);
	tcase_add_test(tc, test_apply_then_read_back);
	tcase_add_test(tc, test_applied_message_merges_with_its_row);
	tcase_add_test(tc, test_thread_named_by_key_gets_its_id);
	tcase_add_test(tc, test_pending_survives_resync);
	tcase_add_test(tc, test_view_is_a_consistent_picture);
	tcase_add_test(tc, test_apply_refuses_bad_effects);
	tcase_add_test(tc, test_corrupt_value_is_an_error_naming_the_key);
	tcase_add_test(tc, test_reopen_keeps_everything);
	tcase_add_test(tc, test_readonly_reads_and_refuses_writes);
	tcase_add_test(tc, test_system_stop_discards_the_snapshot);
	tcase_add_test(tc, test_boot_markers_are_per_process);
	tcase_add_test(tc, test_other_layout_version_is_emptied);
	tcase_add_test(tc, test_map_full_is_an_io_error);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
