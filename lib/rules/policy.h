/* rules/policy.h -- who may see a recorded mail (sharing policy).
 *
 * atsm_policy_visibility() decides the visibility of one recorded item --
 * shared (every user), admins (administrators, owner and auditors) or
 * private (owner and auditors only) -- and writes the reason that is
 * stored beside it.  Precedence, strongest first:
 *
 *	1. a counterpart in an excluded domain          -> private
 *	2. the ats+private command                      -> private
 *	3. the ats+share command                        -> shared
 *	4. the sender's mode: admin -> admins, public -> shared,
 *	   private -> private, custom -> the linked records' share flags
 *	   (any record not shared -> private; all shared -> shared;
 *	   no record -> the user's default_share)
 *
 * The names of the enums are those of the SQL enums (sql/).
 */
#ifndef ATSM_POLICY_H
#define ATSM_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

enum atsm_visibility {
	ATSM_VIS_SHARED,
	ATSM_VIS_ADMINS,
	ATSM_VIS_PRIVATE
};

enum atsm_sharing_mode {
	ATSM_SHARING_ADMIN,
	ATSM_SHARING_PUBLIC,
	ATSM_SHARING_CUSTOM,
	ATSM_SHARING_PRIVATE
};

/* The kinds of record a mail can be linked to (also used by rules/guard.h). */
enum atsm_record_kind {
	ATSM_RECORD_NONE,
	ATSM_RECORD_RESUME,
	ATSM_RECORD_CONTACT,
	ATSM_RECORD_JOB,
	ATSM_RECORD_PROCESS
};

struct atsm_policy_record {
	enum atsm_record_kind kind;
	unsigned long long id;
	bool shared;               /* the record-level share flag */
};

struct atsm_policy_input {
	enum atsm_sharing_mode mode;
	bool default_share;        /* custom mode, mail linked to no record */
	const struct atsm_policy_record *records;
	size_t nrecords;
	int command_share;         /* as atsm_command_set.share: 1, -1 or 0 */
	char *const *counterparts; /* normalised To/Cc/Bcc/From counterparts */
	size_t ncounterparts;
	char *const *excluded_domains;   /* subdomains match too */
	size_t nexcluded;
};

/* The visibility of the item; reason (may be NULL) is reset and receives
 * a short sentence such as "sender mode public" or "counterpart
 * taro@rival.example in excluded domain rival.example".  An unknown mode
 * value gives private (fail closed). */
enum atsm_visibility atsm_policy_visibility(const struct atsm_policy_input *in,
    struct atsm_buf *reason);

/* "shared", "admins", "private"; "admin", "public", "custom", "private";
 * "none", "resume", "contact", "job", "process".  "?" for a bad value. */
const char *atsm_visibility_name(enum atsm_visibility v);
const char *atsm_sharing_mode_name(enum atsm_sharing_mode m);
const char *atsm_record_kind_name(enum atsm_record_kind k);

/* Parse a name (ASCII case ignored); -1 with err naming it otherwise. */
int atsm_visibility_from_name(const char *name, enum atsm_visibility *out,
    struct atsm_err *err);
int atsm_sharing_mode_from_name(const char *name, enum atsm_sharing_mode *out,
    struct atsm_err *err);

#endif
