/* fuzz-mailkind.c -- libFuzzer target for the kinds of mail
 * (lib/mail/mailkind.c, lib/mail/autoreply.c): read receipts and the
 * Original-Message-ID of their report, list mail, auto-replies.
 *
 * The input is parsed as a message and classified with no envelope, the
 * null envelope and a relay's noreply@ envelope.  abort() when the kind is
 * out of range, when the parts disagree with the whole (an MDN or list
 * mail that atsm_mdn_detect / atsm_list_detect deny, a personal mail with
 * a reason), when a reason passes its limit, or when an Original-Message-ID
 * is found without an '@' or with a line break.  Seeds live in
 * tests/fuzz/corpus/mailkind/ (the samples of tests/data/kinds/ and
 * edges).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "mail/autoreply.h"
#include "mail/mailkind.h"
#include "mail/mime.h"

#define REASON_LIMIT 1024u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
classify(const struct atsm_mime_msg *m, const char *env_from)
{
	struct atsm_buf r;
	enum atsm_mail_kind k;

	atsm_buf_init(&r, REASON_LIMIT);
	k = atsm_mail_kind(m, env_from, &r);
	if (k != ATSM_MAIL_PERSONAL && k != ATSM_MAIL_MDN && k != ATSM_MAIL_LIST &&
	    k != ATSM_MAIL_AUTOREPLY)
		abort();
	if (r.len > REASON_LIMIT || (k == ATSM_MAIL_PERSONAL && r.len != 0))
		abort();
	if ((k == ATSM_MAIL_MDN) != atsm_mdn_detect(m, NULL))
		abort();
	if (k == ATSM_MAIL_LIST && !atsm_list_detect(m, NULL))
		abort();
	atsm_buf_free(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct atsm_mime_msg m;
	struct atsm_buf id;

	if (atsm_mime_parse((const char *)data, size, NULL, &m, NULL) < 0) {
		atsm_mime_free(&m);
		return 0;
	}
	classify(&m, NULL);
	classify(&m, "");
	classify(&m, "noreply@forms.example");
	atsm_buf_init(&id, 4096);
	if (atsm_mdn_original_id(&m, &id) == 1 &&
	    (strchr(atsm_buf_str(&id), '@') == NULL || strpbrk(atsm_buf_str(&id), "\r\n") != NULL))
		abort();
	atsm_buf_free(&id);
	atsm_mime_free(&m);
	return 0;
}
