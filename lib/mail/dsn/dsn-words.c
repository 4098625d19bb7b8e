/* mail/dsn/dsn-words.c -- words in the text of a bounce: found without
 * regard to ASCII case, and copied bounded.  Every reader, the classifier
 * and the result use them; they depend on nothing of the others.
 */
#include "mail/dsn/dsn-int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *
atsm_dsn_ci_find(const char *h, size_t hl, const char *n)
{
	size_t nl = strlen(n), i;

	if (nl == 0 || hl < nl)
		return NULL;
	for (i = 0; i + nl <= hl; i++)
		if (strncasecmp(h + i, n, nl) == 0)
			return h + i;
	return NULL;
}

bool
atsm_dsn_ci_has(const char *h, const char *n)
{
	return h != NULL && atsm_dsn_ci_find(h, strlen(h), n) != NULL;
}

char *
atsm_dsn_dup(const char *p, size_t n, size_t max)
{
	char *s;

	if (n > max)
		n = max;
	while (n > 0 && (p[n - 1] & 0xc0) == 0x80 && n == max)
		n--;	/* do not cut a UTF-8 character */
	if ((s = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

