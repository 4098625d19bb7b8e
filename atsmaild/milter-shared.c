/* milter-shared.c -- a member's reply in a shared mailbox's thread, at
 * the end of the message (docs/shared-reply.md).
 *
 * Interface: milter_shared_check, milter_shared_answered,
 * milter_shared_held, milter_shared_shutdown (milter.h).
 *
 * Only a reply (References or In-Reply-To) from a login that is a member
 * of a shared mailbox costs a statement: the members' logins are kept
 * here (MEMBERS_TTL_S) so that other mail never waits for PostgreSQL.  The
 * state of the threads the reply names comes from shared_reply_state
 * (sql/019) on a small pool of our own, the decision is lib's
 * (atsm_shared_reply_decide); refused: 550 5.7.1 and the explanation mail
 * in the member's language.  Accepted: once the mail is accepted,
 * shared_forced / shared_answered record it, and the thread's mails are
 * moved in the shared account to the status folder for every member by
 * the mover thread (shared-mover.c), never on the SMTP path.  Held for
 * approval: the answer waits (milter_shared_held, sql/021) until
 * atsmailctl releases the mail.
 *
 * PostgreSQL unreachable for a member's reply: 451 4.3.0 -- sending it
 * unchecked could answer a thread twice; the client retries.  Before the
 * members were ever read, every reply from a login is such a reply.
 */
#include "atsm-build-config.h"
#include "milter.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/log.h"
#include "outbound/shared-reply.h"
#include "shared/shared.h"
#include "store/db.h"

#define SHARED_POOL_SIZE 2
#define SHARED_WAIT_MS 3000
#define MEMBERS_TTL_S 30          /* how long the members' logins are believed */
#define MEMBERS_MAX 10000
#define REFS_SQL_MAX (64u * 1024u)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct atsm_db_pool *pool;
static char **members;            /* lower-case logins, under lock */
static size_t n_members;
static time_t members_at;         /* 0: never read */

static PGconn *
acquire(const struct atsm_conf *conf, struct atsm_err *err)
{
	struct atsm_db_params prm;
	struct atsm_db_pool *p;

	pthread_mutex_lock(&lock);
	if (pool == NULL) {
		memset(&prm, 0, sizeof(prm));
		prm.conninfo = conf->db_conninfo;
		prm.pool_size = SHARED_POOL_SIZE;
		prm.statement_timeout_ms = conf->db_statement_timeout;
		prm.connect_timeout_ms = conf->db_connect_timeout;
		prm.application_name = "atsmaild-shared-reply";
		pool = atsm_db_pool_new(&prm, err);
	}
	p = pool;
	pthread_mutex_unlock(&lock);
	if (p == NULL)
		return NULL;
	return atsm_db_acquire(p, SHARED_WAIT_MS, err);
}

static void
release(PGconn *c)
{
	if (c != NULL)
		atsm_db_release(pool, c);
}

static void
members_free(void)
{
	size_t i;

	for (i = 0; i < n_members; i++)
		free(members[i]);
	free(members);
	members = NULL;
	n_members = 0;
}

void
milter_shared_shutdown(void)
{
	pthread_mutex_lock(&lock);
	if (pool != NULL)
		atsm_db_pool_free(pool);
	pool = NULL;
	members_free();
	members_at = 0;
	pthread_mutex_unlock(&lock);
}

/* Read the members' logins again when they are older than MEMBERS_TTL_S;
 * a failure keeps what was read before. */
static void
members_refresh(PGconn *c)
{
	struct atsm_err err;
	PGresult *r;
	char **v = NULL;
	size_t n = 0, i;

	atsm_err_clear(&err);
	if ((r = atsm_db_exec(c, "SELECT * FROM atsmail.shared_member_logins()", 0, NULL,
	    &err)) == NULL) {
		atsm_log(LOG_WARNING, "shared mailboxes: cannot read the members: %s", err.msg);
		return;
	}
	if ((size_t)PQntuples(r) <= MEMBERS_MAX &&
	    (v = calloc((size_t)PQntuples(r) + 1, sizeof(*v))) != NULL)
		for (i = 0; i < (size_t)PQntuples(r); i++)
			if ((v[n] = strdup(PQgetvalue(r, (int)i, 0))) != NULL)
				n++;
	PQclear(r);
	if (v == NULL)
		return;
	pthread_mutex_lock(&lock);
	members_free();
	members = v;
	n_members = n;
	members_at = time(NULL);
	pthread_mutex_unlock(&lock);
}

/* 1: login is a member of a shared mailbox (or nobody knows yet); 0: not;
 * 2: the list is stale, ask PostgreSQL. */
