/* inbound/decide-bounce.c -- step 3 of the inbound decision (see
 * decide.c): the sent item a bounce is about, strongest evidence first:
 *
 *	verp         the VERP token of the envelope recipient, or of the
 *	             original's envelope sender the bounce quotes
 *	token        the original's X-ATS-Ref
 *	references   the original's Message-ID, among sent messages
 *
 * A bounce is filed on the sent item's records only: a bounce of no
 * recorded sent item is ignored (there is nothing to mark, and filing a
 * mailer-daemon's text on a record by its sender address would be wrong).
 */
#include "inbound/decide-ctx.h"

#include <stdlib.h>
#include <string.h>

#include "mail/msgid.h"

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

int
atsm_in_bounce(struct atsm_in_ctx *c)
{
	const struct atsm_in_facts *f = c->f;
	struct atsm_in_plan *p = c->p;
	struct atsm_dir_message m;
	char tok[ATSM_TOKEN_MAX], ref[96];
	const char *rule = NULL;
	size_t added;
	int rc = 0;

	if (atsm_in_verp_token(c, f->env_to, tok) || atsm_in_verp_token(c, f->orig_env_from, tok))
		rule = "verp";
	else if (atsm_in_canon_token(f->orig_ats_ref, tok) && atsm_in_token_ok(c, tok))
		rule = "token";
	if (rule != NULL && (rc = atsm_in_token_message(c, tok, &m)) < 0)
		return -1;
	if (rc == 0 && f->orig_message_id != NULL) {
		if ((rc = by_message_id(c, &m)) < 0)
			return -1;
		rule = "references";
	}
	if (rc == 0) {
		atsm_in_note(c, "a bounce of no recorded sent item: ignored");
		return 0;
	}
	p->verdict = ATSM_IN_BOUNCE;
	p->bounced = m.ref;
	p->thread = m.thread.id != 0 || m.thread.key[0] != '\0' ? m.thread : m.ref;
	/* it quotes the sent item: seen by whoever sees that (decide-rules.c) */
	c->bounce_vis_known = true;
	c->bounce_vis = m.visibility;
	atsm_in_note(c, "bounce of %s (by %s)", atsm_in_ref_text(&m.ref, ref, sizeof(ref)), rule);
	if (atsm_in_link_message(c, &m, rule, &added) < 0 || atsm_in_load_records(c) < 0)
		return -1;
	atsm_in_keyword(c, ATSM_KW_FILED);
	atsm_in_keyword(c, ATSM_KW_BOUNCE);
	if (!p->already_recorded && atsm_in_phase_rules(c, "bounce") < 0)
		return -1;
	return 0;
}
