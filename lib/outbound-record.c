/* outbound-record.c -- atsm_out_record(): one sent ATS mail into the
 * database, in one transaction (READ COMMITTED, as the audit chain wants):
 *
 *	journal_applied key (exactly once) -> messages (Message-ID kept as
 *	sent, thread found through In-Reply-To / References) -> recipients
 *	(to, cc, bcc; command addresses never) -> selection processes of
 *	ats+job -> phase changes with their phase_history rows (cause
 *	mail_sent, actor the sender) -> links with their rule -> outbox
 *	events (message.sent, phase.changed) -> one audit entry.
 *
 * Either all of it is recorded or nothing.  A second call with the same
 * idempotency key, or for a Message-ID already recorded as sent, records
 * nothing and returns 1.  Only the privileges of atsmail_writer are used.
 * Phases are re-read under a row lock: the plan's view may be old (replay).
 */
#include "atsm-outbound.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outbound-int.h"

#define REFS_MAX 50            /* Message-IDs of References looked at */
#define ARRAY_MAX (4u * 1024u * 1024u)

struct rec_ctx {
	PGconn *conn;
	const struct atsm_out_facts *f;
	const struct atsm_out_plan *p;
	enum atsm_db_status *status;
	struct atsm_err *err;
	char msg_id[24];        /* messages.id as text */
	char user_id[24];
	json_t *events;         /* phase.changed payloads */
	/* links of processes made here */
	long long *new_procs;
	size_t n_new_procs;
	unsigned created;
};

static PGresult *
exec(struct rec_ctx *c, const char *sql, int n, const char *const *v)
{
	return atsm_db_exec(c->conn, sql, n, v, c->status, c->err);
}

static int
command(struct rec_ctx *c, const char *sql, int n, const char *const *v)
{
	return atsm_db_command(c->conn, sql, n, v, c->status, c->err);
}

static int
fail(struct rec_ctx *c, const char *what)
{
	*c->status = ATSM_DB_ERROR;
	return atsm_err_set(c->err, "outbound record: %s", what);
}

/* Every <id> of a References / In-Reply-To value, without brackets. */
static void
collect_ids(const char *v, char **out, size_t *n, size_t max)
{
	const char *s, *e;

	for (s = v; s != NULL && *n < max && (s = strchr(s, '<')) != NULL; s = e + 1) {
		if ((e = strchr(s + 1, '>')) == NULL)
			break;
		if (e > s + 1 && e - s - 1 <= 998)
			out[(*n)++] = strndup(s + 1, (size_t)(e - s - 1));
	}
}

