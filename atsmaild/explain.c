/* explain.c -- the explanation mail to a recruiter whose mail atsmail
 * refused (see milter.h and docs/refusal-mail.md).
 *
 * Interface: milter_explain (milter.h).
 *
 * Who gets one: the sender of sent mail (outbound direction) that is a
 * registered, active user -- by the SASL login, whose user must also own
 * the envelope sender (the address the explanation goes to), or, for a
 * non-SMTP submission with non_smtp_senders = checked, by the envelope
 * sender Postfix checked.  Never mail from outside, the null sender, or
 * automatic mail (Auto-Submitted, atsmail's marker).  Once per refused
 * mail within explain_window (lib/explain/dedupe.h).
 *
 * How it leaves: the session thread composes it (lib/explain/compose.h)
 * and queues it; one sender thread submits it by SMTP to explain_smtp
 * (MAIL FROM:<>, so that it never bounces), with timeouts
 * (lib/service/smtp-client.h, which the bulk runner shares).  Not Postfix's
 * sendmail(1): its postdrop is setgid, which atsmaild cannot run under
 * systemd's NoNewPrivileges.  Not a forked child either: atsmaild is
 * threaded, and a child of a threaded process may only exec.  The queue
 * is bounded (QUEUE_MAX): when the SMTP service is slow, what does not
 * fit is dropped with a warning; a stop loses what is queued (logged at
 * the next start by nothing: the refusal itself was answered at SMTP).
 */
#include "atsm-build-config.h"
#include "milter.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/lang.h"
#include "base/log.h"
#include "explain/compose.h"
#include "explain/dedupe.h"
#include "mail/addr.h"
#include "service/smtp-client.h"

#define QUEUE_MAX 64
#define IO_TIMEOUT_S 30

struct job {
	char *rcpt;
	char *mail;
	size_t len;
	char smtp[512];
	char what[128];                 /* for the log: the refused mail's queue id */
	struct job *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t more = PTHREAD_COND_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct job *head, *tail;
static size_t queued;
static bool started;
static struct atsm_explain_dedupe seen;

/* ---- SMTP ---------------------------------------------------------------- */

static void
submit(const struct job *j)
{
	const char *rcpts[1] = { j->rcpt };
	struct atsm_smtp smtp;
	int code;

	if (atsm_smtp_open(&smtp, j->smtp, NULL, IO_TIMEOUT_S) < 0) {
		atsm_log(LOG_WARNING, "%s: explanation to <%s> not sent: %s: %s", j->what,
		    j->rcpt, j->smtp, smtp.reply[0] != '\0' ? smtp.reply : "cannot connect");
		return;
	}
	code = atsm_smtp_send(&smtp, "", rcpts, 1, NULL, j->mail, j->len);
	if (code / 100 == 2)
		atsm_log(LOG_INFO, "%s: explanation sent to <%s> (%zu bytes): %s", j->what,
		    j->rcpt, j->len, smtp.reply);
	else
		atsm_log(LOG_WARNING, "%s: explanation to <%s> not sent: %s: %s", j->what,
		    j->rcpt, j->smtp, smtp.reply);
	atsm_smtp_close(&smtp);
}

static void *
sender_main(void *arg)
{
	struct job *j;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&lock);
		while (head == NULL)
			pthread_cond_wait(&more, &lock);
		j = head;
		head = j->next;
		if (head == NULL)
			tail = NULL;
		queued--;
		pthread_mutex_unlock(&lock);
		submit(j);
		free(j->rcpt);
		free(j->mail);
		free(j);
	}
	return NULL;
}

static void
start(void)
{
	pthread_t t;
	sigset_t all, old;

	(void)atsm_explain_dedupe_init(&seen, 0);
	/* the thread blocks every signal: the main thread sigwait()s */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	started = pthread_create(&t, NULL, sender_main, NULL) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (started)
		pthread_detach(t);
}

static void
enqueue(struct job *j)
{
	bool ok;

	pthread_once(&once, start);
	pthread_mutex_lock(&lock);
	ok = started && queued < QUEUE_MAX;
	if (ok) {
		if (tail != NULL)
			tail->next = j;
		else
			head = j;
		tail = j;
		queued++;
		pthread_cond_signal(&more);
	}
	pthread_mutex_unlock(&lock);
	if (!ok) {
		atsm_log(LOG_WARNING, "%s: explanation to <%s> not sent: %zu explanations "
		    "waiting already (is %s slow?)", j->what, j->rcpt, (size_t)QUEUE_MAX, j->smtp);
		free(j->rcpt);
		free(j->mail);
		free(j);
	}
}

/* ---- who, and in what language ------------------------------------------ */

/* The recruiter: 1 with the language, 0 when none (not a registered
 * sender, or an address that is not theirs). */
static int
recruiter(struct milter_session *s, const char *addr, enum atsm_lang *lang)
{
	const struct atsm_conf *c = &s->gen->conf;
	const struct atsm_out_facts *f = &s->msg.facts;
	struct atsm_snapshot_view *v;
	struct atsm_dir dir;
	struct atsm_dir_user by_login, by_addr;
	struct atsm_err err;
	int got = 0;

	atsm_err_clear(&err);
	if (atsm_snapshot_view_begin(atsmaild_core.snap, &v, &dir, &err) < 0) {
		atsm_log(LOG_WARNING, "explanation: cannot read the snapshot: %s", err.msg);
		return 0;
	}
	if (dir.ops->user_by_addr(dir.ctx, addr, &by_addr, &err) == 1 && by_addr.active) {
		if (f->login != NULL && f->login[0] != '\0')
			got = dir.ops->user_by_login(dir.ctx, f->login, &by_login, &err) == 1 &&
			    by_login.id == by_addr.id;
		else
			got = f->non_smtp && c->non_smtp_senders == ATSM_NON_SMTP_CHECKED;
	}
	atsm_snapshot_view_end(v);
	if (got && atsm_lang_parse(by_addr.lang, lang) < 0)
		*lang = c->default_language == 1 ? ATSM_LANG_JA : ATSM_LANG_EN;
	return got;
}

