/* outbound/facts.c -- the facts of one sent mail (struct atsm_out_facts):
 * init, free, and the JSON form of format-1 journal entries, read back by
 * atsmailctl replay (see outbound/facts.h and docs/outbound.md).
 *
 * The JSON form is an object with "v":1 and one member per field; absent
 * headers are null.  A header is not always UTF-8 (raw Shift_JIS subjects
 * exist) and JSON strings must be, so such a value is written as
 * {"hex":"<its bytes>"}: the journal keeps the exact bytes that decoding
 * will see at replay.  Reading it back trusts nothing: every member is
 * checked for its type and bounds, and an error names the member.
 */
#include "outbound/facts.h"
#include "store/facts-json.h"

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
	free(f->hdr_bcc);
	free(f->hdr_message_id);
	free(f->hdr_subject);
	free(f->hdr_in_reply_to);
	free(f->hdr_references);
	free(f->hdr_date);
	free(f->preview);
	memset(f, 0, sizeof(*f));
}

static const struct atsm_fj fj = { "outbound facts", ATSM_OUT_FACT_MAX };

/* A member for an optional string: the string or null. */
static int
set_str(json_t *o, const char *name, const char *v)
{
	json_t *j = atsm_fj_text(v);

	if (j == NULL)
		return -1;
	return json_object_set_new(o, name, j);
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
		bad |= json_array_append_new(rcpts, atsm_fj_text(f->env_rcpts[i]));
	bad |= json_object_set_new(o, "v", json_integer(FACTS_VERSION));
	bad |= set_str(o, "queue_id", f->queue_id);
	bad |= set_str(o, "login", f->login);
	if (f->non_smtp)
		bad |= json_object_set_new(o, "non_smtp", json_true());
	bad |= set_str(o, "env_from", f->env_from != NULL ? f->env_from : "");
	bad |= json_object_set_new(o, "env_rcpts", rcpts);
	bad |= set_str(o, "hdr_from", f->hdr_from);
	bad |= set_str(o, "hdr_to", f->hdr_to);
	bad |= set_str(o, "hdr_cc", f->hdr_cc);
	bad |= set_str(o, "hdr_bcc", f->hdr_bcc);
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
		if (atsm_fj_read(&fj, j, what, &f->env_rcpts[i], err) < 0)
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
	if (atsm_fj_get_text(&fj, j, "queue_id", true, &f->queue_id, err) < 0 ||
	    atsm_fj_get_text(&fj, j, "login", true, &f->login, err) < 0 ||
	    atsm_fj_get_text(&fj, j, "env_from", false, &f->env_from, err) < 0 ||
	    get_rcpts(j, f, err) < 0 ||
	    atsm_fj_get_text(&fj, j, "hdr_from", true, &f->hdr_from, err) < 0 ||
	    atsm_fj_get_text(&fj, j, "hdr_to", true, &f->hdr_to, err) < 0 ||
	    atsm_fj_get_text(&fj, j, "hdr_cc", true, &f->hdr_cc, err) < 0 ||
	    atsm_fj_get_text(&fj, j, "hdr_bcc", true, &f->hdr_bcc, err) < 0 ||
	    atsm_fj_get_text(&fj, j, "hdr_message_id", true, &f->hdr_message_id, err) < 0 ||
	    atsm_fj_get_text(&fj, j, "hdr_subject", true, &f->hdr_subject, err) < 0 ||
	    atsm_fj_get_text(&fj, j, "hdr_in_reply_to", true, &f->hdr_in_reply_to, err) < 0 ||
	    atsm_fj_get_text(&fj, j, "hdr_references", true, &f->hdr_references, err) < 0 ||
	    atsm_fj_get_text(&fj, j, "hdr_date", true, &f->hdr_date, err) < 0)
		return -1;
	/* absent in the entries of earlier releases: an SMTP submission */
	if ((v = json_object_get(j, "non_smtp")) != NULL && !json_is_boolean(v))
		return atsm_err_set(err, "outbound facts: field 'non_smtp' must be true or false");
	f->non_smtp = v != NULL && json_is_true(v);
	if (atsm_fj_get_int(&fj, j, "body_size", 0, &n, err) < 0)
		return -1;
	f->body_size = (size_t)n;
	if (atsm_fj_get_int(&fj, j, "submitted_at", 0, &f->submitted_at, err) < 0)
		return -1;
	if (atsm_fj_get_fixed(&fj, j, "body_sha256", true, f->body_sha256, sizeof(f->body_sha256),
	    hex, err) < 0 ||
	    atsm_fj_get_fixed(&fj, j, "idem_key", false, f->idem_key, sizeof(f->idem_key), NULL, err) < 0 ||
	    atsm_fj_get_fixed(&fj, j, "token", true, f->token, sizeof(f->token), b32, err) < 0)
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
