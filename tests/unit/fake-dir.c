/* fake-dir.c -- a directory of plain arrays for the unit tests of the
 * decisions (see fake-dir.h).  Linear searches: the fixtures are small.
 * Out of memory aborts the test (ck_abort would need Check here).
 */
#include "fake-dir.h"

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

static void
copy(char *dst, size_t size, const char *src)
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
	copy(u->login, sizeof(u->login), login);
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

static struct atsm_dir_record *
find_record(const struct fake_dir *fd, enum atsm_record_kind kind, long long id)
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
	struct atsm_dir_record *r = find_record(fd, kind, id);

	if (r == NULL) {
		fd->records = grow(fd->records, fd->n_records, sizeof(*r));
		r = &fd->records[fd->n_records++];
	}
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->id = id;
	r->shared = shared;
	copy(r->phase, sizeof(r->phase), phase);
}

static struct atsm_dir_job *
find_job(const struct fake_dir *fd, long long id)
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
	struct atsm_dir_job *j = find_job(fd, id);

	if (j == NULL) {
		fd->jobs = grow(fd->jobs, fd->n_jobs, sizeof(*j));
		j = &fd->jobs[fd->n_jobs++];
	}
	j->id = id;
	j->open = open;
}

static struct atsm_dir_process *
find_process(const struct fake_dir *fd, long long resume_id, long long job_id)
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
	struct atsm_dir_process *p = find_process(fd, resume_id, job_id);
	const struct atsm_dir_job *j = find_job(fd, job_id);

	if (p == NULL) {
		fd->procs = grow(fd->procs, fd->n_procs, sizeof(*p));
		p = &fd->procs[fd->n_procs++];
	}
	memset(p, 0, sizeof(*p));
	p->id = id;
	p->resume_id = resume_id;
	p->job_id = job_id;
	copy(p->phase, sizeof(p->phase), phase);
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
	copy(p->code, sizeof(p->code), code);
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
	copy(r->event, sizeof(r->event), event);
	copy(r->from, sizeof(r->from), from);
	copy(r->to, sizeof(r->to), to);
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

static struct fake_message *
find_message(const struct fake_dir *fd, const char *msgid, enum atsm_dir_direction dir)
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
	struct fake_message *fm = find_message(fd, msgid, m->direction);
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
	for (i = 0; i < m->n_participants; i++)
		fm->m.participants[i] = xstrdup(m->participants[i]);
}

/* ---- the fixture of tests/data/seed.sql and seed-inbound.sql ------------ */

static void
seed_message(struct fake_dir *fd, long long id, const char *to, long long resume,
    long long contact, long long process, bool ambiguous_pair)
{
	char msgid[64], key[32];
	struct atsm_dir_link links[3];
	const char *parts[1] = { to };
	struct atsm_dir_message m;
	size_t n = 0;

	snprintf(msgid, sizeof(msgid), "out-%lld@atsmail.test", id);
	snprintf(key, sizeof(key), "seed-out-%lld", id);
	memset(&m, 0, sizeof(m));
	memset(links, 0, sizeof(links));
	m.ref.id = id;
	copy(m.ref.key, sizeof(m.ref.key), key);
	m.thread = m.ref;
	m.direction = ATSM_DIR_OUT;
	m.visibility = ATSM_VIS_SHARED;
	if (ambiguous_pair) {
		links[n].kind = ATSM_RECORD_RESUME;
		links[n].id = 1004;
		links[n++].ambiguous = true;
		links[n].kind = ATSM_RECORD_RESUME;
		links[n].id = 1005;
		links[n++].ambiguous = true;
	}
	if (resume != 0) {
		links[n].kind = ATSM_RECORD_RESUME;
		links[n++].id = resume;
	}
	if (contact != 0) {
		links[n].kind = ATSM_RECORD_CONTACT;
		links[n++].id = contact;
	}
	if (process != 0) {
		const struct atsm_dir_process *p;
		size_t i;

		for (i = 0, p = NULL; i < fd->n_procs; i++)
			if (fd->procs[i].id == process)
				p = &fd->procs[i];
		links[n].kind = ATSM_RECORD_PROCESS;
		links[n].id = process;
		links[n].resume_id = p != NULL ? p->resume_id : 0;
		links[n++].job_id = p != NULL ? p->job_id : 0;
	}
	m.links = links;
	m.n_links = n;
	m.participants = parts;
	m.n_participants = 1;
	fake_dir_add_message(fd, msgid, &m);
}

