/* mail/dsn/dsn.h -- is a message a bounce, and what failed.
 *
 * atsm_dsn_parse() reads a whole message in memory and tells whether it is
 * a delivery status notification (RFC 3464 multipart/report;
 * report-type=delivery-status, or one of the common non-standard formats:
 * qmail, Exim, Postfix, Sendmail, Exchange / Office 365, Gmail, Yahoo,
 * Amazon SES, Japanese carriers, Courier, Domino, bare "550 ... user
 * unknown" lines) and, for every failed or delayed recipient, its address
 * (normalised with atsm_addr_normalize), status code (X.Y.Z), hard or soft
 * class, diagnostic text (UTF-8, bounded) and action.  When the bounce
 * carries the original message (message/rfc822, text/rfc822-headers or an
 * inline copy after "----- Original message -----") its Message-ID,
 * envelope sender (Return-Path), X-ATS-Ref and a few headers are returned:
 * the Dovecot plugin finds the sent item by them (or by a VERP recipient).
 *
 * Every recipient gets a reason (userunknown, hostunknown, mailboxfull,
 * filtered, policyviolation, spamdetected, blocked, expired, ...); "hard"
 * is derived from the reason and the status together and means the
 * address itself is dead (user unknown with evidence, host unknown,
 * moved, domain accepts no mail): flag it.  Everything else that failed
 * (mailbox full, blocked as spam, policy, expired in the queue) is soft.
 * A recipient whose Action is "delayed" is kept with delayed set: a delay
 * is no bounce (is_bounce stays false when every recipient is delayed;
 * is_delay is set then).  Success reports (2.x.x, delivered / relayed /
 * expanded) and auto-replies are no bounce.  The rules are in
 * docs/bounces.md.
 *
 * Feedback reports (ARF, report-type=feedback-report) are not bounces:
 * is_feedback is set and n is 0.  Thread-safe: no shared state.
 */
#ifndef ATSM_DSN_H
#define ATSM_DSN_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

/* Failed recipients kept from one bounce (a report may list thousands). */
#define ATSM_DSN_MAX_RCPTS 100
/* Diagnostic text kept per recipient, bytes of UTF-8. */
#define ATSM_DSN_DIAG_MAX 1000
/* Bytes of a decoded text part scanned for non-standard formats. */
#define ATSM_DSN_TEXT_MAX (256u * 1024u)
/* Longest original header value kept (Message-ID, Subject, ...). */
#define ATSM_DSN_HEADER_MAX 998

struct atsm_dsn_rcpt {
	char *addr;          /* normalised address */
	char status[16];     /* "5.1.1", "" when unknown */
	bool hard;           /* the address is dead (see above) */
	char *diagnostic;    /* UTF-8, at most ATSM_DSN_DIAG_MAX bytes, or NULL */
	char action[16];     /* "failed", "delayed", ... (lower-case) */
	char reason[16];     /* "userunknown", "mailboxfull", "blocked", ...
	                      * (the set: docs/bounces.md) */
	bool delayed;        /* Action: delayed -- a delay notice, not a
	                      * failure: never hard, never a bounce */
};

struct atsm_dsn {
	bool is_bounce;          /* at least one recipient failed (not delayed) */
	bool is_feedback;
	bool is_delay;           /* a delay notice: every recipient delayed */
	size_t n;
	struct atsm_dsn_rcpt *v;
	char *orig_message_id;   /* "<id@host>" as written, or NULL */
	char *orig_env_from;     /* normalised Return-Path of the original, or NULL */
	char *orig_ats_ref;      /* X-ATS-Ref of the original, or NULL */
	char *orig_from;         /* From of the original (raw), or NULL */
	char *orig_to;           /* To of the original (raw), or NULL */
	char *orig_subject;      /* Subject of the original, UTF-8, or NULL */
	char *orig_env_id;       /* Original-Envelope-Id of a DSN, or NULL */
	const char *format;      /* "rfc3464", "qmail", "exim", ... (static) */
};

/* Parse len bytes at msg (NUL bytes allowed, nothing past msg[len-1] read)
 * into out (initialised by the call; free with atsm_dsn_free in every
 * case).  Returns 0 (out->is_bounce says whether it is one), or -1 with err
 * when memory runs out. */
int atsm_dsn_parse(const char *msg, size_t len, struct atsm_dsn *out,
    struct atsm_err *err);
void atsm_dsn_free(struct atsm_dsn *d);

/* The class of a failure from its status code (may be NULL or "") and its
 * diagnostic text (may be NULL): writes a reason name into reason (at
 * least 16 bytes) and returns true when the failure is hard. */
bool atsm_dsn_classify(const char *status, const char *text, char *reason);

#endif
