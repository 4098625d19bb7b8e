/* fake-dir.c -- a directory of plain arrays for the unit tests of the
 * decisions (see fake-dir.h): building it, applying the effects of a
 * decision, and the lookups that tests assert on.  The operations that
 * decisions call are fake-dir-ops.c, the seed fixture fake-dir-seed.c.
 * Linear searches: the fixtures are small.  Out of memory aborts the test
 * (ck_abort would need Check here).
 */
#include "fake-dir.h"
#include "fake-dir-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *
grow(void *v, size_t n, size_t size)
{
	void *p = realloc(v, (n + 1) * size);

	if (p == NULL)
		abort();
	return p;
}

static char *
xstrdup(const char *s)
{
	char *p = strdup(s != NULL ? s : "");

	if (p == NULL)
		abort();
	return p;
}

void
fake_dir_copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src != NULL ? src : "");
}

void
fake_dir_init(struct fake_dir *fd)
{
	memset(fd, 0, sizeof(*fd));
}

static void
message_free(struct fake_message *m)
{
	size_t i;

	free(m->msgid);
	for (i = 0; i < m->m.n_links; i++)
		free((char *)m->m.links[i].resume_addr);
	free(m->m.links);
	for (i = 0; i < m->m.n_participants; i++)
		free((char *)m->m.participants[i]);
	free(m->m.participants);
}

void
fake_dir_free(struct fake_dir *fd)
{
	size_t i;

	for (i = 0; i < fd->n_addrs; i++)
		free(fd->addrs[i].addr);
	for (i = 0; i < fd->n_excluded; i++)
		free(fd->excluded[i]);
	for (i = 0; i < fd->n_intake; i++)
		free(fd->intake[i].addr);
	for (i = 0; i < fd->n_events; i++)
		free(fd->events[i].sender);
	for (i = 0; i < fd->n_msgs; i++)
		message_free(&fd->msgs[i]);
	for (i = 0; i < fd->n_news; i++)
		free(fd->news[i].addr);
	for (i = 0; i < fd->n_new_procs; i++)
		free(fd->new_procs[i].addr);
	free(fd->news);
	free(fd->new_procs);
	free(fd->users);
	free(fd->addrs);
	free(fd->records);
	free(fd->jobs);
	free(fd->procs);
	free(fd->phases);
	free(fd->rules);
	free(fd->excluded);
	free(fd->intake);
	free(fd->events);
	free(fd->msgs);
	memset(fd, 0, sizeof(*fd));
}

void
fake_dir_fail(struct fake_dir *fd, bool fail)
{
	fd->fail = fail;
}

/* ---- building ---------------------------------------------------------- */

void
fake_dir_add_user(struct fake_dir *fd, long long id, const char *login,
    enum atsm_sharing_mode mode, bool default_share, bool needs_approval)
{
	struct atsm_dir_user *u;

	fd->users = grow(fd->users, fd->n_users, sizeof(*u));
	u = &fd->users[fd->n_users++];
	memset(u, 0, sizeof(*u));
	u->id = id;
	fake_dir_copy(u->login, sizeof(u->login), login);
	u->sharing_mode = mode;
	u->default_share = default_share;
	u->needs_approval = needs_approval;
	u->active = true;
}

void
fake_dir_add_addr(struct fake_dir *fd, enum atsm_record_kind kind, long long id,
    const char *addr)
{
	struct fake_addr *a;

	fd->addrs = grow(fd->addrs, fd->n_addrs, sizeof(*a));
	a = &fd->addrs[fd->n_addrs++];
	a->addr = xstrdup(addr);
	a->kind = kind;
	a->id = id;
}

struct atsm_dir_record *
fake_dir_find_record(const struct fake_dir *fd, enum atsm_record_kind kind, long long id)
{
	size_t i;

	for (i = 0; i < fd->n_records; i++)
		if (fd->records[i].kind == kind && fd->records[i].id == id)
			return &fd->records[i];
	return NULL;
}

