/* mail/dsn/dsn.c -- is a message a bounce: the readers, in order; see
 * mail/dsn/dsn.h.
 *
 * A feedback report (ARF) is no bounce.  An RFC 3464 report is read by
 * its fields (dsn-rfc3464.c) and nothing else: when it has them, they are
 * the truth.  Any other message is a bounce only when its sender, its
 * subject or an SMTP dialogue in its notice says so (dsn-text.c), or
 * when it is fml's refusal of a post (dsn-fml.c); then
 * its notice is read as Amazon SES's JSON (dsn-ses.c) or by its lines
 * (dsn-text.c), then by Exim's X-Failed-Recipients (dsn-exim.c), first
 * without and then with the addresses the bounce was
 * sent to (a bounce may be returned to the failed address itself), and a
 * notice that names nobody fails the original's only To.  Before any
 * reader the original message is taken from a message/rfc822 or
 * text/rfc822-headers part, and the format's SMTP stage is recognised
 * by the bounce's header (dsn-mta.c).  What the readers share is mail/dsn/dsn-int.h.
 */
#include "mail/dsn/dsn.h"
#include "mail/dsn/dsn-int.h"
#include "mail/addr.h"
#include "base/buf.h"
#include "mail/mime.h"
#include "mail/rfc2231.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The addresses of the bounce itself: a first reading never takes them
 * for a failed recipient. */
static void
collect_self(struct atsm_dsn_ctx *c)
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
		(void)atsm_addr_parse_list(v, strlen(v), ATSM_DSN_MAX_SELF, &l, NULL);
		for (j = 0; j < l.n && c->nself < ATSM_DSN_MAX_SELF; j++) {
			char *n = NULL;

			if (atsm_addr_normalize(l.v[j].addr, &n, NULL) == 0)
				c->self[c->nself++] = n;
		}
		atsm_addr_list_free(&l);
	}
}

/* The report-type of a multipart/report into rtype (size bytes), or NULL
 * when the message is no report. */
static const char *
report_type(const struct atsm_mime_msg *m, char *rtype, size_t size)
{
	const char *ct = atsm_mime_header(&m->v[0].hdr, "Content-Type");
	struct atsm_buf b;

	if (ct == NULL || strcmp(m->v[0].type, "multipart/report") != 0)
		return NULL;
	atsm_buf_init(&b, size - 1);
	if (atsm_rfc2231_param(ct, strlen(ct), "report-type", &b, NULL) == 1)
		snprintf(rtype, size, "%s", atsm_buf_str(&b));
	atsm_buf_free(&b);
	return rtype;
}

/* A feedback report (ARF, RFC 5965) says a recipient complained, not that
 * a delivery failed: by its report-type, or by a feedback part in a
 * report that mislabels itself. */
static bool
is_feedback(const struct atsm_mime_msg *m, const char *rt)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->v[i].type, "message/feedback-report") == 0)
			return true;
	return rt != NULL && strcasecmp(rt, "feedback-report") == 0;
}

/* The readers of a notice that is no RFC 3464 report, in order. */
static int
read_notice(struct atsm_dsn_ctx *c, bool is_report, bool *found)
{
	struct atsm_buf text;
	const char *t;
	int rc;

	atsm_buf_init(&text, ATSM_DSN_TEXT_MAX);
	atsm_dsn_notice_text(c->m, &text);
	t = atsm_buf_str(&text);
	/* a list manager's refusal comes from the list, not a mailer-daemon */
	if (!is_report) {
		rc = atsm_dsn_read_fml(c, t, text.len, found);
		if (rc != 0 || *found) {
			atsm_buf_free(&text);
			return rc;
		}
	}
	if (!is_report && !atsm_dsn_notice_is_bounce(c, t, text.len)) {
		atsm_buf_free(&text);
		return 0;
	}
	if (atsm_dsn_is_ses(t, text.len))
		rc = atsm_dsn_read_ses(c, t, text.len, found);
	else {
		rc = atsm_dsn_read_text(c, t, text.len, found);
		if (rc == 0 && !*found)
			rc = atsm_dsn_read_exim(c, t, text.len, found);
		if (rc == 0 && !*found) {
			c->allow_self = true;
			rc = atsm_dsn_read_text(c, t, text.len, found);
		}
	}
	if (rc == 0 && !*found && !c->d->is_feedback && c->d->orig_to != NULL)
		rc = atsm_dsn_read_orig_to(c, found);
	if (rc == 0 && *found)
		atsm_dsn_text_delays(c, t, text.len);
	atsm_buf_free(&text);
	return rc;
}

int
atsm_dsn_parse(const char *msg, size_t len, struct atsm_dsn *out,
    struct atsm_err *err)
{
	struct atsm_mime_msg m;
	struct atsm_dsn_ctx c;
	const char *rt;
	char rtype[64] = "";
	bool found = false;
	size_t i;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	/* a message saved from an mbox starts with its "From " line */
	if (len > 5 && memcmp(msg, "From ", 5) == 0) {
		const char *nl = memchr(msg, '\n', len);

		if (nl != NULL) {
			len -= (size_t)(nl + 1 - msg);
			msg = nl + 1;
		}
	}
	if (atsm_mime_parse(msg, len, NULL, &m, err) < 0) {
		atsm_mime_free(&m);
		return -1;
	}
	c.d = out;
	c.m = &m;
	collect_self(&c);
	c.stage = atsm_dsn_mta_stage(&m);
	rt = report_type(&m, rtype, sizeof(rtype));
	if (is_feedback(&m, rt)) {
		out->is_feedback = true;
		out->format = "arf";
		goto done;
	}
	/* the original message, for every reader */
	for (i = 0; i < m.n && rc == 0; i++)
		if (m.v[i].parent >= 0 &&
		    (m.v[m.v[i].parent].kind == ATSM_MIME_MESSAGE ||
		    m.v[m.v[i].parent].kind == ATSM_MIME_HEADERS))
			rc = atsm_dsn_take_original(&c, &m.v[i].hdr);
	if (rc == 0)
		rc = atsm_dsn_read_rfc3464(&c, &found);
	/* a report whose fields name no address (a Final-Recipient that is a
	 * host or a pipe) is read by its notice; one that reports success
	 * only is no bounce */
	if (found && (out->n > 0 || c.success)) {
		out->format = "rfc3464";
		goto done;
	}
	found = false;
	if (rc == 0) {
		rc = read_notice(&c, rt != NULL, &found);
		if (found)
			out->format = "text";
	}
done:
	for (i = 0; i < out->n; i++)
		if (!out->v[i].delayed)
			out->is_bounce = true;
	out->is_delay = out->n > 0 && !out->is_bounce;
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
