/* milter-macros.c -- the macros Postfix sends with a message's commands:
 * {auth_authen} at MAIL (who is sending), {i} at the end (the queue id).
 *
 * Interface: milter_macro, milter_queue_id, milter_macros_forget,
 * milter_macros_keep (milter.h).
 *
 * The macros of a stage are those of the last SMFIC_MACRO packet sent for
 * it, copied into a bounded buffer of the session; they belong to one
 * message and are forgotten at its end.
 */
#include "atsm-build-config.h"
#include "milter.h"

#include <string.h>

const char *
milter_macro(const struct milter_macros *mm, const char *name)
{
	size_t i, len = strlen(name);

	for (i = 0; i < mm->n; i++) {
		const char *n = mm->name[i];

		/* "{i}" and "i" name the same macro */
		if (strcmp(n, name) == 0 ||
		    (n[0] == '{' && strlen(n) == len + 2 && strncmp(n + 1, name, len) == 0) ||
		    (name[0] == '{' && strlen(name) == strlen(n) + 2 &&
		    strncmp(name + 1, n, strlen(n)) == 0))
			return mm->value[i];
	}
	return NULL;
}

const char *
milter_queue_id(const struct milter_session *s)
{
	const char *q = s->eom_macros.cmd == ATSM_MILTER_C_BODYEOB ?
	    milter_macro(&s->eom_macros, "i") : NULL;

	if ((q == NULL || *q == '\0') && s->mail_macros.cmd == ATSM_MILTER_C_MAIL)
		q = milter_macro(&s->mail_macros, "i");
	return q != NULL && *q != '\0' ? q : NULL;
}

/* The macros belong to one message: a message whose MTA sent none (or a
 * new SMTP session after SMFIC_QUIT_NC) must not be judged with the last
 * one's -- an {auth_authen} left over would make it look authenticated. */
void
milter_macros_forget(struct milter_session *s)
{
	memset(&s->mail_macros, 0, sizeof(s->mail_macros));
	memset(&s->eom_macros, 0, sizeof(s->eom_macros));
}

void
milter_macros_keep(struct milter_macros *mm, unsigned char cmd, const struct atsm_milter_macro *v,
    size_t n)
{
	size_t i;

	memset(mm, 0, sizeof(*mm));
	mm->cmd = cmd;
	for (i = 0; i < n && mm->n < sizeof(mm->name) / sizeof(mm->name[0]); i++) {
		size_t a = strlen(v[i].name) + 1, b = strlen(v[i].value) + 1;

		if (mm->used + a + b > sizeof(mm->buf))
			break;
		mm->name[mm->n] = memcpy(mm->buf + mm->used, v[i].name, a);
		mm->used += a;
		mm->value[mm->n++] = memcpy(mm->buf + mm->used, v[i].value, b);
		mm->used += b;
	}
}

