/* outbound/decide.c -- atsm_out_decide(): what to do with one sent mail,
 * from its facts and the directory (see outbound/decide.h).
 *
 * The order of the decisions is that of docs/outbound.md:
 *
 *	1. recipients: To, Cc, envelope-only (= Bcc), normalised; command
 *	   addresses set apart and parsed              (decide-recipients.c)
 *	2. the records of every candidate address (company domains excluded)
 *	3. no record and no command: PASS (recording it would be a defect)
 *	4. sender -> user; none: PASS, or REJECT when it used commands
 *	5. commands checked against the directory      (decide-commands.c):
 *	   every command address as at RCPT (decide-rcpt.c), then the whole
 *	   set; a process-only phase without ats+job moves the processes of
 *	   the believed thread the mail replies in (its own lookup of the
 *	   References / In-Reply-To messages, before step 8)
 *	6. guard, then needs_approval -> HOLD          (decide-guard.c)
 *	7. visibility
 *	4a. ats+approve / ats+reject: DECISION, or refused (decide-approval.c)
 *	4b. ats+bulk / ats+template: TAKE, or refused  (decide-take.c)
 *	8. token and VERP stamp; then, for the record, the thread the mail
 *	   belongs to and whether its Message-ID is recorded already
 *
 * REPLAY (the mail has left already) skips what LIVE would reject and says
 * so in notes; it never rejects or holds.  The directory is only read.
 */
#include "outbound/decide-ctx.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "mail/msgid.h"
#include "mail/rfc2047.h"

/* What one plan may take: its fixed part, two KiB per recipient address
 * examined (the address as written and normalised, its entry, the guard's
 * and the policy's views of it) and the decoded subject. */
#define PLAN_MEMORY_BASE (4u * 1024u * 1024u)
#define PLAN_MEMORY_PER_RCPT 2048u
/* One answer about a message (its links and participants), freed at once. */
#define MESSAGE_MEMORY (4u * 1024u * 1024u)




/* ------------------------------------------------- shared by the steps */






/* ---------------------------------------------------------- the message */

/* Subject in UTF-8; Message-ID and the References / In-Reply-To ids
 * without their angle brackets (References first: its first id is the
 * root of the thread). */
static int
read_headers(struct atsm_out_ctx *c)
{
	const struct atsm_out_facts *f = c->f;
	struct atsm_out_plan *p = c->p;
	char *s = NULL, *ids[ATSM_OUT_MAX_REFS];
	size_t i, n;

	if (f->hdr_subject != NULL) {
		if ((s = atsm_rfc2047_decode_dup(f->hdr_subject, c->conf->decode_max_bytes)) == NULL)
			return atsm_out_nomem(c, "subject");
		p->subject = atsm_arena_strdup(c->a, s);
		free(s);
		if (p->subject == NULL)
			return atsm_out_nomem(c, "subject");
	}
	if (atsm_msgid_bare(f->hdr_message_id, &s) < 0)
		return atsm_out_nomem(c, "Message-ID");
	if (s != NULL) {
		p->message_id = atsm_arena_strdup(c->a, s);
		free(s);
		if (p->message_id == NULL)
			return atsm_out_nomem(c, "Message-ID");
	}
	n = atsm_msgid_list(f->hdr_references, ids, ATSM_OUT_MAX_REFS);
	n += atsm_msgid_list(f->hdr_in_reply_to, ids + n, ATSM_OUT_MAX_REFS - n);
	p->refs = atsm_arena_calloc(c->a, n + 1, sizeof(char *));
	for (i = 0; i < n; i++) {
		if (p->refs != NULL && (p->refs[i] = atsm_arena_strdup(c->a, ids[i])) == NULL)
			p->refs = NULL;
		free(ids[i]);
	}
	if (p->refs == NULL)
		return atsm_out_nomem(c, "References");
	p->n_refs = n;
	return 0;
}

/* A message of the directory, asked with a scratch arena: only its
 * reference and thread are kept. */
static int
message(struct atsm_out_ctx *c, const char *msgid, enum atsm_dir_direction d,
    struct atsm_dir_msgref *ref, struct atsm_dir_msgref *thread, char *token)
{
	struct atsm_arena scratch;
	struct atsm_dir_message m;
	int rc;

	atsm_arena_init(&scratch, MESSAGE_MEMORY);
	memset(&m, 0, sizeof(m));
	rc = c->dir->ops->message_by_msgid(c->dir->ctx, msgid, d, &scratch, &m, &c->err);
	atsm_arena_free(&scratch);
	if (rc < 0)
		return atsm_out_dir_failed(c, "message %s", msgid);
	if (rc == 1) {
		*ref = m.ref;
		*thread = m.thread;
		if (token != NULL)
			snprintf(token, ATSM_DIR_TOKEN_MAX, "%s", m.token);
		if (thread->id == 0 && thread->key[0] == '\0')
			*thread = m.ref;
	}
	return rc;
}

