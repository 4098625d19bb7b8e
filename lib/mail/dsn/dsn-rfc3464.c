/* mail/dsn/dsn-rfc3464.c -- the reader of standard bounces (RFC 3464,
 * multipart/report; report-type=delivery-status, and RFC 6533's
 * message/global-delivery-status).
 *
 * Each per-recipient block of fields (Final-Recipient, Original-Recipient,
 * Action, Status, Diagnostic-Code) is one failed recipient unless its
 * Action says the mail was delivered, relayed or expanded.  Two
 * extensions of real reporting MTAs are read with them: PowerMTA's
 * X-PowerMTA-BounceCategory (its own hard verdict) and Exim's
 * X-Failed-Recipients header (for a report whose Final-Recipient is a
 * file or pipe, not an address).  The fields seldom say at which SMTP
 * command a recipient failed, and sometimes not why: the human-readable
 * notice of the report does, so it is read after the fields
 * (refine_from_notice).  A report whose MIME structure was lost has its
 * fields in the text: they are read there (read_fields_in_text).
 */
#include "mail/dsn/dsn-int.h"
#include "mail/addr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* Where the block of fields at p[0..len) ends at the latest: before a
 * second Final-Recipient line (some MTAs write the per-recipient blocks
 * without the blank line between them). */
static size_t
block_limit(const char *p, size_t len)
{
	size_t i = 0;
	bool seen = false;

	while (i < len) {
		const char *nl = memchr(p + i, '\n', len - i);

		if (len - i >= 16 && strncasecmp(p + i, "Final-Recipient:", 16) == 0) {
			if (seen)
				return i;
			seen = true;
		}
		if (nl == NULL || (nl + 1 < p + len && (nl[1] == '\n' ||
		    (nl[1] == '\r' && nl + 2 < p + len && nl[2] == '\n'))))
			break;	/* the block's own end */
		i = (size_t)(nl - p) + 1;
	}
	return len;
}

