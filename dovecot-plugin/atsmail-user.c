/* atsmail-user.c -- the settings of one Dovecot user, read and checked
 * once, when the user is created.
 *
 * Interface: atsmail_mail_user_created (atsmail-plugin.h).
 *
 * plugin { atsmail_config = /etc/atsmail/atsmail.conf } names the file;
 * any atsmail_<setting> in plugin { } (or the userdb) overrides that
 * setting of the file.  A bad setting is logged once, naming the setting
 * and its value, and the plugin then stands aside for this user: mail is
 * delivered and appended as if it were not loaded.
 */
#include "atsmail-plugin.h"

struct atsmail_user_module atsmail_user_module =
	MODULE_CONTEXT_INIT(&mail_user_module_register);

static const char *
user_getenv(const char *name, void *ctx)
{
	return mail_user_plugin_getenv(ctx, name);
}

static void
atsmail_user_deinit(struct mail_user *user)
{
	struct atsmail_user *auser = ATSMAIL_USER_CONTEXT(user);

	i_assert(auser != NULL);
	atsmail_site_release(auser->site);
	auser->site = NULL;
	auser->module_ctx.super.deinit(user);
}

void
atsmail_mail_user_created(struct mail_user *user)
{
	struct mail_user_vfuncs *v = user->vlast;
	struct atsmail_user *auser;
	const char *path;
	char errbuf[ATSMAIL_TEXT_MAX], warnbuf[ATSMAIL_TEXT_MAX];

	auser = p_new(user->pool, struct atsmail_user, 1);
	auser->module_ctx.super = *v;
	user->vlast = &auser->module_ctx.super;
	v->deinit = atsmail_user_deinit;
	MODULE_CONTEXT_SET(user, atsmail_user_module, auser);

	path = mail_user_plugin_getenv(user, ATSMAIL_SETTING_CONFIG);
	auser->site = atsmail_site_get(path, user_getenv, user, errbuf, sizeof(errbuf),
	    warnbuf, sizeof(warnbuf));
	if (auser->site == NULL) {
		e_error(user->event, ATSMAIL_NAME ": %s: mail is not filed for this user "
		    "(delivery goes on)", errbuf);
		return;
	}
	if (warnbuf[0] != '\0')
		e_warning(user->event, ATSMAIL_NAME ": %s", warnbuf);
}
