/* explain/text.c -- the words of the explanation mail (English and
 * Japanese) and the wrapping of its lines; see explain/text.h.
 *
 * What is wrong comes first, then how to fix it, then where the mail is
 * now: a reader who stops after the first lines knows the mail was not
 * sent.  Lines are wrapped so that they fit 78 columns with their
 * encoding (ATSM_EXPLAIN_WRAP_*).
 */
#include "explain/text.h"

#include <stdio.h>
#include <string.h>

#include "base/charset.h"

struct words {
	const char *subject_prefix;     /* before the refused mail's Subject */
	const char *not_sent;
	const char *what_title, *fix_title;
	const char *attached;           /* the mail is attached */
	const char *cut;                /* only its headers: %zu = attach_max */
	const char *held;               /* not attached: the client holds it */
	const char *facts_title;
	const char *l_subject, *l_date, *l_msgid, *l_command;
	const char *no_subject;
	const char *signature;
	size_t width;
};

static const struct words en = {
	"atsmail: your mail was not sent",
	"Your mail was NOT sent: atsmail refused it.",
	"What is wrong:", "How to fix it:",
	"The refused mail is attached to this message, unchanged: open it, "
	"correct it as said above and send it again.",
	"The refused mail was larger than %zu bytes, so only its headers are "
	"attached. Your mail client may still hold it (in the Outbox, in Drafts "
	"or in Sent): correct it there and send it again.",
	"Your mail client still holds the mail (in the Outbox, in Drafts, or in "
	"the window where you wrote it): correct it there and send it again.",
	"The refused mail:",
	"Subject:    ", "Date:       ", "Message-ID: ", "Command:    ",
	"(none)",
	"This message was written automatically by atsmail, the mail recording "
	"of your company's recruiting system.",
	ATSM_EXPLAIN_WRAP_EN,
};

