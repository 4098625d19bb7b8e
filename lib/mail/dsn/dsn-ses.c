/* mail/dsn/dsn-ses.c -- the reader of Amazon SES notifications.
 *
 * SES reports bounces, complaints and deliveries as JSON (through SNS),
 * and some senders forward that JSON as the body of a mail.  Its
 * addresses stand in "bouncedRecipients", next to a status and a
 * diagnostic, so the line reader of dsn-text.c would read it wrong: such
 * a notice is read here only.  A complaint is a feedback report, a
 * delivery no bounce at all.
 */
#include "mail/dsn/dsn-int.h"
#include "mail/addr.h"

#include <string.h>

bool
atsm_dsn_is_ses(const char *t, size_t n)
{
	return atsm_dsn_ci_find(t, n, "notificationType") != NULL;
}

/* Amazon SES notifications forwarded as JSON (SNS): the addresses after
 * "emailAddress" inside "bouncedRecipients". */
static int
read_ses_json(struct atsm_dsn_ctx *c, const char *t, size_t n, bool *found)
{
	const char *p = atsm_dsn_ci_find(t, n, "bouncedRecipients"), *q;
	const char *type = atsm_dsn_ci_find(t, n, "bounceType");
	char status[16] = "", addr[ATSM_ADDR_MAX + 1];
	size_t s, e, k;
	bool transient = false;
	int rc = 0;

	if (p == NULL)
		return 0;
	/* "bounceType": "Transient" within the 40 bytes that follow, never
	 * past the end of the text */
	if (type != NULL) {
		size_t left = n - (size_t)(type - t);

		transient = atsm_dsn_ci_find(type, left < 40 ? left : 40, "Transient") != NULL;
	}
	while (rc == 0 && (q = atsm_dsn_ci_find(p, n - (size_t)(p - t),
	    "emailAddress")) != NULL) {
		p = q + 12;
		if (!atsm_dsn_next_addr(t, n, (size_t)(p - t), &s, &e) ||
		    s - (size_t)(p - t) > 8)
			continue;
		k = e - s < sizeof(addr) - 1 ? e - s : sizeof(addr) - 1;
		memcpy(addr, t + s, k);
		addr[k] = '\0';
		{
			size_t rest = n - (size_t)(p - t);
			const char *st = atsm_dsn_ci_find(p, rest, "\"status");
			const char *dg = atsm_dsn_ci_find(p, rest, "diagnosticCode");
			size_t dl = 0;

			if (st != NULL)
				(void)atsm_dsn_find_status(st, n - (size_t)(st - t) < 40 ?
				    n - (size_t)(st - t) : 40, status);
			if (dg != NULL) {
				dg += 14;
				while (dl < 300 && dg + dl < t + n && dg[dl] != '}')
					dl++;
			}
			rc = atsm_dsn_add_rcpt(c, addr, status, "failed", dg, dl,
			    transient ? "temporary" : NULL);
		}
		p = t + e;
	}
	if (c->d->n > 0)
		*found = true;
	return rc;
}

int
atsm_dsn_read_ses(struct atsm_dsn_ctx *c, const char *t, size_t n, bool *found)
{
	if (atsm_dsn_ci_find(t, n, "\"Bounce\"") == NULL &&
	    atsm_dsn_ci_find(t, n, "\\\"Bounce\\\"") == NULL) {
		if (atsm_dsn_ci_find(t, n, "Complaint") != NULL)
			c->d->is_feedback = true;
		return 0;	/* a delivery or complaint notice */
	}
	return read_ses_json(c, t, n, found);
}
