/* outbound/plan.c -- atsm_out_plan(): what to do with one sent mail.
 *
 * From the facts the milter saw, and a few indexed lookups, decide: pass
 * (not ATS mail, unknown sender), reject (bad command, guard), hold, or
 * record -- and everything the record and the milter need.  The order of
 * the decisions is that of docs/outbound.md:
 *
 *	1. recipients: To, Cc, envelope-only (= Bcc), normalised; command
 *	   addresses set apart and parsed (lib/rules/command.c)
 *	2. ONE lookup of every candidate address (company domains excluded)
 *	3. no candidate and no command: PASS (recording it would be a defect)
 *	4. sender -> user (login, else envelope sender, else From); none:
 *	   PASS, or REJECT when it used commands
 *	5. commands checked against the records (ids, phases, jobs)
 *	6. guard (lib/rules/guard.c), needs_approval
 *	7. visibility (lib/rules/policy.c), token, VERP stamp (lib/rules/verp.c)
 * REPLAY (the mail has left already) skips what LIVE would reject and says
 * so in notes; it never rejects or holds.  The statements are bounded by
 * the connection's statement_timeout (lib/store/db.c).
 */
#include "outbound/outbound.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/addr.h"
#include "mail/rfc2047.h"
#include "rules/policy.h"
#include "mail/msgid.h"
#include "rules/verp.h"
#include "store/sql-array.h"

#include "rules/guard.h"

#define SQL_ARRAY_MAX (1024u * 1024u)

/* A resume or contact the mail is linked to. */
struct rec {
	char kind[8];
	long long id;
	bool shared;
	bool ambiguous;         /* reached through an address of several records */
	bool named;             /* named by ats+resume / ats+contact */
	char phase[33];
	const char *addr;       /* an address that reached it (for sentences) */
};

struct plan_ctx {
	PGconn *conn;
	const struct atsm_conf *conf;
	const struct atsm_out_facts *f;
	enum atsm_out_mode mode;
	struct atsm_out_plan *p;
	struct atsm_err *err;
	size_t cap_rcpts;
	bool truncated;         /* more addresses than address_max_count */
	char cmd_error[ATSM_ERR_MAX];
	struct rec *recs;
	size_t nrecs, cap_recs;
	/* the sender */
	bool default_share, needs_approval;
};

const char *
atsm_out_verdict_name(enum atsm_out_verdict v)
{
	switch (v) {
	case ATSM_OUT_PASS: return "pass";
	case ATSM_OUT_RECORD: return "record";
	case ATSM_OUT_REJECT: return "reject";
	case ATSM_OUT_HOLD: return "hold";
	}
	return "?";
}

const char *
atsm_out_rcpt_kind_name(enum atsm_out_rcpt_kind k)
{
	switch (k) {
	case ATSM_OUT_TO: return "to";
	case ATSM_OUT_CC: return "cc";
	case ATSM_OUT_BCC: return "bcc";
	}
	return "?";
}

void
atsm_out_plan_free(struct atsm_out_plan *p)
{
	size_t i;

	for (i = 0; i < p->n_rcpts; i++) {
		free(p->rcpts[i].addr);
		free(p->rcpts[i].norm);
	}
	free(p->rcpts);
	for (i = 0; i < p->n_counterparts; i++)
		free(p->counterparts[i]);
	free(p->counterparts);
	free(p->links);
	free(p->phases);
	free(p->procs);
	free(p->subject);
	free(p->message_id);
	memset(p, 0, sizeof(*p));
}

/* ------------------------------------------------------------ verdicts */

