/* notify.c -- the notification sender: atsmaild's thread that submits the
 * mail atsmail writes itself (docs/notifications.md; the rows:
 * atsmail.notifications, sql/017-notifications.sql).
 *
 * Interface: atsmaild_notify_start, atsmaild_notify_stop (atsmaild.h).
 *
 * One thread LISTENs on atsmail_notify (and looks every POLL_S seconds,
 * for retries that have come due) and takes one queued notification at a
 * time with FOR UPDATE SKIP LOCKED, so that several atsmaild share the
 * queue and none sends a row another holds.  The row stays locked, in one
 * transaction, while the mail is composed (lib/notify/compose.h) and
 * submitted by SMTP to notify_smtp from the null sender (no bounce can
 * come back and start a loop); the outcome is stored in the same
 * transaction (lib/notify/send.h): 'sent' with Postfix's queue id, a
 * retry after a growing delay, or 'failed' with the reply.  The text is
 * the site's own when a shared template notify-<kind>[-<lang>] in the
 * recipient's language exists (notify/own-text.h); one that does not
 * merge is logged and noted in the row's error, and the built-in text is
 * sent instead: a template never loses a notification.  A kind not in
 * notify_kinds is marked 'suppressed' and not sent.  A crash between
 * Postfix's 250 and the commit sends that notification again: one mail
 * too many rather than one lost.
 *
 * The X-ATS-Notification header carries a token signed with the site
 * secret, so that the milter passes the mail untouched (milter-eom.c) and
 * strips the header from any other mail.
 */
#include "atsm-build-config.h"
#include "atsmaild.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/charset.h"
#include "base/lang.h"
#include "base/log.h"
#include "notify/compose.h"
#include "notify/own-text.h"
#include "notify/report-mail.h"
#include "notify/send.h"
#include "notify/webhook.h"
#include "rules/token.h"
#include "service/smtp-client.h"
#include "store/db.h"
#include "template/template.h"

#define POLL_S 5
#define RETRY_S 5                       /* after the database failed */
#define IO_TIMEOUT_S 30
#define RETRY_MAX_MS (3600u * 1000u)

#define SQL_CLAIM \
	"SELECT id, kind, to_addr, coalesce(lang, ''), params::text, attempts, " \
	"coalesce(to_user_id::text, '') " \
	"FROM atsmail.notifications WHERE state = 'queued' AND next_try_at <= now() " \
	"ORDER BY next_try_at, id LIMIT 1 FOR UPDATE SKIP LOCKED"
#define SQL_SUPPRESS \
	"UPDATE atsmail.notifications SET state = 'suppressed', error = $2 WHERE id = $1"
#define SQL_SENT \
	"UPDATE atsmail.notifications SET state = 'sent', sent_at = now(), queue_id = $2, " \
	"attempts = attempts + 1, error = $3 WHERE id = $1"
/* The site's text (notify/own-text.h): notify-K-L before notify-K, shared
 * and written in L; with the recipient's values of the extra tags. */
#define SQL_TEMPLATE \
	"SELECT t.code, t.subject, t.body, t.on_missing, " \
	"coalesce(nullif(u.display_name, ''), u.login), " \
	"(SELECT a.addr_norm FROM atsmail.addresses a WHERE a.owner_kind = 'user' " \
	"AND a.owner_id = u.id AND a.is_primary), u.login, " \
	"to_char(current_date, 'YYYY-MM-DD'), " \
	"to_char(current_date, 'YYYY\"年\"FMMM\"月\"FMDD\"日\"') " \
	"FROM atsmail.templates t LEFT JOIN atsmail.users u ON u.id = $4::bigint " \
	"WHERE t.code IN ($1, $2) AND t.shared AND t.lang = $3 " \
	"ORDER BY t.code = $1 DESC LIMIT 1"
#define SQL_FAILED \
	"UPDATE atsmail.notifications SET state = 'failed', attempts = $3, error = $2 " \
	"WHERE id = $1"
#define SQL_RETRY \
	"UPDATE atsmail.notifications SET attempts = $3, error = $2, " \
	"next_try_at = now() + $4::bigint * interval '1 millisecond' WHERE id = $1"

struct note {
	char id[24];
	char kind[64];
	char to[330];
	char lang[8];
	char user_id[24];                /* to_user_id; "" none */
	char *params;
	unsigned attempts;
};

