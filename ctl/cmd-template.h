/* cmd-template.h -- what cmd-template.c (the commands on the database)
 * and cmd-template-sync.c (the drafts of the IMAP folder, through
 * doveadm) share. */
#ifndef ATSM_CTL_CMD_TEMPLATE_H
#define ATSM_CTL_CMD_TEMPLATE_H

#include "ctl-ops.h"

/* Bring the template folder of every active user (login == NULL) or of
 * one user in step with the templates each may use.  doveadm is the
 * command to run (words split at blanks; NULL = "doveadm" from PATH).
 * Prints one line per user; 0 or an exit code. */
int ctl_template_sync(struct ctl *ctx, const char *login, const char *doveadm);

/* Whether a sync can run here: root, and doveadm given or on PATH. */
bool ctl_template_sync_possible(const char *doveadm);

#endif
