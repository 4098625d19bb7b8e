/* outbound/decide.h -- what to do with one sent mail, decided from its
 * facts and the directory alone: the pure step of the outbound pipeline
 *
 *	facts (outbound/facts.h) -> directory (store/directory.h)
 *	    -> atsm_out_decide() -> the plan
 *	    -> record payload + effects (outbound/record.h)
 *
 * atsm_out_decide() reads the directory through its operations only (the
 * LMDB snapshot in atsmaild, plain arrays in the unit tests), never
 * changes it, and holds no SQL: every guard, command check and policy is
 * decided the same way whether PostgreSQL is up or down.  The plan says:
 * pass untouched (not ATS mail, unknown sender), reject (bad command,
 * guard), hold, or record -- with every action the milter front takes
 * (the token, the VERP stamp, the command recipients to remove) and
 * everything the record needs.  The order of the decisions and their
 * sentences: docs/outbound.md.
 *
 * A plan owns its memory (one arena, bounded by the settings): free it
 * with atsm_out_plan_free().  Processes are named by resume and job; their
 * id is 0 until PostgreSQL has recorded them.  A recipient may be the
 * resume that intake mail is making (id 0, store/directory.h): it is
 * linked, counted by the guard, given a phase and selection processes
 * like any resume, named by its address (resume_addr).
 */
#ifndef ATSM_OUTBOUND_DECIDE_H
#define ATSM_OUTBOUND_DECIDE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"
#include "base/conf.h"
#include "base/err.h"
#include "outbound/facts.h"
#include "outbound/refusal.h"
#include "pipeline/recset.h"
#include "pipeline/visibility.h"
#include "rules/command.h"
#include "rules/policy.h"
#include "rules/token.h"
#include "store/directory.h"

enum atsm_out_verdict {
	ATSM_OUT_PASS,       /* not ATS mail (or no known sender): touch nothing, record nothing */
	ATSM_OUT_RECORD,     /* ATS mail: apply the actions below, then record */
	ATSM_OUT_REJECT,     /* 550 5.7.1 reply_text; nothing recorded or changed */
	ATSM_OUT_HOLD,       /* like RECORD, plus put the mail on hold (reply_text as reason) */
	ATSM_OUT_TAKE,       /* ats+bulk / ats+template: not delivered; the plan's take says
	                        what the bulk job is (the milter makes it, then discards) */
	ATSM_OUT_DECISION    /* ats+approve.<id> / ats+reject.<id> alone (commands.approval):
	                        the milter records the request (atsm_out_approval_answer),
	                        then discards; nothing is recorded as mail */
};

enum atsm_out_mode {
	ATSM_OUT_LIVE,       /* the mail is being sent: invalid commands reject it */
	ATSM_OUT_REPLAY      /* from a format-1 journal entry: the mail has left already;
	                        invalid commands are skipped and noted, never rejected */
};

enum atsm_out_rcpt_kind { ATSM_OUT_TO, ATSM_OUT_CC, ATSM_OUT_BCC };

struct atsm_out_rcpt {
	const char *addr;              /* as written */
	const char *norm;              /* normalised (atsm_addr_normalize) */
	enum atsm_out_rcpt_kind kind;  /* To/Cc from headers; envelope-only = Bcc */
	bool in_envelope;
	bool is_command;               /* ats+...@ats_domain: consumed, never delivered or recorded */
	enum atsm_record_kind record_kind;  /* RESUME, CONTACT: the address's first record; NONE */
	long long record_id;           /* 0 with RESUME: the resume in the making of norm */
	bool ambiguous;                /* the address belongs to several records */
};

/* What the recorded message is linked to. */
struct atsm_out_link {
	enum atsm_record_kind kind;    /* RESUME, CONTACT, JOB, PROCESS */
	long long id;                  /* PROCESS: 0 while not recorded */
	long long resume_id, job_id;   /* PROCESS */
	const char *resume_addr;       /* RESUME id 0, PROCESS of resume 0: the address of the
	                                  resume in the making (in the plan); else NULL */
	char rule[ATSM_REC_RULE_MAX];  /* recipient_address | command (message_links.rule) */
	bool ambiguous;
};

