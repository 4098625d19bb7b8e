/* store/facts-json.h -- reading and writing the JSON form of facts.
 *
 * The milter and the Dovecot plugin journal the facts of a mail as JSON
 * (outbound/facts.c, inbound/facts.c); both use these helpers so that the
 * two forms follow the same rules: a text that is not valid UTF-8 is
 * written as {"hex": "..."} and read back byte for byte; every text read is
 * bounded, NUL-free, and an error names the field and the kind of facts.
 */
#ifndef ATSM_FACTS_JSON_H
#define ATSM_FACTS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "base/err.h"

/* What is read: "outbound facts" / "inbound facts" (for errors) and the
 * longest text a field may hold. */
struct atsm_fj {
	const char *label;
	size_t max;
};

/* v as JSON: null for NULL, a string when UTF-8, else {"hex": ...}.
 * NULL only when memory is short. */
json_t *atsm_fj_text(const char *v);

/* j (a string or {"hex": ...}) as a new C string; what names it in errors. */
int atsm_fj_read(const struct atsm_fj *c, const json_t *j, const char *what, char **out,
                 struct atsm_err *err);
/* Member name of o: missing or null gives NULL when optional, else an error. */
int atsm_fj_get_text(const struct atsm_fj *c, const json_t *o, const char *name, bool optional,
                     char **out, struct atsm_err *err);
/* Into buf of size bytes (NUL included); chars, when not NULL, lists the
 * bytes allowed. */
int atsm_fj_get_fixed(const struct atsm_fj *c, const json_t *o, const char *name, bool optional,
                      char *buf, size_t size, const char *chars, struct atsm_err *err);
/* An integer >= min; missing or null gives 0. */
int atsm_fj_get_int(const struct atsm_fj *c, const json_t *o, const char *name, long long min,
                    long long *out, struct atsm_err *err);
/* true or false; missing or null gives false. */
int atsm_fj_get_bool(const struct atsm_fj *c, const json_t *o, const char *name, bool *out,
                     struct atsm_err *err);

#endif
