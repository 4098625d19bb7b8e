/* template/draft.c -- a template as a message (atsm_tpl_draft): the
 * draft of the IMAP folder "ATS Templates" and the unmerged mail that
 * atsmailctl bulk send merges per recipient.
 *
 * Japanese text goes as ISO-2022-JP in 7bit when every character exists
 * in it (what Japanese mail clients have always read), else as UTF-8; the
 * Subject the same in RFC 2047 B-words.  The tags stay as they are: a
 * client that opens the draft shows {{resume.name}}, and the merge at
 * send time reads them back from whichever charset the client chose.
 */
#include <stdio.h>
#include <string.h>

#include "template/template.h"
#include "template/tpl-int.h"

/* A text part's Content-Type/CTE header lines and its body, CRLF. */
static int
text_part(const char *type, const char *text, bool ja, struct atsm_buf *out)
{
	struct atsm_buf enc, crlf;
	const char *cs = "ISO-2022-JP", *cte = "7bit";
	bool eight;
	int rc = -1;

	atsm_buf_init(&enc, 16u * 1024u * 1024u);
	atsm_buf_init(&crlf, 16u * 1024u * 1024u);
	if (atsm_tpl_eol(text, strlen(text), "\r\n", &crlf) < 0)
		goto done;
	if (atsm_tpl_is_7bit(crlf.data != NULL ? crlf.data : "", crlf.len, &eight)) {
		cs = "us-ascii";
		if (atsm_buf_append(&enc, atsm_buf_str(&crlf), crlf.len) < 0)
			goto done;
	} else if (!ja || atsm_tpl_from_utf8(cs, atsm_buf_str(&crlf), crlf.len,
	    &enc) < 0 || !atsm_tpl_is_7bit(atsm_buf_str(&enc), enc.len, &eight)) {
		size_t i, high = 0;

		atsm_buf_reset(&enc);
		cs = "UTF-8";
		for (i = 0; i < crlf.len; i++)
			if ((unsigned char)crlf.data[i] >= 0x80)
				high++;
		if (high * 6 > crlf.len) {
			cte = "base64";
			if (atsm_tpl_base64(atsm_buf_str(&crlf), crlf.len, "\r\n", &enc) < 0 ||
			    atsm_buf_puts(&enc, "\r\n") < 0)
				goto done;
		} else {
			cte = "quoted-printable";
			if (atsm_tpl_qp(atsm_buf_str(&crlf), crlf.len, "\r\n", &enc) < 0)
				goto done;
		}
	}
	if (enc.len > 0 && enc.data[enc.len - 1] != '\n' &&
	    atsm_buf_puts(&enc, "\r\n") < 0)
		goto done;
	if (atsm_buf_printf(out, "Content-Type: %s; charset=%s\r\n"
	    "Content-Transfer-Encoding: %s\r\n\r\n", type, cs, cte) < 0 ||
	    atsm_buf_append(out, atsm_buf_str(&enc), enc.len) < 0)
		goto done;
	rc = 0;
done:
	atsm_buf_free(&enc);
	atsm_buf_free(&crlf);
	return rc;
}

/* From: with a display name in encoded words when it is not ASCII. */
static int
put_from(const char *from, const char *cs, struct atsm_buf *out)
{
	const char *lt = strrchr(from, '<');
	size_t i;
	bool ascii = true;

	for (i = 0; from[i] != '\0'; i++)
		if ((unsigned char)from[i] >= 0x80 || from[i] == '\r' || from[i] == '\n')
			ascii = false;
	if (ascii || lt == NULL)
		return atsm_buf_printf(out, "From: %s\r\n", from);
	{
		char name[512];
		size_t n = (size_t)(lt - from);
		struct atsm_buf w;
		int rc;

		while (n > 0 && from[n - 1] == ' ')
			n--;
		if (n >= sizeof(name))
			n = sizeof(name) - 1;
		memcpy(name, from, n);
		name[n] = '\0';
		atsm_buf_init(&w, 0);
		/* "From: " + words; the address goes after the last word */
		rc = atsm_tpl_header("From", name, cs, "\r\n", &w);
		if (rc == 0 && w.len >= 2)
			w.len -= 2;
		if (rc == 0)
			rc = atsm_buf_append(out, atsm_buf_str(&w), w.len) < 0 ||
			    atsm_buf_printf(out, " %s\r\n", lt) < 0 ? -1 : 0;
		atsm_buf_free(&w);
		return rc;
	}
}

int
atsm_tpl_draft(const struct atsm_template *t, const char *from, const char *bcc,
    const char *date, const char *msgid, struct atsm_buf *out, struct atsm_err *err)
{
	bool ja = strcmp(t->lang, "en") != 0;
	const char *cs = ja ? "ISO-2022-JP" : "UTF-8";
	char boundary[80];
	int rc = 0;

	if (!atsm_template_code_valid(t->code) || t->subject == NULL || t->body == NULL)
		return atsm_err_set(err, "template \"%.40s\": no valid code, "
		    "subject or body", t->code);
	snprintf(boundary, sizeof(boundary), "=_atsm-template-%s-%d", t->code,
	    t->revision);
	if (put_from(from, cs, out) < 0 ||
	    (bcc != NULL && atsm_buf_printf(out, "Bcc: %s\r\n", bcc) < 0) ||
	    atsm_tpl_header("Subject", t->subject, cs, "\r\n", out) < 0 ||
	    atsm_buf_printf(out, "Date: %s\r\nMessage-ID: <%s>\r\n"
	    "MIME-Version: 1.0\r\n%s: %s; rev=%d\r\n", date, msgid,
	    ATSM_TPL_MARKER, t->code, t->revision) < 0)
		rc = -1;
	if (rc == 0 && t->body_html == NULL)
		rc = text_part("text/plain", t->body, ja, out);
	else if (rc == 0) {
		if (atsm_buf_printf(out, "Content-Type: multipart/alternative; "
		    "boundary=\"%s\"\r\n\r\n--%s\r\n", boundary, boundary) < 0 ||
		    text_part("text/plain", t->body, ja, out) < 0 ||
		    atsm_buf_printf(out, "\r\n--%s\r\n", boundary) < 0 ||
		    text_part("text/html", t->body_html, ja, out) < 0 ||
		    atsm_buf_printf(out, "\r\n--%s--\r\n", boundary) < 0)
			rc = -1;
	}
	if (rc < 0)
		return atsm_err_set(err, "template %s: the draft is longer than "
		    "%zu bytes", t->code, out->limit != 0 ? out->limit :
		    (size_t)ATSM_BUF_DEFAULT_LIMIT);
	return 0;
}
