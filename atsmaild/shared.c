/* shared.c -- shared mailboxes on the filing side (docs/shared-mailboxes.md):
 * a mail delivered to a shared mailbox becomes an unhandled item with the
 * assignee its rules choose, and goes to that status folder; a member's
 * move into a status folder is recorded with the member's login.
 *
 * Interface: atsmaild_shared_deliver, atsmaild_shared_move,
 * atsmaild_shared_shutdown (atsmaild.h).
 *
 * The folder model is lib/shared's (pure); this file asks PostgreSQL
 * (shared_deliver, shared_move of sql/018) on a connection of a small pool
 * of its own, while the plugin waits: the folder a mail goes to depends
 * on rules only the database holds.  A failure never fails the mail:
 * the delivery is answered without a folder (the mail stays in INBOX, and
 * an error says it is not recorded), a member's move is made anyway and
 * the error logged.  The wait is bounded by db_connect_timeout and
 * db_statement_timeout, below the plugin's atsmail_timeout.
 */
#include "atsm-build-config.h"
#include "atsmaild.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "inbound/facts.h"
#include "mail/addr.h"
#include "mail/msgid.h"
#include "service/filing.h"
#include "shared/shared.h"
#include "store/db.h"

#define SHARED_POOL_SIZE 2
#define SHARED_WAIT_MS 1000       /* for a free connection */

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
		prm.pool_size = SHARED_POOL_SIZE;
		prm.statement_timeout_ms = conf->db_statement_timeout;
		prm.connect_timeout_ms = conf->db_connect_timeout;
		prm.application_name = "atsmaild-shared";
		pool = atsm_db_pool_new(&prm, err);
	}
	p = pool;
	pthread_mutex_unlock(&pool_lock);
	if (p == NULL)
		return NULL;
	return atsm_db_acquire(p, SHARED_WAIT_MS, err);
}

void
atsmaild_shared_shutdown(void)
{
	pthread_mutex_lock(&pool_lock);
	if (pool != NULL)
		atsm_db_pool_free(pool);
	pool = NULL;
	pthread_mutex_unlock(&pool_lock);
}

static const char deliver_sql[] =
    "SELECT item_id, is_new, status, assignee_login FROM atsmail.shared_deliver("
    "$1, $2, $3, $4, $5, $6, to_timestamp($7::double precision), NULL, $8::boolean)";

int
atsmaild_shared_deliver(const struct atsm_conf *conf, const struct atsm_in_facts *f,
    char *folder, size_t n, char *note, size_t notelen)
{
	char *msgid = NULL, *thread = NULL, *from = NULL, when[32];
	const char *p[8];
	enum atsm_shared_status st;
	struct atsm_err err;
	PGresult *r = NULL;
	PGconn *c;
	int rc = -1;

	folder[0] = '\0';
	atsm_err_clear(&err);
	if ((f->hdr_message_id != NULL && atsm_msgid_bare(f->hdr_message_id, &msgid) < 0) ||
	    atsm_shared_thread_key(f->hdr_references, f->hdr_in_reply_to, f->hdr_message_id,
	    &thread) < 0) {
		snprintf(note, notelen, "out of memory");
		goto out;
	}
	if (f->hdr_from != NULL) {
		/* the first address of From, normalised (the rules compare it) */
		struct atsm_addr_list l;

		if (atsm_addr_parse_list(f->hdr_from, strlen(f->hdr_from), 16, &l, &err) == 0 &&
		    l.n > 0 && atsm_addr_normalize(l.v[0].addr, &from, &err) < 0)
			from = NULL;
		atsm_addr_list_free(&l);
		atsm_err_clear(&err);
	}
	snprintf(when, sizeof(when), "%lld", f->received_at);
	p[0] = f->mailbox_user;
	p[1] = msgid;
	p[2] = thread;
	p[3] = f->env_to;
	p[4] = from != NULL ? from : (f->env_from != NULL && *f->env_from ? f->env_from : NULL);
	p[5] = f->hdr_subject;
	p[6] = when;
	p[7] = f->is_autoreply || f->is_bounce || f->is_list || f->from_mailer_daemon ?
	    "true" : "false";
	if ((c = acquire(conf, &err)) == NULL) {
		snprintf(note, notelen, "not recorded as a shared item: %s", err.msg);
		goto out;
	}
	r = atsm_db_exec_prepared(c, deliver_sql, 8, p, &err);
	atsm_db_release(pool, c);
	if (r == NULL || PQntuples(r) != 1) {
		snprintf(note, notelen, "not recorded as a shared item: %s",
		    r == NULL ? err.msg : "shared_deliver returned no row");
		goto out;
	}
	if (atsm_shared_status_parse(PQgetvalue(r, 0, 2), &st) < 0 ||
	    atsm_shared_folder_of(conf, st, PQgetisnull(r, 0, 3) ? NULL : PQgetvalue(r, 0, 3),
	    folder, n, &err) < 0) {
		snprintf(note, notelen, "shared item %s recorded, but no folder for it: %s",
		    PQgetvalue(r, 0, 0), err.msg[0] ? err.msg : "unknown status");
		folder[0] = '\0';
		goto out;
	}
	snprintf(note, notelen, "shared item %s%s, %s%s%s", PQgetvalue(r, 0, 0),
	    PQgetvalue(r, 0, 1)[0] == 't' ? "" : " (delivered before)", PQgetvalue(r, 0, 2),
	    PQgetisnull(r, 0, 3) ? "" : ", assigned to ",
	    PQgetisnull(r, 0, 3) ? "" : PQgetvalue(r, 0, 3));
	rc = 0;
out:
	if (r != NULL)
		PQclear(r);
	free(msgid);
	free(thread);
	free(from);
	return rc;
}

