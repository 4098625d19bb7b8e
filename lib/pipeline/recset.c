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

struct atsm_rec *
atsm_recset_find(const struct atsm_recset *s, enum atsm_record_kind kind, long long id)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].kind == kind && s->v[i].id == id &&
		    (id != 0 || kind != ATSM_RECORD_PROCESS))
			return &s->v[i];
	return NULL;
}

struct atsm_rec *
atsm_recset_find_process(const struct atsm_recset *s, long long resume_id, long long job_id)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].kind == ATSM_RECORD_PROCESS && s->v[i].resume_id == resume_id &&
		    s->v[i].job_id == job_id)
			return &s->v[i];
	return NULL;
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

struct atsm_rec *
atsm_recset_add(struct atsm_recset *s, enum atsm_record_kind kind, long long id,
    const char *rule, bool link)
{
	struct atsm_rec *r = atsm_recset_find(s, kind, id);

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
atsm_recset_add_process(struct atsm_recset *s, long long id, long long resume_id,
    long long job_id, const char *rule, bool link)
{
	struct atsm_rec *r = id != 0 ? atsm_recset_find(s, ATSM_RECORD_PROCESS, id) : NULL;

	if (r == NULL && resume_id != 0)
		r = atsm_recset_find_process(s, resume_id, job_id);
	if (r != NULL) {
		r->link |= link;
		if (r->id == 0)
			r->id = id;
		return r;
	}
	if ((r = push(s)) == NULL)
		return NULL;
	r->kind = ATSM_RECORD_PROCESS;
	r->id = id;
	r->resume_id = resume_id;
	r->job_id = job_id;
	snprintf(r->rule, sizeof(r->rule), "%s", rule != NULL ? rule : "");
	r->link = link;
	return r;
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
