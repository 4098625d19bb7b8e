/* inbound/decide-bounce.c -- step 3 of the inbound decision (see
 * decide.c): whether a bounce is believed, and the sent item it is about,
 * strongest evidence first:
 *
 *	verp         the VERP token of the envelope recipient, or of the
 *	             original's envelope sender the bounce quotes
 *	token        the original's X-ATS-Ref
 *	references   the original's Message-ID, among sent messages
 *
 * A bounce is believed only when it comes from the null envelope sender
 * (a mailer-daemon's; or from an address of the bounce_forwarders
 * setting), and only for the failed recipients the sent item really went
 * to (its participants); when the VERP stamp names its recipient (format
 * 2, docs/tokens.md), only for that one.  Anyone can write a well-formed
 * report to a VERP address they saw in a Return-Path: without this a
 * stranger, or one recipient of a mail, could mark another bounced.
 *
 * A believed bounce is filed on the sent item's records -- of a mail to
 * several people, on the records of the failed recipients only, so the
 * bounce rules move none of the others.  A bounce of no recorded sent
 * item, or one not believed, is ignored with a note (there is nothing to
 * mark, and filing a mailer-daemon's text on a record by its sender
 * address would be wrong).
 */
#include "inbound/decide-ctx.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/addr.h"
#include "mail/msgid.h"
#include "rules/verp.h"

/* The sent item by the original's Message-ID: 1 found, 0 not, -1 failed. */
static int
by_message_id(struct atsm_in_ctx *c, struct atsm_dir_message *m)
{
	const struct atsm_dir *d = c->dir;
	char *id = NULL;
	int rc;

	/* the bounce quotes it as a header value: "<id>", or bare */
	if (atsm_msgid_list(c->f->orig_message_id, &id, 1) == 0 &&
	    (id = strdup(c->f->orig_message_id)) == NULL)
		return atsm_in_nomem(c, "message-id");
	rc = d->ops->message_by_msgid(d->ctx, id, ATSM_DIR_OUT, &c->arena, m, c->err);
	free(id);
	return rc;
}

/* The null sender, or a bounce forwarder (an address of the setting, or
 * an address in a domain it names). */
static bool
from_bounce_sender(const struct atsm_in_ctx *c)
{
	const char *e = c->f->env_from, *at;
	const struct atsm_conf_list *l = &c->conf->bounce_forwarders;
	char *norm = NULL;
	bool ok = false;
	size_t i;

	if (e == NULL)
		return false;                   /* not known: not believed */
	if (e[strspn(e, " \t<>")] == '\0')
		return true;                    /* "" or "<>" */
	if (l->n == 0 || atsm_addr_normalize(e, &norm, NULL) < 0)
		return false;
	at = strrchr(norm, '@');
	for (i = 0; i < l->n && !ok; i++)
		ok = strchr(l->v[i], '@') != NULL ? strcasecmp(norm, l->v[i]) == 0 :
		    at != NULL && atsm_addr_domain_in(at + 1, &l->v[i], 1);
	free(norm);
	return ok;
}

static bool
participant(const struct atsm_dir_message *m, const char *a)
{
	size_t i;

	for (i = 0; i < m->n_participants; i++)
		if (m->participants[i] != NULL && strcmp(m->participants[i], a) == 0)
			return true;
	return false;
}

/* Which failed recipients are believed (p->bounce_ok); how many. */
static size_t
believe(struct atsm_in_ctx *c, const struct atsm_dir_message *m, const char *tok,
    const char *rmac)
{
	const struct atsm_in_facts *f = c->f;
	size_t i, n = 0, stranger = 0, unstamped = 0;

	for (i = 0; i < f->n_bounced && i < ATSM_IN_MAX_BOUNCED; i++) {
		const char *a = f->bounced[i].addr;

		c->p->bounce_ok[i] = false;
		if (a == NULL || !participant(m, a)) {
			stranger++;
			continue;
		}
		/* a stamp that names its recipient is believed for it only;
		 * without the secret (a replay) the MAC cannot be checked and
		 * the recipient of the item is what counts */
		if (rmac[0] != '\0' && c->keys != NULL && c->keys->n > 0 &&
		    !atsm_verp_rcpt_ok(c->keys, tok, rmac, a)) {
			unstamped++;
			continue;
		}
		c->p->bounce_ok[i] = true;
		n++;
	}
	if (stranger > 0)
		atsm_in_note(c, "%zu failed recipient%s not among the sent item's: not marked",
		    stranger, stranger > 1 ? "s" : "");
	if (unstamped > 0)
		atsm_in_note(c, "%zu failed recipient%s not the one the VERP stamp names: not marked",
		    unstamped, unstamped > 1 ? "s" : "");
	return n;
}

/* The record r (kind, id; a resume in the making by its address) belongs
 * to a believed failed recipient. */
static bool
of_failed(const struct atsm_dir_link *l, const struct atsm_dir_record *recs, size_t nrecs,
    char *const *addrs, size_t naddrs)
{
	size_t i;

	if (l->resume_addr != NULL)
		for (i = 0; i < naddrs; i++)
			if (strcmp(l->resume_addr, addrs[i]) == 0)
				return true;
	for (i = 0; i < nrecs; i++)
		if (recs[i].kind == l->kind && recs[i].id == l->id && l->id != 0)
			return true;
	return false;
}

/* Of a sent item to several people, the links that concern the believed
 * failed recipients: their resumes and contacts, the processes of those
 * resumes, and the jobs when any record is kept.  One recipient: all. */
