/* notify/text.h -- the subject and body of each kind of notification
 * (notify/text.c), for notify/compose.c only.
 */
#ifndef ATSM_NOTIFY_TEXT_H
#define ATSM_NOTIFY_TEXT_H

#include <jansson.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/lang.h"

/* The subject (one line) and the body ("\n" line ends) of kind in lang,
 * its params put in.  0, or -1 with err: an unknown kind, params that are
 * no object, a param the kind needs that is absent or no text, or a
 * buffer's limit. */
int atsm_notify_text(const char *kind, enum atsm_lang lang, json_t *params,
    struct atsm_buf *subject, struct atsm_buf *body, struct atsm_err *err);

#endif