void
fake_dir_add_record(struct fake_dir *fd, enum atsm_record_kind kind, long long id,
    bool shared, const char *phase)
{
	struct atsm_dir_record *r = fake_dir_find_record(fd, kind, id);

	if (r == NULL) {
		fd->records = grow(fd->records, fd->n_records, sizeof(*r));
		r = &fd->records[fd->n_records++];
	}
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->id = id;
	r->shared = shared;
	fake_dir_copy(r->phase, sizeof(r->phase), phase);
}

struct atsm_dir_job *
fake_dir_find_job(const struct fake_dir *fd, long long id)
{
	size_t i;

	for (i = 0; i < fd->n_jobs; i++)
		if (fd->jobs[i].id == id)
			return &fd->jobs[i];
	return NULL;
}

void
fake_dir_add_job(struct fake_dir *fd, long long id, bool open)
{
	struct atsm_dir_job *j = fake_dir_find_job(fd, id);

	if (j == NULL) {
		fd->jobs = grow(fd->jobs, fd->n_jobs, sizeof(*j));
		j = &fd->jobs[fd->n_jobs++];
	}
	j->id = id;
	j->open = open;
}

struct atsm_dir_process *
fake_dir_find_process(const struct fake_dir *fd, long long resume_id, long long job_id)
{
	size_t i;

	for (i = 0; i < fd->n_procs; i++)
		if (fd->procs[i].resume_id == resume_id && fd->procs[i].job_id == job_id)
			return &fd->procs[i];
	return NULL;
}

void
fake_dir_add_process(struct fake_dir *fd, long long id, long long resume_id,
    long long job_id, const char *phase)
{
	struct atsm_dir_process *p = fake_dir_find_process(fd, resume_id, job_id);
	const struct atsm_dir_job *j = fake_dir_find_job(fd, job_id);

	if (p == NULL) {
		fd->procs = grow(fd->procs, fd->n_procs, sizeof(*p));
		p = &fd->procs[fd->n_procs++];
	}
	memset(p, 0, sizeof(*p));
	p->id = id;
	p->resume_id = resume_id;
	p->job_id = job_id;
	fake_dir_copy(p->phase, sizeof(p->phase), phase);
	p->job_open = j != NULL && j->open;
}

void
fake_dir_add_phase(struct fake_dir *fd, enum atsm_record_kind kind, const char *code,
    int sort, bool active)
{
	struct fake_phase *p;

	fd->phases = grow(fd->phases, fd->n_phases, sizeof(*p));
	p = &fd->phases[fd->n_phases++];
	p->kind = kind;
	fake_dir_copy(p->code, sizeof(p->code), code);
	p->sort = sort;
	p->active = active;
}

void
fake_dir_add_rule(struct fake_dir *fd, long long id, enum atsm_record_kind kind,
    const char *event, const char *from, const char *to, int priority, bool active)
{
	struct fake_rule *r;

	fd->rules = grow(fd->rules, fd->n_rules, sizeof(*r));
	r = &fd->rules[fd->n_rules++];
	r->id = id;
	r->kind = kind;
	fake_dir_copy(r->event, sizeof(r->event), event);
	fake_dir_copy(r->from, sizeof(r->from), from);
	fake_dir_copy(r->to, sizeof(r->to), to);
	r->priority = priority;
	r->active = active;
}

void
fake_dir_add_excluded(struct fake_dir *fd, const char *domain)
{
	fd->excluded = grow(fd->excluded, fd->n_excluded, sizeof(char *));
	fd->excluded[fd->n_excluded++] = xstrdup(domain);
}

void
fake_dir_add_intake(struct fake_dir *fd, const char *addr, bool unresolved)
{
	fd->intake = grow(fd->intake, fd->n_intake, sizeof(*fd->intake));
	fd->intake[fd->n_intake].addr = xstrdup(addr);
	fd->intake[fd->n_intake++].unresolved = unresolved;
}

void
fake_dir_add_intake_event(struct fake_dir *fd, const char *sender, long long at)
{
	fd->events = grow(fd->events, fd->n_events, sizeof(*fd->events));
	fd->events[fd->n_events].sender = xstrdup(sender);
	fd->events[fd->n_events++].at = at;
}

