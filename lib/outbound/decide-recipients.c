/* outbound/decide-recipients.c -- whom a sent mail goes to, which records
 * those addresses belong to, and who sends it: steps 1, 2 and 4 of the
 * outbound decision (docs/outbound.md).
 *
 * Recipients are To, Cc and the envelope; of a Bcc header that a client
 * left in the mail only the command addresses count.
 * Every recipient is counted once, normalised; past address_max_count the
 * mail is refused by the caller, because a guard that stops looking
 * half-way protects nothing.  Command addresses are set apart and parsed.
 * Every other address outside the company's domains is asked of the
 * directory; an address of several records links them all, each flagged
 * ambiguous, and a sentence about ambiguity names that address.  The
 * addresses are asked in byte order, so that the records (and the links)
 * come in the order the former single SQL statement gave them.
 *
 * The sender: an authenticated login decides alone (a non-recruiter who
 * writes a recruiter's address in MAIL FROM is not that recruiter);
 * without one, the envelope sender, then the first From address.  Mail
 * submitted on the server (sendmail(1)) is attributed by its envelope
 * sender alone: Postfix checked that one against the submitting login
 * (local_login_sender_maps), while From is any text the submitter wrote;
 * with non_smtp_senders = untrusted it is nobody's
 * (docs/postfix-integration.md).
 */
#include "outbound/decide-ctx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/addr.h"

#define FROM_ADDRS_MAX 16      /* addresses of From looked at: the first decides */

static struct atsm_out_rcpt *
find_rcpt(struct atsm_out_plan *p, const char *norm)
{
	size_t i;

	for (i = 0; i < p->n_rcpts; i++)
		if (strcmp(p->rcpts[i].norm, norm) == 0)
			return &p->rcpts[i];
	return NULL;
}

/* One recipient (a header address, or an envelope one when in_env).
 * Addresses that do not normalise are not examined: they cannot be a
 * record's address, nor be stored. */
static int
add_rcpt(struct atsm_out_ctx *c, const char *addr, enum atsm_out_rcpt_kind kind, bool in_env)
{
	struct atsm_out_plan *p = c->p;
	struct atsm_out_rcpt *r;
	char *norm;

	if (atsm_addr_normalize(addr, &norm, NULL) < 0)
		return 0;
	if ((r = find_rcpt(p, norm)) != NULL) {
		free(norm);
		if (in_env)
			r->in_envelope = true;
		return 0;
	}
	if (p->n_rcpts >= c->cap_rcpts) {
		free(norm);
		c->too_many_addrs = true;
		return 0;
	}
	r = &p->rcpts[p->n_rcpts];
	r->addr = atsm_arena_strdup(c->a, addr);
	r->norm = atsm_arena_strdup(c->a, norm);
	free(norm);
	if (r->addr == NULL || r->norm == NULL)
		return atsm_out_nomem(c, "recipients");
	r->kind = kind;
	r->in_envelope = in_env;
	r->is_command = atsm_command_is_address(addr, c->conf->command_localpart,
	    c->conf->ats_domain);
	r->record_kind = ATSM_RECORD_NONE;
	p->n_rcpts++;
	return 0;
}

/* The addresses of an address header; commands_only (a Bcc header): only
 * its command addresses, because the envelope, not that header, says who
 * gets the mail. */
static int
add_header(struct atsm_out_ctx *c, const char *value, enum atsm_out_rcpt_kind kind,
    bool commands_only)
{
	struct atsm_addr_list l;
	size_t i;
	int rc = 0;

	if (value == NULL)
		return 0;
	if (atsm_addr_parse_list(value, strlen(value), c->cap_rcpts, &l, NULL) < 0)
		c->too_many_addrs = true;
	for (i = 0; i < l.n && rc == 0; i++)
		if (l.v[i].domain != NULL && (!commands_only || atsm_command_is_address(l.v[i].addr,
		    c->conf->command_localpart, c->conf->ats_domain)))
			rc = add_rcpt(c, l.v[i].addr, kind, false);
	atsm_addr_list_free(&l);
	return rc;
}

