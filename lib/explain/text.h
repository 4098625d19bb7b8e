/* explain/text.h -- the words of the explanation mail in each language,
 * and the wrapping of its lines (internal to lib/explain). */
#ifndef ATSM_EXPLAIN_TEXT_H
#define ATSM_EXPLAIN_TEXT_H

#include <stddef.h>

#include "base/buf.h"
#include "explain/compose.h"

#define ATSM_EXPLAIN_WRAP_EN 72     /* columns of English text */
#define ATSM_EXPLAIN_WRAP_JA 60     /* columns of Japanese text: ISO-2022-JP's escapes
                                       add up to 6 bytes, a wide character 2 */

/* The Subject, in UTF-8, without encoding: the prefix of the language and
 * the refused mail's decoded Subject (subject_utf8 may be NULL). */
int atsm_explain_subject(enum atsm_lang lang, const char *subject_utf8, struct atsm_buf *out);

/* The text part, in UTF-8, lines wrapped and ended by "\n". */
int atsm_explain_body(const struct atsm_explain_in *in, const char *subject_utf8,
    struct atsm_buf *out);

/* Append text wrapped at width display columns (a wide character counts
 * two), each line starting with indent and ending with "\n"; line breaks
 * in text count as spaces.  Breaks at a space when the line has one,
 * else between two characters (Japanese has no spaces). */
int atsm_explain_wrap(struct atsm_buf *out, const char *text, const char *indent,
    size_t width);

#endif
