/* inbound/record.c -- atsm_in_record(): one mail that reached a mailbox
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
 * The steps run inside atsmail.record_inbound() (sql/008-record-inbound.sql):
 * this file only turns the facts and the plan into its one jsonb parameter
 * and calls it as one statement, its own transaction, so that a mail costs
 * one round trip and the audit chain's lock is released at once.
 *
 * Either all of it is recorded or nothing.  Only atsmail_writer's
 * privileges are used.  Phases are re-read under a row lock, and a record
 * whose phase moved since the plan is left alone (the rule was for the
 * phase the plan saw).
 */
#include "inbound/inbound.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACTOR_DEFAULT "atsmail-plugin"

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

static json_t *
counterparts(const struct atsm_in_plan *p)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < p->n_counterparts; i++)
		if (p->counterparts[i] != NULL &&
		    !push(a, json_string(p->counterparts[i]))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* The parameter of atsmail.record_inbound(); NULL when out of memory or
 * when a string is not valid UTF-8. */
static json_t *
payload(const struct atsm_in_facts *f, const struct atsm_in_plan *p)
{
	json_t *cps, *links, *bounced, *phases;
	bool ok = true;
	size_t i;

	cps = counterparts(p);
	links = json_array();
	for (i = 0; ok && i < p->n_links; i++)
		ok = push(links, json_pack("{s:s, s:I, s:s, s:b}", "kind", p->links[i].kind,
		    "id", (json_int_t)p->links[i].id, "rule", p->links[i].rule,
		    "ambiguous", p->links[i].ambiguous));
	bounced = json_array();
	for (i = 0; ok && p->verdict == ATSM_IN_BOUNCE && i < f->n_bounced; i++)
		ok = push(bounced, json_pack("{s:s, s:s, s:b, s:s}",
		    "a", f->bounced[i].addr != NULL ? f->bounced[i].addr : "",
		    "st", f->bounced[i].status, "hard", f->bounced[i].hard,
		    "diag", f->bounced[i].diagnostic != NULL ? f->bounced[i].diagnostic : ""));
	phases = json_array();
	for (i = 0; ok && i < p->n_phases; i++)
		ok = push(phases, json_pack("{s:s, s:I, s:s, s:s, s:I, s:s}",
		    "kind", p->phases[i].kind, "id", (json_int_t)p->phases[i].record_id,
		    "from", p->phases[i].from_phase, "to", p->phases[i].to_phase,
		    "rule", (json_int_t)p->phases[i].rule_id,
		    "cause", p->phases[i].cause[0] != '\0' ? p->phases[i].cause : "reply"));
	if (!ok || cps == NULL || links == NULL || bounced == NULL || phases == NULL) {
		json_decref(cps);
		json_decref(links);
		json_decref(bounced);
		json_decref(phases);
		return NULL;
	}
	return json_pack("{s:s, s:s, s:s, s:I, s:o, s:s, s:I, s:s?, s:I, s:s?, s:o, s:s?,"
	    " s:I, s:I, s:s, s:s, s:s, s:b, s:b, s:s?, s:s?, s:b, s:o, s:I, s:o, s:o}",
	    "actor", p->owner_login[0] != '\0' ? p->owner_login : ACTOR_DEFAULT,
	    "key", f->idem_key, "verdict", atsm_in_verdict_name(p->verdict),
	    "message_id", (json_int_t)p->message_id,
	    "owner", p->mailbox_user_id > 0 ? json_integer(p->mailbox_user_id) : json_null(),
	    "mailbox", f->mailbox != NULL ? f->mailbox : "",
	    "imap_uid", (json_int_t)f->imap_uid, "rfc_message_id", p->rfc_message_id,
	    "thread", (json_int_t)p->thread_id, "thread_root", p->thread_root,
	    "counterparts", cps, "subject", p->subject,
	    "received", (json_int_t)f->received_at, "size", (json_int_t)f->size,
	    "sha256", f->body_sha256, "visibility", p->visibility,
	    "reason", p->visibility_reason, "auto_reply", f->is_autoreply,
	    "bounce", f->is_bounce, "sender", p->sender, "sender_name", p->sender_name,
	    "intake_unresolved", p->intake_unresolved, "links", links,
	    "bounced_message_id", (json_int_t)p->bounced_message_id,
	    "bounced", bounced, "phases", phases);
}

int
atsm_in_record(PGconn *conn, const struct atsm_in_facts *f, const struct atsm_in_plan *p,
    struct atsm_err *err)
{
	static const char sql[] = "SELECT atsmail.record_inbound($1::jsonb)";
	const char *v[1];
	char *text;
	json_t *j;
	PGresult *r;
	int rc;

	if (p->verdict == ATSM_IN_IGNORE)
		return atsm_err_setc(err, ATSM_ERR_INTERNAL, "inbound record: the plan "
		    "says ignore: nothing to record");
	if (f->idem_key[0] == '\0' || (p->verdict == ATSM_IN_SENT_COPY && p->message_id <= 0) ||
	    (p->verdict == ATSM_IN_INTAKE && p->sender == NULL))
		return atsm_err_setc(err, ATSM_ERR_INTERNAL, "inbound record: %s",
		    f->idem_key[0] == '\0' ? "the facts have no idempotency key" :
		    "the plan is incomplete");
	/* json_pack refuses a string that is not UTF-8 as it fails on memory,
	 * without saying which: the field more likely */
	if ((j = payload(f, p)) == NULL)
		return atsm_err_set(err, "inbound record: out of memory, or a field of "
		    "message %s is not UTF-8", f->idem_key);
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (text == NULL)
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "inbound record: out of memory "
		    "encoding message %s", f->idem_key);
	v[0] = text;
	r = atsm_db_exec_prepared(conn, sql, 1, v, err);
	free(text);
	if (r == NULL)
		return -1;
	rc = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "0") == 0 ? 1 : 0;
	PQclear(r);
	return rc;
}
