/* service/filing.c -- the filing protocol's codec (see service/filing.h,
 * docs/filing-protocol.md): encoders, and the incremental parsers of
 * requests and answers.
 *
 * Both sides of the protocol link this one file (the plugin through
 * lib/libatsmail-client.la, with nothing but base/err.c and base/buf.c),
 * so that they cannot disagree on escaping, limits or the names that are
 * required.  The parsers take bytes as they come off a socket, in pieces
 * of any size, and hold at most one line (ATSM_FILING_LINE_MAX) plus the
 * head the caller allows: what a peer sends can never grow memory past
 * that.  Anything malformed stops the parser with a sentence that names
 * the line and the fault; the encoders write only what these parsers
 * accept, and what the parsers accept encodes back to the same fields
 * (tests/fuzz/fuzz-filing.c checks both).
 */
#include "service/filing.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the parser is in the middle of. */
enum filing_state { ST_LINES, ST_HEAD, ST_DONE, ST_FAILED };
enum filing_kind { KIND_NONE, KIND_REQUEST, KIND_ANSWER };

/* Known names: one bit each, to find duplicates and missing ones. */
enum {
	F_USER = 1u << 0, F_MAILBOX = 1u << 1, F_HOW = 1u << 2, F_ENV_FROM = 1u << 3,
	F_ENV_TO = 1u << 4, F_SIZE = 1u << 5, F_SHA256 = 1u << 6, F_RECEIVED = 1u << 7,
	F_UID = 1u << 8, F_HEAD = 1u << 9,
	F_RESULT = 1u << 10, F_TEXT = 1u << 11,
	F_OWNER = 1u << 12, F_MESSAGE_ID = 1u << 13, F_FOLDER = 1u << 14
};

struct atsm_filing_parser {
	size_t head_max;
	enum filing_state state;
	enum filing_kind kind;
	unsigned line_no;                  /* lines complete so far */
	size_t line_len;
	char line[ATSM_FILING_LINE_MAX];   /* the line being read, without its LF */
	unsigned seen;                     /* F_* of the names read */
	size_t head_have;
	struct atsm_filing_request req;
	struct atsm_filing_answer ans;
	struct atsm_err failure;           /* repeated by every feed once failed */
};

/* The names a request must carry, in the order they are written. */
static const struct {
	unsigned bit;
	const char *name;
} request_required[] = {
	{ F_USER, "user" }, { F_MAILBOX, "mailbox" }, { F_HOW, "how" }, { F_SIZE, "size" },
	{ F_SHA256, "sha256" }, { F_RECEIVED, "received" }, { F_HEAD, "head" },
};

static const char *const status_names[] = {
	[ATSM_FILING_OK] = "OK", [ATSM_FILING_TEMPFAIL] = "TEMPFAIL", [ATSM_FILING_ERROR] = "ERROR",
};

/* ---- shared helpers ------------------------------------------------------- */

static bool
must_escape(unsigned char c)
{
	return c < 0x20 || c == '%';
}

/* An IMAP keyword is an atom (RFC 3501 atom-char: no CTL, SP, ( ) { % * "
 * \ ]); the plugin hands it to the storage as it is. */
static bool
keyword_valid(const char *k)
{
	const unsigned char *p = (const unsigned char *)k;

	if (*p == '\0')
		return false;
	for (; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f || strchr("(){%*\"\\]", *p) != NULL)
			return false;
	return true;
}

static bool
sha256_valid(const char *s)
{
	size_t i;

	if (s[0] == '\0')
		return true;
	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		    (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return s[64] == '\0';
}

/* A printable, bounded rendering of bytes for an error message. */
static const char *
shown(const char *s, size_t len, char *out, size_t outlen)
{
	size_t o = 0, i;

	for (i = 0; i < len && o + 5 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || c == '%')
			o += (size_t)snprintf(out + o, outlen - o, "%%%02X", c);
		else
			out[o++] = (char)c;
	}
	if (i < len && o + 4 < outlen)
		o += (size_t)snprintf(out + o, outlen - o, "...");
	out[o] = '\0';
	return out;
}

