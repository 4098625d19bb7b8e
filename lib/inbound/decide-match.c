/* inbound/decide-match.c -- step 4 of the inbound decision (see decide.c):
 * which records a mail belongs to, strongest rule first.
 *
 *	in_reply_to, references   a recorded message (either direction)
 *	                          named by In-Reply-To, then by References
 *	                          from the last to the first, that the
 *	                          sender takes part in
 *	token, reply_to           a valid atsmail token (X-ATS-Ref, a token
 *	                          address the reply was sent to) of a sent
 *	                          message the sender takes part in
 *	sender_address            the sender's resumes and contacts; after a
 *	                          thread or token match, the author's own
 *	                          records too
 *
 * Every rule checks the sender: a Message-ID or a token is evidence only
 * when the sender is a participant of that message, holds an address of
 * a record it is linked to, or is a user.  A stranger who learned a
 * Message-ID (a forwarded mail is enough) is matched as if the reference
 * were absent, and a note says why.  A rule that finds a message takes
 * its links; the first that links anything decides.  The token helpers
 * are also the bounce's.
 */
#include "inbound/decide-ctx.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/addr.h"
#include "mail/msgid.h"
#include "rules/verp.h"

#define TOKEN_ADDRS_MAX 16       /* To/Cc addresses of one header tried as token addresses */

/* ------------------------------------------------------------- tokens */

/* A token text as written (X-ATS-Ref value) to its canonical form: trimmed,
 * lower case, of the token alphabet; false when it cannot be one. */
bool
atsm_in_canon_token(const char *v, char out[ATSM_TOKEN_MAX])
{
	size_t n = 0;

	if (v == NULL)
		return false;
	v += strspn(v, " \t<");
	while (*v != '\0' && *v != ' ' && *v != '\t' && *v != '>' && *v != ';') {
		char ch = (char)tolower((unsigned char)*v++);

		if (n + 1 >= ATSM_TOKEN_MAX || !((ch >= 'a' && ch <= 'z') || (ch >= '2' && ch <= '7')))
			return false;
		out[n++] = ch;
	}
	out[n] = '\0';
	return n == ATSM_TOKEN_LEN;
}

/* With keys, the MAC must verify (forged tokens cost no lookup); without
 * (a replay without the secret) the exact match of the stored token,
 * which carries its MAC, is as strong. */
bool
atsm_in_token_ok(const struct atsm_in_ctx *c, const char *tok)
{
	unsigned char id[ATSM_TOKEN_ID_LEN];

	if (c->keys == NULL || c->keys->n == 0)
		return strlen(tok) == ATSM_TOKEN_LEN;
	return atsm_token_verify(c->keys, tok, strlen(tok), id) == 0;
}

bool
atsm_in_verp_token(const struct atsm_in_ctx *c, const char *addr, char tok[ATSM_TOKEN_MAX])
{
	const char *d = c->conf->recipient_delimiter;

	tok[0] = '\0';
	if (addr == NULL || addr[0] == '\0')
		return false;
	return atsm_verp_parse(addr, d != NULL && d[0] != '\0' ? d[0] : '\0',
	    c->conf->verp_tag != NULL && c->conf->verp_tag[0] != '\0' ? c->conf->verp_tag : NULL,
	    tok) == 0 && atsm_in_token_ok(c, tok);
}

bool
atsm_in_verp_stamp(const struct atsm_in_ctx *c, const char *addr, char tok[ATSM_TOKEN_MAX],
    char rmac[ATSM_VERP_RMAC_LEN + 1])
{
	const char *d = c->conf->recipient_delimiter;

	tok[0] = rmac[0] = '\0';
	if (addr == NULL || addr[0] == '\0')
		return false;
	if (atsm_verp_parse_stamp(addr, d != NULL && d[0] != '\0' ? d[0] : '\0',
	    c->conf->verp_tag != NULL && c->conf->verp_tag[0] != '\0' ? c->conf->verp_tag : NULL,
	    tok, rmac) == 0 && atsm_in_token_ok(c, tok))
		return true;
	tok[0] = rmac[0] = '\0';
	return false;
}

int
atsm_in_token_message(struct atsm_in_ctx *c, const char *tok, struct atsm_dir_message *m)
{
	int rc = c->dir->ops->message_by_token(c->dir->ctx, tok, &c->arena, m, c->err);

	/* tokens name sent mail only */
	return rc == 1 && m->direction != ATSM_DIR_OUT ? 0 : rc;
}

