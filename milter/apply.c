/* apply.c -- the end of a message: ask lib/ what to do, do it through
 * libmilter, record it, and apply the failure policy.
 *
 * Interface: milter_eom_outbound, milter_eom_inbound, milter_setreply
 * (milter.h).
 *
 * Outbound, in this order: finish the facts (queue id, body hash, token,
 * idempotency key), borrow a database connection (waiting at most
 * db_statement_timeout), atsm_out_plan(LIVE), then by verdict:
 *	PASS     nothing at all: not ATS mail is neither changed nor recorded;
 *	REJECT   550 5.7.1 with the plan's sentence;
 *	RECORD   remove the command addresses from the envelope and from
 *	HOLD     To/Cc, replace any X-ATS-* header by our X-ATS-Ref, stamp
 *	         the VERP sender when the plan says so, quarantine (HOLD),
 *	         then atsm_out_record() -- after the actions, so that what is
 *	         recorded is what leaves.
 * When the database is unavailable (no connection in time, or the class of
 * the plan's or record's error is UNAVAILABLE) on_db_failure decides: "tempfail" answers
 * 451 4.3.0; "accept" journals the facts for `atsmailctl replay` and lets
 * the mail go, with the command addresses still removed (they must never
 * be delivered).  Then the mail is tagged with X-ATS-Ref only when it
 * carries a command address -- the one sign, without the database, that
 * it is ATS mail; other mail stays untouched, and a reply to it is still
 * matched later through its Message-ID.  A database error that is not an
 * outage (a bug, a constraint) is logged with the queue id, journaled
 * the same way, and the mail accepted.  If even the journal cannot be
 * written the mail is tempfailed: nothing is lost silently.
 *
 * Inbound: every X-ATS-* header is removed except an X-ATS-Ref whose
 * token verifies under the site secret.
 */
#include "milter.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "rules/command.h"
#include "base/log.h"

#define REPLY_MAX 1024

static const char *
qid_of(const struct milter_ctx *m)
{
	return m->facts.queue_id != NULL && *m->facts.queue_id != '\0' ?
	    m->facts.queue_id : "NOQUEUE";
}

