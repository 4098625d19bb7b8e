/* cmd-approval.c -- atsmailctl approval (alias: held): mail that waits
 * for approval.
 *
 *   atsmailctl approval list [--all]
 *   atsmailctl approval approve ID [--postfix-config DIR] [--postsuper PATH]
 *                                  [--postqueue PATH] [--db-only] [--actor NAME]
 *   atsmailctl approval reject ID --reason TEXT [--postfix-config DIR]
 *                                  [--postsuper PATH] [--db-only] [--actor NAME]
 *   atsmailctl approval run [--follow] ...      (cmd-approval-run.c)
 * ("held release" is "approval approve"; `held` takes the same words.)
 *
 * A mail of a user who needs approval is put in Postfix's hold queue by
 * atsmaild and recorded as held (sql/014-held-mail.sql), and its approvers
 * are told (sql/020-approval.sql).  approve runs `postsuper -H QUEUE_ID`
 * (Postfix sends it) and then atsmail.held_release(), which applies its
 * phase changes, sends message.sent and audits; reject runs `postsuper -d
 * QUEUE_ID hold` and atsmail.held_reject().  Either way
 * atsmail.approval_decided() then tells the sender (approval.approved,
 * approval.rejected with the reason).  A held reply in a shared mailbox's
 * thread answers it on release, and its mails are moved after the commit,
 * or its pending answer is dropped on rejection (cmd-approval-shared.c).  (postsuper -H moves the mail to the
 * deferred queue; `postqueue -i` then asks for its delivery at once.)
 * Both in one transaction that holds the row lock of the held mail across
 * postsuper, so two approvers cannot decide one mail twice.  postsuper
 * says how many messages it touched (it exits 0 for an unknown queue id):
 * anything but one refuses the change, unless --db-only says the mail was
 * released or deleted by hand already.  Run as root (postsuper needs it).
 */
#include "ctl-ops.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd-approval.h"

#define POSTSUPER_OUT_MAX 4096    /* what is read of postsuper's output */

void
ctl_cmd_approval_usage(FILE *fp)
{
	fputs(
	    "usage: " CTL_PROGNAME " [OPTIONS] approval list [--all]\n"
	    "       " CTL_PROGNAME " [OPTIONS] approval approve ID [--postfix-config DIR]\n"
	    "                     [--postsuper PATH] [--postqueue PATH] [--db-only] [--actor NAME]\n"
	    "       " CTL_PROGNAME " [OPTIONS] approval reject ID --reason TEXT [--postfix-config DIR]\n"
	    "                     [--postsuper PATH] [--db-only] [--actor NAME]\n"
	    "       " CTL_PROGNAME " [OPTIONS] approval run [--follow] [--interval SECONDS]\n"
	    "                     [--postfix-config DIR] [--postsuper PATH] [--postqueue PATH]\n"
	    "       (" CTL_PROGNAME " held list | release | reject: the same, release = approve)\n"
	    "\n"
	    "  list     the mail waiting for approval, one a line: ID, queue id, sender,\n"
	    "           held since, recipients, state, subject (--all: decided ones too,\n"
	    "           with the decision); a decision asked for by mail shows in state\n"
	    "  approve  postsuper -H the mail's queue id, then record it as sent: its\n"
	    "           phase changes, message.sent, the audit entry; the sender is told\n"
	    "           (approval.approved); then postqueue -i (Postfix delivers it now);\n"
	    "           a reply in a shared mailbox's thread answers it now, and its mails\n"
	    "           are moved with doveadm (docs/shared-reply.md)\n"
	    "  reject   postsuper -d the mail's queue id (from the hold queue only), then\n"
	    "           record it as rejected and tell the sender why (approval.rejected);\n"
	    "           nothing else happens to the records (a shared thread stays unanswered)\n"
	    "  run      apply the decisions approvers sent by mail (ats+approve.ID,\n"
	    "           ats+reject.ID) as approve / reject do, and remind the approvers of\n"
	    "           mail held longer than approval_remind_after (once); --follow: again\n"
	    "           every --interval seconds (default 30) until stopped\n"
	    "\n"
	    "  ID                   the message's id (messages.id, as list prints it)\n"
	    "  --postfix-config DIR the Postfix instance (postsuper -c DIR; default: the\n"
	    "                       default instance)\n"
	    "  --postsuper PATH     the postsuper program (default: postsuper on PATH)\n"
	    "  --postqueue PATH     the postqueue program (default: postqueue on PATH)\n"
	    "  --db-only            do not run postsuper: the mail was released or deleted\n"
	    "                       by hand already (or has no queue id); record only\n"
	    "  --reason TEXT        why it was rejected: told to the sender, audited\n"
	    "  --actor NAME         who decides, for the audit log (default: the login)\n"
	    "\n"
	    "Needs root for postsuper and a login of atsmail_writer.\n"
	    "Exit codes: 0 done, 1 not held / already decided / postsuper failed or found\n"
	    "nothing (run: a decision failed), 2 usage, 3 configuration, 4 database\n"
	    "unavailable.\n", fp);
}

