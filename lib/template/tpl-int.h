/* template/tpl-int.h -- what the files of lib/template share and nobody
 * else needs: the way back from UTF-8 to a mail charset, and the
 * transfer and header encodings (encode.c). */
#ifndef ATSM_TEMPLATE_INT_H
#define ATSM_TEMPLATE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"

/* Convert n bytes of UTF-8 to charset (a mail charset name: Shift_JIS is
 * written as CP932, which is what Japanese clients mean by it) appended to
 * out.  0, or -1 when a character does not exist there, the charset is
 * unknown, or out is full: the caller then uses UTF-8. */
int atsm_tpl_from_utf8(const char *charset, const char *in, size_t n,
    struct atsm_buf *out);

/* Whether the n bytes at p are all 7-bit with lines of at most 998 bytes
 * and no NUL or bare CR (what 7bit allows); *eight: 8-bit bytes seen. */
bool atsm_tpl_is_7bit(const char *p, size_t n, bool *eight);

/* Base64 of n bytes in lines of 76 joined by eol; no eol after the last
 * line.  0, or -1 when out is full. */
int atsm_tpl_base64(const char *in, size_t n, const char *eol, struct atsm_buf *out);

/* Quoted-printable of text whose line ends are LF or CRLF (hard breaks,
 * written as eol); lines folded at 76 with soft breaks.  0 or -1. */
int atsm_tpl_qp(const char *in, size_t n, const char *eol, struct atsm_buf *out);

/* "Name: value" with value (UTF-8) as it is when it is printable ASCII,
 * else as RFC 2047 B-words of charset ("ISO-2022-JP" or "UTF-8"; an
 * ISO-2022-JP that cannot hold the text falls back to UTF-8), folded, each
 * word whole in its charset; ends with eol.  0 or -1. */
int atsm_tpl_header(const char *name, const char *value, const char *charset,
    const char *eol, struct atsm_buf *out);

/* Change the line ends of text to eol ("\r\n" or "\n"), appended to out. */
int atsm_tpl_eol(const char *in, size_t n, const char *eol, struct atsm_buf *out);

#endif
