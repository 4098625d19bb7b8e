/* inbound/plan.c -- atsm_in_plan(): what to do with one mail that reached
 * a mailbox.  The order of the decisions is that of docs/inbound.md:
 *
 *	1. the mailbox owner must be a user, or the mail reached an intake
 *	   address; feedback reports are never filed
 *	2. a copy of recorded outbound mail (its Message-ID; an APPEND also by
 *	   its X-ATS-Ref token) -> SENT_COPY
 *	3. a bounce -> the sent item by VERP token, the original's X-ATS-Ref,
 *	   the original's Message-ID -> BOUNCE (unknown sent item: IGNORE)
 *	4. matching, strongest rule first: In-Reply-To / References of a
 *	   recorded message; a valid token (X-ATS-Ref, a token address the
 *	   reply was sent to) whose message the sender takes part in; the
 *	   sender's address (several records: all, ambiguous) -> FILE
 *	5. an intake address and nothing matched: loop guards, rate limit
 *	   -> INTAKE (a resume or an unresolved item)
 *	6. otherwise IGNORE
 * then the phase rules (data: atsmail.phase_rules) and the visibility.
 * The statements are bounded by the connection's statement_timeout.
 */
#include "inbound/inbound.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/addr.h"
#include "mail/rfc2047.h"
#include "mail/msgid.h"
#include "rules/policy.h"
#include "rules/verp.h"
#include "store/sql-array.h"

#define ARRAY_MAX (1024u * 1024u)
#define COUNTERPARTS_MAX 200     /* addresses of To/Cc kept as counterparts */

/* A record the mail is linked to, or a phase-rule target. */
struct rec {
	char kind[8];
	long long id;
	char rule[20];
	bool ambiguous;
	bool shared;
	bool link;              /* false: a phase-rule target only */
	char phase[33];
};

struct plan_ctx {
	PGconn *conn;
	const struct atsm_conf *conf;
	const struct atsm_token_keys *keys;
	const struct atsm_in_facts *f;
	enum atsm_in_mode mode;
	struct atsm_in_plan *p;
	struct atsm_err *err;
	struct rec *recs;
	size_t nrecs, cap;
	char sharing_mode[8];
	bool default_share;
	bool intake;
	char *from_vis;         /* BOUNCE: the sent item's visibility */
	long long received;     /* this mail's 'in' row, 0 = none yet */
	bool loaded;            /* recs carry their shared flag and phase */
	char from_reason[128];
	size_t nkw;
};

const char *
atsm_in_verdict_name(enum atsm_in_verdict v)
{
	switch (v) {
	case ATSM_IN_IGNORE: return "ignore";
	case ATSM_IN_FILE: return "file";
	case ATSM_IN_BOUNCE: return "bounce";
	case ATSM_IN_INTAKE: return "intake";
	case ATSM_IN_SENT_COPY: return "sent_copy";
	}
	return "?";
}

void
atsm_in_plan_free(struct atsm_in_plan *p)
{
	size_t i;

	for (i = 0; i < p->n_counterparts; i++)
		free(p->counterparts[i]);
	free(p->counterparts);
	free(p->links);
	free(p->phases);
	free(p->subject);
	free(p->rfc_message_id);
	free(p->sender);
	free(p->sender_name);
	free(p->thread_root);
	memset(p, 0, sizeof(*p));
}

/* ------------------------------------------------------------ helpers */

static void note(struct plan_ctx *c, const char *fmt, ...) ATSM_PRINTF(2, 3);
static void
note(struct plan_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	atsm_str_vjoin(c->p->notes, sizeof(c->p->notes), "; ", fmt, ap);
	va_end(ap);
}

/* Every lookup runs for every mail: prepared once per connection. */
static PGresult *
query(struct plan_ctx *c, const char *sql, int n, const char *const *v)
{
	return atsm_db_exec_prepared(c->conn, sql, n, v, c->err);
}

static int
oom(struct plan_ctx *c, const char *what)
{
	return atsm_err_setc(c->err, ATSM_ERR_NOMEM, "inbound plan: out of memory (%s)",
	    what);
}

