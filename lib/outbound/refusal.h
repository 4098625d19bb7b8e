/* outbound/refusal.h -- why a recruiter's mail was refused, kept as data
 * so that it can be said at SMTP time (English, one line) and again in the
 * explanation mail in the recruiter's own language (what is wrong, then
 * how to fix it).  Pure: no I/O.
 *
 * Every refusal of the outbound decision (outbound/decide.h) fills one:
 * at RCPT for what concerns one command address (atsm_out_decide_rcpt),
 * at the end of the message for what concerns the whole mail.
 */
#ifndef ATSM_OUTBOUND_REFUSAL_H
#define ATSM_OUTBOUND_REFUSAL_H

#include <stdbool.h>
#include <stddef.h>

#include "base/lang.h"

#define ATSM_REFUSAL_ADDR_MAX 320
#define ATSM_REFUSAL_ARG_MAX 160
#define ATSM_REFUSAL_TEXT_MAX 512

/* Every sentence of the outbound decision.  arg[0], arg[1]: the kind's
 * details; addr: the command address concerned.  "RCPT": refused at RCPT
 * when the address alone shows it (and again at the end of the message
 * for mail that never passed the milter's RCPT stage). */
enum atsm_refusal_kind {
	ATSM_REFUSAL_NONE = 0,
	ATSM_REFUSAL_OTHER,           /* only the English sentence (text) is known */
	/* the address itself (rules/command.c): RCPT */
	ATSM_REFUSAL_NOT_COMMAND,     /* at ats_domain, not <localpart>+<command> */
	ATSM_REFUSAL_NO_COMMAND,      /* <localpart>@ alone */
	ATSM_REFUSAL_TOO_LONG,        /* arg0: the limit */
	ATSM_REFUSAL_UNKNOWN_COMMAND, /* arg0: the command */
	ATSM_REFUSAL_PHASE_MISSING,
	ATSM_REFUSAL_PHASE_INVALID,   /* arg0: the code */
	ATSM_REFUSAL_JOB_MISSING,
	ATSM_REFUSAL_JOB_INVALID,     /* arg0: the id as written */
	ATSM_REFUSAL_TOO_MANY_JOBS,   /* arg0: how many, arg1: the limit */
	ATSM_REFUSAL_ID_MISSING,      /* arg0: resume | contact */
	ATSM_REFUSAL_ID_INVALID,      /* arg0: resume | contact, arg1: the id as written */
	ATSM_REFUSAL_TOO_MANY_IDS,    /* arg0: resume | contact, arg1: the limit */
	/* the address against the directory: RCPT */
	ATSM_REFUSAL_NO_RECORD,       /* arg0: resume | contact, arg1: the id */
	ATSM_REFUSAL_NO_JOB,          /* arg0: the id */
	ATSM_REFUSAL_NO_PHASE,        /* arg0: the code; an active phase of no kind */
	ATSM_REFUSAL_NOT_USER,        /* arg0: the sender; commands from no recruiter */
	ATSM_REFUSAL_LOCAL_SENDER,    /* arg0: the envelope sender (sendmail, no recruiter) */
	ATSM_REFUSAL_LOCAL_UNTRUSTED, /* arg0: the envelope sender (non_smtp_senders) */
	/* the whole mail: end of message */
	ATSM_REFUSAL_PHASE_CONFLICT,  /* arg0: this code, arg1: the other */
	ATSM_REFUSAL_SHARE_CONFLICT,  /* arg0: this one, arg1: the other */
	ATSM_REFUSAL_NOT_RECORD_PHASE,    /* arg0: the code; no resume/contact phase */
	ATSM_REFUSAL_NOT_PROCESS_PHASE,   /* arg0: the code; with ats+job */
	ATSM_REFUSAL_PHASE_NEEDS_JOB,     /* arg0: the code; a process phase, no job, no thread */
	ATSM_REFUSAL_AMBIGUOUS,       /* arg0: the address of several records */
	ATSM_REFUSAL_NOTHING_TO_PHASE,    /* arg0: the code; no record linked */
	ATSM_REFUSAL_NO_CANDIDATE,    /* arg0: the job id; ats+job, no resume linked */
	ATSM_REFUSAL_TOO_MANY_PROCESSES,  /* arg0: how many, arg1: the limit */
	ATSM_REFUSAL_TOO_MANY_RECORDS,    /* arg0: the limit */
	ATSM_REFUSAL_TOO_MANY_ADDRESSES,  /* arg0: the limit (address_max_count) */
	ATSM_REFUSAL_NO_RECORD_LINKED,    /* commands, but no resume or contact */
	ATSM_REFUSAL_GUARD,           /* arg0: how many candidates, arg1: their addresses */
	/* templates and bulk send (ats+template, ats+bulk: docs/bulk.md) */
	ATSM_REFUSAL_TEMPLATE_MISSING,    /* RCPT: template. without a code */
	ATSM_REFUSAL_TEMPLATE_INVALID,    /* RCPT: arg0: the code */
	ATSM_REFUSAL_TEMPLATE_CONFLICT,   /* arg0: this code, arg1: the other */
	ATSM_REFUSAL_LIST_MISSING,        /* RCPT: bulk. without a name */
	ATSM_REFUSAL_LIST_INVALID,        /* RCPT: arg0: the name */
	ATSM_REFUSAL_LIST_CONFLICT,       /* arg0: this name, arg1: the other */
	ATSM_REFUSAL_BULK_TOO_MANY,       /* arg0: how many recipients, arg1: the limit */
	ATSM_REFUSAL_BULK_NO_MATCH,       /* arg0: how many recipients; none is a record's */
	ATSM_REFUSAL_BULK_EMPTY,          /* no recipient at all (envelope, list, CSV) */
	ATSM_REFUSAL_TEMPLATE_SEVERAL,    /* arg0: how many records the recipients name */
	ATSM_REFUSAL_BULK_LOOP,           /* a bulk job's own mail names ats+bulk/template */
	ATSM_REFUSAL_NO_TEMPLATE,         /* arg0: the code; none this user may use */
	ATSM_REFUSAL_NO_LIST,             /* arg0: the name; no such list for this user */
	ATSM_REFUSAL_TAG_MISSING,         /* arg0: the tag, arg1: the record */
	ATSM_REFUSAL_TAG_UNKNOWN,         /* arg0: the tag */
	ATSM_REFUSAL_TAG_SYNTAX,          /* arg0: what the merge said */
	ATSM_REFUSAL_CSV_BAD,             /* arg0: what is wrong with the attached CSV */
	ATSM_REFUSAL_TAKE_TOO_LARGE,      /* arg0: the limit in bytes (explain_attach_max) */
	/* a decision on held mail (ats+approve.<id>, ats+reject.<id>: docs/approval.md) */
	ATSM_REFUSAL_APPROVAL_INVALID,    /* RCPT: arg0: approve | reject, arg1: the id */
	ATSM_REFUSAL_APPROVAL_CONFLICT,   /* arg0: this command, arg1: the other */
	ATSM_REFUSAL_APPROVAL_MIXED,      /* other recipients or commands beside it */
	ATSM_REFUSAL_APPROVAL_NO_LOGIN,   /* not sent by a logged-in user */
	ATSM_REFUSAL_NOT_HELD,            /* arg0: the id; no such held mail */
	ATSM_REFUSAL_DECIDED,             /* arg0: the id, arg1: "released by x" */
	ATSM_REFUSAL_NOT_APPROVER,        /* arg0: the id, arg1: the held mail's sender */
	/* shared mailboxes (docs/shared-mailboxes.md): a reply in a thread another
	 * member has; addr is the shared mailbox, not a command address */
	ATSM_REFUSAL_SHARED_ASSIGNED,     /* arg0: the assignee, arg1: since when */
	ATSM_REFUSAL_SHARED_ANSWERED,     /* arg0: who answered, arg1: when */
	ATSM_REFUSAL_KIND_COUNT
};

