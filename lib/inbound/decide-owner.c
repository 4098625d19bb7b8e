/* inbound/decide-owner.c -- the first steps of the inbound decision and
 * intake (see decide.c for the order): the headers in the form the
 * record wants, whose mailbox it is, which intake address it reached,
 * who the counterparts are, whether it is a copy of recorded outbound
 * mail or of a mail another mailbox recorded first, and the intake
 * verdict with its loop guards and hourly rate limit.
 */
#include "inbound/decide-ctx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/addr.h"
#include "mail/msgid.h"
#include "mail/rfc2047.h"

#define COUNTERPARTS_MAX 200     /* addresses of To/Cc kept as counterparts */
#define INTAKE_WINDOW 3600       /* seconds of intake_max_per_hour */

/* ------------------------------------------------------------ headers */

/* Subject in UTF-8, Message-ID without brackets, the sender (first From
 * address, else the envelope sender) and its decoded display name. */
int
atsm_in_decode_headers(struct atsm_in_ctx *c)
{
	const struct atsm_in_facts *f = c->f;
	struct atsm_in_plan *p = c->p;
	struct atsm_addr_list l;

	if (f->hdr_subject != NULL &&
	    (p->subject = atsm_rfc2047_decode_dup(f->hdr_subject, c->conf->decode_max_bytes)) == NULL)
		return atsm_in_nomem(c, "subject");
	if (atsm_msgid_bare(f->hdr_message_id, &p->rfc_message_id) < 0)
		return atsm_in_nomem(c, "message-id");
	if (f->hdr_from != NULL) {
		bool oom = false;

		(void)atsm_addr_parse_list(f->hdr_from, strlen(f->hdr_from), 16, &l, NULL);
		if (l.n > 0 && l.v[0].domain != NULL &&
		    atsm_addr_normalize(l.v[0].addr, &p->sender, NULL) == 0 &&
		    l.v[0].display != NULL && l.v[0].display[0] != '\0')
			oom = (p->sender_name = strdup(l.v[0].display)) == NULL;
		atsm_addr_list_free(&l);
		if (oom)
			return atsm_in_nomem(c, "sender name");
	}
	if (p->sender == NULL && f->env_from != NULL && f->env_from[0] != '\0')
		(void)atsm_addr_normalize(f->env_from, &p->sender, NULL);
	return 0;
}

/* ------------------------------------------------------- owner, intake */

/* The intake candidates: the envelope recipient (or Delivered-To, which
 * the facts carry in env_to); without one, the To/Cc addresses. */
static size_t
intake_candidates(const struct atsm_in_facts *f, char **cand)
{
	const char *hv[2] = { f->hdr_to, f->hdr_cc };
	size_t n = 0, i, k;

	if (f->env_to != NULL && f->env_to[0] != '\0')
		return atsm_addr_normalize(f->env_to, &cand[0], NULL) == 0 ? 1 : 0;
	for (k = 0; k < 2; k++) {
		struct atsm_addr_list l;

		if (hv[k] == NULL)
			continue;
		(void)atsm_addr_parse_list(hv[k], strlen(hv[k]), COUNTERPARTS_MAX, &l, NULL);
		for (i = 0; i < l.n && n < COUNTERPARTS_MAX; i++)
			if (l.v[i].domain != NULL &&
			    atsm_addr_normalize(l.v[i].addr, &cand[n], NULL) == 0)
				n++;
		atsm_addr_list_free(&l);
	}
	return n;
}

/* The mailbox owner: the active user whose login is the mailbox user,
 * else the active user who has it (normalised) among their addresses. */
static int
owner(struct atsm_in_ctx *c)
{
	const struct atsm_dir *d = c->dir;
	struct atsm_in_plan *p = c->p;
	struct atsm_dir_user u;
	char *norm = NULL;
	int rc;

	rc = d->ops->user_by_login(d->ctx, c->f->mailbox_user, &u, c->err);
	if (rc < 0)
		return -1;
	if (rc == 0 || !u.active) {
		rc = 0;
		if (atsm_addr_normalize(c->f->mailbox_user, &norm, NULL) == 0) {
			rc = d->ops->user_by_addr(d->ctx, norm, &u, c->err);
			free(norm);
		}
		if (rc < 0)
			return -1;
	}
	if (rc == 1 && u.active) {
		p->mailbox_user_id = u.id;
		snprintf(p->owner_login, sizeof(p->owner_login), "%s", u.login);
		c->sharing_mode = u.sharing_mode;
		c->default_share = u.default_share;
	}
	return 0;
}

/* Step 1: the mailbox owner and the intake address the mail reached, if
 * any: among several, the lowest address (one answer for the same mail,
 * whichever order the headers name them in). */
