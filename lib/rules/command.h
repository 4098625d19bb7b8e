/* rules/command.h -- recruiter commands given as recipient addresses.
 *
 * A recruiter tells the server what to do with a mail by adding command
 * addresses, usually in Bcc: <localpart>+<command>@<ats_domain>, e.g.
 * ats+phase.interview@ats.example.com or ats+job.12.13@ats.example.com.
 * The milter collects every command address of a mail into one
 * atsm_command_set; a malformed or contradictory command makes
 * atsm_command_add() fail with one ASCII sentence that names the address,
 * which the milter sends back as "550 5.7.1 <sentence>" so that nothing is
 * half-done.  The semantics for recruiters: docs/recruiter-commands.md.
 *
 * Commands (case-insensitive; phase codes are kept in lower case):
 *	phase.<code>          set the phase; code ^[a-z0-9][a-z0-9_-]{0,31}$
 *	job.<id>[.<id>...]    create/advance the selection process per job
 *	private | share       visibility of the recorded item
 *	resume.<id>           link the mail to this resume (several allowed)
 *	contact.<id>          link the mail to this contact (several allowed)
 *	template.<code>       merge the mail with template <code> (one per mail)
 *	bulk | bulk.<list>    send one mail per recipient (of the envelope, of
 *	                      the recipient list <list>, or of an attached CSV)
 *	approve.<id>          an approver's decision on held mail <id> (one per
 *	reject.<id>           mail; the milter checks and records it,
 *	                      docs/approval.md)
 *	force                 send a reply in a shared mailbox's thread that
 *	                      another member has (docs/shared-mailboxes.md);
 *	                      alone it makes no mail ATS mail
 * Template codes and list names follow the phase code's syntax.
 * Ids are positive decimal integers without leading zeros, at most
 * ATSM_COMMAND_ID_DIGITS digits.  Repeated ids and repeated identical
 * commands collapse.
 */
#ifndef ATSM_COMMAND_H
#define ATSM_COMMAND_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

#define ATSM_COMMAND_LOCALPART_DEFAULT "ats"
#define ATSM_COMMAND_MAX_JOBS 20     /* distinct jobs per mail */
#define ATSM_COMMAND_MAX_LINKS 20    /* distinct resumes, and contacts, per mail */
#define ATSM_COMMAND_PHASE_MAX 32    /* characters of a phase code */
#define ATSM_COMMAND_ID_DIGITS 18    /* fits an SQL bigint */
#define ATSM_COMMAND_TEXT_MAX 400    /* characters after the '+' */
#define ATSM_COMMAND_CODE_MAX 32     /* characters of a template code or list name */

struct atsm_command_set {
	bool any;                     /* at least one command address was added */
	bool has_phase;
	char phase[ATSM_COMMAND_PHASE_MAX + 1];   /* lower case */
	size_t njobs;
	unsigned long long jobs[ATSM_COMMAND_MAX_JOBS];   /* in order of mention */
	int share;                    /* 0 none, 1 ats+share, -1 ats+private */
	size_t nresumes, ncontacts;
	unsigned long long resumes[ATSM_COMMAND_MAX_LINKS];
	unsigned long long contacts[ATSM_COMMAND_MAX_LINKS];
	bool has_template;            /* ats+template.<code> */
	char template_code[ATSM_COMMAND_CODE_MAX + 1];   /* lower case */
	bool bulk;                    /* ats+bulk or ats+bulk.<list> */
	char bulk_list[ATSM_COMMAND_CODE_MAX + 1];       /* "" = none (lower case) */
	int approval;                 /* 0 none, 1 ats+approve.<id>, -1 ats+reject.<id> */
	unsigned long long approval_id;                  /* the held mail (messages.id) */
	bool force;                   /* ats+force: over the shared mailbox's guard */
};

void atsm_command_set_init(struct atsm_command_set *set);

/* True when set holds commands that concern the records: any command but
 * ats+force, which only lets a reply pass the shared mailbox's guard and
 * names nothing to file the mail on.  A decision on held mail
 * (ats+approve, ats+reject) counts: it is a command to the server. */
bool atsm_command_set_records(const struct atsm_command_set *set);

/* Why atsm_command_add() refused an address, as data: the outbound
 * decision says it again in the recruiter's language
 * (outbound/refusal.h).  The words are printable ASCII excerpts. */
