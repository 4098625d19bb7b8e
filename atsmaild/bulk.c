/* bulk.c -- the bulk runner: atsmaild's thread that sends bulk jobs
 * (docs/bulk.md; the jobs: lib/store/bulk-db.h).
 *
 * Interface: atsmaild_bulk_start, atsmaild_bulk_stop (atsmaild.h).
 *
 * One thread LISTENs on atsmail_bulk (and looks every POLL_S seconds) and
 * takes one job at a time: a queued one, or one whose runner died (its
 * advisory lock is free), or one finished without its result mail.  For
 * each item it composes the recipient's own mail (lib/bulk/compose.h),
 * then bulk_connections sender threads submit them by SMTP to bulk_smtp,
 * paced to bulk_rate mails a second.  Items are marked 'sending' a batch at
 * a time before they are submitted and their outcome is stored a batch at
 * a time after (one statement each): a crash in between leaves them
 * 'sending', and the next run looks for their Message-IDs among the
 * recorded messages once the recorder has drained the journal -- the
 * milter journals a mail before Postfix answers 250 -- and sends again
 * only those that are not there.  Nobody gets a mail twice.
 *
 * 250 is accepted (with Postfix's queue id), 5xx refused (with the reply),
 * 4xx is tried again after the other items, TEMP_TRIES times in all.  A
 * broken session leaves its item 'sending': it may have been queued, so it
 * is settled like a crash.  The database unavailable: the runner waits and
 * tries again; the job stays in PostgreSQL.
 */
#include "atsm-build-config.h"
#include "atsmaild.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base/lang.h"
#include "base/log.h"
#include "bulk/compose.h"
#include "bulk/marker.h"
#include "bulk/result.h"
#include "explain/compose.h"
#include "service/smtp-client.h"
#include "store/bulk-db.h"
#include "store/db.h"
#include "store/template-db.h"
#include "template/template.h"

#define POLL_S 5
#define RETRY_S 5                       /* after the database or SMTP failed */
#define IO_TIMEOUT_S 60
#define TEMP_TRIES 3
#define BATCH_MAX 200
#define CONNECTIONS_MAX 32
#define MAIL_MAX (64u * 1024u * 1024u)
#define CMD_MAX 24                      /* command addresses of one mail */

/* One item on its way. */
struct slot {
	size_t idx;                     /* into run.items */
	char *mail;
	size_t len;
	const char **rcpts;             /* the envelope: the item's and commands */
	size_t n_rcpts;
	int code;                       /* the final reply; -1 = the session broke */
	char reply[ATSM_SMTP_REPLY_MAX];
	char queue_id[64];
};

/* The job being run. */
struct run {
	struct atsm_bulk_job job;
	struct atsm_template tpl;
	bool have_tpl;
	struct atsm_bulk_item *items;
	size_t n_items;
	struct atsm_tpl_fields *fields;
	size_t n_fields;
	int *tries;
	char *source;                   /* the mail each item is made from */
	size_t source_len;
	char *cmd[CMD_MAX];             /* command addresses for every item */
	size_t n_cmd;
	bool cmd_has_phase, has_jobs;
	char phase_addr[3][160];        /* per kind: resume, contact, process */
};

static pthread_t t_runner;
static bool runner_started;
static atomic_bool stopping;
static char runner_name[300];