/* ---- encoders ------------------------------------------------------------- */

/* One "name\tvalue\n" line, the value escaped; the line's length (LF
 * included) is checked against ATSM_FILING_LINE_MAX. */
static int
put_line(struct atsm_buf *out, const char *name, const void *value, size_t len,
    struct atsm_err *err)
{
	const unsigned char *v = value;
	size_t i, need = strlen(name) + 2;
	char esc[4];

	for (i = 0; i < len; i++)
		need += must_escape(v[i]) ? 3 : 1;
	if (need > ATSM_FILING_LINE_MAX)
		return atsm_err_set(err, "%s is too long for the filing protocol (%zu bytes as a "
		    "line, at most %d)", name, need, ATSM_FILING_LINE_MAX);
	if (atsm_buf_puts(out, name) < 0 || atsm_buf_putc(out, '\t') < 0)
		goto full;
	for (i = 0; i < len; i++) {
		if (must_escape(v[i])) {
			snprintf(esc, sizeof(esc), "%%%02X", v[i]);
			if (atsm_buf_append(out, esc, 3) < 0)
				goto full;
		} else if (atsm_buf_putc(out, (char)v[i]) < 0) {
			goto full;
		}
	}
	if (atsm_buf_putc(out, '\n') < 0)
		goto full;
	return 0;
full:
	return atsm_err_setc(err, ATSM_ERR_NOMEM, "the encoded %s does not fit in %zu bytes",
	    name, out->limit);
}

static int
put_str(struct atsm_buf *out, const char *name, const char *value, struct atsm_err *err)
{
	return put_line(out, name, value, strlen(value), err);
}

static int
put_unsigned(struct atsm_buf *out, const char *name, unsigned long long u, struct atsm_err *err)
{
	char num[32];

	snprintf(num, sizeof(num), "%llu", u);
	return put_str(out, name, num, err);
}

/* Undo a partial encoding: out is as the caller gave it. */
static int
encode_failed(struct atsm_buf *out, size_t len0)
{
	if (out->data != NULL && out->len > len0) {
		out->len = len0;
		out->data[len0] = '\0';
	}
	return -1;
}

int
atsm_filing_request_encode(const struct atsm_filing_request *r, struct atsm_buf *out,
    struct atsm_err *err)
{
	size_t len0 = out->len;
	char sha[65], received[32];
	size_t i;

	if (r->user == NULL || r->user[0] == '\0')
		return atsm_err_set(err, "the request names no user");
	if (r->mailbox == NULL || r->mailbox[0] == '\0')
		return atsm_err_set(err, "the request names no mailbox");
	if (!sha256_valid(r->sha256))
		return atsm_err_set(err, "sha256 '%.64s' is neither empty nor 64 hex digits",
		    r->sha256);
	if (r->head_len > 0 && r->head == NULL)
		return atsm_err_set(err, "the request has a head length but no head");
	for (i = 0; i < sizeof(sha); i++)
		sha[i] = (char)((r->sha256[i] >= 'A' && r->sha256[i] <= 'F') ?
		    r->sha256[i] - 'A' + 'a' : r->sha256[i]);
	snprintf(received, sizeof(received), "%lld", r->received_at);
	if (atsm_buf_printf(out, "FILE\t%d\n", ATSM_FILING_VERSION) < 0) {
		atsm_err_setc(err, ATSM_ERR_NOMEM, "the request does not fit in %zu bytes",
		    out->limit);
		return encode_failed(out, len0);
	}
	if (put_str(out, "user", r->user, err) < 0 ||
	    put_str(out, "mailbox", r->mailbox, err) < 0 ||
	    put_str(out, "how", r->move ? "move" : r->append ? "append" : "delivery", err) < 0 ||
	    (r->owner != NULL && put_str(out, "owner", r->owner, err) < 0) ||
	    (r->message_id != NULL && put_str(out, "message-id", r->message_id, err) < 0) ||
	    (r->env_from != NULL && put_str(out, "env-from", r->env_from, err) < 0) ||
	    (r->env_to != NULL && put_str(out, "env-to", r->env_to, err) < 0) ||
	    put_unsigned(out, "size", r->size, err) < 0 ||
	    put_str(out, "sha256", sha, err) < 0 ||
	    put_str(out, "received", received, err) < 0 ||
	    (r->uid != 0 && put_unsigned(out, "uid", r->uid, err) < 0) ||
	    put_unsigned(out, "head", r->head_len, err) < 0)
		return encode_failed(out, len0);
	if (atsm_buf_putc(out, '\n') < 0 || atsm_buf_append(out, r->head, r->head_len) < 0) {
		atsm_err_setc(err, ATSM_ERR_NOMEM, "the request with a head of %zu bytes does "
		    "not fit in %zu bytes", r->head_len, out->limit);
		return encode_failed(out, len0);
	}
	return 0;
}

