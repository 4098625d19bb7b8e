/* atsmail-user.c -- the settings of one Dovecot user, read and checked
 * once, when the user is created.
 *
 * Interface: atsmail_mail_user_created, atsmail_user_of (atsmail-plugin.h).
 *
 * Everything comes from Dovecot's plugin { } block or the userdb:
 * atsmail_socket (no socket: the plugin stands aside for the user, and
 * says so once per process at info level), atsmail_timeout,
 * atsmail_on_failure, atsmail_head_max.  A bad value is logged at error
 * level, naming the setting and its value; the user's mail then fails as
 * atsmail_on_failure says (tempfail unless that one says deliver), since
 * the plugin cannot file it and must not pretend it did.
 * When the user is freed, the deliveries to a shared mailbox are moved into
 * their status folders (atsmail-shared.c says why then).
 */
#include "atsmail-plugin.h"

struct atsmail_user_module atsmail_user_module =
	MODULE_CONTEXT_INIT(&mail_user_module_register);

static bool told_standing_aside;

static const char *
user_getenv(const char *name, void *ctx)
{
	return mail_user_plugin_getenv(ctx, name);
}

struct atsmail_user *
atsmail_user_of(struct mailbox *box)
{
	return ATSMAIL_USER_CONTEXT(box->storage->user);
}

static void
atsmail_user_deinit(struct mail_user *user)
{
	struct atsmail_user *auser = ATSMAIL_USER_CONTEXT(user);

	atsmail_shared_refile_all(auser, user);
	auser->module_ctx.super.deinit(user);
}

void
atsmail_mail_user_created(struct mail_user *user)
{
	struct atsmail_settings set;
	struct atsmail_user *auser;
	struct mail_user_vfuncs *v;
	char errbuf[ATSMAIL_TEXT_MAX];
	int rc;

	rc = atsmail_settings_read(user_getenv, user, &set, errbuf, sizeof(errbuf));
	if (set.socket[0] == '\0') {
		if (!told_standing_aside) {
			e_info(user->event, ATSMAIL_NAME ": atsmail_socket is not set: mail is "
			    "not filed for this user (logged once per process)");
			told_standing_aside = TRUE;
		}
		return;
	}
	auser = p_new(user->pool, struct atsmail_user, 1);
	auser->set = set;
	v = user->vlast;
	auser->module_ctx.super = *v;
	user->vlast = &auser->module_ctx.super;
	v->deinit = atsmail_user_deinit;
	MODULE_CONTEXT_SET(user, atsmail_user_module, auser);
	if (rc < 0) {
		auser->bad = p_strdup(user->pool, errbuf);
		e_error(user->event, ATSMAIL_NAME ": %s: this user's mail cannot be filed and "
		    "is %s", errbuf, set.deliver_on_failure ? "stored without keywords" :
		    "refused with a temporary failure");
	}
}
