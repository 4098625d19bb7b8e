/* mail/preview.c -- the first text of a mail, and the reason at the top
 * of a reply (see mail/preview.h).
 *
 * Both are cut at a UTF-8 character, never inside one, so that what is
 * stored (held_messages.preview, approval_requests.reason) and later put
 * in a notification is valid UTF-8 whatever the mail held.
 */
#include "mail/preview.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "mail/mime.h"

/* The length of s[0..n) without a character cut at its end. */
static size_t
utf8_cut(const char *s, size_t n)
{
	size_t i, need;
	unsigned char c;

	if (n == 0)
		return 0;
	for (i = n - 1; i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80 && n - i < 4; i--)
		;
	c = (unsigned char)s[i];
	need = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 :
	    (c & 0xF8) == 0xF0 ? 4 : 1;
	return i + need <= n ? n : i;
}

/* The part to show: text/plain first, else any text/. -1: none. */
static int
text_part(const struct atsm_mime_msg *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->v[i].kind == ATSM_MIME_LEAF && strcmp(m->v[i].type, "text/plain") == 0)
			return (int)i;
	for (i = 0; i < m->n; i++)
		if (m->v[i].kind == ATSM_MIME_LEAF && strncmp(m->v[i].type, "text/", 5) == 0)
			return (int)i;
	return -1;
}

int
atsm_mail_text_preview(const char *msg, size_t len, size_t max, char **out,
    struct atsm_err *err)
{
	struct atsm_mime_msg m;
	struct atsm_buf b;
	const char *t;
	char *r;
	size_t n, i, k = 0;
	bool cut;
	int p;

	*out = NULL;
	if (atsm_mime_parse(msg, len, NULL, &m, err) < 0)
		return -1;
	if ((p = text_part(&m)) < 0) {
		atsm_mime_free(&m);
		return 0;
	}
	/* a few bytes more than max, to know that it was cut */
	atsm_buf_init(&b, max + 8);
	cut = atsm_mime_body_text(&m.v[p], &b) < 0;
	atsm_mime_free(&m);
	t = b.data != NULL ? b.data : "";
	n = b.len;
	if (n > max) {
		n = utf8_cut(t, max);
		cut = true;
	} else if (cut) {
		n = utf8_cut(t, n);
	}
	if ((r = malloc(n + 4)) == NULL) {
		atsm_buf_free(&b);
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "text preview: out of memory");
	}
	for (i = 0; i < n; i++) {
		if (t[i] == '\r') {
			if (i + 1 < n && t[i + 1] == '\n')
				continue;
			r[k++] = '\n';
		} else {
			r[k++] = t[i];
		}
	}
	if (cut)
		memcpy(r + k, "...", 3), k += 3;
	r[k] = '\0';
	atsm_buf_free(&b);
	*out = r;
	return 0;
}

/* [s, e) without leading and trailing blanks (ASCII, and U+3000). */
static void
trim(const char **s, const char **e)
{
	for (;;) {
		if (*s < *e && (**s == ' ' || **s == '\t' || **s == '\r'))
			(*s)++;
		else if (*e - *s >= 3 && memcmp(*s, "\xe3\x80\x80", 3) == 0)
			*s += 3;
		else
			break;
	}
	for (;;) {
		if (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
			(*e)--;
		else if (*e - *s >= 3 && memcmp(*e - 3, "\xe3\x80\x80", 3) == 0)
			*e -= 3;
		else
			break;
	}
}

static bool
ends_with(const char *s, const char *e, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(e - s) >= n && memcmp(e - n, word, n) == 0;
}

int
atsm_mail_reply_reason(const char *text, size_t max, char **out)
{
	struct atsm_buf b;
	const char *line = text != NULL ? text : "", *nl, *s, *e;
	bool any = false;

	atsm_buf_init(&b, max + 8);
	for (; *line != '\0'; line = *nl != '\0' ? nl + 1 : nl) {
		if ((nl = strchr(line, '\n')) == NULL)
			nl = line + strlen(line);
		if ((size_t)(nl - line) == 3 && memcmp(line, "-- ", 3) == 0)
			break;
		if ((size_t)(nl - line) >= 4 && memcmp(line, "-- \r", 4) == 0)
			break;
		s = line;
		e = nl;
		trim(&s, &e);
		if (s < e && *s == '>')
			break;
		if (s == e) {
			if (any)
				break;
			continue;
		}
		if (ends_with(s, e, "wrote:") || ends_with(s, e, "書きました:") ||
		    ends_with(s, e, "書きました："))
			break;
		if (b.len + 1 + (size_t)(e - s) > max + 4)
			e = s + (max + 4 > b.len + 1 ? max + 4 - b.len - 1 : 0);
		if ((any && atsm_buf_putc(&b, ' ') < 0) ||
		    atsm_buf_append(&b, s, (size_t)(e - s)) < 0)
			break;
		any = true;
		if (b.len >= max)
			break;
	}
	if (b.len > max)
		b.len = utf8_cut(b.data, max);
	if (b.data != NULL)
		b.data[b.len] = '\0';
	*out = strdup(b.data != NULL ? b.data : "");
	atsm_buf_free(&b);
	return *out != NULL ? 0 : -1;
}
