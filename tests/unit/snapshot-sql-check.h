/* snapshot-sql-check.h -- the fixture of tests/unit/test-snapshot-sync.c:
 * a snapshot in its own mkdtemp directory per test, the superuser's
 * connection (admin), writer connections, a full resync, and the checks
 * that every directory operation answers as the SQL it replaces would, for
 * every row of the test bed.  Included by one .c file: the state is static.
 */
#ifndef ATSM_SNAPSHOT_SQL_CHECK_H
#define ATSM_SNAPSHOT_SQL_CHECK_H

#include "atsm-check.h"
#include "store/snapshot-int.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char dir[64];
static struct atsm_snapshot *snap;
static struct atsm_err err;
static PGconn *admin;          /* superuser */

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
setup(void)
{
	struct atsm_snapshot_params p = { dir, 256u * 1024u * 1024u, 64, false };

	strcpy(dir, "/tmp/atsm-snapsync-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_msg(atsm_snapshot_open(&p, &snap, &err) == 0, "%s", err.msg);
	admin = PQconnectdb(getenv("ATSM_TEST_PG"));
	ck_assert_msg(PQstatus(admin) == CONNECTION_OK, "%s", PQerrorMessage(admin));
}

static void
teardown(void)
{
	char cmd[128];

	atsm_snapshot_close(snap);
	PQfinish(admin);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void
exec_on(PGconn *c, const char *q)
{
	PGresult *r = PQexec(c, q);

	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK,
	    "%s: %s", q, PQerrorMessage(c));
	PQclear(r);
}

static void
sql(const char *q)
{
	exec_on(admin, q);
}

static PGresult *
rows(const char *q, const char *param)
{
	const char *v[1] = { param };
	PGresult *r = PQexecParams(admin, q, param != NULL ? 1 : 0, NULL, v, NULL, NULL, 0);

	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", q, PQerrorMessage(admin));
	return r;
}

static PGconn *
writer(void)
{
	PGconn *c = PQconnectdb(getenv("ATSM_TEST_PG_WRITER"));

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	return c;
}

static void
full_sync(void)
{
	PGconn *c = writer();

	ck_assert_msg(atsm_snapshot_sync_full(snap, c, &err) == 0, "sync: %s", err.msg);
	PQfinish(c);
}

static long long
n(PGresult *r, int row, int col)
{
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static bool
t(PGresult *r, int row, int col)
{
	return PQgetvalue(r, row, col)[0] == 't';
}

static enum atsm_record_kind
kind_of(const char *s)
{
	return strcmp(s, "resume") == 0 ? ATSM_RECORD_RESUME : strcmp(s, "contact") == 0 ?
	    ATSM_RECORD_CONTACT : strcmp(s, "process") == 0 ? ATSM_RECORD_PROCESS :
	    strcmp(s, "job") == 0 ? ATSM_RECORD_JOB : ATSM_RECORD_NONE;
}

/* ---- every operation answers as the SQL would ------------------------------ */

static struct atsm_dir d;
static struct atsm_snapshot_view *view;

static void
vbegin(void)
{
	ck_assert_msg(atsm_snapshot_view_begin(snap, &view, &d, &err) == 0, "%s", err.msg);
}

static void
vend(void)
{
	atsm_snapshot_view_end(view);
}

static void
check_users(void)
{
	PGresult *r = rows("SELECT u.id, u.login, u.sharing_mode, u.default_share, "
	    "u.needs_approval, u.active, a.addr_norm FROM atsmail.users u LEFT JOIN "
	    "atsmail.addresses a ON a.owner_kind = 'user' AND a.owner_id = u.id", NULL);
	int row;

	ck_assert_int_gt(PQntuples(r), 5);
	for (row = 0; row < PQntuples(r); row++) {
		struct atsm_dir_user u;

		ck_assert_int_eq(d.ops->user_by_login(d.ctx, PQgetvalue(r, row, 1), &u, &err), 1);
		ck_assert_int_eq(u.id, n(r, row, 0));
		ck_assert_str_eq(atsm_sharing_mode_name(u.sharing_mode), PQgetvalue(r, row, 2));
		ck_assert(u.default_share == t(r, row, 3));
		ck_assert(u.needs_approval == t(r, row, 4));
		ck_assert(u.active == t(r, row, 5));
		if (!PQgetisnull(r, row, 6)) {
			ck_assert_int_eq(d.ops->user_by_addr(d.ctx, PQgetvalue(r, row, 6), &u, &err), 1);
			ck_assert_int_eq(u.id, n(r, row, 0));
		}
	}
	PQclear(r);
}

static void
check_records(void)
{
	PGresult *r = rows("SELECT a.addr_norm, a.owner_kind, a.owner_id,"
	    " coalesce(x.shared, k.shared), coalesce(x.phase, k.phase),"
	    " coalesce(x.owner_id, k.owner_id, 0)"
	    " FROM atsmail.addresses a"
	    " LEFT JOIN atsmail.resumes x ON a.owner_kind = 'resume' AND x.id = a.owner_id"
	    " LEFT JOIN atsmail.contacts k ON a.owner_kind = 'contact' AND k.id = a.owner_id"
	    " WHERE a.owner_kind IN ('resume', 'contact') AND (x.id IS NOT NULL OR k.id IS NOT NULL)"
	    " ORDER BY a.addr_norm COLLATE \"C\", a.owner_kind DESC, a.owner_id", NULL);
	int row = 0;

	ck_assert_int_gt(PQntuples(r), 10);
	while (row < PQntuples(r)) {
		struct atsm_dir_record rec[64];
		size_t cnt, i;
		const char *addr = PQgetvalue(r, row, 0);

		ck_assert_int_eq(d.ops->records_by_addr(d.ctx, addr, rec, 64, &cnt, &err), 1);
		for (i = 0; i < cnt; i++, row++) {
			ck_assert_msg(row < PQntuples(r) && strcmp(PQgetvalue(r, row, 0), addr) == 0,
			    "%s: more records in the snapshot than in SQL", addr);
			ck_assert_int_eq(rec[i].kind, kind_of(PQgetvalue(r, row, 1)));
			ck_assert_int_eq(rec[i].id, n(r, row, 2));
			ck_assert(rec[i].shared == t(r, row, 3));
			ck_assert_str_eq(rec[i].phase, PQgetvalue(r, row, 4));
			ck_assert_int_eq(rec[i].owner_id, n(r, row, 5));
		}
		ck_assert_msg(row >= PQntuples(r) || strcmp(PQgetvalue(r, row, 0), addr) != 0,
		    "%s: fewer records in the snapshot than in SQL", addr);
	}
	PQclear(r);
	r = rows("SELECT 'resume', id, shared, phase FROM atsmail.resumes UNION ALL"
	    " SELECT 'contact', id, shared, phase FROM atsmail.contacts", NULL);
	for (row = 0; row < PQntuples(r); row++) {
		struct atsm_dir_record rec;

		ck_assert_int_eq(d.ops->record(d.ctx, kind_of(PQgetvalue(r, row, 0)), n(r, row, 1),
		    &rec, &err), 1);
		ck_assert(rec.shared == t(r, row, 2));
		ck_assert_str_eq(rec.phase, PQgetvalue(r, row, 3));
	}
	PQclear(r);
}

static void
check_jobs_processes(void)
{
	PGresult *r = rows("SELECT id, status = 'open' FROM atsmail.jobs", NULL);
	int row;

	for (row = 0; row < PQntuples(r); row++) {
		struct atsm_dir_job j;

		ck_assert_int_eq(d.ops->job(d.ctx, n(r, row, 0), &j, &err), 1);
		ck_assert(j.open == t(r, row, 1));
	}
	PQclear(r);
	r = rows("SELECT p.id, p.resume_id, p.job_id, p.phase, j.status = 'open',"
	    " (SELECT count(*) FROM atsmail.processes q WHERE q.resume_id = p.resume_id)"
	    " FROM atsmail.processes p JOIN atsmail.jobs j ON j.id = p.job_id", NULL);
	ck_assert_int_gt(PQntuples(r), 0);
	for (row = 0; row < PQntuples(r); row++) {
		struct atsm_dir_process p, all[64];
		size_t cnt, i;

		ck_assert_int_eq(d.ops->process(d.ctx, n(r, row, 1), n(r, row, 2), &p, &err), 1);
		ck_assert_int_eq(p.id, n(r, row, 0));
		ck_assert_str_eq(p.phase, PQgetvalue(r, row, 3));
		ck_assert(p.job_open == t(r, row, 4));
		ck_assert_int_eq(d.ops->process_by_id(d.ctx, n(r, row, 0), &p, &err), 1);
		ck_assert_int_eq(p.resume_id, n(r, row, 1));
		ck_assert_int_eq(d.ops->processes_of_resume(d.ctx, n(r, row, 1), all, 64, &cnt, &err),
		    1);
		ck_assert_int_eq((long long)cnt, n(r, row, 5));
		for (i = 1; i < cnt; i++)
			ck_assert_int_lt(all[i - 1].job_id, all[i].job_id);
	}
	PQclear(r);
}

static void
check_phases_rules(void)
{
	static const char *const kinds[] = { "resume", "contact", "process" };
	static const char *const events[] = { "reply", "bounce", "sent" };
	PGresult *r = rows("SELECT kind, code, active FROM atsmail.phases", NULL);
	int row, k, e;

	for (row = 0; row < PQntuples(r); row++)
		ck_assert_int_eq(d.ops->phase_active(d.ctx, kind_of(PQgetvalue(r, row, 0)),
		    PQgetvalue(r, row, 1), &err), t(r, row, 2) ? 1 : 0);
	PQclear(r);
	for (k = 0; k < 3; k++) {
		char first[ATSM_DIR_PHASE_MAX];
		PGresult *p = rows("SELECT code FROM atsmail.phases WHERE kind = $1 AND active"
		    " ORDER BY sort_order, code COLLATE \"C\" LIMIT 1", kinds[k]);

		ck_assert_int_eq(d.ops->phase_first(d.ctx, kind_of(kinds[k]), first, &err), 1);
		ck_assert_str_eq(first, PQgetvalue(p, 0, 0));
		PQclear(p);
		p = rows("SELECT code FROM atsmail.phases WHERE kind = $1", kinds[k]);
		for (e = 0; e < 3; e++)
			for (row = 0; row < PQntuples(p); row++) {
				const char *v[3] = { kinds[k], events[e], PQgetvalue(p, row, 0) };
				PGresult *q = PQexecParams(admin, "SELECT id, to_phase FROM"
				    " atsmail.phase_rules WHERE active AND kind = $1 AND event = $2"
				    " AND (from_phase IS NULL OR from_phase = $3)"
				    " ORDER BY priority DESC, from_phase IS NULL, id LIMIT 1", 3, NULL, v,
				    NULL, NULL, 0);
				struct atsm_dir_rule rule;
				int got = d.ops->phase_rule(d.ctx, kind_of(kinds[k]), events[e], v[2],
				    &rule, &err);

				ck_assert_int_eq(got, PQntuples(q));
				if (got == 1) {
					ck_assert_int_eq(rule.id, n(q, 0, 0));
					ck_assert_str_eq(rule.to_phase, PQgetvalue(q, 0, 1));
				}
				PQclear(q);
			}
		PQclear(p);
	}
}

static void
check_policy_intake(void)
{
	PGresult *r = rows("SELECT domain FROM atsmail.exclusion_domains", NULL);
	int row;
	long long since = (long long)time(NULL) - 3600;
	char s[24];

	ck_assert_int_gt(PQntuples(r), 0);
	for (row = 0; row < PQntuples(r); row++)
		ck_assert_int_eq(d.ops->excluded_domain(d.ctx, PQgetvalue(r, row, 0), &err), 1);
	PQclear(r);
	ck_assert_int_eq(d.ops->excluded_domain(d.ctx, "candidate.test", &err), 0);
	r = rows("SELECT address, action = 'unresolved' FROM atsmail.intake_addresses", NULL);
	ck_assert_int_gt(PQntuples(r), 0);
	for (row = 0; row < PQntuples(r); row++) {
		bool unres;

		ck_assert_int_eq(d.ops->intake_address(d.ctx, PQgetvalue(r, row, 0), &unres, &err), 1);
		ck_assert(unres == t(r, row, 1));
	}
	PQclear(r);
	/* the count of plan.c, for every sender with intake records */
	snprintf(s, sizeof(s), "%lld", since);
	r = rows("SELECT s, (SELECT count(*) FROM atsmail.unresolved_items"
	    "  WHERE sender = s AND created_at >= to_timestamp($1::bigint))"
	    " + (SELECT count(*) FROM atsmail.resumes x JOIN atsmail.addresses a"
	    "  ON a.owner_kind = 'resume' AND a.owner_id = x.id WHERE a.addr_norm = s"
	    "  AND x.created_from = 'mail' AND x.created_at >= to_timestamp($1::bigint))"
	    " FROM (SELECT sender FROM atsmail.unresolved_items UNION SELECT a.addr_norm"
	    "  FROM atsmail.resumes x JOIN atsmail.addresses a ON a.owner_kind = 'resume'"
	    "  AND a.owner_id = x.id WHERE x.created_from = 'mail') AS q(s)", s);
	ck_assert_int_gt(PQntuples(r), 1);
	for (row = 0; row < PQntuples(r); row++) {
		unsigned cnt;

		ck_assert_int_eq(d.ops->intake_count(d.ctx, PQgetvalue(r, row, 0), since, &cnt, &err),
		    1);
		ck_assert_msg((long long)cnt == n(r, row, 1), "intake_count %s: %u, SQL %lld",
		    PQgetvalue(r, row, 0), cnt, n(r, row, 1));
	}
	PQclear(r);
}

static void
check_messages(void)
{
	PGresult *r = rows("SELECT m.id, m.rfc_message_id, m.direction, coalesce(m.token, ''),"
	    " coalesce(m.thread_id, m.id), m.visibility,"
	    " (SELECT string_agg(l.target_kind || '/' || l.target_id || '/' || l.ambiguous, ' '"
	    "   ORDER BY l.id) FROM atsmail.message_links l WHERE l.message_id = m.id),"
	    " (SELECT count(DISTINCT x) FROM (SELECT unnest(m.counterparts) UNION"
	    "   SELECT address FROM atsmail.message_recipients r WHERE r.message_id = m.id) s(x))"
	    " FROM atsmail.messages m WHERE m.rfc_message_id IS NOT NULL", NULL);
	int row;

	ck_assert_int_ge(PQntuples(r), 5);
	for (row = 0; row < PQntuples(r); row++) {
		struct atsm_dir_message m;
		struct atsm_arena a;
		char links[4096] = "";
		size_t i;

		atsm_arena_init(&a, 1024u * 1024u);
		ck_assert_int_eq(d.ops->message_by_msgid(d.ctx, PQgetvalue(r, row, 1),
		    strcmp(PQgetvalue(r, row, 2), "in") == 0 ? ATSM_DIR_IN : ATSM_DIR_OUT, &a, &m,
		    &err), 1);
		ck_assert_int_eq(m.ref.id, n(r, row, 0));
		ck_assert_str_eq(m.token, PQgetvalue(r, row, 3));
		ck_assert_int_eq(m.thread.id, n(r, row, 4));
		ck_assert_str_eq(atsm_visibility_name(m.visibility), PQgetvalue(r, row, 5));
		for (i = 0; i < m.n_links; i++)
			snprintf(links + strlen(links), sizeof(links) - strlen(links), "%s%s/%lld/%s",
			    i > 0 ? " " : "", atsm_record_kind_name(m.links[i].kind), m.links[i].id,
			    m.links[i].ambiguous ? "true" : "false");
		ck_assert_str_eq(links, PQgetvalue(r, row, 6));
		ck_assert_int_eq((long long)m.n_participants, n(r, row, 7));
		if (m.token[0] != '\0') {
			ck_assert_int_eq(d.ops->message_by_token(d.ctx, m.token, &a, &m, &err), 1);
			ck_assert_int_eq(m.ref.id, n(r, row, 0));
		}
		atsm_arena_free(&a);
	}
	PQclear(r);
}

#endif
