/* outbound/refusal.h -- why a recruiter's mail was refused, kept as data
 * so that it can be said at SMTP time (English, one line) and again in the
 * explanation mail in the recruiter's own language (what is wrong, then
 * how to fix it).  Pure: no I/O.
 *
 * Every refusal of the outbound decision (outbound/decide.h) fills one:
 * at RCPT for what concerns one command address (atsm_out_decide_rcpt),
 * at the end of the message for what concerns the whole mail.
 */
#ifndef ATSM_OUTBOUND_REFUSAL_H
#define ATSM_OUTBOUND_REFUSAL_H

#include <stdbool.h>
#include <stddef.h>

#include "base/lang.h"

#define ATSM_REFUSAL_ADDR_MAX 320
#define ATSM_REFUSAL_ARG_MAX 160
#define ATSM_REFUSAL_TEXT_MAX 512

enum atsm_refusal_kind {
	ATSM_REFUSAL_NONE = 0,
	ATSM_REFUSAL_OTHER            /* only the English sentence (text) is known */
};

struct atsm_refusal {
	enum atsm_refusal_kind kind;
	bool at_rcpt;                          /* refused at RCPT, not at the end */
	char addr[ATSM_REFUSAL_ADDR_MAX];      /* the full command address concerned
	                                          ("ats+job.12@ats.example.com"); "" when
	                                          the refusal is about the whole mail */
	char arg[2][ATSM_REFUSAL_ARG_MAX];     /* the kind's details (an id, a code, ...) */
	char text[ATSM_REFUSAL_TEXT_MAX];      /* the English sentence the SMTP reply gives */
};

/* What is wrong and how to fix it, in lang (UTF-8, no line breaks): what
 * starts with the problem; fix may be "" when there is nothing to add. */
void atsm_refusal_render(const struct atsm_refusal *r, enum atsm_lang lang, char *what,
    size_t what_size, char *fix, size_t fix_size);

#endif
