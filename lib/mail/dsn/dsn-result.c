/* mail/dsn/dsn-result.c -- what every reader of a bounce needs: finding
 * status codes in text, and filling struct atsm_dsn.
 *
 * atsm_dsn_add_rcpt() is the one way a failed recipient enters the result,
 * so every reader gets the same guarantees: the address normalised and
 * not repeated, at most ATSM_DSN_MAX_RCPTS of them, the diagnostic
 * decoded (RFC 2047) and bounded, the class decided by dsn-classify.c, a
 * delayed delivery never hard.  atsm_dsn_take_original() keeps the first
 * value of each header of the original message, wherever a reader found
 * it (an attached message, its headers, an inline copy).
 */
#include "mail/dsn/dsn-int.h"
#include "mail/addr.h"
#include "mail/rfc2047.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- status codes in text ---- */

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
bool
atsm_dsn_find_status(const char *t, size_t n, char *status)
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
bool
atsm_dsn_find_reply_code(const char *t, size_t n, char *status)
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

/* A generic status (5.0.0, 4.0.0, none: Exim, Courier, OpenSMTPD) made
 * specific by the diagnostic ("550 5.1.1 <a@b>: ...", "550-5.1.1"): the
 * first code of the same class in the text. */
void
atsm_dsn_specific_status(char *status, const char *diag)
{
	char s[16];

	if (diag == NULL || !atsm_dsn_is_generic_status(status) ||
	    !atsm_dsn_find_status(diag, strlen(diag), s) || s[0] == '2' ||
	    (status[0] != '\0' && s[0] != status[0]))
		return;
	memcpy(status, s, sizeof(s));
}

/* ---- the result ---- */

int
atsm_dsn_set_once(char **dst, const char *v, size_t n)
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
	return (*dst = atsm_dsn_dup(v, n, ATSM_DSN_HEADER_MAX)) == NULL ? -1 : 0;
}

int
atsm_dsn_add_rcpt(struct atsm_dsn_ctx *c, const char *addr,
    const char *status, const char *action, const char *diag, size_t diag_len,
    const char *ctext)
{
	struct atsm_dsn *d = c->d;
	struct atsm_dsn_rcpt *r;
	struct atsm_buf b;
	char *norm = NULL;
	const char *why;
	char cmd;
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
	atsm_dsn_specific_status(r->status, r->diagnostic);
	r->delayed = strcmp(r->action, "delayed") == 0;
	why = r->diagnostic != NULL ? r->diagnostic : ctext;
	if ((cmd = atsm_dsn_smtp_command(why)) == 0)
		cmd = atsm_dsn_stage_cmd(c->stage, r->status, why);
	r->hard = atsm_dsn_classify_cmd(r->status, why, cmd, r->reason);
	/* a delayed delivery is never a dead address */
	if (r->delayed) {
		r->hard = false;
		if (strcmp(r->reason, "onhold") == 0 ||
		    strcmp(r->reason, "undefined") == 0)
			snprintf(r->reason, sizeof(r->reason), "delayed");
	}
	d->n++;
	return 0;
}

int
atsm_dsn_take_original(struct atsm_dsn_ctx *c,
    const struct atsm_mime_headers *h)
{
	struct atsm_dsn *d = c->d;
	const char *v;
	struct atsm_buf b;

	if (atsm_mime_header(h, "Message-ID") == NULL &&
	    atsm_mime_header(h, "From") == NULL &&
	    atsm_mime_header(h, "X-ATS-Ref") == NULL)
		return 0;
	v = atsm_mime_header(h, "Message-ID");
	if (v != NULL && atsm_dsn_set_once(&d->orig_message_id, v, strlen(v)) < 0)
		return -1;
	v = atsm_mime_header(h, "X-ATS-Ref");
	if (v != NULL && atsm_dsn_set_once(&d->orig_ats_ref, v, strlen(v)) < 0)
		return -1;
	v = atsm_mime_header(h, "From");
	if (v != NULL && atsm_dsn_set_once(&d->orig_from, v, strlen(v)) < 0)
		return -1;
	v = atsm_mime_header(h, "To");
	if (v != NULL && atsm_dsn_set_once(&d->orig_to, v, strlen(v)) < 0)
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
