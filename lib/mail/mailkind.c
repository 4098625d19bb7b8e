/* mail/mailkind.c -- the kind of a message: MDN, list mail, auto-reply or
 * a person's mail; see mail/mailkind.h for the order.
 *
 * The order is that of the evidence: an MDN says what it is in its MIME
 * structure (RFC 8098), list software in headers of its own (RFC 2369,
 * RFC 2919, and each package's habits), an auto-responder in RFC 3834's
 * Auto-Submitted or in habits (mail/autoreply.c).  List before auto-reply:
 * a vacation reply that a list distributed reached us as list mail, and
 * list mail is the stricter kind (filed only inside a thread).
 * docs/inbound-classification.md lists every header and why.
 */
#include "mail/mailkind.h"
#include "mail/autoreply.h"
#include "mail/rfc2231.h"

#include <string.h>
#include <strings.h>

#define DISPOSITION_MAX (64u * 1024u)   /* bytes of a disposition part read */

/* Headers that only list software writes: a message that carries one was
 * distributed by a list.  RFC 2369 / 2919 first, then the packages'. */
static const char *const list_headers[] = {
	"List-Id", "List-Post", "List-Help", "List-Subscribe", "List-Owner",
	"List-Archive",
	"Mailing-List",          /* ezmlm, Google Groups, Yahoo Groups */
	"X-Mailman-Version",     /* Mailman 2 and 3, mailman-jp */
	"X-BeenThere",           /* Mailman 2 */
	"X-Google-Group-Id",     /* Google Groups */
	"X-ML-Name",             /* fml, mailman-jp */
	"X-ML-Count",            /* fml */
	"X-MLServer",            /* fml */
	"X-Mail-Count",          /* mailman-jp, fml 2 */
	"List-Software",         /* fml 4+ */
	"X-Sequence",            /* Sympa, fml */
	NULL
};

const char *
atsm_mail_kind_name(enum atsm_mail_kind k)
{
	switch (k) {
	case ATSM_MAIL_MDN:
		return "mdn";
	case ATSM_MAIL_LIST:
		return "list";
	case ATSM_MAIL_AUTOREPLY:
		return "auto-reply";
	default:
		return "personal";
	}
}

/* Part i is the message's own, not inside an embedded message. */
static bool
own_part(const struct atsm_mime_msg *m, size_t i)
{
	int p;

	for (p = m->v[i].parent; p >= 0; p = m->v[p].parent)
		if (m->v[p].kind == ATSM_MIME_MESSAGE || m->v[p].kind == ATSM_MIME_HEADERS)
			return false;
	return true;
}

static bool
is_disposition(const struct atsm_mime_part *pt)
{
	return strcmp(pt->type, "message/disposition-notification") == 0 ||
	    strcmp(pt->type, "message/global-disposition-notification") == 0;
}

/* ----------------------------------------------------------------- MDN */

bool
atsm_mdn_detect(const struct atsm_mime_msg *m, struct atsm_buf *reason)
{
	const struct atsm_mime_part *top;
	const char *v;
	size_t i;

	if (m == NULL || m->n == 0)
		return false;
	top = &m->v[0];
	if (strcmp(top->type, "multipart/report") == 0 &&
	    (v = atsm_mime_header(&top->hdr, "Content-Type")) != NULL) {
		struct atsm_buf rt;
		bool mdn;

		atsm_buf_init(&rt, 256);
		mdn = atsm_rfc2231_param(v, strlen(v), "report-type", &rt, NULL) == 1 &&
		    strcasecmp(atsm_buf_str(&rt), "disposition-notification") == 0;
		atsm_buf_free(&rt);
		if (mdn)
			return atsm_mail_because(reason, "MDN: multipart/report; report-type=disposition-notification",
			    NULL);
	}
	for (i = 1; i < m->n; i++)
		if (is_disposition(&m->v[i]) && own_part(m, i))
			return atsm_mail_because(reason, "MDN: a message/disposition-notification part", NULL);
	/* Exchange marks its read and non-read notifications so, as it marks
	 * its DSNs urn:content-classes:dsn */
	if ((v = atsm_mime_header(&top->hdr, "Content-Class")) != NULL &&
	    atsm_ci_contains(v, "urn:content-classes:mdn"))
		return atsm_mail_because(reason, "MDN: Content-Class", v);
	return false;
}

int
atsm_mdn_original_id(const struct atsm_mime_msg *m, struct atsm_buf *out)
{
	size_t i;

	if (m == NULL)
		return 0;
	for (i = 1; i < m->n; i++) {
		struct atsm_mime_headers h;
		struct atsm_buf body;
		const char *v;
		int found = 0;

		if (!is_disposition(&m->v[i]) || !own_part(m, i))
			continue;
		atsm_buf_init(&body, DISPOSITION_MAX);
		(void)atsm_mime_body_decode(&m->v[i], &body);
		if (atsm_mime_headers_parse(atsm_buf_str(&body), body.len, DISPOSITION_MAX, 0,
		    &h, NULL) == 0 && (v = atsm_mime_header(&h, "Original-Message-ID")) != NULL) {
			size_t n = strlen(v);

			while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
				n--;
			if (n > 0 && memchr(v, '@', n) != NULL)
				found = atsm_buf_append(out, v, n) == 0 ? 1 : 0;
		}
		atsm_mime_headers_free(&h);
		atsm_buf_free(&body);
		if (found)
			return 1;
	}
	return 0;
}

/* ---------------------------------------------------------------- list */

bool
atsm_list_detect(const struct atsm_mime_msg *m, struct atsm_buf *reason)
{
	const struct atsm_mime_headers *h;
	const char *v;
	size_t k;

	if (m == NULL || m->n == 0)
		return false;
	h = &m->v[0].hdr;
	for (k = 0; list_headers[k] != NULL; k++)
		if ((v = atsm_mime_header(h, list_headers[k])) != NULL) {
			if (reason != NULL)
				(void)atsm_buf_printf(reason, "list mail: %s (%.80s)",
				    list_headers[k], v);
			return true;
		}
	if ((v = atsm_mime_header(h, "Precedence")) == NULL)
		return false;
	if (atsm_ci_contains(v, "list"))
		return atsm_mail_because(reason, "list mail: Precedence", v);
	/* bulk and junk are also what vacation(1) and its kin write on their
	 * answers: an answer (In-Reply-To, References) with them is an
	 * auto-reply (mail/autoreply.c), anything else is bulk mail */
	if ((atsm_ci_contains(v, "bulk") || atsm_ci_contains(v, "junk")) &&
	    atsm_mime_header(h, "In-Reply-To") == NULL &&
	    atsm_mime_header(h, "References") == NULL &&
	    !atsm_autoreply_subject(h, NULL))
		return atsm_mail_because(reason, "bulk mail: Precedence, answering no message", v);
	return false;
}

/* ---------------------------------------------------------------- kind */

enum atsm_mail_kind
atsm_mail_kind(const struct atsm_mime_msg *m, const char *env_from, struct atsm_buf *reason)
{
	if (atsm_mdn_detect(m, reason))
		return ATSM_MAIL_MDN;
	if (atsm_list_detect(m, reason))
		return ATSM_MAIL_LIST;
	if (atsm_autoreply_detect(m, env_from, reason))
		return ATSM_MAIL_AUTOREPLY;
	return ATSM_MAIL_PERSONAL;
}
