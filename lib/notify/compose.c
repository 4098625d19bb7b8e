/* notify/compose.c -- a notification as bytes: headers and the text part
 * (see notify/compose.h; the words are notify/text.c's).
 *
 * The Subject and the Date are written as the explanation of a refusal
 * writes them (explain/parts.h), so that atsmail's own mail is encoded
 * one way.  The body is UTF-8 in base64 rather than ISO-2022-JP: a
 * notification quotes other people's text (a subject, a preview, a
 * bounce's diagnostic), which may hold any character, and base64 keeps
 * a long preview line within SMTP's line limit.
 */
#include "notify/compose.h"
#include "notify/text.h"
#include "notify/report-mail.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "explain/compose.h"
#include "explain/parts.h"

#define SUBJECT_MAX (8u * 1024u)
#define BODY_MAX (256u * 1024u)
#define B64_LINE 57                  /* bytes per line of base64: 76 columns */

static bool
has_break(const char *s)
{
	return s != NULL && strpbrk(s, "\r\n") != NULL;
}

/* One bare address, nothing that could end a header or add a recipient. */
static bool
bare_addr(const char *s)
{
	const char *at;

	if (s == NULL || s[0] == '\0' || strlen(s) > 320)
		return false;
	if (strpbrk(s, " \t\r\n<>,;:\"()\\[]") != NULL)
		return false;
	at = strchr(s, '@');
	return at != NULL && at != s && at[1] != '\0' && strchr(at + 1, '@') == NULL;
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

/* "\n" -> "\r\n" (the text is sent as CRLF lines, then encoded). */
static int
crlf(struct atsm_buf *out, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n' && atsm_buf_putc(out, '\r') < 0)
			return -1;
		if (atsm_buf_putc(out, p[i]) < 0)
			return -1;
	}
	return 0;
}

static int
check_in(const struct atsm_notify_in *in, char *dom, size_t size, struct atsm_err *err)
{
	if (in->kind == NULL || in->params == NULL || in->from == NULL || in->to == NULL ||
	    in->unique == NULL)
		return atsm_err_setc(err, ATSM_ERR_INPUT, "notification: a field is missing");
	if (has_break(in->from) || has_break(in->unique) || has_break(in->token))
		return atsm_err_setc(err, ATSM_ERR_INPUT, "notification %s: notify_from, the "
		    "unique part or the token holds a line break", in->kind);
	if (!bare_addr(in->to))
		return atsm_err_setc(err, ATSM_ERR_INPUT, "notification %s: the recipient "
		    "\"%.64s\" is not one bare address", in->kind, in->to);
	if (atsm_explain_from_domain(in->from, dom, size) < 0)
		return atsm_err_setc(err, ATSM_ERR_INPUT, "notification %s: notify_from %s has "
		    "no domain", in->kind, in->from);
	return 0;
}

/* Reply-To of the approval kinds: the approve address, when it is one. */
static int
reply_to(const struct atsm_notify_in *in, json_t *params, const char **addr,
    struct atsm_err *err)
{
	json_t *v;

	*addr = NULL;
	if (strcmp(in->kind, "approval.request") != 0 && strcmp(in->kind, "approval.reminder") != 0)
		return 0;
	v = json_object_get(params, "approve_addr");
	if (!json_is_string(v) || !bare_addr(json_string_value(v)))
		return atsm_err_setc(err, ATSM_ERR_INPUT, "notification %s: param approve_addr is "
		    "not one bare address", in->kind);
	*addr = json_string_value(v);
	return 0;
}

/* The site's text in place of the built-in one in subj and body, when
 * it merges; else both stay and fault says why. */
static void
own_text(const struct atsm_notify_in *in, json_t *params, struct atsm_buf *subj,
    struct atsm_buf *body, struct atsm_err *fault)
{
	struct atsm_buf ts, tb;
	struct atsm_err e;

