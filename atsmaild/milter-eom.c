/* milter-eom.c -- the end of a message: decide from the snapshot, record
 * journal-first, and tell Postfix what to do.
 *
 * Interface: milter_eom_outbound, milter_eom_inbound, milter_reply (milter.h).
 *
 * Outbound, in this order: finish the facts (queue id, body hash, token,
 * idempotency key); decide with lib/ (atsm_out_decide) over a view of the
 * snapshot -- the same decision with PostgreSQL up or down; then by
 * verdict:
 *	PASS     nothing at all: not ATS mail is neither changed nor recorded;
 *	REJECT   550 5.7.1 with the decision's sentence, and the explanation
 *	         mail to the sender (explain.c);
 *	RECORD   journal the record (atsmaild_record: on disk before we
 *	HOLD     answer), then remove the command addresses from the envelope
 *	         and from To/Cc, replace any X-ATS-* header by our X-ATS-Ref,
 *	         stamp the VERP sender when the decision says so, quarantine
 *	         (HOLD).
 * A mail is answered 451 4.3.0 (Postfix, or the sender, retries) when it
 * cannot be decided (the snapshot has never been loaded, or failed) or
 * cannot be journaled (disk full, permissions): never accepted
 * unrecorded.  The sentence says what to do; the log says why.
 *
 * Before deciding: a command address refused at RCPT refuses the whole
 * mail (its client sent the rest: the mail must not leave without the
 * command), explained with the mail; atsmail's own explanation (its
 * marker with a token that verifies) passes untouched.
 *
 * Inbound: every X-ATS-* header is removed except an X-ATS-Ref or an
 * explanation marker whose token verifies under the site secret.
 */
#include "atsm-build-config.h"
#include "milter.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/arena.h"
#include "base/log.h"
#include "bulk/marker.h"
#include "explain/compose.h"
#include "notify/compose.h"
#include "mail/addr.h"
#include "mail/msgid.h"
#include "mail/preview.h"
#include "outbound/decide.h"
#include "outbound/record.h"
#include "rules/command.h"
#include "store/recorder.h"

#define ARENA_MAX (16u * 1024u * 1024u)   /* the effects of one mail */

static const char *
qid_of(const struct milter_session *s)
{
	const char *q = s->msg.facts.queue_id;

	return q != NULL && *q != '\0' ? q : "NOQUEUE";
}

static bool own_explanation(const struct milter_session *s);

int
milter_reply(struct milter_session *s, const char *rcode, const char *xcode, const char *text)
{
	return atsm_milter_put_replycode(&s->out, rcode, xcode, text);
}

static int
tempfail(struct milter_session *s, const char *text)
{
	return milter_reply(s, "451", "4.3.0", text);
}

/* ---- actions ----------------------------------------------------------- */

static bool
is_command(const char *addr, void *arg)
{
	const struct atsm_conf *c = arg;

	return atsm_command_is_address(addr, c->command_localpart, c->ats_domain);
}

/* Remove every command address from the envelope; count them. */
static int
drop_command_rcpts(struct milter_session *s, size_t *ndropped)
{
	const struct atsm_conf *c = &s->gen->conf;
	const struct milter_msg *m = &s->msg;
	size_t i;

	*ndropped = 0;
	for (i = 0; i < m->facts.n_env_rcpts; i++) {
		if (!atsm_command_is_address(m->facts.env_rcpts[i], c->command_localpart,
		    c->ats_domain))
			continue;
		if (atsm_milter_put_delrcpt(&s->out, m->env_raw[i]) < 0)
			return -1;
		(*ndropped)++;
	}
	return 0;
}

/* To/Cc without the command addresses; a header left empty is deleted. */
static int
rewrite_addr_headers(struct milter_session *s, size_t *nheaders)
{
	size_t i;

	*nheaders = 0;
	for (i = 0; i < s->msg.n_addr_hdrs; i++) {
		const struct milter_hdr *h = &s->msg.addr_hdrs[i];
		char *nv = NULL;
		int rc = milter_hdr_without(h->value, is_command, &s->gen->conf, &nv);

		if (rc < 0)
			return -1;
		if (rc == 0)
			continue;
		rc = atsm_milter_put_chgheader(&s->out, (uint32_t)h->index, h->name,
		    *nv != '\0' ? nv : NULL);
		free(nv);
		if (rc < 0)
			return -1;
		(*nheaders)++;
	}
	return 0;
}