/* The phase ats+phase gives a linked resume or contact (processes: procs). */
struct atsm_out_phase_change {
	enum atsm_record_kind kind;    /* RESUME, CONTACT */
	long long id;
	const char *resume_addr;       /* RESUME id 0: as in struct atsm_out_link */
	char from_phase[ATSM_DIR_PHASE_MAX];   /* as the directory said */
	char to_phase[ATSM_DIR_PHASE_MAX];
};

/* A selection process that ats+job creates or moves (resume x job). */
struct atsm_out_process {
	long long resume_id, job_id;
	const char *resume_addr;       /* resume 0: as in struct atsm_out_link */
	bool exists;                   /* in the directory (recorded, or journaled before) */
	long long process_id;          /* processes.id; 0 = new, or not recorded yet */
	char from_phase[ATSM_DIR_PHASE_MAX];   /* exists: its phase now; "" when new */
	char to_phase[ATSM_DIR_PHASE_MAX];     /* the phase to set; "" = keep (exists, no ats+phase) */
};

/* One recipient of a taken mail: a non-command envelope recipient and the
 * record its address belongs to (the first resume, else contact, as the
 * matching of struct atsm_out_rcpt), or none. */
struct atsm_out_take_rcpt {
	const char *addr;              /* normalised */
	enum atsm_record_kind kind;    /* RESUME, CONTACT, or NONE: unmatched */
	long long id;
};

/* What a TAKE plan asks for: a bulk job (docs/bulk.md, "SMTP-time checks"). */
struct atsm_out_take {
	bool bulk;                     /* ats+bulk: one mail per recipient (origin "mail");
	                                  else one template mail (origin "template") */
	char list[ATSM_COMMAND_CODE_MAX + 1];          /* ats+bulk.<list>; "" = none */
	char template_code[ATSM_COMMAND_CODE_MAX + 1]; /* ats+template.<code>; "" = none */
	struct atsm_out_take_rcpt *rcpts;
	size_t n_rcpts, n_matched;
	char *commands_json;           /* {"phase":..,"jobs":[..],"share":..} (arena) */
	size_t limit;                  /* bulk_max_recipients in force */
};

/* Bounds of a plan.  A LIVE mail that would pass one is rejected with a
 * sentence; REPLAY keeps the first ones and says so in notes. */
#define ATSM_OUT_MAX_LINKS 4096       /* resumes and contacts of one mail */
#define ATSM_OUT_MAX_PROCESSES 100    /* resumes x jobs of the ats+job commands */
#define ATSM_OUT_MAX_REFS 50          /* Message-IDs of References + In-Reply-To */
#define ATSM_OUT_REPLY_MAX 512
#define ATSM_OUT_NOTES_MAX 512
#define ATSM_OUT_VERP_MAX 320

struct atsm_out_plan {
	enum atsm_out_verdict verdict;
	char reply_text[ATSM_OUT_REPLY_MAX];   /* REJECT / HOLD: the sentence for the sender */
	struct atsm_refusal refusal;   /* REJECT: why, as data (its text = reply_text) */
	/* the sender (user_id 0 when unknown) */
	long long user_id;
	char user_login[ATSM_DIR_LOGIN_MAX];
	enum atsm_sharing_mode sharing_mode;
	/* every To/Cc/Bcc recipient once, commands included */
	struct atsm_out_rcpt *rcpts;
	size_t n_rcpts;
	char **counterparts;           /* normalised non-command recipients */
	size_t n_counterparts;
	size_t n_candidates;           /* distinct resumes shown in To/Cc (the guard's count) */
	struct atsm_command_set commands;      /* the parsed ats+ commands (commands.any) */
	/* what the record does (RECORD and HOLD only; empty otherwise) */
	struct atsm_out_link *links;
	size_t n_links;
	struct atsm_out_phase_change *phases;
	size_t n_phases;
	long long jobs[ATSM_COMMAND_MAX_JOBS]; /* ats+job ids that exist */
	size_t n_jobs;
	struct atsm_out_process *procs;
	size_t n_procs;
	struct atsm_vis vis;           /* visibility, its name and reason */
	/* the message */
	char *subject;                 /* decoded to UTF-8; NULL when absent */
	char *message_id;              /* without <>; NULL when the mail has none */
	char **refs;                   /* References then In-Reply-To ids, without <> */
	size_t n_refs;
	bool in_thread;                /* a ref names a message of the directory ... */
	struct atsm_dir_msgref thread; /* ... and this is its thread */
	bool msgid_recorded;           /* the Message-ID is recorded as sent already:
	                                  recording it again records nothing */
	/* stamps (LIVE) */
	char token[ATSM_TOKEN_MAX];    /* X-ATS-Ref: facts.token, else one made with keys, else "" */
	char verp_sender[ATSM_OUT_VERP_MAX];   /* stamped envelope sender, "" = do not stamp */
	char notes[ATSM_OUT_NOTES_MAX];        /* commands skipped (REPLAY), guard allowed */
	char command_at[ATSM_OUT_VERP_MAX];    /* HOLD: "<localpart>@<ats_domain>", where its
	                                          approvers send ats+approve.<id>; "" = no
	                                          commands (ats_domain unset) */
	struct atsm_out_take take;     /* TAKE only */
	struct atsm_arena arena;       /* everything above that is a pointer */
};