enum atsm_command_fault_code {
	ATSM_COMMAND_FAULT_NONE = 0,
	ATSM_COMMAND_FAULT_NOT_COMMAND,      /* at ats_domain, not <localpart>[+...] */
	ATSM_COMMAND_FAULT_EMPTY,            /* <localpart> or <localpart>+ alone */
	ATSM_COMMAND_FAULT_TOO_LONG,         /* word[0]: the limit */
	ATSM_COMMAND_FAULT_UNKNOWN,          /* word[0]: the command */
	ATSM_COMMAND_FAULT_PHASE_MISSING,
	ATSM_COMMAND_FAULT_PHASE_INVALID,    /* word[0]: the code */
	ATSM_COMMAND_FAULT_PHASE_CONFLICT,   /* word[0]: this code, word[1]: the other */
	ATSM_COMMAND_FAULT_JOB_MISSING,      /* also an empty id (job.1..2) */
	ATSM_COMMAND_FAULT_JOB_INVALID,      /* word[0]: the id as written */
	ATSM_COMMAND_FAULT_JOBS_TOO_MANY,    /* word[0]: how many, word[1]: the limit */
	ATSM_COMMAND_FAULT_ID_MISSING,       /* word[0]: resume | contact */
	ATSM_COMMAND_FAULT_ID_INVALID,       /* word[0]: resume | contact, word[1]: the id */
	ATSM_COMMAND_FAULT_IDS_TOO_MANY,     /* word[0]: resume | contact, word[1]: the limit */
	ATSM_COMMAND_FAULT_SHARE_CONFLICT,   /* word[0]: this one, word[1]: the other */
	ATSM_COMMAND_FAULT_TEMPLATE_MISSING, /* template. without a code */
	ATSM_COMMAND_FAULT_TEMPLATE_INVALID, /* word[0]: the code */
	ATSM_COMMAND_FAULT_TEMPLATE_CONFLICT,/* word[0]: this code, word[1]: the other */
	ATSM_COMMAND_FAULT_LIST_MISSING,     /* bulk. without a name */
	ATSM_COMMAND_FAULT_LIST_INVALID,     /* word[0]: the name */
	ATSM_COMMAND_FAULT_LIST_CONFLICT,    /* word[0]: this name, word[1]: the other */
	ATSM_COMMAND_FAULT_APPROVAL_INVALID, /* word[0]: approve | reject, word[1]: the id */
	ATSM_COMMAND_FAULT_APPROVAL_CONFLICT /* word[0]: this command, word[1]: the other */
};

#define ATSM_COMMAND_WORD_MAX 48
#define ATSM_COMMAND_SHOW_MAX 108

struct atsm_command_fault {
	enum atsm_command_fault_code code;
	char addr[ATSM_COMMAND_SHOW_MAX];    /* the address as written (printable ASCII) */
	char word[2][ATSM_COMMAND_WORD_MAX];
};

/* The one canonical form of a command address.  Returns 1 when addr
 * (angle brackets, blanks and a source route allowed) is an address at
 * ats_domain in any written form -- a quoted local part ("ats+job.1"@d,
 * "ats+job\.1"@d), any ASCII case, a trailing dot, the IDNA U-label of
 * the domain, or a routing form Postfix may resolve to it (ats+x%d@host,
 * "ats+x@d"@host, d!ats+x@host) -- and puts its local part, unquoted and
 * lower-cased, into local (size bytes; a longer one is cut, still longer
 * than any command).  Returns 0 otherwise, and always when ats_domain is
 * NULL or empty: that is how commands are switched off. */
int atsm_command_canon(const char *addr, const char *ats_domain, char *local,
    size_t size);

/* True when atsm_command_canon() says addr is at ats_domain: every address
 * there is a command address, to be consumed (never recorded or
 * delivered), applied when it is <localpart>[+<command>] and refused
 * otherwise.  localpart is not needed to recognise one and is ignored. */
bool atsm_command_is_address(const char *addr, const char *localpart,
    const char *ats_domain);

/* Add the command of addr to set.  Returns 1 when addr is not a command
 * address (set untouched: callers may pass every recipient), 0 when the
 * command was added, -1 with err when it is empty, unknown, malformed,
 * contradicts a command already in set, or passes a limit; set is then
 * unchanged.  err->msg is one line of printable ASCII under 400 characters
 * that names the address, meant for "550 5.7.1 <msg>". */
int atsm_command_add(struct atsm_command_set *set, const char *addr,
    const char *localpart, const char *ats_domain, struct atsm_err *err);
/* The same, and on -1 why as data in *fault (may be NULL). */
int atsm_command_add_fault(struct atsm_command_set *set, const char *addr,
    const char *localpart, const char *ats_domain, struct atsm_command_fault *fault,
    struct atsm_err *err);

/* A one-line summary for logs and the journal, e.g.
 * "phase=interview jobs=12,13 share resumes=4 contacts=7 template=offer
 * bulk=list:spring", or "none".
 * out is appended to; 0, or -1 when out is full. */
int atsm_command_describe(const struct atsm_command_set *set,
    struct atsm_buf *out);

#endif
