/* atsmail-settings.c -- the plugin's four settings, read from the strings
 * Dovecot's plugin { } block (or the userdb) gives (see atsmail-core.h,
 * docs/dovecot-integration.md).
 *
 * Interface: atsmail_settings_read.
 *
 * The plugin has no configuration file of its own: what it decides is the
 * service's, and the service's settings are the service's business.  A
 * bad value is reported with the setting's name and the value as written,
 * so that the one log line is enough to fix it.
 */
#include "atsmail-core.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* "<digits>[<unit>]" where the unit is one of units (factor, or 0 for the
 * end of the table); no unit = the first one's factor. */
struct unit {
	const char *name;
	unsigned long long factor;
};

static const struct unit time_units[] = {
	{ "s", 1000 }, { "ms", 1 }, { "sec", 1000 }, { "secs", 1000 }, { "m", 60000 },
	{ "min", 60000 }, { "mins", 60000 }, { NULL, 0 }
};
static const struct unit size_units[] = {
	{ "b", 1 }, { "k", 1024 }, { "kb", 1024 }, { "m", 1024 * 1024 }, { "mb", 1024 * 1024 },
	{ NULL, 0 }
};

static int
scaled(const char *v, const struct unit *units, unsigned long long *out)
{
	unsigned long long n;
	const char *u;
	char *end;

	if (*v < '0' || *v > '9')
		return -1;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno != 0)
		return -1;
	u = end;
	while (*u == ' ')
		u++;
	if (*u == '\0') {
		*out = n * units[0].factor;
		return n > ULLONG_MAX / units[0].factor ? -1 : 0;
	}
	for (; units->name != NULL; units++) {
		if (strcasecmp(u, units->name) == 0) {
			if (n > ULLONG_MAX / units->factor)
				return -1;
			*out = n * units->factor;
			return 0;
		}
	}
	return -1;
}

int
atsmail_settings_read(atsmail_getenv_fn *getenv_fn, void *ctx, struct atsmail_settings *s,
    char *errbuf, size_t errlen)
{
	const char *v;
	unsigned long long n;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	s->timeout_ms = ATSMAIL_TIMEOUT_DEFAULT_MS;
	s->head_max = ATSMAIL_HEAD_MAX_DEFAULT;
	errbuf[0] = '\0';

	/* on_failure first: what to do with the mail if anything else is bad */
	v = getenv_fn("atsmail_on_failure", ctx);
	if (v != NULL && *v != '\0') {
		if (strcmp(v, "deliver") == 0)
			s->deliver_on_failure = true;
		else if (strcmp(v, "tempfail") != 0) {
			snprintf(errbuf, errlen, "atsmail_on_failure = '%s': neither 'tempfail' "
			    "nor 'deliver'", v);
			rc = -1;
		}
	}
	/* the socket whatever else is wrong: unset, the plugin stands aside */
	v = getenv_fn("atsmail_socket", ctx);
	if (v != NULL && *v != '\0') {
		if (v[0] != '/' || strlen(v) >= sizeof(s->socket)) {
			if (rc == 0)
				snprintf(errbuf, errlen, "atsmail_socket = '%s': not an absolute path "
				    "of at most %zu bytes", v, sizeof(s->socket) - 1);
			/* set, though unusable: the plugin must not stand aside */
			memcpy(s->socket, "/", 2);
			rc = -1;
		} else {
			memcpy(s->socket, v, strlen(v) + 1);
		}
	}
	v = getenv_fn("atsmail_timeout", ctx);
	if (v != NULL && *v != '\0' && rc == 0) {
		if (scaled(v, time_units, &n) < 0 || n < ATSMAIL_TIMEOUT_MIN_MS ||
		    n > ATSMAIL_TIMEOUT_MAX_MS) {
			snprintf(errbuf, errlen, "atsmail_timeout = '%s': not a time from %ums to "
			    "%us (e.g. 10s, 500ms)", v, ATSMAIL_TIMEOUT_MIN_MS,
			    ATSMAIL_TIMEOUT_MAX_MS / 1000);
			rc = -1;
		} else {
			s->timeout_ms = (unsigned)n;
		}
	}
	v = getenv_fn("atsmail_head_max", ctx);
	if (v != NULL && *v != '\0' && rc == 0) {
		if (scaled(v, size_units, &n) < 0 || n < ATSMAIL_HEAD_MAX_MIN ||
		    n > ATSMAIL_HEAD_MAX_MAX) {
			snprintf(errbuf, errlen, "atsmail_head_max = '%s': not a size from 64k to "
			    "64M (e.g. 1M, 512k)", v);
			rc = -1;
		} else {
			s->head_max = (size_t)n;
		}
	}
	return rc;
}