static long long
num(const PGresult *r, int row, int col)
{
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static void
keyword(struct plan_ctx *c, const char *kw)
{
	size_t i;

	for (i = 0; i < c->nkw; i++)
		if (strcmp(c->p->keywords[i], kw) == 0)
			return;
	if (c->nkw + 1 < ATSM_IN_MAX_KEYWORDS) {
		c->p->keywords[c->nkw++] = kw;
		c->p->keywords[c->nkw] = NULL;
	}
}

static struct rec *
find_rec(struct plan_ctx *c, const char *kind, long long id)
{
	size_t i;

	for (i = 0; i < c->nrecs; i++)
		if (c->recs[i].id == id && strcmp(c->recs[i].kind, kind) == 0)
			return &c->recs[i];
	return NULL;
}

/* Add (or find) a record; NULL when the bound is reached or memory is out. */
static struct rec *
add_rec(struct plan_ctx *c, const char *kind, long long id, const char *rule, bool link)
{
	struct rec *r;

	if ((r = find_rec(c, kind, id)) != NULL) {
		r->link |= link;
		return r;
	}
	if (c->nrecs == c->cap) {
		size_t ncap = c->cap ? 2 * c->cap : 16;

		if (ncap > ATSM_IN_MAX_LINKS)
			ncap = ATSM_IN_MAX_LINKS;
		if (c->nrecs == ncap || (r = realloc(c->recs, ncap * sizeof(*r))) == NULL)
			return NULL;
		c->recs = r;
		c->cap = ncap;
	}
	r = &c->recs[c->nrecs++];
	memset(r, 0, sizeof(*r));
	snprintf(r->kind, sizeof(r->kind), "%s", kind);
	snprintf(r->rule, sizeof(r->rule), "%s", rule);
	r->id = id;
	r->link = link;
	return r;
}

static void
free_ids(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
}

static int
text_array(struct plan_ctx *c, char *const *v, size_t n, struct atsm_buf *b)
{
	atsm_buf_init(b, ARRAY_MAX);
	if (atsm_out_sql_text_array(v, n, b) < 0)
		return oom(c, "array");
	return 0;
}

/* ------------------------------------------------------------ headers */

/* Subject in UTF-8, Message-ID without brackets, the sender (first From
 * address, else the envelope sender) and its decoded display name. */
static int
decode_headers(struct plan_ctx *c)
{
	const struct atsm_in_facts *f = c->f;
	struct atsm_in_plan *p = c->p;
	struct atsm_addr_list l;

	if (f->hdr_subject != NULL &&
	    (p->subject = atsm_rfc2047_decode_dup(f->hdr_subject, c->conf->decode_max_bytes)) == NULL)
		return oom(c, "subject");
	if (atsm_msgid_bare(f->hdr_message_id, &p->rfc_message_id) < 0)
		return oom(c, "message-id");
	if (f->hdr_from != NULL) {
		(void)atsm_addr_parse_list(f->hdr_from, strlen(f->hdr_from), 16, &l, NULL);
		if (l.n > 0 && l.v[0].domain != NULL &&
		    atsm_addr_normalize(l.v[0].addr, &p->sender, NULL) == 0 &&
		    l.v[0].display != NULL && l.v[0].display[0] != '\0')
			p->sender_name = strdup(l.v[0].display);
		atsm_addr_list_free(&l);
	}
	if (p->sender == NULL && f->env_from != NULL && f->env_from[0] != '\0')
		(void)atsm_addr_normalize(f->env_from, &p->sender, NULL);
	return 0;
}

static bool
has_cp(const struct atsm_in_plan *p, const char *a)
{
	size_t i;

	for (i = 0; i < p->n_counterparts; i++)
		if (strcmp(p->counterparts[i], a) == 0)
			return true;
	return false;
}

/* Counterparts: the sender and the other To/Cc addresses (the mailbox's own
 * address and the owner's login excepted). */
static int
make_counterparts(struct plan_ctx *c)
{
	const struct atsm_in_facts *f = c->f;
	struct atsm_in_plan *p = c->p;
	const char *hv[2] = { f->hdr_to, f->hdr_cc };
	char *self = NULL;
	size_t i, k;

	if ((p->counterparts = calloc(COUNTERPARTS_MAX + 1, sizeof(char *))) == NULL)
		return oom(c, "counterparts");
	if (p->sender != NULL && (p->counterparts[p->n_counterparts++] = strdup(p->sender)) == NULL)
		return oom(c, "counterparts");
	if (f->env_to != NULL)
		(void)atsm_addr_normalize(f->env_to, &self, NULL);
	for (k = 0; k < 2; k++) {
		struct atsm_addr_list l;

		if (hv[k] == NULL)
			continue;
		(void)atsm_addr_parse_list(hv[k], strlen(hv[k]), COUNTERPARTS_MAX, &l, NULL);
		for (i = 0; i < l.n && p->n_counterparts < COUNTERPARTS_MAX; i++) {
			char *n;

			if (l.v[i].domain == NULL || atsm_addr_normalize(l.v[i].addr, &n, NULL) < 0)
				continue;
			if (has_cp(p, n) || (self != NULL && strcmp(n, self) == 0) ||
			    strcmp(n, p->owner_login) == 0)
				free(n);
			else
				p->counterparts[p->n_counterparts++] = n;
		}
		atsm_addr_list_free(&l);
	}
	free(self);
	return 0;
}

/* ------------------------------------------------------- owner, intake */

/* The intake candidates: the envelope recipient (or Delivered-To, which
 * the facts carry in env_to); without one, the To/Cc addresses. */
static size_t
intake_candidates(const struct atsm_in_facts *f, char **cand)
{
	const char *hv[2] = { f->hdr_to, f->hdr_cc };
	size_t n = 0, i, k;

	if (f->env_to != NULL && f->env_to[0] != '\0')
		return atsm_addr_normalize(f->env_to, &cand[0], NULL) == 0 ? 1 : 0;
	for (k = 0; k < 2; k++) {
		struct atsm_addr_list l;

		if (hv[k] == NULL)
			continue;
		(void)atsm_addr_parse_list(hv[k], strlen(hv[k]), COUNTERPARTS_MAX, &l, NULL);
		for (i = 0; i < l.n && n < COUNTERPARTS_MAX; i++)
			if (l.v[i].domain != NULL &&
			    atsm_addr_normalize(l.v[i].addr, &cand[n], NULL) == 0)
				n++;
		atsm_addr_list_free(&l);
	}
	return n;
}

/* Step 1, one statement: the mailbox owner (users.login, or a user's
 * address) and the intake address the mail reached, if any. */
static int
lookup_owner_intake(struct plan_ctx *c)
{
	static const char sql[] =
	    "SELECT o.id, o.login, o.sharing_mode, o.default_share, i.address, i.action"
	    " FROM (SELECT 1) AS one"
	    " LEFT JOIN LATERAL (SELECT u.id, u.login, u.sharing_mode, u.default_share"
	    "  FROM atsmail.users u WHERE u.active AND (u.login = $1 OR u.id ="
	    "  (SELECT a.owner_id FROM atsmail.addresses a"
	    "   WHERE a.owner_kind = 'user' AND a.addr_norm = $2))"
	    "  ORDER BY u.login = $1 DESC LIMIT 1) AS o ON true"
	    " LEFT JOIN LATERAL (SELECT address, action FROM atsmail.intake_addresses"
	    "  WHERE address = ANY($3::text[]) ORDER BY address LIMIT 1) AS i ON true";
	struct atsm_in_plan *p = c->p;
	char *cand[COUNTERPARTS_MAX + 1], *norm = NULL;
	size_t n;
	struct atsm_buf b;
	const char *v[3];
	PGresult *r;
	int rc = -1;

	n = intake_candidates(c->f, cand);
	(void)atsm_addr_normalize(c->f->mailbox_user, &norm, NULL);
	if (text_array(c, cand, n, &b) < 0)
		goto out;
	v[0] = c->f->mailbox_user;
	v[1] = norm;
	v[2] = atsm_buf_str(&b);
	if ((r = query(c, sql, 3, v)) != NULL) {
		if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) {
			p->mailbox_user_id = num(r, 0, 0);
			snprintf(p->owner_login, sizeof(p->owner_login), "%s", PQgetvalue(r, 0, 1));
			snprintf(c->sharing_mode, sizeof(c->sharing_mode), "%s",
			    PQgetvalue(r, 0, 2));
			c->default_share = strcmp(PQgetvalue(r, 0, 3), "t") == 0;
		}
		if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 4)) {
			c->intake = true;
			snprintf(p->intake_address, sizeof(p->intake_address), "%s",
			    PQgetvalue(r, 0, 4));
			p->intake_unresolved = strcmp(PQgetvalue(r, 0, 5), "unresolved") == 0;
		}
		PQclear(r);
		rc = 0;
	}
	atsm_buf_free(&b);
