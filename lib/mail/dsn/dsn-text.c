/* mail/dsn/dsn-text.c -- the reader of bounces that are no RFC 3464
 * report: the plain-text notices of qmail, Exim, Postfix, Sendmail,
 * Exchange, Japanese carriers, Courier, Domino and the like.
 *
 * One reader serves them all because it reads how such notices list the
 * failed recipients, not who wrote them: an address that stands at the
 * start of a line (qmail "<a@b>:", Exim, Postfix, Exchange), after
 * "RCPT TO:" in an SMTP transcript (carriers), or in a Sendmail "550
 * <a@b>... User unknown" line; else the first address of the notice.
 * Each address is classified by its paragraph (dsn-notice.c).  The notice
 * is cut where the copy of the original starts, whose headers it keeps.
 *
 * Whether such a message is a bounce at all is decided first, by who sent
 * it (a mailer-daemon, the null sender), by its subject
 * (dsn-tables.c) or by an SMTP dialogue in it, so that an ordinary mail
 * that quotes an address is not taken for one; a person's automatic
 * reply (a vacation notice) is none even from the null sender.
 */
#include "mail/dsn/dsn-int.h"
#include "mail/addr.h"
#include "mail/autoreply.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Sent by a mailer-daemon or the null sender, or under a bounce's subject. */
static bool
looks_like_bounce(const struct atsm_dsn_ctx *c)
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
		if (l.n == 0 && atsm_dsn_ci_has(from, "mailer-daemon"))
			yes = true;
		atsm_addr_list_free(&l);
	}
	if (yes)
		return true;
	atsm_buf_init(&subj, ATSM_DSN_HEADER_MAX);
	if (atsm_mime_header_decoded(h, "Subject", &subj) != 0)
		for (k = 0; atsm_dsn_bounce_subjects[k] != NULL; k++)
			if (atsm_dsn_ci_has(atsm_buf_str(&subj),
			    atsm_dsn_bounce_subjects[k]))
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

/* From a person (not a mailer-daemon) and marked as an automatic reply
 * (RFC 3834 Auto-Submitted, an OOF's headers, "Automatic reply:"), with
 * no status code in its text: a vacation notice, even when it came from
 * the null sender, is no bounce. */
static bool
auto_reply(const struct atsm_dsn_ctx *c, const char *t, size_t n)
{
	const char *from = atsm_mime_header(&c->m->v[0].hdr, "From");
	struct atsm_addr_list l;
	char status[16];
	bool daemon = false;
	size_t k;

	if (from == NULL || atsm_dsn_ci_has(from, "mailer-daemon"))
		return false;
	(void)atsm_addr_parse_list(from, strlen(from), 4, &l, NULL);
	for (k = 0; k < l.n; k++)
		if (atsm_mailer_daemon(l.v[k].addr))
			daemon = true;
	atsm_addr_list_free(&l);
	return !daemon && atsm_autoreply_detect(c->m, NULL, NULL) &&
	    !atsm_dsn_find_status(t, n, status);
}

bool
atsm_dsn_notice_is_bounce(const struct atsm_dsn_ctx *c, const char *t, size_t n)
{
	if (smtp_transcript(t, n))
		return true;
	return looks_like_bounce(c) && !auto_reply(c, t, n);
}

static bool
is_self(const struct atsm_dsn_ctx *c, const char *norm)
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

/* A local part with '=' in the text of a notice: a VERP-encoded address
 * ("bounce+user=example.org@list.example", "id=domain.example@bounces.host":
 * the sender's return address with a recipient folded into it) or a
 * header fragment ("smtp.mailfrom=a@b" of an Authentication-Results, "
 * envelope-from=a@b"): never the recipient itself. */
static bool
is_verp(const char *norm)
{
	const char *at = strrchr(norm, '@');

	return at != NULL && memchr(norm, '=', (size_t)(at - norm)) != NULL;
}

/* An address the notice names as a field ("Unknown user: a@b",
 * "Recipient: <a@b>", "Address: <a@b>"): only blanks, quotes and
 * brackets between the line's last colon and the address; or after the
 * lead-in of a failure (dsn-tables.c: "undeliverable to").  An address
 * in running prose may be anything (a postmaster, a header fragment). */
static bool
labelled(const char *t, size_t b, size_t s)
{
	size_t k = s, j;

	while (k > b && strchr(" \t<\"'[(", t[k - 1]) != NULL)
		k--;
	if (k > b && t[k - 1] == ':')
		return true;
	/* or a lead-in of a failure ("undeliverable to a@b") */
	for (j = 0; atsm_dsn_recipient_leadins[j] != NULL; j++) {
		size_t l = strlen(atsm_dsn_recipient_leadins[j]);

		if (k - b >= l && strncasecmp(t + k - l,
		    atsm_dsn_recipient_leadins[j], l) == 0)
			return true;
	}
	return false;
}

/* The recipients the notice names (at most the first address when no
 * line names one), each classified by its paragraph; with allow_self set
 * the addresses of the bounce itself count too. */
