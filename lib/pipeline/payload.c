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

int
atsm_payload_resume_addr(json_t *o, long long resume_id, const char *resume_addr)
{
	if (resume_id != 0 || resume_addr == NULL || resume_addr[0] == '\0')
		return 0;
	return json_object_set_new(o, "addr", json_string(resume_addr));
}

json_t *
atsm_payload_record(enum atsm_record_kind kind, long long id, long long resume_id,
    const char *resume_addr, long long job_id)
{
	json_t *o;

	if (kind == ATSM_RECORD_PROCESS)
		o = json_pack("{s:s, s:I, s:I, s:I}", "kind", atsm_record_kind_name(kind),
		    "id", (json_int_t)id, "resume", (json_int_t)resume_id, "job", (json_int_t)job_id);
	else
		o = json_pack("{s:s, s:I}", "kind", atsm_record_kind_name(kind), "id", (json_int_t)id);
	if (o != NULL && (kind == ATSM_RECORD_PROCESS || kind == ATSM_RECORD_RESUME) &&
	    atsm_payload_resume_addr(o, kind == ATSM_RECORD_PROCESS ? resume_id : id,
	    resume_addr) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
atsm_payload_link(enum atsm_record_kind kind, long long id, long long resume_id,
    const char *resume_addr, long long job_id, const char *rule, bool ambiguous)
{
	json_t *o = atsm_payload_record(kind, id, resume_id, resume_addr, job_id);

	if (o == NULL || json_object_set_new(o, "rule", json_string(rule != NULL ? rule : "")) < 0 ||
	    json_object_set_new(o, "ambiguous", json_boolean(ambiguous)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}
