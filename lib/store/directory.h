/* store/directory.h -- what the decisions may know about the records: the
 * lookup interface of both pipelines.
 *
 * The outbound and inbound decisions (lib/outbound/decide.c,
 * lib/inbound/decide.c) read the directory only through this small table
 * of operations, never SQL: users and their addresses, resumes and
 * contacts by address or id, jobs, selection processes, phase codes and
 * rules, exclusion domains, intake addresses, and the recorded messages
 * that thread and token matching need.  Two implementations:
 *
 *	lib/store/snapshot*.c      the local LMDB snapshot that atsmaild
 *	                           keeps fresh from PostgreSQL (one read
 *	                           transaction per view: a consistent picture)
 *	tests/unit/fake-dir.c      plain arrays, for the unit tests of every
 *	                           decision, which run without any server
 *
 * The same table describes what a decided mail changes (struct
 * atsm_dir_effects): atsmaild applies it to the snapshot as soon as the
 * mail is in the journal, so that the next decision -- a reply during a
 * database outage, say -- sees it before the recorder has put it into
 * PostgreSQL.  Decisions made with the database up or down are therefore
 * made from the same kind of data in the same way.
 *
 * Intake mail makes a record in PostgreSQL only, when the recorder records
 * it; until then the directory holds "the resume that intake mail from
 * this address is making" as a resume of id 0, named by that address (see
 * "A resume in the making" below), the way it holds a selection process
 * made by ats+job as a process of id 0 named by resume and job.
 *
 * Every operation returns 1 (found, *out filled), 0 (not found) or -1
 * (the store failed: err says why, class ATSM_ERR_UNAVAILABLE or
 * ATSM_ERR_IO).  Variable-size answers (links, participants, lists) are
 * allocated in the caller's arena and live as long as it.  Addresses are
 * given and stored normalised (atsm_addr_normalize); phase codes as
 * stored (lower case).
 */
#ifndef ATSM_STORE_DIRECTORY_H
#define ATSM_STORE_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"
#include "base/err.h"
#include "rules/policy.h"

#define ATSM_DIR_LANG_MAX 8
#define ATSM_DIR_LOGIN_MAX 256        /* bytes of a login, NUL included */
#define ATSM_DIR_PHASE_MAX 33         /* bytes of a phase code, NUL included */
#define ATSM_DIR_KEY_MAX 65           /* an idempotency key (hex SHA-256) and NUL */
#define ATSM_DIR_TOKEN_MAX 64         /* a message token and NUL (>= ATSM_TOKEN_MAX) */
#define ATSM_DIR_ADDR_RECORDS_MAX 1024  /* records of one address looked at */
#define ATSM_DIR_RESUME_PROCESSES_MAX 256 /* processes of one resume looked at */
#define ATSM_DIR_MESSAGE_LINKS_MAX 1024 /* links of one message */
#define ATSM_DIR_PARTICIPANTS_MAX 1200  /* addresses of one message */
#define ATSM_DIR_ADDR_MAX 321           /* an address and NUL (addresses.addr_norm's CHECK) */

/* ---- a resume in the making ----------------------------------------------
 *
 * Intake mail from a sender no record holds, to an intake address whose
 * action is 'resume' (inbound verdict INTAKE, not unresolved), makes a new
 * resume with the sender's address -- in PostgreSQL, when the recorder
 * records the mail (atsmail.record_inbound), so it has no id before.  The
 * directory holds it at once all the same, as a resume of id 0: "the
 * resume that intake mail from this address is making, journaled here,
 * not yet recorded".  The rule:
 *
 *	records_by_addr(addr)    returns it -- kind RESUME, id 0, phase
 *	                         ATSM_DIR_NEW_RESUME_PHASE and shared
 *	                         ATSM_DIR_NEW_RESUME_SHARED (the defaults of
 *	                         the resumes table), owner the intake
 *	                         mailbox's user -- when no recorded resume
 *	                         holds addr; a recorded resume always wins
 *	                         (it is the one PostgreSQL links the mail to)
 *	record(RESUME, 0)        finds nothing: it has no id to be asked by;
 *	                         whoever holds it knows the address it came by
 *	new_resume_process(es)   its selection processes (made by ats+job
 *	                         meanwhile, id 0 too), by the address and job
 *	links, phase sets        a RESUME of id 0, and a PROCESS whose
 *	                         resume_id is 0, carry that address in
 *	                         resume_addr
 *
 * The intake mail's effects make it (new_resume, new_resume_owner below);
 * a later mail's effects may set its phase.  It lasts until PostgreSQL's
 * resume with the address is in the directory and the recorder is past
 * every mail that changed it.  Record payloads name it {"kind":
 * "resume", "id": 0, "addr": "<address>"} (a process of it: "resume": 0
 * with "addr"), which the record functions resolve, in journal order, to
 * the resume that holds the address then: the one the intake entry made
 * (docs/journal.md, "Record payloads"). */
