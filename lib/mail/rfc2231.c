/* mail/rfc2231.c -- one parameter of a structured header value, decoded to UTF-8.
 *
 * Interface in mail/rfc2047.h.  The value ("attachment; filename*=...") is
 * split into attribute=value pairs; for the wanted name the forms are, in
 * order of preference: name*= (charset'language'percent-encoded), the
 * continuations name*0[*]=, name*1[*]=, ... (joined up to the first missing
 * section, at most ATSM_RFC2231_MAX_SECTIONS), and the plain name=, whose
 * value is run through the RFC 2047 decoder because mailers commonly put
 * encoded words there ("=?UTF-8?B?...?=") or raw Shift_JIS.  Parsing is
 * lenient where senders are sloppy: unquoted values may hold spaces, an
 * extended value may be quoted, an empty or missing charset is guessed.
 */
#include "mail/rfc2047.h"
#include "mail/rfc2231.h"
#include "base/charset.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A parameter value as it stands in the header. */
struct piece {
	const char *p;
	size_t n;
	bool quoted;
	bool ext;	/* percent-encoded (attribute ends in '*') */
	bool set;
};

struct params {
	struct piece plain;
	struct piece star;
	struct piece sec[ATSM_RFC2231_MAX_SECTIONS];
};

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Skip white space and (nested) comments. */
static size_t
skip_cfws(const char *v, size_t len, size_t i)
{
	int depth;

	for (;;) {
		while (i < len && is_ws(v[i]))
			i++;
		if (i >= len || v[i] != '(')
			return i;
		for (depth = 0; i < len; i++) {
			if (v[i] == '\\' && i + 1 < len)
				i++;
			else if (v[i] == '(')
				depth++;
			else if (v[i] == ')' && --depth == 0) {
				i++;
				break;
			}
		}
	}
}

/* The offset of the next ';' outside a quoted string, or len. */
static size_t
next_semi(const char *v, size_t len, size_t i)
{
	bool q = false;

	for (; i < len; i++) {
		if (q && v[i] == '\\' && i + 1 < len)
			i++;
		else if (v[i] == '"')
			q = !q;
		else if (!q && v[i] == ';')
			break;
	}
	return i;
}

static bool
is_attr_char(char c)
{
	return (unsigned char)c > ' ' && (unsigned char)c != 0x7F &&
	    strchr(";=\"()<>@,:\\/[]?", c) == NULL;
}

/* Record attribute [a, a+alen) with value piece pc if it is a form of name. */
static void
match(struct params *ps, const char *a, size_t alen, const char *name,
    const struct piece *pc)
{
	size_t nlen = strlen(name), k, sec = 0;
	struct piece *dst;
	bool ext = false;

	if (alen < nlen || strncasecmp(a, name, nlen) != 0)
		return;
	a += nlen;
	alen -= nlen;
	if (alen == 0)
		dst = &ps->plain;
	else if (a[0] != '*')
		return;
	else if (alen == 1) {
		dst = &ps->star;
		ext = true;
	} else {
		for (k = 1; k < alen && isdigit((unsigned char)a[k]); k++) {
			sec = sec * 10 + (size_t)(a[k] - '0');
			if (sec >= ATSM_RFC2231_MAX_SECTIONS)
				return;
		}
		if (k == 1 || (a[1] == '0' && k > 2))
			return;	/* no number, or a leading zero */
		if (k < alen) {
			if (a[k] != '*' || k + 1 != alen)
				return;
			ext = true;
		}
		dst = &ps->sec[sec];
	}
	if (dst->set)
		return;		/* the first of duplicates counts */
	*dst = *pc;
	dst->ext = ext;
	dst->set = true;
}

static void
parse(const char *v, size_t len, const char *name, struct params *ps)
{
	size_t i = 0, a0, alen, e;
	struct piece pc;

	/* the leading type or disposition, unless the caller left it off */
	e = next_semi(v, len, 0);
	if (memchr(v, '=', e) == NULL)
		i = e;
	while (i < len) {
		while (i < len && (v[i] == ';' || is_ws(v[i])))
			i++;
		i = skip_cfws(v, len, i);
		if (i >= len)
			break;
		a0 = i;
		while (i < len && is_attr_char(v[i]))
			i++;
		alen = i - a0;
		i = skip_cfws(v, len, i);
		if (alen == 0 || i >= len || v[i] != '=') {
			i = next_semi(v, len, i + (alen == 0));
			continue;
		}
		i = skip_cfws(v, len, i + 1);
		memset(&pc, 0, sizeof(pc));
		if (i < len && v[i] == '"') {
			pc.quoted = true;
			pc.p = v + ++i;
			while (i < len && v[i] != '"') {
				if (v[i] == '\\' && i + 1 < len)
					i++;
				i++;
			}
			pc.n = (size_t)(v + i - pc.p);
			i = next_semi(v, len, i + (i < len));
		} else {
			/* lenient: up to ';' or a comment, spaces allowed */
			pc.p = v + i;
			while (i < len && v[i] != ';' &&
			    !(v[i] == '(' && i > 0 && is_ws(v[i - 1])))
				i++;
			pc.n = (size_t)(v + i - pc.p);
			while (pc.n > 0 && is_ws(pc.p[pc.n - 1]))
				pc.n--;
			i = next_semi(v, len, i);
		}
		match(ps, v + a0, alen, name, &pc);
	}
}

