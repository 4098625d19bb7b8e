/* pipeline/payload.h -- the pieces both record payloads (format 2,
 * docs/journal.md "Record payloads") write the same way, so that
 * atsm_out_record_payload() and atsm_in_record_payload() name things
 * alike for the recorder:
 *
 *	a message reference   {"id": <messages.id or 0>, "key": "<key or empty>"}
 *	a record              {"kind": "resume", "id": 1001}, and a process
 *	                      {"kind": "process", "id": <id or 0>,
 *	                       "resume": <resumes.id>, "job": <jobs.id>}
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
json_t *atsm_payload_record(enum atsm_record_kind kind, long long id, long long resume_id,
    long long job_id);
json_t *atsm_payload_link(enum atsm_record_kind kind, long long id, long long resume_id,
    long long job_id, const char *rule, bool ambiguous);

#endif
