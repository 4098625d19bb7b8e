/* pipeline/recset.c -- the records one mail is linked to (see
 * pipeline/recset.h). */
#include "pipeline/recset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
atsm_recset_init(struct atsm_recset *s, size_t max)
{
	memset(s, 0, sizeof(*s));
	s->max = max;
}

void
atsm_recset_free(struct atsm_recset *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static bool
same_addr(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Named by id: not a process or resume of id 0 (those need their names). */
struct atsm_rec *
atsm_recset_find(const struct atsm_recset *s, enum atsm_record_kind kind, long long id)
{
	size_t i;

	if (id == 0 && (kind == ATSM_RECORD_PROCESS || kind == ATSM_RECORD_RESUME))
		return NULL;
	for (i = 0; i < s->n; i++)
		if (s->v[i].kind == kind && s->v[i].id == id)
			return &s->v[i];
	return NULL;
}

struct atsm_rec *
atsm_recset_find_resume(const struct atsm_recset *s, long long id, const char *addr)
{
	size_t i;

	if (id != 0)
		return atsm_recset_find(s, ATSM_RECORD_RESUME, id);
	for (i = 0; i < s->n; i++)
		if (s->v[i].kind == ATSM_RECORD_RESUME && s->v[i].id == 0 &&
		    same_addr(s->v[i].resume_addr, addr))
			return &s->v[i];
	return NULL;
}

struct atsm_rec *
atsm_recset_find_process_of(const struct atsm_recset *s, long long resume_id,
    const char *resume_addr, long long job_id)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].kind == ATSM_RECORD_PROCESS && s->v[i].resume_id == resume_id &&
		    s->v[i].job_id == job_id &&
		    (resume_id != 0 || same_addr(s->v[i].resume_addr, resume_addr)))
			return &s->v[i];
	return NULL;
}

struct atsm_rec *
atsm_recset_find_process(const struct atsm_recset *s, long long resume_id, long long job_id)
{
	return atsm_recset_find_process_of(s, resume_id, NULL, job_id);
}

static struct atsm_rec *
push(struct atsm_recset *s)
{
	struct atsm_rec *r;

	if (s->n == s->max) {
		s->truncated = true;
		return NULL;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;

		if (cap > s->max)
			cap = s->max;
		if ((r = realloc(s->v, cap * sizeof(*r))) == NULL)
			return NULL;
		s->v = r;
		s->cap = cap;
	}
	r = &s->v[s->n++];
	memset(r, 0, sizeof(*r));
	return r;
}

static struct atsm_rec *
add(struct atsm_recset *s, struct atsm_rec *r, enum atsm_record_kind kind, long long id,
    const char *rule, bool link)
{
	if (r != NULL) {
		r->link |= link;
		return r;
	}
	if ((r = push(s)) == NULL)
		return NULL;
	r->kind = kind;
	r->id = id;
	snprintf(r->rule, sizeof(r->rule), "%s", rule != NULL ? rule : "");
	r->link = link;
	return r;
}

struct atsm_rec *
atsm_recset_add(struct atsm_recset *s, enum atsm_record_kind kind, long long id,
    const char *rule, bool link)
{
	if (kind == ATSM_RECORD_RESUME)
		return atsm_recset_add_resume(s, id, NULL, rule, link);
	return add(s, atsm_recset_find(s, kind, id), kind, id, rule, link);
}

struct atsm_rec *
atsm_recset_add_resume(struct atsm_recset *s, long long id, const char *addr, const char *rule,
    bool link)
{
	struct atsm_rec *r = add(s, atsm_recset_find_resume(s, id, addr), ATSM_RECORD_RESUME, id,
	    rule, link);

	if (r != NULL && id == 0)
		r->resume_addr = addr;
	return r;
}

struct atsm_rec *
atsm_recset_add_process_of(struct atsm_recset *s, long long id, long long resume_id,
    const char *resume_addr, long long job_id, const char *rule, bool link)
{
	struct atsm_rec *r = id != 0 ? atsm_recset_find(s, ATSM_RECORD_PROCESS, id) : NULL;

	if (r == NULL && (resume_id != 0 || resume_addr != NULL))
		r = atsm_recset_find_process_of(s, resume_id, resume_addr, job_id);
	if (r != NULL) {
		r->link |= link;
		if (r->id == 0)
			r->id = id;
		return r;
	}
	if ((r = add(s, NULL, ATSM_RECORD_PROCESS, id, rule, link)) == NULL)
		return NULL;
	r->resume_id = resume_id;
	r->job_id = job_id;
	r->resume_addr = resume_id == 0 ? resume_addr : NULL;
	return r;
}

struct atsm_rec *
atsm_recset_add_process(struct atsm_recset *s, long long id, long long resume_id,
    long long job_id, const char *rule, bool link)
{
	return atsm_recset_add_process_of(s, id, resume_id, NULL, job_id, rule, link);
}

void
atsm_rec_load_record(struct atsm_rec *r, const struct atsm_dir_record *d)
{
	r->shared = d->shared;
	snprintf(r->phase, sizeof(r->phase), "%s", d->phase);
	r->loaded = true;
}

void
atsm_rec_load_process(struct atsm_rec *r, const struct atsm_dir_process *d)
{
	r->shared = true;
	if (r->id == 0)
		r->id = d->id;
	r->resume_id = d->resume_id;
	r->job_id = d->job_id;
	snprintf(r->phase, sizeof(r->phase), "%s", d->phase);
	r->loaded = true;
}

int
atsm_rec_dir_process(const struct atsm_dir *dir, long long resume_id, const char *resume_addr,
    long long job_id, struct atsm_dir_process *out, struct atsm_err *err)
{
	if (resume_id != 0)
		return dir->ops->process(dir->ctx, resume_id, job_id, out, err);
	if (resume_addr == NULL)
		return 0;
	return dir->ops->new_resume_process(dir->ctx, resume_addr, job_id, out, err);
}

int
atsm_rec_dir_processes(const struct atsm_dir *dir, long long resume_id, const char *resume_addr,
    struct atsm_dir_process *out, size_t max, size_t *n, struct atsm_err *err)
{
	*n = 0;
	if (resume_id != 0)
		return dir->ops->processes_of_resume(dir->ctx, resume_id, out, max, n, err);
	if (resume_addr == NULL)
		return 0;
	return dir->ops->new_resume_processes(dir->ctx, resume_addr, out, max, n, err);
}

void
atsm_recset_filter(struct atsm_recset *s, bool (*keep)(const struct atsm_rec *, void *),
    void *arg)
{
	size_t i, k = 0;

	for (i = 0; i < s->n; i++)
		if (keep(&s->v[i], arg))
			s->v[k++] = s->v[i];
	s->n = k;
}
