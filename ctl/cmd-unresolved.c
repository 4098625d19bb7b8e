/* cmd-unresolved.c -- atsmailctl unresolved: intake mail waiting for a
 * person to say which record it belongs to.
 *
 *   atsmailctl unresolved list [--all]
 *   atsmailctl unresolved assign ITEM resume|contact ID [--add-address] [--actor NAME]
 *
 * The Dovecot plugin files mail sent to an intake address (intake_addresses
 * with action 'unresolved') by an unknown sender as an unresolved_items
 * row.  assign files it: in one transaction the item is marked (record,
 * assigned_by = the actor when the actor is a user, assigned_at), the
 * message is linked to the record with rule 'manual', optionally the
 * sender's address is added to the record so that the next mail files
 * itself, and the audit entry "unresolved.assign" is written.
 */
#include "ctl-ops.h"

#include <stdlib.h>
#include <string.h>

#include "mail/addr.h"

void
ctl_cmd_unresolved_usage(FILE *fp)
{
	fputs(
	    "usage: " CTL_PROGNAME " [OPTIONS] unresolved list [--all]\n"
	    "       " CTL_PROGNAME " [OPTIONS] unresolved assign ITEM resume|contact ID\n"
	    "                                    [--add-address] [--actor NAME]\n"
	    "\n"
	    "  list    the intake mail waiting for a record: ITEM, date, sender, subject;\n"
	    "          --all also the items already assigned (with their record)\n"
	    "  assign  file item ITEM on the resume or contact ID: the message is linked\n"
	    "          to the record (rule manual) and the item is closed; with\n"
	    "          --add-address the sender's address is added to the record, so that\n"
	    "          the sender's next mail is filed without help.  Audited, with the\n"
	    "          actor --actor NAME or the login running " CTL_PROGNAME ".\n"
	    "\n"
	    "Exit codes: 0 done (also an item assigned again to the same record), 1 no\n"
	    "such item or record, or the item was assigned to another record, 2 usage,\n"
	    "3 configuration, 4 database unavailable.\n", fp);
}

static int
unresolved_list(struct ctl *ctx, bool all)
{
	struct atsm_err err;
	const char *p[1] = { all ? "t" : "f" };
	PGresult *res;
	int i, open = 0, rc;

	if ((rc = ctl_connect(ctx)) != 0)
		return rc;
	if ((res = atsm_db_exec(ctx->conn, "SELECT u.id,"
	    " to_char(coalesce(m.received_at, u.created_at), 'YYYY-MM-DD HH24:MI'), u.sender,"
	    " coalesce(nullif(m.subject, ''), '(no subject)'),"
	    " coalesce(u.record_kind || ' ' || u.record_id, '')"
	    " FROM atsmail.unresolved_items u JOIN atsmail.messages m ON m.id = u.message_id"
	    " WHERE $1::boolean OR u.record_id IS NULL ORDER BY u.created_at, u.id", 1, p,
	    &err)) == NULL)
		return ctl_ops_db_fail("unresolved list", &err);
	for (i = 0; i < PQntuples(res); i++) {
		const char *rec = PQgetvalue(res, i, 4);

		if (*rec == '\0')
			open++;
		printf("%-6s %s  %-32s %s%s%s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		    PQgetvalue(res, i, 2), PQgetvalue(res, i, 3), *rec != '\0' ? "  -> " : "", rec);
	}
	printf("%d waiting\n", open);
	PQclear(res);
	return CTL_EXIT_OK;
}

static int
unresolved_assign(struct ctl *ctx, const char *item, const char *kind, const char *id,
    bool add_address, const char *actor)
{
	struct atsm_err err;
	char msgid[32], *sender = NULL, *norm = NULL;
	const char *p[5];
	PGresult *res;
	bool added = false;
	int rc;

	if ((rc = ctl_connect(ctx)) != 0)
		return rc;
	if (ctl_ops_begin(ctx->conn, actor, &err) < 0)
		return ctl_ops_db_fail("unresolved assign", &err);
	p[0] = item;
	if ((res = atsm_db_exec(ctx->conn, "SELECT message_id, sender, record_kind, record_id,"
	    " to_char(assigned_at, 'YYYY-MM-DD HH24:MI')"
	    " FROM atsmail.unresolved_items WHERE id = $1::bigint FOR UPDATE", 1, p,
	    &err)) == NULL)
		goto dbfail;
	if (PQntuples(res) == 0) {
		PQclear(res);
		atsm_db_rollback(ctx->conn);
		ctl_error("unresolved assign: no item %s (see " CTL_PROGNAME " unresolved list)",
		    item);
		return CTL_EXIT_FAIL;
	}
	if (!PQgetisnull(res, 0, 3)) {
		bool same = strcmp(PQgetvalue(res, 0, 2), kind) == 0 &&
		    strcmp(PQgetvalue(res, 0, 3), id) == 0;

		if (!same)
			ctl_error("unresolved assign: item %s was assigned to %s %s on %s already",
			    item, PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 4));
		else
			printf("item %s: already assigned to %s %s, unchanged\n", item, kind, id);
		PQclear(res);
		atsm_db_rollback(ctx->conn);
		return same ? CTL_EXIT_OK : CTL_EXIT_FAIL;
	}
	snprintf(msgid, sizeof(msgid), "%s", PQgetvalue(res, 0, 0));
	sender = strdup(PQgetvalue(res, 0, 1));
	PQclear(res);
	if (sender == NULL) {
		atsm_db_rollback(ctx->conn);
		ctl_error("unresolved assign: out of memory");
		return CTL_EXIT_FAIL;
	}

	p[0] = id;
	if ((res = atsm_db_exec(ctx->conn, strcmp(kind, "resume") == 0 ?
	    "SELECT name FROM atsmail.resumes WHERE id = $1::bigint" :
	    "SELECT name FROM atsmail.contacts WHERE id = $1::bigint", 1, p, &err)) == NULL)
		goto dbfail;
	if (PQntuples(res) == 0) {
		PQclear(res);
		atsm_db_rollback(ctx->conn);
		ctl_error("unresolved assign: no %s %s", kind, id);
		free(sender);
		return CTL_EXIT_FAIL;
	}
	PQclear(res);

	p[0] = item;
	p[1] = kind;
	p[2] = id;
	p[3] = actor;
	if (atsm_db_command(ctx->conn, "UPDATE atsmail.unresolved_items SET record_kind = $2,"
	    " record_id = $3::bigint, assigned_at = now(),"
	    " assigned_by = (SELECT id FROM atsmail.users WHERE login = $4)"
	    " WHERE id = $1::bigint", 4, p, &err) < 0)
		goto dbfail;
	p[0] = msgid;
	if (atsm_db_command(ctx->conn, "INSERT INTO atsmail.message_links"
	    " (message_id, target_kind, target_id, rule) VALUES ($1::bigint, $2, $3::bigint, 'manual')"
	    " ON CONFLICT (message_id, target_kind, target_id) DO NOTHING", 3, p, &err) < 0)
		goto dbfail;
	if (add_address) {
		if (atsm_addr_normalize(sender, &norm, &err) < 0) {
			atsm_db_rollback(ctx->conn);
			ctl_error("unresolved assign --add-address: the sender of item %s: %s", item,
			    err.msg);
			free(sender);
			return CTL_EXIT_FAIL;
		}
		p[0] = kind;
		p[1] = id;
		p[2] = norm;
		if ((res = atsm_db_exec(ctx->conn, "INSERT INTO atsmail.addresses"
		    " (owner_kind, owner_id, addr_norm) VALUES ($1, $2::bigint, $3)"
		    " ON CONFLICT (owner_kind, owner_id, addr_norm) DO NOTHING RETURNING id", 3, p,
		    &err)) == NULL)
			goto dbfail;
		added = PQntuples(res) > 0;
		PQclear(res);
	}
	if (ctl_ops_audit(ctx->conn, actor, "unresolved.assign", "unresolved_item", item,
	    json_pack("{s:I, s:s, s:s, s:I, s:b}", "message_id",
		(json_int_t)strtoll(msgid, NULL, 10), "sender", sender, "record_kind", kind,
		"record_id", (json_int_t)strtoll(id, NULL, 10), "address_added", added),
	    &err) < 0 || atsm_db_commit(ctx->conn, &err) < 0)
		goto dbfail;
	printf("item %s (from %s) assigned to %s %s%s%s\n", item, sender, kind, id,
	    added ? "; address added: " : "", added ? norm : "");
	free(sender);
	free(norm);
	return CTL_EXIT_OK;
dbfail:
	atsm_db_rollback(ctx->conn);
	free(sender);
	free(norm);
	return ctl_ops_db_fail("unresolved assign", &err);
}

