/* cmd-report-mail.c -- atsmailctl report mail: the report of the last days
 * mailed to the managers (docs/reports.md, "Report mail").
 *
 *   atsmailctl report mail [--to ADDR|LOGIN]... [--period Nd] [--tz ZONE]
 *       [--lang en|ja] [--again]
 *
 * The figures are fetched as `atsmailctl report` fetches them (the
 * connecting login's view), the page and the PNG drawn here with gnuplot
 * (report-html.c), and one notification of kind report.weekly queued per
 * recipient (atsmail.notify(), sql/017) with the parts in its params:
 * atsmaild's sender submits it through the local Postfix like every
 * notification and never runs gnuplot itself (lib/notify/report-mail.c).
 * One transaction: all recipients are queued or none.  A recipient who
 * already has the report of the same period (queued or sent) is skipped
 * unless --again, so that a timer that runs twice sends one mail.
 */
#include "atsm-build-config.h"
#include "report.h"
#include "report-page.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "ctl-ops.h"
#include "notify/report-mail.h"
#include "report/table.h"

#define RECIPIENTS_MAX 100
#define TEXT_OUT_MAX ATSM_NOTIFY_REPORT_TEXT_MAX

void
ctl_cmd_report_mail_usage(FILE *fp)
{
	fputs(
	    "usage: " CTL_PROGNAME " [OPTIONS] report mail [--to ADDR|LOGIN]... [--period Nd]\n"
	    "           [--tz ZONE] [--lang en|ja] [--again]\n"
	    "\n"
	    "Mail the report of the last days to the managers: the table as text, the\n"
	    "chart of mail per recruiter as a picture and the HTML page with every chart\n"
	    "and table attached.  Queued as notifications of kind report.weekly, sent by\n"
	    "atsmaild through the local Postfix (notify_kinds can turn them off).  The\n"
	    "timer atsmail-report.timer runs it every Monday.  docs/reports.md.\n"
	    "\n"
	    "  --to WHO       a mail address or a user's login (repeatable, or separated\n"
	    "                 by commas); default: the setting report_mail_to\n"
	    "  --period Nd    the N whole days up to yesterday (default 7d; 1d to 366d)\n"
	    "  --tz ZONE      the zone of the days (default: the session's)\n"
	    "  --lang en|ja   the language for everyone (default: report_mail_lang)\n"
	    "  --again        also to recipients who already have this period's report\n"
	    "\n"
	    "Exit codes: 0 queued (or nothing to do), 1 failed (gnuplot, a recipient\n"
	    "unknown), 2 usage, 3 configuration, 4 database unavailable.\n", fp);
}

struct rcpt {
	char *who;              /* as given */
	char user[24];          /* users.id, or "" */
	char addr[330];         /* the address when no user */
	enum atsm_lang lang;
};

/* --period Nd: N in 1..366. */
static int
parse_days(const char *v, int *days)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || (strcmp(end, "d") != 0 && *end != '\0') || n < 1 || n > 366)
		return -1;
	*days = (int)n;
	return 0;
}

/* The N days up to yesterday in the zone: [from, to) and the dates. */
static int
period(struct ctl *ctx, int days, const char *zone, struct ctl_report_opts *o,
    char *first, char *last, struct atsm_err *err)
{
	char n[16];
	const char *p[2] = { n, zone != NULL ? zone : "" };
	PGresult *res;

	snprintf(n, sizeof(n), "%d", days);
	res = atsm_db_exec(ctx->conn,
	    "WITH z AS (SELECT coalesce(nullif($2, ''), current_setting('TimeZone')) AS tz),"
	    " t AS (SELECT tz, (now() AT TIME ZONE tz)::date AS t FROM z)"
	    " SELECT extract(epoch FROM (t - $1::int)::timestamp AT TIME ZONE tz)::bigint,"
	    "  extract(epoch FROM t::timestamp AT TIME ZONE tz)::bigint,"
	    "  (t - $1::int)::text, (t - 1)::text FROM t", 2, p, err);
	if (res == NULL)
		return -1;
	o->from = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	o->to = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	snprintf(first, 11, "%s", PQgetvalue(res, 0, 2));
	snprintf(last, 11, "%s", PQgetvalue(res, 0, 3));
	PQclear(res);
	return 0;
}

