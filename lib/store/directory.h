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

#define ATSM_DIR_LOGIN_MAX 256        /* bytes of a login, NUL included */
#define ATSM_DIR_PHASE_MAX 33         /* bytes of a phase code, NUL included */
#define ATSM_DIR_KEY_MAX 65           /* an idempotency key (hex SHA-256) and NUL */
#define ATSM_DIR_TOKEN_MAX 64         /* a message token and NUL (>= ATSM_TOKEN_MAX) */
#define ATSM_DIR_ADDR_RECORDS_MAX 1024  /* records of one address looked at */
#define ATSM_DIR_RESUME_PROCESSES_MAX 256 /* processes of one resume looked at */
#define ATSM_DIR_MESSAGE_LINKS_MAX 1024 /* links of one message */
#define ATSM_DIR_PARTICIPANTS_MAX 1200  /* addresses of one message */

enum atsm_dir_direction { ATSM_DIR_OUT, ATSM_DIR_IN };

struct atsm_dir_user {
	long long id;
	char login[ATSM_DIR_LOGIN_MAX];
	enum atsm_sharing_mode sharing_mode;
	bool default_share;
	bool needs_approval;
	bool active;
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
};

struct atsm_dir_message {
	struct atsm_dir_msgref ref;
	enum atsm_dir_direction direction;
	struct atsm_dir_msgref thread;   /* first message of its thread (itself when
	                                    it starts one) */
	enum atsm_visibility visibility;
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
 * (id may be 0: created by this mail or an earlier one not yet recorded). */
struct atsm_dir_phase_set {
	enum atsm_record_kind kind;
	long long id;
	long long resume_id, job_id;     /* PROCESS */
	char phase[ATSM_DIR_PHASE_MAX];
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
	long long at;                       /* unix time of the mail */
};

#endif
