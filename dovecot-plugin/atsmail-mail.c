/* atsmail-mail.c -- one mail: read it, ask atsmaild how it is filed, and
 * log what came of it.
 *
 * Interface: atsmail_file_mail (atsmail-plugin.h).
 *
 * The service needs the first atsmail_head_max bytes of the message (to
 * read its header, a bounce's report, a reply's quote), and the size and
 * SHA-256 of all of it (the idempotency key of a mail without Message-ID,
 * and what tells two copies apart); the whole message is read once for
 * the hash and the stream rewound for the save that follows.  The
 * outcome is logged here, once per mail, in words that say what happens
 * to the mail: filed (info; debug when it is no ATS mail), or not filed
 * and therefore refused for now or stored without keywords, as
 * atsmail_on_failure says (error level; a TEMPFAIL the service chose
 * itself is a warning, since the mail is merely deferred).
 */
#include "atsmail-plugin.h"

#include <time.h>

#include "buffer.h"
#include "hex-binary.h"
#include "istream.h"
#include "sha2.h"
#include "str-sanitize.h"

/* The first max bytes into head; the size and SHA-256 of all of it. */
static int
read_mail(struct mail *mail, size_t max, buffer_t *head, unsigned long long *size_r,
    const char **sha_r)
{
	struct istream *input;
	struct sha256_ctx sha;
	unsigned char digest[SHA256_RESULTLEN];
	const unsigned char *data;
	size_t size;

	*size_r = 0;
	if (mail_get_stream_because(mail, NULL, NULL, "atsmail filing", &input) < 0)
		return -1;
	sha256_init(&sha);
	while (i_stream_read_more(input, &data, &size) > 0) {
		sha256_loop(&sha, data, size);
		if (head->used < max)
			buffer_append(head, data, I_MIN(size, max - head->used));
		*size_r += size;
		i_stream_skip(input, size);
	}
	if (input->stream_errno != 0)
		return -1;
	/* The save that follows reads the same stream. */
	i_stream_seek(input, 0);
	sha256_result(&sha, digest);
	*sha_r = binary_to_hex(digest, sizeof(digest));
	return 0;
}

/* The mail in a log line: its Message-ID (the box's event already
 * names the user and the mailbox). */
static const char *
describe(struct mail *mail)
{
	const char *mid = NULL;

	if (mail_get_first_header(mail, "Message-ID", &mid) <= 0)
		return "mail without Message-ID";
	return t_strdup_printf("mail %s", str_sanitize(mid, 200));
}

static void
log_outcome(struct atsmail_user *auser, struct mailbox *box, bool append,
    const struct atsmail_filed *out, bool service_tempfail)
{
	const char *then;

	if (out->ok) {
		if (strcmp(out->answer.result, "ignored") == 0)
			e_debug(box->event, ATSMAIL_NAME ": %s: %s", out->what, out->answer.text);
		else
			e_info(box->event, ATSMAIL_NAME ": %s: %s: %s", out->what,
			    out->answer.result, out->answer.text);
		return;
	}
	if (auser->set.deliver_on_failure) {
		e_error(box->event, ATSMAIL_NAME ": %s: not filed: %s; %s without keywords "
		    "(atsmail_on_failure = deliver)", out->what, out->why,
		    append ? "appended" : "delivered");
		return;
	}
	if (append)
		then = "the APPEND is refused (NO [UNAVAILABLE]); the client may try again";
	else if (strcmp(box->storage->user->service, "lda") == 0)
		then = "the delivery is refused with a temporary failure (dovecot-lda exits "
		    "75, EX_TEMPFAIL); the MTA retries";
	else
		then = "the delivery is refused with a temporary failure (LMTP 451 4.2.0); "
		    "the sender's server retries";
	if (service_tempfail)
		e_warning(box->event, ATSMAIL_NAME ": %s: not filed: %s; %s", out->what,
		    out->why, then);
	else
		e_error(box->event, ATSMAIL_NAME ": %s: not filed: %s; %s", out->what, out->why,
		    then);
}

void
atsmail_file_mail(struct atsmail_user *auser, struct mailbox *box, struct mail *mail,
    bool append, const char *env_from, struct atsmail_filed *out)
{
	struct atsm_filing_request req;
	buffer_t *head;
	const char *sha = "";
	time_t received;
	bool service_tempfail = FALSE;

	i_zero(out);
	out->what = describe(mail);
	if (auser->bad != NULL) {
		i_snprintf(out->why, sizeof(out->why), "bad setting: %s", auser->bad);
		log_outcome(auser, box, append, out, FALSE);
		return;
	}
	i_zero(&req);
	head = t_buffer_create(I_MIN(auser->set.head_max, 64 * 1024));
	if (read_mail(mail, auser->set.head_max, head, &req.size, &sha) < 0) {
		i_snprintf(out->why, sizeof(out->why), "the mail cannot be read: %s",
		    mailbox_get_last_internal_error(mail->box, NULL));
		log_outcome(auser, box, append, out, FALSE);
		return;
	}
	if (mail_get_received_date(mail, &received) < 0 || received == (time_t)-1)
		received = time(NULL);
	req.append = append;
	req.user = (char *)box->storage->user->username;
	req.mailbox = (char *)mailbox_get_vname(box);
	req.env_from = (char *)env_from;
	i_assert(strlen(sha) < sizeof(req.sha256));
	memcpy(req.sha256, sha, strlen(sha) + 1);
	req.received_at = (long long)received;
	req.head = (unsigned char *)head->data;
	req.head_len = head->used;

	if (atsmail_ask(&auser->set, &req, &out->answer, out->why, sizeof(out->why)) == 0) {
		switch (out->answer.status) {
		case ATSM_FILING_OK:
			out->ok = TRUE;
			break;
		case ATSM_FILING_TEMPFAIL:
			service_tempfail = TRUE;
			i_snprintf(out->why, sizeof(out->why), "atsmaild answered TEMPFAIL "
			    "(%s): %s", out->answer.result, out->answer.text);
			break;
		case ATSM_FILING_ERROR:
			i_snprintf(out->why, sizeof(out->why), "atsmaild answered ERROR, it found "
			    "the request malformed (%s): %s", out->answer.result, out->answer.text);
			break;
		}
	}
	log_outcome(auser, box, append, out, service_tempfail);
}
