/* pipeline/visibility.c -- the visibility of a recorded mail, the same way
 * for both decisions (see pipeline/visibility.h). */
#include "pipeline/visibility.h"

#include <stdio.h>
#include <string.h>

#include "base/buf.h"

#define EXCLUDED_MAX 64      /* distinct excluded entries kept: one decides */

static bool
have(char **v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

int
atsm_pipeline_excluded(const struct atsm_dir *dir, char *const *counterparts, size_t n,
    struct atsm_arena *a, char ***out, size_t *nout, struct atsm_err *err)
{
	char **v;
	size_t i;

	*out = NULL;
	*nout = 0;
	if ((v = atsm_arena_calloc(a, EXCLUDED_MAX + 1, sizeof(char *))) == NULL)
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "visibility: out of memory");
	for (i = 0; i < n && *nout < EXCLUDED_MAX; i++) {
		const char *d = counterparts[i] != NULL ? strrchr(counterparts[i], '@') : NULL;

		/* x.y.example, y.example, example */
		for (d = d != NULL ? d + 1 : NULL; d != NULL && *d != '\0' && *nout < EXCLUDED_MAX;) {
			int rc = dir->ops->excluded_domain(dir->ctx, d, err);

			if (rc < 0)
				return -1;
			if (rc == 1 && !have(v, *nout, d)) {
				if ((v[*nout] = atsm_arena_strdup(a, d)) == NULL)
					return atsm_err_setc(err, ATSM_ERR_NOMEM,
					    "visibility: out of memory");
				(*nout)++;
			}
			if ((d = strchr(d, '.')) != NULL)
				d++;
		}
	}
	*out = v;
	return 0;
}

int
atsm_pipeline_visibility(const struct atsm_dir *dir, const struct atsm_vis_input *in,
    struct atsm_arena *a, struct atsm_vis *out, struct atsm_err *err)
{
	struct atsm_policy_input pin;
	struct atsm_policy_record *recs;
	struct atsm_buf reason;
	char **excl;
	size_t i, nexcl, nrec = 0, nsrc = in->recs != NULL ? in->recs->n : 0;

	memset(out, 0, sizeof(*out));
	if (atsm_pipeline_excluded(dir, in->counterparts, in->ncounterparts, a, &excl, &nexcl,
	    err) < 0)
		return -1;
	if ((recs = atsm_arena_calloc(a, nsrc + 1, sizeof(*recs))) == NULL)
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "visibility: out of memory");
	for (i = 0; i < nsrc; i++) {
		const struct atsm_rec *r = &in->recs->v[i];

		if (!r->link || (r->kind != ATSM_RECORD_RESUME && r->kind != ATSM_RECORD_CONTACT))
			continue;
		recs[nrec].kind = r->kind;
		recs[nrec].id = (unsigned long long)r->id;
		recs[nrec++].shared = r->shared;
	}
	memset(&pin, 0, sizeof(pin));
	/* an unknown mode fails closed: private */
	pin.mode = in->mode_known ? in->mode : (enum atsm_sharing_mode)-1;
	pin.default_share = in->default_share;
	pin.records = recs;
	pin.nrecords = nrec;
	pin.command_share = in->command_share;
	pin.counterparts = in->counterparts;
	pin.ncounterparts = in->ncounterparts;
	pin.excluded_domains = excl;
	pin.nexcluded = nexcl;
	atsm_buf_init(&reason, sizeof(out->reason) - 1);
	out->visibility = atsm_policy_visibility(&pin, &reason);
	snprintf(out->name, sizeof(out->name), "%s", atsm_visibility_name(out->visibility));
	snprintf(out->reason, sizeof(out->reason), "%s", atsm_buf_str(&reason));
	atsm_buf_free(&reason);
	out->nexcluded = nexcl;
	return 0;
}