#define ATSM_DIR_NEW_RESUME_PHASE "new"   /* resumes.phase's default */
#define ATSM_DIR_NEW_RESUME_SHARED false  /* resumes.shared's default (sql/013) */

enum atsm_dir_direction { ATSM_DIR_OUT, ATSM_DIR_IN };

struct atsm_dir_user {
	long long id;
	char login[ATSM_DIR_LOGIN_MAX];
	enum atsm_sharing_mode sharing_mode;
	bool default_share;
	bool needs_approval;
	bool active;
	char lang[ATSM_DIR_LANG_MAX];   /* users.lang: "en", "ja"; "" = the site's default_language */
};

/* A resume or contact (kind ATSM_RECORD_RESUME / ATSM_RECORD_CONTACT). */
struct atsm_dir_record {
	enum atsm_record_kind kind;
	long long id;
	bool shared;
	char phase[ATSM_DIR_PHASE_MAX];
	long long owner_id;           /* users.id, 0 = none */
};

struct atsm_dir_job {
	long long id;
	bool open;                    /* jobs.status = 'open' */
};

/* A selection process: resume x job is unique, so (resume_id, job_id)
 * names it even before PostgreSQL has given it an id. */
struct atsm_dir_process {
	long long id;                 /* processes.id; 0 = decided here, not yet recorded */
	long long resume_id;
	long long job_id;
	char phase[ATSM_DIR_PHASE_MAX];
	bool job_open;                /* its job's status is 'open' */
};

struct atsm_dir_rule {
	long long id;                 /* phase_rules.id */
	char to_phase[ATSM_DIR_PHASE_MAX];
};

/* A recorded message, named the way the record step can find it again:
 * by id once PostgreSQL has recorded it, else by its idempotency key
 * (it is in this host's journal, and the recorder keeps journal order). */
struct atsm_dir_msgref {
	long long id;                 /* messages.id, 0 = not yet recorded */
	char key[ATSM_DIR_KEY_MAX];   /* messages.idempotency_key, "" = none */
};

/* What a message is linked to.  A process link carries the resume and
 * job too (its id is 0 while the process exists only in the journal). */
struct atsm_dir_link {
	enum atsm_record_kind kind;   /* RESUME, CONTACT, JOB, PROCESS */
	long long id;
	long long resume_id, job_id;  /* PROCESS only */
	bool ambiguous;
	const char *resume_addr;      /* a RESUME of id 0, a PROCESS of resume 0: the
	                                 address of the resume in the making; else NULL */
};

struct atsm_dir_message {
	struct atsm_dir_msgref ref;
	enum atsm_dir_direction direction;
	struct atsm_dir_msgref thread;   /* first message of its thread (itself when
	                                    it starts one) */
	enum atsm_visibility visibility;
	long long owner_id;              /* users.id of its owner; 0 = none or not known */
	char token[ATSM_DIR_TOKEN_MAX];  /* "" = none (inbound mail has none) */
	struct atsm_dir_link *links;     /* in the arena */
	size_t n_links;
	/* counterparts and recipients, normalised: who takes part in it */
	const char **participants;       /* in the arena */
	size_t n_participants;
};

/* The operations; ctx is the implementation's.  See the head comment for
 * the return values. */
