/* cmd-approval.h -- what atsmailctl approval's files share: one decision
 * on one held mail (cmd-approval.c), used by approve / reject and by
 * `approval run` for the decisions approvers made by mail
 * (cmd-approval-run.c).
 */
#ifndef ATSM_CTL_CMD_APPROVAL_H
#define ATSM_CTL_CMD_APPROVAL_H

#include <stdbool.h>

#include "ctl.h"

struct ctl_approval_opts {
	const char *id;            /* messages.id of the held mail */
	const char *conf_dir;      /* postsuper -c DIR; NULL: the default instance */
	const char *prog;          /* postsuper */
	const char *postqueue;
	const char *reason;        /* reject: told to the sender, audited */
	const char *actor;         /* who decides; NULL: the login */
	const char *request;       /* approval_requests.id applied by this decision, or NULL */
	bool db_only;              /* the mail was released or deleted by hand */
};

/* postsuper -H (release) or -d, then held_release / held_reject and
 * approval_decided in one transaction; prints one line.  An exit code. */
int ctl_approval_decide(struct ctl *ctx, bool release, const struct ctl_approval_opts *o);

/* cmd-approval-shared.c: a held reply in a shared mailbox's thread
 * (sql/021).  In the release's transaction: settle its pending answers;
 * the rows to move (maybe none), or NULL with err. */
PGresult *ctl_approval_shared_settle(struct ctl *ctx, const char *id, const char *actor,
    struct atsm_err *err);
/* In the rejection's transaction: drop them.  0, or -1 with err. */
int ctl_approval_shared_drop(struct ctl *ctx, const char *id, struct atsm_err *err);
/* After the commit: say what was answered and move the mails with doveadm
 * (root).  A failure is said, never undone. */
void ctl_approval_shared_move(struct ctl *ctx, const char *id, PGresult *moves);

/* approval run [--follow] ... (cmd-approval-run.c); argv[0] is "run". */
int ctl_approval_run(struct ctl *ctx, int argc, char **argv);

#endif