int
atsm_filing_answer_encode(const struct atsm_filing_answer *a, struct atsm_buf *out,
    struct atsm_err *err)
{
	size_t len0 = out->len, i, n;

	if ((unsigned)a->status > ATSM_FILING_ERROR)
		return atsm_err_set(err, "answer status %d is not OK, TEMPFAIL or ERROR",
		    (int)a->status);
	n = strnlen(a->result, sizeof(a->result));
	if (n == 0 || n == sizeof(a->result))
		return atsm_err_set(err, "the answer's result is %s", n == 0 ? "empty" :
		    "not a string of at most 31 bytes");
	if (a->n_keywords > ATSM_FILING_KEYWORDS_MAX)
		return atsm_err_set(err, "the answer has %zu keywords (at most %d)",
		    a->n_keywords, ATSM_FILING_KEYWORDS_MAX);
	for (i = 0; i < a->n_keywords; i++) {
		n = strnlen(a->keywords[i], ATSM_FILING_KEYWORD_MAX);
		if (n == ATSM_FILING_KEYWORD_MAX || !keyword_valid(a->keywords[i]))
			return atsm_err_set(err, "keyword %zu '%.*s' is not an IMAP atom of "
			    "1 to %d bytes", i + 1, (int)n, a->keywords[i],
			    ATSM_FILING_KEYWORD_MAX - 1);
	}
	if (strnlen(a->text, sizeof(a->text)) == sizeof(a->text))
		return atsm_err_set(err, "the answer's text is not a string of at most %d bytes",
		    ATSM_FILING_TEXT_MAX - 1);
	if (strnlen(a->folder, sizeof(a->folder)) == sizeof(a->folder))
		return atsm_err_set(err, "the answer's folder is not a string of at most %d bytes",
		    ATSM_FILING_FOLDER_MAX - 1);
	if (atsm_buf_printf(out, "%s\t%d\n", status_names[a->status], ATSM_FILING_VERSION) < 0) {
		atsm_err_setc(err, ATSM_ERR_NOMEM, "the answer does not fit in %zu bytes",
		    out->limit);
		return encode_failed(out, len0);
	}
	if (put_str(out, "result", a->result, err) < 0)
		return encode_failed(out, len0);
	for (i = 0; i < a->n_keywords; i++)
		if (put_str(out, "keyword", a->keywords[i], err) < 0)
			return encode_failed(out, len0);
	if (a->folder[0] != '\0' && put_str(out, "folder", a->folder, err) < 0)
		return encode_failed(out, len0);
	if (put_str(out, "text", a->text, err) < 0)
		return encode_failed(out, len0);
	if (atsm_buf_putc(out, '\n') < 0) {
		atsm_err_setc(err, ATSM_ERR_NOMEM, "the answer does not fit in %zu bytes",
		    out->limit);
		return encode_failed(out, len0);
	}
	return 0;
}