static const char move_sql[] =
    "SELECT item_id, status, assignee_login, changed FROM atsmail.shared_move("
    "$1, $2, $3, $4, $5)";

void
atsmaild_shared_move(const struct atsm_conf *conf, const struct atsm_filing_request *q,
    struct atsm_filing_answer *a)
{
	struct atsm_shared_move mv;
	struct atsm_err err;
	char *msgid = NULL;
	const char *p[5];
	PGresult *r = NULL;
	PGconn *c;
	int d;

	a->status = ATSM_FILING_OK;
	atsm_err_clear(&err);
	if (q->owner == NULL || !atsm_shared_is_mailbox(conf, q->owner)) {
		snprintf(a->result, sizeof(a->result), "ignored");
		snprintf(a->text, sizeof(a->text), "%s is not a shared mailbox",
		    q->owner != NULL ? q->owner : q->user);
		return;
	}
	if ((d = atsm_shared_move_decide(conf, q->mailbox, q->user, &mv, &err)) <= 0) {
		snprintf(a->result, sizeof(a->result), d == 0 ? "ignored" : "not-recorded");
		snprintf(a->text, sizeof(a->text), "%s: %s", q->owner,
		    d == 0 ? "not a status folder" : err.msg);
		return;
	}
	if (q->message_id == NULL || atsm_msgid_bare(q->message_id, &msgid) < 0 ||
	    msgid == NULL) {
		snprintf(a->result, sizeof(a->result), "not-recorded");
		snprintf(a->text, sizeof(a->text), "%s: a mail without Message-ID moved to %s by "
		    "%s cannot be recorded", q->owner, q->mailbox, q->user);
		atsm_log(LOG_WARNING, "shared mailbox %s", a->text);
		return;
	}
	p[0] = q->owner;
	p[1] = msgid;
	p[2] = q->user;
	p[3] = atsm_shared_status_name(mv.status);
	p[4] = mv.assign == ATSM_SHARED_ASSIGN_KEEP ? NULL :
	    mv.assign == ATSM_SHARED_ASSIGN_NONE ? "" : mv.member;
	if ((c = acquire(conf, &err)) != NULL) {
		r = atsm_db_exec_prepared(c, move_sql, 5, p, &err);
		atsm_db_release(pool, c);
	}
	if (r == NULL) {
		snprintf(a->result, sizeof(a->result), "not-recorded");
		snprintf(a->text, sizeof(a->text), "%s: <%s> moved to %s by %s is not recorded: %s",
		    q->owner, msgid, q->mailbox, q->user, err.msg);
		atsm_log(LOG_ERR, "shared mailbox %s", a->text);
	} else if (PQntuples(r) == 0) {
		snprintf(a->result, sizeof(a->result), "ignored");
		snprintf(a->text, sizeof(a->text), "%s: <%s> moved to %s by %s is no shared item "
		    "(delivered before the workflow)", q->owner, msgid, q->mailbox, q->user);
		atsm_log(LOG_INFO, "shared mailbox %s", a->text);
	} else {
		snprintf(a->result, sizeof(a->result), "recorded");
		snprintf(a->text, sizeof(a->text), "%s: item %s <%s> moved to %s by %s: %s%s%s%s",
		    q->owner, PQgetvalue(r, 0, 0), msgid, q->mailbox, q->user,
		    PQgetvalue(r, 0, 1), PQgetisnull(r, 0, 2) ? "" : ", assignee ",
		    PQgetisnull(r, 0, 2) ? "" : PQgetvalue(r, 0, 2),
		    PQgetvalue(r, 0, 3)[0] == 't' ? "" : " (unchanged)");
		atsm_log(LOG_INFO, "shared mailbox %s", a->text);
	}
	if (r != NULL)
		PQclear(r);
	free(msgid);
}
