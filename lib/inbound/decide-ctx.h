/* inbound/decide-ctx.h -- what the files of the inbound decision share
 * while one mail is decided (not an interface: only lib/inbound/decide*.c
 * include it).
 *
 *	decide.c          the order of the steps, the plan, notes, keywords
 *	decide-owner.c    headers, mailbox owner, intake address, counterparts,
 *	                  a copy of sent mail, this mail's own message, intake
 *	decide-match.c    tokens, In-Reply-To / References, token, sender address
 *	decide-bounce.c   the sent item of a bounce
 *	decide-rules.c    records' state, open processes, phase rules, links,
 *	                  visibility
 *
 * Every step returns 0, or -1 with c->err set (the directory's error, or
 * NOMEM); the steps fill c->p and c->recs.  The directory's answers live
 * in c->arena until the decision ends.
 */
#ifndef ATSM_INBOUND_DECIDE_CTX_H
#define ATSM_INBOUND_DECIDE_CTX_H

#include "base/arena.h"
#include "inbound/decide.h"
#include "rules/verp.h"

struct atsm_in_ctx {
	const struct atsm_dir *dir;
	const struct atsm_conf *conf;
	const struct atsm_token_keys *keys;
	const struct atsm_in_facts *f;
	enum atsm_in_mode mode;
	struct atsm_in_plan *p;
	struct atsm_err *err;
	struct atsm_arena arena;          /* the directory's answers */
	struct atsm_recset recs;          /* links of the mail and phase-rule targets */
	enum atsm_sharing_mode sharing_mode;   /* the owner's */
	bool default_share;
	bool intake;                      /* the mail reached an intake address */
	bool bounce_vis_known;            /* BOUNCE: the sent item's visibility */
	enum atsm_visibility bounce_vis;
	/* the sender's resumes and contacts, asked once */
	bool sender_asked;
	struct atsm_dir_record *sender_recs;
	size_t n_sender_recs;
	/* the sender is an active user (a recruiter takes part in any
	 * thread), asked once */
	bool sender_user_asked;
	bool sender_is_user;
	size_t nkw;
};

/* decide.c */
void atsm_in_note(struct atsm_in_ctx *c, const char *fmt, ...) ATSM_PRINTF(2, 3);
void atsm_in_keyword(struct atsm_in_ctx *c, const char *kw);
int atsm_in_nomem(struct atsm_in_ctx *c, const char *what);
/* "message 5001", or "message <key, first 16 digits>..." while it has no id */
const char *atsm_in_ref_text(const struct atsm_dir_msgref *r, char *buf, size_t size);

/* decide-owner.c */
int atsm_in_decode_headers(struct atsm_in_ctx *c);
int atsm_in_owner_intake(struct atsm_in_ctx *c);
int atsm_in_counterparts(struct atsm_in_ctx *c);
/* *refused: an APPEND of a sent message the appender may not read */
int atsm_in_find_sent(struct atsm_in_ctx *c, struct atsm_dir_msgref *sent, bool *found,
    bool *refused);
/* *refused: a second copy from a sender who takes no part in the first,
 * or an APPEND of one the appender may not read */
int atsm_in_find_received(struct atsm_in_ctx *c, bool *refused);
int atsm_in_intake(struct atsm_in_ctx *c);

/* decide-match.c */
bool atsm_in_canon_token(const char *v, char out[ATSM_TOKEN_MAX]);
bool atsm_in_token_ok(const struct atsm_in_ctx *c, const char *tok);
bool atsm_in_verp_token(const struct atsm_in_ctx *c, const char *addr, char tok[ATSM_TOKEN_MAX]);
/* The same, and the recipient's MAC of a format-2 stamp ("" without). */
bool atsm_in_verp_stamp(const struct atsm_in_ctx *c, const char *addr, char tok[ATSM_TOKEN_MAX],
    char rmac[ATSM_VERP_RMAC_LEN + 1]);
/* The outbound message of a token: 1 found, 0 not, -1 failed. */
int atsm_in_token_message(struct atsm_in_ctx *c, const char *tok, struct atsm_dir_message *m);
/* Link the records message m is linked to, with rule; *added counts them. */
int atsm_in_link_message(struct atsm_in_ctx *c, const struct atsm_dir_message *m,
    const char *rule, size_t *added);
int atsm_in_sender_records(struct atsm_in_ctx *c);
/* The sender takes part in m (a participant, an address of a record m is
 * linked to, or a user): *part. */
int atsm_in_takes_part(struct atsm_in_ctx *c, const struct atsm_dir_message *m, bool *part);
int atsm_in_match_replies(struct atsm_in_ctx *c);
int atsm_in_match_token(struct atsm_in_ctx *c);
int atsm_in_match_sender(struct atsm_in_ctx *c);
/* After a thread or token match: the author's own resumes and contacts
 * are linked too (rule sender_address). */
int atsm_in_link_author(struct atsm_in_ctx *c);

/* decide-bounce.c */
int atsm_in_bounce(struct atsm_in_ctx *c);

/* decide-rules.c */
/* After matching: may a mail of its kind be filed on what matched?  List
 * mail and read receipts only inside a recorded thread; false drops the
 * records found, with a note. */
bool atsm_in_kind_allows(struct atsm_in_ctx *c);
/* FILE: the keyword of the mail's kind, or the reply's phase rules. */
int atsm_in_reply_rules(struct atsm_in_ctx *c);
int atsm_in_load_records(struct atsm_in_ctx *c);
int atsm_in_open_processes(struct atsm_in_ctx *c);
int atsm_in_phase_rules(struct atsm_in_ctx *c, const char *event);
int atsm_in_make_links(struct atsm_in_ctx *c);
int atsm_in_policy(struct atsm_in_ctx *c);

#endif