static int
insert_message(struct rec_ctx *c, bool *dup)
{
	static const char sql[] =
	    "INSERT INTO atsmail.messages (direction, rfc_message_id, thread_id, thread_root,"
	    " owner_id, counterparts, subject, sent_at, size, body_sha256, token, visibility,"
	    " visibility_reason, idempotency_key)"
	    " VALUES ('out', $1, (SELECT coalesce(m.thread_id, m.id) FROM atsmail.messages m"
	    "   WHERE m.rfc_message_id = ANY($2::text[]) ORDER BY m.id LIMIT 1),"
	    " $3, $4, $5::text[], $6,"
	    " CASE WHEN $7::bigint > 0 THEN to_timestamp($7::bigint) ELSE now() END,"
	    " $8::bigint, decode(nullif($9, ''), 'hex'), nullif($10, ''), $11, $12, $13)"
	    " ON CONFLICT DO NOTHING RETURNING id";
	const struct atsm_out_facts *f = c->f;
	const struct atsm_out_plan *p = c->p;
	char *refs[REFS_MAX + 1];
	size_t nrefs = 0, i;
	struct atsm_buf arefs, acp;
	char sent[24], size[24];
	const char *v[13];
	PGresult *r;
	int rc = -1;

	/* References first: its first id is the root of the thread */
	collect_ids(f->hdr_references, refs, &nrefs, REFS_MAX);
	collect_ids(f->hdr_in_reply_to, refs, &nrefs, REFS_MAX);
	atsm_buf_init(&arefs, ARRAY_MAX);
	atsm_buf_init(&acp, ARRAY_MAX);
	if (atsm_out_sql_text_array(refs, nrefs, &arefs) < 0 ||
	    atsm_out_sql_text_array(p->counterparts, p->n_counterparts, &acp) < 0) {
		fail(c, "arrays too long");
		goto out;
	}
	snprintf(sent, sizeof(sent), "%lld", f->submitted_at);
	snprintf(size, sizeof(size), "%zu", f->body_size);
	v[0] = p->message_id;
	v[1] = atsm_buf_str(&arefs);
	v[2] = nrefs > 0 ? refs[0] : NULL;
	v[3] = c->user_id;
	v[4] = atsm_buf_str(&acp);
	v[5] = p->subject;
	v[6] = sent;
	v[7] = size;
	v[8] = f->body_sha256;
	v[9] = p->token;
	v[10] = p->visibility;
	v[11] = p->visibility_reason;
	v[12] = f->idem_key;
	if ((r = exec(c, sql, 13, v)) == NULL)
		goto out;
	*dup = PQntuples(r) == 0;
	if (!*dup)
		snprintf(c->msg_id, sizeof(c->msg_id), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	rc = 0;
out:
	for (i = 0; i < nrefs; i++)
		free(refs[i]);
	atsm_buf_free(&arefs);
	atsm_buf_free(&acp);
	return rc;
}

static int
insert_recipients(struct rec_ctx *c)
{
	static const char sql[] =
	    "INSERT INTO atsmail.message_recipients (message_id, address, kind)"
	    " SELECT $1::bigint, a, k FROM unnest($2::text[], $3::text[]) AS t(a, k)"
	    " ON CONFLICT DO NOTHING";
	const struct atsm_out_plan *p = c->p;
	char **addrs, **kinds;
	struct atsm_buf a1, a2;
	const char *v[3];
	size_t i, n = 0;
	int rc = -1;

	addrs = calloc(p->n_rcpts + 1, sizeof(char *));
	kinds = calloc(p->n_rcpts + 1, sizeof(char *));
	atsm_buf_init(&a1, ARRAY_MAX);
	atsm_buf_init(&a2, ARRAY_MAX);
	if (addrs == NULL || kinds == NULL) {
		fail(c, "out of memory (recipients)");
		goto out;
	}
	for (i = 0; i < p->n_rcpts; i++) {
		if (p->rcpts[i].is_command)
			continue;
		addrs[n] = p->rcpts[i].norm;
		kinds[n++] = (char *)atsm_out_rcpt_kind_name(p->rcpts[i].kind);
	}
	if (n == 0) {
		rc = 0;
		goto out;
	}
	if (atsm_out_sql_text_array(addrs, n, &a1) < 0 || atsm_out_sql_text_array(kinds, n, &a2) < 0) {
		fail(c, "recipients too long");
		goto out;
	}
	v[0] = c->msg_id;
	v[1] = atsm_buf_str(&a1);
	v[2] = atsm_buf_str(&a2);
	rc = command(c, sql, 3, v);
out:
	free(addrs);
	free(kinds);
	atsm_buf_free(&a1);
	atsm_buf_free(&a2);
	return rc;
}

/* The history row (its trigger writes the audit entry) and the event. */
static int
history(struct rec_ctx *c, const char *kind, const char *id, const char *from, const char *to)
{
	static const char sql[] =
	    "INSERT INTO atsmail.phase_history (kind, record_id, from_phase, to_phase, cause,"
	    " actor_id, message_id) VALUES ($1, $2::bigint, $3, $4, 'mail_sent', $5::bigint,"
	    " $6::bigint)";
	const char *v[6] = { kind, id, from, to, c->user_id, c->msg_id };
	json_t *ev;

	if (command(c, sql, 6, v) < 0)
		return -1;
	ev = json_pack("{s:s, s:I, s:s?, s:s, s:s, s:I, s:I}", "kind", kind,
	    "record_id", (json_int_t)strtoll(id, NULL, 10), "from", from, "to", to,
	    "cause", "mail_sent", "message_id", (json_int_t)strtoll(c->msg_id, NULL, 10),
	    "actor_id", (json_int_t)c->p->user_id);
	if (ev == NULL || json_array_append_new(c->events, ev) < 0)
		return fail(c, "out of memory (events)");
	return 0;
}

/* Set the phase of one record, read under a row lock; no change, no row. */
static int
set_phase(struct rec_ctx *c, const char *kind, long long rid, const char *to)
{
	static const char *const lock[] = {
		"SELECT phase FROM atsmail.resumes WHERE id = $1::bigint FOR UPDATE",
		"SELECT phase FROM atsmail.contacts WHERE id = $1::bigint FOR UPDATE",
		"SELECT phase FROM atsmail.processes WHERE id = $1::bigint FOR UPDATE",
	};
	static const char *const upd[] = {
		"UPDATE atsmail.resumes SET phase = $2, phase_date = current_date,"
		" updated_at = now() WHERE id = $1::bigint",
		"UPDATE atsmail.contacts SET phase = $2, phase_date = current_date,"
		" updated_at = now() WHERE id = $1::bigint",
		"UPDATE atsmail.processes SET phase = $2, phase_date = current_date,"
		" updated_at = now() WHERE id = $1::bigint",
	};
	int k = strcmp(kind, "resume") == 0 ? 0 : strcmp(kind, "contact") == 0 ? 1 : 2;
	char id[24], from[64];
	const char *v[2] = { id, to };
	PGresult *r;

	snprintf(id, sizeof(id), "%lld", rid);
	if ((r = exec(c, lock[k], 1, v)) == NULL)
		return -1;
	if (PQntuples(r) != 1) {
		PQclear(r);
		*c->status = ATSM_DB_ERROR;
		return atsm_err_set(c->err, "outbound record: %s %lld no longer exists", kind, rid);
	}
	snprintf(from, sizeof(from), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	if (strcmp(from, to) == 0)
		return 0;
	if (command(c, upd[k], 2, v) < 0)
		return -1;
	return history(c, kind, id, from, to);
}

/* ats+job: create the process, or move the existing one. */
static int
apply_process(struct rec_ctx *c, const struct atsm_out_process *pr)
{
	static const char ins[] =
	    "INSERT INTO atsmail.processes (resume_id, job_id, phase, owner_id)"
	    " VALUES ($1::bigint, $2::bigint, $3, $4::bigint)"
	    " ON CONFLICT (resume_id, job_id) DO NOTHING RETURNING id";
	static const char find[] =
	    "SELECT id FROM atsmail.processes WHERE resume_id = $1::bigint AND job_id = $2::bigint";
	char res_id[24], job_id[24], pid[24];
	const char *v[4] = { res_id, job_id, pr->to_phase, c->user_id };
	PGresult *r;
	long long id;

	snprintf(res_id, sizeof(res_id), "%lld", pr->resume_id);
	snprintf(job_id, sizeof(job_id), "%lld", pr->job_id);
	if (pr->process_id == 0) {
		if ((r = exec(c, ins, 4, v)) == NULL)
			return -1;
		if (PQntuples(r) == 1) {
			id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
			PQclear(r);
			c->created++;
			c->new_procs[c->n_new_procs++] = id;
			snprintf(pid, sizeof(pid), "%lld", id);
			return history(c, "process", pid, NULL, pr->to_phase);
		}
		PQclear(r);
		/* made meanwhile by another mail: move it like an existing one */
	}
	if ((r = exec(c, find, 2, v)) == NULL)
		return -1;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return fail(c, "a selection process vanished");
	}
	id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	if (pr->process_id == 0)
		c->new_procs[c->n_new_procs++] = id;   /* not in the plan's links */
	if (pr->to_phase[0] == '\0')
		return 0;
	return set_phase(c, "process", id, pr->to_phase);
}

static int
insert_links(struct rec_ctx *c)
{
	static const char sql[] =
	    "INSERT INTO atsmail.message_links (message_id, target_kind, target_id, rule, ambiguous)"
	    " SELECT $1::bigint, k, i, r, a"
	    " FROM unnest($2::text[], $3::bigint[], $4::text[], $5::boolean[]) AS t(k, i, r, a)"
	    " ON CONFLICT DO NOTHING";
	const struct atsm_out_plan *p = c->p;
	size_t n = p->n_links + c->n_new_procs, i;
	char **kinds, **rules, **ambig;
	long long *ids;
	struct atsm_buf b[4];
	const char *v[5];
	int rc = -1;

	kinds = calloc(n + 1, sizeof(char *));
	rules = calloc(n + 1, sizeof(char *));
	ambig = calloc(n + 1, sizeof(char *));
	ids = calloc(n + 1, sizeof(long long));
	for (i = 0; i < 4; i++)
		atsm_buf_init(&b[i], ARRAY_MAX);
	if (kinds == NULL || rules == NULL || ambig == NULL || ids == NULL) {
		fail(c, "out of memory (links)");
		goto out;
	}
	for (i = 0; i < p->n_links; i++) {
		kinds[i] = (char *)p->links[i].kind;
		ids[i] = p->links[i].id;
		rules[i] = (char *)p->links[i].rule;
		ambig[i] = p->links[i].ambiguous ? "t" : "f";
	}
	for (; i < n; i++) {
		kinds[i] = "process";
		ids[i] = c->new_procs[i - p->n_links];
		rules[i] = "command";
		ambig[i] = "f";
	}
	if (n == 0) {
		rc = 0;
		goto out;
	}
	if (atsm_out_sql_text_array(kinds, n, &b[0]) < 0 ||
	    atsm_out_sql_int_array(ids, n, &b[1]) < 0 ||
	    atsm_out_sql_text_array(rules, n, &b[2]) < 0 ||
	    atsm_out_sql_text_array(ambig, n, &b[3]) < 0) {
		fail(c, "links too long");
		goto out;
	}
	v[0] = c->msg_id;
	for (i = 0; i < 4; i++)
		v[i + 1] = atsm_buf_str(&b[i]);
	rc = command(c, sql, 5, v);
out:
	free(kinds);
	free(rules);
	free(ambig);
	free(ids);
	for (i = 0; i < 4; i++)
		atsm_buf_free(&b[i]);
	return rc;
}

static int
outbox(struct rec_ctx *c, const char *type, json_t *payload)
{
	static const char sql[] =
	    "INSERT INTO atsmail.outbox (event_type, payload) VALUES ($1, $2::jsonb)";
	char *text = json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS);
	const char *v[2] = { type, text };
	int rc;

	if (text == NULL)
		return fail(c, "cannot serialise an outbox event");
	rc = command(c, sql, 2, v);
	free(text);
	return rc;
}

