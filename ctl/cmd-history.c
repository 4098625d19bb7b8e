/* cmd-history.c -- atsmailctl history: the mail and phase history of one
 * resume or contact, as a recruiter reads it.
 *
 *   atsmailctl history resume|contact ID [--as LOGIN]
 *
 * One header (name, kana, phase, owner, addresses), then one line per event
 * in time order: a mail ("→" sent, "←" received, counterparts, subject,
 * notes such as private or bounce) or a phase change (from → to, labels,
 * cause and actor).  For a resume the phase changes of its selection
 * processes are shown too.
 *
 * What is shown is what the database lets the session read: row-level
 * security filters messages (docs/data-model.md).  With --as LOGIN the
 * queries run inside a read-only transaction under SET LOCAL ROLE
 * atsmail_app with atsmail.acting_user = LOGIN, i.e. exactly what that
 * recruiter may see (the connecting login must be a member of
 * atsmail_app); a recruiter's own mapped login (users.db_role, through
 * --db) gets the same without --as.
 */
#include "ctl-ops.h"

#include <stdlib.h>
#include <string.h>

void
ctl_cmd_history_usage(FILE *fp)
{
	fputs(
	    "usage: " CTL_PROGNAME " [OPTIONS] history resume|contact ID [--as LOGIN]\n"
	    "\n"
	    "Show the mail and phase history of a resume or contact: a header, then one\n"
	    "line per event in time order:\n"
	    "  DATE TIME  →  COUNTERPARTS  SUBJECT  [notes]      a mail sent\n"
	    "  DATE TIME  ←  COUNTERPARTS  SUBJECT  [notes]      a mail received\n"
	    "  DATE TIME  phase FROM → TO  (cause, by USER)      a phase change\n"
	    "  DATE TIME  shared MAILBOX item N  WHAT  (by USER)  an event of a shared\n"
	    "             mailbox's item of one of these mails (delivered, status,\n"
	    "             assignee, answered, forced: atsmailctl shared history N)\n"
	    "\n"
	    "  --as LOGIN  show only what the recruiter LOGIN may see (row-level\n"
	    "              security: other people's private mail is hidden).  Runs with\n"
	    "              SET ROLE atsmail_app and atsmail.acting_user = LOGIN, so the\n"
	    "              connecting login must be a member of atsmail_app.  Connecting\n"
	    "              with a recruiter's own database login (--db, users.db_role)\n"
	    "              has the same effect.\n"
	    "\n"
	    "Exit codes: 0 shown, 1 no such record (or not visible) or LOGIN is not an\n"
	    "active user, 2 usage, 3 configuration, 4 database unavailable.\n", fp);
}

static const char *const header_sql[2] = {
	"SELECT r.name, coalesce(r.kana, ''), r.phase, coalesce(p.label, r.phase),"
	" r.phase_date::text, coalesce(u.login, '-'), '',"
	" CASE WHEN r.shared THEN '' ELSE ', not shared' END"
	" FROM atsmail.resumes r LEFT JOIN atsmail.phases p ON p.kind = 'resume' AND p.code = r.phase"
	" LEFT JOIN atsmail.users u ON u.id = r.owner_id WHERE r.id = $1::bigint",
	"SELECT r.name, coalesce(r.kana, ''), r.phase, coalesce(p.label, r.phase),"
	" r.phase_date::text, coalesce(u.login, '-'), coalesce(c.name, ''),"
	" CASE WHEN r.shared THEN '' ELSE ', not shared' END"
	" FROM atsmail.contacts r LEFT JOIN atsmail.phases p ON p.kind = 'contact' AND p.code = r.phase"
	" LEFT JOIN atsmail.users u ON u.id = r.owner_id"
	" LEFT JOIN atsmail.companies c ON c.id = r.company_id WHERE r.id = $1::bigint",
};

/* Mails linked to the record (or, for a resume, to its processes) and
 * phase changes of the record and its processes, in time order.  A phase
 * change names its mail only when the session may see that mail. */
