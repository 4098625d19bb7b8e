/* mail/rfc2047.c -- decoding of unstructured header values (RFC 2047) to UTF-8.
 *
 * Interface in mail/rfc2047.h.  The value is unfolded into a scratch copy,
 * then scanned for encoded words =?charset[*lang]?B|Q?text?=.  Words are
 * accepted anywhere (also glued to other text, as many Japanese mailers
 * write "Re:=?ISO-2022-JP?B?...?="); white space between two words is
 * dropped; the decoded bytes of adjacent words in one charset are
 * converted together, because senders split ISO-2022-JP and UTF-8
 * characters (even escape sequences) across words.  Text outside words is
 * UTF-8 when it is valid, otherwise it is converted from the charset that
 * atsm_charset_guess picks for the whole value.  A word whose base64 is
 * bad becomes U+FFFD; "=?" that does not start a complete word stays as
 * literal text; an unknown charset keeps ASCII and replaces the rest.
 */
#include "mail/rfc2047.h"
#include "base/charset.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define REPL "\xEF\xBF\xBD"

/* One encoded word as found in the input. */
struct word {
	char cs[ATSM_CHARSET_NAME_MAX + 1];	/* without the language */
	char enc;				/* 'B' or 'Q' */
	const char *text;
	size_t tlen;
	size_t len;				/* of the whole word */
};

/* Decoded bytes of adjacent words in one charset, not yet converted. */
struct run {
	char cs[ATSM_CHARSET_NAME_MAX + 1];
	char *bytes;			/* room for the whole input */
	size_t n;
	bool open;
};

struct scan {
	const char *u;		/* unfolded value */
	size_t ulen;
	/* [nofind_from, nofind_to) holds no "?=" and nofind_to ends the
	 * text of any word starting in it: remembering this keeps a value
	 * full of unterminated words from being scanned quadratically */
	size_t nofind_from, nofind_to;
};

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* Remove CRLF / LF before white space (RFC 5322 unfolding) and line ends
 * at the very end; returns the new length. */
static size_t
unfold(const char *in, size_t len, char *u)
{
	size_t i, n = 0;

	while (len > 0 && (in[len - 1] == '\r' || in[len - 1] == '\n'))
		len--;
	for (i = 0; i < len; i++) {
		if (in[i] == '\r' && i + 2 < len && in[i + 1] == '\n' &&
		    is_wsp(in[i + 2])) {
			i++;
			continue;
		}
		if (in[i] == '\n' && i + 1 < len && is_wsp(in[i + 1]))
			continue;
		u[n++] = in[i];
	}
	return n;
}

/* The end of a word's text: the offset of "?=" at or after t, or 0 when
 * a blank, a control or 8-bit byte or the end comes first. */
static size_t
find_close(struct scan *sc, size_t t)
{
	size_t i;

	if (t >= sc->nofind_from && t < sc->nofind_to)
		return 0;
	for (i = t; i < sc->ulen; i++) {
		unsigned char c = (unsigned char)sc->u[i];

		if (c == '?' && i + 1 < sc->ulen && sc->u[i + 1] == '=')
			return i;
		if (c <= ' ' || c >= 0x7F)
			break;
	}
	sc->nofind_from = t;
	sc->nofind_to = i;
	return 0;
}

/* Whether an encoded word starts at offset at ("=?" already seen). */
static bool
parse_word(struct scan *sc, size_t at, struct word *w)
{
	const char *u = sc->u;
	size_t i = at + 2, cs0 = i, cslen, close;
	unsigned char c;

	while (i < sc->ulen && u[i] != '?') {
		c = (unsigned char)u[i];
		if (c <= ' ' || c >= 0x7F || i - cs0 > 2 * ATSM_CHARSET_NAME_MAX)
			return false;
		i++;
	}
	if (i == cs0 || i + 2 >= sc->ulen || u[i + 2] != '?' ||
	    u[i + 1] == '\0' || strchr("BbQq", u[i + 1]) == NULL)
		return false;
	cslen = i - cs0;
	/* RFC 2231 section 5: charset*language */
	for (size_t k = 0; k < cslen; k++)
		if (u[cs0 + k] == '*')
			cslen = k;
	if ((close = find_close(sc, i + 3)) == 0)
		return false;
	if (cslen == 0 || cslen > ATSM_CHARSET_NAME_MAX)
		w->cs[0] = '\0';	/* unknown charset: still a word */
	else {
		memcpy(w->cs, u + cs0, cslen);
		w->cs[cslen] = '\0';
	}
	w->enc = (char)(u[i + 1] & ~0x20);
	w->text = u + i + 3;
	w->tlen = close - (i + 3);
	w->len = close + 2 - at;
	return true;
}

static int
b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Base64 into dst; -1 on a character outside the alphabet or data after
 * padding.  Missing padding is accepted (a common sender bug); a final
 * lone sextet carries no whole byte and is dropped. */