void
fake_dir_seed(struct fake_dir *fd)
{
	static const struct { const char *kind, *code; int sort; } phases[] = {
		{ "resume", "new", 10 }, { "resume", "active", 20 }, { "resume", "placed", 30 },
		{ "resume", "inactive", 40 }, { "contact", "new", 10 }, { "contact", "active", 20 },
		{ "contact", "inactive", 30 }, { "process", "entry", 10 },
		{ "process", "screening", 20 }, { "process", "interview1", 30 },
		{ "process", "interview2", 40 }, { "process", "final", 50 },
		{ "process", "offer", 60 }, { "process", "accepted", 70 },
		{ "process", "declined", 80 }, { "process", "rejected", 90 },
	};
	static const struct { long long id; const char *addr; } raddr[] = {
		{ 1001, "taro@candidate.test" }, { 1002, "hanako@candidate.test" },
		{ 1003, "jiro@candidate.test" }, { 1003, "jiro.home@example.net" },
		{ 1004, "family@candidate.test" }, { 1005, "family@candidate.test" },
		{ 1006, "saburo@candidate.test" }, { 1007, "ken@rival.example" },
		{ 1008, "shiro@candidate.test" },
	};
	size_t i;
	long long j;

	for (i = 0; i < sizeof(phases) / sizeof(phases[0]); i++)
		fake_dir_add_phase(fd, strcmp(phases[i].kind, "resume") == 0 ? ATSM_RECORD_RESUME :
		    strcmp(phases[i].kind, "contact") == 0 ? ATSM_RECORD_CONTACT :
		    ATSM_RECORD_PROCESS, phases[i].code, phases[i].sort, true);
	fake_dir_add_user(fd, 1, "alice@atsmail.test", ATSM_SHARING_PUBLIC, true, false);
	fake_dir_add_user(fd, 2, "bob@atsmail.test", ATSM_SHARING_PUBLIC, true, false);
	fake_dir_add_user(fd, 3, "carol@atsmail.test", ATSM_SHARING_PRIVATE, true, false);
	fake_dir_add_user(fd, 4, "dave@atsmail.test", ATSM_SHARING_CUSTOM, false, false);
	fake_dir_add_user(fd, 5, "admin@atsmail.test", ATSM_SHARING_ADMIN, true, false);
	fake_dir_add_user(fd, 6, "erin@atsmail.test", ATSM_SHARING_PUBLIC, true, true);
	for (i = 0; i < fd->n_users; i++)
		fake_dir_add_addr(fd, ATSM_RECORD_NONE, fd->users[i].id, fd->users[i].login);
	fake_dir_add_addr(fd, ATSM_RECORD_NONE, 1, "alice.sales@atsmail.test");
	for (j = 1001; j <= 1008; j++)
		fake_dir_add_record(fd, ATSM_RECORD_RESUME, j, j != 1006, "new");
	for (i = 0; i < sizeof(raddr) / sizeof(raddr[0]); i++)
		fake_dir_add_addr(fd, ATSM_RECORD_RESUME, raddr[i].id, raddr[i].addr);
	fake_dir_add_record(fd, ATSM_RECORD_CONTACT, 2001, true, "new");
	fake_dir_add_record(fd, ATSM_RECORD_CONTACT, 2002, false, "new");
	fake_dir_add_addr(fd, ATSM_RECORD_CONTACT, 2001, "suzuki@client.test");
	fake_dir_add_addr(fd, ATSM_RECORD_CONTACT, 2002, "sato@client.test");
	for (j = 3001; j <= 3025; j++)
		fake_dir_add_job(fd, j, true);
	fake_dir_add_process(fd, 4001, 1002, 3001, "screening");
	fake_dir_add_excluded(fd, "rival.example");
	/* seed-inbound.sql */
	fake_dir_add_rule(fd, 9001, ATSM_RECORD_RESUME, "reply", "new", "active", 0, true);
	fake_dir_add_rule(fd, 9002, ATSM_RECORD_PROCESS, "reply", "screening", "interview1", 0, true);
	fake_dir_add_rule(fd, 9003, ATSM_RECORD_CONTACT, "reply", NULL, "active", 0, true);
	fake_dir_add_rule(fd, 9004, ATSM_RECORD_CONTACT, "bounce", NULL, "inactive", 0, true);
	fake_dir_add_rule(fd, 9005, ATSM_RECORD_RESUME, "reply", "placed", "inactive", 0, false);
	fake_dir_add_intake(fd, "recruit@atsmail.test", false);
	fake_dir_add_intake(fd, "jobs@atsmail.test", true);
	seed_message(fd, 5001, "taro@candidate.test", 1001, 0, 0, false);
	seed_message(fd, 5002, "hanako@candidate.test", 1002, 0, 4001, false);
	seed_message(fd, 5003, "suzuki@client.test", 0, 2001, 0, false);
	seed_message(fd, 5004, "family@candidate.test", 0, 0, 0, true);
}

