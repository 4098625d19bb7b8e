/* shared/shared.h -- the decisions of shared mailboxes, as pure functions
 * (docs/shared-mailboxes.md): which folder a delivered mail is filed in,
 * what a member's move into a folder means, the thread a mail belongs to.
 *
 * The folder model: three status folders in the shared mailbox's own
 * account (shared_folder_unhandled / _progress / _done, 未対応 / 対応中 /
 * 完了 by default) and under each a subfolder per member, named by the
 * local part of the member's login (未対応/alice).  Folders, not IMAP
 * keywords: Outlook and the iOS and Android mail apps can neither set nor
 * show a keyword, while every client can move a mail.
 *
 *	a mail moved into   status      assignee
 *	X/<member>          X           the member
 *	未対応              unhandled   none
 *	対応中              progress    the member who moved it
 *	完了                done        kept
 *	anything else       (not a status folder: nothing is recorded)
 *
 * Nothing here knows Dovecot or a database; atsmaild asks PostgreSQL
 * (shared_deliver, shared_move of sql/018) and answers the plugin.
 */
#ifndef ATSM_SHARED_H
#define ATSM_SHARED_H

#include <stdbool.h>
#include <stddef.h>

#include "base/conf.h"
#include "base/err.h"

#define ATSM_SHARED_FOLDER_MAX 512      /* bytes of a folder name, NUL included */
#define ATSM_SHARED_LEAF_MAX 256        /* bytes of a member's folder name */
#define ATSM_SHARED_SEP '/'             /* the hierarchy separator of the names */

enum atsm_shared_status {
	ATSM_SHARED_UNHANDLED,
	ATSM_SHARED_PROGRESS,
	ATSM_SHARED_DONE
};

/* What a move into a folder means. */
enum atsm_shared_assign {
	ATSM_SHARED_ASSIGN_KEEP,        /* the assignee stays */
	ATSM_SHARED_ASSIGN_NONE,        /* no assignee */
	ATSM_SHARED_ASSIGN_MEMBER       /* member (a login or its local part) */
};

struct atsm_shared_move {
	enum atsm_shared_status status;
	enum atsm_shared_assign assign;
	char member[ATSM_SHARED_LEAF_MAX];   /* ATSM_SHARED_ASSIGN_MEMBER */
};

/* "unhandled", "progress", "done": the words of shared_items.status. */
const char *atsm_shared_status_name(enum atsm_shared_status s);
/* The status of a word; -1 when it is none of them. */
int atsm_shared_status_parse(const char *word, enum atsm_shared_status *out);

/* Whether user (a Dovecot user name) is one of conf->shared_mailboxes;
 * case-insensitive, as mail addresses are. */
bool atsm_shared_is_mailbox(const struct atsm_conf *conf, const char *user);

/* The folder name of a member: the local part of its login ("alice" of
 * alice@example.com; the whole login when it has no '@').  -1 when the
 * name would be empty, hold the separator or a control character, or not
 * fit in n bytes: err names the login. */
int atsm_shared_member_leaf(const char *login, char *out, size_t n, struct atsm_err *err);

/* The folder of a status (conf->shared_folder_*), with the member's
 * subfolder when assignee (a login) is given and the status is not done:
 * a delivered mail goes to 未対応 or 未対応/alice.  -1 as above. */
int atsm_shared_folder_of(const struct atsm_conf *conf, enum atsm_shared_status s,
    const char *assignee, char *out, size_t n, struct atsm_err *err);

/* Where the mails of a thread are looked for when they are moved to the
 * folder of status s (an answered thread, docs/shared-reply.md): INBOX (a
 * delivery did not file it) and the two other status folders with
 * everything under them, as doveadm mailbox patterns -- "未対応*" and
 * "対応中*" for done, "未対応*" and "完了*" for progress.  The one rule
 * for atsmaild's mover and atsmailctl's release of held mail.  -1 when a
 * status folder is not set or a pattern does not fit: err says which. */
#define ATSM_SHARED_MOVE_SOURCES 3
int atsm_shared_move_sources(const struct atsm_conf *conf, enum atsm_shared_status s,
    char out[ATSM_SHARED_MOVE_SOURCES][ATSM_SHARED_FOLDER_MAX], struct atsm_err *err);

/* What moving a mail into folder (its name inside the shared mailbox's
 * account, '/' between levels) means, mover being the member who moved
 * it (its login).  1: a status folder, *out filled; 0: not a status
 * folder (INBOX, a folder of the member's own, a deeper level), nothing
 * to record; -1: folder or mover is unusable (empty, too long), err says
 * which. */
int atsm_shared_move_decide(const struct atsm_conf *conf, const char *folder,
    const char *mover, struct atsm_shared_move *out, struct atsm_err *err);

/* The thread of a mail: the first id of References, else the first of
 * In-Reply-To, else its own Message-ID (header values as written; the
 * result has no angle brackets).  A new string in *out, or NULL when the
 * mail names no id at all.  -1 only when memory is short. */
int atsm_shared_thread_key(const char *references, const char *in_reply_to,
    const char *message_id, char **out);

#endif
