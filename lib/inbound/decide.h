/* inbound/decide.h -- what to do with one mail that reached a mailbox:
 * the decision of the inbound pipeline, a pure function of the facts
 * (inbound/facts.h) and of what the directory (store/directory.h) says.
 *
 *	facts -> directory -> atsm_in_decide() -> plan
 *	plan  -> atsm_in_record_payload() (journal, then PostgreSQL)
 *	      -> atsm_in_effects()        (the snapshot, at once)
 *
 * atsm_in_decide() matches the mail against records, strongest rule
 * first (In-Reply-To/References of a recorded message; a valid atsmail
 * token whose message the sender takes part in; the sender's address; an
 * intake address), finds the sent item of a bounce, applies the phase
 * rules and the visibility policy, and says which IMAP keywords to set.
 * It reads the directory only (never writes it), runs no SQL, and gives
 * the same plan for the same facts and the same directory: with the
 * database up or down, live or replayed.  The order of the decisions is
 * in docs/inbound.md and at the head of inbound/decide.c.
 *
 * Records and messages may not have an id yet (made by a mail still in
 * the journal): a process is then named by resume and job, a message by
 * its idempotency key (struct atsm_dir_msgref), and the resume that intake
 * mail is making (store/directory.h) by its address: a newcomer's second
 * mail is filed on it like any sender's (rule sender_address, its phase
 * 'new' moved by the reply rules) with the database up or down.
 */
#ifndef ATSM_INBOUND_DECIDE_H
#define ATSM_INBOUND_DECIDE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/conf.h"
#include "base/err.h"
#include "inbound/facts.h"
#include "pipeline/recset.h"
#include "pipeline/visibility.h"
#include "rules/policy.h"
#include "rules/token.h"
#include "store/directory.h"

/* IMAP keywords the plugin sets (clients show and search them). */
#define ATSM_KW_FILED      "$ATS"            /* filed against a record */
#define ATSM_KW_AMBIGUOUS  "$ATSAmbiguous"   /* several records matched: linked to all */
#define ATSM_KW_UNFILED    "$ATSUnfiled"     /* intake mail waiting for an admin (unresolved item) */
#define ATSM_KW_NEWRECORD  "$ATSNewRecord"   /* intake mail that created a resume */
#define ATSM_KW_BOUNCE     "$ATSBounce"      /* a bounce of a recorded sent item */
#define ATSM_KW_AUTOREPLY  "$ATSAutoReply"   /* an auto-reply: filed, no phase rule */
#define ATSM_KW_RECEIPT    "$ATSReceipt"     /* a read receipt (MDN) in a thread: no phase rule */
#define ATSM_KW_LIST       "$ATSList"        /* list mail in a thread: no phase rule */
#define ATSM_KW_SENT       "$ATSSent"        /* a Sent copy of recorded outbound mail */
#define ATSM_IN_MAX_KEYWORDS 8

/* Bounds. */
#define ATSM_IN_MAX_LINKS 1024            /* records of one plan (links and targets) */
#define ATSM_IN_MAX_PHASES 256            /* phase changes of one plan */
#define ATSM_IN_MAX_REFS 50               /* Message-IDs of In-Reply-To, of References, looked at */
#define ATSM_IN_ARENA_MAX (32u * 1024u * 1024u)  /* directory answers of one decision */

enum atsm_in_verdict {
	ATSM_IN_IGNORE,       /* not ATS mail: nothing recorded, no keyword */
	ATSM_IN_FILE,         /* filed against records (a reply, or mail from a known sender) */
	ATSM_IN_BOUNCE,       /* marks a recorded sent item's recipients bounced */
	ATSM_IN_INTAKE,       /* intake mail: creates a resume or an unresolved item */
	ATSM_IN_SENT_COPY     /* a copy of recorded outbound mail: a copy row only */
};

/* LIVE: a mail being delivered; REPLAY: a format-1 journal entry decided
 * later.  Both decide the same way; a replay without the token secret
 * passes keys NULL (tokens then match only their exact stored value). */
enum atsm_in_mode { ATSM_IN_LIVE, ATSM_IN_REPLAY };

