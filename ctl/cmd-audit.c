/* cmd-audit.c -- atsmailctl audit: the hash-chained audit log.
 *
 *   atsmailctl audit verify [--anchor FILE]
 *   atsmailctl audit anchor --file FILE
 *   atsmailctl audit export [--since DATE] [--until DATE]
 *
 * verify runs atsmail.audit_verify() (sql/003-audit-outbox.sql), which
 * walks the chain in id order and stops at the first row whose prev_hash
 * or hash is wrong; it prints that row and the problem (exit 1), or the
 * number of rows and the hash of the last one.  A superuser can rewrite
 * the chain consistently -- delete the tail and set the head to the new
 * last row -- and audit_verify() cannot tell; a hash kept outside the
 * database can.  anchor publishes the verified head (id and hash) to
 * syslog and appends it as a line to FILE, which an auditor keeps (a cron
 * job or systemd timer: docs/atsmailctl.md, "The auditor's anchor");
 * verify --anchor FILE then also checks that every entry anchored there
 * is still in the log with the same hash, and names the first that is
 * not (exit 1).  Anchor lines are audit-anchors.c's format.  export
 * prints the entries as JSON lines (jansson), one object per row in id
 * order, read in pages by id so that memory does not grow with the log.
 */
#include "ctl-ops.h"
#include "audit-anchors.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#define AUDIT_PAGE "1000"      /* rows fetched per round trip by export */

