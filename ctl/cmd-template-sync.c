/* cmd-template-sync.c -- atsmailctl template sync: the drafts of the IMAP
 * folder template_folder ("ATS Templates"), one per template a user may
 * use, written with doveadm (docs/templates.md, "The folder").
 *
 * For each active user with a primary address (their mail login):
 *	doveadm mailbox create -s -u ADDR FOLDER      (already there: fine)
 *	doveadm fetch -u ADDR 'uid hdr.x-ats-template' mailbox FOLDER
 *	doveadm expunge -u ADDR mailbox FOLDER uid N,M  drafts of templates
 *	                 gone, changed (another rev=) or there twice
 *	doveadm save -u ADDR -m FOLDER                the draft on stdin
 * so that a sync with nothing changed writes nothing.  doveadm runs
 * without the acl plugin (it is loaded for the imap protocol only), which
 * is what keeps the folder read-only to IMAP users and writable here.  A
 * user Dovecot does not know (exit 67) is skipped with a note.  doveadm is
 * run directly (fork and exec, no shell): the words of --doveadm are its
 * argv, e.g. "doveadm -c /path/dovecot.conf".
 */
#include "cmd-template.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "doveadm.h"
#include "store/template-db.h"
#include "template/template.h"

struct have {
	char uid[16];
	char code[ATSM_TPL_CODE_MAX];
	int rev;
	bool keep;
};

/* Parse doveadm fetch's "uid: N" / "hdr.x-ats-template: CODE; rev=R"
 * records.  Returns the number of records in *v (malloc'ed). */
static size_t
parse_fetch(char *s, struct have **v)
{
	size_t n = 0, cap = 0;
	char *line, *save = NULL;

	*v = NULL;
	for (line = strtok_r(s, "\n\f", &save); line != NULL; line = strtok_r(NULL, "\n\f", &save)) {
		if (strncmp(line, "uid: ", 5) == 0) {
			if (n == cap) {
				struct have *nv = realloc(*v, (cap = cap ? cap * 2 : 16) * sizeof(**v));

				if (nv == NULL)
					break;
				*v = nv;
			}
			memset(&(*v)[n], 0, sizeof(**v));
			snprintf((*v)[n].uid, sizeof((*v)[n].uid), "%s", line + 5);
			n++;
		} else if (n > 0 && strncmp(line, "hdr.x-ats-template: ", 20) == 0) {
			struct have *h = &(*v)[n - 1];
			const char *p = line + 20, *semi = strchr(p, ';'), *r;
			size_t cl = semi != NULL ? (size_t)(semi - p) : strlen(p);

			if (cl < sizeof(h->code)) {
				memcpy(h->code, p, cl);
				h->code[cl] = '\0';
			}
			if (semi != NULL && (r = strstr(semi, "rev=")) != NULL)
				h->rev = atoi(r + 4);
		}
	}
	return n;
}