/* The site's text of one notification, as read (SQL_TEMPLATE). */
struct own {
	bool found;
	char code[ATSM_TPL_CODE_MAX];
	char *subject, *body;
	enum atsm_tpl_missing missing;
	struct atsm_tpl_fields extra;
};

static pthread_t t_sender;
static bool sender_started;
static atomic_bool stopping;
static bool db_warned;
static unsigned long kinds_warned;      /* the generation warned about notify_kinds */

static void
nap(double s)
{
	while (s > 0 && !atomic_load(&stopping)) {
		double d = s > 0.5 ? 0.5 : s;

		usleep((useconds_t)(d * 1e6));
		s -= d;
	}
}

/* ---- the database --------------------------------------------------------- */

static PGconn *
connect_db(const struct atsm_conf *c)
{
	struct atsm_db_params p;
	struct atsm_err err;
	PGconn *conn;

	memset(&p, 0, sizeof(p));
	p.conninfo = c->db_conninfo;
	p.pool_size = 1;
	p.statement_timeout_ms = c->db_statement_timeout;
	p.connect_timeout_ms = c->db_connect_timeout;
	p.application_name = "atsmaild-notify";
	atsm_err_clear(&err);
	if ((conn = atsm_db_connect(&p, &err)) == NULL) {
		atsm_log(db_warned ? LOG_DEBUG : LOG_WARNING, "notify: cannot connect to the "
		    "database (trying again every %d s): %s", RETRY_S, err.msg);
		db_warned = true;
		return NULL;
	}
	if (db_warned)
		atsm_log(LOG_INFO, "notify: connected to the database again");
	db_warned = false;
	if (atsm_db_command(conn, "LISTEN atsmail_notify", 0, NULL, &err) < 0) {
		atsm_log(LOG_WARNING, "notify: LISTEN atsmail_notify: %s", err.msg);
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/* Wait for a NOTIFY, or POLL_S seconds. */
static void
wait_notify(PGconn *conn)
{
	struct pollfd pfd;
	PGnotify *n;
	int i;

	for (i = 0; i < POLL_S * 2 && !atomic_load(&stopping); i++) {
		bool got = false;

		pfd.fd = PQsocket(conn);
		pfd.events = POLLIN;
		if (pfd.fd < 0)
			return;
		if (poll(&pfd, 1, 500) <= 0)
			continue;
		if (PQconsumeInput(conn) == 0)
			return;
		while ((n = PQnotifies(conn)) != NULL) {
			got = true;
			PQfreemem(n);
		}
		if (got)
			return;
	}
}

/* The next queued notification that is due, locked: 1, 0 when none, -1. */
static int
claim(PGconn *conn, struct note *n, struct atsm_err *err)
{
	PGresult *r;

	memset(n, 0, sizeof(*n));
	if ((r = atsm_db_exec(conn, SQL_CLAIM, 0, NULL, err)) == NULL)
		return -1;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return 0;
	}
	snprintf(n->id, sizeof(n->id), "%s", PQgetvalue(r, 0, 0));
	snprintf(n->kind, sizeof(n->kind), "%s", PQgetvalue(r, 0, 1));
	snprintf(n->to, sizeof(n->to), "%s", PQgetvalue(r, 0, 2));
	snprintf(n->lang, sizeof(n->lang), "%s", PQgetvalue(r, 0, 3));
	n->params = strdup(PQgetvalue(r, 0, 4));
	n->attempts = (unsigned)strtoul(PQgetvalue(r, 0, 5), NULL, 10);
	snprintf(n->user_id, sizeof(n->user_id), "%s", PQgetvalue(r, 0, 6));
	PQclear(r);
	if (n->params == NULL)
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "out of memory");
	return 1;
}

/* The language n is written in: the row's, else default_language. */
static enum atsm_lang
note_lang(const struct atsm_conf *c, const struct note *n)
{
	enum atsm_lang lang;

	if (atsm_lang_parse(n->lang, &lang) < 0)
		lang = c->default_language == 1 ? ATSM_LANG_JA : ATSM_LANG_EN;
	return lang;
}

static void
own_free(struct own *o)
{
	free(o->subject);
	free(o->body);
	atsm_tpl_fields_free(&o->extra);
	memset(o, 0, sizeof(*o));
}

/* The site's text for n in lang, if any (o->found).  0, or -1 when the
 * database failed. */
