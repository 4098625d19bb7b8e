/* mail/msgid.h -- Message-ID values (Message-ID, In-Reply-To, References).
 *
 * Both pipelines store and look up message ids without their angle
 * brackets; these functions take them out of header values the way mail
 * clients write them, bounded by ATSM_MSGID_MAX.
 */
#ifndef ATSM_MSGID_H
#define ATSM_MSGID_H

#include <stddef.h>

#define ATSM_MSGID_MAX 998      /* RFC 5322 line length: a longer one is junk */

/* The id of a Message-ID value: "<a@b>" or a bare "a@b" (first word), without
 * brackets, as a new string in *out; *out is NULL when the value holds no id
 * (empty, over ATSM_MSGID_MAX).  -1 only when memory is short. */
int atsm_msgid_bare(const char *value, char **out);

/* The <id>s of an In-Reply-To / References value, without brackets, as new
 * strings in out[0..] (at most max); returns how many.  Ids over
 * ATSM_MSGID_MAX, empty ones and an unclosed last one are skipped. */
size_t atsm_msgid_list(const char *value, char **out, size_t max);

#endif
