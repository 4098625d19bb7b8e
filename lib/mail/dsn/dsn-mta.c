/* mail/dsn/dsn-mta.c -- which MTA wrote a notice, and at which SMTP stage
 * its notices report a failure.
 *
 * "User unknown" is a dead address only when the address itself was
 * refused: a status X.1.x, or a refusal of RCPT TO (dsn-classify.c).
 * Most notices say the command ("in reply to RCPT TO", ">>> DATA"); some
 * formats never do, but their layout tells the stage:
 *
 *  - 'R': the MTA that writes the notice looked the recipient up itself
 *    and lists the addresses it refused (Exchange 2003's embedded report,
 *    Lotus Notes and Domino, iMail, McAfee's appliance, a Japanese
 *    carrier's postmaster): its "user
 *    unknown" is the answer to RCPT TO;
 *  - 'A': the notice quotes the remote server's reply (RFC 3464's
 *    Diagnostic-Code, Yahoo's notice): under a generic status (X.0.0 or
 *    none), a reply that names the recipient answered RCPT TO, the only
 *    command whose reply names it;
 *  - 'F': a content filter's gateway (SurfControl): what it reports was
 *    refused by its filter, whatever the form of the reply;
 *  - 0: nothing known; plain notices that print only the words "user
 *    unknown" (filter appliances such as ActiveHunter or MXLogic, the
 *    notices that speak of no command) are a filter's answer, soft.
 *
 * A format is recognised by a header field of the bounce itself (the
 * table below); the marks are our own reading of real notices
 * (tests/data/bounces/).
 */
#include "mail/dsn/dsn-int.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* A header field of the bounce and how its value must read: 'f' the
 * field is there, 'p' the value starts with text, 'e' it is text (trailing
 * blanks aside), 'c' it contains text; all case-insensitive. */
struct mta_mark {
	const char *field;
	char how;
	const char *text;
	char stage;
};

static const struct mta_mark mta_marks[] = {
	/* Exchange 2003 */
	{ "X-MS-Embedded-Report", 'f', "", 'R' },
	{ "X-MimeOLE", 'p', "Produced By Microsoft Exchange", 'R' },
	{ "X-Mailer", 'p', "Internet Mail Service", 'R' },
	/* Lotus Notes, Domino */
	{ "Subject", 'p', "Undeliverable message", 'R' },
	{ "Subject", 'p', "DELIVERY FAILURE:", 'R' },
	{ "Subject", 'p', "DELIVERY_FAILURE:", 'R' },
	/* iMail */
	{ "X-Mailer", 'p', "<SMTP32 v", 'R' },
	{ "Subject", 'e', "Undeliverable Mail", 'R' },
	/* McAfee's appliance */
	{ "X-NAI-Header", 'f', "", 'R' },
	/* a Japanese carrier's postmaster reports its own mailboxes */
	{ "From", 'c', "@ezweb.ne.jp", 'R' },
	/* Yahoo quotes the remote reply */
	{ "X-YMailISG", 'f', "", 'A' },
	/* a content filter's gateway reports what its filter refused, even
	 * in a reply that names the recipient */
	{ "X-Mailer", 'p', "SurfControl", 'F' },
	{ NULL, 0, NULL, 0 }
};

static bool
mark_matches(const struct mta_mark *k, const char *v)
{
	size_t l = strlen(k->text), vl;

	while (*v == ' ' || *v == '\t')
		v++;
	switch (k->how) {
	case 'f':
		return true;
	case 'p':
		return strncasecmp(v, k->text, l) == 0;
	case 'c':
		return atsm_dsn_ci_has(v, k->text);
	default:
		vl = strlen(v);
		while (vl > 0 && isspace((unsigned char)v[vl - 1]))
			vl--;
		return vl == l && strncasecmp(v, k->text, l) == 0;
	}
}

char
atsm_dsn_mta_stage(const struct atsm_mime_msg *m)
{
	const struct mta_mark *k;

	for (k = mta_marks; k->field != NULL; k++) {
		const char *v = atsm_mime_header(&m->v[0].hdr, k->field);

		if (v != NULL && mark_matches(k, v))
			return k->stage;
	}
	return 0;
}

bool
atsm_dsn_reply_names_addr(const char *t)
{
	const char *p, *q;

	if (t == NULL)
		return false;
	for (p = t; *p != '\0'; p++) {
		if ((p != t && isalnum((unsigned char)p[-1])) ||
		    (*p != '4' && *p != '5') || !isdigit((unsigned char)p[1]) ||
		    !isdigit((unsigned char)p[2]) ||
		    (p[3] != ' ' && p[3] != '-' && p[3] != ':'))
			continue;
		for (q = p + 4; *q != '\0' && *q != '\n'; q++)
			if (*q == '@' && q > p + 4 && isalnum((unsigned char)q[-1]) &&
			    isalnum((unsigned char)q[1]))
				return true;
	}
	return false;
}

char
atsm_dsn_stage_cmd(char stage, const char *status, const char *diag)
{
	if (stage == 'R')
		return 'R';
	/* a specific status (X.2.x, X.7.x) says more than the form of the
	 * reply: the mailbox exists, a policy refused the mail */
	if (stage == 'A' && atsm_dsn_is_generic_status(status) &&
	    atsm_dsn_reply_names_addr(diag))
		return 'R';
	return 0;
}
