/* ctl-ops.h -- what the operation commands of atsmailctl share (import,
 * policy, history, audit, unresolved): options of the form "--name VALUE"
 * or "--name=VALUE" after the subcommand, the actor written into audit
 * entries, one audit entry, and the mapping of database failures to exit
 * codes.  Implemented in ctl-ops.c.
 */
#ifndef ATSM_CTL_OPS_H
#define ATSM_CTL_OPS_H

#include <jansson.h>

#include "store/db.h"
#include "ctl.h"

/* Whether argv[*i] is option name; its value (the next word, or after
 * '=') goes to *val and *i is advanced.  A missing value is reported and
 * *val set to NULL (the caller returns CTL_EXIT_USAGE). */
bool ctl_ops_option(int argc, char **argv, int *i, const char *name, const char **val);

/* The actor of audit entries: given (--actor) if not NULL, else the login
 * name of the user running atsmailctl (with "sudo:" and the invoking user
 * when run through sudo as root). */
const char *ctl_ops_actor(const char *given);

/* Print "<what>: <message>" and return the exit code of a database
 * failure: CTL_EXIT_DBDOWN when err's class is UNAVAILABLE, else
 * CTL_EXIT_FAIL. */
int ctl_ops_db_fail(const char *what, const struct atsm_err *err);

/* Append one audit entry (atsmail.audit); detail is consumed (decref'd).
 * 0 or -1 with err. */
int ctl_ops_audit(PGconn *conn, const char *actor, const char *action, const char *kind,
    const char *object_id, json_t *detail, struct atsm_err *err);

/* BEGIN and SET LOCAL atsmail.actor = actor, so that the entries the
 * triggers write name the same actor.  0 or -1 (rolled back). */
int ctl_ops_begin(PGconn *conn, const char *actor, struct atsm_err *err);

/* Whether s is a valid phase code, kind, ... (closed sets of the schema). */
bool ctl_ops_phase_code_ok(const char *s);
bool ctl_ops_in(const char *s, const char *const *set);

/* yes/no, true/false, on/off, 1/0, はい/いいえ, ○/×: 0 and *v, or -1. */
int ctl_ops_bool(const char *s, bool *v);

/* policy approval | group (cmd-policy-approval.c); argv[1] names which. */
int ctl_policy_approval(struct ctl *ctx, int argc, char **argv);
#endif
