/* mail/mime.c -- bounded MIME structure parser (interface in mail/mime.h).
 *
 * One pass per nesting level: a header block is read line by line (CRLF,
 * LF or a lone CR end a line), then the body is either split at the
 * multipart boundary, parsed as an embedded message, or left as a leaf.
 * Parts are appended to one array in pre-order, so a caller walks the
 * structure without recursion.  Bodies stay pointers into the caller's
 * message; only an embedded message that is itself base64 or
 * quoted-printable is decoded into memory the result owns (bounded by
 * ATSM_MIME_MAX_OWNED).
 */
#include "mail/mime.h"
#include "base/charset.h"
#include "mail/rfc2047.h"
#include "mail/rfc2231.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct owned_block {
	struct owned_block *next;
	char data[];
};

struct ctx {
	struct atsm_mime_msg *m;
	struct atsm_mime_limits lim;
	int nomem;
};

/* End of the line starting at i (index of its first line-break byte, or
 * len); *next receives the start of the following line. */
static size_t
line_end(const char *p, size_t len, size_t i, size_t *next)
{
	const char *nl, *cr;
	size_t e;

	nl = memchr(p + i, '\n', len - i);
	cr = memchr(p + i, '\r', nl != NULL ? (size_t)(nl - (p + i)) : len - i);
	if (cr != NULL) {
		e = (size_t)(cr - p);
		*next = (e + 1 < len && p[e + 1] == '\n') ? e + 2 : e + 1;
		return e;
	}
	if (nl != NULL) {
		e = (size_t)(nl - p);
		*next = e + 1;
		return e;
	}
	*next = len;
	return len;
}

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

void
atsm_mime_headers_free(struct atsm_mime_headers *h)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		free(h->v[i].name);
		free(h->v[i].value);
	}
	free(h->v);
	memset(h, 0, sizeof(*h));
}

/* Store the field whose lines span p[s..e) (name ends at colon). */
static int
add_field(struct atsm_mime_headers *h, const char *p, size_t s, size_t colon,
    size_t e, size_t max_fields)
{
	struct atsm_mime_field *f;
	size_t ne, i, n;
	char *v;

	if (h->n >= max_fields) {
		h->truncated = true;
		return 0;
	}
	/* capacity is 8, then doubles whenever n reaches a power of two */
	if (h->n == 0 || (h->n >= 8 && (h->n & (h->n - 1)) == 0)) {
		size_t cap = h->n == 0 ? 8 : h->n * 2;
		struct atsm_mime_field *nv = realloc(h->v, cap * sizeof(*nv));

		if (nv == NULL)
			return -1;
		h->v = nv;
	}
	f = &h->v[h->n];
	for (ne = colon; ne > s && is_wsp(p[ne - 1]); ne--)
		;
	if ((f->name = malloc(ne - s + 1)) == NULL)
		return -1;
	memcpy(f->name, p + s, ne - s);
	f->name[ne - s] = '\0';
	if ((v = malloc(e - colon)) == NULL) {
		free(f->name);
		return -1;
	}
	n = 0;
	for (i = colon + 1; i < e; i++) {
		char c = p[i];

		if (c == '\r' || c == '\n')
			continue;
		if (c == '\0')
			c = ' ';
		if (n == 0 && is_wsp(c))
			continue;
		v[n++] = c;
	}
	while (n > 0 && is_wsp(v[n - 1]))
		n--;
	v[n] = '\0';
	f->value = v;
	f->value_len = n;
	h->n++;
	return 0;
}

/* A field name: printable ASCII without colon or space (RFC 5322 ftext). */
static bool
valid_name(const char *p, size_t s, size_t colon)
{
	size_t i, e = colon;

	while (e > s && is_wsp(p[e - 1]))
		e--;
	if (e == s)
		return false;
	for (i = s; i < e; i++)
		if ((unsigned char)p[i] <= ' ' || (unsigned char)p[i] >= 127)
			return false;
	return true;
}