/* message.sent names ids, never subject, addresses or body. */
static int
events_and_audit(struct rec_ctx *c)
{
	static const char audit[] =
	    "SELECT atsmail.audit($1, 'message.sent', 'message', $2, $3::jsonb)";
	const struct atsm_out_plan *p = c->p;
	json_t *sent, *links, *detail, *ev;
	size_t i;
	char *text;
	const char *v[3];
	int rc = -1;

	links = json_array();
	for (i = 0; links != NULL && i < p->n_links; i++)
		json_array_append_new(links, json_pack("{s:s, s:I, s:s, s:b}", "kind",
		    p->links[i].kind, "id", (json_int_t)p->links[i].id, "rule", p->links[i].rule,
		    "ambiguous", p->links[i].ambiguous));
	for (i = 0; links != NULL && i < c->n_new_procs; i++)
		json_array_append_new(links, json_pack("{s:s, s:I, s:s, s:b}", "kind", "process",
		    "id", (json_int_t)c->new_procs[i], "rule", "command", "ambiguous", 0));
	sent = json_pack("{s:I, s:s, s:I, s:s, s:o, s:s?}",
	    "message_id", (json_int_t)strtoll(c->msg_id, NULL, 10), "direction", "out",
	    "owner_id", (json_int_t)p->user_id, "visibility", p->visibility,
	    "links", links, "token", p->token[0] ? p->token : NULL);
	if (sent == NULL)
		return fail(c, "out of memory (event)");
	if (outbox(c, "message.sent", sent) < 0)
		goto out;
	json_array_foreach(c->events, i, ev)
		if (outbox(c, "phase.changed", ev) < 0)
			goto out;
	detail = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:s}", "visibility", p->visibility,
	    "reason", p->visibility_reason, "recipients", (json_int_t)p->n_counterparts,
	    "links", (json_int_t)json_array_size(links), "phase_changes",
	    (json_int_t)json_array_size(c->events), "processes_created", (json_int_t)c->created,
	    "idempotency_key", c->f->idem_key);
	if (detail == NULL || (text = json_dumps(detail, JSON_COMPACT)) == NULL) {
		json_decref(detail);
		fail(c, "out of memory (audit)");
		goto out;
	}
	json_decref(detail);
	v[0] = p->user_login;
	v[1] = c->msg_id;
	v[2] = text;
	rc = command(c, audit, 3, v);
	free(text);
