/* inbound/facts.h -- the facts of one mail that reached a mailbox (LMTP/LDA
 * delivery, or an IMAP APPEND such as a Sent copy): the first step of the
 * inbound pipeline, facts -> directory -> decide -> payload + effects
 * (docs/inbound.md).
 *
 * The facts are what the mail and its arrival say, finished before any
 * decision: the headers that matter, the envelope as Dovecot recorded it,
 * the classification of the raw message (bounce, feedback report, read
 * receipt, list mail, auto-reply, mailer-daemon: at most one of the
 * first five, docs/inbound-classification.md), the idempotency key of
 * this copy and the time.  inbound/decide.h decides from them and never writes them.
 *
 * The JSON form (atsm_in_facts_to_json, "v":1) is the data of the format-1
 * journal entries (kind "inbound.message") that the Dovecot plugin of
 * earlier releases wrote; atsm_in_facts_from_json reads them back for
 * atsmailctl replay.  Nothing here knows Dovecot or a database.
 */
#ifndef ATSM_INBOUND_FACTS_H
#define ATSM_INBOUND_FACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "base/conf.h"
#include "base/err.h"

#define ATSM_IN_FACT_MAX (1024u * 1024u)  /* bytes of one string of the facts */
#define ATSM_IN_MAX_BOUNCED 100           /* failed recipients kept (= ATSM_DSN_MAX_RCPTS) */

enum atsm_in_how {
	ATSM_IN_DELIVERY,   /* LMTP or LDA delivery */
	ATSM_IN_APPEND      /* IMAP APPEND (e.g. a client saving its Sent copy) */
};

struct atsm_in_bounced {
	char *addr;          /* normalised failed recipient */
	char status[16];     /* "5.1.1" */
	bool hard;
	char *diagnostic;    /* UTF-8, bounded */
};

struct atsm_in_facts {
	enum atsm_in_how how;
	char *mailbox_user;     /* Dovecot user name of the mailbox */
	char *mailbox;          /* mailbox name ("INBOX", "Sent") */
	unsigned long imap_uid; /* 0 when unknown */
	char *env_from;         /* envelope sender (Return-Path), "" for the null sender */
	char *env_to;           /* envelope recipient (LMTP RCPT / Delivered-To), may be NULL */
	char *hdr_from;         /* raw header values, NULL when absent */
	char *hdr_to;
	char *hdr_cc;
	char *hdr_reply_to;
	char *hdr_message_id;
	char *hdr_subject;
	char *hdr_in_reply_to;
	char *hdr_references;
	char *hdr_date;
	char *hdr_ats_ref;      /* X-ATS-Ref, if any */
	size_t size;
	char body_sha256[65];   /* hex of the whole message, "" when unknown */
	/* classification of the raw message */
	bool is_bounce;
	bool is_feedback;       /* an abuse/feedback report: not a bounce, not filed */
	bool is_mdn;            /* a read receipt (RFC 8098): not a reply, no phase rule */
	bool is_list;           /* list or bulk mail: filed only inside a recorded thread */
	bool is_autoreply;      /* an automatic reply: filed, no phase rule */
	bool is_generated;      /* Auto-Submitted (not "no"), or atsmail's own
	                           notification or explanation: causes no
	                           notification (sql/017) */
	bool from_mailer_daemon;  /* the address it would be filed under is a system
	                             sender (From; without one, the envelope sender) */
	char classify_reason[160];
	struct atsm_in_bounced *bounced;  /* failed recipients of a bounce */
	size_t n_bounced;
	char *orig_message_id;  /* Message-ID of the bounced original, if found */
	char *orig_env_from;    /* its envelope sender (VERP stamp), if found */
	char *orig_ats_ref;     /* its X-ATS-Ref, if found */
	char idem_key[65];      /* journal/record idempotency key of this copy */
	long long received_at;  /* unix time */
};

void atsm_in_facts_init(struct atsm_in_facts *f);
void atsm_in_facts_free(struct atsm_in_facts *f);

/* Fill the header fields and the classification from the raw message
 * (bounded by conf->inbound_parse_max_bytes; the rest is not read).
 * Fields already set by the caller are kept: set how, mailbox_user,
 * mailbox, imap_uid, env_from and env_to first (what Dovecot knows).
 * Filled when unset: env_from from Return-Path, env_to from the first
 * Delivered-To, size = len, body_sha256 over all len bytes (the message
 * as received, so that copies without a Message-ID dedupe), received_at =
 * now, and idem_key by atsm_in_facts_make_key() when mailbox_user is set.
 * An MDN without In-Reply-To and References takes its report's
 * Original-Message-ID as its In-Reply-To (the message it is about). */
int atsm_in_facts_from_message(struct atsm_in_facts *f, const char *msg, size_t len,
    const struct atsm_conf *conf, struct atsm_err *err);

/* The format-1 JSON form ("v":1, one member per field). */
json_t *atsm_in_facts_to_json(const struct atsm_in_facts *f);
int atsm_in_facts_from_json(const json_t *j, struct atsm_in_facts *f, struct atsm_err *err);

/* idem_key = atsm_journal_make_key("inbound", Message-ID, else
 * body_sha256, with mailbox_user and mailbox): one key per copy, so that
 * a delivery retried or replayed adds no second copy.  0, or -1 when the
 * facts have neither a Message-ID nor a body hash, or no mailbox user. */
int atsm_in_facts_make_key(struct atsm_in_facts *f);

#endif
