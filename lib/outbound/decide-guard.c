/* outbound/decide-guard.c -- the last steps of the outbound decision
 * (docs/outbound.md, steps 6 to 8): the guard against showing candidates
 * to each other, the visibility of the recorded mail, and the stamps (the
 * X-ATS-Ref token and the VERP envelope sender).
 *
 * The guard and the stamps act on LIVE mail only: a mail replayed from the
 * journal has left already, so there is nothing to stop or to stamp.  The
 * visibility is the shared one of both pipelines (lib/pipeline/visibility.c:
 * excluded domains through the directory, then rules/policy.c).
 */
#include "outbound/decide-ctx.h"

#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "mail/addr.h"
#include "rules/guard.h"
#include "rules/verp.h"

#define NEW_RESUME_GUARD_ID (1ULL << 63)

/* A rejecting guard as a refusal: the count and the addresses that
 * rules/guard.c's sentence names between "To/Cc (" and "): ". */
static void
refuse_guard(struct atsm_out_ctx *c, const char *sentence, size_t count)
{
	struct atsm_out_plan *p = c->p;
	const char *b = strstr(sentence, "To/Cc ("), *e = strstr(sentence, "): ");
	char num[32], names[ATSM_REFUSAL_ARG_MAX] = "";

	if (b != NULL && e != NULL && e > b + 7)
		snprintf(names, sizeof(names), "%.*s", (int)(e - b - 7), b + 7);
	snprintf(num, sizeof(num), "%zu", count);
	atsm_refusal_set(&p->refusal, ATSM_REFUSAL_GUARD, atsm_out_lp(c), c->conf->ats_domain,
	    "", num, names);
	snprintf(p->reply_text, sizeof(p->reply_text), "%s", p->refusal.text);
}

/* Step 6: two candidates shown to each other in To/Cc. */
int
atsm_out_decide_guard(struct atsm_out_ctx *c)
{
	struct atsm_out_plan *p = c->p;
	struct atsm_guard_recipient *g;
	struct atsm_buf sentence;
	enum atsm_guard_verdict gv;
	size_t i, n = 0;

	if ((g = atsm_arena_calloc(c->a, p->n_rcpts + 1, sizeof(*g))) == NULL)
		return atsm_out_nomem(c, "guard");
	for (i = 0; i < p->n_rcpts; i++) {
		const struct atsm_out_rcpt *r = &p->rcpts[i];

		if (r->is_command)
			continue;
		g[n].addr = r->norm;
		g[n].header = r->kind == ATSM_OUT_TO ? ATSM_HEADER_TO :
		    r->kind == ATSM_OUT_CC ? ATSM_HEADER_CC : ATSM_HEADER_BCC;
		g[n].record = r->record_kind;
		g[n].record_id = (unsigned long long)r->record_id;
		/* a resume in the making (id 0) has one address, so two
		 * recipients with one are two candidates: an id of its own
		 * each, above every id PostgreSQL gives */
		if (r->record_kind == ATSM_RECORD_RESUME && r->record_id == 0)
			g[n].record_id = NEW_RESUME_GUARD_ID | i;
		n++;
	}
	atsm_buf_init(&sentence, sizeof(p->reply_text));
	gv = atsm_guard_check(g, n, &p->n_candidates, &sentence);
	if (gv == ATSM_GUARD_VIOLATION && c->mode == ATSM_OUT_LIVE) {
		switch ((enum atsm_guard_action)c->conf->guard_action) {
		case ATSM_GUARD_REJECT:
			p->verdict = ATSM_OUT_REJECT;
			break;
		case ATSM_GUARD_HOLD:
			p->verdict = ATSM_OUT_HOLD;
			break;
		case ATSM_GUARD_ALLOW:
			atsm_out_note(c, "guard allowed: %s", atsm_buf_str(&sentence));
			break;
		}
		if (p->verdict != ATSM_OUT_RECORD)
			snprintf(p->reply_text, sizeof(p->reply_text), "%s", atsm_buf_str(&sentence));
		if (p->verdict == ATSM_OUT_REJECT)
			refuse_guard(c, atsm_buf_str(&sentence), p->n_candidates);
	}
	atsm_buf_free(&sentence);
	return 0;
}

/* Step 7: visibility and its reason. */
int
atsm_out_decide_visibility(struct atsm_out_ctx *c)
{
	struct atsm_out_plan *p = c->p;
	struct atsm_vis_input in;

	memset(&in, 0, sizeof(in));
	in.mode_known = true;
	in.mode = p->sharing_mode;
	in.default_share = c->default_share;
	in.recs = &c->recs;
	in.command_share = p->commands.share;
	in.counterparts = p->counterparts;
	in.ncounterparts = p->n_counterparts;
	if (atsm_pipeline_visibility(c->dir, &in, c->a, &p->vis, &c->err) < 0)
		return atsm_out_dir_failed(c, "the visibility of the mail");
	return 0;
}