/* Append the piece's bytes to dst: quoted-pair escapes removed and, for an
 * extended piece, %XX decoded (a stray '%' stays). */
static size_t
piece_bytes(const char *p, size_t n, bool quoted, bool ext, char *dst)
{
	size_t i, o = 0;
	int h, l;

	for (i = 0; i < n; i++) {
		char c = p[i];

		if (quoted && c == '\\' && i + 1 < n)
			c = p[++i];
		else if (ext && c == '%' && i + 2 < n &&
		    isxdigit((unsigned char)p[i + 1]) &&
		    isxdigit((unsigned char)p[i + 2])) {
			h = isdigit((unsigned char)p[i + 1]) ? p[i + 1] - '0' :
			    (p[i + 1] | 0x20) - 'a' + 10;
			l = isdigit((unsigned char)p[i + 2]) ? p[i + 2] - '0' :
			    (p[i + 2] | 0x20) - 'a' + 10;
			c = (char)(h << 4 | l);
			i += 2;
		}
		dst[o++] = c;
	}
	return o;
}

/* Split charset'language'rest off an extended piece; cs gets "" when the
 * value names none (or one too long to be real). */
static void
ext_prefix(struct piece *pc, char *cs, size_t cssz)
{
	const char *q1, *q2;
	size_t n;

	cs[0] = '\0';
	if ((q1 = memchr(pc->p, '\'', pc->n)) == NULL)
		return;
	n = (size_t)(q1 - pc->p);
	if (n < cssz) {
		memcpy(cs, pc->p, n);
		cs[n] = '\0';
	}
	q2 = memchr(q1 + 1, '\'', pc->n - n - 1);
	if (q2 == NULL)
		q2 = q1;	/* no language part: lenient */
	pc->n -= (size_t)(q2 + 1 - pc->p);
	pc->p = q2 + 1;
}

static int
convert(const char *cs, const char *b, size_t n, struct atsm_buf *out)
{
	if (cs[0] == '\0')
		cs = atsm_charset_guess(b, n);
	if (atsm_charset_to_utf8(cs, b, n, out, NULL) == 0)
		return 0;
	if (out->overflow)
		return -1;
	return atsm_charset_fallback(b, n, out);
}

static int
assemble(struct params *ps, char *tmp, struct atsm_buf *out)
{
	char cs[ATSM_CHARSET_NAME_MAX + 1] = "";
	struct piece pc;
	size_t n = 0, k;

	if (ps->star.set) {
		pc = ps->star;
		ext_prefix(&pc, cs, sizeof(cs));
		n = piece_bytes(pc.p, pc.n, pc.quoted, true, tmp);
		return convert(cs, tmp, n, out);
	}
	if (ps->sec[0].set) {
		for (k = 0; k < ATSM_RFC2231_MAX_SECTIONS && ps->sec[k].set; k++) {
			pc = ps->sec[k];
			if (k == 0 && pc.ext)
				ext_prefix(&pc, cs, sizeof(cs));
			n += piece_bytes(pc.p, pc.n, pc.quoted, pc.ext, tmp + n);
		}
		if (ps->sec[0].ext)
			return convert(cs, tmp, n, out);
		return atsm_rfc2047_decode(tmp, n, out);
	}
	pc = ps->plain;
	n = piece_bytes(pc.p, pc.n, pc.quoted, false, tmp);
	return atsm_rfc2047_decode(tmp, n, out);
}

int
atsm_rfc2231_param(const char *value, size_t len, const char *name,
    struct atsm_buf *out, struct atsm_err *err)
{
	struct params *ps;
	char *tmp;
	size_t start = out->len, i;
	int rc;

	if ((ps = calloc(1, sizeof(*ps))) == NULL)
		return atsm_err_set(err, "parameter \"%s\": out of memory", name);
	parse(value, len, name, ps);
	if (!ps->plain.set && !ps->star.set && !ps->sec[0].set) {
		free(ps);
		return 0;
	}
	if ((tmp = malloc(len + 1)) == NULL) {
		free(ps);
		return atsm_err_set(err, "parameter \"%s\": out of memory", name);
	}
	rc = assemble(ps, tmp, out);
	for (i = start; out->data != NULL && i < out->len; i++)
		if (out->data[i] == '\r' || out->data[i] == '\n')
			out->data[i] = ' ';
	free(tmp);
	free(ps);
	if (rc < 0)
		return atsm_err_set(err, "parameter \"%s\": decoded value %s",
		    name, out->overflow ? "longer than the output limit" :
		    "could not be stored (out of memory)");
	return 1;
}
