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
atsm_out_refuse(struct atsm_out_ctx *c, const char *fmt, ...)
{
	struct atsm_out_plan *p = c->p;
	char line[sizeof(p->reply_text)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (c->mode == ATSM_OUT_LIVE) {
		p->verdict = ATSM_OUT_REJECT;
		snprintf(p->reply_text, sizeof(p->reply_text), "%s", line);
		p->refusal.kind = ATSM_REFUSAL_OTHER;
		snprintf(p->refusal.text, sizeof(p->refusal.text), "%s", line);
		return 1;
	}
	atsm_out_note(c, "skipped: %s", line);
	return 0;
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