static int
own_load(PGconn *conn, const struct note *n, enum atsm_lang lang, struct own *o,
    struct atsm_err *err)
{
	static const char *const keys[] = { "user.name", "user.email", "user.login" };
	char code_l[ATSM_TPL_CODE_MAX], code[ATSM_TPL_CODE_MAX];
	const char *pv[4];
	PGresult *r;
	int i, rc = 0;

	memset(o, 0, sizeof(*o));
	atsm_tpl_fields_init(&o->extra);
	if (atsm_notify_tpl_code(n->kind, atsm_lang_name(lang), code_l, sizeof(code_l)) < 0 ||
	    atsm_notify_tpl_code(n->kind, NULL, code, sizeof(code)) < 0)
		return 0;                       /* an unknown kind: compose says so */
	pv[0] = code_l;
	pv[1] = code;
	pv[2] = atsm_lang_name(lang);
	pv[3] = n->user_id[0] != '\0' ? n->user_id : NULL;
	if ((r = atsm_db_exec(conn, SQL_TEMPLATE, 4, pv, err)) == NULL)
		return -1;
	if (PQntuples(r) == 1) {
		o->found = true;
		snprintf(o->code, sizeof(o->code), "%s", PQgetvalue(r, 0, 0));
		o->subject = strdup(PQgetvalue(r, 0, 1));
		o->body = strdup(PQgetvalue(r, 0, 2));
		o->missing = strcmp(PQgetvalue(r, 0, 3), "empty") == 0 ?
		    ATSM_TPL_MISSING_EMPTY : ATSM_TPL_MISSING_REFUSE;
		for (i = 0; i < 3; i++)
			if (atsm_tpl_fields_set(&o->extra, keys[i], PQgetisnull(r, 0, 4 + i) ?
			    NULL : PQgetvalue(r, 0, 4 + i)) < 0)
				rc = -1;
		if (atsm_tpl_fields_set(&o->extra, "recipient.name", PQgetisnull(r, 0, 4) ?
		    NULL : PQgetvalue(r, 0, 4)) < 0 ||
		    atsm_tpl_fields_set(&o->extra, "recipient.email", n->to) < 0 ||
		    atsm_tpl_fields_set(&o->extra, "date", PQgetvalue(r, 0, 7)) < 0 ||
		    atsm_tpl_fields_set(&o->extra, "date.ja", PQgetvalue(r, 0, 8)) < 0 ||
		    o->subject == NULL || o->body == NULL)
			rc = -1;
	}
	PQclear(r);
	if (rc < 0) {
		own_free(o);
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "out of memory");
	}
	return 0;
}

/* ---- one notification ----------------------------------------------------- */

/* Compose n into out, in the site's text o when it has one: 0, or -1 with
 * err (the notification cannot be sent as it is: it fails).  A site's
 * text that did not merge leaves the built-in text and its fault in
 * tpl_fault. */
static int
compose(const struct atsmaild_gen *g, const struct note *n, enum atsm_lang lang,
    const struct own *o, struct atsm_buf *out, struct atsm_err *tpl_fault,
    struct atsm_err *err)
{
	const struct atsm_conf *c = &g->conf;
	struct atsm_notify_in in;
	struct atsm_notify_tpl tpl;
	unsigned char tid[ATSM_TOKEN_ID_LEN];
	char host[256] = "localhost", from[512], token[ATSM_TOKEN_MAX];
	char unique[2 * ATSM_TOKEN_ID_LEN + 1];

	if (atsm_token_new_id(tid, err) < 0 || atsm_token_make(&g->keys, tid, token) < 0)
		return atsm_err_setc(err, ATSM_ERR_INTERNAL, "cannot make its token");
	atsm_token_id_hex(tid, unique);
	(void)gethostname(host, sizeof(host) - 1);
	atsm_notify_from(c, host, from, sizeof(from));
	memset(&in, 0, sizeof(in));
	in.kind = n->kind;
	in.lang = lang;
	in.params = n->params;
	in.from = from;
	in.to = n->to;
	in.id = strtoll(n->id, NULL, 10);
	in.now = (long long)time(NULL);
	in.unique = unique;
	in.token = token;
	if (o->found) {
		memset(&tpl, 0, sizeof(tpl));
		tpl.code = o->code;
		tpl.subject = o->subject;
		tpl.body = o->body;
		tpl.missing = o->missing;
		tpl.extra = &o->extra;
		in.tpl = &tpl;
	}
	return atsm_notify_compose_tpl(&in, out, tpl_fault, err);
}