int
milter_setreply(SMFICTX *ctx, const char *rcode, const char *xcode, const char *text)
{
	char buf[REPLY_MAX];
	size_t o = 0;

	/* libmilter drops a text with a lone '%' and fails on CR/LF. */
	for (; text != NULL && *text != '\0' && o + 3 < sizeof(buf); text++) {
		unsigned char c = (unsigned char)*text;

		if (c == '%')
			buf[o++] = '%';
		buf[o++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	buf[o] = '\0';
	return smfi_setreply(ctx, (char *)rcode, (char *)xcode, buf) == MI_SUCCESS ? 0 : -1;
}

/* ---- actions ------------------------------------------------------------- */

struct cmd_pred {
	const struct atsm_conf *conf;
};

static bool
is_command(const char *addr, void *arg)
{
	const struct cmd_pred *p = arg;

	return atsm_command_is_address(addr, p->conf->command_localpart, p->conf->ats_domain);
}

/* Remove every command address from the envelope; count them. */
static int
drop_command_rcpts(SMFICTX *ctx, struct milter_ctx *m, size_t *ndropped)
{
	const struct atsm_conf *c = &m->gen->conf;
	size_t i;

	*ndropped = 0;
	for (i = 0; i < m->facts.n_env_rcpts; i++) {
		if (!atsm_command_is_address(m->facts.env_rcpts[i], c->command_localpart, c->ats_domain))
			continue;
		if (smfi_delrcpt(ctx, m->env_raw[i]) != MI_SUCCESS) {
			atsm_log(LOG_ERR, "%s: cannot remove recipient %s", qid_of(m), m->env_raw[i]);
			return -1;
		}
		(*ndropped)++;
	}
	return 0;
}

/* To/Cc without the command addresses; a header left empty is deleted. */
static int
rewrite_addr_headers(SMFICTX *ctx, struct milter_ctx *m, size_t *nheaders)
{
	struct cmd_pred pred = { &m->gen->conf };
	size_t i;

	*nheaders = 0;
	for (i = 0; i < m->n_addr_hdrs; i++) {
		const struct milter_hdr *h = &m->addr_hdrs[i];
		char *nv = NULL;
		int rc = milter_hdr_without(h->value, is_command, &pred, &nv);

		if (rc < 0)
			return -1;
		if (rc == 0)
			continue;
		rc = smfi_chgheader(ctx, h->name, h->index, *nv != '\0' ? nv : NULL);
		free(nv);
		if (rc != MI_SUCCESS) {
			atsm_log(LOG_ERR, "%s: cannot rewrite header %s", qid_of(m), h->name);
			return -1;
		}
		(*nheaders)++;
	}
	return 0;
}

/* Delete X-ATS-* headers for which keep() is false.  Deleting shifts the
 * index of later headers of the same name in Postfix, so go from the last
 * one to the first. */
static int
delete_xats(SMFICTX *ctx, struct milter_ctx *m,
    bool (*keep)(const struct milter_ctx *, const struct milter_hdr *), size_t *ndeleted)
{
	size_t i;

	*ndeleted = 0;
	for (i = m->n_xats; i-- > 0;) {
		const struct milter_hdr *h = &m->xats[i];

		if (keep != NULL && keep(m, h))
			continue;
		if (smfi_chgheader(ctx, h->name, h->index, NULL) != MI_SUCCESS) {
			atsm_log(LOG_ERR, "%s: cannot remove header %s", qid_of(m), h->name);
			return -1;
		}
		(*ndeleted)++;
	}
	return 0;
}

static int
tag(SMFICTX *ctx, struct milter_ctx *m)
{
	size_t n;

	if (delete_xats(ctx, m, NULL, &n) < 0)
		return -1;
	if (smfi_addheader(ctx, MILTER_REF_HEADER, m->facts.token) != MI_SUCCESS) {
		atsm_log(LOG_ERR, "%s: cannot add %s", qid_of(m), MILTER_REF_HEADER);
		return -1;
	}
	return 0;
}

static int
apply_plan(SMFICTX *ctx, struct milter_ctx *m, const struct atsm_out_plan *p)
{
	size_t nrcpt, nhdr;
	char from[sizeof(p->verp_sender) + 2];

	/* the plan may have made the token (it normally keeps ours) */
	if (p->token[0] != '\0')
		snprintf(m->facts.token, sizeof(m->facts.token), "%s", p->token);
	if (drop_command_rcpts(ctx, m, &nrcpt) < 0 || rewrite_addr_headers(ctx, m, &nhdr) < 0 ||
	    tag(ctx, m) < 0)
		return -1;
	if (p->verp_sender[0] != '\0') {
		snprintf(from, sizeof(from), "<%s>", p->verp_sender);
		if (smfi_chgfrom(ctx, from, NULL) != MI_SUCCESS) {
			atsm_log(LOG_ERR, "%s: cannot change the envelope sender", qid_of(m));
			return -1;
		}
	}
	if (p->verdict == ATSM_OUT_HOLD &&
	    smfi_quarantine(ctx, (char *)(p->reply_text[0] != '\0' ? p->reply_text :
	    "atsmail: held for review")) != MI_SUCCESS) {
		atsm_log(LOG_ERR, "%s: cannot put the mail on hold", qid_of(m));
		return -1;
	}
	atsm_log(LOG_INFO, "%s: %s: token=%s commands_removed=%zu headers_rewritten=%zu%s%s",
	    qid_of(m), p->verdict == ATSM_OUT_HOLD ? "hold" : "tag", m->facts.token, nrcpt, nhdr,
	    p->verp_sender[0] != '\0' ? " verp_sender=" : "", p->verp_sender);
	return 0;
}

/* ---- failure policy --------------------------------------------------------- */

static sfsistat
tempfail(SMFICTX *ctx)
{
	milter_setreply(ctx, "451", "4.3.0", "atsmail: records database unavailable, try again later");
	return SMFIS_TEMPFAIL;
}

static int
journal_facts(struct milter_ctx *m)
{
	struct atsm_err err;
	json_t *j = atsm_out_facts_to_json(&m->facts);
	int rc;

	if (j == NULL) {
		atsm_log(LOG_ERR, "%s: cannot put the facts of the mail into JSON", qid_of(m));
		return -1;
	}
	rc = atsm_journal_append(m->gen->journal, MILTER_JOURNAL_KIND, m->facts.idem_key, j, &err);
	json_decref(j);
	if (rc < 0) {
		atsm_log(LOG_ERR, "%s: journal: %s", qid_of(m), err.msg);
		return -1;
	}
	atsm_log(LOG_INFO, "%s: journaled for replay (key %s) in %s", qid_of(m),
	    m->facts.idem_key, atsm_journal_path(m->gen->journal));
	return 0;
}

/* No plan: the database is down (accept policy) or failed. */
static sfsistat
without_plan(SMFICTX *ctx, struct milter_ctx *m)
{
	size_t nrcpt, nhdr;

	if (drop_command_rcpts(ctx, m, &nrcpt) < 0 || rewrite_addr_headers(ctx, m, &nhdr) < 0)
		return tempfail(ctx);
	if (nrcpt > 0 || nhdr > 0) {
		if (tag(ctx, m) < 0)
			return tempfail(ctx);
	} else {
		/* untagged: the record must not claim a token no mail carries */
		m->facts.token[0] = '\0';
	}
	if (journal_facts(m) < 0)
		return tempfail(ctx);
	return SMFIS_CONTINUE;
}

static sfsistat
db_failed(SMFICTX *ctx, struct milter_ctx *m, const char *stage, const struct atsm_err *err)
{
	if (err->cls != ATSM_ERR_UNAVAILABLE) {
		atsm_log(LOG_ERR, "%s: database error in %s (journaled, mail accepted): %s",
		    qid_of(m), stage, err->msg);
		return without_plan(ctx, m);
	}
	if (m->gen->conf.on_db_failure == ATSM_ON_DB_TEMPFAIL) {
		atsm_log(LOG_WARNING, "%s: database unavailable in %s, mail tempfailed "
		    "(on_db_failure = tempfail): %s", qid_of(m), stage, err->msg);
		return tempfail(ctx);
	}
	atsm_log(LOG_WARNING, "%s: database unavailable in %s, mail accepted and "
	    "journaled (on_db_failure = accept): %s", qid_of(m), stage, err->msg);
	return without_plan(ctx, m);
}

/* ---- outbound ------------------------------------------------------------------ */

static sfsistat
run_plan(SMFICTX *ctx, struct milter_ctx *m, PGconn *conn, struct atsm_out_plan *p)
{
	struct milter_gen *g = m->gen;
	struct atsm_err err;
	int rc;

	atsm_err_clear(&err);
	if (atsm_out_plan(conn, &g->conf, &g->keys, &m->facts, ATSM_OUT_LIVE, p, &err) < 0) {
		atsm_db_release(g->pool, conn);
		return db_failed(ctx, m, "plan", &err);
	}
	switch (p->verdict) {
	case ATSM_OUT_PASS:
		atsm_db_release(g->pool, conn);
		atsm_log(LOG_DEBUG, "%s: not ATS mail: passed untouched", qid_of(m));
		return SMFIS_CONTINUE;
	case ATSM_OUT_REJECT:
		atsm_db_release(g->pool, conn);
		atsm_log(LOG_INFO, "%s: reject 550 5.7.1: from=<%s>: %s", qid_of(m),
		    m->facts.env_from, p->reply_text);
		milter_setreply(ctx, "550", "5.7.1", p->reply_text);
		return SMFIS_REJECT;
	case ATSM_OUT_RECORD:
	case ATSM_OUT_HOLD:
		break;
	}
	if (apply_plan(ctx, m, p) < 0) {
		atsm_db_release(g->pool, conn);
		return tempfail(ctx);
	}
	rc = atsm_out_record(conn, &m->facts, p, &err);
	atsm_db_release(g->pool, conn);
	if (rc < 0) {
		bool down = err.cls == ATSM_ERR_UNAVAILABLE;

		if (down && g->conf.on_db_failure == ATSM_ON_DB_TEMPFAIL) {
			atsm_log(LOG_WARNING, "%s: database unavailable in record, mail tempfailed "
			    "(on_db_failure = tempfail): %s", qid_of(m), err.msg);
			return tempfail(ctx);
		}
		atsm_log(down ? LOG_WARNING : LOG_ERR, "%s: recording failed (%s), journaled: %s",
		    qid_of(m), down ? "database unavailable" : "database error", err.msg);
		/* The actions are applied already; the same idempotency key
		 * makes a replay count once even if the commit did happen. */
		return journal_facts(m) < 0 ? tempfail(ctx) : SMFIS_CONTINUE;
	}
	atsm_log(LOG_INFO, "%s: %s: user=%s visibility=%s links=%zu", qid_of(m),
	    rc == 1 ? "already recorded" : "recorded", p->user_login, p->visibility, p->n_links);
	return SMFIS_CONTINUE;
}

sfsistat
milter_eom_outbound(SMFICTX *ctx, struct milter_ctx *m)
{
	struct milter_gen *g = m->gen;
	struct atsm_out_plan plan;
	struct atsm_err err;
	PGconn *conn;
	sfsistat r;

	atsm_err_clear(&err);
	if (milter_ctx_finish_facts(m, smfi_getsymval(ctx, "i"), &err) < 0) {
		atsm_log(LOG_ERR, "%s: %s", qid_of(m), err.msg);
		return tempfail(ctx);
	}
	if (m->hdr_overflow || m->xats_overflow) {
		/* Deciding on a cut To/Cc could show or deliver a command
		 * address: refuse rather than guess. */
		atsm_log(LOG_WARNING, "%s: headers larger than header_max_bytes (%zu): rejected",
		    qid_of(m), g->conf.header_max_bytes);
		milter_setreply(ctx, "552", "5.3.4", "atsmail: the address headers of this mail "
		    "are too large; send it to fewer recipients");
		return SMFIS_REJECT;
	}
	conn = atsm_db_acquire(g->pool, g->conf.db_statement_timeout, &err);
	if (conn == NULL)
		return db_failed(ctx, m, "connect", &err);
	memset(&plan, 0, sizeof(plan));
	r = run_plan(ctx, m, conn, &plan);
	atsm_out_plan_free(&plan);
	return r;
}

/* ---- inbound --------------------------------------------------------------------- */

static bool
genuine_ref(const struct milter_ctx *m, const struct milter_hdr *h)
{
	unsigned char id[ATSM_TOKEN_ID_LEN];
	const char *v = h->value;
	size_t n;

	if (strcasecmp(h->name, MILTER_REF_HEADER) != 0)
		return false;
	while (isspace((unsigned char)*v))
		v++;
	n = strlen(v);
	while (n > 0 && isspace((unsigned char)v[n - 1]))
		n--;
	return atsm_token_verify(&m->gen->keys, v, n, id) == 0;
}

sfsistat
milter_eom_inbound(SMFICTX *ctx, struct milter_ctx *m)
{
	size_t n;
	const char *qid = smfi_getsymval(ctx, "i");

	if (m->xats_overflow) {
		milter_setreply(ctx, "552", "5.3.4", "too many X-ATS-* header fields");
		return SMFIS_REJECT;
	}
	if (m->n_xats == 0)
		return SMFIS_CONTINUE;
	if (delete_xats(ctx, m, genuine_ref, &n) < 0)
		return SMFIS_TEMPFAIL;
	if (n > 0)
		atsm_log(LOG_INFO, "%s: inbound: removed %zu forged X-ATS-* header(s), kept %zu",
		    qid != NULL && *qid != '\0' ? qid : "NOQUEUE", n, m->n_xats - n);
	return SMFIS_CONTINUE;
}
