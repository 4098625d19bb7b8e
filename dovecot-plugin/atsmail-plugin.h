/* atsmail-plugin.h -- the Dovecot side of the atsmail plugin.
 *
 *	atsmail-plugin.c   module init/deinit/version, the storage hooks
 *	atsmail-user.c     per-user settings, read and checked once when the
 *	                   user is created (mail_user_created)
 *	atsmail-mailbox.c  the mailbox vfuncs (copy for LMTP/LDA delivery,
 *	                   save_finish for IMAP APPEND, transaction commit to
 *	                   put keywords on appended mail), reading the mail
 *
 * Every decision is lib/'s, reached through atsmail-core.h.  Nothing here
 * may fail or hold up a delivery: the vfuncs always call the next one in
 * the chain and return what it returned.
 */
#ifndef ATSMAIL_PLUGIN_H
#define ATSMAIL_PLUGIN_H

#include "lib.h"
#include "mail-user.h"
#include "mail-storage-private.h"
#include "module-context.h"

#include "atsmail-core.h"

struct atsmail_user {
	union mail_user_module_context module_ctx;
	struct atsmail_site *site;      /* NULL: the plugin stands aside for this user */
};

#define ATSMAIL_USER_CONTEXT(obj) MODULE_CONTEXT(obj, atsmail_user_module)
extern MODULE_CONTEXT_DEFINE(atsmail_user_module, &mail_user_module_register);

void atsmail_mail_user_created(struct mail_user *user);
void atsmail_mailbox_allocated(struct mailbox *box);

/* Exported for Dovecot's module loader (lib90_atsmail_plugin.so). */
extern const char *atsmail_plugin_version;
void atsmail_plugin_init(struct module *module);
void atsmail_plugin_deinit(void);

#endif
