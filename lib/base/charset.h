/* base/charset.h -- conversion of text in a named charset to UTF-8.
 *
 * Everything atsmail stores is UTF-8; mail arrives in whatever charset the
 * sender declared (for our users mostly ISO-2022-JP, Shift_JIS/CP932,
 * EUC-JP and UTF-8).  These functions turn such bytes into UTF-8 without
 * ever stopping on bad input: an invalid or truncated sequence becomes
 * U+FFFD and conversion goes on.  U+0000 is never produced (a NUL becomes
 * U+FFFD), because the output is used as a C string.  Output goes into an
 * atsm_buf whose limit bounds memory; when the limit is reached the output
 * is cut at a character boundary and -1 is returned with out->overflow set.
 *
 * Charset names are matched case-insensitively with aliases (see
 * docs/charsets.md): Shift_JIS and its aliases are decoded as CP932,
 * ISO-2022-JP and its variants by our own decoder (glibc has no CP5022x),
 * EUC-JP with EUC-JP-MS for the extension rows, ISO-8859-1 as
 * Windows-1252; any other name iconv knows is passed to iconv.
 *
 * Thread safety: no shared state; iconv descriptors are opened per call.
 */
#ifndef ATSM_CHARSET_H
#define ATSM_CHARSET_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

/* Longest charset name accepted; longer names are unknown. */
#define ATSM_CHARSET_NAME_MAX 64

/* Convert len bytes in charset to UTF-8 appended to out.  0 on success
 * (replacements included); -1 when the charset is unknown (err names it,
 * nothing appended, out->overflow false) or when out's limit was reached
 * (out->overflow true, output cut at a character boundary). */
int atsm_charset_to_utf8(const char *charset, const char *in, size_t len,
    struct atsm_buf *out, struct atsm_err *err);

/* As atsm_charset_to_utf8; *nbad (if not NULL) receives the number of
 * U+FFFD replacements made.  With out == NULL only counts. */
int atsm_charset_convert(const char *charset, const char *in, size_t len,
    struct atsm_buf *out, size_t *nbad, struct atsm_err *err);

/* Whether atsm_charset_to_utf8 knows charset. */
bool atsm_charset_known(const char *charset);

/* The charset of 8-bit text that declares none (a raw header, an RFC 2231
 * value without charset): "UTF-8" when the bytes are ASCII or valid UTF-8,
 * "ISO-2022-JP" when they hold its escape sequences, otherwise whichever of
 * "CP932" and "EUC-JP" decodes them with fewer errors. */
const char *atsm_charset_guess(const char *in, size_t len);

/* Bytes of a charset nobody knows: valid UTF-8 passes, otherwise ASCII is
 * kept and each run of other bytes becomes one U+FFFD.  0, or -1 when
 * out's limit was reached. */
int atsm_charset_fallback(const char *in, size_t len, struct atsm_buf *out);

/* Length (1..4) of the valid UTF-8 character at p (n bytes available), or
 * 0 when p does not start one (overlong forms and surrogates are invalid). */
size_t atsm_utf8_char_len(const char *p, size_t n);

/* Whether the n bytes at p are all valid UTF-8. */
bool atsm_utf8_valid(const char *p, size_t n);

/* Append n bytes of UTF-8 to out, cutting at a character boundary when the
 * limit would be passed (then -1 and out->overflow). */
int atsm_utf8_append(struct atsm_buf *out, const char *p, size_t n);

#endif
