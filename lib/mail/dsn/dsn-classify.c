/* mail/dsn/dsn-classify.c -- hard or soft: the reason of one failure.
 *
 * Every reader ends here with a status code, a diagnostic text and, when
 * the notice says it, the SMTP command that failed.  The order of the
 * rules is the policy (docs/inbound-classification.md): a temporary
 * status is never hard; a refused sender or content is not the address's
 * fault; "mailbox full" and its kin beat "user unknown"; a dead-address
 * text beats a block or a time-out; the status code decides only when no
 * text did.  The wordings are the tables of dsn-tables.c.
 */
#include "mail/dsn/dsn-int.h"

#include <stdio.h>
#include <string.h>

static const char *
match_pattern(const struct atsm_dsn_pattern *t, const char *text)
{
	for (; t->text != NULL; t++)
		if (atsm_dsn_ci_has(text, t->text))
			return t->reason;
	return NULL;
}

char
atsm_dsn_smtp_command(const char *text)
{
	const struct atsm_dsn_phrase *p;

	if (text == NULL)
		return 0;
	for (p = atsm_dsn_smtp_phrases; p->text != NULL; p++)
		if (atsm_dsn_ci_has(text, p->text))
			return p->cmd;
	return 0;
}

static bool
status_is(const char *status, const char *v)
{
	return status != NULL && strcmp(status, v) == 0;
}

/* The reason a status code names by itself, or NULL. */
static const char *
status_reason(const char *status)
{
	const struct atsm_dsn_pattern *p;

	for (p = atsm_dsn_status_reasons; p->text != NULL; p++)
		if (status_is(status, p->text))
			return p->reason;
	return NULL;
}

bool
atsm_dsn_classify_cmd(const char *status, const char *text, char cmd,
    char *reason)
{
	const char *hard, *first, *late, *by_status;
	bool has_status = status != NULL && status[0] != '\0';

	hard = text != NULL ? match_pattern(atsm_dsn_hard_patterns, text) : NULL;
	first = text != NULL ? match_pattern(atsm_dsn_soft_first, text) : NULL;
	late = text != NULL ? match_pattern(atsm_dsn_soft_late, text) : NULL;
	/* a temporary failure never says the address is dead */
	if (has_status && status[0] == '4' && !status_is(status, "4.1.1")) {
		snprintf(reason, 16, "%s", first != NULL ? first :
		    late != NULL ? late : "expired");
		return false;
	}
	/* the sender or the content was refused, not the address */
	if (cmd == 'M' || (hard != NULL && cmd == 'D' &&
	    !(has_status && strncmp(status, "5.1.", 4) == 0))) {
		snprintf(reason, 16, "%s", cmd == 'M' ? "rejected" : "filtered");
		return false;
	}
	if (first != NULL) {
		snprintf(reason, 16, "%s", first);
		return false;
	}
	/* X.2.x speaks of a mailbox that exists (RFC 3463): a "user unknown"
	 * with it is a filter's answer unless RCPT TO itself was refused */
	if (hard != NULL && strcmp(hard, "userunknown") == 0 && has_status &&
	    strncmp(status + 1, ".2.", 3) == 0 && cmd != 'R') {
		snprintf(reason, 16, "filtered");
		return false;
	}
	if (hard != NULL) {
		snprintf(reason, 16, "%s", hard);
		return true;
	}
	if (late != NULL) {
		snprintf(reason, 16, "%s", late);
		return false;
	}
	if ((by_status = status_reason(status)) != NULL) {
		snprintf(reason, 16, "%s", by_status);
		return true;
	}
	snprintf(reason, 16, "%s", has_status ? "onhold" : "undefined");
	return false;
}

bool
atsm_dsn_classify(const char *status, const char *text, char *reason)
{
	return atsm_dsn_classify_cmd(status, text, atsm_dsn_smtp_command(text),
	    reason);
}