void
ctl_cmd_audit_usage(FILE *fp)
{
	fputs(
	    "usage: " CTL_PROGNAME " [OPTIONS] audit verify [--anchor FILE]\n"
	    "       " CTL_PROGNAME " [OPTIONS] audit anchor --file FILE\n"
	    "       " CTL_PROGNAME " [OPTIONS] audit export [--since DATE] [--until DATE]\n"
	    "\n"
	    "  verify  walk the hash chain of the audit log; print \"audit log intact: N\n"
	    "          rows, last id ID, last hash HASH\", or the first row that was\n"
	    "          edited, deleted or reordered and exit 1; with --anchor FILE, also\n"
	    "          check every entry anchored in FILE is still there with its hash\n"
	    "          (a rewritten tail) and name the first that is not (exit 1)\n"
	    "  anchor  verify, then publish the chain's head: syslog (authpriv.notice)\n"
	    "          and a line \"TIME id=ID hash=HASH rows=N\" appended to FILE, the\n"
	    "          file an auditor keeps (run it from cron or a systemd timer)\n"
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

/* Every anchor of FILE still in the log with its hash: 0, or the exit
 * code after a message naming the first anchored entry that is not. */
static int
check_anchors(struct ctl *ctx, const char *file, size_t *nchecked)
{
	struct ctl_anchors an;
	struct atsm_err err;
	const char *p[2];
	PGresult *res;
	size_t i;
	int rc = CTL_EXIT_OK;

	if (ctl_anchors_read(file, &an) < 0)
		return CTL_EXIT_FAIL;
	*nchecked = an.n;
	if (an.n == 0) {
		ctl_error("audit verify: %s holds no anchor line", file);
		ctl_anchors_free(&an);
		return CTL_EXIT_FAIL;
	}
	p[0] = an.ids;
	p[1] = an.hashes;
	/* the first anchored entry that is gone or changed, in id order */
	res = atsm_db_exec(ctx->conn, "SELECT a.id, a.hash, l.id IS NOT NULL,"
	    " encode(l.hash, 'hex'), a.n"
	    " FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS a(id, hash, n)"
	    " LEFT JOIN atsmail.audit_log l ON l.id = a.id"
	    " WHERE l.id IS NULL OR encode(l.hash, 'hex') <> a.hash"
	    " ORDER BY a.id, a.n LIMIT 1", 2, p, &err);
	if (res == NULL) {
		ctl_anchors_free(&an);
		return ctl_ops_db_fail("audit verify", &err);
	}
	if (PQntuples(res) > 0) {
		i = (size_t)strtoul(PQgetvalue(res, 0, 4), NULL, 10) - 1;
		if (strcmp(PQgetvalue(res, 0, 2), "t") != 0)
			ctl_error("audit verify: anchored entry %s (%s line %u, anchored %s) is missing "
			    "from the audit log: the chain was cut back and rewritten after it",
			    PQgetvalue(res, 0, 0), file, an.lines[i], an.times[i]);
		else
			ctl_error("audit verify: anchored entry %s (%s line %u, anchored %s) has hash "
			    "%s, but %s was anchored: the chain was rewritten up to it",
			    PQgetvalue(res, 0, 0), file, an.lines[i], an.times[i],
			    PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 1));
		printf("audit log REWRITTEN: anchored entry %s does not match %s\n",
		    PQgetvalue(res, 0, 0), file);
		rc = CTL_EXIT_FAIL;
	}
	PQclear(res);
	ctl_anchors_free(&an);
	return rc;
}

static int
audit_verify(struct ctl *ctx, const char *anchor_file)
{
	struct atsm_err err;
	PGresult *res, *head;
	size_t nanchors = 0;
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
	if (anchor_file != NULL && (rc = check_anchors(ctx, anchor_file, &nanchors)) != 0) {
		PQclear(head);
		PQclear(res);
		return rc;
	}
	printf("audit log intact: %s rows, last id %s, last hash %s\n", PQgetvalue(res, 0, 1),
	    PQntuples(head) > 0 ? PQgetvalue(head, 0, 0) : "none",
	    PQntuples(head) > 0 ? PQgetvalue(head, 0, 1) : "-");
	if (anchor_file != NULL)
		printf("%zu anchor%s of %s match\n", nanchors, nanchors == 1 ? "" : "s",
		    anchor_file);
	PQclear(head);
	PQclear(res);
	return CTL_EXIT_OK;
}

/* Verify the chain, then publish its head: syslog and a line of file. */
static int
audit_anchor(struct ctl *ctx, const char *file)
{
	struct atsm_err err;
	PGresult *res;
	char line[256];
	int rc;

	if ((rc = ctl_connect(ctx)) != 0)
		return rc;
	/* one statement: the head and the verdict on the chain it ends */
	if ((res = atsm_db_exec(ctx->conn, "SELECT v.ok, v.first_bad_id, v.problem,"
	    " h.last_id, encode(h.last_hash, 'hex'), v.checked,"
	    " to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
	    " FROM atsmail.audit_verify() v, atsmail.audit_head h", 0, NULL, &err)) == NULL)
		return ctl_ops_db_fail("audit anchor", &err);
	if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		ctl_error("audit anchor: the audit log is broken at row %s: %s: nothing anchored",
		    PQntuples(res) == 1 ? PQgetvalue(res, 0, 1) : "?",
		    PQntuples(res) == 1 ? PQgetvalue(res, 0, 2) : "no chain head");
		PQclear(res);
		return CTL_EXIT_FAIL;
	}
	if (PQgetisnull(res, 0, 3)) {
		printf("audit log is empty: nothing to anchor\n");
		PQclear(res);
		return CTL_EXIT_OK;
	}
	snprintf(line, sizeof(line), "%s id=%s hash=%s rows=%s", PQgetvalue(res, 0, 6),
	    PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 5));
	PQclear(res);
	if (ctl_anchors_append(file, line) < 0)
		return CTL_EXIT_FAIL;
	openlog(CTL_PROGNAME, LOG_PID, LOG_AUTHPRIV);
	syslog(LOG_NOTICE, "audit anchor: %s", line);
	closelog();
	printf("anchored: %s\n", line);
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
		ctl_error("audit: which one? verify, anchor or export");
		ctl_cmd_audit_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	for (i = 1; i < argc; i++)
		if (ctl_is_help(argv[i])) {
			ctl_cmd_audit_usage(stdout);
			return CTL_EXIT_OK;
		}
	if (strcmp(argv[1], "verify") == 0 || strcmp(argv[1], "anchor") == 0) {
		bool verify = argv[1][0] == 'v';
		const char *file = NULL;

		for (i = 2; i < argc; i++) {
			if (ctl_ops_option(argc, argv, &i, verify ? "--anchor" : "--file", &v)) {
				if ((file = v) == NULL)
					return CTL_EXIT_USAGE;
			} else {
				ctl_error("audit %s: unexpected argument '%s'", argv[1], argv[i]);
				return CTL_EXIT_USAGE;
			}
		}
		if (verify)
			return audit_verify(ctx, file);
		if (file == NULL) {
			ctl_error("audit anchor: name the auditor's file with --file FILE");
			return CTL_EXIT_USAGE;
		}
		return audit_anchor(ctx, file);
	}
	if (strcmp(argv[1], "export") != 0) {
		ctl_error("audit: unknown subcommand '%s' (known: verify, anchor, export)", argv[1]);
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