struct atsm_dir_ops {
	/* users: by login, or by one of their addresses (additional sender
	 * addresses included); inactive users are returned with active false */
	int (*user_by_login)(void *ctx, const char *login, struct atsm_dir_user *out,
	    struct atsm_err *err);
	int (*user_by_addr)(void *ctx, const char *addr, struct atsm_dir_user *out,
	    struct atsm_err *err);
	/* the resumes and contacts that hold addr, resumes first by
	 * ascending id, then contacts (the order of the old SQL: owner_kind
	 * DESC, owner_id); *n is set to how many were found, at most max */
	int (*records_by_addr)(void *ctx, const char *addr, struct atsm_dir_record *out,
	    size_t max, size_t *n, struct atsm_err *err);
	int (*record)(void *ctx, enum atsm_record_kind kind, long long id,
	    struct atsm_dir_record *out, struct atsm_err *err);
	int (*job)(void *ctx, long long id, struct atsm_dir_job *out, struct atsm_err *err);
	int (*process)(void *ctx, long long resume_id, long long job_id,
	    struct atsm_dir_process *out, struct atsm_err *err);
	int (*process_by_id)(void *ctx, long long id, struct atsm_dir_process *out,
	    struct atsm_err *err);
	/* the processes of a resume, by ascending job id, at most max */
	int (*processes_of_resume)(void *ctx, long long resume_id, struct atsm_dir_process *out,
	    size_t max, size_t *n, struct atsm_err *err);
	/* the same for the resume that intake mail from addr is making (id
	 * 0, see above): its processes have resume_id 0 and id 0 */
	int (*new_resume_process)(void *ctx, const char *addr, long long job_id,
	    struct atsm_dir_process *out, struct atsm_err *err);
	int (*new_resume_processes)(void *ctx, const char *addr, struct atsm_dir_process *out,
	    size_t max, size_t *n, struct atsm_err *err);
	/* an active phase code of this kind (RESUME, CONTACT or PROCESS) */
	int (*phase_active)(void *ctx, enum atsm_record_kind kind, const char *code,
	    struct atsm_err *err);
	/* the first active phase of a kind: lowest sort_order, then code */
	int (*phase_first)(void *ctx, enum atsm_record_kind kind, char out[ATSM_DIR_PHASE_MAX],
	    struct atsm_err *err);
	/* the rule that fires for event ("reply", "bounce", "sent") on a
	 * record of kind in phase from: the active rule with the highest
	 * priority, one naming from_phase before one for any phase, then the
	 * lowest id */
	int (*phase_rule)(void *ctx, enum atsm_record_kind kind, const char *event,
	    const char *from, struct atsm_dir_rule *out, struct atsm_err *err);
	/* the exact domain is in exclusion_domains (callers walk the parents) */
	int (*excluded_domain)(void *ctx, const char *domain, struct atsm_err *err);
	/* addr is an intake address; *unresolved is its action */
	int (*intake_address)(void *ctx, const char *addr, bool *unresolved,
	    struct atsm_err *err);
	/* how many records intake mail from sender made since the unix time
	 * since (resumes created from mail, unresolved items): always 1 with
	 * *count set */
	int (*intake_count)(void *ctx, const char *sender, long long since,
	    unsigned *count, struct atsm_err *err);
	/* recorded messages: by Message-ID (without brackets) and direction;
	 * by token (outbound mail) */
	int (*message_by_msgid)(void *ctx, const char *msgid, enum atsm_dir_direction dir,
	    struct atsm_arena *a, struct atsm_dir_message *out, struct atsm_err *err);
	int (*message_by_token)(void *ctx, const char *token, struct atsm_arena *a,
	    struct atsm_dir_message *out, struct atsm_err *err);
};

struct atsm_dir {
	const struct atsm_dir_ops *ops;
	void *ctx;
};

/* ---- what a decided mail changes --------------------------------------- */

/* One phase set by the mail.  For a process, resume_id and job_id name it
 * (id may be 0: created by this mail or an earlier one not yet recorded).
 * A resume of id 0, or a process of resume 0, is the resume in the making
 * of resume_addr. */
struct atsm_dir_phase_set {
	enum atsm_record_kind kind;
	long long id;
	long long resume_id, job_id;     /* PROCESS */
	char phase[ATSM_DIR_PHASE_MAX];
	const char *resume_addr;         /* RESUME id 0, PROCESS resume 0; else NULL */
};

struct atsm_dir_effects {
	/* the mail itself, when it is recorded as a message (NULL: a copy of
	 * a message the directory has already, or nothing recorded) */
	const char *msgid;                  /* without brackets; NULL = none */
	const struct atsm_dir_message *message;
	/* processes created (id 0) and phases set, in order */
	const struct atsm_dir_phase_set *phases;
	size_t n_phases;
	/* intake mail that makes a record from this sender (for intake_count) */
	const char *intake_sender;          /* NULL = none */
	/* intake mail that makes a resume (not an unresolved item): the
	 * sender's address, by which the resume in the making is known until
	 * PostgreSQL has it (see "A resume in the making"), and its owner.
	 * Nothing is made when a recorded resume holds the address already
	 * (the record function links that one); an earlier intake mail's
	 * resume in the making is kept. */
	const char *new_resume;             /* NULL = none */
	long long new_resume_owner;         /* users.id of the intake mailbox's user, 0 = none */
	long long at;                       /* unix time of the mail */
};

#endif