int
atsm_mime_headers_parse(const char *p, size_t len, size_t max_bytes,
    size_t max_fields, struct atsm_mime_headers *h, size_t *body_at)
{
	size_t i = 0, e, next, fs = 0, fcolon = 0, fe = 0;
	bool open = false;

	memset(h, 0, sizeof(*h));
	if (max_bytes == 0)
		max_bytes = ATSM_MIME_MAX_HEADER_BYTES;
	if (max_fields == 0)
		max_fields = ATSM_MIME_MAX_FIELDS;
	/* an mbox "From " line before the first field is not part of it */
	if (len >= 5 && memcmp(p, "From ", 5) == 0)
		(void)line_end(p, len, 0, &i);
	while (i < len) {
		const char *colon;

		e = line_end(p, len, i, &next);
		if (e == i)
			break;	/* the empty line */
		if (is_wsp(p[i]) && open) {
			fe = e;	/* a continuation line */
			i = next;
			continue;
		}
		if (open) {
			if (fe > max_bytes)
				h->truncated = true;
			else if (add_field(h, p, fs, fcolon, fe, max_fields) < 0)
				return -1;
			open = false;
		}
		colon = memchr(p + i, ':', e - i);
		if (colon == NULL || !valid_name(p, i, (size_t)(colon - p))) {
			if (is_wsp(p[i])) {
				i = next;	/* stray continuation: skip it */
				continue;
			}
			/* not a header line: the body starts here */
			if (body_at != NULL)
				*body_at = i;
			return 0;
		}
		fs = i;
		fcolon = (size_t)(colon - p);
		fe = e;
		open = true;
		i = next;
	}
	if (open) {
		if (fe > max_bytes)
			h->truncated = true;
		else if (add_field(h, p, fs, fcolon, fe, max_fields) < 0)
			return -1;
	}
	if (body_at != NULL)
		*body_at = i < len ? next : len;
	return 0;
}

const struct atsm_mime_field *
atsm_mime_header_next(const struct atsm_mime_headers *h, const char *name,
    size_t *iter)
{
	while (*iter < h->n) {
		const struct atsm_mime_field *f = &h->v[(*iter)++];

		if (name == NULL || strcasecmp(f->name, name) == 0)
			return f;
	}
	return NULL;
}

const char *
atsm_mime_header(const struct atsm_mime_headers *h, const char *name)
{
	size_t it = 0;
	const struct atsm_mime_field *f = atsm_mime_header_next(h, name, &it);

	return f != NULL ? f->value : NULL;
}

int
atsm_mime_header_decoded(const struct atsm_mime_headers *h, const char *name,
    struct atsm_buf *out)
{
	size_t it = 0;
	const struct atsm_mime_field *f = atsm_mime_header_next(h, name, &it);

	if (f == NULL)
		return 0;
	return atsm_rfc2047_decode(f->value, f->value_len, out) < 0 ? -1 : 1;
}

int
atsm_mime_child(const struct atsm_mime_msg *m, size_t p, size_t i)
{
	size_t k;

	for (k = p + 1; k < m->n && m->v[k].depth > m->v[p].depth; k++)
		if (m->v[k].parent == (int)p && i-- == 0)
			return (int)k;
	return -1;
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

int
atsm_mime_base64_decode(const char *in, size_t len, struct atsm_buf *out)
{
	unsigned long acc = 0;
	int bits = 0, v;
	size_t i;
	char c;

	for (i = 0; i < len; i++) {
		if (in[i] == '=') {
			/* padding ends a group; a later group may follow */
			acc = 0;
			bits = 0;
			continue;
		}
		if ((v = b64_val((unsigned char)in[i])) < 0)
			continue;	/* line breaks and junk are skipped */
		acc = (acc << 6) | (unsigned long)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			c = (char)((acc >> bits) & 0xff);
			if (atsm_buf_putc(out, c) < 0)
				return -1;
		}
	}
	return 0;
}

