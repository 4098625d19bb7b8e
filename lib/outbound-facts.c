/* outbound-facts.c -- the facts of one sent mail (struct atsm_out_facts):
 * init, free, and the JSON form written to the journal and read back by
 * atsmailctl replay (see atsm-outbound.h and docs/outbound.md).
 *
 * The JSON form is an object with "v":1 and one member per field; absent
 * headers are null.  A header is not always UTF-8 (raw Shift_JIS subjects
 * exist) and JSON strings must be, so such a value is written as
 * {"hex":"<its bytes>"}: the journal keeps the exact bytes that decoding
 * will see at replay.  Reading it back trusts nothing: every member is
 * checked for its type and bounds, and an error names the member.
 */
#include "atsm-outbound.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FACTS_VERSION 1

void
atsm_out_facts_init(struct atsm_out_facts *f)
{
	memset(f, 0, sizeof(*f));
}

void
atsm_out_facts_free(struct atsm_out_facts *f)
{
	size_t i;

	free(f->queue_id);
	free(f->login);
	free(f->env_from);
	for (i = 0; i < f->n_env_rcpts; i++)
		free(f->env_rcpts[i]);
	free(f->env_rcpts);
	free(f->hdr_from);
	free(f->hdr_to);
	free(f->hdr_cc);
	free(f->hdr_message_id);
	free(f->hdr_subject);
	free(f->hdr_in_reply_to);
	free(f->hdr_references);
	free(f->hdr_date);
	memset(f, 0, sizeof(*f));
}