/* Split the words of --to / report_mail_to into rcpts. */
static int
add_words(struct rcpt *v, size_t *n, const char *words)
{
	const char *p = words;

	while (*p != '\0') {
		size_t len;

		p += strspn(p, ", \t");
		len = strcspn(p, ", \t");
		if (len == 0)
			break;
		if (*n == RECIPIENTS_MAX)
			return -1;
		memset(&v[*n], 0, sizeof(v[*n]));
		v[*n].who = strndup(p, len);
		if (v[*n].who == NULL)
			return -1;
		(*n)++;
		p += len;
	}
	return 0;
}

/* A user by login or by one of their addresses; else an address. */
static int
resolve(struct ctl *ctx, struct rcpt *r, int lang_setting, struct atsm_err *err)
{
	const char *p[1] = { r->who };
	enum atsm_lang def = ctx->conf.default_language == 1 ? ATSM_LANG_JA : ATSM_LANG_EN;
	PGresult *res;

	res = atsm_db_exec(ctx->conn,
	    "SELECT u.id, coalesce(u.lang, '') FROM atsmail.users u WHERE u.login = $1"
	    " OR EXISTS (SELECT 1 FROM atsmail.addresses a WHERE a.owner_kind = 'user'"
	    "  AND a.owner_id = u.id AND a.addr_norm = lower($1))"
	    " ORDER BY u.login = $1 DESC, u.id LIMIT 1", 1, p, err);
	if (res == NULL)
		return -1;
	r->lang = def;
	if (PQntuples(res) == 1) {
		snprintf(r->user, sizeof(r->user), "%s", PQgetvalue(res, 0, 0));
		if (atsm_lang_parse(PQgetvalue(res, 0, 1), &r->lang) < 0)
			r->lang = def;
	} else if (strchr(r->who, '@') != NULL && strlen(r->who) < sizeof(r->addr)) {
		snprintf(r->addr, sizeof(r->addr), "%s", r->who);
	} else {
		PQclear(res);
		return atsm_err_setc(err, ATSM_ERR_INPUT, "%s is no user's login or address, nor "
		    "a mail address", r->who);
	}
	PQclear(res);
	if (lang_setting == ATSM_REPORT_LANG_EN)
		r->lang = ATSM_LANG_EN;
	else if (lang_setting == ATSM_REPORT_LANG_JA)
		r->lang = ATSM_LANG_JA;
	return 0;
}

/* The params of the notification in lang: period, text, html, png, name. */
static char *
make_params(const struct atsm_report *r, enum atsm_lang lang, const char *gnuplot,
    const char *first, struct atsm_err *err)
{
	struct atsm_buf html, png, text;
	char period[160], name[64], *b64 = NULL, *out = NULL;
	json_t *o = NULL;

	atsm_buf_init(&html, ATSM_NOTIFY_REPORT_HTML_MAX);
	atsm_buf_init(&png, ATSM_NOTIFY_REPORT_PNG_MAX);
	atsm_buf_init(&text, TEXT_OUT_MAX);
	if (ctl_report_page(r, lang, gnuplot, &html, &png, err) < 0)
		goto done;
	if (atsm_report_table(r, ATSM_REPORT_BY_ALL, ATSM_REPORT_PART_ALL, lang, &text) < 0) {
		atsm_err_setc(err, ATSM_ERR_INPUT, "report: the table is over %u bytes",
		    TEXT_OUT_MAX);
		goto done;
	}
	if ((b64 = malloc(4 * ((png.len + 2) / 3) + 1)) == NULL) {
		atsm_err_setc(err, ATSM_ERR_NOMEM, "out of memory");
		goto done;
	}
	EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)png.data, (int)png.len);
	ctl_report_period(r, period, sizeof(period));
	snprintf(name, sizeof(name), "atsmail-report-%s.html", first);
	o = json_object();
	if (o == NULL || json_object_set_new(o, "period", json_string(period)) < 0 ||
	    json_object_set_new(o, "text", json_stringn(text.data != NULL ? text.data : "",
	    text.len)) < 0 ||
	    json_object_set_new(o, "html", json_stringn(html.data, html.len)) < 0 ||
	    json_object_set_new(o, "png", json_string(b64)) < 0 ||
	    json_object_set_new(o, "name", json_string(name)) < 0 ||
	    (out = json_dumps(o, JSON_COMPACT)) == NULL)
		atsm_err_setc(err, ATSM_ERR_INPUT, "report: the mail's parts are no valid text");