out:
	json_decref(sent);
	return rc;
}

/* Everything after BEGIN: 0 recorded, 1 already there, -1 failed. */
static int
record(struct rec_ctx *c)
{
	static const char actor[] = "SELECT set_config('atsmail.actor', $1, true)";
	static const char key[] =
	    "INSERT INTO atsmail.journal_applied (idempotency_key) VALUES ($1)"
	    " ON CONFLICT DO NOTHING RETURNING 1";
	const struct atsm_out_plan *p = c->p;
	const char *v[1];
	PGresult *r;
	bool dup;
	size_t i;

	v[0] = p->user_login;
	if (command(c, actor, 1, v) < 0)
		return -1;
	v[0] = c->f->idem_key;
	if ((r = exec(c, key, 1, v)) == NULL)
		return -1;
	dup = PQntuples(r) == 0;
	PQclear(r);
	if (dup)
		return 1;
	if (insert_message(c, &dup) < 0)
		return -1;
	if (dup)
		return 1;
	if (insert_recipients(c) < 0)
		return -1;
	for (i = 0; i < p->n_procs; i++)
		if (apply_process(c, &p->procs[i]) < 0)
			return -1;
	/* processes were moved above, from the same plan */
	for (i = 0; i < p->n_phases; i++)
		if (strcmp(p->phases[i].kind, "process") != 0 &&
		    set_phase(c, p->phases[i].kind, p->phases[i].record_id,
		    p->phases[i].to_phase) < 0)
			return -1;
	if (insert_links(c) < 0 || events_and_audit(c) < 0)
		return -1;
	return 0;
}