static bool
is_id(const char *s)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	(void)strtoll(s, &end, 10);
	return *end == '\0' && strlen(s) < 19;
}

int
ctl_cmd_unresolved(struct ctl *ctx, int argc, char **argv)
{
	const char *args[3], *actor = NULL, *v;
	bool all = false, add_address = false;
	int i, n = 0;

	if (argc < 2) {
		ctl_error("unresolved: which one? list or assign");
		ctl_cmd_unresolved_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	for (i = 1; i < argc; i++)
		if (ctl_is_help(argv[i])) {
			ctl_cmd_unresolved_usage(stdout);
			return CTL_EXIT_OK;
		}
	if (strcmp(argv[1], "list") != 0 && strcmp(argv[1], "assign") != 0) {
		ctl_error("unresolved: unknown subcommand '%s' (known: list, assign)", argv[1]);
		return CTL_EXIT_USAGE;
	}
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--all") == 0 && argv[1][0] == 'l') {
			all = true;
		} else if (strcmp(argv[i], "--add-address") == 0 && argv[1][0] == 'a') {
			add_address = true;
		} else if (argv[1][0] == 'a' && ctl_ops_option(argc, argv, &i, "--actor", &v)) {
			if ((actor = v) == NULL)
				return CTL_EXIT_USAGE;
		} else if (argv[i][0] == '-') {
			ctl_error("unresolved %s: unknown option '%s'", argv[1], argv[i]);
			return CTL_EXIT_USAGE;
		} else if (n < 3) {
			args[n++] = argv[i];
		} else {
			ctl_error("unresolved %s: unexpected argument '%s'", argv[1], argv[i]);
			return CTL_EXIT_USAGE;
		}
	}
	if (argv[1][0] == 'l') {
		if (n > 0) {
			ctl_error("unresolved list: unexpected argument '%s'", args[0]);
			return CTL_EXIT_USAGE;
		}
		return unresolved_list(ctx, all);
	}
	if (n != 3) {
		ctl_error("unresolved assign: needs ITEM resume|contact ID");
		return CTL_EXIT_USAGE;
	}
	if (!is_id(args[0]) || !is_id(args[2])) {
		ctl_error("unresolved assign: '%s' is not an id", is_id(args[0]) ? args[2] : args[0]);
		return CTL_EXIT_USAGE;
	}
	if (strcmp(args[1], "resume") != 0 && strcmp(args[1], "contact") != 0) {
		ctl_error("unresolved assign: '%s' is not resume or contact", args[1]);
		return CTL_EXIT_USAGE;
	}
	return unresolved_assign(ctx, args[0], args[1], args[2], add_address,
	    ctl_ops_actor(actor));
}
