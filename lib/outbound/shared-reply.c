/* outbound/shared-reply.c -- the double-response guard of shared
 * mailboxes and what an accepted reply does (see outbound/shared-reply.h).
 *
 * The sentence names the other member by login, with the display name
 * when it is plain ASCII: the SMTP reply is ASCII (outbound/refusal.h), and
 * a login is what every member recognises in either language.
 */
#include "outbound/shared-reply.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "rules/command.h"

static bool
printable_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* "Display Name <login>", or the login alone. */
static void
who(char *out, size_t n, const char *login, const char *name)
{
	if (name[0] != '\0' && printable_ascii(name) && strpbrk(name, "<>") == NULL)
		snprintf(out, n, "%s <%s>", name, login);
	else
		snprintf(out, n, "%s", login);
}

enum atsm_shared_whose
atsm_shared_thread_whose(const struct atsm_shared_thread *t, const char *sender)
{
	if (t->assignee[0] != '\0' && strcasecmp(t->assignee, sender) == 0)
		return ATSM_SHARED_FREE;
	if (t->answered_by[0] != '\0' && strcasecmp(t->answered_by, sender) != 0)
		return ATSM_SHARED_OTHERS_ANSWER;
	if (t->assignee[0] != '\0')
		return ATSM_SHARED_OTHERS_ASSIGNED;
	return ATSM_SHARED_FREE;
}

enum atsm_shared_reply_action
atsm_shared_reply_decide(const struct atsm_conf *conf, const char *sender, bool force,
    const struct atsm_shared_thread *v, size_t n, struct atsm_shared_reply *out)
{
	const char *lp = conf->command_localpart != NULL && conf->command_localpart[0] != '\0' ?
	    conf->command_localpart : ATSM_COMMAND_LOCALPART_DEFAULT;
	char name[ATSM_REFUSAL_ARG_MAX];
	bool any = false;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->action = ATSM_SHARED_REPLY_NONE;
	out->status = conf->shared_answered_status == ATSM_SHARED_ANSWERED_PROGRESS ?
	    ATSM_SHARED_PROGRESS : ATSM_SHARED_DONE;
	if (sender == NULL || sender[0] == '\0')
		return out->action;
	for (i = 0; i < n; i++) {
		const struct atsm_shared_thread *t = &v[i];
		enum atsm_shared_whose w;

		if (!t->member)
			continue;
		any = true;
		if (out->refusal.kind != ATSM_REFUSAL_NONE)
			continue;
		w = atsm_shared_thread_whose(t, sender);
		if (w == ATSM_SHARED_OTHERS_ANSWER) {
			who(name, sizeof(name), t->answered_by, t->answered_name);
			atsm_refusal_set(&out->refusal, ATSM_REFUSAL_SHARED_ANSWERED, lp,
			    conf->ats_domain, t->mailbox, name, t->answered_at);
		} else if (w == ATSM_SHARED_OTHERS_ASSIGNED) {
			who(name, sizeof(name), t->assignee, t->assignee_name);
			atsm_refusal_set(&out->refusal, ATSM_REFUSAL_SHARED_ASSIGNED, lp,
			    conf->ats_domain, t->mailbox, name, t->assignee_since);
		} else
			continue;
		out->thread = i;
	}
	if (!any)
		return out->action;
	if (out->refusal.kind == ATSM_REFUSAL_NONE)
		out->action = ATSM_SHARED_REPLY_ANSWER;
	else
		out->action = force ? ATSM_SHARED_REPLY_FORCED : ATSM_SHARED_REPLY_REFUSE;
	return out->action;
}