static const char timeline_sql[] =
	"WITH procs AS (SELECT p.id, j.title FROM atsmail.processes p"
	"  JOIN atsmail.jobs j ON j.id = p.job_id WHERE $1 = 'resume' AND p.resume_id = $2::bigint),"
	" mails AS (SELECT m.id, m.rfc_message_id FROM atsmail.message_links l"
	"  JOIN atsmail.messages m ON m.id = l.message_id"
	"  WHERE (l.target_kind = $1 AND l.target_id = $2::bigint)"
	"     OR (l.target_kind = 'process' AND l.target_id IN (SELECT id FROM procs)))"
	" SELECT to_char(t, 'YYYY-MM-DD HH24:MI'), what, a, b, c FROM ("
	" SELECT coalesce(m.sent_at, m.received_at, m.created_at) AS t, 0 AS ord, m.id AS oid,"
	"  CASE m.direction WHEN 'out' THEN '→' ELSE '←' END AS what,"
	"  coalesce(nullif(array_to_string(m.counterparts, ', '), ''), '-') AS a,"
	"  coalesce(nullif(m.subject, ''), '(no subject)') AS b,"
	"  concat_ws(', ', CASE WHEN m.visibility <> 'shared' THEN m.visibility END,"
	"   CASE WHEN m.is_bounce THEN 'bounce' END, CASE WHEN m.is_auto_reply THEN 'auto-reply' END,"
	"   CASE WHEN bool_or(l.ambiguous) THEN 'ambiguous' END,"
	"   CASE WHEN EXISTS (SELECT 1 FROM atsmail.message_recipients r WHERE r.message_id = m.id"
	"    AND r.status = 'bounced') THEN 'bounced' END,"
	"   'by ' || min(u.login)) AS c"
	"  FROM atsmail.message_links l JOIN atsmail.messages m ON m.id = l.message_id"
	"  LEFT JOIN atsmail.users u ON u.id = m.owner_id"
	"  WHERE (l.target_kind = $1 AND l.target_id = $2::bigint)"
	"     OR (l.target_kind = 'process' AND l.target_id IN (SELECT id FROM procs))"
	"  GROUP BY m.id"
	" UNION ALL"
	" SELECT h.at, 1, h.id, 'phase',"
	"  CASE WHEN h.kind = 'process' THEN '[' || pr.title || '] ' ELSE '' END"
	"   || coalesce(pf.label, h.from_phase, '-') || ' → ' || coalesce(pt.label, h.to_phase),"
	"  '', h.cause || coalesce(', by ' || u.login, '')"
	"   || CASE WHEN EXISTS (SELECT 1 FROM atsmail.messages m WHERE m.id = h.message_id)"
	"      THEN ', mail ' || h.message_id ELSE '' END"
	"  FROM atsmail.phase_history h"
	"  LEFT JOIN procs pr ON h.kind = 'process' AND pr.id = h.record_id"
	"  LEFT JOIN atsmail.phases pf ON pf.kind = h.kind AND pf.code = h.from_phase"
	"  LEFT JOIN atsmail.phases pt ON pt.kind = h.kind AND pt.code = h.to_phase"
	"  LEFT JOIN atsmail.users u ON u.id = h.actor_id"
	"  WHERE (h.kind = $1 AND h.record_id = $2::bigint)"
	"     OR (h.kind = 'process' AND h.record_id IN (SELECT id FROM procs))"
	" UNION ALL"
	" SELECT e.at, 2, e.id, 'shared', i.mailbox || ' item ' || i.id,"
	"  e.what || CASE WHEN e.from_value IS NULL AND e.to_value IS NULL THEN ''"
	"   ELSE ' ' || coalesce(e.from_value, '-') || ' → ' || coalesce(e.to_value, '-') END,"
	"  'by ' || e.actor"
	"  FROM atsmail.shared_events e JOIN atsmail.shared_items i ON i.id = e.item_id"
	"  WHERE i.message_id IN (SELECT id FROM mails)"
	"     OR i.rfc_message_id IN (SELECT rfc_message_id FROM mails)"
	"     OR i.thread_key IN (SELECT rfc_message_id FROM mails)"
	"     OR EXISTS (SELECT 1 FROM atsmail.shared_events r WHERE r.item_id = i.id"
	"      AND r.detail->>'reply' IN (SELECT rfc_message_id FROM mails))"
	" ) x ORDER BY t, ord, oid";

