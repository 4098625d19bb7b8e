/* template/mime.c -- merge the tags of a whole message as a mail client
 * sent it (atsm_tpl_merge_message).
 *
 * The message is parsed (mail/mime.c) and copied with edits: the top
 * Subject, and the header and body of every text/plain and text/html part
 * that is part of the message itself -- not an attachment (a
 * Content-Disposition of attachment), not inside an attached message
 * (message/rfc822): those are the sender's files and go byte for byte, as
 * does every other header and part.  A text part is decoded (transfer
 * encoding, then charset to UTF-8), merged, and written back in its own
 * charset when the merged text fits in it (a name outside JIS X 0208 does
 * not fit ISO-2022-JP: then UTF-8), with a transfer encoding valid for the
 * result: its own when it still holds, else quoted-printable for mostly
 * ASCII text and base64 for the rest.  A part without a tag is not touched
 * at all.  The other parameters of Content-Type (format=flowed, delsp) are
 * kept.  Line ends follow the message's own (CRLF or LF).
 *
 * Bounded: the message at most ATSM_TPL_MESSAGE_MAX bytes, the parser's
 * limits (a message it could not read whole is refused: an unmerged tag
 * could reach a candidate), output limited by out.  Every step is linear
 * in the message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/charset.h"
#include "mail/mime.h"
#include "mail/rfc2047.h"
#include "template/template.h"
#include "template/tpl-int.h"

struct job {
	const char *msg;
	size_t len;
	const struct atsm_tpl_fields *f;
	enum atsm_tpl_missing missing;
	const char *eol;
	struct atsm_tpl_fault *fault;
	struct atsm_err *err;
};

static bool
has_tag(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i++)
		if (p[i] == '{' && p[i + 1] == '{')
			return true;
	return false;
}

/* Did the client write the Subject in ISO-2022-JP encoded words? */
static bool
has_jis_word(const char *raw)
{
	const char *p;

	for (p = raw; (p = strstr(p, "=?")) != NULL; p += 2)
		if (strncasecmp(p + 2, "iso-2022-jp", 11) == 0)
			return true;
	return false;
}

/* Is part i text of the message itself (not under a message/rfc822, not
 * an attachment)? */
static bool
mergeable(const struct atsm_mime_msg *m, size_t i)
{
	const struct atsm_mime_part *pt = &m->v[i];
	const char *cd;
	int p;

	if (pt->kind != ATSM_MIME_LEAF ||
	    (strcmp(pt->type, "text/plain") != 0 && strcmp(pt->type, "text/html") != 0))
		return false;
	if ((cd = atsm_mime_header(&pt->hdr, "Content-Disposition")) != NULL &&
	    strncasecmp(cd + strspn(cd, " \t"), "attachment", 10) == 0)
		return false;
	for (p = pt->parent; p >= 0; p = m->v[p].parent)
		if (m->v[p].kind != ATSM_MIME_MULTIPART)
			return false;
	return true;
}

