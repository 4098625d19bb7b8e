/* outbound/decide-take.c -- mail that is taken, not delivered: ats+bulk
 * (one mail per recipient) and ats+template.<code> (one mail merged for its
 * record), decided from the snapshot alone (docs/bulk.md, "SMTP-time checks").
 *
 * After the sender is known to be a user who may give commands, every
 * command address is checked as at RCPT, then:
 *	a bulk runner's own mail naming ats+bulk or ats+template: refused
 *	    (a job must not start a job);
 *	the recipients: every non-command envelope recipient, each with its
 *	    record (resume first, else contact) or none -- the To/Cc/Bcc
 *	    headers do not matter, each recipient gets a mail of their own,
 *	    so the guard against candidates seeing each other does not apply;
 *	over bulk_max_recipients: refused with the count and the limit;
 *	no recipient with a record: refused (unless a list or an attached CSV
 *	    may still bring them: the milter checks again with
 *	    atsm_out_take_check() once it has read them);
 *	a template mail (no ats+bulk) whose recipients name several records:
 *	    refused -- it is merged for one.
 * The plan then says TAKE with the recipients, the template code, the
 * list and the other commands as JSON for bulk_jobs.commands.
 */
#include "outbound/decide-ctx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* n with thousands separators ("5,012"): the sentences are read by people. */
static const char *
grouped(char *buf, size_t size, size_t n)
{
	char plain[32];
	size_t len, i, k = 0;

	snprintf(plain, sizeof(plain), "%zu", n);
	len = strlen(plain);
	for (i = 0; i < len && k + 2 < size; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			buf[k++] = ',';
		buf[k++] = plain[i];
	}
	buf[k] = '\0';
	return buf;
}

/* The command address the sentences name: ats+bulk[.<list>] or
 * ats+template.<code>, as the canonical form. */
static const char *
take_addr(const struct atsm_out_ctx *c, char *buf, size_t size)
{
	const struct atsm_command_set *cs = &c->p->commands;

	if (cs->bulk && cs->bulk_list[0] != '\0')
		return atsm_out_cmd_addr(c, buf, size, "bulk.%s", cs->bulk_list);
	if (cs->bulk)
		return atsm_out_cmd_addr(c, buf, size, "bulk");
	return atsm_out_cmd_addr(c, buf, size, "template.%s", cs->template_code);
}

static size_t
limit_of(const struct atsm_conf *conf)
{
	return conf->bulk_max_recipients != 0 ? conf->bulk_max_recipients : 5000;
}

/* The commands the bulk runner gives each mail: phase, jobs, share. */
static int
commands_json(struct atsm_out_ctx *c)
{
	const struct atsm_command_set *cs = &c->p->commands;
	json_t *o = json_object(), *jobs = json_array();
	char *s = NULL;
	size_t i;
	int bad = o == NULL || jobs == NULL;

	if (!bad && cs->has_phase)
		bad |= json_object_set_new(o, "phase", json_string(cs->phase));
	for (i = 0; !bad && i < cs->njobs; i++)
		bad |= json_array_append_new(jobs, json_integer((json_int_t)cs->jobs[i]));
	if (!bad && cs->njobs > 0) {
		bad |= json_object_set(o, "jobs", jobs);
	}
	if (!bad && cs->share != 0)
		bad |= json_object_set_new(o, "share", json_integer(cs->share));
	if (!bad)
		s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(jobs);
	json_decref(o);
	if (s == NULL)
		return atsm_out_nomem(c, "the commands of a bulk job");
	c->p->take.commands_json = atsm_arena_strdup(c->a, s);
	free(s);
	return c->p->take.commands_json != NULL ? 0 : atsm_out_nomem(c, "bulk commands");
}

