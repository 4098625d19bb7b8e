/* outbound/decide-commands.c -- the sender's ats+ commands checked against
 * the directory: step 5 of the outbound decision (docs/outbound.md).
 *
 * The first problem refuses the mail (LIVE) with a sentence that says what
 * is wrong; REPLAY skips it and notes the sentence.  In order:
 *
 *	a command that did not parse (lib/rules/command.c's sentence)
 *	ats+resume.<id>, ats+contact.<id>: the record exists; it is linked
 *	    by rule "command" and is never ambiguous
 *	ats+job.<id>...: every job exists; one selection process per linked
 *	    resume and job (a new one in the ats+phase phase, else the first
 *	    process phase); an existing one moves only when ats+phase names a
 *	    process phase
 *	ats+phase.<code> without jobs: the linked resumes and contacts whose
 *	    kind has that phase
 *
 * A phase or job command never acts on an ambiguous record: while an
 * address links several records and none is named, the mail is refused.
 * It acts on the resume that intake mail is making (id 0) as on any
 * other: its processes are named by its address and the job.
 */
#include "outbound/decide-ctx.h"

#include <stdio.h>
#include <string.h>

/* ats+resume.<id> / ats+contact.<id>: the records must exist. */
static int
named_records(struct atsm_out_ctx *c, int *stop)
{
	const struct atsm_command_set *cs = &c->p->commands;
	static const enum atsm_record_kind kinds[2] = { ATSM_RECORD_RESUME, ATSM_RECORD_CONTACT };
	size_t i, k;

	for (k = 0; k < 2; k++) {
		const char *kind = atsm_record_kind_name(kinds[k]);
		const unsigned long long *ids = k == 0 ? cs->resumes : cs->contacts;
		size_t n = k == 0 ? cs->nresumes : cs->ncontacts;

		for (i = 0; i < n; i++) {
			long long id = (long long)ids[i];
			struct atsm_dir_record d;
			struct atsm_rec *r;
			int rc = c->dir->ops->record(c->dir->ctx, kinds[k], id, &d, &c->err);

			if (rc < 0)
				return atsm_out_dir_failed(c, "%s %lld", kind, id);
			if (rc == 0) {
				if ((*stop = atsm_out_refuse(c, "%s+%s.%lld: %s %lld does not exist",
				    atsm_out_lp(c), kind, id, kind, id)) != 0)
					return 0;
				continue;
			}
			if ((r = atsm_recset_add(&c->recs, kinds[k], id, "command", true)) == NULL) {
				if (!c->recs.truncated)
					return atsm_out_nomem(c, "records");
				if ((*stop = atsm_out_refuse(c, "%s+%s.%lld: the mail is linked to "
				    "more than %d resumes and contacts already", atsm_out_lp(c), kind,
				    id, ATSM_OUT_MAX_LINKS)) != 0)
					return 0;
				continue;
			}
			/* named: the sender chose it */
			r->named = true;
			r->ambiguous = false;
			snprintf(r->rule, sizeof(r->rule), "command");
			atsm_rec_load_record(r, &d);
		}
	}
	return 0;
}

/* The records a phase or job command acts on: never an ambiguous one.  An
 * ambiguous link with no record named explicitly is refused: the sender
 * must say which record is meant.  Returns 1 to stop. */
static int
check_ambiguity(struct atsm_out_ctx *c, const char *cmd)
{
	size_t i;

	for (i = 0; i < c->recs.n; i++)
		if (c->recs.v[i].named)
			return 0;
	for (i = 0; i < c->recs.n; i++) {
		const struct atsm_rec *r = &c->recs.v[i];

		if (!r->ambiguous)
			continue;
		return atsm_out_refuse(c, "%s+%s: the address %s belongs to several records; "
		    "name the one meant with %s+resume.<id> or %s+contact.<id>", atsm_out_lp(c),
		    cmd, r->addr != NULL ? r->addr : "?", atsm_out_lp(c), atsm_out_lp(c));
	}
	return 0;
}

