/* pipeline/payload.c -- message references, records and links in the
 * record payloads of both pipelines (see pipeline/payload.h). */
#include "pipeline/payload.h"

bool
atsm_msgref_named(const struct atsm_dir_msgref *r)
{
	return r->id != 0 || r->key[0] != '\0';
}

json_t *
atsm_payload_msgref(const struct atsm_dir_msgref *r)
{
	return json_pack("{s:I, s:s}", "id", (json_int_t)r->id, "key", r->key);
}

json_t *
atsm_payload_record(enum atsm_record_kind kind, long long id, long long resume_id,
    long long job_id)
{
	if (kind == ATSM_RECORD_PROCESS)
		return json_pack("{s:s, s:I, s:I, s:I}", "kind", atsm_record_kind_name(kind),
		    "id", (json_int_t)id, "resume", (json_int_t)resume_id, "job", (json_int_t)job_id);
	return json_pack("{s:s, s:I}", "kind", atsm_record_kind_name(kind), "id", (json_int_t)id);
}

json_t *
atsm_payload_link(enum atsm_record_kind kind, long long id, long long resume_id,
    long long job_id, const char *rule, bool ambiguous)
{
	json_t *o = atsm_payload_record(kind, id, resume_id, job_id);

	if (o == NULL || json_object_set_new(o, "rule", json_string(rule != NULL ? rule : "")) < 0 ||
	    json_object_set_new(o, "ambiguous", json_boolean(ambiguous)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}
