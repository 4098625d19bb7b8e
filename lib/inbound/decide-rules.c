/* inbound/decide-rules.c -- the last steps of the inbound decision (see
 * decide.c): what the kind of the mail allows (list mail and read
 * receipts only inside a recorded thread; they and auto-replies fire no
 * rule), the state of the records found (a record that no longer exists
 * is dropped), the processes a reply moves, the phase rules, the links of
 * the plan and the visibility.
 *
 * Phase rules are data (the directory's phase_rule): for each target --
 * a linked resume, contact or process, or an open process of a linked
 * resume -- the rule of the event that fires on its phase, unless it
 * would not move it.  Never an ambiguous record: we never pick silently.
 */
#include "inbound/decide-ctx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------- kind of mail */

static bool
by_thread(const struct atsm_rec *r, void *arg)
{
	(void)arg;
	return strcmp(r->rule, "in_reply_to") == 0 || strcmp(r->rule, "references") == 0;
}

static bool
none(const struct atsm_rec *r, void *arg)
{
	(void)r;
	(void)arg;
	return false;
}

/* A list post is the list's, and a read receipt says only that a mail was
 * opened: neither is correspondence with the person its From names.  They
 * belong to a record only through a recorded thread they answer (rules
 * in_reply_to, references, which check the sender).  Nor does either make
 * an intake record. */
bool
atsm_in_kind_allows(struct atsm_in_ctx *c)
{
	const struct atsm_in_facts *f = c->f;
	const char *what = f->is_mdn ? "a read receipt (MDN)" : "list mail";
	size_t i;

	if (!f->is_mdn && !f->is_list)
		return true;
	for (i = 0; i < c->recs.n; i++)
		if (by_thread(&c->recs.v[i], NULL))
			return true;
	if (c->recs.n > 0)
		atsm_in_note(c, "%s outside a recorded thread: not filed on the sender's records",
		    what);
	else
		atsm_in_note(c, "%s outside a recorded thread: not filed", what);
	atsm_recset_filter(&c->recs, none, NULL);
	return false;
}

int
atsm_in_reply_rules(struct atsm_in_ctx *c)
{
	const struct atsm_in_facts *f = c->f;

	if (f->is_mdn) {
		atsm_in_keyword(c, ATSM_KW_RECEIPT);
		atsm_in_note(c, "a read receipt (MDN): no phase rule");
		return 0;
	}
	if (f->is_list) {
		atsm_in_keyword(c, ATSM_KW_LIST);
		atsm_in_note(c, "list mail in a recorded thread: no phase rule");
		return 0;
	}
	if (f->is_autoreply) {
		atsm_in_keyword(c, ATSM_KW_AUTOREPLY);
		atsm_in_note(c, "an auto-reply: no phase rule");
		return 0;
	}
	/* the first copy of the mail moved the phases; a second does not */
	if (c->p->already_recorded)
		return 0;
	if (atsm_in_open_processes(c) < 0)
		return -1;
	return atsm_in_phase_rules(c, "reply");
}

/* ------------------------------------------------------ records' state */

static bool
loaded_or_job(const struct atsm_rec *r, void *arg)
{
	(void)arg;
	return r->loaded || r->kind == ATSM_RECORD_JOB;
}

/* A resume in the making (id 0), named by its address, cannot be asked
 * for by id: the address is asked, as the record function resolves it --
 * the recorded resume that holds it now (PostgreSQL's has arrived since
 * the link was made: r takes its id), else the one still in the making.
 * A resume the set has already under that id is not taken twice. */
static int
load_new_resume(struct atsm_in_ctx *c, struct atsm_rec *r)
{
	const struct atsm_dir *d = c->dir;
	struct atsm_dir_record rec;
	size_t n = 0;
	int rc;

	if (r->resume_addr == NULL)
		return 0;
	if ((rc = d->ops->records_by_addr(d->ctx, r->resume_addr, &rec, 1, &n, c->err)) <= 0)
		return rc;
	if (n == 0 || rec.kind != ATSM_RECORD_RESUME)
		return 0;
	if (rec.id != 0) {
		if (atsm_recset_find(&c->recs, ATSM_RECORD_RESUME, rec.id) != NULL)
			return 0;
		r->id = rec.id;
		r->resume_addr = NULL;
	}
	atsm_rec_load_record(r, &rec);
	return 1;
}

/* The process of a resume in the making and a job: of PostgreSQL's resume
 * once it holds the address, the same way. */