/* Is code an active phase of kind?  1 or 0, -1 when the directory failed. */
static int
phase_active(struct atsm_out_ctx *c, enum atsm_record_kind kind, const char *code)
{
	int rc = c->dir->ops->phase_active(c->dir->ctx, kind, code, &c->err);

	if (rc < 0)
		return atsm_out_dir_failed(c, "%s phase %s", atsm_record_kind_name(kind), code);
	return rc;
}

/* ats+phase.<code> without jobs: the phase of the linked resumes and
 * contacts whose kind has that phase. */
static int
record_phases(struct atsm_out_ctx *c, int *stop)
{
	struct atsm_out_plan *p = c->p;
	const char *code = p->commands.phase;
	int has[2] = { -1, -1 };         /* resume, contact: not asked yet */
	size_t i, targets = 0, applied = 0;

	if ((*stop = check_ambiguity(c, "phase")) != 0)
		return 0;
	if ((p->phases = atsm_arena_calloc(c->a, c->recs.n + 1, sizeof(*p->phases))) == NULL)
		return atsm_out_nomem(c, "phase changes");
	for (i = 0; i < c->recs.n; i++) {
		const struct atsm_rec *r = &c->recs.v[i];
		int *h = r->kind == ATSM_RECORD_RESUME ? &has[0] : &has[1];
		struct atsm_out_phase_change *ch;

		if (r->ambiguous)
			continue;
		targets++;
		if (*h < 0 && (*h = phase_active(c, r->kind, code)) < 0)
			return -1;
		if (*h == 0)
			continue;
		applied++;
		if (strcmp(r->phase, code) == 0)
			continue;
		ch = &p->phases[p->n_phases++];
		ch->kind = r->kind;
		ch->id = r->id;
		ch->resume_addr = r->resume_addr;
		snprintf(ch->from_phase, sizeof(ch->from_phase), "%s", r->phase);
		snprintf(ch->to_phase, sizeof(ch->to_phase), "%s", code);
	}
	if (targets == 0)
		*stop = atsm_out_refuse(c, "%s+phase.%s: the mail is linked to no resume or "
		    "contact whose phase could be set", atsm_out_lp(c), code);
	else if (applied == 0)
		*stop = atsm_out_refuse(c, "%s+phase.%s: there is no resume or contact phase \"%s\"",
		    atsm_out_lp(c), code, code);
	return 0;
}

/* One process per resume and job, created or found (and moved when
 * ats+phase named a process phase: move).  A resume in the making has id
 * 0 and its address in addrs. */
static int
make_processes(struct atsm_out_ctx *c, const long long *resumes, const char *const *addrs,
    size_t nres, const char *first, bool move)
{
	struct atsm_out_plan *p = c->p;
	size_t i, k;

	if ((p->procs = atsm_arena_calloc(c->a, nres * p->n_jobs + 1, sizeof(*p->procs))) == NULL)
		return atsm_out_nomem(c, "processes");
	for (i = 0; i < nres; i++)
		for (k = 0; k < p->n_jobs; k++) {
			struct atsm_out_process *pr = &p->procs[p->n_procs++];
			struct atsm_dir_process d;
			int rc;

			pr->resume_id = resumes[i];
			pr->resume_addr = resumes[i] == 0 ? addrs[i] : NULL;
			pr->job_id = p->jobs[k];
			if ((rc = atsm_rec_dir_process(c->dir, pr->resume_id, pr->resume_addr,
			    pr->job_id, &d, &c->err)) < 0)
				return atsm_out_dir_failed(c, "the process of resume %lld%s%s and "
				    "job %lld", pr->resume_id, pr->resume_addr != NULL ? " of " : "",
				    pr->resume_addr != NULL ? pr->resume_addr : "", pr->job_id);
			if (rc == 0) {
				snprintf(pr->to_phase, sizeof(pr->to_phase), "%s", first);
				continue;
			}
			pr->exists = true;
			pr->process_id = d.id;
			snprintf(pr->from_phase, sizeof(pr->from_phase), "%s", d.phase);
			/* an existing process moves only when a phase is named */
			if (move && strcmp(pr->from_phase, first) != 0)
				snprintf(pr->to_phase, sizeof(pr->to_phase), "%s", first);
		}
	return 0;
}

/* ats+job: the jobs must exist (whatever their status); one process per
 * linked resume and job. */