static const struct words ja = {
	"\xe3\x80\x90" "atsmail" "\xe3\x80\x91"            /* 【atsmail】 */
	"\xe9\x80\x81\xe4\xbf\xa1\xe3\x81\xa7\xe3\x81\x8d\xe3\x81\xbe\xe3\x81\x9b"
	"\xe3\x82\x93\xe3\x81\xa7\xe3\x81\x97\xe3\x81\x9f",   /* 送信できませんでした */
	/* お送りになったメールは送信されていません。atsmail が受け付けませんでした。 */
	"\xe3\x81\x8a\xe9\x80\x81\xe3\x82\x8a\xe3\x81\xab\xe3\x81\xaa\xe3\x81\xa3"
	"\xe3\x81\x9f\xe3\x83\xa1\xe3\x83\xbc\xe3\x83\xab\xe3\x81\xaf\xe9\x80\x81"
	"\xe4\xbf\xa1\xe3\x81\x95\xe3\x82\x8c\xe3\x81\xa6\xe3\x81\x84\xe3\x81\xbe"
	"\xe3\x81\x9b\xe3\x82\x93\xe3\x80\x82" "atsmail "
	"\xe3\x81\x8c\xe5\x8f\x97\xe3\x81\x91\xe4\xbb\x98\xe3\x81\x91\xe3\x81\xbe"
	"\xe3\x81\x9b\xe3\x82\x93\xe3\x81\xa7\xe3\x81\x97\xe3\x81\x9f\xe3\x80\x82",
	"\xe5\x95\x8f\xe9\xa1\x8c:",                               /* 問題: */
	"\xe7\x9b\xb4\xe3\x81\x97\xe6\x96\xb9:",                   /* 直し方: */
	/* 受け付けなかったメールを、そのままこのメールに添付しています。開いて上の
	 * とおり直し、もう一度送信してください。 */
	"\xe5\x8f\x97\xe3\x81\x91\xe4\xbb\x98\xe3\x81\x91\xe3\x81\xaa\xe3\x81\x8b"
	"\xe3\x81\xa3\xe3\x81\x9f\xe3\x83\xa1\xe3\x83\xbc\xe3\x83\xab\xe3\x82\x92"
	"\xe3\x80\x81\xe3\x81\x9d\xe3\x81\xae\xe3\x81\xbe\xe3\x81\xbe\xe3\x81\x93"
	"\xe3\x81\xae\xe3\x83\xa1\xe3\x83\xbc\xe3\x83\xab\xe3\x81\xab\xe6\xb7\xbb"
	"\xe4\xbb\x98\xe3\x81\x97\xe3\x81\xa6\xe3\x81\x84\xe3\x81\xbe\xe3\x81\x99"
	"\xe3\x80\x82\xe9\x96\x8b\xe3\x81\x84\xe3\x81\xa6\xe4\xb8\x8a\xe3\x81\xae"
	"\xe3\x81\xa8\xe3\x81\x8a\xe3\x82\x8a\xe7\x9b\xb4\xe3\x81\x97\xe3\x80\x81"
	"\xe3\x82\x82\xe3\x81\x86\xe4\xb8\x80\xe5\xba\xa6\xe9\x80\x81\xe4\xbf\xa1"
	"\xe3\x81\x97\xe3\x81\xa6\xe3\x81\x8f\xe3\x81\xa0\xe3\x81\x95\xe3\x81\x84"
	"\xe3\x80\x82",
	/* 受け付けなかったメールが %zu バイトを超えていたため、ヘッダーだけを添付
	 * しています。メールはお使いのメールソフト（送信トレイ、下書き、送信済み）
	 * に残っていることがあります。そこで直して、もう一度送信してください。 */
	"\xe5\x8f\x97\xe3\x81\x91\xe4\xbb\x98\xe3\x81\x91\xe3\x81\xaa\xe3\x81\x8b"
	"\xe3\x81\xa3\xe3\x81\x9f\xe3\x83\xa1\xe3\x83\xbc\xe3\x83\xab\xe3\x81\x8c"
	" %zu \xe3\x83\x90\xe3\x82\xa4\xe3\x83\x88\xe3\x82\x92\xe8\xb6\x85\xe3\x81"
	"\x88\xe3\x81\xa6\xe3\x81\x84\xe3\x81\x9f\xe3\x81\x9f\xe3\x82\x81\xe3\x80"
	"\x81\xe3\x83\x98\xe3\x83\x83\xe3\x83\x80\xe3\x83\xbc\xe3\x81\xa0\xe3\x81"
	"\x91\xe3\x82\x92\xe6\xb7\xbb\xe4\xbb\x98\xe3\x81\x97\xe3\x81\xa6\xe3\x81"
	"\x84\xe3\x81\xbe\xe3\x81\x99\xe3\x80\x82\xe3\x83\xa1\xe3\x83\xbc\xe3\x83"
	"\xab\xe3\x81\xaf\xe3\x81\x8a\xe4\xbd\xbf\xe3\x81\x84\xe3\x81\xae\xe3\x83"
	"\xa1\xe3\x83\xbc\xe3\x83\xab\xe3\x82\xbd\xe3\x83\x95\xe3\x83\x88\xef\xbc"
	"\x88\xe9\x80\x81\xe4\xbf\xa1\xe3\x83\x88\xe3\x83\xac\xe3\x82\xa4\xe3\x80"
	"\x81\xe4\xb8\x8b\xe6\x9b\xb8\xe3\x81\x8d\xe3\x80\x81\xe9\x80\x81\xe4\xbf"
	"\xa1\xe6\xb8\x88\xe3\x81\xbf\xef\xbc\x89\xe3\x81\xab\xe6\xae\x8b\xe3\x81"
	"\xa3\xe3\x81\xa6\xe3\x81\x84\xe3\x82\x8b\xe3\x81\x93\xe3\x81\xa8\xe3\x81"
	"\x8c\xe3\x81\x82\xe3\x82\x8a\xe3\x81\xbe\xe3\x81\x99\xe3\x80\x82\xe3\x81"
	"\x9d\xe3\x81\x93\xe3\x81\xa7\xe7\x9b\xb4\xe3\x81\x97\xe3\x81\xa6\xe3\x80"
	"\x81\xe3\x82\x82\xe3\x81\x86\xe4\xb8\x80\xe5\xba\xa6\xe9\x80\x81\xe4\xbf"
	"\xa1\xe3\x81\x97\xe3\x81\xa6\xe3\x81\x8f\xe3\x81\xa0\xe3\x81\x95\xe3\x81"
	"\x84\xe3\x80\x82",
	/* メールはお使いのメールソフト（送信トレイ、下書き、または作成中の画面）
	 * に残っています。そこで直して、もう一度送信してください。 */
	"\xe3\x83\xa1\xe3\x83\xbc\xe3\x83\xab\xe3\x81\xaf\xe3\x81\x8a\xe4\xbd\xbf"
	"\xe3\x81\x84\xe3\x81\xae\xe3\x83\xa1\xe3\x83\xbc\xe3\x83\xab\xe3\x82\xbd"
	"\xe3\x83\x95\xe3\x83\x88\xef\xbc\x88\xe9\x80\x81\xe4\xbf\xa1\xe3\x83\x88"
	"\xe3\x83\xac\xe3\x82\xa4\xe3\x80\x81\xe4\xb8\x8b\xe6\x9b\xb8\xe3\x81\x8d"
	"\xe3\x80\x81\xe3\x81\xbe\xe3\x81\x9f\xe3\x81\xaf\xe4\xbd\x9c\xe6\x88\x90"
	"\xe4\xb8\xad\xe3\x81\xae\xe7\x94\xbb\xe9\x9d\xa2\xef\xbc\x89\xe3\x81\xab"
	"\xe6\xae\x8b\xe3\x81\xa3\xe3\x81\xa6\xe3\x81\x84\xe3\x81\xbe\xe3\x81\x99"
	"\xe3\x80\x82\xe3\x81\x9d\xe3\x81\x93\xe3\x81\xa7\xe7\x9b\xb4\xe3\x81\x97"
	"\xe3\x81\xa6\xe3\x80\x81\xe3\x82\x82\xe3\x81\x86\xe4\xb8\x80\xe5\xba\xa6"
	"\xe9\x80\x81\xe4\xbf\xa1\xe3\x81\x97\xe3\x81\xa6\xe3\x81\x8f\xe3\x81\xa0"
	"\xe3\x81\x95\xe3\x81\x84\xe3\x80\x82",
	/* 受け付けなかったメール: */
	"\xe5\x8f\x97\xe3\x81\x91\xe4\xbb\x98\xe3\x81\x91\xe3\x81\xaa\xe3\x81\x8b"
	"\xe3\x81\xa3\xe3\x81\x9f\xe3\x83\xa1\xe3\x83\xbc\xe3\x83\xab:",
	"\xe4\xbb\xb6\xe5\x90\x8d:       ",                   /* 件名: */
	"\xe6\x97\xa5\xe4\xbb\x98:       ",                   /* 日付: */
	"Message-ID: ",
	"\xe3\x82\xb3\xe3\x83\x9e\xe3\x83\xb3\xe3\x83\x89:   ",   /* コマンド: */
	"\xef\xbc\x88\xe3\x81\xaa\xe3\x81\x97\xef\xbc\x89",       /* （なし） */
	/* このメールは atsmail（採用管理システムのメール記録）が自動で送りました。 */
	"\xe3\x81\x93\xe3\x81\xae\xe3\x83\xa1\xe3\x83\xbc\xe3\x83\xab\xe3\x81\xaf"
	" atsmail\xef\xbc\x88\xe6\x8e\xa1\xe7\x94\xa8\xe7\xae\xa1\xe7\x90\x86\xe3"
	"\x82\xb7\xe3\x82\xb9\xe3\x83\x86\xe3\x83\xa0\xe3\x81\xae\xe3\x83\xa1\xe3"
	"\x83\xbc\xe3\x83\xab\xe8\xa8\x98\xe9\x8c\xb2\xef\xbc\x89\xe3\x81\x8c\xe8"
	"\x87\xaa\xe5\x8b\x95\xe3\x81\xa7\xe9\x80\x81\xe3\x82\x8a\xe3\x81\xbe\xe3"
	"\x81\x97\xe3\x81\x9f\xe3\x80\x82",
	ATSM_EXPLAIN_WRAP_JA,
};

