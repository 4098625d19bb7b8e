/* rules/verp.c -- build and read VERP envelope senders with a message token.
 *
 * Interface (rules/verp.h): atsm_verp_make(), atsm_verp_parse().
 *
 * Making refuses rather than guesses: a sender it cannot stamp safely
 * (null sender of a bounce, quoted local part, a result past the RFC 5321
 * limits) makes the milter skip VERP for that mail and log why; the mail
 * itself is still sent.
 */
#include "rules/verp.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

static bool
token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7');
}

/* Characters a tag may hold: those of a dot-atom local part, less the
 * ones that would confuse a later parse. */
static bool
tag_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	    c == '=';
}

/* Trim blanks and angle brackets; *len is the length of what remains. */
static const char *
trim(const char *s, size_t *len)
{
	const char *e;

	while (*s == ' ' || *s == '\t' || *s == '<')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '>'))
		e--;
	*len = (size_t)(e - s);
	return s;
}

static const char *
last_at(const char *s, size_t n)
{
	const char *at = NULL;
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == '@')
			at = s + i;
	return at;
}

int
atsm_verp_make(const char *sender, char delim, const char *tag,
    const char *token, struct atsm_buf *out, struct atsm_err *err)
{
	const char *s, *at, *d;
	size_t n, llen, keep, tlen, klen, i, total;

	if (delim == '\0')
		delim = ATSM_VERP_DELIM_DEFAULT;
	if (tag == NULL)
		tag = ATSM_VERP_TAG_DEFAULT;
	tlen = strlen(tag);
	if (tlen > ATSM_VERP_TAG_MAX)
		return atsm_err_set(err, "VERP tag longer than %d characters",
		    ATSM_VERP_TAG_MAX);
	for (i = 0; i < tlen; i++)
		if (!tag_char(tag[i]) || tag[i] == delim)
			return atsm_err_set(err, "VERP tag \"%s\" may hold only "
			    "letters, digits, '-', '_', '.', '=' and not the "
			    "delimiter", tag);
	if (token == NULL || (klen = strlen(token)) == 0 ||
	    klen >= ATSM_TOKEN_MAX)
		return atsm_err_set(err, "VERP token missing or too long");
	for (i = 0; i < klen; i++)
		if (!token_char(token[i]))
			return atsm_err_set(err, "VERP token is not lower-case "
			    "base32");
	if (sender == NULL)
		return atsm_err_set(err, "no envelope sender; VERP skipped");
	s = trim(sender, &n);
	if (n == 0)
		return atsm_err_set(err, "null envelope sender <>; VERP "
		    "skipped");
	if ((at = last_at(s, n)) == NULL || at == s || at + 1 == s + n)
		return atsm_err_set(err, "envelope sender \"%.100s\" has no "
		    "local part or domain; VERP skipped", sender);
	llen = (size_t)(at - s);
	if (s[0] == '"' || memchr(s, ' ', llen) != NULL)
		return atsm_err_set(err, "envelope sender \"%.100s\" has a "
		    "quoted local part; VERP skipped", sender);
	d = memchr(s, delim, llen);
	keep = d != NULL ? (size_t)(d - s) : llen;
	if (keep == 0)
		return atsm_err_set(err, "envelope sender \"%.100s\" starts "
		    "with the delimiter '%c'; VERP skipped", sender, delim);
	if (keep + 1 + tlen + klen > ATSM_VERP_LOCAL_MAX)
		return atsm_err_set(err, "stamped envelope sender would have a "
		    "local part of %zu octets (limit %d); VERP skipped for "
		    "\"%.100s\"", keep + 1 + tlen + klen, ATSM_VERP_LOCAL_MAX,
		    sender);
	total = keep + 1 + tlen + klen + (size_t)(s + n - at);
	if (total > ATSM_VERP_ADDR_MAX)
		return atsm_err_set(err, "stamped envelope sender would have "
		    "%zu octets (limit %d); VERP skipped for \"%.100s\"",
		    total, ATSM_VERP_ADDR_MAX, sender);
	if (atsm_buf_append(out, s, keep) < 0 ||
	    atsm_buf_putc(out, delim) < 0 || atsm_buf_puts(out, tag) < 0 ||
	    atsm_buf_puts(out, token) < 0 ||
	    atsm_buf_append(out, at, (size_t)(s + n - at)) < 0)
		return atsm_err_set(err, "no room for the stamped envelope "
		    "sender");
	return 0;
}

int
atsm_verp_parse(const char *rcpt, char delim, const char *tag,
    char token[ATSM_TOKEN_MAX])
{
	const char *s, *at, *p;
	size_t n, tlen, klen, i;

	token[0] = '\0';
	if (rcpt == NULL)
		return -1;
	if (delim == '\0')
		delim = ATSM_VERP_DELIM_DEFAULT;
	if (tag == NULL)
		tag = ATSM_VERP_TAG_DEFAULT;
	tlen = strlen(tag);
	s = trim(rcpt, &n);
	if ((at = last_at(s, n)) == NULL)
		return -1;
	/* The last delimiter-and-tag whose rest is a whole token. */
	for (p = at; p > s; ) {
		p--;
		if (*p != delim || (size_t)(at - p - 1) < tlen ||
		    strncasecmp(p + 1, tag, tlen) != 0)
			continue;
		klen = (size_t)(at - (p + 1 + tlen));
		if (klen == 0 || klen >= ATSM_TOKEN_MAX)
			continue;
		for (i = 0; i < klen; i++) {
			char c = p[1 + tlen + i];

			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			if (!token_char(c))
				break;
			token[i] = c;
		}
		if (i < klen)
			continue;
		token[klen] = '\0';
		return 0;
	}
	token[0] = '\0';
	return -1;
}
