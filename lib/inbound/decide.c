/* inbound/decide.c -- atsm_in_decide(): what to do with one mail that
 * reached a mailbox, asked of the directory (store/directory.h), never of
 * the database.  The order of the decisions is that of docs/inbound.md:
 *
 *	1. the mailbox owner must be a user, or the mail reached an intake
 *	   address; feedback reports are never filed
 *	2. a copy of recorded outbound mail (its Message-ID; an APPEND also by
 *	   its X-ATS-Ref token) -> SENT_COPY; then this mail's own received
 *	   message, recorded by another mailbox first (already_recorded).
 *	   An APPEND of either that the appender may not read (another's
 *	   private mail), or a second copy from a sender who takes no part
 *	   in the first -> IGNORE
 *	3. a bounce -> the sent item by VERP token, the original's X-ATS-Ref,
 *	   the original's Message-ID -> BOUNCE (unknown sent item: IGNORE)
 *	4. matching, strongest rule first: In-Reply-To / References of a
 *	   recorded message, a valid token (X-ATS-Ref, a token address the
 *	   reply was sent to), each only when the sender takes part in that
 *	   message (else as if absent, with a note); the sender's address
 *	   (several records: all, ambiguous), which after a thread or token
 *	   match links the author's own records too -> FILE;
 *	   list mail and read receipts only by a thread (decide-rules.c)
 *	5. an intake address and nothing matched: loop guards, rate limit
 *	   -> INTAKE (a resume or an unresolved item)
 *	6. otherwise IGNORE
 * then the phase rules (data: the directory's phase_rule) and the
 * visibility (pipeline/visibility.h).  The steps live in decide-*.c
 * (see decide-ctx.h); this file holds their order; decide-ctx.c what
 * every step uses (the plan, notes, keywords).
 */
#include "inbound/decide-ctx.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"






/* ------------------------------------------------------------ the order */

/* Step 4 found records: FILE, with the phase rules of a reply. */
static int
file(struct atsm_in_ctx *c)
{
	struct atsm_in_plan *p = c->p;

	p->verdict = ATSM_IN_FILE;
	if (atsm_in_make_links(c) < 0)
		return -1;
	atsm_in_keyword(c, ATSM_KW_FILED);
	if (p->ambiguous)
		atsm_in_keyword(c, ATSM_KW_AMBIGUOUS);
	/* the kind of mail (decide-rules.c): a read receipt, list mail or an
	 * auto-reply fires no rule */
	if (atsm_in_reply_rules(c) < 0)
		return -1;
	return atsm_in_policy(c);
}

static int
decide(struct atsm_in_ctx *c)
{
	const struct atsm_in_facts *f = c->f;
	struct atsm_in_plan *p = c->p;
	struct atsm_dir_msgref sent;
	char ref[96];
	bool found, refused;

	if (atsm_in_decode_headers(c) < 0 || atsm_in_owner_intake(c) < 0)
		return -1;
	if (p->mailbox_user_id == 0 && !c->intake) {
		atsm_in_note(c, "mailbox of %s: not a user and not an intake address",
		    f->mailbox_user);
		return 0;
	}
	if (f->is_feedback) {
		atsm_in_note(c, "a feedback report: not filed");
		return 0;
	}
	if (atsm_in_counterparts(c) < 0 || atsm_in_find_sent(c, &sent, &found, &refused) < 0)
		return -1;
	if (refused)
		return 0;       /* IGNORE: the note says why */
	if (found) {
		atsm_in_ref_text(&sent, ref, sizeof(ref));
		if (p->mailbox_user_id == 0) {
			atsm_in_note(c, "a copy of sent %s in a mailbox of no user", ref);
			return 0;
		}
		p->verdict = ATSM_IN_SENT_COPY;
		p->message = sent;
		atsm_in_keyword(c, ATSM_KW_SENT);
		atsm_in_note(c, "a copy of sent %s", ref);
		return 0;
	}
	if (atsm_in_find_received(c, &refused) < 0)
		return -1;
	if (refused)
		return 0;       /* IGNORE: the note says why */
	if (f->is_bounce) {
		if (atsm_in_bounce(c) < 0)
			return -1;
		if (p->verdict == ATSM_IN_IGNORE)
			return 0;
		return atsm_in_make_links(c) < 0 ? -1 : atsm_in_policy(c);
	}
	if (atsm_in_match_replies(c) < 0)
		return -1;
	if (c->recs.n == 0 && atsm_in_match_token(c) < 0)
		return -1;
	if (c->recs.n > 0 ? atsm_in_link_author(c) < 0 : atsm_in_match_sender(c) < 0)
		return -1;
	/* list mail and read receipts: only inside a recorded thread */
	if (!atsm_in_kind_allows(c))
		return 0;
	/* a record that no longer exists is dropped here */
	if (c->recs.n > 0 && atsm_in_load_records(c) < 0)
		return -1;
	if (c->recs.n > 0)
		return file(c);
	if (c->intake) {
		if (atsm_in_intake(c) < 0)
			return -1;
		return p->verdict == ATSM_IN_IGNORE ? 0 : atsm_in_policy(c);
	}
	atsm_in_note(c, "no rule matched: not ATS mail");
	return 0;
}

int
atsm_in_decide(const struct atsm_dir *dir, const struct atsm_conf *conf,
    const struct atsm_token_keys *keys, const struct atsm_in_facts *f, enum atsm_in_mode mode,
    struct atsm_in_plan *p, struct atsm_err *err)
{
	struct atsm_in_ctx c;
	int rc;

	memset(p, 0, sizeof(*p));
	p->verdict = ATSM_IN_IGNORE;
	if (f->mailbox_user == NULL || f->mailbox_user[0] == '\0')
		return atsm_err_setc(err, ATSM_ERR_INPUT,
		    "inbound decision: the facts name no mailbox user");
	memset(&c, 0, sizeof(c));
	c.dir = dir;
	c.conf = conf;
	c.keys = keys;
	c.f = f;
	c.mode = mode;
	c.p = p;
	c.err = err;
	atsm_arena_init(&c.arena, ATSM_IN_ARENA_MAX);
	atsm_recset_init(&c.recs, ATSM_IN_MAX_LINKS);
	rc = decide(&c);
	atsm_recset_free(&c.recs);
	atsm_arena_free(&c.arena);
	if (rc < 0) {
		/* a decision on half an answer is no decision: the caller
		 * answers TEMPFAIL and the mail comes again */
		atsm_in_plan_free(p);
		return atsm_err_prefix(err, "inbound decision for %s (mail %.16s...)",
		    f->mailbox_user, f->idem_key);
	}
	if (p->verdict == ATSM_IN_IGNORE) {
		p->n_links = p->n_phases = 0;
		p->keywords[0] = NULL;
	}
	return 0;
}