static const struct words *
words_of(enum atsm_lang lang)
{
	return lang == ATSM_LANG_JA ? &ja : &en;
}

/* The code point of the valid character of n bytes at p. */
static unsigned long
code_point(const unsigned char *p, size_t n)
{
	switch (n) {
	case 1:
		return p[0];
	case 2:
		return ((p[0] & 0x1ful) << 6) | (p[1] & 0x3f);
	case 3:
		return ((p[0] & 0x0ful) << 12) | ((p[1] & 0x3ful) << 6) | (p[2] & 0x3f);
	default:
		return ((p[0] & 0x07ul) << 18) | ((p[1] & 0x3ful) << 12) |
		    ((p[2] & 0x3ful) << 6) | (p[3] & 0x3f);
	}
}

/* Columns of a character: East Asian scripts (from Hangul Jamo up) take
 * two, which over-counts a few narrow symbols: the line is only shorter. */
static size_t
columns(unsigned long cp)
{
	return cp >= 0x1100 ? 2 : 1;
}

/* Closing punctuation that must not start a line (kinsoku): 、。）」』】 */
static bool
no_line_start(unsigned long cp)
{
	return cp == 0x3001 || cp == 0x3002 || cp == 0xff09 || cp == 0x300d ||
	    cp == 0x300f || cp == 0x3011 || cp == ',' || cp == '.';
}

