/* cmd-shared.c -- atsmailctl shared: the shared mailboxes' view and setup
 * (docs/shared-mailboxes.md).
 *
 *   atsmailctl shared list [--status open|unhandled|progress|done|all]
 *                          [--mailbox M] [--csv]
 *   atsmailctl shared history ITEM [--csv]
 *   atsmailctl shared member add|rm MAILBOX LOGIN | member list [MAILBOX]
 *   atsmailctl shared rule add MAILBOX --match KIND --pattern P
 *                          [--assignee LOGIN] [--prio N]
 *   atsmailctl shared rule rm ID | rule list [MAILBOX]
 *   atsmailctl shared sync ...            (cmd-shared-sync.c)
 *
 * list and history print tab-separated columns under a header line, or
 * CSV (RFC 4180, UTF-8, the same header) with --csv.  Changes run in one
 * transaction with atsmail.actor set, so that the audit entries the
 * triggers of sql/018 write name who made them.
 */
#include "ctl-ops.h"

#include <stdlib.h>
#include <string.h>

#include "shared/shared.h"

void
ctl_cmd_shared_usage(FILE *fp)
{
	fputs(
	    "usage: " CTL_PROGNAME " [OPTIONS] shared list [--status open|unhandled|progress|done|all]\n"
	    "                                    [--mailbox MAILBOX] [--csv]\n"
	    "       " CTL_PROGNAME " [OPTIONS] shared history ITEM [--csv]\n"
	    "       " CTL_PROGNAME " [OPTIONS] shared member add|rm MAILBOX LOGIN\n"
	    "       " CTL_PROGNAME " [OPTIONS] shared member list [MAILBOX]\n"
	    "       " CTL_PROGNAME " [OPTIONS] shared rule add MAILBOX --match rcpt|sender_domain|"
	    "subject|record_owner\n"
	    "                                    --pattern P [--assignee LOGIN] [--prio N]\n"
	    "       " CTL_PROGNAME " [OPTIONS] shared rule rm ID | rule list [MAILBOX]\n"
	    "       " CTL_PROGNAME " [OPTIONS] shared sync [--mailbox MAILBOX] [--doveadm CMD]\n"
	    "\n"
	    "  list     the mail of the shared mailboxes, oldest first: id, mailbox, status,\n"
	    "           assignee, since (the last change of status or assignee), from,\n"
	    "           subject, answered by.  --status open (the default) is all that is\n"
	    "           not done.\n"
	    "  history  the events of one item: delivered, status, assignee, answered and\n"
	    "           forced (a reply sent over the guard with ats+force), who and when\n"
	    "  member   who works a shared mailbox (a member's reply answers its threads)\n"
	    "  rule     assignment on delivery, first match by prio then id: rcpt (the\n"
	    "           envelope recipient), sender_domain, subject (a regular expression),\n"
	    "           record_owner (pattern resume, contact or *: the owner of the\n"
	    "           sender's record; no --assignee)\n"
	    "  sync     make the status folders and members' folders and rights (doveadm)\n"
	    "\n"
	    "Exit codes: 0 done, 1 failed (no such item, rule, user or member), 2 usage,\n"
	    "3 configuration, 4 database unavailable.\n", fp);
}

/* ---- output ------------------------------------------------------------------ */

static void
csv_field(const char *s, bool last)
{
	if (strpbrk(s, ",\"\r\n") != NULL) {
		putchar('"');
		for (; *s != '\0'; s++) {
			if (*s == '"')
				putchar('"');
			putchar(*s);
		}
		putchar('"');
	} else
		fputs(s, stdout);
	fputs(last ? "\r\n" : ",", stdout);
}

/* A tab-separated line: tabs and line breaks of a value become spaces. */
static void
tsv_field(const char *s, bool last)
{
	for (; *s != '\0'; s++)
		putchar(*s == '\t' || *s == '\r' || *s == '\n' ? ' ' : *s);
	putchar(last ? '\n' : '\t');
}

static void
print_table(const PGresult *r, const char *const *head, int ncol, bool csv)
{
	int i, k;

	for (k = 0; k < ncol; k++)
		(csv ? csv_field : tsv_field)(head[k], k == ncol - 1);
	for (i = 0; i < PQntuples(r); i++)
		for (k = 0; k < ncol; k++)
			(csv ? csv_field : tsv_field)(PQgetvalue(r, i, k), k == ncol - 1);
}