/* the sender threads of one batch */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot *batch;
static size_t batch_n, batch_next;
static double next_at;                  /* pacing: when the next mail may go */
static const char *batch_from;
static bool db_warned;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

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
	p.application_name = "atsmaild-bulk";
	atsm_err_clear(&err);
	if ((conn = atsm_db_connect(&p, &err)) == NULL) {
		/* once per outage: the runner tries every RETRY_S seconds */
		atsm_log(db_warned ? LOG_DEBUG : LOG_WARNING, "bulk: cannot connect to the "
		    "database (trying again every %d s): %s", RETRY_S, err.msg);
		db_warned = true;
		return NULL;
	}
	if (db_warned)
		atsm_log(LOG_INFO, "bulk: connected to the database again");
	db_warned = false;
	if (atsm_db_command(conn, "LISTEN atsmail_bulk", 0, NULL, &err) < 0) {
		atsm_log(LOG_WARNING, "bulk: LISTEN atsmail_bulk: %s", err.msg);
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

/* ---- sending ---------------------------------------------------------------- */

static void *
sender_main(void *arg)
{
	const struct atsm_conf *c = arg;
	struct atsm_smtp smtp;
	bool open = false;

	for (;;) {
		struct slot *s;
		double at = 0;

		pthread_mutex_lock(&lock);
		if (batch_next >= batch_n || atomic_load(&stopping)) {
			pthread_mutex_unlock(&lock);
			break;
		}
		s = &batch[batch_next++];
		if (c->bulk_rate > 0) {
			double t = now_s();

			at = next_at > t ? next_at : t;
			next_at = at + 1.0 / (double)c->bulk_rate;
		}
		pthread_mutex_unlock(&lock);
		if (at > 0)
			nap(at - now_s());
		if (!open) {
			if (atsm_smtp_open(&smtp, c->bulk_smtp, NULL, IO_TIMEOUT_S) < 0) {
				/* nothing of this mail was sent: not its fault, sent
				 * again later without counting a try (code 0) */
				s->code = 0;
				snprintf(s->reply, sizeof(s->reply), "%s",
				    smtp.reply[0] != '\0' ? smtp.reply : "cannot connect");
				continue;
			}
			open = true;
		}
		s->code = atsm_smtp_send(&smtp, batch_from, s->rcpts, s->n_rcpts, NULL, s->mail,
		    s->len);
		snprintf(s->reply, sizeof(s->reply), "%s", smtp.reply);
		if (s->code == 250)
			atsm_smtp_queue_id(smtp.reply, s->queue_id, sizeof(s->queue_id));
		if (s->code < 0 || s->code == 421)
			open = false;           /* the session is gone */
		if (s->code == 421 && smtp.fd >= 0)
			atsm_smtp_close(&smtp);
	}
	if (open)
		atsm_smtp_close(&smtp);
	return NULL;
}

/* Submit batch_n slots over the bulk_connections sessions. */
static void
send_batch(const struct atsm_conf *c, struct slot *v, size_t n, const char *from)
{
	pthread_t t[CONNECTIONS_MAX];
	size_t k, nt = c->bulk_connections;
	sigset_t all, old;

	if (nt < 1)
		nt = 1;
	if (nt > CONNECTIONS_MAX)
		nt = CONNECTIONS_MAX;
	if (nt > n)
		nt = n;
	pthread_mutex_lock(&lock);
	batch = v;
	batch_n = n;
	batch_next = 0;
	batch_from = from;
	pthread_mutex_unlock(&lock);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (k = 0; k < nt; k++)
		if (pthread_create(&t[k], NULL, sender_main, (void *)c) != 0)
			break;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (k == 0)
		sender_main((void *)c);
	nt = k;
	for (k = 0; k < nt; k++)
		pthread_join(t[k], NULL);
}

/* ---- a job ------------------------------------------------------------------- */

static void
run_free(struct run *r)
{
	bool own_source = r->source != r->job.source;   /* composed here, not the job's */
	size_t i;

	atsm_bulk_job_free(&r->job);
	if (r->have_tpl)
		atsm_template_free(&r->tpl);
	atsm_bulk_items_free(r->items, r->n_items);
	for (i = 0; i < r->n_fields; i++)
		atsm_tpl_fields_free(&r->fields[i]);
	free(r->fields);
	free(r->tries);
	if (own_source)
		free(r->source);
	for (i = 0; i < r->n_cmd; i++)
		free(r->cmd[i]);
	memset(r, 0, sizeof(*r));
}

static int
add_cmd(struct run *r, const struct atsm_conf *c, const char *what)
{
	char a[320];

	if (r->n_cmd >= CMD_MAX)
		return -1;
	snprintf(a, sizeof(a), "%s+%s@%s", c->command_localpart, what, c->ats_domain);
	return (r->cmd[r->n_cmd++] = strdup(a)) == NULL ? -1 : 0;
}

/* bulk_jobs.commands: {"phase": "x", "jobs": [1, 2], "share": 1 | -1}. */
static int
load_commands(struct run *r, const struct atsm_conf *c)
{
	json_t *doc, *v, *e;
	json_error_t jerr;
	char what[160];
	size_t i;
	int rc = 0;

	if (c->ats_domain == NULL || c->ats_domain[0] == '\0')
		return 0;
	if ((doc = json_loads(r->job.commands_json, 0, &jerr)) == NULL || !json_is_object(doc)) {
		json_decref(doc);
		atsm_log(LOG_WARNING, "bulk %lld: commands are not a JSON object: %s", r->job.id,
		    r->job.commands_json);
		return 0;
	}
	if ((v = json_object_get(doc, "phase")) != NULL && json_is_string(v) &&
	    atsm_template_code_valid(json_string_value(v))) {
		snprintf(what, sizeof(what), "phase.%s", json_string_value(v));
		rc |= add_cmd(r, c, what);
		r->cmd_has_phase = true;
	}
	if ((v = json_object_get(doc, "jobs")) != NULL && json_is_array(v) &&
	    json_array_size(v) > 0) {
		size_t len = 0;

		len = (size_t)snprintf(what, sizeof(what), "job");
		json_array_foreach(v, i, e) {
			if (json_is_integer(e) && len + 24 < sizeof(what))
				len += (size_t)snprintf(what + len, sizeof(what) - len, ".%lld",
				    (long long)json_integer_value(e));
		}
		rc |= add_cmd(r, c, what);
		r->has_jobs = true;
	}
	if ((v = json_object_get(doc, "share")) != NULL && json_is_integer(v) &&
	    json_integer_value(v) != 0)
		rc |= add_cmd(r, c, json_integer_value(v) > 0 ? "share" : "private");
	json_decref(doc);
	if (r->have_tpl && !r->cmd_has_phase) {
		const char *ph[3] = { r->tpl.phase_resume, r->tpl.phase_contact,
		    r->tpl.phase_process };

		for (i = 0; i < 3; i++)
			if (ph[i][0] != '\0')
				snprintf(r->phase_addr[i], sizeof(r->phase_addr[i]), "%s+phase.%s@%s",
				    c->command_localpart, ph[i], c->ats_domain);
	}
	return rc == 0 ? 0 : -1;
}

/* The From of atsmail's own mail (as explain_from says). */
static void
own_from(const struct atsm_conf *c, char *out, size_t size)
{
	if (c->explain_from[0] != '\0')
		snprintf(out, size, "%s", c->explain_from);
	else if (c->company_domains.n > 0)
		snprintf(out, size, "atsmail <postmaster@%s>", c->company_domains.v[0]);
	else
		snprintf(out, size, "atsmail <postmaster@%s>",
		    c->ats_domain[0] != '\0' ? c->ats_domain : "localhost");
}

/* Everything the items are made from: template, items, tag values,
 * source, commands.  0, or -1 with err (the job cannot run: it fails). */
static int
load_run(PGconn *conn, const struct atsm_conf *c, struct run *r, struct atsm_err *err)
{
	char *kinds = NULL;
	long long *ids = NULL;
	const char **rcpts = NULL;
	size_t i;
	int rc;

	if (r->job.template_code != NULL) {
		if ((rc = atsm_tpl_db_load(conn, r->job.template_code, r->job.user_id, &r->tpl,
		    err)) < 0)
			return -1;
		if (rc == 0) {
			atsm_err_set(err, "template %s: no such template for %s",
			    r->job.template_code, r->job.login);
			err->cls = ATSM_ERR_INPUT;
			return -1;
		}
		r->have_tpl = true;
	}
	if (atsm_bulk_db_items(conn, r->job.id, false, &r->items, &r->n_items, err) < 0)
		return -1;
	r->n_fields = r->n_items;
	r->fields = calloc(r->n_items + 1, sizeof(*r->fields));
	r->tries = calloc(r->n_items + 1, sizeof(*r->tries));
	kinds = calloc(r->n_items + 1, 1);
	ids = calloc(r->n_items + 1, sizeof(*ids));
	rcpts = calloc(r->n_items + 1, sizeof(*rcpts));
	if (r->fields == NULL || r->tries == NULL || kinds == NULL || ids == NULL ||
	    rcpts == NULL) {
		rc = atsm_err_setc(err, ATSM_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < r->n_items; i++) {
		atsm_tpl_fields_init(&r->fields[i]);
		kinds[i] = r->items[i].kind != 0 ? r->items[i].kind : '-';
		ids[i] = r->items[i].record_id;
		rcpts[i] = r->items[i].rcpt;
	}
	rc = atsm_tpl_db_fields(conn, r->n_items, kinds, ids, rcpts, r->job.job_id,
	    r->job.user_id, r->fields, err);
	if (rc < 0)
		goto out;
	if (strcmp(r->job.origin, "ctl") == 0 && r->job.source == NULL) {
		struct atsm_buf d;
		char from[600], date[64], msgid[300];
		time_t t = time(NULL);
		struct tm tm;

		if (!r->have_tpl) {
			rc = atsm_err_set(err, "a job of atsmailctl without a template");
			goto out;
		}
		if (r->job.user_addr == NULL) {
			rc = atsm_err_set(err, "user %s has no address", r->job.login);
			goto out;
		}
		if (r->job.user_name[0] != '\0' && strpbrk(r->job.user_name, "\"\\\r\n") == NULL)
			snprintf(from, sizeof(from), "\"%s\" <%s>", r->job.user_name,
			    r->job.user_addr);
		else
			snprintf(from, sizeof(from), "<%s>", r->job.user_addr);
		gmtime_r(&t, &tm);
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
		snprintf(msgid, sizeof(msgid), "bulk.%lld.draft@atsmail", r->job.id);
		atsm_buf_init(&d, MAIL_MAX);
		if ((rc = atsm_tpl_draft(&r->tpl, from, NULL, date, msgid, &d, err)) < 0) {
			atsm_buf_free(&d);
			goto out;
		}
		r->source_len = d.len;
		r->source = atsm_buf_steal(&d);
	} else {
		r->source = r->job.source;
		r->source_len = r->job.source_len;
	}
	if (r->source == NULL || r->source_len == 0) {
		rc = atsm_err_set(err, "the job holds no mail");
		goto out;
	}
	rc = load_commands(r, c);
	if (rc < 0)
		atsm_err_setc(err, ATSM_ERR_NOMEM, "out of memory");
out:
	free(kinds);
	free(ids);
	free(rcpts);
	return rc;
}

/* The mail of item i into s: 0, or -1 with the reason in s->reply (the
 * item is refused: a tag without a value, say). */
static int
prepare(const struct run *r, const struct atsmaild_gen *g, size_t i, struct slot *s)
{
	const struct atsm_bulk_item *it = &r->items[i];
	const struct atsm_tpl_fields *f = &r->fields[i];
	struct atsm_bulk_compose_in in;
	struct atsm_bulk_mark mark;
	struct atsm_tpl_fault fault;
	struct atsm_buf out;
	struct atsm_err err;
	char marker[ATSM_BULK_MARKER_MAX];
	const char *name = NULL, *phase = NULL;
	size_t k, n = 0;

	memset(s, 0, sizeof(*s));
	s->idx = i;
	atsm_err_clear(&err);
	memset(&mark, 0, sizeof(mark));
	mark.job = r->job.id;
	mark.item = it->seq;
	snprintf(mark.login, sizeof(mark.login), "%s", r->job.login);
	if (atsm_bulk_marker_make(&g->keys, &mark, it->message_id, marker, sizeof(marker),
	    &err) < 0) {
		snprintf(s->reply, sizeof(s->reply), "cannot sign the mail: %s", err.msg);
		return -1;
	}
	if (it->kind == 'r')
		name = atsm_tpl_fields_get(f, "resume.name", NULL);
	else if (it->kind == 'c')
		name = atsm_tpl_fields_get(f, "contact.name", NULL);
	memset(&in, 0, sizeof(in));
	in.keep_to_cc = strcmp(r->job.origin, "template") == 0;
	in.source = r->source;
	in.source_len = r->source_len;
	in.fields = f;
	in.missing = r->have_tpl ? r->tpl.on_missing : ATSM_TPL_MISSING_REFUSE;
	in.rcpt = it->rcpt;
	in.rcpt_name = name;
	in.message_id = it->message_id;
	in.now = (long long)time(NULL);
	in.marker = marker;
	atsm_buf_init(&out, MAIL_MAX);
	if (atsm_bulk_compose(&in, &out, &fault, &err) < 0) {
		snprintf(s->reply, sizeof(s->reply), "not sent: %s", err.msg);
		atsm_buf_free(&out);
		return -1;
	}
	s->len = out.len;
	s->mail = atsm_buf_steal(&out);
	if ((s->rcpts = calloc(1 + it->n_extra + r->n_cmd + 1, sizeof(char *))) == NULL) {
		snprintf(s->reply, sizeof(s->reply), "out of memory");
		return -1;
	}
	s->rcpts[n++] = it->rcpt;
	for (k = 0; k < it->n_extra; k++)
		s->rcpts[n++] = it->extra[k];
	for (k = 0; k < r->n_cmd; k++)
		s->rcpts[n++] = r->cmd[k];
	if (it->kind == 'r')
		phase = r->has_jobs && r->phase_addr[2][0] != '\0' ? r->phase_addr[2] :
		    r->phase_addr[0];
	else if (it->kind == 'c')
		phase = r->phase_addr[1];
	if (phase != NULL && phase[0] != '\0')
		s->rcpts[n++] = phase;
	s->n_rcpts = n;
	return 0;
}

static void
slot_free(struct slot *s)
{
	free(s->mail);
	free(s->rcpts);
	s->mail = NULL;
	s->rcpts = NULL;
}

/* The recorder has put every journaled mail into PostgreSQL (or we stop). */
static void
wait_drained(long long job)
{
	struct atsm_jlog_stats st;
	int waited = 0;

	for (;;) {
		atsm_jlog_stats(atsmaild_core.jlog, &st);
		if (st.backlog_bytes == 0 || atomic_load(&stopping))
			return;
		if (++waited % 60 == 0)
			atsm_log(LOG_INFO, "bulk %lld: waiting for the recorder (%llu bytes of "
			    "journal left) before looking for mails already sent", job,
			    st.backlog_bytes);
		nap(0.5);
	}
}

static bool
db_down(const struct atsm_err *err)
{
	return err->cls == ATSM_ERR_UNAVAILABLE;
}

/* The items left 'sending' by a crash or a broken session: those recorded
 * are accepted, the others pending again.  0, or -1 (database). */
static int
settle(PGconn *conn, struct run *r, struct atsm_err *err)
{
	int found, again;
	size_t i;
	bool any = false;

	for (i = 0; i < r->n_items; i++)
		any |= r->items[i].state == ATSM_BULK_SENDING;
	if (!any)
		return 0;
	wait_drained(r->job.id);
	if (atomic_load(&stopping))
		return 0;
	if (atsm_bulk_db_settle(conn, r->job.id, &found, &again, err) < 0)
		return -1;
	atsm_log(LOG_INFO, "bulk %lld: of the mails being sent when it stopped, %d were "
	    "recorded (sent), %d are sent again", r->job.id, found, again);
	atsm_bulk_items_free(r->items, r->n_items);
	r->items = NULL;
	if (atsm_bulk_db_items(conn, r->job.id, false, &r->items, &r->n_items, err) < 0) {
		r->n_items = 0;
		return -1;
	}
	return 0;
}

/* Every item of the job went (none refused, unmatched or cancelled). */
static bool
all_accepted(const struct run *r)
{
	size_t i;

	for (i = 0; i < r->n_items; i++)
		if (r->items[i].state != ATSM_BULK_ACCEPTED)
			return false;
	return r->n_items > 0;
}

/* The acknowledgement or the result mail to the job's user, from the null
 * sender with atsmail's marker (the milter passes it as it is). */
static void
tell_user(const struct atsmaild_gen *g, const struct run *r, bool result)
{
	const struct atsm_conf *c = &g->conf;
	struct atsm_bulk_result_in in;
	unsigned char id[ATSM_TOKEN_ID_LEN];
	char token[ATSM_TOKEN_MAX], unique[2 * ATSM_TOKEN_ID_LEN + 1], marker[ATSM_TOKEN_MAX + 16];
	char from[600];
	const char *rcpts[1];
	struct atsm_smtp smtp;
	struct atsm_buf out;
	struct atsm_err err;
	int code;

	if (r->job.user_addr == NULL) {
		atsm_log(LOG_WARNING, "bulk %lld: no %s mail: user %s has no address", r->job.id,
		    result ? "result" : "acknowledgement", r->job.login);
		return;
	}
	atsm_err_clear(&err);
	if (atsm_token_new_id(id, &err) < 0 || atsm_token_make(&g->keys, id, token) < 0) {
		atsm_log(LOG_WARNING, "bulk %lld: no %s mail: cannot make its token", r->job.id,
		    result ? "result" : "acknowledgement");
		return;
	}
	atsm_token_id_hex(id, unique);
	snprintf(marker, sizeof(marker), "bulk; ref=%s", token);
	own_from(c, from, sizeof(from));
	memset(&in, 0, sizeof(in));
	if (atsm_lang_parse(r->job.lang, &in.lang) < 0)
		in.lang = c->default_language == 1 ? ATSM_LANG_JA : ATSM_LANG_EN;
	in.from = from;
	in.to = r->job.user_addr;
	in.job = r->job.id;
	in.subject = r->job.subject != NULL ? r->job.subject :
	    r->have_tpl ? r->tpl.subject : NULL;
	in.status = r->job.status;
	in.now = (long long)time(NULL);
	in.unique = unique;
	in.marker = marker;
	in.items = r->items;
	in.n_items = r->n_items;
	atsm_buf_init(&out, ATSM_BULK_RESULT_MAX);
	if ((result ? atsm_bulk_result_compose(&in, &out, &err) :
	    atsm_bulk_ack_compose(&in, &out, &err)) < 0) {
		atsm_log(LOG_WARNING, "bulk %lld: no %s mail: %s", r->job.id,
		    result ? "result" : "acknowledgement", err.msg);
		atsm_buf_free(&out);
		return;
	}
	rcpts[0] = r->job.user_addr;
	if (atsm_smtp_open(&smtp, c->bulk_smtp, NULL, IO_TIMEOUT_S) < 0)
		code = -1;
	else
		code = atsm_smtp_send(&smtp, "", rcpts, 1, NULL, out.data, out.len);
	if (code == 250)
		atsm_log(LOG_INFO, "bulk %lld: %s mail sent to <%s>: %s", r->job.id,
		    result ? "result" : "acknowledgement", r->job.user_addr, smtp.reply);
	else
		atsm_log(LOG_WARNING, "bulk %lld: %s mail to <%s> not sent: %s: %s", r->job.id,
		    result ? "result" : "acknowledgement", r->job.user_addr, c->bulk_smtp,
		    smtp.reply);
	atsm_smtp_close(&smtp);
	atsm_buf_free(&out);
}

static size_t
batch_size(const struct atsm_conf *c)
{
	size_t b = c->bulk_rate > 0 ? c->bulk_rate : BATCH_MAX;

	if (b < c->bulk_connections)
		b = c->bulk_connections;
	if (b > BATCH_MAX)
		b = BATCH_MAX;
	return b < 1 ? 1 : b;
}

/* One batch of items (indices v[0..n)): made, marked 'sending', sent,
 * their outcome stored.  *progress counts the items decided; *unsure is
 * set when a session broke after a mail may have been queued.  0, or -1
 * (database). */
static int
one_batch(PGconn *conn, const struct atsmaild_gen *g, struct run *r, const size_t *v,
    size_t n, size_t *progress, bool *unsure, struct atsm_err *err)
{
	const struct atsm_conf *c = &g->conf;
	struct slot *slots = calloc(n, sizeof(*slots)), *go = calloc(n, sizeof(*go));
	struct atsm_bulk_mark_item *marks = calloc(n, sizeof(*marks));
	size_t i, m = 0, ng = 0;
	int rc = -1;

	if (slots == NULL || go == NULL || marks == NULL) {
		atsm_err_setc(err, ATSM_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (prepare(r, g, v[i], &slots[i]) < 0) {
			marks[m].seq = r->items[v[i]].seq;
			marks[m].state = ATSM_BULK_REFUSED;
			marks[m].reason = slots[i].reply;
			atsm_log(LOG_WARNING, "bulk %lld: item %d <%s> refused: %s", r->job.id,
			    r->items[v[i]].seq, r->items[v[i]].rcpt, slots[i].reply);
			r->items[v[i]].state = ATSM_BULK_REFUSED;
			m++;
			continue;
		}
		go[ng++] = slots[i];
		memset(&slots[i], 0, sizeof(slots[i]));
	}
	/* 'sending' before the first byte goes out */
	{
		struct atsm_bulk_mark_item *s = calloc(ng + 1, sizeof(*s));

		if (s == NULL) {
			atsm_err_setc(err, ATSM_ERR_NOMEM, "out of memory");
			goto out;
		}
		for (i = 0; i < ng; i++) {
			s[i].seq = r->items[go[i].idx].seq;
			s[i].state = ATSM_BULK_SENDING;
		}
		rc = atsm_bulk_db_mark(conn, r->job.id, s, ng, err);
		free(s);
		if (rc < 0)
			goto out;
		rc = -1;
	}
	send_batch(c, go, ng, r->job.user_addr);
	for (i = 0; i < ng; i++) {
		struct slot *s = &go[i];
		struct atsm_bulk_item *it = &r->items[s->idx];

		if (s->code == 0 && s->reply[0] == '\0')
			continue;               /* stopped before it went: still 'sending' */
		marks[m].seq = it->seq;
		if (s->code == 250) {
			marks[m].state = it->state = ATSM_BULK_ACCEPTED;
			marks[m].queue_id = s->queue_id;
			marks[m].reason = s->reply;
			atsm_log(LOG_INFO, "bulk %lld: item %d <%s> accepted, queue id %s, "
			    "Message-ID <%s>", r->job.id, it->seq, it->rcpt,
			    s->queue_id[0] != '\0' ? s->queue_id : "unknown", it->message_id);
		} else if (s->code >= 500) {
			marks[m].state = it->state = ATSM_BULK_REFUSED;
			marks[m].reason = s->reply;
			atsm_log(LOG_WARNING, "bulk %lld: item %d <%s> refused: %s", r->job.id,
			    it->seq, it->rcpt, s->reply);
		} else if (s->code < 0) {
			*unsure = true;         /* left 'sending': settled later */
			it->state = ATSM_BULK_SENDING;
			atsm_log(LOG_WARNING, "bulk %lld: item %d <%s>: the session broke (%s); "
			    "looked for among the recorded mails before it is sent again",
			    r->job.id, it->seq, it->rcpt, s->reply);
			continue;
		} else if (s->code == 0) {
			marks[m].state = it->state = ATSM_BULK_PENDING;
			marks[m].reason = s->reply;
			atsm_log(LOG_WARNING, "bulk %lld: item %d <%s> not sent, %s is unavailable: %s",
			    r->job.id, it->seq, it->rcpt, c->bulk_smtp, s->reply);
			m++;
			continue;
		} else if (++r->tries[s->idx] >= TEMP_TRIES) {
			marks[m].state = it->state = ATSM_BULK_REFUSED;
			marks[m].reason = s->reply;
			atsm_log(LOG_WARNING, "bulk %lld: item %d <%s> refused after %d temporary "
			    "failures: %s", r->job.id, it->seq, it->rcpt, TEMP_TRIES, s->reply);
		} else {
			marks[m].state = it->state = ATSM_BULK_PENDING;
			marks[m].reason = s->reply;
			atsm_log(LOG_INFO, "bulk %lld: item %d <%s> deferred, tried again later: %s",
			    r->job.id, it->seq, it->rcpt, s->reply);
			m++;
			continue;
		}
		m++;
		(*progress)++;
	}
	rc = atsm_bulk_db_mark(conn, r->job.id, marks, m, err);
out:
	for (i = 0; i < n; i++) {
		if (slots != NULL)
			slot_free(&slots[i]);
		if (go != NULL && i < ng)
			slot_free(&go[i]);
	}
	free(slots);
	free(go);
	free(marks);
	return rc;
}

/* Send what is left of a claimed job, then end it.  0, or -1 when the
 * database failed (the job stays as it is for the next try). */
static int
run_job(PGconn *conn, struct run *r, struct atsm_err *err)
{
	struct atsmaild_gen *g = atsmaild_gen_acquire();
	const struct atsm_conf *c = &g->conf;
	size_t *v = NULL, nv, i, b = batch_size(c), progress, sent_before = 0, ahead;
	char status[12];
	bool unsure, over, fresh = true;
	int pass, rc = -1;

	over = strcmp(r->job.status, "done") == 0 || strcmp(r->job.status, "cancelled") == 0 ||
	    strcmp(r->job.status, "failed") == 0;
	if (load_run(conn, c, r, err) < 0) {
		if (db_down(err))
			goto out;
		if (!over) {
			atsm_log(LOG_ERR, "bulk %lld: cannot run: %s", r->job.id, err->msg);
			if (atsm_bulk_db_finish(conn, r->job.id, "failed", err->msg, err) < 0)
				goto out;
			snprintf(r->job.status, sizeof(r->job.status), "failed");
			over = true;
		}
	}
	if (over)
		goto result;
	for (i = 0; i < r->n_items; i++) {
		if (r->items[i].state != ATSM_BULK_PENDING && r->items[i].state != ATSM_BULK_UNMATCHED)
			fresh = false;
		if (r->items[i].state == ATSM_BULK_ACCEPTED)
			sent_before++;
	}
	atsm_log(LOG_INFO, "bulk %lld: %s for %s: %zu recipients, %d to send, %zu sent before, "
	    "at %u a second over %u sessions", r->job.id, fresh ? "starting" : "resuming",
	    r->job.login, r->n_items, r->job.total, sent_before, c->bulk_rate, c->bulk_connections);
	if (fresh && strcmp(r->job.origin, "mail") == 0)
		tell_user(g, r, false);
	if ((v = calloc(r->n_items + 1, sizeof(*v))) == NULL) {
		atsm_err_setc(err, ATSM_ERR_NOMEM, "out of memory");
		goto out;
	}
	next_at = 0;
	for (pass = 0; !atomic_load(&stopping); pass++) {
		if (settle(conn, r, err) < 0)
			goto out;
		for (nv = 0, i = 0; i < r->n_items; i++)
			if (r->items[i].state == ATSM_BULK_PENDING)
				v[nv++] = i;
		if (nv == 0)
			break;
		if (pass > 0)
			nap(RETRY_S);           /* the deferred ones, a little later */
		unsure = false;
		progress = 0;
		for (i = 0; i < nv && !atomic_load(&stopping); i += ahead) {
			if (atsm_bulk_db_status(conn, r->job.id, status, err) < 0)
				goto out;
			if (strcmp(status, "cancelled") == 0) {
				atsm_log(LOG_INFO, "bulk %lld: cancelled", r->job.id);
				snprintf(r->job.status, sizeof(r->job.status), "cancelled");
				goto finish;
			}
			ahead = nv - i < b ? nv - i : b;
			if (one_batch(conn, g, r, v + i, ahead, &progress, &unsure, err) < 0)
				goto out;
			if ((i / b) % 10 == 9)
				atsm_log(LOG_INFO, "bulk %lld: %zu of %zu done in this pass",
				    r->job.id, i + ahead, nv);
		}
		if (progress == 0 && !unsure)
			nap(RETRY_S * 2);       /* nothing went: the SMTP service is down? */
	}
	if (atomic_load(&stopping)) {
		rc = 0;
		goto out;
	}
	snprintf(r->job.status, sizeof(r->job.status), "done");
finish:
	if (atsm_bulk_db_finish(conn, r->job.id, r->job.status, NULL, err) < 0)
		goto out;
result:
	if (atomic_load(&stopping)) {
		rc = 0;
		goto out;
	}
	/* the items as they ended, for the CSV */
	atsm_bulk_items_free(r->items, r->n_items);
	r->items = NULL;
	r->n_items = 0;
	{
		/* how the job stands now (a cancel, a result sent by an earlier
		 * runner); the rest of r->job, its source included, stays */
		struct atsm_bulk_job now;
		int got;

		memset(&now, 0, sizeof(now));
		if ((got = atsm_bulk_db_job(conn, r->job.id, &now, err)) < 0)
			goto out;
		if (got > 0) {
			snprintf(r->job.status, sizeof(r->job.status), "%s", now.status);
			r->job.result_sent = now.result_sent;
		}
		atsm_bulk_job_free(&now);
	}
	if (atsm_bulk_db_items(conn, r->job.id, false, &r->items, &r->n_items, err) < 0)
		goto out;
	if (!r->job.result_sent) {
		/* one template mail that went as written needs no report: the
		 * recruiter sent one mail and it left; anything else does */
		if (strcmp(r->job.origin, "template") != 0 || !all_accepted(r))
			tell_user(g, r, true);
		if (atsm_bulk_db_result_sent(conn, r->job.id, err) < 0)
			goto out;
	}
	{
		int n[6] = { 0 };

		for (i = 0; i < r->n_items; i++)
			n[r->items[i].state]++;
		atsm_log(LOG_INFO, "bulk %lld: %s: %d accepted, %d refused, %d unmatched, "
		    "%d cancelled", r->job.id, r->job.status, n[ATSM_BULK_ACCEPTED],
		    n[ATSM_BULK_REFUSED], n[ATSM_BULK_UNMATCHED], n[ATSM_BULK_CANCELLED]);
	}
	rc = 0;
out:
	free(v);
	atsmaild_gen_release(g);
	return rc;
}

static void *
runner_main(void *arg)
{
	PGconn *conn = NULL;
	struct atsm_err err;

	(void)arg;
	while (!atomic_load(&stopping)) {
		struct atsmaild_gen *g;
		struct run r;
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
		/* decide nothing from a snapshot never loaded, and never send a
		 * mail the milter cannot judge yet */
		if (!atsmaild_core_ready()) {
			nap(1);
			continue;
		}
		memset(&r, 0, sizeof(r));
		atsm_err_clear(&err);
		if ((got = atsm_bulk_db_claim(conn, runner_name, &r.job, &err)) < 0) {
			atsm_log(LOG_WARNING, "bulk: cannot look for jobs: %s", err.msg);
			PQfinish(conn);
			conn = NULL;
			nap(RETRY_S);
			continue;
		}
		if (got == 0) {
			wait_notify(conn);
			continue;
		}
		if (run_job(conn, &r, &err) < 0) {
			atsm_log(LOG_WARNING, "bulk %lld: interrupted, taken again in %d s: %s",
			    r.job.id, RETRY_S, err.msg);
			PQfinish(conn);         /* and with it the job's lock */
			conn = NULL;
			run_free(&r);
			nap(RETRY_S);
			continue;
		}
		atsm_bulk_db_release(conn, r.job.id);
		run_free(&r);
	}
	if (conn != NULL)
		PQfinish(conn);
	return NULL;
}

int
atsmaild_bulk_start(struct atsm_err *err)
{
	char host[256] = "localhost";
	sigset_t all, old;

	(void)gethostname(host, sizeof(host) - 1);
	snprintf(runner_name, sizeof(runner_name), "%s:%ld", host, (long)getpid());
	atomic_store(&stopping, false);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	runner_started = pthread_create(&t_runner, NULL, runner_main, NULL) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!runner_started)
		return atsm_err_setc(err, ATSM_ERR_INTERNAL, "cannot start the bulk runner thread");
	return 0;
}

void
atsmaild_bulk_stop(void)
{
	atomic_store(&stopping, true);
	if (runner_started)
		pthread_join(t_runner, NULL);
	runner_started = false;
}