struct atsm_refusal {
	enum atsm_refusal_kind kind;
	bool at_rcpt;                          /* refused at RCPT, not at the end */
	char addr[ATSM_REFUSAL_ADDR_MAX];      /* the full command address concerned
	                                          ("ats+job.12@ats.example.com"); "" when
	                                          the refusal is about the whole mail */
	char arg[2][ATSM_REFUSAL_ARG_MAX];     /* the kind's details (an id, a code, ...) */
	char text[ATSM_REFUSAL_TEXT_MAX];      /* the English sentence the SMTP reply gives */
	char lp[ATSM_REFUSAL_ARG_MAX];         /* the command local part ("ats") */
	char domain[ATSM_REFUSAL_ARG_MAX];     /* ats_domain */
};

/* Fill r for kind (any field may be NULL = ""), its English sentence in
 * r->text: what is wrong, "; ", how to fix it.  Printable ASCII only: a
 * byte outside it becomes '?'. */
void atsm_refusal_set(struct atsm_refusal *r, enum atsm_refusal_kind kind, const char *lp,
    const char *domain, const char *addr, const char *arg0, const char *arg1);

/* "unknown-command", ... (for logs and tests); "?" for no kind. */
const char *atsm_refusal_kind_name(enum atsm_refusal_kind kind);

/* What is wrong and how to fix it, in lang (UTF-8, no line breaks): what
 * starts with the problem; fix may be "" when there is nothing to add. */
void atsm_refusal_render(const struct atsm_refusal *r, enum atsm_lang lang, char *what,
    size_t what_size, char *fix, size_t fix_size);

#endif
