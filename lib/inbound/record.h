/* inbound/record.h -- what a decided inbound mail records, and what it
 * changes in the directory at once: the last step of the inbound
 * pipeline, facts -> directory -> decide -> payload + effects
 * (docs/inbound.md).
 *
 *	atsm_in_record_payload()  the "inbound.record" journal entry's data
 *	                          (format 2, docs/journal.md "Record
 *	                          payloads"): the one parameter of
 *	                          atsmail.record_inbound(), which the recorder
 *	                          calls when it drains the journal
 *	atsm_in_effects()         what atsmaild applies to its snapshot as
 *	                          soon as the entry is journaled, so that the
 *	                          next decision (a reply, a second copy of the
 *	                          same mail) sees this one before PostgreSQL
 *	                          has it
 *
 * Both are pure: no I/O, no SQL.  A plan whose verdict is IGNORE records
 * nothing and has no effects.
 */
#ifndef ATSM_INBOUND_RECORD_H
#define ATSM_INBOUND_RECORD_H

#include <jansson.h>

#include "base/arena.h"
#include "base/err.h"
#include "inbound/decide.h"
#include "inbound/facts.h"
#include "store/directory.h"

#define ATSM_IN_PAYLOAD_VERSION 2
#define ATSM_IN_ACTOR_DEFAULT "atsmaild"   /* the actor when the mailbox has no user */

/* The payload of a plan whose verdict is not IGNORE; NULL with err
 * (INPUT: IGNORE, no idempotency key, an incomplete plan, a string that
 * is not UTF-8; NOMEM). */
json_t *atsm_in_record_payload(const struct atsm_in_facts *f, const struct atsm_in_plan *p,
    struct atsm_err *err);

/* What the mail changes in the directory, in e (its arrays and strings in
 * a): the message entry when the mail makes a new message row (direction
 * in, ref {0, the facts' idempotency key}, its thread, visibility, links,
 * participants = its counterparts; none for a sent copy or a mail
 * another mailbox recorded first), the phases the rules set, the sender
 * of intake mail (the hourly rate) and, when it makes a resume, that
 * resume in the making (new_resume: the sender's address, owner the
 * mailbox's user; the message is linked to it).  e is emptied first; 0, or -1
 * with err (NOMEM: a is full; INPUT: no idempotency key). */
int atsm_in_effects(const struct atsm_in_facts *f, const struct atsm_in_plan *p,
    struct atsm_arena *a, struct atsm_dir_effects *e, struct atsm_err *err);

#endif
