/* outbound/shared-reply.h -- a member's reply in a shared mailbox's
 * thread, decided at SMTP time (docs/shared-reply.md): pure, over the state of the threads the reply names, which
 * atsmaild reads from PostgreSQL (atsmail.shared_reply_state, sql/019).
 *
 *	the thread is                        the reply
 *	assigned to the sender               answers it
 *	answered by another member           refused: shared-answered
 *	assigned to another member           refused: shared-assigned
 *	neither                              answers it
 *	refused, with ats+force              answers it, the override recorded
 *
 * A thread of a shared mailbox the sender is no member of concerns
 * nobody here: the workflow is the members'.  Answering moves the thread
 * to shared_answered_status (done, or progress) for every member.
 */
#ifndef ATSM_OUTBOUND_SHARED_REPLY_H
#define ATSM_OUTBOUND_SHARED_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "base/conf.h"
#include "outbound/refusal.h"
#include "shared/shared.h"

#define ATSM_SHARED_REPLY_THREADS 16      /* shared mailboxes one reply is looked up in */
#define ATSM_SHARED_REPLY_LOGIN_MAX 256
#define ATSM_SHARED_REPLY_NAME_MAX 256
#define ATSM_SHARED_REPLY_TIME_MAX 40     /* "2026-12-04 18:01 UTC" */

/* One shared mailbox's thread that the reply's References or In-Reply-To
 * name (its latest item there). */
struct atsm_shared_thread {
	long long item_id;
	char mailbox[ATSM_SHARED_REPLY_LOGIN_MAX];
	char thread_key[ATSM_SHARED_REPLY_LOGIN_MAX];
	enum atsm_shared_status status;
	bool member;                                  /* the sender is one of its members */
	char assignee[ATSM_SHARED_REPLY_LOGIN_MAX];   /* login, "" = none */
	char assignee_name[ATSM_SHARED_REPLY_NAME_MAX];
	char assignee_since[ATSM_SHARED_REPLY_TIME_MAX];
	char answered_by[ATSM_SHARED_REPLY_LOGIN_MAX];  /* login, "" = not answered */
	char answered_name[ATSM_SHARED_REPLY_NAME_MAX];
	char answered_at[ATSM_SHARED_REPLY_TIME_MAX];
};

/* Whose a thread is, seen by the sender. */
enum atsm_shared_whose {
	ATSM_SHARED_FREE,             /* the sender's, or nobody's: a reply answers it */
	ATSM_SHARED_OTHERS_ANSWER,    /* another member answered it */
	ATSM_SHARED_OTHERS_ASSIGNED   /* assigned to another member */
};

enum atsm_shared_reply_action {
	ATSM_SHARED_REPLY_NONE,       /* no thread of the sender's shared mailboxes */
	ATSM_SHARED_REPLY_ANSWER,     /* accept: the threads are answered by the sender */
	ATSM_SHARED_REPLY_FORCED,     /* accept over the guard (ats+force): recorded */
	ATSM_SHARED_REPLY_REFUSE      /* 550 5.7.1 with refusal */
};

struct atsm_shared_reply {
	enum atsm_shared_reply_action action;
	enum atsm_shared_status status;   /* ANSWER, FORCED: where the threads go */
	size_t thread;                    /* REFUSE, FORCED: the first thread another has */
	struct atsm_refusal refusal;      /* REFUSE, FORCED: what is (or was) refused */
};

/* Whose t is for sender (a login; compared without case).  A thread
 * assigned to the sender is the sender's even if another answered it. */
enum atsm_shared_whose atsm_shared_thread_whose(const struct atsm_shared_thread *t,
    const char *sender);

/* Decide a reply by sender (a login) that names the n threads of v;
 * force: the mail has ats+force.  conf gives the command local part,
 * ats_domain (the sentence says how to force) and shared_answered_status.
 * Always fills *out; returns its action. */
enum atsm_shared_reply_action atsm_shared_reply_decide(const struct atsm_conf *conf,
    const char *sender, bool force, const struct atsm_shared_thread *v, size_t n,
    struct atsm_shared_reply *out);

#endif
