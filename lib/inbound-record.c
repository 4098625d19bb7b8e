/* inbound-record.c -- atsm_in_record(): one mail that reached a mailbox
 * into the database, in one transaction (READ COMMITTED, as the audit
 * chain wants):
 *
 *	journal_applied key (one per copy: exactly once) -> SENT_COPY: a copy
 *	row of the sent message, nothing else -> the 'in' message, or the
 *	existing one (another mailbox got it first: copy row and links only)
 *	-> copy row -> intake: a resume with its address (or the resume that
 *	has the address by now), or an unresolved item -> links with their
 *	rule -> bounce: the sent item's recipients and the address flags ->
 *	phase changes by rule with their phase_history rows -> outbox events
 *	(message.received or message.bounced, record.created, phase.changed;
 *	ids only) -> one audit entry (message.received).
 *
 * Either all of it is recorded or nothing.  Only atsmail_writer's
 * privileges are used.  Phases are re-read under a row lock, and a record
 * whose phase moved since the plan is left alone (the rule was for the
 * phase the plan saw).
 */
#include "atsm-inbound.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outbound-int.h"

#define ARRAY_MAX (4u * 1024u * 1024u)
#define ACTOR_DEFAULT "atsmail-plugin"

struct rec_ctx {
	PGconn *conn;
	const struct atsm_in_facts *f;
	const struct atsm_in_plan *p;
	enum atsm_db_status *status;
	struct atsm_err *err;
	char msg_id[24];        /* messages.id as text */
	char owner[24];         /* users.id as text, "" when none */
	json_t *links;          /* the links written, as in the events */
	json_t *events;         /* phase.changed payloads */
	json_t *rules;          /* phase_rules ids that fired */
	long long created;      /* resume made from intake mail, 0 = none */
	long long unresolved;   /* unresolved item made, 0 = none */
	long long n_bounced;    /* recipients marked */
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
	return atsm_err_set(c->err, "inbound record: %s", what);
}

