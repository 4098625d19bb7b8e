/* service/smtp-client.h -- a small SMTP client for atsmail's own mail: the
 * explanation of a refusal (atsmaild/explain.c) and the mails of a bulk
 * job (atsmaild/bulk.c), both submitted to the local Postfix.
 *
 * One session carries many mails (RSET between them is not needed after a
 * completed transaction); every read and write is bounded by a timeout.
 * Replies are kept whole (the last line of a multi-line reply), so that the
 * caller can log them and read the queue id of "250 2.0.0 Ok: queued as
 * 4Xyz".  The dialogue is serial: one command, one reply.
 */
#ifndef ATSM_SERVICE_SMTP_CLIENT_H
#define ATSM_SERVICE_SMTP_CLIENT_H

#include <stddef.h>

#define ATSM_SMTP_REPLY_MAX 1024

struct atsm_smtp {
	int fd;
	char where[256];                 /* host:port, [v6]:port or unix:/path */
	char reply[ATSM_SMTP_REPLY_MAX]; /* the last reply's text, one line */
	int code;                        /* its code; -1 = none (I/O failure) */
};

/* Connect to where ("host:port", "[IPv6]:port" or "unix:/path"), read the
 * greeting and say EHLO helo (the host name when NULL), with timeout_s per
 * read and write.  0, or -1 with s->reply saying why (s->code the reply's
 * code, or -1 when the connection failed). */
int atsm_smtp_open(struct atsm_smtp *s, const char *where, const char *helo, int timeout_s);
void atsm_smtp_close(struct atsm_smtp *s);   /* QUIT when open, then close */

/* One transaction: MAIL FROM:<from> ("" = the null sender), RCPT TO each of
 * rcpts (rcpt_codes[i] receives each reply's code when not NULL), DATA of
 * msg (LF or CRLF line ends; dot-stuffed here).  Returns the final reply's
 * code (250 when the mail was taken; 4xx, 5xx), with its text in
 * s->reply; a transaction refused before DATA (MAIL, or every RCPT) is
 * reset with RSET and returns that refusal; -1 when the connection failed
 * (then it is closed).  At least one recipient refused while others were
 * taken still sends the mail to those taken. */
int atsm_smtp_send(struct atsm_smtp *s, const char *from, const char *const *rcpts,
    size_t n_rcpts, int *rcpt_codes, const char *msg, size_t len);

/* The queue id of a reply "250 2.0.0 Ok: queued as 4Xyz" into out, or "". */
void atsm_smtp_queue_id(const char *reply, char *out, size_t size);

#endif