/* Submit one mail: the final reply's code (-1: no session or it broke),
 * the reply and the queue id. */
static int
submit(const struct atsm_conf *c, const char *to, const struct atsm_buf *mail, char *reply,
    size_t rsize, char *qid, size_t qsize)
{
	const char *rcpts[1] = { to };
	struct atsm_smtp smtp;
	char *p;
	int code;

	qid[0] = '\0';
	if (atsm_smtp_open(&smtp, c->notify_smtp, NULL, IO_TIMEOUT_S) < 0) {
		snprintf(reply, rsize, "%s: %s", c->notify_smtp,
		    smtp.reply[0] != '\0' ? smtp.reply : "cannot connect");
		return -1;
	}
	code = atsm_smtp_send(&smtp, "", rcpts, 1, NULL, mail->data, mail->len);
	snprintf(reply, rsize, "%s", smtp.reply[0] != '\0' ? smtp.reply : "no reply");
	if (code == 250)
		atsm_smtp_queue_id(smtp.reply, qid, qsize);
	if (code >= 0)
		atsm_smtp_close(&smtp);
	/* stored as text: a reply that is not ASCII must not fail the UPDATE
	 * of a mail Postfix has taken (it would be sent again) */
	for (p = reply; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	return code;
}

/* Any 32 bits that differ between notifications and attempts: several
 * atsmaild (and the rows of one outage) do not retry in lockstep. */
static uint32_t
jitter(const struct note *n)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint32_t)ts.tv_nsec ^ (uint32_t)strtoul(n->id, NULL, 10) * 2654435761u;
}

/* Send n (claimed, its row locked in conn's transaction) and store what
 * became of it.  0, or -1 when the database failed. */
static int
handle(PGconn *conn, struct atsmaild_gen *g, struct note *n, struct atsm_err *err)
{
	const struct atsm_conf *c = &g->conf;
	struct atsm_buf mail;
	struct atsm_err cerr, tfault;
	struct own own;
	enum atsm_lang lang = note_lang(c, n);
	char reply[ATSM_SMTP_REPLY_MAX + 300], qid[64], attempts[16], delay[24];
	char note[ATSM_ERR_MAX + 64], *p;
	const char *pv[4];
	bool utf8;
	int code, rc;

	pv[0] = n->id;
	if (!atsm_notify_kind_on(&c->notify_kinds, n->kind)) {
		atsm_log(LOG_INFO, "notify %s: %s to <%s> suppressed (not in notify_kinds)",
		    n->id, n->kind, n->to);
		pv[1] = "kind turned off (notify_kinds)";
		return atsm_db_command(conn, SQL_SUPPRESS, 2, pv, err);
	}
	if (own_load(conn, n, lang, &own, err) < 0)
		return -1;
	atsm_buf_init(&mail, atsm_notify_mail_max(n->kind));
	atsm_err_clear(&cerr);
	atsm_err_clear(&tfault);
	rc = compose(g, n, lang, &own, &mail, &tfault, &cerr);
	own_free(&own);
	note[0] = '\0';
	if (tfault.cls != ATSM_ERR_NONE || tfault.msg[0] != '\0') {
		/* the notification goes with the built-in text; the site hears why */
		atsm_log(LOG_WARNING, "notify %s: %s to <%s>: the built-in text is sent, %s",
		    n->id, n->kind, n->to, tfault.msg);
		snprintf(note, sizeof(note), "built-in text sent: %s", tfault.msg);
		/* stored after Postfix's 250: no byte that could fail the UPDATE
		 * (a message cut inside a character is no UTF-8) */
		utf8 = atsm_utf8_valid(note, strlen(note));
		for (p = note; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || (!utf8 && (unsigned char)*p >= 0x7f))
				*p = '?';
	}
	if (rc < 0) {
		atsm_log(LOG_ERR, "notify %s: %s to <%s> cannot be written, failed: %s", n->id,
		    n->kind, n->to, cerr.msg);
		atsm_buf_free(&mail);
		snprintf(attempts, sizeof(attempts), "%u", n->attempts + 1);
		pv[1] = cerr.msg;
		pv[2] = attempts;
		return atsm_db_command(conn, SQL_FAILED, 3, pv, err);
	}
	code = submit(c, n->to, &mail, reply, sizeof(reply), qid, sizeof(qid));
	atsm_buf_free(&mail);
	n->attempts++;
	snprintf(attempts, sizeof(attempts), "%u", n->attempts);
	pv[1] = reply;
	pv[2] = attempts;
	switch (atsm_notify_judge(code, n->attempts, c->notify_max_attempts)) {
	case ATSM_NOTIFY_SENT:
		atsm_log(LOG_INFO, "notify %s: %s sent to <%s>: %s", n->id, n->kind, n->to, reply);
		pv[1] = qid[0] != '\0' ? qid : NULL;
		pv[2] = note[0] != '\0' ? note : NULL;
		rc = atsm_db_command(conn, SQL_SENT, 3, pv, err);
		break;
	case ATSM_NOTIFY_RETRY:
		snprintf(delay, sizeof(delay), "%lu", atsm_webhook_backoff_ms(n->attempts,
		    c->notify_retry_base, RETRY_MAX_MS, jitter(n)));
		atsm_log(LOG_WARNING, "notify %s: %s to <%s> not sent (attempt %u of %u), "
		    "tried again in %s ms: %s", n->id, n->kind, n->to, n->attempts,
		    c->notify_max_attempts, delay, reply);
		pv[3] = delay;
		rc = atsm_db_command(conn, SQL_RETRY, 4, pv, err);
		break;
	default:
		atsm_log(LOG_ERR, "notify %s: %s to <%s> failed after %u attempt(s): %s", n->id,
		    n->kind, n->to, n->attempts, reply);
		rc = atsm_db_command(conn, SQL_FAILED, 3, pv, err);
		break;
	}
	return rc;
}

