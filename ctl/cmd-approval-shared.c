/* cmd-approval-shared.c -- a held reply in a shared mailbox's thread,
 * decided (docs/shared-reply.md, "Held for approval").
 *
 * atsmaild records, when it holds a member's reply, the answer it will be
 * (sql/021-held-shared.sql).  Released (approval approve, approval run):
 * in the decision's transaction shared_held_settle records it -- 'forced'
 * when the thread is another member's now, then answered -- and returns
 * the thread's mails; after the commit they are moved in the shared
 * mailbox's own account as atsmaild's mover does:
 *
 *	doveadm move -u MAILBOX TARGET mailbox SOURCE header Message-ID <ID>
 *
 * (atsm_shared_folder_of, atsm_shared_move_sources; doveadm being
 * shared_doveadm; a missing target folder is made once).  A failure is
 * reported and undoes nothing: PostgreSQL holds the status, a member or
 * `shared sync` can move the mail.  Rejected: shared_held_drop, the
 * thread is unchanged.
 */
#include "ctl-ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd-approval.h"
#include "doveadm.h"
#include "shared/shared.h"

PGresult *
ctl_approval_shared_settle(struct ctl *ctx, const char *id, const char *actor,
    struct atsm_err *err)
{
	const char *p[2] = { id, actor };

	return atsm_db_exec(ctx->conn, "SELECT mailbox, thread_key, rfc_message_id, "
	    "assignee_login, status, note FROM atsmail.shared_held_settle($1::bigint, $2)", 2, p,
	    err);
}

int
ctl_approval_shared_drop(struct ctl *ctx, const char *id, struct atsm_err *err)
{
	const char *p[1] = { id };
	PGresult *res;

	if ((res = atsm_db_exec(ctx->conn, "SELECT atsmail.shared_held_drop($1::bigint)", 1, p,
	    err)) == NULL)
		return -1;
	if (atoi(PQgetvalue(res, 0, 0)) > 0)
		printf("message %s: its answer in %s shared mailbox thread(s) is dropped\n", id,
		    PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

/* doveadm with the words w: 0, or its exit status (-1: not run) with the
 * first line of its complaint in why. */
static int
dova(struct ctl_doveadm *d, const char *const *w, char *why, size_t n)
{
	struct atsm_buf out, err;
	int rc;

	atsm_buf_init(&out, CTL_DOVEADM_OUT_MAX);
	atsm_buf_init(&err, CTL_DOVEADM_OUT_MAX);
	rc = ctl_doveadm_run(d, w, NULL, 0, &out, &err);
	snprintf(why, n, "%s", rc != 0 ? ctl_doveadm_first_line(&err) : "");
	atsm_buf_free(&out);
	atsm_buf_free(&err);
	return rc;
}

/* One mail of a thread to its status folder: 0, or -1 after a message. */
static int
move_one(struct ctl *ctx, struct ctl_doveadm *d, const char *mailbox, const char *msgid,
    const char *assignee, const char *status)
{
	char target[ATSM_SHARED_FOLDER_MAX], src[ATSM_SHARED_MOVE_SOURCES][ATSM_SHARED_FOLDER_MAX];
	char id[1024], why[300];
	enum atsm_shared_status st;
	struct atsm_err err;
	bool made = false;
	size_t i;
	int rc;

	atsm_err_clear(&err);
	if (atsm_shared_status_parse(status, &st) < 0) {
		ctl_error("approval: shared mailbox %s: <%s>: no status '%s'", mailbox, msgid, status);
		return -1;
	}
	if (atsm_shared_folder_of(&ctx->conf, st, assignee, target, sizeof(target), &err) < 0 ||
	    atsm_shared_move_sources(&ctx->conf, st, src, &err) < 0) {
		ctl_error("approval: shared mailbox %s: <%s> not moved: %s", mailbox, msgid, err.msg);
		return -1;
	}
	snprintf(id, sizeof(id), "<%s>", msgid);
	for (i = 0; i < ATSM_SHARED_MOVE_SOURCES; i++) {
		const char *w[] = { "move", "-u", mailbox, target, "mailbox", src[i], "header",
		    "Message-ID", id, NULL };
		const char *create[] = { "mailbox", "create", "-s", "-u", mailbox, target, NULL };

		rc = dova(d, w, why, sizeof(why));
		if (rc != 0 && !made) {
			/* the target may not exist yet (対応中/alice): make it, once */
			made = true;
			if (dova(d, create, why, sizeof(why)) == 0)
				rc = dova(d, w, why, sizeof(why));
		}
		if (rc != 0) {
			ctl_error("approval: shared mailbox %s: cannot move <%s> from %s to %s (exit "
			    "%d): %s; the thread is recorded %s, move the mail by hand", mailbox, msgid,
			    src[i], target, rc, why, status);
			return -1;
		}
	}
	printf("shared mailbox %s: <%s> moved to %s\n", mailbox, msgid, target);
	return 0;
}

void
ctl_approval_shared_move(struct ctl *ctx, const char *id, PGresult *moves)
{
	struct ctl_doveadm d;
	bool can;
	int i;

	if (moves == NULL || PQntuples(moves) == 0)
		return;
	for (i = 0; i < PQntuples(moves); i++)
		if (!PQgetisnull(moves, i, 5))
			printf("message %s: shared mailbox %s thread <%s>: %s\n", id,
			    PQgetvalue(moves, i, 0), PQgetvalue(moves, i, 1), PQgetvalue(moves, i, 5));
	for (i = 0; i < PQntuples(moves); i++)
		if (!PQgetisnull(moves, i, 2) && (i == 0 || strcmp(PQgetvalue(moves, i, 1),
		    PQgetvalue(moves, i - 1, 1)) != 0 || strcmp(PQgetvalue(moves, i, 0),
		    PQgetvalue(moves, i - 1, 0)) != 0))
			printf("message %s: shared mailbox %s thread <%s> answered (%s)\n", id,
			    PQgetvalue(moves, i, 0), PQgetvalue(moves, i, 1), PQgetvalue(moves, i, 4));
	if (!(can = ctl_doveadm_possible(ctx->conf.shared_doveadm)) ||
	    ctl_doveadm_init(&d, ctx->conf.shared_doveadm) < 0) {
		if (can)
			free(d.words);
		ctl_error("approval: warning: cannot run doveadm (%s): the answered thread's mails "
		    "stay where they are in the shared mailbox; move them by hand",
		    can ? "shared_doveadm names no command" : "not root, or not found");
		return;
	}
	for (i = 0; i < PQntuples(moves); i++)
		if (!PQgetisnull(moves, i, 2))
			(void)move_one(ctx, &d, PQgetvalue(moves, i, 0), PQgetvalue(moves, i, 2),
			    PQgetisnull(moves, i, 3) ? NULL : PQgetvalue(moves, i, 3),
			    PQgetvalue(moves, i, 4));
	free(d.words);
}
