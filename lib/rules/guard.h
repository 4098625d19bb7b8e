/* rules/guard.h -- the guard against showing candidates to each other.
 *
 * A mail that shows the addresses of two or more different candidates
 * (resumes) to each other in To/Cc leaks who else is applying: bulk mail
 * must go one per candidate, or with the candidates in Bcc.
 * atsm_guard_check() tells whether a mail does that and writes the
 * sentence for the sender.  Counting rules: addresses of one resume count
 * once; Bcc (and envelope-only recipients, which the caller passes as Bcc)
 * never counts; contacts and unknown addresses never count, so a candidate
 * with a client contact in Cc (an introduction) is allowed.  What to do
 * with a violation -- reject, hold or allow -- is configuration, applied
 * by the milter (enum atsm_guard_action).
 */
#ifndef ATSM_GUARD_H
#define ATSM_GUARD_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"
#include "rules/policy.h"

/* Addresses named in the sentence; the others are counted ("and 3 more"). */
#define ATSM_GUARD_NAMES_MAX 5

enum atsm_header_kind {
	ATSM_HEADER_TO,
	ATSM_HEADER_CC,
	ATSM_HEADER_BCC
};

struct atsm_guard_recipient {
	const char *addr;              /* normalised address */
	enum atsm_header_kind header;
	enum atsm_record_kind record;  /* RESUME, CONTACT or NONE */
	unsigned long long record_id;  /* the resume's id when RESUME */
};

enum atsm_guard_verdict {
	ATSM_GUARD_OK,
	ATSM_GUARD_VIOLATION
};

enum atsm_guard_action {
	ATSM_GUARD_REJECT,
	ATSM_GUARD_HOLD,
	ATSM_GUARD_ALLOW
};

/* Check the recipients v[0..n).  *ncandidates (may be NULL) receives the
 * number of distinct resumes in To/Cc.  On a violation, sentence (may be
 * NULL) is reset and receives one line of printable ASCII under 400
 * characters, e.g. "This mail shows 2 candidates' addresses to each other
 * in To/Cc (taro@x.example, hanako@y.example): send one mail per
 * candidate, or put the candidates in Bcc." */
enum atsm_guard_verdict atsm_guard_check(const struct atsm_guard_recipient *v,
    size_t n, size_t *ncandidates, struct atsm_buf *sentence);

/* "reject", "hold", "allow" and back (ASCII case ignored; -1 with err). */
const char *atsm_guard_action_name(enum atsm_guard_action a);
int atsm_guard_action_from_name(const char *name, enum atsm_guard_action *out,
    struct atsm_err *err);

#endif