/* The one value of a statement (NULL when it returns no row). */
static int
value(struct rec_ctx *c, const char *sql, int n, const char *const *v, char *out, size_t size)
{
	PGresult *r;

	out[0] = '\0';
	if ((r = exec(c, sql, n, v)) == NULL)
		return -1;
	if (PQntuples(r) > 0)
		snprintf(out, size, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

static int
copy_row(struct rec_ctx *c, const char *mid)
{
	static const char sql[] =
	    "INSERT INTO atsmail.message_copies (message_id, user_id, mailbox, imap_uid)"
	    " VALUES ($1::bigint, $2::bigint, $3, nullif($4::bigint, 0))"
	    " ON CONFLICT (message_id, user_id, mailbox) DO UPDATE"
	    " SET imap_uid = coalesce(EXCLUDED.imap_uid, atsmail.message_copies.imap_uid)";
	char uid[24];
	const char *v[4] = { mid, c->owner, c->f->mailbox != NULL ? c->f->mailbox : "", uid };

	if (c->owner[0] == '\0')
		return 0;          /* an intake mailbox of no user: no copy row */
	snprintf(uid, sizeof(uid), "%lu", c->f->imap_uid);
	return command(c, sql, 4, v);
}

/* The 'in' row: new (*existing false), or the one another mailbox (or a
 * mail without Message-ID with the same bytes and sender) recorded. */
static int
insert_message(struct rec_ctx *c, bool *existing)
{
	static const char ins[] =
	    "INSERT INTO atsmail.messages (direction, rfc_message_id, thread_id, thread_root,"
	    " owner_id, counterparts, subject, received_at, size, body_sha256, visibility,"
	    " visibility_reason, idempotency_key, is_auto_reply, is_bounce)"
	    " VALUES ('in', $1, (SELECT id FROM atsmail.messages WHERE id = $2::bigint), $3,"
	    " nullif($4, '')::bigint, $5::text[], $6,"
	    " CASE WHEN $7::bigint > 0 THEN to_timestamp($7::bigint) ELSE now() END,"
	    " $8::bigint, decode(nullif($9, ''), 'hex'), $10, $11, $12, $13::boolean, $14::boolean)"
	    " ON CONFLICT DO NOTHING RETURNING id";
	static const char by_id[] =
	    "SELECT id FROM atsmail.messages WHERE rfc_message_id = $1 AND direction = 'in'";
	/* no Message-ID: the same bytes from the same sender are the same mail */
	static const char lock[] = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))";
	static const char by_hash[] =
	    "SELECT id FROM atsmail.messages WHERE direction = 'in' AND rfc_message_id IS NULL"
	    " AND body_sha256 = decode($1, 'hex') AND counterparts[1] IS NOT DISTINCT FROM $2"
	    " ORDER BY id LIMIT 1";
	const struct atsm_in_facts *f = c->f;
	const struct atsm_in_plan *p = c->p;
	char thread[24], recv[24], size[24];
	struct atsm_buf cp;
	const char *v[14];
	PGresult *r;

	*existing = false;
	if (p->rfc_message_id == NULL && f->body_sha256[0] != '\0') {
		const char *h[2] = { f->body_sha256, p->sender };

		if (command(c, lock, 1, h) < 0 ||
		    value(c, by_hash, 2, h, c->msg_id, sizeof(c->msg_id)) < 0)
			return -1;
		if (c->msg_id[0] != '\0') {
			*existing = true;
			return 0;
		}
	}
	atsm_buf_init(&cp, ARRAY_MAX);
	if (atsm_out_sql_text_array(p->counterparts, p->n_counterparts, &cp) < 0) {
		atsm_buf_free(&cp);
		return fail(c, "counterparts too long");
	}
	snprintf(thread, sizeof(thread), "%lld", p->thread_id);
	snprintf(recv, sizeof(recv), "%lld", f->received_at);
	snprintf(size, sizeof(size), "%zu", f->size);
	v[0] = p->rfc_message_id;
	v[1] = thread;
	v[2] = p->thread_root;
	v[3] = c->owner;
	v[4] = atsm_buf_str(&cp);
	v[5] = p->subject;
	v[6] = recv;
	v[7] = size;
	v[8] = f->body_sha256;
	v[9] = p->visibility;
	v[10] = p->visibility_reason;
	v[11] = f->idem_key;
	v[12] = f->is_autoreply ? "t" : "f";
	v[13] = f->is_bounce ? "t" : "f";
	r = exec(c, ins, 14, v);
	atsm_buf_free(&cp);
	if (r == NULL)
		return -1;
	if (PQntuples(r) == 1) {
		snprintf(c->msg_id, sizeof(c->msg_id), "%s", PQgetvalue(r, 0, 0));
		PQclear(r);
		return 0;
	}
	PQclear(r);
	*existing = true;
	if (p->rfc_message_id == NULL)
		return fail(c, "a message without Message-ID collided with a recorded one");
	v[0] = p->rfc_message_id;
	if (value(c, by_id, 1, v, c->msg_id, sizeof(c->msg_id)) < 0)
		return -1;
	if (c->msg_id[0] == '\0')
		return fail(c, "the received message vanished while its copy was recorded");
	return 0;
}

static int
add_link(struct rec_ctx *c, const char *kind, long long id, const char *rule, bool ambiguous)
{
	json_t *l = json_pack("{s:s, s:I, s:s, s:b}", "kind", kind, "id", (json_int_t)id,
	    "rule", rule, "ambiguous", ambiguous);

	if (l == NULL || json_array_append_new(c->links, l) < 0)
		return fail(c, "out of memory (links)");
	return 0;
}

/* INTAKE: a resume (unless one has the address by now: then it is linked),
 * or an unresolved item.  Serialised per sender address, so that two mails
 * of one new sender make one resume. */
