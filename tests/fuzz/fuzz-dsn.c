/* fuzz-dsn.c -- libFuzzer target for the inbound parsers: MIME structure
 * (lib/mail/mime.c), bounces (lib/mail/dsn/) and auto-replies
 * (lib/mail/autoreply.c).
 *
 * The input is parsed as a whole message.  Sanitizers catch over-reads,
 * leaks and undefined behaviour; the checks below catch broken promises
 * of the interfaces: parts within the limits and inside the input (or the
 * parser's own memory), bounded recipients and diagnostics, valid UTF-8.
 */
#include "mail/autoreply.h"
#include "base/charset.h"
#include "mail/dsn/dsn.h"
#include "mail/mime.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_mime(const char *msg, size_t len)
{
	struct atsm_mime_msg m;
	struct atsm_buf b, r;
	size_t i;

	if (atsm_mime_parse(msg, len, NULL, &m, NULL) < 0) {
		atsm_mime_free(&m);
		return;
	}
	if (m.n == 0 || m.n > ATSM_MIME_MAX_PARTS)
		abort();
	atsm_buf_init(&b, 64 * 1024);
	for (i = 0; i < m.n; i++) {
		const struct atsm_mime_part *p = &m.v[i];

		if (p->depth > ATSM_MIME_MAX_DEPTH || p->hdr.n > ATSM_MIME_MAX_FIELDS)
			abort();
		if (i == 0 && (p->body < msg || p->body + p->body_len > msg + len))
			abort();
		atsm_buf_reset(&b);
		(void)atsm_mime_body_text(p, &b);
		if (b.len > 64 * 1024 || !atsm_utf8_valid(atsm_buf_str(&b), b.len))
			abort();
	}
	atsm_buf_free(&b);
	atsm_buf_init(&r, 1024);
	(void)atsm_autoreply_detect(&m, NULL, &r);
	(void)atsm_autoreply_detect(&m, "<>", &r);
	if (r.len > 1024)
		abort();
	atsm_buf_free(&r);
	atsm_mime_free(&m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *msg = (const char *)data;
	struct atsm_dsn d;
	size_t i;

	check_mime(msg, size);
	if (atsm_dsn_parse(msg, size, &d, NULL) == 0) {
		if (d.n > ATSM_DSN_MAX_RCPTS || (d.is_bounce && d.n == 0) ||
		    (d.is_feedback && d.n != 0))
			abort();
		for (i = 0; i < d.n; i++) {
			const struct atsm_dsn_rcpt *r = &d.v[i];

			if (r->addr == NULL || strchr(r->addr, '@') == NULL)
				abort();
			if (r->diagnostic != NULL &&
			    (strlen(r->diagnostic) > ATSM_DSN_DIAG_MAX ||
			    !atsm_utf8_valid(r->diagnostic, strlen(r->diagnostic))))
				abort();
			if (memchr(r->status, '\0', sizeof(r->status)) == NULL)
				abort();
		}
		if (d.orig_subject != NULL &&
		    strlen(d.orig_subject) > ATSM_DSN_HEADER_MAX)
			abort();
	}
	atsm_dsn_free(&d);
	{
		char addr[300];
		size_t n = size < sizeof(addr) - 1 ? size : sizeof(addr) - 1;

		memcpy(addr, msg, n);
		addr[n] = '\0';
		(void)atsm_mailer_daemon(addr);
	}
	return 0;
}