static int
hex_val(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
atsm_mime_qp_decode(const char *in, size_t len, struct atsm_buf *out)
{
	size_t i, s = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (in[i] != '=')
			continue;
		if (atsm_buf_append(out, in + s, i - s) < 0)
			return -1;
		s = i + 1;
		if (i + 2 < len && (hi = hex_val((unsigned char)in[i + 1])) >= 0 &&
		    (lo = hex_val((unsigned char)in[i + 2])) >= 0) {
			if (atsm_buf_putc(out, (char)(hi * 16 + lo)) < 0)
				return -1;
			i += 2;
			s = i + 1;
			continue;
		}
		/* a soft line break: '=' then optional blanks and a line end */
		{
			size_t j = i + 1;

			while (j < len && is_wsp(in[j]))
				j++;
			if (j >= len || in[j] == '\r' || in[j] == '\n') {
				if (j < len && in[j] == '\r')
					j++;
				if (j < len && in[j] == '\n')
					j++;
				i = j - 1;
				s = j;
				continue;
			}
		}
		/* a lone '=' stays literal */
		if (atsm_buf_putc(out, '=') < 0)
			return -1;
	}
	return atsm_buf_append(out, in + s, len - s);
}

int
atsm_mime_body_decode(const struct atsm_mime_part *part, struct atsm_buf *out)
{
	if (strcmp(part->cte, "base64") == 0)
		return atsm_mime_base64_decode(part->body, part->body_len, out);
	if (strcmp(part->cte, "quoted-printable") == 0)
		return atsm_mime_qp_decode(part->body, part->body_len, out);
	return atsm_buf_append(out, part->body, part->body_len);
}

int
atsm_mime_body_text(const struct atsm_mime_part *part, struct atsm_buf *out)
{
	struct atsm_buf raw;
	const char *cs;
	int rc;

	atsm_buf_init(&raw, out->limit);
	rc = atsm_mime_body_decode(part, &raw);
	cs = part->charset;
	if (cs[0] == '\0' || strcmp(cs, "us-ascii") == 0 || !atsm_charset_known(cs))
		cs = atsm_charset_guess(atsm_buf_str(&raw), raw.len);
	if (atsm_charset_to_utf8(cs, atsm_buf_str(&raw), raw.len, out, NULL) < 0) {
		if (!out->overflow)
			(void)atsm_charset_fallback(atsm_buf_str(&raw), raw.len, out);
		rc = -1;
	}
	if (out->overflow)
		rc = -1;
	atsm_buf_free(&raw);
	return rc;
}

/* Copy a parameter into dst (lower-cased when lower). */
static void
get_param(const char *value, const char *name, char *dst, size_t dstsz,
    bool lower)
{
	struct atsm_buf b;
	size_t i;

	dst[0] = '\0';
	atsm_buf_init(&b, dstsz - 1);
	if (atsm_rfc2231_param(value, strlen(value), name, &b, NULL) == 1) {
		for (i = 0; i < b.len && i + 1 < dstsz; i++)
			dst[i] = lower ? (char)tolower((unsigned char)b.data[i]) :
			    b.data[i];
		dst[i] = '\0';
	}
	atsm_buf_free(&b);
}

/* The first token of value, lower-cased, up to ';' or white space. */
static void
first_token(const char *value, char *dst, size_t dstsz)
{
	size_t n = 0;

	while (is_wsp(*value))
		value++;
	while (*value != '\0' && *value != ';' && !is_wsp(*value) &&
	    *value != '(' && n + 1 < dstsz)
		dst[n++] = (char)tolower((unsigned char)*value++);
	dst[n] = '\0';
}

static const char *
own_copy(struct ctx *c, struct atsm_buf *b)
{
	struct owned_block *blk;

	if (b->len > ATSM_MIME_MAX_OWNED - c->m->owned_len)
		return NULL;
	if ((blk = malloc(sizeof(*blk) + b->len + 1)) == NULL) {
		c->nomem = 1;
		return NULL;
	}
	memcpy(blk->data, atsm_buf_str(b), b->len + 1);
	blk->next = c->m->owned;
	c->m->owned = blk;
	c->m->owned_len += b->len;
	return blk->data;
}

static void parse_entity(struct ctx *c, const char *p, size_t len, int parent,
    unsigned depth, const char *deftype);