static int
failed_links(struct atsm_in_ctx *c, const struct atsm_dir_message *m,
    struct atsm_dir_message *out)
{
	const struct atsm_dir *d = c->dir;
	const struct atsm_in_facts *f = c->f;
	struct atsm_dir_record *recs;
	char *addrs[ATSM_IN_MAX_BOUNCED];
	size_t nrecs = 0, naddrs = 0, i, k;
	bool any = false;

	*out = *m;
	if (m->n_participants <= 1)
		return 0;
	recs = atsm_arena_calloc(&c->arena, ATSM_DIR_ADDR_RECORDS_MAX, sizeof(*recs));
	out->links = atsm_arena_calloc(&c->arena, m->n_links + 1, sizeof(*out->links));
	if (recs == NULL || out->links == NULL)
		return atsm_in_nomem(c, "bounce links");
	out->n_links = 0;
	for (i = 0; i < f->n_bounced && i < ATSM_IN_MAX_BOUNCED; i++) {
		size_t n = 0;
		int rc;

		if (!c->p->bounce_ok[i])
			continue;
		addrs[naddrs++] = f->bounced[i].addr;
		if (nrecs >= ATSM_DIR_ADDR_RECORDS_MAX)
			continue;
		rc = d->ops->records_by_addr(d->ctx, f->bounced[i].addr, recs + nrecs,
		    ATSM_DIR_ADDR_RECORDS_MAX - nrecs, &n, c->err);
		if (rc < 0)
			return -1;
		if (rc == 1)
			nrecs += n;
	}
	for (i = 0; i < m->n_links; i++) {
		const struct atsm_dir_link *l = &m->links[i];

		if ((l->kind == ATSM_RECORD_RESUME || l->kind == ATSM_RECORD_CONTACT) &&
		    of_failed(l, recs, nrecs, addrs, naddrs)) {
			out->links[out->n_links++] = *l;
			any = true;
		}
	}
	for (i = 0; i < m->n_links; i++) {
		const struct atsm_dir_link *l = &m->links[i];
		bool keep = l->kind == ATSM_RECORD_JOB && any;

		/* a process goes with its resume */
		for (k = 0; !keep && l->kind == ATSM_RECORD_PROCESS && k < out->n_links; k++) {
			const struct atsm_dir_link *r = &out->links[k];

			if (r->kind != ATSM_RECORD_RESUME)
				continue;
			keep = l->resume_id != 0 ? r->id == l->resume_id :
			    l->resume_addr != NULL && r->resume_addr != NULL &&
			    strcmp(l->resume_addr, r->resume_addr) == 0;
		}
		if (keep)
			out->links[out->n_links++] = *l;
	}
	if (out->n_links < m->n_links)
		atsm_in_note(c, "a sent item to several people: filed on the failed recipients'"
		    " records only");
	return 0;
}

int
atsm_in_bounce(struct atsm_in_ctx *c)
{
	const struct atsm_in_facts *f = c->f;
	struct atsm_in_plan *p = c->p;
	struct atsm_dir_message m, mine;
	char tok[ATSM_TOKEN_MAX], rmac[ATSM_VERP_RMAC_LEN + 1] = "", ref[96];
	const char *rule = NULL;
	size_t added;
	int rc = 0;

	if (!from_bounce_sender(c)) {
		atsm_in_note(c, "a bounce from the envelope sender %.100s: not believed (a bounce"
		    " comes from the null sender, or from one of bounce_forwarders): ignored",
		    f->env_from != NULL ? f->env_from : "(unknown)");
		return 0;
	}
	if (atsm_in_verp_stamp(c, f->env_to, tok, rmac) ||
	    atsm_in_verp_stamp(c, f->orig_env_from, tok, rmac))
		rule = "verp";
	else if (atsm_in_canon_token(f->orig_ats_ref, tok) && atsm_in_token_ok(c, tok))
		rule = "token";
	if (rule != NULL && (rc = atsm_in_token_message(c, tok, &m)) < 0)
		return -1;
	if (rc == 0) {
		rmac[0] = '\0';        /* it names no item we know */
		if (f->orig_message_id != NULL) {
			if ((rc = by_message_id(c, &m)) < 0)
				return -1;
			rule = "references";
		}
	}
	if (rc == 0) {
		atsm_in_note(c, "a bounce of no recorded sent item: ignored");
		return 0;
	}
	atsm_in_ref_text(&m.ref, ref, sizeof(ref));
	if (believe(c, &m, tok, rmac) == 0) {
		atsm_in_note(c, "a bounce of %s names no recipient it went to%s: ignored", ref,
		    rmac[0] != '\0' ? " (the one its VERP stamp names)" : "");
		return 0;
	}
	p->verdict = ATSM_IN_BOUNCE;
	p->bounced = m.ref;
	p->thread = m.thread.id != 0 || m.thread.key[0] != '\0' ? m.thread : m.ref;
	/* it quotes the sent item: seen by whoever sees that (decide-rules.c) */
	c->bounce_vis_known = true;
	c->bounce_vis = m.visibility;
	atsm_in_note(c, "bounce of %s (by %s)", ref, rule);
	if (failed_links(c, &m, &mine) < 0 || atsm_in_link_message(c, &mine, rule, &added) < 0 ||
	    atsm_in_load_records(c) < 0)
		return -1;
	atsm_in_keyword(c, ATSM_KW_FILED);
	atsm_in_keyword(c, ATSM_KW_BOUNCE);
	if (!p->already_recorded && atsm_in_phase_rules(c, "bounce") < 0)
		return -1;
	return 0;
}
