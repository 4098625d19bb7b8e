/* store/facts-json.c -- the JSON form of journaled facts (see store/facts-json.h). */
#include "store/facts-json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *
atsm_fj_text(const char *v)
{
	static const char hex[] = "0123456789abcdef";
	json_t *j;
	char *h;
	size_t i, n;

	if (v == NULL)
		return json_null();
	if ((j = json_string(v)) != NULL)
		return j;
	/* not UTF-8: keep the exact bytes */
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

static int
read_hex(const struct atsm_fj *c, const json_t *h, const char *what, char **out,
    struct atsm_err *err)
{
	const char *s = json_string_value(h);
	size_t len = json_string_length(h), i;

	if (len % 2 != 0 || len / 2 > c->max)
		return atsm_err_set(err, "%s: %s: bad or too long hex form", c->label, what);
	if ((*out = malloc(len / 2 + 1)) == NULL)
		return atsm_err_set(err, "%s: out of memory reading %s", c->label, what);
	for (i = 0; i < len / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		/* a NUL byte is never part of a header */
		if (hi < 0 || lo < 0 || (hi | lo) == 0) {
			free(*out);
			*out = NULL;
			return atsm_err_set(err, "%s: %s: bad hex form", c->label, what);
		}
		(*out)[i] = (char)(hi << 4 | lo);
	}
	(*out)[len / 2] = '\0';
	return 0;
}

int
atsm_fj_read(const struct atsm_fj *c, const json_t *j, const char *what, char **out,
    struct atsm_err *err)
{
	json_t *h;
	size_t len;

	*out = NULL;
	if (json_is_object(j) && json_object_size(j) == 1 &&
	    (h = json_object_get(j, "hex")) != NULL && json_is_string(h))
		return read_hex(c, h, what, out, err);
	if (!json_is_string(j))
		return atsm_err_set(err, "%s: %s must be a string", c->label, what);
	len = json_string_length(j);
	if (len > c->max)
		return atsm_err_set(err, "%s: %s is longer than %zu bytes", c->label, what, c->max);
	if (memchr(json_string_value(j), '\0', len) != NULL)
		return atsm_err_set(err, "%s: %s contains a NUL byte", c->label, what);
	if ((*out = strdup(json_string_value(j))) == NULL)
		return atsm_err_set(err, "%s: out of memory reading %s", c->label, what);
	return 0;
}

int
atsm_fj_get_text(const struct atsm_fj *c, const json_t *o, const char *name, bool optional,
    char **out, struct atsm_err *err)
{
	json_t *j = json_object_get(o, name);
	char what[64];

	*out = NULL;
	if (j == NULL || json_is_null(j)) {
		if (optional)
			return 0;
		return atsm_err_set(err, "%s: field '%s' is missing", c->label, name);
	}
	snprintf(what, sizeof(what), "field '%s'", name);
	return atsm_fj_read(c, j, what, out, err);
}

int
atsm_fj_get_fixed(const struct atsm_fj *c, const json_t *o, const char *name, bool optional,
    char *buf, size_t size, const char *chars, struct atsm_err *err)
{
	char *s;
	size_t len;

	buf[0] = '\0';
	if (atsm_fj_get_text(c, o, name, optional, &s, err) < 0)
		return -1;
	if (s == NULL)
		return 0;
	len = strlen(s);
	if (len >= size) {
		free(s);
		return atsm_err_set(err, "%s: field '%s' is longer than %zu characters",
		    c->label, name, size - 1);
	}
	if (chars != NULL && strspn(s, chars) != len) {
		free(s);
		return atsm_err_set(err, "%s: field '%s' has a character outside [%s]",
		    c->label, name, chars);
	}
	memcpy(buf, s, len + 1);
	free(s);
	return 0;
}

int
atsm_fj_get_int(const struct atsm_fj *c, const json_t *o, const char *name, long long min,
    long long *out, struct atsm_err *err)
{
	json_t *j = json_object_get(o, name);

	*out = 0;
	if (j == NULL || json_is_null(j))
		return 0;
	if (!json_is_integer(j) || json_integer_value(j) < min)
		return atsm_err_set(err, "%s: field '%s' must be an integer >= %lld",
		    c->label, name, min);
	*out = json_integer_value(j);
	return 0;
}

int
atsm_fj_get_bool(const struct atsm_fj *c, const json_t *o, const char *name, bool *out,
    struct atsm_err *err)
{
	json_t *j = json_object_get(o, name);

	*out = false;
	if (j == NULL || json_is_null(j))
		return 0;
	if (!json_is_boolean(j))
		return atsm_err_set(err, "%s: field '%s' must be true or false", c->label, name);
	*out = json_is_true(j);
	return 0;
}
