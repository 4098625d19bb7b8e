/* base/err.c -- formatting of struct atsm_err (see base/err.h). */
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int
atsm_err_set(struct atsm_err *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int
atsm_err_prefix(struct atsm_err *err, const char *fmt, ...)
{
	char prefix[ATSM_ERR_MAX], joined[2 * ATSM_ERR_MAX + 2];
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	snprintf(joined, sizeof(joined), "%s: %s", prefix, err->msg);
	memcpy(err->msg, joined, sizeof(err->msg) - 1);
	err->msg[sizeof(err->msg) - 1] = '\0';
	return -1;
}

void
atsm_err_clear(struct atsm_err *err)
{
	if (err != NULL)
		err->msg[0] = '\0';
}