int
atsm_out_take_check(const struct atsm_conf *conf, const struct atsm_out_plan *p, size_t n,
    size_t matched, struct atsm_refusal *r)
{
	const struct atsm_command_set *cs = &p->commands;
	const char *lp = conf->command_localpart != NULL && conf->command_localpart[0] != '\0' ?
	    conf->command_localpart : ATSM_COMMAND_LOCALPART_DEFAULT;
	char addr[ATSM_REFUSAL_ADDR_MAX], a0[32], a1[32];

	if (cs->bulk && cs->bulk_list[0] != '\0')
		snprintf(addr, sizeof(addr), "%s+bulk.%s@%s", lp, cs->bulk_list, conf->ats_domain);
	else if (cs->bulk)
		snprintf(addr, sizeof(addr), "%s+bulk@%s", lp, conf->ats_domain);
	else
		snprintf(addr, sizeof(addr), "%s+template.%s@%s", lp, cs->template_code,
		    conf->ats_domain);
	if (n == 0) {
		atsm_refusal_set(r, ATSM_REFUSAL_BULK_EMPTY, lp, conf->ats_domain, addr, NULL, NULL);
		return 1;
	}
	if (n > limit_of(conf)) {
		atsm_refusal_set(r, ATSM_REFUSAL_BULK_TOO_MANY, lp, conf->ats_domain, addr,
		    grouped(a0, sizeof(a0), n), grouped(a1, sizeof(a1), limit_of(conf)));
		return 1;
	}
	if (matched == 0) {
		atsm_refusal_set(r, ATSM_REFUSAL_BULK_NO_MATCH, lp, conf->ats_domain, addr,
		    grouped(a0, sizeof(a0), n), NULL);
		return 1;
	}
	return 0;
}

/* The distinct records the recipients name. */
static size_t
distinct_records(const struct atsm_out_take *t)
{
	size_t i, k, n = 0;

	for (i = 0; i < t->n_rcpts; i++) {
		bool seen = false;

		if (t->rcpts[i].kind == ATSM_RECORD_NONE)
			continue;
		for (k = 0; k < i && !seen; k++)
			seen = t->rcpts[k].kind == t->rcpts[i].kind &&
			    t->rcpts[k].id == t->rcpts[i].id;
		n += !seen;
	}
	return n;
}

int
atsm_out_decide_take(struct atsm_out_ctx *c, int *stop)
{
	struct atsm_out_plan *p = c->p;
	const struct atsm_command_set *cs = &p->commands;
	struct atsm_out_take *t = &p->take;
	struct atsm_refusal r;
	char addr[ATSM_REFUSAL_ADDR_MAX], num[32];
	size_t i, n;
	int rc;

	*stop = 0;
	for (i = 0; i < p->n_rcpts; i++) {
		if (!p->rcpts[i].is_command)
			continue;
		if ((rc = atsm_out_check_address(c, p->rcpts[i].addr, &r)) < 0)
			return -1;
		if (rc == 1 && (*stop = atsm_out_refuse_with(c, &r)) != 0)
			return 0;
	}
	if (c->cmd_failed) {
		atsm_out_fault_refusal(c, &c->cmd_fault, &r);
		if ((*stop = atsm_out_refuse_with(c, &r)) != 0)
			return 0;
	}
	take_addr(c, addr, sizeof(addr));
	if (c->f->bulk_marked) {
		*stop = atsm_out_refuse(c, ATSM_REFUSAL_BULK_LOOP, addr, NULL, NULL);
		return 0;
	}
	t->bulk = cs->bulk;
	snprintf(t->list, sizeof(t->list), "%s", cs->bulk_list);
	snprintf(t->template_code, sizeof(t->template_code), "%s",
	    cs->has_template ? cs->template_code : "");
	t->limit = limit_of(c->conf);
	if ((t->rcpts = atsm_arena_calloc(c->a, p->n_rcpts + 1, sizeof(*t->rcpts))) == NULL)
		return atsm_out_nomem(c, "the recipients of a bulk job");
	for (i = 0; i < p->n_rcpts; i++) {
		const struct atsm_out_rcpt *rc_ = &p->rcpts[i];
		struct atsm_out_take_rcpt *tr;

		if (rc_->is_command || !rc_->in_envelope)
			continue;
		tr = &t->rcpts[t->n_rcpts++];
		tr->addr = rc_->norm;
		/* a resume in the making (id 0) is no record a job can name yet */
		tr->kind = rc_->record_id != 0 ? rc_->record_kind : ATSM_RECORD_NONE;
		tr->id = rc_->record_id;
		t->n_matched += tr->kind != ATSM_RECORD_NONE;
	}
	/* a list or a CSV may bring the recipients: the milter checks then */
	if (!(cs->bulk && (cs->bulk_list[0] != '\0' || c->f->csv_attached)) &&
	    atsm_out_take_check(c->conf, p, t->n_rcpts, t->n_matched, &r) == 1) {
		*stop = atsm_out_refuse_with(c, &r);
		return 0;
	}
	if (!cs->bulk && (n = distinct_records(t)) > 1) {
		snprintf(num, sizeof(num), "%zu", n);
		*stop = atsm_out_refuse(c, ATSM_REFUSAL_TEMPLATE_SEVERAL, addr, num, NULL);
		return 0;
	}
	if (commands_json(c) < 0)
		return -1;
	p->verdict = ATSM_OUT_TAKE;
	return 0;
}
