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
 *	    kind has that phase; a code that only processes have moves the
 *	    processes of the thread the mail replies in -- a recorded message
 *	    the sender may believe (shared, or the sender's own) -- else the
 *	    mail is refused with the advice to add ats+job
 *
 * Every refusal is a kind of outbound/refusal.h; LIVE mail is first
 * checked address by address as at RCPT (decide-rcpt.c).
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
	char addr[ATSM_REFUSAL_ADDR_MAX], num[32];
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
			snprintf(num, sizeof(num), "%lld", id);
			atsm_out_cmd_addr(c, addr, sizeof(addr), "%s.%lld", kind, id);
			if (rc == 0) {
				if ((*stop = atsm_out_refuse(c, ATSM_REFUSAL_NO_RECORD, addr, kind,
				    num)) != 0)
					return 0;
				continue;
			}
			if ((r = atsm_recset_add(&c->recs, kinds[k], id, "command", true)) == NULL) {
				if (!c->recs.truncated)
					return atsm_out_nomem(c, "records");
				snprintf(num, sizeof(num), "%d", ATSM_OUT_MAX_LINKS);
				if ((*stop = atsm_out_refuse(c, ATSM_REFUSAL_TOO_MANY_RECORDS, addr,
				    num, NULL)) != 0)
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
check_ambiguity(struct atsm_out_ctx *c, const char *cmd_addr)
{
	size_t i;

	for (i = 0; i < c->recs.n; i++)
		if (c->recs.v[i].named)
			return 0;
	for (i = 0; i < c->recs.n; i++) {
		const struct atsm_rec *r = &c->recs.v[i];

		if (!r->ambiguous)
			continue;
		return atsm_out_refuse(c, ATSM_REFUSAL_AMBIGUOUS, cmd_addr,
		    r->addr != NULL ? r->addr : "?", NULL);
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

/* The sender may believe a recorded message: shared, or the sender's
 * own.  A private message of another user (or one for admins) says
 * nothing to this sender, so no process is inferred from it. */
static bool
believed(const struct atsm_out_ctx *c, const struct atsm_dir_message *m)
{
	return m->visibility == ATSM_VIS_SHARED || (m->owner_id != 0 &&
	    m->owner_id == c->p->user_id);
}

/* Is the process of link l one this mail may move: its resume is linked
 * to the mail, or the mail links no resume at all. */
static bool
process_of_mail(const struct atsm_out_ctx *c, const struct atsm_dir_link *l)
{
	size_t i, resumes = 0;

	for (i = 0; i < c->recs.n; i++) {
		const struct atsm_rec *r = &c->recs.v[i];

		if (r->kind != ATSM_RECORD_RESUME)
			continue;
		resumes++;
		if (r->id != 0 && r->id == l->resume_id)
			return true;
		if (r->id == 0 && l->resume_id == 0 && r->resume_addr != NULL &&
		    l->resume_addr != NULL && strcmp(r->resume_addr, l->resume_addr) == 0)
			return true;
	}
	return resumes == 0;
}

/* One process of the thread, moved to code (its phase now asked of the
 * directory).  0, or -1 when the directory failed or memory ran out. */
static int
move_process(struct atsm_out_ctx *c, const struct atsm_dir_link *l, const char *code)
{
	struct atsm_out_plan *p = c->p;
	struct atsm_out_process *pr;
	struct atsm_dir_process d;
	const char *addr = NULL;
	size_t i;
	int rc;

	for (i = 0; i < p->n_procs; i++)
		if (p->procs[i].resume_id == l->resume_id && p->procs[i].job_id == l->job_id)
			return 0;
	if (l->resume_addr != NULL && (addr = atsm_arena_strdup(c->a, l->resume_addr)) == NULL)
		return atsm_out_nomem(c, "processes");
	if (l->id != 0)
		rc = c->dir->ops->process_by_id(c->dir->ctx, l->id, &d, &c->err);
	else
		rc = atsm_rec_dir_process(c->dir, l->resume_id, addr, l->job_id, &d, &c->err);
	if (rc < 0)
		return atsm_out_dir_failed(c, "the process of resume %lld and job %lld",
		    l->resume_id, l->job_id);
	if (rc == 0)
		return 0;
	pr = &p->procs[p->n_procs++];
	pr->resume_id = l->resume_id;
	pr->resume_addr = l->resume_id == 0 ? addr : NULL;
	pr->job_id = l->job_id;
	pr->exists = true;
	pr->process_id = d.id;
	snprintf(pr->from_phase, sizeof(pr->from_phase), "%s", d.phase);
	if (strcmp(d.phase, code) != 0)
		snprintf(pr->to_phase, sizeof(pr->to_phase), "%s", code);
	return 0;
}

/* A phase that only processes have, without ats+job: the processes of
 * the recorded thread the mail replies in (the first message named by
 * References, then In-Reply-To, sent or received, that the sender may
 * believe and that is linked to processes) whose resume the mail is
 * linked to.  None: refused with the advice to add ats+job. */
static int
thread_processes(struct atsm_out_ctx *c, const char *code, const char *cmd_addr, int *stop)
{
	static const enum atsm_dir_direction dirs[2] = { ATSM_DIR_OUT, ATSM_DIR_IN };
	struct atsm_out_plan *p = c->p;
	size_t i, k, n;
	int rc = 0;

	if ((p->procs = atsm_arena_calloc(c->a, ATSM_OUT_MAX_PROCESSES + 1,
	    sizeof(*p->procs))) == NULL)
		return atsm_out_nomem(c, "processes");
	for (i = 0; i < p->n_refs && p->n_procs == 0 && rc == 0; i++)
		for (k = 0; k < 2 && p->n_procs == 0 && rc == 0; k++) {
			struct atsm_arena scratch;
			struct atsm_dir_message m;

			atsm_arena_init(&scratch, 4u * 1024u * 1024u);
			memset(&m, 0, sizeof(m));
			rc = c->dir->ops->message_by_msgid(c->dir->ctx, p->refs[i], dirs[k],
			    &scratch, &m, &c->err);
			if (rc < 0)
				rc = atsm_out_dir_failed(c, "message %s", p->refs[i]);
			else if (rc == 1 && believed(c, &m)) {
				rc = 0;
				for (n = 0; n < m.n_links && rc == 0; n++)
					if (m.links[n].kind == ATSM_RECORD_PROCESS &&
					    p->n_procs < ATSM_OUT_MAX_PROCESSES &&
					    process_of_mail(c, &m.links[n]))
						rc = move_process(c, &m.links[n], code);
			} else
				rc = 0;
			atsm_arena_free(&scratch);
		}
	if (rc < 0)
		return -1;
	if (p->n_procs == 0)
		*stop = atsm_out_refuse(c, ATSM_REFUSAL_PHASE_NEEDS_JOB, cmd_addr, code, NULL);
	return 0;
}

/* ats+phase.<code> without jobs: the phase of the linked resumes and
 * contacts whose kind has that phase; a code that only processes have
 * moves the processes of the thread the mail replies in. */
static int
record_phases(struct atsm_out_ctx *c, int *stop)
{
	struct atsm_out_plan *p = c->p;
	const char *code = p->commands.phase;
	int has[2] = { -1, -1 };         /* resume, contact: not asked yet */
	char addr[ATSM_REFUSAL_ADDR_MAX];
	size_t i, targets = 0, applied = 0;
	int proc;

	atsm_out_cmd_addr(c, addr, sizeof(addr), "phase.%s", code);
	if ((*stop = check_ambiguity(c, addr)) != 0)
		return 0;
	if ((has[0] = phase_active(c, ATSM_RECORD_RESUME, code)) < 0 ||
	    (has[1] = phase_active(c, ATSM_RECORD_CONTACT, code)) < 0)
		return -1;
	if (has[0] == 0 && has[1] == 0) {
		if ((proc = phase_active(c, ATSM_RECORD_PROCESS, code)) < 0)
			return -1;
		if (proc == 1)
			return thread_processes(c, code, addr, stop);
		*stop = atsm_out_refuse(c, ATSM_REFUSAL_NO_PHASE, addr, code, NULL);
		return 0;
	}
	if ((p->phases = atsm_arena_calloc(c->a, c->recs.n + 1, sizeof(*p->phases))) == NULL)
		return atsm_out_nomem(c, "phase changes");
	for (i = 0; i < c->recs.n; i++) {
		const struct atsm_rec *r = &c->recs.v[i];
		int *h = r->kind == ATSM_RECORD_RESUME ? &has[0] : &has[1];
		struct atsm_out_phase_change *ch;

		if (r->ambiguous)
			continue;
		targets++;
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
		*stop = atsm_out_refuse(c, ATSM_REFUSAL_NOTHING_TO_PHASE, addr, code, NULL);
	else if (applied == 0)
		*stop = atsm_out_refuse(c, ATSM_REFUSAL_NOT_RECORD_PHASE, addr, code, NULL);
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
	char addr[ATSM_REFUSAL_ADDR_MAX], num[32], max[32];
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
		snprintf(num, sizeof(num), "%lld", id);
		if ((*stop = atsm_out_refuse(c, ATSM_REFUSAL_NO_JOB, atsm_out_cmd_addr(c, addr,
		    sizeof(addr), "job.%lld", id), num, NULL)) != 0)
			return 0;
	}
	if (cs->has_phase) {
		if ((rc = phase_active(c, ATSM_RECORD_PROCESS, cs->phase)) < 0)
			return -1;
		if (rc == 0 && (*stop = atsm_out_refuse(c, ATSM_REFUSAL_NOT_PROCESS_PHASE,
		    atsm_out_cmd_addr(c, addr, sizeof(addr), "phase.%s", cs->phase), cs->phase,
		    NULL)) != 0)
			return 0;
		if (rc == 1) {
			snprintf(first, sizeof(first), "%s", cs->phase);
			phase_named = true;
		}
	}
	if ((*stop = check_ambiguity(c, atsm_out_cmd_addr(c, addr, sizeof(addr), "job.%llu",
	    cs->jobs[0]))) != 0)
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
		snprintf(num, sizeof(num), "%lld", p->jobs[0]);
		*stop = atsm_out_refuse(c, ATSM_REFUSAL_NO_CANDIDATE, atsm_out_cmd_addr(c, addr,
		    sizeof(addr), "job.%lld", p->jobs[0]), num, NULL);
		return 0;
	}
	if (nres * p->n_jobs > ATSM_OUT_MAX_PROCESSES) {
		snprintf(num, sizeof(num), "%zu", nres * p->n_jobs);
		snprintf(max, sizeof(max), "%d", ATSM_OUT_MAX_PROCESSES);
		*stop = atsm_out_refuse(c, ATSM_REFUSAL_TOO_MANY_PROCESSES, atsm_out_cmd_addr(c,
		    addr, sizeof(addr), "job.%lld", p->jobs[0]), num, max);
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
	struct atsm_out_plan *p = c->p;
	struct atsm_refusal r;
	size_t i;
	int rc;

	*stop = 0;
	/* what one address shows alone, as at RCPT (decide-rcpt.c): a mail
	 * that never passed the milter's RCPT stage gets the same refusal */
	for (i = 0; i < p->n_rcpts && c->mode == ATSM_OUT_LIVE; i++) {
		if (!p->rcpts[i].is_command)
			continue;
		if ((rc = atsm_out_check_address(c, p->rcpts[i].addr, &r)) < 0)
			return -1;
		if (rc == 1 && (*stop = atsm_out_refuse_with(c, &r)) != 0)
			return 0;
	}
	if (c->cmd_failed) {
		atsm_out_fault_refusal(c, &c->cmd_fault, &r);
		if ((*stop = atsm_out_refuse_with(c, &r)) != 0)
			return 0;
	}
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
