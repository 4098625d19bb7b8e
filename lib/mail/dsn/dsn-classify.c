/* mail/dsn/dsn-classify.c -- the reason of one failure, and hard or soft.
 *
 * Every reader ends here with a status code, a diagnostic text and, when
 * the notice says it, the SMTP command that failed.  The reason comes
 * first, from the wordings of dsn-tables.c and the status code; hard or
 * soft is derived from the reason and the evidence together
 * (docs/bounces.md):
 *
 *  - a refused sender (MAIL FROM) is "rejected": never the address;
 *  - a mailbox that exists but cannot take the mail now (full, too big,
 *    suspended, relaying refused) wins over "user unknown", which such
 *    notices often repeat;
 *  - a dead mailbox is hard only with evidence that the address itself
 *    was refused: a status X.1.x (RFC 3463: addressing), or the refusal
 *    answered RCPT TO (said by the notice, or known from the notice's
 *    format: dsn-mta.c).  Without that evidence the same words are a
 *    filter's answer ("filtered", soft): after DATA, under X.2.x / X.7.x,
 *    under a bare 5.0.0, or with no status and no command at all.  With
 *    evidence the class of the status does not matter (some servers
 *    answer an unknown user with 4xx);
 *  - a dead host or domain (5xx; under 4xx, or under no specific status
 *    with words of a temporary failure ("try again"), it is a name server that did not answer:
 *    networkerror, soft), a moved address and a domain that
 *    accepts no mail (null MX, 5xx) are hard;
 *  - every other wording names a soft reason (policy, spam, blocked,
 *    expired, network...); a status alone decides only when no wording
 *    did (5.1.1 userunknown, 5.1.2 hostunknown ...); nothing at all is
 *    "onhold" (a status) or "undefined", soft.
 */
#include "mail/dsn/dsn-int.h"

#include <ctype.h>
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
atsm_dsn_is_generic_status(const char *status)
{
	return status == NULL || status[0] == '\0' ||
	    strcmp(status + 1, ".0.0") == 0;
}

static bool
put(char *reason, const char *r, bool hard)
{
	snprintf(reason, 16, "%s", r);
	return hard;
}

/* text with every run of white space (a folded line, an indented
 * continuation, "Recipient\n    address rejected") as one space, so that
 * a wording matches however the notice wrapped it; at most size-1 bytes. */
static void
squeeze(const char *text, char *out, size_t size)
{
	size_t o = 0;
	bool space = false;

	for (; *text != '\0' && o + 1 < size; text++) {
		if (*text == ' ' || *text == '\t' || *text == '\r' || *text == '\n') {
			space = true;
			continue;
		}
		if (space && o > 0 && o + 2 < size)
			out[o++] = ' ';
		space = false;
		out[o++] = *text;
	}
	out[o] = '\0';
}

bool
atsm_dsn_classify_cmd(const char *status, const char *raw, char cmd,
    char *reason)
{
	char buf[ATSM_DSN_CLASSIFY_MAX + 1];
	const char *text = NULL;
	const char *hard, *first, *late, *by_status;
	bool has_status = status != NULL && status[0] != '\0';
	bool addressing = has_status && strncmp(status + 1, ".1.", 3) == 0;

	if (raw != NULL) {
		squeeze(raw, buf, sizeof(buf));
		text = buf;
	}

	hard = text != NULL ? match_pattern(atsm_dsn_hard_patterns, text) : NULL;
	first = text != NULL ? match_pattern(atsm_dsn_soft_first, text) : NULL;
	late = text != NULL ? match_pattern(atsm_dsn_soft_late, text) : NULL;
	by_status = status_reason(status);
	if (cmd == 'M')
		return put(reason, "rejected", false);
	if (first != NULL)
		return put(reason, first, false);
	if (hard != NULL && strcmp(hard, "userunknown") == 0) {
		if (addressing || cmd == 'R')
			return put(reason, "userunknown", true);
		/* after DATA, under a status that speaks of a mailbox that
		 * exists (X.2.x), of the content and policy (X.7.x), under a
		 * bare X.0.0 or none: nothing says the address was refused;
		 * the words are a filter's */
		return put(reason, "filtered", false);
	}
	if (hard != NULL && strcmp(hard, "notaccept") == 0)
		return put(reason, hard, !has_status || status[0] != '4');
	/* a name server that did not answer now is no dead domain */
	if (hard != NULL && strcmp(hard, "hostunknown") == 0 &&
	    ((has_status && status[0] == '4') ||
	    (atsm_dsn_is_generic_status(status) &&
	    match_pattern(atsm_dsn_temporary, text) != NULL)))
		return put(reason, "networkerror", false);
	if (hard != NULL)
		return put(reason, hard, true);
	if (late != NULL)
		return put(reason, late, false);
	if (by_status != NULL)
		return put(reason, by_status, strcmp(by_status, "notaccept") != 0 ||
		    status[0] != '4');
	return put(reason, has_status ? (status[0] == '4' ? "expired" :
	    "onhold") : "undefined", false);
}

bool
atsm_dsn_classify(const char *status, const char *text, char *reason)
{
	char cmd = atsm_dsn_smtp_command(text);

	/* text is a diagnostic: a server's reply (dsn-mta.c, stage 'A') */
	if (cmd == 0)
		cmd = atsm_dsn_stage_cmd('A', status, text);
	return atsm_dsn_classify_cmd(status, text, cmd, reason);
}
