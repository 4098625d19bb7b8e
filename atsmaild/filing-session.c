/* filing-session.c -- one Dovecot connection on the filing socket: a
 * request per mail that reached a mailbox, an answer each
 * (lib/service/filing.h, docs/filing-protocol.md).
 *
 * Interface: atsmaild_filing_session (atsmaild.h).
 *
 * For each request: the facts of the mail (lib/inbound/facts: the head the
 * plugin sent is parsed here, in the service, not in Dovecot's process);
 * the decision over a view of the snapshot (atsm_in_decide); a mail to
 * file is journaled (atsmaild_record) before the answer; the answer names
 * the IMAP keywords the plugin sets.  TEMPFAIL when the mail cannot be
 * decided or journaled: the plugin then fails the delivery with a
 * temporary error and Postfix retries; the retry is the same mail with the
 * same idempotency key, so it is recorded once (a mail that could not be
 * read for want of memory is such a failure too; one that cannot be read
 * as mail at all is answered OK, not filed).  A malformed request gets
 * ERROR and the connection is closed (the plugin reconnects).
 * A mail delivered to a shared mailbox is also recorded as a shared item
 * and answered with its status folder; a member's move into a folder of
 * a shared mailbox (how move) is recorded (shared.c).  Neither changes
 * whether the mail is accepted.
 */
#include "atsm-build-config.h"
#include "atsmaild.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/log.h"
#include "inbound/decide.h"
#include "inbound/facts.h"
#include "inbound/record.h"
#include "service/filing.h"
#include "shared/shared.h"
#include "store/recorder.h"

#define READ_CHUNK (64u * 1024u)
#define ANSWER_MAX (16u * 1024u)
#define ARENA_MAX (16u * 1024u * 1024u)
/* The most of a message a request may carry: the largest
 * inbound_parse_max_bytes.  What is read of it is bounded by the setting
 * in force (atsm_in_facts_from_message), so a plugin whose
 * atsmail_head_max is larger than the service's setting is not refused. */
#define HEAD_MAX (64u * 1024u * 1024u)

static void
say(struct atsm_filing_answer *a, enum atsm_filing_status st, const char *result,
    const char *fmt, ...) ATSM_PRINTF(4, 5);
static void
say(struct atsm_filing_answer *a, enum atsm_filing_status st, const char *result,
    const char *fmt, ...)
{
	va_list ap;

	a->status = st;
	snprintf(a->result, sizeof(a->result), "%s", result);
	va_start(ap, fmt);
	vsnprintf(a->text, sizeof(a->text), fmt, ap);
	va_end(ap);
}

static char *
dup_or_null(const char *s)
{
	return s == NULL ? NULL : strdup(s);
}

static const char *
mid_of(const struct atsm_in_facts *f)
{
	return f->hdr_message_id != NULL ? f->hdr_message_id : "(no Message-ID)";
}

static int
facts_build(const struct atsm_conf *conf, const struct atsm_filing_request *r,
    struct atsm_in_facts *f, struct atsm_err *err)
{
	f->how = r->append ? ATSM_IN_APPEND : ATSM_IN_DELIVERY;
	f->mailbox_user = dup_or_null(r->user);
	f->mailbox = dup_or_null(r->mailbox);
	f->env_from = dup_or_null(r->env_from);
	f->env_to = dup_or_null(r->env_to);
	f->imap_uid = r->uid;
	f->received_at = r->received_at;
	f->size = (size_t)r->size;
	snprintf(f->body_sha256, sizeof(f->body_sha256), "%s", r->sha256);
	if (f->mailbox_user == NULL || f->mailbox == NULL ||
	    (r->env_from != NULL && f->env_from == NULL) ||
	    (r->env_to != NULL && f->env_to == NULL))
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "out of memory");
	/* only the head reached us: the size and hash are the plugin's */
	if (atsm_in_facts_from_message(f, (const char *)r->head, r->head_len, conf, err) < 0)
		return -1;
	if (f->idem_key[0] == '\0' && atsm_in_facts_make_key(f) < 0)
		return atsm_err_set(err, "no Message-ID and no body hash to key it by");
	return 0;
}

