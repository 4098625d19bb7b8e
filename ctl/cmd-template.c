/* cmd-template.c -- atsmailctl template: mail templates (docs/templates.md).
 *
 *   template add CODE --name N --subject S (--body-file F | --body T) [--html-file F]
 *            [--lang ja|en] [--phase-resume P] [--phase-contact P] [--phase-process P]
 *            [--owner LOGIN] [--personal | --shared] [--on-missing refuse|empty]
 *   template edit CODE [the same options]        (revision + 1)
 *   template list [--as LOGIN] | show CODE | rm CODE
 *   template render CODE (--resume ID | --contact ID) [--job ID] --as LOGIN
 *   template sync [--user LOGIN]
 *
 * add and edit refuse a tag atsmail does not know and a phase the phases
 * table does not have for that kind, naming them, and a body file that is
 * not UTF-8, naming the file.  Each change is one transaction whose audit
 * entry (template.created, .changed, .removed) is written by the table's
 * trigger with the actor set here (--actor, else the login running the
 * tool).  After a change the drafts of every user are brought in
 * step (cmd-template-sync.c) when this runs as root with doveadm at hand;
 * otherwise it says to run "template sync".
 *
 * A code notify-<kind>[-en|-ja] is a notification's own text
 * (docs/notifications.md): add and edit check it against its kind's tags,
 * and it is no recruiter's template (not in list --as, render or sync).
 */
#include "cmd-template.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "base/charset.h"
#include "notify/own-text.h"
#include "store/template-db.h"
#include "template/template.h"

#define BODY_FILE_MAX (1024u * 1024u)

struct tpl {
	struct ctl *ctl;
	const char *actor, *code;
	const char *name, *subject, *body, *body_file, *html_file, *lang;
	const char *phase[3];                    /* resume, contact, process */
	const char *owner, *on_missing, *as, *resume, *contact, *job, *user, *doveadm;
	bool personal, shared;
	char *body_text, *html_text;             /* read from the files */
	struct atsm_err err;
};

static const char *const phase_kinds[] = { "resume", "contact", "process" };

void
ctl_cmd_template_usage(FILE *fp)
{
	fputs(
	    "usage: " CTL_PROGNAME " [OPTIONS] template add CODE --name NAME --subject SUBJECT\n"
	    "              (--body-file FILE | --body TEXT) [--html-file FILE] [--lang ja|en]\n"
	    "              [--phase-resume P] [--phase-contact P] [--phase-process P]\n"
	    "              [--owner LOGIN] [--personal | --shared] [--on-missing refuse|empty]\n"
	    "       " CTL_PROGNAME " [OPTIONS] template edit CODE [the options of add]\n"
	    "       " CTL_PROGNAME " [OPTIONS] template list [--as LOGIN]\n"
	    "       " CTL_PROGNAME " [OPTIONS] template show CODE\n"
	    "       " CTL_PROGNAME " [OPTIONS] template rm CODE\n"
	    "       " CTL_PROGNAME " [OPTIONS] template render CODE (--resume ID | --contact ID)\n"
	    "              [--job ID] --as LOGIN\n"
	    "       " CTL_PROGNAME " [OPTIONS] template sync [--user LOGIN]\n"
	    "\n"
	    "  add      a template: CODE is what mail names (ats+template.CODE@...;\n"
	    "           [a-z0-9][a-z0-9_-]*, at most 32); the subject and the body (UTF-8)\n"
	    "           carry merge tags such as {{resume.name}} or {{company.name|貴社}}\n"
	    "           (the list: docs/templates.md); --phase-KIND sets that phase on the\n"
	    "           record when a mail made from it is sent (\"-\" in edit: none);\n"
	    "           --personal: only its --owner (and admins) may use it; --on-missing:\n"
	    "           a tag without a value refuses the mail (default) or merges empty;\n"
	    "           CODE notify-<kind>[-en|-ja] is the text of a notification, with\n"
	    "           {{notify.<param>}} tags (docs/notifications.md)\n"
	    "  edit     change the options given; the revision goes up by one\n"
	    "  list     the templates (--as LOGIN: those that user may use)\n"
	    "  show     one template whole\n"
	    "  rm       remove a template\n"
	    "  render   the template merged for one record, as the recipient reads it\n"
	    "  sync     put one draft per usable template into each active user's IMAP\n"
	    "           folder template_folder, remove drafts of templates gone or changed\n"
	    "           (needs root and doveadm; add, edit and rm do it when they can)\n"
	    "\n"
	    "  --doveadm \"CMD\"   how to run doveadm (default: doveadm), e.g.\n"
	    "                    \"doveadm -c /etc/dovecot/dovecot.conf\"\n"
	    "  --actor NAME      the actor of the audit entries (default: the login\n"
	    "                    running " CTL_PROGNAME ")\n"
	    "\n"
	    "Exit codes: 0 done, 1 failed (unknown tag, phase, user, template; a tag\n"
	    "without a value in render; a draft not written), 2 usage, 3 configuration,\n"
	    "4 database unavailable.\n", fp);
}