/* ---- list ---------------------------------------------------------------------- */

static const char list_sql[] =
	"SELECT i.id, i.mailbox, i.status, coalesce(ua.login, ''),"
	" to_char(i.status_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),"
	" coalesce(i.from_addr, ''), coalesce(i.subject, ''), coalesce(ub.login, '')"
	" FROM atsmail.shared_items i"
	" LEFT JOIN atsmail.users ua ON ua.id = i.assignee_user_id"
	" LEFT JOIN atsmail.users ub ON ub.id = i.answered_by_user_id"
	" WHERE ($1 = 'all' OR ($1 = 'open' AND i.status <> 'done') OR i.status = $1)"
	"   AND ($2::text IS NULL OR lower(i.mailbox) = lower($2))"
	" ORDER BY i.received_at, i.id";

static int
shared_list(struct ctl *ctx, int argc, char **argv)
{
	static const char *const statuses[] = { "open", "unhandled", "progress", "done", "all",
	    NULL };
	static const char *const head[] = { "id", "mailbox", "status", "assignee", "since",
	    "from", "subject", "answered_by" };
	const char *status = "open", *mailbox = NULL, *v, *p[2];
	struct atsm_err err;
	PGresult *r;
	bool csv = false;
	int i, rc;

	for (i = 2; i < argc; i++) {
		if (ctl_ops_option(argc, argv, &i, "--status", &v)) {
			if ((status = v) == NULL)
				return CTL_EXIT_USAGE;
			if (!ctl_ops_in(status, statuses))
				return ctl_usage_error("shared list", "--status '%s' is not open, "
				    "unhandled, progress, done or all", status);
		} else if (ctl_ops_option(argc, argv, &i, "--mailbox", &v)) {
			if ((mailbox = v) == NULL)
				return CTL_EXIT_USAGE;
		} else if (strcmp(argv[i], "--csv") == 0)
			csv = true;
		else
			return ctl_usage_error("shared list", "unexpected argument '%s'", argv[i]);
	}
	if ((rc = ctl_connect(ctx)) != 0)
		return rc;
	p[0] = status;
	p[1] = mailbox;
	atsm_err_clear(&err);
	if ((r = atsm_db_exec(ctx->conn, list_sql, 2, p, &err)) == NULL)
		return ctl_ops_db_fail("shared list", &err);
	print_table(r, head, 8, csv);
	if (!csv)
		printf("%d item(s)\n", PQntuples(r));
	PQclear(r);
	return CTL_EXIT_OK;
}

/* ---- history ------------------------------------------------------------------- */

static const char item_sql[] =
	"SELECT i.mailbox, i.status, coalesce(ua.login, '-'), coalesce(i.from_addr, ''),"
	" coalesce(i.subject, ''), coalesce(i.rfc_message_id, ''),"
	" to_char(i.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),"
	" coalesce(ub.login, '-')"
	" FROM atsmail.shared_items i"
	" LEFT JOIN atsmail.users ua ON ua.id = i.assignee_user_id"
	" LEFT JOIN atsmail.users ub ON ub.id = i.answered_by_user_id"
	" WHERE i.id = $1::bigint";

static const char events_sql[] =
	"SELECT to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), e.actor, e.what,"
	" coalesce(e.from_value, ''), coalesce(e.to_value, ''),"
	" CASE WHEN e.detail = '{}'::jsonb THEN '' ELSE e.detail::text END"
	" FROM atsmail.shared_events e WHERE e.item_id = $1::bigint ORDER BY e.at, e.id";