static int
intake(struct rec_ctx *c)
{
	static const char lock[] =
	    "SELECT pg_advisory_xact_lock(hashtextextended('atsmail intake ' || $1, 0))";
	static const char dup[] =
	    "SELECT owner_id FROM atsmail.addresses WHERE addr_norm = $1 AND owner_kind = 'resume'"
	    " ORDER BY owner_id LIMIT 1";
	static const char ins[] =
	    "INSERT INTO atsmail.resumes (name, owner_id, created_from)"
	    " VALUES ($1, nullif($2, '')::bigint, 'mail') RETURNING id";
	static const char addr[] =
	    "INSERT INTO atsmail.addresses (owner_kind, owner_id, addr_norm, is_primary)"
	    " VALUES ('resume', $1::bigint, $2, true)";
	static const char unres[] =
	    "INSERT INTO atsmail.unresolved_items (message_id, sender) VALUES ($1::bigint, $2)"
	    " ON CONFLICT (message_id) DO NOTHING RETURNING id";
	const struct atsm_in_plan *p = c->p;
	char id[24];
	const char *v[2];

	if (p->intake_unresolved) {
		v[0] = c->msg_id;
		v[1] = p->sender;
		if (value(c, unres, 2, v, id, sizeof(id)) < 0)
			return -1;
		c->unresolved = strtoll(id, NULL, 10);
		return 0;
	}
	v[0] = p->sender;
	if (command(c, lock, 1, v) < 0 || value(c, dup, 1, v, id, sizeof(id)) < 0)
		return -1;
	if (id[0] != '\0')
		return add_link(c, "resume", strtoll(id, NULL, 10), "sender_address", false);
	v[0] = p->sender_name != NULL ? p->sender_name : p->sender;
	v[1] = c->owner;
	if (value(c, ins, 2, v, id, sizeof(id)) < 0)
		return -1;
	v[0] = id;
	v[1] = p->sender;
	if (command(c, addr, 2, v) < 0)
		return -1;
	c->created = strtoll(id, NULL, 10);
	return add_link(c, "resume", c->created, "intake", false);
}