static int
load_new_process(struct atsm_in_ctx *c, struct atsm_rec *r, struct atsm_dir_process *proc)
{
	const struct atsm_dir *d = c->dir;
	struct atsm_dir_record rec;
	size_t n = 0;
	int rc;

	if (r->resume_addr == NULL)
		return 0;
	if ((rc = d->ops->records_by_addr(d->ctx, r->resume_addr, &rec, 1, &n, c->err)) <= 0)
		return rc;
	if (n == 0 || rec.kind != ATSM_RECORD_RESUME)
		return 0;
	if (rec.id == 0)
		return d->ops->new_resume_process(d->ctx, r->resume_addr, r->job_id, proc, c->err);
	if (atsm_recset_find_process(&c->recs, rec.id, r->job_id) != NULL)
		return 0;
	if ((rc = d->ops->process(d->ctx, rec.id, r->job_id, proc, c->err)) == 1)
		r->resume_addr = NULL;
	return rc;
}

/* Shared flag and phase of every resume, contact and process of the set
 * (a process named by id, or by resume and job while it has none; a
 * resume in the making by its address). */
int
atsm_in_load_records(struct atsm_in_ctx *c)
{
	const struct atsm_dir *d = c->dir;
	size_t i;

	for (i = 0; i < c->recs.n; i++) {
		struct atsm_rec *r = &c->recs.v[i];
		struct atsm_dir_record rec;
		struct atsm_dir_process proc;
		int rc = 0;

		if (r->loaded)
			continue;
		switch (r->kind) {
		case ATSM_RECORD_RESUME:
			if (r->id == 0) {
				rc = load_new_resume(c, r);
				break;
			}
			/* fall through */
		case ATSM_RECORD_CONTACT:
			if ((rc = d->ops->record(d->ctx, r->kind, r->id, &rec, c->err)) == 1)
				atsm_rec_load_record(r, &rec);
			break;
		case ATSM_RECORD_PROCESS:
			rc = r->id != 0 ? d->ops->process_by_id(d->ctx, r->id, &proc, c->err) :
			    r->resume_id != 0 ?
			    d->ops->process(d->ctx, r->resume_id, r->job_id, &proc, c->err) :
			    load_new_process(c, r, &proc);
			if (rc == 1)
				atsm_rec_load_process(r, &proc);
			break;
		default:
			break;
		}
		if (rc < 0)
			return -1;
	}
	atsm_recset_filter(&c->recs, loaded_or_job, NULL);
	return 0;
}

/* Processes a reply moves: those linked to the replied-to message; else
 * the processes of the linked (not ambiguous) resumes whose job is open,
 * as targets, not links. */
int
atsm_in_open_processes(struct atsm_in_ctx *c)
{
	struct atsm_dir_process *v;
	long long *resumes;
	const char **addrs;
	size_t i, k, n = 0, nres = 0;

	for (i = 0; i < c->recs.n; i++)
		if (c->recs.v[i].kind == ATSM_RECORD_PROCESS)
			return 0;
	/* the set grows below: take the resumes first (one in the making by
	 * its address) */
	resumes = atsm_arena_calloc(&c->arena, c->recs.n + 1, sizeof(*resumes));
	addrs = atsm_arena_calloc(&c->arena, c->recs.n + 1, sizeof(*addrs));
	v = atsm_arena_calloc(&c->arena, ATSM_DIR_RESUME_PROCESSES_MAX, sizeof(*v));
	if (resumes == NULL || addrs == NULL || v == NULL)
		return atsm_in_nomem(c, "processes");
	for (i = 0; i < c->recs.n; i++)
		if (c->recs.v[i].kind == ATSM_RECORD_RESUME && !c->recs.v[i].ambiguous) {
			addrs[nres] = c->recs.v[i].resume_addr;
			resumes[nres++] = c->recs.v[i].id;
		}
	for (i = 0; i < nres; i++) {
		if (atsm_rec_dir_processes(c->dir, resumes[i], addrs[i], v,
		    ATSM_DIR_RESUME_PROCESSES_MAX, &n, c->err) < 0)
			return -1;
		for (k = 0; k < n; k++) {
			struct atsm_rec *x;

			if (!v[k].job_open)
				continue;
			x = atsm_recset_add_process_of(&c->recs, v[k].id, v[k].resume_id, addrs[i],
			    v[k].job_id, "", false);
			if (x == NULL) {
				if (!c->recs.truncated)
					return atsm_in_nomem(c, "processes");
				atsm_in_note(c, "more than %d records: processes left alone",
				    ATSM_IN_MAX_LINKS);
				return 0;
			}
			atsm_rec_load_process(x, &v[k]);
		}
	}
	return 0;
}