/* Delete X-ATS-* headers for which keep() is false.  Deleting shifts the
 * index of later headers of the same name in Postfix, so go from the last
 * one to the first. */
static int
delete_xats(struct milter_session *s,
    bool (*keep)(const struct milter_session *, const struct milter_hdr *), size_t *ndeleted)
{
	size_t i;

	*ndeleted = 0;
	for (i = s->msg.n_xats; i-- > 0;) {
		const struct milter_hdr *h = &s->msg.xats[i];

		if (keep != NULL && keep(s, h))
			continue;
		if (atsm_milter_put_chgheader(&s->out, (uint32_t)h->index, h->name, NULL) < 0)
			return -1;
		(*ndeleted)++;
	}
	return 0;
}

static int
apply_plan(struct milter_session *s, const struct atsm_out_plan *p)
{
	const char *reason = p->reply_text[0] != '\0' ? p->reply_text : "atsmail: held for review";
	bool hold = p->verdict == ATSM_OUT_HOLD;
	size_t nrcpt, nhdr, nx;
	char from[sizeof(p->verp_sender) + 2];

	if (drop_command_rcpts(s, &nrcpt) < 0 || rewrite_addr_headers(s, &nhdr) < 0 ||
	    delete_xats(s, NULL, &nx) < 0 ||
	    atsm_milter_put_addheader(&s->out, MILTER_REF_HEADER, s->msg.facts.token) < 0)
		return -1;
	if (p->verp_sender[0] != '\0') {
		snprintf(from, sizeof(from), "<%s>", p->verp_sender);
		if (atsm_milter_put_chgfrom(&s->out, from, NULL) < 0)
			return -1;
	}
	if (hold && atsm_milter_put_quarantine(&s->out, reason) < 0)
		return -1;
	/* a held mail's line ends with the reason Postfix keeps with it in
	 * the hold queue: whoever reviews it finds why in the log too */
	atsm_log(LOG_INFO, "%s: %s: token=%s commands_removed=%zu headers_rewritten=%zu%s%s%s%s",
	    qid_of(s), hold ? "hold" : "tag", s->msg.facts.token, nrcpt, nhdr,
	    p->verp_sender[0] != '\0' ? " verp_sender=" : "", p->verp_sender,
	    hold ? ": " : "", hold ? reason : "");
	return 0;
}

/* ---- the bulk runner's mail ------------------------------------------------------ */

/* A mail atsmaild's bulk runner submitted (without a login): its
 * X-ATS-Bulk verifies under the site secret for its Message-ID, and its
 * envelope sender is an address of the active user the marker names.
 * Then it is that user's sent mail, as if they had logged in: 1, with
 * the login put in the facts.  0: no marker, or one that does not verify
 * (a forged X-ATS-* header: logged, and removed like any other). */
