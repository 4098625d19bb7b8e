/* milter.h -- the milter front of atsmaild: what its three files share.
 *
 *	milter-session.c  the connection: packets, negotiation, macros, the
 *	                  order of the protocol, replies
 *	milter-message.c  the facts of the message being received (bounded by
 *	                  the configuration in force)
 *	milter-macros.c   the macros of a message ({auth_authen}, {i})
 *	milter-eom.c      the end of a message: decide, journal, act
 *	milter-take.c     a mail taken (ats+bulk, ats+template): the bulk job
 *	milter-approval.c a decision on held mail (ats+approve, ats+reject)
 *	milter-shared.c   a member's reply in a shared mailbox's thread: the
 *	                  guard, then the thread answered
 *	shared-mover.c    the answered thread moved in the shared account
 *	hdredit.c         To/Cc header values without the command addresses
 *	explain.c         the explanation mail to a refused recruiter
 */
#ifndef ATSMAILD_MILTER_H
#define ATSMAILD_MILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "atsmaild.h"
#include "outbound/decide.h"
#include "outbound/facts.h"
#include "outbound/refusal.h"
#include "outbound/shared-reply.h"
#include "service/milter-proto.h"

#define MILTER_HDR_PREFIX "X-ATS-"
#define MILTER_REF_HEADER "X-ATS-Ref"
#define MILTER_XATS_MAX 1000        /* X-ATS-* headers in one mail */
#define MILTER_MACRO_BYTES 4096     /* macros kept per stage */

struct milter_hdr {
	char *name;                     /* as the MTA sent it */
	char *value;
	int index;                      /* 1-based among headers of this name (any case) */
};

/* The macros of one stage (the last SMFIC_MACRO before a command). */
struct milter_macros {
	unsigned char cmd;              /* the command they were sent for */
	size_t n;
	char *name[16], *value[16];     /* into buf */
	char buf[MILTER_MACRO_BYTES];
	size_t used;
};

struct milter_msg {
	bool in_message;
	enum atsm_direction dir;
	struct atsm_out_facts facts;
	char **env_raw;                 /* RCPT TO arguments as received (delrcpt) */
	size_t env_cap;
	struct milter_hdr *xats;        /* X-ATS-* headers */
	size_t n_xats;
	struct milter_hdr *addr_hdrs;   /* To, Cc and Bcc occurrences */
	size_t n_addr_hdrs;
	int n_to, n_cc, n_bcc;
	size_t hdr_bytes;               /* of the headers kept, against header_max_bytes */
	size_t in_hdr_bytes;            /* inbound: of the From/To/Cc... kept (a bulk
	                                   runner's mail is decided as sent mail) */
	bool hdr_overflow;
	bool rcpt_overflow;
	bool xats_overflow;             /* more than MILTER_XATS_MAX X-ATS-* headers */
	bool failed;                    /* memory ran out: the end answers 451 */
	EVP_MD_CTX *sha;
	/* a command address refused at RCPT (milter-session.c): the end of
	 * the message refuses the whole mail; an abort explains it by mail */
	bool rcpt_refused;
	struct atsm_refusal rcpt_refusal;
	/* the mail as received, kept only while an explanation could be sent
	 * (explain.c): headers and body, up to explain_attach_max */
	struct atsm_buf raw;
	bool keep_raw;
	bool raw_overflow;
	bool raw_checked;               /* keep_raw decided (at the first header) */
	bool raw_in_body;               /* the empty line after the headers is in raw */
	bool automatic;                 /* Auto-Submitted (not "no") or atsmail's marker:
	                                   never explained */
	bool csv_seen;                  /* a Content-Type text/csv (milter_msg_finish) */
};

struct milter_session {
	struct atsmaild_conn *conn;
	struct atsmaild_gen *gen;       /* held for the message (MAIL to its end) */
	uint32_t actions, protocol;     /* negotiated */
	bool negotiated;
	char client_addr[64];
	char client_name[256];
	bool non_smtp;                  /* Postfix's non_smtpd_milters emulation */
	struct milter_macros mail_macros, eom_macros;
	struct milter_msg msg;
	struct atsm_buf out;            /* replies of the current command */
};

/* milter-message.c */
void milter_msg_reset(struct milter_msg *m);
int milter_msg_envfrom(struct milter_msg *m, const char *arg, const char *login);
int milter_msg_rcpt(struct milter_msg *m, const struct atsm_conf *conf, const char *arg);
int milter_msg_header(struct milter_msg *m, const struct atsm_conf *conf, const char *name,
    const char *value);
