/* inbound/inbound.h -- the inbound pipeline: from the facts of one mail that
 * reached a mailbox (LMTP/LDA delivery, or an IMAP APPEND such as a Sent
 * copy) to its filing against records.
 *
 * The Dovecot plugin collects facts (the headers that matter, the envelope
 * as Dovecot recorded it, and a classification of the raw message: bounce,
 * auto-reply, mailer-daemon) into struct atsm_in_facts, then:
 *
 *   atsm_in_plan()    matches the mail against records, strongest rule first
 *                     (In-Reply-To/References of a recorded message; a valid
 *                     atsmail token whose record the sender takes part in;
 *                     the sender's address; an intake address), finds the
 *                     sent item of a bounce, applies the phase rules and the
 *                     visibility policy, and says which IMAP keywords to set;
 *   atsm_in_record()  records the plan in one transaction, idempotently: the
 *                     same mail reaching several mailboxes, or appended as a
 *                     Sent copy, is one message with one copy row per mailbox.
 *
 * When the database is unavailable the plugin journals the facts
 * (atsm_in_facts_to_json, kind "inbound.message") and `atsmailctl replay`
 * runs the same functions later.  Nothing here knows Dovecot.
 *
 * Additions to the lead's contract (issue 4, inbound helper): the facts
 * JSON carries "v":1; atsm_in_facts_make_key() (the idempotency key of one
 * copy: Message-ID, else body hash, with mailbox user and mailbox);
 * atsm_in_verdict_name(); the plan has the counterparts, the thread, the
 * owner's login, already_recorded, and phase changes name their cause;
 * bounds ATSM_IN_MAX_*.  The matching order, what is recorded and the
 * replay semantics are in docs/inbound.md.
 */
#ifndef ATSM_INBOUND_H
#define ATSM_INBOUND_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "base/conf.h"
#include "store/db.h"
#include "base/err.h"
#include "rules/token.h"

/* IMAP keywords the plugin sets (clients show and search them). */
#define ATSM_KW_FILED      "$ATS"            /* filed against a record */
#define ATSM_KW_AMBIGUOUS  "$ATSAmbiguous"   /* several records matched: linked to all */
#define ATSM_KW_UNFILED    "$ATSUnfiled"     /* intake mail waiting for an admin (unresolved item) */
#define ATSM_KW_NEWRECORD  "$ATSNewRecord"   /* intake mail that created a resume */
#define ATSM_KW_BOUNCE     "$ATSBounce"      /* a bounce of a recorded sent item */
#define ATSM_KW_AUTOREPLY  "$ATSAutoReply"   /* an auto-reply: filed, no phase rule */
#define ATSM_KW_SENT       "$ATSSent"        /* a Sent copy of recorded outbound mail */
#define ATSM_IN_MAX_KEYWORDS 8

/* Bounds (additions). */
#define ATSM_IN_FACT_MAX (1024u * 1024u)  /* bytes of one string of the facts */
#define ATSM_IN_MAX_BOUNCED 100           /* failed recipients kept (= ATSM_DSN_MAX_RCPTS) */
#define ATSM_IN_MAX_LINKS 1024            /* links of one plan */
#define ATSM_IN_MAX_PHASES 256            /* phase changes of one plan */
#define ATSM_IN_MAX_REFS 50               /* Message-IDs of References looked at */

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
	/* classification of the raw message (atsm_in_facts_classify) */
	bool is_bounce;
	bool is_feedback;       /* an abuse/feedback report: not a bounce, not filed */
	bool is_autoreply;
	bool from_mailer_daemon;
	char classify_reason[160];
	struct atsm_in_bounced *bounced;  /* failed recipients of a bounce */
	size_t n_bounced;
	char *orig_message_id;  /* Message-ID of the bounced original, if found */
	char *orig_env_from;    /* its envelope sender (VERP stamp), if found */
	char *orig_ats_ref;     /* its X-ATS-Ref, if found */
	char idem_key[65];      /* journal/record idempotency key */
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
 * now, and idem_key by atsm_in_facts_make_key() when mailbox_user is set. */
int atsm_in_facts_from_message(struct atsm_in_facts *f, const char *msg, size_t len,
                               const struct atsm_conf *conf, struct atsm_err *err);
