/* base/lang.c -- language names (see base/lang.h). */
#include "base/lang.h"

#include <stddef.h>
#include <strings.h>

int
atsm_lang_parse(const char *s, enum atsm_lang *out)
{
	if (s == NULL)
		return -1;
	if (strncasecmp(s, "en", 2) == 0 && (s[2] == '\0' || s[2] == '-' || s[2] == '_')) {
		*out = ATSM_LANG_EN;
		return 0;
	}
	if (strncasecmp(s, "ja", 2) == 0 && (s[2] == '\0' || s[2] == '-' || s[2] == '_')) {
		*out = ATSM_LANG_JA;
		return 0;
	}
	return -1;
}

const char *
atsm_lang_name(enum atsm_lang l)
{
	return l == ATSM_LANG_JA ? "ja" : "en";
}
