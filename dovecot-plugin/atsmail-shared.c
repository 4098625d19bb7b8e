/* atsmail-shared.c -- shared mailboxes in Dovecot's processes
 * (docs/shared-mailboxes.md): a delivered mail moved into the status
 * folder atsmaild named, and a member's move into a folder of a shared
 * namespace told to atsmaild.
 *
 * Interface: atsmail_shared_refile_later, atsmail_shared_refile_all,
 * atsmail_shared_moved (atsmail-plugin.h).
 *
 * Refiling.  The delivery is saved where Dovecot delivers it (INBOX) and
 * committed; the move into 未対応/<assignee> waits until the user is
 * freed: LMTP copies the next recipients of a transaction from the first
 * recipient's saved mail, which must still be there, and frees that user
 * last.  A move that fails leaves the mail in INBOX, logged at error
 * level: it is delivered, and recorded, only not in its folder.
 *
 * A member's move.  IMAP COPY/MOVE into a mailbox of a shared namespace
 * (type shared, with an owner): once the copy is made, atsmaild is told
 * who (the IMAP session's user: the member, not the namespace's owner),
 * into which folder of whose mailbox, and the Message-ID.  The answer is
 * only logged: the member's move is never refused for it.
 */
#include "atsmail-plugin.h"

#include <time.h>

#include "array.h"
#include "mail-namespace.h"
#include "mailbox-list.h"
#include "str.h"
#include "str-sanitize.h"

struct atsmail_refile {
	const char *vname;      /* where it was delivered */
	uint32_t uid;
	const char *folder;     /* where it goes */
	const char *what;       /* "mail <Message-ID>" */
};

void
atsmail_shared_refile_later(struct atsmail_user *auser, struct mail_user *user,
    const char *vname, uint32_t uid, const char *folder, const char *what)
{
	struct atsmail_refile *r;

	if (!array_is_created(&auser->refile))
		p_array_init(&auser->refile, user->pool, 4);
	r = array_append_space(&auser->refile);
	r->vname = p_strdup(user->pool, vname);
	r->uid = uid;
	r->folder = p_strdup(user->pool, folder);
	r->what = p_strdup(user->pool, what);
}

/* Move one mail; the error for the log, or NULL. */
static const char *
refile_one(struct mail_user *user, const struct atsmail_refile *r)
{
	struct mail_namespace *sns, *dns;
	struct mailbox *src, *dst;
	struct mailbox_transaction_context *st, *dt;
	struct mail_save_context *save;
	struct mail *mail;
	enum mail_error code;
	const char *error = NULL;

	sns = mail_namespace_find(user->namespaces, r->vname);
	dns = mail_namespace_find(user->namespaces, r->folder);
	src = mailbox_alloc(sns->list, r->vname, 0);
	dst = mailbox_alloc(dns->list, r->folder, 0);
	if (mailbox_create(dst, NULL, FALSE) < 0) {
		(void)mailbox_get_last_error(dst, &code);
		if (code != MAIL_ERROR_EXISTS) {
			error = t_strdup_printf("cannot create %s: %s", r->folder,
			    mailbox_get_last_internal_error(dst, NULL));
			goto out;
		}
	}
	if (mailbox_open(dst) < 0) {
		error = t_strdup_printf("cannot open %s: %s", r->folder,
		    mailbox_get_last_internal_error(dst, NULL));
		goto out;
	}
	if (mailbox_sync(src, 0) < 0) {
		error = t_strdup_printf("cannot open %s: %s", r->vname,
		    mailbox_get_last_internal_error(src, NULL));
		goto out;
	}
	/* a save needs an external transaction (the index is not the
	 * source of the change); the expunge an ordinary one */
	st = mailbox_transaction_begin(src, 0, "atsmail shared refile");
	dt = mailbox_transaction_begin(dst, MAILBOX_TRANSACTION_FLAG_EXTERNAL,
	    "atsmail shared refile");
	mail = mail_alloc(st, 0, NULL);
	if (!mail_set_uid(mail, r->uid)) {
		error = t_strdup_printf("UID %u of %s is gone", r->uid, r->vname);
		mail_free(&mail);
		mailbox_transaction_rollback(&dt);
		mailbox_transaction_rollback(&st);
		goto out;
	}
	save = mailbox_save_alloc(dt);
	if (mailbox_move(&save, mail) < 0) {
		error = t_strdup_printf("cannot move it: %s",
		    mailbox_get_last_internal_error(dst, NULL));
		mail_free(&mail);
		mailbox_transaction_rollback(&dt);
		mailbox_transaction_rollback(&st);
		goto out;
	}
	mail_free(&mail);
	/* the copy first: a failure after it leaves two copies, never none */
	if (mailbox_transaction_commit(&dt) < 0) {
		error = t_strdup_printf("cannot save it in %s: %s", r->folder,
		    mailbox_get_last_internal_error(dst, NULL));
		mailbox_transaction_rollback(&st);
		goto out;
	}
	/* the sync carries the expunge out, as the end of an IMAP MOVE does */
	if (mailbox_transaction_commit(&st) < 0 || mailbox_sync(src, 0) < 0)
		error = t_strdup_printf("copied to %s but not removed from %s: %s", r->folder,
		    r->vname, mailbox_get_last_internal_error(src, NULL));
out:
	mailbox_free(&dst);
	mailbox_free(&src);
	return error;
}