int
atsm_out_record(PGconn *conn, const struct atsm_out_facts *f, const struct atsm_out_plan *p,
    enum atsm_db_status *status, struct atsm_err *err)
{
	enum atsm_db_status st_local;
	struct rec_ctx c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.conn = conn;
	c.f = f;
	c.p = p;
	c.status = status != NULL ? status : &st_local;
	c.err = err;
	*c.status = ATSM_DB_OK;
	if (p->verdict != ATSM_OUT_RECORD && p->verdict != ATSM_OUT_HOLD) {
		*c.status = ATSM_DB_ERROR;
		return atsm_err_set(err, "outbound record: the plan says %s: nothing to record",
		    atsm_out_verdict_name(p->verdict));
	}
	if (f->idem_key[0] == '\0' || p->user_id <= 0) {
		*c.status = ATSM_DB_ERROR;
		return atsm_err_set(err, "outbound record: %s", f->idem_key[0] == '\0' ?
		    "the facts have no idempotency key" : "the plan has no sending user");
	}
	snprintf(c.user_id, sizeof(c.user_id), "%lld", p->user_id);
	c.events = json_array();
	c.new_procs = calloc(p->n_procs + 1, sizeof(long long));
	if (c.events == NULL || c.new_procs == NULL) {
		json_decref(c.events);
		free(c.new_procs);
		*c.status = ATSM_DB_ERROR;
		return atsm_err_set(err, "outbound record: out of memory");
	}
	if (atsm_db_begin(conn, c.status, err) < 0)
		rc = -1;
	else if ((rc = record(&c)) == 0) {
		if (atsm_db_commit(conn, c.status, err) < 0)
			rc = -1;
	} else
		atsm_db_rollback(conn);
	json_decref(c.events);
	free(c.new_procs);
	return rc;
}
