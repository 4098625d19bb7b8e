/* explain/compose.c -- the explanation mail as bytes: headers, MIME
 * structure and encodings (see explain/compose.h for what it holds).
 *
 * The Subject is RFC 2047 base64 of UTF-8 whenever it is not plain
 * ASCII: every current client decodes UTF-8 encoded words, and the
 * refused mail's Subject may hold characters that ISO-2022-JP has no code
 * for.  The Japanese text part is ISO-2022-JP (RFC 1468), which Japanese
 * mail clients and phones have always shown; a text with a character
 * outside JIS X 0208 (an emoji in the Subject, say) is sent as UTF-8
 * instead rather than lose the character.
 */
#include "explain/compose.h"
#include "explain/parts.h"
#include "explain/text.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "base/charset.h"
#include "mail/rfc2047.h"

#define SUBJECT_MAX (8u * 1024u)     /* bytes of the refused Subject quoted */
#define WORD_BYTES 42                /* UTF-8 bytes per encoded word: 56 of base64,
                                        77 columns with "Subject: " */
#define TEXT_MAX (256u * 1024u)

static bool
has_break(const char *s)
{
	return s != NULL && strpbrk(s, "\r\n") != NULL;
}

static bool
ascii(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return false;
	return true;
}

int
atsm_explain_from_domain(const char *from, char *dom, size_t size)
{
	const char *lt = strrchr(from, '<'), *at, *end;

	at = strrchr(lt != NULL ? lt : from, '@');
	if (at == NULL || at[1] == '\0')
		return -1;
	at++;
	end = at + strcspn(at, "> \t");
	if (end == at || (size_t)(end - at) >= size)
		return -1;
	memcpy(dom, at, (size_t)(end - at));
	dom[end - at] = '\0';
	return 0;
}