void
ctl_cmd_held_usage(FILE *fp)
{
	ctl_cmd_approval_usage(fp);
}

static int
held_list(struct ctl *ctx, bool all)
{
	struct atsm_err err;
	const char *p[1] = { all ? "t" : "f" };
	PGresult *res;
	int i, rc;

	if ((rc = ctl_connect(ctx)) != 0)
		return rc;
	if ((res = atsm_db_exec(ctx->conn, "SELECT h.message_id, coalesce(h.queue_id, '-'),"
	    " coalesce(u.login, '-'), to_char(h.held_at AT TIME ZONE 'UTC',"
	    " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
	    " (SELECT count(*) FROM atsmail.message_recipients r WHERE r.message_id = m.id),"
	    " coalesce(h.decision || ' by ' || h.decided_by, (SELECT 'held, ' || r.decision"
	    "  || ' asked by ' || a.login FROM atsmail.approval_requests r"
	    "  JOIN atsmail.users a ON a.id = r.approver_id WHERE r.message_id = h.message_id"
	    "  AND r.applied_at IS NULL ORDER BY r.id LIMIT 1), 'held'),"
	    " coalesce(replace(replace(m.subject, E'\\t', ' '), E'\\n', ' '), '')"
	    " FROM atsmail.held_messages h JOIN atsmail.messages m ON m.id = h.message_id"
	    " LEFT JOIN atsmail.users u ON u.id = m.owner_id"
	    " WHERE $1::boolean OR h.decision IS NULL ORDER BY h.held_at, h.message_id",
	    1, p, &err)) == NULL)
		return ctl_ops_db_fail("approval list", &err);
	printf("id\tqueue_id\tsender\theld_at\trecipients\tstate\tsubject\n");
	for (i = 0; i < PQntuples(res); i++)
		printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		    PQgetvalue(res, i, 2), PQgetvalue(res, i, 3), PQgetvalue(res, i, 4),
		    PQgetvalue(res, i, 5), PQgetvalue(res, i, 6));
	PQclear(res);
	return CTL_EXIT_OK;
}

/* Run argv (argv[0] on PATH) with its output (stdout and stderr) in out:
 * 0 when it exited 0, else -1 after a message. */
