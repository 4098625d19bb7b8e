/* explain.c -- the explanation mail to a recruiter whose mail atsmail
 * refused (see milter.h and docs/refusal-mail.md). */
#include "milter.h"

void
milter_explain(struct milter_session *s, const struct atsm_refusal *r, bool with_mail)
{
	(void)s;
	(void)r;
	(void)with_mail;
}