static int
fail(struct tpl *tp, const char *what)
{
	atsm_db_rollback(tp->ctl->conn);
	return ctl_ops_db_fail(what, &tp->err);
}

/* A body file: UTF-8, at most BODY_FILE_MAX.  NULL after a message. */
static char *
read_body(const char *path)
{
	FILE *fp;
	struct atsm_buf b;
	char chunk[8192];
	size_t n;

	if ((fp = fopen(path, "rb")) == NULL) {
		ctl_error("template: cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	atsm_buf_init(&b, BODY_FILE_MAX);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (atsm_buf_append(&b, chunk, n) < 0)
			break;
	if (ferror(fp) || b.overflow) {
		ctl_error("template: %s: %s", path, b.overflow ?
		    "longer than 1 MiB" : strerror(errno));
		fclose(fp);
		atsm_buf_free(&b);
		return NULL;
	}
	fclose(fp);
	if (!atsm_utf8_valid(atsm_buf_str(&b), b.len) || memchr(atsm_buf_str(&b), '\0', b.len)) {
		ctl_error("template: %s is not UTF-8 text (convert it first, e.g. "
		    "iconv -f SHIFT_JIS -t UTF-8)", path);
		atsm_buf_free(&b);
		return NULL;
	}
	if (b.data == NULL)
		return strdup("");
	return atsm_buf_steal(&b);
}

/* The tags of one text: 0, or CTL_EXIT_FAIL after naming the tag. */
static int
check_tags(const char *what, const char *text)
{
	struct atsm_tpl_fault f;
	struct atsm_err e;

	if (text == NULL)
		return 0;
	if (!atsm_utf8_valid(text, strlen(text))) {
		ctl_error("template: the %s is not UTF-8", what);
		return CTL_EXIT_FAIL;
	}
	if (atsm_tpl_check(text, strlen(text), &f, &e) == 0 &&
	    atsm_tpl_check_no_notify(text, strlen(text), &f, &e) == 0)
		return 0;
	ctl_error("template: the %s: %s", what, e.msg);
	return CTL_EXIT_FAIL;
}

/* A notification's text (code notify-...): its kind and language from the
 * code, only the tags that kind fills, shared, no HTML, no phase.  0, or
 * the exit code after saying why. */
static int
check_notify(struct tpl *tp, bool add)
{
	const char *kind;
	char lang[3];
	struct atsm_err e;
	int k;

	if (atsm_notify_tpl_kind(tp->code, &kind, lang, &e) < 0)
		return ctl_usage_error("template", "%s", e.msg);
	if (lang[0] != '\0' && (tp->lang != NULL ? strcmp(tp->lang, lang) != 0 :
	    add && strcmp(lang, "ja") != 0))
		return ctl_usage_error("template", "%s is the text for readers of %s: give "
		    "--lang %s", tp->code, lang, lang);
	if (tp->personal)
		return ctl_usage_error("template", "%s is the text of a notification, which "
		    "is the site's: it cannot be --personal", tp->code);
	if (tp->html_file != NULL)
		return ctl_usage_error("template", "%s: a notification is plain text: "
		    "no --html-file", tp->code);
	for (k = 0; k < 3; k++)
		if (tp->phase[k] != NULL && strcmp(tp->phase[k], "-") != 0)
			return ctl_usage_error("template", "%s: a notification sets no phase: "
			    "no --phase-%s", tp->code, phase_kinds[k]);
	if (atsm_notify_tpl_check(kind, tp->subject, &e) < 0) {
		ctl_error("template: the subject: %s", e.msg);
		return CTL_EXIT_FAIL;
	}
	if (atsm_notify_tpl_check(kind, tp->body_text, &e) < 0) {
		ctl_error("template: the body: %s", e.msg);
		return CTL_EXIT_FAIL;
	}
	return 0;
}

/* The options of add and edit: files read, tags and phases checked. */
static int
check_content(struct tpl *tp, bool add)
{
	static const char *const langs[] = { "ja", "en", NULL };
	static const char *const missing[] = { "refuse", "empty", NULL };
	int k, rc;

	if (tp->body != NULL && tp->body_file != NULL)
		return ctl_usage_error("template", "give --body or --body-file, not both");
	if (tp->personal && tp->shared)
		return ctl_usage_error("template", "--personal and --shared contradict each other");
	if (tp->lang != NULL && !ctl_ops_in(tp->lang, langs))
		return ctl_usage_error("template", "--lang '%s' is not ja or en", tp->lang);
	if (tp->on_missing != NULL && !ctl_ops_in(tp->on_missing, missing))
		return ctl_usage_error("template", "--on-missing '%s' is not refuse or empty", tp->on_missing);
	if (tp->name != NULL && tp->name[0] == '\0')
		return ctl_usage_error("template", "--name is empty");
	if (tp->body_file != NULL && (tp->body_text = read_body(tp->body_file)) == NULL)
		return CTL_EXIT_FAIL;
	if (tp->html_file != NULL && (tp->html_text = read_body(tp->html_file)) == NULL)
		return CTL_EXIT_FAIL;
	if (tp->body != NULL && (tp->body_text = strdup(tp->body)) == NULL)
		return CTL_EXIT_FAIL;
	if (atsm_notify_tpl_code_is(tp->code))
		return check_notify(tp, add);
	if ((rc = check_tags("subject", tp->subject)) != 0 ||
	    (rc = check_tags("body", tp->body_text)) != 0 ||
	    (rc = check_tags("HTML body", tp->html_text)) != 0)
		return rc;
	for (k = 0; k < 3; k++)
		if (tp->phase[k] != NULL && strcmp(tp->phase[k], "-") != 0 &&
		    !ctl_ops_phase_code_ok(tp->phase[k]))
			return ctl_usage_error("template", "--phase-%s '%s' is not a phase code", phase_kinds[k],
			    tp->phase[k]);
	return 0;
}

/* After connecting: the phases exist for their kind, the owner exists.
 * *owner_id gets the owner's id ("" when none given). */
static int
check_refs(struct tpl *tp, char *owner_id, size_t n)
{
	PGresult *r;
	const char *p[2];
	int k;

	owner_id[0] = '\0';
	for (k = 0; k < 3; k++) {
		if (tp->phase[k] == NULL || strcmp(tp->phase[k], "-") == 0)
			continue;
		p[0] = phase_kinds[k];
		p[1] = tp->phase[k];
		if ((r = atsm_db_exec(tp->ctl->conn, "SELECT 1 FROM atsmail.phases"
		    " WHERE kind = $1 AND code = $2 AND active", 2, p, &tp->err)) == NULL)
			return ctl_ops_db_fail("template", &tp->err);
		k += 0;
		if (PQntuples(r) == 0) {
			PQclear(r);
			ctl_error("template: --phase-%s: no active %s phase '%s' (see "
			    CTL_PROGNAME " policy phase list %s)", phase_kinds[k], phase_kinds[k],
			    tp->phase[k], phase_kinds[k]);
			return CTL_EXIT_FAIL;
		}
		PQclear(r);
	}
	if (tp->owner != NULL) {
		p[0] = tp->owner;
		if ((r = atsm_db_exec(tp->ctl->conn, "SELECT id FROM atsmail.users"
		    " WHERE login = $1", 1, p, &tp->err)) == NULL)
			return ctl_ops_db_fail("template", &tp->err);
		if (PQntuples(r) == 0) {
			PQclear(r);
			ctl_error("template: --owner: no user '%s'", tp->owner);
			return CTL_EXIT_FAIL;
		}
		snprintf(owner_id, n, "%s", PQgetvalue(r, 0, 0));
		PQclear(r);
	}
	return 0;
}

/* After a change: the drafts of every user.  Even a personal template
 * concerns more than its owner (admins may use it; a change of owner or of
 * sharing moves it between folders), and a user whose folder is already
 * in step costs one doveadm fetch. */
static void
after_change(struct tpl *tp)
{
	if (!ctl_template_sync_possible(tp->doveadm)) {
		printf("the template folders are not updated here (needs root and doveadm):"
		    " run " CTL_PROGNAME " template sync\n");
		return;
	}
	if (ctl_template_sync(tp->ctl, NULL, tp->doveadm) != 0)
		printf("some template folders were not updated: run " CTL_PROGNAME
		    " template sync\n");
}

static const char *
phase_param(const char *v)
{
	return v == NULL || strcmp(v, "-") == 0 ? NULL : v;
}

/* What add and edit share: the content and the names checked, a
 * transaction begun as the actor, and the parameters both statements take
 * alike ($1-$6 and $10, $12); the caller sets the phases ($7-$9) and
 * shared ($11).  0, or the exit code. */
static int
begin_change(struct tpl *tp, const char *what, char *owner_id, size_t n, const char *p[12])
{
	int rc;

	if ((rc = check_content(tp, strcmp(what, "template add") == 0)) != 0)
		return rc;
	if ((rc = ctl_connect(tp->ctl)) != 0 || (rc = check_refs(tp, owner_id, n)) != 0)
		return rc;
	if (ctl_ops_begin(tp->ctl->conn, tp->actor, &tp->err) < 0)
		return ctl_ops_db_fail(what, &tp->err);
	p[0] = tp->code;
	p[1] = tp->name;
	p[2] = tp->subject;
	p[3] = tp->body_text;
	p[4] = tp->html_text;
	p[5] = tp->lang;
	p[9] = owner_id[0] != '\0' ? owner_id : NULL;
	p[11] = tp->on_missing;
	return 0;
}

static int
template_add(struct tpl *tp)
{
	static const char sql[] =
	    "INSERT INTO atsmail.templates (code, name, subject, body, body_html, lang,"
	    " phase_resume, phase_contact, phase_process, owner_id, shared, on_missing)"
	    " VALUES ($1, $2, $3, $4, $5, coalesce($6, 'ja'), $7, $8, $9, $10::bigint,"
	    " $11::boolean, coalesce($12, 'refuse'))"
	    " ON CONFLICT (code) DO NOTHING RETURNING id";
	char owner_id[24];
	const char *p[12];
	PGresult *r;
	int rc;

	if (tp->name == NULL || tp->subject == NULL || (tp->body == NULL && tp->body_file == NULL))
		return ctl_usage_error("template", "add needs --name, --subject and --body or --body-file");
	if (tp->personal && tp->owner == NULL)
		return ctl_usage_error("template", "a --personal template needs its --owner");
	if ((rc = begin_change(tp, "template add", owner_id, sizeof(owner_id), p)) != 0)
		return rc;
	p[6] = phase_param(tp->phase[0]);
	p[7] = phase_param(tp->phase[1]);
	p[8] = phase_param(tp->phase[2]);
	p[10] = tp->personal ? "false" : "true";
	if ((r = atsm_db_exec(tp->ctl->conn, sql, 12, p, &tp->err)) == NULL)
		return fail(tp, "template add");
	if (PQntuples(r) == 0) {
		PQclear(r);
		atsm_db_rollback(tp->ctl->conn);
		ctl_error("template add: template %s exists already (template edit changes it)",
		    tp->code);
		return CTL_EXIT_FAIL;
	}
	PQclear(r);
	if (atsm_db_commit(tp->ctl->conn, &tp->err) < 0)
		return fail(tp, "template add");
	printf("template %s added (revision 1, %s)\n", tp->code,
	    tp->personal ? "personal" : "shared");
	after_change(tp);
	return CTL_EXIT_OK;
}

static int
template_edit(struct tpl *tp)
{
	/* NULL parameters keep the column; "-" for a phase clears it */
	static const char sql[] =
	    "UPDATE atsmail.templates SET"
	    " name = coalesce($2, name), subject = coalesce($3, subject),"
	    " body = coalesce($4, body), body_html = coalesce($5, body_html),"
	    " lang = coalesce($6, lang),"
	    " phase_resume = CASE WHEN $7::text IS NULL THEN phase_resume ELSE nullif($7::text, '-') END,"
	    " phase_contact = CASE WHEN $8::text IS NULL THEN phase_contact ELSE nullif($8::text, '-') END,"
	    " phase_process = CASE WHEN $9::text IS NULL THEN phase_process ELSE nullif($9::text, '-') END,"
	    " owner_id = coalesce($10::bigint, owner_id),"
	    " shared = coalesce($11::boolean, shared),"
	    " on_missing = coalesce($12, on_missing),"
	    " revision = revision + 1, updated_at = now()"
	    " WHERE code = $1"
	    " RETURNING revision";
	char owner_id[24];
	const char *p[12];
	PGresult *r;
	int rc, rev;

	if ((rc = begin_change(tp, "template edit", owner_id, sizeof(owner_id), p)) != 0)
		return rc;
	p[6] = tp->phase[0];
	p[7] = tp->phase[1];
	p[8] = tp->phase[2];
	p[10] = tp->personal ? "false" : tp->shared ? "true" : NULL;
	if ((r = atsm_db_exec(tp->ctl->conn, sql, 12, p, &tp->err)) == NULL) {
		if (strcmp(tp->err.sqlstate, "23514") == 0) {
			atsm_db_rollback(tp->ctl->conn);
			ctl_error("template edit: a personal template needs an owner (--owner)");
			return CTL_EXIT_FAIL;
		}
		return fail(tp, "template edit");
	}
	if (PQntuples(r) == 0) {
		PQclear(r);
		atsm_db_rollback(tp->ctl->conn);
		ctl_error("template edit: no template %s", tp->code);
		return CTL_EXIT_FAIL;
	}
	rev = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	if (atsm_db_commit(tp->ctl->conn, &tp->err) < 0)
		return fail(tp, "template edit");
	printf("template %s changed (revision %d)\n", tp->code, rev);
	after_change(tp);
	return CTL_EXIT_OK;
}

static int
template_rm(struct tpl *tp)
{
	const char *p[1] = { tp->code };
	PGresult *r;
	int rc;

	if ((rc = ctl_connect(tp->ctl)) != 0)
		return rc;
	if (ctl_ops_begin(tp->ctl->conn, tp->actor, &tp->err) < 0)
		return ctl_ops_db_fail("template rm", &tp->err);
	if ((r = atsm_db_exec(tp->ctl->conn, "DELETE FROM atsmail.templates WHERE code = $1"
	    " RETURNING id", 1, p, &tp->err)) == NULL)
		return fail(tp, "template rm");
	if (PQntuples(r) == 0) {
		PQclear(r);
		atsm_db_rollback(tp->ctl->conn);
		ctl_error("template rm: no template %s", tp->code);
		return CTL_EXIT_FAIL;
	}
	PQclear(r);
	if (atsm_db_commit(tp->ctl->conn, &tp->err) < 0)
		return fail(tp, "template rm");
	printf("template %s removed\n", tp->code);
	after_change(tp);
	return CTL_EXIT_OK;
}

/* The id of login, or -1 after a message (0 when the database failed,
 * with *rc set). */
static long long
user_id(struct tpl *tp, const char *login, int *rc)
{
	const char *p[1] = { login };
	PGresult *r;
	long long id;

	*rc = 0;
	if ((r = atsm_db_exec(tp->ctl->conn, "SELECT id FROM atsmail.users WHERE login = $1",
	    1, p, &tp->err)) == NULL) {
		*rc = ctl_ops_db_fail("template", &tp->err);
		return 0;
	}
	if (PQntuples(r) == 0) {
		PQclear(r);
		ctl_error("template: no user '%s'", login);
		*rc = CTL_EXIT_FAIL;
		return 0;
	}
	id = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	return id;
}

static int
template_list(struct tpl *tp)
{
	static const char sql[] =
	    "SELECT t.code, t.revision, t.lang,"
	    " CASE WHEN t.shared THEN 'shared' ELSE 'personal:' || coalesce(u.login, '?') END,"
	    " concat_ws(',', 'resume=' || t.phase_resume, 'contact=' || t.phase_contact,"
	    "   'process=' || t.phase_process),"
	    " t.on_missing, t.name"
	    " FROM atsmail.templates t LEFT JOIN atsmail.users u ON u.id = t.owner_id"
	    " WHERE $1::bigint IS NULL OR (left(t.code, 7) <> 'notify-' AND (t.shared"
	    "  OR t.owner_id = $1::bigint OR EXISTS (SELECT 1 FROM atsmail.users a"
	    "  WHERE a.id = $1::bigint AND a.role = 'admin')))"
	    " ORDER BY t.code";
	char uid[24];
	const char *p[1] = { NULL };
	PGresult *r;
	int rc, i;

	if ((rc = ctl_connect(tp->ctl)) != 0)
		return rc;
	if (tp->as != NULL) {
		long long id = user_id(tp, tp->as, &rc);

		if (rc != 0)
			return rc;
		snprintf(uid, sizeof(uid), "%lld", id);
		p[0] = uid;
	}
	if ((r = atsm_db_exec(tp->ctl->conn, sql, 1, p, &tp->err)) == NULL)
		return ctl_ops_db_fail("template list", &tp->err);
	printf("%-20s %4s %-4s %-22s %-32s %-7s %s\n", "CODE", "REV", "LANG", "USE", "PHASES",
	    "MISSING", "NAME");
	for (i = 0; i < PQntuples(r); i++)
		printf("%-20s %4s %-4s %-22s %-32s %-7s %s\n", PQgetvalue(r, i, 0),
		    PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3),
		    PQgetvalue(r, i, 4)[0] != '\0' ? PQgetvalue(r, i, 4) : "-",
		    PQgetvalue(r, i, 5), PQgetvalue(r, i, 6));
	PQclear(r);
	return CTL_EXIT_OK;
}

static int
template_show(struct tpl *tp)
{
	static const char sql[] =
	    "SELECT t.code, t.name, t.revision, t.lang, t.shared, coalesce(u.login, '-'),"
	    " coalesce(t.phase_resume, '-'), coalesce(t.phase_contact, '-'),"
	    " coalesce(t.phase_process, '-'), t.on_missing, t.updated_at::text, t.subject,"
	    " t.body, t.body_html"
	    " FROM atsmail.templates t LEFT JOIN atsmail.users u ON u.id = t.owner_id"
	    " WHERE t.code = $1";
	const char *p[1] = { tp->code };
	PGresult *r;
	int rc;

	if ((rc = ctl_connect(tp->ctl)) != 0)
		return rc;
	if ((r = atsm_db_exec(tp->ctl->conn, sql, 1, p, &tp->err)) == NULL)
		return ctl_ops_db_fail("template show", &tp->err);
	if (PQntuples(r) == 0) {
		PQclear(r);
		ctl_error("template show: no template %s", tp->code);
		return CTL_EXIT_FAIL;
	}
	printf("code:          %s\nname:          %s\nrevision:      %s\nlang:          %s\n"
	    "use:           %s\nowner:         %s\nphase resume:  %s\nphase contact: %s\n"
	    "phase process: %s\non missing:    %s\nchanged:       %s\nsubject:       %s\n"
	    "body:\n%s\n", PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2),
	    PQgetvalue(r, 0, 3), PQgetvalue(r, 0, 4)[0] == 't' ? "shared" : "personal",
	    PQgetvalue(r, 0, 5), PQgetvalue(r, 0, 6), PQgetvalue(r, 0, 7), PQgetvalue(r, 0, 8),
	    PQgetvalue(r, 0, 9), PQgetvalue(r, 0, 10), PQgetvalue(r, 0, 11),
	    PQgetvalue(r, 0, 12));
	if (!PQgetisnull(r, 0, 13))
		printf("html body:\n%s\n", PQgetvalue(r, 0, 13));
	PQclear(r);
	return CTL_EXIT_OK;
}