static int
decide(const struct atsmaild_gen *g, const struct atsm_in_facts *f, struct atsm_in_plan *p,
    struct atsm_err *err)
{
	struct atsm_snapshot_view *v;
	struct atsm_dir dir;
	int rc;

	if (atsm_snapshot_view_begin(atsmaild_core.snap, &v, &dir, err) < 0)
		return -1;
	rc = atsm_in_decide(&dir, &g->conf, &g->keys, f, ATSM_IN_LIVE, p, err);
	atsm_snapshot_view_end(v);
	return rc;
}

static int
journal(const struct atsm_in_facts *f, const struct atsm_in_plan *p, struct atsm_err *err)
{
	struct atsm_dir_effects e;
	struct atsm_arena a;
	json_t *payload;
	int rc = -1;

	atsm_arena_init(&a, ARENA_MAX);
	if ((payload = atsm_in_record_payload(f, p, err)) != NULL &&
	    atsm_in_effects(f, p, &a, &e, err) == 0)
		rc = atsmaild_record(ATSM_RECORDER_KIND_IN, f->idem_key, payload, &e, mid_of(f),
		    err);
	json_decref(payload);
	atsm_arena_free(&a);
	return rc;
}

static void
take_keywords(const struct atsm_in_plan *p, struct atsm_filing_answer *a)
{
	size_t i;

	a->n_keywords = 0;
	for (i = 0; i < ATSM_FILING_KEYWORDS_MAX && p->keywords[i] != NULL; i++)
		if (strlen(p->keywords[i]) < ATSM_FILING_KEYWORD_MAX)
			snprintf(a->keywords[a->n_keywords++], ATSM_FILING_KEYWORD_MAX, "%s",
			    p->keywords[i]);
}

/* A delivery to a shared mailbox: the item and the folder it goes to, its
 * note added to the answer's text.  Nothing here fails the delivery. */
static void
shared_delivery(const struct atsmaild_gen *g, const struct atsm_in_facts *f,
    struct atsm_filing_answer *a)
{
	char note[512];
	size_t len;

	if (f->how != ATSM_IN_DELIVERY || strcmp(f->mailbox, "INBOX") != 0 ||
	    !atsm_shared_is_mailbox(&g->conf, f->mailbox_user))
		return;
	if (atsmaild_shared_deliver(&g->conf, f, a->folder, sizeof(a->folder), note,
	    sizeof(note)) < 0)
		atsm_log(LOG_ERR, "%s: shared mailbox %s: %s; the mail stays in INBOX",
		    mid_of(f), f->mailbox_user, note);
	else
		atsm_log(LOG_INFO, "%s: shared mailbox %s: %s, filed in %s", mid_of(f),
		    f->mailbox_user, note, a->folder);
	len = strlen(a->text);
	snprintf(a->text + len, sizeof(a->text) - len, "; %s", note);
}