out:
	free(norm);
	free_ids(cand, n);
	return rc;
}

/* ------------------------------------------------------------- tokens */

/* A token text as written (X-ATS-Ref value) to its canonical form: trimmed,
 * lower case, of the token alphabet; false when it cannot be one. */
static bool
canon_token(const char *v, char out[ATSM_TOKEN_MAX])
{
	size_t n = 0;

	if (v == NULL)
		return false;
	v += strspn(v, " \t<");
	while (*v != '\0' && *v != ' ' && *v != '\t' && *v != '>' && *v != ';') {
		char ch = (char)tolower((unsigned char)*v++);

		if (n + 1 >= ATSM_TOKEN_MAX || !((ch >= 'a' && ch <= 'z') || (ch >= '2' && ch <= '7')))
			return false;
		out[n++] = ch;
	}
	out[n] = '\0';
	return n == ATSM_TOKEN_LEN;
}

/* With keys, the MAC must verify (forged tokens cost no lookup); without
 * (a replay without the secret) the exact match of the stored token,
 * which carries its MAC, is as strong. */
static bool
token_ok(struct plan_ctx *c, const char *tok)
{
	unsigned char id[ATSM_TOKEN_ID_LEN];

	if (c->keys == NULL || c->keys->n == 0)
		return strlen(tok) == ATSM_TOKEN_LEN;
	return atsm_token_verify(c->keys, tok, strlen(tok), id) == 0;
}

static bool
verp_token(struct plan_ctx *c, const char *addr, char tok[ATSM_TOKEN_MAX])
{
	const char *d = c->conf->recipient_delimiter;

	tok[0] = '\0';
	if (addr == NULL || addr[0] == '\0')
		return false;
	return atsm_verp_parse(addr, d != NULL && d[0] != '\0' ? d[0] : '\0',
	    c->conf->verp_tag != NULL && c->conf->verp_tag[0] != '\0' ? c->conf->verp_tag : NULL,
	    tok) == 0 && token_ok(c, tok);
}

/* ----------------------------------------------------------- matching */

/* Link the records of recorded message mid (its links), with rule. */
static int
link_message(struct plan_ctx *c, long long mid, const char *rule, size_t *added)
{
	static const char sql[] =
	    "SELECT target_kind, target_id, ambiguous FROM atsmail.message_links"
	    " WHERE message_id = $1::bigint ORDER BY id";
	char id[24];
	const char *v[1] = { id };
	PGresult *r;
	int row;

	*added = 0;
	snprintf(id, sizeof(id), "%lld", mid);
	if ((r = query(c, sql, 1, v)) == NULL)
		return -1;
	for (row = 0; row < PQntuples(r); row++) {
		struct rec *x = add_rec(c, PQgetvalue(r, row, 0), num(r, row, 1), rule, true);

		if (x == NULL) {
			note(c, "more than %d links: the rest dropped", ATSM_IN_MAX_LINKS);
			break;
		}
		x->ambiguous |= strcmp(PQgetvalue(r, row, 2), "t") == 0;
		(*added)++;
	}
	PQclear(r);
	return 0;
}

/* Rule 1: In-Reply-To, then References, naming a recorded message of
 * either direction; its links are the mail's. */
static int
match_replies(struct plan_ctx *c)
{
	static const char sql[] =
	    "SELECT m.id, coalesce(m.thread_id, m.id), m.rfc_message_id = ANY($2::text[])"
	    " FROM atsmail.messages m WHERE m.rfc_message_id = ANY($1::text[])"
	    " ORDER BY 3 DESC, m.id DESC";
	const struct atsm_in_facts *f = c->f;
	struct atsm_in_plan *p = c->p;
	char *all[2 * ATSM_IN_MAX_REFS + 2], *irt[ATSM_IN_MAX_REFS + 1];
	size_t nall = 0, nirt = 0, added;
	struct atsm_buf b1, b2;
	const char *v[2];
	PGresult *r = NULL;
	int row, rc = -1;

	nall = atsm_msgid_list(f->hdr_references, all, ATSM_IN_MAX_REFS);
	nirt = atsm_msgid_list(f->hdr_in_reply_to, irt, ATSM_IN_MAX_REFS);
	if (nall + nirt > 0 && (p->thread_root = strdup(nall > 0 ? all[0] : irt[0])) == NULL) {
		oom(c, "thread");
		goto out0;
	}
	if (nall + nirt == 0) {
		rc = 0;
		goto out0;
	}
	memcpy(all + nall, irt, nirt * sizeof(char *));
	atsm_buf_init(&b2, ARRAY_MAX);
	if (text_array(c, all, nall + nirt, &b1) < 0 || text_array(c, irt, nirt, &b2) < 0)
		goto out;
	v[0] = atsm_buf_str(&b1);
	v[1] = atsm_buf_str(&b2);
	if ((r = query(c, sql, 2, v)) == NULL)
		goto out;
	for (row = 0; row < PQntuples(r); row++) {
		const char *rule = strcmp(PQgetvalue(r, row, 2), "t") == 0 ? "in_reply_to" : "references";

		if (p->thread_id == 0)
			p->thread_id = num(r, row, 1);
		if (link_message(c, num(r, row, 0), rule, &added) < 0)
			goto out;
		if (added > 0) {
			note(c, "matched by %s", rule);
			break;     /* the nearest recorded message with links decides */
		}
	}
	rc = 0;
out:
	PQclear(r);
	atsm_buf_free(&b1);
	atsm_buf_free(&b2);
out0:
	free_ids(all, nall);
	free_ids(irt, nirt);
	return rc;
}