/* ----------------------------------------------------------- matching */

int
atsm_in_link_message(struct atsm_in_ctx *c, const struct atsm_dir_message *m, const char *rule,
    size_t *added)
{
	size_t i;

	*added = 0;
	for (i = 0; i < m->n_links; i++) {
		const struct atsm_dir_link *l = &m->links[i];
		struct atsm_rec *x;

		if (l->kind == ATSM_RECORD_PROCESS)
			x = atsm_recset_add_process_of(&c->recs, l->id, l->resume_id, l->resume_addr,
			    l->job_id, rule, true);
		else if (l->kind == ATSM_RECORD_RESUME)
			x = atsm_recset_add_resume(&c->recs, l->id, l->resume_addr, rule, true);
		else if (l->kind == ATSM_RECORD_CONTACT || l->kind == ATSM_RECORD_JOB)
			x = atsm_recset_add(&c->recs, l->kind, l->id, rule, true);
		else
			continue;
		if (x == NULL) {
			if (!c->recs.truncated)
				return atsm_in_nomem(c, "links");
			atsm_in_note(c, "more than %d links: the rest dropped", ATSM_IN_MAX_LINKS);
			break;
		}
		x->ambiguous |= l->ambiguous;
		(*added)++;
	}
	return 0;
}

/* The sender's resumes and contacts (resumes first, by id), asked once. */
int
atsm_in_sender_records(struct atsm_in_ctx *c)
{
	const struct atsm_dir *d = c->dir;
	struct atsm_dir_record *v;
	size_t n = 0;
	int rc;

	if (c->sender_asked || c->p->sender == NULL)
		return 0;
	v = atsm_arena_calloc(&c->arena, ATSM_DIR_ADDR_RECORDS_MAX, sizeof(*v));
	if (v == NULL)
		return atsm_in_nomem(c, "the sender's records");
	rc = d->ops->records_by_addr(d->ctx, c->p->sender, v, ATSM_DIR_ADDR_RECORDS_MAX, &n,
	    c->err);
	if (rc < 0)
		return -1;
	c->sender_asked = true;
	c->sender_recs = v;
	c->n_sender_recs = rc == 1 ? n : 0;
	return 0;
}

/* The sender is an active user of the site, asked once. */
static int
sender_is_user(struct atsm_in_ctx *c, bool *is_user)
{
	const struct atsm_dir *d = c->dir;
	struct atsm_dir_user u;
	int rc;

	if (!c->sender_user_asked) {
		rc = d->ops->user_by_addr(d->ctx, c->p->sender, &u, c->err);
		if (rc < 0)
			return -1;
		c->sender_user_asked = true;
		c->sender_is_user = rc == 1 && u.active;
	}
	*is_user = c->sender_is_user;
	return 0;
}

/* The sender takes part in m: one of its participants (recipients and
 * counterparts), an address of a resume or contact it is linked to, or a
 * user (a recruiter may answer in any thread she can see; what she may
 * see is the visibility's business, not the matching's). */
int
atsm_in_takes_part(struct atsm_in_ctx *c, const struct atsm_dir_message *m, bool *part)
{
	const char *s = c->p->sender;
	size_t i, k;

	*part = false;
	if (s == NULL)
		return 0;
	for (i = 0; i < m->n_participants; i++)
		if (m->participants[i] != NULL && strcmp(m->participants[i], s) == 0) {
			*part = true;
			return 0;
		}
	/* a resume in the making (or its process) is named by the address of
	 * its person: the sender's own, whoever holds it by now */
	for (k = 0; k < m->n_links; k++)
		if (m->links[k].resume_addr != NULL && strcmp(m->links[k].resume_addr, s) == 0) {
			*part = true;
			return 0;
		}
	if (atsm_in_sender_records(c) < 0)
		return -1;
	for (i = 0; i < c->n_sender_recs; i++)
		for (k = 0; k < m->n_links; k++)
			if (m->links[k].kind == c->sender_recs[i].kind && m->links[k].id != 0 &&
			    m->links[k].id == c->sender_recs[i].id) {
				*part = true;
				return 0;
			}
	return sender_is_user(c, part);
}