int
atsm_explain_put_date(struct atsm_buf *out, long long now)
{
	static const char *const day[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
	    "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)now;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		return -1;
	return atsm_buf_printf(out, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n",
	    day[tm.tm_wday], tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
}

static int
put_b64(struct atsm_buf *out, const unsigned char *p, size_t n)
{
	unsigned char b[4 * ((WORD_BYTES + 2) / 3) + 1];

	if (n > WORD_BYTES)
		return -1;
	EVP_EncodeBlock(b, p, (int)n);
	return atsm_buf_puts(out, (const char *)b);
}

int
atsm_explain_put_words(struct atsm_buf *out, const char *v)
{
	size_t n = strlen(v), i = 0;

	while (i < n) {
		size_t take = 0, len;

		while (i + take < n) {
			if ((len = atsm_utf8_char_len(v + i + take, n - i - take)) == 0)
				len = 1;
			if (take + len > WORD_BYTES)
				break;
			take += len;
		}
		if (atsm_buf_puts(out, i == 0 ? " =?UTF-8?B?" : "\r\n =?UTF-8?B?") < 0 ||
		    put_b64(out, (const unsigned char *)v + i, take) < 0 ||
		    atsm_buf_puts(out, "?=") < 0)
			return -1;
		i += take;
	}
	return 0;
}

int
atsm_explain_put_subject(struct atsm_buf *out, const char *v)
{
	size_t n = strlen(v);

	if (ascii(v, n) && n <= 78 - 9)
		return atsm_buf_printf(out, "Subject: %s\r\n", v);
	if (atsm_buf_puts(out, "Subject:") < 0 || atsm_explain_put_words(out, v) < 0)
		return -1;
	return atsm_buf_puts(out, "\r\n");
}

/* "\n" -> "\r\n" into out. */
static int
put_crlf(struct atsm_buf *out, const char *p, size_t n)
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

/* UTF-8 text to ISO-2022-JP: 0, or -1 when a character has no JIS code
 * (or memory is short). */
static int
to_iso2022jp(const char *text, size_t n, struct atsm_buf *out)
{
	iconv_t cd = iconv_open("ISO-2022-JP", "UTF-8");
	char chunk[4096], *in = (char *)text, *o;
	size_t inleft = n, oleft, r;
	int rc = 0;

	if (cd == (iconv_t)-1)
		return -1;
	while (rc == 0) {
		o = chunk;
		oleft = sizeof(chunk);
		r = iconv(cd, inleft > 0 ? &in : NULL, inleft > 0 ? &inleft : NULL, &o, &oleft);
		if (r == (size_t)-1 && errno != E2BIG)
			rc = -1;
		else if (atsm_buf_append(out, chunk, sizeof(chunk) - oleft) < 0)
			rc = -1;
		if (r != (size_t)-1 && inleft == 0) {
			if (o == chunk)     /* the final shift back to ASCII is written */
				break;
			continue;
		}
	}
	iconv_close(cd);
	return rc;
}

int
atsm_explain_put_text_part(struct atsm_buf *out, enum atsm_lang lang, const char *text,
    size_t n, const char *boundary)
{
	struct atsm_buf jis;
	int rc;

	if (atsm_buf_printf(out, "--%s\r\n", boundary) < 0)
		return -1;
	if (lang == ATSM_LANG_JA) {
		atsm_buf_init(&jis, TEXT_MAX);
		if (to_iso2022jp(text, n, &jis) == 0) {
			rc = atsm_buf_puts(out, "Content-Type: text/plain; charset=ISO-2022-JP\r\n"
			    "Content-Transfer-Encoding: 7bit\r\n\r\n");
			if (rc == 0)
				rc = put_crlf(out, jis.data != NULL ? jis.data : "", jis.len);
			atsm_buf_free(&jis);
			return rc;
		}
		atsm_buf_free(&jis);
	}
	if (atsm_buf_printf(out, "Content-Type: text/plain; charset=%s\r\n"
	    "Content-Transfer-Encoding: %s\r\n\r\n", ascii(text, n) ? "us-ascii" : "UTF-8",
	    ascii(text, n) ? "7bit" : "8bit") < 0)
		return -1;
	return put_crlf(out, text, n);
}

/* The headers of the mail: up to the first empty line, or as far as the
 * last whole line when it was cut before. */
static size_t
headers_len(const char *m, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i++) {
		if (m[i] == '\n' && m[i + 1] == '\n')
			return i + 1;
		if (m[i] == '\n' && i + 2 < n && m[i + 1] == '\r' && m[i + 2] == '\n')
			return i + 1;
	}
	while (n > 0 && m[n - 1] != '\n')
		n--;
	return n;
}

static int
put_attachment(struct atsm_buf *out, const struct atsm_explain_in *in, const char *boundary)
{
	size_t n = in->mail_len;

	if (atsm_buf_printf(out, "--%s\r\n", boundary) < 0)
		return -1;
	if (in->mail_cut) {
		n = headers_len(in->mail, in->mail_len);
		if (atsm_buf_printf(out, "Content-Type: text/rfc822-headers\r\n"
		    "Content-Disposition: attachment; filename=\"refused-mail-headers.txt\"\r\n"
		    "Content-Transfer-Encoding: %s\r\n\r\n", ascii(in->mail, n) ? "7bit" : "8bit") < 0)
			return -1;
	} else if (atsm_buf_printf(out, "Content-Type: message/rfc822\r\n"
	    "Content-Disposition: attachment; filename=\"refused-mail.eml\"\r\n"
	    "Content-Transfer-Encoding: %s\r\n\r\n", ascii(in->mail, n) ? "7bit" : "8bit") < 0) {
		return -1;
	}
	if (atsm_buf_append(out, in->mail, n) < 0)
		return -1;
	/* the line break before the delimiter is the delimiter's (RFC 2046
	 * 5.1.1): one more, so that the mail is attached byte for byte */
	return atsm_buf_puts(out, "\r\n");
}

int
atsm_explain_compose(const struct atsm_explain_in *in, struct atsm_buf *out,
    struct atsm_err *err)
{
	struct atsm_buf subj, text;
	char *subject = NULL, dom[256], boundary[128];
	int rc = -1;

	atsm_buf_reset(out);
	if (in->from == NULL || in->to == NULL || in->what == NULL || in->unique == NULL ||
	    in->marker == NULL)
		return atsm_err_setc(err, ATSM_ERR_INPUT, "explanation: a field is missing");
	if (has_break(in->from) || has_break(in->to) || has_break(in->unique) ||
	    has_break(in->marker))
		return atsm_err_setc(err, ATSM_ERR_INPUT,
		    "explanation: explain_from, the recipient or the marker holds a line break");
	if (atsm_explain_from_domain(in->from, dom, sizeof(dom)) < 0)
		return atsm_err_set(err, "explanation: explain_from %s has no domain", in->from);
	snprintf(boundary, sizeof(boundary), "=_atsmail_%s", in->unique);
	if (in->subject != NULL)
		subject = atsm_rfc2047_decode_dup(in->subject, SUBJECT_MAX);
	atsm_buf_init(&subj, SUBJECT_MAX + 256);
	atsm_buf_init(&text, TEXT_MAX);
	(void)atsm_explain_subject(in->lang, subject, &subj);   /* a cut Subject is still one */
	if (atsm_explain_body(in, subject, &text) < 0)
		goto done;
	if (atsm_buf_printf(out, "From: %s\r\nTo: <%s>\r\n", in->from, in->to) < 0 ||
	    atsm_explain_put_subject(out, atsm_buf_str(&subj)) < 0 ||
	    atsm_explain_put_date(out, in->now) < 0 ||
	    atsm_buf_printf(out, "Message-ID: <atsmail-explain.%s@%s>\r\n", in->unique, dom) < 0 ||
	    atsm_buf_printf(out, "Auto-Submitted: auto-replied\r\n"
	    "X-Auto-Response-Suppress: All\r\n"
	    "%s: %s\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Language: %s\r\n"
	    "Content-Type: multipart/mixed; boundary=\"%s\"\r\n"
	    "\r\n"
	    "This is a MIME message.\r\n\r\n", ATSM_EXPLAIN_MARKER, in->marker,
	    atsm_lang_name(in->lang), boundary) < 0 ||
	    atsm_explain_put_text_part(out, in->lang, text.data != NULL ? text.data : "", text.len, boundary) < 0)
		goto done;
	if (in->mail != NULL && put_attachment(out, in, boundary) < 0)
		goto done;
	if (atsm_buf_printf(out, "--%s--\r\n", boundary) < 0)
		goto done;
	rc = 0;
done:
	if (rc < 0)
		atsm_err_setc(err, out->overflow || text.overflow ? ATSM_ERR_INPUT : ATSM_ERR_NOMEM,
		    out->overflow || text.overflow ? "explanation: the mail is larger than its limit" :
		    "explanation: out of memory");
	atsm_buf_free(&subj);
	atsm_buf_free(&text);
	free(subject);
	return rc;
}
