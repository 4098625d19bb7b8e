/* outbound/outbound.h -- the outbound pipeline: from the facts of one sent mail
 * to what the milter must do with it and what the database records.
 *
 * The milter collects facts (envelope, the few headers that matter, body
 * size and hash) into struct atsm_out_facts, then:
 *
 *   atsm_out_plan()    looks up the sender, the recipients, the commands'
 *                      targets and the policy in the database and decides:
 *                      pass untouched (not ATS mail), reject (bad command,
 *                      guard), hold, or tag-and-record, with every action;
 *   atsm_out_record()  records the planned item in one transaction (message,
 *                      recipients, links, processes, phase changes, outbox
 *                      event, audit entry), idempotently by facts.idem_key.
 *
 * When the database is unavailable the milter writes the facts to the
 * journal (atsm_out_facts_to_json) and `atsmailctl replay` later runs the
 * same two functions on them (atsm_out_facts_from_json, mode REPLAY).
 * Nothing here knows libmilter.
 *
 * Additions to the lead's contract (issue 3, outbound helper): the facts
 * carry a format version in JSON ("v":1); plan->links and plan->phases are
 * heap arrays (indexing them is unchanged) bounded by ATSM_OUT_MAX_LINKS /
 * ATSM_OUT_MAX_PHASES; struct atsm_out_phase_change has from_phase; the
 * plan has the parsed commands, the selection processes (procs), the token
 * to stamp, and counts for logs.  The order of decisions, what is recorded
 * and the replay semantics are in docs/outbound.md.
 */
#ifndef ATSM_OUTBOUND_H
#define ATSM_OUTBOUND_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "rules/command.h"
#include "base/conf.h"
#include "store/db.h"
#include "base/err.h"
#include "rules/token.h"

#define ATSM_OUT_MAX_RCPTS 1000   /* bounded further by address_max_count */

/* ---- facts: what the milter saw ---------------------------------------- */
struct atsm_out_facts {
	char *queue_id;         /* Postfix {i}, for logs */
	char *login;            /* SASL login ({auth_authen}) or NULL */
	char *env_from;         /* MAIL FROM address without <> ("" for null sender) */
	char **env_rcpts;       /* RCPT TO addresses without <>, as given */
	size_t n_env_rcpts;
	char *hdr_from;         /* raw header values (unfolded or not), NULL if absent */
	char *hdr_to;
	char *hdr_cc;
	char *hdr_message_id;
	char *hdr_subject;      /* raw: RFC 2047 decoding happens in plan */
	char *hdr_in_reply_to;
	char *hdr_references;
	char *hdr_date;
	size_t body_size;       /* bytes of body seen */
	char body_sha256[65];   /* hex, "" when unknown */
	char idem_key[65];      /* journal/record idempotency key (atsm_journal_make_key) */
	char token[ATSM_TOKEN_MAX]; /* the X-ATS-Ref token given to this mail ("" = none yet) */
	long long submitted_at; /* unix time the milter saw the mail */
};

void atsm_out_facts_init(struct atsm_out_facts *f);
void atsm_out_facts_free(struct atsm_out_facts *f);
/* JSON form for the journal; from_json validates and names a missing or bad field. */
json_t *atsm_out_facts_to_json(const struct atsm_out_facts *f);
int atsm_out_facts_from_json(const json_t *j, struct atsm_out_facts *f, struct atsm_err *err);

/* ---- plan: what to do ---------------------------------------------------- */
enum atsm_out_verdict {
	ATSM_OUT_PASS,       /* not ATS mail (or no known sender): touch nothing, record nothing */
	ATSM_OUT_RECORD,     /* ATS mail: apply the actions below, then record */
	ATSM_OUT_REJECT,     /* 550 5.7.1 reply_text; nothing recorded or changed */
	ATSM_OUT_HOLD        /* like RECORD, plus put the mail on hold (smfi_quarantine, reply_text as reason) */
};

enum atsm_out_mode {
	ATSM_OUT_LIVE,       /* in the milter: invalid commands reject the mail */
	ATSM_OUT_REPLAY      /* from the journal: the mail has left already; invalid
	                        commands are skipped and noted, never rejected */
};

enum atsm_out_rcpt_kind { ATSM_OUT_TO, ATSM_OUT_CC, ATSM_OUT_BCC };

struct atsm_out_rcpt {
	char *addr;          /* as written */
	char *norm;          /* normalised (atsm_addr_normalize) */
	enum atsm_out_rcpt_kind kind;  /* To/Cc from headers; envelope-only = Bcc */
	bool in_envelope;
	bool is_command;     /* ats+...@ats_domain: consumed, never delivered or recorded */
	char record_kind[8]; /* "resume", "contact" or "" */
	long long record_id; /* first matching record (0 = none) */
	bool ambiguous;      /* the address belongs to several records */
};