static int
run(const char *const *argv, char *out, size_t outsz, const char *what)
{
	size_t len = 0;
	int fd[2], status;
	pid_t pid;
	ssize_t r;

	out[0] = '\0';
	if (pipe(fd) < 0) {
		ctl_error("approval %s: cannot run %s: %s", what, argv[0], strerror(errno));
		return -1;
	}
	if ((pid = fork()) < 0) {
		ctl_error("approval %s: cannot run %s: %s", what, argv[0], strerror(errno));
		close(fd[0]);
		close(fd[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(fd[1], STDOUT_FILENO);
		dup2(fd[1], STDERR_FILENO);
		close(fd[0]);
		close(fd[1]);
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "cannot execute %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fd[1]);
	for (;;) {
		char drain[512];

		r = len + 1 < outsz ? read(fd[0], out + len, outsz - 1 - len) :
		    read(fd[0], drain, sizeof(drain));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (len + 1 < outsz)
			len += (size_t)r;
	}
	close(fd[0]);
	out[len] = '\0';
	while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == '\r'))
		out[--len] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		ctl_error("approval %s: %s failed (%s %d): %s", what, argv[0],
		    WIFEXITED(status) ? "exit" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), out);
		return -1;
	}
	return 0;
}

/* Run postsuper OP QID [hold] and return how many messages it says it
 * touched ("Released from hold: 1 message", "Deleted: 1 message"), or -1
 * after a message when it could not run or failed. */
static long
postsuper(const char *prog, const char *conf_dir, const char *op, const char *qid,
    const char *what)
{
	char out[POSTSUPER_OUT_MAX];
	const char *argv[8], *hit;
	int argc = 0;

	argv[argc++] = prog;
	if (conf_dir != NULL) {
		argv[argc++] = "-c";
		argv[argc++] = conf_dir;
	}
	argv[argc++] = op;
	argv[argc++] = qid;
	if (strcmp(op, "-d") == 0)
		argv[argc++] = "hold";      /* never a mail that was released meanwhile */
	argv[argc] = NULL;
	if (run(argv, out, sizeof(out), what) < 0)
		return -1;
	hit = strstr(out, strcmp(op, "-H") == 0 ? "Released from hold: " : "Deleted: ");
	if (hit == NULL) {
		ctl_error("approval %s: %s %s %s did not say what it did: %s", what, prog, op, qid,
		    out);
		return -1;
	}
	return strtol(strchr(hit, ':') + 2, NULL, 10);
}

/* postsuper -H moves the mail to the deferred queue, which Postfix scans
 * every queue_run_delay: ask for its delivery now (postqueue -i, Postfix
 * 3.5 and later).  A failure only delays it, so it is a warning. */
static void
deliver_now(const char *prog, const char *conf_dir, const char *qid)
{
	char out[POSTSUPER_OUT_MAX];
	const char *argv[6];
	int argc = 0;

	argv[argc++] = prog;
	if (conf_dir != NULL) {
		argv[argc++] = "-c";
		argv[argc++] = conf_dir;
	}
	argv[argc++] = "-i";
	argv[argc++] = qid;
	argv[argc] = NULL;
	if (run(argv, out, sizeof(out), "release") < 0)
		ctl_error("approval approve: warning: mail %s is released but waits for Postfix's "
		    "next queue run", qid);
}

/* In the decision's transaction: the sender is told (020's
 * approval_decided keeps the reason) and the request by mail that asked
 * for it, if any, is closed.  0, or -1 with err. */