/* The recorded message of a token (direction out), and whether the sender
 * takes part in it (a recipient or counterpart, or an address of a record
 * it is linked to).  0 with *mid = 0 when unknown. */
static int
token_message(struct plan_ctx *c, const char *tok, long long *mid, long long *thread,
    bool *takes_part)
{
	static const char sql[] =
	    "SELECT m.id, coalesce(m.thread_id, m.id),"
	    " ($2::text = ANY(m.counterparts)"
	    "  OR EXISTS (SELECT 1 FROM atsmail.message_recipients r"
	    "             WHERE r.message_id = m.id AND r.address = $2)"
	    "  OR EXISTS (SELECT 1 FROM atsmail.message_links l JOIN atsmail.addresses a"
	    "             ON a.owner_kind = l.target_kind AND a.owner_id = l.target_id"
	    "             WHERE l.message_id = m.id AND a.addr_norm = $2)),"
	    " m.visibility"
	    " FROM atsmail.messages m WHERE m.token = $1 AND m.direction = 'out'";
	const char *v[2] = { tok, c->p->sender != NULL ? c->p->sender : "" };
	PGresult *r;

	*mid = *thread = 0;
	*takes_part = false;
	if ((r = query(c, sql, 2, v)) == NULL)
		return -1;
	if (PQntuples(r) == 1) {
		*mid = num(r, 0, 0);
		*thread = num(r, 0, 1);
		*takes_part = strcmp(PQgetvalue(r, 0, 2), "t") == 0;
		if (c->from_vis == NULL)
			c->from_vis = strdup(PQgetvalue(r, 0, 3));
	}
	PQclear(r);
	return 0;
}

/* Rule 2: a token: X-ATS-Ref, then the address the reply was sent to
 * (envelope recipient / Delivered-To, To, Cc: a Reply-To token address).
 * Accepted only when the sender takes part in the token's message. */
static int
match_token(struct plan_ctx *c)
{
	const struct atsm_in_facts *f = c->f;
	struct atsm_in_plan *p = c->p;
	struct { char tok[ATSM_TOKEN_MAX]; const char *rule; } cand[1 + 1 + 2 * 16];
	size_t n = 0, i, k, added;
	const char *hv[2] = { f->hdr_to, f->hdr_cc };

	if (canon_token(f->hdr_ats_ref, cand[n].tok) && token_ok(c, cand[n].tok))
		cand[n++].rule = "token";
	if (verp_token(c, f->env_to, cand[n].tok))
		cand[n++].rule = "reply_to";
	for (k = 0; k < 2; k++) {
		struct atsm_addr_list l;

		if (hv[k] == NULL)
			continue;
		(void)atsm_addr_parse_list(hv[k], strlen(hv[k]), 16, &l, NULL);
		for (i = 0; i < l.n && n < sizeof(cand) / sizeof(cand[0]); i++)
			if (l.v[i].domain != NULL && verp_token(c, l.v[i].addr, cand[n].tok))
				cand[n++].rule = "reply_to";
		atsm_addr_list_free(&l);
	}
	for (i = 0; i < n; i++) {
		long long mid, thread;
		bool part;

		if (token_message(c, cand[i].tok, &mid, &thread, &part) < 0)
			return -1;
		if (mid == 0)
			continue;
		if (!part) {
			note(c, "%s token of message %lld ignored: the sender %s takes no part in it",
			    cand[i].rule, mid, p->sender != NULL ? p->sender : "(none)");
			continue;
		}
		if (link_message(c, mid, cand[i].rule, &added) < 0)
			return -1;
		if (added > 0) {
			if (p->thread_id == 0)
				p->thread_id = thread;
			note(c, "matched by %s", cand[i].rule);
			return 0;
		}
	}
	return 0;
}

/* Rule 3: the sender's address belongs to resumes or contacts.  Their
 * shared flag and phase come with them (load_records, in the same
 * statement); a record that no longer exists is dropped. */
static int
match_sender(struct plan_ctx *c)
{
	static const char sql[] =
	    "SELECT a.owner_kind, a.owner_id, coalesce(r.shared, k.shared),"
	    " coalesce(r.phase, k.phase), r.id IS NOT NULL OR k.id IS NOT NULL"
	    " FROM (SELECT owner_kind, owner_id FROM atsmail.addresses"
	    "  WHERE addr_norm = $1 AND owner_kind IN ('resume', 'contact')"
	    "  ORDER BY owner_kind DESC, owner_id LIMIT $2::int) AS a"
	    " LEFT JOIN atsmail.resumes r ON a.owner_kind = 'resume' AND r.id = a.owner_id"
	    " LEFT JOIN atsmail.contacts k ON a.owner_kind = 'contact' AND k.id = a.owner_id"
	    " ORDER BY a.owner_kind DESC, a.owner_id";
	char lim[16];
	const char *v[2] = { c->p->sender, lim };
	PGresult *r;
	int row, n;

	if (c->p->sender == NULL)
		return 0;
	snprintf(lim, sizeof(lim), "%d", ATSM_IN_MAX_LINKS);
	if ((r = query(c, sql, 2, v)) == NULL)
		return -1;
	n = PQntuples(r);
	for (row = 0; row < n; row++) {
		struct rec *x;

		if (strcmp(PQgetvalue(r, row, 4), "t") != 0)
			continue;
		if ((x = add_rec(c, PQgetvalue(r, row, 0), num(r, row, 1), "sender_address",
		    true)) == NULL) {
			PQclear(r);
			return oom(c, "records");
		}
		x->ambiguous = n > 1;
		x->shared = strcmp(PQgetvalue(r, row, 2), "t") == 0;
		snprintf(x->phase, sizeof(x->phase), "%s", PQgetvalue(r, row, 3));
	}
	PQclear(r);
	if (n > 0)
		note(c, "matched by the sender's address%s", n > 1 ? " (several records)" : "");
	c->loaded = true;
	return 0;
}