static int
bulk_runner_mail(struct milter_session *s)
{
	struct atsm_out_facts *f = &s->msg.facts;
	struct atsm_snapshot_view *v;
	struct atsm_bulk_mark mark;
	struct atsm_dir_user by_login, by_addr;
	struct atsm_dir dir;
	struct atsm_err err;
	char *msgid = NULL, *from = NULL;
	const struct milter_hdr *h = NULL;
	size_t i;
	int ok = 0;

	for (i = 0; i < s->msg.n_xats && h == NULL; i++)
		if (strcasecmp(s->msg.xats[i].name, ATSM_BULK_MARKER) == 0)
			h = &s->msg.xats[i];
	if (h == NULL)
		return 0;
	atsm_err_clear(&err);
	if (atsm_msgid_bare(f->hdr_message_id, &msgid) < 0 || msgid == NULL ||
	    atsm_bulk_marker_check(&s->gen->keys, h->value, msgid, &mark, &err) < 0) {
		atsm_log(LOG_WARNING, "%s: forged " ATSM_BULK_MARKER " header (%s): removed, "
		    "the mail is decided as it otherwise would be", qid_of(s),
		    msgid == NULL ? "the mail has no Message-ID" : err.msg);
		free(msgid);
		return 0;
	}
	free(msgid);
	if (f->env_from == NULL || f->env_from[0] == '\0' ||
	    atsm_addr_normalize(f->env_from, &from, NULL) < 0 || !atsmaild_core_ready() ||
	    atsm_snapshot_view_begin(atsmaild_core.snap, &v, &dir, &err) < 0) {
		atsm_log(LOG_WARNING, "%s: " ATSM_BULK_MARKER " of job %lld: cannot check the "
		    "envelope sender <%s>%s%s: treated as forged", qid_of(s), mark.job,
		    f->env_from != NULL ? f->env_from : "", err.msg[0] != '\0' ? ": " : "",
		    err.msg);
		free(from);
		return 0;
	}
	if (dir.ops->user_by_login(dir.ctx, mark.login, &by_login, &err) == 1 &&
	    dir.ops->user_by_addr(dir.ctx, from, &by_addr, &err) == 1 && by_login.active &&
	    by_login.id == by_addr.id)
		ok = 1;
	atsm_snapshot_view_end(v);
	if (!ok) {
		atsm_log(LOG_WARNING, "%s: " ATSM_BULK_MARKER " of job %lld names user %s, whose "
		    "address <%s> is not (or who is not active): treated as forged", qid_of(s),
		    mark.job, mark.login, from);
		free(from);
		return 0;
	}
	free(from);
	free(f->login);
	if ((f->login = strdup(mark.login)) == NULL) {
		s->msg.failed = true;
		return 0;
	}
	f->bulk_marked = true;
	atsm_log(LOG_INFO, "%s: bulk job %lld item %d of user %s: decided as sent mail",
	    qid_of(s), mark.job, mark.item, mark.login);
	return 1;
}

/* ---- outbound ------------------------------------------------------------------ */

/* Decide over a view of the snapshot: 0 with the plan, -1 with err. */
static int
decide(struct milter_session *s, struct atsm_out_plan *p, struct atsm_err *err)
{
	struct atsm_snapshot_view *v;
	struct atsm_dir dir;
	int rc;

	if (atsm_snapshot_view_begin(atsmaild_core.snap, &v, &dir, err) < 0)
		return -1;
	rc = atsm_out_decide(&dir, &s->gen->conf, &s->gen->keys, &s->msg.facts, ATSM_OUT_LIVE,
	    p, err);
	atsm_snapshot_view_end(v);
	return rc;
}

/* A held mail's approvers see the start of its text (020): taken from the
 * mail kept for explanations; none when it was not kept whole or has no
 * text.  Never fails the mail: a preview is a help, not a record. */
static void
held_preview(struct milter_session *s)
{
	struct atsm_err err;
	json_t *ok;
	char *t = NULL;

	if (!s->msg.keep_raw || s->msg.raw_overflow || s->msg.raw.data == NULL)
		return;
	atsm_err_clear(&err);
	if (atsm_mail_text_preview(s->msg.raw.data, s->msg.raw.len, ATSM_PREVIEW_MAX, &t,
	    &err) < 0) {
		atsm_log(LOG_WARNING, "%s: held without a preview: %s", qid_of(s), err.msg);
		return;
	}
	if (t != NULL && (ok = json_string(t)) == NULL) {
		free(t);                  /* not UTF-8 after all: no preview */
		t = NULL;
	} else if (t != NULL) {
		json_decref(ok);
	}
	free(s->msg.facts.preview);
	s->msg.facts.preview = t;
}