done:
	json_decref(o);
	free(b64);
	atsm_buf_free(&html);
	atsm_buf_free(&png);
	atsm_buf_free(&text);
	return out;
}

/* Queue the notification for r (in conn's transaction): 1 queued, 0
 * skipped (already has it), -1. */
static int
queue(struct ctl *ctx, const struct rcpt *r, const char *params, const char *ref, bool again,
    struct atsm_err *err)
{
	const char *p[4];
	char id[24];
	PGresult *res;
	int rc;

	p[0] = r->user[0] != '\0' ? r->user : NULL;
	p[1] = r->user[0] != '\0' ? NULL : r->addr;
	p[2] = ref;
	if (!again) {
		res = atsm_db_exec(ctx->conn,
		    "SELECT 1 FROM atsmail.notifications WHERE kind = 'report.weekly'"
		    " AND ref_kind = 'report' AND ref_id = $3 AND state IN ('queued', 'sent')"
		    " AND (to_user_id = $1::bigint OR ($1 IS NULL AND to_addr = lower($2)))",
		    3, p, err);
		if (res == NULL)
			return -1;
		rc = PQntuples(res);
		PQclear(res);
		if (rc > 0)
			return 0;
	}
	p[2] = params;
	p[3] = ref;
	res = atsm_db_exec(ctx->conn, "SELECT atsmail.notify('report.weekly', $1::bigint, "
	    "lower($2), $3::jsonb, 'report', $4)", 4, p, err);
	if (res == NULL)
		return -1;
	snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	/* the row's language is the one the parts were made in (a statement
	 * of its own: the row notify() made is not seen by the one that made it) */
	p[0] = id;
	p[1] = atsm_lang_name(r->lang);
	res = atsm_db_exec(ctx->conn, "UPDATE atsmail.notifications SET lang = $2 WHERE id = $1"
	    " RETURNING state", 2, p, err);
	if (res == NULL)
		return -1;
	printf("report mail %s to %s (%s): notification %s, %s\n", ref, r->who,
	    atsm_lang_name(r->lang), id, PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "?");
	PQclear(res);
	return 1;
}

