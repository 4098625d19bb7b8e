/* mail/mime.h -- bounded MIME structure parser over a message in memory.
 *
 * atsm_mime_parse() reads a whole message (const char *, length; it need not
 * be NUL-terminated and may hold NUL bytes) into a flat, pre-order array of
 * parts: v[0] is the message itself, every multipart child, and the message
 * inside a message/rfc822 or text/rfc822-headers part, follow their parent.
 * Each part has its header fields (unfolded copies, names compared
 * case-insensitively), its Content-Type split into a lower-case type,
 * charset and boundary, its Content-Transfer-Encoding, and its raw body as a
 * pointer into the caller's message (which must outlive the result) or into
 * memory the result owns when an embedded message had to be decoded first.
 *
 * Malformed input never fails the parse: a missing closing boundary ends the
 * multipart at the end of its parent, line ends may be CRLF, LF or CR alone,
 * NUL bytes in header fields become spaces, a part beyond a limit is not
 * made and m->truncated says so.  Nothing past msg[len-1] is read.  Memory
 * is bounded by the limits (parts, depth, header bytes, fields per part).
 *
 * atsm_mime_body_decode() undoes base64 / quoted-printable (7bit, 8bit,
 * binary and unknown encodings pass as they are; bad base64 characters are
 * skipped); atsm_mime_body_text() then converts the declared (or guessed)
 * charset to UTF-8.  Thread-safe: no shared state.
 */
#ifndef ATSM_MIME_PARSE_H
#define ATSM_MIME_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

/* Defaults used for a zero field of struct atsm_mime_limits. */
#define ATSM_MIME_MAX_PARTS 256           /* parts in one message, all levels */
#define ATSM_MIME_MAX_DEPTH 12            /* nesting of multiparts / messages */
#define ATSM_MIME_MAX_HEADER_BYTES (256u * 1024u) /* one header block */
#define ATSM_MIME_MAX_FIELDS 500          /* header fields kept per part */
/* Longest boundary RFC 2046 allows is 70; allow some sloppiness. */
#define ATSM_MIME_BOUNDARY_MAX 200
/* Bytes of decoded embedded messages (base64 message/rfc822) kept. */
#define ATSM_MIME_MAX_OWNED (4u * 1024u * 1024u)

struct atsm_mime_limits {
	size_t max_parts;
	size_t max_depth;
	size_t max_header_bytes;
	size_t max_fields;
};

struct atsm_mime_field {
	char *name;      /* as written (no colon, no trailing white space) */
	char *value;     /* unfolded: CR/LF removed, leading white space trimmed,
			  * NUL bytes replaced by spaces; raw (not RFC 2047 decoded) */
	size_t value_len;
};

struct atsm_mime_headers {
	size_t n;
	struct atsm_mime_field *v;
	bool truncated;  /* fields or bytes beyond a limit were dropped */
};

enum atsm_mime_kind {
	ATSM_MIME_LEAF = 0,     /* anything with a body of its own */
	ATSM_MIME_MULTIPART,    /* children are the body parts */
	ATSM_MIME_MESSAGE,      /* message/rfc822 (or global): one child, the message */
	ATSM_MIME_HEADERS       /* text/rfc822-headers: one child, headers only */
};

struct atsm_mime_part {
	struct atsm_mime_headers hdr;
	enum atsm_mime_kind kind;
	char type[96];       /* "text/plain", lower-case; the default when absent */
	char charset[64];    /* lower-case charset parameter, "" when none */
	char *boundary;      /* multipart boundary parameter, or NULL */
	char cte[32];        /* lower-case Content-Transfer-Encoding, "" = 7bit */
	const char *header;  /* the raw header block */
	size_t header_len;
	const char *body;    /* the raw (still encoded) body */
	size_t body_len;
	int parent;          /* index in the message's v, -1 for v[0] */
	unsigned depth;      /* 0 for v[0] */
	bool unterminated;   /* multipart without its closing boundary */
};

struct atsm_mime_msg {
	size_t n;
	struct atsm_mime_part *v;
	bool truncated;      /* a limit stopped part of the structure */
	void *owned;         /* decoded embedded messages (internal) */
	size_t owned_len;    /* their bytes, at most ATSM_MIME_MAX_OWNED */
};

/* Parse len bytes at msg into out (initialised by the call; free it with
 * atsm_mime_free in every case).  lim may be NULL (all defaults).  Returns
 * 0, or -1 with err only when memory runs out; malformed input is not an
 * error.  out keeps pointers into msg. */
int atsm_mime_parse(const char *msg, size_t len,
    const struct atsm_mime_limits *lim, struct atsm_mime_msg *out,
    struct atsm_err *err);
void atsm_mime_free(struct atsm_mime_msg *m);

/* Parse one header block (up to the first empty line, or all of len) into
 * h (initialised by the call; free with atsm_mime_headers_free).  *body_at
 * (if not NULL) receives the offset of the first byte after the empty line.
 * max_bytes/max_fields of 0 mean the defaults.  0, or -1 on memory. */
int atsm_mime_headers_parse(const char *p, size_t len, size_t max_bytes,
    size_t max_fields, struct atsm_mime_headers *h, size_t *body_at);
void atsm_mime_headers_free(struct atsm_mime_headers *h);

/* The unfolded value of the first field called name (case-insensitive), or
 * NULL. */
const char *atsm_mime_header(const struct atsm_mime_headers *h,
    const char *name);
/* Iterate over every field called name (NULL: every field): start with
 * *iter = 0; returns NULL at the end. */
const struct atsm_mime_field *atsm_mime_header_next(
    const struct atsm_mime_headers *h, const char *name, size_t *iter);
/* Append the first field called name, RFC 2047-decoded to UTF-8, to out.
 * 1 when found, 0 when absent, -1 when out's limit was reached. */
int atsm_mime_header_decoded(const struct atsm_mime_headers *h,
    const char *name, struct atsm_buf *out);

/* Index of the i-th child (0-based) of part p in m, or -1. */
int atsm_mime_child(const struct atsm_mime_msg *m, size_t p, size_t i);

/* Append the body of part, with its transfer encoding undone, to out.
 * 0, or -1 when out's limit was reached (out holds what fit). */
int atsm_mime_body_decode(const struct atsm_mime_part *part,
    struct atsm_buf *out);
/* As atsm_mime_body_decode, then converted from the part's charset (or a
 * guessed one) to UTF-8; NUL bytes become U+FFFD. */
int atsm_mime_body_text(const struct atsm_mime_part *part,
    struct atsm_buf *out);

/* Transfer decodings on their own (append to out; 0 or -1 on the limit). */
int atsm_mime_base64_decode(const char *in, size_t len, struct atsm_buf *out);
int atsm_mime_qp_decode(const char *in, size_t len, struct atsm_buf *out);

#endif
