/* template/encode.c -- from merged UTF-8 back to what a mail carries: the
 * part's own charset when the text fits in it, the transfer encodings and
 * RFC 2047 encoded words.  charset.c only reads charsets; writing them is
 * iconv's job here (glibc's ISO-2022-JP writes JIS X 0208, which is what a
 * Japanese mail client expects; CP932 stands for Shift_JIS because its
 * extra characters, ①, ～, are what Windows users type). */
#include <errno.h>
#include <stdint.h>
#include <iconv.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/charset.h"
#include "template/tpl-int.h"

static const char *
iconv_name(const char *cs)
{
	static const char *const sjis[] = { "shift_jis", "shift-jis", "sjis",
	    "x-sjis", "windows-31j", "cp932", "ms_kanji", "csshiftjis", NULL };
	size_t i;

	for (i = 0; sjis[i] != NULL; i++)
		if (strcasecmp(cs, sjis[i]) == 0)
			return "CP932";
	if (strncasecmp(cs, "iso-2022-jp", 11) == 0)
		return "ISO-2022-JP";
	if (strcasecmp(cs, "euc-jp") == 0 || strcasecmp(cs, "x-euc-jp") == 0)
		return "EUC-JP-MS";
	if (strcasecmp(cs, "us-ascii") == 0 || strcasecmp(cs, "ascii") == 0)
		return "US-ASCII";
	if (strcasecmp(cs, "iso-8859-1") == 0 || strcasecmp(cs, "latin1") == 0)
		return "WINDOWS-1252";
	return cs;
}

int
atsm_tpl_from_utf8(const char *charset, const char *in, size_t n,
    struct atsm_buf *out)
{
	char tmp[4096];
	iconv_t cd;
	char *ip = (char *)(uintptr_t)in;
	size_t il = n, start = out->len;
	int rc = 0;

	if (charset[0] == '\0' || strcasecmp(charset, "utf-8") == 0 ||
	    strcasecmp(charset, "utf8") == 0)
		return atsm_buf_append(out, in, n);
	if (strlen(charset) >= ATSM_CHARSET_NAME_MAX)
		return -1;
	if ((cd = iconv_open(iconv_name(charset), "UTF-8")) == (iconv_t)-1)
		return -1;
	while (rc == 0) {
		char *op = tmp;
		size_t ol = sizeof(tmp), r;

		/* with the input done, one more call writes the shift back to
		 * ASCII (ISO-2022-JP must end in ASCII) */
		r = il > 0 ? iconv(cd, &ip, &il, &op, &ol) :
		    iconv(cd, NULL, NULL, &op, &ol);
		if (atsm_buf_append(out, tmp, sizeof(tmp) - ol) < 0)
			rc = -1;
		else if (r == (size_t)-1 && errno != E2BIG)
			rc = -1;	/* EILSEQ: no such character there */
		else if (r != (size_t)-1 && il == 0 && ip == NULL)
			break;
		else if (r != (size_t)-1 && il == 0)
			ip = NULL;	/* next round: the flush */
	}
	iconv_close(cd);
	if (rc < 0) {
		out->len = start;
		if (out->data != NULL)
			out->data[start] = '\0';
	}
	return rc;
}

bool
atsm_tpl_is_7bit(const char *p, size_t n, bool *eight)
{
	size_t i, col = 0;
	bool ok = true;

	*eight = false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\n') {
			col = 0;
			continue;
		}
		if (c == '\r' && i + 1 < n && p[i + 1] == '\n')
			continue;
		if (c >= 0x80)
			*eight = true;
		if (c >= 0x80 || c == 0 || c == '\r' || ++col > 998)
			ok = false;
	}
	return ok;
}

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
b64_run(const unsigned char *s, size_t n, struct atsm_buf *out)
{
	char q[4];
	size_t i;

	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned)s[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		q[0] = b64[(v >> 18) & 63];
		q[1] = b64[(v >> 12) & 63];
		q[2] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? b64[v & 63] : '=';
		if (atsm_buf_append(out, q, 4) < 0)
			return -1;
	}
	return 0;
}

int
atsm_tpl_base64(const char *in, size_t n, const char *eol, struct atsm_buf *out)
{
	size_t i;

	for (i = 0; i < n; i += 57) {
		if (i > 0 && atsm_buf_puts(out, eol) < 0)
			return -1;
		if (b64_run((const unsigned char *)in + i, n - i < 57 ? n - i : 57,
		    out) < 0)
			return -1;
	}
	return 0;
}

