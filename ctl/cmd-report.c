/* cmd-report.c -- atsmailctl report: what a period's mail did, per
 * recruiter, per shared mailbox and per job (docs/reports.md).
 *
 *   atsmailctl report [--from DATE] [--to DATE] [--tz ZONE]
 *       [--by recruiter|mailbox|job|all] [--part rows|days|funnel|aging|all]
 *       [--as LOGIN] [--office-hours] [--csv [--bom]] [--html FILE]
 *
 * The figures are read by ctl_report_fetch() (report-fetch.c) under
 * row-level security and drawn by lib/report/table.c (terminal, CSV) or
 * ctl_report_html() (report-html.c).  This file parses the command line
 * and turns the dates into the period's instants in the report's zone.
 */
#include "report.h"
#include "report-page.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-ops.h"
#include "report/table.h"

/* the largest output: thousands of rows of a few hundred bytes */
#define REPORT_OUT_MAX (256u * 1024u * 1024u)

void
ctl_cmd_report_usage(FILE *fp)
{
	fputs(
	    "usage: " CTL_PROGNAME " [OPTIONS] report [--from DATE] [--to DATE] [--tz ZONE]\n"
	    "           [--by recruiter|mailbox|job|all] [--part rows|days|funnel|aging|all]\n"
	    "           [--as LOGIN] [--office-hours] [--csv [--bom]] [--html FILE]\n"
	    "\n"
	    "What the mail of a period did, per recruiter, per shared mailbox and per job:\n"
	    "mail sent, replies received, reply rate, bounces (hard, soft), median and 90th\n"
	    "percentile of the time to the first reply (in: the candidate's to our mail;\n"
	    "out: ours to the candidate's), mail held for approval and open shared-mailbox\n"
	    "mail now; sent and replies per day; the processes mail moved into each phase\n"
	    "(a funnel per job); open shared-mailbox mail by age.  docs/reports.md.\n"
	    "\n"
	    "  --from DATE    the first day (YYYY-MM-DD in the zone); default: 6 days\n"
	    "                 before --to\n"
	    "  --to DATE      the last day, included; default: yesterday, or today when\n"
	    "                 --from is given.  Without either: the last 7 whole days\n"
	    "  --tz ZONE      the zone of the days and of office hours (\"Asia/Tokyo\");\n"
	    "                 default: the session's (PGTZ, else the server's TimeZone)\n"
	    "  --by WHAT      which tables of rows: recruiter, mailbox, job or all (default)\n"
	    "  --part WHAT    which parts: rows, days, funnel, aging or all (default; with\n"
	    "                 --csv: rows)\n"
	    "  --as LOGIN     count only what the recruiter LOGIN may see (row-level\n"
	    "                 security), as `history --as`: SET ROLE atsmail_app, so the\n"
	    "                 connecting login must be a member of atsmail_app\n"
	    "  --office-hours times to first reply count office hours only (settings\n"
	    "                 report_office_hours, report_office_days)\n"
	    "  --csv          CSV of one part (RFC 4180, UTF-8, CRLF) instead of the table\n"
	    "  --bom          with --csv: begin with the UTF-8 byte order mark (Excel)\n"
	    "  --html FILE    write the HTML page with its charts to FILE (- = stdout)\n"
	    "\n"
	    "The page's language follows the locale (LANG or LC_ALL ja_JP.UTF-8: Japanese).\n"
	    "\n"
	    "       " CTL_PROGNAME " [OPTIONS] report mail ...  mails it to the managers\n"
	    "           (atsmailctl report mail --help)\n"
	    "\n"
	    "Exit codes: 0 shown, 1 failed (LOGIN is not an active user, a bad zone or\n"
	    "date), 2 usage, 3 configuration, 4 database unavailable.\n", fp);
}