/* Is the line p[i..e) a delimiter of boundary b?  2 for the closing one. */
static int
is_delim(const char *p, size_t i, size_t e, const char *b, size_t bl)
{
	size_t j;
	int r = 1;

	if (e - i < bl + 2 || p[i] != '-' || p[i + 1] != '-' ||
	    memcmp(p + i + 2, b, bl) != 0)
		return 0;
	j = i + 2 + bl;
	if (e - j >= 2 && p[j] == '-' && p[j + 1] == '-') {
		r = 2;
		j += 2;
	}
	for (; j < e; j++)
		if (!is_wsp(p[j]))
			return 0;
	return r;
}

/* Start of the line break ending just before line start i (or i). */
static size_t
strip_break(const char *p, size_t s, size_t i)
{
	if (i > s && p[i - 1] == '\n')
		i--;
	if (i > s && p[i - 1] == '\r')
		i--;
	return i;
}

/* The boundary a body actually uses when the declared one never occurs:
 * the first line that looks like a delimiter ("--" and a token). */
static char *
guess_boundary(const char *body, size_t len)
{
	size_t i = 0, e, next, n;

	while (i < len) {
		e = line_end(body, len, i, &next);
		n = e - i;
		if (n > 4 && n - 2 <= ATSM_MIME_BOUNDARY_MAX && body[i] == '-' &&
		    body[i + 1] == '-' && !is_wsp(body[i + 2])) {
			char *b;

			if (body[e - 1] == '-' && body[e - 2] == '-')
				n -= 2;	/* it was the closing one */
			if ((b = malloc(n - 1)) == NULL)
				return NULL;
			memcpy(b, body + i + 2, n - 2);
			b[n - 2] = '\0';
			return b;
		}
		i = next;
	}
	return NULL;
}

static void
split_multipart(struct ctx *c, size_t idx, const char *body, size_t len,
    unsigned depth, bool guessed)
{
	char deftype[32];
	const char *b;
	size_t bl, i = 0, e, next, ps = 0;
	bool in_part = false;
	int d;

	strcpy(deftype, strcmp(c->m->v[idx].type, "multipart/digest") == 0 ?
	    "message/rfc822" : "text/plain");
	b = c->m->v[idx].boundary;
	bl = strlen(b);
	while (i < len) {
		e = line_end(body, len, i, &next);
		if ((d = is_delim(body, i, e, b, bl)) != 0) {
			if (in_part)
				parse_entity(c, body + ps,
				    strip_break(body, ps, i) - ps, (int)idx,
				    depth + 1, deftype);
			if (d == 2)
				return;
			in_part = true;
			ps = next;
		}
		i = next;
	}
	if (!in_part && !guessed) {
		char *g = guess_boundary(body, len);

		if (g != NULL) {
			free(c->m->v[idx].boundary);
			c->m->v[idx].boundary = g;
			split_multipart(c, idx, body, len, depth, true);
			return;
		}
	}
	/* no closing delimiter: the last part runs to the end */
	c->m->v[idx].unterminated = true;
	if (in_part && ps < len)
		parse_entity(c, body + ps, len - ps, (int)idx, depth + 1, deftype);
}

