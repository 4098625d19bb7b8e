/* mail/dsn/dsn-fml.c -- the reader of fml's error notices.
 *
 * fml (a Japanese mailing-list manager) answers a post it refuses with a
 * notice of its own, from the list's admin address and not from a
 * mailer-daemon: "You are not a member of this mailing list <list@...>",
 * "Duplicated Message-ID in <list@...>" (a loop alert).  The delivery
 * that failed is the one to the list, so the recipient is the list
 * address the notice names; the reason is the notice's (rejected,
 * systemerror), never hard: the list exists.  Every post fml delivers
 * carries its X-MLServer header too, so only a notice whose words are
 * one of fml's refusals (dsn-tables.c) is read as one.
 */
#include "mail/dsn/dsn-int.h"
#include "mail/addr.h"

#include <stdio.h>
#include <string.h>

int
atsm_dsn_read_fml(struct atsm_dsn_ctx *c, const char *t, size_t n,
    bool *found)
{
	const char *ml = atsm_mime_header(&c->m->v[0].hdr, "X-MLServer");
	const struct atsm_dsn_pattern *p;
	const char *at = NULL, *lt;
	size_t hdr_at, end, s, e;
	char addr[ATSM_ADDR_MAX + 1];

	if (ml == NULL || !atsm_dsn_ci_has(ml, "fml"))
		return 0;
	end = atsm_dsn_original_start(t, n, &hdr_at);
	for (p = atsm_dsn_fml_notices; p->text != NULL; p++)
		if ((at = atsm_dsn_ci_find(t, end, p->text)) != NULL)
			break;
	if (at == NULL)
		return 0;
	/* the list's address: the first one in angle brackets from there */
	lt = memchr(at, '<', end - (size_t)(at - t));
	if (lt == NULL || !atsm_dsn_next_addr(t, end, (size_t)(lt - t), &s, &e) ||
	    s != (size_t)(lt - t) + 1 || e - s > ATSM_ADDR_MAX)
		return 0;
	memcpy(addr, t + s, e - s);
	addr[e - s] = '\0';
	if (atsm_dsn_add_rcpt(c, addr, "", "failed", NULL, 0, NULL) < 0)
		return -1;
	if (c->d->n > 0) {
		snprintf(c->d->v[c->d->n - 1].reason, 16, "%s", p->reason);
		c->d->v[c->d->n - 1].hard = false;
		*found = true;
	}
	return 0;
}