/* A string as JSON: a string when it is UTF-8, else {"hex": ...}. */
static json_t *
str_json(const char *v)
{
	static const char hex[] = "0123456789abcdef";
	json_t *j;
	char *h;
	size_t i, n;

	if ((j = json_string(v)) != NULL)
		return j;
	n = strlen(v);
	if ((h = malloc(2 * n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		h[2 * i] = hex[(unsigned char)v[i] >> 4];
		h[2 * i + 1] = hex[(unsigned char)v[i] & 15];
	}
	h[2 * n] = '\0';
	j = json_pack("{s:s}", "hex", h);
	free(h);
	return j;
}

/* A member for an optional string: the string or null. */
static int
set_str(json_t *o, const char *name, const char *v)
{
	json_t *j = v != NULL ? str_json(v) : json_null();

	if (j == NULL)
		return -1;
	return json_object_set_new(o, name, j);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The text of j (a string or {"hex":...}) as a new C string; what names
 * the member in errors. */
static int
json_str(const json_t *j, const char *what, char **out, struct atsm_err *err)
{
	const char *s;
	json_t *h;
	size_t len, i;

	*out = NULL;
	if (json_is_object(j) && (h = json_object_get(j, "hex")) != NULL &&
	    json_is_string(h) && json_object_size(j) == 1) {
		s = json_string_value(h);
		len = json_string_length(h);
		if (len % 2 != 0 || len / 2 > ATSM_OUT_FACT_MAX)
			return atsm_err_set(err, "outbound facts: %s: bad or too long hex form", what);
		if ((*out = malloc(len / 2 + 1)) == NULL)
			return atsm_err_set(err, "outbound facts: out of memory reading %s", what);
		for (i = 0; i < len / 2; i++) {
			int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				free(*out);
				*out = NULL;
				return atsm_err_set(err, "outbound facts: %s: bad hex form", what);
			}
			(*out)[i] = (char)(hi << 4 | lo);
		}
		(*out)[len / 2] = '\0';
		return 0;
	}
	if (!json_is_string(j))
		return atsm_err_set(err, "outbound facts: %s must be a string", what);
	len = json_string_length(j);
	if (len > ATSM_OUT_FACT_MAX)
		return atsm_err_set(err, "outbound facts: %s is longer than %u bytes",
		    what, ATSM_OUT_FACT_MAX);
	if (memchr(json_string_value(j), '\0', len) != NULL)
		return atsm_err_set(err, "outbound facts: %s contains a NUL byte", what);
	if ((*out = strdup(json_string_value(j))) == NULL)
		return atsm_err_set(err, "outbound facts: out of memory reading %s", what);
	return 0;
}

json_t *
atsm_out_facts_to_json(const struct atsm_out_facts *f)
{
	json_t *o, *rcpts;
	size_t i;
	int bad = 0;

	if ((o = json_object()) == NULL || (rcpts = json_array()) == NULL) {
		json_decref(o);
		return NULL;
	}
	for (i = 0; i < f->n_env_rcpts; i++)
		bad |= json_array_append_new(rcpts, str_json(f->env_rcpts[i]));
	bad |= json_object_set_new(o, "v", json_integer(FACTS_VERSION));
	bad |= set_str(o, "queue_id", f->queue_id);
	bad |= set_str(o, "login", f->login);
	bad |= set_str(o, "env_from", f->env_from != NULL ? f->env_from : "");
	bad |= json_object_set_new(o, "env_rcpts", rcpts);
	bad |= set_str(o, "hdr_from", f->hdr_from);
	bad |= set_str(o, "hdr_to", f->hdr_to);
	bad |= set_str(o, "hdr_cc", f->hdr_cc);
	bad |= set_str(o, "hdr_message_id", f->hdr_message_id);
	bad |= set_str(o, "hdr_subject", f->hdr_subject);
	bad |= set_str(o, "hdr_in_reply_to", f->hdr_in_reply_to);
	bad |= set_str(o, "hdr_references", f->hdr_references);
	bad |= set_str(o, "hdr_date", f->hdr_date);
	bad |= json_object_set_new(o, "body_size", json_integer((json_int_t)f->body_size));
	bad |= set_str(o, "body_sha256", f->body_sha256);
	bad |= set_str(o, "idem_key", f->idem_key);
	bad |= set_str(o, "token", f->token);
	bad |= json_object_set_new(o, "submitted_at", json_integer(f->submitted_at));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Read member name of o as a string into *out (a new copy).  Missing or
 * null gives NULL when optional, an error otherwise. */
static int
get_str(const json_t *o, const char *name, bool optional, char **out,
    struct atsm_err *err)
{
	json_t *j = json_object_get(o, name);
	char what[64];

	*out = NULL;
	if (j == NULL || json_is_null(j)) {
		if (optional)
			return 0;
		return atsm_err_set(err, "outbound facts: field '%s' is missing", name);
	}
	snprintf(what, sizeof(what), "field '%s'", name);
	return json_str(j, what, out, err);
}

/* A fixed-size string member: copied into buf (size bytes with the NUL);
 * chars, when not NULL, lists the bytes allowed. */
static int
get_fixed(const json_t *o, const char *name, bool optional, char *buf, size_t size,
    const char *chars, struct atsm_err *err)
{
	char *s;
	size_t len;

	buf[0] = '\0';
	if (get_str(o, name, optional, &s, err) < 0)
		return -1;
	if (s == NULL)
		return 0;
	len = strlen(s);
	if (len >= size) {
		free(s);
		return atsm_err_set(err, "outbound facts: field '%s' is longer than %zu characters",
		    name, size - 1);
	}
	if (chars != NULL && strspn(s, chars) != len) {
		free(s);
		return atsm_err_set(err, "outbound facts: field '%s' has a character outside [%s]",
		    name, chars);
	}
	memcpy(buf, s, len + 1);
	free(s);
	return 0;
}

static int
get_int(const json_t *o, const char *name, long long min, long long *out,
    struct atsm_err *err)
{
	json_t *j = json_object_get(o, name);

	*out = 0;
	if (j == NULL || json_is_null(j))
		return 0;
	if (!json_is_integer(j) || json_integer_value(j) < min)
		return atsm_err_set(err, "outbound facts: field '%s' must be an integer >= %lld",
		    name, min);
	*out = json_integer_value(j);
	return 0;
}

static int
get_rcpts(const json_t *o, struct atsm_out_facts *f, struct atsm_err *err)
{
	json_t *a = json_object_get(o, "env_rcpts"), *j;
	size_t i, n;

	if (a == NULL)
		return atsm_err_set(err, "outbound facts: field 'env_rcpts' is missing");
	if (!json_is_array(a))
		return atsm_err_set(err, "outbound facts: field 'env_rcpts' must be an array of strings");
	n = json_array_size(a);
	if (n > ATSM_OUT_MAX_RCPTS)
		return atsm_err_set(err, "outbound facts: field 'env_rcpts' has %zu addresses; at most %d",
		    n, ATSM_OUT_MAX_RCPTS);
	if (n == 0)
		return 0;
	if ((f->env_rcpts = calloc(n, sizeof(char *))) == NULL)
		return atsm_err_set(err, "outbound facts: out of memory reading 'env_rcpts'");
	/* n_env_rcpts counts the slots so that free() sees every copy */
	f->n_env_rcpts = n;
	json_array_foreach(a, i, j) {
		char what[64];

		snprintf(what, sizeof(what), "field 'env_rcpts' item %zu", i);
		if (json_str(j, what, &f->env_rcpts[i], err) < 0)
			return -1;
	}
	return 0;
}

static int
facts_read(const json_t *j, struct atsm_out_facts *f, struct atsm_err *err)
{
	static const char hex[] = "0123456789abcdef";
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	json_t *v;
	long long n;

	if (!json_is_object(j))
		return atsm_err_set(err, "outbound facts: not a JSON object");
	v = json_object_get(j, "v");
	if (v == NULL || !json_is_integer(v) || json_integer_value(v) != FACTS_VERSION)
		return atsm_err_set(err, "outbound facts: field 'v' must be %d", FACTS_VERSION);
	if (get_str(j, "queue_id", true, &f->queue_id, err) < 0 ||
	    get_str(j, "login", true, &f->login, err) < 0 ||
	    get_str(j, "env_from", false, &f->env_from, err) < 0 ||
	    get_rcpts(j, f, err) < 0 ||
	    get_str(j, "hdr_from", true, &f->hdr_from, err) < 0 ||
	    get_str(j, "hdr_to", true, &f->hdr_to, err) < 0 ||
	    get_str(j, "hdr_cc", true, &f->hdr_cc, err) < 0 ||
	    get_str(j, "hdr_message_id", true, &f->hdr_message_id, err) < 0 ||
	    get_str(j, "hdr_subject", true, &f->hdr_subject, err) < 0 ||
	    get_str(j, "hdr_in_reply_to", true, &f->hdr_in_reply_to, err) < 0 ||
	    get_str(j, "hdr_references", true, &f->hdr_references, err) < 0 ||
	    get_str(j, "hdr_date", true, &f->hdr_date, err) < 0)
		return -1;
	if (get_int(j, "body_size", 0, &n, err) < 0)
		return -1;
	f->body_size = (size_t)n;
	if (get_int(j, "submitted_at", 0, &f->submitted_at, err) < 0)
		return -1;
	if (get_fixed(j, "body_sha256", true, f->body_sha256, sizeof(f->body_sha256),
	    hex, err) < 0 ||
	    get_fixed(j, "idem_key", false, f->idem_key, sizeof(f->idem_key), NULL, err) < 0 ||
	    get_fixed(j, "token", true, f->token, sizeof(f->token), b32, err) < 0)
		return -1;
	if (f->body_sha256[0] != '\0' && strlen(f->body_sha256) != 64)
		return atsm_err_set(err, "outbound facts: field 'body_sha256' must be 64 "
		    "hex digits or empty");
	if (f->idem_key[0] == '\0')
		return atsm_err_set(err, "outbound facts: field 'idem_key' is empty");
	return 0;
}

int
atsm_out_facts_from_json(const json_t *j, struct atsm_out_facts *f, struct atsm_err *err)
{
	atsm_out_facts_init(f);
	if (facts_read(j, f, err) < 0) {
		atsm_out_facts_free(f);
		return -1;
	}
	return 0;
}
