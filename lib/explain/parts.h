/* explain/parts.h -- the pieces atsmail's own mail is made of (the
 * explanation of a refusal, the acknowledgement and result mails of a bulk
 * job: lib/bulk/result.c), so that they are encoded one way. */
#ifndef ATSM_EXPLAIN_PARTS_H
#define ATSM_EXPLAIN_PARTS_H

#include <stddef.h>

#include "base/buf.h"
#include "base/lang.h"

/* "Date: " and the RFC 5322 date of now, in UTC, not from the locale. */
int atsm_explain_put_date(struct atsm_buf *out, long long now);
/* "Subject: " and v (UTF-8): as it is when ASCII and short, else as
 * encoded words of whole characters, one per folded line. */
int atsm_explain_put_subject(struct atsm_buf *out, const char *v);
/* v (UTF-8) as RFC 2047 encoded words (" =?UTF-8?B?...?=", folded), for a
 * Subject or a display name. */
int atsm_explain_put_words(struct atsm_buf *out, const char *v);
/* A text/plain part after "--boundary": Japanese as ISO-2022-JP when every
 * character has a JIS code, else UTF-8 (us-ascii when it is). */
int atsm_explain_put_text_part(struct atsm_buf *out, enum atsm_lang lang, const char *text,
    size_t n, const char *boundary);

#endif
