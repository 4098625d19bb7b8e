/* cmd-shared-sync.c -- atsmailctl shared sync: the folders of each shared
 * mailbox and its members' rights, made with doveadm
 * (docs/shared-mailboxes.md, "For the admin").
 *
 * Interface: ctl_cmd_shared_sync (ctl.h), called by the `shared`
 * dispatcher (cmd-shared.c).
 *
 * For each shared mailbox of the setting shared_mailboxes (or the one
 * --mailbox names):
 *	doveadm mailbox create -u MB FOLDER        the three status folders,
 *	                                            and 未対応/<m>, 対応中/<m>
 *	                                            per member m (there: fine)
 *	doveadm -o mail_plugins=acl acl set -u MB FOLDER user=<login> RIGHTS
 *	                                            INBOX and every folder
 *	                                            above, for every member
 *	doveadm -o mail_plugins=acl acl delete ...  for a user who is no
 *	                                            member any more
 * The acl plugin is loaded for these commands only: Dovecot loads it for
 * imap (the shared namespace, the template folder), not for doveadm.  A
 * member's rights let it see, read, flag, move and delete mail and make
 * folders; not administer the rights.  Setting them again is harmless, so
 * a sync with nothing changed changes nothing.  doveadm keeps the shared
 * dictionary (acl_shared_dict) in step, so that LIST shows the mailbox.
 */
#include "ctl-ops.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/buf.h"
#include "doveadm.h"
#include "shared/shared.h"
#include "store/db.h"

#define MEMBERS_MAX 256

static const char *const member_rights[] = {
	"lookup", "read", "write", "write-seen", "write-deleted", "insert", "post",
	"expunge", "create", NULL
};

/* The members of mailbox: their Dovecot user names (the primary address,
 * else the login, as template sync) and their logins. */
static const char members_sql[] =
    "SELECT coalesce(a.addr_norm, u.login), u.login FROM atsmail.shared_members m"
    " JOIN atsmail.users u ON u.id = m.user_id AND u.active"
    " LEFT JOIN atsmail.addresses a ON a.owner_kind = 'user' AND a.owner_id = u.id"
    "  AND a.is_primary"
    " WHERE m.mailbox = $1 ORDER BY u.login";

struct sync {
	struct ctl_doveadm d;
	struct atsm_buf out, err;
	int failed;
};

/* doveadm with the words w; 0, or -1 after an error naming what failed. */
static int
dova(struct sync *s, const char *mb, const char *what, const char *const *w)
{
	int rc;

	atsm_buf_reset(&s->out);
	atsm_buf_reset(&s->err);
	rc = ctl_doveadm_run(&s->d, w, NULL, 0, &s->out, &s->err);
	if (rc == 0)
		return 0;
	ctl_error("shared sync: %s: %s failed (exit %d): %s", mb, what, rc,
	    ctl_doveadm_first_line(&s->err));
	s->failed++;
	return -1;
}

static int
make_folder(struct sync *s, const char *mb, const char *folder)
{
	const char *w[] = { "mailbox", "create", "-u", mb, folder, NULL };
	int rc;

	atsm_buf_reset(&s->out);
	atsm_buf_reset(&s->err);
	rc = ctl_doveadm_run(&s->d, w, NULL, 0, &s->out, &s->err);
	/* there already: doveadm says so and exits non-zero */
	if (rc == 0 || (s->err.data != NULL && strstr(s->err.data, "already exists") != NULL))
		return 0;
	ctl_error("shared sync: %s: cannot make folder %s (exit %d): %s", mb, folder, rc,
	    ctl_doveadm_first_line(&s->err));
	s->failed++;
	return -1;
}

static int
set_rights(struct sync *s, const char *mb, const char *folder, const char *user)
{
	char id[512];
	const char *w[8 + sizeof(member_rights) / sizeof(member_rights[0])];
	int n = 0, i;

	snprintf(id, sizeof(id), "user=%s", user);
	w[n++] = "-o";
	w[n++] = "mail_plugins=acl";
	w[n++] = "acl";
	w[n++] = "set";
	w[n++] = "-u";
	w[n++] = mb;
	w[n++] = folder;
	w[n++] = id;
	for (i = 0; member_rights[i] != NULL; i++)
		w[n++] = member_rights[i];
	w[n] = NULL;
	return dova(s, mb, "doveadm acl set", w);
}

/* Take away the rights of users on folder who are no members: the
 * "user=X" entries of doveadm acl get. */
