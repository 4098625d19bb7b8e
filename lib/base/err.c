/* base/err.c -- filling in struct atsm_err (see base/err.h). */
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void vset(struct atsm_err *err, enum atsm_err_class cls, const char *fmt, va_list ap)
	ATSM_PRINTF(3, 0);

static void
vset(struct atsm_err *err, enum atsm_err_class cls, const char *fmt, va_list ap)
{
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	err->cls = cls;
	err->sqlstate[0] = '\0';
}

int
atsm_err_set(struct atsm_err *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vset(err, ATSM_ERR_INPUT, fmt, ap);
	va_end(ap);
	return -1;
}

int
atsm_err_setc(struct atsm_err *err, enum atsm_err_class cls, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vset(err, cls, fmt, ap);
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
atsm_err_set_sqlstate(struct atsm_err *err, const char *state)
{
	if (err != NULL && state != NULL)
		snprintf(err->sqlstate, sizeof(err->sqlstate), "%s", state);
}

void
atsm_err_clear(struct atsm_err *err)
{
	if (err != NULL) {
		err->msg[0] = '\0';
		err->cls = ATSM_ERR_NONE;
		err->sqlstate[0] = '\0';
	}
}

const char *
atsm_err_class_name(enum atsm_err_class cls)
{
	switch (cls) {
	case ATSM_ERR_NONE: return "none";
	case ATSM_ERR_INPUT: return "input";
	case ATSM_ERR_UNAVAILABLE: return "unavailable";
	case ATSM_ERR_REFUSED: return "refused";
	case ATSM_ERR_IO: return "io";
	case ATSM_ERR_NOMEM: return "nomem";
	case ATSM_ERR_INTERNAL: return "internal";
	}
	return "?";
}