/* ---- parser state --------------------------------------------------------- */

static void
request_clear(struct atsm_filing_request *r)
{
	free(r->user);
	free(r->mailbox);
	free(r->env_from);
	free(r->env_to);
	free(r->owner);
	free(r->message_id);
	free(r->head);
	memset(r, 0, sizeof(*r));
}

struct atsm_filing_parser *
atsm_filing_parser_new(size_t head_max)
{
	struct atsm_filing_parser *p = calloc(1, sizeof(*p));

	if (p != NULL)
		p->head_max = head_max;
	return p;
}

void
atsm_filing_parser_reset(struct atsm_filing_parser *p)
{
	request_clear(&p->req);
	memset(&p->ans, 0, sizeof(p->ans));
	p->state = ST_LINES;
	p->kind = KIND_NONE;
	p->line_no = 0;
	p->line_len = 0;
	p->seen = 0;
	p->head_have = 0;
	atsm_err_clear(&p->failure);
}

void
atsm_filing_parser_free(struct atsm_filing_parser *p)
{
	if (p == NULL)
		return;
	request_clear(&p->req);
	free(p);
}

/* Stop the parser: this error is what every later feed says too. */
static int
fail(struct atsm_filing_parser *p, struct atsm_err *err, enum atsm_err_class cls,
    const char *fmt, ...) ATSM_PRINTF(4, 5);

static int
fail(struct atsm_filing_parser *p, struct atsm_err *err, enum atsm_err_class cls,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->failure.msg, sizeof(p->failure.msg), fmt, ap);
	va_end(ap);
	p->failure.cls = cls;
	p->failure.sqlstate[0] = '\0';
	p->state = ST_FAILED;
	if (err != NULL)
		*err = p->failure;
	return -1;
}

/* ---- one line ------------------------------------------------------------- */

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode the escaped value v (len bytes) into out (at least len + 1
 * bytes), NUL-terminated; *outlen = bytes decoded.  A raw control byte,
 * a malformed escape or (when nul_ok is false) an escaped NUL fails. */
static int
unescape(struct atsm_filing_parser *p, const char *name, const char *v, size_t len,
    char *out, size_t *outlen, bool nul_ok, struct atsm_err *err)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c != '%' && c < 0x20)
			return fail(p, err, ATSM_ERR_INPUT, "line %u: the value of '%s' holds "
			    "the byte 0x%02X as it is (it must be written %%%02X)", p->line_no,
			    name, c, c);
		if (c != '%') {
			out[o++] = (char)c;
			continue;
		}
		hi = lo = -1;
		if (i + 2 < len) {
			hi = hexval(v[i + 1]);
			lo = hexval(v[i + 2]);
		}
		if (hi < 0 || lo < 0)
			return fail(p, err, ATSM_ERR_INPUT, "line %u: the value of '%s' has a '%%' "
			    "not followed by two upper-case hex digits", p->line_no, name);
		if (hi == 0 && lo == 0 && !nul_ok)
			return fail(p, err, ATSM_ERR_INPUT, "line %u: the value of '%s' holds a "
			    "NUL byte (%%00)", p->line_no, name);
		out[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	out[o] = '\0';
	*outlen = o;
	return 0;
}

/* A decimal number of at most max, or (when neg_ok) a '-' and at most
 * max + 1, so that a long long's whole range reads back. */
static int
number(struct atsm_filing_parser *p, const char *name, const char *v, bool neg_ok,
    unsigned long long max, unsigned long long *u, bool *neg, struct atsm_err *err)
{
	const char *s = v;
	unsigned long long x = 0;
	char show[80];

	*neg = false;
	if (neg_ok && *s == '-') {
		*neg = true;
		s++;
		max++;
	}
	if (*s == '\0')
		goto bad;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			goto bad;
		if (x > (max - (unsigned long long)(*s - '0')) / 10)
			return fail(p, err, ATSM_ERR_INPUT, "line %u: '%s' %s is out of range",
			    p->line_no, name, shown(v, strlen(v), show, sizeof(show)));
		x = x * 10 + (unsigned long long)(*s - '0');
	}
	*u = x;
	return 0;