static int
member_known(const char *login)
{
	time_t now = time(NULL);
	size_t i;
	int rc = 0;

	pthread_mutex_lock(&lock);
	if (members_at == 0 || now - members_at >= MEMBERS_TTL_S)
		rc = 2;
	else
		for (i = 0; i < n_members && rc == 0; i++)
			if (strcasecmp(members[i], login) == 0)
				rc = 1;
	pthread_mutex_unlock(&lock);
	return rc;
}

/* Was login a member when the list was last read (never read: yes)? */
static bool
member_by_last_list(const char *login)
{
	size_t i;
	bool yes;

	pthread_mutex_lock(&lock);
	yes = members_at == 0;
	for (i = 0; i < n_members && !yes; i++)
		yes = strcasecmp(members[i], login) == 0;
	pthread_mutex_unlock(&lock);
	return yes;
}

/* The ids as a PostgreSQL array literal: {"a","b"} with " and \ escaped. */
static char *
refs_array(const struct atsm_out_plan *p)
{
	struct atsm_buf b;
	size_t i;
	const char *s;
	int rc = 0;
	char *out;

	atsm_buf_init(&b, REFS_SQL_MAX);
	rc |= atsm_buf_putc(&b, '{');
	for (i = 0; i < p->n_refs; i++) {
		rc |= atsm_buf_puts(&b, i > 0 ? ",\"" : "\"");
		for (s = p->refs[i]; *s != '\0'; s++) {
			if (*s == '"' || *s == '\\')
				rc |= atsm_buf_putc(&b, '\\');
			rc |= atsm_buf_putc(&b, *s);
		}
		rc |= atsm_buf_putc(&b, '"');
	}
	rc |= atsm_buf_putc(&b, '}');
	out = rc == 0 ? strdup(atsm_buf_str(&b)) : NULL;
	atsm_buf_free(&b);
	return out;
}

static void
copy(char *dst, size_t n, const PGresult *r, int row, int col)
{
	snprintf(dst, n, "%s", PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}

static const char state_sql[] =
    "SELECT item_id, mailbox, thread_key, status, member, assignee_login, assignee_name, "
    "assignee_since, answered_login, answered_name, answered_at "
    "FROM atsmail.shared_reply_state($1, $2::text[])";

/* The threads the reply names: 0, or -1 with err. */
static int
read_state(PGconn *c, const char *login, const struct atsm_out_plan *p,
    struct milter_shared *x, struct atsm_err *err)
{
	const char *prm[2];
	char *refs;
	PGresult *r;
	int i;

	if ((refs = refs_array(p)) == NULL)
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "References too long or out of memory");
	prm[0] = login;
	prm[1] = refs;
	r = atsm_db_exec_prepared(c, state_sql, 2, prm, err);
	free(refs);
	if (r == NULL)
		return -1;
	for (i = 0; i < PQntuples(r) && x->n < ATSM_SHARED_REPLY_THREADS; i++) {
		struct atsm_shared_thread *t = &x->threads[x->n++];

		memset(t, 0, sizeof(*t));
		t->item_id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
		copy(t->mailbox, sizeof(t->mailbox), r, i, 1);
		copy(t->thread_key, sizeof(t->thread_key), r, i, 2);
		if (atsm_shared_status_parse(PQgetvalue(r, i, 3), &t->status) < 0)
			t->status = ATSM_SHARED_UNHANDLED;
		t->member = PQgetvalue(r, i, 4)[0] == 't';
		copy(t->assignee, sizeof(t->assignee), r, i, 5);
		copy(t->assignee_name, sizeof(t->assignee_name), r, i, 6);
		copy(t->assignee_since, sizeof(t->assignee_since), r, i, 7);
		copy(t->answered_by, sizeof(t->answered_by), r, i, 8);
		copy(t->answered_name, sizeof(t->answered_name), r, i, 9);
		copy(t->answered_at, sizeof(t->answered_at), r, i, 10);
	}
	PQclear(r);
	return 0;
}

static const char *
qid(const struct milter_session *s)
{
	const char *q = s->msg.facts.queue_id;

	return q != NULL && *q != '\0' ? q : "NOQUEUE";
}

int
milter_shared_check(struct milter_session *s, const struct atsm_out_plan *p,
    struct milter_shared *x)
{
	const struct atsm_conf *conf = &s->gen->conf;
	const char *login = p->user_login[0] != '\0' ? p->user_login : s->msg.facts.login;
	struct atsm_err err;
	PGconn *c;
	int known;