static void
take_thread(struct atsm_in_ctx *c, const struct atsm_dir_message *m)
{
	struct atsm_in_plan *p = c->p;

	if (p->thread.id != 0 || p->thread.key[0] != '\0')
		return;
	/* the first message of its thread; one that starts a thread is its own */
	p->thread = m->thread.id != 0 || m->thread.key[0] != '\0' ? m->thread : m->ref;
}

/* The last max Message-IDs of a References value: the nearest messages
 * of the thread are at its end (RFC 5322 3.6.4), and a long one keeps
 * its root first and its latest last. */
static size_t
last_ids(const char *v, char **out, size_t max)
{
	const char *s;
	size_t n = 0;

	if (v == NULL)
		return 0;
	for (s = v + strlen(v); s > v; s--)
		if (s[-1] == '<' && ++n == max) {
			s--;
			break;
		}
	return atsm_msgid_list(s, out, max);
}

static bool
listed(char **v, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], id) == 0)
			return true;
	return false;
}

/* One Message-ID: the recorded message with it, sent then received; its
 * thread is the mail's (the first found gives it) and its links, if
 * any, decide -- when the sender takes part in it.  A message the sender
 * takes no part in is as if unnamed: no thread, no links, a note. */
static int
reply_to_id(struct atsm_in_ctx *c, const char *id, const char *rule, bool *done)
{
	static const enum atsm_dir_direction dirs[2] = { ATSM_DIR_OUT, ATSM_DIR_IN };
	const struct atsm_dir *d = c->dir;
	struct atsm_dir_message m;
	size_t k, added;
	bool part;
	int rc;

	for (k = 0; k < 2 && !*done; k++) {
		rc = d->ops->message_by_msgid(d->ctx, id, dirs[k], &c->arena, &m, c->err);
		if (rc < 0)
			return -1;
		if (rc == 0)
			continue;
		if (atsm_in_takes_part(c, &m, &part) < 0)
			return -1;
		if (!part) {
			atsm_in_note(c, "%s <%.80s> ignored: the sender %s takes no part in that thread",
			    strcmp(rule, "in_reply_to") == 0 ? "In-Reply-To" : "References", id,
			    c->p->sender != NULL ? c->p->sender : "(none)");
			continue;
		}
		take_thread(c, &m);
		if (atsm_in_link_message(c, &m, rule, &added) < 0)
			return -1;
		if (added > 0) {
			atsm_in_note(c, "matched by %s", rule);
			*done = true;
		}
	}
	return 0;
}

/* Rule 1: In-Reply-To, then References from the last to the first. */
int
atsm_in_match_replies(struct atsm_in_ctx *c)
{
	const struct atsm_in_facts *f = c->f;
	struct atsm_in_plan *p = c->p;
	char *irt[ATSM_IN_MAX_REFS], *refs[ATSM_IN_MAX_REFS], *root = NULL;
	size_t nirt, nref, i;
	bool done = false;
	int rc = 0;

	nirt = atsm_msgid_list(f->hdr_in_reply_to, irt, ATSM_IN_MAX_REFS);
	nref = last_ids(f->hdr_references, refs, ATSM_IN_MAX_REFS);
	if (atsm_msgid_list(f->hdr_references, &root, 1) == 1)
		p->thread_root = root;
	else if (nirt > 0 && (p->thread_root = strdup(irt[0])) == NULL)
		rc = atsm_in_nomem(c, "thread");
	for (i = 0; rc == 0 && !done && i < nirt; i++)
		rc = reply_to_id(c, irt[i], "in_reply_to", &done);
	for (i = nref; rc == 0 && !done && i > 0; i--)
		if (!listed(irt, nirt, refs[i - 1]))
			rc = reply_to_id(c, refs[i - 1], "references", &done);
	for (i = 0; i < nirt; i++)
		free(irt[i]);
	for (i = 0; i < nref; i++)
		free(refs[i]);
	return rc;
}

/* Rule 2: a token: X-ATS-Ref, then the address the reply was sent to
 * (envelope recipient / Delivered-To, To, Cc: a Reply-To token address).
 * Accepted only when the sender takes part in the token's message. */
