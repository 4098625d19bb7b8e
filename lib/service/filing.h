/* service/filing.h -- the filing protocol between the Dovecot plugin and
 * atsmaild: one request per mail that reaches a mailbox, one answer.
 *
 * The plugin is a thin client: it reads the mail, sends what the service
 * needs, and applies the IMAP keywords the answer names.  It holds no
 * database login, no secret and no journal.  The protocol is text lines
 * over a unix stream socket, one request at a time per connection,
 * connections kept open and reused (docs/filing-protocol.md):
 *
 *	request                            answer
 *	FILE\t1\n                          OK\t1\n   (or TEMPFAIL\t1\n, or ERROR\t1\n)
 *	user\t<value>\n                    result\t<filed|ignored|duplicate|...>\n
 *	mailbox\t<value>\n                 keyword\t$ATS\n        (0 to 8 times)
 *	how\tdelivery | append | move\n    folder\t<value>\n      (optional: file it there)
 *	owner\t<value>\n      (optional)   text\t<value>\n        (what happened, for the log)
 *	message-id\t<value>\n (optional)   \n
 *	env-from\t<value>\n   (optional)
 *	env-to\t<value>\n     (optional)
 *	size\t<decimal>\n
 *	sha256\t<64 hex>\n
 *	received\t<unix time>\n
 *	uid\t<decimal>\n      (optional)
 *	head\t<decimal n>\n
 *	\n
 *	<n bytes: the first bytes of the message>
 *
 * Values are escaped: '%' followed by two upper-case hex digits stands
 * for a byte; '%', TAB, LF, CR, NUL and the other bytes below 0x20 must be
 * written so, all others may be written as they are.  Names are lower
 * case ASCII; a name the reader does not know is skipped (later versions
 * may add some); a missing required one is an error.  Limits: a line is
 * at most ATSM_FILING_LINE_MAX bytes, a request has at most
 * ATSM_FILING_LINES_MAX lines, head at most the parser's limit.
 *
 * OK: the mail is filed (or needs no filing, or was filed before): the
 * plugin stores it with the keywords.  TEMPFAIL: the service could not
 * decide or could not journal it: the plugin fails the delivery with a
 * temporary error (LMTP 4.x.x, Postfix retries) or the APPEND (NO
 * [UNAVAILABLE]).  ERROR: the request was malformed (a bug): the plugin
 * logs the text at error level and treats it as TEMPFAIL.
 *
 * Both sides use the same codec: pure functions, no I/O.  The parsers are
 * incremental (feed what was read; they say when a whole request or
 * answer is in) and bounded; they are fuzzed (tests/fuzz/fuzz-filing.c).
 */
#ifndef ATSM_SERVICE_FILING_H
#define ATSM_SERVICE_FILING_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

#define ATSM_FILING_VERSION 1
#define ATSM_FILING_LINE_MAX 4096
#define ATSM_FILING_LINES_MAX 64
#define ATSM_FILING_KEYWORDS_MAX 8
#define ATSM_FILING_KEYWORD_MAX 32       /* bytes of one keyword, NUL included */
#define ATSM_FILING_TEXT_MAX 1024        /* bytes of the answer's text, NUL included */
#define ATSM_FILING_FOLDER_MAX 512       /* bytes of the answer's folder, NUL included */

struct atsm_filing_request {
	bool append;                  /* how: IMAP APPEND (else LMTP/LDA delivery) */
	bool move;                    /* how: a member's COPY/MOVE into a folder of a
	                                 shared mailbox (docs/shared-mailboxes.md) */
	char *owner;                  /* the Dovecot user whose mailbox it is, when not
	                                 user (a shared namespace); NULL = user */
	char *message_id;             /* Message-ID header value (move: no head is sent) */
	char *user;                   /* Dovecot user name */
	char *mailbox;                /* mailbox name */
	char *env_from;               /* NULL = unknown, "" = the null sender */
	char *env_to;                 /* NULL = unknown */
	unsigned long long size;      /* of the whole message */
	char sha256[65];              /* hex of the whole message, "" = unknown */
	long long received_at;        /* unix time */
	unsigned long uid;            /* IMAP UID, 0 = unknown */
	unsigned char *head;          /* the first head_len bytes of the message */
	size_t head_len;
};

enum atsm_filing_status {
	ATSM_FILING_OK,
	ATSM_FILING_TEMPFAIL,
	ATSM_FILING_ERROR
};

struct atsm_filing_answer {
	enum atsm_filing_status status;
	char result[32];              /* "filed", "ignored", "duplicate", ... */
	size_t n_keywords;
	char keywords[ATSM_FILING_KEYWORDS_MAX][ATSM_FILING_KEYWORD_MAX];
	char text[ATSM_FILING_TEXT_MAX];
	/* a delivery: the folder of the same account to file the mail in
	 * instead ("" = where it is; a shared mailbox's 未対応/alice) */
	char folder[ATSM_FILING_FOLDER_MAX];
};

/* Append the encoded request / answer to out.  0, or -1 with err (a
 * field too long, out full). */
int atsm_filing_request_encode(const struct atsm_filing_request *r, struct atsm_buf *out,
    struct atsm_err *err);
int atsm_filing_answer_encode(const struct atsm_filing_answer *a, struct atsm_buf *out,
    struct atsm_err *err);

/* Incremental parsers.  feed() takes len bytes and returns how many it
 * used (it stops right after a complete request or answer, so bytes of
 * the next one stay with the caller), or -1 with err (malformed: the
 * message names the line and what is wrong; the connection is then of no
 * further use).  done() is true once a whole request / answer is in; it
 * is then in r / a until reset(). */
struct atsm_filing_parser;
struct atsm_filing_parser *atsm_filing_parser_new(size_t head_max);
void atsm_filing_parser_free(struct atsm_filing_parser *p);
void atsm_filing_parser_reset(struct atsm_filing_parser *p);
long atsm_filing_request_feed(struct atsm_filing_parser *p, const void *buf, size_t len,
    struct atsm_err *err);
bool atsm_filing_request_done(const struct atsm_filing_parser *p);
/* The parsed request, owned by the parser (valid until reset/free). */
const struct atsm_filing_request *atsm_filing_request_get(const struct atsm_filing_parser *p);

long atsm_filing_answer_feed(struct atsm_filing_parser *p, const void *buf, size_t len,
    struct atsm_err *err);
bool atsm_filing_answer_done(const struct atsm_filing_parser *p);
const struct atsm_filing_answer *atsm_filing_answer_get(const struct atsm_filing_parser *p);

#endif
