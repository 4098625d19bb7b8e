/* mail/rfc2231.h -- one parameter of a structured MIME header value
 * (Content-Type, Content-Disposition), decoded to UTF-8: RFC 2231
 * charset, continuations and percent-encoding, quoted strings, and the
 * common non-standard encoded word inside quotes.  Broken input never
 * fails it (docs/charsets.md); the output is bounded by out's limit.
 * Thread-safe (no shared state).
 */
#ifndef ATSM_MAIL_RFC2231_H
#define ATSM_MAIL_RFC2231_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

/* Most RFC 2231 sections (name*0 .. name*N) joined into one value; the
 * standard sets no limit, real names need a dozen or so. */
#define ATSM_RFC2231_MAX_SECTIONS 100

/* Find parameter name (case-insensitive) in a structured header value of
 * len bytes and append its decoded UTF-8 value to out.  1 when found, 0
 * when not present (out untouched), -1 on the output limit or memory with
 * err set. */
int atsm_rfc2231_param(const char *value, size_t len, const char *name,
    struct atsm_buf *out, struct atsm_err *err);

#endif
