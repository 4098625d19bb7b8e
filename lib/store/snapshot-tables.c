/* store/snapshot-tables.c -- the tables of PostgreSQL that the snapshot
 * reads: for each, the statement that reads its rows and how one row is
 * written to LMDB.  Every SQL statement of the old decisions
 * (lib/outbound/plan.c, lib/inbound/plan.c) is a question one of these
 * rows answers now, locally.
 *
 * The statements are read with a WHERE id = ANY($1) (the rows a
 * notification names) or whole through a cursor in id order (a full
 * resync, "table:*"), by lib/store/snapshot-sync.c.  Messages carry their
 * links (with the process's resume and job) and their participants
 * (counterparts and recipients) as JSON, one row per message, bounded by
 * LIMITs in the statement itself.
 */
#include "store/snapshot-int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define VALUE_BUF(b) struct atsm_buf b; atsm_buf_init(&b, ATSM_SNAP_VALUE_MAX)

/* "interval" of ATSM_SNAP_INTAKE_KEEP seconds, for the statements */
#define INTAKE_KEEP_SQL "interval '7200 seconds'"

static long long
num(PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static bool
flag(PGresult *r, int row, int col)
{
	return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

static const char *
text(PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

static int
kind_of_name(const char *s)
{
	if (s == NULL)
		return 0;
	if (strcmp(s, "resume") == 0)
		return 'r';
	if (strcmp(s, "contact") == 0)
		return 'c';
	if (strcmp(s, "process") == 0)
		return 'p';
	if (strcmp(s, "job") == 0)
		return 'j';
	if (strcmp(s, "user") == 0)
		return 'u';
	return 0;
}

static int
bad_row(struct atsm_err *err, const char *table, PGresult *r, int row, const char *what)
{
	return atsm_err_setc(err, ATSM_ERR_INPUT, "snapshot: row %s of %s: %s",
	    PQgetisnull(r, row, 0) ? "?" : PQgetvalue(r, row, 0), table, what);
}

/* ------------------------------------------------------------------ users */

static int
put_user(struct atsm_snap_sync *y, struct atsm_snap_w *w, PGresult *r, int row,
    struct atsm_err *err)
{
	struct atsm_dir_user u;
	const char *login = text(r, row, 1);

	memset(&u, 0, sizeof(u));
	u.id = num(r, row, 0);
	if (login == NULL || strlen(login) >= sizeof(u.login))
		return bad_row(err, "users", r, row, "login missing or too long");
	strcpy(u.login, login);
	/* an unknown mode fails closed, as the policy does */
	if (atsm_sharing_mode_from_name(PQgetvalue(r, row, 2), &u.sharing_mode, NULL) < 0)
		u.sharing_mode = ATSM_SHARING_PRIVATE;
	u.default_share = flag(r, row, 3);
	u.needs_approval = flag(r, row, 4);
	u.active = flag(r, row, 5);
	/* NULL: the site's default_language; the column's CHECK keeps it short */
	if (text(r, row, 6) != NULL && strlen(text(r, row, 6)) < sizeof(u.lang))
		strcpy(u.lang, text(r, row, 6));
	return atsm_snap_user_put(w, &u, err);
}

/* ---------------------------------------------------------------- records */

static int
put_record(struct atsm_snap_w *w, int kind, PGresult *r, int row, struct atsm_err *err)
{
	const char *phase = text(r, row, 2);

	if (phase == NULL || strlen(phase) >= ATSM_DIR_PHASE_MAX)
		return bad_row(err, kind == 'r' ? "resumes" : "contacts", r, row, "bad phase");
	return atsm_snap_record_put(w, kind, num(r, row, 0), flag(r, row, 1), num(r, row, 3),
	    phase, err);
}

static int
put_resume(struct atsm_snap_sync *y, struct atsm_snap_w *w, PGresult *r, int row,
    struct atsm_err *err)
{
	return put_record(w, 'r', r, row, err);
}

static int
put_contact(struct atsm_snap_sync *y, struct atsm_snap_w *w, PGresult *r, int row,
    struct atsm_err *err)
{
	return put_record(w, 'c', r, row, err);
}

static int
del_resume(struct atsm_snap_w *w, long long id, struct atsm_err *err)
{
	return atsm_snap_record_del(w, 'r', id, err);
}

static int
del_contact(struct atsm_snap_w *w, long long id, struct atsm_err *err)
{
	return atsm_snap_record_del(w, 'c', id, err);
}

/* ------------------------------------------------------ jobs and processes */

static int
put_job(struct atsm_snap_sync *y, struct atsm_snap_w *w, PGresult *r, int row,
    struct atsm_err *err)
{
	struct atsm_snap_key k;
	VALUE_BUF(b);
	int rc;

	atsm_snap_key_id(&k, (uint64_t)num(r, row, 0));
	atsm_snap_enc_flag(&b, flag(r, row, 1));
	rc = atsm_snap_put(w, ATSM_SNAP_JOB, &k, &b, err);
	atsm_buf_free(&b);
	return rc;
}

static int
del_job(struct atsm_snap_w *w, long long id, struct atsm_err *err)
{
	struct atsm_snap_key k;

	atsm_snap_key_id(&k, (uint64_t)id);
	return atsm_snap_del(w, ATSM_SNAP_JOB, &k, err);
}

static int
put_process(struct atsm_snap_sync *y, struct atsm_snap_w *w, PGresult *r, int row,
    struct atsm_err *err)
{
	const char *phase = text(r, row, 3);

	if (phase == NULL || strlen(phase) >= ATSM_DIR_PHASE_MAX)
		return bad_row(err, "processes", r, row, "bad phase");
	return atsm_snap_proc_put(w, num(r, row, 0), num(r, row, 1), num(r, row, 2), phase, err);
}

/* -------------------------------------------------------------- addresses */

static int
put_address(struct atsm_snap_sync *y, struct atsm_snap_w *w, PGresult *r, int row,
    struct atsm_err *err)
{
	int kind = kind_of_name(text(r, row, 1));
	const char *addr = text(r, row, 3);

	if ((kind != 'u' && kind != 'r' && kind != 'c') || addr == NULL)
		return bad_row(err, "addresses", r, row, "bad owner kind or address");
	return atsm_snap_addr_put(w, num(r, row, 0), kind, num(r, row, 2), addr, err);
}

/* ----------------------------------------------------- small policy tables */

static int
put_phase(struct atsm_snap_sync *y, struct atsm_snap_w *w, PGresult *r, int row,
    struct atsm_err *err)
{
	int kind = kind_of_name(text(r, row, 1));
	const char *code = text(r, row, 2);
	struct atsm_snap_key k;
	VALUE_BUF(b);
	int rc;

	if (kind == 0 || code == NULL || code[0] == '\0' || strlen(code) >= ATSM_DIR_PHASE_MAX)
		return bad_row(err, "phases", r, row, "bad kind or code");
	atsm_snap_key_reset(&k);
	atsm_snap_key_u8(&k, (unsigned)kind);
	atsm_snap_key_raw(&k, code, strlen(code));
	atsm_snap_enc_phase(&b, flag(r, row, 3), (int)num(r, row, 4));
	rc = atsm_snap_put(w, ATSM_SNAP_PHASE, &k, &b, err);
	atsm_buf_free(&b);
	return rc;
}

/* Rule keys sort as the rule is chosen: kind, event, priority descending,
 * a named from_phase before "any", id. */
static int
put_rule(struct atsm_snap_sync *y, struct atsm_snap_w *w, PGresult *r, int row,
    struct atsm_err *err)
{
	int kind = kind_of_name(text(r, row, 1));
	const char *event = text(r, row, 2), *from = text(r, row, 3), *to = text(r, row, 4);
	uint32_t prio = (uint32_t)(int32_t)num(r, row, 5) ^ 0x80000000u;
	struct atsm_snap_key k;
	VALUE_BUF(b);
	int rc, ev;

	ev = event == NULL ? 0 : strcmp(event, "reply") == 0 ? 'r' :
	    strcmp(event, "bounce") == 0 ? 'b' : strcmp(event, "sent") == 0 ? 's' : 0;
	if (kind == 0 || ev == 0 || to == NULL || to[0] == '\0' ||
	    strlen(to) >= ATSM_DIR_PHASE_MAX || (from != NULL && strlen(from) >= ATSM_DIR_PHASE_MAX))
		return bad_row(err, "phase_rules", r, row, "bad kind, event or phase");
	atsm_snap_key_reset(&k);
	atsm_snap_key_u8(&k, (unsigned)kind);
	atsm_snap_key_u8(&k, (unsigned)ev);
	atsm_snap_key_u32(&k, ~prio);
	atsm_snap_key_u8(&k, from == NULL ? 1 : 0);
	atsm_snap_key_u64(&k, (uint64_t)num(r, row, 0));
	atsm_snap_enc_rule(&b, num(r, row, 0), from != NULL ? from : "", to);
	rc = atsm_snap_put(w, ATSM_SNAP_RULE, &k, &b, err);
	atsm_buf_free(&b);
	return rc;
}

/* A text key and a flag value: exclusion domains, intake addresses. */
static int
put_text_flag(struct atsm_snap_w *w, enum atsm_snap_db db, const char *key, bool f,
    struct atsm_err *err)
{
	struct atsm_snap_key k;
	VALUE_BUF(b);
	int rc;

	if (key == NULL || key[0] == '\0')
		return 0;
	atsm_snap_key_reset(&k);
	atsm_snap_key_text(&k, key);
	if (db == ATSM_SNAP_EXCL)
		atsm_snap_enc_empty(&b);
	else
		atsm_snap_enc_flag(&b, f);
	rc = atsm_snap_put(w, db, &k, &b, err);
	atsm_buf_free(&b);
	return rc;
}

static int
put_excl(struct atsm_snap_sync *y, struct atsm_snap_w *w, PGresult *r, int row,
    struct atsm_err *err)
{
	return put_text_flag(w, ATSM_SNAP_EXCL, text(r, row, 0), false, err);
}

static int
put_intake_addr(struct atsm_snap_sync *y, struct atsm_snap_w *w, PGresult *r, int row,
    struct atsm_err *err)
{
	return put_text_flag(w, ATSM_SNAP_INTAKE_ADDR, text(r, row, 0), flag(r, row, 1), err);
}

/* ----------------------------------------------------------------- intake */

const char atsm_snap_intake_select[] =
    "SELECT a.addr_norm, floor(extract(epoch FROM r.created_at))::bigint, 'r', r.id"
    " FROM atsmail.resumes r JOIN atsmail.addresses a"
    "  ON a.owner_kind = 'resume' AND a.owner_id = r.id"
    " WHERE r.created_from = 'mail' AND r.created_at > now() - " INTAKE_KEEP_SQL
    " UNION ALL SELECT sender, floor(extract(epoch FROM created_at))::bigint, 'u', id"
    " FROM atsmail.unresolved_items WHERE created_at > now() - " INTAKE_KEEP_SQL;

int
atsm_snap_put_intake(struct atsm_snap_sync *y, struct atsm_snap_w *w, PGresult *r, int row,
    struct atsm_err *err)
{
	y->intake = true;
	return atsm_snap_intake_put(w, text(r, row, 0), num(r, row, 1), PQgetvalue(r, row, 2)[0],
	    (uint64_t)num(r, row, 3), err);
}

/* --------------------------------------------------------------- messages */

#define LINKS_MAX_SQL "1024"          /* ATSM_DIR_MESSAGE_LINKS_MAX */
#define RCPTS_MAX_SQL "1200"          /* ATSM_DIR_PARTICIPANTS_MAX */

const char atsm_snap_messages_select[] =
    "SELECT m.id, m.direction, m.rfc_message_id, coalesce(m.thread_id, m.id), m.visibility,"
    " coalesce(m.token, ''), coalesce(m.idempotency_key, ''),"
    " to_json(m.counterparts[1:" RCPTS_MAX_SQL "])::text,"
    " (SELECT json_agg(json_build_array(l.target_kind, l.target_id, l.ambiguous,"
    "   coalesce(p.resume_id, 0), coalesce(p.job_id, 0)) ORDER BY l.id)"
    "  FROM (SELECT id, target_kind, target_id, ambiguous FROM atsmail.message_links"
    "   WHERE message_id = m.id ORDER BY id LIMIT " LINKS_MAX_SQL ") l"
    "  LEFT JOIN atsmail.processes p ON l.target_kind = 'process' AND p.id = l.target_id)::text,"
    " (SELECT json_agg(r.address) FROM (SELECT DISTINCT address"
    "   FROM atsmail.message_recipients WHERE message_id = m.id"
    "   ORDER BY address LIMIT " RCPTS_MAX_SQL ") r)::text,"
    " coalesce(m.owner_id, 0)"
    " FROM atsmail.messages m";

/* Add the addresses of a JSON array to the participants, once each. */
static int
add_participants(struct atsm_arena *a, const char *json, struct atsm_dir_message *m)
{
	json_t *arr;
	size_t i, k;

	if (json == NULL)
		return 0;
	if ((arr = json_loads(json, 0, NULL)) == NULL || !json_is_array(arr)) {
		json_decref(arr);
		return -1;
	}
	for (i = 0; i < json_array_size(arr) && m->n_participants < ATSM_DIR_PARTICIPANTS_MAX;
	    i++) {
		const char *s = json_string_value(json_array_get(arr, i));

		if (s == NULL || s[0] == '\0' || strlen(s) > ATSM_SNAP_ADDR_MAX)
			continue;
		for (k = 0; k < m->n_participants; k++)
			if (strcmp(m->participants[k], s) == 0)
				break;
		if (k < m->n_participants)
			continue;
		if ((m->participants[m->n_participants] = atsm_arena_strdup(a, s)) == NULL) {
			json_decref(arr);
			return -1;
		}
		m->n_participants++;
	}
	json_decref(arr);
	return 0;
}

static int
add_links(struct atsm_arena *a, const char *json, struct atsm_dir_message *m)
{
	json_t *arr;
	size_t i, n;

	if (json == NULL)
		return 0;
	if ((arr = json_loads(json, 0, NULL)) == NULL || !json_is_array(arr)) {
		json_decref(arr);
		return -1;
	}
	n = json_array_size(arr);
	if (n > ATSM_DIR_MESSAGE_LINKS_MAX)
		n = ATSM_DIR_MESSAGE_LINKS_MAX;
	if (n > 0 && (m->links = atsm_arena_calloc(a, n, sizeof(*m->links))) == NULL) {
		json_decref(arr);
		return -1;
	}
	for (i = 0; i < n; i++) {
		json_t *l = json_array_get(arr, i);
		struct atsm_dir_link *x = &m->links[m->n_links];
		int kind = kind_of_name(json_string_value(json_array_get(l, 0)));

		x->kind = atsm_snap_kind_of_char(kind);
		if (x->kind == ATSM_RECORD_NONE)
			continue;
		x->id = (long long)json_integer_value(json_array_get(l, 1));
		x->ambiguous = json_is_true(json_array_get(l, 2));
		if (x->kind == ATSM_RECORD_PROCESS) {
			x->resume_id = (long long)json_integer_value(json_array_get(l, 3));
			x->job_id = (long long)json_integer_value(json_array_get(l, 4));
		}
		m->n_links++;
	}
	json_decref(arr);
	return 0;
}

int
atsm_snap_put_message(struct atsm_snap_sync *y, struct atsm_snap_w *w, PGresult *r, int row,
    struct atsm_err *err)
{
	struct atsm_dir_message m;
	struct atsm_arena a;
	const char *msgid = text(r, row, 2), *vis = text(r, row, 4);
	const char *token = text(r, row, 5), *key = text(r, row, 6);
	int rc;

	memset(&m, 0, sizeof(m));
	m.ref.id = num(r, row, 0);
	if ((uint64_t)m.ref.id > y->max_msg)
		y->max_msg = (uint64_t)m.ref.id;
	if (strlen(token) >= sizeof(m.token) || strlen(key) >= sizeof(m.ref.key) ||
	    (msgid != NULL && strlen(msgid) > ATSM_SNAP_TEXT_MAX))
		return 0;          /* no decision can look it up: not kept */
	strcpy(m.token, token);
	strcpy(m.ref.key, key);
	m.direction = strcmp(PQgetvalue(r, row, 1), "in") == 0 ? ATSM_DIR_IN : ATSM_DIR_OUT;
	m.thread.id = num(r, row, 3);
	if (m.thread.id == m.ref.id)
		strcpy(m.thread.key, m.ref.key);
	if (vis == NULL || atsm_visibility_from_name(vis, &m.visibility, NULL) < 0)
		m.visibility = ATSM_VIS_PRIVATE;     /* fails closed */
	m.owner_id = num(r, row, 10);
	atsm_arena_init(&a, 4u * 1024u * 1024u);
	m.participants = atsm_arena_calloc(&a, ATSM_DIR_PARTICIPANTS_MAX, sizeof(char *));
	if (m.participants == NULL || add_participants(&a, text(r, row, 7), &m) < 0 ||
	    add_links(&a, text(r, row, 8), &m) < 0 || add_participants(&a, text(r, row, 9), &m) < 0) {
		atsm_arena_free(&a);
		return bad_row(err, "messages", r, row, "links or participants do not read");
	}
	rc = atsm_snap_msg_put_pg(w, &m, msgid, err);
	atsm_arena_free(&a);
	return rc;
}

/* ------------------------------------------------------------------ table */

#define INTAKE_OF_RESUMES(where) \
	"SELECT a.addr_norm, floor(extract(epoch FROM r.created_at))::bigint, 'r', r.id" \
	" FROM atsmail.resumes r JOIN atsmail.addresses a" \
	"  ON a.owner_kind = 'resume' AND a.owner_id = r.id" \
	" WHERE " where " = ANY($1::bigint[]) AND r.created_from = 'mail'" \
	" AND r.created_at > now() - " INTAKE_KEEP_SQL

/* In the order a batch reads them: policy data, then records, then the
 * messages that name them. */
const struct atsm_snap_table atsm_snap_tables[] = {
	{ "users", ATSM_SNAP_HOW_ID,
	  "SELECT id, login, sharing_mode, default_share, needs_approval, active, lang"
	  " FROM atsmail.users", ATSM_SNAP_USER, 0, put_user, atsm_snap_user_del, NULL },
	{ "phases", ATSM_SNAP_HOW_WHOLE,
	  "SELECT id, kind, code, active, sort_order FROM atsmail.phases",
	  ATSM_SNAP_PHASE, 0, put_phase, NULL, NULL },
	{ "phase_rules", ATSM_SNAP_HOW_WHOLE,
	  "SELECT id, kind, event, from_phase, to_phase, priority FROM atsmail.phase_rules"
	  " WHERE active", ATSM_SNAP_RULE, 0, put_rule, NULL, NULL },
	{ "exclusion_domains", ATSM_SNAP_HOW_WHOLE,
	  "SELECT domain FROM atsmail.exclusion_domains", ATSM_SNAP_EXCL, 0, put_excl, NULL, NULL },
	{ "intake_addresses", ATSM_SNAP_HOW_WHOLE,
	  "SELECT address, action = 'unresolved' FROM atsmail.intake_addresses",
	  ATSM_SNAP_INTAKE_ADDR, 0, put_intake_addr, NULL, NULL },
	{ "jobs", ATSM_SNAP_HOW_ID, "SELECT id, status = 'open' FROM atsmail.jobs",
	  ATSM_SNAP_JOB, 0, put_job, del_job, NULL },
	{ "resumes", ATSM_SNAP_HOW_ID,
	  "SELECT id, shared, phase, owner_id FROM atsmail.resumes",
	  ATSM_SNAP_RECORD, 'r', put_resume, del_resume, INTAKE_OF_RESUMES("r.id") },
	{ "contacts", ATSM_SNAP_HOW_ID,
	  "SELECT id, shared, phase, owner_id FROM atsmail.contacts",
	  ATSM_SNAP_RECORD, 'c', put_contact, del_contact, NULL },
	{ "processes", ATSM_SNAP_HOW_ID,
	  "SELECT id, resume_id, job_id, phase FROM atsmail.processes",
	  ATSM_SNAP_PROC_ID, 0, put_process, atsm_snap_proc_del, NULL },
	{ "addresses", ATSM_SNAP_HOW_ID,
	  "SELECT id, owner_kind, owner_id, addr_norm FROM atsmail.addresses",
	  ATSM_SNAP_ADDR_ROW, 0, put_address, atsm_snap_addr_del, INTAKE_OF_RESUMES("a.id") },
	{ "unresolved_items", ATSM_SNAP_HOW_INTAKE, NULL, ATSM_SNAP_INTAKE, 0, NULL, NULL,
	  "SELECT sender, floor(extract(epoch FROM created_at))::bigint, 'u', id"
	  " FROM atsmail.unresolved_items WHERE id = ANY($1::bigint[])"
	  " AND created_at > now() - " INTAKE_KEEP_SQL },
	{ "messages", ATSM_SNAP_HOW_MESSAGES, atsm_snap_messages_select, ATSM_SNAP_MSG, 0,
	  atsm_snap_put_message, NULL, NULL },
	{ "message_links", ATSM_SNAP_HOW_MSG_PART, NULL, ATSM_SNAP_MSG, 0, NULL, NULL, NULL },
	{ "message_recipients", ATSM_SNAP_HOW_MSG_PART, NULL, ATSM_SNAP_MSG, 0, NULL, NULL, NULL },
};

const size_t atsm_snap_ntables = sizeof(atsm_snap_tables) / sizeof(atsm_snap_tables[0]);

const struct atsm_snap_table *
atsm_snap_table_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < atsm_snap_ntables; i++)
		if (strlen(atsm_snap_tables[i].name) == len &&
		    memcmp(atsm_snap_tables[i].name, name, len) == 0)
			return &atsm_snap_tables[i];
	return NULL;
}