/* ---- the operations ------------------------------------------------------ */

static int
failing(struct fake_dir *fd, struct atsm_err *err)
{
	fd->calls++;
	if (fd->fail)
		return atsm_err_setc(err, ATSM_ERR_UNAVAILABLE, "fake directory: failing on purpose");
	return 0;
}

static int
op_user_by_login(void *ctx, const char *login, struct atsm_dir_user *out, struct atsm_err *err)
{
	struct fake_dir *fd = ctx;
	size_t i;

	if (failing(fd, err) < 0)
		return -1;
	for (i = 0; i < fd->n_users; i++)
		if (strcmp(fd->users[i].login, login) == 0) {
			*out = fd->users[i];
			return 1;
		}
	return 0;
}

static int
op_user_by_addr(void *ctx, const char *addr, struct atsm_dir_user *out, struct atsm_err *err)
{
	struct fake_dir *fd = ctx;
	size_t i, k;

	if (failing(fd, err) < 0)
		return -1;
	for (i = 0; i < fd->n_addrs; i++) {
		if (fd->addrs[i].kind != ATSM_RECORD_NONE || strcmp(fd->addrs[i].addr, addr) != 0)
			continue;
		for (k = 0; k < fd->n_users; k++)
			if (fd->users[k].id == fd->addrs[i].id) {
				*out = fd->users[k];
				return 1;
			}
	}
	return 0;
}

