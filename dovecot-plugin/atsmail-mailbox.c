/* atsmail-mailbox.c -- the mailbox vfuncs: where a mail reaches a mailbox,
 * have atsmaild file it (atsmail-mail.c), and show the filing as IMAP
 * keywords -- or, when it cannot be filed, refuse it for now.
 *
 * Interface: atsmail_mailbox_allocated (atsmail-plugin.h).
 *
 * Which vfunc sees what (Dovecot 2.3.19, checked on the test bed):
 *   LMTP and LDA deliver with mailbox_save_using_mail(), i.e. copy() with
 *   ctx->saving set and the raw mail as the source (for the second
 *   recipient of an LMTP transaction, the first one's saved mail).  The
 *   mail is filed before the next copy() runs, so that the keywords go in
 *   through the save context (mailbox_save_set_flags) and are written
 *   with the mail itself, as Sieve's imap4flags are.
 *   To refuse a delivery, copy() cancels the save context and returns -1
 *   without calling the next copy(), with a MAIL_ERROR_TEMP storage error:
 *   lib-lda's mail_deliver() then neither falls back to INBOX (it does for
 *   other errors) nor saves anywhere else, and LMTP answers that recipient
 *   "451 4.2.0 <our text>" (dovecot-lda exits EX_TEMPFAIL), so Postfix
 *   defers it and retries.  A retry simply asks the service again; it
 *   files a mail once by its idempotency key.
 *   IMAP APPEND ends in save_finish() with no copy in progress.  The data
 *   is only readable once the next save_finish() ran, when the storage
 *   (maildir: in the file name) has already taken its keywords; so they
 *   are added after the transaction commits, by UID, through a mailbox
 *   instance of our own (the client's view is left to sync as usual).
 *   To refuse an APPEND, save_finish() returns -1 with a
 *   MAIL_ERROR_UNAVAILABLE error: imap answers "NO [UNAVAILABLE] <text>"
 *   and rolls the transaction back, so the mail is not kept.
 *   Other saves (IMAP COPY/MOVE, dsync, doveadm) are not filed.  A
 *   COPY/MOVE into a folder of a shared namespace is told to the service
 *   once made (a member's move in a shared mailbox, atsmail-shared.c).
 *   A delivery the service answers with a folder (a shared mailbox's
 *   status folder) is moved there after its commit, by UID, like the
 *   keywords of an APPEND.
 */
#include "atsmail-plugin.h"

#include "array.h"
#include "mail-index.h"
#include "mail-namespace.h"
#include "mailbox-list.h"
#include "seq-range-array.h"

#define ATSMAIL_CONTEXT(obj) MODULE_CONTEXT_REQUIRE(obj, atsmail_storage_module)
#define ATSMAIL_REFUSED "atsmail could not file this mail; please try again later"

/* Keywords of one appended mail, applied after the commit; or the folder
 * a delivered mail goes to. */
struct atsmail_pending {
	unsigned int save_idx;          /* its place among the transaction's saves */
	const char *keywords[ATSM_FILING_KEYWORDS_MAX + 1];
	const char *folder;             /* NULL: none */
	const char *what;               /* the mail, for the log */
};

struct atsmail_mailbox {
	union mailbox_module_context module_ctx;
	/* appended mails of the transaction pending_t awaiting keywords */
	struct mailbox_transaction_context *pending_t;
	pool_t pending_pool;
	ARRAY(struct atsmail_pending) pending;
};

static MODULE_CONTEXT_DEFINE_INIT(atsmail_storage_module, &mail_storage_module_register);

static struct atsmail_pending *
pending_add(struct atsmail_mailbox *abox, struct mailbox_transaction_context *t,
    unsigned int save_idx, const struct atsm_filing_answer *ans);

/* ---- delivery: copy() with saving ---------------------------------------- */

/* Add the answer's keywords to those the save context already carries
 * (Sieve's, say), so that the storage writes them with the mail. */
static void
save_add_keywords(struct mail_save_context *ctx, const struct atsm_filing_answer *ans)
{
	struct mailbox *box = ctx->transaction->box;
	ARRAY_TYPE(const_string) names;
	const ARRAY_TYPE(keywords) *all;
	struct mail_keywords *kw;
	const char *name;
	unsigned int i;

	t_array_init(&names, ATSM_FILING_KEYWORDS_MAX * 2);
	if (ctx->data.keywords != NULL) {
		all = mail_index_get_keywords(box->index);
		for (i = 0; i < ctx->data.keywords->count; i++) {
			name = array_idx_elem(all, ctx->data.keywords->idx[i]);
			array_push_back(&names, &name);
		}
	}
	for (i = 0; i < ans->n_keywords; i++) {
		name = t_strdup(ans->keywords[i]);
		array_push_back(&names, &name);
	}
	array_append_zero(&names);
	kw = mailbox_keywords_create_valid(box, array_front(&names));
	mailbox_save_set_flags(ctx, ctx->data.flags | ctx->data.pvt_flags, kw);
	mailbox_keywords_unref(&kw);
}

