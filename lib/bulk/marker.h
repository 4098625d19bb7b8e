/* bulk/marker.h -- the mark of a mail atsmaild's bulk runner submits.
 *
 * The runner submits each mail of a bulk job to the local Postfix by SMTP,
 * without a login.  The milter must record it as the job's user's sent
 * mail, not take it for inbound mail; so the runner adds a header
 *	X-ATS-Bulk: job=<id>; item=<seq>; user=<login>; sig=<hex>
 * signed with the site secret (HMAC-SHA-256 over job, item, login and the
 * mail's Message-ID), which only atsmaild holds.  The milter believes the
 * header only when the signature verifies for this Message-ID and the
 * envelope sender is one of that user's addresses; it then decides the mail
 * as outbound from that user and removes the header, like every X-ATS-*
 * header, before the mail leaves.  Pure functions. */
#ifndef ATSM_BULK_MARKER_H
#define ATSM_BULK_MARKER_H

#include <stddef.h>

#include "base/err.h"
#include "rules/token.h"

#define ATSM_BULK_MARKER "X-ATS-Bulk"
#define ATSM_BULK_MARKER_MAX 512          /* a value and its NUL */

struct atsm_bulk_mark {
	long long job;
	int item;
	char login[256];
};

/* The header value for m and the mail's Message-ID (without brackets) into
 * out (size bytes), signed with the current key.  0, or -1 with err. */
int atsm_bulk_marker_make(const struct atsm_token_keys *keys, const struct atsm_bulk_mark *m,
    const char *msgid, char *out, size_t size, struct atsm_err *err);

/* 0 with *m filled when value is a marker signed by any key for msgid;
 * -1 with err (malformed, or the signature does not verify).  The
 * comparison is constant-time. */
int atsm_bulk_marker_check(const struct atsm_token_keys *keys, const char *value,
    const char *msgid, struct atsm_bulk_mark *m, struct atsm_err *err);

#endif