static int
insert_links(struct rec_ctx *c)
{
	static const char sql[] =
	    "INSERT INTO atsmail.message_links (message_id, target_kind, target_id, rule, ambiguous)"
	    " SELECT $1::bigint, k, i, r, a"
	    " FROM unnest($2::text[], $3::bigint[], $4::text[], $5::boolean[]) AS t(k, i, r, a)"
	    " ON CONFLICT DO NOTHING";
	size_t n = json_array_size(c->links), i;
	char **kinds, **rules, **ambig;
	long long *ids;
	struct atsm_buf b[4];
	const char *v[5];
	json_t *l;
	int rc = -1;

	if (n == 0)
		return 0;
	kinds = calloc(n, sizeof(char *));
	rules = calloc(n, sizeof(char *));
	ambig = calloc(n, sizeof(char *));
	ids = calloc(n, sizeof(long long));
	for (i = 0; i < 4; i++)
		atsm_buf_init(&b[i], ARRAY_MAX);
	if (kinds == NULL || rules == NULL || ambig == NULL || ids == NULL) {
		fail(c, "out of memory (links)");
		goto out;
	}
	json_array_foreach(c->links, i, l) {
		kinds[i] = (char *)json_string_value(json_object_get(l, "kind"));
		ids[i] = json_integer_value(json_object_get(l, "id"));
		rules[i] = (char *)json_string_value(json_object_get(l, "rule"));
		ambig[i] = json_is_true(json_object_get(l, "ambiguous")) ? "t" : "f";
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

/* BOUNCE: the sent item's recipients with a failed address (4.x.x:
 * deferred, anything else: bounced), and a hard bounce flags the address
 * -- only addresses the sent item was really sent to. */
static int
mark_bounced(struct rec_ctx *c)
{
	static const char sql[] =
	    "WITH t AS (SELECT * FROM unnest($2::text[], $3::text[], $4::boolean[], $5::text[])"
	    "   AS t(a, st, hard, diag)),"
	    " u AS (UPDATE atsmail.message_recipients r"
	    "   SET status = CASE WHEN t.st LIKE '4%' THEN 'deferred' ELSE 'bounced' END,"
	    "   status_code = nullif(t.st, ''), diagnostic = t.diag,"
	    "   bounced_at = CASE WHEN t.st LIKE '4%' THEN r.bounced_at ELSE now() END"
	    "   FROM t WHERE r.message_id = $1::bigint AND r.address = t.a"
	    "   RETURNING r.address, r.status, t.hard, t.st, t.diag),"
	    " f AS (INSERT INTO atsmail.address_flags (addr_norm, bounce_code, diagnostic)"
	    "   SELECT DISTINCT ON (address) address, nullif(st, ''), diag FROM u"
	    "   WHERE status = 'bounced' AND hard ORDER BY address"
	    "   ON CONFLICT (addr_norm) DO UPDATE SET bounced_at = now(),"
	    "   bounce_code = EXCLUDED.bounce_code, diagnostic = EXCLUDED.diagnostic,"
	    "   bounce_count = atsmail.address_flags.bounce_count + 1 RETURNING 1)"
	    " SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM f)";
	const struct atsm_in_facts *f = c->f;
	char **addrs, **sts, **hards, **diags, sent[24];
	struct atsm_buf b[4];
	const char *v[5];
	size_t i, n = f->n_bounced;
	PGresult *r;
	int rc = -1;

	if (n == 0)
		return 0;
	addrs = calloc(n, sizeof(char *));
	sts = calloc(n, sizeof(char *));
	hards = calloc(n, sizeof(char *));
	diags = calloc(n, sizeof(char *));
	for (i = 0; i < 4; i++)
		atsm_buf_init(&b[i], ARRAY_MAX);
	if (addrs == NULL || sts == NULL || hards == NULL || diags == NULL) {
		fail(c, "out of memory (bounce)");
		goto out;
	}
	for (i = 0; i < n; i++) {
		addrs[i] = f->bounced[i].addr != NULL ? f->bounced[i].addr : "";
		sts[i] = (char *)f->bounced[i].status;
		hards[i] = f->bounced[i].hard ? "t" : "f";
		diags[i] = f->bounced[i].diagnostic != NULL ? f->bounced[i].diagnostic : "";
	}
	if (atsm_out_sql_text_array(addrs, n, &b[0]) < 0 ||
	    atsm_out_sql_text_array(sts, n, &b[1]) < 0 ||
	    atsm_out_sql_text_array(hards, n, &b[2]) < 0 ||
	    atsm_out_sql_text_array(diags, n, &b[3]) < 0) {
		fail(c, "bounce too long");
		goto out;
	}
	snprintf(sent, sizeof(sent), "%lld", c->p->bounced_message_id);
	v[0] = sent;
	for (i = 0; i < 4; i++)
		v[i + 1] = atsm_buf_str(&b[i]);
	if ((r = exec(c, sql, 5, v)) == NULL)
		goto out;
	c->n_bounced = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	rc = 0;
out:
	free(addrs);
	free(sts);
	free(hards);
	free(diags);
	for (i = 0; i < 4; i++)
		atsm_buf_free(&b[i]);
	return rc;
}

/* One phase change by rule, in one statement: the UPDATE takes the row
 * lock and, under READ COMMITTED, re-checks the phase once it holds it;
 * when the phase is no longer the one the rule was chosen for (or the
 * record is gone), nothing is changed and no history row is written. */
static int
set_phase(struct rec_ctx *c, const struct atsm_in_phase_change *pc)
{
#define SET_PHASE(table) \
	"WITH u AS (UPDATE atsmail." table " SET phase = $2, phase_date = current_date," \
	" updated_at = now() WHERE id = $1::bigint AND phase = $3 RETURNING id)" \
	" INSERT INTO atsmail.phase_history (kind, record_id, from_phase, to_phase, cause," \
	" actor_id, message_id) SELECT $4, u.id, $3, $2, $5, nullif($6, '')::bigint," \
	" $7::bigint FROM u RETURNING 1"
	static const char *const sql[] = {
		SET_PHASE("resumes"), SET_PHASE("contacts"), SET_PHASE("processes"),
	};
#undef SET_PHASE
	int k = strcmp(pc->kind, "resume") == 0 ? 0 : strcmp(pc->kind, "contact") == 0 ? 1 : 2;
	char id[24], done[8];
	const char *v[7];
	json_t *ev;

	snprintf(id, sizeof(id), "%lld", pc->record_id);
	v[0] = id;
	v[1] = pc->to_phase;
	v[2] = pc->from_phase;
	v[3] = pc->kind;
	v[4] = pc->cause[0] != '\0' ? pc->cause : "reply";
	v[5] = c->owner;
	v[6] = c->msg_id;
	if (value(c, sql[k], 7, v, done, sizeof(done)) < 0)
		return -1;
	if (done[0] == '\0')
		return 0;
	ev = json_pack("{s:s, s:I, s:s, s:s, s:s, s:I, s:I, s:o}", "kind", pc->kind,
	    "record_id", (json_int_t)pc->record_id, "from", pc->from_phase, "to", pc->to_phase,
	    "cause", v[4], "rule_id", (json_int_t)pc->rule_id,
	    "message_id", (json_int_t)strtoll(c->msg_id, NULL, 10),
	    "actor_id", c->p->mailbox_user_id ? json_integer(c->p->mailbox_user_id) : json_null());
	if (ev == NULL || json_array_append_new(c->events, ev) < 0 ||
	    json_array_append_new(c->rules, json_integer(pc->rule_id)) < 0)
		return fail(c, "out of memory (events)");
	return 0;
}

/* One outbox event, serialised into the arrays of the statement. */
static int
outbox_add(struct rec_ctx *c, const char **types, char **texts, size_t *n, const char *type,
    json_t *payload)
{
	char *text = payload != NULL ? json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	json_decref(payload);
	if (text == NULL)
		return fail(c, "cannot serialise an outbox event");
	types[*n] = type;
	texts[(*n)++] = text;
	return 0;
}

/* Events name ids, never subject, addresses or body.  The events (in
 * their order) and the audit entry are one statement, the last of the
 * transaction, so that the chain's lock is held only until the commit. */
static int
events_and_audit(struct rec_ctx *c)
{
	static const char sql[] =
	    "WITH o AS (INSERT INTO atsmail.outbox (event_type, payload)"
	    "  SELECT e.t, e.p::jsonb FROM unnest($1::text[], $2::text[]) WITH ORDINALITY"
	    "  AS e(t, p, n) ORDER BY e.n RETURNING 1)"
	    " SELECT (SELECT count(*) FROM o),"
	    " atsmail.audit($3, 'message.received', 'message', $4, $5::jsonb)";
	const struct atsm_in_plan *p = c->p;
	json_int_t mid = (json_int_t)strtoll(c->msg_id, NULL, 10);
	size_t max = 2 + json_array_size(c->events), n = 0, i;
	const char **types;
	char **texts, *text = NULL;
	struct atsm_buf b[2];
	json_t *ev, *detail;
	const char *v[5];
	int rc = -1;

	types = calloc(max, sizeof(char *));
	texts = calloc(max, sizeof(char *));
	atsm_buf_init(&b[0], ARRAY_MAX);
	atsm_buf_init(&b[1], ARRAY_MAX);
	if (types == NULL || texts == NULL) {
		fail(c, "out of memory (events)");
		goto out;
	}
	if (p->verdict == ATSM_IN_BOUNCE)
		ev = json_pack("{s:I, s:I, s:I, s:O}", "message_id", mid, "sent_message_id",
		    (json_int_t)p->bounced_message_id, "recipients_marked",
		    (json_int_t)c->n_bounced, "links", c->links);
	else
		ev = json_pack("{s:I, s:s, s:o, s:s, s:s, s:O, s:b, s:o}", "message_id", mid,
		    "direction", "in", "owner_id", c->p->mailbox_user_id ?
		    json_integer(c->p->mailbox_user_id) : json_null(),
		    "visibility", p->visibility, "verdict", atsm_in_verdict_name(p->verdict),
		    "links", c->links, "auto_reply", c->f->is_autoreply,
		    "unresolved_item_id", c->unresolved ? json_integer(c->unresolved) : json_null());
	if (outbox_add(c, types, texts, &n, p->verdict == ATSM_IN_BOUNCE ? "message.bounced" :
	    "message.received", ev) < 0)
		goto out;
	if (c->created && outbox_add(c, types, texts, &n, "record.created",
	    json_pack("{s:s, s:I, s:I}", "kind", "resume", "id", (json_int_t)c->created,
	    "message_id", mid)) < 0)
		goto out;
	json_array_foreach(c->events, i, ev)
		if (outbox_add(c, types, texts, &n, "phase.changed", json_incref(ev)) < 0)
			goto out;
	detail = json_pack("{s:s, s:s, s:s, s:I, s:O, s:I, s:I, s:s}", "verdict",
	    atsm_in_verdict_name(p->verdict), "visibility", p->visibility, "reason",
	    p->visibility_reason, "links", (json_int_t)json_array_size(c->links),
	    "phase_rules", c->rules, "resume_created", (json_int_t)c->created,
	    "recipients_bounced", (json_int_t)c->n_bounced, "idempotency_key", c->f->idem_key);
	if (detail == NULL || (text = json_dumps(detail, JSON_COMPACT)) == NULL) {
		json_decref(detail);
		fail(c, "out of memory (audit)");
		goto out;
	}
	json_decref(detail);
	if (atsm_out_sql_text_array((char *const *)types, n, &b[0]) < 0 ||
	    atsm_out_sql_text_array(texts, n, &b[1]) < 0) {
		fail(c, "outbox events too long");
		goto out;
	}
	v[0] = atsm_buf_str(&b[0]);
	v[1] = atsm_buf_str(&b[1]);
	v[2] = p->owner_login[0] != '\0' ? p->owner_login : ACTOR_DEFAULT;
	v[3] = c->msg_id;
	v[4] = text;
	rc = command(c, sql, 5, v);
out:
	for (i = 0; i < n; i++)
		free(texts[i]);
	free(types);
	free(texts);
	free(text);
	atsm_buf_free(&b[0]);
	atsm_buf_free(&b[1]);
	return rc;
}

/* Everything after BEGIN: 0 recorded, 1 already there, -1 failed. */
static int
record(struct rec_ctx *c)
{
	/* the actor (for the audit triggers) and the key in one round trip */
	static const char key[] =
	    "INSERT INTO atsmail.journal_applied (idempotency_key)"
	    " SELECT $2 FROM (SELECT set_config('atsmail.actor', $1, true)) AS a"
	    " ON CONFLICT DO NOTHING RETURNING 1";
	const struct atsm_in_plan *p = c->p;
	const char *v[2];
	char sent[24], got[8];
	bool existing;
	size_t i;

	v[0] = p->owner_login[0] != '\0' ? p->owner_login : ACTOR_DEFAULT;
	v[1] = c->f->idem_key;
	if (value(c, key, 2, v, got, sizeof(got)) < 0)
		return -1;
	if (got[0] == '\0')
		return 1;
	if (p->verdict == ATSM_IN_SENT_COPY) {
		snprintf(sent, sizeof(sent), "%lld", p->message_id);
		return copy_row(c, sent);
	}
	if (insert_message(c, &existing) < 0 || copy_row(c, c->msg_id) < 0)
		return -1;
	for (i = 0; i < p->n_links; i++)
		if (add_link(c, p->links[i].kind, p->links[i].id, p->links[i].rule,
		    p->links[i].ambiguous) < 0)
			return -1;
	if (existing)
		return insert_links(c);   /* the first copy did the rest */
	if (p->verdict == ATSM_IN_INTAKE && intake(c) < 0)
		return -1;
	if (insert_links(c) < 0)
		return -1;
	if (p->verdict == ATSM_IN_BOUNCE && mark_bounced(c) < 0)
		return -1;
	for (i = 0; i < p->n_phases; i++)
		if (set_phase(c, &p->phases[i]) < 0)
			return -1;
	return events_and_audit(c);
}

int
atsm_in_record(PGconn *conn, const struct atsm_in_facts *f, const struct atsm_in_plan *p,
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
	if (p->verdict == ATSM_IN_IGNORE) {
		*c.status = ATSM_DB_ERROR;
		return atsm_err_set(err, "inbound record: the plan says ignore: nothing to record");
	}
	if (f->idem_key[0] == '\0' || (p->verdict == ATSM_IN_SENT_COPY && p->message_id <= 0) ||
	    (p->verdict == ATSM_IN_INTAKE && p->sender == NULL)) {
		*c.status = ATSM_DB_ERROR;
		return atsm_err_set(err, "inbound record: %s", f->idem_key[0] == '\0' ?
		    "the facts have no idempotency key" : "the plan is incomplete");
	}
	if (p->mailbox_user_id > 0)
		snprintf(c.owner, sizeof(c.owner), "%lld", p->mailbox_user_id);
	c.links = json_array();
	c.events = json_array();
	c.rules = json_array();
	if (c.links == NULL || c.events == NULL || c.rules == NULL) {
		rc = fail(&c, "out of memory");
		goto out;
	}
	if (atsm_db_begin(conn, c.status, err) < 0)
		rc = -1;
	else if ((rc = record(&c)) >= 0) {
		if (atsm_db_commit(conn, c.status, err) < 0)
			rc = -1;
	} else
		atsm_db_rollback(conn);
out:
	json_decref(c.links);
	json_decref(c.events);
	json_decref(c.rules);
	return rc;
}
