/* journal-v1.c -- writes format-1 journal entries as the milter and the
 * Dovecot plugin of earlier releases wrote them while the database was
 * down, for the tests of `atsmailctl replay` (tests/e2e/replay.sh,
 * tests/e2e/replay-inbound.sh).
 *
 *   journal-v1 inbound DIR USER MAILBOX delivery|append FILE [UID]
 *       the facts of the mail in FILE as delivered to (or appended into)
 *       USER's MAILBOX: lib/inbound/facts.c reads them from the message
 *       (Return-Path, Delivered-To, headers, bounce, auto-reply) and
 *       writes their JSON; appended to DIR/dovecot.jsonl, kind
 *       "inbound.message"
 *   journal-v1 outbound DIR QUEUE_ID LOGIN ENV_FROM RCPT[,RCPT...] FILE
 *       the facts of the mail in FILE as the milter saw it (envelope from
 *       the arguments; LOGIN "-" for none), keyed as it keyed them (queue
 *       ID, Message-ID, time); lib/outbound/facts.c writes their JSON;
 *       appended to DIR/milter.jsonl, kind "outbound.message"
 *
 * Both append with atsm_journal_append(), the writer those releases used.
 * Prints the idempotency key of the entry.  Exit 0, or 1 with a message.
 * Only what the old writers did is done here: the JSON is theirs, so a
 * replay test reads exactly what they journaled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "base/buf.h"
#include "base/err.h"
#include "inbound/facts.h"
#include "mail/mime.h"
#include "outbound/facts.h"
#include "store/journal.h"

#define FILE_MAX (8u * 1024u * 1024u)

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	size_t n;

	if (fp == NULL)
		return NULL;
	if ((buf = malloc(FILE_MAX + 1)) == NULL) {
		fclose(fp);
		return NULL;
	}
	n = fread(buf, 1, FILE_MAX, fp);
	fclose(fp);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int
append(const char *dir, const char *component, const char *kind, const char *key, json_t *data)
{
	struct atsm_journal *j;
	struct atsm_err err;
	int rc;

	atsm_err_clear(&err);
	if (data == NULL) {
		fprintf(stderr, "journal-v1: the facts could not be written as JSON\n");
		return 1;
	}
	if ((j = atsm_journal_open(dir, component, &err)) == NULL) {
		fprintf(stderr, "journal-v1: %s\n", err.msg);
		return 1;
	}
	rc = atsm_journal_append(j, kind, key, data, &err);
	atsm_journal_close(j);
	if (rc < 0) {
		fprintf(stderr, "journal-v1: %s\n", err.msg);
		return 1;
	}
	printf("%s\n", key);
	return 0;
}

static int
inbound(char **argv, int argc)
{
	struct atsm_in_facts f;
	struct atsm_err err;
	size_t len = 0;
	char *msg;
	json_t *j;
	int rc;

	if ((msg = slurp(argv[5], &len)) == NULL) {
		fprintf(stderr, "journal-v1: cannot read %s\n", argv[5]);
		return 1;
	}
	atsm_in_facts_init(&f);
	atsm_err_clear(&err);
	f.how = strcmp(argv[4], "append") == 0 ? ATSM_IN_APPEND : ATSM_IN_DELIVERY;
	f.mailbox_user = strdup(argv[2]);
	f.mailbox = strdup(argv[3]);
	f.imap_uid = argc > 6 ? strtoul(argv[6], NULL, 10) : 0;
	if (f.mailbox_user == NULL || f.mailbox == NULL ||
	    atsm_in_facts_from_message(&f, msg, len, NULL, &err) < 0 || f.idem_key[0] == '\0') {
		fprintf(stderr, "journal-v1: %s: %s\n", argv[5], err.msg[0] ? err.msg : "no key");
		atsm_in_facts_free(&f);
		free(msg);
		return 1;
	}
	j = atsm_in_facts_to_json(&f);
	rc = append(argv[1], "dovecot", "inbound.message", f.idem_key, j);
	json_decref(j);
	atsm_in_facts_free(&f);
	free(msg);
	return rc;
}

static char *
header(const struct atsm_mime_headers *h, const char *name)
{
	const char *v = atsm_mime_header(h, name);

	return v != NULL ? strdup(v) : NULL;
}

static void
sha256_hex(const char *p, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	out[0] = '\0';
	if (EVP_Digest(p, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
		return;
	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int
outbound(char **argv)
{
	struct atsm_out_facts f;
	struct atsm_mime_headers h;
	struct atsm_buf unique;
	size_t len = 0, body_at = 0, n;
	char *msg, *rcpts, *r, *save = NULL;
	json_t *j;
	int rc = 1;

	if ((msg = slurp(argv[6], &len)) == NULL) {
		fprintf(stderr, "journal-v1: cannot read %s\n", argv[6]);
		return 1;
	}
	atsm_out_facts_init(&f);
	if (atsm_mime_headers_parse(msg, len, 0, 0, &h, &body_at) < 0) {
		fprintf(stderr, "journal-v1: %s: out of memory\n", argv[6]);
		free(msg);
		return 1;
	}
	f.queue_id = strdup(argv[2]);
	f.login = strcmp(argv[3], "-") != 0 ? strdup(argv[3]) : NULL;
	f.env_from = strdup(argv[4]);
	rcpts = strdup(argv[5]);
	n = 1;
	for (r = rcpts; r != NULL && *r != '\0'; r++)
		n += *r == ',';
	f.env_rcpts = calloc(n, sizeof(*f.env_rcpts));
	for (r = strtok_r(rcpts, ",", &save); r != NULL && f.env_rcpts != NULL;
	    r = strtok_r(NULL, ",", &save))
		f.env_rcpts[f.n_env_rcpts++] = strdup(r);
	free(rcpts);
	f.hdr_from = header(&h, "From");
	f.hdr_to = header(&h, "To");
	f.hdr_cc = header(&h, "Cc");
	f.hdr_message_id = header(&h, "Message-ID");
	f.hdr_subject = header(&h, "Subject");
	f.hdr_in_reply_to = header(&h, "In-Reply-To");
	f.hdr_references = header(&h, "References");
	f.hdr_date = header(&h, "Date");
	atsm_mime_headers_free(&h);
	f.body_size = body_at <= len ? len - body_at : 0;
	sha256_hex(msg + (body_at <= len ? body_at : len), f.body_size, f.body_sha256);
	f.submitted_at = (long long)time(NULL);
	/* the milter's key: queue ID, Message-ID and the time it saw the mail */
	atsm_buf_init(&unique, 64 * 1024);
	if (f.queue_id == NULL || f.env_from == NULL || f.env_rcpts == NULL ||
	    atsm_buf_printf(&unique, "%s\n%s\n%lld", f.queue_id,
	    f.hdr_message_id != NULL ? f.hdr_message_id : "", f.submitted_at) < 0 ||
	    atsm_journal_make_key("milter", atsm_buf_str(&unique), f.idem_key) < 0) {
		fprintf(stderr, "journal-v1: %s: out of memory\n", argv[6]);
		goto out;
	}
	j = atsm_out_facts_to_json(&f);
	rc = append(argv[1], "milter", "outbound.message", f.idem_key, j);
	json_decref(j);
out:
	atsm_buf_free(&unique);
	atsm_out_facts_free(&f);
	free(msg);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc >= 6 && strcmp(argv[1], "inbound") == 0)
		return inbound(argv + 1, argc - 1);
	if (argc == 8 && strcmp(argv[1], "outbound") == 0)
		return outbound(argv + 1);
	fprintf(stderr, "usage: journal-v1 inbound DIR USER MAILBOX delivery|append FILE [UID]\n"
	    "       journal-v1 outbound DIR QUEUE_ID LOGIN ENV_FROM RCPT[,RCPT...] FILE\n");
	return 2;
}
