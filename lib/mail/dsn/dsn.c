/* mail/dsn/dsn.c -- bounce (delivery status notification) parser; see mail/dsn/dsn.h.
 *
 * Two readers share one result.  The standard one reads every
 * message/delivery-status part of an RFC 3464 report (per-recipient field
 * blocks: Final-Recipient, Original-Recipient, Action, Status,
 * Diagnostic-Code), then reads the human-readable notice for what the
 * blocks seldom say: at which SMTP command each recipient failed, and why
 * when Diagnostic-Code is missing.  The text one reads the notice that the
 * non-standard formats send instead (qmail, Exim, Postfix, Sendmail,
 * Exchange, carriers, ...): it cuts the notice where the copy of the
 * original message starts, takes the addresses that stand at the start of
 * a line, after "RCPT TO:" or in a Sendmail "550 <a@b>... reason" line
 * (the ways such formats list the failed recipients) or else the first
 * address of the notice, and classifies the paragraph around each.
 * Bounce-ness of a text notice is decided by who sent it (mailer-daemon,
 * postmaster, null sender), by a bounce subject, or by an SMTP dialogue in
 * the notice, so that an ordinary mail that quotes an address is not a
 * bounce.  The original message is read from a message/rfc822 or
 * text/rfc822-headers part, or from the header block after the marker.
 * atsm_dsn_classify() decides the reason, and from it hard or soft, from
 * the status code, the SMTP command and the pattern tables below
 * (docs/inbound-classification.md).
 */
#include "mail/dsn/dsn.h"
#include "mail/addr.h"
#include "mail/autoreply.h"
#include "base/buf.h"
#include "mail/mime.h"
#include "mail/rfc2047.h"
#include "mail/rfc2231.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Addresses of the bounce itself (its From, To): never a failed recipient. */
#define DSN_MAX_SELF 8
/* Bytes of a notice read when a recipient's own paragraph said nothing:
 * the classification is a substring search per pattern, keep it cheap. */
#define DSN_CLASSIFY_MAX 8192

struct dsn_ctx {
	struct atsm_dsn *d;
	const struct atsm_mime_msg *m;
	char *self[DSN_MAX_SELF];
	size_t nself;
	bool allow_self;	/* second try: the bounce was sent to the recipient */
	int nomem;
	/* the reporting MTA's own verdict per recipient (PowerMTA's
	 * X-PowerMTA-BounceCategory): 'U' bad mailbox, 'H' bad domain */
	char verdict[ATSM_DSN_MAX_RCPTS];
};

/* ---- small string helpers ---- */

static const char *
ci_find(const char *h, size_t hl, const char *n)
{
	size_t nl = strlen(n), i;

	if (nl == 0 || hl < nl)
		return NULL;
	for (i = 0; i + nl <= hl; i++)
		if (strncasecmp(h + i, n, nl) == 0)
			return h + i;
	return NULL;
}

static bool
ci_has(const char *h, const char *n)
{
	return h != NULL && ci_find(h, strlen(h), n) != NULL;
}