static int
plan_jobs(struct atsm_out_ctx *c, int *stop)
{
	struct atsm_out_plan *p = c->p;
	const struct atsm_command_set *cs = &p->commands;
	char first[ATSM_DIR_PHASE_MAX] = "";
	long long *resumes;
	const char **addrs;
	bool phase_named = false;
	size_t i, nres = 0;
	int rc;

	for (i = 0; i < cs->njobs; i++) {
		long long id = (long long)cs->jobs[i];
		struct atsm_dir_job j;

		if ((rc = c->dir->ops->job(c->dir->ctx, id, &j, &c->err)) < 0)
			return atsm_out_dir_failed(c, "job %lld", id);
		if (rc == 1) {
			p->jobs[p->n_jobs++] = id;
			continue;
		}
		if ((*stop = atsm_out_refuse(c, "%s+job.%lld: job %lld does not exist",
		    atsm_out_lp(c), id, id)) != 0)
			return 0;
	}
	if (cs->has_phase) {
		if ((rc = phase_active(c, ATSM_RECORD_PROCESS, cs->phase)) < 0)
			return -1;
		if (rc == 0 && (*stop = atsm_out_refuse(c, "%s+phase.%s: there is no "
		    "selection-process phase \"%s\" (the phase of ats+job is the process's)",
		    atsm_out_lp(c), cs->phase, cs->phase)) != 0)
			return 0;
		if (rc == 1) {
			snprintf(first, sizeof(first), "%s", cs->phase);
			phase_named = true;
		}
	}
	if ((*stop = check_ambiguity(c, "job")) != 0)
		return 0;
	if ((resumes = atsm_arena_calloc(c->a, c->recs.n + 1, sizeof(*resumes))) == NULL ||
	    (addrs = atsm_arena_calloc(c->a, c->recs.n + 1, sizeof(*addrs))) == NULL)
		return atsm_out_nomem(c, "processes");
	for (i = 0; i < c->recs.n; i++)
		if (c->recs.v[i].kind == ATSM_RECORD_RESUME && !c->recs.v[i].ambiguous) {
			addrs[nres] = c->recs.v[i].resume_addr;
			resumes[nres++] = c->recs.v[i].id;
		}
	if (p->n_jobs == 0)
		return 0;
	if (nres == 0) {
		*stop = atsm_out_refuse(c, "%s+job.%lld: the mail is linked to no candidate, and a "
		    "selection process needs one: put the candidate in To, Cc or Bcc, or add "
		    "%s+resume.<id>", atsm_out_lp(c), p->jobs[0], atsm_out_lp(c));
		return 0;
	}
	if (nres * p->n_jobs > ATSM_OUT_MAX_PROCESSES) {
		*stop = atsm_out_refuse(c, "%s+job: %zu candidates x %zu jobs would make %zu "
		    "selection processes; at most %d per mail", atsm_out_lp(c), nres, p->n_jobs,
		    nres * p->n_jobs, ATSM_OUT_MAX_PROCESSES);
		return 0;
	}
	if (first[0] == '\0') {
		if ((rc = c->dir->ops->phase_first(c->dir->ctx, ATSM_RECORD_PROCESS, first,
		    &c->err)) < 0)
			return atsm_out_dir_failed(c, "the first process phase");
		if (rc == 0)
			return atsm_err_setc(&c->err, ATSM_ERR_INTERNAL, "outbound decision: no "
			    "active selection-process phase is configured (phases of kind process)");
	}
	return make_processes(c, resumes, addrs, nres, first, phase_named);
}

/* Step 5. */
int
atsm_out_decide_commands(struct atsm_out_ctx *c, int *stop)
{
	const struct atsm_command_set *cs = &c->p->commands;

	*stop = 0;
	if (c->cmd_error[0] != '\0' && (*stop = atsm_out_refuse(c, "%s", c->cmd_error)) != 0)
		return 0;
	if (named_records(c, stop) < 0)
		return -1;
	if (*stop)
		return 0;
	if (cs->njobs > 0)
		return plan_jobs(c, stop);
	if (cs->has_phase)
		return record_phases(c, stop);
	return 0;
}
