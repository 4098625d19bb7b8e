/* notify/report-mail.c -- the report mail as bytes (see
 * notify/report-mail.h; docs/reports.md, "Report mail").
 *
 * The subject and the first sentence are made by notify/compose.c as
 * every notification's (notify/text.c, kind report.weekly, param period;
 * or the site's own text, notify/own-text.h); the table, the PNG and the
 * page come from the params as atsmailctl made them.  Every part is base64: the
 * table and the page are UTF-8 with lines of any length, and base64 keeps
 * them within SMTP's line limit whatever they hold.
 */
#include "notify/report-mail.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "explain/parts.h"

#define B64_LINE 57                  /* bytes per line of base64: 76 columns */
#define PNG_B64_PREFIX "iVBORw0KGgo" /* base64 of the PNG signature */

#define FOOTER_EN "\n-- \nThis mail was written automatically by atsmail (atsmailctl report mail);\n" \
	"replies to it are not read.  Who gets it: report_mail_to in atsmail.conf.\n"
#define FOOTER_JA "\n-- \nこのメールは atsmail が自動で送信しています（atsmailctl report mail）。\n" \
	"このメールへの返信は読まれません。宛先は atsmail.conf の report_mail_to で設定します。\n"

size_t
atsm_notify_mail_max(const char *kind)
{
	if (kind != NULL && strcmp(kind, ATSM_NOTIFY_REPORT_KIND) == 0)
		return ATSM_NOTIFY_REPORT_MAIL_MAX;
	return ATSM_NOTIFY_MAIL_MAX;
}

static int
put_base64(struct atsm_buf *out, const char *p, size_t n)
{
	unsigned char line[4 * ((B64_LINE + 2) / 3) + 1];
	size_t i, take;

	for (i = 0; i < n; i += take) {
		take = n - i < B64_LINE ? n - i : B64_LINE;
		EVP_EncodeBlock(line, (const unsigned char *)p + i, (int)take);
		if (atsm_buf_puts(out, (const char *)line) < 0 || atsm_buf_puts(out, "\r\n") < 0)
			return -1;
	}
	return 0;
}

/* Text with "\n" (or "\r\n") line ends as CRLF lines, then base64. */
static int
put_text_base64(struct atsm_buf *out, const char *p, size_t n, size_t limit)
{
	struct atsm_buf lines;
	size_t i;
	int rc = -1;

	atsm_buf_init(&lines, limit + limit / 8 + 16);
	for (i = 0; i < n; i++) {
		if (p[i] == '\r')
			continue;
		if ((p[i] == '\n' && atsm_buf_putc(&lines, '\r') < 0) ||
		    atsm_buf_putc(&lines, p[i]) < 0)
			goto done;
	}
	rc = put_base64(out, lines.data != NULL ? lines.data : "", lines.len);
done:
	atsm_buf_free(&lines);
	return rc;
}

/* Base64 already made (the PNG), re-cut into lines of 76 columns. */
static int
put_base64_lines(struct atsm_buf *out, const char *b64, size_t n)
{
	size_t i, take;

	for (i = 0; i < n; i += take) {
		take = n - i < 76 ? n - i : 76;
		if (atsm_buf_append(out, b64 + i, take) < 0 || atsm_buf_puts(out, "\r\n") < 0)
			return -1;
	}
	return 0;
}

static bool
is_base64(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n % 4 != 0)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '+' || c == '/' || (c == '=' && i >= n - 2)))
			return false;
	}
	return true;
}