static char *
dup_n(const char *p, size_t n, size_t max)
{
	char *s;

	if (n > max)
		n = max;
	while (n > 0 && (p[n - 1] & 0xc0) == 0x80 && n == max)
		n--;	/* do not cut a UTF-8 character */
	if ((s = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* ---- classification ---- */

struct pattern {
	const char *text;
	const char *reason;
};

/* Texts that say the mailbox exists but cannot take mail now (full,
 * disabled) or that the message is too big for it: soft, and checked
 * before the dead-address texts so that a "5.1.1 mailbox full" is not
 * taken for an unknown user. */
static const struct pattern soft_first[] = {
	{ "mailbox full", "mailboxfull" }, { "mailbox is full", "mailboxfull" },
	{ "over quota", "mailboxfull" }, { "overquota", "mailboxfull" },
	{ "quota exceeded", "mailboxfull" }, { "exceeded storage", "mailboxfull" },
	{ "exceeds the quota", "mailboxfull" }, { "quota", "mailboxfull" },
	{ "insufficient disk", "mailboxfull" }, { "mailbox size limit", "mailboxfull" },
	{ "not enough storage", "mailboxfull" }, { "out of storage", "mailboxfull" },
	{ "mailbox is over", "mailboxfull" }, { "disk full", "systemfull" },
	{ "message is too large", "mesgtoobig" }, { "message too large", "mesgtoobig" },
	{ "message size exceeds", "mesgtoobig" }, { "size limit", "mesgtoobig" },
	{ "relay access denied", "norelaying" },
	{ "relaying denied", "norelaying" }, { "relay not permitted", "norelaying" },
	{ "unable to relay", "norelaying" },
	{ "account is disabled", "suspend" }, { "account has been disabled", "suspend" },
	{ "account disabled", "suspend" }, { "mailbox disabled", "suspend" },
	{ "is inactive", "suspend" }, { "suspended", "suspend" },
	{ NULL, NULL }
};

/* Texts that say the message or the sender was refused, or that the
 * delivery failed on the way: soft, but only when no dead-address text
 * is there too (a "user unknown" that also mentions a block list, a
 * "try again" or a time-out is still about the address). */
static const struct pattern soft_late[] = {
	{ "spam", "spamdetected" }, { "virus", "virusdetected" },
	{ "blocked", "blocked" }, { "blacklist", "blocked" }, { "block list", "blocked" },
	{ "blocklist", "blocked" }, { "denied by policy", "policyviolation" },
	{ "policy", "policyviolation" }, { "rate limit", "toomanyconn" },
	{ "too many", "toomanyconn" },
	{ "retry timeout exceeded", "expired" }, { "retry time not reached", "expired" },
	{ "delivery time expired", "expired" }, { "message expired", "expired" },
	{ "could not be delivered for", "expired" }, { "has not yet been delivered", "expired" },
	{ "delayed", "expired" }, { "timed out", "expired" }, { "timeout", "expired" },
	{ "connection refused", "networkerror" }, { "no route to host", "networkerror" },
	{ "mail loop", "networkerror" }, { "loops back to myself", "networkerror" },
	{ "too many hops", "networkerror" }, { "routing loop", "networkerror" },
	{ "domain filter", "filtered" }, { "rejected by the domain", "filtered" },
	{ "rejected due to", "filtered" }, { "syntax", "syntaxerror" }, { "try again", "networkerror" },
	{ "malformed or unexpected name server", "networkerror" },
	{ NULL, NULL }
};

/* Texts that say the address is dead: hard. */
static const struct pattern hard_patterns[] = {
	{ "user unknown", "userunknown" }, { "unknown user", "userunknown" },
	{ "no such user", "userunknown" }, { "user not found", "userunknown" },
	{ "user doesn't exist", "userunknown" }, { "user does not exist", "userunknown" },
	{ "no such mailbox", "userunknown" }, { "mailbox not found", "userunknown" },
	{ "mailbox unavailable", "userunknown" }, { "mailbox does not exist", "userunknown" },
	{ "no mailbox", "userunknown" }, { "invalid mailbox", "userunknown" },
	{ "unknown recipient", "userunknown" }, { "recipient unknown", "userunknown" },
	{ "no such recipient", "userunknown" }, { "invalid recipient", "userunknown" },
	{ "recipient not found", "userunknown" }, { "recipient does not exist", "userunknown" },
	{ "address unknown", "userunknown" }, { "unknown address", "userunknown" },
	{ "address does not exist", "userunknown" }, { "address doesn't exist", "userunknown" },
	{ "account does not exist", "userunknown" }, { "account that you tried to reach does not exist", "userunknown" },
	{ "no such person", "userunknown" }, { "not a valid mailbox", "userunknown" },
	{ "unknown local part", "userunknown" }, { "unknown or illegal alias", "userunknown" },
	{ "no such local user", "userunknown" }, { "unrouteable address", "userunknown" },
	{ "is not a known user", "userunknown" }, { "not listed in", "userunknown" },
	{ "does not have an account", "userunknown" }, { "no valid recipients", "userunknown" },
	{ "recipient address rejected: undeliverable", "userunknown" },
	{ "recipient address rejected: access denied", "userunknown" },
	{ "unknown mailbox", "userunknown" }, { "invalid address", "userunknown" },
	{ "this account does not exist", "userunknown" },
	{ "not our customer", "userunknown" },
	{ "host unknown", "hostunknown" }, { "unknown host", "hostunknown" },
	{ "host not found", "hostunknown" }, { "domain not found", "hostunknown" },
	{ "host or domain name not found", "hostunknown" },
	{ "name or service not known", "hostunknown" }, { "no such domain", "hostunknown" },
	{ "unrouteable mail domain", "hostunknown" }, { "domain does not exist", "hostunknown" },
	{ "non-existent hosts", "hostunknown" }, { "nxdomain", "hostunknown" },
	{ "find a mail exchanger", "hostunknown" },
	{ "no smtp service", "notaccept" }, { "doesn't have a", "userunknown" },
	{ "invalid final delivery userid", "userunknown" },
	{ "見つかりません", "userunknown" },
	{ "address couldn't be found", "userunknown" },
	{ "address could not be found", "userunknown" },
	{ "ディレクトリのリストにありません", "userunknown" },
	{ "domain may not exist", "hostunknown" },
	{ "domain is not reachable", "hostunknown" },
	{ "has moved", "hasmoved" }, { "address has been changed", "hasmoved" },
	{ "does not accept mail", "notaccept" }, { "null mx", "notaccept" },
	{ NULL, NULL }
};

static const char *
match_pattern(const struct pattern *t, const char *text)
{
	for (; t->text != NULL; t++)
		if (ci_has(text, t->text))
			return t->reason;
	return NULL;
}

/* The SMTP command a failure answered, from the words around it:
 * 'D' (DATA), 'M' (MAIL FROM), 'R' (RCPT TO) or 0 when unknown. */
static char
smtp_command(const char *text)
{
	if (text == NULL)
		return 0;
	/* the answer to DATA when every RCPT TO was refused: the refusal
	 * seen after ">>> DATA" was a pipelined RCPT TO reply */
	if (ci_has(text, "no valid recipients"))
		return 'R';
	if (ci_has(text, "end of data") || ci_has(text, ">>> data") ||
	    ci_has(text, "after data") || ci_has(text, "reply to data"))
		return 'D';
	if (ci_has(text, "rcpt to") || ci_has(text, ">>> rcpt") ||
	    ci_has(text, "reply to rcpt") ||
	    ci_has(text, "does not like recipient"))
		return 'R';
	if (ci_has(text, "mail from") || ci_has(text, "reply to mail"))
		return 'M';
	return 0;
}

static bool
status_is(const char *status, const char *v)
{
	return status != NULL && strcmp(status, v) == 0;
}

/* atsm_dsn_classify() with the failed SMTP command given (it may come
 * from another part of the notice than the text). */
static bool
classify(const char *status, const char *text, char cmd, char *reason)
{
	const char *hard, *first, *late;
	bool has_status = status != NULL && status[0] != '\0';

	hard = text != NULL ? match_pattern(hard_patterns, text) : NULL;
	first = text != NULL ? match_pattern(soft_first, text) : NULL;
	late = text != NULL ? match_pattern(soft_late, text) : NULL;
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
	if (status_is(status, "5.1.1") || status_is(status, "4.1.1")) {
		snprintf(reason, 16, "userunknown");
		return true;
	}
	if (status_is(status, "5.1.2")) {
		snprintf(reason, 16, "hostunknown");
		return true;
	}
	if (status_is(status, "5.1.6")) {
		snprintf(reason, 16, "hasmoved");
		return true;
	}
	if (status_is(status, "5.1.10") || status_is(status, "5.7.27")) {
		snprintf(reason, 16, "notaccept");
		return true;
	}
	snprintf(reason, 16, "%s", has_status ? "onhold" : "undefined");
	return false;
}

bool
atsm_dsn_classify(const char *status, const char *text, char *reason)
{
	return classify(status, text, smtp_command(text), reason);
}

/* ---- result building ---- */

static int
set_once(char **dst, const char *v, size_t n)
{
	if (*dst != NULL || v == NULL)
		return 0;
	while (n > 0 && isspace((unsigned char)*v)) {
		v++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)v[n - 1]))
		n--;
	if (n == 0)
		return 0;
	return (*dst = dup_n(v, n, ATSM_DSN_HEADER_MAX)) == NULL ? -1 : 0;
}

/* Status "X.Y.Z" at s (class 2, 4 or 5): its length, or 0. */
static size_t
status_at(const char *s, size_t n)
{
	size_t i = 1, k;

	if (n < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
		return 0;
	for (k = 0; k < 2; k++) {
		size_t st = ++i;

		while (i < n && isdigit((unsigned char)s[i]) && i - st < 3)
			i++;
		if (i == st || (k == 0 && (i >= n || s[i] != '.')))
			return 0;
	}
	if (i < n && (isdigit((unsigned char)s[i]) ||
	    (s[i] == '.' && i + 1 < n && isdigit((unsigned char)s[i + 1]))))
		return 0;
	return i;
}

/* First status code in text (not inside a longer number or IP address). */
static bool
find_status(const char *t, size_t n, char *status)
{
	size_t i, l;

	for (i = 0; i < n; i++) {
		if (i > 0 && (isdigit((unsigned char)t[i - 1]) || t[i - 1] == '.'))
			continue;
		if ((l = status_at(t + i, n - i)) != 0 && l < 16) {
			memcpy(status, t + i, l);
			status[l] = '\0';
			return true;
		}
	}
	return false;
}

/* A 4xx/5xx SMTP reply code at a word start, as a status "X.0.0". */
static bool
find_reply_code(const char *t, size_t n, char *status)
{
	size_t i;

	for (i = 0; i + 3 <= n; i++) {
		if (i > 0 && isalnum((unsigned char)t[i - 1]))
			continue;
		if ((t[i] == '4' || t[i] == '5') && isdigit((unsigned char)t[i + 1]) &&
		    isdigit((unsigned char)t[i + 2]) &&
		    (i + 3 == n || t[i + 3] == ' ' || t[i + 3] == '-')) {
			snprintf(status, 16, "%c.0.0", t[i]);
			return true;
		}
	}
	return false;
}

static int
add_rcpt(struct dsn_ctx *c, const char *addr, const char *status,
    const char *action, const char *diag, size_t diag_len, const char *ctext)
{
	struct atsm_dsn *d = c->d;
	struct atsm_dsn_rcpt *r;
	struct atsm_buf b;
	char *norm = NULL;
	size_t i;

	if (atsm_addr_normalize(addr, &norm, NULL) < 0)
		return 0;
	for (i = 0; i < d->n; i++)
		if (strcmp(d->v[i].addr, norm) == 0) {
			free(norm);
			return 0;
		}
	if (d->n >= ATSM_DSN_MAX_RCPTS) {
		free(norm);
		return 0;
	}
	if (d->n == 0 || (d->n & (d->n - 1)) == 0) {
		size_t cap = d->n == 0 ? 1 : d->n * 2;

		if ((r = realloc(d->v, cap * sizeof(*r))) == NULL) {
			free(norm);
			return -1;
		}
		d->v = r;
	}
	r = &d->v[d->n];
	memset(r, 0, sizeof(*r));
	r->addr = norm;
	if (status != NULL)
		snprintf(r->status, sizeof(r->status), "%s", status);
	snprintf(r->action, sizeof(r->action), "%s", action);
	for (i = 0; r->action[i] != '\0'; i++)
		r->action[i] = (char)tolower((unsigned char)r->action[i]);
	if (diag != NULL && diag_len > 0) {
		atsm_buf_init(&b, ATSM_DSN_DIAG_MAX);
		(void)atsm_rfc2047_decode(diag, diag_len, &b);
		if (b.len > 0)
			r->diagnostic = atsm_buf_steal(&b);
		atsm_buf_free(&b);
	}
	r->hard = atsm_dsn_classify(r->status,
	    r->diagnostic != NULL ? r->diagnostic : ctext, r->reason);
	/* a delayed delivery is never a dead address */
	if (strcmp(r->action, "delayed") == 0 && r->hard)
		r->hard = false;
	d->n++;
	return 0;
}

/* ---- the original message ---- */

static int
take_original(struct dsn_ctx *c, const struct atsm_mime_headers *h)
{
	struct atsm_dsn *d = c->d;
	const char *v;
	struct atsm_buf b;

	if (atsm_mime_header(h, "Message-ID") == NULL &&
	    atsm_mime_header(h, "From") == NULL &&
	    atsm_mime_header(h, "X-ATS-Ref") == NULL)
		return 0;
	v = atsm_mime_header(h, "Message-ID");
	if (v != NULL && set_once(&d->orig_message_id, v, strlen(v)) < 0)
		return -1;
	v = atsm_mime_header(h, "X-ATS-Ref");
	if (v != NULL && set_once(&d->orig_ats_ref, v, strlen(v)) < 0)
		return -1;
	v = atsm_mime_header(h, "From");
	if (v != NULL && set_once(&d->orig_from, v, strlen(v)) < 0)
		return -1;
	v = atsm_mime_header(h, "To");
	if (v != NULL && set_once(&d->orig_to, v, strlen(v)) < 0)
		return -1;
	v = atsm_mime_header(h, "Return-Path");
	if (v != NULL && d->orig_env_from == NULL) {
		char *n = NULL;

		if (atsm_addr_normalize(v, &n, NULL) == 0)
			d->orig_env_from = n;
	}
	if (d->orig_subject == NULL) {
		atsm_buf_init(&b, ATSM_DSN_HEADER_MAX);
		if (atsm_mime_header_decoded(h, "Subject", &b) != 0 && b.len > 0)
			d->orig_subject = atsm_buf_steal(&b);
		atsm_buf_free(&b);
	}
	return 0;
}

/* ---- RFC 3464 ---- */

static const char *
strip_type(const char *v)
{
	const char *s = strchr(v, ';');

	if (s == NULL)
		return v;
	s++;
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static int
read_delivery_status(struct dsn_ctx *c, const struct atsm_mime_part *pt,
    bool *found)
{
	struct atsm_buf body;
	struct atsm_mime_headers h;
	const char *p;
	size_t len, at, off = 0;
	int rc = 0, blk = 0;

	atsm_buf_init(&body, ATSM_DSN_TEXT_MAX);
	(void)atsm_mime_body_decode(pt, &body);
	p = atsm_buf_str(&body);
	len = body.len;
	while (off < len && rc == 0) {
		const char *fr, *or, *ac, *st, *dg, *cat;
		char status[16] = "";

		while (off < len && (p[off] == '\r' || p[off] == '\n' ||
		    p[off] == ' ' || p[off] == '\t'))
			off++;
		if (off >= len)
			break;
		if (atsm_mime_headers_parse(p + off, len - off, 0, 0, &h, &at) < 0) {
			rc = -1;
			break;
		}
		if (at == 0)
			at = 1;	/* a line that is no field: skip it */
		off += at;
		blk++;
		if (blk == 1) {
			const char *v = atsm_mime_header(&h, "Original-Envelope-Id");

			if (v != NULL)
				rc = set_once(&c->d->orig_env_id, v, strlen(v));
		}
		cat = atsm_mime_header(&h, "X-PowerMTA-BounceCategory");
		fr = atsm_mime_header(&h, "Final-Recipient");
		or = atsm_mime_header(&h, "Original-Recipient");
		ac = atsm_mime_header(&h, "Action");
		st = atsm_mime_header(&h, "Status");
		dg = atsm_mime_header(&h, "Diagnostic-Code");
		if (fr == NULL && or == NULL) {
			atsm_mime_headers_free(&h);
			continue;
		}
		if (ac != NULL && (ci_has(ac, "delivered") || ci_has(ac, "relayed") ||
		    ci_has(ac, "expanded"))) {
			atsm_mime_headers_free(&h);
			continue;
		}
		if (st != NULL && !find_status(st, strlen(st), status) &&
		    !find_reply_code(st, strlen(st), status))
			status[0] = '\0';
		if (dg != NULL)
			dg = strip_type(dg);
		*found = true;
		{
			size_t before = c->d->n;

			rc = add_rcpt(c, strip_type(fr != NULL ? fr : or), status,
			    ac != NULL ? ac : "failed", dg,
			    dg != NULL ? strlen(dg) : 0, NULL);
			/* a Final-Recipient that is no address (a spool path) */
			if (rc == 0 && c->d->n == before && fr != NULL && or != NULL)
				rc = add_rcpt(c, strip_type(or), status,
				    ac != NULL ? ac : "failed", dg,
				    dg != NULL ? strlen(dg) : 0, NULL);
			if (rc == 0 && c->d->n > before && cat != NULL)
				c->verdict[before] = ci_has(cat, "bad-mailbox") ? 'U' :
				    ci_has(cat, "bad-domain") ? 'H' : 0;
		}
		atsm_mime_headers_free(&h);
	}
	atsm_buf_free(&body);
	return rc;
}

/* ---- text notices ---- */

static bool
is_addr_char(unsigned char ch)
{
	return isalnum(ch) || ch >= 0x80 || strchr(".-_+=%!#$&'*/?^`{|}~", ch) != NULL;
}

/* Find an address in t[0..n) from i: *s, *e its bounds. */
static bool
next_addr(const char *t, size_t n, size_t i, size_t *s, size_t *e)
{
	const char *at;

	while (i < n && (at = memchr(t + i, '@', n - i)) != NULL) {
		size_t a = (size_t)(at - t), l = a, r = a + 1;
		bool dot = false;

		while (l > 0 && is_addr_char((unsigned char)t[l - 1]))
			l--;
		while (r < n && (isalnum((unsigned char)t[r]) || t[r] == '.' ||
		    t[r] == '-' || t[r] == '_' || (unsigned char)t[r] >= 0x80)) {
			if (t[r] == '.')
				dot = true;
			r++;
		}
		while (r > a + 1 && t[r - 1] == '.')
			r--;
		while (l < a && (t[l] == '.' || t[l] == '\'' || t[l] == '='))
			l++;
		if (l < a && r > a + 1 && dot) {
			*s = l;
			*e = r;
			return true;
		}
		i = a + 1;
	}
	return false;
}

static bool
is_self(struct dsn_ctx *c, const char *norm)
{
	size_t i, at = strcspn(norm, "@");

	if ((at == 13 && strncmp(norm, "mailer-daemon", 13) == 0) ||
	    strncmp(norm, "mailer-daemon@", 14) == 0)
		return true;
	for (i = 0; i < c->nself; i++)
		if (strcmp(c->self[i], norm) == 0)
			return !c->allow_self;
	return false;
}

/* Where the copy of the original message starts in the notice text. */
static size_t
original_start(const char *t, size_t n, size_t *hdr_at)
{
	static const char *const markers[] = {
		"original message", "copy of the message", "copy of your message",
		"below this line", "returned message", "message text follows",
		"unsent message", "original headers", "headers of the original",
		"undelivered message", "message headers follow", "rfc822",
		"this is a copy", "included is a copy", "message follows",
		"original mail", NULL
	};
	size_t i = 0, e, next, k;

	*hdr_at = n;
	while (i < n) {
		const char *nl = memchr(t + i, '\n', n - i);

		e = nl != NULL ? (size_t)(nl - t) : n;
		next = nl != NULL ? e + 1 : n;
		if (e - i >= 3 && (t[i] == '-' || t[i] == '=' || t[i] == '_' ||
		    (t[i] == ' ' && e - i > 4 && t[i + 1] == '-'))) {
			bool marker = false;

			for (k = 0; markers[k] != NULL; k++)
				if (ci_find(t + i, e - i, markers[k]) != NULL)
					marker = true;
			if (!marker) {
				/* a bare rule followed by header fields */
				size_t j = i;

				while (j < e && strchr("-=_ \r", t[j]) != NULL)
					j++;
				if (j == e && next < n &&
				    (strncasecmp(t + next, "From:", 5) == 0 ||
				    strncasecmp(t + next, "Return-Path:", 12) == 0 ||
				    strncasecmp(t + next, "Received:", 9) == 0))
					marker = true;
			}
			if (marker) {
				*hdr_at = next;
				return i;
			}
		}
		i = next;
	}
	return n;
}

/* Read the header block of an inline original after the marker. */
static int
inline_original(struct dsn_ctx *c, const char *t, size_t n, size_t at)
{
	struct atsm_mime_headers h;
	size_t j;
	int rc;

	/* skip blank lines and indentation before the first field */
	while (at < n) {
		for (j = at; j < n && (t[j] == ' ' || t[j] == '\t' || t[j] == '\r'); j++)
			;
		if (j < n && t[j] == '\n') {
			at = j + 1;
			continue;
		}
		at = j;
		break;
	}
	if (at >= n)
		return 0;
	if (atsm_mime_headers_parse(t + at, n - at, 0, 0, &h, NULL) < 0)
		return -1;
	rc = take_original(c, &h);
	atsm_mime_headers_free(&h);
	return rc;
}

/* Does the line at t[i..) start with an address (after blanks, '<')? */
static bool
line_starts_addr(const char *t, size_t n, size_t i)
{
	while (i < n && (t[i] == ' ' || t[i] == '\t' || t[i] == '<' || t[i] == '"'))
		i++;
	for (; i < n && !isspace((unsigned char)t[i]) && t[i] != '>'; i++)
		if (t[i] == '@')
			return true;
	return false;
}

/* A Sendmail transcript line "550 <addr>... User unknown": the bounds of
 * its address in *s, *e. */
static bool
sendmail_line(const char *t, size_t n, size_t i, size_t *s, size_t *e)
{
	size_t j;

	if (i + 6 > n || (t[i] != '4' && t[i] != '5') ||
	    !isdigit((unsigned char)t[i + 1]) || !isdigit((unsigned char)t[i + 2]) ||
	    t[i + 3] != ' ' || t[i + 4] != '<')
		return false;
	for (j = i + 5; j < n && t[j] != '>' && t[j] != '\n' && t[j] != ' '; j++)
		;
	if (j + 4 > n || strncmp(t + j, ">...", 4) != 0 ||
	    memchr(t + i + 5, '@', j - (i + 5)) == NULL)
		return false;
	*s = i + 5;
	*e = j;
	return true;
}

/* The paragraph of t holding offset s (an address of length alen): from
 * the line of s to the next blank line or the next line that starts with
 * another address.  A line that repeats the same address continues it
 * (Postfix folds "<a>: host said: 550 ..." onto "<a>... User unknown"). */
static void
paragraph(const char *t, size_t n, size_t s, size_t alen, size_t *ps,
    size_t *pe)
{
	size_t b = s, e, lines = 0, as, ae;

	while (b > 0 && t[b - 1] != '\n')
		b--;
	e = b;
	while (e < n && lines < 12) {
		const char *nl = memchr(t + e, '\n', n - e);
		size_t le = nl != NULL ? (size_t)(nl - t) : n, k;
		bool blank = true;

		for (k = e; k < le; k++)
			if (!isspace((unsigned char)t[k]))
				blank = false;
		if (lines > 0 && sendmail_line(t, le, e, &as, &ae))
			break;
		if (lines > 0 && line_starts_addr(t, le, e)) {
			for (k = e; k < le && strchr(" \t<\"", t[k]) != NULL; k++)
				;
			if (le - k < alen || strncasecmp(t + k, t + s, alen) != 0 ||
			    (k + alen < le && is_addr_char((unsigned char)t[k + alen])))
				break;
		}
		if (blank && lines > 1)
			break;
		e = nl != NULL ? le + 1 : n;
		lines++;
	}
	*ps = b;
	*pe = e;
}

/* Does the line start (t, n: up to the address) read "RCPT TO:", as in
 * a transcript (">>> RCPT To:<") or a carrier's "RCPT TO: addr"? */
static bool
rcpt_to_prefix(const char *t, size_t n)
{
	size_t i = 0;

	while (i < n && (t[i] == ' ' || t[i] == '\t' || t[i] == '>'))
		i++;
	if (n - i < 8 || strncasecmp(t + i, "rcpt to:", 8) != 0)
		return false;
	for (i += 8; i < n; i++)
		if (t[i] != ' ' && t[i] != '<')
			return false;
	return true;
}

/* Amazon SES notifications forwarded as JSON (SNS): the addresses after
 * "emailAddress" inside "bouncedRecipients". */
static int
read_ses_json(struct dsn_ctx *c, const char *t, size_t n, bool *found)
{
	const char *p = ci_find(t, n, "bouncedRecipients"), *q;
	const char *type = ci_find(t, n, "bounceType");
	char status[16] = "", addr[ATSM_ADDR_MAX + 1];
	size_t s, e, k;
	int rc = 0;

	if (p == NULL)
		return 0;
	while (rc == 0 && (q = ci_find(p, n - (size_t)(p - t), "emailAddress")) != NULL) {
		p = q + 12;
		if (!next_addr(t, n, (size_t)(p - t), &s, &e) || s - (size_t)(p - t) > 8)
			continue;
		k = e - s < sizeof(addr) - 1 ? e - s : sizeof(addr) - 1;
		memcpy(addr, t + s, k);
		addr[k] = '\0';
		{
			const char *st = ci_find(p, n - (size_t)(p - t), "\"status");
			const char *dg = ci_find(p, n - (size_t)(p - t), "diagnosticCode");
			size_t dl = 0;

			if (st != NULL)
				(void)find_status(st, n - (size_t)(st - t) < 40 ?
				    n - (size_t)(st - t) : 40, status);
			if (dg != NULL) {
				dg += 14;
				while (dl < 300 && dg + dl < t + n && dg[dl] != '}')
					dl++;
			}
			rc = add_rcpt(c, addr, status, "failed", dg, dl,
			    type != NULL && ci_find(type, 40, "Transient") ?
			    "temporary" : NULL);
		}
		p = t + e;
	}
	if (c->d->n > 0)
		*found = true;
	return rc;
}

static int
read_text(struct dsn_ctx *c, const char *t, size_t n, bool *found)
{
	size_t end, hdr_at, i = 0, s, e, first_s = 0, first_e = 0, as, ae, k;
	bool any = false, lead_found = false, line_only;
	char *first = NULL;
	int rc = 0;

	if (ci_find(t, n, "notificationType") != NULL) {
		if (ci_find(t, n, "\"Bounce\"") == NULL &&
		    ci_find(t, n, "\\\"Bounce\\\"") == NULL) {
			if (ci_find(t, n, "Complaint") != NULL)
				c->d->is_feedback = true;
			return 0;	/* a delivery or complaint notice */
		}
		return read_ses_json(c, t, n, found);
	}
	end = original_start(t, n, &hdr_at);
	if (hdr_at < n && inline_original(c, t, n, hdr_at) < 0)
		return -1;
	/* pass 1: addresses that begin a line */
	while (rc == 0 && next_addr(t, end, i, &s, &e)) {
		size_t b = s, ps, pe;
		char *raw, *norm = NULL;
		bool lead;

		while (b > 0 && t[b - 1] != '\n')
			b--;
		i = e;
		if (ci_find(t + b, s - b, "message-id") != NULL ||
		    ci_find(t + b, s - b, "msgid") != NULL)
			continue;
		if ((raw = dup_n(t + s, e - s, ATSM_ADDR_MAX + 2)) == NULL)
			return -1;
		if (atsm_addr_normalize(raw, &norm, NULL) < 0 || is_self(c, norm)) {
			free(raw);
			free(norm);
			continue;
		}
		free(norm);
		lead = true;
		for (k = b; k < s; k++)
			if (!(t[k] == ' ' || t[k] == '\t' || t[k] == '<' ||
			    t[k] == '"' || t[k] == '\'' || t[k] == '(' ||
			    t[k] == '*'))
				lead = false;
		/* an SMTP transcript names the recipient after RCPT TO */
		if (!lead && rcpt_to_prefix(t + b, s - b))
			lead = true;
		line_only = sendmail_line(t, end, b, &as, &ae) && as == s;
		if (line_only)
			lead = true;
		/* "name <addr>": the address is the one in angle brackets */
		if (lead && !line_only) {
			for (k = e; k < end && (t[k] == ' ' || t[k] == '\t'); k++)
				;
			if (k < end && t[k] == '<' && next_addr(t, end, k, &as, &ae) &&
			    as == k + 1 && ae < end && t[ae] == '>') {
				free(raw);
				if ((raw = dup_n(t + as, ae - as, ATSM_ADDR_MAX + 2)) == NULL)
					return -1;
				s = as;
				i = e = ae;
			}
		}
		if (!any) {
			first = raw;
			first_s = s;
			first_e = e;
			raw = NULL;
			any = true;
		}
		if (lead) {
			char status[16] = "";

			if (line_only) {
				ps = b;
				for (pe = s; pe < end && t[pe] != '\n'; pe++)
					;
			} else
				paragraph(t, end, s, e - s, &ps, &pe);
			if (!find_status(t + ps, pe - ps, status))
				(void)find_reply_code(t + ps, pe - ps, status);
			rc = add_rcpt(c, raw != NULL ? raw : first, status, "failed",
			    t + ps, pe - ps, NULL);
			lead_found = true;
		}
		free(raw);
	}
	if (rc == 0 && !lead_found && any && !c->allow_self) {
		char status[16] = "";
		size_t ps, pe;

		paragraph(t, end, first_s, first_e - first_s, &ps, &pe);
		if (!find_status(t + ps, pe - ps, status) &&
		    !find_status(t, end, status))
			(void)find_reply_code(t, end, status);
		rc = add_rcpt(c, first, status, "failed", t + ps, pe - ps, NULL);
	}
	free(first);
	if (c->d->n > 0)
		*found = true;
	/* a recipient whose paragraph said nothing: classify by the notice,
	 * when the notice is about that one recipient only */
	for (i = 0; i < c->d->n && c->d->n == 1; i++) {
		struct atsm_dsn_rcpt *r = &c->d->v[i];

		if (strcmp(r->reason, "undefined") == 0 ||
		    strcmp(r->reason, "onhold") == 0) {
			char *tx = dup_n(t, end, DSN_CLASSIFY_MAX);

			if (tx == NULL)
				return -1;
			if (r->status[0] == '\0' && !find_status(t, end, r->status))
				(void)find_reply_code(t, end, r->status);
			r->hard = atsm_dsn_classify(r->status, tx, r->reason);
			free(tx);
		}
	}
	return rc;
}

/* A notice that names no address (Google Groups, some carriers): the
 * failed recipient is the original's only To address. */
static int
rcpt_from_original(struct dsn_ctx *c, bool *found)
{
	struct atsm_addr_list l;
	int rc = 0;

	(void)atsm_addr_parse_list(c->d->orig_to, strlen(c->d->orig_to), 2, &l,
	    NULL);
	if (l.n == 1) {
		rc = add_rcpt(c, l.v[0].addr, "", "failed", NULL, 0, NULL);
		*found = c->d->n > 0;
	}
	atsm_addr_list_free(&l);
	return rc;
}

/* An RFC 3464 report says per recipient what failed but seldom at which
 * SMTP command; the human-readable notice often does, in the paragraph
 * that names the recipient ("in reply to RCPT TO command") or in its
 * transcript (">>> DATA").  The notice is also the only explanation when
 * Diagnostic-Code is missing: its paragraph about the recipient, or the
 * whole notice when it speaks of one recipient only. */
static void
refine_from_notice(struct dsn_ctx *c, const char *t, size_t n)
{
	size_t i, ps, pe;
	char *whole, *para, cmd, whole_cmd;

	if (c->d->n == 0 || (whole = dup_n(t, n, DSN_CLASSIFY_MAX)) == NULL)
		return;
	whole_cmd = smtp_command(whole);
	for (i = 0; i < c->d->n; i++) {
		struct atsm_dsn_rcpt *r = &c->d->v[i];
		const char *at = ci_find(t, n, r->addr), *why = r->diagnostic;

		if (at == NULL)
			continue;
		paragraph(t, n, (size_t)(at - t), strlen(r->addr), &ps, &pe);
		if ((para = dup_n(t + ps, pe - ps, DSN_CLASSIFY_MAX)) == NULL)
			break;
		if ((cmd = smtp_command(r->diagnostic)) == 0 &&
		    (cmd = smtp_command(para)) == 0)
			cmd = whole_cmd;
		if (why == NULL)
			why = c->d->n == 1 ? whole : para;
		if (r->status[0] == '\0' && !find_status(why, strlen(why), r->status))
			(void)find_reply_code(why, strlen(why), r->status);
		r->hard = classify(r->status, why, cmd, r->reason) &&
		    strcmp(r->action, "delayed") != 0;
		if (c->verdict[i] != 0) {
			r->hard = true;
			snprintf(r->reason, sizeof(r->reason), "%s",
			    c->verdict[i] == 'U' ? "userunknown" : "hostunknown");
		}
		free(para);
	}
	free(whole);
}

/* Exim's X-Failed-Recipients header, for a report whose Final-Recipient
 * is no address (a file or pipe an alias expanded to). */
static int
failed_recipients_header(struct dsn_ctx *c)
{
	const char *v = atsm_mime_header(&c->m->v[0].hdr, "X-Failed-Recipients");
	struct atsm_addr_list l;
	size_t k;
	int rc = 0;

	if (v == NULL)
		return 0;
	(void)atsm_addr_parse_list(v, strlen(v), ATSM_DSN_MAX_RCPTS, &l, NULL);
	for (k = 0; k < l.n && rc == 0; k++)
		rc = add_rcpt(c, l.v[k].addr, "", "failed", NULL, 0, NULL);
	atsm_addr_list_free(&l);
	return rc;
}

/* ---- the whole message ---- */

static const char *const bounce_subjects[] = {
	"undeliver", "undelivered", "delivery status notification",
	"delivery failure", "delivery failed", "delivery has failed",
	"failure notice", "returned mail", "mail delivery", "mail system error",
	"nondeliverable", "non-deliverable", "non remis", "could not send",
	"delivery notification", "not delivered", "rejected", "bounce",
	"failed delivery", "delivery problem", "error sending", "warning:",
	"message delivery", "unable to deliver", "mail failure",
	"permanent error", "nicht zustellbar", "配信", "エラー", "不達",
	NULL
};

static bool
looks_like_bounce(struct dsn_ctx *c)
{
	const struct atsm_mime_headers *h = &c->m->v[0].hdr;
	const char *from = atsm_mime_header(h, "From");
	const char *rp = atsm_mime_header(h, "Return-Path");
	struct atsm_addr_list l;
	struct atsm_buf subj;
	bool yes = false;
	size_t k;

	if (rp != NULL && (strcmp(rp, "<>") == 0 || atsm_mailer_daemon(rp)))
		return true;
	if (from != NULL) {
		(void)atsm_addr_parse_list(from, strlen(from), 4, &l, NULL);
		for (k = 0; k < l.n; k++)
			if (atsm_mailer_daemon(l.v[k].addr))
				yes = true;
		if (l.n == 0 && ci_has(from, "mailer-daemon"))
			yes = true;
		atsm_addr_list_free(&l);
	}
	if (yes)
		return true;
	atsm_buf_init(&subj, ATSM_DSN_HEADER_MAX);
	if (atsm_mime_header_decoded(h, "Subject", &subj) != 0)
		for (k = 0; bounce_subjects[k] != NULL; k++)
			if (ci_has(atsm_buf_str(&subj), bounce_subjects[k]))
				yes = true;
	atsm_buf_free(&subj);
	return yes;
}

/* A notice that reports an SMTP dialogue: a line "RCPT TO: <addr>" and a
 * line that starts with a 4xx/5xx reply.  Some carriers send their
 * bounces from an ordinary address with a "Re:" subject; this is what
 * tells them from a person's mail. */
static bool
smtp_transcript(const char *t, size_t n)
{
	size_t i = 0, j;
	bool rcpt = false, reply = false;

	while (i < n) {
		const char *nl = memchr(t + i, '\n', n - i);
		size_t e = nl != NULL ? (size_t)(nl - t) : n;

		for (j = i; j < e && (t[j] == ' ' || t[j] == '\t'); j++)
			;
		if (e - j > 9 && strncasecmp(t + j, "rcpt to:", 8) == 0 &&
		    memchr(t + j, '@', e - j) != NULL)
			rcpt = true;
		if (e - j > 4 && (t[j] == '4' || t[j] == '5') &&
		    isdigit((unsigned char)t[j + 1]) &&
		    isdigit((unsigned char)t[j + 2]) &&
		    (t[j + 3] == ' ' || t[j + 3] == '-'))
			reply = true;
		i = nl != NULL ? e + 1 : n;
	}
	return rcpt && reply;
}

static int
collect_self(struct dsn_ctx *c)
{
	static const char *const fields[] = { "From", "To", "Return-Path",
		"Delivered-To", "Reply-To", NULL };
	const struct atsm_mime_headers *h = &c->m->v[0].hdr;
	struct atsm_addr_list l;
	size_t k, j;

	for (k = 0; fields[k] != NULL; k++) {
		const char *v = atsm_mime_header(h, fields[k]);

		if (v == NULL)
			continue;
		(void)atsm_addr_parse_list(v, strlen(v), DSN_MAX_SELF, &l, NULL);
		for (j = 0; j < l.n && c->nself < DSN_MAX_SELF; j++) {
			char *n = NULL;

			if (atsm_addr_normalize(l.v[j].addr, &n, NULL) == 0)
				c->self[c->nself++] = n;
		}
		atsm_addr_list_free(&l);
	}
	return 0;
}

/* The notice: text parts that are not inside an embedded message. */
static int
notice_text(struct dsn_ctx *c, struct atsm_buf *out)
{
	const struct atsm_mime_msg *m = c->m;
	size_t i;

	for (i = 0; i < m->n; i++) {
		const struct atsm_mime_part *pt = &m->v[i];
		int a;
		bool inside = false;

		if (pt->kind != ATSM_MIME_LEAF)
			continue;
		for (a = pt->parent; a >= 0; a = m->v[a].parent)
			if (m->v[a].kind == ATSM_MIME_MESSAGE ||
			    m->v[a].kind == ATSM_MIME_HEADERS)
				inside = true;
		if (inside)
			continue;
		/* a multipart whose boundary could not be read stays a leaf:
		 * its raw body is still the notice */
		if (strncmp(pt->type, "text/", 5) != 0 &&
		    strncmp(pt->type, "multipart/", 10) != 0 &&
		    strcmp(pt->type, "message/delivery-status") != 0)
			continue;
		if (strcmp(pt->type, "text/html") == 0 && out->len > 0)
			continue;
		if (strcmp(pt->type, "text/rfc822-headers") == 0)
			continue;
		if (out->len > 0)
			(void)atsm_buf_putc(out, '\n');
		if (atsm_mime_body_text(pt, out) < 0 && out->overflow)
			break;
	}
	/* CR-only and CRLF line ends become LF for the line readers */
	for (i = 0; i < out->len; i++)
		if (out->data[i] == '\r')
			out->data[i] = (i + 1 < out->len && out->data[i + 1] == '\n') ?
			    ' ' : '\n';
	return 0;
}

int
atsm_dsn_parse(const char *msg, size_t len, struct atsm_dsn *out,
    struct atsm_err *err)
{
	struct atsm_mime_msg m;
	struct dsn_ctx c;
	struct atsm_buf text;
	const char *ct, *rt = NULL;
	char rtype[64] = "";
	bool found = false;
	size_t i;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	if (atsm_mime_parse(msg, len, NULL, &m, err) < 0) {
		atsm_mime_free(&m);
		return -1;
	}
	c.d = out;
	c.m = &m;
	collect_self(&c);
	ct = atsm_mime_header(&m.v[0].hdr, "Content-Type");
	if (ct != NULL && strcmp(m.v[0].type, "multipart/report") == 0) {
		struct atsm_buf b;

		atsm_buf_init(&b, sizeof(rtype) - 1);
		if (atsm_rfc2231_param(ct, strlen(ct), "report-type", &b, NULL) == 1)
			snprintf(rtype, sizeof(rtype), "%s", atsm_buf_str(&b));
		atsm_buf_free(&b);
		rt = rtype;
	}
	for (i = 0; i < m.n; i++)
		if (strcmp(m.v[i].type, "message/feedback-report") == 0)
			out->is_feedback = true;
	if ((rt != NULL && strcasecmp(rt, "feedback-report") == 0) ||
	    out->is_feedback) {
		out->is_feedback = true;
		out->format = "arf";
		goto done;
	}
	/* the original message */
	for (i = 0; i < m.n && rc == 0; i++)
		if (m.v[i].parent >= 0 && (m.v[m.v[i].parent].kind == ATSM_MIME_MESSAGE ||
		    m.v[m.v[i].parent].kind == ATSM_MIME_HEADERS))
			rc = take_original(&c, &m.v[i].hdr);
	/* RFC 3464 */
	for (i = 0; i < m.n && rc == 0; i++)
		if (strcmp(m.v[i].type, "message/delivery-status") == 0 ||
		    strcmp(m.v[i].type, "message/global-delivery-status") == 0)
			rc = read_delivery_status(&c, &m.v[i], &found);
	if (found && rc == 0 && out->n == 0)
		rc = failed_recipients_header(&c);
	if (found) {
		out->format = "rfc3464";
		atsm_buf_init(&text, ATSM_DSN_TEXT_MAX);
		notice_text(&c, &text);
		refine_from_notice(&c, atsm_buf_str(&text), text.len);
		atsm_buf_free(&text);
		goto done;
	}
	if (rc == 0) {
		atsm_buf_init(&text, ATSM_DSN_TEXT_MAX);
		notice_text(&c, &text);
		if (rt == NULL && !looks_like_bounce(&c) &&
		    !smtp_transcript(atsm_buf_str(&text), text.len)) {
			atsm_buf_free(&text);
			goto done;
		}
		rc = read_text(&c, atsm_buf_str(&text), text.len, &found);
		if (rc == 0 && !found && !out->is_feedback) {
			c.allow_self = true;
			rc = read_text(&c, atsm_buf_str(&text), text.len, &found);
		}
		if (rc == 0 && !found && !out->is_feedback && out->orig_to != NULL)
			rc = rcpt_from_original(&c, &found);
		atsm_buf_free(&text);
		if (found)
			out->format = "text";
	}
done:
	out->is_bounce = out->n > 0;
	for (i = 0; i < c.nself; i++)
		free(c.self[i]);
	atsm_mime_free(&m);
	if (rc < 0)
		return atsm_err_set(err, "bounce of %zu bytes: out of memory", len);
	return 0;
}

void
atsm_dsn_free(struct atsm_dsn *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->v[i].addr);
		free(d->v[i].diagnostic);
	}
	free(d->v);
	free(d->orig_message_id);
	free(d->orig_env_from);
	free(d->orig_ats_ref);
	free(d->orig_from);
	free(d->orig_to);
	free(d->orig_subject);
	free(d->orig_env_id);
	memset(d, 0, sizeof(*d));
}
