/* atsmail-file.c -- file one delivered or appended mail through lib/:
 * facts, plan, record; the journal when the database cannot take it.
 *
 * Interface: atsmail_file (atsmail-core.h).
 *
 * Nothing here fails the delivery: every path ends in an outcome that
 * the Dovecot side logs.  The database is asked once for a connection
 * (waiting at most db_statement_timeout for it, db_connect_timeout to
 * open it); when it is unavailable, or refuses the statements, the facts
 * go to the journal (kind "inbound.message") and `atsmailctl replay`
 * files them later through the same functions, exactly once by the
 * facts' idempotency key.  Keywords are only set for what is recorded:
 * a journaled mail shows none, since its filing is not known yet.
 */
#include "atsmail-core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "store/db.h"
#include "base/err.h"
#include "inbound/inbound.h"
#include "store/journal.h"
#include "atsmail-site.h"

_Static_assert(ATSMAIL_KW_MAX == ATSM_IN_MAX_KEYWORDS,
    "atsmail-core.h and inbound/inbound.h disagree on the number of keywords");

static void
say(struct atsmail_outcome *out, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(struct atsmail_outcome *out, int level, const char *fmt, ...)
{
	va_list ap;

	out->level = level;
	va_start(ap, fmt);
	vsnprintf(out->text, sizeof(out->text), fmt, ap);
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
facts_build(struct atsmail_site *s, const struct atsmail_mail *m, struct atsm_in_facts *f,
    struct atsm_err *err)
{
	f->how = m->append ? ATSM_IN_APPEND : ATSM_IN_DELIVERY;
	f->mailbox_user = dup_or_null(m->user);
	f->mailbox = dup_or_null(m->mailbox);
	f->env_from = dup_or_null(m->env_from);
	f->env_to = dup_or_null(m->env_to);
	f->received_at = m->received_at;
	f->size = m->size;
	snprintf(f->body_sha256, sizeof(f->body_sha256), "%s",
	    m->sha256_hex != NULL ? m->sha256_hex : "");
	if ((m->user != NULL && f->mailbox_user == NULL) ||
	    (m->mailbox != NULL && f->mailbox == NULL) ||
	    (m->env_from != NULL && f->env_from == NULL) ||
	    (m->env_to != NULL && f->env_to == NULL)) {
		atsm_err_set(err, "out of memory");
		return -1;
	}
	/* lib/ keeps what is set here: only the first inbound_parse_max_bytes
	 * reach it, so the size and hash of the whole message are ours. */
	if (atsm_in_facts_from_message(f, m->head, m->head_len, &s->conf, err) < 0)
		return -1;
	if (f->idem_key[0] == '\0' && atsm_in_facts_make_key(f) < 0)
		return atsm_err_set(err, "no Message-ID and no body hash to key it by");
	return 0;
}

static void
journal(struct atsmail_site *s, const struct atsm_in_facts *f, const char *why,
    struct atsmail_outcome *out)
{
	struct atsm_err err;
	json_t *j;
	int rc;

	atsm_err_clear(&err);
	if (s->journal == NULL)
		s->journal = atsm_journal_open(s->conf.journal_dir, ATSMAIL_JOURNAL_COMPONENT, &err);
	if (s->journal == NULL) {
		out->result = ATSMAIL_FAILED;
		say(out, 2, "%s: %s; journal_dir = %s: %s: the filing of this mail is lost "
		    "(the mail itself is delivered)", mid_of(f), why, s->conf.journal_dir, err.msg);
		return;
	}
	if ((j = atsm_in_facts_to_json(f)) == NULL) {
		out->result = ATSMAIL_FAILED;
		say(out, 2, "%s: %s; its facts cannot be written as JSON (out of memory)",
		    mid_of(f), why);
		return;
	}
	rc = atsm_journal_append(s->journal, ATSMAIL_JOURNAL_KIND, f->idem_key, j, &err);
	json_decref(j);
	if (rc < 0) {
		out->result = ATSMAIL_FAILED;
		say(out, 2, "%s: %s; journal %s: %s: the filing of this mail is lost "
		    "(the mail itself is delivered)", mid_of(f), why,
		    atsm_journal_path(s->journal), err.msg);
		return;
	}
	out->result = ATSMAIL_JOURNALED;
	say(out, 1, "%s: %s; journaled for `atsmailctl replay` (key %s) in %s", mid_of(f),
	    why, f->idem_key, atsm_journal_path(s->journal));
}

/* "resume:1001/in_reply_to resume:1002/sender_address*" (* = ambiguous) */
static void
describe(const struct atsm_in_plan *p, const struct atsmail_outcome *out, char *buf, size_t len)
{
	struct atsm_buf b;
	size_t i;

	atsm_buf_init(&b, len > 0 ? len - 1 : 0);
	(void)atsm_buf_printf(&b, "verdict=%s", atsm_in_verdict_name(p->verdict));
	for (i = 0; i < p->n_links; i++)
		(void)atsm_buf_printf(&b, "%s%s:%lld/%s%s", i == 0 ? " links=" : ",",
		    p->links[i].kind, p->links[i].id, p->links[i].rule,
		    p->links[i].ambiguous ? "*" : "");
	for (i = 0; i < p->n_phases; i++)
		(void)atsm_buf_printf(&b, "%s%s:%lld:%s->%s", i == 0 ? " phases=" : ",",
		    p->phases[i].kind, p->phases[i].record_id, p->phases[i].from_phase,
		    p->phases[i].to_phase);
	if (p->visibility[0] != '\0')
		(void)atsm_buf_printf(&b, " visibility=%s", p->visibility);
	for (i = 0; i < out->n_keywords; i++)
		(void)atsm_buf_printf(&b, "%s%s", i == 0 ? " keywords=" : " ", out->keywords[i]);
	if (p->notes[0] != '\0')
		(void)atsm_buf_printf(&b, " (%s)", p->notes);
	snprintf(buf, len, "%s", atsm_buf_str(&b));
	atsm_buf_free(&b);
}

static void
take_keywords(const struct atsm_in_plan *p, struct atsmail_outcome *out)
{
	size_t i;

	out->n_keywords = 0;
	for (i = 0; i < ATSM_IN_MAX_KEYWORDS && p->keywords[i] != NULL; i++) {
		if (strlen(p->keywords[i]) >= ATSMAIL_KW_LEN)
			continue;
		snprintf(out->keywords[out->n_keywords++], ATSMAIL_KW_LEN, "%s", p->keywords[i]);
	}
}

/* Plan and record on conn: 0 done (out filled), -1 with *why when the
 * facts must be journaled. */
static int
plan_and_record(struct atsmail_site *s, PGconn *conn, const struct atsm_in_facts *f,
    struct atsmail_outcome *out, char *why, size_t whylen)
{
	struct atsm_in_plan p;
	struct atsm_err err;
	char desc[ATSMAIL_TEXT_MAX / 2];
	int rc;

	atsm_err_clear(&err);
	memset(&p, 0, sizeof(p));
	if (atsm_in_plan(conn, &s->conf, &s->keys, f, ATSM_IN_LIVE, &p, &err) < 0) {
		snprintf(why, whylen, "%s while planning: %s", err.cls == ATSM_ERR_UNAVAILABLE ?
		    "database unavailable" : "database error", err.msg);
		atsm_in_plan_free(&p);
		return -1;
	}
	if (p.verdict == ATSM_IN_IGNORE) {
		out->result = ATSMAIL_IGNORED;
		describe(&p, out, desc, sizeof(desc));
		say(out, 0, "%s: not ATS mail: %s", mid_of(f), desc);
		atsm_in_plan_free(&p);
		return 0;
	}
	rc = atsm_in_record(conn, f, &p, &err);
	if (rc < 0) {
		snprintf(why, whylen, "%s while recording: %s", err.cls == ATSM_ERR_UNAVAILABLE ?
		    "database unavailable" : "database error", err.msg);
		atsm_in_plan_free(&p);
		return -1;
	}
	take_keywords(&p, out);
	out->result = rc == 0 ? ATSMAIL_RECORDED : ATSMAIL_DUPLICATE;
	describe(&p, out, desc, sizeof(desc));
	say(out, 0, "%s: %s %s", mid_of(f), rc == 0 ? "filed" : "already filed", desc);
	atsm_in_plan_free(&p);
	return 0;
}

void
atsmail_file(struct atsmail_site *s, const struct atsmail_mail *m, struct atsmail_outcome *out)
{
	struct atsm_in_facts f;
	struct atsm_err err;
	char why[ATSM_ERR_MAX + 64];
	PGconn *conn;

	memset(out, 0, sizeof(*out));
	atsm_err_clear(&err);
	atsm_in_facts_init(&f);
	if (facts_build(s, m, &f, &err) < 0) {
		out->result = ATSMAIL_FAILED;
		say(out, 1, "%s: not filed: the message cannot be read: %s", mid_of(&f), err.msg);
		atsm_in_facts_free(&f);
		return;
	}
	conn = atsm_db_acquire(s->pool, s->conf.db_statement_timeout, &err);
	if (conn == NULL) {
		snprintf(why, sizeof(why), "database unavailable: %s", err.msg);
		journal(s, &f, why, out);
	} else {
		if (plan_and_record(s, conn, &f, out, why, sizeof(why)) < 0)
			journal(s, &f, why, out);
		atsm_db_release(s->pool, conn);
	}
	atsm_in_facts_free(&f);
}