/* Step 1: every recipient once; the commands parsed into p->commands.  The
 * first command error is kept: whether it rejects depends on the sender. */
int
atsm_out_decide_recipients(struct atsm_out_ctx *c)
{
	const struct atsm_out_facts *f = c->f;
	struct atsm_out_plan *p = c->p;
	struct atsm_command_fault fault;
	struct atsm_err e;
	size_t i;

	if ((p->rcpts = atsm_arena_calloc(c->a, c->cap_rcpts, sizeof(*p->rcpts))) == NULL)
		return atsm_out_nomem(c, "recipients");
	if (add_header(c, f->hdr_to, ATSM_OUT_TO, false) < 0 ||
	    add_header(c, f->hdr_cc, ATSM_OUT_CC, false) < 0 ||
	    add_header(c, f->hdr_bcc, ATSM_OUT_BCC, true) < 0)
		return -1;
	for (i = 0; i < f->n_env_rcpts; i++)
		if (f->env_rcpts[i] != NULL && add_rcpt(c, f->env_rcpts[i], ATSM_OUT_BCC, true) < 0)
			return -1;
	atsm_command_set_init(&p->commands);
	for (i = 0; i < p->n_rcpts; i++) {
		if (!p->rcpts[i].is_command)
			continue;
		/* any = a command address was seen, even one that failed */
		p->commands.any = true;
		if (atsm_command_add_fault(&p->commands, p->rcpts[i].addr,
		    c->conf->command_localpart, c->conf->ats_domain, &fault, &e) < 0 &&
		    !c->cmd_failed) {
			c->cmd_failed = true;
			c->cmd_fault = fault;
		}
	}
	return 0;
}

static bool
company_address(const struct atsm_out_ctx *c, const char *norm)
{
	const char *at = strrchr(norm, '@');

	return at != NULL && atsm_addr_domain_in(at + 1, c->conf->company_domains.v,
	    c->conf->company_domains.n);
}

static int
cmp_rcpt(const void *a, const void *b)
{
	const struct atsm_out_rcpt *const *x = a, *const *y = b;

	return strcmp((*x)->norm, (*y)->norm);
}

/* Step 2: the records of every candidate address.  Past ATSM_OUT_MAX_LINKS
 * records the set says truncated and the caller refuses the mail. */
int
atsm_out_decide_records(struct atsm_out_ctx *c)
{
	struct atsm_out_plan *p = c->p;
	struct atsm_out_rcpt **cand;
	struct atsm_dir_record *found;
	size_t i, k, n = 0, nf;

	if ((cand = atsm_arena_calloc(c->a, p->n_rcpts + 1, sizeof(*cand))) == NULL)
		return atsm_out_nomem(c, "candidate addresses");
	for (i = 0; i < p->n_rcpts; i++)
		if (!p->rcpts[i].is_command && !company_address(c, p->rcpts[i].norm))
			cand[n++] = &p->rcpts[i];
	if (n == 0)
		return 0;
	qsort(cand, n, sizeof(*cand), cmp_rcpt);
	if ((found = atsm_arena_calloc(c->a, ATSM_DIR_ADDR_RECORDS_MAX, sizeof(*found))) == NULL)
		return atsm_out_nomem(c, "records of an address");
	for (i = 0; i < n; i++) {
		struct atsm_out_rcpt *r = cand[i];

		if (c->dir->ops->records_by_addr(c->dir->ctx, r->norm, found,
		    ATSM_DIR_ADDR_RECORDS_MAX, &nf, &c->err) < 0)
			return atsm_out_dir_failed(c, "the records of %s", r->norm);
		if (nf == 0)
			continue;
		r->record_kind = found[0].kind;
		r->record_id = found[0].id;
		r->ambiguous = nf > 1;
		for (k = 0; k < nf; k++) {
			/* a resume of id 0 is the one r's intake mail is making */
			struct atsm_rec *rec = found[k].kind == ATSM_RECORD_RESUME ?
			    atsm_recset_add_resume(&c->recs, found[k].id,
			    found[k].id == 0 ? r->norm : NULL, "recipient_address", true) :
			    atsm_recset_add(&c->recs, found[k].kind, found[k].id,
			    "recipient_address", true);

			if (rec == NULL) {
				if (c->recs.truncated)
					break;
				return atsm_out_nomem(c, "records");
			}
			if (!rec->loaded)
				atsm_rec_load_record(rec, &found[k]);
			/* a record reached through an address of several records
			 * is ambiguous, and sentences name that address */
			if (rec->addr == NULL || nf > 1)
				rec->addr = r->norm;
			if (nf > 1)
				rec->ambiguous = true;
		}
		if (c->recs.truncated)
			break;
	}
	return 0;
}