static int
told(struct ctl *ctx, const struct ctl_approval_opts *o, struct atsm_err *err)
{
	const char *p[2] = { o->id, o->reason };
	PGresult *res;

	if ((res = atsm_db_exec(ctx->conn, "SELECT atsmail.approval_decided($1::bigint, $2)",
	    2, p, err)) == NULL)
		return -1;
	PQclear(res);
	if (o->request == NULL)
		return 0;
	p[0] = o->request;
	if ((res = atsm_db_exec(ctx->conn, "SELECT atsmail.approval_request_done($1::bigint,"
	    " 'applied', NULL)", 1, p, err)) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

int
ctl_approval_decide(struct ctl *ctx, bool release, const struct ctl_approval_opts *o)
{
	const char *what = release ? "approve" : "reject";
	const char *actor = ctl_ops_actor(o->actor);
	struct atsm_err err;
	const char *p[3];
	PGresult *res, *moves = NULL;
	char qid[80];
	long n;
	int rc;

	if ((rc = ctl_connect(ctx)) != 0)
		return rc;
	if (ctl_ops_begin(ctx->conn, actor, &err) < 0)
		return ctl_ops_db_fail(what, &err);
	p[0] = o->id;
	/* the row lock is held across postsuper: one decision per mail */
	if ((res = atsm_db_exec(ctx->conn, "SELECT h.queue_id, h.decision, h.decided_by"
	    " FROM atsmail.held_messages h WHERE h.message_id = $1::bigint FOR UPDATE",
	    1, p, &err)) == NULL) {
		atsm_db_rollback(ctx->conn);
		return ctl_ops_db_fail(what, &err);
	}
	if (PQntuples(res) == 0 || !PQgetisnull(res, 0, 1)) {
		if (PQntuples(res) == 0)
			ctl_error("approval %s: message %s was never held for approval", what, o->id);
		else
			ctl_error("approval %s: message %s was %s already by %s", what, o->id,
			    PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
		PQclear(res);
		atsm_db_rollback(ctx->conn);
		return CTL_EXIT_FAIL;
	}
	snprintf(qid, sizeof(qid), "%s", PQgetisnull(res, 0, 0) ? "" : PQgetvalue(res, 0, 0));
	PQclear(res);
	if (!o->db_only) {
		if (qid[0] == '\0') {
			ctl_error("approval %s: message %s has no Postfix queue id recorded: %s it by "
			    "hand (postsuper %s) and run again with --db-only", what, o->id,
			    release ? "release" : "delete", release ? "-H" : "-d");
			atsm_db_rollback(ctx->conn);
			return CTL_EXIT_FAIL;
		}
		n = postsuper(o->prog, o->conf_dir, release ? "-H" : "-d", qid, what);
		if (n != 1) {
			if (n == 0)
				ctl_error("approval %s: Postfix holds no mail %s in its hold queue (released "
				    "or deleted by hand? then run again with --db-only): nothing recorded",
				    what, qid);
			atsm_db_rollback(ctx->conn);
			return CTL_EXIT_FAIL;
		}
	}
	p[1] = actor;
	p[2] = o->reason;
	res = release ?
	    atsm_db_exec(ctx->conn, "SELECT atsmail.held_release($1::bigint, $2)", 2, p, &err) :
	    atsm_db_exec(ctx->conn, "SELECT atsmail.held_reject($1::bigint, $2, $3)", 3, p, &err);
	/* a held reply in a shared mailbox's thread answers it now, or never */
	if (res != NULL && (release ?
	    (moves = ctl_approval_shared_settle(ctx, o->id, actor, &err)) == NULL :
	    ctl_approval_shared_drop(ctx, o->id, &err) < 0)) {
		PQclear(res);
		res = NULL;
	}
	if (res != NULL && told(ctx, o, &err) < 0) {
		PQclear(res);
		res = NULL;
	}
	if (res == NULL || atsm_db_commit(ctx->conn, &err) < 0) {
		if (moves != NULL)
			PQclear(moves);
		if (res != NULL)
			PQclear(res);
		else
			atsm_db_rollback(ctx->conn);
		if (!o->db_only)
			ctl_error("approval %s: Postfix has %s mail %s but the database did not record "
			    "it: run `" CTL_PROGNAME " approval %s %s --db-only` once the database is "
			    "back", what, release ? "released" : "deleted", qid, what, o->id);
		return ctl_ops_db_fail(what, &err);
	}
	if (release && !o->db_only)
		deliver_now(o->postqueue, o->conf_dir, qid);
	printf("message %s %s%s%s%s: %s\n", o->id, release ? "released" : "rejected",
	    qid[0] != '\0' ? " (queue id " : "", qid[0] != '\0' ? qid : "",
	    qid[0] != '\0' ? ")" : "", PQgetvalue(res, 0, 0));
	PQclear(res);
	/* recorded: a move that fails is said, and changes neither the record
	 * nor the exit code (approval run would close the request as failed) */
	ctl_approval_shared_move(ctx, o->id, moves);
	if (moves != NULL)
		PQclear(moves);
	return CTL_EXIT_OK;
}

static bool
is_id(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (s[i] < '0' || s[i] > '9' || i > 17)
			return false;
	return i > 0;
}

/* approval and held: one command, held the older name (release = approve). */
static int
approval(struct ctl *ctx, const char *cmd, int argc, char **argv)
{
	struct ctl_approval_opts o = { NULL, NULL, "postsuper", "postqueue", NULL, NULL, NULL,
	    false };
	bool all = false, release;
	const char *v;
	int i;

	if (argc < 2) {
		ctl_error("%s: which one? list, approve, reject or run", cmd);
		ctl_cmd_approval_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	for (i = 1; i < argc; i++)
		if (ctl_is_help(argv[i])) {
			ctl_cmd_approval_usage(stdout);
			return CTL_EXIT_OK;
		}
	if (strcmp(argv[1], "list") == 0) {
		for (i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--all") != 0) {
				ctl_error("%s list: unexpected argument '%s'", cmd, argv[i]);
				return CTL_EXIT_USAGE;
			}
			all = true;
		}
		return held_list(ctx, all);
	}
	if (strcmp(argv[1], "run") == 0)
		return ctl_approval_run(ctx, argc - 1, argv + 1);
	release = strcmp(argv[1], "approve") == 0 || strcmp(argv[1], "release") == 0;
	if (!release && strcmp(argv[1], "reject") != 0) {
		ctl_error("%s: unknown subcommand '%s' (known: list, approve, reject, run)", cmd,
		    argv[1]);
		return CTL_EXIT_USAGE;
	}
	for (i = 2; i < argc; i++) {
		if (ctl_ops_option(argc, argv, &i, "--postfix-config", &v)) {
			if ((o.conf_dir = v) == NULL)
				return CTL_EXIT_USAGE;
		} else if (ctl_ops_option(argc, argv, &i, "--postsuper", &v)) {
			if ((o.prog = v) == NULL)
				return CTL_EXIT_USAGE;
		} else if (release && ctl_ops_option(argc, argv, &i, "--postqueue", &v)) {
			if ((o.postqueue = v) == NULL)
				return CTL_EXIT_USAGE;
		} else if (ctl_ops_option(argc, argv, &i, "--actor", &v)) {
			if ((o.actor = v) == NULL)
				return CTL_EXIT_USAGE;
		} else if (!release && ctl_ops_option(argc, argv, &i, "--reason", &v)) {
			if ((o.reason = v) == NULL)
				return CTL_EXIT_USAGE;
		} else if (strcmp(argv[i], "--db-only") == 0) {
			o.db_only = true;
		} else if (o.id == NULL && argv[i][0] != '-') {
			o.id = argv[i];
		} else {
			ctl_error("%s %s: unexpected argument '%s'; see " CTL_PROGNAME
			    " approval --help", cmd, argv[1], argv[i]);
			return CTL_EXIT_USAGE;
		}
	}
	if (o.id == NULL || !is_id(o.id)) {
		ctl_error("%s %s: give the message's id (a number, as list prints it)%s%s",
		    cmd, argv[1], o.id != NULL ? ", not " : "", o.id != NULL ? o.id : "");
		return CTL_EXIT_USAGE;
	}
	/* the sender is told why: `approval reject` needs it (held keeps its old form) */
	if (!release && strcmp(cmd, "approval") == 0 && (o.reason == NULL || o.reason[0] == '\0'))
		return ctl_usage_error("approval", "reject %s: --reason TEXT is needed (the sender "
		    "is told why)", o.id);
	return ctl_approval_decide(ctx, release, &o);
}

int
ctl_cmd_approval(struct ctl *ctx, int argc, char **argv)
{
	return approval(ctx, "approval", argc, argv);
}

int
ctl_cmd_held(struct ctl *ctx, int argc, char **argv)
{
	return approval(ctx, "held", argc, argv);
}