/* Decide.  conf gives ats_domain, command_localpart, company_domains,
 * address_max_count, decode_max_bytes, the guard action and the VERP
 * settings; keys the token secret.  keys may be NULL: a mail without
 * facts.token then gets no token (no X-ATS-Ref, no VERP).  When the plan
 * makes the token (facts.token empty), the caller puts it on the mail.
 * Returns 0 with the plan, or -1 when the directory failed (err is its
 * error, class UNAVAILABLE or IO) or memory ran out (NOMEM) or no process
 * phase is configured (INTERNAL): the plan is then empty (PASS, nothing
 * in it) and the caller applies its failure policy.  The plan is always
 * initialised: atsm_out_plan_free() may be called after either. */
int atsm_out_decide(const struct atsm_dir *dir, const struct atsm_conf *conf,
    const struct atsm_token_keys *keys, const struct atsm_out_facts *f,
    enum atsm_out_mode mode, struct atsm_out_plan *p, struct atsm_err *err);

/* RCPT time: is rcpt (one envelope recipient, as written) a command
 * address that is wrong on its own (unknown command, malformed id or
 * code, unknown job, phase or record)?  f holds what is known at RCPT (the
 * envelope sender, the login, non_smtp).  Returns 0 to accept (not a
 * command address, or nothing wrong with it alone: the end of the message
 * decides the rest), 1 to refuse with r (r->at_rcpt, r->text is the 550
 * 5.7.1 sentence), -1 when the directory failed (err; the caller accepts
 * and the end of the message decides). */
int atsm_out_decide_rcpt(const struct atsm_dir *dir, const struct atsm_conf *conf,
    const struct atsm_out_facts *f, const char *rcpt, struct atsm_refusal *r,
    struct atsm_err *err);

/* Free what a plan holds; p may be zeroed or filled by atsm_out_decide(). */
void atsm_out_plan_free(struct atsm_out_plan *p);

/* A TAKE plan's checks again over the recipients the milter found beyond
 * the envelope (a list, a CSV): n recipients, of which matched have a
 * record.  0 when they pass; 1 with r (limit, no match, none at all). */
int atsm_out_take_check(const struct atsm_conf *conf, const struct atsm_out_plan *p,
    size_t n, size_t matched, struct atsm_refusal *r);

/* A DECISION plan: what atsmail.approval_by_mail() answered (state
 * "recorded", "not_user", "not_held", "decided", "not_approver"; sender:
 * the held mail's sender, or the login; decided: "released by x") as 0
 * (recorded: accept, deliver nowhere) or 1 with r (550 5.7.1 r->text). */
int atsm_out_approval_answer(const struct atsm_conf *conf, const struct atsm_command_set *cs,
    const char *state, const char *sender, const char *decided, struct atsm_refusal *r);

/* "pass", "record", "reject", "hold", "take", "decision"; "to", "cc", "bcc". */
const char *atsm_out_verdict_name(enum atsm_out_verdict v);
const char *atsm_out_rcpt_kind_name(enum atsm_out_rcpt_kind k);

#endif
