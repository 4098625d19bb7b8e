/* mail/autoreply.c -- auto-reply and mailer-daemon detection; see mail/autoreply.h.
 *
 * The header rules come first because they are what the sending software
 * declares (RFC 3834 Auto-Submitted, the de-facto X-Autoreply /
 * X-Autorespond, Precedence, Exchange's rule-loop marker); then whether
 * the message names a person at all; then the subject rules, which catch
 * the many vacation responders that declare nothing, in English and
 * Japanese, after RFC 2047 decoding.  Only the top-level headers are read:
 * a forwarded auto-reply inside a message/rfc822 part does not make the
 * outer message one.
 *
 * The envelope sender alone decides nothing when From or Reply-To names a
 * person: job boards and web forms relay a person's mail from noreply@ or
 * bounce@ envelopes, and that mail is the person's first real contact.
 * docs/inbound-classification.md lists the rules and the habits behind
 * them.
 */
#include "mail/autoreply.h"
#include "mail/addr.h"
#include "mail/rfc2047.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define SUBJECT_MAX 2048     /* bytes of the decoded Subject looked at */
#define PERSON_ADDRS_MAX 8   /* addresses of From / Reply-To looked at */

/* Local parts of system senders (compared case-insensitively, whole). */
static const char *const daemon_locals[] = {
	"mailer-daemon", "mailer_daemon", "mailerdaemon", "postmaster",
	"mail-daemon", "maildaemon", "bounce", "bounces", "double-bounce",
	"noreply", "no-reply", "no_reply", "donotreply", "do-not-reply",
	"do_not_reply", NULL
};

/* Subject phrases of auto-replies (case-insensitive substrings, UTF-8).
 * Not "自動送信" (automatically sent): web forms put it on the
 * notifications that carry a person's enquiry.  Not "absence": "leave of
 * absence" is a person's subject. */
static const char *const subject_phrases[] = {
	"out of office", "out of the office", "automatic reply", "auto reply",
	"autoreply", "auto-reply", "auto response", "autoresponse",
	"auto-response", "automatic response", "vacation", "away from the office",
	"away from my mail", "abwesenheit", "automatische antwort",
	"réponse automatique", "自動返信", "自動応答", "自動返答", "不在", "休暇",
	"外出", NULL
};

/* Prefixes with which a person answers or forwards (then a colon). */
static const char *const person_prefixes[] = {
	"re", "fw", "fwd", "aw", "wg", "sv", "vs", "tr", "rv", "antw", "res",
	"返信", "転送", "Ｒｅ", "ＲＥ", "回复", "答复", NULL
};

bool
atsm_ci_contains(const char *h, const char *n)
{
	size_t hl = strlen(h), nl = strlen(n), i;

	for (i = 0; i + nl <= hl; i++)
		if (strncasecmp(h + i, n, nl) == 0)
			return true;
	return false;
}

bool
atsm_auto_submitted(const char *value)
{
	const char *s = value + strspn(value, " \t");

	/* RFC 3834 3.1.7: any value but "no" (a comment may follow it) */
	return strncasecmp(s, "no", 2) != 0 || (s[2] != '\0' && strchr(" \t;(", s[2]) == NULL);
}

bool
atsm_mailer_daemon(const char *addr)
{
	const char *s, *at, *e;
	size_t n, k;

	if (addr == NULL)
		return true;
	while (*addr == ' ' || *addr == '\t')
		addr++;
	s = addr;
	if (*s == '<')
		s++;
	e = s + strcspn(s, ">");
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (e == s)
		return true;	/* the null sender "<>" or "" */
	at = memchr(s, '@', (size_t)(e - s));
	n = at != NULL ? (size_t)(at - s) : (size_t)(e - s);
	for (k = 0; daemon_locals[k] != NULL; k++)
		if (strlen(daemon_locals[k]) == n &&
		    strncasecmp(s, daemon_locals[k], n) == 0)
			return true;
	return false;
}

bool
atsm_names_person(const char *value)
{
	struct atsm_addr_list l;
	bool person = false;
	size_t k;

	if (value == NULL)
		return false;
	(void)atsm_addr_parse_list(value, strlen(value), PERSON_ADDRS_MAX, &l, NULL);
	for (k = 0; k < l.n && !person; k++)
		person = l.v[k].domain != NULL && !atsm_mailer_daemon(l.v[k].addr);
	atsm_addr_list_free(&l);
	return person;
}

/* The header value holds at least one address. */
static bool
has_address(const char *value)
{
	struct atsm_addr_list l;
	bool yes;

	if (value == NULL)
		return false;
	(void)atsm_addr_parse_list(value, strlen(value), PERSON_ADDRS_MAX, &l, NULL);
	yes = l.n > 0 && l.v[0].domain != NULL;
	atsm_addr_list_free(&l);
	return yes;
}

