/* mail/autoreply.h -- is a message an automatic reply, is a sender a daemon.
 *
 * atsm_autoreply_detect() looks at the top-level headers of a parsed
 * message (mail/mime.h): Auto-Submitted other than "no" (RFC 3834),
 * X-Autoreply, X-Autorespond, Precedence auto_reply / bulk / junk / list,
 * Microsoft's X-MS-Exchange-Inbox-Rules-Loop / X-Auto-Response-Suppress
 * set by an OOF, and auto-reply subjects ("Out of Office", "Automatic
 * reply", "自動返信", "自動応答", "不在", "休暇", "vacation", ...) after
 * RFC 2047 decoding.  env_from (the envelope sender, may be NULL) that is
 * empty ("<>") or a mailer-daemon also counts.  The rule that matched is
 * appended to reason (may be NULL) as a short sentence.
 *
 * atsm_mailer_daemon() tells whether an address is a system sender that
 * must never get an answer or create a record: the null sender, or a local
 * part such as MAILER-DAEMON, postmaster, bounce(s), no-reply.
 * The rules are in docs/inbound-classification.md.  Thread-safe.
 */
#ifndef ATSM_AUTOREPLY_H
#define ATSM_AUTOREPLY_H

#include <stdbool.h>

#include "base/buf.h"
#include "mail/mime.h"

bool atsm_autoreply_detect(const struct atsm_mime_msg *m,
    const char *env_from, struct atsm_buf *reason);

/* addr may be NULL, "", "<>", "<addr>" or a bare address. */
bool atsm_mailer_daemon(const char *addr);

#endif
