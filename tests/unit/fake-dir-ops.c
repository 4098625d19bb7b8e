/* fake-dir-ops.c -- the operations of store/directory.h over the fake
 * directory's arrays (fake-dir.c): what atsm_out_decide and atsm_in_decide
 * call.  Each counts itself in fd->calls and fails on purpose while
 * fake_dir_fail() is on; lists are sorted the way the real stores sort
 * them, so that decisions see the same order in tests.
 */
#include "fake-dir.h"
#include "fake-dir-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Every record of the address, sorted, then the first max: the resume in
 * the making (id 0, sorted first) when no recorded resume holds it. */
static int
op_records_by_addr(void *ctx, const char *addr, struct atsm_dir_record *out, size_t max,
    size_t *n, struct atsm_err *err)
{
	struct fake_dir *fd = ctx;
	const struct fake_new_resume *nr;
	struct atsm_dir_record *all;
	size_t i, k = 0;
	bool resume = false;

	*n = 0;
	if (failing(fd, err) < 0)
		return -1;
	if ((all = calloc(fd->n_addrs + 2, sizeof(*all))) == NULL)
		abort();
	for (i = 0; i < fd->n_addrs; i++) {
		const struct atsm_dir_record *r;

		if (fd->addrs[i].kind == ATSM_RECORD_NONE || strcmp(fd->addrs[i].addr, addr) != 0)
			continue;
		if ((r = fake_dir_find_record(fd, fd->addrs[i].kind, fd->addrs[i].id)) != NULL) {
			all[k++] = *r;
			resume |= r->kind == ATSM_RECORD_RESUME;
		}
	}
	if (!resume && (nr = fake_dir_find_new_resume(fd, addr)) != NULL)
		all[k++] = nr->r;
	qsort(all, k, sizeof(*all), cmp_record);
	*n = k < max ? k : max;
	if (*n > 0)
		memcpy(out, all, *n * sizeof(*out));
	free(all);
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
	if ((r = fake_dir_find_record(fd, kind, id)) == NULL)
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
	if ((j = fake_dir_find_job(fd, id)) == NULL)
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
	if ((p = fake_dir_find_process(fd, resume_id, job_id)) == NULL)
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
op_new_resume_process(void *ctx, const char *addr, long long job_id,
    struct atsm_dir_process *out, struct atsm_err *err)
{
	struct fake_dir *fd = ctx;
	const struct fake_new_process *p;

	if (failing(fd, err) < 0)
		return -1;
	if ((p = fake_dir_find_new_process(fd, addr, job_id)) == NULL)
		return 0;
	*out = p->p;
	return 1;
}

static int
op_new_resume_processes(void *ctx, const char *addr, struct atsm_dir_process *out, size_t max,
    size_t *n, struct atsm_err *err)
{
	struct fake_dir *fd = ctx;
	size_t i;

	*n = 0;
	if (failing(fd, err) < 0)
		return -1;
	for (i = 0; i < fd->n_new_procs && *n < max; i++)
		if (strcmp(fd->new_procs[i].addr, addr) == 0)
			out[(*n)++] = fd->new_procs[i].p;
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
	fake_dir_copy(out, ATSM_DIR_PHASE_MAX, best->code);
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
	fake_dir_copy(out->to_phase, sizeof(out->to_phase), best->to);
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
	for (i = 0; i < fm->m.n_links; i++)
		if (fm->m.links[i].resume_addr != NULL && (out->links[i].resume_addr =
		    atsm_arena_strdup(a, fm->m.links[i].resume_addr)) == NULL)
			return atsm_err_setc(err, ATSM_ERR_NOMEM, "fake directory: arena full");
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
	if ((fm = fake_dir_find_message(fd, msgid, dir)) == NULL)
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
	.new_resume_process = op_new_resume_process,
	.new_resume_processes = op_new_resume_processes,
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