/* Shared flag and phase of every resume, contact and process in recs; a
 * record that no longer exists is dropped. */
static int
load_records(struct plan_ctx *c)
{
	static const char sql[] =
	    "SELECT 'resume', id, shared, phase FROM atsmail.resumes WHERE id = ANY($1::bigint[])"
	    " UNION ALL SELECT 'contact', id, shared, phase FROM atsmail.contacts"
	    "  WHERE id = ANY($2::bigint[])"
	    " UNION ALL SELECT 'process', id, true, phase FROM atsmail.processes"
	    "  WHERE id = ANY($3::bigint[])";
	static const char *const kinds[3] = { "resume", "contact", "process" };
	long long *ids;
	size_t i, k, n, keep = 0;
	struct atsm_buf b[3];
	const char *v[3];
	bool *seen;
	PGresult *r = NULL;
	int row, rc = -1;

	ids = calloc(c->nrecs + 1, sizeof(long long));
	seen = calloc(c->nrecs + 1, sizeof(bool));
	for (k = 0; k < 3; k++)
		atsm_buf_init(&b[k], ARRAY_MAX);
	if (ids == NULL || seen == NULL) {
		oom(c, "records");
		goto out;
	}
	for (k = 0; k < 3; k++) {
		for (i = n = 0; i < c->nrecs; i++)
			if (strcmp(c->recs[i].kind, kinds[k]) == 0)
				ids[n++] = c->recs[i].id;
		if (atsm_out_sql_int_array(ids, n, &b[k]) < 0) {
			oom(c, "records");
			goto out;
		}
		v[k] = atsm_buf_str(&b[k]);
	}
	if ((r = query(c, sql, 3, v)) == NULL)
		goto out;
	for (row = 0; row < PQntuples(r); row++) {
		struct rec *x = find_rec(c, PQgetvalue(r, row, 0), num(r, row, 1));

		if (x == NULL)
			continue;
		x->shared = strcmp(PQgetvalue(r, row, 2), "t") == 0;
		snprintf(x->phase, sizeof(x->phase), "%s", PQgetvalue(r, row, 3));
		seen[x - c->recs] = true;
	}
	for (i = 0; i < c->nrecs; i++)
		if (seen[i] || strcmp(c->recs[i].kind, "job") == 0)
			c->recs[keep++] = c->recs[i];
	c->nrecs = keep;
	rc = 0;
out:
	PQclear(r);
	for (k = 0; k < 3; k++)
		atsm_buf_free(&b[k]);
	free(ids);
	free(seen);
	return rc;
}

/* -------------------------------------------------------- phase rules */

/* Processes a reply moves: those linked to the replied-to message; else
 * the processes of the linked (not ambiguous) resumes whose job is open. */
static int
add_open_processes(struct plan_ctx *c)
{
	static const char sql[] =
	    "SELECT p.id, p.phase FROM atsmail.processes p JOIN atsmail.jobs j ON j.id = p.job_id"
	    " WHERE p.resume_id = ANY($1::bigint[]) AND j.status = 'open' ORDER BY p.id";
	long long *ids;
	size_t i, n = 0;
	struct atsm_buf b;
	const char *v[1];
	PGresult *r;
	int row;

	for (i = 0; i < c->nrecs; i++)
		if (strcmp(c->recs[i].kind, "process") == 0)
			return 0;
	if ((ids = calloc(c->nrecs + 1, sizeof(long long))) == NULL)
		return oom(c, "processes");
	for (i = 0; i < c->nrecs; i++)
		if (strcmp(c->recs[i].kind, "resume") == 0 && !c->recs[i].ambiguous)
			ids[n++] = c->recs[i].id;
	if (n == 0) {
		free(ids);
		return 0;
	}
	atsm_buf_init(&b, ARRAY_MAX);
	(void)atsm_out_sql_int_array(ids, n, &b);
	free(ids);
	v[0] = atsm_buf_str(&b);
	r = query(c, sql, 1, v);
	atsm_buf_free(&b);
	if (r == NULL)
		return -1;
	for (row = 0; row < PQntuples(r); row++) {
		struct rec *x = add_rec(c, "process", num(r, row, 0), "", false);

		if (x == NULL)
			break;
		snprintf(x->phase, sizeof(x->phase), "%s", PQgetvalue(r, row, 1));
	}
	PQclear(r);
	return 0;
}

/* For each target (resume, contact, process; never an ambiguous one: we
 * never pick silently), the active rule of the event with the highest
 * priority whose from_phase is the record's phase (or any), when it moves
 * the record. */