struct fake_message *
fake_dir_find_message(const struct fake_dir *fd, const char *msgid, enum atsm_dir_direction dir)
{
	size_t i;

	for (i = 0; i < fd->n_msgs; i++)
		if (fd->msgs[i].m.direction == dir && strcmp(fd->msgs[i].msgid, msgid) == 0)
			return &fd->msgs[i];
	return NULL;
}

void
fake_dir_add_message(struct fake_dir *fd, const char *msgid, const struct atsm_dir_message *m)
{
	struct fake_message *fm = fake_dir_find_message(fd, msgid, m->direction);
	size_t i;

	if (fm != NULL)
		message_free(fm);
	else {
		fd->msgs = grow(fd->msgs, fd->n_msgs, sizeof(*fm));
		fm = &fd->msgs[fd->n_msgs++];
	}
	fm->msgid = xstrdup(msgid);
	fm->m = *m;
	fm->m.links = calloc(m->n_links + 1, sizeof(*m->links));
	fm->m.participants = calloc(m->n_participants + 1, sizeof(char *));
	if (fm->m.links == NULL || fm->m.participants == NULL)
		abort();
	if (m->n_links > 0)
		memcpy(fm->m.links, m->links, m->n_links * sizeof(*m->links));
	for (i = 0; i < m->n_links; i++)
		if (m->links[i].resume_addr != NULL)
			fm->m.links[i].resume_addr = xstrdup(m->links[i].resume_addr);
	for (i = 0; i < m->n_participants; i++)
		fm->m.participants[i] = xstrdup(m->participants[i]);
}

/* ---- resumes in the making --------------------------------------------- */

struct fake_new_resume *
fake_dir_find_new_resume(const struct fake_dir *fd, const char *addr)
{
	size_t i;

	for (i = 0; addr != NULL && i < fd->n_news; i++)
		if (strcmp(fd->news[i].addr, addr) == 0)
			return &fd->news[i];
	return NULL;
}

struct fake_new_process *
fake_dir_find_new_process(const struct fake_dir *fd, const char *addr, long long job_id)
{
	size_t i;

	for (i = 0; addr != NULL && i < fd->n_new_procs; i++)
		if (fd->new_procs[i].p.job_id == job_id && strcmp(fd->new_procs[i].addr, addr) == 0)
			return &fd->new_procs[i];
	return NULL;
}

const struct atsm_dir_record *
fake_dir_addr_resume(const struct fake_dir *fd, const char *addr)
{
	const struct atsm_dir_record *best = NULL, *r;
	size_t i;

	for (i = 0; addr != NULL && i < fd->n_addrs; i++)
		if (fd->addrs[i].kind == ATSM_RECORD_RESUME && strcmp(fd->addrs[i].addr, addr) == 0 &&
		    (r = fake_dir_find_record(fd, ATSM_RECORD_RESUME, fd->addrs[i].id)) != NULL &&
		    (best == NULL || r->id < best->id))
			best = r;
	return best;
}

static void
new_resume(struct fake_dir *fd, const char *addr, long long owner)
{
	struct fake_new_resume *n;

	if (fake_dir_addr_resume(fd, addr) != NULL || fake_dir_find_new_resume(fd, addr) != NULL)
		return;
	fd->news = grow(fd->news, fd->n_news, sizeof(*n));
	n = &fd->news[fd->n_news++];
	memset(n, 0, sizeof(*n));
	n->addr = xstrdup(addr);
	n->r.kind = ATSM_RECORD_RESUME;
	n->r.shared = ATSM_DIR_NEW_RESUME_SHARED;
	n->r.owner_id = owner;
	fake_dir_copy(n->r.phase, sizeof(n->r.phase), ATSM_DIR_NEW_RESUME_PHASE);
}

static void
new_process_phase(struct fake_dir *fd, const char *addr, long long job_id, const char *phase)
{
	struct fake_new_process *n = fake_dir_find_new_process(fd, addr, job_id);
	const struct atsm_dir_job *j = fake_dir_find_job(fd, job_id);

	if (n == NULL) {
		fd->new_procs = grow(fd->new_procs, fd->n_new_procs, sizeof(*n));
		n = &fd->new_procs[fd->n_new_procs++];
		memset(n, 0, sizeof(*n));
		n->addr = xstrdup(addr);
		n->p.job_id = job_id;
		n->p.job_open = j != NULL && j->open;
	}
	fake_dir_copy(n->p.phase, sizeof(n->p.phase), phase);
}

