/* outbound/record.c -- the record payload of a decided sent mail and its
 * effects on the directory (see outbound/record.h).
 *
 * The payload is built here and nowhere else, field by field as
 * docs/journal.md ("Record payloads", outbound.record) lists them, so that
 * what atsmail.record_outbound() reads has one author.  Records are named
 * by id; a process by resume and job (its id 0 while no PostgreSQL has
 * recorded it); the resume that intake mail is making by its address (id
 * 0, "addr"; a process of it: resume 0 and "addr", pipeline/payload.h);
 * the thread by the Message-IDs of References and
 * In-Reply-To, which the SQL function resolves in journal order.
 *
 * The effects say the same thing to the directory snapshot: the message
 * as a directory entry (named by its idempotency key until it has an id),
 * and the phases the mail sets.  Both read the plan only; neither knows
 * where the payload or the effects go.
 *
 * A HOLD plan (a user who needs approval: the mail waits in Postfix's
 * hold queue) is recorded as held: its payload says "held", the queue id
 * that postsuper takes and the reason; the record function keeps its
 * processes and phases pending until `atsmailctl held release`
 * (sql/014-held-mail.sql), so its effects set no phase and make no
 * process either -- the snapshot learns them from PostgreSQL then.
 */
#include "outbound/record.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "rules/policy.h"

/* Adds members to an object and remembers the first one that failed. */
struct builder {
	const char *bad;              /* the member that could not be made */
	bool nomem;                   /* ... because memory ran out (else: not UTF-8) */
};

/* A JSON string of s (null for NULL); NULL when s is not UTF-8 or memory
 * is short, with what noted in b. */
static json_t *
text(struct builder *b, const char *what, const char *s)
{
	json_t *j;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	if (b->bad == NULL) {
		json_t *raw = json_string_nocheck(s);

		b->bad = what;
		b->nomem = raw == NULL;
		json_decref(raw);
	}
	return NULL;
}

static void
put(struct builder *b, json_t *o, const char *name, json_t *v)
{
	if (v == NULL || o == NULL || json_object_set_new(o, name, v) < 0) {
		/* a text that is not UTF-8 was noted by text() already */
		if (b->bad == NULL) {
			b->bad = name;
			b->nomem = true;
		}
	}
}

static void
push(struct builder *b, json_t *a, const char *what, json_t *v)
{
	if (v == NULL || a == NULL || json_array_append_new(a, v) < 0) {
		if (b->bad == NULL) {
			b->bad = what;
			b->nomem = true;
		}
	}
}

static json_t *
obj(struct builder *b, const char *what)
{
	json_t *o = json_object();

	if (o == NULL && b->bad == NULL) {
		b->bad = what;
		b->nomem = true;
	}
	return o;
}

static json_t *
arr(struct builder *b, const char *what)
{
	json_t *a = json_array();

	if (a == NULL && b->bad == NULL) {
		b->bad = what;
		b->nomem = true;
	}
	return a;
}

/* "addr" of a resume in the making: resume_id 0 (a resume's own id, or a
 * process's resume) and its address. */
static void
put_addr(struct builder *b, json_t *o, const char *what, long long resume_id, const char *addr)
{
	if (resume_id == 0 && addr != NULL && addr[0] != '\0')
		put(b, o, "addr", text(b, what, addr));
}

static json_t *
strings(struct builder *b, const char *what, char *const *v, size_t n)
{
	json_t *a = arr(b, what);
	size_t i;

	for (i = 0; a != NULL && i < n; i++)
		push(b, a, what, text(b, what, v[i]));
	return a;
}

static json_t *
rcpts(struct builder *b, const struct atsm_out_plan *p)
{
	json_t *a = arr(b, "rcpts");
	size_t i;

	for (i = 0; a != NULL && i < p->n_rcpts; i++) {
		json_t *o;

		if (p->rcpts[i].is_command)
			continue;
		o = obj(b, "rcpts");
		put(b, o, "a", text(b, "rcpts", p->rcpts[i].norm));
		put(b, o, "k", json_string(atsm_out_rcpt_kind_name(p->rcpts[i].kind)));
		push(b, a, "rcpts", o);
	}
	return a;
}