static int
apply_phase_rules(struct plan_ctx *c, const char *event)
{
	static const char sql[] =
	    "SELECT t.k, t.i, t.ph, r.id, r.to_phase"
	    " FROM unnest($1::text[], $2::bigint[], $3::text[]) WITH ORDINALITY AS t(k, i, ph, o)"
	    " CROSS JOIN LATERAL (SELECT pr.id, pr.to_phase FROM atsmail.phase_rules pr"
	    "  WHERE pr.active AND pr.kind = t.k AND pr.event = $4"
	    "  AND (pr.from_phase IS NULL OR pr.from_phase = t.ph)"
	    "  ORDER BY pr.priority DESC, pr.from_phase IS NULL, pr.id LIMIT 1) r"
	    " WHERE r.to_phase <> t.ph ORDER BY t.o";
	struct atsm_in_plan *p = c->p;
	char **kinds, **phases;
	long long *ids;
	size_t i, n = 0;
	struct atsm_buf b[3];
	const char *v[4];
	PGresult *r = NULL;
	int row, rc = -1;

	kinds = calloc(c->nrecs + 1, sizeof(char *));
	phases = calloc(c->nrecs + 1, sizeof(char *));
	ids = calloc(c->nrecs + 1, sizeof(long long));
	for (i = 0; i < 3; i++)
		atsm_buf_init(&b[i], ARRAY_MAX);
	if (kinds == NULL || phases == NULL || ids == NULL) {
		oom(c, "phase rules");
		goto out;
	}
	for (i = 0; i < c->nrecs; i++) {
		struct rec *x = &c->recs[i];

		if (x->ambiguous || strcmp(x->kind, "job") == 0 || x->phase[0] == '\0')
			continue;
		kinds[n] = x->kind;
		phases[n] = x->phase;
		ids[n++] = x->id;
	}
	if (n == 0) {
		rc = 0;
		goto out;
	}
	if (atsm_out_sql_text_array(kinds, n, &b[0]) < 0 ||
	    atsm_out_sql_int_array(ids, n, &b[1]) < 0 ||
	    atsm_out_sql_text_array(phases, n, &b[2]) < 0) {
		oom(c, "phase rules");
		goto out;
	}
	for (i = 0; i < 3; i++)
		v[i] = atsm_buf_str(&b[i]);
	v[3] = event;
	if ((r = query(c, sql, 4, v)) == NULL)
		goto out;
	if (PQntuples(r) > 0 &&
	    (p->phases = calloc((size_t)PQntuples(r), sizeof(*p->phases))) == NULL) {
		oom(c, "phase changes");
		goto out;
	}
	for (row = 0; row < PQntuples(r) && p->n_phases < ATSM_IN_MAX_PHASES; row++) {
		struct atsm_in_phase_change *pc = &p->phases[p->n_phases++];

		snprintf(pc->kind, sizeof(pc->kind), "%s", PQgetvalue(r, row, 0));
		pc->record_id = num(r, row, 1);
		snprintf(pc->from_phase, sizeof(pc->from_phase), "%s", PQgetvalue(r, row, 2));
		pc->rule_id = num(r, row, 3);
		snprintf(pc->to_phase, sizeof(pc->to_phase), "%s", PQgetvalue(r, row, 4));
		snprintf(pc->cause, sizeof(pc->cause), "%s", event);
	}
	rc = 0;
out:
	PQclear(r);
	for (i = 0; i < 3; i++)
		atsm_buf_free(&b[i]);
	free(kinds);
	free(phases);
	free(ids);
	return rc;
}

/* ------------------------------------------------------------- policy */

/* Visibility: the owner's sharing mode (no user owner: an intake mailbox,
 * public), the linked records' share flags, excluded domains among the
 * counterparts (and their parent domains: one indexed statement). */
static int
apply_policy(struct plan_ctx *c)
{
	static const char sql[] =
	    "SELECT DISTINCT e.domain FROM unnest($1::text[]) AS a(addr)"
	    " CROSS JOIN LATERAL (SELECT string_to_array(regexp_replace(a.addr, '^.*@', ''), '.')"
	    "  AS l) s"
	    " CROSS JOIN LATERAL generate_series(1, coalesce(array_length(s.l, 1), 0)) AS g(i)"
	    " JOIN atsmail.exclusion_domains e ON e.domain = array_to_string(s.l[g.i:], '.')"
	    " ORDER BY 1";
	struct atsm_in_plan *p = c->p;
	struct atsm_policy_input in;
	struct atsm_policy_record *recs;
	struct atsm_buf arr, reason;
	char **excl = NULL;
	const char *v[1];
	PGresult *r;
	size_t i, nrec = 0;
	int row;

	memset(&in, 0, sizeof(in));
	if (p->mailbox_user_id == 0)
		in.mode = ATSM_SHARING_PUBLIC;
	else if (atsm_sharing_mode_from_name(c->sharing_mode, &in.mode, NULL) < 0)
		in.mode = (enum atsm_sharing_mode)-1;   /* fails closed: private */
	if (text_array(c, p->counterparts, p->n_counterparts, &arr) < 0)
		return -1;
	v[0] = atsm_buf_str(&arr);
	r = query(c, sql, 1, v);
	atsm_buf_free(&arr);
	if (r == NULL)
		return -1;
	recs = calloc(c->nrecs + 1, sizeof(*recs));
	excl = calloc((size_t)PQntuples(r) + 1, sizeof(char *));
	if (recs == NULL || excl == NULL) {
		PQclear(r);
		free(recs);
		free(excl);
		return oom(c, "policy");
	}
	for (row = 0; row < PQntuples(r); row++)
		excl[row] = PQgetvalue(r, row, 0);
	for (i = 0; i < c->nrecs; i++) {
		const struct rec *x = &c->recs[i];

		if (!x->link || (strcmp(x->kind, "resume") != 0 && strcmp(x->kind, "contact") != 0))
			continue;
		recs[nrec].kind = strcmp(x->kind, "resume") == 0 ? ATSM_RECORD_RESUME :
		    ATSM_RECORD_CONTACT;
		recs[nrec].id = (unsigned long long)x->id;
		recs[nrec++].shared = x->shared;
	}
	in.default_share = c->default_share;
	in.records = recs;
	in.nrecords = nrec;
	in.counterparts = p->counterparts;
	in.ncounterparts = p->n_counterparts;
	in.excluded_domains = excl;
	in.nexcluded = (size_t)PQntuples(r);
	atsm_buf_init(&reason, sizeof(p->visibility_reason) - 1);
	if (c->from_vis != NULL && in.nexcluded == 0 && p->verdict == ATSM_IN_BOUNCE) {
		/* a bounce quotes the sent item: it is seen by whoever sees that */
		snprintf(p->visibility, sizeof(p->visibility), "%s", c->from_vis);
		snprintf(p->visibility_reason, sizeof(p->visibility_reason),
		    "bounce of message %lld (its visibility)", p->bounced_message_id);
	} else {
		enum atsm_visibility vis = atsm_policy_visibility(&in, &reason);

		snprintf(p->visibility, sizeof(p->visibility), "%s", atsm_visibility_name(vis));
		snprintf(p->visibility_reason, sizeof(p->visibility_reason), "%s",
		    atsm_buf_str(&reason));
	}
	atsm_buf_free(&reason);
	PQclear(r);
	free(recs);
	free(excl);
	return 0;
}

