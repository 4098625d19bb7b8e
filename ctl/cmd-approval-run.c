/* cmd-approval-run.c -- atsmailctl approval run [--follow]: what root does
 * for the approval workflow that the milter and the database cannot.
 *
 * An approver decides by mail (ats+approve.<id>, ats+reject.<id>): the
 * milter, which runs as an unprivileged user, only records the request
 * (sql/020-approval.sql, approval_requests).  postsuper needs root, so
 * this command applies them: the first request per mail still held, as
 * `approval approve|reject` would with the approver as actor (postsuper,
 * held_release / held_reject, the sender told, the request closed in the
 * same transaction).  A request whose mail was decided meanwhile is closed
 * as superseded by the database; one that fails (the mail is gone from
 * the hold queue) is closed as failed with why, and the run exits 1.  The
 * database being down stops the pass (exit 4): the requests wait.
 *
 * Then the reminders: held mail older than approval_remind_after, not
 * reminded yet, gets approval.reminder to each approver, once.
 *
 * --follow repeats the pass every --interval seconds (a systemd service;
 * packaging/systemd/atsmail-approval.service), a one-shot run suits a
 * timer.  Either way one pass never applies a request twice: the row lock
 * of the held mail is taken across postsuper (cmd-approval.c).
 */
#include "ctl-ops.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd-approval.h"

#define FOLLOW_INTERVAL_DEFAULT 30
#define FOLLOW_INTERVAL_MAX 3600

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* A failed request is closed with why: 1.  0 when another run (a timer
 * beside the service, an admin) applied it meanwhile: no failure.  A
 * closing that fails is said and counts as a failure. */
static int
close_failed(struct ctl *ctx, const char *request, int rc)
{
	struct atsm_err err;
	const char *p[2];
	char why[128];
	PGresult *res;
	int closed;

	snprintf(why, sizeof(why), "atsmailctl approval run: the decision failed (exit %d; "
	    "see its log)", rc);
	p[0] = request;
	p[1] = why;
	if ((res = atsm_db_exec(ctx->conn, "SELECT atsmail.approval_request_done($1::bigint,"
	    " 'failed', $2)", 2, p, &err)) == NULL) {
		ctl_error("approval run: cannot close request %s: %s", request, err.msg);
		return 1;
	}
	closed = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!closed)
		printf("request %s: applied meanwhile by another run\n", request);
	return closed;
}

/* One pass: the requests, then the reminders.  An exit code. */
static int
pass(struct ctl *ctx, const struct ctl_approval_opts *base)
{
	struct ctl_approval_opts o;
	struct atsm_err err;
	const char *p[1];
	char secs[32];
	PGresult *res, *r2;
	int i, rc, worst = CTL_EXIT_OK;

	if (ctx->conn != NULL && PQstatus(ctx->conn) == CONNECTION_BAD) {
		PQfinish(ctx->conn);
		ctx->conn = NULL;
	}
	if ((rc = ctl_connect(ctx)) != 0)
		return rc;
	if ((res = atsm_db_exec(ctx->conn, "SELECT request_id, message_id, decision, approver,"
	    " reason FROM atsmail.approval_requests_due()", 0, NULL, &err)) == NULL)
		return ctl_ops_db_fail("approval run", &err);
	for (i = 0; i < PQntuples(res) && !stop; i++) {
		o = *base;
		o.request = PQgetvalue(res, i, 0);
		o.id = PQgetvalue(res, i, 1);
		o.actor = PQgetvalue(res, i, 3);
		o.reason = PQgetisnull(res, i, 4) ? NULL : PQgetvalue(res, i, 4);
		printf("request %s: %s message %s by %s\n", o.request, PQgetvalue(res, i, 2), o.id,
		    o.actor);
		rc = ctl_approval_decide(ctx, strcmp(PQgetvalue(res, i, 2), "approve") == 0, &o);
		if (rc == CTL_EXIT_DBDOWN) {
			PQclear(res);
			return rc;
		}
		if (rc != CTL_EXIT_OK && close_failed(ctx, o.request, rc))
			worst = CTL_EXIT_FAIL;
	}
	PQclear(res);
	fflush(stdout);
	snprintf(secs, sizeof(secs), "%u", ctx->conf.approval_remind_after / 1000u);
	p[0] = secs;
	if ((r2 = atsm_db_exec(ctx->conn, "SELECT atsmail.approval_remind("
	    "make_interval(secs => $1::double precision))", 1, p, &err)) == NULL)
		return ctl_ops_db_fail("approval run: reminders", &err);
	if (atoi(PQgetvalue(r2, 0, 0)) > 0)
		printf("reminded the approvers of %s held mail(s) waiting over %ss\n",
		    PQgetvalue(r2, 0, 0), secs);
	PQclear(r2);
	fflush(stdout);
	return worst;
}

int
ctl_approval_run(struct ctl *ctx, int argc, char **argv)
{
	struct ctl_approval_opts base = { NULL, NULL, "postsuper", "postqueue", NULL, NULL,
	    NULL, false };
	bool follow = false;
	const char *v, *interval = NULL;
	char *end;
	long every = FOLLOW_INTERVAL_DEFAULT;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (ctl_ops_option(argc, argv, &i, "--postfix-config", &v)) {
			if ((base.conf_dir = v) == NULL)
				return CTL_EXIT_USAGE;
		} else if (ctl_ops_option(argc, argv, &i, "--postsuper", &v)) {
			if ((base.prog = v) == NULL)
				return CTL_EXIT_USAGE;
		} else if (ctl_ops_option(argc, argv, &i, "--postqueue", &v)) {
			if ((base.postqueue = v) == NULL)
				return CTL_EXIT_USAGE;
		} else if (ctl_ops_option(argc, argv, &i, "--interval", &v)) {
			if ((interval = v) == NULL)
				return CTL_EXIT_USAGE;
		} else if (strcmp(argv[i], "--follow") == 0) {
			follow = true;
		} else {
			return ctl_usage_error("approval", "run: unexpected argument '%s'", argv[i]);
		}
	}
	if (interval != NULL) {
		every = strtol(interval, &end, 10);
		if (*interval == '\0' || *end != '\0' || every < 1 || every > FOLLOW_INTERVAL_MAX)
			return ctl_usage_error("approval", "run: --interval '%s' is not a number of "
			    "seconds from 1 to %d", interval, FOLLOW_INTERVAL_MAX);
	}
	if ((rc = ctl_load_config(ctx)) != 0)
		return rc;
	if (!follow)
		return pass(ctx, &base);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	while (!stop) {
		rc = pass(ctx, &base);
		if (rc != CTL_EXIT_OK)
			ctl_error("approval run: the pass ended with exit %d; again in %lds", rc,
			    every);
		for (i = 0; i < every && !stop; i++)
			sleep(1);
	}
	return CTL_EXIT_OK;
}