/* Merge one text for render: 0, or CTL_EXIT_FAIL after naming the tag. */
static int
render_text(const char *what, const char *text, bool html, const struct atsm_tpl_fields *f,
    enum atsm_tpl_missing m, struct atsm_buf *out)
{
	struct atsm_tpl_fault fault;
	struct atsm_err e;

	if (atsm_tpl_merge(text, strlen(text), f, m, html, out, &fault, &e) == 0)
		return 0;
	ctl_error("template render: the %s: %s", what, e.msg);
	return CTL_EXIT_FAIL;
}

static int
template_render(struct tpl *tp)
{
	struct atsm_template t;
	struct atsm_tpl_fields f;
	struct atsm_buf subj, body, html;
	long long uid, id, job = 0;
	char kind, *end;
	const char *rid = tp->resume != NULL ? tp->resume : tp->contact;
	int rc, found;

	if (tp->as == NULL)
		return ctl_usage_error("template", "render needs --as LOGIN (whose template, who sends)");
	if ((tp->resume == NULL) == (tp->contact == NULL))
		return ctl_usage_error("template", "render needs one of --resume ID and --contact ID");
	kind = tp->resume != NULL ? 'r' : 'c';
	id = strtoll(rid, &end, 10);
	if (*rid == '\0' || *end != '\0' || id <= 0)
		return ctl_usage_error("template", "'%s' is not a record id", rid);
	if (tp->job != NULL) {
		job = strtoll(tp->job, &end, 10);
		if (*tp->job == '\0' || *end != '\0' || job <= 0)
			return ctl_usage_error("template", "--job '%s' is not a job id", tp->job);
	}
	if (atsm_notify_tpl_code_is(tp->code)) {
		ctl_error("template render: %s is the text of a notification, not of a mail to "
		    "a record; atsmaild merges it when it sends that notification "
		    "(docs/notifications.md)", tp->code);
		return CTL_EXIT_FAIL;
	}
	if ((rc = ctl_connect(tp->ctl)) != 0)
		return rc;
	uid = user_id(tp, tp->as, &rc);
	if (rc != 0)
		return rc;
	if ((found = atsm_tpl_db_load(tp->ctl->conn, tp->code, uid, &t, &tp->err)) < 0)
		return ctl_ops_db_fail("template render", &tp->err);
	if (found == 0) {
		ctl_error("template render: no template %s that %s may use", tp->code, tp->as);
		return CTL_EXIT_FAIL;
	}
	atsm_tpl_fields_init(&f);
	if (atsm_tpl_db_fields(tp->ctl->conn, 1, &kind, &id, NULL, job, uid, &f, &tp->err) < 0) {
		atsm_template_free(&t);
		atsm_tpl_fields_free(&f);
		return ctl_ops_db_fail("template render", &tp->err);
	}
	if (atsm_tpl_fields_get(&f, kind == 'r' ? "resume.id" : "contact.id", NULL) == NULL) {
		ctl_error("template render: no %s %s", kind == 'r' ? "resume" : "contact", rid);
		atsm_template_free(&t);
		atsm_tpl_fields_free(&f);
		return CTL_EXIT_FAIL;
	}
	if (job > 0 && atsm_tpl_fields_get(&f, "job.id", NULL) == NULL) {
		ctl_error("template render: no job %s", tp->job);
		atsm_template_free(&t);
		atsm_tpl_fields_free(&f);
		return CTL_EXIT_FAIL;
	}
	snprintf(f.lang, sizeof(f.lang), "%s", t.lang);
	atsm_buf_init(&subj, 0);
	atsm_buf_init(&body, 4u * 1024u * 1024u);
	atsm_buf_init(&html, 4u * 1024u * 1024u);
	rc = render_text("subject", t.subject, false, &f, t.on_missing, &subj);
	if (rc == 0)
		rc = render_text("body", t.body, false, &f, t.on_missing, &body);
	if (rc == 0 && t.body_html != NULL)
		rc = render_text("HTML body", t.body_html, true, &f, t.on_missing, &html);
	if (rc == 0) {
		printf("Subject: %s\n\n%s", atsm_buf_str(&subj), atsm_buf_str(&body));
		if (body.len > 0 && body.data[body.len - 1] != '\n')
			putchar('\n');
		if (t.body_html != NULL)
			printf("\n--- HTML ---\n%s\n", atsm_buf_str(&html));
	}
	atsm_buf_free(&subj);
	atsm_buf_free(&body);
	atsm_buf_free(&html);
	atsm_template_free(&t);
	atsm_tpl_fields_free(&f);
	return rc;
}