bad:
	return fail(p, err, ATSM_ERR_INPUT, "line %u: '%s' is not a decimal number: '%s'",
	    p->line_no, name, shown(v, strlen(v), show, sizeof(show)));
}

/* Mark name as seen; a second one fails. */
static int
once(struct atsm_filing_parser *p, unsigned bit, const char *name, struct atsm_err *err)
{
	if (p->seen & bit)
		return fail(p, err, ATSM_ERR_INPUT, "line %u: '%s' is given twice", p->line_no,
		    name);
	p->seen |= bit;
	return 0;
}

static int
dup_value(struct atsm_filing_parser *p, char **dst, const char *v, size_t len,
    struct atsm_err *err)
{
	if ((*dst = malloc(len + 1)) == NULL)
		return fail(p, err, ATSM_ERR_NOMEM, "line %u: out of memory", p->line_no);
	memcpy(*dst, v, len + 1);
	return 0;
}

static int
request_field(struct atsm_filing_parser *p, const char *name, const char *v, size_t len,
    struct atsm_err *err)
{
	struct atsm_filing_request *r = &p->req;
	unsigned long long u;
	bool neg;
	size_t i;

	if (strcmp(name, "user") == 0 || strcmp(name, "mailbox") == 0) {
		bool user = name[0] == 'u';

		if (once(p, user ? F_USER : F_MAILBOX, name, err) < 0)
			return -1;
		if (len == 0)
			return fail(p, err, ATSM_ERR_INPUT, "line %u: '%s' is empty", p->line_no,
			    name);
		return dup_value(p, user ? &r->user : &r->mailbox, v, len, err);
	}
	if (strcmp(name, "how") == 0) {
		if (once(p, F_HOW, name, err) < 0)
			return -1;
		if (strcmp(v, "delivery") != 0 && strcmp(v, "append") != 0 &&
		    strcmp(v, "move") != 0) {
			char show[80];

			return fail(p, err, ATSM_ERR_INPUT, "line %u: 'how' is '%s', not "
			    "'delivery', 'append' or 'move'", p->line_no,
			    shown(v, len, show, sizeof(show)));
		}
		r->append = v[0] == 'a';
		r->move = v[0] == 'm';
		return 0;
	}
	if (strcmp(name, "owner") == 0 || strcmp(name, "message-id") == 0) {
		bool owner = name[0] == 'o';

		if (once(p, owner ? F_OWNER : F_MESSAGE_ID, name, err) < 0)
			return -1;
		if (len == 0)
			return fail(p, err, ATSM_ERR_INPUT, "line %u: '%s' is empty", p->line_no,
			    name);
		return dup_value(p, owner ? &r->owner : &r->message_id, v, len, err);
	}
	if (strcmp(name, "env-from") == 0)
		return once(p, F_ENV_FROM, name, err) < 0 ? -1 :
		    dup_value(p, &r->env_from, v, len, err);
	if (strcmp(name, "env-to") == 0)
		return once(p, F_ENV_TO, name, err) < 0 ? -1 :
		    dup_value(p, &r->env_to, v, len, err);
	if (strcmp(name, "size") == 0) {
		if (once(p, F_SIZE, name, err) < 0 ||
		    number(p, name, v, false, ULLONG_MAX, &u, &neg, err) < 0)
			return -1;
		r->size = u;
		return 0;
	}
	if (strcmp(name, "sha256") == 0) {
		if (once(p, F_SHA256, name, err) < 0)
			return -1;
		if (len >= sizeof(r->sha256) || !sha256_valid(v)) {
			char show[80];

			return fail(p, err, ATSM_ERR_INPUT, "line %u: 'sha256' is neither empty "
			    "nor 64 hex digits: '%s'", p->line_no, shown(v, len, show, sizeof(show)));
		}
		for (i = 0; i <= len; i++)
			r->sha256[i] = (char)((v[i] >= 'A' && v[i] <= 'F') ? v[i] - 'A' + 'a' : v[i]);
		return 0;
	}
	if (strcmp(name, "received") == 0) {
		if (once(p, F_RECEIVED, name, err) < 0 ||
		    number(p, name, v, true, (unsigned long long)LLONG_MAX, &u, &neg, err) < 0)
			return -1;
		/* -(LLONG_MAX + 1) has no positive twin: negate u - 1 */
		r->received_at = !neg || u == 0 ? (long long)u : -(long long)(u - 1) - 1;
		return 0;
	}
	if (strcmp(name, "uid") == 0) {
		if (once(p, F_UID, name, err) < 0 ||
		    number(p, name, v, false, UINT32_MAX, &u, &neg, err) < 0)
			return -1;
		r->uid = (unsigned long)u;
		return 0;
	}
	if (strcmp(name, "head") == 0) {
		if (once(p, F_HEAD, name, err) < 0 ||
		    number(p, name, v, false, SIZE_MAX, &u, &neg, err) < 0)
			return -1;
		if (u > p->head_max)
			return fail(p, err, ATSM_ERR_INPUT, "line %u: a head of %llu bytes is "
			    "more than this side takes (%zu)", p->line_no, u, p->head_max);
		r->head_len = (size_t)u;
		return 0;
	}
	return 0;                          /* a later version's name: skipped */
}

