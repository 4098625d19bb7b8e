/* notify/text.h -- the subject and body of each kind of notification
 * (notify/text.c), for notify/compose.c only.
 */
#ifndef ATSM_NOTIFY_TEXT_H
#define ATSM_NOTIFY_TEXT_H

#include <stdbool.h>
#include <stddef.h>

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

/* The params kind needs, NULL-terminated; NULL for an unknown kind. */
const char *const *atsm_notify_kind_params(const char *kind);

/* Whether the lines of param name are kept in a body ("preview",
 * "reason"); every other value is one line. */
bool atsm_notify_block_param(const char *name);

/* A param's value as text: its string, "" for null, a number or a boolean
 * written out (into tmp).  0, or -1 when it is an array or an object. */
int atsm_notify_param_text(json_t *v, char *tmp, size_t size, const char **out);

/* v put into out as the built-in text puts a value: at most max bytes of
 * whole characters (then "..."); one_line: every control character a
 * space; else lines kept (CR dropped, tabs kept).  0, or -1 at out's limit. */
int atsm_notify_put_text(struct atsm_buf *out, const char *v, bool one_line, size_t max);

#endif
