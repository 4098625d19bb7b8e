/* outbound/record.c -- atsm_out_record(): one sent ATS mail into the
 * database, in one transaction (READ COMMITTED, as the audit chain wants):
 *
 *	journal_applied key (exactly once) -> messages (Message-ID kept as
 *	sent, thread found through In-Reply-To / References) -> recipients
 *	(to, cc, bcc; command addresses never) -> selection processes of
 *	ats+job -> phase changes with their phase_history rows (cause
 *	mail_sent, actor the sender) -> links with their rule -> outbox
 *	events (message.sent, phase.changed) -> one audit entry.
 *
 * The steps run inside atsmail.record_outbound() (sql/005-record-outbound.sql):
 * this file only turns the facts and the plan into its one jsonb parameter
 * and calls it as one statement, its own transaction, so that a mail costs
 * one round trip and the audit chain's lock is released at once.
 *
 * Either all of it is recorded or nothing.  A second call with the same
 * idempotency key, or for a Message-ID already recorded as sent, records
 * nothing and returns 1.  Only the privileges of atsmail_writer are used.
 * Phases are re-read under a row lock: the plan's view may be old (replay).
 */
#include "outbound/outbound.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REFS_MAX 50            /* Message-IDs of References looked at */

/* The SQLSTATE atsmail.record_outbound() raises for a Message-ID that is
 * already recorded: nothing was written, which is "already there". */
#define ALREADY_RECORDED "AS001"

/* Every <id> of a References / In-Reply-To value, without brackets. */
static void
collect_ids(const char *v, json_t *out, size_t max)
{
	const char *s, *e;
	json_t *id;

	for (s = v; s != NULL && json_array_size(out) < max && (s = strchr(s, '<')) != NULL;
	    s = e + 1) {
		if ((e = strchr(s + 1, '>')) == NULL)
			break;
		if (e > s + 1 && e - s - 1 <= 998) {
			id = json_stringn(s + 1, (size_t)(e - s - 1));
			if (id != NULL)
				json_array_append_new(out, id);
		}
	}
}

static json_t *
string_array(char *const *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < n; i++)
		if (v[i] != NULL && json_array_append_new(a, json_string(v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* Appends v (taken over) to a; false when either is NULL or it fails. */
static bool
push(json_t *a, json_t *v)
{
	if (a == NULL || v == NULL) {
		json_decref(v);
		return false;
	}
	return json_array_append_new(a, v) == 0;
}

/* The parameter of atsmail.record_outbound(); NULL when out of memory or
 * when a string is not valid UTF-8 (the plan gives UTF-8 only). */
static json_t *
payload(const struct atsm_out_facts *f, const struct atsm_out_plan *p)
{
	json_t *refs, *rcpts, *procs, *phases, *links;
	bool ok = true;
	size_t i;

	refs = json_array();
	/* References first: its first id is the root of the thread */
	if (refs != NULL) {
		collect_ids(f->hdr_references, refs, REFS_MAX);
		collect_ids(f->hdr_in_reply_to, refs, REFS_MAX);
	}
	rcpts = json_array();
	for (i = 0; ok && i < p->n_rcpts; i++)
		if (!p->rcpts[i].is_command)
			ok = push(rcpts, json_pack("{s:s, s:s}", "a", p->rcpts[i].norm,
			    "k", atsm_out_rcpt_kind_name(p->rcpts[i].kind)));
	procs = json_array();
	for (i = 0; ok && i < p->n_procs; i++)
		ok = push(procs, json_pack("{s:I, s:I, s:I, s:s}",
		    "resume", (json_int_t)p->procs[i].resume_id,
		    "job", (json_int_t)p->procs[i].job_id,
		    "process", (json_int_t)p->procs[i].process_id, "to", p->procs[i].to_phase));
	/* processes are moved through procs, from the same plan */
	phases = json_array();
	for (i = 0; ok && i < p->n_phases; i++)
		if (strcmp(p->phases[i].kind, "process") != 0)
			ok = push(phases, json_pack("{s:s, s:I, s:s}", "kind", p->phases[i].kind,
			    "id", (json_int_t)p->phases[i].record_id, "to", p->phases[i].to_phase));
	links = json_array();
	for (i = 0; ok && i < p->n_links; i++)
		ok = push(links, json_pack("{s:s, s:I, s:s, s:b}", "kind", p->links[i].kind,
		    "id", (json_int_t)p->links[i].id, "rule", p->links[i].rule,
		    "ambiguous", p->links[i].ambiguous));
	if (!ok || refs == NULL || rcpts == NULL || procs == NULL || phases == NULL ||
	    links == NULL) {
		json_decref(refs);
		json_decref(rcpts);
		json_decref(procs);
		json_decref(phases);
		json_decref(links);
		return NULL;
	}
	return json_pack("{s:s, s:s, s:s?, s:o, s:I, s:o, s:s?, s:I, s:I, s:s, s:s, s:s, s:s,"
	    " s:o, s:o, s:o, s:o, s:I}",
	    "actor", p->user_login, "key", f->idem_key, "message_id", p->message_id,
	    "refs", refs, "owner", (json_int_t)p->user_id,
	    "counterparts", string_array(p->counterparts, p->n_counterparts),
	    "subject", p->subject, "sent", (json_int_t)f->submitted_at,
	    "size", (json_int_t)f->body_size, "sha256", f->body_sha256, "token", p->token,
	    "visibility", p->visibility, "reason", p->visibility_reason,
	    "rcpts", rcpts, "procs", procs, "phases", phases, "links", links,
	    "recipients", (json_int_t)p->n_counterparts);
}

int
atsm_out_record(PGconn *conn, const struct atsm_out_facts *f, const struct atsm_out_plan *p,
    struct atsm_err *err)
{
	static const char sql[] = "SELECT atsmail.record_outbound($1::jsonb)";
	struct atsm_err e;
	const char *v[1];
	char *text;
	json_t *j;
	PGresult *r;
	int rc;

	if (p->verdict != ATSM_OUT_RECORD && p->verdict != ATSM_OUT_HOLD)
		return atsm_err_setc(err, ATSM_ERR_INTERNAL, "outbound record: the plan "
		    "says %s: nothing to record", atsm_out_verdict_name(p->verdict));
	if (f->idem_key[0] == '\0' || p->user_id <= 0)
		return atsm_err_setc(err, ATSM_ERR_INTERNAL, "outbound record: %s",
		    f->idem_key[0] == '\0' ? "the facts have no idempotency key" :
		    "the plan has no sending user");
	/* json_pack refuses a string that is not UTF-8 as it fails on memory,
	 * without saying which: the field more likely */
	if ((j = payload(f, p)) == NULL)
		return atsm_err_set(err, "outbound record: out of memory, or a field of "
		    "message %s is not UTF-8", f->idem_key);
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (text == NULL)
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "outbound record: out of memory "
		    "encoding message %s", f->idem_key);
	v[0] = text;
	atsm_err_clear(&e);
	r = atsm_db_exec_prepared(conn, sql, 1, v, &e);
	free(text);
	if (r == NULL) {
		if (e.cls == ATSM_ERR_REFUSED && strcmp(e.sqlstate, ALREADY_RECORDED) == 0)
			return 1;
		if (err != NULL)
			*err = e;
		return -1;
	}
	rc = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "0") == 0 ? 1 : 0;
	PQclear(r);
	return rc;
}
