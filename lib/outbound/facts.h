/* outbound/facts.h -- the facts of one sent mail: what the milter front
 * saw (envelope, the few headers that matter, body size and hash), before
 * anything is looked up or decided.
 *
 * The facts are finished before the decision (the token and the
 * idempotency key included) and the decision never writes them.  Their
 * JSON form is the data of a format-1 journal entry ("outbound.message",
 * written by the atsmail-milter of earlier releases), which `atsmailctl
 * replay` reads back and decides (docs/outbound.md, docs/journal.md).
 */
#ifndef ATSM_OUTBOUND_FACTS_H
#define ATSM_OUTBOUND_FACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "base/err.h"
#include "rules/token.h"

#define ATSM_OUT_MAX_RCPTS 1000            /* envelope recipients read back from JSON */
#define ATSM_OUT_FACT_MAX (1024u * 1024u)  /* bytes of one string of the facts */

struct atsm_out_facts {
	char *queue_id;         /* Postfix {i}, for logs */
	char *login;            /* SASL login ({auth_authen}) or NULL */
	bool non_smtp;          /* submitted on the server (sendmail(1), Postfix's
	                           non_smtpd_milters): the envelope sender is the one
	                           Postfix checked against the submitting login */
	char *env_from;         /* MAIL FROM address without <> ("" for null sender) */
	char **env_rcpts;       /* RCPT TO addresses without <>, as given */
	size_t n_env_rcpts;
	char *hdr_from;         /* raw header values (unfolded or not), NULL if absent */
	char *hdr_to;
	char *hdr_cc;
	char *hdr_bcc;          /* a Bcc header some clients leave in the mail: only its
	                           command addresses count (the envelope says who gets it) */
	char *hdr_message_id;
	char *hdr_subject;      /* raw: RFC 2047 decoding is the decision's */
	char *hdr_in_reply_to;
	char *hdr_references;
	char *hdr_date;
	size_t body_size;       /* bytes of body seen */
	char body_sha256[65];   /* hex, "" when unknown */
	char idem_key[65];      /* journal/record idempotency key (atsm_journal_make_key) */
	char token[ATSM_TOKEN_MAX]; /* the X-ATS-Ref token given to this mail ("" = none yet) */
	long long submitted_at; /* unix time the mail was seen */
	/* LIVE only, never journaled: */
	bool bulk_marked;       /* a bulk runner's mail (its X-ATS-Bulk verified): never taken */
	bool csv_attached;      /* a text/csv part: ats+bulk recipients may come from it */
	char *preview;          /* HOLD: the first text of the body for its approvers
	                           (mail/preview.h), or NULL; goes into the record payload */
};

void atsm_out_facts_init(struct atsm_out_facts *f);
void atsm_out_facts_free(struct atsm_out_facts *f);
/* JSON form ("v":1) for the journal; from_json validates and names a
 * missing or bad field. */
json_t *atsm_out_facts_to_json(const struct atsm_out_facts *f);
int atsm_out_facts_from_json(const json_t *j, struct atsm_out_facts *f, struct atsm_err *err);

#endif
