/* explain/compose.h -- the explanation mail: what a recruiter whose mail
 * atsmail refused receives in their own mailbox (docs/refusal-mail.md).
 *
 * Pure: everything that varies (the time, the unique part of the
 * Message-ID, the marker's value) is given by the caller, so the same
 * input always gives the same bytes.  The result is an RFC 5322 message
 * with CRLF line ends, ready for SMTP DATA (dot-stuffing is the sender's):
 *
 *	From explain_from, To the recruiter, a Subject in their language that
 *	says the mail was refused (RFC 2047, UTF-8), Auto-Submitted:
 *	auto-replied (RFC 3834), the marker ATSM_EXPLAIN_MARKER, a fresh
 *	Message-ID; multipart/mixed of
 *	  text/plain   what is wrong, how to fix it, that the mail was NOT
 *	               sent and where it is (attached, or still in the
 *	               client); Japanese in ISO-2022-JP (what Japanese mail
 *	               clients expect), UTF-8 when a character has no JIS
 *	               code; English in us-ascii or UTF-8
 *	  the refused mail as message/rfc822, or only its headers as
 *	  text/rfc822-headers when it was cut at explain_attach_max
 *
 * No In-Reply-To or References: the explanation must not thread into a
 * recorded conversation (the inbound decision would file it there).
 */
#ifndef ATSM_EXPLAIN_COMPOSE_H
#define ATSM_EXPLAIN_COMPOSE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/lang.h"

/* The header that marks atsmail's own explanation (with Auto-Submitted):
 * atsmaild passes a mail that carries it with a valid token untouched. */
#define ATSM_EXPLAIN_MARKER "X-ATS-Explanation"
#define ATSM_EXPLAIN_MAIL_MAX (128u * 1024u * 1024u)   /* bytes of a composed mail */

struct atsm_explain_in {
	enum atsm_lang lang;
	const char *from;          /* explain_from: "atsmail <postmaster@example.com>" */
	const char *to;            /* the recruiter's address (bare) */
	const char *what;          /* atsm_refusal_render: what is wrong (UTF-8) */
	const char *fix;           /* how to fix it; "" or NULL: nothing to add */
	const char *addr;          /* the command address concerned; "" or NULL: none */
	/* the refused mail's headers, raw as sent (Subject decoded here); NULL
	 * when absent */
	const char *subject;
	const char *message_id;
	const char *date;
	long long now;             /* unix time of the explanation (Date) */
	const char *unique;        /* [A-Za-z0-9.-], unique per explanation: the
	                              Message-ID's left part and the MIME boundary */
	const char *marker;        /* the marker header's value ("refused; ref=...") */
	/* the refused mail as received; NULL: the client still holds it */
	const char *mail;
	size_t mail_len;
	bool mail_cut;             /* mail is its first attach_max bytes only */
	size_t attach_max;         /* explain_attach_max, for the sentence */
};

/* Compose into out (reset first).  0, or -1 with err: a header value that
 * holds a line break (from, to, marker, unique), a missing field, or
 * out's limit. */
int atsm_explain_compose(const struct atsm_explain_in *in, struct atsm_buf *out,
    struct atsm_err *err);

/* The address of explain_from ("Name <a@b>" or "a@b"): its domain, for
 * the Message-ID, into dom.  0, or -1 when it holds no domain. */
int atsm_explain_from_domain(const char *from, char *dom, size_t size);

#endif