static int
cmp_record(const void *a, const void *b)
{
	const struct atsm_dir_record *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind == ATSM_RECORD_RESUME ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int
op_records_by_addr(void *ctx, const char *addr, struct atsm_dir_record *out, size_t max,
    size_t *n, struct atsm_err *err)
{
	struct fake_dir *fd = ctx;
	size_t i;

	*n = 0;
	if (failing(fd, err) < 0)
		return -1;
	for (i = 0; i < fd->n_addrs && *n < max; i++) {
		const struct atsm_dir_record *r;

		if (fd->addrs[i].kind == ATSM_RECORD_NONE || strcmp(fd->addrs[i].addr, addr) != 0)
			continue;
		if ((r = find_record(fd, fd->addrs[i].kind, fd->addrs[i].id)) != NULL)
			out[(*n)++] = *r;
	}
	qsort(out, *n, sizeof(*out), cmp_record);
	return *n > 0;
}

static int
op_record(void *ctx, enum atsm_record_kind kind, long long id, struct atsm_dir_record *out,
    struct atsm_err *err)
{
	struct fake_dir *fd = ctx;
	const struct atsm_dir_record *r;

	if (failing(fd, err) < 0)
		return -1;
	if ((r = find_record(fd, kind, id)) == NULL)
		return 0;
	*out = *r;
	return 1;
}

static int
op_job(void *ctx, long long id, struct atsm_dir_job *out, struct atsm_err *err)
{
	struct fake_dir *fd = ctx;
	const struct atsm_dir_job *j;

	if (failing(fd, err) < 0)
		return -1;
	if ((j = find_job(fd, id)) == NULL)
		return 0;
	*out = *j;
	return 1;
}

static int
op_process(void *ctx, long long resume_id, long long job_id, struct atsm_dir_process *out,
    struct atsm_err *err)
{
	struct fake_dir *fd = ctx;
	const struct atsm_dir_process *p;

	if (failing(fd, err) < 0)
		return -1;
	if ((p = find_process(fd, resume_id, job_id)) == NULL)
		return 0;
	*out = *p;
	return 1;
}

static int
op_process_by_id(void *ctx, long long id, struct atsm_dir_process *out, struct atsm_err *err)
{
	struct fake_dir *fd = ctx;
	size_t i;

	if (failing(fd, err) < 0)
		return -1;
	for (i = 0; i < fd->n_procs; i++)
		if (fd->procs[i].id == id && id != 0) {
			*out = fd->procs[i];
			return 1;
		}
	return 0;
}

static int
cmp_process(const void *a, const void *b)
{
	const struct atsm_dir_process *x = a, *y = b;

	return x->job_id < y->job_id ? -1 : x->job_id > y->job_id;
}

static int
op_processes_of_resume(void *ctx, long long resume_id, struct atsm_dir_process *out,
    size_t max, size_t *n, struct atsm_err *err)
{
	struct fake_dir *fd = ctx;
	size_t i;

	*n = 0;
	if (failing(fd, err) < 0)
		return -1;
	for (i = 0; i < fd->n_procs && *n < max; i++)
		if (fd->procs[i].resume_id == resume_id)
			out[(*n)++] = fd->procs[i];
	qsort(out, *n, sizeof(*out), cmp_process);
	return *n > 0;
}

static int
op_phase_active(void *ctx, enum atsm_record_kind kind, const char *code, struct atsm_err *err)
{
	struct fake_dir *fd = ctx;
	size_t i;

	if (failing(fd, err) < 0)
		return -1;
	for (i = 0; i < fd->n_phases; i++)
		if (fd->phases[i].kind == kind && fd->phases[i].active &&
		    strcmp(fd->phases[i].code, code) == 0)
			return 1;
	return 0;
}

static int
op_phase_first(void *ctx, enum atsm_record_kind kind, char out[ATSM_DIR_PHASE_MAX],
    struct atsm_err *err)
{
	struct fake_dir *fd = ctx;
	const struct fake_phase *best = NULL;
	size_t i;

	if (failing(fd, err) < 0)
		return -1;
	for (i = 0; i < fd->n_phases; i++) {
		const struct fake_phase *p = &fd->phases[i];

		if (p->kind != kind || !p->active)
			continue;
		if (best == NULL || p->sort < best->sort ||
		    (p->sort == best->sort && strcmp(p->code, best->code) < 0))
			best = p;
	}
	if (best == NULL)
		return 0;
	copy(out, ATSM_DIR_PHASE_MAX, best->code);
	return 1;
}

static int
op_phase_rule(void *ctx, enum atsm_record_kind kind, const char *event, const char *from,
    struct atsm_dir_rule *out, struct atsm_err *err)
{
	struct fake_dir *fd = ctx;
	const struct fake_rule *best = NULL;
	size_t i;

	if (failing(fd, err) < 0)
		return -1;
	for (i = 0; i < fd->n_rules; i++) {
		const struct fake_rule *r = &fd->rules[i];

		if (!r->active || r->kind != kind || strcmp(r->event, event) != 0 ||
		    (r->from[0] != '\0' && strcmp(r->from, from) != 0))
			continue;
		if (best == NULL || r->priority > best->priority ||
		    (r->priority == best->priority &&
		    ((r->from[0] != '\0' && best->from[0] == '\0') ||
		    ((r->from[0] != '\0') == (best->from[0] != '\0') && r->id < best->id))))
			best = r;
	}
	if (best == NULL)
		return 0;
	out->id = best->id;
	copy(out->to_phase, sizeof(out->to_phase), best->to);
	return 1;
}

static int
op_excluded_domain(void *ctx, const char *domain, struct atsm_err *err)
{
	struct fake_dir *fd = ctx;
	size_t i;

	if (failing(fd, err) < 0)
		return -1;
	for (i = 0; i < fd->n_excluded; i++)
		if (strcmp(fd->excluded[i], domain) == 0)
			return 1;
	return 0;
}

static int
op_intake_address(void *ctx, const char *addr, bool *unresolved, struct atsm_err *err)
{
	struct fake_dir *fd = ctx;
	size_t i;

	if (failing(fd, err) < 0)
		return -1;
	for (i = 0; i < fd->n_intake; i++)
		if (strcmp(fd->intake[i].addr, addr) == 0) {
			*unresolved = fd->intake[i].unresolved;
			return 1;
		}
	return 0;
}

static int
op_intake_count(void *ctx, const char *sender, long long since, unsigned *count,
    struct atsm_err *err)
{
	struct fake_dir *fd = ctx;
	size_t i;

	*count = 0;
	if (failing(fd, err) < 0)
		return -1;
	for (i = 0; i < fd->n_events; i++)
		if (fd->events[i].at >= since && strcmp(fd->events[i].sender, sender) == 0)
			(*count)++;
	return 1;
}

/* A copy of m whose arrays live in the caller's arena. */
static int
give_message(const struct fake_message *fm, struct atsm_arena *a, struct atsm_dir_message *out,
    struct atsm_err *err)
{
	size_t i;

	*out = fm->m;
	out->links = atsm_arena_calloc(a, fm->m.n_links + 1, sizeof(*out->links));
	out->participants = atsm_arena_calloc(a, fm->m.n_participants + 1, sizeof(char *));
	if (out->links == NULL || out->participants == NULL)
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "fake directory: arena full");
	if (fm->m.n_links > 0)
		memcpy(out->links, fm->m.links, fm->m.n_links * sizeof(*out->links));
	for (i = 0; i < fm->m.n_participants; i++)
		if ((out->participants[i] = atsm_arena_strdup(a, fm->m.participants[i])) == NULL)
			return atsm_err_setc(err, ATSM_ERR_NOMEM, "fake directory: arena full");
	return 1;
}