/* The page's file name: the param when it is a plain name ending .html. */
static const char *
page_name(json_t *params)
{
	const char *v = json_string_value(json_object_get(params, "name"));
	size_t n;

	if (v == NULL || (n = strlen(v)) < 6 || n > 100 || strcmp(v + n - 5, ".html") != 0 ||
	    v[0] == '.' || strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") != n)
		return "atsmail-report.html";
	return v;
}

/* A text param of the parts: 0 with *v, *n; -1 with err. */
static int
part(const struct atsm_notify_in *in, json_t *params, const char *name, bool need,
    size_t max, const char **v, size_t *n, struct atsm_err *err)
{
	json_t *j = json_object_get(params, name);

	*v = NULL;
	*n = 0;
	if (j == NULL || json_is_null(j)) {
		if (need)
			return atsm_err_setc(err, ATSM_ERR_INPUT, "notification %s: param %s is "
			    "missing", in->kind, name);
		return 0;
	}
	if (!json_is_string(j))
		return atsm_err_setc(err, ATSM_ERR_INPUT, "notification %s: param %s is not text",
		    in->kind, name);
	*v = json_string_value(j);
	*n = json_string_length(j);
	if (*n > max)
		return atsm_err_setc(err, ATSM_ERR_INPUT, "notification %s: param %s is %zu bytes, "
		    "over %zu", in->kind, name, *n, max);
	return 0;
}

int
atsm_notify_report_write(const struct atsm_notify_in *in, const char *dom,
    json_t *params, const char *subject, struct atsm_buf *body, struct atsm_buf *out,
    struct atsm_err *err)
{
	const char *text, *html, *png, *name;
	size_t ntext, nhtml, npng;
	bool ja = in->lang == ATSM_LANG_JA;
	struct atsm_buf all;
	int rc = -1;

	atsm_buf_init(&all, 1);
	if (part(in, params, "text", true, ATSM_NOTIFY_REPORT_TEXT_MAX, &text, &ntext, err) < 0 ||
	    part(in, params, "html", true, ATSM_NOTIFY_REPORT_HTML_MAX, &html, &nhtml, err) < 0 ||
	    part(in, params, "png", false, ATSM_NOTIFY_REPORT_PNG_MAX * 4 / 3 + 4, &png, &npng,
	    err) < 0)
		goto done;
	if (png != NULL && (!is_base64(png, npng) ||
	    strncmp(png, PNG_B64_PREFIX, strlen(PNG_B64_PREFIX)) != 0)) {
		atsm_err_setc(err, ATSM_ERR_INPUT, "notification %s: param png is no PNG in base64",
		    in->kind);
		goto done;
	}
	name = page_name(params);
	/* the table after the sentence, the footer last */
	atsm_buf_free(&all);
	atsm_buf_init(&all, body->len + ntext + 4096);
	if (atsm_buf_append(&all, body->data != NULL ? body->data : "", body->len) < 0 ||
	    atsm_buf_puts(&all, "\n") < 0 || atsm_buf_append(&all, text, ntext) < 0 ||
	    atsm_buf_puts(&all, ja ? FOOTER_JA : FOOTER_EN) < 0)
		goto full;
	if (atsm_buf_printf(out, "From: %s\r\nTo: <%s>\r\n", in->from, in->to) < 0 ||
	    atsm_explain_put_subject(out, subject) < 0 ||
	    atsm_explain_put_date(out, in->now) < 0 ||
	    atsm_buf_printf(out, "Message-ID: <atsmail-notify.%lld.%s@%s>\r\n"
	    "Auto-Submitted: auto-generated\r\n"
	    "X-Auto-Response-Suppress: All\r\n"
	    "%s: %s%s%s\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Language: %s\r\n"
	    "Content-Type: multipart/mixed; boundary=\"=_atsm-report.%s\"\r\n"
	    "\r\n"
	    "This is a MIME message: the report, its chart and its page.\r\n"
	    "\r\n--=_atsm-report.%s\r\n"
	    "Content-Type: text/plain; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n",
	    in->id, in->unique, dom, ATSM_NOTIFY_MARKER, in->kind,
	    in->token != NULL ? "; ref=" : "", in->token != NULL ? in->token : "",
	    atsm_lang_name(in->lang), in->unique, in->unique) < 0 ||
	    put_text_base64(out, all.data, all.len, all.len) < 0)
		goto full;
	if (png != NULL && (atsm_buf_printf(out, "\r\n--=_atsm-report.%s\r\n"
	    "Content-Type: image/png; name=\"atsmail-report.png\"\r\n"
	    "Content-Disposition: inline; filename=\"atsmail-report.png\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n", in->unique) < 0 ||
	    put_base64_lines(out, png, npng) < 0))
		goto full;
	if (atsm_buf_printf(out, "\r\n--=_atsm-report.%s\r\n"
	    "Content-Type: text/html; charset=UTF-8; name=\"%s\"\r\n"
	    "Content-Disposition: attachment; filename=\"%s\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n", in->unique, name, name) < 0 ||
	    put_base64(out, html, nhtml) < 0 ||
	    atsm_buf_printf(out, "\r\n--=_atsm-report.%s--\r\n", in->unique) < 0)
		goto full;
	rc = 0;
	goto done;
full:
	atsm_err_setc(err, ATSM_ERR_INPUT, "notification %s: the mail is larger than its limit",
	    in->kind);
done:
	atsm_buf_free(&all);
	if (rc < 0)
		atsm_buf_reset(out);
	return rc;
}
