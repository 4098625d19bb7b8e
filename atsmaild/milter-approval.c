/* milter-approval.c -- a mail that decides on held mail (ats+approve.<id>,
 * ats+reject.<id>), which the outbound decision made a DECISION
 * (lib/outbound/decide-approval.c): alone, from a logged-in user.
 *
 * Interface: milter_approval (milter.h).
 *
 * Whether the user approves the held mail's sender only PostgreSQL knows
 * (approvers per user and per group, sql/020-approval.sql), so it is
 * asked here, on a connection of a pool of our own (one: decisions are
 * rare), and atsmail.approval_by_mail() checks and records the request in
 * one statement.  The reason is the text the approver wrote at the top of
 * the mail (lib/mail/preview.c).  Then:
 *	recorded       the mail is discarded: it was a command to the server,
 *	               for no mailbox; `atsmailctl approval run` (root:
 *	               postsuper) applies the request;
 *	anything else  550 5.7.1 with the sentence that says why
 *	               (atsm_out_approval_answer), and the explanation mail;
 *	PostgreSQL unreachable, a statement failing: 451 4.3.0 -- the client
 *	               keeps the mail and retries; nothing is recorded twice
 *	               (approval run applies the first request of a mail).
 */
#include "atsm-build-config.h"
#include "milter.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/log.h"
#include "mail/preview.h"
#include "mail/msgid.h"
#include "outbound/decide.h"
#include "store/db.h"

#define APPROVAL_POOL_SIZE 1
#define APPROVAL_WAIT_MS 5000     /* for the free connection */
#define TEXT_MAX (64u * 1024u)    /* of the mail's text, read for the reason */

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct atsm_db_pool *pool;

static PGconn *
acquire(const struct atsm_conf *conf, struct atsm_err *err)
{
	struct atsm_db_params prm;
	struct atsm_db_pool *p;

	pthread_mutex_lock(&pool_lock);
	if (pool == NULL) {
		memset(&prm, 0, sizeof(prm));
		prm.conninfo = conf->db_conninfo;
		prm.pool_size = APPROVAL_POOL_SIZE;
		prm.statement_timeout_ms = conf->db_statement_timeout;
		prm.connect_timeout_ms = conf->db_connect_timeout;
		prm.application_name = "atsmaild-approval";
		pool = atsm_db_pool_new(&prm, err);
	}
	p = pool;
	pthread_mutex_unlock(&pool_lock);
	if (p == NULL)
		return NULL;
	return atsm_db_acquire(p, APPROVAL_WAIT_MS, err);
}

void
milter_approval_shutdown(void)
{
	pthread_mutex_lock(&pool_lock);
	if (pool != NULL)
		atsm_db_pool_free(pool);
	pool = NULL;
	pthread_mutex_unlock(&pool_lock);
}

/* The reason at the top of the mail ("" when none, or the mail was not
 * kept); NULL only when memory ran out. */
static char *
reason_of(struct milter_session *s)
{
	struct atsm_err err;
	char *text = NULL, *reason = NULL;

	if (s->msg.keep_raw && s->msg.raw.data != NULL) {
		atsm_err_clear(&err);
		if (atsm_mail_text_preview(s->msg.raw.data, s->msg.raw.len, TEXT_MAX, &text,
		    &err) < 0)
			return NULL;
	}
	if (atsm_mail_reply_reason(text, ATSM_REASON_MAX, &reason) < 0)
		reason = NULL;
	free(text);
	return reason;
}

/* Ask PostgreSQL: 0 with *answer (the jsonb, parsed), or -1 with err. */
static int
ask(struct milter_session *s, const struct atsm_out_plan *p, const char *reason,
    json_t **answer, struct atsm_err *err)
{
	const char *prm[5];
	char id[32], *msgid = NULL;
	PGconn *conn;
	PGresult *res;
	json_error_t je;

	*answer = NULL;
	if ((conn = acquire(&s->gen->conf, err)) == NULL)
		return -1;
	snprintf(id, sizeof(id), "%llu", p->commands.approval_id);
	(void)atsm_msgid_bare(s->msg.facts.hdr_message_id, &msgid);
	prm[0] = id;
	prm[1] = s->msg.facts.login;
	prm[2] = p->commands.approval > 0 ? "approve" : "reject";
	prm[3] = reason;
	prm[4] = msgid;
	res = atsm_db_exec(conn, "SELECT atsmail.approval_by_mail($1::bigint, $2, $3, $4, $5)",
	    5, prm, err);
	free(msgid);
	atsm_db_release(pool, conn);
	if (res == NULL)
		return -1;
	*answer = json_loads(PQgetvalue(res, 0, 0), 0, &je);
	PQclear(res);
	if (*answer == NULL)
		return atsm_err_setc(err, ATSM_ERR_INTERNAL, "approval_by_mail answered no JSON: "
		    "%s", je.text);
	return 0;
}

static const char *
member(const json_t *o, const char *name)
{
	const char *v = json_string_value(json_object_get(o, name));

	return v != NULL ? v : "";
}

int
milter_approval(struct milter_session *s, const struct atsm_out_plan *p)
{
	const char *qid = s->msg.facts.queue_id != NULL && s->msg.facts.queue_id[0] != '\0' ?
	    s->msg.facts.queue_id : "NOQUEUE";
	const char *what = p->commands.approval > 0 ? "approve" : "reject";
	struct atsm_refusal r;
	struct atsm_err err;
	json_t *answer = NULL;
	char decided[ATSM_REFUSAL_ARG_MAX], *reason;
	int rc;

	atsm_err_clear(&err);
	if ((reason = reason_of(s)) == NULL) {
		atsm_log(LOG_ERR, "%s: out of memory reading the reason of a decision", qid);
		return milter_reply(s, "451", "4.3.0", "atsmail: cannot take this decision now, "
		    "try again later");
	}
	rc = ask(s, p, reason, &answer, &err);
	if (rc < 0) {
		atsm_log(LOG_ERR, "%s: cannot record the %s of held mail %llu by %s (mail "
		    "tempfailed): %s", qid, what, p->commands.approval_id, s->msg.facts.login,
		    err.msg);
		free(reason);
		return milter_reply(s, "451", "4.3.0", "atsmail: cannot take this decision now, "
		    "try again later");
	}
	snprintf(decided, sizeof(decided), "%s by %s", member(answer, "decision"),
	    member(answer, "decided_by"));
	if (atsm_out_approval_answer(&s->gen->conf, &p->commands, member(answer, "state"),
	    strcmp(member(answer, "state"), "not_user") == 0 ? s->msg.facts.login :
	    member(answer, "sender"), decided, &r) == 1) {
		json_decref(answer);
		free(reason);
		atsm_log(LOG_INFO, "%s: reject 550 5.7.1: from=<%s> login=%s: %s", qid,
		    s->msg.facts.env_from, s->msg.facts.login, r.text);
		if (milter_reply(s, "550", "5.7.1", r.text) < 0)
			return -1;
		milter_explain(s, &r, true);
		return 0;
	}
	/* the reason is the approver's text: the database keeps it, not the log */
	atsm_log(LOG_INFO, "%s: decision recorded: request %lld: %s held mail %llu by %s%s: "
	    "mail discarded (atsmailctl approval run applies it)", qid,
	    (long long)json_integer_value(json_object_get(answer, "request")), what,
	    p->commands.approval_id, s->msg.facts.login,
	    reason[0] != '\0' ? " with a reason" : "");
	json_decref(answer);
	free(reason);
	return atsm_milter_put_simple(&s->out, ATSM_MILTER_R_DISCARD);
}