/* The thread: that of the first message named by References, then
 * In-Reply-To, that the directory knows (sent or received); and whether
 * this very Message-ID is recorded as sent already. */
static int
find_thread(struct atsm_out_ctx *c)
{
	static const enum atsm_dir_direction dirs[2] = { ATSM_DIR_OUT, ATSM_DIR_IN };
	struct atsm_out_plan *p = c->p;
	struct atsm_dir_msgref ref, thread;
	size_t i, k;
	int rc;

	if (p->message_id != NULL) {
		if ((rc = message(c, p->message_id, ATSM_DIR_OUT, &ref, &thread,
		    c->recorded_token)) < 0)
			return -1;
		p->msgid_recorded = rc == 1;
	}
	for (i = 0; i < p->n_refs; i++)
		for (k = 0; k < 2; k++) {
			if ((rc = message(c, p->refs[i], dirs[k], &ref, &thread, NULL)) < 0)
				return -1;
			if (rc == 1) {
				p->in_thread = true;
				p->thread = thread;
				return 0;
			}
		}
	return 0;
}

/* ------------------------------------------------------------ the plan */

static int
make_counterparts(struct atsm_out_ctx *c)
{
	struct atsm_out_plan *p = c->p;
	size_t i;

	if ((p->counterparts = atsm_arena_calloc(c->a, p->n_rcpts + 1, sizeof(char *))) == NULL)
		return atsm_out_nomem(c, "counterparts");
	for (i = 0; i < p->n_rcpts; i++)
		if (!p->rcpts[i].is_command)
			p->counterparts[p->n_counterparts++] = (char *)p->rcpts[i].norm;
	return 0;
}

/* The resumes and contacts, the jobs, and the processes that exist
 * already; processes still to be made are linked when they are made. */
static int
make_links(struct atsm_out_ctx *c)
{
	struct atsm_out_plan *p = c->p;
	size_t i;

	if ((p->links = atsm_arena_calloc(c->a, c->recs.n + p->n_jobs + p->n_procs + 1,
	    sizeof(*p->links))) == NULL)
		return atsm_out_nomem(c, "links");
	for (i = 0; i < c->recs.n; i++) {
		const struct atsm_rec *r = &c->recs.v[i];
		struct atsm_out_link *l = &p->links[p->n_links++];

		l->kind = r->kind;
		l->id = r->id;
		l->resume_addr = r->resume_addr;
		snprintf(l->rule, sizeof(l->rule), "%s", r->named ? "command" : "recipient_address");
		l->ambiguous = r->ambiguous;
	}
	for (i = 0; i < p->n_jobs; i++) {
		struct atsm_out_link *l = &p->links[p->n_links++];

		l->kind = ATSM_RECORD_JOB;
		l->id = p->jobs[i];
		snprintf(l->rule, sizeof(l->rule), "command");
	}
	for (i = 0; i < p->n_procs; i++) {
		struct atsm_out_link *l;

		if (!p->procs[i].exists)
			continue;
		l = &p->links[p->n_links++];
		l->kind = ATSM_RECORD_PROCESS;
		l->id = p->procs[i].process_id;
		l->resume_id = p->procs[i].resume_id;
		l->resume_addr = p->procs[i].resume_addr;
		l->job_id = p->procs[i].job_id;
		snprintf(l->rule, sizeof(l->rule), "command");
	}
	return 0;
}

/* The first command address as written ("" when none). */
static const char *
first_command(const struct atsm_out_ctx *c)
{
	size_t i;

	for (i = 0; i < c->p->n_rcpts; i++)
		if (c->p->rcpts[i].is_command)
			return c->p->rcpts[i].addr;
	return "";
}