json_t *atsm_in_facts_to_json(const struct atsm_in_facts *f);
int atsm_in_facts_from_json(const json_t *j, struct atsm_in_facts *f, struct atsm_err *err);
/* (addition) idem_key = atsm_journal_make_key("inbound", Message-ID, else
 * body_sha256, with mailbox_user and mailbox): one key per copy, so that
 * a replayed delivery adds no second copy.  0, or -1 when the facts have
 * neither a Message-ID nor a body hash, or no mailbox user. */
int atsm_in_facts_make_key(struct atsm_in_facts *f);

enum atsm_in_verdict {
	ATSM_IN_IGNORE,       /* not ATS mail: nothing recorded, no keyword */
	ATSM_IN_FILE,         /* filed against records (a reply, or mail from a known sender) */
	ATSM_IN_BOUNCE,       /* marks a recorded sent item's recipients bounced */
	ATSM_IN_INTAKE,       /* intake mail: creates a resume or an unresolved item */
	ATSM_IN_SENT_COPY     /* a copy of recorded outbound mail: a copy row only */
};

struct atsm_in_link {
	char kind[8];         /* resume | contact | job | process */
	long long id;
	char rule[20];        /* in_reply_to | references | token | verp | reply_to | sender_address | intake */
	bool ambiguous;
};

struct atsm_in_phase_change {
	char kind[8];         /* resume | contact | process */
	long long record_id;
	char from_phase[33];
	char to_phase[33];
	long long rule_id;    /* phase_rules.id that fired */
	char cause[8];        /* (addition) phase_history.cause: reply | bounce */
};

struct atsm_in_plan {
	enum atsm_in_verdict verdict;
	long long mailbox_user_id;     /* users.id of the mailbox owner (0 = not a user) */
	long long message_id;          /* existing messages.id when already recorded (copies, sent copy) */
	long long bounced_message_id;  /* BOUNCE: the sent item */
	struct atsm_in_link *links;
	size_t n_links;
	bool ambiguous;
	struct atsm_in_phase_change *phases;
	size_t n_phases;
	char visibility[8];            /* shared | admins | private */
	char visibility_reason[256];
	char *subject;                 /* decoded to UTF-8 */
	char *rfc_message_id;          /* without <> (renamed from message_id: the contract
	                                  declared message_id twice, which cannot compile) */
	char *sender;                  /* normalised sender address */
	char *sender_name;             /* decoded display name (intake: the new resume's name) */
	bool intake_unresolved;        /* INTAKE: an unresolved item rather than a resume */
	char intake_address[256];
	const char *keywords[ATSM_IN_MAX_KEYWORDS];  /* ATSM_KW_* to set, NULL-terminated */
	char notes[512];               /* why (for the log): which rule matched, what was skipped */
	/* additions */
	char owner_login[256];         /* users.login of the mailbox owner, "" when not a user */
	char **counterparts;           /* sender + other To/Cc addresses, normalised */
	size_t n_counterparts;
	long long thread_id;           /* thread of the replied-to message (0 = none) */
	char *thread_root;             /* first Message-ID of References (or In-Reply-To) */
	bool already_recorded;         /* message_id is this mail's 'in' row (another mailbox
	                                  got it first): record adds the copy and links only */
};

/* "ignore", "file", "bounce", "intake", "sent_copy". */
const char *atsm_in_verdict_name(enum atsm_in_verdict v);

void atsm_in_plan_free(struct atsm_in_plan *p);

enum atsm_in_mode { ATSM_IN_LIVE, ATSM_IN_REPLAY };

/* Decide.  0 with the plan, or -1 when it failed: err->cls says
 * UNAVAILABLE (the database is down) or anything else. */
int atsm_in_plan(PGconn *conn, const struct atsm_conf *conf, const struct atsm_token_keys *keys,
                 const struct atsm_in_facts *f, enum atsm_in_mode mode,
                 struct atsm_in_plan *p, struct atsm_err *err);

/* Record a plan whose verdict is not IGNORE, in one transaction.
 * 0 recorded, 1 already recorded (same idem key: nothing done), -1 failed
 * (err and its class say why). */
int atsm_in_record(PGconn *conn, const struct atsm_in_facts *f, const struct atsm_in_plan *p,
                   struct atsm_err *err);

#endif