/* ---- effects and assertions -------------------------------------------- */

static void
process_phase(struct fake_dir *fd, const struct atsm_dir_phase_set *ps)
{
	long long resume = ps->resume_id;
	struct atsm_dir_process *p;

	if (resume == 0) {
		/* a recorded resume that holds the address, else the one in the making */
		const struct atsm_dir_record *r = fake_dir_addr_resume(fd, ps->resume_addr);

		if (r == NULL) {
			if (fake_dir_find_new_resume(fd, ps->resume_addr) != NULL)
				new_process_phase(fd, ps->resume_addr, ps->job_id, ps->phase);
			return;
		}
		resume = r->id;
	}
	if ((p = fake_dir_find_process(fd, resume, ps->job_id)) != NULL)
		fake_dir_copy(p->phase, sizeof(p->phase), ps->phase);
	else
		fake_dir_add_process(fd, ps->id, resume, ps->job_id, ps->phase);
}

static void
record_phase(struct fake_dir *fd, const struct atsm_dir_phase_set *ps)
{
	struct atsm_dir_record *r;

	if (ps->kind == ATSM_RECORD_RESUME && ps->id == 0) {
		/* a recorded resume that holds the address, else the one in the making */
		const struct atsm_dir_record *rec = fake_dir_addr_resume(fd, ps->resume_addr);
		struct fake_new_resume *n;

		if (rec == NULL) {
			if ((n = fake_dir_find_new_resume(fd, ps->resume_addr)) != NULL)
				fake_dir_copy(n->r.phase, sizeof(n->r.phase), ps->phase);
			return;
		}
		r = fake_dir_find_record(fd, ATSM_RECORD_RESUME, rec->id);
	} else {
		r = fake_dir_find_record(fd, ps->kind, ps->id);
	}
	if (r != NULL)
		fake_dir_copy(r->phase, sizeof(r->phase), ps->phase);
}

void
fake_dir_apply(struct fake_dir *fd, const struct atsm_dir_effects *e)
{
	size_t i;

	if (e->new_resume != NULL)
		new_resume(fd, e->new_resume, e->new_resume_owner);
	if (e->message != NULL && e->msgid != NULL)
		fake_dir_add_message(fd, e->msgid, e->message);
	for (i = 0; i < e->n_phases; i++) {
		if (e->phases[i].kind == ATSM_RECORD_PROCESS)
			process_phase(fd, &e->phases[i]);
		else
			record_phase(fd, &e->phases[i]);
	}
	if (e->intake_sender != NULL)
		fake_dir_add_intake_event(fd, e->intake_sender, e->at);
}

const struct atsm_dir_record *
fake_dir_new_resume(const struct fake_dir *fd, const char *addr)
{
	const struct fake_new_resume *n = fake_dir_find_new_resume(fd, addr);

	return n != NULL ? &n->r : NULL;
}

const struct atsm_dir_process *
fake_dir_new_process(const struct fake_dir *fd, const char *addr, long long job_id)
{
	const struct fake_new_process *n = fake_dir_find_new_process(fd, addr, job_id);

	return n != NULL ? &n->p : NULL;
}

const struct atsm_dir_record *
fake_dir_record(const struct fake_dir *fd, enum atsm_record_kind kind, long long id)
{
	return fake_dir_find_record(fd, kind, id);
}

const struct atsm_dir_process *
fake_dir_process(const struct fake_dir *fd, long long resume_id, long long job_id)
{
	return fake_dir_find_process(fd, resume_id, job_id);
}

const struct atsm_dir_message *
fake_dir_message(const struct fake_dir *fd, const char *msgid, enum atsm_dir_direction dir)
{
	const struct fake_message *fm = fake_dir_find_message(fd, msgid, dir);

	return fm != NULL ? &fm->m : NULL;
}
