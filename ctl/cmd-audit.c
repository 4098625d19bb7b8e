/* cmd-audit.c -- atsmailctl audit: the hash-chained audit log.
 *
 *   atsmailctl audit verify
 *   atsmailctl audit export [--since DATE] [--until DATE]
 *
 * verify runs atsmail.audit_verify() (sql/003-audit-outbox.sql), which
 * walks the chain in id order and stops at the first row whose prev_hash
 * or hash is wrong; it prints that row and the problem (exit 1), or the
 * number of rows and the hash of the last one -- keep that hash somewhere
 * else: a superuser could rewrite the whole chain consistently, but not
 * a hash kept outside the database.  export prints the entries as JSON
 * lines (jansson), one object per row in id order, read in pages by id so
 * that memory does not grow with the log.
 */
#include "ctl-ops.h"

#include <stdlib.h>
#include <string.h>

#define AUDIT_PAGE "1000"      /* rows fetched per round trip by export */

void
ctl_cmd_audit_usage(FILE *fp)
{
	fputs(
	    "usage: " CTL_PROGNAME " [OPTIONS] audit verify\n"
	    "       " CTL_PROGNAME " [OPTIONS] audit export [--since DATE] [--until DATE]\n"
	    "\n"
	    "  verify  walk the hash chain of the audit log; print \"audit log intact: N\n"
	    "          rows, last id ID, last hash HASH\" (keep that hash outside the\n"
	    "          database), or the first row that was edited, deleted or reordered\n"
	    "          and exit 1\n"
	    "  export  print the entries (of at >= --since and < --until, in any form\n"
	    "          PostgreSQL reads as a timestamp: 2025-02-01, '2025-02-01 09:00+09')\n"
	    "          as JSON lines: {\"id\", \"at\" (UTC), \"actor\", \"action\", \"object_kind\",\n"
	    "          \"object_id\", \"detail\", \"prev_hash\", \"hash\"}\n"
	    "\n"
	    "Needs a login that may read the audit log (atsmail_writer, atsmail_auditor).\n"
	    "Exit codes: 0 done (verify: the chain is intact), 1 the chain is broken or\n"
	    "the query failed, 2 usage (also a DATE that is not a date), 3 configuration,\n"
	    "4 database unavailable.\n", fp);
}

static int
audit_verify(struct ctl *ctx)
{
	struct atsm_err err;
	PGresult *res, *head;
	int rc;

	if ((rc = ctl_connect(ctx)) != 0)
		return rc;
	if ((res = atsm_db_exec(ctx->conn, "SELECT ok, checked, first_bad_id, problem"
	    " FROM atsmail.audit_verify()", 0, NULL, &err)) == NULL)
		return ctl_ops_db_fail("audit verify", &err);
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		ctl_error("audit verify: the audit log is broken at row %s: %s",
		    PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3));
		printf("audit log BROKEN at row %s (%s rows before it are intact)\n",
		    PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 1));
		PQclear(res);
		return CTL_EXIT_FAIL;
	}
	if ((head = atsm_db_exec(ctx->conn, "SELECT coalesce(last_id::text, 'none'),"
	    " encode(last_hash, 'hex') FROM atsmail.audit_head", 0, NULL, &err)) == NULL) {
		PQclear(res);
		return ctl_ops_db_fail("audit verify", &err);
	}
	printf("audit log intact: %s rows, last id %s, last hash %s\n", PQgetvalue(res, 0, 1),
	    PQntuples(head) > 0 ? PQgetvalue(head, 0, 0) : "none",
	    PQntuples(head) > 0 ? PQgetvalue(head, 0, 1) : "-");
	PQclear(head);
	PQclear(res);
	return CTL_EXIT_OK;
}

static json_t *
text_or_null(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? json_null() : json_string(PQgetvalue(res, row, col));
}