/* Journal the record of a RECORD/HOLD plan: 0, or -1 with err. */
static int
journal(struct milter_session *s, const struct atsm_out_plan *p, struct atsm_err *err)
{
	struct atsm_dir_effects e;
	struct atsm_arena a;
	char what[128];
	json_t *payload;
	int rc = -1;

	atsm_arena_init(&a, ARENA_MAX);
	snprintf(what, sizeof(what), "%s", qid_of(s));
	if ((payload = atsm_out_record_payload(&s->msg.facts, p, err)) != NULL &&
	    atsm_out_effects(&s->msg.facts, p, &a, &e, err) == 0)
		rc = atsmaild_record(ATSM_RECORDER_KIND_OUT, s->msg.facts.idem_key, payload, &e,
		    what, err);
	json_decref(payload);
	atsm_arena_free(&a);
	return rc;
}

/* ats+force alone leaves mail that is not ATS mail: its address goes,
 * like every command address, from the envelope and from To/Cc. */
static int
drop_force(struct milter_session *s)
{
	size_t nrcpt, nhdr;

	if (drop_command_rcpts(s, &nrcpt) < 0 || rewrite_addr_headers(s, &nhdr) < 0)
		return -1;
	atsm_log(LOG_INFO, "%s: %s+force removed: commands_removed=%zu headers_rewritten=%zu",
	    qid_of(s), s->gen->conf.command_localpart != NULL &&
	    s->gen->conf.command_localpart[0] != '\0' ? s->gen->conf.command_localpart :
	    ATSM_COMMAND_LOCALPART_DEFAULT, nrcpt, nhdr);
	return 0;
}

/* The accepted mail answers its shared mailbox thread -- held mail only
 * once it is released: its answer is recorded as pending now.  0, or the
 * reply buffer replaced by a 451 when that cannot be recorded. */
static int
answered(struct milter_session *s, const struct atsm_out_plan *p,
    const struct milter_shared *x)
{
	if ((p->verdict == ATSM_OUT_HOLD ? milter_shared_held(s, p, x) :
	    milter_shared_answered(s, p, x)) == 0)
		return 0;
	atsm_buf_reset(&s->out);
	(void)tempfail(s, "atsmail: cannot record the answer in the shared mailbox now, "
	    "try again later");
	return 1;
}

static int
run(struct milter_session *s, struct atsm_out_plan *p, struct milter_shared *x)
{
	struct atsm_err err;
	int rc;

	atsm_err_clear(&err);
	if (decide(s, p, &err) < 0) {
		atsm_log(LOG_ERR, "%s: cannot decide (mail tempfailed): %s", qid_of(s), err.msg);
		return tempfail(s, "atsmail: cannot decide about this mail now, try again later");
	}
	/* a member's reply in a shared mailbox's thread: the guard
	 * (docs/shared-mailboxes.md); a refusal or a 451 is the answer */
	if (p->verdict == ATSM_OUT_PASS || p->verdict == ATSM_OUT_RECORD ||
	    p->verdict == ATSM_OUT_HOLD) {
		if ((rc = milter_shared_check(s, p, x)) != 0)
			return rc < 0 ? -1 : 0;
		/* held mail answers its threads when it is released: answered()
		 * records them as pending (sql/021-held-shared.sql) */
	}
	switch (p->verdict) {
	case ATSM_OUT_PASS:
		atsm_log(LOG_DEBUG, "%s: not ATS mail: passed untouched", qid_of(s));
		if (s->msg.facts.bulk_marked) {
			size_t nx;

			/* the marker never leaves, whatever the verdict */
			if (delete_xats(s, NULL, &nx) < 0)
				return -1;
		}
		if (p->commands.force && drop_force(s) < 0)
			return -1;
		if (answered(s, p, x) != 0)
			return 0;
		return atsm_milter_put_simple(&s->out, ATSM_MILTER_R_CONTINUE);
	case ATSM_OUT_REJECT:
		atsm_log(LOG_INFO, "%s: reject 550 5.7.1: from=<%s>: %s", qid_of(s),
		    s->msg.facts.env_from, p->reply_text);
		if (milter_reply(s, "550", "5.7.1", p->reply_text) < 0)
			return -1;
		milter_explain(s, &p->refusal, true);
		return 0;
	case ATSM_OUT_TAKE:
		return milter_take(s, p);
	case ATSM_OUT_DECISION:
		return milter_approval(s, p);
	case ATSM_OUT_RECORD:
	case ATSM_OUT_HOLD:
		break;
	}
	/* the decision may have made the token (it normally keeps ours) */
	if (p->token[0] != '\0')
		snprintf(s->msg.facts.token, sizeof(s->msg.facts.token), "%s", p->token);
	if (p->verdict == ATSM_OUT_HOLD)
		held_preview(s);
	if (journal(s, p, &err) < 0) {
		atsm_log(LOG_ERR, "%s: cannot journal the record (mail tempfailed): %s", qid_of(s),
		    err.msg);
		return tempfail(s, "atsmail: cannot record this mail now, try again later");
	}
	if (apply_plan(s, p) < 0) {
		/* the record is journaled, the mail not accepted: the retry
		 * with the same Message-ID is recorded once (docs/journal.md) */
		atsm_buf_reset(&s->out);
		atsm_log(LOG_ERR, "%s: the actions do not fit in a reply (mail tempfailed)",
		    qid_of(s));
		return tempfail(s, "atsmail: cannot tag this mail now, try again later");
	}
	atsm_log(LOG_INFO, "%s: journaled: user=%s visibility=%s links=%zu%s%s", qid_of(s),
	    p->user_login, p->vis.name, p->n_links, p->notes[0] != '\0' ? " notes: " : "",
	    p->notes);
	if (answered(s, p, x) != 0)
		return 0;
	return atsm_milter_put_simple(&s->out, ATSM_MILTER_R_CONTINUE);
}