static json_t *
procs(struct builder *b, const struct atsm_out_plan *p)
{
	json_t *a = arr(b, "procs");
	size_t i;

	for (i = 0; a != NULL && i < p->n_procs; i++) {
		const struct atsm_out_process *pr = &p->procs[i];
		json_t *o = obj(b, "procs");

		put(b, o, "resume", json_integer(pr->resume_id));
		put_addr(b, o, "procs", pr->resume_id, pr->resume_addr);
		put(b, o, "job", json_integer(pr->job_id));
		put(b, o, "process", json_integer(pr->process_id));
		put(b, o, "to", json_string(pr->to_phase));
		push(b, a, "procs", o);
	}
	return a;
}

/* Resumes and contacts; processes move through procs. */
static json_t *
phases(struct builder *b, const struct atsm_out_plan *p)
{
	json_t *a = arr(b, "phases");
	size_t i;

	for (i = 0; a != NULL && i < p->n_phases; i++) {
		const struct atsm_out_phase_change *ch = &p->phases[i];
		json_t *o = obj(b, "phases");

		put(b, o, "kind", json_string(atsm_record_kind_name(ch->kind)));
		put(b, o, "id", json_integer(ch->id));
		if (ch->kind == ATSM_RECORD_RESUME)
			put_addr(b, o, "phases", ch->id, ch->resume_addr);
		put(b, o, "to", json_string(ch->to_phase));
		push(b, a, "phases", o);
	}
	return a;
}

/* Processes made by procs are linked by the SQL function. */
static json_t *
links(struct builder *b, const struct atsm_out_plan *p)
{
	json_t *a = arr(b, "links");
	size_t i;

	for (i = 0; a != NULL && i < p->n_links; i++) {
		const struct atsm_out_link *l = &p->links[i];
		json_t *o = obj(b, "links");

		put(b, o, "kind", json_string(atsm_record_kind_name(l->kind)));
		put(b, o, "id", json_integer(l->id));
		if (l->kind == ATSM_RECORD_RESUME)
			put_addr(b, o, "links", l->id, l->resume_addr);
		if (l->kind == ATSM_RECORD_PROCESS) {
			put(b, o, "resume", json_integer(l->resume_id));
			put_addr(b, o, "links", l->resume_id, l->resume_addr);
			put(b, o, "job", json_integer(l->job_id));
		}
		put(b, o, "rule", json_string(l->rule));
		put(b, o, "ambiguous", json_boolean(l->ambiguous));
		push(b, a, "links", o);
	}
	return a;
}

static bool
records(const struct atsm_out_plan *p)
{
	return p->verdict == ATSM_OUT_RECORD || p->verdict == ATSM_OUT_HOLD;
}

/* A Postfix queue id as held_messages.queue_id takes it (letters and
 * digits), else JSON null: such a held mail is released by hand. */
static json_t *
queue_id(const struct atsm_out_facts *f)
{
	const char *q = f->queue_id;
	size_t i, n = q != NULL ? strlen(q) : 0;

	if (n == 0 || n > 64)
		return json_null();
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)q[i]))
			return json_null();
	return json_string(q);
}

static const char *
key_of(const struct atsm_out_facts *f)
{
	return f->idem_key[0] != '\0' ? f->idem_key : "(no key)";
}

json_t *
atsm_out_record_payload(const struct atsm_out_facts *f, const struct atsm_out_plan *p,
    struct atsm_err *err)
{
	struct builder b = { NULL, false };
	json_t *o;