struct atsm_out_link {
	char kind[8];        /* resume | contact | job | process */
	long long id;
	char rule[20];       /* recipient_address | command | ... (message_links.rule) */
	bool ambiguous;
};

struct atsm_out_phase_change {
	char kind[8];        /* resume | contact | process */
	long long record_id;
	char to_phase[33];
	char from_phase[33]; /* as plan saw it (record re-reads it under a row lock) */
};

/* A selection process that ats+job creates or moves (resume x job). */
struct atsm_out_process {
	long long resume_id;
	long long job_id;
	long long process_id;  /* existing process, 0 = to be created */
	char from_phase[33];   /* existing process: its phase now; "" when new */
	char to_phase[33];     /* phase to set; "" = keep (existing, no ats+phase) */
};

/* Bounds of the heap arrays of a plan.  A LIVE mail that would pass one is
 * rejected with a sentence; REPLAY keeps the first ones and says so in notes. */
#define ATSM_OUT_MAX_LINKS 4096
#define ATSM_OUT_MAX_PHASES 4096
#define ATSM_OUT_MAX_PROCESSES 100   /* resumes x jobs of the ats+job commands */
#define ATSM_OUT_FACT_MAX (1024u * 1024u)  /* bytes of one string of the facts */

struct atsm_out_plan {
	enum atsm_out_verdict verdict;
	char reply_text[512];        /* REJECT / HOLD: the sentence for the sender */
	long long user_id;           /* the sending user (0 when unknown) */
	char user_login[256];
	struct atsm_out_rcpt *rcpts; /* every To/Cc/Bcc recipient, commands included */
	size_t n_rcpts;
	struct atsm_out_link *links;           /* heap array, n_links entries */
	size_t n_links;
	struct atsm_out_phase_change *phases;  /* resumes, contacts, existing processes */
	size_t n_phases;
	long long jobs[20];          /* ats+job ids: processes to create/advance for each linked resume */
	size_t n_jobs;
	char visibility[8];          /* shared | admins | private */
	char visibility_reason[256];
	char *subject;               /* decoded to UTF-8 */
	char *message_id;            /* without <> ; NULL when the mail has none */
	char verp_sender[320];       /* stamped envelope sender, "" = do not stamp */
	char notes[512];             /* REPLAY: commands skipped and why */
	/* additions */
	struct atsm_command_set commands;  /* the parsed ats+ commands (commands.any) */
	struct atsm_out_process *procs;    /* heap array: ats+job processes */
	size_t n_procs;
	char token[ATSM_TOKEN_MAX];  /* X-ATS-Ref token: facts.token, else one made with keys, else "" */
	char sharing_mode[8];        /* the sender's mode (users.sharing_mode) */
	char **counterparts;         /* normalised non-command recipients (messages.counterparts) */
	size_t n_counterparts;
	size_t n_candidates;         /* distinct resumes shown in To/Cc (the guard's count) */
};

/* Free what a plan holds; p may be zeroed or filled by atsm_out_plan(). */
void atsm_out_plan_free(struct atsm_out_plan *p);

/* "pass", "record", "reject", "hold"; "to", "cc", "bcc". */
const char *atsm_out_verdict_name(enum atsm_out_verdict v);
const char *atsm_out_rcpt_kind_name(enum atsm_out_rcpt_kind k);

/* Decide.  conf gives ats_domain, company_domains, the guard action, VERP
 * settings; keys the token secret (for the VERP stamp).  keys may be NULL:
 * then a mail without facts.token gets no token (no X-ATS-Ref, no VERP).
 * When plan makes the token (p->token, facts.token empty), the milter
 * copies it into facts.token before it journals the facts, so that replay
 * records the token that the mail carries.  Returns 0 with
 * plan filled, or -1 when it failed: err->cls says UNAVAILABLE (the
 * database is down) or anything else (refused, memory, configuration) --
 * the caller then applies its failure policy and journals. */
int atsm_out_plan(PGconn *conn, const struct atsm_conf *conf, const struct atsm_token_keys *keys,
                  const struct atsm_out_facts *f, enum atsm_out_mode mode,
                  struct atsm_out_plan *p, struct atsm_err *err);

/* Record a RECORD/HOLD plan in one transaction.  Idempotent: a second call
 * with the same facts.idem_key records nothing and returns 1 ("already
 * recorded"); 0 = recorded; -1 = failed (rolled back; err and its class say
 * why). */
int atsm_out_record(PGconn *conn, const struct atsm_out_facts *f, const struct atsm_out_plan *p,
                    struct atsm_err *err);

#endif