int
milter_eom_outbound(struct milter_session *s)
{
	struct milter_shared *shared;
	struct atsm_out_plan plan;
	struct atsm_err err;
	int rc;

	atsm_err_clear(&err);
	if (milter_msg_finish(&s->msg, &s->gen->keys, milter_queue_id(s),
	    &err) < 0) {
		atsm_log(LOG_ERR, "%s: %s", qid_of(s), err.msg);
		return tempfail(s, "atsmail: cannot take this mail now, try again later");
	}
	if (s->msg.failed) {
		atsm_log(LOG_ERR, "%s: out of memory while reading the headers", qid_of(s));
		return tempfail(s, "atsmail: cannot take this mail now, try again later");
	}
	if (s->msg.hdr_overflow || s->msg.xats_overflow) {
		/* Deciding on a cut To/Cc could show or deliver a command
		 * address: refuse rather than guess. */
		atsm_log(LOG_WARNING, "%s: headers larger than header_max_bytes (%zu): rejected",
		    qid_of(s), s->gen->conf.header_max_bytes);
		return milter_reply(s, "552", "5.3.4", "atsmail: the address headers of this mail "
		    "are too large; send it to fewer recipients");
	}
	if (own_explanation(s)) {
		atsm_log(LOG_DEBUG, "%s: atsmail's explanation mail: passed untouched", qid_of(s));
		return atsm_milter_put_simple(&s->out, ATSM_MILTER_R_CONTINUE);
	}
	if (s->msg.rcpt_refused) {
		char text[ATSM_REFUSAL_TEXT_MAX + 64];

		s->msg.rcpt_refused = false;     /* explained here, not at the end */
		snprintf(text, sizeof(text), "%s; the mail was not sent", s->msg.rcpt_refusal.text);
		atsm_log(LOG_INFO, "%s: reject 550 5.7.1: from=<%s>: %s", qid_of(s),
		    s->msg.facts.env_from, text);
		if (milter_reply(s, "550", "5.7.1", text) < 0)
			return -1;
		milter_explain(s, &s->msg.rcpt_refusal, true);
		return 0;
	}
	if (!atsmaild_core_ready()) {
		atsm_log(LOG_WARNING, "%s: the snapshot has not been loaded from the database yet: "
		    "mail tempfailed", qid_of(s));
		return tempfail(s, "atsmail: starting up, try again later");
	}
	/* sent mail without a login (sendmail, or a client of an internal
	 * network) may be the bulk runner's: its marker names the user */
	if (!s->msg.facts.bulk_marked && (s->msg.facts.login == NULL ||
	    s->msg.facts.login[0] == '\0') && !s->msg.facts.non_smtp)
		(void)bulk_runner_mail(s);
	if (s->msg.failed)
		return tempfail(s, "atsmail: cannot take this mail now, try again later");
	if ((shared = malloc(sizeof(*shared))) == NULL) {
		atsm_log(LOG_ERR, "%s: out of memory", qid_of(s));
		return tempfail(s, "atsmail: cannot take this mail now, try again later");
	}
	memset(&plan, 0, sizeof(plan));
	memset(shared, 0, sizeof(*shared));
	rc = run(s, &plan, shared);
	atsm_out_plan_free(&plan);
	free(shared);
	return rc;
}