int
ctl_cmd_report_mail(struct ctl *ctx, int argc, char **argv)
{
	struct rcpt rc_v[RECIPIENTS_MAX];
	struct ctl_report_opts o;
	struct atsm_report r;
	struct atsm_err err;
	const char *v, *lang_opt = NULL;
	char first[11], last[11], ref[32], *params[2] = { NULL, NULL };
	size_t n = 0, i, queued = 0, skipped = 0;
	int days = 7, lang_setting, rc, code = CTL_EXIT_FAIL;
	bool again = false, fetched = false;

	memset(&o, 0, sizeof(o));
	for (int a = 1; a < argc; a++) {
		if (ctl_is_help(argv[a])) {
			ctl_cmd_report_mail_usage(stdout);
			return CTL_EXIT_OK;
		}
		if (ctl_ops_option(argc, argv, &a, "--to", &v)) {
			if (v == NULL)
				return CTL_EXIT_USAGE;
			if (add_words(rc_v, &n, v) < 0)
				return ctl_usage_error("report mail", "at most %d recipients",
				    RECIPIENTS_MAX);
		} else if (ctl_ops_option(argc, argv, &a, "--period", &v)) {
			if (v == NULL)
				return CTL_EXIT_USAGE;
			if (parse_days(v, &days) < 0)
				return ctl_usage_error("report mail", "--period %s: 1d to 366d", v);
		} else if (ctl_ops_option(argc, argv, &a, "--tz", &v)) {
			if ((o.zone = v) == NULL)
				return CTL_EXIT_USAGE;
		} else if (ctl_ops_option(argc, argv, &a, "--lang", &v)) {
			if ((lang_opt = v) == NULL)
				return CTL_EXIT_USAGE;
			if (strcmp(v, "en") != 0 && strcmp(v, "ja") != 0)
				return ctl_usage_error("report mail", "--lang %s: en or ja", v);
		} else if (strcmp(argv[a], "--again") == 0) {
			again = true;
		} else {
			return ctl_usage_error("report mail", "unknown argument '%s'", argv[a]);
		}
	}
	if ((rc = ctl_connect(ctx)) != 0)
		goto free_rcpts_rc;
	if (n == 0) {
		for (i = 0; i < ctx->conf.report_mail_to.n; i++)
			if (add_words(rc_v, &n, ctx->conf.report_mail_to.v[i]) < 0) {
				ctl_error("report mail: report_mail_to names more than %d",
				    RECIPIENTS_MAX);
				goto done;
			}
		if (n == 0) {
			ctl_error("report mail: nobody to send it to: set report_mail_to in %s "
			    "or give --to", ctx->conf_path);
			return CTL_EXIT_USAGE;
		}
	}
	lang_setting = lang_opt == NULL ? (int)ctx->conf.report_mail_lang :
	    strcmp(lang_opt, "en") == 0 ? ATSM_REPORT_LANG_EN : ATSM_REPORT_LANG_JA;
	atsm_err_clear(&err);
	if (period(ctx, days, o.zone, &o, first, last, &err) < 0)
		goto db_fail;
	snprintf(ref, sizeof(ref), "%s/%s", first, last);
	for (i = 0; i < n; i++)
		if (resolve(ctx, &rc_v[i], lang_setting, &err) < 0) {
			if (err.cls != ATSM_ERR_INPUT)
				goto db_fail;
			ctl_error("report mail: %s", err.msg);
			goto done;
		}
	atsm_report_init(&r);
	fetched = true;
	if (ctl_report_fetch(ctx, &o, &r, &err) < 0) {
		if (err.cls != ATSM_ERR_INPUT)
			goto db_fail;
		ctl_error("report mail: %s", err.msg);
		goto done;
	}
	/* the parts once per language needed */
	for (i = 0; i < n; i++) {
		enum atsm_lang l = rc_v[i].lang;

		if (params[l] == NULL &&
		    (params[l] = make_params(&r, l, ctx->conf.report_gnuplot, first, &err)) == NULL) {
			ctl_error("report mail: %s", err.msg);
			goto done;
		}
	}
	if (atsm_db_begin(ctx->conn, &err) < 0)
		goto db_fail;
	for (i = 0; i < n; i++) {
		int q = queue(ctx, &rc_v[i], params[rc_v[i].lang], ref, again, &err);

		if (q < 0) {
			atsm_db_rollback(ctx->conn);
			if (err.cls == ATSM_ERR_UNAVAILABLE)
				goto db_fail;
			ctl_error("report mail: %s: %s", rc_v[i].who, err.msg);
			goto done;
		}
		if (q == 0) {
			printf("report mail %s to %s: already queued or sent (--again sends it "
			    "again)\n", ref, rc_v[i].who);
			skipped++;
		}
		queued += (size_t)q;
	}
	if (atsm_db_commit(ctx->conn, &err) < 0)
		goto db_fail;
	printf("report mail %s: %zu queued, %zu skipped\n", ref, queued, skipped);
	code = CTL_EXIT_OK;
	goto done;
db_fail:
	code = ctl_ops_db_fail("report mail", &err);
done:
	if (fetched)
		atsm_report_free(&r);
	free(params[0]);
	free(params[1]);
	rc = code;
free_rcpts_rc:
	for (i = 0; i < n; i++)
		free(rc_v[i].who);
	return rc;
}