static void
rfc5322_now(char *buf, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, n, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

/* Templates user uid may use, as rows (code, revision); a notification's
 * text (notify-..., docs/notifications.md) is nobody's draft. */
static const char usable_sql[] =
    "SELECT t.code, t.revision FROM atsmail.templates t"
    " WHERE left(t.code, 7) <> 'notify-' AND (t.shared OR t.owner_id = $1::bigint"
    "  OR EXISTS (SELECT 1 FROM atsmail.users u WHERE u.id = $1::bigint AND u.role = 'admin'))"
    " ORDER BY t.code";

static int
sync_user(struct ctl *ctx, struct ctl_doveadm *d, const char *uid, const char *addr,
    const char *display, int *failed)
{
	const char *folder = ctx->conf.template_folder;
	struct atsm_buf out, err;
	struct have *have = NULL;
	size_t nhave, i;
	const char *p[1] = { uid };
	PGresult *r;
	struct atsm_err e;
	int rc, k, added = 0, removed = 0, nt;
	char expunge[4096] = "";

	atsm_buf_init(&out, CTL_DOVEADM_OUT_MAX);
	atsm_buf_init(&err, 64 * 1024);
	{
		const char *w[] = { "mailbox", "create", "-s", "-u", addr, folder, NULL };

		rc = ctl_doveadm_run(d, w, NULL, 0, &out, &err);
	}
	if (rc == CTL_DOVEADM_EX_NOUSER) {
		printf("%s: not a Dovecot user here, skipped\n", addr);
		goto done;
	}
	/* "already exists" is the usual case; a real failure shows below */
	atsm_buf_reset(&out);
	atsm_buf_reset(&err);
	{
		const char *w[] = { "fetch", "-u", addr, "uid hdr.x-ats-template",
		    "mailbox", folder, NULL };

		rc = ctl_doveadm_run(d, w, NULL, 0, &out, &err);
	}
	if (rc != 0) {
		ctl_error("template sync: %s: doveadm fetch failed (exit %d): %s", addr, rc,
		    ctl_doveadm_first_line(&err));
		(*failed)++;
		goto done;
	}
	nhave = out.data != NULL ? parse_fetch(out.data, &have) : 0;
	if ((r = atsm_db_exec(ctx->conn, usable_sql, 1, p, &e)) == NULL) {
		free(have);
		atsm_buf_free(&out);
		atsm_buf_free(&err);
		return ctl_ops_db_fail("template sync", &e);
	}
	nt = PQntuples(r);
	for (k = 0; k < nt; k++) {
		const char *code = PQgetvalue(r, k, 0);
		int rev = atoi(PQgetvalue(r, k, 1));
		bool found = false;

		for (i = 0; i < nhave; i++)
			if (!found && !have[i].keep && strcmp(have[i].code, code) == 0 &&
			    have[i].rev == rev)
				have[i].keep = found = true;
		if (found)
			continue;
		{
			struct atsm_template t;
			struct atsm_buf draft, from, bcc;
			char date[64], msgid[256];
			const char *w[] = { "save", "-u", addr, "-m", folder, NULL };

			if (atsm_tpl_db_load(ctx->conn, code, atoll(uid), &t, &e) != 1) {
				ctl_error("template sync: %s: template %s: %s", addr, code,
				    e.msg[0] != '\0' ? e.msg : "gone meanwhile");
				(*failed)++;
				continue;
			}
			atsm_buf_init(&draft, 16u * 1024u * 1024u);
			atsm_buf_init(&from, 0);
			atsm_buf_init(&bcc, 0);
			if (display[0] != '\0')
				(void)atsm_buf_printf(&from, "%s <%s>", display, addr);
			else
				(void)atsm_buf_puts(&from, addr);
			(void)atsm_buf_printf(&bcc, "ats+template.%s@%s", code, ctx->conf.ats_domain);
			rfc5322_now(date, sizeof(date));
			snprintf(msgid, sizeof(msgid), "template.%s.r%d.u%s@%s", code, t.revision,
			    uid, ctx->conf.ats_domain);
			if (atsm_tpl_draft(&t, atsm_buf_str(&from), atsm_buf_str(&bcc), date,
			    msgid, &draft, &e) < 0) {
				ctl_error("template sync: %s: %s", addr, e.msg);
				(*failed)++;
			} else {
				atsm_buf_reset(&out);
				atsm_buf_reset(&err);
				rc = ctl_doveadm_run(d, w, draft.data, draft.len, &out, &err);
				if (rc != 0) {
					ctl_error("template sync: %s: doveadm save of %s failed "
					    "(exit %d): %s", addr, code, rc, ctl_doveadm_first_line(&err));
					(*failed)++;
				} else
					added++;
			}
			atsm_template_free(&t);
			atsm_buf_free(&draft);
			atsm_buf_free(&from);
			atsm_buf_free(&bcc);
		}
	}
	PQclear(r);
	/* what is not kept goes: templates gone, older revisions, copies */
	for (i = 0; i < nhave; i++) {
		if (have[i].keep)
			continue;
		if (strlen(expunge) + strlen(have[i].uid) + 2 >= sizeof(expunge))
			break;	/* the rest at the next sync */
		if (expunge[0] != '\0')
			strcat(expunge, ",");
		strcat(expunge, have[i].uid);
		removed++;
	}
	if (expunge[0] != '\0') {
		const char *w[] = { "expunge", "-u", addr, "mailbox", folder, "uid", expunge, NULL };

		atsm_buf_reset(&out);
		atsm_buf_reset(&err);
		if ((rc = ctl_doveadm_run(d, w, NULL, 0, &out, &err)) != 0) {
			ctl_error("template sync: %s: doveadm expunge failed (exit %d): %s",
			    addr, rc, ctl_doveadm_first_line(&err));
			(*failed)++;
			removed = 0;
		}
	}
	printf("%s: %d template draft(s), %d added, %d removed\n", addr, nt, added, removed);
done:
	free(have);
	atsm_buf_free(&out);
	atsm_buf_free(&err);
	return 0;
}

int
ctl_template_sync(struct ctl *ctx, const char *login, const char *doveadm)
{
	static const char users_sql[] =
	    "SELECT u.id, a.addr_norm, u.display_name FROM atsmail.users u"
	    " JOIN atsmail.addresses a ON a.owner_kind = 'user' AND a.owner_id = u.id"
	    "  AND a.is_primary"
	    " WHERE u.active AND ($1::text IS NULL OR u.login = $1 OR a.addr_norm = lower($1))"
	    " ORDER BY u.id";
	const char *p[1] = { login };
	struct atsm_err e;
	struct ctl_doveadm d;
	PGresult *r;
	int rc, i, failed = 0;

	if ((rc = ctl_connect(ctx)) != 0)
		return rc;
	if (ctx->conf.ats_domain == NULL || ctx->conf.ats_domain[0] == '\0') {
		ctl_error("template sync: ats_domain is not set: the drafts' Bcc "
		    "ats+template.<code>@<ats_domain> needs it");
		return CTL_EXIT_CONFIG;
	}
	if (ctl_doveadm_init(&d, doveadm) < 0) {
		ctl_error("template sync: --doveadm names no command");
		return CTL_EXIT_USAGE;
	}
	if ((r = atsm_db_exec(ctx->conn, users_sql, 1, p, &e)) == NULL) {
		free(d.words);
		return ctl_ops_db_fail("template sync", &e);
	}
	if (PQntuples(r) == 0 && login != NULL) {
		ctl_error("template sync: no active user %s with a primary address", login);
		PQclear(r);
		free(d.words);
		return CTL_EXIT_FAIL;
	}
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < PQntuples(r); i++) {
		rc = sync_user(ctx, &d, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
		    PQgetvalue(r, i, 2), &failed);
		if (rc != 0)
			break;
	}
	PQclear(r);
	free(d.words);
	if (rc != 0)
		return rc;
	return failed > 0 ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}

bool
ctl_template_sync_possible(const char *doveadm)
{
	return ctl_doveadm_possible(doveadm);
}
