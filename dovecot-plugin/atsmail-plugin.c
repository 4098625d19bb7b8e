/* atsmail-plugin.c -- lib90_atsmail_plugin.so: Dovecot's entry points.
 *
 * Interface (Dovecot's module loader): atsmail_plugin_init,
 * atsmail_plugin_deinit, atsmail_plugin_version.  The module name
 * "atsmail" comes from the file name; load it with
 * mail_plugins = $mail_plugins atsmail for protocols lmtp, lda and imap.
 */
#include "atsmail-plugin.h"

#include "mail-storage-hooks.h"

const char *atsmail_plugin_version = DOVECOT_ABI_VERSION;

static struct mail_storage_hooks atsmail_hooks = {
	.mail_user_created = atsmail_mail_user_created,
	.mailbox_allocated = atsmail_mailbox_allocated,
};

void
atsmail_plugin_init(struct module *module)
{
	mail_storage_hooks_add(module, &atsmail_hooks);
}

void
atsmail_plugin_deinit(void)
{
	mail_storage_hooks_remove(&atsmail_hooks);
	atsmail_client_free();
}