/* "refused; ref=TOKEN" (an explanation, a bulk result) or "<kind>;
 * ref=TOKEN" (a notification, atsmaild/notify.c): the token verifies
 * under the site secret. */
static bool
genuine_marker(const struct milter_session *s, const struct milter_hdr *h)
{
	unsigned char id[ATSM_TOKEN_ID_LEN];
	const char *v;
	size_t n;

	if ((strcasecmp(h->name, ATSM_EXPLAIN_MARKER) != 0 &&
	    strcasecmp(h->name, ATSM_NOTIFY_MARKER) != 0) ||
	    (v = strstr(h->value, "ref=")) == NULL)
		return false;
	v += 4;
	n = strcspn(v, " \t;\r\n");
	return atsm_token_verify(&s->gen->keys, v, n, id) == 0;
}

/* atsmail's own explanation or notification: the null sender and a
 * genuine marker. */
static bool
own_explanation(const struct milter_session *s)
{
	size_t i;

	if (s->msg.facts.env_from == NULL || s->msg.facts.env_from[0] != '\0')
		return false;
	for (i = 0; i < s->msg.n_xats; i++)
		if (genuine_marker(s, &s->msg.xats[i]))
			return true;
	return false;
}

/* ---- inbound --------------------------------------------------------------------- */

static bool
genuine_ref(const struct milter_session *s, const struct milter_hdr *h)
{
	unsigned char id[ATSM_TOKEN_ID_LEN];
	const char *v = h->value;
	size_t n;

	if (genuine_marker(s, h))
		return true;
	if (strcasecmp(h->name, MILTER_REF_HEADER) != 0)
		return false;
	while (isspace((unsigned char)*v))
		v++;
	n = strlen(v);
	while (n > 0 && isspace((unsigned char)v[n - 1]))
		n--;
	return atsm_token_verify(&s->gen->keys, v, n, id) == 0;
}

int
milter_eom_inbound(struct milter_session *s)
{
	const char *qid = milter_queue_id(s);
	size_t n;

	if (s->msg.xats_overflow)
		return milter_reply(s, "552", "5.3.4", "too many X-ATS-* header fields");
	if (s->msg.n_xats > 0 && !s->msg.hdr_overflow && !s->msg.rcpt_overflow &&
	    !s->msg.failed && bulk_runner_mail(s) == 1) {
		/* atsmaild's bulk runner: the user's sent mail (docs/bulk.md, "SMTP-time checks") */
		s->msg.dir = ATSM_DIR_OUTBOUND;
		return milter_eom_outbound(s);
	}
	if (s->msg.n_xats > 0) {
		if (delete_xats(s, genuine_ref, &n) < 0) {
			atsm_buf_reset(&s->out);
			return tempfail(s, "atsmail: cannot check this mail now, try again later");
		}
		if (n > 0)
			atsm_log(LOG_INFO, "%s: inbound: removed %zu forged X-ATS-* header(s), "
			    "kept %zu", qid != NULL ? qid : "NOQUEUE", n,
			    s->msg.n_xats - n);
	}
	return atsm_milter_put_simple(&s->out, ATSM_MILTER_R_CONTINUE);
}