int
atsm_dsn_read_text(struct atsm_dsn_ctx *c, const char *t, size_t n, bool *found)
{
	size_t end, hdr_at, i = 0, s, e, first_s = 0, first_e = 0, as, ae, k;
	bool any = false, lead_found = false, line_only;
	char *first = NULL;
	int rc = 0;

	end = atsm_dsn_original_start(t, n, &hdr_at);
	if (hdr_at < n && atsm_dsn_inline_original(c, t, n, hdr_at) < 0)
		return -1;
	/* pass 1: addresses that begin a line */
	while (rc == 0 && atsm_dsn_next_addr(t, end, i, &s, &e)) {
		size_t b = s, ps, pe;
		char *raw, *norm = NULL;
		bool lead;

		while (b > 0 && t[b - 1] != '\n')
			b--;
		i = e;
		if (atsm_dsn_ci_find(t + b, s - b, "message-id") != NULL ||
		    atsm_dsn_ci_find(t + b, s - b, "msgid") != NULL)
			continue;
		if ((raw = atsm_dsn_dup(t + s, e - s, ATSM_ADDR_MAX + 2)) == NULL)
			return -1;
		if (atsm_addr_normalize(raw, &norm, NULL) < 0 || is_self(c, norm) ||
		    is_verp(norm)) {
			free(raw);
			free(norm);
			continue;
		}
		free(norm);
		lead = true;
		while (b < s && t[b] == '>')	/* a quoted transcript */
			b++;
		for (k = b; k < s; k++)
			if (!(t[k] == ' ' || t[k] == '\t' || t[k] == '<' ||
			    t[k] == '"' || t[k] == '\'' || t[k] == '(' ||
			    t[k] == '*'))
				lead = false;
		/* an SMTP transcript names the recipient after RCPT TO */
		if (!lead && atsm_dsn_rcpt_to_prefix(t + b, s - b))
			lead = true;
		line_only = atsm_dsn_sendmail_line(t, end, b, &as, &ae) && as == s;
		if (line_only)
			lead = true;
		/* "name <addr>": the address is the one in angle brackets */
		if (lead && !line_only) {
			for (k = e; k < end && (t[k] == ' ' || t[k] == '\t'); k++)
				;
			if (k < end && t[k] == '<' &&
			    atsm_dsn_next_addr(t, end, k, &as, &ae) &&
			    as == k + 1 && ae < end && t[ae] == '>') {
				free(raw);
				raw = atsm_dsn_dup(t + as, ae - as, ATSM_ADDR_MAX + 2);
				if (raw == NULL)
					return -1;
				s = as;
				i = e = ae;
			}
		}
		if (!any && (lead || labelled(t, b, s))) {
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
				atsm_dsn_paragraph(t, end, s, e - s, &ps, &pe);
			if (!atsm_dsn_find_status(t + ps, pe - ps, status))
				(void)atsm_dsn_find_reply_code(t + ps, pe - ps, status);
			rc = atsm_dsn_add_rcpt(c, raw != NULL ? raw : first, status,
			    "failed", t + ps, pe - ps, NULL);
			lead_found = true;
		}
		free(raw);
	}
	if (rc == 0 && !lead_found && any && !c->allow_self) {
		char status[16] = "";
		size_t ps, pe;

		atsm_dsn_paragraph(t, end, first_s, first_e - first_s, &ps, &pe);
		if (!atsm_dsn_find_status(t + ps, pe - ps, status) &&
		    !atsm_dsn_find_status(t, end, status))
			(void)atsm_dsn_find_reply_code(t, end, status);
		rc = atsm_dsn_add_rcpt(c, first, status, "failed", t + ps, pe - ps,
		    NULL);
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
			char *tx = atsm_dsn_dup(t, end, ATSM_DSN_CLASSIFY_MAX);

			if (tx == NULL)
				return -1;
			if (r->status[0] == '\0' &&
			    !atsm_dsn_find_status(t, end, r->status))
				(void)atsm_dsn_find_reply_code(t, end, r->status);
			char cmd = atsm_dsn_smtp_command(tx);

			if (cmd == 0)
				cmd = atsm_dsn_stage_cmd(c->stage, r->status, tx);
			r->hard = atsm_dsn_classify_cmd(r->status, tx, cmd,
			    r->reason);
			free(tx);
		}
	}
	return rc;
}

/* A notice that names no address (Google Groups, some carriers): the
 * failed recipient is the original's only To address. */
int
atsm_dsn_read_orig_to(struct atsm_dsn_ctx *c, bool *found)
{
	struct atsm_addr_list l;
	int rc = 0;

	(void)atsm_addr_parse_list(c->d->orig_to, strlen(c->d->orig_to), 2, &l,
	    NULL);
	if (l.n == 1) {
		rc = atsm_dsn_add_rcpt(c, l.v[0].addr, "", "failed", NULL, 0, NULL);
		*found = c->d->n > 0;
	}
	atsm_addr_list_free(&l);
	return rc;
}

static bool
any_word(const char *t, size_t n, const char *const *w)
{
	for (; *w != NULL; w++)
		if (atsm_dsn_ci_find(t, n, *w) != NULL)
			return true;
	return false;
}

void
atsm_dsn_text_delays(struct atsm_dsn_ctx *c, const char *t, size_t n)
{
	struct atsm_buf subj;
	size_t hdr_at, end = atsm_dsn_original_start(t, n, &hdr_at), i;
	bool delay;

	atsm_buf_init(&subj, ATSM_DSN_HEADER_MAX);
	(void)atsm_mime_header_decoded(&c->m->v[0].hdr, "Subject", &subj);
	delay = (any_word(atsm_buf_str(&subj), subj.len, atsm_dsn_delay_words) ||
	    any_word(t, end, atsm_dsn_delay_words)) &&
	    !any_word(atsm_buf_str(&subj), subj.len, atsm_dsn_permanent_words) &&
	    !any_word(t, end, atsm_dsn_permanent_words);
	atsm_buf_free(&subj);
	for (i = 0; delay && i < c->d->n; i++) {
		struct atsm_dsn_rcpt *r = &c->d->v[i];

		r->delayed = true;
		r->hard = false;
		snprintf(r->action, sizeof(r->action), "delayed");
		if (strcmp(r->reason, "onhold") == 0 ||
		    strcmp(r->reason, "undefined") == 0)
			snprintf(r->reason, sizeof(r->reason), "delayed");
	}
}
