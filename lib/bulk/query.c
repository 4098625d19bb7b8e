/* bulk/query.c -- parse a bulk send query (see bulk/query.h). */
#include "bulk/query.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool
code_valid(const char *s)
{
	size_t i;

	if (!(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0])))
		return false;
	for (i = 1; s[i] != '\0'; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) ||
		    s[i] == '_' || s[i] == '-'))
			return false;
	return i <= 32;
}

static int
number(const char *s, long long max, long long *out)
{
	char *end;
	long long v;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || v > max)
		return -1;
	*out = v;
	return (int)(end - s);
}

/* One NAME=VALUE term (term is a NUL-ended copy). */
static int
term(char *t, struct atsm_bulk_query *q, unsigned *seen, struct atsm_err *err)
{
	char *eq = strchr(t, '='), *name = t, *val;
	long long v;
	int n;
	unsigned bit;

	if (eq == NULL)
		return atsm_err_set(err, "query term '%s': not NAME=VALUE (phase, job, "
		    "phase-older-than, kind, owner)", t);
	*eq = '\0';
	val = eq + 1;
	while (*val == ' ')
		val++;
	for (n = (int)strlen(name); n > 0 && name[n - 1] == ' '; n--)
		name[n - 1] = '\0';
	if (strcmp(name, "phase") == 0)
		bit = 1;
	else if (strcmp(name, "job") == 0)
		bit = 2;
	else if (strcmp(name, "phase-older-than") == 0)
		bit = 4;
	else if (strcmp(name, "kind") == 0)
		bit = 8;
	else if (strcmp(name, "owner") == 0)
		bit = 16;
	else
		return atsm_err_set(err, "query term '%s=%s': unknown name '%s' (phase, job, "
		    "phase-older-than, kind, owner)", name, val, name);
	if (*seen & bit)
		return atsm_err_set(err, "query term '%s=%s': %s given twice", name, val, name);
	*seen |= bit;
	switch (bit) {
	case 1:
		if (!code_valid(val))
			return atsm_err_set(err, "query term 'phase=%s': not a phase code", val);
		memcpy(q->phase, val, strlen(val) + 1);
		break;
	case 2:
		if ((n = number(val, 1LL << 62, &v)) < 0 || val[n] != '\0' || v == 0)
			return atsm_err_set(err, "query term 'job=%s': not a job id", val);
		q->job = v;
		break;
	case 4:
		if ((n = number(val, 100000, &v)) < 0 ||
		    (val[n] != '\0' && strcmp(val + n, "d") != 0))
			return atsm_err_set(err, "query term 'phase-older-than=%s': not a number "
			    "of days (30d)", val);
		q->older_days = (int)v;
		break;
	case 8:
		if (strcmp(val, "resume") == 0)
			q->kind = 'r';
		else if (strcmp(val, "contact") == 0)
			q->kind = 'c';
		else
			return atsm_err_set(err, "query term 'kind=%s': resume or contact", val);
		break;
	default:
		if (val[0] == '\0' || strlen(val) >= sizeof(q->owner) ||
		    strpbrk(val, " \t\r\n") != NULL)
			return atsm_err_set(err, "query term 'owner=%s': not a login", val);
		memcpy(q->owner, val, strlen(val) + 1);
		break;
	}
	return 0;
}

int
atsm_bulk_query_parse(const char *text, struct atsm_bulk_query *q, struct atsm_err *err)
{
	char buf[ATSM_BULK_QUERY_MAX], *p, *t;
	unsigned seen = 0;

	memset(q, 0, sizeof(*q));
	q->older_days = -1;
	if (text == NULL || strlen(text) >= sizeof(buf))
		return atsm_err_set(err, "query: missing or longer than %d bytes",
		    ATSM_BULK_QUERY_MAX - 1);
	memcpy(buf, text, strlen(text) + 1);
	for (p = buf; (t = strsep(&p, ",")) != NULL;) {
		size_t n;

		while (isspace((unsigned char)*t))
			t++;
		for (n = strlen(t); n > 0 && isspace((unsigned char)t[n - 1]); n--)
			t[n - 1] = '\0';
		if (*t == '\0') {
			if (p == NULL && seen != 0)
				break;          /* a trailing comma */
			return atsm_err_set(err, "query '%s': an empty term", text);
		}
		if (term(t, q, &seen, err) < 0)
			return -1;
	}
	return 0;
}