	atsm_err_clear(&e);
	atsm_buf_init(&ts, SUBJECT_MAX);
	atsm_buf_init(&tb, BODY_MAX);
	if (atsm_notify_tpl_merge(in->kind, params, in->tpl, &ts, &tb, &e) < 0) {
		if (fault != NULL) {
			*fault = e;
			atsm_err_prefix(fault, "template %s: ", in->tpl->code != NULL ?
			    in->tpl->code : "(no code)");
		}
	} else {
		struct atsm_buf x = *subj;

		*subj = ts;
		ts = x;
		x = *body;
		*body = tb;
		tb = x;
	}
	atsm_buf_free(&ts);
	atsm_buf_free(&tb);
}

int
atsm_notify_compose(const struct atsm_notify_in *in, struct atsm_buf *out,
    struct atsm_err *err)
{
	return atsm_notify_compose_tpl(in, out, NULL, err);
}

int
atsm_notify_compose_tpl(const struct atsm_notify_in *in, struct atsm_buf *out,
    struct atsm_err *tpl_fault, struct atsm_err *err)
{
	struct atsm_buf subj, body, lines;
	json_error_t jerr;
	json_t *params = NULL;
	const char *rt = NULL;
	char dom[256];
	int rc = -1;

	atsm_buf_reset(out);
	atsm_err_clear(err);
	if (tpl_fault != NULL)
		atsm_err_clear(tpl_fault);
	if (check_in(in, dom, sizeof(dom), err) < 0)
		return -1;
	if ((params = json_loads(in->params, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return atsm_err_setc(err, ATSM_ERR_INPUT, "notification %s: params are not JSON: "
		    "%s", in->kind, jerr.text);
	atsm_buf_init(&subj, SUBJECT_MAX);
	atsm_buf_init(&body, BODY_MAX);
	atsm_buf_init(&lines, BODY_MAX + BODY_MAX / 8);
	if (atsm_notify_text(in->kind, in->lang, params, &subj, &body, err) < 0 ||
	    reply_to(in, params, &rt, err) < 0)
		goto done;
	/* the built-in text first: it checks every param the kind needs */
	if (in->tpl != NULL)
		own_text(in, params, &subj, &body, tpl_fault);
	if (strcmp(in->kind, ATSM_NOTIFY_REPORT_KIND) == 0) {
		/* several parts: notify/report-mail.c */
		rc = atsm_notify_report_write(in, dom, params, atsm_buf_str(&subj), &body, out, err);
		goto done;
	}
	if (atsm_buf_printf(out, "From: %s\r\nTo: <%s>\r\n", in->from, in->to) < 0 ||
	    (rt != NULL && atsm_buf_printf(out, "Reply-To: <%s>\r\n", rt) < 0) ||
	    atsm_explain_put_subject(out, atsm_buf_str(&subj)) < 0 ||
	    atsm_explain_put_date(out, in->now) < 0 ||
	    atsm_buf_printf(out, "Message-ID: <atsmail-notify.%lld.%s@%s>\r\n"
	    "Auto-Submitted: auto-generated\r\n"
	    "X-Auto-Response-Suppress: All\r\n"
	    "%s: %s%s%s\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Language: %s\r\n"
	    "Content-Type: text/plain; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "\r\n", in->id, in->unique, dom, ATSM_NOTIFY_MARKER, in->kind,
	    in->token != NULL ? "; ref=" : "", in->token != NULL ? in->token : "",
	    atsm_lang_name(in->lang)) < 0 ||
	    crlf(&lines, body.data != NULL ? body.data : "", body.len) < 0 ||
	    put_base64(out, lines.data != NULL ? lines.data : "", lines.len) < 0) {
		atsm_err_setc(err, ATSM_ERR_INPUT, "notification %s: the mail is larger than its "
		    "limit", in->kind);
		goto done;
	}
	rc = 0;
done:
	if (rc < 0)
		atsm_buf_reset(out);
	json_decref(params);
	atsm_buf_free(&subj);
	atsm_buf_free(&body);
	atsm_buf_free(&lines);
	return rc;
}
