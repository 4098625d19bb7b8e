/* outbound/decide-ctx.c -- what every step of the outbound decision uses:
 * the plan's names and its freeing, notes, refusals (LIVE rejects, REPLAY
 * notes), the failures for want of memory and of the directory, the
 * command local part.  The steps (decide-*.c) and their order (decide.c)
 * depend on this file, not on each other's orchestrator.
 */
#include "outbound/decide-ctx.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

const char *
atsm_out_verdict_name(enum atsm_out_verdict v)
{
	switch (v) {
	case ATSM_OUT_PASS: return "pass";
	case ATSM_OUT_RECORD: return "record";
	case ATSM_OUT_REJECT: return "reject";
	case ATSM_OUT_HOLD: return "hold";
	case ATSM_OUT_TAKE: return "take";
	case ATSM_OUT_DECISION: return "decision";
	}
	return "?";
}

const char *
atsm_out_rcpt_kind_name(enum atsm_out_rcpt_kind k)
{
	switch (k) {
	case ATSM_OUT_TO: return "to";
	case ATSM_OUT_CC: return "cc";
	case ATSM_OUT_BCC: return "bcc";
	}
	return "?";
}

void
atsm_out_plan_free(struct atsm_out_plan *p)
{
	atsm_arena_free(&p->arena);
	memset(p, 0, sizeof(*p));
}

void
atsm_out_note(struct atsm_out_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	atsm_str_vjoin(c->p->notes, sizeof(c->p->notes), "; ", fmt, ap);
	va_end(ap);
}

int
atsm_out_refuse_with(struct atsm_out_ctx *c, const struct atsm_refusal *r)
{
	struct atsm_out_plan *p = c->p;
	char what[ATSM_REFUSAL_TEXT_MAX], fix[ATSM_REFUSAL_TEXT_MAX];

	if (c->mode == ATSM_OUT_LIVE) {
		p->verdict = ATSM_OUT_REJECT;
		p->refusal = *r;
		snprintf(p->reply_text, sizeof(p->reply_text), "%s", r->text);
		return 1;
	}
	/* notes are bounded: what was wrong, without how to fix it */
	atsm_refusal_render(r, ATSM_LANG_EN, what, sizeof(what), fix, sizeof(fix));
	atsm_out_note(c, "skipped: %s", what);
	return 0;
}

int
atsm_out_refuse(struct atsm_out_ctx *c, enum atsm_refusal_kind kind, const char *addr,
    const char *a0, const char *a1)
{
	struct atsm_refusal r;

	atsm_refusal_set(&r, kind, atsm_out_lp(c), c->conf->ats_domain, addr, a0, a1);
	return atsm_out_refuse_with(c, &r);
}

void
atsm_out_fault_refusal(const struct atsm_out_ctx *c, const struct atsm_command_fault *f,
    struct atsm_refusal *r)
{
	static const enum atsm_refusal_kind kinds[] = {
		[ATSM_COMMAND_FAULT_NONE] = ATSM_REFUSAL_OTHER,
		[ATSM_COMMAND_FAULT_NOT_COMMAND] = ATSM_REFUSAL_NOT_COMMAND,
		[ATSM_COMMAND_FAULT_EMPTY] = ATSM_REFUSAL_NO_COMMAND,
		[ATSM_COMMAND_FAULT_TOO_LONG] = ATSM_REFUSAL_TOO_LONG,
		[ATSM_COMMAND_FAULT_UNKNOWN] = ATSM_REFUSAL_UNKNOWN_COMMAND,
		[ATSM_COMMAND_FAULT_PHASE_MISSING] = ATSM_REFUSAL_PHASE_MISSING,
		[ATSM_COMMAND_FAULT_PHASE_INVALID] = ATSM_REFUSAL_PHASE_INVALID,
		[ATSM_COMMAND_FAULT_PHASE_CONFLICT] = ATSM_REFUSAL_PHASE_CONFLICT,
		[ATSM_COMMAND_FAULT_JOB_MISSING] = ATSM_REFUSAL_JOB_MISSING,
		[ATSM_COMMAND_FAULT_JOB_INVALID] = ATSM_REFUSAL_JOB_INVALID,
		[ATSM_COMMAND_FAULT_JOBS_TOO_MANY] = ATSM_REFUSAL_TOO_MANY_JOBS,
		[ATSM_COMMAND_FAULT_ID_MISSING] = ATSM_REFUSAL_ID_MISSING,
		[ATSM_COMMAND_FAULT_ID_INVALID] = ATSM_REFUSAL_ID_INVALID,
		[ATSM_COMMAND_FAULT_IDS_TOO_MANY] = ATSM_REFUSAL_TOO_MANY_IDS,
		[ATSM_COMMAND_FAULT_SHARE_CONFLICT] = ATSM_REFUSAL_SHARE_CONFLICT,
		[ATSM_COMMAND_FAULT_TEMPLATE_MISSING] = ATSM_REFUSAL_TEMPLATE_MISSING,
		[ATSM_COMMAND_FAULT_TEMPLATE_INVALID] = ATSM_REFUSAL_TEMPLATE_INVALID,
		[ATSM_COMMAND_FAULT_TEMPLATE_CONFLICT] = ATSM_REFUSAL_TEMPLATE_CONFLICT,
		[ATSM_COMMAND_FAULT_LIST_MISSING] = ATSM_REFUSAL_LIST_MISSING,
		[ATSM_COMMAND_FAULT_LIST_INVALID] = ATSM_REFUSAL_LIST_INVALID,
		[ATSM_COMMAND_FAULT_LIST_CONFLICT] = ATSM_REFUSAL_LIST_CONFLICT,
		[ATSM_COMMAND_FAULT_APPROVAL_INVALID] = ATSM_REFUSAL_APPROVAL_INVALID,
		[ATSM_COMMAND_FAULT_APPROVAL_CONFLICT] = ATSM_REFUSAL_APPROVAL_CONFLICT,
	};
	enum atsm_refusal_kind k = (size_t)f->code < sizeof(kinds) / sizeof(kinds[0]) ?
	    kinds[f->code] : ATSM_REFUSAL_OTHER;

	atsm_refusal_set(r, k, atsm_out_lp(c), c->conf->ats_domain, f->addr, f->word[0],
	    f->word[1]);
	if (k == ATSM_REFUSAL_OTHER)
		snprintf(r->text, sizeof(r->text), "command refused: %s", f->addr);
}

const char *
atsm_out_cmd_addr(const struct atsm_out_ctx *c, char *buf, size_t size, const char *fmt, ...)
{
	char cmd[ATSM_REFUSAL_ADDR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(buf, size, "%s+%s@%s", atsm_out_lp(c), cmd, c->conf->ats_domain != NULL ?
	    c->conf->ats_domain : "");
	return buf;
}

int
atsm_out_nomem(struct atsm_out_ctx *c, const char *what)
{
	return atsm_err_setc(&c->err, ATSM_ERR_NOMEM, "outbound decision of message %s: out of "
	    "memory or over the plan's limit (%s)", c->f->idem_key[0] != '\0' ? c->f->idem_key :
	    "(no key)", what);
}

int
atsm_out_dir_failed(struct atsm_out_ctx *c, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return atsm_err_prefix(&c->err, "outbound decision: looking up %s", what);
}

const char *
atsm_out_lp(const struct atsm_out_ctx *c)
{
	const char *l = c->conf->command_localpart;

	return l != NULL && l[0] != '\0' ? l : ATSM_COMMAND_LOCALPART_DEFAULT;
}