/* ---------------------------------------------------------- verdicts */

/* An outbound message already recorded: by Message-ID (any arrival), or by
 * X-ATS-Ref for an APPEND (a client may rewrite the Message-ID of its copy).
 * The same statement finds this mail's own 'in' row, when another mailbox
 * recorded it first (find_received). */
static int
find_sent(struct plan_ctx *c, long long *mid)
{
	static const char by_id[] =
	    "SELECT direction, id FROM atsmail.messages WHERE rfc_message_id = $1"
	    " AND direction IN ('in', 'out')";
	static const char by_tok[] =
	    "SELECT id FROM atsmail.messages WHERE token = $1 AND direction = 'out'";
	char tok[ATSM_TOKEN_MAX];
	const char *v[1];
	PGresult *r;
	int row;

	*mid = 0;
	if (c->p->rfc_message_id != NULL) {
		v[0] = c->p->rfc_message_id;
		if ((r = query(c, by_id, 1, v)) == NULL)
			return -1;
		for (row = 0; row < PQntuples(r); row++) {
			if (strcmp(PQgetvalue(r, row, 0), "out") == 0)
				*mid = num(r, row, 1);
			else
				c->received = num(r, row, 1);
		}
		PQclear(r);
	}
	if (*mid == 0 && c->f->how == ATSM_IN_APPEND && canon_token(c->f->hdr_ats_ref, tok) &&
	    token_ok(c, tok)) {
		v[0] = tok;
		if ((r = query(c, by_tok, 1, v)) == NULL)
			return -1;
		if (PQntuples(r) == 1)
			*mid = num(r, 0, 0);
		PQclear(r);
	}
	return 0;
}

/* This mail's own 'in' row, as find_sent saw it. */
static void
find_received(struct plan_ctx *c)
{
	if (c->received != 0) {
		c->p->already_recorded = true;
		c->p->message_id = c->received;
	}
}

/* Step 3: the sent item of a bounce. */
static int
plan_bounce(struct plan_ctx *c)
{
	static const char by_id[] =
	    "SELECT id, coalesce(thread_id, id), visibility FROM atsmail.messages"
	    " WHERE rfc_message_id = $1 AND direction = 'out'";
	const struct atsm_in_facts *f = c->f;
	struct atsm_in_plan *p = c->p;
	char tok[ATSM_TOKEN_MAX], *oid = NULL;
	const char *rule = NULL;
	long long mid = 0, thread = 0;
	size_t added;
	bool part;

	if (verp_token(c, f->env_to, tok) || verp_token(c, f->orig_env_from, tok))
		rule = "verp";
	else if (canon_token(f->orig_ats_ref, tok) && token_ok(c, tok))
		rule = "token";
	if (rule != NULL && token_message(c, tok, &mid, &thread, &part) < 0)
		return -1;
	if (mid == 0 && f->orig_message_id != NULL) {
		char *ids[1];
		size_t n = 0;
		const char *v[1];
		PGresult *r;

		n = atsm_msgid_list(f->orig_message_id, ids, 1);
		if (n == 0 && (ids[0] = strdup(f->orig_message_id)) != NULL)
			n = 1;
		oid = n > 0 ? ids[0] : NULL;
		v[0] = oid;
		if (oid != NULL) {
			if ((r = query(c, by_id, 1, v)) == NULL) {
				free(oid);
				return -1;
			}
			if (PQntuples(r) == 1) {
				mid = num(r, 0, 0);
				thread = num(r, 0, 1);
				rule = "references";
				free(c->from_vis);
				c->from_vis = strdup(PQgetvalue(r, 0, 2));
			}
			PQclear(r);
		}
		free(oid);
	}
	if (mid == 0) {
		note(c, "a bounce of no recorded sent item: ignored");
		return 0;
	}
	p->verdict = ATSM_IN_BOUNCE;
	p->bounced_message_id = mid;
	p->thread_id = thread;
	note(c, "bounce of message %lld (by %s)", mid, rule);
	if (link_message(c, mid, rule, &added) < 0 || load_records(c) < 0)
		return -1;
	keyword(c, ATSM_KW_FILED);
	keyword(c, ATSM_KW_BOUNCE);
	if (!p->already_recorded && apply_phase_rules(c, "bounce") < 0)
		return -1;
	return 0;
}