static int
answer_field(struct atsm_filing_parser *p, const char *name, const char *v, size_t len,
    struct atsm_err *err)
{
	struct atsm_filing_answer *a = &p->ans;
	char show[80];

	if (strcmp(name, "result") == 0) {
		if (once(p, F_RESULT, name, err) < 0)
			return -1;
		if (len == 0 || len >= sizeof(a->result))
			return fail(p, err, ATSM_ERR_INPUT, "line %u: 'result' is %s", p->line_no,
			    len == 0 ? "empty" : "longer than 31 bytes");
		memcpy(a->result, v, len + 1);
		return 0;
	}
	if (strcmp(name, "keyword") == 0) {
		if (a->n_keywords == ATSM_FILING_KEYWORDS_MAX)
			return fail(p, err, ATSM_ERR_INPUT, "line %u: more than %d keywords",
			    p->line_no, ATSM_FILING_KEYWORDS_MAX);
		if (len >= ATSM_FILING_KEYWORD_MAX || !keyword_valid(v))
			return fail(p, err, ATSM_ERR_INPUT, "line %u: keyword '%s' is not an IMAP "
			    "atom of 1 to %d bytes", p->line_no, shown(v, len, show, sizeof(show)),
			    ATSM_FILING_KEYWORD_MAX - 1);
		memcpy(a->keywords[a->n_keywords++], v, len + 1);
		return 0;
	}
	if (strcmp(name, "folder") == 0) {
		if (once(p, F_FOLDER, name, err) < 0)
			return -1;
		if (len == 0 || len >= sizeof(a->folder))
			return fail(p, err, ATSM_ERR_INPUT, "line %u: 'folder' is %s", p->line_no,
			    len == 0 ? "empty" : "longer than 511 bytes");
		memcpy(a->folder, v, len + 1);
		return 0;
	}
	if (strcmp(name, "text") == 0) {
		if (once(p, F_TEXT, name, err) < 0)
			return -1;
		if (len >= sizeof(a->text))
			return fail(p, err, ATSM_ERR_INPUT, "line %u: 'text' is longer than %d "
			    "bytes", p->line_no, ATSM_FILING_TEXT_MAX - 1);
		memcpy(a->text, v, len + 1);
		return 0;
	}
	return 0;                          /* a later version's name: skipped */
}