/* One row as a JSON line on stdout. */
static int
export_row(PGresult *res, int i)
{
	json_t *o, *detail;
	int r;

	detail = json_loads(PQgetvalue(res, i, 6), JSON_DECODE_ANY, NULL);
	if (detail == NULL)
		detail = json_string(PQgetvalue(res, i, 6));
	o = json_pack("{s:I, s:s, s:o, s:s, s:o, s:o, s:o, s:s, s:s}",
	    "id", (json_int_t)strtoll(PQgetvalue(res, i, 0), NULL, 10),
	    "at", PQgetvalue(res, i, 1),
	    "actor", text_or_null(res, i, 2),
	    "action", PQgetvalue(res, i, 3),
	    "object_kind", text_or_null(res, i, 4),
	    "object_id", text_or_null(res, i, 5),
	    "detail", detail,
	    "prev_hash", PQgetvalue(res, i, 7),
	    "hash", PQgetvalue(res, i, 8));
	if (o == NULL)
		return -1;
	r = json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (r < 0 || putchar('\n') == EOF)
		return -1;
	return 0;
}

static int
audit_export(struct ctl *ctx, const char *since, const char *until)
{
	struct atsm_err err;
	char last[32] = "0";
	const char *p[4];
	PGresult *res;
	long total = 0;
	int i, n, rc;

	if ((rc = ctl_connect(ctx)) != 0)
		return rc;
	for (;;) {
		p[0] = last;
		p[1] = since;
		p[2] = until;
		p[3] = AUDIT_PAGE;
		res = atsm_db_exec(ctx->conn, "SELECT id,"
		    " to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
		    " actor, action, object_kind, object_id, detail::text,"
		    " encode(prev_hash, 'hex'), encode(hash, 'hex')"
		    " FROM atsmail.audit_log WHERE id > $1::bigint"
		    " AND ($2::timestamptz IS NULL OR at >= $2::timestamptz)"
		    " AND ($3::timestamptz IS NULL OR at < $3::timestamptz)"
		    " ORDER BY id LIMIT $4::integer", 4, p, &err);
		if (res == NULL) {
			if (err.cls == ATSM_ERR_REFUSED && strncmp(err.sqlstate, "22", 2) == 0) {
				ctl_error("audit export: --since '%s' or --until '%s' is not a date: %s",
				    since != NULL ? since : "", until != NULL ? until : "", err.msg);
				return CTL_EXIT_USAGE;
			}
			return ctl_ops_db_fail("audit export", &err);
		}
		n = PQntuples(res);
		for (i = 0; i < n; i++)
			if (export_row(res, i) < 0) {
				PQclear(res);
				ctl_error("audit export: cannot write row %ld", total + i + 1);
				return CTL_EXIT_FAIL;
			}
		total += n;
		if (n > 0)
			snprintf(last, sizeof(last), "%s", PQgetvalue(res, n - 1, 0));
		PQclear(res);
		if (n < atoi(AUDIT_PAGE))
			break;
	}
	return CTL_EXIT_OK;
}

int
ctl_cmd_audit(struct ctl *ctx, int argc, char **argv)
{
	const char *since = NULL, *until = NULL, *v;
	int i;

	if (argc < 2) {
		ctl_error("audit: which one? verify or export");
		ctl_cmd_audit_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	for (i = 1; i < argc; i++)
		if (ctl_is_help(argv[i])) {
			ctl_cmd_audit_usage(stdout);
			return CTL_EXIT_OK;
		}
	if (strcmp(argv[1], "verify") == 0) {
		if (argc > 2) {
			ctl_error("audit verify: unexpected argument '%s'", argv[2]);
			return CTL_EXIT_USAGE;
		}
		return audit_verify(ctx);
	}
	if (strcmp(argv[1], "export") != 0) {
		ctl_error("audit: unknown subcommand '%s' (known: verify, export)", argv[1]);
		return CTL_EXIT_USAGE;
	}
	for (i = 2; i < argc; i++) {
		if (ctl_ops_option(argc, argv, &i, "--since", &v)) {
			if ((since = v) == NULL)
				return CTL_EXIT_USAGE;
		} else if (ctl_ops_option(argc, argv, &i, "--until", &v)) {
			if ((until = v) == NULL)
				return CTL_EXIT_USAGE;
		} else {
			ctl_error("audit export: unexpected argument '%s'; see " CTL_PROGNAME
			    " audit --help", argv[i]);
			return CTL_EXIT_USAGE;
		}
	}
	return audit_export(ctx, since, until);
}
