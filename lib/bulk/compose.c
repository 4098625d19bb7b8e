/* bulk/compose.c -- the mail of one bulk item (see bulk/compose.h). */
#include "bulk/compose.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bulk/marker.h"
#include "explain/parts.h"

#define MAIL_MAX (64u * 1024u * 1024u)

static bool
ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/* A field the mail of one recipient must not carry from the source. */
static bool
dropped(const char *name, size_t n, bool keep_to_cc)
{
	static const char *const always[] = {
		"bcc", "message-id", "date", "received", "return-path", "resent-to",
		"resent-cc", "resent-bcc", NULL
	};
	size_t i;

	if (n >= 6 && strncasecmp(name, "x-ats-", 6) == 0)
		return true;
	if (!keep_to_cc && ((n == 2 && strncasecmp(name, "to", 2) == 0) ||
	    (n == 2 && strncasecmp(name, "cc", 2) == 0)))
		return true;
	for (i = 0; always[i] != NULL; i++)
		if (strlen(always[i]) == n && strncasecmp(name, always[i], n) == 0)
			return true;
	return false;
}

/* A display name as a quoted string when plain ASCII, else encoded words. */
static int
put_name(struct atsm_buf *out, const char *name)
{
	const char *s;

	if (!ascii(name)) {
		if (atsm_explain_put_words(out, name) < 0)
			return -1;
		return atsm_buf_putc(out, ' ');
	}
	if (atsm_buf_puts(out, " \"") < 0)
		return -1;
	for (s = name; *s != '\0'; s++) {
		if (*s == '\r' || *s == '\n')
			continue;
		if ((*s == '"' || *s == '\\') && atsm_buf_putc(out, '\\') < 0)
			return -1;
		if (atsm_buf_putc(out, *s) < 0)
			return -1;
	}
	return atsm_buf_puts(out, "\" ");
}

static bool
has_break(const char *s)
{
	return s != NULL && strpbrk(s, "\r\n") != NULL;
}

int
atsm_bulk_compose_headers(const struct atsm_bulk_compose_in *in, const char *msg,
    size_t len, struct atsm_buf *out, struct atsm_err *err)
{
	size_t i = 0, line_end, name_len;
	bool skip = false, body = false;

	atsm_buf_reset(out);
	if (in->rcpt == NULL || in->rcpt[0] == '\0' || in->message_id == NULL ||
	    has_break(in->rcpt) || has_break(in->message_id) || has_break(in->marker) ||
	    strpbrk(in->rcpt, "<> \t\"") != NULL || strpbrk(in->message_id, "<> \t") != NULL)
		return atsm_err_set(err, "bulk mail: a bad recipient or Message-ID");
	/* the new fields first: those of this recipient */
	if (!in->keep_to_cc) {
		if (atsm_buf_puts(out, "To:") < 0)
			goto full;
		if (in->rcpt_name != NULL && in->rcpt_name[0] != '\0' && !has_break(in->rcpt_name)) {
			if (put_name(out, in->rcpt_name) < 0)
				goto full;
		} else if (atsm_buf_putc(out, ' ') < 0)
			goto full;
		if (atsm_buf_printf(out, "<%s>\r\n", in->rcpt) < 0)
			goto full;
	}
	if (atsm_explain_put_date(out, in->now) < 0 ||
	    atsm_buf_printf(out, "Message-ID: <%s>\r\n", in->message_id) < 0)
		goto full;
	if (in->marker != NULL && atsm_buf_printf(out, "%s: %s\r\n", ATSM_BULK_MARKER,
	    in->marker) < 0)
		goto full;
	while (i < len) {
		const char *line = msg + i;
		size_t n;

		for (line_end = i; line_end < len && msg[line_end] != '\n'; line_end++)
			;
		n = line_end - i;
		if (n > 0 && line[n - 1] == '\r')
			n--;
		i = line_end < len ? line_end + 1 : len;
		if (body) {
			if (atsm_buf_append(out, line, n) < 0 || atsm_buf_puts(out, "\r\n") < 0)
				goto full;
			continue;
		}
		if (n == 0) {
			body = true;
			if (atsm_buf_puts(out, "\r\n") < 0)
				goto full;
			continue;
		}
		if (line[0] != ' ' && line[0] != '\t') {
			for (name_len = 0; name_len < n && line[name_len] != ':'; name_len++)
				;
			while (name_len > 0 && (line[name_len - 1] == ' ' ||
			    line[name_len - 1] == '\t'))
				name_len--;
			skip = dropped(line, name_len, in->keep_to_cc);
		}
		if (skip)
			continue;
		if (atsm_buf_append(out, line, n) < 0 || atsm_buf_puts(out, "\r\n") < 0)
			goto full;
	}
	if (!body && atsm_buf_puts(out, "\r\n") < 0)
		goto full;
	return 0;
full:
	return atsm_err_setc(err, out->overflow ? ATSM_ERR_INPUT : ATSM_ERR_NOMEM,
	    "bulk mail: %s", out->overflow ? "larger than its limit" : "out of memory");
}

int
atsm_bulk_compose(const struct atsm_bulk_compose_in *in, struct atsm_buf *out,
    struct atsm_tpl_fault *fault, struct atsm_err *err)
{
	struct atsm_buf merged;
	int rc;

	memset(fault, 0, sizeof(*fault));
	if (in->source == NULL || in->source_len == 0)
		return atsm_err_set(err, "bulk mail: no source mail");
	if (in->fields == NULL)
		return atsm_bulk_compose_headers(in, in->source, in->source_len, out, err);
	atsm_buf_init(&merged, MAIL_MAX);
	if (atsm_tpl_merge_message(in->source, in->source_len, in->fields, in->missing, &merged,
	    fault, err) < 0) {
		atsm_buf_free(&merged);
		return -1;
	}
	rc = atsm_bulk_compose_headers(in, merged.data != NULL ? merged.data : "", merged.len,
	    out, err);
	atsm_buf_free(&merged);
	return rc;
}