/* The first line: "<verb>\t<version>". */
static int
first_line(struct atsm_filing_parser *p, const char *line, size_t len, struct atsm_err *err)
{
	const char *tab = memchr(line, '\t', len);
	char show[80];
	size_t vlen;
	int i;

	if (tab == NULL)
		goto bad;
	vlen = (size_t)(tab - line);
	if (p->kind == KIND_REQUEST) {
		if (vlen != 4 || memcmp(line, "FILE", 4) != 0)
			goto bad;
	} else {
		for (i = 0; i <= ATSM_FILING_ERROR; i++)
			if (strlen(status_names[i]) == vlen && memcmp(line, status_names[i], vlen) == 0)
				break;
		if (i > ATSM_FILING_ERROR)
			goto bad;
		p->ans.status = (enum atsm_filing_status)i;
	}
	if (len - vlen - 1 != 1 || tab[1] != '0' + ATSM_FILING_VERSION)
		return fail(p, err, ATSM_ERR_INPUT, "line 1: version '%s' is not supported "
		    "(this side speaks %d)", shown(tab + 1, len - vlen - 1, show, sizeof(show)),
		    ATSM_FILING_VERSION);
	return 0;
bad:
	return fail(p, err, ATSM_ERR_INPUT, "line 1: '%s' is not %s", shown(line, len, show,
	    sizeof(show)), p->kind == KIND_REQUEST ? "a request (FILE<TAB>1)" :
	    "an answer (OK, TEMPFAIL or ERROR, <TAB>1)");
}

/* The empty line: the names are all in. */
static int
end_of_lines(struct atsm_filing_parser *p, struct atsm_err *err)
{
	size_t i;

	if (p->kind == KIND_ANSWER) {
		if (!(p->seen & F_RESULT))
			return fail(p, err, ATSM_ERR_INPUT, "line %u (end of the answer): "
			    "'result' is missing", p->line_no);
		p->state = ST_DONE;
		return 0;
	}
	for (i = 0; i < sizeof(request_required) / sizeof(request_required[0]); i++)
		if (!(p->seen & request_required[i].bit))
			return fail(p, err, ATSM_ERR_INPUT, "line %u (end of the request): "
			    "'%s' is missing", p->line_no, request_required[i].name);
	if (p->req.head_len == 0) {
		p->state = ST_DONE;
		return 0;
	}
	if ((p->req.head = malloc(p->req.head_len)) == NULL)
		return fail(p, err, ATSM_ERR_NOMEM, "out of memory for a head of %zu bytes",
		    p->req.head_len);
	p->state = ST_HEAD;
	return 0;
}

static bool
known_name(enum filing_kind kind, const char *name)
{
	static const char *const req[] = { "user", "mailbox", "how", "env-from", "env-to",
	    "size", "sha256", "received", "uid", "head", "owner", "message-id", NULL };
	static const char *const ans[] = { "result", "keyword", "folder", "text", NULL };
	const char *const *n;

	for (n = kind == KIND_REQUEST ? req : ans; *n != NULL; n++)
		if (strcmp(*n, name) == 0)
			return true;
	return false;
}

/* One complete line (without its LF): p->line, p->line_len. */
static int
take_line(struct atsm_filing_parser *p, struct atsm_err *err)
{
	char *line = p->line, *tab, *v, show[80];
	size_t len = p->line_len, nlen, vlen = 0;
	size_t i;

	p->line_no++;
	if (p->line_no > ATSM_FILING_LINES_MAX)
		return fail(p, err, ATSM_ERR_INPUT, "line %u: more than %d lines", p->line_no,
		    ATSM_FILING_LINES_MAX);
	if (p->line_no == 1)
		return first_line(p, line, len, err);
	if (len == 0)
		return end_of_lines(p, err);
	tab = memchr(line, '\t', len);
	if (tab == NULL)
		return fail(p, err, ATSM_ERR_INPUT, "line %u: no TAB between name and value: '%s'",
		    p->line_no, shown(line, len, show, sizeof(show)));
	nlen = (size_t)(tab - line);
	for (i = 0; i < nlen; i++)
		if (!((line[i] >= 'a' && line[i] <= 'z') || (line[i] >= '0' && line[i] <= '9') ||
		    (line[i] == '-' && i > 0)))
			break;
	if (nlen == 0 || i < nlen)
		return fail(p, err, ATSM_ERR_INPUT, "line %u: '%s' is not a name (lower-case "
		    "letters, digits, '-')", p->line_no, shown(line, nlen, show, sizeof(show)));
	*tab = '\0';
	v = tab + 1;
	/* Decoded in place (an escape is 3 bytes for 1).  Only the names this
	 * side knows are C strings: a later version's may hold %00. */
	if (unescape(p, line, v, len - nlen - 1, v, &vlen, !known_name(p->kind, line), err) < 0)
		return -1;
	return p->kind == KIND_REQUEST ? request_field(p, line, v, vlen, err) :
	    answer_field(p, line, v, vlen, err);
}