/* The envelope sender of a delivery: mail_deliver_save() puts it on the
 * save context; else only the raw mail knows it (the second recipient
 * of an LMTP transaction is copied from the first one's saved mail, whose
 * "" would read as the null sender).  NULL: unknown, and the service
 * takes Return-Path from the header LMTP added. */
static const char *
envelope_sender(struct mail_save_context *ctx, struct mail *mail)
{
	const char *from;

	if (ctx->data.from_envelope != NULL)
		return ctx->data.from_envelope;
	if (strcmp(mail->box->storage->name, "raw") == 0 &&
	    mail_get_special(mail, MAIL_FETCH_FROM_ENVELOPE, &from) == 0)
		return from;
	return NULL;
}

static int
atsmail_copy(struct mail_save_context *ctx, struct mail *mail)
{
	struct mailbox *box = ctx->transaction->box;
	struct atsmail_mailbox *abox = ATSMAIL_CONTEXT(box);
	struct atsmail_user *auser = atsmail_user_of(box);
	struct mailbox_transaction_context *t = ctx->transaction;
	unsigned int save_idx = t->save_count;
	struct atsmail_filed out;
	struct atsmail_pending *p;
	bool refuse = FALSE, member_move;
	int ret;

	if (ctx->saving && !ctx->moving && auser != NULL) T_BEGIN {
		atsmail_file_mail(auser, box, mail, FALSE, envelope_sender(ctx, mail), &out);
		if (out.ok && out.answer.n_keywords > 0)
			save_add_keywords(ctx, &out.answer);
		if (out.ok && out.answer.folder[0] != '\0') {
			struct atsm_filing_answer none;

			i_zero(&none);
			p = pending_add(abox, t, save_idx, &none);
			p->folder = p_strdup(abox->pending_pool, out.answer.folder);
			p->what = p_strdup(abox->pending_pool, out.what);
		}
		refuse = !out.ok && !auser->set.deliver_on_failure;
	} T_END;
	if (refuse) {
		/* the next copy() would save it: stop here, as acl_copy() does */
		mailbox_save_cancel(&ctx);
		mail_storage_set_error(box->storage, MAIL_ERROR_TEMP, ATSMAIL_REFUSED);
		return -1;
	}
	member_move = !ctx->saving && auser != NULL &&
	    mailbox_list_get_namespace(box->list)->type == MAIL_NAMESPACE_TYPE_SHARED;
	ret = abox->module_ctx.super.copy(ctx, mail);
	if (ret == 0 && member_move) T_BEGIN {
		atsmail_shared_moved(auser, box, mail);
	} T_END;
	return ret;
}

/* ---- IMAP APPEND: save_finish(), keywords after the commit --------------- */

static struct atsmail_pending *
pending_add(struct atsmail_mailbox *abox, struct mailbox_transaction_context *t,
    unsigned int save_idx, const struct atsm_filing_answer *ans)
{
	struct atsmail_pending *p;
	unsigned int i;

	if (abox->pending_t != t) {
		if (abox->pending_pool != NULL)
			pool_unref(&abox->pending_pool);
		abox->pending_pool = pool_alloconly_create("atsmail pending keywords", 1024);
		p_array_init(&abox->pending, abox->pending_pool, 4);
		abox->pending_t = t;
	}
	p = array_append_space(&abox->pending);
	p->save_idx = save_idx;
	for (i = 0; i < ans->n_keywords; i++)
		p->keywords[i] = p_strdup(abox->pending_pool, ans->keywords[i]);
	p->keywords[i] = NULL;
	return p;
}

static void
pending_drop(struct atsmail_mailbox *abox)
{
	abox->pending_t = NULL;
	if (abox->pending_pool != NULL)
		pool_unref(&abox->pending_pool);
}

static int
atsmail_save_finish(struct mail_save_context *ctx)
{
	struct mailbox_transaction_context *t = ctx->transaction;
	struct mailbox *box = t->box;
	struct atsmail_mailbox *abox = ATSMAIL_CONTEXT(box);
	struct atsmail_user *auser = atsmail_user_of(box);
	struct mail *dest = ctx->dest_mail;
	/* mailbox_save_finish() counts this save after we return */
	unsigned int save_idx = t->save_count;
	bool append = !ctx->copying_or_moving && auser != NULL &&
	    strcmp(box->storage->user->service, "imap") == 0;
	struct atsmail_filed out;
	int ret;

	ret = abox->module_ctx.super.save_finish(ctx);
	if (ret == 0 && append && dest != NULL) T_BEGIN {
		atsmail_file_mail(auser, box, dest, TRUE, NULL, &out);
		if (out.ok && out.answer.n_keywords > 0)
			pending_add(abox, t, save_idx, &out.answer);
		if (!out.ok && !auser->set.deliver_on_failure) {
			/* imap answers NO and rolls the transaction back: the
			 * mail saved just now goes with it */
			mail_storage_set_error(box->storage, MAIL_ERROR_UNAVAILABLE,
			    ATSMAIL_REFUSED);
			ret = -1;
		}
	} T_END;
	return ret;
}