	memset(x, 0, sizeof(*x));
	x->decision.action = ATSM_SHARED_REPLY_NONE;
	/* not a reply, no shared mailbox, nobody logged in, the bulk runner: nothing */
	if (p->n_refs == 0 || conf->shared_mailboxes.n == 0 || login == NULL ||
	    login[0] == '\0' || s->msg.facts.bulk_marked)
		return 0;
	if ((known = member_known(login)) == 0)
		return 0;
	snprintf(x->login, sizeof(x->login), "%s", login);
	atsm_err_clear(&err);
	if ((c = acquire(conf, &err)) != NULL) {
		if (known == 2)
			members_refresh(c);
		if (known == 1 || member_known(login) == 1 ||
		    (member_known(login) == 2 && member_by_last_list(login)))
			(void)read_state(c, login, p, x, &err);
		release(c);
	}
	if (err.cls != ATSM_ERR_NONE) {
		if (!member_by_last_list(login))
			return 0;             /* not a member's reply: other mail goes on */
		atsm_log(LOG_ERR, "%s: cannot read the shared mailbox threads of a reply by %s "
		    "(mail tempfailed): %s", qid(s), login, err.msg);
		return milter_reply(s, "451", "4.3.0", "atsmail: cannot check the shared "
		    "mailbox of this reply now, try again later") < 0 ? -1 : 1;
	}
	if (x->n == 0)
		return 0;
	switch (atsm_shared_reply_decide(conf, login, p->commands.force, x->threads, x->n,
	    &x->decision)) {
	case ATSM_SHARED_REPLY_NONE:
		return 0;
	case ATSM_SHARED_REPLY_REFUSE:
		atsm_log(LOG_INFO, "%s: reject 550 5.7.1: from=<%s>: shared item %lld: %s", qid(s),
		    s->msg.facts.env_from, x->threads[x->decision.thread].item_id,
		    x->decision.refusal.text);
		if (milter_reply(s, "550", "5.7.1", x->decision.refusal.text) < 0)
			return -1;
		milter_explain(s, &x->decision.refusal, true);
		return 1;
	case ATSM_SHARED_REPLY_ANSWER:
	case ATSM_SHARED_REPLY_FORCED:
		break;
	}
	return 0;
}

static const char forced_sql[] =
    "SELECT atsmail.shared_forced($1, $2, $3, $4, $5, $6)";
static const char answered_sql[] =
    "SELECT rfc_message_id, assignee_login, changed FROM atsmail.shared_answered($1, $2, $3, "
    "$4, $5)";

/* One thread: forced (when another's), answered, its mails queued for the
 * mover.  0, or -1 with err. */
static int
answer_thread(PGconn *c, const struct atsm_conf *conf, const struct milter_shared *x,
    const struct atsm_shared_thread *t, const char *reply, struct atsm_err *err)
{
	enum atsm_shared_whose w = atsm_shared_thread_whose(t, x->login);
	const char *status = atsm_shared_status_name(x->decision.status);
	const char *prm[6];
	PGresult *r;
	int i;

	if (w != ATSM_SHARED_FREE) {
		prm[0] = t->mailbox;
		prm[1] = t->thread_key;
		prm[2] = x->login;
		prm[3] = w == ATSM_SHARED_OTHERS_ANSWER ? "answered" : "assigned";
		prm[4] = w == ATSM_SHARED_OTHERS_ANSWER ? t->answered_by : t->assignee;
		prm[5] = reply;
		if (atsm_db_command(c, forced_sql, 6, prm, err) < 0)
			return -1;
	}
	prm[0] = t->mailbox;
	prm[1] = t->thread_key;
	prm[2] = x->login;
	prm[3] = status;
	prm[4] = reply;
	if ((r = atsm_db_exec(c, answered_sql, 5, prm, err)) == NULL)
		return -1;
	for (i = 0; i < PQntuples(r); i++) {
		char target[ATSM_SHARED_FOLDER_MAX];
		struct atsm_err e;

		if (PQgetisnull(r, i, 0))
			continue;             /* a mail without a Message-ID cannot be found */
		atsm_err_clear(&e);
		if (atsm_shared_folder_of(conf, x->decision.status, PQgetisnull(r, i, 1) ? NULL :
		    PQgetvalue(r, i, 1), target, sizeof(target), &e) < 0) {
			atsm_log(LOG_WARNING, "shared mailbox %s: no folder for <%s>: %s", t->mailbox,
			    PQgetvalue(r, i, 0), e.msg);
			continue;
		}
		atsmaild_shared_mover_queue(conf, t->mailbox, target, x->decision.status,
		    PQgetvalue(r, i, 0));
	}
	PQclear(r);
	return 0;
}