/* The one envelope recipient outside the company's domains (commands
 * aside), whom the VERP stamp may name; NULL when there are none or
 * several: one envelope sender per message is all a milter can set
 * (Postfix ignores XVERP in SMFIR_CHGFROM), so a stamp can name at most
 * one recipient (docs/tokens.md "VERP stamps"). */
static const char *
sole_outside_recipient(const struct atsm_out_ctx *c)
{
	const struct atsm_out_plan *p = c->p;
	const char *one = NULL, *at;
	size_t i;

	for (i = 0; i < p->n_rcpts; i++) {
		const struct atsm_out_rcpt *r = &p->rcpts[i];

		if (!r->in_envelope || r->is_command || r->norm == NULL)
			continue;
		at = strrchr(r->norm, '@');
		if (at != NULL && atsm_addr_domain_in(at + 1, c->conf->company_domains.v,
		    c->conf->company_domains.n))
			continue;
		if (one != NULL && strcmp(one, r->norm) != 0)
			return NULL;
		one = r->norm;
	}
	return one;
}

/* Step 8: the X-ATS-Ref token, and the VERP stamp (LIVE only).  A mail
 * whose Message-ID is recorded as sent already -- the client sent it again
 * because the answer to the first attempt was lost after it was
 * journaled -- carries the token it was recorded with: the record keeps the
 * first attempt's, and replies and bounces must find it by the token the
 * delivered copy shows.  A mail to one recipient outside the company gets
 * a stamp that names that recipient (format 2: token-rmac), so a bounce
 * to it is believed for that recipient only. */
void
atsm_out_decide_stamps(struct atsm_out_ctx *c)
{
	const struct atsm_out_facts *f = c->f;
	const struct atsm_conf *conf = c->conf;
	struct atsm_out_plan *p = c->p;
	unsigned char id[ATSM_TOKEN_ID_LEN];
	char rmac[ATSM_VERP_RMAC_LEN + 1] = "";
	const char *rcpt;
	struct atsm_buf b;
	struct atsm_err e;

	if (c->mode == ATSM_OUT_LIVE && p->msgid_recorded && c->recorded_token[0] != '\0')
		snprintf(p->token, sizeof(p->token), "%.*s", (int)sizeof(p->token) - 1,
		    c->recorded_token);
	else if (f->token[0] != '\0')
		snprintf(p->token, sizeof(p->token), "%s", f->token);
	else if (c->mode == ATSM_OUT_LIVE && c->keys != NULL && c->keys->n > 0 &&
	    atsm_token_new_id(id, NULL) == 0)
		(void)atsm_token_make(c->keys, id, p->token);
	if (c->mode != ATSM_OUT_LIVE || !conf->verp || p->token[0] == '\0' ||
	    f->env_from == NULL || f->env_from[0] == '\0')
		return;
	if ((rcpt = sole_outside_recipient(c)) != NULL && c->keys != NULL && c->keys->n > 0)
		(void)atsm_verp_rcpt_mac(c->keys, 0, p->token, rcpt, rmac);
	atsm_buf_init(&b, sizeof(p->verp_sender) - 1);
	if (atsm_verp_make_rcpt(f->env_from, conf->recipient_delimiter != NULL ?
	    conf->recipient_delimiter[0] : '\0', conf->verp_tag, p->token, rmac, &b, &e) == 0) {
		snprintf(p->verp_sender, sizeof(p->verp_sender), "%s", atsm_buf_str(&b));
	} else if (rmac[0] != '\0') {
		/* a long local part: the stamp without the recipient still
		 * names the sent item (a bounce then needs a recipient of it) */
		atsm_buf_free(&b);
		atsm_buf_init(&b, sizeof(p->verp_sender) - 1);
		if (atsm_verp_make(f->env_from, conf->recipient_delimiter != NULL ?
		    conf->recipient_delimiter[0] : '\0', conf->verp_tag, p->token, &b, &e) == 0) {
			snprintf(p->verp_sender, sizeof(p->verp_sender), "%s", atsm_buf_str(&b));
			atsm_out_note(c, "VERP stamp without its recipient: too long with it");
		} else
			atsm_out_note(c, "no VERP stamp: %s", e.msg);
	} else
		atsm_out_note(c, "no VERP stamp: %s", e.msg);
	atsm_buf_free(&b);
}
