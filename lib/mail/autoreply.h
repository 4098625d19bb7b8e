/* mail/autoreply.h -- is a message an automatic reply, is a sender a daemon.
 *
 * atsm_autoreply_detect() looks at the top-level headers of a parsed
 * message (mail/mime.h), what the sending software declares first and
 * habits after (docs/inbound-classification.md "Auto-replies"):
 * Auto-Submitted other than "no" (RFC 3834), X-Autoreply, X-Autorespond,
 * X-Autoresponder, Precedence: auto_reply, Exchange's
 * X-MS-Exchange-Inbox-Rules-Loop, Precedence: bulk / junk on an answer
 * (vacation(1)), a message that names no person (its From a system
 * sender, its Reply-To none or one too; without a From, a null or system
 * envelope sender), and auto-reply subjects ("Automatic reply:", "Out of
 * Office", "自動返信", "自動応答", "不在", ...) after RFC 2047 decoding,
 * unless the subject starts as a person's answer or forward does ("Re:",
 * "Fwd:", "返信:").  Not a marker by itself: X-Auto-Response-Suppress
 * (Outlook and Exchange set it on ordinary mail too), and the envelope
 * sender when From or Reply-To names a person (a job board or a web form
 * relays a person's mail from noreply@ or bounce@).  The rule that matched
 * is appended to reason (may be NULL) as a short sentence.
 *
 * atsm_mailer_daemon() tells whether an address is a system sender that
 * must never get an answer or create a record: the null sender, or a local
 * part such as MAILER-DAEMON, postmaster, bounce(s), no-reply.
 * Thread-safe.
 */
#ifndef ATSM_AUTOREPLY_H
#define ATSM_AUTOREPLY_H

#include <stdbool.h>

#include "base/buf.h"
#include "mail/mime.h"

bool atsm_autoreply_detect(const struct atsm_mime_msg *m,
    const char *env_from, struct atsm_buf *reason);

/* The auto-reply subject rule alone, on header block h. */
/* An Auto-Submitted value that says the mail was generated: anything but
 * "no" (RFC 3834 3.1.7; a comment may follow it). */
bool atsm_auto_submitted(const char *value);
bool atsm_autoreply_subject(const struct atsm_mime_headers *h, struct atsm_buf *reason);

/* Does the header value (From, Reply-To: an address list) name a person:
 * an address that is not a system sender?  NULL names nobody. */
bool atsm_names_person(const char *value);

/* Does h contain n, ASCII case ignored? */
bool atsm_ci_contains(const char *h, const char *n);

/* Append to reason (when not NULL) what decided, and the value that did
 * (cut at 80 bytes; NULL: none); returns true, so that a rule can
 * "return atsm_mail_because(...)".  Shared by the kinds of mail. */
bool atsm_mail_because(struct atsm_buf *reason, const char *what, const char *val);

/* addr may be NULL, "", "<>", "<addr>" or a bare address. */
bool atsm_mailer_daemon(const char *addr);

#endif