/* Put the keywords on the mails just committed, through a mailbox of our
 * own: syncing the caller's instance would take flag changes and
 * expunges away from the IMAP session that is to report them. */
static void
pending_apply(struct mailbox *box, const ARRAY_TYPE(seq_range) *uids,
    const struct atsmail_pending *pending, unsigned int n)
{
	struct mailbox *kbox;
	struct mailbox_transaction_context *kt;
	struct mail *mail;
	struct mail_keywords *kw;
	struct seq_range_iter iter;
	unsigned int i;
	uint32_t uid;

	kbox = mailbox_alloc(box->list, mailbox_get_vname(box), 0);
	if (mailbox_sync(kbox, 0) < 0) {
		e_warning(box->event, ATSMAIL_NAME ": keywords not set: %s",
		    mailbox_get_last_internal_error(kbox, NULL));
		mailbox_free(&kbox);
		return;
	}
	kt = mailbox_transaction_begin(kbox, 0, "atsmail keywords");
	mail = mail_alloc(kt, 0, NULL);
	seq_range_array_iter_init(&iter, uids);
	for (i = 0; i < n; i++) {
		if (pending[i].keywords[0] == NULL ||
		    !seq_range_array_iter_nth(&iter, pending[i].save_idx, &uid) ||
		    !mail_set_uid(mail, uid))
			continue;
		kw = mailbox_keywords_create_valid(kbox, pending[i].keywords);
		mail_update_keywords(mail, MODIFY_ADD, kw);
		mailbox_keywords_unref(&kw);
	}
	mail_free(&mail);
	if (mailbox_transaction_commit(&kt) < 0)
		e_warning(box->event, ATSMAIL_NAME ": keywords not set: %s",
		    mailbox_get_last_internal_error(kbox, NULL));
	mailbox_free(&kbox);
}

/* Deliveries to move into a folder: handed to the user, moved when it is
 * freed (atsmail-shared.c says why not now). */
static void
pending_refile(struct mailbox *box, const ARRAY_TYPE(seq_range) *uids,
    const struct atsmail_pending *pending, unsigned int n)
{
	struct atsmail_user *auser = atsmail_user_of(box);
	struct seq_range_iter iter;
	unsigned int i;
	uint32_t uid;

	seq_range_array_iter_init(&iter, uids);
	for (i = 0; i < n; i++) {
		if (pending[i].folder == NULL)
			continue;
		if (!seq_range_array_iter_nth(&iter, pending[i].save_idx, &uid)) {
			e_error(box->event, ATSMAIL_NAME ": %s: its UID is unknown after the "
			    "commit; it stays in %s, not in %s", pending[i].what,
			    mailbox_get_vname(box), pending[i].folder);
			continue;
		}
		atsmail_shared_refile_later(auser, box->storage->user, mailbox_get_vname(box),
		    uid, pending[i].folder, pending[i].what);
	}
}

static int
atsmail_transaction_commit(struct mailbox_transaction_context *t,
    struct mail_transaction_commit_changes *changes_r)
{
	struct mailbox *box = t->box;
	struct atsmail_mailbox *abox = ATSMAIL_CONTEXT(box);
	pool_t pool = NULL;
	const struct atsmail_pending *pending = NULL;
	unsigned int n = 0;
	int ret;

	if (abox->pending_t == t) {
		/* ours now: the transaction is gone after the commit */
		pool = abox->pending_pool;
		pending = array_get(&abox->pending, &n);
		abox->pending_pool = NULL;
		abox->pending_t = NULL;
	}
	ret = abox->module_ctx.super.transaction_commit(t, changes_r);
	if (pool != NULL) {
		if (ret == 0 && n > 0) T_BEGIN {
			pending_refile(box, &changes_r->saved_uids, pending, n);
			pending_apply(box, &changes_r->saved_uids, pending, n);
		} T_END;
		pool_unref(&pool);
	}
	return ret;
}

static void
atsmail_transaction_rollback(struct mailbox_transaction_context *t)
{
	struct atsmail_mailbox *abox = ATSMAIL_CONTEXT(t->box);

	if (abox->pending_t == t)
		pending_drop(abox);
	abox->module_ctx.super.transaction_rollback(t);
}

static void
atsmail_mailbox_free(struct mailbox *box)
{
	struct atsmail_mailbox *abox = ATSMAIL_CONTEXT(box);

	pending_drop(abox);
	abox->module_ctx.super.free(box);
}

void
atsmail_mailbox_allocated(struct mailbox *box)
{
	struct mailbox_vfuncs *v = box->vlast;
	struct atsmail_mailbox *abox;

	if (atsmail_user_of(box) == NULL)
		return;
	abox = p_new(box->pool, struct atsmail_mailbox, 1);
	abox->module_ctx.super = *v;
	box->vlast = &abox->module_ctx.super;
	v->copy = atsmail_copy;
	v->save_finish = atsmail_save_finish;
	v->transaction_commit = atsmail_transaction_commit;
	v->transaction_rollback = atsmail_transaction_rollback;
	v->free = atsmail_mailbox_free;
	MODULE_CONTEXT_SET(box, atsmail_storage_module, abox);
}
