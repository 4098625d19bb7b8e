/* outbound/decide-approval.c -- a mail that decides on held mail
 * (ats+approve.<id>, ats+reject.<id>; docs/approval.md).
 *
 * Such a mail is a command to the server, not mail to anyone: it goes
 * alone (only command addresses, no other command), from a logged-in
 * user, and is then a DECISION -- the milter asks PostgreSQL whether the
 * user approves that mail's sender and records the request, and Postfix
 * delivers the mail nowhere (atsmaild/milter-approval.c).  What
 * PostgreSQL answers becomes a refusal here too
 * (atsm_out_approval_answer), so that every sentence has one author.
 * Root applies the requests later (`atsmailctl approval run`).
 */
#include "outbound/decide-ctx.h"

#include <stdio.h>
#include <string.h>

static const char *
decision_addr(const struct atsm_out_ctx *c, char *buf, size_t size)
{
	const struct atsm_command_set *cs = &c->p->commands;

	return atsm_out_cmd_addr(c, buf, size, "%s.%llu", cs->approval > 0 ? "approve" : "reject",
	    cs->approval_id);
}

int
atsm_out_decide_approval(struct atsm_out_ctx *c)
{
	const struct atsm_command_set *cs = &c->p->commands;
	struct atsm_command_set only;
	char addr[ATSM_REFUSAL_ADDR_MAX];
	size_t i;

	decision_addr(c, addr, sizeof(addr));
	/* nothing else in the set: the same set with the decision alone */
	atsm_command_set_init(&only);
	only.any = true;
	only.approval = cs->approval;
	only.approval_id = cs->approval_id;
	for (i = 0; i < c->p->n_rcpts; i++)
		if (!c->p->rcpts[i].is_command)
			break;
	if (i < c->p->n_rcpts || memcmp(&only, cs, sizeof(only)) != 0) {
		(void)atsm_out_refuse(c, ATSM_REFUSAL_APPROVAL_MIXED, addr, NULL, NULL);
		return 0;
	}
	if (c->f->login == NULL || c->f->login[0] == '\0') {
		(void)atsm_out_refuse(c, ATSM_REFUSAL_APPROVAL_NO_LOGIN, addr, NULL, NULL);
		return 0;
	}
	c->p->verdict = ATSM_OUT_DECISION;
	return 0;
}

int
atsm_out_approval_answer(const struct atsm_conf *conf, const struct atsm_command_set *cs,
    const char *state, const char *sender, const char *decided, struct atsm_refusal *r)
{
	const char *lp = conf->command_localpart != NULL && conf->command_localpart[0] != '\0' ?
	    conf->command_localpart : ATSM_COMMAND_LOCALPART_DEFAULT;
	char addr[ATSM_REFUSAL_ADDR_MAX], id[32];
	enum atsm_refusal_kind k;

	snprintf(id, sizeof(id), "%llu", cs->approval_id);
	snprintf(addr, sizeof(addr), "%s+%s.%s@%s", lp, cs->approval > 0 ? "approve" : "reject",
	    id, conf->ats_domain != NULL ? conf->ats_domain : "");
	if (state != NULL && strcmp(state, "recorded") == 0)
		return 0;
	if (state == NULL)
		k = ATSM_REFUSAL_OTHER;
	else if (strcmp(state, "not_user") == 0)
		k = ATSM_REFUSAL_NOT_USER;
	else if (strcmp(state, "not_held") == 0)
		k = ATSM_REFUSAL_NOT_HELD;
	else if (strcmp(state, "decided") == 0)
		k = ATSM_REFUSAL_DECIDED;
	else if (strcmp(state, "not_approver") == 0)
		k = ATSM_REFUSAL_NOT_APPROVER;
	else
		k = ATSM_REFUSAL_OTHER;
	if (k == ATSM_REFUSAL_NOT_USER)
		atsm_refusal_set(r, k, lp, conf->ats_domain, addr, sender, NULL);
	else
		atsm_refusal_set(r, k, lp, conf->ats_domain, addr, id,
		    k == ATSM_REFUSAL_DECIDED ? decided : sender);
	if (k == ATSM_REFUSAL_OTHER)
		snprintf(r->text, sizeof(r->text), "the decision %s cannot be recorded (%s)", addr,
		    state != NULL ? state : "no answer");
	return 1;
}
