/* mail/preview.h -- what a person reads first of a mail, as plain UTF-8:
 * the preview of held mail shown to its approver, and the reason an
 * approver writes at the top of a decision mail (docs/approval.md).
 * Pure: no I/O; memory bounded by max.
 */
#ifndef ATSM_MAIL_PREVIEW_H
#define ATSM_MAIL_PREVIEW_H

#include <stddef.h>

#include "base/err.h"

#define ATSM_PREVIEW_MAX 4096        /* bytes of a held mail's preview */
#define ATSM_REASON_MAX 1000         /* bytes of a reason taken from a mail */

/* The first text/plain part of the whole message msg[0..len) (headers and
 * body; else the first text/ part of any kind), transfer encoding undone,
 * converted to UTF-8, line ends made LF, at most max bytes (cut at a
 * character, "..." appended).  *out is malloc'd; NULL when the mail has no
 * text.  0, or -1 with err when memory ran out. */
int atsm_mail_text_preview(const char *msg, size_t len, size_t max, char **out,
    struct atsm_err *err);

/* The reason written at the top of a reply: the lines of text up to the
 * first empty line after some text, a quoted line ('>'), a signature
 * separator ("-- ") or an attribution line ending in "wrote:" or "書きました:";
 * white space trimmed, lines joined by one space, at most max bytes (cut
 * at a character).  *out is malloc'd, "" when nothing is written; NULL
 * only when memory ran out (-1). */
int atsm_mail_reply_reason(const char *text, size_t max, char **out);

#endif