/* One claimed notification, in its own transaction: 1 when one was
 * handled, 0 when none was due, -1 when the database failed. */
static int
one(PGconn *conn, struct atsm_err *err)
{
	struct atsmaild_gen *g;
	struct note n;
	int got;

	if (atsm_db_begin(conn, err) < 0)
		return -1;
	if ((got = claim(conn, &n, err)) <= 0) {
		if (got == 0 && atsm_db_commit(conn, err) < 0)
			got = -1;
		if (got < 0)
			atsm_db_rollback(conn);
		free(n.params);
		return got;
	}
	g = atsmaild_gen_acquire();
	if (kinds_warned != g->serial) {
		const char *bad = atsm_notify_kinds_unknown(&g->conf.notify_kinds);

		if (bad != NULL)
			atsm_log(LOG_WARNING, "notify: notify_kinds names %s, which is no kind "
			    "of notification (docs/notifications.md)", bad);
		kinds_warned = g->serial;
	}
	got = handle(conn, g, &n, err) < 0 ? -1 : 1;
	atsmaild_gen_release(g);
	free(n.params);
	if (got > 0 && atsm_db_commit(conn, err) < 0)
		got = -1;
	if (got < 0)
		atsm_db_rollback(conn);
	return got;
}

static void *
sender_main(void *arg)
{
	PGconn *conn = NULL;
	struct atsm_err err;

	(void)arg;
	while (!atomic_load(&stopping)) {
		struct atsmaild_gen *g;
		int got;

		if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
			if (conn != NULL)
				PQfinish(conn);
			g = atsmaild_gen_acquire();
			conn = connect_db(&g->conf);
			atsmaild_gen_release(g);
			if (conn == NULL) {
				nap(RETRY_S);
				continue;
			}
		}
		/* the milter answers 4xx until its snapshot is loaded */
		if (!atsmaild_core_ready()) {
			nap(1);
			continue;
		}
		atsm_err_clear(&err);
		if ((got = one(conn, &err)) < 0) {
			atsm_log(LOG_WARNING, "notify: database: %s (trying again in %d s)", err.msg,
			    RETRY_S);
			PQfinish(conn);
			conn = NULL;
			nap(RETRY_S);
			continue;
		}
		if (got == 0)
			wait_notify(conn);
	}
	if (conn != NULL)
		PQfinish(conn);
	return NULL;
}

int
atsmaild_notify_start(struct atsm_err *err)
{
	sigset_t all, old;

	atomic_store(&stopping, false);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	sender_started = pthread_create(&t_sender, NULL, sender_main, NULL) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!sender_started)
		return atsm_err_setc(err, ATSM_ERR_INTERNAL, "cannot start the notification "
		    "sender thread");
	return 0;
}

void
atsmaild_notify_stop(void)
{
	atomic_store(&stopping, true);
	if (sender_started)
		pthread_join(t_sender, NULL);
	sender_started = false;
}
