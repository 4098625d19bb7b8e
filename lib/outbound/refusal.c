/* outbound/refusal.c -- the sentences of a refusal in each language (see
 * outbound/refusal.h). */
#include "outbound/refusal.h"

#include <stdio.h>

void
atsm_refusal_render(const struct atsm_refusal *r, enum atsm_lang lang, char *what,
    size_t what_size, char *fix, size_t fix_size)
{
	(void)lang;
	snprintf(what, what_size, "%s", r->text);
	if (fix_size > 0)
		fix[0] = '\0';
}