static bool
is_date(const char *s)
{
	int i;

	for (i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
			return false;
	return s[10] == '\0';
}

static int
word(const char *v, const char *const *names, const unsigned *bits, unsigned *out)
{
	int i;

	for (i = 0; names[i] != NULL; i++)
		if (strcmp(v, names[i]) == 0) {
			*out = bits[i];
			return 0;
		}
	return -1;
}

/* The period's instants: [from 00:00, the day after to 00:00) in the zone. */
static int
period(struct ctl *ctx, const char *from, const char *to, const char *zone,
    struct ctl_report_opts *o, struct atsm_err *err)
{
	const char *p[3] = { from, to, zone != NULL ? zone : "" };
	PGresult *res;
	int rc = 0;

	res = atsm_db_exec(ctx->conn,
	    "WITH z AS (SELECT coalesce(nullif($3::text, ''), current_setting('TimeZone')) AS tz),"
	    " t AS (SELECT tz, coalesce($2::date, (now() AT TIME ZONE tz)::date"
	    "  - CASE WHEN $1::date IS NULL THEN 1 ELSE 0 END) AS t FROM z),"
	    " f AS (SELECT tz, t, coalesce($1::date, t - 6) AS f FROM t)"
	    " SELECT extract(epoch FROM f::timestamp AT TIME ZONE tz)::bigint,"
	    "  extract(epoch FROM (t + 1)::timestamp AT TIME ZONE tz)::bigint, f <= t FROM f",
	    3, p, err);
	if (res == NULL)
		return -1;
	o->from = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	o->to = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	if (PQgetvalue(res, 0, 2)[0] != 't')
		rc = atsm_err_setc(err, ATSM_ERR_INPUT, "--from %s is after --to %s", from,
		    to != NULL ? to : "(its default)");
	PQclear(res);
	return rc;
}

int
ctl_cmd_report(struct ctl *ctx, int argc, char **argv)
{
	static const char *const by_names[] = { "recruiter", "mailbox", "job", "all", NULL };
	static const unsigned by_bits[] = { ATSM_REPORT_BY_RECRUITER, ATSM_REPORT_BY_MAILBOX,
	    ATSM_REPORT_BY_JOB, ATSM_REPORT_BY_ALL };
	static const char *const part_names[] = { "rows", "days", "funnel", "aging", "all", NULL };
	static const unsigned part_bits[] = { ATSM_REPORT_PART_ROWS, ATSM_REPORT_PART_DAYS,
	    ATSM_REPORT_PART_FUNNEL, ATSM_REPORT_PART_AGING, ATSM_REPORT_PART_ALL };
	struct ctl_report_opts o;
	struct atsm_report r;
	struct atsm_err err;
	struct atsm_buf out;
	const char *from = NULL, *to = NULL, *html = NULL, *v;
	unsigned by = ATSM_REPORT_BY_ALL, parts = 0;
	bool csv = false, bom = false;
	int i, rc;

	if (argc > 1 && strcmp(argv[1], "mail") == 0)
		return ctl_cmd_report_mail(ctx, argc - 1, argv + 1);
	memset(&o, 0, sizeof(o));
	for (i = 1; i < argc; i++) {
		if (ctl_is_help(argv[i])) {
			ctl_cmd_report_usage(stdout);
			return CTL_EXIT_OK;
		}
		if (ctl_ops_option(argc, argv, &i, "--from", &v)) {
			if ((from = v) == NULL)
				return CTL_EXIT_USAGE;
			if (!is_date(from))
				return ctl_usage_error("report", "--from %s is not YYYY-MM-DD", from);
		} else if (ctl_ops_option(argc, argv, &i, "--to", &v)) {
			if ((to = v) == NULL)
				return CTL_EXIT_USAGE;
			if (!is_date(to))
				return ctl_usage_error("report", "--to %s is not YYYY-MM-DD", to);
		} else if (ctl_ops_option(argc, argv, &i, "--tz", &v)) {
			if ((o.zone = v) == NULL)
				return CTL_EXIT_USAGE;
		} else if (ctl_ops_option(argc, argv, &i, "--by", &v)) {
			if (v == NULL)
				return CTL_EXIT_USAGE;
			if (word(v, by_names, by_bits, &by) < 0)
				return ctl_usage_error("report", "--by %s: recruiter, mailbox, job or all",
				    v);
		} else if (ctl_ops_option(argc, argv, &i, "--part", &v)) {
			if (v == NULL)
				return CTL_EXIT_USAGE;
			if (word(v, part_names, part_bits, &parts) < 0)
				return ctl_usage_error("report",
				    "--part %s: rows, days, funnel, aging or all", v);
		} else if (ctl_ops_option(argc, argv, &i, "--as", &v)) {
			if ((o.as_login = v) == NULL)
				return CTL_EXIT_USAGE;
		} else if (ctl_ops_option(argc, argv, &i, "--html", &v)) {
			if ((html = v) == NULL)
				return CTL_EXIT_USAGE;
		} else if (strcmp(argv[i], "--office-hours") == 0) {
			o.office_hours = true;
		} else if (strcmp(argv[i], "--csv") == 0) {
			csv = true;
		} else if (strcmp(argv[i], "--bom") == 0) {
			bom = true;
		} else if (argv[i][0] == '-') {
			return ctl_usage_error("report", "unknown option '%s'", argv[i]);
		} else {
			return ctl_usage_error("report", "unexpected argument '%s'", argv[i]);
		}
	}
	if (bom && !csv)
		return ctl_usage_error("report", "--bom goes with --csv");
	if (csv && html != NULL)
		return ctl_usage_error("report", "--csv or --html, not both");
	if (csv && parts == ATSM_REPORT_PART_ALL)
		return ctl_usage_error("report", "--csv writes one part: --part rows, days, "
		    "funnel or aging");
	if (parts == 0)
		parts = csv ? ATSM_REPORT_PART_ROWS : ATSM_REPORT_PART_ALL;
	if ((rc = ctl_connect(ctx)) != 0)
		return rc;
	if (period(ctx, from, to, o.zone, &o, &err) < 0) {
		ctl_error("report: %s", err.msg);
		return err.cls == ATSM_ERR_UNAVAILABLE ? CTL_EXIT_DBDOWN : CTL_EXIT_FAIL;
	}
	atsm_report_init(&r);
	if (ctl_report_fetch(ctx, &o, &r, &err) < 0) {
		atsm_report_free(&r);
		if (err.cls == ATSM_ERR_INPUT) {
			ctl_error("report: %s", err.msg);
			return CTL_EXIT_FAIL;
		}
		return ctl_ops_db_fail("report", &err);
	}
	rc = CTL_EXIT_OK;
	if (html != NULL) {
		FILE *fp = strcmp(html, "-") == 0 ? stdout : fopen(html, "w");

		if (fp == NULL) {
			ctl_error("report: %s: %s", html, strerror(errno));
			rc = CTL_EXIT_FAIL;
		} else {
			if (ctl_report_html(&r, ctx->conf.report_gnuplot, fp, &err) < 0) {
				ctl_error("report: %s", err.msg);
				rc = CTL_EXIT_FAIL;
			}
			if ((fp != stdout ? fclose(fp) : fflush(fp)) != 0 && rc == CTL_EXIT_OK) {
				ctl_error("report: %s: %s", html, strerror(errno));
				rc = CTL_EXIT_FAIL;
			}
		}
		atsm_report_free(&r);
		return rc;
	}
	atsm_buf_init(&out, REPORT_OUT_MAX);
	if ((csv ? atsm_report_csv(&r, by, parts, bom, &out) :
	    atsm_report_table(&r, by, parts, ctl_report_env_lang(), &out)) < 0) {
		ctl_error("report: the output is over %u bytes", REPORT_OUT_MAX);
		rc = CTL_EXIT_FAIL;
	} else if (fwrite(atsm_buf_str(&out), 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
		ctl_error("report: writing: %s", strerror(errno));
		rc = CTL_EXIT_FAIL;
	}
	atsm_buf_free(&out);
	atsm_report_free(&r);
	return rc;
}
