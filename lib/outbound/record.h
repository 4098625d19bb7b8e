/* outbound/record.h -- what a decided mail records and changes: the last
 * step of the outbound pipeline, without SQL.
 *
 * atsmaild journals the payload that atsm_out_record_payload() builds (a
 * journal entry of kind "outbound.record"); the recorder later hands it
 * to atsmail.record_outbound() in PostgreSQL.  At the same moment it
 * applies the effects that atsm_out_effects() describes to its directory
 * snapshot, so that the next decision -- a reply, a second ats+job --
 * sees the message, the processes it made and the phases it set before
 * the recorder has put them into the database.  The payload's format
 * ("v": 2) is docs/journal.md, "Record payloads".
 */
#ifndef ATSM_OUTBOUND_RECORD_H
#define ATSM_OUTBOUND_RECORD_H

#include <jansson.h>

#include "base/arena.h"
#include "base/err.h"
#include "outbound/decide.h"
#include "outbound/facts.h"
#include "store/directory.h"

#define ATSM_OUT_PAYLOAD_VERSION 2

/* The one jsonb parameter of atsmail.record_outbound() for a RECORD or
 * HOLD plan (the caller owns the reference).  NULL with err when the plan
 * records nothing (PASS, REJECT), the facts have no idempotency key, the
 * plan no sender (class INPUT), a text is not UTF-8 (INPUT, naming the
 * field), or memory ran out (NOMEM). */
json_t *atsm_out_record_payload(const struct atsm_out_facts *f, const struct atsm_out_plan *p,
    struct atsm_err *err);

/* What recording the plan changes in the directory, allocated in a: the
 * message (Message-ID, direction out, reference {0, the idempotency key},
 * its thread, visibility, token, links -- processes still to be made as
 * {id 0, resume, job} -- and participants: every recipient that is not a
 * command) and the phases it sets, processes created or moved included.
 * A PASS or REJECT plan, or a mail whose Message-ID is recorded as sent
 * already (the recorder records nothing for it), changes nothing: *e is
 * then empty but for at.  A HOLD plan changes the message only: its
 * phases and new processes wait for the release (sql/014-held-mail.sql),
 * and the payload says "held" with the queue id and the reason.  0, or -1 with err (class NOMEM) when a is full. */
int atsm_out_effects(const struct atsm_out_facts *f, const struct atsm_out_plan *p,
    struct atsm_arena *a, struct atsm_dir_effects *e, struct atsm_err *err);

#endif
