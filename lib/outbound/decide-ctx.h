/* outbound/decide-ctx.h -- the working state of one outbound decision,
 * shared by the files that make it (not part of the API: outbound/decide.h
 * is):
 *
 *	decide.c             the order of the steps, the verdicts, links, thread
 *	decide-recipients.c  recipients, their records, the sender
 *	decide-commands.c    the ats+ commands checked against the directory
 *	decide-guard.c       guard, approval, visibility, token and VERP stamp
 *	decide-approval.c    a decision on held mail (ats+approve, ats+reject)
 *
 * Each step returns 0, or -1 when the directory failed or memory ran out
 * (c->err says which).  A step that refuses the mail sets *stop (LIVE)
 * or notes what it skipped (REPLAY) through atsm_out_refuse().
 */
#ifndef ATSM_OUTBOUND_DECIDE_CTX_H
#define ATSM_OUTBOUND_DECIDE_CTX_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "outbound/decide.h"
#include "pipeline/recset.h"

struct atsm_out_ctx {
	const struct atsm_dir *dir;
	const struct atsm_conf *conf;
	const struct atsm_token_keys *keys;
	const struct atsm_out_facts *f;
	enum atsm_out_mode mode;
	struct atsm_out_plan *p;
	struct atsm_arena *a;          /* the plan's */
	struct atsm_err err;           /* copied to the caller's on failure */
	size_t cap_rcpts;              /* address_max_count */
	bool too_many_addrs;           /* more addresses than cap_rcpts */
	bool cmd_failed;               /* a command did not parse: ... */
	struct atsm_command_fault cmd_fault;   /* ... the first one, why */
	struct atsm_recset recs;       /* the resumes and contacts the mail is linked to */
	/* the sender */
	bool default_share, needs_approval;
	/* the token the Message-ID was recorded with, when it is recorded as
	 * sent already ("" otherwise) */
	char recorded_token[ATSM_DIR_TOKEN_MAX];
};

/* LIVE: reject with the refusal of kind (outbound/refusal.h; addr is the
 * command address concerned, a0 and a1 its details), return 1 (stop
 * deciding).  REPLAY: the mail has left already; note "skipped:
 * <sentence>" and return 0. */
int atsm_out_refuse(struct atsm_out_ctx *c, enum atsm_refusal_kind kind, const char *addr,
    const char *a0, const char *a1);
/* The same with a refusal made already. */
int atsm_out_refuse_with(struct atsm_out_ctx *c, const struct atsm_refusal *r);
/* The refusal of a command that did not parse (rules/command.c). */
void atsm_out_fault_refusal(const struct atsm_out_ctx *c, const struct atsm_command_fault *f,
    struct atsm_refusal *r);
/* A command address as the decision names it when it has none as
 * written: "<localpart>+<command>@<ats_domain>" into buf. */
const char *atsm_out_cmd_addr(const struct atsm_out_ctx *c, char *buf, size_t size,
    const char *fmt, ...) ATSM_PRINTF(4, 5);
void atsm_out_note(struct atsm_out_ctx *c, const char *fmt, ...) ATSM_PRINTF(2, 3);
/* -1 with class NOMEM naming what did not fit. */
int atsm_out_nomem(struct atsm_out_ctx *c, const char *what);
/* -1 after a directory operation failed: its error, with what was asked. */
int atsm_out_dir_failed(struct atsm_out_ctx *c, const char *fmt, ...) ATSM_PRINTF(2, 3);
/* The command local part as the sender writes it ("ats"). */
const char *atsm_out_lp(const struct atsm_out_ctx *c);

/* decide-recipients.c */
int atsm_out_decide_recipients(struct atsm_out_ctx *c);
int atsm_out_decide_records(struct atsm_out_ctx *c);
int atsm_out_decide_sender(struct atsm_out_ctx *c, bool *found);

/* decide-approval.c: ats+approve / ats+reject alone from a logged-in
 * user: DECISION; otherwise refused (never 1: a refusal sets the verdict). */
int atsm_out_decide_approval(struct atsm_out_ctx *c);

/* decide-commands.c */
int atsm_out_decide_commands(struct atsm_out_ctx *c, int *stop);

/* decide-rcpt.c: what is wrong with the command address addr alone:
 * 1 with r, 0 when nothing is, -1 when the directory failed (c->err). */
int atsm_out_check_address(struct atsm_out_ctx *c, const char *addr, struct atsm_refusal *r);
/* The sender may not use commands: 1 with r (not a registered user, a
 * local account); 0 when it may.  found is decide_sender's answer. */
int atsm_out_sender_refusal(struct atsm_out_ctx *c, const char *addr, struct atsm_refusal *r);


/* decide-take.c: ats+bulk / ats+template; TAKE, or a refusal (*stop). */
int atsm_out_decide_take(struct atsm_out_ctx *c, int *stop);

/* decide-guard.c */
int atsm_out_decide_guard(struct atsm_out_ctx *c);
int atsm_out_decide_visibility(struct atsm_out_ctx *c);
void atsm_out_decide_stamps(struct atsm_out_ctx *c);

#endif
