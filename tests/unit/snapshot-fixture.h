/* snapshot-fixture.h -- the fixture of tests/unit/test-snapshot.c: a
 * snapshot in its own mkdtemp directory per test, rows written the way a
 * sync writes them (the private row writers of store/snapshot-int.h), a
 * small directory in the shape of tests/data/seed.sql (fill), views, and
 * the effects of a mail.  Included by one .c file: the state is static.
 */
#ifndef ATSM_SNAPSHOT_FIXTURE_H
#define ATSM_SNAPSHOT_FIXTURE_H

#include "atsm-check.h"
#include "store/snapshot-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char dir[64];
static struct atsm_snapshot *snap;
static struct atsm_err err;

static void
snap_open(bool readonly)
{
	struct atsm_snapshot_params p = { dir, 64u * 1024u * 1024u, 16, readonly };

	ck_assert_msg(atsm_snapshot_open(&p, &snap, &err) == 0, "open: %s", err.msg);
}

static void
setup(void)
{
	strcpy(dir, "/tmp/atsm-snapshot-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snap_open(false);
}

static void
teardown(void)
{
	char cmd[128];

	atsm_snapshot_close(snap);
	snap = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* ---- writing rows as a sync does ----------------------------------------- */

static struct atsm_snap_w w;

static void
wbegin(unsigned long long r0)
{
	ck_assert_msg(atsm_snap_w_begin(snap, &w, r0, &err) == 0, "%s", err.msg);
}

static void
wcommit(void)
{
	ck_assert_msg(atsm_snap_w_commit(&w, &err) == 0, "%s", err.msg);
}

#define OK(call) ck_assert_msg((call) == 0, "%s: %s", #call, err.msg)

static void
put_user(long long id, const char *login, enum atsm_sharing_mode mode, bool active)
{
	struct atsm_dir_user u;

	memset(&u, 0, sizeof(u));
	u.id = id;
	snprintf(u.login, sizeof(u.login), "%s", login);
	u.sharing_mode = mode;
	u.default_share = true;
	u.needs_approval = id == 6;
	u.active = active;
	if (mode == ATSM_SHARING_PRIVATE)
		snprintf(u.lang, sizeof(u.lang), "ja");
	OK(atsm_snap_user_put(&w, &u, &err));
}

static void
put_kv(enum atsm_snap_db db, const struct atsm_snap_key *k, struct atsm_buf *b)
{
	OK(atsm_snap_put(&w, db, k, b, &err));
	atsm_buf_free(b);
	atsm_buf_init(b, ATSM_SNAP_VALUE_MAX);
}

static void
put_phase(int kind, const char *code, bool active, int order)
{
	struct atsm_snap_key k;
	struct atsm_buf b;

	atsm_buf_init(&b, ATSM_SNAP_VALUE_MAX);
	atsm_snap_key_reset(&k);
	atsm_snap_key_u8(&k, (unsigned)kind);
	atsm_snap_key_raw(&k, code, strlen(code));
	atsm_snap_enc_phase(&b, active, order);
	put_kv(ATSM_SNAP_PHASE, &k, &b);
	atsm_buf_free(&b);
}

/* as snapshot-tables.c keys a rule */
static void
put_rule(long long id, int kind, int event, const char *from, const char *to, int prio)
{
	struct atsm_snap_key k;
	struct atsm_buf b;

	atsm_buf_init(&b, ATSM_SNAP_VALUE_MAX);
	atsm_snap_key_reset(&k);
	atsm_snap_key_u8(&k, (unsigned)kind);
	atsm_snap_key_u8(&k, (unsigned)event);
	atsm_snap_key_u32(&k, ~((uint32_t)(int32_t)prio ^ 0x80000000u));
	atsm_snap_key_u8(&k, from == NULL ? 1 : 0);
	atsm_snap_key_u64(&k, (uint64_t)id);
	atsm_snap_enc_rule(&b, id, from != NULL ? from : "", to);
	put_kv(ATSM_SNAP_RULE, &k, &b);
	atsm_buf_free(&b);
}

static void
put_text(enum atsm_snap_db db, const char *text, bool flag)
{
	struct atsm_snap_key k;
	struct atsm_buf b;

	atsm_buf_init(&b, ATSM_SNAP_VALUE_MAX);
	atsm_snap_key_reset(&k);
	atsm_snap_key_text(&k, text);
	if (db == ATSM_SNAP_EXCL)
		atsm_snap_enc_empty(&b);
	else
		atsm_snap_enc_flag(&b, flag);
	put_kv(db, &k, &b);
	atsm_buf_free(&b);
}

static void
put_job(long long id, bool open)
{
	struct atsm_snap_key k;
	struct atsm_buf b;

	atsm_buf_init(&b, ATSM_SNAP_VALUE_MAX);
	atsm_snap_key_id(&k, (uint64_t)id);
	atsm_snap_enc_flag(&b, open);
	put_kv(ATSM_SNAP_JOB, &k, &b);
	atsm_buf_free(&b);
}

/* A recorded message as PostgreSQL has it. */
static void
put_message(long long id, const char *msgid, enum atsm_dir_direction direction, const char *token,
    const char *key)
{
	static struct atsm_dir_link links[2] = {
		{ ATSM_RECORD_RESUME, 1001, 0, 0, false, NULL },
		{ ATSM_RECORD_PROCESS, 4001, 1002, 3001, false, NULL },
	};
	static const char *parts[2] = { "taro@candidate.test", "cc@candidate.test" };
	struct atsm_dir_message m;

	memset(&m, 0, sizeof(m));
	m.ref.id = id;
	snprintf(m.ref.key, sizeof(m.ref.key), "%s", key);
	m.direction = direction;
	m.thread.id = id;
	m.visibility = ATSM_VIS_SHARED;
	snprintf(m.token, sizeof(m.token), "%s", token);
	m.links = links;
	m.n_links = 2;
	m.participants = parts;
	m.n_participants = 2;
	OK(atsm_snap_msg_put_pg(&w, &m, msgid, &err));
}

/* The fixture: a small directory in the shape of tests/data/seed.sql. */
static void
fill(void)
{
	time_t now = time(NULL);

	wbegin(0);
	put_user(1, "alice@atsmail.test", ATSM_SHARING_PUBLIC, true);
	put_user(3, "carol@atsmail.test", ATSM_SHARING_PRIVATE, true);
	put_user(7, "gone@atsmail.test", ATSM_SHARING_PUBLIC, false);
	OK(atsm_snap_addr_put(&w, 1, 'u', 1, "alice@atsmail.test", &err));
	OK(atsm_snap_addr_put(&w, 2, 'u', 1, "alice.sales@atsmail.test", &err));
	OK(atsm_snap_addr_put(&w, 3, 'u', 3, "carol@atsmail.test", &err));
	OK(atsm_snap_record_put(&w, 'r', 1001, true, 0, "new", &err));
	OK(atsm_snap_record_put(&w, 'r', 1002, true, 1, "new", &err));
	OK(atsm_snap_record_put(&w, 'r', 1004, true, 0, "new", &err));
	OK(atsm_snap_record_put(&w, 'r', 1005, false, 0, "active", &err));
	OK(atsm_snap_record_put(&w, 'c', 2001, true, 0, "new", &err));
	OK(atsm_snap_addr_put(&w, 10, 'r', 1001, "taro@candidate.test", &err));
	OK(atsm_snap_addr_put(&w, 11, 'r', 1002, "hanako@candidate.test", &err));
	OK(atsm_snap_addr_put(&w, 12, 'r', 1005, "family@candidate.test", &err));
	OK(atsm_snap_addr_put(&w, 13, 'r', 1004, "family@candidate.test", &err));
	OK(atsm_snap_addr_put(&w, 14, 'c', 2001, "family@candidate.test", &err));
	OK(atsm_snap_addr_put(&w, 15, 'c', 2001, "suzuki@client.test", &err));
	put_job(3001, true);
	put_job(3002, false);
	put_job(3003, true);
	OK(atsm_snap_proc_put(&w, 4001, 1002, 3001, "screening", &err));
	OK(atsm_snap_proc_put(&w, 4002, 1002, 3002, "entry", &err));
	put_phase('r', "new", true, 10);
	put_phase('r', "active", true, 20);
	put_phase('r', "placed", false, 5);
	put_phase('p', "screening", true, 20);
	put_phase('p', "entry", true, 10);
	put_phase('p', "aardvark", true, 10);   /* ties on sort_order: the lower code */
	put_rule(9001, 'r', 'r', "new", "active", 0);
	put_rule(9006, 'r', 'r', NULL, "placed", 0);
	put_rule(9007, 'r', 'r', NULL, "inactive", 5);
	put_rule(9008, 'r', 'r', "placed", "new", 5);
	put_rule(9003, 'c', 'r', NULL, "active", 0);
	put_text(ATSM_SNAP_EXCL, "rival.example", false);
	put_text(ATSM_SNAP_INTAKE_ADDR, "recruit@atsmail.test", false);
	put_text(ATSM_SNAP_INTAKE_ADDR, "jobs@atsmail.test", true);
	OK(atsm_snap_intake_put(&w, "new@candidate.test", (long long)now - 60, 'r', 1101, &err));
	OK(atsm_snap_intake_put(&w, "new@candidate.test", (long long)now - 30, 'u', 77, &err));
	OK(atsm_snap_intake_put(&w, "new@candidate.test", (long long)now - 5000, 'u', 76, &err));
	OK(atsm_snap_intake_put(&w, "other@candidate.test", (long long)now - 10, 'u', 78, &err));
	put_message(5001, "out-5001@atsmail.test", ATSM_DIR_OUT, "tok5001", "seed-out-5001");
	put_message(5002, "in-5002@candidate.test", ATSM_DIR_IN, "", "");
	wcommit();
}

/* ---- views ------------------------------------------------------------------ */

static struct atsm_snapshot_view *view;
static struct atsm_dir d;
static struct atsm_arena arena;

static void
vbegin(void)
{
	ck_assert_msg(atsm_snapshot_view_begin(snap, &view, &d, &err) == 0, "%s", err.msg);
	atsm_arena_init(&arena, 1024u * 1024u);
}

static void
vend(void)
{
	atsm_arena_free(&arena);
	atsm_snapshot_view_end(view);
	view = NULL;
}

#define FOUND(call) ck_assert_msg((call) == 1, "%s: not found (%s)", #call, err.msg)
#define NOTFOUND(call) ck_assert_msg((call) == 0, "%s: found or failed (%s)", #call, err.msg)

/* ---- effects ------------------------------------------------------------------ */

static struct atsm_dir_link eff_links[1] = { { ATSM_RECORD_RESUME, 1001, 0, 0, false, NULL } };
static const char *eff_parts[1] = { "taro@candidate.test" };

static void
effects(struct atsm_dir_effects *e, struct atsm_dir_message *m, struct atsm_dir_phase_set *ps,
    size_t nps, const char *key)
{
	memset(e, 0, sizeof(*e));
	memset(m, 0, sizeof(*m));
	snprintf(m->ref.key, sizeof(m->ref.key), "%s", key);
	m->direction = ATSM_DIR_OUT;
	m->visibility = ATSM_VIS_ADMINS;
	snprintf(m->token, sizeof(m->token), "tok-%s", key);
	m->links = eff_links;
	m->n_links = 1;
	m->participants = eff_parts;
	m->n_participants = 1;
	e->msgid = "local-1@atsmail.test";
	e->message = m;
	e->phases = ps;
	e->n_phases = nps;
	e->intake_sender = "applicant@candidate.test";
	e->at = (long long)time(NULL);
}

#endif