int
atsm_in_owner_intake(struct atsm_in_ctx *c)
{
	const struct atsm_dir *d = c->dir;
	struct atsm_in_plan *p = c->p;
	char *cand[COUNTERPARTS_MAX + 1];
	const char *best = NULL;
	bool best_unresolved = false;
	size_t i, n;
	int rc = 0;

	if (owner(c) < 0)
		return -1;
	n = intake_candidates(c->f, cand);
	for (i = 0; i < n && rc >= 0; i++) {
		bool unresolved = false;

		rc = d->ops->intake_address(d->ctx, cand[i], &unresolved, c->err);
		if (rc == 1 && (best == NULL || strcmp(cand[i], best) < 0)) {
			best = cand[i];
			best_unresolved = unresolved;
		}
	}
	if (rc >= 0 && best != NULL) {
		c->intake = true;
		snprintf(p->intake_address, sizeof(p->intake_address), "%s", best);
		p->intake_unresolved = best_unresolved;
	}
	for (i = 0; i < n; i++)
		free(cand[i]);
	return rc < 0 ? -1 : 0;
}

static bool
has_cp(const struct atsm_in_plan *p, const char *a)
{
	size_t i;

	for (i = 0; i < p->n_counterparts; i++)
		if (strcmp(p->counterparts[i], a) == 0)
			return true;
	return false;
}

/* Counterparts: the sender and the other To/Cc addresses (the mailbox's
 * own address and the owner's login excepted). */
int
atsm_in_counterparts(struct atsm_in_ctx *c)
{
	const struct atsm_in_facts *f = c->f;
	struct atsm_in_plan *p = c->p;
	const char *hv[2] = { f->hdr_to, f->hdr_cc };
	char *self = NULL;
	size_t i, k;

	if ((p->counterparts = calloc(COUNTERPARTS_MAX + 1, sizeof(char *))) == NULL)
		return atsm_in_nomem(c, "counterparts");
	if (p->sender != NULL && (p->counterparts[p->n_counterparts++] = strdup(p->sender)) == NULL)
		return atsm_in_nomem(c, "counterparts");
	if (f->env_to != NULL)
		(void)atsm_addr_normalize(f->env_to, &self, NULL);
	for (k = 0; k < 2; k++) {
		struct atsm_addr_list l;

		if (hv[k] == NULL)
			continue;
		(void)atsm_addr_parse_list(hv[k], strlen(hv[k]), COUNTERPARTS_MAX, &l, NULL);
		for (i = 0; i < l.n && p->n_counterparts < COUNTERPARTS_MAX; i++) {
			char *n;

			if (l.v[i].domain == NULL || atsm_addr_normalize(l.v[i].addr, &n, NULL) < 0)
				continue;
			if (has_cp(p, n) || (self != NULL && strcmp(n, self) == 0) ||
			    strcmp(n, p->owner_login) == 0)
				free(n);
			else
				p->counterparts[p->n_counterparts++] = n;
		}
		atsm_addr_list_free(&l);
	}
	free(self);
	return 0;
}

/* ------------------------------------------------- copies of messages */

/* The appender may read m (docs/database-access.md, "who may read
 * what"): she owns it, or it is shared.  An 'admins' or private message of
 * someone else -- or one whose owner the directory does not know (a
 * snapshot value written before owners were kept) -- is not hers: the
 * directory knows no user's role, so an admin reading admins-only mail
 * gets no copy row either; fails closed. */
static bool
may_read(const struct atsm_in_ctx *c, const struct atsm_dir_message *m)
{
	return m->visibility == ATSM_VIS_SHARED ||
	    (m->owner_id != 0 && m->owner_id == c->p->mailbox_user_id);
}

/* Step 2: an outbound message already recorded: by Message-ID (any
 * arrival), or by X-ATS-Ref for an APPEND (a client may rewrite the
 * Message-ID of its copy).  A delivered copy is one Postfix delivered:
 * the mailbox was a recipient.  An APPEND is whatever the appender wrote,
 * so it links a copy only of a message she may read; another's private
 * mail is refused (*refused, a note): it would add her a copy row, and
 * with it a way to the message, that the sharing policy denies. */