struct atsm_in_link {
	enum atsm_record_kind kind;       /* RESUME, CONTACT, JOB, PROCESS */
	long long id;                     /* PROCESS: 0 while only in the journal */
	long long resume_id, job_id;      /* PROCESS */
	char rule[ATSM_REC_RULE_MAX];     /* in_reply_to | references | token | verp |
	                                     reply_to | sender_address */
	char resume_addr[ATSM_DIR_ADDR_MAX];  /* RESUME id 0, PROCESS of resume 0: the
	                                     address of the resume in the making; "" */
	bool ambiguous;
};

struct atsm_in_phase_change {
	enum atsm_record_kind kind;       /* RESUME, CONTACT, PROCESS */
	long long record_id;              /* PROCESS: 0 while only in the journal */
	long long resume_id, job_id;      /* PROCESS */
	char resume_addr[ATSM_DIR_ADDR_MAX];  /* as in struct atsm_in_link */
	char from_phase[ATSM_DIR_PHASE_MAX];
	char to_phase[ATSM_DIR_PHASE_MAX];
	long long rule_id;                /* phase_rules.id that fired */
	char cause[8];                    /* phase_history.cause: reply | bounce */
};

struct atsm_in_plan {
	enum atsm_in_verdict verdict;
	long long mailbox_user_id;        /* users.id of the mailbox owner (0 = not a user) */
	char owner_login[ATSM_DIR_LOGIN_MAX];  /* "" when not a user */
	/* SENT_COPY: the sent item; already_recorded: this mail's own 'in'
	 * message, which another mailbox recorded first (the record step adds
	 * the copy and the links only) */
	struct atsm_dir_msgref message;
	bool already_recorded;
	struct atsm_dir_msgref bounced;   /* BOUNCE: the sent item */
	/* BOUNCE: the failed recipients of the facts (f->bounced[i]) that are
	 * believed -- recipients of the sent item, and the one its VERP stamp
	 * names if it names one; only these are marked */
	bool bounce_ok[ATSM_IN_MAX_BOUNCED];
	struct atsm_dir_msgref thread;    /* first message of the replied-to message's
	                                     thread ({0, ""} = none) */
	char *thread_root;                /* first Message-ID of References (or In-Reply-To) */
	struct atsm_in_link *links;
	size_t n_links;
	bool ambiguous;
	struct atsm_in_phase_change *phases;
	size_t n_phases;
	enum atsm_visibility visibility;  /* not IGNORE */
	char visibility_reason[ATSM_VIS_REASON_MAX];
	char *subject;                    /* decoded to UTF-8 */
	char *rfc_message_id;             /* without <> */
	char *sender;                     /* normalised sender address */
	char *sender_name;                /* decoded display name (intake: the new resume's name) */
	bool intake_unresolved;           /* INTAKE: an unresolved item rather than a resume */
	char intake_address[256];
	char **counterparts;              /* sender + other To/Cc addresses, normalised */
	size_t n_counterparts;
	const char *keywords[ATSM_IN_MAX_KEYWORDS];  /* ATSM_KW_* to set, NULL-terminated */
	char notes[512];                  /* why (for the log): which rule matched, what was skipped */
};

/* "ignore", "file", "bounce", "intake", "sent_copy". */
const char *atsm_in_verdict_name(enum atsm_in_verdict v);

/* Decide.  0 with the plan; -1 when the directory failed (err is the
 * directory's, class UNAVAILABLE or IO), memory ran out (NOMEM) or the
 * facts name no mailbox user (INPUT): then nothing is decided (the plan
 * is empty, verdict IGNORE).  keys may be NULL (see atsm_in_mode).  The
 * plan is the caller's to free, after either outcome. */
int atsm_in_decide(const struct atsm_dir *dir, const struct atsm_conf *conf,
    const struct atsm_token_keys *keys, const struct atsm_in_facts *f, enum atsm_in_mode mode,
    struct atsm_in_plan *p, struct atsm_err *err);

void atsm_in_plan_free(struct atsm_in_plan *p);

#endif
