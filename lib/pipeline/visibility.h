/* pipeline/visibility.h -- who may see a recorded mail, for both
 * decisions: the policy input built the same way (the sender's or the
 * mailbox owner's mode, the linked resumes and contacts of the record
 * set, the command's share flag, the counterparts) and the excluded
 * domains found through the directory, then rules/policy.c decides.
 *
 * A counterpart's domain and each of its parents (x.y.example,
 * y.example, example) are asked of the directory, so an exclusion of
 * rival.example also covers mail.rival.example; the table of exclusions
 * may be any size, the cost is a few lookups per counterpart.
 */
#ifndef ATSM_PIPELINE_VISIBILITY_H
#define ATSM_PIPELINE_VISIBILITY_H

#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"
#include "base/err.h"
#include "pipeline/recset.h"
#include "rules/policy.h"
#include "store/directory.h"

#define ATSM_VIS_NAME_MAX 8
#define ATSM_VIS_REASON_MAX 256

struct atsm_vis_input {
	bool mode_known;               /* false: fail closed (private) */
	enum atsm_sharing_mode mode;
	bool default_share;            /* custom mode, no record linked */
	const struct atsm_recset *recs;  /* its linked resumes and contacts count */
	int command_share;             /* 1 ats+share, -1 ats+private, 0 none */
	char *const *counterparts;     /* normalised */
	size_t ncounterparts;
};

struct atsm_vis {
	enum atsm_visibility visibility;
	char name[ATSM_VIS_NAME_MAX];       /* "shared", "admins", "private" */
	char reason[ATSM_VIS_REASON_MAX];
	size_t nexcluded;                   /* excluded domains among the counterparts */
};

/* 0 with out filled, or -1 when the directory failed (err). */
int atsm_pipeline_visibility(const struct atsm_dir *dir, const struct atsm_vis_input *in,
    struct atsm_arena *a, struct atsm_vis *out, struct atsm_err *err);

/* The distinct excluded-domain entries that the counterparts fall in (the
 * entries as stored, in order of first appearance), in the arena. */
int atsm_pipeline_excluded(const struct atsm_dir *dir, char *const *counterparts, size_t n,
    struct atsm_arena *a, char ***out, size_t *nout, struct atsm_err *err);

#endif