/* The per-message and per-recipient blocks of fields at p[0..len). */
static int
read_fields(struct atsm_dsn_ctx *c, const char *p, size_t len, bool *found)
{
	struct atsm_mime_headers h;
	size_t at, off = 0;
	int rc = 0, blk = 0;

	while (off < len && rc == 0) {
		const char *fr, *or, *ac, *st, *dg, *cat, *dg_type;
		char status[16] = "";

		while (off < len && (p[off] == '\r' || p[off] == '\n' ||
		    p[off] == ' ' || p[off] == '\t'))
			off++;
		if (off >= len)
			break;
		if (atsm_mime_headers_parse(p + off, block_limit(p + off, len - off),
		    0, 0, &h, &at) < 0) {
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
				rc = atsm_dsn_set_once(&c->d->orig_env_id, v,
				    strlen(v));
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
		if (ac != NULL && (atsm_dsn_ci_has(ac, "delivered") ||
		    atsm_dsn_ci_has(ac, "relayed") ||
		    atsm_dsn_ci_has(ac, "expanded") ||
		    atsm_dsn_ci_has(ac, "deliverable"))) {
			*found = c->success = true;
			atsm_mime_headers_free(&h);
			continue;
		}
		if (st != NULL && !atsm_dsn_find_status(st, strlen(st), status) &&
		    !atsm_dsn_find_reply_code(st, strlen(st), status))
			status[0] = '\0';
		/* a success report (RFC 3464 class 2) is no failure */
		if (status[0] == '2') {
			*found = c->success = true;
			atsm_mime_headers_free(&h);
			continue;
		}
		dg_type = dg;
		if (dg != NULL)
			dg = strip_type(dg);
		*found = true;
		{
			size_t before = c->d->n;

			rc = atsm_dsn_add_rcpt(c, strip_type(fr != NULL ? fr : or),
			    status, ac != NULL ? ac : "failed", dg,
			    dg != NULL ? strlen(dg) : 0, NULL);
			/* a Final-Recipient that is no address (a spool path) */
			if (rc == 0 && c->d->n == before && fr != NULL && or != NULL)
				rc = atsm_dsn_add_rcpt(c, strip_type(or), status,
				    ac != NULL ? ac : "failed", dg,
				    dg != NULL ? strlen(dg) : 0, NULL);
			if (rc == 0 && c->d->n > before && cat != NULL)
				c->verdict[before] =
				    atsm_dsn_ci_has(cat, "bad-mailbox") ? 'U' :
				    atsm_dsn_ci_has(cat, "bad-domain") ? 'H' : 0;
			else if (rc == 0 && c->d->n > before && dg_type != NULL &&
			    strncasecmp(dg_type, "x-unix", 6) == 0)
				c->verdict[before] = 'X';
		}
		atsm_mime_headers_free(&h);
	}
	return rc;
}

static int
read_delivery_status(struct atsm_dsn_ctx *c, const struct atsm_mime_part *pt,
    bool *found)
{
	struct atsm_buf body;
	int rc;

	atsm_buf_init(&body, ATSM_DSN_TEXT_MAX);
	(void)atsm_mime_body_decode(pt, &body);
	rc = read_fields(c, atsm_buf_str(&body), body.len, found);
	atsm_buf_free(&body);
	return rc;
}

/* A report whose MIME structure was lost (no Content-Type in the header,
 * boundaries that are not declared, a saved copy): its fields stand in
 * the text, one per line from a "Reporting-MTA:" or "Final-Recipient:"
 * at a line start.  Read from there, before the copy of the original. */
static int
read_fields_in_text(struct atsm_dsn_ctx *c, const char *t, size_t n,
    bool *found)
{
	static const char *const starts[] = { "\nReporting-MTA:",
		"\nFinal-Recipient:", NULL };
	size_t k, from = n, hdr_at, end;

	for (k = 0; starts[k] != NULL; k++) {
		const char *f = atsm_dsn_ci_find(t, n, starts[k]);

		if (f != NULL && (size_t)(f - t) + 1 < from)
			from = (size_t)(f - t) + 1;
	}
	if (from >= n)
		return 0;
	end = atsm_dsn_original_start(t + from, n - from, &hdr_at);
	return read_fields(c, t + from, end, found);
}

/* Exim's X-Failed-Recipients header, for a report whose Final-Recipient
 * is no address (a file or pipe an alias expanded to). */
static int
failed_recipients_header(struct atsm_dsn_ctx *c)
{
	const char *v = atsm_mime_header(&c->m->v[0].hdr, "X-Failed-Recipients");
	struct atsm_addr_list l;
	size_t k;
	int rc = 0;

	if (v == NULL)
		return 0;
	(void)atsm_addr_parse_list(v, strlen(v), ATSM_DSN_MAX_RCPTS, &l, NULL);
	for (k = 0; k < l.n && rc == 0; k++)
		rc = atsm_dsn_add_rcpt(c, l.v[k].addr, "", "failed", NULL, 0, NULL);
	atsm_addr_list_free(&l);
	return rc;
}

/* The reporting MTA's own word on recipient i: PowerMTA's category (a
 * bad mailbox or domain: hard), or a Diagnostic-Code of type X-Unix (the
 * local delivery program -- a pipe, procmail -- failed, not the address:
 * "mailererror", soft, unless the mailbox was full or the mail too big). */
static void
apply_verdict(struct atsm_dsn_ctx *c, size_t i)
{
	struct atsm_dsn_rcpt *r = &c->d->v[i];

	if (c->verdict[i] == 'U' || c->verdict[i] == 'H') {
		r->hard = true;
		snprintf(r->reason, sizeof(r->reason), "%s",
		    c->verdict[i] == 'U' ? "userunknown" : "hostunknown");
	} else if (c->verdict[i] == 'X' && strcmp(r->reason, "mailboxfull") != 0 &&
	    strcmp(r->reason, "mesgtoobig") != 0 &&
	    strcmp(r->reason, "systemfull") != 0) {
		r->hard = false;
		snprintf(r->reason, sizeof(r->reason), "mailererror");
	}
}

/* An RFC 3464 report says per recipient what failed but seldom at which
 * SMTP command; the human-readable notice often does, in the paragraph
 * that names the recipient ("in reply to RCPT TO command") or in its
 * transcript (">>> DATA").  The notice is also the only explanation when
 * Diagnostic-Code is missing: its paragraph about the recipient, or the
 * whole notice when it speaks of one recipient only. */
static void
refine_from_notice(struct atsm_dsn_ctx *c, const char *t, size_t n)
{
	size_t i, ps, pe;
	char *whole, *para, cmd, whole_cmd;

	if (c->d->n == 0 ||
	    (whole = atsm_dsn_dup(t, n, ATSM_DSN_CLASSIFY_MAX)) == NULL)
		return;
	whole_cmd = atsm_dsn_smtp_command(whole);
	for (i = 0; i < c->d->n; i++) {
		struct atsm_dsn_rcpt *r = &c->d->v[i];
		const char *at = atsm_dsn_ci_find(t, n, r->addr);
		const char *why = r->diagnostic;

		if (at == NULL) {
			apply_verdict(c, i);
			continue;
		}
		atsm_dsn_paragraph(t, n, (size_t)(at - t), strlen(r->addr), &ps,
		    &pe);
		para = atsm_dsn_dup(t + ps, pe - ps, ATSM_DSN_CLASSIFY_MAX);
		if (para == NULL)
			break;
		if ((cmd = atsm_dsn_smtp_command(r->diagnostic)) == 0 &&
		    (cmd = atsm_dsn_smtp_command(para)) == 0)
			cmd = whole_cmd;
		if (why == NULL)
			why = c->d->n == 1 ? whole : para;
		if (r->status[0] == '\0' &&
		    !atsm_dsn_find_status(why, strlen(why), r->status))
			(void)atsm_dsn_find_reply_code(why, strlen(why), r->status);
		atsm_dsn_specific_status(r->status, why);
		/* the Diagnostic-Code is the remote server's reply: one that
		 * names the recipient answered RCPT TO (dsn-mta.c) */
		if (cmd == 0)
			cmd = atsm_dsn_stage_cmd(c->stage != 0 ? c->stage : 'A',
			    r->status, r->diagnostic);
		r->hard = atsm_dsn_classify_cmd(r->status, why, cmd, r->reason) &&
		    !r->delayed;
		if (r->delayed && (strcmp(r->reason, "onhold") == 0 ||
		    strcmp(r->reason, "undefined") == 0))
			snprintf(r->reason, sizeof(r->reason), "delayed");
		apply_verdict(c, i);
		free(para);
	}
	free(whole);
}

int
atsm_dsn_read_rfc3464(struct atsm_dsn_ctx *c, bool *found)
{
	const struct atsm_mime_msg *m = c->m;
	struct atsm_buf text;
	size_t i;
	int rc = 0;

	for (i = 0; i < m->n && rc == 0; i++)
		if (strcmp(m->v[i].type, "message/delivery-status") == 0 ||
		    strcmp(m->v[i].type, "message/global-delivery-status") == 0)
			rc = read_delivery_status(c, &m->v[i], found);
	if (*found && rc == 0 && c->d->n == 0)
		rc = failed_recipients_header(c);
	atsm_buf_init(&text, ATSM_DSN_TEXT_MAX);
	atsm_dsn_notice_text(m, &text);
	if (!*found && rc == 0)
		rc = read_fields_in_text(c, atsm_buf_str(&text), text.len, found);
	if (*found)
		refine_from_notice(c, atsm_buf_str(&text), text.len);
	atsm_buf_free(&text);
	return rc;
}