int
atsm_in_match_token(struct atsm_in_ctx *c)
{
	const struct atsm_in_facts *f = c->f;
	struct atsm_in_plan *p = c->p;
	struct { char tok[ATSM_TOKEN_MAX]; const char *rule; } cand[2 + 2 * TOKEN_ADDRS_MAX];
	const char *hv[2] = { f->hdr_to, f->hdr_cc };
	size_t n = 0, i, k, added;
	char ref[96];

	if (atsm_in_canon_token(f->hdr_ats_ref, cand[n].tok) && atsm_in_token_ok(c, cand[n].tok))
		cand[n++].rule = "token";
	if (atsm_in_verp_token(c, f->env_to, cand[n].tok))
		cand[n++].rule = "reply_to";
	for (k = 0; k < 2; k++) {
		struct atsm_addr_list l;

		if (hv[k] == NULL)
			continue;
		(void)atsm_addr_parse_list(hv[k], strlen(hv[k]), TOKEN_ADDRS_MAX, &l, NULL);
		for (i = 0; i < l.n && n < sizeof(cand) / sizeof(cand[0]); i++)
			if (l.v[i].domain != NULL && atsm_in_verp_token(c, l.v[i].addr, cand[n].tok))
				cand[n++].rule = "reply_to";
		atsm_addr_list_free(&l);
	}
	for (i = 0; i < n; i++) {
		struct atsm_dir_message m;
		bool part;
		int rc = atsm_in_token_message(c, cand[i].tok, &m);

		if (rc < 0)
			return -1;
		if (rc == 0)
			continue;
		if (atsm_in_takes_part(c, &m, &part) < 0)
			return -1;
		if (!part) {
			atsm_in_note(c, "%s token of %s ignored: the sender %s takes no part in it",
			    cand[i].rule, atsm_in_ref_text(&m.ref, ref, sizeof(ref)),
			    p->sender != NULL ? p->sender : "(none)");
			continue;
		}
		if (atsm_in_link_message(c, &m, cand[i].rule, &added) < 0)
			return -1;
		if (added > 0) {
			take_thread(c, &m);
			atsm_in_note(c, "matched by %s", cand[i].rule);
			return 0;
		}
	}
	return 0;
}

/* The sender's resumes and contacts into the set (rule sender_address);
 * *added counts those it did not hold already.  Several: each added one
 * is ambiguous.  A resume of id 0 is the one the sender's own intake mail
 * is making, named by the sender's address. */
static int
add_sender_records(struct atsm_in_ctx *c, size_t *added)
{
	size_t i, n;

	*added = 0;
	if (c->p->sender == NULL)
		return 0;
	if (atsm_in_sender_records(c) < 0)
		return -1;
	n = c->n_sender_recs;
	for (i = 0; i < n; i++) {
		const struct atsm_dir_record *r = &c->sender_recs[i];
		const char *addr = r->kind == ATSM_RECORD_RESUME && r->id == 0 ? c->p->sender : NULL;
		bool had = r->kind == ATSM_RECORD_RESUME ?
		    atsm_recset_find_resume(&c->recs, r->id, addr) != NULL :
		    atsm_recset_find(&c->recs, r->kind, r->id) != NULL;
		struct atsm_rec *x = r->kind == ATSM_RECORD_RESUME ?
		    atsm_recset_add_resume(&c->recs, r->id, addr, "sender_address", true) :
		    atsm_recset_add(&c->recs, r->kind, r->id, "sender_address", true);

		if (x == NULL) {
			if (!c->recs.truncated)
				return atsm_in_nomem(c, "records");
			atsm_in_note(c, "more than %d records: the rest dropped", ATSM_IN_MAX_LINKS);
			break;
		}
		if (had)
			continue;
		x->ambiguous = n > 1;
		atsm_rec_load_record(x, r);
		(*added)++;
	}
	return 0;
}

/* Rule 3: the sender's address belongs to resumes or contacts; their
 * shared flag and phase come with them. */
int
atsm_in_match_sender(struct atsm_in_ctx *c)
{
	size_t added;

	if (add_sender_records(c, &added) < 0)
		return -1;
	if (added > 0)
		atsm_in_note(c, "matched by the sender's address%s",
		    c->n_sender_recs > 1 ? " (several records)" : "");
	return 0;
}

/* The author of a reply in a thread (or under a token) is linked to her
 * own record as well, so that the mail shows there too: a client contact
 * answering in a candidate's thread, a candidate Cc'd on another's. */
int
atsm_in_link_author(struct atsm_in_ctx *c)
{
	size_t added;

	if (add_sender_records(c, &added) < 0)
		return -1;
	if (added > 0)
		atsm_in_note(c, "the author's own record%s linked too (sender_address)",
		    added > 1 ? "s" : "");
	return 0;
}