static int
decide(struct atsm_out_ctx *c)
{
	struct atsm_out_plan *p = c->p;
	struct atsm_refusal r;
	char num[32];
	bool found, cmds;
	int stop;

	if (read_headers(c) < 0 || atsm_out_decide_recipients(c) < 0)
		return -1;
	snprintf(num, sizeof(num), "%u", c->conf->address_max_count);
	if (c->too_many_addrs && atsm_out_refuse(c, ATSM_REFUSAL_TOO_MANY_ADDRESSES, "", num,
	    NULL))
		return 0;
	if (atsm_out_decide_records(c) < 0)
		return -1;
	snprintf(num, sizeof(num), "%d", ATSM_OUT_MAX_LINKS);
	if (c->recs.truncated && atsm_out_refuse(c, ATSM_REFUSAL_TOO_MANY_RECORDS, "", num, NULL))
		return 0;
	/* ats+force alone names nothing to record: the milter removes it
	 * and the shared mailbox's guard reads it (outbound/shared-reply.h) */
	cmds = p->commands.any && (c->cmd_failed || atsm_command_set_records(&p->commands));
	if (c->recs.n == 0 && !cmds)
		return 0;                         /* not ATS mail: PASS */
	if (atsm_out_decide_sender(c, &found) < 0)
		return -1;
	if (!found) {
		if (!cmds)
			return 0;                 /* nobody's sent mail: PASS */
		(void)atsm_out_sender_refusal(c, first_command(c), &r);
		(void)atsm_out_refuse_with(c, &r);
		return 0;
	}
	if (p->commands.approval != 0 && !c->cmd_failed && c->mode == ATSM_OUT_LIVE)
		return atsm_out_decide_approval(c);   /* a command to the server, not mail */
	if ((p->commands.bulk || p->commands.has_template) && c->mode == ATSM_OUT_LIVE) {
		/* taken, not delivered: none of what follows concerns it */
		if (atsm_out_decide_take(c, &stop) < 0)
			return -1;
		return 0;
	}
	if (atsm_out_decide_commands(c, &stop) < 0)
		return -1;
	if (stop)
		return 0;
	if (c->recs.n == 0 && p->n_jobs == 0 && p->n_procs == 0) {
		/* only commands that name nothing (ats+private alone, or all
		 * skipped in REPLAY): nothing to file it on */
		if (atsm_out_refuse(c, ATSM_REFUSAL_NO_RECORD_LINKED, first_command(c), NULL,
		    NULL) || c->mode == ATSM_OUT_REPLAY)
			return 0;
	}
	p->verdict = ATSM_OUT_RECORD;
	if (make_counterparts(c) < 0 || make_links(c) < 0 || atsm_out_decide_guard(c) < 0)
		return -1;
	if (p->verdict == ATSM_OUT_REJECT)
		return 0;
	if (c->needs_approval && c->mode == ATSM_OUT_LIVE && p->verdict == ATSM_OUT_RECORD) {
		p->verdict = ATSM_OUT_HOLD;
		snprintf(p->reply_text, sizeof(p->reply_text), "mail from %s waits for "
		    "approval (the user needs approval before mail to candidates leaves)",
		    p->user_login);
		if (c->conf->ats_domain != NULL && c->conf->ats_domain[0] != '\0')
			snprintf(p->command_at, sizeof(p->command_at), "%s@%s", atsm_out_lp(c),
			    c->conf->ats_domain);
	}
	if (atsm_out_decide_visibility(c) < 0 || find_thread(c) < 0)
		return -1;
	/* after the thread: a Message-ID recorded already keeps its token */
	atsm_out_decide_stamps(c);
	return 0;
}

int
atsm_out_decide(const struct atsm_dir *dir, const struct atsm_conf *conf,
    const struct atsm_token_keys *keys, const struct atsm_out_facts *f,
    enum atsm_out_mode mode, struct atsm_out_plan *p, struct atsm_err *err)
{
	struct atsm_out_ctx c;
	int rc;

	memset(p, 0, sizeof(*p));
	p->verdict = ATSM_OUT_PASS;
	memset(&c, 0, sizeof(c));
	c.dir = dir;
	c.conf = conf;
	c.keys = keys;
	c.f = f;
	c.mode = mode;
	c.p = p;
	c.a = &p->arena;
	c.cap_rcpts = conf->address_max_count != 0 ? conf->address_max_count : ATSM_OUT_MAX_RCPTS;
	atsm_arena_init(&p->arena, PLAN_MEMORY_BASE + c.cap_rcpts * PLAN_MEMORY_PER_RCPT +
	    conf->decode_max_bytes);
	atsm_recset_init(&c.recs, ATSM_OUT_MAX_LINKS);
	rc = decide(&c);
	atsm_recset_free(&c.recs);
	if (rc < 0) {
		/* a failed decision decides nothing: the caller's failure policy does */
		if (err != NULL)
			*err = c.err;
		atsm_out_plan_free(p);
		return -1;
	}
	if (p->verdict == ATSM_OUT_PASS || p->verdict == ATSM_OUT_REJECT ||
	    p->verdict == ATSM_OUT_TAKE || p->verdict == ATSM_OUT_DECISION) {
		/* nothing to record: links, processes and the thread are not the caller's */
		p->n_links = p->n_phases = p->n_procs = p->n_jobs = 0;
		memset(&p->vis, 0, sizeof(p->vis));
		p->in_thread = p->msgid_recorded = false;
	}
	return 0;
}
