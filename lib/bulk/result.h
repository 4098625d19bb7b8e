/* bulk/result.h -- what the user of a bulk job hears from atsmail
 * (docs/bulk.md): the acknowledgement when a job sent from a mail client
 * starts (how many mails will go, which addresses matched no record), the
 * result when it ends (the counts, and a CSV of every recipient), and the
 * CSV itself (also atsmailctl bulk status --csv).  atsmail's own mail like
 * the explanation of a refusal (explain/compose.h): the caller sends it
 * from the null sender with the X-ATS-Explanation marker, so that the
 * milter passes it untouched.  English or Japanese.  Pure.
 */
#ifndef ATSM_BULK_RESULT_H
#define ATSM_BULK_RESULT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/lang.h"
#include "store/bulk-db.h"

#define ATSM_BULK_RESULT_MAX (64u * 1024u * 1024u)

struct atsm_bulk_result_in {
	enum atsm_lang lang;
	const char *from;                 /* "atsmail <postmaster@example.com>" */
	const char *to;                   /* the user's address */
	long long job;
	const char *subject;              /* the job's (UTF-8); NULL = none */
	const char *status;               /* "done", "cancelled", ... (result) */
	long long now;
	const char *unique;               /* [A-Za-z0-9.-]: Message-ID, boundary */
	const char *marker;               /* the X-ATS-Explanation value */
	const struct atsm_bulk_item *items;
	size_t n_items;
};

/* The CSV of items (header line first, CRLF, UTF-8): recipient, record,
 * message_id, queue_id, status, reason; with deliveries also delivery,
 * status_code, bounced_at, diagnostic.  0, or -1 when out is full. */
int atsm_bulk_result_csv(const struct atsm_bulk_item *items, size_t n, bool deliveries,
    struct atsm_buf *out);

/* The acknowledgement / the result mail into out (reset first), CRLF.
 * 0, or -1 with err. */
int atsm_bulk_ack_compose(const struct atsm_bulk_result_in *in, struct atsm_buf *out,
    struct atsm_err *err);
int atsm_bulk_result_compose(const struct atsm_bulk_result_in *in, struct atsm_buf *out,
    struct atsm_err *err);

#endif