int
atsm_in_find_sent(struct atsm_in_ctx *c, struct atsm_dir_msgref *sent, bool *found,
    bool *refused)
{
	const struct atsm_dir *d = c->dir;
	struct atsm_dir_message m;
	char tok[ATSM_TOKEN_MAX];
	int rc = 0;

	*found = *refused = false;
	if (c->p->rfc_message_id != NULL) {
		rc = d->ops->message_by_msgid(d->ctx, c->p->rfc_message_id, ATSM_DIR_OUT, &c->arena,
		    &m, c->err);
		if (rc < 0)
			return -1;
	}
	if (rc == 0 && c->f->how == ATSM_IN_APPEND && atsm_in_canon_token(c->f->hdr_ats_ref, tok) &&
	    atsm_in_token_ok(c, tok) && (rc = atsm_in_token_message(c, tok, &m)) < 0)
		return -1;
	if (rc == 1 && c->f->how == ATSM_IN_APPEND && !may_read(c, &m)) {
		char ref[96];

		atsm_in_note(c, "an APPEND of sent %s, which %s may not read (%s, owner %lld):"
		    " no copy row", atsm_in_ref_text(&m.ref, ref, sizeof(ref)),
		    c->f->mailbox_user, atsm_visibility_name(m.visibility), m.owner_id);
		*refused = true;
		return 0;
	}
	if (rc == 1) {
		*sent = m.ref;
		*found = true;
	}
	return 0;
}

/* This mail's own 'in' message, when another mailbox recorded it first:
 * the record step adds a copy and the links, nothing else.  A Message-ID
 * is a claim too: a second copy is the same mail only when its sender
 * takes part in the recorded one (its sender is the first of its
 * participants; a message recorded without any cannot be compared and
 * is taken), and an APPEND of it only when the appender may read it;
 * otherwise *refused, with a note (nothing is recorded: the Message-ID is
 * taken). */
int
atsm_in_find_received(struct atsm_in_ctx *c, bool *refused)
{
	const struct atsm_dir *d = c->dir;
	struct atsm_dir_message m;
	char ref[96];
	bool part = true;
	int rc;

	*refused = false;
	if (c->p->rfc_message_id == NULL)
		return 0;
	rc = d->ops->message_by_msgid(d->ctx, c->p->rfc_message_id, ATSM_DIR_IN, &c->arena, &m,
	    c->err);
	if (rc < 0)
		return -1;
	if (rc == 1 && c->f->how == ATSM_IN_APPEND && !may_read(c, &m)) {
		atsm_in_note(c, "an APPEND of received %s, which %s may not read (%s, owner %lld):"
		    " no copy row", atsm_in_ref_text(&m.ref, ref, sizeof(ref)), c->f->mailbox_user,
		    atsm_visibility_name(m.visibility), m.owner_id);
		*refused = true;
		return 0;
	}
	/* who took part is known when the message has participants (every
	 * message recorded with a sender has; without, nothing to compare) */
	if (rc == 1 && c->p->sender != NULL && m.n_participants > 0 &&
	    atsm_in_takes_part(c, &m, &part) < 0)
		return -1;
	if (!part) {
		atsm_in_note(c, "the Message-ID of received %s, from %s, who takes no part in it:"
		    " not the same mail, ignored", atsm_in_ref_text(&m.ref, ref, sizeof(ref)),
		    c->p->sender);
		*refused = true;
		return 0;
	}
	if (rc == 1) {
		c->p->already_recorded = true;
		c->p->message = m.ref;
	}
	return 0;
}

/* ------------------------------------------------------------- intake */

/* Step 5: intake mail from a sender that matched nothing.  The rate is
 * counted back from the mail's own time, so a replay decides as the
 * delivery would have. */
int
atsm_in_intake(struct atsm_in_ctx *c)
{
	const struct atsm_dir *d = c->dir;
	const struct atsm_in_facts *f = c->f;
	struct atsm_in_plan *p = c->p;
	unsigned n = 0;

	if (p->sender == NULL) {
		atsm_in_note(c, "intake mail without a sender address: ignored");
		return 0;
	}
	if (f->from_mailer_daemon || f->is_bounce || f->is_autoreply) {
		atsm_in_note(c, "intake mail from %s is %s: no record made", p->sender,
		    f->from_mailer_daemon ? "from a mailer-daemon" : f->is_bounce ? "a bounce" :
		    "an auto-reply");
		return 0;
	}
	if (d->ops->intake_count(d->ctx, p->sender, f->received_at - INTAKE_WINDOW, &n, c->err) < 0)
		return -1;
	if (n >= c->conf->intake_max_per_hour) {
		atsm_in_note(c, "intake from %s: %u records in the last hour (intake_max_per_hour = %u):"
		    " no record made", p->sender, n, c->conf->intake_max_per_hour);
		return 0;
	}
	if (p->sender_name == NULL && (p->sender_name = strdup(p->sender)) == NULL)
		return atsm_in_nomem(c, "name");
	p->verdict = ATSM_IN_INTAKE;
	atsm_in_keyword(c, p->intake_unresolved ? ATSM_KW_UNFILED : ATSM_KW_NEWRECORD);
	atsm_in_note(c, "intake at %s: %s", p->intake_address,
	    p->intake_unresolved ? "an unresolved item" : "a new resume");
	return 0;
}