void milter_msg_body(struct milter_msg *m, const unsigned char *p, size_t n);
/* Queue id, time, body hash, token (signed with keys) and idempotency key. */
int milter_msg_finish(struct milter_msg *m, const struct atsm_token_keys *keys,
    const char *queue_id, struct atsm_err *err);
/* "<a@b>" -> "a@b" into a new string. */
char *milter_strip_brackets(const char *arg);

/* milter-macros.c: a macro of the stage's last macro packet, or NULL. */
const char *milter_macro(const struct milter_macros *mm, const char *name);
/* Keep the macros of one packet (sent for cmd) as the stage's. */
void milter_macros_keep(struct milter_macros *mm, unsigned char cmd,
    const struct atsm_milter_macro *v, size_t n);
/* The macros belong to one message: forget them at its end. */
void milter_macros_forget(struct milter_session *s);
/* The queue id of the message: {i} of the end of message, else of MAIL
 * (where Postfix sends it with smtpd_delay_open_until_valid_rcpt = no, and
 * where libmilter's smfi_getsymval would have found it); NULL if neither. */
const char *milter_queue_id(const struct milter_session *s);

/* milter-eom.c: append the actions and the final reply to s->out. */
int milter_eom_outbound(struct milter_session *s);
int milter_eom_inbound(struct milter_session *s);
/* Append a REPLYCODE reply (a 4xx or 5xx answer with its sentence). */
int milter_reply(struct milter_session *s, const char *rcode, const char *xcode,
    const char *text);

/* explain.c: the explanation mail to the recruiter whose mail was refused
 * (docs/refusal-mail.md).  with_mail: the refused mail (s->msg.raw) is
 * attached; otherwise the client still holds it.  Never fails the
 * session: what goes wrong is logged. */
void milter_explain(struct milter_session *s, const struct atsm_refusal *r, bool with_mail);

/* milter-take.c: a TAKE plan made into a bulk job, the original
 * discarded; or 550 / 552 / 451 with its sentence.  -1 when the reply
 * does not fit. */
int milter_take(struct milter_session *s, const struct atsm_out_plan *p);
/* Close the pool of milter_take's connections (at exit). */
void milter_take_shutdown(void);

/* milter-approval.c: a DECISION plan (ats+approve.<id>, ats+reject.<id>)
 * recorded as a request and the mail discarded; or 550 / 451 with its
 * sentence.  -1 when the reply does not fit. */
int milter_approval(struct milter_session *s, const struct atsm_out_plan *p);
/* Close the pool of milter_approval's connection (at exit). */
void milter_approval_shutdown(void);
/* milter-shared.c: the shared mailbox threads a reply names and what
 * was decided (docs/shared-mailboxes.md). */
struct milter_shared {
	char login[ATSM_SHARED_REPLY_LOGIN_MAX];      /* the member who replies */
	struct atsm_shared_thread threads[ATSM_SHARED_REPLY_THREADS];
	size_t n;
	struct atsm_shared_reply decision;
};
/* Before the mail is accepted: 0 to go on (x->decision says whether an
 * accepted mail answers a thread), 1 when a reply was appended (550
 * refused, or 451: PostgreSQL unreachable for a member's reply), -1 when
 * the reply does not fit.  No statement for mail that is no reply. */
int milter_shared_check(struct milter_session *s, const struct atsm_out_plan *p,
    struct milter_shared *x);
/* The mail is accepted: record forced and answered, queue the moves.  0,
 * or -1 (logged) when PostgreSQL failed: the caller tempfails. */
int milter_shared_answered(struct milter_session *s, const struct atsm_out_plan *p,
    const struct milter_shared *x);
/* The mail is held for approval: record the answers it will be when
 * released (sql/021; atsmailctl settles them).  0, or -1 (logged): the
 * caller tempfails. */
int milter_shared_held(struct milter_session *s, const struct atsm_out_plan *p,
    const struct milter_shared *x);
void milter_shared_shutdown(void);

/* shared-mover.c: move the mail msgid (bare) of shared mailbox mailbox
 * into folder target (of status st) with shared_doveadm, from a thread of
 * its own, retried; never blocks. */
void atsmaild_shared_mover_queue(const struct atsm_conf *conf, const char *mailbox,
    const char *target, enum atsm_shared_status st, const char *msgid);
void atsmaild_shared_mover_stop(void);

/* hdredit.c */
typedef bool (*milter_addr_pred)(const char *addr, void *arg);
/* The address header value without the items whose address drop() accepts.
 * 0: nothing to drop (*out NULL); 1: *out is the new value (malloc'd; ""
 * means the header is to be deleted); -1: out of memory. */
int milter_hdr_without(const char *value, milter_addr_pred drop, void *arg, char **out);

#endif
