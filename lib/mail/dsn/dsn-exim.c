/* mail/dsn/dsn-exim.c -- the reader of Exim's plain-text bounces when their
 * lines do not name the recipient.
 *
 * Exim lists a failed recipient in its notice as it was before routing:
 * an alias or a local part ("  kijitora"), a "save to" file or a pipe
 * the alias expanded to.  The address itself is then only in Exim's own
 * X-Failed-Recipients header, which Exim (and the MTAs that copied it:
 * Gmail, Mail.ru) adds to every bounce it writes.  So when the line
 * reader (dsn-text.c) found nobody, each address of that header is a
 * failed recipient, classified by its paragraph of the notice when the
 * notice names it, else by the notice's list of failures ("The following
 * address(es) failed:" up to the copy of the original).
 */
#include "mail/dsn/dsn-int.h"
#include "mail/addr.h"

#include <string.h>

int
atsm_dsn_read_exim(struct atsm_dsn_ctx *c, const char *t, size_t n,
    bool *found)
{
	const char *v = atsm_mime_header(&c->m->v[0].hdr, "X-Failed-Recipients");
	struct atsm_addr_list l;
	size_t k, end, hdr_at, from = 0;
	const char *f;
	int rc = 0;

	if (v == NULL)
		return 0;
	end = atsm_dsn_original_start(t, n, &hdr_at);
	if ((f = atsm_dsn_ci_find(t, end, "failed:")) != NULL)
		from = (size_t)(f - t) + 7;
	(void)atsm_addr_parse_list(v, strlen(v), ATSM_DSN_MAX_RCPTS, &l, NULL);
	for (k = 0; k < l.n && rc == 0; k++) {
		const char *at = atsm_dsn_ci_find(t, end, l.v[k].addr);
		size_t ps = from, pe = end;
		char status[16] = "";

		if (at != NULL)
			atsm_dsn_paragraph(t, end, (size_t)(at - t),
			    strlen(l.v[k].addr), &ps, &pe);
		if (pe - ps > ATSM_DSN_CLASSIFY_MAX)
			pe = ps + ATSM_DSN_CLASSIFY_MAX;
		if (!atsm_dsn_find_status(t + ps, pe - ps, status))
			(void)atsm_dsn_find_reply_code(t + ps, pe - ps, status);
		rc = atsm_dsn_add_rcpt(c, l.v[k].addr, status, "failed", t + ps,
		    pe - ps, NULL);
	}
	atsm_addr_list_free(&l);
	if (c->d->n > 0)
		*found = true;
	return rc;
}
