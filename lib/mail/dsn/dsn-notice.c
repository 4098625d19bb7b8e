/* mail/dsn/dsn-notice.c -- the human-readable notice of a bounce, as lines.
 *
 * Both readers read the notice: the RFC 3464 one for what its fields
 * seldom say (the SMTP command, the reason when Diagnostic-Code is
 * missing), the text one for everything.  So what a notice looks like is
 * here, once: which parts make it up, where the copy of the original
 * starts (a rule line with a marker of dsn-tables.c, or a bare rule
 * before header fields), where an address is, and which lines form the
 * paragraph about one recipient -- up to the next blank line or the next
 * line that names another recipient, the way qmail, Exim, Postfix and
 * Sendmail list them.
 */
#include "mail/dsn/dsn-int.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* A multipart whose declared boundary never occurs has no parts: its
 * raw body is the notice. */
static bool
empty_multipart(const struct atsm_mime_msg *m, size_t i)
{
	size_t j;

	if (m->v[i].kind != ATSM_MIME_MULTIPART)
		return false;
	for (j = i + 1; j < m->n; j++)
		if (m->v[j].parent == (int)i)
			return false;
	return true;
}

/* The notice: text parts that are not inside an embedded message. */
void
atsm_dsn_notice_text(const struct atsm_mime_msg *m, struct atsm_buf *out)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		const struct atsm_mime_part *pt = &m->v[i];
		int a;
		bool inside = false;

		if (pt->kind != ATSM_MIME_LEAF && !empty_multipart(m, i))
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
}

/* Where the copy of the original message starts in the notice text. */
size_t
atsm_dsn_original_start(const char *t, size_t n, size_t *hdr_at)
{
	size_t i = 0, e, next, k;

	*hdr_at = n;
	while (i < n) {
		const char *nl = memchr(t + i, '\n', n - i);

		e = nl != NULL ? (size_t)(nl - t) : n;
		next = nl != NULL ? e + 1 : n;
		if (e - i >= 3 && (t[i] == '-' || t[i] == '=' || t[i] == '_' ||
		    (t[i] == ' ' && e - i > 4 && t[i + 1] == '-'))) {
			bool marker = false;

			for (k = 0; atsm_dsn_original_markers[k] != NULL; k++)
				if (atsm_dsn_ci_find(t + i, e - i,
				    atsm_dsn_original_markers[k]) != NULL)
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
int
atsm_dsn_inline_original(struct atsm_dsn_ctx *c, const char *t, size_t n,
    size_t at)
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
	rc = atsm_dsn_take_original(c, &h);
	atsm_mime_headers_free(&h);
	return rc;
}

static bool
is_addr_char(unsigned char ch)
{
	return isalnum(ch) || ch >= 0x80 || strchr(".-_+=%!#$&'*/?^`{|}~", ch) != NULL;
}

/* Find an address in t[0..n) from i: *s, *e its bounds. */
bool
atsm_dsn_next_addr(const char *t, size_t n, size_t i, size_t *s, size_t *e)
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
bool
atsm_dsn_sendmail_line(const char *t, size_t n, size_t i, size_t *s, size_t *e)
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
void
atsm_dsn_paragraph(const char *t, size_t n, size_t s, size_t alen, size_t *ps,
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
		if (lines > 0 && atsm_dsn_sendmail_line(t, le, e, &as, &ae))
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
bool
atsm_dsn_rcpt_to_prefix(const char *t, size_t n)
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
