/* pipeline/payload.h -- the pieces both record payloads (format 2,
 * docs/journal.md "Record payloads") write the same way, so that
 * atsm_out_record_payload() and atsm_in_record_payload() name things
 * alike for the recorder:
 *
 *	a message reference   {"id": <messages.id or 0>, "key": "<key or empty>"}
 *	a record              {"kind": "resume", "id": 1001}, and a process
 *	                      {"kind": "process", "id": <id or 0>,
 *	                       "resume": <resumes.id>, "job": <jobs.id>}
 *	the resume in the     {"kind": "resume", "id": 0, "addr": "<address>"},
 *	making (id 0,         and a process of it {"kind": "process", "id": 0,
 *	store/directory.h)    "resume": 0, "addr": "<address>", "job": <jobs.id>}
 *	a link                a record with "rule" and "ambiguous"
 *
 * Each returns a new JSON value, or NULL when memory is short or a string
 * is not UTF-8 (the caller then fails with a sentence naming the mail).
 */
#ifndef ATSM_PIPELINE_PAYLOAD_H
#define ATSM_PIPELINE_PAYLOAD_H

#include <stdbool.h>
#include <jansson.h>

#include "rules/policy.h"
#include "store/directory.h"

/* true when r names a message (an id, or a key while it has none) */
bool atsm_msgref_named(const struct atsm_dir_msgref *r);

json_t *atsm_payload_msgref(const struct atsm_dir_msgref *r);
/* resume_addr: the address of a resume of id 0, or of the resume (0) of a
 * process; ignored (may be NULL or "") otherwise. */
json_t *atsm_payload_record(enum atsm_record_kind kind, long long id, long long resume_id,
    const char *resume_addr, long long job_id);
json_t *atsm_payload_link(enum atsm_record_kind kind, long long id, long long resume_id,
    const char *resume_addr, long long job_id, const char *rule, bool ambiguous);
/* Adds "addr" to o when the resume it names (resume_id) is the resume in
 * the making; 0, or -1 when the address cannot be written. */
int atsm_payload_resume_addr(json_t *o, long long resume_id, const char *resume_addr);

#endif
