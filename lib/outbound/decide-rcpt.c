/* outbound/decide-rcpt.c -- atsm_out_decide_rcpt(): a command address
 * that is wrong on its own, refused at RCPT (see outbound/decide.h).
 *
 * What one address shows alone: it does not parse (unknown command,
 * malformed id or code), or it names a job, resume or contact that does
 * not exist, or a phase code that is an active phase of no kind; and the
 * sender may not use commands at all (decide.c step 4, asked the same way
 * as at the end of the message).  Whatever depends on the whole mail
 * (contradictions, a process phase without job or thread, the guard,
 * limits, no record linked) waits for the end of the message.  The end
 * of the message runs atsm_out_check_address() over every command address
 * too (LIVE), so a mail that never passed the milter's RCPT stage is
 * refused with the same kinds.
 */
#include "outbound/decide-ctx.h"

#include <stdio.h>
#include <string.h>

int
atsm_out_check_address(struct atsm_out_ctx *c, const char *addr, struct atsm_refusal *r)
{
	static const enum atsm_record_kind kinds[3] = { ATSM_RECORD_RESUME, ATSM_RECORD_CONTACT,
	    ATSM_RECORD_PROCESS };
	struct atsm_command_set set;
	struct atsm_command_fault fault;
	struct atsm_err e;
	char id[32];
	size_t i, k;
	int rc;

	atsm_command_set_init(&set);
	rc = atsm_command_add_fault(&set, addr, c->conf->command_localpart, c->conf->ats_domain,
	    &fault, &e);
	if (rc == 1)
		return 0;
	if (rc < 0) {
		atsm_out_fault_refusal(c, &fault, r);
		return 1;
	}
	for (i = 0; i < set.njobs; i++) {
		struct atsm_dir_job j;

		if ((rc = c->dir->ops->job(c->dir->ctx, (long long)set.jobs[i], &j, &c->err)) < 0)
			return atsm_out_dir_failed(c, "job %llu", set.jobs[i]);
		if (rc == 0) {
			snprintf(id, sizeof(id), "%llu", set.jobs[i]);
			atsm_refusal_set(r, ATSM_REFUSAL_NO_JOB, atsm_out_lp(c), c->conf->ats_domain,
			    fault.addr, id, NULL);
			return 1;
		}
	}
	for (k = 0; k < 2; k++) {
		const unsigned long long *ids = k == 0 ? set.resumes : set.contacts;
		size_t n = k == 0 ? set.nresumes : set.ncontacts;

		for (i = 0; i < n; i++) {
			struct atsm_dir_record d;

			if ((rc = c->dir->ops->record(c->dir->ctx, kinds[k], (long long)ids[i], &d,
			    &c->err)) < 0)
				return atsm_out_dir_failed(c, "%s %llu",
				    atsm_record_kind_name(kinds[k]), ids[i]);
			if (rc == 0) {
				snprintf(id, sizeof(id), "%llu", ids[i]);
				atsm_refusal_set(r, ATSM_REFUSAL_NO_RECORD, atsm_out_lp(c),
				    c->conf->ats_domain, fault.addr, atsm_record_kind_name(kinds[k]),
				    id);
				return 1;
			}
		}
	}
	if (set.has_phase) {
		for (k = 0; k < 3; k++) {
			if ((rc = c->dir->ops->phase_active(c->dir->ctx, kinds[k], set.phase,
			    &c->err)) < 0)
				return atsm_out_dir_failed(c, "%s phase %s",
				    atsm_record_kind_name(kinds[k]), set.phase);
			if (rc == 1)
				return 0;
		}
		atsm_refusal_set(r, ATSM_REFUSAL_NO_PHASE, atsm_out_lp(c), c->conf->ats_domain,
		    fault.addr, set.phase, NULL);
		return 1;
	}
	return 0;
}

int
atsm_out_sender_refusal(struct atsm_out_ctx *c, const char *addr, struct atsm_refusal *r)
{
	const struct atsm_out_facts *f = c->f;
	const char *from = f->env_from != NULL && f->env_from[0] != '\0' ? f->env_from : "<>";

	if (f->non_smtp && (f->login == NULL || f->login[0] == '\0'))
		atsm_refusal_set(r, c->conf->non_smtp_senders == ATSM_NON_SMTP_UNTRUSTED ?
		    ATSM_REFUSAL_LOCAL_UNTRUSTED : ATSM_REFUSAL_LOCAL_SENDER, atsm_out_lp(c),
		    c->conf->ats_domain, addr, from, NULL);
	else
		atsm_refusal_set(r, ATSM_REFUSAL_NOT_USER, atsm_out_lp(c), c->conf->ats_domain,
		    addr, f->login != NULL && f->login[0] != '\0' ? f->login : f->env_from !=
		    NULL && f->env_from[0] != '\0' ? f->env_from : "the sender", NULL);
	return 1;
}

int
atsm_out_decide_rcpt(const struct atsm_dir *dir, const struct atsm_conf *conf,
    const struct atsm_out_facts *f, const char *rcpt, struct atsm_refusal *r,
    struct atsm_err *err)
{
	struct atsm_out_plan p;
	struct atsm_out_ctx c;
	struct atsm_command_set set;
	struct atsm_command_fault fault;
	struct atsm_err e;
	bool found;
	int rc;

	memset(r, 0, sizeof(*r));
	if (!atsm_command_is_address(rcpt, conf->command_localpart, conf->ats_domain))
		return 0;
	memset(&p, 0, sizeof(p));
	memset(&c, 0, sizeof(c));
	c.dir = dir;
	c.conf = conf;
	c.f = f;
	c.mode = ATSM_OUT_LIVE;
	c.p = &p;
	c.a = &p.arena;
	atsm_arena_init(&p.arena, 64u * 1024u);
	rc = atsm_out_decide_sender(&c, &found);
	if (rc == 0 && !found) {
		/* only what the end of the message would decide the same way:
		 * without a login, over SMTP, the From header may still name a
		 * recruiter */
		if ((f->login != NULL && f->login[0] != '\0') || f->non_smtp) {
			atsm_command_set_init(&set);
			(void)atsm_command_add_fault(&set, rcpt, conf->command_localpart,
			    conf->ats_domain, &fault, &e);
			rc = atsm_out_sender_refusal(&c, fault.addr, r);
		}
	} else if (rc == 0)
		rc = atsm_out_check_address(&c, rcpt, r);
	atsm_arena_free(&p.arena);
	if (rc < 0) {
		if (err != NULL)
			*err = c.err;
		memset(r, 0, sizeof(*r));
		return -1;
	}
	if (rc == 1)
		r->at_rcpt = true;
	return rc;
}