bool
atsm_mail_because(struct atsm_buf *reason, const char *what, const char *val)
{
	if (reason != NULL)
		(void)atsm_buf_printf(reason, "%s%s%.80s%s", what,
		    val != NULL ? " (" : "", val != NULL ? val : "",
		    val != NULL ? ")" : "");
	return true;
}

/* s starts as a person's answer or forward: "Re:", "RE[2]:", "Fwd :",
 * "AW:", "返信：" ... (a colon, ASCII or full-width, after the prefix). */
static bool
person_prefix(const char *s)
{
	size_t k, n;

	s += strspn(s, " \t");
	for (k = 0; person_prefixes[k] != NULL; k++) {
		const char *q;

		n = strlen(person_prefixes[k]);
		if (strncasecmp(s, person_prefixes[k], n) != 0)
			continue;
		q = s + n;
		if (isalpha((unsigned char)*q))
			continue;	/* "Resume", "Travel" */
		if (*q == '[' || *q == '(' || *q == '^') {	/* "Re[2]:", "Re^2:" */
			q++;
			q += strspn(q, "0123456789");
			if (*q == ']' || *q == ')')
				q++;
		}
		q += strspn(q, " \t");
		if (*q == ':' || strncmp(q, "\xef\xbc\x9a", 3) == 0)	/* ":" or "：" */
			return true;
	}
	return false;
}

bool
atsm_autoreply_subject(const struct atsm_mime_headers *h, struct atsm_buf *reason)
{
	struct atsm_buf subj;
	const char *s;
	size_t k;
	bool hit = false;

	atsm_buf_init(&subj, SUBJECT_MAX);
	if (atsm_mime_header_decoded(h, "Subject", &subj) != 0 &&
	    !person_prefix(s = atsm_buf_str(&subj)))
		for (k = 0; subject_phrases[k] != NULL && !hit; k++)
			if (atsm_ci_contains(s, subject_phrases[k]))
				hit = atsm_mail_because(reason, "auto-reply subject", s);
	atsm_buf_free(&subj);
	return hit;
}

bool
atsm_autoreply_detect(const struct atsm_mime_msg *m, const char *env_from,
    struct atsm_buf *reason)
{
	const struct atsm_mime_headers *h;
	const char *v, *from, *reply_to;

	if (m == NULL || m->n == 0)
		return false;
	h = &m->v[0].hdr;
	if ((v = atsm_mime_header(h, "Auto-Submitted")) != NULL && atsm_auto_submitted(v))
		return atsm_mail_because(reason, "Auto-Submitted", v);
	if (atsm_mime_header(h, "X-Autoreply") != NULL)
		return atsm_mail_because(reason, "X-Autoreply header", NULL);
	if (atsm_mime_header(h, "X-Autorespond") != NULL)
		return atsm_mail_because(reason, "X-Autorespond header", NULL);
	if (atsm_mime_header(h, "X-Autoresponder") != NULL)
		return atsm_mail_because(reason, "X-Autoresponder header", NULL);
	if ((v = atsm_mime_header(h, "Precedence")) != NULL && atsm_ci_contains(v, "auto_reply"))
		return atsm_mail_because(reason, "Precedence", v);
	/* Exchange's server-side rules (an OOF rule, a redirect) mark their mail */
	if (atsm_mime_header(h, "X-MS-Exchange-Inbox-Rules-Loop") != NULL)
		return atsm_mail_because(reason, "X-MS-Exchange-Inbox-Rules-Loop header", NULL);
	/* vacation(1) and its kin answer with Precedence: bulk or junk (an
	 * unanswering one is bulk mail: mail/mailkind.c) */
	if (v != NULL && (atsm_ci_contains(v, "bulk") || atsm_ci_contains(v, "junk")) &&
	    (atsm_mime_header(h, "In-Reply-To") != NULL ||
	    atsm_mime_header(h, "References") != NULL))
		return atsm_mail_because(reason, "Precedence on an answer", v);
	/* who it is from: a person named in From or Reply-To outweighs the
	 * envelope (relays), a system sender in From with nobody in
	 * Reply-To is a machine speaking */
	from = atsm_mime_header(h, "From");
	reply_to = atsm_mime_header(h, "Reply-To");
	if (!atsm_names_person(from) && !atsm_names_person(reply_to)) {
		if (has_address(from))
			return atsm_mail_because(reason, "From is a mailer-daemon or system sender", from);
		if (env_from != NULL && atsm_mailer_daemon(env_from))
			return atsm_mail_because(reason,
			    "no address in From, envelope sender is null or a mailer-daemon", env_from);
	}
	return atsm_autoreply_subject(h, reason);
}
