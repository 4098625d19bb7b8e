/* rules/verp.c -- build and read VERP envelope senders with a message token.
 *
 * Interface (rules/verp.h): atsm_verp_make(), atsm_verp_make_rcpt(),
 * atsm_verp_parse(), atsm_verp_parse_stamp(), atsm_verp_rcpt_mac(),
 * atsm_verp_rcpt_ok().  The format (and why a stamp names at most one
 * recipient: Postfix lets a milter set one envelope sender per message,
 * and ignores XVERP in SMFIR_CHGFROM) is in docs/tokens.md.
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

#define RMAC_LABEL "atsmail-verp-rcpt"
#define RCPT_MAX 320               /* octets of a normalised recipient */

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
	return atsm_verp_make_rcpt(sender, delim, tag, token, NULL, out, err);
}

int
atsm_verp_make_rcpt(const char *sender, char delim, const char *tag,
    const char *token, const char *rmac, struct atsm_buf *out, struct atsm_err *err)
{
	const char *s, *at, *d;
	size_t n, llen, keep, tlen, klen, i, total, rlen;

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
	rlen = rmac != NULL ? strlen(rmac) : 0;
	if (rlen != 0 && rlen != ATSM_VERP_RMAC_LEN)
		return atsm_err_set(err, "VERP recipient MAC of %zu characters "
		    "(must be %d)", rlen, ATSM_VERP_RMAC_LEN);
	for (i = 0; i < rlen; i++)
		if (!token_char(rmac[i]))
			return atsm_err_set(err, "VERP recipient MAC is not "
			    "lower-case base32");
	if (rlen != 0)
		klen += 1 + rlen;      /* the stamp's last part: token-rmac */
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
	    (rlen != 0 && (atsm_buf_putc(out, ATSM_VERP_RMAC_SEP) < 0 ||
	    atsm_buf_puts(out, rmac) < 0)) ||
	    atsm_buf_append(out, at, (size_t)(s + n - at)) < 0)
		return atsm_err_set(err, "no room for the stamped envelope "
		    "sender");
	return 0;
}

int
atsm_verp_parse(const char *rcpt, char delim, const char *tag,
    char token[ATSM_TOKEN_MAX])
{
	char rmac[ATSM_VERP_RMAC_LEN + 1];

	return atsm_verp_parse_stamp(rcpt, delim, tag, token, rmac);
}

/* Copy n characters of the token alphabet (any case) in lower case; false
 * at the first other one. */
static bool
lower_token(const char *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = p[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!token_char(c))
			return false;
		out[i] = c;
	}
	out[n] = '\0';
	return true;
}

int
atsm_verp_parse_stamp(const char *rcpt, char delim, const char *tag,
    char token[ATSM_TOKEN_MAX], char rmac[ATSM_VERP_RMAC_LEN + 1])
{
	const char *s, *at, *p, *rest;
	size_t n, tlen, klen;

	token[0] = '\0';
	rmac[0] = '\0';
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
	/* The last delimiter-and-tag whose rest is a whole token, or a token,
	 * the separator and an rmac. */
	for (p = at; p > s; ) {
		p--;
		if (*p != delim || (size_t)(at - p - 1) < tlen ||
		    strncasecmp(p + 1, tag, tlen) != 0)
			continue;
		rest = p + 1 + tlen;
		klen = (size_t)(at - rest);
		if (klen > ATSM_VERP_RMAC_LEN + 1 &&
		    rest[klen - ATSM_VERP_RMAC_LEN - 1] == ATSM_VERP_RMAC_SEP &&
		    klen - ATSM_VERP_RMAC_LEN - 1 < ATSM_TOKEN_MAX &&
		    lower_token(rest, klen - ATSM_VERP_RMAC_LEN - 1, token) &&
		    lower_token(rest + klen - ATSM_VERP_RMAC_LEN, ATSM_VERP_RMAC_LEN, rmac))
			return 0;
		rmac[0] = '\0';
		if (klen > 0 && klen < ATSM_TOKEN_MAX && lower_token(rest, klen, token))
			return 0;
	}
	token[0] = '\0';
	rmac[0] = '\0';
	return -1;
}

/* ------------------------------------------------- the recipient's MAC */

int
atsm_verp_rcpt_mac(const struct atsm_token_keys *keys, size_t k, const char *token,
    const char *rcpt, char out[ATSM_VERP_RMAC_LEN + 1])
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	unsigned char data[sizeof(RMAC_LABEL) + ATSM_TOKEN_MAX + RCPT_MAX], mac[32];
	size_t tl, rl, n = 0, i;
	unsigned bits = 0, nbits = 0;

	out[0] = '\0';
	if (keys == NULL || k >= keys->n || token == NULL || rcpt == NULL)
		return -1;
	tl = strlen(token);
	rl = strlen(rcpt);
	if (tl >= ATSM_TOKEN_MAX || rl > RCPT_MAX)
		return -1;
	/* label NUL token NUL recipient: no two inputs give one string */
	memcpy(data, RMAC_LABEL, sizeof(RMAC_LABEL));
	n = sizeof(RMAC_LABEL);
	for (i = 0; i < tl; i++) {
		char c = token[i];

		data[n++] = (unsigned char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	data[n++] = '\0';
	memcpy(data + n, rcpt, rl);
	n += rl;
	if (atsm_hmac_sha256(keys->key[k].k, keys->key[k].len, data, n, mac) < 0)
		return -1;
	/* base32 of the first 5 bytes: exactly 8 characters */
	for (i = 0, n = 0; i < ATSM_VERP_RMAC_BYTES; i++) {
		bits = (bits << 8) | mac[i];
		nbits += 8;
		while (nbits >= 5) {
			out[n++] = alphabet[(bits >> (nbits - 5)) & 31];
			nbits -= 5;
		}
	}
	out[n] = '\0';
	return 0;
}

bool
atsm_verp_rcpt_ok(const struct atsm_token_keys *keys, const char *token, const char *rmac,
    const char *rcpt)
{
	char want[ATSM_VERP_RMAC_LEN + 1], got[ATSM_VERP_RMAC_LEN + 1];
	size_t k;

	if (keys == NULL || rmac == NULL || strlen(rmac) != ATSM_VERP_RMAC_LEN ||
	    !lower_token(rmac, ATSM_VERP_RMAC_LEN, got))
		return false;
	for (k = 0; k < keys->n; k++)
		if (atsm_verp_rcpt_mac(keys, k, token, rcpt, want) == 0 &&
		    atsm_ct_equal(want, got, ATSM_VERP_RMAC_LEN))
			return true;
	return false;
}