static void set_text(char *dst, size_t size, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void
set_text(char *dst, size_t size, const char *fmt, va_list ap)
{
	vsnprintf(dst, size, fmt, ap);
}

static void note(struct plan_ctx *c, const char *fmt, ...) ATSM_PRINTF(2, 3);

/* LIVE: reject with the sentence (returns 1: stop deciding).  REPLAY: the
 * mail has left already; note the sentence and go on (returns 0). */
static int
refuse(struct plan_ctx *c, const char *fmt, ...) ATSM_PRINTF(2, 3);
static int
refuse(struct plan_ctx *c, const char *fmt, ...)
{
	struct atsm_out_plan *p = c->p;
	char line[sizeof(p->reply_text)];
	va_list ap;

	va_start(ap, fmt);
	set_text(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (c->mode == ATSM_OUT_LIVE) {
		p->verdict = ATSM_OUT_REJECT;
		snprintf(p->reply_text, sizeof(p->reply_text), "%s", line);
		return 1;
	}
	note(c, "skipped: %s", line);
	return 0;
}

static void
note(struct plan_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	atsm_str_vjoin(c->p->notes, sizeof(c->p->notes), "; ", fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------ database */

static PGresult *
query(struct plan_ctx *c, const char *sql, int n, const char *const *v)
{
	/* run for every mail: parsed and planned once per connection */
	return atsm_db_exec_prepared(c->conn, sql, n, v, c->err);
}

static bool
is_true(const PGresult *r, int row, int col)
{
	return strcmp(PQgetvalue(r, row, col), "t") == 0;
}

static void
copy_field(char *dst, size_t size, const PGresult *r, int row, int col)
{
	snprintf(dst, size, "%s", PQgetvalue(r, row, col));
}

static int
oom(struct plan_ctx *c, const char *what)
{
	return atsm_err_setc(c->err, ATSM_ERR_NOMEM, "outbound plan: out of memory (%s)",
	    what);
}

/* ---------------------------------------------------------- recipients */

static struct atsm_out_rcpt *
find_rcpt(struct atsm_out_plan *p, const char *norm)
{
	size_t i;

	for (i = 0; i < p->n_rcpts; i++)
		if (strcmp(p->rcpts[i].norm, norm) == 0)
			return &p->rcpts[i];
	return NULL;
}

/* Add one recipient (a header address, or an envelope one when in_env);
 * 0, or -1 on memory.  Addresses that do not normalise are not examined:
 * they cannot be a record's address, nor be stored. */
static int
add_rcpt(struct plan_ctx *c, const char *addr, enum atsm_out_rcpt_kind kind, bool in_env)
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
		c->truncated = true;
		return 0;
	}
	r = &p->rcpts[p->n_rcpts];
	memset(r, 0, sizeof(*r));
	if ((r->addr = strdup(addr)) == NULL) {
		free(norm);
		return oom(c, "recipient");
	}
	r->norm = norm;
	r->kind = kind;
	r->in_envelope = in_env;
	r->is_command = atsm_command_is_address(addr, c->conf->command_localpart,
	    c->conf->ats_domain);
	p->n_rcpts++;
	return 0;
}

static int
add_header(struct plan_ctx *c, const char *value, enum atsm_out_rcpt_kind kind)
{
	struct atsm_addr_list l;
	size_t i;
	int rc = 0;

	if (value == NULL)
		return 0;
	if (atsm_addr_parse_list(value, strlen(value), c->cap_rcpts, &l, NULL) < 0)
		c->truncated = true;
	for (i = 0; i < l.n && rc == 0; i++)
		if (l.v[i].domain != NULL)
			rc = add_rcpt(c, l.v[i].addr, kind, false);
	atsm_addr_list_free(&l);
	return rc;
}

/* Step 1: every recipient once; the commands parsed into p->commands.  The
 * first command error is kept: whether it rejects depends on the sender. */
static int
collect_recipients(struct plan_ctx *c)
{
	const struct atsm_out_facts *f = c->f;
	struct atsm_out_plan *p = c->p;
	struct atsm_err e;
	size_t i;

	c->cap_rcpts = c->conf->address_max_count ? c->conf->address_max_count : 1000;
	if ((p->rcpts = calloc(c->cap_rcpts, sizeof(*p->rcpts))) == NULL)
		return oom(c, "recipients");
	if (add_header(c, f->hdr_to, ATSM_OUT_TO) < 0 || add_header(c, f->hdr_cc, ATSM_OUT_CC) < 0)
		return -1;
	for (i = 0; i < f->n_env_rcpts; i++)
		if (add_rcpt(c, f->env_rcpts[i], ATSM_OUT_BCC, true) < 0)
			return -1;
	atsm_command_set_init(&p->commands);
	for (i = 0; i < p->n_rcpts; i++) {
		if (!p->rcpts[i].is_command)
			continue;
		/* any = a command address was seen, even one that failed */
		p->commands.any = true;
		if (atsm_command_add(&p->commands, p->rcpts[i].addr, c->conf->command_localpart,
		    c->conf->ats_domain, &e) < 0 && c->cmd_error[0] == '\0')
			snprintf(c->cmd_error, sizeof(c->cmd_error), "%s", e.msg);
	}
	return 0;
}

static bool
company_address(const struct plan_ctx *c, const char *norm)
{
	const char *at = strrchr(norm, '@');

	return at != NULL && atsm_addr_domain_in(at + 1, c->conf->company_domains.v,
	    c->conf->company_domains.n);
}

/* ------------------------------------------------------------- records */

static struct rec *
find_rec(struct plan_ctx *c, const char *kind, long long id)
{
	size_t i;

	for (i = 0; i < c->nrecs; i++)
		if (c->recs[i].id == id && strcmp(c->recs[i].kind, kind) == 0)
			return &c->recs[i];
	return NULL;
}

static struct rec *
add_rec(struct plan_ctx *c, const char *kind, long long id)
{
	struct rec *r;

	if ((r = find_rec(c, kind, id)) != NULL)
		return r;
	if (c->nrecs == c->cap_recs) {
		size_t ncap = c->cap_recs ? 2 * c->cap_recs : 16;

		if (ncap > ATSM_OUT_MAX_LINKS)
			ncap = ATSM_OUT_MAX_LINKS;
		if (c->nrecs == ncap)
			return NULL;
		if ((r = realloc(c->recs, ncap * sizeof(*r))) == NULL)
			return NULL;
		c->recs = r;
		c->cap_recs = ncap;
	}
	r = &c->recs[c->nrecs++];
	memset(r, 0, sizeof(*r));
	snprintf(r->kind, sizeof(r->kind), "%s", kind);
	r->id = id;
	return r;
}

/* Step 2: one statement for every candidate address of the mail. */
static int
lookup_recipients(struct plan_ctx *c)
{
	static const char sql[] =
	    "SELECT a.addr_norm, a.owner_kind, a.owner_id,"
	    " coalesce(r.shared, k.shared), coalesce(r.phase, k.phase)"
	    " FROM atsmail.addresses a"
	    " LEFT JOIN atsmail.resumes r ON a.owner_kind = 'resume' AND r.id = a.owner_id"
	    " LEFT JOIN atsmail.contacts k ON a.owner_kind = 'contact' AND k.id = a.owner_id"
	    " WHERE a.addr_norm = ANY($1::text[]) AND a.owner_kind IN ('resume', 'contact')"
	    " ORDER BY a.addr_norm, a.owner_kind DESC, a.owner_id";
	struct atsm_out_plan *p = c->p;
	struct atsm_buf arr;
	char **cand;
	const char *v[1];
	PGresult *res;
	size_t i, n = 0;
	int row, rc = 0;

	if ((cand = calloc(p->n_rcpts + 1, sizeof(char *))) == NULL)
		return oom(c, "candidates");
	for (i = 0; i < p->n_rcpts; i++)
		if (!p->rcpts[i].is_command && !company_address(c, p->rcpts[i].norm))
			cand[n++] = p->rcpts[i].norm;
	if (n == 0) {
		free(cand);
		return 0;
	}
	atsm_buf_init(&arr, SQL_ARRAY_MAX);
	if (atsm_out_sql_text_array(cand, n, &arr) < 0) {
		free(cand);
		atsm_buf_free(&arr);
		return oom(c, "address array");
	}
	free(cand);
	v[0] = atsm_buf_str(&arr);
	res = query(c, sql, 1, v);
	atsm_buf_free(&arr);
	if (res == NULL)
		return -1;
	for (row = 0; row < PQntuples(res); row++) {
		struct atsm_out_rcpt *rcpt = find_rcpt(p, PQgetvalue(res, row, 0));
		const char *kind = PQgetvalue(res, row, 1);
		long long id = strtoll(PQgetvalue(res, row, 2), NULL, 10);
		struct rec *r;

		if (rcpt == NULL)
			continue;
		if (rcpt->record_id == 0) {
			snprintf(rcpt->record_kind, sizeof(rcpt->record_kind), "%s", kind);
			rcpt->record_id = id;
		} else
			rcpt->ambiguous = true;
		if ((r = add_rec(c, kind, id)) == NULL) {
			if (c->nrecs >= ATSM_OUT_MAX_LINKS) {
				c->truncated = true;
				continue;
			}
			rc = oom(c, "records");
			break;
		}
		r->shared = is_true(res, row, 3);
		copy_field(r->phase, sizeof(r->phase), res, row, 4);
		if (r->addr == NULL)
			r->addr = rcpt->norm;
	}
	/* a record reached through an address of several records is
	 * ambiguous, and sentences name that address */
	for (row = 0; rc == 0 && row < PQntuples(res); row++) {
		struct atsm_out_rcpt *rcpt = find_rcpt(p, PQgetvalue(res, row, 0));
		struct rec *r;

		if (rcpt == NULL || !rcpt->ambiguous)
			continue;
		if ((r = find_rec(c, PQgetvalue(res, row, 1),
		    strtoll(PQgetvalue(res, row, 2), NULL, 10))) != NULL) {
			r->ambiguous = true;
			r->addr = rcpt->norm;
		}
	}
	PQclear(res);
	return rc;
}

/* ------------------------------------------------------------- sender */

/* Step 4: the SASL login (users.login or one of the user's addresses);
 * without a login, the envelope sender, else the From address. */
static int
lookup_sender(struct plan_ctx *c, bool *found)
{
	static const char sql[] =
	    "SELECT u.id, u.login, u.sharing_mode, u.default_share, u.needs_approval"
	    " FROM (SELECT id AS uid, 0::bigint AS prio FROM atsmail.users WHERE login = $1"
	    "       UNION ALL"
	    "       SELECT a.owner_id, c.prio FROM unnest($2::text[]) WITH ORDINALITY AS c(addr, prio)"
	    "       JOIN atsmail.addresses a ON a.owner_kind = 'user' AND a.addr_norm = c.addr) m"
	    " JOIN atsmail.users u ON u.id = m.uid AND u.active"
	    " ORDER BY m.prio LIMIT 1";
	const struct atsm_out_facts *f = c->f;
	struct atsm_out_plan *p = c->p;
	char *addrs[2] = { NULL, NULL };
	struct atsm_buf arr;
	const char *v[2];
	PGresult *res;
	int rc = 0;

	*found = false;
	if (f->login != NULL && f->login[0] != '\0') {
		/* an authenticated login decides alone: a non-recruiter who
		 * writes a recruiter's address in MAIL FROM is not that one */
		(void)atsm_addr_normalize(f->login, &addrs[0], NULL);
	} else {
		struct atsm_addr_list l;

		if (f->env_from != NULL && f->env_from[0] != '\0')
			(void)atsm_addr_normalize(f->env_from, &addrs[0], NULL);
		if (f->hdr_from != NULL) {
			(void)atsm_addr_parse_list(f->hdr_from, strlen(f->hdr_from), 16, &l, NULL);
			if (l.n > 0 && l.v[0].domain != NULL)
				(void)atsm_addr_normalize(l.v[0].addr, &addrs[1], NULL);
			atsm_addr_list_free(&l);
		}
	}
	atsm_buf_init(&arr, 4096);
	if (atsm_out_sql_text_array(addrs, 2, &arr) < 0) {
		rc = oom(c, "sender");
		goto out;
	}
	v[0] = f->login != NULL && f->login[0] != '\0' ? f->login : NULL;
	v[1] = atsm_buf_str(&arr);
	if ((res = query(c, sql, 2, v)) == NULL) {
		rc = -1;
		goto out;
	}
	if (PQntuples(res) == 1) {
		*found = true;
		p->user_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		copy_field(p->user_login, sizeof(p->user_login), res, 0, 1);
		copy_field(p->sharing_mode, sizeof(p->sharing_mode), res, 0, 2);
		c->default_share = is_true(res, 0, 3);
		c->needs_approval = is_true(res, 0, 4);
	}
	PQclear(res);
out:
	free(addrs[0]);
	free(addrs[1]);
	atsm_buf_free(&arr);
	return rc;
}

/* ------------------------------------------------------------ commands */

static const char *
lp(const struct plan_ctx *c)
{
	const char *l = c->conf->command_localpart;

	return l != NULL && l[0] != '\0' ? l : ATSM_COMMAND_LOCALPART_DEFAULT;
}

/* ats+resume.<id> / ats+contact.<id>: the records must exist. */
static int
check_named_records(struct plan_ctx *c, int *stop)
{
	static const char sql[] =
	    "SELECT 'resume', id, shared, phase FROM atsmail.resumes WHERE id = ANY($1::bigint[])"
	    " UNION ALL"
	    " SELECT 'contact', id, shared, phase FROM atsmail.contacts WHERE id = ANY($2::bigint[])";
	const struct atsm_command_set *cs = &c->p->commands;
	long long ids[2][ATSM_COMMAND_MAX_LINKS];
	struct atsm_buf a1, a2;
	const char *v[2];
	PGresult *res;
	size_t i, k;
	int row;

	if (cs->nresumes == 0 && cs->ncontacts == 0)
		return 0;
	for (i = 0; i < cs->nresumes; i++)
		ids[0][i] = (long long)cs->resumes[i];
	for (i = 0; i < cs->ncontacts; i++)
		ids[1][i] = (long long)cs->contacts[i];
	atsm_buf_init(&a1, 4096);
	atsm_buf_init(&a2, 4096);
	(void)atsm_out_sql_int_array(ids[0], cs->nresumes, &a1);
	(void)atsm_out_sql_int_array(ids[1], cs->ncontacts, &a2);
	v[0] = atsm_buf_str(&a1);
	v[1] = atsm_buf_str(&a2);
	res = query(c, sql, 2, v);
	atsm_buf_free(&a1);
	atsm_buf_free(&a2);
	if (res == NULL)
		return -1;
	for (k = 0; k < 2; k++) {
		const char *kind = k == 0 ? "resume" : "contact";
		size_t n = k == 0 ? cs->nresumes : cs->ncontacts;

		for (i = 0; i < n; i++) {
			struct rec *r = NULL;

			for (row = 0; row < PQntuples(res); row++)
				if (strcmp(PQgetvalue(res, row, 0), kind) == 0 &&
				    strtoll(PQgetvalue(res, row, 1), NULL, 10) == ids[k][i])
					break;
			if (row == PQntuples(res)) {
				if ((*stop = refuse(c, "%s+%s.%lld: %s %lld does not exist",
				    lp(c), kind, ids[k][i], kind, ids[k][i])) != 0)
					goto done;
				continue;
			}
			if ((r = add_rec(c, kind, ids[k][i])) == NULL) {
				PQclear(res);
				return oom(c, "records");
			}
			r->named = true;
			r->ambiguous = false;   /* named: the sender chose it */
			r->shared = is_true(res, row, 2);
			copy_field(r->phase, sizeof(r->phase), res, row, 3);
		}
	}
done:
	PQclear(res);
	return 0;
}

/* The records a phase or job command acts on: never an ambiguous one.  An
 * ambiguous link with no record named explicitly is refused: the sender
 * must say which record is meant. */
static int
check_ambiguity(struct plan_ctx *c, const char *cmd)
{
	size_t i, named = 0;

	for (i = 0; i < c->nrecs; i++)
		named += c->recs[i].named;
	if (named > 0)
		return 0;
	for (i = 0; i < c->nrecs; i++) {
		if (!c->recs[i].ambiguous)
			continue;
		return refuse(c, "%s+%s: the address %s belongs to several records; "
		    "name the one meant with %s+resume.<id> or %s+contact.<id>",
		    lp(c), cmd, c->recs[i].addr ? c->recs[i].addr : "?", lp(c), lp(c));
	}
	return 0;
}

static int
add_phase_change(struct plan_ctx *c, const char *kind, long long id, const char *from,
    const char *to)
{
	struct atsm_out_plan *p = c->p;
	struct atsm_out_phase_change *ch;

	if (p->phases == NULL &&
	    (p->phases = calloc(ATSM_OUT_MAX_PHASES < 64 ? ATSM_OUT_MAX_PHASES : 64,
	    sizeof(*p->phases))) == NULL)
		return oom(c, "phases");
	if (p->n_phases >= 64 && (p->n_phases & (p->n_phases - 1)) == 0) {
		void *np;

		if (p->n_phases * 2 > ATSM_OUT_MAX_PHASES) {
			c->truncated = true;
			return 0;
		}
		if ((np = realloc(p->phases, 2 * p->n_phases * sizeof(*p->phases))) == NULL)
			return oom(c, "phases");
		p->phases = np;
	}
	ch = &p->phases[p->n_phases++];
	memset(ch, 0, sizeof(*ch));
	snprintf(ch->kind, sizeof(ch->kind), "%s", kind);
	ch->record_id = id;
	snprintf(ch->from_phase, sizeof(ch->from_phase), "%s", from);
	snprintf(ch->to_phase, sizeof(ch->to_phase), "%s", to);
	return 0;
}

/* The kinds (resume, contact, process) that have the phase code. */
static int
phase_kinds(struct plan_ctx *c, const char *code, bool has[3])
{
	static const char sql[] =
	    "SELECT kind FROM atsmail.phases WHERE code = $1 AND active";
	const char *v[1] = { code };
	PGresult *res;
	int row;

	has[0] = has[1] = has[2] = false;
	if ((res = query(c, sql, 1, v)) == NULL)
		return -1;
	for (row = 0; row < PQntuples(res); row++) {
		const char *k = PQgetvalue(res, row, 0);

		has[0] |= strcmp(k, "resume") == 0;
		has[1] |= strcmp(k, "contact") == 0;
		has[2] |= strcmp(k, "process") == 0;
	}
	PQclear(res);
	return 0;
}

/* ats+phase.<code> without jobs: the phase of the linked resumes and
 * contacts whose kind has that phase. */
static int
plan_record_phases(struct plan_ctx *c, int *stop)
{
	const char *code = c->p->commands.phase;
	bool has[3];
	size_t i, targets = 0, applied = 0;

	if ((*stop = check_ambiguity(c, "phase")) != 0)
		return 0;
	if (phase_kinds(c, code, has) < 0)
		return -1;
	for (i = 0; i < c->nrecs; i++) {
		struct rec *r = &c->recs[i];
		bool kind_has = strcmp(r->kind, "resume") == 0 ? has[0] : has[1];

		if (r->ambiguous)
			continue;
		targets++;
		if (!kind_has)
			continue;
		applied++;
		if (strcmp(r->phase, code) != 0 &&
		    add_phase_change(c, r->kind, r->id, r->phase, code) < 0)
			return -1;
	}
	if (targets == 0)
		*stop = refuse(c, "%s+phase.%s: the mail is linked to no resume or contact "
		    "whose phase could be set", lp(c), code);
	else if (applied == 0)
		*stop = refuse(c, "%s+phase.%s: there is no resume or contact phase \"%s\"",
		    lp(c), code, code);
	return 0;
}

/* ats+job: the jobs must exist; one process per linked resume and job. */
static int
plan_jobs(struct plan_ctx *c, int *stop)
{
	static const char q_jobs[] = "SELECT id FROM atsmail.jobs WHERE id = ANY($1::bigint[])";
	static const char q_procs[] =
	    "SELECT id, resume_id, job_id, phase FROM atsmail.processes"
	    " WHERE resume_id = ANY($1::bigint[]) AND job_id = ANY($2::bigint[])";
	static const char q_first[] =
	    "SELECT code FROM atsmail.phases WHERE kind = 'process' AND active"
	    " ORDER BY sort_order, code LIMIT 1";
	struct atsm_out_plan *p = c->p;
	const struct atsm_command_set *cs = &p->commands;
	long long jobs[ATSM_COMMAND_MAX_JOBS], *resumes = NULL;
	size_t nres = 0, i, k;
	struct atsm_buf a1, a2;
	char first[33] = "";
	const char *v[2];
	PGresult *res = NULL;
	int row, rc = -1;

	atsm_buf_init(&a1, 4096);
	atsm_buf_init(&a2, SQL_ARRAY_MAX);
	for (i = 0; i < cs->njobs; i++)
		jobs[i] = (long long)cs->jobs[i];
	(void)atsm_out_sql_int_array(jobs, cs->njobs, &a1);
	v[0] = atsm_buf_str(&a1);
	if ((res = query(c, q_jobs, 1, v)) == NULL)
		goto out;
	for (i = 0; i < cs->njobs; i++) {
		for (row = 0; row < PQntuples(res); row++)
			if (strtoll(PQgetvalue(res, row, 0), NULL, 10) == jobs[i])
				break;
		if (row < PQntuples(res)) {
			p->jobs[p->n_jobs++] = jobs[i];
			continue;
		}
		if ((*stop = refuse(c, "%s+job.%lld: job %lld does not exist",
		    lp(c), jobs[i], jobs[i])) != 0) {
			rc = 0;
			goto out;
		}
	}
	PQclear(res);
	res = NULL;
	if (cs->has_phase) {
		bool has[3];

		if (phase_kinds(c, cs->phase, has) < 0)
			goto out;
		if (!has[2] && (*stop = refuse(c, "%s+phase.%s: there is no selection-process "
		    "phase \"%s\" (the phase of ats+job is the process's)", lp(c), cs->phase,
		    cs->phase)) != 0) {
			rc = 0;
			goto out;
		}
		if (has[2])
			snprintf(first, sizeof(first), "%s", cs->phase);
	}
	if ((*stop = check_ambiguity(c, "job")) != 0) {
		rc = 0;
		goto out;
	}
	if ((resumes = calloc(c->nrecs + 1, sizeof(long long))) == NULL) {
		rc = oom(c, "processes");
		goto out;
	}
	for (i = 0; i < c->nrecs; i++)
		if (strcmp(c->recs[i].kind, "resume") == 0 && !c->recs[i].ambiguous)
			resumes[nres++] = c->recs[i].id;
	if (p->n_jobs == 0) {
		rc = 0;
		goto out;
	}
	if (nres == 0) {
		*stop = refuse(c, "%s+job.%lld: the mail is linked to no candidate, and a "
		    "selection process needs one: put the candidate in To, Cc or Bcc, or add "
		    "%s+resume.<id>", lp(c), p->jobs[0], lp(c));
		rc = 0;
		goto out;
	}
	if (nres * p->n_jobs > ATSM_OUT_MAX_PROCESSES) {
		*stop = refuse(c, "%s+job: %zu candidates x %zu jobs would make %zu selection "
		    "processes; at most %d per mail", lp(c), nres, p->n_jobs, nres * p->n_jobs,
		    ATSM_OUT_MAX_PROCESSES);
		rc = 0;
		goto out;
	}
	if (first[0] == '\0') {
		if ((res = query(c, q_first, 0, NULL)) == NULL)
			goto out;
		if (PQntuples(res) == 1)
			copy_field(first, sizeof(first), res, 0, 0);
		PQclear(res);
		res = NULL;
		if (first[0] == '\0') {
			atsm_err_set(c->err, "outbound plan: no active selection-process phase "
			    "is configured (atsmail.phases kind 'process')");
			goto out;
		}
	}
	(void)atsm_out_sql_int_array(resumes, nres, &a2);
	v[0] = atsm_buf_str(&a2);
	v[1] = atsm_buf_str(&a1);
	if ((res = query(c, q_procs, 2, v)) == NULL)
		goto out;
	if ((p->procs = calloc(nres * p->n_jobs, sizeof(*p->procs))) == NULL) {
		rc = oom(c, "processes");
		goto out;
	}
	for (i = 0; i < nres; i++)
		for (k = 0; k < p->n_jobs; k++) {
			struct atsm_out_process *pr = &p->procs[p->n_procs++];

			pr->resume_id = resumes[i];
			pr->job_id = p->jobs[k];
			for (row = 0; row < PQntuples(res); row++)
				if (strtoll(PQgetvalue(res, row, 1), NULL, 10) == pr->resume_id &&
				    strtoll(PQgetvalue(res, row, 2), NULL, 10) == pr->job_id)
					break;
			if (row == PQntuples(res)) {
				snprintf(pr->to_phase, sizeof(pr->to_phase), "%s", first);
				continue;
			}
			pr->process_id = strtoll(PQgetvalue(res, row, 0), NULL, 10);
			copy_field(pr->from_phase, sizeof(pr->from_phase), res, row, 3);
			/* an existing process moves only when a phase is named */
			if (cs->has_phase && strcmp(pr->from_phase, first) != 0) {
				snprintf(pr->to_phase, sizeof(pr->to_phase), "%s", first);
				if (add_phase_change(c, "process", pr->process_id,
				    pr->from_phase, first) < 0)
					goto out;
			}
		}
	rc = 0;
out:
	PQclear(res);
	free(resumes);
	atsm_buf_free(&a1);
	atsm_buf_free(&a2);
	return rc;
}

/* Step 5. */
static int
plan_commands(struct plan_ctx *c, int *stop)
{
	const struct atsm_command_set *cs = &c->p->commands;

	*stop = 0;
	if (c->cmd_error[0] != '\0' && (*stop = refuse(c, "%s", c->cmd_error)) != 0)
		return 0;
	if (check_named_records(c, stop) < 0 || *stop)
		return *stop ? 0 : -1;
	if (cs->njobs > 0)
		return plan_jobs(c, stop);
	if (cs->has_phase)
		return plan_record_phases(c, stop);
	return 0;
}

/* --------------------------------------------------- guard and policy */

/* Step 6: two candidates shown to each other in To/Cc. */
static int
apply_guard(struct plan_ctx *c)
{
	struct atsm_out_plan *p = c->p;
	struct atsm_guard_recipient *g;
	struct atsm_buf sentence;
	size_t i, n = 0;
	enum atsm_guard_verdict gv;

	if ((g = calloc(p->n_rcpts + 1, sizeof(*g))) == NULL)
		return oom(c, "guard");
	for (i = 0; i < p->n_rcpts; i++) {
		const struct atsm_out_rcpt *r = &p->rcpts[i];

		if (r->is_command)
			continue;
		g[n].addr = r->norm;
		g[n].header = r->kind == ATSM_OUT_TO ? ATSM_HEADER_TO :
		    r->kind == ATSM_OUT_CC ? ATSM_HEADER_CC : ATSM_HEADER_BCC;
		g[n].record = strcmp(r->record_kind, "resume") == 0 ? ATSM_RECORD_RESUME :
		    strcmp(r->record_kind, "contact") == 0 ? ATSM_RECORD_CONTACT : ATSM_RECORD_NONE;
		g[n].record_id = (unsigned long long)r->record_id;
		n++;
	}
	atsm_buf_init(&sentence, sizeof(p->reply_text));
	gv = atsm_guard_check(g, n, &p->n_candidates, &sentence);
	free(g);
	if (gv == ATSM_GUARD_VIOLATION && c->mode == ATSM_OUT_LIVE) {
		switch ((enum atsm_guard_action)c->conf->guard_action) {
		case ATSM_GUARD_REJECT:
			p->verdict = ATSM_OUT_REJECT;
			break;
		case ATSM_GUARD_HOLD:
			p->verdict = ATSM_OUT_HOLD;
			break;
		case ATSM_GUARD_ALLOW:
			note(c, "guard allowed: %s", atsm_buf_str(&sentence));
			break;
		}
		if (p->verdict != ATSM_OUT_RECORD)
			snprintf(p->reply_text, sizeof(p->reply_text), "%s", atsm_buf_str(&sentence));
	}
	atsm_buf_free(&sentence);
	return 0;
}

/* The excluded domains among the counterparts' domains and their parents:
 * one indexed statement however long the table of exclusions is. */
static int
excluded_domains(struct plan_ctx *c, char ***out, size_t *nout)
{
	static const char sql[] =
	    "SELECT domain FROM atsmail.exclusion_domains WHERE domain = ANY($1::text[])";
	struct atsm_out_plan *p = c->p;
	struct atsm_buf arr;
	char **v = NULL;
	const char *pv[1];
	PGresult *res;
	size_t i;
	int row, rc = 0;

	*out = NULL;
	*nout = 0;
	atsm_buf_init(&arr, SQL_ARRAY_MAX);
	atsm_buf_putc(&arr, '{');
	for (i = 0; i < p->n_counterparts; i++) {
		const char *d = strrchr(p->counterparts[i], '@');

		/* x.y.example -> x.y.example, y.example, example */
		for (d = d ? d + 1 : NULL; d != NULL && *d != '\0';) {
			char *one[1] = { (char *)d };
			struct atsm_buf el;

			atsm_buf_init(&el, 1024);
			if (atsm_out_sql_text_array(one, 1, &el) == 0 && el.len > 2) {
				if (arr.len > 1)
					atsm_buf_putc(&arr, ',');
				atsm_buf_append(&arr, el.data + 1, el.len - 2);
			}
			atsm_buf_free(&el);
			d = strchr(d, '.');
			if (d != NULL)
				d++;
		}
	}
	if (atsm_buf_putc(&arr, '}') < 0) {
		atsm_buf_free(&arr);
		return oom(c, "domains");
	}
	pv[0] = atsm_buf_str(&arr);
	res = query(c, sql, 1, pv);
	atsm_buf_free(&arr);
	if (res == NULL)
		return -1;
	if (PQntuples(res) > 0 &&
	    (v = calloc((size_t)PQntuples(res), sizeof(char *))) == NULL)
		rc = oom(c, "domains");
	for (row = 0; rc == 0 && row < PQntuples(res); row++) {
		if ((v[row] = strdup(PQgetvalue(res, row, 0))) == NULL) {
			rc = oom(c, "domains");
			break;
		}
		(*nout)++;
	}
	PQclear(res);
	*out = v;
	return rc;
}

/* Step 7: visibility and its reason. */
static int
apply_policy(struct plan_ctx *c)
{
	struct atsm_out_plan *p = c->p;
	struct atsm_policy_input in;
	struct atsm_policy_record *recs;
	struct atsm_buf reason;
	char **excl = NULL;
	size_t i, nexcl = 0;
	enum atsm_visibility vis;

	memset(&in, 0, sizeof(in));
	if (atsm_sharing_mode_from_name(p->sharing_mode, &in.mode, NULL) < 0)
		in.mode = (enum atsm_sharing_mode)-1;   /* policy fails closed: private */
	if ((recs = calloc(c->nrecs + 1, sizeof(*recs))) == NULL)
		return oom(c, "policy");
	for (i = 0; i < c->nrecs; i++) {
		recs[i].kind = strcmp(c->recs[i].kind, "resume") == 0 ? ATSM_RECORD_RESUME :
		    ATSM_RECORD_CONTACT;
		recs[i].id = (unsigned long long)c->recs[i].id;
		recs[i].shared = c->recs[i].shared;
	}
	if (excluded_domains(c, &excl, &nexcl) < 0) {
		free(recs);
		return -1;
	}
	in.default_share = c->default_share;
	in.records = recs;
	in.nrecords = c->nrecs;
	in.command_share = p->commands.share;
	in.counterparts = p->counterparts;
	in.ncounterparts = p->n_counterparts;
	in.excluded_domains = excl;
	in.nexcluded = nexcl;
	atsm_buf_init(&reason, sizeof(p->visibility_reason) - 1);
	vis = atsm_policy_visibility(&in, &reason);
	snprintf(p->visibility, sizeof(p->visibility), "%s", atsm_visibility_name(vis));
	snprintf(p->visibility_reason, sizeof(p->visibility_reason), "%s", atsm_buf_str(&reason));
	atsm_buf_free(&reason);
	for (i = 0; i < nexcl; i++)
		free(excl[i]);
	free(excl);
	free(recs);
	return 0;
}

/* ----------------------------------------------------------- the plan */

static int
make_links(struct plan_ctx *c)
{
	struct atsm_out_plan *p = c->p;
	size_t i, n = c->nrecs + p->n_jobs + p->n_procs;

	if ((p->links = calloc(n + 1, sizeof(*p->links))) == NULL)
		return oom(c, "links");
	for (i = 0; i < c->nrecs; i++) {
		struct atsm_out_link *l = &p->links[p->n_links++];

		snprintf(l->kind, sizeof(l->kind), "%s", c->recs[i].kind);
		l->id = c->recs[i].id;
		snprintf(l->rule, sizeof(l->rule), "%s",
		    c->recs[i].named ? "command" : "recipient_address");
		l->ambiguous = c->recs[i].ambiguous;
	}
	for (i = 0; i < p->n_jobs; i++) {
		struct atsm_out_link *l = &p->links[p->n_links++];

		snprintf(l->kind, sizeof(l->kind), "job");
		l->id = p->jobs[i];
		snprintf(l->rule, sizeof(l->rule), "command");
	}
	/* processes still to be created are linked by atsm_out_record() */
	for (i = 0; i < p->n_procs; i++) {
		struct atsm_out_link *l;

		if (p->procs[i].process_id == 0)
			continue;
		l = &p->links[p->n_links++];
		snprintf(l->kind, sizeof(l->kind), "process");
		l->id = p->procs[i].process_id;
		snprintf(l->rule, sizeof(l->rule), "command");
	}
	return 0;
}

static int
make_counterparts(struct plan_ctx *c)
{
	struct atsm_out_plan *p = c->p;
	size_t i;

	if ((p->counterparts = calloc(p->n_rcpts + 1, sizeof(char *))) == NULL)
		return oom(c, "counterparts");
	for (i = 0; i < p->n_rcpts; i++) {
		if (p->rcpts[i].is_command)
			continue;
		if ((p->counterparts[p->n_counterparts] = strdup(p->rcpts[i].norm)) == NULL)
			return oom(c, "counterparts");
		p->n_counterparts++;
	}
	return 0;
}

/* Subject in UTF-8; Message-ID without its angle brackets. */
static int
decode_headers(struct plan_ctx *c)
{
	const struct atsm_out_facts *f = c->f;
	struct atsm_out_plan *p = c->p;

	if (f->hdr_subject != NULL &&
	    (p->subject = atsm_rfc2047_decode_dup(f->hdr_subject, c->conf->decode_max_bytes)) == NULL)
		return oom(c, "subject");
	if (atsm_msgid_bare(f->hdr_message_id, &p->message_id) < 0)
		return oom(c, "message-id");
	return 0;
}

/* X-ATS-Ref token and the VERP stamp (LIVE, RECORD or HOLD only). */
static void
make_stamps(struct plan_ctx *c, const struct atsm_token_keys *keys)
{
	const struct atsm_out_facts *f = c->f;
	struct atsm_out_plan *p = c->p;
	unsigned char id[ATSM_TOKEN_ID_LEN];
	struct atsm_buf b;
	struct atsm_err e;

	if (f->token[0] != '\0')
		snprintf(p->token, sizeof(p->token), "%s", f->token);
	else if (c->mode == ATSM_OUT_LIVE && keys != NULL && keys->n > 0 &&
	    atsm_token_new_id(id, NULL) == 0)
		(void)atsm_token_make(keys, id, p->token);
	if (c->mode != ATSM_OUT_LIVE || !c->conf->verp || p->token[0] == '\0' ||
	    f->env_from == NULL || f->env_from[0] == '\0')
		return;
	atsm_buf_init(&b, sizeof(p->verp_sender) - 1);
	if (atsm_verp_make(f->env_from, c->conf->recipient_delimiter != NULL ?
	    c->conf->recipient_delimiter[0] : '\0', c->conf->verp_tag, p->token, &b, &e) == 0)
		snprintf(p->verp_sender, sizeof(p->verp_sender), "%s", atsm_buf_str(&b));
	else
		note(c, "no VERP stamp: %s", e.msg);
	atsm_buf_free(&b);
}

static int
decide(struct plan_ctx *c, const struct atsm_token_keys *keys)
{
	struct atsm_out_plan *p = c->p;
	bool found;
	int stop;

	if (decode_headers(c) < 0 || collect_recipients(c) < 0)
		return -1;
	if (c->truncated && refuse(c, "this mail has more than %u recipient addresses "
	    "(address_max_count); send it in parts", c->conf->address_max_count))
		return 0;
	if (lookup_recipients(c) < 0)
		return -1;
	if (c->nrecs == 0 && !p->commands.any)
		return 0;                         /* not ATS mail: PASS */
	if (lookup_sender(c, &found) < 0)
		return -1;
	if (!found) {
		if (!p->commands.any)
			return 0;                 /* nobody's sent mail: PASS */
		(void)refuse(c, "%s+ commands are only for recruiters: %s is not a "
		    "registered user", lp(c), c->f->login && c->f->login[0] ? c->f->login :
		    c->f->env_from && c->f->env_from[0] ? c->f->env_from : "the sender");
		return 0;
	}
	if (plan_commands(c, &stop) < 0)
		return -1;
	if (stop)
		return 0;
	if (c->nrecs == 0 && p->n_jobs == 0) {
		/* only commands that name nothing (ats+private alone, or all
		 * skipped in REPLAY): nothing to file it on */
		if (refuse(c, "%s+ commands given, but the mail is linked to no resume or "
		    "contact: add the record's address or %s+resume.<id>", lp(c), lp(c)) ||
		    c->mode == ATSM_OUT_REPLAY)
			return 0;
	}
	p->verdict = ATSM_OUT_RECORD;
	if (make_counterparts(c) < 0 || make_links(c) < 0)
		return -1;
	if (apply_guard(c) < 0)
		return -1;
	if (p->verdict == ATSM_OUT_REJECT)
		return 0;
	if (c->needs_approval && c->mode == ATSM_OUT_LIVE && p->verdict == ATSM_OUT_RECORD) {
		p->verdict = ATSM_OUT_HOLD;
		snprintf(p->reply_text, sizeof(p->reply_text), "mail from %s waits for "
		    "approval (the user needs approval before mail to candidates leaves)",
		    p->user_login);
	}
	if (apply_policy(c) < 0)
		return -1;
	make_stamps(c, keys);
	return 0;
}

int
atsm_out_plan(PGconn *conn, const struct atsm_conf *conf, const struct atsm_token_keys *keys,
    const struct atsm_out_facts *f, enum atsm_out_mode mode, struct atsm_out_plan *p,
    struct atsm_err *err)
{
	struct plan_ctx c;
	int rc;

	memset(p, 0, sizeof(*p));
	p->verdict = ATSM_OUT_PASS;
	memset(&c, 0, sizeof(c));
	c.conn = conn;
	c.conf = conf;
	c.f = f;
	c.mode = mode;
	c.p = p;
	c.err = err;
	rc = decide(&c, keys);
	free(c.recs);
	if (rc < 0) {
		/* a failed plan decides nothing: the caller's failure policy does */
		p->verdict = ATSM_OUT_PASS;
		return -1;
	}
	if (p->verdict == ATSM_OUT_PASS || p->verdict == ATSM_OUT_REJECT) {
		/* nothing to record: links and processes are not the caller's */
		p->n_links = p->n_phases = p->n_procs = p->n_jobs = 0;
		p->visibility[0] = '\0';
	}
	return 0;
}