static void
copy_user(struct atsm_out_ctx *c, const struct atsm_dir_user *u)
{
	struct atsm_out_plan *p = c->p;

	p->user_id = u->id;
	snprintf(p->user_login, sizeof(p->user_login), "%s", u->login);
	p->sharing_mode = u->sharing_mode;
	c->default_share = u->default_share;
	c->needs_approval = u->needs_approval;
}

/* Step 4: the SASL login (a user's login, else the user who has the
 * login's normalised address); without a login, the envelope sender, else
 * the first From address -- but only the envelope sender of a non-SMTP
 * submission, and none when those are untrusted.  Inactive users send
 * nobody's mail. */
int
atsm_out_decide_sender(struct atsm_out_ctx *c, bool *found)
{
	const struct atsm_out_facts *f = c->f;
	const struct atsm_dir *dir = c->dir;
	const char *login = f->login != NULL && f->login[0] != '\0' ? f->login : NULL;
	char *addrs[2] = { NULL, NULL };
	struct atsm_dir_user u;
	size_t i;
	int rc = 0, got;

	*found = false;
	if (login != NULL) {
		if ((got = dir->ops->user_by_login(dir->ctx, login, &u, &c->err)) < 0)
			return atsm_out_dir_failed(c, "the user of login %s", login);
		if (got == 1 && u.active) {
			copy_user(c, &u);
			*found = true;
			return 0;
		}
		(void)atsm_addr_normalize(login, &addrs[0], NULL);
	} else if (f->non_smtp) {
		if (c->conf->non_smtp_senders == ATSM_NON_SMTP_UNTRUSTED)
			return 0;
		if (f->env_from != NULL && f->env_from[0] != '\0')
			(void)atsm_addr_normalize(f->env_from, &addrs[0], NULL);
	} else {
		struct atsm_addr_list l;

		if (f->env_from != NULL && f->env_from[0] != '\0')
			(void)atsm_addr_normalize(f->env_from, &addrs[0], NULL);
		if (f->hdr_from != NULL) {
			(void)atsm_addr_parse_list(f->hdr_from, strlen(f->hdr_from), FROM_ADDRS_MAX,
			    &l, NULL);
			if (l.n > 0 && l.v[0].domain != NULL)
				(void)atsm_addr_normalize(l.v[0].addr, &addrs[1], NULL);
			atsm_addr_list_free(&l);
		}
	}
	for (i = 0; i < 2 && !*found; i++) {
		if (addrs[i] == NULL)
			continue;
		if ((got = dir->ops->user_by_addr(dir->ctx, addrs[i], &u, &c->err)) < 0) {
			rc = atsm_out_dir_failed(c, "the user of %s", addrs[i]);
			break;
		}
		if (got == 1 && u.active) {
			copy_user(c, &u);
			*found = true;
			if (login == NULL && f->non_smtp)
				atsm_out_note(c, "submitted on the server: attributed by its envelope "
				    "sender %s", addrs[i]);
		}
	}
	free(addrs[0]);
	free(addrs[1]);
	return rc;
}