/* Step 5: intake mail from a sender that matched nothing. */
static int
plan_intake(struct plan_ctx *c)
{
	static const char sql[] =
	    "SELECT (SELECT count(*) FROM atsmail.unresolved_items"
	    "        WHERE sender = $1 AND created_at > now() - interval '1 hour')"
	    "     + (SELECT count(*) FROM atsmail.resumes r JOIN atsmail.addresses a"
	    "        ON a.owner_kind = 'resume' AND a.owner_id = r.id"
	    "        WHERE a.addr_norm = $1 AND r.created_from = 'mail'"
	    "        AND r.created_at > now() - interval '1 hour')";
	const struct atsm_in_facts *f = c->f;
	struct atsm_in_plan *p = c->p;
	const char *v[1] = { p->sender };
	PGresult *r;
	long long n;

	if (p->sender == NULL) {
		note(c, "intake mail without a sender address: ignored");
		return 0;
	}
	if (f->from_mailer_daemon || f->is_bounce || f->is_autoreply) {
		note(c, "intake mail from %s is %s: no record made", p->sender,
		    f->from_mailer_daemon ? "from a mailer-daemon" : f->is_bounce ? "a bounce" :
		    "an auto-reply");
		return 0;
	}
	if ((r = query(c, sql, 1, v)) == NULL)
		return -1;
	n = num(r, 0, 0);
	PQclear(r);
	if (n >= (long long)c->conf->intake_max_per_hour) {
		note(c, "intake from %s: %lld records in the last hour (intake_max_per_hour = %u):"
		    " no record made", p->sender, n, c->conf->intake_max_per_hour);
		return 0;
	}
	if (p->sender_name == NULL && (p->sender_name = strdup(p->sender)) == NULL)
		return oom(c, "name");
	p->verdict = ATSM_IN_INTAKE;
	keyword(c, p->intake_unresolved ? ATSM_KW_UNFILED : ATSM_KW_NEWRECORD);
	note(c, "intake at %s: %s", p->intake_address,
	    p->intake_unresolved ? "an unresolved item" : "a new resume");
	return 0;
}

static int
make_links(struct plan_ctx *c)
{
	struct atsm_in_plan *p = c->p;
	size_t i;

	if ((p->links = calloc(c->nrecs + 1, sizeof(*p->links))) == NULL)
		return oom(c, "links");
	for (i = 0; i < c->nrecs; i++) {
		struct atsm_in_link *l;

		if (!c->recs[i].link)
			continue;
		l = &p->links[p->n_links++];
		snprintf(l->kind, sizeof(l->kind), "%s", c->recs[i].kind);
		l->id = c->recs[i].id;
		snprintf(l->rule, sizeof(l->rule), "%s", c->recs[i].rule);
		l->ambiguous = c->recs[i].ambiguous;
		p->ambiguous |= l->ambiguous;
	}
	return 0;
}

static int
decide(struct plan_ctx *c)
{
	const struct atsm_in_facts *f = c->f;
	struct atsm_in_plan *p = c->p;
	long long sent;

	if (decode_headers(c) < 0 || lookup_owner_intake(c) < 0)
		return -1;
	if (p->mailbox_user_id == 0 && !c->intake) {
		note(c, "mailbox of %s: not a user and not an intake address", f->mailbox_user);
		return 0;
	}
	if (f->is_feedback) {
		note(c, "a feedback report: not filed");
		return 0;
	}
	if (make_counterparts(c) < 0 || find_sent(c, &sent) < 0)
		return -1;
	if (sent != 0) {
		if (p->mailbox_user_id == 0) {
			note(c, "a copy of sent message %lld in a mailbox of no user", sent);
			return 0;
		}
		p->verdict = ATSM_IN_SENT_COPY;
		p->message_id = sent;
		keyword(c, ATSM_KW_SENT);
		note(c, "a copy of sent message %lld", sent);
		return 0;
	}
	find_received(c);
	if (f->is_bounce) {
		if (plan_bounce(c) < 0)
			return -1;
		return p->verdict == ATSM_IN_IGNORE ? 0 : make_links(c) < 0 ? -1 : apply_policy(c);
	}
	if (match_replies(c) < 0)
		return -1;
	if (c->nrecs == 0 && match_token(c) < 0)
		return -1;
	if (c->nrecs == 0 && match_sender(c) < 0)
		return -1;
	if (c->nrecs > 0 && !c->loaded && load_records(c) < 0)
		return -1;
	if (c->nrecs == 0) {
		if (c->intake) {
			if (plan_intake(c) < 0)
				return -1;
			return p->verdict == ATSM_IN_IGNORE ? 0 : apply_policy(c);
		}
		note(c, "no rule matched: not ATS mail");
		return 0;
	}
	p->verdict = ATSM_IN_FILE;
	if (make_links(c) < 0)
		return -1;
	keyword(c, ATSM_KW_FILED);
	if (p->ambiguous)
		keyword(c, ATSM_KW_AMBIGUOUS);
	if (f->is_autoreply) {
		keyword(c, ATSM_KW_AUTOREPLY);
		note(c, "an auto-reply: no phase rule");
	} else if (!p->already_recorded) {
		if (add_open_processes(c) < 0 || apply_phase_rules(c, "reply") < 0)
			return -1;
	}
	return apply_policy(c);
}

int
atsm_in_plan(PGconn *conn, const struct atsm_conf *conf, const struct atsm_token_keys *keys,
    const struct atsm_in_facts *f, enum atsm_in_mode mode, struct atsm_in_plan *p,
    struct atsm_err *err)
{
	struct plan_ctx c;
	int rc;

	memset(p, 0, sizeof(*p));
	p->verdict = ATSM_IN_IGNORE;
	memset(&c, 0, sizeof(c));
	c.conn = conn;
	c.conf = conf;
	c.keys = keys;
	c.f = f;
	c.mode = mode;
	c.p = p;
	c.err = err;
	if (f->mailbox_user == NULL || f->mailbox_user[0] == '\0')
		return atsm_err_set(err, "inbound plan: the facts name no mailbox user");
	rc = decide(&c);
	free(c.recs);
	free(c.from_vis);
	if (rc < 0) {
		/* a failed plan decides nothing: the caller journals the facts */
		p->verdict = ATSM_IN_IGNORE;
		return -1;
	}
	if (p->verdict == ATSM_IN_IGNORE) {
		p->n_links = p->n_phases = 0;
		p->keywords[0] = NULL;
		p->visibility[0] = '\0';
	}
	return 0;
}