static void
parse_entity(struct ctx *c, const char *p, size_t len, int parent,
    unsigned depth, const char *deftype)
{
	struct atsm_mime_msg *m = c->m;
	struct atsm_mime_part *pt;
	const char *ct, *cte;
	size_t body_at = len, idx;
	char bnd[ATSM_MIME_BOUNDARY_MAX + 1];

	if (c->nomem)
		return;
	if (m->n >= c->lim.max_parts || depth > c->lim.max_depth) {
		m->truncated = true;
		return;
	}
	if ((m->n & (m->n - 1)) == 0) {
		size_t cap = m->n == 0 ? 1 : m->n * 2;
		struct atsm_mime_part *nv = realloc(m->v, cap * sizeof(*nv));

		if (nv == NULL) {
			c->nomem = 1;
			return;
		}
		m->v = nv;
	}
	idx = m->n++;
	pt = &m->v[idx];
	memset(pt, 0, sizeof(*pt));
	pt->parent = parent;
	pt->depth = depth;
	if (atsm_mime_headers_parse(p, len, c->lim.max_header_bytes,
	    c->lim.max_fields, &pt->hdr, &body_at) < 0) {
		c->nomem = 1;
		return;
	}
	if (body_at > len)
		body_at = len;
	pt->header = p;
	pt->header_len = body_at;
	pt->body = p + body_at;
	pt->body_len = len - body_at;

	ct = atsm_mime_header(&pt->hdr, "Content-Type");
	if (ct != NULL)
		first_token(ct, pt->type, sizeof(pt->type));
	if (strchr(pt->type, '/') == NULL)
		snprintf(pt->type, sizeof(pt->type), "%s", deftype);
	if (ct != NULL) {
		get_param(ct, "charset", pt->charset, sizeof(pt->charset), true);
		get_param(ct, "boundary", bnd, sizeof(bnd), false);
		if (bnd[0] != '\0' && (pt->boundary = strdup(bnd)) == NULL) {
			c->nomem = 1;
			return;
		}
	}
	if ((cte = atsm_mime_header(&pt->hdr, "Content-Transfer-Encoding")) != NULL)
		first_token(cte, pt->cte, sizeof(pt->cte));

	if (strncmp(pt->type, "multipart/", 10) == 0 && pt->boundary != NULL) {
		pt->kind = ATSM_MIME_MULTIPART;
		split_multipart(c, idx, p + body_at, len - body_at, depth, false);
	} else if (strcmp(pt->type, "message/rfc822") == 0 ||
	    strcmp(pt->type, "message/global") == 0 ||
	    strcmp(pt->type, "text/rfc822-headers") == 0 ||
	    strcmp(pt->type, "message/rfc822-headers") == 0 ||
	    strcmp(pt->type, "message/global-headers") == 0) {
		const char *q = p + body_at;
		size_t ql = len - body_at;

		pt->kind = strstr(pt->type, "headers") != NULL ?
		    ATSM_MIME_HEADERS : ATSM_MIME_MESSAGE;
		if (strcmp(pt->cte, "base64") == 0 ||
		    strcmp(pt->cte, "quoted-printable") == 0) {
			struct atsm_buf dec;

			atsm_buf_init(&dec, ATSM_MIME_MAX_OWNED);
			(void)atsm_mime_body_decode(pt, &dec);
			q = own_copy(c, &dec);
			ql = dec.len;
			atsm_buf_free(&dec);
			if (q == NULL) {
				m->truncated = true;
				return;
			}
		}
		/* pt may move when the array grows: use the index from here */
		parse_entity(c, q, ql, (int)idx, depth + 1, "text/plain");
	}
}

int
atsm_mime_parse(const char *msg, size_t len,
    const struct atsm_mime_limits *lim, struct atsm_mime_msg *out,
    struct atsm_err *err)
{
	struct ctx c;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.m = out;
	if (lim != NULL)
		c.lim = *lim;
	if (c.lim.max_parts == 0)
		c.lim.max_parts = ATSM_MIME_MAX_PARTS;
	if (c.lim.max_depth == 0)
		c.lim.max_depth = ATSM_MIME_MAX_DEPTH;
	if (c.lim.max_header_bytes == 0)
		c.lim.max_header_bytes = ATSM_MIME_MAX_HEADER_BYTES;
	if (c.lim.max_fields == 0)
		c.lim.max_fields = ATSM_MIME_MAX_FIELDS;
	if (msg == NULL)
		len = 0;
	parse_entity(&c, msg != NULL ? msg : "", len, -1, 0, "text/plain");
	if (c.nomem)
		return atsm_err_set(err, "message of %zu bytes: out of memory "
		    "while parsing its MIME structure", len);
	return 0;
}

void
atsm_mime_free(struct atsm_mime_msg *m)
{
	struct owned_block *b, *nb;
	size_t i;

	for (i = 0; i < m->n; i++) {
		atsm_mime_headers_free(&m->v[i].hdr);
		free(m->v[i].boundary);
	}
	free(m->v);
	for (b = m->owned; b != NULL; b = nb) {
		nb = b->next;
		free(b);
	}
	memset(m, 0, sizeof(*m));
}