static int
shared_history(struct ctl *ctx, int argc, char **argv)
{
	static const char *const head[] = { "at", "actor", "what", "from", "to", "detail" };
	const char *item = NULL, *p[1];
	struct atsm_err err;
	PGresult *r;
	bool csv = false;
	char *end;
	int i, rc;

	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--csv") == 0)
			csv = true;
		else if (item == NULL && argv[i][0] != '-')
			item = argv[i];
		else
			return ctl_usage_error("shared history", "unexpected argument '%s'", argv[i]);
	}
	if (item == NULL)
		return ctl_usage_error("shared history", "which item? its id (shared list)");
	(void)strtoll(item, &end, 10);
	if (*item == '\0' || *end != '\0' || *item == '-')
		return ctl_usage_error("shared history", "item '%s' is not a number", item);
	if ((rc = ctl_connect(ctx)) != 0)
		return rc;
	p[0] = item;
	atsm_err_clear(&err);
	if ((r = atsm_db_exec(ctx->conn, item_sql, 1, p, &err)) == NULL)
		return ctl_ops_db_fail("shared history", &err);
	if (PQntuples(r) == 0) {
		PQclear(r);
		ctl_error("shared history: no item %s", item);
		return CTL_EXIT_FAIL;
	}
	if (!csv)
		printf("item %s  %s  %s, assignee %s, answered by %s\n  from %s  received %s UTC\n"
		    "  subject %s\n  message-id <%s>\n", item, PQgetvalue(r, 0, 0),
		    PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 7),
		    PQgetvalue(r, 0, 3), PQgetvalue(r, 0, 6), PQgetvalue(r, 0, 4),
		    PQgetvalue(r, 0, 5));
	PQclear(r);
	if ((r = atsm_db_exec(ctx->conn, events_sql, 1, p, &err)) == NULL)
		return ctl_ops_db_fail("shared history", &err);
	print_table(r, head, 6, csv);
	PQclear(r);
	return CTL_EXIT_OK;
}

/* ---- member -------------------------------------------------------------------- */