static int
b64_decode(const char *s, size_t n, char *dst, size_t *dn)
{
	unsigned long acc = 0;
	size_t i, out = 0;
	int bits = 0, v;
	bool pad = false;

	for (i = 0; i < n; i++) {
		if (s[i] == '=') {
			pad = true;
			continue;
		}
		if (pad || (v = b64_val((unsigned char)s[i])) < 0)
			return -1;
		acc = (acc << 6) | (unsigned long)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			dst[out++] = (char)((acc >> bits) & 0xFF);
		}
	}
	*dn = out;
	return 0;
}

static int
hex_val(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Q encoding: '_' is a space, =XX a byte; a stray '=' stays literal. */
static void
q_decode(const char *s, size_t n, char *dst, size_t *dn)
{
	size_t i, out = 0;
	int h, l;

	for (i = 0; i < n; i++) {
		if (s[i] == '_')
			dst[out++] = ' ';
		else if (s[i] == '=' && i + 2 < n &&
		    (h = hex_val((unsigned char)s[i + 1])) >= 0 &&
		    (l = hex_val((unsigned char)s[i + 2])) >= 0) {
			dst[out++] = (char)(h << 4 | l);
			i += 2;
		} else
			dst[out++] = s[i];
	}
	*dn = out;
}

static int
put(struct atsm_buf *out, const char *p, size_t n)
{
	return atsm_utf8_append(out, p, n);
}

static int
run_flush(struct run *r, struct atsm_buf *out)
{
	int rc = 0;

	if (!r->open)
		return 0;
	r->open = false;
	if (r->cs[0] != '\0' && atsm_charset_known(r->cs))
		rc = atsm_charset_to_utf8(r->cs, r->bytes, r->n, out, NULL);
	else
		rc = atsm_charset_fallback(r->bytes, r->n, out);
	r->n = 0;
	return rc;
}

/* Add an encoded word to the run, starting a new run on another charset. */
static int
run_add(struct run *r, const struct word *w, struct atsm_buf *out)
{
	size_t dn;

	if (r->open && strcasecmp(r->cs, w->cs) != 0 && run_flush(r, out) < 0)
		return -1;
	if (w->enc == 'B') {
		if (b64_decode(w->text, w->tlen, r->bytes + r->n, &dn) < 0) {
			if (run_flush(r, out) < 0)
				return -1;
			return put(out, REPL, 3);
		}
	} else
		q_decode(w->text, w->tlen, r->bytes + r->n, &dn);
	if (!r->open) {
		memcpy(r->cs, w->cs, sizeof(r->cs));
		r->open = true;
	}
	r->n += dn;
	return 0;
}

static bool
all_wsp(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_wsp(p[i]))
			return false;
	return true;
}

static int
decode(struct scan *sc, struct run *run, const char *rawcs,
    struct atsm_buf *out)
{
	const char *u = sc->u;
	size_t i = 0, raw = 0;
	bool after_word = false;
	struct word w;

	while (i + 1 < sc->ulen) {
		if (u[i] != '=' || u[i + 1] != '?' || !parse_word(sc, i, &w)) {
			i++;
			continue;
		}
		if (!(after_word && all_wsp(u + raw, i - raw))) {
			if (run_flush(run, out) < 0 ||
			    atsm_charset_to_utf8(rawcs, u + raw, i - raw, out,
			    NULL) < 0)
				return -1;
		}
		if (run_add(run, &w, out) < 0)
			return -1;
		i += w.len;
		raw = i;
		after_word = true;
	}
	if (run_flush(run, out) < 0)
		return -1;
	return atsm_charset_to_utf8(rawcs, u + raw, sc->ulen - raw, out, NULL);
}

int
atsm_rfc2047_decode(const char *in, size_t len, struct atsm_buf *out)
{
	struct scan sc;
	struct run run;
	size_t start = out->len, i;
	char *u;
	int rc;

	memset(&sc, 0, sizeof(sc));
	memset(&run, 0, sizeof(run));
	if ((u = malloc(len + 1)) == NULL ||
	    (run.bytes = malloc(len + 1)) == NULL) {
		free(u);
		return -1;
	}
	sc.ulen = unfold(in, len, u);
	u[sc.ulen] = '\0';
	sc.u = u;
	rc = decode(&sc, &run, atsm_charset_guess(sc.u, sc.ulen), out);
	/* the value is one line: line ends that were not folding, and any
	 * that decoded words carried, become spaces */
	for (i = start; out->data != NULL && i < out->len; i++)
		if (out->data[i] == '\r' || out->data[i] == '\n')
			out->data[i] = ' ';
	free(run.bytes);
	free(u);
	return rc < 0 ? -1 : 0;
}

char *
atsm_rfc2047_decode_dup(const char *in, size_t limit)
{
	struct atsm_buf b;
	char *s;

	atsm_buf_init(&b, limit != 0 ? limit : 65536);
	(void)atsm_rfc2047_decode(in, strlen(in), &b);  /* over the limit: cut, kept */
	s = b.data != NULL ? atsm_buf_steal(&b) : strdup("");
	atsm_buf_free(&b);
	return s;
}
