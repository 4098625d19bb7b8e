/* mail/rfc2047.h -- decoding of unstructured MIME header text (RFC 2047
 * encoded words, raw 8-bit text of a guessed charset) to UTF-8.
 *
 * atsm_rfc2047_decode turns an unstructured header value (Subject, a
 * display name) into UTF-8: it unfolds the value, decodes RFC 2047
 * encoded words (joining adjacent words of one charset, so that a
 * character split across two words survives), and converts raw 8-bit text
 * from its guessed charset.  Broken input never fails it: bad parts become
 * U+FFFD or stay as their literal text (docs/charsets.md).  The output is
 * valid UTF-8 without NUL, CR or LF, bounded by out's limit; when the limit
 * is reached the output is cut at a character boundary and -1 is returned.
 * Thread-safe (no shared state).
 */
#ifndef ATSM_MAIL_RFC2047_H
#define ATSM_MAIL_RFC2047_H

#include <stddef.h>

#include "base/buf.h"

/* Decode the len bytes of an unstructured header value, appending UTF-8 to
 * out.  0, or -1 when out's limit was reached (or memory ran out). */
int atsm_rfc2047_decode(const char *in, size_t len, struct atsm_buf *out);

/* The same as a new string, cut at limit bytes (0: 64 KiB) on a character
 * boundary; NULL only when memory is short. */
char *atsm_rfc2047_decode_dup(const char *in, size_t limit);

#endif
