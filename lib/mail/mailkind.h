/* mail/mailkind.h -- what kind of mail a message is, by its standard
 * headers and documented habits: a read receipt (MDN), list mail, an
 * automatic reply, or a person's mail.
 *
 * atsm_mail_kind() reads the parsed message (mail/mime.h) in one order,
 * strongest evidence first (docs/inbound-classification.md "Kinds of
 * mail"):
 *
 *	1. MDN        RFC 8098: multipart/report; report-type=
 *	              disposition-notification, a message/(global-)
 *	              disposition-notification part, Exchange's
 *	              Content-Class urn:content-classes:mdn
 *	2. list       RFC 2919 List-Id, RFC 2369 List-Post / -Help /
 *	              -Subscribe / -Owner / -Archive, Precedence: list, the
 *	              headers of list software (Mailman, Google Groups, fml,
 *	              mailman-jp, ezmlm, Sympa); Precedence: bulk / junk on
 *	              mail that answers nothing
 *	3. auto-reply RFC 3834 and habits (mail/autoreply.h)
 *	4. personal   anything else
 *
 * Bounces and feedback reports are the DSN reader's (mail/dsn/dsn.h) and
 * are decided before this.  The rule that decided is appended to reason
 * (may be NULL).  Only the top-level headers count, and for an MDN the
 * report's parts: a forwarded MDN or list post inside a message/rfc822
 * part does not make the outer message one.  Thread-safe.
 */
#ifndef ATSM_MAIL_MAILKIND_H
#define ATSM_MAIL_MAILKIND_H

#include <stdbool.h>

#include "base/buf.h"
#include "mail/mime.h"

enum atsm_mail_kind {
	ATSM_MAIL_PERSONAL = 0,   /* a person's mail: it may fire phase rules */
	ATSM_MAIL_MDN,            /* a read receipt: not a reply */
	ATSM_MAIL_LIST,           /* list or bulk mail: filed only inside a thread */
	ATSM_MAIL_AUTOREPLY       /* an automatic reply: filed, no phase rule */
};

/* "personal", "mdn", "list", "auto-reply". */
const char *atsm_mail_kind_name(enum atsm_mail_kind k);

/* The kind of m; env_from is the envelope sender (NULL when unknown). */
enum atsm_mail_kind atsm_mail_kind(const struct atsm_mime_msg *m, const char *env_from,
    struct atsm_buf *reason);

/* Is m an MDN (rule 1 above)?  The rule that matched goes to reason. */
bool atsm_mdn_detect(const struct atsm_mime_msg *m, struct atsm_buf *reason);

/* The Original-Message-ID of an MDN's disposition part ("<id>" as
 * written, trimmed), appended to out: 1 found, 0 not (out untouched). */
int atsm_mdn_original_id(const struct atsm_mime_msg *m, struct atsm_buf *out);

/* Is m list or bulk mail (rule 2 above)? */
bool atsm_list_detect(const struct atsm_mime_msg *m, struct atsm_buf *reason);

#endif