int
atsm_in_phase_rules(struct atsm_in_ctx *c, const char *event)
{
	const struct atsm_dir *d = c->dir;
	struct atsm_in_plan *p = c->p;
	size_t i;

	for (i = 0; i < c->recs.n && p->n_phases < ATSM_IN_MAX_PHASES; i++) {
		const struct atsm_rec *r = &c->recs.v[i];
		struct atsm_in_phase_change *pc;
		struct atsm_dir_rule rule;
		int rc;

		if (r->ambiguous || r->phase[0] == '\0' || (r->kind != ATSM_RECORD_RESUME &&
		    r->kind != ATSM_RECORD_CONTACT && r->kind != ATSM_RECORD_PROCESS))
			continue;
		rc = d->ops->phase_rule(d->ctx, r->kind, event, r->phase, &rule, c->err);
		if (rc < 0)
			return -1;
		if (rc == 0 || strcmp(rule.to_phase, r->phase) == 0)
			continue;
		if (p->phases == NULL && (p->phases = calloc(c->recs.n < ATSM_IN_MAX_PHASES ?
		    c->recs.n : ATSM_IN_MAX_PHASES, sizeof(*p->phases))) == NULL)
			return atsm_in_nomem(c, "phase changes");
		pc = &p->phases[p->n_phases++];
		pc->kind = r->kind;
		pc->record_id = r->id;
		pc->resume_id = r->resume_id;
		pc->job_id = r->job_id;
		snprintf(pc->resume_addr, sizeof(pc->resume_addr), "%s",
		    r->resume_addr != NULL ? r->resume_addr : "");
		snprintf(pc->from_phase, sizeof(pc->from_phase), "%s", r->phase);
		snprintf(pc->to_phase, sizeof(pc->to_phase), "%s", rule.to_phase);
		pc->rule_id = rule.id;
		snprintf(pc->cause, sizeof(pc->cause), "%s", event);
	}
	return 0;
}

int
atsm_in_make_links(struct atsm_in_ctx *c)
{
	struct atsm_in_plan *p = c->p;
	size_t i;

	if ((p->links = calloc(c->recs.n + 1, sizeof(*p->links))) == NULL)
		return atsm_in_nomem(c, "links");
	for (i = 0; i < c->recs.n; i++) {
		const struct atsm_rec *r = &c->recs.v[i];
		struct atsm_in_link *l;

		if (!r->link)
			continue;
		l = &p->links[p->n_links++];
		l->kind = r->kind;
		l->id = r->id;
		l->resume_id = r->resume_id;
		l->job_id = r->job_id;
		snprintf(l->resume_addr, sizeof(l->resume_addr), "%s",
		    r->resume_addr != NULL ? r->resume_addr : "");
		snprintf(l->rule, sizeof(l->rule), "%s", r->rule);
		l->ambiguous = r->ambiguous;
		p->ambiguous |= l->ambiguous;
	}
	return 0;
}

/* Visibility: the owner's sharing mode (no user owner: an intake mailbox,
 * public), the linked records' share flags, excluded domains among the
 * counterparts; a bounce takes its sent item's, unless a counterpart is
 * excluded. */
int
atsm_in_policy(struct atsm_in_ctx *c)
{
	struct atsm_in_plan *p = c->p;
	struct atsm_vis_input in;
	struct atsm_vis v;
	char ref[96];

	memset(&in, 0, sizeof(in));
	in.mode_known = true;
	in.mode = p->mailbox_user_id == 0 ? ATSM_SHARING_PUBLIC : c->sharing_mode;
	in.default_share = c->default_share;
	in.recs = &c->recs;
	in.counterparts = p->counterparts;
	in.ncounterparts = p->n_counterparts;
	if (atsm_pipeline_visibility(c->dir, &in, &c->arena, &v, c->err) < 0)
		return -1;
	if (p->verdict == ATSM_IN_BOUNCE && c->bounce_vis_known && v.nexcluded == 0) {
		p->visibility = c->bounce_vis;
		snprintf(p->visibility_reason, sizeof(p->visibility_reason),
		    "bounce of %s (its visibility)", atsm_in_ref_text(&p->bounced, ref, sizeof(ref)));
	} else {
		p->visibility = v.visibility;
		snprintf(p->visibility_reason, sizeof(p->visibility_reason), "%s", v.reason);
	}
	return 0;
}