static void
make_from(const struct atsm_conf *c, char *out, size_t size)
{
	char host[256] = "localhost";

	if (c->explain_from[0] != '\0') {
		snprintf(out, size, "%s", c->explain_from);
		return;
	}
	if (c->company_domains.n > 0)
		snprintf(out, size, "atsmail <postmaster@%s>", c->company_domains.v[0]);
	else if (c->ats_domain[0] != '\0')
		snprintf(out, size, "atsmail <postmaster@%s>", c->ats_domain);
	else {
		(void)gethostname(host, sizeof(host) - 1);
		snprintf(out, size, "atsmail <postmaster@%s>", host);
	}
}

void
milter_explain(struct milter_session *s, const struct atsm_refusal *r, bool with_mail)
{
	const struct atsm_conf *c;
	struct milter_msg *m = &s->msg;
	const struct atsm_out_facts *f = &m->facts;
	struct atsm_explain_in in;
	unsigned char id[ATSM_TOKEN_ID_LEN];
	char what[ATSM_REFUSAL_TEXT_MAX * 2], fix[ATSM_REFUSAL_TEXT_MAX * 2];
	char from[512], unique[2 * ATSM_TOKEN_ID_LEN + 1], token[ATSM_TOKEN_MAX];
	char marker[ATSM_TOKEN_MAX + 32], *addr = NULL;
	const char *key, *qid = f->queue_id != NULL && f->queue_id[0] != '\0' ?
	    f->queue_id : "NOQUEUE";
	struct atsm_buf out;
	struct atsm_err err;
	struct job *j;
	bool fresh;

	if (s->gen == NULL)
		return;
	c = &s->gen->conf;
	if (!c->explain_refusals || m->dir != ATSM_DIR_OUTBOUND || m->automatic ||
	    f->env_from == NULL || f->env_from[0] == '\0')
		return;
	if (atsm_addr_normalize(f->env_from, &addr, NULL) < 0 || addr == NULL) {
		free(addr);
		return;
	}
	memset(&in, 0, sizeof(in));
	if (recruiter(s, addr, &in.lang) != 1) {
		atsm_log(LOG_DEBUG, "%s: no explanation: %s is no registered sender of this mail",
		    qid, addr);
		free(addr);
		return;
	}
	key = f->hdr_message_id != NULL ? f->hdr_message_id :
	    r->at_rcpt && !with_mail ? r->addr : f->body_sha256;
	pthread_once(&once, start);
	pthread_mutex_lock(&lock);
	fresh = atsm_explain_dedupe_check(&seen, addr, key, (long long)time(NULL),
	    (long long)(c->explain_window / 1000));
	pthread_mutex_unlock(&lock);
	if (!fresh) {
		atsm_log(LOG_INFO, "%s: no explanation to <%s>: explained within explain_window "
		    "already (%s)", qid, addr, key);
		free(addr);
		return;
	}
	atsm_err_clear(&err);
	if (atsm_token_new_id(id, &err) < 0 || atsm_token_make(&s->gen->keys, id, token) < 0) {
		atsm_log(LOG_WARNING, "%s: explanation to <%s> not sent: cannot make its token",
		    qid, addr);
		free(addr);
		return;
	}
	atsm_token_id_hex(id, unique);
	snprintf(marker, sizeof(marker), "refused; ref=%s", token);
	atsm_refusal_render(r, in.lang, what, sizeof(what), fix, sizeof(fix));
	make_from(c, from, sizeof(from));
	in.from = from;
	in.to = addr;
	in.what = what;
	in.fix = fix;
	in.addr = r->addr;
	in.subject = f->hdr_subject;
	in.message_id = f->hdr_message_id;
	in.date = f->hdr_date;
	in.now = (long long)time(NULL);
	in.unique = unique;
	in.marker = marker;
	in.attach_max = c->explain_attach_max;
	if (with_mail && m->keep_raw && m->raw.len > 0) {
		if (!m->raw_in_body && !m->raw_overflow) {
			m->raw_in_body = true;
			if (atsm_buf_append(&m->raw, "\r\n", 2) < 0)
				m->raw_overflow = true;
		}
		in.mail = m->raw.data;
		in.mail_len = m->raw.len;
		in.mail_cut = m->raw_overflow;
	}
	atsm_buf_init(&out, ATSM_EXPLAIN_MAIL_MAX);
	if (atsm_explain_compose(&in, &out, &err) < 0 || (j = calloc(1, sizeof(*j))) == NULL) {
		atsm_log(LOG_WARNING, "%s: explanation to <%s> not sent: %s", qid, addr,
		    err.msg[0] != '\0' ? err.msg : "out of memory");
		atsm_buf_free(&out);
		free(addr);
		return;
	}
	j->rcpt = addr;
	j->len = out.len;
	j->mail = atsm_buf_steal(&out);
	snprintf(j->smtp, sizeof(j->smtp), "%s", c->explain_smtp);
	snprintf(j->what, sizeof(j->what), "%s", qid);
	atsm_log(LOG_INFO, "%s: explanation to <%s> queued (%s, %s%s): %s", qid, addr,
	    atsm_lang_name(in.lang), in.mail == NULL ? "without the mail" :
	    in.mail_cut ? "the mail's headers" : "the mail attached",
	    r->at_rcpt ? ", refused at RCPT" : "", r->text);
	atsm_buf_free(&out);
	enqueue(j);
}
