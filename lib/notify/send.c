/* notify/send.c -- the notification sender's decisions (see notify/send.h).
 *
 * A 4xx reply or a lost connection is Postfix (or the network) being busy,
 * so the notification is tried again with a growing delay; a 5xx reply is
 * Postfix refusing this mail, which trying again does not change.  The
 * delay itself is the webhook sender's backoff (notify/webhook.h): one
 * rule for atsmail's retries.
 */
#include "notify/send.h"
#include "notify/compose.h"

#include <stdio.h>
#include <string.h>

bool
atsm_notify_kind_on(const struct atsm_conf_list *kinds, const char *kind)
{
	size_t i;

	for (i = 0; kinds != NULL && i < kinds->n; i++)
		if (strcmp(kinds->v[i], "all") == 0 || strcmp(kinds->v[i], kind) == 0)
			return true;
	return false;
}

const char *
atsm_notify_kinds_unknown(const struct atsm_conf_list *kinds)
{
	size_t i;

	for (i = 0; kinds != NULL && i < kinds->n; i++)
		if (strcmp(kinds->v[i], "all") != 0 && !atsm_notify_kind_known(kinds->v[i]))
			return kinds->v[i];
	return NULL;
}

void
atsm_notify_from(const struct atsm_conf *c, const char *host, char *out, size_t size)
{
	if (c->notify_from != NULL && c->notify_from[0] != '\0')
		snprintf(out, size, "%s", c->notify_from);
	else if (c->explain_from != NULL && c->explain_from[0] != '\0')
		snprintf(out, size, "%s", c->explain_from);
	else if (c->company_domains.n > 0)
		snprintf(out, size, "atsmail <postmaster@%s>", c->company_domains.v[0]);
	else if (c->ats_domain != NULL && c->ats_domain[0] != '\0')
		snprintf(out, size, "atsmail <postmaster@%s>", c->ats_domain);
	else
		snprintf(out, size, "atsmail <postmaster@%s>", host != NULL ? host : "localhost");
}

enum atsm_notify_outcome
atsm_notify_judge(int code, unsigned attempts, unsigned max_attempts)
{
	if (code >= 200 && code < 300)
		return ATSM_NOTIFY_SENT;
	if (code >= 500 && code < 600)
		return ATSM_NOTIFY_FAILED;
	return attempts >= max_attempts ? ATSM_NOTIFY_FAILED : ATSM_NOTIFY_RETRY;
}
