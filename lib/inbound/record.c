/* inbound/record.c -- a decided inbound mail as the payload that records
 * it (format 2, docs/journal.md "Record payloads": the one jsonb
 * parameter of atsmail.record_inbound()) and as the effects atsmaild
 * applies to its snapshot (see inbound/record.h).
 *
 * Things that may not have an id yet are named the way the recorder finds
 * them again: a message by {id or 0, idempotency key}, a process by
 * {id or 0, resume, job}, the resume that intake mail is making by {id 0,
 * addr} (pipeline/payload.h).  The SQL function does the
 * rest in one transaction: the copy row, the message (or the one another
 * mailbox recorded first), intake records, links, bounced recipients,
 * phases re-checked under a row lock, outbox events, the audit entry.
 */
#include "inbound/record.h"

#include <stdio.h>
#include <string.h>

#include "pipeline/payload.h"

/* Builds one object; the first member that could not be made is named. */
struct obj {
	json_t *o;
	const char *bad;
};

static void
put(struct obj *b, const char *name, json_t *v)
{
	if (v == NULL || json_object_set_new(b->o, name, v) < 0) {
		if (b->bad == NULL)
			b->bad = name;
	}
}

static json_t *
text_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
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

static json_t *
counterparts(const struct atsm_in_plan *p)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < p->n_counterparts; i++)
		if (!push(a, json_string(p->counterparts[i]))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *
links(const struct atsm_in_plan *p)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < p->n_links; i++) {
		const struct atsm_in_link *l = &p->links[i];

		if (!push(a, atsm_payload_link(l->kind, l->id, l->resume_id, l->resume_addr,
		    l->job_id, l->rule, l->ambiguous))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *
bounced_rcpts(const struct atsm_in_facts *f, const struct atsm_in_plan *p)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && p->verdict == ATSM_IN_BOUNCE && i < f->n_bounced; i++) {
		const struct atsm_in_bounced *b = &f->bounced[i];

		if (i < ATSM_IN_MAX_BOUNCED && !p->bounce_ok[i])
			continue;               /* not believed (decide-bounce.c) */
		if (!push(a, json_pack("{s:s, s:s, s:b, s:s}", "a", b->addr != NULL ? b->addr : "",
		    "st", b->status, "hard", b->hard,
		    "diag", b->diagnostic != NULL ? b->diagnostic : ""))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *
phases(const struct atsm_in_plan *p)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < p->n_phases; i++) {
		const struct atsm_in_phase_change *pc = &p->phases[i];
		json_t *o = atsm_payload_record(pc->kind, pc->record_id, pc->resume_id,
		    pc->resume_addr, pc->job_id);
		struct obj b = { o, NULL };

		if (o != NULL) {
			put(&b, "from", json_string(pc->from_phase));
			put(&b, "to", json_string(pc->to_phase));
			put(&b, "rule", json_integer(pc->rule_id));
			put(&b, "cause", json_string(pc->cause[0] != '\0' ? pc->cause : "reply"));
		}
		if (o == NULL || b.bad != NULL || !push(a, o)) {
			if (o != NULL && b.bad != NULL)
				json_decref(o);
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static const char *
incomplete(const struct atsm_in_plan *p)
{
	switch (p->verdict) {
	case ATSM_IN_IGNORE:
		return "the plan says ignore: nothing to record";
	case ATSM_IN_SENT_COPY:
		return atsm_msgref_named(&p->message) ? NULL : "a sent copy names no sent item";
	case ATSM_IN_BOUNCE:
		return atsm_msgref_named(&p->bounced) ? NULL : "a bounce names no sent item";
	case ATSM_IN_INTAKE:
		return p->sender != NULL ? NULL : "intake mail without a sender";
	case ATSM_IN_FILE:
		return NULL;
	}
	return "an unknown verdict";
}

json_t *
atsm_in_record_payload(const struct atsm_in_facts *f, const struct atsm_in_plan *p,
    struct atsm_err *err)
{
	static const struct atsm_dir_msgref none;
	const char *why = incomplete(p);
	struct obj b;

	if (f->idem_key[0] == '\0' || why != NULL) {
		atsm_err_setc(err, ATSM_ERR_INPUT, "inbound record payload for %s: %s",
		    f->mailbox_user != NULL ? f->mailbox_user : "(no mailbox user)",
		    why != NULL ? why : "the facts have no idempotency key");
		return NULL;
	}
	if ((b.o = json_object()) == NULL) {
		atsm_err_setc(err, ATSM_ERR_NOMEM, "inbound record payload of mail %s: out of memory",
		    f->idem_key);
		return NULL;
	}
	b.bad = NULL;
	put(&b, "v", json_integer(ATSM_IN_PAYLOAD_VERSION));
	put(&b, "actor", json_string(p->owner_login[0] != '\0' ? p->owner_login :
	    ATSM_IN_ACTOR_DEFAULT));
	put(&b, "key", json_string(f->idem_key));
	put(&b, "verdict", json_string(atsm_in_verdict_name(p->verdict)));
	put(&b, "sent", atsm_payload_msgref(p->verdict == ATSM_IN_SENT_COPY ? &p->message : &none));
	put(&b, "owner", p->mailbox_user_id > 0 ? json_integer(p->mailbox_user_id) : json_null());
	put(&b, "mailbox", json_string(f->mailbox != NULL ? f->mailbox : ""));
	put(&b, "imap_uid", json_integer((json_int_t)f->imap_uid));
	put(&b, "rfc_message_id", text_or_null(p->rfc_message_id));
	put(&b, "thread", atsm_payload_msgref(&p->thread));
	put(&b, "thread_root", text_or_null(p->thread_root));
	put(&b, "counterparts", counterparts(p));
	put(&b, "subject", text_or_null(p->subject));
	put(&b, "received", json_integer(f->received_at));
	put(&b, "size", json_integer((json_int_t)f->size));
	put(&b, "sha256", json_string(f->body_sha256));
	put(&b, "visibility", json_string(atsm_visibility_name(p->visibility)));
	put(&b, "reason", json_string(p->visibility_reason));
	put(&b, "auto_reply", json_boolean(f->is_autoreply));
	put(&b, "bounce", json_boolean(f->is_bounce));
	put(&b, "sender", text_or_null(p->sender));
	put(&b, "sender_name", text_or_null(p->sender_name));
	put(&b, "intake_unresolved", json_boolean(p->intake_unresolved));
	/* for the notifications of sql/017: the intake address the mail
	 * reached, and whether it was generated (no notification then) */
	put(&b, "intake", text_or_null(p->intake_address[0] != '\0' ? p->intake_address : NULL));
	put(&b, "generated", json_boolean(f->is_generated));
	put(&b, "links", links(p));
	put(&b, "bounced", atsm_payload_msgref(p->verdict == ATSM_IN_BOUNCE ? &p->bounced : &none));
	put(&b, "bounced_rcpts", bounced_rcpts(f, p));
	put(&b, "phases", phases(p));
	if (b.bad != NULL) {
		atsm_err_setc(err, ATSM_ERR_INPUT, "inbound record payload of mail %s: field '%s'"
		    " could not be written (not UTF-8, or out of memory)", f->idem_key, b.bad);
		json_decref(b.o);
		return NULL;
	}
	return b.o;
}

/* ------------------------------------------------------------ effects */

static int
nomem(const struct atsm_in_facts *f, struct atsm_err *err)
{
	return atsm_err_setc(err, ATSM_ERR_NOMEM, "inbound effects of mail %s: the arena is full",
	    f->idem_key);
}

/* An address of the plan's (a fixed field, "" = none) in the arena. */
static int
addr_dup(struct atsm_arena *a, const char *s, const char **out)
{
	*out = NULL;
	if (s[0] == '\0')
		return 0;
	return (*out = atsm_arena_strdup(a, s)) == NULL ? -1 : 0;
}

/* Intake mail that makes a resume (not an unresolved item). */
static bool
makes_resume(const struct atsm_in_plan *p)
{
	return p->verdict == ATSM_IN_INTAKE && !p->intake_unresolved && p->sender != NULL;
}

/* The new message as the directory will know it.  Intake mail that makes
 * a resume is linked to it, as the record function links it (rule
 * intake): to the resume in the making of the sender's address. */
static int
message(const struct atsm_in_facts *f, const struct atsm_in_plan *p, struct atsm_arena *a,
    struct atsm_dir_effects *e, struct atsm_err *err)
{
	struct atsm_dir_message *m;
	struct atsm_dir_link *l;
	const char **parts;
	size_t i;

	m = atsm_arena_calloc(a, 1, sizeof(*m));
	l = atsm_arena_calloc(a, p->n_links + 2, sizeof(*l));
	parts = atsm_arena_calloc(a, p->n_counterparts + 1, sizeof(*parts));
	if (m == NULL || l == NULL || parts == NULL)
		return nomem(f, err);
	m->ref.id = 0;
	snprintf(m->ref.key, sizeof(m->ref.key), "%s", f->idem_key);
	m->direction = ATSM_DIR_IN;
	/* a reply joins its thread; any other mail starts one */
	m->thread = atsm_msgref_named(&p->thread) ? p->thread : m->ref;
	m->visibility = p->visibility;
	m->owner_id = p->mailbox_user_id;
	for (i = 0; i < p->n_links; i++) {
		l[i].kind = p->links[i].kind;
		l[i].id = p->links[i].id;
		l[i].resume_id = p->links[i].resume_id;
		l[i].job_id = p->links[i].job_id;
		l[i].ambiguous = p->links[i].ambiguous;
		if (addr_dup(a, p->links[i].resume_addr, &l[i].resume_addr) < 0)
			return nomem(f, err);
	}
	m->links = l;
	m->n_links = p->n_links;
	if (makes_resume(p)) {
		l[i].kind = ATSM_RECORD_RESUME;
		if ((l[i].resume_addr = atsm_arena_strdup(a, p->sender)) == NULL)
			return nomem(f, err);
		m->n_links++;
	}
	for (i = 0; i < p->n_counterparts; i++)
		if ((parts[i] = atsm_arena_strdup(a, p->counterparts[i])) == NULL)
			return nomem(f, err);
	m->participants = parts;
	m->n_participants = p->n_counterparts;
	if (p->rfc_message_id != NULL && (e->msgid = atsm_arena_strdup(a, p->rfc_message_id)) == NULL)
		return nomem(f, err);
	e->message = m;
	return 0;
}

int
atsm_in_effects(const struct atsm_in_facts *f, const struct atsm_in_plan *p,
    struct atsm_arena *a, struct atsm_dir_effects *e, struct atsm_err *err)
{
	struct atsm_dir_phase_set *ps;
	size_t i;

	memset(e, 0, sizeof(*e));
	e->at = f->received_at;
	/* a sent copy adds a copy row only; the first copy of a mail (another
	 * mailbox) made the message, its phases and its intake record */
	if (p->verdict == ATSM_IN_IGNORE || p->verdict == ATSM_IN_SENT_COPY || p->already_recorded)
		return 0;
	if (f->idem_key[0] == '\0')
		return atsm_err_setc(err, ATSM_ERR_INPUT, "inbound effects for %s: the facts have no"
		    " idempotency key", f->mailbox_user != NULL ? f->mailbox_user : "(no mailbox user)");
	if (message(f, p, a, e, err) < 0)
		return -1;
	if (p->n_phases > 0) {
		if ((ps = atsm_arena_calloc(a, p->n_phases, sizeof(*ps))) == NULL)
			return nomem(f, err);
		for (i = 0; i < p->n_phases; i++) {
			ps[i].kind = p->phases[i].kind;
			ps[i].id = p->phases[i].record_id;
			ps[i].resume_id = p->phases[i].resume_id;
			ps[i].job_id = p->phases[i].job_id;
			if (addr_dup(a, p->phases[i].resume_addr, &ps[i].resume_addr) < 0)
				return nomem(f, err);
			snprintf(ps[i].phase, sizeof(ps[i].phase), "%s", p->phases[i].to_phase);
		}
		e->phases = ps;
		e->n_phases = p->n_phases;
	}
	if (p->verdict == ATSM_IN_INTAKE &&
	    (e->intake_sender = atsm_arena_strdup(a, p->sender)) == NULL)
		return nomem(f, err);
	if (makes_resume(p)) {
		e->new_resume = e->intake_sender;
		e->new_resume_owner = p->mailbox_user_id;
	}
	return 0;
}