int
milter_shared_answered(struct milter_session *s, const struct atsm_out_plan *p,
    const struct milter_shared *x)
{
	const struct atsm_conf *conf = &s->gen->conf;
	struct atsm_err err;
	PGconn *c;
	size_t i;
	int rc = 0;

	if (x->decision.action != ATSM_SHARED_REPLY_ANSWER &&
	    x->decision.action != ATSM_SHARED_REPLY_FORCED)
		return 0;
	atsm_err_clear(&err);
	if ((c = acquire(conf, &err)) == NULL)
		rc = -1;
	if (rc == 0 && atsm_db_begin(c, &err) < 0)
		rc = -1;
	for (i = 0; i < x->n && rc == 0; i++)
		if (x->threads[i].member)
			rc = answer_thread(c, conf, x, &x->threads[i], p->message_id, &err);
	if (rc == 0 && atsm_db_commit(c, &err) < 0)
		rc = -1;
	if (rc < 0 && c != NULL)
		atsm_db_rollback(c);
	release(c);
	if (rc < 0) {
		atsm_log(LOG_ERR, "%s: cannot record the answer of %s in a shared mailbox's thread "
		    "(mail tempfailed): %s", qid(s), x->login, err.msg);
		return -1;
	}
	for (i = 0; i < x->n; i++)
		if (x->threads[i].member)
			atsm_log(LOG_INFO, "%s: shared item %lld of %s: %s by %s, now %s", qid(s),
			    x->threads[i].item_id, x->threads[i].mailbox,
			    x->decision.action == ATSM_SHARED_REPLY_FORCED &&
			    atsm_shared_thread_whose(&x->threads[i], x->login) != ATSM_SHARED_FREE ?
			    "answered over the guard (ats+force)" : "answered", x->login,
			    atsm_shared_status_name(x->decision.status));
	return 0;
}

static const char held_sql[] =
    "SELECT atsmail.shared_held_answer($1, $2, $3, $4, $5, $6, $7)";

/* A held reply: per member thread, the answer it will be once released
 * (sql/021), keyed by its Message-ID -- the messages row may not exist yet
 * (journal-first).  atsmailctl settles it on release, drops it on
 * rejection.  0, or -1 (the mail is tempfailed, as an answer is). */
int
milter_shared_held(struct milter_session *s, const struct atsm_out_plan *p,
    const struct milter_shared *x)
{
	const struct atsm_conf *conf = &s->gen->conf;
	const char *status = atsm_shared_status_name(x->decision.status);
	struct atsm_err err;
	const char *prm[7];
	PGconn *c;
	size_t i, n = 0;
	int rc = 0;

	if (x->decision.action != ATSM_SHARED_REPLY_ANSWER &&
	    x->decision.action != ATSM_SHARED_REPLY_FORCED)
		return 0;
	if (p->message_id == NULL || p->message_id[0] == '\0') {
		atsm_log(LOG_WARNING, "%s: a held reply of %s without a Message-ID: its shared "
		    "mailbox thread will not be answered when it is released", qid(s), x->login);
		return 0;
	}
	atsm_err_clear(&err);
	if ((c = acquire(conf, &err)) == NULL)
		rc = -1;
	if (rc == 0 && atsm_db_begin(c, &err) < 0)
		rc = -1;
	for (i = 0; i < x->n && rc == 0; i++) {
		const struct atsm_shared_thread *t = &x->threads[i];
		enum atsm_shared_whose w;

		if (!t->member)
			continue;
		w = atsm_shared_thread_whose(t, x->login);
		prm[0] = p->message_id;
		prm[1] = t->mailbox;
		prm[2] = t->thread_key;
		prm[3] = x->login;
		prm[4] = status;
		prm[5] = w == ATSM_SHARED_FREE ? NULL :
		    w == ATSM_SHARED_OTHERS_ANSWER ? "answered" : "assigned";
		prm[6] = w == ATSM_SHARED_FREE ? NULL :
		    w == ATSM_SHARED_OTHERS_ANSWER ? t->answered_by : t->assignee;
		rc = atsm_db_command(c, held_sql, 7, prm, &err);
		n++;
	}
	if (rc == 0 && atsm_db_commit(c, &err) < 0)
		rc = -1;
	if (rc < 0 && c != NULL)
		atsm_db_rollback(c);
	release(c);
	if (rc < 0) {
		atsm_log(LOG_ERR, "%s: cannot record the held answer of %s in a shared mailbox's "
		    "thread (mail tempfailed): %s", qid(s), x->login, err.msg);
		return -1;
	}
	atsm_log(LOG_INFO, "%s: held reply of %s: %zu shared mailbox thread(s) answered when it "
	    "is released", qid(s), x->login, n);
	return 0;
}
