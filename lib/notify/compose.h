/* notify/compose.h -- a notification: the mail atsmail writes itself to
 * tell someone something (docs/notifications.md), from its kind, its
 * language and its params (the JSON object of atsmail.notifications).
 *
 * Pure: everything that varies (the time, the unique part of the
 * Message-ID, the marker's token) is given by the caller, so the same
 * input always gives the same bytes.  The result is an RFC 5322 message
 * with CRLF line ends, ready for SMTP DATA (dot-stuffing is the sender's):
 *
 *	From notify_from, To the person, Subject in their language (RFC 2047
 *	encoded words of UTF-8), Date, a fresh Message-ID,
 *	Auto-Submitted: auto-generated (RFC 3834: no vacation responder
 *	answers it), X-ATS-Notification: <kind>[; ref=<token>] (the milter
 *	keeps it when the token is genuine; inbound filing and the bounce
 *	path queue nothing for a mail that carries it), one text/plain part
 *	in UTF-8, base64 (a preview may hold lines of any length).
 *	approval.request and approval.reminder carry Reply-To: approve_addr,
 *	so that a reply approves.
 *
 * Every param is text put into a sentence: line breaks and other control
 * characters of a value become spaces in the Subject and in one-line
 * fields (no header can be added through a value); only "preview" and
 * "reason" keep their lines, inside the body.  A value is cut (at a whole
 * character) at ATSM_NOTIFY_VALUE_MAX bytes, a preview at
 * ATSM_NOTIFY_PREVIEW_MAX.
 *
 * A site's own text (notify/own-text.h), when the caller found one, is
 * merged in place of the built-in subject and body; a template that cannot
 * merge (a tag without a value under "refuse", a syntax fault, a limit)
 * never loses the notification: the built-in text is sent and the fault
 * is handed back for the log.
 */
#ifndef ATSM_NOTIFY_COMPOSE_H
#define ATSM_NOTIFY_COMPOSE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/lang.h"
#include "notify/own-text.h"

#define ATSM_NOTIFY_MARKER "X-ATS-Notification"
#define ATSM_NOTIFY_MAIL_MAX (1024u * 1024u)       /* bytes of a composed mail */
#define ATSM_NOTIFY_VALUE_MAX 2048u               /* bytes of one param quoted */
#define ATSM_NOTIFY_PREVIEW_MAX (16u * 1024u)     /* bytes of a preview or reason */

struct atsm_notify_in {
	const char *kind;          /* "intake.duplicate", ... (atsm_notify_kind_known) */
	enum atsm_lang lang;
	const char *params;        /* the JSON object (text) of its params */
	const char *from;          /* notify_from: "atsmail <postmaster@example.com>" */
	const char *to;            /* the person's address (bare) */
	long long id;              /* atsmail.notifications.id: in the Message-ID */
	long long now;             /* unix time (Date) */
	const char *unique;        /* [A-Za-z0-9.-], unique per mail: the Message-ID */
	const char *token;         /* the marker's ref= token; NULL: none */
	const struct atsm_notify_tpl *tpl;   /* the site's text in lang; NULL: built-in */
};

/* Compose into out (reset first).  0, or -1 with err (ATSM_ERR_INPUT):
 * an unknown kind, params that are no JSON object, a param the kind needs
 * that is absent or not text, a number, true or false (null is empty
 * text), a line break in from, to, unique or token, an address param of a
 * Reply-To that is not one bare address, or out's limit. */
int atsm_notify_compose(const struct atsm_notify_in *in, struct atsm_buf *out,
    struct atsm_err *err);

/* The same; when in->tpl is given and cannot be merged, the mail has the
 * built-in text and tpl_fault (if not NULL) says why (its cls is
 * ATSM_ERR_NONE when the template was used or none was given). */
int atsm_notify_compose_tpl(const struct atsm_notify_in *in, struct atsm_buf *out,
    struct atsm_err *tpl_fault, struct atsm_err *err);

/* Whether atsmail writes this kind; the kinds, NULL-terminated. */
bool atsm_notify_kind_known(const char *kind);
const char *const *atsm_notify_kinds(void);

#endif