static int
op_message_by_msgid(void *ctx, const char *msgid, enum atsm_dir_direction dir,
    struct atsm_arena *a, struct atsm_dir_message *out, struct atsm_err *err)
{
	struct fake_dir *fd = ctx;
	const struct fake_message *fm;

	if (failing(fd, err) < 0)
		return -1;
	if ((fm = find_message(fd, msgid, dir)) == NULL)
		return 0;
	return give_message(fm, a, out, err);
}

static int
op_message_by_token(void *ctx, const char *token, struct atsm_arena *a,
    struct atsm_dir_message *out, struct atsm_err *err)
{
	struct fake_dir *fd = ctx;
	size_t i;

	if (failing(fd, err) < 0)
		return -1;
	for (i = 0; i < fd->n_msgs; i++)
		if (fd->msgs[i].m.token[0] != '\0' && strcmp(fd->msgs[i].m.token, token) == 0)
			return give_message(&fd->msgs[i], a, out, err);
	return 0;
}

static const struct atsm_dir_ops fake_ops = {
	.user_by_login = op_user_by_login,
	.user_by_addr = op_user_by_addr,
	.records_by_addr = op_records_by_addr,
	.record = op_record,
	.job = op_job,
	.process = op_process,
	.process_by_id = op_process_by_id,
	.processes_of_resume = op_processes_of_resume,
	.phase_active = op_phase_active,
	.phase_first = op_phase_first,
	.phase_rule = op_phase_rule,
	.excluded_domain = op_excluded_domain,
	.intake_address = op_intake_address,
	.intake_count = op_intake_count,
	.message_by_msgid = op_message_by_msgid,
	.message_by_token = op_message_by_token,
};

struct atsm_dir
fake_dir_dir(struct fake_dir *fd)
{
	struct atsm_dir d = { &fake_ops, fd };

	return d;
}

/* ---- effects and assertions -------------------------------------------- */

void
fake_dir_apply(struct fake_dir *fd, const struct atsm_dir_effects *e)
{
	size_t i;

	if (e->message != NULL && e->msgid != NULL)
		fake_dir_add_message(fd, e->msgid, e->message);
	for (i = 0; i < e->n_phases; i++) {
		const struct atsm_dir_phase_set *ps = &e->phases[i];

		if (ps->kind == ATSM_RECORD_PROCESS) {
			struct atsm_dir_process *p = find_process(fd, ps->resume_id, ps->job_id);

			if (p != NULL)
				copy(p->phase, sizeof(p->phase), ps->phase);
			else
				fake_dir_add_process(fd, ps->id, ps->resume_id, ps->job_id, ps->phase);
		} else {
			struct atsm_dir_record *r = find_record(fd, ps->kind, ps->id);

			if (r != NULL)
				copy(r->phase, sizeof(r->phase), ps->phase);
		}
	}
	if (e->intake_sender != NULL)
		fake_dir_add_intake_event(fd, e->intake_sender, e->at);
}

const struct atsm_dir_record *
fake_dir_record(const struct fake_dir *fd, enum atsm_record_kind kind, long long id)
{
	return find_record(fd, kind, id);
}

const struct atsm_dir_process *
fake_dir_process(const struct fake_dir *fd, long long resume_id, long long job_id)
{
	return find_process(fd, resume_id, job_id);
}

const struct atsm_dir_message *
fake_dir_message(const struct fake_dir *fd, const char *msgid, enum atsm_dir_direction dir)
{
	const struct fake_message *fm = find_message(fd, msgid, dir);

	return fm != NULL ? &fm->m : NULL;
}
