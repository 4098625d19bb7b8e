/* inbound/decide-ctx.c -- what every step of the inbound decision uses:
 * the plan's names and its freeing, the notes, the keywords, the failure
 * for want of memory, how a message reference reads in a note.  The steps
 * (decide-*.c) and their order (decide.c) depend on this file, not on each
 * other's orchestrator.
 */
#include "inbound/decide-ctx.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

const char *
atsm_in_verdict_name(enum atsm_in_verdict v)
{
	switch (v) {
	case ATSM_IN_IGNORE: return "ignore";
	case ATSM_IN_FILE: return "file";
	case ATSM_IN_BOUNCE: return "bounce";
	case ATSM_IN_INTAKE: return "intake";
	case ATSM_IN_SENT_COPY: return "sent_copy";
	}
	return "?";
}

void
atsm_in_plan_free(struct atsm_in_plan *p)
{
	size_t i;

	for (i = 0; i < p->n_counterparts; i++)
		free(p->counterparts[i]);
	free(p->counterparts);
	free(p->links);
	free(p->phases);
	free(p->subject);
	free(p->rfc_message_id);
	free(p->sender);
	free(p->sender_name);
	free(p->thread_root);
	memset(p, 0, sizeof(*p));
	p->verdict = ATSM_IN_IGNORE;
}

void
atsm_in_note(struct atsm_in_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	atsm_str_vjoin(c->p->notes, sizeof(c->p->notes), "; ", fmt, ap);
	va_end(ap);
}

void
atsm_in_keyword(struct atsm_in_ctx *c, const char *kw)
{
	size_t i;

	for (i = 0; i < c->nkw; i++)
		if (strcmp(c->p->keywords[i], kw) == 0)
			return;
	if (c->nkw + 1 < ATSM_IN_MAX_KEYWORDS) {
		c->p->keywords[c->nkw++] = kw;
		c->p->keywords[c->nkw] = NULL;
	}
}

int
atsm_in_nomem(struct atsm_in_ctx *c, const char *what)
{
	return atsm_err_setc(c->err, ATSM_ERR_NOMEM, "out of memory (%s)", what);
}

const char *
atsm_in_ref_text(const struct atsm_dir_msgref *r, char *buf, size_t size)
{
	if (r->id != 0)
		snprintf(buf, size, "message %lld", r->id);
	else
		snprintf(buf, size, "message %.16s... (not yet recorded)", r->key);
	return buf;
}