int
atsm_tpl_qp(const char *in, size_t n, const char *eol, struct atsm_buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, col = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		char enc[4];
		size_t el;
		bool line_end;

		if (c == '\r' && i + 1 < n && in[i + 1] == '\n')
			continue;
		if (c == '\n') {
			if (atsm_buf_puts(out, eol) < 0)
				return -1;
			col = 0;
			continue;
		}
		/* a blank before a line end (or the end) is encoded: transport
		 * may strip it */
		line_end = i + 1 == n || in[i + 1] == '\n' ||
		    (in[i + 1] == '\r' && i + 2 < n && in[i + 2] == '\n');
		if ((c >= 33 && c <= 126 && c != '=') ||
		    ((c == ' ' || c == '\t') && !line_end)) {
			enc[0] = (char)c;
			el = 1;
		} else {
			enc[0] = '=';
			enc[1] = hex[c >> 4];
			enc[2] = hex[c & 15];
			el = 3;
		}
		if (col + el > 75) {
			if (atsm_buf_putc(out, '=') < 0 || atsm_buf_puts(out, eol) < 0)
				return -1;
			col = 0;
		}
		if (atsm_buf_append(out, enc, el) < 0)
			return -1;
		col += el;
	}
	return 0;
}

int
atsm_tpl_eol(const char *in, size_t n, const char *eol, struct atsm_buf *out)
{
	size_t i, run = 0;

	for (i = 0; i < n; i++) {
		if (in[i] != '\n' && in[i] != '\r')
			continue;
		if (atsm_buf_append(out, in + run, i - run) < 0 ||
		    atsm_buf_puts(out, eol) < 0)
			return -1;
		if (in[i] == '\r' && i + 1 < n && in[i + 1] == '\n')
			i++;
		run = i + 1;
	}
	return atsm_buf_append(out, in + run, n - run);
}

/* One encoded word of the UTF-8 chars [s, s+n) in charset: 0, 1 when it
 * does not fit in max raw bytes, -1 when the charset cannot hold it. */
static int
word(const char *cs, const char *s, size_t n, size_t max, struct atsm_buf *out)
{
	struct atsm_buf raw;
	int rc = 0;

	atsm_buf_init(&raw, 4096);
	if (atsm_tpl_from_utf8(cs, s, n, &raw) < 0)
		rc = -1;
	else if (raw.len > max)
		rc = 1;
	else if (atsm_buf_printf(out, "=?%s?B?", cs) < 0 ||
	    b64_run((const unsigned char *)atsm_buf_str(&raw), raw.len, out) < 0 ||
	    atsm_buf_puts(out, "?=") < 0)
		rc = -1;
	atsm_buf_free(&raw);
	return rc;
}

static int
encode_words(const char *value, const char *cs, const char *eol,
    struct atsm_buf *out)
{
	/* an encoded word is at most 75 characters: the charset's label and
	 * "=?", "?B?", "?=" leave room for this many raw bytes */
	size_t max = (75 - 7 - strlen(cs)) / 4 * 3, len = strlen(value), i = 0;
	bool first = true;

	while (i < len) {
		size_t n = 0, take, cl;
		int rc;

		/* as many characters as could fit, then fewer until they do */
		while (i + n < len && n < max) {
			cl = atsm_utf8_char_len(value + i + n, len - i - n);
			n += cl == 0 ? 1 : cl;
		}
		take = n;
		for (;;) {
			size_t mark = out->len;

			if (!first && (atsm_buf_puts(out, eol) < 0 ||
			    atsm_buf_putc(out, ' ') < 0))
				return -1;
			rc = word(cs, value + i, take, max, out);
			if (rc == 0)
				break;
			out->len = mark;
			out->data[mark] = '\0';
			if (rc < 0 || take <= 1)
				return -1;
			/* back off by one character */
			do
				take--;
			while (take > 0 && ((unsigned char)value[i + take] & 0xc0) == 0x80);
			if (take == 0)
				return -1;
		}
		i += take;
		first = false;
	}
	return 0;
}

int
atsm_tpl_header(const char *name, const char *value, const char *charset,
    const char *eol, struct atsm_buf *out)
{
	size_t i, mark = out->len;
	bool plain = true;

	for (i = 0; value[i] != '\0'; i++)
		if ((unsigned char)value[i] < 32 || (unsigned char)value[i] > 126)
			plain = false;
	if (strstr(value, "=?") != NULL || i > 900)
		plain = false;
	if (atsm_buf_printf(out, "%s: ", name) < 0)
		return -1;
	if (plain) {
		if (atsm_buf_puts(out, value) < 0)
			return -1;
	} else if (encode_words(value, charset, eol, out) < 0) {
		out->len = mark + strlen(name) + 2;
		out->data[out->len] = '\0';
		if (strcasecmp(charset, "UTF-8") == 0 ||
		    encode_words(value, "UTF-8", eol, out) < 0)
			return -1;
	}
	return atsm_buf_puts(out, eol);
}