/* ---- feeding -------------------------------------------------------------- */

static long
feed(struct atsm_filing_parser *p, enum filing_kind kind, const void *buf, size_t len,
    struct atsm_err *err)
{
	const char *b = buf, *lf;
	size_t used = 0, n;

	if (p->state == ST_FAILED) {
		if (err != NULL)
			*err = p->failure;
		return -1;
	}
	if (p->kind == KIND_NONE)
		p->kind = kind;
	else if (p->kind != kind)
		return fail(p, err, ATSM_ERR_INTERNAL, "the parser was fed %s but is reading %s "
		    "(reset it first)", kind == KIND_REQUEST ? "a request" : "an answer",
		    p->kind == KIND_REQUEST ? "a request" : "an answer");
	if (len > LONG_MAX)
		len = LONG_MAX;
	while (used < len && p->state != ST_DONE) {
		if (p->state == ST_HEAD) {
			n = p->req.head_len - p->head_have;
			if (n > len - used)
				n = len - used;
			memcpy(p->req.head + p->head_have, b + used, n);
			p->head_have += n;
			used += n;
			if (p->head_have == p->req.head_len)
				p->state = ST_DONE;
			continue;
		}
		/* ST_LINES: up to the LF, at most what the line may still take */
		n = len - used;
		lf = memchr(b + used, '\n', n);
		if (lf != NULL)
			n = (size_t)(lf - (b + used));
		if (n > sizeof(p->line) - 1 - p->line_len)
			return fail(p, err, ATSM_ERR_INPUT, "line %u is longer than %d bytes",
			    p->line_no + 1, ATSM_FILING_LINE_MAX);
		memcpy(p->line + p->line_len, b + used, n);
		p->line_len += n;
		used += n;
		if (lf == NULL)
			break;
		used++;                    /* the LF */
		if (take_line(p, err) < 0)
			return -1;
		p->line_len = 0;
	}
	return (long)used;
}

long
atsm_filing_request_feed(struct atsm_filing_parser *p, const void *buf, size_t len,
    struct atsm_err *err)
{
	return feed(p, KIND_REQUEST, buf, len, err);
}

long
atsm_filing_answer_feed(struct atsm_filing_parser *p, const void *buf, size_t len,
    struct atsm_err *err)
{
	return feed(p, KIND_ANSWER, buf, len, err);
}

bool
atsm_filing_request_done(const struct atsm_filing_parser *p)
{
	return p->state == ST_DONE && p->kind == KIND_REQUEST;
}

bool
atsm_filing_answer_done(const struct atsm_filing_parser *p)
{
	return p->state == ST_DONE && p->kind == KIND_ANSWER;
}

const struct atsm_filing_request *
atsm_filing_request_get(const struct atsm_filing_parser *p)
{
	return atsm_filing_request_done(p) ? &p->req : NULL;
}

const struct atsm_filing_answer *
atsm_filing_answer_get(const struct atsm_filing_parser *p)
{
	return atsm_filing_answer_done(p) ? &p->ans : NULL;
}