static int
template_sync(struct tpl *tp)
{
	if (geteuid() != 0)
		ctl_error("template sync: not root: doveadm may refuse to write the mailboxes");
	return ctl_template_sync(tp->ctl, tp->user, tp->doveadm);
}

int
ctl_cmd_template(struct ctl *ctx, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(struct tpl *);
		bool code;
		const char *options;
	} subs[] = {
		{ "add", template_add, true, "content" },
		{ "edit", template_edit, true, "content" },
		{ "list", template_list, false, "--as" },
		{ "show", template_show, true, "" },
		{ "rm", template_rm, true, "--doveadm" },
		{ "render", template_render, true, "--as --resume --contact --job" },
		{ "sync", template_sync, false, "--user --doveadm" },
	};
	static const char content_opts[] = "--name --subject --body --body-file --html-file "
	    "--lang --phase-resume --phase-contact --phase-process --owner --personal --shared "
	    "--on-missing --doveadm";
	static const struct {
		const char *name;
		size_t off;
	} opts[] = {
		{ "--name", offsetof(struct tpl, name) },
		{ "--subject", offsetof(struct tpl, subject) },
		{ "--body-file", offsetof(struct tpl, body_file) },
		{ "--body", offsetof(struct tpl, body) },
		{ "--html-file", offsetof(struct tpl, html_file) },
		{ "--lang", offsetof(struct tpl, lang) },
		{ "--phase-resume", offsetof(struct tpl, phase[0]) },
		{ "--phase-contact", offsetof(struct tpl, phase[1]) },
		{ "--phase-process", offsetof(struct tpl, phase[2]) },
		{ "--owner", offsetof(struct tpl, owner) },
		{ "--on-missing", offsetof(struct tpl, on_missing) },
		{ "--as", offsetof(struct tpl, as) },
		{ "--resume", offsetof(struct tpl, resume) },
		{ "--contact", offsetof(struct tpl, contact) },
		{ "--job", offsetof(struct tpl, job) },
		{ "--user", offsetof(struct tpl, user) },
		{ "--doveadm", offsetof(struct tpl, doveadm) },
		{ "--actor", offsetof(struct tpl, actor) },
	};
	struct tpl tp;
	const char *actor = NULL, *allowed;
	size_t s, o;
	int i, rc;

	memset(&tp, 0, sizeof(tp));
	tp.ctl = ctx;
	if (argc < 2) {
		ctl_error("template: which one? add, edit, list, show, rm, render or sync");
		ctl_cmd_template_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	for (i = 1; i < argc; i++)
		if (ctl_is_help(argv[i])) {
			ctl_cmd_template_usage(stdout);
			return CTL_EXIT_OK;
		}
	for (s = 0; s < sizeof(subs) / sizeof(subs[0]); s++)
		if (strcmp(argv[1], subs[s].name) == 0)
			break;
	if (s == sizeof(subs) / sizeof(subs[0]))
		return ctl_usage_error("template", "unknown subcommand '%s' (known: add, edit, list, show, rm, "
		    "render, sync)", argv[1]);
	allowed = strcmp(subs[s].options, "content") == 0 ? content_opts : subs[s].options;
	for (i = 2; i < argc; i++) {
		const char *v = NULL;
		bool matched = false;

		if (strcmp(argv[i], "--personal") == 0 || strcmp(argv[i], "--shared") == 0) {
			if (strstr(allowed, argv[i]) == NULL)
				return ctl_usage_error("template", "template %s: option %s does not apply here",
				    argv[1], argv[i]);
			if (argv[i][2] == 'p')
				tp.personal = true;
			else
				tp.shared = true;
			continue;
		}
		for (o = 0; o < sizeof(opts) / sizeof(opts[0]) && !matched; o++) {
			size_t n = strlen(opts[o].name);

			/* --body must not take --body-file's value */
			if (strncmp(argv[i], opts[o].name, n) != 0 ||
			    (argv[i][n] != '\0' && argv[i][n] != '='))
				continue;
			if (!ctl_ops_option(argc, argv, &i, opts[o].name, &v))
				continue;
			matched = true;
			if (v == NULL)
				return CTL_EXIT_USAGE;
			if (strcmp(opts[o].name, "--actor") != 0) {
				char word[40];

				snprintf(word, sizeof(word), "%s ", opts[o].name);
				if (strstr(allowed, opts[o].name) == NULL ||
				    (strstr(allowed, word) == NULL &&
				    strcmp(allowed + strlen(allowed) - n, opts[o].name) != 0))
					return ctl_usage_error("template", "template %s: option %s does not "
					    "apply here", argv[1], opts[o].name);
			}
			*(const char **)((char *)&tp + opts[o].off) = v;
		}
		if (matched)
			continue;
		if (argv[i][0] == '-' && argv[i][1] != '\0')
			return ctl_usage_error("template", "template %s: unknown option '%s'", argv[1], argv[i]);
		if (!subs[s].code || tp.code != NULL)
			return ctl_usage_error("template", "template %s: too many arguments ('%s')", argv[1],
			    argv[i]);
		tp.code = argv[i];
	}
	if (subs[s].code && tp.code == NULL)
		return ctl_usage_error("template", "template %s needs a CODE", argv[1]);
	if (tp.code != NULL && !atsm_template_code_valid(tp.code))
		return ctl_usage_error("template", "'%s' is not a template code ([a-z0-9][a-z0-9_-]*, at most 32)",
		    tp.code);
	actor = tp.actor;
	tp.actor = ctl_ops_actor(actor);
	rc = subs[s].fn(&tp);
	free(tp.body_text);
	free(tp.html_text);
	return rc;
}