static int
history_show(struct ctl *ctx, const char *kind, const char *id, const char *as)
{
	struct atsm_err err;
	PGresult *res;
	const char *p[2];
	int i, mails = 0, phases = 0, shared = 0;

	if (atsm_db_command(ctx->conn, "BEGIN READ ONLY", 0, NULL, &err) < 0)
		return ctl_ops_db_fail("history", &err);
	if (as != NULL) {
		/* SET LOCAL ROLE: the role ends with the transaction */
		p[0] = as;
		if (atsm_db_command(ctx->conn, "SET LOCAL ROLE atsmail_app", 0, NULL, &err) < 0 ||
		    atsm_db_command(ctx->conn, "SELECT set_config('atsmail.acting_user', $1, true)",
		    1, p, &err) < 0)
			goto dbfail;
		if ((res = atsm_db_exec(ctx->conn, "SELECT atsmail.acting_user_id() IS NOT NULL",
		    0, NULL, &err)) == NULL)
			goto dbfail;
		if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
			PQclear(res);
			atsm_db_rollback(ctx->conn);
			ctl_error("history: --as %s: no active user with that login, or the "
			    "connecting login may not act for others (it must be a member of "
			    "atsmail_app and not mapped to a user itself)", as);
			return CTL_EXIT_FAIL;
		}
		PQclear(res);
	}
	p[0] = id;
	if ((res = atsm_db_exec(ctx->conn, header_sql[kind[0] == 'c'], 1, p, &err)) == NULL)
		goto dbfail;
	if (PQntuples(res) == 0) {
		PQclear(res);
		atsm_db_rollback(ctx->conn);
		ctl_error("history: no %s %s", kind, id);
		return CTL_EXIT_FAIL;
	}
	printf("%s %s  %s%s%s%s\n", kind, id, PQgetvalue(res, 0, 0),
	    *PQgetvalue(res, 0, 1) != '\0' ? " (" : "", PQgetvalue(res, 0, 1),
	    *PQgetvalue(res, 0, 1) != '\0' ? ")" : "");
	if (*PQgetvalue(res, 0, 6) != '\0')
		printf("  company %s\n", PQgetvalue(res, 0, 6));
	printf("  phase %s (%s) since %s, owner %s%s\n", PQgetvalue(res, 0, 3),
	    PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 5),
	    PQgetvalue(res, 0, 7));
	PQclear(res);
	p[0] = kind;
	p[1] = id;
	if ((res = atsm_db_exec(ctx->conn, "SELECT coalesce(string_agg(addr_norm, ', '"
	    " ORDER BY is_primary DESC, id), '-') FROM atsmail.addresses"
	    " WHERE owner_kind = $1 AND owner_id = $2::bigint", 2, p, &err)) == NULL)
		goto dbfail;
	printf("  addresses %s\n", PQgetvalue(res, 0, 0));
	PQclear(res);
	if ((res = atsm_db_exec(ctx->conn, timeline_sql, 2, p, &err)) == NULL)
		goto dbfail;
	for (i = 0; i < PQntuples(res); i++) {
		const char *what = PQgetvalue(res, i, 1), *c = PQgetvalue(res, i, 4);

		if (strcmp(what, "phase") == 0) {
			phases++;
			printf("%s  phase %s  (%s)\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 2), c);
		} else if (strcmp(what, "shared") == 0) {
			shared++;
			printf("%s  shared %s  %s  (%s)\n", PQgetvalue(res, i, 0),
			    PQgetvalue(res, i, 2), PQgetvalue(res, i, 3), c);
		} else {
			mails++;
			printf("%s  %s  %s  %s%s%s%s\n", PQgetvalue(res, i, 0), what,
			    PQgetvalue(res, i, 2), PQgetvalue(res, i, 3), *c != '\0' ? "  [" : "", c,
			    *c != '\0' ? "]" : "");
		}
	}
	PQclear(res);
	atsm_db_rollback(ctx->conn);
	if (shared > 0)
		printf("%d mail(s), %d phase change(s), %d shared mailbox event(s)\n", mails, phases,
		    shared);
	else
		printf("%d mail(s), %d phase change(s)\n", mails, phases);
	return CTL_EXIT_OK;
dbfail:
	atsm_db_rollback(ctx->conn);
	return ctl_ops_db_fail("history", &err);
}

int
ctl_cmd_history(struct ctl *ctx, int argc, char **argv)
{
	const char *kind = NULL, *id = NULL, *as = NULL, *v;
	char *end;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (ctl_is_help(argv[i])) {
			ctl_cmd_history_usage(stdout);
			return CTL_EXIT_OK;
		}
		if (ctl_ops_option(argc, argv, &i, "--as", &v)) {
			if ((as = v) == NULL)
				return CTL_EXIT_USAGE;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			ctl_error("history: unknown option '%s'; see " CTL_PROGNAME " history --help",
			    argv[i]);
			return CTL_EXIT_USAGE;
		} else if (kind == NULL) {
			kind = argv[i];
		} else if (id == NULL) {
			id = argv[i];
		} else {
			ctl_error("history: unexpected argument '%s'", argv[i]);
			return CTL_EXIT_USAGE;
		}
	}
	if (kind == NULL || id == NULL) {
		ctl_error("history: which record? resume ID or contact ID");
		ctl_cmd_history_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (strcmp(kind, "resume") != 0 && strcmp(kind, "contact") != 0) {
		ctl_error("history: '%s' is not resume or contact", kind);
		return CTL_EXIT_USAGE;
	}
	(void)strtoll(id, &end, 10);
	if (*id == '\0' || *end != '\0' || *id == '-') {
		ctl_error("history: %s id '%s' is not a number", kind, id);
		return CTL_EXIT_USAGE;
	}
	if ((rc = ctl_connect(ctx)) != 0)
		return rc;
	return history_show(ctx, kind, id, as);
}