void
atsmail_shared_refile_all(struct atsmail_user *auser, struct mail_user *user)
{
	const struct atsmail_refile *r;
	const char *error;

	if (!array_is_created(&auser->refile))
		return;
	array_foreach(&auser->refile, r) T_BEGIN {
		if ((error = refile_one(user, r)) == NULL)
			e_info(user->event, ATSMAIL_NAME ": %s: filed in %s (shared mailbox)",
			    r->what, r->folder);
		else
			e_error(user->event, ATSMAIL_NAME ": %s: not moved to %s, it stays in %s: %s",
			    r->what, r->folder, r->vname, error);
	} T_END;
	array_clear(&auser->refile);
}

/* The folder's name inside its owner's account, '/' between levels. */
static const char *
name_in_owner(struct mailbox *box)
{
	struct mail_namespace *ns = mailbox_list_get_namespace(box->list);
	const char *vname = mailbox_get_vname(box);
	char sep = mail_namespace_get_sep(ns);
	string_t *s;

	if (ns->prefix_len > 0 && strncmp(vname, ns->prefix, ns->prefix_len) == 0)
		vname += ns->prefix_len;
	if (sep == '/')
		return vname;
	s = t_str_new(strlen(vname));
	for (; *vname != '\0'; vname++)
		str_append_c(s, *vname == sep ? '/' : *vname);
	return str_c(s);
}

void
atsmail_shared_moved(struct atsmail_user *auser, struct mailbox *box, struct mail *mail)
{
	struct mail_namespace *ns = mailbox_list_get_namespace(box->list);
	struct atsm_filing_request req;
	struct atsm_filing_answer ans;
	const char *mid = NULL;
	char why[ATSMAIL_TEXT_MAX];
	uoff_t size = 0;
	time_t received;

	if (ns->type != MAIL_NAMESPACE_TYPE_SHARED || ns->owner == NULL || auser->bad != NULL)
		return;
	i_zero(&req);
	req.move = TRUE;
	req.user = (char *)ns->user->username;
	req.owner = (char *)ns->owner->username;
	req.mailbox = (char *)name_in_owner(box);
	if (mail_get_first_header(mail, "Message-ID", &mid) > 0)
		req.message_id = (char *)mid;
	if (mail_get_physical_size(mail, &size) < 0)
		size = 0;
	req.size = size;
	if (mail_get_received_date(mail, &received) < 0 || received == (time_t)-1)
		received = time(NULL);
	req.received_at = (long long)received;
	if (atsmail_ask(&auser->set, &req, &ans, why, sizeof(why)) < 0) {
		e_error(box->event, ATSMAIL_NAME ": %s moved by %s: not recorded: %s",
		    mid != NULL ? str_sanitize(mid, 200) : "mail without Message-ID",
		    req.user, why);
		return;
	}
	if (ans.status == ATSM_FILING_OK && strcmp(ans.result, "recorded") == 0)
		e_info(box->event, ATSMAIL_NAME ": %s", ans.text);
	else if (ans.status == ATSM_FILING_OK && strcmp(ans.result, "ignored") == 0)
		e_debug(box->event, ATSMAIL_NAME ": %s", ans.text);
	else
		e_error(box->event, ATSMAIL_NAME ": move by %s not recorded (%s): %s", req.user,
		    ans.result, ans.text);
}