int
atsm_explain_wrap(struct atsm_buf *out, const char *text, const char *indent, size_t width)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t n = strlen(text), i = 0;

	while (i < n) {
		size_t j = i, col = 0, space = 0, k;
		bool have_space = false;

		while (i < n && p[i] == ' ')
			i++;
		if (i >= n)
			break;
		for (j = i; j < n;) {
			size_t len = atsm_utf8_char_len((const char *)p + j, n - j);
			unsigned long cp = len > 0 ? code_point(p + j, len) : '?';

			if (len == 0)
				len = 1;
			if (cp == ' ' || cp == '\r' || cp == '\n' || cp == '\t') {
				space = j;
				have_space = true;
			} else if (col + columns(cp) > width && j > i && !no_line_start(cp)) {
				break;
			}
			col += columns(cp);
			j += len;
		}
		if (j < n && have_space && space > i)
			j = space;
		if (atsm_buf_puts(out, indent) < 0)
			return -1;
		for (k = i; k < j; k++) {
			char c = (char)p[k];

			if (c == '\r' || c == '\n' || c == '\t')
				c = ' ';
			if (atsm_buf_putc(out, c) < 0)
				return -1;
		}
		/* no trailing blank before the line end */
		while (out->len > 0 && out->data[out->len - 1] == ' ')
			out->data[--out->len] = '\0';
		if (atsm_buf_putc(out, '\n') < 0)
			return -1;
		i = j;
	}
	return 0;
}

/* A raw header value for a line of the text: printable ASCII only (a
 * Message-ID, a Date), other bytes as '?'; unfolded. */
static int
put_raw(struct atsm_buf *out, const char *v)
{
	for (; *v != '\0'; v++) {
		unsigned char c = (unsigned char)*v;

		if (c == '\r' || c == '\n')
			continue;
		if (atsm_buf_putc(out, c == '\t' ? ' ' : c >= 0x20 && c < 0x7f ? (char)c : '?') < 0)
			return -1;
	}
	return 0;
}

static int
put_fact(struct atsm_buf *out, const char *label, const char *value, bool raw,
    const struct words *w)
{
	struct atsm_buf line;
	int rc;

	atsm_buf_init(&line, 4096);
	rc = atsm_buf_puts(&line, label);
	if (rc == 0 && (value == NULL || *value == '\0'))
		rc = atsm_buf_puts(&line, w->no_subject);
	else if (rc == 0 && raw)
		rc = put_raw(&line, value);
	else if (rc == 0)
		rc = atsm_buf_puts(&line, value);
	/* a cut value still says enough: the line is shown as far as it went */
	if (line.len > 0)
		rc = atsm_explain_wrap(out, atsm_buf_str(&line), "    ", w->width);
	atsm_buf_free(&line);
	return rc;
}

/* The sentence with its "%zu" replaced by n (no format string from a
 * table: the compiler checks every printf format). */
static void
put_number(char *dst, size_t size, const char *sentence, size_t n)
{
	const char *at = strstr(sentence, "%zu");

	if (at == NULL) {
		snprintf(dst, size, "%s", sentence);
		return;
	}
	snprintf(dst, size, "%.*s%zu%s", (int)(at - sentence), sentence, n, at + 3);
}

int
atsm_explain_subject(enum atsm_lang lang, const char *subject_utf8, struct atsm_buf *out)
{
	const struct words *w = words_of(lang);

	if (atsm_buf_puts(out, w->subject_prefix) < 0)
		return -1;
	if (subject_utf8 == NULL || *subject_utf8 == '\0')
		return 0;
	if (atsm_buf_puts(out, ": ") < 0)
		return -1;
	return atsm_utf8_append(out, subject_utf8, strlen(subject_utf8));
}

int
atsm_explain_body(const struct atsm_explain_in *in, const char *subject_utf8,
    struct atsm_buf *out)
{
	const struct words *w = words_of(in->lang);
	char where[2048];

	if (in->mail == NULL)
		snprintf(where, sizeof(where), "%s", w->held);
	else if (in->mail_cut)
		put_number(where, sizeof(where), w->cut, in->attach_max);
	else
		snprintf(where, sizeof(where), "%s", w->attached);
	if (atsm_explain_wrap(out, w->not_sent, "", w->width) < 0 ||
	    atsm_buf_printf(out, "\n%s\n", w->what_title) < 0 ||
	    atsm_explain_wrap(out, in->what, "    ", w->width) < 0)
		return -1;
	if (in->fix != NULL && in->fix[0] != '\0' &&
	    (atsm_buf_printf(out, "\n%s\n", w->fix_title) < 0 ||
	    atsm_explain_wrap(out, in->fix, "    ", w->width) < 0))
		return -1;
	if (atsm_buf_putc(out, '\n') < 0 || atsm_explain_wrap(out, where, "", w->width) < 0 ||
	    atsm_buf_printf(out, "\n%s\n", w->facts_title) < 0 ||
	    put_fact(out, w->l_subject, subject_utf8, false, w) < 0 ||
	    put_fact(out, w->l_date, in->date, true, w) < 0 ||
	    put_fact(out, w->l_msgid, in->message_id, true, w) < 0)
		return -1;
	if (in->addr != NULL && in->addr[0] != '\0' &&
	    put_fact(out, w->l_command, in->addr, true, w) < 0)
		return -1;
	if (atsm_buf_puts(out, "\n-- \n") < 0)
		return -1;
	return atsm_explain_wrap(out, w->signature, "", w->width);
}
