/* atsmail-plugin.h -- the Dovecot side of the atsmail plugin.
 *
 *	atsmail-plugin.c   module init/deinit/version, the storage hooks
 *	atsmail-user.c     per-user settings, read and checked once when the
 *	                   user is created (mail_user_created)
 *	atsmail-mail.c     one mail: read it, ask the service, log the answer
 *	atsmail-mailbox.c  the mailbox vfuncs (copy for LMTP/LDA delivery,
 *	                   save_finish for IMAP APPEND, transaction commit to
 *	                   put keywords on appended mail)
 *	atsmail-shared.c   shared mailboxes: a delivery moved into the status
 *	                   folder the service named, a member's move told
 *
 * Every decision is the service's (atsmaild), reached through
 * atsmail-core.h.  When it cannot be had, atsmail_on_failure says what
 * happens to the mail: a temporary failure (LMTP 4.x.x, Postfix retries;
 * IMAP NO [UNAVAILABLE]) or, with "deliver", the mail stored without
 * keywords and an error in the log.
 */
#ifndef ATSMAIL_PLUGIN_H
#define ATSMAIL_PLUGIN_H

#include "lib.h"
#include "mail-user.h"
#include "mail-storage-private.h"
#include "module-context.h"

#include "atsmail-core.h"

struct atsmail_refile;
ARRAY_DEFINE_TYPE(atsmail_refile, struct atsmail_refile);

struct atsmail_user {
	union mail_user_module_context module_ctx;
	struct atsmail_settings set;
	/* deliveries committed, to move into a shared mailbox's status
	 * folder when the user is freed (atsmail-shared.c) */
	ARRAY_TYPE(atsmail_refile) refile;
	/* a bad setting, for the log: every mail of this user then fails as
	 * atsmail_on_failure says, since it cannot be filed */
	const char *bad;
};

#define ATSMAIL_USER_CONTEXT(obj) MODULE_CONTEXT(obj, atsmail_user_module)
extern MODULE_CONTEXT_DEFINE(atsmail_user_module, &mail_user_module_register);

void atsmail_mail_user_created(struct mail_user *user);
void atsmail_mailbox_allocated(struct mailbox *box);

/* The plugin's user context of box's user; NULL when it stands aside. */
struct atsmail_user *atsmail_user_of(struct mailbox *box);

/* What asking about one mail gave. */
struct atsmail_filed {
	bool ok;                          /* an OK answer: store with its keywords */
	struct atsm_filing_answer answer; /* when ok */
	char why[ATSMAIL_TEXT_MAX];       /* when not: why it is not filed */
	const char *what;                 /* the mail, for the log: "mail <Message-ID>" */
};

/* Read mail (the source of a delivery, or the appended mail), ask the
 * service and log its answer.  env_from: the envelope sender, "" for <>,
 * NULL unknown. */
void atsmail_file_mail(struct atsmail_user *auser, struct mailbox *box, struct mail *mail,
    bool append, const char *env_from, struct atsmail_filed *out);

/* Shared mailboxes (atsmail-shared.c).  A delivery committed as UID uid
 * of vname, to be moved into folder when user is freed; the moves, done
 * then; a member's COPY/MOVE of mail into box (told to the service, never
 * refused). */
void atsmail_shared_refile_later(struct atsmail_user *auser, struct mail_user *user,
    const char *vname, uint32_t uid, const char *folder, const char *what);
void atsmail_shared_refile_all(struct atsmail_user *auser, struct mail_user *user);
void atsmail_shared_moved(struct atsmail_user *auser, struct mailbox *box, struct mail *mail);

/* Exported for Dovecot's module loader (lib90_atsmail_plugin.so). */
extern const char *atsmail_plugin_version;
void atsmail_plugin_init(struct module *module);
void atsmail_plugin_deinit(void);

#endif