	if (!records(p)) {
		atsm_err_set(err, "outbound record payload of message %s: the plan says %s: "
		    "nothing to record", key_of(f), atsm_out_verdict_name(p->verdict));
		return NULL;
	}
	if (f->idem_key[0] == '\0' || p->user_id <= 0) {
		atsm_err_set(err, "outbound record payload of message %s: %s", key_of(f),
		    f->idem_key[0] == '\0' ? "the facts have no idempotency key" :
		    "the plan has no sending user");
		return NULL;
	}
	o = obj(&b, "payload");
	put(&b, o, "v", json_integer(ATSM_OUT_PAYLOAD_VERSION));
	put(&b, o, "actor", text(&b, "actor", p->user_login));
	put(&b, o, "key", text(&b, "key", f->idem_key));
	put(&b, o, "message_id", text(&b, "message_id", p->message_id));
	put(&b, o, "refs", strings(&b, "refs", p->refs, p->n_refs));
	put(&b, o, "owner", json_integer(p->user_id));
	put(&b, o, "counterparts", strings(&b, "counterparts", p->counterparts,
	    p->n_counterparts));
	put(&b, o, "subject", text(&b, "subject", p->subject));
	put(&b, o, "sent", json_integer(f->submitted_at));
	put(&b, o, "size", json_integer((json_int_t)f->body_size));
	put(&b, o, "sha256", text(&b, "sha256", f->body_sha256));
	put(&b, o, "token", text(&b, "token", p->token));
	put(&b, o, "visibility", json_string(atsm_visibility_name(p->vis.visibility)));
	put(&b, o, "reason", text(&b, "reason", p->vis.reason));
	put(&b, o, "rcpts", rcpts(&b, p));
	put(&b, o, "procs", procs(&b, p));
	put(&b, o, "phases", phases(&b, p));
	put(&b, o, "links", links(&b, p));
	put(&b, o, "recipients", json_integer((json_int_t)p->n_counterparts));
	if (p->verdict == ATSM_OUT_HOLD) {
		put(&b, o, "held", json_true());
		put(&b, o, "queue_id", queue_id(f));
		put(&b, o, "hold_reason", text(&b, "hold_reason", p->reply_text));
		/* what its approvers are shown and where they answer (020) */
		if (f->preview != NULL)
			put(&b, o, "preview", text(&b, "preview", f->preview));
		if (p->command_at[0] != '\0')
			put(&b, o, "command_at", text(&b, "command_at", p->command_at));
	}
	if (b.bad != NULL) {
		json_decref(o);
		if (b.nomem)
			atsm_err_setc(err, ATSM_ERR_NOMEM, "outbound record payload of message %s: "
			    "out of memory (%s)", key_of(f), b.bad);
		else
			atsm_err_set(err, "outbound record payload of message %s: field '%s' is "
			    "not UTF-8", key_of(f), b.bad);
		return NULL;
	}
	return o;
}

/* ------------------------------------------------------------- effects */

static int
full(const struct atsm_out_facts *f, struct atsm_err *err, const char *what)
{
	return atsm_err_setc(err, ATSM_ERR_NOMEM, "outbound effects of message %s: the arena "
	    "is full (%s)", key_of(f), what);
}

/* The address of a resume in the making, copied into the effects' arena. */
static int
addr_dup(struct atsm_arena *a, const char *s, const char **out)
{
	*out = NULL;
	return s != NULL && (*out = atsm_arena_strdup(a, s)) == NULL ? -1 : 0;
}

static int
message(const struct atsm_out_facts *f, const struct atsm_out_plan *p, struct atsm_arena *a,
    struct atsm_dir_message *m, struct atsm_err *err)
{
	size_t i, n = p->n_links;