/* File one mail; a is the answer to send. */
static void
file(const struct atsm_filing_request *r, struct atsm_filing_answer *a)
{
	struct atsmaild_gen *g = atsmaild_gen_acquire();
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	struct atsm_err err;

	memset(a, 0, sizeof(*a));
	memset(&p, 0, sizeof(p));
	atsm_err_clear(&err);
	atsm_in_facts_init(&f);
	if (g == NULL) {
		say(a, ATSM_FILING_TEMPFAIL, "stopping", "atsmaild is stopping");
		goto out;
	}
	if (r->move) {
		atsmaild_shared_move(&g->conf, r, a);
		goto out;
	}
	if (facts_build(&g->conf, r, &f, &err) < 0) {
		/* out of memory: it may be ATS mail, and a mail is never
		 * accepted unrecorded -- Postfix retries it */
		if (err.cls != ATSM_ERR_INPUT) {
			say(a, ATSM_FILING_TEMPFAIL, "error", "%s: cannot read it now: %s",
			    mid_of(&f), err.msg);
			atsm_log(LOG_ERR, "%s (delivery tempfailed)", a->text);
			goto out;
		}
		/* the message cannot be read as mail: it is not ATS mail to us,
		 * and refusing it would only hold up the delivery */
		say(a, ATSM_FILING_OK, "ignored", "%s: not filed: the message cannot be read: %s",
		    mid_of(&f), err.msg);
		atsm_log(LOG_WARNING, "%s", a->text);
		goto out;
	}
	if (!atsmaild_core_ready()) {
		say(a, ATSM_FILING_TEMPFAIL, "not-ready", "%s: atsmaild has not loaded its "
		    "snapshot from the database yet", mid_of(&f));
		atsm_log(LOG_WARNING, "%s: tempfailed", a->text);
		goto out;
	}
	if (decide(g, &f, &p, &err) < 0) {
		say(a, ATSM_FILING_TEMPFAIL, "error", "%s: cannot decide: %s", mid_of(&f), err.msg);
		atsm_log(LOG_ERR, "%s (delivery tempfailed)", a->text);
		goto out;
	}
	if (p.verdict == ATSM_IN_IGNORE) {
		say(a, ATSM_FILING_OK, "ignored", "%s: not ATS mail (%s)", mid_of(&f), p.notes);
		atsm_log(LOG_DEBUG, "%s", a->text);
		shared_delivery(g, &f, a);
		goto out;
	}
	if (journal(&f, &p, &err) < 0) {
		say(a, ATSM_FILING_TEMPFAIL, "error", "%s: cannot journal it: %s", mid_of(&f),
		    err.msg);
		atsm_log(LOG_ERR, "%s (delivery tempfailed)", a->text);
		goto out;
	}
	take_keywords(&p, a);
	say(a, ATSM_FILING_OK, "filed", "%s: %s for %s/%s, key %s (%s)", mid_of(&f),
	    atsm_in_verdict_name(p.verdict), f.mailbox_user, f.mailbox, f.idem_key, p.notes);
	atsm_log(LOG_INFO, "%s", a->text);
	shared_delivery(g, &f, a);
out:
	atsm_in_plan_free(&p);
	atsm_in_facts_free(&f);
	atsmaild_gen_release(g);
}

static int
answer(struct atsmaild_conn *c, const struct atsm_filing_answer *a)
{
	struct atsm_buf b;
	int rc;

	atsm_buf_init(&b, ANSWER_MAX);
	rc = atsm_filing_answer_encode(a, &b, NULL) == 0 ? atsmaild_write(c, b.data, b.len) : -1;
	atsm_buf_free(&b);
	return rc;
}

void
atsmaild_filing_session(struct atsmaild_conn *c)
{
	struct atsm_filing_parser *parser;
	struct atsm_filing_answer a;
	unsigned char *buf;
	size_t have = 0;

	parser = atsm_filing_parser_new(HEAD_MAX);
	buf = malloc(READ_CHUNK);
	if (parser == NULL || buf == NULL)
		goto out;
	c->idle = true;
	for (;;) {
		struct atsm_err err;
		size_t off = 0;
		ssize_t n;

		while (off < have) {
			long k = atsm_filing_request_feed(parser, buf + off, have - off, &err);

			if (k < 0) {
				memset(&a, 0, sizeof(a));
				say(&a, ATSM_FILING_ERROR, "error", "malformed request: %s", err.msg);
				atsm_log(LOG_ERR, "filing connection %lu (pid %ld): %s", c->id,
				    (long)c->pid, a.text);
				(void)answer(c, &a);
				goto out;
			}
			off += (size_t)k;
			c->idle = false;
			if (!atsm_filing_request_done(parser))
				continue;
			file(atsm_filing_request_get(parser), &a);
			atsm_filing_parser_reset(parser);
			if (answer(c, &a) < 0)
				goto out;
			c->idle = true;
			if (atsmaild_stopping())
				goto out;
		}
		have = 0;
		if ((n = atsmaild_read(c, buf, READ_CHUNK)) <= 0)
			break;
		have = (size_t)n;
	}
out:
	atsm_filing_parser_free(parser);
	free(buf);
}
