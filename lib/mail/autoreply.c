/* mail/autoreply.c -- auto-reply and mailer-daemon detection; see mail/autoreply.h.
 *
 * The header rules come first because they are what the sending software
 * declares (RFC 3834 Auto-Submitted, the de-facto X-Autoreply /
 * X-Autorespond, Precedence, Microsoft's OOF markers); the subject rules
 * catch the many vacation responders that declare nothing, in English and
 * Japanese, after RFC 2047 decoding.  Only the top-level headers are read:
 * a forwarded auto-reply inside a message/rfc822 part does not make the
 * outer message one.  docs/inbound-classification.md lists the rules.
 */
#include "mail/autoreply.h"
#include "mail/addr.h"
#include "mail/rfc2047.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* Local parts of system senders (compared case-insensitively, whole). */
static const char *const daemon_locals[] = {
	"mailer-daemon", "mailer_daemon", "mailerdaemon", "postmaster",
	"mail-daemon", "maildaemon", "bounce", "bounces", "double-bounce",
	"noreply", "no-reply", "no_reply", "donotreply", "do-not-reply",
	"do_not_reply", NULL
};

/* Subject phrases of auto-replies (case-insensitive substrings, UTF-8). */
static const char *const subject_phrases[] = {
	"out of office", "out of the office", "automatic reply", "auto reply",
	"autoreply", "auto-reply", "auto response", "autoresponse",
	"auto-response", "automatic response", "vacation", "away from the office",
	"abwesenheit", "absence", "自動返信", "自動応答", "自動送信", "不在",
	"休暇", "外出", NULL
};

static bool
ci_contains(const char *h, const char *n)
{
	size_t hl = strlen(h), nl = strlen(n), i;

	for (i = 0; i + nl <= hl; i++)
		if (strncasecmp(h + i, n, nl) == 0)
			return true;
	return false;
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

static bool
reason_set(struct atsm_buf *reason, const char *what, const char *val)
{
	if (reason != NULL)
		(void)atsm_buf_printf(reason, "%s%s%.80s%s", what,
		    val != NULL ? " (" : "", val != NULL ? val : "",
		    val != NULL ? ")" : "");
	return true;
}

bool
atsm_autoreply_detect(const struct atsm_mime_msg *m, const char *env_from,
    struct atsm_buf *reason)
{
	const struct atsm_mime_headers *h;
	const char *v;
	struct atsm_buf subj;
	size_t k;
	bool hit = false;

	if (env_from != NULL && atsm_mailer_daemon(env_from))
		return reason_set(reason, "envelope sender is null or a mailer-daemon",
		    env_from);
	if (m == NULL || m->n == 0)
		return false;
	h = &m->v[0].hdr;
	if ((v = atsm_mime_header(h, "Auto-Submitted")) != NULL &&
	    strncasecmp(v, "no", 2) != 0)
		return reason_set(reason, "Auto-Submitted", v);
	if ((v = atsm_mime_header(h, "Auto-Submitted")) != NULL &&
	    strlen(v) > 2 && strchr(" \t;(", v[2]) == NULL)
		return reason_set(reason, "Auto-Submitted", v);
	if (atsm_mime_header(h, "X-Autoreply") != NULL)
		return reason_set(reason, "X-Autoreply header", NULL);
	if (atsm_mime_header(h, "X-Autorespond") != NULL)
		return reason_set(reason, "X-Autorespond header", NULL);
	if (atsm_mime_header(h, "X-Autoresponder") != NULL)
		return reason_set(reason, "X-Autoresponder header", NULL);
	if ((v = atsm_mime_header(h, "Precedence")) != NULL &&
	    (ci_contains(v, "auto_reply") || ci_contains(v, "bulk") ||
	    ci_contains(v, "junk")))
		return reason_set(reason, "Precedence", v);
	if (atsm_mime_header(h, "X-MS-Exchange-Inbox-Rules-Loop") != NULL)
		return reason_set(reason, "X-MS-Exchange-Inbox-Rules-Loop header", NULL);
	/* Exchange marks its OOF replies with this suppression of further ones */
	if ((v = atsm_mime_header(h, "X-Auto-Response-Suppress")) != NULL &&
	    (ci_contains(v, "oof") || ci_contains(v, "all")) &&
	    atsm_mime_header(h, "In-Reply-To") != NULL &&
	    atsm_mime_header(h, "Thread-Topic") != NULL)
		return reason_set(reason, "X-Auto-Response-Suppress on a reply", v);
	if ((v = atsm_mime_header(h, "From")) != NULL) {
		struct atsm_addr_list l;

		(void)atsm_addr_parse_list(v, strlen(v), 4, &l, NULL);
		for (k = 0; k < l.n; k++)
			if (atsm_mailer_daemon(l.v[k].addr))
				hit = true;
		atsm_addr_list_free(&l);
		if (hit)
			return reason_set(reason, "From is a mailer-daemon", v);
	}
	atsm_buf_init(&subj, 2048);
	if (atsm_mime_header_decoded(h, "Subject", &subj) != 0) {
		for (k = 0; subject_phrases[k] != NULL && !hit; k++)
			if (ci_contains(atsm_buf_str(&subj), subject_phrases[k])) {
				hit = true;
				reason_set(reason, "auto-reply subject",
				    atsm_buf_str(&subj));
			}
	}
	atsm_buf_free(&subj);
	return hit;
}