	m->ref.id = 0;
	snprintf(m->ref.key, sizeof(m->ref.key), "%s", f->idem_key);
	m->direction = ATSM_DIR_OUT;
	m->thread = p->in_thread ? p->thread : m->ref;
	m->visibility = p->vis.visibility;
	m->owner_id = p->user_id;
	snprintf(m->token, sizeof(m->token), "%s", p->token);
	/* a held mail makes its processes on release only */
	for (i = 0; i < p->n_procs && p->verdict != ATSM_OUT_HOLD; i++)
		n += !p->procs[i].exists;
	if ((m->links = atsm_arena_calloc(a, n + 1, sizeof(*m->links))) == NULL)
		return full(f, err, "links");
	for (i = 0; i < p->n_links; i++) {
		struct atsm_dir_link *l = &m->links[m->n_links++];

		l->kind = p->links[i].kind;
		l->id = p->links[i].id;
		l->resume_id = p->links[i].resume_id;
		l->job_id = p->links[i].job_id;
		l->ambiguous = p->links[i].ambiguous;
		if (addr_dup(a, p->links[i].resume_addr, &l->resume_addr) < 0)
			return full(f, err, "links");
	}
	for (i = 0; i < p->n_procs && p->verdict != ATSM_OUT_HOLD; i++) {
		struct atsm_dir_link *l;

		if (p->procs[i].exists)
			continue;
		l = &m->links[m->n_links++];
		l->kind = ATSM_RECORD_PROCESS;
		l->resume_id = p->procs[i].resume_id;
		l->job_id = p->procs[i].job_id;
		if (addr_dup(a, p->procs[i].resume_addr, &l->resume_addr) < 0)
			return full(f, err, "links");
	}
	if ((m->participants = atsm_arena_calloc(a, p->n_counterparts + 1, sizeof(char *))) == NULL)
		return full(f, err, "participants");
	for (i = 0; i < p->n_counterparts; i++)
		if ((m->participants[m->n_participants++] = atsm_arena_strdup(a,
		    p->counterparts[i])) == NULL)
			return full(f, err, "participants");
	return 0;
}

/* Processes first (made or moved), then resumes and contacts: the order
 * in which atsmail.record_outbound() applies them. */
static int
phase_sets(const struct atsm_out_facts *f, const struct atsm_out_plan *p, struct atsm_arena *a,
    struct atsm_dir_effects *e, struct atsm_err *err)
{
	struct atsm_dir_phase_set *v;
	size_t i, n = 0;

	if ((v = atsm_arena_calloc(a, p->n_procs + p->n_phases + 1, sizeof(*v))) == NULL)
		return full(f, err, "phases");
	for (i = 0; i < p->n_procs; i++) {
		const struct atsm_out_process *pr = &p->procs[i];

		if (pr->to_phase[0] == '\0')
			continue;
		v[n].kind = ATSM_RECORD_PROCESS;
		v[n].id = pr->process_id;
		v[n].resume_id = pr->resume_id;
		v[n].job_id = pr->job_id;
		if (addr_dup(a, pr->resume_addr, &v[n].resume_addr) < 0)
			return full(f, err, "phases");
		snprintf(v[n++].phase, sizeof(v->phase), "%s", pr->to_phase);
	}
	for (i = 0; i < p->n_phases; i++) {
		v[n].kind = p->phases[i].kind;
		v[n].id = p->phases[i].id;
		if (addr_dup(a, p->phases[i].resume_addr, &v[n].resume_addr) < 0)
			return full(f, err, "phases");
		snprintf(v[n++].phase, sizeof(v->phase), "%s", p->phases[i].to_phase);
	}
	e->phases = v;
	e->n_phases = n;
	return 0;
}

int
atsm_out_effects(const struct atsm_out_facts *f, const struct atsm_out_plan *p,
    struct atsm_arena *a, struct atsm_dir_effects *e, struct atsm_err *err)
{
	struct atsm_dir_message *m;

	memset(e, 0, sizeof(*e));
	e->at = f->submitted_at;
	if (!records(p) || p->msgid_recorded)
		return 0;
	if ((m = atsm_arena_calloc(a, 1, sizeof(*m))) == NULL)
		return full(f, err, "message");
	if (message(f, p, a, m, err) < 0)
		return -1;
	if (p->message_id != NULL && (e->msgid = atsm_arena_strdup(a, p->message_id)) == NULL)
		return full(f, err, "Message-ID");
	e->message = m;
	if (p->verdict == ATSM_OUT_HOLD)
		return 0;     /* its phases wait for the release */
	if (phase_sets(f, p, a, e, err) < 0) {
		memset(e, 0, sizeof(*e));
		e->at = f->submitted_at;
		return -1;
	}
	return 0;
}