/* Content-Type: the type, charset=cs, and the other parameters of old. */
static int
put_content_type(const struct atsm_mime_part *pt, const char *cs,
    const char *eol, struct atsm_buf *out)
{
	const char *ct = atsm_mime_header(&pt->hdr, "Content-Type"), *p, *s;
	bool q = false;

	if (atsm_buf_printf(out, "Content-Type: %s; charset=%s", pt->type, cs) < 0)
		return -1;
	if (ct == NULL || (p = strchr(ct, ';')) == NULL)
		return atsm_buf_puts(out, eol);
	/* each parameter up to an unquoted ';', charset left out */
	for (s = ++p;; p++) {
		if (*p == '"')
			q = !q;
		else if (*p == '\\' && q && p[1] != '\0')
			p++;
		else if ((*p == ';' && !q) || *p == '\0') {
			const char *a = s, *e = p;

			while (a < e && (*a == ' ' || *a == '\t'))
				a++;
			while (e > a && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			if (e > a && strncasecmp(a, "charset", 7) != 0 &&
			    atsm_buf_printf(out, ";%s %.*s", eol, (int)(e - a), a) < 0)
				return -1;
			if (*p == '\0')
				break;
			s = p + 1;
		}
	}
	return atsm_buf_puts(out, eol);
}

/* Copy the header block [h, h+n) to out, leaving out fields named in
 * drop[], and put extra before the blank line (a last field without its
 * line end, in a message that has no body, gets eol first). */
static int
put_header(const char *h, size_t n, const char *const *drop,
    const struct atsm_buf *extra, const char *eol, struct atsm_buf *out)
{
	size_t i = 0, start, e;

	while (i < n) {
		bool skip = false;
		size_t k, colon;

		start = i;
		/* the blank line ends the fields */
		if (h[i] == '\n' || (h[i] == '\r' && i + 1 < n && h[i + 1] == '\n'))
			break;
		/* one field: its first line and the continuation lines */
		do {
			while (i < n && h[i] != '\n')
				i++;
			if (i < n)
				i++;
		} while (i < n && (h[i] == ' ' || h[i] == '\t'));
		e = i;
		for (colon = start; colon < e && h[colon] != ':' && h[colon] != '\n'; colon++)
			;
		for (k = 0; drop[k] != NULL; k++) {
			size_t nl = strlen(drop[k]), end = colon;

			while (end > start && (h[end - 1] == ' ' || h[end - 1] == '\t'))
				end--;
			if (end - start == nl && strncasecmp(h + start, drop[k], nl) == 0)
				skip = true;
		}
		if (!skip && (atsm_buf_append(out, h + start, e - start) < 0 ||
		    (h[e - 1] != '\n' && atsm_buf_puts(out, eol) < 0)))
			return -1;
	}
	if (extra->len > 0 && atsm_buf_append(out, extra->data, extra->len) < 0)
		return -1;
	return atsm_buf_append(out, h + i, n - i);
}

static int
full(struct job *j)
{
	if (j->fault != NULL)
		j->fault->code = ATSM_TPL_FAULT_LIMIT;
	return atsm_err_set(j->err, "template: the merged message is too long "
	    "for %s", j->f != NULL && j->f->what[0] != '\0' ? j->f->what :
	    "this recipient");
}

/* The merged Subject field into out ("" when the Subject has no tag). */
static int
merge_subject(struct job *j, const struct atsm_mime_headers *h,
    struct atsm_buf *out)
{
	const char *raw = atsm_mime_header(h, "Subject");
	struct atsm_buf dec, mg;
	int rc = 0;

	if (raw == NULL)
		return 0;
	atsm_buf_init(&dec, 64 * 1024);
	atsm_buf_init(&mg, 256 * 1024);
	(void)atsm_rfc2047_decode(raw, strlen(raw), &dec);
	if (has_tag(atsm_buf_str(&dec), dec.len)) {
		bool jis = has_jis_word(raw);

		if (atsm_tpl_merge(atsm_buf_str(&dec), dec.len, j->f, j->missing,
		    false, &mg, j->fault, j->err) < 0)
			rc = atsm_err_prefix(j->err, "Subject");
		else if (atsm_tpl_header("Subject", atsm_buf_str(&mg),
		    jis ? "ISO-2022-JP" : "UTF-8", j->eol, out) < 0)
			rc = full(j);
	}
	atsm_buf_free(&dec);
	atsm_buf_free(&mg);
	return rc;
}

/* Choose the transfer encoding of the merged bytes: the part's own when
 * valid, else QP for text that is mostly ASCII, base64 for the rest. */
static const char *
choose_cte(const char *old, const char *p, size_t n)
{
	bool eight, seven = atsm_tpl_is_7bit(p, n, &eight);
	size_t i, high = 0;

	if (strcmp(old, "base64") == 0 || strcmp(old, "quoted-printable") == 0)
		return old;
	if (seven)
		return old[0] != '\0' ? old : "7bit";
	if (strcmp(old, "8bit") == 0 || strcmp(old, "binary") == 0) {
		bool long_line = false;
		size_t col = 0;

		for (i = 0; i < n && !long_line; i++)
			col = p[i] == '\n' ? 0 : col + 1, long_line = col > 998;
		if (!long_line && memchr(p, '\0', n) == NULL)
			return old;
	}
	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			high++;
	return high * 6 > n ? "base64" : "quoted-printable";
}

/* Merge one text part: its new header into hdr_out, its body into body_out.
 * 0 with nothing written when it has no tag. */
static int
merge_part(struct job *j, const struct atsm_mime_part *pt, bool top,
    struct atsm_buf *subject, struct atsm_buf *hdr_out, struct atsm_buf *body_out,
    bool *merged)
{
	static const char *const drop_all[] = { "Content-Type",
	    "Content-Transfer-Encoding", "Subject", NULL };
	static const char *const drop_ct[] = { "Content-Type",
	    "Content-Transfer-Encoding", NULL };
	static const char *const drop_subject[] = { "Subject", NULL };
	struct atsm_buf text, mg, enc, crlf, extra;
	const char *cs, *cte;
	bool html = strcmp(pt->type, "text/html") == 0, ends_eol;
	int rc = 0;

	atsm_buf_init(&text, j->len * 4 + 4096);
	atsm_buf_init(&mg, 0);
	atsm_buf_init(&enc, 0);
	atsm_buf_init(&crlf, 0);
	atsm_buf_init(&extra, 0);
	if (pt->charset[0] != '\0' && strcmp(pt->charset, "us-ascii") != 0 &&
	    !atsm_charset_known(pt->charset)) {
		if (j->fault != NULL) {
			j->fault->code = ATSM_TPL_FAULT_CHARSET;
			snprintf(j->fault->tag, sizeof(j->fault->tag), "%s", pt->charset);
		}
		rc = atsm_err_set(j->err, "template: a %s part in charset "
		    "\"%s\", which atsmail cannot read", pt->type, pt->charset);
		goto done;
	}
	if (atsm_mime_body_text(pt, &text) < 0) {
		rc = full(j);
		goto done;
	}
	if (!has_tag(atsm_buf_str(&text), text.len)) {
		if (top && subject->len > 0 && put_header(pt->header,
		    pt->header_len, drop_subject, subject, j->eol, hdr_out) < 0)
			rc = full(j);
		goto done;
	}
	*merged = true;
	mg.limit = enc.limit = crlf.limit = j->len * 4 + 1024 * 1024;
	if (atsm_tpl_merge(atsm_buf_str(&text), text.len, j->f, j->missing, html,
	    &mg, j->fault, j->err) < 0) {
		rc = atsm_err_prefix(j->err, "%s part", pt->type);
		goto done;
	}

	/* the charset: the part's own when the text fits, else UTF-8 */
	cs = pt->charset[0] != '\0' ? pt->charset : "us-ascii";
	if (atsm_tpl_from_utf8(cs, atsm_buf_str(&mg), mg.len, &enc) < 0) {
		atsm_buf_reset(&enc);
		cs = "utf-8";
		if (atsm_buf_append(&enc, atsm_buf_str(&mg), mg.len) < 0) {
			rc = full(j);
			goto done;
		}
	}
	/* the transfer encoding, and the body in it */
	cte = choose_cte(pt->cte, atsm_buf_str(&enc), enc.len);
	ends_eol = pt->body_len > 0 && (pt->body[pt->body_len - 1] == '\n' ||
	    pt->body[pt->body_len - 1] == '\r');
	if (strcmp(cte, "base64") == 0) {
		/* text is CRLF in its canonical form */
		if (atsm_tpl_eol(atsm_buf_str(&enc), enc.len, "\r\n", &crlf) < 0 ||
		    atsm_tpl_base64(atsm_buf_str(&crlf), crlf.len, j->eol, body_out) < 0)
			rc = -1;
	} else if (strcmp(cte, "quoted-printable") == 0) {
		if (atsm_tpl_qp(atsm_buf_str(&enc), enc.len, j->eol, body_out) < 0)
			rc = -1;
	} else if (atsm_tpl_eol(atsm_buf_str(&enc), enc.len, j->eol, body_out) < 0)
		rc = -1;
	if (rc == 0 && ends_eol && body_out->len > 0 &&
	    body_out->data[body_out->len - 1] != '\n' &&
	    atsm_buf_puts(body_out, j->eol) < 0)
		rc = -1;
	if (rc == 0 && top && subject->len > 0 &&
	    atsm_buf_append(&extra, subject->data, subject->len) < 0)
		rc = -1;
	if (rc == 0 && (put_content_type(pt, cs, j->eol, &extra) < 0 ||
	    atsm_buf_printf(&extra, "Content-Transfer-Encoding: %s%s", cte, j->eol) < 0 ||
	    put_header(pt->header, pt->header_len, top && subject->len > 0 ?
	    drop_all : drop_ct, &extra, j->eol, hdr_out) < 0))
		rc = -1;
	if (rc < 0)
		rc = full(j);
done:
	atsm_buf_free(&text);
	atsm_buf_free(&mg);
	atsm_buf_free(&enc);
	atsm_buf_free(&crlf);
	atsm_buf_free(&extra);
	return rc;
}

static const char *
eol_of(const char *msg, size_t len)
{
	const char *nl = memchr(msg, '\n', len);

	return nl != NULL && nl > msg && nl[-1] == '\r' ? "\r\n" : "\n";
}

int
atsm_tpl_merge_message(const char *msg, size_t len, const struct atsm_tpl_fields *f,
    enum atsm_tpl_missing missing, struct atsm_buf *out, struct atsm_tpl_fault *fault,
    struct atsm_err *err)
{
	struct atsm_mime_msg m;
	struct atsm_buf subject, hdr, body;
	struct job j;
	size_t i, at = 0;
	int rc = 0;

	if (fault != NULL)
		memset(fault, 0, sizeof(*fault));
	if (len > ATSM_TPL_MESSAGE_MAX) {
		if (fault != NULL)
			fault->code = ATSM_TPL_FAULT_LIMIT;
		return atsm_err_set(err, "template: a message of %zu bytes is "
		    "longer than %u", len, ATSM_TPL_MESSAGE_MAX);
	}
	if (atsm_mime_parse(msg, len, NULL, &m, err) < 0) {
		atsm_mime_free(&m);
		return -1;
	}
	if (m.truncated || m.n == 0) {
		atsm_mime_free(&m);
		if (fault != NULL)
			fault->code = ATSM_TPL_FAULT_LIMIT;
		return atsm_err_set(err, "template: the message has more parts "
		    "or deeper nesting than atsmail reads (%d parts, %d levels)",
		    ATSM_MIME_MAX_PARTS, ATSM_MIME_MAX_DEPTH);
	}
	j.msg = msg;
	j.len = len;
	j.f = f;
	j.missing = missing;
	j.eol = eol_of(msg, len);
	j.fault = fault;
	j.err = err;
	atsm_buf_init(&subject, 0);
	atsm_buf_init(&hdr, 0);
	atsm_buf_init(&body, 0);
	if (merge_subject(&j, &m.v[0].hdr, &subject) < 0) {
		rc = -1;
		goto done;
	}
	for (i = 0; i < m.n && rc == 0; i++) {
		const struct atsm_mime_part *pt = &m.v[i];
		bool top = i == 0, merged = false;
		static const char *const drop_subject[] = { "Subject", NULL };

		atsm_buf_reset(&hdr);
		atsm_buf_reset(&body);
		if (pt->header < msg || pt->header + pt->header_len > msg + len)
			continue;	/* inside a decoded attached message */
		if (mergeable(&m, i))
			rc = merge_part(&j, pt, top, &subject, &hdr, &body,
			    &merged);
		else if (top && subject.len > 0 && put_header(pt->header,
		    pt->header_len, drop_subject, &subject, j.eol, &hdr) < 0)
			rc = full(&j);
		if (rc < 0)
			break;
		if (hdr.len > 0) {
			size_t h = (size_t)(pt->header - msg);

			if (atsm_buf_append(out, msg + at, h - at) < 0 ||
			    atsm_buf_append(out, hdr.data, hdr.len) < 0)
				rc = full(&j);
			at = h + pt->header_len;
		}
		if (rc == 0 && merged) {
			size_t b = (size_t)(pt->body - msg);

			if (atsm_buf_append(out, msg + at, b - at) < 0 ||
			    atsm_buf_append(out, body.data, body.len) < 0)
				rc = full(&j);
			at = b + pt->body_len;
		}
	}
	if (rc == 0 && atsm_buf_append(out, msg + at, len - at) < 0)
		rc = full(&j);
done:
	atsm_buf_free(&subject);
	atsm_buf_free(&hdr);
	atsm_buf_free(&body);
	atsm_mime_free(&m);
	return rc;
}