/* The id of an active user, or 0 after an error naming login. */
static const char *
user_id(struct ctl *ctx, const char *what, const char *login, char *buf, size_t n, int *rc)
{
	struct atsm_err err;
	const char *p[1] = { login };
	PGresult *r;

	atsm_err_clear(&err);
	if ((r = atsm_db_exec(ctx->conn, "SELECT id FROM atsmail.users WHERE lower(login) ="
	    " lower($1) AND active", 1, p, &err)) == NULL) {
		*rc = ctl_ops_db_fail(what, &err);
		return NULL;
	}
	if (PQntuples(r) == 0) {
		PQclear(r);
		ctl_error("%s: '%s' is no active user", what, login);
		*rc = CTL_EXIT_FAIL;
		return NULL;
	}
	snprintf(buf, n, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return buf;
}

static void
not_configured(struct ctl *ctx, const char *what, const char *mailbox)
{
	if (!atsm_shared_is_mailbox(&ctx->conf, mailbox))
		fprintf(stderr, CTL_PROGNAME ": %s: warning: %s is not in shared_mailboxes of %s; "
		    "its mail is not handled as a shared mailbox's until it is\n", what, mailbox,
		    ctx->conf_path);
}

/* Run one change in a transaction that names the actor: 0 rows changed is
 * an error naming what. */
static int
change(struct ctl *ctx, const char *what, const char *sql, int n, const char *const *p,
    const char *none)
{
	struct atsm_err err;
	PGresult *r;
	int rows;

	atsm_err_clear(&err);
	if (ctl_ops_begin(ctx->conn, ctl_ops_actor(NULL), &err) < 0)
		return ctl_ops_db_fail(what, &err);
	if ((r = atsm_db_exec(ctx->conn, sql, n, p, &err)) == NULL) {
		atsm_db_rollback(ctx->conn);
		return ctl_ops_db_fail(what, &err);
	}
	rows = atoi(PQcmdTuples(r));
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
		printf("%s\n", PQgetvalue(r, 0, 0));
	PQclear(r);
	if (rows == 0 && none != NULL) {
		atsm_db_rollback(ctx->conn);
		ctl_error("%s: %s", what, none);
		return CTL_EXIT_FAIL;
	}
	if (atsm_db_commit(ctx->conn, &err) < 0)
		return ctl_ops_db_fail(what, &err);
	return CTL_EXIT_OK;
}

static int
shared_member(struct ctl *ctx, int argc, char **argv)
{
	static const char *const head[] = { "mailbox", "login", "name", "added" };
	const char *sub = argc > 2 ? argv[2] : "", *p[2];
	char id[32], what[64], none[640];
	struct atsm_err err;
	PGresult *r;
	int rc = 0;

	snprintf(what, sizeof(what), "shared member %s", sub);
	if (strcmp(sub, "list") == 0) {
		if (argc > 4)
			return ctl_usage_error("shared member list", "unexpected argument '%s'",
			    argv[4]);
		if ((rc = ctl_connect(ctx)) != 0)
			return rc;
		p[0] = argc > 3 ? argv[3] : NULL;
		atsm_err_clear(&err);
		if ((r = atsm_db_exec(ctx->conn, "SELECT m.mailbox, u.login, u.display_name,"
		    " to_char(m.added_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')"
		    " FROM atsmail.shared_members m JOIN atsmail.users u ON u.id = m.user_id"
		    " WHERE $1::text IS NULL OR lower(m.mailbox) = lower($1)"
		    " ORDER BY m.mailbox, u.login", 1, p, &err)) == NULL)
			return ctl_ops_db_fail(what, &err);
		print_table(r, head, 4, false);
		PQclear(r);
		return CTL_EXIT_OK;
	}
	if (strcmp(sub, "add") != 0 && strcmp(sub, "rm") != 0)
		return ctl_usage_error("shared member", "which one? add, rm or list");
	if (argc != 5)
		return ctl_usage_error(what, "give MAILBOX LOGIN");
	if (strchr(argv[3], '@') == NULL || strpbrk(argv[3], " \t\r\n") != NULL)
		return ctl_usage_error(what, "'%s' is not a mailbox (a Dovecot user name such as "
		    "recruit@example.com)", argv[3]);
	if ((rc = ctl_connect(ctx)) != 0)
		return rc;
	if (user_id(ctx, what, argv[4], id, sizeof(id), &rc) == NULL)
		return rc;
	p[0] = argv[3];
	p[1] = id;
	if (strcmp(sub, "add") == 0) {
		not_configured(ctx, what, argv[3]);
		rc = change(ctx, what, "INSERT INTO atsmail.shared_members (mailbox, user_id)"
		    " VALUES (lower($1), $2::bigint) ON CONFLICT DO NOTHING", 2, p, NULL);
		if (rc == CTL_EXIT_OK)
			printf("%s is a member of %s\n", argv[4], argv[3]);
		return rc;
	}
	snprintf(none, sizeof(none), "%s is not a member of %s", argv[4], argv[3]);
	rc = change(ctx, what, "DELETE FROM atsmail.shared_members WHERE lower(mailbox) ="
	    " lower($1) AND user_id = $2::bigint", 2, p, none);
	if (rc == CTL_EXIT_OK)
		printf("%s is no longer a member of %s\n", argv[4], argv[3]);
	return rc;
}

/* ---- rule ---------------------------------------------------------------------- */

static int
rule_add(struct ctl *ctx, int argc, char **argv)
{
	static const char *const matches[] = { "rcpt", "sender_domain", "subject",
	    "record_owner", NULL };
	const char *mailbox = NULL, *match = NULL, *pattern = NULL, *assignee = NULL;
	const char *prio = "100", *v, *p[5];
	char id[32], *end;
	int i, rc = 0;

	for (i = 3; i < argc; i++) {
		if (ctl_ops_option(argc, argv, &i, "--match", &v)) {
			if ((match = v) == NULL)
				return CTL_EXIT_USAGE;
		} else if (ctl_ops_option(argc, argv, &i, "--pattern", &v)) {
			if ((pattern = v) == NULL)
				return CTL_EXIT_USAGE;
		} else if (ctl_ops_option(argc, argv, &i, "--assignee", &v)) {
			if ((assignee = v) == NULL)
				return CTL_EXIT_USAGE;
		} else if (ctl_ops_option(argc, argv, &i, "--prio", &v)) {
			if ((prio = v) == NULL)
				return CTL_EXIT_USAGE;
		} else if (mailbox == NULL && argv[i][0] != '-')
			mailbox = argv[i];
		else
			return ctl_usage_error("shared rule add", "unexpected argument '%s'", argv[i]);
	}
	if (mailbox == NULL || match == NULL || pattern == NULL)
		return ctl_usage_error("shared rule add", "give MAILBOX, --match and --pattern");
	if (!ctl_ops_in(match, matches))
		return ctl_usage_error("shared rule add", "--match '%s' is not rcpt, sender_domain, "
		    "subject or record_owner", match);
	if (strcmp(match, "record_owner") == 0 && assignee != NULL)
		return ctl_usage_error("shared rule add", "--match record_owner takes no "
		    "--assignee: the owner of the sender's record is the assignee");
	if (strcmp(match, "record_owner") != 0 && assignee == NULL)
		return ctl_usage_error("shared rule add", "--match %s needs --assignee LOGIN", match);
	(void)strtol(prio, &end, 10);
	if (*prio == '\0' || *end != '\0')
		return ctl_usage_error("shared rule add", "--prio '%s' is not a number", prio);
	if ((rc = ctl_connect(ctx)) != 0)
		return rc;
	if (assignee != NULL && user_id(ctx, "shared rule add", assignee, id, sizeof(id),
	    &rc) == NULL)
		return rc;
	not_configured(ctx, "shared rule add", mailbox);
	p[0] = mailbox;
	p[1] = prio;
	p[2] = match;
	p[3] = pattern;
	p[4] = assignee != NULL ? id : NULL;
	return change(ctx, "shared rule add", "INSERT INTO atsmail.shared_rules (mailbox, prio,"
	    " match, pattern, assignee_user_id) VALUES (lower($1), $2::integer, $3, $4,"
	    " $5::bigint) RETURNING 'rule ' || id", 5, p, NULL);
}

static int
shared_rule(struct ctl *ctx, int argc, char **argv)
{
	static const char *const head[] = { "id", "mailbox", "prio", "match", "pattern",
	    "assignee" };
	const char *sub = argc > 2 ? argv[2] : "", *p[1];
	struct atsm_err err;
	PGresult *r;
	char *end;
	int rc;

	if (strcmp(sub, "add") == 0)
		return rule_add(ctx, argc, argv);
	if (strcmp(sub, "list") == 0) {
		if (argc > 4)
			return ctl_usage_error("shared rule list", "unexpected argument '%s'",
			    argv[4]);
		if ((rc = ctl_connect(ctx)) != 0)
			return rc;
		p[0] = argc > 3 ? argv[3] : NULL;
		atsm_err_clear(&err);
		if ((r = atsm_db_exec(ctx->conn, "SELECT r.id, r.mailbox, r.prio, r.match,"
		    " r.pattern, coalesce(u.login, CASE WHEN r.match = 'record_owner'"
		    " THEN '(the owner)' ELSE '' END)"
		    " FROM atsmail.shared_rules r LEFT JOIN atsmail.users u"
		    " ON u.id = r.assignee_user_id"
		    " WHERE $1::text IS NULL OR lower(r.mailbox) = lower($1)"
		    " ORDER BY r.mailbox, r.prio, r.id", 1, p, &err)) == NULL)
			return ctl_ops_db_fail("shared rule list", &err);
		print_table(r, head, 6, false);
		PQclear(r);
		return CTL_EXIT_OK;
	}
	if (strcmp(sub, "rm") != 0)
		return ctl_usage_error("shared rule", "which one? add, rm or list");
	if (argc != 4)
		return ctl_usage_error("shared rule rm", "give the rule's ID (shared rule list)");
	(void)strtoll(argv[3], &end, 10);
	if (*argv[3] == '\0' || *end != '\0' || *argv[3] == '-')
		return ctl_usage_error("shared rule rm", "rule '%s' is not a number", argv[3]);
	if ((rc = ctl_connect(ctx)) != 0)
		return rc;
	p[0] = argv[3];
	rc = change(ctx, "shared rule rm", "DELETE FROM atsmail.shared_rules WHERE id ="
	    " $1::bigint", 1, p, "no such rule");
	if (rc == CTL_EXIT_OK)
		printf("rule %s removed\n", argv[3]);
	return rc;
}

int
ctl_cmd_shared(struct ctl *ctx, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (sub == NULL)
		return ctl_usage_error("shared", "which one? list, history, member, rule or sync");
	if (ctl_is_help(sub) || (argc > 2 && ctl_is_help(argv[2]))) {
		ctl_cmd_shared_usage(stdout);
		return CTL_EXIT_OK;
	}
	if (strcmp(sub, "list") == 0)
		return shared_list(ctx, argc, argv);
	if (strcmp(sub, "history") == 0)
		return shared_history(ctx, argc, argv);
	if (strcmp(sub, "member") == 0)
		return shared_member(ctx, argc, argv);
	if (strcmp(sub, "rule") == 0)
		return shared_rule(ctx, argc, argv);
	if (strcmp(sub, "sync") == 0)
		return ctl_cmd_shared_sync(ctx, argc - 1, argv + 1);
	return ctl_usage_error("shared", "unknown subcommand '%s' (list, history, member, rule, "
	    "sync)", sub);
}
