/* atsm-mime.h -- decoding of MIME header text to UTF-8.
 *
 * atsm_rfc2047_decode turns an unstructured header value (Subject, a
 * display name) into UTF-8: it unfolds the value, decodes RFC 2047
 * encoded words (joining adjacent words of one charset, so that a
 * character split across two words survives), and converts raw 8-bit text
 * from its guessed charset.  atsm_rfc2231_param finds one parameter of a
 * structured value (Content-Type, Content-Disposition) and decodes it:
 * RFC 2231 charset, continuations and percent-encoding, quoted strings,
 * and the common non-standard encoded word inside quotes.
 *
 * Broken input never fails these functions: bad parts become U+FFFD or
 * stay as their literal text (docs/charsets.md).  The output is valid
 * UTF-8 without NUL, CR or LF, bounded by out's limit; when the limit is
 * reached the output is cut at a character boundary and -1 is returned.
 * Both functions are thread-safe (no shared state).
 */
#ifndef ATSM_MIME_H
#define ATSM_MIME_H

#include <stddef.h>

#include "atsm-buf.h"
#include "atsm-err.h"

/* Most RFC 2231 sections (name*0 .. name*N) joined into one value; the
 * standard sets no limit, real names need a dozen or so. */
#define ATSM_RFC2231_MAX_SECTIONS 100

/* Decode the len bytes of an unstructured header value, appending UTF-8 to
 * out.  0, or -1 when out's limit was reached (or memory ran out). */
int atsm_rfc2047_decode(const char *in, size_t len, struct atsm_buf *out);

/* The same as a new string, cut at limit bytes (0: 64 KiB) on a character
 * boundary; NULL only when memory is short. */
char *atsm_rfc2047_decode_dup(const char *in, size_t limit);

/* Find parameter name (case-insensitive) in a structured header value of
 * len bytes and append its decoded UTF-8 value to out.  1 when found, 0
 * when not present (out untouched), -1 on the output limit or memory with
 * err set. */
int atsm_rfc2231_param(const char *value, size_t len, const char *name,
    struct atsm_buf *out, struct atsm_err *err);

#endif
