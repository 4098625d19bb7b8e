/* rules/policy.c -- visibility of a recorded mail and the reason for it.
 *
 * Interface (rules/policy.h): atsm_policy_visibility() and the name helpers.
 *
 * The order of the checks is the precedence (see rules/policy.h and
 * docs/recruiter-commands.md): an excluded domain protects a client even
 * against a recruiter's ats+share, and ats+private is stronger than
 * ats+share so that a mistake errs on the side of privacy.  The reason is
 * stored with the item, so it names the fact that decided.
 */
#include "rules/policy.h"
#include "mail/addr.h"

#include <string.h>
#include <strings.h>

static const char *const vis_names[] = { "shared", "admins", "private" };
static const char *const mode_names[] = {
	"admin", "public", "custom", "private"
};
static const char *const kind_names[] = {
	"none", "resume", "contact", "job", "process"
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const char *
atsm_visibility_name(enum atsm_visibility v)
{
	return (size_t)v < NELEM(vis_names) ? vis_names[v] : "?";
}

const char *
atsm_sharing_mode_name(enum atsm_sharing_mode m)
{
	return (size_t)m < NELEM(mode_names) ? mode_names[m] : "?";
}

const char *
atsm_record_kind_name(enum atsm_record_kind k)
{
	return (size_t)k < NELEM(kind_names) ? kind_names[k] : "?";
}

static int
lookup(const char *name, const char *const *names, size_t n, int *out)
{
	size_t i;

	if (name == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (strcasecmp(name, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	return -1;
}

int
atsm_visibility_from_name(const char *name, enum atsm_visibility *out,
    struct atsm_err *err)
{
	int v;

	if (lookup(name, vis_names, NELEM(vis_names), &v) < 0)
		return atsm_err_set(err, "unknown visibility \"%.64s\"; use "
		    "shared, admins or private", name ? name : "");
	*out = (enum atsm_visibility)v;
	return 0;
}

int
atsm_sharing_mode_from_name(const char *name, enum atsm_sharing_mode *out,
    struct atsm_err *err)
{
	int v;

	if (lookup(name, mode_names, NELEM(mode_names), &v) < 0)
		return atsm_err_set(err, "unknown sharing mode \"%.64s\"; use "
		    "admin, public, custom or private", name ? name : "");
	*out = (enum atsm_sharing_mode)v;
	return 0;
}

/* The excluded-domain entry that domain falls in, or NULL. */
static const char *
excluded_entry(const char *domain, char *const *domains, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (atsm_addr_domain_in(domain, &domains[i], 1))
			return domains[i];
	return NULL;
}

static enum atsm_visibility
say(struct atsm_buf *reason, enum atsm_visibility v, const char *text)
{
	if (reason != NULL)
		atsm_buf_puts(reason, text);
	return v;
}

static enum atsm_visibility
custom_visibility(const struct atsm_policy_input *in, struct atsm_buf *reason)
{
	size_t i;

	if (in->nrecords == 0 || in->records == NULL)
		return in->default_share ?
		    say(reason, ATSM_VIS_SHARED, "custom mode: default share on") :
		    say(reason, ATSM_VIS_PRIVATE, "custom mode: default share off");
	for (i = 0; i < in->nrecords; i++) {
		const struct atsm_policy_record *r = &in->records[i];

		if (!r->shared) {
			if (reason != NULL)
				atsm_buf_printf(reason, "custom mode: %s %llu "
				    "not shared", atsm_record_kind_name(r->kind),
				    r->id);
			return ATSM_VIS_PRIVATE;
		}
	}
	if (reason != NULL)
		atsm_buf_printf(reason, "custom mode: all %zu linked record%s "
		    "shared", in->nrecords, in->nrecords == 1 ? "" : "s");
	return ATSM_VIS_SHARED;
}

enum atsm_visibility
atsm_policy_visibility(const struct atsm_policy_input *in,
    struct atsm_buf *reason)
{
	size_t i;

	if (reason != NULL)
		atsm_buf_reset(reason);
	for (i = 0; i < in->ncounterparts && in->counterparts != NULL; i++) {
		const char *c = in->counterparts[i], *at, *entry;

		if (c == NULL || (at = strrchr(c, '@')) == NULL)
			continue;
		entry = excluded_entry(at + 1, in->excluded_domains,
		    in->excluded_domains != NULL ? in->nexcluded : 0);
		if (entry == NULL)
			continue;
		while (*entry == '.' || *entry == '@')
			entry++;
		if (reason != NULL)
			atsm_buf_printf(reason, "counterpart %s in excluded "
			    "domain %s", c, entry);
		return ATSM_VIS_PRIVATE;
	}
	if (in->command_share < 0)
		return say(reason, ATSM_VIS_PRIVATE, "ats+private command");
	if (in->command_share > 0)
		return say(reason, ATSM_VIS_SHARED, "ats+share command");
	switch (in->mode) {
	case ATSM_SHARING_ADMIN:
		return say(reason, ATSM_VIS_ADMINS, "sender mode admin");
	case ATSM_SHARING_PUBLIC:
		return say(reason, ATSM_VIS_SHARED, "sender mode public");
	case ATSM_SHARING_PRIVATE:
		return say(reason, ATSM_VIS_PRIVATE, "sender mode private");
	case ATSM_SHARING_CUSTOM:
		return custom_visibility(in, reason);
	}
	return say(reason, ATSM_VIS_PRIVATE, "unknown sender mode");
}