static void
drop_others(struct sync *s, const char *mb, const char *folder, char **users, int nusers)
{
	const char *w[] = { "-o", "mail_plugins=acl", "acl", "get", "-u", mb, folder, NULL };
	char *line, *save = NULL, *copy, *sp;
	int i;

	if (dova(s, mb, "doveadm acl get", w) < 0 || s->out.data == NULL)
		return;
	if ((copy = strdup(s->out.data)) == NULL)
		return;
	for (line = strtok_r(copy, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		bool member = false;

		if (strncmp(line, "user=", 5) != 0)
			continue;
		if ((sp = strpbrk(line, " \t")) != NULL)
			*sp = '\0';
		for (i = 0; i < nusers && !member; i++)
			member = strcasecmp(line + 5, users[i]) == 0;
		if (!member) {
			const char *dw[] = { "-o", "mail_plugins=acl", "acl", "delete", "-u", mb,
			    folder, line, NULL };

			if (dova(s, mb, "doveadm acl delete", dw) == 0)
				printf("%s: %s: rights of %s removed (no member)\n", mb, folder,
				    line + 5);
		}
	}
	free(copy);
}

static int
sync_mailbox(struct ctl *ctx, struct sync *s, const char *mb)
{
	const char *p[1] = { mb };
	char *users[MEMBERS_MAX], folders[2 + 3 + 2 * MEMBERS_MAX][ATSM_SHARED_FOLDER_MAX];
	struct atsm_err e;
	PGresult *r;
	int nf = 0, nu, i, k;
	enum atsm_shared_status st;

	if ((r = atsm_db_exec(ctx->conn, members_sql, 1, p, &e)) == NULL)
		return ctl_ops_db_fail("shared sync", &e);
	nu = PQntuples(r) < MEMBERS_MAX ? PQntuples(r) : MEMBERS_MAX;
	if (PQntuples(r) > MEMBERS_MAX)
		ctl_error("shared sync: %s: more than %d members; the first %d are synced", mb,
		    MEMBERS_MAX, MEMBERS_MAX);
	snprintf(folders[nf++], ATSM_SHARED_FOLDER_MAX, "INBOX");
	for (k = 0; k < 3; k++) {
		st = (enum atsm_shared_status)k;
		if (atsm_shared_folder_of(&ctx->conf, st, NULL, folders[nf], ATSM_SHARED_FOLDER_MAX,
		    &e) < 0) {
			ctl_error("shared sync: %s: %s", mb, e.msg);
			PQclear(r);
			return CTL_EXIT_CONFIG;
		}
		nf++;
	}
	for (i = 0; i < nu; i++) {
		users[i] = PQgetvalue(r, i, 0);
		for (k = 0; k < 2; k++) {
			st = k == 0 ? ATSM_SHARED_UNHANDLED : ATSM_SHARED_PROGRESS;
			if (atsm_shared_folder_of(&ctx->conf, st, PQgetvalue(r, i, 1), folders[nf],
			    ATSM_SHARED_FOLDER_MAX, &e) < 0) {
				ctl_error("shared sync: %s: %s; no folder for this member", mb, e.msg);
				s->failed++;
				continue;
			}
			nf++;
		}
	}
	for (k = 0; k < nf; k++) {
		if (k > 0 && make_folder(s, mb, folders[k]) < 0)
			continue;
		for (i = 0; i < nu; i++)
			(void)set_rights(s, mb, folders[k], users[i]);
		drop_others(s, mb, folders[k], users, nu);
	}
	printf("%s: %d member(s), %d folder(s)\n", mb, nu, nf - 1);
	PQclear(r);
	return 0;
}

int
ctl_cmd_shared_sync(struct ctl *ctx, int argc, char **argv)
{
	const char *mailbox = NULL, *doveadm = NULL;
	struct sync s;
	size_t i;
	int rc = 0, a;

	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--mailbox") == 0 && a + 1 < argc)
			mailbox = argv[++a];
		else if (strcmp(argv[a], "--doveadm") == 0 && a + 1 < argc)
			doveadm = argv[++a];
		else
			return ctl_usage_error("shared sync", "unknown or incomplete option '%s'",
			    argv[a]);
	}
	if ((rc = ctl_connect(ctx)) != 0)
		return rc;
	if (mailbox != NULL && !atsm_shared_is_mailbox(&ctx->conf, mailbox)) {
		ctl_error("shared sync: %s is not in shared_mailboxes (%s)", mailbox,
		    ctx->conf_path);
		return CTL_EXIT_FAIL;
	}
	if (ctx->conf.shared_mailboxes.n == 0) {
		printf("no shared mailbox (shared_mailboxes is empty)\n");
		return CTL_EXIT_OK;
	}
	if (geteuid() != 0)
		ctl_error("shared sync: not root: doveadm may refuse to write the mailboxes");
	memset(&s, 0, sizeof(s));
	if (ctl_doveadm_init(&s.d, doveadm != NULL ? doveadm : ctx->conf.shared_doveadm) < 0) {
		ctl_error("shared sync: --doveadm (or shared_doveadm) names no command");
		return CTL_EXIT_USAGE;
	}
	atsm_buf_init(&s.out, CTL_DOVEADM_OUT_MAX);
	atsm_buf_init(&s.err, 64 * 1024);
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < ctx->conf.shared_mailboxes.n && rc == 0; i++) {
		const char *mb = ctx->conf.shared_mailboxes.v[i];

		if (mailbox != NULL && strcasecmp(mb, mailbox) != 0)
			continue;
		rc = sync_mailbox(ctx, &s, mb);
	}
	atsm_buf_free(&s.out);
	atsm_buf_free(&s.err);
	free(s.d.words);
	if (rc != 0)
		return rc;
	return s.failed > 0 ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}
