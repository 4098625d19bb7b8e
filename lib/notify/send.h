/* notify/send.h -- the decisions of atsmaild's notification sender
 * (atsmaild/notify.c), as pure functions: whether a kind is sent at all
 * (notify_kinds), the From of a notification (notify_from), and what one
 * SMTP submission means for the notification: sent, tried again later, or
 * given up.
 */
#ifndef ATSM_NOTIFY_SEND_H
#define ATSM_NOTIFY_SEND_H

#include <stdbool.h>
#include <stddef.h>

#include "base/conf.h"

enum atsm_notify_outcome {
	ATSM_NOTIFY_SENT,          /* 2xx: Postfix has it */
	ATSM_NOTIFY_RETRY,         /* 4xx, no connection, a broken session: later */
	ATSM_NOTIFY_FAILED         /* 5xx, or the last attempt failed: given up */
};

/* Whether kind is one of notify_kinds ("all" names every kind). */
bool atsm_notify_kind_on(const struct atsm_conf_list *kinds, const char *kind);

/* The first word of notify_kinds that names no kind ("all" and the kinds of
 * notify/compose.h are known), or NULL when every word is one. */
const char *atsm_notify_kinds_unknown(const struct atsm_conf_list *kinds);

/* The From header: notify_from, else explain_from, else "atsmail
 * <postmaster@D>", D the first of company_domains, else ats_domain, else
 * host. */
void atsm_notify_from(const struct atsm_conf *c, const char *host, char *out, size_t size);

/* One submission: code is the final SMTP reply's (-1 or 0: no session or
 * it broke), attempts the attempts made with this one (>= 1). */
enum atsm_notify_outcome atsm_notify_judge(int code, unsigned attempts, unsigned max_attempts);

#endif
