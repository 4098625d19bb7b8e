/* mail/msgid.c -- Message-ID values without their brackets (see mail/msgid.h). */
#include "mail/msgid.h"

#include <stdlib.h>
#include <string.h>

int
atsm_msgid_bare(const char *value, char **out)
{
	const char *s = value, *e;

	*out = NULL;
	if (s == NULL)
		return 0;
	s += strspn(s, " \t\r\n");
	if (*s == '<' && (e = strchr(s, '>')) != NULL)
		s++;
	else
		e = s + strcspn(s, " \t\r\n");
	if (e <= s || (size_t)(e - s) > ATSM_MSGID_MAX)
		return 0;
	if ((*out = strndup(s, (size_t)(e - s))) == NULL)
		return -1;
	return 0;
}

size_t
atsm_msgid_list(const char *value, char **out, size_t max)
{
	const char *s, *e;
	size_t n = 0;

	for (s = value; s != NULL && n < max && (s = strchr(s, '<')) != NULL; s = e + 1) {
		if ((e = strchr(s + 1, '>')) == NULL)
			break;
		if (e > s + 1 && (size_t)(e - s - 1) <= ATSM_MSGID_MAX &&
		    (out[n] = strndup(s + 1, (size_t)(e - s - 1))) != NULL)
			n++;
	}
	return n;
}
